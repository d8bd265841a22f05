#include "stagepass/result.hpp"

namespace stagepass::sdk {

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::network:
      return "network";
    case ErrorKind::timeout:
      return "timeout";
    case ErrorKind::protocol:
      return "protocol";
    case ErrorKind::oauth:
      return "oauth";
    case ErrorKind::api:
      return "api";
    case ErrorKind::rate_limited:
      return "rate_limited";
    case ErrorKind::login_required:
      return "login_required";
    case ErrorKind::cache:
      return "cache";
    case ErrorKind::usage:
      return "usage";
  }
  return "unknown";
}

std::string Error::describe() const { return std::string(to_string(kind)) + ": " + message; }

}  // namespace stagepass::sdk
