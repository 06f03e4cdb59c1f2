#include "homep2p/device_config.hpp"

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <exception>
#include <memory>
#include <system_error>
#include <utility>

#include "homep2p/simulated_services.hpp"

namespace homep2p {

namespace {

// Config files are a few hundred bytes; a limit keeps a wrong path (a log, a device node) from
// being read whole into memory.
constexpr std::size_t kMaxConfigFileSize = std::size_t{1024} * 1024;
constexpr std::size_t kMaxShownValueLength = 40;
constexpr std::size_t kMaxInterfaceLength = 64;

// Config loading is an edge (see result.hpp): inside this file a failure is thrown, and
// parse_device_config turns it into a Result. Nothing is thrown out of this file.
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

std::string join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string indexed(const std::string& path, std::size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

std::string shorten(const std::string& s) {
  return s.size() > kMaxShownValueLength ? s.substr(0, kMaxShownValueLength) + "..." : s;
}

// What a node is, for "got ..." in error messages.
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

class ConfigReader {
 public:
  explicit ConfigReader(std::string_view origin) : origin_(origin) {}

  [[noreturn]] void fail(const std::string& path, const YAML::Node& at,
                         const std::string& what) const {
    fail_at(path, at.Mark(), what);
  }
  [[noreturn]] void fail_at(const std::string& path, const YAML::Mark& mark,
                            const std::string& what) const {
    throw ConfigFailure{origin_ + ": " + path + ": " + what + location(mark)};
  }
  [[noreturn]] void fail_file(const std::string& what) const {
    throw ConfigFailure{origin_ + ": " + what};
  }

  // The entries of a mapping, checked: every key known (a typo is an error, not a silently
  // ignored setting) and none given twice.
  std::map<std::string, YAML::Node> fields(const YAML::Node& node, const std::string& path,
                                           const std::vector<std::string_view>& allowed) const {
    if (!node.IsMap()) fail(path, node, "expected a mapping, got " + describe(node));
    std::map<std::string, YAML::Node> out;
    for (const auto& entry : node) {
      const YAML::Node& key = entry.first;
      if (!key.IsScalar()) fail(path, key, "expected keys to be names, got " + describe(key));
      std::string name = key.Scalar();
      if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
        std::string known;
        for (auto a : allowed) known += (known.empty() ? "" : ", ") + std::string(a);
        // Shortened: a wrong path can make us read any file, whose first line is then the "key".
        fail(join(path, shorten(name)), key, "unknown key (expected one of: " + known + ")");
      }
      if (!out.emplace(name, entry.second).second) fail(join(path, name), key, "given twice");
    }
    return out;
  }

  std::string string(const YAML::Node& node, const std::string& path, std::size_t min_len,
                     std::size_t max_len) const {
    std::string expected =
        "a string of " + std::to_string(min_len) + ".." + std::to_string(max_len) + " characters";
    if (!node.IsScalar() || node.Scalar().size() < min_len || node.Scalar().size() > max_len) {
      fail(path, node, "expected " + expected + ", got " + describe(node));
    }
    return node.Scalar();
  }

  // Like string(), but the value is never echoed: error messages end up in logs.
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
    if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v < min || v > max) {
      fail(path, node, "expected " + expected + ", got " + describe(node));
    }
    return static_cast<std::uint32_t>(v);
  }

  // An optional list (absent or empty = no entries), bounded like the protocol's lists.
  std::vector<YAML::Node> list(const YAML::Node& node, const std::string& path) const {
    std::vector<YAML::Node> out;
    if (node.IsNull()) return out;
    if (!node.IsSequence()) fail(path, node, "expected a list, got " + describe(node));
    if (node.size() > kMaxListLength) {
      fail(path, node,
           "expected at most " + std::to_string(kMaxListLength) + " entries, got " +
               std::to_string(node.size()));
    }
    for (const auto& item : node) out.push_back(item);
    return out;
  }

  // A mapping key that must be there.
  const YAML::Node& required(const std::map<std::string, YAML::Node>& f, const std::string& path,
                             const std::string& key, const YAML::Node& parent,
                             const std::string& what) const {
    auto it = f.find(key);
    if (it == f.end()) fail(join(path, key), parent, "missing: expected " + what);
    return it->second;
  }

 private:
  std::string origin_;
};

const YAML::Node* optional(const std::map<std::string, YAML::Node>& f, const std::string& key) {
  auto it = f.find(key);
  // `key:` with nothing after it means the same as leaving the key out.
  if (it == f.end() || it->second.IsNull()) return nullptr;
  return &it->second;
}

bool is_multicast_address(const std::string& s) {
  std::array<unsigned char, 16> buf{};
  if (inet_pton(AF_INET, s.c_str(), buf.data()) == 1)
    return (buf[0] & 0xf0) == 0xe0;                                            // 224.0.0.0/4
  if (inet_pton(AF_INET6, s.c_str(), buf.data()) == 1) return buf[0] == 0xff;  // ff00::/8
  return false;
}

void parse_device(const ConfigReader& r, const YAML::Node& node, DeviceConfig& c) {
  const std::string path = "device";
  auto f = r.fields(node, path, {"id", "type", "name"});
  const YAML::Node& id =
      r.required(f, path, "id", node, "a UUID such as 6f1c2a4e-0b7d-4c1e-9a53-2d8f4e6b7a10");
  if (!id.IsScalar() || !is_uuid(id.Scalar())) {
    r.fail("device.id", id, "expected a UUID (8-4-4-4-12 hex digits), got " + describe(id));
  }
  // UUID text is case-insensitive; one spelling keeps comparisons between devices simple.
  c.device_id = lower(id.Scalar());
  c.device_type = r.string(r.required(f, path, "type", node, "a device type name"), "device.type",
                           1, kMaxNameLength);
  const YAML::Node* name = optional(f, "name");
  c.friendly_name = name ? r.string(*name, "device.name", 1, kMaxNameLength) : c.device_type;
}

void parse_network(const ConfigReader& r, const YAML::Node& node, DeviceConfig& c) {
  const std::string path = "network";
  auto f =
      r.fields(node, path,
               {"interface", "port", "multicast_group", "multicast_port", "max_age", "keepalive"});
  if (const auto* n = optional(f, "interface")) {
    c.interface = r.string(*n, "network.interface", 1, kMaxInterfaceLength);
    if (std::any_of(c.interface.begin(), c.interface.end(),
                    [](unsigned char ch) { return std::isspace(ch); })) {
      r.fail("network.interface", *n, "expected an interface name or address, got " + describe(*n));
    }
  }
  if (const auto* n = optional(f, "port"))
    c.port = static_cast<std::uint16_t>(r.integer(*n, "network.port", 0, 65535));
  if (const auto* n = optional(f, "multicast_group")) {
    c.multicast_group = r.string(*n, "network.multicast_group", 1, kMaxInterfaceLength);
    if (!is_multicast_address(c.multicast_group)) {
      r.fail("network.multicast_group", *n,
             "expected a multicast address (224.0.0.0/4 or ff00::/8), got " + describe(*n));
    }
  }
  if (const auto* n = optional(f, "multicast_port")) {
    c.multicast_port =
        static_cast<std::uint16_t>(r.integer(*n, "network.multicast_port", 1, 65535));
  }
  if (const auto* n = optional(f, "max_age"))
    c.max_age = r.integer(*n, "network.max_age", 2, 86400);
  if (const auto* n = optional(f, "keepalive"))
    c.keepalive_interval = r.integer(*n, "network.keepalive", 1, 3600);
}

// {user, password} -> user and K. The password is used once, here, and not kept.
Credential parse_credential(const ConfigReader& r, const YAML::Node& node,
                            const std::string& path) {
  auto f = r.fields(node, path, {"user", "password"});
  Credential cred;
  cred.user = r.string(r.required(f, path, "user", node, "a user name"), join(path, "user"), 1,
                       kMaxUserNameLength);
  std::string password =
      r.password(r.required(f, path, "password", node, "a password"), join(path, "password"));
  cred.key = derive_share_key(password, cred.user);
  return cred;
}

void parse_security(const ConfigReader& r, const YAML::Node& node, DeviceConfig& c) {
  const std::string path = "security";
  auto f = r.fields(node, path, {"authentication", "max_connections", "accounts"});
  if (const auto* n = optional(f, "authentication")) {
    if (!n->IsScalar() || (n->Scalar() != "required" && n->Scalar() != "none")) {
      r.fail("security.authentication", *n, "expected 'required' or 'none', got " + describe(*n));
    }
    c.auth_required = n->Scalar() == "required";
  }
  if (const auto* n = optional(f, "max_connections")) {
    c.max_connections = r.integer(*n, "security.max_connections", 1, 65535);
  }
  std::map<std::string, std::string> seen;  // user -> where it was first given
  auto accounts_it = f.find("accounts");
  if (accounts_it == f.end()) return;
  auto items = r.list(accounts_it->second, "security.accounts");
  for (std::size_t i = 0; i < items.size(); ++i) {
    std::string item_path = indexed("security.accounts", i);
    auto af = r.fields(items[i], item_path, {"user", "password", "role"});
    Account account;
    const YAML::Node& user = r.required(af, item_path, "user", items[i], "a user name");
    account.user = r.string(user, join(item_path, "user"), 1, kMaxUserNameLength);
    if (auto [it, inserted] = seen.emplace(account.user, item_path); !inserted) {
      r.fail(join(item_path, "user"), user,
             "duplicate user '" + account.user + "' (also in " + it->second + ")");
    }
    std::string password = r.password(r.required(af, item_path, "password", items[i], "a password"),
                                      join(item_path, "password"));
    if (const auto* role = optional(af, "role")) {
      if (!role->IsScalar() || (role->Scalar() != "user" && role->Scalar() != "admin")) {
        r.fail(join(item_path, "role"), *role,
               "expected 'user' or 'admin', got " + describe(*role));
      }
      account.role = role->Scalar() == "admin" ? AccountRole::Admin : AccountRole::User;
    }
    account.key = derive_share_key(password, account.user);
    c.accounts.push_back(std::move(account));
  }
}

void parse_credentials(const ConfigReader& r, const YAML::Node& node, DeviceConfig& c) {
  const std::string path = "credentials";
  auto f = r.fields(node, path, {"default", "devices"});
  if (const auto* n = optional(f, "default"))
    c.default_credential = parse_credential(r, *n, "credentials.default");
  const auto* devices = optional(f, "devices");
  if (devices == nullptr) return;
  if (!devices->IsMap())
    r.fail("credentials.devices", *devices, "expected a mapping, got " + describe(*devices));
  for (const auto& entry : *devices) {
    const YAML::Node& key = entry.first;
    std::string key_text = key.IsScalar() ? shorten(key.Scalar()) : describe(key);
    std::string entry_path = "credentials.devices." + key_text;
    if (!key.IsScalar() || !is_uuid(key.Scalar())) {
      r.fail(entry_path, key, "expected a device id (UUID) as the key, got " + describe(key));
    }
    std::string id = lower(key.Scalar());
    if (c.credentials.count(id) != 0) r.fail(entry_path, key, "device given twice");
    c.credentials.emplace(id, parse_credential(r, entry.second, entry_path));
  }
}

void parse_services(const ConfigReader& r, const YAML::Node& node, DeviceConfig& c) {
  std::map<std::string, std::string> seen;  // id -> where it was first given
  auto items = r.list(node, "services");
  for (std::size_t i = 0; i < items.size(); ++i) {
    std::string item_path = indexed("services", i);
    auto f = r.fields(items[i], item_path, {"id", "type"});
    ServiceConfig s;
    const YAML::Node& id = r.required(f, item_path, "id", items[i], "a service id");
    s.id = r.string(id, join(item_path, "id"), 1, kMaxNameLength);
    if (auto [it, inserted] = seen.emplace(s.id, item_path); !inserted) {
      r.fail(join(item_path, "id"), id,
             "duplicate service id '" + s.id + "' (also in " + it->second + ")");
    }
    const YAML::Node& type = r.required(f, item_path, "type", items[i], "a service type");
    s.type = r.string(type, join(item_path, "type"), 1, kMaxNameLength);
    // Only simulated services exist: a type they do not know is a typo, caught here with its line.
    if (auto made = make_simulated_service(s.type, s.id); !made)
      r.fail(join(item_path, "type"), type, made.error().message);
    c.services.push_back(std::move(s));
  }
}

DeviceConfig parse(const ConfigReader& r, std::string_view yaml_text) {
  YAML::Node root = YAML::Load(std::string(yaml_text));
  if (root.IsNull())
    r.fail_file("the file is empty: expected a mapping with 'device' and 'security' sections");
  if (!root.IsMap())
    r.fail_file("expected a mapping at the top level, got " + describe(root) +
                location(root.Mark()));
  auto f = r.fields(root, "", {"device", "network", "security", "credentials", "services"});
  DeviceConfig c;
  auto device = f.find("device");
  if (device == f.end()) r.fail_file("device: missing: expected {id, type, name}");
  parse_device(r, device->second, c);
  if (const auto* n = optional(f, "network")) parse_network(r, *n, c);
  auto security = f.find("security");
  if (security == f.end())
    r.fail_file("security: missing: expected {authentication, max_connections, accounts}");
  parse_security(r, security->second, c);
  if (const auto* n = optional(f, "credentials")) parse_credentials(r, *n, c);
  if (auto s = f.find("services"); s != f.end()) parse_services(r, s->second, c);
  return c;
}

}  // namespace

bool is_uuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position ? text[i] != '-' : !std::isxdigit(static_cast<unsigned char>(text[i])))
      return false;
  }
  return true;
}

std::optional<Credential> DeviceConfig::credential_for(std::string_view device_id) const {
  if (auto it = credentials.find(lower(device_id)); it != credentials.end()) return it->second;
  return default_credential;
}

Result<DeviceConfig> parse_device_config(std::string_view yaml_text, std::string_view origin) {
  ConfigReader reader(origin);
  try {
    return parse(reader, yaml_text);
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

Result<DeviceConfig> load_device_config(const std::string& path) {
  auto cannot_read = [&](int err) {
    return make_error(Errc::Config, "cannot read '" + path + "': " +
                                        std::error_code(err, std::generic_category()).message());
  };
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) return cannot_read(errno);
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
      if (std::ferror(file.get())) return cannot_read(errno);
      break;
    }
  }
  return parse_device_config(text, path);
}

}  // namespace homep2p
