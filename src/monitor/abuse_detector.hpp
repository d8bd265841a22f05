// AbuseDetector: the abuse signals of issue 15, each a pattern counted in memory over a
// window, raising a finding once per window per key when its threshold is reached:
//   abuse_refresh_reuse      refresh-token reuse detected for one app (the refresh grant
//                            already revoked the grant), `refresh_reuse.threshold` times;
//   abuse_token_many_ips     one access token (jti) used from `token_ips.threshold` distinct
//                            client IPs;
//   abuse_burst              an app's admitted requests (answered below 400: a 429, 401 or
//                            403 USER_NOT_ALLOWLISTED does not count) in the last complete
//                            minute at least `burst_factor` times its own mean rate over the
//                            previous hour and day, and at least `burst_min_requests` (checked
//                            by check_bursts);
//   abuse_secret_guessing    `invalid_client.threshold` invalid_client answers to one IP (an
//                            IPv6 /64), or `ipv6_network_factor` times that to one IPv6 /48
//                            (whoever holds a /48 holds 65,536 /64s); the finding is about the
//                            source: the client id it names is what the guesser typed (public,
//                            perhaps no app at all), so nothing is ever done to that app;
//   abuse_credential_stuffing  `stuffing.threshold` distinct accounts failing sign-in from
//                            one IP.
// A threshold of 0 turns its detector off.
//
// The request path calls the note_*() methods: O(1) (a hash lookup in one of 16 shards, each
// with its own lock, and a scan of at most `threshold` remembered values), never I/O. A
// repeat (the same token from an address it already used) takes the shard's lock shared. Findings
// queue in memory (at most kMaxQueued; more are dropped and counted) until drain() hands them
// to whoever acts on them (app/abuse_responder: audit event, dashboard warning, automatic
// action) off the request path. Times come from the caller (the injected Clock).
//
// Memory: each detector tracks at most `max_tracked_keys` keys (IPs, tokens, apps). When full,
// keys whose window ended are reclaimed (at most one sweep per shard per second); if it is
// still full, a new key is not tracked (counted in untracked()): a flood of fresh keys can
// blind a detector for a while, never grow the process.
// Source block (issue15-fix:abuse): with `block_guessing_sources`, an address (its /64, or its
// /48) that raised abuse_secret_guessing is refused client authentication until its window
// ends: client_auth_wait() says for how long, read on the request path before any secret is
// checked (a shared lock and a lookup). It is the same table as the detector's, so it has the
// same bound: a source not tracked (table full) is not blocked.
// Thread safety: every method may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "monitor/app_usage.hpp"

namespace stagepass {

struct DetectorSettings {
  int threshold = 0;           // 0: off
  int64_t window_seconds = 0;  // counted from the key's first sighting
};

struct AbuseSettings {
  DetectorSettings refresh_reuse{3, 3600};
  DetectorSettings token_ips{5, 600};
  int burst_factor = 10;             // 0: off
  int64_t burst_min_requests = 600;  // per minute
  int64_t burst_cooldown_seconds = 3600;
  DetectorSettings invalid_client{20, 600};
  DetectorSettings stuffing{10, 900};
  size_t max_tracked_keys = 100000;
  // issue15-fix:abuse. Refuse client authentication from a source that raised
  // abuse_secret_guessing until its window ends (STAGEPASS_ABUSE_INVALID_CLIENT_BLOCK).
  bool block_guessing_sources = false;
  int ipv6_network_factor = 8;  // a /48 may fail this many times the per-/64 threshold
};

struct AbuseFinding {
  std::string type;  // the audit event type, "abuse_..."
  int64_t at = 0;
  // The app concerned, when there is one. abuse_secret_guessing: the id the guesser presented
  // (at most kMaxPresentedId bytes, else empty): attacker text until the responder finds an
  // app of that id.
  std::string client_id;
  std::string grant_id;  // token_many_ips: the token's grant (empty for client credentials)
  std::string jti;       // token_many_ips: the token
  std::string user_id;
  std::string ip;      // secret guessing, credential stuffing
  std::string detail;  // human-readable; never a secret
  // abuse_burst (issue15-fix:burst): distinct grants estimated in the burst minute (0 when
  // every request came with a client-credentials token). The responder suspends only a burst
  // spread over several grants, so one user alone cannot get an app suspended.
  uint64_t grants = 0;
};

class AbuseDetector {
 public:
  static constexpr size_t kMaxQueued = 10000;
  static constexpr size_t kMaxPresentedId = 128;
  explicit AbuseDetector(AbuseSettings settings);

  const AbuseSettings& settings() const { return s_; }

  // The refresh grant revoked `grant_id` of `client_id` because a spent token came back.
  void note_refresh_reuse(const std::string& client_id, const std::string& user_id, int64_t now);
  // A Web API request authenticated with the token `jti` from `ip`.
  void note_token_use(std::string_view jti, std::string_view client_id, std::string_view grant_id,
                      std::string_view user_id, std::string_view ip, int64_t now);
  // The token endpoint answered invalid_client to `ip`; `client_id` is what it presented
  // (dropped when longer than kMaxPresentedId: never cut, so never a split UTF-8 character).
  void note_invalid_client(std::string_view ip, std::string_view client_id, int64_t now);
  // With block_guessing_sources: the seconds until `ip` may authenticate a client again
  // (its /64 or its /48 raised abuse_secret_guessing in a window still running); 0: go on.
  int64_t client_auth_wait(std::string_view ip, int64_t now) const;
  // A sign-in for `account` (the email typed) failed from `ip`.
  void note_sign_in_failure(std::string_view ip, std::string_view account, int64_t now);
  // Background, once per minute or more often: compares each app's last complete minute with
  // its own baseline (AppUsage::rate).
  void check_bursts(const AppUsage& usage, int64_t now);

  // The findings raised since the last drain, oldest first.
  std::vector<AbuseFinding> drain();
  uint64_t dropped() const { return dropped_.load(); }
  uint64_t untracked() const { return untracked_.load(); }

 private:
  // Counts hits per key within a window; remembers up to `threshold` distinct values per key
  // (distinct mode) or just a count.
  class Tracker {
   public:
    Tracker(DetectorSettings s, size_t max_keys, bool distinct, std::atomic<uint64_t>& untracked);
    // True exactly when this hit brings the key to the threshold within its window.
    bool hit(std::string_view key, uint64_t value, int64_t now);
    // When `key` reached the threshold in a window still running at `now`: the seconds left
    // of that window; else 0.
    int64_t fired_for(std::string_view key, int64_t now) const;

   private:
    struct Hash {
      using is_transparent = void;
      size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    struct Entry {
      int64_t window_start = 0;
      int count = 0;
      std::vector<uint64_t> values;  // distinct mode, at most threshold
      bool fired = false;
    };
    struct Shard {
      // Shared for the common case (a token seen again from an address it already used: a
      // read, so I/O threads never wait for each other), exclusive to count something new.
      mutable std::shared_mutex mu;
      std::unordered_map<std::string, Entry, Hash, std::equal_to<>> entries;
      int64_t next_sweep = 0;
    };
    DetectorSettings s_;
    size_t max_per_shard_;
    bool distinct_;
    std::atomic<uint64_t>& untracked_;
    std::array<Shard, 16> shards_;
  };

  void raise(AbuseFinding f);

  AbuseSettings s_;
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> untracked_{0};
  Tracker refresh_reuse_;
  Tracker token_ips_;
  Tracker invalid_client_;
  Tracker invalid_client_net_;  // IPv6 /48s
  Tracker stuffing_;
  std::mutex mu_;  // queue_ and burst cooldowns
  std::deque<AbuseFinding> queue_;
  std::unordered_map<std::string, int64_t> burst_quiet_until_;
  int64_t last_burst_minute_ = 0;
};

}  // namespace stagepass
