#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "bridge/bridge_fixture.hpp"
#include "core/payloads.hpp"
#include "extensions/extensions.hpp"

namespace peer2mqtt {
namespace {

using test::BridgeFixture;

constexpr const char* kLamp = "aaaaaaaa-1111-4000-8000-000000000001";
constexpr const char* kSwitch = "bbbbbbbb-2222-4000-8000-000000000002";

class BridgeStateExtensionTest : public ::testing::Test {
 protected:
  BridgeStateExtensionTest() : context_(f.context()), extension_(make_bridge_state_extension(context_)) {
    extension_->start();
  }

  // Every bridge/event payload published so far, parsed.
  std::vector<rapidjson::Document> events() const {
    std::vector<rapidjson::Document> out;
    for (const auto& m : f.mqtt.published) {
      if (m.topic == f.topics.bridge_event()) out.push_back(BridgeFixture::json(m.payload));
    }
    return out;
  }

  BridgeFixture f;
  BridgeContext context_;
  std::unique_ptr<Extension> extension_;
};

// Every member name anywhere in the document, lower-cased.
void collect_keys(const rapidjson::Value& v, std::vector<std::string>& keys) {
  if (v.IsObject()) {
    for (const auto& m : v.GetObject()) {
      std::string k(m.name.GetString(), m.name.GetStringLength());
      std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return std::tolower(c); });
      keys.push_back(k);
      collect_keys(m.value, keys);
    }
  } else if (v.IsArray()) {
    for (const auto& e : v.GetArray()) collect_keys(e, keys);
  }
}

TEST_F(BridgeStateExtensionTest, SubscribesToNoMqttTopic) {
  f.bus.publish(BridgeStarted{});
  EXPECT_TRUE(f.mqtt.subscriptions.empty());
}

TEST_F(BridgeStateExtensionTest, BridgeStartedPublishesRetainedOnlineInfoAndDevices) {
  f.add_device(kLamp, "Lamp");
  f.bus.publish(BridgeStarted{});
  const MqttMessage* state = f.mqtt.last("peer2mqtt/bridge/state");
  ASSERT_NE(state, nullptr);
  EXPECT_EQ(state->payload, R"({"state":"online"})");
  EXPECT_TRUE(state->retain);
  const MqttMessage* info = f.mqtt.last("peer2mqtt/bridge/info");
  ASSERT_NE(info, nullptr);
  EXPECT_TRUE(info->retain);
  const MqttMessage* devices = f.mqtt.last("peer2mqtt/bridge/devices");
  ASSERT_NE(devices, nullptr);
  EXPECT_TRUE(devices->retain);
  EXPECT_EQ(devices->payload, devices_json(f.devices));
}

TEST_F(BridgeStateExtensionTest, EveryMqttReconnectRepublishesEverythingEvenUnchanged) {
  f.bus.publish(BridgeStarted{});
  f.bus.publish(MqttConnected{});
  f.bus.publish(MqttConnected{});
  EXPECT_EQ(f.mqtt.count(f.topics.bridge_state()), 3U);
  EXPECT_EQ(f.mqtt.count(f.topics.bridge_info()), 3U);
  EXPECT_EQ(f.mqtt.count(f.topics.bridge_devices()), 3U);
}

TEST_F(BridgeStateExtensionTest, InfoShowsVersionIdsAndConfigWithoutAnySecret) {
  f.bus.publish(BridgeStarted{});
  const auto doc = BridgeFixture::json(f.mqtt.last(f.topics.bridge_info())->payload);
  EXPECT_STREQ(doc["version"].GetString(), "0.1.0");
  EXPECT_STREQ(doc["bridge_device_id"].GetString(), "0b0b0b0b-0000-4000-8000-0000000000b0");
  EXPECT_STREQ(doc["bridge_name"].GetString(), "peer2mqtt");
  const auto& config = doc["config"];
  EXPECT_STREQ(config["base_topic"].GetString(), "peer2mqtt");
  EXPECT_TRUE(config["homeassistant"]["enabled"].GetBool());
  EXPECT_STREQ(config["homeassistant"]["prefix"].GetString(), "homeassistant");
  EXPECT_STREQ(config["mqtt_server"].GetString(), "mqtt://127.0.0.1:1883");
  EXPECT_STREQ(config["interface"].GetString(), "127.0.0.1");
  EXPECT_STREQ(config["log_level"].GetString(), "info");
  EXPECT_EQ(config["lease_seconds"].GetUint(), 600U);

  std::vector<std::string> keys;
  collect_keys(doc, keys);
  for (const auto& k : keys) {
    EXPECT_EQ(k.find("password"), std::string::npos) << k;
    EXPECT_EQ(k.find("key"), std::string::npos) << k;
    EXPECT_EQ(k.find("secret"), std::string::npos) << k;
  }
}

TEST_F(BridgeStateExtensionTest, InfoCountsDevicesAvailableConnectedAndWanted) {
  DeviceRecord& lamp = f.add_device(kLamp, "Lamp");
  lamp.link = LinkState::Connected;
  lamp.wanted = true;
  DeviceRecord& sw = f.add_device(kSwitch, "Switch");
  sw.available = false;
  f.bus.publish(BridgeStarted{});
  const auto doc = BridgeFixture::json(f.mqtt.last(f.topics.bridge_info())->payload);
  const auto& counts = doc["counts"];
  EXPECT_EQ(counts["devices"].GetUint64(), 2U);
  EXPECT_EQ(counts["available"].GetUint64(), 1U);
  EXPECT_EQ(counts["connected"].GetUint64(), 1U);
  EXPECT_EQ(counts["wanted"].GetUint64(), 1U);
}

TEST_F(BridgeStateExtensionTest, InfoIsRepublishedOnlyWhenItsCountsChange) {
  DeviceRecord& lamp = f.add_device(kLamp, "Lamp");
  f.bus.publish(BridgeStarted{});
  ASSERT_EQ(f.mqtt.count(f.topics.bridge_info()), 1U);

  lamp.connection_count = 3;  // shown in devices, not counted in info
  f.bus.publish(DeviceStateChanged{kLamp});
  f.bus.publish(DevicesChanged{});
  EXPECT_EQ(f.mqtt.count(f.topics.bridge_info()), 1U);

  lamp.link = LinkState::Connected;
  f.bus.publish(DeviceStateChanged{kLamp});
  EXPECT_EQ(f.mqtt.count(f.topics.bridge_info()), 2U);
  const auto doc = BridgeFixture::json(f.mqtt.last(f.topics.bridge_info())->payload);
  EXPECT_EQ(doc["counts"]["connected"].GetUint64(), 1U);

  f.add_device(kSwitch, "Switch");
  f.bus.publish(DevicesChanged{});
  EXPECT_EQ(f.mqtt.count(f.topics.bridge_info()), 3U);
}

TEST_F(BridgeStateExtensionTest, DevicesIsRepublishedOnlyWhenItsPayloadChanges) {
  DeviceRecord& lamp = f.add_device(kLamp, "Lamp");
  f.bus.publish(BridgeStarted{});
  ASSERT_EQ(f.mqtt.count(f.topics.bridge_devices()), 1U);

  f.bus.publish(DeviceStateChanged{kLamp});
  f.bus.publish(DevicesChanged{});
  f.bus.publish(DeviceAnnounced{kLamp, false});
  EXPECT_EQ(f.mqtt.count(f.topics.bridge_devices()), 1U);

  lamp.connection_count = 2;
  f.bus.publish(DeviceStateChanged{kLamp});
  EXPECT_EQ(f.mqtt.count(f.topics.bridge_devices()), 2U);
  EXPECT_EQ(f.mqtt.last(f.topics.bridge_devices())->payload, devices_json(f.devices));

  ASSERT_EQ(f.devices.rename(kLamp, "Desk Lamp"), std::nullopt);
  f.bus.publish(DeviceRenamed{kLamp, "Lamp"});
  EXPECT_EQ(f.mqtt.count(f.topics.bridge_devices()), 3U);

  f.devices.remove(kLamp);
  f.bus.publish(DeviceRemoved{kLamp, "Desk Lamp", {}});
  EXPECT_EQ(f.mqtt.count(f.topics.bridge_devices()), 4U);
  EXPECT_EQ(f.mqtt.last(f.topics.bridge_devices())->payload, "[]");
}

TEST_F(BridgeStateExtensionTest, NewDeviceAnnouncedIsAnEventNotRetained) {
  f.add_device(kLamp, "Lamp", "Light");
  f.bus.publish(DeviceAnnounced{kLamp, true});
  f.bus.publish(DeviceAnnounced{kLamp, false});  // a re-announce is not news
  const auto ev = events();
  ASSERT_EQ(ev.size(), 1U);
  EXPECT_FALSE(f.mqtt.last(f.topics.bridge_event())->retain);
  EXPECT_STREQ(ev[0]["type"].GetString(), "device_announced");
  EXPECT_STREQ(ev[0]["data"]["device_id"].GetString(), kLamp);
  EXPECT_STREQ(ev[0]["data"]["friendly_name"].GetString(), "Lamp");
  EXPECT_STREQ(ev[0]["data"]["type"].GetString(), "Light");
}

TEST_F(BridgeStateExtensionTest, DeviceBecomingUnavailableIsADeviceLeftEventWithItsCause) {
  DeviceRecord& lamp = f.add_device(kLamp, "Lamp");
  f.bus.publish(DeviceAvailabilityChanged{kLamp, "announce"});  // still available: no event
  EXPECT_TRUE(events().empty());
  lamp.available = false;
  f.bus.publish(DeviceAvailabilityChanged{kLamp, "expired"});
  const auto ev = events();
  ASSERT_EQ(ev.size(), 1U);
  EXPECT_STREQ(ev[0]["type"].GetString(), "device_left");
  EXPECT_STREQ(ev[0]["data"]["device_id"].GetString(), kLamp);
  EXPECT_STREQ(ev[0]["data"]["friendly_name"].GetString(), "Lamp");
  EXPECT_STREQ(ev[0]["data"]["cause"].GetString(), "expired");
}

TEST_F(BridgeStateExtensionTest, SuccessfulAttemptIsAConnectionChangedEventWithoutError) {
  DeviceRecord& lamp = f.add_device(kLamp, "Lamp");
  lamp.link = LinkState::Connected;
  f.bus.publish(ConnectionAttempted{kLamp, "SUCCESS", ""});
  const auto ev = events();
  ASSERT_EQ(ev.size(), 1U);
  EXPECT_STREQ(ev[0]["type"].GetString(), "connection_changed");
  const auto& data = ev[0]["data"];
  EXPECT_STREQ(data["device_id"].GetString(), kLamp);
  EXPECT_STREQ(data["friendly_name"].GetString(), "Lamp");
  EXPECT_STREQ(data["result"].GetString(), "SUCCESS");
  EXPECT_STREQ(data["detail"].GetString(), "");
  EXPECT_STREQ(data["connection"].GetString(), "connected");
  EXPECT_FALSE(data.HasMember("error"));
}

TEST_F(BridgeStateExtensionTest, FailedAttemptsAreConnectionChangedEventsWithErrorTrue) {
  DeviceRecord& lamp = f.add_device(kLamp, "Lamp");
  lamp.link = LinkState::Failed;
  for (const char* result : {"ACCESSDENIED", "OVERLOAD", "LOCAL:timeout"}) {
    f.bus.publish(ConnectionAttempted{kLamp, result, "it said no"});
  }
  const auto ev = events();
  ASSERT_EQ(ev.size(), 3U);
  EXPECT_STREQ(ev[0]["data"]["result"].GetString(), "ACCESSDENIED");
  EXPECT_STREQ(ev[1]["data"]["result"].GetString(), "OVERLOAD");
  EXPECT_STREQ(ev[2]["data"]["result"].GetString(), "LOCAL:timeout");
  for (const auto& e : ev) {
    EXPECT_STREQ(e["data"]["connection"].GetString(), "failed");
    EXPECT_STREQ(e["data"]["detail"].GetString(), "it said no");
    ASSERT_TRUE(e["data"].HasMember("error"));
    EXPECT_TRUE(e["data"]["error"].GetBool());
  }
}

TEST_F(BridgeStateExtensionTest, ConnectionThatEndsIsAConnectionChangedEventWithItsReason) {
  DeviceRecord& lamp = f.add_device(kLamp, "Lamp");
  lamp.link = LinkState::Connected;
  f.bus.publish(ConnectionAttempted{kLamp, "SUCCESS", ""});
  lamp.link = LinkState::Disconnected;
  lamp.last_disconnect_reason = "NORMAL";
  f.bus.publish(DeviceStateChanged{kLamp});
  f.bus.publish(DeviceStateChanged{kLamp});  // no change since: no second event
  const auto ev = events();
  ASSERT_EQ(ev.size(), 2U);
  const auto& data = ev[1]["data"];
  EXPECT_STREQ(ev[1]["type"].GetString(), "connection_changed");
  EXPECT_STREQ(data["connection"].GetString(), "disconnected");
  EXPECT_STREQ(data["reason"].GetString(), "NORMAL");
  EXPECT_FALSE(data.HasMember("error"));
}

TEST_F(BridgeStateExtensionTest, ConnectionLostToAProtocolErrorIsMarkedAsError) {
  DeviceRecord& lamp = f.add_device(kLamp, "Lamp");
  lamp.link = LinkState::Connected;
  f.bus.publish(DeviceStateChanged{kLamp});  // connected: reported by the attempt, not here
  EXPECT_TRUE(events().empty());
  lamp.link = LinkState::Disconnected;
  lamp.last_disconnect_reason = "PROTOERROR";
  lamp.last_detail = "bad frame";
  f.bus.publish(DeviceStateChanged{kLamp});
  const auto ev = events();
  ASSERT_EQ(ev.size(), 1U);
  EXPECT_STREQ(ev[0]["data"]["reason"].GetString(), "PROTOERROR");
  EXPECT_STREQ(ev[0]["data"]["detail"].GetString(), "bad frame");
  EXPECT_TRUE(ev[0]["data"]["error"].GetBool());
}

TEST_F(BridgeStateExtensionTest, DropOfAConnectionMadeBeforeStartIsStillReported) {
  DeviceRecord& lamp = f.add_device(kLamp, "Lamp");
  lamp.link = LinkState::Connected;
  f.bus.publish(BridgeStarted{});
  lamp.link = LinkState::Disconnected;
  f.bus.publish(MqttConnected{});  // a reconnect in between must not hide the drop
  f.bus.publish(DeviceStateChanged{kLamp});
  const auto ev = events();
  ASSERT_EQ(ev.size(), 1U);
  EXPECT_STREQ(ev[0]["data"]["connection"].GetString(), "disconnected");
}

TEST_F(BridgeStateExtensionTest, AConnectIsReportedOnceWhicheverEventComesFirst) {
  DeviceRecord& lamp = f.add_device(kLamp, "Lamp");
  DeviceRecord& sw = f.add_device(kSwitch, "Switch");
  // Lamp: state change first, then the attempt. Switch: the attempt first.
  lamp.link = LinkState::Connected;
  f.bus.publish(DeviceStateChanged{kLamp});
  f.bus.publish(ConnectionAttempted{kLamp, "SUCCESS", ""});
  sw.link = LinkState::Connected;
  f.bus.publish(ConnectionAttempted{kSwitch, "SUCCESS", ""});
  f.bus.publish(DeviceStateChanged{kSwitch});
  EXPECT_EQ(events().size(), 2U);
}

TEST_F(BridgeStateExtensionTest, EventsForUnknownDevicesPublishNothing) {
  f.bus.publish(DeviceAnnounced{"nobody", true});
  f.bus.publish(DeviceAvailabilityChanged{"nobody", "byebye"});
  f.bus.publish(ConnectionAttempted{"nobody", "SUCCESS", ""});
  f.bus.publish(DeviceStateChanged{"nobody"});
  EXPECT_TRUE(events().empty());
}

TEST_F(BridgeStateExtensionTest, StopRemovesItsListener) {
  ASSERT_EQ(f.bus.listener_count(), 1U);
  extension_->stop();
  EXPECT_EQ(f.bus.listener_count(), 0U);
  f.bus.publish(BridgeStarted{});
  EXPECT_TRUE(f.mqtt.published.empty());
}

}  // namespace
}  // namespace peer2mqtt
