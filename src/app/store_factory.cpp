#include "app/store_factory.hpp"

#include "store/sqlite/sqlite_store.hpp"

namespace stagepass {

OpenedStore open_accounts_store(const Config& cfg, int workers) {
  auto store = std::make_unique<sqlite::SqliteStore>(cfg.database, workers);
  auto* sqlite = store.get();
  auto export_metrics = [sqlite](Metrics& metrics) {
    metrics.describe("stagepass_store_writes_total", "counter",
                     "Accounts store writes (each durable when its request is answered)");
    metrics.gauge("stagepass_store_writes_total",
                  [sqlite] { return double(sqlite->group_stats().writes); });
    metrics.describe(
        "stagepass_store_commits_total", "counter",
        "Durable SQLite commits of the accounts store (group commit: many writes each)");
    metrics.gauge("stagepass_store_commits_total",
                  [sqlite] { return double(sqlite->group_stats().commits); });
  };
  return {std::move(store), std::move(export_metrics)};
}

}  // namespace stagepass
