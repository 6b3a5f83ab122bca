#!/usr/bin/env bash
# bench/run.sh: every system side by side, one run, one report.
#
#   bash bench/run.sh [--quick|--full] [--rounds N] [--duration 10s] [--latency-duration 10]
#                     [--connections 64] [--rows 100000] [--workloads W0,W1,W2,W3,W4]
#                     [--warmup 3s] [--out docs/benchmarks.md]
#
# Systems: plinth (--threads 1, and all cores), nginx (1 worker) returning the same bytes,
# a raw SQLite C API inserter (same table, WAL + synchronous=FULL, 64-row transactions), and
# a Node peer (bench/peers/node: Fastify 5 + better-sqlite3 12, same schema and durability).
# Workloads:
#   W0 GET /api/health                    plinth, nginx, node
#   W1 view one record by id              plinth, nginx (same bytes), node
#   W2 list: filter + sort, perPage=20    plinth, node            over --rows rows
#   W3 durable create                     plinth, node, raw SQLite
#   W4 auth-refresh                       plinth, node
#   W5 realtime fan-out                   bench/realtime/run.sh (its own harness, figures in the report)
# For each: an unmeasured wrk warm-up per system (--full), then
# peak req/s with wrk (closed loop, median of --rounds alternating rounds), then
# p50/p99/p99.9 with hey at a fixed offered rate (50% of plinth --threads 1's peak on that
# workload), then each process's peak RSS (VmHWM). Every server is started afresh for each
# workload on a copy of the same dataset.
#
# --full (the default) writes --out (docs/benchmarks.md) and PNG charts beside it in bench/.
# --quick is the CI smoke test: W1-W4, ~1 s per measurement on a small dataset; it checks that every
# system starts and answers correctly, writes the report into a scratch directory, and never
# applies a speed threshold. Any wrong answer, non-2xx status or connection error fails the run;
# requests that time out (30 s) under overload are counted and reported.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
# shellcheck source=bench/lib.sh
source bench/lib.sh

MODE=full
ROUNDS=3
DURATION=10s
LAT_SECS=10
CONNS=64
ROWS=100000
OUT=docs/benchmarks.md
WORKLOAD_LIST="W0 W1 W2 W3 W4"
WARMUP=3s
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) MODE=quick; ROUNDS=1; DURATION=1s; LAT_SECS=1; ROWS=2000; WORKLOAD_LIST="W1 W2 W3 W4"; WARMUP="" ;;
    --warmup) WARMUP="$2"; shift ;;
    --full) MODE=full ;;
    --rounds) ROUNDS="$2"; shift ;;
    --duration) DURATION="$2"; shift ;;
    --latency-duration) LAT_SECS="$2"; shift ;;
    --connections) CONNS="$2"; shift ;;
    --rows) ROWS="$2"; shift ;;
    --workloads) WORKLOAD_LIST="${2//,/ }"; shift ;;
    --out) OUT="$2"; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
[ "$MODE" = quick ] && OUT="$BENCH_WORK/report/benchmarks.md"
DURATION_S=$(to_seconds "$DURATION")
STARTED_AT=$(date -u '+%Y-%m-%d %H:%M UTC')

PLINTH="${PLINTH_BIN:-build/release/bin/plinth}"
[ -x "$PLINTH" ] || fail "build first: bash scripts/build.sh release plinth"
PLINTH=$(realpath "$PLINTH")
need_tools wrk hey nginx curl sqlite3 g++ python3 node npm gnuplot

# --- Node peer dependencies: npm ci from the lockfile, better-sqlite3 compiled here ------------
# Install scripts are skipped so nothing tries to fetch a prebuilt binary; better-sqlite3's own
# build script then compiles it with npm's node-gyp against the installed Node headers.
PEER=bench/peers/node
if ! cmp -s "$PEER/package-lock.json" "$PEER/node_modules/.plinth-lock" 2>/dev/null; then
  echo "bench: npm ci in $PEER, then better-sqlite3 built from source against /usr/include/node"
  (cd "$PEER" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=warn &&
    cd node_modules/better-sqlite3 && npm_config_nodedir=/usr npm run build-release --loglevel=warn >/dev/null) ||
    fail "installing the Node peer's dependencies in $PEER"
  cp "$PEER/package-lock.json" "$PEER/node_modules/.plinth-lock"
fi

# --- raw SQLite inserter -----------------------------------------------------------------------
RAW_BUILD="g++ -O2 -std=c++20 bench/raw_sqlite_insert.cpp -lsqlite3 -o $BENCH_WORK/raw_insert"
$RAW_BUILD || fail "could not build bench/raw_sqlite_insert.cpp"

# --- the dataset: made once through plinth's API, copied for every server start ----------------
echo "bench: dataset ($ROWS posts, one user)"
TEMPLATE="$BENCH_WORK/template"
"$PLINTH" superuser upsert admin@example.com adminpass123 --dir "$TEMPLATE" >/dev/null ||
  fail "plinth superuser upsert"
port=$(free_port)
BASE="http://127.0.0.1:$port"
start_server plinth-setup 0 "$PLINTH" serve --http "127.0.0.1:$port" --dir "$TEMPLATE" --access-log=false
SETUP_PID=$STARTED_PID
wait_up "$BASE/api/health" || fail "plinth did not answer: $(tail -5 "$BENCH_WORK/plinth-setup.log")"
json_field() { $PYTHON -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
post_json() { # url body [auth] -> body; fails unless 200
  local out code
  out=$(curl -s -w '\n%{http_code}' -X POST "$1" -H 'Content-Type: application/json' \
    ${3:+-H "Authorization: $3"} -d "$2")
  code=${out##*$'\n'}
  [ "$code" = 200 ] || {
    echo "POST $1 answered $code: ${out%$'\n'*}" >&2
    return 1
  }
  echo "${out%$'\n'*}"
}
SU_TOKEN=$(post_json "$BASE/api/collections/_superusers/auth-with-password" \
  '{"identity":"admin@example.com","password":"adminpass123"}' | json_field token) || fail "superuser auth"
post_json "$BASE/api/collections" '{"name":"posts","type":"base","fields":[
  {"name":"title","type":"text"},{"name":"views","type":"number"},
  {"name":"created","type":"autodate","onCreate":true},
  {"name":"updated","type":"autodate","onCreate":true,"onUpdate":true}],
  "indexes":["CREATE INDEX idx_posts_views ON posts (views)"],
  "listRule":"","viewRule":"","createRule":"","updateRule":"","deleteRule":""}' "$SU_TOKEN" >/dev/null ||
  fail "create the posts collection"
# A few records through the API; the one viewed in W1 is one of them.
for i in $(seq 1 8); do
  post_json "$BASE/api/collections/posts/records" "{\"title\":\"post $i\",\"views\":$((i * 7))}" |
    json_field id >>"$BENCH_WORK/ids.txt" || fail "create a post"
done
VIEW_ID=$(sed -n 4p "$BENCH_WORK/ids.txt")
USER_EMAIL=bench@example.com
USER_PASS=benchpass123
USER_BODY="{\"email\":\"$USER_EMAIL\",\"password\":\"$USER_PASS\",\"passwordConfirm\":\"$USER_PASS\"}"
post_json "$BASE/api/collections/users/records" "$USER_BODY" "$SU_TOKEN" >/dev/null || fail "create the user"
stop_server "$SETUP_PID"
# Bulk rows straight into the table (the create path is W3's business).
BULK_SQL="WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $ROWS)
  INSERT INTO posts (id, title, views, created, updated)
  SELECT printf('l%014d', i), 'list ' || i, i % 1000, strftime('%Y-%m-%d %H:%M:%fZ', 'now'),
         strftime('%Y-%m-%d %H:%M:%fZ', 'now') FROM n"
sqlite3 "$TEMPLATE/data.db" "$BULK_SQL" || fail "bulk insert"
sqlite3 "$TEMPLATE/data.db" '.schema posts' >"$BENCH_WORK/posts.sql"
# The Node peer's database: Plinth's own `posts` DDL and the very same rows.
NODE_TEMPLATE="$BENCH_WORK/node_template.db"
sqlite3 "$NODE_TEMPLATE" ".read $BENCH_WORK/posts.sql" \
  "ATTACH '$TEMPLATE/data.db' AS p" "INSERT INTO posts (id, title, views, created, updated) SELECT id, title, views, created, updated FROM p.posts" ||
  fail "node dataset"
TOTAL_POSTS=$(sqlite3 "$TEMPLATE/data.db" 'SELECT count(*) FROM posts')
LIST_MATCH=$(sqlite3 "$TEMPLATE/data.db" 'SELECT count(*) FROM posts WHERE views >= 990')

# --- systems ------------------------------------------------------------------------------------
# system name -> how it is started for a workload; every start gets fresh copies of the data.
declare -A PORT PID CMD
NGINX_DIR="$BENCH_WORK/nginx"
HEALTH_BODY='{"code":200,"message":"API is healthy.","data":{}}'
VIEW_PATH="/api/collections/posts/records/$VIEW_ID"
LIST_PATH="/api/collections/posts/records?filter=views%3E%3D990&sort=-views&perPage=20"

write_nginx_conf() { # port
  mkdir -p "$NGINX_DIR/logs"
  cat >"$NGINX_DIR/nginx.conf" <<CONF
worker_processes 1;
daemon off;
master_process off;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $NGINX_DIR/body;
  proxy_temp_path $NGINX_DIR/proxy;
  fastcgi_temp_path $NGINX_DIR/fastcgi;
  uwsgi_temp_path $NGINX_DIR/uwsgi;
  scgi_temp_path $NGINX_DIR/scgi;
  keepalive_requests 1000000;
  open_file_cache max=16;
  etag off;
  server {
    listen 127.0.0.1:$1;
    location = /api/health {
      default_type application/json;
      return 200 '$HEALTH_BODY';
    }
    location = $VIEW_PATH {
      default_type application/json;
      alias $NGINX_DIR/record.json;
    }
  }
}
CONF
}

# start_system SYSTEM WORKLOAD: starts it on a free port and records PORT/PID/CMD.
start_system() {
  local sys=$1 w=$2 port dir
  port=$(free_port)
  dir="$BENCH_WORK/run-$sys-$w"
  rm -rf "$dir"
  case "$sys" in
    plinth-1t | plinth-all)
      cp -a "$TEMPLATE" "$dir"
      local threads=1 pinned=1
      [ "$sys" = plinth-all ] && threads=0 && pinned=0
      # Access log off to match nginx. Default pool: creates wait for their group commit on
      # fibers, not on a pool thread each.
      local args=(serve --http "127.0.0.1:$port" --dir "$dir" --threads "$threads" --access-log=false)
      start_server "$sys-$w" "$pinned" "$PLINTH" "${args[@]}"
      local pin=""
      [ "$pinned" = 1 ] && pin="$SERVER_CPU "
      CMD[$sys-$w]="${pin}plinth ${args[*]}"
      ;;
    nginx)
      write_nginx_conf "$port"
      start_server "$sys-$w" 1 nginx -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf"
      CMD[$sys-$w]="$SERVER_CPU nginx -p DIR -c DIR/nginx.conf (worker_processes 1, access_log off, return/alias of the same bytes)"
      ;;
    node)
      mkdir -p "$dir"
      cp "$NODE_TEMPLATE" "$dir/data.db"
      start_server "$sys-$w" 1 node "$ROOT/$PEER/server.js" --port "$port" --db "$dir/data.db"
      CMD[$sys-$w]="$SERVER_CPU node $PEER/server.js --port PORT --db DIR/data.db"
      ;;
  esac
  CMD[$sys-$w]=$(echo "${CMD[$sys-$w]}" | sed -e "s#$BENCH_WORK/[^ ]*#DIR#g" -e "s#127.0.0.1:$port#127.0.0.1:PORT#")
  PID[$sys]=$STARTED_PID
  PORT[$sys]=$port
}

# ready_system SYSTEM WORKLOAD: waits until it answers; the Node peer then gets its user
# (Plinth's is in the dataset).
ready_system() {
  local sys=$1 w=$2
  wait_up "http://127.0.0.1:${PORT[$sys]}/api/health" || fail "$sys did not answer: $(tail -5 "$BENCH_WORK/$sys-$w.log")"
  if [ "$sys" = node ]; then
    post_json "http://127.0.0.1:${PORT[$sys]}/api/collections/users/records" "$USER_BODY" >/dev/null ||
      fail "node: create the user"
  fi
}

url_of() { echo "http://127.0.0.1:${PORT[$1]}$2"; }

# --- correctness checks before measuring (these are what --quick proves) -------------------------
check_view() { # system
  curl -s "$(url_of "$1" "$VIEW_PATH")" | $PYTHON -c '
import json, sys
r = json.load(sys.stdin)
ok = r.get("id") == sys.argv[1] and r.get("title") == "post 4" and r.get("views") == 28 and r.get("collectionName") == "posts"
sys.exit(0 if ok else "view answered " + json.dumps(r))' "$VIEW_ID" || fail "$1: W1 view"
}
check_list() {
  curl -s "$(url_of "$1" "$LIST_PATH")" | $PYTHON -c '
import json, sys
d = json.load(sys.stdin)
ok = len(d["items"]) == 20 and d["totalItems"] == int(sys.argv[1]) and d["items"][0]["views"] == 999 and d["perPage"] == 20
sys.exit(0 if ok else "list answered " + json.dumps(d)[:300])' "$LIST_MATCH" || fail "$1: W2 list"
}
count_rows() { # system workload
  local db="$BENCH_WORK/run-$1-$2/data.db"
  sqlite3 "$db" 'SELECT count(*) FROM posts'
}
user_token() { # system
  post_json "$(url_of "$1" /api/collections/users/auth-with-password)" \
    "{\"identity\":\"$USER_EMAIL\",\"password\":\"$USER_PASS\"}" | json_field token
}
check_refresh() { # system token
  post_json "$(url_of "$1" /api/collections/users/auth-refresh)" '' "$2" | $PYTHON -c '
import json, sys
d = json.load(sys.stdin)
ok = d["record"]["email"] == sys.argv[1] and d["token"].count(".") == 2
sys.exit(0 if ok else "refresh answered " + json.dumps(d))' "$USER_EMAIL" || fail "$1: W4 auth-refresh"
}

# --- measuring ------------------------------------------------------------------------------------
RESULTS="$BENCH_WORK/results.tsv"
printf 'workload\tsystem\tpeak_rps\tpeak_p50_us\tpeak_p99_us\trate\tachieved_rps\tp50_us\tp99_us\tp999_us\trss_kb\ttimeouts\tround_rps\n' >"$RESULTS"
WRK_BASE=(-t1 "-c$CONNS" "-d$DURATION" --latency --timeout 30s)
WRK_CMD_SHOWN="${LOAD_CPU:+$LOAD_CPU }wrk ${WRK_BASE[*]}"
declare -A WLABEL WPATH WSYSTEMS WRK_EXTRA HEY_EXTRA
WLABEL[W0]="GET /api/health"
WLABEL[W1]="view one record by id"
WLABEL[W2]="list: filter + sort, perPage=20, over $TOTAL_POSTS rows"
WLABEL[W3]="durable create (synchronous=FULL)"
WLABEL[W4]="auth-refresh"
WPATH[W0]=/api/health
WPATH[W1]=$VIEW_PATH
WPATH[W2]=$LIST_PATH
WPATH[W3]=/api/collections/posts/records
WPATH[W4]=/api/collections/users/auth-refresh
WSYSTEMS[W0]="plinth-1t plinth-all nginx node"
WSYSTEMS[W1]="plinth-1t plinth-all nginx node"
WSYSTEMS[W2]="plinth-1t plinth-all node"
WSYSTEMS[W3]="plinth-1t plinth-all node"
WSYSTEMS[W4]="plinth-1t plinth-all node"
CREATE_BODY='{"title":"hello","views":1}'

echo "bench: $MODE, wrk ${WRK_BASE[*]}, $ROUNDS round(s); hey $LAT_SECS s at 50% of plinth-1t's peak"
echo "machine: $(machine_description)"
printf '%-4s %-11s %10s %9s %9s | %9s %9s %9s %9s %9s | %8s %8s\n' wl system peak_rps p50_us p99_us rate achieved p50_us p99_us p99.9_us rss_MiB timeouts

for w in $WORKLOAD_LIST; do
  [ -n "${WSYSTEMS[$w]:-}" ] || fail "unknown workload $w"
  read -r -a systems <<<"${WSYSTEMS[$w]}"
  for sys in "${systems[@]}"; do start_system "$sys" "$w"; done
  for sys in "${systems[@]}"; do ready_system "$sys" "$w"; done
  if [ "$w" = W1 ]; then
    # nginx needs the record's exact bytes: take them from plinth, then restart nginx.
    curl -s -o "$NGINX_DIR/record.json" "$(url_of plinth-1t "$VIEW_PATH")"
    stop_server "${PID[nginx]}"
    start_system nginx "$w"
    ready_system nginx "$w"
    cmp -s <(curl -s "$(url_of nginx "$VIEW_PATH")") <(curl -s "$(url_of plinth-1t "$VIEW_PATH")") ||
      fail "nginx and plinth bodies differ"
  fi
  declare -A TOKEN=()
  for sys in "${systems[@]}"; do
    case "$w" in
      W0) [ "$(curl -s "$(url_of "$sys" /api/health)")" = "$HEALTH_BODY" ] || fail "$sys: health body" ;;
      W1) check_view "$sys" ;;
      W2) check_list "$sys" ;;
      W3) post_json "$(url_of "$sys" "${WPATH[W3]}")" "$CREATE_BODY" | json_field id >/dev/null || fail "$sys: W3 create" ;;
      W4)
        TOKEN[$sys]=$(user_token "$sys") || fail "$sys: auth-with-password"
        check_refresh "$sys" "${TOKEN[$sys]}"
        ;;
    esac
  done
  extra_for() { # system -> extra wrk args, one per line
    case "$w" in
      W3) printf '%s\n' -s bench/wrk/post.lua -H 'Content-Type: application/json' ;;
      W4) printf '%s\n' -s bench/wrk/post.lua -H "Authorization: ${TOKEN[$1]}" ;;
    esac
  }

  # Peak: alternating rounds, median.
  wbody=""
  export BENCH_BODY
  [ "$w" = W3 ] && wbody=$CREATE_BODY
  declare -A PEAKS=()
  if [ -n "$WARMUP" ]; then
    # Unmeasured warm-up: Node's JIT (and every cache) gets the same chance before the rounds.
    BENCH_BODY=$wbody
    for sys in "${systems[@]}"; do
      mapfile -t extra < <(extra_for "$sys")
      run_wrk "$w $sys warm-up" "$(url_of "$sys" "${WPATH[$w]}")" -t1 "-c$CONNS" "-d$WARMUP" --timeout 30s \
        "${extra[@]}" >/dev/null || fail "$sys served errors on $w (warm-up)"
    done
  fi
  for r in $(seq 1 "$ROUNDS"); do
    for sys in "${systems[@]}"; do
      mapfile -t extra < <(extra_for "$sys")
      before=0
      [ "$w" = W3 ] && before=$(count_rows "$sys" "$w")
      BENCH_BODY=$wbody
      res=$(run_wrk "$w $sys" "$(url_of "$sys" "${WPATH[$w]}")" "${WRK_BASE[@]}" "${extra[@]}") ||
        fail "$sys served errors on $w"
      if [ "$w" = W3 ]; then
        read -r _ _ _ reqs _ <<<"$res"
        added=$(($(count_rows "$sys" "$w") - before))
        [ "$added" -ge "$reqs" ] || fail "$sys: wrk saw $reqs creates acknowledged but only $added rows were added"
      fi
      PEAKS[$sys]+="$res"$'\n'
    done
    if [ "$w" = W3 ]; then
      # The ceiling: the same rows into the same table, 64 per transaction, same pragmas.
      rm -f "$BENCH_WORK"/raw.db*
      # shellcheck disable=SC2086
      out=$($SERVER_CPU "$BENCH_WORK/raw_insert" "$BENCH_WORK/raw.db" "$BENCH_WORK/posts.sql" "$DURATION_S" 64) ||
        fail "raw inserter failed"
      kv() { echo "$out" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k {print $2}'; }
      [ "$(kv rows)" -gt 0 ] || fail "raw inserter wrote nothing: $out"
      PEAKS[raw-sqlite]+="$(kv rows_per_sec) $(kv commit_p50_us) $(kv commit_p99_us) $(kv rows)"$'\n'
      RAW_RSS=$(kv peak_rss_kb)
    fi
  done
  col() { echo -n "${PEAKS[$1]}" | awk -v c="$2" '{print $c}' | median; }
  # Every round's peak, in round order: the report pairs systems measured in the same round.
  rounds_of() { echo -n "${PEAKS[$1]}" | awk '{printf "%s%.0f", (NR > 1 ? "," : ""), $1}'; }
  rate=$(awk -v p="$(col plinth-1t 1)" 'BEGIN { printf "%d", p / 2 }')
  [ "$rate" -ge 1 ] || rate=1

  # Latency at a fixed offered rate, then peak RSS of each process over the whole workload.
  for sys in "${systems[@]}"; do
    hey_args=()
    case "$w" in
      W3) hey_args=(-m POST -T application/json -d "$CREATE_BODY") ;;
      W4) hey_args=(-m POST -T application/json -H "Authorization: ${TOKEN[$sys]}") ;;
    esac
    lat=$(run_hey "$w $sys" "$(url_of "$sys" "${WPATH[$w]}")" "$rate" "$CONNS" "$LAT_SECS" "${hey_args[@]}") ||
      fail "$sys served errors on $w at a fixed rate"
    read -r achieved p50 p99 p999 _ unanswered <<<"$lat"
    kill -0 "${PID[$sys]}" 2>/dev/null || fail "$sys exited during $w: $(tail -5 "$BENCH_WORK/$sys-$w.log")"
    rss=$(hwm_kb "${PID[$sys]}")
    timeouts=$(($(echo -n "${PEAKS[$sys]}" | awk '{n += $5} END {print n + 0}') + unanswered))
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$w" "$sys" "$(col "$sys" 1)" "$(col "$sys" 2)" \
      "$(col "$sys" 3)" "$rate" "$achieved" "$p50" "$p99" "$p999" "$rss" "$timeouts" "$(rounds_of "$sys")" >>"$RESULTS"
  done
  if [ "$w" = W3 ]; then
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$w" raw-sqlite "$(col raw-sqlite 1)" "$(col raw-sqlite 2)" \
      "$(col raw-sqlite 3)" - - - - - "$RAW_RSS" 0 "$(rounds_of raw-sqlite)" >>"$RESULTS"
  fi
  awk -F'\t' -v w="$w" '$1 == w {
    printf "%-4s %-11s %10.0f %9s %9s | %9s %9s %9s %9s %9s | %8.1f %8s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 / 1024, $12 }' "$RESULTS"
  if [ "$w" = W3 ]; then
    STORE_METRICS=$(curl -s "$(url_of plinth-1t /metrics)" | grep -E '^plinth_store_(group|commit|write)' | tr '\n' ' ' || true)
  fi
  for sys in "${systems[@]}"; do stop_server "${PID[$sys]}"; done
  unset PEAKS TOKEN
done

# --- the report ----------------------------------------------------------------------------------
{
  echo "started=$STARTED_AT"
  echo "mode=$MODE"
  echo "rounds=$ROUNDS"
  echo "warmup=${WARMUP:-none}"
  echo "duration=$DURATION"
  echo "latency_secs=$LAT_SECS"
  echo "connections=$CONNS"
  echo "rows=$TOTAL_POSTS"
  echo "list_match=$LIST_MATCH"
  echo "machine=$(machine_description)"
  echo "load=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "versions=$("$PLINTH" version 2>&1 | head -1); $(nginx -v 2>&1 | sed 's/nginx version: //'); node $(node --version); fastify $(node -p "require('./$PEER/node_modules/fastify/package.json').version"); better-sqlite3 $(node -p "require('./$PEER/node_modules/better-sqlite3/package.json').version") (SQLite $(cd "$PEER" && node -p "new (require('better-sqlite3'))(':memory:').prepare('select sqlite_version() v').get().v")); $(wrk -v 2>&1 | head -1 | awk '{print $1, $2}'); hey $(dpkg-query -W -f='${Version}' hey 2>/dev/null); sqlite3 $(sqlite3 --version | awk '{print $1}')"
  echo "wrk=$WRK_CMD_SHOWN"
  echo "hey=${LOAD_CPU:+$LOAD_CPU }hey -z ${LAT_SECS}s -c $CONNS -q RATE/$CONNS -t 30 -cpus 1 -o csv"
  echo "raw=$RAW_BUILD; ${SERVER_CPU:+$SERVER_CPU }raw_insert DIR/raw.db posts.sql $DURATION_S 64" | sed "s#$BENCH_WORK#DIR#g"
  echo "view_path=$VIEW_PATH"
  echo "list_path=$LIST_PATH"
  echo "store_metrics=${STORE_METRICS:-}"
  for k in "${!CMD[@]}"; do echo "cmd.$k=${CMD[$k]}"; done
} >"$BENCH_WORK/meta.txt"
mkdir -p "$(dirname "$OUT")"
$PYTHON bench/report.py "$RESULTS" "$BENCH_WORK/meta.txt" "$OUT" || fail "report"
cp "$RESULTS" "$(dirname "$OUT")/bench/results.tsv"
echo "bench: wrote $OUT ($SECONDS s in all)"
if [ "$MODE" = quick ]; then
  echo "smoke: plinth, nginx, node and raw SQLite all started and answered correctly"
fi
