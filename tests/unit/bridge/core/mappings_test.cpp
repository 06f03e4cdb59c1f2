// Mappings: the mappings/*.json files load, every broken file is an error naming the file and
// the field, and placeholders are substituted inside parsed strings (so escaping survives).
#include "core/mappings.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace peer2mqtt {
namespace {

namespace fs = std::filesystem;

const std::string kRepoMappings = std::string(HOMEP2P_SOURCE_DIR) + "/mappings";
constexpr std::string_view kOrigin = "mappings/Test.json";

std::string parse_error(const std::string& json) {
  auto result = Mappings::parse(json, kOrigin);
  if (result.ok()) return "(parsed without error)";
  return result.error().message;
}

std::string with_entity(const std::string& entity) {
  return R"({"service_type":"SwitchPower","entities":[)" + entity + "]}";
}

std::string with_config(const std::string& config) {
  return with_entity(R"({"component":"switch","object_id":"power","name":"Power","config":)" + config + "}");
}

std::string serialize(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return buffer.GetString();
}

// A scratch folder of mapping files, removed at the end of the test.
class ScratchFolder {
 public:
  explicit ScratchFolder(const std::string& name)
      : path_(fs::path(::testing::TempDir()) / ("peer2mqtt_mappings_" + name + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~ScratchFolder() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  void write(const std::string& file, const std::string& text) const { std::ofstream(path_ / file) << text; }
  std::string path() const { return path_.string(); }

 private:
  fs::path path_;
};

TEST(Mappings, TheRepositoryMappingFilesLoad) {
  auto mappings = Mappings::load_directory(kRepoMappings);
  ASSERT_TRUE(mappings.ok()) << mappings.error().message;
  EXPECT_EQ(mappings->size(), 3u);  // README.md is not a mapping

  const ServiceMapping* power = mappings->find("SwitchPower");
  ASSERT_NE(power, nullptr);
  ASSERT_EQ(power->entities.size(), 1u);
  EXPECT_EQ(power->entities[0].component, "switch");
  EXPECT_NE(power->source_file.find("SwitchPower.json"), std::string::npos);

  const ServiceMapping* dimming = mappings->find("Dimming");
  ASSERT_NE(dimming, nullptr);
  ASSERT_EQ(dimming->entities.size(), 1u);
  EXPECT_EQ(dimming->entities[0].component, "light");
  rapidjson::Document light;
  light.Parse(dimming->entities[0].config_json.c_str());
  ASSERT_TRUE(light.IsObject());
  EXPECT_STREQ(light["schema"].GetString(), "template");
  for (const char* key : {"command_on_template", "command_off_template", "state_template", "brightness_template"}) {
    EXPECT_TRUE(light.HasMember(key)) << key;
  }

  const ServiceMapping* thermo = mappings->find("TemperatureSensor");
  ASSERT_NE(thermo, nullptr);
  ASSERT_EQ(thermo->entities.size(), 1u);
  EXPECT_EQ(thermo->entities[0].component, "sensor");
  rapidjson::Document sensor;
  sensor.Parse(thermo->entities[0].config_json.c_str());
  ASSERT_TRUE(sensor.IsObject());
  EXPECT_STREQ(sensor["device_class"].GetString(), "temperature");
  EXPECT_STREQ(sensor["state_class"].GetString(), "measurement");
  EXPECT_STREQ(sensor["unit_of_measurement"].GetString(), "°C");

  EXPECT_EQ(mappings->find("Unknown"), nullptr);
}

TEST(Mappings, SwitchPowerPayloadsBecomeTheServiceInvocationsAfterSubstitution) {
  auto mappings = Mappings::load_directory(kRepoMappings);
  ASSERT_TRUE(mappings.ok()) << mappings.error().message;
  const ServiceMapping* power = mappings->find("SwitchPower");
  ASSERT_NE(power, nullptr);
  PlaceholderValues values{"peer2mqtt", "Lamp", "id-1", "lamp", "peer2mqtt/Lamp", "peer2mqtt/Lamp/set"};
  rapidjson::Document config = render_config(power->entities[0], values);
  EXPECT_STREQ(config["command_topic"].GetString(), "peer2mqtt/Lamp/set");
  EXPECT_STREQ(config["state_topic"].GetString(), "peer2mqtt/Lamp");
  EXPECT_STREQ(config["payload_on"].GetString(), R"({"lamp":{"SetPower":{"on":true}}})");
  EXPECT_STREQ(config["payload_off"].GetString(), R"({"lamp":{"SetPower":{"on":false}}})");
  EXPECT_STREQ(config["value_template"].GetString(), "{{ 'ON' if value_json['lamp'].on else 'OFF' }}");
  // The payloads are JSON themselves: what the bridge's /set handler will parse.
  rapidjson::Document on;
  on.Parse(config["payload_on"].GetString());
  ASSERT_FALSE(on.HasParseError());
  EXPECT_TRUE(on["lamp"]["SetPower"]["on"].GetBool());
}

TEST(Mappings, ConfigIsKeptAsCompactJsonText) {
  auto m = Mappings::parse(with_config(R"({ "state_topic" : "${state_topic}",  "qos": 1, "opts": [1, 2] })"), kOrigin);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->service_type, "SwitchPower");
  EXPECT_EQ(m->source_file, kOrigin);
  ASSERT_EQ(m->entities.size(), 1u);
  EXPECT_EQ(m->entities[0].object_id, "power");
  EXPECT_EQ(m->entities[0].name, "Power");
  EXPECT_EQ(m->entities[0].config_json, R"({"state_topic":"${state_topic}","qos":1,"opts":[1,2]})");
}

struct BrokenCase {
  const char* what;
  std::string json;
  std::string expected;  // a part of the error message
};

TEST(Mappings, EveryBrokenFileIsAnErrorNamingTheFileAndTheField) {
  const std::string entity_head = R"({"component":"switch","object_id":"power","name":"Power")";
  const std::vector<BrokenCase> cases = {
      {"not JSON", "{\"service_type\":", "mappings/Test.json: not valid JSON at offset"},
      {"not an object", "[1,2]", "mappings/Test.json: expected a JSON object at the top level"},
      {"unknown top-level key", R"({"service_type":"X","entites":[]})",
       "mappings/Test.json: entites: unknown key (expected one of service_type, entities, description)"},
      {"no service_type", R"({"entities":[]})", "mappings/Test.json: service_type: missing"},
      {"empty service_type", R"({"service_type":"","entities":[]})",
       "mappings/Test.json: service_type: expected a non-empty string"},
      {"service_type not a string", R"({"service_type":7,"entities":[]})",
       "mappings/Test.json: service_type: expected a non-empty string"},
      {"description not a string", R"({"service_type":"X","description":1,"entities":[]})",
       "mappings/Test.json: description: expected a string"},
      {"no entities", R"({"service_type":"X"})", "mappings/Test.json: entities: missing"},
      {"empty entities", R"({"service_type":"X","entities":[]})",
       "mappings/Test.json: entities: expected a non-empty array"},
      {"entities not an array", R"({"service_type":"X","entities":{}})",
       "mappings/Test.json: entities: expected a non-empty array"},
      {"entity not an object", with_entity("3"), "mappings/Test.json: entities[0]: expected an object"},
      {"unknown entity key", with_entity(entity_head + R"(,"conifg":{}})"),
       "mappings/Test.json: entities[0].conifg: unknown key (expected one of component, object_id, name, config)"},
      {"no component", with_entity(R"({"object_id":"power","name":"Power","config":{}})"),
       "mappings/Test.json: entities[0].component: missing"},
      {"unknown component", with_entity(R"({"component":"lamp","object_id":"power","name":"Power","config":{}})"),
       "mappings/Test.json: entities[0].component: expected one of switch, light, sensor, binary_sensor, number, "
       "button, select, text"},
      {"no object_id", with_entity(R"({"component":"switch","name":"Power","config":{}})"),
       "mappings/Test.json: entities[0].object_id: missing"},
      {"object_id with capitals", with_entity(R"({"component":"switch","object_id":"Power","name":"P","config":{}})"),
       "mappings/Test.json: entities[0].object_id: expected a non-empty string of [a-z0-9_]"},
      {"object_id with a slash", with_entity(R"({"component":"switch","object_id":"a/b","name":"P","config":{}})"),
       "mappings/Test.json: entities[0].object_id: expected a non-empty string of [a-z0-9_]"},
      {"empty object_id", with_entity(R"({"component":"switch","object_id":"","name":"P","config":{}})"),
       "mappings/Test.json: entities[0].object_id: expected a non-empty string of [a-z0-9_]"},
      {"duplicate object_id", with_entity(entity_head + R"(,"config":{}},)" + entity_head + R"(,"config":{}})"),
       "mappings/Test.json: entities[1].object_id: 'power' is used by an earlier entity of this file"},
      {"no name", with_entity(R"({"component":"switch","object_id":"power","config":{}})"),
       "mappings/Test.json: entities[0].name: missing"},
      {"name not a string", with_entity(R"({"component":"switch","object_id":"power","name":1,"config":{}})"),
       "mappings/Test.json: entities[0].name: expected a string"},
      {"no config", with_entity(entity_head + "}"), "mappings/Test.json: entities[0].config: missing"},
      {"config not an object", with_entity(entity_head + R"(,"config":"x"})"),
       "mappings/Test.json: entities[0].config: expected an object"},
      {"config sets unique_id", with_config(R"({"unique_id":"x"})"),
       "mappings/Test.json: entities[0].config.unique_id: set by the bridge for every entity"},
      {"config sets availability", with_config(R"({"availability":[]})"),
       "mappings/Test.json: entities[0].config.availability: set by the bridge for every entity"},
      {"unknown placeholder", with_config(R"({"payload_on":"{\"${servce}\":1}"})"),
       "mappings/Test.json: entities[0].config.payload_on: unknown placeholder ${servce} (known: ${base_topic}, "
       "${device}, ${device_id}, ${service}, ${state_topic}, ${command_topic})"},
      {"unknown placeholder deep inside", with_config(R"({"options":["ok",{"x":"${devce}"}]})"),
       "mappings/Test.json: entities[0].config.options[1].x: unknown placeholder ${devce}"},
      {"unterminated placeholder", with_config(R"({"state_topic":"${state_topic"})"),
       "mappings/Test.json: entities[0].config.state_topic: unterminated placeholder"},
  };
  for (const auto& c : cases) {
    const std::string message = parse_error(c.json);
    EXPECT_NE(message.find(c.expected), std::string::npos)
        << c.what << "\n  got:      " << message << "\n  expected: " << c.expected;
  }
}

TEST(Mappings, EverySupportedComponentIsAccepted) {
  for (const char* component : {"switch", "light", "sensor", "binary_sensor", "number", "button", "select", "text"}) {
    auto m = Mappings::parse(
        with_entity(std::string(R"({"component":")") + component + R"(","object_id":"x","name":"X","config":{}})"),
        kOrigin);
    EXPECT_TRUE(m.ok()) << component << ": " << (m.ok() ? "" : m.error().message);
  }
}

TEST(Mappings, PlaceholderSubstitutionKeepsQuotesAndBackslashesEscaped) {
  auto m = Mappings::parse(with_config(R"({"payload_on":"{\"${service}\":{\"SetPower\":{\"on\":true}}}",)"
                                       R"js("label":"${device} (${device_id})",)js"
                                       R"("nested":{"list":["${base_topic}/x",3,true]}})"),
                           kOrigin);
  ASSERT_TRUE(m.ok()) << m.error().message;
  PlaceholderValues values;
  values.base_topic = "p2m";
  values.device = R"(Lamp "big" \ one)";
  values.device_id = "id-1";
  values.service = R"(sw"1)";
  rapidjson::Document config = render_config(m->entities[0], values);
  ASSERT_TRUE(config.IsObject());
  EXPECT_STREQ(config["label"].GetString(), R"(Lamp "big" \ one (id-1))");
  EXPECT_STREQ(config["payload_on"].GetString(), R"({"sw"1":{"SetPower":{"on":true}}})");
  EXPECT_STREQ(config["nested"]["list"][0].GetString(), "p2m/x");
  EXPECT_EQ(config["nested"]["list"][1].GetInt(), 3);

  // Serialized, the config is valid JSON whose strings are exactly the substituted texts.
  const std::string text = serialize(config);
  EXPECT_NE(text.find(R"(\"big\" \\ one)"), std::string::npos) << text;
  rapidjson::Document back;
  back.Parse(text.c_str());
  ASSERT_FALSE(back.HasParseError()) << text;
  EXPECT_STREQ(back["label"].GetString(), R"(Lamp "big" \ one (id-1))");
}

TEST(Mappings, SubstitutedTextIsNotExpandedAgain) {
  EntityMapping e{"sensor", "x", "X", R"({"a":"${device}/${service}"})"};
  PlaceholderValues values;
  values.device = "${service}";
  values.service = "svc";
  rapidjson::Document config = render_config(e, values);
  EXPECT_STREQ(config["a"].GetString(), "${service}/svc");
}

TEST(Mappings, LoadingAFolderFailsOnAnyBrokenFileAndNamesIt) {
  ScratchFolder folder("broken");
  folder.write("Good.json", with_config("{}"));
  folder.write("Bad.json", R"({"service_type":"Dimming","entities":[{"component":"lamp"}]})");
  auto m = Mappings::load_directory(folder.path());
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("Bad.json: entities[0].component: expected one of"), std::string::npos)
      << m.error().message;
  EXPECT_EQ(m.error().code, homep2p::Errc::Config);
}

TEST(Mappings, TheSameServiceTypeInTwoFilesNamesBothFiles) {
  ScratchFolder folder("duplicate");
  folder.write("A.json", with_config("{}"));
  folder.write("B.json", with_config("{}"));
  folder.write("notes.txt", "not a mapping");
  auto m = Mappings::load_directory(folder.path());
  ASSERT_FALSE(m.ok());
  const std::string& message = m.error().message;
  EXPECT_NE(message.find("B.json: service_type: 'SwitchPower' is already mapped by "), std::string::npos) << message;
  EXPECT_NE(message.find("A.json"), std::string::npos) << message;
}

TEST(Mappings, OnlyJsonFilesAreRead) {
  ScratchFolder folder("only_json");
  folder.write("A.json", with_config("{}"));
  folder.write("notes.txt", "{ not json");
  auto m = Mappings::load_directory(folder.path());
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->size(), 1u);
  ASSERT_NE(m->find("SwitchPower"), nullptr);
  EXPECT_NE(m->find("SwitchPower")->source_file.find("A.json"), std::string::npos);
}

TEST(Mappings, AMissingFolderIsAnError) {
  auto m = Mappings::load_directory("/nonexistent/peer2mqtt/mappings");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("/nonexistent/peer2mqtt/mappings"), std::string::npos);
}

// Issue 6, found by tests/fuzz/fuzz_mappings (corpus regress-duplicate-config-key): a duplicate
// key in a config was published as ambiguous JSON (Home Assistant keeps the last, RapidJSON the
// first); and a deeply nested file or config overflowed the stack (regress-deep-config).
TEST(Mappings, ADuplicateConfigKeyIsAnError) {
  const auto m = Mappings::parse(
      R"({"service_type":"X","entities":[{"component":"switch","object_id":"a","name":"A",)"
      R"("config":{"state_on":"ON","x":{"y":1,"y":2}}}]})",
      "mappings/Test.json");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().message, "mappings/Test.json: entities[0].config.x.y: duplicate key");
}

TEST(Mappings, DeepNestingIsAnErrorNotAStackOverflow) {
  std::string deep_config = R"({"service_type":"X","entities":[{"component":"sensor","object_id":"a","name":"A","config":{"v":)";
  deep_config += std::string(20, '[') + std::string(20, ']') + "}}]}";
  const auto m = Mappings::parse(deep_config, "mappings/Test.json");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("nested deeper than 16 levels"), std::string::npos) << m.error().message;
  EXPECT_FALSE(Mappings::parse(std::string(100000, '['), "mappings/Test.json").ok());
}

TEST(Mappings, AddReplacesTheMappingOfTheSameType) {
  Mappings mappings;
  mappings.add(ServiceMapping{"SwitchPower", "a.json", {}});
  mappings.add(ServiceMapping{"SwitchPower", "b.json", {}});
  EXPECT_EQ(mappings.size(), 1u);
  ASSERT_NE(mappings.find("SwitchPower"), nullptr);
  EXPECT_EQ(mappings.find("SwitchPower")->source_file, "b.json");
}

}  // namespace
}  // namespace peer2mqtt
