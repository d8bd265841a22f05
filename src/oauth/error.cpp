#include "oauth/error.hpp"

#include <boost/json.hpp>

namespace stagepass::oauth {

void add_no_store(http::Response& r) {
  r.header("Cache-Control", "no-store");
  r.header("Pragma", "no-cache");
}

http::Response OAuthError::to_response() const {
  boost::json::object body{{"error", code}};
  if (!description.empty()) body["error_description"] = description;
  auto r = http::Response::json(status, boost::json::serialize(body));
  add_no_store(r);
  // RFC 6749 §5.2: with HTTP Basic the server MUST answer 401 with WWW-Authenticate.
  if (basic_challenge) r.header("WWW-Authenticate", "Basic realm=\"stagepass\", charset=\"UTF-8\"");
  return r;
}

}  // namespace stagepass::oauth
