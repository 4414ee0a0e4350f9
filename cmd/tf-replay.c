/* tf-replay: play a recording made by tf-record back to stdout, byte for
 * byte, at its original pace or any speed, over a chosen range, sessions
 * and events; or follow it while it is being recorded. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "filter.h"
#include "log.h"
#include "metrics.h"
#include "opts.h"
#include "sig.h"
#include "store.h"

enum {
	OPT_FROM = 256,
	OPT_TO,
	OPT_SESSION,
	OPT_TYPE,
	OPT_TOPIC,
	OPT_SYMBOL,
	OPT_FILTER,
	OPT_MAX_GAP,
	OPT_LOOP,
	OPT_JSON,
	OPT_PROGRESS,
	OPT_METRICS_FILE,
	OPT_METRICS_INTERVAL,
};

/* Selections (ranges, sessions, filters) take no environment variable: one
 * left in a config file would silently thin every replay. */
static const struct tf_option options[] = {
	{ "speed", required_argument, 's', "TF_REPLAY_SPEED" },
	{ "from", required_argument, OPT_FROM, NULL },
	{ "to", required_argument, OPT_TO, NULL },
	{ "session", required_argument, OPT_SESSION, NULL },
	{ "type", required_argument, OPT_TYPE, NULL },
	{ "topic", required_argument, OPT_TOPIC, NULL },
	{ "symbol", required_argument, OPT_SYMBOL, NULL },
	{ "filter", required_argument, OPT_FILTER, NULL },
	{ "max-gap", required_argument, OPT_MAX_GAP, "TF_REPLAY_MAX_GAP" },
	{ "loop", optional_argument, OPT_LOOP, NULL },
	{ "follow", no_argument, 'f', NULL },
	{ "list", no_argument, 'l', NULL },
	{ "json", no_argument, OPT_JSON, NULL },
	{ "progress", no_argument, OPT_PROGRESS, "TF_REPLAY_PROGRESS" },
	{ "metrics-file", required_argument, OPT_METRICS_FILE,
		"TF_REPLAY_METRICS_FILE" },
	{ "metrics-interval", required_argument, OPT_METRICS_INTERVAL,
		"TF_REPLAY_METRICS_INTERVAL" },
	{ 0 },
};

#define MAX_SESSION_ARGS 64
#define POLL_NS (50 * 1000000LL)	/* --follow looks for new rows */
#define NAP_NS (250 * 1000000LL)	/* longest sleep between signal checks */
#define PROGRESS_NS (100 * 1000000LL)	/* progress bar refresh */
#define DRAIN_NS (1000 * 1000000LL)	/* a stop gives the reader this long */
#define OUT_SIZE (1 << 20)		/* the output buffer */
/* --follow with --to ends once the clock is this far past --to and no row
 * came: tf-record commits rows well within it. */
#define FOLLOW_GRACE_NS (2 * 1000000000LL)
/* Distinct sessions counted for the metrics; past it, no more are. */
#define MAX_SESSIONS_SEEN 100000

/* A --from or --to: absolute, or an offset from the first selected event. */
struct bound {
	int set, offset;
	int64_t ns;
};

struct config {
	const char *path;
	double speed;			/* 0: as fast as possible */
	struct bound from, to;
	const char *session_args[MAX_SESSION_ARGS];
	size_t n_session_args;
	const char *type, *topic, *symbol, *filter;
	int64_t max_gap;		/* ns of recorded time; -1: no cap */
	uint64_t loops;			/* passes; 0: forever */
	int looping, follow, list, json, progress;
	struct tf_metrics_file mf;
	struct tf_common common;
};

/* The pacing schedule of one pass: event i is due at
 * t0 + (ts_i - shift_i - ts0) / speed on the monotonic clock. Every
 * deadline is computed from t0, never from the previous sleep, so a long
 * replay does not drift. shift grows by the part of each gap over
 * --max-gap, and absorbs steps back in time (a wall clock set back). */
struct pace {
	int started;
	int64_t t0, ts0, prev, shift;
};

struct replay {
	struct config *c;
	struct tf_store *st;
	struct tf_cursor *cur;
	struct tf_filter *flt;
	struct tf_query q;
	int64_t *ids;			/* selected sessions */
	int64_t end_id;			/* play ids up to this; 0: no end */
	int64_t last_id;		/* resume after: the last row read, or
				 * the end of a scan that found no more */
	int64_t scan_end;		/* --follow: the end before this scan */
	uint64_t read, written, skipped;
	uint64_t read_all, passes;	/* read over every pass; passes begun */
	char *hold;			/* a line kept across a sleep */
	size_t hold_cap;
	/* --progress */
	int bar;
	int dumb;			/* TERM=dumb or none: no escapes */
	size_t shown_len;		/* of the line the bar drew last */
	uint64_t pass, total;
	int64_t shown_mono, shown_ts;
	/* --metrics-file */
	struct tf_metrics *m;
	int64_t start_ns;
	int64_t *seen;			/* sessions played, sorted */
	size_t nseen, seen_cap;
	int64_t last_session;
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: tf-replay [options] FILE\n"
		"Play a recording made by tf-record(1) back to stdout, each line\n"
		"byte for byte as recorded, at the pace it was recorded.\n"
		"\n"
		"  -s, --speed X        1 original timing (default), 2 twice as fast,\n"
		"                       0.5 half; max or 0: no waiting\n"
		"      --from TIME      start at TIME: RFC 3339, epoch seconds or ms,\n"
		"                       now, or +DURATION after the first selected event\n"
		"      --to TIME        stop before TIME (same forms)\n"
		"      --session S      only session S (name or id); repeat, or S1,S2\n"
		"      --type TYPE      only events of this type\n"
		"      --topic TOPIC    only events of this topic\n"
		"      --symbol SYM     only events for this symbol\n"
		"      --filter JQ      only events for which the jq program is true\n"
		"      --max-gap DUR    cap every pause at DUR of recorded time\n"
		"                       (30, 1.5s, 250ms, 5m)\n"
		"      --loop[=N]       play N times (--loop N works too); forever\n"
		"                       without N\n"
		"  -f, --follow         at the end, keep playing what a live\n"
		"                       recorder appends, until interrupted\n"
		"  -l, --list           list the sessions instead of playing\n"
		"      --json           with --list: one JSON object per session\n"
		"      --progress       a progress bar on stderr, if it is a terminal\n"
		"      --strict         a bad event is fatal (exit 65)\n"
		"      --max-line SIZE  skip recorded lines longer than SIZE (1M)\n");
	tf_metrics_usage(f, 23);
	tf_options_usage(f, 23);
	fprintf(f,
		"\n"
		"Environment: TF_REPLAY_SPEED, TF_REPLAY_MAX_GAP, TF_REPLAY_PROGRESS.\n"
		"Exit status: 0 done or interrupted, 1 error, 2 usage, 65 bad event\n"
		"under --strict; killed by SIGPIPE when the reader goes away.\n");
}

static int
parse_bound(const char *name, const char *arg, struct bound *b, char *err,
	size_t errlen)
{
	b->set = 1;
	b->offset = arg[0] == '+';
	if (b->offset) {
		if (tf_parse_duration(name, arg + 1, &b->ns, err, errlen) == 0)
			return 0;
		tf_seterr(err, errlen, "%s: '%s' is not an offset (e.g. +30, "
			"+1.5s, +250ms, +5m, +2h)", name, arg);
		return -1;
	}
	if (!strcmp(arg, "now")) {
		b->ns = tf_now_ns();
		return 0;
	}
	return tf_parse_time(name, arg, &b->ns, err, errlen);
}

static int
set_option(int val, const char *arg, void *ctx, char *err, size_t errlen)
{
	struct config *c = ctx;
	char num[64];
	size_t n;

	switch (val) {
	case 's':
		if (!strcmp(arg, "max")) {
			c->speed = 0;
			break;
		}
		/* "2x" reads naturally; take it. */
		n = strlen(arg);
		if (n > 1 && n < sizeof num && arg[n - 1] == 'x') {
			memcpy(num, arg, n - 1);
			num[n - 1] = '\0';
			arg = num;
		}
		return tf_parse_double("--speed", arg, 0, 1e9, &c->speed, err,
			errlen);
	case OPT_FROM:
		return parse_bound("--from", arg, &c->from, err, errlen);
	case OPT_TO:
		return parse_bound("--to", arg, &c->to, err, errlen);
	case OPT_SESSION:
		if (c->n_session_args == MAX_SESSION_ARGS) {
			tf_seterr(err, errlen, "--session: more than %d given"
				" (use S1,S2,...)", MAX_SESSION_ARGS);
			return -1;
		}
		if (!arg[strspn(arg, ", ")]) {
			tf_seterr(err, errlen, "--session: no session given");
			return -1;
		}
		c->session_args[c->n_session_args++] = arg;
		break;
	case OPT_TYPE:
		c->type = arg;
		break;
	case OPT_TOPIC:
		c->topic = arg;
		break;
	case OPT_SYMBOL:
		c->symbol = arg;
		break;
	case OPT_FILTER:
		c->filter = arg;
		break;
	case OPT_MAX_GAP:
		return tf_parse_duration("--max-gap", arg, &c->max_gap, err,
			errlen);
	case OPT_LOOP:
		c->looping = 1;
		c->loops = 0;
		if (arg)
			return tf_parse_u64("--loop", arg, 1, 1000000000,
				&c->loops, err, errlen);
		break;
	case 'f':
		c->follow = 1;
		break;
	case 'l':
		c->list = 1;
		break;
	case OPT_JSON:
		c->json = 1;
		break;
	case OPT_PROGRESS:
		c->progress = 1;
		break;
	case OPT_METRICS_FILE:
		return tf_metrics_set_path(&c->mf, arg, err, errlen);
	case OPT_METRICS_INTERVAL:
		return tf_metrics_set_interval(&c->mf, arg, err, errlen);
	}
	return 0;
}

static int
all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* Operands and combinations; fills err for a usage error. */
static int
check_config(struct config *c, int argc, char **argv, int first, char *err,
	size_t errlen)
{
	if (first == argc) {
		tf_seterr(err, errlen, "missing FILE (a recording made by "
			"tf-record)");
		return -1;
	}
	if (argc - first > 1) {
		tf_seterr(err, errlen, "unexpected argument '%s' (one FILE "
			"at a time)", argv[first + 1]);
		return -1;
	}
	c->path = argv[first];
	if (c->json && !c->list) {
		tf_seterr(err, errlen, "--json goes with --list");
		return -1;
	}
	if (c->list && (c->from.set || c->to.set || c->type || c->topic ||
			       c->symbol || c->filter || c->looping ||
			       c->follow)) {
		tf_seterr(err, errlen, "--list shows whole sessions; of the "
			"selections only --session applies");
		return -1;
	}
	if (c->follow && c->looping) {
		tf_seterr(err, errlen, "--follow and --loop exclude each other");
		return -1;
	}
	if (c->from.set && c->to.set && c->from.offset == c->to.offset &&
	    c->to.ns <= c->from.ns) {
		tf_seterr(err, errlen, "--to must be later than --from");
		return -1;
	}
	return 0;
}

/* --- metrics --- */

enum { METRICS_START, METRICS_RUNNING, METRICS_FINAL };

/* Writes --metrics-file, when asked for: at the start (which finds an
 * unwritable path before any work), while playing, and a last time with
 * how the run ended (exit status rc). Returns 0, or -1 when the write
 * failed (reported; while playing, an error the first time, then quiet
 * until a write works again). */
static int
write_metrics(struct replay *r, int when, int rc)
{
	struct config *c = r->c;
	const struct tf_metrics_common com = { "tf-replay", r->start_ns,
		r->read_all, r->skipped };
	struct tf_metrics *m = r->m;

	if (!m)
		return 0;
	tf_metrics_clear(m);
	tf_metrics_common(m, &com);
	tf_metrics_counter(m, "tf_replay_events_total",
		"Events played (written to standard output).", r->written);
	tf_metrics_counter(m, "tf_replay_passes_total",
		"Passes over the selection begun (--loop).", r->passes);
	tf_metrics_gauge(m, "tf_replay_sessions",
		"Recording sessions whose events were played.",
		(double)r->nseen);
	tf_metrics_gauge(m, "tf_replay_last_event_time_seconds",
		"When the last event played was recorded, in seconds since "
		"the epoch (0: none yet).",
		(double)r->shown_ts / 1e9);
	if (when == METRICS_FINAL)
		tf_metrics_last_run(m, rc, tf_now_ns() - r->start_ns);
	return tf_metrics_file_report(&c->mf, m, when == METRICS_RUNNING,
		"playing");
}

/* Writes the metrics file if it is due. */
static void
metrics_tick(struct replay *r)
{
	if (tf_metrics_file_due(&r->c->mf, tf_mono_ns()))
		write_metrics(r, METRICS_RUNNING, 0);
}

/* Notes that an event of session id was played. Rows come in id order,
 * mostly a session at a time: only a change looks in the set. */
static void
saw_session(struct replay *r, int64_t id)
{
	size_t lo = 0, hi = r->nseen, mid;

	if (!r->m || id == r->last_session)
		return;
	r->last_session = id;
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (r->seen[mid] == id)
			return;
		if (r->seen[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (r->nseen == MAX_SESSIONS_SEEN)
		return;
	if (r->nseen == r->seen_cap) {
		size_t cap = r->seen_cap ? r->seen_cap * 2 : 16;
		int64_t *p = realloc(r->seen, cap * sizeof *p);

		if (!p)
			return;
		r->seen = p;
		r->seen_cap = cap;
	}
	memmove(r->seen + lo + 1, r->seen + lo,
		(r->nseen - lo) * sizeof *r->seen);
	r->seen[lo] = id;
	r->nseen++;
}

/* --- output --- */

/* Puts the cursor at the start of the bar's line, the line cleared: by
 * "\033[K", or on a terminal that knows no escapes (TERM=dumb, an Emacs
 * shell buffer) by spaces over what the bar wrote, as git does. */
static void
bar_clear(struct replay *r)
{
	if (!r->bar)
		return;
	if (r->dumb)
		fprintf(stderr, "\r%*s\r", (int)r->shown_len, "");
	else
		fputs("\r\033[K", stderr);
	r->shown_len = 0;
}

/* Reports a failed write to stdout and returns 1; when the reader has gone
 * away (EPIPE) ends quietly by SIGPIPE instead, like cat(1) and git. */
static int
out_failed(struct replay *r)
{
	int e = errno;

	bar_clear(r);
	if (e == EPIPE) {
		/* The last word of a run that SIGPIPE ends. */
		write_metrics(r, METRICS_FINAL, 128 + SIGPIPE);
		signal(SIGPIPE, SIG_DFL);
		raise(SIGPIPE);
	}
	tf_error("stdout: %s", strerror(e));
	return 1;
}

/* The replay's stdout: one buffer written with write(2). stdio would retry
 * a write that a stop signal interrupts, and so hang on a stalled reader;
 * here a stop gives the reader DRAIN_NS to take what is buffered. */
static struct {
	char *buf;
	size_t len, cap;
} out;

/* Returns 0, or -1 with errno set. */
static int
out_flush(void)
{
	struct pollfd p = { .fd = STDOUT_FILENO, .events = POLLOUT };
	size_t off = 0, chunk;
	int64_t give_up = 0, now;
	ssize_t n;

	while (off < out.len) {
		chunk = out.len - off;
		if (tf_signal_stop()) {
			now = tf_mono_ns();
			if (!give_up)
				give_up = now + DRAIN_NS;
			/* Small writes after POLLOUT cannot block. */
			if (now >= give_up ||
			    poll(&p, 1, (int)((give_up - now) / 1000000) + 1) <= 0)
				break;
			if (chunk > PIPE_BUF)
				chunk = PIPE_BUF;
		}
		n = write(STDOUT_FILENO, out.buf + off, chunk);
		if (n < 0 && errno != EINTR)
			return -1;
		if (n > 0)
			off += (size_t)n;
	}
	out.len = 0;
	return 0;
}

/* Appends line and "\n", writing the buffer out when it is full. Returns 0,
 * or -1 with errno set. */
static int
out_line(const char *line, size_t len)
{
	if (out.cap - out.len < len + 1) {
		if (out_flush() < 0)
			return -1;
		if (out.cap < len + 1) {
			char *p = realloc(out.buf, len + 1);

			if (!p)
				return -1;
			out.buf = p;
			out.cap = len + 1;
		}
	}
	memcpy(out.buf + out.len, line, len);
	out.buf[out.len + len] = '\n';
	out.len += len + 1;
	return 0;
}

static void
progress(struct replay *r, int force)
{
	char when[64] = "", bar[32], line[256];
	int64_t now;
	size_t i, fill, n;
	double done;

	if (!r->bar)
		return;
	now = tf_mono_ns();
	if (!force && now - r->shown_mono < PROGRESS_NS)
		return;
	r->shown_mono = now;
	if (r->shown_ts)
		tf_format_time(r->shown_ts, when, sizeof when);
	if (r->c->follow) {
		n = (size_t)snprintf(line, sizeof line,
			"%s: following: %llu events  %s", tf_prog(),
			(unsigned long long)r->read, when);
	} else {
		done = r->total ? (double)r->read / (double)r->total : 1;
		if (done > 1)
			done = 1;
		fill = (size_t)(done * 20);
		for (i = 0; i < 20; i++)
			bar[i] = i < fill ? '#' : '-';
		bar[20] = '\0';
		n = (size_t)snprintf(line, sizeof line,
			"%s: [%s] %3d%% %llu/%llu  %s", tf_prog(), bar,
			(int)(done * 100), (unsigned long long)r->read,
			(unsigned long long)r->total, when);
		if (r->c->looping && n < sizeof line)
			n += (size_t)(r->c->loops ?
				snprintf(line + n, sizeof line - n,
					"  pass %llu/%llu",
					(unsigned long long)r->pass,
					(unsigned long long)r->c->loops) :
				snprintf(line + n, sizeof line - n,
					"  pass %llu",
					(unsigned long long)r->pass));
	}
	if (n >= sizeof line)
		n = sizeof line - 1;
	/* Over the last line: a dumb terminal's is overwritten, a shorter
	 * one padded with spaces. */
	if (r->dumb)
		fprintf(stderr, "\r%s%*s", line,
			r->shown_len > n ? (int)(r->shown_len - n) : 0, "");
	else
		fprintf(stderr, "\r\033[K%s", line);
	r->shown_len = n > r->shown_len ? n : r->shown_len;
}

/* Sleeps until deadline on the monotonic clock, in naps short enough to
 * see a stop signal that lands just before one. Returns -1 on a stop. */
static int
sleep_until(struct replay *r, int64_t deadline)
{
	struct timespec ts;
	int64_t now, until;

	while (!tf_signal_stop()) {
		metrics_tick(r);
		now = tf_mono_ns();
		if (now >= deadline)
			return 0;
		until = deadline - now > NAP_NS ? now + NAP_NS : deadline;
		if (r->c->mf.path && r->c->mf.due > now && r->c->mf.due < until)
			until = r->c->mf.due;
		ts.tv_sec = (time_t)(until / 1000000000);
		ts.tv_nsec = (long)(until % 1000000000);
		/* EINTR: loop to look at the stop flag. */
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		progress(r, 0);
	}
	return -1;
}

static int64_t
pace_due(struct pace *p, int64_t ts, double speed, int64_t max_gap)
{
	int64_t gap, at;

	if (!p->started) {
		p->started = 1;
		p->t0 = tf_mono_ns();
		p->ts0 = p->prev = ts;
		p->shift = 0;
		return p->t0;
	}
	gap = ts - p->prev;
	if (gap < 0)
		p->shift += gap;
	else if (max_gap >= 0 && gap > max_gap)
		p->shift += gap - max_gap;
	p->prev = ts;
	at = ts - p->shift - p->ts0;
	if (speed != 1) {
		double d = (double)at / speed;

		/* A tiny speed must not overflow: a century is forever. */
		at = d > 3e18 ? (int64_t)3e18 : (int64_t)d;
	}
	return p->t0 + at;
}

/* --- selecting --- */

/* JSON string: quotes, backslashes and control characters escaped. */
static void
json_string(FILE *f, const char *s)
{
	putc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			putc(ch, f);
	}
	putc('"', f);
}

static int
add_id(struct replay *r, int64_t id)
{
	size_t i;

	for (i = 0; i < r->q.n_sessions; i++)
		if (r->ids[i] == id)
			return 0;
	r->ids[r->q.n_sessions++] = id;
	return 1;
}

/* Chooses the sessions whose id (for a number) or else name is tok. */
static int
choose(struct replay *r, const struct tf_session *list, size_t n,
	const char *tok, char *keep)
{
	int64_t id = all_digits(tok) ? strtoll(tok, NULL, 10) : -1;
	int by_name, found = 0;
	size_t i;

	/* A number is an id first; a session may also be named "42". */
	for (by_name = 0; by_name < 2 && !found; by_name++)
		for (i = 0; i < n; i++) {
			if (by_name ? strcmp(list[i].name, tok) :
				      list[i].id != id)
				continue;
			if (keep)
				keep[i] = 1;
			add_id(r, list[i].id);
			found = 1;
		}
	return found;
}

/* Turns the --session names and ids into r->q.sessions; keep (when not
 * NULL) marks the sessions chosen. Returns 0, or 1 after an error. */
static int
select_sessions(struct replay *r, const struct tf_session *list, size_t n,
	char *keep)
{
	struct config *c = r->c;
	size_t a;

	if (!c->n_session_args)
		return 0;
	if (!(r->ids = calloc(n ? n : 1, sizeof *r->ids))) {
		tf_error("out of memory");
		return 1;
	}
	r->q.sessions = r->ids;
	for (a = 0; a < c->n_session_args; a++) {
		char *copy = strdup(c->session_args[a]), *tok, *save = NULL;

		if (!copy) {
			tf_error("out of memory");
			return 1;
		}
		for (tok = strtok_r(copy, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save)) {
			if (choose(r, list, n, tok, keep))
				continue;
			tf_error("%s: no session '%s' (tf-replay --list %s "
				 "shows them)", c->path, tok, c->path);
			free(copy);
			return 1;
		}
		free(copy);
	}
	return 0;
}

static int
list_sessions(struct replay *r, const struct tf_session *l, size_t n)
{
	char *keep = calloc(n ? n : 1, 1);
	char first[64], last[64], span[64];
	size_t i;
	int w = 4;

	if (!keep) {
		tf_error("out of memory");
		return 1;
	}
	if (select_sessions(r, l, n, keep)) {
		free(keep);
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (!r->c->n_session_args)
			keep[i] = 1;
		if (keep[i] && (int)strlen(l[i].name) > w)
			w = (int)strlen(l[i].name);
	}
	if (!r->c->json)
		printf("%4s  %-*s  %10s  %-24s  %-24s  %10s  %s\n", "ID", w,
			"NAME", "EVENTS", "FIRST", "LAST", "SPAN", "STATE");
	for (i = 0; i < n; i++) {
		const struct tf_session *s = &l[i];

		if (!keep[i])
			continue;
		strcpy(first, "-");
		strcpy(last, "-");
		strcpy(span, "-");
		if (s->count) {
			tf_format_time(s->first_ns, first, sizeof first);
			tf_format_time(s->last_ns, last, sizeof last);
			tf_format_duration(s->last_ns - s->first_ns, span,
				sizeof span);
		}
		if (!r->c->json) {
			printf("%4lld  %-*s  %10lld  %-24s  %-24s  %10s  %s\n",
				(long long)s->id, w, s->name,
				(long long)s->count, first, last, span,
				s->end_ns ? "ended" : "open");
			continue;
		}
		printf("{\"id\":%lld,\"name\":", (long long)s->id);
		json_string(stdout, s->name);
		printf(",\"events\":%lld,\"start_ns\":%lld,\"end_ns\":",
			(long long)s->count, (long long)s->start_ns);
		if (s->end_ns)
			printf("%lld", (long long)s->end_ns);
		else
			printf("null");
		if (s->count)
			printf(",\"first_ns\":%lld,\"last_ns\":%lld,"
			       "\"first\":\"%s\",\"last\":\"%s\"",
				(long long)s->first_ns, (long long)s->last_ns,
				first, last);
		else
			printf(",\"first_ns\":null,\"last_ns\":null,"
			       "\"first\":null,\"last\":null");
		printf(",\"state\":\"%s\"}\n", s->end_ns ? "ended" : "open");
	}
	free(keep);
	return 0;
}

/* The largest event id in the file now, 0 if none. Rows appended later get
 * larger ids, so this is where a replay without --follow ends even if the
 * cursor's snapshot is renewed on the way. */
static int
find_end_id(struct replay *r, int64_t *end)
{
	char err[512];

	if ((*end = tf_store_last_id(r->st, err, sizeof err)) < 0) {
		tf_error("%s: %s", r->c->path, err);
		return -1;
	}
	return 0;
}

/* The arrival time of the first event the query selects, ignoring its time
 * range. Returns 1 and *ts, 0 when there is none (yet: --follow waits for
 * one), -1 after an error. */
static int
first_ts(struct replay *r, int64_t *ts)
{
	struct tf_query q = r->q;
	struct tf_cursor *c;
	struct tf_row row;
	char err[512];
	int64_t seen = 0, end = 0;
	int k;

	q.from_ns = q.to_ns = 0;
	if (!(c = tf_cursor_open(r->st, &q, err, sizeof err))) {
		tf_error("%s: %s", r->c->path, err);
		return -1;
	}
	for (;;) {
		/* A scan that found nothing needs no second look at the rows
		 * that were there before it began. */
		if (r->c->follow && find_end_id(r, &end) < 0) {
			tf_cursor_close(c);
			return -1;
		}
		tf_cursor_rewind(c, seen, err, sizeof err);
		k = tf_cursor_next(c, &row, err, sizeof err);
		if (k || !r->c->follow ||
		    sleep_until(r, tf_mono_ns() + POLL_NS) < 0)
			break;
		seen = end;
	}
	if (k < 0)
		tf_error("%s: %s", r->c->path, err);
	else if (k > 0)
		*ts = row.ts_ns;
	tf_cursor_close(c);
	return k;
}

/* Resolves --from/--to now that the data is known. Returns 1 to play, 0
 * when nothing is selected, -1 after an error, 2 for a usage error. */
static int
resolve_range(struct replay *r)
{
	struct config *c = r->c;
	int64_t start = 0;
	int k;

	if ((c->from.set && c->from.offset) || (c->to.set && c->to.offset)) {
		if ((k = first_ts(r, &start)) <= 0)
			return k;
	}
	if (c->from.set)
		r->q.from_ns = c->from.ns + (c->from.offset ? start : 0);
	if (c->to.set)
		r->q.to_ns = c->to.ns + (c->to.offset ? start : 0);
	if (c->from.set && c->to.set && r->q.to_ns <= r->q.from_ns) {
		return tf_usage_error("--to must be later than --from");
	}
	return 1;
}

/* --- playing --- */

/* Keeps row's line in r->hold, for the cursor to let go of it. */
static const char *
hold_line(struct replay *r, const struct tf_row *row)
{
	if (row->len + 1 > r->hold_cap) {
		size_t cap = row->len + 1 > 4096 ? row->len + 1 : 4096;
		char *p = realloc(r->hold, cap);

		if (!p)
			return NULL;
		r->hold = p;
		r->hold_cap = cap;
	}
	memcpy(r->hold, row->line, row->len);
	return r->hold;
}

/* Whether row is played: --max-line and --filter. Returns 1 to play, 0 to
 * skip, 65 for a bad event under --strict. */
static int
wanted(struct replay *r, const struct tf_row *row)
{
	char err[512];
	int k = 0;

	if (row->len > r->c->common.max_line)
		snprintf(err, sizeof err, "%zu bytes, over --max-line %zu",
			row->len, r->c->common.max_line);
	else if (!r->flt ||
		 (k = tf_filter_match(r->flt, row->line, row->len, err,
			  sizeof err)) > 0)
		return 1;
	else if (k == 0)
		return 0;
	bar_clear(r);
	r->skipped++;
	if (r->c->common.strict) {
		tf_error("event %lld: %s", (long long)row->id, err);
		return 65;
	}
	tf_warn("event %lld: %s (skipped)", (long long)row->id, err);
	return 0;
}

/* One pass over the selection, or, with --follow, until stopped. Returns
 * 0, 1 (error), or 65 (--strict). */
static int
play(struct replay *r)
{
	struct config *c = r->c;
	struct pace pace = { 0 };
	struct tf_row row;
	char err[512], gap[64];
	const char *line;
	int64_t due, now;
	int k;

	for (;;) {
		if (tf_signal_stop())
			return 0;
		k = tf_cursor_next(r->cur, &row, err, sizeof err);
		if (k < 0) {
			tf_error("%s: %s", c->path, err);
			return 1;
		}
		if (k == 0 || (r->end_id && row.id > r->end_id)) {
			if (!c->follow)
				return 0;
			/* Idle: let the reader see every line, then look
			 * for rows a recorder has committed since. */
			if (out_flush() < 0)
				return out_failed(r);
			progress(r, 1);
			if (r->q.to_ns &&
			    tf_now_ns() > r->q.to_ns + FOLLOW_GRACE_NS)
				return 0;
			if (sleep_until(r, tf_mono_ns() + POLL_NS) < 0)
				return 0;
			/* Rows that were there before the scan began and did
			 * not match need no second look. */
			if (r->scan_end > r->last_id)
				r->last_id = r->scan_end;
			if (find_end_id(r, &r->scan_end) < 0)
				return 1;
			tf_cursor_rewind(r->cur, r->last_id, err, sizeof err);
			continue;
		}
		r->read++;
		r->read_all++;
		r->last_id = row.id;
		/* A clock read every 1024 rows: cheap at full speed. */
		if ((r->read_all & 1023) == 0)
			metrics_tick(r);
		if ((k = wanted(r, &row)) != 1) {
			if (k)
				return k;
			continue;
		}
		line = row.line;
		if (c->speed > 0) {
			due = pace_due(&pace, row.ts_ns, c->speed, c->max_gap);
			now = tf_mono_ns();
			if (due > now) {
				/* Never hold a line back while waiting, nor
				 * the recording's WAL: a reader that keeps its
				 * snapshot stops the recorder's checkpoints. */
				if (out_flush() < 0)
					return out_failed(r);
				if (!(line = hold_line(r, &row))) {
					tf_error("out of memory");
					return 1;
				}
				tf_cursor_rewind(r->cur, row.id, err,
					sizeof err);
				if (due - now > 5000000000LL) {
					tf_format_duration(due - now, gap,
						sizeof gap);
					tf_info("event %lld: waiting %s "
						"(--max-gap caps pauses)",
						(long long)row.id, gap);
				}
				progress(r, 0);
				if (sleep_until(r, due) < 0)
					return 0;
			}
		}
		if (out_line(line, row.len) < 0)
			return out_failed(r);
		r->written++;
		saw_session(r, row.session);
		r->shown_ts = row.ts_ns;
		if (r->bar)
			progress(r, 0);
	}
}

static int
play_all(struct replay *r)
{
	struct config *c = r->c;
	char err[512];
	int rc = 0;

	for (r->pass = 1; !c->loops || r->pass <= c->loops; r->pass++) {
		uint64_t before = r->written;

		if (r->pass > 1 && tf_cursor_rewind(r->cur, 0, err,
					   sizeof err) < 0) {
			tf_error("%s: %s", c->path, err);
			return 1;
		}
		r->read = 0;
		r->passes++;
		if ((rc = play(r)) || tf_signal_stop())
			break;
		/* An endless loop over nothing would spin. */
		if (r->written == before)
			break;
	}
	progress(r, 1);
	bar_clear(r);
	if (rc)
		return rc;
	if (!r->written && !r->skipped && !tf_signal_stop() && !c->follow)
		tf_warn("%s: no event matches; nothing played", c->path);
	if (r->skipped)
		tf_warn("%llu event%s skipped", (unsigned long long)r->skipped,
			r->skipped == 1 ? "" : "s");
	tf_info("%llu event%s played", (unsigned long long)r->written,
		r->written == 1 ? "" : "s");
	return rc;
}

static int
run(struct config *c)
{
	struct replay r = { .c = c, .start_ns = tf_now_ns() };
	struct tf_session *list = NULL;
	const char *term;
	size_t n = 0;
	char err[1024];
	int rc = 1, k;

	/* --list is a question, not a run: no metrics for it. */
	if (c->mf.path && !c->list) {
		if (!(r.m = tf_metrics_file_builder(&c->mf, "tf-replay", 0, err,
			      sizeof err))) {
			tf_error("--metrics-file: %s", err);
			return 1;
		}
		/* An unwritable path is found now, before any work. */
		if (write_metrics(&r, METRICS_START, 0) < 0) {
			tf_metrics_destroy(r.m);
			return 2;
		}
	}
	if (c->filter &&
	    !(r.flt = tf_filter_create(c->filter, err, sizeof err))) {
		char what[1100];

		snprintf(what, sizeof what, "--filter: %s", err);
		rc = tf_usage_error(what);
		goto out;
	}
	if (!(r.st = tf_store_open(c->path, TF_STORE_READ, err, sizeof err))) {
		tf_error("%s", err);
		goto out;
	}
	if ((c->list || c->n_session_args) &&
	    tf_store_sessions(r.st, &list, &n, err, sizeof err) < 0) {
		tf_error("%s: %s", c->path, err);
		goto out;
	}
	if (c->list) {
		rc = list_sessions(&r, list, n);
		goto out;
	}
	if (select_sessions(&r, list, n, NULL))
		goto out;
	r.q.type = c->type;
	r.q.topic = c->topic;
	r.q.symbol = c->symbol;
	if ((k = resolve_range(&r)) <= 0 || k == 2) {
		rc = k < 0 ? 1 : k;
		if (k == 0 && !tf_signal_stop())
			tf_warn("%s: no event matches; nothing played", c->path);
		goto out;
	}
	if (!c->follow && find_end_id(&r, &r.end_id) < 0)
		goto out;
	if (!(r.cur = tf_cursor_open(r.st, &r.q, err, sizeof err))) {
		tf_error("%s: %s", c->path, err);
		goto out;
	}
	if (!(out.buf = malloc(OUT_SIZE))) {
		tf_error("out of memory");
		goto out;
	}
	out.cap = OUT_SIZE;
#ifdef PR_SET_TIMERSLACK
	/* Linux may wake a sleeper up to 50 us late by default; be exact. */
	if (c->speed > 0)
		prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
#endif
	r.bar = c->progress && isatty(STDERR_FILENO);
	term = getenv("TERM");
	r.dumb = !term || !*term || !strcmp(term, "dumb");
	if (r.bar && !c->follow)
		r.total = (uint64_t)tf_cursor_count(r.cur, err, sizeof err);
	rc = play_all(&r);
out:
	/* Lines played before an error or a stop still go out. */
	if (out_flush() < 0 && !rc)
		rc = out_failed(&r);
	if (write_metrics(&r, METRICS_FINAL, rc) < 0 && !rc)
		rc = 1;
	tf_metrics_destroy(r.m);
	free(r.seen);
	tf_cursor_close(r.cur);
	tf_filter_destroy(r.flt);
	tf_store_close(r.st);
	tf_sessions_free(list, n);
	free(r.ids);
	free(r.hold);
	free(out.buf);
	return rc;
}

static void
free_words(char **v, char **joined)
{
	size_t i;

	for (i = 0; joined && joined[i]; i++)
		free(joined[i]);
	free(joined);
	free(v);
}

/* getopt takes an optional argument only in the same word (--loop=3):
 * make "--loop 3", as people type it, into that. Returns the new argv and
 * sets *argc; *joined owns the new words: free both with free_words. */
static char **
join_loop_count(int *argcp, char **argv, char ***joined)
{
	int argc = *argcp;
	char **v = calloc((size_t)argc + 1, sizeof *v);
	int i, j = 0, k = 0;

	*joined = calloc((size_t)argc + 1, sizeof **joined);
	if (!v || !*joined) {
		free(v);
		return NULL;
	}
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--loop") && i + 1 < argc &&
		    all_digits(argv[i + 1])) {
			char *w = malloc(strlen(argv[i + 1]) + 8);

			if (!w) {
				free_words(v, *joined);
				return NULL;
			}
			sprintf(w, "--loop=%s", argv[++i]);
			v[j++] = (*joined)[k++] = w;
			continue;
		}
		if (!strcmp(argv[i], "--"))
			while (i < argc)
				v[j++] = argv[i++];
		else
			v[j++] = argv[i];
	}
	*argcp = j;
	return v;
}

int
main(int argc, char **argv)
{
	struct config c = {
		.speed = 1,
		.max_gap = -1,
		.loops = 1,
		.mf = { .interval_ns = TF_METRICS_INTERVAL_DEFAULT },
	};
	char err[512], **words, **joined;
	int first, rc = 0;

	tf_log_init(argv[0]);
	if (!(words = join_loop_count(&argc, argv, &joined))) {
		tf_error("out of memory");
		return 1;
	}
	if (tf_options_parse(argc, words, options, set_option, &c, &c.common,
		    &first, err, sizeof err) < 0) {
		rc = tf_usage_error(err);
	} else if (tf_options_answer(&c.common, usage)) {
		rc = 0;
	} else if (check_config(&c, argc, words, first, err, sizeof err) < 0) {
		rc = tf_usage_error(err);
	} else {
		tf_signals_init();
		rc = run(&c);
	}
	/* A failed write of the listing, the help or the last lines. */
	if (fclose(stdout) != 0 && rc == 0) {
		struct replay none = { .c = &c };

		rc = out_failed(&none);
	}
	free_words(words, joined);
	tf_options_free();
	return rc;
}
