// Handlers called directly with a hand-built request (the bearer layer is not involved).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "api/endpoints/params.hpp"
#include "api/endpoints/web_api.hpp"
#include "music/catalog_generator.hpp"
#include "music/demo_library.hpp"
#include "music/ids.hpp"
#include "music/sqlite/sqlite_music_store.hpp"

namespace stagepass::api {
namespace {

namespace bj = boost::json;

class EndpointsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ =
        std::filesystem::temp_directory_path() / ("sp-ep-" + music::derived_id(::getpid(), "t", 0));
    std::filesystem::remove_all(dir_);
    store_ = new music::SqliteMusicStore((dir_ / "music.db").string(), 2);
    ASSERT_TRUE(music::ensure_catalog(*store_, {42, 0.02}).ok());
    ASSERT_TRUE(store_->upsert_profile({"demo", "Demo", "demo@x", "SE", "premium", 0}).ok());
    ASSERT_TRUE(music::seed_demo_library(*store_, "demo", kNowMs).ok());
    routes_ = new ApiRoutes;
    register_web_api(*routes_, *store_, random_);
  }
  static void TearDownTestSuite() {
    delete routes_;
    delete store_;
    std::filesystem::remove_all(dir_);
  }

  // Runs the route for `method target` as `principal`; checks nothing about requirements.
  http::Response call(const std::string& method, const std::string& target,
                      const std::string& scope = "", std::string body = "") {
    http::Request req;
    req.msg.method_string(method);
    req.msg.target(target);
    req.msg.body() = std::move(body);
    Principal who{"demo", "app", ScopeSet::parse(scope), "grant", "jti"};
    std::string path = target.substr(0, target.find('?'));
    auto match = routes_->match(method, path);
    if (!match || !match->route) return error(405, "no route");
    auto q =
        target.find('?') == std::string::npos ? std::string() : target.substr(target.find('?') + 1);
    ApiRequest api{req, who, match->path, *Form::parse(q), "http://sp.test/v1", kNowMs};
    return match->route->handler(api);
  }
  // The same through the route's I/O-thread path; nullopt when it defers to the handler.
  // `cost`, when given, gets the units the call was charged.
  std::optional<http::Response> call_fast(const std::string& target, const std::string& scope,
                                          int64_t* cost = nullptr) {
    http::Request req;
    req.msg.method_string("GET");
    req.msg.target(target);
    Principal who{"demo", "app", ScopeSet::parse(scope), "grant", "jti"};
    const auto q = target.find('?');
    auto match = routes_->match("GET", target.substr(0, q));
    if (!match || !match->route || !match->route->fast) return std::nullopt;
    ApiRequest api{req,
                   who,
                   match->path,
                   *Form::parse(q == std::string::npos ? "" : target.substr(q + 1)),
                   "http://sp.test/v1",
                   kNowMs};
    if (cost) api.cost = 0;  // so the units charged are the answer's own, not the default
    auto r = match->route->fast(api);
    if (cost) *cost = api.cost;
    return r;
  }
  // GET `target` through the worker-pool handler, with the units it charged.
  std::pair<http::Response, int64_t> call_charged(const std::string& target) {
    http::Request req;
    req.msg.method_string("GET");
    req.msg.target(target);
    Principal who{"demo", "app", ScopeSet::parse(""), "grant", "jti"};
    const auto q = target.find('?');
    auto match = routes_->match("GET", target.substr(0, q));
    EXPECT_TRUE(match && match->route);
    ApiRequest api{req,
                   who,
                   match->path,
                   *Form::parse(q == std::string::npos ? "" : target.substr(q + 1)),
                   "http://sp.test/v1",
                   kNowMs};
    auto r = match->route->handler(api);
    return {std::move(r), api.cost};
  }
  static bj::value body(const http::Response& r) { return bj::parse(r.body); }

  static inline std::filesystem::path dir_;
  static inline music::SqliteMusicStore* store_ = nullptr;
  static inline ApiRoutes* routes_ = nullptr;
  static inline SystemRandom random_;
  // Every request's "now" (ApiRequest::now_ms), also the end of the seeded history.
  static constexpr int64_t kNowMs = 1'700'000'000'000;
};

TEST_F(EndpointsTest, MeShowsEmailAndCountryOnlyWithTheirScopes) {
  auto plain = body(call("GET", "/v1/me"));
  EXPECT_EQ(plain.at("id"), "demo");
  EXPECT_EQ(plain.at("uri"), "stagepass:user:demo");
  EXPECT_FALSE(plain.as_object().contains("email"));
  EXPECT_FALSE(plain.as_object().contains("country"));
  auto full = body(call("GET", "/v1/me", "user-read-email user-read-private"));
  EXPECT_EQ(full.at("email"), "demo@x");
  EXPECT_EQ(full.at("product"), "premium");
}

// GET /v1/me answers from memory (the profile cache, and bodies rendered from it) once the
// profile was read, and never answers an old profile after it changed.
TEST_F(EndpointsTest, MeFromMemoryFollowsProfileChangesAndScopes) {
  const std::string both = "user-read-email user-read-private";
  ASSERT_EQ(call("GET", "/v1/me", both).status, 200);  // reads the profile into the cache
  auto first = call_fast("/v1/me", both);
  ASSERT_TRUE(first);
  EXPECT_EQ(body(*first).at("display_name"), "Demo");
  EXPECT_EQ(body(*first).at("email"), "demo@x");
  auto again = call_fast("/v1/me", both);  // the rendered body, same bytes
  ASSERT_TRUE(again);
  EXPECT_EQ(again->body, first->body);
  auto plain = call_fast("/v1/me", "");  // other scopes, other body
  ASSERT_TRUE(plain);
  EXPECT_FALSE(body(*plain).as_object().contains("email"));

  ASSERT_TRUE(store_->upsert_profile({"demo", "Demo Renamed", "new@x", "NO", "premium", 0}).ok());
  EXPECT_FALSE(call_fast("/v1/me", both));  // changed: back to the database
  ASSERT_EQ(call("GET", "/v1/me", both).status, 200);
  auto changed = call_fast("/v1/me", both);
  ASSERT_TRUE(changed);
  EXPECT_EQ(body(*changed).at("display_name"), "Demo Renamed");
  EXPECT_EQ(body(*changed).at("email"), "new@x");
  EXPECT_EQ(body(*changed).at("country"), "NO");

  ASSERT_TRUE(store_->upsert_profile({"demo", "Demo", "demo@x", "SE", "premium", 0}).ok());
  ASSERT_EQ(call("GET", "/v1/me", both).status, 200);
}

// Catalog reads are answered from memory on the I/O thread once rendered: the same bytes and
// the same units as the handler's answer, per request target; errors are never kept.
TEST_F(EndpointsTest, CatalogAnswersFromMemoryTheSameBytesAndUnits) {
  auto track = body(call("GET", "/v1/tracks/" + music::derived_id(42, "track", 5)));
  const std::string artist(track.at("artists").at(0).at("id").as_string());
  const std::string albums = "/v1/artists/" + artist + "/albums?limit=2&offset=0";  // this test's
  EXPECT_FALSE(call_fast(albums, ""));  // never asked: the handler's work
  auto [first, units] = call_charged(albums);
  ASSERT_EQ(first.status, 200) << first.body;
  int64_t cost = 0;
  auto again = call_fast(albums, "", &cost);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
  EXPECT_EQ(again->body, first.body);
  EXPECT_EQ(cost, units);
  // Another query is another answer: not served from the first one's.
  EXPECT_FALSE(call_fast("/v1/artists/" + artist + "/albums?limit=1", ""));
  auto one = call_charged("/v1/artists/" + artist + "/albums?limit=1").first;
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(body(one).at("limit"), 1);
  EXPECT_EQ(call_fast("/v1/artists/" + artist + "/albums?limit=1", "")->body, one.body);
  EXPECT_EQ(call_fast(albums, "")->body, first.body);
  // An error is rendered again every time (an unknown id, a bad parameter).
  const std::string unknown = "/v1/artists/" + music::derived_id(1, "none", 1) + "/albums";
  EXPECT_EQ(call_charged(unknown).first.status, 404);
  EXPECT_FALSE(call_fast(unknown, ""));
  const std::string bad = "/v1/artists/" + artist + "/albums?include_groups=nope";
  EXPECT_EQ(call_charged(bad).first.status, 400);
  EXPECT_FALSE(call_fast(bad, ""));
  // A target over 2 KiB is answered, never kept.
  const std::string padded = albums + "&pad=" + std::string(2100, 'x');
  EXPECT_EQ(call_charged(padded).first.status, 200);
  EXPECT_FALSE(call_fast(padded, ""));
}

TEST_F(EndpointsTest, TrackObjectHasSpotifyShape) {
  auto id = music::derived_id(42, "track", 3);
  auto r = call("GET", "/v1/tracks/" + id);
  ASSERT_EQ(r.status, 200) << r.body;
  auto t = body(r).as_object();
  EXPECT_EQ(t.at("href"), bj::value("http://sp.test/v1/tracks/" + id));
  EXPECT_EQ(t.at("external_urls").at("spotify"), bj::value("http://sp.test/track/" + id));
  EXPECT_EQ(t.at("type"), "track");
  EXPECT_TRUE(t.at("album").at("images").as_array().size() == 3);
  EXPECT_EQ(call("GET", "/v1/tracks/notanid").status, 400);
  EXPECT_EQ(call("GET", "/v1/tracks/" + music::derived_id(1, "none", 1)).status, 404);
}

TEST_F(EndpointsTest, BadParametersAnswer400NamingThem) {
  auto r = call("GET", "/v1/me/tracks?limit=51");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(body(r).at("error").at("message"), "Invalid limit");
  EXPECT_EQ(call("GET", "/v1/me/tracks?offset=-1").status, 400);
  EXPECT_EQ(call("GET", "/v1/search?type=track").status, 400);
  EXPECT_EQ(body(call("GET", "/v1/search?q=x")).at("error").at("message"),
            "Missing parameter type");
  EXPECT_EQ(call("GET", "/v1/search?q=x&type=track&offset=1001").status, 400);
  EXPECT_EQ(call("PUT", "/v1/me/tracks", "", "{not json").status, 400);
  EXPECT_EQ(call("POST", "/v1/users/demo/playlists", "playlist-modify-public", "[1]").status, 400);
}

TEST_F(EndpointsTest, SavedTracksPageAndSearch) {
  auto page = body(call("GET", "/v1/me/tracks?limit=5&offset=5"));
  EXPECT_EQ(page.at("limit"), 5);
  EXPECT_EQ(page.at("items").as_array().size(), 5u);
  EXPECT_EQ(page.at("previous"), "http://sp.test/v1/me/tracks?offset=0&limit=5");
  auto found = body(call("GET", "/v1/search?q=heart&type=track,artist&limit=3"));
  EXPECT_TRUE(found.as_object().contains("tracks"));
  EXPECT_TRUE(found.as_object().contains("artists"));
}

TEST_F(EndpointsTest, PlaylistLifecycle) {
  auto created = call("POST", "/v1/users/demo/playlists", "playlist-modify-private",
                      R"({"name":"Road","public":false})");
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id(body(created).at("id").as_string());
  EXPECT_EQ(
      call("POST", "/v1/users/demo/playlists", "playlist-modify-private", R"({"name":"x"})").status,
      403);  // public by default: needs playlist-modify-public
  std::string uri = "spotify:track:" + music::derived_id(42, "track", 7);
  auto added = call("POST", "/v1/playlists/" + id + "/tracks", "playlist-modify-private",
                    R"({"uris":[")" + uri + R"("]})");
  ASSERT_EQ(added.status, 201) << added.body;
  EXPECT_TRUE(body(added).as_object().contains("snapshot_id"));
  auto got = body(call("GET", "/v1/playlists/" + id, "playlist-read-private"));
  EXPECT_EQ(got.at("tracks").at("total"), 1);
  EXPECT_EQ(call("GET", "/v1/playlists/" + id).status, 404);  // private, no read scope
}

// Found by fuzz/fuzz_api_json: a bad uri in `uris=` was quoted byte for byte into the error
// message, so percent-encoded invalid UTF-8 made the error body invalid JSON.
TEST_F(EndpointsTest, BadTrackUriErrorStaysValidJson) {
  auto created = call("POST", "/v1/me/playlists", "playlist-modify-private",
                      R"({"name":"Errors","public":false})");
  ASSERT_EQ(created.status, 201) << created.body;
  std::string items =
      "/v1/playlists/" + std::string(body(created).at("id").as_string()) + "/tracks";
  auto bad = call("POST", items + "?uris=spotify:track:%E5%E5%00", "playlist-modify-private");
  EXPECT_EQ(bad.status, 400);
  bj::error_code ec;
  auto parsed = bj::parse(bad.body, ec);
  ASSERT_FALSE(ec) << "not JSON: " << bad.body;
  EXPECT_EQ(parsed.at("error").at("message"), "Invalid track uri");
  // A printable uri is still quoted, as Spotify does.
  auto quoted = body(call("POST", items + "?uris=spotify:track:nope", "playlist-modify-private"));
  EXPECT_EQ(quoted.at("error").at("message"), "Invalid track uri: spotify:track:nope");
}

TEST_F(EndpointsTest, PlayerIsAliveAndCommandsAnswer204) {
  auto state = call("GET", "/v1/me/player");
  ASSERT_EQ(state.status, 200) << state.body;
  EXPECT_EQ(body(state).at("device").at("name"), "Stagepass Web Player");
  EXPECT_EQ(call("PUT", "/v1/me/player/volume?volume_percent=30").status, 204);
  EXPECT_EQ(call("PUT", "/v1/me/player/volume?volume_percent=300").status, 400);
  EXPECT_EQ(call("POST", "/v1/me/player/next").status, 204);
  EXPECT_EQ(call("PUT", "/v1/me/player/repeat?state=sometimes").status, 400);
  auto cp = call("GET", "/v1/me/player/currently-playing");
  EXPECT_EQ(cp.status, 403);
}

TEST(Params, UrisAcceptStagepassAndSpotifySchemes) {
  auto id = music::derived_id(1, "track", 1);
  EXPECT_EQ(endpoints::uri_id("stagepass:track:" + id, "track"), id);
  EXPECT_EQ(endpoints::uri_id("spotify:track:" + id, "track"), id);
  EXPECT_FALSE(endpoints::uri_id("spotify:album:" + id, "track"));
  EXPECT_FALSE(endpoints::uri_id("spotify:track:short", "track"));
}

}  // namespace
}  // namespace stagepass::api
