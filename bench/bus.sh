#!/usr/bin/env bash
# bus.sh: the NATS JetStream bus (tf-pub, tf-sub) on one nats-server -js
# (Debian's) on 127.0.0.1, file storage, 200-byte lines:
#  1) tf-pub lines/s with acknowledgements (its default window, -n) beside
#     bench/natspub.c, a bare nats.c js_PublishMsgAsync publisher with the
#     same window and message ids, into the same kind of stream;
#  2) tf-sub --all --until-end lines/s reading the stream tf-pub filled, to
#     /dev/null;
#  3) the latency a client sees at 1,000 msg/s through
#     bench/feed | tf-pub -n, tf-sub | tf-broadcast, beside the same feed
#     and client (bench/wsload) on bench/feed | tf-broadcast: from the
#     feeder's write of a line to the client's read (as bench/broadcast.sh).
# Each run has a server and store of its own (removed after it). The
# publishers take turns going first. Every process shares the machine's
# cores with nats-server, which does the most work of all (its CPU time is
# printed): on 2 cores the server, not the publisher, sets the pace.
#
# env: B (build dir), DATA (lines-1M.ndjson), RUNS (3), LINES (1000000:
#      lines published per run, and the stream tf-sub reads), WINDOW
#      (4096: tf-pub's default --max-pending), SECS (10: seconds of feed
#      per latency run), CLIENTS (1), KEEP=1 (keep the run directory),
#      ONLY (scenarios, default "1 3": 1 is tf-pub and tf-sub), PROF=1
#      (scenario 1's first run: the server's Go CPU profile over 5 s of
#      each program's run, its top functions printed by bench/goprof.py)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.bash
B=${B:-build}
DATA=${DATA:-$B/bench-data}
RUNS=${RUNS:-3}
LINES=${LINES:-1000000}
WINDOW=${WINDOW:-4096}
SECS=${SECS:-10}
[[ $SECS =~ ^[1-9][0-9]*$ ]] || { echo "bus.sh: SECS=$SECS: a whole number of seconds, 1 or more" >&2; exit 2; }
# wsload leaves a warm-up out at each end of its window: 1 s, or a
# quarter of a shorter feed (SECS=1 would otherwise keep no latency).
WARM=$(awk -v s="$SECS" 'BEGIN { print (s >= 4 ? 1 : s / 4) }')
CLIENTS=${CLIENTS:-1}
ONLY=${ONLY:-1 3}
bench_need tf-pub tf-sub tf-broadcast bench/natspub bench/feed bench/wsload
command -v nats-server >/dev/null || {
	echo "bus.sh: nats-server missing (apt-get install nats-server)" >&2
	exit 1
}
if [ ! -s "$DATA/lines-1M.ndjson" ]; then
	mkdir -p "$DATA"
	bench/gen-lines 1000000 >"$DATA/lines-1M.ndjson.tmp"
	mv "$DATA/lines-1M.ndjson.tmp" "$DATA/lines-1M.ndjson"
fi

bench_start KILL

if [ "$LINES" -lt 1000000 ]; then
	head -n "$LINES" "$DATA/lines-1M.ndjson" >"$tmp/lines"
	in=$tmp/lines
else
	LINES=1000000
	in=$DATA/lines-1M.ndjson
fi

# nats_up: a fresh server on free ports with its store in $tmp/store;
# sets url and npid.
nats_up() {
	local port mon i prof=()
	port=$(free_port)
	mon=$(free_port)
	rm -rf "$tmp/store"
	if [ "${PROF:-0}" = 1 ]; then
		pport=$(free_port)
		prof=(--profile "$pport")
	fi
	nats-server -js -a 127.0.0.1 -p "$port" -m "$mon" "${prof[@]}" \
		-sd "$tmp/store" >>"$tmp/nats.log" 2>&1 &
	npid=$!
	url=nats://127.0.0.1:$port
	for ((i = 0; i < 100; i++)); do
		curl -sf "http://127.0.0.1:$mon/healthz" >/dev/null && return 0
		sleep 0.1
	done
	echo "bus.sh: nats-server did not start:" >&2
	tail -n 5 "$tmp/nats.log" >&2
	exit 1
}

nats_down() {
	kill "$npid" 2>/dev/null || true
	wait "$npid" 2>/dev/null || true
	rm -rf "$tmp/store"
}

# stream NAME: makes stream NAME for subjects name.> (tf-pub --create).
stream() {
	"$B/tf-pub" -q -n -s "$url" --create --stream "$1" \
		--subject-prefix "$1" </dev/null
}

# prof_start NAME R: with PROF=1 and R the first run, the server's CPU
# profile over 5 s from 1 s on, into $tmp/prof.NAME; prof_wait after the
# program's run.
profpid=
prof_start() {
	[ "${PROF:-0}" = 1 ] && [ "$2" = 1 ] || return 0
	(sleep 1; curl -sf -o "$tmp/prof.$1" \
		"http://127.0.0.1:$pport/debug/pprof/profile?seconds=5") &
	profpid=$!
}

prof_wait() {
	[ -z "$profpid" ] || wait "$profpid" || true
	profpid=
}

# timed OUT CMD...: OUT gets "elapsed user sys maxrss_kib".
timed() {
	local out=$1
	shift
	/usr/bin/time -f "%e %U %S %M" -o "$out" "$@"
}

# pub_run R: scenario 1 (and 2) once; figures in $tmp/pub.R, $tmp/bare.R,
# $tmp/sub.R as "rate cpu_us_per_line rss_kib server_cpu_s".
pub_run() {
	local r=$1 order s0 s1 e u s m
	nats_up
	stream tfpub
	stream bare
	if ((r % 2)); then order="tf bare"; else order="bare tf"; fi
	for who in $order; do
		s0=$(cpu_s "$npid")
		prof_start "$who" "$r"
		case $who in
		tf) timed "$tmp/t" "$B/tf-pub" -q -n -s "$url" \
			--stream tfpub --subject-prefix tfpub \
			--max-pending "$WINDOW" <"$in" ;;
		bare) timed "$tmp/t" "$B/bench/natspub" "$url" bare.bench \
			"$WINDOW" <"$in" >/dev/null ;;
		esac
		s1=$(cpu_s "$npid")
		prof_wait
		read -r e u s m <"$tmp/t"
		awk -v n="$LINES" -v e="$e" -v u="$u" -v s="$s" -v m="$m" \
			-v sc="$(awk -v a="$s0" -v b="$s1" 'BEGIN { print b - a }')" \
			'BEGIN { printf "%.0f %.2f %d %.2f\n", n / e,
				(u + s) * 1e6 / n, m, sc }' \
			>"$tmp/$([ "$who" = tf ] && echo pub || echo bare).$r"
	done
	if on 1; then
		s0=$(cpu_s "$npid")
		prof_start sub "$r"
		timed "$tmp/t" "$B/tf-sub" -s "$url" --stream tfpub \
			--subject-prefix tfpub --all --until-end \
			>/dev/null 2>"$tmp/sub.err"
		s1=$(cpu_s "$npid")
		prof_wait
		grep -q "wrote $LINES events" "$tmp/sub.err" || {
			echo "bus.sh: tf-sub did not write $LINES events:" >&2
			cat "$tmp/sub.err" >&2
		}
		read -r e u s m <"$tmp/t"
		awk -v n="$LINES" -v e="$e" -v u="$u" -v s="$s" -v m="$m" \
			-v sc="$(awk -v a="$s0" -v b="$s1" 'BEGIN { print b - a }')" \
			'BEGIN { printf "%.0f %.2f %d %.2f\n", n / e,
				(u + s) * 1e6 / n, m, sc }' >"$tmp/sub.$r"
	fi
	nats_down
}

# lat_run NAME R: scenario 3 once, direct or through the bus; wsload's
# figures in $tmp/NAME.R.
lat_run() {
	local name=$1 r=$2 port n=$((SECS * 1000)) i spid subpid="" pubpid=""
	# Through the bus tf-broadcast reads tf-sub's envelopes, as a bus
	# node does; direct, the feed's lines.
	local input=lines
	port=$(free_port)
	rm -f "$tmp/ready" "$tmp/fifo" "$tmp/feedfifo"
	mkfifo "$tmp/fifo"
	if [ "$name" = bus ]; then
		nats_up
		stream lat
		input=envelope
		"$B/tf-sub" -q -s "$url" --stream lat --subject-prefix lat \
			--envelope >"$tmp/fifo" \
			2>>"$tmp/sub-lat.err" &
		subpid=$!
	fi
	"$B/tf-broadcast" -q --port "$port" -n --input "$input" <"$tmp/fifo" \
		2>>"$tmp/bc.err" &
	spid=$!
	if [ "$name" = bus ]; then
		mkfifo "$tmp/feedfifo"
		"$B/tf-pub" -q -n -s "$url" --stream lat --subject-prefix lat \
			<"$tmp/feedfifo" 2>>"$tmp/pub-lat.err" &
		pubpid=$!
		"$B/bench/feed" -n "$n" -r 1000 -s 200 --wait "$tmp/ready" --hold 600 \
			>"$tmp/feedfifo" &
	else
		"$B/bench/feed" -n "$n" -r 1000 -s 200 --wait "$tmp/ready" --hold 600 \
			>"$tmp/fifo" &
	fi
	fpid=$!
	# tf-sub (--new) must be reading before the feed starts: wait for
	# the server's port, then a moment for the consumer.
	for ((i = 0; i < 100; i++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
		sleep 0.1
	done
	sleep 1
	"$B/bench/wsload" -q -n "$CLIENTS" -e "$n" -w "$WARM" -d $((SECS + 10)) \
		--ready "$tmp/ready" "ws://127.0.0.1:$port/" >"$tmp/$name.$r" ||
		echo "bus.sh: $name: wsload failed" >&2
	kill "$fpid" 2>/dev/null || true
	[ -z "$subpid" ] || kill "$subpid" 2>/dev/null || true
	for ((i = 0; i < 150; i++)); do
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$spid" 2>/dev/null || true
	# Not a bare wait: that would wait for nats-server too.
	wait "$fpid" "$spid" $subpid $pubpid 2>/dev/null || true
	[ "$name" != bus ] || nats_down
}

for ((r = 1; r <= RUNS; r++)); do
	if on 1; then pub_run "$r"; fi
	if on 3; then
		lat_run direct "$r"
		lat_run bus "$r"
	fi
done

# stat NAME COL: "median (min to max)" of column COL of the runs NAME.*
stat() {
	local f
	for f in "$tmp/$1".[0-9]*; do
		[ -s "$f" ] && awk -v c="$2" '{ print $c }' "$f"
	done | sort -g | awk '{ v[NR] = $1 } END {
		if (!NR) { print "-"; exit }
		printf "%s (%s to %s)", v[int((NR + 1) / 2)], v[1], v[NR] }'
}

# med NAME COL: the median alone.
med() {
	local f
	for f in "$tmp/$1".[0-9]*; do
		[ -s "$f" ] && awk -v c="$2" '{ print $c }' "$f"
	done | sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

# lat NAME: the latency runs' figures, one key per column: p50 p99 max
# gaps+lost.
for n in direct bus; do
	for f in "$tmp/$n".[0-9]*; do
		[ -s "$f" ] || continue
		tr ' ' '\n' <"$f" | awk -F= 'NF == 2 { v[$1] = $2 } END {
			printf "%s %s %s %d\n", v["p50_ms"], v["p99_ms"],
				v["max_ms"], v["gaps"] + v["lost"] + v["pending"] }' \
			>"$f.l"
		mv "$f.l" "$tmp/l$n.${f##*.}"
	done
done

echo "tf-pub, tf-sub: NATS JetStream (nats-server $(nats-server --version 2>/dev/null |
	awk '{ print $NF }'), file storage) on 127.0.0.1, 200-byte lines"
echo "  $RUNS runs, median (min to max); $(nproc) cores shared by server and clients;"
echo "  load average before the runs: $load0, after: $(loadavg)"
if on 1; then
	printf "  %-40s %-28s %-24s %s\n" "$LINES lines, window $WINDOW" \
		lines/s "CPU us/line" "server CPU s"
	printf "  %-40s %-28s %-24s %s\n" "tf-pub -n (acknowledged)" \
		"$(stat pub 1)" "$(stat pub 2)" "$(stat pub 4)"
	printf "  %-40s %-28s %-24s %s\n" "natspub (bare nats.c, acknowledged)" \
		"$(stat bare 1)" "$(stat bare 2)" "$(stat bare 4)"
	printf "  %-40s %-28s %-24s %s\n" "tf-sub --all --until-end >/dev/null" \
		"$(stat sub 1)" "$(stat sub 2)" "$(stat sub 4)"
	awk -v a="$(med pub 1)" -v b="$(med bare 1)" 'BEGIN {
		if (b > 0) printf "  tf-pub / bare publisher: %.2fx the lines/s\n", a / b }'
	echo "  (targets: tf-pub >= 100000 lines/s and >= 0.8x the bare publisher;"
	echo "   tf-sub >= 250000 lines/s)"
	for who in tf bare sub; do
		[ -s "$tmp/prof.$who" ] || continue
		echo "  nats-server's CPU profile during $who (run 1):"
		bench/goprof.py "$tmp/prof.$who" 15 | sed 's/^/    /'
	done
fi
if on 3; then
	printf "  %-40s %-22s %-22s %-24s %s\n" \
		"1000 msg/s x ${SECS}s, $CLIENTS client(s)" \
		"p50 ms" "p99 ms" "max ms" "missed"
	printf "  %-40s %-22s %-22s %-24s %s\n" "feed | tf-broadcast" \
		"$(stat ldirect 1)" "$(stat ldirect 2)" "$(stat ldirect 3)" \
		"$(stat ldirect 4)"
	printf "  %-40s %-22s %-22s %-24s %s\n" \
		"feed | tf-pub, tf-sub | tf-broadcast" \
		"$(stat lbus 1)" "$(stat lbus 2)" "$(stat lbus 3)" \
		"$(stat lbus 4)"
	awk -v a="$(med lbus 1)" -v b="$(med ldirect 1)" \
		-v c="$(med lbus 2)" -v d="$(med ldirect 2)" 'BEGIN {
		printf "  added by the bus (medians): p50 %.2f ms, p99 %.2f ms (target: p99 <= 5 ms)\n",
			a - b, c - d }'
fi
