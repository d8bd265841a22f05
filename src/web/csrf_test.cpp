// The CSRF token of the pages' forms (web/csrf.hpp): good only with its seed, for its session,
// under this site's key; anything else is refused.
#include "web/csrf.hpp"

#include <gtest/gtest.h>

#include <string>

#include "core/random.hpp"

namespace stagepass::web {
namespace {

class CsrfTest : public ::testing::Test {
 protected:
  SystemRandom random_;
  Csrf csrf_{"a key derived from the master key"};
  const std::string seed_ = Csrf::new_seed(random_);
  const std::string session_a_ = "cookie value of session A";
  const std::string session_b_ = "cookie value of session B";
};

TEST_F(CsrfTest, ATokenVerifiesWithItsSeedAndSession) {
  EXPECT_TRUE(csrf_.verify(seed_, session_a_, csrf_.token(seed_, session_a_)));
  EXPECT_TRUE(csrf_.verify(seed_, "", csrf_.token(seed_, "")));  // a signed-out form
}

TEST_F(CsrfTest, ATokenForOneSessionIsRefusedForAnother) {
  const std::string token = csrf_.token(seed_, session_a_);
  EXPECT_FALSE(csrf_.verify(seed_, session_b_, token));
  EXPECT_FALSE(csrf_.verify(seed_, "", token));  // that session signed out
}

// Login CSRF and cookie planting: a token minted before sign-in (or an attacker's own
// seed+token pair, planted in the victim's browser) is worthless once the victim is signed in.
TEST_F(CsrfTest, ATokenMintedSignedOutIsRefusedOnceSignedIn) {
  const std::string planted_seed = Csrf::new_seed(random_);
  const std::string planted_token = csrf_.token(planted_seed, "");
  EXPECT_FALSE(csrf_.verify(planted_seed, session_a_, planted_token));
}

TEST_F(CsrfTest, ATokenIsBoundToItsSeed) {
  const std::string other_seed = Csrf::new_seed(random_);
  ASSERT_NE(other_seed, seed_);
  EXPECT_FALSE(csrf_.verify(other_seed, session_a_, csrf_.token(seed_, session_a_)));
}

TEST_F(CsrfTest, TamperedEmptyOrMalformedTokensAreRefused) {
  const std::string good = csrf_.token(seed_, session_a_);
  ASSERT_EQ(good.size(), 43u);  // base64url of an HMAC-SHA256
  std::string flipped = good;
  flipped[10] = flipped[10] == 'A' ? 'B' : 'A';
  const std::string refused[] = {
      flipped,
      good.substr(0, good.size() - 1),  // truncated
      good + "A",                       // extended
      "",                               // empty
      std::string(good.size(), 'A'),    // the right shape, not the MAC
      " " + good,                       // not trimmed
      good + "=",                       // padded
  };
  for (const auto& token : refused) {
    EXPECT_FALSE(csrf_.verify(seed_, session_a_, token)) << "token: '" << token << "'";
  }
}

// A cookie that is not a seed is never accepted, even with a token computed over it: the
// message seed "." hash is unambiguous only for seeds of one length.
TEST_F(CsrfTest, ASeedOfTheWrongShapeIsRefused) {
  EXPECT_TRUE(Csrf::is_seed(seed_));
  for (const std::string& seed : {std::string(), seed_.substr(1), seed_ + "A"}) {
    EXPECT_FALSE(Csrf::is_seed(seed));
    EXPECT_FALSE(csrf_.verify(seed, session_a_, csrf_.token(seed, session_a_))) << seed;
  }
}

TEST_F(CsrfTest, ATokenUnderAnotherKeyIsRefused) {
  Csrf other{"another site's key"};
  EXPECT_FALSE(csrf_.verify(seed_, session_a_, other.token(seed_, session_a_)));
}

TEST_F(CsrfTest, SeedsAreFreshEachTime) {
  EXPECT_EQ(seed_.size(), Csrf::kSeedLength);
  EXPECT_NE(Csrf::new_seed(random_), Csrf::new_seed(random_));
}

}  // namespace
}  // namespace stagepass::web
