/* ch_slack.c: Slack incoming webhooks: Block Kit header and section in an
 * attachment coloured by priority, with a plain text fallback; 1 message
 * per second per webhook. */
#include <jv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "log.h"

#define HEADER_MAX 150		/* header block plain_text */
#define SECTION_MAX 3000	/* section block text */
#define FALLBACK_MAX 3000

static int
check(const struct tf_channel_config *c, char *err, size_t errlen)
{
	if (!c->url || !*c->url) {
		tf_seterr(err, errlen, "slack: set TF_SLACK_WEBHOOK_URL");
		return -1;
	}
	return 0;
}

static jv
text_obj(const char *type, const char *text)
{
	jv o = jv_object();

	o = jv_object_set(o, jv_string("type"), jv_string(type));
	o = jv_object_set(o, jv_string("text"), jv_string(text));
	if (!strcmp(type, "plain_text"))
		o = jv_object_set(o, jv_string("emoji"), jv_true());
	return o;
}

static int
render(const struct tf_channel *ch, const struct tf_notice *n,
	struct tf_request ***out, size_t *count, char *err, size_t errlen)
{
	char *title = tf_channel_cut(*n->title ? n->title : "tf", HEADER_MAX, 0);
	char *esc = tf_channel_escape(n->message);
	char *section = esc ? tf_channel_cut(esc, SECTION_MAX, 1) : NULL;
	char *fb = NULL, *etitle = tf_channel_escape(n->title), color[16];
	struct tf_request *r = tf_request_create(ch);
	jv blocks, att, o, s;
	int rc = -1;

	if (!title || !section || !etitle || !r)
		goto oom;
	if (asprintf(&fb, "%s%s%s", etitle, *section ? ": " : "", esc) < 0) {
		fb = NULL;
		goto oom;
	}
	{
		char *cut = tf_channel_cut(fb, FALLBACK_MAX, 1);

		free(fb);
		if (!(fb = cut))
			goto oom;
	}
	snprintf(color, sizeof color, "#%06x", tf_channel_color(n->priority));
	blocks = jv_array();
	o = jv_object_set(jv_object(), jv_string("type"), jv_string("header"));
	o = jv_object_set(o, jv_string("text"), text_obj("plain_text", title));
	blocks = jv_array_append(blocks, o);
	if (*section) {
		o = jv_object_set(jv_object(), jv_string("type"),
			jv_string("section"));
		o = jv_object_set(o, jv_string("text"),
			text_obj("mrkdwn", section));
		blocks = jv_array_append(blocks, o);
	}
	att = jv_object_set(jv_object(), jv_string("color"), jv_string(color));
	att = jv_object_set(att, jv_string("blocks"), blocks);
	o = jv_object_set(jv_object(), jv_string("text"), jv_string(fb));
	o = jv_object_set(o, jv_string("attachments"),
		jv_array_append(jv_array(), att));
	s = jv_dump_string(o, 0);
	r->body = strdup(jv_string_value(s));
	r->body_len = r->body ? strlen(r->body) : 0;
	jv_free(s);
	r->method = strdup("POST");
	r->url = strdup(ch->cfg.url);
	r->url_masked = tf_channel_mask_url(ch->cfg.url, 1);
	r->destination = tf_channel_mask_url(ch->cfg.url, 1);
	if (asprintf(&r->rate_key, "slack %s", ch->cfg.url) < 0)
		r->rate_key = NULL;
	r->rate[0].n = 1;
	r->rate[0].window_ns = 1000000000LL;
	if (!r->body || !r->method || !r->url || !r->url_masked ||
	    !r->destination || !r->rate_key ||
	    tf_request_header(r, "Content-Type: application/json", 0) < 0)
		goto oom;
	rc = tf_channel_push(out, count, r);
	r = NULL;
	if (rc < 0)
		goto oom;
	goto done;
oom:
	tf_seterr(err, errlen, "out of memory");
	tf_request_destroy(r);
	rc = -1;
done:
	free(title);
	free(esc);
	free(section);
	free(etitle);
	free(fb);
	return rc;
}

/* The webhook's path past /services is its secret. */
static int
secrets(const struct tf_channel_config *c, struct tf_redact *rd)
{
	return c->url ? tf_channel_redact_url(rd, c->url, 1) : 0;
}

const struct tf_channel_def tf_ch_slack = {
	.name = "slack",
	.setting = "TF_SLACK_WEBHOOK_URL",
	.check = check,
	.render = render,
	.judge = NULL,	/* the common HTTP verdict: 429 Retry-After */
	.secrets = secrets,
};
