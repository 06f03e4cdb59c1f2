// ShareKey authentication and transmission keys on OpenSSL 3 EVP. See docs/PROTOCOL.md §6
// for the exact byte layouts and the test vectors (tests/unit/core/crypto_vectors_test.cpp).
//
// Why not the patent's Encrypt(Key, Challenge) with a 32-bit challenge: an eavesdropper can
// brute-force it offline and replay it. We keep the message flow and make each step sound:
//   K      = PBKDF2-HMAC-SHA256(password, "HomeP2P ShareKey v1" || user, kPbkdf2Iterations, 32)
//   reply  = HMAC-SHA256(K, T("HomeP2P reply v1"))
//   proof  = HMAC-SHA256(K, T("HomeP2P proof v1"))
//   T(label) = lp(label) || lp(challenge) || lp(nonce) || lp(target id) || lp(initiator id) || lp(user)
//   lp(x)  = 4-byte big-endian length of x, then x
//   keys   = HKDF-SHA256(K, salt = challenge || nonce, info = lp(label) || lp(target id) || lp(initiator id))
//            with label "HomeP2P i2t v1" (initiator -> target) and "HomeP2P t2i v1".
// Sealed frame: 8-byte big-endian counter || AES-256-GCM ciphertext || 16-byte tag,
//   IV = 4 zero bytes || counter, AAD = the 8 counter bytes. Counters start at 1 and must increase.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "homep2p/messages.hpp"
#include "homep2p/result.hpp"

namespace homep2p {

inline constexpr std::uint32_t kPbkdf2Iterations = 10000;
inline constexpr std::string_view kShareKeySalt = "HomeP2P ShareKey v1";
inline constexpr std::string_view kReplyLabel = "HomeP2P reply v1";
inline constexpr std::string_view kProofLabel = "HomeP2P proof v1";
inline constexpr std::string_view kInitiatorToTargetLabel = "HomeP2P i2t v1";
inline constexpr std::string_view kTargetToInitiatorLabel = "HomeP2P t2i v1";
inline constexpr std::size_t kSealedCounterSize = 8;
inline constexpr std::size_t kSealedTagSize = 16;
inline constexpr std::size_t kSealedOverhead = kSealedCounterSize + kSealedTagSize;

using ShareKey = Bytes32;  // K: what a device keeps instead of the password

ShareKey derive_share_key(std::string_view password, std::string_view user,
                          std::uint32_t iterations = kPbkdf2Iterations);

// Everything both sides bind the reply, proof and transmission keys to.
struct Transcript {
  Bytes32 challenge{};
  Bytes32 nonce{};
  std::string target_id;
  std::string initiator_id;
  std::string user;
};

Bytes32 compute_reply(const ShareKey& key, const Transcript& t);
Bytes32 compute_proof(const ShareKey& key, const Transcript& t);

// Constant-time comparison (CRYPTO_memcmp); false when sizes differ.
bool equal_constant_time(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b);

struct TransmissionKeys {
  Bytes32 initiator_to_target{};
  Bytes32 target_to_initiator{};
};
TransmissionKeys derive_transmission_keys(const ShareKey& key, const Transcript& t);

// Seals outgoing frames for one direction. The first frame has counter 1. After 2^64 - 1 frames
// (unreachable: centuries at any real rate) seal() aborts rather than wrap and reuse a GCM nonce.
class FrameSealer {
 public:
  explicit FrameSealer(const Bytes32& key) : key_(key) {}
  Bytes seal(std::span<const std::uint8_t> plaintext);
  std::uint64_t next_counter() const { return counter_ + 1; }

 private:
  Bytes32 key_;
  std::uint64_t counter_ = 0;
};

// Opens incoming frames for one direction. Checks, in this order:
//   1. a frame shorter than kSealedOverhead is Errc::InvalidFrame;
//   2. the tag (which covers the counter, as IV and AAD) must verify, else Errc::Authentication;
//   3. the counter must exceed last_counter(), else Errc::Replay.
// So a forged or corrupted frame is Authentication whatever counter it carries, and only a
// genuine frame seen before (or older than the last one opened) is Replay.
// A failed open does not advance the counter.
class FrameOpener {
 public:
  explicit FrameOpener(const Bytes32& key) : key_(key) {}
  Result<Bytes> open(std::span<const std::uint8_t> sealed);
  std::uint64_t last_counter() const { return last_; }

 private:
  Bytes32 key_;
  std::uint64_t last_ = 0;
};

// Seals with an explicit counter (test vectors, fuzzing). Production code uses FrameSealer.
Bytes seal_with_counter(const Bytes32& key, std::uint64_t counter,
                        std::span<const std::uint8_t> plaintext);

}  // namespace homep2p
