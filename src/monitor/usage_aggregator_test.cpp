#include "monitor/usage_aggregator.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <thread>

namespace stagepass {
namespace {

std::map<std::string, int64_t> as_map(const UsageAggregator::Uses& uses) {
  return {uses.begin(), uses.end()};
}

TEST(UsageAggregator, KeepsTheLatestUsePerGrant) {
  UsageAggregator agg;
  agg.note("g1", 100);
  agg.note("g1", 105);
  agg.note("g1", 103);  // out of order: the maximum wins
  agg.note("g2", 50);
  auto uses = agg.drain();
  EXPECT_EQ(uses.size(), 2u);
  EXPECT_EQ(as_map(uses), (std::map<std::string, int64_t>{{"g1", 105}, {"g2", 50}}));
}

TEST(UsageAggregator, DrainForgets) {
  UsageAggregator agg;
  EXPECT_TRUE(agg.drain().empty());
  agg.note("g1", 1);
  EXPECT_EQ(agg.drain().size(), 1u);
  EXPECT_TRUE(agg.drain().empty());
  agg.note("g1", 2);
  EXPECT_EQ(as_map(agg.drain()), (std::map<std::string, int64_t>{{"g1", 2}}));
}

TEST(UsageAggregator, RestoreMergesWithNewerNotes) {
  UsageAggregator agg;
  agg.note("g1", 10);
  auto failed = agg.drain();
  agg.note("g1", 20);
  agg.note("g2", 5);
  agg.restore(failed);
  EXPECT_EQ(as_map(agg.drain()), (std::map<std::string, int64_t>{{"g1", 20}, {"g2", 5}}));
}

TEST(UsageAggregator, ConcurrentNotesAndDrainsLoseNothing) {
  UsageAggregator agg;
  constexpr int kThreads = 4;
  constexpr int kGrants = 200;
  constexpr int kRounds = 50;
  std::vector<std::string> ids;
  for (int g = 0; g < kGrants; ++g) ids.push_back("grant-" + std::to_string(g));
  std::map<std::string, int64_t> seen;
  std::atomic<bool> done{false};
  std::thread drainer([&] {
    while (!done) {
      for (auto& [id, at] : agg.drain()) seen[id] = std::max(seen[id], at);
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        for (const auto& id : ids) agg.note(id, r * kThreads + t);
      }
    });
  }
  for (auto& w : writers) w.join();
  done = true;
  drainer.join();
  for (auto& [id, at] : agg.drain()) seen[id] = std::max(seen[id], at);
  ASSERT_EQ(seen.size(), size_t{kGrants});
  for (const auto& [id, at] : seen) EXPECT_EQ(at, (kRounds - 1) * kThreads + kThreads - 1) << id;
}

}  // namespace
}  // namespace stagepass
