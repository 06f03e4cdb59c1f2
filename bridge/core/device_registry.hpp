// What the bridge knows of every device: discovery, availability, its connection with the bridge,
// its own connections (from its ConnectionManager), the services the bridge rented and their
// state, and what Home Assistant wants (persisted). Plain data, owned by the controller, read by
// every extension; changed only on the bridge's thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "homep2p/messages.hpp"

namespace peer2mqtt {

using homep2p::ValueMap;

// The bridge's own connection with the device (the `connection` field of the state topic).
enum class LinkState { Disconnected, Connecting, Connected, Failed };
std::string_view to_string(LinkState s);

struct PeerView {  // one connection of the device, as its ConnectionManager reports it
  std::string device_id;
  homep2p::Role role = homep2p::Role::Initiator;  // the device's role on that connection
  std::int64_t since = 0;                          // unix seconds
};

struct ServiceView {  // a service the bridge rented on the device
  std::string id;
  std::string type;
  std::string lease_id;
  std::vector<homep2p::ActionSpec> actions;
  ValueMap state;  // its state variables, kept current by ServiceEvents
};

struct DeviceRecord {
  std::string device_id;
  std::string friendly_name;  // unique; the MQTT topic name of the device
  std::optional<homep2p::DeviceAnnounce> announce;  // the latest announce
  bool available = false;     // announced and not gone (bye-bye / max-age)
  std::int64_t last_seen = 0;  // unix seconds of the latest announce

  LinkState link = LinkState::Disconnected;
  std::optional<std::string> last_result;             // SUCCESS, OVERLOAD, ACCESSDENIED, LOCAL:<why>
  std::optional<std::string> last_disconnect_reason;  // NORMAL, PROTOERROR
  std::string last_detail;                            // words for the latest failure/disconnect

  std::optional<std::int64_t> connection_count;  // from its ConnectionManager (includes the bridge)
  std::optional<std::int64_t> max_connections;
  std::vector<PeerView> peers;
  std::map<std::string, ServiceView> services;  // rented services by service id

  bool wanted = false;  // Home Assistant wants the bridge connected to it (persisted)
};

class DeviceRegistry {
 public:
  // The record for `device_id`, created (with a unique friendly name from `name_hint`) if new.
  DeviceRecord& upsert(const std::string& device_id, std::string_view name_hint);
  DeviceRecord* find(std::string_view device_id);
  const DeviceRecord* find(std::string_view device_id) const;
  // By friendly name or by device id (what users type in topics and requests).
  DeviceRecord* resolve(std::string_view name_or_id);
  bool remove(std::string_view device_id);
  // Renames; error text if the name is taken or not a valid topic level.
  std::optional<std::string> rename(std::string_view device_id, std::string_view new_name);
  const std::map<std::string, DeviceRecord>& all() const { return devices_; }

  // A name usable as one MQTT topic level: no '/', '+', '#', not empty, at most 64 characters.
  static bool valid_name(std::string_view name);

 private:
  std::string unique_name(std::string_view hint, std::string_view device_id) const;
  std::map<std::string, DeviceRecord> devices_;  // by device id
};

}  // namespace peer2mqtt
