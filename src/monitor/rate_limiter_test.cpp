#include "monitor/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace stagepass {
namespace {

TEST(RateLimiter, AllowsUpToTheLimitPerRollingWindow) {
  RateLimiter rl;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(rl.acquire("app", 5, 100), 0);
  EXPECT_EQ(rl.acquire("app", 5, 100), 30);  // all five were at second 100
  EXPECT_EQ(rl.acquire("other", 5, 100), 0);
  EXPECT_EQ(rl.acquire("app", 5, 129), 1);
  EXPECT_EQ(rl.acquire("app", 5, 130), 0);
}

TEST(RateLimiter, RetryAfterCountsOnlyWhatMustLeave) {
  RateLimiter rl;
  EXPECT_EQ(rl.acquire("a", 3, 10), 0);
  EXPECT_EQ(rl.acquire("a", 3, 20), 0);
  EXPECT_EQ(rl.acquire("a", 3, 25), 0);
  EXPECT_EQ(rl.acquire("a", 3, 26), 14);  // the request at 10 leaves at 40
  EXPECT_EQ(rl.acquire("a", 3, 40), 0);
}

}  // namespace
}  // namespace stagepass
