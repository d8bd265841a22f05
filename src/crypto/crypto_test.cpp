#include "crypto/crypto.hpp"

#include <gtest/gtest.h>

#include "core/random.hpp"

namespace stagepass::crypto {
namespace {

class CryptoTest : public ::testing::Test {
 protected:
  SystemRandom rng_;  // initialises libsodium
};

TEST_F(CryptoTest, Sha256KnownVector) {
  auto h = sha256("abc");
  EXPECT_EQ(static_cast<unsigned char>(h[0]), 0xba);
  EXPECT_EQ(static_cast<unsigned char>(h[31]), 0xad);
}

TEST_F(CryptoTest, KeyedDigestDependsOnTheKeyAndTheInput) {
  const std::string k1 = rng_.bytes(16), k2 = rng_.bytes(16);
  EXPECT_NE(k1, k2);
  EXPECT_EQ(keyed_digest128(k1, "token"), keyed_digest128(k1, "token"));
  EXPECT_NE(keyed_digest128(k1, "token"), keyed_digest128(k1, "tokeN"));
  EXPECT_NE(keyed_digest128(k1, "token"), keyed_digest128(k2, "token"));
  EXPECT_THROW(keyed_digest128("short", "token"), std::invalid_argument);
}

TEST_F(CryptoTest, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
}

TEST_F(CryptoTest, SignAndVerify) {
  auto kp = ed25519_generate();
  auto sig = ed25519_sign(kp.secret_key, "message");
  EXPECT_TRUE(ed25519_verify(kp.public_key, "message", sig));
  EXPECT_FALSE(ed25519_verify(kp.public_key, "messagf", sig));
}

TEST_F(CryptoTest, SealRejectsWrongKeyAndTampering) {
  Secret key(rng_.bytes(32));
  auto box = seal(key, "private");
  ASSERT_TRUE(open(key, box));
  EXPECT_EQ(open(key, box)->reveal(), "private");
  EXPECT_FALSE(open(Secret(rng_.bytes(32)), box));
  box.back() ^= 1;
  EXPECT_FALSE(open(key, box));
}

TEST_F(CryptoTest, PasswordHashVerifies) {
  auto h = password_hash("correct horse");
  EXPECT_EQ(h.rfind("$argon2id$", 0), 0u);
  EXPECT_TRUE(password_verify(h, "correct horse"));
  EXPECT_FALSE(password_verify(h, "wrong"));
}

}  // namespace
}  // namespace stagepass::crypto
