// A device's live connections, in both roles (patent claims 10 and 14: both sides count +1 on
// SUCCESS and -1 on disconnect). The count never goes below 0 or above the max.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "homep2p/messages.hpp"
#include "homep2p/time.hpp"

namespace homep2p {

using ConnectionId = std::uint64_t;

struct PeerEntry {
  ConnectionId id = 0;
  std::string peer_id;
  Role role = Role::Initiator;  // our role on this connection
  TimePoint since{};
};

class ConnectionTable {
 public:
  explicit ConnectionTable(std::uint32_t max_connections) : max_(max_connections) {}

  // Adds a connection; nullopt when the table is at its max (the caller answers OVERLOAD).
  std::optional<ConnectionId> try_add(std::string peer_id, Role role, TimePoint since);
  // Removes a connection; false if it was not there (never double-decrements).
  bool remove(ConnectionId id);

  std::size_t count() const { return peers_.size(); }
  std::uint32_t max() const { return max_; }
  bool full() const { return peers_.size() >= max_; }
  // Lowering the max below the count keeps existing connections; only new ones are refused.
  void set_max(std::uint32_t max_connections) { max_ = max_connections; }
  const std::vector<PeerEntry>& peers() const { return peers_; }
  const PeerEntry* find(ConnectionId id) const;

 private:
  std::vector<PeerEntry> peers_;
  std::uint32_t max_;
  ConnectionId next_id_ = 1;
};

}  // namespace homep2p
