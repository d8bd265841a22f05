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
// A library that refuses a good signature, cannot sign or signs other bytes than the other makes
// the program exit 1 (make bench-smoke runs it). Run: build-bench/stagepass-bench-micro
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "checked_main.hpp"
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

// Set when a library refused a good signature or signed wrongly: main() then exits 1.
bool g_failed = false;

// The signature alone, the one cost every grant (sign) and every Web API call with a new token
// (verify) cannot avoid, by the library the server uses (libsodium: crypto::ed25519_sign and
// _verify, which access_token.cpp calls on the same signing input) and by OpenSSL, which the
// server links for TLS (issue 17 asked which verifies faster). OpenSSL's one-shot EdDSA has no
// streaming form: its context is set up for every message (EVP_DigestVerifyInit, included in
// the figure), as a verifier would have to. Keys are parsed once, untimed. Ed25519 signatures
// are deterministic, so both libraries must produce the very same bytes, checked after each
// sign loop. stagepass-bench-gateway's BM_SignatureOnly times libsodium's verify too, there
// with the base64url decoding of each token's signature.
struct SignatureFixture {
  struct PkeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
  };
  Fixture& base = fx();  // first: it initialises libsodium (SystemRandom) before any key
  crypto::Ed25519KeyPair pair = crypto::ed25519_generate();
  std::string message;
  std::string signature;  // by libsodium
  std::unique_ptr<EVP_PKEY, PkeyFree> public_key;
  std::unique_ptr<EVP_PKEY, PkeyFree> secret_key;

  SignatureFixture() {
    const std::string token = mint_access_token(*base.keys, base.claims);
    message = token.substr(0, token.rfind('.'));
    signature = crypto::ed25519_sign(pair.secret_key, message);
    // libsodium's secret key is the 32-byte seed followed by the public key (crypto.hpp).
    const auto* pub = reinterpret_cast<const unsigned char*>(pair.public_key.data());
    const auto* seed = reinterpret_cast<const unsigned char*>(pair.secret_key.reveal().data());
    public_key.reset(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, pub, 32));
    secret_key.reset(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed, 32));
  }
  SignatureFixture(const SignatureFixture&) = delete;
  SignatureFixture& operator=(const SignatureFixture&) = delete;
};

void fail(benchmark::State& state, const char* why) {
  g_failed = true;
  state.SkipWithError(why);
}

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

void BM_Ed25519Verify_libsodium(benchmark::State& state) {
  SignatureFixture f;
  for (auto _ : state) {
    if (!crypto::ed25519_verify(f.pair.public_key, f.message, f.signature)) {
      fail(state, "libsodium refused a good signature");
      break;
    }
  }
}
BENCHMARK(BM_Ed25519Verify_libsodium);

void BM_Ed25519Verify_OpenSSL(benchmark::State& state) {
  SignatureFixture f;
  MdCtx ctx(EVP_MD_CTX_new());
  if (!f.public_key || !ctx)
    return fail(state, "OpenSSL could not load the public key or make a context");
  const auto* sig = reinterpret_cast<const unsigned char*>(f.signature.data());
  const auto* msg = reinterpret_cast<const unsigned char*>(f.message.data());
  for (auto _ : state) {
    if (EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, f.public_key.get()) != 1 ||
        EVP_DigestVerify(ctx.get(), sig, f.signature.size(), msg, f.message.size()) != 1) {
      fail(state, "OpenSSL refused a good signature");
      break;
    }
  }
}
BENCHMARK(BM_Ed25519Verify_OpenSSL);

// crypto::ed25519_sign returns a new std::string (one allocation a call, as in the server);
// OpenSSL below writes into a buffer on the stack.
void BM_Ed25519Sign_libsodium(benchmark::State& state) {
  SignatureFixture f;
  std::string sig;
  for (auto _ : state) {
    sig = crypto::ed25519_sign(f.pair.secret_key, f.message);
    benchmark::DoNotOptimize(sig);
  }
  if (sig != f.signature) fail(state, "libsodium signed other bytes than before");
}
BENCHMARK(BM_Ed25519Sign_libsodium);

void BM_Ed25519Sign_OpenSSL(benchmark::State& state) {
  SignatureFixture f;
  MdCtx ctx(EVP_MD_CTX_new());
  if (!f.secret_key || !ctx)
    return fail(state, "OpenSSL could not load the secret key or make a context");
  unsigned char sig[64];
  size_t len = 0;
  bool signed_all = true;
  const auto* msg = reinterpret_cast<const unsigned char*>(f.message.data());
  for (auto _ : state) {
    len = sizeof sig;
    if (EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, f.secret_key.get()) != 1 ||
        EVP_DigestSign(ctx.get(), sig, &len, msg, f.message.size()) != 1) {
      signed_all = false;
      fail(state, "OpenSSL could not sign");
      break;
    }
    benchmark::DoNotOptimize(sig);
  }
  if (signed_all && std::string_view(reinterpret_cast<const char*>(sig), len) != f.signature)
    fail(state, "OpenSSL signed other bytes than libsodium");
}
BENCHMARK(BM_Ed25519Sign_OpenSSL);

}  // namespace

int main(int argc, char** argv) { return stagepass::bench::run_checked(argc, argv, g_failed); }
