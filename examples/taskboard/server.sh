#!/usr/bin/env bash
# First command: builds plinth, makes sure the example's superuser exists, and
# serves the example's data directory on http://127.0.0.1:8090 (Ctrl-C stops).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/../.."
bash scripts/install-deps.sh
bash scripts/build.sh release plinth
DATA="${TASKBOARD_DATA:-$here/plinth_data}"
./build/release/bin/plinth superuser upsert "${TASKBOARD_ADMIN:-admin@taskboard.test}" \
  "${TASKBOARD_ADMIN_PASSWORD:-taskboard-admin-1}" --dir "$DATA"
exec ./build/release/bin/plinth serve --http "${TASKBOARD_HTTP:-127.0.0.1:8090}" --dir "$DATA"
