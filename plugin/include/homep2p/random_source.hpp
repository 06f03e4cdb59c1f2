// Randomness is injected so that tests (and the test vectors) can be deterministic.
// Production code uses OsRandomSource (OpenSSL RAND_bytes, the OS CSPRNG).
#pragma once

#include <cstdint>
#include <span>

namespace homep2p {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  virtual void fill(std::span<std::uint8_t> out) = 0;
};

class OsRandomSource final : public RandomSource {
 public:
  void fill(std::span<std::uint8_t> out) override;  // aborts if the CSPRNG fails
};

}  // namespace homep2p
