/* template_test.c: alert and notify templates (lib/template) compiled and
 * rendered against hand-made events and variables, into buffers of every
 * size; and tf_template_number's formatting of numbers for people. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"

static int failures;

#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "template_test:%d: ", __LINE__);     \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			failures++;                                          \
		}                                                            \
	} while (0)

/* What the variable callback reads: the value of each variable, and the
 * buffer size it was last offered. */
struct vals {
	const char *const *v;
	size_t size_seen;
};

/* As lib/alert.c's var_text: snprintf, the length clamped to size - 1. */
static size_t
var_clamped(int var, char *buf, size_t size, void *arg)
{
	struct vals *vals = arg;
	int k = snprintf(buf, size, "%s", vals->v[var]);

	vals->size_seen = size;
	return k < 0 ? 0 : (size_t)k < size ? (size_t)k : size - 1;
}

/* As plain snprintf: the full length, however much fitted. */
static size_t
var_full(int var, char *buf, size_t size, void *arg)
{
	struct vals *vals = arg;

	vals->size_seen = size;
	return (size_t)snprintf(buf, size, "%s", vals->v[var]);
}

/* A number, as lib/alert.c writes {level}: all of it or nothing. */
static size_t
var_number(int var, char *buf, size_t size, void *arg)
{
	(void)arg;
	return tf_template_number(var == 1 ? 70000 : 1.5, buf, size);
}

/* Writes the value but says it is two bytes long. */
static size_t
var_two(int var, char *buf, size_t size, void *arg)
{
	struct vals *vals = arg;

	snprintf(buf, size, "%s", vals->v[var]);
	return 2;
}

static const char *const vars[] = { "symbol", "level", "direction", NULL };
static const char *const values[] = { "BTC-USD", "70,000", "above" };

static const char event[] =
	"{\"type\":\"trade\",\"data\":{\"side\":\"buy\",\"qty\":1.5,"
	"\"px\":70000},\"list\":[10,\"two\",{\"k\":null}],"
	"\"key with.dot\":\"q\",\"n\":null,\"t\":true,\"f\":false,\"e\":\"\","
	"\"u\":\"caf\\u00e9\",\"s\":\"a\\\"b\",\"o\":{}}";

/* Compiles text with vars (must succeed) and renders it with fn over the
 * given line into size bytes: out must be want, the return its length. */
static void
expect_fn(const char *text, tf_template_var_fn *fn, const char *const *v,
	const char *line, size_t size, const char *want, int lineno)
{
	struct vals vals = { v, 0 };
	char err[256] = "", out[8192];
	struct tf_template *t = tf_template_create(text, vars, err, sizeof err);
	size_t n;

	if (!t) {
		fprintf(stderr, "template_test:%d: \"%s\": %s\n", lineno, text,
			err);
		failures++;
		return;
	}
	memset(out, 'X', sizeof out);
	n = tf_template_render(t, fn, &vals, line, line ? strlen(line) : 0,
		out, size);
	if (strcmp(out, want) != 0 || n != strlen(want)) {
		fprintf(stderr, "template_test:%d: \"%s\" in %zu bytes: got "
			"\"%s\" (%zu), want \"%s\"\n", lineno, text, size, out,
			n, want);
		failures++;
	}
	if (size < sizeof out && out[size] != 'X') {
		fprintf(stderr, "template_test:%d: \"%s\": wrote past %zu "
			"bytes\n", lineno, text, size);
		failures++;
	}
	tf_template_destroy(t);
}

#define EXPECT(text, line, size, want)                                       \
	expect_fn(text, var_clamped, values, line, size, want, __LINE__)

/* Compiles text with vars (must fail) and checks the message. */
static void
expect_err(const char *text, const char *const *v, const char *want,
	int lineno)
{
	char err[512] = "";
	struct tf_template *t = tf_template_create(text, v, err, sizeof err);

	if (t || strcmp(err, want) != 0) {
		fprintf(stderr, "template_test:%d: \"%s\": %s \"%s\", want "
			"error \"%s\"\n", lineno, text,
			t ? "compiled," : "error", err, want);
		failures++;
	}
	tf_template_destroy(t);
}

#define EXPECT_ERR(text, v, want) expect_err(text, v, want, __LINE__)

static void
test_text_and_variables(void)
{
	char src[64];
	struct tf_template *t;
	char out[64];

	EXPECT("", NULL, 64, "");
	EXPECT("BTC crossed above 70,000", NULL, 64,
		"BTC crossed above 70,000");
	EXPECT("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", NULL, 64,
		"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	EXPECT("{{symbol}} and }}", NULL, 64, "{symbol} and }");
	EXPECT("{{", NULL, 64, "{");
	EXPECT("a}b}", NULL, 64, "a}b}");	/* a lone '}' is text */
	EXPECT("{{{symbol}}}", NULL, 64, "{BTC-USD}");
	EXPECT("{symbol} crossed {direction} {level}", NULL, 64,
		"BTC-USD crossed above 70,000");
	EXPECT("{level}{symbol}{level}", NULL, 64, "70,000BTC-USD70,000");
	/* Variables ignore the line, even one that is not JSON. */
	EXPECT("{symbol}", "not json", 64, "BTC-USD");

	/* No callback: variables render as "". */
	expect_fn("<{symbol}>", NULL, values, NULL, 64, "<>", __LINE__);

	/* The template keeps its own copy of the text. */
	strcpy(src, "[{symbol}] ok");
	t = tf_template_create(src, vars, NULL, 0);
	CHECK(t != NULL, "create from a buffer");
	memset(src, 'Z', sizeof src - 1);
	if (t) {
		struct vals vals = { values, 0 };

		tf_template_render(t, var_clamped, &vals, NULL, 0, out,
			sizeof out);
		CHECK(!strcmp(out, "[BTC-USD] ok"), "after the text changed: "
			"\"%s\"", out);
		/* Rendered twice, the same. */
		tf_template_render(t, var_clamped, &vals, NULL, 0, out,
			sizeof out);
		CHECK(!strcmp(out, "[BTC-USD] ok"), "second render: \"%s\"",
			out);
	}
	tf_template_destroy(t);
	tf_template_destroy(NULL);
}

static void
test_errors(void)
{
	char err[16];

	EXPECT_ERR("{foo} now", vars, "unknown placeholder {foo} (known: "
		"symbol, level, direction, {.field})");
	EXPECT_ERR("{foo}", NULL, "unknown placeholder {foo} (known: "
		"{.field})");
	EXPECT_ERR("{Symbol}", vars, "unknown placeholder {Symbol} (known: "
		"symbol, level, direction, {.field})");
	EXPECT_ERR("{sym}", vars, "unknown placeholder {sym} (known: "
		"symbol, level, direction, {.field})");
	EXPECT_ERR("{symbols}", vars, "unknown placeholder {symbols} (known: "
		"symbol, level, direction, {.field})");
	EXPECT_ERR("a {} b", vars, "unknown placeholder {} (known: "
		"symbol, level, direction, {.field})");
	EXPECT_ERR("{symbol} {level", vars,
		"unclosed '{' in \"{symbol} {level\"");
	EXPECT_ERR("{{{", vars, "unclosed '{' in \"{{{\"");
	EXPECT_ERR("x{", NULL, "unclosed '{' in \"x{\"");
	EXPECT_ERR("{.a[}", vars, "bad field path {.a[} in \"{.a[}\"");
	EXPECT_ERR("{.a[x]}", vars, "bad field path {.a[x]} in \"{.a[x]}\"");
	EXPECT_ERR("{.a[]}", vars, "bad field path {.a[]} in \"{.a[]}\"");
	EXPECT_ERR("{..a}", vars, "bad field path {..a} in \"{..a}\"");
	EXPECT_ERR("{.[0]}", vars, "bad field path {.[0]} in \"{.[0]}\"");
	EXPECT_ERR("{.\"a}", vars, "bad field path {.\"a} in \"{.\"a}\"");

	/* A short err buffer holds the message's start; none is fine. */
	CHECK(!tf_template_create("{foo}", vars, err, sizeof err) &&
		!strcmp(err, "unknown placeho"), "short err: \"%s\"", err);
	CHECK(!tf_template_create("{foo}", vars, NULL, 0), "no err buffer");
	CHECK(!tf_template_create("{", vars, err, 0), "err of 0 bytes");
}

static void
test_paths(void)
{
	char line[64];

	EXPECT("{.type}", event, 256, "trade");
	EXPECT("{.data.side} {.data.qty} @ {.data.px}", event, 256,
		"buy 1.5 @ 70000");
	EXPECT("{.data}", event, 256, "{\"side\":\"buy\",\"qty\":1.5,"
		"\"px\":70000}");
	EXPECT("{.list}", event, 256, "[10,\"two\",{\"k\":null}]");
	EXPECT("{.list[0]}|{.list[1]}|{.list[2]}", event, 256,
		"10|two|{\"k\":null}");
	EXPECT("{.list[2].k}|{.list[3]}|{.list[99999999999]}", event, 256,
		"||");
	EXPECT("{.\"key with.dot\"}", event, 256, "q");
	EXPECT("{.\"data\".side}", event, 256, "buy");
	EXPECT("{.t} {.f} {.o}", event, 256, "true false {}");
	EXPECT("<{.e}>", event, 256, "<>");
	EXPECT("{.u}", event, 256, "caf\xc3\xa9");
	EXPECT("{.s}", event, 256, "a\"b");	/* text, not JSON */
	/* null, missing, and what cannot be indexed: all "". */
	EXPECT("<{.n}{.missing}{.missing.deeper}{.type.x}{.data[0]}"
		"{.list.x}>", event, 256, "<>");
	EXPECT("{.}", "{\"a\": [1, 2.50, \"x\"] , \"b\":null}", 256,
		"{\"a\":[1,2.5,\"x\"],\"b\":null}");
	EXPECT("{.a}/{symbol}", "{\"a\":1e3}", 256, "1000/BTC-USD");

	/* No line, or a line that is not a JSON object: paths render "". */
	EXPECT("<{.type}|{symbol}>", NULL, 256, "<|BTC-USD>");
	EXPECT("<{.type}|{.}>", "[1,2]", 256, "<|>");
	EXPECT("<{.type}>", "\"trade\"", 256, "<>");
	EXPECT("<{.type}>", "{\"type\":", 256, "<>");
	EXPECT("<{.type}>", "not json", 256, "<>");
	EXPECT("<{.type}>", "", 256, "<>");

	/* Only line[0..len) is read. */
	{
		struct tf_template *t = tf_template_create("{.a}", NULL, NULL,
			0);
		char out[16];

		strcpy(line, "{\"a\":1}garbage");
		tf_template_render(t, NULL, NULL, line, 7, out, sizeof out);
		CHECK(!strcmp(out, "1"), "len honoured: \"%s\"", out);
		tf_template_render(t, NULL, NULL, line, 3, out, sizeof out);
		CHECK(!strcmp(out, ""), "a cut line: \"%s\"", out);
		tf_template_destroy(t);
	}
}

/* True when out[0..n) ends at a UTF-8 character boundary of full. */
static int
at_boundary(const char *full, size_t n)
{
	return ((unsigned char)full[n] & 0xc0) != 0x80;
}

/* Renders text at every size from 1 to its full length + 1: the output is
 * the longest prefix of the full render that fits in size - 1 bytes
 * without splitting a character. */
static void
check_all_sizes(const char *text, const char *line, int lineno)
{
	struct vals vals = { values, 0 };
	struct tf_template *t = tf_template_create(text, vars, NULL, 0);
	char full[512], out[512];
	size_t len, size, n, want;

	if (!t) {
		fprintf(stderr, "template_test:%d: \"%s\" fails\n", lineno,
			text);
		failures++;
		return;
	}
	len = tf_template_render(t, var_clamped, &vals, line,
		line ? strlen(line) : 0, full, sizeof full);
	for (size = 1; size <= len + 1; size++) {
		want = size - 1;
		while (want > 0 && !at_boundary(full, want))
			want--;
		memset(out, 'X', sizeof out);
		n = tf_template_render(t, var_clamped, &vals, line,
			line ? strlen(line) : 0, out, size);
		if (n != strlen(out) || n != want ||
		    memcmp(out, full, n) != 0 || out[size] != 'X') {
			fprintf(stderr, "template_test:%d: \"%s\" in %zu "
				"bytes: \"%s\" (%zu), want \"%.*s\"\n", lineno,
				text, size, out, n, (int)want, full);
			failures++;
		}
	}
	tf_template_destroy(t);
}

static void
test_bound(void)
{
	struct tf_template *t = tf_template_create("hello", NULL, NULL, 0);
	char out[8] = "XXXXXXX";

	/* size 0: nothing written, not even a NUL. */
	CHECK(tf_template_render(t, NULL, NULL, NULL, 0, out, 0) == 0 &&
		!strcmp(out, "XXXXXXX"), "size 0: \"%s\"", out);
	CHECK(tf_template_render(t, NULL, NULL, NULL, 0, out, 1) == 0 &&
		out[0] == '\0' && out[1] == 'X', "size 1");
	tf_template_destroy(t);

	EXPECT("hello world", NULL, 6, "hello");
	EXPECT("hello world", NULL, 11, "hello worl");
	EXPECT("hello world", NULL, 12, "hello world");
	EXPECT("{symbol}-{level}", NULL, 10, "BTC-USD-7");

	/* A character right at the cut is left out whole. */
	EXPECT("ab\xe2\x82\xac", NULL, 6, "ab\xe2\x82\xac");
	EXPECT("ab\xe2\x82\xac", NULL, 5, "ab");
	EXPECT("ab\xe2\x82\xac", NULL, 4, "ab");
	EXPECT("ab\xe2\x82\xac", NULL, 3, "ab");
	EXPECT("ab\xe2\x82\xac", NULL, 2, "a");
	EXPECT("a\xc3\xa9", NULL, 3, "a");
	EXPECT("a\xc3\xa9", NULL, 4, "a\xc3\xa9");
	EXPECT("a\xf0\x9f\x98\x80", NULL, 5, "a");
	EXPECT("a\xf0\x9f\x98\x80", NULL, 6, "a\xf0\x9f\x98\x80");
	EXPECT("\xf0\x9f\x98\x80", NULL, 4, "");
	EXPECT("{.u}", event, 5, "caf");
	EXPECT("{.u}", event, 6, "caf\xc3\xa9");
	{
		static const char *const euro[] = { "xy\xe2\x82\xac", "", "" };

		expect_fn("{symbol}", var_clamped, euro, NULL, 5, "xy",
			__LINE__);
		expect_fn("{symbol}", var_clamped, euro, NULL, 6,
			"xy\xe2\x82\xac", __LINE__);
	}

	/* Every size, where a cut character is the render's last part. */
	check_all_sizes("{symbol} crossed {direction} {level}", NULL, __LINE__);
	check_all_sizes("{{{symbol}}} }} {.type} {.data}", event, __LINE__);
	check_all_sizes("{symbol}: caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80!",
		NULL, __LINE__);
	check_all_sizes("{symbol} {.u}", event, __LINE__);
	check_all_sizes("{symbol} \xe2\x82\xac {.u} {level}", event, __LINE__);
}

/* A value of n bytes: 'a's, then tail (if it fits). */
static char *
long_value(size_t n, const char *tail)
{
	char *s = malloc(n + 1);
	size_t k = strlen(tail);

	if (!s)
		abort();
	memset(s, 'a', n);
	memcpy(s + n - k, tail, k);
	s[n] = '\0';
	return s;
}

/* Renders "<{symbol}>" with symbol = value through fn into a large
 * buffer; returns the length between the brackets (or (size_t)-1). */
static size_t
render_long(tf_template_var_fn *fn, const char *value, char *out,
	size_t size, size_t *size_seen)
{
	const char *v[] = { value, "", "" };
	struct vals vals = { v, 0 };
	struct tf_template *t = tf_template_create("<{symbol}>", vars, NULL,
		0);
	size_t n = tf_template_render(t, fn, &vals, NULL, 0, out, size);

	tf_template_destroy(t);
	*size_seen = vals.size_seen;
	if (n < 2 || n != strlen(out) || out[0] != '<' || out[n - 1] != '>')
		return (size_t)-1;
	return n - 2;
}

/* Renders text with symbol = value through fn into out[size]. */
static size_t
render_var(const char *text, tf_template_var_fn *fn, const char *value,
	char *out, size_t size, size_t *size_seen)
{
	const char *v[] = { value, "", "" };
	struct vals vals = { v, 0 };
	struct tf_template *t = tf_template_create(text, vars, NULL, 0);
	size_t n = tf_template_render(t, fn, &vals, NULL, 0, out, size);

	tf_template_destroy(t);
	*size_seen = vals.size_seen;
	return n;
}

/*
 * A variable is written straight into what is left of the output, so only
 * the output bounds it; a callback that cuts at a byte (snprintf, as
 * lib/alert.c and lib/notify_text.c do) never leaves half a character,
 * and what the template says after a cut value does not follow it.
 */
static void
test_variable_buffer(void)
{
	static char out[4096];
	size_t seen, n;
	char *v;

	v = long_value(3000, "");
	n = render_long(var_clamped, v, out, sizeof out, &seen);
	CHECK(seen == sizeof out - 1, "the callback is offered %zu bytes",
		seen);
	CHECK(n == 3000 && !memcmp(out + 1, v, 3000),
		"3,000 bytes render whole: %zu", n);
	free(v);

	/* 5,000 bytes in 4,096: "<" and 4,094 of them, no ">" after. */
	v = long_value(5000, "");
	n = render_var("<{symbol}>", var_clamped, v, out, sizeof out, &seen);
	CHECK(n == 4095 && out[0] == '<' && !memcmp(out + 1, v, 4094) &&
		strlen(out) == 4095, "5,000 bytes: %zu", n);
	n = render_var("<{symbol}>", var_full, v, out, sizeof out, &seen);
	CHECK(n == 4095 && strlen(out) == 4095,
		"5,000 bytes, the full length returned: %zu", n);
	free(v);

	/* 4,093 'a's then "\xc3\xa9b": snprintf keeps the lead byte of the
	 * character at the cut; the render leaves the character out. */
	v = long_value(4096, "\xc3\xa9" "b");
	v[4093] = '\xc3';
	v[4094] = '\xa9';
	v[4095] = 'b';
	n = render_var("<{symbol}>", var_clamped, v, out, sizeof out, &seen);
	CHECK(n == 4094 && (unsigned char)out[4093] == 'a' &&
		out[4094] == '\0', "half a character: %zu bytes, last %#x", n,
		(unsigned char)out[n - 1]);
	n = render_var("<{symbol}>", var_full, v, out, sizeof out, &seen);
	CHECK(n == 4094 && out[4094] == '\0',
		"half a character, the full length returned: %zu", n);
	free(v);

	/* Three- and four-byte characters cut at each of their bytes. */
	n = render_var("{symbol}", var_clamped, "ab\xe2\x82\xac", out, 4,
		&seen);
	CHECK(n == 2 && !strcmp(out, "ab"), "a cut euro: \"%s\"", out);
	n = render_var("{symbol}", var_clamped, "ab\xe2\x82\xac", out, 5,
		&seen);
	CHECK(n == 2 && !strcmp(out, "ab"), "a cut euro: \"%s\"", out);
	n = render_var("{symbol}", var_clamped, "a\xf0\x9f\x98\x80", out, 5,
		&seen);
	CHECK(n == 1 && !strcmp(out, "a"), "a cut emoji: \"%s\"", out);
	n = render_var("{symbol}", var_clamped, "a\xf0\x9f\x98\x80", out, 6,
		&seen);
	CHECK(n == 5 && !strcmp(out, "a\xf0\x9f\x98\x80"), "a whole emoji");

	/* The bytes written count, not the length the callback returns. */
	n = render_long(var_two, "abcdef", out, sizeof out, &seen);
	CHECK(n == 6 && !strcmp(out, "<abcdef>"), "a shorter length: \"%s\"",
		out);

	/* A cut anywhere ends the render: "{symbol} \xe2\x82\xac {level}"
	 * cut inside the euro sign is "BTC " and not "BTC 7". */
	{
		const char *val[] = { "BTC", "70,000", "" };
		struct vals vals = { val, 0 };
		struct tf_template *t = tf_template_create(
			"{symbol} \xe2\x82\xac {level}", vars, NULL, 0);

		n = tf_template_render(t, var_clamped, &vals, NULL, 0, out, 6);
		CHECK(n == 4 && !strcmp(out, "BTC "), "cut text then a "
			"variable: \"%s\"", out);
		tf_template_destroy(t);
		t = tf_template_create("ab\xe2\x82\xac{symbol}", vars, NULL,
			0);
		n = tf_template_render(t, var_clamped, &vals, NULL, 0, out, 5);
		CHECK(n == 2 && !strcmp(out, "ab"), "cut text then a "
			"variable: \"%s\"", out);
		tf_template_destroy(t);
		t = tf_template_create("{.u}{symbol}", vars, NULL, 0);
		n = tf_template_render(t, var_clamped, &vals, event,
			strlen(event), out, 5);
		CHECK(n == 3 && !strcmp(out, "caf"), "a cut field then a "
			"variable: \"%s\"", out);
		tf_template_destroy(t);
	}

	/* A number that does not fit writes nothing, and what follows it
	 * in the template does not either. */
	{
		struct tf_template *t = tf_template_create("ab{level}x", vars,
			NULL, 0);

		n = tf_template_render(t, var_number, NULL, NULL, 0, out, 8);
		CHECK(n == 2 && !strcmp(out, "ab"), "a number that does not "
			"fit: \"%s\"", out);
		n = tf_template_render(t, var_number, NULL, NULL, 0, out, 10);
		CHECK(n == 9 && !strcmp(out, "ab70,000x"), "a number that "
			"fits: \"%s\"", out);
		tf_template_destroy(t);
	}

	/* An event path is bounded by the output alone too. */
	{
		struct tf_template *t = tf_template_create("{.long}", NULL,
			NULL, 0);
		char *line = malloc(3000 + 16);

		if (!line)
			abort();
		v = long_value(3000, "");
		snprintf(line, 3000 + 16, "{\"long\":\"%s\"}", v);
		n = tf_template_render(t, NULL, NULL, line, strlen(line), out,
			sizeof out);
		CHECK(n == 3000 && !strcmp(out, v), "a 3,000-byte field: %zu",
			n);
		free(line);
		free(v);
		tf_template_destroy(t);
	}
}

static void
expect_number(double v, size_t size, const char *want, int lineno)
{
	char buf[80];
	size_t n;

	memset(buf, 'X', sizeof buf);
	n = tf_template_number(v, buf, size);
	if (size == 0) {
		if (n != 0 || buf[0] != 'X') {
			fprintf(stderr, "template_test:%d: %.17g in 0 bytes "
				"wrote\n", lineno, v);
			failures++;
		}
		return;
	}
	/* Not fitting: "" and the length it needs, as snprintf. */
	if (strcmp(buf, want) != 0 || (*want ? n != strlen(want) : n < size) || buf[size] != 'X') {
		fprintf(stderr, "template_test:%d: %.17g in %zu bytes: \"%s\" "
			"(%zu), want \"%s\"\n", lineno, v, size, buf, n, want);
		failures++;
	}
}

#define NUMBER(v, want) expect_number(v, 64, want, __LINE__)
#define NUMBER_IN(v, size, want) expect_number(v, size, want, __LINE__)

static void
test_number(void)
{
	NUMBER(70000, "70,000");
	NUMBER(70012.5, "70,012.50");
	NUMBER(0.00012, "0.00012");
	NUMBER(0, "0");
	NUMBER(-0.0, "0");
	NUMBER(1, "1");
	NUMBER(999, "999");
	NUMBER(1000, "1,000");
	NUMBER(100000, "100,000");
	NUMBER(1234567.891, "1,234,567.891");
	NUMBER(0.5, "0.50");
	NUMBER(1.05, "1.05");
	NUMBER(0.1 + 0.2, "0.30");		/* 15 digits: no ...04 */
	NUMBER(99999.995, "99,999.995");
	NUMBER(-5, "-5");
	NUMBER(-0.5, "-0.50");
	NUMBER(-70012.5, "-70,012.50");
	NUMBER(-1234567, "-1,234,567");
	NUMBER(-0.00012, "-0.00012");

	/* Fractions of a cent: fixed notation to 1e-15 with every
	 * significant digit kept; below that an exponent, never a zero. */
	NUMBER(0.0001, "0.0001");
	NUMBER(0.000012, "0.000012");
	NUMBER(-0.000012, "-0.000012");
	NUMBER(1.5e-7, "0.00000015");
	NUMBER(1.234567e-10, "0.0000000001234567");
	NUMBER(1.23456789012345e-5, "0.0000123456789012345");
	NUMBER(1e-15, "0.000000000000001");
	NUMBER(1e-16, "1e-16");
	NUMBER(1e-20, "1e-20");
	NUMBER(-1e-20, "-1e-20");

	/* Large values: grouped below 1e15, in exponent form from there
	 * (and where 15 digits round up to it). */
	NUMBER(123456789012345, "123,456,789,012,345");
	NUMBER(999999999999999, "999,999,999,999,999");
	NUMBER(999999999999999.9, "1e+15");
	NUMBER(1e15, "1e+15");
	NUMBER(1234567890123456, "1.23456789012346e+15");
	NUMBER(1e21, "1e+21");
	NUMBER(1.5e21, "1.5e+21");
	NUMBER(-1e21, "-1e+21");
	NUMBER(1e300, "1e+300");

	/* Not finite: printf's words. */
	NUMBER(NAN, "nan");
	NUMBER(-NAN, "-nan");
	NUMBER(INFINITY, "inf");
	NUMBER(-INFINITY, "-inf");

	/* Small buffers: all of the number or nothing (part of one reads as
	 * another: "700" for 70,000), always NUL-terminated. */
	NUMBER_IN(70000, 0, "");
	NUMBER_IN(70000, 1, "");
	NUMBER_IN(70000, 2, "");
	NUMBER_IN(70000, 4, "");
	NUMBER_IN(70000, 6, "");
	NUMBER_IN(70000, 7, "70,000");
	NUMBER_IN(70012.5, 8, "");
	NUMBER_IN(70012.5, 9, "");
	NUMBER_IN(70012.5, 10, "70,012.50");
	NUMBER_IN(-70000, 7, "");
	NUMBER_IN(-70000, 8, "-70,000");
	NUMBER_IN(1e21, 5, "");
	NUMBER_IN(1e21, 6, "1e+21");
	NUMBER_IN(NAN, 2, "");
	NUMBER_IN(NAN, 4, "nan");
	NUMBER_IN(1e21, 0, "");
}

int
main(void)
{
	test_text_and_variables();
	test_errors();
	test_paths();
	test_bound();
	test_variable_buffer();
	test_number();
	if (failures)
		fprintf(stderr, "template_test: %d failures\n", failures);
	else
		printf("template_test: ok\n");
	return failures != 0;
}
