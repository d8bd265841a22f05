// The store conformance suite's one seam: the list of backends every conformance case runs
// against (src/store/conformance/*_conformance_test.cpp), and how a case gets a fresh, empty
// store of each.
//
// Adding a backend (e.g. PostgreSQL):
//  1. write a BackendInstance for it in a file of its own here (sqlite_backend.cpp is the
//     model): the constructor makes a fresh, empty store (for a server: a database of its own,
//     dropped by the destructor), open_another() a second handle on the same data as another
//     node would open it, reopen() a restart;
//  2. append one StoreBackend to store_backends() (store_backends.cpp), with `required_env`
//     naming the variable that carries its server's URL (STAGEPASS_TEST_POSTGRESQL, exported
//     by scripts/pg-test-server.sh): while it is unset, every case of that backend is skipped
//     with a message saying so, and the suite stays green;
//  3. link its library into store_conformance_test (CMakeLists.txt here).
// Nothing else changes: every case is written against the role interfaces (store.hpp) only.
//
// A backend built role by role: its StoreBackend lists in `roles` the roles it provides so
// far. Each suite names the roles its cases (and the fixture's SetUp: users, clients, grants)
// use, in STAGEPASS_CONFORMANCE_SUITE; a suite is instantiated only for the backends that
// provide all of them, so the suites of roles a backend lacks do not exist for it (no
// skipped or failing cases: they are simply not there; the test list says which ran). The
// Store such a backend hands out answers the methods of its missing roles with kIo; no case
// reaches them. A backend ships (is selectable by configuration) only once it provides every
// role.
// Cases that need a backend's internals (files, pragmas, migrations, SQL) belong in that
// backend's own tests (src/store/sqlite/sqlite_store_test.cpp).
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace stagepass::conformance {

// One fresh store for one test case. Not thread-safe itself; store() is (store.hpp).
class BackendInstance {
 public:
  virtual ~BackendInstance() = default;
  virtual Store& store() = 0;
  // A second, independent handle on the same data, as another process (`stagepass admin`)
  // or another node opens it: what it writes, store() must see.
  virtual std::unique_ptr<Store> open_another() = 0;
  // Closes store() and opens the same data again (a restart); store() is the new handle.
  virtual void reopen() = 0;
};

// The roles of store.hpp, as bits of a set.
enum Role : unsigned {
  kUsers = 1u << 0,
  kClients = 1u << 1,
  kGrants = 1u << 2,
  kCodes = 1u << 3,
  kRefreshTokens = 1u << 4,
  kSessions = 1u << 5,
  kEvents = 1u << 6,
  kKeys = 1u << 7,
  kRevocationLog = 1u << 8,
  kUsage = 1u << 9,
};
using Roles = unsigned;
inline constexpr Roles kAllRoles = (1u << 10) - 1;
// What StoreConformance::SetUp itself uses (a person, an app, a grant): every suite needs it.
inline constexpr Roles kFixtureRoles = kUsers | kClients | kGrants;

struct StoreBackend {
  std::string name;  // a C identifier: part of the test names (Backends/UsersConformance.X/sqlite)
  // Empty: always available. Else the environment variable that must be set (to the server's
  // URL) for this backend's cases to run; they are skipped while it is unset.
  std::string required_env;
  // A fresh, empty store, with its migrations applied. Throws when the backend fails.
  std::function<std::unique_ptr<BackendInstance>(const std::string& url)> make;
  // The roles this backend provides (kAllRoles once it is complete).
  Roles roles = kAllRoles;
};

// Every backend, in order. The only place a backend is named.
std::vector<StoreBackend> store_backends();
// The backends that provide every role of `needed` (and kFixtureRoles), in order.
std::vector<StoreBackend> store_backends_providing(Roles needed);

// For GoogleTest's parameter printing.
inline std::ostream& operator<<(std::ostream& os, const StoreBackend& b) { return os << b.name; }

// Backend-specific factories (one file each).
std::unique_ptr<BackendInstance> make_sqlite_instance();
std::unique_ptr<BackendInstance> make_postgresql_instance(const std::string& url);

}  // namespace stagepass::conformance
