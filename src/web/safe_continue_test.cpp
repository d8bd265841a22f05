#include "web/safe_continue.hpp"

#include <gtest/gtest.h>

#include <string>

namespace stagepass::web {
namespace {

TEST(SafeContinue, KeepsSameSitePaths) {
  for (const std::string p :
       {"/", "/account/apps", "/account/security?before=12",
        "/authorize?client_id=abc&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&scope=a+b&state=x~y",
        "/a/b;c=d:e@f!$'()*,#frag"}) {
    EXPECT_EQ(safe_continue(p), p);
  }
}

TEST(SafeContinue, SendsEverythingElseHome) {
  const std::string bad[] = {
      "",
      "account/apps",                              // relative
      "https://evil.example/",                     // absolute
      "javascript:alert(1)",                       // scheme
      "//evil.example/",                           // network-path reference
      "/\\evil.example/",                          // read as "//" by browsers
      "/a\\b",                                     // backslash anywhere
      "/x\r\nSet-Cookie: a=b",                     // response splitting
      "/x\nLocation: //evil",                      // bare LF
      "/x\rX: y",                                  // bare CR
      std::string("/x\0y", 4),                     // NUL
      "/\t/evil.example",                          // TAB: dropped by browsers, giving "//evil"
      "/a b",                                      // space
      "/a\x7f",                                    // DEL
      "/caf\xc3\xa9",                              // raw non-ASCII
      "/a\"b",                                     // quote
      "/a<b",                                      // angle bracket
      "/a%",                                       // broken escape
      "/a%4",                                      // broken escape
      "/a%zz",                                     // not hex
      "/" + std::string(kMaxContinueLength, 'a'),  // too long
  };
  for (const auto& p : bad) EXPECT_EQ(safe_continue(p), "/") << p;
  EXPECT_EQ(safe_continue(std::nullopt), "/");
}

TEST(SafeContinue, KeepsPercentEscapesAsTheyAre) {
  // An escaped CR LF stays escaped: harmless in a Location header, never decoded here.
  EXPECT_EQ(safe_continue("/x%0D%0Ay"), "/x%0D%0Ay");
  EXPECT_EQ(safe_continue("/" + std::string(kMaxContinueLength - 1, 'a')).size(),
            kMaxContinueLength);
}

}  // namespace
}  // namespace stagepass::web
