#include "stagepass/client.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <spawn.h>
#include <sys/wait.h>

#include <boost/json/parse.hpp>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <thread>

#include "http_client.hpp"
#include "loopback.hpp"
#include "token_response.hpp"

extern char** environ;

namespace stagepass::sdk {
namespace json = boost::json;
using detail::HttpRequest;
using detail::HttpResponse;

namespace {

std::string base64(std::string_view bytes, int variant) {
  std::string out(sodium_base64_encoded_len(bytes.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), variant);
  out.resize(std::char_traits<char>::length(out.c_str()));
  return out;
}

std::string random_url_safe(size_t bytes) {
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  return base64(raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

// RFC 7636 §4.2: code_challenge = BASE64URL(SHA256(ASCII(code_verifier))).
std::string s256(const std::string& verifier) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(verifier.data()),
                     verifier.size());
  return base64({reinterpret_cast<char*>(digest), sizeof digest},
                sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

bool idempotent(const std::string& method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" ||
         method == "OPTIONS";
}

Error login_required(std::string why) { return Error{ErrorKind::login_required, std::move(why)}; }

// Prints the URL and, in a desktop session, asks the desktop to open it.
void default_open_url(const std::string& url) {
  std::cerr << "Open this page in your browser to sign in:\n  " << url << "\n";
  if (!std::getenv("DISPLAY") && !std::getenv("WAYLAND_DISPLAY")) return;
#ifdef __APPLE__
  const char* opener = "open";
#else
  const char* opener = "xdg-open";
#endif
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  std::string arg = url;
  char* argv[] = {const_cast<char*>(opener), arg.data(), nullptr};
  if (posix_spawnp(&pid, opener, &actions, nullptr, argv, environ) == 0) {
    waitpid(pid, nullptr, WNOHANG);  // xdg-open returns quickly; a leftover is reaped at exit
  }
  posix_spawn_file_actions_destroy(&actions);
}

std::chrono::seconds retry_after(const HttpResponse& r) {
  std::string v = r.header("retry-after");
  char* end = nullptr;
  long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n < 0) return std::chrono::seconds(1);  // HTTP-date: be brief
  return std::chrono::seconds(n);
}

}  // namespace

boost::json::value ApiResponse::json() const {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  return ec ? json::value{} : v;
}

struct Client::Impl {
  ClientConfig cfg;
  Endpoints endpoints;
  bool iss_required = false;  // RFC 9207 advertised by the server
  std::shared_ptr<TokenStore> store;
  std::mutex refresh_mu;  // single flight within this process

  SystemTime now() const { return cfg.now(); }

  HttpRequest token_post(std::vector<std::pair<std::string, std::string>> fields,
                         const std::string& url) const {
    HttpRequest r{"POST", url, {}, {}, cfg.request_timeout};
    r.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    r.headers.emplace_back("Accept", "application/json");
    if (cfg.client_secret.empty()) {
      fields.emplace_back("client_id", cfg.client_id);  // RFC 6749 §2.3: public client
    } else {
      // RFC 6749 §2.3.1: form-encode id and secret, then Basic.
      std::string creds =
          detail::percent_encode(cfg.client_id) + ":" + detail::percent_encode(cfg.client_secret);
      r.headers.emplace_back("Authorization",
                             "Basic " + base64(creds, sodium_base64_VARIANT_ORIGINAL));
      sodium_memzero(creds.data(), creds.size());
    }
    r.body = detail::form_encode(fields);
    return r;
  }

  Result<TokenSet> token_request(std::vector<std::pair<std::string, std::string>> fields) {
    auto response = detail::send(token_post(std::move(fields), endpoints.token_endpoint));
    if (!response) return response.error();
    return detail::parse_token_response(*response, now());
  }

  Result<TokenSet> store_tokens(const TokenSet& t) {
    if (auto r = store->save(cfg.cache_key, t); !r) return r.error();
    return t;
  }

  Result<TokenSet> current() {
    auto t = store->load(cfg.cache_key);
    if (!t) return t.error();
    if (!*t) return login_required("not logged in");
    return std::move(**t);
  }

  // Gets new tokens to replace `stale` (an access token found expired, or refused with
  // 401 when `force`). One refresh at a time per process (refresh_mu) and per store
  // (exclusive guard); whoever waited finds the new tokens and uses them.
  Result<TokenSet> refresh(const std::string& stale, bool force) {
    std::lock_guard lk(refresh_mu);
    auto guard = store->exclusive();
    if (!guard) return guard.error();
    auto latest = current();
    if (!latest) return latest.error();
    if (latest->access_token != stale &&
        (force || !latest->needs_refresh(now(), cfg.refresh_skew))) {
      return latest;  // someone else refreshed while we waited
    }
    if (!latest->refresh_token.empty()) {
      auto fresh = token_request(
          {{"grant_type", "refresh_token"}, {"refresh_token", latest->refresh_token}});
      if (!fresh) {
        if (fresh.error().code == "invalid_grant") {
          (void)store->erase(cfg.cache_key);
          return login_required("the session ended (" + fresh.error().message + "); log in again");
        }
        return fresh.error();
      }
      return store_tokens(detail::merge_refreshed(*latest, std::move(*fresh)));
    }
    if (!cfg.client_secret.empty()) {
      auto fresh = token_request({{"grant_type", "client_credentials"}, {"scope", latest->scope}});
      if (!fresh) return fresh.error();
      return store_tokens(*fresh);
    }
    return login_required("the access token expired and there is no refresh token");
  }

  Result<std::string> access_token() {
    auto t = current();
    if (!t) return t.error();
    if (!t->needs_refresh(now(), cfg.refresh_skew)) return t->access_token;
    auto fresh = refresh(t->access_token, false);
    if (!fresh) return fresh.error();
    return fresh->access_token;
  }

  std::string api_url(const std::string& path) const {
    if (path.starts_with("https://") || path.starts_with("http://")) return path;
    if (path.starts_with("/v1/") || path == "/v1") return cfg.issuer + path;
    return cfg.api_base + (path.starts_with("/") ? path : "/" + path);
  }
};

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::create(ClientConfig config,
                                               std::shared_ptr<TokenStore> store) {
  if (sodium_init() < 0) return Error{ErrorKind::usage, "libsodium could not start"};
  while (config.issuer.ends_with("/")) config.issuer.pop_back();
  if (config.issuer.empty()) return Error{ErrorKind::usage, "the issuer URL is required"};
  if (config.client_id.empty()) return Error{ErrorKind::usage, "the client id is required"};
  if (!store) return Error{ErrorKind::usage, "a token store is required"};
  if (config.api_base.empty()) config.api_base = config.issuer + "/v1";
  if (config.cache_key.empty()) config.cache_key = config.issuer + " " + config.client_id;
  if (!config.now) config.now = [] { return std::chrono::system_clock::now(); };

  auto impl = std::make_unique<Impl>();
  impl->store = std::move(store);
  if (config.endpoints) {
    impl->endpoints = *config.endpoints;
  } else {
    // RFC 8414 §3: metadata at the well-known URI under the issuer.
    HttpRequest r{"GET",
                  config.issuer + "/.well-known/oauth-authorization-server",
                  {},
                  {},
                  config.request_timeout};
    r.headers.emplace_back("Accept", "application/json");
    auto response = detail::send(r);
    if (!response) return response.error();
    boost::system::error_code ec;
    auto doc = json::parse(response->body, ec);
    if (response->status != 200 || ec || !doc.is_object()) {
      return Error{ErrorKind::protocol,
                   "no authorization server metadata at " + r.url + " (HTTP " +
                       std::to_string(response->status) + ")",
                   response->status};
    }
    const auto& m = doc.get_object();
    auto str = [&](const char* k) {
      auto* v = m.if_contains(k);
      return v && v->is_string() ? std::string(v->get_string()) : std::string{};
    };
    // RFC 8414 §3.3: the issuer in the metadata must be identical to the one asked for.
    if (str("issuer") != config.issuer) {
      return Error{ErrorKind::protocol, "metadata issuer \"" + str("issuer") +
                                            "\" is not the configured issuer \"" + config.issuer +
                                            "\""};
    }
    impl->endpoints = {str("authorization_endpoint"), str("token_endpoint"),
                       str("revocation_endpoint")};
    auto* iss = m.if_contains("authorization_response_iss_parameter_supported");
    impl->iss_required = iss && iss->is_bool() && iss->get_bool();
    if (impl->endpoints.token_endpoint.empty()) {
      return Error{ErrorKind::protocol, "metadata has no token_endpoint"};
    }
  }
  impl->cfg = std::move(config);
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

Result<TokenSet> Client::login(const LoginOptions& options) {
  auto& d = *impl_;
  if (d.endpoints.authorization_endpoint.empty()) {
    return Error{ErrorKind::usage, "the server has no authorization endpoint"};
  }
  auto listener = detail::LoopbackListener::open("/callback");
  if (!listener) return listener.error();
  const std::string redirect_uri = (*listener)->redirect_uri();
  const std::string state = random_url_safe(16);
  const std::string verifier = random_url_safe(32);  // RFC 7636 §4.1: 43 characters
  std::vector<std::pair<std::string, std::string>> query{
      {"response_type", "code"},          {"client_id", d.cfg.client_id},
      {"redirect_uri", redirect_uri},     {"state", state},
      {"code_challenge", s256(verifier)}, {"code_challenge_method", "S256"}};
  if (!options.scopes.empty()) query.emplace_back("scope", join(options.scopes));
  if (options.show_dialog) query.emplace_back("show_dialog", "true");
  const auto& ae = d.endpoints.authorization_endpoint;
  std::string url =
      ae + (ae.find('?') == std::string::npos ? "?" : "&") + detail::form_encode(query);

  if (options.on_listening) options.on_listening(redirect_uri);
  (options.open_url ? options.open_url : default_open_url)(url);

  auto problem = [&](const detail::Params& p) -> std::optional<Error> {
    auto get = [&](const char* k) {
      auto it = p.find(k);
      return it == p.end() ? std::string{} : it->second;
    };
    // RFC 6749 §10.12: the state binds the answer to this request.
    if (get("state") != state) {
      return Error{ErrorKind::protocol, "the answer does not belong to this sign-in (state)"};
    }
    // RFC 9207 §2.4: compare iss when present, require it when the server promised it.
    if (p.contains("iss") ? get("iss") != d.cfg.issuer : d.iss_required) {
      return Error{ErrorKind::protocol, "the answer came from another issuer (iss)"};
    }
    if (p.contains("error")) {
      std::string desc = get("error_description");
      return Error{
          ErrorKind::oauth,
          "authorization refused: " + get("error") + (desc.empty() ? "" : " (" + desc + ")"), 0,
          get("error")};
    }
    if (get("code").empty()) return Error{ErrorKind::protocol, "the answer has no code"};
    return std::nullopt;
  };
  auto params = (*listener)->wait(options.timeout, [&](const detail::Params& p) {
    if (auto e = problem(p)) return detail::CallbackPage{400, "Sign-in failed: " + e->message};
    return detail::CallbackPage{200,
                                "Signed in. You can close this window and go back to the app."};
  });
  if (!params) return params.error();
  if (auto e = problem(*params)) return *e;

  auto tokens = d.token_request({{"grant_type", "authorization_code"},
                                 {"code", params->at("code")},
                                 {"redirect_uri", redirect_uri},
                                 {"code_verifier", verifier}});
  if (!tokens) return tokens.error();
  if (tokens->scope.empty()) tokens->scope = join(options.scopes);
  std::lock_guard lk(d.refresh_mu);
  auto guard = d.store->exclusive();
  if (!guard) return guard.error();
  return d.store_tokens(*tokens);
}

Result<TokenSet> Client::login_client_credentials(const std::vector<std::string>& scopes) {
  auto& d = *impl_;
  if (d.cfg.client_secret.empty()) {
    return Error{ErrorKind::usage, "client credentials need a client secret"};
  }
  std::vector<std::pair<std::string, std::string>> fields{{"grant_type", "client_credentials"}};
  if (!scopes.empty()) fields.emplace_back("scope", join(scopes));
  auto tokens = d.token_request(std::move(fields));
  if (!tokens) return tokens.error();
  if (tokens->scope.empty()) tokens->scope = join(scopes);
  std::lock_guard lk(d.refresh_mu);
  auto guard = d.store->exclusive();
  if (!guard) return guard.error();
  return d.store_tokens(*tokens);
}

Result<std::optional<TokenSet>> Client::tokens() {
  return impl_->store->load(impl_->cfg.cache_key);
}

Result<std::string> Client::access_token() { return impl_->access_token(); }

Result<ApiResponse> Client::call(const std::string& method, const std::string& path,
                                 const std::optional<std::string>& json_body) {
  auto& d = *impl_;
  const bool safe_to_repeat = idempotent(method);
  bool refreshed_after_401 = false;
  int attempt = 0;
  auto backoff = [&] {
    // 200 ms, 400 ms, 800 ms ... with up to 50 % jitter so clients do not march in step.
    auto base = std::chrono::milliseconds(200) * (1 << std::min(attempt, 5));
    std::this_thread::sleep_for(base + std::chrono::milliseconds(randombytes_uniform(
                                           static_cast<uint32_t>(base.count() / 2 + 1))));
  };
  for (;;) {
    auto token = d.access_token();
    if (!token) return token.error();
    HttpRequest r{method, d.api_url(path), {}, json_body.value_or(""), d.cfg.request_timeout};
    r.headers.emplace_back("Authorization", "Bearer " + *token);
    r.headers.emplace_back("Accept", "application/json");
    if (json_body) r.headers.emplace_back("Content-Type", "application/json");
    auto response = detail::send(r);
    if (!response) {
      if (safe_to_repeat && attempt < d.cfg.max_retries) {
        backoff();
        ++attempt;
        continue;
      }
      return response.error();
    }
    const int status = response->status;
    if (status == 401 && !refreshed_after_401 &&
        response->header("www-authenticate").find("invalid_token") != std::string::npos) {
      // RFC 6750 §3.1: the token expired or was revoked; a refresh may fix it, once.
      refreshed_after_401 = true;
      auto fresh = d.refresh(*token, true);
      if (!fresh) return fresh.error();
      continue;
    }
    if (status == 429) {
      auto wait = retry_after(*response);
      if (attempt < d.cfg.max_retries && wait <= d.cfg.max_retry_wait) {
        std::this_thread::sleep_for(wait);
        ++attempt;
        continue;
      }
      Error e = detail::api_error(*response);
      e.kind = ErrorKind::rate_limited;
      e.retry_after = wait;
      e.message += " (retry after " + std::to_string(wait.count()) + " s)";
      return e;
    }
    if ((status == 502 || status == 503 || status == 504) && safe_to_repeat &&
        attempt < d.cfg.max_retries) {
      backoff();
      ++attempt;
      continue;
    }
    if (status >= 400) return detail::api_error(*response);
    return ApiResponse{status, response->header("content-type"), std::move(response->body)};
  }
}

Result<void> Client::logout() {
  auto& d = *impl_;
  std::lock_guard lk(d.refresh_mu);
  auto guard = d.store->exclusive();
  if (!guard) return guard.error();
  auto t = d.store->load(d.cfg.cache_key);
  Result<void> revoked;
  if (t && *t && !d.endpoints.revocation_endpoint.empty()) {
    // RFC 7009 §2.1: revoking the refresh token ends the grant and its access tokens.
    const auto& tokens = **t;
    bool refresh = !tokens.refresh_token.empty();
    auto response =
        detail::send(d.token_post({{"token", refresh ? tokens.refresh_token : tokens.access_token},
                                   {"token_type_hint", refresh ? "refresh_token" : "access_token"}},
                                  d.endpoints.revocation_endpoint));
    if (!response) {
      revoked = response.error();
    } else if (response->status != 200) {
      // Not 200, so this is always the server's error (RFC 7009 §2.2.1).
      revoked = detail::parse_token_response(*response, d.now()).error();
    }
  }
  if (auto r = d.store->erase(d.cfg.cache_key); !r) return r.error();
  if (!t) return t.error();
  return revoked;
}

const Endpoints& Client::endpoints() const { return impl_->endpoints; }
const std::string& Client::cache_key() const { return impl_->cfg.cache_key; }

}  // namespace stagepass::sdk
