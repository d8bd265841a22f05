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

// Keeps tokens in one file, encrypted at rest with libsodium's secretbox
// (XSalsa20-Poly1305) under a 32-byte key read from a key file beside it.
//
// Layout in `dir` (created with mode 0700 if missing):
//   tokens.key    the random key, mode 0600, created on first use
//   tokens.cache  "SPTC" version nonce ciphertext, mode 0600
//   tokens.lock   an empty file whose flock(2) serialises writers across processes
// A write goes to a temporary file in the same directory, is fsync'ed, then renamed over
// tokens.cache: a crash mid-write leaves the old or the new content, never a torn file.
// Readers never see partial content for the same reason. A cache that cannot be decrypted
// (another key, damage) reads as a `cache` error; the next save replaces it.
class FileTokenStore final : public TokenStore {
 public:
  // Fails (kind `cache`) when the directory or key cannot be created or read, or when an
  // existing key file is readable by others than its owner.
  static Result<std::unique_ptr<FileTokenStore>> open(const std::filesystem::path& dir);
  // $STAGEPASS_CONFIG_DIR, else $XDG_CONFIG_HOME/stagepass, else ~/.config/stagepass.
  static std::filesystem::path default_dir();
  ~FileTokenStore() override;

  Result<std::optional<TokenSet>> load(const std::string& key) override;
  Result<void> save(const std::string& key, const TokenSet& tokens) override;
  Result<void> erase(const std::string& key) override;
  Result<std::unique_ptr<Guard>> exclusive() override;

  const std::filesystem::path& path() const { return file_; }

 private:
  struct Lock;
  class FileGuard;
  FileTokenStore(std::filesystem::path dir, std::string key);
  Result<std::map<std::string, TokenSet>> read_all() const;
  Result<void> write_all(const std::map<std::string, TokenSet>& entries) const;

  std::filesystem::path dir_, file_, lock_file_;
  std::string key_;  // 32 bytes; wiped on destruction
  std::unique_ptr<Lock> lock_;
};

}  // namespace stagepass::sdk
