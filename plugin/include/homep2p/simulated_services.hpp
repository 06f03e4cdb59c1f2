// Simulated services for `homepeer device` and tests: SwitchPower (on/off), Dimming (0-100) and
// TemperatureSensor (a value that drifts). Sans-IO: the sensor drifts when tick() is called.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "homep2p/random_source.hpp"
#include "homep2p/result.hpp"
#include "homep2p/service_registry.hpp"
#include "homep2p/time.hpp"

namespace homep2p {

// SwitchPower: state {"on": bool}; actions SetPower{on: bool}, Toggle{}.
ServiceDefinition make_switch_power(std::string id);
// Dimming: state {"brightness": int 0..100}; action SetBrightness{brightness: int 0..100}.
ServiceDefinition make_dimming(std::string id);
// TemperatureSensor: state {"temperature": number (Celsius)}; action Read{} -> {"temperature"}.
ServiceDefinition make_temperature_sensor(std::string id, double initial_celsius = 21.0);

// The known simulated service types by name ("SwitchPower", "Dimming", "TemperatureSensor").
Result<ServiceDefinition> make_simulated_service(std::string_view type, std::string id);

// Drifts every TemperatureSensor of a registry by a small random step every `period`.
class TemperatureDrift {
 public:
  TemperatureDrift(RandomSource& random, Duration period = seconds(5))
      : random_(random), period_(period) {}
  // Returns the ServiceEvents to send (via ServiceRegistry::set_state). The first call only
  // schedules the first drift one period later; from then on each call at or after
  // next_deadline() moves every TemperatureSensor by a step in [-0.5, +0.5] (tenths), kept in
  // [15, 30] Celsius, and schedules the next drift a period after `now`.
  std::vector<OutboundMessage> tick(ServiceRegistry& registry, TimePoint now);
  std::optional<TimePoint> next_deadline() const { return next_; }

 private:
  RandomSource& random_;
  Duration period_;
  std::optional<TimePoint> next_;
};

}  // namespace homep2p
