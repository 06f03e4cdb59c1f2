// Every MQTT topic of the contract (docs/MQTT.md), built in one place.
#pragma once

#include <string>
#include <string_view>

namespace peer2mqtt {

class Topics {
 public:
  Topics(std::string base, std::string discovery_prefix)
      : base_(std::move(base)), discovery_(std::move(discovery_prefix)) {}

  const std::string& base() const { return base_; }
  std::string bridge_state() const { return base_ + "/bridge/state"; }
  std::string bridge_info() const { return base_ + "/bridge/info"; }
  std::string bridge_devices() const { return base_ + "/bridge/devices"; }
  std::string bridge_event() const { return base_ + "/bridge/event"; }
  std::string request_filter() const { return base_ + "/bridge/request/#"; }
  std::string request_prefix() const { return base_ + "/bridge/request/"; }
  std::string response(std::string_view command) const { return base_ + "/bridge/response/" + std::string(command); }
  std::string device(std::string_view name) const { return base_ + "/" + std::string(name); }
  std::string device_set(std::string_view name) const { return device(name) + "/set"; }
  std::string device_set_filter() const { return base_ + "/+/set"; }
  std::string availability(std::string_view name) const { return device(name) + "/availability"; }
  // <prefix>/<component>/<node id>/<object id>/config, node id = "peer2mqtt_" + compact id.
  std::string discovery_config(std::string_view component, std::string_view node_id,
                               std::string_view object_id) const {
    return discovery_ + "/" + std::string(component) + "/" + std::string(node_id) + "/" +
           std::string(object_id) + "/config";
  }
  std::string homeassistant_status() const { return discovery_ + "/status"; }

 private:
  std::string base_;
  std::string discovery_;
};

}  // namespace peer2mqtt
