#include "homep2p/simulated_services.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

namespace homep2p {

namespace {

constexpr double kMinCelsius = 15.0;
constexpr double kMaxCelsius = 30.0;
// Steps are whole tenths in [-0.5, +0.5]: 11 possible steps, -5..+5 tenths.
constexpr std::uint32_t kDriftSteps = 11;

double round_to_tenth(double v) {
  return std::round(v * 10.0) / 10.0;
}

ServiceDescription description(std::string id, std::string type) {
  ServiceDescription d;
  d.id = std::move(id);
  d.type = std::move(type);
  return d;
}

}  // namespace

ServiceDefinition make_switch_power(std::string id) {
  ServiceDefinition s;
  s.description = description(std::move(id), "SwitchPower");
  s.description.state["on"] = false;
  s.description.actions = {
      ActionSpec{
          "SetPower", {ArgumentSpec{"on", ValueType::Bool, std::nullopt, std::nullopt}}, false},
      ActionSpec{"Toggle", {}, false},
  };
  s.handlers["SetPower"] = [](const ValueMap& args, const CallerIdentity&, TimePoint) {
    ActionOutcome o;
    o.state_changes["on"] = args.at("on");
    o.values["on"] = args.at("on");
    return o;
  };
  // Toggle reads the current state: it may have been set from the device side.
  s.stateful_handlers["Toggle"] = [](const ValueMap&, const ValueMap& state, const CallerIdentity&,
                                     TimePoint) {
    ActionOutcome o;
    auto it = state.find("on");
    bool on =
        it != state.end() && std::holds_alternative<bool>(it->second) && std::get<bool>(it->second);
    o.state_changes["on"] = !on;
    o.values["on"] = !on;
    return o;
  };
  return s;
}

ServiceDefinition make_dimming(std::string id) {
  ServiceDefinition s;
  s.description = description(std::move(id), "Dimming");
  s.description.state["brightness"] = std::int64_t{0};
  s.description.actions = {
      ActionSpec{"SetBrightness", {ArgumentSpec{"brightness", ValueType::Int, 0.0, 100.0}}, false},
  };
  s.handlers["SetBrightness"] = [](const ValueMap& args, const CallerIdentity&, TimePoint) {
    ActionOutcome o;
    o.state_changes["brightness"] = args.at("brightness");
    o.values["brightness"] = args.at("brightness");
    return o;
  };
  return s;
}

ServiceDefinition make_temperature_sensor(std::string id, double initial_celsius) {
  ServiceDefinition s;
  s.description = description(std::move(id), "TemperatureSensor");
  s.description.state["temperature"] = initial_celsius;
  s.description.actions = {ActionSpec{"Read", {}, false}};
  // Read reports the state as it is now, drift included.
  s.stateful_handlers["Read"] = [](const ValueMap&, const ValueMap& state, const CallerIdentity&,
                                   TimePoint) {
    ActionOutcome o;
    if (auto it = state.find("temperature"); it != state.end()) {
      o.values["temperature"] = it->second;
    } else {
      o.result = ServiceResult::Failed;
      o.error = "the sensor has no reading";
    }
    return o;
  };
  return s;
}

Result<ServiceDefinition> make_simulated_service(std::string_view type, std::string id) {
  if (type == "SwitchPower") return make_switch_power(std::move(id));
  if (type == "Dimming") return make_dimming(std::move(id));
  if (type == "TemperatureSensor") return make_temperature_sensor(std::move(id));
  return make_error(Errc::Service, "unknown service type '" + std::string(type) +
                                       "' (known: SwitchPower, Dimming, TemperatureSensor)");
}

// The first tick only starts the clock (next drift one period later): a device that has just
// started reports its initial reading rather than a drifted one.
std::vector<OutboundMessage> TemperatureDrift::tick(ServiceRegistry& registry, TimePoint now) {
  std::vector<OutboundMessage> events;
  if (!next_) {
    next_ = now + period_;
    return events;
  }
  if (now < *next_) return events;
  for (const auto& sensor : registry.describe("TemperatureSensor")) {
    auto it = sensor.state.find("temperature");
    if (it == sensor.state.end()) continue;
    double current = 0.0;
    if (const auto* d = std::get_if<double>(&it->second)) {
      current = *d;
    } else if (const auto* i = std::get_if<std::int64_t>(&it->second)) {
      current = static_cast<double>(*i);
    } else {
      continue;  // not a number: nothing sensible to drift
    }
    std::array<std::uint8_t, 4> bytes{};
    random_.fill(bytes);
    std::uint32_t r = (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
                      (std::uint32_t{bytes[2]} << 8) | std::uint32_t{bytes[3]};
    double step = (static_cast<double>(r % kDriftSteps) - 5.0) / 10.0;
    double next = std::clamp(round_to_tenth(current + step), kMinCelsius, kMaxCelsius);
    auto e = registry.set_state(sensor.id, ValueMap{{"temperature", next}}, now);
    events.insert(events.end(), std::make_move_iterator(e.begin()),
                  std::make_move_iterator(e.end()));
  }
  // From now, not from the missed deadline: a late runtime gets one drift, not a burst.
  next_ = now + period_;
  return events;
}

}  // namespace homep2p
