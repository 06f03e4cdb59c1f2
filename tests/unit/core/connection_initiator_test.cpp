// The initiator's side of connection creating (patent steps 1, 4, 5, 8; claims 4, 8, 9).
#include <gtest/gtest.h>

#include "connection_harness.hpp"

namespace homep2p::test {
namespace {

Message decode_payload(const Bytes& payload) {
  auto m = decode(std::string_view(reinterpret_cast<const char*>(payload.data()), payload.size()));
  EXPECT_TRUE(m.ok());
  return m.ok() ? *m : Message{Ping{}};
}

TEST(ConnectionInitiator, Step1_SendsConnectRequestWithUserAndRequestSerial1_Claim4) {
  DevicePair pair;
  pair.begin();
  const auto frames = split_frames(pair.initiator->take_output());
  ASSERT_EQ(frames.size(), 1U);
  const auto request = std::get<ConnectRequest>(decode_payload(frames[0]));
  EXPECT_EQ(request.serial, 1U);
  EXPECT_EQ(request.request_serial, 1U);
  EXPECT_EQ(request.user, "alice");
  EXPECT_EQ(request.device_id, kIdA);
  EXPECT_EQ(pair.initiator->state(), ConnectionState::AwaitChallenge);
}

TEST(ConnectionInitiator, Step5_SendsNonceAndReplyWithRequestSerial2_Claim8) {
  DevicePair pair;
  pair.connect();
  const auto frames = split_frames(pair.wire_a_to_b);
  ASSERT_GE(frames.size(), 2U);
  const auto reply = std::get<ConnectRequest>(decode_payload(frames[1]));
  EXPECT_EQ(reply.serial, 2U);
  EXPECT_EQ(reply.request_serial, 2U);
  EXPECT_TRUE(reply.nonce.has_value());
  EXPECT_TRUE(reply.reply.has_value());
  EXPECT_TRUE(reply.user.empty());
}

TEST(ConnectionInitiator, Step4_NoKeyForTheTargetFailsLocallyAndNothingIsCounted) {
  DevicePair pair;
  pair.connect("alice", std::nullopt);
  const auto* failed = find_event<ConnectFailed>(pair.a_events);
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->local, LocalFailure::NoKeyForTarget);
  EXPECT_FALSE(failed->result.has_value());
  EXPECT_EQ(pair.table_a.count(), 0U);
  EXPECT_EQ(pair.table_b.count(), 0U);
  EXPECT_EQ(pair.admission_b.pending(), 0U);
  EXPECT_TRUE(pair.target->closed());  // told by the initiator's Disconnect
}

TEST(ConnectionInitiator, Step8_ReadsSuccessAndBecomesEstablished) {
  DevicePair pair;
  pair.connect();
  EXPECT_TRUE(pair.initiator->established());
  EXPECT_TRUE(pair.initiator->authenticated());
  ASSERT_TRUE(pair.initiator->connection_id().has_value());
  const auto* peer = pair.table_a.find(*pair.initiator->connection_id());
  ASSERT_NE(peer, nullptr);
  EXPECT_EQ(peer->peer_id, kIdB);
  EXPECT_EQ(peer->role, Role::Initiator);
}

TEST(ConnectionInitiator, MutualAuthentication_DropsATargetWhoseProofIsWrong) {
  DevicePair pair;
  pair.begin();
  pair.target->receive(pair.initiator->take_output(), pair.now);
  pair.initiator->receive(pair.target->take_output(), pair.now);
  pair.target->receive(pair.initiator->take_output(), pair.now);
  // Tamper with the target's SUCCESS: a proof from someone who does not hold K.
  const auto frames = split_frames(pair.target->take_output());
  ASSERT_EQ(frames.size(), 1U);
  auto verdict = std::get<ConnectResponse>(decode_payload(frames[0]));
  ASSERT_EQ(verdict.result, ConnectResult::Success);
  (*verdict.proof)[0] ^= 0x01;
  const auto events = pair.initiator->receive(plain_frame(verdict), pair.now);
  const auto* failed = find_event<ConnectFailed>(events);
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->local, LocalFailure::BadProof);
  EXPECT_EQ(pair.table_a.count(), 0U);
  EXPECT_TRUE(pair.initiator->closed());
}

TEST(ConnectionInitiator, AnAnswerFromAnotherDeviceThanTheOneMeantFails) {
  DevicePair pair;
  pair.begin("alice", alice_key(), "0c0c0c0c-0000-4000-8000-00000000000c");
  pair.pump();
  const auto* failed = find_event<ConnectFailed>(pair.a_events);
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->local, LocalFailure::ProtocolError);
  EXPECT_NE(failed->detail.find("expected"), std::string::npos);
  EXPECT_EQ(pair.table_a.count(), 0U);
}

TEST(ConnectionInitiator, SuccessWithoutChallengeFromATargetThatAnnouncedAuthenticationIsRefused) {
  DevicePair pair(/*auth_required=*/false);  // the target (or an impostor) skips the challenge...
  pair.initiator = std::make_unique<ConnectionInitiator>(
      InitiatorParams{kIdA, kIdB, "alice", alice_key(), /*require_authentication=*/true}, pair.table_a,
      pair.random_a, pair.settings);
  pair.target = std::make_unique<ConnectionTarget>(pair.admission_b, pair.random_b, "127.0.0.1", pair.now);
  pair.initiator->start(pair.now);
  pair.pump();
  // ...but its announce said authentication is required: a downgrade, refused.
  const auto* failed = find_event<ConnectFailed>(pair.a_events);
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->local, LocalFailure::ProtocolError);
  EXPECT_NE(failed->detail.find("without a challenge"), std::string::npos);
  EXPECT_EQ(pair.table_a.count(), 0U);
  EXPECT_EQ(pair.table_b.count(), 0U);  // the target heard our PROTOERROR and let go
}

TEST(ConnectionInitiator, ConnectingByAddressLearnsTheTargetId) {
  DevicePair pair;
  pair.begin("alice", alice_key(), "");
  pair.pump();
  const auto* connected = find_event<Connected>(pair.a_events);
  ASSERT_NE(connected, nullptr);
  EXPECT_EQ(connected->peer_id, kIdB);
}

TEST(ConnectionInitiator, FullOwnTableFailsLocallyBeforeSendingAnything) {
  DevicePair pair;
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(pair.table_a.try_add("x", Role::Initiator, pair.now));
  pair.begin();
  const auto* failed = find_event<ConnectFailed>(pair.a_events);
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->local, LocalFailure::LocalOverload);
  EXPECT_FALSE(pair.initiator->has_output());
}

TEST(ConnectionInitiator, TransportClosedDuringTheHandshakeFails) {
  DevicePair pair;
  pair.begin();
  const auto events = pair.initiator->transport_closed(pair.now);
  const auto* failed = find_event<ConnectFailed>(events);
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->local, LocalFailure::TransportClosed);
  EXPECT_TRUE(pair.initiator->closed());
}

TEST(ConnectionInitiator, HandshakeTimeoutWhenTheTargetNeverAnswers) {
  DevicePair pair;
  pair.begin();
  const auto events = pair.initiator->on_deadline(pair.now + pair.settings.handshake_timeout);
  const auto* failed = find_event<ConnectFailed>(events);
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->local, LocalFailure::HandshakeTimeout);
}

}  // namespace
}  // namespace homep2p::test
