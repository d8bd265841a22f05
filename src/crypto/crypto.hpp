// Hashing, constant-time comparison, password hashing, Ed25519 signatures and key sealing.
// All built on libsodium. Functions are pure and thread-safe (sodium_init() must have run:
// constructing SystemRandom does it).
// Randomness: values the rest of the server uses come from the injected Random
// (core/random.hpp), never from here. Only where a predictable value would break the
// primitive itself do these functions draw on libsodium's CSPRNG directly: the salt of
// password_hash, the key pair of ed25519_generate and the nonce of seal (a test Random that
// repeats itself must never make two seals under one master key share a nonce).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "core/secret.hpp"

namespace stagepass::crypto {

// SHA-256 of the input, raw 32 bytes. High-entropy values (refresh tokens, codes, client
// secrets) are stored only as this hash: a slow hash would add nothing but CPU.
std::string sha256(std::string_view data);
// A keyed 128-bit digest (SipHash-2-4-128) for in-memory lookup keys: ~10x faster than
// SHA-256 on a 600-byte token, and without `key` nobody can make two inputs collide.
// `key` is 16 random bytes (Random::bytes); never store or send these digests.
std::array<unsigned char, 16> keyed_digest128(std::string_view key, std::string_view data);
// HMAC-SHA-256, raw 32 bytes.
std::string hmac_sha256(std::string_view key, std::string_view data);
// Compares in time that depends only on the lengths.
bool constant_time_equal(std::string_view a, std::string_view b);

// Argon2id (libsodium INTERACTIVE limits). Costs ~0.1-0.4 s: never call on an I/O thread.
std::string password_hash(std::string_view password);
bool password_verify(std::string_view encoded_hash, std::string_view password);

// Ed25519.
struct Ed25519KeyPair {
  std::string public_key;  // 32 bytes
  Secret secret_key;       // 64 bytes (seed + public key), libsodium layout
};
Ed25519KeyPair ed25519_generate();
std::string ed25519_sign(const Secret& secret_key, std::string_view message);  // 64 bytes
bool ed25519_verify(std::string_view public_key, std::string_view message,
                    std::string_view signature);

// Authenticated encryption under a 32-byte master key (XSalsa20-Poly1305, random nonce
// prepended). open() returns nullopt when the box was tampered with or the key is wrong.
std::string seal(const Secret& master_key, std::string_view plaintext);
std::optional<Secret> open(const Secret& master_key, std::string_view box);

}  // namespace stagepass::crypto
