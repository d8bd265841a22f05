// An online backup of a live SQLite database into a new file, with SQLite's backup API
// (https://sqlite.org/backup.html: sqlite3_backup_init/step/finish), taken while other
// processes (`stagepass serve`) keep reading and writing the database. `admin backup` uses it.
//
// What the file holds: the database exactly as it was at one instant, the snapshot, taken
// when the backup opens its read transaction on the source, before the first page is copied.
// Every transaction committed before that instant is in the file; none committed after it is.
// The read transaction stays open across every step: a write by another connection between
// two steps would otherwise restart the copy from page 1 (sqlite3_backup_step's rule for
// changes made outside the backup's own connection), and under a steady stream of commits
// the copy would never finish. In WAL mode (every Stagepass database: Connection sets it) a
// reader never blocks the writer: the server keeps committing throughout; the cost is that
// its checkpoints cannot pass the snapshot, so the -wal file grows until the backup ends.
// The copy goes `pages_per_step` pages at a time with a pause between steps, so it competes
// with the server's commits for the disk in short bursts only.
//
// What `to` gets: nothing until the copy is complete, checked (PRAGMA quick_check), fsynced
// and renamed into place (then the directory is fsynced): a failed or interrupted backup
// leaves `to` as it was (a killed process may leave a `.NAME.backup-XXXXXX` file beside it).
// The file is a self-contained database in rollback-journal mode (no -wal beside it), mode
// 0600 (it holds password hashes and sealed keys).
//
// Thread safety: a free function; it opens its own connections.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace stagepass::sqlite {

struct BackupOptions {
  // Replace an existing regular file at `to` (atomically, once the copy is complete).
  bool replace = false;
  int pages_per_step = 256;  // 1 MiB at the 4 KiB page size
  std::chrono::milliseconds pause{1};
  // Files `to` must never be (other live databases; the source and its -wal/-shm always are).
  std::vector<std::string> protect;
  // Called after each step that left pages to copy: (pages copied, pages in the snapshot).
  std::function<void(int64_t, int64_t)> after_step;
};

struct BackupReport {
  int64_t pages = 0;     // pages in the snapshot
  int64_t bytes = 0;     // size of the file written
  int64_t steps = 0;     // sqlite3_backup_step calls
  int64_t restarts = 0;  // times the copy started over (0 while the snapshot is held)
};

// Copies the database at `from` into the file `to`. Errors (one line each, naming the paths):
//   kNotFound  `from` is not an existing file;
//   kConflict  `to` exists and options.replace is false;
//   kInvalid   `to` is not a regular file, or is the source, its -wal/-shm or a protected file;
//   kIo        `to` cannot be written (no such directory, permissions, disk full) or the
//              copy failed (`from` is not a database, the result did not check).
Result<BackupReport> backup_database(const std::string& from, const std::string& to,
                                     const BackupOptions& options = {});

}  // namespace stagepass::sqlite
