#!/usr/bin/env bash
# Newcomer's first command: installs dependencies, builds a release binary and
# runs `plinth serve` (SQLite data in ./plinth_data, http://127.0.0.1:8090).
# Extra arguments go to `plinth serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh release plinth
exec ./build/release/bin/plinth serve --dir ./plinth_data "$@"
