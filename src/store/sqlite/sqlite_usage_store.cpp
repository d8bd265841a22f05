// SqliteStore: per-app usage series and abuse warnings (UsageStore, issue 15).
#include "store/sqlite/sqlite_store_internal.hpp"

namespace stagepass::sqlite {
using namespace internal;

Status<> SqliteStore::save_usage(const std::vector<AppUsageRow>& rows, int64_t now,
                                 int64_t keep_seconds) {
  return write_background([&](Connection& db) -> Status<> {
    Transaction tx(db);
    for (const auto& r : rows) {
      // Not for a client deleted since (its rows went with it): no orphan comes back.
      db.prepare(
            "INSERT OR REPLACE INTO app_usage (client_id, span, start, data) "
            "SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM clients WHERE id = ?1)")
          .bind_all(r.client_id, r.span, r.start, r.data)
          .run();
    }
    db.prepare("DELETE FROM app_usage WHERE start < ?").bind(1, now - keep_seconds).run();
    tx.commit();
    return Ok{};
  });
}

Result<std::vector<AppUsageRow>> SqliteStore::load_usage(int64_t since) {
  return read([&](Connection& db) -> Result<std::vector<AppUsageRow>> {
    auto s = db.prepare("SELECT client_id, span, start, data FROM app_usage WHERE start >= ?");
    s.bind(1, since);
    std::vector<AppUsageRow> out;
    while (s.step()) out.push_back({s.text(0), s.i64(1), s.i64(2), s.text(3)});
    return out;
  });
}

Result<std::vector<AppUsageRow>> SqliteStore::load_app_usage(const std::string& client_id,
                                                             int64_t since) {
  return read([&](Connection& db) -> Result<std::vector<AppUsageRow>> {
    auto s = db.prepare(
        "SELECT client_id, span, start, data FROM app_usage WHERE client_id = ? AND start >= ?");
    s.bind_all(client_id, since);
    std::vector<AppUsageRow> out;
    while (s.step()) out.push_back({s.text(0), s.i64(1), s.i64(2), s.text(3)});
    return out;
  });
}

Status<> SqliteStore::record_app_warning(const AppWarning& w) {
  return write([&](Connection& db) -> Status<> {
    Transaction tx(db);
    db.prepare(
          "INSERT INTO app_warnings (client_id, at, type, detail) "
          "SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM clients WHERE id = ?1)")
        .bind_all(w.client_id, w.at, w.type, w.detail)
        .run();
    // issue15-fix:abuse: bounded per app, the newest kept (index app_warnings_client).
    db.prepare(
          "DELETE FROM app_warnings WHERE client_id = ?1 AND id <= (SELECT id FROM app_warnings "
          "WHERE client_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)")
        .bind_all(w.client_id, int64_t{kMaxWarningsPerApp})
        .run();
    tx.commit();
    return Ok{};
  });
}

Result<std::vector<AppWarning>> SqliteStore::app_warnings(const std::string& client_id, int limit) {
  return read([&](Connection& db) -> Result<std::vector<AppWarning>> {
    auto s = db.prepare(
        "SELECT id, client_id, at, type, detail FROM app_warnings WHERE client_id = ? "
        "ORDER BY id DESC LIMIT ?");
    s.bind_all(client_id, int64_t{limit});
    std::vector<AppWarning> out;
    while (s.step()) out.push_back({s.i64(0), s.text(1), s.i64(2), s.text(3), s.text(4)});
    return out;
  });
}

}  // namespace stagepass::sqlite
