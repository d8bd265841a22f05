#include "oauth/error.hpp"

#include <boost/json.hpp>

#include "core/text.hpp"

namespace stagepass::oauth {

void add_no_store(http::Response& r) {
  // Most answers already carry exactly these two (to_response adds them): leave them be, so
  // the pipeline's step costs no allocation.
  int no_store = 0;
  int no_cache = 0;
  int other = 0;
  for (const auto& [name, value] : r.headers) {
    if (iequals(name, "Cache-Control")) {
      ++(value == "no-store" ? no_store : other);
    } else if (iequals(name, "Pragma")) {
      ++(value == "no-cache" ? no_cache : other);
    }
  }
  if (no_store == 1 && no_cache == 1 && other == 0) return;
  std::erase_if(r.headers, [](const auto& h) {
    return iequals(h.first, "Cache-Control") || iequals(h.first, "Pragma");
  });
  r.header("Cache-Control", "no-store");
  r.header("Pragma", "no-cache");
}

std::string safe_description(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7e || c == '"' || c == '\\') c = '?';
  }
  return out;
}

std::string quote_input(std::string_view text) {
  constexpr size_t kMax = 40;
  auto plain = [](unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '/' || c == '-';
  };
  std::string out(1, '\'');
  for (char c : text.substr(0, kMax)) out.push_back(plain(static_cast<unsigned char>(c)) ? c : '?');
  out.push_back('\'');
  if (text.size() > kMax) out.append("...");
  return out;
}

http::Response OAuthError::to_response() const {
  boost::json::object body{{"error", code}};
  if (!description.empty()) body["error_description"] = safe_description(description);
  auto r = http::Response::json(status, boost::json::serialize(body));
  add_no_store(r);
  // RFC 6749 §5.2: with HTTP Basic the server MUST answer 401 with WWW-Authenticate.
  if (basic_challenge) r.header("WWW-Authenticate", "Basic realm=\"stagepass\", charset=\"UTF-8\"");
  if (status == 503) r.header("Retry-After", std::to_string(kUnavailableRetryAfter));
  return r;
}

}  // namespace stagepass::oauth
