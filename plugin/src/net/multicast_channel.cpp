#include "homep2p/net/multicast_channel.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <string>
#include <system_error>
#include <utility>

#include <spdlog/spdlog.h>

namespace homep2p::net {

namespace {

Error io_error(const std::string& step, const std::error_code& ec) {
  return make_error(Errc::Io, step + ": " + ec.message());
}

std::string describe(const asio::ip::udp::endpoint& endpoint) {
  return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

}  // namespace

Result<asio::ip::address_v4> resolve_interface_v4(std::string_view name_or_address) {
  const std::string text(name_or_address);
  std::error_code ec;
  const asio::ip::address_v4 literal = asio::ip::make_address_v4(text, ec);
  if (!ec) return literal;

  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) {
    return io_error("getifaddrs", std::error_code(errno, std::system_category()));
  }
  const std::unique_ptr<ifaddrs, decltype(&freeifaddrs)> guard(list, &freeifaddrs);
  bool name_exists = false;
  for (const ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
    if (entry->ifa_name == nullptr || text != entry->ifa_name) continue;
    name_exists = true;
    if (entry->ifa_addr == nullptr || entry->ifa_addr->sa_family != AF_INET) continue;
    sockaddr_in address{};
    std::memcpy(&address, entry->ifa_addr, sizeof address);  // no cast through an unrelated type
    return asio::ip::address_v4(ntohl(address.sin_addr.s_addr));
  }
  return make_error(Errc::Io, name_exists ? "interface " + text + " has no IPv4 address"
                                          : "no interface or IPv4 address named " + text);
}

MulticastChannel::MulticastChannel(PrivateTag, asio::io_context& io, ReceiveHandler on_receive)
    : group_(std::make_unique<Receiver>(Receiver{asio::ip::udp::socket(io), {}, {}, "group"})),
      unicast_(std::make_unique<Receiver>(Receiver{asio::ip::udp::socket(io), {}, {}, "unicast"})),
      on_receive_(std::move(on_receive)) {}

MulticastChannel::~MulticastChannel() { close(); }

Result<std::shared_ptr<MulticastChannel>> MulticastChannel::open(asio::io_context& io,
                                                                 const MulticastConfig& config,
                                                                 ReceiveHandler on_receive) {
  auto channel = std::make_shared<MulticastChannel>(PrivateTag{}, io, std::move(on_receive));
  if (auto ok = channel->setup(config); !ok) {
    channel->close();
    return ok.error();
  }
  channel->open_ = true;
  channel->receive(*channel->group_);
  channel->receive(*channel->unicast_);
  spdlog::debug("discovery: group {} joined on {}, unicast {}", describe(channel->group_endpoint_),
                channel->interface_.to_string(), describe(channel->unicast_endpoint()));
  return channel;
}

Result<void> MulticastChannel::setup(const MulticastConfig& config) {
  using asio::ip::udp;
  auto interface = resolve_interface_v4(config.interface);
  if (!interface) return interface.error();
  interface_ = *interface;

  std::error_code ec;
  const asio::ip::address_v4 group = asio::ip::make_address_v4(config.group, ec);
  if (ec) return io_error("multicast group " + config.group, ec);
  if (!group.is_multicast()) {
    return make_error(Errc::Io, "multicast group " + config.group + " is not a multicast address");
  }
  group_endpoint_ = udp::endpoint(group, config.port);

  // Group socket.
  udp::socket& g = group_->socket;
  if (g.open(udp::v4(), ec); ec) return io_error("open group socket", ec);
  if (g.set_option(udp::socket::reuse_address(true), ec); ec) return io_error("SO_REUSEADDR", ec);
#ifdef IP_MULTICAST_ALL
  // Linux delivers every group joined by any socket on the host unless this is off; we want only
  // the group we joined, on the interface we joined it on.
  const int off = 0;
  if (setsockopt(g.native_handle(), IPPROTO_IP, IP_MULTICAST_ALL, &off, sizeof off) != 0) {
    return io_error("IP_MULTICAST_ALL", std::error_code(errno, std::system_category()));
  }
#endif
  if (g.bind(group_endpoint_, ec); ec) return io_error("bind " + describe(group_endpoint_), ec);
  if (g.set_option(asio::ip::multicast::join_group(group, interface_), ec); ec) {
    return io_error("join " + group.to_string() + " on " + interface_.to_string(), ec);
  }

  // Unicast socket: the source of everything we send.
  udp::socket& u = unicast_->socket;
  if (u.open(udp::v4(), ec); ec) return io_error("open unicast socket", ec);
  if (u.set_option(asio::ip::multicast::outbound_interface(interface_), ec); ec) {
    return io_error("IP_MULTICAST_IF " + interface_.to_string(), ec);
  }
  if (u.set_option(asio::ip::multicast::hops(config.ttl), ec); ec) return io_error("IP_MULTICAST_TTL", ec);
  if (u.set_option(asio::ip::multicast::enable_loopback(config.loopback), ec); ec) {
    return io_error("IP_MULTICAST_LOOP", ec);
  }
  const udp::endpoint local(interface_, 0);
  if (u.bind(local, ec); ec) return io_error("bind " + describe(local), ec);
  return {};
}

void MulticastChannel::receive(Receiver& receiver) {
  auto self = shared_from_this();
  receiver.socket.async_receive_from(
      asio::buffer(receiver.buffer), receiver.from,
      [this, self, &receiver](const std::error_code& ec, std::size_t size) {
        if (!open_ || ec == asio::error::operation_aborted) return;
        if (ec) {
          spdlog::warn("discovery: receive on the {} socket failed: {}", receiver.name, ec.message());
        } else {
          try {
            on_receive_(std::span<const std::uint8_t>(receiver.buffer.data(), size), receiver.from);
          } catch (const std::exception& e) {
            // A handler's failure must not end the receive loop nor escape into io_context::run.
            spdlog::error("discovery: datagram handler failed: {}", e.what());
          } catch (...) {
            spdlog::error("discovery: datagram handler failed");
          }
        }
        if (open_) receive(receiver);
      });
}

Result<void> MulticastChannel::send_multicast(std::span<const std::uint8_t> bytes) {
  return send_to(bytes, group_endpoint_);
}

Result<void> MulticastChannel::send_to(std::span<const std::uint8_t> bytes,
                                       const asio::ip::udp::endpoint& to) {
  if (!open_) return make_error(Errc::Io, "send to " + describe(to) + ": channel closed");
  std::error_code ec;
  unicast_->socket.send_to(asio::buffer(bytes.data(), bytes.size()), to, 0, ec);
  if (ec) return io_error("send to " + describe(to), ec);
  return {};
}

asio::ip::udp::endpoint MulticastChannel::unicast_endpoint() const {
  std::error_code ec;
  auto endpoint = unicast_->socket.local_endpoint(ec);
  return ec ? asio::ip::udp::endpoint{} : endpoint;
}

void MulticastChannel::close() {
  open_ = false;
  std::error_code ignored;
  for (Receiver* r : {group_.get(), unicast_.get()}) {
    if (r == nullptr || !r->socket.is_open()) continue;
    r->socket.cancel(ignored);
    r->socket.close(ignored);
  }
}

}  // namespace homep2p::net
