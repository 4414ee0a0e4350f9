/* ch_sms.c: SMS through Twilio's Messages API, one request per number;
 * segments counted as carriers do (GSM-7 with its extension table, else
 * UCS-2) and text over the limit cut cleanly with a marker. */
#include <curl/curl.h>
#include <jv.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "log.h"

#define SEGMENTS_DEFAULT 4
#define SEGMENTS_MAX 10		/* Twilio: 1,600 characters at most */

/* Settings (tf-notify fills them): url TF_TWILIO_API_URL (or NULL), user
 * TF_TWILIO_ACCOUNT_SID, token TF_TWILIO_AUTH_TOKEN, from TF_TWILIO_FROM
 * (a number, or a Messaging Service SID "MG..."), targets the numbers of
 * TF_SMS_TO, headers[0] "Max-Segments: N" (--sms-max-segments). */

static int
e164(const char *s)
{
	size_t n;

	if (*s != '+' || s[1] == '0')
		return 0;
	n = strspn(s + 1, "0123456789");
	return !s[1 + n] && n >= 7 && n <= 15;
}

static int
service_sid(const char *s)
{
	return s[0] == 'M' && s[1] == 'G' && strlen(s) == 34 &&
		strspn(s + 2, "0123456789abcdefABCDEF") == 32;
}

static unsigned
max_segments(const struct tf_channel_config *c)
{
	unsigned long v;

	if (c->nheaders &&
	    sscanf(c->headers[0], "Max-Segments: %lu", &v) == 1 && v >= 1 &&
	    v <= SEGMENTS_MAX)
		return (unsigned)v;
	return SEGMENTS_DEFAULT;
}

static int
check(const struct tf_channel_config *c, char *err, size_t errlen)
{
	size_t i;

	if (!c->user || !*c->user) {
		tf_seterr(err, errlen, "sms: set TF_TWILIO_ACCOUNT_SID");
		return -1;
	}
	/* It goes into the URL's path. */
	if (strspn(c->user, "0123456789abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(c->user)) {
		tf_seterr(err, errlen, "sms: TF_TWILIO_ACCOUNT_SID is not an "
			"account SID (AC...)");
		return -1;
	}
	if (!c->token || !*c->token) {
		tf_seterr(err, errlen, "sms: set TF_TWILIO_AUTH_TOKEN");
		return -1;
	}
	if (!c->from || !*c->from) {
		tf_seterr(err, errlen, "sms: set TF_TWILIO_FROM");
		return -1;
	}
	if (!e164(c->from) && !service_sid(c->from)) {
		tf_seterr(err, errlen, "sms: TF_TWILIO_FROM '%s' is neither "
			"a +E.164 number nor a Messaging Service SID (MG...)",
			c->from);
		return -1;
	}
	if (!c->ntargets) {
		tf_seterr(err, errlen, "sms: set TF_SMS_TO");
		return -1;
	}
	for (i = 0; i < c->ntargets; i++)
		if (!e164(c->targets[i])) {
			tf_seterr(err, errlen, "sms: '%s' is not a +E.164 "
				"number", c->targets[i]);
			return -1;
		}
	return 0;
}

/* UTF-8 decoding (input is valid UTF-8, checked by tf_event_check). */
/* GSM-7 septets of c: 1 in the basic set, 2 in the extension table (an
 * escape and the character), 0 when GSM-7 cannot carry it. */
static unsigned
gsm_units(unsigned long c)
{
	static const unsigned short basic[] = { 0xa1, 0xa3, 0xa4, 0xa5, 0xa7,
		0xbf, 0xc4, 0xc5, 0xc6, 0xc7, 0xc9, 0xd1, 0xd6, 0xd8, 0xdc,
		0xdf, 0xe0, 0xe4, 0xe5, 0xe6, 0xe8, 0xe9, 0xec, 0xf1, 0xf2,
		0xf6, 0xf8, 0xf9, 0xfc, 0x393, 0x394, 0x398, 0x39b, 0x39e,
		0x3a0, 0x3a3, 0x3a6, 0x3a8, 0x3a9 };
	size_t i;

	if (c == '\n' || c == '\r')
		return 1;
	if (c == '\f' || c == 0x20ac || (c < 0x80 && strchr("^{}\\[]~|",
							   (int)c)))
		return 2;
	if (c >= 0x20 && c < 0x7f)
		return c == '`' ? 0 : 1;
	for (i = 0; i < sizeof basic / sizeof basic[0]; i++)
		if (basic[i] == c)
			return 1;
	return 0;
}

static int
is_gsm(const char *s, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i += k) {
		k = tf_utf8_seqlen((unsigned char)s[i]);
		if (!gsm_units(tf_utf8_codepoint((const unsigned char *)s + i, k)))
			return 0;
	}
	return 1;
}

/* Fills segments the way a concatenated SMS is split: a character that
 * does not fit (a 2-septet escape pair, a surrogate pair) moves whole to
 * the next segment. */
struct pack {
	unsigned seg, used, cap;
};

static void
pack_add(struct pack *p, unsigned units)
{
	if (p->used + units > p->cap) {
		p->seg++;
		p->used = units;
	} else {
		p->used += units;
	}
}

static unsigned
units_of(const unsigned char *p, size_t k, int gsm)
{
	return gsm ? gsm_units(tf_utf8_codepoint(p, k)) : k == 4 ? 2 : 1;
}

/* The segments s[0..n) takes in its encoding. */
static unsigned
segments(const char *s, size_t n, int gsm)
{
	struct pack p = { 1, 0, gsm ? 160 : 70 };
	size_t i, k;

	for (i = 0; i < n; i += k) {
		k = tf_utf8_seqlen((unsigned char)s[i]);
		pack_add(&p, units_of((const unsigned char *)s + i, k, gsm));
	}
	if (p.seg == 1)
		return 1;
	p = (struct pack){ 1, 0, gsm ? 153 : 67 };
	for (i = 0; i < n; i += k) {
		k = tf_utf8_seqlen((unsigned char)s[i]);
		pack_add(&p, units_of((const unsigned char *)s + i, k, gsm));
	}
	return p.seg;
}

/* s cut to max segments: the longest prefix that, with the marker ("..."
 * in GSM-7, which has no "…"; "…" in UCS-2), fits, ending on a character
 * boundary, before no combining mark or joiner. malloc'd. */
static char *
fit(const char *s, unsigned max, unsigned *nseg)
{
	size_t n = strlen(s), i, k, good = 0;
	int gsm = is_gsm(s, n);
	const char *mark = gsm ? "..." : "\xe2\x80\xa6";
	unsigned mark_units = gsm ? 3 : 1;
	struct pack p = { 1, 0, max == 1 ? (gsm ? 160 : 70) :
				  (gsm ? 153 : 67) };
	char *out;

	if ((*nseg = segments(s, n, gsm)) <= max)
		return strdup(s);
	for (i = 0; i < n; i += k) {
		const unsigned char *u = (const unsigned char *)s + i;
		struct pack q = p;
		unsigned j;

		k = tf_utf8_seqlen(*u);
		for (j = 0; j < mark_units; j++)
			pack_add(&q, 1);
		if (q.seg > max)
			break;
		if (!tf_utf8_extends(tf_utf8_codepoint(u, k)) && !(i >= 3 &&
			!memcmp(s + i - 3, "\xe2\x80\x8d", 3)))
			good = i;
		pack_add(&p, units_of(u, k, gsm));
		if (p.seg > max)
			break;
	}
	/* No dangling space or line before the marker. */
	while (good && strchr(" \t\r\n", s[good - 1]))
		good--;
	if (asprintf(&out, "%.*s%s", (int)good, s, mark) < 0)
		return NULL;
	*nseg = segments(out, strlen(out), gsm);
	return out;
}

/* application/x-www-form-urlencoded, by libcurl: every byte but
 * A-Z a-z 0-9 - . _ ~ as %XX (a space as %20, which forms accept as well
 * as '+'). curl_easy_escape takes no handle since curl 7.82. */
static void
form_add(jv *acc, const char *name, const char *v)
{
	char *e = strlen(v) < INT_MAX / 3 ?
		curl_easy_escape(NULL, v, (int)strlen(v)) : NULL;

	if (!e) {
		jv_free(*acc);
		*acc = jv_invalid();
		return;
	}
	if (jv_get_kind(*acc) == JV_KIND_STRING)
		*acc = jv_string_append_str(*acc,
			jv_string_length_bytes(jv_copy(*acc)) ? "&" : "");
	*acc = jv_string_append_str(*acc, name);
	*acc = jv_string_append_str(*acc, "=");
	*acc = jv_string_append_str(*acc, e);
	curl_free(e);
}

static struct tf_request *
request(const struct tf_channel *ch, const char *to, const char *text)
{
	const struct tf_channel_config *c = &ch->cfg;
	const char *base = c->url && *c->url ? c->url :
		"https://api.twilio.com";
	size_t bl = strlen(base), ml;
	struct tf_request *r = tf_request_create(ch);
	char *masked = tf_channel_mask_url(base, -1);
	int mg = service_sid(c->from);
	jv form = jv_string("");

	if (!r || !masked) {
		free(masked);
		tf_request_destroy(r);
		jv_free(form);
		return NULL;
	}
	while (bl && base[bl - 1] == '/')
		bl--;
	ml = strlen(masked);
	while (ml && masked[ml - 1] == '/')
		ml--;
	form_add(&form, "To", to);
	form_add(&form, mg ? "MessagingServiceSid" : "From", c->from);
	form_add(&form, "Body", text);
	if (jv_is_valid(form)) {
		r->body = strdup(jv_string_value(form));
		r->body_len = r->body ? strlen(r->body) : 0;
	}
	jv_free(form);
	r->method = strdup("POST");
	if (asprintf(&r->url, "%.*s/2010-04-01/Accounts/%s/Messages.json",
		    (int)bl, base, c->user) < 0)
		r->url = NULL;
	if (asprintf(&r->url_masked, "%.*s/2010-04-01/Accounts/%.4s***/"
		    "Messages.json", (int)ml, masked, c->user) < 0)
		r->url_masked = NULL;
	free(masked);
	r->username = strdup(c->user);
	r->password = strdup(c->token);
	if (asprintf(&r->destination, "sms:%s", to) < 0)
		r->destination = NULL;
	/* A long code sends one message a second; a Messaging Service
	 * queues on Twilio's side. */
	if (asprintf(&r->rate_key, "twilio %s", mg ? to : c->from) < 0)
		r->rate_key = NULL;
	if (!mg) {
		r->rate[0].n = 1;
		r->rate[0].window_ns = 1000000000LL;
	}
	if (!r->body || !r->method || !r->url || !r->url_masked ||
	    !r->username || !r->password || !r->destination ||
	    !r->rate_key || tf_request_header(r,
		    "Content-Type: application/x-www-form-urlencoded", 0) < 0 ||
	    tf_request_header(r, "Accept: application/json", 0) < 0) {
		tf_request_destroy(r);
		return NULL;
	}
	return r;
}

static int
render(const struct tf_channel *ch, const struct tf_notice *n,
	struct tf_request ***out, size_t *count, char *err, size_t errlen)
{
	char *whole = NULL, *text;
	unsigned nseg;
	size_t i, first = *count;

	if (asprintf(&whole, "%s%s%s", n->title,
		    *n->title && *n->message ? "\n" : "", n->message) < 0)
		whole = NULL;
	if (!whole)
		goto oom;
	if (!*whole) {
		free(whole);
		if (!(whole = strdup("tf alert")))
			goto oom;
	}
	text = fit(whole, max_segments(&ch->cfg), &nseg);
	free(whole);
	if (!text)
		goto oom;
	for (i = 0; i < ch->cfg.ntargets; i++) {
		struct tf_request *r = request(ch, ch->cfg.targets[i], text);

		if (!r || tf_channel_push(out, count, r) < 0) {
			free(text);
			goto oom;
		}
	}
	free(text);
	return 0;
oom:
	while (*count > first)
		tf_request_destroy((*out)[--*count]);
	tf_seterr(err, errlen, "out of memory");
	return -1;
}

/* Twilio's error body: {"code": 21211, "message": "...", "status": 400}. */
static void
judge(const struct tf_channel *ch, const struct tf_response *r,
	struct tf_verdict *v)
{
	jv o, code, msg, sid;

	(void)ch;
	if (!tf_channel_json_verdict(r, v, "Twilio", &o))
		return;
	if (v->kind == TF_VERDICT_SENT) {
		sid = jv_object_get(jv_copy(o), jv_string("sid"));
		if (jv_get_kind(sid) != JV_KIND_STRING) {
			v->kind = TF_VERDICT_FAILED;
			snprintf(v->error, sizeof v->error,
				"HTTP %ld: no message sid", r->status);
		}
		jv_free(sid);
		jv_free(o);
		return;
	}
	code = jv_object_get(jv_copy(o), jv_string("code"));
	msg = jv_object_get(o, jv_string("message"));
	if (jv_get_kind(code) == JV_KIND_NUMBER &&
	    jv_get_kind(msg) == JV_KIND_STRING)
		snprintf(v->error, sizeof v->error,
			"HTTP %ld: Twilio error %.0f: %.180s", r->status,
			jv_number_value(code), jv_string_value(msg));
	else if (jv_get_kind(msg) == JV_KIND_STRING)
		snprintf(v->error, sizeof v->error, "HTTP %ld: %.200s",
			r->status, jv_string_value(msg));
	jv_free(code);
	jv_free(msg);
}

/* The auth token, as sent (Basic auth with the SID), and a password in
 * TF_TWILIO_API_URL. */
static int
secrets(const struct tf_channel_config *c, struct tf_redact *rd)
{
	if (c->token && tf_redact_add_login(rd, c->user, c->token) < 0)
		return -1;
	return c->url ? tf_channel_redact_url(rd, c->url, -1) : 0;
}

const struct tf_channel_def tf_ch_sms = {
	.name = "sms",
	.setting = "TF_TWILIO_ACCOUNT_SID",
	.check = check,
	.render = render,
	.judge = judge,
	.secrets = secrets,
};
