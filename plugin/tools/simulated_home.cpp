#include "simulated_home.hpp"

#include <fmt/format.h>

#include <array>

#include "homep2p/crypto.hpp"

namespace homep2p::tools {

namespace {

struct DeviceKind {
  std::string_view type;
  std::string_view noun;
  std::vector<ServiceConfig> services;
};

const std::array<DeviceKind, 3>& kinds() {
  static const std::array<DeviceKind, 3> all{{
      {"Light", "lamp", {{"power", "SwitchPower"}, {"brightness", "Dimming"}}},
      {"Thermometer", "thermometer", {{"temperature", "TemperatureSensor"}}},
      {"Plug", "plug", {{"power", "SwitchPower"}}},
  }};
  return all;
}

// Ten rooms against three kinds: every (room, kind) pair comes once in 30 devices.
constexpr std::array<std::string_view, 10> kRooms{
    "Living room", "Kitchen", "Hall", "Bedroom", "Bathroom",
    "Office", "Garage", "Garden", "Attic", "Cellar",
};

}  // namespace

std::string home_device_id(std::size_t index) {
  return fmt::format("d0e5e000-0000-4000-8000-{:012d}", index);
}

std::string home_device_name(std::size_t index) {
  const auto& kind = kinds()[index % kinds().size()];
  std::string name = fmt::format("{} {}", kRooms[index % kRooms.size()], kind.noun);
  const std::size_t round = index / (kRooms.size() * kinds().size());
  if (round > 0) name += fmt::format(" {}", round + 1);
  return name;
}

std::vector<DeviceConfig> make_home_configs(const HomeOptions& options) {
  // PBKDF2 is slow on purpose: derive each demo key once for all devices.
  const Account admin{std::string(kDemoAdminUser),
                      derive_share_key(kDemoAdminPassword, kDemoAdminUser), AccountRole::Admin};
  const Account user{std::string(kDemoUser), derive_share_key(kDemoUserPassword, kDemoUser),
                     AccountRole::User};

  std::vector<DeviceConfig> configs;
  configs.reserve(options.devices);
  for (std::size_t i = 0; i < options.devices; ++i) {
    const auto& kind = kinds()[i % kinds().size()];
    DeviceConfig c;
    c.device_id = home_device_id(i);
    c.device_type = std::string(kind.type);
    c.friendly_name = home_device_name(i);
    c.interface = options.interface;
    c.port = options.base_port == 0 ? 0 : static_cast<std::uint16_t>(options.base_port + i);
    c.multicast_group = options.group;
    c.multicast_port = options.discovery_port;
    c.auth_required = true;
    c.max_connections = 8;
    c.accounts = {admin, user};
    c.default_credential = Credential{admin.user, admin.key};
    c.services = kind.services;
    configs.push_back(std::move(c));
  }
  return configs;
}

}  // namespace homep2p::tools
