#include "oauth/pkce.hpp"

#include <algorithm>
#include <cctype>

#include "core/base64url.hpp"
#include "crypto/crypto.hpp"

namespace stagepass::oauth {

bool pkce_verifier_well_formed(std::string_view v) {
  return v.size() >= 43 && v.size() <= 128 && std::all_of(v.begin(), v.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
                  c == '~';
         });
}

bool pkce_challenge_well_formed(std::string_view c) {
  return c.size() == 43 && std::all_of(c.begin(), c.end(), [](char ch) {
           return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_';
         });
}

std::string pkce_s256(std::string_view verifier) {
  return base64url_encode(crypto::sha256(verifier));
}

}  // namespace stagepass::oauth
