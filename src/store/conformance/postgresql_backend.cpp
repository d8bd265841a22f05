// The PostgreSQL backend of the conformance suite: each case gets a database of its own on the
// server named by STAGEPASS_TEST_POSTGRESQL (scripts/pg-test-server.sh), empty and fully
// migrated, which no other case uses while it runs.
//
// Cheaply (ctest runs every case in a process of its own, several at once; making a database
// and running the migrations' DDL cost each case about a second): the first case builds a
// template database, migrated once per server and set of migrations (its name carries a
// digest of every migration's text), under an advisory lock, under a temporary name renamed
// when complete, its connection closed (a database being copied must have no other
// connection; a failed build leaves no template behind). Cases then use "slots": databases
// copied from the template once, each claimed by one case at a time (a session advisory lock
// on the case's admin connection) and emptied by the case that claims it (every table, the
// identities restarted), so a slot is reused without being made or dropped again.
//
// PgStore provides every role, so every suite runs on it.
#include <ctime>
#include <stdexcept>
#include <string>
#include <string_view>

#include "crypto/crypto.hpp"
#include "store/conformance/store_backends.hpp"
#include "store/postgresql/pg_connection.hpp"
#include "store/postgresql/pg_migrations.hpp"
#include "store/postgresql/pg_schema.hpp"
#include "store/postgresql/pg_store.hpp"

namespace stagepass::conformance {

namespace {

// "sp-tmpl!" in ASCII: the lock held while a process looks for the template and builds it.
constexpr int64_t kTemplateLock = 0x73702d746d706c21;

// Throws the error of a failed Status or Result (a backend that fails throws: store_backends.hpp).
template <class R>
void check(const R& r) {
  if (!r) throw std::runtime_error(r.error().message);
}

// The template's name for this build's migrations.
std::string template_name() {
  std::string all;
  for (std::string_view m : postgresql::schema_migrations()) {
    all.append(m);
    all.push_back('\0');
  }
  const std::string digest = crypto::sha256(all);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string name = "sp_conformance_tmpl_";
  for (size_t i = 0; i < 8; ++i) {
    const auto byte = static_cast<unsigned char>(digest[i]);
    name += kHex[byte >> 4];
    name += kHex[byte & 0xf];
  }
  return name;
}

// Makes sure the migrated template exists on the server of `admin` (a connection to another
// database of it); returns its name.
std::string ensure_template(postgresql::PgConnection& admin, const std::string& url) {
  const std::string name = template_name();
  const std::string lock = std::to_string(kTemplateLock);
  check(admin.query("SELECT pg_advisory_lock($1)", {lock}));
  auto found = admin.query("SELECT 1 FROM pg_database WHERE datname = $1", {name});
  check(found);
  if (found->rows() == 0) {
    const std::string building = name + "_build";  // a crashed build's leftover goes first
    check(admin.exec("DROP DATABASE IF EXISTS " + building + " WITH (FORCE)"));
    check(admin.exec("CREATE DATABASE " + building));
    {
      auto db = postgresql::PgConnection::connect(url, building);
      check(db);
      auto applied = postgresql::migrate(**db, postgresql::schema_migrations(),
                                         static_cast<int64_t>(std::time(nullptr)));
      check(applied);
    }  // closed: a database being renamed or copied must have no other connection
    check(admin.exec("ALTER DATABASE " + building + " RENAME TO " + name));
  }
  check(admin.query("SELECT pg_advisory_unlock($1)", {lock}));
  return name;
}

// Slot i's lock key is kSlotLock + i ("sp-slot" in ASCII, then i): held by the admin
// connection of the case using the slot, so a slot serves one case at a time.
constexpr int64_t kSlotLock = 0x73702d736c6f7400;
constexpr int kMaxSlots = 64;  // more than ctest ever runs at once

// Empties slot database `name` (every table but schema_migrations; identities restart), so it
// is as the template left it. One transaction; replica mode skips the foreign keys and
// triggers, as every table is emptied (the test server's role is a superuser).
void empty_slot(const std::string& url, const std::string& name) {
  auto db = postgresql::PgConnection::connect(url, name);
  check(db);
  check((*db)->exec(R"sql(
BEGIN;
SET LOCAL session_replication_role = replica;
DO $$
DECLARE t text; q record;
BEGIN
  FOR t IN SELECT tablename FROM pg_tables
           WHERE schemaname = 'public' AND tablename <> 'schema_migrations' LOOP
    EXECUTE format('DELETE FROM %I', t);
  END LOOP;
  FOR q IN SELECT schemaname, sequencename, start_value FROM pg_sequences
           WHERE schemaname = 'public' LOOP
    PERFORM setval(format('%I.%I', q.schemaname, q.sequencename), q.start_value, false);
  END LOOP;
END $$;
COMMIT;
)sql"));
}

// Claims a free slot (a database copied from `tmpl` once, then reused by case after case) and
// returns its name, emptied. The claim lasts as long as `admin` stays open.
std::string claim_slot(postgresql::PgConnection& admin, const std::string& url,
                       const std::string& tmpl) {
  for (int i = 0; i < kMaxSlots; ++i) {
    auto got = admin.query("SELECT pg_try_advisory_lock($1)", {std::to_string(kSlotLock + i)});
    check(got);
    if (got->text(0, 0) != "t") continue;  // another case has it
    const std::string name = tmpl + "_slot" + std::to_string(i);
    auto found = admin.query("SELECT 1 FROM pg_database WHERE datname = $1", {name});
    check(found);
    if (found->rows() == 0) {
      check(admin.exec("CREATE DATABASE " + name + " TEMPLATE " + tmpl));  // empty already
    } else {
      empty_slot(url, name);  // what the case before left (even if it crashed)
    }
    return name;
  }
  throw std::runtime_error("postgresql: every conformance slot is taken");
}

class PostgresqlInstance final : public BackendInstance {
 public:
  explicit PostgresqlInstance(std::string url) : url_(std::move(url)) {
    auto admin = postgresql::PgConnection::connect(url_);
    if (!admin) throw std::runtime_error(admin.error().message);
    admin_ = std::move(*admin);
    db_ = claim_slot(*admin_, url_, ensure_template(*admin_, url_));
    store_ = open();
  }
  // Closing the admin connection ends the claim on the slot (its data stays until the next
  // case empties it; the throw-away server goes with it all).
  ~PostgresqlInstance() override { store_.reset(); }
  Store& store() override { return *store_; }
  std::unique_ptr<Store> open_another() override { return open(); }
  void reopen() override {
    store_.reset();
    store_ = open();
  }

 private:
  // Four connections: enough for the concurrent cases to race inside the database.
  std::unique_ptr<Store> open() {
    auto store = std::make_unique<postgresql::PgStore>(
        postgresql::PgStore::Options{url_, db_, 4, std::chrono::milliseconds(5000), ""});
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
