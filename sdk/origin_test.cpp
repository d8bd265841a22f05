// detail::printable and printable_url: what a server or a browser sent, made safe for one terminal
// line before it reaches an Error's message or the CLI's output. Checked against glibc's own UTF-8
// decoder (mbrtowc in C.UTF-8), which is not the code under test.
#include "origin.hpp"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <clocale>
#include <cwchar>
#include <string>

namespace stagepass::sdk::detail {
namespace {

// True when `s` is well-formed UTF-8 without C0, DEL, C1 or bidirectional controls.
bool safe_for_a_terminal(const std::string& s) {
  locale_t utf8 = ::newlocale(LC_CTYPE_MASK, "C.UTF-8", nullptr);
  EXPECT_NE(utf8, nullptr) << "no C.UTF-8 locale";
  locale_t old = ::uselocale(utf8);
  std::mbstate_t state{};
  bool ok = true;
  for (size_t i = 0; i < s.size() && ok;) {
    wchar_t c;
    size_t n = std::mbrtowc(&c, s.data() + i, s.size() - i, &state);
    if (n == 0 || n == static_cast<size_t>(-1) || n == static_cast<size_t>(-2)) {
      ok = false;
      break;
    }
    i += n;
    const auto u = static_cast<uint32_t>(c);
    ok = !(u < 0x20 || (u >= 0x7f && u <= 0x9f) || (u >= 0x202a && u <= 0x202e) ||
           (u >= 0x2066 && u <= 0x2069) || u == 0x200e || u == 0x200f || u == 0x061c);
  }
  ::uselocale(old);
  ::freelocale(utf8);
  return ok;
}

TEST(Printable, KeepsOrdinaryTextAndUnicode) {
  EXPECT_EQ(printable("invalid_grant: refresh token revoked"),
            "invalid_grant: refresh token revoked");
  EXPECT_EQ(printable("Zoë, 東京, 😀"), "Zoë, 東京, 😀");
}

TEST(Printable, TurnsControlsIntoSpaces) {
  EXPECT_EQ(printable("a\r\nb\x1b[2J\x7f"), "a  b [2J ");
  EXPECT_EQ(printable("a\xc2\x9b"
                      "31mb"),
            "a 31mb");  // U+009B, CSI, UTF-8 encoded
}

TEST(Printable, RawC1BytesAndBrokenUtf8NeverReachTheTerminal) {
  // A lone 0x9B is CSI to a terminal in an 8-bit mode; none of these is UTF-8.
  for (const std::string& text :
       {std::string("a\x9b"
                    "31mb"),
        std::string("\x80\x85\x9f"), std::string("\xff\xfe"), std::string("\xc0\xaf"),
        std::string("\xed\xa0\x80"), std::string("\xf4\x90\x80\x80"), std::string("x\xe2\x82"),
        std::string("\xf0\x9f\x98")}) {
    const std::string shown = printable(text);
    EXPECT_TRUE(safe_for_a_terminal(shown)) << testing::PrintToString(shown);
  }
  EXPECT_EQ(printable("a\x9b"
                      "b"),
            "a\xef\xbf\xbd"
            "b");  // U+FFFD REPLACEMENT CHARACTER
}

TEST(Printable, BidiOverridesCannotReorderTheLine) {
  // "Trojan Source": U+202E makes what follows read right to left.
  for (const char* control : {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067",
                              "\u2068", "\u2069", "\u200e", "\u200f", "\u061c"}) {
    const std::string shown = printable(std::string("user ") + control + "nimda");
    EXPECT_TRUE(safe_for_a_terminal(shown)) << testing::PrintToString(shown);
    EXPECT_NE(shown.find("nimda"), std::string::npos);
  }
}

TEST(Printable, CutsAtACharacterBoundary) {
  const std::string shown = printable("ééééé", 5);  // 10 bytes
  EXPECT_EQ(shown, "éé...");
  EXPECT_TRUE(safe_for_a_terminal(shown));
  EXPECT_EQ(printable("abc", 3), "abc");
}

TEST(PrintableUrl, HidesTheUserNameAndPassword) {
  EXPECT_EQ(printable_url("https://user:hunter2@auth.example/x"), "https://***@auth.example/x");
  EXPECT_EQ(printable_url("https://a@b:c@auth.example"), "https://***@auth.example");
  EXPECT_EQ(printable_url("http://evil.example\\@127.0.0.1:8080/authorize"),
            "http://***@127.0.0.1:8080/authorize");
  EXPECT_EQ(printable_url("user:hunter2@auth.example/x"), "***@auth.example/x");
  // An @ after the authority is not a user name.
  EXPECT_EQ(printable_url("https://auth.example/a@b?c@d#e@f"), "https://auth.example/a@b?c@d#e@f");
  EXPECT_EQ(printable_url("/me@x"), "/me@x");
}

TEST(LoopbackHost, LocalhostOnlyWhenLibcurlResolvesItItself) {
  // curl 7.78.0 made "localhost" 127.0.0.1/::1 without a resolver; before, /etc/hosts or DNS
  // could point it anywhere, and plain http to it would not stay on this machine.
  EXPECT_FALSE(libcurl_resolves_localhost(0x074d01));  // 7.77.1
  EXPECT_TRUE(libcurl_resolves_localhost(0x074e00));   // 7.78.0
  EXPECT_TRUE(libcurl_resolves_localhost(0x080b00));
  const bool here = libcurl_resolves_localhost(curl_version_info(CURLVERSION_NOW)->version_num);
  EXPECT_EQ(is_loopback_host("localhost"), here);
  // Names libcurl 7.88 still looks up (checked with strace: /etc/hosts is read for them).
  for (const char* name : {"localhost.", "a.localhost", "localhost.example", "127.0.0.1.nip.io"}) {
    EXPECT_FALSE(is_loopback_host(name)) << name;
  }
  for (const char* literal : {"127.0.0.1", "127.1.2.3", "[::1]"}) {
    EXPECT_TRUE(is_loopback_host(literal)) << literal;
  }
}

}  // namespace
}  // namespace stagepass::sdk::detail
