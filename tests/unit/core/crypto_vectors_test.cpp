// Recomputes every value of docs/test-vectors.json (the vectors docs/PROTOCOL.md publishes for
// other implementations) with our crypto module; any mismatch fails. This keeps the published
// bytes, the byte layouts described in the docs and the code from drifting apart.
// The intermediate inputs (reply_input, hkdf info...) are rebuilt here from the written layout,
// independently of crypto.cpp, so that the docs' description of the layout is checked too.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "homep2p/codec.hpp"
#include "homep2p/crypto.hpp"

namespace homep2p {
namespace {

constexpr const char* kVectorsPath = HOMEP2P_SOURCE_DIR "/docs/test-vectors.json";

Bytes bytes_of(std::string_view s) {
  return Bytes(s.begin(), s.end());
}
Bytes bytes_of(const Bytes32& b) {
  return Bytes(b.begin(), b.end());
}

// lp(x) = 4-byte big-endian length || x, as docs/PROTOCOL.md §6.1 spells it.
void append_lp(Bytes& out, const Bytes& x) {
  const auto n = static_cast<std::uint32_t>(x.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(n >> shift));
  out.insert(out.end(), x.begin(), x.end());
}

class CryptoVectors : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ifstream in(kVectorsPath);
    ASSERT_TRUE(in) << "cannot open " << kVectorsPath;
    std::stringstream text;
    text << in.rdbuf();
    json_text_ = text.str();
    doc_.Parse(json_text_.c_str());
    ASSERT_FALSE(doc_.HasParseError()) << kVectorsPath << " is not valid JSON";
    ASSERT_TRUE(doc_.IsObject());
  }

  const rapidjson::Value& member(const rapidjson::Value& obj, const char* name) {
    static const rapidjson::Value kNull;
    if (!obj.IsObject() || !obj.HasMember(name)) {
      ADD_FAILURE() << "test-vectors.json lacks \"" << name << "\"";
      return kNull;
    }
    return obj[name];
  }
  std::string str(const rapidjson::Value& obj, const char* name) {
    const auto& v = member(obj, name);
    if (!v.IsString()) {
      ADD_FAILURE() << "\"" << name << "\" is not a string";
      return {};
    }
    return std::string(v.GetString(), v.GetStringLength());
  }
  Bytes hex(const rapidjson::Value& obj, const char* name) {
    auto parsed = hex_decode(str(obj, name));
    if (!parsed) {
      ADD_FAILURE() << "\"" << name << "\" is not hex: " << parsed.error().message;
      return {};
    }
    return std::move(parsed).value();
  }
  Bytes32 hex32(const rapidjson::Value& obj, const char* name) {
    const Bytes b = hex(obj, name);
    Bytes32 out{};
    if (b.size() != out.size()) {
      ADD_FAILURE() << "\"" << name << "\" is not 32 bytes";
      return out;
    }
    std::copy(b.begin(), b.end(), out.begin());
    return out;
  }
  std::uint64_t uint(const rapidjson::Value& obj, const char* name) {
    const auto& v = member(obj, name);
    if (!v.IsUint64()) {
      ADD_FAILURE() << "\"" << name << "\" is not an unsigned integer";
      return 0;
    }
    return v.GetUint64();
  }

  ShareKey key() {
    const auto& sk = member(doc_, "share_key");
    return derive_share_key(str(sk, "password"), str(sk, "user"),
                            static_cast<std::uint32_t>(uint(sk, "iterations")));
  }
  Transcript transcript() {
    const auto& t = member(doc_, "transcript");
    Transcript out;
    out.challenge = hex32(t, "challenge");
    out.nonce = hex32(t, "nonce");
    out.target_id = str(t, "target_id");
    out.initiator_id = str(t, "initiator_id");
    out.user = str(t, "user");
    return out;
  }
  Bytes transcript_input(std::string_view label) {
    const Transcript t = transcript();
    Bytes out;
    append_lp(out, bytes_of(label));
    append_lp(out, bytes_of(t.challenge));
    append_lp(out, bytes_of(t.nonce));
    append_lp(out, bytes_of(t.target_id));
    append_lp(out, bytes_of(t.initiator_id));
    append_lp(out, bytes_of(t.user));
    return out;
  }
  Bytes hkdf_info(std::string_view label) {
    const Transcript t = transcript();
    Bytes out;
    append_lp(out, bytes_of(label));
    append_lp(out, bytes_of(t.target_id));
    append_lp(out, bytes_of(t.initiator_id));
    return out;
  }

  std::string json_text_;
  rapidjson::Document doc_;
};

TEST_F(CryptoVectors, ShareKeyMatches) {
  const auto& sk = member(doc_, "share_key");
  EXPECT_EQ(uint(sk, "iterations"), kPbkdf2Iterations);
  EXPECT_EQ(hex(sk, "salt"), bytes_of(std::string(kShareKeySalt) + str(sk, "user")));
  EXPECT_EQ(key(), hex32(sk, "k"));
}

TEST_F(CryptoVectors, TranscriptUserIsTheShareKeyUser) {
  EXPECT_EQ(str(member(doc_, "transcript"), "user"), str(member(doc_, "share_key"), "user"));
}

TEST_F(CryptoVectors, ReplyInputAndReplyMatch) {
  // Patent steps 4-6 (ShareKey reply), as we make them sound.
  EXPECT_EQ(hex(doc_, "reply_input"), transcript_input(kReplyLabel));
  EXPECT_EQ(compute_reply(key(), transcript()), hex32(doc_, "reply"));
}

TEST_F(CryptoVectors, ProofInputAndProofMatch) {
  // Step 7 SUCCESS carries the target's proof (mutual authentication, not in the patent).
  EXPECT_EQ(hex(doc_, "proof_input"), transcript_input(kProofLabel));
  EXPECT_EQ(compute_proof(key(), transcript()), hex32(doc_, "proof"));
}

TEST_F(CryptoVectors, TransmissionKeysMatch) {
  // Claim 12: transmission keys, one per direction.
  const Transcript t = transcript();
  Bytes salt = bytes_of(t.challenge);
  const Bytes nonce = bytes_of(t.nonce);
  salt.insert(salt.end(), nonce.begin(), nonce.end());
  EXPECT_EQ(hex(doc_, "hkdf_salt"), salt);
  EXPECT_EQ(hex(doc_, "initiator_to_target_info"), hkdf_info(kInitiatorToTargetLabel));
  EXPECT_EQ(hex(doc_, "target_to_initiator_info"), hkdf_info(kTargetToInitiatorLabel));
  const TransmissionKeys keys = derive_transmission_keys(key(), t);
  EXPECT_EQ(keys.initiator_to_target, hex32(doc_, "initiator_to_target_key"));
  EXPECT_EQ(keys.target_to_initiator, hex32(doc_, "target_to_initiator_key"));
}

TEST_F(CryptoVectors, SealedFrameMatchesAndOpens) {
  const auto& frame = member(doc_, "sealed_frame");
  const std::string which = str(frame, "key");
  ASSERT_TRUE(which == "initiator_to_target" || which == "target_to_initiator") << which;
  const Bytes32 direction_key = hex32(doc_, (which + "_key").c_str());
  const std::uint64_t counter = uint(frame, "counter");
  const Bytes plaintext = bytes_of(str(frame, "plaintext"));
  const Bytes sealed = hex(frame, "sealed");

  Bytes counter_bytes;
  for (int shift = 56; shift >= 0; shift -= 8) {
    counter_bytes.push_back(static_cast<std::uint8_t>(counter >> shift));
  }
  Bytes iv(4, 0);
  iv.insert(iv.end(), counter_bytes.begin(), counter_bytes.end());
  EXPECT_EQ(hex(frame, "aad"), counter_bytes);
  EXPECT_EQ(hex(frame, "iv"), iv);
  ASSERT_EQ(sealed.size(), plaintext.size() + kSealedOverhead);
  EXPECT_EQ(Bytes(sealed.begin(), sealed.begin() + kSealedCounterSize), counter_bytes);

  // The key in the vectors must be the one derived above, not just any key.
  const TransmissionKeys keys = derive_transmission_keys(key(), transcript());
  EXPECT_EQ(direction_key,
            which == "initiator_to_target" ? keys.initiator_to_target : keys.target_to_initiator);

  EXPECT_EQ(seal_with_counter(direction_key, counter, plaintext), sealed);
  if (counter == 1) {
    FrameSealer sealer(direction_key);
    EXPECT_EQ(sealer.seal(plaintext), sealed);
  }
  // The plaintext is a real message, so the vector shows what actually goes on the wire.
  auto message = decode(str(frame, "plaintext"));
  ASSERT_TRUE(message.ok()) << message.error().message;
  EXPECT_TRUE(std::holds_alternative<Ping>(*message));

  FrameOpener opener(direction_key);
  auto opened = opener.open(sealed);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(*opened, plaintext);
  EXPECT_EQ(opener.last_counter(), counter);
}

}  // namespace
}  // namespace homep2p
