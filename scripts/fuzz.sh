#!/usr/bin/env bash
# Fuzzes every target (tests/fuzz/fuzz_*.cpp) for SECONDS each with libFuzzer, ASan and UBSan.
#
#   scripts/fuzz.sh [SECONDS] [target...]      default 60 s, every target
#
# Needs clang with libFuzzer (scripts/setup.sh --fuzz installs them). Builds into build-fuzz/ (or
# $FUZZ_BUILD_DIR) with -DHOMEP2P_FUZZ=ON. Each target starts from its seed corpus
# (tests/fuzz/corpus/<target>/, read only) plus what earlier runs found (build-fuzz/fuzz-corpus/
# <target>/, where new inputs go). A crash, leak, timeout or out-of-memory is kept as
# build-fuzz/fuzz-out/<target>-crash-<sha1> (etc.): copy it to tests/fuzz/corpus/<target>/ as
# regress-<what> once it is fixed, so that every ctest run replays it (docs/RELIABILITY.md).
# FUZZ_MERGE=1 also merges the inputs that add coverage into the seed corpus (they are small).
# Prints one line per target (executions, corpus size, crashes) and writes the same table to
# build-fuzz/fuzz-out/summary.md. Exit status 1 if any target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "usage: scripts/fuzz.sh [SECONDS] [target...]" >&2; exit 2; }
build="${FUZZ_BUILD_DIR:-build-fuzz}"
all_targets=(frame message discovery sealed handshake device_config mappings bridge_commands)
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=("${all_targets[@]}")

dict_for() {
  case "$1" in
    device_config) echo tests/fuzz/dict/yaml.dict ;;
    mappings|bridge_commands) echo tests/fuzz/dict/bridge.dict ;;
    *) echo tests/fuzz/dict/protocol.dict ;;
  esac
}

scripts/setup.sh --fuzz  # clang and libFuzzer, if missing
command -v clang++ >/dev/null || { echo "fuzz: clang++ not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }
if [[ ! -f "$build/build.ninja" ]]; then
  CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHOMEP2P_FUZZ=ON \
    -DHOMEP2P_BENCH=OFF >/dev/null
fi
cmake --build "$build" --target fuzz_targets -j"${FUZZ_BUILD_JOBS:-2}"

out="$build/fuzz-out"
mkdir -p "$out"
summary="$out/summary.md"
{
  echo "| target | seconds | executions | exec/s | corpus (seeds + found) | crashes |"
  echo "|---|---:|---:|---:|---:|---:|"
} >"$summary"
printf '%-16s %8s %12s %8s %8s %8s\n' target seconds executions exec/s corpus crashes
total_execs=0
total_crashes=0
for t in "${targets[@]}"; do
  bin="$build/tests/fuzz/fuzz_$t"
  [[ -x "$bin" ]] || { echo "fuzz: no target $t ($bin)" >&2; exit 2; }
  seeds="tests/fuzz/corpus/$t"
  found="$build/fuzz-corpus/$t"
  mkdir -p "$found"
  log="$out/$t.log"
  rm -f "$out/$t"-{crash,leak,timeout,oom,slow-unit}-* 2>/dev/null || true
  # -timeout: one input running 10 s is a hang; -rss_limit_mb: a leak or a bomb; -max_len: the
  # largest legal input is a 64 KiB frame plus a few bytes of program.
  set +e
  "$bin" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 -max_len=70000 \
    -dict="$(dict_for "$t")" -artifact_prefix="$out/$t-" "$found" "$seeds" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  execs=${execs:-0}
  crashes=$(find "$out" -maxdepth 1 -name "$t-*" -type f | wc -l)
  if [[ $rc -ne 0 && $crashes -eq 0 ]]; then crashes=1; fi  # died without an artifact: still a failure
  corpus=$(( $(find "$seeds" -type f | wc -l) + $(find "$found" -type f | wc -l) ))
  rate=$(( seconds > 0 ? execs / seconds : 0 ))
  printf '%-16s %8s %12s %8s %8s %8s\n' "$t" "$seconds" "$execs" "$rate" "$corpus" "$crashes"
  echo "| $t | $seconds | $execs | $rate | $corpus | $crashes |" >>"$summary"
  if [[ $crashes -gt 0 ]]; then
    echo "fuzz: $t crashed; see $log and $out/$t-*" >&2
    grep -m1 -E "ERROR: |FUZZ_CHECK|runtime error" "$log" >&2 || true
  fi
  if [[ "${FUZZ_MERGE:-0}" == "1" && $crashes -eq 0 ]]; then
    "$bin" -merge=1 -max_len=70000 "$seeds" "$found" >>"$log" 2>&1
  fi
  total_execs=$((total_execs + execs))
  total_crashes=$((total_crashes + crashes))
done
echo "fuzz: ${#targets[@]} targets, $total_execs executions, $total_crashes crashes (table in $summary)"
[[ $total_crashes -eq 0 ]]
