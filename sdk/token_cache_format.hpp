// The bytes of tokens.cache: entries as JSON, sealed with libsodium's secretbox. Internal.
//
// Layout: "SPTC" (4 bytes), version (1 byte, 1), nonce (24 bytes), then
// crypto_secretbox_easy(JSON) under the 32-byte cache key. The JSON is
//   {"v":1,"entries":{"<key>":{"access_token","refresh_token","token_type","scope",
//                              "expires_at","issued_at"}}}
// with times as epoch milliseconds.
//
// Pure functions, no I/O, safe from any thread. Plaintext copies are wiped before return.
// Callers must have called sodium_init().
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "stagepass/tokens.hpp"

namespace stagepass::sdk::detail {

using TokenEntries = std::map<std::string, TokenSet>;

// "SPTC" version nonce secretbox(json), with a fresh random nonce. `key` is 32 bytes.
std::vector<unsigned char> seal_entries(const TokenEntries& entries, const std::string& key);

// nullopt when `bytes` is not a cache sealed under `key` (another key, damage, another
// format).
std::optional<TokenEntries> open_sealed_entries(const std::vector<unsigned char>& bytes,
                                                const std::string& key);

}  // namespace stagepass::sdk::detail
