/* notify_text.c: titles and messages per event type, as templates over
 * the event's fields, numbers formatted for people. */
#include <jv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "notify_text.h"
#include "template.h"
#include "vocab.h"

const char *const tf_notify_text_vars[] = {
	"title", "message", "source", "symbol", "type", "priority", "id",
	"label", "price", "change_24h", "volume", "bid", "ask", "side",
	"quantity", "order_id", "pnl", "pnl_pct", "total_value", "status",
	"cpu", "memory", "connections", "model", "direction",
	"predicted_price", "horizon", "confidence", "pattern", "entry",
	"target", "stop", "json", NULL,
};
enum { V_TITLE, V_MESSAGE, V_SOURCE, V_SYMBOL, V_TYPE, V_PRIORITY, V_ID,
	V_LABEL, V_FIELDS };

/* The defaults: type, title, message. */
static const char *const defaults[][3] = {
	{ "alert", "{title}", "{.message}" },
	{ "price_update", "{symbol} {price}",
		"24h change {change_24h}% · volume {volume} · bid {bid} · "
		"ask {ask}" },
	{ "ticker_update", "{symbol} {price}",
		"24h change {change_24h}% · volume {volume} · bid {bid} · "
		"ask {ask}" },
	{ "trade_executed", "{label}: {side} {quantity} {symbol} @ {price}",
		"order {order_id} · P&L {pnl}" },
	{ "order_placed", "{label}: {side} {quantity} {symbol} @ {price}",
		"order {order_id}" },
	{ "order_cancelled", "{label}: {side} {quantity} {symbol} @ {price}",
		"order {order_id}" },
	{ "portfolio_update", "Portfolio {total_value}",
		"P&L {pnl} ({pnl_pct}%)" },
	{ "ml_prediction", "{symbol} prediction: {direction}",
		"{model} predicts {predicted_price} within {horizon} "
		"(confidence {confidence})" },
	{ "pattern_detected", "{symbol}: {pattern}",
		"entry {entry} · target {target} · stop {stop} · "
		"confidence {confidence}" },
	{ "system_status", "System {status}",
		"cpu {cpu}% · memory {memory}% · connections {connections}" },
	{ "bot_started", "{label}", "status {status}" },
	{ "bot_stopped", "{label}", "status {status}" },
	{ NULL, "{label}", "{json}" },
};
#define NDEFAULTS (sizeof defaults / sizeof defaults[0])

struct tf_notify_text {
	struct tf_template *title, *message;	/* the user's, or NULL */
	struct tf_template *def[NDEFAULTS][2];
};

void
tf_notify_text_destroy(struct tf_notify_text *t)
{
	size_t i;

	if (!t)
		return;
	tf_template_destroy(t->title);
	tf_template_destroy(t->message);
	for (i = 0; i < NDEFAULTS; i++) {
		tf_template_destroy(t->def[i][0]);
		tf_template_destroy(t->def[i][1]);
	}
	free(t);
}

struct tf_notify_text *
tf_notify_text_create(const char *title, const char *message, char *err,
	size_t errlen)
{
	struct tf_notify_text *t = calloc(1, sizeof *t);
	char why[512];
	size_t i;

	if (!t) {
		tf_seterr(err, errlen, "out of memory");
		return NULL;
	}
	if (title && !(t->title = tf_template_create(title,
			     tf_notify_text_vars, why, sizeof why))) {
		tf_seterr(err, errlen, "--title: %s", why);
		goto fail;
	}
	if (message && !(t->message = tf_template_create(message,
			       tf_notify_text_vars, why, sizeof why))) {
		tf_seterr(err, errlen, "--message: %s", why);
		goto fail;
	}
	for (i = 0; i < NDEFAULTS; i++)
		if (!(t->def[i][0] = tf_template_create(defaults[i][1],
			      tf_notify_text_vars, why, sizeof why)) ||
		    !(t->def[i][1] = tf_template_create(defaults[i][2],
			      tf_notify_text_vars, why, sizeof why))) {
			tf_seterr(err, errlen, "default template: %s", why);
			goto fail;
		}
	return t;
fail:
	tf_notify_text_destroy(t);
	return NULL;
}

struct ctx {
	jv o;			/* the event, or null */
	const char *line;
	size_t len;
	int prio;
	uint64_t id;
	const char *type;
};

static size_t
put(char *buf, size_t size, const char *s)
{
	size_t n = strlen(s);

	if (!size)
		return 0;
	if (n >= size)
		n = size - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return n;
}

static size_t
field(const struct ctx *c, const char *name, char *buf, size_t size,
	const char *missing)
{
	jv v;
	size_t n;

	if (jv_get_kind(c->o) != JV_KIND_OBJECT)
		return put(buf, size, missing);
	v = jv_object_get(jv_copy(c->o), jv_string(name));
	switch (jv_get_kind(v)) {
	case JV_KIND_STRING:
		n = put(buf, size, jv_string_value(v));
		break;
	case JV_KIND_NUMBER:
		n = tf_template_number(jv_number_value(v), buf, size);
		break;
	case JV_KIND_INVALID:
	case JV_KIND_NULL:
		n = put(buf, size, missing);
		break;
	default: {
		jv s = jv_dump_string(jv_copy(v), 0);

		n = put(buf, size, jv_string_value(s));
		jv_free(s);
	}
	}
	jv_free(v);
	return n;
}

/* "trade_executed" -> "Trade executed". */
static size_t
label(const char *type, char *buf, size_t size)
{
	size_t n = put(buf, size, *type ? type : "event"), i;

	for (i = 0; i < n; i++)
		if (buf[i] == '_')
			buf[i] = ' ';
	if (n && buf[0] >= 'a' && buf[0] <= 'z')
		buf[0] = (char)(buf[0] - 'a' + 'A');
	return n;
}

static size_t
var_text(int var, char *buf, size_t size, void *arg)
{
	const struct ctx *c = arg;
	char tmp[64];

	switch (var) {
	case V_TITLE: {
		size_t n = field(c, "title", buf, size, "");

		/* An alert without a title: the first line of its message,
		 * else its type. */
		if (!n)
			n = field(c, "message", buf, size, "");
		if (n) {
			n = strcspn(buf, "\n");
			buf[n] = '\0';
			return n;
		}
		return label(c->type, buf, size);
	}
	case V_MESSAGE:
	case V_SOURCE:
		return field(c, tf_notify_text_vars[var], buf, size, "");
	case V_TYPE:
		return put(buf, size, c->type);
	case V_PRIORITY:
		return put(buf, size, tf_priority_name(c->prio));
	case V_ID:
		snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)c->id);
		return put(buf, size, tmp);
	case V_LABEL:
		return label(c->type, buf, size);
	}
	if (!strcmp(tf_notify_text_vars[var], "json")) {
		size_t n = c->len < size ? c->len : size - 1;

		/* Cut where the next byte does not continue a character. */
		while (n && n < c->len && ((unsigned char)c->line[n] & 0xc0) ==
			0x80)
			n--;
		memcpy(buf, c->line, n);
		buf[n] = '\0';
		return n;
	}
	return field(c, tf_notify_text_vars[var], buf, size, "-");
}

void
tf_notify_text_render(const struct tf_notify_text *t, const char *line,
	size_t len, int prio, uint64_t id, char *title, size_t tsize,
	char *message, size_t msize)
{
	struct ctx c = { .line = line, .len = len, .prio = prio, .id = id };
	char type[128] = "";
	size_t i;
	jv ty;

	c.o = jv_parse_sized(line, (int)len);
	if (jv_get_kind(c.o) == JV_KIND_OBJECT) {
		ty = jv_object_get(jv_copy(c.o), jv_string("type"));
		if (jv_get_kind(ty) == JV_KIND_STRING)
			put(type, sizeof type, jv_string_value(ty));
		jv_free(ty);
	}
	c.type = type;
	for (i = 0; defaults[i][0] && strcmp(defaults[i][0], type); i++)
		;
	tf_template_render(t->title ? t->title : t->def[i][0], var_text, &c,
		line, len, title, tsize);
	tf_template_render(t->message ? t->message : t->def[i][1], var_text,
		&c, line, len, message, msize);
	jv_free(c.o);
}
