#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test suite: formatting, unit and
# integration tests (release build, then again under ASan+UBSan), and the
# benchmark smoke test. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

echo "== format"
bash scripts/check-format.sh

echo "== release build and tests"
bash scripts/build.sh release
ctest --preset release -j "$(nproc)" 2>&1 | tee /tmp/plinth-ctest-release.log

echo "== benchmark smoke tests (start, answer, no speed thresholds)"
bash bench/run.sh --quick

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
total=$(( $(echo "$rel" | awk '{print $NF}') + $(echo "$asan" | awk '{print $NF}') ))
failed=$(( $(echo "$rel" | awk '{print $3}') + $(echo "$asan" | awk '{print $3}') ))
echo "release: $rel; asan: $asan"
echo "$((total - failed)) passed, $failed failed"
