#include "store/conformance/store_backends.hpp"

namespace stagepass::conformance {

std::vector<StoreBackend> store_backends() {
  std::vector<StoreBackend> all;
  all.push_back({"sqlite", "", [](const std::string&) { return make_sqlite_instance(); }});
  all.push_back({"postgresql", "STAGEPASS_TEST_POSTGRESQL", make_postgresql_instance, kAllRoles});
  return all;
}

std::vector<StoreBackend> store_backends_providing(Roles needed) {
  needed |= kFixtureRoles;
  std::vector<StoreBackend> out;
  for (auto& b : store_backends()) {
    if ((b.roles & needed) == needed) out.push_back(std::move(b));
  }
  return out;
}

}  // namespace stagepass::conformance
