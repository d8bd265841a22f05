// Random: the OS CSPRNG (libsodium's randombytes), injected so tests can be deterministic.
// Thread safety: SystemRandom is safe from any thread.
#pragma once

#include <cstddef>
#include <string>

namespace stagepass {

class Random {
 public:
  virtual ~Random() = default;
  virtual void fill(void* out, size_t n) = 0;
  // Random bytes for identifiers (id22): public values, never secrets, so an implementation
  // may hand them out of a buffer drawn ahead. fill() by default.
  virtual void fill_for_id(void* out, size_t n) { fill(out, n); }

  std::string bytes(size_t n);
  // 256 random bits, base64url without padding, behind a type prefix ("spr_", "spc_", ...)
  // so a leaked value is recognisable by secret scanners.
  std::string token(std::string_view prefix);
  // A 22-character base62 identifier (about 131 bits), Spotify's id shape.
  std::string id22();
};

class SystemRandom final : public Random {
 public:
  SystemRandom();
  void fill(void* out, size_t n) override;
  // issue17:cc-inline. From a per-thread buffer of 4 KiB drawn from the OS CSPRNG
  // (getrandom): one system call for about 128 ids instead of one each (every access token's
  // jti is one; a system call cost client credentials about 5 % of its rate here). A forked
  // child starts a new buffer. Never for secrets.
  void fill_for_id(void* out, size_t n) override;
};

}  // namespace stagepass
