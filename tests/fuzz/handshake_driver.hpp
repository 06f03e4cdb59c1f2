// What fuzz_sealed and fuzz_handshake share: one target device (accounts, table, admission) and
// the initiator's half of the handshake done by hand, so that a fuzz input can reach an
// established, sealed connection and then speak with the real transmission keys.
#pragma once

#include <optional>
#include <variant>
#include <vector>

#include "fuzz_support.hpp"
#include "homep2p/codec.hpp"
#include "homep2p/connection.hpp"

namespace homep2p::fuzz {

inline constexpr const char* kTargetId = "7a000000-0000-4000-8000-00000000007a";
inline constexpr const char* kInitiatorId = "1b000000-0000-4000-8000-00000000001b";

// Keys from 1 PBKDF2 round: their value does not matter here, and 10000 rounds per input would
// slow the fuzzer a hundredfold.
inline const ShareKey& user_key() {
  static const ShareKey k = derive_share_key("user-password", "user", 1);
  return k;
}
inline const ShareKey& admin_key() {
  static const ShareKey k = derive_share_key("admin-password", "admin", 1);
  return k;
}

inline Bytes frame_of(std::string_view text) {
  if (text.empty() || text.size() > kMaxFrameSize) return {};
  return make_frame(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}
inline Bytes frame_of(const Message& m) { return frame_of(encode(m)); }

// The frames in `output` (unsealed), decoded; a frame that does not decode is a broken oracle.
inline std::vector<Message> unsealed_messages(const Bytes& output) {
  FrameReader reader;
  reader.push(output);
  std::vector<Message> out;
  while (true) {
    auto frame = reader.pop();
    FUZZ_CHECK(frame.ok(), "the connection wrote a bad frame");
    if (!frame->has_value()) break;
    auto m = decode(as_text(**frame));
    FUZZ_CHECK(m.ok(), "the connection wrote a message that does not decode: " + m.error().message);
    out.push_back(std::move(*m));
  }
  FUZZ_CHECK(reader.buffered() == 0, "the connection wrote a partial frame");
  return out;
}

// One device acting as target: accounts user (role user) and admin (role admin), at most
// `max_connections` connections, default settings (10 s handshake, back-off after 3 failures).
struct TargetDevice {
  explicit TargetDevice(std::uint32_t max_connections = 2, ConnectionSettings settings = {})
      : table(max_connections), admission(kTargetId, true, accounts_for(), table, settings) {}

  static AccountStore accounts_for() {
    AccountStore a;
    a.put(Account{"user", user_key(), AccountRole::User});
    a.put(Account{"admin", admin_key(), AccountRole::Admin});
    return a;
  }

  ConnectionTable table;
  ConnectionAdmission admission;
  DeterministicRandom random{0x40};
};

// Drives a ConnectionTarget through a correct handshake as `user`; returns the keys on success.
struct EstablishedTarget {
  std::optional<TransmissionKeys> keys;
  std::uint64_t next_serial = 3;  // the initiator's next message serial (1 and 2 were the handshake)
};

inline EstablishedTarget establish(ConnectionTarget& target, TimePoint now, const Bytes32& nonce) {
  EstablishedTarget result;
  ConnectRequest r1;
  r1.serial = 1;
  r1.request_serial = 1;
  r1.user = "user";
  r1.device_id = kInitiatorId;
  (void)target.receive(frame_of(r1), now);
  const auto answers = unsealed_messages(target.take_output());
  if (answers.size() != 1 || !std::holds_alternative<ConnectResponse>(answers[0])) return result;
  const auto& challenge = std::get<ConnectResponse>(answers[0]);
  if (challenge.result != ConnectResult::Authenticate || !challenge.challenge) return result;
  Transcript t{*challenge.challenge, nonce, kTargetId, kInitiatorId, "user"};
  ConnectRequest r2;
  r2.serial = 2;
  r2.request_serial = 2;
  r2.nonce = nonce;
  r2.reply = compute_reply(user_key(), t);
  const auto events = target.receive(frame_of(r2), now);
  (void)target.take_output();
  if (events.size() != 1 || !std::holds_alternative<Connected>(events[0])) return result;
  result.keys = derive_transmission_keys(user_key(), t);
  return result;
}

}  // namespace homep2p::fuzz
