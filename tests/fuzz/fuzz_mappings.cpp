// Fuzz target: a Home Assistant mapping file (Mappings::parse, JSON). Besides "no crash": a
// refused file names its origin; for an accepted one every entity's config renders, with
// placeholder values full of quotes, backslashes and braces, into a JSON object that serializes
// and parses back (substitution can never break the JSON the bridge publishes).
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/mappings.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace peer2mqtt;
  const auto mapping = Mappings::parse(homep2p::fuzz::as_text({data, size}), "fuzz.json");
  if (!mapping) {
    FUZZ_CHECK(mapping.error().message.find("fuzz.json") != std::string::npos, "the error does not name the file");
    return 0;
  }
  FUZZ_CHECK(!mapping->service_type.empty(), "accepted a mapping without a service type");
  const PlaceholderValues values{"base\"/\\", "Lamp \"x\" \\ ${device}", "1a000000-0000-4000-8000-00000000001a",
                                 "svc}{\"", "st\\\"ate", "cmd\n\t\u0001"};
  for (const auto& entity : mapping->entities) {
    const rapidjson::Document config = render_config(entity, values);
    FUZZ_CHECK(config.IsObject(), "a rendered config is not a JSON object");
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    FUZZ_CHECK(config.Accept(writer), "a rendered config does not serialize");
    // At full precision: the writer prints the shortest text of a double, which only the
    // full-precision parser reads back exactly (15e-40 came back one ulp off: regress-double-
    // round-trip; Home Assistant's own JSON parser reads it exactly). Our writer never prints
    // the long zeros that crash this parser (homep2p/json_guard.hpp).
    rapidjson::Document again;
    again.Parse<rapidjson::kParseFullPrecisionFlag>(buffer.GetString(), buffer.GetSize());
    FUZZ_CHECK(!again.HasParseError() && again == config, "a rendered config does not parse back the same");
  }
  return 0;
}
