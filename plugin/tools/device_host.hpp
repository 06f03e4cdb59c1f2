// Runs simulated devices (homepeer device, homepeer home): one Node per device, until SIGINT or
// SIGTERM, printing every event of every device on stdout (JSON Lines with --json).
#pragma once

#include <vector>

#include "common.hpp"
#include "homep2p/device_config.hpp"

namespace homep2p::tools {

// Starts a Node (simulated services) for each config, prints {"event":"started",...} for each,
// runs until a signal, stops them all (Disconnect NORMAL to peers, bye-bye) and prints
// {"event":"stopped",...}. With `label_events` every line names its device ("device": id).
// Returns kExitOk, or kExitLocalFailure if a device could not start.
int host_devices(const std::vector<DeviceConfig>& configs, const CommonOptions& options,
                 bool label_events);

}  // namespace homep2p::tools
