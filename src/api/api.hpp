// The Web API's handler contract (resource server under /v1).
//
// The gateway (gateway.hpp) verifies the token, applies the route's Requirement (user token,
// scopes) and the per-app rate limit, and only then calls the handler with an ApiRequest.
// Handlers are plain blocking functions from ApiRequest to Response: they run on the store
// worker pool, may call the MusicStore, and answer Spotify-shaped JSON.
// Thread safety: routes are registered before serving and read-only afterwards.
#pragma once

#include <boost/json.hpp>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/text.hpp"
#include "domain/scope.hpp"
#include "http/message.hpp"

namespace stagepass::api {

// Who is calling, from a verified access token.
struct Principal {
  std::string sub;        // the user id; the client id for client-credentials tokens
  std::string client_id;  // the app
  ScopeSet scope;
  std::string grant_id;  // empty for client-credentials tokens
  std::string jti;
  // The app's Web API limit per rolling 30 s, from the token's "rl" claim; 0: the default.
  int64_t rate_limit = 0;
  // issue15:devmode. false: a user token of an app in development mode whose person is not on
  // the app's allowlist (the token's "al" claim is false); the gateway refuses it with 403.
  bool allowlisted = true;
  bool is_user() const { return !grant_id.empty(); }
};

struct ApiRequest {
  const http::Request& http;
  const Principal& principal;
  std::unordered_map<std::string, std::string> path;  // "{id}" segments, percent-decoded
  Form query;                                         // the parsed query string
  std::string base_url;                               // "<issuer>/v1", for href/next/previous
  // When the request is served, milliseconds since the Unix epoch (the gateway's injected
  // Clock): the one "now" of the handler (added_at, player progress, time ranges).
  int64_t now_ms;
  // What the call costs in limit units (docs/operations.md, "Web API limits and call costs"):
  // 1 for a call whose work a page bounds; a handler whose work grows with the data it scans
  // (search, an artist's albums) raises it from what it scanned. The gateway admits a call
  // with one unit and charges the rest to the app after the handler returns.
  int64_t cost = 1;

  std::optional<std::string> param(std::string_view name) const { return query.get(name); }
  bool has_scope(std::string_view s) const { return principal.scope.contains(s); }
  // The JSON body; nullopt when the body is empty or not JSON.
  std::optional<boost::json::value> json_body() const;
};

// Spotify's error object: {"error":{"status":N,"message":"..."}}.
http::Response error(int status, std::string message);
// The same with a machine-readable reason, as Spotify adds to some errors:
// {"error":{"status":N,"message":"...","reason":"RATE_LIMITED"}} (also QUOTA_EXCEEDED,
// USER_NOT_ALLOWLISTED).
http::Response error(int status, std::string message, std::string_view reason);
// 403 {"error":...} + WWW-Authenticate: Bearer error="insufficient_scope", scope="<needed>".
http::Response insufficient_scope(const std::string& needed);
http::Response json(int status, const boost::json::value& body);
// 200 with an empty body (Spotify answers most writes so) and 204 for "nothing to show".
http::Response ok_empty();
http::Response no_content();

// What a route demands before its handler runs.
struct Requirement {
  bool user = false;                // a user token (client-credentials tokens get 401)
  std::vector<std::string> scopes;  // every one of these is required (403 otherwise)
};

using Handler = std::function<http::Response(ApiRequest&)>;
// An optional shortcut tried first on the I/O thread: answers from memory without blocking,
// or returns nullopt to have the Handler run on the worker pool as usual.
using FastHandler = std::function<std::optional<http::Response>(ApiRequest&)>;

class ApiRoutes {
 public:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // "{name}" segments capture
    Requirement requirement;
    Handler handler;
    FastHandler fast;  // may be empty
  };
  struct Match {
    const Route* route = nullptr;  // null: path known but not for this method (405)
    std::unordered_map<std::string, std::string> path;
    std::string allow;  // methods that exist for this path
  };

  // `pattern` like "/v1/tracks/{id}"; exact segments win over captures.
  void add(std::string method, std::string_view pattern, Requirement requirement, Handler h,
           FastHandler fast = {});
  // nullopt when no route has this path.
  std::optional<Match> match(std::string_view method, std::string_view path) const;

 private:
  std::vector<Route> routes_;
};

}  // namespace stagepass::api
