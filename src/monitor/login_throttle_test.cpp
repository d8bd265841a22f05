#include "monitor/login_throttle.hpp"

#include <gtest/gtest.h>

#include <atomic>
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

}  // namespace
}  // namespace stagepass
