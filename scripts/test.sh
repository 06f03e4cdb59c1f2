#!/usr/bin/env bash
# The README's test command (and CI's, through .ci/run). Installs what is missing, then runs two
# passes of the whole suite; both must pass:
#   1. normal      build/ (or $BUILD_DIR), RelWithDebInfo, every test: unit, integration, the
#                  fuzz corpus replay (label fuzz), the attacks, the faults, the short soak.
#   2. sanitizers  build-asan/ (or $ASAN_BUILD_DIR): -DHOMEP2P_SANITIZE=ON (g++ ASan + UBSan +
#                  libstdc++ assertions + assert()), the same tests: every process the
#                  integration tests start (homepeer, peer2mqtt) is a sanitized build too.
# The second pass runs even when the first failed, so that one CI run reports both.
# ASAN_CTEST_ARGS adds ctest arguments to the second pass (e.g. "-L unit" for a quick run);
# SKIP_ASAN=1 runs the first pass only (a quick local check; CI sets neither).
# Ends with one summary line: "test.sh: normal <result>, sanitizers <result>, <m> min <s> s".
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh || exit 1
BUILD_DIR="${BUILD_DIR:-build}"
ASAN_BUILD_DIR="${ASAN_BUILD_DIR:-build-asan}"
start=$SECONDS

run_pass() {  # run_pass <name> <build dir> <ctest args...>
  local name="$1" dir="$2"; shift 2
  local t0=$SECONDS rc
  echo "==== test.sh: $name pass ($dir) ===="
  if [[ "$name" == sanitizers ]]; then
    # Configured every time (seconds): the options must hold even in an older build folder.
    # -O1 -g1 (line tables only): what ASan advises, and half the compile time of -O2 -g; no
    # NDEBUG, so that assert() checks too.
    cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
      -DHOMEP2P_SANITIZE=ON -DHOMEP2P_BENCH=OFF >/dev/null || return 1
  fi
  if BUILD_DIR="$dir" scripts/build.sh; then
    (cd "$dir" && ctest --output-on-failure -j2 --timeout 600 "$@")
    rc=$?
  else
    rc=1
  fi
  echo "==== test.sh: $name pass $(word $rc) in $(( (SECONDS - t0) / 60 )) min $(( (SECONDS - t0) % 60 )) s ===="
  return $rc
}
word() { [[ $1 -eq 0 ]] && echo passed || echo FAILED; }

run_pass normal "$BUILD_DIR"
normal=$?
sanitizers=0
if [[ "${SKIP_ASAN:-0}" != 1 ]]; then
  # A sanitizer report ends the process that made it (-fno-sanitize-recover=all), so the test
  # that started it fails; leaks are reported at exit (detect_leaks).
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1}"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
  # shellcheck disable=SC2086 # ASAN_CTEST_ARGS is a list of words on purpose
  run_pass sanitizers "$ASAN_BUILD_DIR" ${ASAN_CTEST_ARGS:-}
  sanitizers=$?
fi
echo "test.sh: normal $(word $normal), sanitizers $([[ "${SKIP_ASAN:-0}" == 1 ]] && echo skipped || word $sanitizers)," \
  "$(( (SECONDS - start) / 60 )) min $(( (SECONDS - start) % 60 )) s"
[[ $normal -eq 0 && $sanitizers -eq 0 ]]
