// Harness: scope parsing and set algebra (domain/scope), RFC 6749 §3.3.
//
// Input: "<scope A>\n<scope B>" (space-separated lists as clients send them; B optional).
// Invariants: a parsed set is sorted, unique, without empty names or spaces; parse(str()) is
// the identity; first_unknown() names exactly the first name outside the catalog; the set
// algebra holds (A∩B ⊆ A ⊆ A∪B, A ⊆ B ⇔ A∩B = A, contains() agrees with names()).
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "domain/scope.hpp"
#include "fuzz_check.hpp"

using namespace stagepass;

namespace {

void check_set(const ScopeSet& s, std::string_view in) {
  const auto& names = s.names();
  FUZZ_CHECK(std::is_sorted(names.begin(), names.end()), in);
  FUZZ_CHECK(std::adjacent_find(names.begin(), names.end()) == names.end(), in);
  FUZZ_CHECK(s.empty() == names.empty(), in);
  std::optional<std::string> unknown;
  for (const auto& n : names) {
    FUZZ_CHECK(!n.empty() && n.find(' ') == std::string::npos, n);
    FUZZ_CHECK(s.contains(n), n);
    if (!unknown && !find_scope(n)) unknown = n;
  }
  FUZZ_CHECK(s.first_unknown() == unknown, in);
  FUZZ_CHECK(ScopeSet::parse(s.str()) == s, in);
  if (!unknown) FUZZ_CHECK(s.subset_of(ScopeSet::all_known()), in);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nl = in.find('\n');
  ScopeSet a = ScopeSet::parse(in.substr(0, nl));
  ScopeSet b = ScopeSet::parse(nl == std::string_view::npos ? "" : in.substr(nl + 1));
  check_set(a, in);
  check_set(b, in);

  ScopeSet both = a.intersect(b), either = a.unite(b);
  check_set(both, in);
  check_set(either, in);
  FUZZ_CHECK(both.subset_of(a) && both.subset_of(b), in);
  FUZZ_CHECK(a.subset_of(either) && b.subset_of(either), in);
  FUZZ_CHECK(a.subset_of(b) == (both == a), in);
  FUZZ_CHECK(either.names().size() + both.names().size() == a.names().size() + b.names().size(),
             in);
  for (const auto& n : either.names()) FUZZ_CHECK(a.contains(n) || b.contains(n), n);
  return 0;
}
