#include "store/sqlite/change_signal.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>
#include <system_error>

namespace stagepass::sqlite {
namespace {

// The file is ours to trust: a regular file, owned by us (or, for root, by the database
// file's owner), that nobody else may write.
bool trustworthy(const struct stat& st, uid_t owner) {
  return S_ISREG(st.st_mode) && st.st_uid == owner && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

}  // namespace

ChangeSignal::ChangeSignal(const std::string& database_path) {
  if (database_path.empty() || database_path == ":memory:" || database_path.starts_with("file:")) {
    return;
  }
  std::error_code ec;
  const std::filesystem::path db(database_path);
  if (db.has_parent_path()) std::filesystem::create_directories(db.parent_path(), ec);
  // SQLite opens the file a symbolic link names: so do we, or two processes opening the same
  // database through different paths would not share the signal.
  const auto resolved = std::filesystem::weakly_canonical(db, ec);
  path_ = (ec ? db : resolved).string() + "-changes";
  open_file();
}

ChangeSignal::~ChangeSignal() {
  if (const int fd = fd_.load(); fd >= 0) ::close(fd);
}

void ChangeSignal::open_file() {
  const int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return;
  struct stat st {};
  uid_t owner = ::geteuid();
  if (owner == 0) {
    // Run as root (an admin command): the file belongs to whoever owns the database, as
    // SQLite does with its -wal and -shm files, so the server can still open it.
    struct stat db {};
    const std::string db_path = path_.substr(0, path_.size() - std::string("-changes").size());
    if (::stat(db_path.c_str(), &db) == 0) {
      owner = db.st_uid;
      // Only a file root owns (made just now, or by an earlier root command) is handed over:
      // someone else's file is not adopted, it fails the check below.
      if (::fstat(fd, &st) == 0 && st.st_uid == 0 && owner != 0) {
        (void)::fchown(fd, db.st_uid, db.st_gid);
      }
    }
  }
  if (::fstat(fd, &st) != 0 || !trustworthy(st, owner)) {
    ::close(fd);
    return;
  }
  if (st.st_size < static_cast<off_t>(sizeof(uint64_t))) {
    // A new file: a first value, so that 0 only ever means "unreadable".
    uint64_t value = 0;
    while (value == 0) {
      if (::getrandom(&value, sizeof value, 0) != static_cast<ssize_t>(sizeof value)) value = 0;
    }
    if (::pwrite(fd, &value, sizeof value, 0) != static_cast<ssize_t>(sizeof value)) {
      ::close(fd);
      return;
    }
  }
  std::lock_guard lk(mu_);
  dev_ = st.st_dev;
  ino_ = st.st_ino;
  if (const int old = fd_.exchange(fd); old >= 0) ::close(old);
}

bool ChangeSignal::available() const { return fd_.load() >= 0; }

uint64_t ChangeSignal::load() const {
  uint64_t value = 0;
  const int fd = fd_.load(std::memory_order_acquire);
  if (fd < 0 || ::pread(fd, &value, sizeof value, 0) != static_cast<ssize_t>(sizeof value)) {
    return 0;  // unavailable, or cut short: a value no cache is kept under
  }
  // A reopen may have closed `fd` meanwhile, and the number been reused for another file
  // whose bytes were read: then fd_ holds another number (or, after two reopens within this
  // read, perhaps the same one again: a race no test reaches, whose misread would have to
  // equal a random 64-bit value to matter).
  if (fd_.load(std::memory_order_acquire) != fd) return 0;
  return value;
}

void ChangeSignal::bump() {
  uint64_t value = 0;
  while (value == 0) {
    if (::getrandom(&value, sizeof value, 0) != static_cast<ssize_t>(sizeof value)) value = 0;
  }
  std::lock_guard lk(mu_);
  if (const int fd = fd_.load(); fd >= 0) (void)::pwrite(fd, &value, sizeof value, 0);
}

void ChangeSignal::reopen_if_replaced() {
  if (path_.empty()) return;
  struct stat st {};
  if (fd_.load() >= 0 && ::stat(path_.c_str(), &st) == 0) {
    bool same = false;
    {
      std::lock_guard lk(mu_);
      same = st.st_dev == dev_ && st.st_ino == ino_;
    }
    if (same) {
      // Cut short (by hand, or a tool copying over it), or zeroed: a new value, which only
      // ever means "something may have changed", makes it readable again.
      if (st.st_size < static_cast<off_t>(sizeof(uint64_t)) || load() == 0) bump();
      return;
    }
  }
  open_file();
}

}  // namespace stagepass::sqlite
