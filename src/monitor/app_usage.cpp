#include "monitor/app_usage.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <functional>
#include <sstream>

namespace stagepass {
namespace {

constexpr const char* kGroupNames[kEndpointGroups] = {
    "profile", "library", "playlists",       "player", "follow",
    "search",  "catalog", "personalization", "token",  "other"};

// The three windows: bucket span and bucket count.
struct WindowSpec {
  const char* name;
  int64_t span;
  size_t buckets;
};
constexpr WindowSpec kWindows[] = {{"1h", 60, 60}, {"24h", 3600, 24}, {"30d", 86400, 30}};

uint64_t mix64(uint64_t x) {  // splitmix64's finaliser: spreads std::hash's bits
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

int64_t align(int64_t t, int64_t span) { return t - ((t % span) + span) % span; }

bool starts(std::string_view path, std::string_view prefix) {
  return path.starts_with(prefix) &&
         (path.size() == prefix.size() || path[prefix.size()] == '/' || path[prefix.size()] == '?');
}

constexpr char kHex[] = "0123456789abcdef";

}  // namespace

const char* group_name(EndpointGroup g) { return kGroupNames[static_cast<size_t>(g)]; }

EndpointGroup group_for_path(std::string_view p) {
  using G = EndpointGroup;
  if (starts(p, "/api/token")) return G::kToken;
  if (starts(p, "/v1/me/player/recently-played") || starts(p, "/v1/me/top")) {
    return G::kPersonalization;
  }
  if (starts(p, "/v1/me/player")) return G::kPlayer;
  if (starts(p, "/v1/me/following")) return G::kFollow;
  if (starts(p, "/v1/me/tracks") || starts(p, "/v1/me/albums")) return G::kLibrary;
  if (starts(p, "/v1/me/playlists") || starts(p, "/v1/playlists")) return G::kPlaylists;
  if (p.starts_with("/v1/users/") && p.ends_with("/playlists")) return G::kPlaylists;
  if (starts(p, "/v1/me") || starts(p, "/v1/users")) return G::kProfile;
  if (starts(p, "/v1/search")) return G::kSearch;
  if (starts(p, "/v1/tracks") || starts(p, "/v1/albums") || starts(p, "/v1/artists") ||
      starts(p, "/v1/browse")) {
    return G::kCatalog;
  }
  return G::kOther;
}

// ---- DistinctSketch (HyperLogLog, Flajolet et al. 2007, with linear counting when small)

void DistinctSketch::add(std::string_view value) {
  const uint64_t h = mix64(std::hash<std::string_view>{}(value));
  const size_t index = h & 63;
  const uint64_t rest = h >> 6;  // 58 bits
  const uint8_t rank = static_cast<uint8_t>(rest == 0 ? 59 : std::countr_zero(rest) + 1);
  if (reg[index] < rank) reg[index] = rank;
}

void DistinctSketch::merge(const DistinctSketch& other) {
  for (size_t i = 0; i < reg.size(); ++i) reg[i] = std::max(reg[i], other.reg[i]);
}

bool DistinctSketch::empty() const {
  for (uint8_t r : reg)
    if (r) return false;
  return true;
}

uint64_t DistinctSketch::estimate() const {
  constexpr double m = 64, alpha = 0.709;
  double sum = 0;
  int zeros = 0;
  for (uint8_t r : reg) {
    sum += std::ldexp(1.0, -r);
    if (r == 0) ++zeros;
  }
  double e = alpha * m * m / sum;
  if (e <= 2.5 * m && zeros > 0) e = m * std::log(m / zeros);
  return static_cast<uint64_t>(std::llround(e));
}

uint64_t UsageCounts::total() const {
  uint64_t n = 0;
  for (uint64_t r : requests) n += r;
  return n;
}

uint64_t UsageCounts::admitted() const {
  const uint64_t refused = errors + rate_limited;
  const uint64_t all = total();
  return all > refused ? all - refused : 0;
}

void UsageCounts::add(const UsageCounts& o) {
  for (size_t i = 0; i < requests.size(); ++i) requests[i] += o.requests[i];
  errors += o.errors;
  rate_limited += o.rate_limited;
  users.merge(o.users);
  grants.merge(o.grants);
}

// ---- AppUsage

struct AppUsage::Ring {
  int64_t span;
  std::vector<UsageBucket> buckets;
  UsageBucket& at(int64_t t) {
    const int64_t start = align(t, span);
    UsageBucket& b = buckets[static_cast<size_t>(start / span) % buckets.size()];
    if (b.start != start) b = UsageBucket{start, {}};
    return b;
  }
  const UsageBucket* find(int64_t start) const {
    const UsageBucket& b = buckets[static_cast<size_t>(start / span) % buckets.size()];
    return b.start == start ? &b : nullptr;
  }
};

struct AppUsage::App {
  std::array<Ring, 3> rings;
  std::set<std::pair<int64_t, int64_t>> dirty;  // (span, start)
  std::list<std::string>::iterator lru;         // its place in lru_
  App() {
    for (size_t i = 0; i < rings.size(); ++i)
      rings[i] = Ring{kWindows[i].span, std::vector<UsageBucket>(kWindows[i].buckets)};
  }
};

namespace {

// Puts `row` into the app's ring of its span (replacing: a stored bucket is whole), when it is
// within its window at `now` and decodes. False when skipped.
template <typename Rings>
bool put_row(Rings& rings, const AppUsageRow& row, int64_t now, bool add) {
  for (size_t w = 0; w < std::size(kWindows); ++w) {
    const WindowSpec& spec = kWindows[w];
    if (row.span != spec.span || row.start != align(row.start, spec.span)) continue;
    const int64_t oldest =
        align(now, spec.span) - static_cast<int64_t>(spec.buckets - 1) * spec.span;
    if (row.start < oldest || row.start > now) return false;
    auto counts = AppUsage::decode(row.data);
    if (!counts) return false;
    UsageBucket& b = rings[w].at(row.start);
    if (add) {
      b.counts.add(*counts);
    } else {
      b.counts = *counts;
    }
    return true;
  }
  return false;
}

}  // namespace

AppUsage::AppUsage(size_t max_apps, History history)
    : max_apps_(std::max<size_t>(1, max_apps)), history_(std::move(history)) {}
AppUsage::~AppUsage() = default;

AppUsage::Shard& AppUsage::my_shard() {
  static std::atomic<unsigned> next{0};
  thread_local const unsigned index = next.fetch_add(1, std::memory_order_relaxed);
  return shards_[index % shards_.size()];
}

void AppUsage::note(std::string_view client_id, EndpointGroup group, int status,
                    std::string_view user_id, std::string_view grant_id) {
  Shard& s = my_shard();
  std::lock_guard lk(s.mu);
  auto it = s.pending.find(client_id);
  if (it == s.pending.end()) it = s.pending.emplace(std::string(client_id), UsageCounts{}).first;
  UsageCounts& c = it->second;
  ++c.requests[static_cast<size_t>(group)];
  if (status == 429) {
    ++c.rate_limited;
  } else if (status >= 400) {
    ++c.errors;
  }
  if (!user_id.empty()) c.users.add(user_id);
  // Only admitted requests count a grant: the burst's "spread over several grants" rule
  // (AbuseResponder) must not be met by a user's throwaway accounts whose calls are refused.
  if (!grant_id.empty() && status < 400) c.grants.add(grant_id);
}

void AppUsage::touch(const std::string& id, App& app) {
  if (app.lru != lru_.end()) lru_.erase(app.lru);
  app.lru = lru_.insert(lru_.end(), id);
}

void AppUsage::evict_one() {
  if (lru_.empty()) return;
  auto it = apps_.find(lru_.front());
  lru_.pop_front();
  if (it == apps_.end()) return;
  // Its buckets not yet saved go to the store with the next dirty_rows(), within the bound.
  const size_t bound = max_apps_ * kEvictedRowsPerApp;
  for (const auto& [span, start] : it->second->dirty) {
    for (const Ring& ring : it->second->rings) {
      if (ring.span != span) continue;
      if (const UsageBucket* b = ring.find(start)) {
        if (evicted_.size() >= bound) {
          ++dropped_rows_;
        } else {
          evicted_.push_back({it->first, span, start, encode(b->counts)});
        }
      }
    }
  }
  apps_.erase(it);
  ++evictions_;
}

AppUsage::App* AppUsage::admit(const std::string& client_id,
                               const std::vector<AppUsageRow>& history, int64_t now) {
  auto it = apps_.find(client_id);
  if (it != apps_.end()) return it->second.get();
  while (apps_.size() >= max_apps_) evict_one();
  auto app = std::make_unique<App>();
  app->lru = lru_.end();
  for (const auto& row : history) put_row(app->rings, row, now, false);
  // Rows this node evicted but has not saved yet are newer than the store's.
  std::erase_if(evicted_, [&](const AppUsageRow& row) {
    if (row.client_id != client_id) return false;
    if (put_row(app->rings, row, now, false)) app->dirty.emplace(row.span, row.start);
    return true;
  });
  App* out = app.get();
  apps_.emplace(client_id, std::move(app));
  touch(client_id, *out);
  return out;
}

void AppUsage::fold(int64_t now) {
  Pending all;
  for (Shard& s : shards_) {
    Pending taken;
    {
      std::lock_guard lk(s.mu);
      taken.swap(s.pending);
    }
    for (auto& [id, counts] : taken) {
      auto [it, fresh] = all.try_emplace(id);
      it->second.add(counts);
    }
  }
  if (all.empty()) return;
  // Apps not in memory: their history is read first, without the windows' lock (a store read).
  std::unordered_map<std::string, std::vector<AppUsageRow>> histories;
  if (history_) {
    std::vector<std::string> returning;
    {
      std::lock_guard lk(mu_);
      for (const auto& kv : all)
        if (!apps_.contains(kv.first)) returning.push_back(kv.first);
    }
    for (const auto& id : returning) histories[id] = history_(id, now - retention_seconds());
  }
  static const std::vector<AppUsageRow> kNone;
  std::lock_guard lk(mu_);
  for (auto& [id, counts] : all) {
    auto h = histories.find(id);
    App* app = admit(id, h == histories.end() ? kNone : h->second, now);
    for (Ring& ring : app->rings) {
      UsageBucket& b = ring.at(now);
      b.counts.add(counts);
      app->dirty.emplace(ring.span, b.start);
    }
    touch(id, *app);
  }
}

bool AppUsage::tracked(const std::string& client_id) const {
  std::lock_guard lk(mu_);
  return apps_.contains(client_id);
}

void AppUsage::forget(const std::string& client_id) {
  for (Shard& s : shards_) {
    std::lock_guard lk(s.mu);
    if (auto it = s.pending.find(client_id); it != s.pending.end()) s.pending.erase(it);
  }
  std::lock_guard lk(mu_);
  if (auto it = apps_.find(client_id); it != apps_.end()) {
    lru_.erase(it->second->lru);
    apps_.erase(it);
  }
  std::erase_if(evicted_, [&](const AppUsageRow& row) { return row.client_id == client_id; });
}

uint64_t AppUsage::evictions() const {
  std::lock_guard lk(mu_);
  return evictions_;
}

uint64_t AppUsage::dropped_rows() const {
  std::lock_guard lk(mu_);
  return dropped_rows_;
}

AppUsageSeries AppUsage::series_from_rows(const std::string& client_id,
                                          const std::vector<AppUsageRow>& rows, int64_t now) {
  AppUsage one(1);
  {
    std::lock_guard lk(one.mu_);
    std::vector<AppUsageRow> mine;
    for (const auto& row : rows)
      if (row.client_id == client_id) mine.push_back(row);
    one.admit(client_id, mine, now);
  }
  return one.usage(client_id, now);
}

AppUsageSeries AppUsage::usage(const std::string& client_id, int64_t now) const {
  AppUsageSeries out{client_id, {}};
  std::lock_guard lk(mu_);
  auto it = apps_.find(client_id);
  const App* app = it == apps_.end() ? nullptr : it->second.get();
  for (size_t w = 0; w < std::size(kWindows); ++w) {
    const WindowSpec& spec = kWindows[w];
    UsageWindow window{spec.name, spec.span, {}, {}};
    const int64_t newest = align(now, spec.span);
    for (size_t k = spec.buckets; k-- > 0;) {
      const int64_t start = newest - static_cast<int64_t>(k) * spec.span;
      UsageBucket point{start, {}};
      if (app) {
        if (const UsageBucket* b = app->rings[w].find(start)) point.counts = b->counts;
      }
      window.total.add(point.counts);
      window.points.push_back(std::move(point));
    }
    out.windows.push_back(std::move(window));
  }
  return out;
}

AppUsage::Rate AppUsage::rate(const std::string& client_id, int64_t minute_start) const {
  Rate r;
  std::lock_guard lk(mu_);
  auto it = apps_.find(client_id);
  if (it == apps_.end()) return r;
  const Ring& minutes = it->second->rings[0];
  const Ring& hours = it->second->rings[1];
  minute_start = align(minute_start, 60);
  if (const UsageBucket* b = minutes.find(minute_start)) {
    r.minute = b->counts.admitted();
    r.minute_grants = b->counts.grants.estimate();
  }
  uint64_t hour = 0;
  for (int64_t k = 1; k < 60; ++k) {
    if (const UsageBucket* b = minutes.find(minute_start - k * 60)) hour += b->counts.admitted();
  }
  r.hour_mean = static_cast<double>(hour) / 59.0;
  uint64_t day = 0;
  const int64_t this_hour = align(minute_start, 3600);
  for (int64_t k = 1; k < 24; ++k) {
    if (const UsageBucket* b = hours.find(this_hour - k * 3600)) day += b->counts.admitted();
  }
  r.day_mean = static_cast<double>(day) / (23.0 * 60.0);
  return r;
}

std::vector<std::string> AppUsage::apps() const {
  std::lock_guard lk(mu_);
  std::vector<std::string> out;
  for (const auto& kv : apps_) out.push_back(kv.first);
  return out;
}

int64_t AppUsage::retention_seconds() { return 30 * 86400; }

std::vector<AppUsageRow> AppUsage::dirty_rows() {
  std::lock_guard lk(mu_);
  std::vector<AppUsageRow> out = std::move(evicted_);
  evicted_.clear();
  for (auto& [id, app] : apps_) {
    for (const auto& [span, start] : app->dirty) {
      for (const Ring& ring : app->rings) {
        if (ring.span != span) continue;
        if (const UsageBucket* b = ring.find(start)) {
          out.push_back({id, span, start, encode(b->counts)});
        }
      }
    }
    app->dirty.clear();
  }
  return out;
}

void AppUsage::load(const std::vector<AppUsageRow>& rows, int64_t now) {
  // The max_apps apps with the most recent buckets; the others come back from the store when
  // they are next active.
  std::map<std::string, int64_t> latest;
  for (const auto& row : rows) {
    auto [it, fresh] = latest.try_emplace(row.client_id, row.start);
    it->second = std::max(it->second, row.start);
  }
  std::vector<std::pair<int64_t, std::string>> order;
  for (const auto& [id, start] : latest) order.emplace_back(start, id);
  std::sort(order.begin(), order.end());  // least recent first: the LRU order
  if (order.size() > max_apps_) {
    order.erase(order.begin(), order.end() - static_cast<std::ptrdiff_t>(max_apps_));
  }
  std::lock_guard lk(mu_);
  for (const auto& [start, id] : order) admit(id, {}, now);
  for (const auto& row : rows) {
    auto it = apps_.find(row.client_id);
    if (it != apps_.end()) put_row(it->second->rings, row, now, true);
  }
}

std::string AppUsage::encode(const UsageCounts& c) {
  std::string out;
  for (size_t i = 0; i < c.requests.size(); ++i) {
    out += std::to_string(c.requests[i]);
    out += ',';
  }
  out += std::to_string(c.errors) + ',' + std::to_string(c.rate_limited) + ',';
  for (const DistinctSketch* s : {&c.users, &c.grants}) {
    for (uint8_t r : s->reg) {
      out += kHex[r >> 4];
      out += kHex[r & 15];
    }
    out += ',';
  }
  out.pop_back();
  return out;
}

std::optional<UsageCounts> AppUsage::decode(std::string_view data) {
  std::vector<std::string_view> parts;
  size_t from = 0;
  for (;;) {
    size_t comma = data.find(',', from);
    parts.push_back(data.substr(from, comma == std::string_view::npos ? comma : comma - from));
    if (comma == std::string_view::npos) break;
    from = comma + 1;
  }
  if (parts.size() != kEndpointGroups + 4) return std::nullopt;
  UsageCounts c;
  auto number = [](std::string_view s, uint64_t& out) {
    if (s.empty() || s.size() > 19) return false;
    out = 0;
    for (char ch : s) {
      if (ch < '0' || ch > '9') return false;
      out = out * 10 + static_cast<uint64_t>(ch - '0');
    }
    return true;
  };
  auto sketch = [](std::string_view s, DistinctSketch& out) {
    if (s.size() != out.reg.size() * 2) return false;
    for (size_t i = 0; i < out.reg.size(); ++i) {
      auto nib = [](char ch) -> int {
        if (ch >= '0' && ch <= '9') return ch - '0';
        if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
        return -1;
      };
      int hi = nib(s[2 * i]), lo = nib(s[2 * i + 1]);
      if (hi < 0 || lo < 0 || hi * 16 + lo > 59) return false;
      out.reg[i] = static_cast<uint8_t>(hi * 16 + lo);
    }
    return true;
  };
  for (size_t i = 0; i < kEndpointGroups; ++i)
    if (!number(parts[i], c.requests[i])) return std::nullopt;
  if (!number(parts[kEndpointGroups], c.errors) ||
      !number(parts[kEndpointGroups + 1], c.rate_limited) ||
      !sketch(parts[kEndpointGroups + 2], c.users) ||
      !sketch(parts[kEndpointGroups + 3], c.grants)) {
    return std::nullopt;
  }
  return c;
}

std::string AppUsage::prometheus(int64_t now) const {
  std::ostringstream requests, errors, limited, users, grants;
  for (const AppUsageSeries& s : [&] {
         std::vector<AppUsageSeries> all;
         for (const auto& id : apps()) all.push_back(usage(id, now));
         return all;
       }()) {
    if (s.windows.back().total.total() == 0) continue;
    // Client ids are ours (letters, digits, '-', '_'), but escape as the format says anyway.
    std::string id;
    for (char ch : s.client_id) {
      if (ch == '\\' || ch == '"') id += '\\';
      if (ch == '\n') {
        id += "\\n";
        continue;
      }
      id += ch;
    }
    for (const UsageWindow& w : s.windows) {
      const std::string labels = "client_id=\"" + id + "\",window=\"" + w.name + "\"";
      for (size_t g = 0; g < kEndpointGroups; ++g) {
        if (w.total.requests[g] == 0) continue;
        requests << "stagepass_app_requests{client_id=\"" << id << "\",group=\"" << kGroupNames[g]
                 << "\",window=\"" << w.name << "\"} " << w.total.requests[g] << "\n";
      }
      errors << "stagepass_app_errors{" << labels << "} " << w.total.errors << "\n";
      limited << "stagepass_app_rate_limited{" << labels << "} " << w.total.rate_limited << "\n";
      users << "stagepass_app_active_users{" << labels << "} " << w.total.users.estimate() << "\n";
      grants << "stagepass_app_active_grants{" << labels << "} " << w.total.grants.estimate()
             << "\n";
    }
  }
  std::string out;
  auto family = [&](const char* name, const char* help, const std::ostringstream& body) {
    out +=
        std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " gauge\n" + body.str();
  };
  family("stagepass_app_requests", "Requests per app and endpoint group over a rolling window",
         requests);
  family("stagepass_app_errors", "Answers 4xx/5xx other than 429 per app over a rolling window",
         errors);
  family("stagepass_app_rate_limited", "Answers 429 per app over a rolling window", limited);
  family("stagepass_app_active_users", "Distinct users per app over a rolling window (estimate)",
         users);
  family("stagepass_app_active_grants", "Distinct grants per app over a rolling window (estimate)",
         grants);
  return out;
}

}  // namespace stagepass
