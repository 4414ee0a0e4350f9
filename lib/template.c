/* template.c: "{name}" and "{.path}" templates compiled into parts once,
 * rendered per alert. jv is built only for templates with event paths. */
#include <jv.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "template.h"

enum part_kind { PART_TEXT, PART_VAR, PART_PATH };

struct part {
	enum part_kind kind;
	char *text;		/* PART_TEXT */
	size_t len;
	int var;		/* PART_VAR */
	jv path;		/* PART_PATH: an array of keys and indices */
};

struct tf_template {
	struct part *parts;
	size_t n;
	int uses_event;
};

void
tf_template_destroy(struct tf_template *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->n; i++) {
		free(t->parts[i].text);
		if (t->parts[i].kind == PART_PATH)
			jv_free(t->parts[i].path);
	}
	free(t->parts);
	free(t);
}

static struct part *
add_part(struct tf_template *t, enum part_kind kind)
{
	struct part *p = realloc(t->parts, (t->n + 1) * sizeof *p);

	if (!p)
		return NULL;
	t->parts = p;
	p = &t->parts[t->n++];
	memset(p, 0, sizeof *p);
	p->kind = kind;
	return p;
}

/* Appends literal text, merging with a text part just before it. */
static int
add_text(struct tf_template *t, const char *s, size_t n)
{
	struct part *p = t->n ? &t->parts[t->n - 1] : NULL;
	char *text;

	if (!n)
		return 0;
	if (!p || p->kind != PART_TEXT) {
		if (!(p = add_part(t, PART_TEXT)))
			return -1;
	}
	if (!(text = realloc(p->text, p->len + n + 1)))
		return -1;
	memcpy(text + p->len, s, n);
	p->len += n;
	text[p->len] = '\0';
	p->text = text;
	return 0;
}

/* Parses ".a.b[0].\"c d\"" (s[0..n)) into an array of keys and indices. */
static int
parse_path(const char *s, size_t n, jv *out)
{
	jv path = jv_array();
	size_t i = 0;

	while (i < n) {
		size_t j;

		if (s[i] == '[') {
			long idx = 0;

			for (j = i + 1; j < n && s[j] >= '0' && s[j] <= '9';
			     j++)
				if (idx < 100000000)
					idx = idx * 10 + (s[j] - '0');
			if (j == i + 1 || j >= n || s[j] != ']')
				goto bad;
			path = jv_array_append(path, jv_number((double)idx));
			i = j + 1;
			continue;
		}
		if (s[i] != '.')
			goto bad;
		i++;
		if (i < n && s[i] == '"') {
			for (j = i + 1; j < n && s[j] != '"'; j++)
				;
			if (j >= n)
				goto bad;
			path = jv_array_append(path,
				jv_string_sized(s + i + 1, (int)(j - i - 1)));
			i = j + 1;
			continue;
		}
		for (j = i; j < n && s[j] != '.' && s[j] != '[' && s[j] != '"';
		     j++)
			;
		if (j == i) {
			/* "{.}" is the whole event. */
			if (n == 1)
				break;
			goto bad;
		}
		path = jv_array_append(path,
			jv_string_sized(s + i, (int)(j - i)));
		i = j;
	}
	*out = path;
	return 0;
bad:
	jv_free(path);
	return -1;
}

static void
known_list(const char *const *vars, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (; vars && *vars && used + 1 < size; vars++) {
		int k = snprintf(buf + used, size - used, "%s%s",
			used ? ", " : "", *vars);

		if (k < 0)
			break;
		used += (size_t)k;
	}
}

struct tf_template *
tf_template_create(const char *text, const char *const *vars, char *err,
	size_t errlen)
{
	struct tf_template *t = calloc(1, sizeof *t);
	const char *s = text;

	if (!t)
		goto nomem;
	while (*s) {
		const char *open = strpbrk(s, "{}"), *close;
		struct part *p;
		size_t n;
		int i;

		if (!open) {
			if (add_text(t, s, strlen(s)) < 0)
				goto nomem;
			break;
		}
		if (add_text(t, s, (size_t)(open - s)) < 0)
			goto nomem;
		if (open[0] == open[1]) {	/* "{{" or "}}" */
			if (add_text(t, open, 1) < 0)
				goto nomem;
			s = open + 2;
			continue;
		}
		if (*open == '}') {		/* a lone '}' is text */
			if (add_text(t, open, 1) < 0)
				goto nomem;
			s = open + 1;
			continue;
		}
		close = strchr(open + 1, '}');
		if (!close) {
			tf_seterr(err, errlen, "unclosed '{' in \"%s\"", text);
			goto fail;
		}
		n = (size_t)(close - open - 1);
		if (n && open[1] == '.') {
			if (!(p = add_part(t, PART_PATH)))
				goto nomem;
			p->path = jv_null();
			if (parse_path(open + 1, n, &p->path) < 0) {
				tf_seterr(err, errlen,
					"bad field path {%.*s} in \"%s\"",
					(int)n, open + 1, text);
				goto fail;
			}
			t->uses_event = 1;
			s = close + 1;
			continue;
		}
		for (i = 0; vars && vars[i]; i++)
			if (strlen(vars[i]) == n &&
			    !memcmp(vars[i], open + 1, n))
				break;
		if (!vars || !vars[i]) {
			char known[512];

			known_list(vars, known, sizeof known);
			tf_seterr(err, errlen,
				"unknown placeholder {%.*s} "
				"(known: %s%s{.field})",
				(int)n, open + 1, known, *known ? ", " : "");
			goto fail;
		}
		if (!(p = add_part(t, PART_VAR)))
			goto nomem;
		p->var = i;
		s = close + 1;
	}
	return t;
nomem:
	tf_seterr(err, errlen, "out of memory");
fail:
	tf_template_destroy(t);
	return NULL;
}

/* Appends s[0..n) to out, cutting at a UTF-8 boundary when full.
 * Returns 1 when it cut. */
static int
append(char *out, size_t size, size_t *used, const char *s, size_t n)
{
	size_t room = size - 1 - *used;
	int cut = n > room;

	if (cut) {
		n = room;
		/* Back off continuation bytes so no character is cut. */
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(out + *used, s, n);
	*used += n;
	out[*used] = '\0';
	return cut;
}

static int
append_value(char *out, size_t size, size_t *used, jv v)
{
	int cut = 0;

	switch (jv_get_kind(v)) {
	case JV_KIND_INVALID:
	case JV_KIND_NULL:
		jv_free(v);
		break;
	case JV_KIND_STRING:
		cut = append(out, size, used, jv_string_value(v),
			(size_t)jv_string_length_bytes(jv_copy(v)));
		jv_free(v);
		break;
	default: {
		jv s = jv_dump_string(v, 0);

		cut = append(out, size, used, jv_string_value(s),
			(size_t)jv_string_length_bytes(jv_copy(s)));
		jv_free(s);
	}
	}
	return cut;
}

/* The length of s[0..n) less a character cut at its end (a callback that
 * cut at a byte): a lead byte whose character would run past n goes, with
 * what follows it. */
static size_t
whole_chars(const char *s, size_t n)
{
	size_t i = n, need;
	unsigned char c;

	while (i > 0 && n - i < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
		i--;
	if (i == 0)
		return n;
	c = (unsigned char)s[i - 1];
	if (c < 0x80)
		return n;
	need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
	return i - 1 + need > n ? i - 1 : n;
}

/* Writes variable var straight into what is left of out (so a value is
 * bounded by the output alone). Returns 1 when it filled out (and may
 * have been cut). */
static int
append_var(int var, tf_template_var_fn *fn, void *arg, char *out,
	size_t size, size_t *used)
{
	char *dst = out + *used;
	size_t room = size - *used, n, want;
	int full;

	dst[0] = '\0';
	want = fn ? fn(var, dst, room, arg) : 0;
	/* Cut when it filled the room or wanted more than the room (a
	 * number writes nothing then); the bytes written are what count. */
	n = strnlen(dst, room - 1);
	full = n == room - 1 || want >= room;
	if (full)
		n = whole_chars(dst, n);
	dst[n] = '\0';
	*used += n;
	return full;
}

size_t
tf_template_render(const struct tf_template *t, tf_template_var_fn *fn,
	void *arg, const char *line, size_t len, char *out, size_t size)
{
	jv event = jv_invalid();
	size_t used = 0, i;
	int full = 0;

	if (!size)
		return 0;
	out[0] = '\0';
	if (t->uses_event && line)
		event = jv_parse_sized(line, (int)len);
	/* Once a part is cut, nothing after it may follow: the output is
	 * always the start of the whole text. */
	for (i = 0; i < t->n && !full && used + 1 < size; i++) {
		const struct part *p = &t->parts[i];

		switch (p->kind) {
		case PART_TEXT:
			full = append(out, size, &used, p->text, p->len);
			break;
		case PART_VAR:
			full = append_var(p->var, fn, arg, out, size,
				&used);
			break;
		case PART_PATH:
			if (jv_get_kind(event) == JV_KIND_OBJECT)
				full = append_value(out, size, &used,
					jv_getpath(jv_copy(event),
						jv_copy(p->path)));
			break;
		}
	}
	jv_free(event);
	return used;
}

size_t
tf_template_number(double v, char *buf, size_t size)
{
	char raw[64], out[96], *p, *dot;
	size_t intlen, n = 0, i;

	if (!size)
		return 0;
	buf[0] = '\0';
	if (v == 0)
		v = 0;	/* no "-0" */
	snprintf(raw, sizeof raw, "%.15g", v);
	if ((p = strchr(raw, 'e')) && atoi(p + 1) < 0 && atoi(p + 1) >= -15) {
		/* Prices of a fraction of a cent: 1.2e-05 -> 0.000012, the
		 * digits %.15g kept. */
		char digits[32], *d = digits, *q;
		int zeros = -atoi(p + 1) - 1;

		for (q = raw; q < p; q++)
			if (*q >= '0' && *q <= '9')
				*d++ = *q;
		*d = '\0';
		snprintf(raw, sizeof raw, "%s0.%.*s%s", v < 0 ? "-" : "", zeros,
			"000000000000000", digits);
	}
	if (strchr(raw, 'e') || !isfinite(v)) {
		/* From 1e15 up, under 1e-15, nan, inf: as %.15g has it. */
		snprintf(out, sizeof out, "%s", raw);
		n = strlen(out);
	} else {
		p = raw;
		if (*p == '-')
			out[n++] = *p++;
		dot = strchr(p, '.');
		intlen = dot ? (size_t)(dot - p) : strlen(p);
		for (i = 0; i < intlen; i++) {
			if (i && (intlen - i) % 3 == 0)
				out[n++] = ',';
			out[n++] = p[i];
		}
		if (dot) {
			for (i = 0; dot[i]; i++)
				out[n++] = dot[i];
			if (i == 2)	/* ".5" -> ".50" */
				out[n++] = '0';
		}
		out[n] = '\0';
	}
	/* Part of a number reads as another number: all or nothing. */
	if (n >= size)
		return n;
	memcpy(buf, out, n + 1);
	return n;
}
