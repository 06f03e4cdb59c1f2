// A device's configuration file (YAML, yaml-cpp). Errors name the file, the key and what was
// expected. Passwords are turned into K (crypto.hpp) while loading and not kept.
// The file format is documented in docs/CONFIG.md and examples/*.yaml.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "homep2p/account_store.hpp"
#include "homep2p/crypto.hpp"
#include "homep2p/messages.hpp"
#include "homep2p/result.hpp"

namespace homep2p {

// The account this device uses when it connects to others.
struct Credential {
  std::string user;
  ShareKey key{};
};

struct ServiceConfig {
  std::string id;
  std::string type;
};

struct DeviceConfig {
  std::string device_id;        // device.id: UUID, stable across restarts (required)
  std::string device_type;      // device.type (required)
  std::string friendly_name;    // device.name (default: the type)
  std::string interface = "127.0.0.1";  // network.interface: a name ("lo") or an address
  std::uint16_t port = 0;       // network.port: TCP listen port, 0 = any free port
  std::string multicast_group = "239.255.77.1";  // network.multicast_group
  std::uint16_t multicast_port = 7788;           // network.multicast_port
  std::uint32_t max_age = 30;   // network.max_age: seconds, 2..86400
  std::uint32_t keepalive_interval = 15;  // network.keepalive: seconds, 1..3600
  bool auth_required = true;    // security.authentication: required | none
  std::uint32_t max_connections = 8;  // security.max_connections: 1..65535
  std::vector<Account> accounts;      // security.accounts: [{user, password, role}]
  std::optional<Credential> default_credential;   // credentials.default: {user, password}
  std::map<std::string, Credential> credentials;  // credentials.devices: {<device id>: {user, password}}
  std::vector<ServiceConfig> services;            // services: [{id, type}]

  // The credential to use towards `device_id`: its own entry, else the default, else none.
  std::optional<Credential> credential_for(std::string_view device_id) const;
};

// `origin` names the source in error messages (usually the file path).
Result<DeviceConfig> parse_device_config(std::string_view yaml_text, std::string_view origin);
Result<DeviceConfig> load_device_config(const std::string& path);

// True for a canonical UUID text (8-4-4-4-12 hex digits).
bool is_uuid(std::string_view text);

}  // namespace homep2p
