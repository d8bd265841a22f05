// SqliteStore: refresh-token chains of the family shape (issue17:family,
// tokens/opaque_token.hpp), one row of refresh_families per chain, rewritten by each rotation.
#include "crypto/crypto.hpp"
#include "store/sqlite/sqlite_store_internal.hpp"

namespace stagepass::sqlite {
using namespace internal;

namespace {

// issue17:family. A chain's row, and the presented token as it reads in it.
constexpr uint32_t kLastGeneration = 0xffffffff;

struct FamilyRow {
  enum class Is {
    kCurrent,   // the chain's current token
    kPrevious,  // the one the current token replaced (rotated_at set)
    kSpent,     // rotated earlier, or superseded by a grace retry: presented again, reuse
    kUnknown,   // never issued by this store (a later generation, or a digest of the current
                // generation it does not hold: a store restored from a backup meets the tokens
                // issued since; or a made-up value)
  };
  Is is = Is::kUnknown;
  RefreshToken token;       // the presented token, with the chain's ids, scope and absolute end
  uint32_t generation = 0;  // the current token's
  bool retried = false;
};

// `key`: split_family_key(`stored_key`).
std::optional<FamilyRow> family_row(Connection& db, const std::string& stored_key,
                                    const FamilyKey& key) {
  auto s = db.prepare(
      "SELECT grant_id, client_id, user_id, scope, expires_at, generation, hash, created_at, "
      "idle_expires_at, superseded_hash, prev_hash, prev_created_at, prev_idle_expires_at, "
      "rotated_at, retried FROM refresh_families WHERE family = ?");
  if (!s.bind(1, key.family).step()) return std::nullopt;
  FamilyRow row;
  RefreshToken& t = row.token;
  t.hash = stored_key;
  t.grant_id = s.text(0);
  t.client_id = s.text(1);
  t.user_id = s.text(2);
  t.scope = ScopeSet::parse(s.text(3));
  t.expires_at = s.i64(4);
  row.generation = static_cast<uint32_t>(s.i64(5));
  row.retried = s.i64(14) != 0;
  const int64_t presented = key.generation, current = row.generation;
  // Digests compared in constant time, like every secret (the digest of a guess says nothing
  // of the token, but no comparison here should need that argument).
  const auto is = [&](int col) {
    return !s.is_null(col) && crypto::constant_time_equal(key.hash, s.text(col));
  };
  if (presented == current && is(6)) {
    row.is = FamilyRow::Is::kCurrent;
    t.created_at = s.i64(7);
    t.idle_expires_at = s.i64(8);
  } else if (presented == current - 1 && !s.is_null(13) && is(10)) {
    row.is = FamilyRow::Is::kPrevious;
    t.created_at = s.i64(11);
    t.idle_expires_at = s.i64(12);
    t.rotated_at = s.i64(13);
  } else if (presented < current || (presented == current && is(9))) {
    // Spent, whether rotated or superseded: what a per-token row says of a superseded token
    // (revoked), so every answer built on it (introspection: inactive; RFC 7009: the grant is
    // revoked for its own client) is the same.
    row.is = FamilyRow::Is::kSpent;
    t.revoked = true;
  } else {
    row.is = FamilyRow::Is::kUnknown;
  }
  return row;
}

}  // namespace

Result<RefreshToken> SqliteStore::find_in_family(const std::string& hash, const FamilyKey& key) {
  return read([&](Connection& db) -> Result<RefreshToken> {
    auto row = family_row(db, hash, key);
    if (!row || row->is == FamilyRow::Is::kUnknown) return fail(not_found("refresh token"));
    // A token of a revoked (or missing) grant reads as revoked, as a per-token row does.
    auto grant = grant_by_id(db, row->token.grant_id);
    if (!grant || grant->revoked_at) row->token.revoked = true;
    return std::move(row->token);
  });
}

// issue17:family. The same decision (decide_rotation) on the chain's row: the presented token
// is its current one, the one that replaced it, or spent (family_row). Rotating rewrites the
// row in place: the current token becomes the previous one and the successor the current.
Result<Rotation> SqliteStore::rotate_in_family(const std::string& old_hash, const FamilyKey& key,
                                               const RefreshPolicy& policy) {
  const auto successor = split_family_key(policy.successor_hash);
  // TokenIssuer::next_refresh_token keeps the family and counts the generation on; anything
  // else is a caller's bug, refused before anything is written.
  const auto wrong_generation = [] {
    return Error{ErrorCode::kInvalid, "a successor must follow its token in its family"};
  };
  if (!successor || successor->family != key.family) return fail(wrong_generation());
  return write([&](Connection& db) -> Result<Rotation> {
    Rotation r;
    auto row = family_row(db, old_hash, key);
    if (!row || row->is == FamilyRow::Is::kUnknown) return r;  // kNotFound
    r.token = row->token;
    auto grant = grant_by_id(db, row->token.grant_id);
    if (!grant) return r;  // kNotFound
    PresentedRefreshToken presented;
    presented.token = row->token;
    if (presented.token.rotated_at) {
      presented.retried = row->retried;
      // The previous token's successor is the current one, which no rotation has spent yet
      // (rotating it would have made it the previous token).
      presented.successor_unused = true;
    }
    RotationDecision d = decide_rotation(presented, *grant, policy);
    if (settled_without_successor(db, d, std::move(*grant), policy.now, r)) return r;
    switch (d.outcome) {
      case RotateOutcome::kReuseGrace:
        // The current token is superseded: whoever holds it now holds a spent token. Its
        // successor takes its place, and generation.
        if (successor->generation != row->generation) return fail(wrong_generation());
        db.prepare(
              "UPDATE refresh_families SET superseded_hash = hash, hash = ?, created_at = ?, "
              "idle_expires_at = ?, retried = 1 WHERE family = ?")
            .bind_all(successor->hash, d.successor->created_at, d.successor->idle_expires_at,
                      key.family)
            .run();
        break;
      case RotateOutcome::kRotated:
        if (row->generation == kLastGeneration) {
          // The counter would wrap, and every spent token look unknown: the chain ends here
          // (2^32 rotations; its absolute lifetime ends it long before).
          r.outcome = RotateOutcome::kRefused;
          r.refusal = RefreshRefusal::kExpired;
          return r;
        }
        if (int64_t{successor->generation} != int64_t{row->generation} + 1) {
          return fail(wrong_generation());
        }
        db.prepare(
              "UPDATE refresh_families SET prev_hash = hash, prev_created_at = created_at, "
              "prev_idle_expires_at = idle_expires_at, rotated_at = ?, retried = 0, "
              "superseded_hash = NULL, generation = ?, hash = ?, created_at = ?, "
              "idle_expires_at = ? WHERE family = ?")
            .bind_all(policy.now, static_cast<int64_t>(successor->generation), successor->hash,
                      d.successor->created_at, d.successor->idle_expires_at, key.family)
            .run();
        break;
      default:
        break;  // settled above
    }
    if (policy.read_allowlist) {
      r.on_allowlist = on_allowlist_in(db, presented.token.client_id, presented.token.user_id);
    }
    return r;
  });
}

}  // namespace stagepass::sqlite
