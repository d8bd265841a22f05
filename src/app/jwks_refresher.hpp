// JwksRefresher: when the api-only role (`serve --roles api`) refetches the issuer's JWKS,
// and that it fetches one copy at a time. The fetch itself is injected (fetch_jwks in the
// server, a stub in tests), as is the clock. A fetch happens when:
//  - due: the copy in use is older than the refresh interval: STAGEPASS_JWKS_REFRESH, or the
//    issuer's Cache-Control max-age when shorter (a copy is stale after it, RFC 9111 §4.2;
//    the issuer publishes a new key at least that long before it signs with it);
//  - failed: the last fetch failed; retried `retry` seconds after it;
//  - unknown kid: a token named a key the copy lacks (a rotation this node has not seen):
//    refetched at once, but only `retry` seconds or more after the previous fetch started,
//    so a flood of tokens with forged kids costs one fetch per `retry`, never one per
//    request. A kid noted too early is remembered and fetched for when the time comes.
// Single flight: at most one fetch runs at a time, whoever calls run().
// Thread safety: unknown_kid() from any thread (the verifying threads: a few atomics, no
// lock, no I/O); run() from any thread (the Background thread; it blocks in the fetch).
// Lifetime: `clock` must outlive it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "tokens/keyring.hpp"

namespace stagepass {

class JwksRefresher {
 public:
  struct Fetched {
    std::shared_ptr<const Keyring> keys;  // nullptr: failed
    int64_t max_age = -1;                 // the answer's Cache-Control max-age; -1: none
    std::string error;                    // why it failed
  };
  using Fetch = std::function<Fetched()>;
  // Receives every good copy (TokenVerifier::set_keys), and every failure's reason (a log).
  using Install = std::function<void(std::shared_ptr<const Keyring>)>;
  using Failed = std::function<void(const std::string& error)>;
  struct Settings {
    int64_t refresh = 300;  // STAGEPASS_JWKS_REFRESH
    int64_t retry = 5;      // after a failure or an unknown kid (Tunables)
  };

  JwksRefresher(const Clock& clock, Settings settings, Fetch fetch, Install install,
                Failed failed = {});

  // A token named a kid the keys lack. Calls `wake` (e.g. Background::poke) when a fetch may
  // start now, at most once per fetch: run() from there fetches at once.
  void unknown_kid();
  void wake_with(std::function<void()> wake) { wake_ = std::move(wake); }
  // Fetches when one of the reasons above holds (always with `force`), unless a fetch is
  // already running. True when this call fetched (successfully or not).
  bool run(bool force = false);
  // Seconds a good copy is used before the next periodic fetch.
  int64_t refresh_interval() const { return interval_.load(); }

 private:
  static constexpr int64_t kNever = std::numeric_limits<int64_t>::min() / 2;
  bool may_fetch_for_kid(int64_t now) const { return now - last_attempt_.load() >= s_.retry; }

  const Clock& clock_;
  const Settings s_;
  Fetch fetch_;
  Install install_;
  Failed failed_;
  std::function<void()> wake_;
  std::atomic<int64_t> last_attempt_{kNever};  // when the latest fetch started
  std::atomic<int64_t> last_success_{kNever};  // when the copy in use was fetched
  std::atomic<int64_t> interval_;              // refresh, or the copy's max-age when shorter
  std::atomic<bool> failed_last_{false};
  std::atomic<bool> kid_pending_{false};  // an unknown kid waits for a fetch
  std::atomic<bool> in_flight_{false};    // a fetch runs
};

}  // namespace stagepass
