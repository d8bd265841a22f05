// AbuseDetector: each detector fires on its pattern and stays quiet on a normal mix of
// traffic generated here, with the time of a manual clock (times are passed in).
#include "monitor/abuse_detector.hpp"

#include <gtest/gtest.h>

#include <random>

namespace stagepass {
namespace {

// "text" + std::to_string(n) without GCC 12's false -Wrestrict warning.
std::string cat(std::string a, int64_t n) { return a += std::to_string(n); }

constexpr int64_t kT0 = 1'800'000'000;

std::vector<std::string> types(const std::vector<AbuseFinding>& fs) {
  std::vector<std::string> out;
  for (const auto& f : fs) out.push_back(f.type);
  return out;
}

// A normal day's mix at reduced scale: 200 people, each with their own token used from their
// own one or two addresses (home, phone), some refresh retries within the grace (never
// reuse), a few mistyped secrets by a backend behind one address, a few wrong passwords
// spread over many addresses, and a steady rate per app with noise.
void normal_mix(AbuseDetector& d, AppUsage& usage, int64_t start, int minutes) {
  std::mt19937 rng(42);
  for (int m = 0; m < minutes; ++m) {
    const int64_t now = start + m * 60;
    for (int u = 0; u < 200; ++u) {
      if (rng() % 3) continue;
      const std::string user = cat("user", u);
      const std::string jti = "jti-" + user + cat("-", m / 60);  // hourly tokens
      const std::string ip = cat("10.0.", u) + cat(".", rng() % 2);
      d.note_token_use(jti, "app1", "g-" + user, user, ip, now);
      usage.note("app1", EndpointGroup::kProfile, 200, user, "g-" + user);
    }
    const int extra = static_cast<int>(rng() % 40);
    for (int i = 0; i < extra; ++i) usage.note("app1", EndpointGroup::kSearch, 200, "", "");
    usage.fold(now);
    if (m % 30 == 0) d.note_invalid_client("192.0.2.10", "app1", now);  // a typo, now and then
    if (m % 7 == 0) {
      const std::string ip = cat("198.51.100.", m % 250);
      d.note_sign_in_failure(ip, cat("person", m % 50) + "@example.com", now);
    }
    d.check_bursts(usage, now + 1);
  }
}

TEST(AbuseDetector, QuietOnANormalMix) {
  AbuseDetector d(AbuseSettings{});
  AppUsage usage;
  normal_mix(d, usage, kT0, 6 * 60);
  d.note_refresh_reuse("app1", "u1", kT0 + 10);  // one lost response outside the grace
  EXPECT_TRUE(d.drain().empty());
}

TEST(AbuseDetector, RefreshReuseFiresAtItsThresholdOncePerWindow) {
  AbuseDetector d(AbuseSettings{});
  for (int i = 0; i < 2; ++i) d.note_refresh_reuse("app1", cat("u", i), kT0 + i);
  EXPECT_TRUE(d.drain().empty());
  d.note_refresh_reuse("app1", "u2", kT0 + 2);
  auto f = d.drain();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].type, "abuse_refresh_reuse");
  EXPECT_EQ(f[0].client_id, "app1");
  d.note_refresh_reuse("app1", "u3", kT0 + 3);
  EXPECT_TRUE(d.drain().empty());  // once per window
  // Reuses spread wider than the window never add up.
  AbuseDetector slow(AbuseSettings{});
  for (int i = 0; i < 10; ++i) slow.note_refresh_reuse("app1", "u", kT0 + i * 3601);
  EXPECT_TRUE(slow.drain().empty());
}

TEST(AbuseDetector, OneTokenFromManyAddressesFires) {
  AbuseDetector d(AbuseSettings{});
  for (int i = 0; i < 4; ++i) {
    d.note_token_use("jti1", "app1", "g1", "u1", cat("203.0.113.", i), kT0 + i);
    d.note_token_use("jti1", "app1", "g1", "u1", cat("203.0.113.", i), kT0 + i);
  }
  EXPECT_TRUE(d.drain().empty());  // 4 distinct addresses, each seen twice
  d.note_token_use("jti1", "app1", "g1", "u1", "203.0.113.99", kT0 + 5);
  auto f = d.drain();
  ASSERT_EQ(types(f), std::vector<std::string>{"abuse_token_many_ips"});
  EXPECT_EQ(f[0].grant_id, "g1");
  EXPECT_EQ(f[0].jti, "jti1");
  EXPECT_EQ(f[0].client_id, "app1");
}

TEST(AbuseDetector, ABurstFarAboveTheAppsOwnRateFires) {
  AbuseDetector d(AbuseSettings{});
  AppUsage usage;
  const int64_t start = kT0 - kT0 % 3600;
  normal_mix(d, usage, start, 120);  // two hours at ~100 per minute
  ASSERT_TRUE(d.drain().empty());
  const int64_t now = start + 120 * 60;
  for (int i = 0; i < 3000; ++i) usage.note("app1", EndpointGroup::kSearch, 200, "", "");
  usage.fold(now);
  d.check_bursts(usage, now + 30);  // the minute is not complete yet
  EXPECT_TRUE(d.drain().empty());
  d.check_bursts(usage, now + 61);
  auto f = d.drain();
  ASSERT_EQ(types(f), std::vector<std::string>{"abuse_burst"});
  EXPECT_EQ(f[0].client_id, "app1");
}

TEST(AbuseDetector, ASmallAppsJumpBelowTheFloorIsNoBurst) {
  AbuseDetector d(AbuseSettings{});
  AppUsage usage;
  const int64_t now = kT0 - kT0 % 60;
  for (int i = 0; i < 500; ++i) usage.note("tiny", EndpointGroup::kProfile, 200, "", "");
  usage.fold(now);
  d.check_bursts(usage, now + 61);
  EXPECT_TRUE(d.drain().empty());  // from nothing to 500/min: under burst_min_requests
}

TEST(AbuseDetector, RepeatedInvalidClientFromOneAddressFires) {
  AbuseDetector d(AbuseSettings{});
  for (int i = 0; i < 19; ++i) d.note_invalid_client("192.0.2.7", "app1", kT0 + i);
  // Other addresses failing do not add to it.
  for (int i = 0; i < 50; ++i) d.note_invalid_client(cat("192.0.2.", 100 + i), "app1", kT0);
  EXPECT_TRUE(d.drain().empty());
  d.note_invalid_client("192.0.2.7", "app1", kT0 + 20);
  auto f = d.drain();
  ASSERT_EQ(types(f), std::vector<std::string>{"abuse_secret_guessing"});
  EXPECT_EQ(f[0].ip, "192.0.2.7");
  EXPECT_EQ(f[0].client_id, "app1");
  // Addresses of one IPv6 /64 count together.
  AbuseDetector v6(AbuseSettings{});
  for (int i = 0; i < 20; ++i) v6.note_invalid_client(cat("2001:db8::", i + 1), "a", kT0);
  EXPECT_EQ(v6.drain().size(), 1u);
}

TEST(AbuseDetector, ManyAccountsFailingFromOneAddressFires) {
  AbuseDetector d(AbuseSettings{});
  for (int i = 0; i < 30; ++i) d.note_sign_in_failure("198.51.100.1", "same@example.com", kT0 + i);
  EXPECT_TRUE(d.drain().empty());  // one person mistyping: not stuffing
  for (int i = 0; i < 9; ++i) {
    d.note_sign_in_failure("198.51.100.1", cat("p", i) + "@example.com", kT0 + 40);
  }
  auto f = d.drain();
  ASSERT_EQ(types(f), std::vector<std::string>{"abuse_credential_stuffing"});
  EXPECT_EQ(f[0].ip, "198.51.100.1");
}

TEST(AbuseDetector, AZeroThresholdTurnsADetectorOff) {
  AbuseSettings s;
  s.invalid_client.threshold = 0;
  AbuseDetector d(s);
  for (int i = 0; i < 1000; ++i) d.note_invalid_client("192.0.2.7", "app1", kT0);
  EXPECT_TRUE(d.drain().empty());
}

TEST(AbuseDetector, MemoryIsBoundedAndFreshKeysAreNotTrackedWhenFull) {
  AbuseSettings s;
  s.max_tracked_keys = 32;  // 2 per shard
  AbuseDetector d(s);
  for (int i = 0; i < 1000; ++i)
    d.note_invalid_client(cat("10.1.", i / 250) + cat(".", i % 250), "a", kT0);
  EXPECT_GT(d.untracked(), 900u);
  // Once their windows end, keys are reclaimed and counting resumes.
  for (int i = 0; i < 20; ++i) d.note_invalid_client("192.0.2.200", "a", kT0 + 601 + i);
  EXPECT_EQ(d.drain().size(), 1u);
}

}  // namespace
}  // namespace stagepass
