// A spoofer on the discovery channel, for the known-limit tests: it listens to the multicast
// group (to learn what real devices announce, as anyone on the LAN can) and sends datagrams to
// it as if it were a device. Loopback only, inside the test's namespace.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>

#include "homep2p/codec.hpp"

namespace attack {

class MulticastPeer {
 public:
  MulticastPeer(std::uint16_t port, const std::string& group = "239.255.77.1") : port_(port), group_(group) {
    listen_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(listen_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in any{};
    any.sin_family = AF_INET;
    any.sin_port = htons(port);
    ::inet_pton(AF_INET, group.c_str(), &any.sin_addr);
    ::bind(listen_, reinterpret_cast<sockaddr*>(&any), sizeof any);
    ip_mreq join{};
    ::inet_pton(AF_INET, group.c_str(), &join.imr_multiaddr);
    join.imr_interface.s_addr = htonl(INADDR_LOOPBACK);
    ::setsockopt(listen_, IPPROTO_IP, IP_ADD_MEMBERSHIP, &join, sizeof join);

    send_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    in_addr loopback{};
    loopback.s_addr = htonl(INADDR_LOOPBACK);
    ::setsockopt(send_, IPPROTO_IP, IP_MULTICAST_IF, &loopback, sizeof loopback);
    const unsigned char ttl = 1;
    ::setsockopt(send_, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl);
  }
  ~MulticastPeer() {
    ::close(listen_);
    ::close(send_);
  }
  MulticastPeer(const MulticastPeer&) = delete;
  MulticastPeer& operator=(const MulticastPeer&) = delete;

  // The next announce of `device_id` heard on the group within `timeout`.
  std::optional<homep2p::DeviceAnnounce> sniff_announce(const std::string& device_id, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[2048];
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{listen_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const ssize_t n = ::recv(listen_, buf, sizeof buf, 0);
      if (n <= 0) continue;
      auto m = homep2p::decode(std::string_view(buf, static_cast<std::size_t>(n)));
      if (m && std::holds_alternative<homep2p::DeviceAnnounce>(*m)) {
        auto a = std::get<homep2p::DeviceAnnounce>(*m);
        if (a.device_id == device_id && !a.search_id) return a;
      }
    }
    return std::nullopt;
  }

  bool send(const homep2p::Message& m) {
    const std::string text = homep2p::encode(m);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port_);
    ::inet_pton(AF_INET, group_.c_str(), &to.sin_addr);
    return ::sendto(send_, text.data(), text.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) ==
           static_cast<ssize_t>(text.size());
  }

 private:
  std::uint16_t port_;
  std::string group_;
  int listen_ = -1;
  int send_ = -1;
};

}  // namespace attack
