// Reading token-endpoint answers (RFC 6749 §5.1 / §5.2) into TokenSets and Errors. Internal.
#pragma once

#include <string>

#include "http_client.hpp"
#include "stagepass/result.hpp"
#include "stagepass/tokens.hpp"

namespace stagepass::sdk::detail {

// A 200 answer becomes a TokenSet (expires_at = now + expires_in; a missing expires_in is
// taken as one hour); anything else becomes an Error of kind `oauth` carrying the RFC 6749
// `error` code, or `protocol` when the body is not an OAuth answer at all.
Result<TokenSet> parse_token_response(const HttpResponse& response, SystemTime now);

// The tokens to keep after a refresh: `fresh`, with the previous refresh token and scope
// kept when the server left them out (RFC 6749 §6: issuing a new refresh token is
// optional; Spotify stopped sending one in 2026 and clients that dropped the old one broke).
TokenSet merge_refreshed(const TokenSet& previous, TokenSet fresh);

// An error from a non-2xx Web API answer: Spotify's {"error":{"status","message"}} (its
// "reason", when present, becomes Error::code), an RFC 6750 WWW-Authenticate error, or the
// bare status when the body says nothing.
Error api_error(const HttpResponse& response);

}  // namespace stagepass::sdk::detail
