/* ch_webhook.c: a JSON POST to any URL (ntfy, PagerDuty-like receivers):
 * the input line byte for byte, or the --format output, with the
 * configured headers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "log.h"

static int
check(const struct tf_channel_config *c, char *err, size_t errlen)
{
	size_t i;

	if (!c->url || !*c->url) {
		tf_seterr(err, errlen, "webhook: set TF_WEBHOOK_URL");
		return -1;
	}
	for (i = 0; i < c->nheaders; i++) {
		const char *h = c->headers[i], *colon = strchr(h, ':');

		if (!colon || colon == h || strpbrk(h, "\r\n") ||
		    strcspn(h, " \t") < (size_t)(colon - h)) {
			/* One from the environment or the config file may
			 * hold a secret: quoted only up to a blank. */
			int secret = i < 32 && (c->secret_headers >> i & 1);

			tf_seterr(err, errlen, "webhook: header '%.*s' is not "
				"'Name: value'", (int)strcspn(h, secret ?
					": \t\r\n" : ":"), h);
			return -1;
		}
	}
	return 0;
}

static int
has_header(const struct tf_channel_config *c, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < c->nheaders; i++)
		if (!strncasecmp(c->headers[i], name, n) &&
		    c->headers[i][n] == ':')
			return 1;
	return 0;
}

static int
render(const struct tf_channel *ch, const struct tf_notice *n,
	struct tf_request ***out, size_t *count, char *err, size_t errlen)
{
	struct tf_request *r = tf_request_create(ch);
	const char *body = n->body ? n->body : n->line;
	size_t len = n->body ? n->body_len : n->len, i;

	if (!r || !(r->body = malloc(len + 1)))
		goto oom;
	memcpy(r->body, body, len);
	r->body[len] = '\0';
	r->body_len = len;
	r->method = strdup("POST");
	r->url = strdup(ch->cfg.url);
	r->url_masked = tf_channel_mask_url(ch->cfg.url, 0);
	r->destination = tf_channel_mask_url(ch->cfg.url, 0);
	if (asprintf(&r->rate_key, "webhook %s", ch->cfg.url) < 0)
		r->rate_key = NULL;
	/* A generic receiver has no rate limit to respect: it may take
	 * several at once. */
	r->parallel = ch->cfg.parallel;
	if (!r->method || !r->url || !r->url_masked || !r->destination ||
	    !r->rate_key)
		goto oom;
	if (!has_header(&ch->cfg, "Content-Type") &&
	    tf_request_header(r, "Content-Type: application/json", 0) < 0)
		goto oom;
	for (i = 0; i < ch->cfg.nheaders; i++)
		if (tf_request_header(r, ch->cfg.headers[i],
			    i < 32 && (ch->cfg.secret_headers >> i & 1)) < 0)
			goto oom;
	return tf_channel_push(out, count, r) < 0 ? (tf_seterr(err, errlen,
		"out of memory"), -1) : 0;
oom:
	tf_request_destroy(r);
	tf_seterr(err, errlen, "out of memory");
	return -1;
}

/* The URL's path, query and userinfo, and the values of the headers from
 * the environment or the config file, with the credential of an
 * "Authorization: Scheme credential" on its own. */
static int
secrets(const struct tf_channel_config *c, struct tf_redact *rd)
{
	size_t i;

	if (c->url && tf_channel_redact_url(rd, c->url, 0) < 0)
		return -1;
	for (i = 0; i < c->nheaders && i < 32; i++) {
		const char *v = c->headers[i] + strcspn(c->headers[i], ":");
		size_t n, sp;

		if (!(c->secret_headers >> i & 1))
			continue;
		if (!*v) {	/* not a header (check refuses it) */
			v = c->headers[i];
			if (tf_redact_add(rd, v, strlen(v)) < 0)
				return -1;
			continue;
		}
		v += 1 + strspn(v + 1, " \t");
		n = strlen(v);
		while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			n--;
		if (tf_redact_add(rd, v, n) < 0)
			return -1;
		sp = strcspn(v, " \t");
		if (sp < n) {
			sp += strspn(v + sp, " \t");
			if (tf_redact_add(rd, v + sp, n - sp) < 0)
				return -1;
		}
	}
	return 0;
}

const struct tf_channel_def tf_ch_webhook = {
	.name = "webhook",
	.setting = "TF_WEBHOOK_URL",
	.check = check,
	.render = render,
	.judge = NULL,
	.secrets = secrets,
};
