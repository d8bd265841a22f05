#include "tokens/access_token.hpp"

#include <boost/json.hpp>

#include "core/base64url.hpp"
#include "crypto/crypto.hpp"

namespace stagepass {
namespace json = boost::json;

std::string mint_access_token(const Keyring& keys, const AccessClaims& c) {
  const int64_t issued = c.nbf != 0 ? c.nbf : c.iat;
  const OpenKey& key = keys.signing_key(issued);  // the key that signs at the issue time
  // The claims' object and its strings live in a buffer on the stack: no allocation for them.
  unsigned char memory[2048];
  json::monotonic_resource arena(memory, sizeof memory);
  json::object payload({{"iss", c.iss},
                        {"sub", c.sub},
                        {"aud", c.aud},
                        {"exp", c.exp},
                        {"iat", c.iat},
                        {"jti", c.jti},
                        {"client_id", c.client_id},
                        {"scope", c.scope}},
                       &arena);
  if (c.nbf != 0 && c.nbf != c.iat) payload["nbf"] = c.nbf;
  if (!c.gid.empty()) payload["gid"] = c.gid;
  if (c.rate_limit > 0) payload["rl"] = c.rate_limit;
  if (c.allowlisted) payload["al"] = *c.allowlisted;
  const std::string claims = json::serialize(payload);
  std::string token;
  token.reserve(key.access_token_header.size() + (claims.size() + 2) / 3 * 4 + 90);
  token += key.access_token_header;
  token += '.';
  base64url_append(token, claims);
  const std::string sig = crypto::ed25519_sign(key.secret_key, token);
  token += '.';
  base64url_append(token, sig);
  return token;
}

namespace {

std::optional<json::object> decode_part(std::string_view b64) {
  auto raw = base64url_decode(b64);
  if (!raw) return std::nullopt;
  json::error_code ec;
  auto v = json::parse(*raw, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

std::string str(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}
std::optional<int64_t> num(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
  return std::nullopt;
}

}  // namespace

Result<AccessClaims> verify_access_token(const Keyring& keys, std::string_view token,
                                         const VerifyOptions& opts) {
  size_t d1 = token.find('.');
  size_t d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos) {
    return fail(Error{ErrorCode::kMalformed, "not a JWS compact serialization"});
  }
  // RFC 7515 §2: base64url "with all trailing '=' characters omitted". One token, one
  // spelling: a padded copy is not the token that was issued.
  if (token.find('=') != std::string_view::npos) {
    return fail(Error{ErrorCode::kMalformed, "padded base64url in a JWS"});
  }
  auto header = decode_part(token.substr(0, d1));
  auto payload = decode_part(token.substr(d1 + 1, d2 - d1 - 1));
  auto sig = base64url_decode(token.substr(d2 + 1));
  if (!header || !payload || !sig) return fail(Error{ErrorCode::kMalformed, "undecodable JWT"});
  // RFC 9068 §4: resource servers MUST verify that the typ header value is "at+jwt".
  if (str(*header, "typ") != "at+jwt")
    return fail(Error{ErrorCode::kMalformed, "typ is not at+jwt"});
  // RFC 7515 §4.1.11: "If any of the listed extension Header Parameters are not understood
  // and supported by the recipient, then the JWS is invalid." This verifier supports no
  // extension, so any "crit" (an empty or malformed one too) makes the token invalid.
  if (header->contains("crit"))
    return fail(Error{ErrorCode::kMalformed, "unsupported critical header"});
  // issue15-fix:rotation: a key past its retire_at verifies nothing (it is no longer published).
  const OpenKey* key = keys.verifying_key(str(*header, "kid"), opts.now);
  if (!key) return fail(Error{ErrorCode::kUnknownKey, "unknown key"});
  if (str(*header, "alg") != key->alg) {
    return fail(Error{ErrorCode::kSignature, "alg does not match the key"});
  }
  if (!crypto::ed25519_verify(key->public_key, token.substr(0, d2), *sig)) {
    return fail(Error{ErrorCode::kSignature, "bad signature"});
  }
  AccessClaims c{str(*payload, "iss"),
                 str(*payload, "sub"),
                 str(*payload, "aud"),
                 str(*payload, "client_id"),
                 str(*payload, "scope"),
                 num(*payload, "iat").value_or(0),
                 num(*payload, "exp").value_or(0),
                 str(*payload, "jti"),
                 str(*payload, "gid")};
  c.kid = key->kid;
  // RFC 9068 §4: the issuer must be the one trusted, and "aud" must name this resource server.
  if (c.iss != opts.issuer) return fail(Error{ErrorCode::kWrongIssuer, "issuer mismatch"});
  if (c.aud != opts.audience) return fail(Error{ErrorCode::kWrongAudience, "audience mismatch"});
  if (c.sub.empty() || c.jti.empty()) return fail(Error{ErrorCode::kClaims, "no sub or jti"});
  // RFC 7519 §4.1.4: not accepted on or after exp (plus the leeway). Written so that no exp
  // overflows (exp comes from the token; now and leeway are ours and small).
  if (c.exp == 0 || opts.now - opts.leeway > c.exp) {
    return fail(Error{ErrorCode::kExpired, "token expired"});
  }
  auto nbf = num(*payload, "nbf").value_or(c.iat);
  if (nbf > opts.now + opts.leeway) {
    return fail(Error{ErrorCode::kNotYetValid, "token not yet valid"});
  }
  // After the time checks, so an expired token is answered as expired whatever it carries.
  // "rl" (private): absent means the resource server's default. Only the issuer writes it,
  // as a positive integer; anything else is no limit this verifier can apply.
  if (payload->contains("rl")) {
    auto rl = num(*payload, "rl");
    if (!rl || *rl <= 0) return fail(Error{ErrorCode::kClaims, "rl is not a positive integer"});
    c.rate_limit = *rl;
  }
  // "al" (private, issue15:devmode): absent for an app in extended mode. Only the issuer
  // writes it, as a boolean; anything else says nothing this verifier can apply.
  if (auto* al = payload->if_contains("al")) {
    if (!al->is_bool()) return fail(Error{ErrorCode::kClaims, "al is not a boolean"});
    c.allowlisted = al->as_bool();
  }
  return c;
}

std::string token_hash(std::string_view value) { return base64url_encode(crypto::sha256(value)); }

}  // namespace stagepass
