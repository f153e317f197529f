// Status and StatusOr: the one error type used across Skald's modules.
//
// No exceptions cross module boundaries; functions that can fail return Status
// (or StatusOr<T> when they also produce a value). Codes map onto HTTP status
// codes at the server edge (see HttpStatusFor in server/loki_api.h), so pick the code by what
// the caller should do, not by where the error came from.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace skald {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument,    // bad input from a client: 400
  kNotFound,           // 404
  kAlreadyExists,      // 409
  kUnauthenticated,    // 401 (e.g. "no org id")
  kTooLarge,           // 413 (request body too large)
  kUnprocessable,      // 422 (e.g. no valid streams)
  kResourceExhausted,  // 429 (rate / stream limits): retryable
  kCancelled,          // 499 (client went away)
  kCorruption,         // stored data failed a checksum or did not parse
  kIOError,            // the OS refused a read/write
  kUnavailable,        // 503 (not ready, shutting down)
  kDeadlineExceeded,   // 504
  kUnimplemented,      // 501
  kInternal,           // 500
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status Unauthenticated(std::string m) {
    return {StatusCode::kUnauthenticated, std::move(m)};
  }
  static Status TooLarge(std::string m) { return {StatusCode::kTooLarge, std::move(m)}; }
  static Status Unprocessable(std::string m) { return {StatusCode::kUnprocessable, std::move(m)}; }
  static Status ResourceExhausted(std::string m) {
    return {StatusCode::kResourceExhausted, std::move(m)};
  }
  static Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
  static Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status IOError(std::string m) { return {StatusCode::kIOError, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status DeadlineExceeded(std::string m) {
    return {StatusCode::kDeadlineExceeded, std::move(m)};
  }
  static Status Unimplemented(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "<CodeName>: <message>", or "OK".
  std::string ToString() const;

  bool operator==(const Status& o) const { return code_ == o.code_ && message_ == o.message_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// StatusOr<T> holds either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(const Status& s) : status_(s) { assert(!s.ok()); }  // NOLINT: implicit by design
  StatusOr(Status&& s) : status_(std::move(s)) { assert(!status_.ok()); }  // NOLINT
  StatusOr(const T& v) : value_(v) {}                                      // NOLINT
  StatusOr(T&& v) : value_(std::move(v)) {}                                // NOLINT

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T&& operator*() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

#define SKALD_CONCAT_INNER_(a, b) a##b
#define SKALD_CONCAT_(a, b) SKALD_CONCAT_INNER_(a, b)

#define SKALD_RETURN_IF_ERROR(expr)        \
  do {                                     \
    ::skald::Status skald_st_ = (expr);    \
    if (!skald_st_.ok()) return skald_st_; \
  } while (0)

#define SKALD_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()

#define SKALD_ASSIGN_OR_RETURN(lhs, expr) \
  SKALD_ASSIGN_OR_RETURN_IMPL_(SKALD_CONCAT_(skald_so_, __LINE__), lhs, expr)

}  // namespace skald
