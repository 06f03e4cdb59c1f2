// ConnectionManager, the service every device has (DESIGN §2): state mirrors the connection
// table; Connect/Disconnect need an authenticated admin and call the runtime's hooks.
#include "homep2p/connection_manager_service.hpp"

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace homep2p::test {
namespace {

CallerIdentity caller(AccountRole role, bool authenticated = true) {
  return CallerIdentity{7, "peer", role == AccountRole::Admin ? "root" : "alice", role, authenticated};
}

struct Fixture {
  Fixture() : registry(random) {
    ConnectionManagerActions actions;
    actions.connect = [this](const std::string& target, const CallerIdentity&) {
      connects.push_back(target);
      return ActionOutcome{ServiceResult::Ok, {{"started", true}}, {}, {}};
    };
    actions.disconnect = [this](const std::string& peer, const CallerIdentity&) {
      disconnects.push_back(peer);
      return ActionOutcome{ServiceResult::Ok, {}, {}, {}};
    };
    EXPECT_TRUE(registry.add(make_connection_manager(std::move(actions))).ok());
    lease = rent(caller(AccountRole::User));
  }
  std::string rent(const CallerIdentity& who) {
    const auto out = registry.handle(ServiceRent{0, 1, std::string(kConnectionManagerId), 60}, who, kT0);
    return std::get<ServiceRentResponse>(out.at(0).message).lease_id;
  }
  ServiceInvokeResponse invoke(const std::string& lease_id, const std::string& action, ValueMap args,
                               const CallerIdentity& who) {
    const auto out = registry.handle(ServiceInvoke{0, 2, lease_id, action, std::move(args)}, who, kT0);
    return std::get<ServiceInvokeResponse>(out.at(0).message);
  }
  CountingRandom random;
  ServiceRegistry registry;
  std::vector<std::string> connects, disconnects;
  std::string lease;
};

TEST(ConnectionManagerService, StateMirrorsTheConnectionTable) {
  ConnectionTable table(5);
  ASSERT_TRUE(table.try_add("aaaa", Role::Initiator, kT0));
  ASSERT_TRUE(table.try_add("bbbb", Role::Target, kT0));
  const ValueMap state = connection_manager_state(table, [](TimePoint) { return std::int64_t{1700000000}; });
  EXPECT_EQ(std::get<std::int64_t>(state.at("count")), 2);
  EXPECT_EQ(std::get<std::int64_t>(state.at("max")), 5);
  const auto peers = parse_connection_manager_peers(std::get<std::string>(state.at("peers")));
  ASSERT_TRUE(peers.ok());
  ASSERT_EQ(peers->size(), 2U);
  EXPECT_EQ((*peers)[0].device_id, "aaaa");
  EXPECT_EQ((*peers)[0].role, Role::Initiator);
  EXPECT_EQ((*peers)[1].role, Role::Target);
  EXPECT_EQ((*peers)[1].since, 1700000000);
}

TEST(ConnectionManagerService, ChangesReachEveryLeaseHolderAsEvents) {
  Fixture f;
  ConnectionTable table(5);
  ASSERT_TRUE(table.try_add("aaaa", Role::Initiator, kT0));
  const auto events = f.registry.set_state(kConnectionManagerId, connection_manager_state(table, {}), kT0);
  ASSERT_EQ(events.size(), 1U);
  const auto& event = std::get<ServiceEvent>(events[0].message);
  EXPECT_EQ(event.lease_id, f.lease);
  EXPECT_EQ(std::get<std::int64_t>(event.variables.at("count")), 1);
}

TEST(ConnectionManagerService, AdminConnectCallsTheRuntimeWithTheTarget) {
  Fixture f;
  const std::string admin_lease = f.rent(caller(AccountRole::Admin));
  const auto r = f.invoke(admin_lease, "Connect", {{"target", std::string("bbbb")}}, caller(AccountRole::Admin));
  EXPECT_EQ(r.result, ServiceResult::Ok) << r.error;
  ASSERT_EQ(f.connects.size(), 1U);
  EXPECT_EQ(f.connects[0], "bbbb");
}

TEST(ConnectionManagerService, AdminDisconnectCallsTheRuntimeWithThePeer) {
  Fixture f;
  const std::string admin_lease = f.rent(caller(AccountRole::Admin));
  const auto r = f.invoke(admin_lease, "Disconnect", {{"peer", std::string("aaaa")}}, caller(AccountRole::Admin));
  EXPECT_EQ(r.result, ServiceResult::Ok);
  ASSERT_EQ(f.disconnects.size(), 1U);
}

TEST(ConnectionManagerService, ANonAdminIsDeniedAndNothingHappens) {
  Fixture f;
  const auto r = f.invoke(f.lease, "Connect", {{"target", std::string("bbbb")}}, caller(AccountRole::User));
  EXPECT_EQ(r.result, ServiceResult::Denied);
  EXPECT_TRUE(f.connects.empty());
}

TEST(ConnectionManagerService, AnUnauthenticatedAdminNameIsDenied) {
  Fixture f;
  const CallerIdentity who = caller(AccountRole::Admin, /*authenticated=*/false);
  const std::string lease = f.rent(who);
  const auto r = f.invoke(lease, "Connect", {{"target", std::string("bbbb")}}, who);
  EXPECT_EQ(r.result, ServiceResult::Denied);
}

TEST(ConnectionManagerService, ConnectWithoutTargetIsBadArguments) {
  Fixture f;
  const std::string admin_lease = f.rent(caller(AccountRole::Admin));
  const auto r = f.invoke(admin_lease, "Connect", {}, caller(AccountRole::Admin));
  EXPECT_EQ(r.result, ServiceResult::BadArguments);
  EXPECT_TRUE(f.connects.empty());
}

TEST(ConnectionManagerService, MalformedPeersTextIsAnError) {
  EXPECT_FALSE(parse_connection_manager_peers("not json").ok());
  EXPECT_FALSE(parse_connection_manager_peers(R"([{"device_id":"x"}])").ok());
  EXPECT_FALSE(parse_connection_manager_peers(R"([{"device_id":"x","role":"boss"}])").ok());
  EXPECT_TRUE(parse_connection_manager_peers("[]").ok());
}

// Issue 6: found by tests/fuzz/fuzz_message (corpus file regress-deep-peers). The peers text comes
// from a device; parsing it recursively overflowed the stack under ASan at 60,000 levels (a
// 64 KiB frame holds 65,000). Now it is parsed without recursion: an error, not a crash.
TEST(ConnectionManagerService, DeeplyNestedPeersTextIsAnErrorNotAStackOverflow) {
  const std::string deep = std::string(65000, '[') + std::string(65000, ']');
  EXPECT_FALSE(parse_connection_manager_peers(deep).ok());
  EXPECT_FALSE(parse_connection_manager_peers(std::string(65000, '[')).ok());
}

}  // namespace
}  // namespace homep2p::test
