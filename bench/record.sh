#!/bin/sh
# record.sh: tf-record's rate on 1,000,000 lines of 200 bytes, beside
# sqlite3's own .import of the same file into a one-column table, and its
# peak RSS at 100k and 1M lines (it must not grow with the input).
set -eu
cd "$(dirname "$0")/.."
B=${B:-build}
DATA=${DATA:-$B/bench-data}
in=$DATA/lines-1M.ndjson
head -n 100000 "$in" >"$DATA/lines-100k.ndjson"

# time_cmd OUT CMD: runs CMD under GNU time; OUT gets "seconds kib".
time_cmd() {
	out=$1
	shift
	/usr/bin/time -f "%e %M" -o "$out" "$@"
}

rm -f "$DATA"/record-*.db*
time_cmd "$DATA/t-rec-100k" "$B/tf-record" -q -n -d "$DATA/record-100k.db" \
	<"$DATA/lines-100k.ndjson"
time_cmd "$DATA/t-rec-1M" "$B/tf-record" -q -n -d "$DATA/record-1M.db" <"$in"

rm -f "$DATA/import.db"
printf '.mode ascii\n.separator "\\037" "\\n"\n%s\n.import %s t\n' \
	'create table t(line text);' "$in" >"$DATA/import.sql"
time_cmd "$DATA/t-import" sqlite3 "$DATA/import.db" <"$DATA/import.sql"

n=$(sqlite3 "$DATA/record-1M.db" "select count(*) from events")
m=$(sqlite3 "$DATA/import.db" "select count(*) from t")
[ "$n" -eq 1000000 ] && [ "$m" -eq 1000000 ] || {
	echo "record.sh: wrong row counts: tf-record $n, .import $m" >&2
	exit 1
}

read -r rs rk <"$DATA/t-rec-1M"
read -r hs hk <"$DATA/t-rec-100k"
read -r is ik <"$DATA/t-import"
awk -v rs="$rs" -v rk="$rk" -v hk="$hk" -v is="$is" -v ik="$ik" 'BEGIN {
	r = 1000000 / rs; i = 1000000 / is
	print "tf-record: 1,000,000 lines of 200 bytes into SQLite"
	printf "  %-34s %12s %10s\n", "", "lines/s", "peak RSS"
	printf "  %-34s %12d %7d KiB\n", "tf-record -n (WAL, batched)", r, rk
	printf "  %-34s %12d %7d KiB\n", "sqlite3 .import (one column)", i, ik
	printf "  tf-record / .import: %.2fx   (targets: >= 250000 lines/s, >= 0.6x)\n", r / i
	printf "  tf-record peak RSS: %d KiB at 100k lines, %d KiB at 1M lines\n", hk, rk
}'
