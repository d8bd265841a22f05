#include "store/sqlite/online_backup.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <thread>

namespace stagepass::sqlite {
namespace {

namespace fs = std::filesystem;

Unexpected<Error> io_error(std::string message) { return fail(Error{ErrorCode::kIo, message}); }

std::string errno_text(int e) { return std::strerror(e); }

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, CloseDb>;

// Opens `path` with `flags`; the error names the path and SQLite's reason.
Result<Db> open_db(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK)
    return io_error("cannot open " + path + ": " + (raw ? sqlite3_errmsg(raw) : "out of memory"));
  sqlite3_busy_timeout(raw, 5000);
  return db;
}

// Runs `sql`; on failure the error is "<what>: <SQLite's reason>".
Status<> exec(sqlite3* db, const char* sql, const std::string& what) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string reason = err ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    return io_error(what + ": " + reason);
  }
  return Ok{};
}

// The first column of the first row of `sql`, as text ("" without a row).
Result<std::string> query_text(sqlite3* db, const char* sql, const std::string& what) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK)
    return io_error(what + ": " + sqlite3_errmsg(db));
  std::string out;
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    auto p = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    out = p ? p : "";
  }
  sqlite3_finalize(s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return io_error(what + ": " + sqlite3_errmsg(db));
  return out;
}

bool same_file(const struct stat& a, const std::string& path) {
  struct stat b {};
  return ::stat(path.c_str(), &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// The temporary file beside `to` and the files SQLite may leave beside it; removed unless
// released (the copy reached `to`).
class TempFile {
 public:
  ~TempFile() {
    if (path_.empty()) return;
    for (const char* suffix : {"", "-journal", "-wal", "-shm"}) ::unlink((path_ + suffix).c_str());
  }
  // Creates `.NAME.backup-XXXXXX` (mode 0600) in the directory of `to`.
  Status<> create(const std::string& to) {
    fs::path target(to);
    fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
    std::string name = ".";
    name.append(target.filename().string()).append(".backup-XXXXXX");
    std::string tmpl = (dir / name).string();
    int fd = ::mkstemp(tmpl.data());
    if (fd < 0) return io_error("cannot write " + to + ": " + errno_text(errno));
    ::close(fd);
    path_ = tmpl;
    return Ok{};
  }
  const std::string& path() const { return path_; }
  void release() { path_.clear(); }

 private:
  std::string path_;
};

Status<> fsync_path(const std::string& path, int flags, const std::string& to) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return io_error("cannot sync " + to + ": " + errno_text(errno));
  int rc = ::fsync(fd);
  int e = errno;
  ::close(fd);
  if (rc != 0) return io_error("cannot sync " + to + ": " + errno_text(e));
  return Ok{};
}

// Checks where the copy may go; see the header for the errors.
Status<> check_paths(const std::string& from, const std::string& to, const BackupOptions& options) {
  struct stat target {};
  if (::stat(to.c_str(), &target) != 0) {
    if (errno == ENOENT) return Ok{};  // a missing directory is reported when writing
    return io_error("cannot write " + to + ": " + errno_text(errno));
  }
  bool live = same_file(target, from) || same_file(target, from + "-wal") ||
              same_file(target, from + "-shm");
  for (const auto& p : options.protect) live = live || same_file(target, p);
  if (live) return fail(Error{ErrorCode::kInvalid, to + " is a live database file, not a backup"});
  if (!S_ISREG(target.st_mode))
    return fail(Error{ErrorCode::kInvalid, to + " exists and is not a regular file"});
  if (!options.replace) return fail(Error{ErrorCode::kConflict, to + " exists"});
  return Ok{};
}

// Copies the snapshot of `src` into the empty database `dst`, step by step.
Result<BackupReport> copy_pages(sqlite3* src, sqlite3* dst, const std::string& from,
                                const BackupOptions& options) {
  // The snapshot: a read transaction, opened by the first read, held until the copy ends.
  if (auto r = exec(src, "BEGIN; SELECT count(*) FROM sqlite_schema;", "cannot read " + from); !r)
    return fail(r.error());
  sqlite3_backup* b = sqlite3_backup_init(dst, "main", src, "main");
  if (!b) return io_error("cannot start the backup of " + from + ": " + sqlite3_errmsg(dst));
  BackupReport report;
  int64_t copied = 0;
  int rc = SQLITE_OK;
  int busy = 0;
  const int per_step = options.pages_per_step > 0 ? options.pages_per_step : 256;
  while (true) {
    rc = sqlite3_backup_step(b, per_step);
    ++report.steps;
    const int64_t total = sqlite3_backup_pagecount(b);
    const int64_t now_copied = total - sqlite3_backup_remaining(b);
    // A step that copied copies at least one page: no progress means it started over.
    if ((rc == SQLITE_OK || rc == SQLITE_DONE) && report.steps > 1 && now_copied <= copied)
      ++report.restarts;
    copied = now_copied;
    report.pages = total;
    if (rc == SQLITE_DONE) break;
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
      if (++busy > 100) break;  // 100 x 50 ms: give up with the error below
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    if (rc != SQLITE_OK) break;
    busy = 0;
    if (options.after_step) options.after_step(copied, total);
    if (options.pause.count() > 0) std::this_thread::sleep_for(options.pause);
  }
  int finish = sqlite3_backup_finish(b);
  (void)exec(src, "COMMIT", "");
  if (rc != SQLITE_DONE || finish != SQLITE_OK) {
    return io_error("backup of " + from +
                    " failed: " + (rc != SQLITE_DONE ? sqlite3_errstr(rc) : sqlite3_errmsg(dst)));
  }
  return report;
}

// Makes the copy a self-contained rollback-journal file and checks it reads back whole.
Status<> finish_copy(const std::string& path, const std::string& to) {
  auto db = open_db(path, SQLITE_OPEN_READWRITE);
  if (!db) return fail(db.error());
  auto mode = query_text(db->get(), "PRAGMA journal_mode=DELETE", "cannot finish " + to);
  if (!mode) return fail(mode.error());
  auto check = query_text(db->get(), "PRAGMA quick_check", "the copy does not read back");
  if (!check) return fail(check.error());
  if (*check != "ok") return io_error("the copy for " + to + " does not check: " + *check);
  return Ok{};
}

// Moves the finished copy to `to`: over an existing file only when `replace`.
Status<> move_into_place(const std::string& tmp, const std::string& to, bool replace) {
  int rc = replace ? ::rename(tmp.c_str(), to.c_str())
                   : ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE);
  if (rc != 0 && !replace && (errno == EINVAL || errno == ENOSYS)) {
    // A file system without RENAME_NOREPLACE: link() refuses an existing name too.
    rc = ::link(tmp.c_str(), to.c_str());
    if (rc == 0) ::unlink(tmp.c_str());
  }
  if (rc == 0) return Ok{};
  if (errno == EEXIST) return fail(Error{ErrorCode::kConflict, to + " exists"});
  return io_error("cannot write " + to + ": " + errno_text(errno));
}

}  // namespace

Result<BackupReport> backup_database(const std::string& from, const std::string& to,
                                     const BackupOptions& options) {
  struct stat source {};
  if (::stat(from.c_str(), &source) != 0 || !S_ISREG(source.st_mode))
    return fail(Error{ErrorCode::kNotFound, "no database at " + from});
  if (auto ok = check_paths(from, to, options); !ok) return fail(ok.error());

  TempFile tmp;
  if (auto ok = tmp.create(to); !ok) return fail(ok.error());
  Result<BackupReport> report = BackupReport{};
  {
    auto src = open_db(from, SQLITE_OPEN_READONLY);
    if (!src) return fail(src.error());
    auto dst = open_db(tmp.path(), SQLITE_OPEN_READWRITE);
    if (!dst) return fail(Error{ErrorCode::kIo, "cannot write " + to + ": " + dst.error().message});
    report = copy_pages(src->get(), dst->get(), from, options);
    if (!report) return report;
  }
  if (auto ok = finish_copy(tmp.path(), to); !ok) return fail(ok.error());
  if (auto ok = fsync_path(tmp.path(), O_RDONLY, to); !ok) return fail(ok.error());
  if (auto ok = move_into_place(tmp.path(), to, options.replace); !ok) return fail(ok.error());
  tmp.release();
  fs::path dir = fs::path(to).parent_path();
  if (auto ok = fsync_path(dir.empty() ? "." : dir.string(), O_RDONLY | O_DIRECTORY, to); !ok)
    return fail(ok.error());
  struct stat written {};
  if (::stat(to.c_str(), &written) == 0) report->bytes = written.st_size;
  return report;
}

}  // namespace stagepass::sqlite
