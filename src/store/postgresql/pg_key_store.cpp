// PgStore: this issuer's signing keys (KeyStore), their private halves stored exactly as
// given (sealed under the master key by tokens/signing_keys; never plaintext here).
// Both halves are bytes (a raw public key, a sealed box) and PostgreSQL's text refuses
// invalid UTF-8 and NUL: the two columns hold them base64url-encoded, decoded on reading.
//
// Several nodes may rotate at once (each runs the key schedule, and `stagepass admin keys`
// too). Every write of this role first takes one transaction-scoped advisory lock
// (kSigningKeysLock), so they run one after the other, as behind SQLite's single writer:
// the check "no next key is waiting" and the insert of the next key cannot interleave with
// another node's, so at most one next key is ever stored. Reads take no lock.
#include <algorithm>

#include "core/base64url.hpp"
#include "store/postgresql/pg_store_internal.hpp"

namespace stagepass::postgresql {
using namespace internal;

namespace {

// The advisory lock's key: "sp-keys!" in ASCII (kMigrationLock is "stagepas").
constexpr int64_t kSigningKeysLock = 0x73702d6b65797321;

Status<> lock_signing_keys(PgConnection& c) {
  SP_PG_TRY(r, c.prepared("lock_signing_keys", "SELECT pg_advisory_xact_lock($1)",
                          {num(kSigningKeysLock)}));
  return Ok{};
}

Status<> insert_key(PgConnection& c, const SigningKey& k, PgParam retire_at) {
  SP_PG_TRY(r, c.prepared("insert_signing_key",
                          "INSERT INTO signing_keys (kid, alg, public_key, sealed_private_key, "
                          "created_at, signs_from, retire_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                          {k.kid, k.alg, base64url_encode(k.public_key),
                           base64url_encode(k.sealed_private_key), num(k.created_at),
                           num(k.signs_from), std::move(retire_at)}));
  return Ok{};
}

}  // namespace

Result<std::vector<SigningKey>> PgStore::list_signing_keys() {
  return pool_.run([&](PgConnection& c) -> Result<std::vector<SigningKey>> {
    SP_PG_TRY(r, c.prepared("list_signing_keys",
                            "SELECT kid, alg, public_key, sealed_private_key, created_at, "
                            "signs_from, retire_at FROM signing_keys "
                            "ORDER BY signs_from, created_at, kid"));
    std::vector<SigningKey> out;
    for (int i = 0; i < r->rows(); ++i) {
      auto public_key = base64url_decode(r->text(i, 2));
      auto sealed = base64url_decode(r->text(i, 3));
      if (!public_key || !sealed) {
        return fail(Error{ErrorCode::kIo, "postgresql: signing key " + r->text(i, 0) +
                                              " is not stored base64url-encoded"});
      }
      out.push_back({r->text(i, 0), r->text(i, 1), std::move(*public_key), std::move(*sealed),
                     r->i64(i, 4), r->i64(i, 5), opt_i64(*r, i, 6).value_or(0)});
    }
    return out;
  });
}

Status<> PgStore::save_signing_key(const SigningKey& k) {
  return pool_.transaction([&](PgConnection& c) -> Status<> {
    if (auto locked = lock_signing_keys(c); !locked) return locked;
    // A duplicate kid: SQLSTATE 23505, kConflict (pg_connection.hpp).
    return insert_key(c, k, k.retire_at ? num(k.retire_at) : PgParam{});
  });
}

Status<> PgStore::add_next_signing_key(const SigningKey& next, int64_t now,
                                       int64_t predecessor_retire_at) {
  return pool_.transaction([&](PgConnection& c) -> Status<> {
    if (auto locked = lock_signing_keys(c); !locked) return locked;
    // Read after the lock: a rotation that committed while this one waited is seen here.
    SP_PG_TRY(waiting, c.prepared("waiting_signing_key",
                                  "SELECT kid FROM signing_keys WHERE signs_from > $1 LIMIT 1",
                                  {num(std::min(now, next.signs_from - 1))}));
    if (waiting->rows() > 0) {
      return fail(Error{ErrorCode::kConflict,
                        "a next key (" + waiting->text(0, 0) + ") is already waiting to sign"});
    }
    SP_PG_TRY(retire, c.prepared("retire_last_signing_key",
                                 "UPDATE signing_keys SET retire_at = $1 WHERE kid = "
                                 "(SELECT kid FROM signing_keys ORDER BY signs_from DESC, "
                                 "created_at DESC, kid DESC LIMIT 1)",
                                 {num(predecessor_retire_at)}));
    // A duplicate kid fails here (kConflict); the transaction, the update with it, rolls back.
    return insert_key(c, next, PgParam{});
  });
}

Result<int64_t> PgStore::delete_retired_signing_keys(int64_t now) {
  return pool_.transaction([&](PgConnection& c) -> Result<int64_t> {
    if (auto locked = lock_signing_keys(c); !locked) return fail(std::move(locked.error()));
    SP_PG_TRY(r, c.prepared("delete_retired_signing_keys",
                            "DELETE FROM signing_keys WHERE retire_at IS NOT NULL AND "
                            "retire_at <= $1",
                            {num(now)}));
    return r->affected();
  });
}

}  // namespace stagepass::postgresql
