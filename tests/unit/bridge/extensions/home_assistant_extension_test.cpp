// Home Assistant discovery: retained configs with unique ids, device block (via the bridge),
// availability = bridge state AND device availability, origin; built-in entities per device,
// mapped entities per rented service that appear and vanish; republish on HA "online"; empty
// retained configs on removal; the bridge as a device with a search button.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "bridge/bridge_fixture.hpp"
#include "core/mappings.hpp"
#include "extensions/extensions.hpp"

namespace peer2mqtt {
namespace {

using test::BridgeFixture;

constexpr const char* kLampId = "11111111-2222-4333-8444-555555555555";
constexpr const char* kLampNode = "peer2mqtt_11111111222243338444555555555555";
constexpr const char* kPlugId = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
constexpr const char* kBridgeNode = "peer2mqtt_bridge_0b0b0b0b0000400080000000000000b0";
constexpr const char* kBridgeIdentifier = "peer2mqtt_bridge_0b0b0b0b-0000-4000-8000-0000000000b0";

std::string config_topic(const std::string& component, const std::string& node, const std::string& object_id) {
  return "homeassistant/" + component + "/" + node + "/" + object_id + "/config";
}

std::string lamp_topic(const std::string& component, const std::string& object_id) {
  return config_topic(component, kLampNode, object_id);
}

class HomeAssistantExtensionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = Mappings::load_directory(std::string(HOMEP2P_SOURCE_DIR) + "/mappings");
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    f.mappings = std::move(loaded).value();
  }

  void start() {
    extension = make_home_assistant_extension(context);
    extension->start();
  }

  static void rent(DeviceRecord& device, const std::string& id, const std::string& type) {
    ServiceView s;
    s.id = id;
    s.type = type;
    device.services[id] = s;
  }

  // The last payload on a topic, parsed (fails the test if there is none or it is empty).
  rapidjson::Document config(const std::string& topic) {
    const MqttMessage* m = f.mqtt.last(topic);
    EXPECT_NE(m, nullptr) << "nothing published on " << topic;
    if (m == nullptr) return rapidjson::Document();
    EXPECT_TRUE(m->retain) << topic;
    EXPECT_FALSE(m->payload.empty()) << topic;
    return BridgeFixture::json(m->payload);
  }

  // Every discovery topic whose latest message is a config (not an empty removal).
  std::set<std::string> live_configs() const {
    std::set<std::string> topics;
    for (const auto& m : f.mqtt.published) {
      if (m.topic.rfind("homeassistant/", 0) != 0 || m.topic.size() < 7 ||
          m.topic.compare(m.topic.size() - 7, 7, "/config") != 0) {
        continue;
      }
      if (m.payload.empty()) {
        topics.erase(m.topic);
      } else {
        topics.insert(m.topic);
      }
    }
    return topics;
  }

  BridgeFixture f;
  BridgeContext context = f.context();
  std::unique_ptr<Extension> extension;
};

TEST_F(HomeAssistantExtensionTest, DisabledPublishesAndSubscribesNothing) {
  f.settings.homeassistant_enabled = false;
  f.add_device(kLampId, "Lamp");
  start();
  f.bus.publish(BridgeStarted{});
  f.bus.publish(MqttConnected{});
  f.bus.publish(DeviceAnnounced{kLampId, true});
  f.bus.publish(MqttReceived{"homeassistant/status", "online"});
  f.bus.publish(HomeAssistantOnline{});
  EXPECT_TRUE(f.mqtt.published.empty());
  EXPECT_TRUE(f.mqtt.subscriptions.empty());
  EXPECT_EQ(f.bus.listener_count(), 0u);
}

TEST_F(HomeAssistantExtensionTest, StartSubscribesToHomeAssistantStatusAndStopUnsubscribes) {
  start();
  EXPECT_EQ(f.mqtt.subscriptions, std::vector<std::string>{"homeassistant/status"});
  EXPECT_EQ(f.bus.listener_count(), 1u);
  extension->stop();
  EXPECT_EQ(f.bus.listener_count(), 0u);
}

TEST_F(HomeAssistantExtensionTest, EveryDeviceGetsRetainedConfigsWithDeviceBlockOriginAndAvailability) {
  f.add_device(kLampId, "Living Lamp", "Light");
  start();
  f.bus.publish(BridgeStarted{});

  const std::vector<std::pair<std::string, std::string>> builtins = {
      {"binary_sensor", "connected"}, {"switch", "connection"}, {"sensor", "last_result"}, {"sensor", "connection_count"}};
  for (const auto& [component, object_id] : builtins) {
    const std::string topic = lamp_topic(component, object_id);
    SCOPED_TRACE(topic);
    const MqttMessage* m = f.mqtt.last(topic);
    ASSERT_NE(m, nullptr);
    EXPECT_TRUE(m->retain);
    auto c = config(topic);
    ASSERT_TRUE(c.IsObject());
    EXPECT_EQ(std::string(c["unique_id"].GetString()), std::string(kLampId) + "_" + object_id + "_peer2mqtt");
    EXPECT_EQ(std::string(c["object_id"].GetString()), "living_lamp_" + object_id);
    EXPECT_EQ(std::string(c["default_entity_id"].GetString()), component + ".living_lamp_" + object_id);
    EXPECT_TRUE(c["name"].IsString());

    const auto& device = c["device"];
    ASSERT_TRUE(device.IsObject());
    ASSERT_TRUE(device["identifiers"].IsArray());
    ASSERT_EQ(device["identifiers"].Size(), 1u);
    EXPECT_EQ(std::string(device["identifiers"][0].GetString()), std::string("peer2mqtt_") + kLampId);
    EXPECT_STREQ(device["name"].GetString(), "Living Lamp");
    EXPECT_STREQ(device["model"].GetString(), "Light");
    EXPECT_STREQ(device["manufacturer"].GetString(), "HomeP2P");
    EXPECT_STREQ(device["via_device"].GetString(), kBridgeIdentifier);

    const auto& origin = c["origin"];
    ASSERT_TRUE(origin.IsObject());
    EXPECT_STREQ(origin["name"].GetString(), "peer2mqtt");
    EXPECT_EQ(std::string(origin["sw_version"].GetString()), f.settings.version);

    const auto& availability = c["availability"];
    ASSERT_TRUE(availability.IsArray());
    ASSERT_EQ(availability.Size(), 2u);
    EXPECT_STREQ(availability[0]["topic"].GetString(), "peer2mqtt/bridge/state");
    EXPECT_STREQ(availability[0]["value_template"].GetString(), "{{ value_json.state }}");
    EXPECT_STREQ(availability[1]["topic"].GetString(), "peer2mqtt/Living Lamp/availability");
    EXPECT_STREQ(availability[1]["value_template"].GetString(), "{{ value_json.state }}");
    EXPECT_STREQ(c["availability_mode"].GetString(), "all");
  }
}

TEST_F(HomeAssistantExtensionTest, ConnectedBinarySensorIsOfClassConnectivity) {
  f.add_device(kLampId, "Lamp");
  start();
  f.bus.publish(BridgeStarted{});
  auto c = config(lamp_topic("binary_sensor", "connected"));
  ASSERT_TRUE(c.IsObject());
  EXPECT_STREQ(c["device_class"].GetString(), "connectivity");
  EXPECT_STREQ(c["state_topic"].GetString(), "peer2mqtt/Lamp");
  EXPECT_STREQ(c["value_template"].GetString(), "{{ 'ON' if value_json.connection == 'connected' else 'OFF' }}");
  EXPECT_STREQ(c["payload_on"].GetString(), "ON");
  EXPECT_STREQ(c["payload_off"].GetString(), "OFF");
}

TEST_F(HomeAssistantExtensionTest, ConnectionSwitchSendsConnectAndDisconnectOnTheSetTopic) {
  f.add_device(kLampId, "Lamp");
  start();
  f.bus.publish(BridgeStarted{});
  auto c = config(lamp_topic("switch", "connection"));
  ASSERT_TRUE(c.IsObject());
  EXPECT_STREQ(c["command_topic"].GetString(), "peer2mqtt/Lamp/set");
  EXPECT_STREQ(c["payload_on"].GetString(), R"({"connection":"connect"})");
  EXPECT_STREQ(c["payload_off"].GetString(), R"({"connection":"disconnect"})");
  EXPECT_STREQ(c["state_topic"].GetString(), "peer2mqtt/Lamp");
  EXPECT_STREQ(c["value_template"].GetString(), "{{ 'ON' if value_json.connection == 'connected' else 'OFF' }}");
  EXPECT_STREQ(c["state_on"].GetString(), "ON");
  EXPECT_STREQ(c["state_off"].GetString(), "OFF");
  ASSERT_TRUE(c["optimistic"].IsBool());
  EXPECT_FALSE(c["optimistic"].GetBool());
  // The payloads are what the device commands extension parses.
  auto on = BridgeFixture::json(c["payload_on"].GetString());
  EXPECT_STREQ(on["connection"].GetString(), "connect");
}

TEST_F(HomeAssistantExtensionTest, LastResultAndConnectionCountSensorsReadTheStateTopic) {
  f.add_device(kLampId, "Lamp");
  start();
  f.bus.publish(BridgeStarted{});
  auto last = config(lamp_topic("sensor", "last_result"));
  ASSERT_TRUE(last.IsObject());
  EXPECT_STREQ(last["state_topic"].GetString(), "peer2mqtt/Lamp");
  EXPECT_STREQ(last["value_template"].GetString(), "{{ value_json.last_result }}");
  EXPECT_TRUE(last.HasMember("icon"));

  auto count = config(lamp_topic("sensor", "connection_count"));
  ASSERT_TRUE(count.IsObject());
  EXPECT_STREQ(count["state_topic"].GetString(), "peer2mqtt/Lamp");
  EXPECT_STREQ(count["value_template"].GetString(), "{{ value_json.connection_count }}");
  EXPECT_STREQ(count["state_class"].GetString(), "measurement");
  EXPECT_STREQ(count["json_attributes_topic"].GetString(), "peer2mqtt/Lamp");
  EXPECT_STREQ(count["json_attributes_template"].GetString(),
               "{{ {'peers': value_json.peers, 'max_connections': value_json.max_connections} | tojson }}");
}

TEST_F(HomeAssistantExtensionTest, TheBridgeIsADeviceWithASearchButton) {
  f.settings.bridge_name = "Home Bridge";
  start();
  f.bus.publish(BridgeStarted{});
  auto button = config(config_topic("button", kBridgeNode, "search"));
  ASSERT_TRUE(button.IsObject());
  EXPECT_STREQ(button["command_topic"].GetString(), "peer2mqtt/bridge/request/device/search");
  EXPECT_STREQ(button["payload_press"].GetString(), R"({"transaction":"ha-search"})");
  EXPECT_EQ(std::string(button["unique_id"].GetString()),
            "bridge_" + f.settings.bridge_device_id + "_search_peer2mqtt");
  EXPECT_STREQ(button["default_entity_id"].GetString(), "button.home_bridge_search");
  const auto& device = button["device"];
  ASSERT_EQ(device["identifiers"].Size(), 1u);
  EXPECT_STREQ(device["identifiers"][0].GetString(), kBridgeIdentifier);
  EXPECT_STREQ(device["name"].GetString(), "Home Bridge");
  EXPECT_FALSE(device.HasMember("via_device"));
  // The bridge's entities depend on the bridge only.
  ASSERT_EQ(button["availability"].Size(), 1u);
  EXPECT_STREQ(button["availability"][0]["topic"].GetString(), "peer2mqtt/bridge/state");
  EXPECT_STREQ(button["availability_mode"].GetString(), "all");
  EXPECT_STREQ(button["origin"]["name"].GetString(), "peer2mqtt");

  auto devices = config(config_topic("sensor", kBridgeNode, "devices"));
  ASSERT_TRUE(devices.IsObject());
  EXPECT_STREQ(devices["state_topic"].GetString(), "peer2mqtt/bridge/info");
  EXPECT_STREQ(devices["value_template"].GetString(), "{{ value_json.counts.devices }}");
}

TEST_F(HomeAssistantExtensionTest, MappedEntitiesAppearForRentedServicesOnly) {
  DeviceRecord& lamp = f.add_device(kLampId, "Lamp");
  start();
  f.bus.publish(BridgeStarted{});
  EXPECT_EQ(f.mqtt.last(lamp_topic("switch", "lamp_power")), nullptr);  // not rented yet

  rent(lamp, "lamp", "SwitchPower");
  rent(lamp, "dimmer", "Dimming");
  rent(lamp, "thermo", "TemperatureSensor");
  rent(lamp, "clock", "NoMappingForThis");
  f.bus.publish(DeviceStateChanged{kLampId});

  auto sw = config(lamp_topic("switch", "lamp_power"));
  ASSERT_TRUE(sw.IsObject());
  EXPECT_STREQ(sw["name"].GetString(), "Power");
  EXPECT_EQ(std::string(sw["unique_id"].GetString()), std::string(kLampId) + "_lamp_power_peer2mqtt");
  EXPECT_STREQ(sw["command_topic"].GetString(), "peer2mqtt/Lamp/set");
  EXPECT_STREQ(sw["state_topic"].GetString(), "peer2mqtt/Lamp");
  EXPECT_STREQ(sw["payload_on"].GetString(), R"({"lamp":{"SetPower":{"on":true}}})");
  EXPECT_STREQ(sw["payload_off"].GetString(), R"({"lamp":{"SetPower":{"on":false}}})");
  EXPECT_STREQ(sw["value_template"].GetString(), "{{ 'ON' if value_json['lamp'].on else 'OFF' }}");
  EXPECT_STREQ(sw["device"]["via_device"].GetString(), kBridgeIdentifier);
  EXPECT_STREQ(sw["availability_mode"].GetString(), "all");

  auto light = config(lamp_topic("light", "dimmer_light"));
  ASSERT_TRUE(light.IsObject());
  EXPECT_STREQ(light["schema"].GetString(), "template");
  EXPECT_STREQ(light["command_off_template"].GetString(), R"({"dimmer":{"SetBrightness":{"brightness":0}}})");
  EXPECT_NE(std::string(light["command_on_template"].GetString()).find(R"({"dimmer":{"SetBrightness":)"),
            std::string::npos);
  EXPECT_NE(std::string(light["brightness_template"].GetString()).find("value_json['dimmer'].brightness"),
            std::string::npos);

  auto temperature = config(lamp_topic("sensor", "thermo_temperature"));
  ASSERT_TRUE(temperature.IsObject());
  EXPECT_STREQ(temperature["device_class"].GetString(), "temperature");
  EXPECT_STREQ(temperature["unit_of_measurement"].GetString(), "°C");
  EXPECT_STREQ(temperature["state_class"].GetString(), "measurement");
  EXPECT_STREQ(temperature["value_template"].GetString(), "{{ value_json['thermo'].temperature }}");

  // 4 built-in + 3 mapped for the lamp, 2 for the bridge; the unmapped service has none.
  EXPECT_EQ(live_configs().size(), 9u);
}

TEST_F(HomeAssistantExtensionTest, AnEntityWhoseServiceIsNoLongerRentedGetsAnEmptyRetainedConfig) {
  DeviceRecord& lamp = f.add_device(kLampId, "Lamp");
  rent(lamp, "lamp", "SwitchPower");
  rent(lamp, "dimmer", "Dimming");
  start();
  f.bus.publish(BridgeStarted{});
  ASSERT_NE(f.mqtt.last(lamp_topic("light", "dimmer_light")), nullptr);
  const std::size_t switch_sends = f.mqtt.count(lamp_topic("switch", "lamp_power"));

  lamp.services.erase("dimmer");
  f.bus.publish(DeviceStateChanged{kLampId});
  const MqttMessage* removed = f.mqtt.last(lamp_topic("light", "dimmer_light"));
  ASSERT_NE(removed, nullptr);
  EXPECT_TRUE(removed->payload.empty());
  EXPECT_TRUE(removed->retain);
  // The switch is unchanged: not sent again.
  EXPECT_EQ(f.mqtt.count(lamp_topic("switch", "lamp_power")), switch_sends);

  // Once removed, it is not removed again on the next change.
  const std::size_t removals = f.mqtt.count(lamp_topic("light", "dimmer_light"));
  f.bus.publish(DeviceStateChanged{kLampId});
  EXPECT_EQ(f.mqtt.count(lamp_topic("light", "dimmer_light")), removals);

  // Rented again: it comes back.
  rent(lamp, "dimmer", "Dimming");
  f.bus.publish(DeviceStateChanged{kLampId});
  EXPECT_FALSE(f.mqtt.last(lamp_topic("light", "dimmer_light"))->payload.empty());
}

TEST_F(HomeAssistantExtensionTest, UnchangedConfigsAreNotRepublishedOnDeviceEvents) {
  DeviceRecord& lamp = f.add_device(kLampId, "Lamp");
  rent(lamp, "lamp", "SwitchPower");
  start();
  f.bus.publish(BridgeStarted{});
  const std::size_t sent = f.mqtt.published.size();
  ASSERT_GT(sent, 0u);
  lamp.services["lamp"].state["on"] = true;  // state values are not part of any config
  lamp.link = LinkState::Connected;
  f.bus.publish(DeviceStateChanged{kLampId});
  f.bus.publish(DeviceAnnounced{kLampId, false});
  f.bus.publish(DevicesChanged{});
  EXPECT_EQ(f.mqtt.published.size(), sent);
}

TEST_F(HomeAssistantExtensionTest, AnnouncedDeviceGetsItsConfigsWithoutWaitingForARepublish) {
  start();
  f.bus.publish(BridgeStarted{});
  f.add_device(kLampId, "Lamp");
  f.bus.publish(DeviceAnnounced{kLampId, true});
  EXPECT_NE(f.mqtt.last(lamp_topic("binary_sensor", "connected")), nullptr);
}

TEST_F(HomeAssistantExtensionTest, HomeAssistantOnlineRepublishesEveryConfig) {
  DeviceRecord& lamp = f.add_device(kLampId, "Lamp");
  rent(lamp, "lamp", "SwitchPower");
  f.add_device(kPlugId, "Plug");
  start();
  f.bus.publish(BridgeStarted{});
  const std::set<std::string> all = live_configs();
  ASSERT_EQ(all.size(), 2u + 5u + 4u);

  f.mqtt.published.clear();
  f.bus.publish(MqttReceived{"homeassistant/status", "offline"});
  f.bus.publish(MqttReceived{"peer2mqtt/other", "online"});
  EXPECT_TRUE(f.mqtt.published.empty());

  f.bus.publish(MqttReceived{"homeassistant/status", "online"});
  EXPECT_EQ(live_configs(), all);
  EXPECT_EQ(f.mqtt.published.size(), all.size());  // each exactly once

  f.mqtt.published.clear();
  f.bus.publish(HomeAssistantOnline{});
  EXPECT_EQ(live_configs(), all);

  f.mqtt.published.clear();
  f.bus.publish(MqttConnected{});
  EXPECT_EQ(live_configs(), all);
}

TEST_F(HomeAssistantExtensionTest, UniqueIdsAndEntityIdsAreUniqueAcrossAllEntities) {
  DeviceRecord& lamp = f.add_device(kLampId, "Lamp");
  rent(lamp, "lamp", "SwitchPower");
  rent(lamp, "dimmer", "Dimming");
  rent(lamp, "relay", "SwitchPower");
  rent(lamp, "connection", "NoMapping");
  // Service "last" + entity "result" would take the built-in "last_result" object id.
  f.mappings.add(ServiceMapping{"Result", "Result.json", {EntityMapping{"sensor", "result", "Result", "{}"}}});
  rent(lamp, "last", "Result");
  DeviceRecord& plug = f.add_device(kPlugId, "Plug");
  rent(plug, "lamp", "SwitchPower");
  start();
  f.bus.publish(BridgeStarted{});

  std::set<std::string> unique_ids;
  std::set<std::string> entity_ids;
  const auto topics = live_configs();
  for (const auto& topic : topics) {
    auto c = config(topic);
    ASSERT_TRUE(c.IsObject());
    EXPECT_TRUE(unique_ids.insert(c["unique_id"].GetString()).second) << "duplicate " << c["unique_id"].GetString();
    EXPECT_TRUE(entity_ids.insert(c["default_entity_id"].GetString()).second)
        << "duplicate " << c["default_entity_id"].GetString();
  }
  EXPECT_EQ(unique_ids.size(), topics.size());
  EXPECT_EQ(topics.size(), 2u + (4u + 4u) + (4u + 1u));
  EXPECT_NE(f.mqtt.last(lamp_topic("sensor", "last_result_2")), nullptr);
  EXPECT_STREQ(config(lamp_topic("sensor", "last_result"))["value_template"].GetString(),
               "{{ value_json.last_result }}");  // the built-in keeps its id

  // Two services of one type: each entity's name says which.
  EXPECT_STREQ(config(lamp_topic("switch", "lamp_power"))["name"].GetString(), "Power (lamp)");
  EXPECT_STREQ(config(lamp_topic("switch", "relay_power"))["name"].GetString(), "Power (relay)");
}

TEST_F(HomeAssistantExtensionTest, ServiceIdsAreSanitizedIntoObjectIds) {
  DeviceRecord& lamp = f.add_device(kLampId, "Lamp");
  rent(lamp, "Main-Switch", "SwitchPower");
  start();
  f.bus.publish(BridgeStarted{});
  auto c = config(lamp_topic("switch", "main_switch_power"));
  ASSERT_TRUE(c.IsObject());
  // The placeholder keeps the real service id: it is what the /set handler looks up.
  EXPECT_STREQ(c["payload_on"].GetString(), R"({"Main-Switch":{"SetPower":{"on":true}}})");
}

TEST_F(HomeAssistantExtensionTest, DeviceRemovedEmptiesEveryConfigItHad) {
  DeviceRecord& lamp = f.add_device(kLampId, "Lamp");
  rent(lamp, "lamp", "SwitchPower");
  rent(lamp, "thermo", "TemperatureSensor");
  f.add_device(kPlugId, "Plug");
  start();
  f.bus.publish(BridgeStarted{});
  std::vector<std::string> lamp_topics;
  for (const auto& t : live_configs()) {
    if (t.find(kLampNode) != std::string::npos) lamp_topics.push_back(t);
  }
  ASSERT_EQ(lamp_topics.size(), 6u);
  const std::size_t others = live_configs().size() - lamp_topics.size();

  ASSERT_TRUE(f.devices.remove(kLampId));
  f.bus.publish(DeviceRemoved{kLampId, "Lamp", {"lamp", "thermo"}});
  for (const auto& t : lamp_topics) {
    const MqttMessage* m = f.mqtt.last(t);
    ASSERT_NE(m, nullptr);
    EXPECT_TRUE(m->payload.empty()) << t;
    EXPECT_TRUE(m->retain) << t;
  }
  EXPECT_EQ(live_configs().size(), others);  // the plug's and the bridge's stay

  // Gone for good: a later republish does not bring them back.
  f.bus.publish(HomeAssistantOnline{});
  for (const auto& t : lamp_topics) EXPECT_TRUE(f.mqtt.last(t)->payload.empty()) << t;
}

TEST_F(HomeAssistantExtensionTest, DeviceRemovedBeforeAnyPublishStillEmptiesItsBuiltInConfigs) {
  start();  // e.g. removed right after a restart, before BridgeStarted
  f.bus.publish(DeviceRemoved{kLampId, "Lamp", {}});
  for (const auto& [component, object_id] : std::vector<std::pair<std::string, std::string>>{
           {"binary_sensor", "connected"}, {"switch", "connection"}, {"sensor", "last_result"},
           {"sensor", "connection_count"}}) {
    const MqttMessage* m = f.mqtt.last(lamp_topic(component, object_id));
    ASSERT_NE(m, nullptr) << object_id;
    EXPECT_TRUE(m->payload.empty());
    EXPECT_TRUE(m->retain);
  }
}

TEST_F(HomeAssistantExtensionTest, DeviceRenamedRepublishesOnTheSameTopicsWithTheNewName) {
  DeviceRecord& lamp = f.add_device(kLampId, "Lamp");
  rent(lamp, "lamp", "SwitchPower");
  start();
  f.bus.publish(BridgeStarted{});
  const auto before = live_configs();
  const std::size_t sends = f.mqtt.count(lamp_topic("switch", "connection"));

  ASSERT_FALSE(f.devices.rename(kLampId, "Kitchen").has_value());
  f.bus.publish(DeviceRenamed{kLampId, "Lamp"});
  EXPECT_EQ(live_configs(), before);  // topics use the device id
  EXPECT_EQ(f.mqtt.count(lamp_topic("switch", "connection")), sends + 1);
  auto c = config(lamp_topic("switch", "connection"));
  ASSERT_TRUE(c.IsObject());
  EXPECT_STREQ(c["device"]["name"].GetString(), "Kitchen");
  EXPECT_STREQ(c["state_topic"].GetString(), "peer2mqtt/Kitchen");
  EXPECT_STREQ(c["command_topic"].GetString(), "peer2mqtt/Kitchen/set");
  EXPECT_STREQ(c["availability"][1]["topic"].GetString(), "peer2mqtt/Kitchen/availability");
  EXPECT_EQ(std::string(c["unique_id"].GetString()), std::string(kLampId) + "_connection_peer2mqtt");
  auto sw = config(lamp_topic("switch", "lamp_power"));
  EXPECT_STREQ(sw["command_topic"].GetString(), "peer2mqtt/Kitchen/set");
}

TEST_F(HomeAssistantExtensionTest, ConfiguredBaseTopicAndDiscoveryPrefixAreUsed) {
  f.settings.base_topic = "p2m";
  f.settings.homeassistant_prefix = "ha";
  DeviceRecord& lamp = f.add_device(kLampId, "Lamp");
  rent(lamp, "lamp", "SwitchPower");
  start();
  EXPECT_EQ(f.mqtt.subscriptions, std::vector<std::string>{"ha/status"});
  f.bus.publish(BridgeStarted{});
  const std::string topic = std::string("ha/switch/") + kLampNode + "/lamp_power/config";
  const MqttMessage* m = f.mqtt.last(topic);
  ASSERT_NE(m, nullptr);
  auto c = BridgeFixture::json(m->payload);
  EXPECT_STREQ(c["command_topic"].GetString(), "p2m/Lamp/set");
  EXPECT_STREQ(c["availability"][0]["topic"].GetString(), "p2m/bridge/state");
  f.mqtt.published.clear();
  f.bus.publish(MqttReceived{"ha/status", "online"});
  EXPECT_NE(f.mqtt.last(topic), nullptr);
}

TEST_F(HomeAssistantExtensionTest, AConfiguredStatusTopicIsTheOneListenedTo) {
  f.settings.homeassistant_status_topic = "hass/birth";
  DeviceRecord& lamp = f.add_device(kLampId, "Lamp");
  rent(lamp, "lamp", "SwitchPower");
  start();
  EXPECT_EQ(f.mqtt.subscriptions, std::vector<std::string>{"hass/birth"});
  f.mqtt.published.clear();
  f.bus.publish(MqttReceived{"homeassistant/status", "online"});
  EXPECT_TRUE(f.mqtt.published.empty());
  f.bus.publish(MqttReceived{"hass/birth", "online"});
  EXPECT_FALSE(f.mqtt.published.empty());
}

TEST_F(HomeAssistantExtensionTest, QuotesInFriendlyNamesStayValidJson) {
  f.add_device(kLampId, R"(Bob's "big" lamp \ 2)");
  start();
  f.bus.publish(BridgeStarted{});
  auto c = config(lamp_topic("sensor", "last_result"));
  ASSERT_TRUE(c.IsObject());
  EXPECT_STREQ(c["device"]["name"].GetString(), R"(Bob's "big" lamp \ 2)");
  EXPECT_STREQ(c["default_entity_id"].GetString(), "sensor.bob_s_big_lamp_2_last_result");
}

}  // namespace
}  // namespace peer2mqtt
