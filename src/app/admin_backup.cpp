// `stagepass admin backup --to FILE [--music-to FILE] [--force] [--json]` (issue16:backup):
// backups without downtime of the embedded SQLite databases. docs/operations.md, "Backups".
#include <boost/json.hpp>
#include <filesystem>
#include <iostream>

#include "app/admin.hpp"
#include "store/sqlite/online_backup.hpp"

namespace stagepass::admin {
namespace json = boost::json;

int backup(const Config& cfg, const std::string& to, const std::string& music_to, bool force,
           int step_pages, bool json) {
  if (to.empty() && music_to.empty()) {
    return fail_line(
        "nothing to back up: give --to FILE (the accounts database) and/or --music-to FILE "
        "(the Web API's database)");
  }
  if (cfg.database.starts_with("postgres")) {
    return fail_line(
        "admin backup copies SQLite databases; back up PostgreSQL with pg_dump or "
        "pg_basebackup (docs/operations.md, \"Backups\")");
  }
  if (!to.empty() && to == music_to) return fail_line("--to and --music-to name the same file");
  struct Copy {
    const char* name;
    std::string from, to;
  };
  // Accounts first: a person created meanwhile then has a profile in the Web API's copy (the
  // profile is written after the account, and the music copy is taken later).
  const Copy copies[] = {{"accounts", cfg.database, to}, {"music", cfg.music_database, music_to}};
  // An existing target is refused before anything is copied (backup_database checks again).
  for (const auto& c : copies) {
    std::error_code ec;
    if (!force && !c.to.empty() && std::filesystem::exists(c.to, ec))
      return fail_line(c.to + " exists (pass --force to replace it)");
  }
  json::object out;
  for (const auto& c : copies) {
    if (c.to.empty()) continue;
    sqlite::BackupOptions options;
    options.replace = force;
    options.pages_per_step = step_pages;
    options.protect = {cfg.database, cfg.music_database};
    auto r = sqlite::backup_database(c.from, c.to, options);
    if (!r) {
      std::string msg = r.error().message;
      if (r.error().code == ErrorCode::kConflict) msg += " (pass --force to replace it)";
      return fail_line(msg);
    }
    if (json) {
      out[c.name] =
          json::object{{"from", c.from}, {"to", c.to}, {"bytes", r->bytes}, {"pages", r->pages}};
    } else {
      std::cout << "backed up the " << c.name << " database " << c.from << " to " << c.to << " ("
                << r->bytes << " bytes)\n";
    }
  }
  if (json) std::cout << json::serialize(out) << "\n";
  return 0;
}

}  // namespace stagepass::admin
