// Error values and Result<T>: how every module reports failure without exceptions.
// Errors carry a code, a human message and, when known, where the problem is (file:line:col or
// workflow/node). Thread-safety: plain values, safe to copy between threads.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace hubspoke {

enum class ErrorCode {
  kInvalidArgument,  // bad input from a user: manifest, flag, request body
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,
  kUnavailable,
  kIo,
  kInternal,
};

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  std::string where;  // "file:line:col" or "workflow/node"; empty when unknown

  // "where: message" or just "message".
  std::string ToString() const;
};

Error InvalidArgument(std::string message, std::string where = {});
Error NotFound(std::string message, std::string where = {});
Error IoError(std::string message, std::string where = {});
Error Internal(std::string message);

// Tag to build a failed Result: `return Fail(InvalidArgument("..."));`.
struct Unexpected {
  Error error;
};
inline Unexpected Fail(Error e) { return Unexpected{std::move(e)}; }

// A value or an Error, in the spirit of std::expected.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Result(Unexpected u) : v_(std::in_place_index<1>, std::move(u.error)) {}
  Result(Error e) : v_(std::in_place_index<1>, std::move(e)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Unexpected u) : error_(std::move(u.error)), ok_(false) {}
  Result(Error e) : error_(std::move(e)), ok_(false) {}
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace hubspoke
