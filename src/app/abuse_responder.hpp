// AbuseResponder: acts on what the abuse detectors found (monitor/abuse_detector.hpp), off the
// request path (a Background chore). For each finding:
//  1. an audit event of the finding's type ("abuse_secret_guessing", ...), written durably,
//     so operators see it in `stagepass admin events`;
//  2. a warning on the app's dashboard (UsageStore::record_app_warning), when the finding
//     names an app that exists;
//  3. the automatic action, when the operator turned it on (all off by default):
//       abuse_refresh_reuse, abuse_burst, abuse_secret_guessing -> suspend the app;
//       abuse_token_many_ips -> revoke the token's grant (the token alone when it has none).
//     Suspension: ClientStore::set_client_suspension with the finding as the reason, a
//     `client_suspended` audit event and warning, and this node's revocation set refreshed at
//     once (other nodes within a poll): the app's tokens stop working everywhere and its
//     token requests get invalid_client saying why. An app already suspended is left as is.
// Credential stuffing names no app: it is recorded (event) and the sign-in throttle limits it.
// Blocking (store writes): run it from Background only.
// Lifetime: keeps references to everything it is given; all must outlive it.
#pragma once

#include <cstdint>
#include <functional>

#include "core/clock.hpp"
#include "monitor/abuse_detector.hpp"
#include "monitor/audit.hpp"
#include "oauth/grant_revoker.hpp"
#include "store/client_store.hpp"
#include "store/usage_store.hpp"

namespace stagepass {

struct AbuseActions {
  bool suspend_on_refresh_reuse = false;
  bool revoke_on_token_ips = false;
  bool suspend_on_burst = false;
  bool suspend_on_secret_guessing = false;
  int64_t access_token_ttl = 3600;  // how long a revoked token's jti must be remembered
};

class AbuseResponder {
 public:
  using Announce = std::function<void()>;  // refreshes this node's revocation set
  AbuseResponder(AbuseDetector& detector, ClientStore& clients, UsageStore& warnings,
                 const oauth::GrantRevoker& revoker, const AuditLog& audit, Announce announce,
                 const Clock& clock, AbuseActions actions);
  // Drains the detector and handles each finding. Returns how many were handled.
  size_t run();

 private:
  void handle(const AbuseFinding& f);
  void suspend(const std::string& client_id, const AbuseFinding& f);
  void warn(const std::string& client_id, const std::string& type, const std::string& detail,
            int64_t at);

  AbuseDetector& detector_;
  ClientStore& clients_;
  UsageStore& warnings_;
  const oauth::GrantRevoker& revoker_;
  const AuditLog& audit_;
  Announce announce_;
  const Clock& clock_;
  AbuseActions actions_;
};

}  // namespace stagepass
