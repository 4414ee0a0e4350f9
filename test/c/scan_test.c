/* scan_test.c: tf_scan against a table of cases, its key lookup and string
 * decoding, and, differentially, against libjq 1.6's jv_parse_sized on the
 * cases and on a few hundred thousand generated and mutated lines. */

#include <jv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scan.h"
#include "laxer.h"

/* Differential inputs per run; a sanitized build does fewer. */
#ifdef LAX_ASAN
#define DEFAULT_ROUNDS 100000
#else
#define DEFAULT_ROUNDS 300000
#endif

#define MAX_GEN 8192
#define MAX_SHOWN 25

/* How jq 1.6 reads a case, against RFC 8259 (see laxer.h). */
enum jq { SAME, LAXER, STRICTER };

struct scan_case {
	const char *text;
	size_t len;
	enum tf_scan_status want;
	const char *reason;	/* NULL: not checked */
	long offset;		/* -1: not checked */
	enum jq jq;
};

#define C(t, st, why, off, jq) { t, sizeof(t) - 1, st, why, off, jq }
#define OK TF_SCAN_OK
#define SYN TF_SCAN_SYNTAX
#define U8 TF_SCAN_UTF8
#define NOBJ TF_SCAN_NOT_OBJECT

static const struct scan_case cases[] = {
	/* Objects. */
	C("{}", OK, NULL, -1, SAME),
	C(" {\"a\":1} ", OK, NULL, -1, SAME),
	C("\t\r\n{}\r\n", OK, NULL, -1, SAME),
	C("{\"type\":\"price_update\",\"symbol\":\"BTC-USD\",\"price\":"
	    "43250.12,\"change_24h\":-1.25,\"volume\":1234.5,\"bid\":43250.1,"
	    "\"ask\":43250.2,\"ts\":1763717400123}", OK, NULL, -1, SAME),
	C("{ \"a\" : 1 , \"b\" : [ 1 , 2 ] , \"c\" : { } }", OK, NULL, -1,
	    SAME),
	C("{\"a\":[1,2,{\"b\":null}],\"c\":{\"d\":[]},\"e\":[[]]}", OK, NULL,
	    -1, SAME),
	C("{\"a\":true,\"b\":false,\"c\":null}", OK, NULL, -1, SAME),
	C("{\"a\":1,\"a\":2}", OK, NULL, -1, SAME),
	C("{\"typ\\u0065\":\"x\",\"\\u0074ype\":\"y\"}", OK, NULL, -1, SAME),
	C("{\"\":\"\"}", OK, NULL, -1, SAME),
	/* Unicode and escapes. */
	C("{\"s\":\"h\xc3\xa9llo w\xc3\xb6rld \xe2\x82\xac \xf0\x9d\x84\x9e\"}",
	    OK, NULL, -1, SAME),
	C("{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20AC\"}", OK,
	    NULL, -1, SAME),
	C("{\"s\":\"\\ud834\\udd1e\\uDBFF\\uDFFF\"}", OK, NULL, -1, SAME),
	C("{\"s\":\"\\u0000\"}", OK, NULL, -1, SAME),
	C("{\"s\":\"\x7f\"}", OK, NULL, -1, SAME),
	C("{\"s\":\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80"
	    "\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"}", OK, NULL, -1,
	    SAME),
	C("{\"s\":\"\\udc00\"}", OK, NULL, -1, SAME),
	C("{\"s\":\"\\ud800\"}", OK, NULL, -1, STRICTER),
	C("{\"s\":\"\\ud800\\u0041\"}", OK, NULL, -1, STRICTER),
	C("{\"s\":\"\\uDBFF\\uD800\"}", OK, NULL, -1, STRICTER),
	C("{\"s\":\"\\ud800x\"}", OK, NULL, -1, STRICTER),
	/* Numbers. */
	C("{\"n\":0}", OK, NULL, -1, SAME),
	C("{\"n\":-0}", OK, NULL, -1, SAME),
	C("{\"n\":-0.0}", OK, NULL, -1, SAME),
	C("{\"n\":1e400}", OK, NULL, -1, SAME),
	C("{\"n\":-1e400}", OK, NULL, -1, SAME),
	C("{\"n\":1e-400}", OK, NULL, -1, SAME),
	C("{\"n\":0.5E-3}", OK, NULL, -1, SAME),
	C("{\"n\":-1.5e+10}", OK, NULL, -1, SAME),
	C("{\"n\":1E5}", OK, NULL, -1, SAME),
	C("{\"n\":123456789012345678901234567890}", OK, NULL, -1, SAME),
	C("{\"n\":01}", SYN, "invalid number", 5, LAXER),
	C("{\"n\":-01}", SYN, "invalid number", 5, LAXER),
	C("{\"n\":00.5}", SYN, "invalid number", 5, LAXER),
	C("{\"n\":1.}", SYN, "invalid number", 5, LAXER),
	C("{\"n\":1.e5}", SYN, "invalid number", 5, LAXER),
	C("{\"n\":.5}", SYN, "invalid number", 5, LAXER),
	C("{\"n\":-.5}", SYN, "invalid number", 5, LAXER),
	C("{\"n\":+1}", SYN, "invalid number", 5, LAXER),
	C("{\"n\":NaN}", SYN, "invalid literal", 5, LAXER),
	C("{\"n\":nan}", SYN, "invalid literal", 5, LAXER),
	C("{\"n\":-nan}", SYN, "invalid number", 5, LAXER),
	C("{\"n\":Infinity}", SYN, "invalid literal", 5, LAXER),
	C("{\"n\":-Infinity}", SYN, "invalid number", 5, LAXER),
	C("{\"n\":inf}", SYN, "invalid literal", 5, LAXER),
	C("{\"n\":-}", SYN, "invalid number", 5, SAME),
	C("{\"n\":1e}", SYN, "invalid number", 5, SAME),
	C("{\"n\":1e+}", SYN, "invalid number", 5, SAME),
	C("{\"n\":--1}", SYN, "invalid number", 5, SAME),
	C("{\"n\":1.5.5}", SYN, "invalid number", 5, SAME),
	C("{\"n\":0x10}", SYN, "invalid number", 5, SAME),
	C("{\"n\":1_000}", SYN, "invalid number", 5, SAME),
	C("{\"n\":.}", SYN, "invalid number", 5, SAME),
	C("{\"n\":- 1}", SYN, "invalid number", 5, SAME),
	/* Literals. */
	C("{\"a\":tru}", SYN, "invalid literal", 5, SAME),
	C("{\"a\":truex}", SYN, "invalid literal", 5, SAME),
	C("{\"a\":True}", SYN, "invalid literal", 5, SAME),
	C("{\"a\":nul}", SYN, "invalid literal", 5, SAME),
	C("{\"a\":nulll}", SYN, "invalid literal", 5, SAME),
	C("{\"a\":fals}", SYN, "invalid literal", 5, SAME),
	C("{\"a\":undefined}", SYN, "invalid literal", 5, SAME),
	C("[truefalse]", SYN, "invalid literal", 1, SAME),
	/* Not objects. */
	C("[]", NOBJ, "not an object", 0, SAME),
	C(" [1,{}] ", NOBJ, "not an object", 1, SAME),
	C("\"x\"", NOBJ, NULL, -1, SAME),
	C("1", NOBJ, NULL, -1, SAME),
	C("-0", NOBJ, NULL, -1, SAME),
	C("true", NOBJ, NULL, -1, SAME),
	C("null", NOBJ, NULL, -1, SAME),
	/* Structure. */
	C("", SYN, "empty line", 0, SAME),
	C(" \t\r\n", SYN, "empty line", 4, SAME),
	C("{}x", SYN, "trailing characters after the object", 2, SAME),
	C("{} {}", SYN, "trailing characters after the object", 3, SAME),
	C("{}\0", SYN, "trailing characters after the object", 2, SAME),
	C("{\"a\":1}//", SYN, "trailing characters after the object", 7,
	    SAME),
	C("1 2", SYN, "trailing characters after the value", 2, SAME),
	C("{\"a\":1,}", SYN, "trailing comma", 7, SAME),
	C("[1, ]", SYN, "trailing comma", 4, SAME),
	C("{,}", SYN, "expected a string key", 1, SAME),
	C("{\"a\":1,,\"b\":2}", SYN, "expected a string key", 7, SAME),
	C("{1:2}", SYN, "expected a string key", 1, SAME),
	C("{'a':1}", SYN, "single-quoted string", 1, SAME),
	C("{\"a\":'b'}", SYN, "single-quoted string", 5, SAME),
	C("{\"a\"}", SYN, "expected ':' after key", 4, SAME),
	C("{\"a\" 1}", SYN, "expected ':' after key", 5, SAME),
	C("{\"a\"::1}", SYN, "unexpected ':'", 5, SAME),
	C("{\"a\":1:2}", SYN, "expected ',' or '}'", 6, SAME),
	C("{\"a\":1\"b\":2}", SYN, "expected ',' or '}'", 6, SAME),
	C("{\"a\":1 /* c */}", SYN, "expected ',' or '}'", 7, SAME),
	C("// c\n{}", SYN, "unexpected '/'", 0, SAME),
	C("[1 2]", SYN, "expected ',' or ']'", 3, SAME),
	C("[,1]", SYN, "unexpected ','", 1, SAME),
	C("{\"a\":1]", SYN, "unexpected ']'", 6, SAME),
	C("[1}", SYN, "unexpected '}'", 2, SAME),
	C("{\"a\":}", SYN, "unexpected '}'", 5, SAME),
	C("}", SYN, "unexpected '}'", 0, SAME),
	C("{\"a\":[1,2]]}", SYN, "unexpected ']'", 10, SAME),
	C("{", SYN, "unexpected end of line", 1, SAME),
	C("{\"a\"", SYN, "unexpected end of line", 4, SAME),
	C("{\"a\":", SYN, "unexpected end of line", 5, SAME),
	C("{\"a\":1", SYN, "unexpected end of line", 6, SAME),
	C("{\"a\":[1,", SYN, "unexpected end of line", 8, SAME),
	C("\x0b{}", SYN, "unexpected control character", 0, SAME),
	C("{}\x0c", SYN, "trailing characters after the object", 2, SAME),
	C("\xc2\xa0{}", SYN, "unexpected non-ASCII character", 0, SAME),
	C("{\"a\":\xc3\xa9}", SYN, "unexpected non-ASCII character", 5, SAME),
	/* Strings. */
	C("{\"a", SYN, "unterminated string", 1, SAME),
	C("{\"a\":\"b", SYN, "unterminated string", 5, SAME),
	C("{\"a\":\"\\", SYN, "unterminated string", 5, SAME),
	C("{\"a\":\"\\u12", SYN, "unterminated string", 5, SAME),
	C("{\"a\":\"\\q\"}", SYN, "invalid escape \\q", 6, SAME),
	C("{\"a\":\"\\U0041\"}", SYN, "invalid escape \\U", 6, SAME),
	C("{\"a\":\"\\x41\"}", SYN, "invalid escape \\x", 6, SAME),
	C("{\"a\":\"\\'\"}", SYN, "invalid escape \\'", 6, SAME),
	C("{\"a\":\"\\\xc3\xa9\"}", SYN, "invalid escape", 6, SAME),
	C("{\"a\":\"\\u12g4\"}", SYN, "invalid \\u escape", 6, SAME),
	C("{\"a\":\"\\u\"}", SYN, "invalid \\u escape", 6, SAME),
	C("{\"a\":\"\\ud800\\u12\"}", SYN, "invalid \\u escape", 12, SAME),
	C("{\"a\":\"x\ty\"}", SYN, "control character in string", 7, SAME),
	C("{\"a\":\"x\ny\"}", SYN, "control character in string", 7, SAME),
	C("{\"a\":\"\x01\"}", SYN, "control character in string", 6, SAME),
	C("{\"a\":\"\x1e\"}", SYN, "control character in string", 6, SAME),
	C("{\"a\":\"\x1f\"}", SYN, "control character in string", 6, LAXER),
	C("{\"a\":\"\0\"}", SYN, "control character in string", 6, LAXER),
	C("{\"a\x01\":1}", SYN, "control character in string", 3, SAME),
	/* Invalid UTF-8 in strings, every kind: jq takes it as U+FFFD. */
	C("{\"s\":\"\x80\"}", U8, "invalid UTF-8", 6, LAXER),
	C("{\"s\":\"a\xbf\"}", U8, "invalid UTF-8", 7, LAXER),
	C("{\"s\":\"\xc0\xaf\"}", U8, "invalid UTF-8", 6, LAXER),
	C("{\"s\":\"\xc1\xbf\"}", U8, "invalid UTF-8", 6, LAXER),
	C("{\"s\":\"\xe0\x80\xaf\"}", U8, "invalid UTF-8", 6, LAXER),
	C("{\"s\":\"\xe0\x9f\xbf\"}", U8, "invalid UTF-8", 6, LAXER),
	C("{\"s\":\"\xf0\x80\x80\xaf\"}", U8, "invalid UTF-8", 6, LAXER),
	C("{\"s\":\"\xf0\x8f\xbf\xbf\"}", U8, "invalid UTF-8", 6, LAXER),
	C("{\"s\":\"\xed\xa0\x80\"}", U8, "invalid UTF-8", 6, LAXER),
	C("{\"s\":\"\xed\xbf\xbf\"}", U8, "invalid UTF-8", 6, LAXER),
	C("{\"s\":\"\xed\xa0\xbd\xed\xb8\x80\"}", U8, "invalid UTF-8", 6,
	    LAXER),
	C("{\"s\":\"\xf4\x90\x80\x80\"}", U8, "invalid UTF-8", 6, LAXER),
	C("{\"s\":\"\xf5\x80\x80\x80\"}", U8, "invalid UTF-8", 6, LAXER),
	C("{\"s\":\"\xf7\xbf\xbf\xbf\"}", U8, "invalid UTF-8", 6, LAXER),
	C("{\"s\":\"\xf8\x88\x80\x80\x80\"}", U8, "invalid UTF-8", 6, LAXER),
	C("{\"s\":\"\xfc\x84\x80\x80\x80\x80\"}", U8, "invalid UTF-8", 6,
	    LAXER),
	C("{\"s\":\"\xfe\xff\"}", U8, "invalid UTF-8", 6, LAXER),
	C("{\"s\":\"\xc3\"}", U8, "invalid UTF-8", 6, LAXER),
	C("{\"s\":\"\xc3" "A\"}", U8, "invalid UTF-8", 6, LAXER),
	C("{\"s\":\"\xe2\x82\"}", U8, "invalid UTF-8", 6, LAXER),
	C("{\"s\":\"\xf0\x9f\x98\"}", U8, "invalid UTF-8", 6, LAXER),
	C("{\"s\":\"\xc3\xa9\xa9\"}", U8, "invalid UTF-8", 8, LAXER),
	C("{\"\xff\":1}", U8, "invalid UTF-8", 2, LAXER),
	C("{\"s\":\"\xc3", U8, "invalid UTF-8", 6, SAME),
	C("{\"s\":\xff}", U8, "invalid UTF-8", 5, SAME),
	C("\xff{}", U8, "invalid UTF-8", 0, SAME),
	C("{}\xff", U8, "invalid UTF-8", 2, SAME),
	C("{}\xc3\xa9", SYN, "trailing characters after the object", 2, SAME),
	/* The rest of jq's laxities. */
	C("\xef\xbb\xbf{}", SYN, "unexpected non-ASCII character", 0, LAXER),
	C(" \xef\xbb\xbf{}", SYN, "unexpected non-ASCII character", 1, SAME),
	C("{\"a\":\0}", SYN, "unexpected control character", 5, LAXER),
	C("{\"a\":1\0}", SYN, "expected ',' or '}'", 6, LAXER),
	C("[1\0x]", SYN, "expected ',' or ']'", 2, LAXER),
	C("\0", SYN, "unexpected control character", 0, LAXER),
	C("{}\x1e", SYN, "trailing characters after the object", 2, LAXER),
	C("{} [1,\x1egarbage[[", SYN, "trailing characters after the object",
	    3, LAXER),
	C("1\x1e", SYN, "trailing characters after the value", 1, LAXER),
	C("{\"a\":nan}\x1e", SYN, "invalid literal", 5, LAXER),
	C("\x1e{}", SYN, "unexpected control character", 0, SAME),
	C("{}[1]\x1e", SYN, "trailing characters after the object", 2, SAME),
	C("{}[\"\x1e", SYN, "trailing characters after the object", 2, LAXER),
	C("{\"a\":\x1e" "1}", SYN, "unexpected control character", 5, SAME),
	C("{\"a\":\"\x1e\"}", SYN, "control character in string", 6, SAME),
};

static int failures;
static int shown;
static int ncases;

static void
show(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && i < 300; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\\')
			fputs("\\\\", stdout);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	if (i < n)
		printf("...(%zu bytes)", n);
}

static void
fail(const char *what, const char *s, size_t n, const char *why)
{
	failures++;
	if (shown++ >= MAX_SHOWN)
		return;
	printf("FAIL %s: ", what);
	show(s, n);
	printf("\n     %s\n", why);
}

/* A copy of exactly n bytes, so that the sanitizers catch any overread. */
static char *
dup_exact(const char *s, size_t n)
{
	char *p = malloc(n > 0 ? n : 1);

	if (p == NULL)
		abort();
	memcpy(p, s, n);
	return p;
}

static void
check_case(const char *what, const char *text, size_t len,
    enum tf_scan_status want, const char *reason, long offset, enum jq jq,
    struct lax_stats *all)
{
	static const char *const names[] = { "ok", "syntax", "utf8",
		"not_object", "depth" };
	struct tf_scan_error e = { 0, NULL };
	struct lax_stats st = { 0 };
	char *s = dup_exact(text, len), why[400];
	enum tf_scan_status got = tf_scan(s, len, NULL, NULL, &e);
	const char *d;

	ncases++;
	if (got != want) {
		snprintf(why, sizeof(why), "status %s, want %s (%s at %zu)",
		    names[got], names[want], e.reason ? e.reason : "-",
		    e.offset);
		fail(what, s, len, why);
	} else if (reason != NULL && (e.reason == NULL ||
	    strcmp(e.reason, reason) != 0)) {
		snprintf(why, sizeof(why), "reason \"%s\", want \"%s\"",
		    e.reason ? e.reason : "(none)", reason);
		fail(what, s, len, why);
	} else if (offset >= 0 && e.offset != (size_t)offset) {
		snprintf(why, sizeof(why), "offset %zu, want %ld", e.offset,
		    offset);
		fail(what, s, len, why);
	}
	if ((d = lax_compare(s, len, &st)) != NULL)
		fail(what, s, len, d);
	else if (jq == SAME && (st.laxer || st.stricter))
		fail(what, s, len, "jq differs, listed as the same");
	else if (jq == LAXER && !st.laxer)
		fail(what, s, len, "listed as jq-laxer, but it is not");
	else if (jq == STRICTER && !st.stricter)
		fail(what, s, len, "listed as jq-stricter, but it is not");
	all->laxer += st.laxer;
	all->stricter += st.stricter;
	free(s);
}

static void
test_cases(struct lax_stats *st)
{
	size_t i;
	char what[32];

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(what, sizeof(what), "case %zu", i);
		check_case(what, cases[i].text, cases[i].len, cases[i].want,
		    cases[i].reason, cases[i].offset, cases[i].jq, st);
	}
}

/* Nesting: open copies of open around a middle, then the closers. */
static void
check_nest(const char *what, const char *head, const char *open, int times,
    const char *middle, const char *close, const char *tail,
    enum tf_scan_status want, long offset, enum jq jq, struct lax_stats *st)
{
	size_t cap = strlen(head) + strlen(middle) + strlen(tail) +
	    (size_t)times * (strlen(open) + strlen(close)) + 1;
	char *s = malloc(cap);
	int i;

	if (s == NULL)
		abort();
	strcpy(s, head);
	for (i = 0; i < times; i++)
		strcat(s, open);
	strcat(s, middle);
	for (i = 0; i < times; i++)
		strcat(s, close);
	strcat(s, tail);
	check_case(what, s, strlen(s), want, want == TF_SCAN_DEPTH ?
	    "nesting deeper than 256" : NULL, offset, jq, st);
	free(s);
}

static void
test_depth(struct lax_stats *st)
{
	/* 256 containers is the limit, whatever their kind. */
	check_nest("256 arrays", "", "[", 256, "", "]", "", NOBJ, -1, SAME,
	    st);
	check_nest("257 arrays", "", "[", 257, "", "]", "", TF_SCAN_DEPTH,
	    256, SAME, st);
	check_nest("object + 255 arrays", "{\"a\":", "[", 255, "1", "]", "}",
	    OK, -1, STRICTER, st);
	check_nest("object + 256 arrays", "{\"a\":", "[", 256, "1", "]", "}",
	    TF_SCAN_DEPTH, 5 + 255, SAME, st);
	/* jq gives an object two slots: 128 nest, 129 do not. */
	check_nest("128 objects", "", "{\"a\":", 127, "{}", "}", "", OK, -1,
	    SAME, st);
	check_nest("129 objects", "", "{\"a\":", 128, "{}", "}", "", OK, -1,
	    STRICTER, st);
	check_nest("256 objects", "", "{\"a\":", 255, "{}", "}", "", OK, -1,
	    STRICTER, st);
	check_nest("257 objects", "", "{\"a\":", 256, "{}", "}", "",
	    TF_SCAN_DEPTH, 5 * 256, SAME, st);
	check_nest("deep, then closed", "{\"a\":", "[", 255, "", "]",
	    ",\"b\":[[1]]}", OK, -1, STRICTER, st);
}

#define EXPECT(cond, what) do { \
	if (!(cond)) { \
		failures++; \
		printf("FAIL %s:%d: %s: %s\n", __FILE__, __LINE__, what, \
		    #cond); \
	} \
} while (0)

static int
span_is(const struct tf_span *sp, enum tf_json_kind kind, const char *text,
    int escaped)
{
	return sp->kind == kind && sp->n == strlen(text) &&
	    memcmp(sp->p, text, sp->n) == 0 && sp->escaped == escaped;
}

static enum tf_scan_status
scan_str(const char *s, const struct tf_scan_keys *k, struct tf_span *out)
{
	return tf_scan(s, strlen(s), k, out, NULL);
}

static void
test_keys(void)
{
	struct tf_scan_keys k = { 0 }, full = { 0 };
	struct tf_span out[TF_SCAN_MAX_KEYS];
	const char *line = "{\"type\":\"price_update\",\"symbol\":\"BTC-USD\","
	    "\"price\":43250.12,\"change_24h\":-1.25,\"volume\":1234.5,"
	    "\"bid\":43250.1,\"ask\":43250.2,\"ts\":1763717400123}";
	static const char *const names[] = { "a", "b", "c", "d", "e", "f",
		"g", "h" };
	int i;

	EXPECT(tf_scan_keys_add(&k, "type") == 0, "first key");
	EXPECT(tf_scan_keys_add(&k, "symbol") == 1, "second key");
	EXPECT(tf_scan_keys_add(&k, "price") == 2, "third key");
	EXPECT(tf_scan_keys_add(&k, "ts") == 3, "fourth key");
	EXPECT(tf_scan_keys_add(&k, "missing") == 4, "fifth key");
	EXPECT(tf_scan_keys_add(&k, "") == 5, "empty key");
	EXPECT(tf_scan_keys_add(&k, "type") == 0, "a key added twice");
	EXPECT(k.n == 6, "no duplicate");
	for (i = 0; i < TF_SCAN_MAX_KEYS; i++)
		EXPECT(tf_scan_keys_add(&full, names[i]) == i, "filling");
	EXPECT(tf_scan_keys_add(&full, "x") == -1, "full");

	EXPECT(scan_str(line, &k, out) == TF_SCAN_OK, "event line");
	EXPECT(span_is(&out[0], TF_JSON_STRING, "price_update", 0), "type");
	EXPECT(span_is(&out[1], TF_JSON_STRING, "BTC-USD", 0), "symbol");
	EXPECT(span_is(&out[2], TF_JSON_NUMBER, "43250.12", 0), "price");
	EXPECT(span_is(&out[3], TF_JSON_NUMBER, "1763717400123", 0), "ts");
	EXPECT(out[4].kind == TF_JSON_ABSENT && out[4].p == NULL, "missing");
	EXPECT(out[5].kind == TF_JSON_ABSENT, "empty key missing");

	/* The last top-level occurrence wins; nested ones do not count. */
	EXPECT(scan_str("{\"type\":\"a\",\"x\":{\"type\":\"inner\"},"
	    "\"y\":[{\"type\":1}],\"type\":\"b\",\"z\":{\"type\":2}}", &k,
	    out) == TF_SCAN_OK, "duplicates");
	EXPECT(span_is(&out[0], TF_JSON_STRING, "b", 0), "last wins");
	EXPECT(scan_str("[{\"type\":1}]", &k, out) == TF_SCAN_NOT_OBJECT,
	    "array");
	/* Escaped keys compare after unescaping. */
	EXPECT(scan_str("{\"typ\\u0065\":\"x\",\"symbol\":1,"
	    "\"\\u0073ymbo\\u006C\":2,\"ty\\/pe\":3,\"\":true}", &k, out) ==
	    TF_SCAN_OK, "escaped keys");
	EXPECT(span_is(&out[0], TF_JSON_STRING, "x", 0), "typ\\u0065");
	EXPECT(span_is(&out[1], TF_JSON_NUMBER, "2", 0), "\\u0073ymbo...");
	EXPECT(span_is(&out[5], TF_JSON_TRUE, "true", 0), "empty key");
	/* Every kind of value, spans as written. */
	EXPECT(scan_str("{ \"type\" : {\"a\": [1, 2]} , \"symbol\":[ 1 ],"
	    "\"price\":false,\"ts\":null,\"missing\":\"a\\nb\" }", &k, out) ==
	    TF_SCAN_OK, "kinds");
	EXPECT(span_is(&out[0], TF_JSON_OBJECT, "{\"a\": [1, 2]}", 0),
	    "object span");
	EXPECT(span_is(&out[1], TF_JSON_ARRAY, "[ 1 ]", 0), "array span");
	EXPECT(span_is(&out[2], TF_JSON_FALSE, "false", 0), "false span");
	EXPECT(span_is(&out[3], TF_JSON_NULL, "null", 0), "null span");
	EXPECT(span_is(&out[4], TF_JSON_STRING, "a\\nb", 1), "escaped span");
	/* keys without out, and out without keys, are ignored. */
	EXPECT(tf_scan(line, strlen(line), &k, NULL, NULL) == TF_SCAN_OK,
	    "no out");
	EXPECT(tf_scan(line, strlen(line), NULL, out, NULL) == TF_SCAN_OK,
	    "no keys");
}

static int
decodes_to(const char *escaped, const char *want, size_t wlen)
{
	struct tf_span sp = { escaped, strlen(escaped), TF_JSON_STRING, 1 };
	char buf[64];
	size_t n = tf_span_string(&sp, buf, sizeof(buf));

	return n == wlen && memcmp(buf, want, n) == 0 && buf[n] == '\0' &&
	    tf_span_eq(&sp, want, wlen);
}

static void
test_strings(void)
{
	struct tf_span plain = { "abc", 3, TF_JSON_STRING, 0 };
	struct tf_span esc = { "a\\tc", 4, TF_JSON_STRING, 1 };
	struct tf_span num = { "12", 2, TF_JSON_NUMBER, 0 };
	char buf[8];

	EXPECT(decodes_to("\\\"\\\\\\/\\b\\f\\n\\r\\t", "\"\\/\b\f\n\r\t",
	    8), "simple escapes");
	EXPECT(decodes_to("\\u0041\\u00e9\\u20AC", "A\xc3\xa9\xe2\x82\xac",
	    6), "\\u escapes");
	EXPECT(decodes_to("\\ud834\\udd1e", "\xf0\x9d\x84\x9e", 4),
	    "surrogate pair");
	EXPECT(decodes_to("\\uDBFF\\uDFFF", "\xf4\x8f\xbf\xbf", 4),
	    "last code point");
	EXPECT(decodes_to("\\ud800", "\xef\xbf\xbd", 3), "lone high");
	EXPECT(decodes_to("\\udc00", "\xef\xbf\xbd", 3), "lone low");
	EXPECT(decodes_to("\\ud800x", "\xef\xbf\xbd" "x", 4), "high, then x");
	EXPECT(decodes_to("\\ud800\\ud800\\udc00",
	    "\xef\xbf\xbd\xf0\x90\x80\x80", 7), "high, then a pair");
	EXPECT(decodes_to("\\udc00\\ud800", "\xef\xbf\xbd\xef\xbf\xbd", 6),
	    "low, then high");
	EXPECT(decodes_to("a\\u0000b", "a\0b", 3), "NUL inside");
	EXPECT(decodes_to("h\xc3\xa9", "h\xc3\xa9", 3), "raw UTF-8");

	EXPECT(tf_span_string(&plain, buf, 4) == 3 && strcmp(buf, "abc") == 0,
	    "exact fit");
	EXPECT(tf_span_string(&plain, buf, 3) == (size_t)-1, "no room for NUL");
	EXPECT(tf_span_string(&esc, buf, 4) == 3 && strcmp(buf, "a\tc") == 0,
	    "escaped exact fit");
	EXPECT(tf_span_string(&esc, buf, 3) == (size_t)-1, "escaped, short");
	EXPECT(tf_span_string(&esc, buf, 0) == (size_t)-1, "no buffer");
	EXPECT(tf_span_string(&num, buf, sizeof(buf)) == (size_t)-1,
	    "not a string");

	EXPECT(tf_span_eq(&plain, "abc", 3), "plain equal");
	EXPECT(!tf_span_eq(&plain, "abd", 3), "plain differs");
	EXPECT(!tf_span_eq(&plain, "ab", 2), "plain prefix");
	EXPECT(!tf_span_eq(&plain, "abcd", 4), "plain longer");
	EXPECT(tf_span_eq(&esc, "a\tc", 3), "escaped equal");
	EXPECT(!tf_span_eq(&esc, "a\\tc", 4), "escaped, raw text");
	EXPECT(!tf_span_eq(&esc, "a\t", 2), "escaped prefix");
	EXPECT(!tf_span_eq(&esc, "a\tcd", 4), "escaped longer");
	EXPECT(!tf_span_eq(&num, "12", 2), "not a string");
}

/* xorshift64*: the same inputs on every run unless TF_SCAN_SEED says. */
static uint64_t rng;

static uint64_t
next(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static size_t
below(size_t n)
{
	return n > 0 ? (size_t)(next() >> 33) % n : 0;
}

#define PICK(a) (a[below(sizeof(a) / sizeof(a[0]))])

struct buf {
	char b[MAX_GEN];
	size_t n;
};

static void
put(struct buf *b, const char *s, size_t n)
{
	if (n > MAX_GEN - b->n)
		n = MAX_GEN - b->n;
	memcpy(b->b + b->n, s, n);
	b->n += n;
}

static void
put_str(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static const char *const gen_keys[] = {
	"type", "topic", "symbol", "ts", "priority", "price", "a", "",
	"typ\\u0065", "\\u0074s", "pr\\u0069ce", "\\u0061", "b", "volume",
	"side", "x\\ny", "\\ud83d\\ude00", "h\xc3\xa9", "\\\"", "ty\\/pe",
};

static const char *const gen_strings[] = {
	"price_update", "BTC-USD", "market_data", "", "high", "a",
	"h\xc3\xa9llo", "\xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9f\x98\x80",
	"\xef\xbf\xbf", "\xf4\x8f\xbf\xbf", "a\\\"b", "\\\\", "\\/",
	"\\u00e9", "\\ud834\\udd1e", "\\udc00", "\\n\\t\\r\\b\\f",
	"\\u0000", "\x7f", "crossed 43250.12 \\u2191",
	"a long message with spaces and punctuation: (1) [2] {3}, done.",
};

static const char *const gen_numbers[] = {
	"0", "-0", "1", "-1", "43250.12", "-1.25", "1763717400123", "1e400",
	"-1e400", "1e-400", "0.5E-3", "1E5", "1e+5", "-0.0", "0.000001",
	"123456789012345678901234567890", "9007199254740993", "2.5e-308",
	"1.7976931348623157e308", "10",
};

static void
gen_ws(struct buf *b)
{
	static const char *const ws[] = { " ", "\t", "\r\n", "  ", "\n" };

	if (below(8) == 0)
		put_str(b, PICK(ws));
}

static void
gen_string(struct buf *b)
{
	static const char alpha[] = "abcXYZ019 _-.:,{}[]/";
	size_t i, n;

	put_str(b, "\"");
	if (below(4) == 0) {
		for (i = 0, n = below(24); i < n; i++)
			put(b, &alpha[below(sizeof(alpha) - 1)], 1);
	} else {
		put_str(b, PICK(gen_strings));
	}
	put_str(b, "\"");
}

static void
gen_number(struct buf *b)
{
	/* One draw per statement: the same numbers whatever the compiler. */
	const char *sign = below(2) ? "-" : "";
	int shift = (int)below(64);
	uint64_t x = next();
	char t[64];

	switch (below(3)) {
	case 0:
		snprintf(t, sizeof(t), "%s%llu", sign,
		    (unsigned long long)(x >> shift));
		break;
	case 1:
		snprintf(t, sizeof(t), "%.*f", shift % 6,
		    (double)(int64_t)x / 1e12);
		break;
	default:
		snprintf(t, sizeof(t), "%s", PICK(gen_numbers));
		break;
	}
	put_str(b, t);
}

static void gen_value(struct buf *b, int depth);

static void
gen_object(struct buf *b, int depth, int fields)
{
	int i;

	put_str(b, "{");
	gen_ws(b);
	for (i = 0; i < fields; i++) {
		if (i > 0) {
			put_str(b, ",");
			gen_ws(b);
		}
		put_str(b, "\"");
		put_str(b, PICK(gen_keys));
		put_str(b, "\"");
		gen_ws(b);
		put_str(b, ":");
		gen_ws(b);
		gen_value(b, depth - 1);
		gen_ws(b);
	}
	put_str(b, "}");
}

static void
gen_value(struct buf *b, int depth)
{
	static const char *const lits[] = { "true", "false", "null" };
	int i, n;

	switch (below(depth > 0 ? 7 : 5)) {
	case 0: case 1:
		gen_string(b);
		break;
	case 2: case 3:
		gen_number(b);
		break;
	case 4:
		put_str(b, PICK(lits));
		break;
	case 5:
		put_str(b, "[");
		gen_ws(b);
		for (i = 0, n = (int)below(4); i < n; i++) {
			if (i > 0)
				put_str(b, ",");
			gen_value(b, depth - 1);
			gen_ws(b);
		}
		put_str(b, "]");
		break;
	default:
		gen_object(b, depth, (int)below(4));
		break;
	}
}

/* Bytes and snippets that sit on the edges of the grammar. */
static const char edge_bytes[] = "\"\\{}[]:,01-+.eEtfnu \t\n'/\0\x1f\x7f"
    "\x80\xbf\xc0\xc3\xed\xef\xf4\xf5\xff";
static const char *const edge_snippets[] = {
	"\\u", "\\ud800", "\\udc00", "\\ud800\\udc00", "\\uDBFF", "nan", "NaN",
	"-", "01", ".5", "1.", "+1", "inf", "-Infinity", "\xef\xbb\xbf",
	"\xc3\xa9", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\x80", "true",
	"null", "false", ",", ":", "[", "{", "}", "]", "\"", "\\", "//", "\0",
	"1e5", "'", "\"a\":", ",\"type\":\"x\"", "[[[[", "]]]]", "1e", "-0",
	"\x1f", "\\u0000", "\xe2\x82", "tru", "nul",
};

static void
mutate(struct buf *b)
{
	const char *sn;
	char piece[16], byte;
	size_t at, k, len;
	int ops = 1 + (int)below(3);

	while (ops-- > 0) {
		at = below(b->n + 1);
		byte = (char)next();
		switch (below(7)) {
		case 0:
			if (b->n > 0)
				b->b[below(b->n)] = byte;
			break;
		case 1:
			if (b->n > 0)
				b->b[below(b->n)] =
				    edge_bytes[below(sizeof(edge_bytes) - 1)];
			break;
		case 2:
			sn = PICK(edge_snippets);
			len = *sn ? strlen(sn) : 1;
			if (b->n + len > MAX_GEN)
				break;
			memmove(b->b + at + len, b->b + at, b->n - at);
			memcpy(b->b + at, sn, len);
			b->n += len;
			break;
		case 3:
			k = 1 + below(4);
			if (at + k > b->n)
				k = b->n - at;
			memmove(b->b + at, b->b + at + k, b->n - at - k);
			b->n -= k;
			break;
		case 4:
			b->n = at;
			break;
		case 5:
			/* Repeat a piece of the line somewhere else. */
			k = below(b->n + 1);
			len = below(b->n - k + 1);
			if (len > sizeof(piece) || b->n + len > MAX_GEN)
				break;
			memcpy(piece, b->b + k, len);
			memmove(b->b + at + len, b->b + at, b->n - at);
			memcpy(b->b + at, piece, len);
			b->n += len;
			break;
		default:
			if (b->n > 0)
				put(b, &edge_bytes[below(sizeof(edge_bytes)
				    - 1)], 1);
			break;
		}
	}
}

static void
differ(struct buf *b, const char *what, struct lax_stats *st)
{
	char *s = dup_exact(b->b, b->n);
	const char *d = lax_compare(s, b->n, st);

	if (d != NULL)
		fail(what, s, b->n, d);
	free(s);
}

static void
test_differential(unsigned long rounds, struct lax_stats *st)
{
	struct buf b;
	unsigned long i;
	size_t k, n;

	for (i = 0; i < rounds && shown < MAX_SHOWN; i++) {
		b.n = 0;
		switch (i % 8) {
		case 0: case 1: case 2: case 3:
			/* A mutated event line. */
			gen_object(&b, 2, 1 + (int)below(10));
			mutate(&b);
			differ(&b, "mutated line", st);
			break;
		case 4:
			/* Valid lines, with the keys lax_compare reads. */
			gen_object(&b, 3, 1 + (int)below(10));
			differ(&b, "generated line", st);
			break;
		case 5:
			/* Any JSON value, nested deeper. */
			gen_ws(&b);
			gen_value(&b, 5);
			gen_ws(&b);
			differ(&b, "generated value", st);
			break;
		case 6:
			gen_value(&b, 4);
			mutate(&b);
			differ(&b, "mutated value", st);
			break;
		default:
			/* Short strings of edge bytes and snippets. */
			for (k = 0, n = below(10); k < n; k++) {
				if (below(2))
					put_str(&b, PICK(edge_snippets));
				else
					put(&b, &edge_bytes[below(
					    sizeof(edge_bytes) - 1)], 1);
			}
			differ(&b, "edge bytes", st);
			break;
		}
	}
}

int
main(void)
{
	struct lax_stats cs = { 0 }, st = { 0 };
	const char *env;
	unsigned long rounds = DEFAULT_ROUNDS;
	uint64_t seed = 20251121;
	clock_t t0 = clock();

	if ((env = getenv("TF_SCAN_ROUNDS")) != NULL)
		rounds = strtoul(env, NULL, 10);
	if ((env = getenv("TF_SCAN_SEED")) != NULL)
		seed = strtoull(env, NULL, 10);
	rng = (seed + 1) * 0x9e3779b97f4a7c15ULL;

	test_cases(&cs);
	test_depth(&cs);
	test_keys();
	test_strings();
	test_differential(rounds, &st);

	printf("scan_test: %d cases (%lu jq-laxer, %lu jq-stricter); "
	    "%lu differential inputs, seed %llu: %lu objects, %lu other "
	    "JSON, %lu rejected by both, %lu jq-laxer, %lu jq-stricter; "
	    "%.1f s\n", ncases, cs.laxer,
	    cs.stricter, st.inputs, (unsigned long long)seed, st.objects,
	    st.others, st.rejected, st.laxer, st.stricter,
	    (double)(clock() - t0) / CLOCKS_PER_SEC);
	if (failures > 0)
		printf("scan_test: %d failures\n", failures);
	return failures > 0;
}
