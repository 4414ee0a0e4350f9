#!/usr/bin/env bats
# tf-sim: the paper-trading engine every other program is fed from.

load helper

START=2026-11-21T00:00:00Z
START_MS=1795219200000

# sim ARGS...: a reproducible unpaced run into $BATS_TEST_TMPDIR/out.
sim() {
	tf-sim -r 0 --seed 7 --start "$START" "$@" >"$BATS_TEST_TMPDIR/out"
}

# A test that starts a server writes its pid to $BATS_TEST_TMPDIR/pids.
teardown() {
	cd "$BATS_TEST_TMPDIR" && stop_pids
}

# check PYTHON: runs PYTHON with `events` (the parsed lines of
# $BATS_TEST_TMPDIR/out) and `lines` (the raw ones) defined.
check() {
	python3 -c '
import json, sys
lines = open(sys.argv[1]).read().split("\n")
assert lines[-1] == "", "the last line ends with a newline"
lines = lines[:-1]
def no_constant(c):
    raise ValueError("not JSON: " + c)
events = [json.loads(l, parse_constant=no_constant) for l in lines]
exec(sys.argv[2])
' "$BATS_TEST_TMPDIR/out" "$1"
}

# send FIFO TEXT: writes TEXT to FIFO, giving up after 10 s if nobody
# reads it.
send() {
	timeout 10 bash -c 'printf "%s" "$2" >"$1"' _ "$1" "$2"
}

# Replays the fills from the starting cash and compares every
# portfolio_update with the result.
REPLAY='
cash = CASH
qty, entry, last, realised = {}, {}, {}, 0.0
n = 0
for e in events:
    t = e["type"]
    if t == "price_update":
        last[e["symbol"].split("-")[0]] = e
    elif t == "trade_executed":
        b = e["symbol"].split("-")[0]
        if e["side"] == "buy":
            assert e["price"] == last[b]["ask"], e
            assert qty.get(b, 0) == 0, "buys only when flat"
            cash -= e["quantity"] * e["price"] + e["fee"]
            qty[b] = e["quantity"]
            entry[b] = e["price"]
            assert abs(e["pnl"] + e["fee"]) < 0.006
        else:
            assert e["price"] == last[b]["bid"], e
            assert e["quantity"] == qty[b], "sells the whole position"
            cash += e["quantity"] * e["price"] - e["fee"]
            pnl = e["quantity"] * (e["price"] - entry[b]) - e["fee"]
            assert abs(e["pnl"] - pnl) < 0.006, (e, pnl)
            qty[b] = 0
        realised += e["pnl"]
        assert abs(e["fee"] - round(e["quantity"] * e["price"] * FEE, 2)) < 0.006
        assert cash >= 0, cash
    elif t == "portfolio_update":
        n += 1
        bal = e["balances"]
        assert abs(bal["USD"] - cash) < 0.006, (bal, cash)
        for a, q in bal.items():
            if a != "USD":
                assert q == qty.get(a, 0), (a, q, qty)
        value = cash + sum(q * last[a]["price"] for a, q in qty.items())
        assert abs(e["total_value"] - value) < 0.006, (e, value)
        assert abs(e["pnl"] - (value - CASH)) < 0.006
        assert abs(e["pnl_pct"] - 100 * (value - CASH) / CASH) < 0.0006
        unrealised = sum(q * (last[a]["price"] - entry[a])
                         for a, q in qty.items() if q)
        assert abs(e["pnl"] - realised - unrealised) < 0.01 + 0.006 * n
assert n > 0
'

@test "--help prints the usage on stdout and exits 0" {
	run_err tf-sim --help
	assert_success
	assert_output --partial "usage: tf-sim"
	assert_output --partial "--control FILE"
	[ -z "$stderr" ]
}

@test "--version prints the version" {
	run tf-sim --version
	assert_success
	assert_output "tf-sim $(cat "$TF_ROOT/VERSION")"
}

@test "a bad flag or value is a usage error: exit 2 with a message" {
	local args
	for args in "--bogus" "--rate fast" "--rate -1" "--count x" \
		"--duration 0" "--seed -3" "--start yesterday" \
		"--volatility 0.9" "--drift 1" "--cash 5" "--fee 0.5" \
		"--symbols BTC-USD,ETH-EUR" "--symbols BTC-USD,BTC-USD" \
		"--symbols BTC-USD:cheap" "--symbols BTC-USD:0" \
		"--symbols BTC+USD" "--symbols ," "operand"; do
		# shellcheck disable=SC2086
		run_err tf-sim $args
		[ "$status" -eq 2 ] || fail "$args: status $status"
		[ -z "$output" ] || fail "$args: wrote to stdout"
		[[ $stderr == "tf-sim: "*"Try 'tf-sim --help'." ]] ||
			fail "$args: $stderr"
	done
	run_err tf-sim --symbols BTC-USD,ETH-EUR
	[[ $stderr == "tf-sim: --symbols: ETH-EUR: every symbol must be quoted in USD"* ]]
	run_err tf-sim --rate fast
	[[ $stderr == "tf-sim: --rate: "* ]]
}

@test "every line is a compact JSON object of the vocabulary, type first, ts second, in order" {
	sim -n 20000
	check '
vocab = {"price_update", "trade_executed", "order_placed",
         "order_cancelled", "portfolio_update", "alert", "ml_prediction",
         "pattern_detected", "system_status", "bot_started", "bot_stopped",
         "heartbeat"}
prev = 0
for l, e in zip(lines, events):
    assert l.startswith("{\"type\":\"%s\",\"ts\":" % e["type"]), l
    assert e["type"] in vocab, l
    assert isinstance(e["ts"], int) and e["ts"] >= prev, l
    prev = e["ts"]
    if e["type"] == "price_update":
        assert len(l) <= 250, l
        assert set(e) == {"type", "ts", "symbol", "price", "change_24h",
                          "volume", "bid", "ask"}, l
        assert 0 < e["bid"] < e["price"] < e["ask"], l
'
}

@test "a long run shows every event type it makes without control lines" {
	sim -n 20000
	check '
seen = {e["type"] for e in events}
want = {"price_update", "trade_executed", "order_placed",
        "portfolio_update", "alert", "ml_prediction", "pattern_detected",
        "system_status", "bot_started", "heartbeat"}
assert want <= seen, want - seen
assert events[0]["type"] == "bot_started"
assert events[0]["reason"] == "startup"
assert events[1]["type"] == "system_status"
'
}

@test "the same seed and start give the same bytes; another seed does not" {
	sim -n 5000
	mv "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/a"
	sim -n 5000
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/out"
	tf-sim -r 0 --seed 8 --start "$START" -n 5000 >"$BATS_TEST_TMPDIR/b"
	! cmp -s "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	# Paced runs too: event time comes from the schedule, not the clock.
	tf-sim -r 500 --seed 7 --start "$START" -n 50 >"$BATS_TEST_TMPDIR/c"
	tf-sim -r 500 --seed 7 --start "$START" -n 50 >"$BATS_TEST_TMPDIR/d"
	cmp "$BATS_TEST_TMPDIR/c" "$BATS_TEST_TMPDIR/d"
}

@test "--count writes exactly that many events and exits 0" {
	run sim -n 1234
	assert_success
	[ "$(wc -l <"$BATS_TEST_TMPDIR/out")" -eq 1234 ]
	sim -n 1
	[ "$(wc -l <"$BATS_TEST_TMPDIR/out")" -eq 1 ]
}

@test "--rate paces events on one schedule and stamps them 1/rate apart" {
	local t0 t1
	t0=$(date +%s%N)
	tf-sim -r 100 -n 20 --seed 1 --start "$START" >"$BATS_TEST_TMPDIR/out"
	t1=$(date +%s%N)
	[ $((t1 - t0)) -ge 150000000 ]
	check '
assert len(events) == 20
for i, e in enumerate(events):
    assert e["ts"] == '$START_MS' + 10 * i, (i, e["ts"])
'
}

@test "--rate 0 stamps events 1 ms apart from --start" {
	sim -n 100
	check '
for i, e in enumerate(events):
    assert e["ts"] == '$START_MS' + i, (i, e["ts"])
'
}

@test "--start takes epoch seconds and milliseconds as well as RFC 3339" {
	tf-sim -r 0 --seed 1 -n 1 --start 1795219200 >"$BATS_TEST_TMPDIR/a"
	tf-sim -r 0 --seed 1 -n 1 --start 1795219200000 >"$BATS_TEST_TMPDIR/b"
	sim -n 1
	grep -q "\"ts\":$START_MS," "$BATS_TEST_TMPDIR/a"
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
}

@test "without --start, event time is the wall clock" {
	local before after
	before=$(($(date +%s%N) / 1000000))
	tf-sim -r 1000 -n 3 >"$BATS_TEST_TMPDIR/out"
	after=$(($(date +%s%N) / 1000000))
	check '
assert '$before' <= events[0]["ts"] <= '$after', events[0]["ts"]
'
}

@test "--duration stops after that much wall time and exits 0" {
	local t0 t1 n
	t0=$(date +%s%N)
	run tf-sim -r 20 -d 0.5
	t1=$(date +%s%N)
	assert_success
	[ $((t1 - t0)) -ge 450000000 ]
	# Events are due at 0, 0.05, ... 0.45 s: never more than 10.
	[ "${#lines[@]}" -ge 1 ] && [ "${#lines[@]}" -le 10 ]
	# Unpaced and unlimited (--count 0), it still stops.
	tf-sim -r 0 -n 0 -d 200ms >"$BATS_TEST_TMPDIR/out"
	n=$(wc -l <"$BATS_TEST_TMPDIR/out")
	[ "$n" -gt 256 ]
}

@test "the portfolio is exactly what its trades make it" {
	sim -n 30000
	check "CASH = 100000.0; FEE = 0.001
$REPLAY
assert sum(e['type'] == 'trade_executed' for e in events) > 20"
}

@test "--cash, --fee and --symbols with prices shape the portfolio" {
	sim -n 20000 --cash 5000 --fee 0.0025 -s 'DOGE-USD,AAA-USD:2.5,ZZZ'
	check "CASH = 5000.0; FEE = 0.0025
$REPLAY
first = {}
for e in events:
    if e['type'] == 'price_update':
        first.setdefault(e['symbol'], e['price'])
assert set(first) == {'DOGE-USD', 'AAA-USD', 'ZZZ'}, first
assert abs(first['DOGE-USD'] / 0.15 - 1) < 0.05
assert abs(first['AAA-USD'] / 2.5 - 1) < 0.05
assert abs(first['ZZZ'] / 100 - 1) < 0.05
p = [e for e in events if e['type'] == 'portfolio_update'][0]
assert set(p['balances']) == {'USD', 'DOGE', 'AAA', 'ZZZ'}, p"
}

@test "every fill follows its order, at the quoted price" {
	sim -n 20000
	check '
for i, e in enumerate(events):
    if e["type"] == "order_placed":
        f = events[i + 1]
        assert f["type"] == "trade_executed", f
        for k in ("order_id", "symbol", "side", "quantity", "price"):
            assert f[k] == e[k], (e, f)
        assert e["order_type"] == "market"
        assert e["reason"] in ("sma_cross", "stop_loss")
    if e["type"] == "trade_executed":
        assert events[i - 1]["type"] == "order_placed"
ids = [e["order_id"] for e in events if e["type"] == "order_placed"]
assert len(ids) == len(set(ids)) > 0
'
}

@test "predictions come from the model, with sane fields" {
	sim -n 20000
	check '
preds = [e for e in events if e["type"] == "ml_prediction"]
assert len(preds) > 50
last = {}
for e in events:
    if e["type"] == "price_update":
        last[e["symbol"]] = e["price"]
    if e["type"] == "ml_prediction":
        assert e["model"] == "ar3-ols"
        assert e["price"] == last[e["symbol"]], e
        assert 0.5 <= e["confidence"] <= 1, e
        assert e["predicted_price"] > 0 and e["horizon"] == 10
        d = e["direction"]
        assert d in ("up", "down", "flat"), e
        assert (d == "up") == (e["predicted_price"] > e["price"]), e
        assert (d == "down") == (e["predicted_price"] < e["price"]), e
# Fitted, not canned: the confidence varies.
assert len({e["confidence"] for e in preds}) > 10
'
}

@test "patterns have their target and stop on the right sides of the entry" {
	sim -n 30000
	check '
pats = [e for e in events if e["type"] == "pattern_detected"]
assert {e["pattern"] for e in pats} == {"double_bottom", "double_top",
    "range_breakout", "range_breakdown"}, {e["pattern"] for e in pats}
last = {}
for i, e in enumerate(events):
    if e["type"] == "price_update":
        last[e["symbol"]] = e["price"]
    if e["type"] != "pattern_detected":
        continue
    assert 0 <= e["confidence"] <= 1, e
    assert e["entry"] == last[e["symbol"]], e
    if e["direction"] == "bullish":
        assert e["pattern"] in ("double_bottom", "range_breakout")
        assert e["stop"] < e["entry"] < e["target"], e
    else:
        assert e["direction"] == "bearish", e
        assert e["pattern"] in ("double_top", "range_breakdown")
        assert e["target"] < e["entry"] < e["stop"], e
    a = events[i + 1]
    assert a["type"] == "alert" and a["symbol"] == e["symbol"], a
    assert e["pattern"] in a["message"], a
'
}

@test "alerts have a priority, title, message and source" {
	sim -n 30000
	check '
alerts = [e for e in events if e["type"] == "alert"]
assert {"Pattern", "Big move"} <= {a["title"] for a in alerts}
for a in alerts:
    assert a["priority"] in ("low", "medium", "high", "critical"), a
    assert a["source"] == "tf-sim" and a["message"], a
'
}

@test "losses set off drawdown alerts, once per level, and a degraded status" {
	# Fees of 1% make the strategy bleed.
	sim -n 30000 --fee 0.01
	check '
dd = [e for e in events if e["type"] == "alert" and e["title"] == "Drawdown"]
assert [a["priority"] for a in dd] == ["high", "critical"], dd
assert "symbol" not in dd[0] and "5." in dd[0]["message"], dd
i = events.index(dd[0])
st = [e for e in events[i:] if e["type"] == "system_status"]
assert st and st[0]["status"] == "degraded", st
'
}

@test "system_status and heartbeat come on the event clock" {
	sim -n 25000
	check '
st = [e for e in events if e["type"] == "system_status"]
hb = [e for e in events if e["type"] == "heartbeat"]
# 1 ms per event: a status every 10000 events, a heartbeat every 5000.
assert len(st) == 3 and len(hb) >= 2, (len(st), len(hb))
for s in st:
    assert s["status"] in ("ok", "degraded")
    assert 0 <= s["cpu"] <= 100 and s["memory"] > 0
    assert s["connections"] == 4 and s["bot"] == "running"
'
}

@test "--stopped starts with the bot stopped: prices flow, no trades" {
	sim -n 5000 --stopped
	check '
assert events[0]["type"] == "bot_stopped"
assert events[0]["status"] == "stopped"
types = {e["type"] for e in events}
assert "price_update" in types
assert not types & {"order_placed", "trade_executed"}, types
'
}

@test "control stop and start through a FIFO: announced, and no trades while stopped" {
	local fifo=$BATS_TEST_TMPDIR/control out=$BATS_TEST_TMPDIR/out pid
	mkfifo "$fifo"
	tf-sim -r 2000 -d 20 --seed 3 -c "$fifo" >"$out" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	wait_for grep -q trade_executed "$out"
	send "$fifo" $'{"type":"control","action":"stop"}\n'
	wait_for grep -q bot_stopped "$out"
	sleep 0.3
	send "$fifo" $'{"type":"control","action":"start"}\n'
	wait_for grep -q '"reason":"start"' "$out"
	# Trading resumes.
	wait_for bash -c 'sed -n "/\"reason\":\"start\"/,\$p" "$1" | grep -q order_placed' _ "$out"
	kill -TERM "$pid"
	wait "$pid" || [ $? -eq 143 ]
	check "
running, n = True, 0
for e in events:
    if e['type'] == 'bot_stopped':
        running = False
        n += 1
        assert e['reason'] == 'stop' and e['status'] == 'stopped'
    elif e['type'] == 'bot_started':
        running = True
    elif e['type'] in ('order_placed', 'trade_executed'):
        assert running, e
assert n == 1 and running
# While stopped, prices keep flowing.
i = next(i for i, e in enumerate(events) if e['type'] == 'bot_stopped')
j = next(j for j, e in enumerate(events) if e.get('reason') == 'start')
assert sum(e['type'] == 'price_update' for e in events[i:j]) > 100
CASH = 100000.0; FEE = 0.001
$REPLAY"
	[ ! -s "$BATS_TEST_TMPDIR/err" ]
}

@test "restart stops then starts; several lines in one write apply in order" {
	local fifo=$BATS_TEST_TMPDIR/control out=$BATS_TEST_TMPDIR/out pid
	mkfifo "$fifo"
	tf-sim -r 1000 -d 10 -c "$fifo" >"$out" &
	pid=$!
	wait_for grep -q price_update "$out"
	send "$fifo" '{"type":"control","action":"restart"}
{"type":"control","action":"stop"}
{"type":"control","action":"stop"}'
	wait_for bash -c '[ "$(grep -c bot_stopped "$1")" -ge 3 ]' _ "$out"
	kill -TERM "$pid"
	wait "$pid" || [ $? -eq 143 ]
	check '
bot = [(e["type"], e["reason"]) for e in events if e["type"].startswith("bot_")]
assert bot == [("bot_started", "startup"), ("bot_stopped", "restart"),
               ("bot_started", "restart"), ("bot_stopped", "stop"),
               ("bot_stopped", "stop")], bot
'
}

@test "a bad control line is reported with its number and ignored" {
	local fifo=$BATS_TEST_TMPDIR/control out=$BATS_TEST_TMPDIR/out pid
	mkfifo "$fifo"
	tf-sim -r 1000 -d 10 -c "$fifo" >"$out" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	wait_for grep -q price_update "$out"
	send "$fifo" 'not json
{"type":"control","action":"fly"}
{"type":"price_update","action":"stop"}

{"type":"control"}
{"type":"control","action":"stop"}
'
	wait_for grep -q bot_stopped "$out"
	kill -TERM "$pid"
	wait "$pid" || [ $? -eq 143 ]
	run cat "$BATS_TEST_TMPDIR/err"
	assert_line --index 0 --regexp "^tf-sim: control line 1: invalid JSON: .* \(ignored\)$"
	assert_line --index 1 "tf-sim: control line 2: unknown action 'fly' (expected start, stop or restart) (ignored)"
	assert_line --index 2 'tf-sim: control line 3: not a control command (expected "type":"control") (ignored)'
	assert_line --index 3 "tf-sim: control line 5: unknown action (expected start, stop or restart) (ignored)"
	[ "${#lines[@]}" -eq 4 ]
	[ "$(grep -c bot_stopped "$out")" -eq 1 ]
}

@test "--strict makes a bad control line fatal: exit 65" {
	printf 'junk\n' >"$BATS_TEST_TMPDIR/control"
	run_err tf-sim -r 100 -d 5 --strict -c "$BATS_TEST_TMPDIR/control"
	[ "$status" -eq 65 ]
	[[ $stderr == "tf-sim: control line 1: invalid JSON"* ]]
}

@test "a control line longer than --max-line is reported and ignored" {
	{
		printf '{"type":"control","action":"stop","pad":"%0200d"}\n' 0
		echo '{"type":"control","action":"stop"}'
	} >"$BATS_TEST_TMPDIR/control"
	run_err tf-sim -r 0 -n 5 --max-line 100 -c "$BATS_TEST_TMPDIR/control"
	assert_success
	[[ $stderr == "tf-sim: control line 1: longer than --max-line"*"(ignored)" ]]
	[ "$(grep -c bot_stopped <<<"$output")" -eq 1 ]
}

@test "a control file that is not a FIFO is read once; '-' reads stdin" {
	printf '%s\n' '{"type":"control","action":"stop"}' >"$BATS_TEST_TMPDIR/control"
	tf-sim -r 0 -n 3 -c "$BATS_TEST_TMPDIR/control" >"$BATS_TEST_TMPDIR/out"
	check '
assert [e["type"] for e in events[:2]] == ["bot_started", "bot_stopped"]
'
	echo '{"type":"control","action":"stop"}' |
		tf-sim -r 0 -n 3 -c - >"$BATS_TEST_TMPDIR/out"
	check 'assert events[1]["type"] == "bot_stopped"'
}

@test "a control file that cannot be opened or is a directory is an error: exit 1" {
	run_err tf-sim -n 1 -c "$BATS_TEST_TMPDIR/missing"
	[ "$status" -eq 1 ]
	[[ $stderr == "tf-sim: --control: $BATS_TEST_TMPDIR/missing: No such file or directory" ]]
	[ -z "$output" ]
	run_err tf-sim -n 1 -c "$BATS_TEST_TMPDIR"
	[ "$status" -eq 1 ]
	[[ $stderr == "tf-sim: --control: $BATS_TEST_TMPDIR: Is a directory" ]]
}

@test "SIGTERM and SIGINT end the run, every line out whole, then end tf-sim by that signal (143, 130)" {
	local sig pid
	for sig in TERM INT; do
		rm -f "$BATS_TEST_TMPDIR/out"
		tf-sim -r 0 >"$BATS_TEST_TMPDIR/out" &
		pid=$!
		wait_for [ -s "$BATS_TEST_TMPDIR/out" ]
		kill -"$sig" "$pid"
		ended_by "$sig" "$pid"
		check 'assert len(events) > 0'
	done
	# Paced and asleep, it stops at once too.
	rm -f "$BATS_TEST_TMPDIR/out"
	tf-sim -r 0.1 >"$BATS_TEST_TMPDIR/out" &
	pid=$!
	wait_for [ -s "$BATS_TEST_TMPDIR/out" ]
	kill -TERM "$pid"
	ended_by TERM "$pid"
	check 'assert len(events) == 1'
}

@test "SIGUSR1 reports progress on stderr" {
	local pid
	tf-sim -r 1000 >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	wait_for [ -s "$BATS_TEST_TMPDIR/out" ]
	kill -USR1 "$pid"
	wait_for grep -q "events" "$BATS_TEST_TMPDIR/err"
	kill -TERM "$pid"
	wait "$pid" || [ $? -eq 143 ]
	run cat "$BATS_TEST_TMPDIR/err"
	assert_output --regexp '^tf-sim: [0-9]+ events, bot running$'
}

@test "a reader that closes the pipe (tf-sim | head) ends it quietly with 0" {
	run bash -c 'set -o pipefail; tf-sim -r 0 2>"$1" | head -1' _ "$BATS_TEST_TMPDIR/err"
	assert_success
	assert_output --partial '"type":"bot_started"'
	[ ! -s "$BATS_TEST_TMPDIR/err" ]
	run bash -c 'set -o pipefail; tf-sim -r 100 2>"$1" | head -3' _ "$BATS_TEST_TMPDIR/err"
	assert_success
	[ "${#lines[@]}" -eq 3 ]
	[ ! -s "$BATS_TEST_TMPDIR/err" ]
}

@test "any other write error is reported: exit 1" {
	[ -w /dev/full ] || skip "no /dev/full"
	run_err bash -c 'tf-sim -r 0 -n 100 >/dev/full'
	[ "$status" -eq 1 ]
	[ "$stderr" = "tf-sim: stdout: No space left on device" ]
}

@test "after SIGTERM, a reader that takes nothing for 2 s loses the rest, said on stderr" {
	local fifo=$BATS_TEST_TMPDIR/pipe pid keep rc=0
	mkfifo "$fifo"
	exec {keep}<>"$fifo"	# a reader that never reads
	tf-sim -r 0 >"$fifo" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	# Asleep: the pipe is full.
	wait_for grep -q '^State:.*(sleeping)' "/proc/$pid/status"
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	exec {keep}>&-
	# Interrupted, it ends by the signal whatever failed: 143, not 1.
	[ "$rc" -eq 143 ]
	run cat "$BATS_TEST_TMPDIR/err"
	assert_output --regexp '^tf-sim: stdout: the reader stopped reading; [0-9]+ bytes not written$'
}

@test "settings come from TF_SIM_* variables and the config file; flags win" {
	TF_SIM_SYMBOLS=AAA-USD TF_SIM_RATE=0 TF_SIM_SEED=5 tf-sim -n 400 \
		--start "$START" >"$BATS_TEST_TMPDIR/out"
	check 'assert {e["symbol"] for e in events if e["type"] == "price_update"} == {"AAA-USD"}'
	mkdir -p "$XDG_CONFIG_HOME/tf"
	printf 'TF_SIM_SYMBOLS=BBB-USD:5\nTF_SIM_RATE=0\n' >"$XDG_CONFIG_HOME/tf/tf.conf"
	tf-sim -n 400 >"$BATS_TEST_TMPDIR/out"
	check 'assert {e["symbol"] for e in events if e["type"] == "price_update"} == {"BBB-USD"}'
	TF_SIM_SYMBOLS=AAA-USD tf-sim -n 400 -s CCC-USD >"$BATS_TEST_TMPDIR/out"
	check 'assert {e["symbol"] for e in events if e["type"] == "price_update"} == {"CCC-USD"}'
}

@test "--volatility 0 keeps prices still, with nothing to trade or predict" {
	sim -n 3000 --volatility 0
	check '
prices = {e["price"] for e in events if e["type"] == "price_update"}
assert prices == {65000, 3500, 150}, prices
types = {e["type"] for e in events}
assert not types & {"trade_executed", "ml_prediction", "pattern_detected"}
'
}

@test "--drift sets the trend the prices follow" {
	sim -n 9000 --drift 0.001 -s AAA-USD:100
	check '
p = [e["price"] for e in events if e["type"] == "price_update"]
assert p[-1] > 100 * 2, p[-1]
'
}

@test "a buy carries its fee and its stop; the stop is what sells" {
	sim -n 30000 --volatility 0.005
	check '
stop, sells = {}, {"stop_loss": 0, "sma_cross": 0}
for i, e in enumerate(events):
    if e["type"] not in ("order_placed", "trade_executed"):
        continue
    assert e["fee"] == round(e["quantity"] * e["price"] * 0.001, 2) \
        if e["type"] == "trade_executed" else "fee" not in e, e
    if e["side"] == "buy":
        # 3% under the price paid, on the price grid
        assert abs(e["stop"] / (e["price"] * 0.97) - 1) < 1e-4, e
        stop[e["symbol"]] = e["stop"]
    elif e["type"] == "trade_executed":
        assert "stop" not in e, e
        # The stop is tested first: a sell at or under it is a stop loss.
        assert (e["price"] <= stop[e["symbol"]]) == \
            (e["reason"] == "stop_loss"), (e, stop[e["symbol"]])
        sells[e["reason"]] += 1
assert sells["stop_loss"] > 0 and sells["sma_cross"] > 0, sells
'
}

@test "a run replayed into tf-serve: its round trips, win rate, P&L and fees are the fills'" {
	cd "$BATS_TEST_TMPDIR"
	sim -n 30000
	tf-record -n -q -d rec.db <out
	port=$(free_port)
	tf-replay --speed max rec.db |
		tf-serve --port "$port" --keep-open >/dev/null 2>err &
	echo $! >>pids
	fills=$(grep -c '"type":"trade_executed"' out)
	wait_for eval "curl -s http://127.0.0.1:$port/api/metrics >metrics &&
		jq -e '.trades == $fills' metrics >/dev/null"
	curl -s "http://127.0.0.1:$port/api/trading" >trading
	check '
import json
m = json.load(open("metrics"))
t = json.load(open("trading"))
# Round trips from the fills alone (signed position per symbol), as a
# trader would count them; and the sum of the fills own "pnl" fields.
q, trip, trips = {}, {}, []
fees = 0.0
for e in events:
    if e["type"] != "trade_executed":
        continue
    s, sign = e["symbol"], 1 if e["side"] == "buy" else -1
    fees += e["fee"]
    if q.get(s, 0) == 0:
        trip[s] = {"cash": 0.0, "fees": 0.0, "pnl_fields": 0.0}
    q[s] = round(q.get(s, 0) + sign * e["quantity"], 9)
    trip[s]["cash"] -= sign * e["quantity"] * e["price"]
    trip[s]["fees"] += e["fee"]
    trip[s]["pnl_fields"] += e["pnl"]
    if q[s] == 0:
        trips.append(trip[s])
wins = sum(1 for r in trips if r["cash"] - r["fees"] > 0)
losses = sum(1 for r in trips if r["cash"] - r["fees"] < 0)
realized = sum(r["cash"] - r["fees"] for r in trips)
assert len(trips) > 20, len(trips)
assert m["round_trips"] == len(trips), (m, len(trips))
assert (m["wins"], m["losses"]) == (wins, losses), (m, wins, losses)
assert m["win_rate"] == wins / len(trips), m
assert abs(m["realized_pnl"] - realized) < 1e-6, (m, realized)
assert abs(m["fees"] - fees) < 1e-6, (m, fees)
# A buy writes minus its fee as "pnl" and its sell the rest: the two add
# up to the round trip (to the cent each is rounded to).
for r in trips:
    assert abs(r["pnl_fields"] - (r["cash"] - r["fees"])) <= 0.011, r
assert len(t["round_trips"]) == len(trips)
assert abs(sum(x["pnl"] for x in t["round_trips"]) - realized) < 1e-6
assert len(t["positions"]) == sum(1 for v in q.values() if v), t["positions"]
'
}
