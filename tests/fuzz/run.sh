#!/usr/bin/env bash
# run.sh [seconds] [target...]: builds the fuzz preset (clang + libFuzzer + ASan/UBSan) and runs each
# libFuzzer target for the given seconds (default 300) on a scratch copy of its seed corpus.
# A crash stops with a non-zero exit; its input is kept under build/fuzz/artifacts/ and should be
# added to tests/fuzz/corpus/<target>/ once fixed, so the replay test keeps it fixed.
#   bash tests/fuzz/run.sh 300                   # the 5-minute campaign, every target
#   bash tests/fuzz/run.sh 60 record_batch       # one target
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-300}
shift || true

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(sed -n 's/^trib_fuzz_target(\([a-z0-9_]*\) .*/\1/p' tests/fuzz/CMakeLists.txt)
fi

mkdir -p build/fuzz/artifacts
status=0
for t in "${targets[@]}"; do
  bin=build/fuzz/tests/fuzz/fuzz_$t
  work=build/fuzz/corpus-work/$t
  mkdir -p "$work"
  seeds=tests/fuzz/corpus/$t
  [ -d "$seeds" ] && cp -n "$seeds"/* "$work"/ 2>/dev/null || true
  printf 'fuzz %-16s %4ss ... ' "$t" "$seconds"
  if "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
      -artifact_prefix="build/fuzz/artifacts/${t}-" "$work" >"build/fuzz/$t.log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "build/fuzz/$t.log")
    cov=$(grep -o 'cov: [0-9]*' "build/fuzz/$t.log" | tail -1)
    echo "ok (${execs:-?} runs, ${cov:-cov ?})"
  else
    echo "FAILED (see build/fuzz/$t.log)"
    tail -40 "build/fuzz/$t.log"
    status=1
  fi
done
exit $status
