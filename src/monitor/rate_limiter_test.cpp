#include "monitor/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace stagepass {
namespace {

// One call of cost 1 under a rate limit and no quota: 0 when admitted, else Retry-After.
int64_t acquire(RateLimiter& rl, const std::string& key, int64_t limit, int64_t now) {
  return rl.admit(key, RateLimiter::Limits{limit, 0}, now).retry_after;
}

TEST(RateLimiter, AllowsUpToTheLimitPerRollingWindow) {
  RateLimiter rl;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(acquire(rl, "app", 5, 100), 0);
  EXPECT_EQ(acquire(rl, "app", 5, 100), 30);  // all five were at second 100
  EXPECT_EQ(acquire(rl, "other", 5, 100), 0);
  EXPECT_EQ(acquire(rl, "app", 5, 129), 1);
  EXPECT_EQ(acquire(rl, "app", 5, 130), 0);
}

TEST(RateLimiter, RetryAfterCountsOnlyWhatMustLeave) {
  RateLimiter rl;
  EXPECT_EQ(acquire(rl, "a", 3, 10), 0);
  EXPECT_EQ(acquire(rl, "a", 3, 20), 0);
  EXPECT_EQ(acquire(rl, "a", 3, 25), 0);
  EXPECT_EQ(acquire(rl, "a", 3, 26), 14);  // the request at 10 leaves at 40
  EXPECT_EQ(acquire(rl, "a", 3, 40), 0);
}

using Refusal = RateLimiter::Refusal;

// A call is admitted while one unit is left; its further cost is charged after it ran, so a
// heavy call may overshoot, and the next call waits until the overshoot has left the window.
TEST(RateLimiter, HeavyCallsSpendTheWindowInProportionToTheirCost) {
  RateLimiter rl;
  const RateLimiter::Limits limits{100, 0};
  int admitted = 0;
  for (; rl.admit("search", limits, 1000); ++admitted) rl.charge("search", 24, 1000);  // 25 each
  EXPECT_EQ(admitted, 4);
  int cheap = 0;
  for (; rl.admit("profile", limits, 1000); ++cheap) {
  }
  EXPECT_EQ(cheap, 100);  // 25 times as many calls of cost 1

  // One call far above the limit: admitted (a unit was left), then everything waits for it.
  ASSERT_TRUE(rl.admit("huge", limits, 2000));
  rl.charge("huge", 999, 2000);
  auto refused = rl.admit("huge", limits, 2010);
  EXPECT_EQ(refused.refused, Refusal::kRateLimited);
  EXPECT_EQ(refused.retry_after, 20);  // all of it leaves at 2030
  EXPECT_TRUE(rl.admit("huge", limits, 2030));
}

TEST(RateLimiter, ARefusedCallCostsNothing) {
  RateLimiter rl;
  const RateLimiter::Limits limits{2, 0};
  EXPECT_TRUE(rl.admit("a", limits, 10));
  EXPECT_TRUE(rl.admit("a", limits, 11));
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(rl.admit("a", limits, 12));
  EXPECT_EQ(rl.admit("a", limits, 12).retry_after, 28);  // the unit of second 10 leaves at 40
  EXPECT_TRUE(rl.admit("a", limits, 40));
}

// The daily quota: units over a rolling 24 h in one-hour steps; Retry-After says when enough
// of them have left; the reason is QUOTA_EXCEEDED even when the 30 s budget is spent too.
TEST(RateLimiter, TheDailyQuotaCountsUnitsOverARolling24Hours) {
  RateLimiter rl;
  const RateLimiter::Limits limits{1000, 50};
  const int64_t t0 = 1'700'000'000 - 1'700'000'000 % 3600;  // the start of an hour
  ASSERT_TRUE(rl.admit("app", limits, t0 + 10));
  rl.charge("app", 29, t0 + 10);  // 30 units in hour 0
  ASSERT_TRUE(rl.admit("app", limits, t0 + 5 * 3600));
  rl.charge("app", 19, t0 + 5 * 3600);  // 20 units in hour 5: 50 in all
  auto refused = rl.admit("app", limits, t0 + 6 * 3600);
  EXPECT_EQ(refused.refused, Refusal::kQuotaExceeded);
  EXPECT_EQ(refused.retry_after, 18 * 3600);  // hour 0 leaves when hour 24 begins
  EXPECT_EQ(rl.admit("app", limits, t0 + 24 * 3600 - 1).refused, Refusal::kQuotaExceeded);
  EXPECT_TRUE(rl.admit("app", limits, t0 + 24 * 3600));
  EXPECT_TRUE(rl.admit("other", limits, t0 + 6 * 3600));  // per key

  // Both budgets spent: the quota is the reason, and the wait covers both.
  const RateLimiter::Limits tight{3, 3};
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(rl.admit("both", tight, t0 + 100));
  auto both = rl.admit("both", tight, t0 + 100);
  EXPECT_EQ(both.refused, Refusal::kQuotaExceeded);
  EXPECT_EQ(both.retry_after, 24 * 3600 - 100);
}

TEST(RateLimiter, NoQuotaWhenPerDayIsZero) {
  RateLimiter rl;
  const RateLimiter::Limits limits{1'000'000, 0};
  for (int day = 0; day < 3; ++day) {
    ASSERT_TRUE(rl.admit("app", limits, day * 86400));
    rl.charge("app", 900'000, day * 86400);
  }
  EXPECT_TRUE(rl.admit("app", limits, 3 * 86400));
}

// The key space overflows (many apps, few records): a key's daily count is never dropped
// while it can still refuse a call, so flooding the table cannot reset a spent quota.
TEST(RateLimiter, AFullTableNeverForgetsASpentQuota) {
  RateLimiter rl(2);  // two records per shard, 32 in all
  const RateLimiter::Limits limits{1000, 10};
  const int64_t t0 = 1'700'000'000 - 1'700'000'000 % 3600;
  ASSERT_TRUE(rl.admit("victim", limits, t0));
  rl.charge("victim", 9, t0);
  ASSERT_EQ(rl.admit("victim", limits, t0).refused, Refusal::kQuotaExceeded);
  // Idle for minutes while a thousand other keys each make a call: every shard overflows.
  for (int i = 0; i < 1000; ++i) rl.admit("flood-" + std::to_string(i), limits, t0 + 60 + i);
  EXPECT_LE(rl.tracked_keys(), 32u);  // memory stays bounded
  auto again = rl.admit("victim", limits, t0 + 2000);
  EXPECT_EQ(again.refused, Refusal::kQuotaExceeded);
  EXPECT_EQ(again.retry_after, 24 * 3600 - 2000);
  // A day later its units have left the window: it is served again, with a record.
  EXPECT_TRUE(rl.admit("victim", limits, t0 + 24 * 3600));
}

// Keys that find their shard full of records that still count are not let through
// uncounted: they share the shard's overflow record, limited like one key.
TEST(RateLimiter, KeysWithoutARecordShareOneLimitedBudget) {
  RateLimiter rl(1);  // one record per shard, 16 in all
  const RateLimiter::Limits limits{3, 1000};
  int admitted = 0;
  for (int i = 0; i < 400; ++i) admitted += rl.admit("k" + std::to_string(i), limits, 500) ? 1 : 0;
  EXPECT_EQ(rl.tracked_keys(), 16u);
  EXPECT_LE(admitted, 16 + 16 * 3);  // each shard: its one record, then 3 in its overflow
  EXPECT_GE(admitted, 16);
}

// Without a quota the day's count matters to nobody: keys idle for a full rate window are
// forgotten to make room, and new keys get their own records again.
TEST(RateLimiter, WithoutAQuotaIdleKeysMakeRoom) {
  RateLimiter rl(1);
  const RateLimiter::Limits one{1, 0};  // one unit per 30 s, no quota
  auto admitted_of = [&](const std::string& prefix, int64_t now) {
    int n = 0;
    for (int i = 0; i < 200; ++i) n += rl.admit(prefix + std::to_string(i), one, now) ? 1 : 0;
    return n;
  };
  // Each shard: one key with a record, then one more through its overflow record.
  EXPECT_EQ(admitted_of("old", 100), 32);
  // 100 s later the old records are forgotten: again one record and one overflow unit each
  // (were they kept, every new key would share the overflow records: 16).
  EXPECT_EQ(admitted_of("new", 200), 32);
  EXPECT_EQ(rl.tracked_keys(), 16u);
}

}  // namespace
}  // namespace stagepass
