#include "homep2p/connection_table.hpp"

#include <algorithm>

namespace homep2p {

std::optional<ConnectionId> ConnectionTable::try_add(std::string peer_id, Role role, TimePoint since) {
  if (full()) return std::nullopt;
  const ConnectionId id = next_id_++;
  peers_.push_back(PeerEntry{id, std::move(peer_id), role, since});
  return id;
}

bool ConnectionTable::remove(ConnectionId id) {
  const auto it = std::find_if(peers_.begin(), peers_.end(), [id](const PeerEntry& p) { return p.id == id; });
  if (it == peers_.end()) return false;
  peers_.erase(it);
  return true;
}

const PeerEntry* ConnectionTable::find(ConnectionId id) const {
  const auto it = std::find_if(peers_.begin(), peers_.end(), [id](const PeerEntry& p) { return p.id == id; });
  return it == peers_.end() ? nullptr : &*it;
}

}  // namespace homep2p
