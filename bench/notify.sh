#!/usr/bin/env bash
# notify.sh: tf-notify's webhook delivery beside apprise's json:// to the
# same local receiver (bench/slow-receiver.py), which answers each POST
# after 50 ms: alerts/s and delivery latency (receiver's arrival time minus
# the "t" the generator wrote into the alert, epoch ns), in one run.
# apprise three ways: one `apprise -vv -b BODY json://...` process per alert
# (what a cron job does), its library in one process calling notify() per
# alert, and its library handing every alert at once to async_notify()
# (asyncio.gather; apprise's own thread pool sends them).
#
# env: B (build dir), N (1000 alerts for tf-notify and apprise async),
#      N_CLI (100: apprise processes), N_SEQ (200: apprise notify() calls),
#      DELAY_MS (50), DEADLINE (90: tf-notify --deadline, seconds),
#      TF_FLAGS (more flags for tf-notify), PEER=0 (no apprise),
#      KEEP=1 (keep the run directory and print its name)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.bash
B=${B:-build}
N=${N:-1000}
N_CLI=${N_CLI:-100}
N_SEQ=${N_SEQ:-200}
DELAY_MS=${DELAY_MS:-50}
DEADLINE=${DEADLINE:-90}
PEER=${PEER:-1}
PY=/usr/bin/python3	# Debian's, which has the apprise package
read -r -a tf_flags <<<"${TF_FLAGS:-}"
bench_need tf-notify
have_apprise=0
if [ "$PEER" != 0 ] && command -v apprise >/dev/null &&
	$PY -c 'import apprise' 2>/dev/null; then
	have_apprise=1
elif [ "$PEER" != 0 ]; then
	echo "notify.sh: apprise missing (scripts/install-deps): tf-notify only" >&2
fi

rpid=""
# The receiver is not this shell's child: end it and wait for it here.
bench_on_exit() {
	local i
	[ -n "$rpid" ] || return 0
	kill -9 "$rpid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "$rpid" 2>/dev/null || break
		sleep 0.1
	done
}
bench_start KILL

# Started from a subshell, so that this shell reports nothing when the
# receiver is killed at exit.
($PY bench/slow-receiver.py "$tmp/port" "$tmp/recv.log" "$DELAY_MS" \
	2>"$tmp/receiver.err" & echo $! >"$tmp/receiver.pid")
rpid=$(cat "$tmp/receiver.pid")
for ((i = 0; i < 100; i++)); do
	[ -s "$tmp/port" ] && break
	kill -0 "$rpid" 2>/dev/null || break
	sleep 0.05
done
[ -s "$tmp/port" ] || {
	echo "notify.sh: the receiver did not start:" >&2
	cat "$tmp/receiver.err" >&2
	exit 1
}
port=$(cat "$tmp/port")
url=http://127.0.0.1:$port/hook

# The alert of run RUN, number SEQ, stamped T; shared by every driver.
alert_py='
import json, time
def alert(run, seq):
    return json.dumps({"type": "alert", "run": run, "seq": seq,
        "t": time.time_ns(), "symbol": "BTCUSD", "priority": "high",
        "title": "bench alert %d" % seq,
        "message": "price crossed 64000.00 (bench)"}, separators=(",", ":"))
'

now_ns() { date +%s%N; }

# timed NAME CMD...: runs CMD; $tmp/NAME.secs gets its wall seconds,
# unless CMD wrote its own there.
timed() {
	local name=$1 t0 t1
	shift
	t0=$(now_ns)
	"$@" || echo "notify.sh: $name: exit status $?" >&2
	t1=$(now_ns)
	[ -s "$tmp/$name.secs" ] ||
		awk -v ms=$(((t1 - t0) / 1000000)) 'BEGIN { printf "%.3f\n", ms / 1000 }' \
			>"$tmp/$name.secs"
}

# tf-notify: the generator writes the N alerts into its stdin as fast as
# the pipe takes them, stamping each as it goes.
run_tf() {
	$PY -c "$alert_py
import sys
for i in range($N):
    sys.stdout.write(alert('tf', i) + '\n')
    sys.stdout.flush()
" | TF_WEBHOOK_URL=$url timeout $((DEADLINE + 30)) "$B/tf-notify" \
		-c webhook -q --deadline "${DEADLINE}s" \
		--max-queue $((N > 1000 ? N : 1000)) \
		${tf_flags[@]+"${tf_flags[@]}"} >"$tmp/tf.reports" 2>"$tmp/tf.err"
}

# apprise, one process per alert, one after the other.
run_cli() {
	$PY -c "$alert_py
import subprocess, sys
err = open('$tmp/cli.err', 'w')
for i in range($N_CLI):
    try:
        subprocess.run(['apprise', '-vv', '-b', alert('cli', i),
            'json://127.0.0.1:$port/hook'], stdout=subprocess.DEVNULL,
            stderr=err, timeout=30)
    except subprocess.TimeoutExpired:
        print('notify.sh: apprise: alert %d: timed out' % i, file=sys.stderr)
"
}

# apprise's library, one notify() per alert; timed from after the import.
run_seq() {
	timeout 120 $PY -c "$alert_py
import apprise
a = apprise.Apprise()
a.add('json://127.0.0.1:$port/hook')
t0 = time.monotonic()
for i in range($N_SEQ):
    a.notify(body=alert('seq', i))
open('$tmp/seq.secs', 'w').write('%.3f\\n' % (time.monotonic() - t0))
" 2>"$tmp/seq.err"
}

# apprise's library, every alert at once through async_notify(); timed
# from after the import.
run_async() {
	timeout 120 $PY -c "$alert_py
import apprise, asyncio
a = apprise.Apprise()
a.add('json://127.0.0.1:$port/hook')
async def main():
    await asyncio.gather(*(a.async_notify(body=alert('async', i))
                           for i in range($N)))
t0 = time.monotonic()
asyncio.run(main())
open('$tmp/async.secs', 'w').write('%.3f\\n' % (time.monotonic() - t0))
" 2>"$tmp/async.err"
}

timed tf run_tf
if [ $have_apprise = 1 ]; then
	timed cli run_cli
	timed seq run_seq
	timed async run_async
fi
sleep 0.2	# let the receiver log the last answers

# row RUN LABEL SENT: one line of the table, from the receiver's log and
# the run's wall seconds; also writes the rate to $tmp/RUN.rate.
row() {
	local secs
	[ -s "$tmp/$1.secs" ] || return 0
	secs=$(cat "$tmp/$1.secs")
	$PY - "$tmp/recv.log" "$1" "$2" "$3" "$secs" "$tmp/$1.rate" <<-'EOF'
	import sys
	log, run, label, sent, secs, ratef = sys.argv[1:]
	lat = sorted((int(r) - int(t)) / 1e6 for name, _, t, r in
	             (l.split() for l in open(log)) if name == run)
	n, secs = len(lat), float(secs)
	pct = lambda p: lat[min(n - 1, int(p * n))] if n else float("nan")
	rate = n / secs if secs > 0 else 0
	open(ratef, "w").write("%f\n" % rate)
	print("  %-44s %6s %6d %8.2f %9.1f %9.1f %9.1f" %
	      (label, sent, n, secs, rate, pct(0.50), pct(0.99)))
	EOF
}

sent_tf=$(grep -c '"status":"sent"' "$tmp/tf.reports" || true)
echo "tf-notify: alerts to a local webhook that answers each POST after ${DELAY_MS} ms"
echo "  ($(nproc) cores shared by receiver and senders; latency: receiver's arrival"
echo "   minus the alert's \"t\", stamped when the alert was handed to the sender;"
echo "   load average before the runs: $load0)"
printf "  %-44s %6s %6s %8s %9s %9s %9s\n" sender alerts recvd seconds \
	alerts/s "p50 ms" "p99 ms"
row tf "tf-notify -c webhook" "$N"
if [ $have_apprise = 1 ]; then
	row cli "apprise CLI, one process per alert" "$N_CLI"
	row seq "apprise library, notify() per alert" "$N_SEQ"
	row async "apprise library, async_notify() all at once" "$N"
fi
if [ "$sent_tf" -ne "$N" ]; then
	echo "  tf-notify reported $sent_tf of $N sent; see its errors:"
	sort "$tmp/tf.err" | uniq -c | sort -rn | head -3 | sed 's/^/    /'
fi
if [ $have_apprise = 1 ]; then
	awk -v tf="$(cat "$tmp/tf.rate")" -v c="$(cat "$tmp/cli.rate")" \
		-v s="$(cat "$tmp/seq.rate")" -v a="$(cat "$tmp/async.rate")" 'BEGIN {
		printf "  tf-notify / apprise: %.1fx the CLI, %.1fx notify(), %.1fx async_notify() (alerts/s)\n",
			(c > 0 ? tf / c : 0), (s > 0 ? tf / s : 0), (a > 0 ? tf / a : 0) }'
	echo "  (apprise CLI on $N_CLI alerts and notify() on $N_SEQ, to keep the run short;"
	echo "   async_notify() sends through apprise's thread pool, $(($(nproc) + 4 < 32 ? $(nproc) + 4 : 32)) threads here)"
fi
echo "  (tf-notify: defaults but --deadline ${DEADLINE}s${TF_FLAGS:+ $TF_FLAGS}: up to 16 transfers"
echo "   at once (--parallel), which a webhook may all use for its one URL)"
echo "  (targets: tf-notify >= 200 alerts/s and >= 20x apprise)"
