#include "output.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <cstdio>
#include <ctime>
#include <type_traits>
#include <variant>

namespace homep2p::tools {

namespace {

void write_optional(JsonWriter& w, std::string_view key, const std::optional<std::string_view>& value) {
  write_key(w, key);
  if (value) {
    write_string(w, *value);
  } else {
    w.Null();
  }
}

std::string format_since(std::int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  return fmt::format("{:%Y-%m-%d %H:%M:%S} UTC", fmt::gmtime(t));
}

void write_connection(JsonWriter& w, const net::ConnectionChanged& c) {
  write_field(w, "event", "connection");
  write_field(w, "peer_id", c.peer_id);
  write_field(w, "role", to_string(c.role));
  write_field(w, "state", net::to_string(c.state));
  write_optional(w, "result", c.result ? std::optional<std::string_view>(to_string(*c.result))
                                       : std::nullopt);
  write_optional(w, "local", c.local != LocalFailure::None
                                 ? std::optional<std::string_view>(to_string(c.local))
                                 : std::nullopt);
  write_optional(w, "reason", c.reason ? std::optional<std::string_view>(to_string(*c.reason))
                                       : std::nullopt);
  write_optional(w, "cause", c.cause ? std::optional<std::string_view>(to_string(*c.cause))
                                     : std::nullopt);
  write_key(w, "count");
  w.Uint64(c.count);
  write_key(w, "max");
  w.Uint(c.max);
  write_field(w, "detail", c.detail);
}

void write_service_event(JsonWriter& w, const net::ServiceEventReceived& e) {
  write_field(w, "event", "service_event");
  write_field(w, "device_id", e.peer_id);
  write_field(w, "service_id", e.event.service_id);
  write_key(w, "variables");
  write_value_map(w, e.event.variables);
}

std::string connection_text(const net::ConnectionChanged& c) {
  std::string text = fmt::format("connection with {} (we are {}): {}", c.peer_id, to_string(c.role),
                                 net::to_string(c.state));
  if (c.result) text += fmt::format(", {}", to_string(*c.result));
  if (c.local != LocalFailure::None) text += fmt::format(", local failure: {}", to_string(c.local));
  if (c.reason) text += fmt::format(", {}", to_string(*c.reason));
  if (c.cause) text += fmt::format(" ({})", to_string(*c.cause));
  if (!c.detail.empty()) text += fmt::format(" - {}", c.detail);
  text += fmt::format("; connections {}/{}", c.count, c.max);
  return text;
}

}  // namespace

std::string event_json(const net::NodeEvent& event, std::string_view device) {
  return json_text([&](JsonWriter& w) {
    w.StartObject();
    std::visit(
        [&w](const auto& e) {
          using T = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<T, net::DeviceSeen>) {
            write_field(w, "event", "device_seen");
            write_field(w, "device_id", e.device.device_id);
            write_field(w, "name", e.device.friendly_name);
            write_key(w, "new");
            w.Bool(e.is_new);
          } else if constexpr (std::is_same_v<T, net::DeviceGone>) {
            write_field(w, "event", "device_gone");
            write_field(w, "device_id", e.device_id);
            write_field(w, "cause", to_string(e.cause));
          } else if constexpr (std::is_same_v<T, net::ConnectionChanged>) {
            write_connection(w, e);
          } else {
            static_assert(std::is_same_v<T, net::ServiceEventReceived>, "event_json misses an event");
            write_service_event(w, e);
          }
        },
        event);
    if (!device.empty()) write_field(w, "device", device);
    w.EndObject();
  });
}

std::string event_text(const net::NodeEvent& event) {
  return std::visit(
      [](const auto& e) -> std::string {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, net::DeviceSeen>) {
          return fmt::format("device {}: {} ({}, {} at {}:{})", e.is_new ? "seen" : "updated",
                             e.device.friendly_name, e.device.device_id, e.device.device_type,
                             e.device.address, e.device.port);
        } else if constexpr (std::is_same_v<T, net::DeviceGone>) {
          return fmt::format("device gone: {} ({})", e.device_id, to_string(e.cause));
        } else if constexpr (std::is_same_v<T, net::ConnectionChanged>) {
          return connection_text(e);
        } else {
          return service_event_text(e);
        }
      },
      event);
}

std::string value_text(const Value& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::string>) {
          return v;
        } else {
          return fmt::format("{}", v);
        }
      },
      value);
}

std::string value_map_text(const ValueMap& values) {
  std::string text;
  for (const auto& [key, value] : values) {
    if (!text.empty()) text += ", ";
    text += key + "=" + value_text(value);
  }
  return text;
}

std::string devices_json(const std::vector<net::PeerDevice>& devices) {
  return json_text([&](JsonWriter& w) {
    w.StartArray();
    for (const auto& d : devices) {
      const DeviceAnnounce& a = d.announce;
      w.StartObject();
      write_field(w, "device_id", a.device_id);
      write_field(w, "name", a.friendly_name);
      write_field(w, "type", a.device_type);
      write_field(w, "address", a.address.empty() ? d.source_address : a.address);
      write_key(w, "port");
      w.Uint(a.port);
      write_key(w, "services");
      w.StartArray();
      for (const auto& s : a.services) {
        w.StartObject();
        write_field(w, "id", s.id);
        write_field(w, "type", s.type);
        w.EndObject();
      }
      w.EndArray();
      write_key(w, "auth_required");
      w.Bool(a.security.auth_required);
      w.EndObject();
    }
    w.EndArray();
  });
}

std::string device_text(const net::PeerDevice& device) {
  const DeviceAnnounce& a = device.announce;
  std::string services;
  for (const auto& s : a.services) {
    if (!services.empty()) services += ", ";
    services += s.id + " (" + s.type + ")";
  }
  return fmt::format("{}\n  id {}  type {}  at {}:{}  {}\n  services: {}", a.friendly_name,
                     a.device_id, a.device_type, a.address.empty() ? device.source_address : a.address,
                     a.port, a.security.auth_required ? "authentication required" : "no authentication",
                     services.empty() ? "none" : services);
}

std::string services_json(const std::vector<ServiceDescription>& services) {
  return json_text([&](JsonWriter& w) {
    w.StartArray();
    for (const auto& s : services) {
      w.StartObject();
      write_field(w, "id", s.id);
      write_field(w, "type", s.type);
      write_key(w, "actions");
      w.StartArray();
      for (const auto& a : s.actions) {
        w.StartObject();
        write_field(w, "name", a.name);
        write_key(w, "arguments");
        w.StartArray();
        for (const auto& arg : a.arguments) {
          w.StartObject();
          write_field(w, "name", arg.name);
          write_field(w, "type", to_string(arg.type));
          write_key(w, "min");
          if (arg.min) {
            w.Double(*arg.min);
          } else {
            w.Null();
          }
          write_key(w, "max");
          if (arg.max) {
            w.Double(*arg.max);
          } else {
            w.Null();
          }
          w.EndObject();
        }
        w.EndArray();
        write_key(w, "admin_only");
        w.Bool(a.admin_only);
        w.EndObject();
      }
      w.EndArray();
      write_key(w, "state");
      write_value_map(w, s.state);
      w.EndObject();
    }
    w.EndArray();
  });
}

std::string service_text(const ServiceDescription& service) {
  std::string text = fmt::format("{} ({})\n  state: {}", service.id, service.type,
                                 service.state.empty() ? "-" : value_map_text(service.state));
  for (const auto& a : service.actions) {
    std::string args;
    for (const auto& arg : a.arguments) {
      if (!args.empty()) args += ", ";
      args += arg.name + ": " + std::string(to_string(arg.type));
      if (arg.min || arg.max) {
        args += fmt::format(" [{}..{}]", arg.min ? fmt::format("{}", *arg.min) : "",
                            arg.max ? fmt::format("{}", *arg.max) : "");
      }
    }
    text += fmt::format("\n  action {}({}){}", a.name, args, a.admin_only ? "  admin only" : "");
  }
  return text;
}

std::string status_json(const StatusView& status, bool event) {
  return json_text([&](JsonWriter& w) {
    w.StartObject();
    if (event) write_field(w, "event", "status");
    write_field(w, "device_id", status.device_id);
    write_key(w, "count");
    w.Int64(status.count);
    write_key(w, "max");
    w.Int64(status.max);
    write_key(w, "peers");
    w.StartArray();
    for (const auto& p : status.peers) {
      w.StartObject();
      write_field(w, "device_id", p.device_id);
      write_field(w, "role", to_string(p.role));
      write_key(w, "since");
      w.Int64(p.since);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  });
}

std::string status_text(const StatusView& status, std::string_view name) {
  std::string text = fmt::format("{} ({}): {} of max {} connections", name, status.device_id,
                                 status.count, status.max);
  for (const auto& p : status.peers) {
    // The role is the device's own on that connection: "initiator" = it connected to the peer.
    text += fmt::format("\n  {}  {}  since {}", p.device_id,
                        p.role == Role::Initiator ? "it connected (initiator)" : "connected to it (target)",
                        format_since(p.since));
  }
  return text;
}

std::string service_event_json(const net::ServiceEventReceived& received) {
  return json_text([&](JsonWriter& w) {
    w.StartObject();
    write_service_event(w, received);
    w.EndObject();
  });
}

std::string service_event_text(const net::ServiceEventReceived& received) {
  return fmt::format("event from {} service {}: {}", received.peer_id, received.event.service_id,
                     value_map_text(received.event.variables));
}

void print_line(std::string_view line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

void print_error(std::string_view line) {
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fputc('\n', stderr);
  std::fflush(stderr);
}

}  // namespace homep2p::tools
