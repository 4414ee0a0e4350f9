#!/bin/sh
# cron-alert.sh: checks a recording from cron and sends one alert per problem
# through tf-notify: its disk filling up, or no event recorded for too long.
#   */5 * * * *  /opt/tf/examples/cron-alert.sh /var/lib/tf/tf.db -c slack >/dev/null
# usage: cron-alert.sh RECORDING [tf-notify option...]. Channels come from
# TF_* variables or tf.conf (man tf-notify); delivery reports go to stdout,
# failures to stderr (cron mails them). DISK_MAX (percent used, default 90),
# STALE_AFTER (seconds without an event, default 300). Exit 0 when all is
# well or every alert was sent, 1 when one was not, 2 usage.
set -eu
B=${B:-build}
case $B in
/*) PATH=$B:$PATH ;;
*) PATH=$(cd "$(dirname "$0")/.." && pwd)/$B:$PATH ;;
esac

if [ $# -lt 1 ]; then
	echo "usage: cron-alert.sh RECORDING [tf-notify option...]" >&2
	exit 2
fi
db=$1
shift
DISK_MAX=${DISK_MAX:-90}
STALE_AFTER=${STALE_AFTER:-300}
host=$(hostname)

# alert PRIORITY TITLE MESSAGE: one alert line (texts made with clean).
alert() {
	printf '{"type":"alert","ts":%s,"priority":"%s","title":"%s","message":"%s","source":"cron-alert","host":"%s"}\n' \
		"$(date +%s000)" "$1" "$2" "$3" "$host"
}

# Text for a JSON string: without '"', '\' (octal 134) or control characters.
clean() {
	tr -d '"\134\000-\037'
}
where=$(printf '%s' "$db" | clean)

alerts=$(
	# Disk: percent used of the filesystem holding the recording.
	used=$(df -P -- "$(dirname -- "$db")" | awk 'NR == 2 {
		for (i = 1; i <= NF; i++)
			if ($i ~ /^[0-9]+%$/) { print $i + 0; exit } }')
	if [ "${used:-0}" -ge "$DISK_MAX" ]; then
		alert high "Disk ${used}% full on $host" \
			"the recording $where is on a filesystem ${used}% full (limit ${DISK_MAX}%)"
	fi
	# Freshness: the newest arrival time of any session (tf-replay --list).
	if ! list=$(tf-replay --list --json -q -- "$db" 2>&1); then
		alert critical "Recording unreadable on $host" \
			"tf-replay --list $where failed: $(printf '%s' "$list" | clean | head -n 1)"
		exit 0
	fi
	last=$(printf '%s\n' "$list" |
		sed -n 's/.*"last_ns":\([0-9]*\).*/\1/p' | sort -n | tail -n 1)
	if [ -z "$last" ]; then
		alert critical "No events on $host" \
			"the recording $where holds no event: is the engine running?"
		exit 0
	fi
	age=$(($(date +%s) - last / 1000000000))
	if [ "$age" -ge "$STALE_AFTER" ]; then
		alert critical "No events for ${age}s on $host" \
			"nothing recorded into $where for ${age} s (limit ${STALE_AFTER} s): is the engine running?"
	fi
)

[ -n "$alerts" ] || exit 0
printf '%s\n' "$alerts" | tf-notify "$@"
