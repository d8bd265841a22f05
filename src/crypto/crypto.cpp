#include "crypto/crypto.hpp"

#include <sodium.h>

#include <stdexcept>

namespace stagepass::crypto {
namespace {

const unsigned char* u8(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* u8(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

}  // namespace

std::string sha256(std::string_view data) {
  std::string out(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(u8(out), u8(data), data.size());
  return out;
}

std::array<unsigned char, 16> keyed_digest128(std::string_view key, std::string_view data) {
  static_assert(crypto_shorthash_siphashx24_BYTES == 16);
  if (key.size() != crypto_shorthash_siphashx24_KEYBYTES) {
    throw std::invalid_argument("keyed_digest128: the key must be 16 bytes");
  }
  std::array<unsigned char, 16> out;
  crypto_shorthash_siphashx24(out.data(), u8(data), data.size(), u8(key));
  return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  std::string out(crypto_auth_hmacsha256_BYTES, '\0');
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, u8(key), key.size());
  crypto_auth_hmacsha256_update(&st, u8(data), data.size());
  crypto_auth_hmacsha256_final(&st, u8(out));
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return a.empty() || sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string password_hash(std::string_view password) {
  std::string out(crypto_pwhash_STRBYTES, '\0');
  if (crypto_pwhash_str(out.data(), password.data(), password.size(),
                        crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    throw std::runtime_error("out of memory while hashing a password");
  }
  out.resize(std::char_traits<char>::length(out.c_str()));
  return out;
}

bool password_verify(std::string_view encoded_hash, std::string_view password) {
  std::string h(encoded_hash);  // needs NUL termination
  return crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0;
}

Ed25519KeyPair ed25519_generate() {
  std::string pk(crypto_sign_PUBLICKEYBYTES, '\0');
  std::string sk(crypto_sign_SECRETKEYBYTES, '\0');
  crypto_sign_keypair(u8(pk), u8(sk));
  Ed25519KeyPair kp{pk, Secret(sk)};
  sodium_memzero(sk.data(), sk.size());
  return kp;
}

std::string ed25519_sign(const Secret& secret_key, std::string_view message) {
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(u8(sig), nullptr, u8(message), message.size(), u8(secret_key.reveal()));
  return sig;
}

bool ed25519_verify(std::string_view public_key, std::string_view message,
                    std::string_view signature) {
  if (public_key.size() != crypto_sign_PUBLICKEYBYTES || signature.size() != crypto_sign_BYTES) {
    return false;
  }
  return crypto_sign_verify_detached(u8(signature), u8(message), message.size(), u8(public_key)) ==
         0;
}

std::string seal(const Secret& master_key, std::string_view plaintext) {
  if (master_key.reveal().size() != crypto_secretbox_KEYBYTES) {
    throw std::invalid_argument("master key must be 32 bytes");
  }
  std::string out(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plaintext.size(), '\0');
  randombytes_buf(out.data(), crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(u8(out) + crypto_secretbox_NONCEBYTES, u8(plaintext), plaintext.size(),
                        u8(out), u8(master_key.reveal()));
  return out;
}

std::optional<Secret> open(const Secret& master_key, std::string_view box) {
  if (master_key.reveal().size() != crypto_secretbox_KEYBYTES ||
      box.size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
    return std::nullopt;
  }
  std::string out(box.size() - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(u8(out), u8(box) + crypto_secretbox_NONCEBYTES,
                                 box.size() - crypto_secretbox_NONCEBYTES, u8(box),
                                 u8(master_key.reveal())) != 0) {
    return std::nullopt;
  }
  Secret s(out);
  sodium_memzero(out.data(), out.size());
  return s;
}

}  // namespace stagepass::crypto
