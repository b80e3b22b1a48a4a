// Status and Result<T>: errors as values across module boundaries.
//
// A Status is either OK or carries an error Code, a stable snake_case name that the HTTP layer
// sends to clients verbatim (e.g. "sold_out"), and a human-readable message. Result<T> holds
// either a value or a non-OK Status. Both are cheap to move and safe to copy; neither is
// thread-safe to mutate concurrently (treat them as values).
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace rp {

// Error classes. Each maps to one HTTP status in the gateway (see gateway/http_errors.cpp).
enum class Code {
  kOk = 0,
  kInvalidArgument,   // 400: the request is malformed or out of range.
  kUnauthenticated,   // 401: missing, malformed, forged or expired credentials.
  kPermissionDenied,  // 403: authenticated, but not allowed.
  kNotFound,          // 404
  kConflict,          // 409: state forbids the operation (sold out, not claimable, replay).
  kGone,              // 410: expired.
  kPayloadTooLarge,   // 413
  kUnavailable,       // 503: overloaded or a dependency is down; retry later.
  kInternal,          // 500: a bug or storage failure. Never expected in normal operation.
};

class Status {
 public:
  Status() = default;  // OK.
  Status(Code code, std::string error, std::string message)
      : code_(code), error_(std::move(error)), message_(std::move(message)) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  // Stable snake_case identifier, e.g. "sold_out". Empty when ok().
  const std::string& error() const { return error_; }
  const std::string& message() const { return message_; }
  std::string ToString() const { return ok() ? "ok" : error_ + ": " + message_; }

 private:
  Code code_ = Code::kOk;
  std::string error_;
  std::string message_;
};

inline Status InvalidArgument(std::string error, std::string message) {
  return {Code::kInvalidArgument, std::move(error), std::move(message)};
}
inline Status Conflict(std::string error, std::string message) {
  return {Code::kConflict, std::move(error), std::move(message)};
}
inline Status NotFound(std::string error, std::string message) {
  return {Code::kNotFound, std::move(error), std::move(message)};
}
inline Status Gone(std::string error, std::string message) {
  return {Code::kGone, std::move(error), std::move(message)};
}
inline Status Internal(std::string message) {
  return {Code::kInternal, "internal", std::move(message)};
}
inline Status Unavailable(std::string error, std::string message) {
  return {Code::kUnavailable, std::move(error), std::move(message)};
}

// Result<T>: a T or a non-OK Status. Accessing value() of an error is a programming bug.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design.
  Result(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).ok()); }  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace rp
