/* wsproto.h: the bytes of the WebSocket side: server frame headers, JSON
 * string escaping, and a small growable byte buffer to build messages in. */
#ifndef TF_WSPROTO_H
#define TF_WSPROTO_H

#include <stddef.h>
#include <stdint.h>

#define TF_WS_TEXT 0x1
#define TF_WS_BINARY 0x2

/* The longest server frame header (no mask): 2 + 8 bytes. */
#define TF_WS_HEADER_MAX 10

/* Writes the header of one final, unmasked server frame with opcode and a
 * payload of len bytes into h (TF_WS_HEADER_MAX bytes). Returns its
 * length: 2, 4 or 10. */
size_t tf_ws_header(unsigned char *h, int opcode, size_t len);

/* The whole length (header + payload) of the server frame starting at p,
 * which holds at least a complete header. */
size_t tf_ws_frame_size(const unsigned char *p);

/* A growable byte buffer. init/finish work on memory the caller owns; a
 * failed allocation sets failed and later adds do nothing. */
struct tf_buf {
	char *p;
	size_t len, cap;
	int failed;
};

void tf_buf_init(struct tf_buf *b);
void tf_buf_finish(struct tf_buf *b);
void tf_buf_add(struct tf_buf *b, const void *s, size_t n);
void tf_buf_adds(struct tf_buf *b, const char *s);
void tf_buf_addf(struct tf_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Adds v as a JSON number in the fewest digits that read back the same
 * (printf's "%.15g", or "%.17g" when that does not), null for NaN and
 * infinities, which JSON cannot hold. */
void tf_buf_num(struct tf_buf *b, double v);
/* Adds v in decimal. */
void tf_buf_int(struct tf_buf *b, long long v);
/* Adds s[0..n) as a JSON string, quotes included; invalid UTF-8 bytes
 * become U+FFFD. */
void tf_buf_json(struct tf_buf *b, const char *s, size_t n);

/* Writes s[0..n) as a JSON string, quotes included, into dst, which must
 * hold 6 * n + 2 bytes. Returns the length written. */
size_t tf_json_escape(char *dst, const char *s, size_t n);

#endif
