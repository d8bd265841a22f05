// The PostgreSQL backend of the conformance suite: a database of its own per test, created on
// the server named by STAGEPASS_TEST_POSTGRESQL (scripts/pg-test-server.sh) and dropped at the
// end.
//
// PgStore provides some roles so far (pg_store.hpp; kPostgresqlRoles below): the suites of
// the others are not instantiated for it (store_backends.hpp). This test-only subclass
// answers the methods of the missing roles with kIo so it can be instantiated; no case calls
// them, and nothing outside this test can construct a PgStore for a user.
#include <cctype>
#include <ctime>
#include <stdexcept>

#include "core/random.hpp"
#include "store/conformance/store_backends.hpp"
#include "store/postgresql/pg_connection.hpp"
#include "store/postgresql/pg_store.hpp"

namespace stagepass::conformance {

const Roles kPostgresqlRoles =
    kUsers | kClients | kGrants | kSessions | kRevocationLog | kCodes | kRefreshTokens;

namespace {

Error missing() { return {ErrorCode::kIo, "postgresql: this role is not provided yet (issue 16)"}; }

class PgConformanceStore final : public postgresql::PgStore {
 public:
  using PgStore::PgStore;
  Status<> record_event(const AuditEvent&) override { return fail(missing()); }
  Result<std::vector<AuditEvent>> user_events(const std::string&, int64_t, int) override {
    return fail(missing());
  }
  Result<std::vector<AuditEvent>> events_since(int64_t, int) override { return fail(missing()); }
  Result<std::vector<SigningKey>> list_signing_keys() override { return fail(missing()); }
  Status<> save_signing_key(const SigningKey&) override { return fail(missing()); }
  Status<> add_next_signing_key(const SigningKey&, int64_t, int64_t) override {
    return fail(missing());
  }
  Result<int64_t> delete_retired_signing_keys(int64_t) override { return fail(missing()); }
  Status<> save_usage(const std::vector<AppUsageRow>&, int64_t, int64_t) override {
    return fail(missing());
  }
  Result<std::vector<AppUsageRow>> load_usage(int64_t) override { return fail(missing()); }
  Status<> record_app_warning(const AppWarning&) override { return fail(missing()); }
  Result<std::vector<AppUsageRow>> load_app_usage(const std::string&, int64_t) override {
    return fail(missing());
  }
  Result<std::vector<AppWarning>> app_warnings(const std::string&, int) override {
    return fail(missing());
  }
};

class PostgresqlInstance final : public BackendInstance {
 public:
  explicit PostgresqlInstance(std::string url) : url_(std::move(url)) {
    auto admin = postgresql::PgConnection::connect(url_);
    if (!admin) throw std::runtime_error(admin.error().message);
    admin_ = std::move(*admin);
    std::string id = SystemRandom().id22();
    for (auto& ch : id) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    db_ = "sp_conformance_" + id;
    if (auto s = admin_->exec("CREATE DATABASE " + db_); !s) {
      throw std::runtime_error(s.error().message);
    }
    store_ = open();
  }
  ~PostgresqlInstance() override {
    store_.reset();
    (void)admin_->exec("DROP DATABASE IF EXISTS " + db_ + " WITH (FORCE)");
  }
  Store& store() override { return *store_; }
  std::unique_ptr<Store> open_another() override { return open(); }
  void reopen() override {
    store_.reset();
    store_ = open();
  }

 private:
  // Four connections: enough for the concurrent cases to race inside the database.
  std::unique_ptr<Store> open() {
    auto store = std::make_unique<PgConformanceStore>(
        postgresql::PgStore::Options{url_, db_, 4, std::chrono::milliseconds(5000)});
    if (auto s = store->open(static_cast<int64_t>(std::time(nullptr))); !s) {
      throw std::runtime_error(s.error().message);
    }
    return store;
  }

  std::string url_, db_;
  std::unique_ptr<postgresql::PgConnection> admin_;
  std::unique_ptr<Store> store_;
};

}  // namespace

std::unique_ptr<BackendInstance> make_postgresql_instance(const std::string& url) {
  return std::make_unique<PostgresqlInstance>(url);
}

}  // namespace stagepass::conformance
