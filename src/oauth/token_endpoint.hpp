// The token endpoint (POST /api/token), a pipeline of named steps read top to bottom like
// RFC 6749 §3.2 and §5: form body only -> no duplicate parameters -> authenticate the client
// -> pick the grant handler -> may this client use it -> handle -> no-store JSON.
// Blocking (store and signing): handle() runs on a worker thread.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "oauth/grant_handler.hpp"

namespace stagepass::oauth {

struct TokenRequest {
  std::string content_type;
  std::string authorization;  // the Authorization header, if any
  std::string body;
};

class TokenEndpoint {
 public:
  explicit TokenEndpoint(Services& s) : s_(s) {}
  void add_grant(std::unique_ptr<GrantHandler> handler);
  std::vector<std::string> grant_types() const;

  // The full HTTP answer; the client id it authenticated (if any) goes to the access log.
  http::Response handle(const TokenRequest& req) const;
  // Whether handle() would wait for a durable commit (its grant type's handler writes), so
  // the caller can run it where waiting threads are cheap. A look at grant_type only.
  bool waits_for_commit(const TokenRequest& req) const;

  // Told of every answer: the grant type when it is one this endpoint handles ("other" or
  // "none" otherwise, so labels stay bounded) and the HTTP status. Set before serving.
  using Observer = std::function<void(std::string_view grant_type, int status)>;
  void set_observer(Observer observer) { observe_ = std::move(observer); }

 private:
  http::Response dispatch(const TokenRequest& req, std::string_view& grant_label) const;

  Services& s_;
  Observer observe_;
  std::vector<std::unique_ptr<GrantHandler>> grants_;
};

// Parses a form body after checking the media type and rejecting repeated parameters.
Result<Form, OAuthError> parse_form_body(std::string_view content_type, std::string_view body);

}  // namespace stagepass::oauth
