// PgStore: registered apps (ClientStore): clients, the dashboard's owned apps and
// suspensions. Their secrets: pg_client_secrets.cpp; development mode's allowlist:
// pg_allowlist_store.cpp.
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

}  // namespace

namespace internal {

// Stores `hash` as the client's current secret; returns its id.
Result<int64_t> insert_current_secret(PgConnection& c, const std::string& client_id,
                                      const std::string& hash, int64_t now) {
  SP_PG_TRY(r, c.prepared("insert_secret",
                          "INSERT INTO client_secrets (client_id, hash, created_at) "
                          "VALUES ($1, $2, $3) RETURNING id",
                          {client_id, hash, num(now)}));
  return r->i64(0, 0);
}

// Locks the client's row for the rest of the transaction; false if there is no such client.
Result<bool> lock_client(PgConnection& c, const std::string& id) {
  SP_PG_TRY(r, c.prepared("lock_client", "SELECT 1 FROM clients WHERE id = $1 FOR UPDATE", {id}));
  return r->rows() > 0;
}

Result<Pairs> pairs(PgConnection& c, const char* name, const char* sql, int64_t since) {
  SP_PG_TRY(r, c.prepared(name, sql, {num(since)}));
  Pairs out;
  for (int i = 0; i < r->rows(); ++i) out.emplace_back(r->text(i, 0), r->i64(i, 1));
  return out;
}

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

}  // namespace stagepass::postgresql
