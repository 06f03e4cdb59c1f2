// Microbenchmarks: JSON message encode/decode (codec.hpp) and TCP frame decode (framing.hpp).
// The messages are the ones a handshake and a service call actually carry, at realistic sizes.
#include <benchmark/benchmark.h>

#include <string>

#include "homep2p/codec.hpp"
#include "homep2p/framing.hpp"
#include "homep2p/messages.hpp"

namespace {

using namespace homep2p;

const std::string kTargetId = "0b0b0b0b-0000-4000-8000-00000000000b";
const std::string kInitiatorId = "0a0a0a0a-0000-4000-8000-00000000000a";

Bytes32 filled(std::uint8_t seed) {
  Bytes32 b{};
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(seed + i * 7);
  return b;
}

Message request1() { return ConnectRequest{1, 1, "admin", kInitiatorId, std::nullopt, std::nullopt}; }
Message request2() { return ConnectRequest{2, 2, "", "", filled(1), filled(2)}; }
Message challenge() {
  return ConnectResponse{1, 1, ConnectResult::Authenticate, kTargetId, "ShareKey", filled(3), std::nullopt};
}
Message verdict() { return ConnectResponse{2, 2, ConnectResult::Success, kTargetId, std::nullopt, std::nullopt, filled(4)}; }
Message invoke() {
  return ServiceInvoke{7, 42, "lease-0123456789abcdef", "SetTarget", {{"value", true}, {"level", std::int64_t{75}}}};
}
Message announce() {
  DeviceAnnounce a;
  a.device_id = kTargetId;
  a.device_type = "Light";
  a.friendly_name = "Living room lamp";
  a.address = "127.0.0.1";
  a.port = 40123;
  a.services = {{"power", "SwitchPower"}, {"brightness", "Dimming"}, {"connection-manager", "ConnectionManager"}};
  a.max_age = 30;
  a.boot_id = 123456789;
  return a;
}

template <Message (*Make)()>
void BM_Encode(benchmark::State& state) {
  const Message m = Make();
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::string json = encode(m);
    bytes = json.size();
    benchmark::DoNotOptimize(json);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}

template <Message (*Make)()>
void BM_Decode(benchmark::State& state) {
  const std::string json = encode(Make());
  for (auto _ : state) {
    auto decoded = decode(json);
    if (!decoded) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(decoded);
  }
  state.counters["bytes"] = static_cast<double>(json.size());
}

BENCHMARK(BM_Encode<request1>)->Name("Encode/ConnectRequest1");
BENCHMARK(BM_Encode<challenge>)->Name("Encode/ConnectResponse1_challenge");
BENCHMARK(BM_Encode<request2>)->Name("Encode/ConnectRequest2_reply");
BENCHMARK(BM_Encode<verdict>)->Name("Encode/ConnectResponse2_success");
BENCHMARK(BM_Encode<invoke>)->Name("Encode/ServiceInvoke");
BENCHMARK(BM_Encode<announce>)->Name("Encode/DeviceAnnounce");
BENCHMARK(BM_Decode<request1>)->Name("Decode/ConnectRequest1");
BENCHMARK(BM_Decode<challenge>)->Name("Decode/ConnectResponse1_challenge");
BENCHMARK(BM_Decode<request2>)->Name("Decode/ConnectRequest2_reply");
BENCHMARK(BM_Decode<verdict>)->Name("Decode/ConnectResponse2_success");
BENCHMARK(BM_Decode<invoke>)->Name("Decode/ServiceInvoke");
BENCHMARK(BM_Decode<announce>)->Name("Decode/DeviceAnnounce");

// Frame decode: a TCP read that carries 16 frames of a handshake-sized payload, split the way a
// stream may split them (one push, then 16 pops). Reported per frame.
void BM_FrameDecode(benchmark::State& state) {
  const std::string json = encode(request2());
  const std::span<const std::uint8_t> payload(reinterpret_cast<const std::uint8_t*>(json.data()), json.size());
  constexpr int kFrames = 16;
  Bytes stream;
  for (int i = 0; i < kFrames; ++i) append_frame(stream, payload);
  FrameReader reader;
  for (auto _ : state) {
    reader.push(stream);
    for (int i = 0; i < kFrames; ++i) {
      auto frame = reader.pop();
      if (!frame || !frame->has_value()) {
        state.SkipWithError("frame missing");
        break;
      }
      benchmark::DoNotOptimize(frame);
    }
  }
  state.SetItemsProcessed(state.iterations() * kFrames);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(stream.size()));
  state.counters["frame_bytes"] = static_cast<double>(payload.size() + kFrameHeaderSize);
}
BENCHMARK(BM_FrameDecode)->Name("FrameDecode/16_frames_per_read");

// The same, one frame per read (the handshake's case: each step is one small frame).
void BM_FrameDecodeSingle(benchmark::State& state) {
  const std::string json = encode(request2());
  const Bytes frame = make_frame(std::span(reinterpret_cast<const std::uint8_t*>(json.data()), json.size()));
  FrameReader reader;
  for (auto _ : state) {
    reader.push(frame);
    auto popped = reader.pop();
    if (!popped || !popped->has_value()) state.SkipWithError("frame missing");
    benchmark::DoNotOptimize(popped);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FrameDecodeSingle)->Name("FrameDecode/1_frame_per_read");

}  // namespace
