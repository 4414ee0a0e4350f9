/* lateness: how late tf-replay delivers each line against the recording's
 * own schedule. usage: tf-replay --speed X FILE | lateness FILE [X]
 * Stamps every line of stdin on arrival (CLOCK_MONOTONIC), then compares
 * lateness_i = (recv_i - recv_0) - (ts_i - ts_0) / X with the recording. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "opts.h"
#include "store.h"

struct mark {
	int64_t recv;			/* arrival */
	size_t end;			/* offset of its '\n' */
};

struct got {
	char *data;			/* every byte read */
	size_t len, cap;
	struct mark *line;
	size_t n, ncap;
};

static void *
grow(void *p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return p;
	*cap = need > 2 * *cap ? need : 2 * *cap;
	if (!(p = realloc(p, *cap * size))) {
		fprintf(stderr, "lateness: out of memory\n");
		exit(1);
	}
	return p;
}

/* Reads stdin to its end first, stamping lines, so that nothing else runs
 * between a line's arrival and its stamp. */
static void
receive(struct got *g)
{
	for (;;) {
		ssize_t k;
		int64_t now;
		size_t i;

		g->data = grow(g->data, &g->cap, g->len + 65536, 1);
		k = read(STDIN_FILENO, g->data + g->len, 65536);
		now = tf_mono_ns();
		if (k < 0) {
			perror("lateness: stdin");
			exit(1);
		}
		if (k == 0)
			return;
		for (i = g->len; i < g->len + (size_t)k; i++) {
			if (g->data[i] != '\n')
				continue;
			g->line = grow(g->line, &g->ncap, g->n + 1,
				sizeof *g->line);
			g->line[g->n].recv = now;
			g->line[g->n++].end = i;
		}
		g->len += (size_t)k;
	}
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Prints p50, p99, max and min of late[0..n), and p99 - p50: the jitter,
 * which does not depend on how late line 0, the anchor, itself came. */
static void
report(const char *name, const int64_t *late, size_t n)
{
	int64_t *s;
	size_t p99;

	if (!n) {
		printf("%-10s  (no lines)\n", name);
		return;
	}
	if (!(s = malloc(n * sizeof *s)))
		exit(1);
	memcpy(s, late, n * sizeof *s);
	qsort(s, n, sizeof *s, cmp64);
	p99 = (n * 99 + 99) / 100;
	printf("%-10s %8zu %10.3f %10.3f %10.3f %10.3f %10.3f\n", name, n,
		(double)s[(n - 1) / 2] / 1e6, (double)s[p99 - 1] / 1e6,
		(double)s[n - 1] / 1e6, (double)s[0] / 1e6,
		(double)(s[p99 - 1] - s[(n - 1) / 2]) / 1e6);
	free(s);
}

int
main(int argc, char **argv)
{
	struct got g = { 0 };
	struct tf_query all = { 0 };
	struct tf_store *st;
	struct tf_cursor *c;
	struct tf_row row;
	char err[512];
	int64_t *late, ts0 = 0;
	double speed = 1;
	size_t i = 0, differ = 0, tenth, compared;
	int k, rc = 0;

	if (argc < 2 || argc > 3 || (argc == 3 && tf_parse_double("SPEED",
						      argv[2], 1e-6, 1e9,
						      &speed, err, sizeof err))) {
		fprintf(stderr, "usage: tf-replay --speed X FILE | lateness "
				"FILE [X]\n");
		return 2;
	}
	receive(&g);
	if (!(st = tf_store_open(argv[1], TF_STORE_READ, err, sizeof err)) ||
	    !(c = tf_cursor_open(st, &all, err, sizeof err))) {
		fprintf(stderr, "lateness: %s\n", err);
		return 1;
	}
	if (!(late = calloc(g.n ? g.n : 1, sizeof *late)))
		return 1;
	while ((k = tf_cursor_next(c, &row, err, sizeof err)) > 0) {
		size_t start = i ? g.line[i - 1].end + 1 : 0;

		if (i == 0)
			ts0 = row.ts_ns;
		if (i < g.n) {
			if (g.line[i].end - start != row.len ||
			    memcmp(g.data + start, row.line, row.len))
				differ++;
			late[i] = (g.line[i].recv - g.line[0].recv) -
				(int64_t)((double)(row.ts_ns - ts0) / speed);
		}
		i++;
	}
	if (k < 0) {
		fprintf(stderr, "lateness: %s\n", err);
		return 1;
	}
	printf("lateness (ms) = (recv_i - recv_0) - (ts_i - ts_0) / %g\n",
		speed);
	printf("%-10s %8s %10s %10s %10s %10s %10s\n", "lines", "n", "p50",
		"p99", "max", "min", "p99-p50");
	compared = g.n < i ? g.n : i;
	tenth = compared / 10;
	report("all", late, compared);
	report("first 10%", late, tenth);
	report("last 10%", late + compared - tenth, tenth);
	printf("received %zu lines, recording has %zu", g.n, i);
	if (g.n != i || differ) {
		printf(": MISMATCH, %zu differ\n", differ);
		rc = 1;
	} else {
		printf(", all equal\n");
	}
	tf_cursor_close(c);
	tf_store_close(st);
	free(late);
	free(g.data);
	free(g.line);
	return rc;
}
