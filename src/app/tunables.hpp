// Tunables: the numbers in the server that are policy rather than mechanics (windows,
// memory bounds, refetch intervals, deadlines), in one place. They are not settings: no
// operator has needed to change them, and each is chosen against a cost written beside it.
// docs/operations.md states the ones an operator can observe. Config carries one (Config::
// tunables) and the composition root (serve, the nodes, the listeners) hands each value to
// the layer that applies it; the lower layers never include app/.
// Thread safety: a plain value, read-only once the server starts.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace stagepass {

struct Tunables {
  // ---- Sign-in and sign-up throttles (monitor::LoginThrottle) ----
  // Failed sign-ins are counted over this window (operations.md: "per account per 15 min"):
  // long enough that STAGEPASS_LOGIN_MAX_FAILURES guesses per window is slow guessing, short
  // enough that a person who mistyped is not locked out for long.
  int64_t login_window_seconds = 15 * 60;
  // A client IP may fail this many times the per-account limit (several people behind one
  // address sign in with typos; operations.md: "per IP: 4×").
  int login_ip_factor = 4;
  // An IPv6 /48 may fail this many times the per-IP limit: one customer often holds a whole
  // /48, and without a network limit each of its 65,536 /64s would have its own allowance.
  int login_ipv6_network_factor = 8;
  // Counters kept per throttle (sign-in and sign-up each): its memory bound. Full of live
  // counters, an attempt that needs a new one is refused (fail closed); none is evicted.
  size_t throttle_tracked_keys = 100000;
  // Sign-ups are counted per IP over this window (STAGEPASS_SIGNUP_MAX_PER_IP is per hour).
  int64_t signup_window_seconds = 3600;

  // ---- Revocations ----
  // Each revocation poll rereads this much more than STAGEPASS_CLOCK_SKEW before the last
  // poll: a revocation's timestamp is taken before its write commits, and the commit may
  // wait on the group commit or a busy database (one stamped ~3 s before it became visible
  // was once never read). Rereading is harmless: adding a known revocation changes nothing.
  int64_t revocation_lookback_seconds = 30;
  // Revocations kept in memory (tokens::RevocationSet), its memory bound. Full, the set
  // forgets some and refuses every token of their clients issued up to then (fails closed,
  // counted in stagepass_revocation_set_overflows): never a revoked token let through.
  size_t revoked_grants_capacity = 1000000;

  // ---- JWKS (the api role) ----
  // A token naming an unknown key refetches the JWKS at once, but at most this often, one
  // fetch at a time (app/jwks_refresher.hpp; operations.md: "within 5 s after a token names
  // an unknown kid"): a key this node missed is picked up quickly, and a flood of forged
  // kids costs one fetch per 5 s, not one per request. Also the retry after a failed fetch.
  int64_t jwks_unknown_kid_refetch_seconds = 5;
  // One JWKS fetch (connect, TLS handshake, request, response) ends after this
  // (operations.md: "each fetch within 5 s"): the background thread must not hang.
  std::chrono::seconds jwks_fetch_timeout{5};
  // Largest JWKS document accepted: a few keys take a few kilobytes.
  size_t jwks_max_bytes = 1 << 20;
  // Cache-Control max-age of the metadata documents (RFC 8414): how long clients may use a
  // copy. The JWKS has its own, a setting (STAGEPASS_JWKS_MAX_AGE): key rotation depends on it.
  int64_t discovery_max_age_seconds = 300;

  // ---- Background chores (app::Background) ----
  // The revocation poll runs every tick: a grant revoked on another node is refused here
  // within about a second.
  std::chrono::milliseconds background_tick{1000};
  // Registered web origins (CORS of /api/token) are reread every this many ticks
  // (operations.md: "refreshed every 5 s").
  int origins_refresh_ticks = 5;
  // "Last used" of grants is flushed to the store every this many ticks, in transactions of
  // kRowsPerWrite grants (store/write_batches.hpp), instead of one write per API call; a
  // flush writes the grants whose use moved on by a minute, and the last use of those no
  // longer in use (below).
  int usage_flush_ticks = 5;
  // A grant's "last used" is written again only once its latest use is this many seconds
  // newer than the one last written (monitor::UsageAggregator): the pages show it to the
  // minute (the stored time is less than this behind), and a grant in constant use costs the
  // writer one row a minute instead of one every flush (10,000 grants in use were 2,000 rows
  // a second). The aggregator remembers the grants used within this window.
  int64_t usage_resolution_seconds = 60;
  // issue15:abuse. Per-app usage buckets reach the store every this many ticks (and at
  // shutdown): a crash loses at most a minute of the charts' history.
  int app_usage_save_ticks = 60;
  // Apps whose usage windows are held in memory (monitor::AppUsage, ~20 KB each); a new one
  // evicts the least recently active (its history stays in the store and comes back with its
  // next request). Also bounds the /metrics label set.
  size_t usage_max_apps = 1000;
  // Keys (IPs, tokens, apps) each abuse detector tracks: its memory bound.
  size_t abuse_tracked_keys = 100000;

  // ---- Listeners and HTTP deadlines (http::Limits, http::ServerOptions) ----
  // The admin and http→https redirect listeners each take at most this many connections
  // (a Prometheus scraper and probes; clients being told to use https): idle sockets on them
  // cannot use up the descriptors the public listener needs.
  size_t side_listener_connections = 256;
  // Descriptors kept free of connections (SQLite journals, the JWKS fetch), beyond what is
  // open at start: STAGEPASS_MAX_CONNECTIONS is lowered to leave them.
  size_t spare_descriptors = 64;
  // A request must arrive completely within this of its first byte (slow-header attacks).
  std::chrono::seconds read_timeout{10};
  // A kept-alive connection may wait this long for its next request to start.
  std::chrono::seconds idle_timeout{60};
  // A TLS handshake must finish within this.
  std::chrono::seconds handshake_timeout{10};
  // On SIGTERM, in-flight requests may finish within this before their connections close.
  std::chrono::milliseconds shutdown_grace{5000};
  // Strict-Transport-Security max-age on https answers: one year (no includeSubDomains:
  // other hosts under the domain are not ours to pin).
  int64_t hsts_max_age_seconds = 31536000;
};

}  // namespace stagepass
