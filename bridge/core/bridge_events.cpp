#include "bridge_events.hpp"

#include <array>

namespace peer2mqtt {

namespace {

// In the order of the BridgeEvent alternatives (checked below): the names in error reports
// ("<owner>/<event name>") and logs.
constexpr std::array<const char*, 11> kEventNames = {
    "bridge_started",         "mqtt_connected",       "mqtt_received",          "home_assistant_online",
    "device_announced",       "device_availability_changed", "device_state_changed", "connection_attempted",
    "device_renamed",         "device_removed",       "devices_changed",
};
static_assert(kEventNames.size() == std::variant_size_v<BridgeEvent>,
              "every BridgeEvent alternative needs a name");

}  // namespace

const char* event_name(const BridgeEvent& event) {
  const std::size_t index = event.index();
  return index < kEventNames.size() ? kEventNames[index] : "unknown_event";
}

}  // namespace peer2mqtt
