#include "common.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>
#include <utility>

namespace homep2p::tools {

namespace {

// How often run_until() re-checks its condition: futures do not wake the loop by themselves.
constexpr Duration kPollSlice = milliseconds(20);

}  // namespace

void add_common_options(CLI::App& command, CommonOptions& options, std::string default_log_level) {
  options.log_level = std::move(default_log_level);
  options.interface_option =
      command.add_option("--interface", options.interface,
                         "Network interface for discovery and TCP: a name (lo) or an IPv4 address")
          ->capture_default_str();
  options.group_option =
      command.add_option("--group", options.group, "Discovery multicast group")
          ->capture_default_str();
  options.discovery_port_option =
      command.add_option("--discovery-port", options.discovery_port, "Discovery UDP port")
          ->capture_default_str()
          ->check(CLI::Range(1, 65535));
  command.add_option("--log-level", options.log_level, "Log level (logs go to stderr)")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  command.add_flag("--json", options.json, "Machine-readable JSON output on stdout");
}

void setup_logging(const CommonOptions& options) {
  auto logger = spdlog::stderr_color_mt("homepeer");
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e [%^%l%$] %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(options.log_level));
}

Duration to_duration(double seconds) {
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(std::max(seconds, 0.0)));
}

MainLoop::MainLoop() : work_(asio::make_work_guard(io_)), signals_(io_, SIGINT, SIGTERM) {
  signals_.async_wait([this](const std::error_code& ec, int signal) {
    if (!ec) {
      spdlog::info("signal {}: stopping", signal);
      signal_ = signal;
    }
  });
}

MainLoop::~MainLoop() {
  std::error_code ignored;
  signals_.cancel(ignored);
  work_.reset();
}

void MainLoop::post(std::function<void()> handler) { asio::post(io_, std::move(handler)); }

MainLoop::Wake MainLoop::run_until(const std::function<bool()>& done,
                                   std::optional<TimePoint> deadline) {
  for (;;) {
    if (done()) return Wake::Done;
    if (signal_ != 0) return Wake::Signal;
    const TimePoint now = Clock::now();
    if (deadline && now >= *deadline) return Wake::Timeout;
    Duration slice = kPollSlice;
    if (deadline) slice = std::min(slice, *deadline - now);
    io_.run_one_for(slice);
  }
}

void MainLoop::drain() { io_.poll(); }

}  // namespace homep2p::tools
