/* channel.c: what every notification channel shares: the list of
 * channels, requests, the common HTTP verdict, URL masking, colours. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "channel.h"
#include "opts.h"
#include "redact.h"
#include "vocab.h"

/* lib/ch_email.c and lib/ch_sms.c. */

const struct tf_channel_def *const tf_channels[] = {
	&tf_ch_slack,
	&tf_ch_discord,
	&tf_ch_telegram,
	&tf_ch_webhook,
	&tf_ch_email,
	&tf_ch_sms,
	NULL,
};

const struct tf_channel_def *
tf_channel_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; tf_channels[i]; i++)
		if (strlen(tf_channels[i]->name) == len &&
		    !strncmp(tf_channels[i]->name, name, len))
			return tf_channels[i];
	return NULL;
}

struct tf_request *
tf_request_create(const struct tf_channel *ch)
{
	struct tf_request *r = calloc(1, sizeof *r);

	if (r) {
		r->channel = ch;
		r->parts = 1;
	}
	return r;
}

void
tf_request_destroy(struct tf_request *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->nheaders; i++)
		free(r->headers[i]);
	free(r->headers);
	for (i = 0; i < r->nrcpt; i++)
		free(r->rcpt[i]);
	free(r->rcpt);
	free(r->method);
	free(r->url);
	free(r->url_masked);
	free(r->body);
	free(r->mail_from);
	free(r->username);
	free(r->password);
	free(r->destination);
	free(r->rate_key);
	free(r->ca_file);
	free(r);
}

int
tf_request_header(struct tf_request *r, const char *h, int secret)
{
	char **p = realloc(r->headers, (r->nheaders + 1) * sizeof *p);

	if (!p)
		return -1;
	r->headers = p;
	if (!(p[r->nheaders] = strdup(h)))
		return -1;
	if (secret && r->nheaders < 32)
		r->secret_headers |= 1u << r->nheaders;
	r->nheaders++;
	return 0;
}

int
tf_channel_push(struct tf_request ***out, size_t *count, struct tf_request *r)
{
	struct tf_request **p = realloc(*out, (*count + 1) * sizeof *p);

	if (!p) {
		tf_request_destroy(r);
		return -1;
	}
	*out = p;
	p[(*count)++] = r;
	return 0;
}

int
tf_response_header(const struct tf_response *r, const char *name, char *buf,
	size_t size)
{
	size_t nl = strlen(name);
	const char *p = r->headers;

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);

		if (n > nl && p[nl] == ':' && !strncasecmp(p, name, nl)) {
			const char *v = p + nl + 1;
			size_t vn;

			while (v < p + n && (*v == ' ' || *v == '\t'))
				v++;
			vn = (size_t)(p + n - v);
			while (vn && (v[vn - 1] == '\r' || v[vn - 1] == ' '))
				vn--;
			if (vn >= size)
				return -1;
			memcpy(buf, v, vn);
			buf[vn] = '\0';
			return (int)vn;
		}
		p = eol ? eol + 1 : p + n;
	}
	return -1;
}

/* Retry-After: delay-seconds or an HTTP date. -1 if absent or bad. */
static int64_t
retry_after(const struct tf_response *r)
{
	char v[128], *end;
	double s;
	struct tm tm;

	if (tf_response_header(r, "Retry-After", v, sizeof v) <= 0)
		return -1;
	s = strtod(v, &end);
	if (end != v && !*end && s >= 0 && s < 1e9)
		return (int64_t)(s * 1e9);
	memset(&tm, 0, sizeof tm);
	if (strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm)) {
		int64_t at = (int64_t)timegm(&tm) * 1000000000LL;
		int64_t now = tf_now_ns();

		return at > now ? at - now : 0;
	}
	return -1;
}

void
tf_channel_http_verdict(const struct tf_response *r, struct tf_verdict *v)
{
	size_t n;

	v->retry_after_ns = -1;
	if (r->transport_error) {
		v->kind = TF_VERDICT_RETRY;
		snprintf(v->error, sizeof v->error, "%s", r->error);
		return;
	}
	if (r->status >= 200 && r->status < 300) {
		v->kind = TF_VERDICT_SENT;
		return;
	}
	/* The service's words, on one line, cut short. */
	n = strcspn(r->body, "\r\n");
	if (n > 160)
		n = 160;
	snprintf(v->error, sizeof v->error, "HTTP %ld%s%.*s", r->status,
		n ? ": " : "", (int)n, r->body);
	if (r->status == 429) {
		v->kind = TF_VERDICT_RETRY;
		v->retry_after_ns = retry_after(r);
	} else if (r->status >= 500 || r->status == 408) {
		v->kind = TF_VERDICT_RETRY;
		v->retry_after_ns = retry_after(r);
	} else {
		v->kind = TF_VERDICT_FAILED;
	}
}

int
tf_channel_json_verdict(const struct tf_response *r, struct tf_verdict *v,
	const char *service, jv *o)
{
	tf_channel_http_verdict(r, v);
	if (r->transport_error)
		return 0;
	*o = jv_parse(r->body);
	if (jv_get_kind(*o) == JV_KIND_OBJECT)
		return 1;
	jv_free(*o);
	if (v->kind == TF_VERDICT_SENT) {
		v->kind = TF_VERDICT_FAILED;
		snprintf(v->error, sizeof v->error, "HTTP %ld: not a %s answer",
			r->status, service);
	}
	return 0;
}

/* Where the parts of "scheme://user:pass@host/path?query" are. */
struct url_parts {
	const char *auth;	/* after "://" (or the whole url) */
	const char *host;	/* after the userinfo's last '@', or auth */
	const char *colon;	/* the userinfo's first ':', or NULL */
	const char *path;	/* the '/', '?' or '#' after the host, or "" */
};

static void
url_split(const char *url, struct url_parts *u)
{
	const char *p = strstr(url, "://"), *q;

	u->auth = p ? p + 3 : url;
	u->path = u->auth + strcspn(u->auth, "/?#");
	u->host = u->auth;
	for (q = u->auth; q < u->path; q++)
		if (*q == '@')
			u->host = q + 1;
	u->colon = u->host > u->auth ? memchr(u->auth, ':',
		(size_t)(u->host - 1 - u->auth)) : NULL;
}

/* A user name without a password is a secret except in an SMTP URL (where
 * it is the login name and TF_SMTP_PASSWORD the password). */
static int
lone_user_secret(const char *url, const struct url_parts *u)
{
	return u->host > u->auth && !u->colon &&
		strncasecmp(url, "smtp://", 7) && strncasecmp(url, "smtps://", 8);
}

/* The end of the kept part: past keep path segments (keep -1: all). */
static const char *
url_keep(const struct url_parts *u, int keep)
{
	const char *cut = u->path;

	if (keep < 0)
		return cut + strlen(cut);
	while (keep-- > 0 && *cut == '/')
		cut += 1 + strcspn(cut + 1, "/?#");
	return cut;
}

char *
tf_channel_mask_url(const char *url, int keep)
{
	struct url_parts u;
	const char *cut, *user = "", *pass = "";
	size_t un = 0;
	char *out;

	url_split(url, &u);
	cut = url_keep(&u, keep);
	/* scheme://, then the user name with ":***" for its password, or
	 * "***" for a lone secret one, '@', host, the kept path, the mask. */
	if (lone_user_secret(url, &u)) {
		user = "***";
	} else if (u.colon) {
		un = (size_t)(u.colon - u.auth);
		pass = ":***";
	} else {
		un = u.host > u.auth ? (size_t)(u.host - 1 - u.auth) : 0;
	}
	if (asprintf(&out, "%.*s%.*s%s%s%s%.*s%s", (int)(u.auth - url), url,
		    (int)un, u.auth, user, pass, u.host > u.auth ? "@" : "",
		    (int)(cut - u.host), u.host,
		    *cut ? (*cut == '/' ? "/***" : "?***") : "") < 0)
		return NULL;
	return out;
}

/* Adds s[0..n) when it is long enough to be a secret and not to mask
 * common words. */
static int
add_part(struct tf_redact *rd, const char *s, size_t n)
{
	return n >= TF_CHANNEL_SECRET_MIN ? tf_redact_add(rd, s, n) : 0;
}

int
tf_channel_redact_url(struct tf_redact *rd, const char *url, int keep)
{
	struct url_parts u;
	const char *cut, *tail, *q;
	char *user = NULL, *pass = NULL;
	int rc = 0;

	url_split(url, &u);
	if (u.colon) {
		user = strndup(u.auth, (size_t)(u.colon - u.auth));
		pass = strndup(u.colon + 1, (size_t)(u.host - 2 - u.colon));
		rc = !user || !pass ? -1 : tf_redact_add_login(rd, user, pass);
	} else if (lone_user_secret(url, &u)) {
		user = strndup(u.auth, (size_t)(u.host - 1 - u.auth));
		rc = !user || tf_redact_add(rd, user, strlen(user)) < 0 ||
			tf_redact_add_login(rd, user, "") < 0 ? -1 : 0;
	}
	free(user);
	free(pass);
	if (rc < 0 || keep < 0)
		return rc;
	cut = url_keep(&u, keep);
	if (!*cut)
		return 0;
	tail = cut + 1;
	if (add_part(rd, tail, strlen(tail)) < 0 ||
	    add_part(rd, tail, strcspn(tail, "?#")) < 0)
		return -1;
	if ((q = strchr(cut, '?')) && add_part(rd, q + 1,
			strcspn(q + 1, "#")) < 0)
		return -1;
	/* Each path segment and each query value. */
	for (q = cut; *q && *q != '#';) {
		size_t n;

		if (*q == '?' || *q == '&') {
			q++;
			q += strcspn(q, "=&#");
			if (*q != '=')
				continue;
		}
		q++;
		n = strcspn(q, "/?&#");
		if (add_part(rd, q, n) < 0)
			return -1;
		q += n;
	}
	return 0;
}

unsigned
tf_channel_color(int priority)
{
	switch (priority) {
	case TF_PRIO_LOW:
		return 0x9e9e9e;	/* grey */
	case TF_PRIO_HIGH:
		return 0xff9800;	/* orange */
	case TF_PRIO_CRITICAL:
		return 0xd32f2f;	/* red */
	default:
		return 0x2196f3;	/* blue */
	}
}

/* The length of the UTF-8 sequence starting with byte c (1 for stray
 * bytes: input is valid UTF-8, checked by tf_event_check). */
size_t
tf_utf8_seqlen(unsigned char c)
{
	return c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

unsigned long
tf_utf8_codepoint(const unsigned char *p, size_t n)
{
	switch (n) {
	case 2:
		return ((p[0] & 0x1fUL) << 6) | (p[1] & 0x3f);
	case 3:
		return ((p[0] & 0x0fUL) << 12) | ((p[1] & 0x3fUL) << 6) |
			(p[2] & 0x3f);
	case 4:
		return ((p[0] & 0x07UL) << 18) | ((p[1] & 0x3fUL) << 12) |
			((p[2] & 0x3fUL) << 6) | (p[3] & 0x3f);
	}
	return p[0];
}

/* Characters that belong to the one before them: combining marks,
 * variation selectors, zero-width joiner, emoji modifiers. */
int
tf_utf8_extends(unsigned long c)
{
	return (c >= 0x300 && c <= 0x36f) || (c >= 0x1ab0 && c <= 0x1aff) ||
		(c >= 0x1dc0 && c <= 0x1dff) || (c >= 0x20d0 && c <= 0x20ff) ||
		(c >= 0xfe00 && c <= 0xfe0f) || (c >= 0xfe20 && c <= 0xfe2f) ||
		c == 0x200d || (c >= 0x1f3fb && c <= 0x1f3ff) ||
		(c >= 0xe0020 && c <= 0xe007f) || (c >= 0xe0100 && c <= 0xe01ef);
}

size_t
tf_utf16_len(const char *s, size_t n)
{
	size_t i = 0, units = 0;

	while (i < n) {
		size_t k = tf_utf8_seqlen((unsigned char)s[i]);

		units += k == 4 ? 2 : 1;
		i += k;
	}
	return units;
}

size_t
tf_utf16_prefix(const char *s, size_t n, size_t max, int html)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, units = 0, good = 0;
	int in_tag = 0, in_ent = 0;
	unsigned long prev = 0;

	while (i < n) {
		size_t k = tf_utf8_seqlen(u[i]);
		unsigned long c = tf_utf8_codepoint(u + i, k);

		if (i + k > n)
			break;
		/* A cut before i is clean when i starts a new character
		 * outside any tag or entity. */
		if (!in_tag && !in_ent && !tf_utf8_extends(c) && prev != 0x200d)
			good = i;
		if (units + (k == 4 ? 2 : 1) > max)
			return good;
		units += k == 4 ? 2 : 1;
		if (html) {
			if (c == '<')
				in_tag = 1;
			else if (c == '>')
				in_tag = 0;
			else if (c == '&')
				in_ent = 1;
			else if (c == ';')
				in_ent = 0;
		}
		prev = c;
		i += k;
	}
	return n;
}

char *
tf_channel_cut(const char *s, size_t max, int html)
{
	size_t n = strlen(s), keep;
	char *out;

	if (tf_utf16_len(s, n) <= max)
		return strdup(s);
	keep = tf_utf16_prefix(s, n, max ? max - 1 : 0, html);
	if (!(out = malloc(keep + 4)))
		return NULL;
	memcpy(out, s, keep);
	memcpy(out + keep, "\xe2\x80\xa6", 4);	/* "…" and NUL */
	return out;
}

char *
tf_channel_escape(const char *s)
{
	size_t n = 0;
	const char *p;
	char *out, *o;

	for (p = s; *p; p++)
		n += *p == '&' ? 5 : *p == '<' || *p == '>' ? 4 : 1;
	if (!(o = out = malloc(n + 1)))
		return NULL;
	for (p = s; *p; p++) {
		if (*p == '&')
			o = stpcpy(o, "&amp;");
		else if (*p == '<')
			o = stpcpy(o, "&lt;");
		else if (*p == '>')
			o = stpcpy(o, "&gt;");
		else
			*o++ = *p;
	}
	*o = '\0';
	return out;
}
