// For unit tests: a SqliteStore on a fresh file in a temporary directory, removed with it.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "core/random.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace stagepass::sqlite {

class TempSqliteStore {
 public:
  explicit TempSqliteStore(const std::string& prefix, int readers = 1)
      : dir_(std::filesystem::temp_directory_path() / (prefix + SystemRandom().id22())),
        store_(std::make_unique<SqliteStore>((dir_ / "db.sqlite").string(), readers)) {}
  ~TempSqliteStore() {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  TempSqliteStore(const TempSqliteStore&) = delete;
  TempSqliteStore& operator=(const TempSqliteStore&) = delete;

  SqliteStore& operator*() { return *store_; }
  // The database file (for a Connection of its own).
  std::string path() const { return (dir_ / "db.sqlite").string(); }
  SqliteStore* operator->() { return store_.get(); }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<SqliteStore> store_;
};

}  // namespace stagepass::sqlite
