/* ch_discord.c: Discord webhooks (?wait=true): one embed coloured by
 * priority within every documented limit, and Discord's rate limit
 * headers and JSON retry_after honoured. */
#include <jv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "log.h"
#include "vocab.h"

#define TITLE_MAX 256
#define DESC_MAX 4096
#define FIELDS_MAX 25
#define FIELD_NAME_MAX 256
#define FIELD_VALUE_MAX 1024
#define FOOTER_MAX 2048
#define EMBED_MAX 6000		/* title, description, fields, footer */

static int
check(const struct tf_channel_config *c, char *err, size_t errlen)
{
	if (!c->url || !*c->url) {
		tf_seterr(err, errlen, "discord: set TF_DISCORD_WEBHOOK_URL");
		return -1;
	}
	return 0;
}

/* Fields shown as embed fields: the event's own, without those the title,
 * description and footer already say. */
static int
skip_field(const char *k)
{
	static const char *const skip[] = { "type", "title", "message",
		"priority", "topic", NULL };
	size_t i;

	for (i = 0; skip[i]; i++)
		if (!strcmp(k, skip[i]))
			return 1;
	return 0;
}

static size_t
units(const char *s)
{
	return tf_utf16_len(s, strlen(s));
}

/* Adds the line's top-level fields while the embed stays within its
 * limits; *total counts the embed's characters. */
static jv
fields(const struct tf_notice *n, size_t *total)
{
	jv o = jv_parse_sized(n->line, (int)n->len), out = jv_array();
	int count = 0;

	if (jv_get_kind(o) != JV_KIND_OBJECT) {
		jv_free(o);
		return out;
	}
	jv_object_foreach(o, k, v)
	{
		const char *key = jv_string_value(k);
		char *name, *value;
		jv text;

		if (count >= FIELDS_MAX || skip_field(key) ||
		    jv_get_kind(v) == JV_KIND_NULL) {
			jv_free(k);
			jv_free(v);
			continue;
		}
		text = jv_get_kind(v) == JV_KIND_STRING ? v :
							 jv_dump_string(v, 0);
		name = tf_channel_cut(key, FIELD_NAME_MAX, 0);
		value = tf_channel_cut(*jv_string_value(text) ?
				jv_string_value(text) : "-", FIELD_VALUE_MAX, 0);
		jv_free(text);
		jv_free(k);
		if (name && value &&
		    *total + units(name) + units(value) <= EMBED_MAX) {
			jv f = jv_object();

			*total += units(name) + units(value);
			f = jv_object_set(f, jv_string("name"), jv_string(name));
			f = jv_object_set(f, jv_string("value"),
				jv_string(value));
			f = jv_object_set(f, jv_string("inline"), jv_true());
			out = jv_array_append(out, f);
			count++;
		}
		free(name);
		free(value);
	}
	jv_free(o);
	return out;
}

static char *
with_wait(const char *url)
{
	char *u;

	if (strstr(url, "wait="))
		return strdup(url);
	if (asprintf(&u, "%s%swait=true", url, strchr(url, '?') ? "&" : "?") <
	    0)
		return NULL;
	return u;
}

static int
render(const struct tf_channel *ch, const struct tf_notice *n,
	struct tf_request ***out, size_t *count, char *err, size_t errlen)
{
	struct tf_request *r = tf_request_create(ch);
	char *title = tf_channel_cut(*n->title ? n->title : "tf", TITLE_MAX, 0);
	char *desc = NULL, *foot = NULL, *footer = NULL, *masked = NULL;
	size_t total, room;
	jv e, o, s, f;

	if (!r || !title ||
	    asprintf(&foot, "%s · %s", tf_priority_name(n->priority),
		    *n->type ? n->type : "event") < 0 ||
	    !(footer = tf_channel_cut(foot, FOOTER_MAX, 0)))
		goto oom;
	total = units(title) + units(footer);
	room = EMBED_MAX - total;
	if (!(desc = tf_channel_cut(n->message, room < DESC_MAX ? room :
			DESC_MAX, 0)))
		goto oom;
	total += units(desc);
	f = fields(n, &total);

	e = jv_object_set(jv_object(), jv_string("title"), jv_string(title));
	if (*desc)
		e = jv_object_set(e, jv_string("description"), jv_string(desc));
	e = jv_object_set(e, jv_string("color"),
		jv_number(tf_channel_color(n->priority)));
	if (jv_array_length(jv_copy(f)))
		e = jv_object_set(e, jv_string("fields"), f);
	else
		jv_free(f);
	e = jv_object_set(e, jv_string("footer"), jv_object_set(jv_object(),
		jv_string("text"), jv_string(footer)));
	o = jv_object_set(jv_object(), jv_string("embeds"),
		jv_array_append(jv_array(), e));
	s = jv_dump_string(o, 0);
	r->body = strdup(jv_string_value(s));
	jv_free(s);
	r->body_len = r->body ? strlen(r->body) : 0;
	r->method = strdup("POST");
	r->url = with_wait(ch->cfg.url);
	masked = tf_channel_mask_url(ch->cfg.url, 3);
	r->url_masked = masked ? with_wait(masked) : NULL;
	r->destination = tf_channel_mask_url(ch->cfg.url, 3);
	if (asprintf(&r->rate_key, "discord %s", ch->cfg.url) < 0)
		r->rate_key = NULL;
	if (!r->body || !r->method || !r->url || !r->url_masked ||
	    !r->destination || !r->rate_key ||
	    tf_request_header(r, "Content-Type: application/json", 0) < 0)
		goto oom;
	free(title);
	free(desc);
	free(foot);
	free(footer);
	free(masked);
	if (tf_channel_push(out, count, r) < 0) {
		tf_seterr(err, errlen, "out of memory");
		return -1;
	}
	return 0;
oom:
	tf_seterr(err, errlen, "out of memory");
	tf_request_destroy(r);
	free(title);
	free(desc);
	free(foot);
	free(footer);
	free(masked);
	return -1;
}

static double
header_seconds(const struct tf_response *r, const char *name)
{
	char v[64], *end;
	double s;

	if (tf_response_header(r, name, v, sizeof v) <= 0)
		return -1;
	s = strtod(v, &end);
	return end != v && s >= 0 && s < 1e6 ? s : -1;
}

static void
judge(const struct tf_channel *ch, const struct tf_response *r,
	struct tf_verdict *v)
{
	char rem[32];

	(void)ch;
	tf_channel_http_verdict(r, v);
	if (r->transport_error)
		return;
	/* The bucket is empty: hold the webhook until it refills. */
	if (tf_response_header(r, "X-RateLimit-Remaining", rem,
		    sizeof rem) > 0 && atoi(rem) == 0) {
		double s = header_seconds(r, "X-RateLimit-Reset-After");

		if (s >= 0)
			v->key_wait_ns = (int64_t)(s * 1e9);
	}
	if (r->status == 429) {
		jv o = jv_parse(r->body), ra;

		if (jv_get_kind(o) == JV_KIND_OBJECT) {
			ra = jv_object_get(jv_copy(o), jv_string("retry_after"));
			if (jv_get_kind(ra) == JV_KIND_NUMBER &&
			    jv_number_value(ra) >= 0)
				v->retry_after_ns = (int64_t)(
					jv_number_value(ra) * 1e9);
			jv_free(ra);
			ra = jv_object_get(jv_copy(o), jv_string("message"));
			if (jv_get_kind(ra) == JV_KIND_STRING)
				snprintf(v->error, sizeof v->error,
					"HTTP 429: %.200s", jv_string_value(ra));
			jv_free(ra);
		}
		jv_free(o);
	} else if (v->kind == TF_VERDICT_FAILED) {
		jv o = jv_parse(r->body), m;

		if (jv_get_kind(o) == JV_KIND_OBJECT) {
			m = jv_object_get(jv_copy(o), jv_string("message"));
			if (jv_get_kind(m) == JV_KIND_STRING)
				snprintf(v->error, sizeof v->error,
					"HTTP %ld: %.200s", r->status,
					jv_string_value(m));
			jv_free(m);
		}
		jv_free(o);
	}
}

/* The webhook's token, past /api/webhooks/ID, is its secret. */
static int
secrets(const struct tf_channel_config *c, struct tf_redact *rd)
{
	return c->url ? tf_channel_redact_url(rd, c->url, 3) : 0;
}

const struct tf_channel_def tf_ch_discord = {
	.name = "discord",
	.setting = "TF_DISCORD_WEBHOOK_URL",
	.check = check,
	.render = render,
	.judge = judge,
	.secrets = secrets,
};
