#!/usr/bin/env bash
# raft_sim.sh --seeds A..B [--nodes N] [--steps S] [--jobs J] [other sim_raft flags]: runs as many
# simulator seeds as asked, split over J processes, in a release build (assertions stay on).
# Prints each failing seed's report and its reproduce line; exits non-zero if any seed failed.
#
#   RAFT_SIM_BUILD=<dir>   the release build directory (default: build/release, the preset's)
#   tests/sim/raft_sim.sh --seeds 1..100000 --nodes 5 --jobs 8
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${RAFT_SIM_BUILD:-$root/build/release}
jobs=$(nproc)
first=1
last=1000
pass=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seeds) first=${2%..*}; last=${2#*..}; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    *) pass+=("$1"); shift ;;
  esac
done
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTRIB_WERROR=ON >/dev/null
fi
cmake --build "$build" --target sim_raft >/dev/null
bin="$build/tests/sim/sim_raft"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
total=$((last - first + 1))
per=$(((total + jobs - 1) / jobs))
pids=()
for ((j = 0; j < jobs; j++)); do
  a=$((first + j * per))
  b=$((a + per - 1))
  [ "$a" -gt "$last" ] && break
  [ "$b" -gt "$last" ] && b=$last
  "$bin" --seeds "$a..$b" --quiet "${pass[@]}" >"$out/$j.txt" 2>&1 &
  pids+=($!)
done
status=0
for ((j = 0; j < ${#pids[@]}; j++)); do
  if ! wait "${pids[$j]}"; then status=1; fi
done
cat "$out"/*.txt
if [ $status -ne 0 ]; then
  echo "raft_sim.sh: FAILED (see the report above)"
else
  echo "raft_sim.sh: seeds $first..$last passed"
fi
exit $status
