#!/usr/bin/env bash
# The homepeer command line: usage and config errors give exit 1 with a message that says what is
# wrong; a `homepeer device` is found by `homepeer discover --json`; `homepeer connect` with the
# right password gives SUCCESS (exit 0), with a wrong one ACCESSDENIED (exit 2), for an unknown
# device "not found" (exit 3); SIGTERM stops the device cleanly (exit 0). In a network namespace
# of its own (lib.sh). The bigger scenarios of the issue are in other scripts.
# Usage (ctest does this): homepeer_cli_test.sh <build dir>, with HOMEP2P_BIN_HOMEPEER set.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"

enter_netns "$0" "$@"
setup_loopback_multicast
make_test_tmp
hp=$(require_bin HOMEP2P_BIN_HOMEPEER)
examples="${HOMEP2P_SOURCE_DIR:-$here/../..}/examples"

readonly LAMP=6f1c2a4e-0b7d-4c1e-9a53-2d8f4e6b7a10   # examples/device-lamp.yaml
readonly ABSENT=00000000-0000-4000-8000-0000000000ff

# run <name> <command...>: runs it with stdout/stderr in $TEST_TMP/<name>{,.err}; sets RC.
run() {
  local name="$1"; shift
  set +e
  "$@" >"$TEST_TMP/$name" 2>"$TEST_TMP/$name.err"
  RC=$?
  set -e
}
expect_rc() {  # expect_rc <expected> <what>
  [[ "$RC" == "$1" ]] || fail "$2: exit code $RC, expected $1"
  log "ok: $2 (exit $RC)"
}

# ---- usage and config errors: exit 1 and a message that names the problem ----
run unknown "$hp" frobnicate
expect_rc 1 "an unknown command is a usage error"
expect_line "$TEST_TMP/unknown.err" 'unknown command "frobnicate"' 0 "it names the command"
expect_line "$TEST_TMP/unknown.err" 'Usage:' 0 "it prints the usage"

run no_device "$hp" connect --user admin --password x
expect_rc 1 "connect without a device is a usage error"
expect_line "$TEST_TMP/no_device.err" 'device is required' 0 "it says what is missing"

run user_only "$hp" connect "$LAMP" --user admin
expect_rc 1 "--user without --password is a usage error"

run bad_arg "$hp" invoke "$LAMP" power SetPower on --user admin --password x
expect_rc 1 "an invoke argument without '=' is a usage error"
expect_line "$TEST_TMP/bad_arg.err" 'argument "on"' 0 "it names the argument"

cat >"$TEST_TMP/bad.yaml" <<'EOF'
device:
  id: 6f1c2a4e-0b7d-4c1e-9a53-2d8f4e6b7a10
  type: Lamp
security:
  max_connections: 0
EOF
run bad_config "$hp" device --config "$TEST_TMP/bad.yaml"
expect_rc 1 "a bad config file is a config error"
expect_line "$TEST_TMP/bad_config.err" "bad.yaml: security.max_connections" 0 \
  "the message names the file and the key"

run missing_config "$hp" device --config "$TEST_TMP/missing.yaml"
expect_rc 1 "a missing config file is a config error"
expect_line "$TEST_TMP/missing_config.err" "missing.yaml" 0 "the message names the file"

# ---- a device, found by discover ----
start_bg "$TEST_TMP/lamp" "$hp" device --config "$examples/device-lamp.yaml" --interface lo --json
pid_lamp=$LAST_PID
expect_line "$TEST_TMP/lamp" "{\"event\":\"started\",\"device_id\":\"$LAMP\"" 5 "the lamp starts"

run discover "$hp" discover --json --timeout 1.5
expect_rc 0 "discover"
expect_line "$TEST_TMP/discover" "\"device_id\":\"$LAMP\",\"name\":\"Living room lamp\",\"type\":\"DimmableLight\"" 0 \
  "discover --json lists the lamp"
expect_line "$TEST_TMP/discover" '"services":[{"id":"power","type":"SwitchPower"},{"id":"brightness","type":"Dimming"}' 0 \
  "with its services"
expect_line "$TEST_TMP/discover" '"auth_required":true' 0 "and that it needs authentication"

run discover_none "$hp" discover --json --timeout 1 --type NoSuchType
expect_rc 0 "discover that finds nothing still succeeds"
[[ "$(cat "$TEST_TMP/discover_none")" == "[]" ]] || fail "discover --type NoSuchType printed $(cat "$TEST_TMP/discover_none")"
log "ok: and prints []"

# ---- connect: right password, wrong password, unknown device ----
run connect_ok "$hp" connect "$LAMP" --user admin --password example-admin-password --json
expect_rc 0 "connect with the right password"
expect_line "$TEST_TMP/connect_ok" "{\"result\":\"SUCCESS\",\"device_id\":\"$LAMP\"" 0 "prints SUCCESS"
expect_line "$TEST_TMP/lamp" '"role":"target","state":"connected","result":"SUCCESS"' 2 \
  "the lamp sees the connection"
expect_line "$TEST_TMP/lamp" '"state":"disconnected","result":null,"local":null,"reason":"NORMAL"' 2 \
  "and its NORMAL end"

run connect_bad "$hp" connect "$LAMP" --user admin --password wrong-password --json
expect_rc 2 "connect with a wrong password is refused by the target"
expect_line "$TEST_TMP/connect_bad" '"result":"ACCESSDENIED"' 0 "prints ACCESSDENIED"
expect_line "$TEST_TMP/connect_bad.err" 'ACCESSDENIED' 0 "and one line on stderr"

run connect_human "$hp" connect "$LAMP" --user bridge --password example-bridge-password
expect_rc 0 "connect without --json"
expect_line "$TEST_TMP/connect_human" "SUCCESS: connected to Living room lamp ($LAMP)" 0 \
  "prints a readable result"

run connect_absent "$hp" connect "$ABSENT" --user admin --password x --timeout 1
expect_rc 3 "connect to a device nobody answers for"
expect_line "$TEST_TMP/connect_absent.err" "device not found: $ABSENT" 0 "says it was not found"

# ---- SIGTERM: clean stop ----
kill -TERM "$pid_lamp"
for _ in $(seq 100); do is_running "$pid_lamp" || break; sleep 0.05; done
is_running "$pid_lamp" && fail "the lamp did not exit within 5 s of SIGTERM"
set +e; wait "$pid_lamp"; rc=$?; set -e
[[ $rc == 0 ]] || fail "the lamp exited with $rc after SIGTERM, expected 0"
log "ok: the lamp exits 0 after SIGTERM"
expect_line "$TEST_TMP/lamp" "{\"event\":\"stopped\",\"device_id\":\"$LAMP\"" 0 "the lamp says it stopped"

log "PASS"
