#!/bin/sh
# alert.sh: tf-alert's rate on 200,000 tf-sim events with 20 price rules
# and with 20 jq rules, beside jq 1.6 running the same 20 conditions as one
# select() over the same lines (the peer: what a shell pipeline would do).
# Nothing fires: every rule is checked on every line it applies to.
set -eu
cd "$(dirname "$0")/.."
B=${B:-build}
DATA=${DATA:-$B/bench-data}
N=${N:-200000}
mkdir -p "$DATA"
in=$DATA/alert-sim.ndjson
[ -s "$in" ] && [ "$(wc -l <"$in")" -eq "$N" ] ||
	"$B/tf-sim" -q -r 0 -n "$N" --seed 7 -s BTC-USD,ETH-USD,SOL-USD >"$in"

# Twenty conditions none of the lines meets, on the fields rules use most.
price=$DATA/alert-price.json
jqr=$DATA/alert-jq.json
conds=$DATA/alert-conds.jq
i=0 sep= or=
printf '[' >"$price"
printf '[' >"$jqr"
: >"$conds"
while [ $i -lt 20 ]; do
	lvl=$((1000000000 + i))
	printf '%s{"symbol":"BTC-USD","above":%d}' "$sep" "$lvl" >>"$price"
	printf '%s{"kind":"jq","when":".type == \\"price_update\\" and .price > %d"}' \
		"$sep" "$lvl" >>"$jqr"
	printf '%s(.type == "price_update" and .price > %d)' "$or" "$lvl" \
		>>"$conds"
	sep=, or=' or '
	i=$((i + 1))
done
echo ']' >>"$price"
echo ']' >>"$jqr"

# rate OUT CMD...: lines/s of CMD over $in into OUT ("lines/s kib").
rate() {
	out=$1
	shift
	/usr/bin/time -f "%e %M" -o "$out.t" "$@" <"$in" >"$out.stdout"
	[ ! -s "$out.stdout" ] || {
		echo "alert.sh: $* wrote output: a rule fired" >&2
		exit 1
	}
	awk -v n="$N" '{ printf "%d %d\n", ($1 > 0 ? n / $1 : 0), $2 }' \
		"$out.t" >"$out"
}

rate "$DATA/a-price" "$B/tf-alert" -q "$price"
rate "$DATA/a-jq" "$B/tf-alert" -q "$jqr"
rate "$DATA/a-peer" jq -c "select($(cat "$conds"))"

read -r pr pk <"$DATA/a-price"
read -r jr jk <"$DATA/a-jq"
read -r qr qk <"$DATA/a-peer"
echo "tf-alert: $N tf-sim events, 20 rules, none firing"
printf "  %-40s %12s %10s\n" "" "lines/s" "peak RSS"
printf "  %-40s %12d %7d KiB\n" "tf-alert, 20 price rules (above)" "$pr" "$pk"
printf "  %-40s %12d %7d KiB\n" "tf-alert, 20 jq rules" "$jr" "$jk"
printf "  %-40s %12d %7d KiB\n" "jq 1.6, the 20 conditions as one select" \
	"$qr" "$qk"
awk -v j="$jr" -v q="$qr" 'BEGIN {
	printf "  tf-alert jq rules / jq: %.2fx (each line parsed once for all jq rules)\n",
		(q > 0 ? j / q : 0) }'
