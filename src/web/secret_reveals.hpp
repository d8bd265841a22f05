// SecretReveals: a client secret the dashboard just made (an app created, a secret rotated),
// held in memory from the POST that made it until the GET its 303 leads to shows it
// (Post/Redirect/Get): a reload or the back button re-posts nothing, and the secret is in no
// URL, no log and no store (the store keeps only its hash).
//  - bound to the browser session that made it (the SHA-256 of its session cookie) and the app:
//    another session, or another app's page, never finds it;
//  - consumed by its first take(): shown once;
//  - short-lived: gone `ttl` seconds after put() (default 10 min) if never shown;
//  - bounded: at most `capacity` entries (default 10,000); put() past that drops the expired
//    ones, then the oldest.
// A second put() for the same session and app replaces the first (the newer secret is the
// current one). Per node: behind a load balancer the dashboard's GET after a create or a
// rotation must reach the node that answered the POST (session affinity), or the page says the
// secret can no longer be shown (rotating again gives a new one).
// Thread safety: safe from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "core/secret.hpp"

namespace stagepass::web {

class SecretReveals {
 public:
  struct Reveal {
    Secret secret;
    std::string notice;  // what the page says with it (no secret in it)
  };
  explicit SecretReveals(int64_t ttl = 600, size_t capacity = 10000)
      : ttl_(ttl), capacity_(capacity) {}

  void put(const std::string& session_hash, const std::string& client_id, Reveal reveal,
           int64_t now);
  // The reveal put for this session and app, removed; nullopt when there is none (never
  // put, already taken, expired, or dropped for room).
  std::optional<Reveal> take(const std::string& session_hash, const std::string& client_id,
                             int64_t now);
  size_t size();

 private:
  struct Entry {
    Reveal reveal;
    int64_t expires_at = 0;
    uint64_t order = 0;  // put() order: the lowest is the oldest
  };
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Entry> entries_;  // (session hash, client id)
  uint64_t next_order_ = 0;
  const int64_t ttl_;
  const size_t capacity_;
};

}  // namespace stagepass::web
