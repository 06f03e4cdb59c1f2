// bridge/state, bridge/info, bridge/devices and bridge/event (docs/MQTT.md). Retained topics are
// republished only when their payload changes, except after (re)connecting to the broker, where
// everything is sent again (a broker restarted without persistence forgot it, Z2M #9629).
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/payloads.hpp"
#include "homep2p/json_writing.hpp"
#include "core/topics.hpp"
#include "extensions.hpp"

namespace peer2mqtt {

namespace {

using JsonWriter = homep2p::json::Writer;
using homep2p::json::write_key;
using homep2p::json::write_string;

struct Counts {
  std::size_t devices = 0;
  std::size_t available = 0;
  std::size_t connected = 0;
  std::size_t wanted = 0;
  bool operator==(const Counts&) const = default;
};

class BridgeStateExtension : public Extension {
 public:
  explicit BridgeStateExtension(BridgeContext& context)
      : Extension(context), topics_(context.settings.base_topic, context.settings.homeassistant_prefix) {}

  std::string name() const override { return "bridge_state"; }

  void start() override {
    ctx_.bus.subscribe(name(), [this](const BridgeEvent& event) { on_event(event); });
  }

 private:
  void on_event(const BridgeEvent& event) {
    std::visit(
        [this](const auto& e) {
          using T = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<T, BridgeStarted> || std::is_same_v<T, MqttConnected>) {
            publish_all();
          } else if constexpr (std::is_same_v<T, DeviceAnnounced>) {
            if (e.is_new) announce_event(e.device_id);
            refresh();
          } else if constexpr (std::is_same_v<T, DeviceAvailabilityChanged>) {
            left_event(e);
            refresh();
          } else if constexpr (std::is_same_v<T, ConnectionAttempted>) {
            attempt_event(e);
            refresh();
          } else if constexpr (std::is_same_v<T, DeviceStateChanged>) {
            link_event(e.device_id);
            refresh();
          } else if constexpr (std::is_same_v<T, DeviceRemoved>) {
            links_.erase(e.device_id);
            refresh();
          } else if constexpr (std::is_same_v<T, DeviceRenamed> || std::is_same_v<T, DevicesChanged>) {
            refresh();
          }
        },
        event);
  }

  void publish(const std::string& topic, std::string payload, bool retain) {
    ctx_.mqtt.publish(MqttMessage{topic, std::move(payload), retain, 1});
  }

  // After start and every (re)connect: everything, whether it changed or not.
  void publish_all() {
    publish(topics_.bridge_state(), availability_json(true), true);
    // Devices connected before we saw any event of theirs: a later drop must still be news. Known
    // entries stay as they are, or a drop already in the registry but not yet delivered is lost.
    for (const auto& [id, record] : ctx_.devices.all()) links_.try_emplace(id, record.link);
    publish_info(true);
    publish_devices(true);
  }

  // Any device event: info only if its counts moved, devices only if its text did.
  void refresh() {
    publish_info(false);
    publish_devices(false);
  }

  Counts counts() const {
    Counts c;
    for (const auto& [id, record] : ctx_.devices.all()) {
      ++c.devices;
      c.available += record.available ? 1 : 0;
      c.connected += record.link == LinkState::Connected ? 1 : 0;
      c.wanted += record.wanted ? 1 : 0;
    }
    return c;
  }

  void publish_info(bool force) {
    const Counts now = counts();
    if (!force && info_counts_ == now) return;
    info_counts_ = now;
    publish(topics_.bridge_info(), info_json(now), true);
  }

  // Only what BridgeSettings holds, which by design has no secrets (no MQTT password, no
  // device credentials, no keys).
  std::string info_json(const Counts& c) const {
    const BridgeSettings& s = ctx_.settings;
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    write_key(w, "version");
    write_string(w, s.version);
    write_key(w, "bridge_device_id");
    write_string(w, s.bridge_device_id);
    write_key(w, "bridge_name");
    write_string(w, s.bridge_name);
    write_key(w, "config");
    w.StartObject();
    write_key(w, "base_topic");
    write_string(w, s.base_topic);
    write_key(w, "homeassistant");
    w.StartObject();
    write_key(w, "enabled");
    w.Bool(s.homeassistant_enabled);
    write_key(w, "prefix");
    write_string(w, s.homeassistant_prefix);
    w.EndObject();
    write_key(w, "mqtt_server");
    write_string(w, s.mqtt_server);
    write_key(w, "interface");
    write_string(w, s.lan_interface);
    write_key(w, "log_level");
    write_string(w, s.log_level);
    write_key(w, "lease_seconds");
    w.Uint(s.lease_seconds);
    w.EndObject();
    write_key(w, "counts");
    w.StartObject();
    write_key(w, "devices");
    w.Uint64(c.devices);
    write_key(w, "available");
    w.Uint64(c.available);
    write_key(w, "connected");
    w.Uint64(c.connected);
    write_key(w, "wanted");
    w.Uint64(c.wanted);
    w.EndObject();
    w.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize());
  }

  void publish_devices(bool force) {
    std::string payload = devices_json(ctx_.devices);
    if (!force && last_devices_ == payload) return;
    last_devices_ = payload;
    publish(topics_.bridge_devices(), std::move(payload), true);
  }

  // ---- bridge/event (not retained: an event is news, not state) ----

  // `fill` writes the fields of "data" after device_id and friendly_name.
  template <typename Fill>
  void publish_event(std::string_view type, const DeviceRecord& device, Fill fill) {
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    write_key(w, "type");
    write_string(w, type);
    write_key(w, "data");
    w.StartObject();
    write_key(w, "device_id");
    write_string(w, device.device_id);
    write_key(w, "friendly_name");
    write_string(w, device.friendly_name);
    fill(w);
    w.EndObject();
    w.EndObject();
    publish(topics_.bridge_event(), std::string(buffer.GetString(), buffer.GetSize()), false);
  }

  void announce_event(const std::string& device_id) {
    const DeviceRecord* device = ctx_.devices.find(device_id);
    if (device == nullptr) return;
    publish_event("device_announced", *device, [device](JsonWriter& w) {
      write_key(w, "type");
      if (device->announce) {
        write_string(w, device->announce->device_type);
      } else {
        w.Null();
      }
    });
  }

  void left_event(const DeviceAvailabilityChanged& e) {
    const DeviceRecord* device = ctx_.devices.find(e.device_id);
    if (device == nullptr || device->available) return;  // came back: not news here
    publish_event("device_left", *device, [&e](JsonWriter& w) {
      write_key(w, "cause");
      write_string(w, e.cause);
    });
  }

  void attempt_event(const ConnectionAttempted& e) {
    const DeviceRecord* device = ctx_.devices.find(e.device_id);
    if (device == nullptr) return;
    links_[e.device_id] = device->link;  // this event reports the change; link_event must not repeat it
    publish_event("connection_changed", *device, [&e, device](JsonWriter& w) {
      write_key(w, "result");
      write_string(w, e.result);
      write_key(w, "detail");
      write_string(w, e.detail);
      write_key(w, "connection");
      write_string(w, to_string(device->link));
      if (e.result != "SUCCESS") {
        write_key(w, "error");
        w.Bool(true);
      }
    });
  }

  // A connection that ended without an attempt to report it (disconnect command, device gone,
  // protocol error). Changes into connected or failed come with a ConnectionAttempted, which
  // carries the result; reporting them here too would say the same thing twice, in whichever
  // order the controller publishes the two events.
  void link_event(const std::string& device_id) {
    const DeviceRecord* device = ctx_.devices.find(device_id);
    if (device == nullptr) return;
    const auto [it, inserted] = links_.try_emplace(device_id, LinkState::Disconnected);
    const LinkState before = it->second;
    it->second = device->link;
    if (before != LinkState::Connected || device->link == LinkState::Connected) return;
    publish_event("connection_changed", *device, [device](JsonWriter& w) {
      write_key(w, "connection");
      write_string(w, to_string(device->link));
      write_key(w, "reason");
      if (device->last_disconnect_reason) {
        write_string(w, *device->last_disconnect_reason);
      } else {
        w.Null();
      }
      write_key(w, "detail");
      write_string(w, device->last_detail);
      if (device->link == LinkState::Failed || device->last_disconnect_reason.value_or("NORMAL") != "NORMAL") {
        write_key(w, "error");
        w.Bool(true);
      }
    });
  }

  Topics topics_;
  std::optional<Counts> info_counts_;        // counts in the last bridge/info published
  std::optional<std::string> last_devices_;  // the last bridge/devices published
  std::map<std::string, LinkState> links_;   // the link state last seen per device id
};

}  // namespace

std::unique_ptr<Extension> make_bridge_state_extension(BridgeContext& context) {
  return std::make_unique<BridgeStateExtension>(context);
}

}  // namespace peer2mqtt
