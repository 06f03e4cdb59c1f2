#!/usr/bin/env bash
# Fault: the network between the bridge and a device goes down for LINK_DOWN_SECONDS (default 6;
# scripts/faults.sh runs 30), then comes back. Two network namespaces joined by a veth pair: the
# device (`homepeer device`) in a, Mosquitto, `peer2mqtt` and an MQTT observer (mosquitto_sub)
# in b. Checks: the bridge notices (keepalive) and shows the device disconnected and then offline
# (max-age); the device drops its side too (count 0); once the link is back the device is seen
# again and the bridge, which still wants it, reconnects on its own: count 1 on the device (no
# stale connection), connected on MQTT. Prints "fault: ..." with the times measured.
#
# Traffic: as scenario_two_hosts_test.sh: runs as root in the host namespace only to create two
# namespaces of its own with `ip netns add` and a veth pair created inside them; addresses, routes
# and every process exist only inside those namespaces. The EXIT trap deletes them. Without
# permission for `ip netns add` the test is skipped (exit 77).
# Usage (ctest does this): link_down_test.sh <build dir>, with HOMEP2P_BIN_HOMEPEER and
# HOMEP2P_BIN_PEER2MQTT set.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/../lib.sh"
make_test_tmp
HP=$(require_bin HOMEP2P_BIN_HOMEPEER)
P2M=$(require_bin HOMEP2P_BIN_PEER2MQTT)
ROOT="$(cd "$here/../../.." && pwd)"
DOWN="${LINK_DOWN_SECONDS:-6}"
command -v ip >/dev/null || skip "ip (iproute2) not found"
command -v mosquitto_sub >/dev/null || skip "mosquitto_sub not found"

tag="$$-$RANDOM"
readonly NSA="p2p-link-$tag-a" NSB="p2p-link-$tag-b"
readonly NET="10.78.$((RANDOM % 250 + 1))"
readonly ADDR_A="$NET.1" ADDR_B="$NET.2"
readonly VETH_A=p2p-veth-a VETH_B=p2p-veth-b
declare -a CREATED_NS=()
delete_namespaces() {
  local ns
  for ns in ${CREATED_NS[@]+"${CREATED_NS[@]}"}; do ip netns del "$ns" 2>/dev/null || log "could not delete $ns"; done
}
trap 'rc=$?; if [[ $rc -ne 0 && $rc -ne $SKIP_CODE ]]; then dump_outputs; fi; cleanup; delete_namespaces; exit $rc' EXIT

why=$(ip netns add "$NSA" 2>&1) || skip "cannot create a network namespace with ip netns add: $why"
CREATED_NS+=("$NSA")
ip netns add "$NSB" || fail "ip netns add $NSB"
CREATED_NS+=("$NSB")
ip -n "$NSA" link add "$VETH_A" type veth peer name "$VETH_B" netns "$NSB" || fail "cannot create the veth pair"
for side in A B; do
  ns_var="NS$side"; veth_var="VETH_$side"; addr_var="ADDR_$side"
  ip -n "${!ns_var}" link set lo up
  ip -n "${!ns_var}" addr add "${!addr_var}/24" dev "${!veth_var}"
  ip -n "${!ns_var}" link set "${!veth_var}" up
  ip -n "${!ns_var}" route add 224.0.0.0/4 dev "${!veth_var}"
done
in_a=(ip netns exec "$NSA")
in_b=(ip netns exec "$NSB")
readonly DEV=6c000000-0000-4000-8000-00000000006c
readonly BROKER_PORT=18830 DISCOVERY_PORT=17788

cat >"$TEST_TMP/device.yaml" <<YAML
device: {id: $DEV, type: Light, name: Lamp}
network: {interface: $ADDR_A, port: 0, multicast_port: $DISCOVERY_PORT, max_age: 4, keepalive: 1}
security:
  authentication: required
  accounts: [{user: admin, password: admin-password, role: admin}]
services: [{id: lamp, type: SwitchPower}]
YAML
cat >"$TEST_TMP/mosquitto.conf" <<CONF
listener $BROKER_PORT 127.0.0.1
allow_anonymous true
persistence false
CONF
cat >"$TEST_TMP/configuration.yaml" <<YAML
mqtt: {server: "mqtt://127.0.0.1:$BROKER_PORT", base_topic: peer2mqtt}
homeassistant: {enabled: false}
bridge: {id: 5eed0000-0000-4000-8000-00000000b71d, name: link bridge}
network: {interface: $ADDR_B, multicast_port: $DISCOVERY_PORT, max_age: 4, keepalive: 1}
credentials: {default: {user: admin, password: admin-password}}
mappings: $ROOT/mappings
state_file: $TEST_TMP/state.json
log_level: debug
YAML

start_bg "$TEST_TMP/device.out" "${in_a[@]}" "$HP" device --config "$TEST_TMP/device.yaml" --json
start_bg "$TEST_TMP/mosquitto.out" "${in_b[@]}" mosquitto -c "$TEST_TMP/mosquitto.conf"
sleep 0.3
start_bg "$TEST_TMP/mqtt.out" "${in_b[@]}" mosquitto_sub -p "$BROKER_PORT" -v -t 'peer2mqtt/#'
start_bg "$TEST_TMP/bridge.out" "${in_b[@]}" "$P2M" --config "$TEST_TMP/configuration.yaml"
pid_bridge=$LAST_PID

now() { date +%s.%N; }
# mqtt_wait <timeout s> <what> <python expression over m (list of (topic, payload) so far)>
mqtt_wait() {
  local timeout="$1" what="$2" expr="$3"
  python3 - "$TEST_TMP/mqtt.out" "$timeout" "$expr" <<'PY' || fail "$what (within $timeout s)"
import json, sys, time
path, timeout, expr = sys.argv[1], float(sys.argv[2]), sys.argv[3]
def state(p):
    try: return json.loads(p)
    except ValueError: return {}
deadline = time.time() + timeout
while True:
    m = []
    for line in open(path, errors="replace"):
        topic, _, payload = line.rstrip("\n").partition(" ")
        m.append((topic, payload))
    lamp = [state(p) for t, p in m if t == "peer2mqtt/Lamp"]
    avail = [state(p).get("state") for t, p in m if t == "peer2mqtt/Lamp/availability"]
    if eval(expr):
        sys.exit(0)
    if time.time() > deadline:
        sys.exit(1)
    time.sleep(0.05)
PY
  log "ok: $what"
}
# device_count: the device's connection count after its last change (from its JSON lines).
device_count() {
  python3 -c '
import json, sys
c = 0
for line in open(sys.argv[1]):
    if line.startswith("{\"event\":\"connection\""):
        c = json.loads(line)["count"]
print(c)' "$TEST_TMP/device.out"
}
mark() { wc -l <"$TEST_TMP/mqtt.out"; }

mqtt_wait 20 "the bridge sees the device across the link" "avail and avail[-1] == 'online'"
"${in_b[@]}" mosquitto_pub -p "$BROKER_PORT" -t peer2mqtt/Lamp/set -m '{"connection":"connect"}'
mqtt_wait 15 "the bridge connects to it" "lamp and lamp[-1].get('connection') == 'connected'"
[[ "$(device_count)" == 1 ]] || fail "the device counts $(device_count), expected 1"

from=$(mark)
t_down=$(now)
ip -n "$NSA" link set "$VETH_A" down
log "link down for $DOWN s"
mqtt_wait 8 "the bridge notices (keepalive): disconnected" \
  "any(t == 'peer2mqtt/Lamp' and state(p).get('connection') == 'disconnected' for t, p in m[$from:])"
t_noticed=$(now)
if (( DOWN >= 5 )); then
  mqtt_wait 8 "and shows it offline once its max-age passes" \
    "any(t == 'peer2mqtt/Lamp/availability' and state(p).get('state') == 'offline' for t, p in m[$from:])"
fi
for _ in $(seq 50); do [[ "$(device_count)" == 0 ]] && break; sleep 0.1; done
[[ "$(device_count)" == 0 ]] || fail "the device still counts $(device_count) with the link down"
log "ok: the device dropped its side too (count 0)"
left=$(python3 -c "import sys; print(max(0.0, $DOWN - ($(now) - $t_down)))")
sleep "$left"

from=$(mark)
ip -n "$NSA" link set "$VETH_A" up
ip -n "$NSA" route replace 224.0.0.0/4 dev "$VETH_A"
t_up=$(now)
log "link up"
mqtt_wait 30 "the device is seen again and the bridge reconnects on its own" \
  "any(t == 'peer2mqtt/Lamp' and state(p).get('connection') == 'connected' for t, p in m[$from:])"
t_back=$(now)
sleep 2
[[ "$(device_count)" == 1 ]] || fail "after reconnecting the device counts $(device_count), expected 1"
log "ok: the device counts 1 (no stale connection)"
is_running "$pid_bridge" || fail "the bridge died"
printf 'fault: link down %s s -> bridge noticed after %.1f s, reconnected %.1f s after link up, device count 1\n' \
  "$DOWN" "$(python3 -c "print($t_noticed - $t_down)")" "$(python3 -c "print($t_back - $t_up)")"
echo "link down: passed"
