# Helpers shared by the scenario_*_test.sh scripts (issue 3's "Done when" list): device configs,
# starting `homepeer device` processes, running client commands, and JSON checks with python3
# (stdlib only). Source it after lib.sh: . "$here/scenario_lib.sh" <scenario name>
#
# Every check that passes logs one "ok: ..." line and is counted; the script ends with
# `summary`, which prints "<name>: N passed, 0 failed". A failing check prints "FAIL: ..." and
# "<name>: N passed, 1 failed", then exits 1 (and lib.sh's trap dumps every output file).

SCENARIO_NAME="${1:-$(basename "$0" .sh)}"
PASSED=0

# Overrides lib.sh's log/fail so that every "ok:" line (also those of expect_line) is counted.
log() {
  [[ "$1" == ok:* ]] && PASSED=$((PASSED + 1))
  printf '[%s] %s\n' "$(date +%T.%3N)" "$*" >&2
}
fail() {
  printf '[%s] FAIL: %s\n' "$(date +%T.%3N)" "$*" >&2
  echo "$SCENARIO_NAME: $PASSED passed, 1 failed"
  exit 1
}
pass() { log "ok: $*"; }
summary() { echo "$SCENARIO_NAME: $PASSED passed, 0 failed"; }

# The accounts every scenario device has (test-only passwords, loopback/test namespaces only).
readonly ADMIN_USER=admin ADMIN_PASSWORD=admin-password
readonly PLAIN_USER=user PLAIN_PASSWORD=user-password

# make_config <file> <id> <type> <name> [auth=required|none] [max=8] [keepalive=1] [max_age=3]
#             [interface=lo] [services="power:SwitchPower"] (space-separated id:Type pairs)
# Writes a device config (docs/CONFIG.md): TCP port 0 (any free port, learned from the
# "started" line), accounts admin (role admin) and user (role user), and admin as the
# credential towards other devices (so that ConnectionManager Connect works between them).
make_config() {
  local file="$1" id="$2" type="$3" name="$4"; shift 4
  local auth=required max=8 keepalive=1 max_age=3 interface=lo services="power:SwitchPower"
  local kv
  for kv in "$@"; do
    case "$kv" in
      auth=*) auth="${kv#*=}" ;;
      max=*) max="${kv#*=}" ;;
      keepalive=*) keepalive="${kv#*=}" ;;
      max_age=*) max_age="${kv#*=}" ;;
      interface=*) interface="${kv#*=}" ;;
      services=*) services="${kv#*=}" ;;
      *) fail "make_config: unknown option $kv" ;;
    esac
  done
  {
    cat <<EOF
# Written by $(basename "$0") for one test run. TEST PASSWORDS ONLY.
device:
  id: $id
  type: $type
  name: $name
network:
  interface: $interface
  port: 0
  max_age: $max_age
  keepalive: $keepalive
security:
  authentication: $auth
  max_connections: $max
  accounts:
    - user: $ADMIN_USER
      password: $ADMIN_PASSWORD
      role: admin
    - user: $PLAIN_USER
      password: $PLAIN_PASSWORD
      role: user
credentials:
  default:
    user: $ADMIN_USER
    password: $ADMIN_PASSWORD
EOF
    if [[ -n "$services" ]]; then
      echo "services:"
      local s
      for s in $services; do
        printf '  - id: %s\n    type: %s\n' "${s%%:*}" "${s#*:}"
      done
    fi
  } >"$file"
}

# start_device <name> <config file> [command prefix...]: runs `homepeer device --config <file>
# --json` (stdout in $TEST_TMP/<name>, logs at info in $TEST_TMP/<name>.err), optionally under a
# prefix (`ip netns exec NS`) and with the extra flags in the array DEVICE_FLAGS, and waits for
# its "started" line. Sets DEV_PID[<name>], DEV_PORT[<name>].
declare -A DEV_PID=() DEV_PORT=()
declare -a DEVICE_FLAGS=()
start_device() {
  local name="$1" config="$2"; shift 2
  start_bg "$TEST_TMP/$name" "$@" "$HP" device --config "$config" --json --log-level info \
    ${DEVICE_FLAGS[@]+"${DEVICE_FLAGS[@]}"}
  DEV_PID[$name]=$LAST_PID
  wait_for_line "$TEST_TMP/$name" '"event":"started"' 5 ||
    fail "device $name did not print its \"started\" line within 5 s"
  DEV_PORT[$name]=$(py_get 'next(e["port"] for e in jl(0) if e.get("event") == "started")' "$TEST_TMP/$name")
  [[ "${DEV_PORT[$name]}" =~ ^[0-9]+$ ]] || fail "device $name: no port in its \"started\" line"
  pass "device $name started (pid ${DEV_PID[$name]}, TCP port ${DEV_PORT[$name]})"
}

# end_process <pid> <signal> <timeout> <what>: sends the signal (unless it is "-"), waits for the
# process to end and checks that it exited 0.
end_process() {
  local pid="$1" signal="$2" timeout="$3" what="$4" rc
  [[ "$signal" == - ]] || kill "-$signal" "$pid"
  local deadline=$(( $(date +%s%N) + timeout * 1000000000 ))
  while is_running "$pid"; do
    (( $(date +%s%N) < deadline )) || fail "$what: did not exit within $timeout s"
    sleep 0.05
  done
  set +e; wait "$pid" 2>/dev/null; rc=$?; set -e
  [[ $rc == 0 ]] || fail "$what: exit code $rc, expected 0"
  pass "$what (exit 0)"
}

# stop_device <name> <timeout>: SIGTERM; it must exit 0 within <timeout> s and say "stopped".
stop_device() {
  end_process "${DEV_PID[$1]}" TERM "$2" "device $1 stops on SIGTERM"
  expect_line "$TEST_TMP/$1" '"event":"stopped"' 0 "device $1 says it stopped"
}

# run <name> <command...>: stdout/stderr in $TEST_TMP/<name>{,.err}; sets RC.
run() {
  local name="$1"; shift
  set +e
  "$@" >"$TEST_TMP/$name" 2>"$TEST_TMP/$name.err"
  RC=$?
  set -e
}
# expect_rc <expected> <what>
expect_rc() {
  [[ "$RC" == "$1" ]] || fail "$2: exit code $RC, expected $1 (see the dump below)"
  pass "$2 (exit $RC)"
}

# The python3 side of the JSON checks. The expression sees, for the files given after it:
#   FILES[i]       argument i after the expression (a file name, or any string)
#   text(i)        the text of file i
#   j(i)           file i parsed as one JSON value
#   jl(i)          file i as JSON Lines (a list of objects; non-JSON lines are skipped)
#   conns(i, peer=None)   the "connection" events of a device log (optionally with one peer)
#   count(i)       the count of the last "connection" event (0 if none)
#   connected(i)   the peers currently connected per the log (a set of peer ids)
readonly PY_HELPERS='
import json, sys, time
def text(i): return open(FILES[i], encoding="utf-8", errors="replace").read()
def j(i): return json.loads(text(i))
def jl(i):
    out = []
    for line in text(i).splitlines():
        try:
            v = json.loads(line)
        except ValueError:
            continue
        if isinstance(v, dict): out.append(v)
    return out
def conns(i, peer=None):
    return [e for e in jl(i) if e.get("event") == "connection" and (peer is None or e.get("peer_id") == peer)]
def count(i):
    c = conns(i)
    return c[-1]["count"] if c else 0
def connected(i):
    s = set()
    for e in conns(i):
        if e["state"] == "connected": s.add(e["peer_id"])
        elif e["state"] == "disconnected": s.discard(e["peer_id"])
    return s
'

# py_wait <timeout s> <what> <expression> <files...>: polls until the expression holds; fails with
# <what> and the expression otherwise.
py_wait() {
  local timeout="$1" what="$2" expr="$3"; shift 3
  local out
  if out=$(python3 -c "$PY_HELPERS"'
FILES = sys.argv[3:]
deadline = time.monotonic() + float(sys.argv[1])
while True:
    try:
        ok = eval(sys.argv[2])
        err = ""
    except Exception as e:
        ok, err = False, "%s: %s" % (type(e).__name__, e)
    if ok: sys.exit(0)
    if time.monotonic() >= deadline: break
    time.sleep(0.05)
print("not true" + (" (" + err + ")" if err else "") + ": " + sys.argv[2])
sys.exit(1)
' "$timeout" "$expr" "$@" 2>&1); then
    pass "$what"
  else
    [[ "$timeout" == 0 ]] || what+=" (waited $timeout s)"
    fail "$what: $out"
  fi
}
# py_check <what> <expression> <files...>: the same, checked once.
py_check() { local what="$1"; shift; py_wait 0 "$what" "$@"; }
# py_get <expression> <files...>: prints the expression's value (str() of it).
py_get() {
  local expr="$1"; shift
  python3 -c "$PY_HELPERS"'
FILES = sys.argv[2:]
print(eval(sys.argv[1]))
' "$expr" "$@" || fail "cannot evaluate $expr"
}

# now: epoch seconds with fractions
now() { date +%s.%N; }
# notice_delay <since epoch> <log file> <fixed string>: seconds from <since> to the first runtime
# log line (spdlog timestamp, local time, ms) at or after <since> containing the string.
notice_delay() {
  python3 - "$@" <<'EOF'
import sys, time, datetime
since, path, needle = float(sys.argv[1]), sys.argv[2], sys.argv[3]
for line in open(path, encoding="utf-8", errors="replace"):
    if needle in line:
        stamp = datetime.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S.%f")
        delay = time.mktime(stamp.timetuple()) + stamp.microsecond / 1e6 - since
        if delay >= -0.001:  # the log's timestamps have milliseconds only
            print(round(max(delay, 0.0), 3))
            sys.exit(0)
sys.exit("no line with " + needle)
EOF
}

# only_loopback: inside the test's namespace (enter_netns), checks that lo is its only interface,
# so that nothing the test starts can send a packet anywhere else.
only_loopback() {
  [[ "${HOMEP2P_IN_NETNS:-}" == "1" ]] || fail "only_loopback outside the test namespace"
  local links
  links=$(ip -o link show | awk -F': ' '{print $2}' | tr '\n' ' ')
  [[ "$links" == "lo " ]] || fail "the test namespace has interfaces besides lo: $links"
  pass "the test's network namespace has only lo: nothing can leave it"
}
