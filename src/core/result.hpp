// Result<T, E>: a value or an error, returned by value (no exceptions on the request path).
//
// Modelled on leveldb's Status and C++23's std::expected (not available with g++ 12 in C++20).
// Thread safety: a plain value type.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace stagepass {

// A generic error for layers below the protocol: a short machine code and a human message.
struct Error {
  std::string code;     // e.g. "not_found", "conflict", "io"
  std::string message;  // for logs and operators; never contains secrets
};

template <class E>
struct Unexpected {
  E error;
};
template <class E>
Unexpected<std::decay_t<E>> fail(E&& e) {
  return {std::forward<E>(e)};
}

template <class T, class E = Error>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  template <class E2>
  Result(Unexpected<E2> u) : v_(std::in_place_index<1>, E(std::move(u.error))) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const E& error() const { return std::get<1>(v_); }
  E& error() { return std::get<1>(v_); }

 private:
  std::variant<T, E> v_;
};

// Result<void>: success or an error.
struct Ok {};
template <class E = Error>
using Status = Result<Ok, E>;

}  // namespace stagepass
