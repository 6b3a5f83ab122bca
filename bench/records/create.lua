-- wrk script for bench/records: every request creates one `posts` record.
wrk.method = "POST"
wrk.body = '{"title":"hello","views":1}'
wrk.headers["Content-Type"] = "application/json"
