// The target's side of connection creating: patent steps 2, 3, 6 and 7.
#include <string>

#include "homep2p/connection.hpp"

namespace homep2p {

namespace {
std::string user_key(std::string_view user) { return "user:" + std::string(user); }
std::string address_key(std::string_view address) { return "addr:" + std::string(address); }
}  // namespace

ConnectionTarget::ConnectionTarget(ConnectionAdmission& admission, RandomSource& random, std::string peer_address,
                                   TimePoint now)
    : Connection(Role::Target, admission.table(), admission.settings()),
      admission_(admission),
      random_(random),
      peer_address_(std::move(peer_address)) {
  set_state(ConnectionState::AwaitRequest);
  arm_handshake_deadline(now);
}

ConnectionTarget::~ConnectionTarget() { on_handshake_end(); }

void ConnectionTarget::on_handshake_end() {
  if (holds_pending_) {
    admission_.end_pending(peer_address_);
    holds_pending_ = false;
  }
}

void ConnectionTarget::on_handshake_message(Message message, TimePoint now, ConnectionEvents& events) {
  if (const auto* d = std::get_if<Disconnect>(&message)) {
    fail_handshake(ConnectFailed{std::nullopt, LocalFailure::None,
                                 "initiator sent Disconnect " + std::string(to_string(d->reason)) +
                                     " during the handshake"},
                   events);
    return;
  }
  const auto* request = std::get_if<ConnectRequest>(&message);
  const std::uint32_t expected_serial = state() == ConnectionState::AwaitRequest ? 1 : 2;
  if (request == nullptr || request->request_serial != expected_serial) {
    protocol_error("expected ConnectRequest with request_serial " + std::to_string(expected_serial) + ", got " +
                       std::string(message_type(message)),
                   now, events);
    return;
  }
  if (expected_serial == 1) {
    on_request(*request, now, events);
  } else {
    on_reply(*request, now, events);
  }
}

void ConnectionTarget::answer(ConnectResponse response, TimePoint now, ConnectionEvents& events, std::string detail) {
  response.device_id = admission_.device_id();
  const ConnectResult result = response.result;
  (void)emit(std::move(response), now);
  if (result == ConnectResult::Overload || result == ConnectResult::AccessDenied) {
    fail_handshake(ConnectFailed{result, LocalFailure::None, std::move(detail)}, events);
  }
}

// Step 2: the count first (OVERLOAD), then the user (ACCESSDENIED), then a fresh challenge (step 3).
void ConnectionTarget::on_request(const ConnectRequest& request, TimePoint now, ConnectionEvents& events) {
  set_peer(request.device_id, request.user);
  ConnectResponse response;
  response.response_serial = 1;
  if (admission_.table().full()) {
    response.result = ConnectResult::Overload;
    answer(std::move(response), now, events,
           "at the max parallel connection number (" + std::to_string(admission_.table().max()) + ")");
    return;
  }
  if (!admission_.auth_required()) {
    // Patent: a device announced as "authentication needless" accepts anyone.
    if (!claim_slot(now)) {
      response.result = ConnectResult::Overload;
      answer(std::move(response), now, events, "connection table full");
      return;
    }
    response.result = ConnectResult::Success;
    answer(std::move(response), now, events, {});
    establish(std::nullopt, now, events);
    return;
  }
  FailureBackoff& backoff = admission_.backoff();
  if (backoff.blocked(user_key(request.user), now) || backoff.blocked(address_key(peer_address_), now)) {
    response.result = ConnectResult::AccessDenied;
    answer(std::move(response), now, events, "backing off after repeated failures for user " + request.user);
    return;
  }
  if (admission_.accounts().find(request.user) == nullptr) {
    backoff.record_failure(address_key(peer_address_), now);
    response.result = ConnectResult::AccessDenied;
    answer(std::move(response), now, events, "unknown user " + request.user);
    return;
  }
  if (!admission_.try_begin_pending(peer_address_)) {
    response.result = ConnectResult::Overload;
    answer(std::move(response), now, events,
           admission_.pending() >= admission_.settings().max_pending_handshakes
               ? "too many handshakes in progress"
               : "too many handshakes in progress from " + peer_address_);
    return;
  }
  holds_pending_ = true;
  transcript_ = Transcript{};
  random_.fill(transcript_.challenge);  // saved for step 6, single use (patent claim 11)
  transcript_.target_id = admission_.device_id();
  transcript_.initiator_id = request.device_id;
  transcript_.user = request.user;
  challenge_issued_ = now;
  response.result = ConnectResult::Authenticate;
  response.algorithm = "ShareKey";
  response.challenge = transcript_.challenge;
  answer(std::move(response), now, events, {});
  set_state(ConnectionState::AwaitReply);
}

// Step 6: check the reply against the saved challenge and the user's key; step 7: the verdict.
void ConnectionTarget::on_reply(const ConnectRequest& request, TimePoint now, ConnectionEvents& events) {
  on_handshake_end();  // no longer half-open, whatever the verdict
  ConnectResponse response;
  response.response_serial = 2;
  const Account* account = admission_.accounts().find(transcript_.user);
  if (now - challenge_issued_ > admission_.settings().challenge_lifetime) {
    response.result = ConnectResult::AccessDenied;
    answer(std::move(response), now, events, "challenge expired");
    return;
  }
  if (account == nullptr) {
    response.result = ConnectResult::AccessDenied;
    answer(std::move(response), now, events, "account " + transcript_.user + " was removed");
    return;
  }
  transcript_.nonce = *request.nonce;
  const Bytes32 expected = compute_reply(account->key, transcript_);
  if (!equal_constant_time(*request.reply, expected)) {
    admission_.backoff().record_failure(user_key(transcript_.user), now);
    response.result = ConnectResult::AccessDenied;
    answer(std::move(response), now, events, "wrong reply for user " + transcript_.user + " (wrong password?)");
    return;
  }
  admission_.backoff().record_success(user_key(transcript_.user));
  if (!claim_slot(now)) {
    response.result = ConnectResult::Overload;
    answer(std::move(response), now, events, "connection table filled up during the handshake");
    return;
  }
  response.result = ConnectResult::Success;
  response.proof = compute_proof(account->key, transcript_);
  answer(std::move(response), now, events, {});
  establish(derive_transmission_keys(account->key, transcript_), now, events);
}

}  // namespace homep2p
