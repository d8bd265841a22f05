#include "core/random.hpp"

#include <pthread.h>
#include <sodium.h>
#include <sys/random.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
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
  return out;
}

namespace {

// Bumped in a forked child, so that it never hands out the ids left in its parent's buffer.
std::atomic<uint64_t> fork_epoch{0};
void after_fork_in_child() { fork_epoch.fetch_add(1, std::memory_order_relaxed); }

// The bytes drawn ahead for ids, per thread (constant-initialised: no guard on each use).
constexpr size_t kAhead = 4096;
struct IdBytes {
  std::array<unsigned char, kAhead> bytes;
  size_t next = kAhead;  // all used
  uint64_t epoch = 0;
};
thread_local IdBytes ahead;

// The kernel's CSPRNG straight, 4 KiB in one call (libsodium 1.0.18's randombytes_buf asks
// getrandom() for 256 bytes at a time).
void draw(unsigned char* out, size_t n) {
  while (n > 0) {
    const ssize_t got = ::getrandom(out, n, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      randombytes_buf(out, n);  // never expected (ENOSYS on a kernel before 3.17)
      return;
    }
    out += got;
    n -= static_cast<size_t>(got);
  }
}

}  // namespace

SystemRandom::SystemRandom() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  static const bool registered = ::pthread_atfork(nullptr, nullptr, after_fork_in_child) == 0;
  if (!registered) throw std::runtime_error("pthread_atfork failed");
}

void SystemRandom::fill(void* out, size_t n) { randombytes_buf(out, n); }

void SystemRandom::fill_for_id(void* out, size_t n) {
  const uint64_t epoch = fork_epoch.load(std::memory_order_relaxed);
  if (ahead.epoch != epoch) {
    ahead.next = kAhead;
    ahead.epoch = epoch;
  }
  auto* p = static_cast<unsigned char*>(out);
  while (n > 0) {
    if (ahead.next == kAhead) {
      draw(ahead.bytes.data(), kAhead);
      ahead.next = 0;
    }
    const size_t take = std::min(n, kAhead - ahead.next);
    std::memcpy(p, ahead.bytes.data() + ahead.next, take);
    ahead.next += take;
    p += take;
    n -= take;
  }
}

}  // namespace stagepass
