// Shared part of both connection roles: framing, serials, sealing, keepalive, Disconnect and the
// connection-table slot. The handshake steps live in connection_initiator.cpp and
// connection_target.cpp.
#include "homep2p/connection.hpp"

#include <algorithm>
#include <string>

#include "homep2p/codec.hpp"

namespace homep2p {

std::string_view to_string(LocalFailure f) {
  switch (f) {
    case LocalFailure::None: return "none";
    case LocalFailure::NoKeyForTarget: return "no key for target";
    case LocalFailure::BadProof: return "target failed to prove the key";
    case LocalFailure::HandshakeTimeout: return "handshake timeout";
    case LocalFailure::TransportClosed: return "transport closed";
    case LocalFailure::ProtocolError: return "protocol error";
    case LocalFailure::LocalOverload: return "local connection table full";
  }
  return "unknown";
}

std::string_view to_string(DisconnectCause c) {
  switch (c) {
    case DisconnectCause::PeerRequested: return "peer requested";
    case DisconnectCause::LocalRequested: return "local request";
    case DisconnectCause::KeepaliveTimeout: return "keepalive timeout";
    case DisconnectCause::TransportClosed: return "transport closed";
    case DisconnectCause::ProtocolViolation: return "protocol violation";
  }
  return "unknown";
}

std::string_view to_string(ConnectionState s) {
  switch (s) {
    case ConnectionState::Idle: return "idle";
    case ConnectionState::AwaitChallenge: return "await-challenge";
    case ConnectionState::AwaitVerdict: return "await-verdict";
    case ConnectionState::AwaitRequest: return "await-request";
    case ConnectionState::AwaitReply: return "await-reply";
    case ConnectionState::Established: return "established";
    case ConnectionState::Closed: return "closed";
  }
  return "unknown";
}

Connection::Connection(Role role, ConnectionTable& table, const ConnectionSettings& settings)
    : role_(role), table_(table), settings_(settings) {}

Connection::~Connection() { release_slot(); }

ConnectionEvents Connection::receive(std::span<const std::uint8_t> bytes, TimePoint now) {
  ConnectionEvents events;
  if (closed()) return events;
  reader_.push(bytes);
  while (!closed()) {
    auto frame = reader_.pop();
    if (!frame) {
      protocol_error("bad frame: " + frame.error().message, now, events);
      break;
    }
    if (!frame->has_value()) break;
    handle_frame(**frame, now, events);
  }
  return events;
}

Bytes Connection::take_output() {
  Bytes out;
  out.swap(output_);
  return out;
}

std::optional<TimePoint> Connection::next_deadline() const {
  switch (state_) {
    case ConnectionState::Idle:
    case ConnectionState::Closed:
      return std::nullopt;
    case ConnectionState::Established: {
      const TimePoint ping_at = last_sent_ + settings_.keepalive_interval;
      const TimePoint dead_at = last_received_ + settings_.keepalive_interval * settings_.keepalive_misses;
      return std::min(ping_at, dead_at);
    }
    default:
      return handshake_deadline_;
  }
}

ConnectionEvents Connection::on_deadline(TimePoint now) {
  ConnectionEvents events;
  if (state_ == ConnectionState::Established) {
    if (now >= last_received_ + settings_.keepalive_interval * settings_.keepalive_misses) {
      close_established(DisconnectReason::Normal, DisconnectCause::KeepaliveTimeout,
                        "nothing received for " + std::to_string(settings_.keepalive_misses) +
                            " keepalive intervals",
                        events);
    } else if (now >= last_sent_ + settings_.keepalive_interval) {
      (void)emit(Ping{}, now);
    }
  } else if (!closed() && state_ != ConnectionState::Idle && handshake_deadline_ && now >= *handshake_deadline_) {
    fail_handshake(ConnectFailed{std::nullopt, LocalFailure::HandshakeTimeout,
                                 "handshake not finished in time (state " + std::string(to_string(state_)) + ")"},
                   events);
  }
  return events;
}

Result<void> Connection::send(Message message, TimePoint now) {
  if (!established()) {
    return make_error(Errc::InvalidState, "send needs an established connection, state is " +
                                              std::string(to_string(state_)));
  }
  if (!message_serial(message)) {
    return make_error(Errc::InvalidState, "discovery messages are not sent on a connection");
  }
  return emit(std::move(message), now);
}

ConnectionEvents Connection::disconnect(DisconnectReason reason, TimePoint now) {
  ConnectionEvents events;
  if (closed()) return events;
  if (state_ == ConnectionState::Idle) {
    state_ = ConnectionState::Closed;
    return events;
  }
  (void)emit(Disconnect{0, reason}, now);
  if (established()) {
    close_established(reason, DisconnectCause::LocalRequested, "disconnected locally", events);
  } else {
    fail_handshake(ConnectFailed{std::nullopt, LocalFailure::None, "handshake abandoned locally"}, events);
  }
  return events;
}

ConnectionEvents Connection::transport_closed(TimePoint /*now*/) {
  ConnectionEvents events;
  if (closed()) return events;
  if (established()) {
    close_established(DisconnectReason::Normal, DisconnectCause::TransportClosed, "transport closed", events);
  } else if (state_ == ConnectionState::Idle) {
    state_ = ConnectionState::Closed;
  } else {
    fail_handshake(ConnectFailed{std::nullopt, LocalFailure::TransportClosed, "transport closed during handshake"},
                   events);
  }
  return events;
}

Result<void> Connection::emit(Message message, TimePoint now) {
  set_message_serial(message, next_serial_);
  const std::string json = encode(message);
  const auto* data = reinterpret_cast<const std::uint8_t*>(json.data());
  const std::span<const std::uint8_t> plain(data, json.size());
  const std::size_t framed = plain.size() + (sealer_ ? kSealedOverhead : 0);
  if (framed > kMaxFrameSize) {
    return make_error(Errc::InvalidMessage, std::string(message_type(message)) + " is " + std::to_string(framed) +
                                                " bytes, above the frame limit of " + std::to_string(kMaxFrameSize));
  }
  ++next_serial_;
  if (sealer_) {
    append_frame(output_, sealer_->seal(plain));
  } else {
    append_frame(output_, plain);
  }
  last_sent_ = now;
  return {};
}

bool Connection::claim_slot(TimePoint now) {
  slot_ = table_.try_add(peer_id_, role_, now);
  if (slot_) assigned_ = slot_;
  return slot_.has_value();
}

void Connection::establish(const std::optional<TransmissionKeys>& keys, TimePoint now, ConnectionEvents& events) {
  if (keys && !sealer_) install_keys(*keys);
  state_ = ConnectionState::Established;
  handshake_deadline_.reset();
  last_received_ = now;
  last_sent_ = now;
  events.push_back(Connected{slot_.value_or(0), peer_id_, user_, role_, keys.has_value()});
}

void Connection::install_keys(const TransmissionKeys& keys) {
  const bool initiator = role_ == Role::Initiator;
  sealer_ = std::make_unique<FrameSealer>(initiator ? keys.initiator_to_target : keys.target_to_initiator);
  opener_ = std::make_unique<FrameOpener>(initiator ? keys.target_to_initiator : keys.initiator_to_target);
}

void Connection::fail_handshake(ConnectFailed failure, ConnectionEvents& events) {
  state_ = ConnectionState::Closed;
  handshake_deadline_.reset();
  on_handshake_end();
  events.push_back(std::move(failure));
}

void Connection::protocol_error(std::string detail, TimePoint now, ConnectionEvents& events) {
  if (closed()) return;
  if (state_ != ConnectionState::Idle) (void)emit(Disconnect{0, DisconnectReason::ProtoError}, now);
  if (established()) {
    close_established(DisconnectReason::ProtoError, DisconnectCause::ProtocolViolation, std::move(detail), events);
  } else {
    fail_handshake(ConnectFailed{std::nullopt, LocalFailure::ProtocolError, std::move(detail)}, events);
  }
}

void Connection::set_peer(std::string peer_id, std::string user) {
  peer_id_ = std::move(peer_id);
  user_ = std::move(user);
}

void Connection::handle_frame(const Bytes& frame, TimePoint now, ConnectionEvents& events) {
  Bytes opened;
  std::string_view text(reinterpret_cast<const char*>(frame.data()), frame.size());
  if (opener_) {
    auto plain = opener_->open(frame);
    if (!plain) {
      if (plain.error().code == Errc::Replay) {
        protocol_error("replayed frame: " + plain.error().message, now, events);
      } else {
        // Unsealed or forged: whoever sent it does not hold the transmission key. Ignored, so
        // that an outsider cannot end or disturb the connection (DESIGN §2).
        ++ignored_frames_;
      }
      return;
    }
    opened = std::move(*plain);
    text = std::string_view(reinterpret_cast<const char*>(opened.data()), opened.size());
  }
  auto decoded = decode(text);
  if (!decoded) {
    protocol_error(decoded.error().message, now, events);
    return;
  }
  const auto serial = message_serial(*decoded);
  if (!serial) {
    protocol_error(std::string(message_type(*decoded)) + " is a discovery message, not valid on a connection",
                   now, events);
    return;
  }
  if (*serial != last_peer_serial_ + 1) {
    protocol_error("bad serial: expected " + std::to_string(last_peer_serial_ + 1) + ", got " +
                       std::to_string(*serial),
                   now, events);
    return;
  }
  last_peer_serial_ = *serial;
  last_received_ = now;
  if (established()) {
    handle_established(std::move(*decoded), now, events);
  } else {
    on_handshake_message(std::move(*decoded), now, events);
  }
}

void Connection::handle_established(Message message, TimePoint now, ConnectionEvents& events) {
  if (const auto* d = std::get_if<Disconnect>(&message)) {
    close_established(d->reason, DisconnectCause::PeerRequested,
                      "peer sent Disconnect " + std::string(to_string(d->reason)), events);
    return;
  }
  if (std::holds_alternative<Ping>(message)) {
    (void)emit(Pong{}, now);
    return;
  }
  if (std::holds_alternative<Pong>(message)) return;
  if (std::holds_alternative<ConnectRequest>(message) || std::holds_alternative<ConnectResponse>(message)) {
    protocol_error(std::string(message_type(message)) + " after the connection was established", now, events);
    return;
  }
  events.push_back(MessageReceived{std::move(message)});
}

void Connection::close_established(DisconnectReason reason, DisconnectCause cause, std::string detail,
                                   ConnectionEvents& events) {
  state_ = ConnectionState::Closed;
  release_slot();
  events.push_back(Disconnected{reason, cause, std::move(detail)});
}

void Connection::release_slot() {
  if (slot_) {
    table_.remove(*slot_);
    slot_.reset();
  }
}

}  // namespace homep2p
