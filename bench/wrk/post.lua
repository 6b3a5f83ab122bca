-- wrk script for bench/run.sh: POST with the body in $BENCH_BODY (empty when unset).
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY") or ""
