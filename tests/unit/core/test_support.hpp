// Header-only helpers shared by the core unit tests: deterministic randomness and a fixed clock
// origin, so that lease ids, challenges and drifts are the same on every run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "homep2p/random_source.hpp"
#include "homep2p/time.hpp"

namespace homep2p::test {

// Fills with a running byte counter: 00 01 02 ... ff 00 01 ... (continuing across calls), so that
// consecutive draws always differ and the exact bytes are predictable.
class CountingRandom : public RandomSource {
 public:
  explicit CountingRandom(std::uint8_t first = 0) : next_(first) {}
  void fill(std::span<std::uint8_t> out) override {
    for (auto& b : out) b = next_++;
    calls_++;
  }
  std::size_t calls() const { return calls_; }

 private:
  std::uint8_t next_;
  std::size_t calls_ = 0;
};

// Replays a fixed byte script, wrapping around at its end (an empty script gives zeros). Use it
// to force a particular random draw, e.g. the largest or smallest step of a random walk.
class ScriptedRandom : public RandomSource {
 public:
  explicit ScriptedRandom(std::vector<std::uint8_t> script) : script_(std::move(script)) {}
  void fill(std::span<std::uint8_t> out) override {
    for (auto& b : out) {
      b = script_.empty() ? std::uint8_t{0} : script_[pos_++ % script_.size()];
    }
  }

 private:
  std::vector<std::uint8_t> script_;
  std::size_t pos_ = 0;
};

// A fixed, non-zero time origin: tests express time as kT0 + seconds(n) (the core never reads a
// clock, so any origin works; a non-zero one catches code that treats TimePoint{} as "unset").
inline const TimePoint kT0 = TimePoint{} + std::chrono::hours(1000);

}  // namespace homep2p::test
