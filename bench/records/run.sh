#!/usr/bin/env bash
# bench/records: the records API against its ceilings, one run, side by side.
#
#  1. View by id: wrk GET /api/collections/posts/records/{id} against
#     `plinth serve --threads 1` (default workers) and against nginx (1 worker)
#     serving the same response body from a file. Alternating rounds; req/s, p50, p99, medians
#     and the plinth/nginx ratio.
#  3. List: GET .../records?filter=views>=990&sort=-views&perPage=20 (totals
#     included, as the SDK's getList asks) over 100k rows with an index on
#     `views` added through the API; req/s, p50, p99.
#  2. Durable create: wrk POST /api/collections/posts/records (create.lua) against
#     plinth restarted on the same data with --workers 64 (durability full), so
#     every connection can wait on a group commit, and against raw_sqlite_insert.cpp, one thread inserting the
#     same rows into the same table in 64-row WAL transactions with
#     synchronous = FULL. Alternating rounds; creates/s, medians and plinth/raw.
#
#   bench/records/run.sh [--quick] [--rounds N] [--duration 10s] [--connections 64] [--seed 1000]
#
# --quick is the CI smoke test: ~1 s per measurement, one round, a few seeded
# records; it checks that every system started and answered correctly and
# never applies a speed threshold. Any non-2xx response or socket error fails
# the run. Servers (and the raw inserter) are pinned to CPU 0 and wrk to CPU 1
# when there are two cores.
set -euo pipefail
cd "$(dirname "$0")/../.."

ROUNDS=3
DURATION=10s
CONNS=64
SEED=1000
QUICK=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1; ROUNDS=1; DURATION=1s; SEED=20 ;;
    --rounds) ROUNDS="$2"; shift ;;
    --duration) DURATION="$2"; shift ;;
    --connections) CONNS="$2"; shift ;;
    --seed) SEED="$2"; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
[ "$SEED" -ge 1 ] || { echo "--seed must be at least 1" >&2; exit 2; }

PLINTH="${PLINTH_BIN:-build/release/bin/plinth}"
[ -x "$PLINTH" ] || { echo "build first: bash scripts/build.sh release" >&2; exit 2; }
for tool in wrk nginx curl sqlite3 g++ python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (scripts/install-deps.sh)" >&2; exit 2; }
done
[ -f /usr/include/sqlite3.h ] || echo "warning: sqlite3.h not in /usr/include (libsqlite3-dev)" >&2

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

SERVER_CPU=""
LOAD_CPU=""
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  SERVER_CPU="taskset -c 0"
  LOAD_CPU="taskset -c 1"
fi

# wrk durations (500ms, 5s, 2m) in seconds, for the raw inserter.
to_seconds() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /ms$/) print n / 1000; else if (v ~ /m$/) print n * 60; else if (v ~ /h$/) print n * 3600; else print n }'
}
DURATION_S=$(to_seconds "$DURATION")

echo "bench/records: wrk -t1 -c$CONNS -d$DURATION, $ROUNDS round(s), $SEED seeded records"
cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
echo "machine: $(nproc) cores (${cpu_model:-unknown cpu}), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)," \
  "kernel $(uname -r), data on $(df -T "$WORK" | awk 'NR == 2 {print $2 " " $1}')"
echo "versions: $("$PLINTH" version 2>&1 | head -1), $(nginx -v 2>&1), $(wrk -v 2>&1 | head -1 | awk '{print $1, $2}'), sqlite3 $(sqlite3 --version | awk '{print $1}')"

# --- raw SQLite inserter -----------------------------------------------------
RAW_BUILD="g++ -O2 -std=c++20 bench/records/raw_sqlite_insert.cpp -lsqlite3 -o $WORK/raw"
$RAW_BUILD || fail "could not build raw_sqlite_insert"

# --- plinth ----------------------------------------------------------------
DATA="$WORK/plinth_data"
PLINTH_PORT=$(free_port)
BASE="http://127.0.0.1:$PLINTH_PORT"
"$PLINTH" superuser upsert admin@example.com adminpass123 --dir "$DATA" >/dev/null ||
  fail "plinth superuser upsert"

wait_up() {  # url
  for _ in $(seq 1 200); do
    if curl -sf -o /dev/null "$1"; then return 0; fi
    sleep 0.05
  done
  return 1
}

# One I/O thread, access log off to match nginx. Views run on the default
# worker pool; creates get 64 workers so 64 of them can wait on one group
# commit (the default pool caps that at 4), which costs views measurably
# (64 threads contending for one core), hence two runs of the server.
PLINTH_VIEW_CMD="$PLINTH serve --http 127.0.0.1:$PLINTH_PORT --dir $DATA --threads 1 --access-log=false"
PLINTH_CREATE_CMD="$PLINTH_VIEW_CMD --workers 64"
PLINTH_PID=""
start_plinth() {  # command; sets PLINTH_PID
  # shellcheck disable=SC2086
  $SERVER_CPU $1 >>"$WORK/plinth.log" 2>&1 &
  PLINTH_PID=$!
  PIDS+=("$PLINTH_PID")
  wait_up "$BASE/api/health" || { cat "$WORK/plinth.log" >&2; fail "plinth did not answer on $BASE"; }
}
stop_plinth() {  # graceful, so the next run starts from a checkpointed database
  kill "$PLINTH_PID"
  wait "$PLINTH_PID" || true
  local keep=() p
  for p in "${PIDS[@]}"; do [ "$p" = "$PLINTH_PID" ] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}
start_plinth "$PLINTH_VIEW_CMD"

TOKEN=$(curl -s -X POST "$BASE/api/collections/_superusers/auth-with-password" -H 'Content-Type: application/json' \
  -d '{"identity":"admin@example.com","password":"adminpass123"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])') || fail "plinth superuser auth"

COLLECTION='{"name":"posts","type":"base","fields":[{"name":"title","type":"text"},{"name":"views","type":"number"},
{"name":"created","type":"autodate","onCreate":true},{"name":"updated","type":"autodate","onCreate":true,"onUpdate":true}],
"listRule":"","viewRule":"","createRule":"","updateRule":"","deleteRule":""}'
code=$(curl -s -o "$WORK/collection.json" -w '%{http_code}' -X POST "$BASE/api/collections" \
  -H "Authorization: $TOKEN" -H 'Content-Type: application/json' -d "$COLLECTION")
[ "$code" = 200 ] || fail "create collection: HTTP $code $(cat "$WORK/collection.json")"

# Seeds records over 16 keep-alive connections; every response must be a 200
# echoing what was sent. Prints the ids, one a line.
python3 - "$PLINTH_PORT" "$SEED" >"$WORK/ids.txt" <<'PY' || fail "seeding plinth"
import http.client, json, sys, threading
port, total = int(sys.argv[1]), int(sys.argv[2])
ids, errors, lock = [None] * total, [], threading.Lock()
def worker(k, n):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for i in range(k, total, n):
        body = {"title": f"post {i}", "views": i}
        conn.request("POST", "/api/collections/posts/records", json.dumps(body),
                     {"Content-Type": "application/json"})
        r = conn.getresponse()
        data = r.read()
        rec = json.loads(data) if r.status == 200 else {}
        if r.status != 200 or rec.get("title") != body["title"] or rec.get("views") != i or len(rec.get("id", "")) != 15:
            with lock:
                errors.append(f"record {i}: HTTP {r.status} {data[:200]!r}")
            return
        ids[i] = rec["id"]
n = min(16, total)
threads = [threading.Thread(target=worker, args=(k, n)) for k in range(n)]
for t in threads: t.start()
for t in threads: t.join()
if errors:
    sys.exit("\n".join(errors[:5]))
print("\n".join(ids))
PY
[ "$(wc -l <"$WORK/ids.txt")" = "$SEED" ] || fail "seeded $(wc -l <"$WORK/ids.txt") records, wanted $SEED"
count_posts() { sqlite3 "$DATA/data.db" 'SELECT count(*) FROM posts'; }
[ "$(count_posts)" = "$SEED" ] || fail "posts table holds $(count_posts) rows after seeding $SEED"

# The record in the middle of the seed; its JSON is what nginx will serve.
ID=$(sed -n "$(((SEED + 1) / 2))p" "$WORK/ids.txt")
VIEW_PATH="/api/collections/posts/records/$ID"
mkdir -p "$WORK/nginx/logs"
code=$(curl -s -o "$WORK/nginx/record.json" -w '%{http_code}' "$BASE$VIEW_PATH")
[ "$code" = 200 ] || fail "plinth view: HTTP $code"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(r["id"] != sys.argv[2])' \
  "$WORK/nginx/record.json" "$ID" || fail "plinth view returned another record: $(cat "$WORK/nginx/record.json")"

# --- nginx -----------------------------------------------------------------
# One worker, no access log, the record's exact bytes from a cached open file.
NGINX_PORT=$(free_port)
cat >"$WORK/nginx/nginx.conf" <<CONF
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
  open_file_cache max=16;
  etag off;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location = /health { return 200; }
    location = $VIEW_PATH {
      default_type application/json;
      alias $WORK/nginx/record.json;
    }
  }
}
CONF
NGINX_CMD="nginx -p $WORK/nginx -c $WORK/nginx/nginx.conf"
# shellcheck disable=SC2086
$SERVER_CPU $NGINX_CMD &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
wait_up "http://127.0.0.1:$NGINX_PORT/health" || fail "nginx did not answer on port $NGINX_PORT"

curl -s -o "$WORK/nginx_view.json" -D "$WORK/nginx_view.h" "http://127.0.0.1:$NGINX_PORT$VIEW_PATH"
curl -s -o "$WORK/plinth_view.json" -D "$WORK/plinth_view.h" "$BASE$VIEW_PATH"
cmp -s "$WORK/nginx_view.json" "$WORK/plinth_view.json" || fail "nginx and plinth bodies differ"
for sys in nginx plinth; do
  head -1 "$WORK/${sys}_view.h" | grep -q ' 200' || fail "$sys view: $(head -1 "$WORK/${sys}_view.h")"
  grep -qi '^content-type: application/json' "$WORK/${sys}_view.h" || fail "$sys view: not application/json"
done
echo "view body: $(wc -c <"$WORK/plinth_view.json") bytes, identical from both: $(cat "$WORK/plinth_view.json")"
echo "response header bytes: plinth $(wc -c <"$WORK/plinth_view.h"), nginx $(wc -c <"$WORK/nginx_view.h")"

# --- measuring -------------------------------------------------------------
# wrk latency text (512.00us, 1.20ms, 2.01s) in microseconds.
to_us() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000; else if (v ~ /s$/) print n * 1000000; else print n }'
}

WRK_VIEW="wrk -t1 -c$CONNS -d$DURATION --latency --timeout 10s"
WRK_CREATE="wrk -t1 -c$CONNS -d$DURATION --latency --timeout 10s -s bench/records/create.lua"

run_wrk() {  # name url [wrk args...] -> "rps p50us p99us requests"; fails on any error
  local name=$1 url=$2 out
  shift 2
  # shellcheck disable=SC2086
  out=$($LOAD_CPU "$@" "$url") || { echo "$name: wrk failed" >&2; return 1; }
  local rps p50 p99 reqs
  rps=$(echo "$out" | awk '/Requests\/sec:/ {print $2}')
  p50=$(to_us "$(echo "$out" | awk '$1 == "50%" {print $2}')")
  p99=$(to_us "$(echo "$out" | awk '$1 == "99%" {print $2}')")
  reqs=$(echo "$out" | awk '/requests in/ {print $1}')
  local errors
  errors=$(echo "$out" | awk '/Non-2xx|Socket errors/ {print}')
  if [ -n "$errors" ]; then
    echo "$name errors: $errors" >&2
    return 1
  fi
  if [ -z "$rps" ] || [ "${reqs:-0}" -le 0 ]; then
    echo "$name: no requests completed" >&2
    echo "$out" >&2
    return 1
  fi
  echo "$rps $p50 $p99 $reqs"
}

hwm() { awk '/VmHWM/ {printf "%.1f MiB", $2/1024}' "/proc/$1/status" 2>/dev/null || echo "n/a"; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
col_median() { awk -v c="$1" '{print $c}' "$2" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

echo
echo "commands:"
echo "  plinth (view):   ${SERVER_CPU:+$SERVER_CPU }$PLINTH_VIEW_CMD"
echo "  plinth (create): ${SERVER_CPU:+$SERVER_CPU }$PLINTH_CREATE_CMD"
echo "  nginx:  ${SERVER_CPU:+$SERVER_CPU }$NGINX_CMD   (worker_processes 1, access_log off, alias to the record's JSON)"
echo "  view:   ${LOAD_CPU:+$LOAD_CPU }$WRK_VIEW http://127.0.0.1:<port>$VIEW_PATH"
echo "  create: ${LOAD_CPU:+$LOAD_CPU }$WRK_CREATE $BASE/api/collections/posts/records"
echo "          create.lua: POST {\"title\":\"hello\",\"views\":1}, Content-Type: application/json"
echo "  raw:    $RAW_BUILD"
echo "          ${SERVER_CPU:+$SERVER_CPU }$WORK/raw <fresh.db> <.schema posts> $DURATION_S 64"
echo "  posts:  $(sqlite3 "$DATA/data.db" '.schema posts')"

echo
echo "1. view by id: GET $VIEW_PATH"
printf "%-8s %-6s %12s %10s %10s\n" round system req/s p50_us p99_us
: >"$WORK/view_nginx.txt"
: >"$WORK/view_plinth.txt"
for r in $(seq 1 "$ROUNDS"); do
  for sys in nginx plinth; do
    if [ "$sys" = nginx ]; then port=$NGINX_PORT; else port=$PLINTH_PORT; fi
    # shellcheck disable=SC2086
    res=$(run_wrk "$sys view" "http://127.0.0.1:$port$VIEW_PATH" $WRK_VIEW) || fail "$sys served errors on view"
    echo "$res" >>"$WORK/view_$sys.txt"
    read -r rps p50 p99 _ <<<"$res"
    printf "%-8s %-6s %12.0f %10.0f %10.0f\n" "$r" "$sys" "$rps" "$p50" "$p99"
  done
done
for sys in nginx plinth; do
  printf "median   %-6s %12.0f %10.0f %10.0f\n" "$sys" "$(col_median 1 "$WORK/view_$sys.txt")" \
    "$(col_median 2 "$WORK/view_$sys.txt")" "$(col_median 3 "$WORK/view_$sys.txt")"
done
VIEW_N=$(col_median 1 "$WORK/view_nginx.txt")
VIEW_P=$(col_median 1 "$WORK/view_plinth.txt")
echo "ratio plinth/nginx req/s: $(ratio "$VIEW_P" "$VIEW_N")"

VIEW_RSS=$(hwm "$PLINTH_PID")
kill -0 "$PLINTH_PID" 2>/dev/null || fail "plinth exited during the view rounds: $(tail -5 "$WORK/plinth.log")"
stop_plinth
start_plinth "$PLINTH_CREATE_CMD"

echo
echo "2. durable create: POST /api/collections/posts/records (synchronous = FULL)"
printf "%-8s %-6s %12s %10s %10s\n" round system creates/s p50_us p99_us
sqlite3 "$DATA/data.db" '.schema posts' >"$WORK/schema.sql"
: >"$WORK/create_plinth.txt"
: >"$WORK/create_raw.txt"
for r in $(seq 1 "$ROUNDS"); do
  before=$(count_posts)
  # shellcheck disable=SC2086
  res=$(run_wrk "plinth create" "$BASE/api/collections/posts/records" $WRK_CREATE) ||
    fail "plinth served errors on create"
  read -r rps p50 p99 reqs <<<"$res"
  # Every acknowledged create must already be in the table (in-flight ones may add more).
  added=$(($(count_posts) - before))
  [ "$added" -ge "$reqs" ] || fail "wrk saw $reqs creates acknowledged but only $added rows were added"
  echo "$res" >>"$WORK/create_plinth.txt"
  printf "%-8s %-6s %12.0f %10.0f %10.0f\n" "$r" plinth "$rps" "$p50" "$p99"

  rm -f "$WORK"/raw.db*
  # shellcheck disable=SC2086
  out=$($SERVER_CPU "$WORK/raw" "$WORK/raw.db" "$WORK/schema.sql" "$DURATION_S" 64) || fail "raw inserter failed"
  rm -f "$WORK"/raw.db*
  kv() { echo "$out" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k {print $2}'; }
  [ "$(kv rows)" -gt 0 ] || fail "raw inserter wrote nothing: $out"
  echo "$(kv rows_per_sec) $(kv commit_p50_us) $(kv commit_p99_us) $(kv rows)" >>"$WORK/create_raw.txt"
  kv peak_rss_kb >>"$WORK/raw_rss.txt"
  printf "%-8s %-6s %12.0f %10.0f %10.0f\n" "$r" raw "$(kv rows_per_sec)" "$(kv commit_p50_us)" "$(kv commit_p99_us)"
done
for sys in plinth raw; do
  printf "median   %-6s %12.0f %10.0f %10.0f\n" "$sys" "$(col_median 1 "$WORK/create_$sys.txt")" \
    "$(col_median 2 "$WORK/create_$sys.txt")" "$(col_median 3 "$WORK/create_$sys.txt")"
done
echo "(plinth latency is per request at $CONNS connections; raw latency is per 64-row transaction)"
CREATE_P=$(col_median 1 "$WORK/create_plinth.txt")
CREATE_R=$(col_median 1 "$WORK/create_raw.txt")
echo "ratio plinth/raw creates/s: $(ratio "$CREATE_P" "$CREATE_R")"

CREATE_STATS=$(curl -s "$BASE/metrics" 2>/dev/null | grep -E '^plinth_store_' || true)
CREATE_RSS=$(hwm "$PLINTH_PID")

echo
LIST_ROWS=100000
[ "$QUICK" = 1 ] && LIST_ROWS=5000
echo "3. list: filter + sort + perPage=20 over $LIST_ROWS+ rows, indexed field"
stop_plinth
# Bulk rows straight into the table: the API's create path was measured above.
sqlite3 "$DATA/data.db" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $LIST_ROWS)
  INSERT INTO posts (id, title, views, created, updated)
  SELECT printf('l%014d', i), 'list ' || i, i % 1000, strftime('%Y-%m-%d %H:%M:%fZ', 'now'),
         strftime('%Y-%m-%d %H:%M:%fZ', 'now') FROM n" || fail "bulk insert for the list workload"
start_plinth "$PLINTH_VIEW_CMD"
idx=$(curl -s -o /dev/null -w '%{http_code}' -X PATCH "$BASE/api/collections/posts" -H "Authorization: $TOKEN" \
  -H 'Content-Type: application/json' -d '{"indexes":["CREATE INDEX idx_posts_views ON posts (views)"]}')
[ "$idx" = 200 ] || fail "adding the index on views answered $idx"
LIST_PATH="/api/collections/posts/records?filter=views%3E%3D990&sort=-views&perPage=20"
expected=$(sqlite3 "$DATA/data.db" 'SELECT count(*) FROM posts WHERE views >= 990')
got=$(curl -s "$BASE$LIST_PATH" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["items"]), d["totalItems"], d["items"][0]["views"])')
[ "$got" = "20 $expected 999" ] || fail "list answered '$got', expected '20 $expected 999'"
echo "GET $LIST_PATH  (totalItems=$expected)"
printf "%-8s %-6s %12s %10s %10s\n" round system req/s p50_us p99_us
: >"$WORK/list_plinth.txt"
for r in $(seq 1 "$ROUNDS"); do
  # shellcheck disable=SC2086
  res=$(run_wrk "plinth list" "$BASE$LIST_PATH" $WRK_VIEW) || fail "plinth served errors on list"
  echo "$res" >>"$WORK/list_plinth.txt"
  read -r rps p50 p99 _ <<<"$res"
  printf "%-8s %-6s %12.0f %10.0f %10.0f\n" "$r" plinth "$rps" "$p50" "$p99"
done
printf "median   %-6s %12.0f %10.0f %10.0f\n" plinth "$(col_median 1 "$WORK/list_plinth.txt")" \
  "$(col_median 2 "$WORK/list_plinth.txt")" "$(col_median 3 "$WORK/list_plinth.txt")"

# Plinth's own view of the group commits during the create rounds.
[ -z "$CREATE_STATS" ] || echo "plinth store metrics (create run): $(echo "$CREATE_STATS" | tr '\n' ' ')"

echo
raw_rss=$(sort -g "$WORK/raw_rss.txt" | tail -1)
echo "peak RSS: plinth $VIEW_RSS (view run), $CREATE_RSS (create run, 64 workers), $(hwm "$PLINTH_PID") (list run)," \
  "nginx $(hwm "$NGINX_PID"), raw $(awk -v k="$raw_rss" 'BEGIN {printf "%.1f MiB", k/1024}')"
kill -0 "$PLINTH_PID" 2>/dev/null || fail "plinth exited during the run: $(tail -5 "$WORK/plinth.log")"
kill -0 "$NGINX_PID" 2>/dev/null || fail "nginx exited during the run"

if [ "$QUICK" = 1 ]; then
  awk -v a="$VIEW_P" -v b="$VIEW_N" -v c="$CREATE_P" -v d="$CREATE_R" 'BEGIN { exit !(a > 0 && b > 0 && c > 0 && d > 0) }' ||
    fail "smoke: a system served nothing"
  echo "smoke: plinth, nginx and raw SQLite all answered correctly"
fi
