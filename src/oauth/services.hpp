// What the OAuth layer needs from the outside world, injected by the composition root.
// Thread safety: every member is safe to use from worker threads concurrently (and from I/O
// threads for what never blocks: client authentication from memory, the usage and abuse notes).
// Lifetime: holds references; the store behind the roles, the key slot, the clock, random and
// revoker must outlive it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "monitor/abuse_detector.hpp"
#include "monitor/app_usage.hpp"
#include "monitor/secret_usage.hpp"
#include "oauth/grant_revoker.hpp"
#include "store/client_store.hpp"
#include "store/code_store.hpp"
#include "store/grant_store.hpp"
#include "store/refresh_token_store.hpp"
#include "store/user_store.hpp"
#include "tokens/keyring.hpp"

namespace stagepass::oauth {

struct OAuthSettings {
  std::string issuer;    // exactly as published in metadata and in "iss"
  std::string audience;  // the Web API's audience, "<issuer>/v1" by default
  int64_t access_token_ttl = 3600;
  int64_t refresh_token_ttl = 182 * 24 * 3600;  // absolute, from consent (Spotify: 6 months)
  int64_t refresh_idle_ttl = 90 * 24 * 3600;    // since the token's last use
  int64_t refresh_grace = 10;  // a rotated refresh token may be retried for this long
  int64_t code_ttl = 60;
};

struct Services {
  // The storage roles the OAuth layer uses (store/*.hpp), each a view of the one backend the
  // composition root chose; the layer never sees sessions, events, keys or the whole Store.
  ClientStore& clients;               // client authentication, authorization requests
  GrantStore& grants;                 // consent, introspection
  CodeStore& codes;                   // issued at authorization, redeemed by its grant
  RefreshTokenStore& refresh_tokens;  // rotation, RFC 7009 revocation, introspection
  UserStore& users;                   // introspection's "username"
  const KeyringSlot& keys;            // the signing keys in force (swapped when the store's change)
  const Clock& clock;
  Random& random;
  OAuthSettings settings;
  // Every revocation of a grant or an access token goes through it (announce + audit).
  const GrantRevoker& revoker;
  // Records a security event durably (blocking: worker threads only). May be empty in tests.
  std::function<void(AuditEvent)> audit;
  // issue15:secrets. Hears of every client-secret use (last-use figures, retiring-secret
  // audit coalescing). May be null in tests: uses are then not counted.
  SecretUsage* secret_usage = nullptr;
  // issue15:abuse. Abuse signals and per-app usage, noted on the request path (O(1), never
  // blocking); either may be null (tests, nothing noted).
  AbuseDetector* abuse = nullptr;
  AppUsage* usage = nullptr;
};

}  // namespace stagepass::oauth
