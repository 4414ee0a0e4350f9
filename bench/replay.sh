#!/usr/bin/env bash
# replay.sh: tf-replay's benchmarks. 1) Throughput: `tf-replay --speed max`
# against sqlite3 reading the same rows, on 1,000,000 lines of ~200 bytes.
# 2) Pacing: how late each line comes at --speed 1 on a recording of 1,000
# lines/s for 30 s (bench/lateness.c), first and last 10% apart.
#
# usage: bench/replay.sh [BIG.db [PACED.db]]   (made when not given)
# env: B (build dir, default build), LINES (1000000), RATE (1000),
#      SECONDS_PACED (30), RUNS (3: best of), SKIP_PACED=1 (throughput only)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${B:-build}
LINES=${LINES:-1000000}
RATE=${RATE:-1000}
SECONDS_PACED=${SECONDS_PACED:-30}
RUNS=${RUNS:-3}
for p in tf-replay tf-record bench/lateness; do
	[ -x "$B/$p" ] || { echo "replay.sh: $B/$p missing: run make" >&2; exit 1; }
done
command -v sqlite3 >/dev/null || { echo "replay.sh: needs sqlite3" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Prints seconds (3 decimals) for the best of $RUNS runs of "$@".
best_of() {
	local best="" i t0 t1
	for ((i = 0; i < RUNS; i++)); do
		t0=$EPOCHREALTIME
		"$@" >/dev/null
		t1=$EPOCHREALTIME
		best=$(awk -v a="$t0" -v b="$t1" -v best="$best" \
			'BEGIN { t = b - a; print (best == "" || t < best) ? t : best }')
	done
	printf '%.3f' "$best"
}

big=${1:-}
if [ -z "$big" ]; then
	big=$tmp/big.db
	echo "making $big: $LINES lines (bench/gen-lines) through tf-record ..."
	python3 bench/gen-lines "$LINES" | "$B/tf-record" -n -q -d "$big"
fi
rows=$(sqlite3 "$big" "select count(*) from events")
bytes=$(sqlite3 "$big" "select sum(length(cast(line as blob))) + count(*) from events")

replay() { "$B/tf-replay" --speed max "$big"; }
peer() { sqlite3 "$big" "select line from events order by id"; }
replay >/dev/null # warm the page cache
same=identical
[ "$(replay | md5sum)" = "$(peer | md5sum)" ] || same=DIFFERENT
t_replay=$(best_of replay)
t_peer=$(best_of peer)

echo
echo "replay throughput: $rows lines, $((bytes / 1000000)) MB, best of $RUNS (outputs $same)"
printf '%-46s %8s %12s %8s\n' "command" "seconds" "lines/s" "MB/s"
for x in "tf-replay --speed max FILE:$t_replay" \
	"sqlite3 FILE 'select line ... order by id':$t_peer"; do
	name=${x%:*} t=${x##*:}
	awk -v n="$name" -v t="$t" -v r="$rows" -v b="$bytes" \
		'BEGIN { printf "%-46s %8s %12.0f %8.0f\n", n, t, r / t, b / t / 1e6 }'
done
echo "target: at least 1000000 lines/s"

[ "${SKIP_PACED:-0}" = 1 ] && exit 0

paced=${2:-}
if [ -z "$paced" ]; then
	paced=$tmp/paced.db
	echo
	if [ -x "$B/tf-sim" ]; then
		echo "making $paced: tf-sim --rate $RATE --count $((RATE * SECONDS_PACED)) ..."
		"$B/tf-sim" --rate "$RATE" --count "$((RATE * SECONDS_PACED))" </dev/null |
			"$B/tf-record" -n -q -d "$paced"
	else
		echo "making $paced: $RATE lines/s for ${SECONDS_PACED}s (python feeder) ..."
		python3 - "$RATE" "$SECONDS_PACED" <<'EOF' | "$B/tf-record" -n -q -d "$paced"
import sys, time
rate, secs = int(sys.argv[1]), float(sys.argv[2])
t0 = time.monotonic()
for i in range(int(rate * secs)):
    # An absolute schedule: line i is due at t0 + i / rate.
    d = t0 + i / rate - time.monotonic()
    if d > 0:
        time.sleep(d)
    sys.stdout.write('{"type":"heartbeat","seq":%d}\n' % i)
    sys.stdout.flush()
EOF
	fi
fi
n=$(sqlite3 "$paced" "select count(*) from events")
echo
echo "pacing at --speed 1: $n lines; tf-replay --speed 1 FILE | lateness FILE"
# The reader starts first: its own start-up must not make line 0, the
# anchor, late.
(sleep 0.3 && exec "$B/tf-replay" --speed 1 "$paced") | "$B/bench/lateness" "$paced"
echo "target: p99 under 1 ms, last 10% no later than the first"
