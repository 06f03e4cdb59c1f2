// peer2mqtt: the HomeP2P <-> MQTT bridge.
//   peer2mqtt [--config configuration.yaml] [--check] [--version]
// Runs until SIGINT or SIGTERM, then stops cleanly (bridge/state offline, Disconnect NORMAL to
// every device, bye-bye, state saved). Exit status: 0 after a clean stop or a passed --check,
// 1 for a configuration, mappings or start-up error.
#include <pthread.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <exception>
#include <string>

#include "core/mappings.hpp"
#include "runtime/bridge_config.hpp"
#include "runtime/controller.hpp"

namespace {

constexpr const char* kVersion = PEER2MQTT_VERSION;  // project(VERSION) in CMakeLists.txt

int fail(const std::string& message) {
  std::fprintf(stderr, "peer2mqtt: %s\n", message.c_str());
  return 1;
}

void setup_logging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("peer2mqtt");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
  spdlog::set_level(spdlog::level::from_str(level));  // the config parser admits known levels only
  spdlog::flush_on(spdlog::level::warn);
}

}  // namespace

int main(int argc, char** argv) {
  // Signals are taken by sigwait below: block them before any thread (Paho's, the bridge's, the
  // node's) exists, so that every thread inherits the mask and none of them is interrupted.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  // A broker or device that hangs up must be an error value on a socket, not the end of us.
  std::signal(SIGPIPE, SIG_IGN);

  CLI::App app{"peer2mqtt: mirrors the home's HomeP2P devices onto MQTT and Home Assistant",
               "peer2mqtt"};
  std::string config_path = "configuration.yaml";
  bool check = false;
  app.add_option("-c,--config", config_path, "configuration file (YAML)")->capture_default_str();
  app.add_flag("--check", check, "load the configuration and the mappings, report, exit");
  app.set_version_flag("--version", std::string("peer2mqtt ") + kVersion);
  CLI11_PARSE(app, argc, argv);

  auto config = peer2mqtt::load_bridge_config(config_path, peer2mqtt::peer2mqtt_environment());
  if (!config) return fail(config.error().message);
  auto mappings = peer2mqtt::Mappings::load_directory(config->mappings_dir);
  if (!mappings) return fail(mappings.error().message);

  setup_logging(config->log_level);
  for (const auto& name : config->ignored_environment)
    spdlog::warn("environment variable {} overrides no configuration key (ignored)", name);
  if (check) {
    std::printf("configuration OK (%s: bridge %s, MQTT %s, %zu mapping(s))\n", config_path.c_str(),
                config->device.device_id.c_str(), config->settings(kVersion).mqtt_server.c_str(),
                mappings->size());
    return 0;
  }

  try {
    peer2mqtt::Controller controller(std::move(config).value(), std::move(mappings).value());
    if (auto started = controller.start(); !started) {
      spdlog::critical("cannot start: {}", started.error().message);
      controller.stop();
      return 1;
    }
    int signal = 0;
    sigwait(&stop_signals, &signal);
    spdlog::info("stopping ({})", signal == SIGINT ? "SIGINT" : "SIGTERM");
    controller.stop();
  } catch (const std::exception& e) {
    spdlog::critical("fatal: {}", e.what());
    return 1;
  }
  spdlog::info("stopped");
  return 0;
}
