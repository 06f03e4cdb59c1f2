// Small helpers for writing JSON with RapidJSON's Writer, shared by the bridge's payloads and
// homepeer's output (the codec has its own, private, with the wire's exact rules). Header-only:
// include RapidJSON before it.
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include "homep2p/messages.hpp"

namespace homep2p::json {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

inline void write_string(Writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

inline void write_key(Writer& w, std::string_view key) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
}

inline void write_field(Writer& w, std::string_view key, std::string_view value) {
  write_key(w, key);
  write_string(w, value);
}

// A state variable or argument: bool, integer, number or string. JSON has no NaN or infinity:
// those are written as null (RapidJSON would otherwise refuse and leave the document broken).
inline void write_value(Writer& w, const Value& value) {
  std::visit(
      [&w](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          w.Bool(v);
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          w.Int64(v);
        } else if constexpr (std::is_same_v<T, double>) {
          if (std::isfinite(v)) {
            w.Double(v);
          } else {
            w.Null();
          }
        } else {
          write_string(w, v);
        }
      },
      value);
}

inline void write_value_map(Writer& w, const ValueMap& values) {
  w.StartObject();
  for (const auto& [key, value] : values) {
    write_key(w, key);
    write_value(w, value);
  }
  w.EndObject();
}

inline std::string text_of(const rapidjson::StringBuffer& buffer) {
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace homep2p::json
