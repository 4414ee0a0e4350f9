#!/usr/bin/env bash
# dashboard.sh: tf-serve's dashboard on 127.0.0.1, in headless chromium
# (bench/dashboard.mjs drives it with playwright-core): 1) time from
# navigation start to the first live event on the screen (the end of the
# frame that painted what window.tfDash.firstEventAt marks: a live price on
# the top bar's tape, which the page shows before its modules and charts
# are ready), fed by tf-sim at RATE1 events/s, each load in a fresh
# browser context; 2) GET /api/snapshot latency with a full state (tf-sim
# -n EVENTS unpaced into tf-serve --keep-open), N requests one after the
# other on a keep-alive connection; 3) the page live for DURATION s at
# 1,000 events/s: animation frames per second, JS heap at start and end,
# and what a heap snapshot finds reachable half-way and at the end;
# 4) with BASE=REF, scenarios 1 and 3 again with the page of git revision
# REF (served by the same tf-serve from --web-root), to show what the
# page's newer panels cost: BASE=e410683 is the page before issue 11
# (positions, round trips, profit, events feed, alert center).
#
# env: B (build dir), DURATION (60: seconds of scenario 3), RUNS (10: page
#      loads of scenario 1), RATE1 (200), EVENTS (200000), N (200),
#      RATE3 (1000), BASE (a git revision: scenario 4), ONLY (a list of
#      the scenarios to run, e.g. "first": first, snapshot, soak; and
#      bare, only when named: the page BARE (60) s at RATE3 in a chromium
#      driven over bare CDP, to show what DevTools' own record of
#      requests is in the soak's heap snapshots), KEEP=1 (keep the run
#      directory and print its name)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.bash
B=${B:-build}
DURATION=${DURATION:-60}
BARE=${BARE:-60}
RUNS=${RUNS:-10}
RATE1=${RATE1:-200}
EVENTS=${EVENTS:-200000}
N=${N:-200}
RATE3=${RATE3:-1000}
CHROMIUM=${TF_CHROMIUM:-/usr/bin/chromium}
bench_need tf-serve tf-sim
[ -x "$CHROMIUM" ] || { echo "dashboard.sh: no $CHROMIUM: scripts/install-deps" >&2; exit 1; }
[ -d node_modules/playwright-core ] ||
	{ echo "dashboard.sh: node_modules/playwright-core missing: npm ci" >&2; exit 1; }

# TERM, not KILL, at exit: node then closes its chromium, which KILL
# would leave running.
bench_start TERM

# start NAME SERVE-FLAGS -- SIM-FLAGS: tf-sim SIM-FLAGS | tf-serve on a free
# port with SERVE-FLAGS (through the FIFO $tmp/NAME.fifo); sets port, spid
# and simpid; returns once tf-serve listens.
start() {
	local name=$1 i
	shift
	local serve=() sim=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do serve+=("$1"); shift; done
	shift
	sim=("$@")
	port=$(free_port)
	mkfifo "$tmp/$name.fifo"
	"$B/tf-sim" "${sim[@]}" >"$tmp/$name.fifo" 2>>"$tmp/sim.err" &
	simpid=$!
	"$B/tf-serve" -p "$port" ${serve[@]+"${serve[@]}"} <"$tmp/$name.fifo" \
		>/dev/null 2>>"$tmp/serve.err" &
	spid=$!
	for ((i = 0; i < 200; i++)); do
		grep -q "listening on http://127.0.0.1:$port/" "$tmp/serve.err" 2>/dev/null &&
			return 0
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.05
	done
	echo "dashboard.sh: $name: tf-serve did not start:" >&2
	cat "$tmp/serve.err" >&2
	exit 1
}

# stop: ends the feeder and tf-serve, by their ids.
stop() {
	kill "$simpid" "$spid" 2>/dev/null || true
	wait "$simpid" "$spid" 2>/dev/null || true
}

# events_applied: the number of lines tf-serve has applied (/api/system).
events_applied() {
	curl -sf --max-time 5 "http://127.0.0.1:$port/api/system" |
		jq -r '.server.events // 0' 2>/dev/null || echo 0
}

# want SCENARIO: whether ONLY (all when empty) names it.
want() {
	[ -z "${ONLY:-}" ] || [[ " ${ONLY//,/ } " == *" $1 "* ]]
}

if [ -n "${BASE:-}" ]; then
	mkdir "$tmp/base"
	git archive "$BASE" web | tar -x -C "$tmp/base"
fi

# 1) first live data (with BASE, the two pages load in turns, so that a
# change in the machine's load falls on both alike)
if want first; then
	start first -- --rate "$RATE1"
	url1="http://127.0.0.1:$port/" url2=""
	pids1="$simpid $spid"
	if [ -n "${BASE:-}" ]; then
		start first-base --web-root "$tmp/base/web" -- --rate "$RATE1"
		url2="http://127.0.0.1:$port/"
	fi
	sleep 1
	node bench/dashboard.mjs first "$url1" "$RUNS" $url2 >"$tmp/first.both" ||
		echo "dashboard.sh: first: failed" >&2
	sed -n 1p "$tmp/first.both" >"$tmp/first"
	sed -n 2p "$tmp/first.both" >"$tmp/base.first"
	[ -n "$url2" ] && stop
	simpid=${pids1% *} spid=${pids1#* }
	stop
fi

# 2) /api/snapshot with a full state
if want snapshot; then
	start snap --keep-open -- --rate 0 -n "$EVENTS"
	for ((i = 0; i < 1200; i++)); do	# at most 60 s to take them in
		[ "$(events_applied)" -ge "$EVENTS" ] && break
		sleep 0.05
	done
	applied=$(events_applied)
	[ "$applied" -ge "$EVENTS" ] ||
		echo "dashboard.sh: snapshot: tf-serve applied $applied of $EVENTS events in 60 s" >&2
	rss=$(proc_kib "$spid" VmRSS 2>/dev/null || echo 0)
	node bench/dashboard.mjs snapshot "http://127.0.0.1:$port/" "$N" \
		>"$tmp/snap" || echo "dashboard.sh: snapshot: failed" >&2
	gz=$(curl -s --compressed -H 'Accept-Encoding: gzip' -o /dev/null \
		-w '%{size_download}' --max-time 10 "http://127.0.0.1:$port/api/snapshot" || echo "")
	printf ' applied=%s rss_kib=%s gzip_bytes=%s\n' "$applied" "$rss" "$gz" >>"$tmp/snap"
	stop
fi

# 3) a minute at 1,000 events/s
serve_cpu="?"
if want soak; then
	start soak -- --rate "$RATE3"
	node bench/dashboard.mjs soak "http://127.0.0.1:$port/" "$DURATION" \
		>"$tmp/soak" 2>"$tmp/soak.err" || {
		echo "dashboard.sh: soak: failed" >&2
		cat "$tmp/soak.err" >&2
	}
	! kill -0 "$spid" 2>/dev/null || serve_cpu=$(cpu_s "$spid")
	stop
fi

# 5) the page over bare CDP: what a browser without DevTools open keeps of
# DevTools' record of requests (not in the default set: ONLY=bare)
if [[ " ${ONLY:-} " == *" bare "* ]]; then
	start bare -- --rate "$RATE3"
	node bench/dashboard.mjs bare "http://127.0.0.1:$port/" "$BARE" \
		>"$tmp/bare" 2>"$tmp/bare.err" || {
		echo "dashboard.sh: bare: failed" >&2
		cat "$tmp/bare.err" >&2
	}
	stop
fi

# 4) the same with the page of $BASE
if [ -n "${BASE:-}" ] && want soak; then
	start base --web-root "$tmp/base/web" -- --rate "$RATE3"
	node bench/dashboard.mjs soak "http://127.0.0.1:$port/" "$DURATION" \
		>"$tmp/base.soak" 2>"$tmp/base.err" || {
		echo "dashboard.sh: soak of $BASE's page: failed" >&2
		cat "$tmp/base.err" >&2
	}
	stop
fi

row() {
	[ -s "$1" ] || { printf '  %-44s (no figures: the run failed)\n' "$2"; return 0; }
	tr ' ' '\n' <"$1" | awk -v what="$2" -v kind="$3" -F= '
		NF == 2 { v[$1] = $2 }
		END {
			if (kind == "first") {
				printf "  %-44s p50 %6.0f ms   min %6.0f ms   max %6.0f ms   (%d loads)\n",
					what, v["p50_ms"], v["min_ms"], v["max_ms"], v["runs"]
				printf "    p50 stages: document %.0f, chart library %.0f, snapshot %.0f, rendered %.0f,\n",
					v["doc_ms"], v["charts_ms"], v["snapshot_ms"], v["ready_ms"]
				printf "    WebSocket open %.0f, welcome %.0f, first live event received %.0f, drawn %.0f, painted %.0f ms\n",
					v["ws_open_ms"], v["welcome_ms"], v["event_ms"], v["first_ms"], v["painted_ms"]
				printf "  %-44s p50 %6.0f ms\n", "  the same, loaded again (cache warm)", v["warm_p50_ms"]
			}
			else if (kind == "snap")
				printf "  %-44s p50 %6.2f ms   p99 %6.2f ms   max %6.2f ms   %.0f KiB (%.0f KiB gzip), %d symbols\n",
					what, v["p50_ms"], v["p99_ms"], v["max_ms"], v["bytes"] / 1024,
					v["gzip_bytes"] / 1024, v["symbols"]
			else {
				printf "  %-44s %5.1f fps (worst 5 s: %4.1f)   events/s %.0f received, %.0f rendered   JS heap %5.1f -> %5.1f (half-way) -> %5.1f MiB (max %5.1f)\n",
					what, v["fps"], v["fps_min"], v["events_per_s"], v["rendered_per_s"],
					v["heap_start_mib"], v["heap_mid_mib"], v["heap_end_mib"], v["heap_max_mib"]
				printf "    main thread busy %.0f%% (script %.0f%%, layout %.0f%%, style %.0f%%); %d elements; %.1f re-fetches of /api/trading a second\n",
					100 * v["busy_task"], 100 * v["busy_script"], 100 * v["busy_layout"],
					100 * v["busy_style"], v["dom_nodes"], v["fetches_per_s"]
				printf "    reachable objects (heap snapshot) %.2f MiB half-way -> %.2f MiB at the end; compiled code %.2f -> %.2f MiB;\n",
					v["live_mid_mib"], v["live_end_mib"], v["code_mid_mib"], v["code_end_mib"]
				printf "    DevTools%s record of the page%s requests %.2f -> %.2f MiB\n", "\047", "\047s",
					v["devtools_mid_mib"], v["devtools_end_mib"]
			}
		}'
}

load1=$(loadavg)
echo "tf-serve dashboard: headless $("$CHROMIUM" --version 2>/dev/null | head -n1) on 127.0.0.1"
echo "  ($(nproc) cores shared by tf-sim, tf-serve and the browser; load average before: $load0, after: $load1)"
if want first; then
	row "$tmp/first" "first live data after navigation start" first
	[ -n "${BASE:-}" ] && row "$tmp/base.first" "the same, the page of $BASE (loads in turns)" first
	echo "    (fed at $RATE1 events/s; each first load in a fresh context, empty cache)"
fi
if want snapshot; then
	row "$tmp/snap" "GET /api/snapshot, $N requests" snap
	echo "    (state of $(fig "$tmp/snap" applied) events; tf-serve RSS $((${rss:-0} / 1024)) MiB; one keep-alive connection)"
fi
if want soak; then
	row "$tmp/soak" "page live ${DURATION}s at $RATE3 events/s" soak
	sed -n 's/^dashboard.mjs: grew most/    grew most/p' "$tmp/soak.err"
	[ -n "${BASE:-}" ] && row "$tmp/base.soak" "the same, the page of $BASE" soak
	echo "    (tf-serve CPU over the run: ${serve_cpu} s; frames: requestAnimationFrame callbacks;"
	echo "     heap: CDP Performance.getMetrics JSHeapUsedSize, start, half-way and end after a full GC;"
	echo "     reachable objects: what a heap snapshot holds, apart from compiled code, which grows as the"
	echo "     engine optimizes, and DevTools' record of each request, kept only because the bench drives"
	echo "     the browser over DevTools; the page is frozen during the half-way snapshot: left out of fps"
	echo "     and busy)"
fi
if [[ " ${ONLY:-} " == *" bare "* ]]; then
	if [ -s "$tmp/bare" ]; then
		tr ' ' '\n' <"$tmp/bare" | awk -F= -v secs="$BARE" -v rate="$RATE3" '
			NF == 2 { v[$1] = $2 }
			END {
				printf "  %-44s reachable objects %.2f MiB (compiled code %.2f); DevTools%s record of requests: %d nodes, %d bytes\n",
					"page " secs "s at " rate " events/s, bare CDP", v["live_mib"], v["code_mib"], "\047", v["devtools_nodes"], v["devtools_bytes"]
				printf "    (chromium driven over CDP with no Network domain on; %d events in the page)\n", v["events"]
			}'
	else
		printf '  %-44s (no figures: the run failed)\n' "page over bare CDP"
	fi
fi
echo "  (targets: first live data < 300 ms; the page keeps ~60 fps and a flat heap at 1000 events/s)"
