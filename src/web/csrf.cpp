#include "web/csrf.hpp"

#include "core/base64url.hpp"
#include "crypto/crypto.hpp"
#include "tokens/access_token.hpp"

namespace stagepass::web {

std::string Csrf::new_seed(Random& random) { return base64url_encode(random.bytes(32)); }

std::string Csrf::token(std::string_view seed, std::string_view session_cookie) const {
  // The seed has a fixed length (is_seed), so the message is unambiguous.
  std::string message(seed);
  message += '.';
  if (!session_cookie.empty()) message += token_hash(session_cookie);
  return base64url_encode(crypto::hmac_sha256(key_, message));
}

bool Csrf::verify(std::string_view seed, std::string_view session_cookie,
                  std::string_view token) const {
  if (!is_seed(seed)) return false;
  return crypto::constant_time_equal(this->token(seed, session_cookie), token);
}

}  // namespace stagepass::web
