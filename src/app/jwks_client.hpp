// JwksClient: for `serve --roles api`, the issuer's signing keys fetched over HTTP from
// <issuer>/.well-known/jwks.json, so tokens are validated offline with no access to the
// accounts database. Blocking: call from Background or at startup, never on an I/O thread.
// Only http:// issuers are fetched directly (put TLS in front of the issuer's internal port).
#pragma once

#include <memory>
#include <string>

#include "tokens/keyring.hpp"

namespace stagepass {

// nullptr on any failure (network, status, document); `error` says why.
std::shared_ptr<const Keyring> fetch_jwks(const std::string& issuer, std::string& error);

}  // namespace stagepass
