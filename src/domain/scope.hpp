// Scopes: Spotify's names, each with the plain words a consent page shows, and ScopeSet,
// a normalised (sorted, unique) set of scope names.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stagepass {

struct ScopeInfo {
  std::string_view name;
  std::string_view description;  // "View your saved tracks"
};

// Every scope the platform knows, in the order consent pages list them.
const std::vector<ScopeInfo>& known_scopes();
const ScopeInfo* find_scope(std::string_view name);

class ScopeSet {
 public:
  ScopeSet() = default;
  // Parses a space-separated list (RFC 6749 §3.3); duplicates collapse.
  static ScopeSet parse(std::string_view text);
  static ScopeSet all_known();

  bool empty() const { return names_.empty(); }
  bool contains(std::string_view name) const;
  bool subset_of(const ScopeSet& other) const;
  // The first name not in the known catalog, if any.
  std::optional<std::string> first_unknown() const;
  ScopeSet intersect(const ScopeSet& other) const;
  ScopeSet unite(const ScopeSet& other) const;
  std::string str() const;  // space-separated, sorted
  const std::vector<std::string>& names() const { return names_; }
  bool operator==(const ScopeSet&) const = default;

 private:
  std::vector<std::string> names_;  // sorted, unique
};

}  // namespace stagepass
