#!/usr/bin/env bash
# Configures and builds one CMake preset (debug, release, asan). Default: release.
#   scripts/build.sh [PRESET] [TARGET...]   (no target = everything, tests included)
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
shift || true
jobs="${PLINTH_BUILD_JOBS:-$(nproc)}"
cmake --preset "$preset" >/dev/null
if [ "$#" -gt 0 ]; then
  cmake --build --preset "$preset" -j "$jobs" --target "$@"
else
  cmake --build --preset "$preset" -j "$jobs"
fi
