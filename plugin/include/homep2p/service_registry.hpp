// A device's services, sans-IO (the patent's service searching, renting and invoking).
// The registry answers ServiceSearch / ServiceRent / ServiceInvoke / ServiceRelease from any
// connection, checks leases and arguments, and turns state changes into ServiceEvents for every
// live lease holder. It sends nothing itself: it returns messages addressed to connections.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "homep2p/connection_admission.hpp"
#include "homep2p/connection_table.hpp"
#include "homep2p/messages.hpp"
#include "homep2p/random_source.hpp"
#include "homep2p/result.hpp"
#include "homep2p/time.hpp"

namespace homep2p {

struct ActionOutcome {
  ServiceResult result = ServiceResult::Ok;
  ValueMap values;         // returned to the caller
  ValueMap state_changes;  // applied to the service's state; lease holders get a ServiceEvent
  std::string error;       // with anything but Ok
};

// Called with arguments already checked against the action's ArgumentSpecs.
using ActionHandler =
    std::function<ActionOutcome(const ValueMap& arguments, const CallerIdentity& caller, TimePoint now)>;

// For actions that depend on the service's current state (a Toggle, a sensor's Read): also
// called with the state as it is before the call, since state may change from the device side
// (ServiceRegistry::set_state) where a handler's own copy would go stale.
using StatefulActionHandler = std::function<ActionOutcome(
    const ValueMap& arguments, const ValueMap& state, const CallerIdentity& caller, TimePoint now)>;

struct ServiceDefinition {
  ServiceDescription description;
  // Exactly one handler per action in description.actions, in one of the two maps.
  std::map<std::string, ActionHandler> handlers;
  std::map<std::string, StatefulActionHandler> stateful_handlers;
};

struct OutboundMessage {
  ConnectionId connection_id = 0;
  Message message;  // serial is set by the connection when sent
};

struct Lease {
  std::string lease_id;
  std::string service_id;
  ConnectionId holder = 0;
  TimePoint expires{};
};

class ServiceRegistry {
 public:
  explicit ServiceRegistry(RandomSource& random) : random_(random) {}

  // Fails (Errc::Service) on a duplicate id, an action without a handler (or with two), or a
  // handler without an action.
  Result<void> add(ServiceDefinition service);

  // Answers one service request (ServiceSearch/Rent/Invoke/Release) from `caller`. The response
  // goes first; ServiceEvents caused by an invoke follow. Other message types: empty.
  std::vector<OutboundMessage> handle(const Message& request, const CallerIdentity& caller,
                                      TimePoint now);

  // Changes state variables from the device side (a sensor drifting, a ConnectionManager
  // update). Unchanged values produce no event. Unknown service: empty.
  std::vector<OutboundMessage> set_state(std::string_view service_id, const ValueMap& changes,
                                         TimePoint now);

  // The connection is gone: its leases are released.
  void drop_connection(ConnectionId connection_id);
  // Releases expired leases.
  void expire(TimePoint now);
  std::optional<TimePoint> next_deadline() const;

  std::vector<ServiceDescription> describe(std::string_view type_filter = {}) const;
  const ServiceDescription* find(std::string_view service_id) const;
  const std::vector<Lease>& leases() const { return leases_; }

 private:
  ServiceDefinition* find_definition(std::string_view service_id);
  std::vector<OutboundMessage> apply_changes(ServiceDefinition& service, const ValueMap& changes,
                                             TimePoint now);

  RandomSource& random_;
  std::vector<ServiceDefinition> services_;
  std::vector<Lease> leases_;
};

// Checks arguments against an action's specs: every argument present, no unknown ones, the
// right type (an integer is accepted for a Number), within min/max. Error text names the argument.
Result<void> check_arguments(const ActionSpec& action, const ValueMap& arguments);

}  // namespace homep2p
