// Stream framing for TCP: each frame is a 4-byte big-endian length, then that many bytes.
// A frame holds 1..kMaxFrameSize bytes. FrameReader is incremental: bytes may arrive split anyhow.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "homep2p/messages.hpp"
#include "homep2p/result.hpp"

namespace homep2p {

inline constexpr std::size_t kMaxFrameSize = std::size_t{64} * 1024;
inline constexpr std::size_t kFrameHeaderSize = 4;

// Appends one frame (header + payload) to `out`. Precondition: 1 <= payload.size() <= kMaxFrameSize.
void append_frame(Bytes& out, std::span<const std::uint8_t> payload);
Bytes make_frame(std::span<const std::uint8_t> payload);

class FrameReader {
 public:
  // Buffers bytes. Never allocates more than one frame's worth plus what was pushed.
  void push(std::span<const std::uint8_t> bytes);
  // The next complete frame's payload, nullopt if more bytes are needed, or an error
  // (FrameTooLarge / InvalidFrame) that is sticky: the stream cannot be resynchronised.
  Result<std::optional<Bytes>> pop();
  std::size_t buffered() const { return buffer_.size() - offset_; }

 private:
  Bytes buffer_;
  std::size_t offset_ = 0;
  bool failed_ = false;
  Error failure_{Errc::InvalidFrame, {}};
};

}  // namespace homep2p
