// homepeer status <device>: the device's connection count, max and peers, read through its
// ConnectionManager service (connection_manager_service.hpp); --watch prints every change.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "client.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "homep2p/connection_manager_service.hpp"
#include "output.hpp"

namespace homep2p::tools {

namespace {

struct StatusOptions {
  CommonOptions common;
  TargetOptions target;
  double watch = 0;
};

// Applies ConnectionManager state variables (all of them, or the changed ones of an event).
Result<void> apply_state(StatusView& view, const ValueMap& variables) {
  for (const auto& [name, value] : variables) {
    if (name == "count" || name == "max") {
      const auto* number = std::get_if<std::int64_t>(&value);
      if (!number) return make_error(Errc::InvalidMessage, "ConnectionManager." + name + " is not an integer");
      (name == "count" ? view.count : view.max) = *number;
    } else if (name == "peers") {
      const auto* text = std::get_if<std::string>(&value);
      if (!text) return make_error(Errc::InvalidMessage, "ConnectionManager.peers is not a string");
      auto peers = parse_connection_manager_peers(*text);
      if (!peers) return peers.error();
      view.peers = std::move(peers).value();
    }
  }
  return {};
}

int run_status(const StatusOptions& options) {
  setup_logging(options.common);
  MainLoop loop;
  ClientNode client(options.common, loop);
  ConnectAttempt attempt;
  if (auto failed = start_and_connect(client, loop, options.target, attempt)) return *failed;
  net::Node& node = client.node();
  const std::string& peer = attempt.peer_id;
  const bool json = options.common.json;

  // Rent first, read second: no change falls between the state we print and the first event.
  int exit_code = kExitOk;
  const std::string service_id(kConnectionManagerId);
  const auto lease_seconds = std::min<std::uint32_t>(
      kMaxLeaseSeconds, static_cast<std::uint32_t>(std::ceil(options.watch)) + 60);
  auto rent = await_call(loop, node.rent(peer, service_id, lease_seconds), "rent " + service_id, exit_code);
  if (!rent) {
    finish(client, peer);
    return exit_code;
  }
  if (rent->result != ServiceResult::Ok) {
    print_error(fmt::format("{}: rent {} on {}: {}", to_string(rent->result), service_id,
                            attempt.peer_name, rent->error));
    finish(client, peer);
    return kExitServiceError;
  }
  const std::string lease_id = rent->lease_id;

  StatusView view;
  view.device_id = peer;
  bool have_state = false;
  std::vector<ValueMap> held;  // events that arrive before the first state is printed
  auto show = [&](bool event) {
    print_line(json ? status_json(view, event) : status_text(view, attempt.peer_name));
  };
  auto apply_event = [&](const ValueMap& variables) {
    if (auto applied = apply_state(view, variables); !applied) {
      spdlog::warn("status event from {}: {}", peer, applied.error().message);
      return;
    }
    show(true);
  };
  client.set_event_handler([&](const net::NodeEvent& event) {
    const auto* received = std::get_if<net::ServiceEventReceived>(&event);
    if (!received || received->peer_id != peer || received->event.lease_id != lease_id) return;
    if (have_state) {
      apply_event(received->event.variables);
    } else {
      held.push_back(received->event.variables);
    }
  });

  auto services = await_call(loop, node.search_services(peer, std::string(kConnectionManagerType)),
                             "service search", exit_code);
  if (services) {
    const ServiceDescription* manager = nullptr;
    for (const auto& s : *services) {
      if (s.id == service_id) manager = &s;
    }
    Result<void> applied = manager ? apply_state(view, manager->state)
                                   : Result<void>(make_error(Errc::Service, "no connection-manager service"));
    if (!applied) {
      print_error(fmt::format("status of {}: {}", attempt.peer_name, applied.error().message));
      exit_code = kExitServiceError;
    } else {
      show(false);
      have_state = true;
      for (const auto& variables : held) apply_event(variables);
      held.clear();
      if (options.watch > 0) {
        loop.run_until([] { return false; }, Clock::now() + to_duration(options.watch));
      }
    }
  }

  release_quietly(client, peer, lease_id);
  finish(client, peer);
  return exit_code;
}

}  // namespace

Command add_status_command(CLI::App& app) {
  auto options = std::make_shared<StatusOptions>();
  CLI::App* command = app.add_subcommand(
      "status", "Show a device's connection count, max and peers (its ConnectionManager)");
  add_target_options(*command, options->target, "Device id (UUID) or host:port");
  command->add_option("--watch", options->watch, "Keep watching S seconds; print every change")
      ->check(CLI::Range(0.0, 86400.0));
  add_common_options(*command, options->common, "warn");
  return {command, [options] { return run_status(*options); }};
}

}  // namespace homep2p::tools
