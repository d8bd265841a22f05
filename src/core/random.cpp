#include "core/random.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>

#include "core/base64url.hpp"

namespace stagepass {

std::string Random::bytes(size_t n) {
  std::string out(n, '\0');
  fill(out.data(), n);
  return out;
}

std::string Random::token(std::string_view prefix) {
  std::string out(prefix);
  out += base64url_encode(bytes(32));
  return out;
}

std::string Random::id22() {
  static constexpr char kAlphabet[] =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string out(22, '0');
  // 248 = 4 * 62: a byte at or above it would bias the mapping and is skipped. Half of all
  // ids meet one, so the draw holds ten spare bytes: one draw almost always, instead of a
  // second for each skipped byte (issue17:cc-inline).
  unsigned char buf[32];
  size_t used = sizeof buf;
  for (size_t i = 0; i < out.size(); ++i) {
    unsigned char b = 0;
    do {
      if (used == sizeof buf) {
        fill_for_id(buf, sizeof buf);
        used = 0;
      }
      b = buf[used++];
    } while (b >= 248);
    out[i] = kAlphabet[b % 62];
  }
  sodium_memzero(buf, sizeof buf);
  return out;
}

SystemRandom::SystemRandom() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

void SystemRandom::fill(void* out, size_t n) { randombytes_buf(out, n); }

void SystemRandom::fill_for_id(void* out, size_t n) {
  thread_local std::array<unsigned char, 4096> ahead;
  thread_local size_t next = ahead.size();
  auto* p = static_cast<unsigned char*>(out);
  while (n > 0) {
    if (next == ahead.size()) {
      randombytes_buf(ahead.data(), ahead.size());
      next = 0;
    }
    const size_t take = std::min(n, ahead.size() - next);
    std::memcpy(p, ahead.data() + next, take);
    next += take;
    p += take;
    n -= take;
  }
}

}  // namespace stagepass
