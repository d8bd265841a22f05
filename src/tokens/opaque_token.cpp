#include "tokens/opaque_token.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>

#include "core/base64url.hpp"
#include "tokens/access_token.hpp"

namespace stagepass {
namespace {

constexpr size_t kTimeDigits = 16;
constexpr size_t kRandomChars = 43;        // base64url of 32 bytes, unpadded
constexpr size_t kFamilyRandomChars = 22;  // base64url of 16 bytes, unpadded
constexpr size_t kFamilyChars = kTimeDigits + kFamilyRandomChars;
constexpr size_t kGenerationDigits = 8;
constexpr size_t kFamilyTokenChars = kFamilyChars + kGenerationDigits + kRandomChars;

// The clock's microseconds, strictly increasing within the process (a clock step back or two
// values in the same microsecond still get distinct, ordered prefixes).
uint64_t next_issue_time(const Clock& clock) {
  static std::atomic<uint64_t> last{0};
  const auto now = static_cast<uint64_t>(std::max<int64_t>(0, clock.now_us()));
  uint64_t prev = last.load(std::memory_order_relaxed);
  uint64_t next = 0;
  do {
    next = std::max(now, prev + 1);
  } while (!last.compare_exchange_weak(prev, next, std::memory_order_relaxed));
  return next;
}

// `v` as `digits` lowercase hex digits (its low bits).
std::string hex_digits(uint64_t v, size_t digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(digits, '0');
  for (size_t i = 0; i < digits; ++i) {
    out[digits - 1 - i] = kHex[v & 0xf];
    v >>= 4;
  }
  return out;
}

std::string time_digits(const Clock& clock) {
  return hex_digits(next_issue_time(clock), kTimeDigits);
}

bool is_family(std::string_view family) {
  return family.size() == kFamilyChars && is_lower_hex(family.substr(0, kTimeDigits)) &&
         is_base64url(family.substr(kTimeDigits));
}

}  // namespace

std::string new_refresh_family(Random& random, const Clock& clock) {
  return time_digits(clock) + base64url_encode(random.bytes(16));
}

std::string new_family_refresh_token(Random& random, std::string_view family, uint32_t generation) {
  std::string out(kRefreshTokenPrefix);
  out += family;
  out += hex_digits(generation, kGenerationDigits);
  out += base64url_encode(random.bytes(32));
  return out;
}

std::optional<RefreshTokenFamily> refresh_token_family(std::string_view value) {
  if (value.size() != kRefreshTokenPrefix.size() + kFamilyTokenChars ||
      !value.starts_with(kRefreshTokenPrefix)) {
    return std::nullopt;
  }
  value.remove_prefix(kRefreshTokenPrefix.size());
  const auto family = value.substr(0, kFamilyChars);
  const auto generation = value.substr(kFamilyChars, kGenerationDigits);
  if (!is_family(family) || !is_lower_hex(generation) ||
      !is_base64url(value.substr(kFamilyChars + kGenerationDigits))) {
    return std::nullopt;
  }
  uint32_t g = 0;
  for (char c : generation) g = g * 16 + static_cast<uint32_t>(c <= '9' ? c - '0' : c - 'a' + 10);
  return RefreshTokenFamily{family, g};
}

std::string new_opaque_token(Random& random, const Clock& clock, std::string_view prefix) {
  std::string out(prefix);
  out += time_digits(clock);
  out += base64url_encode(random.bytes(32));
  return out;
}

std::string opaque_token_key(std::string_view value, std::string_view prefix) {
  if (prefix == kRefreshTokenPrefix) {
    if (auto f = refresh_token_family(value)) {
      std::string key(f->family.substr(0, kTimeDigits));
      key += token_hash(f->family);
      key += ':';
      key += hex_digits(f->generation, kGenerationDigits);
      key += token_hash(value);
      return key;
    }
  }
  if (value.size() == prefix.size() + kTimeDigits + kRandomChars && value.starts_with(prefix)) {
    auto time = value.substr(prefix.size(), kTimeDigits);
    if (is_lower_hex(time)) {
      std::string key(time);
      key += '.';
      key += token_hash(value);
      return key;
    }
  }
  return token_hash(value);
}

}  // namespace stagepass
