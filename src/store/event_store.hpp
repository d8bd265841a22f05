// EventStore: the audit stream (sign-ins, consent, revocations, reuse detection, ...). A role
// of the accounts store: store.hpp states what every backend promises for every role
// (threads, blocking, durability, atomicity, error codes).
// Used by the audit log (written through app/'s AuditLog), the pages (a person's own
// security log) and the admin CLI (everyone's events).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "domain/models.hpp"

namespace stagepass {

class EventStore {
 public:
  virtual ~EventStore() = default;
  // Appends the event; the store assigns its id (increasing).
  virtual Status<> record_event(const AuditEvent& event) = 0;
  // A person's events, newest first, with id < before_id (0: from the newest).
  virtual Result<std::vector<AuditEvent>> user_events(const std::string& user_id, int64_t before_id,
                                                      int limit) = 0;
  // Everyone's events at or after `since`, oldest first (for operators).
  virtual Result<std::vector<AuditEvent>> events_since(int64_t since, int limit) = 0;
};

}  // namespace stagepass
