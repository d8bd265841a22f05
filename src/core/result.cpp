#include "core/result.hpp"

#include <ostream>

namespace stagepass {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kConflict:
      return "conflict";
    case ErrorCode::kInvalid:
      return "invalid";
    case ErrorCode::kIo:
      return "io";
    case ErrorCode::kMalformed:
      return "malformed";
    case ErrorCode::kUnknownKey:
      return "unknown_key";
    case ErrorCode::kSignature:
      return "signature";
    case ErrorCode::kClaims:
      return "claims";
    case ErrorCode::kExpired:
      return "expired";
    case ErrorCode::kRevoked:
      return "revoked";
    case ErrorCode::kNoDevice:
      return "no_device";
    case ErrorCode::kRestricted:
      return "restricted";
    case ErrorCode::kWrongAudience:
      return "wrong_audience";
    case ErrorCode::kWrongIssuer:
      return "wrong_issuer";
    case ErrorCode::kNotYetValid:
      return "not_yet_valid";
  }
  return "unknown";
}

std::ostream& operator<<(std::ostream& out, ErrorCode code) { return out << error_code_name(code); }

}  // namespace stagepass
