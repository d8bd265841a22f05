// UsageStore: per-app usage series and abuse warnings (issue 15), the history behind an app's
// dashboard charts and warnings. A role of the accounts store: store.hpp states what every
// backend promises for every role (threads, blocking, durability, atomicity, error codes).
// Used by the composition root (app/: periodic persistence of monitor::AppUsage, the abuse
// responder) and the developer pages (an app's warnings).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "domain/models.hpp"

namespace stagepass {

class UsageStore {
 public:
  virtual ~UsageStore() = default;
  // Writes the buckets (replacing a stored bucket of the same client, span and start) and
  // deletes every bucket of span S that started before `older_than(S)`, in one transaction.
  // `keep_seconds`: buckets of each span are kept this long, then deleted.
  virtual Status<> save_usage(const std::vector<AppUsageRow>& rows, int64_t now,
                              int64_t keep_seconds) = 0;
  // Every stored bucket that started at or after `since`.
  virtual Result<std::vector<AppUsageRow>> load_usage(int64_t since) = 0;
  // Appends a warning; the store assigns its id (increasing).
  virtual Status<> record_app_warning(const AppWarning& warning) = 0;
  // The app's warnings, newest first, at most `limit`.
  virtual Result<std::vector<AppWarning>> app_warnings(const std::string& client_id, int limit) = 0;
};

}  // namespace stagepass
