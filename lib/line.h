/* line.h: the bounded line reader every program uses on its input. A line
 * is the bytes before "\n" or "\r\n"; longer than max_line is an error for
 * that line only, reported once with its number, never cut. */
#ifndef TF_LINE_H
#define TF_LINE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct tf_line {
	const char *data;	/* not NUL-terminated; NULL when too_long */
	size_t len;		/* bytes without the terminator (when too_long:
				 * the whole length seen) */
	uint64_t no;		/* 1-based line number */
	int too_long;
	int unterminated;	/* last line of input had no "\n" */
};

struct tf_reader;

/* Reads fd (blocking or not; the caller owns it). Returns NULL on ENOMEM. */
struct tf_reader *tf_reader_create(int fd, size_t max_line);
void tf_reader_destroy(struct tf_reader *r);

/* One read(2) into the buffer: >0 bytes read, 0 at end of input, -1 with
 * errno set (EAGAIN, EINTR, ...). */
ssize_t tf_reader_fill(struct tf_reader *r);

/* The next complete line already in the buffer: 1 and *line filled (valid
 * until the next fill), or 0 when more input is needed. After fill has
 * returned 0, the final line without "\n" comes out, then 0 for ever. */
int tf_reader_next(struct tf_reader *r, struct tf_line *line);

/* Nonzero when the buffer holds no complete line and end of input was
 * seen. */
int tf_reader_eof(const struct tf_reader *r);

/* True when a line is empty or only spaces/tabs (skipped silently). */
int tf_line_blank(const char *s, size_t n);

#endif
