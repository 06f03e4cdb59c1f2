// <device> (retained JSON state) and <device>/availability (retained {"state":...}) for every
// device in the registry (docs/MQTT.md). A payload is sent only when it differs from the last
// one sent for that device, except after (re)connecting, when all are sent again: the MQTT link
// republishes its retained cache too, but this extension does not count on it.
#include <map>
#include <optional>
#include <string>
#include <type_traits>

#include "core/payloads.hpp"
#include "core/topics.hpp"
#include "extensions.hpp"

namespace peer2mqtt {

namespace {

class DeviceStateExtension : public Extension {
 public:
  explicit DeviceStateExtension(BridgeContext& context)
      : Extension(context), topics_(context.settings.base_topic, context.settings.homeassistant_prefix) {}

  std::string name() const override { return "device_state"; }

  void start() override {
    ctx_.bus.subscribe(name(), [this](const BridgeEvent& event) { on_event(event); });
  }

 private:
  struct Published {
    std::string name;                // friendly name the topics were published under
    std::optional<std::string> state;  // last state payload
    std::optional<bool> available;   // last availability
  };

  void on_event(const BridgeEvent& event) {
    std::visit(
        [this](const auto& e) {
          using T = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<T, BridgeStarted> || std::is_same_v<T, MqttConnected>) {
            refresh_all(true);
          } else if constexpr (std::is_same_v<T, DeviceStateChanged> || std::is_same_v<T, DeviceAnnounced> ||
                               std::is_same_v<T, DeviceAvailabilityChanged>) {
            refresh(e.device_id, false);
          } else if constexpr (std::is_same_v<T, DeviceRenamed>) {
            renamed(e);
          } else if constexpr (std::is_same_v<T, DeviceRemoved>) {
            removed(e);
          } else if constexpr (std::is_same_v<T, DevicesChanged>) {
            // Devices may have come or gone in bulk (state file loaded): send what differs.
            refresh_all(false);
          }
        },
        event);
  }

  void publish(const std::string& topic, std::string payload) {
    ctx_.mqtt.publish(MqttMessage{topic, std::move(payload), true, 1});
  }

  // An empty retained payload makes the broker forget the topic.
  void clear_topics(const std::string& friendly_name) {
    publish(topics_.device(friendly_name), "");
    publish(topics_.availability(friendly_name), "");
  }

  void refresh_all(bool force) {
    for (const auto& [id, record] : ctx_.devices.all()) refresh(record, force);
  }

  void refresh(const std::string& device_id, bool force) {
    const DeviceRecord* record = ctx_.devices.find(device_id);
    if (record != nullptr) refresh(*record, force);
  }

  void refresh(const DeviceRecord& record, bool force) {
    Published& sent = published_[record.device_id];
    if (!sent.name.empty() && sent.name != record.friendly_name) {
      // Renamed without (or before) a DeviceRenamed: the old topics must not linger.
      clear_topics(sent.name);
      force = true;
    }
    sent.name = record.friendly_name;

    std::string state = device_state_json(record, ctx_.devices);
    if (force || sent.state != state) {
      sent.state = state;
      publish(topics_.device(record.friendly_name), std::move(state));
    }
    if (force || sent.available != record.available) {
      sent.available = record.available;
      publish(topics_.availability(record.friendly_name), availability_json(record.available));
    }
  }

  void renamed(const DeviceRenamed& e) {
    const DeviceRecord* record = ctx_.devices.find(e.device_id);
    if (record == nullptr || e.old_name == record->friendly_name) return;
    const auto it = published_.find(e.device_id);
    if (it != published_.end() && it->second.name != e.old_name && it->second.name != record->friendly_name) {
      clear_topics(it->second.name);
    }
    if (!e.old_name.empty()) clear_topics(e.old_name);
    published_[e.device_id].name = record->friendly_name;
    refresh(*record, true);
    // Other devices name this one among their peers: their states changed too.
    refresh_all(false);
  }

  void removed(const DeviceRemoved& e) {
    const auto it = published_.find(e.device_id);
    if (it != published_.end()) {
      if (it->second.name != e.friendly_name && !it->second.name.empty()) clear_topics(it->second.name);
      published_.erase(it);
    }
    if (!e.friendly_name.empty()) clear_topics(e.friendly_name);
    // Peers that listed it now show its id instead of its name.
    refresh_all(false);
  }

  Topics topics_;
  std::map<std::string, Published> published_;  // by device id
};

}  // namespace

std::unique_ptr<Extension> make_device_state_extension(BridgeContext& context) {
  return std::make_unique<DeviceStateExtension>(context);
}

}  // namespace peer2mqtt
