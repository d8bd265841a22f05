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
  return found.size();
}

void AbuseResponder::warn(const std::string& client_id, const std::string& type,
                          const std::string& detail, int64_t at) {
  if (auto st = warnings_.record_app_warning({0, client_id, at, type, detail}); !st) {
    log::event("error", "abuse warning not recorded",
               {{"client_id", client_id}, {"type", type}, {"error", st.error().message}});
  }
}

void AbuseResponder::handle(const AbuseFinding& f) {
  audit_.record({0, f.at, f.type, f.user_id, f.client_id, f.ip, "", f.detail});
  std::optional<Client> app;
  if (!f.client_id.empty()) {
    if (auto c = clients_.find_client(f.client_id)) app = std::move(*c);
  }
  if (app) warn(app->id, f.type, f.detail, f.at);
  if (!app) return;  // every action below is about an app that exists

  const bool suspend_app =
      (f.type == "abuse_refresh_reuse" && actions_.suspend_on_refresh_reuse) ||
      (f.type == "abuse_burst" && actions_.suspend_on_burst) ||
      (f.type == "abuse_secret_guessing" && actions_.suspend_on_secret_guessing);
  if (suspend_app && app->suspended_at == 0) suspend(app->id, f);
  if (f.type == "abuse_token_many_ips" && actions_.revoke_on_token_ips) {
    AuditEvent e{0,
                 0,
                 "grant_suspended",
                 f.user_id,
                 f.client_id,
                 f.ip,
                 "",
                 "access revoked automatically: " + f.detail};
    auto r = f.grant_id.empty() ? revoker_.revoke_access_token(f.jti, f.client_id,
                                                               f.at + actions_.access_token_ttl, e)
                                : revoker_.revoke_grant(f.grant_id, e);
    if (!r) {
      log::event("error", "automatic revocation failed",
                 {{"client_id", f.client_id}, {"error", r.error().message}});
    }
  }
}

void AbuseResponder::suspend(const std::string& client_id, const AbuseFinding& f) {
  const int64_t now = clock_.now();
  // The reason reaches the app (the error description) and its owner: the finding's words,
  // which name no secret and no address.
  const std::string reason = "automatic, after " + f.type + ": " + f.detail;
  if (auto st = clients_.set_client_suspension(client_id, now, reason); !st) {
    log::event("error", "automatic suspension failed",
               {{"client_id", client_id}, {"error", st.error().message}});
    return;
  }
  if (announce_) announce_();
  audit_.record({0, now, "client_suspended", "", client_id, f.ip, "", reason});
  warn(client_id, "client_suspended", reason, now);
}

}  // namespace stagepass
