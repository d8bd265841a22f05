#include "monitor/usage_aggregator.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <thread>

namespace stagepass {
namespace {

constexpr int64_t kNow = 1'000'000;

std::map<std::string, int64_t> as_map(const UsageAggregator::Uses& uses) {
  return {uses.begin(), uses.end()};
}

TEST(UsageAggregator, KeepsTheLatestUsePerGrant) {
  UsageAggregator agg(0);
  agg.note("g1", 100);
  agg.note("g1", 105);
  agg.note("g1", 103);  // out of order: the maximum wins
  agg.note("g2", 50);
  auto uses = agg.drain(kNow);
  EXPECT_EQ(uses.size(), 2u);
  EXPECT_EQ(as_map(uses), (std::map<std::string, int64_t>{{"g1", 105}, {"g2", 50}}));
}

TEST(UsageAggregator, DrainForgets) {
  UsageAggregator agg(0);
  EXPECT_TRUE(agg.drain(kNow).empty());
  agg.note("g1", 1);
  EXPECT_EQ(agg.drain(kNow).size(), 1u);
  EXPECT_TRUE(agg.drain(kNow).empty());
  agg.note("g1", 2);
  EXPECT_EQ(as_map(agg.drain(kNow)), (std::map<std::string, int64_t>{{"g1", 2}}));
}

TEST(UsageAggregator, RestoreMergesWithNewerNotes) {
  UsageAggregator agg(0);
  agg.note("g1", 10);
  auto failed = agg.drain(kNow);
  agg.note("g1", 20);
  agg.note("g2", 5);
  agg.restore(failed);
  EXPECT_EQ(as_map(agg.drain(kNow)), (std::map<std::string, int64_t>{{"g1", 20}, {"g2", 5}}));
}

TEST(UsageAggregator, AGrantInConstantUseIsHandedOutOnceAResolution) {
  UsageAggregator agg(60);
  agg.note("g1", 1000);
  EXPECT_EQ(as_map(agg.drain(1000)), (std::map<std::string, int64_t>{{"g1", 1000}}));
  for (int64_t t = 1005; t < 1060; t += 5) {
    agg.note("g1", t);
    EXPECT_TRUE(agg.drain(t).empty()) << t;
  }
  agg.note("g1", 1060);  // a resolution after the one handed out
  agg.note("g2", 1060);  // a grant not seen before is due at once
  EXPECT_EQ(as_map(agg.drain(1060)), (std::map<std::string, int64_t>{{"g1", 1060}, {"g2", 1060}}));
  agg.note("g1", 1119);
  EXPECT_TRUE(agg.drain(1119).empty());
  agg.note("g1", 1120);
  EXPECT_EQ(as_map(agg.drain(1120)), (std::map<std::string, int64_t>{{"g1", 1120}}));
}

TEST(UsageAggregator, EachGrantIsDueAResolutionAfterItsOwnLastHandOut) {
  UsageAggregator agg(60);
  agg.note("g1", 1000);
  agg.note("g2", 1030);
  EXPECT_EQ(agg.drain(1030).size(), 2u);
  // In constant use, each is due a resolution after its own last hand-out, not together.
  agg.note("g1", 1060);
  agg.note("g2", 1060);
  EXPECT_EQ(as_map(agg.drain(1060)), (std::map<std::string, int64_t>{{"g1", 1060}}));
  agg.note("g1", 1090);
  agg.note("g2", 1090);
  EXPECT_EQ(as_map(agg.drain(1090)), (std::map<std::string, int64_t>{{"g2", 1090}}));
}

TEST(UsageAggregator, RemembersAGrantForAResolutionAfterItsLastUse) {
  UsageAggregator agg(60);
  agg.note("g1", 1000);
  EXPECT_EQ(agg.drain(1000).size(), 1u);
  agg.note("g1", 1010);  // 10 s after the one handed out: not due
  EXPECT_TRUE(agg.drain(1069).empty());
  // Still remembered 59 s on: its pending use is there for the last drain.
  EXPECT_EQ(as_map(agg.drain_all()), (std::map<std::string, int64_t>{{"g1", 1010}}));
}

TEST(UsageAggregator, AForgottenGrantLeavesWithItsLastUse) {
  UsageAggregator agg(60);
  agg.note("g1", 1000);
  agg.note("g2", 1000);
  EXPECT_EQ(agg.drain(1000).size(), 2u);
  agg.note("g1", 1010);  // not due, and then no more uses
  EXPECT_EQ(as_map(agg.drain(1070)), (std::map<std::string, int64_t>{{"g1", 1010}}));
  EXPECT_TRUE(agg.drain_all().empty());  // both forgotten
  agg.note("g1", 1075);                  // so the next use is due at once
  EXPECT_EQ(as_map(agg.drain(1075)), (std::map<std::string, int64_t>{{"g1", 1075}}));
}

TEST(UsageAggregator, ForgetsAUseAResolutionAheadOfTheClock) {
  UsageAggregator agg(60);
  agg.note("g1", 1059);  // the wall clock stepped back since, or a bad clock noted it
  agg.note("g2", 1060);
  EXPECT_EQ(agg.drain(1000).size(), 2u);
  agg.note("g1", 1059);  // remembered: nothing new
  agg.note("g2", 1060);  // forgotten (a resolution ahead): due again
  EXPECT_EQ(as_map(agg.drain(1000)), (std::map<std::string, int64_t>{{"g2", 1060}}));
}

TEST(UsageAggregator, AnOlderUseChangesNothing) {
  UsageAggregator agg(60);
  agg.note("g1", 1000);
  EXPECT_EQ(agg.drain(1000).size(), 1u);
  agg.note("g1", 900);
  EXPECT_TRUE(agg.drain(1001).empty());
  EXPECT_TRUE(agg.drain_all().empty());
}

TEST(UsageAggregator, DrainAllHandsOutEveryPendingUseAndForgets) {
  UsageAggregator agg(60);
  agg.note("g1", 1000);
  agg.note("g2", 1000);
  EXPECT_EQ(agg.drain(1000).size(), 2u);
  agg.note("g1", 1010);  // not due yet, but pending
  agg.note("g3", 1011);
  EXPECT_EQ(as_map(agg.drain_all()), (std::map<std::string, int64_t>{{"g1", 1010}, {"g3", 1011}}));
  EXPECT_TRUE(agg.drain_all().empty());
  agg.note("g2", 1012);  // forgotten by drain_all: due at once
  EXPECT_EQ(as_map(agg.drain(1012)), (std::map<std::string, int64_t>{{"g2", 1012}}));
}

TEST(UsageAggregator, RestoredUsesAreDueAgain) {
  UsageAggregator agg(60);
  agg.note("g1", 1000);
  auto failed = agg.drain(1000);
  ASSERT_EQ(failed.size(), 1u);
  agg.restore(failed);
  EXPECT_EQ(as_map(agg.drain(1001)), (std::map<std::string, int64_t>{{"g1", 1000}}));
  EXPECT_TRUE(agg.drain(1002).empty());
}

TEST(UsageAggregator, ARestoredUseOfAForgottenGrantIsDueAgain) {
  UsageAggregator agg(60);
  agg.note("g1", 1000);
  auto failed = agg.drain(1100);  // handed out and forgotten in the same drain
  ASSERT_EQ(failed.size(), 1u);
  agg.restore(failed);
  EXPECT_EQ(as_map(agg.drain(1105)), (std::map<std::string, int64_t>{{"g1", 1000}}));
  EXPECT_TRUE(agg.drain(1106).empty());
}

// Four threads note 200 grants, each at times first..first+199, while another drains at
// `drain_at`; then the last drain (drain_all when `all`). Returns the latest use handed out
// per grant.
std::map<std::string, int64_t> latest_handed_out(UsageAggregator& agg, int64_t first,
                                                 int64_t drain_at, bool all) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 50;
  std::vector<std::string> ids;
  for (int g = 0; g < 200; ++g) ids.push_back("grant-" + std::to_string(g));
  std::map<std::string, int64_t> seen;
  std::atomic<bool> done{false};
  std::thread drainer([&] {
    while (!done) {
      for (auto& [id, at] : agg.drain(drain_at)) seen[id] = std::max(seen[id], at);
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        for (const auto& id : ids) agg.note(id, first + r * kThreads + t);
      }
    });
  }
  for (auto& w : writers) w.join();
  done = true;
  drainer.join();
  for (auto& [id, at] : all ? agg.drain_all() : agg.drain(drain_at)) {
    seen[id] = std::max(seen[id], at);
  }
  return seen;
}

TEST(UsageAggregator, ConcurrentNotesAndDrainsLoseNothing) {
  UsageAggregator agg(0);
  auto seen = latest_handed_out(agg, 1, kNow, false);
  ASSERT_EQ(seen.size(), 200u);
  for (const auto& [id, at] : seen) EXPECT_EQ(at, 200) << id;
}

TEST(UsageAggregator, ConcurrentNotesAndResolutionDrainsEndWithTheLatestUse) {
  // Uses over 200 s, drained at a time that remembers some grants and forgets others: many
  // uses are skipped, the latest must come out.
  UsageAggregator agg(60);
  auto seen = latest_handed_out(agg, kNow, kNow + 100, true);
  ASSERT_EQ(seen.size(), 200u);
  for (const auto& [id, at] : seen) EXPECT_EQ(at, kNow + 199) << id;
}

}  // namespace
}  // namespace stagepass
