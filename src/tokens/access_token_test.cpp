#include "tokens/access_token.hpp"

#include <gtest/gtest.h>

#include <optional>

#include "core/base64url.hpp"
#include "core/random.hpp"
#include "crypto/crypto.hpp"

namespace stagepass {
namespace {

class AccessTokenTest : public ::testing::Test {
 protected:
  AccessTokenTest() {
    auto kp = crypto::ed25519_generate();
    keys_ = std::make_unique<Keyring>(
        std::vector<OpenKey>{{"k1", "EdDSA", kp.public_key, kp.secret_key}});
    claims_ = {"https://iss", "user", "https://iss/v1", "client", "streaming",
               1000,          4600,   "jti1",           "gid1"};
  }
  VerifyOptions opts(int64_t now) { return {"https://iss", "https://iss/v1", now, 30}; }

  SystemRandom rng_;
  std::unique_ptr<Keyring> keys_;
  AccessClaims claims_;
};

TEST_F(AccessTokenTest, RoundTrips) {
  auto jwt = mint_access_token(*keys_, claims_);
  auto c = verify_access_token(*keys_, jwt, opts(2000));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->sub, "user");
  EXPECT_EQ(c->gid, "gid1");
  EXPECT_EQ(c->scope, "streaming");
}

// The bytes a verifier decodes: the header the key's Keyring encoded once, the claims in
// their order with JSON escaping, each optional claim only when set, and a signature of the
// two over the key.
TEST_F(AccessTokenTest, TheHeaderAndClaimsAreTheseBytes) {
  claims_.scope = "streaming \"quoted\"";
  claims_.rate_limit = 300;
  claims_.allowlisted = false;
  claims_.nbf = 990;
  const std::string jwt = mint_access_token(*keys_, claims_);
  const size_t dot = jwt.find('.');
  const size_t last = jwt.rfind('.');
  EXPECT_EQ(base64url_decode(jwt.substr(0, dot)),
            std::optional<std::string>(R"({"alg":"EdDSA","typ":"at+jwt","kid":"k1"})"));
  EXPECT_EQ(base64url_decode(jwt.substr(dot + 1, last - dot - 1)),
            std::optional<std::string>(
                R"({"iss":"https://iss","sub":"user","aud":"https://iss/v1","exp":4600,)"
                R"("iat":1000,"jti":"jti1","client_id":"client","scope":"streaming \"quoted\"",)"
                R"("nbf":990,"gid":"gid1","rl":300,"al":false})"));
  auto sig = base64url_decode(jwt.substr(last + 1));
  ASSERT_TRUE(sig.has_value());
  EXPECT_TRUE(crypto::ed25519_verify(keys_->signing_key(0).public_key, jwt.substr(0, last), *sig));
}

// Signs `payload_json` as the issuer would (a real key, a real header).
std::string sign_payload(const Keyring& keys, const std::string& payload_json) {
  std::string input = base64url_encode(R"({"alg":"EdDSA","typ":"at+jwt","kid":"k1"})") + "." +
                      base64url_encode(payload_json);
  return input + "." +
         base64url_encode(crypto::ed25519_sign(keys.signing_key(0).secret_key, input));
}

TEST_F(AccessTokenTest, RejectsExpiredTamperedAndForeign) {
  auto jwt = mint_access_token(*keys_, claims_);
  EXPECT_EQ(verify_access_token(*keys_, jwt, opts(4600 + 31)).error().code, ErrorCode::kExpired);
  EXPECT_TRUE(verify_access_token(*keys_, jwt, opts(4600 + 29)).ok());  // inside the leeway
  auto tampered = jwt;
  tampered[jwt.find('.') + 5] ^= 1;
  EXPECT_FALSE(verify_access_token(*keys_, tampered, opts(2000)).ok());
  auto o = opts(2000);
  o.audience = "https://other/v1";
  EXPECT_EQ(verify_access_token(*keys_, jwt, o).error().code, ErrorCode::kWrongAudience);
  EXPECT_EQ(verify_access_token(*keys_, "a.b", o).error().code, ErrorCode::kMalformed);
}

// Each refusal has its own code (the Web API puts it on the wire, RFC 6750 §3).
TEST_F(AccessTokenTest, EachRefusalHasItsOwnCode) {
  auto jwt = mint_access_token(*keys_, claims_);
  auto o = opts(2000);
  o.issuer = "https://someone-else";
  EXPECT_EQ(verify_access_token(*keys_, jwt, o).error().code, ErrorCode::kWrongIssuer);
  claims_.jti = "jti2";  // a signature of another token, well-formed, not of this one
  auto other = mint_access_token(*keys_, claims_);
  auto sig = jwt.substr(0, jwt.rfind('.')) + other.substr(other.rfind('.'));
  EXPECT_EQ(verify_access_token(*keys_, sig, opts(2000)).error().code, ErrorCode::kSignature);
  auto other_key = std::make_shared<const Keyring>(
      std::vector<OpenKey>{{"k9", "EdDSA", crypto::ed25519_generate().public_key, {}}});
  EXPECT_EQ(verify_access_token(*other_key, jwt, opts(2000)).error().code, ErrorCode::kUnknownKey);
  const std::string base =
      R"({"iss":"https://iss","sub":"user","aud":"https://iss/v1","exp":4600,"iat":1000,)"
      R"("client_id":"client","scope":"",)";
  auto early = sign_payload(*keys_, base + R"("jti":"j","nbf":3000})");
  EXPECT_EQ(verify_access_token(*keys_, early, opts(2000)).error().code, ErrorCode::kNotYetValid);
  EXPECT_TRUE(verify_access_token(*keys_, early, opts(2971)).ok());  // inside the leeway
  auto no_jti = sign_payload(*keys_, base + R"("x":1})");
  EXPECT_EQ(verify_access_token(*keys_, no_jti, opts(2000)).error().code, ErrorCode::kClaims);
}

// The app's rate limit travels as the private claim "rl": written only when the app has its
// own, read back as is; absent it reads 0 (the resource server's default).
TEST_F(AccessTokenTest, CarriesTheAppsRateLimitOnlyWhenItHasOne) {
  auto without = mint_access_token(*keys_, claims_);
  auto payload = base64url_decode(
      without.substr(without.find('.') + 1, without.rfind('.') - without.find('.') - 1));
  ASSERT_TRUE(payload);
  EXPECT_EQ(payload->find("\"rl\""), std::string::npos) << *payload;
  EXPECT_EQ(verify_access_token(*keys_, without, opts(2000))->rate_limit, 0);

  claims_.rate_limit = 25;
  auto with = mint_access_token(*keys_, claims_);
  payload = base64url_decode(with.substr(with.find('.') + 1, with.rfind('.') - with.find('.') - 1));
  EXPECT_NE(payload->find("\"rl\":25"), std::string::npos) << *payload;
  auto c = verify_access_token(*keys_, with, opts(2000));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->rate_limit, 25);
}

// A well-signed "rl" that is no positive integer is no limit anyone can apply: refused.
TEST_F(AccessTokenTest, RefusesAnRlThatIsNotAPositiveInteger) {
  const std::string base =
      R"({"iss":"https://iss","sub":"user","aud":"https://iss/v1","exp":4600,"iat":1000,)"
      R"("jti":"j","client_id":"client","scope":"","rl":)";
  ASSERT_TRUE(verify_access_token(*keys_, sign_payload(*keys_, base + "7}"), opts(2000)).ok());
  for (std::string bad : {"0", "-5", "1.5", R"("10")", "null", "[]"}) {
    auto r = verify_access_token(*keys_, sign_payload(*keys_, base + bad + "}"), opts(2000));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kClaims) << bad;
  }
}

// issue15:devmode. Whether the person is on a development-mode app's allowlist travels as the
// private claim "al": written only when the issuer decided it, read back as is; absent it
// reads nullopt (an app in extended mode: nothing to enforce).
TEST_F(AccessTokenTest, CarriesTheAllowlistDecisionOnlyWhenTheIssuerMadeOne) {
  auto without = mint_access_token(*keys_, claims_);
  EXPECT_FALSE(verify_access_token(*keys_, without, opts(2000))->allowlisted.has_value());
  for (bool listed : {false, true}) {
    claims_.allowlisted = listed;
    auto with = mint_access_token(*keys_, claims_);
    auto payload =
        base64url_decode(with.substr(with.find('.') + 1, with.rfind('.') - with.find('.') - 1));
    ASSERT_TRUE(payload);
    EXPECT_NE(payload->find(listed ? "\"al\":true" : "\"al\":false"), std::string::npos)
        << *payload;
    auto c = verify_access_token(*keys_, with, opts(2000));
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->allowlisted, std::optional<bool>(listed));
  }
}

// A well-signed "al" that is no boolean says nothing a resource server can apply: refused,
// never read as "allowed".
TEST_F(AccessTokenTest, RefusesAnAlThatIsNotABoolean) {
  const std::string base =
      R"({"iss":"https://iss","sub":"user","aud":"https://iss/v1","exp":4600,"iat":1000,)"
      R"("jti":"j","client_id":"client","scope":"","al":)";
  ASSERT_TRUE(verify_access_token(*keys_, sign_payload(*keys_, base + "false}"), opts(2000)).ok());
  for (std::string bad : {"0", "1", R"("true")", "null", "[]", "{}"}) {
    auto r = verify_access_token(*keys_, sign_payload(*keys_, base + bad + "}"), opts(2000));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kClaims) << bad;
  }
}

TEST_F(AccessTokenTest, RejectsACriticalExtensionEvenWhenWellSigned) {
  // RFC 7515 §4.1.11: a "crit" naming anything this verifier does not implement is invalid.
  auto jwt = mint_access_token(*keys_, claims_);
  std::string payload = jwt.substr(jwt.find('.') + 1, jwt.rfind('.') - jwt.find('.') - 1);
  for (std::string crit : {R"(["x-unknown"])", R"(["exp"])", "[]", R"("x-unknown")"}) {
    std::string header = base64url_encode(R"({"alg":"EdDSA","typ":"at+jwt","kid":"k1","crit":)" +
                                          crit + R"(,"x-unknown":true})");
    std::string input = header + "." + payload;
    std::string forged =
        input + "." +
        base64url_encode(crypto::ed25519_sign(keys_->signing_key(0).secret_key, input));
    auto r = verify_access_token(*keys_, forged, opts(2000));
    ASSERT_FALSE(r.ok()) << crit;
    EXPECT_EQ(r.error().code, ErrorCode::kMalformed) << crit;
  }
}

// RFC 7515 §2: no '=' padding in a compact JWS. A padded copy of a real token (in any
// segment) is another spelling of it, not the token that was issued.
TEST_F(AccessTokenTest, RefusesPaddedCopiesOfARealToken) {
  auto jwt = mint_access_token(*keys_, claims_);
  ASSERT_TRUE(verify_access_token(*keys_, jwt, opts(2000)).ok());
  const size_t d1 = jwt.find('.'), d2 = jwt.rfind('.');
  for (std::string padded : {jwt + "=", jwt + "==", jwt.substr(0, d1) + "=" + jwt.substr(d1),
                             jwt.substr(0, d2) + "==" + jwt.substr(d2)}) {
    auto r = verify_access_token(*keys_, padded, opts(2000));
    ASSERT_FALSE(r.ok()) << padded;
    EXPECT_EQ(r.error().code, ErrorCode::kMalformed) << padded;
  }
}

// Found by fuzz/fuzz_jwt: exp + leeway overflowed for an exp near INT64_MAX (UB; in practice
// the sum wrapped negative and a far-future token was reported expired).
TEST_F(AccessTokenTest, FarFutureExpiryNeitherOverflowsNorExpires) {
  claims_.exp = INT64_MAX;
  auto c = verify_access_token(*keys_, mint_access_token(*keys_, claims_), opts(2000));
  ASSERT_TRUE(c.ok()) << c.error().code;
  EXPECT_EQ(c->exp, INT64_MAX);
  claims_.exp = INT64_MIN + 1;  // long past: expired, without underflow either
  EXPECT_EQ(
      verify_access_token(*keys_, mint_access_token(*keys_, claims_), opts(2000)).error().code,
      ErrorCode::kExpired);
}

// Found by fuzz/fuzz_jwt: a '_' in the signature could be respelled as any byte >= 0x80 and
// the token still verified (another string for the same token). Now it is malformed.
TEST_F(AccessTokenTest, SignatureSpelledWithNonAlphabetBytesIsMalformed) {
  std::string jwt;
  for (int i = 0; i < 100 && jwt.find('_', jwt.rfind('.')) == std::string::npos; ++i) {
    claims_.jti = "jti" + std::to_string(i);
    jwt = mint_access_token(*keys_, claims_);
  }
  size_t at = jwt.find('_', jwt.rfind('.'));
  ASSERT_NE(at, std::string::npos) << "no '_' in 100 signatures";
  jwt[at] = '\x93';
  auto r = verify_access_token(*keys_, jwt, opts(2000));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kMalformed);
}

TEST_F(AccessTokenTest, JwksPublishesThePublicKey) {
  auto jwks = keys_->jwks_json(0);
  EXPECT_NE(jwks.find("\"kid\":\"k1\""), std::string::npos);
  EXPECT_NE(jwks.find("\"use\":\"sig\""), std::string::npos);
  EXPECT_NE(jwks.find("\"crv\":\"Ed25519\""), std::string::npos);
}

}  // namespace
}  // namespace stagepass
