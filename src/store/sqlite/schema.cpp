#include "store/sqlite/schema.hpp"

#include <algorithm>
#include <array>
#include <span>
#include <string>
#include <string_view>

#include "store/sqlite/connection.hpp"
#include "store/sqlite/migrations.hpp"

namespace stagepass::sqlite {
namespace {

// Append only: a released migration never changes.
constexpr std::array kMigrations = {
    R"sql(
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL UNIQUE COLLATE NOCASE,
  display_name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  country TEXT NOT NULL,
  product TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE clients (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  is_public INTEGER NOT NULL,
  secret_hash BLOB,
  redirect_uris TEXT NOT NULL,   -- newline-separated
  allowed_scopes TEXT NOT NULL,  -- space-separated
  web_origins TEXT NOT NULL,     -- newline-separated
  created_at INTEGER NOT NULL
);
CREATE TABLE grants (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  client_id TEXT NOT NULL,
  scope TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE UNIQUE INDEX grants_active ON grants(user_id, client_id) WHERE revoked_at IS NULL;
CREATE TABLE codes (
  hash BLOB PRIMARY KEY,
  grant_id TEXT NOT NULL REFERENCES grants(id) ON DELETE CASCADE,
  client_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  redirect_uri TEXT NOT NULL,
  scope TEXT NOT NULL,
  code_challenge TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
) WITHOUT ROWID;
CREATE TABLE refresh_tokens (
  hash BLOB PRIMARY KEY,
  grant_id TEXT NOT NULL REFERENCES grants(id) ON DELETE CASCADE,
  client_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  scope TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  idle_expires_at INTEGER NOT NULL,
  rotated_at INTEGER,
  replaced_by BLOB,
  revoked INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX refresh_tokens_grant ON refresh_tokens(grant_id);
CREATE TABLE sessions (
  hash BLOB PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE signing_keys (
  kid TEXT PRIMARY KEY,
  alg TEXT NOT NULL,
  public_key BLOB NOT NULL,
  sealed_private_key BLOB NOT NULL,
  created_at INTEGER NOT NULL
);
)sql",
    R"sql(
CREATE INDEX grants_revoked_at ON grants(revoked_at) WHERE revoked_at IS NOT NULL;
ALTER TABLE clients ADD COLUMN rate_limit INTEGER NOT NULL DEFAULT 0;  -- requests / 30 s; 0: default
)sql",
    R"sql(
-- Tombstones of deleted clients, so every node refuses their client-credentials tokens.
CREATE TABLE deleted_clients (id TEXT PRIMARY KEY, deleted_at INTEGER NOT NULL);
CREATE INDEX deleted_clients_at ON deleted_clients(deleted_at);
)sql",
    R"sql(
-- Access tokens revoked one by one (RFC 7009), kept until they would have expired.
CREATE TABLE revoked_tokens (
  jti TEXT PRIMARY KEY,
  client_id TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER NOT NULL
);
CREATE INDEX revoked_tokens_at ON revoked_tokens(revoked_at);
-- When an app last used a grant (aggregated in memory, written in batches).
ALTER TABLE grants ADD COLUMN last_used_at INTEGER;
)sql",
    R"sql(
-- The audit stream: security-relevant events, newest read first per person.
CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  type TEXT NOT NULL,
  user_id TEXT NOT NULL DEFAULT '',
  client_id TEXT NOT NULL DEFAULT '',
  ip TEXT NOT NULL DEFAULT '',
  user_agent TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_user ON events(user_id, id);
CREATE INDEX events_at ON events(at);
)sql",
    R"sql(
-- Bumped by every change to clients (triggers, so a change made by another process counts
-- too): a node may keep clients in memory while this number stays the same.
CREATE TABLE clients_version (id INTEGER PRIMARY KEY CHECK (id = 1), v INTEGER NOT NULL);
INSERT INTO clients_version (id, v) VALUES (1, 0);
CREATE TRIGGER clients_version_insert AFTER INSERT ON clients
  BEGIN UPDATE clients_version SET v = v + 1 WHERE id = 1; END;
CREATE TRIGGER clients_version_update AFTER UPDATE ON clients
  BEGIN UPDATE clients_version SET v = v + 1 WHERE id = 1; END;
CREATE TRIGGER clients_version_delete AFTER DELETE ON clients
  BEGIN UPDATE clients_version SET v = v + 1 WHERE id = 1; END;
)sql",
    R"sql(
-- A refresh token is refused once its grant is revoked (every use reads the grant), so
-- revoking a grant no longer marks its tokens one by one, and the index that served that
-- was one more random page written by every rotation. Grants are revoked, never deleted:
-- nothing relies on the ON DELETE CASCADE finding tokens by grant.
DROP INDEX refresh_tokens_grant;
)sql",
    R"sql(
-- When a rotated refresh token was retried inside the grace window: only one retry per
-- rotation is allowed, a second one is reuse.
ALTER TABLE refresh_tokens ADD COLUMN retried_at INTEGER;
-- Resource servers that may introspect every app's tokens (admin client create --introspect-any).
ALTER TABLE clients ADD COLUMN introspect_any INTEGER NOT NULL DEFAULT 0;
)sql",
    R"sql(
-- When a page session was last used, for the idle timeout beside the absolute one. Sessions
-- open at the upgrade count as used now (nobody is signed out by the upgrade itself).
ALTER TABLE sessions ADD COLUMN last_seen_at INTEGER NOT NULL DEFAULT 0;
UPDATE sessions SET last_seen_at = CAST(strftime('%s', 'now') AS INTEGER);
)sql",
    R"sql(
-- Credential generation (store.hpp, SessionStore): moved on by a password change and by
-- "sign out everywhere"; a session carries the one its sign-in read and is refused once the
-- person's moves on, so a sign-in that checked the old password leaves no live session.
ALTER TABLE users ADD COLUMN credential_generation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
)sql",
    R"sql(
-- issue15:devmode
-- Development mode: the app serves only the people on its allowlist. Existing apps stay in
-- extended mode (0), as before.
ALTER TABLE clients ADD COLUMN development INTEGER NOT NULL DEFAULT 0;
CREATE TABLE allowlist (
  client_id TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  added_at INTEGER NOT NULL,
  PRIMARY KEY (client_id, user_id)
) WITHOUT ROWID;
CREATE INDEX allowlist_user ON allowlist(user_id);  -- a person's deletion finds their rows
)sql",
    R"sql(
-- issue15:dashboard
-- Apps registered on the developer dashboard belong to the person who registered them
-- ('' for an operator's apps, which no dashboard shows), and carry the owner's description.
ALTER TABLE clients ADD COLUMN owner_id TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN description TEXT NOT NULL DEFAULT '';
CREATE INDEX clients_owner ON clients(owner_id) WHERE owner_id <> '';
)sql",
    R"sql(
-- issue15:secrets
-- Client secrets in their own table, so a client can have two live ones during a rotation:
-- the current one (expires_at NULL) and the previous one until expires_at. Digests only
-- (base64url SHA-256), as before; today's clients.secret_hash rows move here, and that column
-- is no longer read (cleared, so no stale copy stays behind).
CREATE TABLE client_secrets (
  id INTEGER PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  hash BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,    -- NULL: the current secret
  last_used_at INTEGER   -- written in batches (record_secret_usage)
);
CREATE INDEX client_secrets_client ON client_secrets(client_id);
INSERT INTO client_secrets (client_id, hash, created_at)
  SELECT id, secret_hash, created_at FROM clients
  WHERE is_public = 0 AND secret_hash IS NOT NULL AND secret_hash != '';
UPDATE clients SET secret_hash = NULL;
-- The IPs each secret was used from in the last day (for "from how many distinct IPs").
CREATE TABLE client_secret_ips (
  secret_id INTEGER NOT NULL REFERENCES client_secrets(id) ON DELETE CASCADE,
  ip TEXT NOT NULL,
  last_used_at INTEGER NOT NULL,
  PRIMARY KEY (secret_id, ip)
) WITHOUT ROWID;
-- Hard cuts: the client's access tokens issued at or before cut_at are refused (every node's
-- revocation feed reads this by cut_at).
CREATE TABLE client_token_cuts (
  client_id TEXT PRIMARY KEY REFERENCES clients(id) ON DELETE CASCADE,
  cut_at INTEGER NOT NULL
);
CREATE INDEX client_token_cuts_at ON client_token_cuts(cut_at);
-- A node caches clients with their secrets and cut (SqliteStore::find_client): a change to
-- either moves clients_version like a change to clients does. Last-use writes do not.
CREATE TRIGGER client_secrets_version_insert AFTER INSERT ON client_secrets
  BEGIN UPDATE clients_version SET v = v + 1 WHERE id = 1; END;
CREATE TRIGGER client_secrets_version_update AFTER UPDATE OF hash, expires_at ON client_secrets
  BEGIN UPDATE clients_version SET v = v + 1 WHERE id = 1; END;
CREATE TRIGGER client_secrets_version_delete AFTER DELETE ON client_secrets
  BEGIN UPDATE clients_version SET v = v + 1 WHERE id = 1; END;
CREATE TRIGGER client_token_cuts_version_insert AFTER INSERT ON client_token_cuts
  BEGIN UPDATE clients_version SET v = v + 1 WHERE id = 1; END;
CREATE TRIGGER client_token_cuts_version_update AFTER UPDATE ON client_token_cuts
  BEGIN UPDATE clients_version SET v = v + 1 WHERE id = 1; END;
)sql",
    R"sql(
-- issue15:abuse
-- A suspended app (operator or abuse detector): 0 when not suspended, else since when, and
-- why (shown to the app and its owner; never a secret).
ALTER TABLE clients ADD COLUMN suspended_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN suspended_reason TEXT NOT NULL DEFAULT '';
CREATE INDEX clients_suspended_at ON clients(suspended_at) WHERE suspended_at > 0;
-- Per-app usage history (monitor::AppUsage), one row per app, bucket span and bucket start,
-- so a restart keeps the charts; rows older than their series are deleted when saving.
CREATE TABLE app_usage (
  client_id TEXT NOT NULL,
  span INTEGER NOT NULL,
  start INTEGER NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (client_id, span, start)
) WITHOUT ROWID;
CREATE INDEX app_usage_start ON app_usage(start);
-- Warnings the abuse detectors raised, per app, for its dashboard.
CREATE TABLE app_warnings (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  client_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  type TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX app_warnings_client ON app_warnings(client_id, id);
)sql",
    R"sql(
-- issue15:keys
-- Signing keys get a schedule (tokens/key_schedule.hpp): a key signs from signs_from (a
-- "next" key is published before that), and once a newer key signs it stays published
-- until retire_at, then is deleted. Until now the newest key signed and every key was
-- published: each key signs from its creation, and the newest stays the one signing.
ALTER TABLE signing_keys ADD COLUMN signs_from INTEGER NOT NULL DEFAULT 0;
ALTER TABLE signing_keys ADD COLUMN retire_at INTEGER;  -- NULL: no newer key signs yet
UPDATE signing_keys SET signs_from = created_at;
-- An older key (only two nodes racing to create the first key made one) may have signed
-- until this upgrade: it stays published for a day, far beyond any token it signed.
UPDATE signing_keys SET retire_at = CAST(strftime('%s', 'now') AS INTEGER) + 86400
  WHERE kid <> (SELECT kid FROM signing_keys ORDER BY created_at DESC, kid DESC LIMIT 1);
)sql",
    R"sql(
-- issue15-fix:abuse
-- A deleted app's usage buckets and warnings go with it, whoever deletes it (the dashboard,
-- `admin client delete`), and those of apps deleted before this migration are removed.
CREATE TRIGGER clients_delete_usage AFTER DELETE ON clients BEGIN
  DELETE FROM app_usage WHERE client_id = OLD.id;
  DELETE FROM app_warnings WHERE client_id = OLD.id;
END;
DELETE FROM app_usage WHERE client_id NOT IN (SELECT id FROM clients);
DELETE FROM app_warnings WHERE client_id NOT IN (SELECT id FROM clients);
)sql",
    R"sql(
-- issue15-fix:secret-ids
-- A secret's id is never reused: without AUTOINCREMENT, the secret a hard cut makes took
-- the id of the one it deleted (the highest), and inherited its pending last-use figures
-- (written in batches by id). Rebuilt with AUTOINCREMENT, data kept. Renaming the old table
-- points client_secret_ips at it, so that table is rebuilt too (dropping client_secrets
-- outright would cascade into it); the old tables' triggers and indexes go with them.
ALTER TABLE client_secrets RENAME TO client_secrets_old;
CREATE TABLE client_secrets (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  client_id TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  hash BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,    -- NULL: the current secret
  last_used_at INTEGER   -- written in batches (record_secret_usage)
);
INSERT INTO client_secrets (id, client_id, hash, created_at, expires_at, last_used_at)
  SELECT id, client_id, hash, created_at, expires_at, last_used_at FROM client_secrets_old;
CREATE TABLE client_secret_ips_new (
  secret_id INTEGER NOT NULL REFERENCES client_secrets(id) ON DELETE CASCADE,
  ip TEXT NOT NULL,
  last_used_at INTEGER NOT NULL,
  PRIMARY KEY (secret_id, ip)
) WITHOUT ROWID;
INSERT INTO client_secret_ips_new SELECT secret_id, ip, last_used_at FROM client_secret_ips;
DROP TABLE client_secret_ips;
ALTER TABLE client_secret_ips_new RENAME TO client_secret_ips;
DROP TABLE client_secrets_old;
CREATE INDEX client_secrets_client ON client_secrets(client_id);
CREATE TRIGGER client_secrets_version_insert AFTER INSERT ON client_secrets
  BEGIN UPDATE clients_version SET v = v + 1 WHERE id = 1; END;
CREATE TRIGGER client_secrets_version_update AFTER UPDATE OF hash, expires_at ON client_secrets
  BEGIN UPDATE clients_version SET v = v + 1 WHERE id = 1; END;
CREATE TRIGGER client_secrets_version_delete AFTER DELETE ON client_secrets
  BEGIN UPDATE clients_version SET v = v + 1 WHERE id = 1; END;
UPDATE clients_version SET v = v + 1 WHERE id = 1;
)sql",
    R"sql(
-- issue16:revlog
-- The revocations log (store/revocation_log.hpp): every revoking change appends one row in
-- its own transaction, by the triggers below, whichever method made it. AUTOINCREMENT: a seq
-- is never reused, even after pruning took the highest rows. Backfilled from the source
-- tables in time order (pruned later like any entry).
CREATE TABLE revocations (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,       -- grant | token | client | cut | suspension
  id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX revocations_at ON revocations(at);
INSERT INTO revocations (kind, id, client_id, at)
  SELECT kind, id, client_id, at FROM (
    SELECT 'grant' AS kind, id, client_id, revoked_at AS at FROM grants
      WHERE revoked_at IS NOT NULL
    UNION ALL SELECT 'token', jti, client_id, revoked_at FROM revoked_tokens
    UNION ALL SELECT 'client', id, id, deleted_at FROM deleted_clients
    UNION ALL SELECT 'cut', client_id, client_id, cut_at FROM client_token_cuts
    UNION ALL SELECT 'suspension', id, id, suspended_at FROM clients WHERE suspended_at > 0)
  ORDER BY at;
CREATE TRIGGER revlog_grant AFTER UPDATE OF revoked_at ON grants
  WHEN OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL
  BEGIN INSERT INTO revocations (kind, id, client_id, at)
    VALUES ('grant', NEW.id, NEW.client_id, NEW.revoked_at); END;
CREATE TRIGGER revlog_grant_insert AFTER INSERT ON grants WHEN NEW.revoked_at IS NOT NULL
  BEGIN INSERT INTO revocations (kind, id, client_id, at)
    VALUES ('grant', NEW.id, NEW.client_id, NEW.revoked_at); END;
CREATE TRIGGER revlog_token AFTER INSERT ON revoked_tokens
  BEGIN INSERT INTO revocations (kind, id, client_id, at)
    VALUES ('token', NEW.jti, NEW.client_id, NEW.revoked_at); END;
CREATE TRIGGER revlog_client AFTER INSERT ON deleted_clients
  BEGIN INSERT INTO revocations (kind, id, client_id, at)
    VALUES ('client', NEW.id, NEW.id, NEW.deleted_at); END;
CREATE TRIGGER revlog_cut AFTER INSERT ON client_token_cuts
  BEGIN INSERT INTO revocations (kind, id, client_id, at)
    VALUES ('cut', NEW.client_id, NEW.client_id, NEW.cut_at); END;
CREATE TRIGGER revlog_cut_update AFTER UPDATE OF cut_at ON client_token_cuts
  WHEN NEW.cut_at <> OLD.cut_at
  BEGIN INSERT INTO revocations (kind, id, client_id, at)
    VALUES ('cut', NEW.client_id, NEW.client_id, NEW.cut_at); END;
CREATE TRIGGER revlog_suspension AFTER UPDATE OF suspended_at ON clients
  WHEN NEW.suspended_at > 0 AND NEW.suspended_at <> OLD.suspended_at
  BEGIN INSERT INTO revocations (kind, id, client_id, at)
    VALUES ('suspension', NEW.id, NEW.id, NEW.suspended_at); END;
)sql",
    R"sql(
-- issue17:prune
-- The pruner (store/prune_store.hpp) finds what it deletes by these, a batch at a time. Refresh
-- tokens have only one, partial (a grant's rotated tokens by rotation time, for the per-grant
-- cap): every index on them is paid by every rotation, so their expiry and the reuse window
-- are found by a sweep in primary-key order instead (sweep_refresh_tokens).
CREATE INDEX codes_expires ON codes(expires_at);
CREATE INDEX refresh_tokens_grant_rotated ON refresh_tokens(grant_id, rotated_at)
  WHERE rotated_at IS NOT NULL;
CREATE INDEX sessions_expires ON sessions(expires_at);
)sql",
    R"sql(
-- issue17:family
-- One row per refresh-token chain of the family shape (tokens/opaque_token.hpp), keyed by its
-- family key and rewritten in place by every rotation: one page written per rotation instead
-- of a new row plus the spent one's update and index entry, and a chain keeps one row however
-- often it is refreshed. The row holds the current token (its generation, hash, issue time and
-- idle end) and the one it replaced (generation - 1: prev_*, rotated at rotated_at; retried
-- once a grace retry replaced the current token): those two are all a rotation's decision
-- reads (store/refresh_rotation.hpp), with the current generation's token a grace retry
-- superseded (superseded_hash): spent. Any other token of an earlier generation is spent too;
-- one of the current generation that is neither, or of a later one, was never issued by this
-- store (a backup restored under tokens issued since): unknown. No index on grant_id, like
-- refresh_tokens: every use reads the grant, and grants are revoked, not deleted.
CREATE TABLE refresh_families (
  family BLOB PRIMARY KEY,
  grant_id TEXT NOT NULL REFERENCES grants(id) ON DELETE CASCADE,
  client_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  scope TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  generation INTEGER NOT NULL,
  hash BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  idle_expires_at INTEGER NOT NULL,
  superseded_hash BLOB,
  prev_hash BLOB,
  prev_created_at INTEGER,
  prev_idle_expires_at INTEGER,
  rotated_at INTEGER,
  retried INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
)sql",
};

}  // namespace

void migrate(Connection& db) { migrate(db, kMigrations.size()); }

void migrate(Connection& db, size_t up_to) {
  apply_migrations(db, std::span(kMigrations).first(std::min(up_to, kMigrations.size())));
}

size_t migration_index(std::string_view marker) {
  for (size_t i = 0; i < kMigrations.size(); ++i) {
    if (std::string_view(kMigrations[i]).find(marker) != std::string_view::npos) return i;
  }
  return kMigrations.size();
}

}  // namespace stagepass::sqlite
