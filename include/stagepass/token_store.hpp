// TokenStore: where the SDK keeps tokens between calls and between runs.
//
// Entries are keyed by a string the Client chooses (issuer + client id + flow), so one
// store can hold tokens for several servers and apps. Apps that bring their own storage
// (a database row, the platform keychain) implement this interface.
//
// Thread safety: every implementation must be safe to call from many threads at once.
// `exclusive()` returns a guard that keeps other threads — and, for stores shared between
// processes, other processes — from changing the store until it is destroyed; load/save/
// erase called by the guard's owner thread while it is held do not block on it. The Client
// holds it around a refresh so that two processes never spend the same refresh token
// (which a server with reuse detection would treat as theft).
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "stagepass/result.hpp"
#include "stagepass/tokens.hpp"

namespace stagepass::sdk {

class TokenStore {
 public:
  class Guard {
   public:
    virtual ~Guard() = default;
  };

  virtual ~TokenStore() = default;
  // The entry under `key`, or nullopt when there is none.
  virtual Result<std::optional<TokenSet>> load(const std::string& key) = 0;
  virtual Result<void> save(const std::string& key, const TokenSet& tokens) = 0;
  // Removes the entry; removing an absent entry succeeds.
  virtual Result<void> erase(const std::string& key) = 0;
  // Holds off other writers (see above) until the returned guard is destroyed.
  virtual Result<std::unique_ptr<Guard>> exclusive() = 0;
};

// Keeps tokens in this process only: gone when it exits.
class MemoryTokenStore final : public TokenStore {
 public:
  Result<std::optional<TokenSet>> load(const std::string& key) override;
  Result<void> save(const std::string& key, const TokenSet& tokens) override;
  Result<void> erase(const std::string& key) override;
  Result<std::unique_ptr<Guard>> exclusive() override;

 private:
  std::recursive_mutex mu_;
  std::map<std::string, TokenSet> entries_;
};

// Where FileTokenStore keeps the 32-byte key its cache is encrypted with.
enum class KeyStorage {
  // tokens.key when it exists; else the OS keyring when one answers without asking the
  // user anything; else a new tokens.key.
  automatic,
  // Only the OS keyring: open() fails (kind `cache`) when none is usable, or when a
  // tokens.key already holds the key.
  keyring,
  // Only tokens.key; the keyring is never contacted.
  key_file,
};

// Keeps tokens in one file, encrypted at rest with libsodium's secretbox
// (XSalsa20-Poly1305) under a random 32-byte key kept in the OS keyring or in a key file.
//
// Layout in `dir`, which must belong to the user running the process (open() refuses a
// directory owned by anyone else) and is set to mode 0700 on every open(), even when it
// existed with a looser mode. A missing `dir` is created with mode 0700 (its missing parents
// with the usual mode). `dir` itself may not be a symbolic link (refused; links among its
// parents are followed). open() keeps the directory open and the store opens, creates and
// renames its files relative to it, so replacing `dir` afterwards changes nothing:
//   tokens.key    the key, mode 0600, when it is not in the keyring (see below)
//   tokens.cache  "SPTC" version nonce ciphertext, mode 0600
//   tokens.lock   an empty file whose flock(2) serialises writers across processes
// These files are opened without following symbolic links (a link is refused) and without
// blocking (a FIFO or device in their place is refused, not waited on); they must be regular
// files, and the key and lock files must belong to the user.
// A write goes to a temporary file in the same directory, is fsync'ed, then renamed over
// tokens.cache: a crash mid-write leaves the old or the new content, never a torn file.
// Readers never see partial content for the same reason. A cache that cannot be decrypted
// (another key, damage) reads as a `cache` error; the next save replaces it.
//
// The key, chosen by open() under the flock of tokens.lock (KeyStorage::automatic):
//  1. tokens.key exists: it is the key (an existing key file is never moved to the keyring).
//  2. Else, when an OS keyring answers — the freedesktop Secret Service on the D-Bus session
//     bus (GNOME Keyring, KeePassXC, ...), tried only when DBUS_SESSION_BUS_ADDRESS is set
//     and STAGEPASS_KEYRING is not "off" — the key is its entry with schema
//     "dev.stagepass.TokenCacheKey" and attribute directory=<canonical absolute dir>
//     (`secret-tool search directory <dir>` shows it), created in the default collection on
//     first use. No key file is written then.
//  3. Else a new random tokens.key.
// The keyring is never allowed to prompt (a locked or missing default collection counts as
// no keyring) and gets 5 seconds in all; failing that, step 3 happens silently. An entry
// that exists but is not a base64 32-byte key is an error, not a reason to start over.
// Removing the keyring entry, like removing tokens.key, makes the cache unreadable.
//
// open() talks to the keyring through GLib, which starts a D-Bus thread and keeps a session
// bus connection for the rest of the process; a process forked after that cannot use the
// keyring (open() fails there unless the key is in tokens.key or KeyStorage::key_file).
class FileTokenStore final : public TokenStore {
 public:
  // Fails (kind `cache`) when the directory or key cannot be created or read, when the
  // directory, the key file or the lock file belongs to another user, when the directory,
  // the key or the lock file is a symbolic link or the key or lock file is not a regular
  // file, when an existing key file is readable by others than its owner, when the keyring
  // holds a malformed entry for `dir`, or when `storage` demands a keyring that is not usable.
  static Result<std::unique_ptr<FileTokenStore>> open(const std::filesystem::path& dir,
                                                      KeyStorage storage = KeyStorage::automatic);
  // $STAGEPASS_CONFIG_DIR, else $XDG_CONFIG_HOME/stagepass, else ~/.config/stagepass.
  static std::filesystem::path default_dir();
  ~FileTokenStore() override;

  Result<std::optional<TokenSet>> load(const std::string& key) override;
  Result<void> save(const std::string& key, const TokenSet& tokens) override;
  Result<void> erase(const std::string& key) override;
  Result<std::unique_ptr<Guard>> exclusive() override;

  const std::filesystem::path& path() const { return file_; }
  // True when the key lives in the OS keyring, false when in tokens.key.
  bool key_in_keyring() const { return key_in_keyring_; }

 private:
  struct Lock;
  class FileGuard;
  FileTokenStore(std::filesystem::path dir, int dir_fd, std::string key, bool key_in_keyring);
  Result<std::map<std::string, TokenSet>> read_all() const;
  Result<void> write_all(const std::map<std::string, TokenSet>& entries) const;

  std::filesystem::path dir_, file_, lock_file_;  // for messages; files are opened via dir_fd_
  int dir_fd_;       // the directory open() checked, held open; closed on destruction
  std::string key_;  // 32 bytes; wiped on destruction
  bool key_in_keyring_ = false;
  std::unique_ptr<Lock> lock_;
};

}  // namespace stagepass::sdk
