// The bridge's extensions, one .cpp file each (model: Zigbee2MQTT's lib/extension/). Each file
// defines its class privately and exposes only a factory; runtime/controller.cpp lists them, in
// order, in one place. Tests: tests/unit/bridge/extensions/<file>_test.cpp.
#pragma once

#include <memory>

#include "core/extension.hpp"

namespace peer2mqtt {

// bridge/state (online; the will says offline), bridge/info, bridge/devices, bridge/event.
std::unique_ptr<Extension> make_bridge_state_extension(BridgeContext& context);
// <device> (retained JSON state) and <device>/availability.
std::unique_ptr<Extension> make_device_state_extension(BridgeContext& context);
// bridge/request/<command> -> bridge/response/<command>, by table, with transaction ids.
std::unique_ptr<Extension> make_bridge_api_extension(BridgeContext& context);
// <device>/set: connection, connect_to / disconnect_from, service invocations.
std::unique_ptr<Extension> make_device_commands_extension(BridgeContext& context);
// Home Assistant MQTT discovery, driven by mappings/*.json.
std::unique_ptr<Extension> make_home_assistant_extension(BridgeContext& context);

}  // namespace peer2mqtt
