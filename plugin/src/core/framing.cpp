// TCP stream framing: 4-byte big-endian length, then 1..kMaxFrameSize payload bytes.
#include "homep2p/framing.hpp"

#include <cassert>
#include <string>
#include <utility>

namespace homep2p {
namespace {

std::uint32_t read_length(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

// A buffer that held a burst bigger than any legal frame gives its memory back once drained,
// so one large push does not pin memory for the life of the connection.
constexpr std::size_t kRetainedCapacity = kFrameHeaderSize + kMaxFrameSize;

// The error for a declared length, or nullopt when it is legal.
std::optional<Error> check_length(std::uint32_t length) {
  if (length == 0) return make_error(Errc::InvalidFrame, "frame: zero-length frame");
  if (length > kMaxFrameSize) {
    return make_error(Errc::FrameTooLarge, "frame: length " + std::to_string(length) + " exceeds " +
                                               std::to_string(kMaxFrameSize));
  }
  return std::nullopt;
}

}  // namespace

void append_frame(Bytes& out, std::span<const std::uint8_t> payload) {
  assert(!payload.empty() && payload.size() <= kMaxFrameSize);
  const auto n = static_cast<std::uint32_t>(payload.size());
  out.reserve(out.size() + kFrameHeaderSize + payload.size());
  out.push_back(static_cast<std::uint8_t>(n >> 24));
  out.push_back(static_cast<std::uint8_t>(n >> 16));
  out.push_back(static_cast<std::uint8_t>(n >> 8));
  out.push_back(static_cast<std::uint8_t>(n));
  out.insert(out.end(), payload.begin(), payload.end());
}

Bytes make_frame(std::span<const std::uint8_t> payload) {
  Bytes out;
  append_frame(out, payload);
  return out;
}

void FrameReader::push(std::span<const std::uint8_t> bytes) {
  // After an error the stream cannot be resynchronised; keeping its bytes would only cost memory.
  if (failed_ || bytes.empty()) return;
  // Compact before growing: consumed frames must not make the buffer grow without bound.
  if (offset_ > 0) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(offset_));
    offset_ = 0;
  }
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
  // Check the next header now, not only in pop(): a caller that pushes again before popping
  // must not make us keep buffering a stream that is already known to be bad.
  if (buffered() >= kFrameHeaderSize) {
    if (auto error = check_length(read_length(buffer_.data() + offset_))) {
      failed_ = true;
      failure_ = std::move(*error);
      Bytes().swap(buffer_);
      offset_ = 0;
    }
  }
}

Result<std::optional<Bytes>> FrameReader::pop() {
  if (failed_) return failure_;
  if (buffered() < kFrameHeaderSize) return std::optional<Bytes>{};

  // The length is checked before anything is reserved for the payload: a hostile header must
  // not make us allocate 4 GiB.
  const std::uint32_t length = read_length(buffer_.data() + offset_);
  if (auto error = check_length(length)) {
    failed_ = true;
    failure_ = std::move(*error);
    Bytes().swap(buffer_);
    offset_ = 0;
    return failure_;
  }
  if (buffered() - kFrameHeaderSize < length) return std::optional<Bytes>{};

  const auto begin = buffer_.begin() + static_cast<std::ptrdiff_t>(offset_ + kFrameHeaderSize);
  Bytes payload(begin, begin + length);
  offset_ += kFrameHeaderSize + length;
  if (offset_ == buffer_.size()) {
    buffer_.clear();
    offset_ = 0;
    if (buffer_.capacity() > kRetainedCapacity) buffer_.shrink_to_fit();
  }
  return std::optional<Bytes>{std::move(payload)};
}

}  // namespace homep2p
