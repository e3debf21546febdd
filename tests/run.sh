#!/usr/bin/env bash
# The whole test suite: installs dependencies (as root), builds the dev preset (ASan + UBSan,
# warnings as errors), checks formatting, runs every CTest test (unit, sim, fuzz-replay, integration,
# fault), the Debian package test (as root), then runs each libFuzzer target briefly from a clang build.
#
#   bash tests/run.sh                 # everything (what CI runs)
#   PACKAGE_TEST=0 bash tests/run.sh  # skip the Debian package test (tests/package/test_packages.sh)
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

# The Debian packages: a release build of the four programs, dpkg -i, the daemons run as their units
# would, dpkg --purge. Not a CTest test: it installs packages and system users on this machine, so it
# must run alone (never beside the parallel CTest tests) and only as root. PACKAGE_TEST=0 skips it.
if [ "${PACKAGE_TEST:-1}" != 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    log "packages (build, install, run, purge)"
    bash tests/package/test_packages.sh
  else
    echo "not root: skipping tests/package/test_packages.sh" >&2
  fi
fi

fuzz_seconds=${FUZZ_SECONDS:-10}
if [ "$fuzz_seconds" != 0 ]; then
  log "fuzz (${fuzz_seconds}s per target)"
  bash tests/fuzz/run.sh "$fuzz_seconds"
fi

log "all tests passed"
