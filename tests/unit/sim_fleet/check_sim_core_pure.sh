#!/usr/bin/env bash
# Runs tests/tools/check_pure_cores.sh over firmware-sim/core: the shared check knows a fixed list of core
# folders, so this plants ours in a scratch tree under one of those names (grep -R follows the link).
# Also proves the check can fail: a planted file that reads the clock must be caught.
# Usage: check_sim_core_pure.sh <repository root>
set -euo pipefail
root=${1:?repository root}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/common"
ln -s "$root/firmware-sim/core" "$scratch/common/kafka"
bash "$root/tests/tools/check_pure_cores.sh" "$scratch"

# Self-test: an impure copy must fail the same check.
mkdir -p "$scratch/planted/common/kafka"
cp "$root"/firmware-sim/core/*.h "$scratch/planted/common/kafka/"
echo 'auto t = std::chrono::steady_clock::now();' >> "$scratch/planted/common/kafka/fleet.h"
if bash "$root/tests/tools/check_pure_cores.sh" "$scratch/planted" >/dev/null; then
  echo "check_pure_cores.sh did not catch a planted clock read" >&2
  exit 1
fi
echo "firmware-sim/core is pure (and the check catches a planted clock read)"
