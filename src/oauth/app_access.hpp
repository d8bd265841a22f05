// Development mode and allowlists (issue 15): who an app may serve.
//
// An app is in extended mode (everyone is served: apps created with `stagepass admin client
// create`, unless --mode development) or in development mode (apps created on the developer
// dashboard): then the Web API serves only the people on the app's allowlist, at most
// `limit` of them (STAGEPASS_DEV_ALLOWLIST_LIMIT, 25). Others may still sign in and consent,
// but the Web API answers their calls 403 with the reason USER_NOT_ALLOWLISTED.
//
// The decision is taken when a token is minted, never by the Web API: the code exchange and
// every refresh read the allowlist inside their own store write (CodePolicy::read_allowlist,
// RefreshPolicy::read_allowlist) and the access token carries the answer as the private claim
// "al" (AccessClaims::allowlisted). So an api-only node, which has no accounts database,
// enforces it too. Hence, exactly:
//  - adding a person lets their NEXT token work: a new sign-in, or the app's next refresh
//    (each refresh asks the list again); a token minted before the addition keeps its "no";
//  - removing a person revokes their grant of the app in the same write (its refresh tokens
//    die with it) and announces it through GrantRevoker: this node refuses their access
//    tokens on the very next request, other nodes within one revocation-feed poll (about a
//    second; the admin CLI is another process, so a running server learns of a removal made
//    with it the same way). An api-only node has no revocation feed: there a removed
//    person's last access token works until it expires, as for any revoked grant;
//  - changing the mode reaches tokens minted after the change; tokens already issued keep
//    what they say until they expire (at most STAGEPASS_ACCESS_TOKEN_TTL);
//  - client-credentials tokens (no person) are never affected.
//
// Thread safety: AppAccess's methods may run concurrently from worker threads; they block
// on the store (never call them on an I/O thread).
// Lifetime: AppAccess keeps references to the stores, the revoker and the clock; they must
// outlive it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "domain/models.hpp"
#include "oauth/grant_revoker.hpp"
#include "store/client_store.hpp"
#include "store/user_store.hpp"

namespace stagepass::oauth {

// "development" or "extended" (Client::development), as the CLI and the pages spell it.
std::string_view mode_name(bool development);
// true for "development", false for "extended", nullopt for anything else.
std::optional<bool> parse_mode(std::string_view text);

// What a user token of `client` for the person `user_id` says in "al" (AccessClaims::
// allowlisted): nullopt (no claim) for an app in extended mode; for an app in development
// mode, whether the person may be served: `on_allowlist` as the token's store write read it.
// Pure; the one place that decides, for the code exchange and the refresh alike. The app's
// owner (Client::owner_id, set for dashboard apps) is always served.
std::optional<bool> allowlist_claim(const Client& client, const std::string& user_id,
                                    bool on_allowlist);

class AppAccess {
 public:
  // Records an audit event durably (blocking). May be empty (tests).
  using Record = std::function<void(AuditEvent)>;
  // `limit`: people per allowlist (STAGEPASS_DEV_ALLOWLIST_LIMIT).
  AppAccess(ClientStore& clients, UserStore& users, const GrantRevoker& revoker, const Clock& clock,
            int64_t limit, Record record);

  // People an allowlist may hold; the dashboard shows it beside the list.
  int64_t limit() const { return limit_; }

  // The app's mode: true for development. kNotFound when there is no such app.
  Result<bool> development(const std::string& client_id) const;
  // Sets the mode; records `client_mode_changed` when it changed. kNotFound. What it means for
  // tokens already issued: see the top of this file.
  Status<> set_mode(const std::string& client_id, bool development) const;

  // The app's allowlist, oldest first, with each person's email and display name.
  // kNotFound when there is no such app.
  Result<std::vector<AllowlistEntry>> list(const std::string& client_id) const;

  struct Added {
    AllowlistEntry entry;
    bool added = false;  // false: the person was listed already (nothing changed)
  };
  // The message of add()'s kNotFound when nobody has an account with the email (the
  // dashboard answers it as a success: it must not tell which emails have accounts).
  static constexpr const char* kNoAccount = "nobody has an account with this email";
  // Puts the person who has this account email (case-insensitive, surrounding blanks
  // ignored) on the app's allowlist and records `allowlist_added` (at most one per app and
  // person a day: see kEventEvery). Errors, nothing written: kInvalid (not an email address),
  // kConflict (the list already holds limit() people; checked before the email is looked
  // up, so a full list answers the same for every email), kNotFound (no such app, or
  // kNoAccount). Error messages are fit to show next to the form field.
  Result<Added> add(const std::string& client_id, const std::string& email) const;

  struct Removed {
    std::string user_id;
    std::string email;           // as stored
    bool grant_revoked = false;  // the person's access to the app was revoked with it
  };
  // Takes the person with this account email off the app's allowlist, revokes their grant of
  // the app (at once: see the top of this file) and records `allowlist_removed` in the
  // person's security log (at most one a day per app and person, unless it revoked their
  // access). Errors, nothing written: kInvalid, kNotFound (no such app, or "this person is not
  // on the allowlist", which is also the answer for an email with no account).
  Result<Removed> remove(const std::string& client_id, const std::string& email) const;

 private:
  // The person with this email, or the error add() and remove() answer.
  Result<User> person(const std::string& email) const;

  // issue15-fix:allowlist-events. Whether an allowlist event of this type for this app and
  // person may be recorded now: false when one was within kEventEvery (an owner looping add
  // and remove writes to a stranger's security log once a day, not once a loop). In memory,
  // per node, bounded (kMaxRemembered; past it, those older than kEventEvery go, then all).
  bool worth_recording(const std::string& type, const std::string& client_id,
                       const std::string& user_id, int64_t now) const;
  static constexpr int64_t kEventEvery = 24 * 3600;
  static constexpr size_t kMaxRemembered = 100000;
  mutable std::mutex recorded_mu_;
  mutable std::map<std::string, int64_t> recorded_;  // type + client + user → last recorded

  ClientStore& clients_;
  UserStore& users_;
  const GrantRevoker& revoker_;
  const Clock& clock_;
  int64_t limit_;
  Record record_;
};

}  // namespace stagepass::oauth
