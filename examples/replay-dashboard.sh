#!/bin/sh
# replay-dashboard.sh RECORDING: yesterday again, 10x, in the dashboard:
# tf-replay --speed 10 RECORDING | tf-serve --keep-open. The page stays up
# after the replay ends, until Ctrl-C. Knobs: SPEED (10, or max), PORT (8080).
set -eu
B=${B:-build}
case $B in
/*) PATH=$B:$PATH ;;
*) PATH=$(cd "$(dirname "$0")/.." && pwd)/$B:$PATH ;;
esac
SPEED=${SPEED:-10}
PORT=${PORT:-8080}
if [ $# -ne 1 ]; then
	echo "usage: replay-dashboard.sh RECORDING" >&2
	exit 2
fi
# A clear error for a missing file or one that is not a recording, rather
# than an empty dashboard.
tf-replay --list -q "$1" >/dev/null

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tf-replay.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# A signal sent to this script alone (Ctrl-C reaches both programs anyway)
# stops both.
stop() {
	for f in "$tmp/replay.pid" "$tmp/serve.pid"; do
		i=0
		while [ ! -s "$f" ] && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		if [ -s "$f" ]; then
			kill -TERM "$(cat "$f")" 2>/dev/null || true
		fi
	done
}
trap stop INT TERM

echo "replay-dashboard: $1 at speed $SPEED: open http://127.0.0.1:$PORT/ (Ctrl-C to stop)" >&2
# The buttons have no engine to steer here: control lines are dropped.
sh -c 'echo $$ >"$0"; exec "$@"' "$tmp/replay.pid" \
	tf-replay --speed "$SPEED" "$1" |
	{
		rc=0
		sh -c 'echo $$ >"$0"; exec "$@"' "$tmp/serve.pid" \
			tf-serve --keep-open --port "$PORT" >/dev/null || rc=$?
		echo $rc >"$tmp/rc"
		stop	# tf-serve ended (or could not listen): tf-replay goes too
	} &

# wait returns early when a trapped signal arrives: wait on until every
# process has ended.
until wait; do :; done
rc=$(cat "$tmp/rc" 2>/dev/null || echo 1)
# Stopped by Ctrl-C or SIGTERM, tf-serve ends by that signal (130, 143):
# that is how this script is meant to end.
case $rc in 130 | 143) rc=0 ;; esac
exit "$rc"
