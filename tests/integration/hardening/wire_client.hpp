// A hostile (or just hand-driven) HomeP2P peer on a real TCP socket, for the attack tests: it
// speaks the wire format of docs/PROTOCOL.md (4-byte big-endian length + JSON; sealed frames
// after SUCCESS) with the sans-IO core's own codec, framing and crypto, so that an attack can be
// built byte by byte: capture a frame, replay it, send half a handshake, dribble, inject.
// Blocking POSIX sockets, loopback only (127.0.0.0/8, inside the test's namespace).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "homep2p/codec.hpp"
#include "homep2p/connection.hpp"
#include "homep2p/framing.hpp"

namespace attack {

using homep2p::Bytes;
using homep2p::Message;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

inline Bytes frame_of(const std::string& json) {
  return homep2p::make_frame(std::span(reinterpret_cast<const std::uint8_t*>(json.data()), json.size()));
}
inline Bytes frame_of(const Message& m) { return frame_of(homep2p::encode(m)); }

class WireClient {
 public:
  // Connects to 127.0.0.1:port from `source` (any 127.x.y.z: the flood uses another address than
  // the legitimate peer, as a second host on a LAN would). nullopt if the connect fails.
  static std::optional<WireClient> connect(std::uint16_t port, const std::string& source = "127.0.0.1") {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return std::nullopt;
    WireClient c(fd);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    ::inet_pton(AF_INET, source.c_str(), &from.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) {
      std::fprintf(stderr, "WireClient: bind %s: %s\n", source.c_str(), std::strerror(errno));
      return std::nullopt;
    }
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
      std::fprintf(stderr, "WireClient: connect to port %u: %s\n", port, std::strerror(errno));
      return std::nullopt;
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return c;
  }

  WireClient(WireClient&& o) noexcept : fd_(std::exchange(o.fd_, -1)), reader_(std::move(o.reader_)) {}
  WireClient& operator=(WireClient&& o) noexcept {
    if (this != &o) {
      close();
      fd_ = std::exchange(o.fd_, -1);
      reader_ = std::move(o.reader_);
    }
    return *this;
  }
  WireClient(const WireClient&) = delete;
  WireClient& operator=(const WireClient&) = delete;
  ~WireClient() { close(); }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd() const { return fd_; }

  bool send(std::span<const std::uint8_t> bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += static_cast<std::size_t>(n);
    }
    return true;
  }
  bool send(const Message& m) { return send(frame_of(m)); }

  // The next frame's payload; nullopt on timeout, EOF or a reset (see closed()).
  std::optional<Bytes> read_frame(milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (true) {
      auto f = reader_.pop();
      if (!f) return std::nullopt;
      if (f->has_value()) return std::move(**f);
      if (!fill(deadline)) return std::nullopt;
    }
  }
  // The next frame, decoded (unsealed frames only).
  std::optional<Message> read_message(milliseconds timeout) {
    auto f = read_frame(timeout);
    if (!f) return std::nullopt;
    auto m = homep2p::decode(std::string_view(reinterpret_cast<const char*>(f->data()), f->size()));
    if (!m) return std::nullopt;
    return std::move(*m);
  }
  // True once the peer closed the connection (EOF or reset) within `timeout`; bytes that
  // arrive meanwhile are read and dropped.
  bool wait_closed(milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!closed_) {
      if (!fill(deadline) && !closed_) return false;
    }
    return true;
  }
  bool closed() const { return closed_; }
  // Raw bytes received (for sessions driven by a sans-IO connection), waiting up to timeout.
  Bytes read_some(milliseconds timeout) {
    Bytes out;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return out;
    std::uint8_t buf[16384];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      closed_ = true;
      return out;
    }
    out.assign(buf, buf + n);
    return out;
  }

 private:
  explicit WireClient(int fd) : fd_(fd) {}

  // Reads what is there (waiting up to the deadline) into the frame reader.
  bool fill(Clock::time_point deadline) {
    if (closed_) return false;
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
    std::uint8_t buf[16384];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    reader_.push(std::span(buf, static_cast<std::size_t>(n)));
    return true;
  }

  int fd_ = -1;
  homep2p::FrameReader reader_;
  bool closed_ = false;
};

// A legitimate initiator (the core's ConnectionInitiator) over a WireClient: every frame it
// sends and receives is kept, so that a test can capture and replay them.
class Session {
 public:
  Session(WireClient client, homep2p::InitiatorParams params)
      : client_(std::move(client)), table_(8), initiator_(std::move(params), table_, random_) {}

  // Runs the handshake; the outcome is the event that ended it (Connected or ConnectFailed).
  std::optional<homep2p::ConnectionEvent> handshake(milliseconds timeout = milliseconds(5000)) {
    absorb(initiator_.start(homep2p::Clock::now()));
    const auto deadline = Clock::now() + timeout;
    while (!outcome_ && Clock::now() < deadline && !client_.closed()) {
      pump(milliseconds(100));
    }
    return outcome_;
  }
  // Sends a message on the established connection (sealed by the core).
  bool send(homep2p::Message m) {
    if (!initiator_.send(std::move(m), homep2p::Clock::now())) return false;
    return flush();
  }
  // Reads and handles what arrives for up to `timeout`; returns the events it produced.
  homep2p::ConnectionEvents pump(milliseconds timeout) {
    const Bytes in = client_.read_some(timeout);
    homep2p::ConnectionEvents events;
    if (!in.empty()) {
      received_.insert(received_.end(), in.begin(), in.end());
      events = initiator_.receive(in, homep2p::Clock::now());
    } else if (client_.closed()) {
      events = initiator_.transport_closed(homep2p::Clock::now());
    }
    absorb(events);
    return events;
  }

  homep2p::ConnectionInitiator& connection() { return initiator_; }
  WireClient& client() { return client_; }
  // Every frame this side sent, in order (framed, sealed where it was sealed).
  const std::vector<Bytes>& sent_frames() const { return sent_; }
  // Every byte received.
  const Bytes& received() const { return received_; }
  const homep2p::ConnectionEvents& events() const { return events_; }

 private:
  bool flush() {
    const Bytes out = initiator_.take_output();
    if (out.empty()) return true;
    homep2p::FrameReader split;
    split.push(out);
    while (true) {
      auto f = split.pop();
      if (!f || !f->has_value()) break;
      sent_.push_back(homep2p::make_frame(**f));
    }
    return client_.send(out);
  }
  void absorb(const homep2p::ConnectionEvents& events) {
    flush();
    for (const auto& e : events) {
      events_.push_back(e);
      if (std::holds_alternative<homep2p::Connected>(e) || std::holds_alternative<homep2p::ConnectFailed>(e)) {
        if (!outcome_) outcome_ = e;
      }
    }
  }

  WireClient client_;
  homep2p::OsRandomSource random_;
  homep2p::ConnectionTable table_;
  homep2p::ConnectionInitiator initiator_;
  std::vector<Bytes> sent_;
  Bytes received_;
  homep2p::ConnectionEvents events_;
  std::optional<homep2p::ConnectionEvent> outcome_;
};

}  // namespace attack
