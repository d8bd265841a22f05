// Memory of the verified-token cache: mints N distinct access tokens (default 1,000,000)
// shaped like real ones, verifies each once through TokenVerifier (so each is cached), and
// prints the growth of the process's resident memory. Usage: stagepass-bench-cache-memory [N]
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "crypto/crypto.hpp"
#include "tokens/token_verifier.hpp"

using namespace stagepass;

static long rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? std::stoul(argv[1]) : 1000000;
  SystemRandom rng;
  SystemClock clock;
  auto kp = crypto::ed25519_generate();
  auto keys = std::make_shared<Keyring>(
      std::vector<OpenKey>{{"k1", "EdDSA", kp.public_key, kp.secret_key}});
  const std::string iss = "http://127.0.0.1:8080";
  RevocationSet revoked(3600, 1000);
  TokenVerifier verifier(keys, {iss, iss + "/v1", 0, 10}, clock, rng, revoked, n);
  const long before = rss_kib();
  size_t ok = 0;
  for (size_t i = 0; i < n; ++i) {
    // Minted one at a time and dropped after verification: only the cache keeps memory.
    std::string token =
        mint_access_token(*keys, {iss, rng.id22(), iss + "/v1", "0123456789abcdef0123456789abcdef",
                                  "user-read-private user-read-email user-library-read",
                                  clock.now(), clock.now() + 3600, rng.id22(), rng.id22()});
    ok += verifier.verify(token).ok();
  }
  const long after = rss_kib();
  std::printf(
      "{\"tokens\":%zu,\"verified\":%zu,\"cached\":%zu,\"rss_growth_mib\":%.1f,\"bytes_per_token\":"
      "%.0f}\n",
      n, ok, verifier.cache().size(), (after - before) / 1024.0,
      (after - before) * 1024.0 / double(n));
  return ok == n ? 0 : 1;
}
