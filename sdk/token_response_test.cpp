#include "token_response.hpp"

#include <gtest/gtest.h>

namespace stagepass::sdk::detail {
namespace {

const SystemTime kNow = SystemTime{} + std::chrono::hours(500000);

HttpResponse answer(int status, std::string body, std::string challenge = {}) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  if (!challenge.empty()) r.headers["www-authenticate"] = challenge;
  return r;
}

TEST(TokenResponse, ReadsASuccessfulAnswer) {
  auto t = parse_token_response(
      answer(200, R"({"access_token":"at","token_type":"bearer","expires_in":120,)"
                  R"("refresh_token":"rt","scope":"a b"})"),
      kNow);
  ASSERT_TRUE(t.ok()) << t.error().describe();
  EXPECT_EQ(t->access_token, "at");
  EXPECT_EQ(t->refresh_token, "rt");
  EXPECT_EQ(t->scope, "a b");
  EXPECT_EQ(t->token_type, "Bearer");
  EXPECT_EQ(t->expires_at, kNow + std::chrono::seconds(120));
}

TEST(TokenResponse, RefusesWhatIsNotABearerToken) {
  EXPECT_EQ(parse_token_response(answer(200, R"({"token_type":"Bearer"})"), kNow).error().kind,
            ErrorKind::protocol);
  EXPECT_EQ(parse_token_response(answer(200, R"({"access_token":"a","token_type":"mac"})"), kNow)
                .error()
                .kind,
            ErrorKind::protocol);
  EXPECT_EQ(parse_token_response(answer(200, "<html>"), kNow).error().kind, ErrorKind::protocol);
}

TEST(TokenResponse, CarriesTheOAuthErrorCode) {
  auto e = parse_token_response(
      answer(400, R"({"error":"invalid_grant","error_description":"refresh token revoked"})"),
      kNow);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().kind, ErrorKind::oauth);
  EXPECT_EQ(e.error().code, "invalid_grant");
  EXPECT_EQ(e.error().status, 400);
  EXPECT_EQ(e.error().message, "invalid_grant: refresh token revoked");
  EXPECT_EQ(parse_token_response(answer(502, "Bad gateway"), kNow).error().kind,
            ErrorKind::protocol);
}

TEST(TokenResponse, ARefreshWithoutARefreshTokenKeepsTheOldOne) {
  TokenSet old{"at1", "rt1", "Bearer", "a b", kNow, {}};
  TokenSet fresh{"at2", "", "Bearer", "", kNow + std::chrono::hours(1), {}};
  auto kept = merge_refreshed(old, fresh);
  EXPECT_EQ(kept.access_token, "at2");
  EXPECT_EQ(kept.refresh_token, "rt1");
  EXPECT_EQ(kept.scope, "a b");
  fresh.refresh_token = "rt2";
  EXPECT_EQ(merge_refreshed(old, fresh).refresh_token, "rt2");
}

TEST(TokenSet, RefreshesWithinTheSkewButNotEveryCallForShortTokens) {
  using std::chrono::seconds;
  TokenSet hour{"at", "rt", "Bearer", "", kNow + seconds(3600), kNow};
  EXPECT_FALSE(hour.needs_refresh(kNow + seconds(3539), seconds(60)));
  EXPECT_TRUE(hour.needs_refresh(kNow + seconds(3540), seconds(60)));
  // A 10 s token with a 60 s skew: refreshed after 5 s, not at once.
  TokenSet brief{"at", "rt", "Bearer", "", kNow + seconds(10), kNow};
  EXPECT_FALSE(brief.needs_refresh(kNow + seconds(4), seconds(60)));
  EXPECT_TRUE(brief.needs_refresh(kNow + seconds(5), seconds(60)));
  EXPECT_TRUE(TokenSet{}.needs_refresh(kNow, seconds(0)));
}

TEST(ApiError, ReadsSpotifysErrorObjectAndBearerChallenges) {
  auto e = api_error(answer(404, R"({"error":{"status":404,"message":"Resource not found"}})"));
  EXPECT_EQ(e.kind, ErrorKind::api);
  EXPECT_EQ(e.status, 404);
  EXPECT_EQ(e.message, "HTTP 404: Resource not found");
  auto u =
      api_error(answer(401, "", R"(Bearer error="invalid_token", error_description="expired")"));
  EXPECT_EQ(u.code, "invalid_token");
  EXPECT_EQ(u.message, "HTTP 401: expired");
}

TEST(PercentDecode, RejectsBrokenEscapes) {
  EXPECT_EQ(percent_decode("a%20b+c"), "a b c");
  EXPECT_EQ(percent_decode("%4"), std::nullopt);
  EXPECT_EQ(percent_decode("%zz"), std::nullopt);
  EXPECT_EQ(percent_encode("a b/é"), "a%20b%2F%C3%A9");
}

}  // namespace
}  // namespace stagepass::sdk::detail
