// The stagepass binary: `serve` and `admin` subcommands (CLI11).
#include <CLI/CLI.hpp>
#include <iostream>

#include "app/admin.hpp"
#include "app/config.hpp"
#include "app/serve.hpp"
#include "app/store_factory.hpp"
#include "music/sqlite/sqlite_music_store.hpp"

using namespace stagepass;

int main(int argc, char** argv) {
  CLI::App app{"Stagepass: OAuth 2.0 accounts service and Spotify-shaped Web API"};
  app.require_subcommand(1);
  app.fallthrough();  // `stagepass serve --config F` and `stagepass --config F serve` both work
  std::optional<std::string> config_file;
  app.add_option("--config", config_file, "TOML configuration file (STAGEPASS_* variables win)");

  bool demo = false;
  auto* serve_cmd = app.add_subcommand("serve", "Run the server");
  serve_cmd->add_flag("--demo", demo, "Seed a demo user and app and print how to use them");
  std::optional<std::string> roles, issuer;
  serve_cmd->add_option("--roles", roles, "all, accounts or api (wins over STAGEPASS_ROLES)");
  serve_cmd->add_option("--issuer", issuer, "Issuer base URL (wins over STAGEPASS_ISSUER)");
  std::optional<std::string> tls_cert, tls_key;
  serve_cmd->add_option("--tls-cert", tls_cert,
                        "PEM certificate chain: serve https (wins over STAGEPASS_TLS_CERT)");
  serve_cmd->add_option("--tls-key", tls_key, "PEM private key (wins over STAGEPASS_TLS_KEY)");

  auto* admin_cmd = app.add_subcommand("admin", "Administer users and clients");
  admin_cmd->require_subcommand(1);
  bool json = false;
  auto* user_cmd = admin_cmd->add_subcommand("user", "Users")->require_subcommand(1);
  std::string email, display_name;
  bool password_stdin = false;
  auto* user_create =
      user_cmd->add_subcommand("create", "Create a user (password read from stdin)");
  user_create->add_option("--email", email)->required();
  user_create->add_option("--display-name", display_name)->required();
  user_create->add_flag("--password-stdin", password_stdin, "Read the password from standard input")
      ->required();
  user_create->add_flag("--json", json);

  auto* client_cmd = admin_cmd->add_subcommand("client", "Clients (apps)")->require_subcommand(1);
  admin::NewClient spec;
  std::string scopes;
  auto* client_create = client_cmd->add_subcommand("create", "Register a client");
  client_create->add_option("--name", spec.name)->required();
  client_create->add_option("--redirect-uri", spec.redirect_uris, "Exact redirect URI (repeatable)")
      ->required();
  client_create->add_flag("--public", spec.is_public, "Public client: no secret, PKCE required");
  auto* scopes_opt = client_create->add_option("--scopes", scopes,
                                               "Allowed scopes, space-separated (default: all)");
  client_create->add_option("--web-origin", spec.web_origins,
                            "Browser origin allowed by CORS (repeatable)");
  client_create
      ->add_option("--rate-limit", spec.rate_limit,
                   "Web API cost units per rolling 30 s (0: server default)")
      ->check(CLI::NonNegativeNumber);
  client_create->add_flag("--introspect-any", spec.introspect_any,
                          "A resource server: may introspect every app's tokens (otherwise a "
                          "client introspects only its own)");
  // issue15:devmode
  std::string create_mode = "extended";
  client_create
      ->add_option("--mode", create_mode,
                   "development: serve only the people on the app's allowlist; extended "
                   "(default): everyone")
      ->check(CLI::IsMember({"development", "extended"}));
  client_create->add_flag("--json", json);
  auto* client_list = client_cmd->add_subcommand("list", "List clients");
  client_list->add_flag("--json", json);
  std::string client_id;
  auto* client_show = client_cmd->add_subcommand("show", "Show one client");
  client_show->add_option("client_id", client_id)->required();
  client_show->add_flag("--json", json);
  auto* client_delete =
      client_cmd->add_subcommand("delete", "Delete a client and revoke its tokens");
  client_delete->add_option("client_id", client_id)->required();
  client_delete->add_flag("--json", json);
  // issue15:secrets
  std::string grace = "24h";
  auto* client_rotate = client_cmd->add_subcommand(
      "rotate-secret", "New client secret; the previous one works for a grace period");
  client_rotate->add_option("--client-id", client_id)->required();
  client_rotate->add_option("--grace", grace,
                            "How long the previous secret keeps working: 24h (default), 30m, "
                            "3s; 0 is a hard cut that also revokes the app's access tokens");
  client_rotate->add_flag("--json", json);

  // issue15:devmode: development mode and the allowlist.
  std::string mode_client_id, mode;
  auto* client_set_mode =
      client_cmd->add_subcommand("set-mode", "Serve everyone (extended) or only the allowlist");
  client_set_mode->add_option("--client-id", mode_client_id)->required();
  client_set_mode->add_option("--mode", mode, "development or extended")
      ->required()
      ->check(CLI::IsMember({"development", "extended"}));
  client_set_mode->add_flag("--json", json);
  auto* allowlist_cmd =
      client_cmd->add_subcommand("allowlist", "People a development-mode app serves")
          ->require_subcommand(1);
  std::string allow_client_id, allow_email;
  auto* allowlist_add = allowlist_cmd->add_subcommand("add", "Add the person with this email");
  auto* allowlist_remove = allowlist_cmd->add_subcommand(
      "remove", "Remove the person with this email and revoke their access to the app");
  auto* allowlist_list = allowlist_cmd->add_subcommand("list", "List the allowlist");
  for (auto* cmd : {allowlist_add, allowlist_remove, allowlist_list}) {
    cmd->add_option("--client-id", allow_client_id)->required();
    if (cmd != allowlist_list) cmd->add_option("--email", allow_email)->required();
    cmd->add_flag("--json", json);
  }

  // issue15:abuse: suspend / unsuspend an app (operators).
  std::string suspend_id, suspend_reason;
  auto* client_suspend = client_cmd->add_subcommand(
      "suspend",
      "Suspend a client: its token requests get invalid_client, its tokens stop working");
  client_suspend->add_option("--client-id", suspend_id)->required();
  client_suspend->add_option("--reason", suspend_reason,
                             "Why (shown to the app and its owner; at most 200 characters)");
  client_suspend->add_flag("--json", json);
  auto* client_unsuspend =
      client_cmd->add_subcommand("unsuspend", "Lift a client's suspension (new tokens work again)");
  client_unsuspend->add_option("--client-id", suspend_id)->required();
  client_unsuspend->add_flag("--json", json);

  std::string since, event_user;
  int event_limit = 1000;
  auto* events_cmd = admin_cmd->add_subcommand("events", "Print the audit stream as JSON lines");
  events_cmd->add_option("--since", since, "Epoch seconds, ISO 8601 UTC, or a duration (24h)")
      ->required();
  events_cmd->add_option("--user", event_user, "Only this person's events");
  events_cmd->add_option("--limit", event_limit, "At most this many events")
      ->check(CLI::Range(1, 1000000));

  // issue15:keys
  auto* keys_cmd = admin_cmd->add_subcommand("keys", "Signing keys")->require_subcommand(1);
  std::string publish_ahead;
  auto* keys_rotate = keys_cmd->add_subcommand(
      "rotate", "Publish a new signing key now; it signs once every cache has seen it");
  keys_rotate->add_option("--publish-ahead", publish_ahead,
                          "How long before it signs (90s, 10m, 1h; at least "
                          "STAGEPASS_JWKS_MAX_AGE; default twice that)");
  keys_rotate->add_flag("--json", json);
  auto* keys_list = keys_cmd->add_subcommand("list", "List the signing keys and their states");
  keys_list->add_flag("--json", json);

  // issue16:backup
  std::string backup_to, backup_music_to;
  bool backup_force = false;
  auto* backup_cmd = admin_cmd->add_subcommand(
      "backup", "Copy the databases while the server runs (SQLite online backup)");
  backup_cmd->add_option("--to", backup_to, "Where the accounts database's copy goes");
  backup_cmd->add_option("--music-to", backup_music_to,
                         "Where the Web API database's copy goes (catalog, profiles, libraries, "
                         "playlists, player)");
  backup_cmd->add_flag("--force", backup_force, "Replace an existing file");
  int backup_step_pages = 256;
  backup_cmd
      ->add_option("--step-pages", backup_step_pages,
                   "Pages copied per step, between 1 ms pauses (default 256: 1 MiB at 4 KiB)")
      ->check(CLI::Range(1, 1 << 20));
  backup_cmd->add_flag("--json", json);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    if (roles) setenv("STAGEPASS_ROLES", roles->c_str(), 1);
    if (issuer) setenv("STAGEPASS_ISSUER", issuer->c_str(), 1);
    if (tls_cert) setenv("STAGEPASS_TLS_CERT", tls_cert->c_str(), 1);
    if (tls_key) setenv("STAGEPASS_TLS_KEY", tls_key->c_str(), 1);
    Config cfg = Config::load(config_file);
    if (serve_cmd->parsed()) return serve(cfg, demo);
    if (backup_cmd->parsed())  // before the store below: a backup opens, creates, migrates nothing
      return admin::backup(cfg, backup_to, backup_music_to, backup_force, backup_step_pages, json);
    auto opened = open_accounts_store(cfg, 1);
    Store& store = *opened.store;
    if (user_create->parsed()) {
      music::SqliteMusicStore music(cfg.music_database, 1);
      return admin::user_create(store, email, display_name, json, [&music](const User& u) {
        if (auto r = music.upsert_profile({u.id, u.display_name, u.email, u.country, u.product, 0});
            !r) {
          throw std::runtime_error("user created, but its Web API profile was not: " +
                                   r.error().message);
        }
      });
    }
    if (client_create->parsed()) {
      if (*scopes_opt) spec.scopes = scopes;
      spec.development = create_mode == "development";
      return admin::client_create(store, spec, json);
    }
    if (client_list->parsed()) return admin::client_list(store, json);
    if (client_show->parsed()) return admin::client_show(store, client_id, json);
    if (client_delete->parsed()) return admin::client_delete(store, client_id, json);
    if (client_set_mode->parsed()) return admin::client_set_mode(store, mode_client_id, mode, json);
    const int64_t limit = cfg.dev_allowlist_limit;
    if (allowlist_add->parsed())
      return admin::allowlist_add(store, limit, allow_client_id, allow_email, json);
    if (allowlist_remove->parsed())
      return admin::allowlist_remove(store, limit, allow_client_id, allow_email, json);
    if (allowlist_list->parsed()) return admin::allowlist_list(store, limit, allow_client_id, json);
    if (client_rotate->parsed()) return admin::client_rotate_secret(store, client_id, grace, json);
    if (client_suspend->parsed())
      return admin::client_suspend(store, suspend_id, suspend_reason, true, json, cfg.clock_skew);
    if (client_unsuspend->parsed())
      return admin::client_suspend(store, suspend_id, "", false, json);
    if (events_cmd->parsed()) return admin::events(store, since, event_user, event_limit);
    if (keys_rotate->parsed()) return admin::keys_rotate(store, cfg, publish_ahead, json);
    if (keys_list->parsed()) return admin::keys_list(store, json);
  } catch (const std::exception& e) {
    std::cerr << "stagepass: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
