# nats.bash: real nats-server instances for the bus tests (tf-pub.bats,
# tf-sub.bats), loaded after helper.bash. Every server listens on free
# loopback ports, keeps its store in $BATS_TEST_TMPDIR and is listed in
# ./pids for stop_pids.

# nats_start NAME [ARGS...]: starts a JetStream server called NAME (client
# port in $NAME_PORT, monitoring port in $NAME_MON), or starts it again on
# the same ports and store after nats_kill. Returns once it is healthy.
nats_start() {
	local name=$1 port mon args
	shift
	port=$(nats_var "$name" PORT)
	mon=$(nats_var "$name" MON)
	if [ -z "$port" ]; then
		port=$(free_port)
		mon=$(free_port)
		printf -v "${name}_PORT" %s "$port"
		printf -v "${name}_MON" %s "$mon"
		{ [ $# -eq 0 ] || printf '%s\n' "$@"; } >"$BATS_TEST_TMPDIR/$name.args"
	else
		mapfile -t args <"$BATS_TEST_TMPDIR/$name.args"
		set -- "${args[@]}"
	fi
	nats-server -js -a 127.0.0.1 -p "$port" -m "$mon" -n "$name" \
		-sd "$BATS_TEST_TMPDIR/$name.store" "$@" \
		>>"$BATS_TEST_TMPDIR/$name.log" 2>&1 3>&- &
	echo $! >"$BATS_TEST_TMPDIR/$name.pid"
	echo $! >>"$BATS_TEST_TMPDIR/pids"
	if ! wait_for nats_healthy "$name"; then
		tail -n 20 "$BATS_TEST_TMPDIR/$name.log" >&2
		return 1
	fi
}

nats_var() {
	local v="${1}_$2"
	echo "${!v:-}"
}

# nats_healthy NAME: the server answers and JetStream is ready.
nats_healthy() {
	curl -sf "http://127.0.0.1:$(nats_var "$1" MON)/healthz" >/dev/null
}

# nats_url NAME...: the client URLs of the servers, comma-separated.
nats_url() {
	local n urls=()
	for n in "$@"; do
		urls+=("nats://127.0.0.1:$(nats_var "$n" PORT)")
	done
	local IFS=,
	echo "${urls[*]}"
}

# nats_kill NAME [SIGNAL]: kill -9 (or SIGNAL) of the server; waits until
# it is gone for KILL, TERM and INT.
nats_kill() {
	local pid
	pid=$(cat "$BATS_TEST_TMPDIR/$1.pid")
	kill -"${2:-KILL}" "$pid"
	case ${2:-KILL} in
	STOP | CONT) ;;
	*) wait_for eval "! kill -0 $pid 2>/dev/null" ;;
	esac
}

# nats_cluster A B C: a 3-node JetStream cluster of servers A, B and C.
nats_cluster() {
	local n routes= c
	for n in "$@"; do
		c=$(free_port)
		printf -v "${n}_CLUSTER" %s "$c"
		routes+=${routes:+,}nats://127.0.0.1:$c
	done
	for n in "$@"; do
		nats_start_bg "$n" --cluster_name tf --cluster \
			"nats://127.0.0.1:$(nats_var "$n" CLUSTER)" \
			--routes "$routes"
	done
	for n in "$@"; do
		wait_for nats_healthy "$n" || {
			tail -n 20 "$BATS_TEST_TMPDIR/$n.log" >&2
			return 1
		}
	done
}

# nats_start_bg: nats_start without waiting for health (a cluster node is
# healthy only once a quorum is up).
nats_start_bg() {
	local name=$1
	shift
	local port mon
	port=$(free_port)
	mon=$(free_port)
	printf -v "${name}_PORT" %s "$port"
	printf -v "${name}_MON" %s "$mon"
	{ [ $# -eq 0 ] || printf '%s\n' "$@"; } >"$BATS_TEST_TMPDIR/$name.args"
	nats-server -js -a 127.0.0.1 -p "$port" -m "$mon" -n "$name" \
		-sd "$BATS_TEST_TMPDIR/$name.store" "$@" \
		>>"$BATS_TEST_TMPDIR/$name.log" 2>&1 3>&- &
	echo $! >"$BATS_TEST_TMPDIR/$name.pid"
	echo $! >>"$BATS_TEST_TMPDIR/pids"
}

# nats_leader NAME STREAM: the name of the stream's leader, asked of NAME.
nats_leader() {
	curl -sf "http://127.0.0.1:$(nats_var "$1" MON)/jsz?streams=true" |
		jq -r --arg s "$2" '.account_details[]?.stream_detail[]? |
			select(.name == $s) | .cluster.leader // empty'
}

# nats_msgs NAME STREAM: how many messages the stream holds.
nats_msgs() {
	curl -sf "http://127.0.0.1:$(nats_var "$1" MON)/jsz?streams=true" |
		jq -r --arg s "$2" '[.account_details[]?.stream_detail[]? |
			select(.name == $s) | .state.messages][0] // 0'
}

# nats_consumers NAME STREAM: how many consumers the stream has.
nats_consumers() {
	curl -sf "http://127.0.0.1:$(nats_var "$1" MON)/jsz?consumers=true" |
		jq -r --arg s "$2" '[.account_details[]?.stream_detail[]? |
			select(.name == $s) | .consumer_detail // [] | length][0] // 0'
}

# nats_raw URL OPS...: a bare NATS client (the protocol is text): sends
# CONNECT, then each op: "pub SUBJECT PAYLOAD" publishes, "req SUBJECT
# PAYLOAD" publishes with a reply inbox and prints the reply's payload.
nats_raw() {
	python3 - "$@" <<'EOF'
import socket, sys, json, re
url = sys.argv[1].split(",")[0].split("://")[-1]
host, port = url.rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=5)
f = s.makefile("rb")
f.readline()  # INFO
s.sendall(b'CONNECT {"verbose":false,"pedantic":false,"headers":true}\r\n')
s.sendall(b"SUB _INBOX.raw 1\r\n")
for op in sys.argv[2:]:
    kind, subject, payload = op.split(" ", 2)
    data = payload.encode()
    if kind == "pub":
        s.sendall(b"PUB %s %d\r\n%s\r\n" % (subject.encode(), len(data), data))
    else:
        s.sendall(b"PUB %s _INBOX.raw %d\r\n%s\r\n" % (subject.encode(), len(data), data))
        s.sendall(b"PING\r\n")
        while True:
            line = f.readline().decode().rstrip("\r\n")
            if line.startswith("MSG") or line.startswith("HMSG"):
                parts = line.split()
                n = int(parts[-1])
                body = f.read(n + 2)[:n].decode()
                if line.startswith("HMSG"):
                    body = body[int(parts[-2]):]
                print(body)
                break
            if line == "PING":
                s.sendall(b"PONG\r\n")
s.sendall(b"PING\r\n")
while f.readline().rstrip() != b"PONG":
    pass
EOF
}

# nats_clients NAME: how many clients are connected to the server.
nats_clients() {
	curl -sf "http://127.0.0.1:$(nats_var "$1" MON)/connz" |
		jq -r '.num_connections // 0'
}

# pub_ready FILE: waits until the tf-pub started with -v and its stderr in
# FILE has found its stream: a server stopped before that would hang the
# stream lookup, not the publishing a test means to hold up.
pub_ready() {
	wait_for grep -q '^tf-pub: publishing to stream' "$1"
}
