// End-to-end handshake benchmark over loopback TCP, with its references measured in the same
// process, interleaved batch by batch so that machine noise hits all of them alike:
//
//  homep2p  TCP connect + ConnectRequest(1) / challenge / ConnectRequest(2) with the reply /
//           SUCCESS with the proof, against a real target (homep2p::net::Node, the runtime), from
//           a sans-IO initiator on a blocking socket. Done when the initiator is established.
//  floor    TCP connect + two request/response round trips of exactly the same sizes, against a
//           minimal blocking server: what any two-round-trip handshake costs at least.
//  tls13    OpenSSL TLS 1.3 with an external PSK (same 32-byte key), TLS_AES_128_GCM_SHA256, no
//           certificates, no session tickets, against a minimal blocking server. OpenSSL 3.0
//           talking to itself always negotiates psk_dhe_ke (PSK + X25519): psk_ke cannot be
//           chosen before OpenSSL 3.3 (SSL_OP_PREFER_NO_DHE_KEX).
//
// Everything runs pinned to ONE core (clients and servers alike), one handshake at a time:
// latency = what one client sees; the sequential rate = handshakes per second for the whole
// exchange on one core; "server CPU" = the CPU time of the server's thread per handshake
// (clock_gettime on that thread's CPU clock), from which a target's capacity on one core follows.
//
// Usage: handshake_driver [--rounds 6] [--batch 500] [--kinds homep2p,floor,tls13]
//                         [--report FILE] [--no-pin]
#include <dirent.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <time.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include "bench_support.hpp"
#include "homep2p/net/node.hpp"
#include "homep2p_client.hpp"

namespace {

using namespace homep2p;
using bench::SteadyClock;

// ---- CPU clocks of threads ----

double clock_seconds(clockid_t id) {
  timespec ts{};
  if (clock_gettime(id, &ts) != 0) return 0;
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}
// The CPU clock of any thread of this process by its tid (what pthread_getcpuclockid builds:
// CPUCLOCK_SCHED | CPUCLOCK_PERTHREAD_MASK, tid in the upper bits).
clockid_t tid_cpu_clock(pid_t tid) { return static_cast<clockid_t>((~static_cast<unsigned>(tid)) << 3) | 6; }

std::set<pid_t> thread_ids() {
  std::set<pid_t> tids;
  if (DIR* dir = opendir("/proc/self/task")) {
    while (dirent* e = readdir(dir)) {
      if (e->d_name[0] != '.') tids.insert(static_cast<pid_t>(std::atoi(e->d_name)));
    }
    closedir(dir);
  }
  return tids;
}

// ---- the handshake's message sizes, from one in-memory handshake ----

struct Sizes {
  std::size_t request1 = 0, response1 = 0, request2 = 0, response2 = 0;
};

Sizes measure_sizes(const std::string& own_id, const std::string& target_id) {
  ConnectionTable initiator_table(4), target_table(4);
  AccountStore accounts;
  accounts.put(Account{"admin", bench::bench_key(), AccountRole::Admin});
  ConnectionAdmission admission(target_id, true, accounts, target_table);
  OsRandomSource random;
  const TimePoint now = Clock::now();
  ConnectionInitiator initiator(InitiatorParams{own_id, target_id, "admin", bench::bench_key(), true}, initiator_table,
                                random);
  ConnectionTarget target(admission, random, "127.0.0.1", now);
  Sizes s;
  (void)initiator.start(now);
  Bytes b = initiator.take_output();
  s.request1 = b.size();
  (void)target.receive(b, now);
  b = target.take_output();
  s.response1 = b.size();
  (void)initiator.receive(b, now);
  b = initiator.take_output();
  s.request2 = b.size();
  (void)target.receive(b, now);
  b = target.take_output();
  s.response2 = b.size();
  (void)initiator.receive(b, now);
  if (!initiator.established() || !target.established()) throw std::runtime_error("in-memory handshake failed");
  return s;
}

// ---- a minimal blocking server thread (floor and TLS) ----

class ServerThread {
 public:
  using Serve = std::function<void(int fd)>;
  explicit ServerThread(Serve serve) : serve_(std::move(serve)) {
    listen_fd_ = bench::listen_loopback(0, &port_);
    thread_ = std::thread([this] { run(); });
    pthread_getcpuclockid(thread_.native_handle(), &cpu_clock_);
  }
  ~ServerThread() {
    running_ = false;
    ::shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
    thread_.join();
    ::close(listen_fd_);
  }
  std::uint16_t port() const { return port_; }
  double cpu_seconds() const { return clock_seconds(cpu_clock_); }

 private:
  void run() {
    while (running_) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      bench::set_nodelay(fd);
      serve_(fd);
      ::close(fd);
    }
  }
  Serve serve_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> running_{true};
  std::thread thread_;
  clockid_t cpu_clock_{};
};

void drain_until_eof(int fd) {
  std::uint8_t buffer[512];
  while (::recv(fd, buffer, sizeof buffer, 0) > 0) {
  }
}

// ---- TLS 1.3 external PSK ----

struct Tls {
  SSL_CTX* server = nullptr;
  SSL_CTX* client = nullptr;
  SSL_SESSION* psk = nullptr;  // master key = the PSK, cipher, TLS 1.3
  const SSL_CIPHER* cipher = nullptr;
  static constexpr const char* kIdentity = "admin";

  Tls() {
    server = SSL_CTX_new(TLS_server_method());
    client = SSL_CTX_new(TLS_client_method());
    for (SSL_CTX* ctx : {server, client}) {
      SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
      SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
      SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256");
      SSL_CTX_set_app_data(ctx, this);
    }
    SSL_CTX_set_num_tickets(server, 0);  // no NewSessionTicket after the handshake
    SSL_CTX_set_psk_find_session_callback(server, &Tls::find_session);
    SSL_CTX_set_psk_use_session_callback(client, &Tls::use_session);

    SSL* probe = SSL_new(client);
    const unsigned char aes128gcm_sha256[] = {0x13, 0x01};
    cipher = SSL_CIPHER_find(probe, aes128gcm_sha256);
    SSL_free(probe);
    psk = SSL_SESSION_new();
    const ShareKey& key = bench::bench_key();
    if (!cipher || !psk || SSL_SESSION_set1_master_key(psk, key.data(), key.size()) != 1 ||
        SSL_SESSION_set_cipher(psk, cipher) != 1 || SSL_SESSION_set_protocol_version(psk, TLS1_3_VERSION) != 1) {
      throw std::runtime_error("cannot set up the TLS 1.3 PSK session");
    }
  }
  ~Tls() {
    SSL_SESSION_free(psk);
    SSL_CTX_free(server);
    SSL_CTX_free(client);
  }
  static Tls& of(SSL* ssl) { return *static_cast<Tls*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl))); }

  static int find_session(SSL* ssl, const unsigned char* identity, size_t identity_len, SSL_SESSION** sess) {
    Tls& tls = of(ssl);
    if (identity_len != std::strlen(kIdentity) || std::memcmp(identity, kIdentity, identity_len) != 0) {
      *sess = nullptr;
      return 1;
    }
    SSL_SESSION_up_ref(tls.psk);
    *sess = tls.psk;
    return 1;
  }
  static int use_session(SSL* ssl, const EVP_MD* md, const unsigned char** id, size_t* idlen, SSL_SESSION** sess) {
    Tls& tls = of(ssl);
    if (md != nullptr && md != SSL_CIPHER_get_handshake_digest(tls.cipher)) {
      *sess = nullptr;
      *id = nullptr;
      *idlen = 0;
      return 1;
    }
    SSL_SESSION_up_ref(tls.psk);
    *sess = tls.psk;
    *id = reinterpret_cast<const unsigned char*>(kIdentity);
    *idlen = std::strlen(kIdentity);
    return 1;
  }

  void serve(int fd) const {
    SSL* ssl = SSL_new(server);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) == 1) {
      char buffer[256];
      while (SSL_read(ssl, buffer, sizeof buffer) > 0) {
      }
    }
    SSL_free(ssl);
  }
};

// ---- the measured kinds ----

enum class Kind { HomeP2P, Floor, Tls13 };
const char* name_of(Kind k) {
  switch (k) {
    case Kind::HomeP2P: return "homep2p";
    case Kind::Floor: return "floor";
    case Kind::Tls13: return "tls13";
  }
  return "?";
}

struct Samples {
  std::vector<double> latency;  // seconds, one per handshake
  double elapsed = 0;           // wall seconds over all batches
  double server_cpu = 0;        // CPU seconds of the server thread over all batches
  double client_cpu = 0;        // CPU seconds of the client (this) thread
  std::size_t failures = 0;
  std::size_t done() const { return latency.size(); }
};

}  // namespace

int main(int argc, char** argv) {
  const int rounds = static_cast<int>(bench::arg_int(argc, argv, "--rounds", 6));
  const int batch = static_cast<int>(bench::arg_int(argc, argv, "--batch", 500));
  const std::string kinds_arg = bench::arg(argc, argv, "--kinds", "homep2p,floor,tls13");
  const std::string report_path = bench::arg(argc, argv, "--report", "");
  bool pin = true;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--no-pin") pin = false;
  }
  std::vector<Kind> kinds;
  for (Kind k : {Kind::HomeP2P, Kind::Floor, Kind::Tls13}) {
    if (kinds_arg.find(name_of(k)) != std::string::npos) kinds.push_back(k);
  }

  // One core for everything, set before any thread exists so that every thread inherits it.
  if (pin && !bench::pin_to_cpu(0)) std::fprintf(stderr, "warning: cannot pin to CPU 0\n");
  spdlog::set_level(spdlog::level::warn);  // the runtime logs every connection at info
  (void)bench::bench_key();                // K: derived once, before anything is timed

  const std::string own_id = bench::bench_device_id(1);
  DeviceConfig config = bench::bench_device_config(0, "bench target", 64, bench::free_port());
  const Sizes sizes = measure_sizes(own_id, config.device_id);

  // The HomeP2P target: a real Node. Its thread is the one that appears when it starts.
  const auto before = thread_ids();
  net::NodeOptions options;
  options.config = config;
  options.simulated_services = false;
  options.announce = false;
  net::Node node(options);
  if (auto started = node.start(); !started) {
    std::fprintf(stderr, "node start failed: %s\n", started.error().message.c_str());
    return 1;
  }
  std::vector<clockid_t> node_clocks;
  for (pid_t tid : thread_ids()) {
    if (!before.count(tid)) node_clocks.push_back(tid_cpu_clock(tid));
  }
  auto node_cpu = [&] {
    double s = 0;
    for (clockid_t c : node_clocks) s += clock_seconds(c);
    return s;
  };

  // The references.
  const Bytes request1(sizes.request1, 0x31), response1(sizes.response1, 0x32), request2(sizes.request2, 0x33),
      response2(sizes.response2, 0x34);
  ServerThread floor_server([&](int fd) {
    Bytes buffer(std::max(sizes.request1, sizes.request2));
    if (!bench::read_exact(fd, buffer.data(), sizes.request1)) return;
    if (!bench::write_all(fd, response1.data(), response1.size())) return;
    if (!bench::read_exact(fd, buffer.data(), sizes.request2)) return;
    if (!bench::write_all(fd, response2.data(), response2.size())) return;
    drain_until_eof(fd);
  });
  Tls tls;
  ServerThread tls_server([&](int fd) { tls.serve(fd); });

  ConnectionTable client_table(1024);
  OsRandomSource random;
  const std::uint16_t node_port = node.tcp_port();

  // One handshake of each kind; true when it completed. `done_at` is when the client knew.
  auto one = [&](Kind kind, SteadyClock::time_point& done_at) -> bool {
    switch (kind) {
      case Kind::HomeP2P: {
        const int fd = bench::connect_loopback(node_port);
        if (fd < 0) return false;
        auto c = bench::handshake_on(fd, InitiatorParams{own_id, config.device_id, "admin", bench::bench_key(), true},
                                     client_table, random);
        done_at = SteadyClock::now();
        c.reset();
        ::close(fd);
        return true;
      }
      case Kind::Floor: {
        const int fd = bench::connect_loopback(floor_server.port());
        if (fd < 0) return false;
        Bytes buffer(std::max(sizes.response1, sizes.response2));
        const bool ok = bench::write_all(fd, request1.data(), request1.size()) &&
                        bench::read_exact(fd, buffer.data(), sizes.response1) &&
                        bench::write_all(fd, request2.data(), request2.size()) &&
                        bench::read_exact(fd, buffer.data(), sizes.response2);
        done_at = SteadyClock::now();
        ::close(fd);
        return ok;
      }
      case Kind::Tls13: {
        const int fd = bench::connect_loopback(tls_server.port());
        if (fd < 0) return false;
        SSL* ssl = SSL_new(tls.client);
        SSL_set_fd(ssl, fd);
        const bool ok = SSL_connect(ssl) == 1;
        done_at = SteadyClock::now();
        SSL_free(ssl);
        ::close(fd);
        return ok;
      }
    }
    return false;
  };
  auto server_cpu = [&](Kind kind) {
    switch (kind) {
      case Kind::HomeP2P: return node_cpu();
      case Kind::Floor: return floor_server.cpu_seconds();
      case Kind::Tls13: return tls_server.cpu_seconds();
    }
    return 0.0;
  };

  std::map<Kind, Samples> samples;
  auto run_batch = [&](Kind kind, int count, bool record) {
    Samples& s = samples[kind];
    const double server0 = server_cpu(kind);
    const double client0 = clock_seconds(CLOCK_THREAD_CPUTIME_ID);
    const auto t0 = SteadyClock::now();
    for (int i = 0; i < count; ++i) {
      const auto start = SteadyClock::now();
      SteadyClock::time_point done_at;
      const bool ok = one(kind, done_at);
      if (!record) continue;
      if (ok) {
        s.latency.push_back(std::chrono::duration<double>(done_at - start).count());
      } else {
        ++s.failures;
      }
    }
    if (!record) return;
    s.elapsed += bench::seconds_since(t0);
    // The server may still be reading the last EOF: give it a moment before reading its clock.
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    s.server_cpu += server_cpu(kind) - server0;
    s.client_cpu += clock_seconds(CLOCK_THREAD_CPUTIME_ID) - client0;
  };

  std::printf("handshake_driver: %d rounds x %d handshakes per kind, interleaved%s\n", rounds, batch,
              pin ? ", all threads pinned to CPU 0" : "");
  std::printf("  frame sizes: request1 %zu, response1 %zu, request2 %zu, response2 %zu bytes\n", sizes.request1,
              sizes.response1, sizes.request2, sizes.response2);
  for (Kind k : kinds) run_batch(k, std::max(50, batch / 10), false);  // warm-up: caches, allocator, TCP
  for (int r = 0; r < rounds; ++r) {
    for (std::size_t i = 0; i < kinds.size(); ++i) run_batch(kinds[(i + static_cast<std::size_t>(r)) % kinds.size()], batch, true);
  }
  node.stop();

  bench::Report report("Handshake over loopback TCP (one core)");
  auto p = [&](Kind k, double pct) { return bench::percentile(samples[k].latency, pct); };
  auto rate = [&](Kind k) { return samples[k].elapsed > 0 ? static_cast<double>(samples[k].done()) / samples[k].elapsed : 0; };
  auto cpu_per = [&](Kind k) { return samples[k].done() ? samples[k].server_cpu / static_cast<double>(samples[k].done()) : 0; };
  auto client_cpu_per = [&](Kind k) { return samples[k].done() ? samples[k].client_cpu / static_cast<double>(samples[k].done()) : 0; };
  const bool have_all = samples.count(Kind::HomeP2P) && samples.count(Kind::Floor) && samples.count(Kind::Tls13);

  for (Kind k : kinds) {
    report.figure(std::string(name_of(k)) + " handshakes completed / failed",
                  std::to_string(samples[k].done()) + " / " + std::to_string(samples[k].failures));
  }
  if (have_all) {
    const Kind h = Kind::HomeP2P, f = Kind::Floor, t = Kind::Tls13;
    report.figure("HomeP2P handshake p50 (connect → SUCCESS)", bench::fmt_us(p(h, 50)), "floor " + bench::fmt_us(p(f, 50)),
                  bench::fmt_ratio(p(h, 50) / p(f, 50)));
    report.figure("HomeP2P handshake p50 vs TLS 1.3 PSK", bench::fmt_us(p(h, 50)), "TLS " + bench::fmt_us(p(t, 50)),
                  bench::fmt_ratio(p(h, 50) / p(t, 50)));
    report.figure("HomeP2P handshake p99", bench::fmt_us(p(h, 99)), "floor " + bench::fmt_us(p(f, 99)),
                  bench::fmt_ratio(p(h, 99) / p(f, 99)));
    report.figure("HomeP2P handshake p99 vs TLS 1.3 PSK", bench::fmt_us(p(h, 99)), "TLS " + bench::fmt_us(p(t, 99)),
                  bench::fmt_ratio(p(h, 99) / p(t, 99)));
    report.figure("sequential handshakes/s, client + server on one core", bench::fmt(rate(h), 0) + " /s",
                  "floor " + bench::fmt(rate(f), 0) + " /s, TLS " + bench::fmt(rate(t), 0) + " /s",
                  bench::fmt_ratio(rate(h) / rate(f)) + " floor, " + bench::fmt_ratio(rate(h) / rate(t)) + " TLS");
    report.figure("server thread CPU per handshake", bench::fmt_us(cpu_per(h)),
                  "floor " + bench::fmt_us(cpu_per(f)) + ", TLS " + bench::fmt_us(cpu_per(t)),
                  bench::fmt_ratio(cpu_per(h) / cpu_per(f)) + " floor, " + bench::fmt_ratio(cpu_per(h) / cpu_per(t)) + " TLS");
    report.figure("client thread CPU per handshake", bench::fmt_us(client_cpu_per(h)),
                  "floor " + bench::fmt_us(client_cpu_per(f)) + ", TLS " + bench::fmt_us(client_cpu_per(t)),
                  bench::fmt_ratio(client_cpu_per(h) / client_cpu_per(f)) + " floor, " +
                      bench::fmt_ratio(client_cpu_per(h) / client_cpu_per(t)) + " TLS");
    const double capacity = cpu_per(h) > 0 ? 1.0 / cpu_per(h) : 0;
    report.figure("target capacity on one core (1 / server CPU per handshake)", bench::fmt(capacity, 0) + " /s",
                  "floor " + bench::fmt(1.0 / cpu_per(f), 0) + " /s, TLS " + bench::fmt(1.0 / cpu_per(t), 0) + " /s",
                  bench::fmt_ratio(capacity * cpu_per(t)) + " TLS");

    const double r_floor = p(h, 50) / p(f, 50), r_tls = p(h, 50) / p(t, 50);
    report.target("handshake p50 <= 2.5 × the floor", bench::fmt_ratio(r_floor), r_floor <= 2.5,
                  r_floor <= 2.5 ? "" : "[why](#why-handshake)");
    report.target("handshake p50 <= 0.5 × TLS 1.3 PSK", bench::fmt_ratio(r_tls), r_tls <= 0.5,
                  r_tls <= 0.5 ? "" : "[why](#why-handshake)");
    const bool capacity_ok = capacity >= 20000;
    report.target(">= 20,000 handshakes/s on one core (target side)", bench::fmt(capacity, 0) + " /s", capacity_ok,
                  capacity_ok ? "" : "[why](#why-handshake)");
    report.note("Sequential rate with client and server sharing the core: " + bench::fmt(rate(h), 0) +
                " /s (the client's CPU and both TCP stacks count too; a target serves clients on other machines, "
                "so the target-side figure is the one the target is about).");
  }
  report.note("Frame sizes on the wire: ConnectRequest(1) " + std::to_string(sizes.request1) + " B, challenge " +
              std::to_string(sizes.response1) + " B, ConnectRequest(2) " + std::to_string(sizes.request2) +
              " B, SUCCESS " + std::to_string(sizes.response2) + " B; the floor exchanges exactly these sizes.");
  report.note("TLS reference: OpenSSL " + std::string(OpenSSL_version(OPENSSL_VERSION_STRING)) +
              ", TLS 1.3 only, external PSK, TLS_AES_128_GCM_SHA256, psk_dhe_ke with X25519 (OpenSSL talking to "
              "itself cannot negotiate psk_ke before 3.3), no tickets, no certificates.");
  report.write(report_path);
  return 0;
}
