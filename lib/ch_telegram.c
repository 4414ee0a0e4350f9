/* ch_telegram.c: the Telegram Bot API's sendMessage, to each chat id, in
 * HTML parse mode; text over 4,096 UTF-16 units goes as several messages,
 * never cut inside a character or an entity. */
#include <ctype.h>
#include <jv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "log.h"
#include "vocab.h"

#define TEXT_MAX 4096		/* UTF-16 units per message */
#define TITLE_MAX 256
#define PARTS_MAX 16		/* messages per alert; the rest is cut */

static int
check(const struct tf_channel_config *c, char *err, size_t errlen)
{
	size_t i;

	if (!c->token || !*c->token) {
		tf_seterr(err, errlen, "telegram: set TF_TELEGRAM_BOT_TOKEN");
		return -1;
	}
	if (!c->ntargets) {
		tf_seterr(err, errlen, "telegram: set TF_TELEGRAM_CHAT_IDS");
		return -1;
	}
	for (i = 0; i < c->ntargets; i++) {
		const char *t = c->targets[i];
		size_t k = *t == '-' ? 1 : 0;

		if (*t == '@' && t[1])
			continue;
		if (!t[k] || strspn(t + k, "0123456789") != strlen(t + k)) {
			tf_seterr(err, errlen, "telegram: chat id '%s' is not "
				"a number or @channel", t);
			return -1;
		}
	}
	return 0;
}

/* The whole text: the title in bold, then the message. */
static char *
html_text(const struct tf_notice *n)
{
	char *title = tf_channel_cut(n->title, TITLE_MAX, 0), *et = NULL;
	char *em = tf_channel_escape(n->message), *out = NULL;

	if (title && (et = tf_channel_escape(title)) && em &&
	    asprintf(&out, "%s%s%s%s%s", *et ? "<b>" : "", et,
		    *et ? "</b>" : "", *et && *em ? "\n" : "", em) < 0)
		out = NULL;
	free(title);
	free(et);
	free(em);
	return out;
}

/* Where to end a part of at most TEXT_MAX units: at the last newline or
 * space in its second half if there is one (the bold title is shorter
 * than half a part, so never split), else at the limit. */
static size_t
part_end(const char *s, size_t n)
{
	size_t end = tf_utf16_prefix(s, n, TEXT_MAX, 1), i;

	if (end == n)
		return n;
	for (i = end; i > end / 2; i--)
		if (s[i - 1] == '\n' || s[i - 1] == ' ')
			return i;
	return end ? end : tf_utf16_prefix(s, n, TEXT_MAX, 0);
}

static struct tf_request *
request(const struct tf_channel *ch, const struct tf_notice *n,
	const char *chat, const char *text, size_t len, unsigned part)
{
	struct tf_request *r = tf_request_create(ch);
	const char *base = ch->cfg.url && *ch->cfg.url ? ch->cfg.url :
		"https://api.telegram.org";
	size_t bl = strlen(base), ml;
	char *masked = tf_channel_mask_url(base, -1);
	jv o, s;
	int numeric = chat[0] != '@';

	if (!r || !masked) {
		free(masked);
		tf_request_destroy(r);
		return NULL;
	}
	while (bl && base[bl - 1] == '/')
		bl--;
	ml = strlen(masked);
	while (ml && masked[ml - 1] == '/')
		ml--;
	o = jv_object_set(jv_object(), jv_string("chat_id"),
		numeric ? jv_number(strtod(chat, NULL)) : jv_string(chat));
	o = jv_object_set(o, jv_string("text"), jv_string_sized(text,
		(int)len));
	o = jv_object_set(o, jv_string("parse_mode"), jv_string("HTML"));
	o = jv_object_set(o, jv_string("disable_notification"),
		n->priority == TF_PRIO_LOW ? jv_true() : jv_false());
	s = jv_dump_string(o, 0);
	r->body = strdup(jv_string_value(s));
	jv_free(s);
	r->body_len = r->body ? strlen(r->body) : 0;
	r->method = strdup("POST");
	if (asprintf(&r->url, "%.*s/bot%s/sendMessage", (int)bl, base,
		    ch->cfg.token) < 0)
		r->url = NULL;
	if (asprintf(&r->url_masked, "%.*s/bot***/sendMessage", (int)ml,
		    masked) < 0)
		r->url_masked = NULL;
	free(masked);
	if (asprintf(&r->destination, "telegram:%s", chat) < 0)
		r->destination = NULL;
	if (asprintf(&r->rate_key, "telegram %s", chat) < 0)
		r->rate_key = NULL;
	r->rate[0].n = 1;
	r->rate[0].window_ns = 1000000000LL;
	if (chat[0] == '-') {	/* a group: 20 messages a minute */
		r->rate[1].n = 20;
		r->rate[1].window_ns = 60000000000LL;
		if (ch->cfg.group_rate.n)
			r->rate[1] = ch->cfg.group_rate;
	}
	r->part = part;
	if (!r->body || !r->method || !r->url || !r->url_masked ||
	    !r->destination || !r->rate_key ||
	    tf_request_header(r, "Content-Type: application/json", 0) < 0) {
		tf_request_destroy(r);
		return NULL;
	}
	return r;
}

static int
render(const struct tf_channel *ch, const struct tf_notice *n,
	struct tf_request ***out, size_t *count, char *err, size_t errlen)
{
	char *text = html_text(n);
	size_t len, i, at, first = *count;
	size_t starts[PARTS_MAX], ends[PARTS_MAX];
	unsigned parts = 0, p;

	if (!text)
		goto oom;
	len = strlen(text);
	for (at = 0; at < len && parts < PARTS_MAX; parts++) {
		size_t e = at + part_end(text + at, len - at);

		starts[parts] = at;
		ends[parts] = e;
		at = e;
		while (at < len && (text[at] == '\n' || text[at] == ' '))
			at++;
	}
	if (!parts) {
		starts[0] = ends[0] = 0;
		parts = 1;
	}
	for (i = 0; i < ch->cfg.ntargets; i++)
		for (p = 0; p < parts; p++) {
			struct tf_request *r = request(ch, n, ch->cfg.targets[i],
				text + starts[p], ends[p] - starts[p], p);

			if (!r || tf_channel_push(out, count, r) < 0)
				goto oom;
			r->parts = parts;
		}
	free(text);
	return 0;
oom:
	while (*count > first)
		tf_request_destroy((*out)[--*count]);
	free(text);
	tf_seterr(err, errlen, "out of memory");
	return -1;
}

static void
judge(const struct tf_channel *ch, const struct tf_response *r,
	struct tf_verdict *v)
{
	jv o, x;

	(void)ch;
	if (!tf_channel_json_verdict(r, v, "Bot API", &o))
		return;
	x = jv_object_get(jv_copy(o), jv_string("ok"));
	if (v->kind == TF_VERDICT_SENT && jv_get_kind(x) != JV_KIND_TRUE) {
		v->kind = TF_VERDICT_FAILED;
		snprintf(v->error, sizeof v->error, "HTTP %ld: ok is not true",
			r->status);
	}
	jv_free(x);
	if (v->kind != TF_VERDICT_SENT) {
		x = jv_object_get(jv_copy(o), jv_string("description"));
		if (jv_get_kind(x) == JV_KIND_STRING)
			snprintf(v->error, sizeof v->error, "HTTP %ld: %.200s",
				r->status, jv_string_value(x));
		jv_free(x);
		x = jv_object_get(jv_copy(o), jv_string("parameters"));
		if (jv_get_kind(x) == JV_KIND_OBJECT) {
			jv ra = jv_object_get(jv_copy(x),
				jv_string("retry_after"));

			if (jv_get_kind(ra) == JV_KIND_NUMBER &&
			    jv_number_value(ra) >= 0)
				v->retry_after_ns = (int64_t)(
					jv_number_value(ra) * 1e9);
			jv_free(ra);
		}
		jv_free(x);
	}
	jv_free(o);
}

/* The bot token (in every request's path), and a password in
 * TF_TELEGRAM_API_URL. */
static int
secrets(const struct tf_channel_config *c, struct tf_redact *rd)
{
	if (c->token && tf_redact_add(rd, c->token, strlen(c->token)) < 0)
		return -1;
	return c->url ? tf_channel_redact_url(rd, c->url, -1) : 0;
}

const struct tf_channel_def tf_ch_telegram = {
	.name = "telegram",
	.setting = "TF_TELEGRAM_BOT_TOKEN",
	.check = check,
	.render = render,
	.judge = judge,
	.secrets = secrets,
};
