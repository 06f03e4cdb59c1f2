// Shared helpers of the end-to-end benchmark drivers: clocks and statistics, CPU pinning, file
// limits, process memory/CPU from /proc, blocking loopback sockets, and the markdown report each
// driver appends to (scripts/bench.sh assembles docs/BENCHMARKS.md from them).
//
// Traffic rule (DESIGN.md §4): every socket here is bound or connected to 127.0.0.1; the drivers
// that need multicast run inside a network namespace made by scripts/bench.sh.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace bench {

using SteadyClock = std::chrono::steady_clock;

inline double seconds_since(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// p in [0, 100]; nearest-rank on a sorted copy. 0 for an empty sample.
inline double percentile(std::vector<double> samples, double p) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  const double rank = std::ceil(p / 100.0 * static_cast<double>(samples.size()));
  const std::size_t index = rank < 1 ? 0 : static_cast<std::size_t>(rank) - 1;
  return samples[std::min(index, samples.size() - 1)];
}

// Pins the calling thread (and every thread it creates afterwards) to one CPU.
inline bool pin_to_cpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof set, &set) == 0;
}

// Raises RLIMIT_NOFILE to at least `wanted` (the hard limit too when we may: root or
// CAP_SYS_RESOURCE). Returns the soft limit in force afterwards.
inline std::uint64_t raise_nofile(std::uint64_t wanted) {
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur >= wanted) return lim.rlim_cur;
  rlimit want = lim;
  want.rlim_cur = wanted;
  if (want.rlim_max < wanted) want.rlim_max = wanted;
  if (setrlimit(RLIMIT_NOFILE, &want) != 0) {
    want.rlim_max = lim.rlim_max;
    want.rlim_cur = std::min<rlim_t>(wanted, lim.rlim_max);
    setrlimit(RLIMIT_NOFILE, &want);
  }
  getrlimit(RLIMIT_NOFILE, &lim);
  return lim.rlim_cur;
}

// A "<Key>: <n> kB" line of /proc/<pid>/status, in KiB; 0 if unreadable.
inline std::uint64_t status_kib(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) return std::stoull(line.substr(key.size() + 1));
  }
  return 0;
}
// Resident set size (VmRSS) in KiB, and its private part (RssAnon: heap, stacks; without the
// resident pages of shared libraries and files).
inline std::uint64_t rss_kib(pid_t pid) { return status_kib(pid, "VmRSS"); }
inline std::uint64_t rss_anon_kib(pid_t pid) { return status_kib(pid, "RssAnon"); }

// User + system CPU seconds a process has used (/proc/<pid>/stat, clock-tick resolution).
inline double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close_paren + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; fields >> field; ++i) {  // field 3 is the state
    if (i == 14) utime = std::stoull(field);
    if (i == 15) {
      stime = std::stoull(field);
      break;
    }
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

inline double rusage_seconds(int who) {
  rusage u{};
  getrusage(who, &u);
  auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return tv(u.ru_utime) + tv(u.ru_stime);
}

// ---- blocking loopback TCP ----

inline sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  return addr;
}

inline void set_nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// A listening socket on 127.0.0.1 (any free port when port is 0).
inline int listen_loopback(std::uint16_t port, std::uint16_t* bound_port, int backlog = 4096) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr = loopback(port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, backlog) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot listen on 127.0.0.1");
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  if (bound_port) *bound_port = ntohs(addr.sin_port);
  return fd;
}

// Connects to 127.0.0.1:port with TCP_NODELAY; -1 on failure.
inline int connect_loopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  set_nodelay(fd);
  sockaddr_in addr = loopback(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline std::uint16_t free_port() {
  std::uint16_t port = 0;
  ::close(listen_loopback(0, &port, 1));
  return port;
}

inline bool write_all(int fd, const std::uint8_t* data, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

inline bool read_exact(int fd, std::uint8_t* data, std::size_t n) {
  while (n > 0) {
    const ssize_t r = ::recv(fd, data, n, 0);
    if (r <= 0) return false;
    data += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

// ---- formatting ----

inline std::string fmt(double v, int decimals = 1) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}
inline std::string fmt_us(double seconds) { return fmt(seconds * 1e6, 1) + " µs"; }
inline std::string fmt_ms(double seconds) { return fmt(seconds * 1e3, 1) + " ms"; }
// µs below a millisecond, ms above.
inline std::string fmt_time(double seconds) { return seconds < 1e-3 ? fmt_us(seconds) : fmt(seconds * 1e3, 2) + " ms"; }
inline std::string fmt_ratio(double r) { return fmt(r, 2) + " ×"; }

// ---- the report: a markdown fragment (tables of figures and of targets) ----

class Report {
 public:
  explicit Report(std::string title) : title_(std::move(title)) {}

  // One measured figure, optionally against a reference measured in the same run.
  void figure(const std::string& name, const std::string& value, const std::string& reference = "",
              const std::string& ratio = "") {
    figures_.push_back({name, value, reference, ratio});
    std::printf("  %-58s %16s", name.c_str(), value.c_str());
    if (!reference.empty()) std::printf("   ref %s   ratio %s", reference.c_str(), ratio.c_str());
    std::printf("\n");
    std::fflush(stdout);
  }
  // A target of the issue: what it asks, what we measured, pass or miss, and why a miss.
  void target(const std::string& name, const std::string& measured, bool pass, const std::string& reason = "") {
    targets_.push_back({name, measured, pass ? "**pass**" : "**MISS**", reason});
    std::printf("  TARGET %-50s %s  %s %s\n", name.c_str(), measured.c_str(), pass ? "pass" : "MISS", reason.c_str());
    std::fflush(stdout);
  }
  void note(const std::string& text) {
    notes_.push_back(text);
    std::printf("  note: %s\n", text.c_str());
  }

  // Appends the fragment to `path` (nothing when path is empty), and the target rows alone to
  // `path`.targets (scripts/bench.sh gathers those into one summary table).
  void write(const std::string& path) const {
    if (path.empty()) return;
    {
      std::ofstream rows(path + ".targets", std::ios::app);
      for (const auto& t : targets_) rows << "| " << t[0] << " | " << t[1] << " | " << t[2] << " | " << t[3] << " |\n";
    }
    std::ofstream out(path, std::ios::app);
    out << "### " << title_ << "\n\n";
    if (!figures_.empty()) {
      out << "| figure | value | reference (same run) | ratio |\n|---|---:|---:|---:|\n";
      for (const auto& f : figures_) out << "| " << f[0] << " | " << f[1] << " | " << f[2] << " | " << f[3] << " |\n";
      out << "\n";
    }
    if (!targets_.empty()) {
      out << "| target | measured | result | why |\n|---|---|---|---|\n";
      for (const auto& t : targets_) out << "| " << t[0] << " | " << t[1] << " | " << t[2] << " | " << t[3] << " |\n";
      out << "\n";
    }
    for (const auto& n : notes_) out << "- " << n << "\n";
    if (!notes_.empty()) out << "\n";
  }

 private:
  std::string title_;
  std::vector<std::vector<std::string>> figures_;
  std::vector<std::vector<std::string>> targets_;
  std::vector<std::string> notes_;
};

// "--name value" from argv, else the default.
inline std::string arg(int argc, char** argv, const std::string& name, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == name) return argv[i + 1];
  }
  return fallback;
}
inline long arg_int(int argc, char** argv, const std::string& name, long fallback) {
  return std::stol(arg(argc, argv, name, std::to_string(fallback)));
}

}  // namespace bench
