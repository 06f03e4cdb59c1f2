// Small helpers shared by the fuzz targets (tests/fuzz/*.cpp).
//  - FUZZ_CHECK(cond, what): an oracle. A broken property is a crash (abort), so that libFuzzer
//    keeps the input and the replay fails, exactly as for a sanitizer report.
//  - FuzzInput: reads the input as a little program (op codes, lengths, chunks); running out of
//    bytes just gives zeros and empty chunks, never an error.
//  - CountingRandom: a deterministic RandomSource (fuzzing must be reproducible).
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

class CountingRandom final : public RandomSource {
 public:
  explicit CountingRandom(std::uint8_t seed = 1) : next_(seed) {}
  void fill(std::span<std::uint8_t> out) override {
    for (auto& b : out) b = next_++;
  }

 private:
  std::uint8_t next_;
};

inline std::string_view as_text(std::span<const std::uint8_t> bytes) {
  return std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

}  // namespace homep2p::fuzz
