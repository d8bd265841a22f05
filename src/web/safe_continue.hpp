// The page a person returns to after signing in or signing up (`continue`), as it may be
// written into a Location header and a form: only a path on this site, of safe characters.
// Pure function, thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace stagepass::web {

// Longest `continue` kept: the /authorize request a sign-in resumes fits with room to spare,
// and the Location header stays far below the server's header limit.
inline constexpr size_t kMaxContinueLength = 8192;

// `target` when it is a same-origin path: one leading '/', not followed by '/' or '\' (a
// browser reads "//host" and "/\host" as another origin), every byte a printable ASCII
// character of RFC 3986 (unreserved, sub-delims, ':', '@', '/', '?', '#', or a complete
// %XX escape) — so no CR, LF, TAB, NUL, space, backslash, control or non-ASCII byte, which
// would split the response or be dropped by a browser into another origin — and at most
// kMaxContinueLength bytes. Anything else (absent, empty, absolute, relative) becomes "/".
std::string safe_continue(const std::optional<std::string>& target);

}  // namespace stagepass::web
