/* line.c: the bounded line reader: one buffer of max_line plus a read
 * chunk, lines found with memchr, over-long lines skipped to their end. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "line.h"

#define CHUNK (64 * 1024)

struct tf_reader {
	int fd;
	int eof;		/* read(2) returned 0 */
	int done;		/* the final line has been returned */
	int discarding;		/* inside a line longer than max_line */
	size_t max_line;
	size_t discarded;	/* bytes of that line seen so far */
	char last;		/* its last byte, to drop a final '\r' */
	uint64_t lineno;
	char *buf;
	size_t cap, start, end, scan;
};

struct tf_reader *
tf_reader_create(int fd, size_t max_line)
{
	struct tf_reader *r = calloc(1, sizeof *r);

	if (!r)
		return NULL;
	r->fd = fd;
	r->max_line = max_line;
	r->cap = max_line + 2 + CHUNK;	/* a whole line, "\r\n", a read */
	r->buf = malloc(r->cap);
	if (!r->buf) {
		free(r);
		return NULL;
	}
	return r;
}

void
tf_reader_destroy(struct tf_reader *r)
{
	if (!r)
		return;
	free(r->buf);
	free(r);
}

/* A partial line that cannot fit any more: drop what we have of it and
 * skip the rest up to its "\n". */
static void
check_overflow(struct tf_reader *r)
{
	if (!r->discarding && r->end - r->start > r->max_line + 1) {
		r->discarding = 1;
		r->discarded = r->end - r->start;
		r->last = r->buf[r->end - 1];
		r->start = r->end = r->scan = 0;
	}
}

ssize_t
tf_reader_fill(struct tf_reader *r)
{
	ssize_t n;

	if (r->eof)
		return 0;
	check_overflow(r);
	if (r->start == r->end) {
		r->start = r->end = r->scan = 0;
	} else if (r->cap - r->end < CHUNK && r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->scan -= r->start;
		r->start = 0;
	}
	n = read(r->fd, r->buf + r->end, r->cap - r->end);
	if (n == 0)
		r->eof = 1;
	else if (n > 0)
		r->end += (size_t)n;
	return n;
}

static int
emit(struct tf_reader *r, struct tf_line *line, const char *p, size_t len,
	int unterminated)
{
	if (len && p[len - 1] == '\r')
		len--;
	line->no = ++r->lineno;
	line->unterminated = unterminated;
	line->too_long = len > r->max_line;
	line->data = line->too_long ? NULL : p;
	line->len = len;
	return 1;
}

int
tf_reader_next(struct tf_reader *r, struct tf_line *line)
{
	char *nl;
	size_t len;

	if (r->discarding) {
		nl = memchr(r->buf + r->start, '\n', r->end - r->start);
		if (!nl) {
			if (r->end > r->start)
				r->last = r->buf[r->end - 1];
			r->discarded += r->end - r->start;
			r->start = r->end = r->scan = 0;
			if (!r->eof || r->done)
				return 0;
			r->done = 1;
		} else {
			if (nl > r->buf + r->start)
				r->last = nl[-1];
			r->discarded += (size_t)(nl - (r->buf + r->start));
			r->start = r->scan = (size_t)(nl - r->buf) + 1;
		}
		r->discarding = 0;
		if (r->last == '\r')
			r->discarded--;
		line->no = ++r->lineno;
		line->data = NULL;
		line->len = r->discarded;
		line->too_long = 1;
		line->unterminated = !nl;
		return 1;
	}
	nl = memchr(r->buf + r->scan, '\n', r->end - r->scan);
	if (nl) {
		char *p = r->buf + r->start;

		len = (size_t)(nl - p);
		r->start = r->scan = (size_t)(nl - r->buf) + 1;
		return emit(r, line, p, len, 0);
	}
	r->scan = r->end;
	check_overflow(r);
	if (r->discarding)
		return tf_reader_next(r, line);
	if (r->eof && !r->done) {
		r->done = 1;
		if (r->end > r->start) {
			char *p = r->buf + r->start;

			len = r->end - r->start;
			r->start = r->scan = r->end;
			return emit(r, line, p, len, 1);
		}
	}
	return 0;
}

int
tf_reader_eof(const struct tf_reader *r)
{
	return r->eof && (r->done || r->start == r->end) && !r->discarding;
}

int
tf_line_blank(const char *s, size_t n)
{
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return n == 0;
}
