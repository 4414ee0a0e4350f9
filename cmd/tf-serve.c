/* tf-serve: a live trading dashboard from any NDJSON stream. The hub of
 * tf-broadcast (lib/hub) plus the state of lib/dash, REST routes and the
 * page embedded at build time; control commands go to stdout. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dash.h"
#include "hub.h"
#include "http.h"
#include "envelope.h"
#include "hubcli.h"
#include "line.h"
#include "log.h"
#include "metrics.h"
#include "opts.h"
#include "sig.h"
#include "vocab.h"
#include "webasset.h"
#include "wsproto.h"

enum {
	OPT_DB = 256,
	OPT_WEB_ROOT,
	OPT_CANDLES,
	OPT_TRADES,
	OPT_ORDERS,
	OPT_ALERTS,
	OPT_PREDICTIONS,
	OPT_PATTERNS,
	OPT_EQUITY,
	OPT_SNAPSHOT_CANDLES,
	OPT_ROUND_TRIPS,
	OPT_MAX_SYMBOLS,
	OPT_MAX_CANDLES,
	OPT_MAX_BODY,
	OPT_MAX_BODIES,
};

/* The hub's options (lib/hubcli.c), then ours, then the end. */
static struct tf_option options[] = {
	[TF_HUBCLI_NOPTS] = { "db", required_argument, OPT_DB, "TF_SERVE_DB" },
	{ "web-root", required_argument, OPT_WEB_ROOT, "TF_SERVE_WEB_ROOT" },
	{ "candles", required_argument, OPT_CANDLES, "TF_SERVE_CANDLES" },
	{ "trades", required_argument, OPT_TRADES, "TF_SERVE_TRADES" },
	{ "orders", required_argument, OPT_ORDERS, "TF_SERVE_ORDERS" },
	{ "alerts", required_argument, OPT_ALERTS, "TF_SERVE_ALERTS" },
	{ "predictions", required_argument, OPT_PREDICTIONS,
		"TF_SERVE_PREDICTIONS" },
	{ "patterns", required_argument, OPT_PATTERNS, "TF_SERVE_PATTERNS" },
	{ "equity", required_argument, OPT_EQUITY, "TF_SERVE_EQUITY" },
	{ "snapshot-candles", required_argument, OPT_SNAPSHOT_CANDLES,
		"TF_SERVE_SNAPSHOT_CANDLES" },
	{ "round-trips", required_argument, OPT_ROUND_TRIPS,
		"TF_SERVE_ROUND_TRIPS" },
	{ "max-symbols", required_argument, OPT_MAX_SYMBOLS,
		"TF_SERVE_MAX_SYMBOLS" },
	{ "max-candles", required_argument, OPT_MAX_CANDLES,
		"TF_SERVE_MAX_CANDLES" },
	{ "max-body", required_argument, OPT_MAX_BODY, "TF_SERVE_MAX_BODY" },
	{ "max-bodies", required_argument, OPT_MAX_BODIES,
		"TF_SERVE_MAX_BODIES" },
	{ NULL, 0, 0, NULL },
};

struct config {
	struct tf_hubcli net;
	struct tf_dash_config dash;
	const char *db, *web_root;
	size_t max_body;
	size_t max_bodies;	/* of every body being read at once */
	struct tf_common common;
};

struct state {
	struct config *c;
	struct tf_hub *hub;
	struct tf_dash *dash;
	struct tf_reader *r;
	int control;		/* stdout still takes control lines */
	int64_t start_ns;
	/* CPU use between two looks at it, for /api/system */
	int64_t cpu_wall_ns, cpu_used_ns;
	double cpu_pct;
	/* Request bodies: bytes reserved by those being read (at most
	 * --max-bodies), and requests refused for want of room. */
	size_t bodies;
	uint64_t bodies_refused;
	/* Control lines written, by action (start, stop, restart), and
	 * presses answered 503: for /metrics. */
	uint64_t controls[3], controls_failed;
};

static const char *const control_action[3] = { "start", "stop", "restart" };

/* One HTTP connection: the request body being read, the answer being
 * written. Kept as the wsi's opaque user data. */
struct req {
	enum { POST_NONE, POST_CONTROL, POST_EVENTS } post;
	char action[16];
	struct tf_buf body;
	size_t reserved;	/* of state.bodies, by its Content-Length */
	int too_big;
	struct tf_http_out out;	/* the answer being sent */
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: tf-serve [--host HOST] [-p PORT] [--db FILE] [options] > control\n"
		"Serve a live trading dashboard of the events on stdin (NDJSON) at\n"
		"http://HOST:PORT/: the page, REST routes over state kept in memory, and\n"
		"the WebSocket stream of tf-broadcast (tf(7)) at /ws. The page's\n"
		"Start/Stop/Restart buttons write control lines to stdout.\n"
		"\n"
		"      --db FILE           backfill the state from a tf-record recording\n"
		"      --web-root DIR      serve the page's files from DIR (development)\n"
		"      --candles N         candles kept per symbol and timeframe (1000)\n"
		"      --trades N          trades kept (500)\n"
		"      --orders N          orders kept (500)\n"
		"      --alerts N          alerts kept (500)\n"
		"      --predictions N     predictions kept (200)\n"
		"      --patterns N        pattern detections kept (200)\n"
		"      --equity N          points of the equity curve kept (5000)\n"
		"      --snapshot-candles N\n"
		"                          newest candles per series in a snapshot (300)\n"
		"      --round-trips N     closed round trips kept (500)\n"
		"      --max-symbols N     symbols kept; more are ignored (1000)\n"
		"      --max-candles N     candles kept in all series; past it the symbols\n"
		"                          ticked least recently lose theirs (500000: 32 MB)\n"
		"      --max-body SIZE     longest POST body; over: HTTP 413 (1M)\n"
		"      --max-bodies SIZE   POST bodies being read at once; over: 503 (8M)\n");
	tf_hubcli_usage(f, 8080);
	fprintf(f,
		"                          (tf-serve: --stale 10 unless given)\n");
	fprintf(f,
		"      --strict            the first bad line is fatal (exit 65)\n"
		"      --max-line SIZE     longest line accepted (default 1M)\n");
	tf_options_usage(f, 26);
	fprintf(f,
		"\n"
		"Routes: GET /api/snapshot, /api/candles?symbol=&tf=, /api/trades,\n"
		"/api/trading, /api/positions, /api/alerts?priority=, /api/metrics,\n"
		"/api/system, /api/stats; POST /api/control/start|stop|restart,\n"
		"/api/events. GET /stats and /metrics (Prometheus) give counters;\n"
		"GET /healthz and /readyz (no token) are for probes. See tf-serve(1).\n");
}

static int
limit(const char *name, const char *arg, size_t *out, char *err,
	size_t errlen)
{
	uint64_t v;

	if (tf_parse_u64(name, arg, 1, 10000000, &v, err, errlen) < 0)
		return -1;
	*out = (size_t)v;
	return 0;
}

static int
set_option(int val, const char *arg, void *ctx, char *err, size_t errlen)
{
	struct config *c = ctx;
	struct tf_dash_config *d = &c->dash;
	uint64_t v;

	switch (val) {
	case OPT_DB:
		c->db = arg;
		return 0;
	case OPT_WEB_ROOT: {
		struct stat sb;

		/* Else every file would be a 404, and the page blank. */
		if (stat(arg, &sb) < 0) {
			tf_seterr(err, errlen, "--web-root: %s: %s", arg,
				strerror(errno));
			return -1;
		}
		if (!S_ISDIR(sb.st_mode)) {
			tf_seterr(err, errlen, "--web-root: %s: not a directory",
				arg);
			return -1;
		}
		c->web_root = arg;
		return 0;
	}
	case OPT_CANDLES:
		return limit("--candles", arg, &d->candles, err, errlen);
	case OPT_TRADES:
		return limit("--trades", arg, &d->trades, err, errlen);
	case OPT_ORDERS:
		return limit("--orders", arg, &d->orders, err, errlen);
	case OPT_ALERTS:
		return limit("--alerts", arg, &d->alerts, err, errlen);
	case OPT_PREDICTIONS:
		return limit("--predictions", arg, &d->predictions, err,
			errlen);
	case OPT_PATTERNS:
		return limit("--patterns", arg, &d->patterns, err, errlen);
	case OPT_EQUITY:
		return limit("--equity", arg, &d->equity, err, errlen);
	case OPT_SNAPSHOT_CANDLES:
		return limit("--snapshot-candles", arg, &d->snapshot_candles,
			err, errlen);
	case OPT_ROUND_TRIPS:
		return limit("--round-trips", arg, &d->round_trips, err,
			errlen);
	case OPT_MAX_SYMBOLS:
		return limit("--max-symbols", arg, &d->max_symbols, err,
			errlen);
	case OPT_MAX_CANDLES:
		if (tf_parse_u64("--max-candles", arg, 1, 1000000000, &v, err,
			    errlen) < 0)
			return -1;
		d->max_candles = (size_t)v;
		return 0;
	case OPT_MAX_BODY:
		if (tf_parse_size("--max-body", arg, 1, 1 << 30, &v, err,
			    errlen) < 0)
			return -1;
		c->max_body = v;
		return 0;
	case OPT_MAX_BODIES:
		if (tf_parse_size("--max-bodies", arg, 1, (uint64_t)1 << 40, &v,
			    err, errlen) < 0)
			return -1;
		c->max_bodies = v;
		return 0;
	}
	return tf_hubcli_set(&c->net, val, arg, err, errlen);
}

/* ---- the stream ------------------------------------------------------ */

static int64_t
now_ms(void)
{
	return tf_now_ns() / 1000000;
}

/* One good line (or, with env, the event of an envelope): into the
 * state, then out to the clients. */
static void
take(struct state *s, const struct tf_line *l, const struct tf_event *ev,
	const struct tf_envelope *env)
{
	const struct tf_line *d = env ? &env->data : l;

	if (tf_dash_apply(s->dash, d->data, d->len, ev, now_ms()) < 0)
		tf_warn("out of memory: an event is not kept in the state");
	if (tf_hubcli_publish(s->hub, l, ev, env) < 0)
		tf_warn("out of memory: an event is not sent to clients");
}

static void
on_line(const struct tf_line *l, const struct tf_event *ev,
	const struct tf_envelope *env, void *arg)
{
	if (!env || !env->gap)
		take(arg, l, ev, env);
}

/* ---- answering ------------------------------------------------------- */

/* --web-root's files are read whole into memory: they must be shorter. */
#define WEB_ROOT_MAX ((size_t)64 << 20)

static const char csp[] =
	"default-src 'self'; script-src 'self'; style-src 'self'; "
	"img-src 'self' data:; connect-src 'self'; object-src 'none'; "
	"base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

/* {"error":"..."} with status. */
static int __attribute__((format(printf, 4, 5)))
fail(struct lws *wsi, struct req *rq, unsigned status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return tf_http_error(wsi, &rq->out, status, NULL, "%s", msg);
}

static int
respond_json(struct lws *wsi, struct req *rq, unsigned status,
	struct tf_buf *b)
{
	return tf_http_json(wsi, &rq->out, status, b, NULL);
}

/* 405, naming the methods the route takes. */
static int
not_allowed(struct lws *wsi, struct req *rq, const char *allow)
{
	rq->post = POST_NONE;
	return tf_http_not_allowed(wsi, &rq->out, allow);
}

/* ---- the page -------------------------------------------------------- */

/* One of the page's files, with its headers: it may change with tf-serve,
 * so browsers revalidate it (no-cache) by its ETag. */
static int
respond_file(struct lws *wsi, struct req *rq, unsigned status,
	const char *path, const void *data, size_t len, void *owned,
	int gzip, const char *etag)
{
	const char *h[] = { "content-security-policy:", csp,
		"referrer-policy:", "no-referrer", etag ? "etag:" : NULL, etag,
		NULL };

	return tf_http_respond(wsi, &rq->out, status,
		status == HTTP_STATUS_NOT_MODIFIED ? NULL :
		tf_http_content_type(path), data, len, owned,
		TF_HTTP_NO_CACHE | TF_HTTP_VARY | (gzip ? TF_HTTP_GZIP : 0), h);
}

static int
serve_file(struct state *s, struct lws *wsi, struct req *rq, const char *path)
{
	const struct tf_webasset *a;
	unsigned char *data;
	char gz_etag[64];
	const char *etag;
	size_t len;
	int gz;

	if (!strcmp(path, "/"))
		path = "/index.html";
	if (!tf_http_safe_path(path))
		return fail(wsi, rq, HTTP_STATUS_NOT_FOUND, "no such file");
	if (s->c->web_root && (data = tf_http_read_file(s->c->web_root, path,
		    WEB_ROOT_MAX, &len)))
		return respond_file(wsi, rq, HTTP_STATUS_OK, path, data, len,
			data, 0, NULL);
	for (a = tf_webassets; a->path; a++)
		if (!strcmp(a->path, path))
			break;
	if (!a->path)
		return fail(wsi, rq, HTTP_STATUS_NOT_FOUND, "no such file");
	/* The compressed body is another representation: a strong ETag of
	 * its own ("crc-size-gzip"), so that a cache never takes one body
	 * for the other. */
	gz = tf_http_accepts_gzip(wsi);
	if (gz)
		snprintf(gz_etag, sizeof gz_etag, "%.*s-gzip\"",
			(int)strlen(a->etag) - 1, a->etag);
	etag = gz ? gz_etag : a->etag;
	if (tf_http_etag_matches(wsi, etag))
		return respond_file(wsi, rq, HTTP_STATUS_NOT_MODIFIED, path,
			NULL, 0, NULL, 0, etag);
	if (gz)
		return respond_file(wsi, rq, HTTP_STATUS_OK, path, a->gz,
			a->gz_len, NULL, 1, etag);
	return respond_file(wsi, rq, HTTP_STATUS_OK, path, a->raw, a->raw_len,
		NULL, 0, etag);
}

/* ---- REST ------------------------------------------------------------ */

/* The value of query argument name ("symbol"), or NULL. */
static const char *
arg(struct lws *wsi, const char *name, char *buf, size_t size)
{
	char key[32];

	snprintf(key, sizeof key, "%s=", name);
	return lws_get_urlarg_by_name(wsi, key, buf, (int)size);
}

static int
arg_time(struct lws *wsi, const char *name, int64_t *ms, char *err,
	size_t errlen)
{
	char buf[128];
	const char *v = arg(wsi, name, buf, sizeof buf);
	int64_t ns;

	*ms = 0;
	if (!v || !*v)
		return 0;
	if (tf_parse_time(name, v, &ns, err, errlen) < 0)
		return -1;
	*ms = ns / 1000000;
	return 0;
}

static int
arg_limit(struct lws *wsi, size_t *n, char *err, size_t errlen)
{
	char buf[64];
	const char *v = arg(wsi, "limit", buf, sizeof buf);
	uint64_t u;

	*n = 0;
	if (!v || !*v)
		return 0;
	if (tf_parse_u64("limit", v, 0, 100000000, &u, err, errlen) < 0)
		return -1;
	*n = (size_t)u;
	return 0;
}

static int
api_candles(struct state *s, struct lws *wsi, struct req *rq)
{
	char sym[256], tfbuf[32], err[256];
	const char *symbol = arg(wsi, "symbol", sym, sizeof sym),
		*tfname = arg(wsi, "tf", tfbuf, sizeof tfbuf);
	int64_t from, to;
	struct tf_buf b;
	int tf = TF_DASH_1M;

	if (!symbol || !*symbol)
		return fail(wsi, rq, HTTP_STATUS_BAD_REQUEST,
			"symbol: required");
	if (tfname && *tfname && (tf = tf_dash_tf_parse(tfname)) < 0)
		return fail(wsi, rq, HTTP_STATUS_BAD_REQUEST,
			"tf: '%s' is not one of 1s, 1m, 5m, 15m, 1h, 4h, 1d",
			tfname);
	if (arg_time(wsi, "from", &from, err, sizeof err) < 0 ||
	    arg_time(wsi, "to", &to, err, sizeof err) < 0)
		return fail(wsi, rq, HTTP_STATUS_BAD_REQUEST, "%s", err);
	tf_buf_init(&b);
	if (tf_dash_candles(s->dash, symbol, tf, from, to, &b) < 0) {
		tf_buf_finish(&b);
		return fail(wsi, rq, HTTP_STATUS_NOT_FOUND,
			"no such symbol: %s", symbol);
	}
	return respond_json(wsi, rq, HTTP_STATUS_OK, &b);
}

static void
process_stats(struct state *s, struct tf_buf *b)
{
	struct tf_dash_counters dc;
	struct rusage ru;
	int64_t wall = tf_mono_ns(), used = 0;
	long rss_pages = 0, pagesize = sysconf(_SC_PAGESIZE);
	FILE *f;

	if (getrusage(RUSAGE_SELF, &ru) == 0)
		used = (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) *
			1000000000 + (int64_t)(ru.ru_utime.tv_usec +
			ru.ru_stime.tv_usec) * 1000;
	/* Percent of one core since the last look, at most once a second. */
	if (wall - s->cpu_wall_ns >= 1000000000) {
		s->cpu_pct = 100.0 * (double)(used - s->cpu_used_ns) /
			(double)(wall - s->cpu_wall_ns);
		s->cpu_wall_ns = wall;
		s->cpu_used_ns = used;
	}
	f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%*s %ld", &rss_pages) != 1)
			rss_pages = 0;
		fclose(f);
	}
	tf_dash_counters(s->dash, &dc);
	tf_buf_addf(b, "{\"version\":\"%s\",\"uptime\":%.3f,\"cpu\":%.1f,"
		"\"rss\":%ld,\"connections\":%zu,\"events\":%llu,"
		"\"state\":{\"kept\":%llu,\"symbols\":%llu,"
		"\"symbols_dropped\":%llu,\"bad_prices\":%llu,"
		"\"late_ticks\":%llu,\"bad_fills\":%llu,\"nomem\":%llu,"
		"\"candles\":%llu,\"series_evicted\":%llu}}",
		TF_VERSION, (double)(wall - s->start_ns) / 1e9, s->cpu_pct,
		rss_pages * pagesize, tf_hub_clients(s->hub),
		(unsigned long long)dc.events, (unsigned long long)dc.kept,
		(unsigned long long)dc.symbols,
		(unsigned long long)dc.symbols_dropped,
		(unsigned long long)dc.bad_prices,
		(unsigned long long)dc.late_ticks,
		(unsigned long long)dc.bad_fills,
		(unsigned long long)dc.nomem,
		(unsigned long long)dc.candles,
		(unsigned long long)dc.series_evicted);
}

static int
api_get(struct state *s, struct lws *wsi, struct req *rq, const char *route)
{
	char err[256], buf[64];
	const char *v;
	struct tf_buf b;
	size_t n;

	tf_buf_init(&b);
	if (!strcmp(route, "snapshot")) {
		tf_buf_adds(&b, "{\"server\":\"tf-serve " TF_VERSION
			"\",\"epoch\":");
		tf_buf_json(&b, tf_hub_epoch(s->hub),
			strlen(tf_hub_epoch(s->hub)));
		tf_buf_addf(&b, ",\"seq\":%llu,\"now\":%lld",
			(unsigned long long)tf_hub_seq(s->hub),
			(long long)now_ms());
		tf_dash_snapshot_members(s->dash, &b);
		tf_buf_adds(&b, "}");
	} else if (!strcmp(route, "candles")) {
		return api_candles(s, wsi, rq);
	} else if (!strcmp(route, "trades")) {
		char sym[256];
		const char *symbol = arg(wsi, "symbol", sym, sizeof sym);

		if (arg_limit(wsi, &n, err, sizeof err) < 0)
			return fail(wsi, rq, HTTP_STATUS_BAD_REQUEST, "%s",
				err);
		tf_dash_trades(s->dash, symbol && *symbol ? symbol : NULL, n,
			&b);
	} else if (!strcmp(route, "alerts")) {
		int prio = 0;

		v = arg(wsi, "priority", buf, sizeof buf);
		if (v && *v && strcmp(v, "all") &&
		    (prio = tf_priority_parse(v, strlen(v))) < 0)
			return fail(wsi, rq, HTTP_STATUS_BAD_REQUEST,
				"priority: '%s' is not low, medium, high or "
				"critical", v);
		if (arg_limit(wsi, &n, err, sizeof err) < 0)
			return fail(wsi, rq, HTTP_STATUS_BAD_REQUEST, "%s",
				err);
		tf_dash_alerts(s->dash, prio, n, &b);
	} else if (!strcmp(route, "trading")) {
		tf_dash_trading(s->dash, &b);
	} else if (!strcmp(route, "positions")) {
		tf_dash_positions(s->dash, &b);
	} else if (!strcmp(route, "metrics")) {
		tf_dash_metrics(s->dash, &b);
	} else if (!strcmp(route, "system")) {
		tf_buf_adds(&b, "{\"server\":");
		process_stats(s, &b);
		tf_buf_addf(&b, ",\"http\":{\"bodies\":%zu,\"max_bodies\":%zu,"
			"\"bodies_refused\":%llu}", s->bodies, s->c->max_bodies,
			(unsigned long long)s->bodies_refused);
		tf_buf_adds(&b, ",\"engine\":");
		tf_dash_engine_status(s->dash, &b);
		tf_buf_adds(&b, ",\"bot\":");
		tf_dash_bot(s->dash, &b);
		tf_buf_adds(&b, "}");
	} else if (!strcmp(route, "stats")) {
		char *json = tf_hub_stats(s->hub);

		if (!json) {
			b.failed = 1;
		} else {
			tf_buf_adds(&b, json);
			free(json);
		}
	} else {
		tf_buf_finish(&b);
		return -2;
	}
	return respond_json(wsi, rq, HTTP_STATUS_OK, &b);
}

/* POST /api/control/ACTION: one control line on stdout, written whole
 * with one write(2) (a line is far below PIPE_BUF, so a pipe or FIFO takes
 * all of it or none). A reader that went away ends control output; one
 * that is merely behind (EAGAIN on a non-blocking descriptor) gets 503
 * for this press only. */
static int
api_control(struct state *s, struct lws *wsi, struct req *rq)
{
	int64_t ts = now_ms();
	struct tf_buf b;
	char line[128];
	int n = snprintf(line, sizeof line,
		"{\"type\":\"control\",\"action\":\"%s\",\"ts\":%lld}\n",
		rq->action, (long long)ts);
	ssize_t w = -1;
	int i;

	if (!s->control) {
		s->controls_failed++;
		return fail(wsi, rq, HTTP_STATUS_SERVICE_UNAVAILABLE,
			"the control output (stdout) is closed");
	}
	do
		w = write(STDOUT_FILENO, line, (size_t)n);
	while (w < 0 && errno == EINTR);
	if (w < 0 && errno == EAGAIN) {
		s->controls_failed++;
		return fail(wsi, rq, HTTP_STATUS_SERVICE_UNAVAILABLE,
			"the control output (stdout) is full: nobody reads "
			"it");
	}
	if (w != n) {
		s->controls_failed++;
		tf_warn("stdout: %s: control lines go nowhere now",
			w < 0 ? strerror(errno) : "short write");
		s->control = 0;
		return fail(wsi, rq, HTTP_STATUS_SERVICE_UNAVAILABLE,
			"the control output (stdout) is closed");
	}
	tf_info("control: %s", rq->action);
	for (i = 0; i < 3; i++)
		if (!strcmp(rq->action, control_action[i]))
			s->controls[i]++;
	tf_buf_init(&b);
	tf_buf_addf(&b, "{\"ok\":true,\"action\":\"%s\",\"ts\":%lld}",
		rq->action, (long long)ts);
	return respond_json(wsi, rq, 202, &b);
}

/* Calls fn on each line of the body; stops at the first nonzero. */
static int
each_line(struct req *rq, int (*fn)(struct tf_line *, void *), void *arg)
{
	const char *p = rq->body.p, *end = p + rq->body.len;
	struct tf_line l;
	uint64_t no = 0;
	int rc;

	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		memset(&l, 0, sizeof l);
		l.data = p;
		l.len = n && p[n - 1] == '\r' ? n - 1 : n;
		l.no = ++no;
		if ((rc = fn(&l, arg)))
			return rc;
		p += n + 1;
	}
	return 0;
}

struct check {
	char why[300];
	size_t good;
	size_t max_line;
};

static int
check_line(struct tf_line *l, void *arg)
{
	struct check *ck = arg;
	struct tf_event ev;
	char why[256];
	int k;

	if (l->len > ck->max_line) {
		snprintf(ck->why, sizeof ck->why, "line %llu: longer than "
			"--max-line", (unsigned long long)l->no);
		return -1;
	}
	k = tf_event_check(l, &ev, why, sizeof why);
	if (k < 0) {
		snprintf(ck->why, sizeof ck->why, "line %llu: %s",
			(unsigned long long)l->no, why);
		return -1;
	}
	if (k == 0)
		ck->good++;
	return 0;
}

static int
inject_line(struct tf_line *l, void *arg)
{
	struct state *s = arg;
	struct tf_event ev;
	char why[256];

	if (tf_event_check(l, &ev, why, sizeof why) == 0)
		take(s, l, &ev, NULL);
	return 0;
}

/* POST /api/events: every line good, or none taken. */
static int
api_events(struct state *s, struct lws *wsi, struct req *rq)
{
	struct check ck = { .max_line = s->c->common.max_line };
	struct tf_buf b;

	/* The stream numbers its events; one made here would take a seq
	 * that is the stream's to give. */
	if (s->c->net.envelope)
		return fail(wsi, rq, HTTP_STATUS_CONFLICT, "events come from "
			"the stream under --input envelope: publish them "
			"there");
	if (each_line(rq, check_line, &ck))
		return fail(wsi, rq, HTTP_STATUS_BAD_REQUEST, "%s", ck.why);
	if (!ck.good)
		return fail(wsi, rq, HTTP_STATUS_BAD_REQUEST,
			"no event in the body (one JSON object per line)");
	each_line(rq, inject_line, s);
	tf_hub_flush(s->hub);
	tf_buf_init(&b);
	tf_buf_addf(&b, "{\"ok\":true,\"accepted\":%zu}", ck.good);
	return respond_json(wsi, rq, 202, &b);
}

/* Gives back rq's room in --max-bodies, and its body. */
static void
release(struct state *s, struct req *rq)
{
	s->bodies -= rq->reserved;
	rq->reserved = 0;
	tf_buf_finish(&rq->body);
	tf_buf_init(&rq->body);
}

static int
method_is(struct lws *wsi, enum lws_token_indexes t)
{
	return lws_hdr_total_length(wsi, t) > 0;
}

static int
on_request(struct state *s, struct lws *wsi, struct req *rq,
	const char *path)
{
	int get = method_is(wsi, WSI_TOKEN_GET_URI),
		post = method_is(wsi, WSI_TOKEN_POST_URI);
	static const char *const retry[] = { "retry-after:", "1", NULL };
	unsigned long long cl = 0;
	char len[32];
	int rc;

	rq->out.head = method_is(wsi, WSI_TOKEN_HEAD_URI);
	rq->post = POST_NONE;
	release(s, rq);
	if (strncmp(path, "/api/", 5)) {
		if (!get && !rq->out.head)
			return not_allowed(wsi, rq, "GET, HEAD");
		return serve_file(s, wsi, rq, path);
	}
	path += 5;
	if (!tf_hub_authorized(s->hub, wsi))
		return fail(wsi, rq, HTTP_STATUS_UNAUTHORIZED,
			"token required (Authorization: Bearer TOKEN or "
			"?token=TOKEN)");
	if (!strncmp(path, "control/", 8) || !strcmp(path, "events")) {
		const char *action = path + 8;

		if (!strcmp(path, "events"))
			rq->post = POST_EVENTS;
		else if (!strcmp(action, "start") || !strcmp(action, "stop") ||
		    !strcmp(action, "restart"))
			rq->post = POST_CONTROL;
		else
			return fail(wsi, rq, HTTP_STATUS_NOT_FOUND,
				"no such action: %s (start, stop or restart)",
				action);
		snprintf(rq->action, sizeof rq->action, "%s", action);
		if (!post)
			return not_allowed(wsi, rq, "POST");
		/* Host and Origin: the hub let this request in
		 * (tf_hub_request_allowed) before any route. */
		if (lws_hdr_copy(wsi, len, sizeof len,
			    WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 &&
		    (cl = strtoull(len, NULL, 10)) > s->c->max_body) {
			rq->post = POST_NONE;
			return fail(wsi, rq, HTTP_STATUS_REQ_ENTITY_TOO_LARGE,
				"body over --max-body (%zu bytes)",
				s->c->max_body);
		}
		rq->too_big = 0;
		/* Without a Content-Length there is no body, and lws
		 * reports no completion of one; lws reads no chunked
		 * request body. */
		if (lws_hdr_total_length(wsi,
			    WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0 &&
		    lws_hdr_total_length(wsi,
			    WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
			rq->post = POST_NONE;
			return fail(wsi, rq, HTTP_STATUS_LENGTH_REQUIRED,
				"a body needs a Content-Length");
		}
		if (lws_hdr_total_length(wsi,
			    WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0) {
			rc = rq->post == POST_CONTROL ?
				api_control(s, wsi, rq) :
				api_events(s, wsi, rq);
			rq->post = POST_NONE;
			return rc;
		}
		/* Room for the whole body is taken now, by its
		 * Content-Length, so that the bodies being read never pass
		 * --max-bodies whatever their senders do (send slowly, or
		 * never finish); it is given back once the body is taken
		 * or the connection closes. */
		if (cl > s->c->max_bodies - s->bodies) {
			rq->post = POST_NONE;
			s->bodies_refused++;
			return tf_http_error(wsi, &rq->out,
				HTTP_STATUS_SERVICE_UNAVAILABLE, retry,
				"busy: the request bodies being read would "
				"pass --max-bodies (%zu bytes); try again",
				s->c->max_bodies);
		}
		rq->reserved = (size_t)cl;
		s->bodies += rq->reserved;
		return 0;
	}
	if (!get && !rq->out.head)
		return not_allowed(wsi, rq, "GET, HEAD");
	rc = api_get(s, wsi, rq, path);
	if (rc == -2)
		return fail(wsi, rq, HTTP_STATUS_NOT_FOUND,
			"no such route: /api/%s", path);
	return rc;
}

static struct req *
req_of(struct lws *wsi)
{
	struct req *rq = lws_get_opaque_user_data(wsi);

	if (!rq && (rq = calloc(1, sizeof *rq))) {
		tf_buf_init(&rq->body);
		lws_set_opaque_user_data(wsi, rq);
	}
	return rq;
}

static void
req_free(struct state *s, struct lws *wsi)
{
	struct req *rq = lws_get_opaque_user_data(wsi);

	if (!rq)
		return;
	lws_set_opaque_user_data(wsi, NULL);
	release(s, rq);
	tf_http_out_finish(&rq->out);
	free(rq);
}

/* ---- requests lws does not take as HTTP ------------------------------ */

/* The methods a path takes, for Allow. */
static const char *
allowed(const char *path)
{
	return !strncmp(path, "/api/control/", 13) ||
		!strcmp(path, "/api/events") ? "POST" : "GET, HEAD";
}

/* The path of a request line ("PROPFIND /api/events?x HTTP/1.1") into
 * path, without its query; "" when there is none. */
static void
request_path(const char *in, size_t len, char *path, size_t size)
{
	const char *sp = in ? memchr(in, ' ', len) : NULL, *end;
	size_t n;

	path[0] = '\0';
	if (!sp)
		return;
	sp++;
	end = sp;
	while (end < in + len && *end != ' ' && *end != '?' && *end != '\r' &&
	    *end != '\n')
		end++;
	n = (size_t)(end - sp);
	if (n >= size)
		n = size - 1;
	memcpy(path, sp, n);
	path[n] = '\0';
}

/* Unknown methods (PROPFIND, TRACE, BREW) and CONNECT: a JSON 405 naming
 * what the path takes (tf_http_raw_not_allowed). */
static int
on_raw(struct state *s, struct lws *wsi, enum lws_callback_reasons reason,
	const void *in, size_t len)
{
	char path[256];

	switch (reason) {
	case LWS_CALLBACK_RAW_ADOPT:
	case LWS_CALLBACK_RAW_RX:
		request_path(in, len, path, sizeof path);
		return tf_http_raw_not_allowed(wsi, reason, in, len,
			allowed(path));
	case LWS_CALLBACK_RAW_CLOSE:
		/* A keep-alive connection's earlier request, if any. */
		req_free(s, wsi);
		return 0;
	default:
		return 0;
	}
}

static int
on_http(struct lws *wsi, enum lws_callback_reasons reason, void *user,
	void *in, size_t len, void *arg)
{
	struct state *s = arg;
	struct req *rq;
	int rc;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		if (!(rq = req_of(wsi)))
			return -1;
		return on_request(s, wsi, rq, in);
	case LWS_CALLBACK_HTTP_BODY:
		rq = lws_get_opaque_user_data(wsi);
		if (!rq || rq->post == POST_NONE)
			return 0;
		if (rq->body.len + len > rq->reserved)
			rq->too_big = 1;
		else
			tf_buf_add(&rq->body, in, len);
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		rq = lws_get_opaque_user_data(wsi);
		if (!rq || rq->post == POST_NONE)
			return 0;
		if (rq->too_big)
			rc = fail(wsi, rq, HTTP_STATUS_BAD_REQUEST,
				"body longer than its Content-Length");
		else if (rq->body.failed)
			rc = fail(wsi, rq, HTTP_STATUS_INTERNAL_SERVER_ERROR,
				"out of memory");
		else
			rc = rq->post == POST_CONTROL ?
				api_control(s, wsi, rq) :
				api_events(s, wsi, rq);
		rq->post = POST_NONE;
		release(s, rq);
		return rc;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		rq = lws_get_opaque_user_data(wsi);
		return rq ? tf_http_write_more(wsi, &rq->out) : 0;
	case LWS_CALLBACK_CLOSED_HTTP:
		req_free(s, wsi);
		return 0;
	case LWS_CALLBACK_RAW_ADOPT:
	case LWS_CALLBACK_RAW_RX:
	case LWS_CALLBACK_RAW_WRITEABLE:
	case LWS_CALLBACK_RAW_CLOSE:
		return on_raw(s, wsi, reason, in, len);
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* tf-serve's own families in /metrics, after the hub's. */
static void
add_metrics(struct tf_metrics *m, void *arg)
{
	struct state *s = arg;
	struct tf_dash_counters dc;
	int i;

	tf_dash_counters(s->dash, &dc);
	tf_metrics_family(m, "tf_control_commands_total", TF_METRIC_COUNTER,
		"Control lines written to stdout (POST /api/control/ACTION), "
		"by action.");
	for (i = 0; i < 3; i++)
		tf_metrics_u64(m, (const char *const[]){ "action",
			control_action[i], NULL }, s->controls[i]);
	tf_metrics_counter(m, "tf_control_commands_failed_total",
		"Control presses answered 503: stdout closed or full.",
		s->controls_failed);
	tf_metrics_counter(m, "tf_dashboard_events_total",
		"Events applied to the dashboard's state.", dc.events);
	tf_metrics_counter(m, "tf_dashboard_kept_events_total",
		"Events kept in some part of the dashboard's state.", dc.kept);
	tf_metrics_gauge(m, "tf_dashboard_symbols",
		"Distinct symbols the dashboard keeps.", (double)dc.symbols);
	tf_metrics_counter(m, "tf_dashboard_symbols_dropped_total",
		"Events whose symbol is past --max-symbols.",
		dc.symbols_dropped);
	tf_metrics_counter(m, "tf_dashboard_bad_prices_total",
		"Price ticks without a finite price above 0.", dc.bad_prices);
	tf_metrics_counter(m, "tf_dashboard_late_ticks_total",
		"Candle updates ignored as too old.", dc.late_ticks);
	tf_metrics_counter(m, "tf_dashboard_bad_fills_total",
		"trade_executed events that are no fill.", dc.bad_fills);
	tf_metrics_counter(m, "tf_dashboard_nomem_total",
		"Events not kept for lack of memory.", dc.nomem);
	tf_metrics_gauge(m, "tf_dashboard_candles",
		"Candle slots held, of --max-candles (64 bytes each).",
		(double)dc.candles);
	tf_metrics_counter(m, "tf_dashboard_series_evicted_total",
		"Symbols whose candles were dropped for --max-candles.",
		dc.series_evicted);
	tf_metrics_counter(m, "tf_request_bodies_refused_total",
		"Requests answered 503 for want of room in --max-bodies.",
		s->bodies_refused);
}

/* ---- running --------------------------------------------------------- */

static int
run(struct config *c)
{
	struct state s = { .c = c, .control = 1 };
	struct tf_hubcli *net = &c->net;
	struct tf_hubcli_input in = {
		.cli = net,
		.strict = c->common.strict,
		.line = on_line,
		.arg = &s,
	};
	struct lws_context *ctx = NULL;
	char err[512], addr[INET6_ADDRSTRLEN + 8];
	uint64_t rows = 0;
	int rc = 1, port;

	s.start_ns = s.cpu_wall_ns = tf_mono_ns();
	if (tf_hubcli_inbound_open(net, err, sizeof err) < 0) {
		tf_error("%s", err);
		return 1;
	}
	net->hub.max_line = c->common.max_line;
	net->hub.http = on_http;
	net->hub.http_arg = &s;
	net->hub.metrics = add_metrics;
	net->hub.metrics_arg = &s;
	s.hub = tf_hub_create(&net->hub, err, sizeof err);
	if (!s.hub) {
		tf_error("%s", err);
		goto out;
	}
	s.dash = tf_dash_create(&c->dash, err, sizeof err);
	s.r = tf_reader_create(STDIN_FILENO, c->common.max_line);
	if (!s.dash || !s.r) {
		tf_error("%s", s.dash ? "out of memory" : err);
		goto out;
	}
	if (c->db) {
		if (tf_dash_backfill(s.dash, c->db, &rows, err,
			    sizeof err) < 0) {
			tf_error("%s", err);
			goto out;
		}
		tf_info("%s: %llu events backfilled", c->db,
			(unsigned long long)rows);
	}
	/* Unknown methods come to on_raw, not to lws' HTML 403. */
	net->lws_options |=
		LWS_SERVER_OPTION_FALLBACK_TO_APPLY_LISTEN_ACCEPT_CONFIG;
	if (tf_hubcli_listen(net, s.hub, &ctx, &port, addr, sizeof addr, err,
		    sizeof err) < 0) {
		tf_error("%s", err);
		goto out;
	}
	tf_warn(strchr(addr, ':') ? "listening on %s://[%s]:%d/" :
		"listening on %s://%s:%d/", net->cert ? "https" : "http",
		addr, port);
	in.hub = s.hub;
	in.r = s.r;
	rc = tf_hubcli_serve(&in, ctx);
out:
	if (ctx)
		lws_context_destroy(ctx);
	tf_hub_destroy(s.hub);
	tf_dash_destroy(s.dash);
	tf_reader_destroy(s.r);
	if (tf_hubcli_inbound_close(net, err, sizeof err) < 0) {
		tf_error("%s", err);
		if (!rc)
			rc = 1;
	}
	return rc;
}

int
main(int argc, char **argv)
{
	struct config c = { .max_body = 1 << 20, .max_bodies = 8 << 20 };
	char err[300];
	int rc;

	tf_log_init(argv[0]);
	tf_hubcli_init(&c.net, 8080);
	/* The page shows "Stale" from the hub's notice: on unless turned
	 * off, unlike tf-broadcast's. */
	c.net.hub.stale_ms = 10000;
	tf_hubcli_options(&c.net, options, "TF_SERVE_");
	c.net.hub.server = "tf-serve " TF_VERSION;
	tf_dash_config_init(&c.dash);
	if ((rc = tf_hubcli_parse(&c.net, argc, argv, options, set_option, &c,
		    &c.common, usage)) >= 0)
		return rc;
	if (c.dash.max_candles / TF_DASH_NTF < c.dash.candles) {
		tf_options_free();
		return tf_usage_error("--max-candles is less than 7 times "
			"--candles: one symbol's series must fit");
	}
	if (c.max_bodies < c.max_body) {
		tf_options_free();
		return tf_usage_error("--max-bodies is less than --max-body: "
			"no body that long could ever be read");
	}
	tf_signals_init();
	if (tf_hubcli_raise_fd_limit(&c.net, err, sizeof err) < 0)
		tf_warn("%s", err);
	rc = run(&c);
	if (fclose(stdout) != 0 && rc == 0 && errno != EPIPE) {
		tf_error("stdout: %s", strerror(errno));
		rc = 1;
	}
	tf_options_free();
	return rc;
}
