/* dash.c: the dashboard's state (dash.h): verbatim lines in bounded rings,
 * candles and positions per symbol in a hash of symbols, round trips and
 * profit from the fills, and the metrics, all kept up to date line by line
 * and written out as JSON on demand. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dash.h"
#include "log.h"
#include "opts.h"
#include "scan.h"
#include "store.h"
#include "vocab.h"
#include "wsproto.h"

/* Longest symbol kept (decoded bytes); a longer one is not a symbol. */
#define SYMBOL_MAX 128

#define DAY_MS 86400000LL

static const int64_t period_ms[TF_DASH_NTF] = { 1000, 60000, 300000, 900000,
	3600000, 14400000, DAY_MS };
static const char *const tf_names[TF_DASH_NTF] = { "1s", "1m", "5m", "15m",
	"1h", "4h", "1d" };

/* A position within this fraction of its largest size is flat: sums of
 * decimal quantities (0.1 + 0.2 - 0.3) leave a binary remainder. */
#define FLAT_EPS 1e-9

/* Elements that grow to max, then replace their oldest. A ring never
 * wraps before it is full, so growing it keeps its order. */
struct ring {
	char *a;
	size_t esz, alloc, max, n, head;
};

/* A kept line, its buffer reused when its slot is overwritten. sym is the
 * span of its "symbol" string inside p (sym_len 0: none). */
struct entry {
	char *p;
	size_t len, cap;
	size_t sym_off, sym_len;
	unsigned char sym_escaped;
	signed char prio;
};

struct candle {
	int64_t t;
	double o, h, l, c, v;
	uint64_t n;
	int32_t first, last;	/* ms into the bucket of open, close */
};

struct point {
	int64_t t;
	double v;
};

enum { PRED_NEVER, PRED_PENDING, PRED_DONE };

struct pred {
	struct entry e;		/* first: freed as a ring of entries */
	int32_t sym;		/* index, -1: not kept */
	int state, dir;		/* dir +1 up, -1 down, 0 unknown */
	int correct;		/* -1: null */
	int has_base;
	uint64_t due;		/* the symbol's tick count resolving it */
	double base, actual;
};

/* Order ids: the JSON text of each value behind a byte of its length. */
struct ids {
	char *p;
	size_t len, cap;
	unsigned n;
};

/* A symbol's open round trip (dir 0: flat). q is the size, always > 0
 * while open; "in" are the fills that raised it, "out" those that
 * lowered it. */
struct pos {
	int dir;		/* +1 long, -1 short */
	double q, peak;
	double in_qty, in_value, out_qty, out_value;
	double fees;
	int64_t opened;
	struct ids ids;
};

/* A closed round trip. */
struct trip {
	struct ids ids;		/* first: its buffer reused with the slot */
	int32_t sym;
	int dir;
	double qty, entry, exit, pnl, fees;
	int64_t opened, closed;
};

/* Profit of one UTC day (day: days since 1970-01-01). */
struct day {
	int64_t day;
	double pnl;
	uint64_t trips, wins, losses;
};

struct sym {
	char *name;
	size_t nlen;
	struct entry latest;	/* len 0: no market data line yet */
	struct ring candles[TF_DASH_NTF];
	uint64_t used;		/* the state's tick clock at its latest tick */
	uint64_t ticks;		/* good price ticks */
	uint64_t due;		/* earliest due of its predictions */
	double price;		/* of the latest good tick */
	double volume;		/* the latest "volume" of a price_update */
	int has_volume;
	struct pos pos;
	double stop;		/* NAN: none */
	/* profit of its closed trips; fees of all its fills */
	int filled;		/* a fill was applied */
	uint64_t trips, wins, losses;
	double pnl, fees;
};

enum bot_state { BOT_UNKNOWN, BOT_RUNNING, BOT_STOPPED };

struct tf_dash {
	struct tf_dash_config cfg;
	struct sym **syms;
	size_t nsyms, syms_alloc;
	int32_t *hash;		/* symbol indexes, -1 empty; power of 2 */
	size_t hash_cap;
	struct ring trades, orders, alerts, preds, patterns, equity;
	struct entry portfolio, system, bot_event;
	double total_value, pnl, pnl_pct;	/* NAN: absent */
	uint64_t trade_count;
	int has_peak;
	double peak, dd, dd_value;
	enum bot_state bot;
	int has_since;
	int64_t bot_since;
	/* round trips: the last ones, their cumulative P&L, days, totals */
	struct ring trips, cumulative;
	struct day *days;	/* TF_DASH_DAYS, allocated at the first fill */
	size_t ndays;
	uint64_t rt_count, rt_wins, rt_losses;
	double rt_pnl, rt_win_sum, rt_loss_sum, rt_best, rt_worst;
	double fees, realized_peak, realized_dd;
	/* candle slots of every series (max_candles at most), tick clock */
	size_t candle_slots;
	uint64_t clock;
	struct tf_dash_counters count;
};

/* ---- rings and entries ---- */

static void
ring_init(struct ring *r, size_t esz, size_t max)
{
	memset(r, 0, sizeof *r);
	r->esz = esz;
	r->max = max;
}

/* The i-th oldest element. */
static void *
ring_at(const struct ring *r, size_t i)
{
	size_t k = r->head + i;

	if (k >= r->alloc)
		k -= r->alloc;
	return r->a + k * r->esz;
}

/* The slot the next push fills (the oldest one once full), growing the
 * ring if needed; NULL on ENOMEM. Nothing changes until ring_commit. */
static void *
ring_next(struct ring *r)
{
	if (r->n == r->max)
		return r->a + r->head * r->esz;
	if (r->n == r->alloc) {
		size_t alloc = r->alloc ? r->alloc * 2 : 16;
		char *a;

		if (alloc > r->max || alloc < r->alloc)
			alloc = r->max;
		if (alloc > (size_t)-1 / r->esz)
			return NULL;
		a = realloc(r->a, alloc * r->esz);
		if (!a)
			return NULL;
		memset(a + r->alloc * r->esz, 0, (alloc - r->alloc) * r->esz);
		r->a = a;
		r->alloc = alloc;
	}
	return r->a + r->n * r->esz;	/* head is 0 until full */
}

static void
ring_commit(struct ring *r)
{
	if (r->n < r->max)
		r->n++;
	else if (++r->head == r->max)
		r->head = 0;
}

/* Frees a ring whose elements start with a struct entry (entries true). */
static void
ring_finish(struct ring *r, int entries)
{
	size_t i;

	if (entries)
		for (i = 0; i < r->alloc; i++)
			free(((struct entry *)(r->a + i * r->esz))->p);
	free(r->a);
}

/* Copies line into e. -1 on ENOMEM, e unchanged. */
static int
entry_set(struct entry *e, const char *line, size_t len)
{
	if (len > e->cap || (e->cap > 4096 && e->cap / 4 > len)) {
		size_t cap = len < 64 ? 64 : len;
		char *p = realloc(e->p, cap);

		if (!p) {
			if (len > e->cap)
				return -1;
		} else {
			e->p = p;
			e->cap = cap;
		}
	}
	memcpy(e->p, line, len);
	e->len = len;
	e->sym_len = 0;
	e->prio = 0;
	return 0;
}

/* ---- fields ---- */

static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The event time in ms from "ts" (tf_event_time_ns), else fallback. */
static int64_t
event_ms(const struct tf_span *sp, int64_t fallback)
{
	int64_t ns;

	if (tf_event_time_ns(sp, &ns) < 0)
		return fallback;
	return floor_div(ns, 1000000);
}

/* The text of a string span: the line's bytes, or decoded into buf. */
static const char *
span_text(const struct tf_span *sp, char *buf, size_t size, size_t *n)
{
	if (sp->kind != TF_JSON_STRING)
		return NULL;
	if (!sp->escaped) {
		*n = sp->n;
		return sp->p;
	}
	*n = tf_span_string(sp, buf, size);
	return *n == (size_t)-1 ? NULL : buf;
}

static int
span_is(const struct tf_span *sp, const char *s)
{
	char buf[16];
	const char *t;
	size_t n;

	t = span_text(sp, buf, sizeof buf, &n);
	return t && n == strlen(s) && !strncasecmp(t, s, n);
}

/* ---- types ---- */

enum kind {
	K_NONE,
	K_PRICE,
	K_TICKER,
	K_PORTFOLIO,
	K_TRADE,
	K_ORDER,
	K_PLACED,
	K_ALERT,
	K_PREDICTION,
	K_PATTERN,
	K_SYSTEM,
	K_BOT_STARTED,
	K_BOT_STOPPED,
};

static const struct {
	const char *name;
	size_t len;
	enum kind kind;
} kinds[] = {
#define K(s, k) { s, sizeof(s) - 1, k }
	K("price_update", K_PRICE),
	K("ticker_update", K_TICKER),
	K("portfolio_update", K_PORTFOLIO),
	K("trade_executed", K_TRADE),
	K("order_placed", K_PLACED),
	K("order_cancelled", K_ORDER),
	K("alert", K_ALERT),
	K("ml_prediction", K_PREDICTION),
	K("pattern_detected", K_PATTERN),
	K("system_status", K_SYSTEM),
	K("bot_started", K_BOT_STARTED),
	K("bot_stopped", K_BOT_STOPPED),
#undef K
};

static enum kind
type_kind(const struct tf_span *sp)
{
	char buf[32];
	const char *s;
	size_t n, i;

	if (!(s = span_text(sp, buf, sizeof buf, &n)))
		return K_NONE;
	for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (kinds[i].len == n && !memcmp(kinds[i].name, s, n))
			return kinds[i].kind;
	return K_NONE;
}

/* The fields each kind reads besides the well-known ones. */
#define KEYS1(a) { 1, { a }, { sizeof(a) - 1 } }
#define KEYS2(a, b) { 2, { a, b }, { sizeof(a) - 1, sizeof(b) - 1 } }
#define KEYS3(a, b, c)                                                       \
	{ 3, { a, b, c }, { sizeof(a) - 1, sizeof(b) - 1, sizeof(c) - 1 } }
#define KEYS4(a, b, c, d)                                                    \
	{ 4, { a, b, c, d },                                                 \
		{ sizeof(a) - 1, sizeof(b) - 1, sizeof(c) - 1,               \
			sizeof(d) - 1 } }

static const struct tf_scan_keys tick_keys = KEYS2("price", "volume");
static const struct tf_scan_keys portfolio_keys =
	KEYS3("total_value", "pnl", "pnl_pct");
#define KEYS6(a, b, c, d, e, f)                                              \
	{ 6, { a, b, c, d, e, f },                                           \
		{ sizeof(a) - 1, sizeof(b) - 1, sizeof(c) - 1,               \
			sizeof(d) - 1, sizeof(e) - 1, sizeof(f) - 1 } }

enum { F_SIDE, F_QTY, F_PRICE, F_FEE, F_ORDER_ID, F_STOP };
static const struct tf_scan_keys trade_keys =
	KEYS6("side", "quantity", "price", "fee", "order_id", "stop");
static const struct tf_scan_keys order_keys = KEYS1("stop");
static const struct tf_scan_keys pred_keys =
	KEYS4("price", "direction", "horizon", "predicted_price");
static const struct tf_scan_keys system_keys = KEYS1("bot");

/* ---- symbols ---- */

static uint32_t
hash_name(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--) {
		h ^= (unsigned char)*s++;
		h *= 16777619u;
	}
	return h;
}

static int32_t
sym_find(const struct tf_dash *d, const char *name, size_t n)
{
	size_t mask = d->hash_cap - 1, i = hash_name(name, n) & mask;
	int32_t k;

	while ((k = d->hash[i]) >= 0) {
		if (d->syms[k]->nlen == n && !memcmp(d->syms[k]->name, name, n))
			return k;
		i = (i + 1) & mask;
	}
	return -1;
}

static void
hash_put(int32_t *hash, size_t cap, const struct sym *s, int32_t k)
{
	size_t i = hash_name(s->name, s->nlen) & (cap - 1);

	while (hash[i] >= 0)
		i = (i + 1) & (cap - 1);
	hash[i] = k;
}

/* Adds a symbol; -1 on ENOMEM (nothing changed). */
static int32_t
sym_add(struct tf_dash *d, const char *name, size_t n)
{
	struct sym *s;
	size_t i;

	if (d->nsyms == d->syms_alloc) {
		size_t alloc = d->syms_alloc * 2;
		struct sym **a;

		if (alloc > d->cfg.max_symbols)
			alloc = d->cfg.max_symbols;
		if (!(a = realloc(d->syms, alloc * sizeof *a)))
			return -1;
		d->syms = a;
		d->syms_alloc = alloc;
	}
	if ((d->nsyms + 1) * 2 > d->hash_cap) {
		size_t cap = d->hash_cap * 2;
		int32_t *h = malloc(cap * sizeof *h);

		if (!h)
			return -1;
		memset(h, 0xff, cap * sizeof *h);
		for (i = 0; i < d->nsyms; i++)
			hash_put(h, cap, d->syms[i], (int32_t)i);
		free(d->hash);
		d->hash = h;
		d->hash_cap = cap;
	}
	if (!(s = calloc(1, sizeof *s)) || !(s->name = malloc(n + 1))) {
		free(s);
		return -1;
	}
	memcpy(s->name, name, n);
	s->name[n] = '\0';
	s->nlen = n;
	s->due = UINT64_MAX;
	s->stop = NAN;
	for (i = 0; i < TF_DASH_NTF; i++)
		ring_init(&s->candles[i], sizeof(struct candle),
			d->cfg.candles);
	d->syms[d->nsyms] = s;
	hash_put(d->hash, d->hash_cap, s, (int32_t)d->nsyms);
	d->count.symbols = ++d->nsyms;
	return (int32_t)(d->nsyms - 1);
}

/* The index of the line's symbol, added if new: -1 none (not a string,
 * too long), -2 past max_symbols (counted), -3 ENOMEM. */
static int32_t
sym_get(struct tf_dash *d, const struct tf_span *sp)
{
	char buf[SYMBOL_MAX + 1];
	const char *name;
	size_t n;
	int32_t k;

	name = span_text(sp, buf, sizeof buf, &n);
	if (!name || !n || n > SYMBOL_MAX)
		return -1;
	if ((k = sym_find(d, name, n)) >= 0)
		return k;
	if (d->nsyms >= d->cfg.max_symbols) {
		d->count.symbols_dropped++;
		return -2;
	}
	k = sym_add(d, name, n);
	return k < 0 ? -3 : k;
}

static void
sym_free(struct sym *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; i < TF_DASH_NTF; i++)
		ring_finish(&s->candles[i], 0);
	free(s->pos.ids.p);
	free(s->latest.p);
	free(s->name);
	free(s);
}

/* ---- create, destroy ---- */

void
tf_dash_config_init(struct tf_dash_config *cfg)
{
	cfg->candles = 1000;
	cfg->trades = 500;
	cfg->orders = 500;
	cfg->alerts = 500;
	cfg->predictions = 200;
	cfg->patterns = 200;
	cfg->equity = 5000;
	cfg->max_symbols = 1000;
	cfg->snapshot_candles = 300;
	cfg->round_trips = 500;
	cfg->max_candles = 500000;
}

struct tf_dash *
tf_dash_create(const struct tf_dash_config *cfg, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		size_t off;
	} limits[] = {
#define L(f) { #f, offsetof(struct tf_dash_config, f) }
		L(candles), L(trades), L(orders), L(alerts), L(predictions),
		L(patterns), L(equity), L(max_symbols), L(snapshot_candles),
		L(round_trips), L(max_candles),
#undef L
	};
	struct tf_dash *d;
	size_t i;

	for (i = 0; i < sizeof limits / sizeof limits[0]; i++) {
		size_t v = *(const size_t *)((const char *)cfg + limits[i].off);

		if (v == 0) {
			tf_seterr(err, errlen, "%s: must be at least 1",
				limits[i].name);
			return NULL;
		}
	}
	if (cfg->candles > SIZE_MAX / TF_DASH_NTF ||
	    cfg->max_candles < TF_DASH_NTF * cfg->candles) {
		tf_seterr(err, errlen, "max_candles: at least %d times "
			"candles (%zu), so that one symbol's series fit",
			TF_DASH_NTF, cfg->candles);
		return NULL;
	}
	if (cfg->max_symbols > INT32_MAX / 4) {
		tf_seterr(err, errlen, "max_symbols: at most %d",
			INT32_MAX / 4);
		return NULL;
	}
	if (!(d = calloc(1, sizeof *d)))
		goto nomem;
	d->cfg = *cfg;
	d->syms_alloc = cfg->max_symbols < 16 ? cfg->max_symbols : 16;
	d->hash_cap = 32;
	d->syms = malloc(d->syms_alloc * sizeof *d->syms);
	d->hash = malloc(d->hash_cap * sizeof *d->hash);
	if (!d->syms || !d->hash)
		goto nomem;
	memset(d->hash, 0xff, d->hash_cap * sizeof *d->hash);
	ring_init(&d->trades, sizeof(struct entry), cfg->trades);
	ring_init(&d->orders, sizeof(struct entry), cfg->orders);
	ring_init(&d->alerts, sizeof(struct entry), cfg->alerts);
	ring_init(&d->preds, sizeof(struct pred), cfg->predictions);
	ring_init(&d->patterns, sizeof(struct entry), cfg->patterns);
	ring_init(&d->equity, sizeof(struct point), cfg->equity);
	ring_init(&d->trips, sizeof(struct trip), cfg->round_trips);
	ring_init(&d->cumulative, sizeof(struct point), cfg->equity);
	d->total_value = d->pnl = d->pnl_pct = NAN;
	return d;
nomem:
	tf_dash_destroy(d);
	tf_seterr(err, errlen, "out of memory");
	return NULL;
}

void
tf_dash_destroy(struct tf_dash *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->nsyms; i++)
		sym_free(d->syms[i]);
	free(d->syms);
	free(d->hash);
	ring_finish(&d->trades, 1);
	ring_finish(&d->orders, 1);
	ring_finish(&d->alerts, 1);
	ring_finish(&d->preds, 1);
	ring_finish(&d->patterns, 1);
	ring_finish(&d->equity, 0);
	for (i = 0; i < d->trips.alloc; i++)
		free(((struct trip *)(d->trips.a + i * d->trips.esz))->ids.p);
	ring_finish(&d->trips, 0);
	ring_finish(&d->cumulative, 0);
	free(d->days);
	free(d->portfolio.p);
	free(d->system.p);
	free(d->bot_event.p);
	free(d);
}

/* ---- applying ---- */

/* Adds a tick ms into the candle's bucket: a tick earlier than the
 * open's becomes the open, one not earlier than the close's the close. */
static void
candle_tick(struct candle *c, int32_t off, double price, double vol)
{
	if (off < c->first) {
		c->first = off;
		c->o = price;
	}
	if (off >= c->last) {
		c->last = off;
		c->c = price;
	}
	if (price > c->h)
		c->h = price;
	if (price < c->l)
		c->l = price;
	c->v += vol;
	c->n++;
}

/* The kept candle starting at t (the ring is sorted by t), or NULL. */
static struct candle *
candle_find(const struct ring *r, int64_t t)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct candle *c = ring_at(r, mid);

		if (c->t == t)
			return c;
		if (c->t < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Adds a tick to one series; its ring has room (ring_next succeeded). */
static void
candle_add(struct tf_dash *d, struct ring *r, int64_t period, int64_t ts,
	double price, double vol)
{
	int64_t t = floor_div(ts, period) * period;
	struct candle *c;

	if (r->n) {
		c = ring_at(r, r->n - 1);
		if (t < c->t)
			c = candle_find(r, t);
		if (c && c->t == t) {
			candle_tick(c, (int32_t)(ts - t), price, vol);
			return;
		}
		if (!c) {
			d->count.late_ticks++;
			return;
		}
	}
	c = ring_next(r);
	c->t = t;
	c->o = c->h = c->l = c->c = price;
	c->v = vol;
	c->n = 1;
	c->first = c->last = (int32_t)(ts - t);
	ring_commit(r);
}

/* Settles the symbol's predictions that are due at its latest tick. */
static void
resolve(struct tf_dash *d, struct sym *s, int32_t k)
{
	uint64_t due = UINT64_MAX;
	size_t i;

	for (i = 0; i < d->preds.n; i++) {
		struct pred *p = ring_at(&d->preds, i);

		if (p->state != PRED_PENDING || p->sym != k)
			continue;
		if (p->due > s->ticks) {
			if (p->due < due)
				due = p->due;
			continue;
		}
		p->state = PRED_DONE;
		p->actual = s->price;
		if (!p->has_base || !p->dir)
			p->correct = -1;
		else
			p->correct = p->dir > 0 ? s->price > p->base :
						  s->price < p->base;
	}
	s->due = due;
}

/* Drops every series of the symbol ticked least recently that has
 * candles, other than keep. 0 when there is none. */
static int
evict_series(struct tf_dash *d, const struct sym *keep)
{
	struct sym *old = NULL;
	size_t i;
	int j;

	for (i = 0; i < d->nsyms; i++) {
		struct sym *s = d->syms[i];

		if (s != keep && s->candles[0].alloc &&
		    (!old || s->used < old->used))
			old = s;
	}
	if (!old)
		return 0;
	for (j = 0; j < TF_DASH_NTF; j++) {
		d->candle_slots -= old->candles[j].alloc;
		ring_finish(&old->candles[j], 0);
		ring_init(&old->candles[j], sizeof(struct candle),
			d->cfg.candles);
	}
	d->count.series_evicted++;
	return 1;
}

/* ring_next for a series of s, within max_candles: a ring that must grow
 * first takes the slots of the symbols ticked least recently. NULL on
 * ENOMEM. */
static void *
candle_next(struct tf_dash *d, struct sym *s, struct ring *r)
{
	size_t was = r->alloc, grow;
	void *slot;

	if (r->n < r->alloc || r->n == r->max)
		return ring_next(r);
	/* As ring_next grows it: double, from 16, up to max. */
	grow = (was ? was * 2 : 16);
	if (grow > r->max || grow < was)
		grow = r->max;
	grow -= was;
	/* One symbol's series always fit (tf_dash_create): once the
	 * others are gone, there is room. */
	while (d->candle_slots + grow > d->cfg.max_candles &&
	    evict_series(d, s))
		;
	if (!(slot = ring_next(r)))
		return NULL;
	d->candle_slots += r->alloc - was;
	return slot;
}

static int
apply_tick(struct tf_dash *d, const char *line, size_t len,
	const struct tf_event *ev, int64_t arrival_ms, int is_price)
{
	struct tf_span f[2];
	double price, vol = 0;
	struct sym *s;
	int32_t k;
	int64_t ts;
	int i;

	if ((k = sym_get(d, &ev->symbol)) < 0)
		return k == -3 ? -1 : 0;
	s = d->syms[k];
	s->used = ++d->clock;
	/* Room in every series first, so a tick is in all or in none. */
	for (i = 0; i < TF_DASH_NTF; i++)
		if (!candle_next(d, s, &s->candles[i]))
			return -1;
	if (entry_set(&s->latest, line, len) < 0)
		return -1;
	d->count.kept++;
	tf_scan(line, len, &tick_keys, f, NULL);
	if (tf_span_double(&f[0], &price) < 0 || !(price > 0)) {
		d->count.bad_prices++;
		return 0;
	}
	/* "volume" is cumulative (over 24 h, or since the feed began): what
	 * trades within a candle is the rises from one tick to the next. */
	if (is_price && tf_span_double(&f[1], &vol) == 0 && vol >= 0) {
		double rise = s->has_volume && vol > s->volume ?
			vol - s->volume : 0;

		s->volume = vol;
		s->has_volume = 1;
		vol = rise;
	} else {
		vol = 0;
	}
	ts = event_ms(&ev->ts, arrival_ms);
	for (i = 0; i < TF_DASH_NTF; i++)
		candle_add(d, &s->candles[i], period_ms[i], ts, price, vol);
	s->price = price;
	if (++s->ticks >= s->due)
		resolve(d, s, k);
	return 0;
}

/* Pushes the line onto r; returns its entry, or NULL on ENOMEM. */
static struct entry *
push_line(struct ring *r, const char *line, size_t len)
{
	struct entry *e = ring_next(r);

	if (!e || entry_set(e, line, len) < 0)
		return NULL;
	ring_commit(r);
	return e;
}

static void
set_bot(struct tf_dash *d, enum bot_state st, int64_t ms)
{
	if (d->bot == st)
		return;
	d->bot = st;
	d->bot_since = ms;
	d->has_since = 1;
}

static int
apply_portfolio(struct tf_dash *d, const char *line, size_t len,
	const struct tf_event *ev, int64_t arrival_ms)
{
	struct tf_span f[3];
	struct point *pt = NULL;
	double v;

	tf_scan(line, len, &portfolio_keys, f, NULL);
	if (tf_span_double(&f[0], &v) == 0 && !(pt = ring_next(&d->equity)))
		return -1;
	if (entry_set(&d->portfolio, line, len) < 0)
		return -1;
	d->total_value = NAN;
	if (pt) {
		pt->t = event_ms(&ev->ts, arrival_ms);
		pt->v = d->total_value = v;
		ring_commit(&d->equity);
		if (!d->has_peak || v > d->peak) {
			d->peak = v;
			d->has_peak = 1;
		} else {
			if (d->peak - v > d->dd_value)
				d->dd_value = d->peak - v;
			if (d->peak > 0 && (d->peak - v) / d->peak > d->dd)
				d->dd = (d->peak - v) / d->peak;
		}
	}
	if (tf_span_double(&f[1], &d->pnl) < 0)
		d->pnl = NAN;
	if (tf_span_double(&f[2], &d->pnl_pct) < 0)
		d->pnl_pct = NAN;
	return 0;
}

/* ---- fills, positions, round trips ---- */

/* Adds an order id (the span of a string or number in the line, kept as
 * its JSON text behind a length byte) unless ids has it already, is full
 * (TF_DASH_TRIP_IDS) or it is longer than TF_DASH_ID_MAX. An id that
 * finds no memory is left out: the trip stays right without it. */
static void
ids_add(struct ids *ids, const struct tf_span *sp)
{
	const char *t;
	size_t n, i;

	if (sp->kind == TF_JSON_STRING) {
		t = sp->p - 1;	/* the quotes are in the line */
		n = sp->n + 2;
	} else if (sp->kind == TF_JSON_NUMBER) {
		t = sp->p;
		n = sp->n;
	} else {
		return;
	}
	if (n > TF_DASH_ID_MAX || ids->n >= TF_DASH_TRIP_IDS)
		return;
	for (i = 0; i < ids->len; i += 1 + (unsigned char)ids->p[i])
		if ((unsigned char)ids->p[i] == n &&
		    !memcmp(ids->p + i + 1, t, n))
			return;
	if (ids->len + 1 + n > ids->cap) {
		size_t cap = ids->cap ? ids->cap : 64;
		char *p;

		while (cap < ids->len + 1 + n)
			cap *= 2;
		if (!(p = realloc(ids->p, cap)))
			return;
		ids->p = p;
		ids->cap = cap;
	}
	ids->p[ids->len] = (char)n;
	memcpy(ids->p + ids->len + 1, t, n);
	ids->len += 1 + n;
	ids->n++;
}

/* Starts a round trip in direction dir; the ids buffer is kept. */
static void
pos_open(struct pos *p, int dir, int64_t ts)
{
	struct ids ids = p->ids;

	memset(p, 0, sizeof *p);
	p->ids = ids;
	p->ids.len = 0;
	p->ids.n = 0;
	p->dir = dir;
	p->opened = ts;
}

/* Adds qty at price to the trip: raising its size (in) or lowering it. */
static void
pos_add(struct pos *p, int in, double qty, double price, double fee)
{
	if (in) {
		p->q += qty;
		p->in_qty += qty;
		p->in_value += qty * price;
		if (p->q > p->peak)
			p->peak = p->q;
	} else {
		p->q -= qty;
		p->out_qty += qty;
		p->out_value += qty * price;
	}
	p->fees += fee;
}

/* Adds a closed trip's P&L to the profit of its UTC day, keeping the
 * days of the window [latest - TF_DASH_DAYS + 1, latest] in order. The
 * window holds at most TF_DASH_DAYS days, the size of d->days. */
static void
day_add(struct tf_dash *d, int64_t closed, double pnl)
{
	int64_t day = floor_div(closed, DAY_MS);
	size_t lo = 0, hi = d->ndays, drop = 0;
	struct day *y;

	if (d->ndays) {
		int64_t last = d->days[d->ndays - 1].day;

		if (day < last - (TF_DASH_DAYS - 1))
			return;	/* older than the window */
		while (drop < d->ndays &&
		    d->days[drop].day < day - (TF_DASH_DAYS - 1))
			drop++;
		if (drop) {
			memmove(d->days, d->days + drop,
				(d->ndays - drop) * sizeof *d->days);
			d->ndays -= drop;
			hi = d->ndays;
		}
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (d->days[mid].day < day)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == d->ndays || d->days[lo].day != day) {
		memmove(d->days + lo + 1, d->days + lo,
			(d->ndays - lo) * sizeof *d->days);
		memset(&d->days[lo], 0, sizeof d->days[lo]);
		d->days[lo].day = day;
		d->ndays++;
	}
	y = &d->days[lo];
	y->pnl += pnl;
	y->trips++;
	y->wins += pnl > 0;
	y->losses += pnl < 0;
}

/* Closes symbol k's trip at ts into the slots reserved in d->trips and
 * d->cumulative (ring_next succeeded on both) and counts it. */
static void
trip_close(struct tf_dash *d, int32_t k, int64_t ts)
{
	struct sym *s = d->syms[k];
	struct pos *p = &s->pos;
	struct trip *t = ring_next(&d->trips);
	struct point *pt = ring_next(&d->cumulative);
	struct ids spare = t->ids;
	double pnl = p->dir > 0 ? p->out_value - p->in_value :
				  p->in_value - p->out_value;

	pnl -= p->fees;
	/* The trip takes the position's ids; the position the buffer of
	 * the trip it overwrites. */
	t->ids = p->ids;
	p->ids = spare;
	p->ids.len = 0;
	p->ids.n = 0;
	t->sym = k;
	t->dir = p->dir;
	t->qty = p->peak;
	t->entry = p->in_value / p->in_qty;
	t->exit = p->out_value / p->out_qty;
	t->pnl = pnl;
	t->fees = p->fees;
	t->opened = p->opened;
	t->closed = ts;
	ring_commit(&d->trips);
	p->dir = 0;
	p->q = 0;
	s->stop = NAN;

	s->trips++;
	s->pnl += pnl;
	d->rt_count++;
	d->rt_pnl += pnl;
	if (pnl > 0) {
		s->wins++;
		d->rt_wins++;
		d->rt_win_sum += pnl;
	} else if (pnl < 0) {
		s->losses++;
		d->rt_losses++;
		d->rt_loss_sum += pnl;
	}
	if (d->rt_count == 1 || pnl > d->rt_best)
		d->rt_best = pnl;
	if (d->rt_count == 1 || pnl < d->rt_worst)
		d->rt_worst = pnl;
	/* Drawdown of realized P&L, from its running peak (0 at start). */
	if (d->rt_pnl > d->realized_peak)
		d->realized_peak = d->rt_pnl;
	else if (d->realized_peak - d->rt_pnl > d->realized_dd)
		d->realized_dd = d->realized_peak - d->rt_pnl;
	pt->t = ts;
	pt->v = d->rt_pnl;
	ring_commit(&d->cumulative);
	day_add(d, ts, pnl);
}

/* A "stop" field: sets (a number > 0) or clears (null) the symbol's stop;
 * anything else leaves it. */
static void
set_stop(struct sym *s, const struct tf_span *sp)
{
	double v;

	if (sp->kind == TF_JSON_NULL)
		s->stop = NAN;
	else if (tf_span_double(sp, &v) == 0 && v > 0)
		s->stop = v;
}

struct fill {
	int dir;		/* +1 buy, -1 sell */
	double qty, price, fee;
};

/* Reads the fill of a trade_executed line (f: its trade_keys) and finds
 * its symbol: the symbol's index; -1 not a fill, -2 a symbol past
 * max_symbols, -3 ENOMEM. On success the memory a closing trip needs is
 * there, so that applying the fill cannot fail. */
static int32_t
fill_check(struct tf_dash *d, const struct tf_event *ev,
	const struct tf_span *f, struct fill *x)
{
	x->dir = span_is(&f[F_SIDE], "buy") ? 1 :
		span_is(&f[F_SIDE], "sell") ? -1 : 0;
	x->fee = 0;
	if (!x->dir || tf_span_double(&f[F_QTY], &x->qty) < 0 ||
	    !(x->qty > 0) || tf_span_double(&f[F_PRICE], &x->price) < 0 ||
	    !(x->price > 0) || !isfinite(x->qty * x->price))
		return -1;
	if (f[F_FEE].kind != TF_JSON_ABSENT && f[F_FEE].kind != TF_JSON_NULL &&
	    (tf_span_double(&f[F_FEE], &x->fee) < 0 || !(x->fee >= 0)))
		return -1;
	if (!ring_next(&d->trips) || !ring_next(&d->cumulative))
		return -3;
	if (!d->days && !(d->days = malloc(TF_DASH_DAYS * sizeof *d->days)))
		return -3;
	return sym_get(d, &ev->symbol);
}

/* Moves symbol k's position by the fill x (f: the line's trade_keys). */
static void
fill_apply(struct tf_dash *d, int32_t k, const struct fill *x,
	const struct tf_span *f, int64_t ts)
{
	struct sym *s = d->syms[k];
	struct pos *p = &s->pos;
	double eps;

	s->filled = 1;
	s->fees += x->fee;
	d->fees += x->fee;
	if (!p->dir)
		pos_open(p, x->dir, ts);
	if (x->dir == p->dir) {
		pos_add(p, 1, x->qty, x->price, x->fee);
		ids_add(&p->ids, &f[F_ORDER_ID]);
	} else if (x->qty < p->q - (eps = FLAT_EPS * fmax(p->peak, x->qty))) {
		pos_add(p, 0, x->qty, x->price, x->fee);	/* partial exit */
		ids_add(&p->ids, &f[F_ORDER_ID]);
	} else {
		/* Back to 0, or across it: the part that reaches 0 closes
		 * the trip, the rest opens the next, the fee split pro rata
		 * by quantity. */
		double part = x->qty <= p->q + eps ? x->qty : p->q,
			part_fee = part == x->qty ? x->fee :
						    x->fee * (part / x->qty);

		pos_add(p, 0, part, x->price, part_fee);
		ids_add(&p->ids, &f[F_ORDER_ID]);
		trip_close(d, k, ts);
		if (part < x->qty) {
			pos_open(p, x->dir, ts);
			pos_add(p, 1, x->qty - part, x->price,
				x->fee - part_fee);
			ids_add(&p->ids, &f[F_ORDER_ID]);
		}
	}
	/* A stop given on the fill that closes a trip went with it. */
	if (p->dir)
		set_stop(s, &f[F_STOP]);
}

static int
apply_trade(struct tf_dash *d, const char *line, size_t len,
	const struct tf_event *ev, int64_t arrival_ms)
{
	struct tf_span f[6];
	struct entry *e;
	struct fill x;
	int32_t k;

	tf_scan(line, len, &trade_keys, f, NULL);
	/* Everything that can fail first: a line is kept whole or not. */
	if ((k = fill_check(d, ev, f, &x)) == -3 ||
	    !(e = push_line(&d->trades, line, len)))
		return -1;
	if (ev->symbol.kind == TF_JSON_STRING) {
		e->sym_off = (size_t)(ev->symbol.p - line);
		e->sym_len = ev->symbol.n;
		e->sym_escaped = (unsigned char)ev->symbol.escaped;
	}
	d->trade_count++;
	if (k >= 0)
		fill_apply(d, k, &x, f, event_ms(&ev->ts, arrival_ms));
	else if (k == -1)
		d->count.bad_fills++;
	return 0;
}

/* order_placed: kept; its "stop" is its symbol's (set_stop). */
static int
apply_placed(struct tf_dash *d, const char *line, size_t len,
	const struct tf_event *ev)
{
	struct tf_span f[1];
	int32_t k = -1;

	tf_scan(line, len, &order_keys, f, NULL);
	if (f[0].kind != TF_JSON_ABSENT && (k = sym_get(d, &ev->symbol)) == -3)
		return -1;
	if (!push_line(&d->orders, line, len))
		return -1;
	if (k >= 0)
		set_stop(d->syms[k], &f[0]);
	return 0;
}

static int
apply_alert(struct tf_dash *d, const char *line, size_t len,
	const struct tf_event *ev)
{
	char buf[16];
	const char *s;
	struct entry *e;
	size_t n;
	int prio = -1;

	if (!(e = push_line(&d->alerts, line, len)))
		return -1;
	if ((s = span_text(&ev->priority, buf, sizeof buf, &n)))
		prio = tf_priority_parse(s, n);
	e->prio = (signed char)(prio < 0 ? TF_PRIO_LOW : prio);
	return 0;
}

static int
apply_prediction(struct tf_dash *d, const char *line, size_t len,
	const struct tf_event *ev)
{
	struct tf_span f[4];
	struct sym *s = NULL;
	struct pred *p;
	double h, predicted;
	int32_t k;

	if ((k = sym_get(d, &ev->symbol)) == -3)
		return -1;
	if (!(p = ring_next(&d->preds)) || entry_set(&p->e, line, len) < 0)
		return -1;
	s = k >= 0 ? d->syms[k] : NULL;
	tf_scan(line, len, &pred_keys, f, NULL);
	p->sym = k >= 0 ? k : -1;
	p->state = PRED_NEVER;
	p->correct = -1;
	p->actual = NAN;
	p->has_base = tf_span_double(&f[0], &p->base) == 0 && p->base > 0;
	if (!p->has_base && s && s->ticks) {
		p->base = s->price;
		p->has_base = 1;
	}
	p->dir = span_is(&f[1], "up") ? 1 : span_is(&f[1], "down") ? -1 : 0;
	/* No usable direction: the predicted price gives one. */
	if (!p->dir && p->has_base && tf_span_double(&f[3], &predicted) == 0)
		p->dir = predicted > p->base ? 1 : predicted < p->base ? -1 : 0;
	if (s && tf_span_double(&f[2], &h) == 0 && h >= 1 && h <= 1e12) {
		p->state = PRED_PENDING;
		p->due = s->ticks + (uint64_t)h;
		if (p->due < s->due)
			s->due = p->due;
	}
	ring_commit(&d->preds);
	return 0;
}

static int
apply_system(struct tf_dash *d, const char *line, size_t len,
	const struct tf_event *ev, int64_t arrival_ms)
{
	struct tf_span f[1];

	if (entry_set(&d->system, line, len) < 0)
		return -1;
	tf_scan(line, len, &system_keys, f, NULL);
	if (span_is(&f[0], "running"))
		set_bot(d, BOT_RUNNING, event_ms(&ev->ts, arrival_ms));
	else if (span_is(&f[0], "stopped"))
		set_bot(d, BOT_STOPPED, event_ms(&ev->ts, arrival_ms));
	return 0;
}

int
tf_dash_apply(struct tf_dash *d, const char *line, size_t len,
	const struct tf_event *ev, int64_t arrival_ms)
{
	struct tf_event own;
	enum kind kind;
	int rc = 0;

	d->count.events++;
	if (!ev) {
		if (tf_event_scan(line, len, &own, NULL) != TF_SCAN_OK)
			return 0;
		ev = &own;
	}
	if ((kind = type_kind(&ev->type)) == K_NONE)
		return 0;
	switch (kind) {
	case K_PRICE:
	case K_TICKER:
		/* Counts kept itself: a dropped symbol keeps nothing. */
		rc = apply_tick(d, line, len, ev, arrival_ms, kind == K_PRICE);
		if (rc < 0)
			d->count.nomem++;
		return rc;
	case K_PORTFOLIO:
		rc = apply_portfolio(d, line, len, ev, arrival_ms);
		break;
	case K_TRADE:
		rc = apply_trade(d, line, len, ev, arrival_ms);
		break;
	case K_ORDER:
		rc = push_line(&d->orders, line, len) ? 0 : -1;
		break;
	case K_PLACED:
		rc = apply_placed(d, line, len, ev);
		break;
	case K_ALERT:
		rc = apply_alert(d, line, len, ev);
		break;
	case K_PREDICTION:
		rc = apply_prediction(d, line, len, ev);
		break;
	case K_PATTERN:
		rc = push_line(&d->patterns, line, len) ? 0 : -1;
		break;
	case K_SYSTEM:
		rc = apply_system(d, line, len, ev, arrival_ms);
		break;
	case K_BOT_STARTED:
	case K_BOT_STOPPED:
		if ((rc = entry_set(&d->bot_event, line, len)) == 0)
			set_bot(d, kind == K_BOT_STARTED ? BOT_RUNNING :
							   BOT_STOPPED,
				event_ms(&ev->ts, arrival_ms));
		break;
	case K_NONE:
		break;
	}
	if (rc < 0)
		d->count.nomem++;
	else
		d->count.kept++;
	return rc;
}

int
tf_dash_backfill(struct tf_dash *d, const char *path, uint64_t *rows,
	char *err, size_t errlen)
{
	struct tf_query q;
	struct tf_store *st;
	struct tf_cursor *c;
	struct tf_event ev;
	struct tf_row row;
	uint64_t n = 0;
	int rc = -1, r;

	memset(&q, 0, sizeof q);
	if (!(st = tf_store_open(path, TF_STORE_READ, err, errlen)))
		goto out;
	if (!(c = tf_cursor_open(st, &q, err, errlen)))
		goto close_store;
	while ((r = tf_cursor_next(c, &row, err, errlen)) == 1) {
		/* A recording holds good lines; anything else is skipped. */
		if (tf_event_scan(row.line, row.len, &ev, NULL) != TF_SCAN_OK)
			continue;
		if (tf_dash_apply(d, row.line, row.len, &ev,
			    floor_div(row.ts_ns, 1000000)) < 0) {
			tf_seterr(err, errlen, "%s: out of memory at row %lld",
				path, (long long)row.id);
			goto close_cursor;
		}
		n++;
	}
	if (r == 0)
		rc = 0;
close_cursor:
	tf_cursor_close(c);
close_store:
	tf_store_close(st);
out:
	if (rows)
		*rows = n;
	return rc;
}

/* ---- reading ---- */

int
tf_dash_tf_parse(const char *s)
{
	int i;

	for (i = 0; s && i < TF_DASH_NTF; i++)
		if (!strcmp(s, tf_names[i]))
			return i;
	return -1;
}

const char *
tf_dash_tf_name(int tf)
{
	return tf >= 0 && tf < TF_DASH_NTF ? tf_names[tf] : NULL;
}

void
tf_dash_counters(const struct tf_dash *d, struct tf_dash_counters *c)
{
	*c = d->count;
	c->candles = d->candle_slots;
}

static void
add_line(struct tf_buf *b, const struct entry *e)
{
	if (e->len)
		tf_buf_add(b, e->p, e->len);
	else
		tf_buf_add(b, "null", 4);
}

/* [line,...] of every entry of r, oldest first. */
static void
add_lines(struct tf_buf *b, const struct ring *r)
{
	size_t i;

	tf_buf_add(b, "[", 1);
	for (i = 0; i < r->n; i++) {
		if (i)
			tf_buf_add(b, ",", 1);
		add_line(b, ring_at(r, i));
	}
	tf_buf_add(b, "]", 1);
}

/* [[t,v],...] of a ring of points, oldest first. */
static void
add_points(struct tf_buf *b, const struct ring *r)
{
	size_t i;

	tf_buf_add(b, "[", 1);
	for (i = 0; i < r->n; i++) {
		const struct point *pt = ring_at(r, i);

		tf_buf_adds(b, i ? ",[" : "[");
		tf_buf_int(b, pt->t);
		tf_buf_add(b, ",", 1);
		tf_buf_num(b, pt->v);
		tf_buf_add(b, "]", 1);
	}
	tf_buf_add(b, "]", 1);
}

/* [C,...] of the candles of r with t in [from, to) (0: open), at most
 * the last `last` of them (0: all). */
static void
add_candles(struct tf_buf *b, const struct ring *r, int64_t from, int64_t to,
	size_t last)
{
	size_t i = last && r->n > last ? r->n - last : 0;
	int first = 1;

	tf_buf_add(b, "[", 1);
	for (; i < r->n; i++) {
		const struct candle *c = ring_at(r, i);

		if ((from && c->t < from) || (to && c->t >= to))
			continue;
		tf_buf_adds(b, first ? "{\"t\":" : ",{\"t\":");
		tf_buf_int(b, c->t);
		tf_buf_add(b, ",\"o\":", 5);
		tf_buf_num(b, c->o);
		tf_buf_add(b, ",\"h\":", 5);
		tf_buf_num(b, c->h);
		tf_buf_add(b, ",\"l\":", 5);
		tf_buf_num(b, c->l);
		tf_buf_add(b, ",\"c\":", 5);
		tf_buf_num(b, c->c);
		tf_buf_add(b, ",\"v\":", 5);
		tf_buf_num(b, c->v);
		tf_buf_add(b, ",\"n\":", 5);
		tf_buf_int(b, (long long)c->n);
		tf_buf_add(b, "}", 1);
		first = 0;
	}
	tf_buf_add(b, "]", 1);
}

/* Writes the key of symbol s in an object of symbols ("," before all but
 * the first). */
static void
add_sym_key(struct tf_buf *b, const struct sym *s, int first)
{
	if (!first)
		tf_buf_add(b, ",", 1);
	tf_buf_json(b, s->name, s->nlen);
	tf_buf_add(b, ":", 1);
}

static void add_trading(const struct tf_dash *d, struct tf_buf *b);

void
tf_dash_snapshot_members(const struct tf_dash *d, struct tf_buf *b)
{
	size_t i;
	int tf, first;

	/* The symbols a snapshot names: those with a latest line. */
	tf_buf_adds(b, ",\"symbols\":{");
	for (i = 0, first = 1; i < d->nsyms; i++) {
		const struct sym *s = d->syms[i];

		if (!s->latest.len)
			continue;
		add_sym_key(b, s, first);
		add_line(b, &s->latest);
		first = 0;
	}
	tf_buf_adds(b, "},\"candles\":{");
	for (i = 0, first = 1; i < d->nsyms; i++) {
		const struct sym *s = d->syms[i];

		if (!s->latest.len)
			continue;
		add_sym_key(b, s, first);
		tf_buf_add(b, "{", 1);
		for (tf = 0; tf < TF_DASH_NTF; tf++) {
			tf_buf_addf(b, "%s\"%s\":", tf ? "," : "",
				tf_names[tf]);
			add_candles(b, &s->candles[tf], 0, 0,
				d->cfg.snapshot_candles);
		}
		tf_buf_add(b, "}", 1);
		first = 0;
	}
	tf_buf_adds(b, "},\"portfolio\":");
	add_line(b, &d->portfolio);
	tf_buf_adds(b, ",\"equity\":");
	add_points(b, &d->equity);
	tf_buf_adds(b, ",\"trades\":");
	add_lines(b, &d->trades);
	tf_buf_adds(b, ",\"orders\":");
	add_lines(b, &d->orders);
	tf_buf_adds(b, ",\"alerts\":");
	add_lines(b, &d->alerts);
	tf_buf_adds(b, ",\"predictions\":[");
	for (i = 0; i < d->preds.n; i++) {
		const struct pred *p = ring_at(&d->preds, i);

		tf_buf_adds(b, i ? ",{\"event\":" : "{\"event\":");
		add_line(b, &p->e);
		tf_buf_adds(b, ",\"actual\":");
		tf_buf_num(b, p->state == PRED_DONE ? p->actual : NAN);
		tf_buf_adds(b, p->correct < 0 ? ",\"correct\":null}" :
			p->correct ? ",\"correct\":true}" :
				     ",\"correct\":false}");
	}
	tf_buf_adds(b, "],\"patterns\":");
	add_lines(b, &d->patterns);
	tf_buf_adds(b, ",\"system\":");
	add_line(b, &d->system);
	tf_buf_adds(b, ",\"bot\":");
	tf_dash_bot(d, b);
	tf_buf_add(b, ",", 1);
	add_trading(d, b);
	tf_buf_adds(b, ",\"metrics\":");
	tf_dash_metrics(d, b);
}

static const struct sym *
sym_known(const struct tf_dash *d, const char *name)
{
	int32_t k = name ? sym_find(d, name, strlen(name)) : -1;

	return k >= 0 && d->syms[k]->latest.len ? d->syms[k] : NULL;
}

int
tf_dash_candles(const struct tf_dash *d, const char *symbol, int tf,
	int64_t from_ms, int64_t to_ms, struct tf_buf *b)
{
	const struct sym *s = sym_known(d, symbol);

	if (!s || tf < 0 || tf >= TF_DASH_NTF)
		return -1;
	tf_buf_adds(b, "{\"symbol\":");
	tf_buf_json(b, s->name, s->nlen);
	tf_buf_addf(b, ",\"tf\":\"%s\",\"candles\":", tf_names[tf]);
	add_candles(b, &s->candles[tf], from_ms, to_ms, 0);
	tf_buf_add(b, "}", 1);
	return 0;
}

/* Writes {"NAME":[...]} of the last limit entries of r (0: all) for which
 * keep(entry, arg) holds, oldest first. */
static void
add_filtered(struct tf_buf *b, const char *name, const struct ring *r,
	size_t limit, int (*keep)(const struct entry *, const void *),
	const void *arg)
{
	size_t i = r->n, got = 0, start;
	int first = 1;

	/* Walk back to the oldest entry of the answer. */
	while (i > 0 && (!limit || got < limit))
		if (keep(ring_at(r, --i), arg))
			got++;
	start = i;
	tf_buf_addf(b, "{\"%s\":[", name);
	for (i = start; i < r->n; i++) {
		const struct entry *e = ring_at(r, i);

		if (!keep(e, arg))
			continue;
		if (!first)
			tf_buf_add(b, ",", 1);
		add_line(b, e);
		first = 0;
	}
	tf_buf_adds(b, "]}");
}

static int
trade_of(const struct entry *e, const void *arg)
{
	const char *symbol = arg;
	struct tf_span sp;

	if (!symbol)
		return 1;
	if (!e->sym_len)
		return 0;
	sp.p = e->p + e->sym_off;
	sp.n = e->sym_len;
	sp.kind = TF_JSON_STRING;
	sp.escaped = e->sym_escaped;
	return tf_span_eq(&sp, symbol, strlen(symbol));
}

void
tf_dash_trades(const struct tf_dash *d, const char *symbol, size_t limit,
	struct tf_buf *b)
{
	add_filtered(b, "trades", &d->trades, limit, trade_of, symbol);
}

static int
alert_at_least(const struct entry *e, const void *arg)
{
	return e->prio >= *(const int *)arg;
}

void
tf_dash_alerts(const struct tf_dash *d, int min_priority, size_t limit,
	struct tf_buf *b)
{
	add_filtered(b, "alerts", &d->alerts, limit, alert_at_least,
		&min_priority);
}

/* ---- trading ---- */

static void
add_ids(struct tf_buf *b, const struct ids *ids)
{
	size_t i;

	tf_buf_add(b, "[", 1);
	for (i = 0; i < ids->len; i += 1 + (unsigned char)ids->p[i]) {
		if (i)
			tf_buf_add(b, ",", 1);
		tf_buf_add(b, ids->p + i + 1, (unsigned char)ids->p[i]);
	}
	tf_buf_add(b, "]", 1);
}

static const char *
side_name(int dir)
{
	return dir > 0 ? "long" : "short";
}

struct open {
	int64_t t;
	int32_t k;
};

static int
open_cmp(const void *a, const void *b)
{
	const struct open *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->k < y->k ? -1 : x->k > y->k;
}

/* [position,...] of the open ones, opened_ts ascending (then in order of
 * the symbols' first sight). */
static void
add_positions(const struct tf_dash *d, struct tf_buf *b)
{
	struct open *o = malloc((d->nsyms ? d->nsyms : 1) * sizeof *o);
	size_t n = 0, i;

	if (!o) {
		b->failed = 1;
		return;
	}
	for (i = 0; i < d->nsyms; i++)
		if (d->syms[i]->pos.dir) {
			o[n].t = d->syms[i]->pos.opened;
			o[n++].k = (int32_t)i;
		}
	qsort(o, n, sizeof *o, open_cmp);
	tf_buf_add(b, "[", 1);
	for (i = 0; i < n; i++) {
		const struct sym *s = d->syms[o[i].k];
		const struct pos *p = &s->pos;
		double avg = p->in_value / p->in_qty,
			last = s->ticks ? s->price : NAN,
			upnl = p->dir * (last - avg) * p->q;

		tf_buf_adds(b, i ? ",{\"symbol\":" : "{\"symbol\":");
		tf_buf_json(b, s->name, s->nlen);
		tf_buf_addf(b, ",\"side\":\"%s\",\"quantity\":",
			side_name(p->dir));
		tf_buf_num(b, p->q);
		tf_buf_adds(b, ",\"avg_entry\":");
		tf_buf_num(b, avg);
		tf_buf_adds(b, ",\"last\":");
		tf_buf_num(b, last);
		tf_buf_adds(b, ",\"unrealized_pnl\":");
		tf_buf_num(b, upnl);
		tf_buf_adds(b, ",\"unrealized_pct\":");
		tf_buf_num(b, upnl * 100 / (avg * p->q));
		tf_buf_adds(b, ",\"stop\":");
		tf_buf_num(b, s->stop);
		tf_buf_addf(b, ",\"opened_ts\":%lld}", (long long)p->opened);
	}
	tf_buf_add(b, "]", 1);
	free(o);
}

static void
add_trips(const struct tf_dash *d, struct tf_buf *b)
{
	size_t i;

	tf_buf_add(b, "[", 1);
	for (i = 0; i < d->trips.n; i++) {
		const struct trip *t = ring_at(&d->trips, i);
		const struct sym *s = d->syms[t->sym];

		tf_buf_adds(b, i ? ",{\"symbol\":" : "{\"symbol\":");
		tf_buf_json(b, s->name, s->nlen);
		tf_buf_addf(b, ",\"side\":\"%s\",\"quantity\":",
			side_name(t->dir));
		tf_buf_num(b, t->qty);
		tf_buf_adds(b, ",\"entry_price\":");
		tf_buf_num(b, t->entry);
		tf_buf_adds(b, ",\"exit_price\":");
		tf_buf_num(b, t->exit);
		tf_buf_addf(b, ",\"opened_ts\":%lld,\"closed_ts\":%lld,"
			       "\"duration_ms\":%lld,\"pnl\":",
			(long long)t->opened, (long long)t->closed,
			(long long)(t->closed - t->opened));
		tf_buf_num(b, t->pnl);
		tf_buf_adds(b, ",\"fees\":");
		tf_buf_num(b, t->fees);
		tf_buf_adds(b, ",\"pnl_pct\":");
		tf_buf_num(b, t->pnl * 100 / (t->entry * t->qty));
		tf_buf_adds(b, ",\"order_ids\":");
		add_ids(b, &t->ids);
		tf_buf_add(b, "}", 1);
	}
	tf_buf_add(b, "]", 1);
}

/* "YYYY-MM-DD" of a day since 1970-01-01 (proleptic Gregorian, UTC):
 * Howard Hinnant's civil_from_days. */
static void
add_day(struct tf_buf *b, int64_t z)
{
	int64_t era, y;
	unsigned doe, yoe, doy, mp, dd, m;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	dd = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y = (int64_t)yoe + era * 400 + (m <= 2);
	tf_buf_addf(b, "\"%04lld-%02u-%02u\"", (long long)y, m, dd);
}

static void
add_profit(const struct tf_dash *d, struct tf_buf *b)
{
	size_t i;
	int first;

	tf_buf_adds(b, "{\"daily\":[");
	for (i = 0; i < d->ndays; i++) {
		const struct day *y = &d->days[i];

		tf_buf_adds(b, i ? ",{\"day\":" : "{\"day\":");
		add_day(b, y->day);
		tf_buf_adds(b, ",\"pnl\":");
		tf_buf_num(b, y->pnl);
		tf_buf_addf(b, ",\"trips\":%llu,\"wins\":%llu,\"losses\":%llu}",
			(unsigned long long)y->trips,
			(unsigned long long)y->wins,
			(unsigned long long)y->losses);
	}
	tf_buf_adds(b, "],\"by_symbol\":[");
	for (i = 0, first = 1; i < d->nsyms; i++) {
		const struct sym *s = d->syms[i];

		if (!s->filled)
			continue;
		tf_buf_adds(b, first ? "{\"symbol\":" : ",{\"symbol\":");
		tf_buf_json(b, s->name, s->nlen);
		tf_buf_adds(b, ",\"pnl\":");
		tf_buf_num(b, s->pnl);
		tf_buf_addf(b, ",\"trips\":%llu,\"wins\":%llu,\"losses\":%llu,"
			       "\"fees\":",
			(unsigned long long)s->trips,
			(unsigned long long)s->wins,
			(unsigned long long)s->losses);
		tf_buf_num(b, s->fees);
		tf_buf_add(b, "}", 1);
		first = 0;
	}
	tf_buf_adds(b, "],\"cumulative\":");
	add_points(b, &d->cumulative);
	tf_buf_add(b, "}", 1);
}

/* "positions":[...],"round_trips":[...],"profit":{...} */
static void
add_trading(const struct tf_dash *d, struct tf_buf *b)
{
	tf_buf_adds(b, "\"positions\":");
	add_positions(d, b);
	tf_buf_adds(b, ",\"round_trips\":");
	add_trips(d, b);
	tf_buf_adds(b, ",\"profit\":");
	add_profit(d, b);
}

void
tf_dash_trading(const struct tf_dash *d, struct tf_buf *b)
{
	tf_buf_add(b, "{", 1);
	add_trading(d, b);
	tf_buf_add(b, "}", 1);
}

void
tf_dash_positions(const struct tf_dash *d, struct tf_buf *b)
{
	tf_buf_adds(b, "{\"positions\":");
	add_positions(d, b);
	tf_buf_add(b, "}", 1);
}

/* ,"NAME":v (null when n is 0) */
static void
add_field(struct tf_buf *b, const char *name, double v, uint64_t n)
{
	tf_buf_addf(b, ",\"%s\":", name);
	tf_buf_num(b, n ? v : NAN);
}

void
tf_dash_metrics(const struct tf_dash *d, struct tf_buf *b)
{
	tf_buf_addf(b, "{\"trades\":%llu,\"round_trips\":%llu,\"wins\":%llu,"
		       "\"losses\":%llu",
		(unsigned long long)d->trade_count,
		(unsigned long long)d->rt_count,
		(unsigned long long)d->rt_wins,
		(unsigned long long)d->rt_losses);
	add_field(b, "win_rate", (double)d->rt_wins / (double)d->rt_count,
		d->rt_count);
	add_field(b, "realized_pnl", d->rt_pnl, 1);
	add_field(b, "fees", d->fees, 1);
	add_field(b, "profit_factor", d->rt_win_sum / -d->rt_loss_sum,
		d->rt_losses);
	add_field(b, "avg_win", d->rt_win_sum / (double)d->rt_wins,
		d->rt_wins);
	add_field(b, "avg_loss", d->rt_loss_sum / (double)d->rt_losses,
		d->rt_losses);
	add_field(b, "best", d->rt_best, d->rt_count);
	add_field(b, "worst", d->rt_worst, d->rt_count);
	add_field(b, "total_value", d->total_value, 1);
	add_field(b, "pnl", d->pnl, 1);
	add_field(b, "pnl_pct", d->pnl_pct, 1);
	add_field(b, "max_drawdown", d->dd, 1);
	add_field(b, "max_drawdown_value", d->dd_value, 1);
	add_field(b, "max_drawdown_realized", d->realized_dd, 1);
	add_field(b, "peak", d->peak, d->has_peak);
	tf_buf_add(b, "}", 1);
}

void
tf_dash_engine_status(const struct tf_dash *d, struct tf_buf *b)
{
	add_line(b, &d->system);
}

void
tf_dash_bot(const struct tf_dash *d, struct tf_buf *b)
{
	static const char *const names[] = { "unknown", "running", "stopped" };

	tf_buf_addf(b, "{\"state\":\"%s\",\"since\":", names[d->bot]);
	if (d->has_since)
		tf_buf_addf(b, "%lld", (long long)d->bot_since);
	else
		tf_buf_add(b, "null", 4);
	tf_buf_adds(b, ",\"event\":");
	add_line(b, &d->bot_event);
	tf_buf_add(b, "}", 1);
}
