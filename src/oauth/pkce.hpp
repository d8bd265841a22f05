// PKCE (RFC 7636), S256 only.
#pragma once

#include <string>
#include <string_view>

namespace stagepass::oauth {

// RFC 7636 §4.1: 43..128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
bool pkce_verifier_well_formed(std::string_view verifier);
// An S256 challenge is base64url(SHA-256(verifier)): exactly 43 base64url characters.
bool pkce_challenge_well_formed(std::string_view challenge);
// BASE64URL(SHA256(verifier)) (RFC 7636 §4.6), the S256 challenge of this verifier. The
// authorization_code grant computes it before its write; the store compares it with the
// code's challenge in constant time (CodePolicy::verifier_s256).
std::string pkce_s256(std::string_view verifier);

}  // namespace stagepass::oauth
