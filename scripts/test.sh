#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test suite: formatting, unit and
# integration tests (release build, then again under ASan+UBSan), the
# end-to-end suite with the PocketBase JS SDK, and the benchmark smoke test.
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

echo "== format"
bash scripts/check-format.sh

echo "== release build and tests"
bash scripts/build.sh release
ctest --preset release -j "$(nproc)" 2>&1 | tee /tmp/plinth-ctest-release.log

echo "== end-to-end: the PocketBase JS SDK against plinth"
bash tests/e2e/run.sh 2>&1 | tee /tmp/plinth-e2e.log
e2e_pass=$(awk '/^# pass / {print $3}' /tmp/plinth-e2e.log | tail -1)
e2e_fail=$(awk '/^# fail / {print $3}' /tmp/plinth-e2e.log | tail -1)
e2e_skip=$(awk '/^# (skipped|todo|cancelled) / {s += $3} END {print s + 0}' /tmp/plinth-e2e.log)
[ "${e2e_fail:-1}" -eq 0 ] && [ "$e2e_skip" -eq 0 ] && [ "${e2e_pass:-0}" -gt 0 ] ||
  { echo "e2e: pass=${e2e_pass:-?} fail=${e2e_fail:-?} skipped/todo/cancelled=$e2e_skip" >&2; exit 1; }

echo "== benchmark smoke tests (start, answer, no speed thresholds)"
bash bench/run.sh --quick
bash bench/auth/run.sh --quick
bash bench/realtime/run.sh --quick

echo "== asan+ubsan build and tests"
bash scripts/build.sh asan
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
ctest --preset asan -j "$(nproc)" -L 'unit|integration' 2>&1 | tee /tmp/plinth-ctest-asan.log

echo "== fuzzing the filter/rule compiler (60 s, ASan+UBSan)"
bash scripts/fuzz.sh 60

count() { grep -Eo "tests passed, [0-9]+ tests failed out of [0-9]+" "$1" | tail -1; }
rel=$(count /tmp/plinth-ctest-release.log)
asan=$(count /tmp/plinth-ctest-asan.log)
total=$(( $(echo "$rel" | awk '{print $NF}') + $(echo "$asan" | awk '{print $NF}') + e2e_pass + e2e_fail ))
failed=$(( $(echo "$rel" | awk '{print $3}') + $(echo "$asan" | awk '{print $3}') + e2e_fail ))
echo "release: $rel; e2e: $e2e_pass passed, $e2e_fail failed; asan: $asan"
echo "$((total - failed)) passed, $failed failed"
