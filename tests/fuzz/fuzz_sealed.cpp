// Fuzz target: sealed frames (FrameOpener), alone and inside an established connection.
// The first byte picks the mode:
//  0  open the rest as a sealed frame with a fresh opener: it must fail (nobody can forge the
//     tag), as InvalidFrame when shorter than the overhead, else Authentication, and the counter
//     must not move;
//  1  seal the rest with a counter from the input, then: it opens to the same plaintext, opening
//     it again is a Replay, any single flipped byte or a cut makes it fail, and the counter moves
//     only on success;
//  2+ an established connection (target side, real handshake, real keys) receives a program of
//     frames: sealed with the right key (any plaintext, or a well-formed message with the right
//     serial), unsealed, sealed with a wrong key, replayed, or time passing. Unsealed and forged
//     frames must change nothing (DESIGN §2: an outsider cannot end the connection); a replay
//     must end it with PROTOERROR; every frame the target writes opens with the right key and
//     decodes; the connection table counts it exactly while it is established.
#include "handshake_driver.hpp"

namespace {

using namespace homep2p;
using fuzz::FuzzInput;

const Bytes32 kKey = [] {
  Bytes32 k{};
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(0xA0 + i);
  return k;
}();

void open_raw(std::span<const std::uint8_t> sealed) {
  FrameOpener opener(kKey);
  const auto opened = opener.open(sealed);
  FUZZ_CHECK(!opened.ok(), "a frame nobody sealed opened");
  const Errc want = sealed.size() < kSealedOverhead ? Errc::InvalidFrame : Errc::Authentication;
  FUZZ_CHECK(opened.error().code == want, "unexpected error code for a forged frame");
  FUZZ_CHECK(opener.last_counter() == 0, "a failed open moved the counter");
}

void seal_and_open(FuzzInput& in) {
  std::uint64_t counter = in.u64();
  if (counter == 0) counter = 1;
  const std::uint16_t flip_at = in.u16();
  std::uint8_t mask = in.byte();
  if (mask == 0) mask = 1;
  const auto plain = in.rest();
  const Bytes sealed = seal_with_counter(kKey, counter, plain);
  FUZZ_CHECK(sealed.size() == plain.size() + kSealedOverhead, "sealed size");

  FrameOpener opener(kKey);
  Bytes tampered = sealed;
  tampered[flip_at % tampered.size()] ^= mask;
  auto bad = opener.open(tampered);
  FUZZ_CHECK(!bad.ok() && bad.error().code == Errc::Authentication, "a flipped byte went unnoticed");
  auto cut = opener.open(std::span(sealed).first(sealed.size() - 1));
  FUZZ_CHECK(!cut.ok(), "a cut frame opened");
  FUZZ_CHECK(opener.last_counter() == 0, "a failed open moved the counter");

  auto good = opener.open(sealed);
  FUZZ_CHECK(good.ok(), "a genuine frame did not open");
  FUZZ_CHECK(std::equal(good->begin(), good->end(), plain.begin(), plain.end()), "plaintext changed");
  FUZZ_CHECK(opener.last_counter() == counter, "counter not recorded");
  auto replay = opener.open(sealed);
  FUZZ_CHECK(!replay.ok() && replay.error().code == Errc::Replay, "a replayed frame was not a Replay");
}

// A well-formed message an initiator may send on an established connection.
Message some_message(FuzzInput& in, std::uint64_t serial) {
  switch (in.byte() % 7) {
    case 0: return Ping{serial};
    case 1: return Pong{serial};
    case 2: return ServiceSearch{serial, in.byte(), std::string(fuzz::as_text(in.chunk()))};
    case 3: return ServiceRent{serial, in.byte(), "power", 1u + in.byte()};
    case 4: return ServiceInvoke{serial, in.byte(), "lease", "SetPower", {{"on", true}}};
    case 5: return Configure{serial, in.byte(), {}, std::uint32_t{in.byte()}, std::nullopt};
    default: return Disconnect{serial, (in.byte() & 1) ? DisconnectReason::ProtoError : DisconnectReason::Normal};
  }
}

void established(FuzzInput& in) {
  fuzz::TargetDevice device;
  TimePoint now{};
  ConnectionTarget target(device.admission, device.random, "192.0.2.1", now);
  Bytes32 nonce{};
  nonce.fill(in.byte());
  auto session = fuzz::establish(target, now, nonce);
  FUZZ_CHECK(session.keys.has_value(), "the correct handshake did not establish");
  FrameSealer sealer(session.keys->initiator_to_target);
  FrameOpener reader(session.keys->target_to_initiator);
  const Bytes32 wrong_key = session.keys->target_to_initiator;  // a real key, of the other direction
  std::vector<Bytes> sent;  // sealed frames we sent, for replays
  int disconnects = 0;

  auto feed = [&](const Bytes& bytes) {
    for (const auto& e : target.receive(bytes, now)) {
      FUZZ_CHECK(!std::holds_alternative<Connected>(e) && !std::holds_alternative<ConnectFailed>(e),
                 "handshake event after establishment");
      if (std::holds_alternative<Disconnected>(e)) ++disconnects;
    }
    FUZZ_CHECK(target.established() || target.closed(), "an established connection went back to a handshake state");
  };
  auto check_output = [&] {
    FrameReader frames;
    frames.push(target.take_output());
    while (true) {
      auto frame = frames.pop();
      FUZZ_CHECK(frame.ok(), "the target wrote a bad frame");
      if (!frame->has_value()) break;
      auto plain = reader.open(**frame);
      FUZZ_CHECK(plain.ok(), "the target wrote a frame that does not open");
      FUZZ_CHECK(decode(fuzz::as_text(*plain)).ok(), "the target sealed a message that does not decode");
    }
  };

  while (!in.empty() && !target.closed()) {
    const std::uint8_t op = in.byte();
    const auto ignored_before = target.ignored_frames();
    switch (op % 6) {
      case 0: {  // sealed, any plaintext (serial and all up to the input)
        const auto plain = in.chunk(op & 0x80);
        if (plain.empty()) break;
        sent.push_back(make_frame(sealer.seal(plain)));
        feed(sent.back());
        break;
      }
      case 1: {  // sealed, a well-formed message with the right serial
        const std::string text = encode(some_message(in, session.next_serial++));
        sent.push_back(make_frame(sealer.seal(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()))));
        feed(sent.back());
        break;
      }
      case 2: {  // unsealed (e.g. a plain Disconnect an outsider injects): ignored
        const auto plain = in.chunk(op & 0x80);
        if (plain.empty()) break;
        feed(make_frame(plain));
        FUZZ_CHECK(target.established(), "an unsealed frame changed the connection");
        FUZZ_CHECK(target.ignored_frames() == ignored_before + 1, "an unsealed frame was not ignored");
        break;
      }
      case 3: {  // sealed with a wrong key (forged): ignored
        const auto plain = in.chunk();
        feed(make_frame(seal_with_counter(wrong_key, 1 + in.byte(), plain)));
        FUZZ_CHECK(target.established(), "a forged frame changed the connection");
        FUZZ_CHECK(target.ignored_frames() == ignored_before + 1, "a forged frame was not ignored");
        break;
      }
      case 4: {  // a replay of a frame we sent before: ends the connection with PROTOERROR
        if (sent.empty()) break;
        feed(sent[in.byte() % sent.size()]);
        FUZZ_CHECK(target.closed(), "a replayed frame did not end the connection");
        break;
      }
      default: {  // time passes (keepalive)
        now += std::chrono::milliseconds(250) * in.byte();
        for (const auto& e : target.on_deadline(now)) {
          if (std::holds_alternative<Disconnected>(e)) ++disconnects;
        }
        break;
      }
    }
    check_output();
    FUZZ_CHECK(device.table.count() == (target.established() ? 1U : 0U), "table count disagrees with the state");
  }
  FUZZ_CHECK(disconnects == (target.closed() ? 1 : 0), "Disconnected must be reported exactly once");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzInput in(data, size);
  switch (in.byte()) {
    case 0: open_raw(in.rest()); break;
    case 1: seal_and_open(in); break;
    default: established(in); break;
  }
  return 0;
}
