// The HomeP2P runtime: one device on real sockets (standalone Asio). A Node owns one io_context
// and the thread that runs it; every protocol decision is made by the sans-IO core (connection.hpp,
// discovery_agent.hpp, service_registry.hpp), the Node only moves bytes and arms timers.
//
// Threading: the public API is thread-safe. Calls are posted to the node's thread and answered
// through std::future. Event handlers run ON the node's thread: they must not wait on a future
// of the same Node (that would deadlock); copy what they need and return.
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "homep2p/announcement_cache.hpp"
#include "homep2p/connection.hpp"
#include "homep2p/connection_table.hpp"
#include "homep2p/device_config.hpp"
#include "homep2p/messages.hpp"
#include "homep2p/result.hpp"
#include "homep2p/service_registry.hpp"

namespace homep2p::net {

struct NodeOptions {
  DeviceConfig config;
  // Handshake timeout, keepalive (config.keepalive_interval overrides keepalive_interval), ...
  ConnectionSettings connection;
  // Host config.services as simulated services (homepeer device). The bridge sets false.
  bool simulated_services = true;
  // Announce ourselves and answer searches. A pure client (homepeer discover/connect) sets false:
  // it still listens, searches and connects.
  bool announce = true;
  // How long a service request waits for its response.
  Duration request_timeout = seconds(10);
  // A peer whose unsent output exceeds this is disconnected (bounded write queue).
  std::size_t max_write_queue = std::size_t{1024} * 1024;
};

// A device heard of through discovery.
struct PeerDevice {
  DeviceAnnounce announce;
  std::string source_address;
};

struct DeviceSeen {
  DeviceAnnounce device;
  bool is_new = true;  // false: an update of a known device
};
struct DeviceGone {
  std::string device_id;
  LeaveCause cause = LeaveCause::ByeBye;
};

enum class LinkState { Connecting, Connected, Failed, Disconnected };
std::string_view to_string(LinkState s);

// A connection of ours changed. For Failed: result/local say why; for Disconnected: reason/cause.
struct ConnectionChanged {
  ConnectionId id = 0;  // 0 until Connected
  std::string peer_id;
  Role role = Role::Initiator;
  LinkState state = LinkState::Connecting;
  std::optional<ConnectResult> result;
  LocalFailure local = LocalFailure::None;
  std::optional<DisconnectReason> reason;
  std::optional<DisconnectCause> cause;
  std::string detail;
  std::size_t count = 0;  // our connection count after the change
  std::uint32_t max = 0;
};

// A ServiceEvent pushed by a peer whose service we rented.
struct ServiceEventReceived {
  std::string peer_id;
  ServiceEvent event;
};

using NodeEvent = std::variant<DeviceSeen, DeviceGone, ConnectionChanged, ServiceEventReceived>;

struct ConnectOutcome {
  bool connected = false;
  std::string peer_id;
  std::optional<ConnectResult> result;  // what the target answered, if it answered
  LocalFailure local = LocalFailure::None;
  std::string detail;
  // "SUCCESS", "OVERLOAD", "ACCESSDENIED" or "LOCAL:<failure>" (e.g. "LOCAL:no key for target").
  std::string summary() const;
};

class Node {
 public:
  explicit Node(NodeOptions options);
  ~Node();  // stop()
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Binds TCP (config.interface:config.port) and discovery, announces, starts the thread.
  Result<void> start();
  // Orderly stop: sealed Disconnect NORMAL to every peer, DeviceByeBye, then the thread ends.
  // Idempotent; also called by the destructor.
  void stop();

  const std::string& device_id() const;
  std::uint16_t tcp_port() const;  // the bound port (config.port 0 = any free port)

  // Before start(). Several handlers may be added; each sees every event, in order. Handlers
  // must outlive the node (stop(), also from the destructor, still reports disconnections).
  using EventHandler = std::function<void(const NodeEvent&)>;
  void on_event(EventHandler handler);

  std::vector<PeerDevice> devices() const;
  std::vector<PeerEntry> connections() const;
  std::uint32_t max_connections() const;

  // Forgets a discovered device (e.g. the user removed it): its next announce is reported as a
  // new DeviceSeen. Whether it ever required authentication is not forgotten (see connect()).
  void forget(std::string device_id);

  // Multicasts a DeviceSearch; answers show up as DeviceSeen events and in devices().
  void search(SearchConditions conditions, std::uint32_t mx);

  // Connects to a discovered device (by id) or to "host:port". Credentials: `credential`, else
  // the configured ones for that device (credentials.devices, then credentials.default), else
  // none (the handshake then fails locally if the target asks for authentication).
  // A device that has ever announced "authentication required" to this node must authenticate:
  // a later announce saying otherwise (a spoofed one) cannot downgrade the connection.
  std::future<ConnectOutcome> connect(std::string device_or_address,
                                      std::optional<Credential> credential = std::nullopt);
  // Disconnects (NORMAL) every connection of ours with that peer. Error if there is none.
  std::future<Result<void>> disconnect(std::string peer_id);

  // Service calls on an established connection to `peer_id` (either role).
  std::future<Result<std::vector<ServiceDescription>>> search_services(std::string peer_id,
                                                                       std::string type = {});
  std::future<Result<ServiceRentResponse>> rent(std::string peer_id, std::string service_id,
                                                std::uint32_t lease_seconds);
  std::future<Result<ServiceInvokeResponse>> invoke(std::string peer_id, std::string lease_id,
                                                    std::string action, ValueMap arguments);
  std::future<Result<void>> release(std::string peer_id, std::string lease_id);
  std::future<Result<ConfigureResponse>> configure(std::string peer_id, Configure request);

  // The same calls with a completion callback instead of a future, for callers that must not
  // block (the bridge). `done` runs on the node's thread (or at once on the caller's thread when
  // the node is not running); it must not block and must not wait on this node's futures.
  template <class T>
  using Done = std::function<void(T)>;
  void connect(std::string device_or_address, std::optional<Credential> credential,
               Done<ConnectOutcome> done);
  void disconnect(std::string peer_id, Done<Result<void>> done);
  void search_services(std::string peer_id, std::string type,
                       Done<Result<std::vector<ServiceDescription>>> done);
  void rent(std::string peer_id, std::string service_id, std::uint32_t lease_seconds,
            Done<Result<ServiceRentResponse>> done);
  void invoke(std::string peer_id, std::string lease_id, std::string action, ValueMap arguments,
              Done<Result<ServiceInvokeResponse>> done);
  void release(std::string peer_id, std::string lease_id, Done<Result<void>> done);
  void configure(std::string peer_id, Configure request, Done<Result<ConfigureResponse>> done);

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace homep2p::net
