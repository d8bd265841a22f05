// For the PostgreSQL tests: a database of their own on the server scripts/pg-test-server.sh
// runs (STAGEPASS_TEST_POSTGRESQL), dropped at the end, and the admin connection that made it.
#pragma once

#include <cctype>
#include <cstdlib>
#include <memory>
#include <string>

#include "core/random.hpp"
#include "store/postgresql/pg_connection.hpp"

namespace stagepass::postgresql::testing {

// The test server's URL, and its hot standby's (pg-test-server.sh run --standby); empty when
// none is exported: the test then skips, unless postgresql_required().
inline std::string test_server_url() {
  const char* url = std::getenv("STAGEPASS_TEST_POSTGRESQL");
  return url == nullptr ? std::string() : std::string(url);
}
inline std::string test_replica_url() {
  const char* url = std::getenv("STAGEPASS_TEST_POSTGRESQL_REPLICA");
  return url == nullptr ? std::string() : std::string(url);
}
// STAGEPASS_REQUIRE_POSTGRESQL=1 (.ci/run sets it): a test that needs the server fails
// instead of skipping when none is exported, so a CI without PostgreSQL cannot pass silently.
inline bool postgresql_required() {
  const char* v = std::getenv("STAGEPASS_REQUIRE_POSTGRESQL");
  return v != nullptr && std::string(v) == "1";
}
// For SetUp(): skips (or fails, when required) a test with no server to run against.
#define STAGEPASS_PG_SKIP_UNLESS(present, what)                                              \
  do {                                                                                       \
    if (!(present)) {                                                                        \
      if (::stagepass::postgresql::testing::postgresql_required())                           \
        GTEST_FAIL() << "STAGEPASS_REQUIRE_POSTGRESQL=1 but " << what << " is not exported"; \
      GTEST_SKIP() << "set " << what << " to run (scripts/pg-test-server.sh)";               \
    }                                                                                        \
  } while (0)

class TempPgDatabase {
 public:
  TempPgDatabase() = default;
  TempPgDatabase(const TempPgDatabase&) = delete;
  TempPgDatabase& operator=(const TempPgDatabase&) = delete;
  ~TempPgDatabase() {
    if (admin) (void)admin->exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
  }
  // Connects to `server_url` and creates a database named `prefix` + a random suffix.
  Status<> create(const std::string& server_url, const std::string& prefix) {
    url = server_url;
    auto c = PgConnection::connect(url);
    if (!c) return fail(std::move(c.error()));
    std::string id = SystemRandom().id22();
    for (auto& ch : id) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    auto made = (*c)->exec("CREATE DATABASE " + prefix + id);
    if (!made) return made;
    admin = std::move(*c);
    name = prefix + id;
    return Ok{};
  }

  std::string url;   // the server
  std::string name;  // the database made
  std::unique_ptr<PgConnection> admin;
};

}  // namespace stagepass::postgresql::testing
