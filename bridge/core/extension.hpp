// A bridge extension (model: Zigbee2MQTT's lib/extension/*): one file each, one concern each.
// The constructor only stores what it gets; start() subscribes to the bus (keyed by name()) and
// to MQTT topics; stop() removes every listener it registered. The list of extensions is in
// runtime/controller.cpp, in one place.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "bridge_settings.hpp"
#include "device_actions.hpp"
#include "device_registry.hpp"
#include "event_bus.hpp"
#include "mqtt_port.hpp"

namespace peer2mqtt {

class Mappings;  // mappings.hpp

// Everything an extension may use. All references outlive the extensions.
struct BridgeContext {
  EventBus& bus;
  MqttPort& mqtt;
  DeviceRegistry& devices;
  DeviceActions& actions;
  const BridgeSettings& settings;
  const Mappings& mappings;
  std::function<std::int64_t()> unix_now;  // wall clock, seconds (last_seen, timestamps)
};

class Extension {
 public:
  explicit Extension(BridgeContext& context) : ctx_(context) {}
  virtual ~Extension() = default;
  Extension(const Extension&) = delete;
  Extension& operator=(const Extension&) = delete;

  virtual std::string name() const = 0;
  virtual void start() = 0;
  virtual void stop() { ctx_.bus.unsubscribe(name()); }

 protected:
  BridgeContext& ctx_;
};

}  // namespace peer2mqtt
