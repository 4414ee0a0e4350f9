/* alert.c: the alert rule engine: cross (with hysteresis), move (within a
 * sliding window, on bounded monotonic deques) and jq rules, cooldowns,
 * templates, and state that survives a restart. */
#include <jv.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "filter.h"
#include "log.h"
#include "opts.h"
#include "scan.h"
#include "template.h"
#include "vocab.h"

#define MAX_FIELDS (TF_SCAN_MAX_KEYS - 3)
#define TEXT_MAX 4096		/* a rendered title or message */
#define SYMBOL_MAX 256		/* longest symbol tracked, with its NUL */
#define ID_MAX 128

enum kind { KIND_CROSS, KIND_MOVE, KIND_JQ };
enum { KEY_TYPE, KEY_SYMBOL, KEY_TS };
enum { MOVE_ANY, MOVE_UP, MOVE_DOWN };

/* The variables of title and message templates. */
enum {
	V_SYMBOL, V_VALUE, V_PRICE, V_LEVEL, V_CHANGE_PCT, V_WINDOW, V_FROM,
	V_DIRECTION, V_RULE, V_PRIORITY, V_TYPE, V_FIELD, V_TS, V_WHEN,
};
static const char *const vars[] = {
	"symbol", "value", "price", "level", "change_pct", "window", "from",
	"direction", "rule", "priority", "type", "field", "ts", "when", NULL,
};

static const char *const default_title[] = {
	[KIND_CROSS] = "{symbol} crossed {direction} {level}",
	[KIND_MOVE] = "{symbol} moved {change_pct}% in {window}",
	[KIND_JQ] = "Rule {rule}",
};
static const char *const default_message[] = {
	[KIND_CROSS] = "{symbol} {value} (level {level})",
	[KIND_MOVE] = "{symbol} {value} ({change_pct}% from {from} within "
		      "{window})",
	[KIND_JQ] = "{type} matched {when}",
};
static const char *const kind_names[] = { "cross", "move", "jq" };

struct point {
	int64_t t;
	double v;
};

/* A ring of points, grown on demand up to a limit. */
struct deque {
	struct point *p;
	size_t alloc, head, n;
};

/* What a rule remembers about one symbol. */
struct track {
	struct track *next;
	int armed;		/* cross: -1 not seen, 0 disarmed, 1 armed */
	int fired;		/* last_fire is set */
	int64_t last_fire;	/* event time, ns */
	int64_t last_t;		/* move: newest point's time */
	struct deque lo, hi;	/* move: rising minima, falling maxima */
	char symbol[];
};

struct rule {
	char *id;
	enum kind kind;
	char *symbol;		/* NULL: any symbol ("*") */
	char **types;		/* the event types looked at; NULL: any */
	size_t ntypes;
	char *field;
	int field_key;		/* its index in the engine's scan keys */
	double level;
	int above;
	double hyst;		/* absolute, resolved against the level */
	int initial;
	double pct;
	int64_t window_ns;
	int direction;
	struct tf_filter *when;
	char *when_text;
	int priority;
	int64_t cooldown_ns;
	struct tf_template *title, *message;
	char sig[160];		/* what state of this rule depends on */
	struct track **buckets;
	size_t nbuckets, ntracks;
	int warned_symbols, warned_points;
};

struct buf {
	char *p;
	size_t n, cap;
	int failed;
};

struct tf_alert {
	struct tf_alert_config cfg;
	struct rule **rules;
	size_t n;
	struct tf_scan_keys keys;
	char *fields[MAX_FIELDS];
	size_t nfields;
	int dirty;
	struct buf out;
};

/* ---- small helpers ---- */

static void
buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 512;
		char *p;

		while (cap < b->n + n + 1)
			cap *= 2;
		if (!(p = realloc(b->p, cap))) {
			b->failed = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void
buf_fmt(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
buf_fmt(struct buf *b, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (k > 0)
		buf_add(b, tmp, (size_t)k < sizeof tmp ? (size_t)k :
			sizeof tmp - 1);
}

/* Appends s as a JSON string, quotes included. */
static void
buf_json(struct buf *b, const char *s)
{
	const char *run = s;

	buf_add(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_add(b, run, (size_t)(s - run));
		run = s + 1;
		switch (c) {
		case '"': buf_add(b, "\\\"", 2); break;
		case '\\': buf_add(b, "\\\\", 2); break;
		case '\n': buf_add(b, "\\n", 2); break;
		case '\t': buf_add(b, "\\t", 2); break;
		case '\r': buf_add(b, "\\r", 2); break;
		default: buf_fmt(b, "\\u%04x", c);
		}
	}
	buf_add(b, run, (size_t)(s - run));
	buf_add(b, "\"", 1);
}

/* A JSON number, as printed by the shortest %g that reads back. */
static void
buf_num(struct buf *b, double v)
{
	if (isfinite(v))
		buf_fmt(b, "%.15g", v);
	else
		buf_str(b, "null");	/* JSON holds no inf or nan */
}

/* A percentage to two decimals; past 1e15 %.2f would write 300 digits. */
static void
buf_pct(struct buf *b, double v)
{
	if (isfinite(v) && fabs(v) < 1e15)
		buf_fmt(b, "%.2f", v);
	else
		buf_num(b, v);
}

/* Durations as people write them: 10m, 1h30m, 45s, 1.5s, 250ms. */
static void
format_window(int64_t ns, char *out, size_t size)
{
	int64_t s = ns / 1000000000;
	size_t used = 0;
	int k;

	if (ns % 1000000000) {
		if (ns < 1000000000 && ns % 1000000 == 0)
			snprintf(out, size, "%lldms",
				(long long)(ns / 1000000));
		else
			snprintf(out, size, "%gs", (double)ns / 1e9);
		return;
	}
	out[0] = '\0';
	if (s >= 86400 && used < size) {
		k = snprintf(out + used, size - used, "%lldd",
			(long long)(s / 86400));
		used += k > 0 ? (size_t)k : 0;
		s %= 86400;
	}
	if (s >= 3600 && used < size) {
		k = snprintf(out + used, size - used, "%lldh",
			(long long)(s / 3600));
		used += k > 0 ? (size_t)k : 0;
		s %= 3600;
	}
	if (s >= 60 && used < size) {
		k = snprintf(out + used, size - used, "%lldm",
			(long long)(s / 60));
		used += k > 0 ? (size_t)k : 0;
		s %= 60;
	}
	if ((s || !used) && used < size)
		snprintf(out + used, size - used, "%llds", (long long)s);
}

/* A span holding a number, or a string holding one, as a double. */
/* ---- deques ---- */

static struct point *
dq_at(const struct deque *d, size_t i)
{
	return &d->p[(d->head + i) % d->alloc];
}

static void
dq_pop_front(struct deque *d)
{
	d->head = (d->head + 1) % d->alloc;
	d->n--;
}

/* Appends p; when the deque holds max points already, drops the oldest
 * and returns 1. -1 on ENOMEM. */
static int
dq_push(struct deque *d, struct point p, size_t max)
{
	int dropped = 0;

	if (d->n == d->alloc) {
		if (d->alloc < max) {
			size_t alloc = d->alloc ? d->alloc * 2 : 16, i;
			struct point *np;

			if (alloc > max)
				alloc = max;
			if (!(np = malloc(alloc * sizeof *np)))
				return -1;
			for (i = 0; i < d->n; i++)
				np[i] = *dq_at(d, i);
			free(d->p);
			d->p = np;
			d->alloc = alloc;
			d->head = 0;
		} else {
			dq_pop_front(d);
			dropped = 1;
		}
	}
	d->p[(d->head + d->n) % d->alloc] = p;
	d->n++;
	return dropped;
}

/* ---- tracks: per rule, per symbol ---- */

static size_t
hash(const char *s)
{
	size_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static void
tracks_free(struct rule *r)
{
	size_t i;

	for (i = 0; i < r->nbuckets; i++) {
		struct track *t = r->buckets[i], *next;

		for (; t; t = next) {
			next = t->next;
			free(t->lo.p);
			free(t->hi.p);
			free(t);
		}
	}
	free(r->buckets);
	r->buckets = NULL;
	r->nbuckets = r->ntracks = 0;
}

static int
tracks_grow(struct rule *r)
{
	size_t n = r->nbuckets ? r->nbuckets * 2 : 16, i;
	struct track **b = calloc(n, sizeof *b);

	if (!b)
		return -1;
	for (i = 0; i < r->nbuckets; i++) {
		struct track *t = r->buckets[i], *next;

		for (; t; t = next) {
			size_t h = hash(t->symbol) & (n - 1);

			next = t->next;
			t->next = b[h];
			b[h] = t;
		}
	}
	free(r->buckets);
	r->buckets = b;
	r->nbuckets = n;
	return 0;
}

/* The track of symbol, created when missing. NULL when the rule tracks
 * max_symbols already (*full set) or on ENOMEM. */
static struct track *
track_get(struct tf_alert *a, struct rule *r, const char *symbol, int *full)
{
	struct track *t;
	size_t h, len;

	*full = 0;
	if (r->nbuckets) {
		h = hash(symbol) & (r->nbuckets - 1);
		for (t = r->buckets[h]; t; t = t->next)
			if (!strcmp(t->symbol, symbol))
				return t;
	}
	if (r->ntracks >= a->cfg.max_symbols) {
		*full = 1;
		return NULL;
	}
	if (r->ntracks >= r->nbuckets * 2 && tracks_grow(r) < 0)
		return NULL;
	len = strlen(symbol);
	if (!(t = calloc(1, sizeof *t + len + 1)))
		return NULL;
	memcpy(t->symbol, symbol, len + 1);
	t->armed = -1;
	h = hash(symbol) & (r->nbuckets - 1);
	t->next = r->buckets[h];
	r->buckets[h] = t;
	r->ntracks++;
	return t;
}

/* ---- rules ---- */

static void
rule_free(struct rule *r)
{
	size_t i;

	if (!r)
		return;
	tracks_free(r);
	free(r->id);
	free(r->symbol);
	for (i = 0; i < r->ntypes; i++)
		free(r->types[i]);
	free(r->types);
	free(r->field);
	tf_filter_destroy(r->when);
	free(r->when_text);
	tf_template_destroy(r->title);
	tf_template_destroy(r->message);
	free(r);
}

static const char *const common_keys[] = {
	"id", "kind", "symbol", "type", "priority", "title", "message",
	"cooldown", "description", NULL,
};
static const char *const kind_keys[][6] = {
	[KIND_CROSS] = { "above", "below", "field", "hysteresis", "initial",
		NULL },
	[KIND_MOVE] = { "pct", "window", "field", "direction", NULL },
	[KIND_JQ] = { "when", NULL },
};

static int
in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (!strcmp(*list, s))
			return 1;
	return 0;
}

/* The kind of a rule object: its "kind", else what its keys imply. */
static int
rule_kind(jv o, char *err, size_t errlen)
{
	jv k = jv_object_get(jv_copy(o), jv_string("kind"));
	int kind = -1, i;

	if (jv_get_kind(k) == JV_KIND_STRING) {
		for (i = 0; i < 3; i++)
			if (!strcmp(jv_string_value(k), kind_names[i]))
				kind = i;
		if (kind < 0)
			tf_seterr(err, errlen,
				"unknown kind '%s' (cross, move or jq)",
				jv_string_value(k));
	} else if (jv_get_kind(k) != JV_KIND_INVALID &&
		   jv_get_kind(k) != JV_KIND_NULL) {
		tf_seterr(err, errlen, "kind: not a string");
	} else if (jv_object_has(jv_copy(o), jv_string("above")) ||
		   jv_object_has(jv_copy(o), jv_string("below"))) {
		kind = KIND_CROSS;
	} else if (jv_object_has(jv_copy(o), jv_string("pct"))) {
		kind = KIND_MOVE;
	} else if (jv_object_has(jv_copy(o), jv_string("when"))) {
		kind = KIND_JQ;
	} else {
		tf_seterr(err, errlen,
			"no kind (give \"kind\": \"cross\", \"move\" or "
			"\"jq\")");
	}
	jv_free(k);
	return kind;
}

/* Looks key up in o: 1 and *v set (the caller frees it) when present and
 * not null, 0 when absent. */
static int
get(jv o, const char *key, jv *v)
{
	*v = jv_object_get(jv_copy(o), jv_string(key));
	if (jv_get_kind(*v) == JV_KIND_INVALID ||
	    jv_get_kind(*v) == JV_KIND_NULL) {
		jv_free(*v);
		*v = jv_null();
		return 0;
	}
	return 1;
}

/* A string value of o[key] into a malloc'd copy; 0 absent, -1 error. */
static int
get_string(jv o, const char *key, char **out, char *err, size_t errlen)
{
	jv v;

	if (!get(o, key, &v))
		return 0;
	if (jv_get_kind(v) != JV_KIND_STRING) {
		tf_seterr(err, errlen, "%s: not a string", key);
		jv_free(v);
		return -1;
	}
	*out = strdup(jv_string_value(v));
	jv_free(v);
	if (!*out) {
		tf_seterr(err, errlen, "out of memory");
		return -1;
	}
	return 1;
}

static int
get_number(jv o, const char *key, double *out, char *err, size_t errlen)
{
	jv v;

	if (!get(o, key, &v))
		return 0;
	if (jv_get_kind(v) != JV_KIND_NUMBER) {
		tf_seterr(err, errlen, "%s: not a number", key);
		jv_free(v);
		return -1;
	}
	/* jq reads 1e400 as infinity: no level or move can be that. */
	if (!isfinite(jv_number_value(v))) {
		tf_seterr(err, errlen, "%s: out of range", key);
		jv_free(v);
		return -1;
	}
	*out = jv_number_value(v);
	jv_free(v);
	return 1;
}

/* A duration: a string such as "5m", or a number of seconds. */
static int
get_duration(jv o, const char *key, int64_t *ns, char *err, size_t errlen)
{
	jv v;
	int rc = 1;

	if (!get(o, key, &v))
		return 0;
	if (jv_get_kind(v) == JV_KIND_NUMBER && jv_number_value(v) >= 0 &&
	    jv_number_value(v) < 9e9) {
		*ns = (int64_t)llround(jv_number_value(v) * 1e9);
	} else if (jv_get_kind(v) != JV_KIND_STRING ||
		   tf_parse_duration(key, jv_string_value(v), ns, err,
			   errlen) < 0) {
		if (jv_get_kind(v) != JV_KIND_STRING)
			tf_seterr(err, errlen,
				"%s: not a duration (e.g. \"30s\", \"5m\", "
				"\"2h\")",
				key);
		rc = -1;
	}
	jv_free(v);
	return rc;
}

/* "0.5" (absolute) or "0.1%" (of level) into an absolute amount. */
static int
parse_hysteresis(const char *s, double level, double *h, char *err,
	size_t errlen)
{
	char *end;
	double v;

	v = strtod(s, &end);
	if (end == s || (*end && strcmp(end, "%")) || !isfinite(v) || v < 0) {
		tf_seterr(err, errlen,
			"hysteresis: '%s' is not an amount (e.g. 50, or "
			"\"0.1%%\" of the level)",
			s);
		return -1;
	}
	*h = *end ? fabs(level) * v / 100 : v;
	return 0;
}

/* Registers field with the engine's scan keys; its index, or -1. */
static int
field_key(struct tf_alert *a, const char *field, char *err, size_t errlen)
{
	size_t i;
	int k;

	for (i = 0; i < a->nfields; i++)
		if (!strcmp(a->fields[i], field))
			return KEY_TS + 1 + (int)i;
	if (a->nfields == MAX_FIELDS) {
		tf_seterr(err, errlen,
			"field '%s': at most %d different fields across cross "
			"and move rules",
			field, MAX_FIELDS);
		return -1;
	}
	if (!(a->fields[a->nfields] = strdup(field)) ||
	    (k = tf_scan_keys_add(&a->keys, a->fields[a->nfields])) < 0) {
		tf_seterr(err, errlen, "out of memory");
		return -1;
	}
	a->nfields++;
	return k;
}

static struct tf_template *
template(jv o, const char *key, const char *def, char *err, size_t errlen)
{
	struct tf_template *t;
	char *text = NULL, why[600];

	if (get_string(o, key, &text, err, errlen) < 0)
		return NULL;
	t = tf_template_create(text ? text : def, vars, why, sizeof why);
	if (!t)
		tf_seterr(err, errlen, "%s: %s", key, why);
	free(text);
	return t;
}

static int
parse_types(struct rule *r, jv o, char *err, size_t errlen)
{
	jv v;
	int i, n;

	if (!get(o, "type", &v)) {
		if (r->kind == KIND_JQ)
			return 0;
		v = JV_ARRAY(jv_string("price_update"),
			jv_string("ticker_update"));
	}
	if (jv_get_kind(v) == JV_KIND_STRING)
		v = JV_ARRAY(v);
	if (jv_get_kind(v) != JV_KIND_ARRAY ||
	    !(n = jv_array_length(jv_copy(v))))
		goto bad;
	if (!(r->types = calloc((size_t)n, sizeof *r->types)))
		goto nomem;
	for (i = 0; i < n; i++) {
		jv t = jv_array_get(jv_copy(v), i);
		int ok = jv_get_kind(t) == JV_KIND_STRING;

		if (ok && !(r->types[r->ntypes++] =
				    strdup(jv_string_value(t)))) {
			jv_free(t);
			goto nomem;
		}
		jv_free(t);
		if (!ok)
			goto bad;
	}
	jv_free(v);
	return 0;
nomem:
	jv_free(v);
	tf_seterr(err, errlen, "out of memory");
	return -1;
bad:
	jv_free(v);
	tf_seterr(err, errlen, "type: not a string or an array of strings");
	return -1;
}

/* Builds a rule from o (borrowed). Returns NULL with err filled. */
static struct rule *
rule_parse(struct tf_alert *a, jv o, const char *default_id, char *err,
	size_t errlen)
{
	struct rule *r = calloc(1, sizeof *r);
	jv keys, v;
	char *s = NULL;
	int i, kind, n;
	double d;

	if (!r) {
		tf_seterr(err, errlen, "out of memory");
		return NULL;
	}
	if ((kind = rule_kind(o, err, errlen)) < 0)
		goto fail;
	r->kind = (enum kind)kind;

	keys = jv_keys(jv_copy(o));
	n = jv_array_length(jv_copy(keys));
	for (i = 0; i < n; i++) {
		jv k = jv_array_get(jv_copy(keys), i);
		const char *ks = jv_string_value(k);
		int j, other = -1;

		if (in_list(common_keys, ks) || in_list(kind_keys[kind], ks)) {
			jv_free(k);
			continue;
		}
		for (j = 0; j < 3; j++)
			if (in_list(kind_keys[j], ks))
				other = j;
		if (other >= 0)
			tf_seterr(err, errlen, "key '%s' is for %s rules, "
				"not %s rules", ks, kind_names[other],
				kind_names[kind]);
		else
			tf_seterr(err, errlen, "unknown key '%s'", ks);
		jv_free(k);
		jv_free(keys);
		goto fail;
	}
	jv_free(keys);

	if ((i = get_string(o, "id", &r->id, err, errlen)) < 0)
		goto fail;
	if (!i && !(r->id = strdup(default_id)))
		goto nomem;
	if (!*r->id || strlen(r->id) >= ID_MAX) {
		tf_seterr(err, errlen, "id: empty or longer than %d bytes",
			ID_MAX - 1);
		goto fail;
	}
	for (i = 0; i < (int)a->n; i++)
		if (!strcmp(a->rules[i]->id, r->id)) {
			tf_seterr(err, errlen, "id '%s' is used twice", r->id);
			goto fail;
		}

	if ((i = get_string(o, "symbol", &r->symbol, err, errlen)) < 0)
		goto fail;
	if (i && (!*r->symbol || strlen(r->symbol) >= SYMBOL_MAX)) {
		tf_seterr(err, errlen, "symbol: empty or too long");
		goto fail;
	}
	if (!i && kind == KIND_CROSS) {
		tf_seterr(err, errlen,
			"missing \"symbol\" (a symbol, or \"*\" for each)");
		goto fail;
	}
	if (r->symbol && !strcmp(r->symbol, "*")) {
		free(r->symbol);
		r->symbol = NULL;
	}
	if (parse_types(r, o, err, errlen) < 0)
		goto fail;

	r->priority = a->cfg.priority;
	if ((i = get_string(o, "priority", &s, err, errlen)) < 0)
		goto fail;
	if (i) {
		r->priority = tf_priority_parse(s, strlen(s));
		if (r->priority < 0) {
			tf_seterr(err, errlen, "priority: '%s' is not low, "
				"medium, high or critical", s);
			goto fail;
		}
		free(s);
		s = NULL;
	}
	r->cooldown_ns = a->cfg.cooldown_ns;
	if (get_duration(o, "cooldown", &r->cooldown_ns, err, errlen) < 0)
		goto fail;

	if (kind != KIND_JQ) {
		if (get_string(o, "field", &r->field, err, errlen) < 0)
			goto fail;
		if (!r->field && !(r->field = strdup("price")))
			goto nomem;
		if ((r->field_key = field_key(a, r->field, err, errlen)) < 0)
			goto fail;
	}

	switch (kind) {
	case KIND_CROSS: {
		int has_above = get_number(o, "above", &d, err, errlen);

		if (has_above < 0)
			goto fail;
		if (has_above) {
			r->level = d;
			r->above = 1;
		}
		if ((i = get_number(o, "below", &d, err, errlen)) < 0)
			goto fail;
		if (i == has_above) {
			tf_seterr(err, errlen, i ?
				"both \"above\" and \"below\" (one level per "
				"rule)" : "missing \"above\" or \"below\"");
			goto fail;
		}
		if (i)
			r->level = d;
		if (get(o, "hysteresis", &v)) {
			char num[64];

			if (jv_get_kind(v) == JV_KIND_NUMBER)
				snprintf(num, sizeof num, "%.17g",
					jv_number_value(v));
			else if (jv_get_kind(v) == JV_KIND_STRING)
				snprintf(num, sizeof num, "%s",
					jv_string_value(v));
			else
				snprintf(num, sizeof num, "?");
			jv_free(v);
			if (parse_hysteresis(num, r->level, &r->hyst, err,
				    errlen) < 0)
				goto fail;
		} else if (a->cfg.hysteresis &&
			   parse_hysteresis(a->cfg.hysteresis, r->level,
				   &r->hyst, err, errlen) < 0) {
			goto fail;
		}
		r->initial = a->cfg.initial;
		if (get(o, "initial", &v)) {
			if (jv_get_kind(v) != JV_KIND_TRUE &&
			    jv_get_kind(v) != JV_KIND_FALSE) {
				jv_free(v);
				tf_seterr(err, errlen, "initial: not true or "
					"false");
				goto fail;
			}
			r->initial = jv_get_kind(v) == JV_KIND_TRUE;
			jv_free(v);
		}
		snprintf(r->sig, sizeof r->sig, "cross %s %.17g %s",
			r->above ? "above" : "below", r->level, r->field);
		break;
	}
	case KIND_MOVE:
		if ((i = get_number(o, "pct", &r->pct, err, errlen)) < 0)
			goto fail;
		if (!i || r->pct <= 0 || r->pct > 1e6) {
			tf_seterr(err, errlen, i ? "pct: must be above 0" :
				"missing \"pct\" (the move in percent)");
			goto fail;
		}
		if ((i = get_duration(o, "window", &r->window_ns, err,
			     errlen)) < 0)
			goto fail;
		if (!i || r->window_ns <= 0) {
			tf_seterr(err, errlen, i ? "window: must be above 0" :
				"missing \"window\" (e.g. \"10m\")");
			goto fail;
		}
		if ((i = get_string(o, "direction", &s, err, errlen)) < 0)
			goto fail;
		r->direction = MOVE_ANY;
		if (i) {
			if (!strcmp(s, "up"))
				r->direction = MOVE_UP;
			else if (!strcmp(s, "down"))
				r->direction = MOVE_DOWN;
			else if (strcmp(s, "any")) {
				tf_seterr(err, errlen, "direction: '%s' is not "
					"up, down or any", s);
				goto fail;
			}
			free(s);
			s = NULL;
		}
		snprintf(r->sig, sizeof r->sig, "move");
		break;
	case KIND_JQ: {
		char why[600];

		if ((i = get_string(o, "when", &r->when_text, err,
			     errlen)) < 0)
			goto fail;
		if (!i) {
			tf_seterr(err, errlen, "missing \"when\" (a jq "
				"condition)");
			goto fail;
		}
		if (!(r->when = tf_filter_create(r->when_text, why,
			      sizeof why))) {
			tf_seterr(err, errlen, "when: %s", why);
			goto fail;
		}
		snprintf(r->sig, sizeof r->sig, "jq");
		break;
	}
	}
	if (!(r->title = template(o, "title", default_title[kind], err,
		      errlen)) ||
	    !(r->message = template(o, "message", default_message[kind], err,
		      errlen)))
		goto fail;
	return r;
nomem:
	tf_seterr(err, errlen, "out of memory");
fail:
	free(s);
	rule_free(r);
	return NULL;
}

static int
rule_append(struct tf_alert *a, struct rule *r)
{
	struct rule **rules = realloc(a->rules, (a->n + 1) * sizeof *rules);

	if (!rules)
		return -1;
	a->rules = rules;
	a->rules[a->n++] = r;
	return 0;
}

struct tf_alert *
tf_alert_create(const struct tf_alert_config *cfg)
{
	struct tf_alert *a = calloc(1, sizeof *a);

	if (!a)
		return NULL;
	a->cfg = *cfg;
	if (!a->cfg.max_symbols)
		a->cfg.max_symbols = 10000;
	if (!a->cfg.max_points)
		a->cfg.max_points = 100000;
	if (!a->cfg.source)
		a->cfg.source = "tf-alert";
	tf_scan_keys_add(&a->keys, "type");
	tf_scan_keys_add(&a->keys, "symbol");
	tf_scan_keys_add(&a->keys, "ts");
	return a;
}

void
tf_alert_destroy(struct tf_alert *a)
{
	size_t i;

	if (!a)
		return;
	for (i = 0; i < a->n; i++)
		rule_free(a->rules[i]);
	for (i = 0; i < a->nfields; i++)
		free(a->fields[i]);
	free(a->rules);
	free(a->out.p);
	free(a);
}

size_t
tf_alert_count(const struct tf_alert *a)
{
	return a->n;
}

const char *
tf_alert_rule_id(const struct tf_alert *a, size_t i)
{
	return a->rules[i]->id;
}

int
tf_alert_rule_priority(const struct tf_alert *a, size_t i)
{
	return a->rules[i]->priority;
}

int
tf_alert_add(struct tf_alert *a, const char *text, char *err, size_t errlen)
{
	jv o = jv_parse(text);
	struct rule *r;
	char id[32];

	if (jv_get_kind(o) != JV_KIND_OBJECT) {
		jv_free(o);
		tf_seterr(err, errlen, "not a JSON object");
		return -1;
	}
	snprintf(id, sizeof id, "rule-%zu", a->n + 1);
	r = rule_parse(a, o, id, err, errlen);
	jv_free(o);
	if (!r)
		return -1;
	if (rule_append(a, r) < 0) {
		rule_free(r);
		tf_seterr(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int
tf_alert_load(struct tf_alert *a, const char *text, size_t len, char *err,
	size_t errlen)
{
	jv doc = jv_parse_sized(text, (int)len), list;
	size_t before = a->n;
	int i, n;

	if (!jv_is_valid(doc)) {
		jv msg = jv_invalid_get_msg(doc);
		const char *m = jv_get_kind(msg) == JV_KIND_STRING ?
			jv_string_value(msg) : "?";
		/* jq 1.6 quotes the whole text after the reason: cut it. */
		const char *cut = strstr(m, " (while parsing");

		tf_seterr(err, errlen, "not JSON: %.*s",
			(int)(cut ? (size_t)(cut - m) : strlen(m)), m);
		jv_free(msg);
		return -1;
	}
	if (jv_get_kind(doc) == JV_KIND_OBJECT) {
		list = jv_object_get(jv_copy(doc), jv_string("rules"));
	} else {
		list = jv_copy(doc);
	}
	jv_free(doc);
	if (jv_get_kind(list) != JV_KIND_ARRAY) {
		jv_free(list);
		tf_seterr(err, errlen, "expected an array of rules, or "
			"{\"rules\": [...]}");
		return -1;
	}
	n = jv_array_length(jv_copy(list));
	for (i = 0; i < n; i++) {
		jv o = jv_array_get(jv_copy(list), i), id;
		char why[1024], def[32];
		struct rule *r = NULL;

		snprintf(def, sizeof def, "rule-%d", i + 1);
		if (jv_get_kind(o) != JV_KIND_OBJECT) {
			tf_seterr(err, errlen, "rule %d: not a JSON object",
				i + 1);
			jv_free(o);
			goto fail;
		}
		r = rule_parse(a, o, def, why, sizeof why);
		if (!r || rule_append(a, r) < 0) {
			id = jv_object_get(jv_copy(o), jv_string("id"));
			if (jv_get_kind(id) == JV_KIND_STRING)
				tf_seterr(err, errlen, "rule %d (%s): %s",
					i + 1, jv_string_value(id),
					r ? "out of memory" : why);
			else
				tf_seterr(err, errlen, "rule %d: %s", i + 1,
					r ? "out of memory" : why);
			jv_free(id);
			rule_free(r);
			jv_free(o);
			goto fail;
		}
		jv_free(o);
	}
	jv_free(list);
	return n;
fail:
	jv_free(list);
	while (a->n > before)
		rule_free(a->rules[--a->n]);
	return -1;
}

/* ---- running the rules ---- */

/* What one firing says, for templates and the alert line. */
struct fire {
	const struct rule *r;
	const char *symbol;	/* "" when the event has none */
	int has_value;
	double value, from, change_pct;
	const char *direction;
	const struct tf_span *sp;
	int64_t t_ns;
};

static size_t
var_text(int var, char *buf, size_t size, void *arg)
{
	const struct fire *f = arg;
	const struct rule *r = f->r;
	int k = 0;

	buf[0] = '\0';
	switch (var) {
	case V_SYMBOL:
		k = snprintf(buf, size, "%s", f->symbol);
		break;
	case V_VALUE:
	case V_PRICE:
		if (f->has_value)
			return tf_template_number(f->value, buf, size);
		break;
	case V_LEVEL:
		if (r->kind == KIND_CROSS)
			return tf_template_number(r->level, buf, size);
		break;
	case V_FROM:
		if (r->kind == KIND_MOVE)
			return tf_template_number(f->from, buf, size);
		break;
	case V_CHANGE_PCT:
		if (r->kind == KIND_MOVE)
			k = snprintf(buf, size, "%+.2f", f->change_pct);
		break;
	case V_WINDOW:
		if (r->kind == KIND_MOVE)
			format_window(r->window_ns, buf, size);
		return strlen(buf);
	case V_DIRECTION:
		k = snprintf(buf, size, "%s", f->direction ? f->direction : "");
		break;
	case V_RULE:
		k = snprintf(buf, size, "%s", r->id);
		break;
	case V_PRIORITY:
		k = snprintf(buf, size, "%s", tf_priority_name(r->priority));
		break;
	case V_TYPE:
		if (tf_span_string(&f->sp[KEY_TYPE], buf, size) == (size_t)-1)
			buf[0] = '\0';
		return strlen(buf);
	case V_FIELD:
		k = snprintf(buf, size, "%s", r->field ? r->field : "");
		break;
	case V_TS:
		tf_format_time(f->t_ns, buf, size);
		return strlen(buf);
	case V_WHEN:
		k = snprintf(buf, size, "%s", r->when_text ? r->when_text : "");
		break;
	}
	return k < 0 ? 0 : (size_t)k < size ? (size_t)k : size - 1;
}

static void
emit(struct tf_alert *a, const struct fire *f, const char *line, size_t len,
	const struct tf_alert_out *out)
{
	const struct rule *r = f->r;
	struct buf *b = &a->out;
	const struct tf_span *ts = &f->sp[KEY_TS];
	char title[TEXT_MAX], message[TEXT_MAX];

	tf_template_render(r->title, var_text, (void *)f, line, len, title,
		sizeof title);
	tf_template_render(r->message, var_text, (void *)f, line, len,
		message, sizeof message);
	b->n = 0;
	b->failed = 0;
	buf_str(b, "{\"type\":\"alert\",\"ts\":");
	if (ts->kind == TF_JSON_NUMBER) {
		buf_add(b, ts->p, ts->n);
	} else if (ts->kind == TF_JSON_STRING) {
		buf_add(b, "\"", 1);
		buf_add(b, ts->p, ts->n);
		buf_add(b, "\"", 1);
	} else {
		buf_fmt(b, "%lld", (long long)(f->t_ns / 1000000));
	}
	buf_str(b, ",\"priority\":");
	buf_json(b, tf_priority_name(r->priority));
	buf_str(b, ",\"title\":");
	buf_json(b, title);
	buf_str(b, ",\"message\":");
	buf_json(b, message);
	buf_str(b, ",\"source\":");
	buf_json(b, a->cfg.source);
	if (*f->symbol) {
		buf_str(b, ",\"symbol\":");
		buf_json(b, f->symbol);
	}
	buf_str(b, ",\"rule\":");
	buf_json(b, r->id);
	buf_str(b, ",\"kind\":");
	buf_json(b, kind_names[r->kind]);
	if (r->kind != KIND_JQ) {
		buf_str(b, ",\"field\":");
		buf_json(b, r->field);
		buf_str(b, ",\"value\":");
		buf_num(b, f->value);
		buf_str(b, ",\"direction\":");
		buf_json(b, f->direction);
	}
	if (r->kind == KIND_CROSS) {
		buf_str(b, ",\"level\":");
		buf_num(b, r->level);
	} else if (r->kind == KIND_MOVE) {
		char w[64];

		format_window(r->window_ns, w, sizeof w);
		buf_str(b, ",\"from\":");
		buf_num(b, f->from);
		buf_str(b, ",\"change_pct\":");
		buf_pct(b, f->change_pct);
		buf_str(b, ",\"window\":");
		buf_json(b, w);
		buf_fmt(b, ",\"window_ms\":%lld",
			(long long)(r->window_ns / 1000000));
	}
	buf_str(b, "}");
	if (!b->failed && out->emit)
		out->emit(b->p, b->n, out->arg);
}

static void
warnf(const struct tf_alert_out *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
warnf(const struct tf_alert_out *out, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!out->warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	out->warn(msg, out->arg);
}

/* Fires unless the cooldown holds it back; returns 1 when it fired. */
static int
maybe_fire(struct tf_alert *a, struct track *t, const struct fire *f,
	const char *line, size_t len, const struct tf_alert_out *out)
{
	const struct rule *r = f->r;

	/* Time that runs backwards (a replay) ends a cooldown. */
	if (t && t->fired && r->cooldown_ns > 0 && f->t_ns >= t->last_fire &&
	    f->t_ns - t->last_fire < r->cooldown_ns)
		return 0;
	if (t) {
		t->fired = 1;
		t->last_fire = f->t_ns;
		a->dirty = 1;
	}
	emit(a, f, line, len, out);
	return 1;
}

static struct track *
track_for(struct tf_alert *a, struct rule *r, const char *symbol,
	const struct tf_alert_out *out)
{
	int full;
	struct track *t = track_get(a, r, symbol, &full);

	if (!t && full && !r->warned_symbols) {
		r->warned_symbols = 1;
		warnf(out, "rule %s: more than %zu symbols (--max-symbols); "
			"'%s' and any other new symbol are not watched",
			r->id, a->cfg.max_symbols, symbol);
	} else if (!t && !full) {
		warnf(out, "rule %s: out of memory", r->id);
	}
	return t;
}

static int
run_cross(struct tf_alert *a, struct rule *r, struct track *t,
	struct fire *f, const char *line, size_t len,
	const struct tf_alert_out *out)
{
	double v = f->value;
	int beyond = r->above ? v >= r->level : v <= r->level;
	int back = r->above ? v < r->level - r->hyst : v > r->level + r->hyst;
	int fired = 0;

	f->direction = r->above ? "above" : "below";
	if (t->armed < 0) {
		t->armed = !beyond;
		a->dirty = 1;
		if (beyond && r->initial)
			fired = maybe_fire(a, t, f, line, len, out);
	} else if (t->armed && beyond) {
		t->armed = 0;
		a->dirty = 1;
		fired = maybe_fire(a, t, f, line, len, out);
	} else if (!t->armed && back) {
		t->armed = 1;
		a->dirty = 1;
	}
	return fired;
}

static int
run_move(struct tf_alert *a, struct rule *r, struct track *t,
	struct fire *f, const char *line, size_t len,
	const struct tf_alert_out *out)
{
	struct point p = { f->t_ns, f->value };
	double up = 0, down = 0, lo, hi;
	int fired = 0, dropped;

	/* Points out of order count at the newest time seen. */
	if (t->armed >= 0 && p.t < t->last_t)
		p.t = t->last_t;
	t->last_t = p.t;
	t->armed = 1;	/* for a move rule: a point has been seen */
	while (t->lo.n && p.t - dq_at(&t->lo, 0)->t > r->window_ns)
		dq_pop_front(&t->lo);
	while (t->hi.n && p.t - dq_at(&t->hi, 0)->t > r->window_ns)
		dq_pop_front(&t->hi);
	if (t->lo.n) {
		lo = dq_at(&t->lo, 0)->v;
		hi = dq_at(&t->hi, 0)->v;
		if (lo > 0)
			up = (p.v - lo) / lo * 100;
		if (hi > 0)
			down = (p.v - hi) / hi * 100;
		if (r->direction == MOVE_UP)
			down = 0;
		else if (r->direction == MOVE_DOWN)
			up = 0;
		/* A tolerance so 100 -> 105 is a 5% move despite rounding. */
		if (up >= r->pct - 1e-9 && up >= -down) {
			f->from = lo;
			f->change_pct = up;
			f->direction = "up";
		} else if (-down >= r->pct - 1e-9) {
			f->from = hi;
			f->change_pct = down;
			f->direction = "down";
		}
		if (f->direction && (fired = maybe_fire(a, t, f, line, len,
					     out))) {
			/* The next alert needs a new move from here. */
			t->lo.n = t->hi.n = 0;
		}
	}
	while (t->lo.n && dq_at(&t->lo, t->lo.n - 1)->v >= p.v)
		t->lo.n--;
	while (t->hi.n && dq_at(&t->hi, t->hi.n - 1)->v <= p.v)
		t->hi.n--;
	dropped = dq_push(&t->lo, p, a->cfg.max_points);
	if (dropped >= 0) {
		int d2 = dq_push(&t->hi, p, a->cfg.max_points);

		dropped = d2 < 0 ? d2 : dropped || d2;
	}
	if (dropped < 0) {
		warnf(out, "rule %s: out of memory", r->id);
	} else if (dropped && !r->warned_points) {
		r->warned_points = 1;
		warnf(out, "rule %s: %s: more than %zu points in the window "
			"(--max-points); dropping the oldest, so the window is "
			"shorter",
			r->id, t->symbol, a->cfg.max_points);
	}
	return fired;
}

static int
type_matches(const struct rule *r, const struct tf_span *type)
{
	size_t i;

	if (!r->types)
		return 1;
	for (i = 0; i < r->ntypes; i++)
		if (tf_span_eq(type, r->types[i], strlen(r->types[i])))
			return 1;
	return 0;
}

int
tf_alert_feed(struct tf_alert *a, const char *line, size_t len,
	int64_t now_ns, const struct tf_alert_out *out)
{
	struct tf_span sp[TF_SCAN_MAX_KEYS];
	char symbol[SYMBOL_MAX];
	int64_t t_ns;
	size_t i;
	int fired = 0, parsed = 0;
	jv event = jv_invalid();	/* for jq rules: parsed once, shared */

	if (tf_scan(line, len, &a->keys, sp, NULL) != TF_SCAN_OK)
		return 0;
	if (tf_event_time_ns(&sp[KEY_TS], &t_ns) < 0)
		t_ns = now_ns;
	if (sp[KEY_SYMBOL].kind != TF_JSON_STRING ||
	    tf_span_string(&sp[KEY_SYMBOL], symbol, sizeof symbol) ==
		    (size_t)-1)
		symbol[0] = '\0';

	for (i = 0; i < a->n; i++) {
		struct rule *r = a->rules[i];
		struct fire f = { .r = r, .symbol = symbol, .sp = sp,
			.t_ns = t_ns };
		struct track *t = NULL;
		char why[512];

		if (!type_matches(r, &sp[KEY_TYPE]))
			continue;
		if (r->symbol ? strcmp(r->symbol, symbol) != 0 :
				r->kind != KIND_JQ && !*symbol)
			continue;
		if (r->kind == KIND_JQ) {
			int m;

			if (!parsed) {
				event = jv_parse_sized(line, (int)len);
				parsed = 1;
			}
			m = tf_filter_match_jv(r->when, jv_copy(event), why,
				sizeof why);

			if (m < 0)
				warnf(out, "rule %s: %s", r->id, why);
			if (m <= 0)
				continue;
			if (r->cooldown_ns > 0 &&
			    !(t = track_for(a, r, symbol, out)))
				continue;
			fired += maybe_fire(a, t, &f, line, len, out);
			continue;
		}
		if (tf_span_double(&sp[r->field_key], &f.value) < 0)
			continue;
		f.has_value = 1;
		if (!(t = track_for(a, r, symbol, out)))
			continue;
		if (r->kind == KIND_CROSS)
			fired += run_cross(a, r, t, &f, line, len, out);
		else
			fired += run_move(a, r, t, &f, line, len, out);
	}
	jv_free(event);
	return fired;
}

/* ---- state ---- */

int
tf_alert_state_dirty(const struct tf_alert *a)
{
	return a->dirty;
}

/* What a restart needs of a track: {"armed":..,"last_fire":ms}. */
static jv
track_json(const struct rule *r, const struct track *t)
{
	jv e = jv_object();

	if (r->kind == KIND_CROSS && t->armed >= 0)
		e = jv_object_set(e, jv_string("armed"), jv_bool(t->armed));
	if (t->fired)
		e = jv_object_set(e, jv_string("last_fire"),
			jv_number((double)(t->last_fire / 1000000)));
	return e;
}

char *
tf_alert_state_dump(struct tf_alert *a)
{
	jv rules = jv_object(), doc, s;
	size_t i, b;
	char *text;

	for (i = 0; i < a->n; i++) {
		struct rule *r = a->rules[i];
		jv syms = jv_object();

		for (b = 0; b < r->nbuckets; b++) {
			struct track *t;

			for (t = r->buckets[b]; t; t = t->next) {
				jv e = track_json(r, t);

				if (jv_object_length(jv_copy(e)))
					syms = jv_object_set(syms,
						jv_string(t->symbol), e);
				else
					jv_free(e);
			}
		}
		if (!jv_object_length(jv_copy(syms))) {
			jv_free(syms);
			continue;
		}
		rules = jv_object_set(rules, jv_string(r->id),
			JV_OBJECT(jv_string("sig"), jv_string(r->sig),
				jv_string("symbols"), syms));
	}
	doc = JV_OBJECT(jv_string("tf_alert_state"), jv_number(1),
		jv_string("rules"), rules);
	s = jv_dump_string(doc, JV_PRINT_SORTED);
	text = strdup(jv_string_value(s));
	jv_free(s);
	if (text)
		a->dirty = 0;
	return text;
}

/* o[key] when o is an object, else invalid; o is kept. */
static jv
field_of(jv o, const char *key)
{
	if (jv_get_kind(o) != JV_KIND_OBJECT)
		return jv_invalid();
	return jv_object_get(jv_copy(o), jv_string(key));
}

static struct rule *
rule_by_id(struct tf_alert *a, const char *id)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (!strcmp(a->rules[i]->id, id))
			return a->rules[i];
	return NULL;
}

int
tf_alert_state_restore(struct tf_alert *a, const char *text, size_t len,
	char *err, size_t errlen)
{
	jv doc = jv_parse_sized(text, (int)len), v, rules, ids;
	int i, n, restored = 0;

	v = jv_get_kind(doc) == JV_KIND_OBJECT ?
		jv_object_get(jv_copy(doc), jv_string("tf_alert_state")) :
		jv_invalid();
	if (jv_get_kind(v) != JV_KIND_NUMBER || jv_number_value(v) != 1) {
		jv_free(v);
		jv_free(doc);
		tf_seterr(err, errlen, "not a tf-alert state file");
		return -1;
	}
	jv_free(v);
	rules = jv_object_get(doc, jv_string("rules"));
	if (jv_get_kind(rules) != JV_KIND_OBJECT) {
		jv_free(rules);
		tf_seterr(err, errlen, "not a tf-alert state file (no rules)");
		return -1;
	}
	ids = jv_keys(jv_copy(rules));
	n = jv_array_length(jv_copy(ids));
	for (i = 0; i < n; i++) {
		jv id = jv_array_get(jv_copy(ids), i);
		jv e = jv_object_get(jv_copy(rules), jv_copy(id));
		jv sig = field_of(e, "sig"), syms = field_of(e, "symbols");
		struct rule *r = rule_by_id(a, jv_string_value(id));
		int j, m;

		if (!r || jv_get_kind(sig) != JV_KIND_STRING ||
		    strcmp(jv_string_value(sig), r->sig) ||
		    jv_get_kind(syms) != JV_KIND_OBJECT)
			goto next;
		{
			jv names = jv_keys(jv_copy(syms));

			m = jv_array_length(jv_copy(names));
			for (j = 0; j < m; j++) {
				jv name = jv_array_get(jv_copy(names), j);
				jv se = jv_object_get(jv_copy(syms),
					jv_copy(name));
				jv armed = field_of(se, "armed");
				jv last = field_of(se, "last_fire");
				struct track *t;
				int full;

				if (jv_get_kind(se) == JV_KIND_OBJECT &&
				    (t = track_get(a, r, jv_string_value(name),
					     &full))) {
					jv_kind ak = jv_get_kind(armed);

					if (r->kind == KIND_CROSS &&
					    (ak == JV_KIND_TRUE ||
						    ak == JV_KIND_FALSE))
						t->armed = ak == JV_KIND_TRUE;
					if (jv_get_kind(last) ==
						JV_KIND_NUMBER) {
						t->fired = 1;
						t->last_fire = (int64_t)
							jv_number_value(last) *
							1000000;
					}
					restored++;
				}
				jv_free(armed);
				jv_free(last);
				jv_free(se);
				jv_free(name);
			}
			jv_free(names);
		}
next:
		jv_free(syms);
		jv_free(sig);
		jv_free(e);
		jv_free(id);
	}
	jv_free(ids);
	jv_free(rules);
	return restored;
}
