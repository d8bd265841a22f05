// The accounts store a configuration names: STAGEPASS_DATABASE is a SQLite file (the
// default, embedded) or a postgresql:// URL (several nodes on one database, issue 16).
// Used by the composition root (serve) and the admin CLI only; everything else takes the
// roles it needs (store/store.hpp).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "app/config.hpp"
#include "monitor/metrics.hpp"
#include "store/store.hpp"

namespace stagepass {

struct OpenedStore {
  std::unique_ptr<Store> store;
  // Exports the backend's own figures (group commits on SQLite, pool on PostgreSQL).
  std::function<void(Metrics&)> export_metrics;
  // Called once by a node that serves (not by the admin CLI): on SQLite with 2 usable
  // CPUs or more, runs the writer thread STAGEPASS_WRITER_PRIORITY nice levels above the others.
  // Returns why it could not, or nothing.
  std::function<std::optional<std::string>()> on_serving;
};

// Opens (creating and migrating as needed) the store `cfg.database` names, with `workers`
// threads that may call it at once (the size of SQLite's reader set, of PostgreSQL's pool).
// Throws std::runtime_error with one clear line when it cannot.
OpenedStore open_accounts_store(const Config& cfg, int workers);

}  // namespace stagepass
