#include "web/cookies.hpp"

#include <gtest/gtest.h>

namespace stagepass::web {
namespace {

TEST(Cookies, HostPrefixedNamesOnlyWhenSecure) {
  EXPECT_EQ(session_cookie_name(true), "__Host-sp_session");
  EXPECT_EQ(csrf_cookie_name(true), "__Host-sp_csrf");
  EXPECT_EQ(session_cookie_name(false), "sp_session");
  EXPECT_EQ(csrf_cookie_name(false), "sp_csrf");
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

TEST(Cookies, ReadsOneCookieByExactName) {
  EXPECT_EQ(read_cookie("a=1; __Host-sp_session=x; sp_session=y", "__Host-sp_session"), "x");
  EXPECT_EQ(read_cookie("__Host-sp_session=x; sp_session=y", "sp_session"), "y");
  EXPECT_EQ(read_cookie("sp_session=y", "__Host-sp_session"), std::nullopt);
}

}  // namespace
}  // namespace stagepass::web
