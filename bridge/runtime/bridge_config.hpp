// peer2mqtt's configuration file (configuration.yaml, yaml-cpp), with environment overrides.
// Every key, its default and its environment variable are documented in the README
// ("Configuration"). Errors name the file (or variable), the key and what was expected.
// Secrets (MQTT password, device passwords) stay in this struct; BridgeSettings (what
// bridge/info shows) is derived from it without them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bridge_settings.hpp"
#include "homep2p/device_config.hpp"
#include "homep2p/result.hpp"

namespace peer2mqtt {

struct MqttConfig {
  std::string server = "mqtt://127.0.0.1:1883";  // mqtt.server: mqtt://host:port or mqtts://host:port
  std::string user;                              // mqtt.user
  std::string password;                          // mqtt.password (secret)
  std::string client_id;                         // mqtt.client_id (default: peer2mqtt_<8 hex of bridge id>_<4 random hex>)
  std::string base_topic = "peer2mqtt";          // mqtt.base_topic
  std::string ca_file;                           // mqtt.ca (mqtts)
  std::string cert_file;                         // mqtt.cert (client certificate, mqtts)
  std::string key_file;                          // mqtt.key (client key, mqtts)
  bool reject_unauthorized = true;               // mqtt.reject_unauthorized (mqtts)
  std::uint32_t keepalive = 60;                  // mqtt.keepalive seconds
};

struct HomeAssistantConfig {
  bool enabled = true;                    // homeassistant.enabled
  std::string prefix = "homeassistant";   // homeassistant.discovery_prefix
  std::string status_topic;               // homeassistant.status_topic (default <prefix>/status; set by the parser)
};

struct BridgeConfig {
  MqttConfig mqtt;
  HomeAssistantConfig homeassistant;
  // The bridge's own HomeP2P device: bridge.id (UUID, required), bridge.name, plus the same
  // network/security/credentials keys as a device file (homep2p::DeviceConfig; services none).
  homep2p::DeviceConfig device;
  std::string mappings_dir = "mappings";             // mappings (folder)
  std::string state_file = "peer2mqtt-state.json";   // state_file
  std::string log_level = "info";                    // log_level: trace|debug|info|warn|error
  std::uint32_t lease_seconds = 600;                 // lease_seconds: service leases the bridge takes
  std::uint32_t search_mx = 2;                       // search_mx
  // PEER2MQTT_* variables of `environment` that override no key (a typo?): main() warns.
  std::vector<std::string> ignored_environment;

  BridgeSettings settings(std::string_view version) const;  // no secrets
};

// Parses YAML text; `origin` names it in errors. `environment` supplies overrides
// (PEER2MQTT_MQTT_SERVER, ...): pass the process environment, or a map in tests. An empty
// variable counts as unset. Paths are kept as given.
// load_bridge_config also resolves relative paths (mappings, state_file, mqtt.ca/cert/key)
// against the config file's folder and checks that mqtt.ca/cert/key are readable.
homep2p::Result<BridgeConfig> parse_bridge_config(std::string_view yaml_text, std::string_view origin,
                                                  const std::map<std::string, std::string>& environment = {});
homep2p::Result<BridgeConfig> load_bridge_config(const std::string& path,
                                                 const std::map<std::string, std::string>& environment = {});
// The process environment's PEER2MQTT_* variables.
std::map<std::string, std::string> peer2mqtt_environment();

}  // namespace peer2mqtt
