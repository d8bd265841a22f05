#include "core/base64url.hpp"

#include <sodium.h>

#include <algorithm>

namespace stagepass {
namespace {

void append(std::string& out, std::string_view bytes, int variant) {
  const size_t at = out.size();
  out.resize(at + sodium_base64_encoded_len(bytes.size(), variant));
  sodium_bin2base64(out.data() + at, out.size() - at,
                    reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), variant);
  out.pop_back();  // drop the terminating NUL
}

std::string encode(std::string_view bytes, int variant) {
  std::string out;
  append(out, bytes, variant);
  return out;
}

std::optional<std::string> decode(std::string_view text, int variant) {
  // RFC 4648 §3.3: reject characters outside the alphabet. libsodium 1.0.18 reads each
  // character as a (signed) char and its constant-time comparisons hold only for 0..255, so it
  // decodes every byte >= 0x80 as if it were '_' (or '/'): other spellings of the same bytes,
  // e.g. of a JWT's signature. Refuse them before it sees them.
  for (unsigned char c : text) {
    if (c >= 0x80) return std::nullopt;
  }
  std::string out(text.size() * 3 / 4 + 3, '\0');
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, &end, variant) != 0 ||
      end != text.data() + text.size()) {
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

}  // namespace

std::string base64url_encode(std::string_view bytes) {
  return encode(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void base64url_append(std::string& out, std::string_view bytes) {
  append(out, bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

std::optional<std::string> base64url_decode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  return decode(text, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

std::optional<std::string> base64_decode(std::string_view text) {
  return decode(text, sodium_base64_VARIANT_ORIGINAL);
}

std::string base64_encode(std::string_view bytes) {
  return encode(bytes, sodium_base64_VARIANT_ORIGINAL);
}

bool is_base64url(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
           c == '_';
  });
}

bool is_lower_hex(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace stagepass
