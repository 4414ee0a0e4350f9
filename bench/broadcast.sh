#!/usr/bin/env bash
# broadcast.sh: tf-broadcast's fan-out beside node's `ws` (bench/ws-peer.js)
# on the same machine, feeder (bench/feed.c) and load client
# (bench/wsload.c): 1) 100 clients, 20,000 msg/s of 120 bytes: deliveries/s
# and gaps; 2) 1,000 clients, 100 msg/s: latency; 3) 10,000 idle clients:
# server RSS per client. Every server, feeder and client runs at once on
# this machine's cores. Latency is from the feeder's write of a line (its
# due time, when the server held the write up) to the client's read.
#
# env: B (build dir), SECS (5: seconds of feed per run), RUNS (2: runs 1
#      and 2 report the best run by deliveries/s and by p99), PEER=0 (no node),
#      TF_FLAGS (more flags for tf-broadcast), IDLE (10000), KEEP=1 (keep
#      the run directory and print its name), PROFILE=1 (perf profiles of
#      tf-broadcast's runs 1 and 2, top symbols on stderr)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${B:-build}
SECS=${SECS:-5}
RUNS=${RUNS:-2}
PEER=${PEER:-1}
IDLE=${IDLE:-10000}
read -r -a tf_flags <<<"${TF_FLAGS:-}"
for p in bench/feed bench/wsload; do
	[ -x "$B/$p" ] || { echo "broadcast.sh: $B/$p missing: run make" >&2; exit 1; }
done
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

load0=$(cut -d' ' -f1-3 /proc/loadavg)
tmp=$(mktemp -d)
cleanup() {
	local p
	for p in $(jobs -p); do	# this shell's own children still running
		kill -9 "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	if [ "${KEEP:-0}" = 1 ]; then
		echo "broadcast.sh: runs kept in $tmp" >&2
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server NAME PORT: starts the server on $tmp/fifo; sets spid.
start_server() {
	rm -f "$tmp/fifo"
	mkfifo "$tmp/fifo"
	case $1 in
	tf) "$B/tf-broadcast" --port "$2" -n ${tf_flags[@]+"${tf_flags[@]}"} \
		<"$tmp/fifo" 2>>"$tmp/server.err" & ;;
	node) node bench/ws-peer.js "$2" <"$tmp/fifo" 2>>"$tmp/server.err" & ;;
	esac
	spid=$!
}

# stop_server: ends the feeder (end of input for the server), then gives
# the server 5 s to close its clients and exit.
stop_server() {
	local i
	kill "$fpid" 2>/dev/null || true
	wait "$fpid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$spid" 2>/dev/null; then
		echo "broadcast.sh: server $spid still up 5 s after end of input: killed" >&2
		kill -9 "$spid" 2>/dev/null || true
	fi
	wait "$spid" 2>/dev/null || true
}

# proc_kib PID FIELD: a VmRSS/VmHWM figure of /proc/PID/status, in KiB.
proc_kib() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

# cpu_s PID: the process's user + system CPU seconds so far.
cpu_s() {
	awk -v hz="$(getconf CLK_TCK)" '{
		sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$1/stat"
}

# load NAME SERVER CLIENTS RATE: one fan-out run; its figures (wsload's
# key=value line, plus server_cpu_s and server_hwm_kib) go to $tmp/NAME.
load() {
	local name=$1 server=$2 clients=$3 rate=$4 port lines ppid
	lines=$((rate * SECS))
	port=$(free_port)
	rm -f "$tmp/ready"
	start_server "$server" "$port"
	"$B/bench/feed" -n "$lines" -r "$rate" --wait "$tmp/ready" \
		--hold 600 >"$tmp/fifo" &
	fpid=$!
	ppid=""
	if [ "${PROFILE:-0}" = 1 ] && [ "$server" = tf ]; then
		perf record -q -e cpu-clock -g -p "$spid" -o "$tmp/$name.perf" \
			-- sleep $((SECS + 1)) >/dev/null 2>&1 &
		ppid=$!
	fi
	if ! "$B/bench/wsload" -q -n "$clients" -e "$lines" \
		-d $((SECS + 5)) --ready "$tmp/ready" \
		"ws://127.0.0.1:$port/" >"$tmp/$name"; then
		echo "broadcast.sh: $name: wsload failed" >&2
	fi
	if kill -0 "$spid" 2>/dev/null; then
		printf ' server_cpu_s=%s server_hwm_kib=%s\n' "$(cpu_s "$spid")" \
			"$(proc_kib "$spid" VmHWM)" >>"$tmp/$name"
	fi
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

# fig FILE KEY: one figure of a run ("" when the run is missing).
fig() {
	[ -s "$1" ] || return 0
	tr ' ' '\n' <"$1" | awk -F= -v k="$2" '$1 == k { print $2 }'
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

servers=()
[ $have_tf = 1 ] && servers+=(tf)
[ $have_node = 1 ] && servers+=(node)
for ((r = 1; r <= RUNS; r++)); do
	for s in "${servers[@]}"; do
		load "s1-$s.$r" "$s" 100 20000
		load "s2-$s.$r" "$s" 1000 100
	done
done
for s in "${servers[@]}"; do
	best "s1-$s" rate max
	best "s2-$s" p99_ms min
	idle "s3-$s" "$s"
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
				printf "  %-26s %-12s %12.0f %7.2f %7.2f %7.2f %5d %8d %9.2fs %6.0f MiB\n",
					scen, srv, v["rate"], v["p50_ms"], v["p99_ms"],
					v["max_ms"], v["gaps"] + v["lost"], v["pending"],
					v["server_cpu_s"], v["server_hwm_kib"] / 1024
		}'
}

echo "tf-broadcast: fan-out to plain WebSocket clients on 127.0.0.1, ${SECS}s of feed per run, best of $RUNS"
echo "  ($(nproc) cores shared by server, load client and feeder; latency: from the feeder's write"
echo "   of a line, or its due time when the server held the write up, to the client's read;"
echo "   load average before the runs: $load0)"
printf "  %-26s %-12s %12s %7s %7s %7s %5s %8s %10s %10s\n" scenario server \
	deliveries/s "p50 ms" "p99 ms" "max ms" gaps undeliv. "server CPU" "server RSS"
row "$tmp/s1-tf" "100 clients, 20000 msg/s" tf-broadcast
row "$tmp/s1-node" "100 clients, 20000 msg/s" "node ws"
row "$tmp/s2-tf" "1000 clients, 100 msg/s" tf-broadcast
row "$tmp/s2-node" "1000 clients, 100 msg/s" "node ws"
row "$tmp/s3-tf" "$IDLE idle clients" tf-broadcast
row "$tmp/s3-node" "$IDLE idle clients" "node ws"
r_tf=$(fig "$tmp/s1-tf" rate)
r_node=$(fig "$tmp/s1-node" rate)
if [ -n "$r_tf" ] && [ -n "$r_node" ]; then
	awk -v a="$r_tf" -v b="$r_node" 'BEGIN {
		printf "  tf-broadcast / node ws at 100 clients: %.1fx the deliveries/s\n", (b > 0 ? a / b : 0) }'
fi
echo "  (targets: 100 clients >= 1500000 deliveries/s, 0 gaps, >= 10x node ws;"
echo "   1000 clients p99 <= 20 ms, 0 gaps; idle <= 8 KiB RSS per client."
echo "   undeliv.: messages not yet delivered when the run ended, $((SECS + 5)) s after it started)"
