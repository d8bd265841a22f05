// Sealing and opening tokens.cache (see token_cache_format.hpp for the layout).
#include "token_cache_format.hpp"

#include <sodium.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <system_error>
#include <utility>

namespace stagepass::sdk::detail {

namespace json = boost::json;

namespace {

constexpr char kMagic[4] = {'S', 'P', 'T', 'C'};
constexpr unsigned char kVersion = 1;
constexpr std::size_t kHeaderBytes = sizeof kMagic + 1 + crypto_secretbox_NONCEBYTES;

std::int64_t to_epoch_ms(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

SystemTime from_epoch_ms(std::int64_t ms) {
  return SystemTime(
      std::chrono::duration_cast<SystemTime::duration>(std::chrono::milliseconds(ms)));
}

std::string to_json(const TokenEntries& entries) {
  json::object all;
  for (const auto& [key, t] : entries) {
    all[key] = json::object{{"access_token", t.access_token},
                            {"refresh_token", t.refresh_token},
                            {"token_type", t.token_type},
                            {"scope", t.scope},
                            {"expires_at", to_epoch_ms(t.expires_at)},
                            {"issued_at", to_epoch_ms(t.issued_at)}};
  }
  return json::serialize(json::object{{"v", 1}, {"entries", std::move(all)}});
}

// nullopt when the document is not what to_json writes.
std::optional<TokenEntries> from_json(std::string_view text) {
  std::error_code ec;
  json::value doc = json::parse(text, ec);
  const json::object* root = ec ? nullptr : doc.if_object();
  if (!root) return std::nullopt;
  const json::value* v = root->if_contains("v");
  const json::value* all = root->if_contains("entries");
  if (!v || !v->is_int64() || v->get_int64() != 1 || !all || !all->is_object()) {
    return std::nullopt;
  }
  TokenEntries entries;
  for (const auto& [key, value] : all->get_object()) {
    const json::object* o = value.if_object();
    if (!o) return std::nullopt;
    TokenSet t;
    const std::pair<const char*, std::string*> strings[] = {{"access_token", &t.access_token},
                                                            {"refresh_token", &t.refresh_token},
                                                            {"token_type", &t.token_type},
                                                            {"scope", &t.scope}};
    for (const auto& [name, field] : strings) {
      const json::value* s = o->if_contains(name);
      if (!s || !s->is_string()) return std::nullopt;
      *field = std::string(s->get_string());
    }
    const json::value* expires = o->if_contains("expires_at");
    if (!expires || !expires->is_int64()) return std::nullopt;
    t.expires_at = from_epoch_ms(expires->get_int64());
    if (const json::value* issued = o->if_contains("issued_at"); issued && issued->is_int64()) {
      t.issued_at = from_epoch_ms(issued->get_int64());
    }
    entries.emplace(std::string(key), std::move(t));
  }
  return entries;
}

}  // namespace

std::vector<unsigned char> seal_entries(const TokenEntries& entries, const std::string& key) {
  std::string plain = to_json(entries);
  std::vector<unsigned char> out(kHeaderBytes + crypto_secretbox_MACBYTES + plain.size());
  std::memcpy(out.data(), kMagic, sizeof kMagic);
  out[sizeof kMagic] = kVersion;
  unsigned char* nonce = out.data() + sizeof kMagic + 1;
  randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(out.data() + kHeaderBytes,
                        reinterpret_cast<const unsigned char*>(plain.data()), plain.size(), nonce,
                        reinterpret_cast<const unsigned char*>(key.data()));
  sodium_memzero(plain.data(), plain.size());
  return out;
}

std::optional<TokenEntries> open_sealed_entries(const std::vector<unsigned char>& bytes,
                                                const std::string& key) {
  if (bytes.size() < kHeaderBytes + crypto_secretbox_MACBYTES ||
      std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0 || bytes[sizeof kMagic] != kVersion) {
    return std::nullopt;
  }
  const unsigned char* nonce = bytes.data() + sizeof kMagic + 1;
  std::string plain(bytes.size() - kHeaderBytes - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()),
                                 bytes.data() + kHeaderBytes, bytes.size() - kHeaderBytes, nonce,
                                 reinterpret_cast<const unsigned char*>(key.data())) != 0) {
    return std::nullopt;
  }
  std::optional<TokenEntries> entries = from_json(plain);
  sodium_memzero(plain.data(), plain.size());
  return entries;
}

}  // namespace stagepass::sdk::detail
