/* envelope.c: the tf.v1 event envelope read from a line (tf(7)); the one
 * parser of tf-sub --envelope's output. */
#include <stdint.h>
#include <string.h>

#include "envelope.h"
#include "log.h"
#include "scan.h"

enum { K_TYPE, K_SEQ, K_EPOCH, K_DATA, K_FROM, K_TO, K_TOPIC, K_N };

/* A JSON number that is a whole number from 1 to INT64_MAX (what SQLite's
 * INTEGER holds): 0 and *v, or -1. */
static int
positive(const struct tf_span *sp, uint64_t *v)
{
	uint64_t x = 0;
	size_t i;

	if (sp->kind != TF_JSON_NUMBER || !sp->n)
		return -1;
	for (i = 0; i < sp->n; i++) {
		unsigned d = (unsigned char)sp->p[i] - '0';

		if (d > 9 || x > ((uint64_t)INT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*v = x;
	return x ? 0 : -1;
}

int
tf_envelope_check(const struct tf_line *l, struct tf_envelope *e,
	struct tf_event *ev, char *why, size_t size)
{
	static const char *const names[K_N] = { "type", "seq", "epoch",
		"data", "from", "to", "topic" };
	static struct tf_scan_keys keys;
	struct tf_scan_error se = { 0, "?" };
	struct tf_span sp[K_N];
	char type[16];
	int i;

	if (!keys.n)
		for (i = 0; i < K_N; i++)
			tf_scan_keys_add(&keys, names[i]);
	if (l->too_long) {
		tf_seterr(why, size, "longer than --max-line (%zu bytes)",
			l->len);
		return -1;
	}
	if (tf_line_blank(l->data, l->len))
		return 1;
	switch (tf_scan(l->data, l->len, &keys, sp, &se)) {
	case TF_SCAN_OK:
		break;
	case TF_SCAN_NOT_OBJECT:
		tf_seterr(why, size, "envelope: not a JSON object");
		return -1;
	case TF_SCAN_UTF8:
		tf_seterr(why, size, "invalid UTF-8 at byte %zu", se.offset);
		return -1;
	default:
		tf_seterr(why, size, "invalid JSON: %s at byte %zu",
			se.reason, se.offset);
		return -1;
	}
	if (tf_span_string(&sp[K_TYPE], type, sizeof type) == (size_t)-1 ||
	    (strcmp(type, "event") && strcmp(type, "gap"))) {
		tf_seterr(why, size, "envelope: \"type\" is not \"event\" or "
			"\"gap\"");
		return -1;
	}
	memset(e, 0, sizeof *e);
	if (!strcmp(type, "gap")) {
		if (positive(&sp[K_FROM], &e->from) < 0 ||
		    positive(&sp[K_TO], &e->to) < 0 || e->to < e->from) {
			tf_seterr(why, size, "envelope: a gap needs \"from\" and "
				"\"to\", seqs with from <= to");
			return -1;
		}
		e->gap = 1;
		return 0;
	}
	if (sp[K_SEQ].kind == TF_JSON_ABSENT) {
		tf_seterr(why, size, "envelope: no \"seq\"");
		return -1;
	}
	if (positive(&sp[K_SEQ], &e->seq) < 0) {
		tf_seterr(why, size, "envelope: \"seq\" is not an integer from "
			"1 to %lld", (long long)INT64_MAX);
		return -1;
	}
	if (sp[K_EPOCH].kind != TF_JSON_STRING) {
		tf_seterr(why, size, "envelope: no \"epoch\" string");
		return -1;
	}
	if (tf_span_string(&sp[K_EPOCH], e->epoch, sizeof e->epoch) ==
	    (size_t)-1 || strlen(e->epoch) != sp[K_EPOCH].n) {
		tf_seterr(why, size, "envelope: \"epoch\" longer than %d bytes "
			"or not plain text", TF_ENVELOPE_EPOCH_MAX);
		return -1;
	}
	if (sp[K_DATA].kind == TF_JSON_ABSENT) {
		tf_seterr(why, size, "envelope: no \"data\"");
		return -1;
	}
	if (sp[K_DATA].kind != TF_JSON_OBJECT) {
		tf_seterr(why, size, "envelope: \"data\" is not a JSON object");
		return -1;
	}
	if (sp[K_TOPIC].kind != TF_JSON_STRING ||
	    tf_span_string(&sp[K_TOPIC], e->topic, sizeof e->topic) ==
	    (size_t)-1)
		e->topic[0] = '\0';
	e->data = *l;
	e->data.data = sp[K_DATA].p;
	e->data.len = sp[K_DATA].n;
	/* Valid already: this finds its fields. */
	if (tf_event_scan(e->data.data, e->data.len, ev, &se) != TF_SCAN_OK) {
		tf_seterr(why, size, "envelope: \"data\": %s", se.reason);
		return -1;
	}
	return 0;
}

