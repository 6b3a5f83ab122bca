# bench/lib.sh: shared pieces of the benchmark scripts (sourced, not run).
# Work directory and cleanup, free ports, starting/stopping servers pinned to a core,
# waiting for them to answer, peak RSS, wrk and hey runs parsed into figures.
# shellcheck shell=bash

BENCH_WORK=$(mktemp -d "${TMPDIR:-/tmp}/plinth-bench.XXXXXX")
BENCH_PIDS=()
bench_cleanup() {
  local p
  for p in "${BENCH_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${BENCH_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "${BENCH_KEEP_WORK:-}" ] || rm -rf "$BENCH_WORK"
}
trap bench_cleanup EXIT

# Debian's python3 directly: a version-manager shim in PATH can cost a second per call.
PYTHON=python3
[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

need_tools() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null || fail "missing $t (bash scripts/install-deps.sh)"
  done
}

free_port() { $PYTHON -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Servers run on CPU 0 and load generators on CPU 1 when there are two cores, so a
# one-thread server and its client do not share a core. Multi-threaded servers run unpinned.
SERVER_CPU=""
LOAD_CPU=""
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  SERVER_CPU="taskset -c 0"
  LOAD_CPU="taskset -c 1"
fi

wait_up() { # url [tries of 50 ms]
  local i
  for i in $(seq 1 "${2:-400}"); do
    if curl -s -o /dev/null "$1"; then return 0; fi
    sleep 0.05
  done
  return 1
}

# start_server NAME PINNED(0|1) CMD...: runs CMD in the background with its output in
# $BENCH_WORK/NAME.log; sets STARTED_PID.
start_server() {
  local name=$1 pinned=$2
  shift 2
  if [ "$pinned" = 1 ] && [ -n "$SERVER_CPU" ]; then
    # shellcheck disable=SC2086
    $SERVER_CPU "$@" >>"$BENCH_WORK/$name.log" 2>&1 &
  else
    "$@" >>"$BENCH_WORK/$name.log" 2>&1 &
  fi
  STARTED_PID=$!
  BENCH_PIDS+=("$STARTED_PID")
}

# stop_server PID: graceful stop (SIGTERM) and wait, so databases are checkpointed.
stop_server() {
  local pid=$1 keep=() p
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for p in "${BENCH_PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
  BENCH_PIDS=("${keep[@]}")
}

# Peak resident set size of a live process, in KiB.
hwm_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# wrk/hey latency text (512.00us, 1.20ms, 2.01s) in microseconds.
to_us() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000; else if (v ~ /s$/) print n * 1000000; else print n }'
}

# Durations as wrk takes them (500ms, 5s, 2m) in seconds.
to_seconds() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /ms$/) print n / 1000; else if (v ~ /m$/) print n * 60; else if (v ~ /h$/) print n * 3600; else print n }'
}

median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print 0; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

# run_wrk NAME URL WRK_ARGS...: closed-loop peak. Prints "rps p50_us p99_us requests timeouts".
# Fails on any non-2xx answer or connect/read/write error; requests that outlive wrk's --timeout
# are counted (an overloaded server is a measurement, not a wrong answer).
run_wrk() {
  local name=$1 url=$2 out
  shift 2
  # shellcheck disable=SC2086
  out=$($LOAD_CPU wrk "$@" "$url") || {
    echo "$name: wrk failed" >&2
    return 1
  }
  local rps p50 p99 reqs errors timeouts
  rps=$(echo "$out" | awk '/Requests\/sec:/ {print $2}')
  p50=$(to_us "$(echo "$out" | awk '$1 == "50%" {print $2}')")
  p99=$(to_us "$(echo "$out" | awk '$1 == "99%" {print $2}')")
  reqs=$(echo "$out" | awk '/requests in/ {print $1}')
  timeouts=$(echo "$out" | awk -F'timeout ' '/Socket errors/ {print $2 + 0}')
  errors=$(echo "$out" | awk '/Non-2xx/ {print} /Socket errors/ && !/connect 0, read 0, write 0,/ {print}')
  if [ -n "$errors" ]; then
    echo "$name: $errors" >&2
    return 1
  fi
  if [ -z "$rps" ] || [ "${reqs:-0}" -le 0 ]; then
    echo "$name: no requests completed" >&2
    echo "$out" >&2
    return 1
  fi
  echo "$rps $p50 $p99 $reqs ${timeouts:-0}"
}

# run_hey NAME URL RATE CONNS SECONDS HEY_ARGS...: open-loop latency at a fixed offered rate.
# hey paces each of CONNS workers at RATE/CONNS requests per second; every request's time is
# taken from its CSV output. Prints "achieved_rps p50_us p99_us p999_us requests unanswered": a
# non-200 answer fails. hey leaves requests that got no answer (its -t timeout) out of the CSV, so
# those show only as a lower achieved rate; rows without a status are counted as unanswered.
run_hey() {
  local name=$1 url=$2 rate=$3 conns=$4 secs=$5 csv
  shift 5
  csv="$BENCH_WORK/hey.csv"
  local q
  q=$(awk -v r="$rate" -v c="$conns" 'BEGIN { printf "%.3f", r / c }')
  # shellcheck disable=SC2086
  $LOAD_CPU hey -z "${secs}s" -c "$conns" -q "$q" -t 30 -cpus 1 -o csv "$@" "$url" >"$csv" ||
    {
      echo "$name: hey failed" >&2
      return 1
    }
  $PYTHON - "$csv" "$secs" "$name" <<'PY'
import csv, math, sys
path, secs, name = sys.argv[1], float(sys.argv[2]), sys.argv[3]
times, bad, unanswered = [], 0, 0
with open(path) as f:
    for row in csv.DictReader(f):
        status = row.get("status-code") or "0"
        if status == "0":
            unanswered += 1
        elif status != "200":
            bad += 1
        else:
            times.append(float(row["response-time"]) * 1e6)
if bad or not times:
    sys.exit(f"{name}: {bad} non-200 answers, {len(times)} answered")
times.sort()
def pct(p):
    return times[min(len(times) - 1, max(0, math.ceil(p * len(times)) - 1))]
print(f"{len(times) / secs:.1f} {pct(0.50):.0f} {pct(0.99):.0f} {pct(0.999):.0f} {len(times)} {unanswered}")
PY
}

machine_description() {
  local cpu_model
  cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
  echo "$(nproc) cores (${cpu_model:-unknown cpu}), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM," \
    "kernel $(uname -r), $(. /etc/os-release && echo "$PRETTY_NAME"), data on $(df -T "$BENCH_WORK" | awk 'NR == 2 {print $2}')"
}
