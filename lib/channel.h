/* channel.h: the notification channels of tf-notify. A channel turns one
 * notice into requests (lib/deliver sends them) and judges each response:
 * sent, retry (and when), or failed for good. One file per channel:
 * lib/ch_slack.c, lib/ch_discord.c, lib/ch_telegram.c, lib/ch_webhook.c;
 * lib/ch_email.c (SMTP) and lib/ch_sms.c (Twilio) drop in the same way. */
#ifndef TF_CHANNEL_H
#define TF_CHANNEL_H

#include <jv.h>
#include <stddef.h>
#include <stdint.h>

#include "redact.h"

/* What the channels render: one input line with its title and message
 * already rendered (templates in cmd/), and its priority. */
struct tf_notice {
	const char *line;	/* the input line, byte for byte */
	size_t len;
	uint64_t id;		/* input line number (report "id") */
	int priority;		/* TF_PRIO_LOW..TF_PRIO_CRITICAL */
	const char *type;	/* "alert", "price_update", ... ("" if none) */
	const char *title;	/* UTF-8, NUL-terminated */
	const char *message;
	const char *body;	/* --format output for channels that send a
				 * whole body (webhook), or NULL: the line */
	size_t body_len;
};

/* A rate limit: at most n requests per window_ns for one key. */
struct tf_rate {
	unsigned n;
	int64_t window_ns;
};

/* One request. Everything is malloc'd and owned by the request
 * (tf_request_destroy). HTTP: method, url, headers, body. SMTP (curl's
 * smtp:// and smtps://): url, mail_from, rcpt[], and body is uploaded as
 * the message; username/password authenticate either protocol. */
struct tf_request {
	char *method;		/* "POST"; NULL for SMTP */
	char *url;		/* the real URL (may hold secrets) */
	char *url_masked;	/* the URL with secrets as "***" */
	char **headers;		/* "Name: value" */
	size_t nheaders;
	unsigned secret_headers;	/* bit i: header i's value is masked */
	char *body;
	size_t body_len;
	char *mail_from;	/* SMTP envelope */
	long use_ssl;		/* smtp://: a CURLUSESSL_* for STARTTLS */
	char *ca_file;		/* CA bundle to trust, NULL: the system's */
	char **rcpt;
	size_t nrcpt;
	char *username, *password;
	char *destination;	/* masked, for reports: "telegram:-100123" */
	char *rate_key;		/* requests with one key go out within rate[],
				 * in order, one at a time... */
	unsigned parallel;	/* ...or up to this many at once, in no
				 * particular order, when above 1 */
	struct tf_rate rate[2];
	const struct tf_channel *channel;	/* judges the response */
	void *tag;		/* the caller's */
	unsigned part, parts;	/* a message split in several requests */
};

struct tf_request *tf_request_create(const struct tf_channel *ch);
void tf_request_destroy(struct tf_request *r);
/* Appends a header; secret: mask its value in dry runs. 0 or -1 (ENOMEM). */
int tf_request_header(struct tf_request *r, const char *h, int secret);

/* What came back for a request. */
struct tf_response {
	long status;		/* HTTP status (SMTP reply code), 0: none */
	int transport_error;	/* connection failed, timed out, ... */
	int curl_code;		/* the CURLcode (0: the transfer completed);
				 * SMTP tells a refused login from a timeout */
	const char *error;	/* curl's message when transport_error */
	const char *body;	/* NUL-terminated */
	size_t body_len;
	const char *headers;	/* raw response headers, "Name: v\r\n"... */
};

/* Finds a response header (case-insensitive) into buf; its length or -1. */
int tf_response_header(const struct tf_response *r, const char *name,
	char *buf, size_t size);

enum tf_verdict_kind {
	TF_VERDICT_SENT,
	TF_VERDICT_RETRY,	/* network error, 5xx, 429 */
	TF_VERDICT_FAILED,	/* permanent: 4xx, bad answer */
};

struct tf_verdict {
	enum tf_verdict_kind kind;
	int64_t retry_after_ns;	/* the service's hint, or -1: backoff */
	int64_t key_wait_ns;	/* hold every request of this key that long
				 * (Discord's X-RateLimit-*), or 0 */
	char error[256];	/* why, for the report */
};

/* Channel settings, from the TF_* names of each channel. Strings are
 * borrowed from the options and live as long as the channel. */
struct tf_channel_config {
	const char *url;	/* TF_SLACK_WEBHOOK_URL, TF_TELEGRAM_API_URL... */
	const char *token;	/* TF_TELEGRAM_BOT_TOKEN (secret) */
	const char *user, *password;	/* email/sms */
	const char *from;
	const char *starttls;	/* email: TF_SMTP_STARTTLS "require"/"try" */
	const char *ca_file;	/* email: TF_SMTP_CA_FILE */
	unsigned parallel;	/* webhook: requests at once (1: in order) */
	struct tf_rate group_rate;	/* telegram: per group chat; n 0:
					 * the Bot API's 20 a minute */
	const char *const *targets;	/* chat ids, recipients */
	size_t ntargets;
	const char *const *headers;	/* webhook: "Name: value" */
	size_t nheaders;
	unsigned secret_headers;	/* bit i: headers[i] came from the env
					 * or config file: mask it */
};

/* Renders a notice into requests appended to *out (growing it; *n
 * counts them); each request's tag is set by the caller afterwards.
 * Returns 0, or -1 with err filled. */
typedef int tf_channel_render_fn(const struct tf_channel *ch,
	const struct tf_notice *n, struct tf_request ***out, size_t *count,
	char *err, size_t errlen);

/* Judges a response (or a transport error) into v. */
typedef void tf_channel_judge_fn(const struct tf_channel *ch,
	const struct tf_response *r, struct tf_verdict *v);

/* Checks the settings: 0, or -1 with err naming the TF_* variable to set. */
typedef int tf_channel_check_fn(const struct tf_channel_config *c, char *err,
	size_t errlen);

/* Adds every secret of the settings to rd, in the forms the channel sends
 * it (in a URL, as Basic auth, ...), whether or not the channel is used:
 * settings that are not complete yet may be printed too. 0, or -1 on
 * ENOMEM. */
typedef int tf_channel_secrets_fn(const struct tf_channel_config *c,
	struct tf_redact *rd);

struct tf_channel_def {
	const char *name;		/* "slack" */
	const char *setting;		/* the TF_* name that enables it */
	tf_channel_check_fn *check;	/* NULL: not yet available */
	tf_channel_render_fn *render;
	tf_channel_judge_fn *judge;
	tf_channel_secrets_fn *secrets;
};

/* A configured channel. */
struct tf_channel {
	const struct tf_channel_def *def;
	struct tf_channel_config cfg;
	int min_priority;
};

/* Every channel, NULL-terminated, in the order reports use. */
extern const struct tf_channel_def *const tf_channels[];
const struct tf_channel_def *tf_channel_find(const char *name, size_t len);

extern const struct tf_channel_def tf_ch_slack, tf_ch_discord,
	tf_ch_telegram, tf_ch_webhook,
	tf_ch_email, tf_ch_sms;

/* Helpers for channel files. */

/* Judges r by its HTTP status (tf_channel_http_verdict), then parses its
 * body as the service's JSON object: returns 1 with *o set (the caller
 * frees it), or 0 when there is none (a transport error, or a body that is
 * not an object: then a 2xx fails as "not a SERVICE answer"). */
int tf_channel_json_verdict(const struct tf_response *r,
	struct tf_verdict *v, const char *service, jv *o);

/* The length of the UTF-8 sequence that starts with byte c (1 to 4), and
 * the code point of the k-byte sequence at p (text already valid UTF-8). */
size_t tf_utf8_seqlen(unsigned char c);
unsigned long tf_utf8_codepoint(const unsigned char *p, size_t k);
/* True for characters that belong to the one before them (combining marks,
 * variation selectors, zero-width joiner, emoji modifiers and tags): text
 * is never cut before one. */
int tf_utf8_extends(unsigned long c);

/* The common verdict of an HTTP answer: 2xx sent; 429 retry (Retry-After
 * seconds or HTTP date); 5xx, 408 and transport errors retry; other 4xx
 * and the rest failed, with the service's text in error. */
void tf_channel_http_verdict(const struct tf_response *r,
	struct tf_verdict *v);

/* Appends a request to the growing array; -1 on ENOMEM (r destroyed). */
int tf_channel_push(struct tf_request ***out, size_t *count,
	struct tf_request *r);

/* A URL cut after its first keep path segments (1 for Slack's
 * /services, 3 for Discord's /api/webhooks/ID; -1: the whole path), the
 * rest replaced by "/" and "***", and the password of its userinfo
 * ("user:***@host"; the whole userinfo, "***@host", when it holds no
 * password and the scheme is not smtp or smtps: a lone user name in a
 * web URL is an API key). malloc'd, NULL on ENOMEM. */
char *tf_channel_mask_url(const char *url, int keep);

/* Adds what tf_channel_mask_url(url, keep) masks to rd: the userinfo's
 * password or token (with the Basic auth built from it), and what follows
 * the kept segments: all of it, its path, its query, and each path
 * segment and query value, those at least TF_CHANNEL_SECRET_MIN bytes
 * long (a path "/hook" is no secret, and masking it would mask every
 * "hook"). 0, or -1 on ENOMEM. */
#define TF_CHANNEL_SECRET_MIN 8
int tf_channel_redact_url(struct tf_redact *rd, const char *url, int keep);

/* A color (0xRRGGBB) per priority, the same in every channel. */
unsigned tf_channel_color(int priority);

/* UTF-16 code units of the UTF-8 text s[0..n) (what Telegram and Discord
 * count): 2 for characters beyond U+FFFF, 1 for the others. */
size_t tf_utf16_len(const char *s, size_t n);

/* The longest prefix of s[0..n) of at most max UTF-16 units that ends on a
 * character boundary, not before a combining mark or joiner, and not
 * inside an HTML entity or tag when html is set. Returns its length in
 * bytes. */
size_t tf_utf16_prefix(const char *s, size_t n, size_t max, int html);

/* A copy of s cut to max UTF-16 units, ending in "…" when cut, never
 * inside an entity or tag when html is set. malloc'd; NULL on ENOMEM. */
char *tf_channel_cut(const char *s, size_t max, int html);

/* A copy of s with '&', '<' and '>' as &amp; &lt; &gt; (Slack mrkdwn and
 * Telegram HTML). malloc'd; NULL on ENOMEM. */
char *tf_channel_escape(const char *s);

#endif
