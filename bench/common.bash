# common.bash: what the bash benchmarks share, sourced after `cd` to the
# top of the tree: a run directory removed at exit, the load average, free
# ports, and the CPU time and memory of a process read from /proc.
# shellcheck shell=bash disable=SC2034 # it sets variables for its scripts

# The script's name, for its messages.
me=${0##*/}

# bench_start SIGNAL: records the load average before the runs ($load0:
# on a shared machine it decides the figures, so every table prints it)
# and makes the run directory ($tmp). At exit, whatever the cause, this
# shell's children still running get SIGNAL (KILL for most: a benchmark's
# servers and clients must not outlive it and load the next run) and $tmp
# goes, unless KEEP=1 keeps it to look at. A script that starts processes
# not its children defines bench_on_exit to end them; it runs after the
# children are gone.
bench_start() {
	bench_signal=$1
	load0=$(loadavg)
	tmp=$(mktemp -d)
	trap bench_cleanup EXIT
	# INT and TERM end the script through its EXIT trap.
	trap 'exit 130' INT TERM
}

bench_cleanup() {
	local p
	for p in $(jobs -p); do
		kill -s "$bench_signal" "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	if declare -F bench_on_exit >/dev/null; then
		bench_on_exit
	fi
	if [ "${KEEP:-0}" = 1 ]; then
		echo "$me: runs kept in $tmp" >&2
	else
		rm -rf "$tmp"
	fi
}

# bench_need PROG...: exits unless every $B/PROG is built, naming the
# first missing one (better than a run that measures nothing).
bench_need() {
	local p
	for p; do
		[ -x "$B/$p" ] || { echo "$me: $B/$p missing: run make" >&2; exit 1; }
	done
}

# bench_rt: with RT=1, sets rt_feed, rt_server and rt_client to run the
# feeder, the server and the load client at SCHED_FIFO priorities 3, 2
# and 1 (needs CAP_SYS_NICE), so that the machine's other work gets only
# what they leave; otherwise leaves the three empty.
bench_rt() {
	rt_feed=() rt_server=() rt_client=()
	if [ "${RT:-0}" = 1 ]; then
		rt_feed=(chrt -f 3) rt_server=(chrt -f 2) rt_client=(chrt -f 1)
		chrt -f 1 true || { echo "$me: RT=1: cannot use SCHED_FIFO" >&2; exit 1; }
	fi
}

# on N: whether scenario N is in the list $ONLY.
on() {
	case " $ONLY " in *" $1 "*) return 0 ;; esac
	return 1
}

# loadavg: the 1, 5 and 15 minute load averages.
loadavg() {
	cut -d' ' -f1-3 /proc/loadavg
}

# free_port: a TCP port free on 127.0.0.1 now (the kernel's choice, so
# that runs and concurrent benchmarks do not collide).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# cpu_s PID: the process's user + system CPU seconds so far (0 if gone).
cpu_s() {
	awk -v hz="$(getconf CLK_TCK)" '{
		sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' \
		"/proc/$1/stat" 2>/dev/null || echo 0
}

# proc_kib PID FIELD: a VmRSS/VmHWM figure of /proc/PID/status, in KiB.
proc_kib() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

# fig FILE KEY: one figure of a run's key=value line ("" when the run is
# missing).
fig() {
	[ -s "$1" ] || return 0
	tr ' ' '\n' <"$1" | awk -F= -v k="$2" '$1 == k { print $2 }'
}
