#!/usr/bin/env bash
# The data core's two figures, from one run of the shared harness (bench/run.sh, W1 and W3):
#   view one record by id: plinth (one I/O thread) against nginx (one worker) serving the same bytes
#   durable create at 64 connections: plinth against raw SQLite inserting the same rows in
#   64-row transactions with the same pragmas
#   bash bench/records/run.sh [--quick] [bench/run.sh options]
# The report goes to $TMPDIR/plinth-records/benchmarks.md unless --out is given (the full
# report, docs/benchmarks.md, comes from bench/run.sh --full); the ratios are printed at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${TMPDIR:-/tmp}/plinth-records/benchmarks.md"
args=("$@")
for a in "$@"; do [ "$a" = --out ] && out=""; done
[ -n "$out" ] && args+=(--out "$out")
log=$(mktemp)
trap 'rm -f "$log"' EXIT
bash bench/run.sh "${args[@]}" --workloads W1,W3 | tee "$log"
peak() { awk -v w="$1" -v s="$2" '$1 == w && $2 == s {print $3}' "$log" | tail -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo
echo "records bench, one run (targets: view >= 0.6x nginx, create >= 0.3x raw SQLite):"
echo "  W1 view by id   plinth-1t $(peak W1 plinth-1t) req/s, nginx $(peak W1 nginx) req/s: $(ratio "$(peak W1 plinth-1t)" "$(peak W1 nginx)")x (medians)"
echo "  W3 durable create  plinth-1t $(peak W3 plinth-1t)/s, raw SQLite $(peak W3 raw-sqlite)/s: $(ratio "$(peak W3 plinth-1t)" "$(peak W3 raw-sqlite)")x (medians)"
report=$(sed -n 's/^bench: wrote \(.*\) ([0-9]* s in all)$/\1/p' "$log" | tail -1)
if [ -f "$report" ]; then
  echo "  per-round ratios, from $report:"
  grep -E '^\| W1 \| plinth-1t / nginx|^\| W3 \| plinth-1t / raw-sqlite' "$report" | sed 's/^/    /'
fi
