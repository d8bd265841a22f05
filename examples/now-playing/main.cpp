// now-playing: a small app on the Stagepass SDK. Logs in once (PKCE through the browser;
// the tokens are kept encrypted and refreshed by the SDK), then shows what is playing and
// the user's playlists, and skips to the next track with --next.
//
//   now-playing [--issuer URL] [--client-id ID] [--next] [--logout]
#include <boost/json.hpp>
#include <cstdlib>
#include <iostream>
#include <stagepass/client.hpp>
#include <string>

namespace sdk = stagepass::sdk;
namespace json = boost::json;

namespace {

std::string text(const json::value& v, std::string_view key) {
  auto* field = v.is_object() ? v.get_object().if_contains(key) : nullptr;
  return field && field->is_string() ? std::string(field->get_string()) : std::string{};
}

std::string artists(const json::value& track) {
  std::string out;
  auto* list = track.is_object() ? track.get_object().if_contains("artists") : nullptr;
  if (!list || !list->is_array()) return out;
  for (const auto& a : list->get_array()) out += (out.empty() ? "" : ", ") + text(a, "name");
  return out;
}

std::string clock(int64_t ms) {
  int64_t s = ms / 1000;
  std::string sec = std::to_string(s % 60);
  return std::to_string(s / 60) + ":" + (sec.size() < 2 ? "0" : "") + sec;
}

int fail(const char* what, const sdk::Error& e) {
  std::cerr << "now-playing: " << what << ": " << e.describe() << "\n";
  return e.kind == sdk::ErrorKind::login_required ? 3 : 1;
}

int show_current(sdk::Client& client) {
  auto now = client.call("GET", "/v1/me/player/currently-playing");
  if (!now) return fail("player", now.error());
  if (now->status == 204 || now->body.empty()) {
    std::cout << "Nothing is playing.\n";
    return 0;
  }
  auto state = now->json();
  const json::value* item = state.is_object() ? state.get_object().if_contains("item") : nullptr;
  if (!item || !item->is_object()) {
    std::cout << "Nothing is playing.\n";
    return 0;
  }
  auto number = [&](const json::value& v, std::string_view key) -> int64_t {
    auto* f = v.is_object() ? v.get_object().if_contains(key) : nullptr;
    return f && f->is_int64() ? f->get_int64() : 0;
  };
  auto* album = item->get_object().if_contains("album");
  auto* playing = state.get_object().if_contains("is_playing");
  std::cout << (playing && playing->is_bool() && playing->get_bool() ? "Now playing: " : "Paused: ")
            << text(*item, "name") << " — " << artists(*item)
            << (album ? " (" + text(*album, "name") + ")" : "") << "  "
            << clock(number(state, "progress_ms")) << " / " << clock(number(*item, "duration_ms"))
            << "\n";
  return 0;
}

int show_playlists(sdk::Client& client) {
  auto page = client.call("GET", "/v1/me/playlists?limit=20");
  if (!page) return fail("playlists", page.error());
  auto v = page->json();
  auto* items = v.is_object() ? v.get_object().if_contains("items") : nullptr;
  if (!items || !items->is_array() || items->get_array().empty()) {
    std::cout << "No playlists.\n";
    return 0;
  }
  std::cout << "Playlists:\n";
  for (const auto& p : items->get_array()) {
    auto* tracks = p.is_object() ? p.get_object().if_contains("tracks") : nullptr;
    auto* total =
        tracks && tracks->is_object() ? tracks->get_object().if_contains("total") : nullptr;
    std::cout << "  " << text(p, "name");
    if (total && total->is_int64()) std::cout << " (" << total->get_int64() << " tracks)";
    std::cout << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const char* env_issuer = std::getenv("STAGEPASS_ISSUER");
  const char* env_client = std::getenv("STAGEPASS_CLIENT_ID");
  sdk::ClientConfig config;
  config.issuer = env_issuer ? env_issuer : "http://127.0.0.1:8080";
  config.client_id = env_client ? env_client : "stagepass-cli";
  bool next = false, logout = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--next")
      next = true;
    else if (arg == "--logout")
      logout = true;
    else if (arg == "--issuer" && i + 1 < argc)
      config.issuer = argv[++i];
    else if (arg == "--client-id" && i + 1 < argc)
      config.client_id = argv[++i];
    else {
      std::cerr << "usage: now-playing [--issuer URL] [--client-id ID] [--next] [--logout]\n";
      return 2;
    }
  }

  auto store = sdk::FileTokenStore::open(sdk::FileTokenStore::default_dir());
  if (!store) return fail("token cache", store.error());
  config.cache_key = config.issuer + " " + config.client_id + " now-playing";
  auto client = sdk::Client::create(config, std::shared_ptr<sdk::TokenStore>(std::move(*store)));
  if (!client) return fail("start", client.error());
  sdk::Client& c = **client;

  if (logout) {
    if (auto r = c.logout(); !r) return fail("logout", r.error());
    std::cout << "Logged out.\n";
    return 0;
  }
  auto cached = c.tokens();
  if (!cached) return fail("token cache", cached.error());
  if (!*cached) {
    sdk::LoginOptions login;
    login.scopes = {"user-read-private", "user-read-playback-state", "user-modify-playback-state",
                    "user-read-currently-playing", "playlist-read-private"};
    if (auto t = c.login(login); !t) return fail("login", t.error());
  }
  if (next) {
    if (auto r = c.call("POST", "/v1/me/player/next"); !r) return fail("next", r.error());
  }
  if (int rc = show_current(c); rc != 0) return rc;
  return show_playlists(c);
}
