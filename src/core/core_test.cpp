#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <thread>
#include <vector>

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
TEST(Base64Url, TellsItsAlphabetAndLowercaseHexApart) {
  EXPECT_TRUE(is_base64url("AZaz09-_"));
  EXPECT_TRUE(is_base64url(""));
  for (const char* bad : {"a=", "a+b", "a/b", "a.b", "a b", "\xc3\xa9"})
    EXPECT_FALSE(is_base64url(bad)) << bad;
  EXPECT_TRUE(is_lower_hex("0123456789abcdef"));
  for (const char* bad : {"A", "g", "0x1", " "}) EXPECT_FALSE(is_lower_hex(bad)) << bad;
}

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

// A prefix cut for a log line or an audit event stays valid UTF-8: a character that would be
// split is dropped whole (a lone lead byte made `admin events` emit invalid JSON text).
TEST(Utf8Prefix, NeverSplitsACharacter) {
  const std::string a99(99, 'a');
  const std::string name = a99 + "\xc3\xa9";  // 99 bytes, then a 2-byte character
  EXPECT_EQ(utf8_prefix(name, 100), a99);
  EXPECT_EQ(utf8_prefix(name, 101), name);
  const std::string_view euro = "ab€c";                // a 3-byte character at bytes 2..4
  EXPECT_EQ(utf8_prefix(euro, 3), "ab");               // cut after its lead byte
  EXPECT_EQ(utf8_prefix(euro, 4), "ab");               // cut inside it
  EXPECT_EQ(utf8_prefix(euro, 5), "ab€");              // cut after it
  EXPECT_EQ(utf8_prefix("\xf0\x9f\x8e\xb5x", 3), "");  // a 4-byte character: nothing fits
  EXPECT_EQ(utf8_prefix("plain", 3), "pla");
  EXPECT_EQ(utf8_prefix("", 3), "");
  // Not UTF-8 (a run of continuation bytes): the back-off is bounded, never the whole string.
  EXPECT_EQ(utf8_prefix("x\x80\x80\x80\x80\x80\x80\x80\x80\x80", 8), "x\x80\x80\x80\x80");
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

TEST(Base64Url, AppendingEncodesAfterWhatIsThere) {
  for (const std::string& bytes :
       {std::string(), std::string("f"), std::string("fo"), std::string("foo"), std::string("foob"),
        std::string("\xff\xfe\x00", 3)}) {
    std::string out = "head.";
    base64url_append(out, bytes);
    EXPECT_EQ(out, "head." + base64url_encode(bytes)) << bytes.size();
  }
  std::string out;
  base64url_append(out, "\xfb\xff");
  EXPECT_EQ(out, "-_8");  // the URL alphabet, no padding
}

// Hands out a scripted byte stream, counting the calls.
class ScriptedRandom final : public Random {
 public:
  explicit ScriptedRandom(std::vector<unsigned char> bytes) : bytes_(std::move(bytes)) {}
  void fill(void* out, size_t n) override {
    ++calls;
    auto* p = static_cast<unsigned char*>(out);
    for (size_t i = 0; i < n; ++i) p[i] = next_ < bytes_.size() ? bytes_[next_++] : 0;
  }
  int calls = 0;

 private:
  std::vector<unsigned char> bytes_;
  size_t next_ = 0;
};

TEST(Random, Id22SkipsTheBytesThatWouldBiasItFromOneDraw) {
  // Bytes 0..21 map to "0".."L"; 248..255 are skipped, wherever they fall.
  std::vector<unsigned char> stream;
  for (unsigned char b = 0; b < 22; ++b) {
    if (b % 3 == 0) stream.push_back(static_cast<unsigned char>(248 + b % 8));
    stream.push_back(static_cast<unsigned char>(b + 62 * (b % 4)));  // b, b+62, ... : same char
  }
  ScriptedRandom rng(stream);
  EXPECT_EQ(rng.id22(), "0123456789ABCDEFGHIJKL");
  EXPECT_EQ(rng.calls, 1);  // 8 skipped bytes fit in the one draw
}

TEST(Random, Id22DrawsAgainWhenTheSpareBytesRunOut) {
  std::vector<unsigned char> stream(20, 255);  // more skipped bytes than one draw spares
  for (unsigned char b = 0; b < 22; ++b) stream.push_back(61);
  ScriptedRandom rng(stream);
  EXPECT_EQ(rng.id22(), std::string(22, 'z'));
  EXPECT_EQ(rng.calls, 2);
}

// Ids come from a per-thread buffer drawn ahead: no two alike, within a thread (across many
// refills of its buffer) or between threads.
TEST(Random, IdsAreNeverRepeatedAcrossBufferRefillsOrThreads) {
  SystemRandom rng;
  constexpr int kThreads = 4;
  constexpr int kEach = 2000;  // 32 bytes each: 15 refills of a thread's 4 KiB
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&rng, &mine = ids[t]] {
      for (int i = 0; i < kEach; ++i) mine.push_back(rng.id22());
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> distinct;
  for (const auto& mine : ids) {
    for (const auto& id : mine) {
      EXPECT_EQ(id.size(), 22u);
      EXPECT_EQ(
          id.find_first_not_of("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"),
          std::string::npos);
      distinct.insert(id);
    }
  }
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kThreads * kEach));
}

// A forked child does not hand out the ids left in its parent's buffer: its next id is not
// the parent's next one.
TEST(Random, AForkedChildDrawsItsOwnIds) {
  SystemRandom rng;
  (void)rng.id22();  // the buffer holds ids ahead now
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const std::string id = rng.id22();
    const bool written = ::write(fds[1], id.data(), id.size()) == static_cast<ssize_t>(id.size());
    ::_exit(written ? 0 : 1);
  }
  ::close(fds[1]);
  const std::string mine = rng.id22();
  std::string theirs(22, '\0');
  EXPECT_EQ(::read(fds[0], theirs.data(), theirs.size()), 22);
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_NE(theirs, mine);
}

TEST(Iso8601Utc, SecondsAsUtc) {
  EXPECT_EQ(iso8601_utc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(iso8601_utc(1796378400), "2026-12-04T10:00:00Z");
}

}  // namespace
}  // namespace stagepass
