// Client: the steps of an OAuth 2.0 app against Stagepass (or any RFC 8414 server) as one
// object — log in, keep the tokens, call the Web API, refresh, log out.
//
//   auto store = sdk::FileTokenStore::open(sdk::FileTokenStore::default_dir());
//   auto client = sdk::Client::create({.issuer = "https://auth.example.com",
//                                      .client_id = "stagepass-cli"}, std::move(*store));
//   (*client)->login({.scopes = {"user-read-private"}});
//   auto me = (*client)->call("GET", "/v1/me");      // refreshes by itself when needed
//
// Ownership: a Client owns its HTTP machinery and shares the TokenStore it is given.
// Thread safety: every method may be called from any number of threads at once. However
// many threads find the access token expired together, one refresh request goes out and
// the others wait for it (single flight); the store's exclusive() guard extends that to
// other processes sharing the same store.
// Errors: every method returns a Result; see result.hpp for the kinds. A refresh refused
// with `invalid_grant` clears the cached tokens and returns `login_required`.
#pragma once

#include <boost/json/value.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "stagepass/result.hpp"
#include "stagepass/token_store.hpp"
#include "stagepass/tokens.hpp"

namespace stagepass::sdk {

// Where the SDK sends secrets and tokens. Every URL it is given or discovers must use
// https; plain http is accepted only for this machine (127.0.0.0/8, [::1], `localhost`),
// since anyone on the path could read a token sent in the clear (RFC 6750 §5.3).
//
// Where the server's endpoints are. Discovered from
// `{issuer}/.well-known/oauth-authorization-server` unless given. Discovered endpoints must
// be on the issuer's origin (scheme, host and port) and the metadata's `issuer` must equal
// ClientConfig::issuer (RFC 8414 §3.3); otherwise create() fails with kind `protocol`.
// Endpoints given here may be on other origins (a provider whose token endpoint lives on
// another host), but must be https too.
struct Endpoints {
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string revocation_endpoint;  // empty: logout only forgets the tokens
};

// The longest Retry-After the SDK reports in Error::retry_after; larger (or absurd) values
// are cut to it.
inline constexpr std::chrono::seconds kMaxRetryAfter{24 * 3600};

struct ClientConfig {
  // e.g. "https://auth.example.com", or "http://127.0.0.1:8080" on this machine. No user
  // name, query or fragment (RFC 8414 §2); create() fails with kind `usage` otherwise.
  std::string issuer;
  std::string client_id;
  // Only for confidential clients (backends). Native apps and the CLI are public clients
  // and rely on PKCE instead. Sent with HTTP Basic (RFC 6749 §2.3.1).
  std::string client_secret;
  std::optional<Endpoints> endpoints;  // skip discovery when set
  // Base of relative Web API paths: call("GET", "/me") goes to {api_base}/me. Default:
  // {issuer}/v1. Paths that start with "/v1/" are taken relative to the issuer when api_base
  // is on the issuer's origin (as the default is), else relative to api_base without a final
  // "/v1" (api_base "https://api.example/v1": "/v1/me" is https://api.example/v1/me). The
  // access token is sent only to this origin, never to the issuer's when it is another one
  // (see Client::call).
  std::string api_base;
  // Refresh this long before the access token expires.
  std::chrono::seconds refresh_skew{60};
  // Retries of one call after 429 or a network error (idempotent methods only).
  int max_retries = 3;
  // Longest Retry-After the SDK waits out by itself; longer ones come back as
  // `rate_limited` with `retry_after` set (at most kMaxRetryAfter).
  std::chrono::seconds max_retry_wait{10};
  // Per HTTP request: connecting, sending and receiving the whole response.
  std::chrono::milliseconds request_timeout{15000};
  // Names this client's entries in the TokenStore; default "{issuer} {client_id}".
  std::string cache_key;
  // The clock used for expiry; tests may move it. Default: system_clock::now.
  std::function<SystemTime()> now;
};

struct LoginOptions {
  std::vector<std::string> scopes;
  // Shows the authorization URL to the user. Default: print it on stderr and try
  // `xdg-open` (or `open` on macOS) when a desktop session is present.
  std::function<void(const std::string& url)> open_url;
  // Called once the loopback listener is ready with its redirect URI (for logs/tests).
  std::function<void(const std::string& redirect_uri)> on_listening;
  // Give up when the user has not come back within this time.
  std::chrono::seconds timeout{300};
  bool show_dialog = false;  // ask for consent even if the user granted it before
};

struct ApiResponse {
  int status = 0;
  std::string content_type;
  std::string body;
  // The body parsed as JSON; null when empty or not JSON.
  boost::json::value json() const;
};

class Client {
 public:
  static Result<std::unique_ptr<Client>> create(ClientConfig config,
                                                std::shared_ptr<TokenStore> store);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Authorization code + PKCE (S256) for native apps, RFC 8252: listens on 127.0.0.1 at an
  // ephemeral port, sends the user's browser to the authorization endpoint, checks `state`
  // and `iss` (RFC 9207) on the way back, exchanges the code and stores the tokens.
  // Blocks until the user returns, refuses, or `timeout` passes. Only a request to the
  // redirect URI with `Host: 127.0.0.1:PORT` and this sign-in's `state` is the answer; any
  // other request to the port (a stale tab, a guessed state, a DNS-rebinding page) gets a
  // short page and the wait goes on. The answer with the right state ends the wait either
  // way: a wrong `iss`, an `error` or a missing code fail the login.
  Result<TokenSet> login(const LoginOptions& options);
  // Client credentials (confidential clients): gets an app token and stores it. Later
  // calls get a new one by themselves when it expires.
  Result<TokenSet> login_client_credentials(const std::vector<std::string>& scopes = {});

  // The stored tokens, without any network call (nullopt when logged out).
  Result<std::optional<TokenSet>> tokens();
  // A valid access token, refreshed first when it expires within refresh_skew.
  Result<std::string> access_token();
  // Calls the Web API with the token attached. `json_body`, when given, is sent as
  // application/json. A 401 invalid_token triggers one refresh and one retry; 429 is
  // waited out (Retry-After) up to max_retries; network errors are retried with backoff
  // for GET, HEAD, PUT and DELETE only. Non-2xx answers come back as errors of kind `api`
  // (or `rate_limited`), carrying the status and the server's message.
  // `path` is a path under api_base ("/me", "me/playlists?limit=5"), a "/v1/..." path (see
  // ClientConfig::api_base), or an absolute URL on the API's origin (a `next` link).
  // Anything that would take the token elsewhere fails with kind `usage` and nothing is
  // sent: another origin, a path starting with "//", "@" before the query (write %40),
  // backslashes, spaces or control characters (CR/LF), "." or ".." segments. Redirects are
  // never followed (a 3xx comes back as the response), so they cannot carry the token away.
  Result<ApiResponse> call(const std::string& method, const std::string& path,
                           const std::optional<std::string>& json_body = std::nullopt);
  // Revokes the refresh token (RFC 7009; the access token when there is no refresh token)
  // and deletes the cached tokens. The tokens are forgotten even if revocation fails; that
  // failure is returned so the caller can say so.
  Result<void> logout();

  const Endpoints& endpoints() const;
  const std::string& cache_key() const;

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace stagepass::sdk
