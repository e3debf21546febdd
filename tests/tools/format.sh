#!/usr/bin/env bash
# format.sh --check|--fix <clang-format>: checks or applies .clang-format on every tracked C++ file.
set -euo pipefail
mode=$1
cf=${2:-clang-format}
cd "$(dirname "$0")/../.."
mapfile -t files < <(git ls-files -co --exclude-standard -- '*.h' '*.cc' '*.cpp' | grep -v '^build/')
[ ${#files[@]} -eq 0 ] && exit 0
if [ "$mode" = --fix ]; then
  "$cf" -i "${files[@]}"
else
  "$cf" --dry-run --Werror "${files[@]}"
  echo "format-check: ${#files[@]} files formatted"
fi
