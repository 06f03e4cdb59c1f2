#!/usr/bin/env bash
# Issue 3, scenario "services across processes" (patent step E: search, rent, invoke, events):
#  - search: `discover --service Dimming` finds the device; `homepeer services` lists
#    SwitchPower, Dimming, TemperatureSensor and ConnectionManager as configured, with their
#    actions, argument types and bounds, admin-only flags and initial state; `--type` selects;
#  - invoke (rent, invoke, release): SetPower on=true -> OK and the state (read back by another
#    client with `services`) is on=true; SetBrightness 40 -> brightness 40; out-of-range or
#    mistyped arguments -> BADARGS; unknown service / action -> NOSERVICE / NOACTION (exit 4);
#    TemperatureSensor Read -> a temperature in 15..30;
#  - an event arrives at the lease holder: a client holding a lease on `power` (invoke --watch)
#    receives ServiceEvents when another client changes the state, in order;
#  - invoke without a lease (--lease-id bogus) -> NOLEASE, a clear error, exit 4, and no change.
#
# Traffic: everything runs inside a network namespace this script creates (enter_netns, lib.sh),
# on its loopback only; nothing is sent outside it.
# Usage (ctest does this): scenario_services_test.sh <build dir>, with HOMEP2P_BIN_HOMEPEER set.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"

enter_netns "$0" "$@"
. "$here/scenario_lib.sh" scenario_services
setup_loopback_multicast
only_loopback
make_test_tmp
HP=$(require_bin HOMEP2P_BIN_HOMEPEER)

readonly L=5e000000-0000-4000-8000-000000000001
plain=(--user "$PLAIN_USER" --password "$PLAIN_PASSWORD")

make_config "$TEST_TMP/l.yaml" "$L" DimmableLight "Service lamp" \
  services="power:SwitchPower brightness:Dimming temperature:TemperatureSensor"
start_device l "$TEST_TMP/l.yaml"

# state_of <name> <service id>: `services --json` into $TEST_TMP/<name>; used to read state back
# from a separate client process.
read_services() {
  run "$1" "$HP" services "$L" "${plain[@]}" --json
  expect_rc 0 "homepeer services ($1)"
}
svc() { echo "[s for s in j(0) if s['id'] == '$1'][0]"; }

# ---- search ----
run discover_dimming "$HP" discover --service Dimming --json --timeout 1.5
expect_rc 0 "discover --service Dimming"
py_check "finds the lamp" "[d['device_id'] for d in j(0)] == ['$L']" "$TEST_TMP/discover_dimming"

read_services services_initial
py_check "services lists the configured services and the ConnectionManager" \
  "sorted((s['id'], s['type']) for s in j(0)) == sorted([('power', 'SwitchPower'), ('brightness', 'Dimming'), ('temperature', 'TemperatureSensor'), ('connection-manager', 'ConnectionManager')])" \
  "$TEST_TMP/services_initial"
py_check "SwitchPower: SetPower{on: bool} and Toggle{}, not admin-only; state on=false" \
  "(lambda s: sorted((a['name'], [(x['name'], x['type']) for x in a['arguments']], a['admin_only']) for a in s['actions']) == [('SetPower', [('on', 'bool')], False), ('Toggle', [], False)] and s['state'] == {'on': False})($(svc power))" \
  "$TEST_TMP/services_initial"
py_check "Dimming: SetBrightness{brightness: int 0..100}; state brightness=0" \
  "(lambda s: [(a['name'], a['arguments']) for a in s['actions']] == [('SetBrightness', [{'name': 'brightness', 'type': 'int', 'min': 0.0, 'max': 100.0}])] and s['state'] == {'brightness': 0})($(svc brightness))" \
  "$TEST_TMP/services_initial"
py_check "TemperatureSensor: Read{}; state temperature a number in 15..30" \
  "(lambda s: [a['name'] for a in s['actions']] == ['Read'] and isinstance(s['state']['temperature'], float) and 15 <= s['state']['temperature'] <= 30)($(svc temperature))" \
  "$TEST_TMP/services_initial"
py_check "ConnectionManager: Connect and Disconnect are admin-only" \
  "(lambda s: sorted((a['name'], a['admin_only']) for a in s['actions']) == [('Connect', True), ('Disconnect', True)])($(svc connection-manager))" \
  "$TEST_TMP/services_initial"
run services_type "$HP" services "$L" "${plain[@]}" --type Dimming --json
expect_rc 0 "services --type Dimming"
py_check "lists only the Dimming service" "[s['id'] for s in j(0)] == ['brightness']" "$TEST_TMP/services_type"
run services_human "$HP" services "$L" "${plain[@]}"
expect_rc 0 "services (human output)"
for id in power brightness temperature connection-manager; do
  expect_line "$TEST_TMP/services_human" "$id" 0 "human services output names $id"
done

# ---- a lease holder that watches power; another client changes it ----
start_bg "$TEST_TMP/watcher" "$HP" invoke "$L" power SetPower on=false "${plain[@]}" --watch 30 --json
pid_watcher=$LAST_PID
expect_line "$TEST_TMP/watcher" '{"result":"OK"' 6 "the lease holder rented power and invoked SetPower on=false"

run set_on "$HP" invoke "$L" power SetPower on=true "${plain[@]}" --json
expect_rc 0 "another client: invoke power SetPower on=true"
py_check "result OK" "j(0)['result'] == 'OK' and j(0)['error'] == ''" "$TEST_TMP/set_on"
read_services services_on
py_check "the state read back by a third client is on=true" "$(svc power)['state'] == {'on': True}" "$TEST_TMP/services_on"
run toggle "$HP" invoke "$L" power Toggle "${plain[@]}" --json
expect_rc 0 "another client: invoke power Toggle"
py_wait 3 "the lease holder received the ServiceEvents on=true, then on=false (Toggle), from the lamp's power service" \
  "[(e['device_id'], e['service_id'], e['variables']) for e in jl(0) if e.get('event') == 'service_event'] == [('$L', 'power', {'on': True}), ('$L', 'power', {'on': False})]" \
  "$TEST_TMP/watcher"
run set_on_again "$HP" invoke "$L" power SetPower on=true "${plain[@]}" --json
expect_rc 0 "invoke power SetPower on=true again"
py_wait 3 "and the next change too" \
  "[e['variables'] for e in jl(0) if e.get('event') == 'service_event'][-1] == {'on': True}" "$TEST_TMP/watcher"
end_process "$pid_watcher" TERM 5 "SIGTERM ends the lease holder's --watch (release, disconnect)"

# ---- Dimming: a valid value, then bad arguments ----
run bright "$HP" invoke "$L" brightness SetBrightness brightness=40 "${plain[@]}" --json
expect_rc 0 "invoke brightness SetBrightness brightness=40"
run bright_high "$HP" invoke "$L" brightness SetBrightness brightness=150 "${plain[@]}" --json
expect_rc 4 "brightness=150 is refused"
py_check "with BADARGS and an error" "j(0)['result'] == 'BADARGS' and j(0)['error'] != ''" "$TEST_TMP/bright_high"
run bright_type "$HP" invoke "$L" brightness SetBrightness brightness=bright "${plain[@]}" --json
expect_rc 4 "brightness=<a string> is refused"
py_check "with BADARGS" "j(0)['result'] == 'BADARGS'" "$TEST_TMP/bright_type"

# ---- invoke without a lease: refused, clear error, nothing changes ----
run nolease "$HP" invoke "$L" power SetPower on=false "${plain[@]}" --lease-id bogus --json
expect_rc 4 "invoke with --lease-id bogus (no lease) is refused"
py_check "with NOLEASE and an error that says a lease is needed" \
  "j(0)['result'] == 'NOLEASE' and 'lease' in j(0)['error']" "$TEST_TMP/nolease"
expect_line "$TEST_TMP/nolease.err" "NOLEASE: power.SetPower on Service lamp: " 0 \
  "and one clear line on stderr"
run nolease_human "$HP" invoke "$L" power Toggle "${plain[@]}" --lease-id bogus
expect_rc 4 "the same without --json"
expect_line "$TEST_TMP/nolease_human.err" "NOLEASE: power.Toggle on Service lamp: " 0 "says NOLEASE on stderr"
read_services services_after
py_check "the refused invokes changed nothing: on=true, brightness=40" \
  "$(svc power)['state'] == {'on': True} and $(svc brightness)['state'] == {'brightness': 40}" "$TEST_TMP/services_after"

# ---- unknown service or action ----
run noservice "$HP" invoke "$L" nosuch SetPower on=true "${plain[@]}" --json
expect_rc 4 "invoke on an unknown service"
py_check "is refused with NOSERVICE" "j(0)['result'] == 'NOSERVICE'" "$TEST_TMP/noservice"
run noaction "$HP" invoke "$L" power Explode "${plain[@]}" --json
expect_rc 4 "invoke of an unknown action"
py_check "is refused with NOACTION" "j(0)['result'] == 'NOACTION'" "$TEST_TMP/noaction"

# ---- TemperatureSensor ----
run read_temp "$HP" invoke "$L" temperature Read "${plain[@]}" --json
expect_rc 0 "invoke temperature Read"
py_check "returns a temperature (a number) in 15..30" \
  "j(0)['result'] == 'OK' and isinstance(j(0)['values']['temperature'], float) and 15 <= j(0)['values']['temperature'] <= 30" \
  "$TEST_TMP/read_temp"

py_check "the device logged no failed connection during all this" "all(e['state'] != 'failed' for e in conns(0))" \
  "$TEST_TMP/l"
py_wait 2 "and all the clients are gone: count 0" "count(0) == 0" "$TEST_TMP/l"
stop_device l 5
summary
