// RFC 7662 at POST /api/introspect, through the form pipeline on a real store: a client learns
// about its own tokens only (a resource server the operator marked, about everyone's), and
// anything revoked, expired, spent, unknown or foreign is exactly {"active":false}.
#include "oauth/introspection_endpoint.hpp"

#include <gtest/gtest.h>

#include "oauth/oauth_test_support.hpp"
#include "store/sqlite/connection.hpp"
#include "tokens/access_token.hpp"
#include "tokens/signing_keys.hpp"

namespace stagepass::oauth::testing {
namespace {

class IntrospectionEndpointTest : public ::testing::Test {
 protected:
  http::Response introspect(const std::string& token, const Headers& auth) {
    return server_.post(server_.introspection, form_encode({{"token", token}}), auth);
  }
  // The answer for `token` asked by `auth`: its JSON (200 expected).
  boost::json::object claims(const std::string& token, const Headers& auth) {
    auto r = introspect(token, auth);
    EXPECT_EQ(r.status, 200) << r.body;
    return json_of(r);
  }
  static void expect_inactive(const boost::json::object& o) {
    // RFC 7662 §2.2: an inactive token says nothing else.
    EXPECT_EQ(o, (boost::json::object{{"active", false}}));
  }
  static Headers conf() { return basic(kConfId, kConfSecret); }

  AuthorizationServer server_;
  boost::json::object tokens_ = server_.conf_tokens();
  std::string refresh_ = std::string(tokens_.at("refresh_token").as_string());
  std::string access_ = std::string(tokens_.at("access_token").as_string());
};

TEST_F(IntrospectionEndpointTest, AClientSeesItsOwnAccessToken) {
  auto o = claims(access_, conf());
  EXPECT_EQ(o.at("active"), true);
  EXPECT_EQ(o.at("client_id").as_string(), kConfId);
  EXPECT_EQ(o.at("sub").as_string(), kUserId);
  EXPECT_EQ(o.at("scope"), "streaming user-read-email");
  EXPECT_EQ(o.at("token_type"), "Bearer");
  EXPECT_EQ(o.at("iss"), "https://issuer.example");
  EXPECT_EQ(o.at("exp"), kStart + 3600);
  EXPECT_TRUE(o.contains("gid"));
  EXPECT_EQ(o.at("username").as_string(), kUserEmail);  // the grant holds user-read-email
}

// issue15-fix:rotation. A key past its retire_at verifies nothing, also for a token whose
// verification the endpoint cached while the key was still published (here one that claims to
// outlive its key: the issuer never mints such a token, a holder of the key could).
TEST_F(IntrospectionEndpointTest, ATokenOfARetiredKeyIsInactiveEvenOnceCached) {
  const AccessClaims c{"https://issuer.example",
                       kUserId,
                       "https://issuer.example/v1",
                       kConfId,
                       "streaming",
                       kStart,
                       kStart + 100000,
                       server_.random.id22(),
                       ""};
  const std::string long_lived = mint_access_token(*server_.keys.current(), c);
  EXPECT_EQ(claims(long_lived, conf()).at("active"), true);  // verified and cached
  // A rotation: the first key now retires once the next one has signed for the retention.
  ASSERT_TRUE(rotate_signing_key(*server_.store, Secret(std::string(32, 'k')), server_.random,
                                 kStart, 300, server_.keys.settings().policy)
                  .ok());
  auto refreshed = server_.keys.refresh();
  ASSERT_TRUE(refreshed.ok() && refreshed->swapped);
  const int64_t retire_at = server_.keys.current()->keys().front().retire_at;
  ASSERT_LT(retire_at, c.exp);
  server_.clock.advance(retire_at - 1 - kStart);
  EXPECT_EQ(claims(long_lived, conf()).at("active"), true);  // still published
  server_.clock.advance(1);  // its retire_at, with no reload of the keys
  expect_inactive(claims(long_lived, conf()));
}

TEST_F(IntrospectionEndpointTest, AClientSeesItsOwnRefreshToken) {
  auto o = claims(refresh_, conf());
  EXPECT_EQ(o.at("active"), true);
  EXPECT_EQ(o.at("token_type"), "refresh_token");
  EXPECT_EQ(o.at("client_id").as_string(), kConfId);
  EXPECT_EQ(o.at("exp"), kStart + kRefreshIdleTtl);  // the earlier of its two ends
}

TEST_F(IntrospectionEndpointTest, AnotherClientsTokensAreInactiveUnlessAskedByAResourceServer) {
  expect_inactive(claims(access_, basic(kOtherId, kOtherSecret)));
  expect_inactive(claims(refresh_, basic(kOtherId, kOtherSecret)));
  const Headers rs = basic(kResourceServerId, kResourceServerSecret);
  EXPECT_EQ(claims(access_, rs).at("active"), true);
  EXPECT_EQ(claims(refresh_, rs).at("client_id").as_string(), kConfId);
}

TEST_F(IntrospectionEndpointTest, SpentRevokedExpiredAndUnknownTokensAreInactive) {
  for (const char* unknown : {"spr_unknown", "garbage", "a.b.c"}) {
    expect_inactive(claims(unknown, conf()));
  }
  // Spent: rotated.
  auto rotated = server_.token(
      form_encode({{"grant_type", "refresh_token"}, {"refresh_token", refresh_}}), conf());
  ASSERT_EQ(rotated.status, 200);
  expect_inactive(claims(refresh_, conf()));
  const std::string next = std::string(json_of(rotated).at("refresh_token").as_string());
  EXPECT_EQ(claims(next, conf()).at("active"), true);
  // Expired: the access token after its hour, the refresh token after its idle end.
  server_.clock.advance(kRefreshIdleTtl);
  expect_inactive(claims(next, conf()));
  server_.clock.advance(3600);
  expect_inactive(claims(access_, conf()));
}

TEST_F(IntrospectionEndpointTest, TokensOfARevokedGrantAreInactive) {
  auto grants = server_.store->list_user_grants(kUserId);
  ASSERT_TRUE(grants.ok() && grants->size() == 1);
  ASSERT_TRUE(*server_.store->revoke_grant((*grants)[0].id, kStart));
  // The store is asked too: the revocation set may lag it by a poll.
  expect_inactive(claims(access_, conf()));
  expect_inactive(claims(refresh_, conf()));
}

TEST_F(IntrospectionEndpointTest, OnlyAuthenticatedConfidentialClientsMayAsk) {
  // RFC 7662 §2.1: the endpoint MUST require some form of authorization.
  auto pub = server_.post(server_.introspection,
                          form_encode({{"token", access_}, {"client_id", kPublicId}}));
  EXPECT_EQ(pub.status, 401);
  EXPECT_EQ(error_of(pub).first, "invalid_client");
  EXPECT_EQ(introspect(access_, {}).status, 401);
  auto missing = server_.post(server_.introspection, "", conf());
  EXPECT_EQ(error_of(missing), WireError("invalid_request", "token is required"));
}

// When the store cannot say whether the grant still stands, "inactive" would be a definite
// answer the server does not have: 503 with Retry-After, and the same token is active again
// once the store answers. The store fails for real: a table it needs is gone.
TEST_F(IntrospectionEndpointTest, AStoreThatCannotAnswerGives503WithRetryAfterNotInactive) {
  sqlite::Connection side(server_.store.path());
  side.exec("ALTER TABLE grants RENAME TO gone");
  for (const std::string& token : {access_, refresh_}) {
    auto r = introspect(token, conf());
    EXPECT_EQ(r.status, 503) << r.body;
    EXPECT_EQ(header_of(r, "Retry-After"), "2");
    EXPECT_EQ(error_of(r).first, "temporarily_unavailable");
  }
  side.exec("ALTER TABLE gone RENAME TO grants");
  EXPECT_TRUE(claims(access_, conf()).at("active").as_bool());
  EXPECT_TRUE(claims(refresh_, conf()).at("active").as_bool());
}

}  // namespace
}  // namespace stagepass::oauth::testing
