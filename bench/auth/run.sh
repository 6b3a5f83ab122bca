#!/usr/bin/env bash
# bench/auth: password logins and token refreshes per second.
#
#  1. auth-refresh: wrk POST /api/collections/users/auth-refresh with the user's
#     token: a signature check, one record read and a new token; no hashing.
#  2. auth-with-password: wrk POST /api/collections/users/auth-with-password for
#     one user (argon2id, m=19 MiB, t=2, on the worker pool): bounded by hashing.
#
#   bench/auth/run.sh [--quick] [--duration 10s] [--connections 16]
#
# --quick is the CI smoke test (~1 s per measurement): it checks that both
# endpoints answered 200 throughout and never applies a speed threshold. Any
# non-2xx response or socket error fails the run. The server is pinned to CPU 0
# and wrk to CPU 1 when there are two cores.
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=10s
CONNS=16
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) DURATION=1s; CONNS=4 ;;
    --duration) DURATION="$2"; shift ;;
    --connections) CONNS="$2"; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

PLINTH="${PLINTH_BIN:-build/release/bin/plinth}"
[ -x "$PLINTH" ] || { echo "build first: bash scripts/build.sh release" >&2; exit 2; }
for tool in wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (scripts/install-deps.sh)" >&2; exit 2; }
done

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() {
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "$1" && return 0
    sleep 0.1
  done
  return 1
}

SERVER_CPU=""
LOAD_CPU=""
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  SERVER_CPU="taskset -c 0"
  LOAD_CPU="taskset -c 1"
fi

echo "bench/auth: wrk -t1 -c$CONNS -d$DURATION"
echo "cpu: $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), $(nproc) core(s); server on ${SERVER_CPU:-any CPU}"

DATA="$WORK/data"
"$PLINTH" superuser upsert bench-admin@example.com bench-admin-pass --dir "$DATA" >/dev/null \
  || fail "superuser upsert"
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
# shellcheck disable=SC2086
$SERVER_CPU "$PLINTH" serve --http "127.0.0.1:$PORT" --dir "$DATA" --threads 1 --access-log=false \
  >"$WORK/server.log" 2>&1 &
PIDS+=("$!")
wait_up "$BASE/api/health" || fail "plinth did not start: $(tail -5 "$WORK/server.log")"

LOGIN_BODY='{"identity":"bench-user@example.com","password":"bench-user-pass"}'
code=$(curl -s -o "$WORK/create.json" -w '%{http_code}' -H 'Content-Type: application/json' \
  -d '{"email":"bench-user@example.com","password":"bench-user-pass","passwordConfirm":"bench-user-pass"}' \
  "$BASE/api/collections/users/records")
[ "$code" = 200 ] || fail "create user: HTTP $code $(cat "$WORK/create.json")"
TOKEN=$(curl -s -H 'Content-Type: application/json' -d "$LOGIN_BODY" \
  "$BASE/api/collections/users/auth-with-password" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])') || fail "login"

run_wrk() {  # name body auth -> "rps p50 p99 requests"
  local name=$1 url=$2 out
  # shellcheck disable=SC2086
  out=$(BENCH_BODY="$3" BENCH_AUTH="$4" $LOAD_CPU wrk -t1 -c"$CONNS" -d"$DURATION" --latency \
    --timeout 20s -s bench/auth/post.lua "$url") || fail "$name: wrk failed"
  if echo "$out" | grep -qE 'Non-2xx|Socket errors'; then
    echo "$out" >&2
    fail "$name: errors"
  fi
  local rps reqs p50 p99
  rps=$(echo "$out" | awk '/Requests\/sec:/ {print $2}')
  reqs=$(echo "$out" | awk '/requests in/ {print $1}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  [ -n "$rps" ] && [ "${reqs:-0}" -gt 0 ] || fail "$name: no requests completed"
  printf '%-20s %10s req/s   p50 %9s   p99 %9s   (%s requests)\n' "$name" "$rps" "$p50" "$p99" "$reqs"
}

# One login at a time: the cost of one argon2id verification plus the request.
for i in 1 2 3; do
  t=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -H 'Content-Type: application/json' \
    -d "$LOGIN_BODY" "$BASE/api/collections/users/auth-with-password")
  [ "${t%% *}" = 200 ] || fail "sequential login: HTTP ${t%% *}"
  echo "sequential login $i: ${t#* } s"
done

# Refreshes first: when wrk stops, the server still owes the logins in flight (each an argon2id
# hash), and that backlog would land in whatever is measured next.
run_wrk "auth-refresh" "$BASE/api/collections/users/auth-refresh" "" "Bearer $TOKEN"
run_wrk "auth-with-password" "$BASE/api/collections/users/auth-with-password" "$LOGIN_BODY" ""
