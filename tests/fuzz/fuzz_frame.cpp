// Fuzz target: TCP stream framing (FrameReader). The input is the byte stream; its first byte
// seeds how the stream is split into push() calls. Properties checked besides "no crash":
//  - every frame popped holds 1..kMaxFrameSize bytes, and together they never claim more bytes
//    than were pushed;
//  - the reader never buffers more than it was given;
//  - an error is sticky (the stream cannot be resynchronised);
//  - the outcome does not depend on the split: the same stream pushed whole gives the same frames
//    and the same final error.
#include <optional>
#include <vector>

#include "fuzz_support.hpp"
#include "homep2p/framing.hpp"

namespace {

using homep2p::Bytes;
using homep2p::FrameReader;

struct Outcome {
  std::vector<Bytes> frames;
  std::optional<homep2p::Errc> error;
};

// Pops until more bytes are needed or the stream failed; checks the invariants on the way.
void drain(FrameReader& reader, Outcome& out, std::size_t pushed, std::size_t& consumed) {
  while (!out.error) {
    auto frame = reader.pop();
    if (!frame) {
      out.error = frame.error().code;
      auto again = reader.pop();
      FUZZ_CHECK(!again && again.error().code == *out.error, "a framing error must be sticky");
      return;
    }
    if (!frame->has_value()) return;
    const Bytes& payload = **frame;
    FUZZ_CHECK(!payload.empty() && payload.size() <= homep2p::kMaxFrameSize, "frame size out of bounds");
    consumed += homep2p::kFrameHeaderSize + payload.size();
    FUZZ_CHECK(consumed <= pushed, "frames claim more bytes than were pushed");
    out.frames.push_back(payload);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t seed = data[0];
  const std::span<const std::uint8_t> stream(data + 1, size - 1);

  // Split: chunk lengths from a tiny LCG on the seed, 1..64 bytes (seed 0: one byte at a time).
  Outcome split;
  {
    FrameReader reader;
    std::size_t pos = 0, pushed = 0, consumed = 0;
    std::uint32_t state = seed;
    while (pos < stream.size() && !split.error) {
      state = state * 1103515245u + 12345u;
      std::size_t n = seed == 0 ? 1 : 1 + (state >> 16) % 64;
      if (n > stream.size() - pos) n = stream.size() - pos;
      reader.push(stream.subspan(pos, n));
      pos += n;
      pushed += n;
      FUZZ_CHECK(reader.buffered() <= pushed - consumed, "buffers more than it was given");
      drain(reader, split, pushed, consumed);
    }
  }
  Outcome whole;
  {
    FrameReader reader;
    std::size_t consumed = 0;
    reader.push(stream);
    drain(reader, whole, stream.size(), consumed);
  }
  FUZZ_CHECK(split.frames == whole.frames, "frames depend on how the stream was split");
  FUZZ_CHECK(split.error == whole.error, "the error depends on how the stream was split");
  return 0;
}
