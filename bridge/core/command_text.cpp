#include "command_text.hpp"

#include <rapidjson/encodings.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>

#include <cmath>

#include "homep2p/json_guard.hpp"

namespace peer2mqtt {

namespace {
constexpr std::size_t kMaxQuotedCodePoints = 64;
constexpr std::size_t kMaxPayloadSize = 65536;  // commands are tiny; bounds a stray publish
constexpr unsigned kParseFlags =
    rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag | rapidjson::kParseFullPrecisionFlag;
}  // namespace

std::optional<std::string> parse_command_payload(const std::string& payload, rapidjson::Document& doc) {
  if (payload.size() > kMaxPayloadSize) {
    return "payload too large: " + std::to_string(payload.size()) + " bytes (at most " +
           std::to_string(kMaxPayloadSize) + ")";
  }
  if (payload.find('\0') != std::string::npos) return "invalid JSON: NUL byte in payload";
  if (auto unsafe = homep2p::unsafe_json_number(payload)) return "invalid JSON: " + *unsafe;
  doc.Parse<kParseFlags>(payload.c_str(), payload.size());
  if (doc.HasParseError()) {
    return std::string("invalid JSON: ") + rapidjson::GetParseError_En(doc.GetParseError()) + " (at offset " +
           std::to_string(doc.GetErrorOffset()) + ")";
  }
  return std::nullopt;
}

std::optional<homep2p::Value> argument_value(const rapidjson::Value& json) {
  if (json.IsBool()) return homep2p::Value(json.GetBool());
  if (json.IsInt64()) return homep2p::Value(json.GetInt64());
  if (json.IsDouble() && std::isfinite(json.GetDouble())) return homep2p::Value(json.GetDouble());
  if (json.IsString()) return homep2p::Value(std::string(json.GetString(), json.GetStringLength()));
  return std::nullopt;
}

std::string quote_untrusted(std::string_view text) {
  std::string out = "'";
  rapidjson::MemoryStream stream(text.data(), text.size());
  std::size_t count = 0;
  while (stream.Tell() < text.size()) {
    if (count == kMaxQuotedCodePoints) {
      out += "...";
      break;
    }
    const std::size_t start = stream.Tell();
    unsigned code_point = 0;
    const bool valid = rapidjson::UTF8<>::Decode(stream, &code_point);
    if (!valid || code_point < 0x20 || (code_point >= 0x7f && code_point < 0xa0)) {
      out += '?';
      if (stream.Tell() == start) stream.Take();  // always make progress
    } else {
      out.append(text.substr(start, stream.Tell() - start));
    }
    ++count;
  }
  out += "'";
  return out;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

std::string failure_text(const ActionResult& result) {
  std::string error = result.error.empty() ? "failed" : result.error;
  if (!result.result.empty() && error.find(result.result) == std::string::npos) {
    error = result.result + ": " + error;
  }
  return error;
}

}  // namespace peer2mqtt
