#!/usr/bin/env bash
# Issue 3, scenario "connect" (patent steps 1-8, claims 5, 6, 10, 14):
#  - the right password -> SUCCESS (exit 0) and both sides count 1: the device's --json
#    "connection" line and the client's own runtime log ("1/8 connections"), and
#    `homepeer status` lists the holding client as a peer;
#  - a wrong password -> ACCESSDENIED (exit 2); an unknown user -> ACCESSDENIED (exit 2); the
#    device's count stays 0;
#  - a target with max 1 (security.max_connections: 1) held by one initiator: a second one gets
#    OVERLOAD (exit 2); once the first lets go, a new one succeeds;
#  - a device without authentication -> SUCCESS with no challenge on the wire: a raw TCP client
#    (python3, speaking the framing and JSON of docs/PROTOCOL.md itself) sends ConnectRequest and
#    reads back ConnectResponse SUCCESS without challenge/algorithm/proof, then an unsealed
#    Ping gets an unsealed Pong (the connection is not encrypted), then Disconnect NORMAL; the same
#    raw request to a device that requires authentication gets AUTHENTICATE with a challenge.
#
# Traffic: everything runs inside a network namespace this script creates (enter_netns, lib.sh),
# on its loopback only; nothing is sent outside it.
# Usage (ctest does this): scenario_connect_test.sh <build dir>, with HOMEP2P_BIN_HOMEPEER set.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"

enter_netns "$0" "$@"
. "$here/scenario_lib.sh" scenario_connect
setup_loopback_multicast
only_loopback
make_test_tmp
HP=$(require_bin HOMEP2P_BIN_HOMEPEER)

readonly SECURE=2b000000-0000-4000-8000-000000000001   # authentication required, max 8
readonly SINGLE=2b000000-0000-4000-8000-000000000002   # authentication required, max 1
readonly OPEN=2b000000-0000-4000-8000-000000000003     # authentication none
readonly RAW_ID=2b000000-0000-4000-8000-0000000000ff   # the raw wire client's device id

make_config "$TEST_TMP/secure.yaml" "$SECURE" DimmableLight "Secure lamp"
make_config "$TEST_TMP/single.yaml" "$SINGLE" PowerOutlet "Single plug" max=1
make_config "$TEST_TMP/open.yaml" "$OPEN" PowerOutlet "Open plug" auth=none
start_device secure "$TEST_TMP/secure.yaml"
start_device single "$TEST_TMP/single.yaml"
start_device open "$TEST_TMP/open.yaml"

# ---- the right password: SUCCESS, both sides count 1 ----
start_bg "$TEST_TMP/hold" "$HP" connect "$SECURE" --user "$ADMIN_USER" --password "$ADMIN_PASSWORD" \
  --hold 30 --json --log-level info
pid_hold=$LAST_PID
expect_line "$TEST_TMP/hold" "{\"result\":\"SUCCESS\",\"device_id\":\"$SECURE\"" 6 \
  "connect with the right password prints SUCCESS"
py_wait 2 "the device (target) counts the connection: connected, SUCCESS, count 1 of max 8" \
  "[(e['role'], e['result'], e['count'], e['max']) for e in conns(0) if e['state'] == 'connected'] == [('target', 'SUCCESS', 1, 8)]" \
  "$TEST_TMP/secure"
expect_line "$TEST_TMP/hold.err" "connected to $SECURE as initiator (user admin), 1/8 connections" 0 \
  "the client (initiator) counts it too: 1/8 in its runtime log"
hold_peer=$(py_get "[e['peer_id'] for e in conns(0) if e['state'] == 'connected'][0]" "$TEST_TMP/secure")
run status_secure "$HP" status "$SECURE" --user "$PLAIN_USER" --password "$PLAIN_PASSWORD" --json
expect_rc 0 "homepeer status of the device while the client holds"
# The status client is itself connected while it asks, so the device has 2 connections then.
py_check "status: count 2 (the holding client + the status client itself), max 8" \
  "(j(0)['count'], j(0)['max'], len(j(0)['peers'])) == (2, 8, 2)" "$TEST_TMP/status_secure"
py_check "status: the holding client is a peer, with the device as target" \
  "[p['role'] for p in j(0)['peers'] if p['device_id'] == '$hold_peer'] == ['target']" "$TEST_TMP/status_secure"
end_process "$pid_hold" TERM 5 "SIGTERM ends the client's --hold early"
expect_line "$TEST_TMP/hold" '{"event":"disconnected","device_id":"'"$SECURE"'","by":"local","detail":"NORMAL"}' 0 \
  "the client disconnects NORMAL"
py_wait 2 "the device's count is back to 0" "count(0) == 0 and connected(0) == set()" "$TEST_TMP/secure"
expect_line "$TEST_TMP/hold.err" "disconnected from $SECURE: NORMAL (local request), 0/8 connections" 0 \
  "the client's count is back to 0"

# ---- by address instead of id (no search): the device tells who it is ----
run by_address "$HP" connect "127.0.0.1:${DEV_PORT[secure]}" --user "$ADMIN_USER" --password "$ADMIN_PASSWORD" --json
expect_rc 0 "connect by host:port with the right password"
py_check "SUCCESS, with the device id learnt from the handshake" \
  "j(0)['result'] == 'SUCCESS' and j(0)['device_id'] == '$SECURE'" "$TEST_TMP/by_address"
py_wait 2 "the device counted it and uncounted it (back to 0)" "count(0) == 0 and connected(0) == set()" \
  "$TEST_TMP/secure"
# Port 1: nothing listens on it in this namespace, so the TCP connect is refused.
run nobody_there "$HP" connect "127.0.0.1:1" --user "$ADMIN_USER" --password "$ADMIN_PASSWORD" --json
expect_rc 3 "connect to a port where nothing listens is a local failure"
py_check "it prints a LOCAL: result" "j(0)['result'].startswith('LOCAL:')" "$TEST_TMP/nobody_there"

# ---- refusals: wrong password, unknown user (one of each: back-off starts at the 3rd) ----
run wrong_password "$HP" connect "$SECURE" --user "$ADMIN_USER" --password not-the-password --json
expect_rc 2 "connect with a wrong password"
py_check "it prints ACCESSDENIED" "j(0)['result'] == 'ACCESSDENIED' and j(0)['device_id'] == '$SECURE'" \
  "$TEST_TMP/wrong_password"
expect_line "$TEST_TMP/wrong_password.err" "ACCESSDENIED: refused by Secure lamp ($SECURE)" 0 \
  "and says so on stderr"
run unknown_user "$HP" connect "$SECURE" --user nobody --password whatever --json
expect_rc 2 "connect as an unknown user"
py_check "it prints ACCESSDENIED" "j(0)['result'] == 'ACCESSDENIED'" "$TEST_TMP/unknown_user"
# (The 3 earlier connections: the holding client, the status client, the one by address.)
py_wait 2 "the device logged both refusals as failed ACCESSDENIED (wrong reply, unknown user) and counted neither" \
  "[(e['result'], e['count'], e['detail'].split(' ')[0]) for e in conns(0) if e['state'] == 'failed'] == [('ACCESSDENIED', 0, 'wrong'), ('ACCESSDENIED', 0, 'unknown')] and len([e for e in conns(0) if e['state'] == 'connected']) == 3" \
  "$TEST_TMP/secure"
# Without --user the client sends no credential (user "anonymous", docs/HOMEPEER.md): refused.
# (The address now has 2 failures on record; back-off would start at the 3rd.)
run no_credential "$HP" connect "$SECURE" --json
expect_rc 2 "connect without --user to a device that requires authentication"
py_check "it prints ACCESSDENIED" "j(0)['result'] == 'ACCESSDENIED'" "$TEST_TMP/no_credential"

# ---- max 1: the second initiator gets OVERLOAD ----
start_bg "$TEST_TMP/first" "$HP" connect "$SINGLE" --user "$PLAIN_USER" --password "$PLAIN_PASSWORD" \
  --hold 20 --json
pid_first=$LAST_PID
expect_line "$TEST_TMP/first" '"result":"SUCCESS"' 6 "the first initiator connects to the max-1 device"
py_wait 2 "the max-1 device is at count 1 of max 1" "count(0) == 1 and conns(0)[-1]['max'] == 1" "$TEST_TMP/single"
run second "$HP" connect "$SINGLE" --user "$PLAIN_USER" --password "$PLAIN_PASSWORD" --json
expect_rc 2 "a second initiator is refused"
py_check "with OVERLOAD" "j(0)['result'] == 'OVERLOAD'" "$TEST_TMP/second"
expect_line "$TEST_TMP/second.err" "OVERLOAD: refused by Single plug ($SINGLE)" 0 "and says so on stderr"
py_wait 2 "the device logged the OVERLOAD and still counts 1" \
  "[e['result'] for e in conns(0) if e['state'] == 'failed'] == ['OVERLOAD'] and count(0) == 1" "$TEST_TMP/single"
end_process "$pid_first" TERM 5 "the first initiator lets go (SIGTERM during --hold)"
expect_line "$TEST_TMP/first" '"by":"local"' 0 "SIGTERM during --hold disconnects in order"
py_wait 2 "the max-1 device is back to 0" "count(0) == 0" "$TEST_TMP/single"
run third "$HP" connect "$SINGLE" --user "$PLAIN_USER" --password "$PLAIN_PASSWORD" --json
expect_rc 0 "with the slot free again, a new initiator succeeds"

# ---- no authentication: SUCCESS, and no challenge on the wire ----
run open_connect "$HP" connect "$OPEN" --json
expect_rc 0 "connect without credentials to the device without authentication"
py_check "it prints SUCCESS" "j(0)['result'] == 'SUCCESS'" "$TEST_TMP/open_connect"
py_wait 2 "the open device counted it (1) and then uncounted it (0)" \
  "[(e['state'], e['count']) for e in conns(0)] == [('connected', 1), ('disconnected', 0)]" "$TEST_TMP/open"
grep -qF "as target (user anonymous)" "$TEST_TMP/open.err" ||
  fail "the open device's log does not show the unauthenticated (anonymous) connection"
pass "the open device's log shows the connection was anonymous"

# A raw client: frames are a 4-byte big-endian length, then the JSON text (unsealed).
# Prints every frame it receives as one JSON line; the steps are given as arguments.
raw_client() {
  python3 - "$@" <<'EOF'
import json, socket, struct, sys
port, steps = int(sys.argv[1]), sys.argv[2:]
sock = socket.create_connection(("127.0.0.1", port), timeout=5)
def send(obj):
    data = json.dumps(obj, separators=(",", ":")).encode()
    sock.sendall(struct.pack(">I", len(data)) + data)
def recv_exact(n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk: raise SystemExit("connection closed by the device")
        buf += chunk
    return buf
def recv():
    (n,) = struct.unpack(">I", recv_exact(4))
    payload = recv_exact(n)
    print(payload.decode())  # must be plain JSON text: fails here if it were sealed
    sys.stdout.flush()
    return json.loads(payload)
serial = 0
for step in steps:
    serial += 1
    if step.startswith("connect:"):
        send({"type": "ConnectRequest", "serial": serial, "request_serial": 1,
              "user": step.split(":", 1)[1], "device_id": "2b000000-0000-4000-8000-0000000000ff"})
        recv()
    elif step == "ping":
        send({"type": "Ping", "serial": serial})
        recv()
    elif step == "disconnect":
        send({"type": "Disconnect", "serial": serial, "reason": "NORMAL"})
sock.close()
EOF
}

run raw_open raw_client "${DEV_PORT[open]}" connect:anyone ping disconnect
[[ $RC == 0 ]] || fail "raw client against the open device failed: $(cat "$TEST_TMP/raw_open.err")"
py_check "wire: ConnectRequest to the open device is answered SUCCESS at response_serial 1" \
  "(jl(0)[0]['type'], jl(0)[0]['response_serial'], jl(0)[0]['result'], jl(0)[0]['device_id']) == ('ConnectResponse', 1, 'SUCCESS', '$OPEN')" \
  "$TEST_TMP/raw_open"
py_check "wire: that answer carries no challenge, no algorithm, no proof" \
  "not ({'challenge', 'algorithm', 'proof'} & set(jl(0)[0]))" "$TEST_TMP/raw_open"
py_check "wire: an unsealed Ping is answered with an unsealed (plain JSON) Pong" \
  "jl(0)[1]['type'] == 'Pong'" "$TEST_TMP/raw_open"
py_wait 2 "the open device counted the raw client (1) and uncounted it after its Disconnect NORMAL (0)" \
  "[(e['state'], e['count'], e['reason'], e['cause']) for e in conns(0, '$RAW_ID')] == [('connected', 1, None, None), ('disconnected', 0, 'NORMAL', 'peer requested')]" \
  "$TEST_TMP/open"

run raw_secure raw_client "${DEV_PORT[secure]}" connect:admin
[[ $RC == 0 ]] || fail "raw client against the secure device failed: $(cat "$TEST_TMP/raw_secure.err")"
py_check "wire: the same request to a device that requires authentication gets AUTHENTICATE, ShareKey and a 32-byte challenge" \
  "(lambda r: (r['type'], r['response_serial'], r['result'], r['algorithm'], len(__import__('base64').b64decode(r['challenge'], validate=True))) == ('ConnectResponse', 1, 'AUTHENTICATE', 'ShareKey', 32))(jl(0)[0])" \
  "$TEST_TMP/raw_secure"
py_wait 2 "the secure device ends the abandoned handshake (failed) and never counts it" \
  "[e['state'] for e in conns(0, '$RAW_ID')] == ['failed'] and count(0) == 0" "$TEST_TMP/secure"

stop_device secure 5
stop_device single 5
stop_device open 5
summary
