#include "monitor/abuse_detector.hpp"

#include <algorithm>
#include <cstdio>
#include <functional>

#include "monitor/login_throttle.hpp"

namespace stagepass {
namespace {

uint64_t value_hash(std::string_view v) { return std::hash<std::string_view>{}(v); }

}  // namespace

AbuseDetector::Tracker::Tracker(DetectorSettings s, size_t max_keys, bool distinct,
                                std::atomic<uint64_t>& untracked)
    : s_(s),
      max_per_shard_(std::max<size_t>(1, max_keys / 16)),
      distinct_(distinct),
      untracked_(untracked) {}

bool AbuseDetector::Tracker::hit(std::string_view key, uint64_t value, int64_t now) {
  if (s_.threshold <= 0) return false;
  Shard& sh = shards_[std::hash<std::string_view>{}(key) % shards_.size()];
  if (distinct_) {
    std::shared_lock read(sh.mu);
    auto seen = sh.entries.find(key);
    if (seen != sh.entries.end() && seen->second.window_start + s_.window_seconds > now &&
        std::find(seen->second.values.begin(), seen->second.values.end(), value) !=
            seen->second.values.end()) {
      return false;  // nothing new to count
    }
  }
  std::unique_lock lk(sh.mu);
  auto it = sh.entries.find(key);
  if (it == sh.entries.end()) {
    if (sh.entries.size() >= max_per_shard_ && now >= sh.next_sweep) {
      std::erase_if(sh.entries, [&](const auto& kv) {
        return kv.second.window_start + s_.window_seconds <= now;
      });
      sh.next_sweep = now + 1;
    }
    if (sh.entries.size() >= max_per_shard_) {
      untracked_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    it = sh.entries.emplace(std::string(key), Entry{now, 0, {}, false}).first;
  }
  Entry& e = it->second;
  if (e.window_start + s_.window_seconds <= now) e = Entry{now, 0, {}, false};
  if (distinct_) {
    if (std::find(e.values.begin(), e.values.end(), value) != e.values.end()) return false;
    if (e.values.size() < static_cast<size_t>(s_.threshold)) e.values.push_back(value);
  }
  ++e.count;
  if (e.fired || e.count < s_.threshold) return false;
  e.fired = true;  // once per window per key
  return true;
}

int64_t AbuseDetector::Tracker::fired_for(std::string_view key, int64_t now) const {
  if (s_.threshold <= 0 || key.empty()) return 0;
  const Shard& sh = shards_[std::hash<std::string_view>{}(key) % shards_.size()];
  std::shared_lock read(sh.mu);
  auto it = sh.entries.find(key);
  if (it == sh.entries.end() || !it->second.fired) return 0;
  const int64_t ends = it->second.window_start + s_.window_seconds;
  return ends > now ? ends - now : 0;
}

AbuseDetector::AbuseDetector(AbuseSettings settings)
    : s_(settings),
      refresh_reuse_(s_.refresh_reuse, s_.max_tracked_keys, false, untracked_),
      token_ips_(s_.token_ips, s_.max_tracked_keys, true, untracked_),
      invalid_client_(s_.invalid_client, s_.max_tracked_keys, false, untracked_),
      invalid_client_net_({s_.invalid_client.threshold * std::max(1, s_.ipv6_network_factor),
                           s_.invalid_client.window_seconds},
                          s_.max_tracked_keys, false, untracked_),
      stuffing_(s_.stuffing, s_.max_tracked_keys, true, untracked_) {}

void AbuseDetector::raise(AbuseFinding f) {
  std::lock_guard lk(mu_);
  if (queue_.size() >= kMaxQueued) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  queue_.push_back(std::move(f));
}

void AbuseDetector::note_refresh_reuse(const std::string& client_id, const std::string& user_id,
                                       int64_t now) {
  if (!refresh_reuse_.hit(client_id, 0, now)) return;
  raise({"abuse_refresh_reuse", now, client_id, "", "", user_id, "",
         std::to_string(s_.refresh_reuse.threshold) + " refresh-token reuses within " +
             std::to_string(s_.refresh_reuse.window_seconds) +
             " s: the app's refresh tokens may have leaked"});
}

void AbuseDetector::note_token_use(std::string_view jti, std::string_view client_id,
                                   std::string_view grant_id, std::string_view user_id,
                                   std::string_view ip, int64_t now) {
  if (jti.empty() || !token_ips_.hit(jti, value_hash(ip), now)) return;
  raise({"abuse_token_many_ips", now, std::string(client_id), std::string(grant_id),
         std::string(jti), std::string(user_id), std::string(ip),
         "one access token used from " + std::to_string(s_.token_ips.threshold) +
             " addresses within " + std::to_string(s_.token_ips.window_seconds) +
             " s: it may have leaked"});
}

void AbuseDetector::note_invalid_client(std::string_view ip, std::string_view client_id,
                                        int64_t now) {
  // The presented id is attacker text: kept whole or not at all (a cut could split a UTF-8
  // character); the responder records it only if an app of that id exists.
  const std::string named(client_id.size() <= kMaxPresentedId ? client_id : std::string_view());
  auto detail = [&](int count, const char* source) {
    return std::to_string(count) + " failed client authentications from one " + source +
           " within " + std::to_string(s_.invalid_client.window_seconds) +
           " s: someone may be guessing a client secret";
  };
  // An IPv6 attacker holds a whole /64: counted by LoginThrottle's key, like sign-in failures;
  // and a whole /48 often: its /64s together, at a higher threshold.
  const std::string address(ip);
  if (invalid_client_.hit(LoginThrottle::ip_key(address), 0, now)) {
    raise({"abuse_secret_guessing", now, named, "", "", "", address,
           detail(s_.invalid_client.threshold, "address")});
  }
  const std::string network = LoginThrottle::network_key(address);
  if (!network.empty() && invalid_client_net_.hit(network, 0, now)) {
    raise({"abuse_secret_guessing", now, named, "", "", "", network.substr(2),  // "n:" prefix
           detail(s_.invalid_client.threshold * std::max(1, s_.ipv6_network_factor), "IPv6 /48")});
  }
}

int64_t AbuseDetector::client_auth_wait(std::string_view ip, int64_t now) const {
  if (!s_.block_guessing_sources) return 0;
  const std::string address(ip);
  return std::max(invalid_client_.fired_for(LoginThrottle::ip_key(address), now),
                  invalid_client_net_.fired_for(LoginThrottle::network_key(address), now));
}

void AbuseDetector::note_sign_in_failure(std::string_view ip, std::string_view account,
                                         int64_t now) {
  if (!stuffing_.hit(LoginThrottle::ip_key(std::string(ip)), value_hash(account), now)) return;
  raise({"abuse_credential_stuffing", now, "", "", "", "", std::string(ip),
         std::to_string(s_.stuffing.threshold) + " accounts failed to sign in from one " +
             "address within " + std::to_string(s_.stuffing.window_seconds) +
             " s: credential stuffing"});
}

void AbuseDetector::check_bursts(const AppUsage& usage, int64_t now) {
  if (s_.burst_factor <= 0) return;
  const int64_t minute = now - ((now % 60) + 60) % 60 - 60;  // the last complete minute
  {
    std::lock_guard lk(mu_);
    if (minute <= last_burst_minute_) return;  // each minute is judged once
    last_burst_minute_ = minute;
  }
  for (const std::string& app : usage.apps()) {
    const AppUsage::Rate r = usage.rate(app, minute);
    const double baseline = std::max(r.hour_mean, r.day_mean);
    if (static_cast<int64_t>(r.minute) < s_.burst_min_requests ||
        static_cast<double>(r.minute) < s_.burst_factor * baseline) {
      continue;
    }
    {
      std::lock_guard lk(mu_);
      auto [it, fresh] = burst_quiet_until_.try_emplace(app, 0);
      if (it->second > now) continue;
      it->second = now + s_.burst_cooldown_seconds;
      if (burst_quiet_until_.size() > s_.max_tracked_keys) {
        std::erase_if(burst_quiet_until_, [&](const auto& kv) { return kv.second <= now; });
      }
    }
    char mean[32];
    std::snprintf(mean, sizeof mean, "%.1f", baseline);
    raise({"abuse_burst", now, app, "", "", "", "",
           std::to_string(r.minute) + " requests in one minute against a usual " + mean +
               " per minute, from about " + std::to_string(r.minute_grants) + " grant(s)",
           r.minute_grants});
  }
}

std::vector<AbuseFinding> AbuseDetector::drain() {
  std::lock_guard lk(mu_);
  std::vector<AbuseFinding> out(std::make_move_iterator(queue_.begin()),
                                std::make_move_iterator(queue_.end()));
  queue_.clear();
  return out;
}

}  // namespace stagepass
