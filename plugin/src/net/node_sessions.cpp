// Node: TCP sessions. Each hosts one sans-IO Connection; this file only moves its bytes, arms its
// deadline timer and routes its events (connection changes, service requests and responses).
#include <charconv>

#include "homep2p/codec.hpp"
#include "node_impl.hpp"

namespace homep2p::net {

namespace {

std::int64_t unix_seconds(TimePoint t) {
  const auto wall = std::chrono::system_clock::now() - (Clock::now() - t);
  return std::chrono::duration_cast<std::chrono::seconds>(wall.time_since_epoch()).count();
}

ConnectOutcome outcome_of(const ConnectFailed& f, const std::string& peer_id) {
  ConnectOutcome o;
  o.peer_id = peer_id;
  o.result = f.result;
  o.local = f.local;
  o.detail = f.detail;
  return o;
}

// "host:port" -> endpoint; nullopt if it is not of that form.
std::optional<asio::ip::tcp::endpoint> parse_endpoint(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  asio::error_code ec;
  const auto address = asio::ip::make_address(text.substr(0, colon), ec);
  if (ec) return std::nullopt;
  unsigned port = 0;
  const char* first = text.data() + colon + 1;
  const char* last = text.data() + text.size();
  const auto [ptr, err] = std::from_chars(first, last, port);
  if (err != std::errc() || ptr != last || port == 0 || port > 65535) return std::nullopt;
  return asio::ip::tcp::endpoint(address, static_cast<std::uint16_t>(port));
}

}  // namespace

void Node::Impl::accept() {
  acceptor_.async_accept([weak = weak_from_this()](const asio::error_code& ec, asio::ip::tcp::socket socket) {
    auto self = weak.lock();
    if (!self || ec == asio::error::operation_aborted || self->shutting_down_) return;
    if (!ec) {
      if (self->sessions_.size() >= self->max_sessions()) {
        self->log_->warn("refusing a TCP connection: {} sessions open", self->sessions_.size());
      } else {
        auto s = self->add_session(std::move(socket));
        asio::error_code ignored;
        const auto remote = s->socket.remote_endpoint(ignored);
        s->peer_address = remote.address().to_string();
        s->connection = std::make_unique<ConnectionTarget>(self->admission_, self->random_, s->peer_address, Clock::now());
        self->read(s);
        self->arm_session_timer(s);
      }
    }
    self->accept();
  });
}

std::shared_ptr<Session> Node::Impl::add_session(asio::ip::tcp::socket socket) {
  auto s = std::make_shared<Session>(next_session_key_++, std::move(socket), io_);
  asio::error_code ignored;
  s->socket.set_option(asio::ip::tcp::no_delay(true), ignored);
  s->socket.non_blocking(true, ignored);
  sessions_.emplace(s->key, s);
  return s;
}

void Node::Impl::connect(std::string target, std::optional<Credential> credential,
                         std::function<void(ConnectOutcome)> done) {
  auto fail = [&](LocalFailure local, std::string detail) {
    ConnectOutcome o;
    o.peer_id = target;
    o.local = local;
    o.detail = std::move(detail);
    if (done) done(std::move(o));
  };
  // A discovered device id, or host:port.
  std::optional<asio::ip::tcp::endpoint> endpoint;
  std::string target_id;
  if (const KnownDevice* known = discovery_ ? discovery_->cache().find(target) : nullptr) {
    asio::error_code ec;
    const auto address = asio::ip::make_address(known->announce.address, ec);
    if (!ec) endpoint = asio::ip::tcp::endpoint(address, known->announce.port);
    target_id = target;
  } else {
    endpoint = parse_endpoint(target);
  }
  if (!endpoint) {
    fail(LocalFailure::TransportClosed, "unknown device " + target + " (not discovered, and not host:port)");
    return;
  }
  if (target_id == options_.config.device_id) {
    fail(LocalFailure::ProtocolError, "a device does not connect to itself");
    return;
  }
  if (!credential && !target_id.empty()) credential = options_.config.credential_for(target_id);
  if (!credential && target_id.empty()) credential = options_.config.default_credential;

  InitiatorParams params;
  params.own_id = options_.config.device_id;
  params.target_id = target_id;
  params.user = credential ? credential->user : std::string("anonymous");
  if (credential) params.key = credential->key;
  params.require_authentication = requires_authentication_.count(target_id) > 0;

  auto s = add_session(asio::ip::tcp::socket(io_));
  s->peer_address = endpoint->address().to_string();
  s->connect_done = std::move(done);
  emit(ConnectionChanged{0, target_id.empty() ? target : target_id, Role::Initiator, LinkState::Connecting,
                         std::nullopt, LocalFailure::None, std::nullopt, std::nullopt, "", table_.count(),
                         table_.max()});
  auto connection = std::make_unique<ConnectionInitiator>(std::move(params), table_, random_, options_.connection);
  auto* initiator = connection.get();
  s->connection = std::move(connection);

  // The TCP connect is bounded by the handshake timeout too.
  s->timer.expires_after(options_.connection.handshake_timeout);
  s->timer.async_wait([weak = weak_from_this(), s](const asio::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || s->socket_closed) return;
    asio::error_code ignored;
    s->socket.cancel(ignored);
  });
  s->socket.async_connect(*endpoint, [weak = weak_from_this(), s, initiator](const asio::error_code& ec) {
    auto self = weak.lock();
    if (!self) return;
    s->timer.cancel();
    if (ec) {
      ConnectFailed failed{std::nullopt, LocalFailure::TransportClosed, "TCP connect to " + s->peer_address +
                                                                          " failed: " + ec.message()};
      self->process(s, {failed});
      self->close_socket(s);
      return;
    }
    asio::error_code ignored;
    s->socket.set_option(asio::ip::tcp::no_delay(true), ignored);
    s->socket.non_blocking(true, ignored);  // read() waits for readability, then reads what is there
    self->process(s, initiator->start(Clock::now()));
    self->flush(s);
    self->read(s);
    self->arm_session_timer(s);
  });
}

void Node::Impl::answer_connect(const std::shared_ptr<Session>& s, ConnectOutcome outcome) {
  auto done = std::move(s->connect_done);
  s->connect_done = nullptr;
  done(std::move(outcome));
}

// Waits for readability, then reads into the node's one buffer: an idle connection holds no read
// buffer of its own (16 KiB each would be most of its memory; docs/BENCHMARKS.md).
void Node::Impl::read(const std::shared_ptr<Session>& s) {
  s->socket.async_wait(asio::ip::tcp::socket::wait_read, [weak = weak_from_this(), s](const asio::error_code& wait_ec) {
    auto self = weak.lock();
    if (!self || s->socket_closed) return;
    asio::error_code ec = wait_ec;
    std::size_t n = 0;
    if (!ec) n = s->socket.read_some(asio::buffer(self->read_buffer_), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      self->read(s);
      return;
    }
    const TimePoint now = Clock::now();
    if (ec) {
      self->process(s, s->connection->transport_closed(now));
      self->close_socket(s);
      return;
    }
    self->process(s, s->connection->receive(std::span(self->read_buffer_.data(), n), now));
    self->flush(s);
    if (s->connection->closed()) {
      if (!s->writing) self->close_socket(s);
      return;
    }
    self->arm_session_timer(s);
    self->read(s);
  });
}

void Node::Impl::arm_session_timer(const std::shared_ptr<Session>& s) {
  const auto deadline = s->connection ? s->connection->next_deadline() : std::nullopt;
  if (!deadline) return;
  s->timer.expires_at(*deadline);
  s->timer.async_wait([weak = weak_from_this(), s](const asio::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || s->socket_closed) return;
    self->process(s, s->connection->on_deadline(Clock::now()));
    self->flush(s);
    if (s->connection->closed()) {
      if (!s->writing) self->close_socket(s);
      return;
    }
    self->arm_session_timer(s);
  });
}

void Node::Impl::flush(const std::shared_ptr<Session>& s) {
  if (!s->connection || s->socket_closed) return;
  Bytes out = s->connection->take_output();
  if (out.empty()) return;
  s->queued_bytes += out.size();
  s->write_queue.push_back(std::move(out));
  if (s->queued_bytes > options_.max_write_queue) {
    // A peer that does not read: drop it rather than buffer without bound.
    log_->warn("peer {} does not read ({} bytes queued): closing", s->connection->peer_id(), s->queued_bytes);
    process(s, s->connection->transport_closed(Clock::now()));
    close_socket(s);
    return;
  }
  if (!s->writing) write_next(s);
}

void Node::Impl::write_next(const std::shared_ptr<Session>& s) {
  if (s->write_queue.empty() || s->socket_closed) {
    s->writing = false;
    if (s->connection && s->connection->closed()) close_socket(s);
    return;
  }
  s->writing = true;
  asio::async_write(s->socket, asio::buffer(s->write_queue.front()),
                    [weak = weak_from_this(), s](const asio::error_code& ec, std::size_t n) {
                      auto self = weak.lock();
                      if (!self || s->socket_closed) return;
                      s->queued_bytes -= n;
                      s->write_queue.pop_front();
                      if (ec) {
                        s->writing = false;
                        self->process(s, s->connection->transport_closed(Clock::now()));
                        self->close_socket(s);
                        return;
                      }
                      self->write_next(s);
                    });
}

void Node::Impl::close_socket(const std::shared_ptr<Session>& s) {
  if (s->socket_closed) return;
  s->socket_closed = true;
  asio::error_code ignored;
  s->socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  s->socket.close(ignored);
  s->timer.cancel();
  if (s->connection && !s->connection->closed()) process(s, s->connection->transport_closed(Clock::now()));
  if (s->connect_done) {
    ConnectOutcome o;
    o.peer_id = s->connection ? s->connection->peer_id() : std::string();
    o.local = LocalFailure::TransportClosed;
    o.detail = "connection closed";
    answer_connect(s, std::move(o));
  }
  for (auto& [id, pending] : s->pending) {
    if (pending.timeout) pending.timeout->cancel();
    pending.complete(make_error(Errc::Io, "the connection closed before the response"));
  }
  s->pending.clear();
  sessions_.erase(s->key);
}

void Node::Impl::process(const std::shared_ptr<Session>& s, ConnectionEvents events) {
  for (auto& event : events) {
    if (auto* connected = std::get_if<Connected>(&event)) {
      update_snapshots();  // before anyone hears of it: connections() must already agree
      s->caller.connection_id = connected->connection_id;
      s->caller.peer_id = connected->peer_id;
      s->caller.user = connected->user;
      s->caller.authenticated = connected->authenticated;
      const Account* account = admission_.accounts().find(connected->user);
      s->caller.role = (connected->role == Role::Target && account) ? account->role : AccountRole::User;
      log_->info("connected to {} as {} (user {}), {}/{} connections", connected->peer_id, to_string(connected->role),
                 connected->user, table_.count(), table_.max());
      emit(ConnectionChanged{connected->connection_id, connected->peer_id, connected->role, LinkState::Connected,
                             ConnectResult::Success, LocalFailure::None, std::nullopt, std::nullopt, "",
                             table_.count(), table_.max()});
      if (s->connect_done) {
        ConnectOutcome o;
        o.connected = true;
        o.peer_id = connected->peer_id;
        o.result = ConnectResult::Success;
        answer_connect(s, std::move(o));
      }
      publish_connection_state();
    } else if (auto* failed = std::get_if<ConnectFailed>(&event)) {
      const std::string peer = s->connection ? s->connection->peer_id() : std::string();
      log_->info("connection {} {} failed: {}{}", s->connection->role() == Role::Initiator ? "to" : "from",
                 peer.empty() ? s->peer_address : peer,
                 failed->result ? std::string(to_string(*failed->result)) + ", " : std::string(), failed->detail);
      emit(ConnectionChanged{0, peer, s->connection->role(), LinkState::Failed, failed->result, failed->local,
                             std::nullopt, std::nullopt, failed->detail, table_.count(), table_.max()});
      if (s->connect_done) answer_connect(s, outcome_of(*failed, peer));
    } else if (auto* gone = std::get_if<Disconnected>(&event)) {
      update_snapshots();
      registry_.drop_connection(s->caller.connection_id);
      for (auto& [id, pending] : s->pending) {
        if (pending.timeout) pending.timeout->cancel();
        pending.complete(make_error(Errc::Io, "disconnected before the response"));
      }
      s->pending.clear();
      log_->info("disconnected from {}: {} ({}), {}/{} connections", s->caller.peer_id, to_string(gone->reason),
                 to_string(gone->cause), table_.count(), table_.max());
      emit(ConnectionChanged{s->caller.connection_id, s->caller.peer_id, s->connection->role(),
                             LinkState::Disconnected, std::nullopt, LocalFailure::None, gone->reason, gone->cause,
                             gone->detail, table_.count(), table_.max()});
      publish_connection_state();
    } else if (auto* received = std::get_if<MessageReceived>(&event)) {
      on_message(s, std::move(received->message));
    }
  }
  if (!events.empty()) update_snapshots();
}

void Node::Impl::on_message(const std::shared_ptr<Session>& s, Message message) {
  const TimePoint now = Clock::now();
  if (std::holds_alternative<ServiceSearch>(message) || std::holds_alternative<ServiceRent>(message) ||
      std::holds_alternative<ServiceInvoke>(message) || std::holds_alternative<ServiceRelease>(message)) {
    deliver(registry_.handle(message, s->caller, now));
    arm_service_timer();
    return;
  }
  if (const auto* configure = std::get_if<Configure>(&message)) {
    ConfigureResponse response = admission_.apply(*configure, s->caller);
    log_->info("Configure from {} (user {}): {}", s->caller.peer_id, s->caller.user, to_string(response.result));
    deliver({OutboundMessage{s->caller.connection_id, response}});
    publish_connection_state();
    if (response.result == ServiceResult::Ok && discovery_ && options_.announce) {
      // The security property may have changed: announce it now, not at the next refresh.
      if (auto announced = discovery_->set_announce(own_announce(), now); announced && *announced) {
        send_datagram(**announced);
      }
    }
    return;
  }
  if (auto* event = std::get_if<ServiceEvent>(&message)) {
    emit(ServiceEventReceived{s->caller.peer_id, std::move(*event)});
    return;
  }
  // A response: match it to our request.
  std::optional<std::uint64_t> request_id;
  std::visit(
      [&](const auto& m) {
        using M = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<M, ServiceSearchResponse> || std::is_same_v<M, ServiceRentResponse> ||
                      std::is_same_v<M, ServiceInvokeResponse> || std::is_same_v<M, ConfigureResponse>) {
          request_id = m.request_id;
        }
      },
      message);
  if (!request_id) {
    log_->debug("ignoring {} from {}", message_type(message), s->caller.peer_id);
    return;
  }
  const auto it = s->pending.find(*request_id);
  if (it == s->pending.end()) {
    log_->debug("response {} from {} matches no request", *request_id, s->caller.peer_id);
    return;
  }
  PendingRequest pending = std::move(it->second);
  s->pending.erase(it);
  if (pending.timeout) pending.timeout->cancel();
  pending.complete(std::move(message));
}

std::shared_ptr<Session> Node::Impl::established_session(const std::string& peer_id) const {
  for (const auto& [key, s] : sessions_) {
    if (s->connection && s->connection->established() && s->connection->peer_id() == peer_id) return s;
  }
  return nullptr;
}

void Node::Impl::request(const std::string& peer_id, Message message, std::function<void(Result<Message>)> complete) {
  auto s = established_session(peer_id);
  if (!s) {
    complete(make_error(Errc::InvalidState, "not connected to " + peer_id));
    return;
  }
  if (std::holds_alternative<Configure>(message) && !s->connection->authenticated()) {
    // Configure may carry passwords: never on a connection that is not sealed.
    complete(make_error(Errc::InvalidState, "Configure needs an authenticated (sealed) connection to " + peer_id));
    return;
  }
  const std::uint64_t request_id = s->next_request_id++;
  std::visit(
      [&](auto& m) {
        if constexpr (requires { m.request_id; }) m.request_id = request_id;
      },
      message);
  if (auto sent = s->connection->send(std::move(message), Clock::now()); !sent) {
    complete(sent.error());
    return;
  }
  auto timeout = std::make_shared<asio::steady_timer>(io_, options_.request_timeout);
  s->pending.emplace(request_id, PendingRequest{std::move(complete), timeout});
  timeout->async_wait([s, request_id](const asio::error_code& ec) {
    if (ec) return;
    const auto it = s->pending.find(request_id);
    if (it == s->pending.end()) return;
    auto complete_fn = std::move(it->second.complete);
    s->pending.erase(it);
    complete_fn(make_error(Errc::Io, "no response within the request timeout"));
  });
  flush(s);
}

Result<void> Node::Impl::send_one_way(const std::string& peer_id, Message message) {
  auto s = established_session(peer_id);
  if (!s) return make_error(Errc::InvalidState, "not connected to " + peer_id);
  std::visit(
      [&](auto& m) {
        if constexpr (requires { m.request_id; }) m.request_id = s->next_request_id++;
      },
      message);
  auto sent = s->connection->send(std::move(message), Clock::now());
  flush(s);
  return sent;
}

Result<void> Node::Impl::disconnect_peer(const std::string& peer_id) {
  bool any = false;
  for (auto& [key, s] : std::map(sessions_)) {
    if (s->connection && s->connection->established() && s->connection->peer_id() == peer_id) {
      process(s, s->connection->disconnect(DisconnectReason::Normal, Clock::now()));
      flush(s);
      any = true;
    }
  }
  if (!any) return make_error(Errc::InvalidState, "not connected to " + peer_id);
  return {};
}

void Node::Impl::deliver(const std::vector<OutboundMessage>& messages) {
  const TimePoint now = Clock::now();
  for (const auto& out : messages) {
    for (auto& [key, s] : sessions_) {
      if (s->connection && s->connection->established() && s->caller.connection_id == out.connection_id) {
        if (auto sent = s->connection->send(out.message, now); !sent) {
          log_->warn("cannot send {} to {}: {}", message_type(out.message), s->caller.peer_id, sent.error().message);
        }
        flush(s);
        break;
      }
    }
  }
}

void Node::Impl::publish_connection_state() {
  deliver(registry_.set_state(kConnectionManagerId, connection_manager_state(table_, unix_seconds), Clock::now()));
}

void Node::Impl::arm_service_timer() {
  if (shutting_down_) return;
  std::optional<TimePoint> deadline = registry_.next_deadline();
  if (const auto drift = drift_.next_deadline(); drift && (!deadline || *drift < *deadline)) deadline = drift;
  if (!deadline) return;
  service_timer_.expires_at(*deadline);
  service_timer_.async_wait([weak = weak_from_this()](const asio::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || self->shutting_down_) return;
    const TimePoint now = Clock::now();
    self->registry_.expire(now);
    self->deliver(self->drift_.tick(self->registry_, now));
    self->arm_service_timer();
  });
}

ActionOutcome Node::Impl::manager_connect(const std::string& target, const CallerIdentity& caller) {
  if (target == options_.config.device_id) return {ServiceResult::BadArguments, {}, {}, "a device does not connect to itself"};
  if (established_session(target)) return {ServiceResult::Ok, {{"already_connected", true}}, {}, {}};
  if (!discovery_) return {ServiceResult::Failed, {}, {}, "discovery is not running"};
  if (discovery_->cache().find(target) == nullptr) {
    // Not heard of yet (it may have just started): search for it, and connect when it answers.
    log_->info("ConnectionManager: {} asks us to connect to {}, not discovered yet: searching", caller.user, target);
    connect_when_seen_[target] = Clock::now() + kConnectWhenSeenWindow;
    SearchConditions conditions;
    conditions.device_id = target;
    search(conditions, 1);
    return {ServiceResult::Ok, {{"started", true}, {"searching", true}}, {}, {}};
  }
  log_->info("ConnectionManager: {} asks us to connect to {}", caller.user, target);
  asio::post(io_, [weak = weak_from_this(), target] {
    if (auto self = weak.lock()) self->connect(target, std::nullopt, {});
  });
  return {ServiceResult::Ok, {{"started", true}}, {}, {}};
}

ActionOutcome Node::Impl::manager_disconnect(const std::string& peer, const CallerIdentity& caller) {
  if (!established_session(peer)) return {ServiceResult::Failed, {}, {}, "not connected to " + peer};
  log_->info("ConnectionManager: {} asks us to disconnect from {}", caller.user, peer);
  asio::post(io_, [weak = weak_from_this(), peer] {
    if (auto self = weak.lock()) (void)self->disconnect_peer(peer);
  });
  return {ServiceResult::Ok, {{"started", true}}, {}, {}};
}

}  // namespace homep2p::net
