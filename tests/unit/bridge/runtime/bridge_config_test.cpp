// peer2mqtt's configuration file: defaults, every key, errors naming file and key (with the
// file's own line numbers, also for the sections parsed by the device-file parser), environment
// overrides, unique client ids, and no secret in BridgeSettings.
#include "runtime/bridge_config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include "homep2p/crypto.hpp"

namespace peer2mqtt {
namespace {

using Env = std::map<std::string, std::string>;

constexpr const char* kOrigin = "cfg.yaml";
constexpr const char* kBridgeId = "3f2b8c1e-7d4a-4e9b-8c2f-1a6d5e4b3c21";
const std::string kMinimal = std::string("bridge:\n  id: ") + kBridgeId + "\n";

BridgeConfig parse_ok(const std::string& yaml, const Env& env = {}) {
  auto parsed = parse_bridge_config(yaml, kOrigin, env);
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().message);
  if (!parsed.ok()) return {};
  return std::move(parsed).value();
}

std::string parse_error(const std::string& yaml, const Env& env = {}) {
  auto parsed = parse_bridge_config(yaml, kOrigin, env);
  EXPECT_FALSE(parsed.ok()) << "accepted:\n" << yaml;
  if (parsed.ok()) return {};
  EXPECT_EQ(parsed.error().code, homep2p::Errc::Config);
  return parsed.error().message;
}

// Every field of BridgeSettings as one text, to search for secrets.
std::string serialize(const BridgeSettings& s) {
  return s.version + "|" + s.base_topic + "|" + (s.homeassistant_enabled ? "1" : "0") + "|" +
         s.homeassistant_prefix + "|" + s.homeassistant_status_topic + "|" + s.bridge_device_id +
         "|" + s.bridge_name + "|" + s.mqtt_server + "|" + s.lan_interface + "|" + s.log_level +
         "|" + std::to_string(s.lease_seconds) + "|" + std::to_string(s.search_mx);
}

class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "bridge_config_test.XXXXXX").string();
    path_ = ::mkdtemp(pattern.data()) ? pattern : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string write(const std::string& name, const std::string& text) const {
    std::string p = path_ + "/" + name;
    std::ofstream(p) << text;
    return p;
  }

 private:
  std::string path_;
};

// ---- defaults ----

TEST(BridgeConfig, OnlyTheBridgeIdGivenEverythingElseIsTheDocumentedDefault) {
  BridgeConfig c = parse_ok(kMinimal);
  EXPECT_EQ(c.mqtt.server, "mqtt://127.0.0.1:1883");
  EXPECT_EQ(c.mqtt.user, "");
  EXPECT_EQ(c.mqtt.password, "");
  EXPECT_EQ(c.mqtt.base_topic, "peer2mqtt");
  EXPECT_EQ(c.mqtt.ca_file, "");
  EXPECT_TRUE(c.mqtt.reject_unauthorized);
  EXPECT_EQ(c.mqtt.keepalive, 60u);
  EXPECT_TRUE(c.homeassistant.enabled);
  EXPECT_EQ(c.homeassistant.prefix, "homeassistant");
  EXPECT_EQ(c.homeassistant.status_topic, "homeassistant/status");
  EXPECT_EQ(c.device.device_id, kBridgeId);
  EXPECT_EQ(c.device.device_type, "Bridge");
  EXPECT_EQ(c.device.friendly_name, "peer2mqtt");
  EXPECT_EQ(c.device.interface, "127.0.0.1");
  EXPECT_EQ(c.device.port, 0);
  EXPECT_EQ(c.device.multicast_group, "239.255.77.1");
  EXPECT_EQ(c.device.multicast_port, 7788);
  EXPECT_TRUE(c.device.auth_required);
  EXPECT_EQ(c.device.max_connections, 64u);  // the bridge's default, not a device's 8
  EXPECT_TRUE(c.device.accounts.empty());
  EXPECT_FALSE(c.device.default_credential.has_value());
  EXPECT_TRUE(c.device.services.empty());
  EXPECT_EQ(c.mappings_dir, "mappings");
  EXPECT_EQ(c.state_file, "peer2mqtt-state.json");
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.lease_seconds, 600u);
  EXPECT_EQ(c.search_mx, 2u);
  EXPECT_TRUE(c.ignored_environment.empty());
}

TEST(BridgeConfig, DefaultClientIdIsPrefixBridgeIdAndFourRandomHexDigits) {
  BridgeConfig c = parse_ok(kMinimal);
  EXPECT_TRUE(std::regex_match(c.mqtt.client_id, std::regex("peer2mqtt_3f2b8c1e_[0-9a-f]{4}")))
      << c.mqtt.client_id;
  EXPECT_LE(c.mqtt.client_id.size(), 23u);  // MQTT 3.1.1's guaranteed client id length
}

TEST(BridgeConfig, DefaultClientIdsDifferBetweenInstances) {
  // Two bridges (or a restarted one racing its old session) with one id kick each other off.
  std::set<std::string> ids;
  for (int i = 0; i < 8; ++i) ids.insert(parse_ok(kMinimal).mqtt.client_id);
  EXPECT_GE(ids.size(), 7u);  // 16 random bits each: two collisions in 8 draws is ~1e-6
}

TEST(BridgeConfig, AnEmptyFileWithTheBridgeIdFromTheEnvironmentIsValid) {
  BridgeConfig c = parse_ok("", {{"PEER2MQTT_BRIDGE_ID", kBridgeId}});
  EXPECT_EQ(c.device.device_id, kBridgeId);
}

TEST(BridgeConfig, NetworkSectionWithNothingMeansDefaults) {
  BridgeConfig c = parse_ok(kMinimal + "network:\nsecurity:\ncredentials:\nmqtt:\n");
  EXPECT_EQ(c.device.multicast_port, 7788);
  EXPECT_EQ(c.device.max_connections, 64u);
}

// ---- every key ----

TEST(BridgeConfig, EveryKeyIsRead) {
  const std::string yaml = R"(
mqtt:
  server: mqtts://broker.example:8884
  user: bridge-user
  password: broker-secret
  client_id: my-bridge
  base_topic: home/p2p
  ca: ca.pem
  cert: client.crt
  key: client.key
  reject_unauthorized: false
  keepalive: 30
homeassistant:
  enabled: false
  discovery_prefix: ha
  status_topic: ha/birth
bridge:
  id: 3F2B8C1E-7D4A-4E9B-8C2F-1A6D5E4B3C21
  name: Attic bridge
network:
  interface: lo
  port: 7700
  multicast_group: 239.255.77.9
  multicast_port: 7799
  max_age: 60
  keepalive: 5
security:
  authentication: none
  max_connections: 12
  accounts:
    - user: admin
      password: account-secret
      role: admin
credentials:
  default:
    user: admin
    password: default-secret
  devices:
    d0e5e000-0000-4000-8000-000000000001:
      user: user
      password: device-secret
mappings: /opt/mappings
state_file: /var/lib/peer2mqtt/state.json
log_level: debug
lease_seconds: 120
search_mx: 5
)";
  BridgeConfig c = parse_ok(yaml);
  EXPECT_EQ(c.mqtt.server, "mqtts://broker.example:8884");
  EXPECT_EQ(c.mqtt.user, "bridge-user");
  EXPECT_EQ(c.mqtt.password, "broker-secret");
  EXPECT_EQ(c.mqtt.client_id, "my-bridge");
  EXPECT_EQ(c.mqtt.base_topic, "home/p2p");
  EXPECT_EQ(c.mqtt.ca_file, "ca.pem");
  EXPECT_EQ(c.mqtt.cert_file, "client.crt");
  EXPECT_EQ(c.mqtt.key_file, "client.key");
  EXPECT_FALSE(c.mqtt.reject_unauthorized);
  EXPECT_EQ(c.mqtt.keepalive, 30u);
  EXPECT_FALSE(c.homeassistant.enabled);
  EXPECT_EQ(c.homeassistant.prefix, "ha");
  EXPECT_EQ(c.homeassistant.status_topic, "ha/birth");
  EXPECT_EQ(c.device.device_id, kBridgeId);  // stored in lowercase
  EXPECT_EQ(c.device.friendly_name, "Attic bridge");
  EXPECT_EQ(c.device.interface, "lo");
  EXPECT_EQ(c.device.port, 7700);
  EXPECT_EQ(c.device.multicast_group, "239.255.77.9");
  EXPECT_EQ(c.device.multicast_port, 7799);
  EXPECT_EQ(c.device.max_age, 60u);
  EXPECT_EQ(c.device.keepalive_interval, 5u);
  EXPECT_FALSE(c.device.auth_required);
  EXPECT_EQ(c.device.max_connections, 12u);
  ASSERT_EQ(c.device.accounts.size(), 1u);
  EXPECT_EQ(c.device.accounts[0].user, "admin");
  EXPECT_EQ(c.device.accounts[0].role, homep2p::AccountRole::Admin);
  EXPECT_EQ(c.device.accounts[0].key, homep2p::derive_share_key("account-secret", "admin"));
  auto towards_other = c.device.credential_for("d0e5e000-0000-4000-8000-000000000002");
  ASSERT_TRUE(towards_other.has_value());
  EXPECT_EQ(towards_other->user, "admin");
  EXPECT_EQ(towards_other->key, homep2p::derive_share_key("default-secret", "admin"));
  auto towards_one = c.device.credential_for("d0e5e000-0000-4000-8000-000000000001");
  ASSERT_TRUE(towards_one.has_value());
  EXPECT_EQ(towards_one->user, "user");
  EXPECT_EQ(towards_one->key, homep2p::derive_share_key("device-secret", "user"));
  EXPECT_EQ(c.mappings_dir, "/opt/mappings");
  EXPECT_EQ(c.state_file, "/var/lib/peer2mqtt/state.json");
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.lease_seconds, 120u);
  EXPECT_EQ(c.search_mx, 5u);
}

TEST(BridgeConfig, ServerPortDefaultsByScheme) {
  EXPECT_EQ(parse_ok(kMinimal + "mqtt: {server: mqtt://broker}\n").mqtt.server,
            "mqtt://broker:1883");
  EXPECT_EQ(parse_ok(kMinimal + "mqtt: {server: 'mqtts://broker/'}\n").mqtt.server,
            "mqtts://broker:8883");
  EXPECT_EQ(parse_ok(kMinimal + "mqtt: {server: 'mqtt://[::1]:1999'}\n").mqtt.server,
            "mqtt://[::1]:1999");
}

TEST(BridgeConfig, CredentialsInTheServerUrlMoveToUserAndPasswordAndLeaveTheUrl) {
  BridgeConfig c = parse_ok(kMinimal + "mqtt: {server: 'mqtt://alice:p%40ss@broker:1884'}\n");
  EXPECT_EQ(c.mqtt.server, "mqtt://broker:1884");
  EXPECT_EQ(c.mqtt.user, "alice");
  EXPECT_EQ(c.mqtt.password, "p%40ss");
}

TEST(BridgeConfig, HomeAssistantAsABooleanLikeZigbee2MqttOneIsAccepted) {
  EXPECT_FALSE(parse_ok(kMinimal + "homeassistant: false\n").homeassistant.enabled);
  EXPECT_TRUE(parse_ok(kMinimal + "homeassistant: true\n").homeassistant.enabled);
}

TEST(BridgeConfig, StatusTopicFollowsTheDiscoveryPrefixWhenNotGiven) {
  EXPECT_EQ(
      parse_ok(kMinimal + "homeassistant: {discovery_prefix: hass}\n").homeassistant.status_topic,
      "hass/status");
}

TEST(BridgeConfig, SecurityWithoutMaxConnectionsStillDefaultsTo64) {
  BridgeConfig c = parse_ok(kMinimal + "security:\n  authentication: none\n");
  EXPECT_FALSE(c.device.auth_required);
  EXPECT_EQ(c.device.max_connections, 64u);
}

TEST(BridgeConfig, QuotedValuesThatLookLikeNullOrBooleansStayStrings) {
  // The device part goes through YAML once more; quoting must survive that.
  BridgeConfig c =
      parse_ok(kMinimal + "credentials:\n  default:\n    user: 'yes'\n    password: '~'\n");
  ASSERT_TRUE(c.device.default_credential.has_value());
  EXPECT_EQ(c.device.default_credential->user, "yes");
  EXPECT_EQ(c.device.default_credential->key, homep2p::derive_share_key("~", "yes"));
}

// ---- errors name the file and the key ----

struct ErrorCase {
  std::string yaml;
  std::string expected;  // the start of the message
};
// ctest names a parameterized test after its printed parameter: the YAML of the case on one
// line (without the minimal bridge section most cases start with), not its bytes.
void PrintTo(const ErrorCase& c, std::ostream* out) {
  std::string yaml = c.yaml.rfind(kMinimal, 0) == 0 ? c.yaml.substr(kMinimal.size()) : c.yaml;
  for (char& ch : yaml) ch = ch == '\n' ? ' ' : ch;
  *out << yaml;
}

class BridgeConfigErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(BridgeConfigErrors, MessageNamesFileAndKey) {
  std::string message = parse_error(GetParam().yaml);
  EXPECT_EQ(message.rfind(GetParam().expected, 0), 0u) << "got: " << message;
}

const std::string kId = std::string("  id: ") + kBridgeId + "\n";

INSTANTIATE_TEST_SUITE_P(
    EveryKey, BridgeConfigErrors,
    ::testing::Values(
        ErrorCase{kMinimal + "mqtt:\n  server: http://x\n",
                  "cfg.yaml: mqtt.server: expected mqtt://host:port or mqtts://host:port, got "
                  "'http://x' (line 4"},
        ErrorCase{kMinimal + "mqtt: {server: 'mqtt://host:0'}\n",
                  "cfg.yaml: mqtt.server: expected mqtt://host:port"},
        ErrorCase{kMinimal + "mqtt: {server: 'mqtt://host:70000'}\n",
                  "cfg.yaml: mqtt.server: expected"},
        ErrorCase{kMinimal + "mqtt: {server: 'mqtt://:1883'}\n", "cfg.yaml: mqtt.server: expected"},
        ErrorCase{kMinimal + "mqtt: {server: 'mqtt://host:'}\n", "cfg.yaml: mqtt.server: expected"},
        ErrorCase{kMinimal + "mqtt: {server: 'mqtt://host/path'}\n",
                  "cfg.yaml: mqtt.server: expected"},
        ErrorCase{
            kMinimal + "mqtt: {server: [a]}\n",
            "cfg.yaml: mqtt.server: expected mqtt://host:port or mqtts://host:port, got a list"},
        ErrorCase{kMinimal + "mqtt: {user: a, server: 'mqtt://b@h:1'}\n",
                  "cfg.yaml: mqtt.server: a user is given both"},
        ErrorCase{kMinimal + "mqtt: {password: x}\n",
                  "cfg.yaml: mqtt.password: given without mqtt.user"},
        ErrorCase{kMinimal + "mqtt: {user: ''}\n",
                  "cfg.yaml: mqtt.user: expected a string of 1..256"},
        ErrorCase{kMinimal + "mqtt: {user: a, password: ''}\n",
                  "cfg.yaml: mqtt.password: expected a password, got an empty one"},
        ErrorCase{kMinimal + "mqtt: {client_id: ''}\n",
                  "cfg.yaml: mqtt.client_id: expected a string of 1..256"},
        ErrorCase{kMinimal + "mqtt: {base_topic: 'a/#'}\n",
                  "cfg.yaml: mqtt.base_topic: expected an MQTT topic"},
        ErrorCase{kMinimal + "mqtt: {base_topic: '/a'}\n",
                  "cfg.yaml: mqtt.base_topic: expected an MQTT topic"},
        ErrorCase{kMinimal + "mqtt: {ca: ca.pem}\n",
                  "cfg.yaml: mqtt.ca: set, but mqtt.server is not mqtts://"},
        ErrorCase{kMinimal + "mqtt: {cert: c.pem}\n",
                  "cfg.yaml: mqtt.cert: set, but mqtt.server is not mqtts://"},
        ErrorCase{kMinimal + "mqtt: {server: 'mqtts://h', key: k.pem}\n",
                  "cfg.yaml: mqtt.key: given without mqtt.cert"},
        ErrorCase{kMinimal + "mqtt: {reject_unauthorized: perhaps}\n",
                  "cfg.yaml: mqtt.reject_unauthorized: expected true or false, got 'perhaps'"},
        ErrorCase{kMinimal + "mqtt: {keepalive: 0}\n",
                  "cfg.yaml: mqtt.keepalive: expected an integer 1..65535, got '0'"},
        ErrorCase{kMinimal + "mqtt: {servre: 'mqtt://h'}\n",
                  "cfg.yaml: mqtt.servre: unknown key (expected one of: server, user"},
        ErrorCase{kMinimal + "mqtt:\n  server: 'mqtt://a'\n  server: 'mqtt://b'\n",
                  "cfg.yaml: mqtt.server: given twice"},
        ErrorCase{kMinimal + "mqtt: [a]\n", "cfg.yaml: mqtt: expected a mapping, got a list"},
        ErrorCase{kMinimal + "homeassistant: {enabled: maybe}\n",
                  "cfg.yaml: homeassistant.enabled: expected true or false"},
        ErrorCase{kMinimal + "homeassistant: maybe\n",
                  "cfg.yaml: homeassistant: expected true or false"},
        ErrorCase{kMinimal + "homeassistant: {discovery_prefix: 'ha/+'}\n",
                  "cfg.yaml: homeassistant.discovery_prefix: expected an MQTT topic"},
        ErrorCase{kMinimal + "homeassistant: {status_topic: ''}\n",
                  "cfg.yaml: homeassistant.status_topic: expected an MQTT topic"},
        ErrorCase{kMinimal + "homeassistant: {prefix: x}\n",
                  "cfg.yaml: homeassistant.prefix: unknown key"},
        ErrorCase{"mqtt: {}\n", "cfg.yaml: bridge.id: missing: expected a UUID"},
        ErrorCase{"bridge: {name: x}\n", "cfg.yaml: bridge.id: missing: expected a UUID"},
        ErrorCase{"bridge:\n  id: not-a-uuid\n",
                  "cfg.yaml: bridge.id: expected a UUID (8-4-4-4-12 hex digits), got 'not-a-uuid' "
                  "(line 2, column 7)"},
        ErrorCase{"bridge:\n" + kId + "  name: ''\n",
                  "cfg.yaml: bridge.name: expected a string of 1..64 characters"},
        ErrorCase{"bridge:\n" + kId + "  type: Bridge\n",
                  "cfg.yaml: bridge.type: unknown key (expected one of: id, name)"},
        ErrorCase{
            kMinimal + "network:\n  port: 70000\n",
            "cfg.yaml: network.port: expected an integer 0..65535, got '70000' (line 4, column 9)"},
        ErrorCase{kMinimal + "network:\n  multicast_group: 10.0.0.1\n",
                  "cfg.yaml: network.multicast_group: expected a multicast address"},
        ErrorCase{kMinimal + "network:\n  multicast_port: 0\n",
                  "cfg.yaml: network.multicast_port: expected an integer 1..65535"},
        ErrorCase{kMinimal + "network:\n  max_age: 1\n",
                  "cfg.yaml: network.max_age: expected an integer 2..86400"},
        ErrorCase{kMinimal + "network:\n  keepalive: 0\n",
                  "cfg.yaml: network.keepalive: expected an integer 1..3600"},
        ErrorCase{kMinimal + "network:\n  interface: 'a b'\n",
                  "cfg.yaml: network.interface: expected an interface name or address"},
        ErrorCase{kMinimal + "network:\n  colour: red\n",
                  "cfg.yaml: network.colour: unknown key (expected one of: interface, port, "
                  "multicast_group, multicast_port, max_age, keepalive) (line 4, column 3)"},
        ErrorCase{kMinimal + "network: [1]\n",
                  "cfg.yaml: network: expected a mapping, got a list (line 3, column 10)"},
        ErrorCase{kMinimal + "security:\n  authentication: maybe\n",
                  "cfg.yaml: security.authentication: expected 'required' or 'none'"},
        ErrorCase{kMinimal + "security:\n  max_connections: 0\n",
                  "cfg.yaml: security.max_connections: expected an integer 1..65535, got '0' (line "
                  "4, column 20)"},
        ErrorCase{
            kMinimal + "security:\n  accounts:\n    - {user: a, password: b, role: root}\n",
            "cfg.yaml: security.accounts[0].role: expected 'user' or 'admin', got 'root' (line 5"},
        ErrorCase{kMinimal + "security:\n  accounts:\n    - {user: a, password: b}\n    - {user: "
                             "a, password: c}\n",
                  "cfg.yaml: security.accounts[1].user: duplicate user 'a' (also in "
                  "security.accounts[0]) (line 6"},
        ErrorCase{kMinimal + "credentials:\n  default: {user: a}\n",
                  "cfg.yaml: credentials.default.password: missing: expected a password"},
        ErrorCase{kMinimal + "credentials:\n  devices:\n    lamp: {user: a, password: b}\n",
                  "cfg.yaml: credentials.devices.lamp: expected a device id (UUID) as the key, got "
                  "'lamp'"},
        ErrorCase{kMinimal + "credentials:\n  fallback: {}\n",
                  "cfg.yaml: credentials.fallback: unknown key"},
        ErrorCase{kMinimal + "services: []\n", "cfg.yaml: services: unknown key"},
        ErrorCase{kMinimal + "mqqt: {}\n",
                  "cfg.yaml: mqqt: unknown key (expected one of: mqtt, homeassistant, bridge"},
        ErrorCase{kMinimal + "mappings: ''\n",
                  "cfg.yaml: mappings: expected a string of 1..4096 characters"},
        ErrorCase{kMinimal + "state_file: [a]\n",
                  "cfg.yaml: state_file: expected a string of 1..4096 characters, got a list"},
        ErrorCase{
            kMinimal + "log_level: verbose\n",
            "cfg.yaml: log_level: expected one of trace, debug, info, warn, error, got 'verbose'"},
        ErrorCase{kMinimal + "lease_seconds: 5\n",
                  "cfg.yaml: lease_seconds: expected an integer 10..86400"},
        ErrorCase{kMinimal + "search_mx: 121\n", "cfg.yaml: search_mx: expected an integer 0..120"},
        ErrorCase{"- a\n- b\n", "cfg.yaml: expected a mapping at the top level, got a list"},
        ErrorCase{"bridge: {id: [\n", "cfg.yaml: invalid YAML"}));

TEST(BridgeConfig, ErrorsNeverEchoAPassword) {
  for (const std::string& yaml : {
           kMinimal + "mqtt: {server: 'mqtt://alice:hunter2@host:notaport'}\n",
           kMinimal + "mqtt: {server: 'ftp://alice:hunter2@host'}\n",
           kMinimal + "credentials:\n  default: {user: a, password: hunter2, role: admin}\n",
           kMinimal + "security:\n  accounts:\n    - {user: '', password: hunter2}\n",
       }) {
    std::string message = parse_error(yaml);
    EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
    EXPECT_EQ(message.rfind("cfg.yaml: ", 0), 0u) << message;
  }
}

// ---- environment overrides ----

TEST(BridgeConfig, EveryEnvironmentVariableOverridesItsKey) {
  const Env env{
      {"PEER2MQTT_MQTT_SERVER", "mqtts://env-broker:9999"},
      {"PEER2MQTT_MQTT_USER", "env-user"},
      {"PEER2MQTT_MQTT_PASSWORD", "env-secret"},
      {"PEER2MQTT_MQTT_CLIENT_ID", "env-client"},
      {"PEER2MQTT_MQTT_BASE_TOPIC", "env/base"},
      {"PEER2MQTT_HOMEASSISTANT_ENABLED", "false"},
      {"PEER2MQTT_HOMEASSISTANT_DISCOVERY_PREFIX", "env-ha"},
      {"PEER2MQTT_BRIDGE_ID", "d0e5e000-0000-4000-8000-00000000000a"},
      {"PEER2MQTT_NETWORK_INTERFACE", "lo"},
      {"PEER2MQTT_MAPPINGS", "/env/mappings"},
      {"PEER2MQTT_STATE_FILE", "/env/state.json"},
      {"PEER2MQTT_LOG_LEVEL", "trace"},
  };
  const std::string file = kMinimal + R"(mqtt:
  server: mqtt://file-broker:1883
  user: file-user
  password: file-secret
  client_id: file-client
  base_topic: file
homeassistant:
  enabled: true
  discovery_prefix: file-ha
network:
  interface: 127.0.0.1
mappings: file-mappings
state_file: file-state.json
log_level: error
)";
  BridgeConfig c = parse_ok(file, env);
  EXPECT_EQ(c.mqtt.server, "mqtts://env-broker:9999");
  EXPECT_EQ(c.mqtt.user, "env-user");
  EXPECT_EQ(c.mqtt.password, "env-secret");
  EXPECT_EQ(c.mqtt.client_id, "env-client");
  EXPECT_EQ(c.mqtt.base_topic, "env/base");
  EXPECT_FALSE(c.homeassistant.enabled);
  EXPECT_EQ(c.homeassistant.prefix, "env-ha");
  EXPECT_EQ(c.homeassistant.status_topic, "env-ha/status");
  EXPECT_EQ(c.device.device_id, "d0e5e000-0000-4000-8000-00000000000a");
  EXPECT_EQ(c.device.interface, "lo");
  EXPECT_EQ(c.mappings_dir, "/env/mappings");
  EXPECT_EQ(c.state_file, "/env/state.json");
  EXPECT_EQ(c.log_level, "trace");
  EXPECT_TRUE(c.ignored_environment.empty());
}

TEST(BridgeConfig, EnvironmentCreatesSectionsTheFileLacks) {
  BridgeConfig c = parse_ok(kMinimal, {{"PEER2MQTT_MQTT_SERVER", "mqtt://10.0.0.2"},
                                       {"PEER2MQTT_NETWORK_INTERFACE", "eth0"}});
  EXPECT_EQ(c.mqtt.server, "mqtt://10.0.0.2:1883");
  EXPECT_EQ(c.device.interface, "eth0");
}

TEST(BridgeConfig, AnEmptyEnvironmentVariableCountsAsUnset) {
  BridgeConfig c =
      parse_ok(kMinimal + "mqtt: {server: 'mqtt://file:1883'}\n", {{"PEER2MQTT_MQTT_SERVER", ""}});
  EXPECT_EQ(c.mqtt.server, "mqtt://file:1883");
}

TEST(BridgeConfig, UnknownPeer2mqttVariablesAreReportedOthersIgnored) {
  BridgeConfig c = parse_ok(kMinimal, {{"PEER2MQTT_MQTT_SEVRER", "x"}, {"HOME", "/root"}});
  EXPECT_EQ(c.ignored_environment, std::vector<std::string>{"PEER2MQTT_MQTT_SEVRER"});
}

class BridgeConfigEnvErrors : public ::testing::TestWithParam<std::pair<std::string, std::string>> {
};

TEST_P(BridgeConfigEnvErrors, InvalidValueNamesTheVariable) {
  const auto& [variable, value] = GetParam();
  std::string message = parse_error(kMinimal, {{variable, value}});
  EXPECT_EQ(message.rfind("environment variable " + variable + " (overrides ", 0), 0u) << message;
  if (variable != "PEER2MQTT_MQTT_PASSWORD") {
    EXPECT_NE(message.find("expected"), std::string::npos) << message;
  }
}

INSTANTIATE_TEST_SUITE_P(
    EveryVariable, BridgeConfigEnvErrors,
    ::testing::Values(
        std::pair<std::string, std::string>{"PEER2MQTT_MQTT_SERVER", "tcp://x:1"},
        std::pair<std::string, std::string>{"PEER2MQTT_MQTT_USER", std::string(300, 'u')},
        std::pair<std::string, std::string>{"PEER2MQTT_MQTT_PASSWORD", "no-user-given"},
        std::pair<std::string, std::string>{"PEER2MQTT_MQTT_CLIENT_ID", std::string(300, 'c')},
        std::pair<std::string, std::string>{"PEER2MQTT_MQTT_BASE_TOPIC", "a/+/b"},
        std::pair<std::string, std::string>{"PEER2MQTT_HOMEASSISTANT_ENABLED", "sometimes"},
        std::pair<std::string, std::string>{"PEER2MQTT_HOMEASSISTANT_DISCOVERY_PREFIX", "#"},
        std::pair<std::string, std::string>{"PEER2MQTT_BRIDGE_ID", "bridge-1"},
        std::pair<std::string, std::string>{"PEER2MQTT_NETWORK_INTERFACE", "eth 0"},
        std::pair<std::string, std::string>{"PEER2MQTT_MAPPINGS", std::string(5000, 'm')},
        std::pair<std::string, std::string>{"PEER2MQTT_STATE_FILE", std::string(5000, 's')},
        std::pair<std::string, std::string>{"PEER2MQTT_LOG_LEVEL", "loud"}));

TEST(BridgeConfig, InvalidPasswordVariableIsNamedButNotEchoed) {
  std::string message = parse_error(kMinimal, {{"PEER2MQTT_MQTT_PASSWORD", "hunter2"}});
  EXPECT_NE(message.find("PEER2MQTT_MQTT_PASSWORD"), std::string::npos);
  EXPECT_EQ(message.find("hunter2"), std::string::npos);
}

TEST(BridgeConfig, ProcessEnvironmentYieldsOnlyPeer2mqttVariables) {
  ::setenv("PEER2MQTT_TEST_MARKER", "42", 1);
  auto env = peer2mqtt_environment();
  ::unsetenv("PEER2MQTT_TEST_MARKER");
  EXPECT_EQ(env["PEER2MQTT_TEST_MARKER"], "42");
  for (const auto& [name, value] : env) EXPECT_EQ(name.rfind("PEER2MQTT_", 0), 0u) << name;
}

// ---- settings: what bridge/info shows ----

TEST(BridgeConfig, SettingsCarryNoSecretAnywhere) {
  const std::string yaml = kMinimal + R"(mqtt:
  server: 'mqtt://urluser:url-secret-1@broker:1883'
security:
  accounts:
    - {user: admin, password: account-secret-2}
credentials:
  default: {user: admin, password: default-secret-3}
  devices:
    d0e5e000-0000-4000-8000-000000000001: {user: u, password: device-secret-4}
)";
  BridgeConfig c = parse_ok(yaml);
  ASSERT_EQ(c.mqtt.password, "url-secret-1");
  BridgeSettings s = c.settings("9.9.9");
  std::string text = serialize(s);
  for (const char* secret :
       {"url-secret-1", "account-secret-2", "default-secret-3", "device-secret-4", "urluser:"})
    EXPECT_EQ(text.find(secret), std::string::npos) << secret << " in " << text;
  EXPECT_EQ(s.mqtt_server, "mqtt://broker:1883");
}

TEST(BridgeConfig, SettingsMirrorTheConfiguration) {
  BridgeConfig c =
      parse_ok(kMinimal +
               "mqtt: {base_topic: p2p}\nhomeassistant: {discovery_prefix: hass}\n"
               "network: {interface: lo}\nlog_level: warn\nlease_seconds: 60\nsearch_mx: 3\n");
  BridgeSettings s = c.settings("1.2.3");
  EXPECT_EQ(s.version, "1.2.3");
  EXPECT_EQ(s.base_topic, "p2p");
  EXPECT_TRUE(s.homeassistant_enabled);
  EXPECT_EQ(s.homeassistant_prefix, "hass");
  EXPECT_EQ(s.homeassistant_status_topic, "hass/status");
  EXPECT_EQ(s.bridge_device_id, kBridgeId);
  EXPECT_EQ(s.bridge_name, "peer2mqtt");
  EXPECT_EQ(s.mqtt_server, "mqtt://127.0.0.1:1883");
  EXPECT_EQ(s.lan_interface, "lo");
  EXPECT_EQ(s.log_level, "warn");
  EXPECT_EQ(s.lease_seconds, 60u);
  EXPECT_EQ(s.search_mx, 3u);
}

TEST(BridgeConfig, SettingsStripCredentialsFromAServerSetDirectly) {
  BridgeConfig c;
  c.mqtt.server = "mqtt://bob:pw@h:1";
  EXPECT_EQ(c.settings("1").mqtt_server, "mqtt://h:1");
}

// ---- loading a file ----

TEST(BridgeConfig, LoadResolvesRelativePathsAgainstTheFilesFolder) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  std::string path =
      dir.write("configuration.yaml", kMinimal + "mappings: maps\nstate_file: data/state.json\n");
  auto c = load_bridge_config(path);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->mappings_dir, dir.path() + "/maps");
  EXPECT_EQ(c->state_file, dir.path() + "/data/state.json");
}

TEST(BridgeConfig, LoadKeepsAbsolutePathsAndResolvesRelativeOverrides) {
  TempDir dir;
  std::string path = dir.write("c.yaml", kMinimal + "mappings: /abs/maps\n");
  auto c = load_bridge_config(path, {{"PEER2MQTT_STATE_FILE", "s.json"}});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->mappings_dir, "/abs/maps");
  EXPECT_EQ(c->state_file, dir.path() + "/s.json");
}

TEST(BridgeConfig, LoadChecksThatTlsFilesAreReadable) {
  TempDir dir;
  dir.write("ca.pem", "not checked beyond being readable");
  std::string ok_path =
      dir.write("ok.yaml", kMinimal + "mqtt: {server: 'mqtts://h', ca: ca.pem}\n");
  auto ok = load_bridge_config(ok_path);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->mqtt.ca_file, dir.path() + "/ca.pem");

  std::string bad_path =
      dir.write("bad.yaml", kMinimal + "mqtt: {server: 'mqtts://h', ca: missing.pem}\n");
  auto bad = load_bridge_config(bad_path);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message.rfind(
                bad_path + ": mqtt.ca: cannot read '" + dir.path() + "/missing.pem'", 0),
            0u)
      << bad.error().message;
}

TEST(BridgeConfig, LoadOfAMissingFileNamesIt) {
  auto c = load_bridge_config("/nonexistent/peer2mqtt.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, homep2p::Errc::Config);
  EXPECT_NE(c.error().message.find("/nonexistent/peer2mqtt.yaml"), std::string::npos);
}

TEST(BridgeConfig, ErrorsFromLoadNameThePath) {
  TempDir dir;
  std::string path = dir.write("c.yaml", kMinimal + "log_level: loud\n");
  auto c = load_bridge_config(path);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message.rfind(path + ": log_level: ", 0), 0u) << c.error().message;
}

TEST(BridgeConfig, TheShippedExampleIsValid) {
  auto c = load_bridge_config(std::string(HOMEP2P_SOURCE_DIR) + "/examples/configuration.yaml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->device.device_id, kBridgeId);
  ASSERT_TRUE(c->device.default_credential.has_value());
  EXPECT_EQ(c->device.default_credential->user, "admin");  // `homepeer home`'s demo admin
  EXPECT_EQ(c->mappings_dir, std::string(HOMEP2P_SOURCE_DIR) + "/mappings");
}

}  // namespace
}  // namespace peer2mqtt
