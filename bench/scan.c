/* scan.c: times the hot-path scanner (tf_scan, five wanted keys) against
 * libjq 1.6's jv_parse_sized on the same million ~200-byte event lines,
 * generated in memory, and prints the two side by side. */

#include <jv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scan.h"

#define DEFAULT_LINES 1000000

struct corpus {
	char *text;
	size_t *off;		/* line i is text[off[i]..off[i + 1]) */
	size_t lines;
	size_t bytes;
};

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double
uniform(double lo, double hi)
{
	return lo + (hi - lo) * (double)(next() >> 11) / 9007199254740992.0;
}

static const char *const symbols[] = {
	"BTC-USD", "ETH-USD", "SOL-USD", "ADA-USD", "XRP-USD", "DOGE-USD",
};

static const char *const priorities[] = { "low", "medium", "high",
	"critical" };

/* One event line in the shapes tf's programs see most, without "\n". */
static int
event(char *buf, size_t size, long long ts)
{
	const char *sym = symbols[next() % 6];
	double price = uniform(0.1, 70000);

	switch (next() % 8) {
	case 0: case 1: case 2: case 3:
		return snprintf(buf, size, "{\"type\":\"price_update\","
		    "\"topic\":\"market_data\",\"symbol\":\"%s\","
		    "\"price\":%.2f,\"change_24h\":%.2f,\"volume\":%.1f,"
		    "\"bid\":%.2f,\"ask\":%.2f,\"exchange\":\"coinbase\","
		    "\"seq\":%lld,\"ts\":%lld}", sym, price, uniform(-9, 9),
		    uniform(0, 1e6), price - 0.01, price + 0.01, ts / 7, ts);
	case 4: case 5:
		return snprintf(buf, size, "{\"type\":\"trade_executed\","
		    "\"topic\":\"trading\",\"order_id\":\"ord-%08llx\","
		    "\"symbol\":\"%s\",\"side\":\"%s\",\"quantity\":%.4f,"
		    "\"price\":%.2f,\"pnl\":%.2f,\"strategy\":"
		    "\"mean_reversion\",\"ts\":%lld}",
		    (unsigned long long)(next() >> 32), sym,
		    next() & 1 ? "buy" : "sell", uniform(0, 10), price,
		    uniform(-500, 500), ts);
	case 6:
		return snprintf(buf, size, "{\"type\":\"alert\",\"topic\":"
		    "\"alerts\",\"priority\":\"%s\",\"rule\":\"price_cross\","
		    "\"title\":\"Price threshold\",\"message\":"
		    "\"%s crossed %.2f \\u2191\",\"source\":\"tf-alert\","
		    "\"symbol\":\"%s\",\"ts\":%lld}", priorities[next() % 4],
		    sym, price, sym, ts);
	default:
		return snprintf(buf, size, "{\"type\":\"ml_prediction\","
		    "\"topic\":\"ml\",\"model\":\"lstm-v3\",\"symbol\":\"%s\","
		    "\"predicted_price\":%.2f,\"direction\":\"%s\","
		    "\"confidence\":%.3f,\"horizon\":\"1h\",\"exchange\":"
		    "\"coinbase\",\"ts\":%lld}",
		    sym, price, next() & 1 ? "up" : "down", uniform(0, 1),
		    ts);
	}
}

static int
make_corpus(struct corpus *c, size_t lines)
{
	size_t cap = lines * 256, i;
	long long ts = 1763717400123LL;
	int k;

	c->text = malloc(cap);
	c->off = malloc((lines + 1) * sizeof(*c->off));
	if (c->text == NULL || c->off == NULL)
		return -1;
	c->bytes = 0;
	for (i = 0; i < lines; i++) {
		c->off[i] = c->bytes;
		k = event(c->text + c->bytes, cap - c->bytes, ts += 7);
		if (k < 0 || (size_t)k >= cap - c->bytes)
			return -1;
		c->bytes += (size_t)k;
	}
	c->off[lines] = c->bytes;
	c->lines = lines;
	return 0;
}

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Best of three passes; returns seconds per pass, or -1 on a bad line. */
static double
time_scan(const struct corpus *c, size_t *found)
{
	struct tf_scan_keys keys = { 0 };
	struct tf_span out[TF_SCAN_MAX_KEYS];
	double best = -1, t;
	size_t i;
	int pass, k;

	tf_scan_keys_add(&keys, "type");
	tf_scan_keys_add(&keys, "topic");
	tf_scan_keys_add(&keys, "symbol");
	tf_scan_keys_add(&keys, "ts");
	tf_scan_keys_add(&keys, "priority");
	for (pass = 0; pass < 3; pass++) {
		*found = 0;
		t = now();
		for (i = 0; i < c->lines; i++) {
			if (tf_scan(c->text + c->off[i], c->off[i + 1] -
			    c->off[i], &keys, out, NULL) != TF_SCAN_OK)
				return -1;
			for (k = 0; k < keys.n; k++)
				*found += out[k].kind != TF_JSON_ABSENT;
		}
		t = now() - t;
		if (best < 0 || t < best)
			best = t;
	}
	return best;
}

static double
time_jq(const struct corpus *c, size_t *found)
{
	double t = now();
	size_t i;
	jv v;

	*found = 0;
	for (i = 0; i < c->lines; i++) {
		v = jv_parse_sized(c->text + c->off[i],
		    (int)(c->off[i + 1] - c->off[i]));
		if (!jv_is_valid(v)) {
			jv_free(v);
			return -1;
		}
		*found += jv_get_kind(v) == JV_KIND_OBJECT;
		jv_free(v);
	}
	return now() - t;
}

static void
row(const char *name, const struct corpus *c, double secs)
{
	printf("%-16s %10.3f %12.0f %10.1f\n", name, secs,
	    (double)c->lines / secs, (double)c->bytes / secs / 1e6);
}

int
main(int argc, char **argv)
{
	struct corpus c;
	size_t lines = argc > 1 ? strtoul(argv[1], NULL, 10) : DEFAULT_LINES;
	size_t nscan, njq;
	double tscan, tjq;

	if (lines == 0 || make_corpus(&c, lines) != 0) {
		fprintf(stderr, "bench/scan: cannot build %zu lines\n", lines);
		return 1;
	}
	printf("%zu event lines, %.1f bytes each on average\n\n", c.lines,
	    (double)c.bytes / (double)c.lines);
	if ((tscan = time_scan(&c, &nscan)) < 0 ||
	    (tjq = time_jq(&c, &njq)) < 0) {
		fprintf(stderr, "bench/scan: a generated line was rejected\n");
		return 1;
	}
	printf("%-16s %10s %12s %10s\n", "parser", "seconds", "lines/s",
	    "MB/s");
	row("tf_scan", &c, tscan);
	row("jv_parse_sized", &c, tjq);
	printf("\ntf_scan is %.1fx jv_parse_sized (%zu keys found in %zu "
	    "objects)\n", tjq / tscan, nscan, njq);
	free(c.text);
	free(c.off);
	return 0;
}
