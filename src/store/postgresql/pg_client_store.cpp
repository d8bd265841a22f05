// PgStore: registered apps (ClientStore): clients, their secrets (issue15:secrets), the
// dashboard's owned apps, development mode's allowlist and suspensions.
#include <algorithm>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "core/text.hpp"
#include "store/postgresql/pg_store_internal.hpp"

namespace stagepass::postgresql {
using namespace internal;

namespace {

constexpr const char* kClientColumns =
    "SELECT id, name, is_public, redirect_uris, allowed_scopes, web_origins, created_at, "
    "rate_limit, introspect_any, development, owner_id, description, suspended_at, "
    "suspended_reason FROM clients ";

Client read_client(const PgResult& r, int row) {
  Client c;
  c.id = r.text(row, 0);
  c.name = r.text(row, 1);
  c.is_public = as_bool(r, row, 2);
  c.redirect_uris = split_lines(r.text(row, 3));
  c.allowed_scopes = ScopeSet::parse(r.text(row, 4));
  c.web_origins = split_lines(r.text(row, 5));
  c.created_at = r.i64(row, 6);
  c.rate_limit = r.i64(row, 7);
  c.introspect_any = as_bool(r, row, 8);
  c.development = as_bool(r, row, 9);
  c.owner_id = r.text(row, 10);
  c.description = r.text(row, 11);
  c.suspended_at = r.i64(row, 12);
  c.suspended_reason = r.text(row, 13);
  return c;
}

// The current secret sorts first (expires_at IS NOT NULL is false for it).
constexpr const char* kSecretColumns =
    "SELECT client_id, id, hash, created_at, COALESCE(expires_at, 0) FROM client_secrets ";

// Fills the secrets, current secret hash and last hard cut of every client of `clients`.
Status<> read_secrets(PgConnection& c, std::vector<Client>& clients, bool one) {
  std::unordered_map<std::string, Client*> by_id;
  for (auto& cl : clients) {
    cl.secrets.clear();
    cl.secret_hash.clear();
    cl.tokens_cut_at = 0;
    by_id.emplace(cl.id, &cl);
  }
  if (clients.empty()) return Ok{};
  static const std::string one_sql =
      std::string(kSecretColumns) + "WHERE client_id = $1 ORDER BY expires_at IS NOT NULL, id";
  static const std::string all_sql =
      std::string(kSecretColumns) + "ORDER BY client_id, expires_at IS NOT NULL, id";
  SP_PG_TRY(s, one ? c.prepared("client_secrets_of", one_sql, {clients.front().id})
                   : c.prepared("client_secrets_all", all_sql));
  for (int i = 0; i < s->rows(); ++i) {
    auto it = by_id.find(s->text(i, 0));
    if (it == by_id.end()) continue;
    Client& cl = *it->second;
    cl.secrets.push_back({s->i64(i, 1), s->text(i, 2), s->i64(i, 3), s->i64(i, 4)});
    if (cl.secrets.size() == 1 && cl.secrets.front().expires_at == 0) {
      cl.secret_hash = cl.secrets.front().hash;
    }
  }
  SP_PG_TRY(cuts,
            one ? c.prepared("client_cut_of",
                             "SELECT client_id, cut_at FROM client_token_cuts "
                             "WHERE client_id = $1",
                             {clients.front().id})
                : c.prepared("client_cuts_all", "SELECT client_id, cut_at FROM client_token_cuts"));
  for (int i = 0; i < cuts->rows(); ++i) {
    auto it = by_id.find(cuts->text(i, 0));
    if (it != by_id.end()) it->second->tokens_cut_at = cuts->i64(i, 1);
  }
  return Ok{};
}

// Stores `hash` as the client's current secret; returns its id.
Result<int64_t> insert_current_secret(PgConnection& c, const std::string& client_id,
                                      const std::string& hash, int64_t now) {
  SP_PG_TRY(r, c.prepared("insert_secret",
                          "INSERT INTO client_secrets (client_id, hash, created_at) "
                          "VALUES ($1, $2, $3) RETURNING id",
                          {client_id, hash, num(now)}));
  return r->i64(0, 0);
}

// Inside the caller's transaction.
Status<> insert_client(PgConnection& c, const Client& cl) {
  SP_PG_TRY(r, c.prepared("insert_client",
                          "INSERT INTO clients (id, name, is_public, redirect_uris, "
                          "allowed_scopes, web_origins, created_at, rate_limit, introspect_any, "
                          "development, owner_id, description) "
                          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                          {cl.id, cl.name, flag(cl.is_public), join(cl.redirect_uris, "\n"),
                           cl.allowed_scopes.str(), join(cl.web_origins, "\n"), num(cl.created_at),
                           num(cl.rate_limit), flag(cl.introspect_any), flag(cl.development),
                           cl.owner_id, cl.description}));
  if (!cl.is_public && !cl.secret_hash.empty()) {
    SP_PG_TRY(id, insert_current_secret(c, cl.id, cl.secret_hash, cl.created_at));
  }
  return Ok{};
}

// Locks the client's row for the rest of the transaction; false if there is no such client.
Result<bool> lock_client(PgConnection& c, const std::string& id) {
  SP_PG_TRY(r, c.prepared("lock_client", "SELECT 1 FROM clients WHERE id = $1 FOR UPDATE", {id}));
  return r->rows() > 0;
}

using Pairs = std::vector<std::pair<std::string, int64_t>>;
Result<Pairs> pairs(PgConnection& c, const char* name, const char* sql, int64_t since) {
  SP_PG_TRY(r, c.prepared(name, sql, {num(since)}));
  Pairs out;
  for (int i = 0; i < r->rows(); ++i) out.emplace_back(r->text(i, 0), r->i64(i, 1));
  return out;
}

}  // namespace

namespace internal {

Result<bool> on_allowlist_in(PgConnection& c, const std::string& client_id,
                             const std::string& user_id) {
  SP_PG_TRY(
      r, c.prepared("on_allowlist", "SELECT 1 FROM allowlist WHERE client_id = $1 AND user_id = $2",
                    {client_id, user_id}));
  return r->rows() > 0;
}

}  // namespace internal

Status<> PgStore::create_client(const Client& cl) {
  return pool_.transaction([&](PgConnection& c) { return insert_client(c, cl); });
}

// One statement, so one round trip (this runs twice per token request: client
// authentication and the reconfirmation before signing) and one snapshot even under READ
// COMMITTED: a client, its secrets and its last hard cut never come from either side of
// another node's commit. The secrets come one per line as "id hash created_at expires_at"
// (hashes are base64url: no space), the current one first.
Result<Client> PgStore::find_client(const std::string& id) {
  return pool_.run([&](PgConnection& c) -> Result<Client> {
    static const std::string sql = [] {
      std::string columns(kClientColumns);
      columns.resize(columns.find("FROM clients "));
      return columns +
             ", (SELECT string_agg(s.id || ' ' || s.hash || ' ' || s.created_at || ' ' || "
             "COALESCE(s.expires_at, 0), chr(10) ORDER BY s.expires_at IS NOT NULL, s.id) "
             "FROM client_secrets s WHERE s.client_id = clients.id), "
             "(SELECT cut_at FROM client_token_cuts t WHERE t.client_id = clients.id) "
             "FROM clients WHERE id = $1";
    }();
    SP_PG_TRY(r, c.prepared("find_client_whole", sql, {id}));
    if (r->rows() == 0) return fail(not_found("client"));
    Client client = read_client(*r, 0);
    for (const std::string& one : split_lines(r->text(0, 14))) {
      std::istringstream in(one);
      ClientSecret secret;
      if (!(in >> secret.id >> secret.hash >> secret.created_at >> secret.expires_at)) {
        return fail(Error{ErrorCode::kIo,
                          "postgresql: a secret of client " + client.id + " could not be read"});
      }
      client.secrets.push_back(std::move(secret));
    }
    if (!client.secrets.empty() && client.secrets.front().expires_at == 0) {
      client.secret_hash = client.secrets.front().hash;
    }
    client.tokens_cut_at = r->i64(0, 15);
    return client;
  });
}

Result<std::vector<Client>> PgStore::list_clients() {
  return pool_.transaction([&](PgConnection& c) -> Result<std::vector<Client>> {
    SP_PG_TRY(snapshot, one_snapshot(c));
    static const std::string sql = std::string(kClientColumns) + "ORDER BY created_at, id";
    SP_PG_TRY(r, c.prepared("list_clients", sql));
    std::vector<Client> out;
    for (int i = 0; i < r->rows(); ++i) out.push_back(read_client(*r, i));
    SP_PG_TRY(s, read_secrets(c, out, false));
    return out;
  });
}

Status<> PgStore::delete_client(const std::string& id, int64_t now) {
  return pool_.transaction([&](PgConnection& c) -> Status<> {
    SP_PG_TRY(del, c.prepared("delete_client", "DELETE FROM clients WHERE id = $1", {id}));
    if (del->affected() == 0) return fail(not_found("client"));
    SP_PG_TRY(grants, c.prepared("active_grants_of_client",
                                 "SELECT id FROM grants WHERE client_id = $1 AND revoked_at IS "
                                 "NULL ORDER BY id FOR UPDATE",
                                 {id}));
    for (int i = 0; i < grants->rows(); ++i) {
      SP_PG_TRY(revoked, revoke_grant_in(c, grants->text(i, 0), now));
    }
    SP_PG_TRY(tomb, c.prepared("tombstone_client",
                               "INSERT INTO deleted_clients (id, deleted_at) VALUES ($1, $2) "
                               "ON CONFLICT (id) DO UPDATE SET deleted_at = excluded.deleted_at",
                               {id, num(now)}));
    return Ok{};
  });
}

Result<std::vector<std::pair<std::string, int64_t>>> PgStore::deleted_clients_since(int64_t since) {
  return pool_.run([&](PgConnection& c) {
    return pairs(c, "deleted_clients_since",
                 "SELECT id, deleted_at FROM deleted_clients WHERE deleted_at >= $1", since);
  });
}

// issue15-fix:revocation-bound (RevocationLog::prune_deleted_clients).
Status<> PgStore::prune_deleted_clients(int64_t before) {
  return pool_.transaction([&](PgConnection& c) -> Status<> {
    SP_PG_TRY(del, c.prepared("prune_deleted_clients",
                              "DELETE FROM deleted_clients WHERE deleted_at < $1", {num(before)}));
    (void)del;
    return Ok{};
  });
}

Status<> PgStore::set_client_secret_hash(const std::string& id, const std::string& hash) {
  return pool_.transaction([&](PgConnection& c) -> Status<> {
    SP_PG_TRY(cl, c.prepared("client_created_at",
                             "SELECT created_at FROM clients WHERE id = $1 FOR UPDATE", {id}));
    if (cl->rows() == 0) return fail(not_found("client"));
    SP_PG_TRY(del, c.prepared("delete_secrets_of",
                              "DELETE FROM client_secrets WHERE client_id = $1", {id}));
    SP_PG_TRY(secret, insert_current_secret(c, id, hash, cl->i64(0, 0)));
    return Ok{};
  });
}

// ---- development mode and the allowlist (issue15:devmode)

Status<> PgStore::set_client_mode(const std::string& id, bool development) {
  return pool_.run([&](PgConnection& c) -> Status<> {
    SP_PG_TRY(r, c.prepared("set_client_mode", "UPDATE clients SET development = $1 WHERE id = $2",
                            {flag(development), id}));
    if (r->affected() == 0) return fail(not_found("client"));
    return Ok{};
  });
}

Result<bool> PgStore::add_to_allowlist(const std::string& client_id, const std::string& user_id,
                                       int64_t limit, int64_t now) {
  return pool_.transaction([&](PgConnection& c) -> Result<bool> {
    // The app's row is locked first: adds racing for the last place run one after the other,
    // and the count below sees every add committed before.
    SP_PG_TRY(app, lock_client(c, client_id));
    if (!*app) return fail(not_found("client"));
    SP_PG_TRY(person, c.prepared("user_exists", "SELECT 1 FROM users WHERE id = $1", {user_id}));
    if (person->rows() == 0) return fail(not_found("user"));
    SP_PG_TRY(listed, on_allowlist_in(c, client_id, user_id));
    if (*listed) return false;
    SP_PG_TRY(count,
              c.prepared("allowlist_size", "SELECT COUNT(*) FROM allowlist WHERE client_id = $1",
                         {client_id}));
    if (count->i64(0, 0) >= limit) {
      return fail(Error{ErrorCode::kConflict,
                        "the allowlist is full (" + std::to_string(limit) + " people)"});
    }
    SP_PG_TRY(ins, c.prepared("allowlist_add",
                              "INSERT INTO allowlist (client_id, user_id, added_at) "
                              "VALUES ($1, $2, $3)",
                              {client_id, user_id, num(now)}));
    return true;
  });
}

Result<AllowlistRemoval> PgStore::remove_from_allowlist(const std::string& client_id,
                                                        const std::string& user_id, int64_t now) {
  return pool_.transaction([&](PgConnection& c) -> Result<AllowlistRemoval> {
    SP_PG_TRY(del, c.prepared("allowlist_remove",
                              "DELETE FROM allowlist WHERE client_id = $1 AND user_id = $2",
                              {client_id, user_id}));
    if (del->affected() == 0) return fail(not_found("allowlist entry"));
    AllowlistRemoval out;
    // At most one active grant per (person, app) (grants_active).
    SP_PG_TRY(g, c.prepared("active_grant_id",
                            "SELECT id FROM grants WHERE user_id = $1 AND client_id = $2 "
                            "AND revoked_at IS NULL FOR UPDATE",
                            {user_id, client_id}));
    if (g->rows() > 0) {
      SP_PG_TRY(revoked, revoke_grant_in(c, g->text(0, 0), now));
      out.grant_revoked = *revoked;
    }
    return out;
  });
}

Result<std::vector<AllowlistEntry>> PgStore::list_allowlist(const std::string& client_id) {
  return pool_.run([&](PgConnection& c) -> Result<std::vector<AllowlistEntry>> {
    SP_PG_TRY(r, c.prepared("list_allowlist",
                            "SELECT a.client_id, a.user_id, u.email, u.display_name, a.added_at "
                            "FROM allowlist a JOIN users u ON u.id = a.user_id "
                            "WHERE a.client_id = $1 ORDER BY a.added_at, u.email",
                            {client_id}));
    std::vector<AllowlistEntry> out;
    for (int i = 0; i < r->rows(); ++i) {
      out.push_back({r->text(i, 0), r->text(i, 1), r->text(i, 2), r->text(i, 3), r->i64(i, 4)});
    }
    return out;
  });
}

// ---- apps of the developer dashboard (issue15:dashboard)

Result<std::vector<Client>> PgStore::list_owned_clients(const std::string& owner_id) {
  if (owner_id.empty()) return std::vector<Client>{};
  return pool_.run([&](PgConnection& c) -> Result<std::vector<Client>> {
    static const std::string sql =
        std::string(kClientColumns) + "WHERE owner_id = $1 ORDER BY created_at, created_seq";
    SP_PG_TRY(r, c.prepared("list_owned_clients", sql, {owner_id}));
    std::vector<Client> out;
    for (int i = 0; i < r->rows(); ++i) out.push_back(read_client(*r, i));
    return out;
  });
}

Status<> PgStore::create_owned_client(const Client& cl, int64_t max_owned) {
  if (cl.owner_id.empty()) {
    return fail(Error{ErrorCode::kInvalid, "an owned client needs an owner"});
  }
  return pool_.transaction([&](PgConnection& c) -> Status<> {
    // Creations for one owner run one after the other (a lock on the owner's id, held to the
    // commit), so the count below sees every app committed before: parallel creations cannot
    // pass the limit together.
    SP_PG_TRY(lock, c.prepared("lock_owner",
                               "SELECT pg_advisory_xact_lock(hashtextextended('owner:' || $1, 0))",
                               {cl.owner_id}));
    SP_PG_TRY(count, c.prepared("owned_count", "SELECT COUNT(*) FROM clients WHERE owner_id = $1",
                                {cl.owner_id}));
    if (count->i64(0, 0) >= max_owned) {
      return fail(Error{ErrorCode::kInvalid, "the owner has reached the app limit"});
    }
    return insert_client(c, cl);
  });
}

Status<> PgStore::update_owned_client(const Client& cl) {
  if (cl.owner_id.empty()) return fail(not_found("client"));
  return pool_.run([&](PgConnection& c) -> Status<> {
    SP_PG_TRY(
        r, c.prepared("update_owned_client",
                      "UPDATE clients SET name = $1, description = $2, redirect_uris = $3, "
                      "allowed_scopes = $4, web_origins = $5 WHERE id = $6 AND owner_id = $7",
                      {cl.name, cl.description, join(cl.redirect_uris, "\n"),
                       cl.allowed_scopes.str(), join(cl.web_origins, "\n"), cl.id, cl.owner_id}));
    if (r->affected() == 0) return fail(not_found("client"));
    return Ok{};
  });
}

// ---- suspensions (issue15:abuse)

Status<> PgStore::set_client_suspension(const std::string& id, int64_t at,
                                        const std::string& reason, int64_t cut_slack) {
  return pool_.transaction([&](PgConnection& c) -> Status<> {
    SP_PG_TRY(r, c.prepared("set_client_suspension",
                            "UPDATE clients SET suspended_at = $1, suspended_reason = $2 "
                            "WHERE id = $3",
                            {num(at), at > 0 ? reason : std::string(), id}));
    if (r->affected() == 0) return fail(not_found("client"));
    if (at > 0) {
      // The refusal of the tokens issued until now outlives the suspension
      // (client_store.hpp); past the previous cut too, as the SQLite store does.
      SP_PG_TRY(cut, c.prepared("suspension_token_cut",
                                "INSERT INTO client_token_cuts (client_id, cut_at) "
                                "VALUES ($1, $2) ON CONFLICT (client_id) DO UPDATE SET "
                                "cut_at = GREATEST(client_token_cuts.cut_at + 1, excluded.cut_at)",
                                {id, num(at + std::max<int64_t>(0, cut_slack))}));
    }
    return Ok{};
  });
}

Result<std::vector<std::pair<std::string, int64_t>>> PgStore::suspended_clients_since(
    int64_t since) {
  return pool_.run([&](PgConnection& c) {
    return pairs(c, "suspended_clients_since",
                 "SELECT id, suspended_at FROM clients WHERE suspended_at >= $1 "
                 "AND suspended_at > 0",
                 since);
  });
}

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
