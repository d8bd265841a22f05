// The Web API gateway through the real pieces: tokens signed by a real key ring, the real
// TokenVerifier (cache included), RevocationSet and RateLimiter, the real /v1 routes over a
// temporary SqliteMusicStore, a manual clock. Each test asserts what a caller sees: status,
// Spotify's error message, the RFC 6750 challenge, Retry-After.
#include "api/gateway.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <future>

#include "api/endpoints/web_api.hpp"
#include "crypto/crypto.hpp"
#include "music/sqlite/temp_music_store_test_support.hpp"

namespace stagepass::api {
namespace {

namespace asio = boost::asio;

constexpr int64_t kStart = 1'700'000'000;
constexpr int64_t kSkew = 10;
constexpr int64_t kDefaultLimit = 5;  // requests per app per 30 s without "rl"
const std::string kIss = "https://sp.test";
const std::string kAud = "https://sp.test/v1";
const std::string kRealm = "Bearer realm=\"stagepass\"";
constexpr int64_t kQuota = 40;  // cost units per app per rolling 24 h

std::shared_ptr<const Keyring> new_keyring(const std::string& kid) {
  auto kp = crypto::ed25519_generate();
  return std::make_shared<const Keyring>(
      std::vector<OpenKey>{{kid, "EdDSA", kp.public_key, kp.secret_key}});
}

std::string_view header(const http::Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return {};
}

// The challenge of a token refused for `reason` (RFC 6750 §3).
std::string refused_because(const std::string& reason) {
  return kRealm + ", error=\"invalid_token\", error_description=\"" + reason + "\"";
}

// Spotify's error object: {"error":{"status":N,"message":"..."}}; checks the status matches.
std::string message(const http::Response& r) {
  auto body = boost::json::parse(r.body);
  EXPECT_EQ(body.at("error").at("status").as_int64(), r.status) << r.body;
  return std::string(body.at("error").at("message").as_string());
}

// The "reason" of Spotify's error object; empty when there is none.
std::string reason(const http::Response& r) {
  auto body = boost::json::parse(r.body);
  auto* e = body.at("error").as_object().if_contains("reason");
  return e ? std::string(e->as_string()) : "";
}

http::Request request(const std::string& method, const std::string& target,
                      const std::vector<std::string>& authorization) {
  http::Request req;
  req.msg.method_string(method);
  req.msg.target(target);
  for (const auto& a : authorization) req.msg.insert(boost::beast::http::field::authorization, a);
  return req;
}

class GatewayTest : public ::testing::Test {
 protected:
  GatewayTest()
      : music_("sp-gateway-"),
        clock_(kStart),
        revoked_(3600 + kSkew, 1000, kSkew),
        keys_(new_keyring("k1")),
        verifier_(keys_, VerifyOptions{kIss, kAud, 0, kSkew}, clock_, random_, revoked_, 1000) {
    EXPECT_TRUE(music_->upsert_profile({"u1", "Una", "una@example.com", "SE", "premium", 0}).ok());
    register_web_api(routes_, *music_, random_);
    gateway_ = std::make_unique<Gateway>(routes_, verifier_, limiter_, metrics_, pool_, clock_,
                                         GatewaySettings{kAud, kDefaultLimit, kQuota});
  }

  // Minted as TokenIssuer does: `rl` is the app's own limit (0: none, the claim is absent).
  std::string user_token(const std::string& scope, int64_t rl = 0, int64_t ttl = 3600) {
    return mint_access_token(*keys_, {kIss, "u1", kAud, "app1", scope, clock_.now(),
                                      clock_.now() + ttl, random_.id22(), "g1", rl});
  }
  std::string client_token(const std::string& client_id, int64_t rl = 0) {
    return mint_access_token(*keys_, {kIss, client_id, kAud, client_id, "", clock_.now(),
                                      clock_.now() + 3600, random_.id22(), "", rl});
  }

  // One request through the gateway, the I/O side run on this thread until it answers.
  http::Response call(const std::string& method, const std::string& target,
                      std::vector<std::string> authorization) {
    http::Request req = request(method, target, authorization);
    asio::io_context ioc;
    auto answer = asio::co_spawn(ioc, gateway_->handle(req), asio::use_future);
    ioc.run();
    return answer.get();
  }
  http::Response get(const std::string& target, const std::string& token) {
    return call("GET", target, {"Bearer " + token});
  }

  SystemRandom random_;
  music::TempMusicStore music_;
  ManualClock clock_;
  RevocationSet revoked_;
  std::shared_ptr<const Keyring> keys_;
  TokenVerifier verifier_;
  RateLimiter limiter_;
  Metrics metrics_;
  asio::thread_pool pool_{1};
  ApiRoutes routes_;
  std::unique_ptr<Gateway> gateway_;
};

const std::string kSearch = "/v1/search?q=a&type=artist&limit=1";

// RFC 6750 §3.1: a request without credentials gets a challenge with no error code.
TEST_F(GatewayTest, NoTokenIs401WithABareChallenge) {
  auto r = call("GET", "/v1/me", {});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(message(r), "No token provided");
  EXPECT_EQ(header(r, "WWW-Authenticate"), kRealm);
  EXPECT_EQ(header(r, "Access-Control-Allow-Origin"), "*");
}

TEST_F(GatewayTest, AnUnverifiableTokenIs401InvalidToken) {
  std::string good = user_token("");
  std::string tampered = good;
  tampered[tampered.find('.') + 3] ^= 1;
  const std::string other = user_token("");
  const std::string spliced = good.substr(0, good.rfind('.')) + other.substr(other.rfind('.'));
  const std::string foreign = mint_access_token(
      *new_keyring("k1"),
      {kIss, "u1", kAud, "app1", "", kStart, kStart + 3600, random_.id22(), "g1", 0});
  const std::pair<std::string, std::string> cases[] = {
      {"garbage", "malformed"},
      {"a.b.c", "malformed"},
      {tampered, "malformed"},  // the payload no longer decodes to JSON
      {spliced, "bad signature"},
      {foreign, "bad signature"}};  // the same kid, another key: its signature fails
  for (const auto& [token, reason] : cases) {
    auto r = get("/v1/me", token);
    EXPECT_EQ(r.status, 401) << token;
    EXPECT_EQ(message(r), "Invalid access token");
    EXPECT_EQ(header(r, "WWW-Authenticate"), refused_because(reason)) << token;
  }
  const std::string unknown_kid = mint_access_token(
      *new_keyring("k2"),
      {kIss, "u1", kAud, "app1", "", kStart, kStart + 3600, random_.id22(), "g1", 0});
  EXPECT_EQ(header(get("/v1/me", unknown_kid), "WWW-Authenticate"), refused_because("unknown key"));
  EXPECT_EQ(get("/v1/me", good).status, 200);
  // RFC 6750 §2.1: the scheme is "Bearer" (any case); anything else is a malformed request.
  auto basic = call("GET", "/v1/me", {"Basic " + good});
  EXPECT_EQ(basic.status, 401);
  EXPECT_EQ(header(basic, "WWW-Authenticate"), kRealm + ", error=\"invalid_request\"");
  EXPECT_EQ(call("GET", "/v1/me", {"bEaReR " + good}).status, 200);
}

// Expiry applies to a token the verifier already cached, with the bounded clock skew.
TEST_F(GatewayTest, AnExpiredTokenIs401Expired) {
  auto token = user_token("", 0, 60);
  ASSERT_EQ(get("/v1/me", token).status, 200);
  clock_.advance(60 + kSkew);
  EXPECT_EQ(get("/v1/me", token).status, 200);  // inside the skew
  clock_.advance(1);
  auto r = get("/v1/me", token);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(message(r), "The access token expired");
  EXPECT_EQ(header(r, "WWW-Authenticate"), refused_because("expired"));
}

TEST_F(GatewayTest, ATokenOfARevokedGrantIs401OnTheNextRequest) {
  auto token = user_token("");
  ASSERT_EQ(get("/v1/me", token).status, 200);  // verified and cached
  revoked_.add("g1", "app1", clock_.now());
  auto r = get("/v1/me", token);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(message(r), "The access token has been revoked");
  EXPECT_EQ(header(r, "WWW-Authenticate"), refused_because("revoked"));
  EXPECT_EQ(get(kSearch, client_token("app2")).status, 200);  // another app is untouched
}

TEST_F(GatewayTest, AClientCredentialsTokenOnAUserRouteIs401) {
  auto token = client_token("app2");
  auto r = get("/v1/me", token);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(message(r), "Valid user authentication required");
  EXPECT_EQ(header(r, "WWW-Authenticate"), refused_because("user token required"));
  EXPECT_EQ(get(kSearch, token).status, 200);  // a route for any token
}

// A well-signed token for another resource server, from another issuer, or not valid yet.
TEST_F(GatewayTest, EachClaimRefusalSaysWhich) {
  const int64_t now = clock_.now();
  auto mint = [&](const std::string& iss, const std::string& aud, int64_t iat) {
    return mint_access_token(
        *keys_, {iss, "u1", aud, "app1", "", iat, iat + 3600, random_.id22(), "g1", 0});
  };
  EXPECT_EQ(header(get("/v1/me", mint(kIss, "https://other.test/v1", now)), "WWW-Authenticate"),
            refused_because("wrong audience"));
  EXPECT_EQ(header(get("/v1/me", mint("https://evil.test", kAud, now)), "WWW-Authenticate"),
            refused_because("wrong issuer"));
  // iat stands for nbf when the token has none (RFC 9068 tokens carry iat, not nbf).
  EXPECT_EQ(header(get("/v1/me", mint(kIss, kAud, now + kSkew + 60)), "WWW-Authenticate"),
            refused_because("not yet valid"));
  EXPECT_EQ(get("/v1/me", mint(kIss, kAud, now)).status, 200);
}

// The descriptions are a fixed set, one per verifier code; anything else is "malformed".
TEST(TokenRefusalReason, MapsEveryVerifierCode) {
  EXPECT_EQ(token_refusal_reason(ErrorCode::kExpired), "expired");
  EXPECT_EQ(token_refusal_reason(ErrorCode::kRevoked), "revoked");
  EXPECT_EQ(token_refusal_reason(ErrorCode::kMalformed), "malformed");
  EXPECT_EQ(token_refusal_reason(ErrorCode::kClaims), "malformed");
  EXPECT_EQ(token_refusal_reason(ErrorCode::kWrongAudience), "wrong audience");
  EXPECT_EQ(token_refusal_reason(ErrorCode::kWrongIssuer), "wrong issuer");
  EXPECT_EQ(token_refusal_reason(ErrorCode::kNotYetValid), "not yet valid");
  EXPECT_EQ(token_refusal_reason(ErrorCode::kUnknownKey), "unknown key");
  EXPECT_EQ(token_refusal_reason(ErrorCode::kSignature), "bad signature");
}

// RFC 6750 §3.1: insufficient_scope names the scope the route needs.
TEST_F(GatewayTest, AMissingScopeIs403NamingIt) {
  auto r = get("/v1/me/tracks", user_token("user-read-email"));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(message(r), "Insufficient client scope");
  EXPECT_EQ(header(r, "WWW-Authenticate"),
            kRealm + ", error=\"insufficient_scope\", scope=\"user-library-read\"");
  EXPECT_EQ(get("/v1/me/tracks", user_token("user-library-read")).status, 200);
}

// The app's limit comes with its token ("rl"); an app without one gets the default. Past the
// limit: 429 with Retry-After, after which (the window is rolling) the app may call again.
TEST_F(GatewayTest, TheAppsLimitFromItsTokenIsSpentThen429WithRetryAfter) {
  auto limited = user_token("", 2);
  EXPECT_EQ(get("/v1/me", limited).status, 200);
  EXPECT_EQ(get("/v1/me", limited).status, 200);
  auto refused = get("/v1/me", limited);
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(message(refused), "API rate limit exceeded");
  EXPECT_EQ(reason(refused), "RATE_LIMITED");
  const int retry_after = std::stoi(std::string(header(refused, "Retry-After")));
  EXPECT_GE(retry_after, 1);
  EXPECT_LE(retry_after, 30);
  EXPECT_NE(metrics_.render().find("stagepass_api_rate_limited_total{client_id=\"app1\"} 1"),
            std::string::npos);

  auto other = client_token("app2");  // no "rl": the default, its own budget
  for (int i = 0; i < kDefaultLimit; ++i) EXPECT_EQ(get(kSearch, other).status, 200) << i;
  EXPECT_EQ(get(kSearch, other).status, 429);

  clock_.advance(retry_after);
  EXPECT_EQ(get("/v1/me", limited).status, 200);
}

// A limit above the default is honoured too: the claim, not the node's setting, decides.
TEST_F(GatewayTest, AnAppsOwnLimitMayBeAboveTheDefault) {
  auto generous = client_token("app3", kDefaultLimit + 3);
  for (int i = 0; i < kDefaultLimit + 3; ++i) EXPECT_EQ(get(kSearch, generous).status, 200) << i;
  EXPECT_EQ(get(kSearch, generous).status, 429);
}

// issue15:devmode. A development-mode app's token whose person is not on the allowlist ("al":
// false, decided by the issuer) is refused on every route, user or catalog, with Spotify's
// error object and the machine-readable reason; the token itself is fine, so no challenge.
// Such refusals do not spend the app's rate limit. "al": true, or no claim (extended mode),
// is served as before.
TEST_F(GatewayTest, APersonNotOnTheAllowlistIs403UserNotAllowlisted) {
  auto token_of = [&](std::optional<bool> al) {
    AccessClaims c{
        kIss,           "u1", kAud, "app1", "user-read-private", clock_.now(), clock_.now() + 3600,
        random_.id22(), "g1", 0};
    c.allowlisted = al;
    return mint_access_token(*keys_, c);
  };
  auto unlisted = token_of(false);
  for (const std::string& target : std::vector<std::string>{"/v1/me", kSearch}) {
    for (int i = 0; i < kDefaultLimit + 2; ++i) {
      auto r = get(target, unlisted);
      ASSERT_EQ(r.status, 403) << target << " " << r.body;
      auto body = boost::json::parse(r.body);
      EXPECT_EQ(body.at("error").at("reason").as_string(), "USER_NOT_ALLOWLISTED") << r.body;
      EXPECT_FALSE(message(r).empty());
      EXPECT_EQ(header(r, "WWW-Authenticate"), "");
    }
  }
  EXPECT_NE(metrics_.render().find("stagepass_api_not_allowlisted_total{client_id=\"app1\"} " +
                                   std::to_string(2 * (kDefaultLimit + 2))),
            std::string::npos);
  EXPECT_EQ(get("/v1/me", token_of(true)).status, 200);  // the app's budget is untouched
  EXPECT_EQ(get("/v1/me", token_of(std::nullopt)).status, 200);
}

// Past the daily quota: 429 QUOTA_EXCEEDED, Retry-After until the oldest hour's units leave
// the 24 h window (not the 30 s one), while another app goes on.
TEST_F(GatewayTest, PastTheDailyQuotaIs429QuotaExceeded) {
  auto app = client_token("app4", 1000);  // a rate limit the quota reaches first
  int admitted = 0;
  http::Response last;
  for (; admitted <= kQuota; ++admitted) {
    last = get("/v1/artists/" + std::string(22, '0'), app);  // a 404 costs its unit too
    if (last.status == 429) break;
    clock_.advance(60);
  }
  EXPECT_EQ(admitted, kQuota);
  EXPECT_EQ(message(last), "API daily quota exceeded");
  EXPECT_EQ(reason(last), "QUOTA_EXCEEDED");
  const int64_t retry_after = std::stoll(std::string(header(last, "Retry-After")));
  const int64_t first_hour = kStart - kStart % 3600;
  EXPECT_EQ(retry_after, first_hour + 24 * 3600 - clock_.now());
  EXPECT_NE(metrics_.render().find("stagepass_api_quota_exceeded_total{client_id=\"app4\"} 1"),
            std::string::npos);
  EXPECT_EQ(get(kSearch, client_token("app5")).status, 200);
  clock_.advance(retry_after);
  EXPECT_EQ(get(kSearch, client_token("app4", 1000)).status, 200);  // the first one expired
}

// issue16:cluster. With STAGEPASS_API_NODES=N (a round-robin balancer spreads the app's calls
// over N nodes) a node admits its share of the app's limit and quota, rounded up, so the N
// nodes together admit about the limit; one node alone (N=1) admits the whole limit.
TEST_F(GatewayTest, SeveralApiNodesEachEnforceTheirShareOfTheLimitAndQuota) {
  EXPECT_EQ(share_of(10, 1), 10);
  EXPECT_EQ(share_of(10, 4), 3);  // rounded up: 4 nodes admit 12, never fewer than 10
  EXPECT_EQ(share_of(1, 4), 1);   // never 0: a limit below N admits one call per node
  EXPECT_EQ(share_of(0, 4), 0);   // no quota stays no quota

  Gateway node(routes_, verifier_, limiter_, metrics_, pool_, clock_,
               GatewaySettings{kAud, kDefaultLimit, kQuota, 4});
  auto get_on_node = [&](const std::string& token) {
    http::Request req = request("GET", kSearch, {"Bearer " + token});
    asio::io_context ioc;
    auto answer = asio::co_spawn(ioc, node.handle(req), asio::use_future);
    ioc.run();
    return answer.get().status;
  };
  auto own = client_token("app7", 10);  // its own limit: 10 / 4 nodes -> 3 here
  for (int i = 0; i < 3; ++i) EXPECT_EQ(get_on_node(own), 200) << i;
  EXPECT_EQ(get_on_node(own), 429);
  auto plain = client_token("app8");  // the default, 5 / 4 -> 2 here
  for (int i = 0; i < 2; ++i) EXPECT_EQ(get_on_node(plain), 200) << i;
  EXPECT_EQ(get_on_node(plain), 429);
  // The quota too: 40 / 4 = 10 a day on this node, reached with calls spread over hours.
  auto steady = client_token("app9", 1000);
  int admitted = 0;
  for (; admitted <= kQuota; ++admitted) {
    if (get_on_node(steady) == 429) break;
    clock_.advance(60);
  }
  EXPECT_EQ(admitted, kQuota / 4);
}

// A handler's cost (ApiRequest::cost) is charged after it ran: a search that scans many rows
// spends the app's 30 s budget in fewer calls than cheap reads do.
TEST_F(GatewayTest, AHeavyCallSpendsTheLimitByItsCost) {
  routes_.add("GET", "/v1/test/heavy", Requirement{}, [](ApiRequest& r) {
    r.cost = 4;
    return ok_empty();
  });
  auto app = client_token("app6", 10);
  std::vector<int> statuses;
  for (int i = 0; i < 5; ++i) statuses.push_back(get("/v1/test/heavy", app).status);
  // Admitted while a unit is left: 0, 4, 8 units spent before each of the first three.
  EXPECT_EQ(statuses, (std::vector<int>{200, 200, 200, 429, 429}));
  auto cheap = client_token("app7", 10);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(get(kSearch, cheap).status, 200) << i;
  EXPECT_EQ(get(kSearch, cheap).status, 429);
}

// RFC 6750 §2.3 allows a token in the query; it leaks into logs and history, so it is refused
// even when the header carries a good one.
TEST_F(GatewayTest, ATokenInTheQueryIsRefused) {
  auto token = user_token("");
  for (const auto& auth : {std::vector<std::string>{}, {"Bearer " + token}}) {
    auto r = call("GET", "/v1/me?access_token=" + token, auth);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(message(r), "Access tokens are accepted only in the Authorization header");
    EXPECT_EQ(header(r, "WWW-Authenticate"), kRealm + ", error=\"invalid_request\"");
  }
}

TEST_F(GatewayTest, TwoAuthorizationHeadersAre400) {
  auto token = user_token("");
  auto r = call("GET", "/v1/me", {"Bearer " + token, "Bearer " + token});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(header(r, "WWW-Authenticate"), kRealm + ", error=\"invalid_request\"");
}

// Holds the worker pool's only thread busy until release(), so a test can tell a request
// answered on the I/O thread from one that waits for the pool.
class BusyPool {
 public:
  explicit BusyPool(asio::thread_pool& pool) : released_(release_.get_future().share()) {
    asio::post(pool, [released = released_] { released.wait(); });
  }
  ~BusyPool() { release(); }
  void release() {
    if (!done_) release_.set_value();
    done_ = true;
  }

 private:
  std::promise<void> release_;
  std::shared_future<void> released_;
  bool done_ = false;
};

// Runs the request on a fresh io_context while the pool is held: ready handlers only, never a
// wait. Returns whether it answered so; then lets the pool go and finishes the request.
std::pair<bool, http::Response> answered_without_pool(Gateway& gateway, asio::thread_pool& pool,
                                                      http::Request req) {
  BusyPool busy(pool);
  asio::io_context ioc;
  auto answer = asio::co_spawn(ioc, gateway.handle(req), asio::use_future);
  ioc.poll();
  const bool fast = answer.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  busy.release();
  ioc.run();  // a request that went to the pool resumes here
  return {fast, answer.get()};
}

// Once the profile is cached, GET /v1/me answers on the I/O thread (no hop to the pool).
TEST_F(GatewayTest, MeIsServedOnTheIoThreadOnceCached) {
  auto token = user_token("user-read-email");
  ASSERT_EQ(get("/v1/me", token).status, 200);  // the pool reads the profile into the cache
  auto [fast, me] =
      answered_without_pool(*gateway_, pool_, request("GET", "/v1/me", {"Bearer " + token}));
  EXPECT_TRUE(fast) << "GET /v1/me waited for the worker pool";
  EXPECT_EQ(me.status, 200);
  auto body = boost::json::parse(me.body);
  EXPECT_EQ(body.at("id"), "u1");
  EXPECT_EQ(body.at("email"), "una@example.com");
}

// A route without a fast path does wait for the pool (so the test above tells them apart).
TEST_F(GatewayTest, ARouteWithoutAFastPathRunsOnThePool) {
  auto token = user_token("");
  auto [fast, user] =
      answered_without_pool(*gateway_, pool_, request("GET", "/v1/users/u1", {"Bearer " + token}));
  EXPECT_FALSE(fast);
  EXPECT_EQ(user.status, 200);
}

}  // namespace
}  // namespace stagepass::api
