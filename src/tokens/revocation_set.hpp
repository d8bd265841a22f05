// RevocationSet: the grant ids revoked within the last access-token lifetime, in memory, so a
// resource server refuses a revoked grant's access tokens on the very next request even
// though the JWT itself is still valid. Entries expire once no token they could cover is
// alive (revoked_at + access-token lifetime + clock skew).
//
// Bounded, and failing closed: when a map is full even after dropping expired entries, some
// revocations are forgotten, and every token of the same client issued at or before the
// newest forgotten revocation (plus the slack) is refused from then on (its client refreshes and
// gets a token the store vouches for). A flood of revocations can make clients refresh early; it
// can never revive a revoked token. Which revocations are forgotten: all of the client that holds
// the most entries when it holds at least a sixteenth of them (a client flooding RFC 7009
// revocations of its own tokens costs only itself), else the oldest sixteenth (every client
// with a revocation among them is watermarked).
// Deleted clients and per-client watermarks are never forgotten forward (issue15-fix:
// revocation-bound): they are one entry per client, bounded by the clients deleted, suspended
// or cut within one retention window, and each expires with the tokens it covers.
//
// Fed by RevocationFeed (polls the store).
// Thread safety: all methods are safe from any thread; covers() takes a shared lock.
#pragma once

#include <algorithm>
#include <climits>
#include <cstdint>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace stagepass {

class RevocationSet {
 public:
  // `slack_seconds`: how much later than a revocation's time a token it covers may carry as
  // `iat` (clock skew between nodes, a rotation committed just before the revocation and
  // signed a moment after it). A forgotten revocation refuses its client's tokens issued up
  // to its time plus this much, so no token it covered comes back.
  RevocationSet(int64_t retention_seconds, size_t max_entries, int64_t slack_seconds = 0)
      : retention_(retention_seconds),
        max_entries_(std::max<size_t>(1, max_entries)),
        slack_(slack_seconds) {}

  // A revoked grant, and the client it was issued to.
  void add(const std::string& grant_id, const std::string& client_id, int64_t revoked_at);
  // A deleted client: every token it holds is refused, client-credentials ones included.
  void add_client(const std::string& client_id, int64_t deleted_at);
  // issue15:secrets. A hard cut of the client's secret at `cut_at`: its tokens issued at or
  // before it (iat <= cut_at, no slack: the issuer gives tokens minted after a cut a later
  // iat) are refused. Kept with the per-client watermarks (same bound, same expiry).
  void add_client_cut(const std::string& client_id, int64_t cut_at);
  // issue15:abuse. A suspended client: its tokens issued (`iat`) up to `suspended_at` plus the
  // slack are refused; tokens issued after the suspension is lifted work (the client cannot
  // get one while suspended). Kept as the client's watermark, expiring with the retention.
  void add_suspension(const std::string& client_id, int64_t suspended_at);
  // One access token revoked by its jti (RFC 7009), and the client that holds it.
  void add_token(const std::string& jti, const std::string& client_id, int64_t revoked_at);
  // Whether a token with these claims is revoked: by its grant (may be empty), its client
  // (deleted), its own jti, or because it was issued (`iat`) no later than a revocation of
  // its client that the set had to forget. One lock, for the per-request check.
  bool covers(std::string_view grant_id, std::string_view client_id, std::string_view jti,
              int64_t iat) const;
  // Drops entries older than the retention; returns how many grants remain.
  size_t expire(int64_t now);
  size_t size() const;
  // How many times the set was full: a grant/jti map forgot revocations (its client's tokens
  // issued up to then are refused), or the deleted-client / watermark maps grew past
  // max_entries; for the metrics.
  uint64_t overflows() const;

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Entry {
    int64_t at;
    std::string client_id;
  };
  using Map = std::unordered_map<std::string, Entry, Hash, std::equal_to<>>;
  using Times = std::unordered_map<std::string, int64_t, Hash, std::equal_to<>>;
  // Whether a revocation at `at` can no longer cover a live token: the latest token it covers
  // was issued by at + slack and is refused by the verifier after iat + retention.
  bool expired(int64_t at, int64_t now) const { return at + slack_ + retention_ < now; }
  // Makes room for one more entry in `m` (lock held).
  void make_room(Map& m, int64_t now);
  // Refuses the client's tokens issued at or before `revoked_at` + slack (lock held).
  void watermark(const std::string& client_id, int64_t revoked_at);
  // Refuses the client's tokens issued at or before `through` (lock held).
  void watermark_through(const std::string& client_id, int64_t through);

  int64_t retention_;
  size_t max_entries_;
  int64_t slack_;
  mutable std::shared_mutex mu_;
  uint64_t overflows_ = 0;
  Map revoked_;
  Map tokens_;
  Times clients_;     // deleted clients
  Times watermarks_;  // client -> its tokens with iat <= this are refused
};

}  // namespace stagepass
