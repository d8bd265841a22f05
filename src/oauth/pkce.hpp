// PKCE (RFC 7636), S256 only.
#pragma once

#include <string_view>

namespace stagepass::oauth {

// RFC 7636 §4.1: 43..128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
bool pkce_verifier_well_formed(std::string_view verifier);
// An S256 challenge is base64url(SHA-256(verifier)): exactly 43 base64url characters.
bool pkce_challenge_well_formed(std::string_view challenge);
// Constant-time check of BASE64URL(SHA256(verifier)) == challenge (RFC 7636 §4.6).
bool pkce_s256_matches(std::string_view verifier, std::string_view challenge);

}  // namespace stagepass::oauth
