#include "domain/scope.hpp"

#include <algorithm>

#include "core/text.hpp"

namespace stagepass {

const std::vector<ScopeInfo>& known_scopes() {
  static const std::vector<ScopeInfo> kScopes = {
      {"user-read-private", "View your country and subscription type"},
      {"user-read-email", "View your email address"},
      {"user-library-read", "View your saved tracks"},
      {"user-library-modify", "Add and remove tracks in your library"},
      {"playlist-read-private", "View your private playlists"},
      {"playlist-read-collaborative", "View collaborative playlists you have access to"},
      {"playlist-modify-public", "Create, edit and follow public playlists"},
      {"playlist-modify-private", "Create, edit and follow private playlists"},
      {"user-read-playback-state", "View what is playing and on which device"},
      {"user-modify-playback-state", "Control playback on your devices"},
      {"user-read-currently-playing", "View the track you are listening to"},
      {"user-follow-read", "View the artists and people you follow"},
      {"user-follow-modify", "Follow and unfollow artists and people"},
      {"user-top-read", "View your top artists and tracks"},
      {"user-read-recently-played", "View your recently played tracks"},
      {"streaming", "Play music in this app"},
  };
  return kScopes;
}

const ScopeInfo* find_scope(std::string_view name) {
  for (const auto& s : known_scopes()) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

ScopeSet ScopeSet::parse(std::string_view text) {
  ScopeSet set;
  set.names_ = split_spaces(text);
  std::sort(set.names_.begin(), set.names_.end());
  set.names_.erase(std::unique(set.names_.begin(), set.names_.end()), set.names_.end());
  return set;
}

ScopeSet ScopeSet::all_known() {
  ScopeSet set;
  for (const auto& s : known_scopes()) set.names_.emplace_back(s.name);
  std::sort(set.names_.begin(), set.names_.end());
  return set;
}

bool ScopeSet::contains(std::string_view name) const {
  return std::binary_search(names_.begin(), names_.end(), name);
}

bool ScopeSet::subset_of(const ScopeSet& other) const {
  return std::includes(other.names_.begin(), other.names_.end(), names_.begin(), names_.end());
}

std::optional<std::string> ScopeSet::first_unknown() const {
  for (const auto& n : names_) {
    if (!find_scope(n)) return n;
  }
  return std::nullopt;
}

ScopeSet ScopeSet::intersect(const ScopeSet& other) const {
  ScopeSet out;
  std::set_intersection(names_.begin(), names_.end(), other.names_.begin(), other.names_.end(),
                        std::back_inserter(out.names_));
  return out;
}

ScopeSet ScopeSet::unite(const ScopeSet& other) const {
  ScopeSet out;
  std::set_union(names_.begin(), names_.end(), other.names_.begin(), other.names_.end(),
                 std::back_inserter(out.names_));
  return out;
}

std::string ScopeSet::str() const { return join(names_, " "); }

}  // namespace stagepass
