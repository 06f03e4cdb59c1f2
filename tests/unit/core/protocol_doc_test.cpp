// Keeps docs/PROTOCOL.md, the wire specification other implementers read, from drifting away from
// the code and from docs/test-vectors.json:
// - every hex value of test-vectors.json (which crypto_vectors_test recomputes with our crypto)
//   appears verbatim in the document, and so do the base64 forms of the 32-byte handshake values
//   that its worked example puts into messages;
// - every ```json block marked as a message (the line before its fence is `<!-- message -->`)
//   decodes with homep2p::decode and is exactly what encode() writes for it, so the examples
//   show the real wire form;
// - every message type has at least one such example.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cstddef>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "homep2p/codec.hpp"
#include "homep2p/messages.hpp"

namespace homep2p {
namespace {

constexpr const char* kProtocolPath = HOMEP2P_SOURCE_DIR "/docs/PROTOCOL.md";
constexpr const char* kVectorsPath = HOMEP2P_SOURCE_DIR "/docs/test-vectors.json";
constexpr std::string_view kMessageMarker = "<!-- message -->";

std::string read_text(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot open " << path;
    return {};
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

struct JsonBlock {
  std::size_t line = 0;  // 1-based line of the opening fence
  bool message = false;  // preceded by the marker line
  std::string text;      // the lines between the fences, joined by '\n'
};

// The ```json fenced blocks of a markdown text.
std::vector<JsonBlock> json_blocks(const std::string& markdown) {
  std::vector<std::string> lines;
  std::stringstream in(markdown);
  for (std::string line; std::getline(in, line);) lines.push_back(line);

  std::vector<JsonBlock> blocks;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (trim(lines[i]) != "```json") continue;
    JsonBlock block;
    block.line = i + 1;
    block.message = i > 0 && trim(lines[i - 1]) == kMessageMarker;
    std::size_t j = i + 1;
    for (; j < lines.size() && trim(lines[j]) != "```"; ++j) {
      if (!block.text.empty()) block.text += '\n';
      block.text += lines[j];
    }
    EXPECT_LT(j, lines.size()) << "PROTOCOL.md:" << block.line << ": ```json block is never closed";
    blocks.push_back(std::move(block));
    i = j;
  }
  return blocks;
}

bool is_hex(std::string_view s) {
  if (s.empty() || s.size() % 2 != 0) return false;
  for (const char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Every hex string in the vectors, with its JSON path.
void collect_hex(const rapidjson::Value& v, const std::string& path,
                 std::vector<std::pair<std::string, std::string>>& out) {
  if (v.IsObject()) {
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      collect_hex(it->value, path + "." + it->name.GetString(), out);
    }
  } else if (v.IsArray()) {
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
      collect_hex(v[i], path + "[" + std::to_string(i) + "]", out);
    }
  } else if (v.IsString()) {
    const std::string s(v.GetString(), v.GetStringLength());
    if (is_hex(s)) out.emplace_back(path, s);
  }
}

rapidjson::Document load_vectors() {
  rapidjson::Document doc;
  const std::string text = read_text(kVectorsPath);
  doc.Parse(text.c_str(), text.size());
  EXPECT_FALSE(doc.HasParseError()) << kVectorsPath << " is not valid JSON";
  if (doc.HasParseError()) doc.SetObject();
  return doc;
}

// The wire type names of every alternative of Message.
template <std::size_t... I>
std::set<std::string> all_message_types(std::index_sequence<I...>) {
  return {std::string(message_type(Message{std::in_place_index<I>}))...};
}

TEST(ProtocolDoc, EveryHexValueOfTheTestVectorsAppearsVerbatim) {
  const std::string doc = read_text(kProtocolPath);
  const rapidjson::Document vectors = load_vectors();
  std::vector<std::pair<std::string, std::string>> values;
  collect_hex(vectors, "$", values);
  // K, reply, proof, both keys, the sealed frame and the inputs that lead to them.
  EXPECT_GE(values.size(), 15U) << "test-vectors.json has fewer hex values than expected";
  for (const auto& [path, hex] : values) {
    EXPECT_NE(doc.find(hex), std::string::npos)
        << "docs/PROTOCOL.md lacks the value of " << path << " (" << hex << ")";
  }
}

TEST(ProtocolDoc, WorkedHandshakeCarriesTheVectorsInBase64) {
  // The worked example of §12 shows the handshake messages with the vectors' challenge, nonce,
  // reply and proof; their base64 must be the vectors', not stale copies.
  const std::string doc = read_text(kProtocolPath);
  const rapidjson::Document vectors = load_vectors();
  const auto hex_at = [&](const rapidjson::Value& obj, const char* name) -> std::string {
    if (!obj.IsObject() || !obj.HasMember(name) || !obj[name].IsString()) {
      ADD_FAILURE() << "test-vectors.json lacks \"" << name << "\"";
      return {};
    }
    return obj[name].GetString();
  };
  const rapidjson::Value empty(rapidjson::kObjectType);
  const rapidjson::Value& transcript = vectors.HasMember("transcript") ? vectors["transcript"] : empty;
  const std::pair<const char*, std::string> fields[] = {
      {"challenge", hex_at(transcript, "challenge")},
      {"nonce", hex_at(transcript, "nonce")},
      {"reply", hex_at(vectors, "reply")},
      {"proof", hex_at(vectors, "proof")},
  };
  for (const auto& [name, hex] : fields) {
    auto bytes = hex_decode(hex);
    ASSERT_TRUE(bytes) << name << ": " << bytes.error().message;
    ASSERT_EQ(bytes->size(), 32U) << name;
    const std::string b64 = base64_encode(*bytes);
    EXPECT_NE(doc.find("\"" + std::string(name) + "\":\"" + b64 + "\""), std::string::npos)
        << "docs/PROTOCOL.md has no message field \"" << name << "\":\"" << b64 << "\"";
  }
}

TEST(ProtocolDoc, EveryMessageExampleDecodesAndIsWhatTheEncoderWrites) {
  const std::vector<JsonBlock> blocks = json_blocks(read_text(kProtocolPath));
  std::size_t messages = 0;
  for (const JsonBlock& block : blocks) {
    if (!block.message) continue;
    ++messages;
    const std::string_view text = trim(block.text);
    auto decoded = decode(text);
    if (!decoded) {
      ADD_FAILURE() << "PROTOCOL.md:" << block.line << ": example does not decode: "
                    << decoded.error().message << "\n  " << text;
      continue;
    }
    EXPECT_EQ(encode(*decoded), text)
        << "PROTOCOL.md:" << block.line << ": example is not in the encoder's form (field order, "
        << "omitted defaults, number format)";
  }
  EXPECT_GE(messages, 18U) << "fewer message examples than message types";
}

TEST(ProtocolDoc, EveryMessageTypeHasAnExample) {
  std::set<std::string> missing = all_message_types(std::make_index_sequence<std::variant_size_v<Message>>{});
  ASSERT_EQ(missing.size(), std::variant_size_v<Message>);
  for (const JsonBlock& block : json_blocks(read_text(kProtocolPath))) {
    if (!block.message) continue;
    if (auto decoded = decode(trim(block.text))) missing.erase(std::string(message_type(*decoded)));
  }
  for (const auto& type : missing) ADD_FAILURE() << "docs/PROTOCOL.md has no example of " << type;
}

TEST(ProtocolDoc, OnlyMarkedBlocksAreTreatedAsMessages) {
  // The block finder itself: a marker counts only on the line right before the fence.
  const std::string markdown =
      "<!-- message -->\n```json\n{\"type\":\"Ping\",\"serial\":1}\n```\n"
      "<!-- message -->\n\n```json\n{\"not\":\"a message\"}\n```\n"
      "```json\n{}\n```\n";
  const auto blocks = json_blocks(markdown);
  ASSERT_EQ(blocks.size(), 3U);
  EXPECT_TRUE(blocks[0].message);
  EXPECT_EQ(blocks[0].text, "{\"type\":\"Ping\",\"serial\":1}");
  EXPECT_EQ(blocks[0].line, 2U);
  EXPECT_FALSE(blocks[1].message);
  EXPECT_FALSE(blocks[2].message);
}

}  // namespace
}  // namespace homep2p
