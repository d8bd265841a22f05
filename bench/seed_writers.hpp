// stagepass-bench-seed's writers (bench/seed_tokens.cpp): where the seeded rows go, in the
// accounts store's own column layout, batched in transactions, on SQLite or PostgreSQL
// (whichever STAGEPASS_DATABASE names), with the people's Web API profiles in the music
// database. Bench tool only: the server never writes rows this way.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "domain/models.hpp"

namespace stagepass::bench {

class ProfileWriter;

// Where the seeded rows go, in transactions of `batch` rows: users (and their profiles),
// grants, refresh tokens, codes, in the accounts store's column layout (the backends below).
class Writer {
 public:
  Writer(const std::string& music_path, bool profiles, int64_t batch);
  virtual ~Writer();
  void user(const User& u);
  void grant(const Grant& g) {
    add_grant(g);
    row();
  }
  void refresh(const RefreshToken& t) {
    add_refresh(t);
    row();
  }
  void code(const AuthorizationCode& c) {
    add_code(c);
    row();
  }
  // Commits what is open (accounts first: a profile without its user is harmless, the
  // reverse would answer 404 on /v1/me).
  void commit();

 protected:
  virtual void add_user(const User& u) = 0;
  virtual void add_grant(const Grant& g) = 0;
  virtual void add_refresh(const RefreshToken& t) = 0;
  virtual void add_code(const AuthorizationCode& c) = 0;
  virtual void commit_accounts() = 0;

 private:
  void row() {
    if (++pending_ >= batch_) commit();
  }

  std::unique_ptr<ProfileWriter> music_;  // null without profiles
  int64_t batch_;
  int64_t pending_ = 0;
};

// The writer for `database` (a SQLite path or a postgresql:// URL). `cache_mib`: SQLite's
// page cache.
std::unique_ptr<Writer> make_writer(const std::string& database, const std::string& music_path,
                                    int64_t batch, bool profiles, int64_t cache_mib);

}  // namespace stagepass::bench
