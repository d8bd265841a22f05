// Pruner: the bounds it passes to the store for each kind, batches until a short one, at most
// max_batches per kind per pass (then again at the next tick), the interval, the counters.
#include "app/pruner.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace stagepass {
namespace {

// Holds `left` rows of each kind; records the bound of every call.
class CountingPruneStore final : public PruneStore {
 public:
  std::map<std::string, int64_t> left;
  std::vector<std::pair<std::string, int64_t>> calls;  // kind, bound (keep for the cap)

  Result<int64_t> prune_codes(int64_t before, int limit) override {
    return take("code", before, limit);
  }
  // The sweep: `left["sweep_steps"]` steps before it wraps, deleting one of each per step.
  Result<Swept> sweep_refresh_tokens(int64_t idle_before, int64_t rotated_before,
                                     int /*limit*/) override {
    calls.emplace_back("sweep", idle_before);
    calls.emplace_back("sweep_rotated", rotated_before);
    const bool more = left["sweep_steps"] > 1;
    if (left["sweep_steps"] > 0) --left["sweep_steps"];
    return Swept{1, 1, !more};
  }
  Result<int64_t> cap_rotated_refresh_tokens(int keep, int64_t rotated_before, int limit) override {
    calls.emplace_back("cap_rotated_before", rotated_before);
    return take("refresh_capped", keep, limit);
  }
  Result<int64_t> prune_sessions(int64_t before, int limit) override {
    return take("session", before, limit);
  }
  Result<int64_t> prune_events(int64_t before, int limit) override {
    return take("event", before, limit);
  }

 private:
  Result<int64_t> take(const std::string& kind, int64_t bound, int limit) {
    calls.emplace_back(kind, bound);
    const int64_t n = std::min<int64_t>(left[kind], limit);
    left[kind] -= n;
    return n;
  }
};

PruneSettings small() {
  PruneSettings s;
  s.interval = 10;
  s.margin = 100;
  s.reuse_window = 1000;
  s.rotated_keep = 20;
  s.audit_retention = 5000;
  s.batch = 3;
  s.max_batches = 2;
  return s;
}

TEST(Pruner, PassesEachKindItsBoundAndDrainsInBatches) {
  CountingPruneStore store;
  ManualClock clock(10000);
  Metrics metrics;
  Pruner pruner(store, clock, metrics, small());
  store.left = {{"code", 4}, {"event", 1}};
  Pruner::Counts c = pruner.pass(10000);
  EXPECT_EQ(c[Pruner::kCodes], 4);  // 3, then 1 (short: done)
  EXPECT_EQ(c[Pruner::kEvents], 1);
  EXPECT_EQ(c[Pruner::kRefreshExpired], 1);  // one sweep step: the round wrapped
  EXPECT_EQ(c[Pruner::kRefreshRotated], 1);
  const std::vector<std::pair<std::string, int64_t>> want = {
      {"code", 9900},
      {"code", 9900},
      {"sweep", 9900},
      {"sweep_rotated", 9000},
      {"cap_rotated_before", 10000 - kCapFloorSeconds},  // never a token of the last day
      {"refresh_capped", 20},
      {"session", 9900},
      {"event", 5000}};
  EXPECT_EQ(store.calls, want);
  EXPECT_NE(metrics.render().find("stagepass_pruned_rows_total{kind=\"code\"} 4"),
            std::string::npos);
}

TEST(Pruner, AKindThatFillsItsBatchesGoesOnAtTheNextTickTheOthersWaitTheInterval) {
  CountingPruneStore store;
  ManualClock clock(10000);
  Metrics metrics;
  Pruner pruner(store, clock, metrics, small());
  store.left = {{"refresh_capped", 10}};
  pruner.run();  // 2 batches of 3: 4 left, behind
  EXPECT_EQ(store.left["refresh_capped"], 4);
  store.calls.clear();
  pruner.run();  // same second: due again at once
  EXPECT_EQ(store.left["refresh_capped"], 0);
  store.calls.clear();
  clock.advance(9);
  pruner.run();  // caught up: nothing until the interval
  EXPECT_TRUE(store.calls.empty());
  clock.advance(1);
  pruner.run();
  EXPECT_FALSE(store.calls.empty());
}

// A sweep round over a large store spans passes, max_batches steps each, at the interval's
// pace: it does not make the pass "behind".
TEST(Pruner, TheSweepGoesOnAtTheNextPassNotAtTheNextTick) {
  CountingPruneStore store;
  ManualClock clock(10000);
  Metrics metrics;
  Pruner pruner(store, clock, metrics, small());
  store.left = {{"sweep_steps", 5}};
  pruner.run();  // 2 steps (max_batches)
  EXPECT_EQ(store.left["sweep_steps"], 3);
  pruner.run();  // not due
  EXPECT_EQ(store.left["sweep_steps"], 3);
  clock.advance(10);
  pruner.run();
  EXPECT_EQ(store.left["sweep_steps"], 1);
}

TEST(Pruner, NoIntervalNeverPrunesAndNoRetentionKeepsEvents) {
  CountingPruneStore store;
  ManualClock clock(10000);
  Metrics metrics;
  PruneSettings off = small();
  off.interval = 0;
  Pruner never(store, clock, metrics, off);
  never.run();
  EXPECT_TRUE(store.calls.empty());
  PruneSettings keep = small();
  keep.audit_retention = 0;
  store.left = {{"event", 5}};
  Pruner pruner(store, clock, metrics, keep);
  pruner.run();
  EXPECT_EQ(store.left["event"], 5);
}

}  // namespace
}  // namespace stagepass
