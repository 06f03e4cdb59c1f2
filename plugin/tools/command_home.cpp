// homepeer home --devices N: N simulated devices in one process, until SIGINT/SIGTERM.
#include <fmt/format.h>

#include <memory>

#include "commands.hpp"
#include "common.hpp"
#include "device_host.hpp"
#include "output.hpp"
#include "simulated_home.hpp"

namespace homep2p::tools {

namespace {

struct HomeCommandOptions {
  CommonOptions common;
  std::size_t devices = 3;
  std::uint16_t base_port = 0;
};

int run_home(const HomeCommandOptions& options) {
  setup_logging(options.common);
  if (options.base_port != 0 && options.base_port + options.devices - 1 > 65535) {
    print_error(fmt::format("--base-port {} + --devices {} goes past port 65535", options.base_port,
                            options.devices));
    return kExitUsage;
  }
  HomeOptions home;
  home.devices = options.devices;
  home.base_port = options.base_port;
  home.interface = options.common.interface;
  home.group = options.common.group;
  home.discovery_port = options.common.discovery_port;
  // On stderr, so that stdout stays pure JSON Lines with --json.
  print_error(fmt::format(
      "DEMO credentials on every device (for trying things out only, never for real devices): "
      "admin account \"{}\" / \"{}\", user account \"{}\" / \"{}\"",
      kDemoAdminUser, kDemoAdminPassword, kDemoUser, kDemoUserPassword));
  return host_devices(make_home_configs(home), options.common, true);
}

}  // namespace

Command add_home_command(CLI::App& app) {
  auto options = std::make_shared<HomeCommandOptions>();
  CLI::App* command =
      app.add_subcommand("home", "Run N simulated devices in one process until SIGINT/SIGTERM");
  command->add_option("--devices", options->devices, "Number of devices")
      ->required()
      ->check(CLI::Range(1, 1000));
  command->add_option("--base-port", options->base_port,
                      "TCP port of device 0 (device i: base + i); 0 = any free port")
      ->capture_default_str();
  add_common_options(*command, options->common, "info");
  return {command, [options] { return run_home(*options); }};
}

}  // namespace homep2p::tools
