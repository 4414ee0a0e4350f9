/* wsproto.c: WebSocket frame headers (RFC 6455 section 5.2), and the
 * buffer, JSON strings and numbers of the messages the hub and the
 * dashboard's state build. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wsproto.h"

size_t
tf_ws_header(unsigned char *h, int opcode, size_t len)
{
	int i;

	h[0] = (unsigned char)(0x80 | (opcode & 0x0f));
	if (len < 126) {
		h[1] = (unsigned char)len;
		return 2;
	}
	if (len <= 0xffff) {
		h[1] = 126;
		h[2] = (unsigned char)(len >> 8);
		h[3] = (unsigned char)len;
		return 4;
	}
	h[1] = 127;
	for (i = 0; i < 8; i++)
		h[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
	return 10;
}

size_t
tf_ws_frame_size(const unsigned char *p)
{
	size_t n = p[1] & 0x7f;
	int i;

	if (n < 126)
		return 2 + n;
	if (n == 126)
		return 4 + ((size_t)p[2] << 8 | p[3]);
	n = 0;
	for (i = 0; i < 8; i++)
		n = n << 8 | p[2 + i];
	return 10 + n;
}

void
tf_buf_init(struct tf_buf *b)
{
	memset(b, 0, sizeof *b);
}

void
tf_buf_finish(struct tf_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

static int
reserve(struct tf_buf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->failed)
		return -1;
	if (b->cap - b->len > n)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap - b->len <= n)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->failed = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void
tf_buf_add(struct tf_buf *b, const void *s, size_t n)
{
	if (reserve(b, n) < 0)
		return;
	if (n)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
tf_buf_adds(struct tf_buf *b, const char *s)
{
	tf_buf_add(b, s, strlen(s));
}

void
tf_buf_addf(struct tf_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || reserve(b, (size_t)n + 1) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Writes the digits of u backwards, ending at end; returns the first. */
static char *
digits(char *end, unsigned long long u)
{
	do
		*--end = (char)('0' + u % 10);
	while (u /= 10);
	return end;
}

void
tf_buf_int(struct tf_buf *b, long long v)
{
	char tmp[24], *end = tmp + sizeof tmp, *p;

	p = digits(end, v < 0 ? 0ULL - (unsigned long long)v :
		(unsigned long long)v);
	if (v < 0)
		*--p = '-';
	tf_buf_add(b, p, (size_t)(end - p));
}

/* Most numbers a trading system sends are short decimals (prices, sizes,
 * money): printf's floating-point formatting was most of what a
 * snapshot cost. A number that is r / 10^d exactly as a double, with r
 * an integer of at most 15 digits, is written as that decimal
 * with the smallest d: the same text "%.15g" gives, since v rounded to 15
 * significant digits is that decimal (v is within half an ulp of it, ~1e-16
 * of v, far less than half a step of the 15th digit). r / 10^d is
 * rounded from the exact quotient as strtod rounds the text, so the test
 * is the round trip itself. Outside [1e-4, 1e15), where "%g" takes an
 * exponent, and for anything else, printf decides. */
void
tf_buf_num(struct tf_buf *b, double v)
{
	/* Powers of ten up to 1e19, exact as doubles (up to 1e22 are):
	 * from 1e-4 on, 15 digits never need more decimals than 19. */
	static const double p10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
		1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
		1e19 };
	static const unsigned long long u10[] = { 1ULL, 10ULL, 100ULL,
		1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
		100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL,
		1000000000000ULL, 10000000000000ULL, 100000000000000ULL,
		1000000000000000ULL, 10000000000000000ULL,
		100000000000000000ULL, 1000000000000000000ULL,
		10000000000000000000ULL };
	double a = fabs(v);
	char tmp[40];
	int d, wide = 0;

	if (!isfinite(v)) {
		tf_buf_add(b, "null", 4);
		return;
	}
	if (a >= 1e-4 && a < 1e15) {
		for (d = 0; d < 20; d++) {
			double x = a * p10[d], r;
			unsigned long long u, ip, fp;
			char *end = tmp + sizeof tmp, *p;
			int i;

			if (x >= 1e15) {	/* past 15 significant digits */
				/* Clearly past: no 15-digit decimal is v (one
				 * with fewer decimals would have been found). */
				wide = x >= 1.1e15;
				break;
			}
			r = nearbyint(x);
			if (r / p10[d] != a)
				continue;
			u = (unsigned long long)r;
			ip = u / u10[d];
			fp = u % u10[d];
			p = end;
			if (d) {
				for (i = 0; i < d; i++, fp /= 10)
					*--p = (char)('0' + fp % 10);
				*--p = '.';
			}
			p = digits(p, ip);
			if (v < 0)
				*--p = '-';
			tf_buf_add(b, p, (size_t)(end - p));
			return;
		}
	}
	if (wide || (snprintf(tmp, sizeof tmp, "%.15g", v),
	    strtod(tmp, NULL) != v))
		snprintf(tmp, sizeof tmp, "%.17g", v);
	tf_buf_adds(b, tmp);
}

void
tf_buf_json(struct tf_buf *b, const char *s, size_t n)
{
	if (n > ((size_t)-1 - 2) / 6 || reserve(b, 6 * n + 2) < 0)
		return;
	b->len += tf_json_escape(b->p + b->len, s, n);
	b->p[b->len] = '\0';
}

/* The length of the valid UTF-8 sequence at s (1..4), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len, i;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

size_t
tf_json_escape(char *dst, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	char *d = dst;
	size_t i = 0;

	*d++ = '"';
	while (i < n) {
		unsigned c = u[i];
		size_t k;

		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			*d++ = (char)c;
			i++;
			continue;
		}
		if (c >= 0x80) {
			k = utf8_len(u + i, n - i);
			if (k) {
				memcpy(d, u + i, k);
				d += k;
				i += k;
			} else {
				memcpy(d, "\\ufffd", 6);
				d += 6;
				i++;
			}
			continue;
		}
		*d++ = '\\';
		switch (c) {
		case '"': *d++ = '"'; break;
		case '\\': *d++ = '\\'; break;
		case '\n': *d++ = 'n'; break;
		case '\r': *d++ = 'r'; break;
		case '\t': *d++ = 't'; break;
		case '\b': *d++ = 'b'; break;
		case '\f': *d++ = 'f'; break;
		default:
			*d++ = 'u';
			*d++ = '0';
			*d++ = '0';
			*d++ = hex[c >> 4];
			*d++ = hex[c & 15];
		}
		i++;
	}
	*d++ = '"';
	return (size_t)(d - dst);
}
