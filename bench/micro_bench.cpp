// Google Benchmark microbenchmarks of the functions the server calls on every request, each
// named after its caller (checked against the code paths of issue 17):
//   token endpoint   form parsing (Form::parse), the client-secret check (client_auth.cpp's
//                    live_secret_matching: one digest, compared with each live secret), JWT
//                    mint (TokenIssuer), a new refresh token and the storage key of a presented
//                    refresh token or code (new_opaque_token, refresh_token_key)
//   Web API          TokenVerifier::verify on a cache hit (warm) and on a new token (cold:
//                    signature, claims, cache insertion), the revocation check inside it
//                    (RevocationSet::covers, sized as serve.cpp sizes it), the scope check and
//                    the per-app rate limit (Gateway: RateLimiter::admit)
//   both             the Ed25519 signature alone, signed and verified by libsodium (what the
//                    server calls) and by OpenSSL 3, for comparison
// A library that refuses a good signature or cannot sign makes the program exit 1 (make
// bench-smoke runs it). Run: build-bench/stagepass-bench-micro
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <memory>
#include <string>
#include <vector>

#include "core/random.hpp"
#include "core/text.hpp"
#include "crypto/crypto.hpp"
#include "domain/scope.hpp"
#include "monitor/rate_limiter.hpp"
#include "oauth/client_auth.hpp"
#include "tokens/opaque_token.hpp"
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

// Cold GET /v1/me: every token new to the verifier (Ed25519 verification, claims, cache
// insertion); the verifier is replaced, untimed, whenever the pre-minted tokens come round.
void BM_VerifierCacheMiss(benchmark::State& state) {
  RevocationSet revoked(3600, 1000);
  std::vector<std::string> tokens;
  AccessClaims claims = fx().claims;
  for (int i = 0; i < 1024; ++i) {
    claims.jti = fx().rng.id22();
    tokens.push_back(mint_access_token(*fx().keys, claims));
  }
  auto make = [&] {
    return std::make_unique<TokenVerifier>(fx().keys,
                                           VerifyOptions{fx().iss, fx().iss + "/v1", 0, 10},
                                           fx().clock, fx().rng, revoked, 1000000);
  };
  auto verifier = make();
  size_t i = 0;
  for (auto _ : state) {
    if (i == tokens.size()) {
      state.PauseTiming();
      verifier = make();
      i = 0;
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize(verifier->verify(tokens[i++]));
  }
}
BENCHMARK(BM_VerifierCacheMiss);

void BM_FormParse(benchmark::State& state) {
  const std::string body =
      "grant_type=refresh_token&refresh_token=spr_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcdefg"
      "&scope=user-read-private%20user-read-email";
  for (auto _ : state) benchmark::DoNotOptimize(Form::parse(body));
}
BENCHMARK(BM_FormParse);

// client_auth.cpp's live_secret_matching: the presented secret hashed once and compared in
// constant time with every live secret of the client (here two: current and retiring).
void BM_ClientSecretCheck(benchmark::State& state) {
  const std::string secret = fx().rng.token("sps_");
  const std::string stored[] = {oauth::client_secret_hash(fx().rng.token("sps_")),
                                oauth::client_secret_hash(secret)};
  for (auto _ : state) {
    const std::string digest = oauth::client_secret_hash(secret);
    bool matched = false;
    for (const auto& s : stored) matched |= crypto::constant_time_equal(digest, s);
    benchmark::DoNotOptimize(matched);
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

// The verifier's per-request check (RevocationSet::covers; the introspection endpoint makes
// the same call): a token whose grant, client and jti are not revoked, against 100,000
// revoked grants of 100 clients, in a set built as serve.cpp builds it with the defaults
// (retention access-token TTL 3600 s + clock skew 10 s, Tunables' 1,000,000 entries, slack
// = the clock skew).
void BM_RevocationCheck(benchmark::State& state) {
  RevocationSet revoked(3600 + 10, 1000000, 10);
  for (int i = 0; i < 100000; ++i) {
    revoked.add(fx().rng.id22(), "client-" + std::to_string(i % 100), 0);
  }
  const std::string gid = fx().rng.id22();
  const std::string client = "client-" + std::to_string(100);
  const std::string jti = fx().rng.id22();
  for (auto _ : state) benchmark::DoNotOptimize(revoked.covers(gid, client, jti, 1));
}
BENCHMARK(BM_RevocationCheck);

// Gateway: every Web API call is admitted against its app's 30 s limit and daily quota.
void BM_RateLimitAdmit(benchmark::State& state) {
  RateLimiter limiter;
  const std::string client = std::string(32, 'c');
  const RateLimiter::Limits limits{1000000000, 5000000};
  const int64_t now = fx().clock.now();
  for (auto _ : state) benchmark::DoNotOptimize(limiter.admit(client, limits, now));
}
BENCHMARK(BM_RateLimitAdmit);

// Refresh grant: the successor token (TokenIssuer::refresh_token) ...
void BM_NewRefreshToken(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(new_opaque_token(fx().rng, fx().clock, kRefreshTokenPrefix));
  }
}
BENCHMARK(BM_NewRefreshToken);

// ... and the storage key of the presented one (a code's is the same function).
void BM_RefreshTokenKey(benchmark::State& state) {
  const std::string value = new_opaque_token(fx().rng, fx().clock, kRefreshTokenPrefix);
  for (auto _ : state) benchmark::DoNotOptimize(refresh_token_key(value));
}
BENCHMARK(BM_RefreshTokenKey);

// The signature alone, the one cost every grant (sign) and every Web API call with a new token
// (verify) cannot avoid, by the library the server uses (libsodium, crypto::ed25519_*) and by
// OpenSSL 3, which the server links for TLS (issue 17 asked which is faster). OpenSSL's one-shot
// EdDSA needs its context set up per message (EVP_DigestVerifyInit), as a verifier would do it;
// the key is parsed once, untimed. The message is an access token's signing input.
// Set when a library refused a good signature or could not sign: main() then exits 1.
bool g_failed = false;

struct SignatureFixture {
  crypto::Ed25519KeyPair pair = crypto::ed25519_generate();
  std::string message;
  std::string signature;
  EVP_PKEY* public_key = nullptr;
  EVP_PKEY* secret_key = nullptr;
  SignatureFixture() {
    const std::string token = mint_access_token(*fx().keys, fx().claims);
    message = token.substr(0, token.rfind('.'));
    signature = crypto::ed25519_sign(pair.secret_key, message);
    const auto* pub = reinterpret_cast<const unsigned char*>(pair.public_key.data());
    const auto* seed = reinterpret_cast<const unsigned char*>(pair.secret_key.reveal().data());
    public_key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, pub, 32);
    secret_key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed, 32);
  }
  ~SignatureFixture() {
    EVP_PKEY_free(public_key);
    EVP_PKEY_free(secret_key);
  }
};

void BM_Ed25519Verify_libsodium(benchmark::State& state) {
  SignatureFixture f;
  for (auto _ : state) {
    if (!crypto::ed25519_verify(f.pair.public_key, f.message, f.signature)) {
      g_failed = true;
      state.SkipWithError("libsodium refused a good signature");
      break;
    }
  }
}
BENCHMARK(BM_Ed25519Verify_libsodium);

void BM_Ed25519Verify_OpenSSL(benchmark::State& state) {
  SignatureFixture f;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const auto* sig = reinterpret_cast<const unsigned char*>(f.signature.data());
  const auto* msg = reinterpret_cast<const unsigned char*>(f.message.data());
  for (auto _ : state) {
    if (EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, f.public_key) != 1 ||
        EVP_DigestVerify(ctx, sig, f.signature.size(), msg, f.message.size()) != 1) {
      g_failed = true;
      state.SkipWithError("OpenSSL refused a good signature");
      break;
    }
  }
  EVP_MD_CTX_free(ctx);
}
BENCHMARK(BM_Ed25519Verify_OpenSSL);

void BM_Ed25519Sign_libsodium(benchmark::State& state) {
  SignatureFixture f;
  for (auto _ : state) benchmark::DoNotOptimize(crypto::ed25519_sign(f.pair.secret_key, f.message));
}
BENCHMARK(BM_Ed25519Sign_libsodium);

void BM_Ed25519Sign_OpenSSL(benchmark::State& state) {
  SignatureFixture f;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char sig[64];
  const auto* msg = reinterpret_cast<const unsigned char*>(f.message.data());
  for (auto _ : state) {
    size_t len = sizeof sig;
    if (EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, f.secret_key) != 1 ||
        EVP_DigestSign(ctx, sig, &len, msg, f.message.size()) != 1) {
      g_failed = true;
      state.SkipWithError("OpenSSL could not sign");
      break;
    }
    benchmark::DoNotOptimize(sig);
  }
  EVP_MD_CTX_free(ctx);
}
BENCHMARK(BM_Ed25519Sign_OpenSSL);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return g_failed ? 1 : 0;
}
