/* tf-sim: a paper-trading engine on stdout. Prices, trades, portfolio,
 * predictions, patterns, alerts and status as NDJSON events, paced on the
 * monotonic clock and steered by control lines from --control. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "line.h"
#include "log.h"
#include "opts.h"
#include "scan.h"
#include "sig.h"
#include "sim.h"
#include "vocab.h"

enum {
	OPT_SEED = 256,
	OPT_START,
	OPT_DRIFT,
	OPT_VOLATILITY,
	OPT_CASH,
	OPT_FEE,
	OPT_STOPPED,
};

static const struct tf_option options[] = {
	{ "symbols", required_argument, 's', "TF_SIM_SYMBOLS" },
	{ "rate", required_argument, 'r', "TF_SIM_RATE" },
	{ "count", required_argument, 'n', NULL },
	{ "duration", required_argument, 'd', NULL },
	{ "seed", required_argument, OPT_SEED, "TF_SIM_SEED" },
	{ "start", required_argument, OPT_START, NULL },
	{ "drift", required_argument, OPT_DRIFT, "TF_SIM_DRIFT" },
	{ "volatility", required_argument, OPT_VOLATILITY,
		"TF_SIM_VOLATILITY" },
	{ "cash", required_argument, OPT_CASH, "TF_SIM_CASH" },
	{ "fee", required_argument, OPT_FEE, "TF_SIM_FEE" },
	{ "control", required_argument, 'c', "TF_SIM_CONTROL" },
	{ "stopped", no_argument, OPT_STOPPED, NULL },
	{ 0 },
};

struct config {
	struct tf_sim_config sim;
	double rate;		/* events per second; 0: unpaced */
	uint64_t count;		/* 0: no limit */
	int64_t duration;	/* ns of wall time; 0: no limit */
	int64_t start_ns;	/* event time of the first event */
	int has_seed, has_start;
	const char *control;
	struct tf_common common;
};

/* The control input: a FIFO is reopened after each writer leaves, any
 * other file is read to its end once. */
struct control {
	const char *path;
	int fd;			/* -1 once closed for good */
	int fifo;
	struct tf_reader *r;
	uint64_t lineno;
	size_t max_line;
	int strict;
	int failed;		/* a read error ended it: exit 1 at the end */
};

/* Output: our own buffer, written with write(2) so that EPIPE, EINTR and a
 * reader that stops reading are each handled on purpose. */
static struct {
	char buf[1 << 16];
	size_t len;
	size_t chunk;		/* bytes per write: PIPE_BUF for pipes */
	uint64_t events;
	const struct tf_sim *sim;	/* for the SIGUSR1 report */
} out;

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: tf-sim [-s SYMBOLS] [-r RATE] [-n COUNT] [-d DURATION] [options]\n"
		"A paper-trading engine: writes price, trade, portfolio, prediction,\n"
		"pattern, alert and status events (NDJSON) to stdout.\n"
		"\n"
		"  -s, --symbols LIST      SYMBOL[:PRICE],... (default BTC-USD,ETH-USD,SOL-USD)\n"
		"  -r, --rate RATE         events per second, 0: as fast as possible (default 10)\n"
		"  -n, --count N           stop after N events (default: no limit)\n"
		"  -d, --duration TIME     stop after TIME of wall time: 30s, 5m, 1h\n"
		"      --seed N            random seed: the same seed gives the same events\n"
		"      --start TIME        event time of the first event (default: now)\n"
		"      --drift X           mean log return per price step (default 0)\n"
		"      --volatility X      its standard deviation (default 0.002)\n"
		"      --cash AMOUNT       starting cash in the quote currency (default 100000)\n"
		"      --fee RATE          fee on each fill's value (default 0.001)\n"
		"  -c, --control FILE      read control lines (a FIFO, '-' for stdin)\n"
		"      --stopped           start with the bot stopped\n"
		"      --strict            the first bad control line is fatal (exit 65)\n"
		"      --max-line SIZE     longest control line accepted (default 1M)\n");
	tf_options_usage(f, 26);
	fprintf(f,
		"\n"
		"Control lines: {\"type\":\"control\",\"action\":\"start|stop|restart\"}.\n"
		"--seed with --start gives byte-identical output. See tf-sim(1).\n");
}

static int
set_option(int val, const char *arg, void *ctx, char *err, size_t errlen)
{
	struct config *c = ctx;
	char why[256];

	switch (val) {
	case 's':
		if (tf_sim_parse_symbols(&c->sim, arg, why, sizeof why) < 0) {
			tf_seterr(err, errlen, "--symbols: %s", why);
			return -1;
		}
		break;
	case 'r':
		return tf_parse_double("--rate", arg, 0, 1e7, &c->rate, err,
			errlen);
	case 'n':
		return tf_parse_u64("--count", arg, 0, UINT64_MAX, &c->count,
			err, errlen);
	case 'd':
		if (tf_parse_duration("--duration", arg, &c->duration, err,
			    errlen) < 0)
			return -1;
		if (c->duration <= 0) {
			tf_seterr(err, errlen, "--duration: must be above 0");
			return -1;
		}
		break;
	case OPT_SEED:
		c->has_seed = 1;
		return tf_parse_u64("--seed", arg, 0, UINT64_MAX,
			&c->sim.seed, err, errlen);
	case OPT_START:
		c->has_start = 1;
		return tf_parse_time("--start", arg, &c->start_ns, err,
			errlen);
	case OPT_DRIFT:
		return tf_parse_double("--drift", arg, -0.1, 0.1,
			&c->sim.drift, err, errlen);
	case OPT_VOLATILITY:
		return tf_parse_double("--volatility", arg, 0, 0.5,
			&c->sim.volatility, err, errlen);
	case OPT_CASH:
		return tf_parse_double("--cash", arg, 100, 1e12, &c->sim.cash,
			err, errlen);
	case OPT_FEE:
		return tf_parse_double("--fee", arg, 0, 0.1, &c->sim.fee, err,
			errlen);
	case 'c':
		if (!*arg) {
			tf_seterr(err, errlen, "--control: empty file name");
			return -1;
		}
		c->control = arg;
		break;
	case OPT_STOPPED:
		c->sim.stopped = 1;
		break;
	}
	return 0;
}

/* Signals */

/* SIGUSR1: one line of progress on stderr. */
static void
report(void)
{
	if (!tf_signal_usr1())
		return;
	fprintf(stderr, "%s: %llu events, bot %s\n", tf_prog(),
		(unsigned long long)out.events,
		out.sim && tf_sim_running(out.sim) ? "running" : "stopped");
}

/* tf_signal_wait keeps SIGINT/SIGTERM/SIGUSR1 blocked outside its waits,
 * and a wait that finds a descriptor ready returns without letting them
 * in; a zero wait on nothing does. */
static void
signals_check(void)
{
	tf_signal_wait(NULL, 0, 0);
	report();
}

/* Output */

/* Writes the buffer out. Waits for the reader through tf_signal_wait, so
 * SIGINT/SIGTERM are seen; after one, waits at most 2 s per chunk for a
 * reader that stopped reading. Returns 0, or -1 with errno set (EPIPE:
 * the reader went away; ETIMEDOUT: it stopped reading). */
static int
out_flush(void)
{
	size_t off = 0;
	int rc = 0, saved;

	while (off < out.len) {
		struct pollfd pfd = { .fd = STDOUT_FILENO, .events = POLLOUT };
		size_t n = out.len - off;
		ssize_t w;
		int r;

		if (!tf_signal_stop())
			r = tf_signal_wait(&pfd, 1, -1);
		else
			r = poll(&pfd, 1, 2000);
		if (r == 0)
			errno = ETIMEDOUT;
		if (r == 0 || (r < 0 && errno != EINTR)) {
			rc = -1;
			break;
		}
		if (r < 0) {
			report();
			continue;	/* a signal: wait again */
		}
		if (n > out.chunk)
			n = out.chunk;
		w = write(STDOUT_FILENO, out.buf + off, n);
		if (w < 0 && errno != EINTR && errno != EAGAIN) {
			rc = -1;
			break;
		}
		if (w > 0)
			off += (size_t)w;
	}
	saved = errno;
	memmove(out.buf, out.buf + off, out.len - off);
	out.len -= off;
	errno = saved;
	return rc;
}

static int
out_put(const char *line, size_t n)
{
	if (out.len + n > sizeof out.buf && out_flush() < 0)
		return -1;
	memcpy(out.buf + out.len, line, n);
	out.len += n;
	out.events++;
	return 0;
}

/* Control */

static int
control_open(struct control *ctl)
{
	struct stat st;

	if (strcmp(ctl->path, "-") == 0) {
		ctl->fd = STDIN_FILENO;
	} else {
		/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
		ctl->fd = open(ctl->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (ctl->fd < 0) {
			tf_error("--control: %s: %s", ctl->path,
				strerror(errno));
			return -1;
		}
	}
	if (fstat(ctl->fd, &st) < 0)
		st.st_mode = 0;
	if (S_ISDIR(st.st_mode)) {
		tf_error("--control: %s: %s", ctl->path, strerror(EISDIR));
		return -1;
	}
	ctl->fifo = S_ISFIFO(st.st_mode) && ctl->fd != STDIN_FILENO;
	if (!(ctl->r = tf_reader_create(ctl->fd, ctl->max_line))) {
		tf_error("out of memory");
		return -1;
	}
	return 0;
}

static void
control_close(struct control *ctl)
{
	tf_reader_destroy(ctl->r);
	ctl->r = NULL;
	if (ctl->fd > STDIN_FILENO)
		close(ctl->fd);
	ctl->fd = -1;
}

/* True when a decoded action is plain text, fit to quote in a message. */
static int
printable(const char *action)
{
	const char *p;

	if (!*action)
		return 0;
	for (p = action; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			return 0;
	return 1;
}

/* Applies one control line. Returns 0, or 65 for a bad line under
 * --strict. */
static int
control_line(struct control *ctl, const struct tf_line *l, struct tf_sim *sim)
{
	static const char *const names[] = { "type", "action" };
	struct tf_scan_keys keys = { 0 };
	struct tf_span f[2];
	struct tf_event ev;
	char why[256], action[32] = "";
	int a, i;

	ctl->lineno++;
	switch (tf_event_check(l, &ev, why, sizeof why)) {
	case 1:
		return 0;
	case 0:
		for (i = 0; i < 2; i++)
			tf_scan_keys_add(&keys, names[i]);
		tf_scan(l->data, l->len, &keys, f, NULL);
		if (!tf_span_eq(&f[0], "control", 7)) {
			snprintf(why, sizeof why, "not a control command "
				"(expected \"type\":\"control\")");
			break;
		}
		if (f[1].kind != TF_JSON_STRING ||
		    tf_span_string(&f[1], action, sizeof action) == (size_t)-1)
			action[0] = '\0';
		if ((a = tf_sim_action_parse(action, strlen(action))) < 0) {
			snprintf(why, sizeof why, "unknown action%s%s%s "
				"(expected start, stop or restart)",
				printable(action) ? " '" : "",
				printable(action) ? action : "",
				printable(action) ? "'" : "");
			break;
		}
		tf_info("control: %s", action);
		tf_sim_control(sim, (enum tf_sim_action)a);
		return 0;
	}
	if (ctl->strict) {
		tf_error("control line %llu: %s",
			(unsigned long long)ctl->lineno, why);
		return 65;
	}
	tf_warn("control line %llu: %s (ignored)",
		(unsigned long long)ctl->lineno, why);
	return 0;
}

/* Reads what the control input holds now, without blocking, and applies
 * it. Returns 0, or 65 (see control_line). After a read error the run
 * goes on without control lines, and ends with status 1. */
static int
control_poll(struct control *ctl, struct tf_sim *sim)
{
	int reads;

	/* Bounded, so a flood of control lines cannot stall the prices. */
	for (reads = 0; ctl->fd >= 0 && reads < 16; reads++) {
		struct pollfd pfd = { .fd = ctl->fd, .events = POLLIN };
		struct tf_line l;
		ssize_t got;
		int rc;

		if (poll(&pfd, 1, 0) <= 0 || !pfd.revents)
			return 0;
		got = tf_reader_fill(ctl->r);
		if (got < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		while (tf_reader_next(ctl->r, &l))
			if ((rc = control_line(ctl, &l, sim)))
				return rc;
		if (got > 0)
			continue;
		if (got < 0) {
			tf_error("--control: %s: %s (no more control lines)",
				ctl->path, strerror(errno));
			ctl->failed = 1;
		}
		control_close(ctl);
		/* The writer closed the FIFO: wait for the next one. */
		if (got == 0 && ctl->fifo && control_open(ctl) < 0) {
			tf_error("--control: no more control lines");
			control_close(ctl);
			ctl->failed = 1;
		}
	}
	return 0;
}

/* Pacing */

enum { GO, STOP, FAILED };

/* Waits for the monotonic time due (or end, or a stop signal), flushing
 * first and applying control lines as they come. Returns GO, STOP, or
 * FAILED with *rc set. */
static int
wait_until(struct control *ctl, struct tf_sim *sim, int64_t due,
	int64_t end, int *rc)
{
	for (;;) {
		struct pollfd pfd = { .fd = ctl->fd, .events = POLLIN };
		int64_t now = tf_mono_ns(), until = due < end ? due : end;
		int r;

		if (tf_signal_stop() || now >= end)
			return STOP;
		if (now >= due)
			return GO;
		/* Never hold a line back while idle. */
		if (out.len && out_flush() < 0) {
			*rc = -1;
			return FAILED;
		}
		r = tf_signal_wait(&pfd, ctl->fd >= 0 ? 1 : 0, until - now);
		report();
		if (r < 0 && errno != EINTR) {
			tf_error("poll: %s", strerror(errno));
			*rc = 1;
			return FAILED;
		}
		if (r > 0 && (*rc = control_poll(ctl, sim)))
			return FAILED;
	}
}

/* The event time of event i: 1/rate apart, or 1 ms apart when unpaced. */
static int64_t
event_ms(const struct config *c, uint64_t i)
{
	double step = c->rate > 0 ? 1000.0 / c->rate : 1.0;

	return c->start_ns / 1000000 + (int64_t)floor((double)i * step);
}

/* Returns the exit status; -1 when stdout failed (errno says how). */
static int
run(struct config *c, struct tf_sim *sim, struct control *ctl)
{
	char line[TF_SIM_LINE_MAX];
	int64_t mono0 = tf_mono_ns(), end = INT64_MAX;
	uint64_t i;
	int rc = 0;

	if (c->duration)
		end = mono0 + c->duration;
	for (i = 0; c->count == 0 || i < c->count; i++) {
		size_t n;

		if (c->rate > 0) {
			int64_t due = mono0 + (int64_t)((double)i * 1e9 /
				c->rate);

			switch (wait_until(ctl, sim, due, end, &rc)) {
			case STOP:
				return 0;
			case FAILED:
				return rc;
			}
		}
		/* Unpaced (or behind schedule): look at control lines, the
		 * clock and signals every 256 events. */
		if ((i & 255) == 0) {
			signals_check();
			if (ctl->fd >= 0 && (rc = control_poll(ctl, sim)))
				return rc;
			if (tf_signal_stop() || tf_mono_ns() >= end)
				return 0;
		}
		n = tf_sim_next(sim, event_ms(c, i), line, sizeof line);
		if (out_put(line, n) < 0)
			return -1;
	}
	return 0;
}

/* Reports how the output ended; returns the exit status. */
static int
finish(int rc)
{
	if (rc >= 0 && out_flush() < 0)
		rc = -1;
	if (rc >= 0)
		return rc;
	if (errno == EPIPE) {
		/* The reader had enough, as with `tf-sim | head`. */
		tf_info("stdout closed by its reader after %llu events",
			(unsigned long long)out.events);
		return 0;
	}
	if (errno == ETIMEDOUT) {
		tf_error("stdout: the reader stopped reading; %zu bytes not "
			"written", out.len);
		return 1;
	}
	tf_error("stdout: %s", strerror(errno));
	return 1;
}

static int
usage_error(const char *what)
{
	tf_options_free();
	return tf_usage_error(what);
}

static uint64_t
random_seed(void)
{
	uint64_t s = 0;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, &s, sizeof s) != sizeof s)
			s = 0;
		close(fd);
	}
	return s ^ (uint64_t)tf_now_ns() ^ ((uint64_t)getpid() << 32);
}

int
main(int argc, char **argv)
{
	struct config c = { .rate = 10 };
	struct control ctl = { .fd = -1 };
	struct tf_sim *sim;
	struct stat st;
	char err[512];
	int first, rc;

	tf_log_init(argv[0]);
	tf_sim_config_init(&c.sim);
	if (tf_options_parse(argc, argv, options, set_option, &c, &c.common,
		    &first, err, sizeof err) < 0)
		return usage_error(err);
	if (first < argc) {
		snprintf(err, sizeof err, "unexpected argument '%s'",
			argv[first]);
		return usage_error(err);
	}
	if (tf_options_answer(&c.common, usage)) {
		tf_options_free();
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if (!c.has_seed)
		c.sim.seed = random_seed();
	if (!c.has_start)
		c.start_ns = tf_now_ns();
	tf_info("seed %llu", (unsigned long long)c.sim.seed);
	if (!(sim = tf_sim_create(&c.sim, err, sizeof err))) {
		tf_error("%s", err);
		tf_options_free();
		return 1;
	}
	ctl.path = c.control;
	ctl.max_line = c.common.max_line;
	ctl.strict = c.common.strict;
	if (c.control && control_open(&ctl) < 0) {
		control_close(&ctl);
		tf_sim_destroy(sim);
		tf_options_free();
		return 1;
	}
	out.chunk = sizeof out.buf;
	out.sim = sim;
	if (fstat(STDOUT_FILENO, &st) == 0 &&
	    (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		out.chunk = PIPE_BUF;	/* after POLLOUT, never blocks */
	tf_signals_init();
	rc = finish(run(&c, sim, &ctl));
	if (rc == 0 && ctl.failed)
		rc = 1;
	control_close(&ctl);
	tf_sim_destroy(sim);
	tf_options_free();
	return rc;
}
