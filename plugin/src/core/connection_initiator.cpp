// The initiator's side of connection creating: patent steps 1, 4, 5 and 8.
#include <string>

#include "homep2p/connection.hpp"

namespace homep2p {

ConnectionInitiator::ConnectionInitiator(InitiatorParams params, ConnectionTable& table, RandomSource& random,
                                         ConnectionSettings settings)
    : Connection(Role::Initiator, table, settings), params_(std::move(params)), random_(random) {
  // Known from the start, so that a failure before step 1 (no TCP connection) names the device.
  set_peer(params_.target_id, params_.user);
}

ConnectionEvents ConnectionInitiator::start(TimePoint now) {
  ConnectionEvents events;
  if (state() != ConnectionState::Idle) return events;
  set_peer(params_.target_id, params_.user);
  if (table().full()) {
    set_state(ConnectionState::Closed);
    events.push_back(ConnectFailed{std::nullopt, LocalFailure::LocalOverload,
                                   "our connection table is full (" + std::to_string(table().count()) + "/" +
                                       std::to_string(table().max()) + ")"});
    return events;
  }
  // Step 1: ConnectRequest {user, request serial 1}.
  ConnectRequest request;
  request.request_serial = 1;
  request.user = params_.user;
  request.device_id = params_.own_id;
  (void)emit(std::move(request), now);
  arm_handshake_deadline(now);
  set_state(ConnectionState::AwaitChallenge);
  return events;
}

void ConnectionInitiator::on_handshake_message(Message message, TimePoint now, ConnectionEvents& events) {
  if (const auto* d = std::get_if<Disconnect>(&message)) {
    fail_handshake(ConnectFailed{std::nullopt,
                                 d->reason == DisconnectReason::ProtoError ? LocalFailure::ProtocolError
                                                                           : LocalFailure::None,
                                 "target sent Disconnect " + std::string(to_string(d->reason)) +
                                     " during the handshake"},
                   events);
    return;
  }
  const auto* response = std::get_if<ConnectResponse>(&message);
  if (response == nullptr) {
    protocol_error("expected ConnectResponse, got " + std::string(message_type(message)), now, events);
    return;
  }
  const std::uint32_t expected_serial = state() == ConnectionState::AwaitChallenge ? 1 : 2;
  if (response->response_serial != expected_serial) {
    protocol_error("expected ConnectResponse with response_serial " + std::to_string(expected_serial) + ", got " +
                       std::to_string(response->response_serial),
                   now, events);
    return;
  }
  if (params_.target_id.empty()) {
    // Connecting by address: learn who answered (the transcript binds the proof to that id).
    params_.target_id = response->device_id;
    set_peer(params_.target_id, params_.user);
  } else if (response->device_id != params_.target_id) {
    (void)emit(Disconnect{0, DisconnectReason::Normal}, now);
    fail_handshake(ConnectFailed{std::nullopt, LocalFailure::ProtocolError,
                                 "answered by device " + response->device_id + ", expected " + params_.target_id},
                   events);
    return;
  }
  if (state() == ConnectionState::AwaitChallenge) {
    on_challenge(*response, now, events);
  } else {
    on_verdict(*response, now, events);
  }
}

// Step 4: read the target's first answer; with AUTHENTICATE, compute the reply (step 5).
void ConnectionInitiator::on_challenge(const ConnectResponse& response, TimePoint now, ConnectionEvents& events) {
  switch (response.result) {
    case ConnectResult::Success:  // the target requires no authentication
      if (params_.require_authentication) {
        (void)emit(Disconnect{0, DisconnectReason::ProtoError}, now);
        fail_handshake(ConnectFailed{std::nullopt, LocalFailure::ProtocolError,
                                     "device " + params_.target_id +
                                         " announced authentication but answered SUCCESS without a challenge"},
                       events);
        return;
      }
      if (!claim_slot(now)) {
        (void)emit(Disconnect{0, DisconnectReason::Normal}, now);
        fail_handshake(ConnectFailed{ConnectResult::Success, LocalFailure::LocalOverload,
                                     "our connection table filled up during the handshake"},
                       events);
        return;
      }
      establish(std::nullopt, now, events);
      return;
    case ConnectResult::Overload:
    case ConnectResult::AccessDenied:
      fail_handshake(ConnectFailed{response.result, LocalFailure::None,
                                   "target answered " + std::string(to_string(response.result))},
                     events);
      return;
    case ConnectResult::Authenticate:
      break;
  }
  if (!params_.key) {
    (void)emit(Disconnect{0, DisconnectReason::Normal}, now);
    fail_handshake(ConnectFailed{std::nullopt, LocalFailure::NoKeyForTarget,
                                 "no key for device " + params_.target_id + " (user " + params_.user + ")"},
                   events);
    return;
  }
  transcript_.challenge = *response.challenge;
  random_.fill(transcript_.nonce);
  transcript_.target_id = params_.target_id;
  transcript_.initiator_id = params_.own_id;
  transcript_.user = params_.user;
  ConnectRequest reply;
  reply.request_serial = 2;
  reply.nonce = transcript_.nonce;
  reply.reply = compute_reply(*params_.key, transcript_);
  (void)emit(std::move(reply), now);
  set_state(ConnectionState::AwaitVerdict);
}

// Step 8: read the verdict; on SUCCESS the target must prove it holds the key too.
void ConnectionInitiator::on_verdict(const ConnectResponse& response, TimePoint now, ConnectionEvents& events) {
  if (response.result != ConnectResult::Success) {
    fail_handshake(ConnectFailed{response.result, LocalFailure::None,
                                 "target answered " + std::string(to_string(response.result))},
                   events);
    return;
  }
  const Bytes32 expected = compute_proof(*params_.key, transcript_);
  if (!response.proof || !equal_constant_time(*response.proof, expected)) {
    // Whoever answered does not hold K: drop it without another word (mutual authentication).
    fail_handshake(ConnectFailed{std::nullopt, LocalFailure::BadProof,
                                 "device " + params_.target_id + " could not prove the shared key"},
                   events);
    return;
  }
  const TransmissionKeys keys = derive_transmission_keys(*params_.key, transcript_);
  if (!claim_slot(now)) {
    install_keys(keys);  // the target counts the connection: tell it, sealed, that we leave
    (void)emit(Disconnect{0, DisconnectReason::Normal}, now);
    fail_handshake(ConnectFailed{ConnectResult::Success, LocalFailure::LocalOverload,
                                 "our connection table filled up during the handshake"},
                   events);
    return;
  }
  establish(keys, now, events);
}

}  // namespace homep2p
