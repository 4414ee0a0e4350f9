/* feed: the paced feeder of the WebSocket benchmarks. Writes LINES lines of
 * exactly SIZE bytes (before the "\n") to stdout at RATE lines/s on one
 * absolute schedule, each carrying its sequence number and its due time:
 *   {"type":"price_update","symbol":"BTCUSDT","seq":7,"t":<ns>,...,"pad":"."}
 * usage: feed [-n LINES] [-r RATE] [-s SIZE] [-c monotonic|realtime]
 *             [--wait FILE] [--hold SECONDS] [-v]
 * Lines are written in one batch per millisecond tick. "t" is the tick a
 * line was due at, moved later by the feeder's own lateness only (woken
 * late by a busy CPU), not by time blocked in write(2): a reader that
 * falls behind sees the whole delay as latency, and a late feeder does
 * not count against the reader. After the last line stdout stays
 * open for --hold seconds (or until its reader goes away): a server that
 * closes its clients at end of input is then not racing the last lines. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TICK_NS 1000000LL
#define MAX_BATCH (64 * 1024)

struct feed {
	uint64_t lines;		/* -n */
	double rate;		/* -r, lines/s */
	size_t size;		/* -s, bytes per line before "\n" */
	clockid_t clock;	/* -c: the clock of "t" */
	const char *wait;	/* --wait FILE: start when it exists */
	double hold;		/* --hold seconds after the last line */
	int verbose;
};

static const char *const symbols[] = {
	"BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "ADAUSDT",
	"DOGEUSDT", "AVAXUSDT",
};

static int64_t
now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
sleep_until(clockid_t c, int64_t t)
{
	struct timespec ts = {t / 1000000000, t % 1000000000};

	while (clock_nanosleep(c, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* Formats line seq (due at t) into p: exactly f->size bytes and "\n".
 * Returns the bytes written, or 0 when size is too small for the fields. */
static size_t
format_line(const struct feed *f, char *p, uint64_t seq, int64_t t)
{
	const char *sym = symbols[seq % (sizeof symbols / sizeof *symbols)];
	double price = 40000.0 + (double)(seq % 10000) * 0.25;
	int n, pad;

	n = snprintf(p, f->size + 1,
		"{\"type\":\"price_update\",\"symbol\":\"%s\",\"seq\":%llu,"
		"\"t\":%lld,\"price\":%.2f,\"pad\":\"",
		sym, (unsigned long long)seq, (long long)t, price);
	pad = (int)f->size - n - 2;	/* the closing "} */
	if (n < 0 || pad < 0)
		return 0;
	memset(p + n, '.', (size_t)pad);
	memcpy(p + n + pad, "\"}\n", 3);
	return f->size + 1;
}

/* Writes all of p[0..n): 0, or -1 when the reader has gone (EPIPE). */
static int
write_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(STDOUT_FILENO, p, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EPIPE)
				perror("feed: stdout");
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int
wait_for(const char *path)
{
	int64_t end = now_ns(CLOCK_MONOTONIC) + 60 * 1000000000LL;
	struct stat st;

	while (stat(path, &st) != 0) {
		if (now_ns(CLOCK_MONOTONIC) > end) {
			fprintf(stderr, "feed: %s did not appear in 60 s\n",
				path);
			return -1;
		}
		usleep(2000);
	}
	return 0;
}

/* Keeps stdout open for f->hold seconds, or until its reader closes. */
static void
hold(const struct feed *f)
{
	int64_t end = now_ns(CLOCK_MONOTONIC) + (int64_t)(f->hold * 1e9);
	struct pollfd p = {STDOUT_FILENO, 0, 0};

	for (;;) {
		int64_t left = end - now_ns(CLOCK_MONOTONIC);

		if (left <= 0)
			return;
		/* A pipe's write end reports POLLERR once the reader is gone. */
		if (poll(&p, 1, (int)(left / 1000000) + 1) > 0)
			return;
	}
}

static int
run(const struct feed *f)
{
	static char batch[MAX_BATCH];
	int64_t start, late = 0, tick, wend = 0;
	uint64_t seq = 1;
	size_t used = 0, k;

	if (f->wait && wait_for(f->wait) < 0)
		return 1;
	start = (now_ns(f->clock) / TICK_NS + 1) * TICK_NS;
	while (seq <= f->lines) {
		/* Line seq is due at start + (seq - 1) / rate: wake at the
		 * first tick at or after it, then write every line due. */
		int64_t due = start + (int64_t)((double)(seq - 1) * 1e9 /
			f->rate);
		int64_t now;

		tick = start + (due - start + TICK_NS - 1) / TICK_NS * TICK_NS;
		sleep_until(f->clock, tick);
		now = now_ns(f->clock);
		if (now - (tick > wend ? tick : wend) > late)
			late = now - (tick > wend ? tick : wend);
		while (seq <= f->lines) {
			due = start + (int64_t)((double)(seq - 1) * 1e9 /
				f->rate);
			if (due > now)
				break;
			tick = start + (due - start + TICK_NS - 1) / TICK_NS *
				TICK_NS;
			if (used + f->size + 1 > sizeof batch) {
				if (write_all(batch, used) < 0)
					goto gone;
				used = 0;
			}
			/* Due at tick: a write that blocked past it is the
			 * reader's delay, the feeder's wake-up after it
			 * (or after the tick) its own. */
			k = format_line(f, batch + used, seq++,
				wend > tick ? tick + (now - wend) : now);
			if (k == 0) {
				fprintf(stderr, "feed: -s %zu is too small\n",
					f->size);
				return 2;
			}
			used += k;
		}
		if (write_all(batch, used) < 0)
			goto gone;
		wend = now_ns(f->clock);
		used = 0;
	}
	if (f->verbose)
		fprintf(stderr, "feed: %llu lines in %.3f s, latest wake-up "
			"%.3f ms late (not counting blocked writes)\n",
			(unsigned long long)f->lines,
			(double)(now_ns(f->clock) - start) / 1e9,
			(double)late / 1e6);
	hold(f);
	return 0;
gone:
	fprintf(stderr, "feed: reader closed stdout after %llu lines\n",
		(unsigned long long)seq - 1);
	return 1;
}

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: feed [-n LINES] [-r RATE] [-s SIZE] "
		"[-c monotonic|realtime]\n"
		"            [--wait FILE] [--hold SECONDS] [-v]\n"
		"  -n LINES     lines to write (default 100000; 0 = none)\n"
		"  -r RATE      lines per second (default 20000)\n"
		"  -s SIZE      bytes per line before \"\\n\" (default 120)\n"
		"  -c CLOCK     clock of the \"t\" field, ns (default "
		"monotonic)\n"
		"  --wait FILE  start the schedule once FILE exists\n"
		"  --hold SECS  keep stdout open this long after the last "
		"line (default 0)\n"
		"  -v           report the run on stderr\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"wait", required_argument, NULL, 'W'},
		{"hold", required_argument, NULL, 'H'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	struct feed f = {100000, 20000, 120, CLOCK_MONOTONIC, NULL, 0, 0};
	char probe[4096];
	int c;

	while ((c = getopt_long(argc, argv, "n:r:s:c:vh", longopts, NULL)) !=
		-1) {
		switch (c) {
		case 'n': f.lines = strtoull(optarg, NULL, 10); break;
		case 'r': f.rate = strtod(optarg, NULL); break;
		case 's': f.size = strtoul(optarg, NULL, 10); break;
		case 'c':
			if (strcmp(optarg, "realtime") == 0)
				f.clock = CLOCK_REALTIME;
			else if (strcmp(optarg, "monotonic") == 0)
				f.clock = CLOCK_MONOTONIC;
			else
				goto bad;
			break;
		case 'W': f.wait = optarg; break;
		case 'H': f.hold = strtod(optarg, NULL); break;
		case 'v': f.verbose = 1; break;
		case 'h': usage(stdout); return 0;
		default: goto bad;
		}
	}
	if (optind != argc || !(f.rate > 0) || f.hold < 0 ||
		f.size >= sizeof probe || !(f.hold <= 1e6))
		goto bad;
	if (!format_line(&f, probe, f.lines + 4, INT64_MAX)) {
		fprintf(stderr, "feed: -s %zu is too small for the fields\n",
			f.size);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	return run(&f);
bad:
	usage(stderr);
	return 2;
}
