/* fuzz_dash.c: a libFuzzer target for lib/dash: a state with small bounds
 * fed the good lines of the input; every few lines and at the end each
 * JSON answer (snapshot, candles, trades, alerts, trading, positions,
 * metrics, engine status, bot) must be valid JSON to tf_scan (RFC 8259) and to jq's jv_parse.
 *
 * The input: one byte choosing the bounds, then newline-separated lines.
 * `make fuzz` builds it as $(B)/fuzz_dash and grows
 * $(B)/fuzz-corpus-dash from fuzz/seeds-dash (with the inputs of the
 * bugs it found: regress-*).
 */

#include <jv.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dash.h"
#include "scan.h"
#include "vocab.h"
#include "wsproto.h"

/* Deeper lines are left out: jq 1.6 refuses what nests 128 objects deep
 * (test/c/laxer.h S2), and the answers wrap lines a few levels deeper. */
#define MAX_DEPTH 64
#define MAX_NAMES 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what, const struct tf_buf *b)
{
	fprintf(stderr, "fuzz_dash: %s: %.*s\n", what,
		(int)(b->len < 4000 ? b->len : 4000), b->p ? b->p : "");
	abort();
}

/* The nesting depth of a valid JSON text. */
static int
depth(const char *s, size_t n)
{
	int d = 0, max = 0, in_str = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (in_str) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_str = 0;
		} else if (s[i] == '"') {
			in_str = 1;
		} else if (s[i] == '{' || s[i] == '[') {
			if (++d > max)
				max = d;
		} else if (s[i] == '}' || s[i] == ']') {
			d--;
		}
	}
	return max;
}

/* Checks b holds one JSON value (wrapped: the snapshot members are no
 * value alone) for both parsers, of kind want (JV_KIND_INVALID: any);
 * empties b. */
static void
check(struct tf_buf *b, const char *pre, const char *post, jv_kind want)
{
	struct tf_buf w;
	jv v;

	if (b->failed)
		fail("buffer failed", b);
	tf_buf_init(&w);
	tf_buf_adds(&w, pre);
	tf_buf_add(&w, b->p ? b->p : "", b->len);
	tf_buf_adds(&w, post);
	if (w.failed)
		abort();
	if (tf_scan(w.p, w.len, NULL, NULL, NULL) > TF_SCAN_NOT_OBJECT)
		fail("not RFC 8259 JSON", &w);
	v = jv_parse_sized(w.p, (int)w.len);
	if (!jv_is_valid(v))
		fail("jv_parse refused it", &w);
	if (want != JV_KIND_INVALID && jv_get_kind(v) != want)
		fail("not of the kind expected", &w);
	jv_free(v);
	tf_buf_finish(&w);
	b->len = 0;
	b->failed = 0;
}

static void
answers(const struct tf_dash *d, char names[][130], size_t nnames,
	unsigned sel)
{
	struct tf_dash_counters c;
	struct tf_buf b;
	size_t i;
	int tf;

	tf_buf_init(&b);
	tf_buf_adds(&b, "{\"seq\":1");
	tf_dash_snapshot_members(d, &b);
	tf_buf_adds(&b, "}");
	check(&b, "", "", JV_KIND_OBJECT);
	for (i = 0; i < nnames; i++)
		for (tf = -1; tf <= TF_DASH_NTF; tf++) {
			int64_t from = sel & 1 ? 1800000000000LL : 0;
			int64_t to = sel & 2 ? 1800000060000LL : 0;

			if (tf_dash_candles(d, names[i], tf, from, to, &b) == 0)
				check(&b, "", "", JV_KIND_OBJECT);
			else if (b.len)
				fail("candles wrote and failed", &b);
		}
	tf_dash_trades(d, NULL, sel % 3, &b);
	check(&b, "", "", JV_KIND_OBJECT);
	for (i = 0; i < nnames; i++) {
		tf_dash_trades(d, names[i], (sel >> 2) % 3, &b);
		check(&b, "", "", JV_KIND_OBJECT);
	}
	tf_dash_alerts(d, (int)(sel % 5), (sel >> 3) % 3, &b);
	check(&b, "", "", JV_KIND_OBJECT);
	tf_dash_trading(d, &b);
	check(&b, "", "", JV_KIND_OBJECT);
	tf_dash_positions(d, &b);
	check(&b, "", "", JV_KIND_OBJECT);
	tf_dash_metrics(d, &b);
	check(&b, "", "", JV_KIND_OBJECT);
	tf_dash_engine_status(d, &b);
	check(&b, "", "", JV_KIND_INVALID);
	tf_dash_bot(d, &b);
	check(&b, "", "", JV_KIND_OBJECT);
	tf_buf_finish(&b);
	tf_dash_counters(d, &c);
	if (c.kept > c.events)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tf_dash_config cfg;
	struct tf_dash *d;
	char names[MAX_NAMES][130], err[256];
	size_t nnames = 0, i, start, nline = 0;
	unsigned sel;

	if (size < 1)
		return 0;
	sel = data[0];
	tf_dash_config_init(&cfg);
	cfg.candles = 1 + (sel & 3);
	cfg.trades = cfg.orders = cfg.alerts = 1 + (sel >> 2 & 3);
	cfg.predictions = cfg.patterns = 1 + (sel >> 4 & 1);
	cfg.equity = 1 + (sel >> 2 & 3);
	cfg.round_trips = 1 + (sel & 3);
	cfg.max_symbols = 1 + (sel >> 5 & 3);
	cfg.snapshot_candles = 1 + (sel >> 7);
	if (!(d = tf_dash_create(&cfg, err, sizeof err)))
		abort();

	for (start = i = 1; i <= size; i++) {
		const char *line = (const char *)data + start;
		size_t len = i - start;
		struct tf_event ev;
		jv v;

		if (i < size && data[i] != '\n')
			continue;
		start = i + 1;
		/* Good lines only, as tf-serve applies them; and only those
		 * jq reads too (laxer.h S1, S2). */
		if (tf_event_scan(line, len, &ev, NULL) != TF_SCAN_OK ||
		    depth(line, len) > MAX_DEPTH)
			continue;
		v = jv_parse_sized(line, (int)len);
		if (!jv_is_valid(v)) {
			jv_free(v);
			continue;
		}
		jv_free(v);
		if (nnames < MAX_NAMES && ev.symbol.kind == TF_JSON_STRING &&
		    tf_span_string(&ev.symbol, names[nnames],
			    sizeof names[nnames]) != (size_t)-1)
			nnames++;
		if (tf_dash_apply(d, line, len, nline % 2 ? &ev : NULL,
			    1800000000000LL + (int64_t)nline * 700) < 0)
			abort();
		if (++nline % 8 == 0)
			answers(d, names, nnames, (unsigned)nline ^ sel);
	}
	answers(d, names, nnames, sel);
	tf_dash_destroy(d);
	return 0;
}
