// Harness: the access-token (RFC 9068 JWT) parser and verifier (tokens/access_token) with a
// real Ed25519 keyring, and the JWKS parser the api-only role trusts (Keyring::from_jwks).
// The keys are fixed (a constant seed) so committed seed tokens verify.
//
// Input: a mode byte ('0'..'3' in the seeds; the low two bits count), then
//  0: a compact JWS as a resource server receives it;
//  1: edits of a valid token: 4-byte records [pos_hi pos_lo op byte] that replace, insert,
//     erase or swap characters of the token (mutations of a valid token);
//  2: "<header JSON>\n<payload JSON>" that the harness signs with the issuer's key, so the
//     claim checks (iss, aud, exp, nbf, typ, kid, alg) see arbitrary values;
//  3: a JWKS document.
// Invariants: an accepted token has this issuer and audience, a subject and a jti and is
// inside its lifetime (computed without overflow); an edited token verifies only if it is
// the original, byte for byte (no '=' padding either); a JWKS keyring round-trips through
// jwks_json() and verifies the valid token only if it publishes the issuer's key.
#include <sodium.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/base64url.hpp"
#include "crypto/crypto.hpp"
#include "fuzz_check.hpp"
#include "tokens/access_token.hpp"
#include "tokens/keyring.hpp"

using namespace stagepass;

namespace {

constexpr int64_t kNow = 1700000000;
const VerifyOptions kOpts{"https://sp.test", "https://sp.test/v1", kNow, 30};

OpenKey fixed_key(const std::string& kid, unsigned char fill) {
  unsigned char seed[crypto_sign_SEEDBYTES], pk[crypto_sign_PUBLICKEYBYTES],
      sk[crypto_sign_SECRETKEYBYTES];
  for (size_t i = 0; i < sizeof seed; ++i) seed[i] = static_cast<unsigned char>(fill + i);
  if (sodium_init() < 0 || crypto_sign_seed_keypair(pk, sk, seed) != 0) std::abort();
  return {kid, "EdDSA", std::string(reinterpret_cast<char*>(pk), sizeof pk),
          Secret(std::string(reinterpret_cast<char*>(sk), sizeof sk))};
}

struct World {
  // An older key and the signing key ("fuzz-k1"), as a keyring after one rotation.
  Keyring keys{{fixed_key("fuzz-k0", 0x40), fixed_key("fuzz-k1", 0x01)}};
  std::string valid =
      mint_access_token(keys, {"https://sp.test", "user-1", "https://sp.test/v1", "client-1",
                               "streaming", kNow - 60, kNow + 3540, "jti-1", "grant-1"});
  World() {
    if (!verify_access_token(keys, valid, kOpts)) std::abort();
  }
};

World& world() {
  static World w;
  return w;
}

void check_accepted(const Result<AccessClaims>& r, std::string_view in) {
  if (!r) {
    const ErrorCode code = r.error().code;
    FUZZ_CHECK(code == ErrorCode::kMalformed || code == ErrorCode::kUnknownKey ||
                   code == ErrorCode::kSignature || code == ErrorCode::kClaims ||
                   code == ErrorCode::kExpired || code == ErrorCode::kWrongIssuer ||
                   code == ErrorCode::kWrongAudience || code == ErrorCode::kNotYetValid,
               error_code_name(code));
    return;
  }
  FUZZ_CHECK(r->iss == kOpts.issuer && r->aud == kOpts.audience, in);
  FUZZ_CHECK(!r->sub.empty() && !r->jti.empty(), in);
  // RFC 9068 §4 / RFC 7519 §4.1.4: reject after exp (plus the bounded leeway).
  FUZZ_CHECK(r->exp != 0, in);
  FUZZ_CHECK(static_cast<__int128>(kOpts.now) <= static_cast<__int128>(r->exp) + kOpts.leeway, in);
}

void edited_token(std::string_view edits) {
  const World& w = world();
  std::string t = w.valid;
  for (size_t i = 0; i + 4 <= edits.size(); i += 4) {
    size_t pos =
        (static_cast<unsigned char>(edits[i]) << 8 | static_cast<unsigned char>(edits[i + 1]));
    unsigned char op = static_cast<unsigned char>(edits[i + 2]);
    char b = edits[i + 3];
    pos %= t.size() + 1;
    switch (op % 4) {
      case 0:
        if (pos < t.size()) t[pos] = b;
        break;
      case 1:
        t.insert(t.begin() + pos, b);
        break;
      case 2:
        if (pos < t.size()) t.erase(pos, 1);
        break;
      default:
        if (pos < t.size() && !t.empty())
          std::swap(t[pos], t[(pos + static_cast<unsigned char>(b)) % t.size()]);
    }
    if (t.empty()) return;
  }
  auto r = verify_access_token(w.keys, t, kOpts);
  check_accepted(r, t);
  if (r) FUZZ_CHECK(t == w.valid, t);
}

void signed_claims(std::string_view in) {
  const World& w = world();
  size_t nl = in.find('\n');
  std::string header = nl == std::string_view::npos
                           ? std::string(R"({"alg":"EdDSA","typ":"at+jwt","kid":"fuzz-k1"})")
                           : std::string(in.substr(0, nl));
  std::string_view payload = nl == std::string_view::npos ? in : in.substr(nl + 1);
  std::string input = base64url_encode(header) + "." + base64url_encode(payload);
  std::string token =
      input + "." + base64url_encode(crypto::ed25519_sign(w.keys.signing_key(0).secret_key, input));
  check_accepted(verify_access_token(w.keys, token, kOpts), in);
}

void jwks(std::string_view in) {
  const World& w = world();
  auto ring = Keyring::from_jwks(in);
  if (!ring) return;
  auto again = Keyring::from_jwks(ring->jwks_json(0));
  FUZZ_CHECK(again != nullptr, in);
  FUZZ_CHECK(again->jwks_json(0) == ring->jwks_json(0), in);
  const OpenKey& signing = w.keys.signing_key(0);
  const OpenKey* k = ring->find(signing.kid);
  bool publishes_ours = k && k->public_key == signing.public_key;
  auto r = verify_access_token(*ring, w.valid, kOpts);
  check_accepted(r, in);
  FUZZ_CHECK(r.ok() == publishes_ours, in);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] & 3) {
    case 0:
      check_accepted(verify_access_token(world().keys, in, kOpts), in);
      break;
    case 1:
      edited_token(in);
      break;
    case 2:
      signed_claims(in);
      break;
    default:
      jwks(in);
  }
  return 0;
}
