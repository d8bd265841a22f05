// base64url without padding (RFC 4648 §5), as used by JWS and our opaque tokens,
// and standard base64 for HTTP Basic credentials.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace stagepass {

std::string base64url_encode(std::string_view bytes);
// base64url_encode(bytes) appended to `out` (one string built in place, no temporary).
void base64url_append(std::string& out, std::string_view bytes);
// Accepts input with or without padding; nullopt on any invalid character.
std::optional<std::string> base64url_decode(std::string_view text);
// Standard alphabet with padding (RFC 4648 §4), for "Authorization: Basic".
std::optional<std::string> base64_decode(std::string_view text);
std::string base64_encode(std::string_view bytes);
// Whether every character of `text` is of the base64url alphabet (no padding).
bool is_base64url(std::string_view text);
// Whether every character of `text` is a lowercase hex digit.
bool is_lower_hex(std::string_view text);

}  // namespace stagepass
