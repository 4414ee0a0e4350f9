#!/usr/bin/env bats
# tf-notify: what a user relies on when alerts must reach people: every
# request checked by a local stand-in of the service (test/receivers).

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	unset TF_SLACK_WEBHOOK_URL TF_DISCORD_WEBHOOK_URL TF_WEBHOOK_URL \
		TF_TELEGRAM_API_URL TF_TELEGRAM_BOT_TOKEN TF_TELEGRAM_CHAT_IDS \
		TF_WEBHOOK_HEADERS
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

@test "no configured channel, an unknown one, or email is a usage error (exit 2)" {
	run_err tf-notify <<<"$alert"
	assert_equal "$status" 2
	[[ $stderr == *"no channel configured: set TF_SLACK_WEBHOOK_URL"* ]]
	export TF_SLACK_WEBHOOK_URL=http://127.0.0.1:9/services/x
	run_err tf-notify --channel pager <<<"$alert"
	assert_equal "$status" 2
	[[ $stderr == *"--channel: no channel 'pager'"* ]]
	run_err tf-notify --channel email <<<"$alert"
	assert_equal "$status" 2
	[[ $stderr == *"--channel: email is not yet available"* ]]
	run_err tf-notify --channel telegram <<<"$alert"
	assert_equal "$status" 2
	[[ $stderr == *"telegram: set TF_TELEGRAM_BOT_TOKEN"* ]]
}

@test "secrets are not taken from the command line" {
	run_err tf-notify --telegram-bot-token 1:X --channel telegram <<<"$alert"
	assert_equal "$status" 2
	[[ $stderr == *"unknown or ambiguous option --telegram-bot-token"* ]]
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
	run jq -s '[.[1].t - .[0].t, .[2].t - .[1].t] | map(. >= 0.95) | all' slack.log
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
	run jq -s '.[1].t - .[0].t >= 0.95' telegram.log
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
	run jq -c 'select(.seq == 3) | .body | [.title, .message, .priority, .suppressed]' webhook.log
	assert_output '["3 more alerts","a3\na4\na5","high",3]'
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
	assert_line --index 5 'disk 95%: disk 95%'
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

@test "SIGTERM: in-flight deliveries finish and are reported" {
	fake webhook slow
	mkfifo fifo
	tf-notify <fifo >out 2>err 3>&- &
	pid=$!
	exec 7>fifo
	echo "$alert" >&7
	wait_for test -s webhook.log
	kill -TERM "$pid"
	wait "$pid"
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
	run jq -s '.[1].t - .[0].t >= 0.95' slack.log
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

@test "SIGTERM with a receiver that never answers: reported failed within the deadline" {
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
	assert_equal "$rc" 1
	exec 7>&-
	run cat out
	assert_output --partial '"status":"failed","attempts":1,"http_status":null,"error":"deadline reached (--deadline 1.000s)"'
}

@test "one destination keeps input order, even across retries" {
	fake webhook 500
	for i in 1 2 3; do echo "{\"type\":\"alert\",\"title\":\"a$i\"}"; done >in
	run tf-notify <in
	assert_success
	run jq -r '.body.title' webhook.log
	assert_output "$(printf 'a1\na1\na2\na3')"
}

@test "telegram: one message per second per chat, chats in parallel" {
	CHATS=1,2 fake telegram
	printf '%s\n' "$alert" "$alert" >in
	run tf-notify <in
	assert_success
	run jq -s '(map(select(.body.chat_id == 1)) | .[1].t - .[0].t >= 0.95),
		(map(select(.body.chat_id == 2)) | .[1].t - .[0].t >= 0.95),
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
