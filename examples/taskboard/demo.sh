#!/usr/bin/env bash
# Second command: installs the SDK from the lockfile, applies the migration
# (collections and rules) and runs the demo against the server from server.sh.
#   TASKBOARD_URL (default http://127.0.0.1:8090) points it elsewhere.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -d node_modules ] || ! npm ls --silent >/dev/null 2>&1; then
  npm ci --no-audit --no-fund --loglevel=error
fi
node migrate.mjs
node demo.mjs
