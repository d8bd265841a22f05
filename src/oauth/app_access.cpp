#include "oauth/app_access.hpp"

#include <algorithm>

#include "core/text.hpp"

namespace stagepass::oauth {

namespace {

constexpr size_t kMaxEmail = 254;  // RFC 5321 §4.5.3.1.3: a path is at most 256 octets

std::string trimmed(const std::string& s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  const auto last = s.find_last_not_of(" \t");
  return s.substr(first, last - first + 1);
}

// ASCII lower case: how the store compares emails (COLLATE NOCASE).
std::string lower_ascii(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// The app's name in quotes for an event's detail, cut at a character boundary.
std::string quoted_name(const Client& c) {
  return std::string("\"").append(utf8_prefix(c.name, 100)).append("\"");
}

}  // namespace

std::string_view mode_name(bool development) { return development ? "development" : "extended"; }

std::optional<bool> parse_mode(std::string_view text) {
  if (text == "development") return true;
  if (text == "extended") return false;
  return std::nullopt;
}

std::optional<bool> allowlist_claim(const Client& client, const std::string& user_id,
                                    bool on_allowlist) {
  if (!client.development) return std::nullopt;
  // The app's owner (the person who registered it on the developer dashboard) is always served.
  return on_allowlist || (!client.owner_id.empty() && user_id == client.owner_id);
}

AppAccess::AppAccess(ClientStore& clients, UserStore& users, const GrantRevoker& revoker,
                     const Clock& clock, int64_t limit, Record record)
    : clients_(clients),
      users_(users),
      revoker_(revoker),
      clock_(clock),
      limit_(limit),
      record_(std::move(record)) {}

Result<bool> AppAccess::development(const std::string& client_id) const {
  auto c = clients_.find_client(client_id);
  if (!c) return fail(c.error());
  return c->development;
}

Status<> AppAccess::set_mode(const std::string& client_id, bool development) const {
  auto c = clients_.find_client(client_id);
  if (!c) return fail(c.error());
  if (c->development == development) return Ok{};
  if (auto r = clients_.set_client_mode(client_id, development); !r) return r;
  if (record_) {
    record_({0, clock_.now(), "client_mode_changed", "", client_id, "", "",
             quoted_name(*c) + " is now in " + std::string(mode_name(development)) + " mode"});
  }
  return Ok{};
}

Result<std::vector<AllowlistEntry>> AppAccess::list(const std::string& client_id) const {
  if (auto c = clients_.find_client(client_id); !c) return fail(c.error());
  return clients_.list_allowlist(client_id);
}

Result<User> AppAccess::person(const std::string& email) const {
  const std::string e = trimmed(email);
  if (e.empty() || e.size() > kMaxEmail || e.find('@') == std::string::npos) {
    return fail(Error{ErrorCode::kInvalid, "enter the email address of the person's account"});
  }
  auto u = users_.find_user_by_email(e);
  if (!u && u.error().code == ErrorCode::kNotFound) {
    return fail(Error{ErrorCode::kNotFound, kNoAccount});
  }
  return u;
}

bool AppAccess::worth_recording(const std::string& type, const std::string& client_id,
                                const std::string& user_id, int64_t now) const {
  std::string key = type;
  key.append(1, '\0').append(client_id).append(1, '\0').append(user_id);
  std::lock_guard lk(recorded_mu_);
  auto it = recorded_.find(key);
  if (it != recorded_.end() && now - it->second < kEventEvery) return false;
  if (it == recorded_.end() && recorded_.size() >= kMaxRemembered) {
    std::erase_if(recorded_, [&](const auto& kv) { return now - kv.second >= kEventEvery; });
    if (recorded_.size() >= kMaxRemembered) recorded_.clear();
  }
  recorded_[std::move(key)] = now;
  return true;
}

Result<AppAccess::Added> AppAccess::add(const std::string& client_id,
                                        const std::string& email) const {
  auto c = clients_.find_client(client_id);
  if (!c) return fail(c.error());
  const Error full{ErrorCode::kConflict,
                   "the allowlist is full: an app in development mode serves at most " +
                       std::to_string(limit_) + (limit_ == 1 ? " person" : " people")};
  // issue15-fix:allowlist-oracle. A full list says so whatever the email: before the lookup,
  // or "full" would answer only for emails that have an account. (The store counts again
  // inside its write.)
  if (auto listed = clients_.list_allowlist(client_id); !listed) {
    return fail(listed.error());
  } else if (static_cast<int64_t>(listed->size()) >= limit_) {
    const std::string e = trimmed(email);
    const bool on_it = std::any_of(listed->begin(), listed->end(), [&](const AllowlistEntry& x) {
      return lower_ascii(x.email) == lower_ascii(e);
    });
    if (!on_it) return fail(full);
  }
  auto u = person(email);
  if (!u) return fail(u.error());
  const int64_t now = clock_.now();
  auto added = clients_.add_to_allowlist(client_id, u->id, limit_, now);
  if (!added) {
    if (added.error().code == ErrorCode::kConflict) return fail(full);
    return fail(added.error());
  }
  if (*added && record_ && worth_recording("allowlist_added", client_id, u->id, now)) {
    record_({0, now, "allowlist_added", u->id, client_id, "", "",
             "added to the allowlist of " + quoted_name(*c) + " (development mode)"});
  }
  return Added{{client_id, u->id, u->email, u->display_name, now}, *added};
}

Result<AppAccess::Removed> AppAccess::remove(const std::string& client_id,
                                             const std::string& email) const {
  auto c = clients_.find_client(client_id);
  if (!c) return fail(c.error());
  auto u = person(email);
  if (!u && u.error().code == ErrorCode::kNotFound) {
    // The same answer as for a person who is not listed: nothing tells which emails exist.
    return fail(Error{ErrorCode::kNotFound, "this person is not on the allowlist"});
  }
  if (!u) return fail(u.error());
  auto removed = clients_.remove_from_allowlist(client_id, u->id, clock_.now());
  if (!removed) {
    if (removed.error().code == ErrorCode::kNotFound) {
      return fail(Error{ErrorCode::kNotFound, "this person is not on the allowlist"});
    }
    return fail(removed.error());
  }
  AuditEvent event{0,
                   clock_.now(),
                   "allowlist_removed",
                   u->id,
                   client_id,
                   "",
                   "",
                   "removed from the allowlist of " + quoted_name(*c)};
  if (removed->grant_revoked) {
    // The store revoked the grant inside the removal's write: announce it (this node refuses
    // the person's access tokens from the next request on) and record the event.
    event.detail += "; the app's access was revoked";
    revoker_.revoked(std::move(event));
  } else if (record_ && worth_recording("allowlist_removed", client_id, u->id, event.at)) {
    record_(std::move(event));
  }
  return Removed{u->id, u->email, removed->grant_revoked};
}

}  // namespace stagepass::oauth
