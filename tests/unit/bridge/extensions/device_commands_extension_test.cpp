// <device>/set commands (docs/MQTT.md §3): connection, connect_to / disconnect_from,
// service invocations, and the command_failed event for everything that cannot run.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <memory>
#include <string>
#include <vector>

#include "bridge/bridge_fixture.hpp"
#include "extensions/extensions.hpp"

namespace peer2mqtt::test {
namespace {

constexpr const char* kLampId = "11111111-0000-4000-8000-000000000001";
constexpr const char* kPlugId = "22222222-0000-4000-8000-000000000002";
constexpr const char* kEventTopic = "peer2mqtt/bridge/event";

class DeviceCommands : public ::testing::Test {
 protected:
  DeviceCommands() {
    homep2p::ArgumentSpec on{"on", homep2p::ValueType::Bool, std::nullopt, std::nullopt};
    DeviceRecord& lamp = f.add_device(kLampId, "Lamp", "Light", {{"lamp", "SwitchPower"}});
    lamp.link = LinkState::Connected;
    lamp.services["lamp"] = ServiceView{"lamp", "SwitchPower", "lease-1",
                                        {homep2p::ActionSpec{"SetPower", {on}, false},
                                         homep2p::ActionSpec{"Toggle", {}, false}},
                                        {{"on", false}}};
    lamp.services["dimmer"] = ServiceView{"dimmer", "Dimming", "lease-2", {}, {}};
    f.add_device(kPlugId, "Plug", "Plug");
    extension_->start();
  }

  DeviceRecord& lamp() { return *f.devices.find(kLampId); }

  void set(const std::string& device, const std::string& payload) {
    f.bus.publish(MqttReceived{"peer2mqtt/" + device + "/set", payload});
  }

  // The command_failed events published so far, as parsed JSON.
  std::vector<rapidjson::Document> failures() const {
    std::vector<rapidjson::Document> out;
    for (const auto& m : f.mqtt.published) {
      EXPECT_EQ(m.topic, kEventTopic) << "a /set command publishes nothing else";
      EXPECT_FALSE(m.retain);
      auto doc = BridgeFixture::json(m.payload);
      EXPECT_STREQ(doc["type"].GetString(), "command_failed");
      out.push_back(std::move(doc));
    }
    return out;
  }
  // The one failure a command caused (the test fails if there is not exactly one).
  std::string only_error() const {
    auto all = failures();
    EXPECT_EQ(all.size(), 1u);
    if (all.size() != 1) return "<" + std::to_string(all.size()) + " failures>";
    return all[0]["data"]["error"].GetString();
  }

  BridgeFixture f;
  BridgeContext context = f.context();
  std::unique_ptr<Extension> extension_ = make_device_commands_extension(context);
};

TEST_F(DeviceCommands, SubscribesToEveryDeviceSetTopic) {
  ASSERT_EQ(f.mqtt.subscriptions.size(), 1u);
  EXPECT_EQ(f.mqtt.subscriptions[0], "peer2mqtt/+/set");
}

TEST_F(DeviceCommands, OtherTopicsAreIgnored) {
  const std::string payload = R"({"connection":"connect"})";
  for (const char* topic : {"peer2mqtt/Lamp", "peer2mqtt/bridge/set", "peer2mqtt/bridge/request/device/connect",
                            "peer2mqtt/Lamp/availability", "peer2mqtt/a/Lamp/set", "other/Lamp/set",
                            "peer2mqtt//set", "peer2mqtt/set"}) {
    f.bus.publish(MqttReceived{topic, payload});
  }
  EXPECT_TRUE(f.actions.calls.empty());
  EXPECT_TRUE(f.mqtt.published.empty());
}

// ---- connection ----

TEST_F(DeviceCommands, ConnectionConnectConnectsSetsWantedAndSaves) {
  set("Lamp", R"({"connection":"connect"})");
  ASSERT_EQ(f.actions.calls.size(), 1u);
  EXPECT_EQ(f.actions.calls[0].what, "connect");
  EXPECT_EQ(f.actions.calls[0].device_id, kLampId);
  EXPECT_TRUE(lamp().wanted);
  EXPECT_EQ(f.actions.saves, 1);
  EXPECT_TRUE(f.mqtt.published.empty()) << "success shows in the state topic, not as an event";
}

TEST_F(DeviceCommands, ConnectionDisconnectClearsWantedAndSaves) {
  lamp().wanted = true;
  set("Lamp", R"({"connection":"disconnect"})");
  ASSERT_EQ(f.actions.calls.size(), 1u);
  EXPECT_EQ(f.actions.calls[0].what, "disconnect");
  EXPECT_FALSE(lamp().wanted);
  EXPECT_EQ(f.actions.saves, 1);
}

TEST_F(DeviceCommands, DeviceTopicMayUseTheDeviceId) {
  set(kPlugId, R"({"connection":"connect"})");
  ASSERT_EQ(f.actions.calls.size(), 1u);
  EXPECT_EQ(f.actions.calls[0].device_id, kPlugId);
  EXPECT_TRUE(f.devices.find(kPlugId)->wanted);
}

TEST_F(DeviceCommands, ConnectionFailureIsACommandFailedEvent) {
  f.actions.next.push_back(ActionResult{false, "ACCESSDENIED", "wrong user or password", {}});
  set("Lamp", R"({"connection":"connect"})");
  auto all = failures();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_STREQ(all[0]["data"]["device"].GetString(), "Lamp");
  EXPECT_STREQ(all[0]["data"]["device_id"].GetString(), kLampId);
  EXPECT_STREQ(all[0]["data"]["error"].GetString(), "connect failed: ACCESSDENIED: wrong user or password");
}

TEST_F(DeviceCommands, InvalidConnectionValueIsRefused) {
  for (const char* payload : {R"({"connection":"on"})", R"({"connection":true})", R"({"connection":null})"}) {
    f.mqtt.published.clear();
    set("Lamp", payload);
    EXPECT_EQ(only_error(), "connection: must be \"connect\" or \"disconnect\"") << payload;
  }
  EXPECT_TRUE(f.actions.calls.empty());
  EXPECT_EQ(f.actions.saves, 0);
}

// ---- device to device ----

TEST_F(DeviceCommands, ConnectToResolvesTheOtherDeviceByNameOrId) {
  set("Lamp", R"({"connect_to":"Plug"})");
  set("Lamp", std::string(R"({"connect_to":")") + kPlugId + "\"}");
  ASSERT_EQ(f.actions.calls.size(), 2u);
  for (const auto& call : f.actions.calls) {
    EXPECT_EQ(call.what, "connect_between");
    EXPECT_EQ(call.device_id, kLampId);
    EXPECT_EQ(call.other, kPlugId);
  }
  EXPECT_FALSE(lamp().wanted) << "device-to-device does not change the bridge's own wish";
  EXPECT_TRUE(f.mqtt.published.empty());
}

TEST_F(DeviceCommands, DisconnectFromCallsDisconnectBetween) {
  set("Plug", R"({"disconnect_from":"Lamp"})");
  ASSERT_EQ(f.actions.calls.size(), 1u);
  EXPECT_EQ(f.actions.calls[0].what, "disconnect_between");
  EXPECT_EQ(f.actions.calls[0].device_id, kPlugId);
  EXPECT_EQ(f.actions.calls[0].other, kLampId);
}

TEST_F(DeviceCommands, ConnectToErrors) {
  set("Lamp", R"({"connect_to":"Ghost"})");
  EXPECT_EQ(only_error(), "connect_to: unknown device 'Ghost'");
  f.mqtt.published.clear();
  set("Lamp", R"({"disconnect_from":"Lamp"})");
  EXPECT_EQ(only_error(), "disconnect_from: a device cannot connect to itself");
  f.mqtt.published.clear();
  set("Lamp", R"({"connect_to":5})");
  EXPECT_EQ(only_error(), "connect_to: must be the name or id of another device");
  f.mqtt.published.clear();
  f.actions.next.push_back(ActionResult{false, "OVERLOAD", "Plug is at its maximum", {}});
  set("Lamp", R"({"connect_to":"Plug"})");
  EXPECT_EQ(only_error(), "connect_to 'Plug' failed: OVERLOAD: Plug is at its maximum");
}

// ---- service invocations ----

TEST_F(DeviceCommands, ServiceKeyInvokesEachActionWithConvertedArguments) {
  set("Lamp", R"({"lamp":{"SetPower":{"on":true,"n":-2,"x":0.25,"s":"hi"},"Toggle":{}}})");
  ASSERT_EQ(f.actions.calls.size(), 2u);
  EXPECT_EQ(f.actions.calls[0].what, "invoke");
  EXPECT_EQ(f.actions.calls[0].device_id, kLampId);
  EXPECT_EQ(f.actions.calls[0].other, "lamp/SetPower");
  const homep2p::ValueMap expected{{"on", true}, {"n", std::int64_t{-2}}, {"x", 0.25}, {"s", std::string("hi")}};
  EXPECT_EQ(f.actions.calls[0].arguments, expected);
  EXPECT_EQ(f.actions.calls[1].other, "lamp/Toggle");
  EXPECT_TRUE(f.actions.calls[1].arguments.empty());
  EXPECT_TRUE(f.mqtt.published.empty());
}

TEST_F(DeviceCommands, ServiceWithoutActionSpecsAcceptsAnyActionName) {
  set("Lamp", R"({"dimmer":{"SetLevel":{"level":30}}})");
  ASSERT_EQ(f.actions.calls.size(), 1u);
  EXPECT_EQ(f.actions.calls[0].other, "dimmer/SetLevel");
  EXPECT_EQ(f.actions.calls[0].arguments, (homep2p::ValueMap{{"level", std::int64_t{30}}}));
}

TEST_F(DeviceCommands, InvocationErrors) {
  struct Case {
    const char* payload;
    const char* error;
  };
  const Case cases[] = {
      {R"({"lamp":{"SetPower":{"on":null}}})",
       "lamp.'SetPower'.'on': must be true, false, a number (integers within 64 bits) or a string"},
      {R"({"lamp":{"SetPower":{"on":[true]}}})",
       "lamp.'SetPower'.'on': must be true, false, a number (integers within 64 bits) or a string"},
      {R"({"lamp":{"SetPower":{"on":18446744073709551615}}})",
       "lamp.'SetPower'.'on': must be true, false, a number (integers within 64 bits) or a string"},
      {R"({"lamp":{"SetPower":{"on":2e308}}})",  // parses as infinity (issue 6, fuzz_message)
       "lamp.'SetPower'.'on': must be true, false, a number (integers within 64 bits) or a string"},
      {R"({"lamp":{"SetPower":true}})", "lamp.'SetPower': arguments must be a JSON object ({} for none)"},
      {R"({"lamp":{"Explode":{}}})", "lamp: unknown action 'Explode' (actions: SetPower, Toggle)"},
      {R"({"lamp":"on"})", "lamp: must be an object {\"<action>\":{<arguments>}}"},
      {R"({"lamp":{}})", "lamp: must be an object {\"<action>\":{<arguments>}}"},
      {R"({"fan":{"SetPower":{}}})",
       "unknown key 'fan' (expected: connection, connect_to, disconnect_from or a rented service: dimmer, lamp)"},
      {R"({"state":"ON"})",
       "unknown key 'state' (expected: connection, connect_to, disconnect_from or a rented service: dimmer, lamp)"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.payload);
    f.mqtt.published.clear();
    set("Lamp", c.payload);
    EXPECT_EQ(only_error(), c.error);
  }
  EXPECT_TRUE(f.actions.calls.empty());
}

TEST_F(DeviceCommands, UnknownKeyOfADeviceWithoutRentedServicesSaysToConnectFirst) {
  set("Plug", R"({"power":{"Set":{}}})");
  EXPECT_EQ(only_error(),
            "unknown key 'power' (expected: connection, connect_to, disconnect_from or a rented service: "
            "none; connect the device first)");
}

TEST_F(DeviceCommands, InvocationFailureIsACommandFailedEvent) {
  f.actions.next.push_back(ActionResult{false, "NOLEASE", "the lease expired", {}});
  set("Lamp", R"({"lamp":{"Toggle":{}}})");
  EXPECT_EQ(only_error(), "lamp.Toggle failed: NOLEASE: the lease expired");
}

// ---- whole-payload checks ----

TEST_F(DeviceCommands, OneBadKeyStopsTheWholeCommand) {
  set("Lamp", R"({"connection":"connect","lamp":{"Toggle":{}},"bogus":1})");
  EXPECT_EQ(only_error(),
            "unknown key 'bogus' (expected: connection, connect_to, disconnect_from or a rented service: dimmer, lamp)");
  EXPECT_TRUE(f.actions.calls.empty());
  EXPECT_FALSE(lamp().wanted);
  EXPECT_EQ(f.actions.saves, 0);
}

TEST_F(DeviceCommands, EveryBadKeyIsReported) {
  set("Lamp", R"({"bogus":1,"connection":"maybe"})");
  EXPECT_EQ(failures().size(), 2u);
}

TEST_F(DeviceCommands, SeveralKeysRunInOrder) {
  set("Lamp", R"({"connection":"connect","connect_to":"Plug","lamp":{"Toggle":{}}})");
  ASSERT_EQ(f.actions.calls.size(), 3u);
  EXPECT_EQ(f.actions.calls[0].what, "connect");
  EXPECT_EQ(f.actions.calls[1].what, "connect_between");
  EXPECT_EQ(f.actions.calls[2].what, "invoke");
}

TEST_F(DeviceCommands, UnknownDeviceIsACommandFailedEventWithoutDeviceId) {
  set("Ghost", R"({"connection":"connect"})");
  auto all = failures();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_STREQ(all[0]["data"]["device"].GetString(), "Ghost");
  EXPECT_FALSE(all[0]["data"].HasMember("device_id"));
  EXPECT_STREQ(all[0]["data"]["error"].GetString(), "unknown device 'Ghost'");
  EXPECT_TRUE(f.actions.calls.empty());
}

TEST_F(DeviceCommands, InvalidJsonNotAnObjectAndEmptyObjectAreReported) {
  set("Lamp", R"({"connection":)");
  EXPECT_EQ(only_error().rfind("invalid JSON: ", 0), 0u);
  f.mqtt.published.clear();
  set("Lamp", R"("connect")");
  EXPECT_EQ(only_error(), "payload: must be a JSON object");
  f.mqtt.published.clear();
  set("Lamp", "{}");
  EXPECT_EQ(only_error(), "payload: empty, nothing to do");
  EXPECT_TRUE(f.actions.calls.empty());
}

TEST_F(DeviceCommands, GarbagePayloadsAreReportedAndNeverCrash) {
  const std::vector<std::string> garbage = {
      "", " ", "{", "}", "[]", "null", "true", "-1", "\"x\"", "ON",
      R"({"connection":)", "\xff\xfe", "{\"lamp\":\"\xc3\x28\"}", std::string("{}\0{}", 5),
      std::string(60000, '['), std::string(70000, ' '), R"({"connection":1e999})", R"({'a':1})",
      R"({"a":1} {"b":2})", R"({"connection":"connect"]})",
  };
  for (const auto& payload : garbage) {
    SCOPED_TRACE(payload.substr(0, 40));
    f.mqtt.published.clear();
    set("Lamp", payload);
    EXPECT_FALSE(only_error().empty());
  }
  EXPECT_TRUE(f.actions.calls.empty());
  set("Lamp", R"({"connection":"connect"})");
  EXPECT_EQ(f.actions.calls.size(), 1u) << "still working";
}

TEST_F(DeviceCommands, AFailureReportedAfterTheExtensionIsGoneIsDropped) {
  class HeldActions : public ScriptedActions {
   public:
    void connect(const std::string&, ActionDone done) override { held = std::move(done); }
    ActionDone held;
  } held_actions;
  BridgeContext other{f.bus, f.mqtt, f.devices, held_actions, f.settings, f.mappings, [] { return 0; }};
  extension_->stop();
  auto extension = make_device_commands_extension(other);
  extension->start();
  set("Lamp", R"({"connection":"connect"})");
  ASSERT_TRUE(held_actions.held);
  extension->stop();
  extension.reset();
  held_actions.held(ActionResult{false, "LOCAL:timeout", "timed out", {}});
  EXPECT_TRUE(f.mqtt.published.empty());
}

}  // namespace
}  // namespace peer2mqtt::test
