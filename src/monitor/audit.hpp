// AuditLog: the one stream of security events (sign-ins, consent, app removal, refresh-token
// reuse, revocations). Each event is written durably through `persist` (the store), counted
// in /metrics as stagepass_audit_events_total{type}, and logged as a JSON line.
// Thread safety: record() may be called from any worker thread; it blocks on the write, so
// never call it on an I/O thread.
// Lifetime: keeps references to `metrics` and `clock`; both must outlive it.
#pragma once

#include <functional>

#include "core/clock.hpp"
#include "domain/models.hpp"
#include "monitor/metrics.hpp"

namespace stagepass {

class AuditLog {
 public:
  using Persist = std::function<bool(const AuditEvent&)>;
  AuditLog(Persist persist, Metrics& metrics, const Clock& clock);
  // Stamps `at` when unset. Returns false when the durable write failed (the event is still
  // logged and counted).
  bool record(AuditEvent event) const;

 private:
  Persist persist_;
  Metrics& metrics_;
  const Clock& clock_;
};

}  // namespace stagepass
