#include <gtest/gtest.h>

#include "core/base64url.hpp"
#include "core/random.hpp"
#include "core/text.hpp"
#include "crypto/crypto.hpp"
#include "oauth/error.hpp"
#include "oauth/pkce.hpp"
#include "oauth/redirect_uri.hpp"

namespace stagepass::oauth {
namespace {

// Request text quoted in an error_description keeps only [A-Za-z0-9._:/-]: no markup, no
// quotes, no spaces, whatever the client sent; at most 40 bytes of it.
// ("?" "?" keeps the compiler from reading trigraphs.)
TEST(QuoteInput, KeepsOnlyPlainCharactersAndIsBounded) {
  EXPECT_EQ(quote_input("user-read-email"), "'user-read-email'");
  EXPECT_EQ(quote_input("https://a.example/cb_1:x"), "'https://a.example/cb_1:x'");
  EXPECT_EQ(quote_input("<svg onload=alert(1)>"),
            "'?svg?onload?alert?1?"
            "?'");
  EXPECT_EQ(quote_input("a\"b'c\\d\r\n"),
            "'a?b?c?d?"
            "?'");
  EXPECT_EQ(quote_input("\xc3\xa9"),
            "'?"
            "?'");
  EXPECT_EQ(quote_input(std::string(100, 'x')), "'" + std::string(40, 'x') + "'...");
}

TEST(NoStore, ExactlyOneOfEachWhateverWasThere) {
  using Headers = std::vector<std::pair<std::string, std::string>>;
  // The values of `name`, whatever the case of the header's name.
  auto values = [](const http::Response& r, std::string_view name) {
    std::vector<std::string> out;
    for (const auto& [n, v] : r.headers) {
      if (iequals(n, name)) out.push_back(v);
    }
    return out;
  };
  using V = std::vector<std::string>;
  // Already right (what to_response builds): left exactly as it was.
  http::Response right = OAuthError::invalid_request("x").to_response();
  const Headers before = right.headers;
  add_no_store(right);
  EXPECT_EQ(right.headers, before);
  // Anything else ends with exactly one of each: a handler's own caching header beside a right
  // one, duplicates in any case, one of the two missing.
  const std::vector<Headers> wrong = {
      {{"cache-control", "public, max-age=300"},
       {"Cache-Control", "no-store"},
       {"Pragma", "no-cache"}},
      {{"Cache-Control", "no-store"}, {"CACHE-CONTROL", "no-store"}, {"Pragma", "no-cache"}},
      {{"Cache-Control", "no-store"}},
      {{"Pragma", "no-cache"}},
      {{"Pragma", "no-cache"}, {"PRAGMA", "no-cache"}, {"Cache-Control", "no-store"}},
      {{"Cache-Control", "no-store "}, {"Pragma", "no-cache"}},
      {},
  };
  for (const auto& headers : wrong) {
    http::Response r = http::Response::json(200, "{}");
    r.headers.insert(r.headers.end(), headers.begin(), headers.end());
    add_no_store(r);
    EXPECT_EQ(values(r, "Cache-Control"), V{"no-store"}) << headers.size();
    EXPECT_EQ(values(r, "Pragma"), V{"no-cache"}) << headers.size();
    EXPECT_EQ(values(r, "Content-Type"), V{"application/json"});
  }
}

TEST(RedirectUri, RegistrationRules) {
  EXPECT_FALSE(redirect_uri_problem("https://app.example/cb"));
  EXPECT_FALSE(redirect_uri_problem("http://127.0.0.1:8888/callback"));
  EXPECT_FALSE(redirect_uri_problem("http://[::1]/cb"));
  EXPECT_FALSE(redirect_uri_problem("com.example.app:/oauth"));
  EXPECT_TRUE(redirect_uri_problem("http://localhost:8888/cb"));
  EXPECT_TRUE(redirect_uri_problem("https://localhost/cb"));
  EXPECT_TRUE(redirect_uri_problem("http://app.example/cb"));
  EXPECT_TRUE(redirect_uri_problem("https://app.example/cb#frag"));
  EXPECT_TRUE(redirect_uri_problem("/relative"));
  EXPECT_TRUE(redirect_uri_problem("myapp:/cb"));
}

// An https redirect to a host that is this device in disguise does not identify the client
// (RFC 8252 §8.6): any app on the device can listen there. Every form a resolver or browser
// accepts for 127.0.0.0/8, ::1, the unspecified address or a localhost name counts.
TEST(RedirectUri, LoopbackInDisguiseDoesNotIdentifyTheClient) {
  const char* loopback[] = {
      "https://127.0.0.1/cb",
      "https://127.8.9.10:8443/cb",
      "https://2130706433/cb",
      "https://0x7f000001/cb",
      "https://0x7F.0.0.1/cb",
      "https://0177.0.0.1/cb",
      "https://127.1/cb",
      "https://127.0.1/cb",
      "https://127.0.0.1./cb",
      "https://[::1]/cb",
      "https://[0:0:0:0:0:0:0:1]/cb",
      "https://[::ffff:127.0.0.1]/cb",
      "https://[::ffff:7f00:1]/cb",
      "https://[::FFFF:127.1.2.3]:443/cb",
      "https://localhost/cb",
      "https://LOCALHOST./cb",
      "https://app.localhost/cb",
      "https://a.b.LocalHost./cb",
      "https://0.0.0.0/cb",
      "https://0/cb",
      "https://[::]/cb",
      "https://127%2E0%2E0%2E1/cb",
  };
  for (const char* uri : loopback) EXPECT_FALSE(redirect_uri_identifies_client(uri)) << uri;
  const char* remote[] = {
      "https://app.example/cb",       "https://128.0.0.1/cb",        "https://8.8.8.8/cb",
      "https://[2001:db8::1]/cb",     "https://[::ffff:8.8.8.8]/cb", "https://127.example/cb",
      "https://localhost.example/cb", "https://mylocalhost/cb",
  };
  for (const char* uri : remote) EXPECT_TRUE(redirect_uri_identifies_client(uri)) << uri;
  EXPECT_FALSE(redirect_uri_identifies_client("http://app.example/cb"));  // not https
  EXPECT_FALSE(redirect_uri_identifies_client("com.example.app:/cb"));
}

// A host a browser would map before resolving (UTS #46: full-width and other compatibility
// forms; WHATWG URL: percent-decoding) may be loopback in disguise: registration refuses any
// host other than plain ASCII [A-Za-z0-9.-] or a bracketed IPv6 address, and such a host,
// already registered, never identifies the client (fail closed).
TEST(RedirectUri, OnlyPlainAsciiHostsAreRegisteredOrIdentifyTheClient) {
  const char* disguised[] = {
      "https://１２７．０．０．１/cb",  // full-width digits and full stops
      "https://127。0。0。1/cb",        // ideographic full stop
      "https://ｌｏｃａｌｈｏｓｔ/cb",  // full-width letters
      "https://ＬＯＣＡＬＨＯＳＴ/cb",
      "https://app.ｌｏｃａｌｈｏｓｔ/cb",
      "https://①②⑦.0.0.1/cb",                                  // circled digits
      "https://%EF%BC%91%EF%BC%92%EF%BC%97%EF%BC%8E0.0.1/cb",  // percent-encoded "１２７．"
      "https://%ef%bd%8c%ef%bd%8f%ef%bd%83alhost/cb",          // "ｌｏｃalhost"
      "https://127%2E0%2E0%2E1/cb",
      "https://loc%61lhost/cb",
      "https://bücher.example/cb",  // an IDN not in its xn-- form
      "https://app_1.example/cb",
      "https://[fe80::1%25eth0]/cb",  // zone id
      "https://[not-an-address]/cb",
      "http://１２７．０．０．１:8080/cb",
      "com.example.app://ｌｏｃａｌｈｏｓｔ/cb",
  };
  for (const char* uri : disguised) {
    EXPECT_TRUE(redirect_uri_problem(uri)) << uri;
    EXPECT_FALSE(redirect_uri_identifies_client(uri)) << uri;
  }
  const char* plain[] = {
      "https://app.example/cb",           "https://xn--bcher-kva.example/cb",
      "https://APP-1.Example:8443/cb",    "https://[2001:db8::1]/cb",
      "https://app.example/c%C3%BCb?q=ü",  // non-ASCII outside the host is not the host
  };
  for (const char* uri : plain) {
    EXPECT_FALSE(redirect_uri_problem(uri)) << uri;
    EXPECT_TRUE(redirect_uri_identifies_client(uri)) << uri;
  }
}

TEST(RedirectUri, ExactMatchExceptPortlessLoopback) {
  std::vector<std::string> reg{"https://app.example/cb", "http://127.0.0.1/cb", "http://[::1]/v6"};
  EXPECT_TRUE(redirect_uri_matches(reg, "https://app.example/cb"));
  EXPECT_FALSE(redirect_uri_matches(reg, "https://app.example/cb/"));
  EXPECT_FALSE(redirect_uri_matches(reg, "https://APP.example/cb"));
  EXPECT_FALSE(redirect_uri_matches(reg, "https://app.example/cb?x=1"));
  // Registered without a port: any port (RFC 8252 §7.3), same host and path.
  EXPECT_TRUE(redirect_uri_matches(reg, "http://127.0.0.1:49152/cb"));
  EXPECT_TRUE(redirect_uri_matches(reg, "http://127.0.0.1/cb"));
  EXPECT_TRUE(redirect_uri_matches(reg, "http://[::1]:50000/v6"));
  EXPECT_FALSE(redirect_uri_matches(reg, "http://127.0.0.1:49152/other"));
  EXPECT_FALSE(redirect_uri_matches(reg, "http://[::1]:8888/cb"));
  EXPECT_FALSE(redirect_uri_matches(reg, "http://127.0.0.1:49152/v6"));
  EXPECT_FALSE(redirect_uri_matches({"https://app.example:443/cb"}, "https://app.example:444/cb"));
}

TEST(RedirectUri, LoopbackRegisteredWithAPortMatchesOnlyThatPort) {
  std::vector<std::string> reg{"http://127.0.0.1:8080/cb", "http://[::1]:8080/cb"};
  EXPECT_TRUE(redirect_uri_matches(reg, "http://127.0.0.1:8080/cb"));
  EXPECT_TRUE(redirect_uri_matches(reg, "http://[::1]:8080/cb"));
  EXPECT_FALSE(redirect_uri_matches(reg, "http://127.0.0.1:9999/cb"));
  EXPECT_FALSE(redirect_uri_matches(reg, "http://127.0.0.1/cb"));
  EXPECT_FALSE(redirect_uri_matches(reg, "http://[::1]:9999/cb"));
  // An empty port after the colon names a port too: exact match only.
  EXPECT_FALSE(redirect_uri_matches({"http://127.0.0.1:/cb"}, "http://127.0.0.1:9999/cb"));
}

TEST(Pkce, S256) {
  SystemRandom rng;
  // RFC 7636 Appendix B.
  const std::string verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  const std::string challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
  EXPECT_TRUE(pkce_verifier_well_formed(verifier));
  EXPECT_TRUE(pkce_challenge_well_formed(challenge));
  EXPECT_EQ(pkce_s256(verifier), challenge);
  EXPECT_NE(pkce_s256(verifier + "x"), challenge);
  EXPECT_FALSE(pkce_verifier_well_formed("short"));
  EXPECT_FALSE(pkce_verifier_well_formed(std::string(43, '+')));
}

}  // namespace
}  // namespace stagepass::oauth
