// SqliteStore's signing-key rotation (KeyStore, store/key_store.hpp); listing and saving are
// in sqlite_store.cpp.
#include "store/sqlite/sqlite_store_internal.hpp"

namespace stagepass::sqlite {

Status<> SqliteStore::add_next_signing_key(const SigningKey& next, int64_t now,
                                           int64_t predecessor_retire_at) {
  return write([&](Connection& db) -> Status<> {
    // Read and written in the one transaction: two rotations at once (the CLI and the
    // server's schedule) cannot both add a next key.
    auto waiting = db.prepare("SELECT kid FROM signing_keys WHERE signs_from > ? LIMIT 1");
    if (waiting.bind_all(std::min(now, next.signs_from - 1)).step()) {
      return fail(Error{ErrorCode::kConflict,
                        "a next key (" + waiting.text(0) + ") is already waiting to sign"});
    }
    db.prepare(
          "UPDATE signing_keys SET retire_at = ? WHERE kid = (SELECT kid FROM signing_keys "
          "ORDER BY signs_from DESC, created_at DESC, kid DESC LIMIT 1)")
        .bind_all(predecessor_retire_at)
        .run();
    db.prepare(
          "INSERT INTO signing_keys (kid, alg, public_key, sealed_private_key, created_at, "
          "signs_from, retire_at) VALUES (?,?,?,?,?,?,NULL)")
        .bind_all(next.kid, next.alg, next.public_key, next.sealed_private_key, next.created_at,
                  next.signs_from)
        .run();  // a duplicate kid throws: kConflict, the update rolled back with it
    return Ok{};
  });
}

Result<int64_t> SqliteStore::delete_retired_signing_keys(int64_t now) {
  return write_background([&](Connection& db) -> Result<int64_t> {
    db.prepare("DELETE FROM signing_keys WHERE retire_at IS NOT NULL AND retire_at <= ?")
        .bind_all(now)
        .run();
    return db.changes();
  });
}

}  // namespace stagepass::sqlite
