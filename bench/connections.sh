#!/usr/bin/env bash
# connections.sh: tf-broadcast holding CONNS (100,000) connected
# WebSocket clients with a broadcast of 1 msg/s reaching every one of them:
# the delivery time of each message to each client (p50, p99, max: from
# the feeder's write of the line to the client's read), the server's RSS
# per client and its CPU during the broadcast. The clients are spread
# over several load clients (bench/wsload.c), PER each, each under its own
# open-files limit and from its own loopback source address 127.0.0.2,
# .3, ... (each has its own range of ports). Before it starts, it checks
# what this machine allows (open files per process and in all, ports,
# memory) and says which limit stops it and at how many clients; it then
# runs with as many as fit. With PROCS > 1 the server is PROCS
# tf-broadcast processes sharing one port (--reuse-port), each fed the
# same lines (tee into a FIFO each) and holding whichever clients the
# kernel gives it: past one process's open-files limit, and on more cores;
# their RSS and CPU are summed.
#
# env: B (build dir), CONNS (100000), SECS (30: messages, one a second),
#      RUNS (3: figures of each run, then their median and spread),
#      PER (10000: clients per load client), CONNECT_S (300: seconds
#      allowed to connect them all), KEEP=1 (keep the run directory),
#      TF_FLAGS (more flags for tf-broadcast), PROCS (1: tf-broadcast
#      processes sharing the port), RT=1 (feeder, server and load clients at SCHED_FIFO priorities 3, 2
#      and 1, needs CAP_SYS_NICE: on a machine busy with other work, the
#      figures of one that has its cores to itself)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.bash
B=${B:-build}
CONNS=${CONNS:-100000}
SECS=${SECS:-30}
RUNS=${RUNS:-3}
PER=${PER:-10000}
CONNECT_S=${CONNECT_S:-300}
PROCS=${PROCS:-1}
read -r -a tf_flags <<<"${TF_FLAGS:-}"
bench_rt
bench_need tf-broadcast bench/feed bench/wsload

# ---- what this machine allows ------------------------------------------
# tf-broadcast keeps 64 descriptors for itself besides its clients (see
# --max-clients in tf-broadcast(1)); so does each load client.
RESERVE=64
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=$(cat /proc/sys/fs/nr_open)
ulimit -n "$hard"
n=$CONNS
limits=()
if [ $(((CONNS + PROCS - 1) / PROCS + RESERVE)) -gt "$hard" ]; then
	n=$((PROCS * (hard - RESERVE)))
	limits+=("$CONNS clients over $PROCS tf-broadcast need $(((CONNS + PROCS - 1) / PROCS + RESERVE)) open files in each; this machine's hard limit per process is $hard (ulimit -Hn; raising it needs CAP_SYS_RESOURCE or root outside a container): at most $n (or more PROCS)")
fi
if [ $((PER + RESERVE)) -gt "$hard" ]; then
	PER=$((hard - RESERVE))
fi
read -r port_lo port_hi </proc/sys/net/ipv4/ip_local_port_range
ports=$((port_hi - port_lo + 1))
if [ $((PER + 1000)) -gt "$ports" ]; then
	PER=$((ports - 1000))
fi
procs=$(((n + PER - 1) / PER))
if [ "$procs" -gt 253 ]; then	# source addresses 127.0.0.2 .. 127.0.0.254
	limits+=("$n clients need $procs load clients of $PER, from as many source addresses; 127.0.0.2..254 are 253: at most $((253 * PER))")
	n=$((253 * PER))
	procs=253
fi
file_max=$(cat /proc/sys/fs/file-max)
if [ $((2 * n + 1000)) -gt "$file_max" ]; then
	m=$(((file_max - 1000) / 2))
	limits+=("$n clients take $((2 * n)) open files on this machine (both ends); fs.file-max is $file_max: at most $m")
	n=$m
	procs=$(((n + PER - 1) / PER))
fi
# Memory: ~2 KiB in tf-broadcast, ~0.2 KiB in the load client and two
# idle loopback sockets in the kernel (~5 KiB) a client; ask for 3x that.
avail_kib=$(awk '$1 == "MemAvailable:" { print $2 }' /proc/meminfo)
if [ $((n * 21)) -gt "$avail_kib" ]; then
	m=$((avail_kib / 21))
	limits+=("$n clients may need $((n * 21 / 1024)) MiB (3x ~7 KiB a client, server, load client and kernel); $((avail_kib / 1024)) MiB available: at most $m")
	n=$m
	procs=$(((n + PER - 1) / PER))
fi
for l in ${limits[@]+"${limits[@]}"}; do
	echo "connections.sh: limit: $l" >&2
done
if [ "$n" -lt "$CONNS" ]; then
	echo "connections.sh: this machine allows $n of the $CONNS clients asked for: running $n" >&2
fi
# The kernel spreads connections over the processes by a hash, not
# evenly: each may take 5% more than its share, as the limit allows.
max_clients=$(((n + PROCS - 1) / PROCS))
if [ "$PROCS" -gt 1 ]; then
	max_clients=$((max_clients + max_clients / 20 + 100))
	[ "$max_clients" -gt $((hard - RESERVE)) ] && max_clients=$((hard - RESERVE))
	tf_flags+=(--reuse-port)
fi

bench_start KILL

# sum_kib FIELD PID...: FIELD of /proc/PID/status summed.
sum_kib() {
	local f=$1 p s=0
	shift
	for p; do
		s=$((s + $(proc_kib "$p" "$f" || echo 0)))
	done
	echo "$s"
}

# sum_cpu PID...: their CPU seconds summed.
sum_cpu() {
	local p
	for p; do
		cpu_s "$p"
		echo
	done | awk '{ s += $1 } END { printf "%.2f", s }'
}

now_s() {
	date +%s.%N
}

# one R: a run; its figures, key=value, go to $tmp/run.R.
one() {
	local r=$1 dir=$tmp/$1 port spid fpid i k rss0 rss1 cpu0 cpu1 t0 t1 \
		tc0 tc1 pids=() spids=() fifos=() ok max tpid
	mkdir -p "$dir"
	port=$(free_port)
	for ((i = 0; i < PROCS; i++)); do
		mkfifo "$dir/fifo.$i"
		fifos+=("$dir/fifo.$i")
		${rt_server[@]+"${rt_server[@]}"} "$B/tf-broadcast" --port "$port" -n \
			--max-clients "$max_clients" ${tf_flags[@]+"${tf_flags[@]}"} \
			<"$dir/fifo.$i" 2>"$dir/server.$i.err" &
		spids+=($!)
	done
	tpid=
	if [ "$PROCS" -gt 1 ]; then
		# The same lines into each process; tee's time is in the delivery.
		mkfifo "$dir/feed"
		${rt_feed[@]+"${rt_feed[@]}"} tee "${fifos[@]}" <"$dir/feed" \
			>/dev/null &
		tpid=$!
	fi
	${rt_feed[@]+"${rt_feed[@]}"} "$B/bench/feed" -n "$SECS" -r 1 \
		--wait "$dir/go" --hold 600 \
		>"$([ "$PROCS" -gt 1 ] && echo "$dir/feed" || echo "$dir/fifo.0")" &
	fpid=$!
	for ((i = 0; i < 100; i++)); do
		[ "$(cat "$dir"/server.*.err 2>/dev/null | grep -c "listening on")" -ge "$PROCS" ] && break
		sleep 0.05
	done
	sleep 0.5
	rss0=$(sum_kib VmRSS "${spids[@]}")
	tc0=$(now_s)
	for ((i = 0; i < procs; i++)); do
		k=$((i < procs - 1 ? PER : n - PER * (procs - 1)))
		${rt_client[@]+"${rt_client[@]}"} "$B/bench/wsload" -q -n "$k" \
			--bind "127.0.0.$((i + 2))" \
			-e "$SECS" -w 0 -d $((CONNECT_S + SECS + 30)) \
			--ready "$dir/ready.$i" --hist "$dir/hist.$i" \
			"ws://127.0.0.1:$port/" >"$dir/w.$i" 2>"$dir/w.$i.err" &
		pids+=($!)
	done
	# Every load client has all its clients connected (or has given up).
	for ((k = 0; k < CONNECT_S * 10; k++)); do
		ok=1
		for ((i = 0; i < procs; i++)); do
			if [ ! -e "$dir/ready.$i" ] &&
				kill -0 "${pids[$i]}" 2>/dev/null; then
				ok=0
				break
			fi
		done
		[ $ok = 1 ] && break
		sleep 0.1
	done
	tc1=$(now_s)
	sleep 2	# the server's side of the last handshakes
	rss1=$(sum_kib VmRSS "${spids[@]}")
	cpu0=$(sum_cpu "${spids[@]}")
	t0=$(now_s)
	touch "$dir/go"
	for p in "${pids[@]}"; do
		wait "$p" || true
	done
	t1=$(now_s)
	cpu1=$(sum_cpu "${spids[@]}")
	{
		printf 'rss0_kib=%s rss1_kib=%s hwm_kib=%s ' "$rss0" "$rss1" \
			"$(sum_kib VmHWM "${spids[@]}")"
		awk -v a="$cpu0" -v b="$cpu1" -v t0="$t0" -v t1="$t1" \
			-v c0="$tc0" -v c1="$tc1" 'BEGIN {
			printf "cpu_s=%.2f wall_s=%.2f cpu_pct=%.1f connect_s=%.1f ",
				b - a, t1 - t0, (t1 > t0 ? 100 * (b - a) / (t1 - t0) : 0),
				c1 - c0 }'
		for key in connected failed deliveries gaps lost pending; do
			printf '%s=%s ' "$key" "$(for ((i = 0; i < procs; i++)); do
				fig "$dir/w.$i" "$key"; done | awk '{ s += $1 } END { print s + 0 }')"
		done
		# The histograms summed: p50, p99 and max over every delivery.
		cat "$dir"/hist.* 2>/dev/null | awk '$1 != "max" { c[$1] += $2 }
			END { for (v in c) print v, c[v] }' | sort -g >"$dir/hist"
		max=$(cat "$dir"/hist.* 2>/dev/null | awk '$1 == "max" &&
			$2 > m { m = $2 } END { print m + 0 }')
		awk -v max="$max" -v n="$(awk '{ s += $2 } END { print s + 0 }' \
			"$dir/hist")" '
			{ s += $2
			  if (p50 == "" && s > 0.50 * n) p50 = $1
			  if (p99 == "" && s > 0.99 * n) p99 = $1 }
			END {
				if (p50 + 0 > max + 0) p50 = max
				if (p99 + 0 > max + 0) p99 = max
				printf "lat_n=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f", n,
					p50 / 1e3, p99 / 1e3, max / 1e3 }' "$dir/hist"
		echo
	} >"$tmp/run.$r"
	# End of input: tf-broadcast closes its clients (1001) and exits.
	kill "$fpid" 2>/dev/null || true
	wait "$fpid" 2>/dev/null || true
	if [ -n "$tpid" ]; then
		wait "$tpid" 2>/dev/null || true
	fi
	for spid in "${spids[@]}"; do
		for ((i = 0; i < 300; i++)); do
			kill -0 "$spid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$spid" 2>/dev/null || true
		wait "$spid" 2>/dev/null || true
	done
	if cat "$dir"/server.*.err | grep -qv "listening on"; then
		cat "$dir"/server.*.err | grep -v "listening on" | sort | uniq -c | sort -rn | head -3 |
			sed 's/^/connections.sh: server said: /' >&2
	fi
}

for ((r = 1; r <= RUNS; r++)); do
	one "$r"
done

echo "tf-broadcast: $n connected WebSocket clients$([ "$n" -lt "$CONNS" ] && echo " (of $CONNS asked: the limits above)"), a broadcast of 1 msg/s for ${SECS}s;"
[ "$PROCS" -gt 1 ] && echo "  served by $PROCS tf-broadcast processes sharing one port (--reuse-port, --max-clients $max_clients each), fed the same lines by tee; RSS and CPU are their sums"
echo "  $procs load clients of up to $PER from 127.0.0.2..; $(nproc) cores shared by server, load clients and feeder;"
echo "  load average before the runs: $load0, after: $(loadavg)$([ "${RT:-0}" = 1 ] && echo "; RT=1: feeder, server and load clients at SCHED_FIFO")"
printf "  %-5s %9s %9s %8s %8s %9s %6s %11s %10s %9s\n" run connected "connect s" \
	"p50 ms" "p99 ms" "max ms" gaps "server RSS" "per client" "server CPU"
for ((r = 1; r <= RUNS; r++)); do
	tr ' ' '\n' <"$tmp/run.$r" | awk -v r="$r" -v want="$n" -v secs="$SECS" -F= '
		NF == 2 { v[$1] = $2 }
		END {
			c = v["connected"] > 0 ? v["connected"] : 1
			printf "  %-5s %9d %9.1f %8.2f %8.2f %9.2f %6d %7.0f MiB %6.2f KiB %8.1f%%\n",
				r, v["connected"], v["connect_s"], v["p50_ms"], v["p99_ms"],
				v["max_ms"], v["gaps"] + v["lost"] + v["pending"],
				v["rss1_kib"] / 1024,
				(v["rss1_kib"] - v["rss0_kib"]) / c, v["cpu_pct"]
		}'
done
# Median and spread (min..max) of each figure over the runs.
for key in p50_ms p99_ms max_ms cpu_pct; do
	for ((r = 1; r <= RUNS; r++)); do fig "$tmp/run.$r" "$key"; done |
		sort -g | awk -v k="$key" '{ a[NR] = $1 } END {
			printf "  %s: median %s (%s .. %s)\n", k, a[int((NR + 1) / 2)], a[1], a[NR] }'
done
for ((r = 1; r <= RUNS; r++)); do
	tr ' ' '\n' <"$tmp/run.$r" | awk -F= 'NF == 2 { v[$1] = $2 }
		END { c = v["connected"] > 0 ? v["connected"] : 1
			printf "%.2f\n", (v["rss1_kib"] - v["rss0_kib"]) / c }'
done | sort -g | awk '{ a[NR] = $1 } END {
	printf "  server RSS per client (KiB): median %s (%s .. %s)\n", a[int((NR + 1) / 2)], a[1], a[NR] }'
echo "  (delivery: from the feeder's write of a line to a client's read; every client gets every"
echo "   message, gaps counts the ones missed; server CPU: its share of one core during the broadcast,
   summed over the processes: 600% would be six cores)"
