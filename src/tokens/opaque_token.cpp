#include "tokens/opaque_token.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>

#include "core/base64url.hpp"
#include "tokens/access_token.hpp"

namespace stagepass {
namespace {

constexpr size_t kTimeDigits = 16;
constexpr size_t kRandomChars = 43;  // base64url of 32 bytes, unpadded

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

bool is_lower_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

std::string new_opaque_token(Random& random, const Clock& clock, std::string_view prefix) {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t t = next_issue_time(clock);
  std::string out(prefix);
  out.resize(prefix.size() + kTimeDigits);
  for (size_t i = 0; i < kTimeDigits; ++i) {
    out[prefix.size() + kTimeDigits - 1 - i] = kHex[t & 0xf];
    t >>= 4;
  }
  out += base64url_encode(random.bytes(32));
  return out;
}

std::string opaque_token_key(std::string_view value, std::string_view prefix) {
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
