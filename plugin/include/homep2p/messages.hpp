// Every HomeP2P v1 message as a typed struct. The wire form (JSON) is in codec.hpp and
// docs/PROTOCOL.md. Type names and result values are the patent's (CN 02130660.5).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace homep2p {

using Bytes = std::vector<std::uint8_t>;
using Bytes32 = std::array<std::uint8_t, 32>;  // challenge, nonce, reply, proof

// Bounds the patent (or our design) puts on fields; the codec enforces them.
inline constexpr std::size_t kMaxUserNameLength = 32;   // user name: 1..32 characters
inline constexpr std::size_t kMaxNameLength = 64;       // friendly names, ids, types, actions
inline constexpr std::size_t kMaxDatagramSize = 1400;   // discovery datagrams
inline constexpr std::uint32_t kMaxMx = 120;            // DeviceSearch MX, seconds
inline constexpr std::uint32_t kMaxLeaseSeconds = 86400;
inline constexpr std::size_t kMaxListLength = 256;      // services, accounts, peers, arguments

// Patent, step 3/7 "connecting result".
enum class ConnectResult { Success, Overload, AccessDenied, Authenticate };
// Patent, step f "reason for disconnecting connection".
enum class DisconnectReason { Normal, ProtoError };
// Result of a service call (ours; the patent leaves services to the backbone protocol).
enum class ServiceResult { Ok, NoService, NoLease, NoAction, BadArguments, Denied, Failed };
enum class Role { Initiator, Target };
enum class AccountRole { User, Admin };

std::string_view to_string(ConnectResult v);
std::string_view to_string(DisconnectReason v);
std::string_view to_string(ServiceResult v);
std::string_view to_string(Role v);
std::string_view to_string(AccountRole v);
std::optional<ConnectResult> parse_connect_result(std::string_view s);
std::optional<DisconnectReason> parse_disconnect_reason(std::string_view s);
std::optional<ServiceResult> parse_service_result(std::string_view s);
std::optional<Role> parse_role(std::string_view s);
std::optional<AccountRole> parse_account_role(std::string_view s);

// A state variable or argument value. JSON true/false, integer, number, string.
using Value = std::variant<bool, std::int64_t, double, std::string>;
using ValueMap = std::map<std::string, Value>;
enum class ValueType { Bool, Int, Number, String };
std::string_view to_string(ValueType v);
std::optional<ValueType> parse_value_type(std::string_view s);

// ---- Discovery (UDP multicast, patent steps B/C) ----

struct ServiceRef {
  std::string id;
  std::string type;
  bool operator==(const ServiceRef&) const = default;
};

struct SecurityProperty {
  bool auth_required = true;
  std::vector<std::string> algorithms{"ShareKey"};  // offered when auth_required
  bool operator==(const SecurityProperty&) const = default;
};

struct DeviceAnnounce {
  std::string device_id;      // UUID, stable across restarts
  std::string device_type;
  std::string friendly_name;
  std::string address;        // IPv4/IPv6 literal the device accepts TCP on
  std::uint16_t port = 0;     // TCP port, 1..65535
  std::vector<ServiceRef> services;
  SecurityProperty security;
  std::uint32_t max_age = 0;  // seconds, 1..86400
  std::uint64_t boot_id = 0;  // changes on every start
  std::optional<std::uint64_t> search_id;  // set when this is a unicast answer to a DeviceSearch
  bool operator==(const DeviceAnnounce&) const = default;
};

struct SearchConditions {  // empty string = any
  std::string device_type;
  std::string service_type;
  std::string device_id;
  bool operator==(const SearchConditions&) const = default;
};

struct DeviceSearch {
  std::uint64_t search_id = 0;
  SearchConditions conditions;
  std::uint32_t mx = 1;  // answer after a random delay in [0, mx] seconds, 0..kMaxMx
  bool operator==(const DeviceSearch&) const = default;
};

struct DeviceByeBye {
  std::string device_id;
  std::uint64_t boot_id = 0;
  bool operator==(const DeviceByeBye&) const = default;
};

// ---- Connection creating (TCP, patent steps 1-8) ----
// Every connection message carries `serial`: the sender's message serial number, 1 for its
// first message on the connection and +1 for each following one.

// Step 1 (request_serial 1: user, device_id) and step 5 (request_serial 2: nonce, reply).
struct ConnectRequest {
  std::uint64_t serial = 0;
  std::uint32_t request_serial = 1;  // 1 or 2
  std::string user;                  // form 1: 1..32 characters
  std::string device_id;             // form 1: the initiator's device id
  std::optional<Bytes32> nonce;      // form 2: the initiator's nonce
  std::optional<Bytes32> reply;      // form 2: HMAC reply, see crypto.hpp
  bool operator==(const ConnectRequest&) const = default;
};

// Step 3 (response_serial 1) and step 7 (response_serial 2).
struct ConnectResponse {
  std::uint64_t serial = 0;
  std::uint32_t response_serial = 1;  // 1 or 2
  ConnectResult result = ConnectResult::Success;
  std::string device_id;              // the target's device id (always present)
  std::optional<std::string> algorithm;  // "ShareKey", with AUTHENTICATE
  std::optional<Bytes32> challenge;      // with AUTHENTICATE
  std::optional<Bytes32> proof;          // with SUCCESS at response_serial 2
  bool operator==(const ConnectResponse&) const = default;
};

// Steps f/g.
struct Disconnect {
  std::uint64_t serial = 0;
  DisconnectReason reason = DisconnectReason::Normal;
  bool operator==(const Disconnect&) const = default;
};

struct Ping {
  std::uint64_t serial = 0;
  bool operator==(const Ping&) const = default;
};
struct Pong {
  std::uint64_t serial = 0;
  bool operator==(const Pong&) const = default;
};

// ---- Services (after connecting) ----

struct ArgumentSpec {
  std::string name;
  ValueType type = ValueType::String;
  std::optional<double> min;  // Int/Number only
  std::optional<double> max;
  bool operator==(const ArgumentSpec&) const = default;
};

struct ActionSpec {
  std::string name;
  std::vector<ArgumentSpec> arguments;
  bool admin_only = false;
  bool operator==(const ActionSpec&) const = default;
};

struct ServiceDescription {
  std::string id;
  std::string type;
  std::vector<ActionSpec> actions;
  ValueMap state;  // state variables and their current values
  bool operator==(const ServiceDescription&) const = default;
};

struct ServiceSearch {
  std::uint64_t serial = 0;
  std::uint64_t request_id = 0;
  std::string service_type;  // empty = all
  bool operator==(const ServiceSearch&) const = default;
};
struct ServiceSearchResponse {
  std::uint64_t serial = 0;
  std::uint64_t request_id = 0;
  std::vector<ServiceDescription> services;
  bool operator==(const ServiceSearchResponse&) const = default;
};

struct ServiceRent {
  std::uint64_t serial = 0;
  std::uint64_t request_id = 0;
  std::string service_id;
  std::uint32_t lease_seconds = 0;  // 1..kMaxLeaseSeconds
  bool operator==(const ServiceRent&) const = default;
};
struct ServiceRentResponse {
  std::uint64_t serial = 0;
  std::uint64_t request_id = 0;
  ServiceResult result = ServiceResult::Ok;
  std::string lease_id;             // with Ok
  std::uint32_t lease_seconds = 0;  // granted, with Ok
  std::string error;                // human-readable, with anything but Ok
  bool operator==(const ServiceRentResponse&) const = default;
};

struct ServiceInvoke {
  std::uint64_t serial = 0;
  std::uint64_t request_id = 0;
  std::string lease_id;
  std::string action;
  ValueMap arguments;
  bool operator==(const ServiceInvoke&) const = default;
};
struct ServiceInvokeResponse {
  std::uint64_t serial = 0;
  std::uint64_t request_id = 0;
  ServiceResult result = ServiceResult::Ok;
  ValueMap values;    // with Ok
  std::string error;  // with anything but Ok
  bool operator==(const ServiceInvokeResponse&) const = default;
};

struct ServiceRelease {
  std::uint64_t serial = 0;
  std::uint64_t request_id = 0;
  std::string lease_id;
  bool operator==(const ServiceRelease&) const = default;
};

// Pushed to every lease holder of a service when state variables change.
struct ServiceEvent {
  std::uint64_t serial = 0;
  std::string lease_id;
  std::string service_id;
  ValueMap variables;  // the changed variables and their new values
  bool operator==(const ServiceEvent&) const = default;
};

// ---- Remote configuration (patent claim 2), admin accounts only, sealed channel only ----

struct AccountUpdate {
  std::string user;
  std::optional<std::string> password;  // absent with remove
  AccountRole role = AccountRole::User;
  bool remove = false;
  bool operator==(const AccountUpdate&) const = default;
};

struct Configure {
  std::uint64_t serial = 0;
  std::uint64_t request_id = 0;
  std::vector<AccountUpdate> accounts;
  std::optional<std::uint32_t> max_connections;  // 1..65535
  std::optional<bool> auth_required;
  bool operator==(const Configure&) const = default;
};
struct ConfigureResponse {
  std::uint64_t serial = 0;
  std::uint64_t request_id = 0;
  ServiceResult result = ServiceResult::Ok;
  std::string error;
  bool operator==(const ConfigureResponse&) const = default;
};

using Message = std::variant<DeviceAnnounce, DeviceSearch, DeviceByeBye, ConnectRequest,
                             ConnectResponse, Disconnect, Ping, Pong, ServiceSearch,
                             ServiceSearchResponse, ServiceRent, ServiceRentResponse, ServiceInvoke,
                             ServiceInvokeResponse, ServiceRelease, ServiceEvent, Configure,
                             ConfigureResponse>;

// The wire "type" of a message ("ConnectRequest", ...).
std::string_view message_type(const Message& m);

// The serial of a connection message; nullopt for discovery messages.
std::optional<std::uint64_t> message_serial(const Message& m);
// Sets the serial of a connection message (no-op for discovery messages).
void set_message_serial(Message& m, std::uint64_t serial);

}  // namespace homep2p
