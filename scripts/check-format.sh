#!/usr/bin/env bash
# Fails when any C++ file differs from .clang-format; `--fix` rewrites them.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files -- '*.cpp' '*.hpp' 2>/dev/null || find src tests bench -name '*.[ch]pp')
if [ "${#files[@]}" -eq 0 ]; then mapfile -t files < <(find src tests bench -name '*.[ch]pp'); fi
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
  exit 0
fi
clang-format --dry-run --Werror "${files[@]}"
echo "format: ${#files[@]} files clean"
