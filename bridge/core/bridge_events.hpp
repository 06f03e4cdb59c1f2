// The events extensions exchange over the EventBus (model: Zigbee2MQTT's eventBus). Each names
// what happened; the data itself is in the DeviceRegistry.
#pragma once

#include <string>
#include <variant>
#include <vector>

namespace peer2mqtt {

struct BridgeStarted {};                 // all extensions started; publish initial state
struct MqttConnected {};                 // (re)connected to the broker (after resubscribing)
struct MqttReceived {                    // a message on a topic some extension subscribed to
  std::string topic;
  std::string payload;
};
struct HomeAssistantOnline {};           // homeassistant/status = online (after a short delay)
struct DeviceAnnounced {                 // discovered or updated
  std::string device_id;
  bool is_new = false;
};
struct DeviceAvailabilityChanged {       // available flipped (announce / bye-bye / max-age)
  std::string device_id;
  std::string cause;                     // "announce", "byebye", "expired"
};
struct DeviceStateChanged {              // anything in the record that the state topic shows
  std::string device_id;
};
struct ConnectionAttempted {             // the bridge's own connection attempt ended
  std::string device_id;
  std::string result;                    // SUCCESS, OVERLOAD, ACCESSDENIED, LOCAL:<why>
  std::string detail;
};
struct DeviceRenamed {
  std::string device_id;
  std::string old_name;
};
struct DeviceRemoved {                   // already gone from the registry
  std::string device_id;
  std::string friendly_name;
  std::vector<std::string> service_ids;  // its rented services (their entities go too)
};
struct DevicesChanged {};                // the set of devices or their summary changed

using BridgeEvent =
    std::variant<BridgeStarted, MqttConnected, MqttReceived, HomeAssistantOnline, DeviceAnnounced,
                 DeviceAvailabilityChanged, DeviceStateChanged, ConnectionAttempted, DeviceRenamed,
                 DeviceRemoved, DevicesChanged>;

const char* event_name(const BridgeEvent& event);

}  // namespace peer2mqtt
