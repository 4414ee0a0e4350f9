#!/usr/bin/env bats
# tf-sub: what a user relies on when reading a stream from NATS JetStream:
# the position asked for, each event once and in order through server
# failures, the same seq and epoch on every node, holes reported.

load helper
load nats

setup() {
	cd "$BATS_TEST_TMPDIR"
	if [[ $BATS_TEST_DESCRIPTION != *cluster* ]]; then
		nats_start s
		export TF_NATS_URL=$(nats_url s)
	fi
}

teardown() {
	cd "$BATS_TEST_TMPDIR"
	exec 7>&- 2>/dev/null || true
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

# following N FILE: tf-sub --all in the background (its id in $pid,
# stderr in err), once it has written to FILE the N events the stream
# holds.
following() {
	tf-sub --all >"$2" 2>err &
	pid=$!
	echo $pid >>pids
	wait_for eval "[ \"\$(wc -l <$2)\" -eq $1 ]"
}

pub() {
	tf-pub -n -q "$@"
}

sub() {
	timeout 30 tf-sub "$@"
}

# exactly N FILE [unordered]: FILE holds events i = 1..N, once each, in
# order unless told (plain lines or envelopes).
exactly() {
	python3 - "$@" <<'EOF'
import json, sys
want, got = int(sys.argv[1]), []
for l in open(sys.argv[2]):
    o = json.loads(l)
    if o.get("type") == "event":
        o = o["data"]
    elif o.get("type") == "gap":
        sys.exit("a gap: " + l)
    got.append(o["i"])
if len(sys.argv) > 3:
    got.sort()
if got != list(range(1, want + 1)):
    dup = len(got) - len(set(got))
    sys.exit("%d events, %d repeated, first wrong at %s" % (len(got), dup,
        next((k for k, (a, b) in enumerate(zip(got, range(1, want + 1))) if a != b), len(got))))
EOF
}

@test "starts where asked: --all, --new (the default), --last N, --from-seq N, --since TIME" {
	lines 10 | pub --create
	run_err sub --all --until-end
	assert_output "$(lines 10)"
	run_err sub --last 3 --until-end
	assert_output "$(lines 3 8)"
	run_err sub --last 50 --until-end
	assert_output "$(lines 10)"
	run_err sub --from-seq 9 --until-end
	assert_output "$(lines 2 9)"
	run_err sub --from-seq 11 --until-end
	assert_output ""

	sleep 1.1
	t=$(date +%s)
	sleep 1.1
	lines 5 11 | pub
	run_err sub --since "$t" --until-end
	assert_output "$(lines 5 11)"
	run_err sub --since "$(date -u -d "@$t" +%Y-%m-%dT%H:%M:%SZ)" --until-end
	assert_output "$(lines 5 11)"
	run_err sub --since -1h --until-end
	assert_output "$(lines 15)"

	# --new: only what is published after it starts.
	tf-sub >new 2>err &
	echo $! >>pids
	wait_for eval '[ "$(nats_clients s)" -ge 1 ]'
	sleep 0.3
	lines 3 100 | pub
	wait_for eval '[ "$(wc -l <new)" -eq 3 ]'
	run cat new
	assert_output "$(lines 3 100)"
}

@test "one start only; a bad --since is a usage error" {
	run_err tf-sub --all --last 5
	assert_failure 2
	[[ $stderr == *"--new, --all, --last, --from-seq and --since exclude each other"* ]]
	run_err tf-sub --since yesterday
	assert_failure 2
	run_err tf-sub --last 0
	assert_failure 2
	run_err tf-sub --topics a,,b
	assert_failure 2
	[[ $stderr == *"--topics: an empty topic"* ]]
}

@test "--envelope: seq is the stream sequence, epoch the stream's identity, topic as tf(7) has it" {
	printf '%s\n' '{"type":"price_update","p":1}' '{"type":"alert","m":"é"}' \
		'{"topic":"a.b c","x":[1,{"y":"\u00e9"}]}' '{"type":"mystery"}' |
		pub --create
	run_err sub --all --until-end --envelope
	assert_success
	e=$(jq -r .epoch <<<"${lines[0]}")
	[[ $e =~ ^[0-9a-f]{16}$ ]]
	assert_equal "${lines[0]}" "{\"type\":\"event\",\"seq\":1,\"epoch\":\"$e\",\"topic\":\"market_data\",\"data\":{\"type\":\"price_update\",\"p\":1}}"
	assert_equal "${lines[1]}" "{\"type\":\"event\",\"seq\":2,\"epoch\":\"$e\",\"topic\":\"alerts\",\"data\":{\"type\":\"alert\",\"m\":\"é\"}}"
	assert_equal "${lines[2]}" "{\"type\":\"event\",\"seq\":3,\"epoch\":\"$e\",\"topic\":\"a.b c\",\"data\":{\"topic\":\"a.b c\",\"x\":[1,{\"y\":\"\\u00e9\"}]}}"
	assert_equal "${lines[3]}" "{\"type\":\"event\",\"seq\":4,\"epoch\":\"$e\",\"topic\":\"other\",\"data\":{\"type\":\"mystery\"}}"

	# The epoch is the stream's: the same after a restart of the server,
	# another once the stream is deleted and made again.
	nats_kill s
	nats_start s
	run_err sub --last 1 --until-end --envelope
	[[ $output == *"\"epoch\":\"$e\""* ]]
	run nats_raw "$TF_NATS_URL" 'req $JS.API.STREAM.DELETE.TF {}'
	[[ $output == *'"success":true'* ]]
	lines 1 | pub --create
	run_err sub --all --until-end --envelope
	[[ $output == *'"seq":1,'* && $output != *"\"epoch\":\"$e\""* ]]
}

@test "--topics: one topic is filtered by the server, several by tf-sub; escaped topics match" {
	printf '%s\n' '{"type":"price_update","n":1}' '{"type":"alert","n":2}' \
		'{"topic":"a.b c*","n":3}' '{"type":"trade_executed","n":4}' \
		'{"type":"alert","n":5}' | pub --create
	run_err sub --all --until-end --topics alerts
	assert_output "$(printf '%s\n' '{"type":"alert","n":2}' '{"type":"alert","n":5}')"
	run_err sub --all --until-end --topics 'a.b c*,trading'
	assert_output "$(printf '%s\n' '{"topic":"a.b c*","n":3}' '{"type":"trade_executed","n":4}')"
	run_err sub --all --until-end --topics 'a.b c*'
	assert_output '{"topic":"a.b c*","n":3}'
	run_err sub --all --until-end --topics '*'
	[ "${#lines[@]}" -eq 5 ]
	run_err sub --all --until-end --topics nothing
	assert_output ""
	# The subjects on the server are PREFIX.TOPIC, escaped.
	run nats_raw "$TF_NATS_URL" 'req $JS.API.STREAM.INFO.TF {"subjects_filter":">"}'
	subjects=$(jq -c '.state.subjects | keys' <<<"$output")
	assert_equal "$subjects" '["tf.a%2Eb%20c%2A","tf.alerts","tf.market_data","tf.trading"]'
}

@test "--subject-prefix: another prefix, another stream" {
	lines 3 | pub --create --stream EU --subject-prefix prod.eu
	run_err sub --stream EU --subject-prefix prod.eu --all --until-end --topics market_data
	assert_output "$(lines 3)"
}

@test "a start below the stream's first sequence is a gap: on stderr, and as a tf.v1 gap line" {
	lines 10 | pub --create --max-msgs 5
	run_err sub --from-seq 2 --until-end --envelope
	assert_success
	assert_equal "${lines[0]}" '{"type":"gap","from":2,"to":5,"missed":4,"reason":"history"}'
	[[ ${lines[1]} == '{"type":"event","seq":6,'* ]]
	[ "${#lines[@]}" -eq 6 ]
	[[ $stderr == *"gap: stream TF seq 2 to 5 (4 messages) no longer in the stream"* ]]
	# Without --envelope, stderr only.
	run_err sub --from-seq 1 --until-end
	assert_output "$(lines 5 6)"
	[[ $stderr == *"gap: stream TF seq 1 to 5 (5 messages)"* ]]
	# With one topic the server filters, and a start below the stream is
	# still a gap.
	run_err sub --from-seq 1 --until-end --topics market_data
	assert_output "$(lines 5 6)"
	[[ $stderr == *"gap: stream TF seq 1 to 5"* ]]
}

@test "messages deleted inside the stream are a gap, each reported once" {
	lines 10 | pub --create
	run nats_raw "$TF_NATS_URL" 'req $JS.API.STREAM.MSG.DELETE.TF {"seq":3}' \
		'req $JS.API.STREAM.MSG.DELETE.TF {"seq":7}' \
		'req $JS.API.STREAM.MSG.DELETE.TF {"seq":8}'
	[ "$(grep -c '"success":true' <<<"$output")" -eq 3 ]
	run_err sub --all --until-end --envelope
	assert_success
	[ "$(grep -c '"type":"gap"' <<<"$output")" -eq 2 ]
	assert_equal "${lines[2]}" '{"type":"gap","from":3,"to":3,"missed":1,"reason":"history"}'
	assert_equal "${lines[6]}" '{"type":"gap","from":7,"to":8,"missed":2,"reason":"history"}'
	[[ ${lines[7]} == '{"type":"event","seq":9,'* ]]
	[[ $stderr == *"gap: stream TF seq 7 to 8 (2 messages) deleted or expired before it was read"* ]]
	[[ $stderr == *"wrote 7 events of stream TF (seq 1 to 10), 2 gaps (3 messages missed)"* ]]
}

@test "a message that is not a good line is skipped with its seq; --strict makes it fatal (65)" {
	lines 1 | pub --create
	nats_raw "$TF_NATS_URL" 'pub tf.x not json' 'pub tf.x [1,2]' \
		"pub tf.x {\"a\":
1}" 'pub tf.x {"ok":2}'
	wait_for eval '[ "$(nats_msgs s TF)" -eq 5 ]'
	run_err sub --all --until-end
	assert_success
	assert_output "$(printf '%s\n' '{"type":"price_update","i":1}' '{"ok":2}')"
	[[ $stderr == *"seq 2: invalid JSON"*"(skipped)"* ]]
	[[ $stderr == *"seq 3: not a JSON object (skipped)"* ]]
	[[ $stderr == *"seq 4: holds a line break (skipped)"* ]]
	run_err sub --all --until-end --max-line 10
	assert_output '{"ok":2}'
	[[ $stderr == *"seq 1: longer than --max-line"* ]]
	run_err sub --all --until-end --strict
	assert_failure 65
	assert_output '{"type":"price_update","i":1}'
}

@test "a stream given subjects outside the prefix while tf-sub reads it: only the prefix's events are written" {
	# Read whole (no filter subject on the server) while the stream's
	# subjects are all under the prefix; the stream can take others later.
	lines 2 | pub --create
	tf-sub --all >got 2>err &
	echo $! >>pids
	wait_for eval '[ "$(wc -l <got)" -eq 2 ]'
	run nats_raw "$TF_NATS_URL" 'req $JS.API.STREAM.INFO.TF {}'
	config=$(jq -c '.config | .subjects += ["other.>"]' <<<"$output")
	run nats_raw "$TF_NATS_URL" "req \$JS.API.STREAM.UPDATE.TF $config"
	assert_equal "$(jq -c .config.subjects <<<"$output")" '["tf.>","other.>"]'
	nats_raw "$TF_NATS_URL" 'pub other.x {"other":1}'
	lines 1 3 | pub
	wait_for eval '[ "$(wc -l <got)" -ge 3 ]'
	assert_equal "$(cat got)" "$(lines 3)"
	[ "$(nats_msgs s TF)" -eq 4 ]
}

@test "the consumer tf-sub made for the whole stream is gone as soon as tf-sub is, not seconds later" {
	lines 3 | pub --create
	following 3 got
	assert_equal "$(nats_consumers s TF)" 1
	kill -TERM "$pid"
	ended_by TERM "$pid"
	# The server would delete it after 5 s without a reader.
	assert_equal "$(nats_consumers s TF)" 0
	run_err sub --all --until-end
	assert_output "$(lines 3)"
	assert_equal "$(nats_consumers s TF)" 0
}

@test "a slow reader: memory stays bounded, and nothing is lost when nats.c drops what does not fit" {
	python3 -c 'import json
for i in range(1, 40001): print(json.dumps({"type": "price_update", "i": i, "pad": "x" * 1000}))' |
		pub --create
	mkfifo o
	# The reader opens the pipe at once, then takes nothing for 4 s
	# while 40 MB wait in the stream.
	python3 -c 'import sys, time
time.sleep(4)
sys.stdout.buffer.write(sys.stdin.buffer.read())' <o >out &
	reader=$!
	echo $reader >>pids
	tf-sub --all --until-end --max-buffer 2M -v >o 2>err &
	pid=$!
	echo $pid >>pids
	sleep 3
	# Running, and blocked on the pipe.
	grep -q 'wrote\|stream TF (epoch' err
	[ "$(wc -c <out)" -eq 0 ]
	if rss_means_something tf-sub; then
		hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
		[ "$hwm" -lt 30000 ] || fail "peak RSS $hwm kB"
	fi
	wait "$pid"
	wait "$reader"
	exactly 40000 out
	# The pitfall: nats.c dropped messages past --max-buffer; tf-sub saw
	# the consumer sequence jump and read again from where it began.
	grep -q 'nats.c dropped messages past --max-buffer: reading again from seq' err
}

@test "kill -9 of nats-server while following: every event once, in order" {
	tf-pub --create </dev/null
	tf-sub --envelope >got 2>err &
	echo $! >>pids
	wait_for eval '[ "$(nats_clients s)" -ge 1 ]'
	sleep 0.3
	slowly 20000 | pub 2>pub.err &
	pub=$!
	echo $pub >>pids
	wait_for eval '[ "$(wc -l <got)" -ge 3000 ]'
	nats_kill s
	sleep 1
	nats_start s
	wait "$pub"
	wait_for eval '[ "$(wc -l <got)" -ge 20000 ]'
	sleep 0.5
	exactly 20000 got
	grep -q 'disconnected from' err
	[ "$(jq -r .epoch got | sort -u | wc -l)" -eq 1 ]
}

@test "a 3-node cluster, --replicas 3: killing the stream leader loses and repeats nothing; every node gives the same seq and epoch" {
	nats_cluster n1 n2 n3
	export TF_NATS_URL=$(nats_url n1 n2 n3)
	timeout 60 tf-pub -n --create --replicas 3 </dev/null
	wait_for eval '[ -n "$(nats_leader n1 TF)" ]'
	leader=$(nats_leader n1 TF)
	others=()
	for n in n1 n2 n3; do
		[ "$n" = "$leader" ] || others+=("$n")
	done
	# Each program first tries a node that stays up.
	tf-sub -s "$(nats_url "${others[0]}" "$leader" "${others[1]}")" \
		--envelope >got 2>sub.err &
	echo $! >>pids
	wait_for eval '[ "$(nats_clients "${others[0]}")" -ge 1 ]'
	sleep 0.3
	slowly 20000 | timeout 120 tf-pub -n \
		-s "$(nats_url "${others[1]}" "${others[0]}" "$leader")" 2>pub.err &
	pub=$!
	echo $pub >>pids
	wait_for eval '[ "$(wc -l <got)" -ge 4000 ]'
	nats_kill "$leader"
	wait "$pub"
	for ((i = 0; i < 300; i++)); do
		[ "$(wc -l <got)" -ge 20000 ] && break
		sleep 0.1
	done
	sleep 0.5
	# Lines the dying leader never stored are sent again once a new
	# one is elected: after lines sent meanwhile (tf-pub(1), "the
	# stream stores lines in the order they were read, with one
	# exception"). Nothing is lost or repeated.
	exactly 20000 got unordered
	# Every node numbers the events the same way.
	nats_start "$leader"
	for n in n1 n2 n3; do
		run_err timeout 30 tf-sub -s "$(nats_url "$n")" --last 1 --until-end --envelope
		assert_equal "$output" "$(tail -n 1 got)"
	done
}

@test "the stream deleted while it follows, or one without its subjects: clear errors, exit 1" {
	lines 3 | pub --create
	following 3 out
	nats_raw "$TF_NATS_URL" 'req $JS.API.STREAM.DELETE.TF {}' >/dev/null
	wait_for eval '! kill -0 "$pid" 2>/dev/null'
	rc=0
	wait "$pid" || rc=$?
	assert_equal "$rc" 1
	grep -q "stream TF not found on nats://127.0.0.1:$s_PORT" err
	tf-pub --create --subject-prefix other </dev/null
	run_err sub --all
	assert_failure 1
	[[ $stderr == *"stream TF does not take subjects tf.* (see --subject-prefix)"* ]]
}

@test "missing stream, wrong server, bad credentials: clear errors, exit 1" {
	run_err sub --all
	assert_failure 1
	[[ $stderr == *"stream TF not found on nats://127.0.0.1:$s_PORT (tf-pub --create makes it; or name another with --stream)"* ]]
	port=$(free_port)
	run_err sub -s "127.0.0.1:$port"
	assert_failure 1
	[[ $stderr == *"cannot connect to 127.0.0.1:$port: no server answers"* ]]
	# A server without JetStream.
	nats-server -a 127.0.0.1 -p "$port" >nojs.log 2>&1 3>&- &
	echo $! >>pids
	wait_for eval "(exec 8<>/dev/tcp/127.0.0.1/$port) 2>/dev/null"
	run_err sub -s "127.0.0.1:$port"
	assert_failure 1
	[[ $stderr == *"JetStream does not answer on nats://127.0.0.1:$port (is the server started with -js?)"* ]]
	nats_start auth --auth 'tok-SECRET'
	TF_NATS_TOKEN=bad-SECRET run_err sub -vv -s "$(nats_url auth)"
	assert_failure 1
	[[ $stderr == *"Authorization Violation"* && $stderr != *SECRET* ]]
	lines 2 | TF_NATS_TOKEN=tok-SECRET pub -s "$(nats_url auth)" --create
	TF_NATS_TOKEN=tok-SECRET run_err sub -vv -s "$(nats_url auth)" --all --until-end
	assert_success
	assert_output "$(lines 2)"
	[[ $stderr != *SECRET* ]]
}

@test "TLS: --tls-ca verifies the server's certificate; one it does not vouch for is refused" {
	for n in good other; do
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
			-addext subjectAltName=IP:127.0.0.1 \
			-keyout $n.key -out $n.pem 2>/dev/null
	done
	nats_start t --tls --tlscert good.pem --tlskey good.key
	url=tls://127.0.0.1:$t_PORT
	lines 3 | pub -s "$url" --tls-ca good.pem --create
	run_err sub -s "$url" --tls-ca good.pem --all --until-end
	assert_success
	assert_output "$(lines 3)"
	# nats:// with --tls-ca is TLS too.
	run_err sub -s "nats://127.0.0.1:$t_PORT" --tls-ca good.pem --all --until-end
	assert_output "$(lines 3)"
	run_err sub -s "$url" --tls-ca other.pem --all --until-end
	assert_failure 1
	[[ $stderr == *"cannot connect to $url: "* ]]
	run_err sub -s "$url" --tls-ca missing.pem --all
	assert_failure 1
	[[ $stderr == *"--tls-ca missing.pem: No such file or directory"* ]]
	run_err sub -s "$url" --tls-ca good.pem --creds missing.creds --all
	assert_failure 1
	[[ $stderr == *"--creds missing.creds: No such file or directory"* ]]
}

@test "SIGTERM and SIGINT: a summary, then the end by that signal, even with a reader that takes nothing" {
	lines 3 | pub --create
	for sig in TERM INT; do
		tf-sub --all >out 2>err &
		pid=$!
		wait_for eval '[ "$(wc -l <out)" -eq 3 ]'
		kill -s "$sig" "$pid"
		ended_by "$sig" "$pid"
		grep -q 'wrote 3 events of stream TF (seq 1 to 3)' err
	done
	# stdout is a pipe nobody reads: the stop still comes within a
	# second or so.
	python3 -c 'import json
for i in range(20000): print(json.dumps({"i": i, "pad": "x" * 200}))' | pub
	mkfifo o
	exec 7<>o
	tf-sub --all >o 2>err &
	pid=$!
	sleep 1
	kill -TERM "$pid"
	ended_by TERM "$pid"
	grep -q 'wrote [0-9]* events of stream TF' err
	exec 7>&-
}

@test "usage: no operands, and --help names every option" {
	run_err tf-sub extra
	assert_failure 2
	[[ $stderr == *"unexpected argument 'extra'"* ]]
	run tf-sub --help
	assert_success
	for o in --server --stream --subject-prefix --creds --tls-ca --topics \
		--new --all --last --from-seq --since --until-end --envelope \
		--max-buffer; do
		[[ $output == *"$o"* ]] || fail "$o missing"
	done
}
