#include "monitor/login_throttle.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

namespace stagepass {
namespace {

TEST(LoginThrottle, BlocksAnAccountAfterTooManyFailuresThenForgives) {
  LoginThrottle t({3, 100, 60, 1000});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(t.reserve("a@x", "1.1.1.1", 100 + i), 0);
  EXPECT_EQ(t.reserve("a@x", "2.2.2.2", 103), 57);
  EXPECT_EQ(t.reserve("b@x", "1.1.1.1", 103), 0);
  EXPECT_EQ(t.reserve("a@x", "1.1.1.1", 161), 0);
}

TEST(LoginThrottle, BlocksAnIpAcrossAccounts) {
  LoginThrottle t({100, 2, 60, 1000});
  EXPECT_EQ(t.reserve("a@x", "9.9.9.9", 10), 0);
  EXPECT_EQ(t.reserve("b@x", "9.9.9.9", 11), 0);
  EXPECT_GT(t.reserve("c@x", "9.9.9.9", 12), 0);
  EXPECT_EQ(t.reserve("c@x", "8.8.8.8", 12), 0);
}

TEST(LoginThrottle, ARefusedAttemptIsNotCounted) {
  LoginThrottle t({1, 100, 60, 1000});
  EXPECT_EQ(t.reserve("a@x", "1", 10), 0);
  for (int i = 0; i < 50; ++i) EXPECT_GT(t.reserve("a@x", "1", 11), 0);
  EXPECT_EQ(t.reserve("a@x", "1", 70), 0);  // only the first attempt was in the window
}

TEST(LoginThrottle, SuccessForgetsTheAccountAndGivesTheIpItsAttemptBack) {
  LoginThrottle t({2, 2, 60, 1000});
  EXPECT_EQ(t.reserve("a@x", "1", 10), 0);
  EXPECT_EQ(t.reserve("a@x", "1", 11), 0);
  t.succeeded("a@x", "1", 11);
  EXPECT_EQ(t.reserve("a@x", "1", 12), 0);  // the IP has 1 failure, the account none
  EXPECT_GT(t.reserve("b@x", "1", 13), 0);  // now the IP holds 2
}

TEST(LoginThrottle, ReserveIpCountsEveryAttemptOfTheIp) {
  LoginThrottle t({1, 3, 3600, 1000});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(t.reserve_ip("5.5.5.5", 100), 0);
  EXPECT_EQ(t.reserve_ip("5.5.5.5", 101), 3599);
  EXPECT_EQ(t.reserve_ip("6.6.6.6", 101), 0);
  EXPECT_EQ(t.reserve_ip("5.5.5.5", 3700), 0);
}

// The race this class exists to close: many attempts at once against one account may check
// at most the limit's worth of passwords, however the threads interleave.
TEST(LoginThrottle, ParallelAttemptsReserveAtMostTheLimit) {
  constexpr int kLimit = 5;
  constexpr int kThreads = 32;
  constexpr int kAttemptsEach = 50;
  LoginThrottle t({kLimit, 1000000, 900, 1000});
  std::atomic<int> admitted{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      for (int k = 0; k < kAttemptsEach; ++k) {
        if (t.reserve("victim@x", "10.0.0." + std::to_string(i), 1000) == 0) ++admitted;
      }
    });
  }
  go = true;
  for (auto& th : threads) th.join();
  EXPECT_EQ(admitted.load(), kLimit);
}

TEST(LoginThrottle, ParallelSuccessesGiveBackExactlyTheirOwnAttempts) {
  constexpr int kThreads = 16;
  LoginThrottle t({1000000, kThreads, 900, 1000});
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      std::string account = "user" + std::to_string(i);
      for (int k = 0; k < 100; ++k) {
        if (t.reserve(account, "1.2.3.4", 1000) == 0) t.succeeded(account, "1.2.3.4", 1000);
      }
    });
  }
  for (auto& th : threads) th.join();
  // Every attempt succeeded and was given back: the IP has its whole allowance.
  for (int i = 0; i < kThreads; ++i) EXPECT_EQ(t.reserve("x", "1.2.3.4", 1001), 0);
  EXPECT_GT(t.reserve("x", "1.2.3.4", 1001), 0);
}

// An attacker who fills the table with fresh keys must not make it forget a live counter:
// the victim's account stays throttled, and new keys are refused (fail closed) until expired
// entries make room.
TEST(LoginThrottle, AFullTableKeepsLiveCountersAndRefusesNewKeys) {
  LoginThrottle t({2, 1000, 60, 6});
  EXPECT_EQ(t.reserve("victim@x", "1.1.1.1", 100), 0);
  EXPECT_EQ(t.reserve("victim@x", "1.1.1.1", 101), 0);
  EXPECT_GT(t.reserve("victim@x", "1.1.1.1", 102), 0);  // throttled (2 keys in the table)
  // The attacker fills the table from one address with new account names.
  int admitted = 0;
  for (int i = 0; i < 20; ++i) {
    std::string account = "attacker" + std::to_string(i);
    admitted += t.reserve(account, "6.6.6.6", 103) == 0;
  }
  EXPECT_EQ(admitted, 3);  // 2 (victim, 1.1.1.1) + 6.6.6.6 + 3 accounts = the 6 keys
  EXPECT_GT(t.reserve("victim@x", "1.1.1.1", 104), 0);  // still throttled
  EXPECT_GT(t.reserve("new@x", "7.7.7.7", 104), 0);     // full of live counters: refused
  EXPECT_GT(t.reserve_ip("8.8.8.8", 104), 0);
}

// Once entries leave their window, a full table makes room from them, oldest first.
TEST(LoginThrottle, AFullTableReclaimsExpiredEntries) {
  LoginThrottle t({5, 1000, 60, 4});
  EXPECT_EQ(t.reserve("old@x", "1.1.1.1", 100), 0);     // expires at 160
  EXPECT_EQ(t.reserve("newer@x", "2.2.2.2", 130), 0);   // expires at 190
  EXPECT_GT(t.reserve("third@x", "3.3.3.3", 150), 0);   // full, nothing expired yet
  EXPECT_EQ(t.reserve("third@x", "3.3.3.3", 161), 0);   // old@x and 1.1.1.1 reclaimed
  EXPECT_GT(t.reserve("fourth@x", "4.4.4.4", 161), 0);  // newer@x is still live: kept
  EXPECT_EQ(t.reserve("newer@x", "2.2.2.2", 162), 0);   // and still counts its attempt
}

// One IPv6 host usually holds a whole /64: its addresses share one counter, so rotating the
// interface identifier gains nothing. IPv4 (and IPv4-mapped) addresses count one by one.
TEST(LoginThrottle, AddressesOfOneIpv6Slash64ShareACounter) {
  EXPECT_EQ(LoginThrottle::ip_key("2001:db8:1:2::1"),
            LoginThrottle::ip_key("2001:db8:1:2:ffff::9"));
  EXPECT_NE(LoginThrottle::ip_key("2001:db8:1:2::1"), LoginThrottle::ip_key("2001:db8:1:3::1"));
  EXPECT_EQ(LoginThrottle::ip_key("::ffff:192.0.2.1"), LoginThrottle::ip_key("192.0.2.1"));
  EXPECT_NE(LoginThrottle::ip_key("192.0.2.1"), LoginThrottle::ip_key("192.0.2.2"));
  LoginThrottle t({100, 2, 60, 1000});
  EXPECT_EQ(t.reserve("a@x", "2001:db8:1:2::1", 10), 0);
  EXPECT_EQ(t.reserve("b@x", "2001:db8:1:2::2", 11), 0);
  EXPECT_GT(t.reserve("c@x", "2001:db8:1:2:abcd::3", 12), 0);
  EXPECT_EQ(t.reserve("c@x", "2001:db8:1:3::1", 12), 0);
  EXPECT_GT(t.reserve_ip("2001:db8:1:2::7", 13), 0);
}

// One customer often holds a whole IPv6 /48: 65,536 /64s, each with its own per-IP allowance,
// would let one machine fill the table with fresh keys and lock everyone out of signing in.
// The /48 has an allowance of its own (ipv6_network_factor times the per-IP one).
TEST(LoginThrottle, OneIpv6Slash48CannotFillTheTable) {
  LoginThrottle t({5, 4, 900, 100000, 8});  // per /48: 32 failures
  int counted = 0;
  for (int net = 0; net < 4096; ++net) {
    char ip[64];
    std::snprintf(ip, sizeof ip, "2001:db8:7:%x::1", net);
    for (int i = 0; i < 4; ++i) {
      counted += t.reserve("victim" + std::to_string(net * 4 + i) + "@x", ip, 100) == 0;
    }
  }
  EXPECT_EQ(counted, 32);
  // Someone on another network signs in as usual.
  EXPECT_EQ(t.reserve("alice@x", "2001:db8:8::1", 101), 0);
  EXPECT_EQ(t.reserve("bob@x", "192.0.2.7", 101), 0);
  EXPECT_EQ(LoginThrottle::network_key("192.0.2.7"), "");
  EXPECT_EQ(LoginThrottle::network_key("::ffff:192.0.2.7"), "");
  EXPECT_EQ(LoginThrottle::network_key("2001:db8:7:ffff::1"),
            LoginThrottle::network_key("2001:db8:7::"));
}

// A wall clock stepped back must not make a live counter look expired (and reclaimable).
TEST(LoginThrottle, AClockSteppedBackKeepsALiveCounter) {
  LoginThrottle t({2, 1000, 60, 3});
  EXPECT_EQ(t.reserve("victim@x", "1.1.1.1", 1000), 0);  // live until 1060
  EXPECT_EQ(t.reserve("victim@x", "1.1.1.1", 900), 0);   // the clock stepped back 100 s
  // Filling the table at 961 (past 900 + 60, before 1060) must not reclaim the victim's.
  EXPECT_GT(t.reserve("filler@x", "2.2.2.2", 961), 0);
  EXPECT_GT(t.reserve("victim@x", "1.1.1.1", 1001), 0);
}

// An attempt that could not be checked (store failure) is no failure: both counters get it
// back, and the failures before it stay counted.
TEST(LoginThrottle, ReleaseGivesBackOnlyThatAttempt) {
  LoginThrottle t({2, 100, 60, 1000});
  EXPECT_EQ(t.reserve("a@x", "1.1.1.1", 10), 0);  // a wrong password
  EXPECT_EQ(t.reserve("a@x", "1.1.1.1", 11), 0);  // the store failed
  t.release("a@x", "1.1.1.1", 11);
  EXPECT_EQ(t.reserve("a@x", "1.1.1.1", 12), 0);  // so one attempt is left
  EXPECT_GT(t.reserve("a@x", "1.1.1.1", 13), 0);  // and the first failure still counts
}

}  // namespace
}  // namespace stagepass
