// Home Assistant entities for a service type, loaded from mappings/*.json (data, not code:
// adding a service type needs no recompile). The file format is documented in
// mappings/README.md; a broken file is an error naming the file and the field.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "homep2p/result.hpp"

namespace peer2mqtt {

struct EntityMapping {
  std::string component;  // switch, light, sensor, binary_sensor, number, button, ...
  std::string object_id;  // unique within the service: "power", "brightness"
  std::string name;       // entity name shown in Home Assistant
  // Discovery config fields merged into the entity's config. String values may hold the
  // placeholders ${base_topic}, ${device} (friendly name), ${device_id}, ${service} (service id),
  // ${state_topic}, ${command_topic}; they are substituted when published.
  std::string config_json;  // a JSON object, kept as text (RapidJSON documents do not copy)
};

// The values of the placeholders for one entity of one device (see EntityMapping::config_json).
struct PlaceholderValues {
  std::string base_topic;
  std::string device;     // friendly name
  std::string device_id;
  std::string service;    // service id
  std::string state_topic;
  std::string command_topic;
};

// The entity's config as a JSON object with the placeholders of its string values substituted.
// Substitution works on parsed strings and the caller serializes the result, so a value holding
// quotes or backslashes stays correctly escaped. Unknown placeholders are left as they are
// (parse() already rejected them).
rapidjson::Document render_config(const EntityMapping& entity, const PlaceholderValues& values);

struct ServiceMapping {
  std::string service_type;
  std::string source_file;
  std::vector<EntityMapping> entities;
};

class Mappings {
 public:
  // Loads every *.json of the folder. Any broken file fails the whole load (start-up error).
  static homep2p::Result<Mappings> load_directory(const std::string& directory);
  // One file's text; `origin` names it in errors.
  static homep2p::Result<ServiceMapping> parse(std::string_view json, std::string_view origin);

  void add(ServiceMapping mapping);
  const ServiceMapping* find(std::string_view service_type) const;
  std::size_t size() const { return by_type_.size(); }

 private:
  std::map<std::string, ServiceMapping, std::less<>> by_type_;
};

}  // namespace peer2mqtt
