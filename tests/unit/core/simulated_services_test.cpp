#include "homep2p/simulated_services.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "core/test_support.hpp"

namespace homep2p {
namespace {

using test::CountingRandom;
using test::kT0;
using test::ScriptedRandom;

constexpr ConnectionId kConn = 7;

CallerIdentity caller() {
  CallerIdentity c;
  c.connection_id = kConn;
  c.user = "alice";
  c.authenticated = true;
  return c;
}

template <class T>
const T& as(const OutboundMessage& m) {
  const T* p = std::get_if<T>(&m.message);
  if (p == nullptr) throw std::runtime_error("unexpected message type");
  return *p;
}

// A registry holding one simulated service, rented by kConn.
class Simulated : public ::testing::Test {
 protected:
  void use(ServiceDefinition s) {
    id_ = s.description.id;
    ASSERT_TRUE(registry.add(std::move(s)));
    auto out = registry.handle(ServiceRent{0, 1, id_, 3600}, caller(), kT0);
    lease = as<ServiceRentResponse>(out.at(0)).lease_id;
    ASSERT_FALSE(lease.empty());
  }
  std::vector<OutboundMessage> call(std::string action, ValueMap args = {}) {
    return registry.handle(ServiceInvoke{0, 2, lease, std::move(action), std::move(args)}, caller(),
                           kT0 + seconds(1));
  }
  const Value& state(const std::string& name) { return registry.find(id_)->state.at(name); }

  CountingRandom random;
  ServiceRegistry registry{random};
  std::string lease;
  std::string id_;
};

// ---- SwitchPower ----

TEST(SwitchPower, DescribesItsActionsAndStartsOff) {
  auto s = make_switch_power("lamp");
  EXPECT_EQ(s.description.id, "lamp");
  EXPECT_EQ(s.description.type, "SwitchPower");
  EXPECT_EQ(s.description.state, (ValueMap{{"on", false}}));
  ASSERT_EQ(s.description.actions.size(), 2u);
  EXPECT_EQ(s.description.actions[0].name, "SetPower");
  ASSERT_EQ(s.description.actions[0].arguments.size(), 1u);
  EXPECT_EQ(s.description.actions[0].arguments[0].name, "on");
  EXPECT_EQ(s.description.actions[0].arguments[0].type, ValueType::Bool);
  EXPECT_EQ(s.description.actions[1].name, "Toggle");
  EXPECT_TRUE(s.description.actions[1].arguments.empty());
  EXPECT_FALSE(s.description.actions[0].admin_only);
  EXPECT_FALSE(s.description.actions[1].admin_only);
}

TEST_F(Simulated, SwitchPowerSetPowerSwitchesOnAndNotifiesTheLeaseHolder) {
  use(make_switch_power("lamp"));
  auto out = call("SetPower", {{"on", true}});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(as<ServiceInvokeResponse>(out[0]).result, ServiceResult::Ok);
  EXPECT_EQ(as<ServiceInvokeResponse>(out[0]).values, (ValueMap{{"on", true}}));
  EXPECT_EQ(as<ServiceEvent>(out[1]).variables, (ValueMap{{"on", true}}));
  EXPECT_EQ(state("on"), Value(true));
  auto again = call("SetPower", {{"on", true}});
  EXPECT_EQ(again.size(), 1u);  // already on: no event
}

TEST_F(Simulated, SwitchPowerToggleFlipsTheCurrentState) {
  use(make_switch_power("lamp"));
  (void)call("Toggle");
  EXPECT_EQ(state("on"), Value(true));
  auto out = call("Toggle");
  EXPECT_EQ(state("on"), Value(false));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(as<ServiceInvokeResponse>(out[0]).values, (ValueMap{{"on", false}}));
  EXPECT_EQ(as<ServiceEvent>(out[1]).variables, (ValueMap{{"on", false}}));
}

TEST_F(Simulated, SwitchPowerToggleStartsFromAStateSetOnTheDeviceSide) {
  use(make_switch_power("lamp"));
  (void)registry.set_state("lamp", {{"on", true}}, kT0);
  (void)call("Toggle");
  EXPECT_EQ(state("on"), Value(false));
}

TEST_F(Simulated, SwitchPowerSetPowerRejectsANonBoolean) {
  use(make_switch_power("lamp"));
  auto out = call("SetPower", {{"on", std::string("yes")}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(as<ServiceInvokeResponse>(out[0]).result, ServiceResult::BadArguments);
  EXPECT_EQ(state("on"), Value(false));
}

// ---- Dimming ----

TEST(Dimming, DescribesSetBrightnessWithItsBoundsAndStartsAtZero) {
  auto s = make_dimming("dimmer");
  EXPECT_EQ(s.description.type, "Dimming");
  EXPECT_EQ(s.description.state, (ValueMap{{"brightness", std::int64_t{0}}}));
  ASSERT_EQ(s.description.actions.size(), 1u);
  const auto& a = s.description.actions[0];
  EXPECT_EQ(a.name, "SetBrightness");
  ASSERT_EQ(a.arguments.size(), 1u);
  EXPECT_EQ(a.arguments[0], (ArgumentSpec{"brightness", ValueType::Int, 0.0, 100.0}));
}

TEST_F(Simulated, DimmingSetBrightnessSetsTheLevel) {
  use(make_dimming("dimmer"));
  auto out = call("SetBrightness", {{"brightness", std::int64_t{100}}});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(as<ServiceEvent>(out[1]).variables, (ValueMap{{"brightness", std::int64_t{100}}}));
  EXPECT_EQ(state("brightness"), Value(std::int64_t{100}));
}

TEST_F(Simulated, DimmingRejectsLevelsOutside0To100AndNonIntegers) {
  use(make_dimming("dimmer"));
  for (const Value& bad : {Value(std::int64_t{101}), Value(std::int64_t{-1}), Value(50.0)}) {
    auto out = call("SetBrightness", {{"brightness", bad}});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(as<ServiceInvokeResponse>(out[0]).result, ServiceResult::BadArguments);
  }
  EXPECT_EQ(state("brightness"), Value(std::int64_t{0}));
}

// ---- TemperatureSensor ----

TEST(TemperatureSensor, DescribesReadAndStartsAtTheInitialTemperature) {
  auto s = make_temperature_sensor("thermo", 19.5);
  EXPECT_EQ(s.description.type, "TemperatureSensor");
  EXPECT_EQ(s.description.state, (ValueMap{{"temperature", 19.5}}));
  ASSERT_EQ(s.description.actions.size(), 1u);
  EXPECT_EQ(s.description.actions[0].name, "Read");
  EXPECT_TRUE(s.description.actions[0].arguments.empty());
  EXPECT_EQ(make_temperature_sensor("t").description.state.at("temperature"), Value(21.0));
}

TEST_F(Simulated, TemperatureSensorReadReturnsTheCurrentTemperature) {
  use(make_temperature_sensor("thermo", 19.5));
  auto out = call("Read");
  ASSERT_EQ(out.size(), 1u);  // reading changes nothing
  EXPECT_EQ(as<ServiceInvokeResponse>(out[0]).values, (ValueMap{{"temperature", 19.5}}));
  (void)registry.set_state("thermo", {{"temperature", 22.25}}, kT0);
  EXPECT_EQ(as<ServiceInvokeResponse>(call("Read").at(0)).values,
            (ValueMap{{"temperature", 22.25}}));
}

// ---- by type name ----

TEST(MakeSimulatedService, BuildsEachKnownTypeWithTheGivenId) {
  for (std::string type : {"SwitchPower", "Dimming", "TemperatureSensor"}) {
    auto s = make_simulated_service(type, "svc");
    ASSERT_TRUE(s) << type;
    EXPECT_EQ(s->description.type, type);
    EXPECT_EQ(s->description.id, "svc");
    CountingRandom random;
    ServiceRegistry registry(random);
    EXPECT_TRUE(registry.add(std::move(s.value()))) << type;  // handlers match actions
  }
}

TEST(MakeSimulatedService, AnUnknownTypeIsAServiceErrorListingTheKnownOnes) {
  auto s = make_simulated_service("Toaster", "svc");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::Service);
  const auto& m = s.error().message;
  EXPECT_NE(m.find("Toaster"), std::string::npos) << m;
  EXPECT_NE(m.find("SwitchPower"), std::string::npos) << m;
  EXPECT_NE(m.find("Dimming"), std::string::npos) << m;
  EXPECT_NE(m.find("TemperatureSensor"), std::string::npos) << m;
}

// ---- TemperatureDrift ----

// Drift draws 4 bytes per sensor, big-endian; r % 11 - 5 is the step in tenths.
std::vector<std::uint8_t> step_bytes(int tenths) {
  return {0, 0, 0, static_cast<std::uint8_t>(tenths + 5)};
}

class Drift : public Simulated {
 protected:
  double temperature(const std::string& id) {
    return std::get<double>(registry.find(id)->state.at("temperature"));
  }
};

TEST_F(Drift, TheFirstTickOnlySchedulesTheFirstDrift) {
  use(make_temperature_sensor("thermo", 21.0));
  ScriptedRandom drift_random(step_bytes(+5));
  TemperatureDrift drift(drift_random, seconds(5));
  EXPECT_FALSE(drift.next_deadline().has_value());
  EXPECT_TRUE(drift.tick(registry, kT0).empty());
  EXPECT_EQ(temperature("thermo"), 21.0);
  ASSERT_TRUE(drift.next_deadline().has_value());
  EXPECT_EQ(*drift.next_deadline(), kT0 + seconds(5));
}

TEST_F(Drift, NothingMovesBeforeTheDeadline) {
  use(make_temperature_sensor("thermo", 21.0));
  ScriptedRandom drift_random(step_bytes(+5));
  TemperatureDrift drift(drift_random, seconds(5));
  (void)drift.tick(registry, kT0);
  EXPECT_TRUE(drift.tick(registry, kT0 + milliseconds(4999)).empty());
  EXPECT_EQ(temperature("thermo"), 21.0);
  EXPECT_EQ(*drift.next_deadline(), kT0 + seconds(5));
}

TEST_F(Drift, AtTheDeadlineEverySensorDriftsAndLeaseHoldersGetAnEvent) {
  use(make_temperature_sensor("thermo", 21.0));
  ScriptedRandom drift_random(step_bytes(+5));
  TemperatureDrift drift(drift_random, seconds(5));
  (void)drift.tick(registry, kT0);
  auto out = drift.tick(registry, kT0 + seconds(6));
  EXPECT_DOUBLE_EQ(temperature("thermo"), 21.5);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].connection_id, kConn);
  const auto& e = as<ServiceEvent>(out[0]);
  EXPECT_EQ(e.lease_id, lease);
  EXPECT_EQ(e.service_id, "thermo");
  ASSERT_TRUE(std::holds_alternative<double>(e.variables.at("temperature")));
  EXPECT_DOUBLE_EQ(std::get<double>(e.variables.at("temperature")), 21.5);
  EXPECT_EQ(*drift.next_deadline(), kT0 + seconds(11));  // a period after this tick
}

TEST_F(Drift, TheSmallestStepIsMinusHalfADegree) {
  use(make_temperature_sensor("thermo", 21.0));
  ScriptedRandom drift_random(step_bytes(-5));
  TemperatureDrift drift(drift_random, seconds(5));
  (void)drift.tick(registry, kT0);
  (void)drift.tick(registry, kT0 + seconds(5));
  EXPECT_DOUBLE_EQ(temperature("thermo"), 20.5);
}

TEST_F(Drift, AZeroStepChangesNothingAndSendsNoEvent) {
  use(make_temperature_sensor("thermo", 21.0));
  ScriptedRandom drift_random(step_bytes(0));
  TemperatureDrift drift(drift_random, seconds(5));
  (void)drift.tick(registry, kT0);
  EXPECT_TRUE(drift.tick(registry, kT0 + seconds(5)).empty());
  EXPECT_EQ(temperature("thermo"), 21.0);
}

TEST_F(Drift, TemperatureStaysWithin15And30) {
  ASSERT_TRUE(registry.add(make_temperature_sensor("hot", 29.8)));
  ASSERT_TRUE(registry.add(make_temperature_sensor("cold", 15.2)));
  ScriptedRandom up(step_bytes(+5));
  TemperatureDrift rising(up, seconds(1));
  (void)rising.tick(registry, kT0);
  (void)rising.tick(registry, kT0 + seconds(1));
  EXPECT_DOUBLE_EQ(temperature("hot"), 30.0);
  ScriptedRandom down(step_bytes(-5));
  TemperatureDrift falling(down, seconds(1));
  (void)falling.tick(registry, kT0);
  (void)falling.tick(registry, kT0 + seconds(1));
  (void)falling.tick(registry, kT0 + seconds(2));
  EXPECT_DOUBLE_EQ(temperature("cold"), 15.0);
}

TEST_F(Drift, OnlyTemperatureSensorsDrift) {
  use(make_dimming("dimmer"));
  ASSERT_TRUE(registry.add(make_temperature_sensor("thermo", 21.0)));
  ScriptedRandom drift_random(step_bytes(+3));
  TemperatureDrift drift(drift_random, seconds(5));
  (void)drift.tick(registry, kT0);
  auto out = drift.tick(registry, kT0 + seconds(5));
  EXPECT_TRUE(out.empty());  // the only lease is on the dimmer
  EXPECT_EQ(state("brightness"), Value(std::int64_t{0}));
  EXPECT_DOUBLE_EQ(temperature("thermo"), 21.3);
}

TEST_F(Drift, ARandomWalkStaysInRangeInTenthsWithStepsOfAtMostHalfADegree) {
  use(make_temperature_sensor("thermo", 21.0));
  CountingRandom drift_random;
  TemperatureDrift drift(drift_random, seconds(1));
  (void)drift.tick(registry, kT0);
  double previous = 21.0;
  int moves = 0;
  for (int i = 1; i <= 500; ++i) {
    auto out = drift.tick(registry, kT0 + seconds(i));
    double t = temperature("thermo");
    EXPECT_GE(t, 15.0);
    EXPECT_LE(t, 30.0);
    EXPECT_LE(std::abs(t - previous), 0.5 + 1e-9);
    EXPECT_NEAR(t * 10.0, std::round(t * 10.0), 1e-6) << t;
    EXPECT_EQ(out.size(), t == previous ? 0u : 1u);
    if (t != previous) ++moves;
    previous = t;
  }
  EXPECT_GT(moves, 100);
}

}  // namespace
}  // namespace homep2p
