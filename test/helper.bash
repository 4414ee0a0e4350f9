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
