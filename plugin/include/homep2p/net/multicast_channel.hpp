// The UDP transport of discovery (patent steps B/C) on Asio: it only moves datagrams; what they
// mean is DiscoveryAgent's business (discovery_agent.hpp). Why a separate header: the runtime,
// `homepeer` and the bridge all open this channel, and tests use it against loopback.
//
// Two sockets, so that every process on a host can take part and unicast answers find the searcher:
// - the group socket: SO_REUSEADDR, bound to group:port (binding the group address filters out
//   other groups and unicast), joined to the group on ONE interface only, IP_MULTICAST_ALL off
//   (Linux), receives the group's datagrams;
// - the unicast socket: bound to interface-address:0, sends everything (multicast via
//   IP_MULTICAST_IF = the interface, TTL 1, loopback on so that devices on one host see each other)
//   and receives the unicast answers to our searches (they go to the source address:port of the
//   search, i.e. to this socket).
// Received datagrams of both sockets go to one callback with their source endpoint.
//
// Threading: one io_context, run by one thread; the callback runs on it. Errors are values
// (open) or logged with spdlog (receive, send); nothing is thrown out of a handler.
#pragma once

#include <asio.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "homep2p/result.hpp"

namespace homep2p::net {

inline constexpr std::string_view kDefaultDiscoveryGroup = "239.255.77.1";
inline constexpr std::uint16_t kDefaultDiscoveryPort = 7788;

struct MulticastConfig {
  // An interface name ("lo", "eth0") or one of its IPv4 addresses ("127.0.0.1").
  std::string interface = "127.0.0.1";
  std::string group = std::string(kDefaultDiscoveryGroup);
  std::uint16_t port = kDefaultDiscoveryPort;
  int ttl = 1;           // hops: discovery stays on the local link
  bool loopback = true;  // deliver our multicast to sockets on this host too
};

// The IPv4 address of an interface given by name (getifaddrs) or by an address literal (checked
// to be an IPv4 address; not checked to exist: binding will tell).
Result<asio::ip::address_v4> resolve_interface_v4(std::string_view name_or_address);

class MulticastChannel : public std::enable_shared_from_this<MulticastChannel> {
 public:
  // Bytes of one datagram (the view is valid during the call only) and who sent it.
  using ReceiveHandler =
      std::function<void(std::span<const std::uint8_t> bytes, const asio::ip::udp::endpoint& from)>;

  // Opens both sockets and starts receiving. Errc::Io with the failing step on error.
  static Result<std::shared_ptr<MulticastChannel>> open(asio::io_context& io, const MulticastConfig& config,
                                                        ReceiveHandler on_receive);

  // Only open() can make one (it must be owned by a shared_ptr: pending receives hold it).
  struct PrivateTag {
    explicit PrivateTag() = default;
  };
  MulticastChannel(PrivateTag, asio::io_context& io, ReceiveHandler on_receive);
  ~MulticastChannel();
  MulticastChannel(const MulticastChannel&) = delete;
  MulticastChannel& operator=(const MulticastChannel&) = delete;

  // Sends one datagram to the group / to one peer, from the unicast socket. Synchronous: a UDP
  // send only queues into the kernel, and it lets a caller be sure its bye-bye left before it
  // exits. Errors are returned (and not logged).
  Result<void> send_multicast(std::span<const std::uint8_t> bytes);
  Result<void> send_to(std::span<const std::uint8_t> bytes, const asio::ip::udp::endpoint& to);

  // Stops receiving and closes both sockets; the handler is not called afterwards. Idempotent.
  void close();

  asio::ip::address_v4 interface_address() const { return interface_; }
  asio::ip::udp::endpoint group_endpoint() const { return group_endpoint_; }
  // Where unicast answers to our searches arrive (the source of everything we send).
  asio::ip::udp::endpoint unicast_endpoint() const;
  bool is_open() const { return open_; }

 private:
  // The largest UDP payload, so that an oversized datagram arrives whole and is rejected by
  // size (kMaxDatagramSize) instead of being silently truncated into something else.
  static constexpr std::size_t kReceiveBufferSize = 65536;

  struct Receiver {
    asio::ip::udp::socket socket;
    asio::ip::udp::endpoint from;
    std::array<std::uint8_t, kReceiveBufferSize> buffer{};
    const char* name;
  };

  Result<void> setup(const MulticastConfig& config);
  void receive(Receiver& receiver);

  asio::ip::address_v4 interface_;
  asio::ip::udp::endpoint group_endpoint_;
  std::unique_ptr<Receiver> group_;    // heap: 64 KiB buffers each
  std::unique_ptr<Receiver> unicast_;
  ReceiveHandler on_receive_;
  bool open_ = false;
};

}  // namespace homep2p::net
