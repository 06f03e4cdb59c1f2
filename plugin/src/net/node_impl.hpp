// Node's insides (private to src/net). All members are touched only on the node's thread, except
// the snapshots (guarded by snapshot_mutex_) and stopped_ (atomic).
#pragma once

#include <asio.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "homep2p/connection_manager_service.hpp"
#include "homep2p/discovery_agent.hpp"
#include "homep2p/net/multicast_channel.hpp"
#include "homep2p/net/node.hpp"
#include "homep2p/random_source.hpp"
#include "homep2p/simulated_services.hpp"

namespace homep2p::net {

// A service request we sent, waiting for its response (matched by request_id).
struct PendingRequest {
  std::function<void(Result<Message>)> complete;
  std::shared_ptr<asio::steady_timer> timeout;
};

// One TCP connection: the socket, the sans-IO connection it hosts, and the bookkeeping around it.
struct Session {
  Session(std::uint64_t key, asio::ip::tcp::socket socket, asio::io_context& io)
      : key(key), socket(std::move(socket)), timer(io) {}

  std::uint64_t key;
  asio::ip::tcp::socket socket;
  asio::steady_timer timer;  // the connection's next deadline (or the TCP connect timeout)
  std::unique_ptr<Connection> connection;
  std::string peer_address;
  std::deque<Bytes> write_queue;
  std::size_t queued_bytes = 0;
  bool writing = false;
  bool socket_closed = false;
  CallerIdentity caller;  // once connected
  std::function<void(ConnectOutcome)> connect_done;  // the connect() caller, until answered
  std::map<std::uint64_t, PendingRequest> pending;
  std::uint64_t next_request_id = 1;
};

class Node::Impl : public std::enable_shared_from_this<Node::Impl> {
 public:
  explicit Impl(NodeOptions options);

  Result<void> start();
  void stop();

  // ---- called through Node's public API (any thread) ----
  // Runs `job` on the node's thread with `done`; answers `if_stopped` when the node is not running.
  template <class T>
  void run(std::function<void(std::function<void(T)>)> job, std::function<void(T)> done, T if_stopped);

  void connect(std::string target, std::optional<Credential> credential, std::function<void(ConnectOutcome)> done);
  Result<void> disconnect_peer(const std::string& peer_id);
  // Sends a request to an established connection to peer_id; `complete` gets the response.
  void request(const std::string& peer_id, Message message, std::function<void(Result<Message>)> complete);
  // Sends a message that has no response (ServiceRelease).
  Result<void> send_one_way(const std::string& peer_id, Message message);
  void search(const SearchConditions& conditions, std::uint32_t mx);
  void forget(const std::string& device_id);
  asio::io_context& io() { return io_; }

  std::vector<PeerDevice> devices() const;
  std::vector<PeerEntry> connections() const;

  NodeOptions options_;
  std::vector<EventHandler> handlers_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopped_{false};
  std::atomic<bool> started_{false};

 private:
  // discovery
  void on_datagram(std::span<const std::uint8_t> bytes, const asio::ip::udp::endpoint& from);
  void handle_discovery(DiscoveryOutput out);
  void send_datagram(const Datagram& d);
  void arm_discovery_timer();
  DeviceAnnounce own_announce() const;

  // sessions (node_sessions.cpp)
  void accept();
  std::shared_ptr<Session> add_session(asio::ip::tcp::socket socket);
  void read(const std::shared_ptr<Session>& s);
  void answer_connect(const std::shared_ptr<Session>& s, ConnectOutcome outcome);
  void process(const std::shared_ptr<Session>& s, ConnectionEvents events);
  void on_message(const std::shared_ptr<Session>& s, Message message);
  void flush(const std::shared_ptr<Session>& s);
  void write_next(const std::shared_ptr<Session>& s);
  void arm_session_timer(const std::shared_ptr<Session>& s);
  void close_socket(const std::shared_ptr<Session>& s);
  void deliver(const std::vector<OutboundMessage>& messages);
  std::shared_ptr<Session> established_session(const std::string& peer_id) const;

  // services
  void publish_connection_state();
  void arm_service_timer();
  ActionOutcome manager_connect(const std::string& target, const CallerIdentity& caller);
  ActionOutcome manager_disconnect(const std::string& peer, const CallerIdentity& caller);

  void emit(const NodeEvent& event);
  void update_snapshots();
  void shutdown();

  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
  std::shared_ptr<spdlog::logger> log_;
  OsRandomSource random_;
  ConnectionTable table_;
  ConnectionAdmission admission_;
  ServiceRegistry registry_;
  TemperatureDrift drift_;
  std::optional<DiscoveryAgent> discovery_;
  std::shared_ptr<MulticastChannel> channel_;
  asio::ip::tcp::acceptor acceptor_;
  asio::ip::address_v4 address_;
  asio::steady_timer discovery_timer_;
  asio::steady_timer service_timer_;
  std::map<std::uint64_t, std::shared_ptr<Session>> sessions_;
  std::array<std::uint8_t, std::size_t{16} * 1024> read_buffer_{};  // shared: reads complete one at a time
  std::uint64_t next_session_key_ = 1;
  std::uint64_t boot_id_ = 0;
  // Devices that have announced "authentication required": pinned, so that a spoofed announce
  // cannot downgrade a connection to them (discovery itself is unauthenticated, as in the patent).
  std::set<std::string> requires_authentication_;
  // ConnectionManager Connect to a device not discovered yet: connect when it shows up in time.
  std::map<std::string, TimePoint> connect_when_seen_;
  static constexpr Duration kConnectWhenSeenWindow = seconds(10);
  bool shutting_down_ = false;

  mutable std::mutex snapshot_mutex_;
  std::vector<PeerDevice> devices_snapshot_;
  std::vector<PeerEntry> connections_snapshot_;

  static constexpr std::size_t kMaxSessions = 1024;
  std::size_t max_sessions() const {
    return std::max<std::size_t>(kMaxSessions, options_.config.max_connections + options_.connection.max_pending_handshakes);
  }
};

}  // namespace homep2p::net
