#!/usr/bin/env bash
# Issue 3, scenario "discovery": three `homepeer device` processes; `homepeer discover --json`
# lists all three with the right ids, names, types, addresses, ports, services and security; the
# search conditions (--type, --service, --id) select; one device stopped with SIGTERM disappears
# from the next discover and the others see its bye-bye at once; one killed with -9 (no bye-bye)
# is dropped by the others when its max-age (3 s) passes unrefreshed.
#
# Traffic: everything runs inside a network namespace this script creates (enter_netns, lib.sh),
# on its loopback only; nothing is sent outside it.
# Usage (ctest does this): scenario_discovery_test.sh <build dir>, with HOMEP2P_BIN_HOMEPEER set.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"

enter_netns "$0" "$@"
. "$here/scenario_lib.sh" scenario_discovery
setup_loopback_multicast
only_loopback
make_test_tmp
HP=$(require_bin HOMEP2P_BIN_HOMEPEER)

readonly LAMP=1a000000-0000-4000-8000-000000000001
readonly THERMO=1a000000-0000-4000-8000-000000000002
readonly PLUG=1a000000-0000-4000-8000-000000000003
readonly MAX_AGE=3

make_config "$TEST_TMP/lamp.yaml" "$LAMP" DimmableLight "Test lamp" max_age=$MAX_AGE \
  services="power:SwitchPower brightness:Dimming"
make_config "$TEST_TMP/thermo.yaml" "$THERMO" Thermometer "Test thermometer" max_age=$MAX_AGE \
  services="temperature:TemperatureSensor"
make_config "$TEST_TMP/plug.yaml" "$PLUG" PowerOutlet "Test plug" max_age=$MAX_AGE auth=none \
  services="outlet:SwitchPower"

start_device lamp "$TEST_TMP/lamp.yaml"
start_device thermo "$TEST_TMP/thermo.yaml"
start_device plug "$TEST_TMP/plug.yaml"

# The devices see each other's announcements (patent step B).
declare -A OTHERS=([lamp]="$THERMO $PLUG" [thermo]="$LAMP $PLUG" [plug]="$LAMP $THERMO")
for who in lamp thermo plug; do
  py_wait 3 "$who sees the two other devices appear (device_seen, new)" \
    "{e['device_id'] for e in jl(0) if e.get('event') == 'device_seen' and e['new']} == set(FILES[1].split())" \
    "$TEST_TMP/$who" "${OTHERS[$who]}"
done

# ---- discover lists all three, with their services (patent step C: search, unicast answers) ----
run discover_all "$HP" discover --json --timeout 2
expect_rc 0 "discover --json"
expected_all=$(cat <<EOF
{"$LAMP": ["Test lamp", "DimmableLight", ${DEV_PORT[lamp]}, True,
           [["power", "SwitchPower"], ["brightness", "Dimming"], ["connection-manager", "ConnectionManager"]]],
 "$THERMO": ["Test thermometer", "Thermometer", ${DEV_PORT[thermo]}, True,
           [["temperature", "TemperatureSensor"], ["connection-manager", "ConnectionManager"]]],
 "$PLUG": ["Test plug", "PowerOutlet", ${DEV_PORT[plug]}, False,
           [["outlet", "SwitchPower"], ["connection-manager", "ConnectionManager"]]]}
EOF
)
py_check "discover lists exactly the three devices" \
  "sorted(d['device_id'] for d in j(0)) == sorted(['$LAMP', '$THERMO', '$PLUG'])" "$TEST_TMP/discover_all"
for id in $LAMP $THERMO $PLUG; do
  py_check "discover: $id has the configured name, type, port, auth flag and services" \
    "[(d['name'], d['type'], d['port'], d['auth_required'], sorted([s['id'], s['type']] for s in d['services'])) for d in j(0) if d['device_id'] == '$id'] == [(lambda v: (v[0], v[1], v[2], v[3], sorted(v[4])))(($expected_all)['$id'])]" \
    "$TEST_TMP/discover_all"
done
py_check "discover: every device is at 127.0.0.1 (loopback of the test namespace)" \
  "all(d['address'] == '127.0.0.1' for d in j(0))" "$TEST_TMP/discover_all"
py_check "discover: sorted by name" \
  "[d['name'] for d in j(0)] == sorted(d['name'] for d in j(0))" "$TEST_TMP/discover_all"

# Search conditions: each selects exactly the matching device.
run discover_type "$HP" discover --json --timeout 1.5 --type Thermometer
expect_rc 0 "discover --type Thermometer"
py_check "discover --type Thermometer finds only the thermometer" \
  "[d['device_id'] for d in j(0)] == ['$THERMO']" "$TEST_TMP/discover_type"
run discover_service "$HP" discover --json --timeout 1.5 --service SwitchPower
expect_rc 0 "discover --service SwitchPower"
py_check "discover --service SwitchPower finds the lamp and the plug, not the thermometer" \
  "sorted(d['device_id'] for d in j(0)) == sorted(['$LAMP', '$PLUG'])" "$TEST_TMP/discover_service"
run discover_id "$HP" discover --json --timeout 1.5 --id "$PLUG"
expect_rc 0 "discover --id <plug>"
py_check "discover --id finds only that device" \
  "[d['device_id'] for d in j(0)] == ['$PLUG']" "$TEST_TMP/discover_id"

# Human output too: a name line per device.
run discover_human "$HP" discover --timeout 1.5
expect_rc 0 "discover (human output)"
for name in "Test lamp" "Test thermometer" "Test plug"; do
  expect_line "$TEST_TMP/discover_human" "$name" 0 "human discover output names $name"
done

# ---- SIGTERM: bye-bye, gone at once ----
stop_device plug 5
for who in lamp thermo; do
  # Well before the plug's max-age (3 s) could have run out: this is the bye-bye.
  py_wait 1 "$who sees the plug leave by bye-bye" \
    "any(e.get('event') == 'device_gone' and e['device_id'] == '$PLUG' and e['cause'] == 'byebye' for e in jl(0))" \
    "$TEST_TMP/$who"
done
run discover_after_term "$HP" discover --json --timeout 1.5
expect_rc 0 "discover after the plug's SIGTERM"
py_check "the next discover lists the lamp and the thermometer, not the plug" \
  "sorted(d['device_id'] for d in j(0)) == sorted(['$LAMP', '$THERMO'])" "$TEST_TMP/discover_after_term"

# ---- kill -9: no bye-bye; expires after max-age ----
killed_at=$(date +%s.%N)
kill -KILL "${DEV_PID[thermo]}"
wait_exit "${DEV_PID[thermo]}" 2 || fail "the thermometer did not die on SIGKILL"
py_wait $((MAX_AGE + 2)) "the lamp drops the killed thermometer as expired (its max-age passed)" \
  "any(e.get('event') == 'device_gone' and e['device_id'] == '$THERMO' and e['cause'] == 'expired' for e in jl(0))" \
  "$TEST_TMP/lamp"
gone_after=$(python3 -c "import sys, time; print(round(time.time() - float(sys.argv[1]), 2))" "$killed_at")
log "the lamp noticed the killed thermometer ${gone_after} s after SIGKILL (max-age $MAX_AGE s)"
# The last announcement came at most ~55 % of max-age before the kill, so expiry cannot be
# sooner than ~45 % of max-age after it: a much earlier "gone" would not be max-age at work.
py_check "the expiry came from max-age, not earlier (${gone_after} s >= 1 s after the kill)" \
  "float(FILES[0]) >= 1.0" "$gone_after"
py_check "no bye-bye was seen from the killed thermometer" \
  "not any(e.get('event') == 'device_gone' and e['device_id'] == '$THERMO' and e['cause'] == 'byebye' for e in jl(0))" \
  "$TEST_TMP/lamp"
run discover_after_kill "$HP" discover --json --timeout 1.5
expect_rc 0 "discover after the thermometer's SIGKILL"
py_check "the next discover lists only the lamp" \
  "[d['device_id'] for d in j(0)] == ['$LAMP']" "$TEST_TMP/discover_after_kill"

stop_device lamp 5
summary
