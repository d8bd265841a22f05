// Errors and results of the Stagepass client SDK.
//
// Every SDK call that can fail returns a `Result<T>` by value: either the value or an
// `Error` saying what went wrong in words a program can branch on (`kind`) and a person can
// read (`message`). The SDK never throws on a failed request; it throws only on programmer
// errors (calling value() on a failed Result) and std::bad_alloc.
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace stagepass::sdk {

enum class ErrorKind {
  network,         // could not connect, send or receive (after any retries)
  timeout,         // the server or the user took longer than allowed
  protocol,        // the server answered something that is not valid OAuth / JSON
  oauth,           // an RFC 6749 §5.2 error from the token endpoint (`code` holds it)
  api,             // a Web API error (`status` and Spotify's `message`)
  rate_limited,    // 429 after the allowed retries (`retry_after` says when to come back)
  login_required,  // no usable tokens: the user must log in (again)
  cache,           // the token cache could not be read or written
  usage,           // the caller asked for something impossible (bad configuration)
};

struct Error {
  Error() = default;
  Error(ErrorKind k, std::string msg, int http_status = 0, std::string oauth_code = {})
      : kind(k), message(std::move(msg)), status(http_status), code(std::move(oauth_code)) {}

  ErrorKind kind = ErrorKind::protocol;
  std::string message;  // one line; never contains a token or secret
  int status = 0;       // HTTP status when the error came from a response
  std::string code;     // RFC 6749 error code (`invalid_grant`, ...) when there is one, or the
                        // Web API's reason (`RATE_LIMITED`, `QUOTA_EXCEEDED`, ...)
  std::optional<std::chrono::seconds> retry_after;

  // "kind: message" — what a command-line tool prints.
  std::string describe() const;
};

const char* to_string(ErrorKind kind);

// Thrown only by Result::value() on a failed result (a programming error).
class BadResultAccess : public std::logic_error {
 public:
  explicit BadResultAccess(const Error& e) : std::logic_error(e.describe()) {}
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & {
    if (!ok()) throw BadResultAccess(error());
    return std::get<0>(v_);
  }
  const T& value() const& {
    if (!ok()) throw BadResultAccess(error());
    return std::get<0>(v_);
  }
  T&& value() && {
    if (!ok()) throw BadResultAccess(error());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// A Result that carries no value.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : e_(std::move(error)) {}
  bool ok() const { return !e_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return *e_; }

 private:
  std::optional<Error> e_;
};

}  // namespace stagepass::sdk
