// Csrf: the pages' protection against cross-site request forgery, a signed double-submit
// cookie bound to the session (OWASP CSRF Prevention Cheat Sheet, "Signed Double-Submit
// Cookie"). The CSRF cookie holds a random seed; every form carries
//   HMAC-SHA256(key, seed "." SHA-256(session cookie value))   ("" for the hash when signed out)
// so a token is good only with its seed and for its session: one minted before sign-in, or an
// attacker's own seed+token pair planted in a victim's browser, fails once the victim is
// signed in; one of another session fails in this one.
// Thread safety: immutable after construction; share it by const reference.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/random.hpp"

namespace stagepass::web {

class Csrf {
 public:
  static constexpr size_t kSeedLength = 43;  // base64url of 32 random bytes, no padding

  // `key`: the MAC key, derived from the master key (a secret: never logged).
  explicit Csrf(std::string key) : key_(std::move(key)) {}

  // A fresh seed for the CSRF cookie, from the OS CSPRNG.
  static std::string new_seed(Random& random);
  // Whether a cookie value can be a seed (any other value is replaced by a fresh seed).
  static bool is_seed(std::string_view value) { return value.size() == kSeedLength; }

  // The token a form carries for `seed` (is_seed) and the session cookie's value
  // (empty: signed out).
  std::string token(std::string_view seed, std::string_view session_cookie) const;
  // True only when `seed` is a seed and `token` is token(seed, session_cookie), compared in
  // constant time.
  bool verify(std::string_view seed, std::string_view session_cookie, std::string_view token) const;

 private:
  std::string key_;
};

}  // namespace stagepass::web
