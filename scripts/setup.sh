#!/usr/bin/env bash
# Installs every Debian 12 package the project needs, only those missing. Idempotent and quiet
# when everything is already there. These lists are the single source of truth for dependencies:
# the Dockerfile's build stage installs exactly BUILD_PACKAGES + LIBRARY_PACKAGES (checked by
# tests/integration/docker_files_test.sh).
set -euo pipefail

BUILD_PACKAGES=(build-essential cmake ninja-build pkg-config)
LIBRARY_PACKAGES=(libssl-dev rapidjson-dev libpaho-mqttpp-dev libpaho-mqtt-dev libasio-dev
  libyaml-cpp-dev libspdlog-dev libfmt-dev libcli11-dev)
# Tests, benchmarks and the demo: GoogleTest/Mock, Google Benchmark, a real broker and its
# clients, network namespaces (iproute2, util-linux), python3 for small JSON checks in scripts,
# docker-compose only to validate docker-compose.yml (no Docker engine is needed or used).
TEST_PACKAGES=(libgtest-dev libgmock-dev libbenchmark-dev mosquitto mosquitto-clients iproute2
  util-linux python3 docker-compose)

# Fuzzing only (scripts/fuzz.sh calls `scripts/setup.sh --fuzz`): clang and its libFuzzer
# runtime. CI does not fuzz (it replays the corpora with g++), so the default run skips these.
FUZZ_PACKAGES=(clang libclang-rt-14-dev)

if [ "${1:-}" = "--list" ]; then
  # For tests: print the lists, one per line, "<group> <packages...>".
  echo "build ${BUILD_PACKAGES[*]}"
  echo "library ${LIBRARY_PACKAGES[*]}"
  echo "test ${TEST_PACKAGES[*]}"
  echo "fuzz ${FUZZ_PACKAGES[*]}"
  exit 0
fi
wanted=("${BUILD_PACKAGES[@]}" "${LIBRARY_PACKAGES[@]}" "${TEST_PACKAGES[@]}")
if [ "${1:-}" = "--fuzz" ]; then wanted+=("${FUZZ_PACKAGES[@]}"); fi

missing=()
for p in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
