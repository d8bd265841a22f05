// Store: everything the accounts service stores, as the one handle a backend implements.
//
// Consumers never take a Store: each names the roles it uses, one header each, so a consumer
// sees only its own data and a backend can be checked role by role (fosite's per-handler
// storage interfaces):
//   user_store.hpp           UserStore          people, passwords, credential generations
//   client_store.hpp         ClientStore        registered apps
//   grant_store.hpp          GrantStore         consent and its revocation
//   code_store.hpp           CodeStore          authorization codes
//   refresh_token_store.hpp  RefreshTokenStore  refresh tokens and their rotation
//   session_store.hpp        SessionStore       browser sessions of the pages
//   event_store.hpp          EventStore         the audit stream
//   key_store.hpp            KeyStore           sealed signing keys
//   revocation_log.hpp       RevocationLog      the revocations log, by sequence (read-only)
//                            RevocationHistory  the same by time, and its pruning
//   usage_store.hpp          UsageStore         per-app usage series and abuse warnings
//   prune_store.hpp          PruneStore         deleting what no decision reads any more
// Who uses which: oauth::Services (grants, client authentication, authorize, revocation,
// introspection), web::SiteStores (the pages), Keyring (KeyStore), RevocationFeed
// (RevocationLog), GrantRevoker (GrantStore). Only the composition root (app/), the admin CLI
// and tests hold the aggregate, to hand out its roles.
//
// What a backend implements (SqliteStore today; a PostgresStore is the next one): every pure
// virtual method of every role above, plus ping(), keeping for each:
//  - Thread safety: every method may be called concurrently from worker threads.
//  - Blocking: methods block on I/O; never call them on an HTTP I/O thread. The one exception
//    is ClientStore::find_client_in_memory, which waits for no read transaction or connection:
//    at most one pread of a small file every token request keeps in memory, and a short lock
//    (issue17:cc-inline).
//  - Durability: a method that returns success has committed durably.
//  - Atomicity: a method is one transaction. One that returns an error has written nothing;
//    the compound decisions (CodeStore::redeem_code, RefreshTokenStore::rotate_refresh_token,
//    UserStore::change_password, ClientStore::delete_client,
//    ClientStore::rotate_client_secret) read and write in one
//    transaction, in the order their comments give; a code exchange and a rotation decide
//    by the pure functions every backend calls (code_redemption.hpp, refresh_rotation.hpp).
//  - Errors: Result/Status whose Error.code is one of kNotFound, kConflict (a uniqueness or
//    precondition check failed), kIo (the backend failed); each method names the ones it
//    returns besides kIo.
//  - Secrets arrive and are stored as hashes only: SHA-256 of tokens, codes and session
//    cookies; Argon2id of passwords; signing keys sealed under the master key.
//  - Revocations are visible to every node through RevocationLog: each revoking change appends
//    its log entry in its own transaction (issue16:revlog; app/revocation_feed.hpp).
// The store conformance suite (src/store/conformance/) pins these behaviours, one case list
// run against every backend; conformance/store_backends.hpp says how a backend joins it.
#pragma once

#include "store/client_store.hpp"
#include "store/code_store.hpp"
#include "store/event_store.hpp"
#include "store/grant_store.hpp"
#include "store/key_store.hpp"
#include "store/prune_store.hpp"
#include "store/refresh_token_store.hpp"
#include "store/revocation_log.hpp"
#include "store/session_store.hpp"
#include "store/usage_store.hpp"
#include "store/user_store.hpp"

namespace stagepass {

class Store : public UserStore,
              public ClientStore,
              public GrantStore,
              public CodeStore,
              public RefreshTokenStore,
              public SessionStore,
              public EventStore,
              public KeyStore,
              public RevocationLog,
              public RevocationHistory,
              public UsageStore,
              public PruneStore {
 public:
  // True when the backend answers (for /readyz).
  virtual bool ping() = 0;
};

}  // namespace stagepass
