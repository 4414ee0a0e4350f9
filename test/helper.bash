# helper.bash: loaded by every test/*.bats. Puts the build on PATH and
# gives each test its own directory ($BATS_TEST_TMPDIR).

TF_ROOT=$(cd "$(dirname "${BATS_TEST_FILENAME}")/.." && pwd)
case ${B:-build} in
/*) TF_BUILD=${TF_BUILD:-$B} ;;
*) TF_BUILD=${TF_BUILD:-$TF_ROOT/${B:-build}} ;;
esac
PATH=$TF_BUILD:$TF_BUILD/test:$PATH
export TF_ROOT TF_BUILD PATH

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

# No user's configuration leaks into a test.
export XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/config
unset TF_CONFIG TF_MAX_LINE TF_STRICT

# free_port: prints a TCP port on 127.0.0.1 nobody listens on.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_for CMD...: runs CMD every 0.05 s until it succeeds, at most 10 s.
wait_for() {
	local i
	for ((i = 0; i < 200; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

# ended_by SIG PID: PID, a child of the test that was sent SIG, ends within
# 10 s, by that signal: its status is 128 + SIG's number, as the line
# contract has it for SIGINT and SIGTERM (the program re-raises it).
ended_by() {
	local rc=0
	wait_for eval "! kill -0 $2 2>/dev/null" ||
		fail "pid $2 still runs 10 s after SIG$1"
	wait "$2" || rc=$?
	assert_equal "$rc" $((128 + $(kill -l "$1")))
}

# rss_means_something PROG: PROG is not a sanitizer build, whose
# quarantine holds on to freed memory on purpose (make asan): a bound on
# its RSS can be checked.
rss_means_something() {
	! nm -D "$(command -v "$1")" 2>/dev/null | grep -q __asan_init
}

# stop_pids: ends every process whose id the test wrote to ./pids, last
# started first: SIGTERM to all, then SIGKILL to any still up after 10 s.
stop_pids() {
	local p
	[ -f pids ] || return 0
	for p in $(tac pids); do
		kill "$p" 2>/dev/null || true
	done
	for p in $(tac pids); do
		wait_for eval "! kill -0 $p 2>/dev/null" ||
			kill -KILL "$p" 2>/dev/null || true
	done
}

# stderr_of CMD...: runs CMD with stderr captured in $BATS_TEST_TMPDIR/err;
# sets $status and $output (stdout) like bats' run.
run_err() {
	run --separate-stderr "$@"
}

# probe_405 [QUERY]: POST, PUT, DELETE, PATCH and OPTIONS on /healthz,
# /readyz, /stats and /metrics of the server on $PORT (QUERY appended,
# e.g. "?token=x") each get a JSON 405 with "Allow: GET, HEAD". The probe
# routes are lib/'s, the same in tf-broadcast and tf-serve.
probe_405() {
	local q=${1:-} m p h=$BATS_TEST_TMPDIR/405.h r=$BATS_TEST_TMPDIR/405.r
	for m in POST PUT DELETE PATCH OPTIONS; do
		for p in /healthz /readyz /stats /metrics; do
			curl -s -m 5 -X "$m" -D "$h" -o "$r" \
				"http://127.0.0.1:$PORT$p$q" || true
			{ grep -q '^HTTP/1.1 405 ' "$h" &&
				grep -qix 'allow: GET, HEAD'$'\r' "$h" &&
				grep -qi '^content-type: application/json' "$h" &&
				jq -e '.error == "method not allowed (use GET, HEAD)"' \
					"$r" >/dev/null; } || {
				echo "$m $p:" >&2
				cat "$h" "$r" >&2
				return 1
			}
		done
	done
}

# head_req PATH: a HEAD request on a bare socket to the server on $PORT,
# read to its end: the status line, then "body:" and the bytes after the
# headers (none, or the answer would be taken as the start of the next).
head_req() {
	timeout 10 python3 -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=8)
s.sendall(("HEAD %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" % sys.argv[2]).encode())
a = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    a += d
head, _, body = a.partition(b"\r\n\r\n")
print(head.split(b"\r\n")[0].decode(), "body:%r" % body)' "$PORT" "$1"
}
