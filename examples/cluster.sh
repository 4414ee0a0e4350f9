#!/usr/bin/env bash
# cluster.sh: tf past one machine, on one machine: a 3-node NATS JetStream
# cluster (Debian's nats-server) holding stream TF with 3 replicas; the
# engine, tf-sim | tf-pub; two WebSocket nodes, tf-sub | tf-broadcast; and a
# recorder, tf-sub --envelope | tf-record --input envelope. Everything
# listens on 127.0.0.1. Ctrl-C (or DURATION, e.g. 30s) stops it.
#
# Knobs: B (build dir), RATE (engine events/s, 10), DURATION, DIR (the
# servers' stores and the recording, all.db; default a temporary directory,
# removed at the end), NATS_PORTS ("4222 4223 4224", the clients' ports),
# ROUTE_PORTS ("6222 6223 6224", the cluster's), WS_PORTS ("8765 8766").
#
# Spread over hosts, each part runs where this script starts it, with
# addresses instead of 127.0.0.1 (and TLS, credentials: tf-pub(1)):
#   nats-1..3:  nats-server -js -n nats-N -sd /var/lib/nats \
#                 --cluster_name tf --cluster nats://0.0.0.0:6222 \
#                 --routes nats://nats-1:6222,nats://nats-2:6222,nats://nats-3:6222
#   everywhere: TF_NATS_URL=nats://nats-1:4222,nats://nats-2:4222,nats://nats-3:4222
#   engine:     engine | tf-pub -n --create --replicas 3
#   web nodes:  tf-sub --last 10000 --envelope | tf-broadcast --input envelope --host 0.0.0.0
#   recorder:   tf-sub --envelope --from-seq N | tf-record --input envelope -d all.db
#               (N: one past the first field of `tf-record --last-seq -d all.db`,
#               or --all for a new recording)
# Put each web node's tf-sub first on its nearest server (-s lists servers
# in the order they are tried): any server serves the whole stream, and a
# client resumes on any node. examples/systemd has units for tf-pub and
# tf-sub.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${B:-build}
RATE=${RATE:-10}
read -r -a nats_ports <<<"${NATS_PORTS:-4222 4223 4224}"
read -r -a route_ports <<<"${ROUTE_PORTS:-6222 6223 6224}"
read -r -a ws_ports <<<"${WS_PORTS:-8765 8766}"
case $B in /*) PATH=$B:$PATH ;; *) PATH=$PWD/$B:$PATH ;; esac
command -v nats-server >/dev/null || {
	echo "cluster: nats-server is missing (Debian: apt-get install nats-server)" >&2
	exit 1
}
[ ${#nats_ports[@]} = 3 ] && [ ${#route_ports[@]} = 3 ] &&
	[ ${#ws_ports[@]} = 2 ] || {
	echo "cluster: NATS_PORTS and ROUTE_PORTS name 3 ports, WS_PORTS 2" >&2
	exit 2
}
if [ -n "${DIR:-}" ]; then
	mkdir -p "$DIR"
	dir=$DIR
	keep=1
else
	dir=$(mktemp -d "${TMPDIR:-/tmp}/tf-cluster.XXXXXX")
	keep=0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tf-cluster-run.XXXXXX")

servers=() routes=() urls=() pids=()
for i in 0 1 2; do
	routes+=("nats://127.0.0.1:${route_ports[i]}")
	urls+=("nats://127.0.0.1:${nats_ports[i]}")
done
all=$(IFS=,; echo "${urls[*]}")

# stop: the engine first, so that tf-pub publishes what it read; then the
# subscribers (their readers end at end of input); the servers last.
stopping=0
stop() {
	local p
	[ $stopping = 0 ] || return 0
	stopping=1
	kill -TERM "${sim:-}" 2>/dev/null || true
	wait "${pub:-}" 2>/dev/null || true
	# What was published reaches the subscribers in a moment.
	sleep 1
	for p in "${subs[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	for p in "${servers[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${servers[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
	[ $keep = 1 ] || rm -rf "$dir"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for i in 0 1 2; do
	nats-server -js -a 127.0.0.1 -p "${nats_ports[i]}" -n "nats-$((i + 1))" \
		-sd "$dir/nats-$((i + 1))" --cluster_name tf \
		--cluster "${routes[i]}" --routes "$(IFS=,; echo "${routes[*]}")" \
		>>"$dir/nats-$((i + 1)).log" 2>&1 &
	servers+=($!)
done
# The cluster takes a moment to elect a JetStream leader: until then
# --create cannot make the stream.
for ((i = 0; ; i++)); do
	tf-pub -q -n -s "$all" --create --replicas 3 </dev/null 2>"$tmp/create.err" && break
	if ((i >= 60)); then
		echo "cluster: the stream could not be made in 30 s:" >&2
		cat "$tmp/create.err" >&2
		exit 1
	fi
	sleep 0.5
done

# Envelopes: the stream's seq and epoch, the same on every node, so a
# tf.v1 client resumes on either.
sub_flags=(--envelope) bc_flags=(--input envelope)
subs=()
for i in 0 1; do
	# Each node starts on a server of its own, then tries the others.
	mkfifo "$tmp/node$i"
	tf-sub -q -s "${urls[i]},$all" --last 1000 "${sub_flags[@]}" \
		>"$tmp/node$i" &
	subs+=($!)
	tf-broadcast -q -n -p "${ws_ports[i]}" "${bc_flags[@]}" <"$tmp/node$i" &
	pids+=($!)
done
mkfifo "$tmp/rec"
tf-sub -q -s "${urls[2]},$all" --all --envelope >"$tmp/rec" &
subs+=($!)
tf-record -q -n --input envelope -d "$dir/all.db" <"$tmp/rec" &
pids+=($!)

mkfifo "$tmp/engine"
tf-sim --rate "$RATE" ${DURATION:+--duration "$DURATION"} >"$tmp/engine" &
sim=$!
tf-pub -q -n -s "$all" <"$tmp/engine" &
pub=$!
pids+=("$pub")
echo "cluster: NATS on ${nats_ports[*]}, stream TF (3 replicas); WebSocket nodes ws://127.0.0.1:${ws_ports[0]}/ and ws://127.0.0.1:${ws_ports[1]}/; recording $dir/all.db (Ctrl-C to stop)" >&2
wait "$sim" || true
