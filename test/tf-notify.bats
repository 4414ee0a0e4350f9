#!/usr/bin/env bats
# tf-notify: what a user relies on when alerts must reach people: every
# request checked by a local stand-in of the service (test/receivers).

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	unset TF_SLACK_WEBHOOK_URL TF_DISCORD_WEBHOOK_URL TF_WEBHOOK_URL \
		TF_TELEGRAM_API_URL TF_TELEGRAM_BOT_TOKEN TF_TELEGRAM_CHAT_IDS \
		TF_WEBHOOK_HEADERS TF_SMTP_URL TF_SMTP_USER TF_SMTP_PASSWORD \
		TF_EMAIL_FROM TF_EMAIL_TO TF_EMAIL_CC TF_EMAIL_BCC \
		TF_TWILIO_API_URL TF_TWILIO_ACCOUNT_SID TF_TWILIO_AUTH_TOKEN \
		TF_TWILIO_FROM TF_SMS_TO TF_SMS_MAX_SEGMENTS
}

teardown() {
	local p
	for p in $(cat "$BATS_TEST_TMPDIR"/pids 2>/dev/null); do
		kill "$p" 2>/dev/null || true
	done
}

listening() {
	(exec 9<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# fake SERVICE [BEHAVIOUR...]: starts a receiver on a free port; sets
# $port and points the service's TF_* variables at it. Requests go to
# $SERVICE.log.
fake() {
	local service=$1
	shift
	port=$(free_port)
	/usr/bin/python3 "$TF_ROOT/test/receivers/fake.py" "$service" "$port" \
		"$BATS_TEST_TMPDIR/$service.log" "$@" 3>&- &
	echo $! >>"$BATS_TEST_TMPDIR/pids"
	wait_for listening "$port"
	touch "$BATS_TEST_TMPDIR/$service.log"
	case $service in
	slack) export TF_SLACK_WEBHOOK_URL="http://127.0.0.1:$port/services/T000/B000/slacksecret" ;;
	discord) export TF_DISCORD_WEBHOOK_URL="http://127.0.0.1:$port/api/webhooks/123/discordsecret" ;;
	telegram)
		export TF_TELEGRAM_API_URL="http://127.0.0.1:$port"
		export TF_TELEGRAM_BOT_TOKEN=123:ABC
		export TF_TELEGRAM_CHAT_IDS=${CHATS:-42}
		;;
	webhook) export TF_WEBHOOK_URL="http://127.0.0.1:$port/hook/hooksecret" ;;
	esac
}

# requests SERVICE: the requests a receiver got; none may be invalid.
requests() {
	jq -c . "$1.log"
}

no_invalid() {
	run jq -r 'select(.errors != []) | .errors[]' "$1.log"
	assert_output ''
}

alert='{"type":"alert","priority":"high","title":"BTC-USD above 70,000","message":"price 70,012.50 <crossed> & rising","symbol":"BTC-USD","source":"tf-alert"}'

@test "--help and --version" {
	run tf-notify --help
	assert_success
	assert_output --partial 'usage: tf-notify'
	run tf-notify --version
	assert_output "tf-notify $(cat "$TF_ROOT/VERSION")"
}

@test "no configured channel, an unknown one, or an unset one is a usage error (exit 2)" {
	run_err tf-notify <<<"$alert"
	assert_equal "$status" 2
	[[ $stderr == *"no channel configured: set TF_SLACK_WEBHOOK_URL"* ]]
	export TF_SLACK_WEBHOOK_URL=http://127.0.0.1:9/services/x
	run_err tf-notify --channel pager <<<"$alert"
	assert_equal "$status" 2
	[[ $stderr == *"--channel: no channel 'pager'"* ]]
	run_err tf-notify --channel email <<<"$alert"
	assert_equal "$status" 2
	[[ $stderr == *"--channel: email: set TF_SMTP_URL"* ]]
	run_err tf-notify --channel telegram <<<"$alert"
	assert_equal "$status" 2
	[[ $stderr == *"telegram: set TF_TELEGRAM_BOT_TOKEN"* ]]
}

@test "secrets are not taken from the command line" {
	run_err tf-notify --telegram-bot-token 1:X --channel telegram <<<"$alert"
	assert_equal "$status" 2
	[[ $stderr == *"unknown option --telegram-bot-token"* ]]
}

@test "slack: Block Kit header and section in a priority-coloured attachment, text fallback" {
	fake slack
	run_err tf-notify <<<"$alert"
	assert_success
	assert_output "{\"channel\":\"slack\",\"status\":\"sent\",\"attempts\":1,\"http_status\":200,\"error\":null,\"id\":1,\"line\":1,\"destination\":\"http://127.0.0.1:$port/services/***\"}"
	no_invalid slack
	run jq -c '.body' slack.log
	assert_output '{"text":"BTC-USD above 70,000: price 70,012.50 &lt;crossed&gt; &amp; rising","attachments":[{"color":"#ff9800","blocks":[{"type":"header","text":{"type":"plain_text","text":"BTC-USD above 70,000","emoji":true}},{"type":"section","text":{"type":"mrkdwn","text":"price 70,012.50 &lt;crossed&gt; &amp; rising"}}]}]}'
	run jq -r '.path' slack.log
	assert_output /services/T000/B000/slacksecret
}

@test "slack: a huge message is cut to 3,000 characters with an ellipsis, never inside an entity" {
	fake slack
	msg=$(printf '&%.0s' $(seq 4000))
	jq -cn --arg m "$msg" '{type:"alert",title:"t",message:$m}' >in
	run tf-notify <in
	assert_success
	no_invalid slack
	run jq -r '.body.attachments[0].blocks[1].text.text | [length, endswith("&amp;…")] | @tsv' slack.log
	assert_output "$(printf '2996\ttrue')"
}

@test "slack: one message per second per webhook" {
	fake slack
	for i in 1 2 3; do echo "{\"type\":\"alert\",\"title\":\"n$i\"}"; done >in
	run tf-notify <in
	assert_success
	# Paced a second apart as sent; the receiver's clock sees the requests
	# arrive with the machine's jitter (a gap under 0.95 s on a busy CI
	# run), so it asks for 0.8 s: unpaced, they come milliseconds apart.
	run jq -s '[.[1].t - .[0].t, .[2].t - .[1].t] | map(. >= 0.8) | all' slack.log
	assert_output true
	run jq -r '.body.attachments[0].blocks[0].text.text' slack.log
	assert_output "$(printf 'n1\nn2\nn3')"
}

@test "discord: ?wait=true, one embed coloured by priority, fields from the event" {
	fake discord
	run tf-notify <<<"$alert"
	assert_success
	assert_output --partial '"channel":"discord","status":"sent"'
	assert_output --partial "\"destination\":\"http://127.0.0.1:$port/api/webhooks/123/***\""
	no_invalid discord
	run jq -c '[.query, .body.embeds[0].color, .body.embeds[0].title, .body.embeds[0].footer.text, [.body.embeds[0].fields[].name]]' discord.log
	assert_output '["wait=true",16750592,"BTC-USD above 70,000","high · alert",["symbol","source"]]'
}

@test "discord: every embed limit holds for huge input (title, description, 25 fields, 6,000 in all)" {
	fake discord
	/usr/bin/python3 -c '
import json
o = {"type": "alert", "title": "T" * 500, "message": "日本語" * 3000}
for i in range(40):
    o["field%02d" % i + "k" * 300] = "v" * 2000
print(json.dumps(o))' >in
	run tf-notify <in
	assert_success
	no_invalid discord
	run jq -r '.body.embeds[0] | [(.title | length), (.title | endswith("…")), (.fields | length <= 25)] | @tsv' discord.log
	assert_output "$(printf '256\ttrue\ttrue')"
}

@test "discord: 429 waits for the JSON retry_after, then sends" {
	FAKE_RETRY_AFTER=0.5 fake discord 429
	run tf-notify <<<"$alert"
	assert_success
	assert_output --partial '"status":"sent","attempts":2'
	run jq -s '.[1].t - .[0].t >= 0.45' discord.log
	assert_output true
}

@test "telegram: sendMessage to each chat, HTML escaped, low priority silent" {
	CHATS=42,-1001234567890 fake telegram
	low='{"type":"alert","priority":"low","title":"a <b> & c","message":"x > y"}'
	run tf-notify <<<"$low"
	assert_success
	# The chats are sent to in parallel: in either order.
	assert_line '{"channel":"telegram","status":"sent","attempts":1,"http_status":200,"error":null,"id":1,"line":1,"destination":"telegram:42"}'
	assert_line --partial '"status":"sent","attempts":1,"http_status":200,"error":null,"id":1,"line":1,"destination":"telegram:-1001234567890"'
	no_invalid telegram
	run jq -c -s 'sort_by(.body.chat_id) | reverse | .[].body' telegram.log
	assert_line --index 0 '{"chat_id":42,"text":"<b>a &lt;b&gt; &amp; c</b>\nx &gt; y","parse_mode":"HTML","disable_notification":true}'
	assert_line --index 1 '{"chat_id":-1001234567890,"text":"<b>a &lt;b&gt; &amp; c</b>\nx &gt; y","parse_mode":"HTML","disable_notification":true}'
}

@test "telegram: text over 4,096 UTF-16 units is split without breaking a character or an entity" {
	fake telegram
	# Emoji (2 units each), CJK, combining marks and entities, no spaces.
	/usr/bin/python3 -c '
import json
m = ("😀漢e\u0301&<>" * 1500)
print(json.dumps({"type": "alert", "title": "big", "message": m}))' >in
	run tf-notify <in
	assert_success
	assert_output --partial '"parts":'
	no_invalid telegram
	# The parts put together are the whole text.
	run /usr/bin/python3 -c '
import json, html, sys
parts = [json.loads(l)["body"]["text"] for l in open("telegram.log")]
whole = "<b>big</b>\n" + html.escape("😀漢e\u0301&<>" * 1500, quote=False)
print(len(parts) > 1, "".join(parts) == whole,
      all(not p.startswith("\u0301") for p in parts))'
	assert_output 'True True True'
}

@test "telegram: 429 honours parameters.retry_after" {
	fake telegram 429
	run tf-notify <<<"$alert"
	assert_success
	assert_output --partial '"attempts":2'
	run jq -s '.[1].t - .[0].t >= 0.8' telegram.log
	assert_output true
}

@test "webhook: the input line byte for byte, with --header and TF_WEBHOOK_HEADERS" {
	fake webhook
	line='{"type":"alert", "title":"spaces  kept","n":1.50}'
	TF_WEBHOOK_HEADERS='X-Env: one; Authorization: Bearer envsecret' \
		run tf-notify <<<"$line"
	assert_success
	run jq -r '.raw' webhook.log
	assert_output "$line"
	run jq -r '.headers.authorization, .headers["x-env"], .headers["content-type"]' webhook.log
	assert_output "$(printf 'Bearer envsecret\none\napplication/json')"
	run tf-notify -H 'X-Flag: two' <<<"$line"
	run jq -r 'select(.seq == 2) | .headers["x-flag"]' webhook.log
	assert_output two
}

@test "webhook: --parallel sends several alerts to one URL at once; --parallel 1 one at a time" {
	fake webhook slow slow slow slow
	for i in 1 2 3 4; do echo "{\"type\":\"alert\",\"n\":$i}"; done >in
	run tf-notify -c webhook --parallel 4 <in
	assert_success
	assert_equal "$(grep -c '"status":"sent"' <<<"$output")" 4
	# All four were being answered at the same moment.
	run jq -s 'map(.inflight) | max' "$BATS_TEST_TMPDIR/webhook.log"
	assert_output 4
	: >"$BATS_TEST_TMPDIR/webhook.log"
	fake webhook slow slow
	head -n 2 in | tf-notify -c webhook --parallel 1 >/dev/null
	run jq -s 'map(.inflight) | max' "$BATS_TEST_TMPDIR/webhook.log"
	assert_output 1
	run jq -s -c 'map(.body.n)' "$BATS_TEST_TMPDIR/webhook.log"
	assert_output '[1,2]'
	run_err tf-notify --parallel 0 </dev/null
	assert_equal "$status" 2
	[[ $stderr == *"--parallel: 0 is out of range"* ]]
}

@test "webhook: --format JQ makes the body" {
	fake webhook
	run tf-notify --format '{topic: "alerts", text: .title}' <<<"$alert"
	assert_success
	run jq -c '.body' webhook.log
	assert_output '{"topic":"alerts","text":"BTC-USD above 70,000"}'
}

@test "5xx is retried with backoff; a later success is sent" {
	fake webhook 500 503
	run tf-notify <<<"$alert"
	assert_success
	assert_output --partial '"status":"sent","attempts":3,"http_status":200'
}

@test "a permanent error (400) is not retried: failed, exit 1" {
	fake webhook 400
	run_err tf-notify <<<"$alert"
	assert_failure 1
	assert_output --partial '"status":"failed","attempts":1,"http_status":400,"error":"HTTP 400: scripted 400"'
	[[ $stderr == *"line 1: webhook"*"HTTP 400"* ]]
}

@test "--retries 0: one attempt only" {
	fake webhook 500
	run tf-notify --retries 0 <<<"$alert"
	assert_failure 1
	assert_output --partial '"status":"failed","attempts":1,"http_status":500'
	assert_output --partial 'gave up after 1 attempt'
}

@test "an unreachable receiver fails after the retries, with curl's reason" {
	export TF_WEBHOOK_URL="http://127.0.0.1:$(free_port)/x"
	run tf-notify --retries 1 <<<"$alert"
	assert_failure 1
	assert_output --partial '"status":"failed","attempts":2,"http_status":null'
	assert_output --partial 'gave up after 2 attempts'
}

@test "a receiver that never answers: --deadline ends the run, the alert reported failed" {
	fake webhook hang
	start=$(date +%s)
	run tf-notify --deadline 1 <<<"$alert"
	assert_failure 1
	assert_output --partial '"status":"failed","attempts":1'
	assert_output --partial '"error":"deadline reached (--deadline 1.000s)"'
	[ $(($(date +%s) - start)) -le 4 ]
}

@test "--timeout ends a slow attempt, which is retried" {
	fake webhook slow
	run tf-notify --timeout 500ms --retries 1 <<<"$alert"
	assert_success
	assert_output --partial '"status":"sent","attempts":2'
}

@test "--dry-run prints the requests with secrets masked and sends nothing" {
	fake webhook
	fake telegram
	export TF_WEBHOOK_HEADERS='Authorization: Bearer envsecret'
	run_err tf-notify -n -v -H 'X-Plain: shown' <<<"$alert"
	assert_success
	[[ $output != *secret* && $stderr != *secret* ]]
	[[ $output != *123:ABC* && $stderr != *123:ABC* ]]
	assert_output --partial '"url":"http://127.0.0.1:'"$port"'/bot***/sendMessage"'
	assert_output --partial '"X-Plain: shown"'
	run cat telegram.log webhook.log
	assert_output ''
}

@test "-v never prints a secret" {
	fake webhook 500
	run_err tf-notify -vv <<<"$alert"
	assert_success
	[[ $stderr != *hooksecret* && $output != *hooksecret* ]]
}

@test "--min-priority per channel skips, and reports, what is below it" {
	fake slack
	fake webhook
	run tf-notify --min-priority slack=critical --min-priority medium \
		<<<'{"type":"alert","priority":"high","title":"h"}'
	assert_success
	assert_line --index 0 --partial '"channel":"slack","status":"skipped","attempts":0,"http_status":null,"error":"below --min-priority"'
	assert_line --index 1 --partial '"channel":"webhook","status":"sent"'
	run tf-notify --min-priority slack=urgent <<<"$alert"
	assert_failure 2
}

@test "--filter selects the events sent" {
	fake webhook
	printf '%s\n' '{"type":"alert","title":"a"}' '{"type":"heartbeat"}' >in
	run tf-notify --filter '.type == "alert"' <in
	assert_success
	assert_equal "$(wc -l <<<"$output")" 1
	run jq -s length webhook.log
	assert_output 1
}

@test "--dedupe-window collapses repeats; --dedupe-key chooses what repeats" {
	fake webhook
	printf '%s\n' '{"type":"alert","title":"a"}' '{"type":"alert","title":"a"}' \
		'{"type":"alert","title":"b"}' >in
	run tf-notify --dedupe-window 1m <in
	assert_success
	assert_output --partial '"status":"skipped","attempts":0,"http_status":null,"error":"duplicate within --dedupe-window","id":2,'
	run jq -s length webhook.log
	assert_output 2
	run tf-notify --dedupe-window 1m --dedupe-key .type <in
	assert_equal "$(grep -c skipped <<<"$output")" 2
}

@test "--burst: alerts beyond N per window become one summary" {
	fake webhook
	for i in 1 2 3 4 5; do echo "{\"type\":\"alert\",\"priority\":\"high\",\"title\":\"a$i\"}"; done >in
	run tf-notify --burst 2 <in
	assert_success
	assert_equal "$(grep -c '"status":"sent"' <<<"$output")" 3
	assert_equal "$(grep -c 'held for the --burst summary' <<<"$output")" 3
	assert_output --partial '"id":"summary"'
	# A webhook takes several at once, so they may arrive in any order.
	run jq -c 'select(.body.suppressed) | .body | [.title, .message, .priority, .suppressed]' webhook.log
	assert_output '["3 more alerts","a3\na4\na5","high",3]'
	run jq -s -c 'map(.body.title) | sort' webhook.log
	assert_output '["3 more alerts","a1","a2"]'
}

@test "--max-queue: alerts beyond it are reported failed at once" {
	fake webhook slow
	for i in 1 2 3; do echo "{\"type\":\"alert\",\"title\":\"a$i\"}"; done >in
	run tf-notify --max-queue 1 <in
	assert_failure 1
	assert_equal "$(grep -c '"error":"queue full (--max-queue)"' <<<"$output")" 2
	assert_output --partial '"status":"sent"'
}

@test "bad lines are reported and skipped; the good ones are sent; --strict exits 65" {
	fake webhook
	printf '%s\n' 'nope' '[1]' '{"type":"alert"}' >in
	run_err tf-notify <in
	assert_success
	[[ $stderr == *"tf-notify: line 1: invalid JSON"*"(skipped)"* ]]
	[[ $stderr == *"line 2: not a JSON object (skipped)"* ]]
	assert_output --partial '"line":3'
	run_err tf-notify --strict <in
	assert_equal "$status" 65
}

@test "every type of the vocabulary gets a title and a message" {
	export TF_SLACK_WEBHOOK_URL=http://127.0.0.1:9/services/x
	printf '%s\n' \
		'{"type":"price_update","symbol":"BTC-USD","price":70000,"change_24h":2.5}' \
		'{"type":"trade_executed","symbol":"ETH-USD","side":"buy","quantity":2,"price":3500.5,"order_id":"o1","pnl":12}' \
		'{"type":"system_status","status":"degraded","cpu":91,"memory":70,"connections":3}' \
		'{"type":"ml_prediction","model":"lstm","symbol":"BTC-USD","direction":"up","predicted_price":71000,"horizon":"1h","confidence":0.82}' \
		'{"type":"pattern_detected","symbol":"SOL-USD","pattern":"double_bottom","entry":150,"target":170,"stop":140,"confidence":0.7}' \
		'{"type":"alert","message":"disk 95%"}' '{"type":"custom","x":1}' >in
	run tf-notify -n <in
	assert_success
	run jq -r '.body | fromjson | .text' <<<"$output"
	assert_line --index 0 'BTC-USD 70,000: 24h change 2.50% · volume - · bid - · ask -'
	assert_line --index 1 'Trade executed: buy 2 ETH-USD @ 3,500.50: order o1 · P&amp;L 12'
	assert_line --index 2 'System degraded: cpu 91% · memory 70% · connections 3'
	assert_line --index 3 'BTC-USD prediction: up: lstm predicts 71,000 within 1h (confidence 0.82)'
	assert_line --index 4 'SOL-USD: double_bottom: entry 150 · target 170 · stop 140 · confidence 0.70'
	assert_line --index 5 'disk 95%'
	assert_line --index 6 'Custom: {"type":"custom","x":1}'
}

@test "--title and --message templates" {
	export TF_SLACK_WEBHOOK_URL=http://127.0.0.1:9/services/x
	run tf-notify -n --title '{symbol}!' --message 'p={.price}' \
		<<<'{"type":"price_update","symbol":"X","price":1}'
	assert_success
	run jq -r '.body | fromjson | .text' <<<"$output"
	assert_output 'X!: p=1'
	export TF_DISCORD_WEBHOOK_URL=http://127.0.0.1:9/api/webhooks/1/x
	run tf-notify -n --title 'all {symbol}' --title 'slack=S {symbol}' \
		--message slack=M <<<'{"type":"price_update","symbol":"X","price":1}'
	assert_success
	run jq -r '.body | fromjson | .text // .embeds[0].title' <<<"$output"
	assert_output "$(printf 'S X: M\nall X')"
	run_err tf-notify -n --title '{nope}' <<<'{}'
	assert_equal "$status" 2
	[[ $stderr == *"--title: unknown placeholder {nope}"* ]]
}

@test "the config file gives the secrets; readable by others, a warning" {
	fake webhook
	mkdir -p config/tf
	echo "TF_WEBHOOK_URL=$TF_WEBHOOK_URL" >config/tf/tf.conf
	unset TF_WEBHOOK_URL
	chmod 644 config/tf/tf.conf
	run_err tf-notify <<<"$alert"
	assert_success
	[[ $stderr == *"tf-notify: $BATS_TEST_TMPDIR/config/tf/tf.conf is readable by others and holds secrets; chmod 600 it"* ]]
	chmod 600 config/tf/tf.conf
	run_err tf-notify <<<"$alert"
	assert_success
	[[ $stderr != *"readable by others"* ]]
	run jq -s length webhook.log
	assert_output 2
}

@test "SIGTERM: in-flight deliveries finish and are reported, then it ends by SIGTERM (143)" {
	fake webhook slow
	mkfifo fifo
	tf-notify <fifo >out 2>err 3>&- &
	pid=$!
	exec 7>fifo
	echo "$alert" >&7
	wait_for test -s webhook.log
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	assert_equal "$rc" 143
	exec 7>&-
	run cat out
	assert_output --partial '"status":"sent"'
}

@test "discord: an empty rate limit bucket holds the webhook until X-RateLimit-Reset-After" {
	FAKE_RETRY_AFTER=1.5 fake discord empty
	printf '%s\n' "$alert" "$alert" >in
	run tf-notify <in
	assert_success
	run jq -s '.[1].t - .[0].t >= 1.45' discord.log
	assert_output true
}

@test "slack: 429 waits for Retry-After, then sends" {
	fake slack 429
	run tf-notify <<<"$alert"
	assert_success
	assert_output --partial '"status":"sent","attempts":2,"http_status":200'
	run jq -s '.[1].t - .[0].t >= 0.8' slack.log
	assert_output true
}

@test "a retry hint that would pass the deadline fails at once" {
	FAKE_RETRY_AFTER=30 fake telegram 429
	start=$(date +%s)
	run tf-notify --deadline 5 <<<"$alert"
	assert_failure 1
	assert_output --partial '"status":"failed","attempts":1,"http_status":429,"error":"HTTP 429: Too Many Requests: retry after 30 (no time left to retry before the deadline)"'
	[ $(($(date +%s) - start)) -le 3 ]
}

@test "telegram: a permanent error reports the Bot API's description" {
	fake telegram 400
	run tf-notify <<<"$alert"
	assert_failure 1
	assert_output --partial '"status":"failed","attempts":1,"http_status":400,"error":"HTTP 400: Bad Request: scripted 400"'
}

@test "a webhook header that is not 'Name: value' is a usage error" {
	export TF_WEBHOOK_URL=http://127.0.0.1:9/x
	run_err tf-notify -H 'no colon here' <<<"$alert"
	assert_equal "$status" 2
	[[ $stderr == *"webhook: header 'no colon here' is not 'Name: value'"* ]]
}

@test "SIGTERM with a receiver that never answers: reported failed within the deadline, and it ends by SIGTERM" {
	fake webhook hang
	mkfifo fifo
	tf-notify --deadline 1 <fifo >out 2>err 3>&- &
	pid=$!
	exec 7>fifo
	echo "$alert" >&7
	wait_for test -s webhook.log
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	# Interrupted: the signal's status (143), not 1; out says what failed.
	assert_equal "$rc" 143
	exec 7>&-
	run cat out
	assert_output --partial '"status":"failed","attempts":1,"http_status":null,"error":"deadline reached (--deadline 1.000s)"'
}

@test "one destination keeps input order, even across retries (a webhook with --parallel 1)" {
	fake webhook 500
	for i in 1 2 3; do echo "{\"type\":\"alert\",\"title\":\"a$i\"}"; done >in
	run tf-notify --parallel 1 <in
	assert_success
	run jq -r '.body.title' webhook.log
	assert_output "$(printf 'a1\na1\na2\na3')"
}

@test "telegram: a group chat gets at most TF_TELEGRAM_GROUP_RATE messages per period (the Bot API's 20/min by default)" {
	CHATS=-100123 fake telegram
	printf '%s\n' "$alert" "$alert" "$alert" >in
	TF_TELEGRAM_GROUP_RATE=2/3s run tf-notify <in
	assert_success
	assert_equal "$(grep -c '"status":"sent"' <<<"$output")" 3
	# The first two one second apart (the per-chat limit), the third
	# only once the 3 s window of the first has passed.
	run jq -s '(.[1].t - .[0].t >= 0.8), (.[2].t - .[0].t >= 2.8)' telegram.log
	assert_output "$(printf 'true\ntrue')"
	TF_TELEGRAM_GROUP_RATE=lots run_err tf-notify <in
	assert_equal "$status" 2
	[[ $stderr == *"TF_TELEGRAM_GROUP_RATE: 'lots' is not N/DURATION (20/1m)"* ]]
}

@test "telegram: one message per second per chat, chats in parallel" {
	CHATS=1,2 fake telegram
	printf '%s\n' "$alert" "$alert" >in
	run tf-notify <in
	assert_success
	run jq -s '(map(select(.body.chat_id == 1)) | .[1].t - .[0].t >= 0.8),
		(map(select(.body.chat_id == 2)) | .[1].t - .[0].t >= 0.8),
		(map(select(.body.chat_id == 2))[0].t - map(select(.body.chat_id == 1))[0].t | fabs < 0.5)' telegram.log
	assert_output "$(printf 'true\ntrue\ntrue')"
}

@test "an alert without title, message or priority is still valid on every channel" {
	fake slack
	fake discord
	fake telegram
	fake webhook
	run tf-notify <<<'{"type":"alert"}'
	assert_success
	assert_equal "$(grep -c '"status":"sent"' <<<"$output")" 4
	for s in slack discord telegram webhook; do no_invalid $s; done
	run jq -r '.body.text' telegram.log
	assert_output '<b>Alert</b>'
	run jq -r '.body.embeds[0] | [.title, .color, .footer.text] | @tsv' discord.log
	assert_output "$(printf 'Alert\t2201331\tmedium · alert')"
}

@test "a --format that fails on an alert reports it failed; a bad program is a usage error" {
	fake webhook
	run tf-notify --format '.title | error' <<<"$alert"
	assert_failure 1
	assert_output --partial '"channel":"webhook","status":"failed","attempts":0,"http_status":null,"error":"jq: BTC-USD above 70,000"'
	run_err tf-notify --format '{' <<<"$alert"
	assert_equal "$status" 2
	[[ $stderr == *"--format: invalid jq program"* ]]
}

# E-mail (a real SMTP server, aiosmtpd) and SMS (a Twilio stand-in).

# smtp [BEHAVIOUR...]: starts test/receivers/smtp.py on a free port and
# points TF_SMTP_URL at it; messages go to smtp.log. SMTP_USER and
# SMTP_PASSWORD in the environment make it require AUTH.
smtp() {
	port=$(free_port)
	/usr/bin/python3 "$TF_ROOT/test/receivers/smtp.py" "$port" \
		"$BATS_TEST_TMPDIR/smtp.log" "$@" 3>&- 2>"$BATS_TEST_TMPDIR/smtp.err" &
	echo $! >>"$BATS_TEST_TMPDIR/pids"
	wait_for listening "$port"
	touch "$BATS_TEST_TMPDIR/smtp.log"
	export TF_SMTP_URL="smtp://127.0.0.1:$port"
	export TF_EMAIL_FROM='tf alerts <alerts@desk.example>'
	export TF_EMAIL_TO=${EMAIL_TO:-trader@desk.example}
}

# twilio [BEHAVIOUR...]: starts test/receivers/twilio.py; requests go to
# twilio.log.
twilio() {
	port=$(free_port)
	FAKE_SID=AC0123456789abcdef0123456789abcdef FAKE_TOKEN=twiliosecret \
		/usr/bin/python3 "$TF_ROOT/test/receivers/twilio.py" "$port" \
		"$BATS_TEST_TMPDIR/twilio.log" "$@" 3>&- &
	echo $! >>"$BATS_TEST_TMPDIR/pids"
	wait_for listening "$port"
	touch "$BATS_TEST_TMPDIR/twilio.log"
	export TF_TWILIO_API_URL="http://127.0.0.1:$port"
	export TF_TWILIO_ACCOUNT_SID=AC0123456789abcdef0123456789abcdef
	export TF_TWILIO_AUTH_TOKEN=twiliosecret
	export TF_TWILIO_FROM=+15550001111
	export TF_SMS_TO=${SMS_TO:-+15551234567}
}

# sms_body N [TEXT]: N times TEXT (default x).
sms_body() {
	/usr/bin/python3 -c 'import sys; print(sys.argv[2] * int(sys.argv[1]), end="")' "$1" "${2:-x}"
}

# sms_send MAX MESSAGE: sends MESSAGE titled "T" (the text is "T\nMESSAGE")
# with --sms-max-segments MAX; prints the Body Twilio got, its encoding
# and segments as one JSON line.
sms_send() {
	: >twilio.log
	jq -nc --arg m "$2" '{type:"alert",message:$m}' |
		tf-notify --channel sms --title T --sms-max-segments "$1" >/dev/null
	jq -c '{body:.form.Body,encoding,segments,errors}' twilio.log
}

@test "email: multipart/alternative, text first and HTML last, escaped HTML, RFC 2047 Subject" {
	smtp
	run tf-notify --channel email <<<'{"type":"alert","priority":"high","title":"BTC-USD über 70.000 € 🚀","message":"<img src=x onerror=alert(1)> & more\nsecond line"}'
	assert_success
	assert_output --partial '"status":"sent"'
	no_invalid smtp
	run jq -r '.parts | join(",")' smtp.log
	assert_output 'text/plain,text/html'
	run jq -r .subject smtp.log
	assert_output 'BTC-USD über 70.000 € 🚀'
	run jq -r .raw_subject smtp.log
	assert_output --regexp '^ =\?UTF-8\?B\?[A-Za-z0-9+/=]+\?='
	run jq -r .text smtp.log
	assert_output --partial '<img src=x onerror=alert(1)> & more'
	run jq -r .html smtp.log
	assert_output --partial '&lt;img src=x onerror=alert(1)&gt; &amp; more<br>'
	refute_output --partial '<img'
	run jq -r '.headers.date, .headers["message-id"], .mail_from' smtp.log
	assert_line --index 0 --regexp '^[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} \+0000$'
	assert_line --index 1 --regexp '^<[^<>@ ]+@desk\.example>$'
	assert_line --index 2 'alerts@desk.example'
}

@test "email: To and Cc in the headers and the envelope; Bcc in the envelope only" {
	EMAIL_TO='a@desk.example, b@desk.example' smtp
	export TF_EMAIL_CC=risk@desk.example TF_EMAIL_BCC='audit@desk.example,boss@desk.example'
	run tf-notify <<<"$alert"
	assert_success
	assert_output --partial '"destination":"email:a@desk.example,b@desk.example +3 cc/bcc"'
	no_invalid smtp
	run jq -c '[.to, .cc, .rcpt_to]' smtp.log
	assert_output '[["a@desk.example","b@desk.example"],["risk@desk.example"],["a@desk.example","b@desk.example","risk@desk.example","audit@desk.example","boss@desk.example"]]'
	run jq -r '.headers | keys[]' smtp.log
	refute_line 'bcc'
	run jq -r '.headers | tostring' smtp.log
	refute_output --partial 'audit@'
}

@test "email: X-Priority and Importance follow the priority" {
	smtp
	printf '%s\n' '{"type":"alert","priority":"low","title":"l"}' \
		'{"type":"alert","priority":"medium","title":"m"}' \
		'{"type":"alert","priority":"high","title":"h"}' \
		'{"type":"alert","priority":"critical","title":"c"}' >in
	run tf-notify --channel email <in
	assert_success
	run jq -r '[.subject, .headers["x-priority"], .headers.importance] | join(" ")' smtp.log
	assert_output "$(printf '%s\n' 'l 5 (Lowest) Low' 'm 3 (Normal) Normal' \
		'h 2 (High) High' 'c 1 (Highest) High')"
}

@test "email: AUTH with TF_SMTP_USER and TF_SMTP_PASSWORD; a refused login fails at once" {
	SMTP_USER=alerts SMTP_PASSWORD=smtpsecret smtp
	export TF_SMTP_USER=alerts TF_SMTP_PASSWORD=smtpsecret
	run tf-notify <<<"$alert"
	assert_success
	assert_output --partial '"status":"sent"'
	run jq -r .auth smtp.log
	assert_output true
	export TF_SMTP_PASSWORD=wrong
	run_err tf-notify --retries 3 <<<"$alert"
	assert_failure 1
	assert_output --partial '"status":"failed","attempts":1,'
	assert_output --partial '"error":"SMTP login refused: 535'
	[[ $stderr == *"SMTP login refused"* && $stderr != *wrong* ]]
	run jq -s 'map(select(.ok | not)) | length' smtp.log.auth
	assert_output 1
	run jq -s length smtp.log
	assert_output 1
}

@test "email: smtp:// insists on STARTTLS except to this machine; TF_SMTP_USER needs TF_SMTP_PASSWORD" {
	smtp
	TF_SMTP_USER=alerts run_err tf-notify <<<"$alert"
	assert_equal "$status" 2
	[[ $stderr == *"email: TF_SMTP_USER needs TF_SMTP_PASSWORD"* ]]
	TF_SMTP_STARTTLS=maybe run_err tf-notify <<<"$alert"
	assert_equal "$status" 2
	[[ $stderr == *"email: TF_SMTP_STARTTLS is 'require' or 'try', not 'maybe'"* ]]
	# The test server offers no STARTTLS: when it is required nothing is
	# sent in clear, and the alert is reported failed.
	TF_SMTP_STARTTLS=require run_err tf-notify --retries 0 <<<"$alert"
	assert_equal "$status" 1
	assert_output --partial '"status":"failed"'
	[ ! -s smtp.log ]
	# To this machine, STARTTLS is tried and plain SMTP is accepted.
	run tf-notify <<<"$alert"
	assert_success
	assert_output --partial '"status":"sent"'
}

# tls_cert: a self-signed certificate for 127.0.0.1 in cert.pem/key.pem.
tls_cert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
		-days 2 -keyout "$BATS_TEST_TMPDIR/key.pem" \
		-out "$BATS_TEST_TMPDIR/cert.pem" 2>/dev/null
	export SMTP_CERT=$BATS_TEST_TMPDIR/cert.pem SMTP_KEY=$BATS_TEST_TMPDIR/key.pem
}

@test "email: smtps:// delivers over TLS to a server TF_SMTP_CA_FILE trusts, and to no other" {
	tls_cert
	SMTP_TLS=implicit smtp
	export TF_SMTP_URL=${TF_SMTP_URL/smtp:/smtps:}
	run tf-notify --retries 0 <<<"$alert"
	assert_failure 1
	assert_output --partial '"status":"failed"'
	[ ! -s smtp.log ]
	TF_SMTP_CA_FILE=$SMTP_CERT run tf-notify <<<"$alert"
	assert_success
	assert_output --partial '"channel":"email","status":"sent"'
	run jq -r '.subject' smtp.log
	assert_output 'BTC-USD above 70,000'
}

@test "email: smtp:// with STARTTLS required upgrades the connection and delivers" {
	tls_cert
	SMTP_TLS=starttls smtp
	TF_SMTP_STARTTLS=require TF_SMTP_CA_FILE=$SMTP_CERT run tf-notify <<<"$alert"
	assert_success
	assert_output --partial '"channel":"email","status":"sent"'
	run jq -s length smtp.log
	assert_output 1
}

@test "email: a 4xx answer is retried, then sent; a 5xx fails at once" {
	smtp 451 ok 550
	run tf-notify <<<"$alert"
	assert_success
	assert_output --partial '"status":"sent","attempts":2,'
	run_err tf-notify --retries 3 <<<"$alert"
	assert_failure 1
	assert_output --partial '"status":"failed","attempts":1,'
	assert_output --partial '"error":"SMTP 550 5.7.1 Message rejected"'
	run jq -r .behaviour smtp.log
	assert_output "$(printf '451\nok\n550')"
}

@test "email: an unreachable server is retried, then reported failed" {
	port=$(free_port)
	export TF_SMTP_URL=smtp://127.0.0.1:$port TF_EMAIL_FROM=a@desk.example \
		TF_EMAIL_TO=b@desk.example
	run_err tf-notify --retries 1 <<<"$alert"
	assert_failure 1
	assert_output --partial '"status":"failed","attempts":2,'
	assert_output --partial 'gave up after 2 attempts'
}

@test "email: settings are checked: scheme, From, addresses, a recipient" {
	export TF_SMTP_URL=http://127.0.0.1:9 TF_EMAIL_FROM=a@desk.example \
		TF_EMAIL_TO=b@desk.example
	run_err tf-notify <<<"$alert"
	assert_equal "$status" 2
	[[ $stderr == *"email: TF_SMTP_URL must start with smtp:// or smtps://"* ]]
	export TF_SMTP_URL=smtp://127.0.0.1:9
	TF_EMAIL_FROM= run_err tf-notify <<<"$alert"
	assert_equal "$status" 2
	[[ $stderr == *"email: set TF_EMAIL_FROM"* ]]
	TF_EMAIL_TO=$'ok@desk.example,evil@x.example\r\nBcc:y@z' run_err tf-notify <<<"$alert"
	assert_equal "$status" 2
	[[ $stderr == *"is not an address"* ]]
	TF_EMAIL_TO='a@x.example' TF_EMAIL_CC='b c@x.example' run_err tf-notify <<<"$alert"
	assert_equal "$status" 2
	[[ $stderr == *"email: 'b' is not an address"* ]]
	TF_EMAIL_TO= run_err tf-notify <<<"$alert"
	assert_equal "$status" 2
	[[ $stderr == *"email: set TF_EMAIL_TO"* ]]
	TF_EMAIL_TO= TF_EMAIL_BCC=b@desk.example run tf-notify -n <<<"$alert"
	assert_success
}

@test "email and sms: --dry-run masks the SMTP password and the Twilio token, sends nothing" {
	smtp
	twilio
	export TF_SMTP_URL="smtp://alerts:urlsecret@127.0.0.1:${TF_SMTP_URL##*:}"
	export TF_SMTP_USER=alerts TF_SMTP_PASSWORD=smtpsecret
	run_err tf-notify -n -vv <<<"$alert"
	assert_success
	[[ $output != *secret* && $stderr != *secret* ]]
	[[ $output != *0123456789abcdef0123456789abcdef* ]]
	assert_output --partial '"url":"smtp://alerts:***@127.0.0.1:'
	assert_output --partial '"url":"http://127.0.0.1:'"$port"'/2010-04-01/Accounts/AC01***/Messages.json"'
	assert_output --partial '"mail_from":"<alerts@desk.example>"'
	run cat smtp.log twilio.log
	assert_output ''
}

@test "sms: one form-encoded request per number, Basic auth, To, From and Body" {
	SMS_TO='+15551234567, +447700900123' twilio
	run tf-notify <<<"$alert"
	assert_success
	assert_line --partial '"destination":"sms:+15551234567"'
	assert_line --partial '"destination":"sms:+447700900123"'
	assert_output --partial '"http_status":201'
	no_invalid twilio
	run jq -c '[.auth_ok, .form.To, .form.From, .form.Body]' twilio.log
	assert_line '[true,"+15551234567","+15550001111","BTC-USD above 70,000\nprice 70,012.50 <crossed> & rising"]'
	assert_line '[true,"+447700900123","+15550001111","BTC-USD above 70,000\nprice 70,012.50 <crossed> & rising"]'
}

@test "sms: a Messaging Service SID in TF_TWILIO_FROM goes as MessagingServiceSid" {
	twilio
	export TF_TWILIO_FROM=MG0123456789abcdef0123456789abcdef
	run tf-notify <<<"$alert"
	assert_success
	no_invalid twilio
	run jq -c '[.form.MessagingServiceSid, .form.From]' twilio.log
	assert_output '["MG0123456789abcdef0123456789abcdef",null]'
}

@test "sms: 429 and 500 are retried; 400 (Twilio 21211) fails at once with the code" {
	twilio 429 500 400
	run tf-notify --retries 3 <<<"$alert"
	assert_failure 1
	assert_output --partial '"status":"failed","attempts":3,"http_status":400,'
	assert_output --partial "\"error\":\"HTTP 400: Twilio error 21211: The 'To' number +15551234567 is not a valid phone number.\""
	run jq -r .behaviour twilio.log
	assert_output "$(printf '429\n500\n400')"
	run tf-notify <<<"$alert"
	assert_success
	assert_output --partial '"status":"sent","attempts":1,"http_status":201'
}

@test "sms: settings are checked: numbers, From, SID, token, --sms-max-segments" {
	twilio
	TF_SMS_TO=5551234 run_err tf-notify <<<"$alert"
	assert_equal "$status" 2
	[[ $stderr == *"sms: '5551234' is not a +E.164 number"* ]]
	TF_TWILIO_FROM=tf-desk run_err tf-notify <<<"$alert"
	assert_equal "$status" 2
	[[ $stderr == *"sms: TF_TWILIO_FROM 'tf-desk' is neither"* ]]
	TF_TWILIO_AUTH_TOKEN= run_err tf-notify <<<"$alert"
	assert_equal "$status" 2
	[[ $stderr == *"sms: set TF_TWILIO_AUTH_TOKEN"* ]]
	TF_TWILIO_ACCOUNT_SID='AC1/../x' run_err tf-notify <<<"$alert"
	assert_equal "$status" 2
	[[ $stderr == *"sms: TF_TWILIO_ACCOUNT_SID is not an account SID"* ]]
	run_err tf-notify --sms-max-segments 11 <<<"$alert"
	assert_equal "$status" 2
	[[ $stderr == *"--sms-max-segments"* ]]
	run cat twilio.log
	assert_output ''
}

@test "sms: GSM-7: 160 septets are one segment, 161 are cut to one with '...'; '€' takes two" {
	twilio
	run sms_send 1 "$(sms_body 158)"
	assert_output '{"body":"T\n'"$(sms_body 158)"'","encoding":"GSM-7","segments":1,"errors":[]}'
	run sms_send 1 "$(sms_body 159)"
	assert_output '{"body":"T\n'"$(sms_body 155)"'...","encoding":"GSM-7","segments":1,"errors":[]}'
	run sms_send 1 "$(sms_body 79 €)"
	assert_output '{"body":"T\n'"$(sms_body 79 €)"'","encoding":"GSM-7","segments":1,"errors":[]}'
	# 2 + 156 + 2 = 160 septets fit; one more and the € goes whole.
	run sms_send 1 "$(sms_body 156)€"
	assert_output '{"body":"T\n'"$(sms_body 156)"'€","encoding":"GSM-7","segments":1,"errors":[]}'
	run sms_send 1 "$(sms_body 157)€"
	assert_output '{"body":"T\n'"$(sms_body 155)"'...","encoding":"GSM-7","segments":1,"errors":[]}'
}

@test "sms: GSM-7 concatenated segments hold 153 septets; an escape pair is never split" {
	twilio
	run sms_send 2 "$(sms_body 304)"
	assert_output '{"body":"T\n'"$(sms_body 304)"'","encoding":"GSM-7","segments":2,"errors":[]}'
	run sms_send 2 "$(sms_body 305)"
	assert_output '{"body":"T\n'"$(sms_body 301)"'...","encoding":"GSM-7","segments":2,"errors":[]}'
	# "T\n" + 151 x = 153; the € starts segment 2, which then holds 151
	# more septets, not 152.
	run sms_send 2 "$(sms_body 151)€$(sms_body 151)"
	assert_output '{"body":"T\n'"$(sms_body 151)€$(sms_body 151)"'","encoding":"GSM-7","segments":2,"errors":[]}'
	run sms_send 2 "$(sms_body 151)€$(sms_body 152)"
	assert_output '{"body":"T\n'"$(sms_body 151)€$(sms_body 148)"'...","encoding":"GSM-7","segments":2,"errors":[]}'
}

@test "sms: one emoji makes it UCS-2 (70, then 67 a segment), cut with '…', never inside a surrogate pair" {
	twilio
	run sms_send 1 "$(sms_body 66)🚀"
	assert_output '{"body":"T\n'"$(sms_body 66)"'🚀","encoding":"UCS-2","segments":1,"errors":[]}'
	run sms_send 1 "$(sms_body 67)🚀"
	assert_output '{"body":"T\n'"$(sms_body 67)"'…","encoding":"UCS-2","segments":1,"errors":[]}'
	run sms_send 1 "$(sms_body 66)🚀y"
	assert_output '{"body":"T\n'"$(sms_body 66)"'…","encoding":"UCS-2","segments":1,"errors":[]}'
	run sms_send 2 "🚀$(sms_body 130)"
	assert_output '{"body":"T\n🚀'"$(sms_body 130)"'","encoding":"UCS-2","segments":2,"errors":[]}'
	run sms_send 2 "🚀$(sms_body 131)"
	assert_output '{"body":"T\n🚀'"$(sms_body 129)"'…","encoding":"UCS-2","segments":2,"errors":[]}'
	run sms_send 3 "$(sms_body 500 é)🚀"
	assert_output --partial '"encoding":"UCS-2","segments":3,'
}

@test "sms: text is cut at --sms-max-segments (default 4, TF_SMS_MAX_SEGMENTS)" {
	twilio
	jq -nc --arg m "$(sms_body 2000)" '{type:"alert",message:$m}' >in
	run tf-notify --title T <in
	assert_success
	run jq -c '[.segments, (.form.Body | length), (.form.Body | endswith("x..."))]' twilio.log
	assert_output '[4,612,true]'
	: >twilio.log
	TF_SMS_MAX_SEGMENTS=10 run tf-notify --title T <in
	assert_success
	run jq -c '[.segments, (.form.Body | length)]' twilio.log
	assert_output '[10,1530]'
}

@test "email: a long or hostile title is folded into encoded words; no header can be injected" {
	smtp
	export TF_EMAIL_FROM='Désk alerts <alerts@desk.example>'
	title=$(sms_body 40 'Ünïcødé € 🚀 ')
	jq -nc --arg t "$title" '{type:"alert",title:$t,message:"m"}' >in
	printf '%s\n' '{"type":"alert","title":"hi\r\nBcc: evil@x.example","message":"m"}' >>in
	run tf-notify <in
	assert_success
	no_invalid smtp
	# 200 UTF-16 units at most, cut with "…", a prefix of the title.
	run jq -r --arg t "$title" '.subject | [endswith("…"), ($t | startswith(.[:-1])), (length > 180 and length <= 200)] | all' smtp.log
	assert_line --index 0 true
	run jq -r '.raw_subject' smtp.log
	assert_output --regexp $'\r\n =\\?UTF-8\\?B\\?'
	run jq -c '[.subject, .headers.bcc, .rcpt_to, .headers.from]' smtp.log
	assert_line --index 1 '["hi",null,["trader@desk.example"],"Désk alerts <alerts@desk.example>"]'
}

@test "sms: a refused token (401) fails at once with Twilio's code" {
	twilio
	export TF_TWILIO_AUTH_TOKEN=wrong
	run_err tf-notify --retries 3 <<<"$alert"
	assert_failure 1
	assert_output --partial '"status":"failed","attempts":1,"http_status":401,"error":"HTTP 401: Twilio error 20003: Authenticate"'
	[[ $stderr != *wrong* ]]
}

# Secrets: none may reach stdout or stderr, whatever a service echoes back.

# every_channel [BEHAVIOUR...]: every channel configured against its local
# receiver answering BEHAVIOUR... (default ok; SMTP logins are refused, with
# the password quoted, unless SMTP_OK is set), with a secret in each place
# one can be: a password in every URL's userinfo, the Slack and Discord
# webhook paths, the Telegram bot token, a webhook header from the
# environment, the Twilio auth token, the SMTP password. Every secret holds
# "secret"; $forbidden lists that and the base64 logins built from them
# (without padding, which percent-encoding would change).
every_channel() {
	local u
	fake slack "$@"
	export TF_SLACK_WEBHOOK_URL=${TF_SLACK_WEBHOOK_URL/127.0.0.1/slackuser:slackpw-secret@127.0.0.1}
	fake discord "$@"
	export TF_DISCORD_WEBHOOK_URL=${TF_DISCORD_WEBHOOK_URL/127.0.0.1/discorduser:discordpw-secret@127.0.0.1}
	FAKE_TOKEN=4242:tg-secret fake telegram "$@"
	export TF_TELEGRAM_BOT_TOKEN=4242:tg-secret
	export TF_TELEGRAM_API_URL=${TF_TELEGRAM_API_URL/127.0.0.1/tguser:tgpw-secret@127.0.0.1}
	fake webhook "$@"
	export TF_WEBHOOK_URL=${TF_WEBHOOK_URL/127.0.0.1/hookuser:hookpw-secret@127.0.0.1}
	export TF_WEBHOOK_HEADERS='X-Api-Key: Token key-secret'
	twilio "${@/echo*/echo}"
	export TF_TWILIO_API_URL=${TF_TWILIO_API_URL/127.0.0.1/twuser:twpw-secret@127.0.0.1}
	SMTP_USER=alerts SMTP_PASSWORD=${SMTP_OK:+smtp-secret} SMTP_ECHO=1 smtp
	export TF_SMTP_URL=${TF_SMTP_URL/127.0.0.1/alerts:smtpurl-secret@127.0.0.1}
	export TF_SMTP_USER=alerts TF_SMTP_PASSWORD=smtp-secret
	forbidden=(secret)
	for u in slackuser:slackpw-secret discorduser:discordpw-secret \
		tguser:tgpw-secret hookuser:hookpw-secret twuser:twpw-secret \
		"$TF_TWILIO_ACCOUNT_SID:twiliosecret" alerts:smtpurl-secret \
		smtp-secret; do
		forbidden+=("$(printf %s "$u" | base64 -w0 | tr -d =)")
	done
	forbidden+=("$(printf '\0alerts\0smtp-secret' | base64 -w0 | tr -d =)")
}

# no_secret: nothing of $forbidden in $output or $stderr.
no_secret() {
	local f
	for f in "${forbidden[@]}"; do
		if [[ $output == *"$f"* || $stderr == *"$f"* ]]; then
			printf 'leaked %s in:\n%s\n%s\n' "$f" "$output" "$stderr" >&2
			return 1
		fi
	done
}

@test "secrets: success reports and -vv show no password, token or webhook path" {
	SMTP_OK=1 every_channel
	run_err tf-notify -vv <<<"$alert"
	assert_success
	no_secret
	output=$(jq -r '"\(.channel) \(.status) \(.destination)"' <<<"$output" |
		sed -E 's/1:[0-9]+/1:PORT/' | sort)
	assert_output - <<-'END'
		discord sent http://discorduser:***@127.0.0.1:PORT/api/webhooks/123/***
		email sent email:trader@desk.example
		slack sent http://slackuser:***@127.0.0.1:PORT/services/***
		sms sent sms:+15551234567
		telegram sent telegram:42
		webhook sent http://hookuser:***@127.0.0.1:PORT/***
	END
}

@test "secrets: failure reports and stderr mask what a service echoes back (as sent, percent-encoded, JSON-escaped)" {
	every_channel echo echo-url echo-json
	for form in echo echo-url echo-json; do
		run_err tf-notify -vv --retries 0 <<<"$alert"
		assert_failure 1
		no_secret
		assert_equal "$(jq -r .status <<<"$output" | sort -u)" failed
		# What is left is there to read.
		case $form in
		echo) assert_output --partial '"error":"HTTP 400: POST /bot***/sendMessage | login tguser:*** | authorization: Basic *** | {' ;;
		echo-url) assert_output --partial '"error":"HTTP 400: POST%20%2Fbot***%2FsendMessage%20%7C%20login%20tguser%3A***%20%7C' ;;
		echo-json) assert_output --partial '"error":"HTTP 400: POST \\/bot***\\/sendMessage | login tguser:***' ;;
		esac
		assert_output --partial '"error":"SMTP login refused: 535 5.7.8 no user alerts with password *** (***)"'
		assert_output --partial '"error":"HTTP 400: Twilio error 21211: login AC0123456789abcdef0123456789abcdef:*** | authorization: Basic *** |'
	done
	# What each service got: the secrets, as sent.
	run jq -r .path telegram.log
	assert_line --index 0 /bot4242:tg-secret/sendMessage
	run jq -r '.headers.authorization' webhook.log
	assert_line --index 0 "Basic $(printf hookuser:hookpw-secret | base64 -w0)"
	run jq -r '.headers["x-api-key"]' webhook.log
	assert_line --index 0 'Token key-secret'
	run jq -r .behaviour twilio.log
	assert_output $'echo\necho\necho'
	run jq -r .mechanism smtp.log.auth
	assert_line --index 0 --regexp '^(PLAIN|LOGIN)$'
}

@test "secrets: --dry-run -vv shows every request with no password, token or webhook path" {
	SMTP_OK=1 every_channel
	run_err tf-notify -n -vv <<<"$alert"
	assert_success
	no_secret
	output=$(jq -r '"\(.channel) \(.url) \(.headers | join("; "))"' <<<"$output" |
		sed -E 's/1:[0-9]+/1:PORT/' | sort)
	assert_output - <<-'END'
		discord http://discorduser:***@127.0.0.1:PORT/api/webhooks/123/***?wait=true Content-Type: application/json
		email smtp://alerts:***@127.0.0.1:PORT 
		slack http://slackuser:***@127.0.0.1:PORT/services/*** Content-Type: application/json
		sms http://twuser:***@127.0.0.1:PORT/2010-04-01/Accounts/AC01***/Messages.json Content-Type: application/x-www-form-urlencoded; Accept: application/json
		telegram http://tguser:***@127.0.0.1:PORT/bot***/sendMessage Content-Type: application/json
		webhook http://hookuser:***@127.0.0.1:PORT/*** Content-Type: application/json; X-Api-Key: ***
	END
	run cat slack.log discord.log telegram.log webhook.log twilio.log smtp.log
	assert_output ''
}

@test "secrets: a secret that a report's length limit would cut is masked whole first" {
	FAKE_ECHO_STATUS=503 fake webhook echo
	long=$(printf 's3cr3t%.0s' {1..40})
	export TF_WEBHOOK_URL="http://127.0.0.1:$port/hook/$long"
	run_err tf-notify -v --retries 0 <<<"$alert"
	assert_failure 1
	[[ $output != *s3cr3ts3cr3t* && $stderr != *s3cr3ts3cr3t* ]]
	assert_output --partial '"error":"HTTP 503: POST /*** | {\"type\":\"alert\"'
	assert_output --partial '(gave up after 1 attempt)'
}

@test "secrets: a webhook header from the environment that is not 'Name: value' is quoted up to its first blank" {
	export TF_WEBHOOK_URL=http://127.0.0.1:9/x
	export TF_WEBHOOK_HEADERS='Authorization Bearer hdr-secret'
	run_err tf-notify <<<"$alert"
	assert_equal "$status" 2
	[[ $stderr == *"webhook: header 'Authorization' is not 'Name: value'"* ]]
	[[ $stderr != *hdr-secret* ]]
}

@test "at most 32 webhook headers (--header and TF_WEBHOOK_HEADERS)" {
	export TF_WEBHOOK_URL=http://127.0.0.1:9/x
	args=()
	for i in $(seq 33); do args+=(-H "X-H$i: v"); done
	run_err tf-notify -n "${args[@]}" <<<"$alert"
	assert_equal "$status" 2
	[[ $stderr == *"--header: at most 32 headers"* ]]
	export TF_WEBHOOK_HEADERS=$(printf 'X-H%s: v\n' $(seq 33))
	run_err tf-notify -n <<<"$alert"
	assert_equal "$status" 2
	[[ $stderr == *"TF_WEBHOOK_HEADERS: at most 32 headers"* ]]
	run_err tf-notify -n "${args[@]:2}" <<<"$alert"
	assert_success
	assert_equal "$(jq '.headers | length' <<<"$output")" 33
}

@test "a message-only alert is said once: slack, discord, telegram and sms do not repeat it as title and text" {
	fake slack
	fake discord
	fake telegram
	twilio
	only='{"type":"alert","priority":"high","message":"disk 95%"}'
	run tf-notify <<<"$only"
	assert_success
	for s in slack discord telegram; do no_invalid $s; done
	run jq -c '.body' slack.log
	assert_output '{"text":"disk 95%","attachments":[{"color":"#ff9800","blocks":[{"type":"header","text":{"type":"plain_text","text":"disk 95%","emoji":true}}]}]}'
	run jq -c '.body.embeds[0] | [.title, .description]' discord.log
	assert_output '["disk 95%",null]'
	run jq -r '.body.text' telegram.log
	assert_output '<b>disk 95%</b>'
	run jq -r '.form.Body' twilio.log
	assert_output 'disk 95%'
	# Several lines: the first is the title, the text is the rest.
	rm -f slack.log twilio.log
	run tf-notify -c slack,sms <<<'{"type":"alert","message":"disk 95%\non db1 & db2 +5/é"}'
	assert_success
	run jq -r '.body.text' slack.log
	assert_output 'disk 95%: on db1 &amp; db2 +5/é'
	# Form-encoded by libcurl, read back whole.
	run jq -r '.form.Body' twilio.log
	assert_output "$(printf 'disk 95%%\non db1 & db2 +5/é')"
}

@test "the ntfy example of tf-notify(1) sends JSON labelled JSON, with title and priority" {
	fake webhook
	format=$(awk '/^tf-notify -c webhook --format/ { on = 1 }
		on { print } on && /}'"'"'$/ { exit }' "$TF_ROOT/man/tf-notify.1" |
		sed "1s/^tf-notify -c webhook --format '//; \$s/'\$//")
	[ -n "$format" ]
	run tf-notify -c webhook --format "$format" <<<"$alert"
	assert_success
	no_invalid webhook
	run jq -c '[.headers["content-type"], .body]' webhook.log
	assert_output '["application/json",{"topic":"trading","title":"BTC-USD above 70,000","message":"price 70,012.50 <crossed> & rising","priority":4}]'
}

@test "waiting at exit: after a second it says for how many deliveries and how long; a second interrupt reports the rest not delivered" {
	fake webhook hang
	echo "$alert" >in
	tf-notify <in >out 2>err 3>&- &
	pid=$!
	echo "$pid" >>pids
	wait_for grep -q 'waiting for 1 delivery, at most .* more (--deadline); interrupt twice to stop waiting' err
	# A first interrupt lets the deliveries finish, and says so.
	kill -INT "$pid"
	wait_for grep -q 'interrupt again to stop waiting' err
	kill -0 "$pid"
	kill -INT "$pid"
	rc=0
	wait "$pid" || rc=$?
	assert_equal "$rc" 130
	run cat err
	assert_line 'tf-notify: interrupted again: 1 delivery not delivered'
	run cat out
	assert_output --partial '"status":"failed",'
	assert_output --partial '"error":"not delivered: interrupted while waiting"'
}

@test "waiting after an interrupt: a second one stops the wait; deliveries done within a second say nothing" {
	fake webhook hang hang
	mkfifo fifo
	tf-notify <fifo >out 2>err 3>&- &
	pid=$!
	echo "$pid" >>pids
	exec 7>fifo
	echo "$alert" >&7
	echo "$alert" >&7
	wait_for eval '[ "$(grep -c . webhook.log)" -eq 2 ]'
	kill -INT "$pid"
	wait_for grep -q 'waiting for 2 deliveries, at most .* more (--deadline); interrupt again to stop waiting' err
	kill -INT "$pid"
	rc=0
	wait "$pid" || rc=$?
	exec 7>&-
	assert_equal "$rc" 130
	assert_equal "$(grep -c 'not delivered: interrupted while waiting' out)" 2
	run grep -c 'interrupted again: 2 deliveries not delivered' err
	assert_output 1
	# A receiver that answers: nothing about waiting.
	rm -f webhook.log err
	fake webhook
	run_err tf-notify <<<"$alert"
	assert_success
	[[ $stderr != *waiting* ]]
}
