// Client secret rotation with overlap (secret_rotation.hpp, issue15:secrets), through the form
// pipeline on a real store with a manual clock: both secrets authenticate during the grace,
// the old one stops at its expiry, at most two are live, a hard cut refuses the old secret and
// the app's earlier access tokens at once, and a retiring secret's use is audited, coalesced.
#include "oauth/secret_rotation.hpp"

#include <gtest/gtest.h>

#include "core/base64url.hpp"
#include "oauth/client_auth.hpp"
#include "oauth/oauth_test_support.hpp"
#include "tokens/access_token.hpp"

namespace stagepass::oauth::testing {
namespace {

class SecretRotationTest : public ::testing::Test {
 protected:
  SecretRotationTest() {
    server_.services.audit = [this](AuditEvent e) { events_.push_back(std::move(e)); };
    server_.services.secret_usage = &usage_;
  }

  // A client-credentials grant authenticated with `secret`: the answer.
  http::Response cc(const std::string& secret) {
    return server_.token("grant_type=client_credentials&scope=streaming", basic(kConfId, secret));
  }
  bool works(const std::string& secret) { return cc(secret).status == 200; }
  // The refusal every bad secret gets, whichever stored secret it was compared with.
  void expect_refused(const std::string& secret) {
    auto r = cc(secret);
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(error_of(r), WireError("invalid_client", "client authentication failed"));
  }
  SecretRotation::Rotated rotate(int64_t grace) {
    auto r = rotation_.rotate(kConfId, grace);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : SecretRotation::Rotated{};
  }
  bool active(const std::string& token) {
    auto r = server_.post(server_.introspection, form_encode({{"token", token}}),
                          basic(kConfId, current_));
    return r.status == 200 && json_of(r).at("active") == true;
  }
  std::vector<AuditEvent> events_of(const std::string& type) {
    std::vector<AuditEvent> out;
    for (const auto& e : events_) {
      if (e.type == type) out.push_back(e);
    }
    return out;
  }

  AuthorizationServer server_;
  SecretUsage usage_;
  std::vector<AuditEvent> events_;
  int announced_ = 0;
  SecretRotation rotation_{*server_.store, server_.random, server_.clock, [this] { ++announced_; },
                           [this](AuditEvent e) { events_.push_back(std::move(e)); }};
  std::string current_ = kConfSecret;
};

TEST_F(SecretRotationTest, BothSecretsWorkDuringTheGraceAndTheOldOneStopsAtItsExpiry) {
  auto r = rotate(100);
  current_ = r.client_secret;
  EXPECT_EQ(r.client_id, kConfId);
  EXPECT_TRUE(r.client_secret.starts_with("sps_"));
  EXPECT_EQ(r.previous_secret_expires_at, kStart + 100);
  EXPECT_TRUE(works(kConfSecret));
  EXPECT_TRUE(works(r.client_secret));
  server_.clock.advance(99);
  EXPECT_TRUE(works(kConfSecret));
  server_.clock.advance(1);  // now == expires_at: stopped
  expect_refused(kConfSecret);
  EXPECT_TRUE(works(r.client_secret));
  expect_refused("not-a-secret");
  // Basic and client_secret_post alike.
  auto post = server_.token(form_encode({{"grant_type", "client_credentials"},
                                         {"client_id", kConfId},
                                         {"client_secret", r.client_secret}}));
  EXPECT_EQ(post.status, 200) << post.body;
  // The rotation is in the audit stream, without the secret.
  auto rotated = events_of("client_secret_rotated");
  ASSERT_EQ(rotated.size(), 1u);
  EXPECT_EQ(rotated[0].client_id, kConfId);
  EXPECT_EQ(rotated[0].detail.find(r.client_secret), std::string::npos);
  EXPECT_EQ(announced_, 0);  // a grace period revokes nothing
}

TEST_F(SecretRotationTest, ASecondRotationEndsTheRetiringSecretAtOnce) {
  auto second = rotate(100);
  auto third = rotate(100);
  current_ = third.client_secret;
  expect_refused(kConfSecret);  // was retiring: ended by the second rotation
  EXPECT_TRUE(works(second.client_secret));
  EXPECT_TRUE(works(third.client_secret));
  auto live = rotation_.live_secrets(kConfId);
  ASSERT_TRUE(live.ok());
  ASSERT_EQ(live->size(), 2u);
  EXPECT_EQ((*live)[0].expires_at, 0);  // current first
  EXPECT_EQ((*live)[1].expires_at, kStart + 100);
  for (int i = 0; i < 5; ++i) {
    server_.clock.advance(SecretRotation::kRotationWindowSeconds);  // under the per-app limit
    rotate(100);
  }
  EXPECT_EQ(rotation_.live_secrets(kConfId)->size(), 2u);
}

TEST_F(SecretRotationTest, AHardCutRefusesTheOldSecretAndTheTokensMintedBeforeIt) {
  auto before = json_of(cc(kConfSecret));
  const std::string old_token(before.at("access_token").as_string());
  auto user = server_.conf_tokens();  // a person's tokens for the same app
  const std::string user_access(user.at("access_token").as_string());
  const std::string user_refresh(user.at("refresh_token").as_string());
  auto r = rotate(0);
  current_ = r.client_secret;
  EXPECT_EQ(r.previous_secret_expires_at, kStart);
  EXPECT_EQ(announced_, 1);  // this node's revocation set is told before rotate() returns
  expect_refused(kConfSecret);
  // The cut, as every node's revocation feed reads it: through the second after the rotation
  // (a token of the old secret signed just after the commit). rotate() returned at once
  // (issue15-fix:rotation-b: no wait on a pool thread).
  auto cuts = server_.store->client_cuts_since(kStart);
  ASSERT_TRUE(cuts.ok());
  ASSERT_EQ(cuts->size(), 1u);
  EXPECT_EQ((*cuts)[0], std::make_pair(kConfId, kStart + 1));
  EXPECT_EQ(server_.clock.now(), kStart);
  server_.revoked.add_client_cut(kConfId, (*cuts)[0].second);
  EXPECT_FALSE(active(old_token));
  EXPECT_FALSE(active(user_access));
  // A token minted with the new secret in the cut's own second is not caught by it: its iat
  // is after the cut.
  auto after = cc(r.client_secret);
  ASSERT_EQ(after.status, 200);
  EXPECT_TRUE(active(std::string(json_of(after).at("access_token").as_string())));
  // The refresh token survives, for the new secret only.
  const std::string body =
      form_encode({{"grant_type", "refresh_token"}, {"refresh_token", user_refresh}});
  EXPECT_EQ(server_.token(body, basic(kConfId, kConfSecret)).status, 401);
  auto refreshed = server_.token(body, basic(kConfId, r.client_secret));
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  EXPECT_TRUE(active(std::string(json_of(refreshed).at("access_token").as_string())));
}

// issue15-fix:rotation-b. A token minted with the new secret right after a hard cut carries
// iat = cut + 1, ahead of the clock; a second hard cut in the same second (that secret leaked
// too) still covers it: a cut is never less than the previous one + 1.
TEST_F(SecretRotationTest, ASecondHardCutInTheSameSecondCoversTheTokensOfTheFirstsSecret) {
  auto first = rotate(0);
  current_ = first.client_secret;
  auto between = cc(first.client_secret);
  ASSERT_EQ(between.status, 200);
  const std::string token(json_of(between).at("access_token").as_string());
  auto second = rotate(0);
  current_ = second.client_secret;
  const int64_t cut = server_.store->find_client(kConfId)->tokens_cut_at;
  server_.revoked.add_client_cut(kConfId, cut);
  EXPECT_FALSE(active(token));
  auto after = cc(second.client_secret);
  ASSERT_EQ(after.status, 200);
  EXPECT_TRUE(active(std::string(json_of(after).at("access_token").as_string())));
}

// issue15-fix:rotation-b. Rotations are limited per app: the sixth within ten minutes is
// refused with a sentence, writes nothing (the current secret stays), and another app is not
// affected; once the window has passed the app may rotate again.
TEST_F(SecretRotationTest, RotationsAreLimitedPerApp) {
  std::string current = kConfSecret;
  for (int i = 0; i < SecretRotation::kMaxRotationsPerWindow; ++i) {
    current = rotate(i % 2 == 0 ? 0 : 100).client_secret;
    server_.clock.advance(10);
  }
  auto refused = rotation_.rotate(kConfId, 0);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  EXPECT_NE(refused.error().message.find("wait a few minutes"), std::string::npos);
  EXPECT_TRUE(works(current));  // nothing was cut
  EXPECT_EQ(events_of("client_secret_rotated").size(),
            static_cast<size_t>(SecretRotation::kMaxRotationsPerWindow));
  EXPECT_TRUE(rotation_.rotate(kOtherId, 100).ok());  // another app is not limited
  server_.clock.advance(SecretRotation::kRotationWindowSeconds);
  EXPECT_TRUE(rotation_.rotate(kConfId, 100).ok());
}

// issue15-fix:rotation. The race the cut's one-second margin did not close: a request
// authenticates with the old secret, then its grant's store write takes longer than the
// margin while a hard cut commits. The token it would sign carries an iat past the cut's, so
// the cut would not refuse it: the token endpoint must refuse the request instead (the secret
// it authenticated with is gone) and sign nothing. Driven step by step: authenticate, cut,
// the slow write (the clock moves on), then the grant signs.
TEST_F(SecretRotationTest, AHardCutBetweenAuthenticationAndSigningRefusesTheRequest) {
  auto user = server_.conf_tokens();  // a refresh token of the app, before the cut
  const std::string user_refresh(user.at("refresh_token").as_string());
  for (const std::string& body :
       {std::string("grant_type=client_credentials&scope=streaming"),
        form_encode({{"grant_type", "refresh_token"}, {"refresh_token", user_refresh}})}) {
    SCOPED_TRACE(body);
    FormCall call;
    call.authorization = basic(kConfId, current_)[0].second;  // the secret before this cut
    call.form = *Form::parse(body);
    server_.tokens.choose(call);
    ASSERT_NE(call.grant, nullptr);
    auto authenticated = authenticate_client(server_.services, call.authorization, call.form);
    ASSERT_TRUE(authenticated.ok());  // the old secret, before the cut
    auto r = rotate(0);
    current_ = r.client_secret;
    server_.clock.advance(5);  // the grant's store write is slow
    auto answer = server_.tokens.answer(call, *authenticated);
    EXPECT_EQ(answer.status, 401) << answer.body;
    EXPECT_EQ(error_of(answer), WireError("invalid_client", "client authentication failed"));
    EXPECT_EQ(header_of(answer, "WWW-Authenticate").rfind("Basic", 0), 0u);
    EXPECT_EQ(answer.body.find("access_token"), std::string::npos);
  }
}

// The same check does not refuse what the cut does not concern: a request that authenticated
// with the new secret, or with a retiring secret still in its grace, signs as before.
TEST_F(SecretRotationTest, ARotationWithGraceBetweenAuthenticationAndSigningRefusesNothing) {
  FormCall call;
  call.authorization = basic(kConfId, kConfSecret)[0].second;
  call.form = *Form::parse("grant_type=client_credentials&scope=streaming");
  server_.tokens.choose(call);
  auto authenticated = authenticate_client(server_.services, call.authorization, call.form);
  ASSERT_TRUE(authenticated.ok());
  auto r = rotate(3600);
  current_ = r.client_secret;
  server_.clock.advance(5);
  auto answer = server_.tokens.answer(call, *authenticated);
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_TRUE(active(std::string(json_of(answer).at("access_token").as_string())));
}

// A suspension (the sibling of a hard cut: its watermark refuses the tokens issued up to it
// plus a slack) that commits between authentication and signing refuses the request too.
TEST_F(SecretRotationTest, ASuspensionBetweenAuthenticationAndSigningRefusesTheRequest) {
  FormCall call;
  call.form = *Form::parse("grant_type=client_credentials&scope=streaming&client_id=" + kConfId +
                           "&client_secret=" + percent_encode(kConfSecret));
  server_.tokens.choose(call);
  auto authenticated = authenticate_client(server_.services, call.authorization, call.form);
  ASSERT_TRUE(authenticated.ok());
  ASSERT_TRUE(server_.store->set_client_suspension(kConfId, kStart, "leaked secret").ok());
  server_.clock.advance(60);  // past any slack
  auto answer = server_.tokens.answer(call, *authenticated);
  EXPECT_EQ(answer.status, 401) << answer.body;
  EXPECT_EQ(error_of(answer), WireError("invalid_client", "this app is suspended: leaked secret"));
  EXPECT_EQ(header_of(answer, "WWW-Authenticate"), "");  // client_secret_post: no Basic
}

// issue17:cc-inline. Client credentials answered from memory read the client once, after the
// token's iat was fixed (AuthenticatedClient::read_since): a hard cut committed after that
// read has a time at or after the iat, so it covers the token signed however late.
TEST_F(SecretRotationTest, AHardCutAfterAnAuthenticationFromMemoryCoversTheTokenItSigns) {
  ASSERT_TRUE(works(kConfSecret));  // the client is in memory now
  FormCall call;
  call.authorization = basic(kConfId, kConfSecret)[0].second;
  call.form = *Form::parse("grant_type=client_credentials&scope=streaming");
  server_.tokens.choose(call);
  ASSERT_TRUE(call.from_memory);
  auto authenticated =
      authenticate_client_in_memory(server_.services, call.authorization, call.form, "");
  ASSERT_TRUE(authenticated.has_value() && authenticated->ok());
  const int64_t read_since = (*authenticated)->read_since.value_or(0);
  EXPECT_EQ(read_since, kStart);
  current_ = rotate(0).client_secret;
  server_.clock.advance(5);  // signing comes late
  auto answer = server_.tokens.answer(call, **authenticated);
  ASSERT_EQ(answer.status, 200) << answer.body;
  const std::string token(json_of(answer).at("access_token").as_string());
  auto claims = verify_access_token(
      *server_.services.keys.get(), token,
      {"https://issuer.example", "https://issuer.example/v1", server_.clock.now(), 10});
  ASSERT_TRUE(claims.ok()) << claims.error().message;
  EXPECT_EQ(claims->iat, read_since);
  const int64_t cut = server_.store->find_client(kConfId)->tokens_cut_at;
  EXPECT_GE(cut, claims->iat);
  server_.revoked.add_client_cut(kConfId, cut);
  EXPECT_TRUE(server_.revoked.covers("", kConfId, claims->jti, claims->iat));
  EXPECT_FALSE(active(token));
}

// A node whose clock runs behind the one that made the cut still mints tokens the cut does
// not catch: their iat is the cut's next second (TokenIssuer), within the verifier's leeway.
TEST_F(SecretRotationTest, ATokenMintedOnALaggingNodeAfterTheCutIsIssuedAfterIt) {
  auto r = rotate(0);
  const int64_t cut = server_.store->find_client(kConfId)->tokens_cut_at;
  EXPECT_EQ(cut, kStart + 1);
  server_.clock.advance(-5);  // this node is 5 s behind
  auto minted = cc(r.client_secret);
  ASSERT_EQ(minted.status, 200);
  auto claims = verify_access_token(
      *server_.services.keys.get(), std::string(json_of(minted).at("access_token").as_string()),
      {"https://issuer.example", "https://issuer.example/v1", server_.clock.now(), 10});
  ASSERT_TRUE(claims.ok()) << claims.error().message;
  EXPECT_EQ(claims->iat, cut + 1);
  // Its lifetime counts from its issue, on this node's clock (issue15-fix:suspension: a
  // suspension's cut can be the clock skew ahead); "nbf" says when it was issued.
  EXPECT_EQ(claims->exp, server_.clock.now() + 3600);
  const std::string token(json_of(minted).at("access_token").as_string());
  EXPECT_NE(
      base64url_decode(token.substr(token.find('.') + 1, token.rfind('.') - token.find('.') - 1))
          ->find("\"nbf\":" + std::to_string(server_.clock.now())),
      std::string::npos);
  server_.revoked.add_client_cut(kConfId, cut);
  EXPECT_FALSE(server_.revoked.covers("", kConfId, claims->jti, claims->iat));
}

TEST_F(SecretRotationTest, ARetiringSecretsUseIsAuditedOncePerIpPerMinute) {
  auto r = rotate(3600);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(works(kConfSecret));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(works(r.client_secret));  // the current one: no event
  auto used = events_of("retiring_secret_used");
  ASSERT_EQ(used.size(), 1u);
  EXPECT_EQ(used[0].client_id, kConfId);
  EXPECT_EQ(used[0].ip, "127.0.0.1");
  EXPECT_EQ(used[0].at, kStart);
  EXPECT_EQ(used[0].detail.find(kConfSecret), std::string::npos);
  EXPECT_NE(used[0].detail.find("stops working at"), std::string::npos);
  // From another IP: its own event.
  auto other = authenticate_client(server_.services, basic(kConfId, kConfSecret)[0].second, Form{},
                                   "192.0.2.7");
  ASSERT_TRUE(other.ok());
  ASSERT_EQ(events_of("retiring_secret_used").size(), 2u);
  EXPECT_EQ(events_of("retiring_secret_used")[1].ip, "192.0.2.7");
  server_.clock.advance(60);
  ASSERT_TRUE(works(kConfSecret));
  EXPECT_EQ(events_of("retiring_secret_used").size(), 3u);
}

// Last use per live secret: noted in memory, written in one batch, read back per secret.
TEST_F(SecretRotationTest, LastUseAndDistinctIpsReachTheStoreInABatch) {
  auto r = rotate(3600);
  ASSERT_TRUE(works(kConfSecret));  // the retiring one, from 127.0.0.1
  server_.clock.advance(10);
  ASSERT_TRUE(works(r.client_secret));
  ASSERT_TRUE(authenticate_client(server_.services, basic(kConfId, r.client_secret)[0].second,
                                  Form{}, "192.0.2.7")
                  .ok());
  auto before = rotation_.live_secrets(kConfId);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ((*before)[0].last_used_at, 0);  // nothing written on the request path
  ASSERT_TRUE(server_.store->record_secret_usage(usage_.drain(), server_.clock.now()).ok());
  auto live = rotation_.live_secrets(kConfId);
  ASSERT_TRUE(live.ok());
  ASSERT_EQ(live->size(), 2u);
  EXPECT_EQ((*live)[0].last_used_at, kStart + 10);
  EXPECT_EQ((*live)[0].distinct_ips_last_day, 2);
  EXPECT_EQ((*live)[1].last_used_at, kStart);
  EXPECT_EQ((*live)[1].distinct_ips_last_day, 1);
}

TEST_F(SecretRotationTest, RefusesWhatCannotBeRotated) {
  EXPECT_EQ(rotation_.rotate(kPublicId, 100).error().code, ErrorCode::kConflict);
  EXPECT_EQ(rotation_.rotate("no-such-app", 100).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(rotation_.rotate(kConfId, -1).error().code, ErrorCode::kInvalid);
  EXPECT_EQ(rotation_.rotate(kConfId, SecretRotation::kMaxGraceSeconds + 1).error().code,
            ErrorCode::kInvalid);
  EXPECT_TRUE(works(kConfSecret));  // nothing changed
  EXPECT_TRUE(events_of("client_secret_rotated").empty());
}

TEST(ParseGrace, AcceptsDurationsUpToThirtyDays) {
  EXPECT_EQ(parse_grace("24h"), 86400);
  EXPECT_EQ(parse_grace("3s"), 3);
  EXPECT_EQ(parse_grace("30m"), 1800);
  EXPECT_EQ(parse_grace("7d"), 7 * 86400);
  EXPECT_EQ(parse_grace("0"), 0);
  EXPECT_EQ(parse_grace("90"), 90);
  EXPECT_EQ(parse_grace("30d"), SecretRotation::kMaxGraceSeconds);
  for (const char* bad : {"", "h", "-1s", "31d", "1w", "1.5h", "12 h", "99999999999", "0x10"}) {
    EXPECT_EQ(parse_grace(bad), std::nullopt) << bad;
  }
}

// issue17:cc-inline. A retiring secret's use may write an audit event, a blocking write: it is
// left to the worker thread, nothing noted from memory; the current secret is answered there.
TEST_F(SecretRotationTest, ARetiringSecretIsNeverAnsweredFromMemory) {
  const std::string old = current_;
  const std::string fresh = rotate(3600).client_secret;
  EXPECT_TRUE(works(old));  // the worker's answer, audited
  EXPECT_EQ(events_of("retiring_secret_used").size(), 1u);
  usage_.drain();
  auto retiring = authenticate_client_in_memory(server_.services, basic(kConfId, old)[0].second,
                                                Form{}, "10.0.0.9");
  EXPECT_FALSE(retiring.has_value());
  EXPECT_TRUE(usage_.drain().empty());  // nothing noted
  auto current = authenticate_client_in_memory(server_.services, basic(kConfId, fresh)[0].second,
                                               Form{}, "10.0.0.9");
  ASSERT_TRUE(current.has_value());
  EXPECT_TRUE(current->ok());
  EXPECT_EQ(usage_.drain().size(), 1u);
}

}  // namespace
}  // namespace stagepass::oauth::testing
