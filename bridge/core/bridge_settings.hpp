// The bridge's settings that extensions read (the whole configuration file is in
// runtime/bridge_config.hpp). No secrets in here: this struct is what bridge/info shows.
#pragma once

#include <cstdint>
#include <string>

namespace peer2mqtt {

struct BridgeSettings {
  std::string version = PEER2MQTT_VERSION;
  std::string base_topic = "peer2mqtt";
  bool homeassistant_enabled = true;
  std::string homeassistant_prefix = "homeassistant";
  std::string homeassistant_status_topic;  // Home Assistant's birth topic; empty: <prefix>/status
  std::string bridge_device_id;     // the bridge's own HomeP2P identity
  std::string bridge_name = "peer2mqtt";
  std::string mqtt_server;          // without credentials
  std::string lan_interface;
  std::string log_level = "info";
  std::uint32_t lease_seconds = 600;
  std::uint32_t search_mx = 2;
};

}  // namespace peer2mqtt
