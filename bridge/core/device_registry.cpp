#include "device_registry.hpp"

#include <algorithm>
#include <cstddef>

namespace peer2mqtt {

namespace {

constexpr std::size_t kMaxFriendlyNameLength = 64;
// A device named "bridge" would own peer2mqtt/bridge, the parent of the bridge's own topics:
// legal MQTT, but every subscriber to peer2mqtt/bridge/# would then see a device's state too.
constexpr std::string_view kReservedName = "bridge";
constexpr std::size_t kIdSuffixLength = 8;

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

bool is_forbidden(unsigned char c) { return c == '/' || c == '+' || c == '#' || is_control(c); }

bool is_space(char c) { return c == ' ' || c == '\t'; }

// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence (a cut one is not valid
// UTF-8, which MQTT topics must be).
std::string truncate_utf8(std::string s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t end = max;
  // Step back over continuation bytes (10xxxxxx) to the start of the sequence that was cut.
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  s.resize(end);
  return s;
}

std::string trim(std::string s) {
  const auto first = std::find_if_not(s.begin(), s.end(), is_space);
  const auto last = std::find_if_not(s.rbegin(), s.rend(), is_space).base();
  if (first >= last) return {};
  return std::string(first, last);
}

// One MQTT topic level from free text (a device's advertised name, or its id).
std::string sanitize(std::string_view text) {
  std::string out(text);
  std::replace_if(out.begin(), out.end(), [](char c) { return is_forbidden(static_cast<unsigned char>(c)); },
                  '_');
  return trim(truncate_utf8(trim(std::move(out)), kMaxFriendlyNameLength));
}

}  // namespace

std::string_view to_string(LinkState s) {
  switch (s) {
    case LinkState::Disconnected: return "disconnected";
    case LinkState::Connecting: return "connecting";
    case LinkState::Connected: return "connected";
    case LinkState::Failed: return "failed";
  }
  return "disconnected";
}

bool DeviceRegistry::valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxFriendlyNameLength || name == kReservedName) return false;
  // Leading/trailing blanks make names that look equal but are different topics.
  if (is_space(name.front()) || is_space(name.back())) return false;
  return std::none_of(name.begin(), name.end(), [](char c) { return is_forbidden(static_cast<unsigned char>(c)); });
}

DeviceRecord& DeviceRegistry::upsert(const std::string& device_id, std::string_view name_hint) {
  auto it = devices_.find(device_id);
  if (it != devices_.end()) return it->second;  // an existing device keeps its (maybe user-given) name
  DeviceRecord record;
  record.device_id = device_id;
  record.friendly_name = unique_name(name_hint, device_id);
  return devices_.emplace(device_id, std::move(record)).first->second;
}

DeviceRecord* DeviceRegistry::find(std::string_view device_id) {
  const auto it = devices_.find(std::string(device_id));
  return it == devices_.end() ? nullptr : &it->second;
}

const DeviceRecord* DeviceRegistry::find(std::string_view device_id) const {
  const auto it = devices_.find(std::string(device_id));
  return it == devices_.end() ? nullptr : &it->second;
}

DeviceRecord* DeviceRegistry::resolve(std::string_view name_or_id) {
  // Names first: they are what users see and type. Names never equal another device's id
  // (unique_name and rename refuse that), so the order only matters for a device's own id.
  for (auto& [id, record] : devices_) {
    if (record.friendly_name == name_or_id) return &record;
  }
  return find(name_or_id);
}

bool DeviceRegistry::remove(std::string_view device_id) {
  const auto it = devices_.find(std::string(device_id));
  if (it == devices_.end()) return false;
  devices_.erase(it);
  return true;
}

std::optional<std::string> DeviceRegistry::rename(std::string_view device_id, std::string_view new_name) {
  DeviceRecord* record = find(device_id);
  if (record == nullptr) return "unknown device '" + std::string(device_id) + "'";
  if (!valid_name(new_name)) {
    return "invalid name '" + std::string(new_name) +
           "': it must be 1 to 64 characters without '/', '+', '#', control characters or leading/trailing "
           "blanks, and not 'bridge'";
  }
  for (const auto& [id, other] : devices_) {
    if (id == record->device_id) continue;
    if (other.friendly_name == new_name) {
      return "name '" + std::string(new_name) + "' is already used by device " + id;
    }
    if (id == new_name) return "name '" + std::string(new_name) + "' is another device's id";
  }
  record->friendly_name = std::string(new_name);
  return std::nullopt;
}

std::string DeviceRegistry::unique_name(std::string_view hint, std::string_view device_id) const {
  const auto taken = [&](const std::string& name) {
    if (!valid_name(name)) return true;
    for (const auto& [id, other] : devices_) {
      if (id != device_id && (other.friendly_name == name || id == name)) return true;
    }
    return false;
  };

  std::string base = sanitize(hint);
  if (base.empty()) base = sanitize(device_id);
  if (base.empty()) base = "device";
  if (!taken(base)) return base;

  const std::string suffix = "_" + sanitize(device_id.substr(0, kIdSuffixLength));
  std::string candidate = trim(truncate_utf8(base, kMaxFriendlyNameLength - suffix.size())) + suffix;
  if (!taken(candidate)) return candidate;

  // Two devices whose ids share their first 8 characters (or a user took the name): count up.
  for (unsigned n = 2;; ++n) {
    const std::string counter = suffix + "_" + std::to_string(n);
    candidate = trim(truncate_utf8(base, kMaxFriendlyNameLength - counter.size())) + counter;
    if (!taken(candidate)) return candidate;
  }
}

}  // namespace peer2mqtt
