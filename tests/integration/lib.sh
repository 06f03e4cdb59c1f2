# Helpers for the integration test scripts (bash). Source it: . "$(dirname "$0")/lib.sh"
#
# Traffic rule (DESIGN.md §4): multicast only on loopback inside a network namespace the test made.
# enter_netns re-runs the calling script inside a fresh network namespace (unshare -n as root,
# else unshare -rn as a user namespace), so that everything it starts is cut off from the host.

readonly SKIP_CODE=77

log() { printf '[%s] %s\n' "$(date +%T.%3N)" "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit "$SKIP_CODE"; }

# enter_netns "$0" "$@": call first thing in a script. Returns only inside the namespace.
enter_netns() {
  if [[ "${HOMEP2P_IN_NETNS:-}" == "1" ]]; then return 0; fi
  command -v unshare >/dev/null || skip "cannot create a network namespace: unshare not found"
  command -v ip >/dev/null || skip "cannot create a network namespace: ip (iproute2) not found"
  local script="$1"; shift
  local why_n why_rn
  if why_n=$(unshare -n true 2>&1); then
    HOMEP2P_IN_NETNS=1 exec unshare -n bash "$script" "$@"
  elif why_rn=$(unshare -rn true 2>&1); then
    HOMEP2P_IN_NETNS=1 exec unshare -rn bash "$script" "$@"
  fi
  skip "cannot create a network namespace: unshare -n: ${why_n}; unshare -rn: ${why_rn}"
}

# Inside the namespace: loopback up, with the MULTICAST flag and a route for 224.0.0.0/4, which
# a fresh namespace's lo lacks (without them joining a group or sending to it fails).
# Never call this outside a namespace the test made: it changes interface flags and routes.
setup_loopback_multicast() {
  [[ "${HOMEP2P_IN_NETNS:-}" == "1" ]] || fail "setup_loopback_multicast outside a test namespace"
  ip link set lo up || skip "cannot set lo up in the namespace"
  ip link set lo multicast on || skip "cannot enable multicast on lo in the namespace"
  ip route add 224.0.0.0/4 dev lo 2>/dev/null || ip route replace 224.0.0.0/4 dev lo ||
    skip "cannot add a multicast route in the namespace"
}

# Background processes the script started; killed (by pid) on exit.
declare -a STARTED_PIDS=()
TEST_TMP=""

# start_bg <output file> <command...>: stdout to the file, stderr to <file>.err; sets LAST_PID.
start_bg() {
  local out="$1"; shift
  "$@" >"$out" 2>"$out.err" &
  LAST_PID=$!
  STARTED_PIDS+=("$LAST_PID")
}

cleanup() {
  local pid
  for pid in "${STARTED_PIDS[@]}"; do
    kill -KILL "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  if [[ -n "$TEST_TMP" && -d "$TEST_TMP" ]]; then rm -rf -- "$TEST_TMP"; fi
}

# make_test_tmp: a temp dir removed on exit (kept, and its files printed, when the test fails).
make_test_tmp() {
  TEST_TMP=$(mktemp -d)
  trap 'rc=$?; if [[ $rc -ne 0 && $rc -ne $SKIP_CODE ]]; then dump_outputs; fi; cleanup; exit $rc' EXIT
}

dump_outputs() {
  local f
  for f in "$TEST_TMP"/*; do
    [[ -f "$f" ]] || continue
    echo "----- $(basename "$f")"
    cat "$f"
  done
}

# wait_for_line <file> <fixed string> <timeout seconds>: polls until the file has a line with it.
wait_for_line() {
  local file="$1" needle="$2" timeout="$3"
  local deadline=$(( $(date +%s%N) + timeout * 1000000000 ))
  while true; do  # checks at least once, also with a timeout of 0
    if grep -qF -- "$needle" "$file" 2>/dev/null; then return 0; fi
    (( $(date +%s%N) < deadline )) || return 1
    sleep 0.05
  done
}

# expect_line <file> <fixed string> <timeout seconds> <what>: wait_for_line or fail.
expect_line() {
  wait_for_line "$1" "$2" "$3" || fail "$4: no line containing $2 in $(basename "$1") within $3 s"
  log "ok: $4"
}

# expect_no_line <file> <fixed string> <what>
expect_no_line() {
  if grep -qF -- "$2" "$1" 2>/dev/null; then fail "$3: unexpected line containing $2 in $(basename "$1")"; fi
  log "ok: $3"
}

# is_running <pid>: alive and not a zombie (kill -0 succeeds on an unreaped child).
is_running() {
  [[ -r "/proc/$1/status" ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# wait_exit <pid> <timeout seconds>: true if the process ended in time (and reaps it).
wait_exit() {
  local pid="$1" timeout="$2"
  local deadline=$(( $(date +%s%N) + timeout * 1000000000 ))
  while is_running "$pid"; do
    (( $(date +%s%N) < deadline )) || return 1
    sleep 0.05
  done
  wait "$pid" 2>/dev/null
  return 0
}

# require_bin <env var name>: the path of a built test binary, or fail.
require_bin() {
  local var="$1" path="${!1:-}"
  [[ -n "$path" ]] || fail "$var is not set (run through ctest, or export it)"
  [[ -x "$path" ]] || fail "$var=$path is not built (cmake --build <dir> --target integration_binaries)"
  echo "$path"
}
