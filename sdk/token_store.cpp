// MemoryTokenStore and FileTokenStore (see stagepass/token_store.hpp for the contract).
//
// FileTokenStore locking: every load/save/erase and every exclusive() guard goes through
// `Lock`, a recursive mutex (other threads of this process) plus flock(2) on tokens.lock
// (other processes). The flock is taken when the depth goes 0 -> 1 and dropped on 1 -> 0,
// so a thread holding exclusive() may call load/save/erase freely. A guard must be
// destroyed on the thread that took it, and before its store.
#include "stagepass/token_store.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <system_error>
#include <utility>
#include <vector>

namespace stagepass::sdk {

namespace fs = std::filesystem;
namespace json = boost::json;
using Entries = std::map<std::string, TokenSet>;

namespace {

constexpr char kMagic[4] = {'S', 'P', 'T', 'C'};
constexpr unsigned char kVersion = 1;
constexpr std::size_t kHeaderBytes = sizeof kMagic + 1 + crypto_secretbox_NONCEBYTES;
constexpr char kTempPrefix[] = "tokens.cache.";  // + 6 mkstemp characters
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
  // Closes now and reports close(2)'s errno (0 on success): a late write error shows here.
  int close() {
    int rc = ::close(std::exchange(fd_, -1));
    return rc == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

int open_retry(const char* path, int flags, mode_t mode = 0) {
  int fd;
  do fd = ::open(path, flags, mode);
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

// Makes a completed rename or create in `dir` durable.
Result<void> sync_dir(const fs::path& dir) {
  Fd fd(open_retry(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return os_error("cannot open token directory", dir, errno);
  // Some filesystems cannot fsync a directory (EINVAL); the rename itself has happened.
  if (::fsync(fd.get()) != 0 && errno != EINVAL) {
    return os_error("cannot sync token directory", dir, errno);
  }
  return {};
}

std::int64_t to_epoch_ms(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

SystemTime from_epoch_ms(std::int64_t ms) {
  return SystemTime(
      std::chrono::duration_cast<SystemTime::duration>(std::chrono::milliseconds(ms)));
}

std::string to_json(const Entries& entries) {
  json::object all;
  for (const auto& [key, t] : entries) {
    all[key] = json::object{{"access_token", t.access_token},
                            {"refresh_token", t.refresh_token},
                            {"token_type", t.token_type},
                            {"scope", t.scope},
                            {"expires_at", to_epoch_ms(t.expires_at)},
                            {"issued_at", to_epoch_ms(t.issued_at)}};
  }
  return json::serialize(json::object{{"v", 1}, {"entries", std::move(all)}});
}

// nullopt when the document is not what to_json writes.
std::optional<Entries> from_json(std::string_view text) {
  std::error_code ec;
  json::value doc = json::parse(text, ec);
  const json::object* root = ec ? nullptr : doc.if_object();
  if (!root) return std::nullopt;
  const json::value* v = root->if_contains("v");
  const json::value* all = root->if_contains("entries");
  if (!v || !v->is_int64() || v->get_int64() != 1 || !all || !all->is_object()) {
    return std::nullopt;
  }
  Entries entries;
  for (const auto& [key, value] : all->get_object()) {
    const json::object* o = value.if_object();
    if (!o) return std::nullopt;
    TokenSet t;
    const std::pair<const char*, std::string*> strings[] = {{"access_token", &t.access_token},
                                                            {"refresh_token", &t.refresh_token},
                                                            {"token_type", &t.token_type},
                                                            {"scope", &t.scope}};
    for (const auto& [name, field] : strings) {
      const json::value* s = o->if_contains(name);
      if (!s || !s->is_string()) return std::nullopt;
      *field = std::string(s->get_string());
    }
    const json::value* expires = o->if_contains("expires_at");
    if (!expires || !expires->is_int64()) return std::nullopt;
    t.expires_at = from_epoch_ms(expires->get_int64());
    if (const json::value* issued = o->if_contains("issued_at"); issued && issued->is_int64()) {
      t.issued_at = from_epoch_ms(issued->get_int64());
    }
    entries.emplace(std::string(key), std::move(t));
  }
  return entries;
}

// "SPTC" version nonce secretbox(json).
std::vector<unsigned char> seal(const Entries& entries, const std::string& key) {
  std::string plain = to_json(entries);
  std::vector<unsigned char> out(kHeaderBytes + crypto_secretbox_MACBYTES + plain.size());
  std::memcpy(out.data(), kMagic, sizeof kMagic);
  out[sizeof kMagic] = kVersion;
  unsigned char* nonce = out.data() + sizeof kMagic + 1;
  randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(out.data() + kHeaderBytes,
                        reinterpret_cast<const unsigned char*>(plain.data()), plain.size(), nonce,
                        reinterpret_cast<const unsigned char*>(key.data()));
  sodium_memzero(plain.data(), plain.size());
  return out;
}

// nullopt when `bytes` is not a cache sealed under `key`.
std::optional<Entries> open_sealed(const std::vector<unsigned char>& bytes,
                                   const std::string& key) {
  if (bytes.size() < kHeaderBytes + crypto_secretbox_MACBYTES ||
      std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0 || bytes[sizeof kMagic] != kVersion) {
    return std::nullopt;
  }
  const unsigned char* nonce = bytes.data() + sizeof kMagic + 1;
  std::string plain(bytes.size() - kHeaderBytes - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()),
                                 bytes.data() + kHeaderBytes, bytes.size() - kHeaderBytes, nonce,
                                 reinterpret_cast<const unsigned char*>(key.data())) != 0) {
    return std::nullopt;
  }
  std::optional<Entries> entries = from_json(plain);
  sodium_memzero(plain.data(), plain.size());
  return entries;
}

bool is_undecryptable(const Error& e) { return e.message == kUndecryptable; }

// Reads the key from `path` (mode checked), creating it first if it does not exist.
// The caller holds the flock of tokens.lock, so concurrent creators agree on one key.
Result<std::string> read_or_create_key(const fs::path& dir, const fs::path& path) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    Fd fd(open_retry(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() >= 0) {
      struct stat st;
      if (::fstat(fd.get(), &st) != 0) return os_error("cannot stat key file", path, errno);
      if (!S_ISREG(st.st_mode)) return cache_error("key file " + path.string() + " is not a file");
      if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        return cache_error("key file " + path.string() + " has mode " + mode +
                           ", which lets other users read it; run `chmod 600` on it");
      }
      // A crash between creating and writing the key leaves it empty; nothing can have been
      // sealed under it (the creator held the lock), so make a new one.
      if (st.st_size == 0) {
        if (::unlink(path.c_str()) != 0) return os_error("cannot remove key file", path, errno);
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
    if (errno != ENOENT) return os_error("cannot open key file", path, errno);

    Fd out(open_retry(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
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
      ::unlink(path.c_str());
      return os_error("cannot write key file", path, err);
    }
    if (auto synced = sync_dir(dir); !synced) return synced.error();
    return key;
  }
  return cache_error("key file " + path.string() + " keeps changing; try again");
}

// Removes temporary files a crashed writer left. The caller holds the flock, so no live
// writer owns one.
void remove_stale_temps(const fs::path& dir) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.size() == sizeof kTempPrefix - 1 + 6 && name.starts_with(kTempPrefix)) {
      fs::remove(it->path(), ec);
      ec.clear();
    }
  }
}

}  // namespace

// ---- MemoryTokenStore ----

namespace {
class MemoryGuard final : public TokenStore::Guard {
 public:
  explicit MemoryGuard(std::recursive_mutex& mu) : lock_(mu) {}

 private:
  std::unique_lock<std::recursive_mutex> lock_;
};
}  // namespace

Result<std::optional<TokenSet>> MemoryTokenStore::load(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::optional<TokenSet>();
  return std::optional<TokenSet>(it->second);
}

Result<void> MemoryTokenStore::save(const std::string& key, const TokenSet& tokens) {
  std::lock_guard lock(mu_);
  entries_[key] = tokens;
  return {};
}

Result<void> MemoryTokenStore::erase(const std::string& key) {
  std::lock_guard lock(mu_);
  entries_.erase(key);
  return {};
}

Result<std::unique_ptr<TokenStore::Guard>> MemoryTokenStore::exclusive() {
  return std::unique_ptr<Guard>(std::make_unique<MemoryGuard>(mu_));
}

// ---- FileTokenStore ----

struct FileTokenStore::Lock {
  std::recursive_mutex mu;
  int depth = 0;  // acquisitions held by the owning thread
  int fd = -1;    // tokens.lock, flock'ed while depth > 0

  Result<void> acquire(const fs::path& lock_file) {
    mu.lock();
    if (depth == 0) {
      fd = open_retry(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      if (fd < 0) {
        int err = errno;
        mu.unlock();
        return os_error("cannot open lock file", lock_file, err);
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

Result<std::unique_ptr<FileTokenStore>> FileTokenStore::open(const fs::path& dir) {
  if (dir.empty()) return cache_error("no token directory (set STAGEPASS_CONFIG_DIR or HOME)");
  if (sodium_init() < 0) return cache_error("libsodium cannot be initialised");
  std::error_code ec;
  if (fs::create_directories(dir, ec)) {
    if (::chmod(dir.c_str(), 0700) != 0) return os_error("cannot chmod", dir, errno);
  } else if (ec) {
    return os_error("cannot create token directory", dir, ec.value());
  }

  Lock lock;
  if (auto held = lock.acquire(dir / "tokens.lock"); !held) return held.error();
  Result<std::string> key = read_or_create_key(dir, dir / "tokens.key");
  if (key) remove_stale_temps(dir);
  lock.release();
  if (!key) return key.error();
  return std::unique_ptr<FileTokenStore>(new FileTokenStore(dir, std::move(*key)));
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

FileTokenStore::FileTokenStore(fs::path dir, std::string key)
    : dir_(std::move(dir)),
      file_(dir_ / "tokens.cache"),
      lock_file_(dir_ / "tokens.lock"),
      key_(std::move(key)),
      lock_(std::make_unique<Lock>()) {}

FileTokenStore::~FileTokenStore() { sodium_memzero(key_.data(), key_.size()); }

Result<std::unique_ptr<TokenStore::Guard>> FileTokenStore::exclusive() {
  if (auto held = lock_->acquire(lock_file_); !held) return held.error();
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
  Fd fd(open_retry(file_.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return Entries{};
    return os_error("cannot open token cache", file_, errno);
  }
  std::vector<unsigned char> bytes;
  if (int err = read_to_end(fd.get(), bytes)) return os_error("cannot read", file_, err);
  std::optional<Entries> entries = open_sealed(bytes, key_);
  if (!entries) return cache_error(kUndecryptable);
  return std::move(*entries);
}

// Caller holds the lock. Temp file, fsync, rename, fsync dir: old or new, never torn.
Result<void> FileTokenStore::write_all(const Entries& entries) const {
  std::vector<unsigned char> bytes = seal(entries, key_);
  std::string temp = (dir_ / (std::string(kTempPrefix) + "XXXXXX")).string();
  Fd fd(::mkostemp(temp.data(), O_CLOEXEC));
  if (fd.get() < 0) return os_error("cannot create a temporary file in", dir_, errno);
  int err = ::fchmod(fd.get(), 0600) == 0 ? 0 : errno;
  if (!err) err = write_all_bytes(fd.get(), bytes.data(), bytes.size());
  if (!err && ::fsync(fd.get()) != 0) err = errno;
  if (!err) err = fd.close();
  if (!err && ::rename(temp.c_str(), file_.c_str()) != 0) err = errno;
  if (err) {
    ::unlink(temp.c_str());
    return os_error("cannot write token cache", file_, err);
  }
  return sync_dir(dir_);
}

}  // namespace stagepass::sdk
