#include "bridge_config.hpp"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <system_error>
#include <utility>

extern char** environ;  // POSIX: the process environment (peer2mqtt_environment reads it only)

namespace peer2mqtt {

namespace {

using homep2p::Errc;
using homep2p::make_error;

// Same bound as a device file: a wrong path (a log, a device node) is not read whole.
constexpr std::size_t kMaxConfigFileSize = std::size_t{1024} * 1024;
constexpr std::size_t kMaxShownValueLength = 40;
constexpr std::size_t kMaxTopicLength = 256;
constexpr std::size_t kMaxPathLength = 4096;
constexpr std::size_t kMaxClientIdLength = 256;
constexpr std::size_t kMaxMqttUserLength = 256;
constexpr std::uint32_t kBridgeMaxConnections = 64;
constexpr std::string_view kBridgeDeviceType = "Bridge";
constexpr std::string_view kServerExpected = "expected mqtt://host:port or mqtts://host:port";
constexpr std::string_view kEnvPrefix = "PEER2MQTT_";

// Environment variable -> the key it overrides.
struct Override {
  std::string_view variable;
  std::string_view section;  // empty: a top-level key
  std::string_view key;
};
constexpr std::array<Override, 12> kOverrides{{
    {"PEER2MQTT_MQTT_SERVER", "mqtt", "server"},
    {"PEER2MQTT_MQTT_USER", "mqtt", "user"},
    {"PEER2MQTT_MQTT_PASSWORD", "mqtt", "password"},
    {"PEER2MQTT_MQTT_CLIENT_ID", "mqtt", "client_id"},
    {"PEER2MQTT_MQTT_BASE_TOPIC", "mqtt", "base_topic"},
    {"PEER2MQTT_HOMEASSISTANT_ENABLED", "homeassistant", "enabled"},
    {"PEER2MQTT_HOMEASSISTANT_DISCOVERY_PREFIX", "homeassistant", "discovery_prefix"},
    {"PEER2MQTT_BRIDGE_ID", "bridge", "id"},
    {"PEER2MQTT_NETWORK_INTERFACE", "network", "interface"},
    {"PEER2MQTT_MAPPINGS", "", "mappings"},
    {"PEER2MQTT_STATE_FILE", "", "state_file"},
    {"PEER2MQTT_LOG_LEVEL", "", "log_level"},
}};

// Config loading is an edge (see result.hpp): inside this file a failure is thrown, and
// parse_bridge_config turns it into a Result. Nothing is thrown out of this file.
struct ConfigFailure {
  std::string message;
};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string location(const YAML::Mark& mark) {
  if (mark.is_null()) return {};
  return " (line " + std::to_string(mark.line + 1) + ", column " + std::to_string(mark.column + 1) +
         ")";
}

std::string join(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : std::string(path) + "." + std::string(key);
}

std::string shorten(const std::string& s) {
  return s.size() > kMaxShownValueLength ? s.substr(0, kMaxShownValueLength) + "..." : s;
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return "nothing";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar:
      break;
  }
  return "'" + shorten(node.Scalar()) + "'";
}

// A topic (or topic prefix) the bridge publishes under: no wildcards, no empty first or last
// level, no control characters.
bool valid_topic(std::string_view t) {
  if (t.empty() || t.size() > kMaxTopicLength || t.front() == '/' || t.back() == '/') return false;
  return std::none_of(t.begin(), t.end(), [](unsigned char c) {
    return c == '+' || c == '#' || c < 0x20 || c == 0x7f;
  });
}

struct ServerUrl {
  bool tls = false;
  std::string host;  // IPv6 literals keep their brackets
  std::uint16_t port = 0;
  std::optional<std::string> user;
  std::optional<std::string> password;

  std::string text() const {
    return std::string(tls ? "mqtts://" : "mqtt://") + host + ":" + std::to_string(port);
  }
};

bool host_char(unsigned char c) {
  return std::isalnum(c) || c == '.' || c == '-' || c == '_';
}

// mqtt[s]://[user[:password]@]host[:port][/]. The port defaults to 1883 / 8883.
std::optional<ServerUrl> parse_server(std::string_view s) {
  ServerUrl url;
  if (s.starts_with("mqtt://")) {
    s.remove_prefix(7);
  } else if (s.starts_with("mqtts://")) {
    url.tls = true;
    s.remove_prefix(8);
  } else {
    return std::nullopt;
  }
  if (s.ends_with("/")) s.remove_suffix(1);
  if (auto at = s.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = s.substr(0, at);
    s.remove_prefix(at + 1);
    auto colon = userinfo.find(':');
    url.user = std::string(userinfo.substr(0, colon));
    if (colon != std::string_view::npos) url.password = std::string(userinfo.substr(colon + 1));
    if (url.user->empty()) return std::nullopt;
  }
  std::string_view port_text;
  if (s.starts_with("[")) {  // [IPv6]
    auto close = s.find(']');
    if (close == std::string_view::npos || close < 3) return std::nullopt;
    std::string_view inside = s.substr(1, close - 1);
    if (!std::all_of(inside.begin(), inside.end(),
                     [](unsigned char c) { return std::isxdigit(c) || c == ':' || c == '.'; }))
      return std::nullopt;
    url.host = std::string(s.substr(0, close + 1));
    s.remove_prefix(close + 1);
    if (!s.empty()) {
      if (s.front() != ':') return std::nullopt;
      port_text = s.substr(1);
      if (port_text.empty()) return std::nullopt;
    }
  } else {
    auto colon = s.find(':');
    url.host = std::string(s.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = s.substr(colon + 1);
      if (port_text.empty()) return std::nullopt;
    }
    if (url.host.empty() || url.host.size() > 253 ||
        !std::all_of(url.host.begin(), url.host.end(), host_char))
      return std::nullopt;
  }
  url.port = url.tls ? 8883 : 1883;
  if (!port_text.empty()) {
    unsigned v = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), v);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || v < 1 || v > 65535)
      return std::nullopt;
    url.port = static_cast<std::uint16_t>(v);
  }
  return url;
}

// The server text with any user:password@ part replaced, fit for messages and bridge/info.
std::string redact_server(std::string_view s) {
  auto scheme = s.find("://");
  std::size_t start = scheme == std::string_view::npos ? 0 : scheme + 3;
  auto at = s.rfind('@');
  if (at == std::string_view::npos || at < start) return std::string(s);
  return std::string(s.substr(0, start)) + std::string(s.substr(at + 1));
}

std::optional<bool> parse_bool(std::string_view s) {
  std::string v = lower(s);
  if (v == "true" || v == "yes" || v == "on" || v == "1") return true;
  if (v == "false" || v == "no" || v == "off" || v == "0") return false;
  return std::nullopt;
}

std::string random_hex(std::size_t digits) {
  // Only for the client id's uniqueness, not for secrets.
  std::random_device device;
  std::uniform_int_distribution<int> nibble(0, 15);
  std::string out;
  for (std::size_t i = 0; i < digits; ++i) out += "0123456789abcdef"[nibble(device)];
  return out;
}

class Reader {
 public:
  Reader(std::string_view origin, std::map<std::string, std::string> overridden)
      : origin_(origin), overridden_(std::move(overridden)) {}

  const std::string& origin() const { return origin_; }

  // The error for `path`; a key set from the environment names the variable instead of the file.
  std::string message(const std::string& path, const YAML::Mark& mark,
                      const std::string& what) const {
    if (auto it = overridden_.find(path); it != overridden_.end())
      return "environment variable " + it->second + " (overrides " + path + "): " + what;
    return origin_ + ": " + path + ": " + what + location(mark);
  }
  [[noreturn]] void fail(const std::string& path, const YAML::Node& at,
                         const std::string& what) const {
    throw ConfigFailure{message(path, at.Mark(), what)};
  }
  [[noreturn]] void fail_file(const std::string& what) const {
    throw ConfigFailure{origin_ + ": " + what};
  }

  std::map<std::string, YAML::Node> fields(const YAML::Node& node, const std::string& path,
                                           const std::vector<std::string_view>& allowed) const {
    if (!node.IsMap()) {
      if (path.empty())
        fail_file("expected a mapping at the top level, got " + describe(node) +
                  location(node.Mark()));
      fail(path, node, "expected a mapping, got " + describe(node));
    }
    std::map<std::string, YAML::Node> out;
    for (const auto& entry : node) {
      const YAML::Node& key = entry.first;
      if (!key.IsScalar())
        fail(path.empty() ? "(top level)" : path, key,
             "expected keys to be names, got " + describe(key));
      std::string name = key.Scalar();
      if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
        std::string known;
        for (auto a : allowed) known += (known.empty() ? "" : ", ") + std::string(a);
        fail(join(path, shorten(name)), key, "unknown key (expected one of: " + known + ")");
      }
      if (!out.emplace(name, entry.second).second) fail(join(path, name), key, "given twice");
    }
    return out;
  }

  std::string string(const YAML::Node& node, const std::string& path, std::size_t min_len,
                     std::size_t max_len) const {
    if (!node.IsScalar() || node.Scalar().size() < min_len || node.Scalar().size() > max_len) {
      fail(path, node,
           "expected a string of " + std::to_string(min_len) + ".." + std::to_string(max_len) +
               " characters, got " + describe(node));
    }
    return node.Scalar();
  }

  // Never echoes the value: error messages end up in logs.
  std::string password(const YAML::Node& node, const std::string& path) const {
    if (!node.IsScalar()) fail(path, node, "expected a password, got " + describe(node));
    if (node.Scalar().empty()) fail(path, node, "expected a password, got an empty one");
    return node.Scalar();
  }

  std::uint32_t integer(const YAML::Node& node, const std::string& path, std::uint32_t min,
                        std::uint32_t max) const {
    std::string expected = "an integer " + std::to_string(min) + ".." + std::to_string(max);
    if (!node.IsScalar()) fail(path, node, "expected " + expected + ", got " + describe(node));
    const std::string& s = node.Scalar();
    std::uint64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v < min || v > max)
      fail(path, node, "expected " + expected + ", got " + describe(node));
    return static_cast<std::uint32_t>(v);
  }

  bool boolean(const YAML::Node& node, const std::string& path) const {
    std::optional<bool> v = node.IsScalar() ? parse_bool(node.Scalar()) : std::nullopt;
    if (!v) fail(path, node, "expected true or false, got " + describe(node));
    return *v;
  }

  std::string topic(const YAML::Node& node, const std::string& path) const {
    if (!node.IsScalar() || !valid_topic(node.Scalar())) {
      fail(path, node,
           "expected an MQTT topic of 1.." + std::to_string(kMaxTopicLength) +
               " characters without '+', '#' or a leading/trailing '/', got " + describe(node));
    }
    return node.Scalar();
  }

 private:
  std::string origin_;
  std::map<std::string, std::string> overridden_;  // key path -> variable
};

const YAML::Node* optional(const std::map<std::string, YAML::Node>& f, const std::string& key) {
  auto it = f.find(key);
  if (it == f.end() || it->second.IsNull()) return nullptr;  // `key:` alone = left out
  return &it->second;
}

// Puts environment overrides into the parsed tree, so that they go through the same checks as
// the file's values. Returns key path -> variable for error messages.
std::map<std::string, std::string> apply_environment(YAML::Node& root,
                                                     const std::map<std::string, std::string>& env,
                                                     std::vector<std::string>& ignored) {
  std::map<std::string, std::string> overridden;
  for (const auto& [name, value] : env) {
    if (!std::string_view(name).starts_with(kEnvPrefix)) continue;
    auto it = std::find_if(kOverrides.begin(), kOverrides.end(),
                           [&](const Override& o) { return o.variable == name; });
    if (it == kOverrides.end()) {
      ignored.push_back(name);
      continue;
    }
    if (value.empty()) continue;  // docker-compose passes unset variables as empty ones
    std::string key(it->key);
    if (it->section.empty()) {
      root[key] = value;
    } else {
      std::string section(it->section);
      YAML::Node current = root[section];
      // A section that is not a mapping is left alone: its own check reports it.
      if (current.IsDefined() && !current.IsNull() && !current.IsMap()) continue;
      if (!current.IsDefined() || current.IsNull()) root[section] = YAML::Node(YAML::NodeType::Map);
      root[section][key] = value;
    }
    overridden.emplace(join(it->section, it->key), name);
  }
  return overridden;
}

void parse_mqtt(const Reader& r, const YAML::Node& node, MqttConfig& c) {
  const std::string path = "mqtt";
  auto f = r.fields(node, path,
                    {"server", "user", "password", "client_id", "base_topic", "ca", "cert", "key",
                     "reject_unauthorized", "keepalive"});
  std::optional<ServerUrl> url;
  const YAML::Node* server = optional(f, "server");
  if (server) {
    if (server->IsScalar()) url = parse_server(server->Scalar());
    if (!url) {
      std::string shown = server->IsScalar() ? "'" + shorten(redact_server(server->Scalar())) + "'"
                                             : describe(*server);
      r.fail("mqtt.server", *server, std::string(kServerExpected) + ", got " + shown);
    }
    c.server = url->text();
  }
  if (const auto* n = optional(f, "user"))
    c.user = r.string(*n, "mqtt.user", 1, kMaxMqttUserLength);
  if (const auto* n = optional(f, "password")) c.password = r.password(*n, "mqtt.password");
  if (url && url->user) {
    if (!c.user.empty())
      r.fail("mqtt.server", *server, "a user is given both in the URL and in mqtt.user");
    c.user = *url->user;
    if (url->password) c.password = *url->password;
  }
  if (!c.password.empty() && c.user.empty()) {
    r.fail("mqtt.password", *optional(f, "password"),
           "given without mqtt.user (MQTT needs a user name with a password)");
  }
  if (const auto* n = optional(f, "client_id"))
    c.client_id = r.string(*n, "mqtt.client_id", 1, kMaxClientIdLength);
  if (const auto* n = optional(f, "base_topic")) c.base_topic = r.topic(*n, "mqtt.base_topic");
  const bool tls = c.server.starts_with("mqtts://");
  auto tls_file = [&](const char* key, std::string& out) {
    const YAML::Node* n = optional(f, key);
    if (!n) return;
    std::string key_path = join(path, key);
    out = r.string(*n, key_path, 1, kMaxPathLength);
    if (!tls)
      r.fail(key_path, *n,
             "set, but mqtt.server is not mqtts:// (TLS files need mqtts://host:port)");
  };
  tls_file("ca", c.ca_file);
  tls_file("cert", c.cert_file);
  tls_file("key", c.key_file);
  if (!c.key_file.empty() && c.cert_file.empty())
    r.fail("mqtt.key", *optional(f, "key"),
           "given without mqtt.cert (the client certificate it belongs to)");
  if (const auto* n = optional(f, "reject_unauthorized"))
    c.reject_unauthorized = r.boolean(*n, "mqtt.reject_unauthorized");
  if (const auto* n = optional(f, "keepalive"))
    c.keepalive = r.integer(*n, "mqtt.keepalive", 1, 65535);
}

void parse_homeassistant(const Reader& r, const YAML::Node& node, HomeAssistantConfig& c) {
  // `homeassistant: true|false`, as Zigbee2MQTT 1.x wrote it, is accepted too.
  if (node.IsScalar()) {
    c.enabled = r.boolean(node, "homeassistant");
    return;
  }
  const std::string path = "homeassistant";
  auto f = r.fields(node, path, {"enabled", "discovery_prefix", "status_topic"});
  if (const auto* n = optional(f, "enabled")) c.enabled = r.boolean(*n, "homeassistant.enabled");
  if (const auto* n = optional(f, "discovery_prefix"))
    c.prefix = r.topic(*n, "homeassistant.discovery_prefix");
  if (const auto* n = optional(f, "status_topic"))
    c.status_topic = r.topic(*n, "homeassistant.status_topic");
}

struct BridgeIdentity {
  std::string id;
  std::string name = "peer2mqtt";
};

BridgeIdentity parse_bridge(const Reader& r, const YAML::Node* node) {
  const std::string example = "a UUID of its own (e.g. cat /proc/sys/kernel/random/uuid)";
  if (!node) r.fail_file("bridge.id: missing: expected " + example);
  auto f = r.fields(*node, "bridge", {"id", "name"});
  BridgeIdentity b;
  const YAML::Node* id = optional(f, "id");
  if (!id) r.fail("bridge.id", *node, "missing: expected " + example);
  if (!id->IsScalar() || !homep2p::is_uuid(id->Scalar()))
    r.fail("bridge.id", *id, "expected a UUID (8-4-4-4-12 hex digits), got " + describe(*id));
  b.id = lower(id->Scalar());
  if (const auto* n = optional(f, "name"))
    b.name = r.string(*n, "bridge.name", 1, homep2p::kMaxNameLength);
  return b;
}

// The node at a key path ("security.accounts[1].user") of the original file, for locations.
std::optional<YAML::Mark> mark_of(const YAML::Node& root, std::string_view path, bool want_key) {
  YAML::Node node = root;
  YAML::Mark mark = YAML::Mark::null_mark();
  while (!path.empty()) {
    auto dot = path.find('.');
    std::string_view part = path.substr(0, dot);
    path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
    std::vector<std::size_t> indexes;
    if (auto bracket = part.find('['); bracket != std::string_view::npos) {
      std::string_view rest = part.substr(bracket);
      part = part.substr(0, bracket);
      while (rest.starts_with("[")) {
        auto close = rest.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        std::size_t i = 0;
        auto [end, ec] = std::from_chars(rest.data() + 1, rest.data() + close, i);
        if (ec != std::errc() || end != rest.data() + close) return std::nullopt;
        indexes.push_back(i);
        rest.remove_prefix(close + 1);
      }
    }
    if (!node.IsMap()) return std::nullopt;
    bool found = false;
    for (const auto& entry : node) {
      if (entry.first.IsScalar() && entry.first.Scalar() == part) {
        mark = (want_key && path.empty() && indexes.empty()) ? entry.first.Mark()
                                                             : entry.second.Mark();
        node = entry.second;
        found = true;
        break;
      }
    }
    if (!found) return std::nullopt;
    for (std::size_t i : indexes) {
      if (!node.IsSequence() || i >= node.size()) return std::nullopt;
      node = node[i];
      mark = node.Mark();
    }
  }
  return mark;
}

// network, security and credentials mean what they mean in a device file: one parser
// (homep2p::parse_device_config) for both, fed a device file made of the bridge's sections. Its
// errors are mapped back to the bridge file's own lines.
homep2p::DeviceConfig parse_device_part(const Reader& r, const YAML::Node& root,
                                        const std::map<std::string, YAML::Node>& f,
                                        const BridgeIdentity& bridge) {
  YAML::Node device(YAML::NodeType::Map);
  device["device"]["id"] = bridge.id;
  device["device"]["type"] = std::string(kBridgeDeviceType);
  device["device"]["name"] = bridge.name;
  if (auto it = f.find("network"); it != f.end()) device["network"] = it->second;
  const YAML::Node* security = optional(f, "security");
  if (!security) {
    device["security"]["max_connections"] = std::to_string(kBridgeMaxConnections);
  } else if (security->IsMap() &&
             (!(*security)["max_connections"] || (*security)["max_connections"].IsNull())) {
    YAML::Node copy = YAML::Clone(*security);
    copy["max_connections"] = std::to_string(kBridgeMaxConnections);
    device["security"] = copy;
  } else {
    device["security"] = *security;
  }
  if (auto it = f.find("credentials"); it != f.end()) device["credentials"] = it->second;

  YAML::Emitter out;
  // Quoted scalars read back exactly as they were ("null", "yes" and "~" stay strings).
  out.SetStringFormat(YAML::DoubleQuoted);
  out << device;
  if (!out.good())
    r.fail_file("cannot re-read the network/security/credentials sections: " + out.GetLastError());

  auto parsed = homep2p::parse_device_config(out.c_str(), r.origin());
  if (parsed) return std::move(parsed).value();

  // "<origin>: <path>: <what> (line L, column C)" with the emitted text's lines -> the file's.
  std::string message = parsed.error().message;
  const std::string prefix = r.origin() + ": ";
  if (!message.starts_with(prefix)) throw ConfigFailure{message};
  std::string rest = message.substr(prefix.size());
  if (auto loc = rest.rfind(" (line "); loc != std::string::npos && rest.ends_with(")"))
    rest.resize(loc);
  auto colon = rest.find(": ");
  if (colon == std::string::npos) throw ConfigFailure{prefix + rest};
  std::string path = rest.substr(0, colon);
  std::string what = rest.substr(colon + 2);
  if (path.starts_with("device.")) path = "bridge." + path.substr(7);
  bool about_key = what.starts_with("unknown key") || what.starts_with("given twice");
  auto mark = mark_of(root, path, about_key);
  throw ConfigFailure{r.message(path, mark.value_or(YAML::Mark::null_mark()), what)};
}

BridgeConfig parse(const Reader& r, const YAML::Node& root) {
  auto f = r.fields(root, "",
                    {"mqtt", "homeassistant", "bridge", "network", "security", "credentials",
                     "mappings", "state_file", "log_level", "lease_seconds", "search_mx"});
  BridgeConfig c;
  if (const auto* n = optional(f, "mqtt")) parse_mqtt(r, *n, c.mqtt);
  if (const auto* n = optional(f, "homeassistant")) parse_homeassistant(r, *n, c.homeassistant);
  if (c.homeassistant.status_topic.empty())
    c.homeassistant.status_topic = c.homeassistant.prefix + "/status";
  BridgeIdentity bridge = parse_bridge(r, optional(f, "bridge"));
  c.device = parse_device_part(r, root, f, bridge);
  if (const auto* n = optional(f, "mappings"))
    c.mappings_dir = r.string(*n, "mappings", 1, kMaxPathLength);
  if (const auto* n = optional(f, "state_file"))
    c.state_file = r.string(*n, "state_file", 1, kMaxPathLength);
  if (const auto* n = optional(f, "log_level")) {
    static constexpr std::array<std::string_view, 5> kLevels{"trace", "debug", "info", "warn",
                                                             "error"};
    if (!n->IsScalar() || std::find(kLevels.begin(), kLevels.end(), n->Scalar()) == kLevels.end())
      r.fail("log_level", *n,
             "expected one of trace, debug, info, warn, error, got " + describe(*n));
    c.log_level = n->Scalar();
  }
  if (const auto* n = optional(f, "lease_seconds"))
    c.lease_seconds = r.integer(*n, "lease_seconds", 10, homep2p::kMaxLeaseSeconds);
  if (const auto* n = optional(f, "search_mx"))
    c.search_mx = r.integer(*n, "search_mx", 0, homep2p::kMaxMx);
  // Unique per instance: two bridges (or a restarted one racing its old session) with one
  // client id would kick each other off the broker.
  if (c.mqtt.client_id.empty())
    c.mqtt.client_id = "peer2mqtt_" + c.device.device_id.substr(0, 8) + "_" + random_hex(4);
  return c;
}

std::string read_error(const std::string& path, int err) {
  return "cannot read '" + path + "': " + std::error_code(err, std::generic_category()).message();
}

}  // namespace

BridgeSettings BridgeConfig::settings(std::string_view version) const {
  BridgeSettings s;
  s.version = std::string(version);
  s.base_topic = mqtt.base_topic;
  s.homeassistant_enabled = homeassistant.enabled;
  s.homeassistant_prefix = homeassistant.prefix;
  s.homeassistant_status_topic = homeassistant.status_topic.empty()
                                     ? homeassistant.prefix + "/status"
                                     : homeassistant.status_topic;
  s.bridge_device_id = device.device_id;
  s.bridge_name = device.friendly_name;
  s.mqtt_server = redact_server(mqtt.server);
  s.lan_interface = device.interface;
  s.log_level = log_level;
  s.lease_seconds = lease_seconds;
  s.search_mx = search_mx;
  return s;
}

homep2p::Result<BridgeConfig> parse_bridge_config(
    std::string_view yaml_text, std::string_view origin,
    const std::map<std::string, std::string>& environment) {
  try {
    YAML::Node root = YAML::Load(std::string(yaml_text));
    // An empty file is a valid start when the environment gives bridge.id.
    if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
    std::vector<std::string> ignored;
    std::map<std::string, std::string> overridden;
    if (root.IsMap()) overridden = apply_environment(root, environment, ignored);
    Reader reader(origin, std::move(overridden));
    BridgeConfig config = parse(reader, root);
    config.ignored_environment = std::move(ignored);
    return config;
  } catch (const ConfigFailure& e) {
    return make_error(Errc::Config, e.message);
  } catch (const YAML::Exception& e) {
    return make_error(Errc::Config,
                      std::string(origin) + ": invalid YAML: " + e.msg + location(e.mark));
  } catch (const std::exception& e) {
    return make_error(Errc::Config, std::string(origin) + ": " + e.what());
  } catch (...) {
    return make_error(Errc::Config, std::string(origin) + ": unreadable configuration");
  }
}

homep2p::Result<BridgeConfig> load_bridge_config(
    const std::string& path, const std::map<std::string, std::string>& environment) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) return make_error(Errc::Config, read_error(path, errno));
  std::string text;
  std::array<char, 4096> buf{};
  while (true) {
    std::size_t n = std::fread(buf.data(), 1, buf.size(), file.get());
    text.append(buf.data(), n);
    if (text.size() > kMaxConfigFileSize) {
      return make_error(Errc::Config, "cannot read '" + path + "': larger than " +
                                          std::to_string(kMaxConfigFileSize) +
                                          " bytes, not a config file");
    }
    if (n < buf.size()) {
      if (std::ferror(file.get())) return make_error(Errc::Config, read_error(path, errno));
      break;
    }
  }
  auto parsed = parse_bridge_config(text, path, environment);
  if (!parsed) return parsed;
  BridgeConfig& config = parsed.value();

  // Relative paths mean "next to the configuration file", wherever peer2mqtt was started from.
  std::error_code ec;
  std::filesystem::path folder = std::filesystem::absolute(path, ec).parent_path();
  auto resolve = [&](std::string& p) {
    if (!p.empty() && std::filesystem::path(p).is_relative() && !folder.empty())
      p = (folder / p).lexically_normal().string();
  };
  resolve(config.mappings_dir);
  resolve(config.state_file);
  for (auto [key, file_path] :
       {std::pair{"mqtt.ca", &config.mqtt.ca_file}, std::pair{"mqtt.cert", &config.mqtt.cert_file},
        std::pair{"mqtt.key", &config.mqtt.key_file}}) {
    if (file_path->empty()) continue;
    resolve(*file_path);
    if (::access(file_path->c_str(), R_OK) != 0)
      return make_error(Errc::Config, path + ": " + key + ": " + read_error(*file_path, errno));
  }
  return parsed;
}

std::map<std::string, std::string> peer2mqtt_environment() {
  std::map<std::string, std::string> out;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    auto eq = text.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view name = text.substr(0, eq);
    if (name.starts_with(kEnvPrefix))
      out.emplace(std::string(name), std::string(text.substr(eq + 1)));
  }
  return out;
}

}  // namespace peer2mqtt
