// JSON codec (plugin/src/core/codec.cpp): round trips of every message type, the wire examples
// of docs/PROTOCOL.md, the table of bad messages in data/bad_messages.json, robustness against
// hostile input, and the base64/hex helpers.
#include "homep2p/codec.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "homep2p/framing.hpp"

namespace homep2p {
namespace {

Bytes32 bytes32(std::uint8_t seed) {
  Bytes32 b{};
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(seed * 31 + i * 7);
  return b;
}

Bytes to_bytes(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

std::string error_of(std::string_view json) {
  auto r = decode(json);
  if (r.ok()) return "<decoded ok as " + std::string(message_type(*r)) + ">";
  EXPECT_EQ(r.error().code, Errc::InvalidMessage);
  return r.error().message;
}

template <class T>
T decode_as(std::string_view json) {
  auto r = decode(json);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message) << "\n" << json;
  if (!r.ok()) return T{};
  EXPECT_TRUE(std::holds_alternative<T>(*r)) << message_type(*r);
  return std::holds_alternative<T>(*r) ? std::get<T>(*r) : T{};
}

// A filled-in sample of every message type and form; every field the codec knows is set.
std::vector<Message> sample_messages() {
  std::vector<Message> out;

  DeviceAnnounce announce;
  announce.device_id = "6f1c2a9e-3b7d-4c1e-9a55-0e2f8d4b7a10";
  announce.device_type = "urn:homep2p:device:Lamp:1";
  announce.friendly_name = "Küchenlampe";  // non-ASCII: lengths are counted in characters
  announce.address = "192.168.1.20";
  announce.port = 65535;
  announce.services = {{"light", "BinaryLight"}, {"cm", "ConnectionManager"}};
  announce.security = {true, {"ShareKey"}};
  announce.max_age = 1800;
  announce.boot_id = std::numeric_limits<std::uint64_t>::max();
  out.push_back(announce);

  DeviceAnnounce answer = announce;  // unicast answer to a search, without authentication
  answer.security = {false, {}};
  answer.services.clear();
  answer.search_id = 77;
  answer.port = 1;
  answer.max_age = 86400;
  answer.boot_id = 0;
  out.push_back(answer);

  out.push_back(DeviceSearch{12, {"urn:homep2p:device:Lamp:1", "BinaryLight", "dev-7"}, 120});
  out.push_back(DeviceSearch{0, {}, 0});
  out.push_back(DeviceByeBye{"6f1c2a9e-3b7d-4c1e-9a55-0e2f8d4b7a10", 3});

  // Patent step 1.
  ConnectRequest first;
  first.serial = 1;
  first.request_serial = 1;
  first.user = std::string(kMaxUserNameLength, 'u');
  first.device_id = "initiator-id";
  out.push_back(first);

  // Patent step 5.
  ConnectRequest second;
  second.serial = 2;
  second.request_serial = 2;
  second.nonce = bytes32(1);
  second.reply = bytes32(2);
  out.push_back(second);

  // Step 5 with the initiator's id repeated (allowed, optional).
  ConnectRequest second_with_id = second;
  second_with_id.device_id = "initiator-id";
  out.push_back(second_with_id);

  // Patent step 3: AUTHENTICATE with the ShareKey challenge.
  ConnectResponse challenge;
  challenge.serial = 1;
  challenge.response_serial = 1;
  challenge.result = ConnectResult::Authenticate;
  challenge.device_id = "target-id";
  challenge.algorithm = "ShareKey";
  challenge.challenge = bytes32(3);
  out.push_back(challenge);

  // Patent step 7: SUCCESS with the target's proof.
  ConnectResponse success;
  success.serial = 2;
  success.response_serial = 2;
  success.result = ConnectResult::Success;
  success.device_id = "target-id";
  success.proof = bytes32(4);
  out.push_back(success);

  // Step 3 without authentication, and the refusals of steps 2 and 6.
  out.push_back(ConnectResponse{1, 1, ConnectResult::Success, "target-id", {}, {}, {}});
  out.push_back(ConnectResponse{1, 1, ConnectResult::Overload, "target-id", {}, {}, {}});
  out.push_back(ConnectResponse{1, 1, ConnectResult::AccessDenied, "target-id", {}, {}, {}});
  out.push_back(ConnectResponse{2, 2, ConnectResult::AccessDenied, "target-id", {}, {}, {}});

  out.push_back(Disconnect{5, DisconnectReason::Normal});
  out.push_back(
      Disconnect{std::numeric_limits<std::uint64_t>::max(), DisconnectReason::ProtoError});
  out.push_back(Ping{9});
  out.push_back(Pong{10});

  out.push_back(ServiceSearch{3, 0, ""});
  out.push_back(ServiceSearch{3, 1, "BinaryLight"});

  ServiceDescription light;
  light.id = "light";
  light.type = "DimmableLight";
  light.actions = {
      {"SetLevel",
       {{"level", ValueType::Int, 0.0, 100.0}, {"fade", ValueType::Number, -1.5, {}}},
       false},
      {"SetName", {{"name", ValueType::String, {}, {}}, {"on", ValueType::Bool, {}, {}}}, true},
      {"Toggle", {}, false},
  };
  light.state = {{"on", true},
                 {"level", std::int64_t{-42}},
                 {"temperature", 21.0},
                 {"name", std::string("hall \"lamp\" \\ é")}};
  ServiceDescription empty_service;
  empty_service.id = "cm";
  empty_service.type = "ConnectionManager";
  out.push_back(ServiceSearchResponse{4, 1, {light, empty_service}});
  out.push_back(ServiceSearchResponse{4, 2, {}});

  out.push_back(ServiceRent{5, 2, "light", kMaxLeaseSeconds});
  out.push_back(ServiceRentResponse{6, 2, ServiceResult::Ok, "lease-1", 60, ""});
  out.push_back(ServiceRentResponse{6, 2, ServiceResult::NoService, "", 0, "no such service"});

  out.push_back(ServiceInvoke{7,
                              3,
                              "lease-1",
                              "SetLevel",
                              {{"level", std::int64_t{50}},
                               {"fade", 0.25},
                               {"big", 1e300},
                               {"whole", 3.0},
                               {"flag", false},
                               {"text", std::string("")}}});
  out.push_back(ServiceInvoke{7, 4, "lease-1", "Toggle", {}});
  out.push_back(ServiceInvokeResponse{8, 3, ServiceResult::Ok, {{"level", std::int64_t{50}}}, ""});
  out.push_back(ServiceInvokeResponse{8, 3, ServiceResult::Ok, {}, ""});
  out.push_back(ServiceInvokeResponse{8, 4, ServiceResult::BadArguments, {}, "level out of range"});
  out.push_back(ServiceRelease{9, 5, "lease-1"});
  out.push_back(ServiceEvent{10, "lease-1", "light", {{"on", false}, {"level", std::int64_t{0}}}});

  Configure configure;
  configure.serial = 11;
  configure.request_id = 6;
  configure.accounts = {{"alice", "s3cret", AccountRole::Admin, false},
                        {"bob", std::nullopt, AccountRole::User, true},
                        {"carol", std::nullopt, AccountRole::Admin, false}};
  configure.max_connections = 8;
  configure.auth_required = false;
  out.push_back(configure);
  out.push_back(Configure{11, 7, {}, std::nullopt, std::nullopt});
  out.push_back(ConfigureResponse{12, 6, ServiceResult::Ok, ""});
  out.push_back(ConfigureResponse{12, 7, ServiceResult::Denied, "admin role required"});
  return out;
}

TEST(Codec, SamplesCoverEveryMessageType) {
  std::set<std::size_t> kinds;
  for (const auto& m : sample_messages()) kinds.insert(m.index());
  EXPECT_EQ(kinds.size(), std::variant_size_v<Message>);
}

TEST(Codec, EveryMessageTypeRoundTrips) {
  for (const auto& message : sample_messages()) {
    const std::string json = encode(message);
    auto decoded = decode(json);
    ASSERT_TRUE(decoded.ok()) << decoded.error().message << "\n" << json;
    EXPECT_TRUE(*decoded == message) << json;
    EXPECT_EQ(encode(*decoded), json);
  }
}

TEST(Codec, EncodedMessageStartsWithItsType) {
  for (const auto& message : sample_messages()) {
    const std::string json = encode(message);
    EXPECT_EQ(json.rfind("{\"type\":\"" + std::string(message_type(message)) + "\"", 0), 0u)
        << json;
  }
}

// Wire examples in the form docs/PROTOCOL.md shows them, as another implementation would send them
// (protocol_doc_test checks the document's own examples).
TEST(Codec, ConnectRequestStep1WireExampleDecodes) {
  auto m = decode_as<ConnectRequest>(
      R"({"type":"ConnectRequest","serial":1,"request_serial":1,"user":"alice",)"
      R"("device_id":"6f1c2a9e-3b7d-4c1e-9a55-0e2f8d4b7a10"})");
  EXPECT_EQ(m.serial, 1u);
  EXPECT_EQ(m.request_serial, 1u);
  EXPECT_EQ(m.user, "alice");
  EXPECT_EQ(m.device_id, "6f1c2a9e-3b7d-4c1e-9a55-0e2f8d4b7a10");
  EXPECT_FALSE(m.nonce);
  EXPECT_FALSE(m.reply);
}

TEST(Codec, ConnectResponseAuthenticateWireExampleDecodes) {
  auto m = decode_as<ConnectResponse>(
      R"({"type":"ConnectResponse","serial":1,"response_serial":1,"result":"AUTHENTICATE",)"
      R"("device_id":"target","algorithm":"ShareKey",)"
      R"("challenge":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="})");
  EXPECT_EQ(m.result, ConnectResult::Authenticate);
  ASSERT_TRUE(m.challenge);
  for (std::size_t i = 0; i < 32; ++i) EXPECT_EQ((*m.challenge)[i], i);
  EXPECT_EQ(m.algorithm, std::optional<std::string>("ShareKey"));
}

TEST(Codec, ConnectStep5And7WireExamplesDecode) {
  const std::string b64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
  auto request = decode_as<ConnectRequest>(
      R"({"type":"ConnectRequest","serial":2,"request_serial":2,"nonce":")" + b64 +
      R"(","reply":")" + b64 + R"("})");
  EXPECT_EQ(request.request_serial, 2u);
  EXPECT_TRUE(request.nonce && request.reply);
  EXPECT_TRUE(request.user.empty());

  auto response = decode_as<ConnectResponse>(
      R"({"type":"ConnectResponse","serial":2,"response_serial":2,"result":"SUCCESS",)"
      R"("device_id":"target","proof":")" +
      b64 + R"("})");
  EXPECT_EQ(response.result, ConnectResult::Success);
  EXPECT_TRUE(response.proof);
}

TEST(Codec, DisconnectWireExampleDecodes) {
  auto m = decode_as<Disconnect>(R"({"type":"Disconnect","serial":5,"reason":"NORMAL"})");
  EXPECT_EQ(m.serial, 5u);
  EXPECT_EQ(m.reason, DisconnectReason::Normal);
}

TEST(Codec, DeviceSearchConditionsMayBeOmitted) {
  auto m = decode_as<DeviceSearch>(R"({"type":"DeviceSearch","search_id":4,"mx":3})");
  EXPECT_EQ(m.conditions, SearchConditions{});
  auto partial = decode_as<DeviceSearch>(
      R"({"type":"DeviceSearch","search_id":4,)"
      R"("conditions":{"service_type":"BinaryLight"},"mx":0})");
  EXPECT_EQ(partial.conditions.service_type, "BinaryLight");
  EXPECT_TRUE(partial.conditions.device_type.empty());
}

TEST(Codec, UnknownFieldsAreIgnored) {
  auto m = decode_as<Ping>(R"({"type":"Ping","serial":3,"future":{"nested":[1,2,{"x":null}]}})");
  EXPECT_EQ(m.serial, 3u);
}

TEST(Codec, FieldOrderAndWhitespaceDoNotMatter) {
  auto m = decode_as<Disconnect>(
      " \n{ \"reason\" : \"PROTOERROR\",\t\"serial\":7, \"type\":\"Disconnect\" }\r\n");
  EXPECT_EQ(m.serial, 7u);
  EXPECT_EQ(m.reason, DisconnectReason::ProtoError);
}

TEST(Codec, IntegralDoubleIsWrittenSoItStaysADouble) {
  const Message m = ServiceEvent{1, "l", "s", {{"t", 21.0}}};
  const std::string json = encode(m);
  EXPECT_NE(json.find("21.0"), std::string::npos) << json;
  auto back = decode_as<ServiceEvent>(json);
  ASSERT_EQ(back.variables.count("t"), 1u);
  EXPECT_TRUE(std::holds_alternative<double>(back.variables["t"]));
}

TEST(Codec, JsonValuesMapToTheValueVariant) {
  auto m = decode_as<ServiceInvoke>(
      R"({"type":"ServiceInvoke","serial":1,"request_id":0,"lease_id":"l","action":"a",)"
      R"("arguments":{"b":true,"i":-7,"n":2.5,"e":1e3,"s":"x","beyond":9223372036854775808,)"
      R"("max":9223372036854775807,"min":-9223372036854775808}})");
  auto& a = m.arguments;
  EXPECT_EQ(a["b"], Value{true});
  EXPECT_EQ(a["i"], Value{std::int64_t{-7}});
  EXPECT_EQ(a["n"], Value{2.5});
  EXPECT_EQ(a["e"], Value{1000.0});  // an exponent makes it a number, not an int
  EXPECT_EQ(a["s"], Value{std::string("x")});
  EXPECT_TRUE(std::holds_alternative<double>(a["beyond"]));  // above int64: a double
  EXPECT_EQ(a["max"], Value{std::numeric_limits<std::int64_t>::max()});
  EXPECT_EQ(a["min"], Value{std::numeric_limits<std::int64_t>::min()});
}

TEST(Codec, DoublesRoundTripExactly) {
  const double samples[] = {0.1, -0.0, 1.0 / 3.0, 5e-324, 1.7976931348623157e308, 123456789.125};
  for (double d : samples) {
    auto back = decode_as<ServiceEvent>(encode(ServiceEvent{1, "l", "s", {{"v", d}}}));
    ASSERT_TRUE(std::holds_alternative<double>(back.variables["v"]));
    EXPECT_EQ(std::get<double>(back.variables["v"]), d);
  }
}

TEST(Codec, NonFiniteDoubleEncodesAsValidJsonThatDecodeRejects) {
  const std::string json =
      encode(ServiceEvent{1, "l", "s", {{"v", std::numeric_limits<double>::quiet_NaN()}}});
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  EXPECT_FALSE(doc.HasParseError()) << json;
  EXPECT_FALSE(decode(json).ok());
}

TEST(Codec, UserNameLengthIsCountedInCharactersNotBytes) {
  std::string user;
  for (std::size_t i = 0; i < kMaxUserNameLength; ++i) user += "é";  // 64 bytes, 32 characters
  const std::string json = R"({"type":"ConnectRequest","serial":1,"request_serial":1,"user":")" +
                           user + R"(","device_id":"d"})";
  EXPECT_EQ(decode_as<ConnectRequest>(json).user, user);
  const std::string too_long =
      R"({"type":"ConnectRequest","serial":1,"request_serial":1,"user":")" + user + "é" +
      R"(","device_id":"d"})";
  EXPECT_NE(error_of(too_long).find("ConnectRequest.user: length must be 1..32"),
            std::string::npos);
}

struct BadCase {
  std::string name;
  std::string input;
  std::string error_contains;
};

std::vector<BadCase> load_bad_cases() {
  std::ifstream file(std::string(HOMEP2P_SOURCE_DIR) + "/tests/unit/core/data/bad_messages.json",
                     std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  rapidjson::Document doc;
  doc.Parse(text.str().c_str());
  std::vector<BadCase> out;
  if (doc.HasParseError() || !doc.IsArray()) return out;
  for (const auto& entry : doc.GetArray()) {
    if (!entry.IsObject() || !entry.HasMember("name") || !entry.HasMember("input") ||
        !entry.HasMember("error_contains") || !entry["name"].IsString() ||
        !entry["input"].IsString() || !entry["error_contains"].IsString()) {
      out.push_back({"<malformed table entry>", "", "<malformed table entry>"});
      continue;
    }
    out.push_back({entry["name"].GetString(),
                   std::string(entry["input"].GetString(), entry["input"].GetStringLength()),
                   entry["error_contains"].GetString()});
  }
  return out;
}

TEST(Codec, BadMessagesTableYieldsTheExpectedErrors) {
  const auto cases = load_bad_cases();
  ASSERT_GE(cases.size(), 30u) << "data/bad_messages.json missing or too small";
  std::set<std::string> names;
  for (const auto& c : cases) {
    EXPECT_TRUE(names.insert(c.name).second) << "duplicate case name " << c.name;
    const std::string error = error_of(c.input);
    EXPECT_NE(error.find(c.error_contains), std::string::npos)
        << "case: " << c.name << "\ninput: " << c.input
        << "\nexpected error containing: " << c.error_contains << "\ngot: " << error;
  }
}

// Raw bytes that a JSON text file cannot carry.
TEST(Codec, InvalidUtf8IsRejected) {
  const std::string prefix = R"({"type":"ConnectRequest","serial":1,"request_serial":1,"user":")";
  const std::string suffix = R"(","device_id":"d"})";
  for (const std::string& bad :
       {std::string("\xff"), std::string("a\xc3"), std::string("\xc0\xaf"),
        std::string("\xed\xa0\x80"), std::string("\xf8\x88\x80\x80\x80")}) {
    EXPECT_NE(error_of(prefix + bad + suffix).find("invalid JSON"), std::string::npos);
  }
  // In an ignored field too: the whole message must be UTF-8.
  EXPECT_NE(error_of("{\"type\":\"Ping\",\"serial\":1,\"x\":\"\xfe\"}").find("invalid JSON"),
            std::string::npos);
}

TEST(Codec, NulByteInInputIsRejected) {
  const std::string with_nul("{\"type\":\"Ping\",\"serial\":1}\0garbage", 34);
  EXPECT_NE(error_of(with_nul).find("NUL"), std::string::npos);
  const std::string nul_in_string("{\"type\":\"Ping\",\"serial\":1,\"x\":\"a\0b\"}", 35);
  EXPECT_FALSE(decode(nul_in_string).ok());
}

TEST(Codec, EscapedNulInAValueStringRoundTrips) {
  const Message m = ServiceEvent{1, "l", "s", {{"v", std::string("a\0b", 3)}}};
  auto back = decode_as<ServiceEvent>(encode(m));
  EXPECT_EQ(back.variables["v"], (Value{std::string("a\0b", 3)}));
}

std::string repeated(std::string_view item, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    if (i != 0) out += ",";
    out += item;
  }
  return out;
}

TEST(Codec, ListsUpToTheLimitAreAcceptedAndLongerOnesRejected) {
  auto announce = [](std::size_t services) {
    return R"({"type":"DeviceAnnounce","device_id":"d","device_type":"t","friendly_name":"f",)"
           R"("address":"::1","port":1,"services":[)" +
           repeated(R"({"id":"s","type":"T"})", services) +
           R"(],"security":{"auth_required":false,"algorithms":[]},"max_age":1,"boot_id":1})";
  };
  EXPECT_EQ(decode_as<DeviceAnnounce>(announce(kMaxListLength)).services.size(), kMaxListLength);
  EXPECT_NE(error_of(announce(kMaxListLength + 1)).find("DeviceAnnounce.services: more than 256"),
            std::string::npos);

  const std::string algorithms =
      R"({"type":"DeviceAnnounce","device_id":"d","device_type":"t","friendly_name":"f",)"
      R"("address":"::1","port":1,"services":[],"security":{"auth_required":true,"algorithms":[)" +
      repeated("\"ShareKey\"", kMaxListLength + 1) + R"(]},"max_age":1,"boot_id":1})";
  EXPECT_NE(error_of(algorithms).find("security.algorithms: more than 256"), std::string::npos);

  std::string arguments;
  for (std::size_t i = 0; i <= kMaxListLength; ++i) {
    arguments += (i ? ",\"a" : "\"a") + std::to_string(i) + "\":1";
  }
  EXPECT_NE(error_of(R"({"type":"ServiceInvoke","serial":1,"request_id":0,"lease_id":"l",)"
                     R"("action":"a","arguments":{)" +
                     arguments + "}}")
                .find("ServiceInvoke.arguments: more than 256"),
            std::string::npos);

  EXPECT_NE(error_of(R"({"type":"Configure","serial":1,"request_id":0,"accounts":[)" +
                     repeated(R"({"user":"u","remove":true})", kMaxListLength + 1) + "]}")
                .find("Configure.accounts: more than 256"),
            std::string::npos);
}

TEST(Codec, DeeplyNestedInputFailsWithoutExhaustingTheStack) {
  // 60000 levels: a recursive parser would overflow the stack long before this.
  const std::string deep_array(60000, '[');
  EXPECT_FALSE(decode(deep_array).ok());
  std::string deep_field = R"({"type":"Ping","serial":1,"x":)";
  deep_field += std::string(30000, '[') + std::string(30000, ']') + "}";
  ASSERT_LE(deep_field.size(), kMaxFrameSize);
  // Well-formed and an ignored field: accepted, proving nothing recursed over it.
  EXPECT_TRUE(decode(deep_field).ok());
}

TEST(Codec, InputLargerThanAFrameIsRejected) {
  std::string big = R"({"type":"Ping","serial":1,"pad":")";
  big += std::string(kMaxFrameSize, 'x') + "\"}";
  EXPECT_NE(error_of(big).find("larger than 65536 bytes"), std::string::npos);
}

TEST(Codec, MutatedMessagesNeverCrashAndDecodedOnesReencodeStably) {
  // Every truncation and a few thousand byte mutations of valid messages: decode must return a
  // value or an error, and whatever it accepts must survive encode/decode unchanged.
  std::mt19937 rng(20240611);
  const std::string alphabet = "{}[]\",:0123456789-+.eE \\tnulfaseyABC=/\x01\x7f\xc3\xff";
  std::size_t accepted = 0;
  for (const auto& message : sample_messages()) {
    const std::string json = encode(message);
    std::vector<std::string> inputs;
    for (std::size_t cut = 0; cut < json.size(); ++cut) inputs.push_back(json.substr(0, cut));
    for (int i = 0; i < 200; ++i) {
      std::string mutated = json;
      const int edits = 1 + static_cast<int>(rng() % 3);
      for (int e = 0; e < edits; ++e) {
        const std::size_t pos = rng() % mutated.size();
        const char c = alphabet[rng() % alphabet.size()];
        switch (rng() % 3) {
          case 0:
            mutated[pos] = c;
            break;
          case 1:
            mutated.insert(mutated.begin() + static_cast<std::ptrdiff_t>(pos), c);
            break;
          default:
            mutated.erase(pos, 1);
            break;
        }
      }
      inputs.push_back(std::move(mutated));
    }
    for (const auto& input : inputs) {
      auto r = decode(input);
      if (!r.ok()) {
        EXPECT_EQ(r.error().code, Errc::InvalidMessage);
        EXPECT_FALSE(r.error().message.empty());
        continue;
      }
      ++accepted;
      auto again = decode(encode(*r));
      ASSERT_TRUE(again.ok()) << again.error().message << "\nfrom: " << input;
      EXPECT_TRUE(*again == *r) << input;
    }
  }
  EXPECT_GT(accepted, 0u);  // some mutations (e.g. in string contents) stay valid
}

// ---- base64 (RFC 4648 test vectors) and hex ----

TEST(Base64, EncodesRfc4648Vectors) {
  EXPECT_EQ(base64_encode(Bytes{}), "");
  EXPECT_EQ(base64_encode(to_bytes("f")), "Zg==");
  EXPECT_EQ(base64_encode(to_bytes("fo")), "Zm8=");
  EXPECT_EQ(base64_encode(to_bytes("foo")), "Zm9v");
  EXPECT_EQ(base64_encode(to_bytes("foob")), "Zm9vYg==");
  EXPECT_EQ(base64_encode(to_bytes("fooba")), "Zm9vYmE=");
  EXPECT_EQ(base64_encode(to_bytes("foobar")), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(Bytes{0xfb, 0xff}), "+/8=");
}

TEST(Base64, DecodesRfc4648VectorsAndAccountsForPadding) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"Zg==", "f"},
                                                         {"Zm8=", "fo"},
                                                         {"Zm9v", "foo"},
                                                         {"Zm9vYg==", "foob"},
                                                         {"Zm9vYmE=", "fooba"},
                                                         {"Zm9vYmFy", "foobar"}};
  for (const auto& [text, plain] : vectors) {
    auto r = base64_decode(text);
    ASSERT_TRUE(r.ok()) << text;
    EXPECT_EQ(*r, to_bytes(plain)) << text;
  }
  auto r = base64_decode("+/8=");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (Bytes{0xfb, 0xff}));
}

TEST(Base64, ThirtyTwoBytesAre44CharactersAndRoundTrip) {
  const Bytes32 b = bytes32(9);
  const std::string text = base64_encode(b);
  EXPECT_EQ(text.size(), 44u);
  EXPECT_EQ(text.back(), '=');
  auto back = base64_decode(text);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, Bytes(b.begin(), b.end()));
}

TEST(Base64, RejectsBadLengthCharactersPaddingAndWhitespace) {
  for (const char* bad :
       {"Z", "Zg", "Zg=", "Zm9vY", "Zm9v!A==", "Zm9v\nZg==", " Zm9v", "Zm9v ", "Zg==Zm9v",
        "=Zg=", "Z===", "====", "Zm-v", "Zm_v", "Zh==", "Zm9=", "Zg=A"}) {
    auto r = base64_decode(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.error().code, Errc::InvalidMessage);
    }
  }
}

TEST(Hex, EncodesLowercase) {
  EXPECT_EQ(hex_encode(Bytes{}), "");
  EXPECT_EQ(hex_encode(Bytes{0x00, 0x0f, 0xa5, 0xff}), "000fa5ff");
}

TEST(Hex, DecodesBothCasesAndRoundTrips) {
  auto r = hex_decode("000fA5fF");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (Bytes{0x00, 0x0f, 0xa5, 0xff}));
  Bytes all(256);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::uint8_t>(i);
  auto back = hex_decode(hex_encode(all));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, all);
  auto empty = hex_decode("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(Hex, RejectsOddLengthAndNonHexCharacters) {
  for (const char* bad : {"0", "abc", "0g", "zz", " 00", "0x00", "00-1"}) {
    EXPECT_FALSE(hex_decode(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace homep2p
