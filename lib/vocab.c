/* vocab.c: the event vocabulary: type to topic, well-known fields,
 * priorities. The table here is the one `man tf` shows. */
#include <math.h>
#include <string.h>
#include <strings.h>

#include "line.h"
#include "log.h"
#include "opts.h"
#include "vocab.h"

const struct tf_vocab_entry tf_vocab[] = {
	{ "price_update", "market_data" },
	{ "ticker_update", "market_data" },
	{ "trade_executed", "trading" },
	{ "order_placed", "trading" },
	{ "order_cancelled", "trading" },
	{ "portfolio_update", "portfolio" },
	{ "alert", "alerts" },
	{ "ml_prediction", "ml" },
	{ "pattern_detected", "patterns" },
	{ "system_status", "system" },
	{ "bot_started", "system" },
	{ "bot_stopped", "system" },
	{ "heartbeat", "system" },
	{ NULL, NULL },
};

static const char *const well_known[] = {
	"type", "topic", "symbol", "ts", "priority",
};

enum tf_scan_status
tf_event_scan(const char *s, size_t n, struct tf_event *ev,
	struct tf_scan_error *e)
{
	static struct tf_scan_keys keys;
	struct tf_span out[5];
	enum tf_scan_status st;

	if (!keys.n) {
		size_t i;

		for (i = 0; i < 5; i++)
			tf_scan_keys_add(&keys, well_known[i]);
	}
	st = tf_scan(s, n, &keys, out, e);
	if (st == TF_SCAN_OK) {
		ev->type = out[0];
		ev->topic = out[1];
		ev->symbol = out[2];
		ev->ts = out[3];
		ev->priority = out[4];
	}
	return st;
}

int
tf_event_check(const struct tf_line *l, struct tf_event *ev, char *why,
	size_t size)
{
	struct tf_scan_error e = { 0, "?" };

	if (l->too_long) {
		tf_seterr(why, size, "longer than --max-line (%zu bytes)",
			l->len);
		return -1;
	}
	if (tf_line_blank(l->data, l->len))
		return 1;
	switch (tf_event_scan(l->data, l->len, ev, &e)) {
	case TF_SCAN_OK:
		return 0;
	case TF_SCAN_NOT_OBJECT:
		tf_seterr(why, size, "not a JSON object");
		break;
	case TF_SCAN_UTF8:
		tf_seterr(why, size, "invalid UTF-8 at byte %zu", e.offset);
		break;
	default:
		tf_seterr(why, size, "invalid JSON: %s at byte %zu", e.reason,
			e.offset);
		break;
	}
	return -1;
}

const char *
tf_vocab_topic(const char *type, size_t len)
{
	size_t i;

	for (i = 0; tf_vocab[i].type; i++)
		if (strlen(tf_vocab[i].type) == len &&
		    !memcmp(tf_vocab[i].type, type, len))
			return tf_vocab[i].topic;
	return "other";
}

const char *
tf_event_topic(const struct tf_event *ev, char *buf, size_t size)
{
	const char *t = "other";

	if (ev->topic.kind == TF_JSON_STRING) {
		if (tf_span_string(&ev->topic, buf, size) != (size_t)-1)
			return buf;
	} else if (ev->type.kind == TF_JSON_STRING) {
		if (!ev->type.escaped)
			t = tf_vocab_topic(ev->type.p, ev->type.n);
		else if (tf_span_string(&ev->type, buf, size) != (size_t)-1)
			t = tf_vocab_topic(buf, strlen(buf));
	}
	if (size) {
		strncpy(buf, t, size - 1);
		buf[size - 1] = '\0';
	}
	return buf;
}

static const char *const prio_names[] = { "low", "medium", "high",
	"critical" };

int
tf_priority_parse(const char *s, size_t n)
{
	int i;

	for (i = 0; i < 4; i++)
		if (strlen(prio_names[i]) == n && !strncasecmp(prio_names[i], s, n))
			return i;
	return -1;
}

const char *
tf_priority_name(int prio)
{
	return prio >= 0 && prio < 4 ? prio_names[prio] : "unknown";
}

int
tf_event_time_ns(const struct tf_span *ts, int64_t *ns)
{
	char tmp[64];
	int64_t ms = 0;
	double v;
	size_t i;

	if (ts->kind == TF_JSON_NUMBER) {
		/* The common case, digits only, without strtod. */
		for (i = 0; i < ts->n && i < 13; i++) {
			if (ts->p[i] < '0' || ts->p[i] > '9')
				break;
			ms = ms * 10 + (ts->p[i] - '0');
		}
		if (i == ts->n) {
			/* Past 2262 in nanoseconds: not a time tf keeps. */
			if (ms > INT64_MAX / 1000000)
				return -1;
			*ns = ms * 1000000;
			return 0;
		}
		if (tf_span_double(ts, &v) < 0 || fabs(v) > 9e12)
			return -1;
		*ns = (int64_t)llround(v * 1e6);
		return 0;
	}
	if (ts->kind != TF_JSON_STRING ||
	    tf_span_string(ts, tmp, sizeof tmp) == (size_t)-1)
		return -1;
	return tf_parse_time("ts", tmp, ns, NULL, 0);
}
