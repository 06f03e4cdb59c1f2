// What both roles share once connected: Disconnect (patent steps f/g, claims 13-14), sealing
// (claim 12), serials, keepalive, service messages, and the connection count on both sides.
#include <gtest/gtest.h>

#include "connection_harness.hpp"

namespace homep2p::test {
namespace {

class Established : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    pair = std::make_unique<DevicePair>(/*auth_required=*/GetParam());
    pair->connect(GetParam() ? "alice" : "anyone", GetParam() ? std::optional(alice_key()) : std::nullopt);
    ASSERT_TRUE(pair->initiator->established());
    ASSERT_TRUE(pair->target->established());
    pair->clear_events();
    pair->wire_a_to_b.clear();
    pair->wire_b_to_a.clear();
  }
  std::unique_ptr<DevicePair> pair;
};

TEST_P(Established, BothSidesCountOneConnection_Claim10) {
  EXPECT_EQ(pair->table_a.count(), 1U);
  EXPECT_EQ(pair->table_b.count(), 1U);
}

TEST_P(Established, InitiatorDisconnectsNormal_BothCountsBackToZero_Claims13And14) {
  const auto own = pair->initiator->disconnect(DisconnectReason::Normal, pair->now);
  ASSERT_NE(find_event<Disconnected>(own), nullptr);
  EXPECT_EQ(find_event<Disconnected>(own)->cause, DisconnectCause::LocalRequested);
  pair->pump();
  const auto* b = find_event<Disconnected>(pair->b_events);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->reason, DisconnectReason::Normal);
  EXPECT_EQ(b->cause, DisconnectCause::PeerRequested);
  EXPECT_EQ(pair->table_a.count(), 0U);
  EXPECT_EQ(pair->table_b.count(), 0U);
}

TEST_P(Established, TargetDisconnectsNormal_BothCountsBackToZero_Claims13And14) {
  pair->target->disconnect(DisconnectReason::Normal, pair->now);
  pair->pump();
  const auto* a = find_event<Disconnected>(pair->a_events);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->reason, DisconnectReason::Normal);
  EXPECT_EQ(a->cause, DisconnectCause::PeerRequested);
  EXPECT_EQ(pair->table_a.count(), 0U);
  EXPECT_EQ(pair->table_b.count(), 0U);
}

TEST_P(Established, InitiatorDisconnectsProtoError_TargetSeesTheReason) {
  pair->initiator->disconnect(DisconnectReason::ProtoError, pair->now);
  pair->pump();
  const auto* b = find_event<Disconnected>(pair->b_events);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->reason, DisconnectReason::ProtoError);
  EXPECT_EQ(pair->table_a.count(), 0U);
  EXPECT_EQ(pair->table_b.count(), 0U);
}

TEST_P(Established, TargetDisconnectsProtoError_InitiatorSeesTheReason) {
  pair->target->disconnect(DisconnectReason::ProtoError, pair->now);
  pair->pump();
  const auto* a = find_event<Disconnected>(pair->a_events);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->reason, DisconnectReason::ProtoError);
  EXPECT_EQ(pair->table_a.count(), 0U);
  EXPECT_EQ(pair->table_b.count(), 0U);
}

TEST_P(Established, ServiceMessagesReachThePeerWithIncreasingSerials) {
  ASSERT_TRUE(pair->initiator->send(ServiceSearch{0, 7, "SwitchPower"}, pair->now).ok());
  ASSERT_TRUE(pair->initiator->send(ServiceSearch{0, 8, ""}, pair->now).ok());
  pair->pump();
  ASSERT_EQ(count_events<MessageReceived>(pair->b_events), 2U);
  const auto& first = std::get<ServiceSearch>(std::get<MessageReceived>(pair->b_events[0]).message);
  const auto& second = std::get<ServiceSearch>(std::get<MessageReceived>(pair->b_events[1]).message);
  EXPECT_EQ(first.request_id, 7U);
  EXPECT_EQ(first.service_type, "SwitchPower");
  EXPECT_EQ(second.serial, first.serial + 1);
}

TEST_P(Established, TransportClosedEndsTheConnectionAndFixesTheCount) {
  const auto events = pair->target->transport_closed(pair->now);
  const auto* d = find_event<Disconnected>(events);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->cause, DisconnectCause::TransportClosed);
  EXPECT_EQ(pair->table_b.count(), 0U);
}

TEST_P(Established, DestroyingAnEstablishedConnectionReleasesItsSlot) {
  pair->initiator.reset();
  EXPECT_EQ(pair->table_a.count(), 0U);
}

TEST_P(Established, KeepaliveSendsPingAfterAnIntervalOfSilenceAndPeerAnswersPong) {
  const Duration interval = pair->settings.keepalive_interval;
  ASSERT_EQ(pair->initiator->next_deadline(), pair->now + interval);
  pair->now += interval;
  EXPECT_TRUE(pair->initiator->on_deadline(pair->now).empty());
  EXPECT_TRUE(pair->initiator->has_output());
  pair->pump();  // Ping -> target, Pong -> initiator
  EXPECT_TRUE(pair->a_events.empty());
  EXPECT_TRUE(pair->b_events.empty());
  EXPECT_TRUE(pair->initiator->established());
  EXPECT_TRUE(pair->target->established());
}

TEST_P(Established, DeadPeerIsNoticedAfterThreeKeepaliveIntervals) {
  const Duration interval = pair->settings.keepalive_interval;
  ConnectionEvents events;
  // The target vanished: nothing reaches the initiator any more.
  for (int i = 1; i <= 3; ++i) {
    auto ev = pair->initiator->on_deadline(pair->now + interval * i);
    events.insert(events.end(), ev.begin(), ev.end());
    pair->initiator->take_output();
  }
  const auto* d = find_event<Disconnected>(events);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->cause, DisconnectCause::KeepaliveTimeout);
  EXPECT_EQ(pair->table_a.count(), 0U);
  EXPECT_FALSE(pair->initiator->next_deadline().has_value());
}

TEST_P(Established, SendBeforeEstablishedIsAnInvalidStateError) {
  ConnectionInitiator fresh(InitiatorParams{kIdA, kIdB, "alice", alice_key()}, pair->table_a, pair->random_a);
  const auto r = fresh.send(ServiceSearch{}, pair->now);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::InvalidState);
}

INSTANTIATE_TEST_SUITE_P(WithAndWithoutAuthentication, Established, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Authenticated" : "NoAuthentication"; });

TEST(SealedConnection, FramesAfterSuccessAreSealed_Claim12) {
  DevicePair pair;
  pair.connect();
  pair.wire_a_to_b.clear();
  ASSERT_TRUE(pair.initiator->send(ServiceSearch{0, 1, ""}, pair.now).ok());
  pair.pump();
  const auto frames = split_frames(pair.wire_a_to_b);
  ASSERT_EQ(frames.size(), 1U);
  const std::string_view text(reinterpret_cast<const char*>(frames[0].data()), frames[0].size());
  EXPECT_EQ(text.find("ServiceSearch"), std::string_view::npos);
  EXPECT_FALSE(decode(text).ok());
  EXPECT_EQ(count_events<MessageReceived>(pair.b_events), 1U);
}

TEST(SealedConnection, DisconnectIsSealedOnTheWire) {
  DevicePair pair;
  pair.connect();
  pair.wire_a_to_b.clear();
  pair.initiator->disconnect(DisconnectReason::Normal, pair.now);
  pair.pump();
  const auto frames = split_frames(pair.wire_a_to_b);
  ASSERT_EQ(frames.size(), 1U);
  const std::string_view text(reinterpret_cast<const char*>(frames[0].data()), frames[0].size());
  EXPECT_EQ(text.find("Disconnect"), std::string_view::npos);
  EXPECT_EQ(pair.table_b.count(), 0U);
}

TEST(UnauthenticatedConnection, FramesStayPlainAndAPlainDisconnectIsHonoured) {
  DevicePair pair(false);
  pair.connect("anyone", std::nullopt);
  pair.clear_events();
  const auto events = pair.target->receive(plain_frame(Disconnect{2, DisconnectReason::Normal}), pair.now);
  ASSERT_NE(find_event<Disconnected>(events), nullptr);
  EXPECT_EQ(pair.table_b.count(), 0U);
}

TEST(ConnectionTable, ConnectionsInBothRolesCountOnTheSameDevice) {
  DevicePair pair;
  pair.connect();
  // B also initiates towards A's admission: A now counts one of each role.
  ConnectionAdmission admission_a(kIdA, true, DevicePair::make_accounts(), pair.table_a);
  ConnectionInitiator b_to_a(InitiatorParams{kIdB, kIdA, "alice", alice_key()}, pair.table_b, pair.random_b);
  ConnectionTarget a_from_b(admission_a, pair.random_a, "127.0.0.1", pair.now);
  b_to_a.start(pair.now);
  for (int i = 0; i < 4; ++i) {
    a_from_b.receive(b_to_a.take_output(), pair.now);
    b_to_a.receive(a_from_b.take_output(), pair.now);
  }
  ASSERT_TRUE(b_to_a.established());
  EXPECT_EQ(pair.table_a.count(), 2U);
  EXPECT_EQ(pair.table_b.count(), 2U);
}

}  // namespace
}  // namespace homep2p::test
