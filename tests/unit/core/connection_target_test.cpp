// The target's side of connection creating (patent steps 2, 3, 6, 7; claims 5, 6, 10, 11).
#include <gtest/gtest.h>

#include "connection_harness.hpp"

namespace homep2p::test {
namespace {

ConnectResponse decode_response(const Bytes& payload) {
  auto m = decode(std::string_view(reinterpret_cast<const char*>(payload.data()), payload.size()));
  EXPECT_TRUE(m.ok());
  return std::get<ConnectResponse>(*m);
}

TEST(ConnectionTarget, Step2_AtMaxParallelConnectionsAnswersOverload_Claim6) {
  DevicePair pair(true, /*b_max=*/1);
  ASSERT_TRUE(pair.table_b.try_add("someone-else", Role::Target, pair.now));
  pair.connect();
  const auto* failed = find_event<ConnectFailed>(pair.a_events);
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->result, ConnectResult::Overload);
  EXPECT_EQ(pair.table_a.count(), 0U);
  EXPECT_EQ(pair.table_b.count(), 1U);  // only the connection that was already there
  EXPECT_TRUE(pair.target->closed());
}

TEST(ConnectionTarget, Step2_OverloadIsCheckedBeforeTheUser) {
  DevicePair pair(true, 1);
  ASSERT_TRUE(pair.table_b.try_add("someone-else", Role::Target, pair.now));
  pair.connect("nobody", alice_key());
  const auto* failed = find_event<ConnectFailed>(pair.a_events);
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->result, ConnectResult::Overload);
}

TEST(ConnectionTarget, Step2_UnknownUserAnswersAccessDenied_Claim6) {
  DevicePair pair;
  pair.connect("mallory", alice_key());
  const auto* failed = find_event<ConnectFailed>(pair.a_events);
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->result, ConnectResult::AccessDenied);
  EXPECT_EQ(pair.table_a.count(), 0U);
  EXPECT_EQ(pair.table_b.count(), 0U);
  const auto* target_failed = find_event<ConnectFailed>(pair.b_events);
  ASSERT_NE(target_failed, nullptr);
  EXPECT_NE(target_failed->detail.find("unknown user"), std::string::npos);
}

TEST(ConnectionTarget, Step3_SendsAuthenticateWithShareKeyAndA32ByteChallenge_Claim7) {
  DevicePair pair;
  pair.connect();
  const auto frames = split_frames(pair.wire_b_to_a);
  ASSERT_GE(frames.size(), 2U);
  const ConnectResponse first = decode_response(frames[0]);
  EXPECT_EQ(first.response_serial, 1U);
  EXPECT_EQ(first.result, ConnectResult::Authenticate);
  EXPECT_EQ(first.algorithm, "ShareKey");
  ASSERT_TRUE(first.challenge.has_value());
  EXPECT_EQ(first.device_id, kIdB);
}

TEST(ConnectionTarget, Step3_WithoutAuthenticationAnswersSuccessWithNoChallenge) {
  DevicePair pair(/*auth_required=*/false);
  pair.connect("anyone", std::nullopt);
  const auto* a = find_event<Connected>(pair.a_events);
  const auto* b = find_event<Connected>(pair.b_events);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_FALSE(a->authenticated);
  EXPECT_FALSE(b->authenticated);
  const auto frames = split_frames(pair.wire_b_to_a);
  ASSERT_EQ(frames.size(), 1U);
  const ConnectResponse only = decode_response(frames[0]);
  EXPECT_EQ(only.result, ConnectResult::Success);
  EXPECT_FALSE(only.challenge.has_value());
  EXPECT_EQ(pair.table_a.count(), 1U);
  EXPECT_EQ(pair.table_b.count(), 1U);
}

TEST(ConnectionTarget, Step6_WrongPasswordAnswersAccessDeniedAndCountsStayZero_Claim11) {
  DevicePair pair;
  pair.connect("alice", derive_share_key("not-alice-password", "alice"));
  const auto* failed = find_event<ConnectFailed>(pair.a_events);
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->result, ConnectResult::AccessDenied);
  EXPECT_EQ(pair.table_a.count(), 0U);
  EXPECT_EQ(pair.table_b.count(), 0U);
  EXPECT_EQ(pair.admission_b.pending(), 0U);
}

TEST(ConnectionTarget, Step7_RightPasswordAnswersSuccessWithProofAndBothCountOne_Claim10) {
  DevicePair pair;
  pair.connect();
  const auto* a = find_event<Connected>(pair.a_events);
  const auto* b = find_event<Connected>(pair.b_events);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a->peer_id, kIdB);
  EXPECT_EQ(b->peer_id, kIdA);
  EXPECT_EQ(b->user, "alice");
  EXPECT_EQ(a->role, Role::Initiator);
  EXPECT_EQ(b->role, Role::Target);
  EXPECT_TRUE(a->authenticated);
  EXPECT_EQ(pair.table_a.count(), 1U);
  EXPECT_EQ(pair.table_b.count(), 1U);
  const auto frames = split_frames(pair.wire_b_to_a);
  ASSERT_EQ(frames.size(), 2U);
  const ConnectResponse verdict = decode_response(frames[1]);
  EXPECT_EQ(verdict.response_serial, 2U);
  EXPECT_EQ(verdict.result, ConnectResult::Success);
  EXPECT_TRUE(verdict.proof.has_value());
}

TEST(ConnectionTarget, Claim11_ChallengeIsSingleUse_ReplayedReplyOnANewConnectionIsDenied) {
  DevicePair pair;
  pair.connect();
  ASSERT_NE(find_event<Connected>(pair.b_events), nullptr);
  const auto a_frames = split_frames(pair.wire_a_to_b);
  ASSERT_GE(a_frames.size(), 2U);
  // An eavesdropper replays both captured requests on a new connection.
  ConnectionTarget second(pair.admission_b, pair.random_b, "127.0.0.2", pair.now);
  ConnectionEvents events;
  for (int i = 0; i < 2; ++i) {
    auto ev = second.receive(make_frame(a_frames[static_cast<std::size_t>(i)]), pair.now);
    events.insert(events.end(), ev.begin(), ev.end());
  }
  const auto* failed = find_event<ConnectFailed>(events);
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->result, ConnectResult::AccessDenied);
  EXPECT_EQ(pair.table_b.count(), 1U);  // only the genuine connection
}

TEST(ConnectionTarget, ExpiredChallengeIsDenied) {
  DevicePair pair;
  pair.begin();
  // Step 1 to the target, step 3 back to the initiator, which answers at once...
  pair.target->receive(pair.initiator->take_output(), pair.now);
  pair.initiator->receive(pair.target->take_output(), pair.now);
  const Bytes reply = pair.initiator->take_output();
  // ...but the reply reaches the target only after the challenge lifetime.
  const auto events = pair.target->receive(reply, pair.now + pair.settings.challenge_lifetime + seconds(1));
  const auto* failed = find_event<ConnectFailed>(events);
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->result, ConnectResult::AccessDenied);
  EXPECT_NE(failed->detail.find("expired"), std::string::npos);
  EXPECT_EQ(pair.table_b.count(), 0U);
}

TEST(ConnectionTarget, BackoffEngagesAfterRepeatedWrongPasswordsAndOnlyForThatUser) {
  DevicePair pair;
  const ShareKey wrong = derive_share_key("guess", "alice");
  for (unsigned i = 0; i < pair.settings.backoff.free_failures; ++i) {
    pair.connect("alice", wrong);
    ASSERT_EQ(find_event<ConnectFailed>(pair.a_events)->result, ConnectResult::AccessDenied);
    pair.clear_events();
  }
  // Now even the right password is refused at once, with no challenge.
  pair.wire_b_to_a.clear();
  pair.connect();
  const auto* failed = find_event<ConnectFailed>(pair.a_events);
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->result, ConnectResult::AccessDenied);
  EXPECT_EQ(split_frames(pair.wire_b_to_a).size(), 1U);
  EXPECT_NE(find_event<ConnectFailed>(pair.b_events)->detail.find("backing off"), std::string::npos);
  // Another user is not locked out.
  pair.clear_events();
  pair.connect("root", admin_key());
  EXPECT_NE(find_event<Connected>(pair.a_events), nullptr);
  pair.initiator->disconnect(DisconnectReason::Normal, pair.now);
  pair.pump();
  // Once the back-off passes, the right password gets in.
  pair.clear_events();
  pair.now += pair.settings.backoff.cap;
  pair.connect();
  EXPECT_NE(find_event<Connected>(pair.a_events), nullptr);
}

TEST(ConnectionTarget, HalfOpenHandshakesAreBoundedAndALegitimateInitiatorGetsInAfterwards) {
  ConnectionSettings settings;
  settings.max_pending_handshakes = 3;
  DevicePair pair(true, 4, settings);
  std::vector<std::unique_ptr<ConnectionTarget>> half_open;
  ConnectRequest hello;
  hello.serial = 1;
  hello.user = "alice";
  hello.device_id = kIdA;
  for (int i = 0; i < 3; ++i) {
    half_open.push_back(std::make_unique<ConnectionTarget>(pair.admission_b, pair.random_b, "10.0.0.9", pair.now));
    auto ev = half_open.back()->receive(plain_frame(hello), pair.now);
    EXPECT_TRUE(ev.empty());  // challenge sent, waiting for the reply
  }
  EXPECT_EQ(pair.admission_b.pending(), 3U);
  pair.connect();
  const auto* failed = find_event<ConnectFailed>(pair.a_events);
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->result, ConnectResult::Overload);
  // The half-open ones time out (or their sockets close): the slots come back.
  for (auto& t : half_open) t->on_deadline(pair.now + settings.handshake_timeout);
  EXPECT_EQ(pair.admission_b.pending(), 0U);
  pair.clear_events();
  pair.connect();
  EXPECT_NE(find_event<Connected>(pair.a_events), nullptr);
}

// Issue 6 (docs/RELIABILITY.md, found by tests/integration/hardening/attack_test.cpp): one host
// holding many half-open handshakes no longer locks out an initiator from another address.
TEST(ConnectionTarget, HalfOpenHandshakesFromOneAddressDoNotLockOutAnother) {
  ConnectionSettings settings;
  settings.max_pending_handshakes = 8;
  settings.max_pending_per_address = 3;
  DevicePair pair(true, 4, settings);
  std::vector<std::unique_ptr<ConnectionTarget>> flood;
  ConnectRequest hello;
  hello.serial = 1;
  hello.user = "alice";
  hello.device_id = kIdA;
  std::size_t overloaded = 0;
  for (int i = 0; i < 20; ++i) {
    flood.push_back(std::make_unique<ConnectionTarget>(pair.admission_b, pair.random_b, "10.0.0.9", pair.now));
    const auto ev = flood.back()->receive(plain_frame(hello), pair.now);
    if (const auto* f = find_event<ConnectFailed>(ev); f && f->result == ConnectResult::Overload) ++overloaded;
  }
  EXPECT_EQ(overloaded, 17U);
  EXPECT_EQ(pair.admission_b.pending(), 3U);
  pair.connect();  // from 127.0.0.1
  EXPECT_NE(find_event<Connected>(pair.a_events), nullptr);
  flood.clear();
  EXPECT_EQ(pair.admission_b.pending(), 0U);
  EXPECT_EQ(pair.admission_b.pending_from("10.0.0.9"), 0U);
}

TEST(ConnectionTarget, DestroyingAHalfOpenTargetReleasesItsPendingSlot) {
  DevicePair pair;
  pair.begin();
  pair.target->receive(pair.initiator->take_output(), pair.now);
  EXPECT_EQ(pair.admission_b.pending(), 1U);
  pair.target.reset();
  EXPECT_EQ(pair.admission_b.pending(), 0U);
}

TEST(ConnectionTarget, TableFilledDuringTheHandshakeAnswersOverloadAtStep7) {
  DevicePair pair(true, 1);
  pair.begin();
  pair.target->receive(pair.initiator->take_output(), pair.now);
  ASSERT_TRUE(pair.table_b.try_add("raced-in", Role::Target, pair.now));
  pair.pump();
  const auto* failed = find_event<ConnectFailed>(pair.a_events);
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->result, ConnectResult::Overload);
  EXPECT_EQ(pair.table_b.count(), 1U);
  EXPECT_EQ(pair.table_a.count(), 0U);
}

TEST(ConnectionTarget, HandshakeTimeoutEndsAHandshakeThatStalls) {
  DevicePair pair;
  ConnectionTarget stalled(pair.admission_b, pair.random_b, "127.0.0.1", pair.now);
  ASSERT_TRUE(stalled.next_deadline().has_value());
  EXPECT_EQ(*stalled.next_deadline(), pair.now + pair.settings.handshake_timeout);
  EXPECT_TRUE(stalled.on_deadline(pair.now + seconds(1)).empty());
  const auto events = stalled.on_deadline(pair.now + pair.settings.handshake_timeout);
  const auto* failed = find_event<ConnectFailed>(events);
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->local, LocalFailure::HandshakeTimeout);
  EXPECT_TRUE(stalled.closed());
}

TEST(ConnectionTarget, RemovedAccountBetweenChallengeAndReplyIsDenied) {
  DevicePair pair;
  pair.begin();
  pair.target->receive(pair.initiator->take_output(), pair.now);
  pair.admission_b.accounts().remove("alice");
  pair.pump();
  const auto* failed = find_event<ConnectFailed>(pair.a_events);
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->result, ConnectResult::AccessDenied);
}

}  // namespace
}  // namespace homep2p::test
