#!/usr/bin/env bash
# Proves check_pure_cores.sh can fail: a planted core that includes <uv.h> and reads the clock.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/cluster/raft"
printf '#include "ok.h"\nint f() { return 1; }\n' > "$tmp/cluster/raft/clean.cc"
bash "$here/check_pure_cores.sh" "$tmp" >/dev/null || { echo "clean tree rejected"; exit 1; }
printf '#include <uv.h>\nauto t = std::chrono::steady_clock::now();\n' > "$tmp/cluster/raft/bad.cc"
if bash "$here/check_pure_cores.sh" "$tmp" >/dev/null; then
  echo "planted violation not caught"
  exit 1
fi
echo "planted violation caught"
