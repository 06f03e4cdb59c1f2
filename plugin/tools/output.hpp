// What homepeer prints: JSON (RapidJSON Writer, one document per line) and human-readable text.
// The JSON shapes are documented in docs/HOMEPEER.md; scripts depend on them.
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>
#include <string_view>
#include <vector>

#include "homep2p/connection_manager_service.hpp"
#include "homep2p/json_writing.hpp"
#include "homep2p/messages.hpp"
#include "homep2p/net/node.hpp"

namespace homep2p::tools {

using JsonWriter = json::Writer;

// Builds one JSON text: `build` writes exactly one value.
template <class Build>
std::string json_text(Build&& build) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  build(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

using json::write_field;  // "key":"value" inside an object
using json::write_key;
using json::write_string;
using json::write_value;      // bool, integer, number or string
using json::write_value_map;  // an object

// One line per NodeEvent (homepeer device/home, --json). A non-empty `device` adds a "device"
// field naming the local device that saw the event (homepeer home).
std::string event_json(const net::NodeEvent& event, std::string_view device = {});
std::string event_text(const net::NodeEvent& event);

std::string value_text(const Value& value);
std::string value_map_text(const ValueMap& values);  // "a=1, b=true"

// homepeer discover.
std::string devices_json(const std::vector<net::PeerDevice>& devices);
std::string device_text(const net::PeerDevice& device);

// homepeer services.
std::string services_json(const std::vector<ServiceDescription>& services);
std::string service_text(const ServiceDescription& service);

// homepeer status. `event` adds "event":"status" (a change seen with --watch).
struct StatusView {
  std::string device_id;
  std::int64_t count = 0;
  std::int64_t max = 0;
  std::vector<ConnectionManagerPeer> peers;
};
std::string status_json(const StatusView& status, bool event);
std::string status_text(const StatusView& status, std::string_view name);

// A ServiceEventReceived as {"event":"service_event",...} (homepeer invoke --watch).
std::string service_event_json(const net::ServiceEventReceived& received);
std::string service_event_text(const net::ServiceEventReceived& received);

// stdout, then a newline and a flush: scripts read the output line by line while we run.
void print_line(std::string_view line);
// stderr, one line: failures.
void print_error(std::string_view line);

}  // namespace homep2p::tools
