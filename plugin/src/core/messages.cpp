// Wire names of the protocol's enums, message type names and serial access.
// The enum strings are the patent's (CN 02130660.5) where it names them; they are part of the
// wire format (docs/PROTOCOL.md), so changing one breaks interoperability.
#include "homep2p/messages.hpp"

#include <iterator>
#include <type_traits>
#include <utility>

#include "homep2p/result.hpp"

namespace homep2p {
namespace {

// One table per enum keeps to_string and parse_* from drifting apart.
template <class E>
struct EnumName {
  E value;
  std::string_view name;
};

constexpr EnumName<ConnectResult> kConnectResultNames[] = {
    {ConnectResult::Success, "SUCCESS"},
    {ConnectResult::Overload, "OVERLOAD"},
    {ConnectResult::AccessDenied, "ACCESSDENIED"},
    {ConnectResult::Authenticate, "AUTHENTICATE"},
};

constexpr EnumName<DisconnectReason> kDisconnectReasonNames[] = {
    {DisconnectReason::Normal, "NORMAL"},
    {DisconnectReason::ProtoError, "PROTOERROR"},
};

constexpr EnumName<ServiceResult> kServiceResultNames[] = {
    {ServiceResult::Ok, "OK"},
    {ServiceResult::NoService, "NOSERVICE"},
    {ServiceResult::NoLease, "NOLEASE"},
    {ServiceResult::NoAction, "NOACTION"},
    {ServiceResult::BadArguments, "BADARGS"},
    {ServiceResult::Denied, "DENIED"},
    {ServiceResult::Failed, "FAILED"},
};

constexpr EnumName<Role> kRoleNames[] = {
    {Role::Initiator, "initiator"},
    {Role::Target, "target"},
};

constexpr EnumName<AccountRole> kAccountRoleNames[] = {
    {AccountRole::User, "user"},
    {AccountRole::Admin, "admin"},
};

constexpr EnumName<ValueType> kValueTypeNames[] = {
    {ValueType::Bool, "bool"},
    {ValueType::Int, "int"},
    {ValueType::Number, "number"},
    {ValueType::String, "string"},
};

template <class E, std::size_t N>
std::string_view name_of(const EnumName<E> (&table)[N], E value) {
  for (const auto& entry : table) {
    if (entry.value == value) return entry.name;
  }
  // Only reachable with a value cast from outside the enum's range.
  return "UNKNOWN";
}

template <class E, std::size_t N>
std::optional<E> value_of(const EnumName<E> (&table)[N], std::string_view name) {
  for (const auto& entry : table) {
    if (entry.name == name) return entry.value;
  }
  return std::nullopt;
}

template <class T>
constexpr bool kHasSerial = !std::is_same_v<T, DeviceAnnounce> &&
                            !std::is_same_v<T, DeviceSearch> && !std::is_same_v<T, DeviceByeBye>;

}  // namespace

std::string_view to_string(ConnectResult v) {
  return name_of(kConnectResultNames, v);
}
std::string_view to_string(DisconnectReason v) {
  return name_of(kDisconnectReasonNames, v);
}
std::string_view to_string(ServiceResult v) {
  return name_of(kServiceResultNames, v);
}
std::string_view to_string(Role v) {
  return name_of(kRoleNames, v);
}
std::string_view to_string(AccountRole v) {
  return name_of(kAccountRoleNames, v);
}
std::string_view to_string(ValueType v) {
  return name_of(kValueTypeNames, v);
}

std::optional<ConnectResult> parse_connect_result(std::string_view s) {
  return value_of(kConnectResultNames, s);
}
std::optional<DisconnectReason> parse_disconnect_reason(std::string_view s) {
  return value_of(kDisconnectReasonNames, s);
}
std::optional<ServiceResult> parse_service_result(std::string_view s) {
  return value_of(kServiceResultNames, s);
}
std::optional<Role> parse_role(std::string_view s) {
  return value_of(kRoleNames, s);
}
std::optional<AccountRole> parse_account_role(std::string_view s) {
  return value_of(kAccountRoleNames, s);
}
std::optional<ValueType> parse_value_type(std::string_view s) {
  return value_of(kValueTypeNames, s);
}

std::string_view message_type(const Message& m) {
  // In the order of the Message alternatives; messages_test checks every one.
  static constexpr std::string_view kTypes[] = {"DeviceAnnounce",
                                                "DeviceSearch",
                                                "DeviceByeBye",
                                                "ConnectRequest",
                                                "ConnectResponse",
                                                "Disconnect",
                                                "Ping",
                                                "Pong",
                                                "ServiceSearch",
                                                "ServiceSearchResponse",
                                                "ServiceRent",
                                                "ServiceRentResponse",
                                                "ServiceInvoke",
                                                "ServiceInvokeResponse",
                                                "ServiceRelease",
                                                "ServiceEvent",
                                                "Configure",
                                                "ConfigureResponse"};
  static_assert(std::size(kTypes) == std::variant_size_v<Message>,
                "message_type must name every Message alternative");
  return kTypes[m.index()];
}

std::optional<std::uint64_t> message_serial(const Message& m) {
  return std::visit(
      [](const auto& msg) -> std::optional<std::uint64_t> {
        using T = std::decay_t<decltype(msg)>;
        if constexpr (kHasSerial<T>)
          return msg.serial;
        else
          return std::nullopt;
      },
      m);
}

void set_message_serial(Message& m, std::uint64_t serial) {
  std::visit(
      [serial](auto& msg) {
        using T = std::decay_t<decltype(msg)>;
        if constexpr (kHasSerial<T>) msg.serial = serial;
      },
      m);
}

const char* to_string(Errc code) {
  switch (code) {
    case Errc::InvalidMessage:
      return "invalid message";
    case Errc::FrameTooLarge:
      return "frame too large";
    case Errc::InvalidFrame:
      return "invalid frame";
    case Errc::Replay:
      return "replayed frame";
    case Errc::Authentication:
      return "authentication failed";
    case Errc::Crypto:
      return "crypto error";
    case Errc::InvalidState:
      return "invalid state";
    case Errc::Config:
      return "configuration error";
    case Errc::Service:
      return "service error";
    case Errc::Io:
      return "I/O error";
  }
  return "unknown error";
}

}  // namespace homep2p
