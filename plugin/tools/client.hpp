// The client side of homepeer (discover, connect, services, invoke, status, configure): a Node
// that does not announce and hosts no services, under a fresh random device id, whose events are
// handed to the main thread; and "find this device and connect to it".
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common.hpp"
#include "homep2p/net/node.hpp"

namespace homep2p::tools {

// A random version 4 UUID (OS CSPRNG), lowercase.
std::string random_uuid();

void print_call_error(std::string_view what, std::string_view why);

class ClientNode {
 public:
  ClientNode(const CommonOptions& options, MainLoop& loop);
  ~ClientNode();  // stops the node
  ClientNode(const ClientNode&) = delete;
  ClientNode& operator=(const ClientNode&) = delete;

  Result<void> start();
  // Orderly stop (Disconnect NORMAL to every peer), then the node's last events are delivered.
  void stop();
  net::Node& node() { return node_; }

  // Called on the main thread (inside MainLoop::run_until) for every event of the node.
  void set_event_handler(std::function<void(const net::NodeEvent&)> handler) {
    handler_ = std::move(handler);
  }

 private:
  MainLoop& loop_;
  std::function<void(const net::NodeEvent&)> handler_;
  net::Node node_;
};

// Which device to talk to and as whom (every command that connects).
struct TargetOptions {
  std::string target;  // a device id (found by a search) or host:port
  std::string user;
  std::string password;
  double timeout = 5;  // seconds to find the device
  std::uint32_t mx = 1;
};

// Adds <device> (positional), --user, --password, --timeout and --mx.
void add_target_options(CLI::App& command, TargetOptions& options, std::string_view what);

// What connect_to_target did.
struct ConnectAttempt {
  int exit_code = kExitOk;  // kExitOk: connected
  std::string error;        // the one line to print when not connected
  std::optional<net::ConnectOutcome> outcome;  // set when a connection was attempted
  std::string peer_id;      // the target's device id, when known
  std::string peer_name;    // its friendly name, when known (else the id or the address)
};

// Finds the target (a search by device id, repeated until --timeout) and connects with
// --user/--password (no credential without --user). Leaves output to the caller.
ConnectAttempt connect_to_target(ClientNode& client, MainLoop& loop, const TargetOptions& options);

// Starts `client` and connects to the target. On failure prints the one error line and returns
// the exit code; nullopt: connected, `attempt` says to whom.
std::optional<int> start_and_connect(ClientNode& client, MainLoop& loop, const TargetOptions& options,
                                     ConnectAttempt& attempt);

// Disconnects NORMAL from `peer_id` if still connected; errors are logged, not fatal.
void disconnect_quietly(ClientNode& client, const std::string& peer_id);

// Releases a lease; errors are logged, not fatal. Works after a signal too (cleanup).
void release_quietly(ClientNode& client, const std::string& peer_id, const std::string& lease_id);

// Disconnects from `peer_id`, stops the client.
void finish(ClientNode& client, const std::string& peer_id);

// Service calls resolve by themselves (NodeOptions::request_timeout); this only guards against a
// runtime that never answers.
inline constexpr Duration kCallGuard = seconds(30);

// Waits for a Node service call. A local error (no answer, connection gone, interrupted) prints
// one line "<what>: <why>", sets `exit_code` and gives nullopt.
template <class T>
std::optional<T> await_call(MainLoop& loop, std::future<Result<T>> future, std::string_view what,
                            int& exit_code) {
  auto result = wait_future(loop, future, Clock::now() + kCallGuard);
  if (!result) {
    exit_code = loop.interrupted() ? kExitInterrupted : kExitLocalFailure;
    print_call_error(what, loop.interrupted() ? "interrupted" : "no answer");
    return std::nullopt;
  }
  if (!*result) {
    exit_code = kExitLocalFailure;
    print_call_error(what, result->error().message);
    return std::nullopt;
  }
  return std::move(*result).value();
}

}  // namespace homep2p::tools
