// homepeer discover: search, wait --timeout seconds, list what answered.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "client.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "output.hpp"

namespace homep2p::tools {

namespace {

struct DiscoverOptions {
  CommonOptions common;
  SearchConditions conditions;
  std::uint32_t mx = 1;
  double timeout = 2;
};

// devices() also holds devices heard announcing by themselves: keep only those that match.
bool matches(const DeviceAnnounce& d, const SearchConditions& c) {
  if (!c.device_type.empty() && d.device_type != c.device_type) return false;
  if (!c.device_id.empty() && d.device_id != c.device_id) return false;
  if (!c.service_type.empty() &&
      std::none_of(d.services.begin(), d.services.end(),
                   [&](const ServiceRef& s) { return s.type == c.service_type; })) {
    return false;
  }
  return true;
}

int run_discover(DiscoverOptions options) {
  setup_logging(options.common);
  // Device ids are compared in lowercase (device_config.cpp keeps them so).
  std::string& id = options.conditions.device_id;
  std::transform(id.begin(), id.end(), id.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  MainLoop loop;
  ClientNode client(options.common, loop);
  if (auto started = client.start(); !started) {
    print_error(fmt::format("could not start: {}", started.error().message));
    return kExitLocalFailure;
  }
  client.node().search(options.conditions, options.mx);
  if (loop.run_until([] { return false; }, Clock::now() + to_duration(options.timeout)) ==
      MainLoop::Wake::Signal) {
    return kExitInterrupted;
  }

  std::vector<net::PeerDevice> devices = client.node().devices();
  client.stop();
  std::erase_if(devices, [&](const net::PeerDevice& d) { return !matches(d.announce, options.conditions); });
  std::sort(devices.begin(), devices.end(), [](const net::PeerDevice& a, const net::PeerDevice& b) {
    if (a.announce.friendly_name != b.announce.friendly_name) {
      return a.announce.friendly_name < b.announce.friendly_name;
    }
    return a.announce.device_id < b.announce.device_id;
  });

  if (options.common.json) {
    print_line(devices_json(devices));
  } else if (devices.empty()) {
    print_line("no devices found");
  } else {
    for (const auto& d : devices) print_line(device_text(d));
  }
  return kExitOk;
}

}  // namespace

Command add_discover_command(CLI::App& app) {
  auto options = std::make_shared<DiscoverOptions>();
  CLI::App* command = app.add_subcommand("discover", "Search for devices and list them");
  command->add_option("--type", options->conditions.device_type, "Only devices of this type");
  command->add_option("--service", options->conditions.service_type,
                      "Only devices offering a service of this type");
  command->add_option("--id", options->conditions.device_id, "Only the device with this id");
  command->add_option("--mx", options->mx, "Devices answer within MX seconds (random delay)")
      ->capture_default_str()
      ->check(CLI::Range(0, static_cast<int>(kMaxMx)));
  command->add_option("--timeout", options->timeout, "Seconds to collect answers")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3600.0));
  add_common_options(*command, options->common, "warn");
  return {command, [options] { return run_discover(*options); }};
}

}  // namespace homep2p::tools
