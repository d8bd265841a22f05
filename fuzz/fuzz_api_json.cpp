// Harness: the Web API's JSON request bodies (api/endpoints: player, library, following,
// playlists, playlist items), through the real route handlers over a real SQLite music store
// (a small generated catalog and the demo library), as the signed-in demo user holding every
// scope. This is the path from an attacker's body bytes to the store.
//
// Input: a route letter ('a'..'k', see kRoutes), the query string up to the first '\n', then
// the body. Placeholders in query and body are replaced before the call so that mutations
// keep reaching past id validation: $t0..$t9 track ids, $a0..$a9 artist ids, $b0..$b9 album
// ids, $d0/$d1 device ids, $p the harness's playlist, $s its current snapshot id.
// Invariants: no exception escapes a handler; the status is one the Web API documents for a
// client's request (200, 201, 204, 400, 403, 404) and never 5xx; a body is JSON, and an error
// body is Spotify's {"error":{"status":<the status>,"message":"..."}}.
#include <boost/json.hpp>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/endpoints/web_api.hpp"
#include "fuzz_check.hpp"
#include "music/catalog_generator.hpp"
#include "music/demo_library.hpp"
#include "music/ids.hpp"
#include "music/sqlite/sqlite_music_store.hpp"

using namespace stagepass;
namespace bj = boost::json;

namespace {

struct RouteCase {
  const char* method;
  const char* path;  // "$p" is the harness's playlist id
};
constexpr RouteCase kRoutes[] = {
    {"PUT", "/v1/me/player/play"},          // a
    {"PUT", "/v1/me/player"},               // b: transfer
    {"PUT", "/v1/me/tracks"},               // c
    {"DELETE", "/v1/me/tracks"},            // d
    {"PUT", "/v1/me/following"},            // e
    {"DELETE", "/v1/me/following"},         // f
    {"POST", "/v1/me/playlists"},           // g: create
    {"PUT", "/v1/playlists/$p"},            // h: change details
    {"POST", "/v1/playlists/$p/tracks"},    // i: add items
    {"PUT", "/v1/playlists/$p/tracks"},     // j: replace or reorder
    {"DELETE", "/v1/playlists/$p/tracks"},  // k: remove
};
constexpr size_t kRouteCount = sizeof kRoutes / sizeof kRoutes[0];
constexpr uint64_t kCatalogSeed = 42;
const std::string kUser = "demo";
const std::string kPlaylist = "FuzzPlaylist0000000000";
constexpr int64_t kNowMs = 1'700'000'000'000;  // every request's "now": runs repeat exactly

struct World {
  std::unique_ptr<music::SqliteMusicStore> store;
  SystemRandom random;  // new playlist ids
  api::ApiRoutes routes;
  std::vector<std::string> devices;
  uint64_t runs = 0;

  World() {
    store = std::make_unique<music::SqliteMusicStore>(
        (fuzz::scratch_dir("api_json") / "music.db").string(), 1);
    bool ok = music::ensure_catalog(*store, {kCatalogSeed, 0.01}).ok() &&
              store->upsert_profile({kUser, "Demo", "demo@example.com", "SE", "premium", 0}).ok() &&
              music::seed_demo_library(*store, kUser, kNowMs).ok() &&
              store->create_playlist(kUser, kPlaylist, {"Fuzz", "", false, false}, 0).ok();
    auto d = store->devices(kUser);
    if (!ok || !d || d->size() < 2) std::abort();
    for (const auto& dev : *d) devices.push_back(dev.id);
    reset_playlist();
    api::register_web_api(routes, *store, random);
  }

  // Keeps the playlist small so a long run does not slow down on its own writes.
  void reset_playlist() {
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i) ids.push_back(music::derived_id(kCatalogSeed, "track", i));
    if (!store->replace_playlist_items(kPlaylist, ids, kUser, 0).ok()) std::abort();
  }

  std::string expand(std::string_view in) {
    std::string out;
    for (size_t i = 0; i < in.size(); ++i) {
      if (in[i] != '$' || i + 1 >= in.size()) {
        out.push_back(in[i]);
        continue;
      }
      char k = in[i + 1];
      int n = i + 2 < in.size() && in[i + 2] >= '0' && in[i + 2] <= '9' ? in[i + 2] - '0' : -1;
      if (k == 'p') {
        out += kPlaylist;
        ++i;
      } else if (k == 's') {
        auto p = store->find_playlist(kPlaylist);
        out += p ? p->snapshot_id : "";
        ++i;
      } else if (n >= 0 && (k == 't' || k == 'a' || k == 'b')) {
        out += music::derived_id(kCatalogSeed,
                                 k == 't'   ? "track"
                                 : k == 'a' ? "artist"
                                            : "album",
                                 n);
        i += 2;
      } else if (n >= 0 && k == 'd') {
        out += devices[n % devices.size()];
        i += 2;
      } else {
        out.push_back(in[i]);
      }
    }
    return out;
  }
};

World& world() {
  static World w;
  return w;
}

void check_response(const http::Response& r, std::string_view in) {
  const int s = r.status;
  FUZZ_CHECK(s == 200 || s == 201 || s == 204 || s == 400 || s == 403 || s == 404,
             std::to_string(s) + " " + r.body + " <- " + std::string(in));
  if (r.body.empty()) {
    FUZZ_CHECK(s == 200 || s == 204, in);
    return;
  }
  bj::error_code ec;
  bj::value v = bj::parse(r.body, ec);
  FUZZ_CHECK(!ec, r.body);
  if (s < 400) return;
  const bj::object* o = v.if_object();
  const bj::value* e = o ? o->if_contains("error") : nullptr;
  const bj::object* eo = e ? e->if_object() : nullptr;
  FUZZ_CHECK(eo && eo->size() == 2, r.body);
  const bj::value* st = eo->if_contains("status");
  const bj::value* msg = eo->if_contains("message");
  FUZZ_CHECK(st && st->is_int64() && st->as_int64() == s, r.body);
  FUZZ_CHECK(msg && msg->is_string(), r.body);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  World& w = world();
  const RouteCase& rc = kRoutes[static_cast<unsigned char>(data[0] - 'a') % kRouteCount];
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t nl = in.find('\n');
  std::string query = w.expand(in.substr(0, nl));
  std::string body = nl == std::string_view::npos ? std::string() : w.expand(in.substr(nl + 1));
  std::string path = w.expand(rc.path);

  auto q = Form::parse(query);
  if (!q) return 0;  // the gateway answers 400 before any handler
  auto match = w.routes.match(rc.method, path);
  if (!match || !match->route) std::abort();  // the table above is wrong

  http::Request req;
  req.msg.method_string(rc.method);
  req.msg.target(path + (query.empty() ? "" : "?" + query));
  req.msg.body() = body;
  api::Principal who{kUser, "fuzz-app", ScopeSet::all_known(), "grant-1", "jti-1"};
  api::ApiRequest api{req, who, match->path, std::move(*q), "http://sp.test/v1", kNowMs};
  try {
    http::Response r = match->route->handler(api);
    check_response(r, in);
  } catch (const std::exception& e) {
    FUZZ_CHECK(false, std::string("exception escaped: ") + e.what() + " <- " + std::string(in));
  }
  if (++w.runs % 64 == 0) w.reset_playlist();
  return 0;
}
