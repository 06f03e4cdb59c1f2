#include "device_host.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string>

#include "homep2p/net/node.hpp"
#include "output.hpp"

namespace homep2p::tools {

namespace {

struct Label {
  std::string device_id;  // "device" in JSON
  std::string name;       // "[name] " prefix in text
};

void print_event(const net::NodeEvent& event, bool json, const std::optional<Label>& label) {
  if (json) {
    print_line(event_json(event, label ? std::string_view(label->device_id) : std::string_view()));
  } else {
    print_line(label ? fmt::format("[{}] {}", label->name, event_text(event)) : event_text(event));
  }
}

void print_lifecycle(std::string_view what, const DeviceConfig& config, const net::Node& node,
                     bool json, bool label_events) {
  if (json) {
    print_line(json_text([&](JsonWriter& w) {
      w.StartObject();
      write_field(w, "event", what);
      write_field(w, "device_id", config.device_id);
      write_field(w, "name", config.friendly_name);
      if (what == "started") {
        write_key(w, "port");
        w.Uint(node.tcp_port());
      }
      if (label_events) write_field(w, "device", config.device_id);
      w.EndObject();
    }));
    return;
  }
  if (what == "started") {
    std::string services;
    for (const auto& s : config.services) {
      if (!services.empty()) services += ", ";
      services += s.id + " (" + s.type + ")";
    }
    print_line(fmt::format("started {} ({}, {}) on {}:{}, max {} connections, {}; services: {}",
                           config.friendly_name, config.device_id, config.device_type,
                           config.interface, node.tcp_port(), config.max_connections,
                           config.auth_required ? "authentication required" : "no authentication",
                           services.empty() ? "none" : services));
  } else {
    print_line(fmt::format("{} {} ({})", what, config.friendly_name, config.device_id));
  }
}

}  // namespace

int host_devices(const std::vector<DeviceConfig>& configs, const CommonOptions& options,
                 bool label_events) {
  MainLoop loop;
  std::vector<std::unique_ptr<net::Node>> nodes;
  nodes.reserve(configs.size());
  const bool json = options.json;

  for (const auto& config : configs) {
    net::NodeOptions node_options;
    node_options.config = config;
    node_options.simulated_services = true;
    node_options.announce = true;
    auto node = std::make_unique<net::Node>(std::move(node_options));
    std::optional<Label> label;
    if (label_events) label = Label{config.device_id, config.friendly_name};
    // Runs on the node's thread: copy the event to the main thread, which prints everything.
    node->on_event([&loop, json, label](const net::NodeEvent& event) {
      loop.post([event, json, label] { print_event(event, json, label); });
    });
    auto started = node->start();
    if (!started) {
      print_error(fmt::format("could not start {} ({}): {}", config.friendly_name,
                              config.device_id, started.error().message));
      for (auto& n : nodes) n->stop();
      return kExitLocalFailure;
    }
    print_lifecycle("started", config, *node, json, label_events);
    nodes.push_back(std::move(node));
  }

  loop.run_until([] { return false; });

  for (std::size_t i = 0; i < nodes.size(); ++i) {
    nodes[i]->stop();
    loop.drain();  // the last events of this device (its peers disconnected)
    print_lifecycle("stopped", configs[i], *nodes[i], json, label_events);
  }
  return kExitOk;
}

}  // namespace homep2p::tools
