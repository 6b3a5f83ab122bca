#!/usr/bin/env bash
# bench/http: wrk against `plinth serve --threads 1` GET /api/health and against
# nginx (1 worker) returning the same bytes, alternating rounds, one run.
# Prints req/s, p50 and p99 per round, the medians and the plinth/nginx ratio.
#
#   bench/http/run.sh [--quick] [--rounds N] [--duration 10s] [--connections 64]
#
# --quick is the CI smoke test: a 1 s round each, checking that both answer.
# Server and load generator are pinned to different cores when there are two.
set -euo pipefail
cd "$(dirname "$0")/../.."

ROUNDS=3
DURATION=10s
CONNS=64
QUICK=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1; ROUNDS=1; DURATION=1s ;;
    --rounds) ROUNDS="$2"; shift ;;
    --duration) DURATION="$2"; shift ;;
    --connections) CONNS="$2"; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

PLINTH="${PLINTH_BIN:-build/release/bin/plinth}"
[ -x "$PLINTH" ] || { echo "build first: bash scripts/build.sh release" >&2; exit 2; }
for tool in wrk nginx curl; do
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

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

SERVER_CPU=""
LOAD_CPU=""
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  SERVER_CPU="taskset -c 0"
  LOAD_CPU="taskset -c 1"
fi

BODY='{"code":200,"message":"API is healthy.","data":{}}'

# nginx: one worker, no access log, the same JSON bytes.
NGINX_PORT=$(free_port)
mkdir -p "$WORK/nginx/logs"
cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
master_process off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location = /api/health {
      default_type application/json;
      return 200 '$BODY';
    }
  }
}
CONF
$SERVER_CPU nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
PIDS+=($!)

# plinth: one I/O thread; access log off to match nginx (see docs/benchmarks.md).
PLINTH_PORT=$(free_port)
$SERVER_CPU "$PLINTH" serve --http "127.0.0.1:$PLINTH_PORT" --dir "$WORK/plinth_data" --threads 1 \
  --access-log=false >"$WORK/plinth.log" 2>&1 &
PIDS+=($!)

wait_up() {
  for _ in $(seq 1 100); do
    if curl -sf "http://127.0.0.1:$1/api/health" >/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "server on port $1 did not answer" >&2
  return 1
}
wait_up "$NGINX_PORT"
wait_up "$PLINTH_PORT"

for port in "$NGINX_PORT" "$PLINTH_PORT"; do
  got=$(curl -s "http://127.0.0.1:$port/api/health")
  [ "$got" = "$BODY" ] || { echo "unexpected body from port $port: $got" >&2; exit 1; }
done

# Converts wrk latency text (e.g. 512.00us, 1.20ms, 2.01s) to microseconds.
to_us() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000; else if (v ~ /s$/) print n * 1000000; else print n }'
}

run_wrk() {  # name port -> "rps p50us p99us"
  local out
  out=$($LOAD_CPU wrk -t1 -c"$CONNS" -d"$DURATION" --latency "http://127.0.0.1:$2/api/health")
  local rps p50 p99
  rps=$(echo "$out" | awk '/Requests\/sec:/ {print $2}')
  p50=$(to_us "$(echo "$out" | awk '$1 == "50%" {print $2}')")
  p99=$(to_us "$(echo "$out" | awk '$1 == "99%" {print $2}')")
  local errors
  errors=$(echo "$out" | awk '/Non-2xx|Socket errors/ {print}')
  [ -z "$errors" ] || echo "  $1 errors: $errors" >&2
  echo "$rps $p50 $p99"
}

median() { sort -g | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

echo "bench/http: wrk -t1 -c$CONNS -d$DURATION, $ROUNDS round(s), GET /api/health"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
printf "%-8s %-6s %12s %10s %10s\n" round system req/s p50_us p99_us
: > "$WORK/nginx.txt"; : > "$WORK/plinth.txt"
for r in $(seq 1 "$ROUNDS"); do
  for sys in nginx plinth; do
    if [ "$sys" = nginx ]; then port=$NGINX_PORT; else port=$PLINTH_PORT; fi
    res=$(run_wrk "$sys" "$port")
    echo "$res" >> "$WORK/$sys.txt"
    read -r rps p50 p99 <<<"$res"
    printf "%-8s %-6s %12.0f %10.0f %10.0f\n" "$r" "$sys" "$rps" "$p50" "$p99"
  done
done

n_rps=$(awk '{print $1}' "$WORK/nginx.txt" | median)
p_rps=$(awk '{print $1}' "$WORK/plinth.txt" | median)
n_p50=$(awk '{print $2}' "$WORK/nginx.txt" | median); p_p50=$(awk '{print $2}' "$WORK/plinth.txt" | median)
n_p99=$(awk '{print $3}' "$WORK/nginx.txt" | median); p_p99=$(awk '{print $3}' "$WORK/plinth.txt" | median)
printf "median   nginx  %12.0f %10.0f %10.0f\n" "$n_rps" "$n_p50" "$n_p99"
printf "median   plinth %12.0f %10.0f %10.0f\n" "$p_rps" "$p_p50" "$p_p99"
ratio=$(awk -v a="$p_rps" -v b="$n_rps" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
echo "ratio plinth/nginx req/s: $ratio"
if [ "$QUICK" = 1 ]; then
  awk -v a="$p_rps" -v b="$n_rps" 'BEGIN { exit !(a > 0 && b > 0) }' || { echo "smoke: a server served nothing" >&2; exit 1; }
  echo "smoke: both servers answered"
fi
