/* laxer.h: where libjq 1.6's jv_parse and RFC 8259 (tf_scan) part ways,
 * and lax_compare(), which runs both on one input and names any other
 * disagreement. Shared by test/c/scan_test.c and fuzz/fuzz_scan.c. */
#ifndef TF_LAXER_H
#define TF_LAXER_H

#include <jv.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan.h"

#if defined(__SANITIZE_ADDRESS__)
#define LAX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LAX_ASAN 1
#endif
#endif
#ifdef LAX_ASAN
#include <sanitizer/lsan_interface.h>
#endif

/*
 * Found by running both on the cases of scan_test.c and on fuzzed input,
 * not assumed. jq 1.6 accepts what RFC 8259 rejects (jq is laxer):
 *  L1 numbers in any form its strtod reads: 01, -01, 00.5, 1., 1.e5, .5,
 *     -.5, +1, +.5, nan, -nan, NaN, inf, -Infinity, INF (any token that
 *     does not start with t, f or n goes to strtod, and so does one of
 *     three bytes that starts with n);
 *  L2 NUL bytes outside strings: a NUL ends a number token ("[1\0x]" is
 *     [1]) and a token of NULs alone reads as 0 ("[\0]" is [0]);
 *  L3 raw U+0000 and U+001F inside strings: its check for unescaped
 *     control characters leaves out exactly these two;
 *  L4 invalid UTF-8 inside strings: each bad sequence becomes U+FFFD
 *     (overlongs, surrogates, > U+10FFFF, stray or missing continuation
 *     bytes alike);
 *  L5 a UTF-8 byte order mark at the very start of the input;
 *  L6 an ASCII RS (0x1E, of RFC 7464 JSON text sequences) anywhere once
 *     the first value is complete: jq stops there and ignores the rest,
 *     provided that what lies between completes no second value and
 *     holds no error ("{}\x1e" and "{} [1,\x1egarbage" are {}).
 * jq 1.6 rejects what RFC 8259 allows (jq is stricter):
 *  S1 a \uD800..\uDBFF escape not followed by a \uDC00..\uDFFF escape
 *     ("Invalid \uXXXX\uXXXX surrogate pair escape"), while it reads a
 *     lone \uDC00..\uDFFF as U+FFFD; tf_scan accepts both and
 *     tf_span_string gives U+FFFD for each;
 *  S2 deep objects: the pending key of an object takes a slot of jq's
 *     parser stack too, so no container may open once the arrays plus
 *     twice the objects around it reach 256 (objects nest only 128 deep);
 *     tf_scan allows 256 containers of either kind.
 * Everything else, jq and tf_scan must agree on: JSON or not, object or
 * not, and the values of the top-level keys in lax_keys[].
 */

struct lax_stats {
	unsigned long inputs;
	unsigned long objects;	/* both read a JSON object */
	unsigned long others;	/* both read JSON that is not an object */
	unsigned long rejected;	/* both reject */
	unsigned long laxer;	/* only jq accepts, as listed above */
	unsigned long stricter;	/* only tf_scan accepts, as listed above */
};

static const char *const lax_keys[] = {
	"type", "topic", "symbol", "ts", "priority", "price", "a", "",
};
#define LAX_NKEYS (sizeof(lax_keys) / sizeof(lax_keys[0]))

static int
lax_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

#ifdef LAX_ASAN
/* True when s[0..n) has a string where jq 1.6 expects a separator ('["a"
 * "b"]', '{"a":1 "b"}'): its parser then leaks the new string. This says
 * so for a few more inputs than that, never fewer. */
static int
lax_jq_may_leak(const unsigned char *u, size_t n)
{
	unsigned char prev = '[';
	size_t i;

	for (i = 0; i < n; i++) {
		if (lax_space(u[i]))
			continue;
		if (u[i] == '"') {
			if (prev != '{' && prev != '[' && prev != ',' &&
			    prev != ':')
				return 1;
			for (i++; i < n && u[i] != '"'; i++)
				if (u[i] == '\\')
					i++;
		}
		prev = u[i < n ? i : n - 1];
	}
	return 0;
}
#endif

/* jv_parse_sized, with jq's own leak (above) hidden from LeakSanitizer,
 * and only then. */
static jv
lax_parse(const char *s, size_t n)
{
	jv v;

#ifdef LAX_ASAN
	if (lax_jq_may_leak((const unsigned char *)s, n)) {
		__lsan_disable();
		v = jv_parse_sized(s, (int)n);
		__lsan_enable();
		return v;
	}
#endif
	v = jv_parse_sized(s, (int)n);
	return v;
}

/* Bytes that end one of jq's literal tokens. */
static int
lax_delim(unsigned char c)
{
	return lax_space(c) || c == '[' || c == ']' || c == '{' || c == '}' ||
	    c == ':' || c == ',' || c == '"';
}

/* The length of the well-formed UTF-8 character at p, or 0: decoded and
 * judged by its value, unlike scan.c's byte ranges. */
static size_t
lax_utf8(const unsigned char *p, size_t avail)
{
	unsigned long cp, min;
	size_t len, k;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0)
		len = 2, cp = p[0] & 0x1f, min = 0x80;
	else if ((p[0] & 0xf0) == 0xe0)
		len = 3, cp = p[0] & 0x0f, min = 0x800;
	else if ((p[0] & 0xf8) == 0xf0)
		len = 4, cp = p[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (avail < len)
		return 0;
	for (k = 1; k < len; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static int
lax_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* True when t[0..n) is a literal or a number of RFC 8259. */
static int
lax_rfc_token(const unsigned char *t, size_t n)
{
	size_t i = 0;

	if ((n == 4 && memcmp(t, "true", 4) == 0) ||
	    (n == 5 && memcmp(t, "false", 5) == 0) ||
	    (n == 4 && memcmp(t, "null", 4) == 0))
		return 1;
	if (i < n && t[i] == '-')
		i++;
	if (i < n && t[i] == '0')
		i++;
	else if (i < n && t[i] >= '1' && t[i] <= '9')
		while (i < n && lax_is_digit(t[i]))
			i++;
	else
		return 0;
	if (i < n && t[i] == '.') {
		if (++i == n || !lax_is_digit(t[i]))
			return 0;
		while (i < n && lax_is_digit(t[i]))
			i++;
	}
	if (i < n && (t[i] == 'e' || t[i] == 'E')) {
		if (++i < n && (t[i] == '+' || t[i] == '-'))
			i++;
		if (i == n || !lax_is_digit(t[i]))
			return 0;
		while (i < n && lax_is_digit(t[i]))
			i++;
	}
	return i == n;
}

static int
lax_scan_json(const char *s, size_t n)
{
	enum tf_scan_status st = tf_scan(s, n, NULL, NULL, NULL);

	return st == TF_SCAN_OK || st == TF_SCAN_NOT_OBJECT;
}

/* Where s[0..n) holds its first RS, or n: jq acts on an RS even inside a
 * string. */
static size_t
lax_rs(const unsigned char *u, size_t n)
{
	const unsigned char *p = memchr(u, 0x1e, n);

	return p != NULL ? (size_t)(p - u) : n;
}

/*
 * For an input jq accepted and tf_scan rejected with its first error at
 * byte off: true when the rejection is one of L1..L6. The input is
 * repaired the RFC way (each laxity replaced by something RFC 8259 allows,
 * at the same length), and the input counts as merely lax when the repair
 * covers the byte tf_scan blamed and tf_scan accepts the repaired text.
 */
static int
lax_jq_laxer(const char *s, size_t n, size_t off)
{
	const unsigned char *u = (const unsigned char *)s;
	char *r = malloc(n + 1);
	unsigned char *mark = calloc(n + 1, 1);
	struct tf_scan_error e;
	size_t i = 0, j, k, rs = lax_rs(u, n);
	int ok;

	if (r == NULL || mark == NULL)
		abort();
	memcpy(r, s, n);
	if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {	/* L5 */
		memset(r, ' ', 3);
		memset(mark, 1, 3);
		i = 3;
	}
	while (i < rs) {
		if (u[i] == '"') {
			for (i++; i < rs && u[i] != '"'; i++) {
				if (u[i] == '\\') {
					i++;
				} else if (u[i] == 0 || u[i] == 0x1f) {
					r[i] = ' ';		/* L3 */
					mark[i] = 1;
				} else if (u[i] >= 0x80) {
					k = lax_utf8(u + i, rs - i);
					if (k == 0) {
						r[i] = '?';	/* L4 */
						mark[i] = 1;
					} else {
						i += k - 1;
					}
				}
			}
			i++;
		} else if (lax_delim(u[i])) {
			i++;
		} else {
			for (j = i; j < rs && !lax_delim(u[j]) && u[j] != 0x1e;
			    j++)
				;
			if (!lax_rfc_token(u + i, j - i)) {	/* L1, L2 */
				r[i] = '0';
				memset(r + i + 1, ' ', j - i - 1);
				memset(mark + i, 1, j - i);
			}
			i = j;
		}
	}
	if (rs < n) {						/* L6 */
		memset(r + rs, ' ', n - rs);
		memset(mark + rs, 1, n - rs);
		e.reason = NULL;
		if (!lax_scan_json(r, n) && tf_scan(r, n, NULL, NULL, &e) ==
		    TF_SCAN_SYNTAX && e.offset < rs && strncmp(e.reason,
		    "trailing characters", 19) == 0) {
			memset(r + e.offset, ' ', rs - e.offset);
			memset(mark + e.offset, 1, rs - e.offset);
		}
	}
	ok = off < n && mark[off] && lax_scan_json(r, n);
	free(r);
	free(mark);
	return ok;
}

static int
lax_hex4(const unsigned char *p)
{
	int v = 0, i, h;

	for (i = 0; i < 4; i++) {
		h = lax_is_digit(p[i]) ? p[i] - '0' :
		    (p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'f' ?
		    (p[i] | 0x20) - 'a' + 10 : -1;
		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/* The most slots jq's parser stack would hold when a container opens in
 * the valid JSON s[0..n): one per array around it, two per object. */
static int
lax_jq_stack(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned char kind[TF_SCAN_MAX_DEPTH + 1];
	int depth = 0, slots = 0, most = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (u[i] == '"') {
			for (i++; i < n && u[i] != '"'; i++)
				if (u[i] == '\\')
					i++;
		} else if (u[i] == '[' || u[i] == '{') {
			if (slots > most)
				most = slots;
			if (depth > TF_SCAN_MAX_DEPTH)
				return most;
			kind[depth++] = u[i];
			slots += u[i] == '{' ? 2 : 1;
		} else if ((u[i] == ']' || u[i] == '}') && depth > 0) {
			slots -= kind[--depth] == '{' ? 2 : 1;
		}
	}
	return most;
}

/*
 * For valid JSON s[0..n) that jq rejected with message msg: true when the
 * rejection is S1 (jq accepts the text once each lone high surrogate
 * escape reads \uFFFD) or S2 (jq's stack would reach 256 and it says so).
 */
static int
lax_jq_stricter(const char *s, size_t n, const char *msg)
{
	const unsigned char *u = (const unsigned char *)s;
	char *r = malloc(n + 1);
	int changed = 0, ok = 0, cp;
	size_t i;
	jv v, m = jv_null();

	if (r == NULL)
		abort();
	memcpy(r, s, n);
	for (i = 0; i < n; i++) {
		if (u[i] != '"')
			continue;
		for (i++; i < n && u[i] != '"'; i++) {
			if (u[i] != '\\')
				continue;
			if (u[++i] != 'u')
				continue;
			cp = lax_hex4(u + i + 1);
			if (cp >= 0xd800 && cp <= 0xdbff && !(i + 10 < n &&
			    u[i + 5] == '\\' && u[i + 6] == 'u' &&
			    lax_hex4(u + i + 7) >= 0xdc00 &&
			    lax_hex4(u + i + 7) <= 0xdfff)) {
				memcpy(r + i + 1, "FFFD", 4);	/* S1 */
				changed = 1;
			} else if (cp >= 0xd800 && cp <= 0xdbff) {
				i += 6;		/* the pair's low half */
			}
			i += 4;
		}
	}
	if (changed) {
		v = lax_parse(r, n);
		if (jv_is_valid(v)) {
			ok = 1;
			jv_free(v);
		} else {
			m = jv_invalid_get_msg(v);
			if (jv_get_kind(m) == JV_KIND_STRING)
				msg = jv_string_value(m);
		}
	}
	if (!ok && lax_jq_stack(r, n) >= 256 && msg != NULL &&
	    strstr(msg, "Exceeds depth limit for parsing") != NULL)
		ok = 1;					/* S2 */
	jv_free(m);
	free(r);
	return ok;
}

static char lax_why[512];

/* Compares what tf_scan found for one key with jq's value of it (consumed).
 * Returns NULL when they agree. */
static const char *
lax_same_value(const struct tf_span *sp, jv v, const char *key)
{
	const char *why = NULL;
	char *buf = NULL;
	size_t len;
	jv w;

	switch (jv_get_kind(v)) {
	case JV_KIND_INVALID:
		if (sp->kind != TF_JSON_ABSENT)
			why = "found a key jq does not have";
		break;
	case JV_KIND_STRING:
		if (sp->kind != TF_JSON_STRING) {
			why = "not a string, for jq a string";
			break;
		}
		if ((buf = malloc(sp->n + 1)) == NULL)
			abort();
		len = tf_span_string(sp, buf, sp->n + 1);
		if (len == (size_t)-1 || len != (size_t)jv_string_length_bytes(
		    jv_copy(v)) || memcmp(buf, jv_string_value(v), len) != 0)
			why = "string differs from jq's";
		else if (!tf_span_eq(sp, jv_string_value(v), len))
			why = "tf_span_eq says no to jq's string";
		else if (len > 0 && tf_span_eq(sp, jv_string_value(v),
		    len - 1))
			why = "tf_span_eq says yes to a prefix";
		break;
	case JV_KIND_NUMBER:
		if (sp->kind != TF_JSON_NUMBER) {
			why = "not a number, for jq a number";
			break;
		}
		if ((buf = malloc(sp->n + 1)) == NULL)
			abort();
		memcpy(buf, sp->p, sp->n);
		buf[sp->n] = '\0';
		if (strtod(buf, NULL) != jv_number_value(v) ||
		    signbit(strtod(buf, NULL)) != signbit(jv_number_value(v)))
			why = "number differs from jq's";
		break;
	case JV_KIND_TRUE:
		why = sp->kind == TF_JSON_TRUE ? NULL : "not true, for jq true";
		break;
	case JV_KIND_FALSE:
		why = sp->kind == TF_JSON_FALSE ? NULL :
		    "not false, for jq false";
		break;
	case JV_KIND_NULL:
		why = sp->kind == TF_JSON_NULL ? NULL : "not null, for jq null";
		break;
	case JV_KIND_OBJECT:
	case JV_KIND_ARRAY:
		if (sp->kind != (jv_get_kind(v) == JV_KIND_OBJECT ?
		    TF_JSON_OBJECT : TF_JSON_ARRAY)) {
			why = "container kind differs from jq's";
			break;
		}
		w = lax_parse(sp->p, sp->n);
		if (!jv_equal(w, jv_copy(v)))
			why = "container differs from jq's";
		break;
	}
	free(buf);
	jv_free(v);
	if (why == NULL)
		return NULL;
	snprintf(lax_why, sizeof(lax_why), "key \"%s\": %s", key, why);
	return lax_why;
}

/*
 * Runs tf_scan and jv_parse_sized on s[0..n) and compares them. Returns
 * NULL when they agree or differ only as listed above (counted in *st),
 * else a description of the disagreement (static storage).
 */
static const char *
lax_compare(const char *s, size_t n, struct lax_stats *st)
{
	struct tf_scan_keys keys = { 0 };
	struct tf_span out[TF_SCAN_MAX_KEYS];
	struct tf_scan_error err = { (size_t)-1, NULL };
	enum tf_scan_status ts;
	const char *why = NULL;
	int tf_json, jq_json, jq_object;
	size_t i;
	jv v, msg = jv_null();

	for (i = 0; i < LAX_NKEYS; i++)
		tf_scan_keys_add(&keys, lax_keys[i]);
	st->inputs++;
	ts = tf_scan(s, n, &keys, out, &err);
	if (tf_scan(s, n, NULL, NULL, NULL) != ts)
		return "status differs without keys";
	if (ts != TF_SCAN_OK && (err.reason == NULL || err.offset > n))
		return "failure without a reason or an offset in the line";
	tf_json = ts == TF_SCAN_OK || ts == TF_SCAN_NOT_OBJECT;

	v = lax_parse(s, n);
	jq_json = jv_is_valid(v);
	jq_object = jq_json && jv_get_kind(v) == JV_KIND_OBJECT;
	if (!jq_json) {
		msg = jv_invalid_get_msg(v);
		v = jv_invalid();
	}

	if (tf_json && jq_json) {
		if ((ts == TF_SCAN_OK) != jq_object) {
			why = "object or not";
		} else if (jq_object) {
			for (i = 0; i < LAX_NKEYS && why == NULL; i++)
				why = lax_same_value(&out[i], jv_object_get(
				    jv_copy(v), jv_string(lax_keys[i])),
				    lax_keys[i]);
			st->objects++;
		} else {
			st->others++;
		}
	} else if (!tf_json && !jq_json) {
		st->rejected++;
	} else if (jq_json) {
		if (lax_jq_laxer(s, n, err.offset)) {
			st->laxer++;
		} else {
			snprintf(lax_why, sizeof(lax_why), "jq accepts, "
			    "tf_scan says \"%s\" at %zu", err.reason,
			    err.offset);
			why = lax_why;
		}
	} else {
		if (lax_jq_stricter(s, n, jv_get_kind(msg) == JV_KIND_STRING ?
		    jv_string_value(msg) : NULL)) {
			st->stricter++;
		} else {
			snprintf(lax_why, sizeof(lax_why), "tf_scan accepts, "
			    "jq says \"%.400s\"", jv_get_kind(msg) ==
			    JV_KIND_STRING ? jv_string_value(msg) : "?");
			why = lax_why;
		}
	}
	jv_free(msg);
	jv_free(v);
	return why;
}

#endif
