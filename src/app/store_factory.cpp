#include "app/store_factory.hpp"

#include <sched.h>

#include <ctime>
#include <stdexcept>
#include <thread>

#include "store/postgresql/pg_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace stagepass {

namespace {

// How long a request waits for a free connection before it is answered 503: "within a
// second" when the database is gone (issue 16).
constexpr int kPoolWaitMs = 1000;

// The CPUs this process may run on (its affinity mask: a cpuset or taskset), not the host's.
int usable_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) != 0) {
    return static_cast<int>(std::thread::hardware_concurrency());
  }
  return CPU_COUNT(&set);
}

OpenedStore open_postgresql(const Config& cfg, int workers) {
  // One connection per worker thread that may call the store at once, plus two for the
  // background chores; a caller waits at most a second for one (then 503, Retry-After).
  postgresql::PgStore::Options options{
      cfg.database, "", workers + 2, std::chrono::milliseconds(kPoolWaitMs), cfg.database_replica};
  auto store = std::make_unique<postgresql::PgStore>(std::move(options));
  if (auto opened = store->open(static_cast<int64_t>(std::time(nullptr))); !opened) {
    throw std::runtime_error("cannot open the PostgreSQL database: " + opened.error().message);
  }
  auto* pg = store.get();
  auto export_metrics = [pg](Metrics& metrics) {
    metrics.describe("stagepass_store_connections", "gauge",
                     "Open PostgreSQL connections of this node's pool (idle or in use)");
    metrics.gauge("stagepass_store_connections", [pg] { return double(pg->open_connections()); });
  };
  return {std::move(store), std::move(export_metrics)};
}

}  // namespace

OpenedStore open_accounts_store(const Config& cfg, int workers) {
  // The serving node's worker threads each hold a connection while they wait on the
  // database (SQLite's readers are capped at 8; a PostgreSQL pool is not).
  if (is_postgresql_url(cfg.database)) {
    return open_postgresql(cfg, workers > 1 ? cfg.store_threads + cfg.commit_threads : workers);
  }
  auto store = std::make_unique<sqlite::SqliteStore>(cfg.database, workers);
  auto* sqlite = store.get();
  auto export_metrics = [sqlite](Metrics& metrics) {
    metrics.describe("stagepass_store_writes_total", "counter",
                     "Accounts store writes run by its writer (each answered once its group's "
                     "COMMIT ended: durable, or failed)");
    metrics.gauge("stagepass_store_writes_total",
                  [sqlite] { return double(sqlite->group_stats().writes); });
    metrics.describe(
        "stagepass_store_commits_total", "counter",
        "SQLite commits of the accounts store, one per group of writes (group commit)");
    metrics.gauge("stagepass_store_commits_total",
                  [sqlite] { return double(sqlite->group_stats().commits); });
    metrics.describe("stagepass_store_writer_busy_seconds_total", "counter",
                     "Time the accounts store's one writer thread spent on groups of writes; "
                     "near 1 s per second, durable writes are at this node's capacity");
    metrics.gauge("stagepass_store_writer_busy_seconds_total",
                  [sqlite] { return sqlite->group_stats().busy_seconds; });
    metrics.describe("stagepass_store_commit_seconds_total", "counter",
                     "Of that time, in COMMIT: the log written and synced to disk, and the "
                     "checkpoints SQLite runs inside commits (failed ones too)");
    metrics.gauge("stagepass_store_commit_seconds_total",
                  [sqlite] { return sqlite->group_stats().commit_seconds; });
  };
  auto on_serving = [sqlite, steps = cfg.writer_priority]() -> std::optional<std::string> {
    // With one usable CPU a raised writer could take it from the request threads for as long
    // as writes keep coming (nice -10 weighs 9.3 times a level thread): left level there.
    if (steps == 0 || usable_cpus() < 2) return std::nullopt;
    auto raised = sqlite->raise_writer_priority(steps);
    if (raised) return std::nullopt;
    return raised.error().message;
  };
  return {std::move(store), std::move(export_metrics), std::move(on_serving)};
}

}  // namespace stagepass
