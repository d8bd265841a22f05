// PgStore: client secrets, their rotation with overlap, their use and hard cuts (ClientStore,
// issue15:secrets).
#include <unordered_set>

#include "store/postgresql/pg_store_internal.hpp"

namespace stagepass::postgresql {
using namespace internal;

// ---- secrets (issue15:secrets)

Result<ClientStore::SecretRotation> PgStore::rotate_client_secret(const std::string& id,
                                                                  const std::string& new_hash,
                                                                  int64_t now, int64_t grace) {
  if (grace < 0 || new_hash.empty()) {
    return fail(Error{ErrorCode::kInvalid, "a rotation needs a secret and a grace >= 0"});
  }
  return pool_.transaction([&](PgConnection& c) -> Result<SecretRotation> {
    // The client's row is locked: two rotations of one client run one after the other, so
    // it never holds more than two live secrets.
    SP_PG_TRY(cl, c.prepared("lock_client_kind",
                             "SELECT is_public FROM clients WHERE id = $1 FOR UPDATE", {id}));
    if (cl->rows() == 0) return fail(not_found("client"));
    if (as_bool(*cl, 0, 0))
      return fail(Error{ErrorCode::kConflict, "a public client has no secret"});
    // At most two live secrets: one that was still retiring ends now.
    SP_PG_TRY(retiring, c.prepared("delete_retiring_secret",
                                   "DELETE FROM client_secrets WHERE client_id = $1 "
                                   "AND expires_at IS NOT NULL",
                                   {id}));
    SecretRotation out;
    out.previous_expires_at = now + grace;
    if (grace > 0) {
      SP_PG_TRY(r, c.prepared("retire_secret",
                              "UPDATE client_secrets SET expires_at = $1 "
                              "WHERE client_id = $2 AND expires_at IS NULL",
                              {num(now + grace), id}));
    } else {
      // Hard cut: the previous secret ends now, and so do the tokens issued up to now (and
      // the margin: client_store.hpp).
      SP_PG_TRY(del, c.prepared("delete_secrets_of",
                                "DELETE FROM client_secrets WHERE client_id = $1", {id}));
      SP_PG_TRY(cut, c.prepared("cut_client_tokens",
                                "INSERT INTO client_token_cuts (client_id, cut_at) "
                                "VALUES ($1, $2) ON CONFLICT (client_id) DO UPDATE SET "
                                "cut_at = GREATEST(client_token_cuts.cut_at + 1, excluded.cut_at)",
                                {id, num(now + kHardCutMarginSeconds)}));
    }
    SP_PG_TRY(secret, insert_current_secret(c, id, new_hash, now));
    out.secret_id = *secret;
    return out;
  });
}

Result<std::vector<ClientStore::LiveSecret>> PgStore::list_live_secrets(const std::string& id,
                                                                        int64_t now) {
  return pool_.transaction([&](PgConnection& c) -> Result<std::vector<LiveSecret>> {
    SP_PG_TRY(snapshot, one_snapshot(c));
    SP_PG_TRY(cl, c.prepared("client_exists", "SELECT 1 FROM clients WHERE id = $1", {id}));
    if (cl->rows() == 0) return fail(not_found("client"));
    SP_PG_TRY(r, c.prepared("live_secrets",
                            "SELECT s.id, s.created_at, COALESCE(s.expires_at, 0), "
                            "COALESCE(s.last_used_at, 0), "
                            "(SELECT COUNT(*) FROM client_secret_ips i WHERE i.secret_id = s.id "
                            "AND i.last_used_at > $1) "
                            "FROM client_secrets s WHERE s.client_id = $2 "
                            "AND (s.expires_at IS NULL OR s.expires_at > $3) "
                            "ORDER BY s.expires_at IS NOT NULL, s.id",
                            {num(now - 86400), id, num(now)}));
    std::vector<LiveSecret> out;
    for (int i = 0; i < r->rows(); ++i) {
      out.push_back({r->i64(i, 0), r->i64(i, 1), r->i64(i, 2), r->i64(i, 3),
                     std::min(r->i64(i, 4), kMaxTrackedIpsPerSecret)});
    }
    return out;
  });
}

Status<> PgStore::record_secret_usage(const std::vector<ClientSecretUse>& uses, int64_t now) {
  if (uses.empty()) return Ok{};
  return pool_.transaction([&](PgConnection& c) -> Status<> {
    const int64_t day_ago = now - 86400;
    std::unordered_set<int64_t> swept;
    for (const auto& u : uses) {
      SP_PG_TRY(last, c.prepared("secret_last_use",
                                 "UPDATE client_secrets SET last_used_at = $1 WHERE id = $2 "
                                 "AND (last_used_at IS NULL OR last_used_at < $1)",
                                 {num(u.at), num(u.secret_id)}));
      if (u.ip.empty()) continue;
      if (swept.insert(u.secret_id).second) {
        // IPs not seen for a day no longer count (and no longer hold a place under the cap).
        SP_PG_TRY(old, c.prepared("secret_ips_sweep",
                                  "DELETE FROM client_secret_ips WHERE secret_id = $1 "
                                  "AND last_used_at <= $2",
                                  {num(u.secret_id), num(day_ago)}));
      }
      // A known IP moves on; a new one is added while the secret has fewer than the cap (and
      // still exists: a secret deleted since the use leaves nothing behind).
      SP_PG_TRY(known, c.prepared("secret_ip_seen",
                                  "UPDATE client_secret_ips SET last_used_at = "
                                  "GREATEST(last_used_at, $1) WHERE secret_id = $2 AND ip = $3",
                                  {num(u.at), num(u.secret_id), u.ip}));
      if (known->affected() > 0) continue;
      SP_PG_TRY(added,
                c.prepared("secret_ip_add",
                           "INSERT INTO client_secret_ips (secret_id, ip, last_used_at) "
                           "SELECT id, $1, $2 FROM client_secrets WHERE id = $3 "
                           "AND (SELECT COUNT(*) FROM client_secret_ips "
                           "WHERE secret_id = $3) < $4 "
                           "ON CONFLICT (secret_id, ip) DO UPDATE SET last_used_at = "
                           "GREATEST(client_secret_ips.last_used_at, excluded.last_used_at)",
                           {u.ip, num(u.at), num(u.secret_id), num(kMaxTrackedIpsPerSecret)}));
    }
    return Ok{};
  });
}

Result<std::vector<std::pair<std::string, int64_t>>> PgStore::client_cuts_since(int64_t since) {
  return pool_.run([&](PgConnection& c) {
    return pairs(c, "client_cuts_since",
                 "SELECT client_id, cut_at FROM client_token_cuts WHERE cut_at >= $1", since);
  });
}

}  // namespace stagepass::postgresql
