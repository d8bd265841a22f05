// JwksClient: for `serve --roles api`, the issuer's signing keys fetched from
// <issuer>/.well-known/jwks.json, so tokens are validated offline with no access to the
// accounts database. Blocking: call from Background or at startup, never on an I/O thread.
//
// The keys decide which tokens this node accepts, so they travel over https: TLS 1.2 or
// later, the issuer's certificate verified against the system trust store (OpenSSL's default
// paths; SSL_CERT_FILE / SSL_CERT_DIR name a private CA) and checked against the issuer's
// host name or IP address. Plain http only when the issuer is a loopback address (the
// accounts node on the same machine). Every fetch is bounded by a deadline.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tokens/keyring.hpp"

namespace stagepass {

// Why the keys cannot be fetched from `issuer` at all (plain http to a host that is not
// loopback, not an http(s) URL), or nullopt when they can. One line, for startup errors.
std::optional<std::string> jwks_issuer_problem(const std::string& issuer);

// nullptr on any failure (policy, network, TLS, status, document); `error` says why. The
// whole fetch (connect, TLS handshake, exchange) ends within `deadline`; a document larger
// than `max_bytes` is refused. `max_age` (when given) receives the answer's Cache-Control
// max-age in seconds, or -1 when it has none.
std::shared_ptr<const Keyring> fetch_jwks(const std::string& issuer, std::chrono::seconds deadline,
                                          size_t max_bytes, std::string& error,
                                          int64_t* max_age = nullptr);

// The max-age directive of a Cache-Control value (RFC 9111 §5.2.2.1: "max-age=" delta-seconds,
// the quoted form tolerated), or -1 when absent or not a number.
int64_t cache_control_max_age(std::string_view cache_control);

}  // namespace stagepass
