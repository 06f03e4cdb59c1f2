// In-memory surroundings for one extension under test: an MQTT port that records, device actions
// that record and answer as scripted, a registry, a bus and settings. No broker, no sockets: the
// extensions are the bridge's sans-IO part; the real MQTT and Node are covered by the
// integration tests (tests/integration/bridge_*).
#pragma once

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/extension.hpp"
#include "core/mappings.hpp"
#include "core/topics.hpp"

namespace peer2mqtt::test {

class RecordingMqtt : public MqttPort {
 public:
  void publish(MqttMessage message) override { published.push_back(std::move(message)); }
  void subscribe(const std::string& topic_filter) override { subscriptions.push_back(topic_filter); }

  // The last message published on `topic`, if any.
  const MqttMessage* last(const std::string& topic) const {
    for (auto it = published.rbegin(); it != published.rend(); ++it) {
      if (it->topic == topic) return &*it;
    }
    return nullptr;
  }
  std::size_t count(const std::string& topic) const {
    std::size_t n = 0;
    for (const auto& m : published) n += m.topic == topic ? 1 : 0;
    return n;
  }
  std::vector<MqttMessage> published;
  std::vector<std::string> subscriptions;
};

struct RecordedAction {
  std::string what;  // connect, disconnect, connect_between, disconnect_between, invoke, configure
  std::string device_id;
  std::string other;  // other device id, or "<service>/<action>" for invoke
  homep2p::ValueMap arguments;
};

class ScriptedActions : public DeviceActions {
 public:
  // The answer every action gives unless `next` holds one (taken in order).
  ActionResult default_result{true, "SUCCESS", "", {}};
  std::deque<ActionResult> next;
  std::vector<RecordedAction> calls;
  std::vector<homep2p::SearchConditions> searches;
  int saves = 0;

  void connect(const std::string& id, ActionDone done) override { record({"connect", id, "", {}}, done); }
  void disconnect(const std::string& id, ActionDone done) override { record({"disconnect", id, "", {}}, done); }
  void connect_between(const std::string& id, const std::string& other, ActionDone done) override {
    record({"connect_between", id, other, {}}, done);
  }
  void disconnect_between(const std::string& id, const std::string& other, ActionDone done) override {
    record({"disconnect_between", id, other, {}}, done);
  }
  void invoke(const std::string& id, const std::string& service, const std::string& action,
              homep2p::ValueMap arguments, ActionDone done) override {
    record({"invoke", id, service + "/" + action, std::move(arguments)}, done);
  }
  void configure(const std::string& id, homep2p::Configure, ActionDone done) override {
    record({"configure", id, "", {}}, done);
  }
  void search(const homep2p::SearchConditions& conditions, std::uint32_t) override { searches.push_back(conditions); }
  void save_state() override { ++saves; }

 private:
  void record(RecordedAction call, const ActionDone& done) {
    calls.push_back(std::move(call));
    ActionResult r = default_result;
    if (!next.empty()) {
      r = next.front();
      next.pop_front();
    }
    if (done) done(r);
  }
};

// A bus, a registry, recording MQTT and scripted actions, wired into a BridgeContext.
struct BridgeFixture {
  BridgeFixture() : topics(settings.base_topic, settings.homeassistant_prefix) {
    settings.bridge_device_id = "0b0b0b0b-0000-4000-8000-0000000000b0";
    settings.mqtt_server = "mqtt://127.0.0.1:1883";
    settings.lan_interface = "127.0.0.1";
  }

  BridgeContext context() {
    return BridgeContext{bus, mqtt, devices, actions, settings, mappings, [this] { return now; }};
  }

  // Adds an available device as discovery would.
  DeviceRecord& add_device(const std::string& id, const std::string& name, const std::string& type = "Light",
                           std::vector<homep2p::ServiceRef> services = {}) {
    DeviceRecord& d = devices.upsert(id, name);
    homep2p::DeviceAnnounce a;
    a.device_id = id;
    a.device_type = type;
    a.friendly_name = name;
    a.address = "127.0.0.1";
    a.port = 4000;
    a.services = std::move(services);
    a.max_age = 30;
    a.boot_id = 1;
    d.announce = a;
    d.available = true;
    d.last_seen = now;
    return d;
  }

  // Parses a payload as JSON (fails the test if it is not).
  static rapidjson::Document json(const std::string& payload) {
    rapidjson::Document doc;
    doc.Parse(payload.c_str(), payload.size());
    EXPECT_FALSE(doc.HasParseError()) << payload;
    return doc;
  }

  BridgeSettings settings;
  Topics topics;
  EventBus bus;
  RecordingMqtt mqtt;
  DeviceRegistry devices;
  ScriptedActions actions;
  Mappings mappings;
  std::int64_t now = 1795000000;  // 2026-11-18T...Z
};

}  // namespace peer2mqtt::test
