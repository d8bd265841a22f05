#include "app/abuse_responder.hpp"

#include "monitor/log.hpp"

namespace stagepass {

AbuseResponder::AbuseResponder(AbuseDetector& detector, ClientStore& clients, UsageStore& warnings,
                               const oauth::GrantRevoker& revoker, const AuditLog& audit,
                               Announce announce, const Clock& clock, AbuseActions actions)
    : detector_(detector),
      clients_(clients),
      warnings_(warnings),
      revoker_(revoker),
      audit_(audit),
      announce_(std::move(announce)),
      clock_(clock),
      actions_(actions) {}

size_t AbuseResponder::run() {
  auto found = detector_.drain();
  for (const auto& f : found) handle(f);
  close_periods(clock_.now());
  return found.size();
}

void AbuseResponder::warn(const std::string& client_id, const std::string& type,
                          const std::string& detail, int64_t at) {
  if (auto st = warnings_.record_app_warning({0, client_id, at, type, detail}); !st) {
    log::event("error", "abuse warning not recorded",
               {{"client_id", client_id}, {"type", type}, {"error", st.error().message}});
  }
}

bool AbuseResponder::first_in_period(const AbuseFinding& f, const Client& app) {
  const auto key = std::make_pair(f.type, app.id);
  if (auto it = periods_.find(key); it != periods_.end() && it->second.ends > f.at) {
    ++it->second.more;
    return false;
  }
  if (periods_.size() >= kMaxCoalesced) close_periods(clock_.now());
  if (periods_.size() >= kMaxCoalesced) return false;  // bounded: only logged
  periods_[key] = Period{f.at + actions_.coalesce_seconds, 0};
  return true;
}

void AbuseResponder::close_periods(int64_t now) {
  for (auto it = periods_.begin(); it != periods_.end();) {
    if (it->second.ends > now) {
      ++it;
      continue;
    }
    if (it->second.more > 0) {
      const auto& [type, client_id] = it->first;
      audit_.record({0, now, type, "", client_id, "", "",
                     std::to_string(it->second.more) + " more " + type +
                         " findings for this app within " +
                         std::to_string(actions_.coalesce_seconds) +
                         " s, not recorded one by one (each is in the log)"});
    }
    it = periods_.erase(it);
  }
}

void AbuseResponder::handle(const AbuseFinding& f) {
  std::optional<Client> app;
  if (!f.client_id.empty()) {
    if (auto c = clients_.find_client(f.client_id)) app = std::move(*c);
  }
  // The event names an app only when one has that id: a secret guesser's client id is text
  // of its choosing, kept out of the audit stream unless it is a real app's.
  const std::string client_id = app ? app->id : "";
  if (!app || first_in_period(f, *app)) {
    audit_.record({0, f.at, f.type, f.user_id, client_id, f.ip, "", f.detail});
    if (app) warn(app->id, f.type, f.detail, f.at);
  } else {
    log::event("warn", "abuse signal (coalesced)",
               {{"type", f.type}, {"client_id", client_id}, {"ip", f.ip}});
  }
  if (app) act(f, *app);  // every action below is about an app that exists
}

void AbuseResponder::act(const AbuseFinding& f, const Client& app) {
  // Never abuse_secret_guessing: the guesser named the app, the app did nothing. Never a
  // public app: anyone can act as it (AbuseResponder's header).
  const bool suspend_app =
      !app.is_public &&
      ((f.type == "abuse_refresh_reuse" && actions_.suspend_on_refresh_reuse) ||
       (f.type == "abuse_burst" && actions_.suspend_on_burst && f.grants >= kBurstMinGrants));
  if (suspend_app && app.suspended_at == 0) suspend(app.id, f);
  if (f.type == "abuse_token_many_ips" && actions_.revoke_on_token_ips) {
    // A revocation, permanent (the person consents again to get a new grant), so it is
    // recorded as one: grant_revoked, with the reason "abuse" (issue15-fix:revoke).
    AuditEvent e{0,
                 0,
                 "grant_revoked",
                 f.user_id,
                 app.id,
                 f.ip,
                 "",
                 "reason: abuse (abuse_token_many_ips); revoked automatically: " + f.detail};
    auto r = f.grant_id.empty()
                 ? revoker_.revoke_access_token(f.jti, app.id, f.at + actions_.access_token_ttl, e)
                 : revoker_.revoke_grant(f.grant_id, e);
    if (!r) {
      log::event("error", "automatic revocation failed",
                 {{"client_id", app.id}, {"error", r.error().message}});
    }
  }
}

void AbuseResponder::suspend(const std::string& client_id, const AbuseFinding& f) {
  const int64_t now = clock_.now();
  // The reason reaches the app (the error description) and its owner: the finding's words,
  // which name no secret and no address.
  const std::string reason = "automatic, after " + f.type + ": " + f.detail;
  if (auto st = clients_.set_client_suspension(client_id, now, reason, actions_.clock_skew); !st) {
    log::event("error", "automatic suspension failed",
               {{"client_id", client_id}, {"error", st.error().message}});
    return;
  }
  if (announce_) announce_();
  audit_.record({0, now, "client_suspended", "", client_id, f.ip, "", reason});
  warn(client_id, "client_suspended", reason, now);
}

}  // namespace stagepass
