// SecretReveals: a client secret the dashboard just made (an app created, a secret rotated),
// held in memory from the POST that made it until the GET its 303 leads to shows it
// (Post/Redirect/Get): a reload or the back button re-posts nothing, and the secret is in no
// URL, no log and no store (the store keeps only its hash).
//  - bound to the browser session that made it (the SHA-256 of its session cookie) and the app:
//    another session, or another app's page, never finds it;
//  - consumed by its first take(): shown once;
//  - short-lived: gone `ttl` seconds after put() (default 10 min) if never shown;
//  - bounded: at most `capacity` entries (default 10,000); put() past that drops the expired
//    ones, then the oldest, in O(log n) (an index in put() order, which is expiry order);
//  - at most `per_session` entries per session (default 25, the dashboard's app limit): a
//    session looping create and delete replaces its own oldest entry, never another
//    developer's pending secret (issue15-fix:reveals);
//  - forget_app() drops an app's entries when the app is deleted.
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
#include <set>
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
  explicit SecretReveals(int64_t ttl = 600, size_t capacity = 10000, size_t per_session = 25)
      : ttl_(ttl), capacity_(capacity), per_session_(per_session) {}

  void put(const std::string& session_hash, const std::string& client_id, Reveal reveal,
           int64_t now);
  // The reveal put for this session and app, removed; nullopt when there is none (never
  // put, already taken, expired, or dropped for room).
  std::optional<Reveal> take(const std::string& session_hash, const std::string& client_id,
                             int64_t now);
  // Drops every entry of app `client_id` (it was deleted: its secret is worth nothing).
  void forget_app(const std::string& client_id);
  size_t size();

 private:
  using Key = std::pair<std::string, std::string>;  // (session hash, client id)
  struct Entry {
    Reveal reveal;
    int64_t expires_at = 0;
    uint64_t order = 0;  // put() order: the lowest is the oldest
  };
  using Entries = std::map<Key, Entry>;
  void erase(Entries::iterator it);  // lock held

  std::mutex mu_;
  Entries entries_;
  std::map<uint64_t, Key> by_order_;                      // put() order → entry: the oldest first
  std::set<std::pair<std::string, std::string>> by_app_;  // (client id, session hash)
  uint64_t next_order_ = 0;
  const int64_t ttl_;
  const size_t capacity_;
  const size_t per_session_;
};

}  // namespace stagepass::web
