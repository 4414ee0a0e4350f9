#!/usr/bin/env bats
# --metrics-file: what an operator relies on when the programs without a
# port report to Prometheus through the node exporter's textfile
# collector: the file is there from the start, replaced whole while the
# program runs, right after a known input, valid for promtool, and says
# how the last run ended.

load helper
load nats

setup() {
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	cd "$BATS_TEST_TMPDIR"
	stop_pids
}

# metric FILE NAME [LABELS]: prints the value of sample NAME in FILE whose
# labels hold LABELS (a substring: 'rule="r1"'); fails when there is none.
metric() {
	# Through the environment: awk -v would undo the backslashes.
	N=$2 L=${3:-} awk '
		/^#/ { next }
		{
			n = ENVIRON["N"]
			l = ENVIRON["L"]
			v = $NF
			k = substr($0, 1, length($0) - length(v) - 1)
			if ((k == n || index(k, n "{") == 1) && index(k, l)) {
				print v
				found = 1
			}
		}
		END { exit !found }' "$1"
}

# is FILE NAME [LABELS] VALUE: the sample has that value.
is() {
	local want=${*: -1} got
	got=$(metric "${@:1:$#-1}") || fail "no sample ${*:2:$#-2} in $1"
	[ "$got" = "$want" ] || fail "${*:2:$#-2}: $got, not $want"
}

# valid FILE: promtool finds nothing to say about it.
valid() {
	run promtool check metrics <"$1"
	assert_success
	assert_output ''
}

# has_metric FILE NAME VALUE: for wait_for.
has_metric() {
	[ "$(metric "$1" "$2" 2>/dev/null)" = "$3" ]
}

# whole FILE: a whole exposition of tf-record as written while it runs.
whole() {
	local t
	t=$(cat "$1") || return 1
	[[ $t == "# HELP tf_build_info "* && $t == *'tf_record_db_bytes{'*' '[0-9]* ]]
}

@test "tf-record --metrics-file: the counts of a known input, promtool-clean, with how the run ended" {
	printf '%s\n' '{"type":"a"}' 'not json' '' '{"type":"b"}' '[1]' \
		'{"type":"c"}' >in
	run_err tf-record -n -d r.db --metrics-file r.prom <in
	assert_success
	valid r.prom
	is r.prom tf_build_info "version=\"$(cat "$TF_ROOT/VERSION")\"" 1
	is r.prom tf_input_lines_total 5
	is r.prom tf_bad_lines_total 2
	is r.prom tf_record_committed_lines_total 3
	is r.prom tf_record_lost_lines_total 0
	is r.prom tf_record_pending_lines 0
	is r.prom tf_record_commits_total 1
	is r.prom tf_record_failed_batches_total 0
	is r.prom tf_last_run_exit_status 0
	# Every sample names its program and file; times are plausible.
	[ "$(grep -vc '^#' r.prom)" -eq "$(grep -c '{program="tf-record",file="r.prom"' r.prom)" ]
	now=$(date +%s)
	start=$(metric r.prom tf_process_start_time_seconds)
	last=$(metric r.prom tf_record_last_commit_time_seconds)
	awk -v s="$start" -v l="$last" -v n="$now" \
		'BEGIN { exit !(s > n - 60 && s <= n + 1 && l >= s && l <= n + 1) }'
	awk -v d="$(metric r.prom tf_last_run_duration_seconds)" \
		'BEGIN { exit !(d > 0 && d < 60) }'
	[ "$(metric r.prom tf_record_db_bytes)" -gt 0 ]
	[ ! -e r.prom.tmp ]
}

@test "tf-record --metrics-file: there at the start, rewritten while running and idle, always whole, replaced by rename" {
	mkfifo in
	tf-record -n -d r.db --metrics-file r.prom --metrics-interval 100ms \
		<in 2>err &
	echo $! >pids
	exec 7>in
	wait_for whole r.prom
	is r.prom tf_input_lines_total 0
	# Not in the file while running: how the run ended.
	run metric r.prom tf_last_run_exit_status
	assert_failure
	echo '{"type":"a"}' >&7
	wait_for has_metric r.prom tf_record_committed_lines_total 1
	echo '{"type":"b"}' >&7
	echo '{"type":"c"}' >&7
	wait_for has_metric r.prom tf_record_committed_lines_total 3
	# A reader never finds a part of a file; each write is a new file
	# (inode) renamed over the old one.
	inodes=()
	for ((i = 0; i < 40; i++)); do
		whole r.prom || fail "a partial file: $(cat r.prom)"
		inodes+=("$(stat -c %i r.prom)")
		sleep 0.03
	done
	[ "$(printf '%s\n' "${inodes[@]}" | sort -u | wc -l)" -ge 2 ]
	valid r.prom
	exec 7>&-
	wait "$(cat pids)"
	is r.prom tf_last_run_exit_status 0
	is r.prom tf_input_lines_total 3
	[ ! -e r.prom.tmp ]
}

@test "tf-record --metrics-file: a stop signal shows as exit status 128+N" {
	mkfifo in
	tf-record -n -d r.db --metrics-file r.prom --metrics-interval 100ms \
		<in 2>err &
	pid=$!
	echo $pid >pids
	exec 7>in
	echo '{"type":"a"}' >&7
	wait_for has_metric r.prom tf_input_lines_total 1
	kill -TERM "$pid"
	wait_for eval "! kill -0 $pid 2>/dev/null"
	is r.prom tf_last_run_exit_status 143
	is r.prom tf_record_committed_lines_total 1
	valid r.prom
}

@test "tf-record --metrics-file: an unwritable path is an error at once (exit 2), before anything is recorded" {
	run_err tf-record -d r.db --metrics-file nodir/r.prom <<<'{"a":1}'
	assert_equal "$status" 2
	assert_equal "$stderr" "tf-record: --metrics-file: cannot create nodir/r.prom.tmp: No such file or directory"
	assert_output ''
	[ ! -e r.db ]
	mkdir d.prom
	run_err tf-record -d r.db --metrics-file d.prom <<<'{"a":1}'
	assert_equal "$status" 2
	assert_equal "$stderr" "tf-record: --metrics-file: cannot rename d.prom.tmp to d.prom: Is a directory"
	[ ! -e r.db ] && [ ! -e d.prom.tmp ]
	run_err tf-record -d r.db --metrics-file '' <<<'{"a":1}'
	assert_equal "$status" 2
	[[ $stderr == *"--metrics-file: empty file name"* ]]
	run_err tf-record -d r.db --metrics-file r.prom --metrics-interval 10ms <<<'{"a":1}'
	assert_equal "$status" 2
	[[ $stderr == *"--metrics-interval: '10ms' is not from 100ms to 1h"* ]]
	[ ! -e r.db ] && [ ! -e r.prom ]
}

@test "tf-record --metrics-file: a write that fails later is reported once; recording goes on, and the next write that works says so" {
	mkfifo in
	tf-record -n -d r.db --metrics-file r.prom --metrics-interval 100ms \
		<in 2>err &
	echo $! >pids
	exec 7>in
	wait_for whole r.prom
	# A directory in the way of the temporary file (even root cannot
	# open that for writing); not while a write has the file there.
	wait_for mkdir r.prom.tmp 2>/dev/null
	echo '{"type":"a"}' >&7
	wait_for grep -q 'still recording, trying again every 100ms' err
	sleep 0.3
	rmdir r.prom.tmp
	wait_for grep -q 'r.prom written again' err
	wait_for has_metric r.prom tf_record_committed_lines_total 1
	exec 7>&-
	wait "$(cat pids)"
	run grep -c 'cannot create r.prom.tmp: Is a directory' err
	assert_output 1
}

@test "tf-record: TF_RECORD_METRICS_FILE and the config file name the metrics file" {
	TF_RECORD_METRICS_FILE=env.prom run tf-record -n -d r.db <<<'{"a":1}'
	assert_success
	is env.prom tf_input_lines_total 1
	mkdir -p config/tf
	echo 'TF_RECORD_METRICS_FILE=conf.prom' >config/tf/tf.conf
	run tf-record -n -d r.db <<<'{"a":1}'
	assert_success
	is conf.prom tf_record_committed_lines_total 1
}

@test "tf-alert --metrics-file: alerts by rule and priority, every rule from the start, promtool-clean" {
	cat >rules.json <<'J'
[{"id":"btc-high","kind":"cross","symbol":"BTC","above":70000,"priority":"high"},
 {"id":"btc-low","kind":"cross","symbol":"BTC","below":60000,"priority":"critical"},
 {"id":"any \"odd\" \\ name","kind":"jq","when":".type == \"ping\"","priority":"low"}]
J
	printf '%s\n' '{"type":"price_update","symbol":"BTC","price":65000}' \
		'{"type":"price_update","symbol":"BTC","price":71000}' 'oops' \
		'{"type":"price_update","symbol":"BTC","price":65000}' \
		'{"type":"price_update","symbol":"BTC","price":72000}' \
		'{"type":"ping"}' >in
	run_err tf-alert --metrics-file a.prom rules.json <in
	assert_success
	assert_equal "$(grep -c '"type":"alert"' <<<"$output")" 3
	valid a.prom
	is a.prom tf_input_lines_total 6
	is a.prom tf_bad_lines_total 1
	is a.prom tf_alert_rules 3
	is a.prom tf_alert_alerts_total 'rule="btc-high",priority="high"' 2
	is a.prom tf_alert_alerts_total 'rule="btc-low",priority="critical"' 0
	is a.prom tf_alert_alerts_total 'rule="any \"odd\" \\ name",priority="low"' 1
	[ "$(grep -c '^tf_alert_alerts_total{' a.prom)" -eq 3 ]
	is a.prom tf_last_run_exit_status 0
}

@test "tf-alert --metrics-file: past 100 rules, alerts count as rule=\"other\" (a rule named other included)" {
	jq -nc '[range(102) | {id: "r\(.)", kind: "jq", when: "true",
		priority: "high"}]' >rules.json
	run tf-alert --metrics-file a.prom rules.json <<<'{"type":"x"}'
	assert_success
	valid a.prom
	[ "$(grep -c '^tf_alert_alerts_total{' a.prom)" -eq 101 ]
	is a.prom tf_alert_alerts_total 'rule="r99",priority="high"' 1
	is a.prom tf_alert_alerts_total 'rule="other",priority="high"' 2
	run metric a.prom tf_alert_alerts_total 'rule="r100"'
	assert_failure
	# A rule of that name takes the others' alerts: one series.
	jq -nc '[range(102) | {id: (if . == 3 then "other" else "r\(.)" end),
		kind: "jq", when: "true", priority: "high"}]' >rules.json
	run tf-alert --metrics-file a.prom rules.json <<<'{"type":"x"}'
	assert_success
	valid a.prom
	[ "$(grep -c '^tf_alert_alerts_total{' a.prom)" -eq 100 ]
	is a.prom tf_alert_alerts_total 'rule="other",priority="high"' 3
}

@test "tf-alert --metrics-file: rewritten while running; a bad rules file and an unwritable path show" {
	mkfifo in
	tf-alert --above BTC=70000 --metrics-file a.prom \
		--metrics-interval 100ms <in >out 2>err &
	echo $! >pids
	exec 7>in
	wait_for has_metric a.prom tf_alert_rules 1
	echo '{"type":"price_update","symbol":"BTC","price":69000}' >&7
	echo '{"type":"price_update","symbol":"BTC","price":71000}' >&7
	wait_for has_metric a.prom tf_alert_alerts_total 1
	exec 7>&-
	wait "$(cat pids)"
	is a.prom tf_last_run_exit_status 0
	# A usage error after the file was found writable: exit 2, written.
	echo '[{"id":"x","kind":"nope"}]' >bad.json
	run tf-alert --metrics-file a.prom bad.json </dev/null
	assert_equal "$status" 2
	is a.prom tf_last_run_exit_status 2
	run_err tf-alert --above BTC=1 --metrics-file nodir/a.prom </dev/null
	assert_equal "$status" 2
	assert_equal "$stderr" "tf-alert: --metrics-file: cannot create nodir/a.prom.tmp: No such file or directory"
	# --check only checks the rules: no metrics.
	run tf-alert --check --above BTC=1 --metrics-file nodir/a.prom
	assert_success
}

# recording DB N...: records one session of N events for each N.
recording() {
	local db=$1 n
	shift
	for n in "$@"; do
		seq "$n" | sed 's/.*/{"type":"price_update","n":&}/' |
			tf-record -q -n -d "$db"
	done
}

@test "tf-replay --metrics-file: events played, bad ones, sessions and passes, promtool-clean" {
	recording r.db 2 3
	# A long event: skipped as bad under a small --max-line.
	echo '{"type":"price_update","pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}' |
		tf-record -q -n -d r.db
	run_err tf-replay -s max --max-line 40 --metrics-file p.prom r.db
	assert_success
	assert_equal "$(wc -l <<<"$output")" 5
	valid p.prom
	is p.prom tf_input_lines_total 6
	is p.prom tf_bad_lines_total 1
	is p.prom tf_replay_events_total 5
	is p.prom tf_replay_passes_total 1
	is p.prom tf_replay_sessions 2
	is p.prom tf_last_run_exit_status 0
	last=$(sqlite3 r.db 'select max(ts_ns) from events where session = 2')
	awk -v a="$(metric p.prom tf_replay_last_event_time_seconds)" -v b="$last" \
		'BEGIN { d = a - b / 1e9; exit !(d < 0.001 && d > -0.001) }'
	run tf-replay -s max --loop 3 --session 2 --metrics-file p.prom r.db
	assert_success
	is p.prom tf_replay_events_total 9
	is p.prom tf_replay_passes_total 3
	is p.prom tf_replay_sessions 1
	# --list is a question, not a run: no file.
	run tf-replay --list --metrics-file l.prom r.db
	assert_success
	[ ! -e l.prom ]
}

@test "tf-replay --metrics-file: rewritten while following; a stop signal and a reader gone show as 128+N" {
	recording r.db 2
	tf-replay -f -s max --metrics-file p.prom --metrics-interval 100ms \
		r.db >out 2>err &
	pid=$!
	echo $pid >pids
	wait_for has_metric p.prom tf_replay_events_total 2
	recording r.db 3
	wait_for has_metric p.prom tf_replay_events_total 5
	is p.prom tf_replay_sessions 2
	kill -INT "$pid"
	wait_for eval "! kill -0 $pid 2>/dev/null"
	is p.prom tf_last_run_exit_status 130
	valid p.prom
	# The reader goes away: tf-replay ends by SIGPIPE, and says so.
	recording big.db 200000
	run bash -c 'tf-replay -s max --metrics-file p.prom big.db | head -1'
	assert_success
	is p.prom tf_last_run_exit_status 141
	# An unwritable path: exit 2 at once, nothing played.
	run_err tf-replay --metrics-file nodir/p.prom r.db
	assert_equal "$status" 2
	assert_output ''
	assert_equal "$stderr" "tf-replay: --metrics-file: cannot create nodir/p.prom.tmp: No such file or directory"
}

# receiver SERVICE [BEHAVIOUR...]: test/receivers/fake.py on a free port,
# the service's TF_* variable pointed at it; requests in SERVICE.log.
receiver() {
	local service=$1 port
	shift
	port=$(free_port)
	/usr/bin/python3 "$TF_ROOT/test/receivers/fake.py" "$service" "$port" \
		"$BATS_TEST_TMPDIR/$service.log" "$@" 3>&- &
	echo $! >>"$BATS_TEST_TMPDIR/pids"
	wait_for eval "(exec 9<>/dev/tcp/127.0.0.1/$port) 2>/dev/null"
	case $service in
	slack) export TF_SLACK_WEBHOOK_URL="http://127.0.0.1:$port/services/T0/B0/secret" ;;
	webhook) export TF_WEBHOOK_URL="http://127.0.0.1:$port/hook/secret" ;;
	esac
}

@test "tf-notify --metrics-file: deliveries by channel and result, retries, and a failed run's exit status" {
	unset TF_SLACK_WEBHOOK_URL TF_WEBHOOK_URL
	receiver slack
	receiver webhook 500 400
	printf '%s\n' '{"type":"alert","priority":"high","message":"a"}' \
		'{"type":"alert","priority":"low","message":"b"}' 'bad' >in
	run_err tf-notify --min-priority slack=high --retries 1 \
		--metrics-file n.prom <in
	assert_equal "$status" 1
	valid n.prom
	is n.prom tf_input_lines_total 3
	is n.prom tf_bad_lines_total 1
	is n.prom tf_notify_deliveries_total 'channel="slack",result="sent"' 1
	is n.prom tf_notify_deliveries_total 'channel="slack",result="skipped"' 1
	is n.prom tf_notify_deliveries_total 'channel="slack",result="failed"' 0
	is n.prom tf_notify_deliveries_total 'channel="webhook",result="sent"' 1
	is n.prom tf_notify_deliveries_total 'channel="webhook",result="failed"' 1
	is n.prom tf_notify_retries_total 'channel="webhook"' 1
	is n.prom tf_notify_retries_total 'channel="slack"' 0
	is n.prom tf_notify_pending_deliveries 0
	is n.prom tf_last_run_exit_status 1
	# Channels not in use have no series.
	run grep -c 'channel="discord"' n.prom
	assert_output 0
	! grep -q 'secret' n.prom
}

@test "tf-notify --metrics-file: deliveries waiting show while running; an unwritable path is exit 2 before anything is sent" {
	unset TF_SLACK_WEBHOOK_URL TF_WEBHOOK_URL
	receiver webhook hang
	mkfifo in
	tf-notify --metrics-file n.prom --metrics-interval 100ms <in >out 2>err &
	pid=$!
	echo $pid >>pids
	exec 7>in
	wait_for has_metric n.prom tf_notify_pending_deliveries 0
	echo '{"type":"alert","message":"a"}' >&7
	wait_for has_metric n.prom tf_notify_pending_deliveries 1
	is n.prom tf_input_lines_total 1
	valid n.prom
	kill -TERM "$pid"
	wait_for grep -q 'interrupt again to stop waiting' err
	kill -TERM "$pid"
	wait_for eval "! kill -0 $pid 2>/dev/null"
	exec 7>&-
	is n.prom tf_last_run_exit_status 143
	is n.prom tf_notify_deliveries_total 'channel="webhook",result="failed"' 1
	rm -f webhook.log
	run_err tf-notify --metrics-file nodir/n.prom <<<'{"type":"alert"}'
	assert_equal "$status" 2
	assert_equal "$stderr" "tf-notify: --metrics-file: cannot create nodir/n.prom.tmp: No such file or directory"
	[ ! -s webhook.log ]
}

# The metric names the man pages document (their METRICS sections).
documented() {
	grep -h '^\.It Va tf_' "$TF_ROOT"/man/tf-*.1 | grep -o 'tf_[a-z_]*' |
		sort -u
}

@test "examples/: the Prometheus config and rules pass promtool; the Grafana dashboard's queries are valid PromQL over documented metrics" {
	local dir=$TF_ROOT/examples
	run promtool check config "$dir/prometheus/prometheus.yml"
	assert_success
	run promtool check rules "$dir/prometheus/tf-rules.yml"
	assert_success
	jq -e '.panels | length > 10' "$dir/grafana/tf-dashboard.json"
	# Each panel's query as a recording rule, Grafana's variables filled.
	{
		echo 'groups: [{name: dashboard, rules: ['
		jq -r '.panels[].targets[]?.expr' "$dir/grafana/tf-dashboard.json" |
			sed 's/\$__rate_interval/1m/g; s/\$__range/1h/g; s/\$program/.*/g; s/\$file/.*/g' |
			jq -R -r '"{record: \"tf:check\", expr: \(. | @json)},"'
		echo ']}]'
	} >dash-rules.yml
	[ "$(grep -c 'record:' dash-rules.yml)" -gt 20 ]
	run promtool check rules dash-rules.yml
	assert_success
	# Every tf_ name they use is one a program writes.
	documented >names
	[ "$(wc -l <names)" -ge 20 ]
	for n in $(grep -oh 'tf_[a-z_]*' "$dir/grafana/tf-dashboard.json" \
		"$dir/prometheus/tf-rules.yml" | sort -u); do
		grep -qx "$n" names || fail "$n is not a documented metric"
	done
}

@test "a real Prometheus scrapes the metrics files, and the example rules fire for a failed run only" {
	unset TF_SLACK_WEBHOOK_URL TF_WEBHOOK_URL
	printf '{"type":"a"}\n{"type":"b"}\n' |
		tf-record -q -n -d r.db --metrics-file record.prom
	receiver webhook 400
	run tf-notify -q --metrics-file notify.prom <<<'{"type":"alert","message":"x"}'
	assert_equal "$status" 1
	http=$(free_port)
	prom=$(free_port)
	python3 -m http.server --bind 127.0.0.1 "$http" >/dev/null 2>&1 &
	echo $! >>pids
	cat >prometheus.yml <<Y
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: ['$TF_ROOT/examples/prometheus/tf-rules.yml']
scrape_configs:
  - job_name: record
    metrics_path: /record.prom
    static_configs: [{targets: ['127.0.0.1:$http']}]
  - job_name: notify
    metrics_path: /notify.prom
    static_configs: [{targets: ['127.0.0.1:$http']}]
Y
	prometheus --config.file=prometheus.yml --storage.tsdb.path=data \
		--web.listen-address="127.0.0.1:$prom" >prom.log 2>&1 &
	echo $! >>pids
	api="http://127.0.0.1:$prom/api/v1"
	# Started, scraped both, evaluated the rules: at most a minute.
	for ((i = 0; i < 300; i++)); do
		curl -sf "$api/alerts" 2>/dev/null | grep -q TfNotifyFailed &&
			curl -sf "$api/query" --data-urlencode \
				'query=tf_record_committed_lines_total' |
			grep -q '"value"' && break
		sleep 0.2
	done
	run curl -sf "$api/query" --data-urlencode 'query=tf_record_committed_lines_total'
	assert_success
	[ "$(jq -r '.data.result[0].value[1]' <<<"$output")" = 2 ]
	[ "$(jq -r '.data.result[0].metric | "\(.program) \(.file) \(.job)"' <<<"$output")" = "tf-record record.prom record" ]
	run curl -sf "$api/query" --data-urlencode 'query=tf_notify_deliveries_total{result="failed"}'
	[ "$(jq -r '.data.result[0].value[1]' <<<"$output")" = 1 ]
	run curl -sf "$api/alerts"
	assert_success
	run jq -r '.data.alerts[] | select(.state == "firing") | "\(.labels.alertname) \(.labels.program)"' <<<"$output"
	assert_line 'TfRunFailed tf-notify'
	assert_line 'TfNotifyFailed tf-notify'
	refute_line --partial 'tf-record'
	# Every sample the programs wrote went in: nothing dropped.
	run curl -sf "$api/targets"
	[ "$(jq -r '[.data.activeTargets[] | .health] | join(" ")' <<<"$output")" = "up up" ]
}

@test "tf-pub --metrics-file: lines published and acknowledged, the window while the server is away, failed lines at the deadline" {
	nats_start s
	export TF_NATS_URL=$(nats_url s)
	printf '%s\n' '{"type":"a"}' 'not json' '{"type":"b"}' '{"type":"c"}' >in
	run_err tf-pub -n --create --metrics-file p.prom <in
	assert_success
	valid p.prom
	is p.prom tf_input_lines_total 4
	is p.prom tf_bad_lines_total 1
	is p.prom tf_pub_published_lines_total 3
	is p.prom tf_pub_acknowledged_lines_total 3
	is p.prom tf_pub_failed_lines_total 0
	is p.prom tf_pub_pending_lines 0
	is p.prom tf_pub_max_pending_lines 4096
	is p.prom tf_pub_last_seq 3
	is p.prom tf_last_run_exit_status 0
	[ "$(grep -vc '^#' p.prom)" -eq "$(grep -c '{program="tf-pub",file="p.prom"' p.prom)" ]

	mkfifo fifo
	tf-pub -v -n --deadline 1s --metrics-file p.prom --metrics-interval 100ms \
		<fifo 2>err &
	pid=$!
	echo $pid >>pids
	exec 7>fifo
	pub_ready err
	nats_kill s STOP
	printf '%s\n' '{"type":"d"}' '{"type":"e"}' >&7
	wait_for has_metric p.prom tf_pub_pending_lines 2
	is p.prom tf_pub_published_lines_total 2
	exec 7>&-
	rc=0
	wait "$pid" || rc=$?
	nats_kill s CONT
	assert_equal "$rc" 1
	valid p.prom
	is p.prom tf_pub_failed_lines_total 2
	is p.prom tf_pub_acknowledged_lines_total 0
	is p.prom tf_last_run_exit_status 1

	run_err tf-pub --metrics-file nodir/p.prom </dev/null
	assert_failure 2
	assert_equal "$stderr" "tf-pub: --metrics-file: cannot create nodir/p.prom.tmp: No such file or directory"
}

@test "tf-sub --metrics-file: events, bytes, gaps, the last seq; reconnections while following" {
	nats_start s
	export TF_NATS_URL=$(nats_url s)
	printf '{"type":"a","i":%d}\n' 1 2 3 4 5 | tf-pub -n --create
	run nats_raw "$TF_NATS_URL" 'req $JS.API.STREAM.MSG.DELETE.TF {"seq":3}'
	run_err tf-sub --all --until-end --metrics-file s.prom
	assert_success
	valid s.prom
	is s.prom tf_sub_events_total 4
	is s.prom tf_sub_event_bytes_total $((4 * 18))
	is s.prom tf_sub_gaps_total 1
	is s.prom tf_sub_missed_events_total 1
	is s.prom tf_sub_last_seq 5
	is s.prom tf_sub_reconnects_total 0
	is s.prom tf_last_run_exit_status 0

	tf-sub --metrics-file s.prom --metrics-interval 100ms >out 2>err &
	pid=$!
	echo $pid >>pids
	wait_for eval '[ "$(nats_clients s)" -ge 1 ]'
	nats_kill s
	nats_start s
	wait_for has_metric s.prom tf_sub_reconnects_total 1
	printf '{"type":"a","i":%d}\n' 6 | tf-pub -n
	wait_for has_metric s.prom tf_sub_last_seq 6
	valid s.prom
	kill -TERM "$pid"
	wait "$pid" || true
	is s.prom tf_last_run_exit_status 143

	run_err tf-sub --metrics-file nodir/s.prom </dev/null
	assert_failure 2
	assert_equal "$stderr" "tf-sub: --metrics-file: cannot create nodir/s.prom.tmp: No such file or directory"
}
