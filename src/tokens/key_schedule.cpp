#include "tokens/key_schedule.hpp"

#include <algorithm>
#include <string>

namespace stagepass {
namespace {

// The index of the key that signs at `now`: the last whose signs_from has come, else the
// first. -1 for no keys.
ptrdiff_t active_index(const std::vector<SigningKey>& keys, int64_t now) {
  if (keys.empty()) return -1;
  ptrdiff_t active = 0;
  for (size_t i = 0; i < keys.size(); ++i)
    if (keys[i].signs_from <= now) active = static_cast<ptrdiff_t>(i);
  return active;
}

std::string duration_text(int64_t seconds) {
  if (seconds % 60 != 0) return std::to_string(seconds) + "s";
  if (seconds % 3600 != 0) return std::to_string(seconds / 60) + "m";
  return std::to_string(seconds / 3600) + "h";
}

}  // namespace

std::string_view key_state_name(KeyState state) {
  switch (state) {
    case KeyState::kNext:
      return "next";
    case KeyState::kActive:
      return "active";
    case KeyState::kRetiring:
      return "retiring";
    case KeyState::kRetired:
      return "retired";
  }
  return "retired";
}

std::vector<KeyState> key_states(const std::vector<SigningKey>& keys, int64_t now) {
  const ptrdiff_t active = active_index(keys, now);
  std::vector<KeyState> out;
  for (size_t i = 0; i < keys.size(); ++i) {
    const SigningKey& k = keys[i];
    if (static_cast<ptrdiff_t>(i) == active)
      out.push_back(KeyState::kActive);
    else if (k.signs_from > now)
      out.push_back(KeyState::kNext);
    // A superseded key without retire_at (not written by this version) stays published.
    else if (k.retire_at != 0 && k.retire_at <= now)
      out.push_back(KeyState::kRetired);
    else
      out.push_back(KeyState::kRetiring);
  }
  return out;
}

std::optional<int64_t> next_key_change(const std::vector<SigningKey>& keys, int64_t now) {
  std::optional<int64_t> first;
  auto consider = [&](int64_t t) {
    if (t > now && (!first || t < *first)) first = t;
  };
  for (const auto& k : keys) {
    consider(k.signs_from);
    if (k.retire_at != 0) consider(k.retire_at);
  }
  return first;
}

Result<RotationPlan> plan_rotation(const std::vector<SigningKey>& keys, int64_t now,
                                   int64_t publish_ahead, const KeyPolicy& policy) {
  if (publish_ahead < policy.jwks_max_age) {
    return fail(Error{ErrorCode::kInvalid,
                      "--publish-ahead " + duration_text(publish_ahead) +
                          " is shorter than the JWKS cache lifetime (STAGEPASS_JWKS_MAX_AGE=" +
                          std::to_string(policy.jwks_max_age) +
                          "): a verifier could meet a token signed by a key its copy of the JWKS "
                          "lacks; use at least " +
                          duration_text(policy.jwks_max_age)});
  }
  for (const auto& k : keys) {
    if (k.signs_from > now) {
      return fail(Error{ErrorCode::kConflict,
                        "a next key (" + k.kid + ") is already waiting to sign from " +
                            std::to_string(k.signs_from) + "; rotate again once it signs"});
    }
  }
  // Nothing has been signed yet: the first key signs at once.
  if (keys.empty()) return RotationPlan{now, now + policy.retention()};
  const int64_t signs_from = now + publish_ahead + kKeyPickupSeconds;
  return RotationPlan{signs_from, signs_from + policy.retention()};
}

std::optional<RotationPlan> scheduled_rotation(const std::vector<SigningKey>& keys, int64_t now,
                                               int64_t period, const KeyPolicy& policy) {
  if (period <= 0 || keys.empty()) return std::nullopt;
  for (const auto& k : keys)
    if (k.signs_from > now) return std::nullopt;  // a next key waits
  const SigningKey& active = keys[static_cast<size_t>(active_index(keys, now))];
  const int64_t lead = policy.default_publish_ahead() + kKeyPickupSeconds;
  const int64_t due_at = active.signs_from + period;
  // Due one tick early: jitter or a chore that overruns may make a background tick a second
  // late; a check made one second late still starts the key at due_at.
  if (now + lead + kKeyPickupSeconds < due_at) return std::nullopt;
  const int64_t signs_from = std::max(due_at, now + lead);
  return RotationPlan{signs_from, signs_from + policy.retention()};
}

}  // namespace stagepass
