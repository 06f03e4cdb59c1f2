// The connection state machines, sans-IO (model: ngtcp2, h11). A connection owns no socket,
// thread or clock: the runtime feeds it received bytes and the current time, writes out what
// take_output() returns, and calls on_deadline() when next_deadline() passes. What happens is
// reported as events (values, never exceptions).
//
//  Initiator: start() -> ConnectRequest(1) ... ConnectResponse(1) -> ConnectRequest(2)
//             ... ConnectResponse(2) -> Established. (Patent steps 1, 4, 5, 8.)
//  Target:    ConnectRequest(1) -> ConnectResponse(1) ... ConnectRequest(2) -> ConnectResponse(2)
//             -> Established. (Patent steps 2, 3, 6, 7.)
// After an authenticated SUCCESS every frame is sealed (crypto.hpp). See docs/PROTOCOL.md.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "homep2p/connection_admission.hpp"
#include "homep2p/connection_settings.hpp"
#include "homep2p/connection_table.hpp"
#include "homep2p/crypto.hpp"
#include "homep2p/framing.hpp"
#include "homep2p/messages.hpp"
#include "homep2p/random_source.hpp"
#include "homep2p/result.hpp"
#include "homep2p/time.hpp"

namespace homep2p {

// Failures that are not a result sent by the target.
enum class LocalFailure {
  None,
  NoKeyForTarget,    // step 4: the initiator has no key for this target
  BadProof,          // the target's SUCCESS did not prove the key (mutual authentication)
  HandshakeTimeout,  // the handshake did not finish within ConnectionSettings::handshake_timeout
  TransportClosed,   // the byte stream ended during the handshake
  ProtocolError,     // malformed or out-of-order message, bad serial, bad frame
  LocalOverload,     // our own connection table is full
};
std::string_view to_string(LocalFailure f);

enum class DisconnectCause {
  PeerRequested,      // the peer sent Disconnect
  LocalRequested,     // disconnect() was called
  KeepaliveTimeout,   // nothing received for keepalive_misses intervals
  TransportClosed,    // the byte stream ended
  ProtocolViolation,  // the peer broke the protocol; we sent Disconnect PROTOERROR
};
std::string_view to_string(DisconnectCause c);

enum class ConnectionState { Idle, AwaitChallenge, AwaitVerdict, AwaitRequest, AwaitReply, Established, Closed };
std::string_view to_string(ConnectionState s);

struct Connected {
  ConnectionId connection_id = 0;
  std::string peer_id;
  std::string user;
  Role role = Role::Initiator;
  bool authenticated = false;
};

// The handshake ended without a connection. On the initiator `result` is what the target
// answered (OVERLOAD, ACCESSDENIED) if it answered; on the target it is what we answered.
struct ConnectFailed {
  std::optional<ConnectResult> result;
  LocalFailure local = LocalFailure::None;
  std::string detail;
};

struct Disconnected {
  DisconnectReason reason = DisconnectReason::Normal;
  DisconnectCause cause = DisconnectCause::PeerRequested;
  std::string detail;
};

// A service or configuration message received on an established connection.
struct MessageReceived {
  Message message;
};

using ConnectionEvent = std::variant<Connected, ConnectFailed, Disconnected, MessageReceived>;
using ConnectionEvents = std::vector<ConnectionEvent>;

// What both roles share once the handshake is done: framing, serials, sealing, keepalive,
// Disconnect, and the connection-table slot (released exactly once, also on destruction).
class Connection {
 public:
  virtual ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Bytes received from the peer, in any split.
  ConnectionEvents receive(std::span<const std::uint8_t> bytes, TimePoint now);
  // Bytes to write to the peer (framed, sealed where needed). Empties the buffer.
  Bytes take_output();
  bool has_output() const { return !output_.empty(); }
  // When on_deadline() must be called next; nullopt when closed.
  std::optional<TimePoint> next_deadline() const;
  ConnectionEvents on_deadline(TimePoint now);
  // Sends a service/configuration message on an established connection (sets its serial).
  Result<void> send(Message message, TimePoint now);
  // Sends Disconnect(reason) and closes. On an established connection emits Disconnected.
  ConnectionEvents disconnect(DisconnectReason reason, TimePoint now);
  // The byte stream ended or failed (EOF, reset). Emits Disconnected or ConnectFailed.
  ConnectionEvents transport_closed(TimePoint now);

  ConnectionState state() const { return state_; }
  bool established() const { return state_ == ConnectionState::Established; }
  // Closed: the runtime writes any remaining output, then closes the socket.
  bool closed() const { return state_ == ConnectionState::Closed; }
  Role role() const { return role_; }
  const std::string& peer_id() const { return peer_id_; }
  const std::string& user() const { return user_; }
  bool authenticated() const { return sealer_ != nullptr; }
  std::optional<ConnectionId> connection_id() const { return assigned_; }
  // Frames dropped because they did not open (unsealed or forged) on an authenticated connection.
  std::uint64_t ignored_frames() const { return ignored_frames_; }

 protected:
  Connection(Role role, ConnectionTable& table, const ConnectionSettings& settings);

  // Role-specific handling of one decoded, in-serial message before establishment.
  virtual void on_handshake_message(Message message, TimePoint now, ConnectionEvents& events) = 0;
  // Role-specific cleanup when the handshake ends, however it ends (e.g. a pending slot).
  virtual void on_handshake_end() {}

  // Sets the next serial, encodes, seals once keys are installed, frames into the output.
  Result<void> emit(Message message, TimePoint now);
  // Takes a slot in the connection table for peer_id(); false when the table is full.
  bool claim_slot(TimePoint now);
  // From now on every frame is sealed and every received frame must open.
  void install_keys(const TransmissionKeys& keys);
  // The handshake succeeded: emits Connected (claim_slot() must have succeeded).
  void establish(const std::optional<TransmissionKeys>& keys, TimePoint now, ConnectionEvents& events);
  void fail_handshake(ConnectFailed failure, ConnectionEvents& events);
  // Sends Disconnect PROTOERROR and ends the connection or the handshake.
  void protocol_error(std::string detail, TimePoint now, ConnectionEvents& events);
  void set_state(ConnectionState s) { state_ = s; }
  void set_peer(std::string peer_id, std::string user);
  ConnectionTable& table() { return table_; }
  const ConnectionSettings& settings() const { return settings_; }
  void arm_handshake_deadline(TimePoint now) { handshake_deadline_ = now + settings_.handshake_timeout; }

 private:
  void handle_frame(const Bytes& frame, TimePoint now, ConnectionEvents& events);
  void handle_established(Message message, TimePoint now, ConnectionEvents& events);
  void close_established(DisconnectReason reason, DisconnectCause cause, std::string detail,
                         ConnectionEvents& events);
  void release_slot();

  Role role_;
  ConnectionTable& table_;
  ConnectionSettings settings_;
  ConnectionState state_ = ConnectionState::Idle;
  FrameReader reader_;
  Bytes output_;
  std::uint64_t next_serial_ = 1;
  std::uint64_t last_peer_serial_ = 0;
  std::unique_ptr<FrameSealer> sealer_;
  std::unique_ptr<FrameOpener> opener_;
  std::optional<ConnectionId> slot_;      // held while established
  std::optional<ConnectionId> assigned_;  // the id, kept after close for the runtime's bookkeeping
  std::string peer_id_;
  std::string user_;
  std::optional<TimePoint> handshake_deadline_;
  TimePoint last_sent_{};
  TimePoint last_received_{};
  std::uint64_t ignored_frames_ = 0;
};

struct InitiatorParams {
  std::string own_id;               // our device id
  std::string target_id;            // the device we connect to (from discovery)
  std::string user;                 // the account we use on the target
  std::optional<ShareKey> key;      // nullopt: we have no key for this target (step 4 fails)
  // The target announced "authentication required": a SUCCESS without a challenge is then a
  // downgrade (an active attacker skipping the handshake) and is refused.
  bool require_authentication = false;
};

class ConnectionInitiator final : public Connection {
 public:
  ConnectionInitiator(InitiatorParams params, ConnectionTable& table, RandomSource& random,
                      ConnectionSettings settings = {});
  // Step 1: queues ConnectRequest(1). Fails at once (LocalOverload) if our table is full.
  ConnectionEvents start(TimePoint now);

 private:
  void on_handshake_message(Message message, TimePoint now, ConnectionEvents& events) override;
  void on_challenge(const ConnectResponse& response, TimePoint now, ConnectionEvents& events);
  void on_verdict(const ConnectResponse& response, TimePoint now, ConnectionEvents& events);

  InitiatorParams params_;
  RandomSource& random_;
  Transcript transcript_;
};

class ConnectionTarget final : public Connection {
 public:
  // peer_address: the initiator's address, used as the back-off key for unknown user names.
  ConnectionTarget(ConnectionAdmission& admission, RandomSource& random, std::string peer_address,
                   TimePoint now);
  ~ConnectionTarget() override;

 private:
  void on_handshake_message(Message message, TimePoint now, ConnectionEvents& events) override;
  void on_handshake_end() override;
  void on_request(const ConnectRequest& request, TimePoint now, ConnectionEvents& events);
  void on_reply(const ConnectRequest& request, TimePoint now, ConnectionEvents& events);
  void answer(ConnectResponse response, TimePoint now, ConnectionEvents& events, std::string detail);

  ConnectionAdmission& admission_;
  RandomSource& random_;
  std::string peer_address_;
  Transcript transcript_;
  TimePoint challenge_issued_{};
  bool holds_pending_ = false;
};

}  // namespace homep2p
