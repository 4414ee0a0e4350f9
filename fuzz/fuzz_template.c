/* fuzz_template.c: a libFuzzer target for lib/template: renders a fuzzed
 * template at a fuzzed output size and aborts when the render breaks its
 * contract (length, bounds, prefix of the whole text, UTF-8 cut), or when
 * tf_template_number misformats a fuzzed double.
 *
 * The input: two bytes of output size (0..600), one byte of flags, eight
 * bytes of a double, then NUL-separated: the template text, an event
 * line, the value of {symbol}, the value of {level}. `make fuzz` builds
 * it as $(B)/fuzz_template and grows $(B)/fuzz-corpus-template from
 * fuzz/seeds-template (with the inputs of the bugs it found: regress-*).
 */

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "laxer.h"
#include "template.h"

#define MAX_SIZE 600
#define GUARD 64
#define GUARD_BYTE 0xA5

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const vars[] = { "symbol", "level", NULL };

/* What the callback reads. */
struct vals {
	const char *v[2];
	double num;
	int flags;
	int dropped;	/* a number did not fit and was left out */
};

enum {
	F_NUMBER = 1,	/* {level} as tf_template_number, as lib/alert.c */
	F_CLAMP = 2,	/* return the length written, not the one wanted */
};

static void
fail(const char *what, size_t size)
{
	fprintf(stderr, "fuzz_template: %s (size %zu)\n", what, size);
	abort();
}

/* As real callers do: snprintf, cut at a byte. */
static size_t
var_fn(int var, char *buf, size_t size, void *arg)
{
	struct vals *vals = arg;
	int k;

	if (var == 1 && (vals->flags & F_NUMBER)) {
		size_t n = tf_template_number(vals->num, buf, size);

		/* All or nothing: the cut need not be as long as fits. */
		if (n >= size)
			vals->dropped = 1;
		return n;
	}
	k = snprintf(buf, size, "%s", vals->v[var]);
	if (k < 0)
		return 0;
	if (vals->flags & F_CLAMP)
		return (size_t)k < size ? (size_t)k : size - 1;
	return (size_t)k;
}

/* The length of the valid UTF-8 prefix of s[0..n). */
static size_t
utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], cp, len, j;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			len = 2, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			len = 3, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			len = 4, cp = c & 0x07;
		else
			return i;
		if (n - i < len)
			return i;
		for (j = 1; j < len; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return i;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
			return i;
		i += len;
	}
	return n;
}

/* Renders into a buffer of size bytes followed by a guard region; checks
 * the return and the guard. Returns the buffer (the caller frees it). */
static char *
render(const struct tf_template *t, struct vals *vals, const char *line,
	size_t len, size_t size, size_t *outlen)
{
	unsigned char *buf = malloc(size + GUARD);
	size_t n, i;

	if (!buf)
		abort();
	memset(buf, GUARD_BYTE, size + GUARD);
	/* jq 1.6 leaks on some lines that are not JSON (laxer.h). */
#ifdef LAX_ASAN
	if (lax_jq_may_leak((const unsigned char *)line, len))
		__lsan_disable();
#endif
	n = tf_template_render(t, var_fn, vals, line, len, (char *)buf, size);
#ifdef LAX_ASAN
	if (lax_jq_may_leak((const unsigned char *)line, len))
		__lsan_enable();
#endif
	for (i = size; i < size + GUARD; i++)
		if (buf[i] != GUARD_BYTE)
			fail("wrote at or past out[size]", size);
	if (size == 0) {
		if (n != 0)
			fail("returned nonzero for size 0", size);
	} else {
		if (!memchr(buf, '\0', size))
			fail("output not NUL-terminated", size);
		if (n != strlen((char *)buf))
			fail("return != strlen(out)", size);
	}
	*outlen = n;
	return (char *)buf;
}

static void
check_number(double v, size_t size)
{
	unsigned char buf[128 + GUARD];
	char copy[128], *end;
	size_t n, i, k = 0;
	double back;

	memset(buf, GUARD_BYTE, sizeof buf);
	n = tf_template_number(v, (char *)buf, size);
	for (i = size; i < sizeof buf; i++)
		if (buf[i] != GUARD_BYTE)
			fail("number: wrote at or past buf[size]", size);
	if (size == 0) {
		if (n)
			fail("number: nonzero for size 0", size);
		return;
	}
	/* As snprintf: the whole length; size or more when it did not fit,
	 * and then nothing of it is written. */
	if (n >= size ? buf[0] != '\0' : n != strlen((char *)buf))
		fail("number: return != strlen(buf), or cut", size);
	if (n >= size)
		n = 0;
	/* Every double fits in 64 bytes. */
	if (size >= 64 && n == 0)
		fail("number: empty in a large buffer", size);
	if (!isfinite(v) || n == 0)
		return;
	for (i = 0; i < n; i++)
		if (buf[i] != ',')
			copy[k++] = (char)buf[i];
	copy[k] = '\0';
	back = strtod(copy, &end);
	if (*end)
		fail("number: does not read back as a number", size);
	/* Within 5e-15 of DBL_MAX, 15 digits round up past it and read
	 * back as inf (regress-template-2): "1.79769313486232e+308" is
	 * what people should read there all the same. */
	if (isinf(back) && fabs(v) > 1.797693134862310e308)
		return;
	if (fabs(back - v) > 1e-12 * fabs(v) && !(back == 0 && v == 0)) {
		fprintf(stderr, "fuzz_template: %.17g formatted as %s\n", v,
			(char *)buf);
		fail("number: reads back as another number", size);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vals vals;
	struct tf_template *t;
	char *text, *part[4], *p, *end, *cut, *whole;
	size_t outsize, i, cutlen, wholelen, wholesize, linelen;
	char err[256];
	int valid;

	if (size < 11)
		return 0;
	outsize = (size_t)(data[0] | data[1] << 8) % (MAX_SIZE + 1);
	vals.flags = data[2];
	memcpy(&vals.num, data + 3, sizeof vals.num);
	check_number(vals.num, outsize < 128 ? outsize : 128);
	check_number(vals.num, 64);

	/* NUL-separated parts, each NUL-terminated in a copy. */
	if (!(text = malloc(size - 11 + 1)))
		abort();
	memcpy(text, data + 11, size - 11);
	text[size - 11] = '\0';
	p = text;
	end = text + (size - 11);
	for (i = 0; i < 4; i++) {
		part[i] = p;
		p += strlen(p);
		if (p < end)
			p++;
	}
	vals.v[0] = part[2];
	vals.v[1] = part[3];
	linelen = strlen(part[1]);

	for (valid = 1, i = 0; i < 4; i++)
		if (i != 1 && utf8_valid((unsigned char *)part[i],
				      strlen(part[i])) != strlen(part[i]))
			valid = 0;
	t = tf_template_create(part[0], vars, err, sizeof err);
	if (!t) {
		if (!err[0])
			fail("create failed without a message", 0);
		free(text);
		return 0;
	}
	/* The whole text: a size it does not fill. */
	for (wholesize = 8192;; wholesize *= 4) {
		whole = render(t, &vals, part[1], linelen, wholesize,
			&wholelen);
		if (wholelen + 1 < wholesize || wholesize >= (1u << 24))
			break;
		free(whole);
	}
	vals.dropped = 0;
	cut = render(t, &vals, part[1], linelen, outsize, &cutlen);
	if (outsize) {
		if (cutlen > wholelen || memcmp(cut, whole, cutlen))
			fail("not a prefix of the whole text", outsize);
		/* Callers' templates and values are UTF-8 (JSON strings):
		 * a character split around a placeholder has no boundary. */
		if (valid && utf8_valid((unsigned char *)whole, wholelen) ==
			wholelen) {
			size_t want = wholelen < outsize - 1 ? wholelen :
				outsize - 1;

			if (utf8_valid((unsigned char *)cut, cutlen) != cutlen)
				fail("cut inside a UTF-8 character", outsize);
			/* Cut at the last boundary that fits. */
			if (cutlen + 3 < want && !vals.dropped)
				fail("cut shorter than it had to be", outsize);
		}
	}
	free(cut);
	free(whole);
	tf_template_destroy(t);
	free(text);
	return 0;
}
