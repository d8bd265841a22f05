#include "core/random.hpp"

#include <sodium.h>

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
  unsigned char buf[22];
  fill(buf, sizeof buf);
  for (size_t i = 0; i < 22; ++i) {
    // 248 = 4 * 62: rejection-free mapping would bias; resample the rare high bytes.
    while (buf[i] >= 248) fill(&buf[i], 1);
    out[i] = kAlphabet[buf[i] % 62];
  }
  return out;
}

SystemRandom::SystemRandom() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

void SystemRandom::fill(void* out, size_t n) { randombytes_buf(out, n); }

}  // namespace stagepass
