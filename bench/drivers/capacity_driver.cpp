// Capacity: one target holding N idle authenticated connections (N = 1,000 and 10,000 by
// default). The target is a real homep2p::net::Node in a child process of its own, so that its
// memory and CPU are its own: memory per connection = (RSS after - RSS before) / N, keepalive CPU
// = the target's CPU time (/proc/<pid>/stat) while it keeps N connections alive with sealed
// Ping/Pong. The clients are sans-IO initiators on plain sockets in this process; they answer
// Pings and never ping themselves.
//
// Reference, same run, same N: an OpenSSL TLS 1.3 (PSK) server process holding N idle TLS
// connections (SSL objects after the handshake), memory per connection measured the same way.
//
// Usage: capacity_driver [--counts 1000,10000] [--keepalive 1] [--window 6] [--report FILE]
#include <openssl/ssl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/wait.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <thread>

#include "bench_support.hpp"
#include "homep2p/net/node.hpp"
#include "homep2p_client.hpp"

namespace {

using namespace homep2p;

// ---- child processes: the HomeP2P target, the TLS reference ----

// The child writes its TCP port to `ready`, then serves until `stop` reaches EOF.
struct Child {
  pid_t pid = -1;
  int stop_fd = -1;  // parent's end: closing it tells the child to exit
  std::uint16_t port = 0;

  void end() {
    if (pid <= 0) return;
    ::close(stop_fd);
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid, nullptr, WNOHANG) == pid) {
        pid = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    pid = -1;
  }
};

template <class Serve>
Child spawn(Serve serve) {
  int ready[2], stop[2];
  if (::pipe(ready) != 0 || ::pipe(stop) != 0) throw std::runtime_error("pipe failed");
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(ready[0]);
    ::close(stop[1]);
    serve(ready[1], stop[0]);
    ::_exit(0);
  }
  ::close(ready[1]);
  ::close(stop[0]);
  Child c;
  c.pid = pid;
  c.stop_fd = stop[1];
  if (::read(ready[0], &c.port, sizeof c.port) != sizeof c.port) c.port = 0;
  ::close(ready[0]);
  return c;
}

void wait_for_eof(int fd) {
  char b;
  while (::read(fd, &b, 1) > 0) {
  }
}

Child spawn_homep2p_target(std::uint32_t max_connections, std::uint32_t keepalive) {
  return spawn([&](int ready, int stop) {
    spdlog::set_level(spdlog::level::warn);
    net::NodeOptions options;
    options.config = bench::bench_device_config(0, "capacity target", max_connections, bench::free_port());
    options.config.keepalive_interval = keepalive;
    options.simulated_services = false;
    options.announce = false;
    net::Node node(options);
    std::uint16_t port = 0;
    if (node.start()) port = node.tcp_port();
    (void)::write(ready, &port, sizeof port);
    wait_for_eof(stop);
    node.stop();
  });
}

// TLS 1.3 PSK server holding every connection it accepts (the same setup as handshake_driver).
SSL_SESSION* make_psk_session(SSL_CTX* ctx) {
  SSL* probe = SSL_new(ctx);
  const unsigned char suite[] = {0x13, 0x01};
  const SSL_CIPHER* cipher = SSL_CIPHER_find(probe, suite);
  SSL_free(probe);
  SSL_SESSION* s = SSL_SESSION_new();
  SSL_SESSION_set1_master_key(s, bench::bench_key().data(), bench::bench_key().size());
  SSL_SESSION_set_cipher(s, cipher);
  SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION);
  return s;
}
SSL_CTX* make_tls_ctx(bool server) {
  SSL_CTX* ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256");
  if (server) SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_app_data(ctx, make_psk_session(ctx));
  if (server) {
    SSL_CTX_set_psk_find_session_callback(ctx, [](SSL* ssl, const unsigned char*, size_t, SSL_SESSION** sess) {
      auto* psk = static_cast<SSL_SESSION*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
      SSL_SESSION_up_ref(psk);
      *sess = psk;
      return 1;
    });
  } else {
    SSL_CTX_set_psk_use_session_callback(
        ctx, [](SSL* ssl, const EVP_MD* md, const unsigned char** id, size_t* idlen, SSL_SESSION** sess) {
          auto* psk = static_cast<SSL_SESSION*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
          if (md != nullptr && md != SSL_CIPHER_get_handshake_digest(SSL_SESSION_get0_cipher(psk))) {
            *sess = nullptr;
            return 1;
          }
          SSL_SESSION_up_ref(psk);
          *sess = psk;
          *id = reinterpret_cast<const unsigned char*>("admin");
          *idlen = 5;
          return 1;
        });
  }
  return ctx;
}

Child spawn_tls_target(std::size_t count) {
  return spawn([count](int ready, int stop) {
    SSL_CTX* ctx = make_tls_ctx(true);
    std::uint16_t port = 0;
    const int listener = bench::listen_loopback(0, &port);
    (void)::write(ready, &port, sizeof port);
    std::vector<SSL*> held;
    held.reserve(count);
    while (held.size() < count) {
      const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) break;
      SSL* ssl = SSL_new(ctx);
      SSL_set_fd(ssl, fd);
      if (SSL_accept(ssl) != 1) {
        SSL_free(ssl);
        ::close(fd);
        continue;
      }
      held.push_back(ssl);
    }
    wait_for_eof(stop);
  });
}

// ---- the clients ----

struct HomeClient {
  int fd = -1;
  std::unique_ptr<ConnectionInitiator> connection;
};

struct Phase {
  std::size_t wanted = 0;
  std::size_t reached = 0;
  std::string stop_reason;
  double rss_per_connection_kib = 0;
  double connect_seconds = 0;
  double keepalive_cpu_seconds = 0;
  double window_seconds = 0;
  std::size_t pongs = 0;
  std::size_t alive_after = 0;
  double tls_rss_per_connection_kib = 0;
  std::size_t tls_reached = 0;
};

Phase run_homep2p(std::size_t n, std::uint32_t keepalive, double window) {
  Phase phase;
  phase.wanted = n;
  Child target = spawn_homep2p_target(static_cast<std::uint32_t>(n + 16), keepalive);
  if (target.port == 0) {
    phase.stop_reason = "the target did not start";
    target.end();
    return phase;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const std::uint64_t rss0 = bench::rss_kib(target.pid);

  ConnectionTable table(static_cast<std::uint32_t>(n + 16));
  OsRandomSource random;
  ConnectionSettings quiet;              // the clients only answer Pings
  quiet.keepalive_interval = seconds(3600);
  std::vector<HomeClient> clients;
  clients.reserve(n);

  // Every established client is watched for the target's Pings from the start: connecting
  // 10,000 takes longer than three keepalive intervals, and an unanswered client is dropped.
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  std::vector<epoll_event> events(1024);
  std::uint8_t buffer[4096];
  std::size_t pongs = 0;
  auto answer_pings = [&](int timeout_ms) {
    const int k = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), timeout_ms);
    for (int e = 0; e < k; ++e) {
      HomeClient& c = clients[events[static_cast<std::size_t>(e)].data.u64];
      if (!c.connection) continue;
      const ssize_t r = ::recv(c.fd, buffer, sizeof buffer, MSG_DONTWAIT);
      if (r <= 0) {
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;
        ::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
        c.connection.reset();
        continue;
      }
      (void)c.connection->receive(std::span<const std::uint8_t>(buffer, static_cast<std::size_t>(r)), Clock::now());
      if (c.connection->has_output()) {
        ++pongs;
        (void)bench::flush_output(c.fd, *c.connection);
      }
      if (c.connection->closed()) {
        ::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
        c.connection.reset();
      }
    }
  };

  const auto t0 = bench::SteadyClock::now();
  for (std::size_t i = 0; i < n; ++i) {
    const int fd = bench::connect_loopback(target.port);
    if (fd < 0) {
      phase.stop_reason = std::string("connect failed: ") + std::strerror(errno);
      break;
    }
    auto c = bench::handshake_on(
        fd, InitiatorParams{bench::bench_device_id(100000 + i), bench::bench_device_id(0), "admin", bench::bench_key(), true},
        table, random, quiet);
    if (!c) {
      phase.stop_reason = "the target closed or refused connection " + std::to_string(i + 1) +
                          " (no SUCCESS; it holds " + std::to_string(i) + ")";
      ::close(fd);
      break;
    }
    clients.push_back(HomeClient{fd, std::move(c)});
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = clients.size() - 1;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    if (i % 32 == 31) answer_pings(0);
  }
  phase.connect_seconds = bench::seconds_since(t0);
  phase.reached = clients.size();
  for (const auto settle = bench::SteadyClock::now(); bench::seconds_since(settle) < 0.7;) answer_pings(50);
  const std::uint64_t rss1 = bench::rss_kib(target.pid);
  if (phase.reached) {
    phase.rss_per_connection_kib = (static_cast<double>(rss1) - static_cast<double>(rss0)) / static_cast<double>(phase.reached);
  }

  // Keepalive: answer every Ping for `window` seconds, measuring the target's CPU meanwhile.
  const double cpu0 = bench::cpu_seconds(target.pid);
  pongs = 0;
  const auto w0 = bench::SteadyClock::now();
  while (bench::seconds_since(w0) < window) answer_pings(100);
  phase.pongs = pongs;
  phase.window_seconds = bench::seconds_since(w0);
  phase.keepalive_cpu_seconds = bench::cpu_seconds(target.pid) - cpu0;
  for (const auto& c : clients) phase.alive_after += c.connection && c.connection->established() ? 1 : 0;
  ::close(ep);
  for (auto& c : clients) ::close(c.fd);
  target.end();
  return phase;
}

void run_tls(Phase& phase, std::size_t n) {
  Child target = spawn_tls_target(n);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const std::uint64_t rss0 = bench::rss_kib(target.pid);
  SSL_CTX* ctx = make_tls_ctx(false);
  std::vector<std::pair<int, SSL*>> held;
  for (std::size_t i = 0; i < n; ++i) {
    const int fd = bench::connect_loopback(target.port);
    if (fd < 0) break;
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1) {
      SSL_free(ssl);
      ::close(fd);
      break;
    }
    held.emplace_back(fd, ssl);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  const std::uint64_t rss1 = bench::rss_kib(target.pid);
  phase.tls_reached = held.size();
  if (!held.empty()) {
    phase.tls_rss_per_connection_kib = (static_cast<double>(rss1) - static_cast<double>(rss0)) / static_cast<double>(held.size());
  }
  for (auto& [fd, ssl] : held) {
    SSL_free(ssl);
    ::close(fd);
  }
  SSL_CTX_free(ctx);
  target.end();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string counts_arg = bench::arg(argc, argv, "--counts", "1000,10000");
  const auto keepalive = static_cast<std::uint32_t>(bench::arg_int(argc, argv, "--keepalive", 1));
  const double window = static_cast<double>(bench::arg_int(argc, argv, "--window", 6));
  const std::string report_path = bench::arg(argc, argv, "--report", "");
  std::vector<std::size_t> counts;
  for (std::size_t pos = 0; pos < counts_arg.size();) {
    const std::size_t comma = counts_arg.find(',', pos);
    counts.push_back(std::stoul(counts_arg.substr(pos, comma - pos)));
    pos = comma == std::string::npos ? counts_arg.size() : comma + 1;
  }
  std::size_t largest = 0;
  for (std::size_t c : counts) largest = std::max(largest, c);
  // Both ends of every connection are in processes started from here: 2 fds per connection.
  const std::uint64_t nofile = bench::raise_nofile(2 * largest + 1024);
  std::signal(SIGPIPE, SIG_IGN);
  (void)bench::bench_key();  // K once, before any fork, never per handshake

  std::printf("capacity_driver: counts %s, keepalive interval %u s, window %.0f s, RLIMIT_NOFILE %llu\n",
              counts_arg.c_str(), keepalive, window, static_cast<unsigned long long>(nofile));
  bench::Report report("Capacity: idle authenticated connections on one target");
  for (std::size_t n : counts) {
    Phase phase = run_homep2p(n, keepalive, window);
    run_tls(phase, n);
    const std::string tag = "N = " + std::to_string(n) +
                            (phase.reached != n ? " (" + std::to_string(phase.reached) + " reached)" : "") + ": ";
    report.figure(tag + "connections reached", std::to_string(phase.reached) + " / " + std::to_string(n),
                  phase.stop_reason.empty() ? "" : phase.stop_reason);
    report.figure(tag + "connect + handshake, sequential", bench::fmt(phase.connect_seconds, 2) + " s");
    report.figure(tag + "target memory per idle connection (RSS delta / N)", bench::fmt(phase.rss_per_connection_kib, 2) + " KiB",
                  "TLS 1.3 PSK " + bench::fmt(phase.tls_rss_per_connection_kib, 2) + " KiB (" +
                      std::to_string(phase.tls_reached) + " held)",
                  phase.tls_rss_per_connection_kib > 0
                      ? bench::fmt_ratio(phase.rss_per_connection_kib / phase.tls_rss_per_connection_kib)
                      : "");
    const double cpu_share = phase.window_seconds > 0 ? phase.keepalive_cpu_seconds / phase.window_seconds : 0;
    const double per_exchange = phase.pongs ? phase.keepalive_cpu_seconds / static_cast<double>(phase.pongs) : 0;
    report.figure(tag + "keepalive: target CPU at a " + std::to_string(keepalive) + " s interval",
                  bench::fmt(cpu_share * 100, 1) + " % of a core",
                  std::to_string(phase.pongs) + " Ping/Pong in " + bench::fmt(phase.window_seconds, 1) + " s");
    report.figure(tag + "keepalive: target CPU per Ping/Pong exchange", bench::fmt_us(per_exchange));
    const double at_default = per_exchange * static_cast<double>(phase.reached) / 15.0;
    report.figure(tag + "keepalive at the default 15 s interval (extrapolated)", bench::fmt(at_default * 100, 2) + " % of a core");
    report.figure(tag + "connections still established after the window",
                  std::to_string(phase.alive_after) + " / " + std::to_string(phase.reached));
    const bool memory_ok = phase.reached == n && phase.rss_per_connection_kib <= 4.0;
    std::string why;
    if (phase.reached != n) {
      why = "reached " + std::to_string(phase.reached) + " of " + std::to_string(n) + ", " + phase.stop_reason +
            " ([why](#why-session-cap))";
    }
    if (phase.rss_per_connection_kib > 4.0) why += std::string(why.empty() ? "" : "; ") + "[why](#why-memory)";
    report.target("idle connection <= 4 KiB (N = " + std::to_string(n) + ")",
                  bench::fmt(phase.rss_per_connection_kib, 2) + " KiB", memory_ok, why);
  }
  report.note("RSS counts user-space memory only (the Node's sessions, sans-IO connections, asio state, allocator); "
              "the kernel's socket buffers are not in it, for either side.");
  report.note("Keepalive is measured at a " + std::to_string(keepalive) +
              " s interval (the shortest a config allows) so that the window holds many exchanges; "
              "the default 15 s interval is extrapolated from the per-exchange cost.");
  report.write(report_path);
  return 0;
}
