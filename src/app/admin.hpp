// `stagepass admin ...`: scripting-friendly administration straight against the store.
// Each function prints its result (JSON with --json, else readable lines) and returns the
// process exit code; failures print one line on standard error.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "app/config.hpp"
#include "core/random.hpp"
#include "domain/models.hpp"
#include "store/store.hpp"

namespace stagepass::admin {

// Prints "stagepass: <msg>" as one line on stderr and returns exit code 1 (every refusal of
// an admin command).
int fail_line(const std::string& msg);

struct NewClient {
  std::string name;
  std::vector<std::string> redirect_uris;
  bool is_public = false;
  std::optional<std::string> scopes;  // space-separated; all known scopes when absent
  std::vector<std::string> web_origins;
  std::optional<std::string> fixed_id;      // for the demo app
  std::optional<std::string> fixed_secret;  // for the demo app
  int64_t rate_limit = 0;                   // Web API requests per 30 s; 0: server default
  bool introspect_any = false;              // a resource server: may introspect every token
  // issue15:devmode. --mode development: the app serves only its allowlist. Default extended
  // (everyone), as before the mode existed.
  bool development = false;
};

// Creates a client; returns it and its secret (empty for public clients). Throws
// std::runtime_error with a one-line reason on invalid input or store failure.
std::pair<Client, std::string> create_client(Store& store, Random& random, int64_t now,
                                             const NewClient& spec);
User create_user(Store& store, Random& random, int64_t now, const std::string& email,
                 const std::string& display_name, const std::string& password);

// `on_created` runs after the user is stored (e.g. to publish the profile to the Web API).
int user_create(Store& store, const std::string& email, const std::string& display_name, bool json,
                const std::function<void(const User&)>& on_created);
int client_create(Store& store, const NewClient& spec, bool json);
int client_list(Store& store, bool json);
int client_show(Store& store, const std::string& id, bool json);
int client_delete(Store& store, const std::string& id, bool json);
// issue15:secrets. Rotates a confidential client's secret; the previous one keeps working for
// `grace` ("24h", "30m", "3s", "0" for a hard cut). --json prints exactly
// {"client_id","client_secret","previous_secret_expires_at"}.
int client_rotate_secret(Store& store, const std::string& id, const std::string& grace, bool json);
// issue15:abuse. Suspends (`suspend`) or lifts the suspension of a client, with an audit
// event (client_suspended / client_unsuspended). --json: {"client_id","suspended",
// "suspended_at","reason"}. A suspension refuses the client's tokens issued until then for
// good, lifted or not (a durable token cut through now + `clock_skew`, issue15-fix:suspension).
int client_suspend(Store& store, const std::string& id, const std::string& reason, bool suspend,
                   bool json, int64_t clock_skew = 10);
// The audit stream as JSON lines, oldest first. `since`: epoch seconds, an ISO 8601 UTC time
// (2026-11-28T10:00:00Z) or a duration back from now (90s, 30m, 12h, 7d).
int events(Store& store, const std::string& since, const std::string& user_id, int limit);

// issue15:devmode (admin_allowlist.cpp). Development mode and the allowlist, through
// oauth::AppAccess (the service the dashboard uses too). `limit`: people per allowlist
// (STAGEPASS_DEV_ALLOWLIST_LIMIT). `mode`: "development" or "extended".
//   client set-mode      → {"client_id","mode"}
//   allowlist add        → {"client_id","user_id","email","added"} (added: false if listed)
//   allowlist remove     → {"client_id","user_id","email","removed":true,"grant_revoked"}
//   allowlist list       → {"client_id","mode","limit","people":[{"user_id","email",
//                           "display_name","added_at"}]}
int client_set_mode(Store& store, const std::string& client_id, const std::string& mode, bool json);
int allowlist_add(Store& store, int64_t limit, const std::string& client_id,
                  const std::string& email, bool json);
int allowlist_remove(Store& store, int64_t limit, const std::string& client_id,
                     const std::string& email, bool json);
int allowlist_list(Store& store, int64_t limit, const std::string& client_id, bool json);
// issue15:keys. `admin keys rotate`: a new signing key, published now and signing from
// now + publish_ahead (+1 s, the servers' pickup; tokens/key_schedule.hpp), printed as
// {"kid","signs_from"}. `publish_ahead` empty: twice STAGEPASS_JWKS_MAX_AGE; shorter than
// the max-age: refused. Checks first that the master key opens the stored keys.
int keys_rotate(Store& store, const Config& cfg, const std::string& publish_ahead, bool json);
// `admin keys list`: [{"kid","state","signs_from","retire_at"}] in signing order; state is
// next, active or retiring; retire_at null until a newer key signs. Retired keys (no longer
// published, deleted by the running server) are left out.
int keys_list(Store& store, bool json);
// issue16:backup (admin_backup.cpp). `admin backup`: an online copy of the accounts database
// (cfg.database) into `to` and/or of the Web API's database (cfg.music_database) into
// `music_to` (empty: not copied), in that order, each one consistent snapshot taken while the
// server serves (store/sqlite/online_backup.hpp). An existing file is replaced only with
// `force`; `step_pages` pages are copied per step. --json:
// {"accounts":{"from","to","bytes","pages"},"music":{...}} (a key per copy made).
// Opens no store: nothing is created or migrated.
int backup(const Config& cfg, const std::string& to, const std::string& music_to, bool force,
           int step_pages, bool json);

}  // namespace stagepass::admin
