// Microbenchmarks: ShareKey reply and verify, proof, transmission keys, seal/open of 1 KiB.
//
// K = PBKDF2(password, 10000 rounds) is derived ONCE per device and account (when a config is
// loaded or an account configured), never per handshake: it is computed outside every timed
// loop here, and measured on its own (BM_DeriveShareKey) only to show what loading costs.
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "homep2p/crypto.hpp"

namespace {

using namespace homep2p;

const ShareKey& key() {
  static const ShareKey k = derive_share_key("admin-password", "admin");
  return k;
}

Transcript transcript() {
  Transcript t;
  for (std::size_t i = 0; i < t.challenge.size(); ++i) {
    t.challenge[i] = static_cast<std::uint8_t>(i);
    t.nonce[i] = static_cast<std::uint8_t>(255 - i);
  }
  t.target_id = "0b0b0b0b-0000-4000-8000-00000000000b";
  t.initiator_id = "0a0a0a0a-0000-4000-8000-00000000000a";
  t.user = "admin";
  return t;
}

// Initiator computes the reply (step 5); the target recomputes it and compares in constant time
// (step 6). Both halves of one authentication, as one iteration.
void BM_ShareKeyReplyAndVerify(benchmark::State& state) {
  const ShareKey& k = key();
  const Transcript t = transcript();
  for (auto _ : state) {
    const Bytes32 reply = compute_reply(k, t);
    const Bytes32 expected = compute_reply(k, t);
    const bool ok = equal_constant_time(reply, expected);
    if (!ok) state.SkipWithError("reply does not verify");
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_ShareKeyReplyAndVerify)->Name("ShareKey/reply_and_verify");

// The target's proof (step 7) and the initiator's check of it.
void BM_ShareKeyProofAndCheck(benchmark::State& state) {
  const ShareKey& k = key();
  const Transcript t = transcript();
  for (auto _ : state) {
    const Bytes32 proof = compute_proof(k, t);
    const bool ok = equal_constant_time(proof, compute_proof(k, t));
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_ShareKeyProofAndCheck)->Name("ShareKey/proof_and_check");

// HKDF for both directions: done once on each side per handshake.
void BM_TransmissionKeys(benchmark::State& state) {
  const ShareKey& k = key();
  const Transcript t = transcript();
  for (auto _ : state) benchmark::DoNotOptimize(derive_transmission_keys(k, t));
}
BENCHMARK(BM_TransmissionKeys)->Name("ShareKey/transmission_keys_hkdf");

void BM_Seal(benchmark::State& state) {
  const auto keys = derive_transmission_keys(key(), transcript());
  FrameSealer sealer(keys.initiator_to_target);
  const Bytes plain(static_cast<std::size_t>(state.range(0)), 0x5a);
  for (auto _ : state) benchmark::DoNotOptimize(sealer.seal(plain));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Seal)->Name("Sealed/seal")->Arg(1024)->Arg(64);

void BM_Open(benchmark::State& state) {
  const auto keys = derive_transmission_keys(key(), transcript());
  const Bytes plain(static_cast<std::size_t>(state.range(0)), 0x5a);
  // Pre-sealed frames with increasing counters (open() refuses a counter it has seen).
  constexpr std::size_t kFrames = 4096;
  std::vector<Bytes> frames;
  FrameSealer sealer(keys.initiator_to_target);
  for (std::size_t i = 0; i < kFrames; ++i) frames.push_back(sealer.seal(plain));
  auto opener = std::make_unique<FrameOpener>(keys.initiator_to_target);
  std::size_t next = 0;
  for (auto _ : state) {
    if (next == kFrames) {
      state.PauseTiming();
      opener = std::make_unique<FrameOpener>(keys.initiator_to_target);
      next = 0;
      state.ResumeTiming();
    }
    auto opened = opener->open(frames[next++]);
    if (!opened) state.SkipWithError("open failed");
    benchmark::DoNotOptimize(opened);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Open)->Name("Sealed/open")->Arg(1024)->Arg(64);

// Not per handshake: what loading one account costs (config load, Configure).
void BM_DeriveShareKey(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(derive_share_key("admin-password", "admin"));
}
BENCHMARK(BM_DeriveShareKey)->Name("ShareKey/derive_K_pbkdf2_10000_once_per_account")->Unit(benchmark::kMillisecond);

}  // namespace
