#include "mappings.hpp"

#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

namespace peer2mqtt {

namespace {

using homep2p::Errc;
using homep2p::make_error;

// The Home Assistant MQTT platforms a mapping may name; others (cover, climate...) need
// commands the bridge's /set format does not express yet.
constexpr std::array<std::string_view, 8> kComponents{"switch", "light",  "sensor", "binary_sensor",
                                                      "number", "button", "select", "text"};
constexpr std::array<std::string_view, 6> kPlaceholders{"base_topic", "device",      "device_id",
                                                        "service",    "state_topic", "command_topic"};
constexpr std::array<std::string_view, 3> kTopKeys{"service_type", "entities", "description"};
constexpr std::array<std::string_view, 4> kEntityKeys{"component", "object_id", "name", "config"};
// Config keys the bridge sets for every entity (and their discovery abbreviations): a mapping
// that set them would break unique ids, the device block or availability.
constexpr std::array<std::string_view, 18> kReservedConfigKeys{
    "name",   "unique_id", "uniq_id", "object_id",         "obj_id",       "default_entity_id",
    "def_ent_id", "device", "dev",    "origin",            "o",            "availability",
    "avty",   "availability_topic", "avty_t", "availability_mode", "avty_mode", "availability_template"};

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

template <std::size_t N>
std::string join(const std::array<std::string_view, N>& list, std::string_view prefix = {},
                 std::string_view suffix = {}) {
  std::string out;
  for (std::size_t i = 0; i < N; ++i) {
    if (i > 0) out += ", ";
    out += prefix;
    out += list[i];
    out += suffix;
  }
  return out;
}

homep2p::Error field_error(std::string_view origin, const std::string& field, const std::string& what) {
  std::string message(origin);
  message += ": ";
  if (!field.empty()) message += field + ": ";
  message += what;
  return make_error(Errc::Config, std::move(message));
}

bool valid_object_id(std::string_view id) {
  return !id.empty() && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::string_view view(const rapidjson::Value& v) { return {v.GetString(), v.GetStringLength()}; }

// Checks every ${...} of one string value: each must be closed and known.
std::optional<std::string> check_placeholders(std::string_view text) {
  std::size_t pos = 0;
  while ((pos = text.find("${", pos)) != std::string_view::npos) {
    const std::size_t close = text.find('}', pos + 2);
    if (close == std::string_view::npos) return "unterminated placeholder '${' (close it with '}')";
    const std::string_view name = text.substr(pos + 2, close - pos - 2);
    if (!contains(kPlaceholders, name)) {
      return "unknown placeholder ${" + std::string(name) + "} (known: " + join(kPlaceholders, "${", "}") + ")";
    }
    pos = close + 1;
  }
  return std::nullopt;
}

// Parsing without recursion: a deeply nested file must be an error, not a stack overflow.
constexpr unsigned kParseFlags = rapidjson::kParseIterativeFlag;
// Rendering, copying and writing a config recurse: its nesting is bounded (real ones use 2).
constexpr int kMaxConfigDepth = 16;

// Walks a config value; the first bad placeholder, duplicate key (Home Assistant would get
// ambiguous JSON: which one wins depends on the parser) or too deep nesting names its path.
std::optional<homep2p::Error> check_config_value(const rapidjson::Value& value, const std::string& path,
                                                 std::string_view origin, int depth = 0) {
  if (depth > kMaxConfigDepth) {
    return field_error(origin, path, "nested deeper than " + std::to_string(kMaxConfigDepth) + " levels");
  }
  if (value.IsString()) {
    if (auto problem = check_placeholders(view(value))) return field_error(origin, path, *problem);
  } else if (value.IsObject()) {
    std::set<std::string_view> keys;
    for (const auto& member : value.GetObject()) {
      const std::string member_path = path + "." + std::string(view(member.name));
      if (!keys.insert(view(member.name)).second) return field_error(origin, member_path, "duplicate key");
      if (auto e = check_config_value(member.value, member_path, origin, depth + 1)) return e;
    }
  } else if (value.IsArray()) {
    for (rapidjson::SizeType i = 0; i < value.Size(); ++i) {
      if (auto e = check_config_value(value[i], path + "[" + std::to_string(i) + "]", origin, depth + 1)) return e;
    }
  }
  return std::nullopt;
}

std::string compact(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

homep2p::Result<EntityMapping> parse_entity(const rapidjson::Value& e, const std::string& path,
                                            std::string_view origin) {
  if (!e.IsObject()) return field_error(origin, path, "expected an object");
  for (const auto& member : e.GetObject()) {
    if (!contains(kEntityKeys, view(member.name))) {
      return field_error(origin, path + "." + std::string(view(member.name)),
                         "unknown key (expected one of " + join(kEntityKeys) + ")");
    }
  }
  EntityMapping out;

  auto component = e.FindMember("component");
  if (component == e.MemberEnd()) return field_error(origin, path + ".component", "missing");
  if (!component->value.IsString() || !contains(kComponents, view(component->value))) {
    return field_error(origin, path + ".component", "expected one of " + join(kComponents));
  }
  out.component = view(component->value);

  auto object_id = e.FindMember("object_id");
  if (object_id == e.MemberEnd()) return field_error(origin, path + ".object_id", "missing");
  if (!object_id->value.IsString() || !valid_object_id(view(object_id->value))) {
    return field_error(origin, path + ".object_id", "expected a non-empty string of [a-z0-9_]");
  }
  out.object_id = view(object_id->value);

  auto name = e.FindMember("name");
  if (name == e.MemberEnd()) return field_error(origin, path + ".name", "missing");
  if (!name->value.IsString()) return field_error(origin, path + ".name", "expected a string");
  out.name = view(name->value);

  auto config = e.FindMember("config");
  if (config == e.MemberEnd()) return field_error(origin, path + ".config", "missing");
  if (!config->value.IsObject()) return field_error(origin, path + ".config", "expected an object");
  for (const auto& member : config->value.GetObject()) {
    if (contains(kReservedConfigKeys, view(member.name))) {
      return field_error(origin, path + ".config." + std::string(view(member.name)),
                         "set by the bridge for every entity; remove it from the mapping");
    }
  }
  if (auto problem = check_config_value(config->value, path + ".config", origin)) return *problem;
  out.config_json = compact(config->value);
  return out;
}

std::string substitute(std::string_view text, const PlaceholderValues& values) {
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t open = text.find("${", pos);
    const std::size_t close = open == std::string_view::npos ? open : text.find('}', open + 2);
    if (close == std::string_view::npos) break;
    out.append(text.substr(pos, open - pos));
    const std::string_view name = text.substr(open + 2, close - open - 2);
    const std::string* value = nullptr;
    if (name == "base_topic") value = &values.base_topic;
    else if (name == "device") value = &values.device;
    else if (name == "device_id") value = &values.device_id;
    else if (name == "service") value = &values.service;
    else if (name == "state_topic") value = &values.state_topic;
    else if (name == "command_topic") value = &values.command_topic;
    // Substituted text is not scanned again: a device named "${service}" stays that name.
    if (value != nullptr) out += *value;
    else out.append(text.substr(open, close - open + 1));
    pos = close + 1;
  }
  if (pos < text.size()) out.append(text.substr(pos));
  return out;
}

void substitute_all(rapidjson::Value& value, const PlaceholderValues& values,
                    rapidjson::Document::AllocatorType& allocator) {
  if (value.IsString()) {
    const std::string replaced = substitute(view(value), values);
    value.SetString(replaced.c_str(), static_cast<rapidjson::SizeType>(replaced.size()), allocator);
  } else if (value.IsObject()) {
    for (auto& member : value.GetObject()) substitute_all(member.value, values, allocator);
  } else if (value.IsArray()) {
    for (auto& item : value.GetArray()) substitute_all(item, values, allocator);
  }
}

}  // namespace

rapidjson::Document render_config(const EntityMapping& entity, const PlaceholderValues& values) {
  rapidjson::Document doc;
  doc.Parse<kParseFlags>(entity.config_json.c_str(), entity.config_json.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    doc.SetObject();  // only a hand-made EntityMapping can get here; parse() checked the files
    return doc;
  }
  substitute_all(doc, values, doc.GetAllocator());
  return doc;
}

homep2p::Result<ServiceMapping> Mappings::parse(std::string_view json, std::string_view origin) {
  rapidjson::Document doc;
  doc.Parse<kParseFlags>(json.data(), json.size());
  if (doc.HasParseError()) {
    return field_error(origin, "", "not valid JSON at offset " + std::to_string(doc.GetErrorOffset()) + ": " +
                                       rapidjson::GetParseError_En(doc.GetParseError()));
  }
  if (!doc.IsObject()) return field_error(origin, "", "expected a JSON object at the top level");
  for (const auto& member : doc.GetObject()) {
    if (!contains(kTopKeys, view(member.name))) {
      return field_error(origin, std::string(view(member.name)),
                         "unknown key (expected one of " + join(kTopKeys) + ")");
    }
  }
  ServiceMapping out;
  out.source_file = origin;

  auto type = doc.FindMember("service_type");
  if (type == doc.MemberEnd()) return field_error(origin, "service_type", "missing");
  if (!type->value.IsString() || type->value.GetStringLength() == 0) {
    return field_error(origin, "service_type", "expected a non-empty string");
  }
  out.service_type = view(type->value);

  if (auto d = doc.FindMember("description"); d != doc.MemberEnd() && !d->value.IsString()) {
    return field_error(origin, "description", "expected a string");
  }

  auto entities = doc.FindMember("entities");
  if (entities == doc.MemberEnd()) return field_error(origin, "entities", "missing");
  if (!entities->value.IsArray() || entities->value.Empty()) {
    return field_error(origin, "entities", "expected a non-empty array");
  }
  std::set<std::string> seen;
  for (rapidjson::SizeType i = 0; i < entities->value.Size(); ++i) {
    const std::string path = "entities[" + std::to_string(i) + "]";
    auto entity = parse_entity(entities->value[i], path, origin);
    if (!entity) return entity.error();
    if (!seen.insert(entity->object_id).second) {
      return field_error(origin, path + ".object_id",
                         "'" + entity->object_id + "' is used by an earlier entity of this file");
    }
    out.entities.push_back(std::move(entity.value()));
  }
  return out;
}

homep2p::Result<Mappings> Mappings::load_directory(const std::string& directory) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(directory, ec)) {
    return make_error(Errc::Config, "mappings folder '" + directory + "' does not exist or is not a folder");
  }
  std::vector<fs::path> files;
  for (fs::directory_iterator it(directory, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (it->path().extension() == ".json" && it->is_regular_file(type_ec)) files.push_back(it->path());
  }
  if (ec) return make_error(Errc::Config, "mappings folder '" + directory + "': " + ec.message());
  // Sorted so that errors (which file came first) do not depend on the file system's order.
  std::sort(files.begin(), files.end());

  Mappings out;
  for (const auto& file : files) {
    const std::string origin = file.string();
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) return make_error(Errc::Config, origin + ": cannot be read");
    auto mapping = parse(text.str(), origin);
    if (!mapping) return mapping.error();
    if (const ServiceMapping* earlier = out.find(mapping->service_type)) {
      return field_error(origin, "service_type",
                         "'" + mapping->service_type + "' is already mapped by " + earlier->source_file);
    }
    out.add(std::move(mapping.value()));
  }
  return out;
}

void Mappings::add(ServiceMapping mapping) {
  std::string type = mapping.service_type;
  by_type_.insert_or_assign(std::move(type), std::move(mapping));
}

const ServiceMapping* Mappings::find(std::string_view service_type) const {
  auto it = by_type_.find(service_type);
  return it == by_type_.end() ? nullptr : &it->second;
}

}  // namespace peer2mqtt
