// Enum wire strings, message type names and serial access (plugin/src/core/messages.cpp).
#include "homep2p/messages.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "homep2p/result.hpp"

namespace homep2p {
namespace {

template <class E>
using Table = std::vector<std::pair<E, std::string_view>>;

// Checks both directions for every value of an enum and that the strings are distinct.
template <class E, class Parse>
void expect_round_trip(const Table<E>& table, Parse parse) {
  std::set<std::string_view> seen;
  for (const auto& [value, text] : table) {
    EXPECT_EQ(to_string(value), text);
    auto parsed = parse(text);
    ASSERT_TRUE(parsed.has_value()) << text;
    EXPECT_EQ(*parsed, value) << text;
    EXPECT_TRUE(seen.insert(text).second) << "duplicate wire string " << text;
  }
}

// Patent steps 3/7: the connecting results.
TEST(Messages, ConnectResultStringsAreThePatentsAndRoundTrip) {
  expect_round_trip<ConnectResult>({{ConnectResult::Success, "SUCCESS"},
                                    {ConnectResult::Overload, "OVERLOAD"},
                                    {ConnectResult::AccessDenied, "ACCESSDENIED"},
                                    {ConnectResult::Authenticate, "AUTHENTICATE"}},
                                   parse_connect_result);
}

// Patent step f: the reasons for disconnecting.
TEST(Messages, DisconnectReasonStringsRoundTrip) {
  expect_round_trip<DisconnectReason>(
      {{DisconnectReason::Normal, "NORMAL"}, {DisconnectReason::ProtoError, "PROTOERROR"}},
      parse_disconnect_reason);
}

TEST(Messages, ServiceResultStringsRoundTrip) {
  expect_round_trip<ServiceResult>({{ServiceResult::Ok, "OK"},
                                    {ServiceResult::NoService, "NOSERVICE"},
                                    {ServiceResult::NoLease, "NOLEASE"},
                                    {ServiceResult::NoAction, "NOACTION"},
                                    {ServiceResult::BadArguments, "BADARGS"},
                                    {ServiceResult::Denied, "DENIED"},
                                    {ServiceResult::Failed, "FAILED"}},
                                   parse_service_result);
}

TEST(Messages, RoleStringsRoundTrip) {
  expect_round_trip<Role>({{Role::Initiator, "initiator"}, {Role::Target, "target"}}, parse_role);
}

TEST(Messages, AccountRoleStringsRoundTrip) {
  expect_round_trip<AccountRole>({{AccountRole::User, "user"}, {AccountRole::Admin, "admin"}},
                                 parse_account_role);
}

TEST(Messages, ValueTypeStringsRoundTrip) {
  expect_round_trip<ValueType>({{ValueType::Bool, "bool"},
                                {ValueType::Int, "int"},
                                {ValueType::Number, "number"},
                                {ValueType::String, "string"}},
                               parse_value_type);
}

TEST(Messages, UnknownOrWrongCaseEnumStringsAreRejected) {
  EXPECT_FALSE(parse_connect_result("success"));
  EXPECT_FALSE(parse_connect_result("ACCESS_DENIED"));
  EXPECT_FALSE(parse_connect_result(""));
  EXPECT_FALSE(parse_disconnect_reason("normal"));
  EXPECT_FALSE(parse_disconnect_reason("PROTOERROR "));
  EXPECT_FALSE(parse_service_result("ok"));
  EXPECT_FALSE(parse_service_result("BADARGUMENTS"));
  EXPECT_FALSE(parse_role("Initiator"));
  EXPECT_FALSE(parse_account_role("root"));
  EXPECT_FALSE(parse_value_type("float"));
  // A prefix of a valid name must not match, and a view is compared by its length, not up to NUL.
  EXPECT_FALSE(parse_connect_result(std::string_view("SUCCESS", 6)));
  EXPECT_EQ(parse_connect_result(std::string_view("SUCCESSFUL", 7)), ConnectResult::Success);
}

// One sample of every alternative, in variant order.
std::vector<Message> one_of_each() {
  return {DeviceAnnounce{},
          DeviceSearch{},
          DeviceByeBye{},
          ConnectRequest{},
          ConnectResponse{},
          Disconnect{},
          Ping{},
          Pong{},
          ServiceSearch{},
          ServiceSearchResponse{},
          ServiceRent{},
          ServiceRentResponse{},
          ServiceInvoke{},
          ServiceInvokeResponse{},
          ServiceRelease{},
          ServiceEvent{},
          Configure{},
          ConfigureResponse{}};
}

TEST(Messages, MessageTypeNamesEveryAlternativeWithItsStructName) {
  const std::vector<std::string_view> expected = {"DeviceAnnounce",
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
  const auto messages = one_of_each();
  ASSERT_EQ(messages.size(), std::variant_size_v<Message>);
  ASSERT_EQ(expected.size(), messages.size());
  for (std::size_t i = 0; i < messages.size(); ++i) {
    EXPECT_EQ(messages[i].index(), i);
    EXPECT_EQ(message_type(messages[i]), expected[i]);
  }
}

TEST(Messages, DiscoveryMessagesHaveNoSerial) {
  Message announce = DeviceAnnounce{};
  Message search = DeviceSearch{};
  Message bye = DeviceByeBye{};
  for (Message* m : {&announce, &search, &bye}) {
    EXPECT_FALSE(message_serial(*m).has_value()) << message_type(*m);
    set_message_serial(*m, 9);  // a no-op, and must not crash
    EXPECT_FALSE(message_serial(*m).has_value());
  }
}

TEST(Messages, ConnectionMessagesExposeAndSetTheirSerial) {
  for (Message m : one_of_each()) {
    if (std::holds_alternative<DeviceAnnounce>(m) || std::holds_alternative<DeviceSearch>(m) ||
        std::holds_alternative<DeviceByeBye>(m)) {
      continue;
    }
    ASSERT_TRUE(message_serial(m).has_value()) << message_type(m);
    EXPECT_EQ(*message_serial(m), 0u);
    set_message_serial(m, 42);
    EXPECT_EQ(message_serial(m), std::optional<std::uint64_t>(42)) << message_type(m);
  }
  Message ping = Ping{7};
  set_message_serial(ping, 8);
  EXPECT_EQ(std::get<Ping>(ping).serial, 8u);
}

TEST(Messages, ErrcToStringIsDistinctAndReadable) {
  EXPECT_STREQ(to_string(Errc::InvalidMessage), "invalid message");
  EXPECT_STREQ(to_string(Errc::FrameTooLarge), "frame too large");
  EXPECT_STREQ(to_string(Errc::InvalidFrame), "invalid frame");
  const Errc all[] = {Errc::InvalidMessage, Errc::FrameTooLarge,
                      Errc::InvalidFrame,   Errc::Replay,
                      Errc::Authentication, Errc::Crypto,
                      Errc::InvalidState,   Errc::Config,
                      Errc::Service,        Errc::Io};
  std::set<std::string> seen;
  for (Errc e : all) {
    const std::string text = to_string(e);
    EXPECT_FALSE(text.empty());
    EXPECT_NE(text, "unknown error");
    EXPECT_TRUE(seen.insert(text).second) << text;
  }
}

}  // namespace
}  // namespace homep2p
