// peer2mqtt end to end (issue 4's "Done when"): a real Mosquitto, real `homepeer device`
// processes, a real `peer2mqtt`, and a Home-Assistant-like MQTT client. Run inside a network
// namespace of its own by in_netns.sh (ctest does this): multicast stays on its loopback.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "bridge_world.hpp"

namespace system_test {
namespace {

using namespace std::chrono_literals;

const std::string kLamp = "1a000000-0000-4000-8000-00000000001a";
const std::string kThermo = "2b000000-0000-4000-8000-00000000002b";
const std::string kSingle = "3c000000-0000-4000-8000-00000000003c";
constexpr auto kWait = 15s;  // a generous limit on hangs, not a performance claim

DeviceSpec lamp() { return {kLamp, "Lamp", "Light", "[{id: lamp, type: SwitchPower}, {id: dimmer, type: Dimming}]"}; }
DeviceSpec thermo() { return {kThermo, "Thermo", "Thermometer", "[{id: thermo, type: TemperatureSensor}]"}; }

std::string state_topic(const std::string& name) { return "peer2mqtt/" + name; }

// A string field of a JSON payload ("" if absent or not a string).
std::string field(const std::string& payload, const char* name) {
  const auto doc = parse(payload);
  if (!doc.IsObject() || !doc.HasMember(name) || !doc[name].IsString()) return "";
  return doc[name].GetString();
}

bool connection_is(const std::string& payload, const std::string& value) { return field(payload, "connection") == value; }

std::int64_t count_of(const std::string& payload) {
  const auto doc = parse(payload);
  if (!doc.IsObject() || !doc.HasMember("connection_count") || !doc["connection_count"].IsInt64()) return -1;
  return doc["connection_count"].GetInt64();
}

bool lists_peer(const std::string& payload, const std::string& device_id) {
  const auto doc = parse(payload);
  if (!doc.IsObject() || !doc.HasMember("peers") || !doc["peers"].IsArray()) return false;
  for (const auto& p : doc["peers"].GetArray()) {
    if (p.IsObject() && p.HasMember("device_id") && p["device_id"].IsString() && p["device_id"].GetString() == device_id) {
      return true;
    }
  }
  return false;
}

template <class Pred>
bool wait_until(Pred pred, std::chrono::milliseconds timeout = kWait) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

class BridgeSystem : public ::testing::Test {
 protected:
  void start(std::vector<DeviceSpec> devices, const std::vector<std::string>& wrong_for = {}) {
    world.start_broker();
    ha = world.probe();
    ha->subscribe("peer2mqtt/#");
    ha->subscribe("homeassistant/#");
    for (const auto& d : devices) world.start_device(d);
    world.start_bridge(wrong_for);
    ASSERT_TRUE(ha->wait_for_topic("peer2mqtt/bridge/state", [](const std::string& p) { return field(p, "state") == "online"; }, kWait))
        << world.bridge().log();
    for (const auto& d : devices) {
      ASSERT_TRUE(ha->wait_for_topic(state_topic(d.name) + "/availability",
                                     [](const std::string& p) { return field(p, "state") == "online"; }, kWait))
          << d.name << " never became available\n" << world.bridge().log();
    }
  }
  void set(const std::string& name, const std::string& payload) { ha->publish(state_topic(name) + "/set", payload); }
  std::optional<Received> wait_state(const std::string& name, const std::function<bool(const std::string&)>& pred) {
    return ha->wait_for_topic(state_topic(name), pred, kWait);
  }

  BridgeWorld world;
  std::unique_ptr<MqttProbe> ha;
};

TEST_F(BridgeSystem, DiscoveryConfigsAreRetainedWithUniqueIdsDeviceBlockAndAvailability) {
  start({lamp()});
  const auto config = ha->wait_for(
      [](const Received& r) { return r.topic.find("/connected/config") != std::string::npos && r.topic.find("binary_sensor") != std::string::npos; },
      kWait);
  ASSERT_TRUE(config);
  const auto doc = parse(config->payload);
  ASSERT_TRUE(doc.IsObject());
  EXPECT_STREQ(doc["device_class"].GetString(), "connectivity");
  EXPECT_TRUE(doc.HasMember("unique_id"));
  ASSERT_TRUE(doc.HasMember("device"));
  EXPECT_TRUE(doc["device"].HasMember("identifiers"));
  EXPECT_TRUE(doc["device"].HasMember("via_device"));
  EXPECT_TRUE(doc.HasMember("origin"));
  ASSERT_TRUE(doc["availability"].IsArray());
  EXPECT_EQ(doc["availability"].Size(), 2U);
  EXPECT_STREQ(doc["availability_mode"].GetString(), "all");

  // Once connected, the mapped entities of its services appear too (switch, light).
  set("Lamp", R"({"connection":"connect"})");
  ASSERT_TRUE(ha->wait_for([](const Received& r) { return r.topic.rfind("homeassistant/light/", 0) == 0 && !r.payload.empty(); }, kWait));

  // Every retained config we saw has a unique unique_id.
  std::map<std::string, std::string> unique_ids;  // unique_id -> topic
  for (const auto& r : ha->all()) {
    if (r.topic.rfind("homeassistant/", 0) != 0 || r.payload.empty()) continue;
    const auto c = parse(r.payload);
    ASSERT_TRUE(c.IsObject()) << r.topic;
    const std::string id = c["unique_id"].GetString();
    const auto [it, inserted] = unique_ids.emplace(id, r.topic);
    EXPECT_TRUE(inserted || it->second == r.topic) << "unique_id " << id << " on " << r.topic << " and " << it->second;
  }
  EXPECT_GE(unique_ids.size(), 6U);

  // Home Assistant restarts: everything is sent again.
  ha->forget();
  ha->publish("homeassistant/status", "online");
  EXPECT_TRUE(ha->wait_for([](const Received& r) { return r.topic.find("/connected/config") != std::string::npos; }, kWait));
}

TEST_F(BridgeSystem, SetConnectConnectsAndDisconnectDisconnectsAndTheCountFollows) {
  start({lamp()});
  set("Lamp", R"({"connection":"connect"})");
  const auto on = wait_state("Lamp", [](const std::string& p) { return connection_is(p, "connected") && count_of(p) == 1; });
  ASSERT_TRUE(on) << world.bridge().log();
  EXPECT_EQ(field(on->payload, "last_result"), "SUCCESS");
  set("Lamp", R"({"connection":"disconnect"})");
  ASSERT_TRUE(wait_state("Lamp", [](const std::string& p) { return connection_is(p, "disconnected"); }));
}

TEST_F(BridgeSystem, WrongCredentialsFailWithAccessDeniedAndAnErrorEvent) {
  start({lamp()}, {kLamp});
  set("Lamp", R"({"connection":"connect"})");
  const auto failed = wait_state("Lamp", [](const std::string& p) { return connection_is(p, "failed"); });
  ASSERT_TRUE(failed);
  EXPECT_EQ(field(failed->payload, "last_result"), "ACCESSDENIED");
  const auto event = ha->wait_for_topic("peer2mqtt/bridge/event", [](const std::string& p) {
    return p.find("connection_changed") != std::string::npos && p.find("ACCESSDENIED") != std::string::npos;
  }, kWait);
  EXPECT_TRUE(event);
}

TEST_F(BridgeSystem, ATargetAtItsMaxAnswersOverload) {
  DeviceSpec single{kSingle, "Single", "Plug", "[{id: plug, type: SwitchPower}]", /*max_connections=*/1};
  start({single});
  // Someone else takes the only slot first.
  ChildProcess holder(world.homepeer({"connect", kSingle, "--user", "user", "--password", kUserPassword, "--hold", "30"}),
                      world.dir() + "/holder.log");
  ASSERT_TRUE(wait_until([&] { return holder.log().find("SUCCESS") != std::string::npos; })) << holder.log();
  set("Single", R"({"connection":"connect"})");
  const auto failed = wait_state("Single", [](const std::string& p) { return connection_is(p, "failed"); });
  ASSERT_TRUE(failed);
  EXPECT_EQ(field(failed->payload, "last_result"), "OVERLOAD");
}

TEST_F(BridgeSystem, RequestResponseKeepsTheTransactionAndReportsErrorsClearly) {
  start({lamp()});
  ha->publish("peer2mqtt/bridge/request/device/connect", R"({"device":"Lamp","transaction":"t1"})");
  const auto ok = ha->wait_for_topic("peer2mqtt/bridge/response/device/connect",
                                     [](const std::string& p) { return field(p, "transaction") == "t1"; }, kWait);
  ASSERT_TRUE(ok);
  EXPECT_EQ(field(ok->payload, "status"), "ok") << ok->payload;

  ha->publish("peer2mqtt/bridge/request/device/connect", "{not json");
  const auto bad_json = ha->wait_for_topic("peer2mqtt/bridge/response/device/connect",
                                           [](const std::string& p) { return field(p, "status") == "error"; }, kWait);
  ASSERT_TRUE(bad_json);
  EXPECT_NE(field(bad_json->payload, "error").find("JSON"), std::string::npos) << bad_json->payload;

  ha->publish("peer2mqtt/bridge/request/device/connect", R"({"device":"Nobody","transaction":"t2"})");
  const auto unknown = ha->wait_for_topic("peer2mqtt/bridge/response/device/connect",
                                          [](const std::string& p) { return field(p, "transaction") == "t2"; }, kWait);
  ASSERT_TRUE(unknown);
  EXPECT_EQ(field(unknown->payload, "status"), "error");
  EXPECT_NE(field(unknown->payload, "error").find("Nobody"), std::string::npos);

  ha->publish("peer2mqtt/bridge/request/device/frobnicate", R"({"transaction":"t3"})");
  const auto unknown_cmd = ha->wait_for_topic("peer2mqtt/bridge/response/device/frobnicate",
                                              [](const std::string& p) { return field(p, "transaction") == "t3"; }, kWait);
  ASSERT_TRUE(unknown_cmd);
  EXPECT_EQ(field(unknown_cmd->payload, "status"), "error");

  // Exactly one response to t1; and the bridge still works.
  std::size_t t1 = 0;
  for (const auto& r : ha->all()) t1 += (r.topic == "peer2mqtt/bridge/response/device/connect" && field(r.payload, "transaction") == "t1");
  EXPECT_EQ(t1, 1U);
  EXPECT_TRUE(world.bridge().running());
  ha->publish("peer2mqtt/bridge/request/device/disconnect", R"({"device":"Lamp","transaction":"t4"})");
  EXPECT_TRUE(ha->wait_for_topic("peer2mqtt/bridge/response/device/disconnect",
                                 [](const std::string& p) { return field(p, "transaction") == "t4" && field(p, "status") == "ok"; }, kWait));
}

TEST_F(BridgeSystem, DeviceToDeviceConnectionsAreDrivenAndSeenThroughMqtt) {
  start({lamp(), thermo()});
  set("Lamp", R"({"connection":"connect"})");
  set("Thermo", R"({"connection":"connect"})");
  ASSERT_TRUE(wait_state("Lamp", [](const std::string& p) { return connection_is(p, "connected"); }));
  ASSERT_TRUE(wait_state("Thermo", [](const std::string& p) { return connection_is(p, "connected"); }));

  set("Lamp", R"({"connect_to":"Thermo"})");
  // Both list each other; each count is 2: the bridge's own connection and the other device's
  // (the bridge must be connected to a device to read its ConnectionManager; docs/MQTT.md).
  EXPECT_TRUE(wait_state("Lamp", [](const std::string& p) { return lists_peer(p, kThermo) && count_of(p) == 2; }))
      << world.bridge().log();
  EXPECT_TRUE(wait_state("Thermo", [](const std::string& p) { return lists_peer(p, kLamp) && count_of(p) == 2; }));

  ha->forget();
  set("Lamp", R"({"disconnect_from":"Thermo"})");
  EXPECT_TRUE(wait_state("Lamp", [](const std::string& p) { return !lists_peer(p, kThermo) && count_of(p) == 1; }));
  EXPECT_TRUE(wait_state("Thermo", [](const std::string& p) { return !lists_peer(p, kLamp) && count_of(p) == 1; }));

  // A connection made by someone else (homepeer, not MQTT) shows up in both states too.
  ha->forget();
  ChildProcess admin(world.homepeer({"invoke", kLamp, "connection-manager", "Connect", "target=" + kThermo, "--user",
                                     "admin", "--password", kAdminPassword}),
                     world.dir() + "/admin.log");
  EXPECT_TRUE(admin.wait_exit(kWait));
  EXPECT_TRUE(wait_state("Lamp", [](const std::string& p) { return lists_peer(p, kThermo); })) << admin.log();
  EXPECT_TRUE(wait_state("Thermo", [](const std::string& p) { return lists_peer(p, kLamp); }));
}

TEST_F(BridgeSystem, AMappedSwitchCommandChangesTheDeviceAndDeviceEventsReachTheStateTopic) {
  start({lamp()});
  set("Lamp", R"({"connection":"connect"})");
  ASSERT_TRUE(wait_state("Lamp", [](const std::string& p) { return connection_is(p, "connected") && p.find("\"lamp\"") != std::string::npos; }));
  // What the Home Assistant switch sends (mappings/SwitchPower.json payload_on).
  set("Lamp", R"({"lamp":{"SetPower":{"on":true}}})");
  EXPECT_TRUE(wait_state("Lamp", [](const std::string& p) { return p.find(R"("lamp":{"on":true})") != std::string::npos; }));
  // The device changes on its own (someone else toggles it): the event reaches the state topic.
  ChildProcess other(world.homepeer({"invoke", kLamp, "lamp", "Toggle", "--user", "user", "--password", kUserPassword}),
                     world.dir() + "/other.log");
  EXPECT_TRUE(other.wait_exit(kWait));
  EXPECT_TRUE(wait_state("Lamp", [](const std::string& p) { return p.find(R"("lamp":{"on":false})") != std::string::npos; }))
      << other.log();
}

TEST_F(BridgeSystem, AKilledDeviceGoesOfflineAndDisconnected) {
  start({lamp()});
  set("Lamp", R"({"connection":"connect"})");
  ASSERT_TRUE(wait_state("Lamp", [](const std::string& p) { return connection_is(p, "connected"); }));
  world.device(kLamp).kill_now();
  // keepalive 1 s x 3 and max-age 4 s (bridge_world.hpp), with a generous margin.
  EXPECT_TRUE(wait_state("Lamp", [](const std::string& p) { return connection_is(p, "disconnected"); }));
  EXPECT_TRUE(ha->wait_for_topic("peer2mqtt/Lamp/availability", [](const std::string& p) { return field(p, "state") == "offline"; }, kWait));
}

TEST_F(BridgeSystem, AfterABrokerRestartTheBridgeIsBackOnlineWithItsRetainedState) {
  start({lamp()});
  set("Lamp", R"({"connection":"connect"})");
  ASSERT_TRUE(wait_state("Lamp", [](const std::string& p) { return connection_is(p, "connected"); }));
  world.stop_broker();
  ha->forget();
  world.start_broker();  // same port, no persistence: it forgot every retained message
  const auto online = ha->wait_for_topic("peer2mqtt/bridge/state", [](const std::string& p) { return field(p, "state") == "online"; }, 30s);
  ASSERT_TRUE(online) << world.bridge().log();
  EXPECT_TRUE(wait_state("Lamp", [](const std::string& p) { return connection_is(p, "connected"); }));
  EXPECT_TRUE(ha->wait_for([](const Received& r) { return r.topic.find("/connected/config") != std::string::npos; }, kWait));
}

TEST_F(BridgeSystem, ABridgeKilledAndRestartedReconnectsTheDevicesThatWereWanted) {
  start({lamp(), thermo()});
  set("Lamp", R"({"connection":"connect"})");
  ASSERT_TRUE(wait_state("Lamp", [](const std::string& p) { return connection_is(p, "connected"); }));
  std::this_thread::sleep_for(1s);  // the state file is written shortly after a change
  world.bridge().kill_now();
  ha->forget();
  world.start_bridge();
  EXPECT_TRUE(wait_state("Lamp", [](const std::string& p) { return connection_is(p, "connected"); })) << world.bridge().log();
  // Thermo was never wanted: it is not connected.
  const auto thermo_state = ha->wait_for_topic("peer2mqtt/Thermo", [](const std::string&) { return true; }, kWait);
  ASSERT_TRUE(thermo_state);
  EXPECT_FALSE(connection_is(thermo_state->payload, "connected"));
}

TEST_F(BridgeSystem, AWantedConnectionThatDropsIsRetriedUntilTheDeviceIsBack) {
  start({lamp()});
  set("Lamp", R"({"connection":"connect"})");
  ASSERT_TRUE(wait_state("Lamp", [](const std::string& p) { return connection_is(p, "connected"); }));
  // The device restarts (same id): the bridge's connection drops...
  world.device(kLamp).kill_now();
  ASSERT_TRUE(wait_state("Lamp", [](const std::string& p) { return connection_is(p, "disconnected"); }));
  ha->forget();
  world.start_device(lamp());
  // ...and comes back by itself, because Home Assistant still wants it connected.
  EXPECT_TRUE(wait_state("Lamp", [](const std::string& p) { return connection_is(p, "connected"); }))
      << world.bridge().log();
}

TEST_F(BridgeSystem, AccessDeniedIsNotRetriedInALoop) {
  start({lamp()}, {kLamp});
  set("Lamp", R"({"connection":"connect"})");
  ASSERT_TRUE(wait_state("Lamp", [](const std::string& p) { return field(p, "last_result") == "ACCESSDENIED"; }));
  // Wait well past the first retry delays (1 s, 2 s, 4 s): no new attempt may happen.
  std::this_thread::sleep_for(8s);
  // One connection attempt = one connection_changed event (the /set command's own failure is a
  // separate command_failed event).
  const auto attempts_so_far = [&] {
    std::size_t n = 0;
    for (const auto& r : ha->all()) {
      n += r.topic == "peer2mqtt/bridge/event" && r.payload.find("connection_changed") != std::string::npos &&
           r.payload.find("ACCESSDENIED") != std::string::npos;
    }
    return n;
  };
  const std::size_t attempts = attempts_so_far();
  EXPECT_EQ(attempts, 1U) << "ACCESSDENIED was retried";

  // A new command tries again (and fails again, once).
  set("Lamp", R"({"connection":"connect"})");
  EXPECT_TRUE(wait_until([&] { return attempts_so_far() == 2; }));
}

TEST_F(BridgeSystem, NoConfiguredPasswordEverAppearsInAnyPayload) {
  start({lamp(), thermo()}, {kThermo});
  set("Lamp", R"({"connection":"connect"})");
  set("Thermo", R"({"connection":"connect"})");
  ASSERT_TRUE(wait_state("Lamp", [](const std::string& p) { return connection_is(p, "connected"); }));
  ha->publish("peer2mqtt/bridge/request/device/configure",
              R"({"device":"Lamp","accounts":[{"user":"guest","password":"guest-password-0b1d"}],"transaction":"c1"})");
  ASSERT_TRUE(ha->wait_for_topic("peer2mqtt/bridge/response/device/configure",
                                 [](const std::string& p) { return field(p, "transaction") == "c1"; }, kWait));
  ha->publish("peer2mqtt/bridge/request/device/services", R"({"device":"Lamp","transaction":"s1"})");
  ASSERT_TRUE(ha->wait_for_topic("peer2mqtt/bridge/response/device/services",
                                 [](const std::string& p) { return field(p, "transaction") == "s1"; }, kWait));
  ASSERT_TRUE(wait_state("Thermo", [](const std::string& p) { return connection_is(p, "failed"); }));
  const auto everything = ha->all();
  ASSERT_GT(everything.size(), 20U);
  for (const auto& r : everything) {
    if (r.topic == "peer2mqtt/bridge/request/device/configure") continue;  // our own request
    for (const std::string& secret : {kAdminPassword, kUserPassword, kWrongPassword, std::string("guest-password-0b1d")}) {
      EXPECT_EQ(r.payload.find(secret), std::string::npos) << "password on " << r.topic;
    }
  }
  for (const std::string& secret : {kAdminPassword, kWrongPassword, std::string("guest-password-0b1d")}) {
    EXPECT_EQ(world.bridge().log().find(secret), std::string::npos) << "password in the bridge's log";
  }
}

}  // namespace
}  // namespace system_test
