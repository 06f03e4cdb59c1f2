#include "payloads.hpp"

#include "homep2p/connection_manager_service.hpp"
#include "homep2p/json_writing.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <array>
#include <cmath>
#include <ctime>
#include <string_view>
#include <type_traits>

namespace peer2mqtt {

namespace {

using JsonWriter = homep2p::json::Writer;
using homep2p::json::write_key;
using homep2p::json::write_string;
using homep2p::json::write_value;

void write_optional(JsonWriter& w, const std::optional<std::string>& s) {
  if (s) {
    write_string(w, *s);
  } else {
    w.Null();
  }
}

void write_optional(JsonWriter& w, const std::optional<std::int64_t>& n) {
  if (n) {
    w.Int64(*n);
  } else {
    w.Null();
  }
}

// 0 means "never" in the registry (last_seen of a device only known from the state file).
void write_time(JsonWriter& w, std::int64_t unix_seconds) {
  if (unix_seconds > 0) {
    write_string(w, iso8601(unix_seconds));
  } else {
    w.Null();
  }
}

// The fixed keys of the device state object; a service whose id equals one of them is left
// out rather than written as a duplicate key (which JSON parsers resolve differently).
constexpr std::array<std::string_view, 9> kStateKeys = {
    "connection", "last_result", "last_disconnect_reason", "last_error", "connection_count",
    "max_connections", "last_seen", "available", "peers"};

bool is_state_key(std::string_view key) {
  for (const auto k : kStateKeys) {
    if (k == key) return true;
  }
  return false;
}

std::string endpoint(const homep2p::DeviceAnnounce& a) {
  // An IPv6 literal needs brackets before ":port".
  if (a.address.find(':') != std::string::npos) return "[" + a.address + "]:" + std::to_string(a.port);
  return a.address + ":" + std::to_string(a.port);
}

std::string finish(const rapidjson::StringBuffer& buffer) {
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

std::string iso8601(std::int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return "1970-01-01T00:00:00Z";
  char text[32];
  const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (n == 0) return "1970-01-01T00:00:00Z";
  return std::string(text, n);
}

std::string availability_json(bool online) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  write_key(w, "state");
  write_string(w, online ? "online" : "offline");
  w.EndObject();
  return finish(buffer);
}

std::string device_state_json(const DeviceRecord& device, const DeviceRegistry& registry) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  write_key(w, "connection");
  write_string(w, to_string(device.link));
  write_key(w, "last_result");
  write_optional(w, device.last_result);
  write_key(w, "last_disconnect_reason");
  write_optional(w, device.last_disconnect_reason);
  if (!device.last_detail.empty()) {
    write_key(w, "last_error");
    write_string(w, device.last_detail);
  }
  write_key(w, "connection_count");
  write_optional(w, device.connection_count);
  write_key(w, "max_connections");
  write_optional(w, device.max_connections);
  write_key(w, "last_seen");
  write_time(w, device.last_seen);
  write_key(w, "available");
  w.Bool(device.available);

  write_key(w, "peers");
  w.StartArray();
  for (const auto& peer : device.peers) {
    const DeviceRecord* other = registry.find(peer.device_id);
    w.StartObject();
    write_key(w, "device");
    write_string(w, other != nullptr ? other->friendly_name : peer.device_id);
    write_key(w, "device_id");
    write_string(w, peer.device_id);
    write_key(w, "role");
    write_string(w, homep2p::to_string(peer.role));
    write_key(w, "since");
    write_time(w, peer.since);
    w.EndObject();
  }
  w.EndArray();

  for (const auto& [service_id, service] : device.services) {
    if (is_state_key(service_id)) continue;
    // The ConnectionManager is shown above as connection_count, max_connections and peers.
    if (service.type == homep2p::kConnectionManagerType) continue;
    write_key(w, service_id);
    w.StartObject();
    for (const auto& [name, value] : service.state) {
      write_key(w, name);
      write_value(w, value);
    }
    w.EndObject();
  }
  w.EndObject();
  return finish(buffer);
}

std::string devices_json(const DeviceRegistry& registry) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);  // compact on purpose: large retained payloads hurt brokers (Z2M #13030)
  w.StartArray();
  for (const auto& [id, device] : registry.all()) {
    const auto& announce = device.announce;
    w.StartObject();
    write_key(w, "device_id");
    write_string(w, id);
    write_key(w, "friendly_name");
    write_string(w, device.friendly_name);
    write_key(w, "type");
    if (announce) {
      write_string(w, announce->device_type);
    } else {
      w.Null();
    }
    write_key(w, "available");
    w.Bool(device.available);
    write_key(w, "connection");
    write_string(w, to_string(device.link));
    write_key(w, "connection_count");
    write_optional(w, device.connection_count);
    write_key(w, "max_connections");
    write_optional(w, device.max_connections);

    // What the device offers (its announce); before any announce, what the bridge rented.
    write_key(w, "services");
    w.StartArray();
    if (announce) {
      for (const auto& s : announce->services) {
        w.StartObject();
        write_key(w, "id");
        write_string(w, s.id);
        write_key(w, "type");
        write_string(w, s.type);
        w.EndObject();
      }
    } else {
      for (const auto& [service_id, s] : device.services) {
        w.StartObject();
        write_key(w, "id");
        write_string(w, service_id);
        write_key(w, "type");
        write_string(w, s.type);
        w.EndObject();
      }
    }
    w.EndArray();

    write_key(w, "auth_required");
    if (announce) {
      w.Bool(announce->security.auth_required);
    } else {
      w.Null();
    }
    write_key(w, "address");
    if (announce) {
      write_string(w, endpoint(*announce));
    } else {
      w.Null();
    }
    write_key(w, "last_seen");
    write_time(w, device.last_seen);
    w.EndObject();
  }
  w.EndArray();
  return finish(buffer);
}

}  // namespace peer2mqtt
