// AppUsage: what each app does with the Web API and the token endpoint, over the last hour,
// day and 30 days (issue 15): requests per endpoint group, errors, 429s, and distinct users
// and grants. Rolling windows in memory, in fixed buckets:
//   "1h"  60 buckets of a minute,  "24h" 24 buckets of an hour,  "30d" 30 buckets of a day.
// Memory is bounded: at most `max_apps` apps are held in memory, each with 114 buckets of ~170
// bytes (about 20 KB per app). A new app takes the place of the least recently active one
// (issue15-fix:abuse: every app is counted under its own id; no shared bucket a client id could
// collide with): the evicted app's unsaved buckets are kept for the next dirty_rows() (at most
// kEvictedRowsPerApp per app of the bound; more are dropped and counted), and when it is active
// again its history is read back through `history` (the store) before its new counts are added, so
// a bucket is never saved with only part of its counts. Evicted apps are left out of apps(), rate()
// and /metrics until their next request; a page reads an evicted app's series from the store
// (series_from_rows()). forget() drops an app at once (it was deleted).
//
// Counting: note() is called on the request path (HTTP I/O threads). It adds to one of 16
// shards of pending counts, picked by the calling thread (each I/O thread mostly meets its own
// shard, so the shard's mutex is uncontended), and does nothing else: a hash lookup and a few
// increments. fold() (Background, every second) moves the pending counts into the windows,
// into the buckets of the minute the fold runs in: a note is attributed at most one fold
// period late. The windows have their own mutex, taken only by fold() and the readers.
//
// Distinct users and grants are counted with a small HyperLogLog (64 registers: about 13 %
// standard error) per bucket; a window's count merges its buckets, so a person active every
// hour of the day counts once for the day.
//
// Persistence: dirty_rows() hands the buckets changed since the last call to the store
// (UsageStore::save_usage) and load() puts them back at start, so a restart keeps the history.
// Thread safety: every method may be called from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "domain/models.hpp"

namespace stagepass {

// The endpoint groups requests are counted under (a bounded label set for /metrics).
enum class EndpointGroup : uint8_t {
  kProfile,          // /v1/me, /v1/users/{id}
  kLibrary,          // /v1/me/tracks, /v1/me/albums
  kPlaylists,        // /v1/me/playlists, /v1/playlists/..., /v1/users/{id}/playlists
  kPlayer,           // /v1/me/player...
  kFollow,           // /v1/me/following...
  kSearch,           // /v1/search
  kCatalog,          // /v1/tracks, albums, artists, browse...
  kPersonalization,  // /v1/me/top..., recently played
  kToken,            // POST /api/token
  kOther,
};
inline constexpr size_t kEndpointGroups = 10;
const char* group_name(EndpointGroup g);
// The group of a Web API route pattern or path ("/v1/me/player/play" -> kPlayer).
EndpointGroup group_for_path(std::string_view path);

// A HyperLogLog of 64 six-bit registers (one byte each): distinct values, mergeable.
struct DistinctSketch {
  std::array<uint8_t, 64> reg{};
  void add(std::string_view value);
  void merge(const DistinctSketch& other);
  uint64_t estimate() const;
  bool empty() const;
};

struct UsageCounts {
  std::array<uint64_t, kEndpointGroups> requests{};
  uint64_t errors = 0;        // answers 400-599 other than 429
  uint64_t rate_limited = 0;  // 429
  DistinctSketch users;
  DistinctSketch grants;
  uint64_t total() const;
  uint64_t admitted() const;  // total() less errors and rate_limited: answers below 400
  void add(const UsageCounts& other);
};

struct UsageBucket {
  int64_t start = 0;  // unix seconds
  UsageCounts counts;
};

// One window of one app: every bucket of it, oldest first (empty ones included, so a chart
// has a point per bucket), and the merged total.
struct UsageWindow {
  std::string name;            // "1h", "24h", "30d"
  int64_t bucket_seconds = 0;  // 60, 3600, 86400
  std::vector<UsageBucket> points;
  UsageCounts total;
};

struct AppUsageSeries {
  std::string client_id;
  std::vector<UsageWindow> windows;  // 1h, 24h, 30d
};

class AppUsage {
 public:
  // The stored buckets of one app that started at or after `since` (UsageStore::
  // load_app_usage). Blocking: called by fold() (Background), without the windows' lock.
  using History =
      std::function<std::vector<AppUsageRow>(const std::string& client_id, int64_t since)>;
  // Unsaved rows of evicted apps kept for the store: at most this many per tracked app.
  static constexpr size_t kEvictedRowsPerApp = 8;
  // `history` may be empty (an api-only node, tests): a returning app then starts afresh.
  explicit AppUsage(size_t max_apps = 1000, History history = {});
  ~AppUsage();
  // Sets `history` (the composition root, once the store exists): before fold() runs.
  void set_history(History history) { history_ = std::move(history); }

  // The request path: one answer to `client_id`. `user_id` and `grant_id` may be empty
  // (client-credentials tokens, the token endpoint). Never blocks on I/O.
  void note(std::string_view client_id, EndpointGroup group, int status, std::string_view user_id,
            std::string_view grant_id);
  // Moves the pending notes into the windows at `now` (Background).
  void fold(int64_t now);

  // The app's three windows at `now` (all zero for an app never seen).
  AppUsageSeries usage(const std::string& client_id, int64_t now) const;
  // Admitted requests of the app (answered below 400: never a 429, a 401, a 403
  // USER_NOT_ALLOWLISTED, so no one can inflate an app's rate with requests it refused) in the
  // minute bucket that starts at `minute_start`, and their mean per minute over the hour before
  // that minute and over the day before that hour; `minute_grants`: the estimated number of
  // distinct grants seen in that minute (0 for client-credentials tokens, which have none),
  // counting a grant only for an admitted request (answered below 400), as active grants do.
  struct Rate {
    uint64_t minute = 0;
    double hour_mean = 0;
    double day_mean = 0;
    uint64_t minute_grants = 0;
  };
  Rate rate(const std::string& client_id, int64_t minute_start) const;
  // The apps tracked, sorted.
  std::vector<std::string> apps() const;
  // Whether the app is held in memory (else usage() shows zeros; its history is in the store).
  bool tracked(const std::string& client_id) const;
  // Drops everything held about the app (deleted): windows, unsaved rows, pending notes.
  void forget(const std::string& client_id);
  // Apps evicted to make room, and rows of evicted apps dropped unsaved, since start.
  uint64_t evictions() const;
  uint64_t dropped_rows() const;
  // The app's three windows at `now` built from stored rows (an app not tracked), as usage().
  static AppUsageSeries series_from_rows(const std::string& client_id,
                                         const std::vector<AppUsageRow>& rows, int64_t now);

  // The buckets changed since the previous call, encoded for the store.
  std::vector<AppUsageRow> dirty_rows();
  // Puts stored buckets back (at start); rows too old for their window, of an unknown span or
  // undecodable are skipped. Of more than max_apps apps, those with the most recent buckets.
  void load(const std::vector<AppUsageRow>& rows, int64_t now);
  // How long a bucket of each span is worth keeping (the longest window): 30 days.
  static int64_t retention_seconds();

  // Prometheus text for /metrics, families stagepass_app_requests{client_id,group,window},
  // stagepass_app_errors, stagepass_app_rate_limited, stagepass_app_active_users and
  // stagepass_app_active_grants {client_id,window}; apps with no request in 30 days are left
  // out. Label values are the tracked client ids (at most max_apps).
  std::string prometheus(int64_t now) const;

  // The bucket encoding (exposed for tests).
  static std::string encode(const UsageCounts& c);
  static std::optional<UsageCounts> decode(std::string_view data);

 private:
  struct Ring;
  struct App;
  struct Hash {  // lookups by string_view: no allocation on the request path
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Pending = std::unordered_map<std::string, UsageCounts, Hash, std::equal_to<>>;
  struct Shard {
    std::mutex mu;
    Pending pending;
  };
  Shard& my_shard();
  // Windows lock held. The app, admitted (evicting the least recently active app when full)
  // with `history` and this node's unsaved rows of it when it is new.
  App* admit(const std::string& client_id, const std::vector<AppUsageRow>& history, int64_t now);
  void evict_one();                             // windows lock held
  void touch(const std::string& id, App& app);  // windows lock held: most recently active

  size_t max_apps_;
  History history_;
  std::array<Shard, 16> shards_;
  mutable std::mutex mu_;  // the windows, lru_, evicted_
  std::map<std::string, std::unique_ptr<App>> apps_;
  std::list<std::string> lru_;        // least recently active first
  std::vector<AppUsageRow> evicted_;  // unsaved rows of evicted apps
  uint64_t evictions_ = 0;
  uint64_t dropped_rows_ = 0;
};

}  // namespace stagepass
