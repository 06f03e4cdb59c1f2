// JSON encoding of messages (RapidJSON). decode() validates every field the protocol bounds;
// unknown fields are ignored; any other problem is an Errc::InvalidMessage naming the field.
// Binary fields (challenge, nonce, reply, proof) are standard padded base64 of exactly 32 bytes.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "homep2p/messages.hpp"
#include "homep2p/result.hpp"

namespace homep2p {

std::string encode(const Message& message);
Result<Message> decode(std::string_view json);

// Base64 helpers (OpenSSL EVP_EncodeBlock/EVP_DecodeBlock), used by the codec and by tools.
std::string base64_encode(std::span<const std::uint8_t> bytes);
Result<Bytes> base64_decode(std::string_view text);
// Lowercase hex, for logs, test vectors and docs.
std::string hex_encode(std::span<const std::uint8_t> bytes);
Result<Bytes> hex_decode(std::string_view text);

}  // namespace homep2p
