// Errors as values: every fallible function of libhomep2p returns Result<T>.
// Exceptions are used only at the edges (main(), config loading in tools), never across the core.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace homep2p {

enum class Errc {
  InvalidMessage,   // JSON or field validation failed
  FrameTooLarge,    // a length prefix above kMaxFrameSize
  InvalidFrame,     // zero-length frame, bad sealed frame layout
  Replay,           // sealed-frame counter did not increase
  Authentication,   // sealed frame tag did not verify
  Crypto,           // OpenSSL failed (should not happen)
  InvalidState,     // an API call made in the wrong connection state
  Config,           // configuration file error
  Service,          // service registry error (see ServiceResult for wire codes)
  Io,               // runtime I/O error (net layer only)
};

struct Error {
  Errc code;
  std::string message;  // human-readable, names the field or step at fault
};

const char* to_string(Errc code);

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}      // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { assert(!ok()); return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { assert(!ok_); return error_; }

 private:
  Error error_{Errc::InvalidState, {}};
  bool ok_ = true;
};

inline Error make_error(Errc code, std::string message) { return Error{code, std::move(message)}; }

}  // namespace homep2p
