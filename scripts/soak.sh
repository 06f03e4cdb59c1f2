#!/usr/bin/env bash
# The long soak (issue 6): 100 simulated devices, 1,000 connect/disconnect cycles driven through
# the bridge's MQTT request/response API, in a network namespace of its own. CI runs the short
# form (20 devices, 200 cycles) as the ctest integration_soak.
#
#   scripts/soak.sh [DEVICES [CYCLES [IN_FLIGHT]]]      default 100 1000 8
#
# Builds what it needs into build/ (or $BUILD_DIR). Prints the "soak: ..." figures (requests,
# responses, failures, bridge file descriptors and RSS before/after, devices back to 0) that
# docs/RELIABILITY.md quotes; exit status 0 only if nothing was lost and nothing leaked.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"
if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$BUILD_DIR" --target soak_test homepeer peer2mqtt -j2
export HOMEP2P_SOAK_DEVICES="${1:-100}" HOMEP2P_SOAK_CYCLES="${2:-1000}" HOMEP2P_SOAK_PARALLEL="${3:-8}"
exec bash tests/integration/in_netns.sh "$BUILD_DIR/tests/integration/hardening/soak_test"
