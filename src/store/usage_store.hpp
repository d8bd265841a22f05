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

// Deleting a client (ClientStore::delete_client, by any path) deletes its buckets and warnings
// in the same transaction (issue15-fix:abuse).
class UsageStore {
 public:
  // The warnings kept per app: recording one more deletes the oldest beyond it.
  static constexpr int kMaxWarningsPerApp = 100;
  virtual ~UsageStore() = default;
  // Writes the buckets (replacing a stored bucket of the same client, span and start) and
  // deletes every bucket, of any span, that started before now - keep_seconds, in one
  // transaction (callers hand large sets in write_in_batches slices). Buckets of a client
  // that does not exist (deleted since they were counted) are not written.
  virtual Status<> save_usage(const std::vector<AppUsageRow>& rows, int64_t now,
                              int64_t keep_seconds) = 0;
  // Every stored bucket that started at or after `since`.
  virtual Result<std::vector<AppUsageRow>> load_usage(int64_t since) = 0;
  // The client's stored buckets that started at or after `since`.
  virtual Result<std::vector<AppUsageRow>> load_app_usage(const std::string& client_id,
                                                          int64_t since) = 0;
  // Appends a warning; the store assigns its id (increasing). Only for a client that exists;
  // keeps its newest kMaxWarningsPerApp.
  virtual Status<> record_app_warning(const AppWarning& warning) = 0;
  // The app's warnings, newest first, at most `limit`.
  virtual Result<std::vector<AppWarning>> app_warnings(const std::string& client_id, int limit) = 0;
};

}  // namespace stagepass
