#!/usr/bin/env bats
# tf-pub: what a user relies on when publishing a stream to NATS
# JetStream: every line stored once, byte for byte, in order, through a
# bounded window and server failures; clear errors; no secret shown.

load helper
load nats

setup() {
	cd "$BATS_TEST_TMPDIR"
	nats_start s
	export TF_NATS_URL=$(nats_url s)
}

teardown() {
	cd "$BATS_TEST_TMPDIR"
	exec 7>&- 2>/dev/null || true
	# A paused server would make stop_pids wait for nothing.
	[ -f s.pid ] && kill -CONT "$(cat s.pid)" 2>/dev/null || true
	stop_pids
}

# lines N [FIRST]: N events {"type":"price_update","i":I}.
lines() {
	seq "${2:-1}" $((${2:-1} + $1 - 1)) |
		sed 's/.*/{"type":"price_update","i":&}/'
}

# slowly N: N events as lines does, 500 every 20 ms.
slowly() {
	python3 -c '
import sys, time
for i in range(1, int(sys.argv[1]) + 1):
    sys.stdout.write("{\"type\":\"price_update\",\"i\":%d}\n" % i)
    if i % 500 == 0:
        sys.stdout.flush()
        time.sleep(0.02)' "$1"
}

# stored: every message of stream TF, as tf-sub writes them.
stored() {
	timeout 30 tf-sub --all --until-end -q "$@"
}

@test "every good line is stored byte for byte and passed on to stdout" {
	{
		printf '%s\n' '{"type":"price_update","symbol":"BTC-USD","price":65000.5}'
		printf '%s\n' '{"type":"alert","message":"ünïcödé ✓ 𝄞 中文 \u00e9"}'
		printf '%s\n' '{"s":"tab\tq\"uote\\back\u0000nul\u2028sep","n":-0.0e+10}'
		printf '%s\n' '  { "spaced" : [ 1 , 2 , { "b" : null } ] }  '
		printf '{"crlf":true}\r\n'
		python3 -c 'print("{\"type\":\"x\",\"blob\":\"" + "ab" * 150000 + "\"}")'
		printf '%s' '{"last":"no newline"}'
	} >corpus
	tr -d '\r' <corpus >want
	echo >>want
	run_err tf-pub --create <corpus
	assert_success
	cmp want <(printf '%s\n' "$output")
	stored >got
	cmp want got
	[[ $stderr == *"published 7 lines to stream TF (seq 1 to 7): 7 acknowledged"* ]]
}

@test "without --create a missing stream is an error; --create makes it with its limits" {
	run_err tf-pub <<<'{"a":1}'
	assert_failure 1
	[[ $stderr == *"stream TF not found on nats://127.0.0.1:$s_PORT (make it with --create, or name another with --stream)"* ]]

	lines 10 | tf-pub -n --create --stream T2 --max-msgs 5 --max-bytes 1M \
		--max-age 1h
	cfg=$(curl -s "http://127.0.0.1:$s_MON/jsz?streams=true&config=true" |
		jq -c '.account_details[0].stream_detail[] | select(.name == "T2") |
			.config | [.subjects, .max_msgs, .max_bytes, .max_age, .storage]')
	assert_equal "$cfg" '[["tf.>"],5,1048576,3600000000000,"file"]'
	run stored --stream T2
	assert_output "$(lines 5 6)"
}

@test "stream limits need --create; --replicas past one server is a clear error" {
	run_err tf-pub --max-age 1h </dev/null
	assert_failure 2
	[[ $stderr == *"need --create"* ]]
	run_err tf-pub --create --replicas 3 </dev/null
	assert_failure 1
	[[ $stderr == *"cannot create stream TF: "*"replicas > 1 not supported in non-clustered mode"* ]]
}

@test "--duplicate-window: --create sets how long the stream drops repeated ids; a shorter window than tf-pub needs is a warning" {
	dupwin() {
		curl -s "http://127.0.0.1:$s_MON/jsz?streams=true&config=true" |
			jq -r --arg n "$1" '.account_details[0].stream_detail[] |
				select(.name == $n) | .config.duplicate_window'
	}
	tf-pub -n --create </dev/null
	assert_equal "$(dupwin TF)" 120000000000
	tf-pub -n --create --stream T5 --subject-prefix t5 --duplicate-window 5m </dev/null
	assert_equal "$(dupwin T5)" 300000000000
	# Never past --max-age, which JetStream refuses.
	tf-pub -n --create --stream T6 --subject-prefix t6 --max-age 30s </dev/null
	assert_equal "$(dupwin T6)" 30000000000
	run_err tf-pub --create --max-age 30s --duplicate-window 1m </dev/null
	assert_failure 2
	[[ $stderr == *"--duplicate-window: at most --max-age"* ]]
	run_err tf-pub --duplicate-window 5m </dev/null
	assert_failure 2
	[[ $stderr == *"--duplicate-window shape a new stream: they need --create"* ]]

	# 10 s is less than --ack-timeout + --deadline (5 s + 30 s).
	tf-pub -n --create --stream T7 --subject-prefix t7 --duplicate-window 10s </dev/null
	run_err tf-pub -n --stream T7 --subject-prefix t7 <<<'{"a":1}'
	assert_success
	[[ $stderr == *"stream T7 drops repeated message ids for 10s only, less than a line may wait to be sent again (--ack-timeout + --deadline: 35s): such a line may be stored twice"* ]]
	run_err tf-pub -n --stream T7 --subject-prefix t7 --ack-timeout 1s --deadline 9s <<<'{"a":1}'
	assert_success
	[[ $stderr != *"drops repeated message ids"* ]]
}

@test "a line sent again later than the stream's duplicate window after its first send is reported" {
	tf-pub -n --create --duplicate-window 1s --max-age 1h </dev/null
	mkfifo in
	tf-pub -v -n --ack-timeout 100ms --deadline 1s <in 2>err &
	echo $! >>pids
	exec 7>in
	pub_ready err
	nats_kill s STOP
	lines 3 >&7
	wait_for grep -q 'line 1: first sent [0-9.]*s ago, longer than stream TF drops repeated message ids (1s): if the server stored it then, it is stored twice' err
	nats_kill s CONT
	exec 7>&-
}

@test "the stream must take the subjects of --subject-prefix" {
	tf-pub --create --subject-prefix other </dev/null
	run_err tf-pub <<<'{"a":1}'
	assert_failure 1
	[[ $stderr == *"stream TF does not take subjects tf.*"* ]]
	run_err tf-pub --subject-prefix other <<<'{"a":1}'
	assert_success
}

@test "bad lines are reported with their number and skipped; --strict stops at the first (65)" {
	printf '%s\n' '{"ok":1}' 'not json' '[1,2]' '{"ok":2}' '' '{"bad":' '{"ok":3}' >in
	run_err tf-pub --create <in
	assert_success
	assert_output "$(printf '%s\n' '{"ok":1}' '{"ok":2}' '{"ok":3}')"
	[[ $stderr == *"line 2: invalid JSON"*"(skipped)"* ]]
	[[ $stderr == *"line 3: not a JSON object (skipped)"* ]]
	[[ $stderr == *"line 6: invalid JSON"*"(skipped)"* ]]
	[[ $stderr == *"3 skipped"* ]]
	run_err tf-pub --strict <in
	assert_failure 65
	[[ $stderr == *"line 2: invalid JSON"* ]]
	# What came before the bad line is stored.
	run stored
	assert_output "$(printf '%s\n' '{"ok":1}' '{"ok":2}' '{"ok":3}' '{"ok":1}')"
}

@test "a line larger than the server takes is reported and not published (exit 1)" {
	{
		echo '{"n":1}'
		python3 -c 'print("{\"big\":\"" + "x" * 1100000 + "\"}")'
		echo '{"n":3}'
	} >in
	run_err tf-pub --create --max-line 2M -n <in
	assert_failure 1
	[[ $stderr == *"line 2: 1100010 bytes, more than the server takes (max_payload 1048576 with headers; not published)"* ]]
	run stored
	assert_output "$(printf '%s\n' '{"n":1}' '{"n":3}')"
}

@test "a wrong server or URL: a clear error, exit 1 (2 for a bad URL)" {
	port=$(free_port)
	run_err tf-pub -s "nats://127.0.0.1:$port" <<<'{"a":1}'
	assert_failure 1
	[[ $stderr == *"cannot connect to nats://127.0.0.1:$port: no server answers (is nats-server running there?)"* ]]
	run_err tf-pub -s http://127.0.0.1:80 </dev/null
	assert_failure 2
	[[ $stderr == *"--server: 'http': the scheme must be nats:// or tls://"* ]]
	TF_NATS_URL=nats://a:1,, run_err tf-pub </dev/null
	assert_failure 2
	[[ $stderr == *"tf-pub: TF_NATS_URL: an empty URL"* ]]
}

@test "credentials come from the environment or the config file, and are never shown" {
	nats_start auth --user bob --pass 's3cret-PW'
	url=$(nats_url auth)
	TF_NATS_USER=bob TF_NATS_PASSWORD=wrong-PW run_err tf-pub -vv -s "$url" --create <<<'{"a":1}'
	assert_failure 1
	[[ $stderr == *"cannot connect to $url: Authorization Violation"* ]]
	[[ $stderr != *wrong-PW* && $output != *wrong-PW* ]]
	run_err tf-pub -s "$url" --create <<<'{"a":1}'
	assert_failure 1
	[[ $stderr == *"Authorization Violation"* ]]

	TF_NATS_USER=bob TF_NATS_PASSWORD=s3cret-PW run_err tf-pub -vv -s "$url" --create <<<'{"a":1}'
	assert_success
	[[ $stderr != *s3cret-PW* ]]
	mkdir -p config/tf
	printf 'TF_NATS_USER=bob\nTF_NATS_PASSWORD="s3cret-PW"\n' >config/tf/tf.conf
	run_err tf-pub -vv -s "$url" <<<'{"a":2}'
	assert_success
	[[ $stderr != *s3cret-PW* ]]

	# In a URL: fine from the environment (and shown hidden), refused on
	# the command line, where ps shows it.
	rm config/tf/tf.conf
	TF_NATS_URL="nats://bob:s3cret-PW@127.0.0.1:$auth_PORT" run_err tf-pub -vv <<<'{"a":3}'
	assert_success
	[[ $stderr == *"on nats://***@127.0.0.1:$auth_PORT"* ]]
	[[ $stderr != *s3cret-PW* ]]
	run_err tf-pub -s "nats://bob:s3cret-PW@127.0.0.1:$auth_PORT" </dev/null
	assert_failure 2
	[[ $stderr == *"a URL with credentials on the command line is visible to every user"* ]]
	[[ $stderr != *s3cret-PW* ]]

	nats_start tok --auth 'tok-SECRET'
	TF_NATS_TOKEN=tok-SECRET run_err tf-pub -vv -s "$(nats_url tok)" --create <<<'{"a":1}'
	assert_success
	[[ $stderr != *tok-SECRET* ]]
	TF_NATS_TOKEN=nope-SECRET run_err tf-pub -vv -s "$(nats_url tok)" <<<'{"a":1}'
	assert_failure 1
	[[ $stderr == *"Authorization Violation"* && $stderr != *nope-SECRET* ]]
	TF_NATS_USER=bob run_err tf-pub </dev/null
	assert_failure 2
	[[ $stderr == *"TF_NATS_USER is set but not TF_NATS_PASSWORD"* ]]
}

@test "--max-pending: while the server does not acknowledge, no more lines are taken from stdin" {
	tf-pub --create </dev/null
	mkfifo in
	tf-pub -v --max-pending 10 <in >out 2>err &
	echo $! >>pids
	exec 7>in
	pub_ready err
	nats_kill s STOP
	lines 100 >&7
	sleep 1
	run wc -l <out
	assert_output 10
	nats_kill s CONT
	exec 7>&-
	wait_for eval '[ "$(wc -l <out)" -eq 100 ]'
	wait "$(tail -n 1 pids)"
	run stored
	assert_output "$(lines 100)"
}

@test "--max-pending-bytes bounds the window by size too" {
	tf-pub --create </dev/null
	mkfifo in
	tf-pub -v --max-pending-bytes 4K <in >out 2>err &
	echo $! >>pids
	exec 7>in
	pub_ready err
	nats_kill s STOP
	python3 -c 'import json
for i in range(50): print(json.dumps({"i": i, "pad": "x" * 980}))' >&7
	sleep 1
	# Lines of 1000 bytes: taken while less than 4096 are waiting.
	run wc -l <out
	assert_output 5
	nats_kill s CONT
	exec 7>&-
	wait "$(tail -n 1 pids)"
	[ "$(stored | wc -l)" -eq 50 ]
}

@test "at end of input it waits --deadline for acknowledgements, then counts the missing lines (exit 1)" {
	tf-pub --create </dev/null
	mkfifo in
	tf-pub -v --deadline 1s -n <in 2>err &
	pid=$!
	echo $pid >>pids
	exec 7>in
	pub_ready err
	nats_kill s STOP
	lines 3 >&7
	exec 7>&-
	rc=0
	wait "$pid" || rc=$?
	assert_equal "$rc" 1
	grep -q '3 lines not acknowledged by stream TF within --deadline (lines 1 to 3); they may or may not be stored' err
	grep -q 'published 3 lines to stream TF: 0 acknowledged, 3 not' err
	nats_kill s CONT
}

@test "lines not acknowledged within --ack-timeout are sent again, in order, and stored once" {
	tf-pub --create </dev/null
	mkfifo in
	tf-pub -v -n --ack-timeout 200ms <in 2>err &
	echo $! >>pids
	exec 7>in
	pub_ready err
	nats_kill s STOP
	lines 50 >&7
	wait_for grep -q 'no acknowledgement within --ack-timeout; sending 50 lines again from line 1' err
	sleep 1
	nats_kill s CONT
	exec 7>&-
	wait "$(tail -n 1 pids)"
	# The server got every line several times: the message ids (the
	# publisher id and the line number) let it keep one of each.
	run stored
	assert_output "$(lines 50)"
	[ "$(nats_msgs s TF)" -eq 50 ]
}

@test "message ids: the same lines with the same --id are stored once" {
	lines 20 >in
	tf-pub --create -n --id engine-1 <in
	run_err tf-pub -n --id engine-1 <in
	assert_success
	[ "$(nats_msgs s TF)" -eq 20 ]
	tf-pub -n --id engine-2 <in
	[ "$(nats_msgs s TF)" -eq 40 ]
	run_err tf-pub --id 'two words' </dev/null
	assert_failure 2
}

@test "kill -9 of nats-server mid-stream: after its restart every line is stored once, in order" {
	tf-pub --create </dev/null
	slowly 20000 | tf-pub -n 2>err &
	pub=$!
	echo $pub >>pids
	wait_for eval '[ "$(nats_msgs s TF)" -ge 3000 ]'
	nats_kill s
	sleep 1
	nats_start s
	wait "$pub"
	grep -q 'connection to .* lost; reconnecting' err
	run stored
	[ "${#lines[@]}" -eq 20000 ]
	cmp <(printf '%s\n' "${lines[@]}") <(lines 20000)
}

@test "SIGTERM and SIGINT: no more input is read, what was sent is waited for, then the end by that signal" {
	tf-pub --create </dev/null
	n=0
	for sig in TERM INT; do
		rm -f in
		mkfifo in
		tf-pub -n <in 2>err &
		pid=$!
		exec 7>in
		lines 5 >&7
		n=$((n + 5))
		wait_for eval '[ "$(nats_msgs s TF)" -ge $n ]'
		kill -s "$sig" "$pid"
		ended_by "$sig" "$pid"
		exec 7>&-
		grep -q 'published 5 lines to stream TF (seq [0-9]* to [0-9]*): 5 acknowledged, 0 not' err
	done
}

@test "usage: no operands, and --help names every option" {
	run_err tf-pub extra
	assert_failure 2
	[[ $stderr == *"unexpected argument 'extra'"* ]]
	run tf-pub --help
	assert_success
	for o in --server --stream --subject-prefix --creds --tls-ca --create \
		--max-age --max-bytes --max-msgs --replicas --max-pending \
		--max-pending-bytes --ack-timeout --deadline --id --no-output; do
		[[ $output == *"$o"* ]] || fail "$o missing"
	done
}
