// homepeer connect <device | host:port>: connect, print the result, optionally hold the connection.
#include <fmt/format.h>

#include <map>
#include <memory>
#include <string>

#include "client.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "output.hpp"

namespace homep2p::tools {

namespace {

struct ConnectOptions {
  CommonOptions common;
  TargetOptions target;
  double hold = 0;
};

void print_result(const ConnectAttempt& attempt, bool json) {
  const net::ConnectOutcome& outcome = *attempt.outcome;
  if (json) {
    print_line(json_text([&](JsonWriter& w) {
      w.StartObject();
      write_field(w, "result", outcome.summary());
      write_field(w, "device_id", attempt.peer_id);
      write_field(w, "detail", outcome.detail);
      w.EndObject();
    }));
  } else if (outcome.connected) {
    print_line(fmt::format("SUCCESS: connected to {} ({})", attempt.peer_name, attempt.peer_id));
  }
  if (!outcome.connected) print_error(attempt.error);
}

int run_connect(const ConnectOptions& options) {
  setup_logging(options.common);
  MainLoop loop;
  ClientNode client(options.common, loop);
  if (auto started = client.start(); !started) {
    print_error(fmt::format("could not start: {}", started.error().message));
    return kExitLocalFailure;
  }
  // Set before connecting, so that a peer's Disconnect during --hold is not missed.
  // Peers that disconnected, and how (before we know which peer is ours: it may be quick).
  std::map<std::string, std::string> left;
  client.set_event_handler([&left](const net::NodeEvent& event) {
    const auto* changed = std::get_if<net::ConnectionChanged>(&event);
    if (changed && changed->state == net::LinkState::Disconnected) {
      left[changed->peer_id] =
          fmt::format("{}{}", changed->reason ? to_string(*changed->reason) : "",
                      changed->cause ? fmt::format(" ({})", to_string(*changed->cause)) : "");
    }
  });

  ConnectAttempt attempt = connect_to_target(client, loop, options.target);
  if (!attempt.outcome) {
    print_error(attempt.error);
    return attempt.exit_code;
  }
  print_result(attempt, options.common.json);
  if (attempt.exit_code != kExitOk || options.hold <= 0) {
    if (attempt.exit_code == kExitOk) disconnect_quietly(client, attempt.peer_id);
    client.stop();
    return attempt.exit_code;
  }

  const std::string& peer_id = attempt.peer_id;
  // A signal ends the hold early; the connection is still closed in order.
  loop.run_until([&] { return left.contains(peer_id); }, Clock::now() + to_duration(options.hold));
  const bool by_peer = left.contains(peer_id);
  const std::string left_detail = by_peer ? left[peer_id] : std::string();
  if (!by_peer) disconnect_quietly(client, peer_id);
  client.stop();
  if (options.common.json) {
    print_line(json_text([&](JsonWriter& w) {
      w.StartObject();
      write_field(w, "event", "disconnected");
      write_field(w, "device_id", peer_id);
      write_field(w, "by", by_peer ? "peer" : "local");
      write_field(w, "detail", by_peer ? left_detail : "NORMAL");
      w.EndObject();
    }));
  } else if (by_peer) {
    print_line(fmt::format("disconnected by {}: {}", attempt.peer_name, left_detail));
  } else {
    print_line(fmt::format("disconnected from {} (NORMAL)", attempt.peer_name));
  }
  return kExitOk;
}

}  // namespace

Command add_connect_command(CLI::App& app) {
  auto options = std::make_shared<ConnectOptions>();
  CLI::App* command = app.add_subcommand("connect", "Connect to a device and print the result");
  add_target_options(*command, options->target, "Device id (UUID) or host:port");
  command->add_option("--hold", options->hold,
                      "Keep the connection S seconds, then disconnect NORMAL")
      ->check(CLI::Range(0.0, 86400.0));
  add_common_options(*command, options->common, "warn");
  return {command, [options] { return run_connect(*options); }};
}

}  // namespace homep2p::tools
