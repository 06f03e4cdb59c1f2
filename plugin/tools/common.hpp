// What every homepeer command shares: exit codes, the common flags, logging, and the main-thread
// loop that waits for signals, timeouts and the Node's events.
#pragma once

#include <CLI/CLI.hpp>
#include <asio.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <optional>
#include <string>

#include "homep2p/time.hpp"

namespace homep2p::tools {

// Exit codes, documented in docs/HOMEPEER.md.
inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 1;         // bad arguments or configuration
inline constexpr int kExitRefused = 2;       // the target answered OVERLOAD or ACCESSDENIED
inline constexpr int kExitLocalFailure = 3;  // local failure, device not found, timeout
inline constexpr int kExitServiceError = 4;  // the device answered a service/configure error
inline constexpr int kExitInterrupted = 130; // SIGINT/SIGTERM before a client command finished

// The flags every command takes.
struct CommonOptions {
  std::string interface = "127.0.0.1";
  std::string group = "239.255.77.1";
  std::uint16_t discovery_port = 7788;
  std::string log_level;
  bool json = false;

  // Set by add_common_options; `device` only lets flags given explicitly override its config.
  CLI::Option* interface_option = nullptr;
  CLI::Option* group_option = nullptr;
  CLI::Option* discovery_port_option = nullptr;
  bool interface_given() const { return interface_option && interface_option->count() > 0; }
  bool group_given() const { return group_option && group_option->count() > 0; }
  bool discovery_port_given() const {
    return discovery_port_option && discovery_port_option->count() > 0;
  }
};

void add_common_options(CLI::App& command, CommonOptions& options, std::string default_log_level);

// Logs go to stderr (stdout is for results and JSON), at options.log_level.
void setup_logging(const CommonOptions& options);

// Seconds given on the command line (fractions allowed) as a Duration.
Duration to_duration(double seconds);

// The main thread's event loop: posted handlers (the Node's events, copied over from its thread)
// run here, so output is written by one thread only; SIGINT/SIGTERM are caught here too.
class MainLoop {
 public:
  enum class Wake { Done, Timeout, Signal };

  MainLoop();  // SIGINT and SIGTERM are caught from now on until destruction
  ~MainLoop();
  MainLoop(const MainLoop&) = delete;
  MainLoop& operator=(const MainLoop&) = delete;

  // Thread-safe: runs `handler` on the thread inside run_until()/drain().
  void post(std::function<void()> handler);

  // Runs posted handlers until done() holds, the deadline passes or a signal arrives (checked in
  // that order). Once a signal arrived, every later call returns Signal at once (unless done).
  Wake run_until(const std::function<bool()>& done,
                 std::optional<TimePoint> deadline = std::nullopt);
  // Runs the handlers already posted (after Node::stop(): its last events).
  void drain();

  bool interrupted() const { return signal_ != 0; }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::signal_set signals_;
  int signal_ = 0;
};

// Waits for a Node future while the loop runs; nullopt on timeout or signal.
template <class T>
std::optional<T> wait_future(MainLoop& loop, std::future<T>& future,
                             std::optional<TimePoint> deadline = std::nullopt) {
  auto ready = [&future] {
    return future.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  };
  if (loop.run_until(ready, deadline) != MainLoop::Wake::Done) return std::nullopt;
  return future.get();
}

}  // namespace homep2p::tools
