#!/usr/bin/env bash
# Builds the filter/rule compiler's libFuzzer target with clang under
# ASan+UBSan and runs it from the checked-in seed corpus.
#   scripts/fuzz.sh [seconds]   (default 60)
# Exits non-zero on any finding (crash, sanitizer report, oracle failure).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN="${1:-60}"
OUT=build/fuzz
mkdir -p "$OUT"
clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -Isrc/query/include -Isrc/query/src -Isrc/core/include -Isrc/util/include -Itests/query \
  tests/query/fuzz_filter.cpp tests/query/fixture.cpp src/query/src/*.cpp \
  src/core/src/*.cpp src/util/src/*.cpp -lboost_json -lsqlite3 -lz -lre2 -o "$OUT/fuzz_filter"
# New inputs go to a scratch copy; the checked-in corpus stays as it is.
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cp -r tests/query/corpus/. "$WORK/"
"$OUT/fuzz_filter" -max_total_time="$SECONDS_TO_RUN" -max_len=4096 -timeout=5 -print_final_stats=1 \
  "$WORK" 2>&1 | tail -n 25
echo "fuzz: ${SECONDS_TO_RUN}s of parse+compile under ASan+UBSan, no finding"
