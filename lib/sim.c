/* sim.c: the paper-trading engine of tf-sim. Geometric Brownian motion
 * prices, an SMA-crossover strategy with a paper portfolio, a rolling AR(3)
 * least-squares model, double top/bottom and range-breakout detection. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sim.h"

const char tf_sim_strategy_name[] = "sma_crossover";
const char tf_sim_model_name[] = "ar3-ols";

/* The engine's fixed parameters; tf-sim(1) documents each one. */
#define HIST 128		/* prices kept per symbol */
#define QCAP 64			/* pending events */
#define SMA_FAST 10
#define SMA_SLOW 40
#define SMA_BAND 3.0		/* crossing margin, in volatilities */
#define POSITION 0.20		/* a buy's share of total value */
#define MIN_NOTIONAL 10.0	/* smallest order, in the quote currency */
#define STOP_LOSS 0.03		/* the stop: 3% under entry, on the grid */
#define MODEL_EVERY 50		/* price steps of a symbol between fits */
#define MODEL_MIN 64		/* returns needed before the first fit */
#define MODEL_MAX 100		/* returns in the rolling window */
#define MODEL_HORIZON 10	/* price steps ahead */
#define PATTERN_WINDOW 60	/* prices searched for a pattern */
#define PATTERN_PIVOT 3		/* a swing point beats 3 prices each side */
#define PATTERN_GAP 8		/* steps between the two bottoms or tops */
#define PATTERN_COOLDOWN 100	/* steps before the next pattern */
#define RANGE_LEN 30		/* prices in a range before its breakout */
#define MOVE_LEN 10		/* steps of a big move */
#define MOVE_SIGMAS 3.0		/* big move: 3 sigma over MOVE_LEN steps */
#define MOVE_COOLDOWN 20
#define DRAWDOWN_HIGH 0.05
#define DRAWDOWN_CRITICAL 0.10
#define PORTFOLIO_EVERY 20	/* price steps between portfolio_updates */
#define SPREAD 0.0001		/* half spread, as a share of the price */
#define TICK_NOTIONAL 25000.0	/* typical traded value per price step */

enum kind {
	EV_PRICE,
	EV_PLACED,
	EV_FILLED,
	EV_CANCELLED,
	EV_PORTFOLIO,
	EV_ALERT,
	EV_PREDICTION,
	EV_PATTERN,
	EV_STATUS,
	EV_HEARTBEAT,
	EV_STARTED,
	EV_STOPPED,
};

enum side { BUY, SELL };
enum reason { R_CROSS, R_STOP_LOSS };
enum pattern { P_DOUBLE_BOTTOM, P_DOUBLE_TOP, P_BREAKOUT, P_BREAKDOWN };

static const char *const reason_name[] = { "sma_cross", "stop_loss" };
static const char *const pattern_name[] = {
	"double_bottom", "double_top", "range_breakout", "range_breakdown",
};
static const char *const prio_name[] = { "low", "medium", "high",
	"critical" };

struct order {
	uint64_t id;
	enum side side;
	enum reason reason;
	double qty, price, fee;
	double stop;		/* a buy's stop loss price, else 0 */
};

struct ev {
	enum kind kind;
	int sym;		/* index, or -1 */
	uint64_t order;		/* the order an event belongs to, or 0 */
	union {
		struct {
			double price, change, volume, bid, ask;
		} px;
		struct order ord;
		struct {
			int prio;
			const char *title;
			char msg[160];
		} alert;
		struct {
			double price, predicted, conf;
		} pred;
		struct {
			enum pattern pattern;
			double conf, entry, target, stop;
		} pat;
		struct {
			const char *reason;
		} bot;
	} u;
};

struct sym {
	char name[TF_SIM_SYMBOL_MAX];
	char base[TF_SIM_ASSET_MAX];
	int dp;			/* decimals of its prices */
	double scale;		/* 10^dp */
	int qdp;		/* decimals of its quantities */
	double logp;		/* the walk, unrounded */
	double open, price, bid, ask, volume;
	double hist[HIST];	/* printed prices, hist[n % HIST] newest */
	double ret[HIST];	/* log returns into them */
	uint64_t n;		/* price steps so far */
	double qty, entry;	/* position and its buy price */
	double stop;		/* its stop loss, on the price grid */
	uint64_t strat_n;	/* steps the strategy has seen since a reset */
	double prev_fast, prev_slow;
	uint64_t pattern_after, move_after;
};

struct tf_sim {
	struct tf_sim_config cfg;
	char quote[TF_SIM_ASSET_MAX];
	struct sym *sym;
	int nsym;
	uint64_t rng[4];
	double spare;		/* the polar method's second normal */
	int has_spare;
	uint64_t steps, orders, events;
	int running;
	/* portfolio */
	double cash, peak;
	int dd_level;		/* 0, 1 past DRAWDOWN_HIGH, 2 past CRITICAL */
	/* periodic events on the event clock */
	int clock_started;
	int64_t next_status, next_heartbeat;
	uint64_t window_events, window_work;
	/* pending events, a ring */
	struct ev q[QCAP];
	int qhead, qlen;
	int lead;		/* announcements first in line */
};

/* Random numbers: xoshiro256** seeded through splitmix64. */

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t
rng_next(struct tf_sim *sim)
{
	uint64_t *s = sim->rng;
	uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

/* Uniform in (0, 1): never 0, so log() stays finite. */
static double
uniform(struct tf_sim *sim)
{
	return ((rng_next(sim) >> 11) + 0.5) * 0x1.0p-53;
}

static double
normal(struct tf_sim *sim)
{
	double u, v, s;

	if (sim->has_spare) {
		sim->has_spare = 0;
		return sim->spare;
	}
	do {
		u = 2 * uniform(sim) - 1;
		v = 2 * uniform(sim) - 1;
		s = u * u + v * v;
	} while (s >= 1 || s == 0);
	s = sqrt(-2 * log(s) / s);
	sim->spare = v * s;
	sim->has_spare = 1;
	return u * s;
}

/* Symbols */

static const struct {
	const char *name;
	double price;
} known[] = {
	{ "BTC-USD", 65000 }, { "ETH-USD", 3500 }, { "SOL-USD", 150 },
	{ "BNB-USD", 600 }, { "XRP-USD", 0.6 }, { "ADA-USD", 0.45 },
	{ "DOGE-USD", 0.15 }, { "AVAX-USD", 35 }, { "LINK-USD", 15 },
	{ "DOT-USD", 7 }, { "LTC-USD", 80 },
};

static double
default_price(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof known / sizeof known[0]; i++)
		if (strcmp(known[i].name, name) == 0)
			return known[i].price;
	return 100;
}

void
tf_sim_config_init(struct tf_sim_config *cfg)
{
	int i;

	memset(cfg, 0, sizeof *cfg);
	cfg->nsymbols = 3;
	for (i = 0; i < 3; i++) {
		snprintf(cfg->symbols[i].name, sizeof cfg->symbols[i].name,
			"%s", known[i].name);
		cfg->symbols[i].price = known[i].price;
	}
	cfg->drift = 0;
	cfg->volatility = 0.002;
	cfg->cash = 100000;
	cfg->fee = 0.001;
	cfg->seed = 1;
	cfg->heartbeat_ms = 5000;
	cfg->status_ms = 10000;
}

/* Splits "BASE-QUOTE" (or "BASE", quoted in USD). */
static void
split_symbol(const char *name, char *base, char *quote)
{
	const char *dash = strrchr(name, '-');

	if (!dash) {
		snprintf(base, TF_SIM_ASSET_MAX, "%s", name);
		snprintf(quote, TF_SIM_ASSET_MAX, "USD");
		return;
	}
	snprintf(base, TF_SIM_ASSET_MAX, "%.*s", (int)(dash - name), name);
	snprintf(quote, TF_SIM_ASSET_MAX, "%s", dash + 1);
}

static int
valid_symbol(const char *s)
{
	const char *dash = strrchr(s, '-');

	if (!*s || *s == '-' || (dash && !dash[1]))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
			(*s >= '0' && *s <= '9') || *s == '-' || *s == '.' ||
			*s == '_' || *s == '/'))
			return 0;
	return 1;
}

/* Checks the symbols of cfg: names, prices, one quote, distinct bases. */
static int
check_symbols(const struct tf_sim_config *cfg, char *quote, char *err,
	size_t errlen)
{
	char base[TF_SIM_MAX_SYMBOLS][TF_SIM_ASSET_MAX], q[TF_SIM_ASSET_MAX];
	int i, j;

	if (cfg->nsymbols < 1 || cfg->nsymbols > TF_SIM_MAX_SYMBOLS) {
		tf_seterr(err, errlen, "between 1 and %d needed",
			TF_SIM_MAX_SYMBOLS);
		return -1;
	}
	for (i = 0; i < cfg->nsymbols; i++) {
		const struct tf_sim_symbol *s = &cfg->symbols[i];

		if (!valid_symbol(s->name)) {
			tf_seterr(err, errlen,
				"'%s': expected BASE-QUOTE of letters, "
				"digits, '.', '_' or '/'", s->name);
			return -1;
		}
		if (!(s->price >= 1e-6 && s->price <= 1e9)) {
			tf_seterr(err, errlen,
				"%s: price must be between 0.000001 "
				"and 1000000000", s->name);
			return -1;
		}
		split_symbol(s->name, base[i], q);
		if (i == 0) {
			snprintf(quote, TF_SIM_ASSET_MAX, "%s", q);
		} else if (strcmp(q, quote) != 0) {
			tf_seterr(err, errlen,
				"%s: every symbol must be quoted in %s",
				s->name, quote);
			return -1;
		}
		if (strcmp(base[i], quote) == 0) {
			tf_seterr(err, errlen, "%s: base is the quote",
				s->name);
			return -1;
		}
		for (j = 0; j < i; j++)
			if (strcmp(base[j], base[i]) == 0) {
				tf_seterr(err, errlen,
					"%s: %s appears twice",
					s->name, base[i]);
				return -1;
			}
	}
	return 0;
}

int
tf_sim_parse_symbols(struct tf_sim_config *cfg, const char *list, char *err,
	size_t errlen)
{
	struct tf_sim_config c = *cfg;
	char quote[TF_SIM_ASSET_MAX];
	const char *p = list;

	c.nsymbols = 0;
	for (;;) {
		size_t n = strcspn(p, ","), namelen;
		const char *colon = memchr(p, ':', n);
		struct tf_sim_symbol *s;

		if (c.nsymbols == TF_SIM_MAX_SYMBOLS) {
			tf_seterr(err, errlen, "more than %d",
				TF_SIM_MAX_SYMBOLS);
			return -1;
		}
		s = &c.symbols[c.nsymbols++];
		namelen = colon ? (size_t)(colon - p) : n;
		if (namelen == 0 || namelen >= sizeof s->name) {
			tf_seterr(err, errlen,
				"'%.*s': a name of 1 to %d characters "
				"expected", (int)n, p, TF_SIM_SYMBOL_MAX - 1);
			return -1;
		}
		memcpy(s->name, p, namelen);
		s->name[namelen] = 0;
		if (colon) {
			char num[64], *end;
			size_t len = n - namelen - 1;

			if (len == 0 || len >= sizeof num) {
				tf_seterr(err, errlen,
					"'%.*s': a price expected "
					"after ':'", (int)n, p);
				return -1;
			}
			memcpy(num, colon + 1, len);
			num[len] = 0;
			s->price = strtod(num, &end);
			if (*end || end == num) {
				tf_seterr(err, errlen,
					"'%s': not a price", num);
				return -1;
			}
		} else {
			s->price = default_price(s->name);
		}
		p += n;
		if (!*p)
			break;
		p++;
	}
	if (check_symbols(&c, quote, err, errlen) < 0)
		return -1;
	*cfg = c;
	return 0;
}

/* Numbers */

static const double pow10s[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
	1e8 };

static double
round_to(double v, double scale)
{
	return round(v * scale) / scale;
}

/* Decimals for a symbol's prices, from its starting price: 2 from 10 up,
 * then one more per decade below, at most 8. Its quantities get enough
 * that one unit of the last is worth 0.001 to 0.01, 0 to 8 of them. */
static int
price_decimals(double p)
{
	int dp;

	if (p >= 10)
		return 2;
	dp = 3 - (int)floor(log10(p));
	return dp > 8 ? 8 : dp;
}

static int
quantity_decimals(double p)
{
	int dp = (int)floor(log10(p)) + 3;

	return dp < 0 ? 0 : dp > 8 ? 8 : dp;
}

static double
sma(const struct sym *s, int len)
{
	double sum = 0;
	int i;

	for (i = 0; i < len; i++)
		sum += s->hist[(s->n - i) % HIST];
	return sum / len;
}

/* The last n prices of s, oldest first, into w. */
static void
window(const struct sym *s, int n, double *w)
{
	int i;

	for (i = 0; i < n; i++)
		w[i] = s->hist[(s->n - (n - 1) + i) % HIST];
}

/* The last n log returns of s, oldest first, into r. */
static void
returns(const struct sym *s, int n, double *r)
{
	int i;

	for (i = 0; i < n; i++)
		r[i] = s->ret[(s->n - (n - 1) + i) % HIST];
}

/* Standard deviation of the last n log returns of s. */
static double
return_sd(const struct sym *s, int n)
{
	double sum = 0, sum2 = 0, r, var;
	int i;

	for (i = 0; i < n; i++) {
		r = s->ret[(s->n - i) % HIST];
		sum += r;
		sum2 += r * r;
	}
	var = (sum2 - sum * sum / n) / (n - 1);
	return var > 0 && isfinite(var) ? sqrt(var) : 0;
}

/* The queue */

static struct ev *
push(struct tf_sim *sim, enum kind kind, int sym)
{
	struct ev *e;

	if (sim->qlen == QCAP)	/* cannot happen: a step adds a dozen */
		return NULL;
	e = &sim->q[(sim->qhead + sim->qlen++) % QCAP];
	memset(e, 0, sizeof *e);
	e->kind = kind;
	e->sym = sym;
	return e;
}

/* Inserts an event at position pos of the queue (0 = next out). */
static struct ev *
insert(struct tf_sim *sim, int pos, enum kind kind)
{
	int i;
	struct ev *e;

	if (sim->qlen == QCAP)
		return NULL;
	for (i = sim->qlen; i > pos; i--)
		sim->q[(sim->qhead + i) % QCAP] =
			sim->q[(sim->qhead + i - 1) % QCAP];
	sim->qlen++;
	e = &sim->q[(sim->qhead + pos) % QCAP];
	memset(e, 0, sizeof *e);
	e->kind = kind;
	e->sym = -1;
	return e;
}

static void
alert(struct tf_sim *sim, int sym, int prio, const char *title,
	const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
alert(struct tf_sim *sim, int sym, int prio, const char *title,
	const char *fmt, ...)
{
	struct ev *e = push(sim, EV_ALERT, sym);
	va_list ap;

	if (!e)
		return;
	e->u.alert.prio = prio;
	e->u.alert.title = title;
	va_start(ap, fmt);
	vsnprintf(e->u.alert.msg, sizeof e->u.alert.msg, fmt, ap);
	va_end(ap);
}

/* The portfolio */

static double
total_value(const struct tf_sim *sim)
{
	double v = sim->cash;
	int i;

	for (i = 0; i < sim->nsym; i++)
		v += sim->sym[i].qty * sim->sym[i].price;
	return v;
}

/* Applies a fill when its trade_executed goes out; returns its P&L. */
static double
apply_fill(struct tf_sim *sim, struct sym *s, const struct order *o)
{
	double pnl;

	if (o->side == BUY) {
		sim->cash -= o->qty * o->price + o->fee;
		s->qty += o->qty;
		s->entry = o->price;
		s->stop = o->stop;
		return -o->fee;
	}
	sim->cash += o->qty * o->price - o->fee;
	pnl = o->qty * (o->price - s->entry) - o->fee;
	s->qty = 0;
	s->entry = 0;
	return pnl;
}

/* Queues order_placed, trade_executed and portfolio_update of one market
 * order; the fill changes the portfolio when it is written out. */
static void
order(struct tf_sim *sim, int i, enum side side, double qty,
	enum reason reason)
{
	struct sym *s = &sim->sym[i];
	struct order o;
	struct ev *e;

	o.id = ++sim->orders;
	o.side = side;
	o.reason = reason;
	o.qty = qty;
	o.price = side == BUY ? s->ask : s->bid;
	o.fee = round_to(qty * o.price * sim->cfg.fee, 100);
	/* The stop is written on the buy and tested as written, so what a
	 * dashboard shows is the price that sells (bids are on the grid). */
	o.stop = side == BUY ? round_to(o.price * (1 - STOP_LOSS), s->scale) :
			       0;
	if ((e = push(sim, EV_PLACED, i))) {
		e->order = o.id;
		e->u.ord = o;
	}
	if ((e = push(sim, EV_FILLED, i))) {
		e->order = o.id;
		e->u.ord = o;
	}
	if (reason == R_STOP_LOSS) {
		alert(sim, i, 2, "Stop loss",
			"sold %s at %.*f, %.1f%% under entry %.*f", s->name,
			s->dp, o.price, 100 * (1 - o.price / s->entry), s->dp,
			s->entry);
		if (sim->qlen)	/* the alert goes with its order */
			sim->q[(sim->qhead + sim->qlen - 1) % QCAP].order =
				o.id;
	}
	push(sim, EV_PORTFOLIO, -1);
}

/* The strategy: buy POSITION of total value when the fast SMA crosses
 * above the slow one, sell all when it crosses back or the stop loss
 * hits. Its averages follow the prices while the bot is stopped; only its
 * orders wait. */
static void
strategy(struct tf_sim *sim, int i)
{
	struct sym *s = &sim->sym[i];
	double fast, slow, band, notional, qty;

	if (++s->strat_n < SMA_SLOW)
		return;
	fast = sma(s, SMA_FAST);
	slow = sma(s, SMA_SLOW);
	band = SMA_BAND * sim->cfg.volatility;
	if (s->strat_n > SMA_SLOW && sim->running) {
		int up = s->prev_fast <= s->prev_slow * (1 + band) &&
			fast > slow * (1 + band);
		int down = s->prev_fast >= s->prev_slow * (1 - band) &&
			fast < slow * (1 - band);

		if (s->qty > 0 && s->bid <= s->stop) {
			order(sim, i, SELL, s->qty, R_STOP_LOSS);
		} else if (s->qty > 0 && down) {
			order(sim, i, SELL, s->qty, R_CROSS);
		} else if (s->qty == 0 && up) {
			notional = POSITION * total_value(sim);
			if (notional > (sim->cash - 0.01) / (1 + sim->cfg.fee))
				notional = (sim->cash - 0.01) /
					(1 + sim->cfg.fee);
			qty = floor(notional / s->ask * pow10s[s->qdp]) /
				pow10s[s->qdp];
			if (qty * s->ask >= MIN_NOTIONAL)
				order(sim, i, BUY, qty, R_CROSS);
		}
	}
	s->prev_fast = fast;
	s->prev_slow = slow;
}

/* The model: AR(3) with intercept, fitted by least squares on the last
 * MODEL_MAX log returns, iterated MODEL_HORIZON steps ahead. */
static int
solve4(double a[4][5], double x[4])
{
	int i, j, k, p;
	double t;

	for (i = 0; i < 4; i++) {
		p = i;
		for (j = i + 1; j < 4; j++)
			if (fabs(a[j][i]) > fabs(a[p][i]))
				p = j;
		if (fabs(a[p][i]) < 1e-300)
			return -1;
		for (k = 0; k < 5; k++) {
			t = a[i][k];
			a[i][k] = a[p][k];
			a[p][k] = t;
		}
		for (j = i + 1; j < 4; j++) {
			t = a[j][i] / a[i][i];
			for (k = i; k < 5; k++)
				a[j][k] -= t * a[i][k];
		}
	}
	for (i = 3; i >= 0; i--) {
		t = a[i][4];
		for (k = i + 1; k < 4; k++)
			t -= a[i][k] * x[k];
		x[i] = t / a[i][i];
	}
	return 0;
}

static void
model(struct tf_sim *sim, int i)
{
	struct sym *s = &sim->sym[i];
	double r[MODEL_MAX], a[4][5], b[4], x[4];
	double ssr = 0, mu = 0, l[3], f, sd, z, conf, predicted;
	int n, t, j, k, h;
	struct ev *e;

	n = s->n >= MODEL_MAX ? MODEL_MAX : (int)s->n;
	if (n < MODEL_MIN || s->n % MODEL_EVERY != 0)
		return;
	returns(s, n, r);
	memset(a, 0, sizeof a);
	for (t = 3; t < n; t++) {
		x[0] = 1;
		x[1] = r[t - 1];
		x[2] = r[t - 2];
		x[3] = r[t - 3];
		for (j = 0; j < 4; j++) {
			for (k = 0; k < 4; k++)
				a[j][k] += x[j] * x[k];
			a[j][4] += x[j] * r[t];
		}
	}
	/* A touch of ridge keeps a flat series solvable. */
	for (j = 1; j < 4; j++)
		a[j][j] += 1e-12 + 1e-6 * a[j][j];
	if (solve4(a, b) < 0)
		return;
	for (t = 3; t < n; t++) {
		f = b[0] + b[1] * r[t - 1] + b[2] * r[t - 2] + b[3] * r[t - 3];
		ssr += (r[t] - f) * (r[t] - f);
	}
	sd = sqrt(ssr / (n - 3 - 4));
	l[0] = r[n - 1];
	l[1] = r[n - 2];
	l[2] = r[n - 3];
	for (h = 0; h < MODEL_HORIZON; h++) {
		f = b[0] + b[1] * l[0] + b[2] * l[1] + b[3] * l[2];
		mu += f;
		l[2] = l[1];
		l[1] = l[0];
		l[0] = f;
	}
	if (!(sd > 0) || !isfinite(sd) || !isfinite(mu))
		return;
	/* The chance the move has the predicted sign, the error taken as
	 * normal with the residuals' spread over the horizon. */
	z = fabs(mu) / (sd * sqrt(MODEL_HORIZON));
	conf = 0.5 * erfc(-z / sqrt(2));
	predicted = round_to(s->price * exp(mu), s->scale);
	if (!isfinite(predicted) || predicted <= 0)
		return;
	if (!(e = push(sim, EV_PREDICTION, i)))
		return;
	e->u.pred.price = s->price;
	e->u.pred.predicted = predicted;
	e->u.pred.conf = conf > 0.999 ? 0.999 : conf;
}

/* Patterns. Both shapes are found on y = price (bullish) or y = -price
 * (bearish), so one search serves a pattern and its mirror. */
static int
pivot_low(const double *y, int j)
{
	int d;

	for (d = 1; d <= PATTERN_PIVOT; d++)
		if (y[j - d] < y[j] || y[j + d] <= y[j])
			return 0;
	return 1;
}

/* A double bottom of y confirmed by the last price breaking above the
 * neckline: fills entry/target/stop in y and returns a confidence, or 0. */
static double
double_bottom(const double *y, int n, double sigma, double *entry,
	double *target, double *stop)
{
	int j1, j2, j;
	double lo, neck, height, diff, cur = y[n - 1];

	for (j2 = n - 2 - PATTERN_PIVOT; j2 >= PATTERN_PIVOT; j2--)
		if (pivot_low(y, j2))
			break;
	if (j2 < PATTERN_PIVOT)
		return 0;
	for (j1 = j2 - PATTERN_GAP; j1 >= PATTERN_PIVOT; j1--)
		if (pivot_low(y, j1))
			break;
	if (j1 < PATTERN_PIVOT)
		return 0;
	lo = fmin(y[j1], y[j2]);
	neck = y[j1];
	for (j = j1; j <= j2; j++)
		neck = fmax(neck, y[j]);
	/* Not yet broken out, nor under the bottoms, since the second. */
	for (j = j2 + 1; j < n - 1; j++)
		if (y[j] > neck || y[j] < lo)
			return 0;
	if (!(cur > neck))
		return 0;
	height = neck - lo;
	diff = fabs(y[j1] - y[j2]);
	if (height < 4 * sigma * fabs(lo) || diff > 1.5 * sigma * fabs(lo))
		return 0;
	*entry = cur;
	*target = neck + height;
	*stop = lo;
	return 0.5 + 0.25 * (1 - diff / (1.5 * sigma * fabs(lo))) +
		0.2 * fmin(1, (height / (sigma * fabs(lo)) - 4) / 8);
}

/* A breakout above a tight range of RANGE_LEN prices. */
static double
range_breakout(const double *y, int n, double sigma, double *entry,
	double *target, double *stop)
{
	double hi = y[n - 1 - RANGE_LEN], lo = hi, width, limit, cur = y[n - 1];
	int j;

	for (j = n - 1 - RANGE_LEN; j < n - 1; j++) {
		hi = fmax(hi, y[j]);
		lo = fmin(lo, y[j]);
	}
	width = hi - lo;
	limit = 1.5 * sigma * sqrt(RANGE_LEN) * fabs(hi + lo) / 2;
	if (!(cur > hi) || width > limit || width <= 0)
		return 0;
	*entry = cur;
	*target = cur + width;
	*stop = (hi + lo) / 2;
	return 0.5 + 0.4 * (1 - width / limit);
}

static void
patterns(struct tf_sim *sim, int i)
{
	struct sym *s = &sim->sym[i];
	double w[PATTERN_WINDOW], y[PATTERN_WINDOW], sigma, conf;
	double entry, target, stop;
	int j, p, sign;
	struct ev *e;

	if (s->n < PATTERN_WINDOW || s->n < s->pattern_after)
		return;
	window(s, PATTERN_WINDOW, w);
	if (!((sigma = return_sd(s, PATTERN_WINDOW - 1)) > 1e-9))
		return;
	for (p = 0; p < 4; p++) {
		sign = p == P_DOUBLE_BOTTOM || p == P_BREAKOUT ? 1 : -1;
		for (j = 0; j < PATTERN_WINDOW; j++)
			y[j] = sign * w[j];
		if (p == P_DOUBLE_BOTTOM || p == P_DOUBLE_TOP)
			conf = double_bottom(y, PATTERN_WINDOW, sigma, &entry,
				&target, &stop);
		else
			conf = range_breakout(y, PATTERN_WINDOW, sigma, &entry,
				&target, &stop);
		if (conf <= 0)
			continue;
		entry = round_to(sign * entry, s->scale);
		target = round_to(sign * target, s->scale);
		stop = round_to(sign * stop, s->scale);
		/* Rounding must leave them on their sides of the entry. */
		if (!(sign * (target - entry) > 0) ||
			!(sign * (entry - stop) > 0) || stop <= 0 ||
			target <= 0)
			continue;
		if (!(e = push(sim, EV_PATTERN, i)))
			return;
		e->u.pat.pattern = p;
		e->u.pat.conf = fmin(conf, 0.95);
		e->u.pat.entry = entry;
		e->u.pat.target = target;
		e->u.pat.stop = stop;
		alert(sim, i, conf >= 0.75 ? 1 : 0, "Pattern",
			"%s on %s, confidence %.2f: entry %.*f, target %.*f, "
			"stop %.*f", pattern_name[p], s->name, fmin(conf, 0.95),
			s->dp, entry, s->dp, target, s->dp, stop);
		s->pattern_after = s->n + PATTERN_COOLDOWN;
		return;
	}
}

/* A big move: the last MOVE_LEN steps beyond MOVE_SIGMAS of the recent
 * spread of returns (high past one sigma more). */
static void
big_move(struct tf_sim *sim, int i)
{
	struct sym *s = &sim->sym[i];
	double sigma, r, limit;

	if (s->n < 30 || s->n < s->move_after)
		return;
	if (!((sigma = return_sd(s, 30)) > 1e-9))
		return;
	r = log(s->price / s->hist[(s->n - MOVE_LEN) % HIST]);
	limit = MOVE_SIGMAS * sigma * sqrt(MOVE_LEN);
	if (fabs(r) <= limit)
		return;
	alert(sim, i, fabs(r) > limit * (MOVE_SIGMAS + 1) / MOVE_SIGMAS ? 2 : 1,
		"Big move", "%s %s %.2f%% in %d steps, to %.*f", s->name,
		r > 0 ? "rose" : "fell", 100 * fabs(expm1(r)), MOVE_LEN, s->dp,
		s->price);
	s->move_after = s->n + MOVE_COOLDOWN;
}

static void
drawdown(struct tf_sim *sim)
{
	double v = total_value(sim), dd;
	int level;

	if (v > sim->peak)
		sim->peak = v;
	dd = 1 - v / sim->peak;
	level = dd >= DRAWDOWN_CRITICAL ? 2 : dd >= DRAWDOWN_HIGH ? 1 : 0;
	if (level > sim->dd_level) {
		alert(sim, -1, level + 1, "Drawdown",
			"portfolio %.1f%% under its peak of %.2f %s", 100 * dd,
			sim->peak, sim->quote);
		sim->dd_level = level;
	} else if (dd < DRAWDOWN_HIGH / 2) {
		sim->dd_level = 0;
	}
}

/* One price step of the next symbol, round robin, and what follows from
 * it. */
static void
step(struct tf_sim *sim)
{
	int i = (int)(sim->steps++ % (uint64_t)sim->nsym);
	struct sym *s = &sim->sym[i];
	double sigma = sim->cfg.volatility, z, half, lo = 1 / s->scale;
	struct ev *e;

	z = normal(sim);
	s->logp += sim->cfg.drift - sigma * sigma / 2 + sigma * z;
	if (s->logp > log(1e12))
		s->logp = log(1e12);
	if (s->logp < log(lo))
		s->logp = log(lo);
	s->price = fmax(round_to(exp(s->logp), s->scale), lo);
	half = fmax(s->price * SPREAD, lo);
	s->bid = fmax(round_to(s->price - half, s->scale), lo);
	s->ask = round_to(s->price + half, s->scale);
	/* Volume: lognormal around TICK_NOTIONAL, more on bigger moves. */
	s->volume += TICK_NOTIONAL * exp(0.5 * normal(sim)) *
		(0.5 + fabs(z)) / s->price;
	s->n++;
	s->ret[s->n % HIST] = log(s->price / s->hist[(s->n - 1) % HIST]);
	s->hist[s->n % HIST] = s->price;
	if ((e = push(sim, EV_PRICE, i))) {
		e->u.px.price = s->price;
		e->u.px.change = 100 * (s->price / s->open - 1);
		e->u.px.volume = s->volume;
		e->u.px.bid = s->bid;
		e->u.px.ask = s->ask;
	}
	big_move(sim, i);
	patterns(sim, i);
	model(sim, i);
	strategy(sim, i);
	drawdown(sim);
	if (sim->steps % PORTFOLIO_EVERY == 0)
		push(sim, EV_PORTFOLIO, -1);
}

/* Output */

struct out {
	char *p, *end;
};

static void
put(struct out *o, const char *s)
{
	size_t n = strlen(s);

	if ((size_t)(o->end - o->p) <= n)
		n = o->end - o->p - 1;
	memcpy(o->p, s, n);
	o->p += n;
}

static void
putf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
putf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->p, o->end - o->p, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->p += (size_t)n < (size_t)(o->end - o->p) ? (size_t)n :
			(size_t)(o->end - o->p - 1);
}

static void
put_i64(struct out *o, int64_t v)
{
	char tmp[24], *t = tmp + sizeof tmp;
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	*--t = 0;
	do
		*--t = '0' + u % 10;
	while (u /= 10);
	if (v < 0)
		*--t = '-';
	put(o, t);
}

/* A number with dp decimals (trailing zeros dropped when trim); never
 * "nan" or "inf": JSON has neither, so they come out as 0. */
static void
put_fixed(struct out *o, double v, int dp, int trim)
{
	char tmp[48], digits[20], *t;
	int64_t k;
	uint64_t ip, fp, u;
	int i, neg;

	if (!isfinite(v))
		v = 0;
	if (fabs(v) * pow10s[dp] >= 9e15) {
		putf(o, "%.*f", dp, v);
		return;
	}
	k = llround(v * pow10s[dp]);
	neg = k < 0;
	u = neg ? -(uint64_t)k : (uint64_t)k;
	ip = u / (uint64_t)pow10s[dp];
	fp = u % (uint64_t)pow10s[dp];
	t = tmp;
	if (neg)
		*t++ = '-';
	i = 0;
	do
		digits[i++] = '0' + ip % 10;
	while (ip /= 10);
	while (i > 0)
		*t++ = digits[--i];
	if (dp > 0 && !(trim && fp == 0)) {
		*t++ = '.';
		for (i = dp - 1; i >= 0; i--) {
			t[i] = '0' + fp % 10;
			fp /= 10;
		}
		t += dp;
		while (trim && t[-1] == '0')
			t--;
	}
	*t = 0;
	put(o, tmp);
}

static void
put_key(struct out *o, const char *key)
{
	put(o, ",\"");
	put(o, key);
	put(o, "\":");
}

static void
put_str(struct out *o, const char *key, const char *val)
{
	put_key(o, key);
	put(o, "\"");
	put(o, val);	/* our strings never need escaping */
	put(o, "\"");
}

static void
put_num(struct out *o, const char *key, double v, int dp)
{
	put_key(o, key);
	put_fixed(o, v, dp, 0);
}

static void
put_qty(struct out *o, const char *key, double v, int dp)
{
	put_key(o, key);
	put_fixed(o, v, dp, 1);
}

static void
put_order(struct out *o, const struct sym *s, const struct order *ord)
{
	put_key(o, "order_id");
	put(o, "\"sim-");
	put_i64(o, (int64_t)ord->id);
	put(o, "\"");
	put_str(o, "symbol", s->name);
	put_str(o, "side", ord->side == BUY ? "buy" : "sell");
	put_qty(o, "quantity", ord->qty, s->qdp);
	put_num(o, "price", ord->price, s->dp);
}

static void
put_portfolio(struct tf_sim *sim, struct out *o)
{
	double v = total_value(sim), pnl = v - sim->cfg.cash;
	int i;

	put_num(o, "total_value", v, 2);
	put_num(o, "pnl", pnl, 2);
	put_num(o, "pnl_pct", 100 * pnl / sim->cfg.cash, 3);
	put_key(o, "balances");
	put(o, "{\"");
	put(o, sim->quote);
	put(o, "\":");
	put_fixed(o, sim->cash, 2, 0);
	for (i = 0; i < sim->nsym; i++) {
		put(o, ",\"");
		put(o, sim->sym[i].base);
		put(o, "\":");
		put_fixed(o, sim->sym[i].qty, sim->sym[i].qdp, 1);
	}
	put(o, "}");
}

static void
put_status(struct tf_sim *sim, struct out *o)
{
	double cpu = sim->window_events ?
		100.0 * sim->window_work / sim->window_events : 0;
	double mem = (sizeof *sim + sim->nsym * sizeof *sim->sym) /
		(1024.0 * 1024.0);

	put_str(o, "status", sim->dd_level ? "degraded" : "ok");
	put_num(o, "cpu", cpu, 1);
	put_num(o, "memory", mem, 3);
	put_key(o, "connections");
	put_i64(o, sim->nsym + (sim->running ? 1 : 0));
	put_str(o, "bot", sim->running ? "running" : "stopped");
	put_key(o, "events");
	put_i64(o, (int64_t)sim->events);
	sim->window_events = sim->window_work = 0;
}

static const char *const kind_name[] = {
	[EV_PRICE] = "price_update",
	[EV_PLACED] = "order_placed",
	[EV_FILLED] = "trade_executed",
	[EV_CANCELLED] = "order_cancelled",
	[EV_PORTFOLIO] = "portfolio_update",
	[EV_ALERT] = "alert",
	[EV_PREDICTION] = "ml_prediction",
	[EV_PATTERN] = "pattern_detected",
	[EV_STATUS] = "system_status",
	[EV_HEARTBEAT] = "heartbeat",
	[EV_STARTED] = "bot_started",
	[EV_STOPPED] = "bot_stopped",
};

static size_t
format(struct tf_sim *sim, struct ev *e, int64_t ts, char *buf, size_t size)
{
	struct out o = { buf, buf + size - 1 };	/* room for "\n" */
	struct sym *s = e->sym >= 0 ? &sim->sym[e->sym] : NULL;
	double pnl;

	put(&o, "{\"type\":\"");
	put(&o, kind_name[e->kind]);
	put(&o, "\",\"ts\":");
	put_i64(&o, ts);
	switch (e->kind) {
	case EV_PRICE:
		put_str(&o, "symbol", s->name);
		put_num(&o, "price", e->u.px.price, s->dp);
		put_num(&o, "change_24h", e->u.px.change, 2);
		put_num(&o, "volume", e->u.px.volume, 4);
		put_num(&o, "bid", e->u.px.bid, s->dp);
		put_num(&o, "ask", e->u.px.ask, s->dp);
		break;
	case EV_PLACED:
		put_order(&o, s, &e->u.ord);
		if (e->u.ord.side == BUY)
			put_num(&o, "stop", e->u.ord.stop, s->dp);
		put_str(&o, "order_type", "market");
		put_str(&o, "reason", reason_name[e->u.ord.reason]);
		break;
	case EV_FILLED:
		pnl = apply_fill(sim, s, &e->u.ord);
		put_order(&o, s, &e->u.ord);
		if (e->u.ord.side == BUY)
			put_num(&o, "stop", e->u.ord.stop, s->dp);
		put_num(&o, "fee", e->u.ord.fee, 2);
		put_num(&o, "pnl", pnl, 2);
		put_str(&o, "reason", reason_name[e->u.ord.reason]);
		break;
	case EV_CANCELLED:
		put_order(&o, s, &e->u.ord);
		put_str(&o, "reason", "bot_stopped");
		break;
	case EV_PORTFOLIO:
		put_portfolio(sim, &o);
		break;
	case EV_ALERT:
		put_str(&o, "priority", prio_name[e->u.alert.prio]);
		put_str(&o, "title", e->u.alert.title);
		put_str(&o, "message", e->u.alert.msg);
		put_str(&o, "source", "tf-sim");
		if (s)
			put_str(&o, "symbol", s->name);
		break;
	case EV_PREDICTION:
		put_str(&o, "model", tf_sim_model_name);
		put_str(&o, "symbol", s->name);
		put_num(&o, "price", e->u.pred.price, s->dp);
		put_num(&o, "predicted_price", e->u.pred.predicted, s->dp);
		put_str(&o, "direction", e->u.pred.predicted >
			e->u.pred.price ? "up" : e->u.pred.predicted <
			e->u.pred.price ? "down" : "flat");
		put_num(&o, "confidence", e->u.pred.conf, 3);
		put_key(&o, "horizon");
		put_i64(&o, MODEL_HORIZON);
		break;
	case EV_PATTERN:
		put_str(&o, "symbol", s->name);
		put_str(&o, "pattern", pattern_name[e->u.pat.pattern]);
		put_str(&o, "direction", e->u.pat.pattern == P_DOUBLE_BOTTOM ||
			e->u.pat.pattern == P_BREAKOUT ? "bullish" : "bearish");
		put_num(&o, "confidence", e->u.pat.conf, 3);
		put_num(&o, "entry", e->u.pat.entry, s->dp);
		put_num(&o, "target", e->u.pat.target, s->dp);
		put_num(&o, "stop", e->u.pat.stop, s->dp);
		break;
	case EV_STATUS:
		put_status(sim, &o);
		break;
	case EV_HEARTBEAT:
		put_key(&o, "events");
		put_i64(&o, (int64_t)sim->events);
		break;
	case EV_STARTED:
	case EV_STOPPED:
		put_str(&o, "status", e->kind == EV_STARTED ? "running" :
			"stopped");
		put_str(&o, "strategy", tf_sim_strategy_name);
		put_str(&o, "reason", e->u.bot.reason);
		break;
	}
	put(&o, "}");
	*o.p++ = '\n';
	*o.p = 0;
	return o.p - buf;
}

size_t
tf_sim_next(struct tf_sim *sim, int64_t ts_ms, char *buf, size_t size)
{
	struct ev e;

	if (size < TF_SIM_LINE_MAX)
		return 0;
	if (!sim->clock_started) {
		sim->clock_started = 1;
		sim->next_status = ts_ms;
		sim->next_heartbeat = ts_ms + sim->cfg.heartbeat_ms;
	}
	/* Periodic events come between price steps, never inside one. */
	if (sim->qlen == 0) {
		if (ts_ms >= sim->next_status) {
			push(sim, EV_STATUS, -1);
			sim->next_status = ts_ms + sim->cfg.status_ms;
		} else if (ts_ms >= sim->next_heartbeat) {
			push(sim, EV_HEARTBEAT, -1);
			sim->next_heartbeat = ts_ms + sim->cfg.heartbeat_ms;
		} else {
			step(sim);
		}
	}
	e = sim->q[sim->qhead];
	sim->qhead = (sim->qhead + 1) % QCAP;
	sim->qlen--;
	if (sim->lead > 0)
		sim->lead--;
	sim->window_events++;
	if (e.kind != EV_PRICE && e.kind != EV_HEARTBEAT &&
		e.kind != EV_STATUS && e.kind != EV_STARTED &&
		e.kind != EV_STOPPED)
		sim->window_work++;
	size = format(sim, &e, ts_ms, buf, size);
	sim->events++;
	return size;
}

/* Control */

int
tf_sim_action_parse(const char *s, size_t n)
{
	static const char *const names[] = { "start", "stop", "restart" };
	int i;

	for (i = 0; i < 3; i++)
		if (strlen(names[i]) == n && memcmp(names[i], s, n) == 0)
			return i;
	return -1;
}

const char *
tf_sim_action_name(enum tf_sim_action a)
{
	return a == TF_SIM_START ? "start" : a == TF_SIM_STOP ? "stop" :
		"restart";
}

/* Drops the orders still queued behind the announcements: an order whose
 * order_placed is out gets an order_cancelled instead of its fill, which
 * joins the announcements; the others vanish. */
static void
cancel_pending(struct tf_sim *sim)
{
	int i, n = sim->lead;
	uint64_t placed_out = 0;
	struct ev *e;

	/* A fill first in line means its order_placed has been written. */
	if (sim->qlen > sim->lead &&
		sim->q[(sim->qhead + sim->lead) % QCAP].kind == EV_FILLED)
		placed_out = sim->q[(sim->qhead + sim->lead) % QCAP].order;
	for (i = sim->lead; i < sim->qlen; i++) {
		e = &sim->q[(sim->qhead + i) % QCAP];
		if (e->order && e->order == placed_out &&
			e->kind == EV_FILLED) {
			e->kind = EV_CANCELLED;
			sim->lead++;
		} else if (e->order) {
			continue;	/* dropped */
		}
		sim->q[(sim->qhead + n++) % QCAP] = *e;
	}
	sim->qlen = n;
}

/* Queues a bot announcement after those already waiting, ahead of the
 * rest. */
static void
announce(struct tf_sim *sim, enum kind kind, const char *reason)
{
	struct ev *e = insert(sim, sim->lead, kind);

	if (e) {
		e->u.bot.reason = reason;
		sim->lead++;
	}
}

void
tf_sim_control(struct tf_sim *sim, enum tf_sim_action a)
{
	const char *reason = tf_sim_action_name(a);
	int i;

	if (a == TF_SIM_STOP || a == TF_SIM_RESTART) {
		cancel_pending(sim);
		sim->running = 0;
		announce(sim, EV_STOPPED, reason);
	}
	if (a == TF_SIM_RESTART)
		for (i = 0; i < sim->nsym; i++)
			sim->sym[i].strat_n = 0;
	if (a == TF_SIM_START || a == TF_SIM_RESTART) {
		sim->running = 1;
		announce(sim, EV_STARTED, reason);
	}
}

int
tf_sim_running(const struct tf_sim *sim)
{
	return sim->running;
}

/* Life */

struct tf_sim *
tf_sim_create(const struct tf_sim_config *cfg, char *err, size_t errlen)
{
	struct tf_sim *sim;
	uint64_t x;
	int i;

	if (!(sim = calloc(1, sizeof *sim))) {
		tf_seterr(err, errlen, "out of memory");
		return NULL;
	}
	if (check_symbols(cfg, sim->quote, err, errlen) < 0)
		goto fail;
	if (!(cfg->volatility >= 0 && cfg->volatility <= 0.5) ||
		!(fabs(cfg->drift) <= 0.1)) {
		tf_seterr(err, errlen, "volatility must be in 0..0.5 and drift "
			"in -0.1..0.1 (per step)");
		goto fail;
	}
	if (!(cfg->cash >= 100 && cfg->cash <= 1e12) ||
		!(cfg->fee >= 0 && cfg->fee <= 0.1) ||
		cfg->heartbeat_ms <= 0 || cfg->status_ms <= 0) {
		tf_seterr(err, errlen, "cash must be in 100..1e12 and fee in "
			"0..0.1");
		goto fail;
	}
	sim->cfg = *cfg;
	sim->nsym = cfg->nsymbols;
	if (!(sim->sym = calloc(sim->nsym, sizeof *sim->sym))) {
		tf_seterr(err, errlen, "out of memory");
		goto fail;
	}
	x = cfg->seed;
	for (i = 0; i < 4; i++)
		sim->rng[i] = splitmix64(&x);
	for (i = 0; i < sim->nsym; i++) {
		struct sym *s = &sim->sym[i];
		char quote[TF_SIM_ASSET_MAX];

		snprintf(s->name, sizeof s->name, "%s", cfg->symbols[i].name);
		split_symbol(s->name, s->base, quote);
		s->dp = price_decimals(cfg->symbols[i].price);
		s->scale = pow10s[s->dp];
		s->qdp = quantity_decimals(cfg->symbols[i].price);
		s->open = s->price = fmax(round_to(cfg->symbols[i].price,
			s->scale), 1 / s->scale);
		s->logp = log(s->price);
		s->hist[0] = s->price;
	}
	sim->cash = sim->peak = cfg->cash;
	sim->running = !cfg->stopped;
	announce(sim, sim->running ? EV_STARTED : EV_STOPPED, "startup");
	return sim;
fail:
	tf_sim_destroy(sim);
	return NULL;
}

void
tf_sim_destroy(struct tf_sim *sim)
{
	if (!sim)
		return;
	free(sim->sym);
	free(sim);
}
