// homepeer services <device>: list the device's services.
// homepeer invoke <device> <service> <action> [key=value ...]: rent, invoke, (watch), release.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <memory>
#include <vector>

#include "client.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "output.hpp"

namespace homep2p::tools {

namespace {

// ---- services ----

struct ServicesOptions {
  CommonOptions common;
  TargetOptions target;
  std::string type;
};

int run_services(const ServicesOptions& options) {
  setup_logging(options.common);
  MainLoop loop;
  ClientNode client(options.common, loop);
  ConnectAttempt attempt;
  if (auto failed = start_and_connect(client, loop, options.target, attempt)) return *failed;

  int exit_code = kExitOk;
  auto services = await_call(loop, client.node().search_services(attempt.peer_id, options.type),
                             "service search", exit_code);
  finish(client, attempt.peer_id);
  if (!services) return exit_code;
  if (options.common.json) {
    print_line(services_json(*services));
  } else if (services->empty()) {
    print_line(fmt::format("{} offers no services{}", attempt.peer_name,
                           options.type.empty() ? "" : " of type " + options.type));
  } else {
    for (const auto& s : *services) print_line(service_text(s));
  }
  return kExitOk;
}

// ---- invoke ----

struct InvokeOptions {
  CommonOptions common;
  TargetOptions target;
  std::string service_id;
  std::string action;
  std::vector<std::string> arguments;
  double watch = 0;
  std::uint32_t lease_seconds = 60;
  std::string lease_id;
};

// "key=value": true/false -> bool, an integer -> int, a number -> number, else a string;
// "key:=value" keeps value as a string whatever it looks like.
Result<std::pair<std::string, Value>> parse_argument(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || (eq == 1 && text[0] == ':')) {
    return make_error(Errc::InvalidMessage,
                      fmt::format("argument \"{}\": expected key=value or key:=value", text));
  }
  if (text[eq - 1] == ':') return std::pair{text.substr(0, eq - 1), Value{text.substr(eq + 1)}};
  std::string key = text.substr(0, eq);
  const std::string value = text.substr(eq + 1);
  if (value == "true") return std::pair{key, Value{true}};
  if (value == "false") return std::pair{key, Value{false}};
  const char* begin = value.data();
  const char* end = value.data() + value.size();
  std::int64_t integer = 0;
  if (auto [p, ec] = std::from_chars(begin, end, integer); ec == std::errc() && p == end && !value.empty()) {
    return std::pair{key, Value{integer}};
  }
  double number = 0;
  if (auto [p, ec] = std::from_chars(begin, end, number);
      ec == std::errc() && p == end && !value.empty() && std::isfinite(number)) {
    return std::pair{key, Value{number}};
  }
  return std::pair{key, Value{value}};
}

void print_invoke_result(ServiceResult result, const ValueMap& values, const std::string& error,
                         std::string_view what, bool json) {
  if (json) {
    print_line(json_text([&](JsonWriter& w) {
      w.StartObject();
      write_field(w, "result", to_string(result));
      write_key(w, "values");
      write_value_map(w, values);
      write_field(w, "error", error);
      w.EndObject();
    }));
  } else if (result == ServiceResult::Ok) {
    print_line(values.empty() ? fmt::format("OK: {}", what)
                              : fmt::format("OK: {}: {}", what, value_map_text(values)));
  }
  if (result != ServiceResult::Ok) print_error(fmt::format("{}: {}: {}", to_string(result), what, error));
}

int run_invoke(const InvokeOptions& options) {
  setup_logging(options.common);
  ValueMap arguments;
  for (const auto& text : options.arguments) {
    auto parsed = parse_argument(text);
    if (!parsed) {
      print_error(parsed.error().message);
      return kExitUsage;
    }
    arguments[parsed->first] = parsed->second;
  }

  MainLoop loop;
  ClientNode client(options.common, loop);
  ConnectAttempt attempt;
  if (auto failed = start_and_connect(client, loop, options.target, attempt)) return *failed;
  net::Node& node = client.node();
  const std::string& peer = attempt.peer_id;
  const std::string what = fmt::format("{}.{} on {}", options.service_id, options.action, attempt.peer_name);

  int exit_code = kExitOk;
  std::string lease_id = options.lease_id;
  const bool rented = lease_id.empty();
  if (rented) {
    // The lease must outlast the watch, or the device stops sending events halfway.
    const auto wanted = std::max<std::uint32_t>(
        options.lease_seconds, static_cast<std::uint32_t>(std::ceil(options.watch)) + 10);
    auto rent = await_call(loop, node.rent(peer, options.service_id, std::min(wanted, kMaxLeaseSeconds)),
                           "rent " + options.service_id, exit_code);
    if (!rent) {
      finish(client, peer);
      return exit_code;
    }
    if (rent->result != ServiceResult::Ok) {
      print_invoke_result(rent->result, {}, rent->error, "rent " + options.service_id, options.common.json);
      finish(client, peer);
      return kExitServiceError;
    }
    lease_id = rent->lease_id;
  }

  // Events of our lease; held back until the result is printed, which comes first.
  std::vector<net::ServiceEventReceived> held;
  bool result_printed = false;
  auto print_event = [&options](const net::ServiceEventReceived& e) {
    print_line(options.common.json ? service_event_json(e) : service_event_text(e));
  };
  client.set_event_handler([&](const net::NodeEvent& event) {
    const auto* received = std::get_if<net::ServiceEventReceived>(&event);
    if (!received || received->peer_id != peer || received->event.lease_id != lease_id) return;
    if (options.watch <= 0) return;
    if (result_printed) {
      print_event(*received);
    } else {
      held.push_back(*received);
    }
  });

  auto response = await_call(loop, node.invoke(peer, lease_id, options.action, arguments),
                             "invoke " + options.action, exit_code);
  if (response) {
    print_invoke_result(response->result, response->values, response->error, what, options.common.json);
    exit_code = response->result == ServiceResult::Ok ? kExitOk : kExitServiceError;
    result_printed = true;
    for (const auto& e : held) print_event(e);
    held.clear();
    if (options.watch > 0) {
      loop.run_until([] { return false; }, Clock::now() + to_duration(options.watch));
    }
  }

  if (rented) {
    release_quietly(client, peer, lease_id);
  }
  finish(client, peer);
  return exit_code;
}

}  // namespace

Command add_services_command(CLI::App& app) {
  auto options = std::make_shared<ServicesOptions>();
  CLI::App* command = app.add_subcommand("services", "Connect to a device and list its services");
  add_target_options(*command, options->target, "Device id (UUID) or host:port");
  command->add_option("--type", options->type, "Only services of this type");
  add_common_options(*command, options->common, "warn");
  return {command, [options] { return run_services(*options); }};
}

Command add_invoke_command(CLI::App& app) {
  auto options = std::make_shared<InvokeOptions>();
  CLI::App* command =
      app.add_subcommand("invoke", "Rent a service of a device, invoke an action, release it");
  add_target_options(*command, options->target, "Device id (UUID) or host:port");
  command->add_option("service", options->service_id, "Service id (see `homepeer services`)")->required();
  command->add_option("action", options->action, "Action name")->required();
  command->add_option("arguments", options->arguments,
                      "Arguments key=value (true/false, integer, number, else string); "
                      "key:=value is always a string");
  command->add_option("--watch", options->watch,
                      "Keep the lease S more seconds and print the service's events")
      ->check(CLI::Range(0.0, 86400.0));
  command->add_option("--lease", options->lease_seconds, "Lease seconds to ask for")
      ->capture_default_str()
      ->check(CLI::Range(1, static_cast<int>(kMaxLeaseSeconds)));
  command->add_option("--lease-id", options->lease_id,
                      "Use this lease id instead of renting (to see a refusal)");
  add_common_options(*command, options->common, "warn");
  return {command, [options] { return run_invoke(*options); }};
}

}  // namespace homep2p::tools
