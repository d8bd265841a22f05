#include "store/postgresql/pg_schema.hpp"

namespace stagepass::postgresql {
namespace {

// Migration 1: the schema of SQLite migration 16 (issue15-fix:abuse), in one step.
constexpr std::string_view kInitial = R"sql(
-- SQLite's COLLATE NOCASE: ASCII letters fold, nothing else does.
CREATE FUNCTION sp_nocase(t text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT translate(t, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') $$;
CREATE TABLE users (
  id text PRIMARY KEY,
  email text NOT NULL,
  display_name text NOT NULL,
  password_hash text NOT NULL,
  country text NOT NULL,
  product text NOT NULL,
  created_at bigint NOT NULL,
  -- Moved on by a password change and by "sign out everywhere" (session_store.hpp).
  credential_generation bigint NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX users_email ON users (sp_nocase(email));
CREATE TABLE clients (
  id text PRIMARY KEY,
  name text NOT NULL,
  is_public boolean NOT NULL,
  redirect_uris text NOT NULL,   -- newline-separated
  allowed_scopes text NOT NULL,  -- space-separated
  web_origins text NOT NULL,     -- newline-separated
  created_at bigint NOT NULL,
  rate_limit bigint NOT NULL DEFAULT 0,  -- requests / 30 s; 0: default
  introspect_any boolean NOT NULL DEFAULT false,
  development boolean NOT NULL DEFAULT false,
  owner_id text NOT NULL DEFAULT '',
  description text NOT NULL DEFAULT '',
  suspended_at bigint NOT NULL DEFAULT 0,
  suspended_reason text NOT NULL DEFAULT '',
  created_seq bigint GENERATED ALWAYS AS IDENTITY  -- creation order (SQLite's rowid)
);
CREATE INDEX clients_owner ON clients (owner_id) WHERE owner_id <> '';
CREATE INDEX clients_suspended_at ON clients (suspended_at) WHERE suspended_at > 0;
CREATE TABLE grants (
  id text PRIMARY KEY,
  user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  client_id text NOT NULL,
  scope text NOT NULL,
  created_at bigint NOT NULL,
  revoked_at bigint,
  last_used_at bigint
);
CREATE UNIQUE INDEX grants_active ON grants (user_id, client_id) WHERE revoked_at IS NULL;
CREATE INDEX grants_revoked_at ON grants (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE TABLE codes (
  hash text PRIMARY KEY,
  grant_id text NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
  client_id text NOT NULL,
  user_id text NOT NULL,
  redirect_uri text NOT NULL,
  scope text NOT NULL,
  code_challenge text NOT NULL,
  expires_at bigint NOT NULL,
  used_at bigint
);
CREATE TABLE refresh_tokens (
  hash text PRIMARY KEY,
  grant_id text NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
  client_id text NOT NULL,
  user_id text NOT NULL,
  scope text NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  idle_expires_at bigint NOT NULL,
  rotated_at bigint,
  replaced_by text,
  revoked boolean NOT NULL DEFAULT false,
  retried_at bigint
);
CREATE TABLE sessions (
  hash text PRIMARY KEY,
  user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  last_seen_at bigint NOT NULL DEFAULT 0,
  generation bigint NOT NULL DEFAULT 0
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE TABLE signing_keys (
  kid text PRIMARY KEY,
  alg text NOT NULL,
  public_key text NOT NULL,
  sealed_private_key text NOT NULL,
  created_at bigint NOT NULL,
  signs_from bigint NOT NULL DEFAULT 0,
  retire_at bigint  -- NULL: no newer key signs yet
);
-- Tombstones of deleted clients, so every node refuses their client-credentials tokens.
CREATE TABLE deleted_clients (id text PRIMARY KEY, deleted_at bigint NOT NULL);
CREATE INDEX deleted_clients_at ON deleted_clients (deleted_at);
-- Access tokens revoked one by one (RFC 7009), kept until they would have expired.
CREATE TABLE revoked_tokens (
  jti text PRIMARY KEY,
  client_id text NOT NULL,
  expires_at bigint NOT NULL,
  revoked_at bigint NOT NULL
);
CREATE INDEX revoked_tokens_at ON revoked_tokens (revoked_at);
-- The audit stream: security-relevant events, newest read first per person.
CREATE TABLE events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at bigint NOT NULL,
  type text NOT NULL,
  user_id text NOT NULL DEFAULT '',
  client_id text NOT NULL DEFAULT '',
  ip text NOT NULL DEFAULT '',
  user_agent text NOT NULL DEFAULT '',
  detail text NOT NULL DEFAULT ''
);
CREATE INDEX events_user ON events (user_id, id);
CREATE INDEX events_at ON events (at);
-- Development mode's allowlist (issue15:devmode).
CREATE TABLE allowlist (
  client_id text NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
  user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  added_at bigint NOT NULL,
  PRIMARY KEY (client_id, user_id)
);
CREATE INDEX allowlist_user ON allowlist (user_id);
-- Client secrets (issue15:secrets): the current one (expires_at NULL) and the retiring one.
CREATE TABLE client_secrets (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  client_id text NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
  hash text NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint,
  last_used_at bigint
);
CREATE INDEX client_secrets_client ON client_secrets (client_id);
CREATE TABLE client_secret_ips (
  secret_id bigint NOT NULL REFERENCES client_secrets (id) ON DELETE CASCADE,
  ip text NOT NULL,
  last_used_at bigint NOT NULL,
  PRIMARY KEY (secret_id, ip)
);
CREATE TABLE client_token_cuts (
  client_id text PRIMARY KEY REFERENCES clients (id) ON DELETE CASCADE,
  cut_at bigint NOT NULL
);
CREATE INDEX client_token_cuts_at ON client_token_cuts (cut_at);
-- Per-app usage history and abuse warnings (issue15:abuse).
CREATE TABLE app_usage (
  client_id text NOT NULL,
  span bigint NOT NULL,
  start bigint NOT NULL,
  data text NOT NULL,
  PRIMARY KEY (client_id, span, start)
);
CREATE INDEX app_usage_start ON app_usage (start);
CREATE TABLE app_warnings (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  client_id text NOT NULL,
  at bigint NOT NULL,
  type text NOT NULL,
  detail text NOT NULL
);
CREATE INDEX app_warnings_client ON app_warnings (client_id, id);
-- A deleted app's usage buckets and warnings go with it, whoever deletes it.
CREATE FUNCTION clients_delete_usage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM app_usage WHERE client_id = OLD.id;
  DELETE FROM app_warnings WHERE client_id = OLD.id;
  RETURN OLD;
END $$;
CREATE TRIGGER clients_delete_usage AFTER DELETE ON clients
  FOR EACH ROW EXECUTE FUNCTION clients_delete_usage();
)sql";

// Migration 2 (issue16:revlog): the revocations log (store/revocation_log.hpp). Triggers on
// the source tables append one row per revoking change in that change's transaction,
// whichever code path made it. Every appended row also notes the highest seq of its
// transaction (a transaction-local setting); a deferred constraint trigger then sends
// NOTIFY stagepass_revocations with that seq at commit. PostgreSQL delivers identical
// notifications of one transaction once, so a transaction that revokes many rows sends ONE
// notification, payload = the highest seq it wrote; a rolled-back one sends none.
constexpr std::string_view kRevocationLog = R"sql(
CREATE TABLE revocations (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind text NOT NULL,       -- grant | token | client | cut | suspension
  id text NOT NULL,
  client_id text NOT NULL,
  at bigint NOT NULL
);
CREATE INDEX revocations_at ON revocations (at);
INSERT INTO revocations (kind, id, client_id, at)
  SELECT kind, id, client_id, at FROM (
    SELECT 'grant' AS kind, id, client_id, revoked_at AS at FROM grants
      WHERE revoked_at IS NOT NULL
    UNION ALL SELECT 'token', jti, client_id, revoked_at FROM revoked_tokens
    UNION ALL SELECT 'client', id, id, deleted_at FROM deleted_clients
    UNION ALL SELECT 'cut', client_id, client_id, cut_at FROM client_token_cuts
    UNION ALL SELECT 'suspension', id, id, suspended_at FROM clients WHERE suspended_at > 0) b
  ORDER BY at;
CREATE FUNCTION sp_revlog_append(k text, i text, c text, a bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  s bigint;
BEGIN
  INSERT INTO revocations (kind, id, client_id, at) VALUES (k, i, c, a) RETURNING seq INTO s;
  IF s > COALESCE(NULLIF(current_setting('stagepass.revlog_seq', true), '')::bigint, 0) THEN
    PERFORM set_config('stagepass.revlog_seq', s::text, true);
  END IF;
END $$;
CREATE FUNCTION sp_revlog_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('stagepass_revocations', current_setting('stagepass.revlog_seq', true));
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER revlog_notify AFTER INSERT ON revocations
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION sp_revlog_notify();
CREATE FUNCTION sp_revlog_grants() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.revoked_at IS NOT NULL AND (TG_OP = 'INSERT' OR OLD.revoked_at IS NULL) THEN
    PERFORM sp_revlog_append('grant', NEW.id, NEW.client_id, NEW.revoked_at);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER revlog_grants AFTER INSERT OR UPDATE OF revoked_at ON grants
  FOR EACH ROW EXECUTE FUNCTION sp_revlog_grants();
CREATE FUNCTION sp_revlog_tokens() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM sp_revlog_append('token', NEW.jti, NEW.client_id, NEW.revoked_at);
  RETURN NULL;
END $$;
CREATE TRIGGER revlog_tokens AFTER INSERT ON revoked_tokens
  FOR EACH ROW EXECUTE FUNCTION sp_revlog_tokens();
CREATE FUNCTION sp_revlog_deleted_clients() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' OR NEW.deleted_at <> OLD.deleted_at THEN
    PERFORM sp_revlog_append('client', NEW.id, NEW.id, NEW.deleted_at);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER revlog_deleted_clients AFTER INSERT OR UPDATE OF deleted_at ON deleted_clients
  FOR EACH ROW EXECUTE FUNCTION sp_revlog_deleted_clients();
CREATE FUNCTION sp_revlog_cuts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' OR NEW.cut_at <> OLD.cut_at THEN
    PERFORM sp_revlog_append('cut', NEW.client_id, NEW.client_id, NEW.cut_at);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER revlog_cuts AFTER INSERT OR UPDATE OF cut_at ON client_token_cuts
  FOR EACH ROW EXECUTE FUNCTION sp_revlog_cuts();
CREATE FUNCTION sp_revlog_suspensions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.suspended_at > 0 AND NEW.suspended_at <> OLD.suspended_at THEN
    PERFORM sp_revlog_append('suspension', NEW.id, NEW.id, NEW.suspended_at);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER revlog_suspensions AFTER UPDATE OF suspended_at ON clients
  FOR EACH ROW EXECUTE FUNCTION sp_revlog_suspensions();
)sql";

// Migration 3 (issue16:revfix): a revoking transaction reaches its COMMIT within 20 s of
// taking its first log number, or is rolled back there. Readers wait for a skipped number
// for 30 s plus the clock skew only (Tunables::revocation_lookback_seconds); this makes that
// wait always long enough, however many statements the transaction runs (change_password
// revokes one grant per statement). The check runs in the deferred notify trigger, at COMMIT,
// before the transaction becomes visible. SQLite needs none: one writer, seq order is commit
// order. pg_pool.hpp's session bounds end the stalls this would otherwise only refuse late.
constexpr std::string_view kRevocationDeadline = R"sql(
-- issue16:revfix
CREATE OR REPLACE FUNCTION sp_revlog_append(k text, i text, c text, a bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  s bigint;
BEGIN
  INSERT INTO revocations (kind, id, client_id, at) VALUES (k, i, c, a) RETURNING seq INTO s;
  IF s > COALESCE(NULLIF(current_setting('stagepass.revlog_seq', true), '')::bigint, 0) THEN
    PERFORM set_config('stagepass.revlog_seq', s::text, true);
  END IF;
  IF COALESCE(current_setting('stagepass.revlog_taken', true), '') = '' THEN
    PERFORM set_config('stagepass.revlog_taken', extract(epoch FROM clock_timestamp())::text,
                       true);
  END IF;
END $$;
CREATE OR REPLACE FUNCTION sp_revlog_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  taken text := COALESCE(current_setting('stagepass.revlog_taken', true), '');
BEGIN
  IF taken <> '' AND extract(epoch FROM clock_timestamp()) - taken::double precision > 20 THEN
    RAISE EXCEPTION 'revoking transaction too slow: its commit came more than 20 s after its '
                    'revocations log number (readers stop waiting at 30 s); rolled back'
      USING ERRCODE = '57014';
  END IF;
  PERFORM pg_notify('stagepass_revocations', current_setting('stagepass.revlog_seq', true));
  RETURN NULL;
END $$;
)sql";

// 4 (review fix): expired access-token revocations are purged in small batches by each new
// revocation (pg_grant_store.cpp); the index finds them without reading the table.
constexpr std::string_view kRevokedTokensExpiry = R"sql(
CREATE INDEX revoked_tokens_expires ON revoked_tokens (expires_at);
)sql";

// 5 (issue17:prune): the pruner (store/prune_store.hpp) finds each batch it deletes by these,
// so a batch stays far below the statement timeout. Refresh tokens get one, partial (a grant's
// rotated tokens by rotation time, the per-grant cap): every rotation pays for each index on
// them, so their expiry and the reuse window are found by a sweep in primary-key order.
constexpr std::string_view kPruning = R"sql(
CREATE INDEX codes_expires ON codes (expires_at);
CREATE INDEX refresh_tokens_grant_rotated ON refresh_tokens (grant_id, rotated_at)
  WHERE rotated_at IS NOT NULL;
CREATE INDEX sessions_expires ON sessions (expires_at);
)sql";

}  // namespace

const std::vector<std::string_view>& schema_migrations() {
  static const std::vector<std::string_view> all = {kInitial, kRevocationLog, kRevocationDeadline,
                                                    kRevokedTokensExpiry, kPruning};
  return all;
}

}  // namespace stagepass::postgresql
