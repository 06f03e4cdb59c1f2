#!/usr/bin/env bash
# docker-compose.yml is valid (checked by Debian's docker-compose: `docker-compose config`, no
# engine needed), and the Dockerfile's build stage installs exactly the packages that
# scripts/setup.sh lists for building (BUILD_PACKAGES + LIBRARY_PACKAGES).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
root="$(cd "$here/../.." && pwd)"

command -v docker-compose >/dev/null || fail "docker-compose not installed (scripts/setup.sh installs it)"
out=$(cd "$root" && docker-compose -f docker-compose.yml config 2>&1) || fail "docker-compose config: $out"
grep -q "network_mode: host" <<<"$out" || fail "peer2mqtt must use host networking (multicast discovery)"
for service in mosquitto peer2mqtt home; do
  grep -qE "^  $service:" <<<"$out" || fail "service $service missing from docker-compose.yml"
done
log "ok: docker-compose config accepts docker-compose.yml"

setup_list=$(bash "$root/scripts/setup.sh" --list)
want=$( (grep '^build ' <<<"$setup_list"; grep '^library ' <<<"$setup_list") | cut -d' ' -f2- | tr ' ' '\n' | sort -u)
# The packages of the first `apt-get install` in the Dockerfile (the build stage).
have=$(python3 - "$root/Dockerfile" <<'PY'
import re, sys
text = open(sys.argv[1]).read().replace("\\\n", " ")
runs = [l for l in text.splitlines() if "apt-get install" in l]
words = runs[0].split("apt-get install", 1)[1].split("&&")[0].split()
print("\n".join(sorted(w for w in words if not w.startswith("-"))))
PY
)
if [[ "$want" != "$have" ]]; then
  diff <(echo "$want") <(echo "$have") || true
  fail "the Dockerfile's build packages differ from scripts/setup.sh (< setup.sh, > Dockerfile)"
fi
log "ok: the Dockerfile installs exactly setup.sh's build and library packages"
echo "docker files: 2 passed, 0 failed"
