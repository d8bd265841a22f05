#include "app/jwks_refresher.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace stagepass {
namespace {

std::shared_ptr<const Keyring> ring(const std::string& kid) {
  return std::make_shared<const Keyring>(
      std::vector<OpenKey>{{kid, "EdDSA", std::string(32, 'x'), Secret()}});
}

// The api-only role's refetch policy, driven by a manual clock and a stub fetch that counts
// (the keys of the n-th fetch have the kid "n").
class JwksRefresherTest : public ::testing::Test {
 protected:
  JwksRefresherTest()
      : refresher_(
            clock_, {300, 5},
            [this] {
              ++fetches_;
              JwksRefresher::Fetched got;
              if (fail_next_) {
                got.error = "down";
              } else {
                got.keys = ring(std::to_string(fetches_));
                got.max_age = max_age_;
              }
              return got;
            },
            [this](std::shared_ptr<const Keyring> keys) { installed_ = std::move(keys); }) {
    refresher_.wake_with([this] { ++wakes_; });
  }

  ManualClock clock_{1'000'000};
  int fetches_ = 0;
  int wakes_ = 0;
  bool fail_next_ = false;
  int64_t max_age_ = -1;
  std::shared_ptr<const Keyring> installed_;
  JwksRefresher refresher_;
};

TEST_F(JwksRefresherTest, FetchesAtStartThenWhenTheCopyIsDue) {
  EXPECT_TRUE(refresher_.run(true));
  ASSERT_TRUE(installed_);
  EXPECT_TRUE(installed_->find("1"));
  clock_.advance(299);
  EXPECT_FALSE(refresher_.run());
  clock_.advance(1);
  EXPECT_TRUE(refresher_.run());
  EXPECT_EQ(fetches_, 2);
}

TEST_F(JwksRefresherTest, AnUnknownKidFetchesAtOnceButAtMostOncePerRetryInterval) {
  refresher_.run(true);
  clock_.advance(5);
  // Many tokens with unknown kids (say, a rotation this node missed, or forged kids): the
  // fetcher is woken once and fetches once.
  for (int i = 0; i < 100; ++i) refresher_.unknown_kid();
  EXPECT_EQ(wakes_, 1);
  EXPECT_TRUE(refresher_.run());
  EXPECT_FALSE(refresher_.run());
  EXPECT_EQ(fetches_, 2);
  // Right after a fetch, a new unknown kid neither wakes nor fetches...
  for (int i = 0; i < 100; ++i) refresher_.unknown_kid();
  EXPECT_EQ(wakes_, 1);
  clock_.advance(4);
  EXPECT_FALSE(refresher_.run());
  EXPECT_EQ(fetches_, 2);
  // ...but is remembered: the first run past the interval fetches for it, once.
  clock_.advance(1);
  EXPECT_TRUE(refresher_.run());
  EXPECT_FALSE(refresher_.run());
  EXPECT_EQ(fetches_, 3);
  EXPECT_TRUE(installed_->find("3"));
  // Nothing pending: no fetch until the copy is due.
  clock_.advance(10);
  EXPECT_FALSE(refresher_.run());
  EXPECT_EQ(fetches_, 3);
}

TEST_F(JwksRefresherTest, OneFetchAtATime) {
  refresher_.run(true);
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false, release = false;
  int concurrent_fetches = 0;
  JwksRefresher slow(
      clock_, {300, 5},
      [&] {
        std::unique_lock lk(mu);
        // Only the first fetch blocks: a second one (a broken single flight) counts and
        // returns, so the test fails rather than hangs.
        if (++concurrent_fetches == 1) {
          entered = true;
          cv.notify_all();
          cv.wait(lk, [&] { return release; });
        }
        return JwksRefresher::Fetched{ring("slow"), -1, ""};
      },
      [](std::shared_ptr<const Keyring>) {});
  std::thread first([&] { slow.run(true); });
  {
    std::unique_lock lk(mu);
    cv.wait(lk, [&] { return entered; });
  }
  // While that fetch runs, every other caller returns at once without fetching, forced or not.
  clock_.advance(10);
  std::vector<std::thread> others;
  std::atomic<int> fetched{0};
  for (int i = 0; i < 8; ++i) {
    others.emplace_back([&, i] {
      slow.unknown_kid();
      if (slow.run(i % 2 == 0)) ++fetched;
    });
  }
  for (auto& t : others) t.join();
  EXPECT_EQ(fetched.load(), 0);
  {
    std::lock_guard lk(mu);
    release = true;
  }
  cv.notify_all();
  first.join();
  EXPECT_EQ(concurrent_fetches, 1);
}

TEST_F(JwksRefresherTest, HonoursTheIssuersMaxAgeWhenShorter) {
  max_age_ = 2;
  refresher_.run(true);
  EXPECT_EQ(refresher_.refresh_interval(), 2);
  clock_.advance(1);
  EXPECT_FALSE(refresher_.run());
  clock_.advance(1);
  EXPECT_TRUE(refresher_.run());
  max_age_ = 3600;  // longer than STAGEPASS_JWKS_REFRESH: the setting wins
  clock_.advance(2);
  EXPECT_TRUE(refresher_.run());
  EXPECT_EQ(refresher_.refresh_interval(), 300);
}

TEST_F(JwksRefresherTest, RetriesAFailedFetchAfterTheRetryIntervalAndKeepsTheLastCopy) {
  refresher_.run(true);
  auto good = installed_;
  clock_.advance(300);
  fail_next_ = true;
  EXPECT_TRUE(refresher_.run());
  EXPECT_EQ(installed_, good);
  clock_.advance(4);
  EXPECT_FALSE(refresher_.run());
  fail_next_ = false;
  clock_.advance(1);
  EXPECT_TRUE(refresher_.run());
  EXPECT_NE(installed_, good);
}

}  // namespace
}  // namespace stagepass
