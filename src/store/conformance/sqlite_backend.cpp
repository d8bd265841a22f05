// The SQLite backend of the conformance suite: a fresh file in a temporary directory per test.
#include <filesystem>

#include "core/random.hpp"
#include "store/conformance/store_backends.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace stagepass::conformance {
namespace {

class SqliteInstance final : public BackendInstance {
 public:
  SqliteInstance()
      : dir_(std::filesystem::temp_directory_path() / ("sp-conformance-" + SystemRandom().id22())),
        store_(open()) {}
  ~SqliteInstance() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  Store& store() override { return *store_; }
  std::unique_ptr<Store> open_another() override { return open(1); }
  void reopen() override {
    store_.reset();
    store_ = open();
  }

 private:
  // Two readers: the server's smallest pool, so concurrent cases also exercise the readers.
  std::unique_ptr<Store> open(int readers = 2) {
    return std::make_unique<sqlite::SqliteStore>((dir_ / "db.sqlite").string(), readers);
  }
  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
};

}  // namespace

std::unique_ptr<BackendInstance> make_sqlite_instance() {
  return std::make_unique<SqliteInstance>();
}

}  // namespace stagepass::conformance
