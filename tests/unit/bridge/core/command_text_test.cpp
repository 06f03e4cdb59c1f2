// What the two MQTT command channels share (bridge/core/command_text.hpp): argument conversion,
// quoting untrusted text, joining names, wording a failed action.
#include "core/command_text.hpp"

#include <gtest/gtest.h>

namespace peer2mqtt {
namespace {

rapidjson::Document parse(const char* json) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseFullPrecisionFlag>(json);
  EXPECT_FALSE(doc.HasParseError()) << json;
  return doc;
}

TEST(CommandText, APayloadIsParsedOrRefusedWithTheReason) {
  rapidjson::Document doc;
  EXPECT_EQ(parse_command_payload(R"({"a":[1,2.5,"x"]})", doc), std::nullopt);
  EXPECT_TRUE(doc.IsObject());
  EXPECT_EQ(parse_command_payload(std::string(65537, ' '), doc), "payload too large: 65537 bytes (at most 65536)");
  EXPECT_EQ(parse_command_payload(std::string("{}\0x", 4), doc), "invalid JSON: NUL byte in payload");
  EXPECT_EQ(parse_command_payload(R"({"x":0.000000000000000000000001e-325})", doc),
            "invalid JSON: number at offset 5 has 31 characters (at most 25)");
  EXPECT_EQ(parse_command_payload("{\"a\":", doc), "invalid JSON: Invalid value. (at offset 5)");
  EXPECT_EQ(parse_command_payload("\"\xff\"", doc), "invalid JSON: Invalid encoding in string. (at offset 1)");
}

TEST(CommandText, ArgumentValuesKeepBooleansIntegersNumbersAndStrings) {
  const auto doc = parse(R"({"b":true,"i":-3,"big":9223372036854775807,"x":2.5,"s":"hi"})");
  EXPECT_EQ(argument_value(doc["b"]), homep2p::Value(true));
  EXPECT_EQ(argument_value(doc["i"]), homep2p::Value(std::int64_t{-3}));
  EXPECT_EQ(argument_value(doc["big"]), homep2p::Value(std::int64_t{9223372036854775807}));
  EXPECT_EQ(argument_value(doc["x"]), homep2p::Value(2.5));
  EXPECT_EQ(argument_value(doc["s"]), homep2p::Value(std::string("hi")));
}

TEST(CommandText, ArgumentValuesRefuseWhatTheProtocolCannotCarry) {
  const auto doc = parse(R"({"null":null,"array":[1],"object":{},"uint64":18446744073709551615,"inf":2e308,"ninf":-2e308})");
  for (const char* name : {"null", "array", "object", "uint64", "inf", "ninf"}) {
    EXPECT_FALSE(argument_value(doc[name]).has_value()) << name;
  }
}

TEST(CommandText, QuotingKeepsPrintableUtf8AndReplacesControlsAndBrokenBytes) {
  EXPECT_EQ(quote_untrusted("Lamp"), "'Lamp'");
  EXPECT_EQ(quote_untrusted("Küche"), "'Küche'");
  EXPECT_EQ(quote_untrusted(std::string("a\nb\x01" "c", 5)), "'a?b?c'");
  EXPECT_EQ(quote_untrusted("\xff\xfe"), "'?" "?'");  // split: "??'" is a trigraph
}

TEST(CommandText, QuotingCutsLongTextAtSixtyFourCodePoints) {
  EXPECT_EQ(quote_untrusted(std::string(100, 'x')), "'" + std::string(64, 'x') + "...'");
  EXPECT_EQ(quote_untrusted(std::string(64, 'x')), "'" + std::string(64, 'x') + "'");
}

TEST(CommandText, NamesAreJoinedWithCommas) {
  EXPECT_EQ(join_names({}), "");
  EXPECT_EQ(join_names({"a"}), "a");
  EXPECT_EQ(join_names({"a", "b", "c"}), "a, b, c");
}

TEST(CommandText, AFailureNamesItsResultCodeOnce) {
  EXPECT_EQ(failure_text(ActionResult{false, "OVERLOAD", "the device is at its maximum", {}}),
            "OVERLOAD: the device is at its maximum");
  EXPECT_EQ(failure_text(ActionResult{false, "OVERLOAD", "OVERLOAD from the device", {}}), "OVERLOAD from the device");
  EXPECT_EQ(failure_text(ActionResult{false, "", "", {}}), "failed");
  EXPECT_EQ(failure_text(ActionResult{false, "TIMEOUT", "", {}}), "TIMEOUT: failed");
}

}  // namespace
}  // namespace peer2mqtt
