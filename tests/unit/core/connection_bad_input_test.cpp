// A table of bad inputs fed to the connection state machines at every stage, each with its
// expected outcome: the connection fails or ends with PROTOERROR, or the input is ignored; the
// counts and the pending-handshake bound are right afterwards; nothing crashes.
#include <gtest/gtest.h>

#include <functional>

#include "connection_harness.hpp"

namespace homep2p::test {
namespace {

enum class Stage { TargetFresh, TargetAwaitReply, InitiatorAwaitChallenge, InitiatorAwaitVerdict, TargetEstablished };

enum class Outcome {
  ProtocolError,  // ConnectFailed{local ProtocolError} (handshake) with Disconnect PROTOERROR sent
  AccessDenied,   // ConnectFailed{result ACCESSDENIED}
  Abandoned,      // ConnectFailed{local None}: the peer gave up
  BadProof,       // ConnectFailed{local BadProof}
  Ignored,        // nothing happens, the connection stays established
  EndedProtoError // Disconnected{PROTOERROR, ProtocolViolation}, count back to 0
};

// Everything a case needs to build its bytes.
struct Scene {
  DevicePair& pair;
  Bytes32 challenge{};
  Bytes32 nonce{};
  TransmissionKeys keys{};
  Bytes last_sealed_a_to_b;
};

struct Case {
  const char* name;
  Stage stage;
  std::function<Bytes(Scene&)> input;
  Outcome expected;
  std::optional<Duration> later{};  // feed the input this much later
};
// ctest names a parameterized test after its printed parameter: the case name, not its bytes.
void PrintTo(const Case& c, std::ostream* out) { *out << c.name; }

Bytes raw(std::string_view s) { return make_frame(as_bytes(std::string(s))); }

Bytes header_only(std::uint32_t length) {
  return Bytes{static_cast<std::uint8_t>(length >> 24), static_cast<std::uint8_t>(length >> 16),
               static_cast<std::uint8_t>(length >> 8), static_cast<std::uint8_t>(length)};
}

ConnectRequest hello(std::uint64_t serial = 1) {
  ConnectRequest r;
  r.serial = serial;
  r.user = "alice";
  r.device_id = kIdA;
  return r;
}

ConnectRequest reply_with(std::uint64_t serial, const Bytes32& nonce, const Bytes32& reply) {
  ConnectRequest r;
  r.serial = serial;
  r.request_serial = 2;
  r.nonce = nonce;
  r.reply = reply;
  return r;
}

Bytes sealed(const Scene& s, std::uint64_t counter, const Message& m) {
  return make_frame(seal_with_counter(s.keys.initiator_to_target, counter, as_bytes(encode(m))));
}

Transcript transcript_of(const Scene& s) { return Transcript{s.challenge, s.nonce, kIdB, kIdA, "alice"}; }

const std::vector<Case>& cases() {
  static const std::vector<Case> table = {
      // ---- a fresh target, waiting for step 1 ----
      {"TruncatedJson", Stage::TargetFresh, [](Scene&) { return raw(R"({"type":"ConnectRequest","ser)"); },
       Outcome::ProtocolError},
      {"OversizedFrameHeader", Stage::TargetFresh, [](Scene&) { return header_only(kMaxFrameSize + 1); },
       Outcome::ProtocolError},
      {"ZeroLengthFrame", Stage::TargetFresh, [](Scene&) { return header_only(0); }, Outcome::ProtocolError},
      {"JsonArrayNotObject", Stage::TargetFresh, [](Scene&) { return raw("[1,2,3]"); }, Outcome::ProtocolError},
      {"BinaryGarbage", Stage::TargetFresh, [](Scene&) { return make_frame(Bytes{0xff, 0x00, 0xfe, 0x7b}); },
       Outcome::ProtocolError},
      {"UnknownMessageType", Stage::TargetFresh, [](Scene&) { return raw(R"({"type":"Hello","serial":1})"); },
       Outcome::ProtocolError},
      {"FirstSerialIsNotOne", Stage::TargetFresh, [](Scene&) { return plain_frame(hello(2)); },
       Outcome::ProtocolError},
      {"SerialAsString", Stage::TargetFresh,
       [](Scene&) {
         return raw(R"({"type":"ConnectRequest","serial":"1","request_serial":1,"user":"alice","device_id":"x"})");
       },
       Outcome::ProtocolError},
      {"ReplyBeforeRequest_WrongStep", Stage::TargetFresh,
       [](Scene&) { return plain_frame(reply_with(1, Bytes32{}, Bytes32{})); }, Outcome::ProtocolError},
      {"ConnectResponseSentToTarget", Stage::TargetFresh,
       [](Scene&) {
         ConnectResponse r;
         r.serial = 1;
         r.device_id = kIdA;
         return plain_frame(r);
       },
       Outcome::ProtocolError},
      {"PingBeforeConnecting", Stage::TargetFresh, [](Scene&) { return plain_frame(Ping{1}); },
       Outcome::ProtocolError},
      {"ServiceInvokeBeforeConnecting", Stage::TargetFresh,
       [](Scene&) { return plain_frame(ServiceInvoke{1, 1, "lease", "Toggle", {}}); }, Outcome::ProtocolError},
      {"DiscoveryMessageOverTcp", Stage::TargetFresh,
       [](Scene&) { return plain_frame(DeviceByeBye{kIdA, 1}); }, Outcome::ProtocolError},
      {"UserNameOf33Characters", Stage::TargetFresh,
       [](Scene&) {
         auto r = hello();
         r.user = std::string(33, 'a');
         return raw(encode(r));
       },
       Outcome::ProtocolError},
      {"EmptyUserName", Stage::TargetFresh,
       [](Scene&) { return raw(R"({"type":"ConnectRequest","serial":1,"request_serial":1,"user":"","device_id":"x"})"); },
       Outcome::ProtocolError},
      {"RequestSerial3", Stage::TargetFresh,
       [](Scene&) {
         return raw(R"({"type":"ConnectRequest","serial":1,"request_serial":3,"user":"alice","device_id":"x"})");
       },
       Outcome::ProtocolError},
      {"UnknownUser", Stage::TargetFresh,
       [](Scene&) {
         auto r = hello();
         r.user = "mallory";
         return plain_frame(r);
       },
       Outcome::AccessDenied},
      // ---- a target that sent its challenge and waits for step 5 ----
      {"ReplyWithSkippedSerial", Stage::TargetAwaitReply,
       [](Scene& s) { return plain_frame(reply_with(3, s.nonce, Bytes32{})); }, Outcome::ProtocolError},
      {"RequestRepeatedInsteadOfReply", Stage::TargetAwaitReply, [](Scene&) { return plain_frame(hello(2)); },
       Outcome::ProtocolError},
      {"WrongReplyValue", Stage::TargetAwaitReply,
       [](Scene& s) { return plain_frame(reply_with(2, s.nonce, Bytes32{})); }, Outcome::AccessDenied},
      {"ReplyOf31Bytes", Stage::TargetAwaitReply,
       [](Scene&) {
         const std::string b31 = base64_encode(Bytes(31, 7));
         const std::string b32 = base64_encode(Bytes(32, 7));
         return raw(R"({"type":"ConnectRequest","serial":2,"request_serial":2,"nonce":")" + b32 + R"(","reply":")" +
                    b31 + R"("})");
       },
       Outcome::ProtocolError},
      {"ReplyNotBase64", Stage::TargetAwaitReply,
       [](Scene&) {
         return raw(R"({"type":"ConnectRequest","serial":2,"request_serial":2,"nonce":"!!","reply":"??"})");
       },
       Outcome::ProtocolError},
      {"ReplyAfterTheChallengeExpired", Stage::TargetAwaitReply,
       [](Scene& s) {
         return plain_frame(reply_with(2, s.nonce, compute_reply(alice_key(), transcript_of(s))));
       },
       Outcome::AccessDenied, seconds(11)},
      {"TargetProofReflectedAsReply", Stage::TargetAwaitReply,
       [](Scene& s) {
         return plain_frame(reply_with(2, s.nonce, compute_proof(alice_key(), transcript_of(s))));
       },
       Outcome::AccessDenied},
      {"ReplyBoundToAnotherUser", Stage::TargetAwaitReply,
       [](Scene& s) {
         Transcript t = transcript_of(s);
         t.user = "root";
         return plain_frame(reply_with(2, s.nonce, compute_reply(alice_key(), t)));
       },
       Outcome::AccessDenied},
      {"DisconnectDuringHandshake", Stage::TargetAwaitReply,
       [](Scene&) { return plain_frame(Disconnect{2, DisconnectReason::Normal}); }, Outcome::Abandoned},
      // ---- an initiator waiting for step 3 ----
      {"VerdictBeforeChallenge", Stage::InitiatorAwaitChallenge,
       [](Scene& s) {
         ConnectResponse r;
         r.serial = 1;
         r.response_serial = 2;
         r.device_id = kIdB;
         r.proof = s.challenge;
         return plain_frame(r);
       },
       Outcome::ProtocolError},
      {"ConnectRequestSentToInitiator", Stage::InitiatorAwaitChallenge, [](Scene&) { return plain_frame(hello()); },
       Outcome::ProtocolError},
      {"AuthenticateWithoutChallenge", Stage::InitiatorAwaitChallenge,
       [](Scene&) {
         return raw(R"({"type":"ConnectResponse","serial":1,"response_serial":1,"result":"AUTHENTICATE","device_id":")" +
                    kIdB + R"(","algorithm":"ShareKey"})");
       },
       Outcome::ProtocolError},
      {"UnknownResultString", Stage::InitiatorAwaitChallenge,
       [](Scene&) {
         return raw(R"({"type":"ConnectResponse","serial":1,"response_serial":1,"result":"MAYBE","device_id":")" +
                    kIdB + R"("})");
       },
       Outcome::ProtocolError},
      // ---- an initiator waiting for step 7 ----
      {"SuccessWithForgedProof", Stage::InitiatorAwaitVerdict,
       [](Scene&) {
         ConnectResponse r;
         r.serial = 2;
         r.response_serial = 2;
         r.device_id = kIdB;
         r.proof = Bytes32{};
         return plain_frame(r);
       },
       Outcome::BadProof},
      // ---- an established, authenticated target ----
      {"UnsealedDisconnect", Stage::TargetEstablished,
       [](Scene&) { return plain_frame(Disconnect{3, DisconnectReason::Normal}); }, Outcome::Ignored},
      {"DisconnectSealedWithTheWrongKey", Stage::TargetEstablished,
       [](Scene&) {
         return make_frame(seal_with_counter(Bytes32{}, 1, as_bytes(encode(Disconnect{3, DisconnectReason::Normal}))));
       },
       Outcome::Ignored},
      {"DisconnectSealedWithTheOtherDirectionsKey", Stage::TargetEstablished,
       [](Scene& s) {
         return make_frame(
             seal_with_counter(s.keys.target_to_initiator, 5, as_bytes(encode(Disconnect{3, DisconnectReason::Normal}))));
       },
       Outcome::Ignored},
      {"SealedFrameShorterThanItsOverhead", Stage::TargetEstablished,
       [](Scene&) { return make_frame(Bytes(10, 1)); }, Outcome::Ignored},
      {"ReplayedSealedFrame", Stage::TargetEstablished, [](Scene& s) { return make_frame(s.last_sealed_a_to_b); },
       Outcome::EndedProtoError},
      {"SealedFrameWithBadSerial", Stage::TargetEstablished,
       [](Scene& s) { return sealed(s, 100, Ping{9}); }, Outcome::EndedProtoError},
      {"SealedConnectRequestAfterEstablished", Stage::TargetEstablished,
       [](Scene& s) { return sealed(s, 100, hello(4)); }, Outcome::EndedProtoError},
      {"SealedGarbageJson", Stage::TargetEstablished,
       [](Scene& s) { return make_frame(seal_with_counter(s.keys.initiator_to_target, 100, as_bytes(std::string("{nope")))); },
       Outcome::EndedProtoError},
      {"SealedDiscoveryMessage", Stage::TargetEstablished,
       [](Scene& s) { return sealed(s, 100, DeviceByeBye{kIdA, 1}); }, Outcome::EndedProtoError},
      {"OversizedFrameOnEstablished", Stage::TargetEstablished,
       [](Scene&) { return header_only(0xffffffffU); }, Outcome::EndedProtoError},
  };
  return table;
}

class ConnectionBadInput : public ::testing::TestWithParam<Case> {};

TEST_P(ConnectionBadInput, HasTheExpectedOutcomeAndLeavesCountsRight) {
  const Case& c = GetParam();
  DevicePair pair;
  Scene scene{pair, {}, {}, {}, {}};
  Connection* victim = nullptr;

  // Drive the handshake to the stage under test, remembering what a case needs.
  switch (c.stage) {
    case Stage::TargetFresh:
      pair.target = std::make_unique<ConnectionTarget>(pair.admission_b, pair.random_b, "127.0.0.1", pair.now);
      victim = pair.target.get();
      break;
    case Stage::TargetAwaitReply: {
      pair.target = std::make_unique<ConnectionTarget>(pair.admission_b, pair.random_b, "127.0.0.1", pair.now);
      pair.target->receive(plain_frame(hello()), pair.now);
      const auto frames = split_frames(pair.target->take_output());
      const auto challenge = decode(std::string_view(reinterpret_cast<const char*>(frames[0].data()), frames[0].size()));
      scene.challenge = *std::get<ConnectResponse>(*challenge).challenge;
      scene.nonce.fill(0x42);
      victim = pair.target.get();
      ASSERT_EQ(pair.target->state(), ConnectionState::AwaitReply);
      break;
    }
    case Stage::InitiatorAwaitChallenge:
      pair.begin();
      pair.initiator->take_output();
      victim = pair.initiator.get();
      break;
    case Stage::InitiatorAwaitVerdict:
      pair.begin();
      pair.target->receive(pair.initiator->take_output(), pair.now);
      pair.initiator->receive(pair.target->take_output(), pair.now);
      pair.initiator->take_output();
      victim = pair.initiator.get();
      ASSERT_EQ(pair.initiator->state(), ConnectionState::AwaitVerdict);
      break;
    case Stage::TargetEstablished: {
      pair.connect();
      ASSERT_TRUE(pair.target->established());
      const auto b_frames = split_frames(pair.wire_b_to_a);
      const auto a_frames = split_frames(pair.wire_a_to_b);
      const auto challenge = decode(std::string_view(reinterpret_cast<const char*>(b_frames[0].data()), b_frames[0].size()));
      const auto reply = decode(std::string_view(reinterpret_cast<const char*>(a_frames[1].data()), a_frames[1].size()));
      scene.challenge = *std::get<ConnectResponse>(*challenge).challenge;
      scene.nonce = *std::get<ConnectRequest>(*reply).nonce;
      scene.keys = derive_transmission_keys(alice_key(), transcript_of(scene));
      // One genuine sealed frame, delivered, to replay later.
      ASSERT_TRUE(pair.initiator->send(ServiceSearch{0, 1, ""}, pair.now).ok());
      scene.last_sealed_a_to_b = split_frames(pair.initiator->take_output()).at(0);
      pair.target->receive(make_frame(scene.last_sealed_a_to_b), pair.now);
      pair.target->take_output();
      victim = pair.target.get();
      break;
    }
  }
  ASSERT_NE(victim, nullptr);

  const TimePoint when = pair.now + c.later.value_or(Duration::zero());
  const ConnectionEvents events = victim->receive(c.input(scene), when);
  const auto* failed = find_event<ConnectFailed>(events);
  const auto* ended = find_event<Disconnected>(events);

  switch (c.expected) {
    case Outcome::ProtocolError: {
      ASSERT_NE(failed, nullptr) << "no ConnectFailed";
      EXPECT_EQ(failed->local, LocalFailure::ProtocolError) << failed->detail;
      EXPECT_FALSE(failed->detail.empty());
      // The peer is told why: a Disconnect PROTOERROR goes out.
      const auto out = split_frames(victim->take_output());
      ASSERT_FALSE(out.empty());
      const auto last = decode(std::string_view(reinterpret_cast<const char*>(out.back().data()), out.back().size()));
      ASSERT_TRUE(last.ok());
      EXPECT_EQ(std::get<Disconnect>(*last).reason, DisconnectReason::ProtoError);
      break;
    }
    case Outcome::AccessDenied:
      ASSERT_NE(failed, nullptr);
      EXPECT_EQ(failed->result, ConnectResult::AccessDenied);
      break;
    case Outcome::Abandoned:
      ASSERT_NE(failed, nullptr);
      EXPECT_EQ(failed->local, LocalFailure::None);
      break;
    case Outcome::BadProof:
      ASSERT_NE(failed, nullptr);
      EXPECT_EQ(failed->local, LocalFailure::BadProof);
      break;
    case Outcome::Ignored:
      EXPECT_TRUE(events.empty());
      EXPECT_TRUE(victim->established());
      EXPECT_EQ(victim->ignored_frames(), 1U);
      break;
    case Outcome::EndedProtoError:
      ASSERT_NE(ended, nullptr);
      EXPECT_EQ(ended->reason, DisconnectReason::ProtoError);
      EXPECT_EQ(ended->cause, DisconnectCause::ProtocolViolation);
      break;
  }
  if (c.expected == Outcome::Ignored) {
    EXPECT_EQ(pair.table_b.count(), 1U);
  } else {
    EXPECT_TRUE(victim->closed());
    EXPECT_EQ(pair.table_a.count() + pair.table_b.count(), c.stage == Stage::TargetEstablished ? 1U : 0U)
        << "only the initiator's side of a connection the target ended may remain until it hears";
    // The target in the initiator stages never got the bad input: it still waits for a reply.
    EXPECT_EQ(pair.admission_b.pending(), c.stage == Stage::InitiatorAwaitVerdict ? 1U : 0U);
  }
  // Feeding more bytes after the end changes nothing.
  EXPECT_TRUE(victim->receive(plain_frame(Ping{50}), when).empty() || c.expected == Outcome::Ignored);
}

INSTANTIATE_TEST_SUITE_P(Table, ConnectionBadInput, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ConnectionBadInputTable, HasAtLeastThirtyCases) { EXPECT_GE(cases().size(), 30U); }

}  // namespace
}  // namespace homep2p::test
