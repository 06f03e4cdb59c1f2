#include "core/payloads.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "bridge/bridge_fixture.hpp"

namespace peer2mqtt {
namespace {

using test::BridgeFixture;

constexpr const char* kLamp = "aaaaaaaa-1111-4000-8000-000000000001";
constexpr const char* kSwitch = "bbbbbbbb-2222-4000-8000-000000000002";
constexpr const char* kStranger = "cccccccc-3333-4000-8000-000000000003";

std::vector<std::string> keys_of(const rapidjson::Value& object) {
  std::vector<std::string> keys;
  for (const auto& m : object.GetObject()) keys.emplace_back(m.name.GetString(), m.name.GetStringLength());
  return keys;
}

TEST(Payloads, Iso8601IsUtcWithSecondsAndZ) {
  EXPECT_EQ(iso8601(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(iso8601(1795000000), "2026-11-18T11:06:40Z");
  EXPECT_EQ(iso8601(951782400), "2000-02-29T00:00:00Z");
}

TEST(Payloads, AvailabilityIsStateOnlineOrOffline) {
  EXPECT_EQ(availability_json(true), R"({"state":"online"})");
  EXPECT_EQ(availability_json(false), R"({"state":"offline"})");
}

TEST(Payloads, StateOfANeverConnectedDeviceHasNullsWhereNothingIsKnown) {
  BridgeFixture f;
  DeviceRecord& d = f.devices.upsert(kLamp, "Lamp");
  const auto doc = BridgeFixture::json(device_state_json(d, f.devices));
  ASSERT_TRUE(doc.IsObject());
  EXPECT_EQ(keys_of(doc), (std::vector<std::string>{"connection", "last_result", "last_disconnect_reason",
                                                    "connection_count", "max_connections", "last_seen", "available",
                                                    "peers"}));
  EXPECT_STREQ(doc["connection"].GetString(), "disconnected");
  EXPECT_TRUE(doc["last_result"].IsNull());
  EXPECT_TRUE(doc["last_disconnect_reason"].IsNull());
  EXPECT_FALSE(doc.HasMember("last_error"));  // only when there is one
  EXPECT_TRUE(doc["connection_count"].IsNull());
  EXPECT_TRUE(doc["max_connections"].IsNull());
  EXPECT_TRUE(doc["last_seen"].IsNull());
  EXPECT_TRUE(doc["available"].IsBool());
  EXPECT_FALSE(doc["available"].GetBool());
  ASSERT_TRUE(doc["peers"].IsArray());
  EXPECT_EQ(doc["peers"].Size(), 0U);
}

TEST(Payloads, StateOfAConnectedDeviceCarriesResultCountsPeersAndServiceStates) {
  BridgeFixture f;
  DeviceRecord& lamp = f.add_device(kLamp, "Lamp");
  f.add_device(kSwitch, "Wall Switch");
  lamp.link = LinkState::Connected;
  lamp.last_result = "SUCCESS";
  lamp.last_disconnect_reason = "NORMAL";
  lamp.last_detail = "said \"bye\"\n";
  lamp.connection_count = 2;
  lamp.max_connections = 4;
  lamp.peers.push_back(PeerView{kSwitch, homep2p::Role::Target, 1795000000});
  lamp.peers.push_back(PeerView{kStranger, homep2p::Role::Initiator, 1795000123});
  ServiceView power;
  power.id = "power";
  power.type = "SwitchPower";
  power.state = {{"on", true}, {"watts", std::int64_t{7}}, {"level", 0.5}, {"mode", std::string("eco")}};
  lamp.services["power"] = power;

  const auto doc = BridgeFixture::json(device_state_json(lamp, f.devices));
  EXPECT_STREQ(doc["connection"].GetString(), "connected");
  EXPECT_STREQ(doc["last_result"].GetString(), "SUCCESS");
  EXPECT_STREQ(doc["last_disconnect_reason"].GetString(), "NORMAL");
  EXPECT_STREQ(doc["last_error"].GetString(), "said \"bye\"\n");  // escaped, round-trips
  ASSERT_TRUE(doc["connection_count"].IsInt64());
  EXPECT_EQ(doc["connection_count"].GetInt64(), 2);
  EXPECT_EQ(doc["max_connections"].GetInt64(), 4);
  EXPECT_STREQ(doc["last_seen"].GetString(), "2026-11-18T11:06:40Z");
  EXPECT_TRUE(doc["available"].GetBool());

  const auto& peers = doc["peers"];
  ASSERT_EQ(peers.Size(), 2U);
  EXPECT_EQ(keys_of(peers[0]), (std::vector<std::string>{"device", "device_id", "role", "since"}));
  EXPECT_STREQ(peers[0]["device"].GetString(), "Wall Switch");  // known: its friendly name
  EXPECT_STREQ(peers[0]["device_id"].GetString(), kSwitch);
  EXPECT_STREQ(peers[0]["role"].GetString(), "target");
  EXPECT_STREQ(peers[0]["since"].GetString(), "2026-11-18T11:06:40Z");
  EXPECT_STREQ(peers[1]["device"].GetString(), kStranger);  // unknown: its id
  EXPECT_STREQ(peers[1]["role"].GetString(), "initiator");
  EXPECT_STREQ(peers[1]["since"].GetString(), "2026-11-18T11:08:43Z");

  ASSERT_TRUE(doc.HasMember("power"));
  const auto& state = doc["power"];
  ASSERT_TRUE(state.IsObject());
  EXPECT_EQ(state.MemberCount(), 4U);
  ASSERT_TRUE(state["on"].IsBool());
  EXPECT_TRUE(state["on"].GetBool());
  ASSERT_TRUE(state["watts"].IsInt64());
  EXPECT_EQ(state["watts"].GetInt64(), 7);
  ASSERT_TRUE(state["level"].IsDouble());
  EXPECT_DOUBLE_EQ(state["level"].GetDouble(), 0.5);
  ASSERT_TRUE(state["mode"].IsString());
  EXPECT_STREQ(state["mode"].GetString(), "eco");
}

TEST(Payloads, NonFiniteNumberIsWrittenAsNullSoTheJsonStaysValid) {
  BridgeFixture f;
  DeviceRecord& d = f.add_device(kLamp, "Lamp");
  ServiceView sensor;
  sensor.state = {{"temperature", std::numeric_limits<double>::quiet_NaN()},
                  {"max", std::numeric_limits<double>::infinity()}};
  d.services["t"] = sensor;
  const auto doc = BridgeFixture::json(device_state_json(d, f.devices));
  EXPECT_TRUE(doc["t"]["temperature"].IsNull());
  EXPECT_TRUE(doc["t"]["max"].IsNull());
}

TEST(Payloads, ServiceWhoseIdIsAFixedStateKeyIsLeftOutRatherThanDuplicated) {
  BridgeFixture f;
  DeviceRecord& d = f.add_device(kLamp, "Lamp");
  ServiceView odd;
  odd.state = {{"on", true}};
  d.services["peers"] = odd;
  const std::string payload = device_state_json(d, f.devices);
  const auto doc = BridgeFixture::json(payload);
  ASSERT_TRUE(doc["peers"].IsArray());
  EXPECT_EQ(payload.find("\"peers\"", payload.find("\"peers\"") + 1), std::string::npos) << payload;
}

TEST(Payloads, TheConnectionManagerServiceIsShownAsCountAndPeersNotAsRawState) {
  BridgeFixture f;
  DeviceRecord& d = f.add_device(kLamp, "Lamp");
  ServiceView cm;
  cm.id = "connection-manager";
  cm.type = "ConnectionManager";
  cm.state = {{"count", std::int64_t{1}}, {"peers", std::string("[]")}};
  d.services[cm.id] = cm;
  d.connection_count = 1;
  const std::string payload = device_state_json(d, f.devices);
  const auto doc = BridgeFixture::json(payload);
  EXPECT_FALSE(doc.HasMember("connection-manager")) << payload;
  EXPECT_EQ(doc["connection_count"].GetInt64(), 1);
}

TEST(Payloads, DevicesIsACompactArrayWithOneEntryPerDevice) {
  BridgeFixture f;
  DeviceRecord& lamp =
      f.add_device(kLamp, "Lamp", "Light", {homep2p::ServiceRef{"power", "SwitchPower"}, {"dim", "Dimming"}});
  lamp.link = LinkState::Connected;
  lamp.connection_count = 1;
  lamp.max_connections = 8;
  lamp.announce->security.auth_required = false;
  f.add_device(kSwitch, "Switch", "Switch");

  const std::string payload = devices_json(f.devices);
  EXPECT_EQ(payload.find('\n'), std::string::npos);
  EXPECT_EQ(payload.find(": "), std::string::npos);
  const auto doc = BridgeFixture::json(payload);
  ASSERT_TRUE(doc.IsArray());
  ASSERT_EQ(doc.Size(), 2U);
  const auto& e = doc[0];
  EXPECT_EQ(keys_of(e), (std::vector<std::string>{"device_id", "friendly_name", "type", "available", "connection",
                                                  "connection_count", "max_connections", "services", "auth_required",
                                                  "address", "last_seen"}));
  EXPECT_STREQ(e["device_id"].GetString(), kLamp);
  EXPECT_STREQ(e["friendly_name"].GetString(), "Lamp");
  EXPECT_STREQ(e["type"].GetString(), "Light");
  EXPECT_TRUE(e["available"].GetBool());
  EXPECT_STREQ(e["connection"].GetString(), "connected");
  EXPECT_EQ(e["connection_count"].GetInt64(), 1);
  EXPECT_EQ(e["max_connections"].GetInt64(), 8);
  ASSERT_EQ(e["services"].Size(), 2U);
  EXPECT_STREQ(e["services"][0]["id"].GetString(), "power");
  EXPECT_STREQ(e["services"][0]["type"].GetString(), "SwitchPower");
  EXPECT_STREQ(e["services"][1]["type"].GetString(), "Dimming");
  ASSERT_TRUE(e["auth_required"].IsBool());
  EXPECT_FALSE(e["auth_required"].GetBool());
  EXPECT_STREQ(e["address"].GetString(), "127.0.0.1:4000");
  EXPECT_STREQ(e["last_seen"].GetString(), "2026-11-18T11:06:40Z");

  EXPECT_STREQ(doc[1]["connection"].GetString(), "disconnected");
  EXPECT_TRUE(doc[1]["connection_count"].IsNull());
  EXPECT_TRUE(doc[1]["auth_required"].GetBool());
}

TEST(Payloads, DevicesEntryOfADeviceOnlyKnownFromStateHasNullsAndItsRentedServices) {
  BridgeFixture f;
  DeviceRecord& d = f.devices.upsert(kLamp, "Lamp");
  ServiceView power;
  power.type = "SwitchPower";
  d.services["power"] = power;
  const auto doc = BridgeFixture::json(devices_json(f.devices));
  ASSERT_EQ(doc.Size(), 1U);
  EXPECT_TRUE(doc[0]["type"].IsNull());
  EXPECT_TRUE(doc[0]["auth_required"].IsNull());
  EXPECT_TRUE(doc[0]["address"].IsNull());
  EXPECT_TRUE(doc[0]["last_seen"].IsNull());
  EXPECT_FALSE(doc[0]["available"].GetBool());
  ASSERT_EQ(doc[0]["services"].Size(), 1U);
  EXPECT_STREQ(doc[0]["services"][0]["id"].GetString(), "power");
  EXPECT_STREQ(doc[0]["services"][0]["type"].GetString(), "SwitchPower");
}

TEST(Payloads, DevicesAddressOfAnIpv6DeviceIsBracketed) {
  BridgeFixture f;
  DeviceRecord& d = f.add_device(kLamp, "Lamp");
  d.announce->address = "fe80::1";
  d.announce->port = 4711;
  const auto doc = BridgeFixture::json(devices_json(f.devices));
  EXPECT_STREQ(doc[0]["address"].GetString(), "[fe80::1]:4711");
}

TEST(Payloads, EmptyRegistryGivesAnEmptyArray) {
  DeviceRegistry r;
  EXPECT_EQ(devices_json(r), "[]");
}

}  // namespace
}  // namespace peer2mqtt
