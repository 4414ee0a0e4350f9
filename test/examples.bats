#!/usr/bin/env bats
# The scripts in examples/ run, as the README says they do: the demo (make
# run), the cron alert, the replay into the dashboard, the systemd units.

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	# Each script's temporary directory lands here, to be seen removed.
	export TMPDIR=$BATS_TEST_TMPDIR/tmp
	mkdir -p "$TMPDIR"
	PORT=$(free_port)
	URL=http://127.0.0.1:$PORT
	# tf-notify sends only where a test points it.
	unset TF_SLACK_WEBHOOK_URL TF_DISCORD_WEBHOOK_URL TF_WEBHOOK_URL \
		TF_TELEGRAM_BOT_TOKEN TF_TELEGRAM_CHAT_IDS TF_SMTP_URL \
		TF_TWILIO_ACCOUNT_SID
}

teardown() {
	# Whatever a failed test left running: its own process group (setsid).
	if [ -n "${PGID:-}" ]; then
		kill -KILL -- "-$PGID" 2>/dev/null || true
	fi
	local p
	for p in $(cat pids 2>/dev/null); do
		kill "$p" 2>/dev/null || true
	done
}

# start SCRIPT [ARG...]: runs examples/SCRIPT in a session of its own (as a
# terminal would: Ctrl-C is SIGINT to its process group, which a background
# job of this shell would otherwise ignore), stderr to "err". Sets $PID,
# which is also the process group $PGID.
start() {
	env --default-signal=INT setsid "$TF_ROOT/examples/$1" "${@:2}" \
		>out 2>err 3>&- &
	PID=$!
	PGID=$PID
}

# gone PID: the process has exited (a zombie not yet waited for counts).
gone() {
	local s
	s=$(ps -o stat= -p "$1") || return 0
	[[ $s == Z* ]]
}

# finish: waits (at most 10 s) for $PID to exit; sets $status to its exit
# status and checks that nothing of its process group is left.
finish() {
	wait_for gone "$PID" || fail "$1 did not stop: $(cat err)"
	status=0
	wait "$PID" || status=$?
	wait_for group_empty || fail "left running: $(ps -o pid=,args= -g "$PGID")"
	PGID=
}

group_empty() {
	! ps -e -o pgid=,stat= | awk -v g="$PGID" '$1 == g && $2 !~ /^Z/ { f = 1 } END { exit !f }'
}

get() {
	curl -sf --max-time 5 "$URL$1"
}

snapshot() {
	get /api/snapshot
}

# bot_is STATE: the dashboard's snapshot shows the bot in STATE.
bot_is() {
	[ "$(snapshot | jq -r .bot.state)" = "$1" ]
}

# symbols_are LIST: the dashboard's snapshot holds exactly the symbols of
# LIST (comma-separated, sorted). A test waits for every symbol it asserts:
# tf-sim's first price of each one arrives at its own time (seconds apart
# under a sanitizer on a busy machine).
symbols_are() {
	[ "$(snapshot | jq -r '.symbols | keys | join(",")')" = "$1" ]
}

listening() {
	grep -q "tf-serve: listening on $URL/" err
}

# accepting PORT: something listens on 127.0.0.1:PORT.
accepting() {
	(exec 9<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

@test "the demo (make run) prints the dashboard's URL, serves live data, and its buttons stop and start tf-sim" {
	B=$TF_BUILD DB=$PWD/demo.db PORT=$PORT RATE=50 DURATION=60s start demo.sh
	wait_for listening || fail "no tf-serve: $(cat err)"
	grep -q "open $URL/" err
	run curl -sf --max-time 5 -o /dev/null -w '%{content_type}' "$URL/"
	assert_success
	assert_output --regexp '^text/html'
	wait_for symbols_are BTC-USD,ETH-USD,SOL-USD ||
		fail "symbols: $(snapshot | jq -c '.symbols | keys')"
	wait_for bot_is running

	# The Stop button: tf-serve writes the control line into the FIFO,
	# tf-sim stops trading and says so, and the dashboard shows it.
	run curl -sf --max-time 5 -X POST "$URL/api/control/stop"
	assert_success
	assert_equal "$(jq -r .action <<<"$output")" stop
	wait_for bot_is stopped
	assert_equal "$(snapshot | jq -r '.bot.event.type')" bot_stopped
	run curl -sf --max-time 5 -X POST "$URL/api/control/start"
	assert_success
	wait_for bot_is running

	# Ctrl-C: SIGINT to the whole pipeline; everything stops cleanly.
	kill -INT -- "-$PGID"
	finish demo.sh
	assert_equal "$status" 0
	[[ $(cat err) == *"tf-record: recorded "* ]]
	[[ $(cat err) == *"tf-replay --list $PWD/demo.db"* ]]
	assert_equal "$(ls "$TMPDIR")" ""
	run sqlite3 demo.db "select type from events where type like 'bot_%' order by id"
	assert_output "$(printf '%s\n' bot_started bot_stopped bot_started)"
	[ "$(sqlite3 demo.db 'select count(*) from events')" -gt 10 ]
}

@test "the demo stops on its own after DURATION, and on a SIGTERM sent to the script alone" {
	B=$TF_BUILD DB=$PWD/demo.db PORT=$PORT RATE=50 DURATION=1s start demo.sh
	finish demo.sh
	assert_equal "$status" 0
	grep -q "open $URL/" err
	grep -q "tf-record: recorded " err
	[ "$(sqlite3 demo.db 'select count(*) from events')" -ge 40 ]
	assert_equal "$(ls "$TMPDIR")" ""

	B=$TF_BUILD DB=$PWD/demo.db PORT=$PORT RATE=50 start demo.sh
	wait_for listening
	kill -TERM "$PID"
	finish demo.sh
	assert_equal "$status" 0
	assert_equal "$(sqlite3 demo.db 'select count(*) from sessions')" 2
	assert_equal "$(ls "$TMPDIR")" ""
}

@test "the demo fails, leaving nothing running, when its port is taken" {
	python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen()
time.sleep(60)' "$PORT" 3>&- &
	echo $! >>pids
	wait_for accepting "$PORT"
	B=$TF_BUILD DB=$PWD/demo.db PORT=$PORT RATE=50 DURATION=20s start demo.sh
	finish demo.sh
	assert_equal "$status" 1
	grep -q "Address already in use" err
	assert_equal "$(ls "$TMPDIR")" ""
}

fake_webhook() {
	local port
	port=$(free_port)
	/usr/bin/python3 "$TF_ROOT/test/receivers/fake.py" webhook "$port" \
		"$BATS_TEST_TMPDIR/webhook.log" 3>&- &
	echo $! >>pids
	wait_for accepting "$port"
	touch webhook.log
	export TF_WEBHOOK_URL=http://127.0.0.1:$port/hook/secret
}

@test "cron-alert.sh sends nothing when all is well and one alert per problem when not" {
	tf-sim -n 20 -r 0 | tf-record -n -q -d rec.db
	fake_webhook
	run_err env B="$TF_BUILD" DISK_MAX=100 "$TF_ROOT/examples/cron-alert.sh" rec.db
	assert_success
	assert_output ""
	assert_equal "$stderr" ""
	assert_equal "$(wc -l <webhook.log)" 0

	# The disk over its limit (any use is over 0%): one high alert.
	run_err env B="$TF_BUILD" DISK_MAX=0 "$TF_ROOT/examples/cron-alert.sh" rec.db
	assert_success
	assert_equal "$(jq -r .status <<<"$output")" sent
	wait_for test -s webhook.log
	run jq -r '.body | [.type, .priority, .source, .title] | @tsv' webhook.log
	assert_output --regexp $'^alert\thigh\tcron-alert\tDisk [0-9]+% full on '
	run jq -r '.body.message' webhook.log
	assert_output --partial "the recording rec.db is on a filesystem"
}

@test "cron-alert.sh alerts when nothing was recorded for STALE_AFTER, and on a missing or empty recording" {
	tf-sim -n 20 -r 0 | tf-record -n -q -d rec.db
	sleep 1.1
	export TF_WEBHOOK_URL=http://127.0.0.1:9/hook/secret
	run_err env B="$TF_BUILD" DISK_MAX=100 STALE_AFTER=1 \
		"$TF_ROOT/examples/cron-alert.sh" rec.db --dry-run
	assert_success
	run jq -r '.body | fromjson | [.priority, .title] | @tsv' <<<"$output"
	assert_output --regexp $'^critical\tNo events for [0-9]+s on '

	run_err env B="$TF_BUILD" DISK_MAX=100 "$TF_ROOT/examples/cron-alert.sh" gone.db --dry-run
	assert_success
	run jq -r '.body | fromjson | [.priority, .title, .message] | @tsv' <<<"$output"
	assert_output --regexp $'^critical\tRecording unreadable on .*\ttf-replay --list gone.db failed: .*no such file'

	tf-record -n -q -d empty.db </dev/null
	run_err env B="$TF_BUILD" DISK_MAX=100 "$TF_ROOT/examples/cron-alert.sh" empty.db --dry-run
	assert_success
	run jq -r '.body | fromjson | [.priority, .title, .message] | @tsv' <<<"$output"
	assert_output --regexp $'^critical\tNo events on .*\tthe recording empty.db holds no event'

	run_err "$TF_ROOT/examples/cron-alert.sh"
	assert_equal "$status" 2
	[[ $stderr == "usage: cron-alert.sh RECORDING"* ]]
}

@test "replay-dashboard.sh plays a recording into the dashboard, which stays up after the end" {
	tf-sim -n 400 -r 0 --seed 7 --start 2026-11-21T00:00:00Z | tf-record -n -q -d rec.db
	B=$TF_BUILD PORT=$PORT SPEED=max start replay-dashboard.sh rec.db
	wait_for listening || fail "no tf-serve: $(cat err)"
	grep -q "open $URL/" err
	# Every recorded event reaches the dashboard's state.
	all() { [ "$(snapshot | jq .seq)" = 400 ]; }
	wait_for all
	trades=$(sqlite3 rec.db "select count(*) from events where type = 'trade_executed'")
	assert_equal "$(snapshot | jq '.trades | length')" "$trades"
	assert_equal "$(snapshot | jq -r '.symbols["BTC-USD"].ts')" \
		"$(tf-replay --speed max --symbol BTC-USD --type price_update rec.db | tail -n 1 | jq .ts)"
	# The replay is over; the page is still served.
	sleep 0.3
	run get /
	assert_success
	kill -INT -- "-$PGID"
	finish replay-dashboard.sh
	assert_equal "$status" 0
	assert_equal "$(ls "$TMPDIR")" ""
}

@test "replay-dashboard.sh plays at 10x by default, and says so when the file is no recording" {
	# 80 events that arrived 200 ms apart: 16 s, played in 1.6 s at 10x.
	tf-sim -n 80 -r 0 | tf-record -n -q -d rec.db
	sqlite3 rec.db "update events set ts_ns = ts_ns + id * 200000000;
		update sessions set end_ns = (select max(ts_ns) from events)"
	t0=$(date +%s%N)
	B=$TF_BUILD PORT=$PORT start replay-dashboard.sh rec.db
	wait_for listening || fail "no tf-serve: $(cat err)"
	grep -q "rec.db at speed 10: open $URL/" err
	[ "$(snapshot | jq .seq)" -lt 80 ]
	all() { [ "$(snapshot | jq .seq)" = 80 ]; }
	wait_for all
	[ $((($(date +%s%N) - t0) / 1000000)) -lt 8000 ]
	kill -TERM "$PID"
	finish replay-dashboard.sh
	assert_equal "$status" 0

	echo 'not sqlite' >bad.db
	run_err env B="$TF_BUILD" "$TF_ROOT/examples/replay-dashboard.sh" bad.db
	assert_equal "$status" 1
	[[ $stderr == *"tf-replay: "*"bad.db"* ]]
	assert_equal "$(ls "$TMPDIR")" ""
}

@test "cluster.sh: the engine's events go through a 3-node NATS cluster to a WebSocket node and to the recorder" {
	command -v nats-server >/dev/null ||
		skip "nats-server is not installed (Debian: the nats-server package)"
	export NATS_PORTS="$(free_port) $(free_port) $(free_port)"
	export ROUTE_PORTS="$(free_port) $(free_port) $(free_port)"
	export WS_PORTS="$(free_port) $(free_port)"
	B=$TF_BUILD DIR=$PWD/c RATE=50 DURATION=4s start cluster.sh
	# The cluster's election, then the engine: up to 60 s on a busy machine.
	for ((i = 0; i < 600; i++)); do
		grep -q 'cluster: NATS on' err && break
		gone "$PID" && fail "cluster.sh ended: $(cat err)"
		sleep 0.1
	done
	grep -q "WebSocket nodes ws://127.0.0.1:${WS_PORTS%% *}/ and ws://127.0.0.1:${WS_PORTS##* }/" err
	run_err /usr/bin/python3 "$TF_ROOT/test/ws/client.py" --count 3 --timeout 20 \
		"ws://127.0.0.1:${WS_PORTS##* }/"
	assert_success
	[ "${#lines[@]}" -eq 3 ]
	[[ ${lines[0]} == '{"type":'* ]]
	for ((i = 0; i < 300; i++)); do
		gone "$PID" && break
		sleep 0.1
	done
	finish cluster.sh
	assert_equal "$status" 0
	# tf-sim's events at 50/s for 4 s, every one recorded.
	n=$(sqlite3 c/all.db 'select count(*) from events')
	[ "$n" -ge 150 ] || fail "recorded $n events: $(cat err)"
	[ -d c/nats-1 ] && [ -d c/nats-3 ]
	assert_equal "$(ls "$TMPDIR")" ""
}

@test "the systemd units pass systemd-analyze verify, and run the programs with options they know" {
	command -v systemd-analyze >/dev/null ||
		skip "systemd-analyze is not installed (Debian: the systemd package)"
	local u units=() prog opt
	mkdir units
	for u in "$TF_ROOT"/examples/systemd/*; do
		# Each unit says what it is for in a comment at its top.
		head -n 1 "$u" | grep -q "^# ${u##*/}: "
		sed "s|@BINDIR@|$TF_BUILD|g" "$u" >"units/${u##*/}"
		units+=("units/${u##*/}")
	done
	[ ${#units[@]} -ge 4 ]
	run systemd-analyze verify --man=no "${units[@]}"
	assert_success
	assert_output ""
	# systemd-analyze checks ExecStart's program, not its options (nor
	# those of the programs a "sh -c" runs, each up to a "|", ";" or ")").
	while read -r prog opt; do
		"$TF_BUILD/$prog" --help | grep -q -- "$opt\\b" ||
			fail "$prog has no $opt"
	done < <(grep -h '^ExecStart=' "$TF_ROOT"/examples/systemd/*.service |
		grep -oE '@BINDIR@/tf-[a-z]+[^|;)]*' |
		awk '{ sub("@BINDIR@/", "", $1); for (i = 2; i <= NF; i++) if ($i ~ /^--?[a-z]/) print $1, $i }')
	grep -q '^ExecStart=.*tf-record ' "$TF_ROOT/examples/systemd/tf-record.service"
	grep -q '^ExecStart=.*tf-serve ' "$TF_ROOT/examples/systemd/tf-serve.service"
}

@test "the tf-serve unit's pipeline fills the dashboard from the recording, then follows what tf-record appends" {
	local unit=$TF_ROOT/examples/systemd/tf-serve.service cmd
	cmd=$(sed -n "s|^ExecStart=/bin/sh -c '\(.*\)'\$|\1|p" "$unit")
	[ -n "$cmd" ]
	cmd=${cmd//@BINDIR@/$TF_BUILD}
	cmd=${cmd//\/var\/lib\/tf\/tf.db/$PWD/tf.db}
	cmd=${cmd//--port 8080/--port $PORT}
	# What was recorded before the dashboard started...
	tf-sim -n 60 -r 0 | tf-record -n -q -d tf.db
	# ...and a recorder still running, as tf-record.service is.
	mkfifo events
	tf-record -n -q -d tf.db <events 3>&- &
	echo $! >>pids
	exec 7>events
	env --default-signal=INT setsid sh -c "$cmd" >control 2>err 3>&- 7>&- &
	PID=$! PGID=$!
	wait_for listening || fail "no tf-serve: $(cat err)"
	wait_for symbols_are BTC-USD,ETH-USD,SOL-USD ||
		fail "symbols: $(snapshot | jq -c '.symbols | keys')"
	echo '{"type":"price_update","symbol":"TEST-USD","price":1.5}' >&7
	live() { [ "$(snapshot | jq -r '.symbols["TEST-USD"].price')" = 1.5 ]; }
	wait_for live
	# The buttons' lines go to the unit's stdout (the control FIFO).
	curl -sf --max-time 5 -X POST "$URL/api/control/stop" >/dev/null
	wait_for grep -q '"action":"stop"' control
	exec 7>&-
	kill -TERM -- "-$PGID"
	finish "tf-serve.service's pipeline"
	[ "$(jq -r .type control)" = control ]
}
