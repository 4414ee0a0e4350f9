/* dash_test.c: the dashboard state (lib/dash) fed hand-made lines, a
 * recording and tf-sim's output; every JSON answer is checked to be valid
 * (tf_scan) and read back with jv_parse to check its values. */
#include <jv.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dash.h"
#include "scan.h"
#include "store.h"
#include "vocab.h"
#include "wsproto.h"

static int failures;

#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "dash_test:%d: ", __LINE__);         \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			failures++;                                          \
		}                                                            \
	} while (0)

#define NEAR(a, b) (fabs((a) - (b)) <= 1e-9 * (fabs(b) > 1 ? fabs(b) : 1))
#define CHECK_NUM(got, want)                                                 \
	do {                                                                 \
		double g_ = (got), w_ = (want);                              \
		CHECK(NEAR(g_, w_), "%s = %.17g, want %.17g", #got, g_, w_); \
	} while (0)

/* 2027-01-15T08:00:00Z, on an hour boundary. */
#define T0 1800000000000LL

/* Every other line is applied with its fields found here, the others
 * with ev NULL, so both ways are exercised. */
static int toggle;

static void
feedv(struct tf_dash *d, int64_t arrival, const char *fmt, va_list ap)
{
	char line[4096];
	struct tf_event ev;
	int n = vsnprintf(line, sizeof line, fmt, ap);

	if (n < 0 || (size_t)n >= sizeof line ||
	    tf_event_scan(line, (size_t)n, &ev, NULL) != TF_SCAN_OK) {
		CHECK(0, "bad test line: %s", line);
		return;
	}
	CHECK(tf_dash_apply(d, line, (size_t)n, toggle++ % 2 ? &ev : NULL,
		      arrival) == 0,
		"apply failed: %s", line);
	/* The state must hold a copy, not this buffer. */
	memset(line, 'x', sizeof line);
}

static void __attribute__((format(printf, 2, 3)))
feed(struct tf_dash *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	feedv(d, 1, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 3, 4)))
feed_at(struct tf_dash *d, int64_t arrival, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	feedv(d, arrival, fmt, ap);
	va_end(ap);
}

/* A price_update of sym trading vol: its "volume" is cumulative, as
 * feeds send it, so the first tick of a symbol in d trades nothing. */
static void
tick(struct tf_dash *d, const char *sym, int64_t ts, double price,
	double vol)
{
	static struct {
		const struct tf_dash *d;
		char sym[32];
		double cum;
	} cums[4096];
	static size_t ncums;
	size_t i;

	for (i = 0; i < ncums; i++)
		if (cums[i].d == d && !strcmp(cums[i].sym, sym))
			break;
	if (i == ncums) {
		if (ncums == sizeof cums / sizeof cums[0])
			ncums = i = 0;	/* forgets: their next tick trades 0 */
		cums[ncums].d = d;
		snprintf(cums[ncums].sym, sizeof cums[ncums].sym, "%s", sym);
		cums[ncums++].cum = 1000;
	}
	cums[i].cum += vol;
	feed(d,
		"{\"type\":\"price_update\",\"ts\":%lld,\"symbol\":\"%s\","
		"\"price\":%.10g,\"volume\":%.10g}",
		(long long)ts, sym, price, cums[i].cum);
}

/* Lines d has applied (every call of tf_dash_apply). */
static uint64_t
events_of(const struct tf_dash *d)
{
	struct tf_dash_counters c;

	tf_dash_counters(d, &c);
	return c.events;
}

/* Checks b holds one valid JSON value (tf_scan: RFC 8259) and parses it;
 * the buffer is emptied. */
static jv
parse(struct tf_buf *b, int line)
{
	struct tf_scan_error e = { 0, NULL };
	struct tf_buf w;
	jv v;

	tf_buf_init(&w);
	tf_buf_adds(&w, "{\"v\":");
	tf_buf_add(&w, b->p ? b->p : "", b->len);
	tf_buf_adds(&w, "}");
	if (b->failed || w.failed ||
	    tf_scan(w.p, w.len, NULL, NULL, &e) != TF_SCAN_OK) {
		fprintf(stderr,
			"dash_test:%d: invalid JSON (%s at %zu): %.*s\n",
			line, e.reason ? e.reason : "buffer failed", e.offset,
			(int)(b->len < 2000 ? b->len : 2000), b->p);
		failures++;
		v = jv_invalid();
	} else {
		v = jv_parse_sized(b->p, (int)b->len);
		if (!jv_is_valid(v)) {
			fprintf(stderr, "dash_test:%d: jv_parse refused: %s\n",
				line, b->p);
			failures++;
		}
	}
	tf_buf_finish(&w);
	tf_buf_finish(b);
	return v;
}

static jv
snap_(const struct tf_dash *d, int line)
{
	struct tf_buf b;

	tf_buf_init(&b);
	tf_buf_adds(&b, "{\"seq\":0");
	tf_dash_snapshot_members(d, &b);
	tf_buf_adds(&b, "}");
	return parse(&b, line);
}
#define snap(d) snap_(d, __LINE__)

static jv
candles_(const struct tf_dash *d, const char *sym, const char *tf,
	int64_t from, int64_t to, int line)
{
	struct tf_buf b;

	tf_buf_init(&b);
	if (tf_dash_candles(d, sym, tf_dash_tf_parse(tf), from, to, &b) < 0) {
		CHECK(b.len == 0, "line %d: written on failure", line);
		tf_buf_finish(&b);
		return jv_invalid();
	}
	return parse(&b, line);
}
#define candles(d, s, tf, f, t) candles_(d, s, tf, f, t, __LINE__)

static jv
trades_(const struct tf_dash *d, const char *sym, size_t limit, int line)
{
	struct tf_buf b;

	tf_buf_init(&b);
	tf_dash_trades(d, sym, limit, &b);
	return parse(&b, line);
}
#define trades(d, s, l) trades_(d, s, l, __LINE__)

static jv
alerts_(const struct tf_dash *d, int prio, size_t limit, int line)
{
	struct tf_buf b;

	tf_buf_init(&b);
	tf_dash_alerts(d, prio, limit, &b);
	return parse(&b, line);
}
#define alerts(d, p, l) alerts_(d, p, l, __LINE__)

static jv
metrics_(const struct tf_dash *d, int line)
{
	struct tf_buf b;

	tf_buf_init(&b);
	tf_dash_metrics(d, &b);
	return parse(&b, line);
}
#define metrics(d) metrics_(d, __LINE__)

static jv
bot_(const struct tf_dash *d, int line)
{
	struct tf_buf b;

	tf_buf_init(&b);
	tf_dash_bot(d, &b);
	return parse(&b, line);
}
#define bot(d) bot_(d, __LINE__)

/* The value at path ("candles/BTC-USD/1m/0/o"; -1 the last element) of
 * root, a copy, or invalid. */
static jv
at(jv root, const char *path)
{
	char buf[256], *tok, *save = NULL;
	jv v = jv_copy(root);

	snprintf(buf, sizeof buf, "%s", path);
	for (tok = strtok_r(buf, "/", &save); tok && jv_is_valid(v);
		tok = strtok_r(NULL, "/", &save)) {
		if (jv_get_kind(v) == JV_KIND_ARRAY) {
			int i = atoi(tok), n = jv_array_length(jv_copy(v));

			if (i < 0)
				i += n;
			if (i < 0 || i >= n) {
				jv_free(v);
				v = jv_invalid();
			} else {
				v = jv_array_get(v, i);
			}
		} else if (jv_get_kind(v) == JV_KIND_OBJECT) {
			v = jv_object_get(v, jv_string(tok));
		} else {
			jv_free(v);
			v = jv_invalid();
		}
	}
	return v;
}

/* A number at path, NAN if it is not one. */
static double
num(jv root, const char *path)
{
	jv v = at(root, path);
	double r = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : NAN;

	jv_free(v);
	return r;
}

/* The length of the array or object at path, -1 otherwise. */
static int
count(jv root, const char *path)
{
	jv v = at(root, path);
	int r = -1;

	if (jv_get_kind(v) == JV_KIND_ARRAY)
		r = jv_array_length(jv_copy(v));
	else if (jv_get_kind(v) == JV_KIND_OBJECT)
		r = jv_object_length(jv_copy(v));

	jv_free(v);
	return r;
}

static int
is_null(jv root, const char *path)
{
	jv v = at(root, path);
	int r = jv_get_kind(v) == JV_KIND_NULL;

	jv_free(v);
	return r;
}

static int
is_bool(jv root, const char *path, int want)
{
	jv v = at(root, path);
	int r = jv_get_kind(v) == (want ? JV_KIND_TRUE : JV_KIND_FALSE);

	jv_free(v);
	return r;
}

static int
has(jv root, const char *path)
{
	jv v = at(root, path);
	int r = jv_is_valid(v);

	jv_free(v);
	return r;
}

/* True when the string at path equals s. */
static int
str_is(jv root, const char *path, const char *s)
{
	jv v = at(root, path);
	int r = jv_get_kind(v) == JV_KIND_STRING &&
		!strcmp(jv_string_value(v), s);

	jv_free(v);
	return r;
}

static struct tf_dash *
make(size_t candles, size_t max_symbols)
{
	struct tf_dash_config cfg;
	struct tf_dash *d;
	char err[256] = "";

	tf_dash_config_init(&cfg);
	if (candles)
		cfg.candles = candles;
	if (max_symbols)
		cfg.max_symbols = max_symbols;
	d = tf_dash_create(&cfg, err, sizeof err);
	if (!d) {
		fprintf(stderr, "dash_test: tf_dash_create: %s\n", err);
		exit(1);
	}
	return d;
}

static void
test_config(void)
{
	struct tf_dash_config cfg;
	struct tf_dash *d;
	char err[256] = "";
	int i;

	tf_dash_config_init(&cfg);
	CHECK(cfg.candles == 1000 && cfg.trades == 500 && cfg.orders == 500 &&
		      cfg.alerts == 500 && cfg.predictions == 200 &&
		      cfg.patterns == 200 && cfg.equity == 5000 &&
		      cfg.max_symbols == 1000 && cfg.snapshot_candles == 300 &&
		      cfg.round_trips == 500,
		"defaults");
	cfg.trades = 0;
	d = tf_dash_create(&cfg, err, sizeof err);
	CHECK(!d && strstr(err, "trades"), "a zero limit: %s", err);
	tf_dash_destroy(d);
	tf_dash_config_init(&cfg);
	cfg.round_trips = 0;
	d = tf_dash_create(&cfg, err, sizeof err);
	CHECK(!d && strstr(err, "round_trips"), "round_trips 0: %s", err);
	tf_dash_destroy(NULL);
	for (i = 0; i < TF_DASH_NTF; i++)
		CHECK(tf_dash_tf_parse(tf_dash_tf_name(i)) == i, "tf %d", i);
	CHECK(!strcmp(tf_dash_tf_name(TF_DASH_5M), "5m") &&
		      tf_dash_tf_parse("15m") == TF_DASH_15M &&
		      tf_dash_tf_parse("4h") == TF_DASH_4H &&
		      tf_dash_tf_parse("1d") == TF_DASH_1D && TF_DASH_NTF == 7,
		"the seven timeframes");
	CHECK(tf_dash_tf_parse("2m") == -1 && tf_dash_tf_parse("") == -1 &&
		      tf_dash_tf_parse(NULL) == -1 &&
		      !tf_dash_tf_name(TF_DASH_NTF) && !tf_dash_tf_name(-1),
		"bad tf");
}

/* max_candles: the symbols ticked least recently lose their series. */
static void
test_candle_budget(void)
{
	struct tf_dash_config cfg;
	struct tf_dash_counters cnt;
	struct tf_dash *d;
	char err[256] = "";
	jv v;
	int i;

	tf_dash_config_init(&cfg);
	CHECK(cfg.max_candles == 500000, "max_candles default");
	cfg.candles = 100;
	cfg.max_candles = 699;
	d = tf_dash_create(&cfg, err, sizeof err);
	CHECK(!d && strstr(err, "max_candles"), "below 7 series: %s", err);
	/* Each series takes 16 slots at its first candle: a symbol 112. */
	cfg.max_candles = 700;
	d = tf_dash_create(&cfg, err, sizeof err);
	CHECK(d != NULL, "7 series: %s", err);
	for (i = 0; i < 6; i++) {
		char sym[2] = { (char)('A' + i), 0 };

		tick(d, sym, T0, 1 + i, 1);
	}
	tick(d, "A", T0 + 1000, 1, 1);	/* A ticked after the others */
	tf_dash_counters(d, &cnt);
	CHECK(cnt.candles == 6 * 112 && cnt.series_evicted == 0, "6 symbols "
		"in %llu slots", (unsigned long long)cnt.candles);
	/* A's 1s series grows to 32 slots (688), then to 64: past 700, B
	 * (ticked least recently) loses its series, never A. */
	for (i = 2; i < 40; i++)
		tick(d, "A", T0 + i * 1000, 1, 1);
	tf_dash_counters(d, &cnt);
	CHECK(cnt.candles == 608 && cnt.series_evicted == 1, "B evicted: "
		"%llu slots, %llu evicted", (unsigned long long)cnt.candles,
		(unsigned long long)cnt.series_evicted);
	v = candles(d, "B", "1s", 0, 0);
	CHECK(count(v, "candles") == 0, "B's series gone, B known");
	jv_free(v);
	v = candles(d, "C", "1s", 0, 0);
	CHECK(count(v, "candles") == 1, "C kept");
	jv_free(v);
	for (i = 40; i < 130; i++)
		tick(d, "A", T0 + i * 1000, 1, 1);
	tf_dash_counters(d, &cnt);
	CHECK(cnt.candles == 644 && cnt.series_evicted == 1 &&
		      cnt.symbols == 6, "A's 1s series full (100): %llu slots, "
		"%llu evicted", (unsigned long long)cnt.candles,
		(unsigned long long)cnt.series_evicted);
	v = candles(d, "A", "1s", 0, 0);
	CHECK(count(v, "candles") == 100, "A's 100 candles");
	jv_free(v);
	/* B again: it takes its 112 slots from C, now the oldest. */
	tick(d, "B", T0 + 200000, 2, 1);
	tf_dash_counters(d, &cnt);
	CHECK(cnt.candles == 644 && cnt.series_evicted == 2, "C evicted: "
		"%llu slots, %llu evicted", (unsigned long long)cnt.candles,
		(unsigned long long)cnt.series_evicted);
	v = candles(d, "C", "1s", 0, 0);
	CHECK(count(v, "candles") == 0, "C's series gone");
	jv_free(v);
	v = candles(d, "B", "1s", 0, 0);
	CHECK(count(v, "candles") == 1, "B's series back");
	jv_free(v);
	tf_dash_destroy(d);
}

static void
test_empty(void)
{
	struct tf_dash *d = make(0, 0);
	struct tf_dash_counters c;
	struct tf_buf b;
	jv s, m, v;

	s = snap(d);
	CHECK(count(s, "symbols") == 0 && count(s, "candles") == 0,
		"no symbols");
	CHECK(is_null(s, "portfolio") && is_null(s, "system"), "nulls");
	CHECK(count(s, "equity") == 0 && count(s, "trades") == 0 &&
		      count(s, "orders") == 0 && count(s, "alerts") == 0 &&
		      count(s, "predictions") == 0 &&
		      count(s, "patterns") == 0,
		"empty lists");
	CHECK(str_is(s, "bot/state", "unknown") && is_null(s, "bot/since") &&
		      is_null(s, "bot/event"),
		"bot unknown");
	m = metrics(d);
	CHECK(num(m, "trades") == 0 && num(m, "wins") == 0 &&
		      num(m, "losses") == 0 && is_null(m, "win_rate") &&
		      num(m, "realized_pnl") == 0 && num(m, "round_trips") == 0 &&
		      num(m, "fees") == 0 && is_null(m, "profit_factor") &&
		      is_null(m, "avg_win") && is_null(m, "avg_loss") &&
		      is_null(m, "best") && is_null(m, "worst") &&
		      num(m, "max_drawdown_realized") == 0 &&
		      is_null(m, "total_value") && is_null(m, "pnl") &&
		      is_null(m, "pnl_pct") && num(m, "max_drawdown") == 0 &&
		      num(m, "max_drawdown_value") == 0 && is_null(m, "peak"),
		"empty metrics");
	CHECK(jv_equal(at(s, "metrics"), jv_copy(m)), "snapshot metrics");
	CHECK(count(s, "positions") == 0 && count(s, "round_trips") == 0 &&
		      count(s, "profit/daily") == 0 &&
		      count(s, "profit/by_symbol") == 0 &&
		      count(s, "profit/cumulative") == 0,
		"no trading yet");
	v = candles(d, "BTC-USD", "1m", 0, 0);
	CHECK(!jv_is_valid(v), "unknown symbol");
	jv_free(v);
	v = trades(d, NULL, 0);
	CHECK(count(v, "trades") == 0, "no trades");
	jv_free(v);
	v = alerts(d, 0, 0);
	CHECK(count(v, "alerts") == 0, "no alerts");
	jv_free(v);
	tf_buf_init(&b);
	tf_dash_engine_status(d, &b);
	CHECK(b.len == 4 && !memcmp(b.p, "null", 4), "engine null");
	tf_buf_finish(&b);
	/* Types not kept cost nothing but the count. */
	feed(d, "{\"type\":\"heartbeat\",\"ts\":1}");
	feed(d, "{\"type\":{\"price_update\":1},\"symbol\":\"X\",\"price\":1}");
	feed(d, "{\"symbol\":\"X\",\"price\":1}");
	tf_dash_counters(d, &c);
	CHECK(c.events == 3 && c.kept == 0,
		"events %llu kept %llu", (unsigned long long)c.events,
		(unsigned long long)c.kept);
	/* A line that is not an object, given with ev NULL, is ignored. */
	CHECK(tf_dash_apply(d, "[1]", 3, NULL, 0) == 0, "not an object");
	jv_free(s);
	jv_free(m);
	tf_dash_destroy(d);
}

/* Candle i of series (consumed) against t o h l c v n. */
static void
check_candle(jv series, int i, int64_t t, double o, double h, double l,
	double c, double v, double n, int line)
{
	char p[16];
	double got[7];
	const char *f[7] = { "t", "o", "h", "l", "c", "v", "n" };
	double want[7] = { (double)t, o, h, l, c, v, n };
	int k;

	for (k = 0; k < 7; k++) {
		snprintf(p, sizeof p, "%d/%s", i, f[k]);
		got[k] = num(series, p);
		if (!NEAR(got[k], want[k])) {
			fprintf(stderr,
				"dash_test:%d: candle %d: %s = %.17g, want "
				"%.17g\n",
				line, i, f[k], got[k], want[k]);
			failures++;
		}
	}
	jv_free(series);
}
#define CANDLE(s, i, t, o, h, l, c, v, n)                                    \
	check_candle(s, i, t, o, h, l, c, v, n, __LINE__)

static void
test_candles(void)
{
	struct tf_dash_config cfg;
	struct tf_dash_counters cnt;
	struct tf_dash *d;
	jv s, c1s, c1m, c5m, c1h, v;

	tf_dash_config_init(&cfg);
	cfg.snapshot_candles = 2;
	d = tf_dash_create(&cfg, NULL, 0);
	tick(d, "BTC-USD", T0 + 100, 100, 1);
	tick(d, "BTC-USD", T0 + 900, 105, 2);
	tick(d, "BTC-USD", T0 + 500, 95, 1);	/* inside: not the close */
	tick(d, "BTC-USD", T0 + 1500, 102, 1);
	tick(d, "BTC-USD", T0 + 61000, 110, 1);
	tick(d, "BTC-USD", T0 + 301000, 90, 1);
	tick(d, "BTC-USD", T0 + 3601000, 120, 1);

	c1s = candles(d, "BTC-USD", "1s", 0, 0);
	c1m = candles(d, "BTC-USD", "1m", 0, 0);
	c5m = candles(d, "BTC-USD", "5m", 0, 0);
	c1h = candles(d, "BTC-USD", "1h", 0, 0);
	CHECK(str_is(c1m, "symbol", "BTC-USD") && str_is(c1m, "tf", "1m"),
		"candles header");
	CHECK(count(c1s, "candles") == 5, "1s: %d", count(c1s, "candles"));
	CHECK(count(c1m, "candles") == 4, "1m: %d", count(c1m, "candles"));
	CHECK(count(c5m, "candles") == 3, "5m: %d", count(c5m, "candles"));
	CHECK(count(c1h, "candles") == 2, "1h: %d", count(c1h, "candles"));
	v = at(c1s, "candles");
	CANDLE(jv_copy(v), 0, T0, 100, 105, 95, 105, 3, 3);
	CANDLE(jv_copy(v), 1, T0 + 1000, 102, 102, 102, 102, 1, 1);
	CANDLE(jv_copy(v), 2, T0 + 61000, 110, 110, 110, 110, 1, 1);
	CANDLE(jv_copy(v), 4, T0 + 3601000, 120, 120, 120, 120, 1, 1);
	jv_free(v);
	v = at(c1m, "candles");
	CANDLE(jv_copy(v), 0, T0, 100, 105, 95, 102, 4, 4);
	CANDLE(jv_copy(v), 1, T0 + 60000, 110, 110, 110, 110, 1, 1);
	CANDLE(jv_copy(v), 2, T0 + 300000, 90, 90, 90, 90, 1, 1);
	CANDLE(jv_copy(v), 3, T0 + 3600000, 120, 120, 120, 120, 1, 1);
	jv_free(v);
	v = at(c5m, "candles");
	CANDLE(jv_copy(v), 0, T0, 100, 110, 95, 110, 5, 5);
	CANDLE(jv_copy(v), 1, T0 + 300000, 90, 90, 90, 90, 1, 1);
	jv_free(v);
	v = at(c1h, "candles");
	CANDLE(jv_copy(v), 0, T0, 100, 110, 90, 90, 6, 6);
	CANDLE(jv_copy(v), 1, T0 + 3600000, 120, 120, 120, 120, 1, 1);
	jv_free(v);
	jv_free(c1s);
	jv_free(c1m);
	jv_free(c5m);
	jv_free(c1h);

	/* Late ticks: a kept candle takes them (an earlier tick becomes its
	 * open, the latest in its bucket its close), a bucket no longer kept
	 * (here, never made) ignores them. */
	tick(d, "BTC-USD", T0 + 30000, 80, 1);
	tick(d, "BTC-USD", T0 + 50, 99, 1);
	tf_dash_counters(d, &cnt);
	CHECK(cnt.late_ticks == 1, "late ticks %llu",
		(unsigned long long)cnt.late_ticks);
	v = candles(d, "BTC-USD", "1s", 0, 0);
	CHECK(count(v, "candles") == 5, "late tick made a candle");
	CANDLE(at(v, "candles"), 0, T0, 99, 105, 95, 105, 4, 4);
	jv_free(v);
	v = candles(d, "BTC-USD", "1m", 0, 0);
	CANDLE(at(v, "candles"), 0, T0, 99, 105, 80, 80, 6, 6);
	jv_free(v);
	v = candles(d, "BTC-USD", "1h", 0, 0);
	CANDLE(at(v, "candles"), 0, T0, 99, 110, 80, 90, 8, 8);
	jv_free(v);

	/* Ticks of the same ms: the first is the open, the last the close. */
	tick(d, "SOL-USD", T0 + 5000, 100, 1);
	tick(d, "SOL-USD", T0 + 5000, 101, 1);
	tick(d, "SOL-USD", T0 + 5000, 99, 1);
	v = candles(d, "SOL-USD", "1s", 0, 0);
	CANDLE(at(v, "candles"), 0, T0 + 5000, 100, 101, 99, 99, 2, 3);
	jv_free(v);

	/* ticker_update: a price, but its volume is not traded volume. RFC 3339 ts;
	 * no ts: the arrival time. */
	feed(d,
		"{\"type\":\"ticker_update\",\"ts\":%lld,"
		"\"symbol\":\"BTC-USD\","
		"\"price\":121,\"volume\":5000}",
		T0 + 3601500);
	feed(d,
		"{\"type\":\"price_update\","
		"\"ts\":\"2027-01-15T09:00:02.250Z\","
		"\"symbol\":\"BTC-USD\",\"price\":\"122\",\"volume\":1012}");
	feed_at(d, T0 + 3603000,
		"{\"type\":\"price_update\",\"symbol\":\"BTC-USD\","
		"\"price\":123.5,\"volume\":1013}");
	v = candles(d, "BTC-USD", "1s", 0, 0);
	CHECK(count(v, "candles") == 7, "1s: %d", count(v, "candles"));
	CANDLE(at(v, "candles"), 4, T0 + 3601000, 120, 121, 120, 121, 1, 2);
	CANDLE(at(v, "candles"), 5, T0 + 3602000, 122, 122, 122, 122, 2, 1);
	CANDLE(at(v, "candles"), 6, T0 + 3603000, 123.5, 123.5, 123.5, 123.5,
		1, 1);
	jv_free(v);

	/* Bad prices keep the line as the latest but make no candle. */
	feed(d, "{\"type\":\"price_update\",\"ts\":%lld,\"symbol\":\"BTC-USD\","
		"\"price\":0}", T0 + 3604000);
	feed(d, "{\"type\":\"price_update\",\"ts\":%lld,\"symbol\":\"BTC-USD\","
		"\"price\":-5}", T0 + 3604000);
	feed(d, "{\"type\":\"price_update\",\"ts\":%lld,\"symbol\":\"BTC-USD\","
		"\"price\":1e999}", T0 + 3604000);
	feed(d, "{\"type\":\"price_update\",\"ts\":%lld,\"symbol\":\"BTC-USD\","
		"\"price\":\"abc\"}", T0 + 3604000);
	feed(d, "{\"type\":\"price_update\",\"ts\":%lld,\"symbol\":\"BTC-USD\","
		"\"price\":null}", T0 + 3604000);
	feed(d, "{\"type\":\"price_update\",\"ts\":%lld,\"symbol\":\"BTC-USD\","
		"\"price\":[1]}", T0 + 3604000);
	tf_dash_counters(d, &cnt);
	CHECK(cnt.bad_prices == 6, "bad prices %llu",
		(unsigned long long)cnt.bad_prices);
	v = candles(d, "BTC-USD", "1s", 0, 0);
	CHECK(count(v, "candles") == 7, "bad price made a candle");
	jv_free(v);

	/* [from, to) on t. */
	v = candles(d, "BTC-USD", "1s", T0 + 1000, T0 + 301000);
	CHECK(count(v, "candles") == 2 && num(v, "candles/0/t") == T0 + 1000 &&
		      num(v, "candles/1/t") == T0 + 61000,
		"from/to");
	jv_free(v);
	v = candles(d, "BTC-USD", "1s", T0 + 3602000, 0);
	CHECK(count(v, "candles") == 2, "from only");
	jv_free(v);
	v = candles(d, "BTC-USD", "1s", 0, T0 + 1000);
	CHECK(count(v, "candles") == 1, "to only");
	jv_free(v);
	v = candles(d, "BTC-USD", "2m", 0, 0);
	CHECK(!jv_is_valid(v), "bad tf");

	/* The snapshot has the last snapshot_candles (2) of each series,
	 * and the latest line of each symbol, verbatim. */
	s = snap(d);
	CHECK(count(s, "candles/BTC-USD/1s") == 2 &&
		      num(s, "candles/BTC-USD/1s/1/t") == T0 + 3603000 &&
		      count(s, "candles/BTC-USD/1h") == 2 &&
		      count(s, "candles/BTC-USD/5m") == 2 &&
		      count(s, "candles/BTC-USD/1m") == 2,
		"snapshot candles");
	CHECK(count(s, "symbols") == 2 &&
		      count(s, "symbols/BTC-USD/price") == 1,
		"latest line");
	jv_free(s);
	tf_dash_destroy(d);
}

static void
test_bounds(void)
{
	struct tf_dash_config cfg;
	struct tf_dash_counters cnt;
	struct tf_dash *d = make(3, 0);
	char sym[32];
	int i;
	jv v;

	for (i = 0; i < 10; i++)
		tick(d, "ETH-USD", T0 + i * 1000, 10 + i, 1);
	v = candles(d, "ETH-USD", "1s", 0, 0);
	CHECK(count(v, "candles") == 3 && num(v, "candles/0/t") == T0 + 7000 &&
		      num(v, "candles/2/t") == T0 + 9000,
		"candles=3 keeps the last 3");
	jv_free(v);
	tick(d, "ETH-USD", T0 + 2000, 1000, 1);	/* gone: ignored */
	tick(d, "ETH-USD", T0 + 8500, 1000, 1);	/* kept one: updated */
	v = candles(d, "ETH-USD", "1s", 0, 0);
	CHECK(count(v, "candles") == 3 && num(v, "candles/0/t") == T0 + 7000 &&
		      num(v, "candles/0/h") == 17 &&
		      num(v, "candles/1/h") == 1000 &&
		      num(v, "candles/1/c") == 1000,
		"late ticks on a full ring");
	jv_free(v);
	tf_dash_destroy(d);

	/* Growing, then wrapping many times over, keeps order. */
	d = make(20, 0);
	for (i = 0; i < 1000; i++)
		tick(d, "SOL-USD", T0 + (int64_t)i * 60000, 1 + i, 1);
	v = candles(d, "SOL-USD", "1m", 0, 0);
	CHECK(count(v, "candles") == 20, "20 kept");
	for (i = 0; i < 20; i++) {
		char p[32];

		snprintf(p, sizeof p, "candles/%d/t", i);
		CHECK(num(v, p) == T0 + (980 + i) * 60000LL, "order at %d", i);
	}
	jv_free(v);
	tf_dash_destroy(d);

	/* max_symbols: the third symbol is not kept, and counted. */
	d = make(0, 2);
	tick(d, "A", T0, 1, 1);
	tick(d, "B", T0, 2, 1);
	tick(d, "C", T0, 3, 1);
	tick(d, "C", T0 + 1, 3, 1);
	tick(d, "A", T0 + 1000, 1, 1);
	tf_dash_counters(d, &cnt);
	CHECK(cnt.symbols == 2 && cnt.symbols_dropped == 2, "symbols %llu %llu",
		(unsigned long long)cnt.symbols,
		(unsigned long long)cnt.symbols_dropped);
	v = candles(d, "C", "1s", 0, 0);
	CHECK(!jv_is_valid(v), "C not kept");
	v = candles(d, "A", "1s", 0, 0);
	CHECK(count(v, "candles") == 2, "A kept");
	jv_free(v);
	v = snap(d);
	CHECK(count(v, "symbols") == 2 && count(v, "candles") == 2 &&
		      !has(v, "symbols/C") && has(v, "symbols/B"),
		"snapshot symbols");
	jv_free(v);
	tf_dash_destroy(d);

	/* Many symbols: the table grows and finds each one. */
	d = make(0, 0);
	for (i = 0; i < 1500; i++) {
		snprintf(sym, sizeof sym, "S%d-USD", i);
		tick(d, sym, T0, 1 + i, 1);
	}
	tf_dash_counters(d, &cnt);
	CHECK(cnt.symbols == 1000 && cnt.symbols_dropped == 500, "1000 kept");
	for (i = 0; i < 1500; i += 7) {
		snprintf(sym, sizeof sym, "S%d-USD", i);
		v = candles(d, sym, "1h", 0, 0);
		CHECK(i < 1000 ? num(v, "candles/0/c") == 1 + i :
				 !jv_is_valid(v),
			"symbol %s", sym);
		jv_free(v);
	}
	/* An escaped symbol is the same symbol. */
	feed(d, "{\"type\":\"price_update\",\"ts\":%lld,\"symbol\":"
		"\"S5\\u002dUSD\",\"price\":1000}", T0 + 1000);
	v = candles(d, "S5-USD", "1s", 0, 0);
	CHECK(count(v, "candles") == 2 && num(v, "candles/1/c") == 1000,
		"escaped symbol");
	jv_free(v);
	tf_dash_destroy(d);

	/* Rings of lines: the last N, oldest first; lines of growing and
	 * shrinking length reuse their slots. */
	tf_dash_config_init(&cfg);
	cfg.trades = 5;
	cfg.orders = 2;
	cfg.patterns = 2;
	cfg.alerts = 3;
	cfg.predictions = 2;
	cfg.equity = 3;
	d = tf_dash_create(&cfg, NULL, 0);
	for (i = 0; i < 12; i++) {
		feed(d, "{\"type\":\"trade_executed\",\"n\":%d,\"pad\":\"%*s\","
			"\"pnl\":1}", i, (i * 37) % 300, "");
		feed(d, "{\"type\":\"%s\",\"n\":%d}",
			i % 2 ? "order_cancelled" : "order_placed", i);
		feed(d, "{\"type\":\"pattern_detected\",\"n\":%d}", i);
		feed(d, "{\"type\":\"alert\",\"n\":%d}", i);
		feed(d, "{\"type\":\"ml_prediction\",\"n\":%d}", i);
		feed(d, "{\"type\":\"portfolio_update\",\"ts\":%d,"
			"\"total_value\":%d}", i, 100 + i);
	}
	v = snap(d);
	CHECK(count(v, "trades") == 5 && num(v, "trades/0/n") == 7 &&
		      num(v, "trades/4/n") == 11,
		"trades ring");
	CHECK(count(v, "orders") == 2 && num(v, "orders/0/n") == 10 &&
		      str_is(v, "orders/1/type", "order_cancelled"),
		"orders ring");
	CHECK(count(v, "patterns") == 2 && num(v, "patterns/1/n") == 11,
		"patterns ring");
	CHECK(count(v, "alerts") == 3 && num(v, "alerts/0/n") == 9,
		"alerts ring");
	CHECK(count(v, "predictions") == 2 &&
		      num(v, "predictions/0/event/n") == 10,
		"predictions ring");
	CHECK(count(v, "equity") == 3 && num(v, "equity/0/0") == 9 &&
		      num(v, "equity/0/1") == 109 &&
		      num(v, "equity/2/1") == 111,
		"equity ring");
	CHECK(num(v, "metrics/trades") == 12 &&
		      num(v, "metrics/round_trips") == 0,
		"metrics count every trade; none was a fill");
	tf_dash_counters(d, &cnt);
	CHECK(cnt.bad_fills == 12, "bad_fills %llu",
		(unsigned long long)cnt.bad_fills);
	jv_free(v);
	tf_dash_destroy(d);
}

static void
test_alerts_trades(void)
{
	static const char *const prios[] = { "\"low\"", "\"medium\"",
		"\"high\"", "\"critical\"", NULL, "\"bogus\"", "\"HIGH\"",
		"3" };
	struct tf_dash *d = make(0, 0);
	size_t i;
	jv v;

	for (i = 0; i < sizeof prios / sizeof prios[0]; i++) {
		if (prios[i])
			feed(d,
				"{\"type\":\"alert\",\"n\":%zu,"
				"\"priority\":%s}",
				i, prios[i]);
		else
			feed(d, "{\"type\":\"alert\",\"n\":%zu}", i);
	}
	v = alerts(d, TF_PRIO_LOW, 0);
	CHECK(count(v, "alerts") == 8, "all alerts");
	jv_free(v);
	v = alerts(d, TF_PRIO_HIGH, 0);
	CHECK(count(v, "alerts") == 3 && num(v, "alerts/0/n") == 2 &&
		      num(v, "alerts/1/n") == 3 && num(v, "alerts/2/n") == 6,
		"high and above");
	jv_free(v);
	v = alerts(d, TF_PRIO_CRITICAL, 0);
	CHECK(count(v, "alerts") == 1 && num(v, "alerts/0/n") == 3,
		"critical");
	jv_free(v);
	v = alerts(d, TF_PRIO_MEDIUM, 2);
	CHECK(count(v, "alerts") == 2 && num(v, "alerts/0/n") == 3 &&
		      num(v, "alerts/1/n") == 6,
		"medium, limit 2");
	jv_free(v);
	v = alerts(d, TF_PRIO_LOW, 3);
	CHECK(count(v, "alerts") == 3 && num(v, "alerts/0/n") == 5,
		"low, limit 3");
	jv_free(v);

	feed(d, "{\"type\":\"trade_executed\",\"n\":0,\"symbol\":\"BTC-USD\"}");
	feed(d, "{\"type\":\"trade_executed\",\"n\":1,\"symbol\":\"ETH-USD\"}");
	feed(d, "{\"type\":\"trade_executed\",\"n\":2,\"symbol\":\"BTC-USD\"}");
	feed(d, "{\"type\":\"trade_executed\",\"n\":3}");
	feed(d, "{\"symbol\":\"ETH\\u002dUSD\",\"type\":\"trade_executed\","
		"\"n\":4}");
	feed(d, "{\"type\":\"trade_executed\",\"n\":5,\"symbol\":\"BTC-USD\"}");
	feed(d, "{\"type\":\"trade_executed\",\"n\":6,\"symbol\":7}");
	v = trades(d, NULL, 0);
	CHECK(count(v, "trades") == 7 && num(v, "trades/6/n") == 6,
		"all trades");
	jv_free(v);
	v = trades(d, "ETH-USD", 0);
	CHECK(count(v, "trades") == 2 && num(v, "trades/0/n") == 1 &&
		      num(v, "trades/1/n") == 4,
		"ETH-USD trades");
	jv_free(v);
	v = trades(d, "BTC-USD", 2);
	CHECK(count(v, "trades") == 2 && num(v, "trades/0/n") == 2 &&
		      num(v, "trades/1/n") == 5,
		"BTC-USD, limit 2");
	jv_free(v);
	v = trades(d, NULL, 3);
	CHECK(count(v, "trades") == 3 && num(v, "trades/0/n") == 4, "limit 3");
	jv_free(v);
	v = trades(d, "XRP-USD", 0);
	CHECK(count(v, "trades") == 0, "no XRP trades");
	jv_free(v);
	v = trades(d, "BTC", 0);
	CHECK(count(v, "trades") == 0, "a prefix is not the symbol");
	jv_free(v);
	tf_dash_destroy(d);
}

static void
test_metrics(void)
{
	struct tf_dash *d = make(0, 0);
	static const double curve[] = { 100, 120, 90, 130, 110, 140 };
	size_t i;
	jv m;

	/* A trade's own "pnl" counts for nothing (a buy's is minus its fee
	 * at tf-sim): wins and losses are round trips' (test_trading). */
	feed(d, "{\"type\":\"trade_executed\",\"pnl\":10}");
	feed(d, "{\"type\":\"trade_executed\",\"symbol\":\"X\","
		"\"side\":\"buy\",\"quantity\":1,\"price\":5,\"pnl\":-5.5}");
	for (i = 0; i < sizeof curve / sizeof curve[0]; i++)
		feed(d, "{\"type\":\"portfolio_update\",\"ts\":%zu,"
			"\"total_value\":%g,\"pnl\":%g,\"pnl_pct\":%g}",
			i, curve[i], curve[i] - 100, curve[i] / 100 - 1);
	m = metrics(d);
	CHECK(num(m, "trades") == 2 && num(m, "wins") == 0 &&
		      num(m, "losses") == 0 && num(m, "round_trips") == 0 &&
		      is_null(m, "win_rate") && num(m, "realized_pnl") == 0,
		"counts");
	CHECK_NUM(num(m, "total_value"), 140);
	CHECK_NUM(num(m, "pnl"), 40);
	CHECK_NUM(num(m, "pnl_pct"), 0.4);
	CHECK_NUM(num(m, "max_drawdown"), 0.25);
	CHECK_NUM(num(m, "max_drawdown_value"), 30);
	CHECK_NUM(num(m, "peak"), 140);
	jv_free(m);
	/* The latest portfolio line rules: no pnl there, null here. */
	feed(d, "{\"type\":\"portfolio_update\",\"ts\":9,\"total_value\":70}");
	m = metrics(d);
	CHECK(is_null(m, "pnl") && is_null(m, "pnl_pct") &&
		      num(m, "total_value") == 70,
		"latest portfolio");
	CHECK_NUM(num(m, "max_drawdown"), 0.5);
	CHECK_NUM(num(m, "max_drawdown_value"), 70);
	jv_free(m);
	m = snap(d);
	CHECK(count(m, "equity") == 7 && num(m, "equity/6/0") == 9 &&
		      num(m, "equity/6/1") == 70 &&
		      num(m, "portfolio/total_value") == 70,
		"equity, portfolio");
	jv_free(m);
	tf_dash_destroy(d);

	/* The largest fraction and the largest fall differ. */
	d = make(0, 0);
	feed(d, "{\"type\":\"portfolio_update\",\"total_value\":100}");
	feed(d, "{\"type\":\"portfolio_update\",\"total_value\":50}");
	feed(d, "{\"type\":\"portfolio_update\",\"total_value\":1000}");
	feed(d, "{\"type\":\"portfolio_update\",\"total_value\":800}");
	feed(d, "{\"type\":\"portfolio_update\",\"total_value\":\"n/a\"}");
	m = metrics(d);
	CHECK_NUM(num(m, "max_drawdown"), 0.5);
	CHECK_NUM(num(m, "max_drawdown_value"), 200);
	CHECK_NUM(num(m, "peak"), 1000);
	CHECK(is_null(m, "total_value") && is_null(m, "win_rate"),
		"no total_value");
	jv_free(m);
	m = snap(d);
	CHECK(count(m, "equity") == 4 && num(m, "equity/0/0") == 1,
		"arrival time for equity");
	jv_free(m);
	tf_dash_destroy(d);
}

static void
test_predictions(void)
{
	struct tf_dash *d = make(0, 0);
	int i;
	jv s;

	/* No tick of XRP yet: no base price, resolved but not judged. */
	feed(d, "{\"type\":\"ml_prediction\",\"symbol\":\"XRP-USD\","
		"\"direction\":\"up\",\"horizon\":1}");
	tick(d, "BTC-USD", T0, 100, 1);
	feed(d, "{\"type\":\"ml_prediction\",\"symbol\":\"BTC-USD\","
		"\"price\":100,\"direction\":\"up\",\"horizon\":3}");
	feed(d, "{\"type\":\"ml_prediction\",\"symbol\":\"BTC-USD\","
		"\"price\":100,\"direction\":\"down\",\"horizon\":2}");
	/* No "price": the symbol's price at the time (100); no direction:
	 * the predicted price's. */
	feed(d, "{\"type\":\"ml_prediction\",\"symbol\":\"BTC-USD\","
		"\"predicted_price\":99,\"horizon\":2}");
	feed(d, "{\"type\":\"ml_prediction\",\"symbol\":\"BTC-USD\","
		"\"price\":100,\"direction\":\"up\"}");	/* no horizon */
	feed(d, "{\"type\":\"ml_prediction\",\"symbol\":\"BTC-USD\","
		"\"price\":100,\"direction\":\"sideways\",\"horizon\":1}");
	tick(d, "ETH-USD", T0, 5, 1);	/* another symbol's tick */
	tick(d, "BTC-USD", T0 + 1, 98, 1);
	s = snap(d);
	CHECK(count(s, "predictions") == 6, "6 predictions");
	for (i = 0; i < 5; i++) {
		char p[64];

		snprintf(p, sizeof p, "predictions/%d/actual", i);
		CHECK(is_null(s, p), "after 1 tick: %d", i);
	}
	CHECK(num(s, "predictions/5/actual") == 98 &&
		      is_null(s, "predictions/5/correct"),
		"horizon 1, no direction: resolved, not judged");
	jv_free(s);
	feed(d, "{\"type\":\"price_update\",\"symbol\":\"BTC-USD\","
		"\"price\":0}");
	tick(d, "BTC-USD", T0 + 2, 101, 1);
	s = snap(d);
	CHECK(is_null(s, "predictions/1/actual"), "up: not yet");
	CHECK(num(s, "predictions/2/actual") == 101 &&
		      is_bool(s, "predictions/2/correct", 0),
		"down, went up: wrong");
	CHECK(num(s, "predictions/3/actual") == 101 &&
		      is_bool(s, "predictions/3/correct", 0),
		"derived down, went up: wrong");
	jv_free(s);
	tick(d, "BTC-USD", T0 + 3, 102, 1);
	tick(d, "XRP-USD", T0 + 3, 0.5, 1);
	for (i = 0; i < 50; i++)
		tick(d, "BTC-USD", T0 + 4 + i, 1, 1);
	s = snap(d);
	CHECK(num(s, "predictions/1/actual") == 102 &&
		      is_bool(s, "predictions/1/correct", 1),
		"up, went up: right");
	CHECK(num(s, "predictions/2/actual") == 101, "stays resolved");
	CHECK(num(s, "predictions/0/actual") == 0.5 &&
		      is_null(s, "predictions/0/correct"),
		"no base: not judged");
	CHECK(is_null(s, "predictions/4/actual") &&
		      is_null(s, "predictions/4/correct"),
		"no horizon: never");
	CHECK(str_is(s, "predictions/1/event/direction", "up"), "event");
	jv_free(s);
	tf_dash_destroy(d);

	/* The way tf-sim says it: a "down" that came true. */
	d = make(0, 0);
	tick(d, "BTC-USD", T0, 63715.76, 1);
	feed(d, "{\"type\":\"ml_prediction\",\"ts\":1795262639412,\"model\":"
		"\"ar3-ols\",\"symbol\":\"BTC-USD\",\"price\":63715.76,"
		"\"predicted_price\":63548.93,\"direction\":\"down\","
		"\"confidence\":0.671,\"horizon\":10}");
	for (i = 1; i <= 10; i++)
		tick(d, "BTC-USD", T0 + i, 63715.76 - i, 1);
	s = snap(d);
	CHECK(num(s, "predictions/0/actual") == 63705.76 &&
		      is_bool(s, "predictions/0/correct", 1),
		"tf-sim prediction");
	jv_free(s);
	tf_dash_destroy(d);
}

static void
test_bot(void)
{
	static const char status[] = "{\"type\":\"system_status\",\"ts\":5000,"
				     "\"status\":\"ok\",\"cpu\":1.5}";
	struct tf_dash *d = make(0, 0);
	struct tf_buf b;
	jv v;

	feed(d, "{\"type\":\"system_status\",\"ts\":1000,\"bot\":\"running\"}");
	v = bot(d);
	CHECK(str_is(v, "state", "running") && num(v, "since") == 1000 &&
		      is_null(v, "event"),
		"running from system_status");
	jv_free(v);
	feed(d, "{\"type\":\"bot_stopped\",\"ts\":2000,\"reason\":\"x\"}");
	v = bot(d);
	CHECK(str_is(v, "state", "stopped") && num(v, "since") == 2000 &&
		      str_is(v, "event/reason", "x"),
		"stopped");
	jv_free(v);
	feed(d, "{\"type\":\"system_status\",\"ts\":3000,\"bot\":\"stopped\"}");
	feed(d, "{\"type\":\"system_status\",\"ts\":3500,\"bot\":\"paused\"}");
	v = bot(d);
	CHECK(str_is(v, "state", "stopped") && num(v, "since") == 2000,
		"still stopped since 2000");
	jv_free(v);
	feed_at(d, 4000, "{\"type\":\"bot_started\",\"status\":\"running\"}");
	v = bot(d);
	CHECK(str_is(v, "state", "running") && num(v, "since") == 4000 &&
		      str_is(v, "event/type", "bot_started"),
		"started at arrival");
	jv_free(v);
	feed(d, "%s", status);
	v = bot(d);
	CHECK(str_is(v, "state", "running") && num(v, "since") == 4000,
		"status without bot");
	jv_free(v);
	tf_buf_init(&b);
	tf_dash_engine_status(d, &b);
	CHECK(b.len == strlen(status) && !memcmp(b.p, status, b.len),
		"engine status verbatim");
	tf_buf_finish(&b);
	v = snap(d);
	CHECK(num(v, "system/cpu") == 1.5 && str_is(v, "bot/state", "running"),
		"snapshot system, bot");
	jv_free(v);
	tf_dash_destroy(d);
}

/* Lines come back byte for byte, odd spacing and escapes included. */
static void
test_verbatim(void)
{
	static const char *const lines[] = {
		"{ \"type\" : \"trade_executed\",\"symbol\":\"\\u00e9\\n\","
		"\"side\":\"b\\u0075y\", \"quantity\":1.50e1 , \"price\":2,"
		"\"big\":123456789012345678901234567890 }",
		"{\"type\":\"alert\",\"title\":\"caf\xc3\xa9 \\\"x\\\"\","
		"\"priority\":\"hi\\u0067h\"}",
		"{\"type\":\"price_update\",\"symbol\":\"\\u00e9\\n\","
		"\"price\":2,\"x\":[1,{\"a\":null}]}  ",
	};
	struct tf_dash *d = make(0, 0);
	struct tf_buf b;
	size_t i;
	jv v;

	for (i = 0; i < 3; i++)
		feed(d, "%s", lines[i]);
	tf_buf_init(&b);
	tf_dash_snapshot_members(d, &b);
	for (i = 0; i < 3; i++)
		CHECK(b.p && strstr(b.p, lines[i]), "verbatim %zu", i);
	tf_buf_finish(&b);
	v = alerts(d, TF_PRIO_HIGH, 0);
	CHECK(count(v, "alerts") == 1, "escaped priority");
	jv_free(v);
	v = trades(d, "\xc3\xa9\n", 0);
	CHECK(count(v, "trades") == 1, "escaped symbol filter");
	jv_free(v);
	v = snap(d);
	CHECK(num(v, "symbols/\xc3\xa9\n/price") == 2 &&
		      str_is(v, "positions/0/symbol", "\xc3\xa9\n") &&
		      num(v, "positions/0/quantity") == 15 &&
		      str_is(v, "profit/by_symbol/0/symbol", "\xc3\xa9\n"),
		"escaped symbol key, side and position");
	jv_free(v);
	v = candles(d, "\xc3\xa9\n", "1s", 0, 0);
	CHECK(str_is(v, "symbol", "\xc3\xa9\n"), "symbol escaped in output");
	jv_free(v);
	tf_dash_destroy(d);
}

static void
test_backfill(void)
{
	char path[] = "/tmp/dash_test.XXXXXX", db[64], err[256] = "";
	static const char *const rows[] = {
		"{\"type\":\"bot_started\",\"ts\":%lld}",
		"{\"type\":\"price_update\",\"symbol\":\"BTC-USD\","
		"\"price\":100,\"volume\":2}",
		"{\"type\":\"price_update\",\"ts\":%lld,\"symbol\":\"BTC-USD\","
		"\"price\":110,\"volume\":3}",
		"{\"type\":\"trade_executed\",\"symbol\":\"BTC-USD\","
		"\"side\":\"sell\",\"quantity\":1,\"price\":110}",
		"{\"type\":\"alert\",\"priority\":\"critical\","
		"\"message\":\"m\"}",
		"{\"type\":\"portfolio_update\",\"total_value\":1000}",
		"{\"type\":\"heartbeat\"}",
	};
	struct tf_dash *d;
	struct tf_store *st;
	uint64_t n = 99;
	size_t i;
	char line[512];
	int fd;
	jv v;

	if ((fd = mkstemp(path)) < 0) {
		CHECK(0, "mkstemp");
		return;
	}
	close(fd);
	unlink(path);
	snprintf(db, sizeof db, "%s.db", path);
	st = tf_store_open(db, TF_STORE_WRITE, err, sizeof err);
	CHECK(st, "store: %s", err);
	if (!st)
		return;
	CHECK(tf_store_session_begin(st, "test", T0 * 1000000, err,
		      sizeof err) > 0,
		"session: %s", err);
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		int len = snprintf(line, sizeof line, rows[i], T0 + 5000LL);

		/* Arrival i seconds after T0. */
		CHECK(tf_store_append(st, (T0 + (int64_t)i * 1000) * 1000000,
			      line, (size_t)len, NULL, NULL, NULL, err,
			      sizeof err) == 0,
			"append: %s", err);
	}
	CHECK(tf_store_commit(st, err, sizeof err) == 0, "commit: %s", err);

	/* Read while the writer still has it open. */
	d = make(0, 0);
	CHECK(tf_dash_backfill(d, db, &n, err, sizeof err) == 0,
		"backfill: %s", err);
	CHECK(n == 7 && events_of(d) == 7, "rows %llu",
		(unsigned long long)n);
	v = candles(d, "BTC-USD", "1s", 0, 0);
	CHECK(count(v, "candles") == 2 && num(v, "candles/0/t") == T0 + 1000 &&
		      num(v, "candles/0/v") == 0 &&
		      num(v, "candles/1/v") == 1 &&
		      num(v, "candles/1/t") == T0 + 5000,
		"candles from a recording");
	jv_free(v);
	v = snap(d);
	CHECK(count(v, "trades") == 1 && count(v, "alerts") == 1 &&
		      num(v, "equity/0/0") == T0 + 5000 &&
		      num(v, "equity/0/1") == 1000 &&
		      str_is(v, "bot/state", "running") &&
		      num(v, "bot/since") == T0 + 5000 &&
		      str_is(v, "positions/0/side", "short") &&
		      num(v, "positions/0/opened_ts") == T0 + 3000 &&
		      num(v, "positions/0/last") == 110,
		"state from a recording (a fill without ts: its arrival)");
	jv_free(v);
	/* Then live lines go on from there. */
	tick(d, "BTC-USD", T0 + 5500, 120, 1);
	v = candles(d, "BTC-USD", "1s", 0, 0);
	CHECK(count(v, "candles") == 2 && num(v, "candles/1/c") == 120,
		"live after backfill");
	jv_free(v);
	tf_dash_destroy(d);
	tf_store_close(st);

	d = make(0, 0);
	n = 99;
	CHECK(tf_dash_backfill(d, "/nonexistent/x.db", &n, err, sizeof err) ==
			      -1 &&
		      strstr(err, "no such file") && n == 0,
		"missing file: %s", err);
	CHECK(tf_dash_backfill(d, "/etc/hostname", NULL, err, sizeof err) ==
			-1,
		"not a recording");
	tf_dash_destroy(d);
	unlink(db);
	snprintf(line, sizeof line, "%s-wal", db);
	unlink(line);
	snprintf(line, sizeof line, "%s-shm", db);
	unlink(line);
}

/* A fill: trade_executed of sym at ts; more is the rest of the object
 * (",\"fee\":0.5,\"order_id\":\"a1\"" or ""). */
static void
fill(struct tf_dash *d, int64_t ts, const char *sym, const char *side,
	double qty, double price, const char *more)
{
	feed(d,
		"{\"type\":\"trade_executed\",\"ts\":%lld,\"symbol\":\"%s\","
		"\"side\":\"%s\",\"quantity\":%.17g,\"price\":%.17g%s}",
		(long long)ts, sym, side, qty, price, more);
}

static jv
trading_(const struct tf_dash *d, int line)
{
	struct tf_buf b;

	tf_buf_init(&b);
	tf_dash_trading(d, &b);
	return parse(&b, line);
}
#define trading(d) trading_(d, __LINE__)

/* Checks round trip i of v ({"round_trips":[...]}) against its figures
 * and order ids (a JSON array as text). */
static void
check_trip(jv v, int i, const char *sym, const char *side, double qty,
	double entry, double exit, int64_t opened, int64_t closed, double pnl,
	double fees, const char *ids, int line)
{
	char p[64];
	jv t, want;

	snprintf(p, sizeof p, "round_trips/%d", i);
	t = at(v, p);
	want = jv_parse(ids);
	if (!str_is(t, "symbol", sym) || !str_is(t, "side", side) ||
	    !NEAR(num(t, "quantity"), qty) ||
	    !NEAR(num(t, "entry_price"), entry) ||
	    !NEAR(num(t, "exit_price"), exit) ||
	    num(t, "opened_ts") != (double)opened ||
	    num(t, "closed_ts") != (double)closed ||
	    num(t, "duration_ms") != (double)(closed - opened) ||
	    !NEAR(num(t, "pnl"), pnl) || !NEAR(num(t, "fees"), fees) ||
	    !NEAR(num(t, "pnl_pct"), pnl * 100 / (entry * qty)) ||
	    !jv_equal(at(t, "order_ids"), jv_copy(want))) {
		jv dump = jv_dump_string(jv_copy(t), 0);

		fprintf(stderr, "dash_test:%d: round trip %d: %s\n", line, i,
			jv_string_value(dump));
		jv_free(dump);
		failures++;
	}
	jv_free(want);
	jv_free(t);
}
#define TRIP(v, i, sym, side, q, en, ex, o, c, pnl, fees, ids)               \
	check_trip(v, i, sym, side, q, en, ex, o, c, pnl, fees, ids, __LINE__)

#define DAY 86400000LL

/* A feed whose every figure is worked out by hand below: long and short
 * round trips, partial exits, a fill crossing zero, fees, a trip of P&L
 * 0, two days, and two trips still open. */
/* num_is: tf_buf_num(v) writes what printf's shortest round trip does
 * ("%.15g", else "%.17g"; null when not finite). */
static void
num_is(double v)
{
	struct tf_buf b;
	char want[40];

	if (!isfinite(v))
		strcpy(want, "null");
	else {
		snprintf(want, sizeof want, "%.15g", v);
		if (strtod(want, NULL) != v)
			snprintf(want, sizeof want, "%.17g", v);
	}
	tf_buf_init(&b);
	tf_buf_num(&b, v);
	tf_buf_add(&b, "", 1);
	CHECK(!b.failed && strcmp(b.p, want) == 0,
		"tf_buf_num(%.17g): \"%s\", want \"%s\"", v,
		b.failed ? "(failed)" : b.p, want);
	tf_buf_finish(&b);
}

/* Numbers in snapshots: the fast path for short decimals writes exactly
 * the text printf did, over decimals of every length and size, doubles
 * of any bits, and the edges of the fast path's range. */
static void
test_num(void)
{
	static const double edge[] = { 0.0, -0.0, 1e-4, -1e-4, 9.9999e-5,
		1e15, -1e15, 999999999999999.9, 99999999999999.98, 1e14, 0.1,
		0.2, 0.1 + 0.2, 1.0 / 3, 65420.56, -65420.56, 0.00012345,
		123456789.123456789, 9007199254740992.0, 9007199254740993.0,
		4503599627370495.5, 1e-300, 5e-324, 1.7976931348623157e308,
		100, 1e9, 1e10 + 0.5, 0.5, 2.5e-3, 1.005, 1.015, 0.000999999,
		NAN, INFINITY, -INFINITY };
	struct tf_buf b;
	unsigned long long x = 88172645463325252ULL;
	size_t i;
	int d, k;

	for (i = 0; i < sizeof edge / sizeof edge[0]; i++)
		num_is(edge[i]);
	for (k = 0; k < 60000; k++) {
		double r, v;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;	/* xorshift64 */
		d = (int)(x % 21);
		r = (double)((x >> 8) % (1ULL << (x % 53 + 1)));
		v = r / pow(10, d);
		num_is(x & 1 ? -v : v);
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		memcpy(&v, &x, sizeof v);	/* any bits */
		num_is(v);
		num_is((double)(x % 100000000) / 1e4 * 1.1);
		num_is((double)(x % 1000000007) / 7e9);	/* in [0, 0.15) */
	}
	tf_buf_init(&b);
	tf_buf_int(&b, 0);
	tf_buf_add(&b, ",", 1);
	tf_buf_int(&b, -9223372036854775807LL - 1);
	tf_buf_add(&b, ",", 1);
	tf_buf_int(&b, 1700000000123LL);
	tf_buf_add(&b, "", 1);
	CHECK(strcmp(b.p, "0,-9223372036854775808,1700000000123") == 0,
		"tf_buf_int: %s", b.p);
	tf_buf_finish(&b);
}

static void
test_trading(void)
{
	struct tf_dash *d = make(0, 0);
	jv v, m, s;

	tick(d, "BTC-USD", T0, 100, 0);
	/* A: BTC long. Buys 2 @ 100 and 1 @ 106 (avg 102), sells 1 @ 110
	 * then 2 @ 98: sells 306 - buys 306 - fees 1.5 = -1.5. */
	fill(d, T0 + 1000, "BTC-USD", "buy", 2, 100,
		",\"fee\":0.5,\"order_id\":\"a1\"");
	fill(d, T0 + 2000, "BTC-USD", "buy", 1, 106,
		",\"fee\":0.25,\"order_id\":\"a2\"");
	v = trading(d);
	CHECK(count(v, "positions") == 1 &&
		      str_is(v, "positions/0/side", "long") &&
		      num(v, "positions/0/quantity") == 3 &&
		      num(v, "positions/0/avg_entry") == 102 &&
		      num(v, "positions/0/last") == 100 &&
		      num(v, "positions/0/unrealized_pnl") == -6 &&
		      num(v, "positions/0/opened_ts") == T0 + 1000 &&
		      is_null(v, "positions/0/stop"),
		"A open: 3 @ 102, last 100");
	CHECK_NUM(num(v, "positions/0/unrealized_pct"), -6 * 100.0 / 306);
	jv_free(v);
	fill(d, T0 + 3000, "BTC-USD", "sell", 1, 110,
		",\"fee\":0.25,\"order_id\":\"a3\"");
	v = trading(d);
	CHECK(num(v, "positions/0/quantity") == 2 &&
		      num(v, "positions/0/avg_entry") == 102 &&
		      count(v, "round_trips") == 0,
		"a partial exit keeps the trip and its average entry");
	jv_free(v);
	fill(d, T0 + 4000, "BTC-USD", "sell", 2, 98,
		",\"fee\":0.5,\"order_id\":\"a4\"");
	/* B: ETH short, numeric order ids: sells 200 - buys 180 - 0.5. */
	fill(d, T0 + 5000, "ETH-USD", "sell", 4, 50,
		",\"fee\":0.25,\"order_id\":7");
	fill(d, T0 + 6000, "ETH-USD", "buy", 4, 45,
		",\"fee\":0.25,\"order_id\":8");
	/* C: SOL long 1 @ 20 without a fee; a sell of 3 @ 24 crosses zero:
	 * 1 closes C (fee 0.75 / 3 = 0.25): 24 - 20 - 0.25 = 3.75; 2 open
	 * D short @ 24 with fee 0.5. */
	fill(d, T0 + 7000, "SOL-USD", "buy", 1, 20, ",\"order_id\":\"c1\"");
	fill(d, T0 + 8000, "SOL-USD", "sell", 3, 24,
		",\"fee\":0.75,\"order_id\":\"c2\"");
	v = trading(d);
	CHECK(count(v, "positions") == 1 &&
		      str_is(v, "positions/0/symbol", "SOL-USD") &&
		      str_is(v, "positions/0/side", "short") &&
		      num(v, "positions/0/quantity") == 2 &&
		      num(v, "positions/0/avg_entry") == 24 &&
		      is_null(v, "positions/0/last") &&
		      is_null(v, "positions/0/unrealized_pnl") &&
		      is_null(v, "positions/0/unrealized_pct") &&
		      num(v, "positions/0/opened_ts") == T0 + 8000,
		"the rest of a crossing fill opens a short; no price: nulls");
	jv_free(v);
	/* The next day. D closes: sells 48 - buys 50 - fees 1 = -3. */
	fill(d, T0 + DAY + 1000, "SOL-USD", "buy", 2, 25,
		",\"fee\":0.5,\"order_id\":\"d1\"");
	/* Z: XRP, P&L 0: neither a win nor a loss. */
	fill(d, T0 + DAY + 1500, "XRP-USD", "buy", 1, 10, "");
	fill(d, T0 + DAY + 1600, "XRP-USD", "sell", 1, 10, "");
	/* E: BTC long, open: 0.5 @ 120, its stop 110 then 115 by an order;
	 * last 130: unrealized (130 - 120) * 0.5 = 5, 5 / 60 = 8.33%. */
	fill(d, T0 + DAY + 2000, "BTC-USD", "buy", 0.5, 120,
		",\"fee\":0.25,\"order_id\":\"e1\",\"stop\":110");
	feed(d, "{\"type\":\"order_placed\",\"symbol\":\"BTC-USD\","
		"\"side\":\"sell\",\"stop\":115,\"ts\":%lld}",
		T0 + DAY + 2500);
	tick(d, "BTC-USD", T0 + DAY + 3000, 130, 0);
	/* F: ADA short, open, with an earlier ts than E though later. */
	fill(d, T0 + DAY + 500, "ADA-USD", "sell", 10, 1, "");

	v = trading(d);
	CHECK(count(v, "round_trips") == 5, "5 closed: %d",
		count(v, "round_trips"));
	TRIP(v, 0, "BTC-USD", "long", 3, 102, 102, T0 + 1000, T0 + 4000, -1.5,
		1.5, "[\"a1\",\"a2\",\"a3\",\"a4\"]");
	TRIP(v, 1, "ETH-USD", "short", 4, 50, 45, T0 + 5000, T0 + 6000, 19.5,
		0.5, "[7,8]");
	TRIP(v, 2, "SOL-USD", "long", 1, 20, 24, T0 + 7000, T0 + 8000, 3.75,
		0.25, "[\"c1\",\"c2\"]");
	TRIP(v, 3, "SOL-USD", "short", 2, 24, 25, T0 + 8000, T0 + DAY + 1000,
		-3, 1, "[\"c2\",\"d1\"]");
	TRIP(v, 4, "XRP-USD", "long", 1, 10, 10, T0 + DAY + 1500,
		T0 + DAY + 1600, 0, 0, "[]");
	CHECK(count(v, "positions") == 2 &&
		      str_is(v, "positions/0/symbol", "ADA-USD") &&
		      str_is(v, "positions/1/symbol", "BTC-USD"),
		"open positions by opened_ts");
	CHECK(str_is(v, "positions/1/side", "long") &&
		      num(v, "positions/1/quantity") == 0.5 &&
		      num(v, "positions/1/avg_entry") == 120 &&
		      num(v, "positions/1/last") == 130 &&
		      num(v, "positions/1/unrealized_pnl") == 5 &&
		      num(v, "positions/1/stop") == 115 &&
		      num(v, "positions/1/opened_ts") == T0 + DAY + 2000,
		"E");
	CHECK_NUM(num(v, "positions/1/unrealized_pct"), 500.0 / 60);
	/* By UTC day of closing: 15 Jan -1.5 + 19.5 + 3.75; 16 Jan -3 + 0. */
	CHECK(count(v, "profit/daily") == 2 &&
		      str_is(v, "profit/daily/0/day", "2027-01-15") &&
		      num(v, "profit/daily/0/pnl") == 21.75 &&
		      num(v, "profit/daily/0/trips") == 3 &&
		      num(v, "profit/daily/0/wins") == 2 &&
		      num(v, "profit/daily/0/losses") == 1 &&
		      str_is(v, "profit/daily/1/day", "2027-01-16") &&
		      num(v, "profit/daily/1/pnl") == -3 &&
		      num(v, "profit/daily/1/trips") == 2 &&
		      num(v, "profit/daily/1/wins") == 0 &&
		      num(v, "profit/daily/1/losses") == 1,
		"daily");
	/* In order of first sight; fees of every fill, open trips too. */
	s = at(v, "profit/by_symbol");
	m = jv_parse("["
		"{\"symbol\":\"BTC-USD\",\"pnl\":-1.5,\"trips\":1,\"wins\":0,"
		"\"losses\":1,\"fees\":1.75},"
		"{\"symbol\":\"ETH-USD\",\"pnl\":19.5,\"trips\":1,\"wins\":1,"
		"\"losses\":0,\"fees\":0.5},"
		"{\"symbol\":\"SOL-USD\",\"pnl\":0.75,\"trips\":2,\"wins\":1,"
		"\"losses\":1,\"fees\":1.25},"
		"{\"symbol\":\"XRP-USD\",\"pnl\":0,\"trips\":1,\"wins\":0,"
		"\"losses\":0,\"fees\":0},"
		"{\"symbol\":\"ADA-USD\",\"pnl\":0,\"trips\":0,\"wins\":0,"
		"\"losses\":0,\"fees\":0}]");
	CHECK(jv_equal(jv_copy(s), m), "by_symbol");
	jv_free(s);
	s = at(v, "profit/cumulative");
	m = jv_parse("[[1800000004000,-1.5],[1800000006000,18],"
		     "[1800000008000,21.75],[1800086401000,18.75],"
		     "[1800086401600,18.75]]");
	CHECK(jv_equal(jv_copy(s), m), "cumulative");
	jv_free(s);

	m = metrics(d);
	CHECK(num(m, "trades") == 13 && num(m, "round_trips") == 5 &&
		      num(m, "wins") == 2 && num(m, "losses") == 2,
		"counts: a trip of 0 is neither");
	CHECK_NUM(num(m, "win_rate"), 0.4);
	CHECK_NUM(num(m, "realized_pnl"), 18.75);
	/* 1.5 (A) + 0.5 (B) + 0.75 + 0.5 (C, D) + 0.25 (E, open) */
	CHECK_NUM(num(m, "fees"), 3.5);
	CHECK_NUM(num(m, "profit_factor"), 23.25 / 4.5);
	CHECK_NUM(num(m, "avg_win"), 11.625);
	CHECK_NUM(num(m, "avg_loss"), -2.25);
	CHECK_NUM(num(m, "best"), 19.5);
	CHECK_NUM(num(m, "worst"), -3);
	/* Realized: 0, -1.5, 18, 21.75, 18.75, 18.75: the largest fall
	 * from a running peak is 21.75 - 18.75 (the first, 0 - -1.5). */
	CHECK_NUM(num(m, "max_drawdown_realized"), 3);
	CHECK(num(m, "max_drawdown") == 0 && is_null(m, "peak"),
		"the equity curve's drawdown is its own");
	s = snap(d);
	CHECK(jv_equal(at(s, "positions"), at(v, "positions")) &&
		      jv_equal(at(s, "round_trips"), at(v, "round_trips")) &&
		      jv_equal(at(s, "profit"), at(v, "profit")) &&
		      jv_equal(at(s, "metrics"), jv_copy(m)),
		"the snapshot holds the same");
	jv_free(s);
	jv_free(m);
	jv_free(v);
	{
		struct tf_buf b;

		tf_buf_init(&b);
		tf_dash_positions(d, &b);
		v = parse(&b, __LINE__);
		m = trading(d);
		CHECK(count(v, "") == 1 &&
			      jv_equal(at(v, "positions"),
				      at(m, "positions")),
			"tf_dash_positions: the list alone");
		jv_free(v);
		jv_free(m);
	}
	tf_dash_destroy(d);

	/* Only losses: profit factor 0; only wins: null. */
	d = make(0, 0);
	fill(d, T0, "A", "buy", 1, 10, "");
	fill(d, T0 + 1, "A", "sell", 1, 8, "");
	m = metrics(d);
	CHECK(num(m, "profit_factor") == 0 && is_null(m, "avg_win") &&
		      num(m, "avg_loss") == -2 && num(m, "win_rate") == 0 &&
		      num(m, "max_drawdown_realized") == 2,
		"only a loss");
	jv_free(m);
	tf_dash_destroy(d);
	d = make(0, 0);
	fill(d, T0, "A", "sell", 1, 10, "");
	fill(d, T0 + 1, "A", "buy", 1, 8, "");
	m = metrics(d);
	CHECK(is_null(m, "profit_factor") && num(m, "avg_win") == 2 &&
		      is_null(m, "avg_loss") && num(m, "win_rate") == 1 &&
		      num(m, "max_drawdown_realized") == 0,
		"only a win");
	jv_free(m);
	tf_dash_destroy(d);
}

/* What is no fill, sums that are not exact, stops, and the limits. */
static void
test_trading_edges(void)
{
	struct tf_dash_config cfg;
	struct tf_dash_counters cnt;
	struct tf_dash *d = make(0, 0);
	char more[256];
	int i;
	jv v, m;

	/* Not fills: counted, kept as trades, no position. */
	feed(d, "{\"type\":\"trade_executed\",\"symbol\":\"A\","
		"\"quantity\":1,\"price\":1}");
	fill(d, T0, "A", "hold", 1, 1, "");
	fill(d, T0, "A", "buy", 0, 1, "");
	fill(d, T0, "A", "buy", -1, 1, "");
	fill(d, T0, "A", "buy", 1, 0, "");
	fill(d, T0, "A", "buy", 1, 1, ",\"fee\":-1");
	fill(d, T0, "A", "buy", 1, 1, ",\"fee\":\"abc\"");
	fill(d, T0, "A", "buy", 1e300, 1e300, "");
	feed(d, "{\"type\":\"trade_executed\",\"side\":\"buy\","
		"\"quantity\":1,\"price\":1}");
	feed(d, "{\"type\":\"trade_executed\",\"symbol\":\"A\",\"side\":"
		"\"buy\",\"quantity\":\"x\",\"price\":1}");
	tf_dash_counters(d, &cnt);
	v = trading(d);
	m = metrics(d);
	CHECK(cnt.bad_fills == 10 && count(v, "positions") == 0 &&
		      count(v, "profit/by_symbol") == 0 &&
		      num(m, "trades") == 10 && num(m, "fees") == 0,
		"not fills: %llu", (unsigned long long)cnt.bad_fills);
	jv_free(v);
	jv_free(m);
	/* Numbers as strings, "SELL" in capitals, a null fee. */
	feed(d, "{\"type\":\"trade_executed\",\"symbol\":\"A\",\"side\":"
		"\"SELL\",\"quantity\":\"2\",\"price\":\"3.5\",\"fee\":null}");
	v = trading(d);
	CHECK(str_is(v, "positions/0/side", "short") &&
		      num(v, "positions/0/quantity") == 2 &&
		      num(v, "positions/0/avg_entry") == 3.5 &&
		      num(v, "positions/0/opened_ts") == 1,
		"strings, capitals, null fee; no ts: arrival");
	jv_free(v);
	tf_dash_destroy(d);

	/* 0.1 + 0.2 - 0.3 is not 0 in binary: still flat. */
	d = make(0, 0);
	fill(d, T0, "E", "buy", 0.1, 10, "");
	fill(d, T0 + 1, "E", "buy", 0.2, 10, "");
	fill(d, T0 + 2, "E", "sell", 0.3, 11, "");
	v = trading(d);
	CHECK(count(v, "positions") == 0 && count(v, "round_trips") == 1,
		"0.1 + 0.2 - 0.3 is flat");
	CHECK_NUM(num(v, "round_trips/0/pnl"), 0.3);
	jv_free(v);
	tf_dash_destroy(d);

	/* Stops: an order's stop while flat is the next trip's; null clears;
	 * a closing trip takes its stop along, also one on its last fill. */
	d = make(0, 0);
	feed(d, "{\"type\":\"order_placed\",\"symbol\":\"S\",\"stop\":9}");
	fill(d, T0, "S", "buy", 1, 10, "");
	v = trading(d);
	CHECK(num(v, "positions/0/stop") == 9, "stop from the order");
	jv_free(v);
	feed(d, "{\"type\":\"order_cancelled\",\"symbol\":\"S\",\"stop\":8}");
	feed(d, "{\"type\":\"order_placed\",\"symbol\":\"S\",\"stop\":\"x\"}");
	v = trading(d);
	CHECK(num(v, "positions/0/stop") == 9, "cancelled, junk: no change");
	jv_free(v);
	fill(d, T0 + 1, "S", "buy", 1, 10, ",\"stop\":null");
	v = trading(d);
	CHECK(is_null(v, "positions/0/stop"), "null clears");
	jv_free(v);
	fill(d, T0 + 2, "S", "buy", 1, 10, ",\"stop\":9.5");
	fill(d, T0 + 3, "S", "sell", 3, 10, ",\"stop\":12");
	fill(d, T0 + 4, "S", "buy", 1, 10, "");
	v = trading(d);
	CHECK(is_null(v, "positions/0/stop"), "a closed trip's stop is gone");
	jv_free(v);
	/* A fill across zero: its stop is the new trip's. */
	fill(d, T0 + 5, "S", "sell", 2, 10, ",\"stop\":11");
	v = trading(d);
	CHECK(str_is(v, "positions/0/side", "short") &&
		      num(v, "positions/0/stop") == 11,
		"the stop of a crossing fill");
	jv_free(v);
	tf_dash_destroy(d);

	/* Order ids: each once, at most TF_DASH_TRIP_IDS, none longer than
	 * TF_DASH_ID_MAX; the ids of a closed trip's slot are reused. */
	tf_dash_config_init(&cfg);
	cfg.round_trips = 2;
	cfg.equity = 3;
	d = tf_dash_create(&cfg, NULL, 0);
	fill(d, T0, "I", "buy", 100, 1, ",\"order_id\":\"same\"");
	fill(d, T0, "I", "buy", 1, 1, ",\"order_id\":\"same\"");
	snprintf(more, sizeof more, ",\"order_id\":\"%0*d\"",
		TF_DASH_ID_MAX - 1, 1);	/* quotes: one too long */
	fill(d, T0, "I", "buy", 1, 1, more);
	snprintf(more, sizeof more, ",\"order_id\":\"%0*d\"",
		TF_DASH_ID_MAX - 2, 2);	/* just fits */
	fill(d, T0, "I", "buy", 1, 1, more);
	for (i = 0; i < 30; i++) {
		snprintf(more, sizeof more, ",\"order_id\":%d", i);
		fill(d, T0 + 1, "I", "sell", 1, 1, more);
	}
	fill(d, T0 + 2, "I", "sell", 73, 1, "");
	v = trading(d);
	CHECK(count(v, "round_trips/0/order_ids") == TF_DASH_TRIP_IDS &&
		      str_is(v, "round_trips/0/order_ids/0", "same") &&
		      num(v, "round_trips/0/order_ids/2") == 0 &&
		      num(v, "round_trips/0/order_ids/-1") ==
			      TF_DASH_TRIP_IDS - 3,
		"ids bounded: %d", count(v, "round_trips/0/order_ids"));
	jv_free(v);
	/* --round-trips 2 and equity 3: the last ones kept, all counted. */
	for (i = 0; i < 5; i++) {
		fill(d, T0 + 10 + i, "J", "buy", 1, 10, "");
		fill(d, T0 + 10 + i, "J", "sell", 1, 10 + i,
			",\"order_id\":\"j\"");
	}
	v = trading(d);
	m = metrics(d);
	CHECK(count(v, "round_trips") == 2 &&
		      num(v, "round_trips/0/pnl") == 3 &&
		      num(v, "round_trips/1/pnl") == 4 &&
		      count(v, "round_trips/1/order_ids") == 1 &&
		      count(v, "profit/cumulative") == 3 &&
		      num(v, "profit/cumulative/2/1") == 10 &&
		      num(m, "round_trips") == 6 && num(m, "wins") == 4,
		"the last round trips kept, every one counted");
	jv_free(v);
	jv_free(m);
	tf_dash_destroy(d);

	/* Days: the latest and the 364 before it; older ones still count
	 * in the metrics. */
	d = make(0, 0);
	for (i = 0; i < 3; i++) {
		static const int64_t day[] = { 0, 1, 365 };

		fill(d, T0 + day[i] * DAY, "D", "buy", 1, 10, "");
		fill(d, T0 + day[i] * DAY, "D", "sell", 1, 11, "");
	}
	v = trading(d);
	CHECK(count(v, "profit/daily") == 2 &&
		      str_is(v, "profit/daily/0/day", "2027-01-16") &&
		      str_is(v, "profit/daily/1/day", "2028-01-15"),
		"365 days");
	jv_free(v);
	fill(d, T0, "D", "buy", 1, 10, "");	/* too old for the days */
	fill(d, T0 + 2 * DAY, "D", "sell", 1, 11, "");	/* in, inserted */
	v = trading(d);
	m = metrics(d);
	CHECK(count(v, "profit/daily") == 3 &&
		      str_is(v, "profit/daily/1/day", "2027-01-17") &&
		      num(m, "round_trips") == 4,
		"an older day in the window goes in its place");
	jv_free(v);
	jv_free(m);
	tf_dash_destroy(d);

	/* Fills of symbols past max_symbols move nothing. */
	d = make(0, 1);
	fill(d, T0, "K", "buy", 1, 1, "");
	fill(d, T0, "L", "buy", 1, 1, "");
	tf_dash_counters(d, &cnt);
	v = trading(d);
	CHECK(count(v, "positions") == 1 && cnt.symbols_dropped == 1 &&
		      cnt.bad_fills == 0,
		"max_symbols");
	jv_free(v);
	tf_dash_destroy(d);
}

/* Checks every candle of series path is sane: h >= o, c, l; t ascending
 * and on its bucket. */
static void
check_series(jv s, const char *path, int64_t period)
{
	jv a = at(s, path);
	int i, n = jv_get_kind(a) == JV_KIND_ARRAY ?
		jv_array_length(jv_copy(a)) : -1;
	double prev = -1;

	CHECK(n > 0, "%s: no candles", path);
	for (i = 0; i < n; i++) {
		jv c = jv_array_get(jv_copy(a), i);
		double t = num(c, "t"), o = num(c, "o"), h = num(c, "h"),
		       l = num(c, "l"), cl = num(c, "c"), cnt = num(c, "n");

		CHECK(t > prev && fmod(t, (double)period) == 0, "%s/%d: t %.0f",
			path, i, t);
		CHECK(h >= o && h >= cl && l <= o && l <= cl && l > 0 &&
			      cnt >= 1 && num(c, "v") >= 0,
			"%s/%d: o %g h %g l %g c %g", path, i, o, h, l, cl);
		prev = t;
		jv_free(c);
	}
	jv_free(a);
}

/* tf-sim's own events, applied with and without their fields found, and
 * backfilled from a tf-record recording of them, give the same state. */
static void
test_sim(const char *argv0)
{
	static const int64_t periods[TF_DASH_NTF] = { 1000, 60000, 300000,
		900000, 3600000, 14400000, 86400000 };
	char cmd[4096], dir[1024], db[64], err[256] = "", *line = NULL;
	struct tf_dash *d1 = make(0, 0), *d2 = make(0, 0), *d3 = make(0, 0);
	uint64_t rows = 0;
	struct tf_buf b1, b2;
	size_t cap = 0;
	ssize_t len;
	uint64_t lines = 0, sells = 0;
	FILE *f;
	jv s;
	int i;

	snprintf(cmd, sizeof cmd, "%s", argv0);
	snprintf(dir, sizeof dir, "%s", dirname(cmd));
	snprintf(cmd, sizeof cmd,
		"%s/../tf-sim --rate 0 -n 5000 --seed 3 "
		"--start 2027-01-15T08:00:00Z",
		dir);
	f = popen(cmd, "r");
	CHECK(f, "popen %s", cmd);
	if (!f)
		return;
	while ((len = getline(&line, &cap, f)) > 0) {
		struct tf_event ev;

		if (line[len - 1] == '\n')
			len--;
		lines++;
		/* tf-sim buys when flat and sells all: a sell ends a trip. */
		sells += strstr(line, "{\"type\":\"trade_executed\"") == line &&
			strstr(line, "\"side\":\"sell\"");
		CHECK(tf_event_scan(line, (size_t)len, &ev, NULL) == TF_SCAN_OK,
			"tf-sim line %llu", (unsigned long long)lines);
		CHECK(tf_dash_apply(d1, line, (size_t)len, &ev, 0) == 0 &&
			      tf_dash_apply(d2, line, (size_t)len, NULL, 0) ==
				      0,
			"apply");
	}
	free(line);
	CHECK(pclose(f) == 0 && lines == 5000, "tf-sim ran: %llu lines",
		(unsigned long long)lines);
	tf_buf_init(&b1);
	tf_buf_init(&b2);
	tf_dash_snapshot_members(d1, &b1);
	tf_dash_snapshot_members(d2, &b2);
	CHECK(b1.len == b2.len && !memcmp(b1.p, b2.p, b1.len),
		"ev given or not: the same state");
	tf_buf_finish(&b2);

	/* The same events through tf-record: backfilled, the same state
	 * (every tf-sim line has its "ts", so arrival times do not show). */
	snprintf(db, sizeof db, "/tmp/dash_test.%d.db", (int)getpid());
	snprintf(cmd, sizeof cmd,
		"%s/../tf-sim --rate 0 -n 5000 --seed 3 "
		"--start 2027-01-15T08:00:00Z | %s/../tf-record -n -q -d %s",
		dir, dir, db);
	CHECK(system(cmd) == 0, "%s", cmd);
	CHECK(tf_dash_backfill(d3, db, &rows, err, sizeof err) == 0 &&
		      rows == 5000,
		"backfill: %s", err);
	tf_dash_snapshot_members(d3, &b2);
	CHECK(b1.len == b2.len && !memcmp(b1.p, b2.p, b1.len),
		"backfilled from tf-record: the same state");
	tf_buf_finish(&b2);
	for (i = 0; i < 3; i++) {
		snprintf(cmd, sizeof cmd, "%s%s", db,
			i == 0 ? "" : i == 1 ? "-wal" : "-shm");
		unlink(cmd);
	}

	tf_buf_adds(&b2, "{\"seq\":0");
	tf_buf_add(&b2, b1.p, b1.len);
	tf_buf_adds(&b2, "}");
	tf_buf_finish(&b1);
	s = parse(&b2, __LINE__);
	CHECK(count(s, "symbols") == 3, "3 symbols");
	for (i = 0; i < TF_DASH_NTF; i++) {
		char p[64];

		snprintf(p, sizeof p, "candles/ETH-USD/%s", tf_dash_tf_name(i));
		check_series(s, p, periods[i]);
	}
	CHECK(count(s, "trades") > 0 && count(s, "predictions") > 0 &&
		      count(s, "patterns") > 0 && count(s, "alerts") > 0 &&
		      count(s, "equity") > 0 && !is_null(s, "portfolio") &&
		      !is_null(s, "system") &&
		      str_is(s, "bot/state", "running"),
		"tf-sim fills every part");
	/* With 5000 events at tf-sim's horizon of ticks, most predictions
	 * have resolved. */
	CHECK(!is_null(s, "predictions/0/actual") &&
		      (is_bool(s, "predictions/0/correct", 0) ||
			      is_bool(s, "predictions/0/correct", 1)),
		"first prediction judged");
	CHECK(num(s, "metrics/trades") == count(s, "trades"),
		"metrics trades");
	CHECK(sells > 0 && num(s, "metrics/round_trips") == (double)sells &&
		      count(s, "round_trips") == (int)sells &&
		      num(s, "metrics/wins") + num(s, "metrics/losses") <=
			      (double)sells &&
		      count(s, "profit/by_symbol") > 0,
		"tf-sim: one round trip a sell (%llu)",
		(unsigned long long)sells);
	jv_free(s);
	tf_dash_destroy(d1);
	tf_dash_destroy(d2);
	tf_dash_destroy(d3);
}

int
main(int argc, char **argv)
{
	(void)argc;
	test_config();
	test_candle_budget();
	test_empty();
	test_candles();
	test_bounds();
	test_alerts_trades();
	test_metrics();
	test_num();
	test_trading();
	test_trading_edges();
	test_predictions();
	test_bot();
	test_verbatim();
	test_backfill();
	test_sim(argv[0]);
	if (failures) {
		fprintf(stderr, "dash_test: %d failures\n", failures);
		return 1;
	}
	printf("dash_test: ok\n");
	return 0;
}
