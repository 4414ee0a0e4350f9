#!/usr/bin/env bats
# tf-serve: the dashboard server's HTTP side (the page, REST routes, control
# and injected events), its state, and bad requests. The browser tests are in
# tf-serve-browser.bats; the WebSocket hub is tf-broadcast's (tf-broadcast.bats).

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	PORT=$(free_port)
	URL=http://127.0.0.1:$PORT
}

teardown() {
	exec 7>&- 2>/dev/null || true
	stop_pids
	if [ -f err ] && grep -qE 'ERROR: [A-Za-z]+Sanitizer|runtime error:' err; then
		cat err >&2
		return 1
	fi
}

# serve FLAGS...: tf-serve on $PORT reading the FIFO "in" (fd 7 here),
# stdout to "out", stderr to "err". Returns once it accepts connections.
serve() {
	mkfifo in
	tf-serve --port "$PORT" "$@" <in >out 2>err 3>&- &
	echo $! >>pids
	SPID=$!
	exec 7>in
	if ! wait_for accepting; then
		cat err >&2
		return 1
	fi
}

accepting() {
	(exec 8<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null
}

feed() {
	printf '%s\n' "$@" >&7
}

# get PATH [CURL ARGS...]: the body; $code gets the status.
get() {
	local path=$1
	shift
	curl -s -o body -w '%{http_code}' "$@" "$URL$path" >code
	code=$(cat code)
	cat body
}

# The state has taken every line fed so far (a marker event arrived).
settled() {
	feed "{\"type\":\"heartbeat\",\"marker\":$1}"
	wait_for eval "curl -s '$URL/api/stats' | jq -e '.messages_in >= $2' >/dev/null"
}

events='{"type":"price_update","symbol":"BTC-USD","price":100,"volume":1,"ts":1700000000000}
{"type":"price_update","symbol":"BTC-USD","price":110,"volume":2,"ts":1700000000500}
{"type":"price_update","symbol":"BTC-USD","price":90,"volume":3,"ts":1700000001200}
{"type":"price_update","symbol":"ETH-USD","price":2000,"volume":1,"ts":1700000001300}
{"type":"portfolio_update","total_value":1000,"pnl":0,"pnl_pct":0,"ts":1700000001000}
{"type":"portfolio_update","total_value":1100,"pnl":100,"pnl_pct":10,"ts":1700000002000}
{"type":"portfolio_update","total_value":990,"pnl":-10,"pnl_pct":-1,"ts":1700000003000}
{"type":"trade_executed","order_id":"a","symbol":"BTC-USD","side":"buy","quantity":1,"price":100,"pnl":5,"ts":1700000001000}
{"type":"trade_executed","order_id":"b","symbol":"ETH-USD","side":"sell","quantity":1,"price":2000,"pnl":-3,"ts":1700000001100}
{"type":"trade_executed","order_id":"c","symbol":"BTC-USD","side":"sell","quantity":1,"price":90,"pnl":7,"ts":1700000001200}
{"type":"alert","priority":"low","title":"l","message":"low one"}
{"type":"alert","priority":"high","title":"h","message":"high one"}
{"type":"alert","priority":"critical","title":"c","message":"critical one"}
{"type":"ml_prediction","model":"m","symbol":"BTC-USD","price":90,"predicted_price":95,"direction":"up","confidence":0.7,"horizon":1}
{"type":"price_update","symbol":"BTC-USD","price":97,"volume":1,"ts":1700000001400}
{"type":"pattern_detected","symbol":"BTC-USD","pattern":"double_bottom","confidence":0.6,"entry":97,"target":105,"stop":93}
{"type":"system_status","status":"ok","cpu":12.5,"memory":0.3,"connections":4}
{"type":"bot_stopped","status":"stopped","ts":1700000004000}'

@test "keeps the stream's state and answers GET /api/snapshot with all of it" {
	serve
	feed "$events"
	settled 1 19
	get /api/snapshot >snap
	[ "$code" = 200 ]
	jq -e '.server | startswith("tf-serve ")' snap
	jq -e '.seq == 19 and (.epoch | length) == 16' snap
	assert_equal "$(jq -c '.symbols["BTC-USD"]' snap)" \
		'{"type":"price_update","symbol":"BTC-USD","price":97,"volume":1,"ts":1700000001400}'
	assert_equal "$(jq -c '.candles["BTC-USD"]["1s"] | map([.t,.o,.h,.l,.c,.v,.n])' snap)" \
		'[[1700000000000,100,110,100,110,1,2],[1700000001000,90,97,90,97,1,2]]'
	assert_equal "$(jq -c '.candles["BTC-USD"]["1m"] | map([.o,.h,.l,.c,.n])' snap)" '[[100,110,90,97,4]]'
	jq -e '.portfolio.total_value == 990' snap
	assert_equal "$(jq -c .equity snap)" '[[1700000001000,1000],[1700000002000,1100],[1700000003000,990]]'
	assert_equal "$(jq -c '[.trades[].order_id]' snap)" '["a","b","c"]'
	assert_equal "$(jq -c '[.alerts[].priority]' snap)" '["low","high","critical"]'
	assert_equal "$(jq -c '.predictions[0] | [.actual, .correct]' snap)" '[97,true]'
	jq -e '.patterns[0].target == 105' snap
	jq -e '.system.cpu == 12.5' snap
	jq -e '.bot.state == "stopped" and .bot.since == 1700000004000' snap
	jq -e '.metrics.trades == 3 and .metrics.round_trips == 1 and .metrics.losses == 1' snap
	# Compressed when the client accepts gzip, the same JSON inside.
	curl -s -D h -o snap.gz -H 'Accept-Encoding: gzip' "$URL/api/snapshot"
	grep -i '^content-encoding: gzip' h
	[ "$(stat -c %s snap.gz)" -lt "$(stat -c %s snap)" ]
	assert_equal "$(gzip -dc snap.gz | jq -c 'del(.now)')" "$(jq -c 'del(.now)' snap)"
	curl -s -D h2 -o /dev/null -H 'Accept-Encoding: gzip' "$URL/api/metrics"
	! grep -qi '^content-encoding' h2
	# Events are embedded as they arrived, never re-serialised.
	feed '{"type":"alert", "priority":"low","message":"spaced \u00e9 1.50"}'
	settled 2 21
	get /api/snapshot | grep -F '{"type":"alert", "priority":"low","message":"spaced \u00e9 1.50"}'
}

@test "GET /api/candles answers per symbol and timeframe, within from and to" {
	serve
	feed "$events"
	settled 1 19
	get '/api/candles?symbol=BTC-USD&tf=1s' >c
	[ "$code" = 200 ]
	assert_equal "$(jq -c '[.symbol, .tf, (.candles | length)]' c)" '["BTC-USD","1s",2]'
	get '/api/candles?symbol=BTC-USD&tf=1s&from=1700000001000' >c
	assert_equal "$(jq -c '[.candles[].t]' c)" '[1700000001000]'
	get '/api/candles?symbol=BTC-USD&tf=1s&to=2023-11-14T22:13:21Z' >c
	assert_equal "$(jq -c '[.candles[].t]' c)" '[1700000000000]'
	get '/api/candles?symbol=BTC-USD' >c
	assert_equal "$(jq -r .tf c)" 1m
	get '/api/candles?symbol=BTC-USD&tf=2m' >c
	[ "$code" = 400 ]
	jq -e '.error | test("2m")' c
	get '/api/candles?tf=1m' >c
	[ "$code" = 400 ]
	jq -e '.error | test("symbol")' c
	get '/api/candles?symbol=NOPE-USD' >c
	[ "$code" = 404 ]
	get '/api/candles?symbol=BTC-USD&from=yesterday' >c
	[ "$code" = 400 ]
}

@test "GET /api/trades, /api/alerts and /api/metrics filter and compute" {
	serve
	feed "$events"
	settled 1 19
	assert_equal "$(get '/api/trades?symbol=BTC-USD' | jq -c '[.trades[].order_id]')" '["a","c"]'
	assert_equal "$(get '/api/trades?limit=1' | jq -c '[.trades[].order_id]')" '["c"]'
	assert_equal "$(get '/api/alerts?priority=high' | jq -c '[.alerts[].priority]')" '["high","critical"]'
	assert_equal "$(get '/api/alerts?priority=all' | jq -c '.alerts | length')" 3
	get '/api/alerts?priority=urgent' >a
	[ "$code" = 400 ]
	jq -e '.error | test("urgent")' a
	get '/api/trades?limit=lots' >a
	[ "$code" = 400 ]
	get /api/metrics >m
	# BTC-USD: bought 1 at 100, sold at 90: one round trip, lost 10 (the
	# fills' own "pnl" fields count for nothing); ETH-USD's short is open.
	jq -e '.trades == 3 and .round_trips == 1 and .wins == 0 and .losses == 1' m
	jq -e '.realized_pnl == -10 and .win_rate == 0' m
	jq -e '.total_value == 990 and .peak == 1100 and .max_drawdown_value == 110' m
	jq -e '(.max_drawdown * 1000 | round) == 100' m
}

@test "GET /api/system reports tf-serve's own use and the engine's latest status; /api/stats the hub's" {
	serve
	feed "$events"
	settled 1 19
	get /api/system >s
	[ "$code" = 200 ]
	jq -e '.server.rss > 1000000 and .server.uptime > 0 and .server.connections == 0' s
	jq -e '.server.events == 19 and (.server.cpu | type) == "number"' s
	jq -e '.engine.status == "ok" and .bot.state == "stopped"' s
	get /api/stats >t
	jq -e '.messages_in == 19 and .clients == 0' t
}

@test "POST /api/control/ACTION writes a control line to stdout" {
	serve
	get /api/control/stop -X POST >r
	[ "$code" = 202 ]
	jq -e '.ok and .action == "stop"' r
	get /api/control/start -X POST -H 'Content-Type: application/json' -d '{}' >/dev/null
	[ "$code" = 202 ]
	get /api/control/restart -X POST -d '' >/dev/null
	[ "$code" = 202 ]
	wait_for eval '[ "$(wc -l <out)" -eq 3 ]'
	assert_equal "$(jq -c '[.type, .action]' out | tr '\n' ' ')" \
		'["control","stop"] ["control","start"] ["control","restart"] '
	jq -e '.ts > 1700000000000' out >/dev/null
	# Nothing else reaches stdout: the stream is not passed on.
	feed "$events"
	settled 1 19
	[ "$(wc -l <out)" -eq 3 ]
}

@test "control: unknown actions, wrong methods and other sites' pages are refused" {
	serve
	get /api/control/explode -X POST >r
	[ "$code" = 404 ]
	jq -e '.error | test("explode")' r
	curl -s -D h -o r "$URL/api/control/stop"
	grep -i '^HTTP/1.1 405' h
	grep -i '^allow: POST' h
	# A form on another site posting here carries its Origin.
	get /api/control/stop -X POST -H 'Origin: http://evil.example' >r
	[ "$code" = 403 ]
	get /api/control/stop -X POST -H "Origin: http://127.0.0.1:$PORT" >r
	[ "$code" = 202 ]
	wait_for eval '[ "$(wc -l <out)" -eq 1 ]'
}

@test "control: when nobody reads stdout, POST says so with 503" {
	mkfifo in ctl
	tf-serve --port "$PORT" <in >ctl 2>err 3>&- &
	echo $! >>pids
	exec 7>in
	exec 9<ctl
	wait_for accepting
	exec 9<&-
	get /api/control/stop -X POST >r
	[ "$code" = 503 ]
	jq -e '.error | test("control")' r
	grep -q 'stdout' err
}

@test "control: a reader that is behind gets 503 for that press only, and no half line" {
	/usr/bin/python3 - "$PORT" <<'PY'
import fcntl, http.client, os, subprocess, sys, time
port = sys.argv[1]
r, w = os.pipe()
# A non-blocking stdout nobody reads, as systemd may hand over a FIFO.
fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
p = subprocess.Popen(["tf-serve", "--port", port], stdin=subprocess.PIPE,
                     stdout=w, stderr=open("err", "w"))
os.close(w)
try:
    for _ in range(200):
        try:
            c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=5)
            c.connect()
            break
        except OSError:
            time.sleep(0.05)
    def press():
        c.request("POST", "/api/control/stop", body=b"")
        a = c.getresponse()
        return a.status, a.read()
    for n in range(5000):
        status, body = press()
        if status != 202:
            break
    assert status == 503 and b"full" in body, (status, body)
    got = b""
    fcntl.fcntl(r, fcntl.F_SETFL, os.O_NONBLOCK)
    while True:
        try:
            chunk = os.read(r, 65536)
        except BlockingIOError:
            break
        got += chunk
    lines = got.split(b"\n")
    assert lines[-1] == b"" and len(lines) - 1 == n, (len(lines), n)
    assert all(l.startswith(b'{"type":"control"') and l.endswith(b"}") for l in lines[:-1])
    status, body = press()
    assert status == 202, (status, body)
    assert os.read(r, 4096).count(b"\n") == 1
finally:
    p.terminate()
    p.wait(10)
PY
}

@test "POST /api/events injects events into the state and the live stream" {
	serve
	node "$TF_ROOT/test/ws/client.js" --until injected --timeout 10 "ws://127.0.0.1:$PORT/ws" >ws 2>wserr &
	echo $! >>pids
	wait_for grep -q '#open' wserr
	get /api/events -X POST --data-binary $'{"type":"alert","priority":"high","message":"injected"}\n{"type":"price_update","symbol":"X","price":1}' >r
	[ "$code" = 202 ]
	jq -e '.accepted == 2' r
	wait_for grep -q injected ws
	assert_equal "$(get /api/alerts | jq -r '.alerts[0].message')" injected
	get /api/snapshot | jq -e '.symbols.X.price == 1'
}

@test "POST /api/events: bad JSON, oversized and empty bodies are refused and none of the body is taken" {
	serve --max-body 1K
	get /api/events -X POST --data-binary $'{"type":"alert","message":"first"}\n{"type":"alert",' >r
	[ "$code" = 400 ]
	jq -e '.error | test("line 2")' r
	get /api/events -X POST --data-binary '[1,2]' >r
	[ "$code" = 400 ]
	get /api/events -X POST --data-binary "$(printf '{"type":"alert","m":"%02000d"}' 0)" >r
	[ "$code" = 413 ]
	jq -e '.error | test("max-body")' r
	get /api/events -X POST --data-binary $'\n\n' >r
	[ "$code" = 400 ]
	get /api/events -X POST -H 'Transfer-Encoding: chunked' --data-binary '{"type":"alert"}' >r
	[ "$code" = 411 ]
	assert_equal "$(get /api/alerts | jq -c .alerts)" '[]'
	get /api/stats | jq -e '.messages_in == 0'
}

@test "--token guards the API, the stream and the POSTs, not the page's files" {
	serve --token s3cret
	get /api/snapshot >r
	[ "$code" = 401 ]
	jq -e '.error | test("token")' r
	get /api/control/stop -X POST >/dev/null
	[ "$code" = 401 ]
	get /api/events -X POST -d '{"type":"alert"}' >/dev/null
	[ "$code" = 401 ]
	get /api/snapshot -H 'Authorization: Bearer wrong' >/dev/null
	[ "$code" = 401 ]
	get /api/snapshot -H 'Authorization: Bearer s3cret' >/dev/null
	[ "$code" = 200 ]
	get '/api/metrics?token=s3cret' >/dev/null
	[ "$code" = 200 ]
	get /api/control/stop -X POST -H 'Authorization: Bearer s3cret' >/dev/null
	[ "$code" = 202 ]
	get / >/dev/null
	[ "$code" = 200 ]
	run node "$TF_ROOT/test/ws/client.js" --timeout 15 "ws://127.0.0.1:$PORT/ws"
	[ "$status" -eq 3 ]
	[ "$(wc -l <out)" -eq 1 ]
}

@test "--cert and --key serve the page, the API and the stream over TLS" {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 -keyout key.pem -out cert.pem 2>/dev/null
	serve --cert cert.pem --key key.pem
	grep -q "listening on https://127.0.0.1:$PORT/" err
	feed '{"type":"alert","priority":"high","message":"over tls"}'
	wait_for eval "curl -s --cacert cert.pem 'https://127.0.0.1:$PORT/api/alerts' | jq -e '.alerts[0].message == \"over tls\"' >/dev/null"
	curl -s --cacert cert.pem -o /dev/null -w '%{http_code}' "https://127.0.0.1:$PORT/" | grep -qx 200
	# Plain HTTP to the TLS port gets nothing useful.
	! curl -s -m 5 "http://127.0.0.1:$PORT/api/alerts" | jq -e .alerts
	run node "$TF_ROOT/test/ws/client.js" --ca cert.pem --protocol tf.v1 --count 1 --timeout 15 "wss://127.0.0.1:$PORT/ws"
	assert_success
	assert_output --partial '"type":"welcome"'
}

@test "serves the embedded page gzip-compressed with caching headers and a Content-Security-Policy" {
	serve
	curl -s -D h -o page.gz -H 'Accept-Encoding: gzip' "$URL/"
	grep -i '^HTTP/1.1 200' h
	grep -i '^content-encoding: gzip' h
	grep -i '^content-type: text/html' h
	grep -i "^content-security-policy: default-src 'self'; script-src 'self'" h
	grep -i '^x-content-type-options: nosniff' h
	grep -i '^cache-control: no-cache' h
	gzip -dc page.gz | cmp - "$TF_ROOT/web/index.html"
	etag=$(sed -n 's/^etag: *//Ip' h | tr -d '\r')
	[ -n "$etag" ]
	curl -s -D h2 -o /dev/null -H 'Accept-Encoding: gzip' \
		-H "If-None-Match: $etag" "$URL/index.html"
	grep -i '^HTTP/1.1 304' h2
	# Without gzip in Accept-Encoding: the file as it is.
	curl -s -D h3 -o plain "$URL/vendor/lightweight-charts.mjs"
	grep -i '^content-type: text/javascript' h3
	! grep -qi '^content-encoding' h3
	cmp plain "$TF_ROOT/node_modules/lightweight-charts/dist/lightweight-charts.standalone.production.mjs"
	# Every module the page imports is there.
	for f in $(cd "$TF_ROOT/web" && find . -type f | sed 's/^\.//'); do
		get "$f" >/dev/null
		[ "$code" = 200 ] || { echo "missing $f" >&2; false; }
	done
}

@test "unknown routes and files are 404 with a JSON error; paths outside the page are never served" {
	mkdir -p root/sub && echo inside >root/sub/ok.txt && echo secret >secret.txt
	ln -s ../secret.txt root/link.txt
	serve --web-root root
	get /api/nothing >r
	[ "$code" = 404 ]
	jq -e '.error | test("/api/nothing")' r
	get /nothing.html >r
	[ "$code" = 404 ]
	jq -e .error r
	assert_equal "$(get /sub/ok.txt)" inside
	for p in /../secret.txt /sub/../../secret.txt /%2e%2e/secret.txt /link.txt /..%2fsecret.txt; do
		get "$p" --path-as-is >r
		[ "$code" = 404 ] || { echo "$p gave $code" >&2; false; }
		! grep -q secret r
	done
	# A file of 64 MiB or more is not served from --web-root.
	truncate -s 64M root/big.txt
	truncate -s 1K root/small.txt
	get /big.txt >/dev/null
	[ "$code" = 404 ]
	get /small.txt >/dev/null
	[ "$code" = 200 ]
	# Files not in --web-root come from the binary.
	get /vendor/lightweight-charts.mjs >/dev/null
	[ "$code" = 200 ]
	curl -s -X DELETE -D h -o /dev/null "$URL/api/snapshot"
	grep -i '^HTTP/1.1 405' h
}

@test "--db backfills the charts and history from a recording" {
	printf '%s\n' "$events" | tf-record -d rec.db >/dev/null
	serve --db rec.db
	get /api/snapshot >snap
	jq -e '(.trades | length) == 3 and (.alerts | length) == 3' snap
	jq -e '.candles["BTC-USD"]["1s"] | length == 2' snap
	# Live events add to what the recording held.
	feed '{"type":"alert","priority":"high","message":"live"}'
	wait_for eval "curl -s '$URL/api/alerts' | jq -e '.alerts | length == 4' >/dev/null"
	run_err tf-serve --port "$(free_port)" --db missing.db </dev/null
	[ "$status" -eq 1 ]
	[[ $stderr == *missing.db* ]]
}

@test "state limits keep the newest: --trades, --alerts, --candles, --max-symbols" {
	serve --trades 2 --alerts 1 --candles 1 --max-symbols 1
	feed "$events"
	settled 1 19
	get /api/snapshot >snap
	assert_equal "$(jq -c '[.trades[].order_id]' snap)" '["b","c"]'
	assert_equal "$(jq -c '[.alerts[].priority]' snap)" '["critical"]'
	assert_equal "$(jq -c '.candles["BTC-USD"]["1s"] | map(.t)' snap)" '[1700000001000]'
	assert_equal "$(jq -c '.symbols | keys' snap)" '["BTC-USD"]'
	# What a limit turned away shows in /api/system: ETH-USD's price and
	# its fill.
	get /api/system | jq -e '.server.state.symbols == 1 and .server.state.symbols_dropped == 2'
}

@test "--max-candles bounds the candles of all series: the symbol ticked least recently loses its series" {
	# A symbol's 7 series of --candles 2 take 14 slots: one symbol fits.
	serve --candles 2 --max-candles 14
	# BTC-USD, then ETH-USD (BTC-USD's series go), then BTC-USD again.
	feed "$events"
	settled 1 19
	get '/api/candles?symbol=BTC-USD&tf=1s' >c
	assert_equal "$(jq -c '[.candles[].c]' c)" '[97]'
	get '/api/candles?symbol=ETH-USD&tf=1s' >c
	assert_equal "$(jq -c '.candles | length' c)" 0
	feed '{"type":"price_update","symbol":"ETH-USD","price":2100,"ts":1700000002000}'
	settled 2 21
	get '/api/candles?symbol=ETH-USD&tf=1s' >c
	assert_equal "$(jq -c '[.candles[].c]' c)" '[2100]'
	get '/api/candles?symbol=BTC-USD&tf=1s' >c
	assert_equal "$(jq -c '.candles | length' c)" 0
	get /api/system | jq -e '.server.state.candles == 14 and
		.server.state.series_evicted == 3 and .server.state.symbols == 2'
	get /metrics | grep -qx 'tf_dashboard_series_evicted_total 3'
	run_err tf-serve --port "$(free_port)" --candles 3 --max-candles 20 </dev/null
	assert_equal "$status" 2
	[[ $stderr == *"--max-candles is less than 7 times --candles"* ]]
}

@test "--snapshot-candles N: a snapshot carries the newest N candles of each series, /api/candles all kept" {
	serve --snapshot-candles 1
	feed "$events"
	settled 1 19
	get /api/snapshot >snap
	assert_equal "$(jq -c '.candles["BTC-USD"]["1s"] | map(.t)' snap)" '[1700000001000]'
	get '/api/candles?symbol=BTC-USD&tf=1s' >c
	assert_equal "$(jq -c '[.candles[].t]' c)" '[1700000000000,1700000001000]'
	run_err tf-serve --port "$(free_port)" --snapshot-candles 0 </dev/null
	assert_equal "$status" 2
	[[ $stderr == *--snapshot-candles* ]]
}

@test "bad stdin lines are skipped with a message and the stream goes on; --strict stops at the first" {
	serve
	feed 'not json' '{"type":"alert","priority":"high","message":"after"}'
	wait_for eval "curl -s '$URL/api/alerts' | jq -e '.alerts | length == 1' >/dev/null"
	grep -q 'tf-serve: line 1: invalid JSON' err
	get /api/stats | jq -e '.bad_lines == 1'
	run tf-serve --port "$(free_port)" --strict <<<'[1]'
	[ "$status" -eq 65 ]
}

@test "stdin EOF ends tf-serve with status 0; --keep-open keeps answering" {
	printf '%s\n' "$events" | tf-serve --port "$PORT" 2>err >out
	grep -q listening err
	printf '%s\n' "$events" | tf-serve --port "$PORT" --keep-open >out 2>err &
	echo $! >>pids
	wait_for accepting
	wait_for eval "curl -s '$URL/api/trades' | jq -e '.trades | length == 3' >/dev/null"
}

@test "SIGTERM and SIGINT close the clients with 1001, then end tf-serve by that signal (143, 130)" {
	local sig
	for sig in TERM INT; do
		PORT=$(free_port)
		URL=http://127.0.0.1:$PORT
		rm -f in
		serve
		node "$TF_ROOT/test/ws/client.js" --timeout 30 \
			"ws://127.0.0.1:$PORT/ws" >"c$sig.out" 2>"c$sig.err" 3>&- 7>&- &
		echo $! >>pids
		wait_for grep -q '^#open' "c$sig.err"
		kill -s "$sig" "$SPID"
		# It stops although its input is still open.
		ended_by "$sig" "$SPID"
		wait_for grep -q '^#close 1001' "c$sig.err" ||
			fail "SIG$sig: $(cat "c$sig.err" err)"
		exec 7>&-
	done
}

@test "usage errors exit 2; a port in use is said plainly" {
	run_err tf-serve --candles 0
	[ "$status" -eq 2 ]
	[[ $stderr == *--candles* ]]
	run_err tf-serve --max-body lots
	[ "$status" -eq 2 ]
	run_err tf-serve extra
	[ "$status" -eq 2 ]
	[[ $stderr == *"unexpected argument 'extra'"* ]]
	run_err tf-serve --cert x.pem
	[ "$status" -eq 2 ]
	run_err tf-serve --web-root nope </dev/null
	[ "$status" -eq 2 ]
	assert_equal "${stderr_lines[0]}" "tf-serve: --web-root: nope: No such file or directory"
	touch afile
	run_err tf-serve --web-root afile </dev/null
	[ "$status" -eq 2 ]
	assert_equal "${stderr_lines[0]}" "tf-serve: --web-root: afile: not a directory"
	python3 -c 'import socket,time,sys; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(); time.sleep(20)' "$PORT" &
	echo $! >>pids
	wait_for accepting
	run_err tf-serve --port "$PORT" </dev/null
	[ "$status" -eq 1 ]
	[[ $stderr == *"127.0.0.1:$PORT: Address already in use"* ]]
	run tf-serve --version
	assert_output "tf-serve $(cat "$TF_ROOT/VERSION")"
	run tf-serve --help
	assert_success
	[[ $output == *--web-root* ]]
}

# issue 10: tf-serve's own HTTP answers (serve)

@test "any other method is 405 with Allow and a JSON error, even one libwebsockets does not know" {
	serve
	for m in PUT DELETE PATCH OPTIONS PROPFIND TRACE BREW CONNECT; do
		for p in / /js/main.js /api/snapshot /api/events /api/control/stop; do
			case $p in
			/api/events | /api/control/*) allow=POST ;;
			*) allow='GET, HEAD' ;;
			esac
			curl -s -m 5 -X "$m" -D h -o r "$URL$p" || true
			grep -q '^HTTP/1.1 405 ' h || { echo "$m $p:" >&2; cat h r >&2; false; }
			grep -qix "allow: $allow"$'\r' h
			grep -qi '^content-type: application/json' h
			jq -e --arg a "$allow" '.error == "method not allowed (use \($a))"' r
		done
	done
	# The connection is closed once the answer is sent, and the server
	# goes on answering.
	get /api/metrics >/dev/null
	[ "$code" = 200 ]
}

@test "/healthz, /readyz, /stats and /metrics take GET and HEAD only: other methods 405 with Allow; HEAD gets the headers without a body" {
	# --stale 0: /readyz stays 200 however long the loop takes.
	serve --token s3cret --stale 0
	probe_405 '?token=s3cret'
	for p in /healthz /readyz "/stats?token=s3cret" "/metrics?token=s3cret"; do
		run head_req "$p"
		assert_output "HTTP/1.1 200 OK body:b''"
	done
	run head_req /stats
	assert_output "HTTP/1.1 401 Unauthorized body:b''"
	get /healthz >r
	[ "$code" = 200 ]
}

@test "--max-bodies bounds the POST bodies being read at once: 503 past it, room again once they end" {
	serve --max-body 1M --max-bodies 2M
	[ "$(get /api/system | jq .http.max_bodies)" = 2097152 ]
	/usr/bin/python3 - "$PORT" "$SPID" <<'PY'
import http.client, json, socket, sys, time
port, pid = int(sys.argv[1]), sys.argv[2]
M = 1 << 20

def rss():
    for l in open("/proc/%s/status" % pid):
        if l.startswith("VmRSS:"):
            return int(l.split()[1]) * 1024

def system():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/api/system")
    return json.loads(c.getresponse().read())["http"]

def start(length, body, path="/api/events"):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
              b"Content-Length: %d\r\n\r\n" % (path.encode(), port, length) + body)
    return s

def answer(s):
    got = b""
    while b"\r\n\r\n" not in got or not got.endswith(b"}\n"):
        d = s.recv(65536)
        if not d:
            break
        got += d
    head, _, body = got.partition(b"\r\n\r\n")
    return head.decode(), body

def until(fn):
    for _ in range(200):
        if fn():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")

before = rss()
# Two bodies of 1 MiB, sent but for their last byte, hold all the room.
holders = [start(M, b"x" * (M - 1)) for _ in range(2)]
until(lambda: system()["bodies"] == 2 * M)
# Thirty more of the same: each refused at its headers, none buffered.
for _ in range(30):
    s = start(M, b"x" * (M - 1))
    head, body = answer(s)
    assert head.startswith("HTTP/1.1 503 "), head
    assert "retry-after: 1" in head.lower(), head
    assert "--max-bodies" in json.loads(body)["error"], body
    s.close()
# Also a small body, and one to /api/control.
for path in ("/api/events", "/api/control/stop"):
    s = start(10, b"", path)
    head, body = answer(s)
    assert head.startswith("HTTP/1.1 503 "), (path, head)
    s.close()
grew = rss() - before
assert grew < 12 * M, "RSS grew by %d bytes" % grew
st = system()
assert st["bodies"] == 2 * M and st["bodies_refused"] == 32, st
# A press without a body needs no room.
c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
c.request("POST", "/api/control/stop")
assert c.getresponse().status == 202
# The holders go away: their room comes back.
for h in holders:
    h.close()
until(lambda: system()["bodies"] == 0)
# Bodies taken in full give their room back too: ten of nearly 1 MiB, one
# after the other on one connection, in 2 MiB.
line = b'{"type":"heartbeat","pad":"%s"}\n' % (b"y" * (M - 100))
c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
for i in range(10):
    c.request("POST", "/api/events", body=line)
    r = c.getresponse()
    assert r.status == 202, (i, r.status, r.read())
    r.read()
assert system()["bodies"] == 0
PY
}

@test "--max-bodies: a body that stops coming is closed after 5 s and gives its room back" {
	serve --max-body 1K --max-bodies 1K
	exec 8<>"/dev/tcp/127.0.0.1/$PORT"
	printf 'POST /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1024\r\n\r\n{"type":' >&8
	wait_for eval "[ \"\$(get /api/system | jq .http.bodies)\" = 1024 ]"
	get /api/events -X POST --data-binary '{"type":"alert"}' >r
	[ "$code" = 503 ]
	# libwebsockets closes a request whose body stalls for 5 s.
	wait_for eval "[ \"\$(get /api/system | jq .http.bodies)\" = 0 ]"
	get /api/events -X POST --data-binary '{"type":"alert"}' >r
	[ "$code" = 202 ]
	exec 8>&-
}

@test "--max-bodies less than --max-body is a usage error" {
	run_err tf-serve --max-body 2M --max-bodies 1M </dev/null
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--max-bodies is less than --max-body"* ]]
}

# issue 11: trading state

# Fills worked out by hand. BTC-USD: long, bought 2 @ 100 (fee 1), sold
# 1 @ 112 and 1 @ 104 (fees 0.5, 0.5): 216 - 200 - 2 = 14. ETH-USD: short
# 2 @ 50 (fee 0.5), then a buy of 3 @ 55 (fee 0.75) the next day crosses
# zero: 2 close the short (fee 0.5): 100 - 110 - 1 = -11, and 1 opens a
# long @ 55 (fee 0.25), last 60, its stop 52 from an order. The last line
# is no fill (no side).
trading='{"type":"price_update","symbol":"BTC-USD","price":100,"ts":1800000000000}
{"type":"trade_executed","symbol":"BTC-USD","side":"buy","quantity":2,"price":100,"fee":1,"pnl":-1,"order_id":"b1","ts":1800000001000}
{"type":"trade_executed","symbol":"BTC-USD","side":"sell","quantity":1,"price":112,"fee":0.5,"order_id":"b2","ts":1800000002000}
{"type":"trade_executed","symbol":"BTC-USD","side":"sell","quantity":1,"price":104,"fee":0.5,"order_id":"b3","ts":1800000003000}
{"type":"trade_executed","symbol":"ETH-USD","side":"sell","quantity":2,"price":50,"fee":0.5,"order_id":"e1","ts":1800000004000}
{"type":"trade_executed","symbol":"ETH-USD","side":"buy","quantity":3,"price":55,"fee":0.75,"order_id":"e2","ts":1800086400000}
{"type":"price_update","symbol":"ETH-USD","price":60,"ts":1800086401000}
{"type":"order_placed","symbol":"ETH-USD","side":"sell","quantity":1,"stop":52,"order_id":"e3","ts":1800086402000}
{"type":"trade_executed","symbol":"ETH-USD","quantity":1,"price":60}'

@test "GET /api/trading: positions, round trips and profit from the fills" {
	serve
	feed "$trading"
	settled 1 10
	get /api/trading >t
	[ "$code" = 200 ]
	assert_equal "$(jq -c '.round_trips' t)" \
		'[{"symbol":"BTC-USD","side":"long","quantity":2,"entry_price":100,"exit_price":108,"opened_ts":1800000001000,"closed_ts":1800000003000,"duration_ms":2000,"pnl":14,"fees":2,"pnl_pct":7,"order_ids":["b1","b2","b3"]},{"symbol":"ETH-USD","side":"short","quantity":2,"entry_price":50,"exit_price":55,"opened_ts":1800000004000,"closed_ts":1800086400000,"duration_ms":86396000,"pnl":-11,"fees":1,"pnl_pct":-11,"order_ids":["e1","e2"]}]'
	assert_equal "$(jq -c '.positions | map(del(.unrealized_pct))' t)" \
		'[{"symbol":"ETH-USD","side":"long","quantity":1,"avg_entry":55,"last":60,"unrealized_pnl":5,"stop":52,"opened_ts":1800086400000}]'
	# 5 / (55 * 1) = 9.09%
	jq -e '.positions[0].unrealized_pct * 1000 | round == 9091' t
	assert_equal "$(jq -c '.profit.daily' t)" \
		'[{"day":"2027-01-15","pnl":14,"trips":1,"wins":1,"losses":0},{"day":"2027-01-16","pnl":-11,"trips":1,"wins":0,"losses":1}]'
	assert_equal "$(jq -c '.profit.by_symbol' t)" \
		'[{"symbol":"BTC-USD","pnl":14,"trips":1,"wins":1,"losses":0,"fees":2},{"symbol":"ETH-USD","pnl":-11,"trips":1,"wins":0,"losses":1,"fees":1.25}]'
	assert_equal "$(jq -c '.profit.cumulative' t)" '[[1800000003000,14],[1800086400000,3]]'
	# /api/positions is the list alone; the snapshot holds all three.
	assert_equal "$(get /api/positions | jq -c .)" "$(jq -c '{positions}' t)"
	get /api/snapshot >snap
	assert_equal "$(jq -c '{positions, round_trips, profit}' snap)" "$(jq -c . t)"
	get /api/system | jq -e '.server.state.bad_fills == 1'
}

@test "GET /api/metrics: win rate, P&L, fees, profit factor and drawdown of the round trips" {
	serve
	feed "$trading"
	settled 1 10
	get /api/metrics >m
	[ "$code" = 200 ]
	jq -e '.trades == 6 and .round_trips == 2 and .wins == 1 and .losses == 1' m
	jq -e '.win_rate == 0.5 and .realized_pnl == 3 and .fees == 3.25' m
	# 14 / 11; realized P&L 0 -> 14 -> 3: it fell 11 from its peak.
	jq -e '(.profit_factor * 1e6 | round) == 1272727' m
	jq -e '.avg_win == 14 and .avg_loss == -11 and .best == 14 and .worst == -11' m
	jq -e '.max_drawdown_realized == 11' m
	# No portfolio_update: the equity curve's figures are unknown or 0.
	jq -e '.total_value == null and .peak == null and .max_drawdown == 0' m
}

@test "--round-trips N keeps the newest N closed round trips; the metrics count them all" {
	serve --round-trips 2
	for i in 1 2 3; do
		feed "{\"type\":\"trade_executed\",\"symbol\":\"X\",\"side\":\"buy\",\"quantity\":1,\"price\":10,\"ts\":$i}" \
			"{\"type\":\"trade_executed\",\"symbol\":\"X\",\"side\":\"sell\",\"quantity\":1,\"price\":$((10 + i)),\"ts\":$i}"
	done
	settled 1 7
	assert_equal "$(get /api/trading | jq -c '[.round_trips[].pnl]')" '[2,3]'
	get /api/metrics | jq -e '.round_trips == 3 and .realized_pnl == 6 and .wins == 3'
	run_err tf-serve --port "$(free_port)" --round-trips 0 </dev/null
	assert_equal "$status" 2
	[[ $stderr == *--round-trips* ]]
}

@test "GET /api/candles serves the 15m, 4h and 1d series, UTC-aligned" {
	serve
	feed '{"type":"price_update","symbol":"BTC-USD","price":100,"ts":"2027-01-15T23:50:00Z"}' \
		'{"type":"price_update","symbol":"BTC-USD","price":101,"ts":"2027-01-16T00:10:00Z"}'
	settled 1 3
	assert_equal "$(get '/api/candles?symbol=BTC-USD&tf=15m' | jq -c '[.tf, [.candles[].t]]')" \
		'["15m",[1800056700000,1800057600000]]'
	assert_equal "$(get '/api/candles?symbol=BTC-USD&tf=4h' | jq -c '[.candles[].t]')" \
		'[1800043200000,1800057600000]'
	assert_equal "$(get '/api/candles?symbol=BTC-USD&tf=1d' | jq -c '[.candles[] | [.t, .o, .c]]')" \
		'[[1799971200000,100,100],[1800057600000,101,101]]'
	get /api/snapshot | jq -e '.candles["BTC-USD"] | keys_unsorted == ["1s","1m","5m","15m","1h","4h","1d"]'
}

@test "--stale is on by default: a tf.v1 client hears 'stale' after 10 s without input" {
	serve
	feed '{"type":"heartbeat"}'
	node "$TF_ROOT/test/ws/client.js" --protocol tf.v1 --until '"type":"stale"' \
		--timeout 30 "ws://127.0.0.1:$PORT/ws" >ws.out
	jq -e 'select(.type == "stale") | .idle >= 10' ws.out
}

# issue 10: hostile requests (hub)

@test "--inbound FILE appends what WebSocket clients send, as tf-broadcast does, bounded by --inbound-max" {
	serve --inbound inbound --inbound-max 1K
	args=()
	for i in $(seq 1 30); do args+=(--send "{\"i\":$i,\"pad\":\"$(printf '%040d' 0)\"}"); done
	node "$TF_ROOT/test/ws/client.js" "${args[@]}" --send $'{"nl":\n1}' --timeout 3 \
		"ws://127.0.0.1:$PORT/ws" >c.out 2>c.err || true
	wait_for grep -q '"nl":' inbound
	[ -f inbound.1 ]
	[ "$(stat -c %s inbound)" -le 1024 ]
	run jq -s -c 'map(.data.i // "nl") | .[-3:]' inbound.1 inbound
	assert_output '[29,30,"nl"]'
	run jq -s -c 'map(.client) | unique | length' inbound
	assert_output 1
}

@test "another site's page can neither read nor drive tf-serve: foreign Host and Origin get 403 on every route and the stream" {
	serve
	# DNS rebinding: the attacker's name for 127.0.0.1, Host and Origin alike.
	for p in / /api/snapshot /api/metrics /stats; do
		get "$p" -H "Host: evil.example:$PORT" >r
		[ "$code" = 403 ] || { echo "$p: $code" >&2; false; }
		jq -e '.error == "host not allowed: evil.example"' r
	done
	get /api/control/stop -X POST -H "Host: evil.example:$PORT" \
		-H "Origin: http://evil.example:$PORT" >r
	[ "$code" = 403 ]
	get /api/events -X POST -H 'Host: evil.example' -H 'Origin: http://evil.example' \
		--data-binary '{"type":"alert","message":"forged"}' >r
	[ "$code" = 403 ]
	[ ! -s out ]
	# Another site's page, by the right name: the WebSocket and the API.
	node "$TF_ROOT/test/ws/client.js" --timeout 15 --origin https://evil.example \
		"ws://127.0.0.1:$PORT/ws" >c.out 2>c.err || true
	grep -qx '#http 403' c.err
	get /api/snapshot -H 'Origin: https://evil.example' >r
	[ "$code" = 403 ]
	jq -e '.error == "origin not allowed"' r
	# The page's own origin, and programs without Origin, are served.
	node "$TF_ROOT/test/ws/client.js" --timeout 3 --origin "http://127.0.0.1:$PORT" \
		"ws://127.0.0.1:$PORT/ws" >c.out 2>c.err || true
	grep -q '^#open' c.err
	get /api/control/stop -X POST -H "Origin: http://127.0.0.1:$PORT" >r
	[ "$code" = 202 ]
	get /api/snapshot -H "Host: localhost:$PORT" >r
	[ "$code" = 200 ]
	# --allow-host adds a name.
	kill "$SPID"
	PORT=$(free_port)
	URL=http://127.0.0.1:$PORT
	rm in
	serve --allow-host dash.example
	get /api/metrics -H "Host: dash.example:$PORT" >r
	[ "$code" = 200 ]
	get /api/metrics -H "Host: evil.example:$PORT" >r
	[ "$code" = 403 ]
}

@test "over-long URLs get 414 and over-long header fields 431, as JSON; /stats without the token is a JSON 401" {
	serve --token s3cret
	long=$(printf 'a%.0s' $(seq 1 9000))
	get "/api/snapshot?token=s3cret&x=$long" >r
	[ "$code" = 414 ]
	jq -e '.error == "URL too long: at most 8192 bytes"' r
	get "/$long" >r
	[ "$code" = 414 ]
	get /api/metrics -H "Authorization: Bearer s3cret" -H "Cookie: $long" >r
	[ "$code" = 431 ]
	jq -e '.error == "header field too large: at most 8192 bytes"' r
	get /stats -D h >r
	[ "$code" = 401 ]
	jq -e '.error | startswith("token required")' r
	grep -qi '^content-type: application/json' h
	get /api/metrics -H "Authorization: Bearer s3cret" >r
	[ "$code" = 200 ]
}

@test "--max-header-size: a larger header buffer takes a larger header block; a field over a third of it is a JSON 431" {
	serve --max-header-size 64K
	f=$(printf 'a%.0s' $(seq 1 1000))
	args=()
	for ((i = 0; i < 40; i++)); do
		args+=(-H "X-Field-$i: $f")
	done
	get /healthz "${args[@]}" >r
	[ "$code" = 200 ]
	long=$(printf 'a%.0s' $(seq 1 22000))
	get /api/metrics -H "Cookie: $long" >r
	[ "$code" = 431 ]
	jq -e '.error == "header field too large: at most 21845 bytes"' r
	run tf-serve --max-header-size 8K
	assert_failure 2
}

# issue 13: HTTP encodings

# encoding PATH ACCEPT-ENCODING: the Content-Encoding of PATH's answer to a
# request with that Accept-Encoding ("-": none sent), "identity" when
# none; fails unless the answer says Vary: Accept-Encoding.
encoding() {
	local h=(-H "Accept-Encoding: $2")
	[ "$2" = - ] && h=(-H 'Accept-Encoding:')
	curl -s -D hdr -o /dev/null "${h[@]}" "$URL$1"
	grep -qi '^vary: Accept-Encoding' hdr || { echo "$1: no Vary" >&2; return 1; }
	tr -d '\r' <hdr | sed -n 's/^content-encoding: //Ip' | grep . || echo identity
}

@test "Accept-Encoding is honoured with its q-values: gzip;q=0 and identity get no gzip, * does" {
	serve
	feed "$events"
	settled 1 19
	local path ae want
	for path in / /js/main.js /api/snapshot; do
		while IFS='|' read -r ae want; do
			run encoding "$path" "$ae"
			assert_success
			assert_output "$want" || fail "$path, Accept-Encoding: $ae"
		done <<-'CASES'
		-|identity
		gzip|gzip
		gzip, deflate, br|gzip
		gzip;q=0|identity
		gzip;q=0, *|identity
		identity|identity
		br|identity
		*|gzip
		*;q=0|identity
		gzip;q=0.5, identity|identity
		identity;q=0, gzip;q=0.2|gzip
		CASES
	done
	# What goes compressed is the same body.
	curl -s -H 'Accept-Encoding: *' "$URL/js/main.js" | gzip -dc >main.gz.js
	curl -s -H 'Accept-Encoding: identity' "$URL/js/main.js" >main.js
	cmp main.js main.gz.js
}

@test "the gzip and the plain page have distinct ETags; If-None-Match gets 304 only for the one it names" {
	serve
	local plain gz
	plain=$(curl -s -D - -o /dev/null "$URL/" | tr -d '\r' | sed -n 's/^etag: //Ip')
	gz=$(curl -s -D - -o /dev/null -H 'Accept-Encoding: gzip' "$URL/" | tr -d '\r' | sed -n 's/^etag: //Ip')
	[[ $plain == '"'*'"' && $gz == '"'*'"' ]]
	[ "$plain" != "$gz" ]
	status() { curl -s -o /dev/null -D hdr -w '%{http_code}' "$@" "$URL/"; }
	assert_equal "$(status -H "If-None-Match: $plain")" 304
	grep -qi "^etag: $plain" hdr
	grep -qi '^vary: Accept-Encoding' hdr
	assert_equal "$(status -H "If-None-Match: $gz" -H 'Accept-Encoding: gzip')" 304
	grep -qi "^etag: $gz" hdr
	# Weak comparison, and a list.
	assert_equal "$(status -H "If-None-Match: W/$gz" -H 'Accept-Encoding: gzip')" 304
	assert_equal "$(status -H "If-None-Match: \"other\", $plain")" 304
	# The tag of the other body is no match: the whole answer comes.
	assert_equal "$(status -H "If-None-Match: $plain" -H 'Accept-Encoding: gzip')" 200
	grep -qi '^content-encoding: gzip' hdr
	assert_equal "$(status -H "If-None-Match: $gz")" 200
	! grep -qi '^content-encoding' hdr
}

# issue 13: metrics and health

# metric 'NAME{LABELS}': its value in metrics.txt.
metric() {
	awk -v k="$1" '$1 == k { print $2 }' metrics.txt
}

@test "GET /metrics: the hub's numbers and tf-serve's own (control commands, dashboard), promtool-clean, behind the token" {
	serve --token s3cret
	feed '{"type":"price_update","symbol":"BTC-USD","price":100}' 'not json' \
		'{"type":"heartbeat"}'
	wait_for eval "curl -s '$URL/api/stats?token=s3cret' | jq -e '.messages_in == 2' >/dev/null"
	get /metrics >/dev/null
	[ "$code" = 401 ]
	for a in stop stop start; do
		get "/api/control/$a" -X POST -H 'Authorization: Bearer s3cret' >/dev/null
		[ "$code" = 202 ]
	done
	curl -sf -D h -o metrics.txt "$URL/metrics?token=s3cret"
	grep -i '^content-type: text/plain; version=0.0.4' h
	promtool check metrics <metrics.txt
	assert_equal "$(metric "tf_build_info{program=\"tf-serve\",version=\"$(cat "$TF_ROOT/VERSION")\"}")" 1
	assert_equal "$(metric tf_input_lines_total)" 3
	assert_equal "$(metric tf_bad_lines_total)" 1
	assert_equal "$(metric 'tf_control_commands_total{action="stop"}')" 2
	assert_equal "$(metric 'tf_control_commands_total{action="start"}')" 1
	assert_equal "$(metric 'tf_control_commands_total{action="restart"}')" 0
	assert_equal "$(metric tf_control_commands_failed_total)" 0
	assert_equal "$(metric tf_dashboard_events_total)" 2
	assert_equal "$(metric tf_dashboard_symbols)" 1
	assert_equal "$(metric 'tf_refusals_total{reason="token"}')" 1
	assert_equal "$(metric 'tf_clients{protocol="plain"}')" 0
	# Every family the man page names.
	for f in $(awk '/^# TYPE/ { print $3 }' metrics.txt); do
		grep -q "^\.It Va $f\$" "$TF_ROOT/man/tf-serve.1" \
			"$TF_ROOT/man/tf-broadcast.1" || {
			echo "$f: in neither man page" >&2
			false
		}
	done
	# The probes need no token.
	get /healthz >r
	[ "$code" = 200 ]
	get /readyz >r
	[ "$code" = 200 ]
	jq -e '.status == "ready"' r
}

@test "/readyz: 503 with the reason when input is stale or closed (--keep-open), 200 again when a line comes" {
	serve --keep-open --stale 1
	get /readyz >r
	[ "$code" = 200 ]
	wait_for eval "curl -s '$URL/readyz' | grep -q 'input stale'"
	get /readyz >r
	[ "$code" = 503 ]
	jq -e '.status == "not ready" and (.reason | startswith("input stale: no line for "))' r
	feed "$events"
	wait_for eval "curl -s '$URL/readyz' | grep -q '\"ready\"'"
	exec 7>&-
	wait_for eval "curl -s '$URL/readyz' | grep -q 'input closed'"
	get /readyz >r
	[ "$code" = 503 ]
	jq -e '.reason == "input closed"' r
	get /healthz >r
	[ "$code" = 200 ]
}

@test "--input envelope: the state gets each envelope's data, with the stream's seq and epoch; POST /api/events is refused (409)" {
	serve --input envelope
	{
		echo '{"type":"event","seq":4,"epoch":"e1","topic":"market_data","data":{"type":"price_update","symbol":"BTC-USD","price":100,"ts":1700000000000}}'
		echo '{"type":"event","seq":9,"epoch":"e1","topic":"market_data","data":{"type":"price_update","symbol":"BTC-USD","price":101,"ts":1700000000500}}'
		echo '{"type":"event","seq":9,"epoch":"e1","topic":"market_data","data":{"type":"price_update","symbol":"BTC-USD","price":999}}'
		echo '{"type":"price_update","symbol":"BTC-USD","price":5}'
	} >&7
	wait_for eval "curl -s '$URL/stats' | jq -e '.duplicates == 1 and .bad_lines == 1' >/dev/null"
	get /api/snapshot >snap
	jq -e '.seq == 9 and .epoch == "e1"' snap
	assert_equal "$(jq -c '.symbols["BTC-USD"]' snap)" \
		'{"type":"price_update","symbol":"BTC-USD","price":101,"ts":1700000000500}'
	get /api/events -X POST --data-binary '{"type":"alert","message":"m"}' >post
	[ "$code" = 409 ]
	jq -e '.error | test("--input envelope")' post
}
