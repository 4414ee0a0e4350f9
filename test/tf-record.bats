#!/usr/bin/env bats
# tf-record: what a user relies on when recording a live stream.

load helper
load nats

setup() {
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	cd "$BATS_TEST_TMPDIR"
	stop_pids
	if mountpoint -q disk 2>/dev/null; then
		umount disk || umount -l disk
	fi
	# A directory outside the test's, for another user (see as_other).
	if [ -s other_dir ]; then
		chmod -R u+rwx "$(cat other_dir)"
		rm -rf "$(cat other_dir)"
	fi
}

q() {
	sqlite3 "$@"
}

# rows OP N: the recording ${db:-r.db} holds OP N events right now.
rows() {
	[ "$(sqlite3 "${db:-r.db}" 'select count(*) from events' 2>/dev/null || echo -1)" "$1" "$2" ]
}

# big N: N price updates of about 230 bytes.
big() {
	python3 -c 'import json, sys
for i in range(int(sys.argv[1])): print(json.dumps({"type":"price_update","n":i,"pad":"x"*200}))' "$1"
}

# summary_counts: from stderr file err, "RECORDED LOST" of the summary line.
summary_counts() {
	sed -n 's/.*recorded \([0-9]*\) lines\{0,1\} to .*; \([0-9]*\) lines\{0,1\} lost: .*/\1 \2/p' err
}

# fill_then_free FILL FREE REASON: records 50 lines into $db, runs FILL PID
# (writes now fail), sends 2000 lines, runs FREE PID, sends 50 more. Checks
# that tf-record went on through the failure, recorded again once writes
# worked, passed every line on, exited 1, and claimed exactly what the file
# holds, in its summary and in --metrics-file; REASON is SQLite's word for
# the failure.
fill_then_free() {
	local fill=$1 free=$2 reason=$3 pid cat rc=0 got lost
	mkfifo in o
	# stdout to a pipe: a file size limit must not hit the passthrough.
	cat o >out &
	cat=$!
	tf-record --batch-ms 20 -d "$db" --metrics-file m.prom <in >o 2>err &
	pid=$!
	echo "$cat $pid" >pids
	exec 7>in
	for i in $(seq 1 50); do echo "{\"before\":$i}"; done >&7
	wait_for rows = 50
	"$fill" "$pid"
	big 2000 >&7
	wait_for grep -q 'lines lost (input lines' err
	"$free" "$pid"
	for i in $(seq 1 50); do echo "{\"after\":$i}"; done >&7
	wait_for grep -q 'recording again from input line' err
	exec 7>&-
	wait "$pid" || rc=$?
	wait "$cat"
	assert_equal "$rc" 1
	# Each run of failed batches is one error naming the lines lost (the
	# next failures of the run show under -v only), and ends with a batch
	# that commits again. A batch small enough to fit may get through
	# between two that do not: runs may alternate.
	grep -Eq "^tf-record: $db: (insert|commit): $reason: [0-9]+ lines? lost \(input lines [0-9]+-[0-9]+\); still recording, the next batch tries again$" err
	run bash -c "grep -E 'still recording, the next batch tries again\$|: recording again from input line' err |
		sed -E 's/.*still recording.*/F/; s/.*recording again.*/R/' | tr -d '\n'"
	assert_output --regexp '^(FR)+$'
	# Every line was passed on, recorded or not.
	[ "$(wc -l <out)" -eq 2100 ]
	run q "$db" "pragma integrity_check"
	assert_output ok
	read -r got lost < <(summary_counts)
	grep -q "recorded $got lines to $db (session 1), 0 skipped, spanning .*; $lost lines lost: $reason$" err
	# The summary claims exactly what the file holds, and loses nothing
	# silently.
	run q "$db" "select count(*) from events"
	assert_output "$got"
	[ "$lost" -ge 1 ]
	assert_equal "$((got + lost))" 2100
	# What the recoveries say was lost adds up to the summary's count.
	run bash -c "sed -n 's/.*: recording again from input line [0-9]*; \([0-9]*\) lines\{0,1\} lost since input line [0-9]*\$/\1/p' err | awk '{ s += \$1 } END { print s + 0 }'"
	assert_output "$lost"
	run q "$db" "select count(*) from events where line like '{\"before\":%' or line like '{\"after\":%'"
	assert_output 100
	# --metrics-file tells the same.
	grep -Eq "^tf_record_committed_lines_total\{[^}]*\} $got\$" m.prom
	grep -Eq "^tf_record_lost_lines_total\{[^}]*\} $lost\$" m.prom
	grep -Eq "^tf_last_run_exit_status\{[^}]*\} 1\$" m.prom
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

@test "SIGTERM and SIGINT commit, summarise, then end by that signal (143, 130)" {
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
		ended_by "$sig" "$pid"
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

@test "disk full: the summary counts only committed lines, says how many were lost, exit 1" {
	big 20000 >in
	# A file size limit (RLIMIT_FSIZE) needs no root: writes past it fail
	# with EFBIG, and tf-record ignores SIGXFSZ to see that error. stdout
	# is a pipe, which the limit does not touch.
	run_err bash -c 'ulimit -f 1024; tf-record --batch-rows 500 -d r.db <in | wc -l
		exit "${PIPESTATUS[0]}"'
	assert_equal "$status" 1
	# Every line is still passed on.
	assert_output 20000
	[[ $stderr == *"tf-record: r.db: commit: disk I/O error: 500 lines lost (input lines "*"); still recording, the next batch tries again"* ]]
	[[ $stderr != *"stopped"* ]]
	printf '%s\n' "$stderr" >err
	read -r got lost < <(summary_counts)
	[[ $stderr == *"recorded $got lines to r.db (session 1), 0 skipped, spanning "*"; $lost lines lost: disk I/O error" ]]
	assert_equal "$((got + lost))" 20000
	[ "$got" -gt 0 ] && [ "$lost" -gt 0 ]
	run q r.db "pragma integrity_check"
	assert_output ok
	run q r.db "select count(*) from events"
	assert_output "$got"
}

@test "disk full under -q: the loss is still reported" {
	big 3000 >in
	run_err bash -c 'ulimit -f 200; exec tf-record -q -n -d r.db <in'
	assert_equal "$status" 1
	[[ $stderr == *"lines lost (input lines 1-"* ]]
	[[ $stderr == *"tf-record: recorded "*" lost: disk I/O error" ]]
}

@test "a full disk (a small tmpfs): recording goes on, resumes when space frees up, and claims only what is saved" {
	mkdir disk
	mount -t tmpfs -o size=1m tmpfs disk 2>/dev/null ||
		skip "mounting a tmpfs is not permitted here (needs root); the RLIMIT_FSIZE test covers the same path"
	fill() { dd if=/dev/zero of=disk/fill bs=4k 2>/dev/null || true; }
	free() { rm disk/fill; }
	db=disk/r.db fill_then_free fill free "database or disk is full"
}

@test "a file size limit (no root needed): recording goes on, resumes when the limit is raised, and claims only what is saved" {
	command -v prlimit >/dev/null || skip "prlimit (util-linux) is not installed"
	fill() { prlimit --pid "$1" --fsize=65536:; }
	free() { prlimit --pid "$1" --fsize=unlimited:; }
	db=r.db fill_then_free fill free "disk I/O error"
}

# as_other: sets $d, a directory, and as CMD..., which runs CMD as a user
# whom file modes bind: this one, or nobody when this one is root (whom
# they do not bind). nobody cannot enter the test's directory: $d is then
# one in /tmp. teardown removes it, whatever modes the test left.
as_other() {
	if [ "$(id -u)" != 0 ]; then
		d=$PWD/other
		mkdir "$d"
		echo "$d" >other_dir
		as() { "$@"; }
		return
	fi
	command -v setpriv >/dev/null ||
		skip "root passes file modes, and setpriv (util-linux) is not installed to run as nobody"
	d=$(mktemp -d /tmp/tf-record-test.XXXXXX)
	echo "$d" >other_dir
	chmod 755 "$d"
	as() {
		setpriv --reuid=65534 --regid=65534 --clear-groups \
			env XDG_CONFIG_HOME="$d" "$@"
	}
	as test -x "$TF_BUILD/tf-record" ||
		skip "nobody cannot run $TF_BUILD/tf-record"
}

@test "a recording that cannot be written is named with what it needs: exit 1" {
	echo '{"a":1}' >in
	run_err tf-record -d no/such/dir/r.db <in
	assert_failure 1
	assert_equal "$stderr" "tf-record: no/such/dir/r.db: cannot create it: no/such/dir: No such file or directory"
	touch file
	run_err tf-record -d file/r.db <in
	assert_failure 1
	assert_equal "$stderr" "tf-record: file/r.db: cannot create it: file is not a directory"
	mkdir dir
	run_err tf-record -d dir <in
	assert_failure 1
	assert_equal "$stderr" "tf-record: dir: is a directory; the recording is a file (such as dir/tf.db)"

	as_other
	mkdir "$d/ro" "$d/rw" "$d/wal"
	chmod 777 "$d/rw" "$d/wal"
	as tf-record -q -n -d "$d/rw/r.db" <in
	cp "$d/rw/r.db" "$d/ro/r.db"
	as tf-record -q -n -d "$d/wal/r.db" <in
	touch "$d/wal/r.db-wal" "$d/wal/r.db-shm"
	chmod 666 "$d/ro/r.db" "$d/wal"/r.db*
	chmod 444 "$d/rw/r.db"
	chmod 555 "$d/ro" "$d/wal"
	run_err as tf-record -d "$d/ro/new.db" <in
	assert_failure 1
	assert_equal "$stderr" "tf-record: $d/ro/new.db: cannot create it: the directory $d/ro is not writable (Permission denied)"
	run_err as tf-record -d "$d/ro/r.db" <in
	assert_failure 1
	assert_equal "$stderr" "tf-record: $d/ro/r.db: the directory $d/ro is not writable (Permission denied), and SQLite's WAL mode needs r.db-wal and r.db-shm there"
	run_err as tf-record -d "$d/rw/r.db" <in
	assert_failure 1
	assert_equal "$stderr" "tf-record: $d/rw/r.db: the file is not writable (Permission denied)"
	# With its -wal and -shm there and writable, a read-only directory
	# is no obstacle.
	run_err as tf-record -q -n -d "$d/wal/r.db" <in
	assert_success
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
	printf '# rows\nTF_RECORD_BATCH_ROWS=lots\n' >bad.conf
	run_err tf-record --config bad.conf </dev/null
	assert_failure 2
	[[ $stderr == "tf-record: bad.conf:2: TF_RECORD_BATCH_ROWS: 'lots' is not a whole number"* ]]
	head -c 1100000 /dev/zero | tr '\0' '#' >big.conf
	run_err tf-record --config big.conf </dev/null
	assert_failure 2
	[[ $stderr == *"big.conf: unreadable or larger than 1 MiB"* ]]
}

@test "usage errors exit 2 with a hint" {
	run_err tf-record --bogus
	assert_failure 2
	[[ $stderr == *"tf-record: unknown option --bogus"* ]]
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

@test "the config file: an unknown TF_* name is a warning with its file, line and the nearest name; other programs' names are left to them" {
	cat >tf.conf <<-'CONF'
	# one file for every program
	TF_RECORD_SESSION=s
	TF_RECORD_BACH_ROWS=5
	TF_RECROD_DB=x.db
	TF_NOTHING_LIKE_IT=1
	TF_SERVE_PORT=9
	TF_SLACK_WEBHOOK_URL=https://hooks.slack.invalid/x
	TF_NATS_URL=nats://127.0.0.1:4222
	PATH_OF_SOMETHING_ELSE=1
	CONF
	run_err tf-record -n --config tf.conf -d r.db <<<'{"a":1}'
	assert_success
	assert_equal "${stderr_lines[0]}" "tf-record: tf.conf:3: unknown TF_RECORD_BACH_ROWS (did you mean TF_RECORD_BATCH_ROWS?)"
	assert_equal "${stderr_lines[1]}" "tf-record: tf.conf:4: unknown TF_RECROD_DB (did you mean TF_RECORD_DB?)"
	assert_equal "${stderr_lines[2]}" "tf-record: tf.conf:5: unknown TF_NOTHING_LIKE_IT"
	[[ ${stderr_lines[3]} == "tf-record: recorded 1 line to r.db (session 1)"* ]]
	[ "${#stderr_lines[@]}" -eq 4 ]
	run q r.db "select name from sessions"
	assert_output s
	# -q: errors only.
	run_err tf-record -q -n --config tf.conf -d r.db </dev/null
	assert_success
	assert_equal "$stderr" ""
	# The other programs say nothing of tf-record's names.
	run_err tf-sim -n 1 --config tf.conf
	assert_success
	[[ $stderr != *TF_RECORD_SESSION* && $stderr == *"tf.conf:4: unknown TF_RECROD_DB"* ]]
}

@test "a bad value in the environment names the variable, not a flag nobody gave" {
	TF_RECORD_BATCH_ROWS=lots run_err tf-record -n -d r.db </dev/null
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "tf-record: TF_RECORD_BATCH_ROWS: 'lots' is not a whole number"
}

# issue 12: envelope input

# envelopes N [FIRST] [EPOCH]: tf.v1 event envelopes of seq FIRST..FIRST+N-1
# around {"type":"price_update","i":SEQ}, as tf-sub --envelope writes them.
envelopes() {
	local first=${2:-1}
	seq "$first" $((first + $1 - 1)) |
		sed "s/.*/{\"type\":\"event\",\"seq\":&,\"epoch\":\"${3:-e1}\",\"topic\":\"prices\",\"data\":{\"type\":\"price_update\",\"i\":&}}/"
}

@test "--input envelope: data is recorded byte for byte with its seq and epoch, the envelope passed on, and tf-replay plays the data" {
	{
		echo '{"type":"event","seq":3,"epoch":"e1","topic":"t","data":{ "type":"trade","symbol":"BTC","p":1.50 }}'
		echo '{"type":"event","seq":7,"epoch":"e1","topic":"t","data":{"k":"\u00e9"}}'
	} >in
	run_err tf-record --input envelope -d r.db <in
	assert_success
	assert_equal "$output" "$(cat in)"
	run q r.db "select seq || ' ' || epoch || ' ' || coalesce(type, '-') || ' ' || coalesce(symbol, '-') || ' ' || line from events order by id"
	assert_output '3 e1 trade BTC { "type":"trade","symbol":"BTC","p":1.50 }
7 e1 - - {"k":"\u00e9"}'
	run tf-replay -s max r.db
	assert_output '{ "type":"trade","symbol":"BTC","p":1.50 }
{"k":"\u00e9"}'
	[[ $stderr == *"recorded 2 lines to r.db (session 1), 0 skipped, 0 already recorded, 0 gaps (0 missed upstream), last seq 7 epoch e1,"* ]]
	run q r.db "pragma user_version"
	assert_output 2
}

@test "--last-seq prints 'SEQ EPOCH' of the newest row with one; none stored is exit 1 with nothing on stdout" {
	run_err tf-record --last-seq -d nothing.db
	assert_failure 1
	assert_equal "$output" ""
	assert_equal "$stderr" "tf-record: nothing.db: no such file: nothing recorded yet"
	[ ! -e nothing.db ]
	# A script's restart from a first start: seq 1.
	assert_equal "$(( $(tf-record --last-seq -d nothing.db 2>/dev/null | cut -d' ' -f1) + 1 ))" 1
	echo '{"type":"x"}' | tf-record -n -d plain.db 2>/dev/null
	run_err tf-record --last-seq -d plain.db
	assert_failure 1
	assert_equal "$output" ""
	assert_equal "$stderr" "tf-record: plain.db: no event with a seq recorded"
	envelopes 5 10 | tf-record -n --input envelope -d r.db 2>/dev/null
	envelopes 2 1 e2 | tf-record -n --input envelope -d r.db 2>/dev/null
	run_err tf-record --last-seq -d r.db
	assert_success
	assert_output "2 e2"
	echo 'not sqlite' >bad.db
	run_err tf-record --last-seq -d bad.db
	assert_failure 2
	assert_equal "$output" ""
	[[ $stderr == "tf-record: "*bad.db* ]]
}

@test "--input envelope: a restart with overlapping input records each event once, per epoch" {
	envelopes 100 | tf-record -n --input envelope --batch-rows 7 -d r.db 2>/dev/null
	# From seq 41 again, and on past 100.
	envelopes 100 41 >in
	run_err tf-record --input envelope -d r.db <in
	assert_success
	# Passed on all the same.
	assert_equal "$output" "$(cat in)"
	[[ $stderr == *"recorded 40 lines to r.db (session 2), 0 skipped, 60 already recorded,"*"last seq 140 epoch e1,"* ]]
	run q r.db "select count(*), count(distinct seq), min(seq), max(seq) from events"
	assert_output "140|140|1|140"
	run q r.db "select count(*) from events where line != '{\"type\":\"price_update\",\"i\":' || seq || '}'"
	assert_output 0
	# Within one input too; another epoch (a stream made again) starts
	# over at seq 1.
	{ envelopes 3 140; envelopes 2 1 e2; envelopes 3 1 e2; } |
		tf-record -n --input envelope -d r.db 2>err
	grep -q 'recorded 5 lines .* 3 already recorded,.*last seq 3 epoch e2,' err
	run q r.db "select epoch, count(*), max(seq) from events group by epoch order by epoch"
	assert_output "e1|142|142
e2|3|3"
	# --metrics-file counts the same; the last seq is read at start.
	{ envelopes 2 2 e2; echo '{"type":"gap","from":4,"to":6}'; } |
		tf-record -n --input envelope -d r.db --metrics-file m.prom 2>/dev/null
	grep -Eq '^tf_record_already_recorded_total\{[^}]*\} 2$' m.prom
	grep -Eq '^tf_record_gaps_total\{[^}]*\} 1$' m.prom
	grep -Eq '^tf_record_missed_events_total\{[^}]*\} 3$' m.prom
	grep -Eq '^tf_record_last_seq\{[^}]*\} 3$' m.prom
	envelopes 1 4 e2 | tf-record -n --input envelope -d r.db --metrics-file m.prom 2>/dev/null
	grep -Eq '^tf_record_last_seq\{[^}]*\} 4$' m.prom
	grep -Eq '^tf_record_already_recorded_total\{[^}]*\} 0$' m.prom
	# Without envelope input they are not written.
	tf-record -n -d r.db --metrics-file m.prom </dev/null 2>/dev/null
	! grep -q 'tf_record_last_seq' m.prom
}

@test "--input envelope: seq is stored in the row itself: after kill -9 the last seq is the last row committed, and a restart from it + 1 records each event once" {
	envelopes 20000 >all
	mkfifo feed
	tf-record -n --input envelope --batch-rows 100 -d r.db <feed 2>err &
	rec=$!
	echo $rec >>pids
	exec 7>feed
	local i=1
	while ! rows -ge 2000; do
		sed -n "${i},$((i + 99))p" all >&7
		i=$((i + 100))
		[ "$i" -le 20000 ]
	done
	kill -9 "$rec"
	wait "$rec" || true
	exec 7>&-
	run q r.db "select count(*), max(seq), count(seq) from events"
	local n=${output%%|*}
	assert_output "$n|$n|$n"
	[ "$n" -ge 2000 ] && [ "$n" -lt 20000 ]
	# A session killed has no end.
	run q r.db "select count(*) from sessions where end_ns is null"
	assert_output 1
	run tf-record --last-seq -d r.db
	assert_output "$n e1"
	last=${output%% *}
	tail -n +$((last + 1)) all | tf-record -n --input envelope -d r.db 2>/dev/null
	run q r.db "select count(*), count(distinct seq), max(seq) from events"
	assert_output "20000|20000|20000"
	run tf-replay -s max r.db
	assert_equal "$output" "$(sed 's/.*"data":\(.*\)}$/\1/' all)"
}

@test "--input envelope: bad envelopes are bad lines with a clear message; a gap line is said, counted and passed on, not recorded" {
	{
		envelopes 1
		echo '[1,2]'
		echo '"event"'
		echo '{"type":"event","epoch":"e1","data":{"a":1}}'
		echo '{"type":"event","seq":"2","epoch":"e1","data":{"a":1}}'
		echo '{"type":"event","seq":0,"epoch":"e1","data":{"a":1}}'
		echo '{"type":"event","seq":2.5,"epoch":"e1","data":{"a":1}}'
		echo '{"type":"event","seq":2,"data":{"a":1}}'
		echo '{"type":"event","seq":2,"epoch":"e1"}'
		echo '{"type":"event","seq":2,"epoch":"e1","data":"{\"a\":1}"}'
		echo '{"type":"event","seq":2,"epoch":"e1","data":[1]}'
		echo '{"type":"hello","seq":2,"epoch":"e1","data":{"a":1}}'
		echo '{"seq":2,"epoch":"e1","data":{"a":1}}'
		echo '{"type":"event","seq":2,"epoch":"e1","data":{"a":1}'
		echo '{"type":"gap","from":2,"to":4,"missed":3,"reason":"history"}'
		echo '{"type":"gap","from":4}'
		envelopes 1 5
	} >in
	run_err tf-record --input envelope -d r.db <in
	assert_success
	local want=(
		'line 2: envelope: not a JSON object (skipped)'
		'line 3: envelope: not a JSON object (skipped)'
		'line 4: envelope: no "seq" (skipped)'
		'line 5: envelope: "seq" is not an integer from 1 to 9223372036854775807 (skipped)'
		'line 6: envelope: "seq" is not an integer from 1 to 9223372036854775807 (skipped)'
		'line 7: envelope: "seq" is not an integer from 1 to 9223372036854775807 (skipped)'
		'line 8: envelope: no "epoch" string (skipped)'
		'line 9: envelope: no "data" (skipped)'
		'line 10: envelope: "data" is not a JSON object (skipped)'
		'line 11: envelope: "data" is not a JSON object (skipped)'
		'line 12: envelope: "type" is not "event" or "gap" (skipped)'
		'line 13: envelope: "type" is not "event" or "gap" (skipped)'
		'line 14: invalid JSON: unexpected end of line at byte 51 (skipped)'
		'line 15: gap: seq 2 to 4 (3 missed upstream), not in the recording'
		'line 16: envelope: a gap needs "from" and "to", seqs with from <= to (skipped)'
	)
	local i
	for i in "${!want[@]}"; do
		[[ ${stderr_lines[i]} == "tf-record: ${want[i]}" ]] ||
			fail "line $i: ${stderr_lines[i]}"
	done
	[ "${#stderr_lines[@]}" -eq 16 ]
	[[ $stderr == *"recorded 2 lines to r.db (session 1), 14 skipped, 0 already recorded, 1 gap (3 missed upstream), last seq 5 epoch e1,"* ]]
	# Good lines and the gap line passed on, byte for byte.
	assert_equal "$output" "$(sed -n '1p; 15p; 17p' in)"
	run q r.db "select seq, line from events order by id"
	assert_output '1|{"type":"price_update","i":1}
5|{"type":"price_update","i":5}'
	run_err tf-record --strict --input envelope -n -d s.db <in
	assert_failure 65
	assert_equal "${stderr_lines[0]}" 'tf-record: line 2: envelope: not a JSON object'
}

@test "a version 1 recording is upgraded in place: its rows kept (seq null), envelope rows added, tf-replay plays both" {
	q old.db "pragma application_id=$((0x74660001)); pragma user_version=1;
		create table sessions(id integer primary key, name text not null, start_ns integer not null, end_ns integer, host text, pid integer);
		create table events(id integer primary key, session integer not null, ts_ns integer not null, type text, topic text, symbol text, line text not null);
		insert into sessions values(1, 'old', 1, 2, 'h', 1);
		insert into events values(1, 1, 1000, 'x', 'other', null, '{\"type\":\"x\"}');"
	# Reading does not change it; nothing with a seq yet.
	run_err tf-record --last-seq -d old.db
	assert_failure 1
	run q old.db "pragma user_version"
	assert_output 1
	envelopes 2 | tf-record -n --input envelope -d old.db 2>/dev/null
	run q old.db "pragma user_version; select coalesce(seq, 'null'), line from events order by id"
	assert_output '2
null|{"type":"x"}
1|{"type":"price_update","i":1}
2|{"type":"price_update","i":2}'
	run q old.db "pragma integrity_check"
	assert_output ok
	run tf-replay -s max old.db
	assert_output '{"type":"x"}
{"type":"price_update","i":1}
{"type":"price_update","i":2}'
	run tf-record --last-seq -d old.db
	assert_output "2 e1"
}

@test "end to end with nats-server: tf-sub --envelope | tf-record killed with -9 mid-stream, restarted from --last-seq + 1, records every event once, in order" {
	command -v nats-server >/dev/null || skip "nats-server is not installed"
	nats_start s
	export TF_NATS_URL=$(nats_url s)
	tf-pub -n -q --create </dev/null
	# 20000 events, 200 every 20 ms: still coming when tf-record is killed.
	python3 -c '
import sys, time
for i in range(1, 20001):
    sys.stdout.write("{\"type\":\"price_update\",\"i\":%d}\n" % i)
    if i % 200 == 0:
        sys.stdout.flush()
        time.sleep(0.02)' | tf-pub -n -q 2>pub.err &
	pub=$!
	echo $pub >>pids
	mkfifo feed
	tf-sub --envelope --all >feed 2>sub1.err &
	sub=$!
	echo $sub >>pids
	tf-record -n --input envelope --batch-rows 100 -d all.db <feed 2>rec1.err &
	rec=$!
	echo $rec >>pids
	db=all.db wait_for rows -ge 3000
	kill -9 "$rec"
	wait "$rec" || true
	kill "$sub" 2>/dev/null || true
	wait "$sub" || true
	run tf-record --last-seq -d all.db
	assert_success
	last=${output%% *}
	[ "$last" -ge 3000 ] && [ "$last" -lt 20000 ]
	wait "$pub"
	timeout 60 tf-sub --envelope --until-end --from-seq $((last + 1)) 2>sub2.err |
		tf-record -n --input envelope -d all.db 2>rec2.err
	grep -q "recorded $((20000 - last)) lines to all.db (session 2), 0 skipped, 0 already recorded, 0 gaps" rec2.err
	run q all.db "select count(*), count(distinct seq), min(seq), max(seq), count(distinct epoch) from events"
	assert_output "20000|20000|1|20000|1"
	# In order, and each one the event its seq was published as.
	run q all.db "select count(*) from events where line != '{\"type\":\"price_update\",\"i\":' || seq || '}' or seq != id"
	assert_output 0
	run tf-record --last-seq -d all.db
	assert_output --regexp '^20000 [^ ]+$'
}

@test "--input envelope: a batch that cannot be written stops tf-record (exit 1); a restart from --last-seq + 1 records each event once" {
	python3 -c 'import json
for i in range(1, 20001): print(json.dumps({"type":"event","seq":i,"epoch":"e1","topic":"prices","data":{"type":"price_update","i":i,"pad":"x"*200}}, separators=(",", ":")))' >in
	# As in the disk full test above: a file size limit, stdout a pipe.
	run_err bash -c 'ulimit -f 1024; tf-record --input envelope --batch-rows 500 -d r.db <in | wc -l
		exit "${PIPESTATUS[0]}"'
	assert_equal "$status" 1
	[[ $stderr == *"tf-record: r.db: commit: disk I/O error: 500 lines lost (input lines "*"); stopping: restart from --last-seq + 1 to record them"* ]]
	[[ $stderr == *"tf-record: r.db: stopped; every line before the last commit is kept"* ]]
	[ "$(grep -c 'lines lost (input lines' <<<"$stderr")" -eq 1 ]
	run q r.db "select count(*), coalesce(max(seq), 0) from events"
	local n=${output%%|*}
	assert_output "$n|$n"
	[ "$n" -lt 20000 ]
	run tf-record --last-seq -d r.db
	assert_output "$n e1"
	tail -n +$((n + 1)) in | tf-record -n --input envelope -d r.db 2>/dev/null
	run q r.db "select count(*), count(distinct seq), max(seq) from events"
	assert_output "20000|20000|20000"
}
