#!/usr/bin/env bash
# Issue 3, scenario "disconnect" (patent steps f/g, claims 13, 14; keepalive):
#  - the initiator disconnects (`connect --hold 2` ends): both counts back to 0 (the device's
#    --json line, the client's runtime log);
#  - the target disconnects: an admin tells the device, through its ConnectionManager, to drop a
#    holding client: the client hears "disconnected by peer" at once, both counts back to 0;
#    and a device stopped with SIGTERM disconnects its holding client NORMAL;
#  - device to device (A connected to B through A's ConnectionManager): A disconnects, both 0;
#  - kill -9 of one side: the other notices (the kernel closes the socket) and its count returns
#    to 0, well within 3 keepalive intervals;
#  - a hung side (SIGSTOP: no FIN, nothing at all): the other side notices by keepalive within 3
#    keepalive intervals (keepalive 1 s; checked <= 3 intervals + 0.5 s from the signal, from the
#    device's own log timestamps), cause "keepalive timeout", count back to 0 — for a hung
#    client and for a hung device.
#
# Traffic: everything runs inside a network namespace this script creates (enter_netns, lib.sh),
# on its loopback only; nothing is sent outside it.
# Usage (ctest does this): scenario_disconnect_test.sh <build dir>, with HOMEP2P_BIN_HOMEPEER set.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"

enter_netns "$0" "$@"
. "$here/scenario_lib.sh" scenario_disconnect
setup_loopback_multicast
only_loopback
make_test_tmp
HP=$(require_bin HOMEP2P_BIN_HOMEPEER)

readonly D=3c000000-0000-4000-8000-00000000000d
readonly A=3c000000-0000-4000-8000-00000000000a
readonly B=3c000000-0000-4000-8000-00000000000b
readonly C=3c000000-0000-4000-8000-00000000000c
readonly KEEPALIVE=1
# "Within 3 keepalive intervals", plus scheduling slack for a loaded test machine.
readonly NOTICE_LIMIT=3.5

for dev in D A B C; do
  make_config "$TEST_TMP/${dev,,}.yaml" "${!dev}" PowerOutlet "Device $dev" keepalive=$KEEPALIVE
done
start_device d "$TEST_TMP/d.yaml"
start_device a "$TEST_TMP/a.yaml"
start_device b "$TEST_TMP/b.yaml"
start_device c "$TEST_TMP/c.yaml"
py_wait 3 "A has discovered B and C" \
  "{e['device_id'] for e in jl(0) if e.get('event') == 'device_seen'} >= {'$B', '$C'}" "$TEST_TMP/a"

admin=(--user "$ADMIN_USER" --password "$ADMIN_PASSWORD")

# start_hold <name> <device id> <seconds>: a client holding a connection; sets HOLD_PID, HOLD_PEER
# (the client's own random device id, as the device logs it).
start_hold() {
  local name="$1" target="$2" seconds="$3" before
  before=$(py_get "len([e for e in conns(0) if e['state'] == 'connected'])" "$TEST_TMP/d")
  start_bg "$TEST_TMP/$name" "$HP" connect "$target" "${admin[@]}" --hold "$seconds" --json --log-level info
  HOLD_PID=$LAST_PID
  expect_line "$TEST_TMP/$name" '"result":"SUCCESS"' 6 "$name: the client connects and holds"
  py_wait 2 "$name: D counts it (1)" \
    "len([e for e in conns(0) if e['state'] == 'connected']) == $before + 1 and count(0) == 1" "$TEST_TMP/d"
  HOLD_PEER=$(py_get "[e['peer_id'] for e in conns(0) if e['state'] == 'connected'][-1]" "$TEST_TMP/d")
}

# ---- the initiator disconnects ----
start_hold hold_end "$D" 2
end_process "$HOLD_PID" - 5 "hold_end: connect --hold 2 ends by itself"
expect_line "$TEST_TMP/hold_end" '"by":"local","detail":"NORMAL"' 0 "hold_end: the client disconnected NORMAL"
py_wait 2 "initiator side: D sees Disconnect NORMAL (peer requested), count back to 0" \
  "[(e['reason'], e['cause'], e['count']) for e in conns(0, '$HOLD_PEER') if e['state'] == 'disconnected'] == [('NORMAL', 'peer requested', 0)]" \
  "$TEST_TMP/d"
expect_line "$TEST_TMP/hold_end.err" "disconnected from $D: NORMAL (local request), 0/8 connections" 0 \
  "initiator side: the client's count is back to 0 too"

# ---- the target disconnects (through its ConnectionManager) ----
start_hold hold_kicked "$D" 20
run kick "$HP" invoke "$D" connection-manager Disconnect "peer=$HOLD_PEER" "${admin[@]}" --json
expect_rc 0 "an admin tells D to disconnect the holding client"
py_check "the action answers OK, started" "j(0)['result'] == 'OK' and j(0)['values'] == {'started': True}" \
  "$TEST_TMP/kick"
end_process "$HOLD_PID" - 3 "the holding client ends at once when D disconnects it"
expect_line "$TEST_TMP/hold_kicked" '"by":"peer","detail":"NORMAL (peer requested)"' 0 \
  "target side: the client hears Disconnect NORMAL from the device"
expect_line "$TEST_TMP/hold_kicked.err" "disconnected from $D: NORMAL (peer requested), 0/8 connections" 0 \
  "target side: the client's count is back to 0"
py_wait 2 "target side: D logs it as its own request, and its count is back to 0 once the admin client left" \
  "[(e['reason'], e['cause']) for e in conns(0, '$HOLD_PEER') if e['state'] == 'disconnected'] == [('NORMAL', 'local request')] and count(0) == 0" \
  "$TEST_TMP/d"

# ---- kill -9 of the client: D notices at once (the kernel closes the socket) ----
start_hold hold_killed "$D" 30
t0=$(now)
kill -KILL "$HOLD_PID"
py_wait $NOTICE_LIMIT "kill -9 of the client: D notices (transport closed) and its count returns to 0" \
  "[(e['cause'], e['count']) for e in conns(0, '$HOLD_PEER') if e['state'] == 'disconnected'] == [('transport closed', 0)]" \
  "$TEST_TMP/d"
log "D noticed the killed client after $(notice_delay "$t0" "$TEST_TMP/d.err" "disconnected from $HOLD_PEER") s"

# ---- a hung client (SIGSTOP): only keepalive can tell ----
start_hold hold_hung "$D" 30
t0=$(now)
kill -STOP "$HOLD_PID"
py_wait 6 "a hung client: D drops it by keepalive timeout, count back to 0" \
  "[(e['cause'], e['count']) for e in conns(0, '$HOLD_PEER') if e['state'] == 'disconnected'] == [('keepalive timeout', 0)]" \
  "$TEST_TMP/d"
delay=$(notice_delay "$t0" "$TEST_TMP/d.err" "disconnected from $HOLD_PEER")
py_check "D noticed the hung client within 3 keepalive intervals ($delay s after SIGSTOP, limit $NOTICE_LIMIT s)" \
  "float(FILES[0]) <= $NOTICE_LIMIT" "$delay"
kill -KILL "$HOLD_PID"; kill -CONT "$HOLD_PID" 2>/dev/null || true

# ---- device to device: A connects to B, then A disconnects ----
# connect_ab <from> <to>: through <from>'s ConnectionManager; waits until both count each other.
connect_ab() {
  local from="$1" to="$2" from_id="${!1}" to_id="${!2}"
  run "connect_${from}${to}" "$HP" invoke "$from_id" connection-manager Connect "target=$to_id" "${admin[@]}" --json
  expect_rc 0 "an admin tells $from to connect to $to"
  py_wait 3 "$from is connected to $to (initiator) and counts 1 once the admin client left" \
    "'$to_id' in connected(0) and conns(0, '$to_id')[-1]['role'] == 'initiator' and count(0) == 1" \
    "$TEST_TMP/${from,,}"
  py_wait 2 "$to is connected to $from (target) and counts 1" \
    "connected(0) == {'$from_id'} and conns(0, '$from_id')[-1]['role'] == 'target' and count(0) == 1" \
    "$TEST_TMP/${to,,}"
}
connect_ab A B
run a_leaves "$HP" invoke "$A" connection-manager Disconnect "peer=$B" "${admin[@]}" --json
expect_rc 0 "an admin tells A to disconnect from B"
py_wait 3 "device to device: A's count is back to 0 (it asked)" \
  "conns(0, '$B')[-1]['cause'] == 'local request' and connected(0) == set() and count(0) == 0" "$TEST_TMP/a"
py_wait 2 "device to device: B's count is back to 0 (A asked)" \
  "conns(0, '$A')[-1]['cause'] == 'peer requested' and connected(0) == set() and count(0) == 0" "$TEST_TMP/b"

# ---- kill -9 of a device: the other device notices ----
connect_ab A B
t0=$(now)
kill -KILL "${DEV_PID[b]}"
py_wait $NOTICE_LIMIT "kill -9 of B: A notices and its count returns to 0" \
  "conns(0, '$B')[-1]['state'] == 'disconnected' and connected(0) == set() and count(0) == 0" "$TEST_TMP/a"
log "A noticed the killed B after $(notice_delay "$t0" "$TEST_TMP/a.err" "disconnected from $B") s" \
  "(cause: $(py_get "conns(0, '$B')[-1]['cause']" "$TEST_TMP/a"))"

# ---- a hung device (SIGSTOP): A notices by keepalive; C, resumed, notices the closed connection ----
connect_ab A C
t0=$(now)
kill -STOP "${DEV_PID[c]}"
py_wait 6 "hung C: A drops it by keepalive timeout, count back to 0" \
  "conns(0, '$C')[-1]['cause'] == 'keepalive timeout' and connected(0) == set() and count(0) == 0" "$TEST_TMP/a"
delay=$(notice_delay "$t0" "$TEST_TMP/a.err" "disconnected from $C")
py_check "A noticed the hung C within 3 keepalive intervals ($delay s after SIGSTOP, limit $NOTICE_LIMIT s)" \
  "float(FILES[0]) <= $NOTICE_LIMIT" "$delay"
kill -CONT "${DEV_PID[c]}"
py_wait 3 "C, resumed, finds the connection gone and its count back to 0 too" \
  "conns(0, '$A')[-1]['state'] == 'disconnected' and connected(0) == set() and count(0) == 0" "$TEST_TMP/c"

# ---- SIGTERM of the target: it disconnects its holding client NORMAL ----
start_hold hold_term "$D" 30
stop_device d 5
end_process "$HOLD_PID" - 3 "the holding client ends at once when D stops"
expect_line "$TEST_TMP/hold_term" '"by":"peer","detail":"NORMAL (peer requested)"' 0 \
  "a device stopping with SIGTERM disconnects its client NORMAL"
expect_line "$TEST_TMP/hold_term.err" "0/8 connections" 0 "and the client's count is back to 0"

stop_device a 5
stop_device c 5
summary
