// The bridge's persisted desired state (state_file, JSON): the known devices, their friendly
// names and whether Home Assistant wants each connected. Written atomically (temporary file in
// the same folder, fsync, rename, fsync of the folder) so that a crash never leaves it corrupt;
// mode 0600. A missing file is an empty state; a corrupt one is an error (the bridge then starts
// empty and logs it, keeping the corrupt file aside as <file>.corrupt).
#pragma once

#include <map>
#include <string>

#include "core/device_registry.hpp"
#include "homep2p/result.hpp"

namespace peer2mqtt {

struct PersistedDevice {
  std::string friendly_name;
  bool wanted = false;
  std::int64_t last_seen = 0;
  std::string device_type;
};

struct PersistedState {
  std::map<std::string, PersistedDevice> devices;  // by device id
};

homep2p::Result<PersistedState> load_state(const std::string& path);
homep2p::Result<void> save_state(const std::string& path, const PersistedState& state);

// Removes the temporary files (".<file>.tmp-*" beside it) that a bridge killed in the middle of
// save_state() left behind; returns how many. Call it once at start, before any save: a running
// bridge's own temporary file would be removed too. Errors are ignored (nothing depends on it).
std::size_t remove_stale_temporaries(const std::string& path);

// Registry <-> persisted state.
PersistedState snapshot(const DeviceRegistry& registry);
void restore(DeviceRegistry& registry, const PersistedState& state);

}  // namespace peer2mqtt
