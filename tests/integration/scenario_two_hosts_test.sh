#!/usr/bin/env bash
# Issue 3, scenario "two hosts on one LAN": two network namespaces joined by a veth pair, one
# `homepeer device` in each (--interface set to its veth address):
#  - discovery across the link: each device sees the other appear; `homepeer discover` in one
#    namespace lists the device of the other at its veth address and port;
#  - connection across it: a client in namespace b connects to the device in namespace a
#    (SUCCESS); device B connects to device A through B's ConnectionManager (both count 1);
#  - the link taken down (inside namespace a): both devices notice by keepalive (1 s, within a few
#    intervals) and fix their counts to 0 (A also drops a client from b that held a
#    connection), and both drop each other from discovery when max-age passes;
#  - link up again: A is found again (device_seen on B, `discover` from b) and a new connection
#    across the link succeeds.
#
# Traffic: this script does NOT use enter_netns. It runs as root in the host namespace only to
# create two namespaces of its own (p2p-test-<random>-a/-b) with `ip netns add`, creates the veth
# pair inside namespace a and moves its peer end straight into namespace b (`ip -n A link add ...
# peer ... netns B`): no interface, address or route of the host is created or changed. Addresses
# (10.77.<random>.1/24, .2/24) and the multicast route exist only inside those namespaces, and
# every process runs inside one of them (`ip netns exec`). The EXIT trap kills the processes and
# deletes both namespaces (and with them the veth pair). Without permission for `ip netns add`
# the test is skipped (exit 77).
# Usage (ctest does this): scenario_two_hosts_test.sh <build dir>, with HOMEP2P_BIN_HOMEPEER set.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
. "$here/scenario_lib.sh" scenario_two_hosts
make_test_tmp
HP=$(require_bin HOMEP2P_BIN_HOMEPEER)

command -v ip >/dev/null || skip "ip (iproute2) not found"
tag="$$-$RANDOM"
readonly NSA="p2p-test-$tag-a" NSB="p2p-test-$tag-b"
readonly NET="10.77.$((RANDOM % 250 + 1))"
readonly ADDR_A="$NET.1" ADDR_B="$NET.2"
readonly VETH_A=p2p-veth-a VETH_B=p2p-veth-b   # names inside the namespaces only
readonly NOTICE_LIMIT=3.5   # 3 keepalive intervals of 1 s, plus scheduling slack
declare -a CREATED_NS=()

delete_namespaces() {
  local ns
  for ns in ${CREATED_NS[@]+"${CREATED_NS[@]}"}; do
    ip netns del "$ns" 2>/dev/null || log "could not delete namespace $ns"
  done
}
# lib.sh's trap, plus the namespaces (after the processes inside them are killed).
trap 'rc=$?; if [[ $rc -ne 0 && $rc -ne $SKIP_CODE ]]; then dump_outputs; fi; cleanup; delete_namespaces; exit $rc' EXIT

why=$(ip netns add "$NSA" 2>&1) || skip "cannot create a network namespace with ip netns add: $why"
CREATED_NS+=("$NSA")
ip netns add "$NSB" || fail "ip netns add $NSB"
CREATED_NS+=("$NSB")
ip -n "$NSA" link add "$VETH_A" type veth peer name "$VETH_B" netns "$NSB" ||
  fail "cannot create the veth pair inside $NSA/$NSB"
for side in A B; do
  ns_var="NS$side"; veth_var="VETH_$side"; addr_var="ADDR_$side"
  ns="${!ns_var}" veth="${!veth_var}" addr="${!addr_var}"
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$addr/24" dev "$veth"
  ip -n "$ns" link set "$veth" up
  ip -n "$ns" route add 224.0.0.0/4 dev "$veth"
done
# The veth pair and the test addresses really are only in the two namespaces, and each
# namespace has only lo and its end of the pair: nothing the test starts can reach anything else.
host_untouched() {
  if ip -o link show | grep -qF "p2p-veth-"; then fail "a veth end is in the host namespace"; fi
  if ip -o addr show | grep -qF " $NET."; then fail "a test address ($NET.x) is on a host interface"; fi
  if ip route show | grep -qF "$NET."; then fail "a route to the test network is in the host namespace"; fi
}
host_untouched
[[ "$(ip -n "$NSA" -o link show | awk -F': ' '{print $2}' | tr '\n' ' ')" == "lo $VETH_A@if"* ]] ||
  fail "namespace a has other interfaces: $(ip -n "$NSA" -o link show)"
[[ "$(ip -n "$NSB" -o link show | awk -F': ' '{print $2}' | tr '\n' ' ')" == "lo $VETH_B@if"* ]] ||
  fail "namespace b has other interfaces: $(ip -n "$NSB" -o link show)"
pass "namespaces $NSA and $NSB joined by a veth pair ($ADDR_A <-> $ADDR_B), each with only lo and its end; nothing on the host"
# wait_carrier <ns> <veth>: until the link is up at both ends (LOWER_UP).
wait_carrier() {
  local _
  for _ in $(seq 50); do
    ip -n "$1" -o link show "$2" | grep -q "LOWER_UP" && return 0
    sleep 0.1
  done
  fail "$2 in $1 has no carrier after 5 s"
}
wait_carrier "$NSA" "$VETH_A"
wait_carrier "$NSB" "$VETH_B"
pass "the veth link is up at both ends"

readonly A=6f000000-0000-4000-8000-00000000000a
readonly B=6f000000-0000-4000-8000-00000000000b
admin=(--user "$ADMIN_USER" --password "$ADMIN_PASSWORD")
in_a=(ip netns exec "$NSA")
in_b=(ip netns exec "$NSB")

# The configs say lo; --interface on the command line must win (docs/HOMEPEER.md).
make_config "$TEST_TMP/a.yaml" "$A" DimmableLight "Lamp in a" services="power:SwitchPower brightness:Dimming"
make_config "$TEST_TMP/b.yaml" "$B" PowerOutlet "Plug in b" services="outlet:SwitchPower"
DEVICE_FLAGS=(--interface "$ADDR_A"); start_device a "$TEST_TMP/a.yaml" "${in_a[@]}"
DEVICE_FLAGS=(--interface "$ADDR_B"); start_device b "$TEST_TMP/b.yaml" "${in_b[@]}"
expect_line "$TEST_TMP/a.err" "listening on $ADDR_A:${DEV_PORT[a]}" 0 "A listens on its veth address"

# ---- discovery across the link ----
py_wait 4 "A (in a) sees B (in b) appear" "any(e.get('event') == 'device_seen' and e['device_id'] == '$B' for e in jl(0))" "$TEST_TMP/a"
py_wait 4 "B (in b) sees A (in a) appear" "any(e.get('event') == 'device_seen' and e['device_id'] == '$A' for e in jl(0))" "$TEST_TMP/b"
run discover_b "${in_b[@]}" "$HP" discover --interface "$ADDR_B" --json --timeout 2
expect_rc 0 "discover from namespace b"
py_check "it lists A at its address in a ($ADDR_A:${DEV_PORT[a]}) with its services" \
  "[(d['address'], d['port'], sorted(s['id'] for s in d['services'])) for d in j(0) if d['device_id'] == '$A'] == [('$ADDR_A', ${DEV_PORT[a]}, ['brightness', 'connection-manager', 'power'])]" \
  "$TEST_TMP/discover_b"
run discover_a "${in_a[@]}" "$HP" discover --interface "$ADDR_A" --json --timeout 2
expect_rc 0 "discover from namespace a"
py_check "it lists B at its address in b ($ADDR_B:${DEV_PORT[b]})" \
  "[(d['address'], d['port']) for d in j(0) if d['device_id'] == '$B'] == [('$ADDR_B', ${DEV_PORT[b]})]" \
  "$TEST_TMP/discover_a"

# ---- connections across the link ----
run connect_b_to_a "${in_b[@]}" "$HP" connect "$A" --interface "$ADDR_B" "${admin[@]}" --json
expect_rc 0 "a client in b connects to A in a"
py_check "SUCCESS" "j(0)['result'] == 'SUCCESS'" "$TEST_TMP/connect_b_to_a"
py_wait 2 "A counted the client from b and uncounted it (1, then 0)" \
  "[(e['state'], e['count']) for e in conns(0)] == [('connected', 1), ('disconnected', 0)]" "$TEST_TMP/a"

run link_ba "${in_b[@]}" "$HP" invoke "$B" connection-manager Connect "target=$A" --interface "$ADDR_B" "${admin[@]}" --json
expect_rc 0 "an admin in b tells B to connect to A across the link"
py_wait 3 "B is connected to A (initiator), count 1" \
  "connected(0) == {'$A'} and conns(0, '$A')[-1]['role'] == 'initiator' and count(0) == 1" "$TEST_TMP/b"
py_wait 2 "A is connected to B (target), count 1" \
  "connected(0) == {'$B'} and conns(0, '$B')[-1]['role'] == 'target' and count(0) == 1" "$TEST_TMP/a"
start_bg "$TEST_TMP/hold_b" "${in_b[@]}" "$HP" connect "$A" --interface "$ADDR_B" "${admin[@]}" --hold 60 --json
pid_hold=$LAST_PID
expect_line "$TEST_TMP/hold_b" '"result":"SUCCESS"' 6 "a client in b holds a connection to A"
py_wait 2 "A counts 2 (B and the holding client)" "count(0) == 2 and len(connected(0)) == 2" "$TEST_TMP/a"

# ---- the link goes down ----
sleep 1  # a keepalive interval of normal traffic first
t_down=$(now)
ip -n "$NSA" link set "$VETH_A" down
log "link down ($VETH_A in $NSA)"
py_wait 6 "A notices (keepalive) that B and the client are gone: count 0" \
  "connected(0) == set() and count(0) == 0" "$TEST_TMP/a"
py_wait 6 "B notices (keepalive) that A is gone: count 0" \
  "connected(0) == set() and count(0) == 0" "$TEST_TMP/b"
py_check "B's cause is keepalive timeout" "conns(0, '$A')[-1]['cause'] == 'keepalive timeout'" "$TEST_TMP/b"
py_check "A's cause for both B and the holding client is keepalive timeout" \
  "[(e['state'], e['cause']) for e in conns(0)[-2:]] == [('disconnected', 'keepalive timeout')] * 2 and '$B' in [e['peer_id'] for e in conns(0)[-2:]]" \
  "$TEST_TMP/a"
# From the devices' own log timestamps: the last Ping/Pong came at most one interval before the
# link went down, so 3 intervals of silence end at most 3 s after it (+ slack for a busy machine).
delay_a=$(notice_delay "$t_down" "$TEST_TMP/a.err" "disconnected from $B")
delay_b=$(notice_delay "$t_down" "$TEST_TMP/b.err" "disconnected from $A")
py_check "both noticed within 3 keepalive intervals (A after $delay_a s, B after $delay_b s; limit $NOTICE_LIMIT s)" \
  "float(FILES[0]) <= $NOTICE_LIMIT and float(FILES[1]) <= $NOTICE_LIMIT" "$delay_a" "$delay_b"
py_wait 5 "B drops A from discovery when its max-age passes (expired)" \
  "any(e.get('event') == 'device_gone' and e['device_id'] == '$A' and e['cause'] == 'expired' for e in jl(0))" "$TEST_TMP/b"
py_wait 3 "A drops B too" \
  "any(e.get('event') == 'device_gone' and e['device_id'] == '$B' and e['cause'] == 'expired' for e in jl(0))" "$TEST_TMP/a"
kill -KILL "$pid_hold" 2>/dev/null || true  # its own keepalive is the default 15 s

# ---- link up: found again ----
ip -n "$NSA" link set "$VETH_A" up
ip -n "$NSA" route replace 224.0.0.0/4 dev "$VETH_A"  # went away with the link
wait_carrier "$NSA" "$VETH_A"
wait_carrier "$NSB" "$VETH_B"
log "link up again"
py_wait 8 "B sees A appear again (device_seen new)" \
  "[e['new'] for e in jl(0) if e.get('event') == 'device_seen' and e['device_id'] == '$A'][-2:] == [True, True]" "$TEST_TMP/b"
py_wait 4 "and A sees B again" \
  "[e['new'] for e in jl(0) if e.get('event') == 'device_seen' and e['device_id'] == '$B'][-2:] == [True, True]" "$TEST_TMP/a"
found=0
for attempt in 1 2 3; do
  run rediscover "${in_b[@]}" "$HP" discover --interface "$ADDR_B" --json --timeout 2 --id "$A"
  [[ $RC == 0 ]] || fail "discover from b after link up: exit $RC"
  if py_get "[d['device_id'] for d in j(0)] == ['$A']" "$TEST_TMP/rediscover" | grep -q True; then found=1; break; fi
  log "discover attempt $attempt after link up did not find A yet"
done
[[ $found == 1 ]] || fail "discover from b does not find A after the link came back up"
pass "discover from b finds A again after the link came back up"
run reconnect "${in_b[@]}" "$HP" connect "$A" --interface "$ADDR_B" "${admin[@]}" --json
expect_rc 0 "and a client in b connects to A again across the link"

stop_device a 5
stop_device b 5
host_untouched
pass "the host namespace still has no test interface, address or route"
summary
