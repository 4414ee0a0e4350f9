#!/usr/bin/env bats
# tf-alert: what a user relies on when turning events into alerts.

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# px SYMBOL PRICE [TS]: a price_update line (TS in epoch ms).
px() {
	if [ -n "${3:-}" ]; then
		printf '{"type":"price_update","symbol":"%s","price":%s,"ts":%s}\n' "$1" "$2" "$3"
	else
		printf '{"type":"price_update","symbol":"%s","price":%s}\n' "$1" "$2"
	fi
}

# prices SYMBOL P1 P2 ...: price lines one second apart from ts 1000000.
prices() {
	local sym=$1 t=1000000 p
	shift
	for p in "$@"; do
		px "$sym" "$p" "$t"
		t=$((t + 1000))
	done
}

# field NAME: the NAME field of each alert on stdin, one per line.
field() {
	python3 -c 'import json, sys
for l in sys.stdin:
    if l.strip(): print(json.loads(l).get(sys.argv[1], "-"))' "$1"
}

@test "a cross above fires once per crossing, with the value and the level" {
	prices BTC-USD 69000 69500 70000 70500 69000 71000 >in
	run_err tf-alert --above BTC-USD=70000 <in
	assert_success
	assert_equal "$(field value <<<"$output" | tr '\n' ' ')" "70000 71000 "
	assert_equal "$(field level <<<"$output" | sort -u)" 70000
	assert_equal "$(field ts <<<"$output" | tr '\n' ' ')" "1002000 1005000 "
	[[ $stderr == *"tf-alert: 2 alerts from 6 lines, 0 skipped"* ]]
}

@test "a cross below fires when the price falls to the level" {
	prices ETH-USD 3100 3050 3000 2990 3100 2999.5 >in
	run tf-alert -q --below ETH-USD=3000 <in
	assert_success
	assert_equal "$(field value <<<"$output" | tr '\n' ' ')" "3000 2999.5 "
	assert_equal "$(field direction <<<"$output" | sort -u)" below
}

@test "the first price only sets the state; --initial fires when it is already past" {
	prices BTC-USD 71000 72000 >in
	run tf-alert -q --above BTC-USD=70000 <in
	assert_success
	assert_output ""
	run tf-alert -q --initial --above BTC-USD=70000 <in
	assert_success
	assert_equal "$(field value <<<"$output")" 71000
	echo '[{"symbol":"BTC-USD","above":70000,"initial":true}]' >r.json
	run tf-alert -q r.json <in
	assert_equal "$(field value <<<"$output")" 71000
}

@test "hysteresis: chatter around the level fires once; re-arms below level minus h" {
	# Oscillates within 100 of 70000: one alert.
	prices BTC-USD 69000 70010 69950 70020 69901 70005 >in
	run tf-alert -q --hysteresis 100 --above BTC-USD=70000 <in
	assert_equal "$(printf '%s\n' "$output" | grep -c alert)" 1
	# Falling below 69900 re-arms; the next crossing fires.
	prices BTC-USD 69000 70010 69950 69899 70001 >in
	run tf-alert -q --hysteresis 100 --above BTC-USD=70000 <in
	assert_equal "$(field value <<<"$output" | tr '\n' ' ')" "70010 70001 "
	# Without hysteresis the chatter fires each time.
	prices BTC-USD 69000 70010 69950 70020 >in
	run tf-alert -q --above BTC-USD=70000 <in
	assert_equal "$(printf '%s\n' "$output" | grep -c alert)" 2
}

@test "hysteresis as a percentage of the level, in the rules file" {
	cat >r.json <<-'EOF'
	[{"id":"dip","symbol":"SOL-USD","below":100,"hysteresis":"1%"}]
	EOF
	# Re-arms above 101 only.
	prices SOL-USD 105 100 100.9 99 101.01 100 >in
	run tf-alert -q r.json <in
	assert_equal "$(field value <<<"$output" | tr '\n' ' ')" "100 100 "
}

@test "a move of pct within the window fires; the same move spread wider does not" {
	# 100 -> 105 in 5 minutes with a 10m window: +5%.
	{ px ETH-USD 100 0; px ETH-USD 102 120000; px ETH-USD 105 300000; } >in
	run tf-alert -q --move ETH-USD=5/10m <in
	assert_success
	assert_equal "$(field change_pct <<<"$output")" 5.0
	assert_equal "$(field from <<<"$output")" 100
	assert_equal "$(field window <<<"$output")" 10m
	assert_equal "$(field direction <<<"$output")" up
	# The same 5% over 11 minutes: each step is inside the window but
	# the whole move is not.
	{ px ETH-USD 100 0; px ETH-USD 102 300000; px ETH-USD 105 660000; } >in
	run tf-alert -q --move ETH-USD=5/10m <in
	assert_success
	assert_output ""
	# 4.9% is not 5%.
	{ px ETH-USD 100 0; px ETH-USD 104.9 1000; } >in
	run tf-alert -q --move ETH-USD=5/10m <in
	assert_output ""
}

@test "a move down is measured from the highest price in the window" {
	{ px BTC-USD 105 0; px BTC-USD 110 1000; px BTC-USD 104 2000; px BTC-USD 104.5 3000; } >in
	run tf-alert -q --move BTC-USD=5/1m <in
	assert_equal "$(field change_pct <<<"$output")" -5.45
	assert_equal "$(field from <<<"$output")" 110
	assert_equal "$(field direction <<<"$output")" down
	# direction: up ignores it, direction: down keeps it.
	echo '[{"kind":"move","symbol":"BTC-USD","pct":5,"window":"1m","direction":"up"}]' >r.json
	run tf-alert -q r.json <in
	assert_output ""
	sed -i 's/"up"/"down"/' r.json
	run tf-alert -q r.json <in
	assert_equal "$(field change_pct <<<"$output")" -5.45
}

@test "after a move fires the window starts again from the new price" {
	{ px X 100 0; px X 106 1000; px X 107 2000; px X 108 3000; px X 112 4000; } >in
	run tf-alert -q --move 'X=5/1h' <in
	# 106 is +6% from 100; then 112 is +5.66% from 106.
	assert_equal "$(field value <<<"$output" | tr '\n' ' ')" "106 112 "
}

@test "a move rule for '*' watches each symbol on its own" {
	{ px A 100 0; px B 200 0; px A 104 1000; px B 190 1000; px A 106 2000; } >in
	run tf-alert -q --move '*=5/1m' <in
	assert_equal "$(field symbol <<<"$output" | tr '\n' ' ')" "B A "
}

@test "event time comes from ts in epoch ms or RFC 3339; without ts, arrival time" {
	printf '%s\n' '{"type":"price_update","symbol":"X","price":100,"ts":"2026-11-21T10:00:00Z"}' \
		'{"type":"price_update","symbol":"X","price":110,"ts":"2026-11-21T10:20:00Z"}' >in
	run tf-alert -q --move X=5/10m <in
	assert_output ""
	printf '%s\n' '{"type":"price_update","symbol":"X","price":100,"ts":"2026-11-21T10:00:00Z"}' \
		'{"type":"price_update","symbol":"X","price":110,"ts":"2026-11-21T10:05:00+00:00"}' >in
	run tf-alert -q --move X=5/10m <in
	assert_equal "$(field ts <<<"$output")" "2026-11-21T10:05:00+00:00"
	before=$(($(date +%s%N) / 1000000))
	run tf-alert -q --move X=5/10m < <(px X 100; px X 110)
	after=$(($(date +%s%N) / 1000000))
	ts=$(field ts <<<"$output")
	[ "$ts" -ge "$before" ] && [ "$ts" -le "$after" ]
}

@test "a jq rule fires on events where its condition holds" {
	cat >r.json <<-'EOF'
	[{"id":"big","kind":"jq","when":".type == \"trade_executed\" and .quantity > 1",
	  "priority":"high"}]
	EOF
	printf '%s\n' '{"type":"trade_executed","symbol":"BTC-USD","quantity":0.5}' \
		'{"type":"trade_executed","symbol":"BTC-USD","quantity":2,"ts":42}' \
		'{"type":"heartbeat"}' >in
	run tf-alert -q r.json <in
	assert_success
	assert_output '{"type":"alert","ts":42,"priority":"high","title":"Rule big","message":"trade_executed matched .type == \"trade_executed\" and .quantity > 1","source":"tf-alert","symbol":"BTC-USD","rule":"big","kind":"jq"}'
}

@test "a jq rule's type and symbol keys narrow the events it sees" {
	cat >r.json <<-'EOF'
	[{"id":"stop","type":"bot_stopped","when":"true","message":"{.reason}"},
	 {"id":"sol","type":["trade_executed","order_placed"],"symbol":"SOL-USD","when":".quantity > 1"}]
	EOF
	printf '%s\n' '{"type":"bot_started","reason":"x"}' '{"type":"bot_stopped","reason":"manual"}' \
		'{"type":"trade_executed","symbol":"BTC-USD","quantity":5}' \
		'{"type":"order_placed","symbol":"SOL-USD","quantity":5}' \
		'{"type":"order_cancelled","symbol":"SOL-USD","quantity":5}' >in
	run tf-alert -q r.json <in
	assert_equal "$(field rule <<<"$output" | tr '\n' ' ')" "stop sol "
	assert_equal "$(field message <<<"$output" | head -n 1)" manual
}

@test "a jq error on a line is a warning with its line number; the rest flows" {
	printf '%s\n' '{"n":"x"}' '{"n":5}' >in
	run_err tf-alert --when '.n + 1 > 3' <in
	assert_success
	[[ $stderr == *"tf-alert: line 1: rule when-1: jq: "*"cannot be added"* ]]
	assert_equal "$(printf '%s\n' "$output" | grep -c '"rule":"when-1"')" 1
}

@test "priority, title and message come from templates, exactly" {
	cat >r.json <<-'EOF'
	[{"id":"btc-70k","symbol":"BTC-USD","above":70000,"priority":"critical",
	  "title":"{symbol} over {level}!","message":"{symbol} {price} ({.bid}/{.ask}, {.missing}) {{ok}} rule {rule} {priority}"},
	 {"id":"def","symbol":"BTC-USD","above":70000}]
	EOF
	printf '%s\n' '{"type":"price_update","symbol":"BTC-USD","price":69000}' \
		'{"type":"price_update","symbol":"BTC-USD","price":70012.5,"bid":70012,"ask":"70013"}' >in
	run tf-alert -q r.json <in
	assert_success
	assert_equal "$(field priority <<<"$output" | tr '\n' ' ')" "critical medium "
	assert_line -n 0 --partial '"title":"BTC-USD over 70,000!","message":"BTC-USD 70,012.50 (70012/70013, ) {ok} rule btc-70k critical"'
	assert_line -n 1 --partial '"title":"BTC-USD crossed above 70,000","message":"BTC-USD 70,012.50 (level 70,000)"'
	# Defaults of a move rule.
	{ px ETH-USD 3000 0; px ETH-USD 2849.99 1000; } >in
	run tf-alert -q --move ETH-USD=5/90s <in
	assert_output --partial '"title":"ETH-USD moved -5.00% in 1m30s","message":"ETH-USD 2,849.99 (-5.00% from 3,000 within 1m30s)"'
}

@test "numbers JSON cannot hold go out as null; times past 2262 or before 1678 are not taken" {
	# A move from 1e-300 to 1e10 is an infinite change.
	printf '%s\n' '{"type":"price_update","symbol":"X","price":1e-300,"ts":1000}' \
		'{"type":"price_update","symbol":"X","price":1e10,"ts":2000}' >in
	run tf-alert -q --move X=5/1m <in
	assert_success
	assert_equal "$(jq -c '[.change_pct, .from, .value]' <<<"$output")" '[null,1e-300,10000000000]'
	# Times beyond 64-bit nanoseconds: the line counts as having no time.
	printf '%s\n' '{"type":"price_update","symbol":"Y","price":1,"ts":9999999999999}' \
		'{"type":"price_update","symbol":"Y","price":2,"ts":"3000-01-01T00:00:00Z"}' \
		'{"type":"price_update","symbol":"Y","price":3,"ts":"1600-01-01T00:00:00Z"}' >in
	run tf-alert -q --above Y=2.5 <in
	assert_success
	assert_equal "$(jq -c '[.symbol, .value]' <<<"$output")" '["Y",3]'
}

@test "templates: nested paths, quoting in JSON, and small numbers" {
	cat >r.json <<-'EOF'
	[{"kind":"jq","when":".d.x","title":"{.d.x} \"q\" {.d.list[1]} {.d}","message":"tab\there"},
	 {"symbol":"PEPE","below":0.00002,"message":"{value} < {level}"}]
	EOF
	printf '%s\n' '{"d":{"x":"caf\u00e9","list":[1,2]}}' \
		'{"type":"price_update","symbol":"PEPE","price":0.00003}' \
		'{"type":"price_update","symbol":"PEPE","price":0.000012}' >in
	run tf-alert -q r.json <in
	assert_success
	assert_line -n 0 --partial '"title":"café \"q\" 2 {\"x\":\"café\",\"list\":[1,2]}","message":"tab\there"'
	assert_line -n 1 --partial '"message":"0.000012 < 0.00002"'
}

@test "cooldown suppresses repeat fires within its time and allows them after" {
	# Crossings at t=1s, 3s, 5s, 7s with a 5s cooldown: 1s and 7s fire.
	{ px X 90 0; px X 110 1000; px X 90 2000; px X 110 3000; px X 90 4000
	  px X 110 5000; px X 90 6000; px X 110 7000; } >in
	run tf-alert -q --cooldown 5s --above X=100 <in
	assert_equal "$(field ts <<<"$output" | tr '\n' ' ')" "1000 7000 "
	# The same in a rules file, with the cooldown in seconds.
	echo '[{"symbol":"X","above":100,"cooldown":5}]' >r.json
	run tf-alert -q r.json <in
	assert_equal "$(field ts <<<"$output" | tr '\n' ' ')" "1000 7000 "
	# A jq rule's cooldown is per symbol.
	printf '%s\n' '{"symbol":"A","ts":0}' '{"symbol":"B","ts":1}' '{"symbol":"A","ts":2}' \
		'{"symbol":"A","ts":60000}' >in
	run tf-alert -q --cooldown 1m --when 'true' <in
	assert_equal "$(field ts <<<"$output" | tr '\n' ' ')" "0 1 60000 "
}

@test "--passthrough forwards every line byte for byte, alerts right after their line" {
	printf '%s\n' '{"type":"price_update","symbol":"X","price":90}' \
		'{ "type" : "price_update","symbol":"X","price":1e2 , "note":"\u00e9 \ud83d\ude00"}' \
		'{"type":"heartbeat"}' \
		'{"type":"price_update","symbol":"X","price":99}' \
		'{"type":"price_update","symbol":"X","price":101.0}' >in
	run tf-alert -q -p --above X=100 <in
	assert_success
	assert_equal "${#lines[@]}" 7
	diff <(printf '%s\n' "$output" | grep -v '"type":"alert"') in
	assert_line -n 2 --partial '"type":"alert"'
	assert_line -n 2 --partial '"value":100,'
	assert_line -n 6 --partial '"value":101,'
}

@test "lines that are not price events pass untouched through cross and move rules" {
	printf '%s\n' '{"type":"trade_executed","symbol":"X","price":500}' \
		'{"type":"price_update","symbol":"X","price":"n/a"}' \
		'{"type":"price_update","symbol":"X"}' '[1]' '{"type":"price_update","price":5}' >in
	run_err tf-alert -p --above X=100 --move '*=1/1m' <in
	assert_success
	diff <(printf '%s\n' "$output") <(grep -v '^\[' in)
	[[ $stderr == *"line 4: not a JSON object (skipped)"* ]]
}

@test "field and type choose what a rule watches; numeric strings count" {
	cat >r.json <<-'EOF'
	[{"id":"pnl","kind":"cross","symbol":"*","type":"portfolio_update","field":"pnl","below":-1000}]
	EOF
	printf '%s\n' '{"type":"portfolio_update","symbol":"ALL","pnl":"-10"}' \
		'{"type":"portfolio_update","symbol":"ALL","pnl":"-1500.5"}' \
		'{"type":"price_update","symbol":"ALL","pnl":-5000}' >in
	run tf-alert -q r.json <in
	assert_equal "$(field value <<<"$output")" -1500.5
	assert_equal "$(field field <<<"$output")" pnl
}

@test "--state keeps crossing state: a restart does not fire a crossing again" {
	echo '[{"id":"btc","symbol":"BTC-USD","above":70000,"initial":true}]' >r.json
	prices BTC-USD 69000 71000 >in
	run tf-alert -q --state st.json r.json <in
	assert_equal "$(printf '%s\n' "$output" | grep -c alert)" 1
	python3 -c 'import json; s=json.load(open("st.json")); assert s["rules"]["btc"]["symbols"]["BTC-USD"]["armed"] is False'
	# Still above after the restart: no second alert, even with initial.
	prices BTC-USD 71500 72000 >in
	run tf-alert -q --state st.json r.json <in
	assert_output ""
	# Without the state file the same input does fire.
	run tf-alert -q r.json <in
	assert_equal "$(printf '%s\n' "$output" | grep -c alert)" 1
}

@test "--state: a crossing that happens while tf-alert is down fires on restart" {
	prices BTC-USD 69000 69500 >in
	run tf-alert -q --state st.json --above BTC-USD=70000 <in
	assert_output ""
	prices BTC-USD 70100 >in
	run tf-alert -q --state st.json --above BTC-USD=70000 <in
	assert_equal "$(field value <<<"$output")" 70100
	# A rule whose level changed does not take the old state.
	prices BTC-USD 75000 >in
	run tf-alert -q --state st.json --above BTC-USD=74000 <in
	assert_output ""
}

@test "--state keeps cooldowns across a restart" {
	{ px X 90 0; px X 110 1000; } >in
	run tf-alert -q --state st.json --cooldown 1m --above X=100 <in
	assert_equal "$(printf '%s\n' "$output" | grep -c alert)" 1
	{ px X 90 2000; px X 110 3000; px X 90 4000; px X 110 70000; } >in
	run tf-alert -q --state st.json --cooldown 1m --above X=100 <in
	assert_equal "$(field ts <<<"$output")" 70000
}

@test "a corrupt state file is a warning and a fresh start; it is rewritten" {
	echo 'garbage{' >st.json
	run_err tf-alert --state st.json --above X=100 < <(px X 90; px X 110)
	assert_success
	[[ $stderr == *"tf-alert: st.json: not a tf-alert state file; starting with fresh state"* ]]
	assert_equal "$(field value <<<"$output")" 110
	python3 -c 'import json; json.load(open("st.json"))["tf_alert_state"]'
	echo '{"something":"else"}' >st.json
	run_err tf-alert --state st.json --above X=100 </dev/null
	assert_success
	[[ $stderr == *"not a tf-alert state file"* ]]
}

@test "a state file that cannot be read is an error (exit 1)" {
	mkdir st.json
	run_err tf-alert --state st.json --above X=100 </dev/null
	assert_failure 1
	assert_equal "$stderr" "tf-alert: st.json: Is a directory"
	run_err tf-alert . </dev/null
	assert_failure 2
	assert_equal "$stderr" "tf-alert: .: Is a directory"
}

@test "a state file that cannot be written is an error at startup (exit 1)" {
	run_err tf-alert --state no/such/dir/st.json --above X=100 </dev/null
	assert_failure 1
	[[ $stderr == *"tf-alert: no/such/dir/st.json: cannot save state: No such file or directory"* ]]
}

@test "the state is saved while running, not only at exit" {
	mkfifo in
	tf-alert -q --state st.json --above X=100 <in >out &
	pid=$!
	exec 7>in
	px X 90 >&7
	px X 110 >&7
	wait_for grep -q '"armed":false' st.json
	wait_for grep -q alert out
	exec 7>&-
	wait "$pid"
	[ ! -e st.json.tmp ]
}

@test "a state save that fails while running is reported once and retried" {
	mkfifo in
	tf-alert --state st.json --above X=100 <in >out 2>err &
	pid=$!
	exec 7>in
	wait_for test -f st.json	# saved at startup
	mkdir st.json.tmp	# the next save cannot create its temporary file
	px X 90 >&7
	wait_for grep -q 'cannot save state' err
	px X 110 >&7
	px X 90 >&7
	sleep 1.2
	px X 110 >&7
	wait_for eval '[ "$(grep -c alert out)" -eq 2 ]'
	sleep 1.2
	rmdir st.json.tmp
	px X 90 >&7
	wait_for grep -q 'st.json: state saved again' err
	exec 7>&-
	wait "$pid"
	assert_equal "$(grep -c 'tf-alert: st.json: cannot save state: Is a directory' err)" 1
	python3 -c 'import json; s=json.load(open("st.json")); assert s["rules"]["above:X=100"]["symbols"]["X"]["armed"] is True'
}

@test "SIGTERM and SIGINT save the state, flush, then end by that signal (143, 130)" {
	for sig in TERM INT; do
		rm -f st.json in out
		mkfifo in
		tf-alert --state st.json --cooldown 1h --above X=100 <in >out 2>err &
		pid=$!
		exec 7>in
		px X 90 0 >&7
		px X 110 1000 >&7
		wait_for grep -q alert out
		kill -s "$sig" "$pid"
		ended_by "$sig" "$pid"
		exec 7>&-
		grep -q '1 alert from 2 lines' err
		python3 -c 'import json; s=json.load(open("st.json")); e=s["rules"]["above:X=100"]["symbols"]["X"]; assert e["last_fire"] == 1000 and e["armed"] is False, s'
	done
}

@test "when the reader of stdout goes away: an error, the state saved, exit 1" {
	python3 -c 'for i in range(100000): print("{\"symbol\":\"S%d\",\"ts\":%d}" % (i % 50, i))' >in
	bash -c 'tf-alert --state st.json --cooldown 1ms --when true <in 2>err | head -n 1 >first
		echo "${PIPESTATUS[0]}" >rc'
	assert_equal "$(cat rc)" 1
	grep -q '^tf-alert: stdout: Broken pipe$' err
	assert_equal "$(field rule <first)" when-1
	python3 -c 'import json; s=json.load(open("st.json")); assert len(s["rules"]["when-1"]["symbols"]) == 50'
}

@test "alerts reach stdout while the input stays open and idle" {
	mkfifo in
	tf-alert -q --above X=100 <in >out &
	pid=$!
	exec 7>in
	px X 90 >&7
	px X 110 >&7
	wait_for grep -q '"value":110' out
	exec 7>&-
	wait "$pid"
}

@test "rule file errors name the file, the rule and the reason, exit 2" {
	check() {
		printf '%s\n' "$1" >r.json
		run_err tf-alert r.json </dev/null
		assert_failure 2
		assert_equal "$stderr" "tf-alert: r.json: $2"
	}
	check '[{"id":"a","symbol":"X","above":1},{"id":"b","kind":"wobble"}]' \
		"rule 2 (b): unknown kind 'wobble' (cross, move or jq)"
	check '[{"id":"a","symbol":"X","abov":1}]' \
		'rule 1 (a): no kind (give "kind": "cross", "move" or "jq")'
	check '[{"id":"a","symbol":"X","above":1,"colour":"red"}]' \
		"rule 1 (a): unknown key 'colour'"
	check '[{"symbol":"X","above":1,"pct":5}]' \
		"rule 1: key 'pct' is for move rules, not cross rules"
	check '[{"kind":"cross","symbol":"X"}]' 'rule 1: missing "above" or "below"'
	check '[{"symbol":"X","above":1,"below":2}]' \
		'rule 1: both "above" and "below" (one level per rule)'
	check '[{"above":1}]' 'rule 1: missing "symbol" (a symbol, or "*" for each)'
	check '[{"symbol":"X","above":"high"}]' 'rule 1: above: not a number'
	check '[{"symbol":"X","above":1e400}]' 'rule 1: above: out of range'
	check '[{"kind":"move","symbol":"X","window":"5m"}]' \
		'rule 1: missing "pct" (the move in percent)'
	check '[{"kind":"move","symbol":"X","pct":5}]' \
		'rule 1: missing "window" (e.g. "10m")'
	check '[{"kind":"move","symbol":"X","pct":5,"window":"soon"}]' \
		"rule 1: window: 'soon' is not a duration (e.g. 30, 1.5s, 250ms, 5m, 2h)"
	check '[{"kind":"move","symbol":"X","pct":-1,"window":"1m"}]' \
		'rule 1: pct: must be above 0'
	check '[{"kind":"move","symbol":"X","pct":1,"window":"1m","direction":"sideways"}]' \
		"rule 1: direction: 'sideways' is not up, down or any"
	printf '%s\n' '[{"id":"j","kind":"jq","when":".a ==="}]' >r.json
	run_err tf-alert r.json </dev/null
	assert_failure 2
	[[ $stderr == "tf-alert: r.json: rule 1 (j): when: invalid jq program: "*"syntax error"* ]]
	check '[{"kind":"jq"}]' 'rule 1: missing "when" (a jq condition)'
	check '[{"symbol":"X","above":1,"priority":"urgent"}]' \
		"rule 1: priority: 'urgent' is not low, medium, high or critical"
	check '[{"symbol":"X","above":1,"cooldown":"a while"}]' \
		"rule 1: cooldown: 'a while' is not a duration (e.g. 30, 1.5s, 250ms, 5m, 2h)"
	check '[{"symbol":"X","above":1,"hysteresis":"lots"}]' \
		"rule 1: hysteresis: 'lots' is not an amount (e.g. 50, or \"0.1%\" of the level)"
	check '[{"symbol":"X","above":1,"title":"{sym}"}]' \
		'rule 1: title: unknown placeholder {sym} (known: symbol, value, price, level, change_pct, window, from, direction, rule, priority, type, field, ts, when, {.field})'
	check '[{"symbol":"X","above":1,"message":"{symbol"}]' \
		"rule 1: message: unclosed '{' in \"{symbol\""
	check '[{"id":"a","symbol":"X","above":1},{"id":"a","symbol":"X","below":1}]' \
		"rule 2 (a): id 'a' is used twice"
	check '[{"symbol":"X","above":1,"type":[1]}]' \
		'rule 1: type: not a string or an array of strings'
	check '[{"symbol":"X","above":1,"initial":"yes"}]' \
		'rule 1: initial: not true or false'
	check '[{"symbol":"X","above":1},3]' 'rule 2: not a JSON object'
	check "[{\"id\":\"$(printf '%0128d' 0)\",\"symbol\":\"X\",\"above\":1}]" \
		"rule 1 ($(printf '%0128d' 0)): id: empty or longer than 127 bytes"
	check "[{\"symbol\":\"$(printf '%0256d' 0)\",\"above\":1}]" \
		'rule 1: symbol: empty or too long'
	check '{"rulez":[]}' 'expected an array of rules, or {"rules": [...]}'
	check '[{"symbol":"X",' "not JSON: Unfinished JSON term at EOF at line 2, column 0"
	check '[{"symbol":"X","above":1,"field":"a"},{"symbol":"X","above":1,"field":"b"},
		{"symbol":"X","above":1,"field":"c"},{"symbol":"X","above":1,"field":"d"},
		{"symbol":"X","above":1,"field":"e"},{"symbol":"X","above":1,"field":"f"}]' \
		"rule 6: field 'f': at most 5 different fields across cross and move rules"
}

@test "a title or message longer than 4095 bytes is cut on a character boundary, nothing after the cut" {
	long=$(python3 -c 'print("\u00e9" * 3000)')
	printf '{"type":"x","text":"%s"}\n' "$long" >in
	run tf-alert -q --when true <in
	echo '[{"kind":"jq","when":"true","title":"{.text}!","message":"a{.text}"}]' >r.json
	run tf-alert -q r.json <in
	assert_success
	python3 -c 'import json, sys
a = json.loads(sys.argv[1])
assert len(a["title"].encode()) == 4094 and set(a["title"]) == {"\u00e9"}, len(a["title"].encode())
assert len(a["message"].encode()) == 4095 and a["message"].startswith("a\u00e9"), len(a["message"])' "$output"
}

@test "a rules file over 16 MiB is refused" {
	{ echo '['; head -c 17000000 /dev/zero | tr '\0' ' '; echo ']'; } >big.json
	run_err tf-alert big.json </dev/null
	assert_failure 2
	assert_equal "$stderr" "tf-alert: big.json: larger than 16 MiB"
}

@test "a missing rules file, no rules at all, or two files are usage errors" {
	run_err tf-alert nope.json </dev/null
	assert_failure 2
	assert_equal "$stderr" "tf-alert: nope.json: No such file or directory"
	run_err tf-alert </dev/null
	assert_failure 2
	[[ $stderr == *"tf-alert: no rules: give a RULES.json file or --above, --below, --move, --when"* ]]
	[[ $stderr == *"Try 'tf-alert --help'."* ]]
	echo '[]' >r.json
	run_err tf-alert r.json </dev/null
	assert_failure 2
	[[ $stderr == *"no rules"* ]]
	run_err tf-alert r.json r.json </dev/null
	assert_failure 2
	[[ $stderr == *"unexpected argument 'r.json' (one rules file at most)"* ]]
}

@test "rule flags: errors are usage errors naming the flag" {
	run_err tf-alert --above BTC-USD </dev/null
	assert_failure 2
	[[ $stderr == *"--above: 'BTC-USD' is not SYMBOL=LEVEL (BTC-USD=70000)"* ]]
	run_err tf-alert --below X=cheap </dev/null
	assert_failure 2
	[[ $stderr == *"--below X: 'cheap' is not a number"* ]]
	run_err tf-alert --move X=5 </dev/null
	assert_failure 2
	[[ $stderr == *"--move: 'X=5' is not SYMBOL=PCT/WINDOW (BTC-USD=5/10m)"* ]]
	run_err tf-alert --move X=5/forever </dev/null
	assert_failure 2
	[[ $stderr == *"--move X=5/forever: window: 'forever' is not a duration"* ]]
	run_err tf-alert --when '.a ==' </dev/null
	assert_failure 2
	[[ $stderr == *"--when .a ==: when: invalid jq program"* ]]
	run_err tf-alert --priority urgent --above X=1 </dev/null
	assert_failure 2
	[[ $stderr == *"--priority: 'urgent' is not low, medium, high or critical"* ]]
	run_err tf-alert --hysteresis much --above X=1 </dev/null
	assert_failure 2
	[[ $stderr == *"--hysteresis: 'much' is not an amount (e.g. 50, or 0.1% of the level)"* ]]
	run_err tf-alert --max-symbols 0 --above X=1 </dev/null
	assert_failure 2
	[[ $stderr == *"--max-symbols: 0 is out of range"* ]]
}

@test "rules from flags only, mixed with a file, with --priority for both" {
	echo '[{"id":"f","symbol":"X","below":50},{"id":"g","symbol":"X","below":40,"priority":"low"}]' >r.json
	{ px X 60 0; px X 110 1000; px X 45 2000; px X 30 3000; } >in
	run tf-alert -q --priority critical r.json --above X=100 --move X=50/1m <in
	assert_success
	assert_equal "$(field rule <<<"$output" | tr '\n' ' ')" "above:X=100 move:X=50/1m f move:X=50/1m g "
	assert_equal "$(field priority <<<"$output" | tr '\n' ' ')" "critical critical critical critical low "
}

@test "--check validates the rules without reading input" {
	run tf-alert --check "$TF_ROOT/examples/rules.json"
	assert_success
	assert_output "$TF_ROOT/examples/rules.json: 6 rules OK"
	run tf-alert --check --above X=1 --when true
	assert_output "flags: 2 rules OK"
}

@test "bad lines are reported with number and reason, skipped, and the rest flows" {
	printf '%s\n' '{"type":"price_update","symbol":"X","price":90}' '{"a":' \
		'{"type":"price_update","symbol":"X","price":110}' >in
	printf '{"a":"\xff"}\n' >>in
	run_err tf-alert --above X=100 <in
	assert_success
	assert_equal "$(field value <<<"$output")" 110
	[[ $stderr == *"tf-alert: line 2: invalid JSON"*"(skipped)"* ]]
	[[ $stderr == *"tf-alert: line 4: invalid UTF-8 at byte 6 (skipped)"* ]]
	[[ $stderr == *"1 alert from 2 lines, 2 skipped"* ]]
	long=$(printf '{"x":"%0100d"}' 0)
	run_err tf-alert --max-line 64 --when true < <(echo "$long"; echo '{"ok":1}')
	[[ $stderr == *"line 1: longer than --max-line (108 bytes) (skipped)"* ]]
	assert_equal "$(printf '%s\n' "$output" | grep -c alert)" 1
}

@test "--strict makes the first bad line fatal with exit 65, after the alerts before it" {
	printf '%s\n' '{"type":"price_update","symbol":"X","price":90}' \
		'{"type":"price_update","symbol":"X","price":110}' 'oops' '{"b":2}' >in
	run_err tf-alert --strict --above X=100 <in
	assert_equal "$status" 65
	[[ $stderr == *"tf-alert: line 3: invalid JSON"* ]]
	assert_equal "$(field value <<<"$output")" 110
}

@test "--max-symbols bounds the symbols a rule watches, with a warning" {
	{ px A 100 0; px B 100 0; px C 100 0; px A 110 1000; px C 110 1000; } >in
	run_err tf-alert --max-symbols 2 --move '*=5/1m' <in
	assert_success
	assert_equal "$(field symbol <<<"$output")" A
	[[ $stderr == *"tf-alert: line 3: rule move:*=5/1m: more than 2 symbols (--max-symbols); 'C' and any other new symbol are not watched"* ]]
	[ "$(grep -c 'more than 2 symbols' <<<"$stderr")" -eq 1 ]
}

@test "--max-points bounds a move window; the oldest points go first" {
	# A steady climb keeps every point: with room for 2, the 100 is gone
	# by the time 106 arrives, and 103 -> 106 is under 5%.
	{ px X 100 0; px X 101 1000; px X 102 2000; px X 103 3000; px X 106 4000; } >in
	run_err tf-alert --max-points 2 --move X=5/1h <in
	assert_success
	assert_equal "$(printf '%s\n' "$output" | grep -c alert)" 0
	[[ $stderr == *"line 3: rule move:X=5/1h: X: more than 2 points in the window (--max-points); dropping the oldest, so the window is shorter"* ]]
	run tf-alert -q --max-points 100 --move X=5/1h <in
	assert_equal "$(field value <<<"$output")" 106
}

@test "settings: flag over TF_* environment over config file" {
	mkdir -p config/tf
	echo 'TF_ALERT_PRIORITY=low' >config/tf/tf.conf
	prices X 90 110 >in
	run tf-alert -q --above X=100 <in
	assert_equal "$(field priority <<<"$output")" low
	TF_ALERT_PRIORITY=high run tf-alert -q --above X=100 <in
	assert_equal "$(field priority <<<"$output")" high
	TF_ALERT_PRIORITY=high run tf-alert -q --priority critical --above X=100 <in
	assert_equal "$(field priority <<<"$output")" critical
	TF_ALERT_PASSTHROUGH=1 run tf-alert -q --above X=100 <in
	assert_equal "${#lines[@]}" 3
	printf 'TF_ALERT_STATE=from-conf.json\nTF_ALERT_COOLDOWN=2m\n' >my.conf
	run tf-alert -q --config my.conf --above X=100 <in
	[ -f from-conf.json ]
	TF_ALERT_COOLDOWN=soon run_err tf-alert --above X=100 </dev/null
	assert_failure 2
	[[ $stderr == *"tf-alert: TF_ALERT_COOLDOWN: 'soon' is not a duration"* ]]
}

@test "end to end: tf-sim prices through tf-alert give valid alerts" {
	tf-sim -q -r 0 -n 20000 --seed 3 --start 2026-11-21T00:00:00Z >sim
	run_err tf-alert --move '*=1/1m' "$TF_ROOT/examples/rules.json" <sim
	assert_success
	printf '%s\n' "$output" >alerts
	python3 - <<-'EOF'
	import json
	sims = [json.loads(l) for l in open("sim")]
	syms = {e["symbol"] for e in sims if e["type"] == "price_update"}
	ts = {e["ts"] for e in sims}
	n = 0
	kinds = set()
	for l in open("alerts"):
	    a = json.loads(l)
	    n += 1
	    assert a["type"] == "alert" and a["source"] == "tf-alert", a
	    assert a["priority"] in ("low", "medium", "high", "critical"), a
	    assert a["title"] and a["message"], a
	    assert a["ts"] in ts, a
	    kinds.add(a["kind"])
	    if a["kind"] == "move":
	        assert a["symbol"] in syms, a
	        pct = {"move:*=1/1m": 1, "fast-move": 3, "eth-dump": 5}[a["rule"]]
	        assert abs(a["change_pct"]) >= pct, a
	        assert abs((a["value"] - a["from"]) / a["from"] * 100 - a["change_pct"]) < 0.01, a
	        assert (a["change_pct"] > 0) == (a["direction"] == "up"), a
	    elif a["kind"] == "cross":
	        assert (a["value"] >= a["level"]) == (a["direction"] == "above"), a
	assert n > 10, n
	assert kinds >= {"move", "cross"}, kinds
	EOF
}

@test "--help and --version" {
	run tf-alert --help
	assert_success
	assert_line --partial "usage: tf-alert [options] [RULES.json]"
	run tf-alert --version
	assert_success
	assert_output "tf-alert $(cat "$TF_ROOT/VERSION")"
	run_err tf-alert --bogus
	assert_failure 2
	[[ $stderr == *"unknown option --bogus"* ]]
}
