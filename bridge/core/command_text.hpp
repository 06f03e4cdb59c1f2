// What the request/response API (bridge_api_extension) and the /set commands
// (device_commands_extension) share about commands arriving over MQTT: how a JSON argument
// becomes a protocol Value, and how untrusted text and action outcomes appear in the error
// messages they publish. One place, so that both channels accept and word the same things.
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "device_actions.hpp"
#include "homep2p/messages.hpp"

namespace peer2mqtt {

// Parses an MQTT command payload into `doc`: at most 64 KiB, no NUL byte (RapidJSON would stop
// reading there), no number RapidJSON 1.1 cannot be trusted with (homep2p/json_guard.hpp), valid
// UTF-8, iteratively (deep nesting cannot exhaust the stack), numbers at full precision. Returns
// the error to publish ("invalid JSON: ...", "payload too large: ...") or nullopt.
std::optional<std::string> parse_command_payload(const std::string& payload, rapidjson::Document& doc);

// A JSON argument value as a protocol Value; nullopt for null, arrays, objects, integers beyond
// int64 (a double would silently round them) and numbers beyond double's range (2e308 parses as
// infinity, which JSON cannot carry to the device).
std::optional<homep2p::Value> argument_value(const rapidjson::Value& json);
// What argument_value() accepts, for the error message when it refuses.
inline constexpr std::string_view kArgumentValueRule =
    "must be true, false, a number (integers within 64 bits) or a string";

// Untrusted text for an error message, in single quotes: valid UTF-8 only (an escape such as
// "\udc00" gets past the parser's encoding check), control characters replaced by '?', at most
// 64 code points.
std::string quote_untrusted(std::string_view text);

// "a, b, c"
std::string join_names(const std::vector<std::string>& names);

// "OVERLOAD: the device is at its maximum" from a failed action's result code and error text.
std::string failure_text(const ActionResult& result);

}  // namespace peer2mqtt
