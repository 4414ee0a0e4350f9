#!/usr/bin/env bats
# tf-serve's dashboard in a real browser (headless chromium driven by
# playwright-core): what a user of the page relies on. Each test feeds its
# own tf-serve on a free port of 127.0.0.1 from tf-sim and runs one script
# of test/browser/ against it; the page's DOM contract these scripts read
# is summed up in test/browser/lib.mjs. Screenshots go to test/artifacts/.

load helper

BROWSER=$TF_ROOT/test/browser
# TF_CHROMIUM: another chromium binary (test/browser/lib.mjs reads it too).
CHROMIUM=${TF_CHROMIUM:-/usr/bin/chromium}

setup() {
	[ -x "$CHROMIUM" ] ||
		skip "no $CHROMIUM: scripts/install-deps installs chromium"
	cd "$BATS_TEST_TMPDIR"
	PORT=$(free_port)
	URL=http://127.0.0.1:$PORT/
}

teardown() {
	# Every process this test started, by its id: the browser script
	# first, then tf-serve before its feeder.
	stop_pids
	# Under make asan: whatever the test saw, a sanitizer report fails it.
	if ls serve*.err >/dev/null 2>&1 &&
		grep -qE 'ERROR: [A-Za-z]+Sanitizer|runtime error:' serve*.err; then
		cat serve*.err >&2
		return 1
	fi
}

# within SECS CMD...: runs CMD every 0.05 s until it succeeds, at most SECS
# seconds.
within() {
	local i n=$(($1 * 20))
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

listening() {
	grep -q "tf-serve: listening on http://127.0.0.1:$PORT/" "$1" 2>/dev/null
}

# serve N [TF-SIM FLAGS...]: `tf-sim --rate 50 FLAGS | tf-serve -p $PORT`
# through the FIFO feed.N (so each has its pid: $SIM, $SERVE), tf-serve's
# stdout in serve.N.out, its stderr in serve.N.err. Returns once tf-serve
# listens.
serve() {
	local n=$1
	shift
	mkfifo "feed.$n"
	tf-sim --rate 50 "$@" >"feed.$n" 2>"sim.$n.err" 3>&- &
	SIM=$!
	echo "$SIM" >>pids
	tf-serve -p "$PORT" <"feed.$n" >"serve.$n.out" 2>"serve.$n.err" 3>&- &
	SERVE=$!
	echo "$SERVE" >>pids
	if ! within 10 listening "serve.$n.err"; then
		echo "tf-serve did not start listening on $PORT:" >&2
		cat "serve.$n.err" >&2
		return 1
	fi
}

# serve_loop [TF-SERVE FLAGS...]: the full loop `tf-sim --control ctl
# --rate 50 | tf-serve -p $PORT FLAGS > ctl`, with tee keeping a copy of
# tf-serve's stdout in serve.out (stderr in serve.1.err, tf-sim's in
# sim.err). Returns once tf-serve listens.
serve_loop() {
	mkfifo ctl ctlout feed
	tf-sim --control ctl --rate 50 >feed 2>sim.err 3>&- &
	echo $! >>pids
	tf-serve -p "$PORT" "$@" <feed >ctlout 2>serve.1.err 3>&- &
	SERVE=$!
	echo "$SERVE" >>pids
	tee serve.out <ctlout >ctl 3>&- &
	echo $! >>pids
	if ! within 10 listening serve.1.err; then
		echo "tf-serve did not start listening on $PORT:" >&2
		cat serve.1.err >&2
		return 1
	fi
}

# still_serving N: tf-serve N is still up (a page did not bring it down).
still_serving() {
	kill -0 "$SERVE" 2>/dev/null || {
		echo "tf-serve exited during the test:" >&2
		cat "serve.$1.err" >&2
		return 1
	}
}

# current_page: the tf-serve under test serves the page of this checkout,
# file for file. The tests run whatever $TF_BUILD holds and build nothing:
# a tf-serve built before the page last changed would serve an older page
# (its old texts then show in a test's failure, as if the page had
# regressed).
current_page() {
	local f
	for f in $(cd "$TF_ROOT/web" && find . -type f | sed 's|^\./||'); do
		curl -sf --max-time 10 "${URL%%\?*}$f" | cmp -s - "$TF_ROOT/web/$f" || {
			echo "$TF_BUILD/tf-serve serves a /$f other than web/$f:" \
				"build it again (make B=$(basename "$TF_BUILD") all)" >&2
			return 1
		}
	done
}

# browser NAME ARGS...: runs test/browser/NAME.mjs against $URL; it ends
# within 40 s whatever happens.
browser() {
	local n=$1
	shift
	current_page
	timeout -k 5 40 node "$BROWSER/$n.mjs" "$URL" "$@" 3>&-
}

@test "the dashboard loads with no console error, CSP violation or outside request" {
	serve 1
	browser load
	still_serving 1
}

@test "live data from tf-sim shows on the page: symbols, chart candles, last price" {
	serve 1
	browser live
	still_serving 1
}

@test "a timeframe button switches the chart: data-tf, candles and aria-pressed follow" {
	serve 1
	browser timeframe
	still_serving 1
}

@test "choosing a symbol shows its chart and its last price" {
	serve 1
	browser symbol
	still_serving 1
}

@test "the alert filter at high shows only high and critical alerts, live ones too" {
	serve 1
	browser alerts
	still_serving 1
}

# reconnect_after SIGNAL: the page live on one tf-serve, tf-serve killed
# with SIGNAL, a new one started on the same port once the page says it is
# reconnecting (test/browser/reconnect.mjs tells when, through sync/).
reconnect_after() {
	serve 1 -s BTC-USD
	mkdir sync
	timeout -k 5 40 node "$BROWSER/reconnect.mjs" "$URL" --sync sync \
		--symbol ZZZ-USD >browser.out 2>&1 3>&- &
	local page=$!
	echo "$page" >>pids
	within 20 test -e sync/live || {
		cat browser.out
		false
	}
	# tf-serve goes away: its feeder ends on the broken pipe.
	kill "-$1" "$SERVE"
	within 10 eval "! kill -0 $SERVE 2>/dev/null"
	kill "$SIM" 2>/dev/null || true
	within 10 test -e sync/reconnecting || {
		cat browser.out
		false
	}
	serve 2 -s ZZZ-USD:42
	local status=0
	wait "$page" || status=$?
	cat browser.out
	[ "$status" -eq 0 ]
	still_serving 2
}

@test "the page reconnects by itself when tf-serve restarts on the same port" {
	reconnect_after TERM
}

@test "the page reconnects after tf-serve dies without closing (SIGKILL)" {
	reconnect_after KILL
}

@test "the page loses no event: it starts after its snapshot and resumes after a network drop" {
	serve 1
	browser resume
	still_serving 1
}

@test "the page keeps at most 200 rows of alerts, fills and closed trades however many arrive" {
	serve 1
	browser bounded
	still_serving 1
}

@test "the page works from the keyboard: timeframes, the alert filter and the bot buttons, with a visible focus" {
	serve_loop
	browser keyboard
	still_serving 1
	within 5 eval '[ "$(wc -l <serve.out)" -ge 2 ]'
	run jq -c -s '[.[].action]' serve.out
	assert_output '["stop","start"]'
}

@test "#bot-stop reaches tf-sim through tf-serve's stdout and the page shows it stopped" {
	serve_loop
	browser control
	still_serving 1
	# stdout: the two control lines of the two requests that reached
	# tf-serve (the restart was answered by the test itself), nothing else.
	within 5 eval '[ "$(wc -l <serve.out)" -ge 2 ]'
	cat serve.out
	now=$(date +%s%3N)
	run jq -e -s --argjson now "$now" '
		length == 2 and
		([.[].type] == ["control", "control"]) and
		([.[].action] == ["stop", "start"]) and
		all(.[]; (.ts | type) == "number" and .ts > $now - 60000 and
			.ts <= $now + 1000)' serve.out
	assert_success
	# tf-sim took every control line.
	run -1 grep -i 'skipped\|invalid' sim.err
}

@test "an alert message carrying markup stays text: no element, no script, no dialog" {
	serve 1
	browser xss
	still_serving 1
}

@test "the dashboard at 1440, 1920, 390 px and a phone sideways: nothing cut, tables scroll with their first column, no half-empty panel; screenshots saved" {
	serve 1
	local s
	for s in 1440x900 1920x1080 390x844 844x390; do
		rm -f "$TF_ROOT/test/artifacts/dashboard-$s.png"
	done
	# Two runs, desktops then the phone, each within its own time limit.
	TF_BROWSER_TIMEOUT=38 browser screenshots --sizes 1440x900,1920x1080
	TF_BROWSER_TIMEOUT=38 browser screenshots --sizes 390x844,844x390
	for s in 1440x900 1920x1080 390x844 844x390; do
		[ -s "$TF_ROOT/test/artifacts/dashboard-$s.png" ]
	done
	still_serving 1
}

@test "with --token the page opened as /?token=T loads, goes live and controls the bot" {
	serve_loop --token s3cret
	# The token is required: without it, the data is refused.
	run curl -s -o /dev/null -w '%{http_code}' "${URL}api/snapshot"
	assert_output 401
	# The page passes it on: the snapshot (bot state), the WebSocket (tf-sim's
	# bot_stopped) and the control POSTs all need it.
	URL="${URL}?token=s3cret"
	browser control
	run jq -r .action serve.out
	assert_output $'stop\nstart'
	still_serving 1
}

# serve_quiet [TF-SERVE FLAGS...]: tf-serve fed by nothing (a FIFO held
# open, so its input never ends): what a test injects is all it has.
serve_quiet() {
	mkfifo quiet
	sleep 600 >quiet 3>&- &
	echo $! >>pids
	tf-serve -p "$PORT" "$@" <quiet >serve.1.out 2>serve.1.err 3>&- &
	SERVE=$!
	echo "$SERVE" >>pids
	if ! within 10 listening serve.1.err; then
		echo "tf-serve did not start listening on $PORT:" >&2
		cat serve.1.err >&2
		return 1
	fi
}

@test "the page never looks live when it is not: waiting for data, stale after --stale, dimmed and unknown when disconnected" {
	serve_quiet --stale 1
	browser liveness
	still_serving 1
}

@test "alerts are not missed: toasts, a count in the title, acknowledgements, chip filters, grouped repeats, sound and notifications" {
	serve_quiet
	TF_BROWSER_TIMEOUT=35 browser alertcenter
	still_serving 1
}

@test "the events feed shows every category, filters by category and symbol, says when nothing matches, stays bounded" {
	serve_quiet
	browser feed
	still_serving 1
}

@test "times carry their date when not today, in UTC or local time (remembered); one number format with signed, coloured P&L" {
	serve_quiet
	browser times
	still_serving 1
}

@test "the chart fits its candles, shows volume or ticks, change %, SMA/EMA and the strategy's indicators, never overlaps its labels, thins markers" {
	serve_quiet
	TF_BROWSER_TIMEOUT=35 browser chart
	still_serving 1
}

@test "true numbers: the server's round-trip metrics, open positions with live unrealized P&L, closed trades sorted, filtered and exported as CSV, profit by day and symbol" {
	serve_quiet
	browser trading
	still_serving 1
}

@test "with the server's staleness off (--stale 0) an idle feed does not look live: the page's own limit (?stale=N) says stale" {
	serve_quiet --stale 0
	browser idle
	still_serving 1
}

@test "boot.js holds at most 50,000 messages for a late main.js, then closes; the page still ends live with the newest event" {
	TF_SERVE_RING=30000 TF_SERVE_MAX_LAG=30000 serve 1
	browser earlycap
	still_serving 1
}
