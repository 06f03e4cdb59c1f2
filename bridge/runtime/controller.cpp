// Controller: wiring, the bridge's thread, Node events -> registry + bus, DeviceActions on the
// Node, desired connections (retry with back-off; ACCESSDENIED waits for a new command), service
// leases (rent on connect, renew at half-time) and the state file.
#include "controller.hpp"

#include <asio.hpp>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <random>
#include <thread>

#include "core/extension.hpp"
#include "extensions/extensions.hpp"
#include "homep2p/connection_manager_service.hpp"
#include "homep2p/net/node.hpp"
#include "mqtt_link.hpp"
#include "state_store.hpp"

namespace peer2mqtt {

namespace {

using homep2p::net::ConnectionChanged;
using homep2p::net::DeviceGone;
using homep2p::net::DeviceSeen;
using homep2p::net::NodeEvent;
using homep2p::net::ServiceEventReceived;

constexpr std::string_view kVersion = PEER2MQTT_VERSION;  // project(VERSION) in CMakeLists.txt

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// NORMAL / PROTOERROR when a side said so; a dead peer is not an orderly stop.
std::string disconnect_reason(const ConnectionChanged& change) {
  if (change.cause == homep2p::DisconnectCause::KeepaliveTimeout) return "TIMEOUT";
  if (change.cause == homep2p::DisconnectCause::TransportClosed) return "CONNECTION_LOST";
  return change.reason ? std::string(homep2p::to_string(*change.reason)) : "CONNECTION_LOST";
}

ActionResult fail(std::string error, std::string result = {}) { return ActionResult{false, std::move(result), std::move(error), {}}; }

// Per device: the desired-connection loop's state.
struct Keeper {
  std::shared_ptr<asio::steady_timer> retry;
  bool retry_pending = false;  // the retry timer is armed
  unsigned attempts = 0;
  bool denied = false;      // ACCESSDENIED: no retry until a new command or new credentials
  bool in_flight = false;   // a connect is under way
};

}  // namespace

class Controller::Impl : public std::enable_shared_from_this<Controller::Impl>, public DeviceActions {
 public:
  Impl(BridgeConfig config, Mappings mappings)
      : config_(std::move(config)),
        mappings_(std::move(mappings)),
        settings_(config_.settings(kVersion)),
        bus_([](const std::string& where, const std::string& what) { spdlog::error("{}: {}", where, what); }),
        save_timer_(io_),
        lease_timer_(io_),
        context_{bus_, *this_mqtt(), registry_, *this, settings_, mappings_, unix_now} {}

  homep2p::Result<void> start();
  void stop();

  // ---- DeviceActions ----
  void connect(const std::string& device_id, ActionDone done) override;
  void disconnect(const std::string& device_id, ActionDone done) override;
  void connect_between(const std::string& device_id, const std::string& other_id, ActionDone done) override;
  void disconnect_between(const std::string& device_id, const std::string& other_id, ActionDone done) override;
  void invoke(const std::string& device_id, const std::string& service_id, const std::string& action,
              homep2p::ValueMap arguments, ActionDone done) override;
  void configure(const std::string& device_id, homep2p::Configure request, ActionDone done) override;
  void search(const homep2p::SearchConditions& conditions, std::uint32_t mx) override;
  void save_state() override;

 private:
  MqttPort* this_mqtt() {
    mqtt_ = std::make_unique<MqttLink>(
        config_.mqtt, [this](std::function<void()> fn) { asio::post(io_, std::move(fn)); }, bus_);
    return mqtt_.get();
  }
  // Runs `fn` on the bridge's thread (from the node's thread, or any other).
  void post(std::function<void()> fn) { asio::post(io_, std::move(fn)); }
  // Wraps a completion so that it runs on the bridge's thread.
  template <class T>
  std::function<void(T)> on_bridge(std::function<void(T)> fn) {
    return [weak = weak_from_this(), fn = std::move(fn)](T value) mutable {
      if (auto self = weak.lock()) {
        asio::post(self->io_, [fn = std::move(fn), value = std::move(value)]() mutable { fn(std::move(value)); });
      }
    };
  }

  void on_node_event(const NodeEvent& event);
  void on_connection_changed(const ConnectionChanged& change);
  void on_service_event(const ServiceEventReceived& received);
  void attach(const std::string& device_id);
  void renew_leases();
  void want_connected(const std::string& device_id);
  void schedule_retry(const std::string& device_id);
  void connect_now(const std::string& device_id, ActionDone done);
  void changed(const std::string& device_id) { bus_.publish(DeviceStateChanged{device_id}); }
  void write_state_now();

  BridgeConfig config_;
  Mappings mappings_;
  BridgeSettings settings_;
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
  EventBus bus_;
  DeviceRegistry registry_;
  std::unique_ptr<MqttLink> mqtt_;
  std::unique_ptr<homep2p::net::Node> node_;
  asio::steady_timer save_timer_;
  asio::steady_timer lease_timer_;
  bool save_pending_ = false;
  std::map<std::string, Keeper> keepers_;
  std::vector<std::unique_ptr<Extension>> extensions_;
  std::mt19937 jitter_{std::random_device{}()};
  bool stopped_ = false;
  BridgeContext context_;
};

homep2p::Result<void> Controller::Impl::start() {
  // A bridge killed while saving leaves its temporary file: harmless, but litter.
  if (const auto removed = remove_stale_temporaries(config_.state_file); removed > 0) {
    spdlog::info("state: removed {} temporary file(s) left by an interrupted save", removed);
  }
  // The persisted desired state first: wanted devices reconnect as soon as they are seen.
  if (auto state = load_state(config_.state_file); state) {
    restore(registry_, *state);
    spdlog::info("state: {} known device(s) from {}", state->devices.size(), config_.state_file);
  } else {
    // Keep the unreadable file for a human to look at; the next save writes a fresh one.
    std::error_code ec;
    std::filesystem::rename(config_.state_file, config_.state_file + ".corrupt", ec);
    spdlog::error("state file: {} (kept as {}.corrupt; starting with an empty state)", state.error().message,
                  config_.state_file);
  }

  homep2p::net::NodeOptions options;
  options.config = config_.device;
  options.simulated_services = false;
  node_ = std::make_unique<homep2p::net::Node>(std::move(options));
  node_->on_event([weak = weak_from_this()](const NodeEvent& event) {
    if (auto self = weak.lock()) asio::post(self->io_, [self, event] { self->on_node_event(event); });
  });

  // The extensions, in order (Zigbee2MQTT: one visible list).
  extensions_.push_back(make_bridge_state_extension(context_));
  extensions_.push_back(make_device_state_extension(context_));
  extensions_.push_back(make_home_assistant_extension(context_));
  extensions_.push_back(make_bridge_api_extension(context_));
  extensions_.push_back(make_device_commands_extension(context_));

  // A device removed through the API is forgotten by the LAN side too, so that its next
  // announce brings it back as a new device.
  bus_.subscribe("controller", [this](const BridgeEvent& event) {
    if (const auto* removed = std::get_if<DeviceRemoved>(&event)) {
      keepers_.erase(removed->device_id);
      node_->forget(removed->device_id);
    }
  });
  if (auto started = node_->start(); !started) return started.error();
  work_.emplace(asio::make_work_guard(io_));
  thread_ = std::thread([self = shared_from_this()] { self->io_.run(); });

  std::promise<void> ready;
  post([this, &ready] {
    for (auto& e : extensions_) e->start();
    mqtt_->start();
    bus_.publish(BridgeStarted{});
    bus_.publish(DevicesChanged{});
    lease_timer_.expires_after(std::chrono::seconds(std::max<std::uint32_t>(config_.lease_seconds / 2, 1)));
    lease_timer_.async_wait([weak = weak_from_this()](const asio::error_code& ec) {
      if (auto self = weak.lock(); self && !ec) self->renew_leases();
    });
    ready.set_value();
  });
  ready.get_future().wait();
  spdlog::info("peer2mqtt {} started: bridge device {}, MQTT {}, base topic {}", kVersion, config_.device.device_id,
               settings_.mqtt_server, settings_.base_topic);
  return {};
}

void Controller::Impl::stop() {
  if (stopped_ || !thread_.joinable()) return;
  stopped_ = true;
  std::promise<void> done;
  post([this, &done] {
    for (auto it = extensions_.rbegin(); it != extensions_.rend(); ++it) (*it)->stop();
    for (auto& [id, keeper] : keepers_) {
      if (keeper.retry) keeper.retry->cancel();
    }
    lease_timer_.cancel();
    done.set_value();
  });
  done.get_future().wait();
  node_->stop();  // Disconnect NORMAL to every device, bye-bye
  std::promise<void> saved;
  post([this, &saved] {
    save_timer_.cancel();
    write_state_now();
    saved.set_value();
  });
  saved.get_future().wait();
  mqtt_->stop();  // bridge/state offline, then disconnect
  work_.reset();
  io_.stop();
  thread_.join();
}

// ---------------- Node events ----------------

void Controller::Impl::on_node_event(const NodeEvent& event) {
  if (stopped_) return;
  if (const auto* seen = std::get_if<DeviceSeen>(&event)) {
    const std::string& id = seen->device.device_id;
    const bool known = registry_.find(id) != nullptr;
    DeviceRecord& record = registry_.upsert(id, seen->device.friendly_name);
    const bool was_available = record.available;
    record.announce = seen->device;
    record.available = true;
    record.last_seen = unix_now();
    bus_.publish(DeviceAnnounced{id, !known});
    if (!was_available) bus_.publish(DeviceAvailabilityChanged{id, "announce"});
    changed(id);
    bus_.publish(DevicesChanged{});
    if (!known) save_state();
    if (record.wanted && record.link != LinkState::Connected) want_connected(id);
  } else if (const auto* gone = std::get_if<DeviceGone>(&event)) {
    DeviceRecord* record = registry_.find(gone->device_id);
    if (!record) return;
    record->available = false;
    bus_.publish(DeviceAvailabilityChanged{gone->device_id, std::string(homep2p::to_string(gone->cause))});
    changed(gone->device_id);
    bus_.publish(DevicesChanged{});
  } else if (const auto* change = std::get_if<ConnectionChanged>(&event)) {
    on_connection_changed(*change);
  } else if (const auto* received = std::get_if<ServiceEventReceived>(&event)) {
    on_service_event(*received);
  }
}

void Controller::Impl::on_connection_changed(const ConnectionChanged& change) {
  using homep2p::net::LinkState;
  if (change.role != homep2p::Role::Initiator) {
    spdlog::debug("device {} connection to the bridge: {}", change.peer_id, homep2p::net::to_string(change.state));
    return;  // the bridge's link state is about the connections it makes
  }
  DeviceRecord* record = registry_.find(change.peer_id);
  if (!record) return;
  const std::string id = change.peer_id;
  Keeper& keeper = keepers_[id];
  switch (change.state) {
    case LinkState::Connecting:
      record->link = peer2mqtt::LinkState::Connecting;
      break;
    case LinkState::Connected:
      record->link = peer2mqtt::LinkState::Connected;
      record->last_result = "SUCCESS";
      record->last_detail.clear();
      keeper.attempts = 0;
      keeper.denied = false;
      bus_.publish(ConnectionAttempted{id, "SUCCESS", ""});
      attach(id);
      break;
    case LinkState::Failed: {
      record->link = peer2mqtt::LinkState::Failed;
      homep2p::net::ConnectOutcome outcome;
      outcome.result = change.result;
      outcome.local = change.local;
      record->last_result = outcome.summary();
      record->last_detail = change.detail;
      bus_.publish(ConnectionAttempted{id, *record->last_result, change.detail});
      if (change.result == homep2p::ConnectResult::AccessDenied) {
        keeper.denied = true;  // wrong credentials do not get better by retrying
        spdlog::warn("{}: ACCESSDENIED; not retrying until a new connect command", record->friendly_name);
      } else if (record->wanted) {
        schedule_retry(id);
      }
      break;
    }
    case LinkState::Disconnected:
      record->link = peer2mqtt::LinkState::Disconnected;
      record->last_disconnect_reason = disconnect_reason(change);
      record->last_detail = change.detail;
      // The services stay (their Home Assistant entities too, with their last state); only the
      // leases are gone with the connection. A new connection rents them again.
      for (auto& [service_id, view] : record->services) view.lease_id.clear();
      record->peers.clear();
      record->connection_count.reset();
      record->max_connections.reset();
      if (record->wanted && !stopped_) schedule_retry(id);
      break;
  }
  changed(id);
  bus_.publish(DevicesChanged{});
}

void Controller::Impl::on_service_event(const ServiceEventReceived& received) {
  DeviceRecord* record = registry_.find(received.peer_id);
  if (!record) return;
  auto it = record->services.find(received.event.service_id);
  if (it == record->services.end()) return;
  for (const auto& [name, value] : received.event.variables) it->second.state[name] = value;
  if (it->second.type == homep2p::kConnectionManagerType) {
    const auto& state = it->second.state;
    if (auto c = state.find("count"); c != state.end() && std::holds_alternative<std::int64_t>(c->second)) {
      record->connection_count = std::get<std::int64_t>(c->second);
    }
    if (auto m = state.find("max"); m != state.end() && std::holds_alternative<std::int64_t>(m->second)) {
      record->max_connections = std::get<std::int64_t>(m->second);
    }
    if (auto p = state.find("peers"); p != state.end() && std::holds_alternative<std::string>(p->second)) {
      if (auto peers = homep2p::parse_connection_manager_peers(std::get<std::string>(p->second)); peers) {
        record->peers.clear();
        for (const auto& peer : *peers) record->peers.push_back(PeerView{peer.device_id, peer.role, peer.since});
      }
    }
  }
  changed(received.peer_id);
}

// After SUCCESS: find the device's services and rent each, so that their state is mirrored and
// their actions can be invoked; the ConnectionManager shows the device's own connections.
void Controller::Impl::attach(const std::string& device_id) {
  node_->search_services(device_id, "", on_bridge<homep2p::Result<std::vector<homep2p::ServiceDescription>>>(
      [this, device_id](homep2p::Result<std::vector<homep2p::ServiceDescription>> services) {
        if (!services) {
          spdlog::warn("{}: service search failed: {}", device_id, services.error().message);
          return;
        }
        for (const auto& description : *services) {
          node_->rent(device_id, description.id, config_.lease_seconds,
                      on_bridge<homep2p::Result<homep2p::ServiceRentResponse>>(
                          [this, device_id, description](homep2p::Result<homep2p::ServiceRentResponse> lease) {
                            DeviceRecord* record = registry_.find(device_id);
                            if (!record || record->link != LinkState::Connected) return;
                            if (!lease || lease->result != homep2p::ServiceResult::Ok) {
                              spdlog::warn("{}: cannot rent {}: {}", record->friendly_name, description.id,
                                           lease ? lease->error : lease.error().message);
                              return;
                            }
                            ServiceView view{description.id, description.type, lease->lease_id, description.actions,
                                             description.state};
                            record->services[description.id] = std::move(view);
                            // The ConnectionManager's current state arrives as if it were an event.
                            homep2p::ServiceEvent initial;
                            initial.service_id = description.id;
                            initial.variables = description.state;
                            on_service_event(ServiceEventReceived{device_id, initial});
                            changed(device_id);
                          }));
        }
      }));
}

void Controller::Impl::renew_leases() {
  for (auto& [id, record] : registry_.all()) {
    if (record.link != LinkState::Connected) continue;
    for (const auto& [service_id, view] : record.services) {
      if (view.lease_id.empty()) continue;
      node_->rent(id, service_id, config_.lease_seconds,
                  on_bridge<homep2p::Result<homep2p::ServiceRentResponse>>(
                      [this, id = id, service_id = service_id, old = view.lease_id](
                          homep2p::Result<homep2p::ServiceRentResponse> lease) {
                        DeviceRecord* record = registry_.find(id);
                        if (!record || !lease || lease->result != homep2p::ServiceResult::Ok) return;
                        auto it = record->services.find(service_id);
                        if (it == record->services.end()) return;
                        it->second.lease_id = lease->lease_id;
                        node_->release(id, old, [](const homep2p::Result<void>&) {});
                      }));
    }
  }
  lease_timer_.expires_after(std::chrono::seconds(std::max<std::uint32_t>(config_.lease_seconds / 2, 1)));
  lease_timer_.async_wait([weak = weak_from_this()](const asio::error_code& ec) {
    if (auto self = weak.lock(); self && !ec) self->renew_leases();
  });
}

// ---------------- desired connections ----------------

void Controller::Impl::want_connected(const std::string& device_id) {
  Keeper& keeper = keepers_[device_id];
  if (keeper.denied || keeper.in_flight || keeper.retry_pending) return;
  connect_now(device_id, {});
}

void Controller::Impl::schedule_retry(const std::string& device_id) {
  Keeper& keeper = keepers_[device_id];
  if (keeper.denied || stopped_) return;
  const unsigned exponent = std::min(keeper.attempts, 6U);
  ++keeper.attempts;
  const auto base = std::chrono::seconds(1) * (1U << exponent);  // 1, 2, 4 ... 64 s
  const auto delay = std::min<std::chrono::milliseconds>(base, std::chrono::seconds(60)) +
                     std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 250)(jitter_));
  if (!keeper.retry) keeper.retry = std::make_shared<asio::steady_timer>(io_);
  keeper.retry->expires_after(delay);
  keeper.retry_pending = true;
  keeper.retry->async_wait([weak = weak_from_this(), device_id](const asio::error_code& ec) {
    auto self = weak.lock();
    if (!self) return;
    self->keepers_[device_id].retry_pending = false;
    if (ec || self->stopped_) return;
    const DeviceRecord* record = self->registry_.find(device_id);
    if (!record || !record->wanted || !record->available || record->link == LinkState::Connected) return;
    spdlog::info("{}: reconnecting (attempt {})", record->friendly_name, self->keepers_[device_id].attempts);
    self->connect_now(device_id, {});
  });
}

void Controller::Impl::connect_now(const std::string& device_id, ActionDone done) {
  Keeper& keeper = keepers_[device_id];
  keeper.in_flight = true;
  node_->connect(device_id, std::nullopt, on_bridge<homep2p::net::ConnectOutcome>(
      [this, device_id, done = std::move(done)](const homep2p::net::ConnectOutcome& outcome) {
        keepers_[device_id].in_flight = false;
        if (!done) return;
        if (outcome.connected) {
          done(ActionResult{true, "SUCCESS", "", {}});
        } else {
          const std::string summary = outcome.summary();
          done(fail(summary + (outcome.detail.empty() ? "" : ": " + outcome.detail), summary));
        }
      }));
}

// ---------------- DeviceActions ----------------

void Controller::Impl::connect(const std::string& device_id, ActionDone done) {
  DeviceRecord* record = registry_.find(device_id);
  if (!record) return done(fail("unknown device '" + device_id + "'"));
  Keeper& keeper = keepers_[device_id];
  keeper.denied = false;  // a new command: try again even after ACCESSDENIED
  keeper.attempts = 0;
  if (record->link == LinkState::Connected) return done(ActionResult{true, "SUCCESS", "already connected", {}});
  if (!record->available) return done(fail("device '" + record->friendly_name + "' is not available on the LAN"));
  connect_now(device_id, std::move(done));
}

void Controller::Impl::disconnect(const std::string& device_id, ActionDone done) {
  DeviceRecord* record = registry_.find(device_id);
  if (!record) return done(fail("unknown device '" + device_id + "'"));
  if (auto& keeper = keepers_[device_id]; keeper.retry) keeper.retry->cancel();
  if (record->link != LinkState::Connected) return done(ActionResult{true, "", "not connected", {}});
  node_->disconnect(device_id, on_bridge<homep2p::Result<void>>([done = std::move(done)](const homep2p::Result<void>& r) {
    done(r ? ActionResult{true, "NORMAL", "", {}} : fail(r.error().message));
  }));
}

void Controller::Impl::connect_between(const std::string& device_id, const std::string& other_id, ActionDone done) {
  DeviceRecord* record = registry_.find(device_id);
  if (!record) return done(fail("unknown device '" + device_id + "'"));
  if (!registry_.find(other_id)) return done(fail("unknown device '" + other_id + "'"));
  auto drive = [this, device_id, other_id, done](const std::string& action, const char* argument) {
    DeviceRecord* r = registry_.find(device_id);
    auto cm = r ? r->services.find(std::string(homep2p::kConnectionManagerId)) : decltype(r->services.end()){};
    if (!r || cm == r->services.end()) {
      return done(fail("the ConnectionManager of '" + device_id + "' is not rented yet; try again in a moment"));
    }
    invoke(device_id, cm->first, action, {{argument, other_id}}, done);
  };
  if (record->link == LinkState::Connected) return drive("Connect", "target");
  // Connect to A first, then drive its ConnectionManager once its services are rented.
  connect(device_id, [this, drive, done, device_id](const ActionResult& r) {
    if (!r.ok) return done(r);
    auto wait = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(300));
    wait->async_wait([wait, drive](const asio::error_code&) { drive("Connect", "target"); });
  });
}

void Controller::Impl::disconnect_between(const std::string& device_id, const std::string& other_id, ActionDone done) {
  DeviceRecord* record = registry_.find(device_id);
  if (!record) return done(fail("unknown device '" + device_id + "'"));
  auto cm = record->services.find(std::string(homep2p::kConnectionManagerId));
  if (record->link != LinkState::Connected || cm == record->services.end()) {
    return done(fail("the bridge is not connected to '" + record->friendly_name + "'; connect it first"));
  }
  invoke(device_id, cm->first, "Disconnect", {{"peer", other_id}}, std::move(done));
}

void Controller::Impl::invoke(const std::string& device_id, const std::string& service_id, const std::string& action,
                              homep2p::ValueMap arguments, ActionDone done) {
  DeviceRecord* record = registry_.find(device_id);
  if (!record) return done(fail("unknown device '" + device_id + "'"));
  if (record->link != LinkState::Connected) return done(fail("the bridge is not connected to '" + record->friendly_name + "'"));
  auto it = record->services.find(service_id);
  if (it == record->services.end() || it->second.lease_id.empty()) {
    return done(fail("'" + record->friendly_name + "' has no rented service '" + service_id + "'"));
  }
  node_->invoke(device_id, it->second.lease_id, action, std::move(arguments),
                on_bridge<homep2p::Result<homep2p::ServiceInvokeResponse>>(
                    [done = std::move(done)](homep2p::Result<homep2p::ServiceInvokeResponse> r) {
                      if (!r) return done(fail(r.error().message));
                      const std::string result(homep2p::to_string(r->result));
                      if (r->result != homep2p::ServiceResult::Ok) return done(fail(result + ": " + r->error, result));
                      done(ActionResult{true, result, "", r->values});
                    }));
}

void Controller::Impl::configure(const std::string& device_id, homep2p::Configure request, ActionDone done) {
  DeviceRecord* record = registry_.find(device_id);
  if (!record) return done(fail("unknown device '" + device_id + "'"));
  if (record->link != LinkState::Connected) return done(fail("the bridge is not connected to '" + record->friendly_name + "'"));
  node_->configure(device_id, std::move(request),
                   on_bridge<homep2p::Result<homep2p::ConfigureResponse>>(
                       [done = std::move(done)](homep2p::Result<homep2p::ConfigureResponse> r) {
                         if (!r) return done(fail(r.error().message));
                         const std::string result(homep2p::to_string(r->result));
                         if (r->result != homep2p::ServiceResult::Ok) return done(fail(result + ": " + r->error, result));
                         done(ActionResult{true, result, "", {}});
                       }));
}

void Controller::Impl::search(const homep2p::SearchConditions& conditions, std::uint32_t mx) {
  node_->search(conditions, mx);
}

void Controller::Impl::save_state() {
  if (save_pending_) return;
  save_pending_ = true;
  // Debounced: a burst of changes is one write.
  save_timer_.expires_after(std::chrono::milliseconds(300));
  save_timer_.async_wait([weak = weak_from_this()](const asio::error_code& ec) {
    auto self = weak.lock();
    if (!self || ec) return;
    self->write_state_now();
  });
}

void Controller::Impl::write_state_now() {
  save_pending_ = false;
  if (auto saved = peer2mqtt::save_state(config_.state_file, snapshot(registry_)); !saved) {
    spdlog::error("cannot write the state file: {} (the bridge keeps running)", saved.error().message);
  }
}

Controller::Controller(BridgeConfig config, Mappings mappings)
    : impl_(std::make_shared<Impl>(std::move(config), std::move(mappings))) {}
Controller::~Controller() { stop(); }
homep2p::Result<void> Controller::start() { return impl_->start(); }
void Controller::stop() { impl_->stop(); }

}  // namespace peer2mqtt
