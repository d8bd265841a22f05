#include <fcntl.h>
#include <sodium.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstdlib>
#include <iostream>

#include "client_impl.hpp"
#include "loopback.hpp"
#include "origin.hpp"

extern char** environ;

namespace stagepass::sdk {
namespace {

std::string random_url_safe(size_t bytes) {
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  return detail::base64(raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

// RFC 7636 §4.2: code_challenge = BASE64URL(SHA256(ASCII(code_verifier))).
std::string s256(const std::string& verifier) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(verifier.data()),
                     verifier.size());
  return detail::base64({reinterpret_cast<char*>(digest), sizeof digest},
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

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

}  // namespace

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
  if (!options.scopes.empty()) query.emplace_back("scope", detail::join(options.scopes));
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
    // The listener hands back only the answer carrying this sign-in's state (RFC 6749
    // §10.12); an answer with the right state that is wrong otherwise ends the sign-in.
    // RFC 9207 §2.4: compare iss when present, require it when the server promised it.
    if (p.contains("iss") ? get("iss") != d.cfg.issuer : d.iss_required) {
      return Error{ErrorKind::protocol, "the answer came from another issuer (iss)"};
    }
    if (p.contains("error")) {
      std::string code = detail::printable(get("error"), 100);
      std::string desc = detail::printable(get("error_description"));
      return Error{ErrorKind::oauth,
                   "authorization refused: " + code + (desc.empty() ? "" : " (" + desc + ")"), 0,
                   code};
    }
    if (get("code").empty()) return Error{ErrorKind::protocol, "the answer has no code"};
    return std::nullopt;
  };
  auto params = (*listener)->wait(options.timeout, state, [&](const detail::Params& p) {
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
  if (tokens->scope.empty()) tokens->scope = detail::join(options.scopes);
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
  if (!scopes.empty()) fields.emplace_back("scope", detail::join(scopes));
  auto tokens = d.token_request(std::move(fields));
  if (!tokens) return tokens.error();
  if (tokens->scope.empty()) tokens->scope = detail::join(scopes);
  std::lock_guard lk(d.refresh_mu);
  auto guard = d.store->exclusive();
  if (!guard) return guard.error();
  return d.store_tokens(*tokens);
}

}  // namespace stagepass::sdk
