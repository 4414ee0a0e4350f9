#!/usr/bin/env bats
# tf-record: what a user relies on when recording a live stream.

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

q() {
	sqlite3 "$@"
}

# rows OP N: the recording r.db holds OP N events right now.
rows() {
	[ "$(sqlite3 r.db 'select count(*) from events' 2>/dev/null || echo -1)" "$1" "$2" ]
}

@test "records every good line and passes it on byte for byte" {
	printf '%s\n' '{"type":"price_update","symbol":"BTC-USD","price":1}' \
		'{"type":"alert","message":"caf\u00e9 ☕"}' >in
	run tf-record -d r.db <in
	assert_success
	diff <(printf '%s\n' "$output" | grep -v '^tf-record:') in
	run q r.db "select line from events order by id"
	assert_output "$(cat in)"
}

@test "-n records without writing to stdout" {
	echo '{"type":"heartbeat"}' | tf-record -q -n -d r.db >out
	[ ! -s out ]
	run q r.db "select count(*) from events"
	assert_output 1
}

@test "stores arrival time and the indexed fields" {
	before=$(date +%s%N)
	printf '%s\n' '{"type":"price_update","symbol":"ETH-USD"}' \
		'{"type":"trade_executed","topic":"mine","symbol":"SOL-USD"}' \
		'{"type":"something_else"}' '{"symbol":42}' |
		tf-record -q -n -d r.db
	after=$(date +%s%N)
	run q -separator ' ' r.db "select type, topic, symbol from events order by id"
	assert_line -n 0 'price_update market_data ETH-USD'
	assert_line -n 1 'trade_executed mine SOL-USD'
	assert_line -n 2 'something_else other '
	assert_line -n 3 ' other '
	run q r.db "select count(*) from events where ts_ns between $before and $after"
	assert_output 4
}

@test "bad lines are reported with number and reason, skipped, and the rest flows" {
	printf '%s\n' '{"a":1}' '{"a":' '[1,2]' '{"b":2}' 'not json' '{"c":3}' >in
	run_err tf-record -d r.db <in
	assert_success
	assert_output "$(printf '%s\n' '{"a":1}' '{"b":2}' '{"c":3}')"
	[[ $stderr == *"tf-record: line 2: invalid JSON"*"(skipped)"* ]]
	[[ $stderr == *"tf-record: line 3: not a JSON object (skipped)"* ]]
	[[ $stderr == *"tf-record: line 5: invalid JSON"* ]]
	[[ $stderr == *"recorded 3 lines"*"3 skipped"* ]]
	run q r.db "select count(*) from events"
	assert_output 3
}

@test "invalid UTF-8 is a bad line" {
	printf '{"a":"\xff"}\n{"ok":1}\n' >in
	run_err tf-record -n -d r.db <in
	assert_success
	[[ $stderr == *"line 1: invalid UTF-8"* ]]
	run q r.db "select line from events"
	assert_output '{"ok":1}'
}

@test "--strict makes the first bad line fatal with exit 65, keeping the good ones" {
	printf '%s\n' '{"a":1}' 'oops' '{"b":2}' >in
	run_err tf-record --strict -n -d r.db <in
	assert_equal "$status" 65
	[[ $stderr == *"line 2: invalid JSON"* ]]
	run q r.db "select line from events"
	assert_output '{"a":1}'
}

@test "a line over --max-line is an error for that line only" {
	long=$(printf '{"x":"%0100d"}' 0)
	printf '%s\n' '{"a":1}' "$long" '{"b":2}' >in
	run_err tf-record --max-line 64 -n -d r.db <in
	assert_success
	[[ $stderr == *"line 2: longer than --max-line (108 bytes) (skipped)"* ]]
	run q r.db "select line from events order by id"
	assert_output "$(printf '%s\n' '{"a":1}' '{"b":2}')"
}

@test "--max-line rejects nonsense" {
	run_err tf-record --max-line 12Q -d r.db </dev/null
	assert_failure 2
	[[ $stderr == *"--max-line: '12Q' is not a size"* ]]
	[[ $stderr == *"Try 'tf-record --help'"* ]]
}

@test "CRLF line endings are accepted and the CR is not recorded" {
	printf '{"a":1}\r\n{"b":2}\r\n' | tf-record -q -n -d r.db
	run q r.db "select count(*) from events where line like '%'||char(13)||'%'"
	assert_output 0
	run q r.db "select count(*) from events"
	assert_output 2
}

@test "a final line without newline is recorded" {
	printf '{"a":1}\n{"b":2}' | tf-record -q -n -d r.db
	run q r.db "select line from events order by id desc limit 1"
	assert_output '{"b":2}'
}

@test "each run is a session; --session names it; default name is the start time" {
	echo '{"a":1}' | tf-record -q -n -d r.db --session morning
	echo '{"a":2}' | tf-record -q -n -d r.db
	run q -separator ' ' r.db "select id, name, end_ns > start_ns from sessions order by id"
	assert_line -n 0 '1 morning 1'
	[[ ${lines[1]} =~ ^2\ 20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T.*Z\ 1$ ]]
	run q r.db "select session from events order by id"
	assert_output "$(printf '1\n2')"
}

@test "prints a one-line summary on stderr at EOF; -q silences it" {
	run_err tf-record -n -d r.db < <(printf '{"a":1}\n{"a":2}\n')
	assert_success
	[[ $stderr =~ recorded\ 2\ lines\ to\ r.db\ \(session\ 1\),\ 0\ skipped,\ spanning ]]
	run_err tf-record -q -n -d r.db < <(printf '{"a":1}\n')
	assert_equal "$stderr" ""
}

@test "a line reaches stdout while the input stays open and idle" {
	mkfifo in
	tf-record -d r.db <in >out 2>/dev/null &
	pid=$!
	exec 7>in
	echo '{"first":1}' >&7
	wait_for grep -q first out
	exec 7>&-
	wait "$pid"
}

@test "commits while input stays open, so the recording can be read while written" {
	mkfifo in
	tf-record -q -n --batch-ms 20 -d r.db <in &
	pid=$!
	exec 7>in
	for i in 1 2 3; do echo "{\"n\":$i}" >&7; done
	wait_for rows = 3
	echo '{"n":4}' >&7
	wait_for rows = 4
	exec 7>&-
	wait "$pid"
}

@test "--batch-rows commits by row count while input is busy" {
	mkfifo in
	tf-record -q -n --batch-rows 2 --batch-ms 3600000 -d r.db <in &
	pid=$!
	exec 7>in
	printf '{"n":1}\n{"n":2}\n{"n":3}\n' >&7
	wait_for rows -ge 2
	exec 7>&-
	wait "$pid"
	run q r.db "select count(*) from events"
	assert_output 3
}

@test "SIGTERM and SIGINT commit, summarise and exit 0" {
	for sig in TERM INT; do
		rm -f r.db* in
		mkfifo in
		tf-record -n --batch-ms 3600000 --batch-rows 1000000 -d r.db <in 2>err &
		pid=$!
		exec 7>in
		printf '{"n":1}\n{"n":2}\n' >&7
		sleep 0.2
		kill -s "$sig" "$pid"
		# It stops although its input is still open.
		wait_for eval '! kill -0 "$pid" 2>/dev/null'
		rc=0
		wait "$pid" || rc=$?
		assert_equal "$rc" 0
		exec 7>&-
		grep -q 'recorded 2 lines' err
		run q r.db "select count(*) from events"
		assert_output 2
	done
}

@test "after SIGKILL the file opens cleanly and holds everything committed" {
	mkfifo in
	tf-record -q -n --batch-ms 10 -d r.db <in &
	pid=$!
	exec 7>in
	for i in $(seq 1 500); do echo "{\"n\":$i}"; done >&7
	wait_for rows = 500
	kill -KILL "$pid"
	wait "$pid" || true
	exec 7>&-
	run q r.db "pragma integrity_check"
	assert_output ok
	run q r.db "select count(*), min(line), max(id) from events"
	assert_output '500|{"n":100}|500'
	# A killed session has no end; a new recorder appends cleanly.
	run q r.db "select end_ns is null from sessions"
	assert_output 1
	echo '{"n":501}' | tf-record -q -n -d r.db
	run q r.db "select count(*) from events"
	assert_output 501
}

@test "disk full: a clear error, exit 1, and what was committed is intact" {
	python3 -c 'import json
for i in range(20000): print(json.dumps({"type":"price_update","n":i,"pad":"x"*200}))' >in
	run_err bash -c 'ulimit -f 1024; exec tf-record -n --batch-rows 500 -d r.db <in'
	assert_failure 1
	[[ $stderr == *"tf-record: r.db: "* ]]
	[[ $stderr == *"every line before the last commit is kept"* ]]
	run q r.db "pragma integrity_check"
	assert_output ok
	run q r.db "select count(*) % 500, count(*) > 0, count(*) < 20000 from events"
	assert_output '0|1|1'
	# The rows kept are the first ones, in order.
	run q r.db "select count(*) = max(id) from events"
	assert_output 1
}

@test "a file that cannot be written is a clear error with exit 1" {
	run_err tf-record -d no/such/dir/r.db </dev/null
	assert_failure 1
	assert_equal "$stderr" "tf-record: no/such/dir/r.db: unable to open database file"
	chmod 444 . 2>/dev/null
	mkdir ro && echo '{"a":1}' | tf-record -q -n -d ro/r.db && chmod 444 ro/r.db ro
	if ! touch ro/r.db 2>/dev/null; then
		run_err tf-record -d ro/r.db < <(echo '{"a":2}')
		assert_failure 1
		[[ $stderr == *"ro/r.db: "*"readonly"* ]]
	fi
	chmod 755 . ro
}

@test "a file that is not a tf recording is refused" {
	sqlite3 other.db "create table t(x)"
	run_err tf-record -d other.db < <(echo '{"a":1}')
	assert_failure 1
	assert_equal "$stderr" "tf-record: other.db: not a tf recording"
	echo 'plain text' >text.db
	run_err tf-record -d text.db < <(echo '{"a":1}')
	assert_failure 1
	[[ $stderr == *"text.db"* ]]
}

@test "when the reader of stdout goes away it warns once and keeps recording" {
	python3 -c 'for i in range(50000): print("{\"n\":%d}" % i)' >in
	tf-record -d r.db <in 2>err | head -n 1 >first
	assert_equal "$(cat first)" '{"n":0}'
	[ "$(grep -c 'the reader went away; still recording' err)" -eq 1 ]
	run q r.db "select count(*) from events"
	assert_output 50000
}

@test "settings: flag over TF_* environment over config file" {
	mkdir -p config/tf
	echo 'TF_RECORD_SESSION = "from-file"' >config/tf/tf.conf
	echo '{"a":1}' | tf-record -q -n -d r.db
	echo '{"a":1}' | TF_RECORD_SESSION=from-env tf-record -q -n -d r.db
	echo '{"a":1}' | TF_RECORD_SESSION=from-env tf-record -q -n -d r.db --session from-flag
	echo '{"a":1}' | TF_RECORD_DB=env.db tf-record -q -n
	run q r.db "select name from sessions order by id"
	assert_output "$(printf 'from-file\nfrom-env\nfrom-flag')"
	[ -f env.db ]
}

@test "--config names the settings file; a missing or broken one is an error" {
	printf 'TF_RECORD_BATCH_ROWS=7\nTF_RECORD_SESSION=c\n' >my.conf
	echo '{"a":1}' | tf-record -q -n -d r.db --config my.conf
	run q r.db "select name from sessions"
	assert_output c
	run_err tf-record --config nope.conf </dev/null
	assert_failure 2
	[[ $stderr == *"nope.conf: No such file or directory"* ]]
	echo 'garbage' >bad.conf
	run_err tf-record --config bad.conf </dev/null
	assert_failure 2
	[[ $stderr == *"bad.conf:1: expected NAME=value"* ]]
	echo 'TF_RECORD_BATCH_ROWS=lots' >bad.conf
	run_err tf-record --config bad.conf </dev/null
	assert_failure 2
	[[ $stderr == *"TF_RECORD_BATCH_ROWS: --batch-rows: 'lots' is not a whole number"* ]]
	head -c 1100000 /dev/zero | tr '\0' '#' >big.conf
	run_err tf-record --config big.conf </dev/null
	assert_failure 2
	[[ $stderr == *"big.conf: unreadable or larger than 1 MiB"* ]]
}

@test "usage errors exit 2 with a hint" {
	run_err tf-record --bogus
	assert_failure 2
	[[ $stderr == *"tf-record: unknown or ambiguous option --bogus"* ]]
	[[ $stderr == *"Try 'tf-record --help'."* ]]
	run_err tf-record --batch-rows 0
	assert_failure 2
	[[ $stderr == *"--batch-rows: 0 is out of range"* ]]
	run_err tf-record extra.db
	assert_failure 2
	[[ $stderr == *"unexpected argument 'extra.db'"* ]]
	run_err tf-record --session
	assert_failure 2
	[[ $stderr == *"missing argument for option --session"* ]]
}

@test "--help and --version" {
	run tf-record --help
	assert_success
	assert_line --partial "usage: tf-record"
	run tf-record --version
	assert_success
	assert_output "tf-record $(cat "$TF_ROOT/VERSION")"
}

@test "--durable records the same lines" {
	printf '{"a":1}\n{"a":2}\n' | tf-record -q -n --durable -d r.db
	run q r.db "select count(*) from events"
	assert_output 2
	run q r.db "pragma journal_mode"
	assert_output wal
}
