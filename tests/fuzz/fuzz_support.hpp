// Small helpers shared by the fuzz targets (tests/fuzz/*.cpp).
//  - FUZZ_CHECK(cond, what): an oracle. A broken property is a crash (abort), so that libFuzzer
//    keeps the input and the replay fails, exactly as for a sanitizer report.
//  - FuzzInput: reads the input as a little program (op codes, lengths, chunks); running out of
//    bytes just gives zeros and empty chunks, never an error.
//  - DeterministicRandom: a deterministic RandomSource (fuzzing must be reproducible).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

#include "homep2p/random_source.hpp"

#define FUZZ_CHECK(cond, what)                                                                    \
  do {                                                                                            \
    if (!(cond)) {                                                                                \
      std::fprintf(stderr, "FUZZ_CHECK failed: %s (%s) at %s:%d\n", #cond, std::string(what).c_str(), \
                   __FILE__, __LINE__);                                                           \
      std::abort();                                                                               \
    }                                                                                             \
  } while (false)

namespace homep2p::fuzz {

class FuzzInput {
 public:
  FuzzInput(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  bool empty() const { return pos_ >= size_; }
  std::size_t left() const { return size_ - pos_; }
  std::uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  std::uint16_t u16() { return static_cast<std::uint16_t>(byte() << 8 | byte()); }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = v << 8 | byte();
    return v;
  }
  // The next n bytes (fewer at the end of the input).
  std::span<const std::uint8_t> take(std::size_t n) {
    if (n > left()) n = left();
    std::span<const std::uint8_t> out(data_ + pos_, n);
    pos_ += n;
    return out;
  }
  // A chunk whose length is the next byte (0..255) or, if `wide`, the next two bytes.
  std::span<const std::uint8_t> chunk(bool wide = false) { return take(wide ? u16() : byte()); }
  std::string text(std::span<const std::uint8_t> bytes) const {
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }
  // Everything not read yet.
  std::span<const std::uint8_t> rest() { return take(left()); }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

// A deterministic RandomSource that never repeats a block in practice (SplitMix64). Not a byte
// counter: a counter of 8 bits repeats every 256 bytes, so every ninth 32-byte challenge equalled
// the first, and a reply captured for one was "correct" for the other (a false alarm of
// fuzz_handshake, corpus handshake/regress-repeated-challenge); a real device draws from a CSPRNG.
class DeterministicRandom final : public RandomSource {
 public:
  explicit DeterministicRandom(std::uint64_t seed = 1) : state_(seed) {}
  void fill(std::span<std::uint8_t> out) override {
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (i % 8 == 0) word_ = next();
      out[i] = static_cast<std::uint8_t>(word_ >> (8 * (i % 8)));
    }
  }

 private:
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::uint64_t state_;
  std::uint64_t word_ = 0;
};

inline std::string_view as_text(std::span<const std::uint8_t> bytes) {
  return std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

}  // namespace homep2p::fuzz
