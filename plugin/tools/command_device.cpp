// homepeer device --config FILE: one simulated device, until SIGINT/SIGTERM.
#include <memory>

#include "commands.hpp"
#include "common.hpp"
#include "device_host.hpp"
#include "homep2p/device_config.hpp"
#include "output.hpp"

namespace homep2p::tools {

namespace {

struct DeviceOptions {
  CommonOptions common;
  std::string config_path;
};

int run_device(const DeviceOptions& options) {
  setup_logging(options.common);
  auto loaded = load_device_config(options.config_path);
  if (!loaded) {
    print_error(loaded.error().message);  // names the file and the key at fault
    return kExitUsage;
  }
  DeviceConfig config = std::move(loaded).value();
  // Flags given on the command line win over the file's network section.
  if (options.common.interface_given()) config.interface = options.common.interface;
  if (options.common.group_given()) config.multicast_group = options.common.group;
  if (options.common.discovery_port_given()) config.multicast_port = options.common.discovery_port;
  return host_devices({config}, options.common, false);
}

}  // namespace

Command add_device_command(CLI::App& app) {
  auto options = std::make_shared<DeviceOptions>();
  CLI::App* command = app.add_subcommand(
      "device", "Run one simulated device from a config file until SIGINT/SIGTERM");
  command->add_option("--config", options->config_path, "Device config file (YAML, docs/CONFIG.md)")
      ->required();
  add_common_options(*command, options->common, "info");
  return {command, [options] { return run_device(*options); }};
}

}  // namespace homep2p::tools
