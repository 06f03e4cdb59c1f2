#!/usr/bin/env bash
# The long forms of the fault tests (issue 6); CI runs the short ones through ctest.
#   - the link between bridge and device down 30 s (CI: 6 s), LINK_DOWN_SECONDS to change it;
#   - the bridge killed -9 while writing its state file, 200 times (CI: 50), HOMEP2P_STATE_KILLS;
#   - the rest of the bridge fault tests once more (device, broker kills; unwritable state file).
# Builds into build/ (or $BUILD_DIR). Needs root for `ip netns add` (else the link test skips).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"
if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$BUILD_DIR" --target bridge_hardening_test homepeer peer2mqtt -j2
export HOMEP2P_BIN_HOMEPEER="$BUILD_DIR/plugin/homepeer" HOMEP2P_BIN_PEER2MQTT="$BUILD_DIR/bridge/peer2mqtt"
LINK_DOWN_SECONDS="${LINK_DOWN_SECONDS:-30}" bash tests/integration/hardening/link_down_test.sh "$BUILD_DIR"
HOMEP2P_STATE_KILLS="${HOMEP2P_STATE_KILLS:-200}" \
  bash tests/integration/in_netns.sh "$BUILD_DIR/tests/integration/hardening/bridge_hardening_test"
