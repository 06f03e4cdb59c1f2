// A minimal HomeP2P initiator for the drivers: the sans-IO ConnectionInitiator on a blocking
// loopback socket, no runtime around it, so that what is measured on the other end is the
// target (a real Node) and the protocol, not a second runtime.
#pragma once

#include <sys/socket.h>

#include <memory>
#include <optional>
#include <span>
#include <string>

#include "bench_support.hpp"
#include "homep2p/connection.hpp"
#include "homep2p/crypto.hpp"

namespace bench {

// The device config fragments every driver uses: one admin account whose K is derived once.
inline const homep2p::ShareKey& bench_key() {
  static const homep2p::ShareKey key = homep2p::derive_share_key("bench-admin-password", "admin");
  return key;
}

inline bool flush_output(int fd, homep2p::Connection& c) {
  if (!c.has_output()) return true;
  const homep2p::Bytes out = c.take_output();
  return write_all(fd, out.data(), out.size());
}

// Runs the initiator's side of a handshake on a connected socket until it is established (the
// target's SUCCESS with a valid proof arrived) or fails. nullptr on failure.
inline std::unique_ptr<homep2p::ConnectionInitiator> handshake_on(int fd, homep2p::InitiatorParams params,
                                                                  homep2p::ConnectionTable& table,
                                                                  homep2p::RandomSource& random,
                                                                  homep2p::ConnectionSettings settings = {}) {
  auto c = std::make_unique<homep2p::ConnectionInitiator>(std::move(params), table, random, settings);
  (void)c->start(homep2p::Clock::now());
  if (!flush_output(fd, *c)) return nullptr;
  std::uint8_t buffer[4096];
  while (!c->established() && !c->closed()) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) return nullptr;
    (void)c->receive(std::span<const std::uint8_t>(buffer, static_cast<std::size_t>(n)), homep2p::Clock::now());
    if (!flush_output(fd, *c)) return nullptr;
  }
  if (!c->established()) return nullptr;
  return c;
}

}  // namespace bench

#include <cstdio>

#include "homep2p/device_config.hpp"

namespace bench {

// A UUID for bench device number i (stable, readable).
inline std::string bench_device_id(std::size_t i) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "be0c0000-0000-4000-8000-%012zu", i % std::size_t{1000000000000});
  return buf;
}

// A device config for the runtime (homep2p::net::Node): listens on 127.0.0.1, any free port,
// discovery on `discovery_port`, one admin account (K from bench_key()), the same account as its
// default credential towards others.
inline homep2p::DeviceConfig bench_device_config(std::size_t index, const std::string& name,
                                                 std::uint32_t max_connections, std::uint16_t discovery_port) {
  homep2p::DeviceConfig c;
  c.device_id = bench_device_id(index);
  c.device_type = "BenchDevice";
  c.friendly_name = name;
  c.interface = "127.0.0.1";
  c.port = 0;
  c.multicast_port = discovery_port;
  c.max_connections = max_connections;
  c.accounts.push_back(homep2p::Account{"admin", bench_key(), homep2p::AccountRole::Admin});
  c.default_credential = homep2p::Credential{"admin", bench_key()};
  return c;
}

}  // namespace bench
