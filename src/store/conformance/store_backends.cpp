#include "store/conformance/store_backends.hpp"

namespace stagepass::conformance {

std::vector<StoreBackend> store_backends() {
  std::vector<StoreBackend> all;
  all.push_back({"sqlite", "", [](const std::string&) { return make_sqlite_instance(); }});
  // The PostgreSQL store appends its entry here:
  //   {"postgresql", "STAGEPASS_TEST_POSTGRESQL", make_postgresql_instance}
  return all;
}

}  // namespace stagepass::conformance
