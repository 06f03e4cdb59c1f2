// Home Assistant MQTT discovery (model: Zigbee2MQTT's lib/extension/homeassistant.ts).
//
// Every device gets a binary_sensor (connected), a switch (the bridge's connection), two
// sensors (last result; connection count with the peers as attributes) and the entities that
// mappings/*.json name for each service the bridge rented on it. The bridge is a device too,
// with a search button. Configs are retained; the extension remembers what it published per
// device so that an entity that disappears gets an empty retained config (which removes it
// from Home Assistant) and an unchanged config is not sent again.
//
// Everything is re-sent on BridgeStarted, MqttConnected, HomeAssistantOnline and on
// <prefix>/status = "online" received directly: the extension cannot wait (no clock, no timer),
// so it republishes at once when Home Assistant says online; a runtime that also delays a
// HomeAssistantOnline event (Z2M does, after a random delay) gets a second, harmless round.
#include "extensions.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/mappings.hpp"
#include "core/topics.hpp"

namespace peer2mqtt {

namespace {

using Allocator = rapidjson::Document::AllocatorType;

constexpr std::string_view kOriginName = "peer2mqtt";
constexpr std::string_view kDeviceManufacturer = "HomeP2P";
constexpr std::string_view kUniqueSuffix = "_peer2mqtt";
constexpr std::string_view kAvailabilityTemplate = "{{ value_json.state }}";
constexpr std::string_view kConnectedTemplate = "{{ 'ON' if value_json.connection == 'connected' else 'OFF' }}";
// The built-in entities of every device; mapped entities never take these object ids.
constexpr std::string_view kConnected = "connected";
constexpr std::string_view kConnection = "connection";
constexpr std::string_view kLastResult = "last_result";
constexpr std::string_view kConnectionCount = "connection_count";

rapidjson::Value str(std::string_view s, Allocator& a) {
  return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

// Device ids are UUIDs; a discovery topic level without dashes, as Z2M's node ids are.
std::string compact_id(std::string_view id) {
  std::string out;
  for (char c : id) {
    if (c != '-') out += c;
  }
  return out;
}

// An object id level: [a-z0-9_] only (service ids come from devices).
std::string sanitize_object_id(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    out += ok ? c : '_';
  }
  return out.empty() ? std::string("entity") : out;
}

// Home Assistant's entity id part from a friendly name: lowercase words joined by '_'.
std::string slug(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      out += c;
    } else if (!out.empty() && out.back() != '_') {
      out += '_';
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

// One entity before the common fields are added: its component fields only.
struct EntitySpec {
  std::string component;
  std::string object_id;  // unique within its device
  std::string name;
  rapidjson::Document config;
};

// What the common fields of a device's entities are made of.
struct Owner {
  std::string unique_prefix;  // unique ids: <unique_prefix>_<object_id>_peer2mqtt
  std::string node_id;        // discovery topic level
  std::string entity_prefix;  // default entity ids: <component>.<entity_prefix>_<object_id>
  std::string identifier;
  std::string device_name;
  std::string model;
  std::string manufacturer;
  std::string sw_version;
  std::string via_device;  // empty for the bridge itself
  std::vector<std::string> availability_topics;
};

EntitySpec make_spec(std::string_view component, std::string_view object_id, std::string_view name) {
  EntitySpec spec{std::string(component), std::string(object_id), std::string(name), rapidjson::Document()};
  spec.config.SetObject();
  return spec;
}

void set(rapidjson::Document& doc, std::string_view key, std::string_view value) {
  auto& a = doc.GetAllocator();
  doc.AddMember(str(key, a), str(value, a), a);
}

// Not an overload of set(): a string literal would convert to bool before std::string_view.
void set_bool(rapidjson::Document& doc, std::string_view key, bool value) {
  auto& a = doc.GetAllocator();
  doc.AddMember(str(key, a), rapidjson::Value(value), a);
}

// The discovery config of one entity: common fields first, then its component fields (those
// never override the common ones; mappings that try are rejected when loaded).
std::string render(const EntitySpec& spec, const Owner& owner, const BridgeSettings& settings) {
  rapidjson::Document doc;
  doc.SetObject();
  auto& a = doc.GetAllocator();
  const std::string entity = owner.entity_prefix + "_" + spec.object_id;
  set(doc, "name", spec.name);
  set(doc, "unique_id", owner.unique_prefix + "_" + spec.object_id + std::string(kUniqueSuffix));
  // object_id: what Home Assistant before 2025.10 reads for the entity id; default_entity_id
  // replaces it from 2025.10 (object_id stops working in 2026.4). Unknown keys are dropped by
  // Home Assistant's discovery schemas, so both are sent.
  set(doc, "object_id", entity);
  set(doc, "default_entity_id", spec.component + "." + entity);

  rapidjson::Value device(rapidjson::kObjectType);
  rapidjson::Value identifiers(rapidjson::kArrayType);
  identifiers.PushBack(str(owner.identifier, a), a);
  device.AddMember("identifiers", identifiers, a);
  device.AddMember("name", str(owner.device_name, a), a);
  if (!owner.model.empty()) device.AddMember("model", str(owner.model, a), a);
  device.AddMember("manufacturer", str(owner.manufacturer, a), a);
  if (!owner.sw_version.empty()) device.AddMember("sw_version", str(owner.sw_version, a), a);
  if (!owner.via_device.empty()) device.AddMember("via_device", str(owner.via_device, a), a);
  doc.AddMember("device", device, a);

  rapidjson::Value origin(rapidjson::kObjectType);
  origin.AddMember("name", str(kOriginName, a), a);
  origin.AddMember("sw_version", str(settings.version, a), a);
  doc.AddMember("origin", origin, a);

  rapidjson::Value availability(rapidjson::kArrayType);
  for (const auto& topic : owner.availability_topics) {
    rapidjson::Value item(rapidjson::kObjectType);
    item.AddMember("topic", str(topic, a), a);
    item.AddMember("value_template", str(kAvailabilityTemplate, a), a);
    availability.PushBack(item, a);
  }
  doc.AddMember("availability", availability, a);
  set(doc, "availability_mode", "all");

  if (spec.config.IsObject()) {
    for (const auto& member : spec.config.GetObject()) {
      if (doc.HasMember(member.name)) continue;
      doc.AddMember(rapidjson::Value(member.name, a), rapidjson::Value(member.value, a), a);
    }
  }

  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  doc.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

class HomeAssistantExtension final : public Extension {
 public:
  explicit HomeAssistantExtension(BridgeContext& context)
      : Extension(context), topics_(context.settings.base_topic, context.settings.homeassistant_prefix) {}

  std::string name() const override { return "home_assistant"; }

  void start() override {
    if (!ctx_.settings.homeassistant_enabled) return;
    ctx_.bus.subscribe(name(), [this](const BridgeEvent& event) { on_event(event); });
    ctx_.mqtt.subscribe(status_topic());
  }

 private:
  // Home Assistant's birth topic: homeassistant.status_topic, or <prefix>/status by default.
  std::string status_topic() const {
    return ctx_.settings.homeassistant_status_topic.empty() ? topics_.homeassistant_status()
                                                            : ctx_.settings.homeassistant_status_topic;
  }
  using Configs = std::map<std::string, std::string>;  // config topic -> payload

  void on_event(const BridgeEvent& event) {
    if (std::holds_alternative<BridgeStarted>(event) || std::holds_alternative<MqttConnected>(event) ||
        std::holds_alternative<HomeAssistantOnline>(event)) {
      publish_all(true);
    } else if (const auto* received = std::get_if<MqttReceived>(&event)) {
      if (received->topic == status_topic() && trimmed(received->payload) == "online") {
        publish_all(true);
      }
    } else if (const auto* announced = std::get_if<DeviceAnnounced>(&event)) {
      sync_device(announced->device_id, false);
    } else if (const auto* changed = std::get_if<DeviceStateChanged>(&event)) {
      sync_device(changed->device_id, false);
    } else if (const auto* renamed = std::get_if<DeviceRenamed>(&event)) {
      sync_device(renamed->device_id, false);
    } else if (const auto* removed = std::get_if<DeviceRemoved>(&event)) {
      remove_device(removed->device_id);
    } else if (std::holds_alternative<DevicesChanged>(event)) {
      // A device's own configs follow its own events (announced, state changed, renamed,
      // removed, all handled above), so only the bridge's entities and departed devices are
      // left. Re-rendering every device here made each connection change and each re-announce
      // cost O(devices): 71 % of the bridge's CPU with 200 devices (docs/BENCHMARKS.md).
      sync(bridge_published_, bridge_configs(), false);
      drop_departed();
    }
  }

  static std::string_view trimmed(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t')) {
      s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) {
      s.remove_suffix(1);
    }
    return s;
  }

  void publish_all(bool force) {
    sync(bridge_published_, bridge_configs(), force);
    for (const auto& [id, device] : ctx_.devices.all()) sync(published_[id], device_configs(device), force);
    drop_departed();
  }

  // Devices that left the registry without a DeviceRemoved (state file edited, a bug elsewhere).
  void drop_departed() {
    for (auto it = published_.begin(); it != published_.end();) {
      if (ctx_.devices.find(it->first) == nullptr) {
        sync(it->second, {}, false);
        it = published_.erase(it);
      } else {
        ++it;
      }
    }
  }

  void sync_device(const std::string& device_id, bool force) {
    const DeviceRecord* device = ctx_.devices.find(device_id);
    if (device == nullptr) {
      remove_device(device_id);
      return;
    }
    sync(published_[device_id], device_configs(*device), force);
  }

  void remove_device(const std::string& device_id) {
    auto it = published_.find(device_id);
    Configs published = it == published_.end() ? Configs{} : std::move(it->second);
    if (it != published_.end()) published_.erase(it);
    // The built-in entities' topics are known from the id alone: empty them even if this run
    // never published them (removed before the first BridgeStarted, after a restart).
    const std::string node = node_id(device_id);
    for (const auto& [component, object_id] :
         {std::pair{"binary_sensor", kConnected}, std::pair{"switch", kConnection},
          std::pair{"sensor", kLastResult}, std::pair{"sensor", kConnectionCount}}) {
      published.emplace(topics_.discovery_config(component, node, object_id), std::string());
    }
    sync(published, {}, false);
  }

  // Publishes what differs between `published` and `wanted`: an empty retained config for every
  // topic no longer wanted, a config for every new or changed one (every one when `force`).
  void sync(Configs& published, const Configs& wanted, bool force) {
    for (auto it = published.begin(); it != published.end();) {
      if (wanted.count(it->first) == 0) {
        ctx_.mqtt.publish(MqttMessage{it->first, std::string(), true, 1});
        it = published.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& [topic, payload] : wanted) {
      auto it = published.find(topic);
      if (!force && it != published.end() && it->second == payload) continue;
      ctx_.mqtt.publish(MqttMessage{topic, payload, true, 1});
      published[topic] = payload;
    }
  }

  static std::string node_id(std::string_view device_id) { return "peer2mqtt_" + compact_id(device_id); }

  std::string bridge_identifier() const { return "peer2mqtt_bridge_" + ctx_.settings.bridge_device_id; }

  Configs render_all(const std::vector<EntitySpec>& specs, const Owner& owner) const {
    Configs out;
    for (const auto& spec : specs) {
      out[topics_.discovery_config(spec.component, owner.node_id, spec.object_id)] =
          render(spec, owner, ctx_.settings);
    }
    return out;
  }

  Configs bridge_configs() const {
    const BridgeSettings& s = ctx_.settings;
    Owner owner;
    owner.unique_prefix = "bridge_" + s.bridge_device_id;
    owner.node_id = "peer2mqtt_bridge_" + compact_id(s.bridge_device_id);
    owner.entity_prefix = slug(s.bridge_name).empty() ? std::string("peer2mqtt_bridge") : slug(s.bridge_name);
    owner.identifier = bridge_identifier();
    owner.device_name = s.bridge_name;
    owner.model = "Bridge";
    owner.manufacturer = std::string(kOriginName);
    owner.sw_version = s.version;
    owner.availability_topics = {topics_.bridge_state()};

    std::vector<EntitySpec> specs;
    EntitySpec search = make_spec("button", "search", "Search");
    set(search.config, "command_topic", topics_.request_prefix() + "device/search");
    set(search.config, "payload_press", R"({"transaction":"ha-search"})");
    set(search.config, "icon", "mdi:magnify");
    specs.push_back(std::move(search));

    EntitySpec devices = make_spec("sensor", "devices", "Devices");
    set(devices.config, "state_topic", topics_.bridge_info());
    set(devices.config, "value_template", "{{ value_json.counts.devices }}");
    set(devices.config, "icon", "mdi:devices");
    set(devices.config, "entity_category", "diagnostic");
    specs.push_back(std::move(devices));
    return render_all(specs, owner);
  }

  Configs device_configs(const DeviceRecord& d) const {
    const std::string state_topic = topics_.device(d.friendly_name);
    const std::string command_topic = topics_.device_set(d.friendly_name);
    Owner owner;
    owner.unique_prefix = d.device_id;
    owner.node_id = node_id(d.device_id);
    owner.entity_prefix = slug(d.friendly_name).empty() ? compact_id(d.device_id) : slug(d.friendly_name);
    owner.identifier = "peer2mqtt_" + d.device_id;
    owner.device_name = d.friendly_name;
    owner.model = d.announce ? d.announce->device_type : std::string();
    owner.manufacturer = std::string(kDeviceManufacturer);
    owner.via_device = bridge_identifier();
    owner.availability_topics = {topics_.bridge_state(), topics_.availability(d.friendly_name)};

    std::vector<EntitySpec> specs;
    EntitySpec connected = make_spec("binary_sensor", kConnected, "Connected");
    set(connected.config, "device_class", "connectivity");
    set(connected.config, "state_topic", state_topic);
    set(connected.config, "value_template", kConnectedTemplate);
    set(connected.config, "payload_on", "ON");
    set(connected.config, "payload_off", "OFF");
    specs.push_back(std::move(connected));

    EntitySpec connection = make_spec("switch", kConnection, "Connection");
    set(connection.config, "command_topic", command_topic);
    set(connection.config, "payload_on", R"({"connection":"connect"})");
    set(connection.config, "payload_off", R"({"connection":"disconnect"})");
    set(connection.config, "state_topic", state_topic);
    set(connection.config, "value_template", kConnectedTemplate);
    set(connection.config, "state_on", "ON");
    set(connection.config, "state_off", "OFF");
    set_bool(connection.config, "optimistic", false);
    set(connection.config, "icon", "mdi:lan-connect");
    specs.push_back(std::move(connection));

    EntitySpec last_result = make_spec("sensor", kLastResult, "Last result");
    set(last_result.config, "state_topic", state_topic);
    set(last_result.config, "value_template", "{{ value_json.last_result }}");
    set(last_result.config, "icon", "mdi:message-alert-outline");
    set(last_result.config, "entity_category", "diagnostic");
    specs.push_back(std::move(last_result));

    EntitySpec count = make_spec("sensor", kConnectionCount, "Connection count");
    set(count.config, "state_topic", state_topic);
    set(count.config, "value_template", "{{ value_json.connection_count }}");
    set(count.config, "state_class", "measurement");
    set(count.config, "icon", "mdi:lan");
    set(count.config, "json_attributes_topic", state_topic);
    set(count.config, "json_attributes_template",
        "{{ {'peers': value_json.peers, 'max_connections': value_json.max_connections} | tojson }}");
    specs.push_back(std::move(count));

    add_mapped_entities(d, state_topic, command_topic, specs);
    return render_all(specs, owner);
  }

  // One entity per entity of the mapping of every rented service whose type has one.
  void add_mapped_entities(const DeviceRecord& d, const std::string& state_topic, const std::string& command_topic,
                           std::vector<EntitySpec>& specs) const {
    std::set<std::string> taken;
    for (const auto& spec : specs) taken.insert(spec.object_id);
    std::map<std::string, int> per_type;
    for (const auto& [id, service] : d.services) ++per_type[service.type];

    for (const auto& [service_id, service] : d.services) {
      const ServiceMapping* mapping = ctx_.mappings.find(service.type);
      if (mapping == nullptr) continue;
      const PlaceholderValues values{ctx_.settings.base_topic, d.friendly_name, d.device_id,
                                     service_id,               state_topic,     command_topic};
      for (const auto& entity : mapping->entities) {
        std::string object_id = sanitize_object_id(service_id + "_" + entity.object_id);
        // Two service ids that sanitize alike ("a-b", "a_b") still get distinct entities.
        for (int n = 2; taken.count(object_id) != 0; ++n) {
          object_id = sanitize_object_id(service_id + "_" + entity.object_id) + "_" + std::to_string(n);
        }
        taken.insert(object_id);
        // Two services of one type (two relays) would show two entities of one name.
        std::string name = per_type[service.type] > 1 ? entity.name + " (" + service_id + ")" : entity.name;
        specs.push_back(EntitySpec{entity.component, object_id, std::move(name), render_config(entity, values)});
      }
    }
  }

  Topics topics_;
  std::map<std::string, Configs> published_;  // by device id
  Configs bridge_published_;
};

}  // namespace

std::unique_ptr<Extension> make_home_assistant_extension(BridgeContext& context) {
  return std::make_unique<HomeAssistantExtension>(context);
}

}  // namespace peer2mqtt
