// ConnectionManager: the service every device has, so that connections *between devices* can be
// seen and driven by a third party (DESIGN §2; like UPnP AV's ConnectionManager).
//   state:   count (int), max (int), peers (string: a JSON array, see below)
//   actions: Connect{target: string}    admin only: this device connects to `target` with its
//                                        own credentials for it
//            Disconnect{peer: string}   admin only: this device leaves `peer`
// peers: [{"device_id":"<uuid>","role":"initiator"|"target","since":<unix seconds>}], in
// connection order. It is a JSON string because a state variable is a scalar (messages.hpp Value).
// Events go to every lease holder whenever count, max or peers change.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "homep2p/connection_table.hpp"
#include "homep2p/service_registry.hpp"

namespace homep2p {

inline constexpr std::string_view kConnectionManagerType = "ConnectionManager";
inline constexpr std::string_view kConnectionManagerId = "connection-manager";

// What the Connect/Disconnect actions do: the runtime starts the connection or disconnection
// and answers at once (Ok = started); the outcome shows as a state change event.
struct ConnectionManagerActions {
  std::function<ActionOutcome(const std::string& target, const CallerIdentity& caller)> connect;
  std::function<ActionOutcome(const std::string& peer, const CallerIdentity& caller)> disconnect;
};

ServiceDefinition make_connection_manager(ConnectionManagerActions actions);

// The state variables for `table`; `to_unix_seconds` turns a connection's start into wall time.
ValueMap connection_manager_state(const ConnectionTable& table,
                                  const std::function<std::int64_t(TimePoint)>& to_unix_seconds);

// One entry of the peers variable, parsed back (used by clients such as the bridge).
struct ConnectionManagerPeer {
  std::string device_id;
  Role role = Role::Initiator;
  std::int64_t since = 0;
};
Result<std::vector<ConnectionManagerPeer>> parse_connection_manager_peers(std::string_view json);

}  // namespace homep2p
