#!/usr/bin/env bash
# The forwarder's core (gateway/forwarder/core) is pure (STYLE.md §1): the same forbidden patterns as
# tests/tools/check_pure_cores.sh, read from that script so the two cannot drift apart.
# Usage: check_core_pure.sh [repository root] [core dir, default gateway/forwarder/core]
set -euo pipefail
root="${1:-$(dirname "$0")/../../..}"
dir="${2:-gateway/forwarder/core}"
cd "$root"
forbidden=$(sed -n "s/^forbidden='\(.*\)'$/\1/p" tests/tools/check_pure_cores.sh)
if [ -z "$forbidden" ]; then
  echo "cannot read the forbidden patterns from tests/tools/check_pure_cores.sh"
  exit 1
fi
[ -d "$dir" ] || { echo "no $dir"; exit 1; }
hits=$(find "$dir" -type f \( -name '*.h' -o -name '*.cc' \) -print0 |
  xargs -0 -r awk -v re="$forbidden" '{ line = $0; sub(/\/\/.*/, "", line); if (line ~ re) print FILENAME ":" FNR ": " $0 }')
if [ -n "$hits" ]; then
  echo "the forwarder core uses I/O, a clock or unseeded randomness:"
  echo "$hits"
  exit 1
fi
echo "forwarder core is pure: $dir"
