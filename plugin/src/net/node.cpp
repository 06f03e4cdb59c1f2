// Node: lifecycle, discovery and the public API. TCP sessions are in node_sessions.cpp.
#include "homep2p/net/node.hpp"


#include "homep2p/codec.hpp"
#include "node_impl.hpp"

namespace homep2p::net {

std::string_view to_string(LinkState s) {
  switch (s) {
    case LinkState::Connecting: return "connecting";
    case LinkState::Connected: return "connected";
    case LinkState::Failed: return "failed";
    case LinkState::Disconnected: return "disconnected";
  }
  return "unknown";
}

std::string ConnectOutcome::summary() const {
  if (result && (connected || *result != ConnectResult::Success)) return std::string(to_string(*result));
  return "LOCAL:" + std::string(to_string(local));
}

namespace {

ConnectionSettings settings_for(const NodeOptions& options) {
  ConnectionSettings s = options.connection;
  s.keepalive_interval = seconds(options.config.keepalive_interval);
  return s;
}

AccountStore accounts_of(const DeviceConfig& config) {
  AccountStore store;
  for (const auto& a : config.accounts) store.put(a);
  return store;
}

std::shared_ptr<spdlog::logger> make_logger(const DeviceConfig& config) {
  // Share the default logger's sinks: every node of a process writes to the same place.
  auto sinks = spdlog::default_logger()->sinks();
  auto logger = std::make_shared<spdlog::logger>(config.friendly_name, sinks.begin(), sinks.end());
  logger->set_level(spdlog::default_logger()->level());
  return logger;
}

}  // namespace

Node::Impl::Impl(NodeOptions options)
    : options_(std::move(options)),
      log_(make_logger(options_.config)),
      table_(options_.config.max_connections),
      admission_(options_.config.device_id, options_.config.auth_required, accounts_of(options_.config), table_,
                 settings_for(options_)),
      registry_(random_),
      drift_(random_),
      acceptor_(io_),
      discovery_timer_(io_),
      service_timer_(io_) {
  options_.connection = settings_for(options_);
}

Result<void> Node::Impl::start() {
  const DeviceConfig& config = options_.config;
  auto address = resolve_interface_v4(config.interface);
  if (!address) return address.error();
  address_ = *address;

  // Services: the simulated ones from the config, and the ConnectionManager every device has.
  if (options_.simulated_services) {
    for (const auto& service : config.services) {
      auto definition = make_simulated_service(service.type, service.id);
      if (!definition) return definition.error();
      if (auto added = registry_.add(std::move(*definition)); !added) return added.error();
    }
  }
  auto weak = weak_from_this();
  ConnectionManagerActions actions;
  actions.connect = [weak](const std::string& target, const CallerIdentity& caller) {
    auto self = weak.lock();
    return self ? self->manager_connect(target, caller) : ActionOutcome{ServiceResult::Failed, {}, {}, "stopping"};
  };
  actions.disconnect = [weak](const std::string& peer, const CallerIdentity& caller) {
    auto self = weak.lock();
    return self ? self->manager_disconnect(peer, caller) : ActionOutcome{ServiceResult::Failed, {}, {}, "stopping"};
  };
  if (auto added = registry_.add(make_connection_manager(std::move(actions))); !added) return added.error();

  // TCP listener.
  asio::error_code ec;
  const asio::ip::tcp::endpoint endpoint(address_, config.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return make_error(Errc::Io, "cannot listen on " + address_.to_string() + ":" + std::to_string(config.port) +
                                    ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint().port();

  // Discovery.
  boot_id_ = 0;
  random_.fill(std::span(reinterpret_cast<std::uint8_t*>(&boot_id_), sizeof boot_id_));
  boot_id_ &= 0x1FFFFFFFFFFFFFULL;  // stays exact as a JSON number everywhere
  auto agent = DiscoveryAgent::create(own_announce(), random_);
  if (!agent) return agent.error();
  discovery_.emplace(std::move(*agent));
  MulticastConfig mc;
  mc.interface = address_.to_string();
  mc.group = config.multicast_group;
  mc.port = config.multicast_port;
  auto channel = MulticastChannel::open(
      io_, mc, [weak](std::span<const std::uint8_t> bytes, const asio::ip::udp::endpoint& from) {
        if (auto self = weak.lock()) self->on_datagram(bytes, from);
      });
  if (!channel) return channel.error();
  channel_ = std::move(*channel);

  publish_connection_state();
  work_.emplace(asio::make_work_guard(io_));
  accept();
  asio::post(io_, [self = shared_from_this()] {
    if (self->options_.announce) self->send_datagram(self->discovery_->start(Clock::now()));
    self->arm_discovery_timer();
    self->drift_.tick(self->registry_, Clock::now());
    self->arm_service_timer();
  });
  started_ = true;
  log_->info("device {} ({}) listening on {}:{}, {} service(s)", config.device_id, config.device_type,
             address_.to_string(), port_, registry_.describe().size());
  thread_ = std::thread([self = shared_from_this()] { self->io_.run(); });
  return {};
}

void Node::Impl::stop() {
  if (stopped_.exchange(true)) return;
  if (!started_) return;
  asio::post(io_, [self = shared_from_this()] { self->shutdown(); });
  if (thread_.joinable()) {
    if (thread_.get_id() == std::this_thread::get_id()) {
      thread_.detach();  // stop() from an event handler: the thread ends by itself
    } else {
      thread_.join();
    }
  }
}

// Orderly shutdown on the node's thread: sealed Disconnect NORMAL to every peer, bye-bye, then a
// short grace period for the writes before everything closes.
void Node::Impl::shutdown() {
  shutting_down_ = true;
  const TimePoint now = Clock::now();
  asio::error_code ignored;
  acceptor_.close(ignored);
  for (auto& [key, s] : std::map(sessions_)) {
    if (s->connection && !s->connection->closed()) process(s, s->connection->disconnect(DisconnectReason::Normal, now));
    flush(s);
  }
  if (discovery_ && options_.announce) {
    if (auto bye = discovery_->stop()) send_datagram(*bye);
  }
  discovery_timer_.cancel();
  service_timer_.cancel();
  auto grace = std::make_shared<asio::steady_timer>(io_, milliseconds(200));
  grace->async_wait([self = shared_from_this(), grace](const asio::error_code&) {
    for (auto& [key, s] : std::map(self->sessions_)) self->close_socket(s);
    if (self->channel_) self->channel_->close();
    self->work_.reset();
    self->io_.stop();
  });
}

DeviceAnnounce Node::Impl::own_announce() const {
  const DeviceConfig& config = options_.config;
  DeviceAnnounce a;
  a.device_id = config.device_id;
  a.device_type = config.device_type;
  a.friendly_name = config.friendly_name;
  a.address = address_.to_string();
  a.port = port_ == 0 ? 1 : port_;
  for (const auto& d : registry_.describe()) a.services.push_back(ServiceRef{d.id, d.type});
  a.security.auth_required = admission_.auth_required();
  if (!a.security.auth_required) a.security.algorithms.clear();
  a.max_age = config.max_age;
  a.boot_id = boot_id_;
  return a;
}

void Node::Impl::on_datagram(std::span<const std::uint8_t> bytes, const asio::ip::udp::endpoint& from) {
  if (!discovery_ || shutting_down_) return;
  auto out = discovery_->on_datagram(bytes, from.address().to_string(), from.port(), Clock::now());
  if (out.ignored_reason) log_->debug("discovery: ignored datagram from {}: {}", from.address().to_string(), *out.ignored_reason);
  handle_discovery(std::move(out));
}

void Node::Impl::handle_discovery(DiscoveryOutput out) {
  for (const auto& d : out.datagrams) send_datagram(d);
  bool changed = false;
  for (auto& event : out.events) {
    if (const DeviceAnnounce* a = std::visit(
            [](const auto& e) -> const DeviceAnnounce* {
              if constexpr (requires { e.device.security; }) return &e.device;
              return nullptr;
            },
            event);
        a && a->security.auth_required) {
      requires_authentication_.insert(a->device_id);
    }
    if (const auto* seen = std::get_if<DeviceAppeared>(&event)) {
      const auto pending = connect_when_seen_.find(seen->device.device_id);
      if (pending != connect_when_seen_.end()) {
        const bool in_time = Clock::now() <= pending->second;
        connect_when_seen_.erase(pending);
        if (in_time) {
          asio::post(io_, [weak = weak_from_this(), id = seen->device.device_id] {
            if (auto self = weak.lock()) self->connect(id, std::nullopt, {});
          });
        }
      }
    }
    if (auto* appeared = std::get_if<DeviceAppeared>(&event)) {
      log_->info("discovered {} ({}) at {}:{}", appeared->device.friendly_name, appeared->device.device_id,
                 appeared->device.address, appeared->device.port);
      emit(DeviceSeen{appeared->device, true});
      changed = true;
    } else if (auto* updated = std::get_if<DeviceUpdated>(&event)) {
      emit(DeviceSeen{updated->device, false});
      changed = true;
    } else if (auto* left = std::get_if<DeviceLeft>(&event)) {
      log_->info("{} ({}) left: {}", left->device.friendly_name, left->device.device_id, to_string(left->cause));
      emit(DeviceGone{left->device.device_id, left->cause});
      changed = true;
    }
  }
  if (changed) update_snapshots();
  arm_discovery_timer();
}

void Node::Impl::send_datagram(const Datagram& d) {
  if (!channel_) return;
  Result<void> sent = {};
  if (d.unicast_to) {
    asio::error_code ec;
    const auto address = asio::ip::make_address(d.unicast_to->address, ec);
    if (ec) return;
    sent = channel_->send_to(d.payload, asio::ip::udp::endpoint(address, d.unicast_to->port));
  } else {
    sent = channel_->send_multicast(d.payload);
  }
  if (!sent) log_->warn("discovery: send failed: {}", sent.error().message);
}

void Node::Impl::arm_discovery_timer() {
  if (!discovery_ || shutting_down_) return;
  const auto deadline = discovery_->next_deadline();
  if (!deadline) return;
  discovery_timer_.expires_at(*deadline);
  discovery_timer_.async_wait([weak = weak_from_this()](const asio::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || self->shutting_down_) return;
    self->handle_discovery(self->discovery_->on_deadline(Clock::now()));
  });
}

void Node::Impl::search(const SearchConditions& conditions, std::uint32_t mx) {
  if (!discovery_) return;
  send_datagram(discovery_->search(conditions, mx, Clock::now()));
  arm_discovery_timer();
}

void Node::Impl::forget(const std::string& device_id) {
  if (discovery_ && discovery_->forget(device_id)) update_snapshots();
}

void Node::Impl::emit(const NodeEvent& event) {
  for (const auto& handler : handlers_) {
    try {
      handler(event);
    } catch (const std::exception& e) {
      // One handler's failure must not stop the node or the other handlers.
      log_->error("event handler failed: {}", e.what());
    }
  }
}

void Node::Impl::update_snapshots() {
  std::vector<PeerDevice> devices;
  if (discovery_) {
    for (const auto& [id, d] : discovery_->cache().devices()) devices.push_back(PeerDevice{d.announce, d.source_address});
  }
  std::lock_guard lock(snapshot_mutex_);
  devices_snapshot_ = std::move(devices);
  connections_snapshot_ = table_.peers();
}

std::vector<PeerDevice> Node::Impl::devices() const {
  std::lock_guard lock(snapshot_mutex_);
  return devices_snapshot_;
}

std::vector<PeerEntry> Node::Impl::connections() const {
  std::lock_guard lock(snapshot_mutex_);
  return connections_snapshot_;
}

template <class T>
void Node::Impl::run(std::function<void(std::function<void(T)>)> job, std::function<void(T)> done, T if_stopped) {
  if (stopped_ || !started_) {
    done(std::move(if_stopped));
    return;
  }
  asio::post(io_, [self = shared_from_this(), job = std::move(job), done = std::move(done),
                   if_stopped = std::move(if_stopped)]() mutable {
    if (self->shutting_down_) {
      done(std::move(if_stopped));
      return;
    }
    job(std::move(done));
  });
}

// ---------------- public API ----------------

Node::Node(NodeOptions options) : impl_(std::make_shared<Impl>(std::move(options))) {}
Node::~Node() { stop(); }

Result<void> Node::start() {
  if (impl_->started_ || impl_->stopped_) return make_error(Errc::InvalidState, "a node starts once");
  return impl_->start();
}
void Node::stop() { impl_->stop(); }
const std::string& Node::device_id() const { return impl_->options_.config.device_id; }
std::uint16_t Node::tcp_port() const { return impl_->port_; }
void Node::on_event(EventHandler handler) { impl_->handlers_.push_back(std::move(handler)); }
std::vector<PeerDevice> Node::devices() const { return impl_->devices(); }
std::vector<PeerEntry> Node::connections() const { return impl_->connections(); }
std::uint32_t Node::max_connections() const { return impl_->options_.config.max_connections; }

void Node::forget(std::string device_id) {
  if (impl_->stopped_ || !impl_->started_) return;
  asio::post(impl_->io(), [impl = impl_, device_id = std::move(device_id)] { impl->forget(device_id); });
}

void Node::search(SearchConditions conditions, std::uint32_t mx) {
  if (impl_->stopped_ || !impl_->started_) return;
  asio::post(impl_->io(), [impl = impl_, conditions = std::move(conditions), mx] { impl->search(conditions, mx); });
}

namespace {

Error stopped_error() { return make_error(Errc::InvalidState, "the node is not running"); }

// A future fed by the callback form of the same call.
template <class T, class Call>
std::future<T> as_future(Call&& call) {
  auto promise = std::make_shared<std::promise<T>>();
  auto future = promise->get_future();
  call([promise](T value) { promise->set_value(std::move(value)); });
  return future;
}

// Turns the completion of a request into a typed result: the response must be of type R.
template <class R, class T>
std::function<void(Result<Message>)> expect_response(std::function<void(Result<T>)> done,
                                                     std::function<T(R&&)> convert) {
  return [done = std::move(done), convert = std::move(convert)](Result<Message> response) {
    if (!response) {
      done(response.error());
    } else if (auto* typed = std::get_if<R>(&*response)) {
      done(convert(std::move(*typed)));
    } else {
      done(make_error(Errc::InvalidMessage, "unexpected response " + std::string(message_type(*response))));
    }
  };
}

template <class R>
R identity(R r) {
  return r;
}

}  // namespace

void Node::connect(std::string device_or_address, std::optional<Credential> credential, Done<ConnectOutcome> done) {
  ConnectOutcome stopped;
  stopped.peer_id = device_or_address;
  stopped.local = LocalFailure::TransportClosed;
  stopped.detail = "the node is not running";
  impl_->run<ConnectOutcome>(
      [impl = impl_, target = std::move(device_or_address), credential = std::move(credential)](auto done) {
        impl->connect(target, credential, std::move(done));
      },
      std::move(done), std::move(stopped));
}

void Node::disconnect(std::string peer_id, Done<Result<void>> done) {
  impl_->run<Result<void>>(
      [impl = impl_, peer_id = std::move(peer_id)](auto done) { done(impl->disconnect_peer(peer_id)); },
      std::move(done), stopped_error());
}

void Node::search_services(std::string peer_id, std::string type, Done<Result<std::vector<ServiceDescription>>> done) {
  using T = std::vector<ServiceDescription>;
  impl_->run<Result<T>>(
      [impl = impl_, peer_id = std::move(peer_id), type = std::move(type)](auto done) {
        impl->request(peer_id, ServiceSearch{0, 0, type},
                      expect_response<ServiceSearchResponse, T>(
                          std::move(done), [](ServiceSearchResponse&& r) { return std::move(r.services); }));
      },
      std::move(done), stopped_error());
}

void Node::rent(std::string peer_id, std::string service_id, std::uint32_t lease_seconds,
                Done<Result<ServiceRentResponse>> done) {
  impl_->run<Result<ServiceRentResponse>>(
      [impl = impl_, peer_id = std::move(peer_id), service_id = std::move(service_id), lease_seconds](auto done) {
        impl->request(peer_id, ServiceRent{0, 0, service_id, lease_seconds},
                      expect_response<ServiceRentResponse, ServiceRentResponse>(std::move(done),
                                                                                identity<ServiceRentResponse>));
      },
      std::move(done), stopped_error());
}

void Node::invoke(std::string peer_id, std::string lease_id, std::string action, ValueMap arguments,
                  Done<Result<ServiceInvokeResponse>> done) {
  impl_->run<Result<ServiceInvokeResponse>>(
      [impl = impl_, peer_id = std::move(peer_id), lease_id = std::move(lease_id), action = std::move(action),
       arguments = std::move(arguments)](auto done) {
        impl->request(peer_id, ServiceInvoke{0, 0, lease_id, action, arguments},
                      expect_response<ServiceInvokeResponse, ServiceInvokeResponse>(
                          std::move(done), identity<ServiceInvokeResponse>));
      },
      std::move(done), stopped_error());
}

void Node::release(std::string peer_id, std::string lease_id, Done<Result<void>> done) {
  impl_->run<Result<void>>(
      [impl = impl_, peer_id = std::move(peer_id), lease_id = std::move(lease_id)](auto done) {
        done(impl->send_one_way(peer_id, ServiceRelease{0, 0, lease_id}));
      },
      std::move(done), stopped_error());
}

void Node::configure(std::string peer_id, Configure request, Done<Result<ConfigureResponse>> done) {
  impl_->run<Result<ConfigureResponse>>(
      [impl = impl_, peer_id = std::move(peer_id), request = std::move(request)](auto done) {
        impl->request(peer_id, request,
                      expect_response<ConfigureResponse, ConfigureResponse>(std::move(done),
                                                                            identity<ConfigureResponse>));
      },
      std::move(done), stopped_error());
}

std::future<ConnectOutcome> Node::connect(std::string device_or_address, std::optional<Credential> credential) {
  return as_future<ConnectOutcome>(
      [&](auto done) { connect(std::move(device_or_address), std::move(credential), std::move(done)); });
}

std::future<Result<void>> Node::disconnect(std::string peer_id) {
  return as_future<Result<void>>([&](auto done) { disconnect(std::move(peer_id), std::move(done)); });
}

std::future<Result<std::vector<ServiceDescription>>> Node::search_services(std::string peer_id, std::string type) {
  return as_future<Result<std::vector<ServiceDescription>>>(
      [&](auto done) { search_services(std::move(peer_id), std::move(type), std::move(done)); });
}

std::future<Result<ServiceRentResponse>> Node::rent(std::string peer_id, std::string service_id,
                                                    std::uint32_t lease_seconds) {
  return as_future<Result<ServiceRentResponse>>(
      [&](auto done) { rent(std::move(peer_id), std::move(service_id), lease_seconds, std::move(done)); });
}

std::future<Result<ServiceInvokeResponse>> Node::invoke(std::string peer_id, std::string lease_id, std::string action,
                                                        ValueMap arguments) {
  return as_future<Result<ServiceInvokeResponse>>([&](auto done) {
    invoke(std::move(peer_id), std::move(lease_id), std::move(action), std::move(arguments), std::move(done));
  });
}

std::future<Result<void>> Node::release(std::string peer_id, std::string lease_id) {
  return as_future<Result<void>>(
      [&](auto done) { release(std::move(peer_id), std::move(lease_id), std::move(done)); });
}

std::future<Result<ConfigureResponse>> Node::configure(std::string peer_id, Configure request) {
  return as_future<Result<ConfigureResponse>>(
      [&](auto done) { configure(std::move(peer_id), std::move(request), std::move(done)); });
}

}  // namespace homep2p::net
