#include "web/cookies.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace stagepass::web {
namespace {

// A Set-Cookie value split into its name=value and attributes (RFC 6265 §4.1.1):
// {"" -> "name=value", "Path" -> "/", "HttpOnly" -> "", ...}.
std::map<std::string, std::string> parse_set_cookie(const std::string& header) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  bool first = true;
  while (start <= header.size()) {
    size_t end = header.find("; ", start);
    if (end == std::string::npos) end = header.size();
    std::string part = header.substr(start, end - start);
    if (first) {
      out[""] = part;
      first = false;
    } else {
      size_t eq = part.find('=');
      EXPECT_EQ(out.count(part.substr(0, eq)), 0u) << "repeated attribute in " << header;
      out[part.substr(0, eq)] = eq == std::string::npos ? "" : part.substr(eq + 1);
    }
    start = end + 2;
  }
  return out;
}

TEST(Cookies, HostPrefixedNamesOnlyWhenSecure) {
  EXPECT_EQ(session_cookie_name(true), "__Host-sp_session");
  EXPECT_EQ(csrf_cookie_name(true), "__Host-sp_csrf");
  EXPECT_EQ(session_cookie_name(false), "sp_session");
  EXPECT_EQ(csrf_cookie_name(false), "sp_csrf");
}

// Secure and __Host- exactly when the issuer (the site's origin) is https.
TEST(Cookies, SecureCookiesExactlyForAnHttpsIssuer) {
  EXPECT_TRUE(secure_cookies_for("https://accounts.example"));
  EXPECT_TRUE(secure_cookies_for("https://127.0.0.1:8443"));
  EXPECT_EQ(session_cookie_name(secure_cookies_for("https://accounts.example")),
            "__Host-sp_session");
  EXPECT_EQ(csrf_cookie_name(secure_cookies_for("https://accounts.example")), "__Host-sp_csrf");
  EXPECT_FALSE(secure_cookies_for("http://127.0.0.1:8080"));
  EXPECT_FALSE(secure_cookies_for("http://localhost"));
  EXPECT_EQ(session_cookie_name(secure_cookies_for("http://127.0.0.1:8080")), "sp_session");
  EXPECT_EQ(csrf_cookie_name(secure_cookies_for("http://127.0.0.1:8080")), "sp_csrf");
}

// RFC 6265bis §4.1.3.2: a __Host- cookie must be Secure, Path=/ and carry no Domain.
TEST(Cookies, SecureCookiesMeetTheHostPrefixRules) {
  std::string c = set_cookie(session_cookie_name(true), "v", 60, true);
  EXPECT_EQ(c.rfind("__Host-sp_session=v;", 0), 0u) << c;
  EXPECT_NE(c.find("; Secure"), std::string::npos) << c;
  EXPECT_NE(c.find("; Path=/;"), std::string::npos) << c;
  EXPECT_EQ(c.find("Domain"), std::string::npos) << c;
  EXPECT_NE(c.find("HttpOnly"), std::string::npos) << c;
}

// Every cookie the site sets or clears, in both settings: HttpOnly (no script reads it),
// SameSite=Lax (not sent on cross-site POSTs), Path=/, never a Domain (host-only), Max-Age;
// Secure exactly when the issuer is https.
TEST(Cookies, EveryCookieCarriesTheSameAttributesInBothSettings) {
  for (bool secure : {true, false}) {
    for (auto name : {session_cookie_name(secure), csrf_cookie_name(secure)}) {
      for (const auto& header :
           {set_cookie(name, "value", 3600, secure), clear_cookie(name, secure)}) {
        auto a = parse_set_cookie(header);
        SCOPED_TRACE(header);
        EXPECT_EQ(a[""].rfind(std::string(name) + "=", 0), 0u);
        EXPECT_EQ(a.count("HttpOnly"), 1u);
        EXPECT_EQ(a.count("SameSite"), 1u);
        EXPECT_EQ(a["SameSite"], "Lax");
        EXPECT_EQ(a.count("Path"), 1u);
        EXPECT_EQ(a["Path"], "/");
        EXPECT_EQ(a.count("Domain"), 0u);
        EXPECT_EQ(a.count("Expires"), 0u);
        EXPECT_EQ(a.count("Max-Age"), 1u);
        EXPECT_EQ(a.count("Secure"), secure ? 1u : 0u);
        EXPECT_EQ(a.size(), secure ? 6u : 5u);  // nothing else
      }
    }
  }
}

TEST(Cookies, SetAndClearCarryTheValueAndLifetime) {
  auto set = parse_set_cookie(set_cookie("sp_session", "abc-_123", 1209600, false));
  EXPECT_EQ(set[""], "sp_session=abc-_123");
  EXPECT_EQ(set["Max-Age"], "1209600");
  auto cleared = parse_set_cookie(clear_cookie("__Host-sp_session", true));
  EXPECT_EQ(cleared[""], "__Host-sp_session=");  // empty value ...
  EXPECT_EQ(cleared["Max-Age"], "0");            // ... that the browser drops at once
}

TEST(Cookies, ReadsOneCookieByExactName) {
  EXPECT_EQ(read_cookie("a=1; __Host-sp_session=x; sp_session=y", "__Host-sp_session"), "x");
  EXPECT_EQ(read_cookie("__Host-sp_session=x; sp_session=y", "sp_session"), "y");
  EXPECT_EQ(read_cookie("sp_session=y", "__Host-sp_session"), std::nullopt);
  EXPECT_EQ(read_cookie("xsp_session=y; sp_session_old=z", "sp_session"), std::nullopt);
  EXPECT_EQ(read_cookie("", "sp_session"), std::nullopt);
  EXPECT_EQ(read_cookie("sp_session=", "sp_session"), "");
  EXPECT_EQ(read_cookie("sp_session=a=b", "sp_session"), "a=b");  // the value after the first '='
}

}  // namespace
}  // namespace stagepass::web
