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

// The test server's URL, empty when none is exported (the test then skips).
inline std::string test_server_url(const char* variable = "STAGEPASS_TEST_POSTGRESQL") {
  const char* url = std::getenv(variable);
  return url == nullptr ? std::string() : std::string(url);
}

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
