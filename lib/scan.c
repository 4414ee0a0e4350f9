/* scan.c: the hot-path JSON scanner. One pass, no allocation, no recursion:
 * open containers live on a bit stack, strings and digits are skipped a
 * block at a time, and only the wanted top-level keys are compared. */

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scan.h"

#define STR_(x) #x
#define STR(x) STR_(x)

#define STACK_WORDS ((TF_SCAN_MAX_DEPTH + 63) / 64)

/* What a byte is inside a string: all but PLAIN stop the fast skip. */
enum { PLAIN = 0, QUOTE, BACKSLASH, CONTROL, HIGH };

struct fault {
	const unsigned char *at;
	const char *why;
	enum tf_scan_status status;
};

static const unsigned char str_class[256] = {
#define C CONTROL
#define H HIGH
	C, C, C, C, C, C, C, C, C, C, C, C, C, C, C, C,
	C, C, C, C, C, C, C, C, C, C, C, C, C, C, C, C,
	0, 0, QUOTE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, BACKSLASH, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
#undef C
#undef H
};

/* Reasons naming one printable ASCII character, indexed from '!'. */
static const char *const unexpected[] = {
	"unexpected '!'", "unexpected '\"'", "unexpected '#'",
	"unexpected '$'", "unexpected '%'", "unexpected '&'",
	"single-quoted string", "unexpected '('", "unexpected ')'",
	"unexpected '*'", "unexpected '+'", "unexpected ','",
	"unexpected '-'", "unexpected '.'", "unexpected '/'",
	"unexpected '0'", "unexpected '1'", "unexpected '2'",
	"unexpected '3'", "unexpected '4'", "unexpected '5'",
	"unexpected '6'", "unexpected '7'", "unexpected '8'",
	"unexpected '9'", "unexpected ':'", "unexpected ';'",
	"unexpected '<'", "unexpected '='", "unexpected '>'",
	"unexpected '?'", "unexpected '@'", "unexpected 'A'",
	"unexpected 'B'", "unexpected 'C'", "unexpected 'D'",
	"unexpected 'E'", "unexpected 'F'", "unexpected 'G'",
	"unexpected 'H'", "unexpected 'I'", "unexpected 'J'",
	"unexpected 'K'", "unexpected 'L'", "unexpected 'M'",
	"unexpected 'N'", "unexpected 'O'", "unexpected 'P'",
	"unexpected 'Q'", "unexpected 'R'", "unexpected 'S'",
	"unexpected 'T'", "unexpected 'U'", "unexpected 'V'",
	"unexpected 'W'", "unexpected 'X'", "unexpected 'Y'",
	"unexpected 'Z'", "unexpected '['", "unexpected '\\'",
	"unexpected ']'", "unexpected '^'", "unexpected '_'",
	"unexpected '`'", "unexpected 'a'", "unexpected 'b'",
	"unexpected 'c'", "unexpected 'd'", "unexpected 'e'",
	"unexpected 'f'", "unexpected 'g'", "unexpected 'h'",
	"unexpected 'i'", "unexpected 'j'", "unexpected 'k'",
	"unexpected 'l'", "unexpected 'm'", "unexpected 'n'",
	"unexpected 'o'", "unexpected 'p'", "unexpected 'q'",
	"unexpected 'r'", "unexpected 's'", "unexpected 't'",
	"unexpected 'u'", "unexpected 'v'", "unexpected 'w'",
	"unexpected 'x'", "unexpected 'y'", "unexpected 'z'",
	"unexpected '{'", "unexpected '|'", "unexpected '}'",
	"unexpected '~'",
};

static const char *const bad_escape[] = {
	"invalid escape \\!", "invalid escape \\\"", "invalid escape \\#",
	"invalid escape \\$", "invalid escape \\%", "invalid escape \\&",
	"invalid escape \\'", "invalid escape \\(", "invalid escape \\)",
	"invalid escape \\*", "invalid escape \\+", "invalid escape \\,",
	"invalid escape \\-", "invalid escape \\.", "invalid escape \\/",
	"invalid escape \\0", "invalid escape \\1", "invalid escape \\2",
	"invalid escape \\3", "invalid escape \\4", "invalid escape \\5",
	"invalid escape \\6", "invalid escape \\7", "invalid escape \\8",
	"invalid escape \\9", "invalid escape \\:", "invalid escape \\;",
	"invalid escape \\<", "invalid escape \\=", "invalid escape \\>",
	"invalid escape \\?", "invalid escape \\@", "invalid escape \\A",
	"invalid escape \\B", "invalid escape \\C", "invalid escape \\D",
	"invalid escape \\E", "invalid escape \\F", "invalid escape \\G",
	"invalid escape \\H", "invalid escape \\I", "invalid escape \\J",
	"invalid escape \\K", "invalid escape \\L", "invalid escape \\M",
	"invalid escape \\N", "invalid escape \\O", "invalid escape \\P",
	"invalid escape \\Q", "invalid escape \\R", "invalid escape \\S",
	"invalid escape \\T", "invalid escape \\U", "invalid escape \\V",
	"invalid escape \\W", "invalid escape \\X", "invalid escape \\Y",
	"invalid escape \\Z", "invalid escape \\[", "invalid escape \\\\",
	"invalid escape \\]", "invalid escape \\^", "invalid escape \\_",
	"invalid escape \\`", "invalid escape \\a", "invalid escape \\b",
	"invalid escape \\c", "invalid escape \\d", "invalid escape \\e",
	"invalid escape \\f", "invalid escape \\g", "invalid escape \\h",
	"invalid escape \\i", "invalid escape \\j", "invalid escape \\k",
	"invalid escape \\l", "invalid escape \\m", "invalid escape \\n",
	"invalid escape \\o", "invalid escape \\p", "invalid escape \\q",
	"invalid escape \\r", "invalid escape \\s", "invalid escape \\t",
	"invalid escape \\u", "invalid escape \\v", "invalid escape \\w",
	"invalid escape \\x", "invalid escape \\y", "invalid escape \\z",
	"invalid escape \\{", "invalid escape \\|", "invalid escape \\}",
	"invalid escape \\~",
};

/* Bytes that may not follow a number or a literal ("01", "1.", "truex"). */
static inline int
is_word(unsigned char c)
{
	unsigned char l = c | 0x20;

	return (c >= '0' && c <= '9') || (l >= 'a' && l <= 'z') || c == '.' ||
	    c == '+' || c == '-' || c == '_';
}

static const char *
unexpected_byte(unsigned char c)
{
	if (c > ' ' && c < 0x7f)
		return unexpected[c - '!'];
	if (c < 0x20 || c == 0x7f)
		return "unexpected control character";
	return "unexpected non-ASCII character";
}

static inline const unsigned char *
skip_ws(const unsigned char *p, const unsigned char *end)
{
	if (p < end && *p > ' ')
		return p;
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' ||
	    *p == '\t'))
		p++;
	return p;
}

static inline int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static inline int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Length of the well-formed UTF-8 sequence at p (Unicode table 3-7), or 0:
 * that rules out stray continuation bytes, overlongs (C0, C1, E0 80..9F,
 * F0 80..8F), surrogates (ED A0..BF), code points past U+10FFFF and
 * sequences cut short. */
static size_t
utf8_len(const unsigned char *p, const unsigned char *end)
{
	size_t avail = (size_t)(end - p);
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c < 0xc2)
		return 0;
	if (c < 0xe0)
		return avail >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c < 0xf0) {
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
		return avail >= 3 && p[1] >= lo && p[1] <= hi &&
		    (p[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c < 0xf5) {
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		return avail >= 4 && p[1] >= lo && p[1] <= hi &&
		    (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
}

/*
 * Block scans look at BLOCK bytes from p at once and return a mask whose
 * lowest set bit, shifted right by STOP_SHIFT, indexes the first byte that
 * stops the run: for string_stops a quote, a backslash, a control or a
 * non-ASCII byte; for digit_stops anything but a digit.
 */
#if defined(__SSE2__)
#include <emmintrin.h>
#define BLOCK 16
#define STOP_SHIFT 0
#define EXACT_STOPS 1		/* no bit depends on a neighbouring byte */

static inline uint64_t
string_stops(const unsigned char *p)
{
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i q = _mm_cmpeq_epi8(x, _mm_set1_epi8('"'));
	__m128i b = _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'));
	/* A signed compare: bytes 0x80..0xff are below 0x20 too. */
	__m128i c = _mm_cmplt_epi8(x, _mm_set1_epi8(0x20));

	return (uint64_t)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(q, b),
	    c));
}

static inline uint64_t
digit_stops(const unsigned char *p)
{
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i d = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('0' - 1)),
	    _mm_cmplt_epi8(x, _mm_set1_epi8('9' + 1)));

	return (uint64_t)(~_mm_movemask_epi8(d) & 0xffff);
}
#elif defined(__GNUC__) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* Eight bytes in a word. Borrows and carries may flag bytes after the
 * first stop falsely, never bytes before it. */
#define BLOCK 8
#define STOP_SHIFT 3
#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

static inline uint64_t
string_stops(const unsigned char *p)
{
	uint64_t x, q, b;

	memcpy(&x, p, 8);
	q = x ^ (ONES * '"');
	b = x ^ (ONES * '\\');
	return ((q - ONES) | (b - ONES) | (x - ONES * 0x20) | x) & HIGHS;
}

static inline uint64_t
digit_stops(const unsigned char *p)
{
	uint64_t x;

	memcpy(&x, p, 8);
	return ((x + ONES * 0x46) | (x - ONES * '0') | x) & HIGHS;
}
#endif

#ifdef BLOCK
#define FIRST_STOP(m) ((size_t)__builtin_ctzll(m) >> STOP_SHIFT)
#endif

/* Scans a string from p, somewhere after its opening quote at open, to
 * its end. Returns the byte after the closing quote, or NULL with *f
 * filled. */
static const unsigned char *
string_rest(const unsigned char *open, const unsigned char *p,
    const unsigned char *end, int *escaped, struct fault *f)
{
	size_t len;
	int i;

	for (;;) {
#ifdef BLOCK
		while (end - p >= BLOCK) {
			uint64_t m = string_stops(p);

			if (m != 0) {
				p += FIRST_STOP(m);
				goto special;
			}
			p += BLOCK;
		}
#endif
		while (p < end && str_class[*p] == PLAIN)
			p++;
		if (p == end)
			goto unterminated;
#ifdef BLOCK
special:
#endif
		switch (str_class[*p]) {
		case QUOTE:
			return p + 1;
		case BACKSLASH:
			*escaped = 1;
			if (++p == end)
				goto unterminated;
			switch (*p) {
			case '"': case '\\': case '/': case 'b': case 'f':
			case 'n': case 'r': case 't':
				p++;
				break;
			case 'u':
				for (i = 1; i <= 4; i++) {
					if (p + i == end)
						goto unterminated;
					if (hex_value(p[i]) < 0) {
						f->at = p - 1;
						f->why = "invalid \\u escape";
						goto syntax;
					}
				}
				p += 5;
				break;
			default:
				f->at = p - 1;
				f->why = *p > ' ' && *p < 0x7f ?
				    bad_escape[*p - '!'] : "invalid escape";
				goto syntax;
			}
			break;
		case CONTROL:
			f->at = p;
			f->why = "control character in string";
			goto syntax;
		default:
			if ((len = utf8_len(p, end)) == 0) {
				f->at = p;
				f->why = "invalid UTF-8";
				f->status = TF_SCAN_UTF8;
				return NULL;
			}
			p += len;
			break;
		}
	}
unterminated:
	f->at = open;
	f->why = "unterminated string";
syntax:
	f->status = TF_SCAN_SYNTAX;
	return NULL;
}

/* string_rest, with the common case inline: plain ASCII up to the quote. */
static inline const unsigned char *
string_end(const unsigned char *open, const unsigned char *end, int *escaped,
    struct fault *f)
{
	const unsigned char *p = open + 1;

#ifdef BLOCK
	while (end - p >= BLOCK) {
		uint64_t m = string_stops(p);

		if (m != 0) {
			p += FIRST_STOP(m);
			if (*p == '"')
				return p + 1;
			break;
		}
		p += BLOCK;
	}
#endif
	return string_rest(open, p, end, escaped, f);
}

/* The first byte at or after p that is not a digit. */
static inline const unsigned char *
digits_end(const unsigned char *p, const unsigned char *start,
    const unsigned char *end)
{
#ifdef BLOCK
	uint64_t m;
#endif

	(void)start;
#ifdef BLOCK
	while (end - p >= BLOCK) {
		if ((m = digit_stops(p)) != 0)
			return p + FIRST_STOP(m);
		p += BLOCK;
	}
#endif
#ifdef EXACT_STOPS
	/* The line's last block, its mask shifted down to start at p. */
	if (end - start >= BLOCK) {
		m = digit_stops(end - BLOCK) >> (BLOCK - (end - p));
		return m != 0 ? p + FIRST_STOP(m) : end;
	}
#endif
	while (p < end && is_digit(*p))
		p++;
	return p;
}

/* The end of the RFC 8259 number at p, or NULL. */
static inline const unsigned char *
number_end(const unsigned char *p, const unsigned char *start,
    const unsigned char *end)
{
	if (*p == '-' && ++p == end)
		return NULL;
	if (*p == '0')
		p++;
	else if (is_digit(*p))
		p = digits_end(p + 1, start, end);
	else
		return NULL;
	if (p < end && *p == '.') {
		if (++p == end || !is_digit(*p))
			return NULL;
		p = digits_end(p + 1, start, end);
	}
	if (p < end && (*p | 0x20) == 'e') {
		if (++p < end && (*p == '+' || *p == '-'))
			p++;
		if (p == end || !is_digit(*p))
			return NULL;
		p = digits_end(p + 1, start, end);
	}
	if (p < end && is_word(*p))
		return NULL;
	return p;
}

static inline const unsigned char *
literal_end(const unsigned char *p, const unsigned char *end,
    const char *lit, size_t len)
{
	if ((size_t)(end - p) < len || memcmp(p, lit, len) != 0)
		return NULL;
	p += len;
	if (p < end && is_word(*p))
		return NULL;
	return p;
}

/* Decodes one character of the escaped string text at *pp (before end)
 * into u as UTF-8 and returns its length. Unpaired surrogates become
 * U+FFFD; a malformed escape is taken as a plain backslash. */
static size_t
decode_char(const char **pp, const char *end, char u[4])
{
	const unsigned char *p = (const unsigned char *)*pp;
	const unsigned char *e = (const unsigned char *)end;
	long cp = 0, lo = 0;
	int i, h;

	if (p[0] != '\\' || e - p < 2)
		goto raw;
	switch (p[1]) {
	case '"': case '\\': case '/':
		u[0] = (char)p[1];
		break;
	case 'b': u[0] = '\b'; break;
	case 'f': u[0] = '\f'; break;
	case 'n': u[0] = '\n'; break;
	case 'r': u[0] = '\r'; break;
	case 't': u[0] = '\t'; break;
	case 'u':
		if (e - p < 6)
			goto raw;
		for (i = 2; i < 6; i++) {
			if ((h = hex_value(p[i])) < 0)
				goto raw;
			cp = cp << 4 | h;
		}
		*pp += 6;
		if (cp >= 0xd800 && cp <= 0xdbff && e - p >= 12 &&
		    p[6] == '\\' && p[7] == 'u') {
			for (i = 8; i < 12; i++) {
				if ((h = hex_value(p[i])) < 0)
					break;
				lo = lo << 4 | h;
			}
			if (i == 12 && lo >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
				*pp += 6;
			}
		}
		if (cp >= 0xd800 && cp <= 0xdfff)
			cp = 0xfffd;
		if (cp < 0x80) {
			u[0] = (char)cp;
			return 1;
		}
		if (cp < 0x800) {
			u[0] = (char)(0xc0 | cp >> 6);
			u[1] = (char)(0x80 | (cp & 0x3f));
			return 2;
		}
		if (cp < 0x10000) {
			u[0] = (char)(0xe0 | cp >> 12);
			u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
			u[2] = (char)(0x80 | (cp & 0x3f));
			return 3;
		}
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		return 4;
	default:
		goto raw;
	}
	*pp += 2;
	return 1;
raw:
	u[0] = (char)p[0];
	*pp += 1;
	return 1;
}

/* True when the escaped string text p[0..n) decodes to s[0..sn). */
static int
escaped_eq(const char *p, size_t n, const char *s, size_t sn)
{
	const char *end = p + n;
	size_t k, off = 0;
	char u[4];

	while (p < end) {
		k = decode_char(&p, end, u);
		if (sn - off < k || memcmp(s + off, u, k) != 0)
			return 0;
		off += k;
	}
	return off == sn;
}

/* memcmp() == 0 for the few bytes of a key, without a call. */
static inline int
same(const char *a, const char *b, size_t n)
{
	while (n > 0 && *a == *b) {
		a++;
		b++;
		n--;
	}
	return n == 0;
}

/* One bit of 64 for a key of n bytes starting with byte c: a key whose
 * bit is not among the wanted keys' bits is none of them (most keys of a
 * line are not wanted, and comparing each with every wanted one was a
 * quarter of a scan). */
static inline uint64_t
key_bit(unsigned char c, size_t n)
{
	return (uint64_t)1 << ((c + 7 * n) & 63);
}

static inline int
match_key(const struct tf_scan_keys *keys, int nkeys, uint64_t bits,
    const char *p, size_t n, int escaped)
{
	int i;

	/* An escaped key may spell a wanted one differently: compare. */
	if (!escaped && n && !(bits & key_bit((unsigned char)*p, n)))
		return -1;
	for (i = 0; i < nkeys; i++) {
		if (escaped) {
			if (escaped_eq(p, n, keys->name[i], keys->len[i]))
				return i;
		} else if (keys->len[i] == n && same(keys->name[i], p, n)) {
			return i;
		}
	}
	return -1;
}

static void
record(struct tf_span *sp, const unsigned char *start,
    const unsigned char *end, int escaped)
{
	switch (*start) {
	case '"':
		sp->kind = TF_JSON_STRING;
		sp->p = (const char *)start + 1;
		sp->n = (size_t)(end - start) - 2;
		sp->escaped = escaped;
		return;
	case '{': sp->kind = TF_JSON_OBJECT; break;
	case '[': sp->kind = TF_JSON_ARRAY; break;
	case 't': sp->kind = TF_JSON_TRUE; break;
	case 'f': sp->kind = TF_JSON_FALSE; break;
	case 'n': sp->kind = TF_JSON_NULL; break;
	default: sp->kind = TF_JSON_NUMBER; break;
	}
	sp->p = (const char *)start;
	sp->n = (size_t)(end - start);
	sp->escaped = 0;
}

static enum tf_scan_status
fail(struct tf_scan_error *e, const char *s, const unsigned char *at,
    const char *why, enum tf_scan_status status)
{
	if (e != NULL) {
		e->offset = (size_t)((const char *)at - s);
		e->reason = why;
	}
	return status;
}

/* The reason for an unexpected byte where a value should start. */
static const char *
bad_value(const unsigned char *start, const unsigned char *p)
{
	const unsigned char *q = p;

	if (*p == ']' || *p == '}') {
		while (q > start && (q[-1] == ' ' || q[-1] == '\t' ||
		    q[-1] == '\n' || q[-1] == '\r'))
			q--;
		if (q > start && q[-1] == ',')
			return "trailing comma";
	}
	if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
		return "invalid literal";
	if (*p == '.' || *p == '+')
		return "invalid number";
	return unexpected_byte(*p);
}

/* Unexpected bytes outside strings that are not even UTF-8 are reported as
 * such, so that counts of invalid UTF-8 do not depend on where it was. */
static enum tf_scan_status
fail_at(struct tf_scan_error *e, const char *s, const unsigned char *p,
    const unsigned char *end, const char *why)
{
	if (*p >= 0x80 && utf8_len(p, end) == 0)
		return fail(e, s, p, "invalid UTF-8", TF_SCAN_UTF8);
	return fail(e, s, p, why, TF_SCAN_SYNTAX);
}

/*
 * The grammar runs as a loop over three states (value, key, next) joined by
 * gotos: containers push a bit (1: object) and pop it at their close, and a
 * value that ends at depth 1 is recorded when its key was wanted. An error
 * points at the byte that cannot be, except that an unterminated string
 * points at its opening quote, and a bad number or literal at its start.
 */
enum tf_scan_status
tf_scan(const char *s, size_t n, const struct tf_scan_keys *keys,
    struct tf_span *out, struct tf_scan_error *e)
{
	const unsigned char *start = (const unsigned char *)s;
	const unsigned char *end = start + n, *p, *q, *top, *vstart = NULL;
	uint64_t stack[STACK_WORDS];
	int depth = 0, in_object = 0, want = -1, escaped = 0, nkeys = 0, i;
	uint64_t bits = 0;	/* key_bit of the wanted keys */
	struct fault f;

	if (keys != NULL && out != NULL) {
		nkeys = keys->n < TF_SCAN_MAX_KEYS ? keys->n : TF_SCAN_MAX_KEYS;
		for (i = 0; i < nkeys; i++) {
			out[i].p = NULL;
			out[i].n = 0;
			out[i].kind = TF_JSON_ABSENT;
			out[i].escaped = 0;
			if (keys->len[i])
				bits |= key_bit((unsigned char)keys->name[i][0],
				    keys->len[i]);
		}
	}
	top = p = skip_ws(start, end);
	if (p == end)
		return fail(e, s, p, "empty line", TF_SCAN_SYNTAX);

value:
	if (p == end)
		return fail(e, s, p, "unexpected end of line", TF_SCAN_SYNTAX);
	if (depth == 1)
		vstart = p;
	switch (*p) {
	case '{':
	case '[':
		if (depth == TF_SCAN_MAX_DEPTH)
			return fail(e, s, p, "nesting deeper than "
			    STR(TF_SCAN_MAX_DEPTH), TF_SCAN_DEPTH);
		in_object = *p == '{';
		if (in_object)
			stack[depth >> 6] |= 1ULL << (depth & 63);
		else
			stack[depth >> 6] &= ~(1ULL << (depth & 63));
		depth++;
		p = skip_ws(p + 1, end);
		if (p < end && *p == (in_object ? '}' : ']')) {
			p++;
			goto close;
		}
		if (in_object)
			goto key;
		goto value;
	case '"':
		escaped = 0;
		if ((q = string_end(p, end, &escaped, &f)) == NULL)
			return fail(e, s, f.at, f.why, f.status);
		p = q;
		goto next;
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		if ((q = number_end(p, start, end)) == NULL)
			return fail(e, s, p, "invalid number", TF_SCAN_SYNTAX);
		p = q;
		goto next;
	case 't':
		q = literal_end(p, end, "true", 4);
		break;
	case 'f':
		q = literal_end(p, end, "false", 5);
		break;
	case 'n':
		q = literal_end(p, end, "null", 4);
		break;
	default:
		return fail_at(e, s, p, end, bad_value(start, p));
	}
	if (q == NULL)
		return fail(e, s, p, "invalid literal", TF_SCAN_SYNTAX);
	p = q;
	goto next;

close:
	if (--depth > 0)
		in_object = stack[(depth - 1) >> 6] >> ((depth - 1) & 63) & 1;
next:
	if (depth == 1 && want >= 0) {
		record(&out[want], vstart, p, escaped);
		want = -1;
	}
	if (depth == 0)
		goto done;
	p = skip_ws(p, end);
	if (p == end)
		return fail(e, s, p, "unexpected end of line", TF_SCAN_SYNTAX);
	if (*p == ',') {
		p = skip_ws(p + 1, end);
		if (in_object)
			goto key;
		goto value;
	}
	if (*p == (in_object ? '}' : ']')) {
		p++;
		goto close;
	}
	if (*p == '}' || *p == ']')
		return fail(e, s, p, unexpected_byte(*p), TF_SCAN_SYNTAX);
	return fail_at(e, s, p, end, in_object ? "expected ',' or '}'" :
	    "expected ',' or ']'");

key:
	if (p == end)
		return fail(e, s, p, "unexpected end of line", TF_SCAN_SYNTAX);
	if (*p != '"')
		return fail_at(e, s, p, end, *p == '}' ? "trailing comma" :
		    *p == '\'' ? "single-quoted string" :
		    "expected a string key");
	escaped = 0;
	if ((q = string_end(p, end, &escaped, &f)) == NULL)
		return fail(e, s, f.at, f.why, f.status);
	if (depth == 1 && nkeys > 0)
		want = match_key(keys, nkeys, bits, (const char *)p + 1,
		    (size_t)(q - p) - 2, escaped);
	p = skip_ws(q, end);
	if (p == end)
		return fail(e, s, p, "unexpected end of line", TF_SCAN_SYNTAX);
	if (*p != ':')
		return fail_at(e, s, p, end, "expected ':' after key");
	p = skip_ws(p + 1, end);
	goto value;

done:
	p = skip_ws(p, end);
	if (p != end)
		return fail_at(e, s, p, end, *top == '{' ?
		    "trailing characters after the object" :
		    "trailing characters after the value");
	if (*top != '{')
		return fail(e, s, top, "not an object", TF_SCAN_NOT_OBJECT);
	return TF_SCAN_OK;
}

int
tf_scan_keys_add(struct tf_scan_keys *keys, const char *name)
{
	size_t len = strlen(name);
	int i;

	for (i = 0; i < keys->n; i++)
		if (keys->len[i] == len &&
		    memcmp(keys->name[i], name, len) == 0)
			return i;
	if (keys->n >= TF_SCAN_MAX_KEYS)
		return -1;
	keys->name[keys->n] = name;
	keys->len[keys->n] = len;
	return keys->n++;
}

size_t
tf_span_string(const struct tf_span *sp, char *buf, size_t size)
{
	const char *p, *end;
	size_t k, off = 0;
	char u[4];

	if (sp->kind != TF_JSON_STRING || size == 0)
		return (size_t)-1;
	if (!sp->escaped) {
		if (sp->n >= size)
			return (size_t)-1;
		memcpy(buf, sp->p, sp->n);
		buf[sp->n] = '\0';
		return sp->n;
	}
	for (p = sp->p, end = p + sp->n; p < end; off += k) {
		k = decode_char(&p, end, u);
		if (size - off <= k)
			return (size_t)-1;
		memcpy(buf + off, u, k);
	}
	buf[off] = '\0';
	return off;
}

int
tf_span_eq(const struct tf_span *sp, const char *s, size_t n)
{
	if (sp->kind != TF_JSON_STRING)
		return 0;
	if (!sp->escaped)
		return sp->n == n && memcmp(sp->p, s, n) == 0;
	return escaped_eq(sp->p, sp->n, s, n);
}

int
tf_span_double(const struct tf_span *sp, double *v)
{
	char tmp[64], *end;

	if (sp->kind != TF_JSON_NUMBER &&
	    (sp->kind != TF_JSON_STRING || sp->escaped || !sp->n ||
		    (sp->p[0] != '-' && (sp->p[0] < '0' || sp->p[0] > '9'))))
		return -1;
	if (sp->n >= sizeof tmp)
		return -1;
	memcpy(tmp, sp->p, sp->n);
	tmp[sp->n] = '\0';
	*v = strtod(tmp, &end);
	return *end || !isfinite(*v) ? -1 : 0;
}
