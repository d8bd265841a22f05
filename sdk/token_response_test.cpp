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

TokenSet with_expires_in(const std::string& value) {
  auto t = parse_token_response(
      answer(200, R"({"access_token":"at","token_type":"Bearer","expires_in":)" + value + "}"),
      kNow);
  EXPECT_TRUE(t.ok()) << value << ": " << t.error().describe();
  return t.ok() ? *t : TokenSet{};
}

TEST(TokenResponse, AHugeExpiresInNeverWrapsIntoThePast) {
  // now + 1e10 s overflows nanoseconds, 1e300 does not fit an integer, 2^64-1 read as signed
  // is -1: each once made expires_at a time in the past (every call refreshed) or was UB.
  for (const std::string value : {"1e10", "1e300", "18446744073709551615", "9223372036854775807",
                                  "9223372036854775808", "31536001", "1.5e9"}) {
    TokenSet t = with_expires_in(value);
    EXPECT_GT(t.expires_at, kNow) << value;
    EXPECT_EQ(t.expires_at, kNow + kMaxTokenLifetime) << value;
    EXPECT_FALSE(t.needs_refresh(kNow + std::chrono::hours(1), std::chrono::seconds(60))) << value;
  }
  EXPECT_EQ(with_expires_in("120.9").expires_at, kNow + std::chrono::seconds(120));
  for (const std::string value : {"-1", "-1e300", "-9223372036854775808", "0"}) {
    EXPECT_EQ(with_expires_in(value).expires_at, kNow) << value;
  }
  // 1e400 reads as infinity: not a lifetime.
  for (const std::string value : {"1e400", "-1e400"}) {
    auto t = parse_token_response(
        answer(200, R"({"access_token":"at","token_type":"Bearer","expires_in":)" + value + "}"),
        kNow);
    ASSERT_FALSE(t.ok()) << value;
    EXPECT_EQ(t.error().kind, ErrorKind::protocol) << value;
  }
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

TEST(TokenResponse, AnUnknownTokenTypeIsNamedAsOnePrintableLine) {
  auto e = parse_token_response(
      answer(200, R"({"access_token":"a","token_type":"mac\r\nstagepass-cli: ok\u001b[2J\u009b"})"),
      kNow);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().kind, ErrorKind::protocol);
  const std::string& m = e.error().message;
  EXPECT_NE(m.find("mac"), std::string::npos) << m;
  for (unsigned char c : m) EXPECT_TRUE(c >= 0x20 && c != 0x7f) << m;
  EXPECT_EQ(m.find("\xc2\x9b"), std::string::npos) << m;
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

TEST(TokenSet, AHugeRefreshSkewRefreshesRatherThanNever) {
  // A skew of 99999999999 s (stagepass-cli --refresh-skew 99999999999) overflowed when made
  // nanoseconds and, with no issued_at to cap it, wrapped so far that nothing was refreshed.
  using std::chrono::seconds;
  TokenSet unknown_age{"at", "rt", "Bearer", "", kNow + seconds(3600), {}};
  EXPECT_TRUE(unknown_age.needs_refresh(kNow, seconds(99999999999)));
  EXPECT_TRUE(unknown_age.needs_refresh(kNow, seconds::max()));
  TokenSet known_age{"at", "rt", "Bearer", "", kNow + seconds(3600), kNow};
  EXPECT_FALSE(known_age.needs_refresh(kNow + seconds(1799), seconds(99999999999)));
  EXPECT_TRUE(known_age.needs_refresh(kNow + seconds(1800), seconds(99999999999)));
  // A negative skew counts as none: refreshed at expiry, not after it.
  EXPECT_FALSE(unknown_age.needs_refresh(kNow + seconds(3599), seconds(-600)));
  EXPECT_TRUE(unknown_age.needs_refresh(kNow + seconds(3600), seconds::min()));
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
  // What the server sends: both the object's message and the challenge's reason.
  auto both =
      api_error(answer(401, R"({"error":{"status":401,"message":"The access token expired"}})",
                       R"(Bearer realm="stagepass", error="invalid_token", )"
                       R"(error_description="expired")"));
  EXPECT_EQ(both.code, "invalid_token");
  EXPECT_EQ(both.message, "HTTP 401: The access token expired");
}

// A 429's reason tells a program whether to wait seconds (RATE_LIMITED) or hours
// (QUOTA_EXCEEDED).
TEST(ApiError, KeepsTheReasonOfSpotifysErrorObject) {
  for (std::string reason : {"RATE_LIMITED", "QUOTA_EXCEEDED"}) {
    auto e = api_error(answer(
        429, R"({"error":{"status":429,"message":"slow down","reason":")" + reason + R"("}})"));
    EXPECT_EQ(e.code, reason);
    EXPECT_EQ(e.message, "HTTP 429: slow down");
  }
  EXPECT_EQ(api_error(answer(429, R"({"error":{"status":429,"message":"x"}})")).code, "");
}

TEST(PercentDecode, RejectsBrokenEscapes) {
  EXPECT_EQ(percent_decode("a%20b+c"), "a b c");
  EXPECT_EQ(percent_decode("%4"), std::nullopt);
  EXPECT_EQ(percent_decode("%zz"), std::nullopt);
  EXPECT_EQ(percent_encode("a b/é"), "a%20b%2F%C3%A9");
}

}  // namespace
}  // namespace stagepass::sdk::detail
