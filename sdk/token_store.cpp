// FileTokenStore (see stagepass/token_store.hpp for the contract). The cache's byte format
// is in token_cache_format.cpp, the OS keyring in keyring.cpp, MemoryTokenStore in
// memory_token_store.cpp.
//
// FileTokenStore and its directory: open() makes the last directory with mkdir(0700), opens it
// with O_NOFOLLOW (a symbolic link there is refused), checks and repairs it through that
// descriptor, and keeps the descriptor: every later open, create, rename and unlink is
// relative to it (openat, renameat, unlinkat), so swapping the path for a link after the
// check leads nowhere. Files are opened with O_NOFOLLOW and O_NONBLOCK (a FIFO planted as
// tokens.key would otherwise block open(2) forever) and must be regular files.
//
// FileTokenStore locking: every load/save/erase and every exclusive() guard goes through
// `Lock`, a recursive mutex (other threads of this process) plus flock(2) on tokens.lock
// (other processes). The flock is taken when the depth goes 0 -> 1 and dropped on 1 -> 0,
// so a thread holding exclusive() may call load/save/erase freely. A guard must be
// destroyed on the thread that took it, and before its store.
#include "stagepass/token_store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <system_error>
#include <utility>
#include <vector>

#include "keyring.hpp"
#include "token_cache_format.hpp"

namespace stagepass::sdk {

namespace fs = std::filesystem;
using Entries = detail::TokenEntries;

namespace {

constexpr char kKeyFile[] = "tokens.key";
constexpr char kLockFile[] = "tokens.lock";
constexpr char kCacheFile[] = "tokens.cache";
constexpr char kTempPrefix[] = "tokens.cache.";  // + 6 random characters
constexpr char kUndecryptable[] =
    "token cache cannot be decrypted (another key or damaged); log in again";

Error cache_error(std::string message) {
  Error e;
  e.kind = ErrorKind::cache;
  e.message = std::move(message);
  return e;
}

// "<what> <path>: <strerror(err)>"
Error os_error(const char* what, const fs::path& path, int err) {
  return cache_error(std::string(what) + " " + path.string() + ": " + std::strerror(err));
}

// Closes the descriptor it owns.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Hands the descriptor over; this no longer closes it.
  int release() { return std::exchange(fd_, -1); }
  // Closes now and reports close(2)'s errno (0 on success): a late write error shows here.
  int close() {
    int rc = ::close(std::exchange(fd_, -1));
    return rc == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

// openat(2), retried on EINTR. Never follows a link at `name` and never blocks on a FIFO.
int open_in(int dir_fd, const char* name, int flags, mode_t mode = 0) {
  int fd;
  do fd = ::openat(dir_fd, name, flags | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, mode);
  while (fd < 0 && errno == EINTR);
  return fd;
}

// Writes all of `data`; returns 0 or errno.
int write_all_bytes(int fd, const unsigned char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return 0;
}

// Reads until EOF; returns 0 or errno.
int read_to_end(int fd, std::vector<unsigned char>& out) {
  unsigned char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return 0;
    out.insert(out.end(), buf, buf + n);
  }
}

// Makes a completed rename or create in the directory durable.
Result<void> sync_dir(int dir_fd, const fs::path& dir) {
  // Some filesystems cannot fsync a directory (EINVAL); the rename itself has happened.
  if (::fsync(dir_fd) != 0 && errno != EINVAL) {
    return os_error("cannot sync token directory", dir, errno);
  }
  return {};
}

bool is_undecryptable(const Error& e) { return e.message == kUndecryptable; }

// The store's files are opened with O_NOFOLLOW: a link planted in the directory (while it
// was open to others, or by another program) could point the key, the lock or the cache at
// a file someone else controls, or make open(O_CREAT) create one where they choose.
Error open_error(const char* what, const fs::path& path, int err) {
  if (err == ELOOP) {
    return cache_error(std::string(what) + " " + path.string() +
                       " is a symbolic link; refusing it (remove it and try again)");
  }
  return os_error((std::string("cannot open ") + what).c_str(), path, err);
}

// A file the store trusts is a regular file that belongs to this user.
Result<void> check_own_file(int fd, const fs::path& path, const char* what) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return os_error("cannot stat", path, errno);
  if (!S_ISREG(st.st_mode))
    return cache_error(std::string(what) + " " + path.string() + " is not a file");
  if (st.st_uid != ::geteuid()) {
    return cache_error(std::string(what) + " " + path.string() + " is owned by uid " +
                       std::to_string(st.st_uid) + ", not by you (uid " +
                       std::to_string(::geteuid()) + "); refusing it");
  }
  return {};
}

// Opens the token directory: the last component is created with mode 0700 when missing
// (its parents with the usual mode), and opened without following a link there.
Result<int> open_dir(const fs::path& dir) {
  if (dir.has_parent_path() && dir.parent_path() != dir.root_path()) {
    std::error_code ec;
    fs::create_directories(dir.parent_path(), ec);
    if (ec) return os_error("cannot create token directory", dir.parent_path(), ec.value());
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return os_error("cannot create token directory", dir, errno);
  }
  int fd;
  do fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    // O_NOFOLLOW | O_DIRECTORY on a link: ELOOP or ENOTDIR, depending on the system.
    const int err = errno;
    struct stat st;
    if ((err == ELOOP || err == ENOTDIR) && ::lstat(dir.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
      return cache_error("token directory " + dir.string() +
                         " is a symbolic link; refusing it (name the directory itself)");
    }
    return os_error("cannot open token directory", dir, err);
  }
  return fd;
}

// The directory must be this user's and private: mode 0700 even when it existed before
// with a looser mode (repaired here: fchmod on the opened directory, so the check and the
// change see the same one). A directory owned by someone else is refused — they could
// replace any file in it — and left as it is.
Result<void> make_private_dir(int dir_fd, const fs::path& dir) {
  struct stat st;
  if (::fstat(dir_fd, &st) != 0) return os_error("cannot stat token directory", dir, errno);
  if (st.st_uid != ::geteuid()) {
    return cache_error("token directory " + dir.string() + " is owned by uid " +
                       std::to_string(st.st_uid) + ", not by you (uid " +
                       std::to_string(::geteuid()) + "); refusing to keep tokens there");
  }
  if ((st.st_mode & 07777) != 0700 && ::fchmod(dir_fd, 0700) != 0) {
    return os_error("cannot chmod 0700", dir, errno);
  }
  return {};
}

// Reads the key from tokens.key in the directory (mode checked), creating it first if it
// does not exist. `path` names it in messages. The caller holds the flock of tokens.lock,
// so concurrent creators agree on one key.
Result<std::string> read_or_create_key(int dir_fd, const fs::path& dir, const fs::path& path) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    Fd fd(open_in(dir_fd, kKeyFile, O_RDONLY));
    if (fd.get() >= 0) {
      if (auto own = check_own_file(fd.get(), path, "key file"); !own) return own.error();
      struct stat st;
      if (::fstat(fd.get(), &st) != 0) return os_error("cannot stat key file", path, errno);
      if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        return cache_error("key file " + path.string() + " has mode " + mode +
                           ", which lets other users read it; run `chmod 600` on it");
      }
      // A crash between creating and writing the key leaves it empty; nothing can have been
      // sealed under it (the creator held the lock), so make a new one.
      if (st.st_size == 0) {
        if (::unlinkat(dir_fd, kKeyFile, 0) != 0) {
          return os_error("cannot remove key file", path, errno);
        }
        continue;
      }
      if (st.st_size != crypto_secretbox_KEYBYTES) {
        return cache_error("key file " + path.string() + " is not " +
                           std::to_string(crypto_secretbox_KEYBYTES) + " bytes long");
      }
      std::string key(crypto_secretbox_KEYBYTES, '\0');
      ssize_t n;
      do n = ::pread(fd.get(), key.data(), key.size(), 0);
      while (n < 0 && errno == EINTR);
      if (n != static_cast<ssize_t>(key.size())) {
        int err = n < 0 ? errno : EIO;
        sodium_memzero(key.data(), key.size());
        return os_error("cannot read key file", path, err);
      }
      return key;
    }
    if (errno != ENOENT) return open_error("key file", path, errno);

    Fd out(open_in(dir_fd, kKeyFile, O_WRONLY | O_CREAT | O_EXCL, 0600));
    if (out.get() < 0) {
      if (errno == EEXIST) continue;  // created by a writer that does not lock: read it
      return os_error("cannot create key file", path, errno);
    }
    std::string key(crypto_secretbox_KEYBYTES, '\0');
    randombytes_buf(key.data(), key.size());
    int err =
        write_all_bytes(out.get(), reinterpret_cast<const unsigned char*>(key.data()), key.size());
    if (!err && ::fsync(out.get()) != 0) err = errno;
    if (!err) err = out.close();
    if (err) {
      sodium_memzero(key.data(), key.size());
      ::unlinkat(dir_fd, kKeyFile, 0);
      return os_error("cannot write key file", path, err);
    }
    if (auto synced = sync_dir(dir_fd, dir); !synced) return synced.error();
    return key;
  }
  return cache_error("key file " + path.string() + " keeps changing; try again");
}

// Removes temporary files a crashed writer left. The caller holds the flock, so no live
// writer owns one.
void remove_stale_temps(int dir_fd) {
  // A descriptor of its own for readdir (fdopendir takes it; closedir closes it).
  int fd = open_in(dir_fd, ".", O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  DIR* d = ::fdopendir(fd);
  if (d == nullptr) {
    ::close(fd);
    return;
  }
  std::vector<std::string> stale;
  while (const dirent* e = ::readdir(d)) {
    std::string_view name(e->d_name);
    if (name.size() == sizeof kTempPrefix - 1 + 6 && name.starts_with(kTempPrefix)) {
      stale.emplace_back(name);
    }
  }
  ::closedir(d);
  for (const auto& name : stale) ::unlinkat(dir_fd, name.c_str(), 0);
}

// The cache key and where it lives.
struct CacheKey {
  CacheKey(std::string k, bool keyring) : bytes(std::move(k)), in_keyring(keyring) {}
  CacheKey(CacheKey&&) = default;
  ~CacheKey() { sodium_memzero(bytes.data(), bytes.size()); }
  std::string bytes;
  bool in_keyring;
};

Result<CacheKey> key_from_file(int dir_fd, const fs::path& dir) {
  Result<std::string> key = read_or_create_key(dir_fd, dir, dir / kKeyFile);
  if (!key) return key.error();
  return CacheKey(std::move(*key), false);
}

// The absolute path of the opened directory (what the keyring entry is named after).
fs::path opened_path(int dir_fd, const fs::path& dir, std::error_code& ec) {
  fs::path p = fs::read_symlink("/proc/self/fd/" + std::to_string(dir_fd), ec);
  if (!ec && p.is_absolute()) return p;
  return fs::canonical(dir, ec);  // no /proc
}

// Chooses the key as token_store.hpp describes. The caller holds the flock of tokens.lock.
Result<CacheKey> obtain_key(int dir_fd, const fs::path& dir, KeyStorage storage) {
  const fs::path key_file = dir / kKeyFile;
  if (storage == KeyStorage::key_file) return key_from_file(dir_fd, dir);

  struct stat st;
  if (::fstatat(dir_fd, kKeyFile, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (storage == KeyStorage::keyring) {
      return cache_error("the key of " + dir.string() + " is in " + key_file.string() +
                         ", not in the OS keyring; remove it (and log in again) to move it there");
    }
    return key_from_file(dir_fd, dir);
  } else if (errno != ENOENT) {
    return os_error("cannot stat key file", key_file, errno);
  }

  std::error_code ec;
  const fs::path canonical = opened_path(dir_fd, dir, ec);
  if (ec) return os_error("cannot resolve token directory", dir, ec.value());
  detail::KeyringKey got = detail::keyring_key(canonical.string());
  if (got.has_key()) return CacheKey(std::move(got.key), true);
  if (got.status == detail::KeyringKey::Status::failed || storage == KeyStorage::keyring) {
    return cache_error("OS keyring: " + got.message);
  }
  return key_from_file(dir_fd, dir);  // no usable keyring: quietly use a key file
}

}  // namespace

// ---- FileTokenStore ----

struct FileTokenStore::Lock {
  std::recursive_mutex mu;
  int depth = 0;  // acquisitions held by the owning thread
  int fd = -1;    // tokens.lock, flock'ed while depth > 0

  Result<void> acquire(int dir_fd, const fs::path& lock_file) {
    mu.lock();
    if (depth == 0) {
      fd = open_in(dir_fd, kLockFile, O_RDWR | O_CREAT, 0600);
      if (fd < 0) {
        int err = errno;
        mu.unlock();
        return open_error("lock file", lock_file, err);
      }
      if (auto own = check_own_file(fd, lock_file, "lock file"); !own) {
        ::close(std::exchange(fd, -1));
        mu.unlock();
        return own.error();
      }
      int rc;
      do rc = ::flock(fd, LOCK_EX);
      while (rc != 0 && errno == EINTR);
      if (rc != 0) {
        int err = errno;
        ::close(std::exchange(fd, -1));
        mu.unlock();
        return os_error("cannot lock", lock_file, err);
      }
    }
    ++depth;
    return {};
  }

  void release() {
    if (--depth == 0) ::close(std::exchange(fd, -1));  // closing drops the flock
    mu.unlock();
  }
};

class FileTokenStore::FileGuard final : public TokenStore::Guard {
 public:
  explicit FileGuard(Lock& lock) : lock_(lock) {}
  FileGuard(const FileGuard&) = delete;
  FileGuard& operator=(const FileGuard&) = delete;
  ~FileGuard() override { lock_.release(); }

 private:
  Lock& lock_;
};

Result<std::unique_ptr<FileTokenStore>> FileTokenStore::open(const fs::path& dir_given,
                                                             KeyStorage storage) {
  if (dir_given.empty()) {
    return cache_error("no token directory (set STAGEPASS_CONFIG_DIR or HOME)");
  }
  if (sodium_init() < 0) return cache_error("libsodium cannot be initialised");
  // "a/b/" names b too; with its trailing slash, a link at b would be followed.
  fs::path dir = dir_given.lexically_normal();
  if (!dir.has_filename() && dir.has_relative_path()) dir = dir.parent_path();
  auto opened = open_dir(dir);
  if (!opened) return opened.error();
  Fd dir_fd(*opened);
  if (auto ok = make_private_dir(dir_fd.get(), dir); !ok) return ok.error();

  Lock lock;
  if (auto held = lock.acquire(dir_fd.get(), dir / kLockFile); !held) return held.error();
  Result<CacheKey> key = obtain_key(dir_fd.get(), dir, storage);
  if (key) remove_stale_temps(dir_fd.get());
  lock.release();
  if (!key) return key.error();
  return std::unique_ptr<FileTokenStore>(
      new FileTokenStore(dir, dir_fd.release(), std::move(key->bytes), key->in_keyring));
}

fs::path FileTokenStore::default_dir() {
  auto env = [](const char* name) -> const char* {
    const char* v = std::getenv(name);
    return v && *v ? v : nullptr;
  };
  if (const char* d = env("STAGEPASS_CONFIG_DIR")) return d;
  if (const char* d = env("XDG_CONFIG_HOME")) return fs::path(d) / "stagepass";
  if (const char* d = env("HOME")) return fs::path(d) / ".config" / "stagepass";
  struct passwd pw, *found = nullptr;
  char buf[4096];
  if (::getpwuid_r(::getuid(), &pw, buf, sizeof buf, &found) == 0 && found && found->pw_dir) {
    return fs::path(found->pw_dir) / ".config" / "stagepass";
  }
  return {};  // open() reports it
}

FileTokenStore::FileTokenStore(fs::path dir, int dir_fd, std::string key, bool key_in_keyring)
    : dir_(std::move(dir)),
      file_(dir_ / kCacheFile),
      lock_file_(dir_ / kLockFile),
      dir_fd_(dir_fd),
      key_(std::move(key)),
      key_in_keyring_(key_in_keyring),
      lock_(std::make_unique<Lock>()) {}

FileTokenStore::~FileTokenStore() {
  sodium_memzero(key_.data(), key_.size());
  ::close(dir_fd_);
}

Result<std::unique_ptr<TokenStore::Guard>> FileTokenStore::exclusive() {
  if (auto held = lock_->acquire(dir_fd_, lock_file_); !held) return held.error();
  return std::unique_ptr<Guard>(std::make_unique<FileGuard>(*lock_));
}

Result<std::optional<TokenSet>> FileTokenStore::load(const std::string& key) {
  auto guard = exclusive();
  if (!guard) return guard.error();
  auto entries = read_all();
  if (!entries) return entries.error();
  auto it = entries->find(key);
  if (it == entries->end()) return std::optional<TokenSet>();
  return std::optional<TokenSet>(std::move(it->second));
}

Result<void> FileTokenStore::save(const std::string& key, const TokenSet& tokens) {
  auto guard = exclusive();
  if (!guard) return guard.error();
  auto entries = read_all();
  if (!entries && !is_undecryptable(entries.error())) return entries.error();
  Entries updated = entries ? std::move(*entries) : Entries{};  // undecryptable: start over
  updated[key] = tokens;
  return write_all(updated);
}

Result<void> FileTokenStore::erase(const std::string& key) {
  auto guard = exclusive();
  if (!guard) return guard.error();
  auto entries = read_all();
  if (!entries && !is_undecryptable(entries.error())) return entries.error();
  Entries updated = entries ? std::move(*entries) : Entries{};
  if (entries && updated.erase(key) == 0) return {};  // nothing to change
  return write_all(updated);
}

// Caller holds the lock.
Result<Entries> FileTokenStore::read_all() const {
  Fd fd(open_in(dir_fd_, kCacheFile, O_RDONLY));
  if (fd.get() < 0) {
    if (errno == ENOENT) return Entries{};
    return open_error("token cache", file_, errno);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return os_error("cannot stat", file_, errno);
  if (!S_ISREG(st.st_mode)) return cache_error("token cache " + file_.string() + " is not a file");
  std::vector<unsigned char> bytes;
  if (int err = read_to_end(fd.get(), bytes)) return os_error("cannot read", file_, err);
  std::optional<Entries> entries = detail::open_sealed_entries(bytes, key_);
  if (!entries) return cache_error(kUndecryptable);
  return std::move(*entries);
}

// Caller holds the lock. Temp file, fsync, rename, fsync dir: old or new, never torn.
Result<void> FileTokenStore::write_all(const Entries& entries) const {
  std::vector<unsigned char> bytes = detail::seal_entries(entries, key_);
  static constexpr char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string temp;
  int raw = -1;
  for (int attempt = 0; attempt < 16 && raw < 0; ++attempt) {
    temp = kTempPrefix;
    for (int i = 0; i < 6; ++i) temp += kChars[randombytes_uniform(sizeof kChars - 1)];
    raw = open_in(dir_fd_, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (raw < 0 && errno != EEXIST) break;
  }
  if (raw < 0) return os_error("cannot create a temporary file in", dir_, errno);
  Fd fd(raw);
  int err = ::fchmod(fd.get(), 0600) == 0 ? 0 : errno;
  if (!err) err = write_all_bytes(fd.get(), bytes.data(), bytes.size());
  if (!err && ::fsync(fd.get()) != 0) err = errno;
  if (!err) err = fd.close();
  if (!err && ::renameat(dir_fd_, temp.c_str(), dir_fd_, kCacheFile) != 0) err = errno;
  if (err) {
    ::unlinkat(dir_fd_, temp.c_str(), 0);
    return os_error("cannot write token cache", file_, err);
  }
  return sync_dir(dir_fd_, dir_);
}

}  // namespace stagepass::sdk
