// Tests only: storage keys of refresh tokens of the family shape (refresh_family_key.hpp), as
// TokenIssuer makes them, without a token behind them.
#pragma once

#include <string>

namespace stagepass {

// A token of chain `chain` (a letter: one family per letter) at generation `n` (0-9), with a
// digest of its own (another `variant`: another token of that generation).
inline std::string test_family_key(char chain, int n, char variant = 't') {
  std::string k = "00060a24181e4001" + std::string(43, chain) + ":0000000";
  k += static_cast<char>('0' + n);
  k += std::string(42, variant);
  k += static_cast<char>('0' + n);
  return k;
}

}  // namespace stagepass
