#include "homep2p/service_registry.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <exception>
#include <set>
#include <type_traits>
#include <utility>

namespace homep2p {

namespace {

constexpr std::size_t kLeaseIdBytes = 16;
// A RandomSource that keeps repeating itself (a broken or scripted one) must not hang us.
constexpr int kLeaseIdAttempts = 8;
constexpr std::size_t kMaxShownValueLength = 40;

std::string hex_lower(std::span<const std::uint8_t> bytes) {
  static constexpr std::string_view kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (auto b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0x0f]);
  }
  return out;
}

std::string format_number(double v) {
  std::array<char, 64> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  if (ec != std::errc()) return "?";
  return std::string(buf.data(), end);
}

// A value as the error text shows it: its kind and (shortened) content.
std::string show_value(const Value& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) {
          return x ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          return std::to_string(x);
        } else if constexpr (std::is_same_v<T, double>) {
          return format_number(x);
        } else {
          std::string s =
              x.size() > kMaxShownValueLength ? x.substr(0, kMaxShownValueLength) + "..." : x;
          return "\"" + s + "\"";
        }
      },
      v);
}

// "an integer in 0..100", "a number >= 15", "a boolean", ...
std::string expectation(const ArgumentSpec& spec) {
  std::string what;
  switch (spec.type) {
    case ValueType::Bool:
      return "a boolean";
    case ValueType::String:
      return "a string";
    case ValueType::Int:
      what = "an integer";
      break;
    case ValueType::Number:
      what = "a number";
      break;
  }
  if (spec.min && spec.max)
    return what + " in " + format_number(*spec.min) + ".." + format_number(*spec.max);
  if (spec.min) return what + " >= " + format_number(*spec.min);
  if (spec.max) return what + " <= " + format_number(*spec.max);
  return what;
}

bool type_matches(ValueType type, const Value& v) {
  switch (type) {
    case ValueType::Bool:
      return std::holds_alternative<bool>(v);
    case ValueType::Int:
      return std::holds_alternative<std::int64_t>(v);
    // JSON has one number type: an integer is a perfectly good Number.
    case ValueType::Number:
      return std::holds_alternative<std::int64_t>(v) ||
             (std::holds_alternative<double>(v) && std::isfinite(std::get<double>(v)));
    case ValueType::String:
      return std::holds_alternative<std::string>(v);
  }
  return false;
}

double numeric(const Value& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  return std::get<double>(v);
}

const ActionSpec* find_action(const ServiceDescription& d, std::string_view name) {
  for (const auto& a : d.actions) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

Error service_error(std::string message) {
  return make_error(Errc::Service, std::move(message));
}

}  // namespace

Result<void> check_arguments(const ActionSpec& action, const ValueMap& arguments) {
  for (const auto& spec : action.arguments) {
    auto it = arguments.find(spec.name);
    if (it == arguments.end()) {
      return service_error("argument '" + spec.name + "' is missing: expected " +
                           expectation(spec));
    }
    const Value& v = it->second;
    bool ok = type_matches(spec.type, v);
    if (ok && (spec.type == ValueType::Int || spec.type == ValueType::Number)) {
      double x = numeric(v);
      ok = !(spec.min && x < *spec.min) && !(spec.max && x > *spec.max);
    }
    if (!ok) {
      return service_error("argument '" + spec.name + "': expected " + expectation(spec) +
                           ", got " + show_value(v));
    }
  }
  for (const auto& argument : arguments) {
    // Not a structured binding: clang 14 (the fuzz build) cannot capture one in a lambda.
    const std::string& name = argument.first;
    bool declared = std::any_of(action.arguments.begin(), action.arguments.end(),
                                [&](const ArgumentSpec& s) { return s.name == name; });
    if (!declared) {
      std::string known;
      for (const auto& s : action.arguments) known += (known.empty() ? "" : ", ") + s.name;
      return service_error("argument '" + name + "' is unknown to action '" + action.name +
                           "' (it takes: " + (known.empty() ? "no arguments" : known) + ")");
    }
  }
  return {};
}

Result<void> ServiceRegistry::add(ServiceDefinition service) {
  const auto& d = service.description;
  if (find_definition(d.id) != nullptr) {
    return service_error("service '" + d.id + "' already exists");
  }
  std::set<std::string, std::less<>> action_names;
  for (const auto& action : d.actions) {
    if (!action_names.insert(action.name).second) {
      return service_error("service '" + d.id + "': action '" + action.name +
                           "' is declared twice");
    }
    bool plain = service.handlers.count(action.name) != 0;
    bool stateful = service.stateful_handlers.count(action.name) != 0;
    if (!plain && !stateful) {
      return service_error("service '" + d.id + "': action '" + action.name + "' has no handler");
    }
    if (plain && stateful) {
      return service_error("service '" + d.id + "': action '" + action.name + "' has two handlers");
    }
  }
  for (const auto& [name, handler] : service.handlers) {
    if (action_names.count(name) == 0) {
      return service_error("service '" + d.id + "': handler '" + name + "' has no action");
    }
    if (!handler) return service_error("service '" + d.id + "': handler '" + name + "' is empty");
  }
  for (const auto& [name, handler] : service.stateful_handlers) {
    if (action_names.count(name) == 0) {
      return service_error("service '" + d.id + "': handler '" + name + "' has no action");
    }
    if (!handler) return service_error("service '" + d.id + "': handler '" + name + "' is empty");
  }
  services_.push_back(std::move(service));
  return {};
}

ServiceDefinition* ServiceRegistry::find_definition(std::string_view service_id) {
  for (auto& s : services_) {
    if (s.description.id == service_id) return &s;
  }
  return nullptr;
}

const ServiceDescription* ServiceRegistry::find(std::string_view service_id) const {
  for (const auto& s : services_) {
    if (s.description.id == service_id) return &s.description;
  }
  return nullptr;
}

std::vector<ServiceDescription> ServiceRegistry::describe(std::string_view type_filter) const {
  std::vector<ServiceDescription> out;
  for (const auto& s : services_) {
    if (type_filter.empty() || s.description.type == type_filter) out.push_back(s.description);
  }
  return out;
}

std::vector<OutboundMessage> ServiceRegistry::handle(const Message& request,
                                                     const CallerIdentity& caller, TimePoint now) {
  std::vector<OutboundMessage> out;
  auto reply = [&](Message m) {
    out.push_back(OutboundMessage{caller.connection_id, std::move(m)});
  };

  if (const auto* search = std::get_if<ServiceSearch>(&request)) {
    ServiceSearchResponse r;
    r.request_id = search->request_id;
    r.services = describe(search->service_type);
    reply(std::move(r));
    return out;
  }

  if (const auto* rent = std::get_if<ServiceRent>(&request)) {
    ServiceRentResponse r;
    r.request_id = rent->request_id;
    if (find_definition(rent->service_id) == nullptr) {
      r.result = ServiceResult::NoService;
      r.error = "no service '" + rent->service_id + "' on this device";
      reply(std::move(r));
      return out;
    }
    // The codec rejects 0 and values above the maximum; clamp anyway so that a direct caller
    // can neither rent a lease that is dead on arrival nor one that lives for years.
    std::uint32_t granted = std::clamp<std::uint32_t>(rent->lease_seconds, 1, kMaxLeaseSeconds);
    std::string lease_id;
    for (int attempt = 0; attempt < kLeaseIdAttempts && lease_id.empty(); ++attempt) {
      std::array<std::uint8_t, kLeaseIdBytes> bytes{};
      random_.fill(bytes);
      std::string candidate = hex_lower(bytes);
      bool taken = std::any_of(leases_.begin(), leases_.end(),
                               [&](const Lease& l) { return l.lease_id == candidate; });
      if (!taken) lease_id = std::move(candidate);
    }
    if (lease_id.empty()) {
      r.result = ServiceResult::Failed;
      r.error = "could not draw a fresh lease id";
      reply(std::move(r));
      return out;
    }
    leases_.push_back(
        Lease{lease_id, rent->service_id, caller.connection_id, now + seconds(granted)});
    r.result = ServiceResult::Ok;
    r.lease_id = std::move(lease_id);
    r.lease_seconds = granted;
    reply(std::move(r));
    return out;
  }

  if (const auto* invoke = std::get_if<ServiceInvoke>(&request)) {
    ServiceInvokeResponse r;
    r.request_id = invoke->request_id;
    auto refuse = [&](ServiceResult result, std::string error) {
      r.result = result;
      r.error = std::move(error);
      reply(std::move(r));
      return out;
    };
    // A lease is a capability of the connection that rented it: another connection that learnt
    // the id (or guessed it) gets the same answer as for an unknown one.
    auto lease = std::find_if(leases_.begin(), leases_.end(), [&](const Lease& l) {
      return l.lease_id == invoke->lease_id && l.holder == caller.connection_id && l.expires > now;
    });
    if (lease == leases_.end()) {
      return refuse(ServiceResult::NoLease, "invoke needs a live lease: rent the service first");
    }
    ServiceDefinition* service = find_definition(lease->service_id);
    if (service == nullptr) {  // services are never removed; kept for safety
      return refuse(ServiceResult::NoService,
                    "no service '" + lease->service_id + "' on this device");
    }
    const ActionSpec* action = find_action(service->description, invoke->action);
    if (action == nullptr) {
      return refuse(ServiceResult::NoAction, "service '" + service->description.id +
                                                 "' has no action '" + invoke->action + "'");
    }
    if (action->admin_only && (caller.role != AccountRole::Admin || !caller.authenticated)) {
      return refuse(ServiceResult::Denied,
                    "action '" + action->name + "' needs an authenticated admin account");
    }
    if (auto checked = check_arguments(*action, invoke->arguments); !checked) {
      return refuse(ServiceResult::BadArguments, checked.error().message);
    }
    ActionOutcome outcome;
    // Handlers are ours, but an exception must never leave the core: it becomes FAILED.
    try {
      if (auto h = service->handlers.find(action->name); h != service->handlers.end()) {
        outcome = h->second(invoke->arguments, caller, now);
      } else {
        outcome = service->stateful_handlers.at(action->name)(
            invoke->arguments, service->description.state, caller, now);
      }
    } catch (const std::exception& e) {
      return refuse(ServiceResult::Failed,
                    std::string("action '" + action->name + "' failed: ") + e.what());
    } catch (...) {
      return refuse(ServiceResult::Failed, "action '" + action->name + "' failed");
    }
    r.result = outcome.result;
    r.values = std::move(outcome.values);
    r.error = std::move(outcome.error);
    reply(std::move(r));
    auto events = apply_changes(*service, outcome.state_changes, now);
    out.insert(out.end(), std::make_move_iterator(events.begin()),
               std::make_move_iterator(events.end()));
    return out;
  }

  if (const auto* release = std::get_if<ServiceRelease>(&request)) {
    // The protocol defines no answer to a release; someone else's lease is left alone.
    std::erase_if(leases_, [&](const Lease& l) {
      return l.lease_id == release->lease_id && l.holder == caller.connection_id;
    });
    return out;
  }

  return out;
}

std::vector<OutboundMessage> ServiceRegistry::apply_changes(ServiceDefinition& service,
                                                            const ValueMap& changes,
                                                            TimePoint now) {
  ValueMap changed;
  for (const auto& [name, value] : changes) {
    auto [it, inserted] = service.description.state.try_emplace(name, value);
    if (inserted) {
      changed.emplace(name, value);
    } else if (it->second != value) {
      it->second = value;
      changed.emplace(name, value);
    }
  }
  std::vector<OutboundMessage> events;
  if (changed.empty()) return events;
  for (const auto& lease : leases_) {
    if (lease.service_id != service.description.id || lease.expires <= now) continue;
    ServiceEvent e;
    e.lease_id = lease.lease_id;
    e.service_id = service.description.id;
    e.variables = changed;
    events.push_back(OutboundMessage{lease.holder, std::move(e)});
  }
  return events;
}

std::vector<OutboundMessage> ServiceRegistry::set_state(std::string_view service_id,
                                                        const ValueMap& changes, TimePoint now) {
  ServiceDefinition* service = find_definition(service_id);
  if (service == nullptr) return {};
  return apply_changes(*service, changes, now);
}

void ServiceRegistry::drop_connection(ConnectionId connection_id) {
  std::erase_if(leases_, [&](const Lease& l) { return l.holder == connection_id; });
}

void ServiceRegistry::expire(TimePoint now) {
  std::erase_if(leases_, [&](const Lease& l) { return l.expires <= now; });
}

std::optional<TimePoint> ServiceRegistry::next_deadline() const {
  std::optional<TimePoint> earliest;
  for (const auto& l : leases_) {
    if (!earliest || l.expires < *earliest) earliest = l.expires;
  }
  return earliest;
}

}  // namespace homep2p
