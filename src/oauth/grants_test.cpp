// The grant handlers (oauth/grants/) through the token endpoint, on a real store and a manual
// clock: code exchange (expiry, redirect_uri, PKCE, another client, replay), refresh rotation
// (absolute and idle expiry, reuse, the grace retry, a superseded successor, scope), client
// credentials. Assertions are on the wire answers and on what the store and audit log kept.
#include <gtest/gtest.h>

#include "oauth/oauth_test_support.hpp"
#include "store/sqlite/connection.hpp"
#include "tokens/access_token.hpp"
#include "tokens/opaque_token.hpp"

namespace stagepass::oauth::testing {
namespace {

class GrantsTest : public ::testing::Test {
 protected:
  static Headers conf() { return basic(kConfId, kConfSecret); }
  // grant_type=authorization_code with `code`, the confidential app's redirect URI unless
  // `params` names another, plus `params`.
  http::Response exchange(const std::string& code, const Headers& auth, Headers params = {}) {
    Headers body = {{"grant_type", "authorization_code"}, {"code", code}};
    bool redirect = false;
    for (const auto& p : params) redirect = redirect || p.first == "redirect_uri";
    if (!redirect) body.emplace_back("redirect_uri", kRedirect);
    body.insert(body.end(), params.begin(), params.end());
    return server_.token(form_encode(body), auth);
  }
  // grant_type=refresh_token with `token`, by the confidential app unless `auth` says who.
  http::Response refresh(const std::string& token, const Headers& auth = conf(),
                         Headers params = {}) {
    Headers body = {{"grant_type", "refresh_token"}, {"refresh_token", token}};
    body.insert(body.end(), params.begin(), params.end());
    return server_.token(form_encode(body), auth);
  }
  static std::string refresh_token_of(const http::Response& r) {
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) return {};
    return std::string(json_of(r).at("refresh_token").as_string());
  }
  // The confidential app's first refresh token (a code exchanged now).
  std::string first_refresh_token() {
    return std::string(server_.conf_tokens().at("refresh_token").as_string());
  }
  // The audit events' types, in order.
  std::vector<std::string> event_types() {
    std::vector<std::string> out;
    for (const auto& e : server_.events) out.push_back(e.type);
    return out;
  }

  AuthorizationServer server_;
};

// ---- authorization_code (RFC 6749 §4.1.3, RFC 7636)

TEST_F(GrantsTest, ACodeIsExchangedOnceForAccessAndRefreshTokens) {
  auto r = exchange(server_.code_for(kConfId, "streaming", kRedirect), conf());
  ASSERT_EQ(r.status, 200) << r.body;
  auto o = json_of(r);
  EXPECT_EQ(o.at("token_type"), "Bearer");
  EXPECT_EQ(o.at("expires_in"), 3600);
  EXPECT_EQ(o.at("scope"), "streaming");
  EXPECT_TRUE(o.at("refresh_token").as_string().starts_with("spr_"));
  auto stored = server_.store->find_refresh_token(
      refresh_token_key(std::string(o.at("refresh_token").as_string())));
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->expires_at, kStart + kRefreshTtl);
  EXPECT_EQ(stored->idle_expires_at, kStart + kRefreshIdleTtl);
}

TEST_F(GrantsTest, AnExpiredCodeIsRefused) {
  const std::string code = server_.code_for(kConfId, "streaming", kRedirect);
  server_.clock.advance(kCodeTtl);
  EXPECT_EQ(error_of(exchange(code, conf())),
            WireError("invalid_grant", "authorization code has expired"));
}

TEST_F(GrantsTest, AWrongRedirectUriIsRefusedAndSpendsNothing) {
  const std::string code = server_.code_for(kConfId, "streaming", kRedirect);
  // RFC 6749 §4.1.3: identical to the one in the authorization request.
  auto wrong = exchange(code, conf(), {{"redirect_uri", kRedirect + "/"}});
  EXPECT_EQ(error_of(wrong),
            WireError("invalid_grant", "redirect_uri does not match the authorization request"));
  EXPECT_EQ(exchange(code, conf()).status, 200);
}

TEST_F(GrantsTest, PkceIsCheckedAndAWrongVerifierSpendsNothing) {
  const std::string code = server_.code_for(kPublicId, "streaming", kPublicRedirect, kChallenge);
  const Headers pub = {};
  const Headers as_public = {{"client_id", kPublicId}, {"redirect_uri", kPublicRedirect}};
  auto with = [&](Headers extra) {
    Headers p = as_public;
    p.insert(p.end(), extra.begin(), extra.end());
    return exchange(code, pub, p);
  };
  EXPECT_EQ(error_of(with({})), WireError("invalid_grant", "code_verifier is required"));
  EXPECT_EQ(error_of(with({{"code_verifier", std::string(43, 'a')}})),
            WireError("invalid_grant", "code_verifier does not match the code_challenge"));
  EXPECT_EQ(error_of(with({{"code_verifier", "short"}})),
            WireError("invalid_grant", "code_verifier is malformed"));
  EXPECT_FALSE(server_.grant_revoked());
  EXPECT_EQ(with({{"code_verifier", kVerifier}}).status, 200);
}

TEST_F(GrantsTest, AVerifierForACodeWithoutChallengeIsADowngrade) {
  // RFC 9700 §4.8.2: a verifier without a challenge is a PKCE downgrade attempt.
  const std::string code = server_.code_for(kConfId, "streaming", kRedirect);
  EXPECT_EQ(error_of(exchange(code, conf(), {{"code_verifier", kVerifier}})),
            WireError("invalid_grant", "code_verifier sent but no code_challenge was"));
  EXPECT_EQ(exchange(code, conf()).status, 200);
}

TEST_F(GrantsTest, AnotherClientsCodeLooksUnknownAndStaysUsable) {
  const std::string code = server_.code_for(kConfId, "streaming", kRedirect);
  const WireError invalid("invalid_grant", "authorization code is invalid");
  EXPECT_EQ(error_of(exchange(code, basic(kOtherId, kOtherSecret))), invalid);
  EXPECT_EQ(error_of(exchange("spc_unknown", conf())), invalid);
  EXPECT_EQ(exchange(code, conf()).status, 200);
}

TEST_F(GrantsTest, AReplayedCodeRevokesTheGrantAndIsAudited) {
  const std::string code = server_.code_for(kConfId, "streaming", kRedirect);
  const std::string first = refresh_token_of(exchange(code, conf()));
  EXPECT_EQ(error_of(exchange(code, conf())),
            WireError("invalid_grant", "authorization code was already used"));
  EXPECT_TRUE(server_.grant_revoked());
  EXPECT_EQ(event_types(), std::vector<std::string>{"authorization_code_replay"});
  EXPECT_EQ(server_.events[0].user_id, kUserId);
  EXPECT_EQ(server_.announced, 1);
  // RFC 6749 §4.1.2: what the first use issued is revoked with it.
  EXPECT_EQ(error_of(refresh(first)), WireError("invalid_grant", "refresh token is invalid"));
}

TEST_F(GrantsTest, MissingParametersAreInvalidRequests) {
  EXPECT_EQ(error_of(server_.token("grant_type=authorization_code&redirect_uri=x", conf())),
            WireError("invalid_request", "code is required"));
  EXPECT_EQ(error_of(server_.token("grant_type=authorization_code&code=x", conf())),
            WireError("invalid_request", "redirect_uri is required"));
  EXPECT_EQ(error_of(server_.token("grant_type=refresh_token", conf())),
            WireError("invalid_request", "refresh_token is required"));
}

// ---- refresh_token (RFC 6749 §6, RFC 9700 §4.14.2)

TEST_F(GrantsTest, EveryRefreshRotatesTheToken) {
  const std::string r1 = first_refresh_token();
  auto answer = refresh(r1);
  const std::string r2 = refresh_token_of(answer);
  EXPECT_NE(r2, r1);
  EXPECT_EQ(json_of(answer).at("scope"), "streaming user-read-email");
  EXPECT_TRUE(server_.store->find_refresh_token(refresh_token_key(r1))->rotated_at.has_value());
}

// issue17:family. The code exchange starts a family at generation 0; every rotation's
// successor is of that family, one generation on; the chain keeps one row in the store.
TEST_F(GrantsTest, AChainsTokensAreOfOneFamilyAndCountTheRotations) {
  std::string token = first_refresh_token();
  const auto first = refresh_token_family(token);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->generation, 0u);
  const std::string family(first->family);
  for (uint32_t generation = 1; generation <= 3; ++generation) {
    token = refresh_token_of(refresh(token));
    const auto next = refresh_token_family(token);
    ASSERT_TRUE(next) << token;
    EXPECT_EQ(next->family, family);
    EXPECT_EQ(next->generation, generation);
  }
  sqlite::Connection db(server_.store.path());
  auto rows = db.prepare("SELECT count(*) FROM refresh_families");
  rows.step();
  EXPECT_EQ(rows.i64(0), 1);
}

// A chain begun before families (a token of the per-token shape, stored as a row of its own)
// goes on in that shape, and its spent token is still reuse.
TEST_F(GrantsTest, AChainOfTheOlderShapeKeepsItsShape) {
  const std::string first = first_refresh_token();
  auto stored = server_.store->find_refresh_token(refresh_token_key(first));
  ASSERT_TRUE(stored.ok());
  const std::string old_shape = new_opaque_token(server_.random, server_.clock, "spr_");
  {
    sqlite::Connection db(server_.store.path());
    db.prepare(
          "INSERT INTO refresh_tokens (hash, grant_id, client_id, user_id, scope, created_at, "
          "expires_at, idle_expires_at) VALUES (?,?,?,?,?,?,?,?)")
        .bind_all(refresh_token_key(old_shape), stored->grant_id, stored->client_id,
                  stored->user_id, stored->scope.str(), stored->created_at, stored->expires_at,
                  stored->idle_expires_at)
        .run();
  }
  const std::string next = refresh_token_of(refresh(old_shape));
  ASSERT_FALSE(next.empty());
  EXPECT_FALSE(refresh_token_family(next));
  EXPECT_EQ(next.size(), old_shape.size());
  EXPECT_TRUE(
      server_.store->find_refresh_token(refresh_token_key(old_shape))->rotated_at.has_value());
  EXPECT_EQ(refresh(next).status, 200);
  server_.clock.advance(3600);  // past the grace window
  EXPECT_EQ(error_of(refresh(old_shape)).first, "invalid_grant");
  EXPECT_TRUE(server_.grant_revoked());
}

TEST_F(GrantsTest, AChainEndsAtItsAbsoluteLifetimeHoweverOftenItRotates) {
  std::string token = first_refresh_token();
  // Every rotation within the idle lifetime; the chain's end stays where the exchange put it.
  for (int64_t at = 250; at < kRefreshTtl; at += 250) {
    server_.clock.advance(250);
    token = refresh_token_of(refresh(token));
    ASSERT_FALSE(token.empty()) << at;
  }
  server_.clock.advance(kRefreshTtl - 750);
  EXPECT_EQ(error_of(refresh(token)), WireError("invalid_grant", "refresh token has expired"));
}

TEST_F(GrantsTest, AnIdleTokenExpires) {
  const std::string token = first_refresh_token();
  server_.clock.advance(kRefreshIdleTtl - 1);
  const std::string next = refresh_token_of(refresh(token));
  server_.clock.advance(kRefreshIdleTtl);  // the successor's idle end counts from its rotation
  EXPECT_EQ(error_of(refresh(next)), WireError("invalid_grant", "refresh token has expired"));
  EXPECT_FALSE(server_.grant_revoked());  // an expired token is refused, not reuse
}

TEST_F(GrantsTest, ASpentTokenUsedAgainRevokesTheGrant) {
  const std::string r1 = first_refresh_token();
  const std::string r2 = refresh_token_of(refresh(r1));
  server_.clock.advance(kRefreshGrace);
  EXPECT_EQ(error_of(refresh(r1)),
            WireError("invalid_grant", "refresh token was already used; access revoked"));
  EXPECT_TRUE(server_.grant_revoked());
  EXPECT_EQ(event_types(), std::vector<std::string>{"refresh_token_reuse"});
  EXPECT_EQ(server_.announced, 1);
  EXPECT_EQ(error_of(refresh(r2)), WireError("invalid_grant", "refresh token is invalid"));
}

TEST_F(GrantsTest, ItsOwnClientMayRetryOnceInsideTheGraceWindow) {
  const std::string r1 = first_refresh_token();
  const std::string r2 = refresh_token_of(refresh(r1));
  server_.clock.advance(kRefreshGrace - 1);
  const std::string r3 = refresh_token_of(refresh(r1));  // the client lost the first answer
  EXPECT_NE(r3, r2);
  EXPECT_FALSE(server_.grant_revoked());
  EXPECT_TRUE(server_.events.empty());
  // One retry per rotation: a second is reuse.
  EXPECT_EQ(refresh(r1).status, 400);
  EXPECT_TRUE(server_.grant_revoked());
}

TEST_F(GrantsTest, ASupersededSuccessorPresentedLaterIsReuse) {
  const std::string r1 = first_refresh_token();
  const std::string r2 = refresh_token_of(refresh(r1));
  const std::string r3 = refresh_token_of(refresh(r1));  // a retry supersedes r2
  ASSERT_FALSE(r3.empty());
  // Whoever holds r2 holds a spent token: two parties hold the chain.
  EXPECT_EQ(error_of(refresh(r2)),
            WireError("invalid_grant", "refresh token was already used; access revoked"));
  EXPECT_TRUE(server_.grant_revoked());
  EXPECT_EQ(error_of(refresh(r3)), WireError("invalid_grant", "refresh token is invalid"));
}

TEST_F(GrantsTest, AnotherClientPresentingASpentTokenRevokesTheGrantButLearnsNothing) {
  const std::string r1 = first_refresh_token();
  ASSERT_FALSE(refresh_token_of(refresh(r1)).empty());
  // Inside the window: still reuse, and answered like an unknown token.
  EXPECT_EQ(error_of(refresh(r1, basic(kOtherId, kOtherSecret))),
            WireError("invalid_grant", "refresh token is invalid"));
  EXPECT_TRUE(server_.grant_revoked());
  EXPECT_EQ(event_types(), std::vector<std::string>{"refresh_token_reuse"});
  EXPECT_EQ(server_.events[0].client_id, kConfId);  // the app whose access was revoked
}

TEST_F(GrantsTest, AnotherClientPresentingALiveTokenIsRefusedAndTheTokenLives) {
  const std::string r1 = first_refresh_token();
  EXPECT_EQ(error_of(refresh(r1, basic(kOtherId, kOtherSecret))),
            WireError("invalid_grant", "refresh token is invalid"));
  EXPECT_FALSE(server_.grant_revoked());
  EXPECT_EQ(refresh(r1).status, 200);
}

TEST_F(GrantsTest, AScopeMayNarrowTheAccessTokenButNotWiden) {
  const std::string r1 = first_refresh_token();
  // RFC 6749 §6: no scope not originally granted.
  EXPECT_EQ(error_of(refresh(r1, conf(), {{"scope", "streaming user-read-private"}})),
            WireError("invalid_scope", "scope exceeds what was granted"));
  auto narrowed = refresh(r1, conf(), {{"scope", "streaming"}});
  ASSERT_EQ(narrowed.status, 200) << narrowed.body;
  EXPECT_EQ(json_of(narrowed).at("scope"), "streaming");
  // The successor keeps the original scope: the next refresh gets it all back.
  auto next = refresh(refresh_token_of(narrowed));
  EXPECT_EQ(json_of(next).at("scope"), "streaming user-read-email");
}

// ---- client_credentials (RFC 6749 §4.4)

TEST_F(GrantsTest, ClientCredentialsIssueNoRefreshTokenAndCheckScopes) {
  auto r = server_.token("grant_type=client_credentials&scope=streaming", conf());
  ASSERT_EQ(r.status, 200);
  EXPECT_FALSE(json_of(r).contains("refresh_token"));  // RFC 6749 §4.4.3
  EXPECT_EQ(json_of(r).at("scope"), "streaming");
  EXPECT_EQ(error_of(server_.token("grant_type=client_credentials&scope=admin", conf())),
            WireError("invalid_scope", "unknown scope: 'admin'"));
  EXPECT_EQ(error_of(server_.token("grant_type=client_credentials&scope=user-top-read", conf())),
            WireError("invalid_scope", "scope not allowed for this client"));
}

// ---- development mode (issue15:devmode): the allowlist decides the "al" claim at minting

class DevelopmentModeTest : public GrantsTest {
 protected:
  // What a resource server reads from the access token of a token answer.
  AccessClaims claims_of(const boost::json::object& answer) {
    auto c = verify_access_token(
        *server_.services.keys.get(), std::string(answer.at("access_token").as_string()),
        {"https://issuer.example", "https://issuer.example/v1", server_.clock.now(), 30});
    EXPECT_TRUE(c.ok()) << c.error().message;
    return c.ok() ? *c : AccessClaims{};
  }
  boost::json::object refreshed(const std::string& token) { return json_of(refresh(token)); }
};

// A person not on the allowlist still gets tokens (sign-in and consent work), which say so;
// once added, the app's next refresh says so too: the list is read at every refresh.
TEST_F(DevelopmentModeTest, TheTokenSaysWhetherThePersonIsOnTheAllowlistAtEachMinting) {
  ASSERT_TRUE(server_.store->set_client_mode(kConfId, true).ok());
  auto first = server_.conf_tokens();
  EXPECT_EQ(claims_of(first).allowlisted, std::optional<bool>(false));
  auto second = refreshed(std::string(first.at("refresh_token").as_string()));
  EXPECT_EQ(claims_of(second).allowlisted, std::optional<bool>(false));

  ASSERT_TRUE(*server_.store->add_to_allowlist(kConfId, kUserId, 25, server_.clock.now()));
  auto third = refreshed(std::string(second.at("refresh_token").as_string()));
  EXPECT_EQ(claims_of(third).allowlisted, std::optional<bool>(true));
  EXPECT_EQ(claims_of(server_.conf_tokens()).allowlisted, std::optional<bool>(true));

  // Back to extended mode: the next token carries no claim at all.
  ASSERT_TRUE(server_.store->set_client_mode(kConfId, false).ok());
  auto fourth = refreshed(std::string(third.at("refresh_token").as_string()));
  EXPECT_FALSE(claims_of(fourth).allowlisted.has_value());
}

// Extended apps (every app before development mode existed) mint as before, and a
// client-credentials token has no person to check, in either mode.
TEST_F(DevelopmentModeTest, ExtendedAppsAndClientCredentialsCarryNoAllowlistClaim) {
  EXPECT_FALSE(claims_of(server_.conf_tokens()).allowlisted.has_value());
  ASSERT_TRUE(server_.store->set_client_mode(kConfId, true).ok());
  auto cc = server_.token("grant_type=client_credentials", conf());
  ASSERT_EQ(cc.status, 200) << cc.body;
  EXPECT_FALSE(claims_of(json_of(cc)).allowlisted.has_value());
}

// ---- the store unavailable: 503 with Retry-After, nothing spent

// A grant the store could not decide is answered 503 "temporarily_unavailable" with
// Retry-After (a client retries; a 400 would make it drop its tokens, a 500 says nothing),
// and the code or refresh token it carried still works once the store is back. The store
// fails for real: the table the grant needs is gone (a refresh token's chain is a row of
// refresh_families, issue17:family).
TEST_F(GrantsTest, AGrantTheStoreCouldNotDecideIs503AndSpendsNothing) {
  const std::string refresh_token = first_refresh_token();
  const std::string code = server_.code_for(kConfId, "streaming", kRedirect);
  sqlite::Connection side(server_.store.path());
  side.exec("ALTER TABLE refresh_families RENAME TO gone_r");
  side.exec("ALTER TABLE codes RENAME TO gone_c");
  for (const auto& r : {refresh(refresh_token), exchange(code, conf())}) {
    EXPECT_EQ(r.status, 503) << r.body;
    EXPECT_EQ(header_of(r, "Retry-After"), "2");
    EXPECT_EQ(error_of(r).first, "temporarily_unavailable");
    EXPECT_EQ(header_of(r, "Cache-Control"), "no-store");
  }
  side.exec("ALTER TABLE gone_r RENAME TO refresh_families");
  side.exec("ALTER TABLE gone_c RENAME TO codes");
  EXPECT_EQ(refresh(refresh_token).status, 200);
  EXPECT_EQ(exchange(code, conf()).status, 200);
}

}  // namespace
}  // namespace stagepass::oauth::testing
