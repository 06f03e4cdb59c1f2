// Microbenchmark: one whole sans-IO handshake in memory, both machines in one process (no
// socket): ConnectRequest(1) -> challenge -> ConnectRequest(2) with the reply -> SUCCESS with the
// proof, transmission keys installed on both sides, then both connections destroyed (the slots
// are released). This is the protocol's CPU cost of a handshake for the two sides together.
//
// K is derived ONCE per device (PBKDF2, 10000 rounds) when its config is loaded, never per
// handshake: it is computed before the timed loop.
#include <benchmark/benchmark.h>

#include <memory>

#include "homep2p/connection.hpp"
#include "homep2p/crypto.hpp"

namespace {

using namespace homep2p;

const std::string kTargetId = "0b0b0b0b-0000-4000-8000-00000000000b";
const std::string kInitiatorId = "0a0a0a0a-0000-4000-8000-00000000000a";

struct Home {
  Home() : initiator_table(1024), target_table(1024), admission(kTargetId, true, accounts(), target_table) {}
  static AccountStore accounts() {
    AccountStore store;
    store.put(Account{"admin", key(), AccountRole::Admin});
    return store;
  }
  static const ShareKey& key() {
    static const ShareKey k = derive_share_key("admin-password", "admin");
    return k;
  }
  ConnectionTable initiator_table;
  ConnectionTable target_table;
  ConnectionAdmission admission;
  OsRandomSource random;
};

// Returns true when both sides are established.
bool handshake(Home& home, TimePoint now) {
  ConnectionInitiator initiator(InitiatorParams{kInitiatorId, kTargetId, "admin", Home::key(), true},
                                home.initiator_table, home.random);
  ConnectionTarget target(home.admission, home.random, "127.0.0.1", now);
  (void)initiator.start(now);
  for (int step = 0; step < 4; ++step) {
    if (initiator.has_output()) (void)target.receive(initiator.take_output(), now);
    if (target.has_output()) (void)initiator.receive(target.take_output(), now);
  }
  return initiator.established() && target.established();
}

void BM_HandshakeInMemory(benchmark::State& state) {
  Home home;
  const TimePoint now = Clock::now();
  for (auto _ : state) {
    if (!handshake(home, now)) {
      state.SkipWithError("handshake did not complete");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HandshakeInMemory)->Name("Handshake/sans_io_both_sides")->Unit(benchmark::kMicrosecond);

// The handshake plus one sealed Ping/Pong, to show the first sealed exchange's cost.
void BM_HandshakeThenPing(benchmark::State& state) {
  Home home;
  const TimePoint now = Clock::now();
  for (auto _ : state) {
    ConnectionInitiator initiator(InitiatorParams{kInitiatorId, kTargetId, "admin", Home::key(), true},
                                  home.initiator_table, home.random);
    ConnectionTarget target(home.admission, home.random, "127.0.0.1", now);
    (void)initiator.start(now);
    for (int step = 0; step < 4; ++step) {
      if (initiator.has_output()) (void)target.receive(initiator.take_output(), now);
      if (target.has_output()) (void)initiator.receive(target.take_output(), now);
    }
    const TimePoint later = initiator.next_deadline().value_or(now);
    (void)initiator.on_deadline(later);  // Ping
    (void)target.receive(initiator.take_output(), later);
    (void)initiator.receive(target.take_output(), later);  // Pong
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HandshakeThenPing)->Name("Handshake/sans_io_plus_sealed_ping_pong")->Unit(benchmark::kMicrosecond);

}  // namespace
