// PgStore: the audit stream (EventStore). Ids come from the events table's identity column:
// unique and increasing in the order the inserts ran (store/event_store.hpp).
#include "store/postgresql/pg_store_internal.hpp"

namespace stagepass::postgresql {
using namespace internal;

namespace {

constexpr const char* kEventColumns =
    "SELECT id, at, type, user_id, client_id, ip, user_agent, detail FROM events ";

std::vector<AuditEvent> read_events(const PgResult& r) {
  std::vector<AuditEvent> out;
  out.reserve(static_cast<size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({r.i64(i, 0), r.i64(i, 1), r.text(i, 2), r.text(i, 3), r.text(i, 4), r.text(i, 5),
                   r.text(i, 6), r.text(i, 7)});
  }
  return out;
}

// SQLite reads a negative LIMIT as "no limit"; PostgreSQL refuses one, and reads NULL so.
PgParam limit_param(int limit) { return limit < 0 ? PgParam{} : num(limit); }

}  // namespace

Status<> PgStore::record_event(const AuditEvent& e) {
  return pool_.run([&](PgConnection& c) -> Status<> {
    SP_PG_TRY(
        r, c.prepared("record_event",
                      "INSERT INTO events (at, type, user_id, client_id, ip, user_agent, "
                      "detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                      {num(e.at), e.type, e.user_id, e.client_id, e.ip, e.user_agent, e.detail}));
    return Ok{};
  });
}

Result<std::vector<AuditEvent>> PgStore::user_events(const std::string& user_id, int64_t before_id,
                                                     int limit) {
  return read_history([&](PgConnection& c) -> Result<std::vector<AuditEvent>> {
    static const std::string sql =
        std::string(kEventColumns) + "WHERE user_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3";
    SP_PG_TRY(
        r, c.prepared("user_events", sql,
                      {user_id, num(before_id > 0 ? before_id : INT64_MAX), limit_param(limit)}));
    return read_events(*r);
  });
}

Result<std::vector<AuditEvent>> PgStore::events_since(int64_t since, int limit) {
  return read_history([&](PgConnection& c) -> Result<std::vector<AuditEvent>> {
    static const std::string sql =
        std::string(kEventColumns) + "WHERE at >= $1 ORDER BY id LIMIT $2";
    SP_PG_TRY(r, c.prepared("events_since", sql, {num(since), limit_param(limit)}));
    return read_events(*r);
  });
}

}  // namespace stagepass::postgresql
