#!/usr/bin/env bash
# bench/realtime: N SSE clients on one plinth node, one writer.
#
# For each N (1k, 5k, 10k), a fresh server (`plinth serve --threads 1`, pinned to
# CPU 0 when there are two cores) and load_client.cpp (pinned to CPU 1): N
# connections to /api/realtime from one process (epoll), each subscribed to
# `posts/*`; then E records are created one at a time and every client's
# delivery latency is measured (POST sent -> event parsed by the client, one
# clock). Prints p50/p99/max latency, missed events and the server's peak RSS
# (VmHWM from /proc/PID/status).
#
#   bench/realtime/run.sh [--quick] [--clients "1000 5000 10000"] [--events 20]
#
# --quick is the CI smoke test: 200 clients, 5 events; it fails only when a
# client misses an event, never on a speed threshold.
set -euo pipefail
cd "$(dirname "$0")/../.."

CLIENTS="1000 5000 10000"
EVENTS=20
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) CLIENTS="200"; EVENTS=5 ;;
    --clients) CLIENTS="$2"; shift ;;
    --events) EVENTS="$2"; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

PLINTH="${PLINTH_BIN:-build/release/bin/plinth}"
[ -x "$PLINTH" ] || { echo "build first: bash scripts/build.sh release" >&2; exit 2; }
for tool in curl g++ python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (scripts/install-deps.sh)" >&2; exit 2; }
done

WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

SERVER_CPU=""
LOAD_CPU=""
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  SERVER_CPU="taskset -c 0"
  LOAD_CPU="taskset -c 1"
fi

g++ -std=c++20 -O2 -o "$WORK/load_client" bench/realtime/load_client.cpp

# Enough descriptors for 10k clients on both sides.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "bench/realtime: clients {$CLIENTS}, $EVENTS events each, open-file limit $(ulimit -n)"
echo "cpu: $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), $(nproc) cores"

for n in $CLIENTS; do
  port=$(free_port)
  dir="$WORK/data-$n"
  "$PLINTH" superuser upsert bench@example.com bench-pass-123 --dir "$dir" >/dev/null
  $SERVER_CPU "$PLINTH" serve --dir "$dir" --http "127.0.0.1:$port" --threads 1 \
    --access-log false --log-level warn --max-connections $((n + 100)) \
    --realtime-max-clients $((n + 100)) >"$WORK/server-$n.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break
    sleep 0.1
  done
  token=$(curl -sf -X POST "http://127.0.0.1:$port/api/collections/_superusers/auth-with-password" \
    -H 'Content-Type: application/json' \
    -d '{"identity":"bench@example.com","password":"bench-pass-123"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])') || fail "login"
  curl -sf -X POST "http://127.0.0.1:$port/api/collections" -H "Authorization: $token" \
    -H 'Content-Type: application/json' \
    -d '{"name":"posts","listRule":"","viewRule":"","createRule":"","fields":[{"name":"title","type":"text"},{"name":"seq","type":"number"},{"name":"sent","type":"text"}]}' \
    >/dev/null || fail "create collection"
  $LOAD_CPU "$WORK/load_client" --port "$port" --clients "$n" --events "$EVENTS" \
    --server-pid "$SERVER_PID" || fail "$n clients: some events were not delivered"
  kill "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
done
