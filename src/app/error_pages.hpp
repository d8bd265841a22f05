// The 500 each API answers, in the format its clients parse, when a handler fails (throws, or
// builds a response the server refuses to send; see http::ServerErrorPage):
// - /api/* (token, revocation, introspection): RFC 6749 §5.2 JSON, error "server_error",
//   Cache-Control: no-store (§5.1);
// - /v1/* (the Web API): Spotify's error object {"error":{"status":500,"message":...}}.
// Other paths keep the server's text 500. Installed on the public router by `serve`.
#pragma once

#include "http/router.hpp"

namespace stagepass {

void add_error_pages(http::Router& router);

}  // namespace stagepass
