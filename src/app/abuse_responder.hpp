// AbuseResponder: acts on what the abuse detectors found (monitor/abuse_detector.hpp), off the
// request path (a Background chore). For each finding:
//  1. an audit event of the finding's type ("abuse_secret_guessing", ...), written durably,
//     so operators see it in `stagepass admin events`; its client_id only when an app of that
//     id exists (a secret guesser's client id is text of the attacker's choosing);
//  2. a warning on the app's dashboard (UsageStore::record_app_warning), when the finding
//     names an app that exists;
//  3. the automatic action, when the operator turned it on (all off by default):
//       abuse_refresh_reuse, abuse_burst -> suspend the app (never a public app: anyone can
//         act as one, so any of its users could produce the pattern); abuse_burst only when
//         it is spread over at least kBurstMinGrants grants (AbuseFinding::grants), so one
//         person's token (or a client-credentials burst) raises the warning only;
//       abuse_token_many_ips -> revoke the token's grant (the token alone when it has none):
//         permanent, audit event `grant_revoked` with "reason: abuse" in its detail;
//       abuse_secret_guessing -> nothing here, ever, to the app it names: the client id is
//         public, so whoever sends wrong secrets under it is not the app. Its action acts on
//         the source, on the request path (AbuseSettings::block_guessing_sources).
//     Suspension: ClientStore::set_client_suspension with the finding as the reason, a
//     `client_suspended` audit event and warning, and this node's revocation set refreshed at
//     once (other nodes within a poll): the app's tokens stop working everywhere and its
//     token requests get invalid_client saying why. An app already suspended is left as is.
// Bounded per app (issue15-fix:abuse): findings of one type about one app are coalesced over
// `coalesce_seconds`: the first is recorded (event and warning); the later ones are only
// logged (with their address) and counted, and when the period ends one more event says how
// many there were. So an app gets at most one warning and two events of each type per period
// however many sources produce the pattern; the store keeps at most
// UsageStore::kMaxWarningsPerApp warnings per app. Actions are taken for every finding.
// Credential stuffing names no app: it is recorded (event) and the sign-in throttle limits it.
// Blocking (store writes): run it from Background only (one thread at a time).
// Lifetime: keeps references to everything it is given; all must outlive it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>

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
  int64_t access_token_ttl = 3600;  // how long a revoked token's jti must be remembered
  int64_t coalesce_seconds = 3600;  // one recorded finding per app and type per this long
  int64_t clock_skew = 10;  // issue15-fix:suspension: a suspension's durable token cut slack
};

class AbuseResponder {
 public:
  using Announce = std::function<void()>;  // refreshes this node's revocation set
  AbuseResponder(AbuseDetector& detector, ClientStore& clients, UsageStore& warnings,
                 const oauth::GrantRevoker& revoker, const AuditLog& audit, Announce announce,
                 const Clock& clock, AbuseActions actions);
  static constexpr size_t kMaxCoalesced = 100000;  // (type, app) periods remembered
  static constexpr uint64_t kBurstMinGrants = 3;   // issue15-fix:burst
  // Drains the detector and handles each finding, then closes the coalescing periods that
  // ended. Returns how many findings were handled.
  size_t run();

 private:
  void handle(const AbuseFinding& f);
  void act(const AbuseFinding& f, const Client& app);
  // True when `f` about `app` is the first of its type in the current period (to record).
  bool first_in_period(const AbuseFinding& f, const Client& app);
  void close_periods(int64_t now);
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
  struct Period {
    int64_t ends = 0;
    uint64_t more = 0;  // findings coalesced into it
  };
  std::map<std::pair<std::string, std::string>, Period> periods_;  // (type, client id)
};

}  // namespace stagepass
