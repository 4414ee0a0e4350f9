/* ch_email.c: e-mail over SMTP (curl's smtp:// and smtps://): one
 * multipart/alternative message (text, then HTML) per alert to every To,
 * Cc and Bcc recipient, with an RFC 2047 Subject and priority headers. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libwebsockets.h>

#include "channel.h"
#include "log.h"
#include "opts.h"
#include "vocab.h"

#define SUBJECT_MAX 200		/* UTF-16 units of the title kept */
#define B64_LINE 76		/* base64 and folded header lines */

/* Settings (tf-notify fills them): url TF_SMTP_URL, from TF_EMAIL_FROM,
 * targets the To addresses, headers "Cc: addr" and "Bcc: addr" (one
 * address each), user and password TF_SMTP_USER, TF_SMTP_PASSWORD. */

/* The address inside "Name <addr>", or the whole text. */
static void
addr_span(const char *s, const char **p, size_t *n)
{
	const char *lt = strchr(s, '<'), *gt;

	if (lt && (gt = strchr(lt, '>'))) {
		*p = lt + 1;
		*n = (size_t)(gt - lt - 1);
	} else {
		*p = s;
		*n = strlen(s);
	}
}

/* local@domain, nothing that could break a header or the envelope. */
static int
addr_ok(const char *s)
{
	const char *p, *at;
	size_t n, i;

	if (strpbrk(s, "\r\n"))
		return 0;
	addr_span(s, &p, &n);
	at = memchr(p, '@', n);
	if (!at || at == p || at == p + n - 1)
		return 0;
	for (i = 0; i < n; i++)
		if (p[i] <= ' ' || strchr("<>,;\"()[]\\", p[i]) ||
		    (unsigned char)p[i] >= 0x7f)
			return 0;
	return 1;
}

/* Whether an smtp:// URL names this machine. */
static int
loopback(const char *url)
{
	const char *h = url + 7, *at;
	size_t n = strcspn(h, "/?#");

	if ((at = memchr(h, '@', n))) {
		n -= (size_t)(at + 1 - h);
		h = at + 1;
	}
	return !strncmp(h, "127.", 4) || !strncasecmp(h, "localhost", 9) ||
		!strncmp(h, "[::1]", 5);
}

static int
check(const struct tf_channel_config *c, char *err, size_t errlen)
{
	size_t i, nrcpt = c->ntargets;

	if (!c->url || !*c->url) {
		tf_seterr(err, errlen, "email: set TF_SMTP_URL");
		return -1;
	}
	if (strncasecmp(c->url, "smtp://", 7) &&
	    strncasecmp(c->url, "smtps://", 8)) {
		tf_seterr(err, errlen, "email: TF_SMTP_URL must start with "
			"smtp:// or smtps://");
		return -1;
	}
	if (!c->from || !*c->from) {
		tf_seterr(err, errlen, "email: set TF_EMAIL_FROM");
		return -1;
	}
	if (!addr_ok(c->from)) {
		tf_seterr(err, errlen, "email: TF_EMAIL_FROM '%s' is not an "
			"address", c->from);
		return -1;
	}
	for (i = 0; i < c->nheaders; i++) {
		const char *h = c->headers[i];

		h += strcspn(h, ":") + 1;
		h += strspn(h, " ");
		nrcpt++;
		if (!addr_ok(h)) {
			tf_seterr(err, errlen, "email: '%s' is not an "
				"address", h);
			return -1;
		}
	}
	for (i = 0; i < c->ntargets; i++)
		if (!addr_ok(c->targets[i])) {
			tf_seterr(err, errlen, "email: '%s' is not an "
				"address", c->targets[i]);
			return -1;
		}
	if (!nrcpt) {
		tf_seterr(err, errlen, "email: set TF_EMAIL_TO");
		return -1;
	}
	if (c->user && *c->user && (!c->password || !*c->password)) {
		tf_seterr(err, errlen, "email: TF_SMTP_USER needs "
			"TF_SMTP_PASSWORD");
		return -1;
	}
	if (c->starttls && strcmp(c->starttls, "require") &&
	    strcmp(c->starttls, "try")) {
		tf_seterr(err, errlen, "email: TF_SMTP_STARTTLS is 'require' or "
			"'try', not '%s'", c->starttls);
		return -1;
	}
	return 0;
}

/* A growing string; on ENOMEM it stays failed and add does nothing. */
struct str {
	char *p;
	size_t n, cap;
	int failed;
};

static void
add(struct str *s, const char *p, size_t n)
{
	if (s->failed)
		return;
	if (s->n + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 1024;
		char *q;

		while (cap < s->n + n + 1)
			cap *= 2;
		if (!(q = realloc(s->p, cap))) {
			s->failed = 1;
			return;
		}
		s->p = q;
		s->cap = cap;
	}
	memcpy(s->p + s->n, p, n);
	s->n += n;
	s->p[s->n] = '\0';
}

static void
adds(struct str *s, const char *p)
{
	add(s, p, strlen(p));
}

static void
addf(struct str *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
addf(struct str *s, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n > 0)
		add(s, buf, (size_t)n < sizeof buf ? (size_t)n :
			sizeof buf - 1);
}

/* base64 of p[0..n) without line breaks, by libwebsockets' encoder, in
 * pieces of a multiple of 3 bytes so that they join without padding. */
static void
add_b64(struct str *s, const unsigned char *p, size_t n)
{
	enum { PIECE = 192 };
	char out[PIECE / 3 * 4 + 1];	/* with the NUL it writes */
	size_t i, k;
	int w;

	for (i = 0; i < n; i += k) {
		k = n - i < PIECE ? n - i : PIECE;
		w = lws_b64_encode_string((const char *)p + i, (int)k, out,
			(int)sizeof out);
		if (w < 0) {
			s->failed = 1;
			return;
		}
		add(s, out, (size_t)w);
	}
}

/* A MIME body in base64, 76 characters a line. */
static void
add_b64_body(struct str *s, const char *p, size_t n)
{
	size_t per = B64_LINE / 4 * 3, i;

	for (i = 0; i < n; i += per) {
		add_b64(s, (const unsigned char *)p + i,
			n - i < per ? n - i : per);
		adds(s, "\r\n");
	}
}

/* "Subject: " then the text as RFC 2047 encoded words (UTF-8, base64),
 * each at most 75 characters and holding whole characters, folded one a
 * line; plain ASCII without control characters goes as it is. */
static void
add_subject(struct str *s, const char *t)
{
	const unsigned char *u = (const unsigned char *)t;
	size_t n = strlen(t), i, plain = 1;
	/* "=?UTF-8?B?" + "?=" is 12; 75 - 12 = 63 base64 chars: 45 bytes. */
	size_t per = 45;

	for (i = 0; i < n; i++)
		if (u[i] < 0x20 || u[i] >= 0x7f)
			plain = 0;
	if (plain && n && n <= 900 && !strstr(t, "=?")) {
		adds(s, "Subject: ");
		add(s, t, n);
		adds(s, "\r\n");
		return;
	}
	adds(s, "Subject:");
	for (i = 0; i < n;) {
		size_t k = i, m;

		while (k < n) {
			m = u[k] < 0xc0 ? 1 : u[k] < 0xe0 ? 2 :
				u[k] < 0xf0 ? 3 : 4;
			if (k + m - i > per)
				break;
			k += m;
		}
		if (k == i)	/* cannot happen with valid UTF-8 */
			k = i + 1;
		adds(s, i ? "\r\n =?UTF-8?B?" : " =?UTF-8?B?");
		add_b64(s, u + i, k - i);
		adds(s, "?=");
		i = k;
	}
	adds(s, "\r\n");
}

/* "From: ", a display name RFC 2047 encoded unless plain ASCII, and the
 * address. */
static void
add_from(struct str *s, const char *from)
{
	const char *lt = strchr(from, '<'), *p;
	size_t n;

	for (p = from; lt && p < lt && (unsigned char)*p < 0x7f; p++)
		;
	adds(s, "From: ");
	if (!lt || p == lt) {
		adds(s, from);
	} else {
		n = (size_t)(lt - from);
		while (n && from[n - 1] == ' ')
			n--;
		adds(s, "=?UTF-8?B?");
		add_b64(s, (const unsigned char *)from, n);
		adds(s, "?= ");
		adds(s, lt);
	}
	adds(s, "\r\n");
}

/* HTML text: & < > " ' escaped, newlines as <br>. */
static void
add_html(struct str *s, const char *t)
{
	for (; *t; t++)
		switch (*t) {
		case '&': adds(s, "&amp;"); break;
		case '<': adds(s, "&lt;"); break;
		case '>': adds(s, "&gt;"); break;
		case '"': adds(s, "&quot;"); break;
		case '\'': adds(s, "&#39;"); break;
		case '\n': adds(s, "<br>\r\n"); break;
		case '\r': break;
		default: add(s, t, 1);
		}
}

/* Text with every line ending as CRLF. */
static void
add_crlf(struct str *s, const char *t)
{
	for (; *t; t++) {
		if (*t == '\r')
			continue;
		if (*t == '\n')
			adds(s, "\r\n");
		else
			add(s, t, 1);
	}
}

/* The domain of the From address, for Message-ID: its offset in from. */
static size_t
domain_of(const char *from, size_t *n)
{
	const char *p;
	size_t len, at;

	addr_span(from, &p, &len);
	at = (size_t)((const char *)memchr(p, '@', len) - p);
	*n = len - at - 1;
	return (size_t)(p - from) + at + 1;
}

/* One header line listing addresses, folded one address a line. */
static void
add_list(struct str *s, const char *name, const char *const *v, size_t n,
	int cc)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		const char *a = v[i];

		if (cc) {
			if (strncasecmp(a, "Cc:", 3))
				continue;
			a += 3;
			a += strspn(a, " ");
		}
		adds(s, k++ ? ",\r\n " : name);
		adds(s, a);
	}
	if (k)
		adds(s, "\r\n");
}

static char *
message(const struct tf_channel *ch, const struct tf_notice *n, size_t *len)
{
	static unsigned seq;
	static const char *const xprio[] = { "5 (Lowest)", "3 (Normal)",
		"2 (High)", "1 (Highest)" };
	static const char *const importance[] = { "Low", "Normal", "High",
		"High" };
	const struct tf_channel_config *c = &ch->cfg;
	char date[64], boundary[64], *title = NULL;
	struct str text = { 0 }, html = { 0 }, m = { 0 };
	int prio = n->priority;
	time_t now = time(NULL);
	struct tm tm;
	size_t dom, dn, i;
	int64_t ns = tf_now_ns();

	if (prio < TF_PRIO_LOW || prio > TF_PRIO_CRITICAL)
		prio = TF_PRIO_MEDIUM;
	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	dom = domain_of(c->from, &dn);
	seq++;
	snprintf(boundary, sizeof boundary, "=_tf_%llx_%u_%x",
		(unsigned long long)ns, seq, (unsigned)getpid());
	if (!(title = tf_channel_cut(*n->title ? n->title : "tf alert",
		      SUBJECT_MAX, 0)))
		return NULL;
	/* A Subject is one line: control characters become spaces. */
	for (i = 0; title[i]; i++)
		if ((unsigned char)title[i] < 0x20 || title[i] == 0x7f)
			title[i] = ' ';
	while (i && title[i - 1] == ' ')
		title[--i] = '\0';

	/* The text part: title, blank line, message. */
	add_crlf(&text, n->title);
	if (*n->title && *n->message)
		adds(&text, "\r\n\r\n");
	add_crlf(&text, n->message);
	adds(&text, "\r\n");
	/* The HTML part: the same, escaped, the title coloured by priority. */
	adds(&html, "<!DOCTYPE html>\r\n<html><head><meta charset=\"utf-8\">"
		"</head><body>\r\n");
	if (*n->title) {
		addf(&html, "<h2 style=\"color:#%06x\">",
			tf_channel_color(prio));
		add_html(&html, n->title);
		adds(&html, "</h2>\r\n");
	}
	if (*n->message) {
		adds(&html, "<p>");
		add_html(&html, n->message);
		adds(&html, "</p>\r\n");
	}
	adds(&html, "</body></html>\r\n");

	add_from(&m, c->from);
	add_list(&m, "To: ", c->targets, c->ntargets, 0);
	add_list(&m, "Cc: ", c->headers, c->nheaders, 1);
	add_subject(&m, title);
	addf(&m, "Date: %s\r\n", date);
	addf(&m, "Message-ID: <tf.%llx.%x.%u@%.*s>\r\n",
		(unsigned long long)ns, (unsigned)getpid(), seq, (int)dn,
		c->from + dom);
	addf(&m, "X-Priority: %s\r\nImportance: %s\r\n", xprio[prio],
		importance[prio]);
	adds(&m, "X-Mailer: tf-notify/" TF_VERSION "\r\n");
	adds(&m, "MIME-Version: 1.0\r\n");
	addf(&m, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n",
		boundary);
	adds(&m, "\r\n");
	addf(&m, "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\n", boundary);
	add_b64_body(&m, text.p ? text.p : "", text.n);
	addf(&m, "--%s\r\nContent-Type: text/html; charset=utf-8\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\n", boundary);
	add_b64_body(&m, html.p ? html.p : "", html.n);
	addf(&m, "--%s--\r\n", boundary);

	free(title);
	free(text.p);
	free(html.p);
	if (text.failed || html.failed || m.failed) {
		free(m.p);
		return NULL;
	}
	*len = m.n;
	return m.p;
}

/* "<addr>" for the envelope. */
static char *
envelope(const char *s)
{
	const char *p;
	size_t n;
	char *out;

	addr_span(s, &p, &n);
	if (asprintf(&out, "<%.*s>", (int)n, p) < 0)
		return NULL;
	return out;
}

static int
add_rcpt(struct tf_request *r, const char *a)
{
	char **p = realloc(r->rcpt, (r->nrcpt + 1) * sizeof *p);

	if (!p)
		return -1;
	r->rcpt = p;
	if (!(p[r->nrcpt] = envelope(a)))
		return -1;
	r->nrcpt++;
	return 0;
}

static int
render(const struct tf_channel *ch, const struct tf_notice *n,
	struct tf_request ***out, size_t *count, char *err, size_t errlen)
{
	const struct tf_channel_config *c = &ch->cfg;
	struct tf_request *r = tf_request_create(ch);
	struct str dest = { 0 };
	size_t i;

	if (!r)
		goto oom;
	if (!(r->body = message(ch, n, &r->body_len)))
		goto oom;
	for (i = 0; i < c->ntargets; i++)
		if (add_rcpt(r, c->targets[i]) < 0)
			goto oom;
	for (i = 0; i < c->nheaders; i++) {
		const char *a = c->headers[i] + strcspn(c->headers[i], ":");

		if (*a && add_rcpt(r, a + 1 + strspn(a + 1, " ")) < 0)
			goto oom;
	}
	/* The report names the To addresses and counts the others. */
	adds(&dest, "email:");
	for (i = 0; i < c->ntargets; i++) {
		const char *p;
		size_t an;

		addr_span(c->targets[i], &p, &an);
		if (i)
			adds(&dest, ",");
		add(&dest, p, an);
	}
	if (c->nheaders)
		addf(&dest, "%s+%zu cc/bcc", c->ntargets ? " " : "",
			c->nheaders);
	if (dest.failed)
		goto oom;
	r->destination = dest.p;
	dest.p = NULL;
	r->url = strdup(c->url);
	/* smtp:// upgrades with STARTTLS, or fails rather than send in
	 * clear; only a server on this machine may answer without it. */
	if (c->ca_file && !(r->ca_file = strdup(c->ca_file)))
		goto oom;
	if (!strncasecmp(c->url, "smtp://", 7))
		r->use_ssl = (c->starttls ? !strcmp(c->starttls, "try") :
					    loopback(c->url)) ?
			CURLUSESSL_TRY : CURLUSESSL_ALL;
	/* Without a password in it: "smtp://user:***@host:587". */
	r->url_masked = tf_channel_mask_url(c->url, -1);
	r->mail_from = envelope(c->from);
	if (c->user && *c->user) {
		r->username = strdup(c->user);
		r->password = strdup(c->password ? c->password : "");
		if (!r->username || !r->password)
			goto oom;
	}
	/* One connection at a time per server. */
	if (asprintf(&r->rate_key, "smtp %s", c->url) < 0)
		r->rate_key = NULL;
	if (!r->url || !r->url_masked || !r->mail_from || !r->rate_key)
		goto oom;
	if (tf_channel_push(out, count, r) < 0) {
		tf_seterr(err, errlen, "out of memory");
		return -1;
	}
	return 0;
oom:
	free(dest.p);
	tf_request_destroy(r);
	tf_seterr(err, errlen, "out of memory");
	return -1;
}

/* The code of the server's last reply: curl passes SMTP replies to the
 * header callback ("451 4.3.0 Try again\r\n"); else one in curl's message
 * ("RCPT failed: 550"); else 0. Copies the reply's text into text. */
static int
smtp_code(const struct tf_response *r, char *text, size_t size)
{
	const char *p, *e = r->error ? r->error : "";
	int code = 0;

	*text = '\0';
	for (p = r->headers; p && *p; p += strcspn(p, "\n"), p += !!*p)
		if (p[0] >= '2' && p[0] <= '5' && isdigit((unsigned char)p[1])
		    && isdigit((unsigned char)p[2]) &&
		    (p[3] == ' ' || p[3] == '\r' || p[3] == '\n' || !p[3])) {
			code = atoi(p);
			snprintf(text, size, "%.*s",
				(int)strcspn(p, "\r\n"), p);
		}
	if (code >= 400)
		return code;
	for (p = e; *p; p++)
		if ((p[0] == '4' || p[0] == '5') &&
		    isdigit((unsigned char)p[1]) &&
		    isdigit((unsigned char)p[2]) &&
		    !isdigit((unsigned char)p[3]) &&
		    (p == e || !isdigit((unsigned char)p[-1])))
			code = atoi(p);
	return code >= 400 ? code : 0;
}

static void
judge(const struct tf_channel *ch, const struct tf_response *r,
	struct tf_verdict *v)
{
	char reply[160];
	int code;

	(void)ch;
	v->retry_after_ns = -1;
	if (!r->transport_error) {
		v->kind = TF_VERDICT_SENT;
		return;
	}
	code = smtp_code(r, reply, sizeof reply);
	if (code && *reply)
		snprintf(v->error, sizeof v->error, "SMTP %s", reply);
	else
		snprintf(v->error, sizeof v->error, "SMTP: %s",
			r->error ? r->error : "error");
	switch (r->curl_code) {
	case CURLE_LOGIN_DENIED:
		v->kind = TF_VERDICT_FAILED;
		snprintf(v->error, sizeof v->error, "SMTP login refused: %s",
			*reply ? reply : r->error ? r->error : "");
		return;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_USE_SSL_FAILED:
		v->kind = TF_VERDICT_FAILED;
		return;
	}
	/* 4xx is the server's "later", 5xx its "never"; no answer at all
	 * (refused, timed out, cut) is worth another try. */
	v->kind = code >= 500 ? TF_VERDICT_FAILED : TF_VERDICT_RETRY;
}

/* TF_SMTP_PASSWORD as sent (AUTH PLAIN or LOGIN), and a password in
 * TF_SMTP_URL. */
static int
secrets(const struct tf_channel_config *c, struct tf_redact *rd)
{
	if (c->password && tf_redact_add_login(rd, c->user, c->password) < 0)
		return -1;
	return c->url ? tf_channel_redact_url(rd, c->url, -1) : 0;
}

const struct tf_channel_def tf_ch_email = {
	.name = "email",
	.setting = "TF_SMTP_URL",
	.check = check,
	.render = render,
	.judge = judge,
	.secrets = secrets,
};
