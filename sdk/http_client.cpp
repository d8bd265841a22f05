#include "http_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <optional>

#include "origin.hpp"

namespace stagepass::sdk::detail {
namespace {

struct Sink {
  HttpResponse* response;
  bool too_large = false;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t n = size * count;
  if (sink->response->body.size() + n > kMaxResponseBytes) {
    sink->too_large = true;
    return 0;  // aborts the transfer
  }
  sink->response->body.append(data, n);
  return n;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) sink->response->headers.clear();  // after 100-continue
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
      value.remove_prefix(1);
    }
    while (!value.empty() &&
           (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
      value.remove_suffix(1);
    }
    sink->response->headers[name] = std::string(value);
  }
  return size * count;
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

}  // namespace

std::string quoted_method(std::string_view method) {
  // (append, not "\"" + ...: g++ 12 warns wrongly about that with -Wrestrict)
  return std::string(1, '"').append(printable(method, 50)).append(1, '"');
}

bool is_http_token(std::string_view s) {
  static constexpr std::string_view kSymbols = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           kSymbols.find(c) != std::string_view::npos;
  });
}

Result<HttpResponse> send(const HttpRequest& request) {
  // The method goes on the request line as given (CURLOPT_CUSTOMREQUEST): CR/LF or spaces
  // in it would write headers, or a request, of the caller's choosing.
  if (!is_http_token(request.method)) {
    return Error{ErrorKind::usage, "the method " + quoted_method(request.method) +
                                       " is not an HTTP method (RFC 9110 §9.1)"};
  }
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return Error{ErrorKind::network, "could not start an HTTP request (libcurl)"};
  CURL* c = curl.get();
  HttpResponse response;
  Sink sink{&response};

  curl_slist* raw = nullptr;
  for (const auto& [name, value] : request.headers) {
    std::string line = name + ": " + value;
    raw = curl_slist_append(raw, line.c_str());
  }
  raw = curl_slist_append(raw, "Expect:");  // no 100-continue round trip
  std::unique_ptr<curl_slist, SlistDeleter> headers(raw);

  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  // TLS 1.2 at least, whatever the system's OpenSSL configuration allows (BCP 195). The
  // peer's certificate and name are always verified: libcurl's defaults, never turned off.
  curl_easy_setopt(c, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // required for threads + timeouts
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min<int64_t>(request.timeout.count(), 5000)));
  // Tokens never follow redirects: a 3xx is handed back as it is, so a Location on another
  // origin cannot receive the Authorization header (nor CURLOPT_UNRESTRICTED_AUTH matter).
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  // Plain http is only ever sent to this machine (origin.hpp); a proxy from the environment
  // (http_proxy, ALL_PROXY) would see that traffic — tokens included — in the clear.
  if (auto url = parse_url(request.url, "the URL"); url && is_loopback_host(url->host)) {
    curl_easy_setopt(c, CURLOPT_PROXY, "");
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &sink);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "stagepass-sdk/0.1");
  if (request.method == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }

  CURLcode rc = curl_easy_perform(c);
  if (sink.too_large) {
    return Error{ErrorKind::protocol, "response larger than " +
                                          std::to_string(kMaxResponseBytes / (1024 * 1024)) +
                                          " MiB from " + request.url};
  }
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    return Error{ErrorKind::timeout, "no answer within " + std::to_string(request.timeout.count()) +
                                         " ms from " + request.url};
  }
  if (rc != CURLE_OK) {
    return Error{ErrorKind::network,
                 std::string(curl_easy_strerror(rc)) + " (" + request.url + ")"};
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    out += percent_encode(k);
    out += '=';
    out += percent_encode(v);
  }
  return out;
}

std::optional<std::string> percent_decode(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace stagepass::sdk::detail
