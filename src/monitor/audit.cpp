#include "monitor/audit.hpp"

#include "monitor/log.hpp"

namespace stagepass {

AuditLog::AuditLog(Persist persist, Metrics& metrics, const Clock& clock)
    : persist_(std::move(persist)), metrics_(metrics), clock_(clock) {
  metrics_.describe("stagepass_audit_events_total", "counter", "Security events, by type");
}

bool AuditLog::record(AuditEvent e) const {
  if (e.at == 0) e.at = clock_.now();
  bool stored = persist_ && persist_(e);
  metrics_.inc("stagepass_audit_events_total{type=\"" + e.type + "\"}");
  log::event(stored ? "info" : "error", "audit",
             {{"type", e.type},
              {"user_id", e.user_id},
              {"client_id", e.client_id},
              {"ip", e.ip},
              {"detail", e.detail},
              {"stored", stored}});
  return stored;
}

}  // namespace stagepass
