// SqliteStore: the audit stream.
#include "store/sqlite/sqlite_store_internal.hpp"

namespace stagepass::sqlite {
using namespace internal;

namespace {
constexpr const char* kEventColumns =
    "SELECT id, at, type, user_id, client_id, ip, user_agent, detail FROM events ";
AuditEvent read_event(Stmt& s) {
  return {s.i64(0), s.i64(1), s.text(2), s.text(3), s.text(4), s.text(5), s.text(6), s.text(7)};
}
}  // namespace

Status<> SqliteStore::record_event(const AuditEvent& e) {
  return write([&](Connection& db) -> Status<> {
    db.prepare(
          "INSERT INTO events (at, type, user_id, client_id, ip, user_agent, detail) "
          "VALUES (?,?,?,?,?,?,?)")
        .bind_all(e.at, e.type, e.user_id, e.client_id, e.ip, e.user_agent, e.detail)
        .run();
    return Ok{};
  });
}

Result<std::vector<AuditEvent>> SqliteStore::user_events(const std::string& user_id,
                                                         int64_t before_id, int limit) {
  return read([&](Connection& db) -> Result<std::vector<AuditEvent>> {
    static const std::string sql =
        std::string(kEventColumns) + "WHERE user_id = ? AND id < ? ORDER BY id DESC LIMIT ?";
    auto s = db.prepare(sql.c_str());
    s.bind_all(user_id, before_id > 0 ? before_id : INT64_MAX, int64_t{limit});
    std::vector<AuditEvent> out;
    while (s.step()) out.push_back(read_event(s));
    return out;
  });
}

Result<std::vector<AuditEvent>> SqliteStore::events_since(int64_t since, int limit) {
  return read([&](Connection& db) -> Result<std::vector<AuditEvent>> {
    static const std::string sql = std::string(kEventColumns) + "WHERE at >= ? ORDER BY id LIMIT ?";
    auto s = db.prepare(sql.c_str());
    s.bind_all(since, int64_t{limit});
    std::vector<AuditEvent> out;
    while (s.step()) out.push_back(read_event(s));
    return out;
  });
}

}  // namespace stagepass::sqlite
