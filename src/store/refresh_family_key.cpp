#include "store/refresh_family_key.hpp"

#include <algorithm>
#include <cstddef>

#include "core/base64url.hpp"

namespace stagepass {
namespace {

constexpr size_t kTimeDigits = 16;
constexpr size_t kDigestChars = 43;  // base64url of SHA-256, unpadded
constexpr size_t kFamilyKeyChars = kTimeDigits + kDigestChars;
constexpr size_t kGenerationDigits = 8;

}  // namespace

std::optional<FamilyKey> split_family_key(std::string_view key) {
  if (key.size() != kFamilyKeyChars + 1 + kGenerationDigits + kDigestChars ||
      key[kFamilyKeyChars] != ':') {
    return std::nullopt;
  }
  const auto family = key.substr(0, kFamilyKeyChars);
  const auto generation = key.substr(kFamilyKeyChars + 1, kGenerationDigits);
  const auto hash = key.substr(kFamilyKeyChars + 1 + kGenerationDigits);
  if (!is_lower_hex(family.substr(0, kTimeDigits)) || !is_base64url(family.substr(kTimeDigits)) ||
      !is_lower_hex(generation) || !is_base64url(hash)) {
    return std::nullopt;
  }
  uint32_t g = 0;
  for (char c : generation) g = g * 16 + static_cast<uint32_t>(c <= '9' ? c - '0' : c - 'a' + 10);
  return FamilyKey{family, g, hash};
}

}  // namespace stagepass
