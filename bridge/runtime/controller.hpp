// The bridge's controller (model: Zigbee2MQTT's lib/controller.ts): builds the event bus, the
// MQTT link, the device registry, the HomeP2P node and the ordered list of extensions; runs all
// bridge logic on one thread (its io_context); turns Node events into registry changes and bus
// events; implements DeviceActions on the Node (connect, rent services, invoke, ConnectionManager,
// desired connections with retry back-off); saves the desired state.
#pragma once

#include <memory>

#include "bridge_config.hpp"
#include "core/mappings.hpp"
#include "homep2p/result.hpp"

namespace peer2mqtt {

class Controller {
 public:
  Controller(BridgeConfig config, Mappings mappings);
  ~Controller();  // stop()
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Starts the node (LAN), the MQTT link (connects in the background, retrying) and the
  // extensions. Errors: the LAN side could not start (interface, port).
  homep2p::Result<void> start();
  // bridge/state offline, Disconnect NORMAL to every device, bye-bye, state saved. Idempotent.
  void stop();

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace peer2mqtt
