#include <gtest/gtest.h>

#include "core/base64url.hpp"
#include "core/random.hpp"
#include "core/text.hpp"

namespace stagepass {
namespace {

TEST(Base64Url, RoundTripsWithoutPadding) {
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(*base64url_decode("-_8"), "\xfb\xff");
  EXPECT_EQ(*base64url_decode("-_8="), "\xfb\xff");
  EXPECT_FALSE(base64url_decode("a+b/").has_value());
}

// Found by fuzz/fuzz_jwt: a JWT whose signature had one character replaced by a byte >= 0x80
// still verified, because libsodium 1.0.18 decodes such bytes as '_' ('/' in standard base64).
TEST(Base64Url, RefusesBytesOutsideTheAlphabet) {
  for (int b = 0x80; b <= 0xff; ++b) {
    std::string text = "AAA";
    text += static_cast<char>(b);
    EXPECT_FALSE(base64url_decode(text).has_value()) << "byte " << b;
    EXPECT_FALSE(base64_decode(text).has_value()) << "byte " << b;
  }
  EXPECT_EQ(*base64url_decode("AAA_"), std::string("\x00\x00\x3f", 3));
  EXPECT_EQ(*base64_decode("AAA/"), std::string("\x00\x00\x3f", 3));
}

TEST(Form, KeepsDuplicatesAndTreatsEmptyAsAbsent) {
  auto form = Form::parse("a=1&b=&a=2&c=x%20y+z");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->get("a"), "1");
  EXPECT_FALSE(form->get("b").has_value());
  EXPECT_EQ(form->get("c"), "x y z");
  EXPECT_EQ(form->duplicate(), "a");
  EXPECT_FALSE(Form::parse("a=%zz"));
  EXPECT_FALSE(Form::parse("a=%4"));
}

TEST(PercentEncoding, EncodesReservedCharacters) {
  EXPECT_EQ(percent_encode("a b/c?d"), "a%20b%2Fc%3Fd");
  EXPECT_EQ(*percent_decode("a%2Bb+c", false), "a+b+c");
}

TEST(Random, TokensHavePrefixAndEntropy) {
  SystemRandom rng;
  auto t = rng.token("spr_");
  EXPECT_EQ(t.rfind("spr_", 0), 0u);
  EXPECT_EQ(t.size(), 4u + 43u);
  EXPECT_NE(t, rng.token("spr_"));
  auto id = rng.id22();
  EXPECT_EQ(id.size(), 22u);
}

}  // namespace
}  // namespace stagepass
