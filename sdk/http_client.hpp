// HttpClient: one blocking HTTP exchange over libcurl. Internal to the SDK.
//
// Thread safety: send() may run on many threads at once; each call uses its own curl easy
// handle, so there is no shared state besides libcurl's own (initialised once, thread-safe
// since libcurl 7.84).
// TLS 1.2 or later with the peer verified. Redirects are never followed, and requests to
// this machine never go through a proxy.
// Errors: a transport failure is an Error of kind `network` or `timeout`; any HTTP status,
// including 4xx/5xx, is a successful exchange for this layer.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stagepass/result.hpp"

namespace stagepass::sdk::detail {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{15000};
};

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased; last value wins
  std::string body;

  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string{} : it->second;
  }
};

// Largest response body accepted; larger ones fail with kind `protocol`.
inline constexpr size_t kMaxResponseBytes = 8 * 1024 * 1024;

// Fails with kind `usage`, sending nothing, when request.method is not an HTTP token.
Result<HttpResponse> send(const HttpRequest& request);

// RFC 9110 §9.1: method = token; §5.6.2: token = 1*tchar, tchar = "!" / "#" / "$" / "%" /
// "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA.
bool is_http_token(std::string_view s);
// `method` quoted and made printable, for an error message.
std::string quoted_method(std::string_view method);

// application/x-www-form-urlencoded body from pairs (RFC 6749 Appendix B).
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields);
std::string percent_encode(std::string_view s);
// Decodes one form/query component ('+' is a space); nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view s);

}  // namespace stagepass::sdk::detail
