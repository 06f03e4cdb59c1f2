// The JSON payloads of the MQTT contract (docs/MQTT.md), rendered with RapidJSON from the
// registry. Kept apart from the extensions so that every extension renders a device the same way.
#pragma once

#include <string>

#include "device_registry.hpp"

namespace peer2mqtt {

// peer2mqtt/<device>: {"connection","last_result","last_disconnect_reason","connection_count",
// "max_connections","last_seen","peers":[{"device","device_id","role","since"}],
// "<service id>":{<state variables>}...}. Peers are named by friendly name when known.
std::string device_state_json(const DeviceRecord& device, const DeviceRegistry& registry);
// {"state":"online"} / {"state":"offline"}
std::string availability_json(bool online);
// bridge/devices: a compact array, one entry per device (see docs/MQTT.md).
std::string devices_json(const DeviceRegistry& registry);
// An ISO 8601 UTC time ("2026-11-24T04:30:00Z") from unix seconds.
std::string iso8601(std::int64_t unix_seconds);

}  // namespace peer2mqtt
