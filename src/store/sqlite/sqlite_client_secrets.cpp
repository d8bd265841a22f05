// SqliteStore: client secrets (issue15:secrets): the current and retiring secrets of each
// client, rotation with a grace period or a hard cut, and the batched last-use figures.
#include <unordered_map>

#include "store/sqlite/sqlite_store_internal.hpp"

namespace stagepass::sqlite {
using namespace internal;

namespace internal {

// The current secret sorts first: expires_at IS NOT NULL is 0 for it.
constexpr const char* kSecretColumns =
    "SELECT client_id, id, hash, created_at, COALESCE(expires_at, 0) FROM client_secrets ";

void read_client_secrets(Connection& db, Client& c) {
  c.secrets.clear();
  c.secret_hash.clear();
  {
    static const std::string sql =
        std::string(kSecretColumns) + "WHERE client_id = ? ORDER BY expires_at IS NOT NULL, id";
    auto s = db.prepare(sql.c_str());
    s.bind(1, c.id);
    while (s.step()) c.secrets.push_back({s.i64(1), s.text(2), s.i64(3), s.i64(4)});
  }
  if (!c.secrets.empty() && c.secrets.front().expires_at == 0) {
    c.secret_hash = c.secrets.front().hash;
  }
  auto cut = db.prepare("SELECT cut_at FROM client_token_cuts WHERE client_id = ?");
  c.tokens_cut_at = cut.bind(1, c.id).step() ? cut.i64(0) : 0;
}

void read_all_client_secrets(Connection& db, std::vector<Client>& clients) {
  std::unordered_map<std::string, Client*> by_id;
  for (auto& c : clients) {
    c.secrets.clear();
    c.secret_hash.clear();
    by_id.emplace(c.id, &c);
  }
  {
    static const std::string sql =
        std::string(kSecretColumns) + "ORDER BY client_id, expires_at IS NOT NULL, id";
    auto s = db.prepare(sql.c_str());
    while (s.step()) {
      auto it = by_id.find(s.text(0));
      if (it == by_id.end()) continue;
      Client& c = *it->second;
      c.secrets.push_back({s.i64(1), s.text(2), s.i64(3), s.i64(4)});
      if (c.secrets.size() == 1 && c.secrets.front().expires_at == 0) {
        c.secret_hash = c.secrets.front().hash;
      }
    }
  }
  auto cuts = db.prepare("SELECT client_id, cut_at FROM client_token_cuts");
  while (cuts.step()) {
    auto it = by_id.find(cuts.text(0));
    if (it != by_id.end()) it->second->tokens_cut_at = cuts.i64(1);
  }
}

int64_t insert_current_secret(Connection& db, const std::string& client_id, const std::string& hash,
                              int64_t now) {
  auto s = db.prepare(
      "INSERT INTO client_secrets (client_id, hash, created_at) VALUES (?,?,?) RETURNING id");
  s.bind_all(client_id, hash, now);
  const int64_t id = s.step() ? s.i64(0) : 0;
  s.run();
  return id;
}

}  // namespace internal

Result<ClientStore::SecretRotation> SqliteStore::rotate_client_secret(const std::string& id,
                                                                      const std::string& new_hash,
                                                                      int64_t now, int64_t grace) {
  if (grace < 0 || new_hash.empty()) {
    return fail(Error{ErrorCode::kInvalid, "a rotation needs a secret and a grace >= 0"});
  }
  return write([&](Connection& db) -> Result<SecretRotation> {
    Transaction tx(db);
    {
      auto c = db.prepare("SELECT is_public FROM clients WHERE id = ?");
      if (!c.bind(1, id).step()) return fail(not_found("client"));
      if (c.i64(0) != 0) return fail(Error{ErrorCode::kConflict, "a public client has no secret"});
    }
    // At most two live secrets: one that was still retiring ends now.
    db.prepare("DELETE FROM client_secrets WHERE client_id = ? AND expires_at IS NOT NULL")
        .bind(1, id)
        .run();
    SecretRotation out;
    out.previous_expires_at = now + grace;
    if (grace > 0) {
      db.prepare(
            "UPDATE client_secrets SET expires_at = ? WHERE client_id = ? AND expires_at IS NULL")
          .bind_all(now + grace, id)
          .run();
    } else {
      // Hard cut: the previous secret ends now, and so do the tokens issued up to now (and
      // the margin: client_store.hpp), and those minted after the previous cut, which carry
      // iat = that cut + 1, maybe later than now (TokenIssuer): never less than that.
      db.prepare("DELETE FROM client_secrets WHERE client_id = ?").bind(1, id).run();
      db.prepare(
            "INSERT INTO client_token_cuts (client_id, cut_at) VALUES (?, ?) "
            "ON CONFLICT (client_id) DO UPDATE SET cut_at = MAX(cut_at + 1, excluded.cut_at)")
          .bind_all(id, now + kHardCutMarginSeconds)
          .run();
    }
    out.secret_id = insert_current_secret(db, id, new_hash, now);
    tx.commit();
    return out;
  });
}

Result<std::vector<ClientStore::LiveSecret>> SqliteStore::list_live_secrets(const std::string& id,
                                                                            int64_t now) {
  return read([&](Connection& db) -> Result<std::vector<LiveSecret>> {
    {
      auto c = db.prepare("SELECT 1 FROM clients WHERE id = ?");
      if (!c.bind(1, id).step()) return fail(not_found("client"));
    }
    auto s = db.prepare(
        "SELECT s.id, s.created_at, COALESCE(s.expires_at, 0), COALESCE(s.last_used_at, 0), "
        "(SELECT COUNT(*) FROM client_secret_ips i WHERE i.secret_id = s.id "
        "AND i.last_used_at > ?) "
        "FROM client_secrets s WHERE s.client_id = ? AND (s.expires_at IS NULL OR s.expires_at > "
        "?) "
        "ORDER BY s.expires_at IS NOT NULL, s.id");
    s.bind_all(now - 86400, id, now);
    std::vector<LiveSecret> out;
    while (s.step()) {
      out.push_back(
          {s.i64(0), s.i64(1), s.i64(2), s.i64(3), std::min(s.i64(4), kMaxTrackedIpsPerSecret)});
    }
    return out;
  });
}

Status<> SqliteStore::record_secret_usage(const std::vector<ClientSecretUse>& uses, int64_t now) {
  if (uses.empty()) return Ok{};
  return write_background([&](Connection& db) -> Status<> {
    Transaction tx(db);
    const int64_t day_ago = now - 86400;
    std::unordered_map<int64_t, bool> swept;
    for (const auto& u : uses) {
      // issue15-fix:secret-ids: a use counts only for a secret that existed then (ids are
      // not reused since AUTOINCREMENT; the time check is belt and braces).
      db.prepare(
            "UPDATE client_secrets SET last_used_at = ? WHERE id = ? AND created_at <= ? "
            "AND (last_used_at IS NULL OR last_used_at < ?)")
          .bind_all(u.at, u.secret_id, u.at, u.at)
          .run();
      if (db.changes() == 0) {
        auto exists = db.prepare("SELECT 1 FROM client_secrets WHERE id = ? AND created_at <= ?");
        if (!exists.bind_all(u.secret_id, u.at).step()) continue;
      }
      if (u.ip.empty()) continue;
      if (!swept[u.secret_id]) {
        // IPs not seen for a day no longer count (and no longer hold a place under the cap).
        db.prepare("DELETE FROM client_secret_ips WHERE secret_id = ? AND last_used_at <= ?")
            .bind_all(u.secret_id, day_ago)
            .run();
        swept[u.secret_id] = true;
      }
      // A known IP moves on; a new one is added while the secret has fewer than the cap (and
      // still exists: a secret deleted since the use leaves nothing behind).
      db.prepare(
            "UPDATE client_secret_ips SET last_used_at = MAX(last_used_at, ?) "
            "WHERE secret_id = ? AND ip = ?")
          .bind_all(u.at, u.secret_id, u.ip)
          .run();
      if (db.changes() > 0) continue;
      db.prepare(
            "INSERT INTO client_secret_ips (secret_id, ip, last_used_at) "
            "SELECT id, ?, ? FROM client_secrets WHERE id = ? AND created_at <= ? "
            "AND (SELECT COUNT(*) FROM client_secret_ips WHERE secret_id = ?) < ?")
          .bind_all(u.ip, u.at, u.secret_id, u.at, u.secret_id, kMaxTrackedIpsPerSecret)
          .run();
    }
    tx.commit();
    return Ok{};
  });
}

Result<std::vector<std::pair<std::string, int64_t>>> SqliteStore::client_cuts_since(int64_t since) {
  return read([&](Connection& db) -> Result<std::vector<std::pair<std::string, int64_t>>> {
    auto s = db.prepare("SELECT client_id, cut_at FROM client_token_cuts WHERE cut_at >= ?");
    s.bind(1, since);
    std::vector<std::pair<std::string, int64_t>> out;
    while (s.step()) out.emplace_back(s.text(0), s.i64(1));
    return out;
  });
}

}  // namespace stagepass::sqlite
