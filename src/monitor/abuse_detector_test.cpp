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

// issue15-fix:burst: requests the Web API refused (429, 401, 403 USER_NOT_ALLOWLISTED) are not
// the app's traffic: anyone can send them, so they never make a burst.
TEST(AbuseDetector, RefusedRequestsMakeNoBurst) {
  AbuseDetector d(AbuseSettings{});
  AppUsage usage;
  const int64_t start = kT0 - kT0 % 3600;
  normal_mix(d, usage, start, 120);
  ASSERT_TRUE(d.drain().empty());
  const int64_t now = start + 120 * 60;
  for (int i = 0; i < 3000; ++i) {
    const int status = i % 3 == 0 ? 429 : (i % 3 == 1 ? 403 : 401);
    usage.note("app1", EndpointGroup::kSearch, status, "mallory", "g-mallory");
  }
  usage.fold(now);
  d.check_bursts(usage, now + 61);
  EXPECT_TRUE(d.drain().empty());
}

TEST(AbuseDetector, ABurstSaysHowManyGrantsItCameFrom) {
  AbuseDetector d(AbuseSettings{});
  AppUsage usage;
  const int64_t now = kT0 - kT0 % 60;
  for (int i = 0; i < 3000; ++i) {
    usage.note("app1", EndpointGroup::kSearch, 200, cat("u", i % 5), cat("g", i % 5));
  }
  usage.fold(now);
  d.check_bursts(usage, now + 61);
  auto f = d.drain();
  ASSERT_EQ(types(f), std::vector<std::string>{"abuse_burst"});
  EXPECT_EQ(f[0].grants, 5u);
  EXPECT_NE(f[0].detail.find("about 5 grant(s)"), std::string::npos) << f[0].detail;
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
  EXPECT_NE(f[0].detail.find("20 failed client authentications from one address within 600 s"),
            std::string::npos);
  // Addresses of one IPv6 /64 count together.
  AbuseDetector v6(AbuseSettings{});
  for (int i = 0; i < 20; ++i) v6.note_invalid_client(cat("2001:db8::", i + 1), "a", kT0);
  EXPECT_EQ(v6.drain().size(), 1u);
}

// issue15-fix:abuse: the action of secret guessing is on the source: with the block on, the
// address (its /64) is refused client authentication until its window ends; others are not.
TEST(AbuseDetector, SecretGuessingBlocksTheSourceUntilItsWindowEndsWhenOn) {
  AbuseDetector off(AbuseSettings{});
  for (int i = 0; i < 20; ++i) off.note_invalid_client("192.0.2.7", "app1", kT0);
  EXPECT_EQ(off.drain().size(), 1u);
  EXPECT_EQ(off.client_auth_wait("192.0.2.7", kT0 + 1), 0);  // off by default

  AbuseSettings s;
  s.block_guessing_sources = true;
  AbuseDetector d(s);
  for (int i = 0; i < 19; ++i) d.note_invalid_client("192.0.2.7", "app1", kT0 + i);
  EXPECT_EQ(d.client_auth_wait("192.0.2.7", kT0 + 19), 0);  // under the threshold: go on
  d.note_invalid_client("192.0.2.7", "app1", kT0 + 19);
  EXPECT_EQ(d.client_auth_wait("192.0.2.7", kT0 + 20), 580);  // the rest of its window
  EXPECT_EQ(d.client_auth_wait("::ffff:192.0.2.7", kT0 + 20), 580);
  EXPECT_EQ(d.client_auth_wait("192.0.2.8", kT0 + 20), 0);   // another address is not
  EXPECT_EQ(d.client_auth_wait("192.0.2.7", kT0 + 600), 0);  // the window ended
  // IPv6: the whole /64.
  for (int i = 0; i < 20; ++i) d.note_invalid_client(cat("2001:db8:1:2::", i + 1), "a", kT0);
  EXPECT_GT(d.client_auth_wait("2001:db8:1:2::ffff", kT0 + 1), 0);
  EXPECT_EQ(d.client_auth_wait("2001:db8:1:3::1", kT0 + 1), 0);
}

// One machine often holds a whole IPv6 /48 (65,536 /64s): its /64s count together, at
// ipv6_network_factor times the threshold, and the block covers the /48.
TEST(AbuseDetector, SecretGuessingFromManySlash64sOfOneSlash48FiresForTheNetwork) {
  AbuseSettings s;
  s.block_guessing_sources = true;
  AbuseDetector d(s);
  for (int i = 0; i < 160; ++i) {  // 160 /64s, one failure each: no /64 reaches 20
    d.note_invalid_client(cat("2001:db8:7:", i) + "::1", "app1", kT0);
  }
  auto f = d.drain();
  ASSERT_EQ(types(f), std::vector<std::string>{"abuse_secret_guessing"});
  EXPECT_EQ(f[0].ip, "2001:db8:7::/48");
  EXPECT_NE(f[0].detail.find("160 failed client authentications from one IPv6 /48"),
            std::string::npos);
  EXPECT_GT(d.client_auth_wait("2001:db8:7:ffff::9", kT0 + 1), 0);  // a fresh /64 of it
  EXPECT_EQ(d.client_auth_wait("2001:db8:8::1", kT0 + 1), 0);
}

// The presented client id is attacker text: kept whole when it can be an id, else dropped,
// never cut (a cut could split a UTF-8 character).
TEST(AbuseDetector, APresentedClientIdIsKeptWholeOrDropped) {
  AbuseSettings s;
  s.invalid_client = {1, 600};
  AbuseDetector d(s);
  const std::string longest(AbuseDetector::kMaxPresentedId, 'a');
  std::string too_long(AbuseDetector::kMaxPresentedId - 1, 'a');
  too_long += "\xc3\xa9";  // "é" across the limit
  d.note_invalid_client("192.0.2.1", longest, kT0);
  d.note_invalid_client("192.0.2.2", too_long, kT0);
  auto f = d.drain();
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].client_id, longest);
  EXPECT_EQ(f[1].client_id, "");
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
