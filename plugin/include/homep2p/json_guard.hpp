// A check of JSON text from the network before RapidJSON parses it. A header of its own because
// the codec (core) and the bridge's MQTT payload parsers all need it.
//
// Why: Debian 12's RapidJSON (1.1.0) reads outside a table and crashes (SIGSEGV, also in plain
// -O2 builds) when kParseFullPrecisionFlag parses a number spelt with many digits and a large
// negative exponent, e.g. 0.000000000000000000000000e-325 or 0.000000000000000000000001e-325
// (31 characters, the shortest found). One such number anywhere in a discovery datagram, a frame
// or an MQTT payload would crash the receiver. Found by tests/fuzz/fuzz_message (zeros) and
// fuzz_bridge_commands (nonzero); see docs/RELIABILITY.md.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace homep2p {

// A number literal longer than this is refused. Every double has a shortest text of at most 24
// characters (-2.2250738585072014e-308) and every 64-bit integer at most 20, which is what our
// encoders write; the shortest crash found is 31 characters.
inline constexpr std::size_t kMaxNumberLength = 25;

// Describes the first number in `json` (outside strings) that RapidJSON cannot be trusted
// with, or nullopt. Not a validator: anything else is left to the parser.
std::optional<std::string> unsafe_json_number(std::string_view json);

}  // namespace homep2p
