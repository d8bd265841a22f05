// Secret: a string that must never be logged, streamed or formatted by accident.
// There is deliberately no operator<< and no fmt formatter; read it with reveal().
// The buffer is wiped on destruction.
#pragma once

#include <string>
#include <string_view>

namespace stagepass {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  Secret(const Secret&) = default;
  Secret(Secret&&) noexcept = default;
  Secret& operator=(const Secret&) = default;
  Secret& operator=(Secret&&) noexcept = default;
  ~Secret();

  std::string_view reveal() const { return value_; }
  bool empty() const { return value_.empty(); }

 private:
  std::string value_;
};

}  // namespace stagepass
