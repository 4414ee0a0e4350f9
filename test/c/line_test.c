/* line_test.c: the line reader against a reference splitter, over files and
 * pipes fed in random chunk sizes; and the option value parsers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "line.h"
#include "opts.h"

static int failures;

#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "line_test:%d: ", __LINE__);         \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			failures++;                                          \
		}                                                            \
	} while (0)

static unsigned long long rng = 88172645463325252ULL;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* Random input: lines of 0..3*max bytes, some CRLF, maybe no final "\n". */
static char *
make_input(size_t max, size_t total, size_t *len)
{
	char *s = malloc(total + 4 * max + 8);
	size_t n = 0;

	while (n < total) {
		size_t l = rnd(10) == 0 ? rnd((unsigned)(3 * max)) :
					  rnd((unsigned)max + 2);
		size_t i;

		for (i = 0; i < l; i++)
			s[n++] = (char)('a' + rnd(26));
		if (rnd(5) == 0)
			s[n++] = '\r';
		s[n++] = '\n';
	}
	if (rnd(2))
		n--;	/* drop the final newline */
	*len = n;
	return s;
}

/* Compares the reader on fd with a plain split of s. */
static void
check_reader(int fd, const char *s, size_t len, size_t max, const char *what)
{
	struct tf_reader *r = tf_reader_create(fd, max);
	struct tf_line l;
	size_t pos = 0;
	uint64_t no = 0;
	int done = 0;

	while (!done) {
		ssize_t got;

		while (tf_reader_next(r, &l)) {
			const char *nl = memchr(s + pos, '\n', len - pos);
			size_t end = nl ? (size_t)(nl - s) : len, want = end - pos;

			if (want && s[pos + want - 1] == '\r')
				want--;
			no++;
			CHECK(pos < len, "%s: extra line %llu", what,
				(unsigned long long)l.no);
			CHECK(l.no == no, "%s: line number %llu, want %llu", what,
				(unsigned long long)l.no, (unsigned long long)no);
			CHECK(l.len == want, "%s: line %llu: len %zu, want %zu",
				what, (unsigned long long)no, l.len, want);
			CHECK(l.too_long == (want > max),
				"%s: line %llu: too_long %d (len %zu)", what,
				(unsigned long long)no, l.too_long, want);
			CHECK(l.unterminated == !nl, "%s: line %llu: unterminated",
				what, (unsigned long long)no);
			if (!l.too_long && l.len == want)
				CHECK(!memcmp(l.data, s + pos, want),
					"%s: line %llu: bytes differ", what,
					(unsigned long long)no);
			pos = nl ? end + 1 : len;
			if (failures > 10)
				exit(1);
		}
		got = tf_reader_fill(r);
		CHECK(got >= 0, "%s: read failed", what);
		if (got <= 0 && tf_reader_eof(r))
			done = 1;
	}
	CHECK(pos == len, "%s: stopped at %zu of %zu", what, pos, len);
	CHECK(!tf_reader_next(r, &l), "%s: a line after the end", what);
	tf_reader_destroy(r);
}

static void
test_file(size_t max, size_t total)
{
	size_t len;
	char *s = make_input(max, total, &len);
	FILE *f = tmpfile();

	fwrite(s, 1, len, f);
	fflush(f);
	rewind(f);
	check_reader(fileno(f), s, len, max, "file");
	fclose(f);
	free(s);
}

static void
test_pipe(size_t max, size_t total)
{
	size_t len, off = 0;
	char *s = make_input(max, total, &len);
	int p[2];
	pid_t pid;

	if (pipe(p) < 0)
		exit(2);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		while (off < len) {
			size_t k = 1 + rnd(rnd(4) ? 200 : 70000);

			if (k > len - off)
				k = len - off;
			if (write(p[1], s + off, k) != (ssize_t)k)
				_exit(1);
			off += k;
		}
		_exit(0);
	}
	close(p[1]);
	check_reader(p[0], s, len, max, "pipe");
	close(p[0]);
	waitpid(pid, NULL, 0);
	free(s);
}

static void
test_literal(const char *in, size_t max, const char *expect)
{
	FILE *f = tmpfile();
	struct tf_reader *r;
	struct tf_line l;
	char got[512] = "";

	fputs(in, f);
	fflush(f);
	rewind(f);
	r = tf_reader_create(fileno(f), max);
	for (;;) {
		while (tf_reader_next(r, &l)) {
			char item[64];

			if (l.too_long)
				snprintf(item, sizeof item, "[long %zu]", l.len);
			else
				snprintf(item, sizeof item, "[%.*s]", (int)l.len,
					l.data);
			strcat(got, item);
		}
		if (tf_reader_fill(r) == 0 && tf_reader_eof(r) &&
		    !tf_reader_next(r, &l))
			break;
	}
	CHECK(!strcmp(got, expect), "'%s': got %s, want %s", in, got, expect);
	tf_reader_destroy(r);
	fclose(f);
}

static void
test_parsers(void)
{
	char err[256];
	int64_t ns;
	uint64_t u;
	double d;

	CHECK(!tf_parse_time("t", "2026-11-21T09:30:00Z", &ns, err, sizeof err) &&
		ns == 1795253400LL * 1000000000, "rfc3339 Z");
	CHECK(!tf_parse_time("t", "2026-11-21T10:30:00.25+01:00", &ns, err,
		      sizeof err) && ns == 1795253400LL * 1000000000 + 250000000,
		"rfc3339 offset and fraction");
	CHECK(!tf_parse_time("t", "2026-11-21", &ns, err, sizeof err) &&
		ns == 1795219200LL * 1000000000, "date only");
	CHECK(!tf_parse_time("t", "1763717400", &ns, err, sizeof err) &&
		ns == 1763717400LL * 1000000000, "epoch seconds");
	CHECK(!tf_parse_time("t", "1763717400123", &ns, err, sizeof err) &&
		ns == 1763717400123LL * 1000000, "epoch ms");
	CHECK(tf_parse_time("t", "2026-13-01", &ns, err, sizeof err) < 0 &&
		strstr(err, "is not a time"), "bad month");
	CHECK(tf_parse_time("t", "yesterday", &ns, err, sizeof err) < 0,
		"words");
	CHECK(!tf_parse_duration("d", "250ms", &ns, err, sizeof err) &&
		ns == 250000000, "ms");
	CHECK(!tf_parse_duration("d", "1.5", &ns, err, sizeof err) &&
		ns == 1500000000, "bare seconds");
	CHECK(!tf_parse_duration("d", "5m", &ns, err, sizeof err) &&
		ns == 300LL * 1000000000, "minutes");
	CHECK(!tf_parse_duration("d", "2h", &ns, err, sizeof err) &&
		ns == 7200LL * 1000000000, "hours");
	CHECK(tf_parse_duration("d", "-1s", &ns, err, sizeof err) < 0, "negative");
	CHECK(tf_parse_duration("d", "5x", &ns, err, sizeof err) < 0, "unit");
	CHECK(!tf_parse_size("s", "64K", 0, UINT64_MAX, &u, err, sizeof err) &&
		u == 65536, "64K");
	CHECK(!tf_parse_size("s", "1MiB", 0, UINT64_MAX, &u, err, sizeof err) &&
		u == 1048576, "1MiB");
	CHECK(tf_parse_size("s", "1T", 0, UINT64_MAX, &u, err, sizeof err) < 0,
		"T");
	CHECK(tf_parse_size("s", "1G", 0, 1024, &u, err, sizeof err) < 0 &&
		strstr(err, "out of range"), "range");
	CHECK(tf_parse_u64("n", "12a", 0, 100, &u, err, sizeof err) < 0, "12a");
	CHECK(tf_parse_u64("n", "-1", 0, 100, &u, err, sizeof err) < 0, "-1");
	CHECK(!tf_parse_double("x", "0.25", 0, 1, &d, err, sizeof err) &&
		d == 0.25, "double");
	CHECK(tf_parse_double("x", "nan", 0, 1, &d, err, sizeof err) < 0, "nan");
}

int
main(void)
{
	size_t i;

	test_literal("a\nb\r\nc", 10, "[a][b][c]");
	test_literal("\n\r\n", 10, "[][]");
	test_literal("abc\r", 10, "[abc]");
	test_literal("0123456789\n01234567890\nok\n", 10,
		"[0123456789][long 11][ok]");
	test_literal("0123456789\r\n", 10, "[0123456789]");
	test_literal("0123456789012", 10, "[long 13]");
	test_literal("", 10, "");
	for (i = 0; i < 20; i++) {
		test_file(1 + rnd(300), 200000 + rnd(300000));
		test_pipe(1 + rnd(300), 200000 + rnd(300000));
	}
	test_file(100000, 3000000);
	test_pipe(100000, 3000000);
	test_parsers();
	if (failures)
		fprintf(stderr, "line_test: %d failures\n", failures);
	else
		printf("line_test: ok\n");
	return failures != 0;
}
