// Behaviour of the crypto module: ShareKey (patent steps 4-6, made sound), the proof that makes
// authentication mutual (step 7, not in the patent), transmission keys (claim 12) and sealed
// frames. Byte-exact values are pinned separately by crypto_vectors_test.cpp.
#include "homep2p/crypto.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "homep2p/random_source.hpp"

namespace homep2p {
namespace {

Bytes bytes_of(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

Bytes pattern(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 7 + 3);
  return b;
}

Transcript sample_transcript() {
  Transcript t;
  for (std::size_t i = 0; i < 32; ++i) {
    t.challenge[i] = static_cast<std::uint8_t>(i);
    t.nonce[i] = static_cast<std::uint8_t>(0x20 + i);
  }
  t.target_id = "6f1c2a3e-8d4b-4c5a-9e7f-0a1b2c3d4e5f";
  t.initiator_id = "b2e4f6a8-1c3d-4e5f-8a7b-9c0d1e2f3a4b";
  t.user = "alice";
  return t;
}

// PBKDF2 with 10000 rounds costs milliseconds: derive the shared K once for the whole file.
const ShareKey& alice_key() {
  static const ShareKey key = derive_share_key("correct horse battery staple", "alice");
  return key;
}

// ---- ShareKey K ----

TEST(ShareKey, DerivationIsDeterministic) {
  EXPECT_EQ(derive_share_key("correct horse battery staple", "alice"), alice_key());
}

TEST(ShareKey, DiffersPerUserPasswordAndIterationCount) {
  const ShareKey other_user = derive_share_key("correct horse battery staple", "bob");
  const ShareKey other_password = derive_share_key("correct horse battery stapler", "alice");
  const ShareKey fewer_rounds = derive_share_key("correct horse battery staple", "alice", 9999);
  EXPECT_NE(other_user, alice_key());
  EXPECT_NE(other_password, alice_key());
  EXPECT_NE(fewer_rounds, alice_key());
  EXPECT_NE(other_user, other_password);
}

TEST(ShareKey, UserIsPartOfTheSaltSoEqualPasswordsGiveDifferentKeys) {
  // Two accounts with the same password must not share K (the salt is "HomeP2P ShareKey v1"||user).
  EXPECT_NE(derive_share_key("same", "alice", 1), derive_share_key("same", "alicf", 1));
}

TEST(ShareKey, EmptyPasswordIsAcceptedAndDiffersFromNonEmpty) {
  // Config validation may refuse empty passwords; the primitive itself must not crash on them.
  EXPECT_NE(derive_share_key("", "alice", 1), derive_share_key("x", "alice", 1));
}

// ---- reply (patent steps 4-6) and proof (step 7, mutual authentication) ----

TEST(Reply, ReplyAndProofDifferForTheSameTranscript) {
  const Transcript t = sample_transcript();
  EXPECT_NE(compute_reply(alice_key(), t), compute_proof(alice_key(), t));
}

TEST(Reply, ReplyAndProofAreDeterministic) {
  const Transcript t = sample_transcript();
  EXPECT_EQ(compute_reply(alice_key(), t), compute_reply(alice_key(), t));
  EXPECT_EQ(compute_proof(alice_key(), t), compute_proof(alice_key(), t));
}

TEST(Reply, OneChangedByteInAnyTranscriptFieldChangesReplyAndProof) {
  const Transcript base = sample_transcript();
  const Bytes32 reply = compute_reply(alice_key(), base);
  const Bytes32 proof = compute_proof(alice_key(), base);

  struct Mutation {
    const char* field;
    std::function<void(Transcript&)> apply;
  };
  const std::vector<Mutation> mutations = {
      {"challenge[0]", [](Transcript& t) { t.challenge[0] ^= 0x01; }},
      {"challenge[31]", [](Transcript& t) { t.challenge[31] ^= 0x80; }},
      {"nonce[0]", [](Transcript& t) { t.nonce[0] ^= 0x01; }},
      {"nonce[31]", [](Transcript& t) { t.nonce[31] ^= 0x80; }},
      {"target_id", [](Transcript& t) { t.target_id[0] = 'X'; }},
      {"initiator_id", [](Transcript& t) { t.initiator_id.back() = 'X'; }},
      {"user", [](Transcript& t) { t.user[2] = 'X'; }},
  };
  for (const auto& m : mutations) {
    Transcript t = base;
    m.apply(t);
    EXPECT_NE(compute_reply(alice_key(), t), reply) << m.field;
    EXPECT_NE(compute_proof(alice_key(), t), proof) << m.field;
  }
}

TEST(Reply, LengthPrefixesKeepFieldBoundariesApart) {
  // Without lp(), ("ab","c") and ("a","bc") would hash the same bytes.
  Transcript a = sample_transcript();
  Transcript b = sample_transcript();
  a.target_id = "ab";
  a.initiator_id = "c";
  b.target_id = "a";
  b.initiator_id = "bc";
  EXPECT_NE(compute_reply(alice_key(), a), compute_reply(alice_key(), b));
  EXPECT_NE(compute_proof(alice_key(), a), compute_proof(alice_key(), b));
}

TEST(Reply, ReplyUnderAnotherKeyDiffers) {
  // Patent step 6: the target accepts only a reply made with the user's own K.
  const Transcript t = sample_transcript();
  const ShareKey wrong = derive_share_key("wrong password", "alice", 1);
  EXPECT_NE(compute_reply(wrong, t), compute_reply(alice_key(), t));
  EXPECT_NE(compute_proof(wrong, t), compute_proof(alice_key(), t));
}

TEST(EqualConstantTime, ComparesContentsAndSizes) {
  const Bytes a = pattern(32);
  Bytes first = a;
  first[0] ^= 1;
  Bytes last = a;
  last[31] ^= 1;
  EXPECT_TRUE(equal_constant_time(a, a));
  EXPECT_TRUE(equal_constant_time(a, Bytes(a)));
  EXPECT_FALSE(equal_constant_time(a, first));
  EXPECT_FALSE(equal_constant_time(a, last));
  EXPECT_FALSE(equal_constant_time(a, Bytes(a.begin(), a.end() - 1)));  // a prefix is not equal
  EXPECT_TRUE(equal_constant_time(Bytes{}, Bytes{}));
  EXPECT_FALSE(equal_constant_time(Bytes{}, a));
}

// ---- transmission keys (claim 12) ----

TEST(TransmissionKeys, EachDirectionHasItsOwnKey) {
  const TransmissionKeys keys = derive_transmission_keys(alice_key(), sample_transcript());
  EXPECT_NE(keys.initiator_to_target, keys.target_to_initiator);
  EXPECT_NE(keys.initiator_to_target, alice_key());
  EXPECT_NE(keys.target_to_initiator, alice_key());
}

TEST(TransmissionKeys, BothSidesDeriveTheSameKeys) {
  const TransmissionKeys a = derive_transmission_keys(alice_key(), sample_transcript());
  const TransmissionKeys b = derive_transmission_keys(alice_key(), sample_transcript());
  EXPECT_EQ(a.initiator_to_target, b.initiator_to_target);
  EXPECT_EQ(a.target_to_initiator, b.target_to_initiator);
}

TEST(TransmissionKeys, FreshChallengeOrNonceGivesFreshKeys) {
  const TransmissionKeys base = derive_transmission_keys(alice_key(), sample_transcript());
  Transcript new_challenge = sample_transcript();
  new_challenge.challenge[5] ^= 0x10;
  Transcript new_nonce = sample_transcript();
  new_nonce.nonce[5] ^= 0x10;
  EXPECT_NE(derive_transmission_keys(alice_key(), new_challenge).initiator_to_target,
            base.initiator_to_target);
  EXPECT_NE(derive_transmission_keys(alice_key(), new_nonce).target_to_initiator,
            base.target_to_initiator);
}

TEST(TransmissionKeys, SwappingRolesGivesDifferentKeys) {
  // The ids are bound in role order, so A->B and B->A connections never share keys.
  Transcript swapped = sample_transcript();
  std::swap(swapped.target_id, swapped.initiator_id);
  const TransmissionKeys base = derive_transmission_keys(alice_key(), sample_transcript());
  const TransmissionKeys other = derive_transmission_keys(alice_key(), swapped);
  EXPECT_NE(other.initiator_to_target, base.initiator_to_target);
  EXPECT_NE(other.target_to_initiator, base.target_to_initiator);
}

// ---- sealed frames ----

class SealedFrame : public ::testing::Test {
 protected:
  TransmissionKeys keys = derive_transmission_keys(alice_key(), sample_transcript());
  FrameSealer sealer{keys.initiator_to_target};
  FrameOpener opener{keys.initiator_to_target};
};

TEST_F(SealedFrame, RoundTripsPlaintextsOfEverySize) {
  // 65536 - 24: the largest plaintext whose sealed frame still fits a 64 KiB frame.
  for (std::size_t size :
       {std::size_t{0}, std::size_t{1}, std::size_t{1024}, std::size_t{65536 - kSealedOverhead}}) {
    const Bytes plaintext = pattern(size);
    const Bytes sealed = sealer.seal(plaintext);
    ASSERT_EQ(sealed.size(), size + kSealedOverhead) << size;
    auto opened = opener.open(sealed);
    ASSERT_TRUE(opened.ok()) << size << ": " << opened.error().message;
    EXPECT_EQ(*opened, plaintext) << size;
  }
  EXPECT_EQ(opener.last_counter(), 4u);
}

TEST_F(SealedFrame, FirstFrameHasCounterOneAndCountersIncrease) {
  EXPECT_EQ(sealer.next_counter(), 1u);
  const Bytes first = sealer.seal(bytes_of("a"));
  const Bytes second = sealer.seal(bytes_of("a"));
  EXPECT_EQ(Bytes(first.begin(), first.begin() + 8), (Bytes{0, 0, 0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(Bytes(second.begin(), second.begin() + 8), (Bytes{0, 0, 0, 0, 0, 0, 0, 2}));
  EXPECT_EQ(sealer.next_counter(), 3u);
  // Same plaintext, different counter (so different nonce): the ciphertexts differ too.
  EXPECT_NE(Bytes(first.begin() + 8, first.end()), Bytes(second.begin() + 8, second.end()));
}

TEST_F(SealedFrame, SealerMatchesSealWithCounter) {
  const Bytes plaintext = bytes_of(R"({"type":"Ping","serial":3})");
  EXPECT_EQ(sealer.seal(plaintext), seal_with_counter(keys.initiator_to_target, 1, plaintext));
}

TEST_F(SealedFrame, PlaintextDoesNotAppearInTheFrame) {
  const Bytes plaintext = bytes_of("a secret that must not be visible on the wire");
  const Bytes sealed = sealer.seal(plaintext);
  EXPECT_EQ(std::search(sealed.begin(), sealed.end(), plaintext.begin(), plaintext.end()),
            sealed.end());
}

TEST_F(SealedFrame, WrongKeyIsAuthenticationError) {
  const Bytes sealed = sealer.seal(bytes_of("hello"));
  FrameOpener wrong(alice_key());
  auto opened = wrong.open(sealed);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, Errc::Authentication);
  EXPECT_EQ(wrong.last_counter(), 0u);
}

TEST_F(SealedFrame, FrameReflectedBackToItsSenderIsAuthenticationError) {
  // A frame the initiator sent, bounced back to it, must not open with the other direction's key.
  const Bytes sealed = sealer.seal(bytes_of("hello"));
  FrameOpener other_direction(keys.target_to_initiator);
  auto opened = other_direction.open(sealed);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, Errc::Authentication);
}

TEST_F(SealedFrame, EveryFlippedBitInCounterCiphertextOrTagIsAuthenticationError) {
  const Bytes sealed = sealer.seal(pattern(16));  // 8 counter + 16 ciphertext + 16 tag bytes
  for (std::size_t byte = 0; byte < sealed.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes forged = sealed;
      forged[byte] ^= static_cast<std::uint8_t>(1u << bit);
      auto opened = opener.open(forged);
      ASSERT_FALSE(opened.ok()) << "byte " << byte << " bit " << bit;
      EXPECT_EQ(opened.error().code, Errc::Authentication) << "byte " << byte << " bit " << bit;
    }
  }
  EXPECT_EQ(opener.last_counter(), 0u);
  EXPECT_TRUE(opener.open(sealed).ok());  // the genuine frame still opens afterwards
}

TEST_F(SealedFrame, ReplayedFrameIsReplay) {
  const Bytes sealed = sealer.seal(bytes_of("once"));
  ASSERT_TRUE(opener.open(sealed).ok());
  auto again = opener.open(sealed);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::Replay);
  EXPECT_EQ(opener.last_counter(), 1u);
}

TEST_F(SealedFrame, OlderFrameAfterANewerOneIsReplay) {
  const Bytes first = sealer.seal(bytes_of("1"));
  const Bytes second = sealer.seal(bytes_of("2"));
  ASSERT_TRUE(opener.open(second).ok());
  auto older = opener.open(first);
  ASSERT_FALSE(older.ok());
  EXPECT_EQ(older.error().code, Errc::Replay);
  EXPECT_EQ(opener.last_counter(), 2u);
}

TEST_F(SealedFrame, CounterZeroIsReplayEvenOnAFreshOpener) {
  auto opened = opener.open(seal_with_counter(keys.initiator_to_target, 0, bytes_of("x")));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, Errc::Replay);
}

TEST_F(SealedFrame, CountersMayJumpButNotGoBack) {
  ASSERT_TRUE(opener.open(seal_with_counter(keys.initiator_to_target, 1, bytes_of("a"))).ok());
  ASSERT_TRUE(opener.open(seal_with_counter(keys.initiator_to_target, 1000, bytes_of("b"))).ok());
  EXPECT_EQ(opener.last_counter(), 1000u);
  auto back = opener.open(seal_with_counter(keys.initiator_to_target, 999, bytes_of("c")));
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.error().code, Errc::Replay);
}

TEST_F(SealedFrame, ForgedFrameWithAnOldCounterIsAuthenticationNotReplay) {
  // The tag is checked before the counter: a forgery never reaches the replay check.
  const Bytes first = sealer.seal(bytes_of("first"));
  ASSERT_TRUE(opener.open(first).ok());
  Bytes forged = first;
  forged.back() ^= 0x01;
  auto opened = opener.open(forged);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, Errc::Authentication);
}

TEST_F(SealedFrame, FailedOpenDoesNotAdvanceTheCounter) {
  ASSERT_TRUE(opener.open(sealer.seal(bytes_of("1"))).ok());
  // A forged frame with a far-ahead counter must not push last_counter() past genuine frames.
  Bytes forged = seal_with_counter(keys.initiator_to_target, 50, bytes_of("x"));
  forged[kSealedCounterSize] ^= 0x01;
  EXPECT_EQ(opener.open(forged).error().code, Errc::Authentication);
  EXPECT_EQ(opener.open(Bytes(5)).error().code, Errc::InvalidFrame);
  EXPECT_EQ(opener.last_counter(), 1u);
  // A replay does not move it either.
  EXPECT_EQ(opener.open(seal_with_counter(keys.initiator_to_target, 1, bytes_of("1"))).error().code,
            Errc::Replay);
  EXPECT_EQ(opener.last_counter(), 1u);
  auto second = opener.open(sealer.seal(bytes_of("2")));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, bytes_of("2"));
  EXPECT_EQ(opener.last_counter(), 2u);
}

TEST_F(SealedFrame, FrameShorterThanCounterAndTagIsInvalidFrame) {
  const Bytes sealed = sealer.seal(bytes_of(""));  // exactly kSealedOverhead bytes
  ASSERT_EQ(sealed.size(), kSealedOverhead);
  for (std::size_t len = 0; len < kSealedOverhead; ++len) {
    auto opened = opener.open(std::span<const std::uint8_t>(sealed.data(), len));
    ASSERT_FALSE(opened.ok()) << len;
    EXPECT_EQ(opened.error().code, Errc::InvalidFrame) << len;
  }
  EXPECT_EQ(opener.last_counter(), 0u);
  EXPECT_TRUE(opener.open(sealed).ok());
}

TEST_F(SealedFrame, TruncatedLongerFrameIsAuthenticationError) {
  // Cutting bytes off a frame still >= 24 bytes long moves the tag: it no longer verifies.
  const Bytes sealed = sealer.seal(pattern(100));
  auto opened = opener.open(std::span<const std::uint8_t>(sealed.data(), sealed.size() - 1));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, Errc::Authentication);
}

TEST_F(SealedFrame, GarbageOfMinimumLengthIsAuthenticationError) {
  auto opened = opener.open(Bytes(kSealedOverhead, 0xAB));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, Errc::Authentication);
}

// ---- OS randomness (challenges and nonces) ----

TEST(OsRandomSource, FillsNonConstantBytesThatDifferBetweenCalls) {
  OsRandomSource random;
  Bytes a(64, 0);
  Bytes b(64, 0);
  random.fill(a);
  random.fill(b);
  // Probability of a false failure: 64 equal bytes is 2^-504; two equal 64-byte draws 2^-512.
  EXPECT_GT(std::set<std::uint8_t>(a.begin(), a.end()).size(), 1u);
  EXPECT_NE(a, b);
  Bytes empty;
  random.fill(empty);  // a zero-length request is a no-op, not an error
  EXPECT_TRUE(empty.empty());
}

}  // namespace
}  // namespace homep2p
