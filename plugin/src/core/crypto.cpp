// ShareKey, reply/proof, transmission keys and sealed frames on OpenSSL 3 EVP (EVP_KDF, EVP_MAC,
// EVP_CIPHER). The byte layouts are at the top of homep2p/crypto.hpp and in docs/PROTOCOL.md;
// docs/test-vectors.json pins them (tests/unit/core/crypto_vectors_test.cpp).
#include "homep2p/crypto.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cstdlib>
#include <limits>
#include <memory>
#include <string>

namespace homep2p {
namespace {

// ---- RAII for every OpenSSL object ----

struct KdfDeleter {
  void operator()(EVP_KDF* p) const { EVP_KDF_free(p); }
};
struct KdfCtxDeleter {
  void operator()(EVP_KDF_CTX* p) const { EVP_KDF_CTX_free(p); }
};
struct MacDeleter {
  void operator()(EVP_MAC* p) const { EVP_MAC_free(p); }
};
struct MacCtxDeleter {
  void operator()(EVP_MAC_CTX* p) const { EVP_MAC_CTX_free(p); }
};
struct CipherDeleter {
  void operator()(EVP_CIPHER* p) const { EVP_CIPHER_free(p); }
};
struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
};
using KdfPtr = std::unique_ptr<EVP_KDF, KdfDeleter>;
using KdfCtxPtr = std::unique_ptr<EVP_KDF_CTX, KdfCtxDeleter>;
using MacPtr = std::unique_ptr<EVP_MAC, MacDeleter>;
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, MacCtxDeleter>;
using CipherPtr = std::unique_ptr<EVP_CIPHER, CipherDeleter>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

// OpenSSL failing on the well-formed arguments below means the library itself is unusable
// (no default provider, out of memory). The value-returning functions of crypto.hpp have no
// error channel, and every value they could return instead would be worse than stopping: a
// zero or partial key, reply or proof could be matched by an attacker, and a frame sealed
// without a fresh counter would reuse a GCM nonce. No input a peer sends can get here.
[[noreturn]] void fatal_crypto_failure() {
  std::abort();
}

void check(int openssl_rc) {
  if (openssl_rc != 1) fatal_crypto_failure();
}

// OSSL_PARAM wants non-const pointers even for inputs it only reads.
void* param_ptr(const void* p) {
  return const_cast<void*>(p);
}
char* param_str(std::string_view s) {
  return const_cast<char*>(s.data());
}

// A non-null pointer for zero-length inputs (an empty password): some OpenSSL paths treat a
// null octet string as "parameter not set" rather than as empty.
constexpr std::uint8_t kEmpty[1] = {0};
const void* data_or_empty(const void* p, std::size_t n) {
  return n == 0 ? kEmpty : p;
}

// lp(x): 4-byte big-endian length of x, then x. Every field is bounded far below 2^32 (ids and
// names by kMaxNameLength, nothing by more than a 64 KiB frame), so a longer one is a caller bug.
void append_lp(Bytes& out, std::span<const std::uint8_t> x) {
  if (x.size() > std::numeric_limits<std::uint32_t>::max()) fatal_crypto_failure();
  const auto n = static_cast<std::uint32_t>(x.size());
  out.push_back(static_cast<std::uint8_t>(n >> 24));
  out.push_back(static_cast<std::uint8_t>(n >> 16));
  out.push_back(static_cast<std::uint8_t>(n >> 8));
  out.push_back(static_cast<std::uint8_t>(n));
  out.insert(out.end(), x.begin(), x.end());
}
void append_lp(Bytes& out, std::string_view x) {
  append_lp(out, std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(x.data()),
                                               x.size()));
}

// T(label) = lp(label) || lp(challenge) || lp(nonce) || lp(target id) || lp(initiator id)
//            || lp(user)
Bytes transcript_bytes(std::string_view label, const Transcript& t) {
  Bytes out;
  out.reserve(std::size_t{6} * 4 + label.size() + 64 + t.target_id.size() + t.initiator_id.size() +
              t.user.size());
  append_lp(out, label);
  append_lp(out, t.challenge);
  append_lp(out, t.nonce);
  append_lp(out, t.target_id);
  append_lp(out, t.initiator_id);
  append_lp(out, t.user);
  return out;
}

Bytes32 hmac_sha256(const Bytes32& key, std::span<const std::uint8_t> data) {
  MacPtr mac(EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr));
  if (!mac) fatal_crypto_failure();
  MacCtxPtr ctx(EVP_MAC_CTX_new(mac.get()));
  if (!ctx) fatal_crypto_failure();
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, param_str("SHA256"), 0),
      OSSL_PARAM_construct_end(),
  };
  check(EVP_MAC_init(ctx.get(), key.data(), key.size(), params));
  check(EVP_MAC_update(ctx.get(), data.data(), data.size()));
  Bytes32 out{};
  std::size_t out_len = 0;
  check(EVP_MAC_final(ctx.get(), out.data(), &out_len, out.size()));
  if (out_len != out.size()) fatal_crypto_failure();
  return out;
}

Bytes32 kdf_derive(const char* algorithm, OSSL_PARAM* params) {
  KdfPtr kdf(EVP_KDF_fetch(nullptr, algorithm, nullptr));
  if (!kdf) fatal_crypto_failure();
  KdfCtxPtr ctx(EVP_KDF_CTX_new(kdf.get()));
  if (!ctx) fatal_crypto_failure();
  Bytes32 out{};
  check(EVP_KDF_derive(ctx.get(), out.data(), out.size(), params));
  return out;
}

// keys: HKDF-SHA256(K, salt = challenge || nonce, info): the info of one direction's key is
//   lp(label) || lp(target id) || lp(initiator id).
Bytes direction_info(const Transcript& t, std::string_view label) {
  Bytes info;
  append_lp(info, label);
  append_lp(info, t.target_id);
  append_lp(info, t.initiator_id);
  return info;
}

// ---- AES-256-GCM sealed frames ----

constexpr std::size_t kGcmIvSize = 12;

void put_be64(std::uint8_t* out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
}
std::uint64_t get_be64(const std::uint8_t* in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | in[i];
  return v;
}

// IV = 4 zero bytes || the 8 counter bytes: unique per (key, counter), and each key is used
// for one direction of one connection only.
std::array<std::uint8_t, kGcmIvSize> make_iv(const std::uint8_t* counter_bytes) {
  std::array<std::uint8_t, kGcmIvSize> iv{};
  std::copy_n(counter_bytes, kSealedCounterSize, iv.begin() + 4);
  return iv;
}

CipherPtr fetch_aes_256_gcm() {
  return CipherPtr(EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr));
}

// EVP_*Update takes an int length; frames are at most 64 KiB, but never truncate silently.
constexpr std::size_t kMaxUpdateChunk = 1u << 30;

}  // namespace

ShareKey derive_share_key(std::string_view password, std::string_view user,
                          std::uint32_t iterations) {
  // PBKDF2 needs at least one iteration; 0 can only come from a caller bug (configs are
  // validated), and returning a weak or arbitrary key instead would be silent.
  assert(iterations >= 1);
  if (iterations == 0) fatal_crypto_failure();
  std::string salt(kShareKeySalt);
  salt.append(user);
  // pkcs5 = 1 turns off the SP 800-132 lower-bound checks: the ShareKey salt, key length and
  // iteration count are fixed by the protocol (and tests use fewer iterations), not by FIPS.
  int pkcs5 = 1;
  std::uint64_t iter = iterations;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, param_str("SHA256"), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
                                        param_ptr(data_or_empty(password.data(), password.size())),
                                        password.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, param_ptr(salt.data()), salt.size()),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_ITER, &iter),
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_PKCS5, &pkcs5),
      OSSL_PARAM_construct_end(),
  };
  return kdf_derive(OSSL_KDF_NAME_PBKDF2, params);
}

Bytes32 compute_reply(const ShareKey& key, const Transcript& t) {
  return hmac_sha256(key, transcript_bytes(kReplyLabel, t));
}

Bytes32 compute_proof(const ShareKey& key, const Transcript& t) {
  return hmac_sha256(key, transcript_bytes(kProofLabel, t));
}

bool equal_constant_time(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  // The sizes are public (both are 32-byte fields on the wire); only the contents are secret.
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

TransmissionKeys derive_transmission_keys(const ShareKey& key, const Transcript& t) {
  // HKDF(K, salt, info) = Expand(Extract(salt, K), info) (RFC 5869). Both directions share K and
  // the salt: one Extract, then one Expand per direction, on one context (the digest is set, and
  // fetched, once). The keys are the same bytes as two full HKDF derivations (test vectors).
  KdfPtr kdf(EVP_KDF_fetch(nullptr, OSSL_KDF_NAME_HKDF, nullptr));
  if (!kdf) fatal_crypto_failure();
  KdfCtxPtr ctx(EVP_KDF_CTX_new(kdf.get()));
  if (!ctx) fatal_crypto_failure();
  Bytes salt(t.challenge.begin(), t.challenge.end());
  salt.insert(salt.end(), t.nonce.begin(), t.nonce.end());
  int mode = EVP_KDF_HKDF_MODE_EXTRACT_ONLY;
  const OSSL_PARAM extract[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, param_str("SHA256"), 0),
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, param_ptr(key.data()), key.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, param_ptr(salt.data()), salt.size()),
      OSSL_PARAM_construct_end(),
  };
  Bytes32 prk{};
  check(EVP_KDF_derive(ctx.get(), prk.data(), prk.size(), extract));

  TransmissionKeys keys;
  const auto expand = [&](std::string_view label, Bytes32& out) {
    const Bytes info = direction_info(t, label);
    int expand_mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &expand_mode),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, prk.data(), prk.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, param_ptr(info.data()), info.size()),
        OSSL_PARAM_construct_end(),
    };
    check(EVP_KDF_derive(ctx.get(), out.data(), out.size(), params));
  };
  expand(kInitiatorToTargetLabel, keys.initiator_to_target);
  expand(kTargetToInitiatorLabel, keys.target_to_initiator);
  OPENSSL_cleanse(prk.data(), prk.size());
  return keys;
}

Bytes seal_with_counter(const Bytes32& key, std::uint64_t counter,
                        std::span<const std::uint8_t> plaintext) {
  Bytes out(kSealedCounterSize + plaintext.size() + kSealedTagSize);
  put_be64(out.data(), counter);
  const auto iv = make_iv(out.data());

  CipherPtr cipher = fetch_aes_256_gcm();
  if (!cipher) fatal_crypto_failure();
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) fatal_crypto_failure();
  // 12 bytes is the GCM default IV length, so no OSSL_CIPHER_PARAM_IVLEN is needed.
  check(EVP_EncryptInit_ex2(ctx.get(), cipher.get(), key.data(), iv.data(), nullptr));
  int len = 0;
  check(EVP_EncryptUpdate(ctx.get(), nullptr, &len, out.data(), kSealedCounterSize));  // AAD
  std::size_t written = kSealedCounterSize;
  for (std::size_t done = 0; done < plaintext.size();) {
    const std::size_t chunk = std::min(plaintext.size() - done, kMaxUpdateChunk);
    check(EVP_EncryptUpdate(ctx.get(), out.data() + written, &len, plaintext.data() + done,
                            static_cast<int>(chunk)));
    written += static_cast<std::size_t>(len);
    done += chunk;
  }
  check(EVP_EncryptFinal_ex(ctx.get(), out.data() + written, &len));
  written += static_cast<std::size_t>(len);
  if (written != kSealedCounterSize + plaintext.size()) fatal_crypto_failure();

  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, out.data() + written,
                                        kSealedTagSize),
      OSSL_PARAM_construct_end(),
  };
  check(EVP_CIPHER_CTX_get_params(ctx.get(), params));
  return out;
}

Bytes FrameSealer::seal(std::span<const std::uint8_t> plaintext) {
  // Unreachable in practice: 2^64 - 1 frames at a billion frames a second take 584 years. If it
  // were reached, wrapping to 0 would reuse a GCM nonce under the same key, which gives away the
  // authentication key and the XOR of the plaintexts. Stopping is the only safe choice.
  assert(counter_ < std::numeric_limits<std::uint64_t>::max());
  if (counter_ == std::numeric_limits<std::uint64_t>::max()) fatal_crypto_failure();
  ++counter_;
  return seal_with_counter(key_, counter_, plaintext);
}

Result<Bytes> FrameOpener::open(std::span<const std::uint8_t> sealed) {
  if (sealed.size() < kSealedOverhead) {
    return make_error(Errc::InvalidFrame, "sealed frame shorter than counter and tag (24 bytes)");
  }
  const std::uint8_t* counter_bytes = sealed.data();
  const std::size_t cipher_len = sealed.size() - kSealedOverhead;
  const std::uint8_t* ciphertext = sealed.data() + kSealedCounterSize;
  const std::uint8_t* tag = ciphertext + cipher_len;
  const auto iv = make_iv(counter_bytes);

  CipherPtr cipher = fetch_aes_256_gcm();
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!cipher || !ctx) return make_error(Errc::Crypto, "cannot create AES-256-GCM context");
  if (EVP_DecryptInit_ex2(ctx.get(), cipher.get(), key_.data(), iv.data(), nullptr) != 1) {
    return make_error(Errc::Crypto, "AES-256-GCM decrypt init failed");
  }
  int len = 0;
  if (EVP_DecryptUpdate(ctx.get(), nullptr, &len, counter_bytes, kSealedCounterSize) != 1) {
    return make_error(Errc::Crypto, "AES-256-GCM AAD failed");
  }
  Bytes plaintext(cipher_len);
  std::size_t written = 0;
  for (std::size_t done = 0; done < cipher_len;) {
    const std::size_t chunk = std::min(cipher_len - done, kMaxUpdateChunk);
    if (EVP_DecryptUpdate(ctx.get(), plaintext.data() + written, &len, ciphertext + done,
                          static_cast<int>(chunk)) != 1) {
      return make_error(Errc::Crypto, "AES-256-GCM decrypt failed");
    }
    written += static_cast<std::size_t>(len);
    done += chunk;
  }
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, param_ptr(tag), kSealedTagSize),
      OSSL_PARAM_construct_end(),
  };
  if (EVP_CIPHER_CTX_set_params(ctx.get(), params) != 1) {
    return make_error(Errc::Crypto, "AES-256-GCM set tag failed");
  }
  // The tag is checked first, and the counter only after it: the counter is covered by the tag
  // (as AAD and IV), so a forged frame is Authentication whatever its counter says, and only a
  // genuine frame seen before (or older than the last one) is Replay.
  if (EVP_DecryptFinal_ex(ctx.get(), plaintext.data() + written, &len) != 1) {
    // GCM has produced unauthenticated plaintext; wipe it rather than leave it in freed memory.
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    return make_error(Errc::Authentication, "sealed frame tag does not verify");
  }
  const std::uint64_t counter = get_be64(counter_bytes);
  if (counter <= last_) {
    return make_error(Errc::Replay, "sealed frame counter " + std::to_string(counter) +
                                        " does not increase (last " + std::to_string(last_) + ")");
  }
  last_ = counter;
  return plaintext;
}

}  // namespace homep2p
