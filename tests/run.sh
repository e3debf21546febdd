#!/usr/bin/env bash
# The whole test suite: installs dependencies (as root), builds the dev preset (ASan + UBSan,
# warnings as errors), checks formatting, runs every CTest test (unit, sim, fuzz-replay, integration,
# fault), then runs each libFuzzer target briefly from a clang build.
#
#   bash tests/run.sh                 # everything (what CI runs)
#   FUZZ_SECONDS=0 bash tests/run.sh  # skip the short fuzz runs
#   CTEST_ARGS="-L unit" bash tests/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s ==\n' "$*"; }

if [ "$(id -u)" -eq 0 ]; then
  log "dependencies"
  bash packaging/install-deps.sh
else
  echo "not root: skipping packaging/install-deps.sh (run it once as root)" >&2
fi

log "configure + build (dev: Debug, ASan+UBSan, -Werror)"
cmake --preset dev >/dev/null
cmake --build --preset dev

log "format check"
cmake --build --preset dev --target format-check

log "tests"
# shellcheck disable=SC2086
ctest --preset dev ${CTEST_ARGS:-}

fuzz_seconds=${FUZZ_SECONDS:-10}
if [ "$fuzz_seconds" != 0 ]; then
  log "fuzz (${fuzz_seconds}s per target)"
  bash tests/fuzz/run.sh "$fuzz_seconds"
fi

log "all tests passed"
