// Background: the node's chores on one thread, on a schedule of ticks. A chore that overruns
// the next tick gets a whole period of rest after it: a pruning pass behind its work goes on
// every tick, and must not go on without a pause.
#include "app/background.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace stagepass {
namespace {

using Clock = std::chrono::steady_clock;

TEST(BackgroundTest, AChoreThatOverrunsTheNextTickGetsAWholePeriodOfRest) {
  constexpr auto kPeriod = std::chrono::milliseconds(50);
  std::mutex mu;
  std::vector<std::pair<Clock::time_point, Clock::time_point>> runs;  // start, end
  Background background(kPeriod);
  background.add([&] {
    const auto start = Clock::now();
    bool first = false;
    {
      std::lock_guard lk(mu);
      first = runs.empty();
    }
    if (first) std::this_thread::sleep_for(kPeriod * 3);  // past the next two ticks
    std::lock_guard lk(mu);
    runs.emplace_back(start, Clock::now());
  });
  background.start();
  const auto give_up = Clock::now() + std::chrono::seconds(10);
  for (;;) {
    {
      std::lock_guard lk(mu);
      if (runs.size() >= 2 || Clock::now() > give_up) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  background.stop();
  ASSERT_GE(runs.size(), 2u);
  EXPECT_GE(runs[1].first - runs[0].second, kPeriod) << "no rest after the overrun";
}

}  // namespace
}  // namespace stagepass
