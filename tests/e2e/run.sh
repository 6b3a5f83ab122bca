#!/usr/bin/env bash
# The end-to-end suite: the official PocketBase JS SDK (pinned in
# package-lock.json) against a real `plinth serve` per test file.
#   tests/e2e/run.sh [test files...]     (PLINTH_BIN overrides the binary)
# Prints node's TAP output; the summary lines are "# pass N" and "# fail N".
set -euo pipefail
cd "$(dirname "$0")"
BIN="${PLINTH_BIN:-../../build/release/bin/plinth}"
[ -x "$BIN" ] || { echo "build first: bash scripts/build.sh release" >&2; exit 2; }
if [ ! -d node_modules ] || ! npm ls --silent >/dev/null 2>&1; then
  npm ci --no-audit --no-fund --loglevel=error
fi
if [ $# -eq 0 ]; then set -- *.test.mjs; fi
exec node --test --test-concurrency=1 --test-reporter=tap "$@"
