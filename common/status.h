// Status and Result<T>: errors as values across module boundaries.
//
// A Status is either OK or carries an Error (common/errors.h: a stable name such as "sold_out",
// which the HTTP layers send to clients verbatim, and its class, which decides the HTTP status)
// and a human-readable message. Result<T> holds either a value or a non-OK Status.
// Both are [[nodiscard]]: an ignored error is a compile error (-Werror), so dropping one takes an
// explicit (void) with a comment saying why. Both are cheap to move and safe to copy; neither is
// thread-safe to mutate concurrently (treat them as values).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "common/check.h"
#include "common/errors.h"

namespace rp {

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK.
  Status(Error error, std::string message)
      : error_(error), code_(ErrorClass(error)), message_(std::move(message)) {
    RP_CHECK(error != Error::kNone);
  }
  // For the rare error whose class differs from its usual one at one call site.
  Status(Error error, Code code, std::string message)
      : error_(error), code_(code), message_(std::move(message)) {
    RP_CHECK(error != Error::kNone && code != Code::kOk);
  }

  static Status Ok() { return {}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  Error err() const { return error_; }
  bool Is(Error e) const { return error_ == e; }
  // The stable identifier, e.g. "sold_out". Empty when ok().
  std::string_view error() const { return ErrorName(error_); }
  const std::string& message() const { return message_; }
  std::string ToString() const { return ok() ? "ok" : std::string(error()) + ": " + message_; }

 private:
  Error error_ = Error::kNone;
  Code code_ = Code::kOk;
  std::string message_;
};

// Shorthands for the errors every module raises.
inline Status Internal(std::string message) {
  return {Error::kInternal, std::move(message)};
}
inline Status Overloaded(std::string message) {
  return {Error::kOverloaded, std::move(message)};
}

// Result<T>: a T or a non-OK Status. Accessing value() of an error is a programming bug, checked
// in every build (RP_CHECK), not only in debug builds.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design.
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design.
    RP_CHECK(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return Get(); }
  const T& value() const& { return const_cast<Result*>(this)->Get(); }
  T&& value() && { return std::move(Get()); }
  T* operator->() { return &Get(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return Get(); }
  const T& operator*() const { return value(); }

 private:
  T& Get() {
    RP_CHECK(ok());
    return std::get<T>(v_);
  }
  std::variant<T, Status> v_;
};

}  // namespace rp
