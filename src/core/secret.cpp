#include "core/secret.hpp"

#include <sodium.h>

namespace stagepass {

Secret::~Secret() {
  if (!value_.empty()) sodium_memzero(value_.data(), value_.size());
}

}  // namespace stagepass
