#!/usr/bin/env bash
# Discovery over real UDP multicast (patent steps B/C), in a network namespace of its own:
# devices see each other appear, answer searches (only when they match), say bye-bye on SIGTERM,
# and are dropped when their max-age passes unrefreshed (kill -9: no bye-bye).
# Usage (ctest does this): discovery_test.sh <build dir>, with HOMEP2P_BIN_DISCOVERY_NODE set.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"

enter_netns "$0" "$@"
setup_loopback_multicast
make_test_tmp
node=$(require_bin HOMEP2P_BIN_DISCOVERY_NODE)
log "in a network namespace: $(ip -o link show lo | sed 's/.*<\(.*\)>.*/lo <\1>/')"

readonly A=aaaaaaaa-0000-4000-8000-00000000000a
readonly B=bbbbbbbb-0000-4000-8000-00000000000b
readonly C=cccccccc-0000-4000-8000-00000000000c
readonly D=dddddddd-0000-4000-8000-00000000000d
readonly E=eeeeeeee-0000-4000-8000-00000000000e

appeared() { echo "\"event\":\"appeared\",\"device_id\":\"$1\""; }
left() { echo "\"event\":\"left\",\"device_id\":\"$1\",\"cause\":\"$2\""; }
answered() { echo "\"event\":\"search_answer\",\"device_id\":\"$1\""; }

# Two long-running devices.
start_bg "$TEST_TMP/a" "$node" --id "$A" --name lamp --type Light --service light-1:BinaryLight \
  --interface lo --max-age 4 --seconds 30
pid_a=$LAST_PID
start_bg "$TEST_TMP/b" "$node" --id "$B" --name tv --type Television --service tv-1:MediaRenderer \
  --interface lo --max-age 4 --seconds 30
pid_b=$LAST_PID
expect_line "$TEST_TMP/a" '"event":"ready"' 3 "A is up"
expect_line "$TEST_TMP/b" '"event":"ready"' 3 "B is up"

# Step B: each sees the other's announce.
expect_line "$TEST_TMP/a" "$(appeared "$B")" 3 "A sees B appear"
expect_line "$TEST_TMP/b" "$(appeared "$A")" 3 "B sees A appear"

# Step C: C searches for everything, E for lights only; both run 2.5 s (MX 1 s), then bye-bye.
start_bg "$TEST_TMP/c" "$node" --id "$C" --name searcher --type Controller --interface lo \
  --max-age 4 --seconds 2.5 --search --mx 1
pid_c=$LAST_PID
start_bg "$TEST_TMP/e" "$node" --id "$E" --name light-searcher --type Controller --interface lo \
  --max-age 4 --seconds 2.5 --search --search-type Light --mx 1
pid_e=$LAST_PID
wait_exit "$pid_c" 5 || fail "C did not stop after its run time"
wait_exit "$pid_e" 5 || fail "E did not stop after its run time"
expect_line "$TEST_TMP/c" "$(answered "$A")" 0 "A answers C's search"
expect_line "$TEST_TMP/c" "$(answered "$B")" 0 "B answers C's search"
expect_line "$TEST_TMP/e" "$(answered "$A")" 0 "A (a Light) answers E's search for lights"
expect_no_line "$TEST_TMP/e" "$(answered "$B")" "B (a Television) does not answer a search for lights"
expect_line "$TEST_TMP/a" "$(appeared "$C")" 1 "A sees C appear"
expect_line "$TEST_TMP/a" "$(left "$C" byebye)" 1 "A sees C leave with bye-bye at the end of its run"
expect_line "$TEST_TMP/b" "$(left "$C" byebye)" 1 "B sees C leave with bye-bye"

# Max-age: D announces max-age 2 s and is killed without a bye-bye.
start_bg "$TEST_TMP/d" "$node" --id "$D" --name flaky --type Sensor --interface lo --max-age 2 --seconds 30
pid_d=$LAST_PID
expect_line "$TEST_TMP/a" "$(appeared "$D")" 3 "A sees D appear"
kill -KILL "$pid_d"
wait_exit "$pid_d" 2 || fail "D did not die"
expect_line "$TEST_TMP/a" "$(left "$D" expired)" 4 "A drops D once its max-age passes"
expect_no_line "$TEST_TMP/a" "$(left "$D" byebye)" "no bye-bye from a killed device"

# Orderly shutdown: SIGTERM -> bye-bye, seen at once (well before B's 4 s max-age).
kill -TERM "$pid_b"
expect_line "$TEST_TMP/a" "$(left "$B" byebye)" 2 "A sees B leave with bye-bye after SIGTERM"
wait_exit "$pid_b" 2 || fail "B did not exit after SIGTERM"
expect_line "$TEST_TMP/b" '"event":"stopped"' 0 "B stopped cleanly"
kill -TERM "$pid_a"
wait_exit "$pid_a" 2 || fail "A did not exit after SIGTERM"

log "PASS"
