#!/usr/bin/env bash
# Configures and builds one CMake preset (debug, release, asan). Default: release.
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
jobs="${PLINTH_BUILD_JOBS:-$(nproc)}"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$jobs"
