#!/usr/bin/env bats
# tf-replay: a recording played back byte for byte, paced, selected, looped
# and followed; its listing, its errors and its signals.

load helper

# The fixtures' first second: 2025-11-21T09:30:00Z.
BASE=1763717400

# mkrec FILE: a recording with the rows "SESSION<TAB>SECONDS<TAB>LINE" read
# from stdin, each arriving SECONDS after BASE. tf-record makes the file (so
# the schema is its own); the rows go in with sqlite3, at chosen times.
mkrec() {
	tf-record -n -q -d "$1" </dev/null
	sqlite3 "$1" "DELETE FROM events; DELETE FROM sessions;"
	python3 -c '
import json, sqlite3, sys
topics = {"price_update": "market_data", "trade_executed": "trading",
          "alert": "alerts", "heartbeat": "system"}
base = int(sys.argv[2]) * 10**9
db = sqlite3.connect(sys.argv[1])
ids = {}
for row in sys.stdin.read().split("\n"):
    if not row:
        continue
    name, sec, line = row.split("\t", 2)
    if name not in ids:
        ids[name] = db.execute("INSERT INTO sessions(name, start_ns, end_ns)"
                               " VALUES(?, ?, ?)", (name, base, base)).lastrowid
    try:
        ev = json.loads(line)
    except ValueError:
        ev = None
    ev = ev if isinstance(ev, dict) else {}
    f = lambda k: ev[k] if isinstance(ev.get(k), str) else None
    topic = f("topic") or (topics.get(f("type"), "other") if f("type") else None)
    db.execute("INSERT INTO events(session, ts_ns, type, topic, symbol, line)"
               " VALUES(?, ?, ?, ?, ?, ?)", (ids[name],
               base + round(float(sec) * 1e9), f("type"), topic, f("symbol"), line))
db.commit()
' "$1" "$BASE"
}

# A recording of two sessions, a and b, with a gap of 8 s between them.
std_rec() {
	mkrec "$BATS_TEST_TMPDIR/r.db" <<-'EOF'
	a	0	{"type":"price_update","symbol":"BTC","price":1}
	a	1	{"type":"trade_executed","symbol":"ETH","side":"buy"}
	a	2	{"type":"price_update","symbol":"ETH","price":2}
	b	10	{"type":"alert","topic":"custom","priority":"high"}
	b	11	{"type":"heartbeat"}
	EOF
	R=$BATS_TEST_TMPDIR/r.db
}

# The lines of std_rec, by number (1-5).
line() {
	sed -n "${1}p" <<-'EOF'
	{"type":"price_update","symbol":"BTC","price":1}
	{"type":"trade_executed","symbol":"ETH","side":"buy"}
	{"type":"price_update","symbol":"ETH","price":2}
	{"type":"alert","topic":"custom","priority":"high"}
	{"type":"heartbeat"}
	EOF
}

# lines N...: the std_rec lines N..., one per line, for assert_output.
lines() {
	local n
	for n in "$@"; do line "$n"; done
}

# A recording with hour-long gaps: three events, at 0, 1 h and 2 h.
gap_rec() {
	mkrec "$BATS_TEST_TMPDIR/gap.db" <<-'EOF'
	s	0	{"n":1}
	s	3600	{"n":2}
	s	7200	{"n":3}
	EOF
	G=$BATS_TEST_TMPDIR/gap.db
}

# at_least T0 SECONDS: true when SECONDS have passed since $EPOCHREALTIME T0.
at_least() {
	awk -v a="$1" -v b="$EPOCHREALTIME" -v s="$2" 'BEGIN { exit !(b - a >= s) }'
}

# bg CMD...: runs CMD in the background (stdout, stderr to out, err), its
# pid in $PID; teardown kills what is left.
bg() {
	"$@" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	PID=$!
	echo "$PID" >>"$BATS_TEST_TMPDIR/pids"
}

# lines_in FILE N: true when FILE has at least N lines.
lines_in() {
	[ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]
}

gone() {
	! kill -0 "$1" 2>/dev/null
}

# opened PID FILE: true once process PID has FILE open: tf-replay opens the
# recording after parsing its options and setting up its signals.
opened() {
	ls -l "/proc/$1/fd" 2>/dev/null | grep -qF -- "$2"
}

teardown() {
	local p
	[ -f "$BATS_TEST_TMPDIR/pids" ] || return 0
	while read -r p; do
		kill "$p" 2>/dev/null || true
	done <"$BATS_TEST_TMPDIR/pids"
}

@test "--help lists every option; --version prints the version" {
	run tf-replay --help
	assert_success
	assert_output --partial "usage: tf-replay [options] FILE"
	for o in --speed --from --to --session --type --topic --symbol \
		--filter --max-gap --loop --follow --list --json --progress; do
		assert_output --partial -- "$o"
	done
	run tf-replay --version
	assert_success
	assert_output "tf-replay $(cat "$TF_ROOT/VERSION")"
}

@test "every long option is in --help, the man page and the three completions" {
	local opts o
	opts=$(tf-replay --help | grep -o -- '--[a-z][a-z-]*' | sort -u)
	[ "$(wc -l <<<"$opts")" -ge 20 ]
	for o in $opts; do
		grep -q -- "Fl -${o#--}\b" "$TF_ROOT/man/tf-replay.1" ||
			fail "$o missing from man/tf-replay.1"
		grep -q -- "$o\b" "$TF_ROOT/completions/bash/tf-replay" ||
			fail "$o missing from the bash completion"
		grep -q -- "$o\b" "$TF_ROOT/completions/zsh/_tf-replay" ||
			fail "$o missing from the zsh completion"
		grep -q -- "-l ${o#--}\b" "$TF_ROOT/completions/fish/tf-replay.fish" ||
			fail "$o missing from the fish completion"
	done
}

@test "the man page is mandoc -Tlint clean" {
	command -v mandoc >/dev/null || skip "no mandoc"
	run mandoc -Tlint -Wwarning "$TF_ROOT/man/tf-replay.1"
	assert_success
	assert_output ""
}

@test "plays every recorded line byte for byte, each followed by a newline" {
	local long
	long=$(printf '{"pad":"%0100000d"}' 0)
	{
		printf 's\t0\t%s\n' '{"u":"é – 日本 🚀","e":"\"q\" \\ \/ \b\f\n\r\t \u0000 \ud83d\ude80"}'
		printf 's\t0.001\t%s\n' '  {"spaced" : [1, 2.5e-3, true, null] }  '
		printf 's\t0.002\t%s\n' "$long"
		printf 's\t0.003\t%s\n' '{"tab":"a	b"}'
	} >"$BATS_TEST_TMPDIR/spec"
	mkrec "$BATS_TEST_TMPDIR/odd.db" <"$BATS_TEST_TMPDIR/spec"
	cut -f3- "$BATS_TEST_TMPDIR/spec" >"$BATS_TEST_TMPDIR/want"
	tf-replay --speed max "$BATS_TEST_TMPDIR/odd.db" >"$BATS_TEST_TMPDIR/got"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
}

@test "options may come after FILE, and -- ends them" {
	printf '%s\n' '{"type":"alert","n":1}' '{"type":"heartbeat","n":2}' |
		tf-record -q -n -d "$BATS_TEST_TMPDIR/r.db"
	run tf-replay "$BATS_TEST_TMPDIR/r.db" --speed max --type alert
	assert_success
	assert_output '{"type":"alert","n":1}'
	cp "$BATS_TEST_TMPDIR/r.db" "$BATS_TEST_TMPDIR/--odd.db"
	cd "$BATS_TEST_TMPDIR"
	run tf-replay --speed max -- --odd.db
	assert_success
	assert_line -n 1 '{"type":"heartbeat","n":2}'
}

@test "round trip: tf-record then tf-replay --speed max gives back exactly the good lines" {
	local d=$BATS_TEST_TMPDIR at_limit over
	at_limit=$(printf '{"p":"%04088d"}' 0)
	over=$(printf '{"p":"%04089d"}' 0)
	assert_equal "${#at_limit}" 4096
	assert_equal "${#over}" 4097
	{
		printf '%s\n' '{"type":"price_update","symbol":"BTC-USD","price":64000.5}'
		printf '%s\r\n' '{"crlf":"the \\r goes, the rest stays"}'
		printf '%s\n' 'not json'
		printf '%s\n' '{"u":"é – 日本 🚀","e":"\"q\" \\ \/ \b\f\n\r\t \u0000 \ud83d\ude80"}'
		printf '%s\n' '[1,2,3]'
		printf '%s\n' "$at_limit"
		printf '%s\n' "$over"
		printf '%s\r\n' "$at_limit"
		printf '\xff\xfe{"bad":"utf8"}\n'
		printf '%s\n' '{"bad": "\xc3\x28"}'
		printf '\n'
		printf '%s\n' '  {"spaced" : [1, 2.5e-3, true, null] }  '
		printf '%s' '{"last":"no newline"}'
	} >"$d/in"
	{
		printf '%s\n' '{"type":"price_update","symbol":"BTC-USD","price":64000.5}'
		printf '%s\n' '{"crlf":"the \\r goes, the rest stays"}'
		printf '%s\n' '{"u":"é – 日本 🚀","e":"\"q\" \\ \/ \b\f\n\r\t \u0000 \ud83d\ude80"}'
		printf '%s\n' "$at_limit"
		printf '%s\n' "$at_limit"
		printf '%s\n' '  {"spaced" : [1, 2.5e-3, true, null] }  '
		printf '%s\n' '{"last":"no newline"}'
	} >"$d/want"
	tf-record -n -q --max-line 4096 -d "$d/rt.db" <"$d/in"
	tf-replay --speed max "$d/rt.db" >"$d/got"
	cmp "$d/want" "$d/got"
}

@test "the default speed is the original timing: a 1.5 s gap takes at least 1.5 s" {
	mkrec "$BATS_TEST_TMPDIR/s.db" <<-'EOF'
	s	0	{"n":1}
	s	1.5	{"n":2}
	EOF
	local t0=$EPOCHREALTIME
	run tf-replay "$BATS_TEST_TMPDIR/s.db"
	at_least "$t0" 1.45
	assert_success
	assert_output $'{"n":1}\n{"n":2}'
}

@test "--speed 2 halves every wait; SIGTERM during a wait ends it by SIGTERM (143)" {
	gap_rec
	bg tf-replay -v --speed 2 "$G"
	wait_for grep -q waiting "$BATS_TEST_TMPDIR/err"
	run cat "$BATS_TEST_TMPDIR/err"
	assert_output --regexp 'tf-replay: event 2: waiting (29m59s|30m00s) '
	kill -TERM "$PID"
	wait_for gone "$PID"
	run wait "$PID"
	assert_failure 143
	run cat "$BATS_TEST_TMPDIR/out"
	assert_output '{"n":1}'

	bg tf-replay -v --speed 1 "$G"
	wait_for grep -q waiting "$BATS_TEST_TMPDIR/err"
	run cat "$BATS_TEST_TMPDIR/err"
	assert_output --regexp 'waiting (59m59s|1h00m00s) '
}

@test "--speed max, 0 and TF_REPLAY_SPEED=max play hours of gaps without waiting" {
	gap_rec
	run timeout 60 tf-replay --speed max "$G"
	assert_success
	assert_output $'{"n":1}\n{"n":2}\n{"n":3}'
	run timeout 60 tf-replay -s 0 "$G"
	assert_success
	assert_output $'{"n":1}\n{"n":2}\n{"n":3}'
	TF_REPLAY_SPEED=max run timeout 60 tf-replay "$G"
	assert_success
	assert_output $'{"n":1}\n{"n":2}\n{"n":3}'
	# A flag wins over the environment, which is then not even read.
	TF_REPLAY_SPEED=bogus run timeout 60 tf-replay --speed 1000000x "$G"
	assert_success
	assert_line --index 2 '{"n":3}'
}

@test "the config file can set the speed" {
	gap_rec
	mkdir -p "$XDG_CONFIG_HOME/tf"
	echo 'TF_REPLAY_SPEED=max' >"$XDG_CONFIG_HOME/tf/tf.conf"
	run timeout 60 tf-replay "$G"
	assert_success
	assert_line --index 2 '{"n":3}'
	echo 'TF_REPLAY_SPEED=fast' >"$XDG_CONFIG_HOME/tf/tf.conf"
	run_err tf-replay "$G"
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "tf-replay: $XDG_CONFIG_HOME/tf/tf.conf:1: TF_REPLAY_SPEED: 'fast' is not a number"
	TF_REPLAY_SPEED=fast run_err tf-replay "$G"
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "tf-replay: TF_REPLAY_SPEED: 'fast' is not a number"
}

@test "--max-gap caps hour-long gaps at the cap, and still waits the cap" {
	gap_rec
	local t0=$EPOCHREALTIME
	run timeout 60 tf-replay --speed 1 --max-gap 0.1 "$G"
	at_least "$t0" 0.2
	assert_success
	assert_output $'{"n":1}\n{"n":2}\n{"n":3}'
	TF_REPLAY_MAX_GAP=100ms run timeout 60 tf-replay "$G"
	assert_success
	assert_line --index 2 '{"n":3}'
}

@test "arrival times that go back (a clock set back) are played without waiting" {
	mkrec "$BATS_TEST_TMPDIR/back.db" <<-'EOF'
	s	0	{"n":1}
	s	0.5	{"n":2}
	s	-3599	{"n":3}
	s	-3598.5	{"n":4}
	EOF
	local t0=$EPOCHREALTIME
	run timeout 60 tf-replay "$BATS_TEST_TMPDIR/back.db"
	at_least "$t0" 0.95
	assert_success
	assert_output $'{"n":1}\n{"n":2}\n{"n":3}\n{"n":4}'
}

@test "--from and --to take RFC 3339 times and epoch seconds or milliseconds; --to is exclusive" {
	std_rec
	run tf-replay --speed max --from 2025-11-21T09:30:01Z --to 2025-11-21T09:30:10Z "$R"
	assert_success
	assert_output "$(lines 2 3)"
	run tf-replay --speed max --from '2025-11-21 10:30:10+01:00' "$R"
	assert_output "$(lines 4 5)"
	run tf-replay --speed max --from $((BASE + 2)) --to $((BASE + 11))000 "$R"
	assert_output "$(lines 3 4)"
	run_err tf-replay --speed max --to 2025-11-21 "$R"
	assert_success
	assert_output ""
	assert_equal "$stderr" "tf-replay: $R: no event matches; nothing played"
}

@test "--from and --to take +offsets from the first selected event" {
	std_rec
	run tf-replay --speed max --from +1s --to +10s "$R"
	assert_success
	assert_output "$(lines 2 3)"
	run tf-replay --speed max --from +1.5 "$R"
	assert_output "$(lines 3 4 5)"
	# The first event of session b is at 10 s: offsets count from it.
	run tf-replay --speed max --session b --to +500ms "$R"
	assert_output "$(lines 4)"
	# Offsets and absolute times mix.
	run tf-replay --speed max --from 2025-11-21T09:30:02Z --to +11s "$R"
	assert_output "$(lines 3 4)"
}

@test "--from now plays nothing old; --to before --from is a usage error" {
	std_rec
	run_err tf-replay --speed max --from now "$R"
	assert_success
	assert_output ""
	assert_equal "$stderr" "tf-replay: $R: no event matches; nothing played"
	run_err tf-replay --from +5s --to +1s "$R"
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "tf-replay: --to must be later than --from"
	assert_equal "${stderr_lines[1]}" "Try 'tf-replay --help'."
	run_err tf-replay --from 2025-11-21T10:00:00Z --to +1s "$R"
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "tf-replay: --to must be later than --from"
}

@test "--session chooses sessions by name, by id, by comma list or repeated" {
	std_rec
	run tf-replay --speed max --session b "$R"
	assert_success
	assert_output "$(lines 4 5)"
	run tf-replay --speed max --session 1 "$R"
	assert_output "$(lines 1 2 3)"
	run tf-replay --speed max --session a,b "$R"
	assert_output "$(lines 1 2 3 4 5)"
	run tf-replay --speed max --session 2 --session a "$R"
	assert_output "$(lines 1 2 3 4 5)"
}

@test "a session named like a number is found by name when no id matches" {
	mkrec "$BATS_TEST_TMPDIR/n.db" <<-'EOF'
	first	0	{"n":1}
	2025	1	{"n":2}
	first	2	{"n":3}
	EOF
	run tf-replay --speed max --session 2025 "$BATS_TEST_TMPDIR/n.db"
	assert_success
	assert_output '{"n":2}'
	# "first" names one session; both its events come.
	run tf-replay --speed max --session first "$BATS_TEST_TMPDIR/n.db"
	assert_output $'{"n":1}\n{"n":3}'
}

@test "an unknown session is an error that says how to see them" {
	std_rec
	run_err tf-replay --session nope,a "$R"
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "tf-replay: $R: no session 'nope' (tf-replay --list $R shows them)"
}

@test "--type, --topic and --symbol play exact matches only" {
	std_rec
	run tf-replay --speed max --type price_update "$R"
	assert_success
	assert_output "$(lines 1 3)"
	run tf-replay --speed max --topic custom "$R"
	assert_output "$(lines 4)"
	run tf-replay --speed max --topic market_data "$R"
	assert_output "$(lines 1 3)"
	run tf-replay --speed max --symbol ETH "$R"
	assert_output "$(lines 2 3)"
	run tf-replay --speed max --type price_update --symbol ETH "$R"
	assert_output "$(lines 3)"
	run_err tf-replay --speed max --symbol eth "$R"
	assert_success
	assert_output ""
	run_err tf-replay -q --speed max --symbol eth "$R"
	assert_equal "$stderr" ""
}

@test "--filter plays the events the jq program is true for" {
	std_rec
	run tf-replay --speed max --filter '.price > 1 or .priority == "high"' "$R"
	assert_success
	assert_output "$(lines 3 4)"
	run tf-replay --speed max --filter '.symbol | test("^E")?' "$R"
	assert_output "$(lines 2 3)"
}

@test "a --filter program that does not compile is a usage error with jq's message" {
	std_rec
	run_err tf-replay --filter '.price >' "$R"
	assert_failure 2
	assert_output ""
	assert_regex "${stderr_lines[0]}" '^tf-replay: --filter: invalid jq program: .*(syntax error|compile error)'
	assert_equal "${stderr_lines[-1]}" "Try 'tf-replay --help'."
	# The program is checked before the file is opened.
	run_err tf-replay --filter 'nosuchfunction(1)' "$BATS_TEST_TMPDIR/missing.db"
	assert_failure 2
}

@test "an event the filter fails on is reported with its id and skipped; --strict makes it fatal" {
	std_rec
	run_err tf-replay --speed max --filter '(.symbol | ascii_downcase) == "eth"' "$R"
	assert_success
	assert_output "$(lines 2 3)"
	assert_equal "${stderr_lines[0]}" "tf-replay: event 4: jq: explode input must be a string (skipped)"
	assert_equal "${stderr_lines[1]}" "tf-replay: event 5: jq: explode input must be a string (skipped)"
	assert_equal "${stderr_lines[2]}" "tf-replay: 2 events skipped"
	assert_equal "${#stderr_lines[@]}" 3
	run_err tf-replay -q --speed max --filter '(.symbol | ascii_downcase) == "eth"' "$R"
	assert_success
	assert_equal "$stderr" ""
	run_err tf-replay --strict --speed max --filter '(.symbol | ascii_downcase) == "eth"' "$R"
	assert_failure 65
	assert_output "$(lines 2 3)"
	assert_equal "$stderr" "tf-replay: event 4: jq: explode input must be a string"
}

@test "--max-line skips longer recorded lines with a warning; --strict makes it fatal" {
	std_rec
	run_err tf-replay --speed max --max-line 40 "$R"
	assert_success
	assert_output "$(lines 5)"
	assert_equal "${stderr_lines[0]}" "tf-replay: event 1: 48 bytes, over --max-line 40 (skipped)"
	assert_equal "${stderr_lines[-1]}" "tf-replay: 4 events skipped"
	TF_MAX_LINE=48 run_err tf-replay --speed max --strict "$R"
	assert_failure 65
	assert_output "$(lines 1)"
	assert_equal "$stderr" "tf-replay: event 2: 53 bytes, over --max-line 48"
}

@test "--loop 3 plays the selection three times, --loop=2 twice" {
	std_rec
	run tf-replay --speed max --loop 3 --session b "$R"
	assert_success
	assert_output "$(lines 4 5 4 5 4 5)"
	run tf-replay --speed max --loop=2 --type heartbeat "$R"
	assert_output "$(lines 5 5)"
	run_err tf-replay --loop=0 "$R"
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "tf-replay: --loop: 0 is out of range (1 to 1000000000)"
}

@test "--loop without N repeats until the reader goes away" {
	std_rec
	run bash -c 'tf-replay --speed max --loop --session a "$1" | head -n 7; echo "status ${PIPESTATUS[0]}"' _ "$R"
	assert_output "$(lines 1 2 3 1 2 3 1)
status 141"
	# A loop over nothing ends at once.
	run_err timeout 60 tf-replay --speed max --loop --type none "$R"
	assert_success
	assert_output ""
	assert_equal "$stderr" "tf-replay: $R: no event matches; nothing played"
}

@test "--loop paces every pass with the recording's timing" {
	mkrec "$BATS_TEST_TMPDIR/s.db" <<-'EOF'
	s	0	{"n":1}
	s	0.4	{"n":2}
	EOF
	local t0=$EPOCHREALTIME
	run tf-replay --loop 3 "$BATS_TEST_TMPDIR/s.db"
	at_least "$t0" 1.15
	assert_success
	assert_output $'{"n":1}\n{"n":2}\n{"n":1}\n{"n":2}\n{"n":1}\n{"n":2}'
}

@test "--follow plays what is appended to the recording and stops on SIGTERM" {
	std_rec
	bg tf-replay --follow --speed max --session b "$R"
	wait_for lines_in "$BATS_TEST_TMPDIR/out" 2
	sqlite3 "$R" "INSERT INTO events(session, ts_ns, type, line) VALUES
		(2, ${BASE}020000000000, 'x', '{\"n\":\"new\"}'),
		(1, ${BASE}020000000000, 'x', '{\"n\":\"not b\"}')"
	wait_for lines_in "$BATS_TEST_TMPDIR/out" 3
	kill -TERM "$PID"
	wait_for gone "$PID"
	run wait "$PID"
	assert_failure 143
	run cat "$BATS_TEST_TMPDIR/out"
	assert_output "$(lines 4 5)
{\"n\":\"new\"}"
}

@test "--follow --from now plays only events recorded from now on, live from tf-record" {
	local d=$BATS_TEST_TMPDIR
	std_rec
	mkfifo "$d/in"
	tf-record -n -q --batch-ms 10 -d "$R" <"$d/in" 3>&- &
	echo $! >>"$d/pids"
	exec 4>"$d/in"
	bg tf-replay --follow --from now --speed max "$R"
	wait_for opened "$PID" "$R"
	echo '{"live":1}' >&4
	wait_for lines_in "$d/out" 1
	echo '{"live":2}' >&4
	wait_for lines_in "$d/out" 2
	exec 4>&-
	kill -INT "$PID"
	wait_for gone "$PID"
	run wait "$PID"
	assert_failure 130
	run cat "$d/out"
	assert_output $'{"live":1}\n{"live":2}'
}

@test "--follow with --to ends once the clock is past --to" {
	std_rec
	run_err timeout 60 tf-replay --follow --speed max --to 2025-11-21T09:30:01.5Z "$R"
	assert_success
	assert_output "$(lines 1 2)"
}

@test "--follow waits for the first event before resolving offsets; SIGTERM stops the wait" {
	mkrec "$BATS_TEST_TMPDIR/e.db" </dev/null
	bg tf-replay --follow --speed max --from +1s "$BATS_TEST_TMPDIR/e.db"
	wait_for opened "$PID" e.db
	sleep 0.2
	kill -TERM "$PID"
	wait_for gone "$PID"
	run wait "$PID"
	assert_failure 143
	run cat "$BATS_TEST_TMPDIR/err"
	assert_output ""
}

@test "--list shows every session with its events, times, span and state" {
	std_rec
	sqlite3 "$R" "UPDATE sessions SET end_ns = NULL WHERE name = 'b';
		INSERT INTO sessions(name, start_ns) VALUES('empty one', 1)"
	run tf-replay --list "$R"
	assert_success
	assert_line --index 0 --regexp '^ +ID +NAME +EVENTS +FIRST +LAST +SPAN +STATE$'
	assert_line --index 1 --regexp '^ +1  a +3  2025-11-21T09:30:00\.000Z  2025-11-21T09:30:02\.000Z +2\.000s  ended$'
	assert_line --index 2 --regexp '^ +2  b +2  2025-11-21T09:30:10\.000Z  2025-11-21T09:30:11\.000Z +1\.000s  open$'
	assert_line --index 3 --regexp '^ +3  empty one +0  - +- +-  open$'
	assert_equal "${#lines[@]}" 4
	run tf-replay -l --session b "$R"
	assert_equal "${#lines[@]}" 2
	assert_line --index 1 --regexp '^ +2  b '
}

@test "--list --json writes one JSON object per session" {
	std_rec
	run tf-replay --list --json "$R"
	assert_success
	assert_equal "${#lines[@]}" 2
	assert_line --index 0 '{"id":1,"name":"a","events":3,"start_ns":1763717400000000000,"end_ns":1763717400000000000,"first_ns":1763717400000000000,"last_ns":1763717402000000000,"first":"2025-11-21T09:30:00.000Z","last":"2025-11-21T09:30:02.000Z","state":"ended"}'
	sqlite3 "$R" "INSERT INTO sessions(name, start_ns) VALUES('q\"uo\\te' || char(9), 1)"
	run bash -c 'tf-replay --list --json --session 3 "$1" | jq -c "[.name, .events, .end_ns, .first]"' _ "$R"
	assert_success
	assert_output '["q\"uo\\te\t",0,null,null]'
}

@test "--list takes only --session of the selections; --json needs --list" {
	std_rec
	run_err tf-replay --list --type alert "$R"
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "tf-replay: --list shows whole sessions; of the selections only --session applies"
	assert_equal "${stderr_lines[1]}" "Try 'tf-replay --help'."
	run_err tf-replay --json "$R"
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "tf-replay: --json goes with --list"
}

@test "--progress writes nothing when stderr is not a terminal" {
	std_rec
	run_err tf-replay --progress --speed max "$R"
	assert_success
	assert_output "$(lines 1 2 3 4 5)"
	assert_equal "$stderr" ""
	TF_REPLAY_PROGRESS=1 run_err tf-replay --speed max "$R"
	assert_equal "$stderr" ""
}

@test "--progress draws a bar on a terminal and clears it at the end" {
	command -v script >/dev/null || skip "no script(1)"
	std_rec
	run script -qec "tf-replay --progress --speed max $R >/dev/null" /dev/null
	assert_success
	assert_output --partial "[####################] 100% 5/5  2025-11-21T09:30:11.000Z"
	[[ $output == *$'\r\e[K' ]]
}

@test "--progress under TERM=dumb, or no TERM, writes no escape sequence: spaces clear the bar" {
	command -v script >/dev/null || skip "no script(1)"
	std_rec
	local t
	for t in TERM=dumb -uTERM; do
		run env "$t" script -qec "tf-replay --progress --speed max $R >/dev/null" /dev/null
		assert_success
		assert_output --partial "[####################] 100% 5/5  2025-11-21T09:30:11.000Z"
		[[ $output != *$'\e'* ]] || fail "env $t: an escape sequence"
		# The last line drawn, then as many spaces, then back.
		[[ $output =~ $'\r'(tf-replay: [^$'\r']*)$'\r'( +)$'\r'$ ]]
		[ "${#BASH_REMATCH[2]}" -ge "${#BASH_REMATCH[1]}" ]
	done
}

@test "a missing file, a text file and another program's SQLite file are errors" {
	local d=$BATS_TEST_TMPDIR
	run_err tf-replay "$d/nope.db"
	assert_failure 1
	assert_equal "$stderr" "tf-replay: $d/nope.db: no such file"
	echo '{"type":"heartbeat"}' >"$d/text.db"
	run_err tf-replay "$d/text.db"
	assert_failure 1
	assert_regex "$stderr" "^tf-replay: $d/text.db: (not a tf recording|file is not a database)"
	sqlite3 "$d/other.db" "CREATE TABLE events(x); INSERT INTO events VALUES(1)"
	run_err tf-replay "$d/other.db"
	assert_failure 1
	assert_equal "$stderr" "tf-replay: $d/other.db: not a tf recording"
	: >"$d/empty.db"
	run_err tf-replay "$d/empty.db"
	assert_failure 1
	assert_equal "$stderr" "tf-replay: $d/empty.db: not a tf recording"
}

@test "bad usage says what is wrong and how to get help, with status 2" {
	std_rec
	check() {
		run_err tf-replay "$@"
		assert_failure 2
		assert_output ""
		assert_equal "${stderr_lines[0]}" "tf-replay: $msg"
		assert_equal "${stderr_lines[1]}" "Try 'tf-replay --help'."
	}
	msg="missing FILE (a recording made by tf-record)" check
	msg="unexpected argument 'extra' (one FILE at a time)" check "$R" extra
	msg="unknown option --nope" check --nope "$R"
	msg="unknown option --jsn (did you mean --json?)" check --jsn --list "$R"
	msg="ambiguous option --ma: could be --max-line, --max-gap" check --ma 5 "$R"
	msg="option --list takes no value" check --list=yes "$R"
	msg="missing argument for option --speed" check --speed
	msg="--speed: 'fast' is not a number" check --speed fast "$R"
	msg="--speed: -1 is out of range (0 to 1e+09)" check --speed -1 "$R"
	msg="--from: 'yesterday' is not a time (RFC 3339 such as 2026-11-21T09:30:00Z, or epoch seconds or milliseconds)" \
		check --from yesterday "$R"
	msg="--to: '+5 min' is not an offset (e.g. +30, +1.5s, +250ms, +5m, +2h)" check --to '+5 min' "$R"
	msg="--max-gap: 'long' is not a duration (e.g. 30, 1.5s, 250ms, 5m, 2h)" check --max-gap long "$R"
	msg="--follow and --loop exclude each other" check --follow --loop "$R"
	msg="--session: no session given" check --session , "$R"
}

@test "when the reader goes away, tf-replay stops quietly, killed by SIGPIPE" {
	python3 -c '
for i in range(20000):
    print("s\t%f\t{\"n\":%d,\"pad\":\"%s\"}" % (i / 1000, i, "x" * 150))
' | mkrec "$BATS_TEST_TMPDIR/big.db"
	run --separate-stderr bash -c 'tf-replay --speed max "$1" | head -n 3; echo "status ${PIPESTATUS[0]}"' _ "$BATS_TEST_TMPDIR/big.db"
	assert_equal "${lines[0]:0:7}" '{"n":0,'
	assert_equal "${lines[3]}" "status 141"
	assert_equal "$stderr" ""
}

@test "a failed write to stdout is an error, with status 1" {
	[ -w /dev/full ] || skip "no /dev/full"
	std_rec
	run_err bash -c 'tf-replay --speed max "$1" >/dev/full' _ "$R"
	assert_failure 1
	assert_equal "$stderr" "tf-replay: stdout: No space left on device"
	run_err bash -c 'tf-replay --list "$1" >/dev/full' _ "$R"
	assert_failure 1
	assert_equal "$stderr" "tf-replay: stdout: No space left on device"
}

@test "SIGINT in the middle of a wait ends it promptly by SIGINT (130), lines already flushed" {
	gap_rec
	bg tf-replay "$G"
	# The first line is out before the hour's wait begins.
	wait_for lines_in "$BATS_TEST_TMPDIR/out" 1
	kill -INT "$PID"
	wait_for gone "$PID"
	run wait "$PID"
	assert_failure 130
	run cat "$BATS_TEST_TMPDIR/out"
	assert_output '{"n":1}'
	run cat "$BATS_TEST_TMPDIR/err"
	assert_output ""
}

@test "SIGINT during a --speed max replay stops it: it ends by SIGINT (130)" {
	python3 -c '
for i in range(20000):
    print("s\t%f\t{\"n\":%d}" % (i / 1000, i))
' | mkrec "$BATS_TEST_TMPDIR/big.db"
	mkfifo "$BATS_TEST_TMPDIR/pipe"
	# A reader that never reads: the replay blocks in write, and the
	# signal must still end it.
	sleep 60 <"$BATS_TEST_TMPDIR/pipe" 3>&- &
	echo $! >>"$BATS_TEST_TMPDIR/pids"
	tf-replay --speed max --loop "$BATS_TEST_TMPDIR/big.db" >"$BATS_TEST_TMPDIR/pipe" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	PID=$!
	echo "$PID" >>"$BATS_TEST_TMPDIR/pids"
	wait_for opened "$PID" big.db
	sleep 0.3
	kill -INT "$PID"
	wait_for gone "$PID"
	run wait "$PID"
	assert_failure 130
}

@test "Ctrl-C stops a shell loop of replays, as it stops a loop of cat" {
	local d=$BATS_TEST_TMPDIR
	gap_rec
	cp "$G" "$d/gap2.db"
	# Ctrl-C is SIGINT to the terminal's process group: the shell and
	# tf-replay both get it. bash goes on with the loop when the program
	# it waited for exits 0 (it took the signal as handled): the loop only
	# stops when tf-replay ends by SIGINT, as cat does.
	env --default-signal=INT setsid bash -c '
		for f in "$1" "$2"; do tf-replay "$f"; done
		echo "loop finished"' _ "$G" "$d/gap2.db" >"$d/out" 2>"$d/err" 3>&- &
	PID=$!
	echo "$PID" >>"$d/pids"
	# The first line is out: it waits for the next, an hour away.
	wait_for lines_in "$d/out" 1
	kill -INT -- "-$PID"
	wait_for gone "$PID"
	run wait "$PID"
	assert_failure 130
	run cat "$d/out"
	assert_output '{"n":1}'
}
