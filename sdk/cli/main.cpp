// stagepass-cli: the SDK's steps as one command each, for people and scripts.
//   stagepass-cli login [--scopes "..."]   PKCE login through the browser
//   stagepass-cli status                   who, which scopes, when the token expires
//   stagepass-cli token                    a valid access token on stdout (refreshed if needed)
//   stagepass-cli api GET /v1/me           call the Web API, print the JSON
//   stagepass-cli logout                   revoke the refresh token, forget the tokens
// Errors are one line on stderr. Exit codes: 0 done, 1 failed, 2 bad usage,
// 3 login required, 4 the API answered an error, 5 rate limited.
#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include "json_print.hpp"
#include "origin.hpp"
#include "stagepass/client.hpp"

namespace sdk = stagepass::sdk;
namespace json = boost::json;

namespace {

int exit_code(const sdk::Error& e) {
  switch (e.kind) {
    case sdk::ErrorKind::login_required:
      return 3;
    case sdk::ErrorKind::api:
      return 4;
    case sdk::ErrorKind::rate_limited:
      return 5;
    case sdk::ErrorKind::usage:
      return 2;
    default:
      return 1;
  }
}

int fail(const sdk::Error& e) {
  std::cerr << "stagepass-cli: " << e.describe();
  if (e.kind == sdk::ErrorKind::login_required) std::cerr << " (run: stagepass-cli login)";
  std::cerr << "\n";
  return exit_code(e);
}

std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : std::move(fallback);
}

// "a b,c" and repeated flags both work.
std::vector<std::string> split_scopes(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (const auto& a : args) {
    std::string word;
    for (char c : a + " ") {
      if (c == ' ' || c == ',') {
        if (!word.empty()) out.push_back(word);
        word.clear();
      } else {
        word += c;
      }
    }
  }
  return out;
}

std::string duration_words(int64_t seconds) {
  if (seconds <= 0) return "expired (renewed on next use)";
  if (seconds < 120) return "valid for " + std::to_string(seconds) + " s";
  return "valid for " + std::to_string(seconds / 60) + " min";
}

struct Options {
  std::string issuer = env_or("STAGEPASS_ISSUER", "http://127.0.0.1:8080");
  std::string client_id = env_or("STAGEPASS_CLIENT_ID", "stagepass-cli");
  std::string config_dir;
  int64_t refresh_skew = 60;
};

// `where`, when given, learns where the cache and its key live.
sdk::Result<std::unique_ptr<sdk::Client>> open_client(const Options& o,
                                                      std::string* where = nullptr) {
  auto dir = o.config_dir.empty() ? sdk::FileTokenStore::default_dir()
                                  : std::filesystem::path(o.config_dir);
  auto store = sdk::FileTokenStore::open(dir);
  if (!store) return store.error();
  if (where) {
    *where = (*store)->path().string() + " (encrypted; key in " +
             ((*store)->key_in_keyring() ? "the OS keyring" : "tokens.key beside it") + ")";
  }
  sdk::ClientConfig cfg;
  cfg.issuer = o.issuer;
  cfg.client_id = o.client_id;
  // Secrets never go on a command line (other users can read it in ps); env only.
  cfg.client_secret = env_or("STAGEPASS_CLIENT_SECRET", "");
  cfg.refresh_skew = std::chrono::seconds(o.refresh_skew);
  return sdk::Client::create(cfg, std::shared_ptr<sdk::TokenStore>(std::move(*store)));
}

// The signed-in user from /v1/me, or nullopt for app tokens and failures.
std::optional<json::object> who(sdk::Client& client) {
  auto me = client.call("GET", "/v1/me");
  if (!me) return std::nullopt;
  auto v = me->json();
  if (!v.is_object()) return std::nullopt;
  return v.get_object();
}

// What a server sent, fit for one line of the terminal (no control or bidi characters).
std::string shown(std::string_view server_text, size_t max = 200) {
  return stagepass::sdk::detail::printable(server_text, max);
}

std::string describe_user(const json::object& me) {
  auto str = [&](const char* k) {
    auto* v = me.if_contains(k);
    return v && v->is_string() ? shown(v->get_string()) : std::string{};
  };
  std::string name = str("display_name"), id = str("id"), email = str("email");
  return (name.empty() ? id : name + " (" + id + ")") + (email.empty() ? "" : " <" + email + ">");
}

int cmd_login(const Options& o, const std::vector<std::string>& scope_args, bool no_browser,
              bool show_dialog, bool app_token, int timeout) {
  auto client = open_client(o);
  if (!client) return fail(client.error());
  auto scopes = split_scopes(scope_args);
  sdk::Result<sdk::TokenSet> tokens = sdk::Error{};
  if (app_token) {
    tokens = (*client)->login_client_credentials(scopes);
  } else {
    sdk::LoginOptions login;
    login.scopes = scopes;
    login.show_dialog = show_dialog;
    login.timeout = std::chrono::seconds(timeout);
    if (no_browser) {
      login.open_url = [](const std::string& url) {
        std::cerr << "Open this page in your browser to sign in:\n  " << url << "\n" << std::flush;
      };
    }
    tokens = (*client)->login(login);
  }
  if (!tokens) return fail(tokens.error());
  std::cout << "Logged in to " << o.issuer;
  if (auto me = who(**client)) std::cout << " as " << describe_user(*me);
  std::cout << ".\nScopes: " << (tokens->scope.empty() ? "(none)" : shown(tokens->scope, 2000))
            << "\n";
  return 0;
}

int cmd_status(const Options& o, bool as_json) {
  std::string cache;
  auto client = open_client(o, &cache);
  if (!client) return fail(client.error());
  auto tokens = (*client)->tokens();
  if (!tokens) return fail(tokens.error());
  if (!*tokens) {
    return fail({sdk::ErrorKind::login_required, "not logged in to " + o.issuer});
  }
  auto me = who(**client);  // may refresh first; then show the renewed tokens
  if (auto again = (*client)->tokens(); again && *again) tokens = std::move(again);
  const auto& t = **tokens;
  auto left = std::chrono::duration_cast<std::chrono::seconds>(t.expires_at -
                                                               std::chrono::system_clock::now())
                  .count();
  if (as_json) {
    json::object out{{"issuer", o.issuer},
                     {"client_id", o.client_id},
                     {"scope", t.scope},
                     {"expires_in", left},
                     {"has_refresh_token", !t.refresh_token.empty()}};
    if (me)
      out["user"] = json::object{{"id", (*me)["id"]}, {"display_name", (*me)["display_name"]}};
    std::cout << stagepass::cli::pretty_json(out) << "\n";
    return 0;
  }
  std::cout << "Issuer:        " << o.issuer << "\n"
            << "Client:        " << o.client_id << "\n"
            << "Signed in as:  " << (me ? describe_user(*me) : "(an app token, or unknown)") << "\n"
            << "Scopes:        " << (t.scope.empty() ? "(none)" : shown(t.scope, 2000)) << "\n"
            << "Access token:  " << duration_words(left) << "\n"
            << "Refresh token: " << (t.refresh_token.empty() ? "none" : "stored") << "\n"
            << "Token cache:   " << cache << "\n";
  return 0;
}

int cmd_token(const Options& o) {
  auto client = open_client(o);
  if (!client) return fail(client.error());
  auto token = (*client)->access_token();
  if (!token) return fail(token.error());
  std::cout << *token << "\n";
  return 0;
}

int cmd_api(const Options& o, std::string method, const std::string& path,
            const std::optional<std::string>& data, bool raw) {
  for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (data) {
    boost::system::error_code ec;
    json::parse(*data, ec);
    if (ec) return fail({sdk::ErrorKind::usage, "--data is not valid JSON: " + ec.message()});
  }
  auto client = open_client(o);
  if (!client) return fail(client.error());
  auto response = (*client)->call(method, path, data);
  if (!response) return fail(response.error());
  if (response->body.empty()) return 0;
  auto v = response->json();
  if (raw || v.is_null()) {
    std::cout << response->body << "\n";
  } else {
    std::cout << stagepass::cli::pretty_json(v) << "\n";
  }
  return 0;
}

int cmd_logout(const Options& o) {
  auto client = open_client(o);
  if (!client) return fail(client.error());
  auto had = (*client)->tokens();
  auto r = (*client)->logout();
  if (!r) {
    std::cerr << "stagepass-cli: the tokens were forgotten here, but revoking them failed: "
              << r.error().describe() << "\n";
    return 1;
  }
  std::cout << (had && *had ? "Logged out of " + o.issuer + "; the refresh token is revoked.\n"
                            : "Not logged in to " + o.issuer + "; nothing to do.\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Stagepass command-line client: log in, call the Web API, log out"};
  app.require_subcommand(1);
  Options o;
  app.add_option("--issuer", o.issuer, "Authorization server URL [env STAGEPASS_ISSUER]")
      ->capture_default_str();
  app.add_option("--client-id", o.client_id, "App's client id [env STAGEPASS_CLIENT_ID]")
      ->capture_default_str();
  app.add_option("--config-dir", o.config_dir,
                 "Where the encrypted token cache lives [env STAGEPASS_CONFIG_DIR, else "
                 "~/.config/stagepass]");
  app.add_option("--refresh-skew", o.refresh_skew,
                 "Refresh this many seconds before expiry (at most a year)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);

  auto* login = app.add_subcommand("login", "Log in through the browser (PKCE)");
  std::vector<std::string> scopes{"user-read-private", "user-read-email"};
  bool no_browser = false, show_dialog = false, app_token = false;
  int timeout = 300;
  login->add_option("-s,--scopes", scopes, "Scopes to ask for (space or comma separated)")
      ->capture_default_str();
  login->add_flag("--no-browser", no_browser, "Only print the URL to open");
  login->add_flag("--show-dialog", show_dialog, "Ask for consent even if given before");
  login->add_flag("--client-credentials", app_token,
                  "Get an app token instead (needs STAGEPASS_CLIENT_SECRET)");
  login->add_option("--timeout", timeout, "Seconds to wait for the browser")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));

  auto* status = app.add_subcommand("status", "Who is logged in, which scopes, expiry");
  bool status_json = false;
  status->add_flag("--json", status_json, "Print JSON");
  auto* token = app.add_subcommand("token", "Print a valid access token (for scripts)");
  auto* api = app.add_subcommand("api", "Call the Web API and print its JSON");
  std::string method, path;
  std::optional<std::string> data;
  bool raw = false;
  api->add_option("method", method, "GET, POST, PUT or DELETE")->required();
  api->add_option("path", path, "/v1/me, /me/playlists?limit=5, ...")->required();
  api->add_option("-d,--data", data, "JSON request body");
  api->add_flag("--raw", raw, "Print the body as received");
  auto* logout = app.add_subcommand("logout", "Revoke the refresh token and forget the tokens");

  CLI11_PARSE(app, argc, argv);
  if (*login) return cmd_login(o, scopes, no_browser, show_dialog, app_token, timeout);
  if (*status) return cmd_status(o, status_json);
  if (*token) return cmd_token(o);
  if (*api) return cmd_api(o, method, path, data, raw);
  if (*logout) return cmd_logout(o);
  return 2;
}
