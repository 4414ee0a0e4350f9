#!/usr/bin/env bash
# broadcast.sh: tf-broadcast's fan-out beside node's `ws` (bench/ws-peer.js)
# on the same machine, feeder (bench/feed.c) and load client
# (bench/wsload.c): 1) 100 clients, 20,000 msg/s of 120 bytes: deliveries/s
# and gaps; 2) 1,000 clients, 100 msg/s: latency; 3) 10,000 idle clients:
# server RSS per client; 4) scenario 1 with 10 of the 100 clients hung
# (connected, reading nothing): the other 90's deliveries/s, latency and
# gaps, and the server's peak RSS. Every server, feeder and client runs at once on
# this machine's cores. Latency is from the feeder's write of a line (its
# due time, when the server held the write up) to the client's read. Each
# run also reports the CPU time the rest of the machine took meanwhile
# ("others' CPU"): on a shared machine it decides the latency figures.
#
# env: B (build dir), SECS (5: seconds of feed per run), RUNS (3: scenario 1
#      reports the best run by deliveries/s, scenario 2 the median run by
#      p99, with every run's p99), ONLY (scenarios to run, e.g. "2"; default
#      "1 2 3 4"; 4 reports the median run by p99), PEER=0 (no node), TF_FLAGS (more flags for tf-broadcast),
#      IDLE (10000), KEEP=1 (keep the run directory and print its name),
#      PROFILE=1 (perf profiles of tf-broadcast's runs, top symbols on
#      stderr), RT=1 (feeder, server and load client at SCHED_FIFO
#      priorities 3, 2 and 1, needs CAP_SYS_NICE: the machine's other work
#      gets only what they leave, figures as on a machine of their own)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.bash
B=${B:-build}
SECS=${SECS:-5}
RUNS=${RUNS:-3}
ONLY=${ONLY:-1 2 3 4}
bench_rt
PEER=${PEER:-1}
IDLE=${IDLE:-10000}
read -r -a tf_flags <<<"${TF_FLAGS:-}"
bench_need bench/feed bench/wsload
have_tf=1
[ -x "$B/tf-broadcast" ] || {
	have_tf=0
	echo "broadcast.sh: $B/tf-broadcast missing: node ws only" >&2
}
have_node=0
if [ "$PEER" != 0 ] && command -v node >/dev/null &&
	[ -d node_modules/ws ]; then
	have_node=1
fi
[ $have_tf = 1 ] || [ $have_node = 1 ] || {
	echo "broadcast.sh: neither tf-broadcast nor node ws to measure" >&2
	exit 1
}
# 10,000 clients take 10,000 descriptors in the server and in the client.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

bench_start KILL

# start_server NAME PORT: starts the server on $tmp/fifo; sets spid.
start_server() {
	rm -f "$tmp/fifo"
	mkfifo "$tmp/fifo"
	case $1 in
	tf) ${rt_server[@]+"${rt_server[@]}"} "$B/tf-broadcast" --port "$2" -n \
		${tf_flags[@]+"${tf_flags[@]}"} <"$tmp/fifo" 2>>"$tmp/server.err" & ;;
	node) ${rt_server[@]+"${rt_server[@]}"} node bench/ws-peer.js "$2" \
		<"$tmp/fifo" 2>>"$tmp/server.err" & ;;
	esac
	spid=$!
}

# stop_server: ends the feeder (end of input for the server), then gives
# the server 12 s to close its clients and exit (hung clients hold
# tf-broadcast for its --drain, 5 s, and node ws for its 10 s timer).
stop_server() {
	local i
	kill "$fpid" 2>/dev/null || true
	wait "$fpid" 2>/dev/null || true
	for ((i = 0; i < 120; i++)); do
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$spid" 2>/dev/null; then
		echo "broadcast.sh: server $spid still up 12 s after end of input: killed" >&2
		kill -9 "$spid" 2>/dev/null || true
	fi
	wait "$spid" 2>/dev/null || true
}

# busy_s: CPU seconds this machine has spent busy (user, nice, system, irq,
# softirq: which the kernel charges to the processes they interrupt too).
busy_s() {
	awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" {
		printf "%.2f", ($2 + $3 + $4 + $7 + $8) / hz }' /proc/stat
}

# load NAME SERVER CLIENTS RATE [STALL]: one fan-out run, STALL of the
# clients hung; its figures (wsload's key=value line, plus other_cpu_s,
# server_cpu_s and server_hwm_kib) go to $tmp/NAME.
load() {
	local name=$1 server=$2 clients=$3 rate=$4 stall=${5:-0} port lines ppid
	local busy0 ours
	lines=$((rate * SECS))
	port=$(free_port)
	rm -f "$tmp/ready"
	start_server "$server" "$port"
	${rt_feed[@]+"${rt_feed[@]}"} "$B/bench/feed" -n "$lines" -r "$rate" \
		--wait "$tmp/ready" --hold 600 >"$tmp/fifo" &
	fpid=$!
	ppid=""
	if [ "${PROFILE:-0}" = 1 ] && [ "$server" = tf ]; then
		perf record -q -e cpu-clock -g -p "$spid" -o "$tmp/$name.perf" \
			-- sleep $((SECS + 1)) >/dev/null 2>&1 &
		ppid=$!
	fi
	busy0=$(busy_s)
	if ! ${rt_client[@]+"${rt_client[@]}"} "$B/bench/wsload" -q \
		-n "$clients" -e "$lines" --stall "$stall" \
		-d $((SECS + 5)) --ready "$tmp/ready" \
		"ws://127.0.0.1:$port/" >"$tmp/$name"; then
		echo "broadcast.sh: $name: wsload failed" >&2
	fi
	# The rest of the machine's CPU time during the run: all of it less
	# the server's, the load client's and the feeder's.
	ours=$(awk -v s="$(cpu_s "$spid")" -v f="$(cpu_s "$fpid")" \
		-v c="$(fig "$tmp/$name" cpu_s)" 'BEGIN { print s + f + c }')
	printf ' other_cpu_s=%.2f' "$(awk -v a="$busy0" -v b="$(busy_s)" \
		-v o="$ours" 'BEGIN { v = b - a - o; print (v > 0 ? v : 0) }')" \
		>>"$tmp/$name"
	if kill -0 "$spid" 2>/dev/null; then
		printf ' server_cpu_s=%s server_hwm_kib=%s' "$(cpu_s "$spid")" \
			"$(proc_kib "$spid" VmHWM)" >>"$tmp/$name"
	fi
	echo >>"$tmp/$name"
	stop_server
	if [ -n "$ppid" ]; then
		wait "$ppid" 2>/dev/null || true	# ends SECS + 1 s after its start
		echo "== $name: tf-broadcast's top symbols (perf, cpu-clock)" >&2
		perf report -i "$tmp/$name.perf" --stdio --no-children \
			--sort dso,sym -g none 2>/dev/null | grep '%' | head -25 >&2 || true
	fi
}

# idle NAME SERVER: server RSS before and after $IDLE idle clients.
idle() {
	local name=$1 server=$2 port before after i wpid
	port=$(free_port)
	rm -f "$tmp/ready"
	start_server "$server" "$port"
	"$B/bench/feed" -n 0 --hold 600 >"$tmp/fifo" &
	fpid=$!
	for ((i = 0; i < 100; i++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
		sleep 0.05
	done
	sleep 0.5
	before=$(proc_kib "$spid" VmRSS || true)
	"$B/bench/wsload" -q --idle -n "$IDLE" -d 60 --ready "$tmp/ready" \
		"ws://127.0.0.1:$port/" >"$tmp/$name" &
	wpid=$!
	for ((i = 0; i < 600; i++)); do
		[ -e "$tmp/ready" ] && break
		kill -0 "$wpid" 2>/dev/null || break
		sleep 0.05
	done
	sleep 1 # let the server finish its side of the last handshakes
	after=$(proc_kib "$spid" VmRSS || true)
	kill "$wpid" 2>/dev/null || true
	wait "$wpid" 2>/dev/null || true
	printf ' rss_before_kib=%s rss_after_kib=%s\n' "$before" "$after" \
		>>"$tmp/$name"
	stop_server
}

# best NAME KEY max|min: copies the best of the runs NAME.1... to NAME.
best() {
	local f v b="" bf=""
	for f in "$tmp/$1".[0-9]*; do
		[ -s "$f" ] || continue
		v=$(fig "$f" "$2")
		[ -n "$v" ] || continue
		if [ -z "$b" ] || awk -v v="$v" -v b="$b" -v d="$3" \
			'BEGIN { exit !(d == "max" ? v > b : v < b) }'; then
			b=$v
			bf=$f
		fi
	done
	[ -z "$bf" ] || cp "$bf" "$tmp/$1"
}

# median NAME KEY: copies the median of the runs NAME.1... by KEY to NAME
# (of an even number, the higher of the middle two), and lists every run's
# KEY and others' CPU in NAME.all.
median() {
	local f v list=""
	for f in "$tmp/$1".[0-9]*; do
		[ -s "$f" ] || continue
		v=$(fig "$f" "$2")
		[ -n "$v" ] || continue
		list+="$v $(fig "$f" other_cpu_s) $f"$'\n'
	done
	[ -n "$list" ] || return 0
	printf '%s' "$list" | sort -g >"$tmp/$1.all"
	f=$(awk '{ f[NR] = $3 } END { print f[int(NR / 2) + 1] }' \
		"$tmp/$1.all")
	cp "$f" "$tmp/$1"
}

servers=()
[ $have_tf = 1 ] && servers+=(tf)
[ $have_node = 1 ] && servers+=(node)
for ((r = 1; r <= RUNS; r++)); do
	for s in "${servers[@]}"; do
		if on 1; then load "s1-$s.$r" "$s" 100 20000; fi
		if on 2; then load "s2-$s.$r" "$s" 1000 100; fi
		if on 4; then load "s4-$s.$r" "$s" 100 20000 10; fi
	done
done
for s in "${servers[@]}"; do
	best "s1-$s" rate max
	median "s2-$s" p99_ms
	median "s4-$s" p99_ms
	if on 3; then idle "s3-$s" "$s"; fi
done

# row FILE SCENARIO SERVER: one line of the table from a run's figures.
row() {
	[ -s "$1" ] || return 0
	tr ' ' '\n' <"$1" | awk -v scen="$2" -v srv="$3" -F= '
		NF == 2 { v[$1] = $2 }
		END {
			if (v["rss_after_kib"] != "") {
				n = v["connected"] > 0 ? v["connected"] : 1
				printf "  %-26s %-12s %s connected of %s: %.2f KiB of server RSS per client\n",
					scen, srv, v["connected"], v["clients"],
					(v["rss_after_kib"] - v["rss_before_kib"]) / n
			} else
				printf "  %-26s %-12s %12.0f %7.2f %7.2f %7.2f %5d %8d %9.2fs %6.0f MiB %8.2fs\n",
					scen, srv, v["rate"], v["p50_ms"], v["p99_ms"],
					v["max_ms"], v["gaps"] + v["lost"], v["pending"],
					v["server_cpu_s"], v["server_hwm_kib"] / 1024,
					v["other_cpu_s"]
		}'
}

echo "tf-broadcast: fan-out to plain WebSocket clients on 127.0.0.1, ${SECS}s of feed per run;"
echo "  $RUNS runs: 100 clients the best by deliveries/s, 1000 clients and 10 hung the median by p99"
echo "  ($(nproc) cores shared by server, load client and feeder; latency: from the feeder's write"
echo "   of a line, or its due time when the server held the write up, to the client's read;"
echo "   load average before the runs: $load0; others' CPU: what the rest of the machine used"
echo "   during the run$([ "${RT:-0}" = 1 ] && echo "; RT=1: feeder, server and client at SCHED_FIFO"))"
printf "  %-26s %-12s %12s %7s %7s %7s %5s %8s %10s %10s %9s\n" scenario server \
	deliveries/s "p50 ms" "p99 ms" "max ms" gaps undeliv. "server CPU" "server RSS" \
	"others'"
row "$tmp/s1-tf" "100 clients, 20000 msg/s" tf-broadcast
row "$tmp/s1-node" "100 clients, 20000 msg/s" "node ws"
row "$tmp/s2-tf" "1000 clients, 100 msg/s" tf-broadcast
row "$tmp/s2-node" "1000 clients, 100 msg/s" "node ws"
row "$tmp/s3-tf" "$IDLE idle clients" tf-broadcast
row "$tmp/s3-node" "$IDLE idle clients" "node ws"
row "$tmp/s4-tf" "100 clients, 10 hung" tf-broadcast
row "$tmp/s4-node" "100 clients, 10 hung" "node ws"
# The latency runs one by one, and where the median run's latency came
# from: the first client's read of each message (how long it waited for the
# server: its wake-up, or the previous message's fan-out still going) and
# the spread from there to the last client's read (the fan-out itself).
for s in "${servers[@]}"; do
	[ -s "$tmp/s2-$s.all" ] || continue
	awk -v srv="$([ "$s" = tf ] && echo tf-broadcast || echo "node ws")" '
		{ p = p sprintf("%s%.1f (%.1fs)", NR > 1 ? ", " : "", $1, $2) }
		END { printf "  1000 clients, %s, every run'"'"'s p99 ms (others'"'"' CPU): %s\n", srv, p }' \
		"$tmp/s2-$s.all"
	tr ' ' '\n' <"$tmp/s2-$s" | awk -F= '
		NF == 2 { v[$1] = $2 }
		END { printf "    median run: first client'"'"'s read p99 %.2f ms; first to last read p50 %.2f, p99 %.2f ms\n",
			v["first_p99_ms"], v["spread_p50_ms"], v["spread_p99_ms"] }'
done
r_tf=$(fig "$tmp/s1-tf" rate)
r_node=$(fig "$tmp/s1-node" rate)
if [ -n "$r_tf" ] && [ -n "$r_node" ]; then
	awk -v a="$r_tf" -v b="$r_node" 'BEGIN {
		printf "  tf-broadcast / node ws at 100 clients: %.1fx the deliveries/s\n", (b > 0 ? a / b : 0) }'
fi
echo "  (targets: 100 clients >= 1500000 deliveries/s, 0 gaps, >= 10x node ws;"
echo "   1000 clients p99 <= 20 ms, 0 gaps; idle <= 2 KiB RSS per client;"
echo "   10 hung clients: the 90 others as in the first row, server RSS bounded."
echo "   undeliv.: messages not yet delivered when the run ended, $((SECS + 5)) s after it started)"
