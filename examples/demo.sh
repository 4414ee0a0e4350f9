#!/bin/sh
# demo.sh: the simulator recorded live: tf-sim | tf-record, shown on the
# terminal, into demo.db; then how to play it back. `make run` runs this.
# DURATION (e.g. 30s) stops it on its own; otherwise Ctrl-C stops it.
set -eu
cd "$(dirname "$0")/.."
B=${B:-build}
DB=${DB:-demo.db}
PATH=$PWD/$B:$PATH

echo "demo: tf-sim | tf-record -d $DB   (Ctrl-C to stop)" >&2
trap 'echo >&2' INT
if [ -n "${DURATION:-}" ]; then
	set -- --duration "$DURATION"
fi
tf-sim --rate "${RATE:-10}" "$@" | tf-record -d "$DB" || true
cat >&2 <<MSG

demo: recorded into $DB. Play it back:
  $B/tf-replay --list $DB
  $B/tf-replay --speed 10 $DB
  $B/tf-replay --speed max --type trade_executed $DB
MSG
