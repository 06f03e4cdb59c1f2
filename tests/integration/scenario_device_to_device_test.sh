#!/usr/bin/env bash
# Issue 3, scenario "device to device, driven by a third" (ConnectionManager, DESIGN.md §2):
#  - an admin client (`homepeer invoke A connection-manager Connect target=B --watch 3`) tells
#    device A to connect to device B: the action answers OK {started}; A's and B's --json logs
#    show the connection to each other (A initiator, B target), B counts 1, A counts 2 while the
#    admin client is still connected to A (its own connection) and 1 after it left;
#  - the watching client sees ConnectionManager service_events from A with B among the peers;
#  - `homepeer status` of A and of B list each other as peers with the right roles;
#  - a second client watching B's status sees A leave when an admin tells B to Disconnect peer=A;
#    then A and B both go back to 0 (and A reads the cause "peer requested");
#  - a non-admin account (user) is refused with DENIED (exit 4), and no connection is made;
#    Connect to a device A has not discovered makes A search for it (OK {started, searching});
#    when nothing answers, no connection is made.
#
# Traffic: everything runs inside a network namespace this script creates (enter_netns, lib.sh),
# on its loopback only; nothing is sent outside it.
# Usage (ctest does this): scenario_device_to_device_test.sh <build dir>, with HOMEP2P_BIN_HOMEPEER.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"

enter_netns "$0" "$@"
. "$here/scenario_lib.sh" scenario_device_to_device
setup_loopback_multicast
only_loopback
make_test_tmp
HP=$(require_bin HOMEP2P_BIN_HOMEPEER)

readonly A=4d000000-0000-4000-8000-00000000000a
readonly B=4d000000-0000-4000-8000-00000000000b
readonly ABSENT=4d000000-0000-4000-8000-0000000000ff
admin=(--user "$ADMIN_USER" --password "$ADMIN_PASSWORD")
plain=(--user "$PLAIN_USER" --password "$PLAIN_PASSWORD")

make_config "$TEST_TMP/a.yaml" "$A" DimmableLight "Device A" services="power:SwitchPower brightness:Dimming"
make_config "$TEST_TMP/b.yaml" "$B" Thermometer "Device B" services="temperature:TemperatureSensor"
start_device a "$TEST_TMP/a.yaml"
start_device b "$TEST_TMP/b.yaml"
py_wait 3 "A has discovered B" "any(e.get('event') == 'device_seen' and e['device_id'] == '$B' for e in jl(0))" \
  "$TEST_TMP/a"

# ---- non-admin first: refused, nothing happens ----
run user_connect "$HP" invoke "$A" connection-manager Connect "target=$B" "${plain[@]}" --json
expect_rc 4 "a non-admin account asking A to Connect is refused"
py_check "with DENIED and an error that says why" \
  "j(0)['result'] == 'DENIED' and 'admin' in j(0)['error']" "$TEST_TMP/user_connect"
expect_line "$TEST_TMP/user_connect.err" "DENIED: connection-manager.Connect on Device A" 0 \
  "and one clear line on stderr"
sleep 1
py_check "A made no connection to B after the refused request" "conns(0, '$B') == []" "$TEST_TMP/a"
py_check "B got no connection from A" "conns(0, '$A') == []" "$TEST_TMP/b"

run absent_connect "$HP" invoke "$A" connection-manager Connect "target=$ABSENT" "${admin[@]}" --json
expect_rc 0 "Connect to a device A has not discovered is accepted"
py_check "A answers that it is searching for it" \
  "j(0)['result'] == 'OK' and j(0)['values'] == {'started': True, 'searching': True}" "$TEST_TMP/absent_connect"
sleep 1.5
py_check "nothing answered, so A made no connection to it" "conns(0, '$ABSENT') == []" "$TEST_TMP/a"

# ---- the admin client tells A to connect to B, and watches A's ConnectionManager ----
run connect_ab "$HP" invoke "$A" connection-manager Connect "target=$B" "${admin[@]}" --watch 3 --json
expect_rc 0 "an admin tells A (through its ConnectionManager) to connect to B"
py_check "the action answers OK {started: true} first" \
  "jl(0)[0] == {'result': 'OK', 'values': {'started': True}, 'error': ''}" "$TEST_TMP/connect_ab"
py_check "the watching client saw a ConnectionManager event from A with B among its peers (A initiator)" \
  "any(e.get('event') == 'service_event' and e['device_id'] == '$A' and e['service_id'] == 'connection-manager' and any(p['device_id'] == '$B' and p['role'] == 'initiator' for p in json.loads(e['variables'].get('peers', '[]'))) for e in jl(0))" \
  "$TEST_TMP/connect_ab"
py_check "that event says count 2 (B and the watching client's own connection)" \
  "any(e.get('event') == 'service_event' and e['variables'].get('count') == 2 and '$B' in e['variables'].get('peers', '') for e in jl(0))" \
  "$TEST_TMP/connect_ab"
py_check "A's log: connecting, then connected to B as initiator, count 2 (B + the admin client, still connected then)" \
  "[(e['state'], e['role'], e['result'], e['count']) for e in conns(0, '$B')] == [('connecting', 'initiator', None, 1), ('connected', 'initiator', 'SUCCESS', 2)]" "$TEST_TMP/a"
py_check "B's log: connected to A as target, count 1" \
  "[(e['role'], e['state'], e['result'], e['count']) for e in conns(0, '$A')] == [('target', 'connected', 'SUCCESS', 1)]" \
  "$TEST_TMP/b"
py_wait 2 "A counts 1 (only B) once the admin client left" "connected(0) == {'$B'} and count(0) == 1" "$TEST_TMP/a"
py_check "B counts 1 (only A)" "connected(0) == {'$A'} and count(0) == 1" "$TEST_TMP/b"

run connect_again "$HP" invoke "$A" connection-manager Connect "target=$B" "${admin[@]}" --json
expect_rc 0 "Connect again while connected"
py_check "answers OK {already_connected: true}" "j(0)['values'] == {'already_connected': True}" "$TEST_TMP/connect_again"

# homepeer status: each lists the other (plus the status client itself).
run status_a "$HP" status "$A" "${plain[@]}" --json
expect_rc 0 "homepeer status A"
py_check "status A: count 2 (B + this status client), B is a peer with A as initiator" \
  "j(0)['count'] == 2 and [p['role'] for p in j(0)['peers'] if p['device_id'] == '$B'] == ['initiator']" "$TEST_TMP/status_a"
run status_b "$HP" status "$B" "${plain[@]}" --json
expect_rc 0 "homepeer status B"
py_check "status B: count 2 (A + this status client), A is a peer with B as target" \
  "j(0)['count'] == 2 and [p['role'] for p in j(0)['peers'] if p['device_id'] == '$A'] == ['target']" "$TEST_TMP/status_b"

# ---- a client watches B; an admin tells B to disconnect from A ----
start_bg "$TEST_TMP/watch_b" "$HP" status "$B" "${plain[@]}" --watch 30 --json
pid_watch=$LAST_PID
expect_line "$TEST_TMP/watch_b" "\"device_id\":\"$B\"" 6 "a status --watch client is watching B"
run b_leaves "$HP" invoke "$B" connection-manager Disconnect "peer=$A" "${admin[@]}" --json
expect_rc 0 "an admin tells B (through its ConnectionManager) to disconnect from A"
py_check "the action answers OK {started: true}" "j(0)['values'] == {'started': True}" "$TEST_TMP/b_leaves"
py_wait 3 "A's log: B disconnected it NORMAL (peer requested), A's count back to 0" \
  "[(e['state'], e['reason'], e['cause']) for e in conns(0, '$B')][-1] == ('disconnected', 'NORMAL', 'peer requested') and connected(0) == set() and count(0) == 0" \
  "$TEST_TMP/a"
py_wait 2 "B's log: it disconnected A on request (local request)" \
  "[(e['state'], e['cause']) for e in conns(0, '$A')][-1] == ('disconnected', 'local request') and '$A' not in connected(0)" \
  "$TEST_TMP/b"
py_wait 3 "the status watcher saw A leave B's peers" \
  "any(e.get('event') == 'status' and '$A' not in [p['device_id'] for p in e['peers']] for e in jl(0)) and '$A' in [p['device_id'] for p in jl(0)[0]['peers']]" \
  "$TEST_TMP/watch_b"
end_process "$pid_watch" TERM 5 "SIGTERM ends status --watch"
py_wait 2 "B's count is back to 0 once the clients left" "connected(0) == set() and count(0) == 0" "$TEST_TMP/b"

run user_disconnect "$HP" invoke "$B" connection-manager Disconnect "peer=$A" "${plain[@]}" --json
expect_rc 4 "a non-admin account asking for Disconnect is refused too"
py_check "with DENIED" "j(0)['result'] == 'DENIED'" "$TEST_TMP/user_disconnect"

stop_device a 5
stop_device b 5
summary
