#include <gtest/gtest.h>
#include <rapidjson/document.h>

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

class DeviceStateExtensionTest : public ::testing::Test {
 protected:
  DeviceStateExtensionTest() : context_(f.context()), extension_(make_device_state_extension(context_)) {
    extension_->start();
  }

  // Index of the last message on `topic` in the publish log, or -1.
  int index_of_last(const std::string& topic) const {
    for (int i = static_cast<int>(f.mqtt.published.size()) - 1; i >= 0; --i) {
      if (f.mqtt.published[static_cast<std::size_t>(i)].topic == topic) return i;
    }
    return -1;
  }

  BridgeFixture f;
  BridgeContext context_;
  std::unique_ptr<Extension> extension_;
};

TEST_F(DeviceStateExtensionTest, BridgeStartedPublishesEveryDevicesRetainedStateAndAvailability) {
  f.add_device(kLamp, "Lamp");
  DeviceRecord& sw = f.add_device(kSwitch, "Switch");
  sw.available = false;
  f.bus.publish(BridgeStarted{});

  const MqttMessage* lamp_state = f.mqtt.last("peer2mqtt/Lamp");
  ASSERT_NE(lamp_state, nullptr);
  EXPECT_TRUE(lamp_state->retain);
  EXPECT_EQ(lamp_state->payload, device_state_json(*f.devices.find(kLamp), f.devices));
  const MqttMessage* lamp_availability = f.mqtt.last("peer2mqtt/Lamp/availability");
  ASSERT_NE(lamp_availability, nullptr);
  EXPECT_TRUE(lamp_availability->retain);
  EXPECT_EQ(lamp_availability->payload, R"({"state":"online"})");
  ASSERT_NE(f.mqtt.last("peer2mqtt/Switch/availability"), nullptr);
  EXPECT_EQ(f.mqtt.last("peer2mqtt/Switch/availability")->payload, R"({"state":"offline"})");
  EXPECT_NE(f.mqtt.last("peer2mqtt/Switch"), nullptr);
  EXPECT_TRUE(f.mqtt.subscriptions.empty());
}

TEST_F(DeviceStateExtensionTest, StateIsRepublishedOnlyWhenItChanges) {
  DeviceRecord& lamp = f.add_device(kLamp, "Lamp");
  f.bus.publish(BridgeStarted{});
  ASSERT_EQ(f.mqtt.count("peer2mqtt/Lamp"), 1U);

  f.bus.publish(DeviceStateChanged{kLamp});
  f.bus.publish(DeviceAnnounced{kLamp, false});
  EXPECT_EQ(f.mqtt.count("peer2mqtt/Lamp"), 1U);

  lamp.link = LinkState::Connected;
  lamp.last_result = "SUCCESS";
  f.bus.publish(DeviceStateChanged{kLamp});
  EXPECT_EQ(f.mqtt.count("peer2mqtt/Lamp"), 2U);
  const auto doc = BridgeFixture::json(f.mqtt.last("peer2mqtt/Lamp")->payload);
  EXPECT_STREQ(doc["connection"].GetString(), "connected");
  EXPECT_STREQ(doc["last_result"].GetString(), "SUCCESS");
  EXPECT_EQ(f.mqtt.count("peer2mqtt/Lamp/availability"), 1U);  // availability did not change
}

TEST_F(DeviceStateExtensionTest, ServiceStateChangeReachesTheStateTopic) {
  DeviceRecord& lamp = f.add_device(kLamp, "Lamp");
  ServiceView power;
  power.id = "power";
  power.type = "SwitchPower";
  power.state = {{"on", false}};
  lamp.services["power"] = power;
  f.bus.publish(BridgeStarted{});
  lamp.services["power"].state["on"] = true;
  f.bus.publish(DeviceStateChanged{kLamp});
  const auto doc = BridgeFixture::json(f.mqtt.last("peer2mqtt/Lamp")->payload);
  ASSERT_TRUE(doc["power"]["on"].IsBool());
  EXPECT_TRUE(doc["power"]["on"].GetBool());
}

TEST_F(DeviceStateExtensionTest, AvailabilityIsPublishedWhenItFlips) {
  DeviceRecord& lamp = f.add_device(kLamp, "Lamp");
  f.bus.publish(DeviceAnnounced{kLamp, true});
  EXPECT_EQ(f.mqtt.last("peer2mqtt/Lamp/availability")->payload, R"({"state":"online"})");
  lamp.available = false;
  f.bus.publish(DeviceAvailabilityChanged{kLamp, "byebye"});
  EXPECT_EQ(f.mqtt.count("peer2mqtt/Lamp/availability"), 2U);
  EXPECT_EQ(f.mqtt.last("peer2mqtt/Lamp/availability")->payload, R"({"state":"offline"})");
  EXPECT_TRUE(f.mqtt.last("peer2mqtt/Lamp/availability")->retain);
  const auto doc = BridgeFixture::json(f.mqtt.last("peer2mqtt/Lamp")->payload);
  EXPECT_FALSE(doc["available"].GetBool());
  f.bus.publish(DeviceAvailabilityChanged{kLamp, "byebye"});
  EXPECT_EQ(f.mqtt.count("peer2mqtt/Lamp/availability"), 2U);
}

TEST_F(DeviceStateExtensionTest, EveryMqttReconnectRepublishesEverythingEvenUnchanged) {
  f.add_device(kLamp, "Lamp");
  f.bus.publish(BridgeStarted{});
  f.bus.publish(MqttConnected{});
  EXPECT_EQ(f.mqtt.count("peer2mqtt/Lamp"), 2U);
  EXPECT_EQ(f.mqtt.count("peer2mqtt/Lamp/availability"), 2U);
}

TEST_F(DeviceStateExtensionTest, RenameClearsTheOldTopicsThenPublishesUnderTheNewName) {
  f.add_device(kLamp, "Lamp");
  f.bus.publish(BridgeStarted{});
  ASSERT_EQ(f.devices.rename(kLamp, "Desk Lamp"), std::nullopt);
  f.bus.publish(DeviceRenamed{kLamp, "Lamp"});

  const MqttMessage* old_state = f.mqtt.last("peer2mqtt/Lamp");
  const MqttMessage* old_availability = f.mqtt.last("peer2mqtt/Lamp/availability");
  ASSERT_NE(old_state, nullptr);
  ASSERT_NE(old_availability, nullptr);
  EXPECT_EQ(old_state->payload, "");
  EXPECT_TRUE(old_state->retain);
  EXPECT_EQ(old_availability->payload, "");
  EXPECT_TRUE(old_availability->retain);

  const MqttMessage* new_state = f.mqtt.last("peer2mqtt/Desk Lamp");
  ASSERT_NE(new_state, nullptr);
  EXPECT_TRUE(new_state->retain);
  EXPECT_FALSE(new_state->payload.empty());
  ASSERT_NE(f.mqtt.last("peer2mqtt/Desk Lamp/availability"), nullptr);
  EXPECT_EQ(f.mqtt.last("peer2mqtt/Desk Lamp/availability")->payload, R"({"state":"online"})");
  EXPECT_LT(index_of_last("peer2mqtt/Lamp"), index_of_last("peer2mqtt/Desk Lamp"));
}

TEST_F(DeviceStateExtensionTest, RenameUpdatesThePeersNameInOtherDevicesStates) {
  DeviceRecord& lamp = f.add_device(kLamp, "Lamp");
  f.add_device(kSwitch, "Switch");
  lamp.peers.push_back(PeerView{kSwitch, homep2p::Role::Initiator, f.now});
  f.bus.publish(BridgeStarted{});
  ASSERT_EQ(f.devices.rename(kSwitch, "Hall Switch"), std::nullopt);
  f.bus.publish(DeviceRenamed{kSwitch, "Switch"});
  const auto doc = BridgeFixture::json(f.mqtt.last("peer2mqtt/Lamp")->payload);
  EXPECT_STREQ(doc["peers"][0]["device"].GetString(), "Hall Switch");
}

TEST_F(DeviceStateExtensionTest, RemoveClearsBothRetainedTopics) {
  f.add_device(kLamp, "Lamp");
  f.bus.publish(BridgeStarted{});
  const std::size_t before = f.mqtt.published.size();
  f.devices.remove(kLamp);
  f.bus.publish(DeviceRemoved{kLamp, "Lamp", {}});
  ASSERT_GT(f.mqtt.published.size(), before);
  EXPECT_EQ(f.mqtt.last("peer2mqtt/Lamp")->payload, "");
  EXPECT_TRUE(f.mqtt.last("peer2mqtt/Lamp")->retain);
  EXPECT_EQ(f.mqtt.last("peer2mqtt/Lamp/availability")->payload, "");
  EXPECT_TRUE(f.mqtt.last("peer2mqtt/Lamp/availability")->retain);

  // Gone for good: a reconnect does not bring it back.
  f.bus.publish(MqttConnected{});
  EXPECT_EQ(f.mqtt.last("peer2mqtt/Lamp")->payload, "");
}

TEST_F(DeviceStateExtensionTest, EventsForUnknownDevicesPublishNothing) {
  f.bus.publish(DeviceStateChanged{"nobody"});
  f.bus.publish(DeviceAnnounced{"nobody", true});
  f.bus.publish(DeviceAvailabilityChanged{"nobody", "expired"});
  f.bus.publish(DeviceRenamed{"nobody", "old"});
  EXPECT_TRUE(f.mqtt.published.empty());
}

TEST_F(DeviceStateExtensionTest, StopRemovesItsListener) {
  f.add_device(kLamp, "Lamp");
  extension_->stop();
  EXPECT_EQ(f.bus.listener_count(), 0U);
  f.bus.publish(BridgeStarted{});
  EXPECT_TRUE(f.mqtt.published.empty());
}

}  // namespace
}  // namespace peer2mqtt
