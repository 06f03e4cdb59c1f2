// Two devices in one process, wired back to back with no socket (sans-IO): device A initiates,
// device B is the target. pump() moves bytes both ways until both are quiet, collecting events.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "homep2p/codec.hpp"
#include "homep2p/connection.hpp"
#include "homep2p/crypto.hpp"
#include "homep2p/framing.hpp"
#include "test_support.hpp"

namespace homep2p::test {

inline const std::string kIdA = "0a0a0a0a-0000-4000-8000-00000000000a";
inline const std::string kIdB = "0b0b0b0b-0000-4000-8000-00000000000b";

// Keys are derived once per process: PBKDF2 is deliberately slow.
inline const ShareKey& alice_key() {
  static const ShareKey key = derive_share_key("alice-password", "alice");
  return key;
}
inline const ShareKey& admin_key() {
  static const ShareKey key = derive_share_key("admin-password", "root");
  return key;
}

template <class T>
const T* find_event(const ConnectionEvents& events) {
  for (const auto& e : events) {
    if (const auto* p = std::get_if<T>(&e)) return p;
  }
  return nullptr;
}

template <class T>
std::size_t count_events(const ConnectionEvents& events) {
  std::size_t n = 0;
  for (const auto& e : events) n += std::holds_alternative<T>(e) ? 1 : 0;
  return n;
}

inline std::span<const std::uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// A framed, unsealed message, as a misbehaving peer would send it.
inline Bytes plain_frame(const Message& m) { return make_frame(as_bytes(encode(m))); }

// Splits a byte stream into frame payloads (for inspecting what a side sent).
inline std::vector<Bytes> split_frames(const Bytes& stream) {
  FrameReader reader;
  reader.push(stream);
  std::vector<Bytes> frames;
  while (true) {
    auto f = reader.pop();
    if (!f || !f->has_value()) break;
    frames.push_back(std::move(**f));
  }
  return frames;
}

struct DevicePair {
  explicit DevicePair(bool auth_required = true, std::uint32_t b_max = 4, ConnectionSettings settings = {})
      : table_a(8), table_b(b_max), admission_b(kIdB, auth_required, make_accounts(), table_b, settings),
        settings(settings) {}

  static AccountStore make_accounts() {
    AccountStore accounts;
    accounts.put(Account{"alice", alice_key(), AccountRole::User});
    accounts.put(Account{"root", admin_key(), AccountRole::Admin});
    return accounts;
  }

  // A new handshake: a fresh initiator on A and target on B.
  void begin(std::string user = "alice", std::optional<ShareKey> key = alice_key(), std::string target_id = kIdB) {
    initiator = std::make_unique<ConnectionInitiator>(InitiatorParams{kIdA, std::move(target_id), std::move(user), key},
                                                      table_a, random_a, settings);
    target = std::make_unique<ConnectionTarget>(admission_b, random_b, "127.0.0.1", now);
    auto ev = initiator->start(now);
    a_events.insert(a_events.end(), ev.begin(), ev.end());
  }

  // Moves bytes until neither side has output. Returns the number of frames' worth of bytes moved.
  void pump() {
    for (int i = 0; i < 100; ++i) {
      bool moved = false;
      if (initiator && initiator->has_output()) {
        const Bytes out = initiator->take_output();
        wire_a_to_b.insert(wire_a_to_b.end(), out.begin(), out.end());
        auto ev = target->receive(out, now);
        b_events.insert(b_events.end(), ev.begin(), ev.end());
        moved = true;
      }
      if (target && target->has_output()) {
        const Bytes out = target->take_output();
        wire_b_to_a.insert(wire_b_to_a.end(), out.begin(), out.end());
        auto ev = initiator->receive(out, now);
        a_events.insert(a_events.end(), ev.begin(), ev.end());
        moved = true;
      }
      if (!moved) return;
    }
  }

  void connect(std::string user = "alice", std::optional<ShareKey> key = alice_key()) {
    begin(std::move(user), key);
    pump();
  }

  void clear_events() {
    a_events.clear();
    b_events.clear();
  }

  TimePoint now = kT0;
  CountingRandom random_a{0x10};
  CountingRandom random_b{0x80};
  ConnectionTable table_a;
  ConnectionTable table_b;
  ConnectionAdmission admission_b;
  ConnectionSettings settings;
  std::unique_ptr<ConnectionInitiator> initiator;
  std::unique_ptr<ConnectionTarget> target;
  ConnectionEvents a_events;
  ConnectionEvents b_events;
  Bytes wire_a_to_b;
  Bytes wire_b_to_a;
};

}  // namespace homep2p::test
