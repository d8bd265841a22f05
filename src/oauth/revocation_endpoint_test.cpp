// RFC 7009 at POST /api/revoke, through the form pipeline on a real store: a client revokes
// only its own tokens (a refresh token takes its grant, an access token its jti alone), and
// every token it names - its own, another app's, unknown - is answered exactly 200.
#include "oauth/revocation_endpoint.hpp"

#include <gtest/gtest.h>

#include "oauth/oauth_test_support.hpp"
#include "store/sqlite/connection.hpp"
#include "tokens/opaque_token.hpp"

namespace stagepass::oauth::testing {
namespace {

class RevocationEndpointTest : public ::testing::Test {
 protected:
  http::Response revoke(const std::string& token, const Headers& auth) {
    return server_.post(server_.revocation, form_encode({{"token", token}}), auth);
  }
  static void expect_plain_200(const http::Response& r) {
    // §2.2: "The authorization server responds with HTTP status code 200", whatever the token.
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "{}");
  }
  std::vector<Revoked> revoked_jtis() { return server_.store->revoked_tokens_since(0).value(); }

  AuthorizationServer server_;
  boost::json::object tokens_ = server_.conf_tokens();
  std::string refresh_ = std::string(tokens_.at("refresh_token").as_string());
  std::string access_ = std::string(tokens_.at("access_token").as_string());
};

TEST_F(RevocationEndpointTest, ARefreshTokenRevokesItsGrantOnceHoweverOftenItIsSent) {
  expect_plain_200(revoke(refresh_, basic(kConfId, kConfSecret)));
  EXPECT_TRUE(server_.grant_revoked());
  ASSERT_EQ(server_.events.size(), 1u);
  EXPECT_EQ(server_.events[0].type, "app_signed_out");
  EXPECT_EQ(server_.events[0].user_id, kUserId);
  EXPECT_EQ(server_.announced, 1);
  expect_plain_200(revoke(refresh_, basic(kConfId, kConfSecret)));
  EXPECT_EQ(server_.events.size(), 1u);  // a repeat cannot flood the person's log
}

TEST_F(RevocationEndpointTest, AnotherClientsTokensAreAnsweredAlikeAndStayAlive) {
  // RFC 7009 §2.1: the server first validates that the token was issued to this client.
  expect_plain_200(revoke(refresh_, basic(kOtherId, kOtherSecret)));
  expect_plain_200(revoke(access_, basic(kOtherId, kOtherSecret)));
  EXPECT_FALSE(server_.grant_revoked());
  EXPECT_TRUE(revoked_jtis().empty());
  EXPECT_TRUE(server_.events.empty());
  EXPECT_EQ(server_.announced, 0);
  // The owner's refresh token still rotates.
  auto r =
      server_.token(form_encode({{"grant_type", "refresh_token"}, {"refresh_token", refresh_}}),
                    basic(kConfId, kConfSecret));
  EXPECT_EQ(r.status, 200);
}

TEST_F(RevocationEndpointTest, AnAccessTokenRevokesItsJtiAlone) {
  expect_plain_200(revoke(access_, basic(kConfId, kConfSecret)));
  auto jtis = revoked_jtis();
  ASSERT_EQ(jtis.size(), 1u);
  EXPECT_EQ(jtis[0].client_id, kConfId);
  EXPECT_FALSE(jtis[0].id.empty());
  EXPECT_FALSE(server_.grant_revoked());  // the refresh token and the grant live on
  ASSERT_EQ(server_.events.size(), 1u);
  EXPECT_EQ(server_.events[0].type, "access_token_revoked");
  expect_plain_200(revoke(access_, basic(kConfId, kConfSecret)));
  EXPECT_EQ(server_.events.size(), 1u);
}

TEST_F(RevocationEndpointTest, UnknownTokensAre200AndAMissingTokenIsAnError) {
  for (const char* token : {"spr_unknown", "not-a-token", "a.b.c"}) {
    expect_plain_200(revoke(token, basic(kConfId, kConfSecret)));
  }
  EXPECT_TRUE(server_.events.empty());
  auto missing = server_.post(server_.revocation, "token_type_hint=refresh_token",
                              basic(kConfId, kConfSecret));
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(error_of(missing).second, "token is required");
  // The client must authenticate (RFC 7009 §2.1).
  EXPECT_EQ(revoke(refresh_, {}).status, 401);
  EXPECT_FALSE(server_.grant_revoked());
}

// RFC 7009 §2.2.1: "If the server responds with HTTP status code 503, the client must assume
// the token still exists and may retry after a reasonable delay." A revocation the store could
// not make is never answered 200. The store fails for real: a table it needs is gone.
TEST_F(RevocationEndpointTest, ARevocationTheStoreCouldNotMakeIs503WithRetryAfterNever200) {
  sqlite::Connection side(server_.store.path());
  // A refresh token's chain has a row in refresh_families (issue17:family).
  for (const char* table : {"refresh_families", "revoked_tokens"}) {
    side.exec((std::string("ALTER TABLE ") + table + " RENAME TO gone").c_str());
    const std::string& token = std::string(table) == "refresh_families" ? refresh_ : access_;
    auto r = revoke(token, basic(kConfId, kConfSecret));
    EXPECT_EQ(r.status, 503) << table;
    EXPECT_EQ(header_of(r, "Retry-After"), "2") << table;
    EXPECT_EQ(error_of(r).first, "temporarily_unavailable") << table;
    EXPECT_EQ(header_of(r, "Cache-Control"), "no-store");
    side.exec((std::string("ALTER TABLE gone RENAME TO ") + table).c_str());
  }
  EXPECT_FALSE(server_.grant_revoked());
  EXPECT_TRUE(revoked_jtis().empty());
  // Once the store answers again, the retry revokes.
  expect_plain_200(revoke(access_, basic(kConfId, kConfSecret)));
  EXPECT_EQ(revoked_jtis().size(), 1u);
  expect_plain_200(revoke(refresh_, basic(kConfId, kConfSecret)));
  EXPECT_TRUE(server_.grant_revoked());
}

}  // namespace
}  // namespace stagepass::oauth::testing
