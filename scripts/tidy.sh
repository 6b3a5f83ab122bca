#!/usr/bin/env bash
# clang-tidy on the given files (default: C++ files changed against main).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/debug/compile_commands.json ] || cmake --preset debug >/dev/null
if [ "$#" -gt 0 ]; then files=("$@"); else mapfile -t files < <(git diff --name-only main -- '*.cpp'); fi
[ "${#files[@]}" -eq 0 ] && { echo "tidy: nothing to check"; exit 0; }
clang-tidy -p build/debug --quiet "${files[@]}"
