#pragma once

#include <cstddef>

#include "homep2p/failure_backoff.hpp"
#include "homep2p/time.hpp"

namespace homep2p {

struct ConnectionSettings {
  Duration handshake_timeout = seconds(10);   // whole handshake, both roles
  Duration challenge_lifetime = seconds(10);  // a challenge older than this is refused
  Duration keepalive_interval = seconds(15);  // Ping after this much send silence
  unsigned keepalive_misses = 3;              // dead after this many intervals of receive silence
  std::size_t max_pending_handshakes = 64;    // half-open handshakes a target holds at once
  // Half-open handshakes from one address: one host flooding ConnectRequests must not take
  // every pending slot from everyone else (docs/RELIABILITY.md, the 1,000 half-open attack).
  std::size_t max_pending_per_address = 8;
  BackoffPolicy backoff;
};

}  // namespace homep2p
