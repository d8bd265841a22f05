// Result<T, E>: a value or an error, returned by value (no exceptions on the request path).
//
// Modelled on leveldb's Status and C++23's std::expected (not available with g++ 12 in C++20).
// Thread safety: a plain value type.
#pragma once

#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace stagepass {

// What went wrong, as a value callers branch on (leveldb's Status codes). Each interface
// names in its header the codes it returns; a caller compares codes, never messages.
enum class ErrorCode {
  kNotFound,    // no such record (or none the caller may see)
  kConflict,    // a uniqueness or precondition check failed; nothing was written
  kInvalid,     // the input contradicts the data or the rules (a position out of range)
  kIo,          // the backend failed (disk, database, network, TLS files)
  kMalformed,   // a value could not be parsed (a JWT that is not a JWS)
  kUnknownKey,  // signed by a key the key set does not hold (worth a JWKS refetch)
  kSignature,   // the signature does not verify
  kClaims,      // a claim is missing or has the wrong shape (no sub or jti, a bad "rl")
  kExpired,     // past its expiry
  kRevoked,     // revoked before its expiry
  kNoDevice,    // a player command while the person has no active device
  kRestricted,  // a player command that makes no sense now (pause while paused)
  // issue15:wire - why an access token was refused, each its own code so the Web API can
  // say it on the wire (RFC 6750 §3 error_description) without comparing messages.
  kWrongAudience,  // "aud" is not this resource server
  kWrongIssuer,    // "iss" is not the issuer this resource server trusts
  kNotYetValid,    // "nbf" (or "iat") is later than now plus the clock skew
};

// The code's stable name, for logs and test output (kNotFound).
std::string_view error_code_name(ErrorCode code);
std::ostream& operator<<(std::ostream& out, ErrorCode code);  // the name; for test output

// An error for layers below the protocol: a code to branch on and a message for people.
struct Error {
  ErrorCode code = ErrorCode::kIo;
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
