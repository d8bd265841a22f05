#include "app/pruner.hpp"

#include <string>

#include "monitor/log.hpp"

namespace stagepass {
namespace {

constexpr const char* kKindNames[Pruner::kKinds] = {
    "code", "refresh_expired", "refresh_rotated", "refresh_capped", "session", "event"};

}  // namespace

Pruner::Pruner(PruneStore& store, const Clock& clock, Metrics& metrics, PruneSettings settings)
    : store_(store), clock_(clock), settings_(settings) {
  metrics.describe("stagepass_pruned_rows_total", "counter",
                   "Rows the pruner deleted from the accounts store, by kind");
  for (int k = 0; k < kKinds; ++k) {
    counters_[k] = &metrics.counter(std::string("stagepass_pruned_rows_total{kind=\"") +
                                    kKindNames[k] + "\"}");
  }
}

void Pruner::run() {
  if (settings_.interval <= 0) return;
  const int64_t now = clock_.now();
  if (now < next_pass_) return;
  bool behind = false;
  Counts deleted{};
  for (int k = 0; k < kKinds; ++k) behind |= drain(static_cast<Kind>(k), now, deleted);
  // A kind that filled its batches has more waiting: the next tick goes on with it.
  next_pass_ = behind ? now : now + settings_.interval;
}

Pruner::Counts Pruner::pass(int64_t now) {
  Counts out{};
  for (int k = 0; k < kKinds; ++k) drain(static_cast<Kind>(k), now, out);
  return out;
}

bool Pruner::drain(Kind kind, int64_t now, Counts& deleted) {
  const PruneSettings& s = settings_;
  if (kind == kEvents && s.audit_retention <= 0) return false;
  if (kind == kRefreshRotated) return false;  // swept with kRefreshExpired
  for (int i = 0; i < s.max_batches; ++i) {
    Result<int64_t> r = 0;
    switch (kind) {
      case kCodes:
        r = store_.prune_codes(now - s.margin, s.batch);
        break;
      case kRefreshExpired: {
        // A sweep step looks at `batch` tokens; a round over a large store takes several
        // passes, at the pace of the interval (it never makes the pass "behind").
        auto swept = store_.sweep_refresh_tokens(now - s.margin, now - s.reuse_window, s.batch);
        if (!swept) {
          r = fail(std::move(swept.error()));
          break;
        }
        count(kRefreshExpired, swept->expired, deleted);
        count(kRefreshRotated, swept->rotated, deleted);
        if (swept->wrapped) return false;
        continue;
      }
      case kRefreshRotated:
        break;
      case kRefreshCapped:
        r = store_.cap_rotated_refresh_tokens(s.rotated_keep, now - kCapFloorSeconds, s.batch);
        break;
      case kSessions:
        r = store_.prune_sessions(now - s.margin, s.batch);
        break;
      case kEvents:
        r = store_.prune_events(now - s.audit_retention, s.batch);
        break;
    }
    if (!r) {
      log::event("warn", "pruning failed",
                 {{"kind", kKindNames[kind]}, {"error", r.error().message}});
      return false;
    }
    count(kind, *r, deleted);
    if (*r < s.batch) return false;
  }
  return kind != kRefreshExpired;
}

void Pruner::count(Kind kind, int64_t n, Counts& deleted) {
  deleted[kind] += n;
  counters_[kind]->fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
}

}  // namespace stagepass
