#!/usr/bin/env bash
# Runs a test program inside a fresh network namespace with multicast on loopback (lib.sh), so
# that the in-process runtime tests (real sockets, real multicast) never touch the host's network.
# Usage: in_netns.sh <program> [args...]   (skips with 77 where no namespace can be made)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
enter_netns "$0" "$@"
setup_loopback_multicast
exec "$@"
