// The configs of `homepeer home`: N simulated devices with stable ids, readable names, a cycle
// of device types, and DEMO accounts (see kDemo* below: printed at start, never for real use).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "homep2p/device_config.hpp"

namespace homep2p::tools {

// Demo-only credentials, the same on every device of `homepeer home` (docs/HOMEPEER.md).
inline constexpr std::string_view kDemoAdminUser = "admin";
inline constexpr std::string_view kDemoAdminPassword = "admin-password";
inline constexpr std::string_view kDemoUser = "user";
inline constexpr std::string_view kDemoUserPassword = "user-password";

struct HomeOptions {
  std::size_t devices = 3;
  std::uint16_t base_port = 0;  // device i listens on base_port + i; 0 = any free port
  std::string interface = "127.0.0.1";
  std::string group = "239.255.77.1";
  std::uint16_t discovery_port = 7788;
};

// Device i: id home_device_id(i); type Light (power: SwitchPower, brightness: Dimming),
// Thermometer (temperature: TemperatureSensor) or Plug (power: SwitchPower) by i % 3; a name
// such as "Living room lamp"; both demo accounts; credentials.default = the demo admin (so that
// the devices can connect to each other through ConnectionManager); max 8 connections.
std::vector<DeviceConfig> make_home_configs(const HomeOptions& options);

// A fixed UUID per index: "d0e5e000-0000-4000-8000-" followed by the index in 12 digits.
std::string home_device_id(std::size_t index);
std::string home_device_name(std::size_t index);

}  // namespace homep2p::tools
