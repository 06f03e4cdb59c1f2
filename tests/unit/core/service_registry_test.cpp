// The patent's service searching, renting and invoking, plus ServiceEvents to lease holders.
#include "homep2p/service_registry.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "core/test_support.hpp"

namespace homep2p {
namespace {

using test::CountingRandom;
using test::kT0;

constexpr ConnectionId kAlice = 1;
constexpr ConnectionId kBob = 2;

CallerIdentity caller(ConnectionId id, AccountRole role = AccountRole::User,
                      bool authenticated = true) {
  CallerIdentity c;
  c.connection_id = id;
  c.peer_id = "peer-" + std::to_string(id);
  c.user = "user" + std::to_string(id);
  c.role = role;
  c.authenticated = authenticated;
  return c;
}

template <class T>
const T& as(const OutboundMessage& m) {
  const T* p = std::get_if<T>(&m.message);
  if (p == nullptr) throw std::runtime_error("unexpected message type");
  return *p;
}

// A service with one action of each kind the registry treats differently. The handlers record
// what they were called with.
struct Calls {
  int count = 0;
  ValueMap arguments;
  CallerIdentity caller;
  TimePoint now{};
  ValueMap state_seen;
};

ServiceDefinition test_service(std::string id, std::string type, Calls& calls) {
  ServiceDefinition s;
  s.description.id = std::move(id);
  s.description.type = std::move(type);
  s.description.state = {{"level", std::int64_t{0}}, {"label", std::string("none")}};
  s.description.actions = {
      ActionSpec{"SetLevel", {ArgumentSpec{"level", ValueType::Int, 0.0, 10.0}}, false},
      ActionSpec{"SetBoth",
                 {ArgumentSpec{"level", ValueType::Int, std::nullopt, std::nullopt},
                  ArgumentSpec{"label", ValueType::String, std::nullopt, std::nullopt}},
                 false},
      ActionSpec{"Reset", {}, true},
      ActionSpec{"Broken", {}, false},
      ActionSpec{"Throws", {}, false},
      ActionSpec{"Peek", {}, false},
  };
  s.handlers["SetLevel"] = [&calls](const ValueMap& args, const CallerIdentity& c, TimePoint now) {
    calls.count++;
    calls.arguments = args;
    calls.caller = c;
    calls.now = now;
    ActionOutcome o;
    o.values["level"] = args.at("level");
    o.state_changes["level"] = args.at("level");
    return o;
  };
  s.handlers["SetBoth"] = [](const ValueMap& args, const CallerIdentity&, TimePoint) {
    ActionOutcome o;
    o.state_changes = args;
    return o;
  };
  s.handlers["Reset"] = [&calls](const ValueMap&, const CallerIdentity&, TimePoint) {
    calls.count++;
    ActionOutcome o;
    o.state_changes["level"] = std::int64_t{0};
    return o;
  };
  s.handlers["Broken"] = [](const ValueMap&, const CallerIdentity&, TimePoint) {
    ActionOutcome o;
    o.result = ServiceResult::Failed;
    o.error = "the bulb is gone";
    return o;
  };
  s.handlers["Throws"] = [](const ValueMap&, const CallerIdentity&, TimePoint) -> ActionOutcome {
    throw std::runtime_error("boom");
  };
  s.stateful_handlers["Peek"] = [&calls](const ValueMap&, const ValueMap& state,
                                         const CallerIdentity&, TimePoint) {
    calls.state_seen = state;
    ActionOutcome o;
    o.values = state;
    return o;
  };
  return s;
}

class ServiceRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(registry.add(test_service("dial", "Dial", calls)));
    ASSERT_TRUE(registry.add(test_service("knob", "Knob", other_calls)));
  }

  std::string rent(ConnectionId who, std::string service = "dial", std::uint32_t lease_seconds = 60,
                   TimePoint now = kT0) {
    auto out = registry.handle(ServiceRent{0, 7, service, lease_seconds}, caller(who), now);
    if (out.size() != 1) throw std::runtime_error("rent: expected one answer");
    const auto& r = as<ServiceRentResponse>(out[0]);
    if (r.result != ServiceResult::Ok) throw std::runtime_error("rent failed: " + r.error);
    return r.lease_id;
  }

  std::vector<OutboundMessage> invoke(const CallerIdentity& who, const std::string& lease,
                                      std::string action, ValueMap args = {},
                                      TimePoint now = kT0 + seconds(1)) {
    return registry.handle(ServiceInvoke{0, 42, lease, std::move(action), std::move(args)}, who,
                           now);
  }

  CountingRandom random;
  ServiceRegistry registry{random};
  Calls calls;
  Calls other_calls;
};

// ---- add ----

TEST_F(ServiceRegistryTest, AddRejectsADuplicateServiceIdAndNamesIt) {
  Calls c;
  auto r = registry.add(test_service("dial", "Other", c));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Service);
  EXPECT_NE(r.error().message.find("'dial'"), std::string::npos) << r.error().message;
  EXPECT_EQ(registry.describe().size(), 2u);
}

TEST(ServiceRegistry, AddRejectsAnActionWithoutAHandlerAndNamesIt) {
  CountingRandom random;
  ServiceRegistry registry(random);
  Calls c;
  auto s = test_service("dial", "Dial", c);
  s.handlers.erase("Reset");
  auto r = registry.add(std::move(s));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Service);
  EXPECT_NE(r.error().message.find("'Reset'"), std::string::npos) << r.error().message;
  EXPECT_EQ(registry.find("dial"), nullptr);
}

TEST(ServiceRegistry, AddRejectsAHandlerWithoutAnActionAndNamesIt) {
  CountingRandom random;
  ServiceRegistry registry(random);
  Calls c;
  auto s = test_service("dial", "Dial", c);
  s.handlers["Explode"] = [](const ValueMap&, const CallerIdentity&, TimePoint) {
    return ActionOutcome{};
  };
  auto r = registry.add(std::move(s));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Service);
  EXPECT_NE(r.error().message.find("'Explode'"), std::string::npos) << r.error().message;
}

TEST(ServiceRegistry, AddRejectsAStatefulHandlerWithoutAnAction) {
  CountingRandom random;
  ServiceRegistry registry(random);
  Calls c;
  auto s = test_service("dial", "Dial", c);
  s.stateful_handlers["Glance"] = [](const ValueMap&, const ValueMap&, const CallerIdentity&,
                                     TimePoint) { return ActionOutcome{}; };
  auto r = registry.add(std::move(s));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("'Glance'"), std::string::npos) << r.error().message;
}

TEST(ServiceRegistry, AddRejectsAnActionWithTwoHandlers) {
  CountingRandom random;
  ServiceRegistry registry(random);
  Calls c;
  auto s = test_service("dial", "Dial", c);
  s.stateful_handlers["SetLevel"] = [](const ValueMap&, const ValueMap&, const CallerIdentity&,
                                       TimePoint) { return ActionOutcome{}; };
  auto r = registry.add(std::move(s));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("'SetLevel'"), std::string::npos) << r.error().message;
}

TEST(ServiceRegistry, AddRejectsAnActionDeclaredTwice) {
  CountingRandom random;
  ServiceRegistry registry(random);
  Calls c;
  auto s = test_service("dial", "Dial", c);
  s.description.actions.push_back(ActionSpec{"Reset", {}, false});
  auto r = registry.add(std::move(s));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("'Reset'"), std::string::npos) << r.error().message;
}

TEST(ServiceRegistry, AddRejectsAnEmptyHandler) {
  CountingRandom random;
  ServiceRegistry registry(random);
  Calls c;
  auto s = test_service("dial", "Dial", c);
  s.handlers["Reset"] = nullptr;
  auto r = registry.add(std::move(s));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("'Reset'"), std::string::npos) << r.error().message;
}

// ---- search ----

TEST_F(ServiceRegistryTest, SearchWithAnEmptyFilterListsEveryServiceToTheCaller) {
  auto out = registry.handle(ServiceSearch{5, 99, ""}, caller(kAlice), kT0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].connection_id, kAlice);
  const auto& r = as<ServiceSearchResponse>(out[0]);
  EXPECT_EQ(r.request_id, 99u);
  ASSERT_EQ(r.services.size(), 2u);
  EXPECT_EQ(r.services[0].id, "dial");
  EXPECT_EQ(r.services[1].id, "knob");
  EXPECT_EQ(r.services[0], *registry.find("dial"));  // actions and state included
}

TEST_F(ServiceRegistryTest, SearchFiltersByServiceType) {
  auto out = registry.handle(ServiceSearch{0, 1, "Knob"}, caller(kAlice), kT0);
  ASSERT_EQ(out.size(), 1u);
  const auto& r = as<ServiceSearchResponse>(out[0]);
  ASSERT_EQ(r.services.size(), 1u);
  EXPECT_EQ(r.services[0].id, "knob");
}

TEST_F(ServiceRegistryTest, SearchForAnUnknownTypeAnswersWithAnEmptyList) {
  auto out = registry.handle(ServiceSearch{0, 3, "Toaster"}, caller(kAlice), kT0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(as<ServiceSearchResponse>(out[0]).request_id, 3u);
  EXPECT_TRUE(as<ServiceSearchResponse>(out[0]).services.empty());
}

// ---- rent ----

TEST_F(ServiceRegistryTest, RentOfAnUnknownServiceIsNoServiceAndGrantsNothing) {
  auto out = registry.handle(ServiceRent{0, 8, "toaster", 60}, caller(kAlice), kT0);
  ASSERT_EQ(out.size(), 1u);
  const auto& r = as<ServiceRentResponse>(out[0]);
  EXPECT_EQ(r.request_id, 8u);
  EXPECT_EQ(r.result, ServiceResult::NoService);
  EXPECT_NE(r.error.find("toaster"), std::string::npos) << r.error;
  EXPECT_TRUE(r.lease_id.empty());
  EXPECT_TRUE(registry.leases().empty());
}

TEST_F(ServiceRegistryTest, RentGrantsALeaseWhoseIdIsSixteenRandomBytesInLowercaseHex) {
  auto out = registry.handle(ServiceRent{0, 8, "dial", 60}, caller(kAlice), kT0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].connection_id, kAlice);
  const auto& r = as<ServiceRentResponse>(out[0]);
  EXPECT_EQ(r.request_id, 8u);
  EXPECT_EQ(r.result, ServiceResult::Ok);
  EXPECT_EQ(r.lease_id, "000102030405060708090a0b0c0d0e0f");  // CountingRandom's first 16 bytes
  EXPECT_EQ(r.lease_seconds, 60u);
  EXPECT_TRUE(r.error.empty());
  ASSERT_EQ(registry.leases().size(), 1u);
  const Lease& lease = registry.leases()[0];
  EXPECT_EQ(lease.lease_id, r.lease_id);
  EXPECT_EQ(lease.service_id, "dial");
  EXPECT_EQ(lease.holder, kAlice);
  EXPECT_EQ(lease.expires, kT0 + seconds(60));
}

TEST_F(ServiceRegistryTest, EveryRentGetsItsOwnLease) {
  std::string a = rent(kAlice);
  std::string b = rent(kAlice);
  std::string c = rent(kBob, "knob");
  EXPECT_NE(a, b);
  EXPECT_NE(b, c);
  EXPECT_EQ(b, "101112131415161718191a1b1c1d1e1f");
  EXPECT_EQ(registry.leases().size(), 3u);
}

TEST_F(ServiceRegistryTest, RentClampsTheLeaseToTheMaximum) {
  auto out =
      registry.handle(ServiceRent{0, 1, "dial", kMaxLeaseSeconds + 1000}, caller(kAlice), kT0);
  const auto& r = as<ServiceRentResponse>(out.at(0));
  EXPECT_EQ(r.result, ServiceResult::Ok);
  EXPECT_EQ(r.lease_seconds, kMaxLeaseSeconds);
  EXPECT_EQ(registry.leases().at(0).expires, kT0 + seconds(kMaxLeaseSeconds));
}

TEST_F(ServiceRegistryTest, RentOfZeroSecondsGrantsOneSecondRatherThanADeadLease) {
  auto out = registry.handle(ServiceRent{0, 1, "dial", 0}, caller(kAlice), kT0);
  const auto& r = as<ServiceRentResponse>(out.at(0));
  EXPECT_EQ(r.lease_seconds, 1u);
  EXPECT_EQ(registry.leases().at(0).expires, kT0 + seconds(1));
}

TEST(ServiceRegistry, RentFailsRatherThanHandOutADuplicateLeaseId) {
  test::ScriptedRandom stuck({0xab});  // always the same bytes
  ServiceRegistry registry(stuck);
  Calls c;
  ASSERT_TRUE(registry.add(test_service("dial", "Dial", c)));
  auto first = registry.handle(ServiceRent{0, 1, "dial", 60}, caller(kAlice), kT0);
  EXPECT_EQ(as<ServiceRentResponse>(first.at(0)).result, ServiceResult::Ok);
  auto second = registry.handle(ServiceRent{0, 2, "dial", 60}, caller(kBob), kT0);
  const auto& r = as<ServiceRentResponse>(second.at(0));
  EXPECT_EQ(r.result, ServiceResult::Failed);
  EXPECT_FALSE(r.error.empty());
  EXPECT_EQ(registry.leases().size(), 1u);
}

// ---- invoke ----

TEST_F(ServiceRegistryTest, InvokeWithoutALeaseIsNoLease) {
  auto out = invoke(caller(kAlice), "deadbeef", "SetLevel", {{"level", std::int64_t{3}}});
  ASSERT_EQ(out.size(), 1u);
  const auto& r = as<ServiceInvokeResponse>(out[0]);
  EXPECT_EQ(r.request_id, 42u);
  EXPECT_EQ(r.result, ServiceResult::NoLease);
  EXPECT_EQ(r.error, "invoke needs a live lease: rent the service first");
  EXPECT_EQ(calls.count, 0);
}

TEST_F(ServiceRegistryTest, InvokeWithAnExpiredLeaseIsNoLease) {
  std::string lease = rent(kAlice, "dial", 10);
  auto before =
      invoke(caller(kAlice), lease, "SetLevel", {{"level", std::int64_t{1}}}, kT0 + seconds(9));
  EXPECT_EQ(as<ServiceInvokeResponse>(before.at(0)).result, ServiceResult::Ok);
  auto at_expiry =
      invoke(caller(kAlice), lease, "SetLevel", {{"level", std::int64_t{2}}}, kT0 + seconds(10));
  ASSERT_EQ(at_expiry.size(), 1u);
  EXPECT_EQ(as<ServiceInvokeResponse>(at_expiry[0]).result, ServiceResult::NoLease);
  EXPECT_EQ(calls.count, 1);
}

TEST_F(ServiceRegistryTest, InvokeWithALeaseHeldByAnotherConnectionIsNoLease) {
  std::string lease = rent(kAlice);
  auto out = invoke(caller(kBob), lease, "SetLevel", {{"level", std::int64_t{3}}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].connection_id, kBob);
  EXPECT_EQ(as<ServiceInvokeResponse>(out[0]).result, ServiceResult::NoLease);
  EXPECT_EQ(calls.count, 0);
}

TEST_F(ServiceRegistryTest, InvokeOfAnUnknownActionIsNoAction) {
  std::string lease = rent(kAlice);
  auto out = invoke(caller(kAlice), lease, "Explode");
  ASSERT_EQ(out.size(), 1u);
  const auto& r = as<ServiceInvokeResponse>(out[0]);
  EXPECT_EQ(r.result, ServiceResult::NoAction);
  EXPECT_NE(r.error.find("Explode"), std::string::npos) << r.error;
}

TEST_F(ServiceRegistryTest, AdminOnlyActionIsDeniedToAUserAccount) {
  std::string lease = rent(kAlice);
  auto out = invoke(caller(kAlice, AccountRole::User), lease, "Reset");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(as<ServiceInvokeResponse>(out[0]).result, ServiceResult::Denied);
  EXPECT_FALSE(as<ServiceInvokeResponse>(out[0]).error.empty());
  EXPECT_EQ(calls.count, 0);
}

TEST_F(ServiceRegistryTest, AdminOnlyActionIsDeniedOnAnUnauthenticatedConnectionEvenForAdmin) {
  std::string lease = rent(kAlice);
  auto out = invoke(caller(kAlice, AccountRole::Admin, /*authenticated=*/false), lease, "Reset");
  EXPECT_EQ(as<ServiceInvokeResponse>(out.at(0)).result, ServiceResult::Denied);
  EXPECT_EQ(calls.count, 0);
}

TEST_F(ServiceRegistryTest, AdminOnlyActionRunsForAnAuthenticatedAdmin) {
  std::string lease = rent(kAlice);
  auto out = invoke(caller(kAlice, AccountRole::Admin, true), lease, "Reset");
  EXPECT_EQ(as<ServiceInvokeResponse>(out.at(0)).result, ServiceResult::Ok);
  EXPECT_EQ(calls.count, 1);
}

TEST_F(ServiceRegistryTest, InvokeWithBadArgumentsIsBadArgsWithTheReason) {
  std::string lease = rent(kAlice);
  auto out = invoke(caller(kAlice), lease, "SetLevel", {{"level", std::int64_t{11}}});
  ASSERT_EQ(out.size(), 1u);
  const auto& r = as<ServiceInvokeResponse>(out[0]);
  EXPECT_EQ(r.result, ServiceResult::BadArguments);
  EXPECT_NE(r.error.find("'level'"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("0..10"), std::string::npos) << r.error;
  EXPECT_EQ(calls.count, 0);
  EXPECT_EQ(registry.find("dial")->state.at("level"), Value(std::int64_t{0}));
}

TEST_F(ServiceRegistryTest, InvokeCallsTheHandlerAndAnswersWithItsValues) {
  std::string lease = rent(kAlice);
  auto who = caller(kAlice);
  auto out = invoke(who, lease, "SetLevel", {{"level", std::int64_t{7}}}, kT0 + seconds(3));
  ASSERT_GE(out.size(), 1u);
  EXPECT_EQ(out[0].connection_id, kAlice);
  const auto& r = as<ServiceInvokeResponse>(out[0]);
  EXPECT_EQ(r.request_id, 42u);
  EXPECT_EQ(r.result, ServiceResult::Ok);
  EXPECT_EQ(r.values, (ValueMap{{"level", std::int64_t{7}}}));
  EXPECT_TRUE(r.error.empty());
  EXPECT_EQ(calls.count, 1);
  EXPECT_EQ(calls.arguments, (ValueMap{{"level", std::int64_t{7}}}));
  EXPECT_EQ(calls.caller.connection_id, kAlice);
  EXPECT_EQ(calls.caller.user, who.user);
  EXPECT_EQ(calls.now, kT0 + seconds(3));
  EXPECT_EQ(registry.find("dial")->state.at("level"), Value(std::int64_t{7}));
  EXPECT_EQ(other_calls.count, 0);  // the other service was not touched
}

TEST_F(ServiceRegistryTest, AHandlersFailureIsPassedOnToTheCaller) {
  std::string lease = rent(kAlice);
  auto out = invoke(caller(kAlice), lease, "Broken");
  ASSERT_EQ(out.size(), 1u);
  const auto& r = as<ServiceInvokeResponse>(out[0]);
  EXPECT_EQ(r.result, ServiceResult::Failed);
  EXPECT_EQ(r.error, "the bulb is gone");
}

TEST_F(ServiceRegistryTest, AThrowingHandlerBecomesFailedAndNeverEscapes) {
  std::string lease = rent(kAlice);
  std::vector<OutboundMessage> out;
  ASSERT_NO_THROW(out = invoke(caller(kAlice), lease, "Throws"));
  ASSERT_EQ(out.size(), 1u);
  const auto& r = as<ServiceInvokeResponse>(out[0]);
  EXPECT_EQ(r.result, ServiceResult::Failed);
  EXPECT_NE(r.error.find("boom"), std::string::npos) << r.error;
}

TEST_F(ServiceRegistryTest, AStatefulHandlerSeesTheCurrentStateIncludingDeviceSideChanges) {
  std::string lease = rent(kAlice);
  (void)registry.set_state("dial", {{"level", std::int64_t{9}}}, kT0);
  auto out = invoke(caller(kAlice), lease, "Peek");
  EXPECT_EQ(calls.state_seen.at("level"), Value(std::int64_t{9}));
  EXPECT_EQ(as<ServiceInvokeResponse>(out.at(0)).values.at("label"), Value(std::string("none")));
}

TEST_F(ServiceRegistryTest, InvokeAnswersFirstThenSendsEventsToEveryLeaseHolder) {
  std::string alice_lease = rent(kAlice);
  std::string bob_lease = rent(kBob);
  std::string knob_lease = rent(3, "knob");  // holds a lease on another service only
  auto out = invoke(caller(kBob), bob_lease, "SetLevel", {{"level", std::int64_t{5}}});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].connection_id, kBob);
  EXPECT_EQ(as<ServiceInvokeResponse>(out[0]).result, ServiceResult::Ok);
  std::map<ConnectionId, ServiceEvent> events;
  for (std::size_t i = 1; i < out.size(); ++i)
    events[out[i].connection_id] = as<ServiceEvent>(out[i]);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[kAlice].lease_id, alice_lease);
  EXPECT_EQ(events[kBob].lease_id, bob_lease);  // the caller holds a lease too
  for (const auto& [id, e] : events) {
    EXPECT_EQ(e.service_id, "dial");
    EXPECT_EQ(e.variables, (ValueMap{{"level", std::int64_t{5}}}));
  }
  EXPECT_EQ(events.count(3), 0u) << knob_lease;
}

TEST_F(ServiceRegistryTest, EventsCarryOnlyTheVariablesThatChanged) {
  std::string lease = rent(kAlice);
  auto out =
      invoke(caller(kAlice), lease, "SetBoth",
             {{"level", std::int64_t{0}}, {"label", std::string("kitchen")}});  // level unchanged
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(as<ServiceEvent>(out[1]).variables, (ValueMap{{"label", std::string("kitchen")}}));
}

TEST_F(ServiceRegistryTest, AnInvokeThatChangesNothingSendsNoEvent) {
  std::string lease = rent(kAlice);
  auto out = invoke(caller(kAlice), lease, "SetLevel", {{"level", std::int64_t{0}}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(as<ServiceInvokeResponse>(out[0]).result, ServiceResult::Ok);
}

TEST_F(ServiceRegistryTest, HoldersOfExpiredLeasesGetNoEvents) {
  std::string short_lease = rent(kAlice, "dial", 5);
  std::string long_lease = rent(kBob, "dial", 600);
  auto out =
      invoke(caller(kBob), long_lease, "SetLevel", {{"level", std::int64_t{4}}}, kT0 + seconds(5));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].connection_id, kBob);
  EXPECT_NE(as<ServiceEvent>(out[1]).lease_id, short_lease);
}

// ---- release ----

TEST_F(ServiceRegistryTest, ReleaseEndsTheCallersLeaseAndAnswersNothing) {
  std::string lease = rent(kAlice);
  auto out = registry.handle(ServiceRelease{0, 3, lease}, caller(kAlice), kT0);
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(registry.leases().empty());
  auto after = invoke(caller(kAlice), lease, "SetLevel", {{"level", std::int64_t{1}}});
  EXPECT_EQ(as<ServiceInvokeResponse>(after.at(0)).result, ServiceResult::NoLease);
}

TEST_F(ServiceRegistryTest, ReleasingAnotherConnectionsLeaseDoesNothing) {
  std::string lease = rent(kAlice);
  auto out = registry.handle(ServiceRelease{0, 3, lease}, caller(kBob), kT0);
  EXPECT_TRUE(out.empty());
  ASSERT_EQ(registry.leases().size(), 1u);
  auto after = invoke(caller(kAlice), lease, "SetLevel", {{"level", std::int64_t{1}}});
  EXPECT_EQ(as<ServiceInvokeResponse>(after.at(0)).result, ServiceResult::Ok);
}

TEST_F(ServiceRegistryTest, MessagesOtherThanServiceRequestsGetNoAnswer) {
  EXPECT_TRUE(registry.handle(Ping{1}, caller(kAlice), kT0).empty());
  EXPECT_TRUE(registry.handle(ServiceEvent{}, caller(kAlice), kT0).empty());
  EXPECT_TRUE(registry.handle(ServiceRentResponse{}, caller(kAlice), kT0).empty());
  EXPECT_TRUE(registry.handle(Disconnect{}, caller(kAlice), kT0).empty());
}

// ---- device-side state changes ----

TEST_F(ServiceRegistryTest, SetStateUpdatesStateAndNotifiesLeaseHoldersOfChangesOnly) {
  std::string lease = rent(kAlice);
  auto out =
      registry.set_state("dial", {{"level", std::int64_t{0}}, {"label", std::string("hall")}}, kT0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].connection_id, kAlice);
  const auto& e = as<ServiceEvent>(out[0]);
  EXPECT_EQ(e.lease_id, lease);
  EXPECT_EQ(e.service_id, "dial");
  EXPECT_EQ(e.variables, (ValueMap{{"label", std::string("hall")}}));
  EXPECT_EQ(registry.find("dial")->state.at("label"), Value(std::string("hall")));
}

TEST_F(ServiceRegistryTest, SetStateWithUnchangedValuesSendsNoEvent) {
  (void)rent(kAlice);
  EXPECT_TRUE(registry.set_state("dial", {{"level", std::int64_t{0}}}, kT0).empty());
}

TEST_F(ServiceRegistryTest, SetStateTreatsAnIntegerAndAnEqualDoubleAsDifferentValues) {
  (void)rent(kAlice);
  auto out = registry.set_state("dial", {{"level", 0.0}}, kT0);  // a type change is a change
  EXPECT_EQ(out.size(), 1u);
}

TEST_F(ServiceRegistryTest, SetStateCanAddAVariable) {
  (void)rent(kAlice);
  auto out = registry.set_state("dial", {{"fault", true}}, kT0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(as<ServiceEvent>(out[0]).variables, (ValueMap{{"fault", true}}));
  EXPECT_EQ(registry.find("dial")->state.at("fault"), Value(true));
}

TEST_F(ServiceRegistryTest, SetStateOnAnUnknownServiceDoesNothing) {
  (void)rent(kAlice);
  EXPECT_TRUE(registry.set_state("toaster", {{"level", std::int64_t{3}}}, kT0).empty());
}

TEST_F(ServiceRegistryTest, SetStateWithoutLeaseHoldersChangesStateSilently) {
  EXPECT_TRUE(registry.set_state("dial", {{"level", std::int64_t{3}}}, kT0).empty());
  EXPECT_EQ(registry.find("dial")->state.at("level"), Value(std::int64_t{3}));
}

// ---- lease lifetime ----

TEST_F(ServiceRegistryTest, NextDeadlineIsTheEarliestLeaseExpiry) {
  EXPECT_FALSE(registry.next_deadline().has_value());
  (void)rent(kAlice, "dial", 60);
  (void)rent(kBob, "dial", 20);
  (void)rent(kBob, "knob", 40);
  ASSERT_TRUE(registry.next_deadline().has_value());
  EXPECT_EQ(*registry.next_deadline(), kT0 + seconds(20));
}

TEST_F(ServiceRegistryTest, ExpireRemovesOnlyLeasesThatHaveRunOut) {
  (void)rent(kAlice, "dial", 60);
  (void)rent(kBob, "dial", 20);
  registry.expire(kT0 + seconds(19));
  EXPECT_EQ(registry.leases().size(), 2u);
  registry.expire(kT0 + seconds(20));
  ASSERT_EQ(registry.leases().size(), 1u);
  EXPECT_EQ(registry.leases()[0].holder, kAlice);
  EXPECT_EQ(*registry.next_deadline(), kT0 + seconds(60));
  registry.expire(kT0 + seconds(61));
  EXPECT_TRUE(registry.leases().empty());
  EXPECT_FALSE(registry.next_deadline().has_value());
}

TEST_F(ServiceRegistryTest, DropConnectionReleasesAllOfItsLeasesAndNoOthers) {
  (void)rent(kAlice, "dial");
  (void)rent(kAlice, "knob");
  std::string bob_lease = rent(kBob, "dial");
  registry.drop_connection(kAlice);
  ASSERT_EQ(registry.leases().size(), 1u);
  EXPECT_EQ(registry.leases()[0].lease_id, bob_lease);
  auto out = registry.set_state("dial", {{"level", std::int64_t{2}}}, kT0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].connection_id, kBob);
}

// ---- check_arguments ----

ActionSpec spec_with(std::vector<ArgumentSpec> args) {
  return ActionSpec{"Act", std::move(args), false};
}

TEST(CheckArguments, AcceptsExactlyTheDeclaredArguments) {
  auto spec = spec_with({{"on", ValueType::Bool, {}, {}}, {"name", ValueType::String, {}, {}}});
  EXPECT_TRUE(check_arguments(spec, {{"on", true}, {"name", std::string("x")}}));
  EXPECT_TRUE(check_arguments(spec_with({}), {}));
}

TEST(CheckArguments, AMissingArgumentIsNamedWithWhatWasExpected) {
  auto spec = spec_with({{"brightness", ValueType::Int, 0.0, 100.0}});
  auto r = check_arguments(spec, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Service);
  EXPECT_NE(r.error().message.find("'brightness'"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("missing"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("an integer in 0..100"), std::string::npos) << r.error().message;
}

TEST(CheckArguments, AnUnknownArgumentIsNamed) {
  auto spec = spec_with({{"on", ValueType::Bool, {}, {}}});
  auto r = check_arguments(spec, {{"on", true}, {"colour", std::string("red")}});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("'colour'"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("on"), std::string::npos) << r.error().message;
}

TEST(CheckArguments, AnyArgumentToAnActionWithoutArgumentsIsUnknown) {
  auto r = check_arguments(spec_with({}), {{"x", true}});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("'x'"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("no arguments"), std::string::npos) << r.error().message;
}

TEST(CheckArguments, IntAcceptsOnlyIntegers) {
  auto spec = spec_with({{"n", ValueType::Int, {}, {}}});
  EXPECT_TRUE(check_arguments(spec, {{"n", std::int64_t{-5}}}));
  for (const Value& bad : {Value(1.0), Value(true), Value(std::string("1"))}) {
    auto r = check_arguments(spec, {{"n", bad}});
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("'n': expected an integer"), std::string::npos)
        << r.error().message;
  }
}

TEST(CheckArguments, NumberAcceptsIntegersAndFiniteDoubles) {
  auto spec = spec_with({{"x", ValueType::Number, {}, {}}});
  EXPECT_TRUE(check_arguments(spec, {{"x", std::int64_t{3}}}));
  EXPECT_TRUE(check_arguments(spec, {{"x", 2.5}}));
  EXPECT_FALSE(check_arguments(spec, {{"x", std::numeric_limits<double>::quiet_NaN()}}));
  EXPECT_FALSE(check_arguments(spec, {{"x", std::numeric_limits<double>::infinity()}}));
  auto r = check_arguments(spec, {{"x", std::string("2.5")}});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("'x': expected a number, got \"2.5\""), std::string::npos)
      << r.error().message;
}

TEST(CheckArguments, BoolAndStringMustMatchTheirType) {
  auto spec = spec_with({{"on", ValueType::Bool, {}, {}}, {"s", ValueType::String, {}, {}}});
  auto r1 = check_arguments(spec, {{"on", std::int64_t{1}}, {"s", std::string("a")}});
  ASSERT_FALSE(r1);
  EXPECT_NE(r1.error().message.find("'on': expected a boolean, got 1"), std::string::npos)
      << r1.error().message;
  auto r2 = check_arguments(spec, {{"on", false}, {"s", false}});
  ASSERT_FALSE(r2);
  EXPECT_NE(r2.error().message.find("'s': expected a string, got false"), std::string::npos)
      << r2.error().message;
}

TEST(CheckArguments, BoundsAreInclusive) {
  auto spec = spec_with({{"b", ValueType::Int, 0.0, 100.0}});
  EXPECT_TRUE(check_arguments(spec, {{"b", std::int64_t{0}}}));
  EXPECT_TRUE(check_arguments(spec, {{"b", std::int64_t{100}}}));
  auto low = check_arguments(spec, {{"b", std::int64_t{-1}}});
  ASSERT_FALSE(low);
  EXPECT_NE(low.error().message.find("'b': expected an integer in 0..100, got -1"),
            std::string::npos)
      << low.error().message;
  EXPECT_FALSE(check_arguments(spec, {{"b", std::int64_t{101}}}));
}

TEST(CheckArguments, ANumberIsCheckedAgainstAOneSidedBound) {
  auto at_least = spec_with({{"t", ValueType::Number, 15.0, std::nullopt}});
  EXPECT_TRUE(check_arguments(at_least, {{"t", 1e9}}));
  auto r = check_arguments(at_least, {{"t", 14.5}});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("a number >= 15, got 14.5"), std::string::npos)
      << r.error().message;
  auto at_most = spec_with({{"t", ValueType::Number, std::nullopt, 30.5}});
  EXPECT_TRUE(check_arguments(at_most, {{"t", std::int64_t{-40}}}));
  auto r2 = check_arguments(at_most, {{"t", std::int64_t{31}}});
  ASSERT_FALSE(r2);
  EXPECT_NE(r2.error().message.find("a number <= 30.5, got 31"), std::string::npos)
      << r2.error().message;
}

}  // namespace
}  // namespace homep2p
