/* notify_dedupe.c: repeat suppression by key within a window, and burst
 * summaries. */
#include <jv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify_dedupe.h"
#include "vocab.h"

struct slot {
	uint64_t hash;
	int64_t at;
};

struct tf_dedupe {
	int64_t window;
	size_t max, n;
	struct slot *s;
};

struct tf_dedupe *
tf_dedupe_create(int64_t window_ns, size_t max_keys)
{
	struct tf_dedupe *d = calloc(1, sizeof *d);

	if (!d || !(d->s = calloc(max_keys ? max_keys : 1, sizeof *d->s))) {
		free(d);
		return NULL;
	}
	d->window = window_ns;
	d->max = max_keys ? max_keys : 1;
	return d;
}

void
tf_dedupe_destroy(struct tf_dedupe *d)
{
	if (!d)
		return;
	free(d->s);
	free(d);
}

static uint64_t
fnv1a(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n--) {
		h ^= (unsigned char)*p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

int
tf_dedupe_seen(struct tf_dedupe *d, const char *key, size_t n, int64_t now)
{
	uint64_t h = fnv1a(key, n);
	size_t i, oldest = 0;

	for (i = 0; i < d->n; i++)
		if (d->s[i].hash == h) {
			if (now - d->s[i].at < d->window)
				return 1;
			d->s[i].at = now;
			return 0;
		}
	for (i = 0; i < d->n; i++) {
		if (now - d->s[i].at >= d->window)
			break;	/* expired: reuse the slot */
		if (d->s[i].at < d->s[oldest].at)
			oldest = i;
	}
	if (i < d->n)
		;
	else if (d->n < d->max)
		i = d->n++;
	else
		i = oldest;
	d->s[i].hash = h;
	d->s[i].at = now;
	return 0;
}

int
tf_burst_admit(struct tf_burst *b, int64_t now, const char *title, int prio)
{
	size_t have, add;

	if (!b->limit)
		return 1;
	if (!b->count && !b->held)
		b->start = now;
	if (b->count < b->limit) {
		b->count++;
		return 1;
	}
	if (!b->held++ || prio > b->max_prio)
		b->max_prio = prio;
	have = strlen(b->titles);
	add = strlen(title);
	if (b->held <= 10 && have + add + 2 < sizeof b->titles) {
		if (have)
			b->titles[have++] = '\n';
		memcpy(b->titles + have, title, add + 1);
	}
	return 0;
}

int64_t
tf_burst_due(const struct tf_burst *b)
{
	if (!b->limit || (!b->count && !b->held))
		return -1;
	return b->start + b->window_ns;
}

int
tf_burst_summary(struct tf_burst *b, int64_t now, int force, char *buf,
	size_t size)
{
	char title[128], msg[1200];
	unsigned held = b->held;
	jv o, s;

	if (!b->limit || (!force && (tf_burst_due(b) < 0 ||
				     now < tf_burst_due(b))))
		return 0;
	b->count = 0;
	if (!held) {
		b->titles[0] = '\0';
		return 0;
	}
	snprintf(title, sizeof title, "%u more alert%s", held,
		held == 1 ? "" : "s");
	snprintf(msg, sizeof msg, "%s%s", b->titles,
		held > 10 ? "\n…" : "");
	o = jv_object_set(jv_object(), jv_string("type"), jv_string("alert"));
	o = jv_object_set(o, jv_string("priority"),
		jv_string(tf_priority_name(b->max_prio)));
	o = jv_object_set(o, jv_string("title"), jv_string(title));
	o = jv_object_set(o, jv_string("message"), jv_string(msg));
	o = jv_object_set(o, jv_string("source"), jv_string("tf-notify"));
	o = jv_object_set(o, jv_string("suppressed"), jv_number(held));
	s = jv_dump_string(o, 0);
	snprintf(buf, size, "%s", jv_string_value(s));
	jv_free(s);
	b->held = 0;
	b->titles[0] = '\0';
	b->max_prio = 0;
	return 1;
}
