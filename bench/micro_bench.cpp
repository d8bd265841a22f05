// Google Benchmark microbenchmarks of the hot functions on every request: JWT mint and
// verify, the verified-token cache hit, form parsing, the client-secret check, scope checks
// and the revocation-set lookup. Run: build-bench/stagepass-bench-micro
#include <benchmark/benchmark.h>

#include "core/random.hpp"
#include "core/text.hpp"
#include "crypto/crypto.hpp"
#include "domain/scope.hpp"
#include "oauth/client_auth.hpp"
#include "tokens/token_verifier.hpp"

using namespace stagepass;

namespace {

struct Fixture {
  SystemRandom rng;
  SystemClock clock;
  std::shared_ptr<Keyring> keys;
  std::string iss = "http://127.0.0.1:8080";
  AccessClaims claims;
  Fixture() {
    auto kp = crypto::ed25519_generate();
    keys = std::make_shared<Keyring>(
        std::vector<OpenKey>{{"k1", "EdDSA", kp.public_key, kp.secret_key}});
    claims = {iss,
              rng.id22(),
              iss + "/v1",
              std::string(32, 'c'),
              "user-read-private user-read-email user-library-read",
              clock.now(),
              clock.now() + 3600,
              rng.id22(),
              rng.id22()};
  }
};
Fixture& fx() {
  static Fixture f;
  return f;
}

void BM_JwtMint(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(mint_access_token(*fx().keys, fx().claims));
}
BENCHMARK(BM_JwtMint);

void BM_JwtVerify(benchmark::State& state) {
  auto token = mint_access_token(*fx().keys, fx().claims);
  VerifyOptions o{fx().iss, fx().iss + "/v1", fx().clock.now(), 10};
  for (auto _ : state) benchmark::DoNotOptimize(verify_access_token(*fx().keys, token, o));
}
BENCHMARK(BM_JwtVerify);

void BM_VerifierCacheHit(benchmark::State& state) {
  RevocationSet revoked(3600, 1000);
  TokenVerifier verifier(fx().keys, {fx().iss, fx().iss + "/v1", 0, 10}, fx().clock, fx().rng,
                         revoked, 1000);
  auto token = mint_access_token(*fx().keys, fx().claims);
  (void)verifier.verify(token);
  for (auto _ : state) benchmark::DoNotOptimize(verifier.verify(token));
}
BENCHMARK(BM_VerifierCacheHit);

void BM_FormParse(benchmark::State& state) {
  const std::string body =
      "grant_type=refresh_token&refresh_token=spr_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcdefg"
      "&scope=user-read-private%20user-read-email";
  for (auto _ : state) benchmark::DoNotOptimize(Form::parse(body));
}
BENCHMARK(BM_FormParse);

void BM_ClientSecretCheck(benchmark::State& state) {
  const std::string secret = fx().rng.token("sps_");
  const std::string stored = oauth::client_secret_hash(secret);
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        crypto::constant_time_equal(oauth::client_secret_hash(secret), stored));
  }
}
BENCHMARK(BM_ClientSecretCheck);

void BM_ScopeCheck(benchmark::State& state) {
  for (auto _ : state) {
    auto granted = ScopeSet::parse(fx().claims.scope);
    benchmark::DoNotOptimize(granted.contains("user-library-read"));
  }
}
BENCHMARK(BM_ScopeCheck);

// The verifier's per-request check (RevocationSet::covers): a token whose grant, client and
// jti are not revoked, against 100,000 revoked grants of 100 clients.
void BM_RevocationCheck(benchmark::State& state) {
  RevocationSet revoked(3600, 1000000);
  for (int i = 0; i < 100000; ++i) {
    revoked.add(fx().rng.id22(), "client-" + std::to_string(i % 100), 0);
  }
  const std::string gid = fx().rng.id22();
  const std::string client = "client-" + std::to_string(100);
  const std::string jti = fx().rng.id22();
  for (auto _ : state) benchmark::DoNotOptimize(revoked.covers(gid, client, jti, 1));
}
BENCHMARK(BM_RevocationCheck);

}  // namespace

BENCHMARK_MAIN();
