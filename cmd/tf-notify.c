/* tf-notify: send alerts (or any events) read on stdin to Slack, Discord,
 * Telegram, webhooks, e-mail and SMS, with retries, rate limits, dedupe and a deadline;
 * one NDJSON delivery report per alert and destination on stdout. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "channel.h"
#include "deliver.h"
#include "filter.h"
#include "line.h"
#include "log.h"
#include "metrics.h"
#include "notify_dedupe.h"
#include "notify_jq.h"
#include "notify_report.h"
#include "notify_text.h"
#include "opts.h"
#include "redact.h"
#include "sig.h"
#include "vocab.h"

/* The entries of tf_channels[], in its order. */
enum { CH_SLACK, CH_DISCORD, CH_TELEGRAM, CH_WEBHOOK, CH_EMAIL, CH_SMS, NCH };
#define MAX_FDS 256
#define TITLE_SIZE 1024
#define MESSAGE_SIZE (64 * 1024)
#define DEDUPE_KEYS 10000
/* Webhook headers (--header and TF_WEBHOOK_HEADERS): the requests mark
 * which are secret in a 32-bit mask. */
#define MAX_HEADERS 32
/* Waiting at exit, say so after this long. */
#define SAY_WAITING_NS 1000000000LL

enum {
	OPT_CHANNEL = 256,
	OPT_MIN_PRIORITY,
	OPT_FILTER,
	OPT_FORMAT,
	OPT_TITLE,
	OPT_MESSAGE,
	OPT_HEADER,
	OPT_CONNECT_TIMEOUT,
	OPT_TIMEOUT,
	OPT_RETRIES,
	OPT_DEADLINE,
	OPT_MAX_QUEUE,
	OPT_DEDUPE_WINDOW,
	OPT_DEDUPE_KEY,
	OPT_BURST,
	OPT_BURST_WINDOW,
	OPT_DRY_RUN,
	OPT_SMS_MAX_SEGMENTS,
	OPT_PARALLEL,
	OPT_METRICS_FILE,
	OPT_METRICS_INTERVAL,
	/* Settings only (environment or config file): secrets never come
	 * from argv. Their names hold '=', which no flag can match. */
	SET_SLACK_URL,
	SET_DISCORD_URL,
	SET_WEBHOOK_URL,
	SET_TELEGRAM_API,
	SET_TELEGRAM_TOKEN,
	SET_TELEGRAM_CHATS,
	SET_TELEGRAM_GROUP_RATE,
	SET_SMTP_URL,
	SET_SMTP_USER,
	SET_SMTP_STARTTLS,
	SET_SMTP_CA_FILE,
	SET_SMTP_PASSWORD,
	SET_EMAIL_FROM,
	SET_EMAIL_TO,
	SET_EMAIL_CC,
	SET_EMAIL_BCC,
	SET_TWILIO_API,
	SET_TWILIO_SID,
	SET_TWILIO_TOKEN,
	SET_TWILIO_FROM,
	SET_SMS_TO,
};

static const struct tf_option options[] = {
	{ "channel", required_argument, 'c', "TF_NOTIFY_CHANNELS" },
	{ "min-priority", required_argument, OPT_MIN_PRIORITY,
		"TF_NOTIFY_MIN_PRIORITY" },
	{ "filter", required_argument, OPT_FILTER, "TF_NOTIFY_FILTER" },
	{ "format", required_argument, OPT_FORMAT, "TF_WEBHOOK_FORMAT" },
	{ "title", required_argument, OPT_TITLE, "TF_NOTIFY_TITLE" },
	{ "message", required_argument, OPT_MESSAGE, "TF_NOTIFY_MESSAGE" },
	{ "header", required_argument, 'H', "TF_WEBHOOK_HEADERS" },
	{ "connect-timeout", required_argument, OPT_CONNECT_TIMEOUT,
		"TF_NOTIFY_CONNECT_TIMEOUT" },
	{ "timeout", required_argument, OPT_TIMEOUT, "TF_NOTIFY_TIMEOUT" },
	{ "retries", required_argument, OPT_RETRIES, "TF_NOTIFY_RETRIES" },
	{ "deadline", required_argument, OPT_DEADLINE, "TF_NOTIFY_DEADLINE" },
	{ "max-queue", required_argument, OPT_MAX_QUEUE,
		"TF_NOTIFY_MAX_QUEUE" },
	{ "dedupe-window", required_argument, OPT_DEDUPE_WINDOW,
		"TF_NOTIFY_DEDUPE_WINDOW" },
	{ "dedupe-key", required_argument, OPT_DEDUPE_KEY,
		"TF_NOTIFY_DEDUPE_KEY" },
	{ "burst", required_argument, OPT_BURST, "TF_NOTIFY_BURST" },
	{ "burst-window", required_argument, OPT_BURST_WINDOW,
		"TF_NOTIFY_BURST_WINDOW" },
	{ "sms-max-segments", required_argument, OPT_SMS_MAX_SEGMENTS,
		"TF_SMS_MAX_SEGMENTS" },
	{ "parallel", required_argument, OPT_PARALLEL, "TF_NOTIFY_PARALLEL" },
	{ "dry-run", no_argument, 'n', NULL },
	{ "metrics-file", required_argument, OPT_METRICS_FILE,
		"TF_NOTIFY_METRICS_FILE" },
	{ "metrics-interval", required_argument, OPT_METRICS_INTERVAL,
		"TF_NOTIFY_METRICS_INTERVAL" },
	{ "=slack", required_argument, SET_SLACK_URL, "TF_SLACK_WEBHOOK_URL" },
	{ "=discord", required_argument, SET_DISCORD_URL,
		"TF_DISCORD_WEBHOOK_URL" },
	{ "=webhook", required_argument, SET_WEBHOOK_URL, "TF_WEBHOOK_URL" },
	{ "=tg-api", required_argument, SET_TELEGRAM_API,
		"TF_TELEGRAM_API_URL" },
	{ "=tg-token", required_argument, SET_TELEGRAM_TOKEN,
		"TF_TELEGRAM_BOT_TOKEN" },
	{ "=tg-chats", required_argument, SET_TELEGRAM_CHATS,
		"TF_TELEGRAM_CHAT_IDS" },
	{ "=tg-group-rate", required_argument, SET_TELEGRAM_GROUP_RATE,
		"TF_TELEGRAM_GROUP_RATE" },
	{ "=smtp-url", required_argument, SET_SMTP_URL, "TF_SMTP_URL" },
	{ "=smtp-user", required_argument, SET_SMTP_USER, "TF_SMTP_USER" },
	{ "=smtp-ca-file", required_argument, SET_SMTP_CA_FILE,
		"TF_SMTP_CA_FILE" },
	{ "=smtp-starttls", required_argument, SET_SMTP_STARTTLS,
		"TF_SMTP_STARTTLS" },
	{ "=smtp-password", required_argument, SET_SMTP_PASSWORD,
		"TF_SMTP_PASSWORD" },
	{ "=email-from", required_argument, SET_EMAIL_FROM, "TF_EMAIL_FROM" },
	{ "=email-to", required_argument, SET_EMAIL_TO, "TF_EMAIL_TO" },
	{ "=email-cc", required_argument, SET_EMAIL_CC, "TF_EMAIL_CC" },
	{ "=email-bcc", required_argument, SET_EMAIL_BCC, "TF_EMAIL_BCC" },
	{ "=twilio-api", required_argument, SET_TWILIO_API,
		"TF_TWILIO_API_URL" },
	{ "=twilio-sid", required_argument, SET_TWILIO_SID,
		"TF_TWILIO_ACCOUNT_SID" },
	{ "=twilio-token", required_argument, SET_TWILIO_TOKEN,
		"TF_TWILIO_AUTH_TOKEN" },
	{ "=twilio-from", required_argument, SET_TWILIO_FROM,
		"TF_TWILIO_FROM" },
	{ "=sms-to", required_argument, SET_SMS_TO, "TF_SMS_TO" },
	{ 0 },
};

struct config {
	struct tf_common common;
	const char *channels;
	int min_prio[NCH];	/* -1: the global one */
	int min_prio_all;
	const char *filter, *format, *dedupe_key;
	const char *title[NCH + 1], *message[NCH + 1];	/* [NCH]: all */
	int64_t dedupe_window, burst_window, deadline;
	unsigned burst;
	size_t max_queue;
	int dry_run;
	struct tf_deliver_opts dopts;
	struct tf_channel_config cfg[NCH];
	char **chats;		/* TF_TELEGRAM_CHAT_IDS, split */
	size_t nchats;
	char **headers;		/* webhook headers */
	size_t nheaders;
	unsigned secret_headers;
	char **email_to;	/* TF_EMAIL_TO, split */
	size_t nemail_to;
	char **email_cc;	/* "Cc: addr", "Bcc: addr" (lib/ch_email.c) */
	size_t nemail_cc;
	char **sms_to;		/* TF_SMS_TO, split */
	size_t nsms_to;
	char sms_opt[32];	/* "Max-Segments: N" (lib/ch_sms.c) */
	const char *sms_opts[1];
	unsigned sms_max_segments;
	char **argv;
	int argc;
	struct tf_redact *rd;	/* every secret above, masked in all we print */
	struct tf_metrics_file mf;
};

/* Report statuses, as the metrics count them. */
enum { R_SENT, R_FAILED, R_SKIPPED, NRESULTS };

struct run {
	struct config *c;
	struct tf_channel ch[NCH];
	int active[NCH];
	struct tf_deliver *d;
	struct tf_filter *filter;
	struct tf_notify_jq *format, *dedupe_key;
	struct tf_notify_text *text;		/* every channel's */
	struct tf_notify_text *ch_text[NCH];	/* a channel's own, or NULL */
	struct tf_dedupe *dedupe;
	struct tf_burst burst;
	size_t queued;		/* reports not yet written */
	uint64_t lines, skipped, sent, failed, summaries;
	int out_failed;
	/* --metrics-file: reports by channel and status, retries. */
	struct tf_metrics *m;
	int64_t start_ns;
	uint64_t reports[NCH][NRESULTS], retries[NCH];
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: tf-notify [options]\n"
		"Send each alert (or any event) read on stdin to Slack, Discord,\n"
		"Telegram, webhooks, e-mail and SMS; write one delivery report per\n"
		"alert and destination on stdout.\n"
		"\n"
		"Where to (addresses and secrets come from the environment or the\n"
		"config file only: TF_SLACK_WEBHOOK_URL, TF_DISCORD_WEBHOOK_URL,\n"
		"TF_WEBHOOK_URL, TF_TELEGRAM_BOT_TOKEN, TF_TELEGRAM_CHAT_IDS,\n"
		"TF_TELEGRAM_API_URL; TF_SMTP_URL, TF_SMTP_USER, TF_SMTP_PASSWORD,\n"
		"TF_EMAIL_FROM, TF_EMAIL_TO, TF_EMAIL_CC, TF_EMAIL_BCC;\n"
		"TF_TWILIO_ACCOUNT_SID, TF_TWILIO_AUTH_TOKEN, TF_TWILIO_FROM,\n"
		"TF_SMS_TO, TF_TWILIO_API_URL):\n"
		"  -c, --channel LIST          slack, discord, telegram, webhook,\n"
		"                              email, sms\n"
		"                              (default: every configured one)\n"
		"      --min-priority [CH=]P   send only priority P and above, to\n"
		"                              every channel or to CH (repeatable)\n"
		"      --filter JQ             send only events where JQ holds\n"
		"  -H, --header 'NAME: VALUE'  webhook header (repeatable, 32 at\n"
		"                              most; not a secret: on argv)\n"
		"      --format JQ             webhook body (default: the line)\n"
		"      --title [CH=]TEMPLATE   title: {symbol}, {.field}, ...; for\n"
		"                              every channel or CH (repeatable)\n"
		"      --message [CH=]TEMPLATE message text, likewise\n"
		"      --sms-max-segments N    cut SMS text to N segments, 1-10\n"
		"                              (default 4)\n"
		"Delivery:\n"
		"      --connect-timeout TIME  per attempt (default 10s)\n"
		"      --timeout TIME          per attempt (default 30s)\n"
		"      --retries N             after network errors, 5xx, 429\n"
		"                              (default 3)\n"
		"      --deadline TIME         time to finish once input ends\n"
		"                              (default 60s)\n"
		"      --parallel N            transfers at once (default 16); a\n"
		"                              webhook may take them all, in no\n"
		"                              set order (1: input order)\n"
		"      --max-queue N           alerts waiting; beyond, reported\n"
		"                              failed (default 1000)\n"
		"      --dedupe-window TIME    drop repeats within TIME (default 0)\n"
		"      --dedupe-key JQ         what repeats (default type, symbol,\n"
		"                              title)\n"
		"      --burst N               at most N alerts per burst window;\n"
		"                              the rest become one summary\n"
		"      --burst-window TIME     (default 60s)\n"
		"  -n, --dry-run               print the requests, send nothing\n"
		"      --strict                the first bad line is fatal (exit 65)\n"
		"      --max-line SIZE         longest line accepted (default 1M)\n");
	tf_metrics_usage(f, 30);
	tf_options_usage(f, 30);
	fprintf(f, "\nExit status: 0 all delivered, 1 some failed, 2 usage.\n"
		   "See tf-notify(1).\n");
}

static int
from_argv(const struct config *c, const char *arg)
{
	int i;

	for (i = 0; i < c->argc; i++)
		if (arg >= c->argv[i] && arg <= c->argv[i] + strlen(c->argv[i]))
			return 1;
	return 0;
}

static int
push_str(char ***v, size_t *n, const char *s, size_t len)
{
	char **p = realloc(*v, (*n + 1) * sizeof *p);

	if (!p)
		return -1;
	*v = p;
	if (!(p[*n] = strndup(s, len)))
		return -1;
	(*n)++;
	return 0;
}

/* A list separated by commas or blanks, each item prefixed. */
static int
split_list(char ***v, size_t *n, const char *arg, const char *prefix)
{
	const char *p = arg;

	while (*p) {
		size_t k = strcspn(p, ", \t");
		char *item;

		if (k) {
			if (asprintf(&item, "%s%.*s", prefix, (int)k, p) < 0)
				return -1;
			if (push_str(v, n, item, strlen(item)) < 0) {
				free(item);
				return -1;
			}
			free(item);
		}
		p += k;
		p += strspn(p, ", \t");
	}
	return 0;
}

/* TF_WEBHOOK_HEADERS: headers separated by newlines, or by ';' where the
 * next part starts a new "Name:" (so "; charset=utf-8" stays). */
static int
split_headers(struct config *c, const char *v)
{
	const char *p = v;

	while (*p) {
		const char *e = p;
		size_t n;

		for (;; e++) {
			if (!*e || *e == '\n')
				break;
			if (*e == ';') {
				const char *q = e + 1;

				while (*q == ' ')
					q++;
				n = strcspn(q, ":; =\n");
				if (n && q[n] == ':')
					break;
			}
		}
		while (*p == ' ')
			p++;
		n = (size_t)(e - p);
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\r'))
			n--;
		if (n) {
			if (c->nheaders < MAX_HEADERS)
				c->secret_headers |= 1u << c->nheaders;
			if (push_str(&c->headers, &c->nheaders, p, n) < 0)
				return -1;
		}
		p = *e ? e + 1 : e;
	}
	return 0;
}

/* "slack=TEXT": the index of the channel named before '=' (and *arg moves
 * past it), else NCH: every channel. */
static int
per_channel(const char **arg)
{
	const char *eq = strchr(*arg, '=');
	const struct tf_channel_def *d;
	int i;

	if (!eq || !(d = tf_channel_find(*arg, (size_t)(eq - *arg))))
		return NCH;
	for (i = 0; tf_channels[i] != d; i++)
		;
	*arg = eq + 1;
	return i;
}

static int
set_option(int val, const char *arg, void *ctx, char *err, size_t errlen)
{
	struct config *c = ctx;
	uint64_t v;

	switch (val) {
	case 'c':
		c->channels = arg;
		break;
	case OPT_MIN_PRIORITY: {
		const char *eq = strchr(arg, '=');
		const char *p = eq ? eq + 1 : arg;
		int prio = tf_priority_parse(p, strlen(p));

		if (prio < 0) {
			tf_seterr(err, errlen, "--min-priority: '%s' is not "
				"low, medium, high or critical", p);
			return -1;
		}
		if (eq) {
			const struct tf_channel_def *d =
				tf_channel_find(arg, (size_t)(eq - arg));
			size_t i;

			for (i = 0; d && tf_channels[i] != d; i++)
				;
			if (!d) {
				tf_seterr(err, errlen, "--min-priority: no "
					"channel '%.*s'", (int)(eq - arg), arg);
				return -1;
			}
			c->min_prio[i] = prio;
		} else {
			c->min_prio_all = prio;
		}
		break;
	}
	case OPT_FILTER:
		c->filter = arg;
		break;
	case OPT_FORMAT:
		c->format = arg;
		break;
	case OPT_TITLE:
		c->title[per_channel(&arg)] = arg;
		break;
	case OPT_MESSAGE:
		c->message[per_channel(&arg)] = arg;
		break;
	case 'H':
		if (from_argv(c, arg)) {
			if (push_str(&c->headers, &c->nheaders, arg,
				    strlen(arg)) < 0)
				goto oom;
		} else if (split_headers(c, arg) < 0) {
			goto oom;
		}
		if (c->nheaders > MAX_HEADERS) {
			tf_seterr(err, errlen, "%sat most %d headers",
				from_argv(c, arg) ? "--header: " : "",
				MAX_HEADERS);
			return -1;
		}
		break;
	case OPT_CONNECT_TIMEOUT:
	case OPT_TIMEOUT:
	case OPT_DEADLINE:
	case OPT_DEDUPE_WINDOW:
	case OPT_BURST_WINDOW: {
		static const char *const names[] = { "--connect-timeout",
			"--timeout", "--deadline", "--dedupe-window",
			"--burst-window" };
		int k = val == OPT_CONNECT_TIMEOUT ? 0 : val == OPT_TIMEOUT ? 1 :
			val == OPT_DEADLINE ? 2 : val == OPT_DEDUPE_WINDOW ? 3 : 4;
		int64_t ns;

		if (tf_parse_duration(names[k], arg, &ns, err, errlen) < 0)
			return -1;
		if (ns < 0 || (k != 3 && ns < 1000000)) {
			tf_seterr(err, errlen, "%s: '%s' is too short",
				names[k], arg);
			return -1;
		}
		if (k == 0)
			c->dopts.connect_timeout_ns = ns;
		else if (k == 1)
			c->dopts.timeout_ns = ns;
		else if (k == 2)
			c->deadline = ns;
		else if (k == 3)
			c->dedupe_window = ns;
		else
			c->burst_window = ns;
		break;
	}
	case OPT_RETRIES:
		if (tf_parse_u64("--retries", arg, 0, 100, &v, err, errlen) < 0)
			return -1;
		c->dopts.retries = (unsigned)v;
		break;
	case OPT_MAX_QUEUE:
		if (tf_parse_u64("--max-queue", arg, 1, 1000000, &v, err,
			    errlen) < 0)
			return -1;
		c->max_queue = (size_t)v;
		break;
	case OPT_DEDUPE_KEY:
		c->dedupe_key = arg;
		break;
	case OPT_BURST:
		if (tf_parse_u64("--burst", arg, 0, 1000000, &v, err, errlen) <
		    0)
			return -1;
		c->burst = (unsigned)v;
		break;
	case 'n':
		c->dry_run = 1;
		break;
	case OPT_METRICS_FILE:
		return tf_metrics_set_path(&c->mf, arg, err, errlen);
	case OPT_METRICS_INTERVAL:
		return tf_metrics_set_interval(&c->mf, arg, err, errlen);
	case SET_SLACK_URL:
		c->cfg[CH_SLACK].url = arg;
		break;
	case SET_DISCORD_URL:
		c->cfg[CH_DISCORD].url = arg;
		break;
	case SET_TELEGRAM_API:
		c->cfg[CH_TELEGRAM].url = arg;
		break;
	case SET_TELEGRAM_TOKEN:
		c->cfg[CH_TELEGRAM].token = arg;
		break;
	case SET_TELEGRAM_GROUP_RATE: {
		/* "N/DURATION": at most N messages per DURATION per group. */
		const char *slash = strchr(arg, '/');
		char n[32];
		uint64_t k;
		int64_t w;

		if (!slash || (size_t)(slash - arg) >= sizeof n) {
			tf_seterr(err, errlen, "'%s' is not N/DURATION (20/1m)",
				arg);
			return -1;
		}
		memcpy(n, arg, (size_t)(slash - arg));
		n[slash - arg] = '\0';
		if (tf_parse_u64("messages", n, 1, 1000, &k, err, errlen) < 0 ||
		    tf_parse_duration("period", slash + 1, &w, err, errlen) < 0)
			return -1;
		if (w <= 0) {
			tf_seterr(err, errlen, "period: must be above 0");
			return -1;
		}
		c->cfg[CH_TELEGRAM].group_rate.n = (unsigned)k;
		c->cfg[CH_TELEGRAM].group_rate.window_ns = w;
		break;
	}
	case SET_TELEGRAM_CHATS: {
		const char *p = arg;

		while (*p) {
			size_t n = strcspn(p, ", \t");

			if (n && push_str(&c->chats, &c->nchats, p, n) < 0)
				goto oom;
			p += n;
			p += strspn(p, ", \t");
		}
		break;
	}
	case SET_WEBHOOK_URL:
		c->cfg[CH_WEBHOOK].url = arg;
		break;
	case OPT_PARALLEL:
		if (tf_parse_u64("--parallel", arg, 1, 1024, &v, err,
			    errlen) < 0)
			return -1;
		c->dopts.max_parallel = (size_t)v;
		break;
	case OPT_SMS_MAX_SEGMENTS:
		if (tf_parse_u64("--sms-max-segments", arg, 1, 10, &v, err,
			    errlen) < 0)
			return -1;
		c->sms_max_segments = (unsigned)v;
		break;
	case SET_SMTP_URL:
		c->cfg[CH_EMAIL].url = arg;
		break;
	case SET_SMTP_USER:
		c->cfg[CH_EMAIL].user = arg;
		break;
	case SET_SMTP_CA_FILE:
		c->cfg[CH_EMAIL].ca_file = arg;
		break;
	case SET_SMTP_STARTTLS:
		c->cfg[CH_EMAIL].starttls = arg;
		break;
	case SET_SMTP_PASSWORD:
		c->cfg[CH_EMAIL].password = arg;
		break;
	case SET_EMAIL_FROM:
		c->cfg[CH_EMAIL].from = arg;
		break;
	case SET_EMAIL_TO:
		if (split_list(&c->email_to, &c->nemail_to, arg, "") < 0)
			goto oom;
		break;
	case SET_EMAIL_CC:
	case SET_EMAIL_BCC:
		if (split_list(&c->email_cc, &c->nemail_cc, arg,
			    val == SET_EMAIL_CC ? "Cc: " : "Bcc: ") < 0)
			goto oom;
		break;
	case SET_TWILIO_API:
		c->cfg[CH_SMS].url = arg;
		break;
	case SET_TWILIO_SID:
		c->cfg[CH_SMS].user = arg;
		break;
	case SET_TWILIO_TOKEN:
		c->cfg[CH_SMS].token = arg;
		break;
	case SET_TWILIO_FROM:
		c->cfg[CH_SMS].from = arg;
		break;
	case SET_SMS_TO:
		if (split_list(&c->sms_to, &c->nsms_to, arg, "") < 0)
			goto oom;
		break;
	}
	return 0;
oom:
	tf_seterr(err, errlen, "out of memory");
	return -1;
}

/* Every diagnostic that may quote a setting, a line or a service's answer
 * goes through here: formatted whole (a cut first could leave part of a
 * secret), then every configured secret masked. level 0: error, 1:
 * warning. */
static void say(const struct config *c, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
say(const struct config *c, int level, const char *fmt, ...)
{
	char *text = NULL, *m = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0 || !(m = tf_redact(c->rd, text, (size_t)n, NULL)))
		tf_error("out of memory");
	else if (level == 0)
		tf_error("%s", m);
	else
		tf_warn("%s", m);
	free(m);
	if (n >= 0)
		free(text);
}

/* tf_usage_error with every configured secret masked. Returns 2. */
static int
usage_error(const struct config *c, const char *what)
{
	char *m = tf_redact(c->rd, what, strlen(what), NULL);
	int rc = tf_usage_error(m ? m : "out of memory");

	free(m);
	return rc;
}

/* The config file that was read, by lib/opts' rule: --config, TF_CONFIG,
 * else $XDG_CONFIG_HOME/tf/tf.conf or ~/.config/tf/tf.conf. */
static void
check_config_mode(const struct config *c)
{
	static const char *const secret[] = { "TF_TELEGRAM_BOT_TOKEN",
		"TF_SLACK_WEBHOOK_URL", "TF_DISCORD_WEBHOOK_URL",
		"TF_WEBHOOK_URL", "TF_WEBHOOK_HEADERS", "TF_SMTP_PASSWORD",
		"TF_TWILIO_AUTH_TOKEN", NULL };
	const char *path = c->common.config ? c->common.config :
		getenv("TF_CONFIG");
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char buf[4096], line[4096];
	struct stat st;
	FILE *f;
	int holds = 0;

	if (!path) {
		if (xdg && *xdg)
			snprintf(buf, sizeof buf, "%s/tf/tf.conf", xdg);
		else if (home)
			snprintf(buf, sizeof buf, "%s/.config/tf/tf.conf", home);
		else
			return;
		path = buf;
	}
	if (stat(path, &st) < 0 || !(st.st_mode & 077) ||
	    !(f = fopen(path, "r")))
		return;
	while (!holds && fgets(line, sizeof line, f)) {
		size_t i;

		for (i = 0; secret[i]; i++)
			if (strstr(line, secret[i]))
				holds = 1;
	}
	fclose(f);
	if (holds)
		tf_warn("%s is readable by others and holds secrets; chmod "
			"600 it", path);
}

/* Picks the channels: --channel, else every configured one; and builds
 * c->rd from the secrets of every channel. Returns 0, or 2 after
 * reporting (1 when out of memory). */
static int
choose_channels(struct run *st)
{
	struct config *c = st->c;
	char err[512];
	size_t i;
	int any = 0;

	c->cfg[CH_TELEGRAM].targets = (const char *const *)c->chats;
	c->cfg[CH_TELEGRAM].ntargets = c->nchats;
	c->cfg[CH_WEBHOOK].headers = (const char *const *)c->headers;
	c->cfg[CH_WEBHOOK].nheaders = c->nheaders;
	c->cfg[CH_WEBHOOK].secret_headers = c->secret_headers;
	c->cfg[CH_WEBHOOK].parallel = (unsigned)c->dopts.max_parallel;
	c->cfg[CH_EMAIL].targets = (const char *const *)c->email_to;
	c->cfg[CH_EMAIL].ntargets = c->nemail_to;
	c->cfg[CH_EMAIL].headers = (const char *const *)c->email_cc;
	c->cfg[CH_EMAIL].nheaders = c->nemail_cc;
	c->cfg[CH_SMS].targets = (const char *const *)c->sms_to;
	c->cfg[CH_SMS].ntargets = c->nsms_to;
	snprintf(c->sms_opt, sizeof c->sms_opt, "Max-Segments: %u",
		c->sms_max_segments);
	c->sms_opts[0] = c->sms_opt;
	c->cfg[CH_SMS].headers = c->sms_opts;
	c->cfg[CH_SMS].nheaders = 1;
	/* Every secret of every channel, used or not, before anything that
	 * could quote a setting is printed. */
	if (!(c->rd = tf_redact_create())) {
		tf_error("out of memory");
		return 1;
	}
	for (i = 0; i < NCH; i++)
		if (tf_channels[i]->secrets &&
		    tf_channels[i]->secrets(&c->cfg[i], c->rd) < 0) {
			tf_error("out of memory");
			return 1;
		}
	c->dopts.redact = c->rd;
	for (i = 0; i < NCH; i++) {
		st->ch[i].def = tf_channels[i];
		st->ch[i].cfg = c->cfg[i];
		st->ch[i].min_priority = c->min_prio[i] >= 0 ?
			c->min_prio[i] : c->min_prio_all;
	}
	if (c->channels) {
		const char *p = c->channels;

		while (*p) {
			size_t n = strcspn(p, ", ");
			const struct tf_channel_def *d = tf_channel_find(p, n);
			char what[600];

			if (n) {
				for (i = 0; d && tf_channels[i] != d; i++)
					;
				if (!d) {
					snprintf(what, sizeof what, "--channel: "
						"no channel '%.*s' (slack, "
						"discord, telegram, webhook, "
						"email, sms)",
						(int)n, p);
					return tf_usage_error(what);
				}
				if (!d->check) {
					snprintf(what, sizeof what, "--channel: "
						"%s is not yet available",
						d->name);
					return tf_usage_error(what);
				}
				if (d->check(&c->cfg[i], err, sizeof err) < 0) {
					snprintf(what, sizeof what,
						"--channel: %s", err);
					return usage_error(c, what);
				}
				st->active[i] = any = 1;
			}
			p += n;
			p += strspn(p, ", ");
		}
		if (!any)
			return tf_usage_error("--channel: no channel named");
		return 0;
	}
	for (i = 0; i < NCH; i++) {
		const struct tf_channel_def *d = tf_channels[i];
		int set = c->cfg[i].url || c->cfg[i].token || c->cfg[i].ntargets;

		/* TF_TELEGRAM_API_URL alone does not configure telegram. */
		if (i == CH_TELEGRAM)
			set = c->cfg[i].token || c->cfg[i].ntargets;
		/* Nor does TF_TWILIO_API_URL sms. */
		if (i == CH_SMS)
			set = c->cfg[i].user || c->cfg[i].token ||
				c->cfg[i].ntargets;
		if (!d->check || !set)
			continue;
		if (d->check(&c->cfg[i], err, sizeof err) < 0) {
			say(c, 0, "%s", err);
			return 2;
		}
		st->active[i] = any = 1;
	}
	if (!any)
		return tf_usage_error("no channel configured: set "
				      "TF_SLACK_WEBHOOK_URL, "
				      "TF_DISCORD_WEBHOOK_URL, TF_WEBHOOK_URL, "
				      "TF_TELEGRAM_BOT_TOKEN and "
				      "TF_TELEGRAM_CHAT_IDS, TF_SMTP_URL or "
				      "TF_TWILIO_ACCOUNT_SID");
	return 0;
}

/* The index of a channel by its name (a report's), or NCH. */
static size_t
channel_index(const char *name)
{
	size_t i;

	for (i = 0; i < NCH && strcmp(tf_channels[i]->name, name); i++)
		;
	return i;
}

static void
flush_output(struct run *st)
{
	if ((fflush(stdout) != 0 || ferror(stdout)) && !st->out_failed) {
		tf_error("stdout: %s", strerror(errno));
		st->out_failed = 1;
	}
}

/* Writes a report line; a failure also goes to stderr. */
static void
write_report(struct run *st, const struct tf_report *r, const char *status,
	const char *error)
{
	char *json = tf_report_json(r, status, error, st->c->rd);
	size_t i;

	if (!error)
		error = r->error;
	if (json) {
		fputs(json, stdout);
		putchar('\n');
		free(json);
	} else {
		tf_error("out of memory");
	}
	i = channel_index(r->channel);
	if (!strcmp(status, "sent")) {
		st->sent++;
		if (i < NCH)
			st->reports[i][R_SENT]++;
	} else if (!strcmp(status, "skipped")) {
		if (i < NCH)
			st->reports[i][R_SKIPPED]++;
	} else if (!strcmp(status, "failed")) {
		st->failed++;
		if (i < NCH)
			st->reports[i][R_FAILED]++;
		say(st->c, 1, "line %llu: %s %s: %s",
			(unsigned long long)r->line,
			r->channel, r->destination ? r->destination : "",
			error ? error : "failed");
	}
	if (ferror(stdout))
		flush_output(st);
}

static void
on_done(struct tf_request *req, const struct tf_result *res, void *arg)
{
	struct run *st = arg;
	struct tf_report *r = req->tag;
	size_t i = channel_index(r->channel);

	if (i < NCH && res->attempts > 1)
		st->retries[i] += res->attempts - 1;
	if (!tf_report_add(r, res))
		return;
	write_report(st, r, r->failed ? "failed" : "sent", NULL);
	st->queued--;
	tf_report_destroy(r);
}

/* A report with no request behind it: skipped or failed at once. */
static void
report_now(struct run *st, const char *channel, uint64_t line,
	const char *id, const char *status, const char *error)
{
	struct tf_report r = { .channel = channel, .line = line,
		.id = (char *)id };

	write_report(st, &r, status, error);
}

/* Sends one notice to one channel: its requests, grouped into one report
 * per destination. */
static void
send_channel(struct run *st, struct tf_channel *ch, const struct tf_notice *n,
	const char *id)
{
	struct tf_request **reqs = NULL;
	size_t count = 0, i, j;
	char err[512];

	if (n->priority < ch->min_priority) {
		report_now(st, ch->def->name, n->id, id, "skipped",
			"below --min-priority");
		return;
	}
	if (st->queued >= st->c->max_queue) {
		report_now(st, ch->def->name, n->id, id, "failed",
			"queue full (--max-queue)");
		return;
	}
	if (ch->def->render(ch, n, &reqs, &count, err, sizeof err) < 0) {
		report_now(st, ch->def->name, n->id, id, "failed", err);
		free(reqs);
		return;
	}
	for (i = 0; i < count; i = j) {
		struct tf_report *r = NULL;

		for (j = i + 1; j < count && !strcmp(reqs[j]->destination,
			reqs[i]->destination); j++)
			;
		if (!st->c->dry_run && !(r = tf_report_create(ch->def->name,
			    reqs[i]->destination, id, n->id,
			    (unsigned)(j - i))))
			report_now(st, ch->def->name, n->id, id, "failed",
				"out of memory");
		if (!r) {
			for (; i < j; i++) {
				char *d = st->c->dry_run ?
					tf_request_describe(reqs[i],
						st->c->rd) : NULL;

				if (d) {
					puts(d);
					free(d);
				}
				tf_request_destroy(reqs[i]);
			}
			continue;
		}
		st->queued++;
		for (; i < j; i++) {
			reqs[i]->tag = r;
			tf_deliver_submit(st->d, reqs[i]);
		}
	}
	free(reqs);
}

/* The message without what the title already says. An alert with only a
 * message gets its first line as title (lib/notify_text.c), and every
 * channel shows a title and then the message: Slack's text was "disk 95%:
 * disk 95%", an SMS paid for the line twice. */
static const char *
after_title(const char *title, const char *message)
{
	size_t n = strlen(title);

	if (!n || strncmp(message, title, n) ||
	    (message[n] && message[n] != '\n'))
		return message;
	return message + n + (message[n] == '\n');
}

/* Everything one good line goes through: filter, priority, text,
 * dedupe, burst, then each channel. */
static void
notify(struct run *st, const char *line, size_t len, uint64_t no,
	const struct tf_event *ev, int summary)
{
	static char title[TITLE_SIZE], message[MESSAGE_SIZE];
	char err[512], type[128] = "", *id = NULL, *body = NULL;
	struct tf_notice n = { .line = line, .len = len, .id = no };
	int64_t now = tf_mono_ns();
	const char *skip = NULL;
	size_t i;

	if (!summary && st->filter) {
		int m = tf_filter_match(st->filter, line, len, err, sizeof err);

		if (m < 0)
			say(st->c, 1, "line %llu: --filter: %s (skipped)",
				(unsigned long long)no, err);
		if (m <= 0)
			return;
	}
	n.priority = ev && ev->priority.kind == TF_JSON_STRING ?
		tf_priority_parse(ev->priority.p, ev->priority.n) : -1;
	if (n.priority < 0)
		n.priority = TF_PRIO_MEDIUM;
	if (ev && ev->type.kind == TF_JSON_STRING)
		tf_span_string(&ev->type, type, sizeof type);
	n.type = type;
	tf_notify_text_render(st->text, line, len, n.priority, no, title,
		sizeof title, message, sizeof message);
	n.title = title;
	n.message = after_title(title, message);
	id = summary ? strdup("\"summary\"") : tf_report_alert_id(line, len);

	if (!summary && st->dedupe) {
		char *key = NULL;
		size_t kn = 0;

		if (st->dedupe_key) {
			key = tf_notify_jq_text(st->dedupe_key, line, len, &kn,
				err, sizeof err);
			if (!key)
				say(st->c, 1, "line %llu: --dedupe-key: %s",
					(unsigned long long)no, err);
		} else {
			char sym[256] = "";

			if (ev && ev->symbol.kind == TF_JSON_STRING)
				tf_span_string(&ev->symbol, sym, sizeof sym);
			if (asprintf(&key, "%s\x1f%s\x1f%s", type, sym,
				    title) < 0)
				key = NULL;
			kn = key ? strlen(key) : 0;
		}
		if (key && tf_dedupe_seen(st->dedupe, key, kn, now))
			skip = "duplicate within --dedupe-window";
		free(key);
	}
	if (!summary && !skip && !tf_burst_admit(&st->burst, now, title,
					n.priority))
		skip = "held for the --burst summary";
	if (!skip && st->format) {
		body = tf_notify_jq_text(st->format, line, len, &n.body_len,
			err, sizeof err);
		if (!body && st->active[CH_WEBHOOK])
			report_now(st, "webhook", no, id, "failed", err);
		n.body = body;
	}
	for (i = 0; i < NCH; i++) {
		struct tf_notice own = n;

		if (!st->active[i])
			continue;
		if (skip) {
			report_now(st, tf_channels[i]->name, no, id, "skipped",
				skip);
			continue;
		}
		if (i == CH_WEBHOOK && st->format && !body)
			continue;
		if (st->ch_text[i]) {
			static char t2[TITLE_SIZE], m2[MESSAGE_SIZE];

			tf_notify_text_render(st->ch_text[i], line, len,
				n.priority, no, t2, sizeof t2, m2, sizeof m2);
			own.title = t2;
			own.message = after_title(t2, m2);
		}
		send_channel(st, &st->ch[i], &own, id);
	}
	free(body);
	free(id);
}

static void
burst_check(struct run *st, int force)
{
	char line[4096];
	struct tf_event ev;

	if (tf_burst_summary(&st->burst, tf_mono_ns(), force, line,
		    sizeof line)) {
		st->summaries++;
		if (tf_event_scan(line, strlen(line), &ev, NULL) == TF_SCAN_OK)
			notify(st, line, strlen(line), 0, &ev, 1);
	}
}

enum { METRICS_START, METRICS_RUNNING, METRICS_FINAL };

/* Writes --metrics-file, when asked for: at the start (which finds an
 * unwritable path before any work), while running, and a last time with
 * how the run ended (exit status rc). Returns 0, or -1 when the write
 * failed (reported; while running, an error the first time, then quiet
 * until a write works again). */
static int
write_metrics(struct run *st, int when, int rc)
{
	static const char *const results[NRESULTS] = { "sent", "failed",
		"skipped" };
	struct config *c = st->c;
	const struct tf_metrics_common com = { "tf-notify", st->start_ns,
		st->lines + st->skipped, st->skipped };
	struct tf_metrics *m = st->m;
	size_t i, k;

	if (!m)
		return 0;
	tf_metrics_clear(m);
	tf_metrics_common(m, &com);
	/* Every channel in use with every result from the start, so that a
	 * rate sees the first failure. */
	tf_metrics_family(m, "tf_notify_deliveries_total", TF_METRIC_COUNTER,
		"Delivery reports, one per alert and destination, by channel "
		"and result: sent, failed or skipped.");
	for (i = 0; i < NCH; i++)
		for (k = 0; k < NRESULTS && st->active[i]; k++)
			tf_metrics_u64(m, (const char *[]){ "channel",
				tf_channels[i]->name, "result", results[k],
				NULL }, st->reports[i][k]);
	tf_metrics_family(m, "tf_notify_retries_total", TF_METRIC_COUNTER,
		"Attempts after the first, by channel: network errors, 5xx "
		"and 429 answers.");
	for (i = 0; i < NCH; i++)
		if (st->active[i])
			tf_metrics_u64(m, (const char *[]){ "channel",
				tf_channels[i]->name, NULL }, st->retries[i]);
	tf_metrics_gauge(m, "tf_notify_pending_deliveries",
		"Requests queued, waiting for a retry or in flight.",
		st->d ? (double)tf_deliver_pending(st->d) : 0);
	tf_metrics_counter(m, "tf_notify_burst_summaries_total",
		"Summaries sent for alerts held back by --burst.",
		st->summaries);
	if (when == METRICS_FINAL)
		tf_metrics_last_run(m, rc, tf_now_ns() - st->start_ns);
	return tf_metrics_file_report(&c->mf, m, when == METRICS_RUNNING,
		"delivering");
}

/* Input has ended (or a stop signal came) and deliveries are left: says
 * so once they have taken SAY_WAITING_NS, and again at each stop signal,
 * with how many and for how long at most. *said is tf_signal_stops() when
 * it last spoke (-1: not yet); stops0 what it was when reading ended. */
static void
say_waiting(struct run *st, int64_t since, int64_t end_by, int stops0,
	int *said)
{
	int64_t now = tf_mono_ns();
	int stops = tf_signal_stops();
	size_t n = tf_deliver_pending(st->d);
	char left[32];

	if (stops == *said || (now < since + SAY_WAITING_NS && stops == stops0))
		return;
	*said = stops;
	tf_format_duration(end_by > now ? end_by - now : 0, left, sizeof left);
	tf_warn("waiting for %zu deliver%s, at most %s more (--deadline); "
		"interrupt %s to stop waiting", n, n == 1 ? "y" : "ies", left,
		stops ? "again" : "twice");
}

/* Reads and sends until input ends (or a signal), then finishes within
 * the deadline, or until a second stop signal. Returns 0, 1 (input
 * error) or 65 (--strict). */
static int
notify_loop(struct run *st, struct tf_reader *rd)
{
	struct config *c = st->c;
	struct pollfd fds[MAX_FDS];
	int reading = 1, rc = 0, stops0 = 0, said = -1;
	int64_t end_by = 0, since = 0;
	struct tf_line l;
	struct tf_event ev;
	char why[256];

	for (;;) {
		size_t nfds = 0, nd;
		int64_t timeout, due;

		while (reading && tf_reader_next(rd, &l)) {
			int k = tf_event_check(&l, &ev, why, sizeof why);

			if (k == 1)
				continue;
			if (k < 0) {
				st->skipped++;
				if (c->common.strict) {
					say(c, 0, "line %llu: %s",
						(unsigned long long)l.no, why);
					reading = 0;
					rc = 65;
					break;
				}
				say(c, 1, "line %llu: %s (skipped)",
					(unsigned long long)l.no, why);
				continue;
			}
			st->lines++;
			notify(st, l.data, l.len, l.no, &ev, 0);
		}
		if (reading && (tf_reader_eof(rd) || tf_signal_stop())) {
			reading = 0;
			if (tf_signal_stop())
				tf_info("stopping: finishing deliveries");
		}
		burst_check(st, !reading);
		if (!reading && !end_by) {
			since = tf_mono_ns();
			end_by = since + c->deadline;
			stops0 = tf_signal_stops();
			tf_deliver_set_deadline(st->d, end_by);
		}
		if (!reading && !tf_deliver_pending(st->d))
			break;
		/* A first stop signal lets the deliveries finish; one more
		 * gives up on them. */
		if (!reading && tf_signal_stops() >= 2) {
			size_t n = tf_deliver_pending(st->d);

			tf_error("interrupted again: %zu deliver%s not "
				 "delivered", n, n == 1 ? "y" : "ies");
			tf_deliver_abort(st->d, "not delivered: interrupted "
						"while waiting");
			break;
		}
		if (end_by && tf_mono_ns() >= end_by) {
			char msg[128], d[32];

			tf_format_duration(c->deadline, d, sizeof d);
			snprintf(msg, sizeof msg, "deadline reached "
				"(--deadline %s)", d);
			tf_deliver_abort(st->d, msg);
			break;
		}
		if (!reading)
			say_waiting(st, since, end_by, stops0, &said);
		if (tf_metrics_file_due(&c->mf, tf_mono_ns()))
			write_metrics(st, METRICS_RUNNING, 0);
		flush_output(st);
		if (reading) {
			fds[0].fd = STDIN_FILENO;
			fds[0].events = POLLIN;
			fds[0].revents = 0;
			nfds = 1;
		}
		nd = tf_deliver_pollfds(st->d, fds + nfds, MAX_FDS - nfds,
			&timeout);
		due = tf_burst_due(&st->burst);
		if (due >= 0) {
			int64_t t = due - tf_mono_ns();

			if (t < 0)
				t = 0;
			if (timeout < 0 || t < timeout)
				timeout = t;
		}
		if (end_by) {
			int64_t t = end_by - tf_mono_ns();

			if (t < 0)
				t = 0;
			if (timeout < 0 || t < timeout)
				timeout = t;
			/* Wake to say that it waits. */
			t = since + SAY_WAITING_NS - tf_mono_ns();
			if (said < 0 && t > 0 && (timeout < 0 || t < timeout))
				timeout = t;
		}
		{
			int64_t t = tf_metrics_file_timeout(&c->mf,
				tf_mono_ns());

			if (t >= 0 && (timeout < 0 || t < timeout))
				timeout = t;
		}
		if (tf_signal_wait(fds, nfds + nd, timeout) < 0 &&
		    errno != EINTR) {
			tf_error("poll: %s", strerror(errno));
			return 1;
		}
		if (reading && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t got = tf_reader_fill(rd);

			if (got < 0 && errno != EINTR && errno != EAGAIN) {
				tf_error("stdin: %s", strerror(errno));
				rc = 1;
				reading = 0;
			}
		}
		tf_deliver_run(st->d, fds + nfds, nd);
	}
	return rc;
}

static int
run(struct config *c)
{
	struct run st = { .c = c, .start_ns = tf_now_ns() };
	struct tf_reader *rd = NULL;
	char err[1024];
	size_t i;
	int rc;

	if ((rc = choose_channels(&st)) != 0)
		return rc;
	if (c->mf.path) {
		if (!(st.m = tf_metrics_file_builder(&c->mf, "tf-notify", 0, err,
			      sizeof err))) {
			tf_error("--metrics-file: %s", err);
			return 1;
		}
		/* An unwritable path is found now, before any work. */
		if (write_metrics(&st, METRICS_START, 0) < 0) {
			tf_metrics_destroy(st.m);
			return 2;
		}
	}
	rc = 2;
	if (c->filter && !(st.filter = tf_filter_create(c->filter, err,
				   sizeof err))) {
		char what[1100];

		snprintf(what, sizeof what, "--filter: %s", err);
		rc = usage_error(c, what);
		goto out;
	}
	if (c->format && !(st.format = tf_notify_jq_create(c->format, err,
				   sizeof err))) {
		char what[1100];

		snprintf(what, sizeof what, "--format: %s", err);
		rc = usage_error(c, what);
		goto out;
	}
	if (c->dedupe_key && !(st.dedupe_key = tf_notify_jq_create(
				       c->dedupe_key, err, sizeof err))) {
		char what[1100];

		snprintf(what, sizeof what, "--dedupe-key: %s", err);
		rc = usage_error(c, what);
		goto out;
	}
	if (!(st.text = tf_notify_text_create(c->title[NCH], c->message[NCH],
		      err, sizeof err))) {
		rc = usage_error(c, err);
		goto out;
	}
	for (i = 0; i < NCH; i++) {
		const char *t = c->title[i] ? c->title[i] : c->title[NCH];
		const char *m = c->message[i] ? c->message[i] : c->message[NCH];

		if ((c->title[i] || c->message[i]) && !(st.ch_text[i] =
			tf_notify_text_create(t, m, err, sizeof err))) {
			rc = usage_error(c, err);
			goto out;
		}
	}
	rc = 1;
	if (c->dedupe_window > 0 &&
	    !(st.dedupe = tf_dedupe_create(c->dedupe_window, DEDUPE_KEYS))) {
		tf_error("out of memory");
		goto out;
	}
	st.burst.limit = c->burst;
	st.burst.window_ns = c->burst_window;
	if (!(st.d = tf_deliver_create(&c->dopts, on_done, &st, err,
		      sizeof err)) ||
	    !(rd = tf_reader_create(STDIN_FILENO, c->common.max_line))) {
		tf_error("%s", st.d ? "out of memory" : err);
		goto out;
	}
	rc = notify_loop(&st, rd);
	flush_output(&st);
	tf_info("%llu line%s, %llu sent, %llu failed, %llu bad line%s",
		(unsigned long long)st.lines, st.lines == 1 ? "" : "s",
		(unsigned long long)st.sent, (unsigned long long)st.failed,
		(unsigned long long)st.skipped, st.skipped == 1 ? "" : "s");
	if (rc == 0 && (st.failed || st.out_failed))
		rc = 1;
out:
	if (write_metrics(&st, METRICS_FINAL, rc) < 0 && !rc)
		rc = 1;
	tf_metrics_destroy(st.m);
	tf_deliver_destroy(st.d);
	tf_reader_destroy(rd);
	tf_filter_destroy(st.filter);
	tf_notify_jq_destroy(st.format);
	tf_notify_jq_destroy(st.dedupe_key);
	tf_notify_text_destroy(st.text);
	for (i = 0; i < NCH; i++)
		tf_notify_text_destroy(st.ch_text[i]);
	tf_dedupe_destroy(st.dedupe);
	return rc;
}

int
main(int argc, char **argv)
{
	static char outbuf[1 << 16];
	struct config c = {
		.min_prio = { -1, -1, -1, -1, -1, -1 },
		.min_prio_all = TF_PRIO_LOW,
		.deadline = 60000000000LL,
		.burst_window = 60000000000LL,
		.max_queue = 1000,
		.sms_max_segments = 4,
		.dopts = {
			.connect_timeout_ns = 10000000000LL,
			.timeout_ns = 30000000000LL,
			.retries = 3,
			.backoff_ns = 500000000LL,
			.backoff_max_ns = 30000000000LL,
			.max_retry_after_ns = 300000000000LL,
			.max_parallel = 16,
		},
		.argv = argv,
		.argc = argc,
		.mf = { .interval_ns = TF_METRICS_INTERVAL_DEFAULT },
	};
	char err[512];
	int first, rc;
	size_t i;

	tf_log_init(argv[0]);
	if (tf_options_parse(argc, argv, options, set_option, &c, &c.common,
		    &first, err, sizeof err) < 0) {
		rc = tf_usage_error(err);
		goto out;
	}
	if (tf_options_answer(&c.common, usage)) {
		rc = 0;
		goto out;
	}
	if (first < argc) {
		snprintf(err, sizeof err, "unexpected argument '%s'",
			argv[first]);
		rc = tf_usage_error(err);
		goto out;
	}
	check_config_mode(&c);
	setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
	tf_signals_init();
	rc = run(&c);
	if (fclose(stdout) != 0 && rc == 0) {
		tf_error("stdout: %s", strerror(errno));
		rc = 1;
	}
	tf_deliver_global_cleanup();
out:
	for (i = 0; i < c.nchats; i++)
		free(c.chats[i]);
	free(c.chats);
	for (i = 0; i < c.nheaders; i++)
		free(c.headers[i]);
	free(c.headers);
	for (i = 0; i < c.nemail_to; i++)
		free(c.email_to[i]);
	free(c.email_to);
	for (i = 0; i < c.nemail_cc; i++)
		free(c.email_cc[i]);
	free(c.email_cc);
	for (i = 0; i < c.nsms_to; i++)
		free(c.sms_to[i]);
	free(c.sms_to);
	tf_redact_destroy(c.rd);
	tf_options_free();
	return rc;
}
