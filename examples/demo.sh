#!/bin/sh
# demo.sh: `make run`: tf-sim | tf-record -d demo.db | tf-serve, the live
# dashboard at http://127.0.0.1:8080/, its buttons steering tf-sim through a
# FIFO. Ctrl-C (or DURATION, e.g. 30s) stops it. Knobs: DB, RATE, PORT.
set -eu
cd "$(dirname "$0")/.."
B=${B:-build}
DB=${DB:-demo.db}
RATE=${RATE:-10}
PORT=${PORT:-8080}
case $B in /*) PATH=$B:$PATH ;; *) PATH=$PWD/$B:$PATH ;; esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tf-demo.XXXXXX")
ctl=$tmp/control
trap 'rm -rf "$tmp"' EXIT
mkfifo "$ctl"

# Stopping the source is a clean stop: tf-record commits at EOF, tf-serve
# closes its clients at EOF. Ctrl-C signals every process at once anyway;
# this is for a SIGINT/SIGTERM sent to this script alone.
stop_sim() {
	i=0
	while [ ! -s "$tmp/sim.pid" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if [ -s "$tmp/sim.pid" ]; then
		kill -TERM "$(cat "$tmp/sim.pid")" 2>/dev/null || true
	fi
}
trap stop_sim INT TERM

if [ -n "${DURATION:-}" ]; then
	set -- --duration "$DURATION"
fi
# A bad RATE or DURATION is said now, not after an empty dashboard.
tf-sim --rate "$RATE" "$@" --count 1 >/dev/null
echo "demo: tf-sim | tf-record -d $DB | tf-serve: open http://127.0.0.1:$PORT/ (Ctrl-C to stop)" >&2

# tf-sim opens the FIFO without waiting for a writer; tf-serve's stdout
# opens it read-write, which never waits for a reader either: no start-up
# order can deadlock. When tf-serve ends (or cannot listen), tf-sim is
# stopped too, so nothing is left running.
sh -c 'echo $$ >"$0"; exec "$@"' "$tmp/sim.pid" \
	tf-sim --control "$ctl" --rate "$RATE" "$@" |
	tf-record -d "$DB" |
	{
		rc=0
		tf-serve --port "$PORT" 1<>"$ctl" || rc=$?
		echo $rc >"$tmp/rc"
		stop_sim
	} &

# wait returns early when a trapped signal arrives: wait on until every
# process has ended.
until wait; do :; done
rc=$(cat "$tmp/rc" 2>/dev/null || echo 1)
# Stopped by Ctrl-C or SIGTERM, tf-serve ends by that signal (130, 143):
# that is how the demo is meant to end.
case $rc in 130 | 143) rc=0 ;; esac
[ "$rc" -eq 0 ] || exit "$rc"
cat >&2 <<MSG

demo: recorded into $DB. Play it back:
  $B/tf-replay --list $DB
  $B/tf-replay --speed max --type trade_executed $DB
  PORT=$PORT examples/replay-dashboard.sh $DB      # the dashboard again, 10x
MSG
