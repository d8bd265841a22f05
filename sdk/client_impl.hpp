// Client::Impl: the state behind a Client and the steps its methods share (token requests,
// refresh with single flight, the current tokens). Internal to the SDK.
// Thread safety: every member function may run on many threads at once; refresh_mu and the
// store's exclusive guard serialise refreshes.
#pragma once

#include <mutex>

#include "http_client.hpp"
#include "origin.hpp"
#include "stagepass/client.hpp"

namespace stagepass::sdk {

namespace detail {
using FormFields = std::vector<std::pair<std::string, std::string>>;
std::string base64(std::string_view bytes, int sodium_variant);
std::string join(const std::vector<std::string>& words);
inline Error login_required(std::string why) {
  return Error{ErrorKind::login_required, std::move(why)};
}
}  // namespace detail

struct Client::Impl {
  ClientConfig cfg;
  detail::Url issuer;    // cfg.issuer, parsed
  detail::Url api_base;  // cfg.api_base, parsed
  Endpoints endpoints;
  bool iss_required = false;  // RFC 9207 advertised by the server
  std::shared_ptr<TokenStore> store;
  std::mutex refresh_mu;  // single flight within this process

  SystemTime now() const { return cfg.now(); }
  // A form POST to `url` with this client's authentication (RFC 6749 §2.3).
  detail::HttpRequest token_post(detail::FormFields fields, const std::string& url) const;
  // POST to the token endpoint; the answer read as tokens or an OAuth error.
  Result<TokenSet> token_request(detail::FormFields fields);
  Result<TokenSet> store_tokens(const TokenSet& t);
  // The stored tokens; `login_required` when there are none.
  Result<TokenSet> current();
  // New tokens to replace `stale` (an access token found expired, or refused with 401 when
  // `force`). One refresh at a time per process (refresh_mu) and per store (exclusive
  // guard); whoever waited finds the new tokens and uses them.
  Result<TokenSet> refresh(const std::string& stale, bool force);
  Result<std::string> access_token();
  // The URL call(path) sends the access token to, or an error of kind `usage` when `path`
  // would take it anywhere but the API base's origin.
  Result<std::string> api_url(const std::string& path) const;
};

}  // namespace stagepass::sdk
