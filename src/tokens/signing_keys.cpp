#include "tokens/signing_keys.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "crypto/crypto.hpp"

namespace stagepass {
namespace {

Result<SigningKey> store_next_key(KeyStore& store, const Secret& master_key, Random& random,
                                  int64_t now, const RotationPlan& plan) {
  auto kp = crypto::ed25519_generate();
  SigningKey k{random.id22(),
               "EdDSA",
               kp.public_key,
               crypto::seal(master_key, kp.secret_key.reveal()),
               now,
               plan.signs_from,
               0};
  if (auto saved = store.add_next_signing_key(k, now, plan.predecessor_retire_at); !saved)
    return fail(saved.error());
  return k;
}

}  // namespace

Result<SigningKey> rotate_signing_key(KeyStore& store, const Secret& master_key, Random& random,
                                      int64_t now, int64_t publish_ahead, const KeyPolicy& policy) {
  auto stored = store.list_signing_keys();
  if (!stored) return fail(stored.error());
  auto plan = plan_rotation(*stored, now, publish_ahead, policy);
  if (!plan) return fail(plan.error());
  return store_next_key(store, master_key, random, now, *plan);
}

SigningKeys::SigningKeys(KeyStore& store, Secret master_key, Random& random, const Clock& clock,
                         Settings settings)
    : store_(store),
      master_key_(std::move(master_key)),
      random_(random),
      clock_(clock),
      settings_(settings),
      slot_(nullptr) {
  auto stored = store_.list_signing_keys();
  if (!stored) throw std::runtime_error("cannot read signing keys: " + stored.error().message);
  if (stored->empty()) {
    // Nothing was ever signed, so nothing to publish ahead of: the first key signs at once.
    // Another node creating its own first key at the same moment wins instead (kConflict),
    // or, a second earlier, retires after the usual retention.
    const int64_t now = clock_.now();
    auto first = store_next_key(store_, master_key_, random_, now,
                                RotationPlan{now, now + settings_.policy.retention()});
    if (!first && first.error().code != ErrorCode::kConflict)
      throw std::runtime_error("cannot store signing key: " + first.error().message);
    stored = store_.list_signing_keys();
    if (!stored) throw std::runtime_error("cannot read signing keys: " + stored.error().message);
  }
  auto ring = open(*stored);
  if (!ring) throw std::runtime_error(ring.error().message);
  for (const auto& k : *stored) loaded_.push_back({k.kid, k.signs_from, k.retire_at});
  slot_.set(std::move(*ring));
}

Result<std::shared_ptr<const Keyring>> SigningKeys::open(const std::vector<SigningKey>& stored) {
  if (stored.empty()) return fail(Error{ErrorCode::kNotFound, "no signing key is stored"});
  const int64_t now = clock_.now();
  const auto current = slot_.get();
  std::vector<OpenKey> keys;
  // Keys this node still publishes that the store no longer holds (deleted by another
  // node's or this node's maintenance at their stored retire_at): kept until their retire_at
  // as this node set it. They are older than every stored key: first in signing order.
  if (current) {
    for (const auto& held : current->keys()) {
      const bool stored_too = std::any_of(stored.begin(), stored.end(),
                                          [&](const SigningKey& k) { return k.kid == held.kid; });
      if (!stored_too && now < held.retire_at) keys.push_back(held);
    }
  }
  for (const auto& k : stored) {
    const OpenKey* known = current ? current->find(k.kid) : nullptr;
    std::optional<Secret> secret;
    if (known) secret = known->secret_key;
    if (!secret) secret = crypto::open(master_key_, k.sealed_private_key);
    if (!secret) {
      return fail(Error{ErrorCode::kInvalid,
                        "signing key " + k.kid +
                            " cannot be opened: wrong master key (STAGEPASS_MASTER_KEY/_FILE)?"});
    }
    keys.push_back({k.kid, k.alg, k.public_key, std::move(*secret), k.signs_from,
                    k.retire_at != 0 ? k.retire_at : std::numeric_limits<int64_t>::max()});
  }
  // This node's own policy (header). At startup (no current keyring) a key already signing
  // is taken as it is; any other key is published from now on, counted from the next whole
  // second (the clock has whole seconds: the key may have appeared late in this one).
  const int64_t max_age = settings_.policy.jwks_max_age;
  std::unordered_map<std::string, int64_t> seen;
  for (size_t i = 0; i < keys.size(); ++i) {
    OpenKey& k = keys[i];
    auto known = first_published_.find(k.kid);
    const int64_t since = known != first_published_.end()     ? known->second
                          : (!current && k.signs_from <= now) ? std::numeric_limits<int64_t>::min()
                                                              : now + 1;
    seen.emplace(k.kid, since);
    if (i > 0 && since != std::numeric_limits<int64_t>::min()) {
      k.signs_from = std::max(k.signs_from, since + max_age);
    }
    if (i > 0) k.signs_from = std::max(k.signs_from, keys[i - 1].signs_from);  // order kept
  }
  constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
  const int64_t retention = settings_.policy.retention();
  for (size_t i = 0; i + 1 < keys.size(); ++i) {
    const int64_t stops = keys[i + 1].signs_from;  // as this node applies it
    const int64_t own = stops > kNever - retention ? kNever : stops + retention;
    keys[i].retire_at = keys[i].retire_at == kNever ? own : std::max(keys[i].retire_at, own);
  }
  first_published_ = std::move(seen);
  return std::make_shared<const Keyring>(std::move(keys));
}

Result<SigningKeys::Refreshed> SigningKeys::refresh() {
  const int64_t now = clock_.now();
  Refreshed done;
  auto stored = store_.list_signing_keys();
  if (!stored) return fail(stored.error());
  if (auto plan = scheduled_rotation(*stored, now, settings_.rotation_period, settings_.policy)) {
    auto next = store_next_key(store_, master_key_, random_, now, *plan);
    // kConflict: `admin keys rotate` (or another node) added a next key first; it stands.
    if (!next && next.error().code != ErrorCode::kConflict) return fail(next.error());
    if (next) done.rotated = std::move(*next);
  }
  const auto states = key_states(*stored, now);
  for (auto s : states) {
    if (s != KeyState::kRetired) continue;
    auto deleted = store_.delete_retired_signing_keys(now);
    if (!deleted) return fail(deleted.error());
    done.deleted = *deleted;
    break;
  }
  if (done.rotated || done.deleted > 0) {
    stored = store_.list_signing_keys();
    if (!stored) return fail(stored.error());
  }
  std::vector<Row> rows;
  for (const auto& k : *stored) rows.push_back({k.kid, k.signs_from, k.retire_at});
  // A key held in memory past the store's deletion (open()) goes once its time has come.
  const auto current = slot_.get();
  const bool held_expired =
      std::any_of(current->keys().begin(), current->keys().end(), [&](const OpenKey& k) {
        return k.retire_at <= now &&
               std::none_of(rows.begin(), rows.end(), [&](const Row& r) { return r.kid == k.kid; });
      });
  if (rows == loaded_ && !held_expired) return done;
  auto ring = open(*stored);
  if (!ring) return fail(ring.error());
  slot_.set(std::move(*ring));
  loaded_ = std::move(rows);
  done.swapped = true;
  const auto now_states = key_states(*stored, now);
  for (size_t i = 0; i < stored->size(); ++i) {
    done.states.push_back((*stored)[i].kid + ":" + std::string(key_state_name(now_states[i])));
  }
  return done;
}

}  // namespace stagepass
