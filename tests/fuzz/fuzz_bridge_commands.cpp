// Fuzz target: the bridge's MQTT command payloads, through the real extensions (all five, in the
// controller's order) with the in-memory fixture of the bridge unit tests (recording MQTT,
// scripted device actions: no broker, no devices). The input is a list of MQTT messages; each
// picks a topic (bridge/request/<every command>, an unknown command, <device>/set for a
// connected, an idle and an unknown device, homeassistant/status) and carries a fuzzed payload;
// one op flips whether the scripted device actions succeed or fail.
// Properties besides "no crash": every request gets exactly one response, on its command's
// response topic, a JSON object with status ok|error and never "internal error" (an exception
// inside the bridge); every payload the bridge publishes is JSON; no listener throws.
#include <rapidjson/document.h>

#include "bridge/bridge_fixture.hpp"
#include "core/mappings.hpp"
#include "extensions/extensions.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace peer2mqtt;
using homep2p::fuzz::FuzzInput;

constexpr const char* kLampId = "11111111-0000-4000-8000-000000000001";
constexpr const char* kPlugId = "22222222-0000-4000-8000-000000000002";

const char* const kTopics[] = {
    "peer2mqtt/bridge/request/device/connect",  "peer2mqtt/bridge/request/device/disconnect",
    "peer2mqtt/bridge/request/device/search",   "peer2mqtt/bridge/request/device/services",
    "peer2mqtt/bridge/request/device/invoke",   "peer2mqtt/bridge/request/device/configure",
    "peer2mqtt/bridge/request/device/rename",   "peer2mqtt/bridge/request/device/remove",
    "peer2mqtt/bridge/request/device/frobnicate", "peer2mqtt/bridge/request/",
    "peer2mqtt/Lamp/set",                       "peer2mqtt/Plug/set",
    "peer2mqtt/Nobody/set",                     "homeassistant/status",
};
constexpr std::size_t kTopicCount = sizeof kTopics / sizeof kTopics[0];
const std::string kRequestPrefix = "peer2mqtt/bridge/request/";

const Mappings& repo_mappings() {
  static const Mappings m = [] {
    auto loaded = Mappings::load_directory(std::string(HOMEP2P_SOURCE_DIR) + "/mappings");
    FUZZ_CHECK(loaded.ok(), "cannot load mappings/");
    return std::move(*loaded);
  }();
  return m;
}

bool is_json(const std::string& payload) {
  rapidjson::Document doc;
  doc.Parse(payload.c_str(), payload.size());
  return !doc.HasParseError();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzInput in(data, size);
  test::BridgeFixture f;
  f.bus = EventBus([](const std::string& where, const std::string& what) {
    FUZZ_CHECK(false, "a bridge listener threw: " + where + ": " + what);
  });
  f.mappings = repo_mappings();
  homep2p::ArgumentSpec on{"on", homep2p::ValueType::Bool, std::nullopt, std::nullopt};
  homep2p::ArgumentSpec level{"brightness", homep2p::ValueType::Int, 0.0, 100.0};
  DeviceRecord& lamp = f.add_device(kLampId, "Lamp", "Light", {{"lamp", "SwitchPower"}, {"dimmer", "Dimming"}});
  lamp.link = LinkState::Connected;
  lamp.services["lamp"] = ServiceView{"lamp", "SwitchPower", "lease-1",
                                      {homep2p::ActionSpec{"SetPower", {on}, false}, homep2p::ActionSpec{"Toggle", {}, false}},
                                      {{"on", false}}};
  lamp.services["dimmer"] = ServiceView{"dimmer", "Dimming", "lease-2",
                                        {homep2p::ActionSpec{"SetBrightness", {level}, true}}, {{"brightness", std::int64_t{0}}}};
  f.add_device(kPlugId, "Plug", "Plug");
  BridgeContext context = f.context();
  std::vector<std::unique_ptr<Extension>> extensions;
  extensions.push_back(make_bridge_state_extension(context));
  extensions.push_back(make_device_state_extension(context));
  extensions.push_back(make_home_assistant_extension(context));
  extensions.push_back(make_bridge_api_extension(context));
  extensions.push_back(make_device_commands_extension(context));
  for (auto& e : extensions) e->start();
  f.bus.publish(BridgeStarted{});

  while (!in.empty()) {
    const std::uint8_t op = in.byte();
    if (op == 0xff) {  // the devices start failing (or succeeding again)
      f.actions.default_result = f.actions.default_result.ok
                                     ? ActionResult{false, "ACCESSDENIED", "refused", {}}
                                     : ActionResult{true, "SUCCESS", "", {}};
      continue;
    }
    const std::string topic = kTopics[op % kTopicCount];
    const std::string payload = in.text(in.chunk(op & 0x80));
    const std::size_t published_before = f.mqtt.published.size();
    f.bus.publish(MqttReceived{topic, payload});

    std::size_t responses = 0;
    const bool request = topic.rfind(kRequestPrefix, 0) == 0;
    const std::string response_topic = "peer2mqtt/bridge/response/" + topic.substr(std::min(topic.size(), kRequestPrefix.size()));
    for (std::size_t i = published_before; i < f.mqtt.published.size(); ++i) {
      const MqttMessage& m = f.mqtt.published[i];
      FUZZ_CHECK(m.payload.empty() || is_json(m.payload), "published a payload that is not JSON on " + m.topic);
      if (m.topic.rfind("peer2mqtt/bridge/response/", 0) != 0) continue;
      FUZZ_CHECK(request && m.topic == response_topic, "a response on the wrong topic: " + m.topic);
      ++responses;
      rapidjson::Document doc;
      doc.Parse(m.payload.c_str(), m.payload.size());
      FUZZ_CHECK(doc.IsObject() && doc.HasMember("status") && doc["status"].IsString(), "a response without status");
      const std::string status = doc["status"].GetString();
      FUZZ_CHECK(status == "ok" || status == "error", "status is neither ok nor error");
      if (status == "error") {
        FUZZ_CHECK(doc.HasMember("error") && doc["error"].IsString(), "an error response without error text");
        FUZZ_CHECK(std::string(doc["error"].GetString()).rfind("internal error", 0) != 0,
                   std::string("an exception inside the bridge: ") + doc["error"].GetString());
      }
    }
    FUZZ_CHECK(responses == (request ? 1U : 0U), "not exactly one response to a request on " + topic);
  }
  for (auto it = extensions.rbegin(); it != extensions.rend(); ++it) (*it)->stop();
  FUZZ_CHECK(f.bus.listener_count() == 0, "an extension left a listener behind after stop()");
  return 0;
}
