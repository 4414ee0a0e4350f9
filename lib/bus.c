/* bus.c: the NATS side tf-pub and tf-sub share: their connection options,
 * the connection and its events, the stream, subjects and epochs. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "log.h"

enum {
	OPT_SERVER = TF_BUS_OPT_BASE,
	OPT_STREAM,
	OPT_PREFIX,
	OPT_CREDS,
	OPT_TLS_CA,
	SET_TOKEN,
	SET_USER,
	SET_PASSWORD,
	OPT_END
};

_Static_assert(OPT_END - TF_BUS_OPT_BASE == TF_BUS_NOPTS,
	"TF_BUS_NOPTS counts the options");

/* The secrets are settings only: their names hold '=', which no flag can
 * match, so they come from the environment or the config file. */
static const struct tf_option table[] = {
	{ "server", required_argument, 's', "TF_NATS_URL" },
	{ "stream", required_argument, OPT_STREAM, "TF_NATS_STREAM" },
	{ "subject-prefix", required_argument, OPT_PREFIX,
		"TF_NATS_SUBJECT_PREFIX" },
	{ "creds", required_argument, OPT_CREDS, "TF_NATS_CREDS" },
	{ "tls-ca", required_argument, OPT_TLS_CA, "TF_NATS_TLS_CA" },
	{ "=nats-token", required_argument, SET_TOKEN, "TF_NATS_TOKEN" },
	{ "=nats-user", required_argument, SET_USER, "TF_NATS_USER" },
	{ "=nats-password", required_argument, SET_PASSWORD,
		"TF_NATS_PASSWORD" },
};

_Static_assert(sizeof table / sizeof table[0] == TF_BUS_NOPTS,
	"one table row per option");

void
tf_bus_config_init(struct tf_bus_config *c)
{
	memset(c, 0, sizeof *c);
	c->servers = "nats://127.0.0.1:4222";
	c->stream = "TF";
	c->prefix = "tf";
}

void
tf_bus_options(struct tf_option *opts)
{
	memcpy(opts, table, sizeof table);
}

/* The authority of a URL: after "scheme://" up to the path. */
static const char *
authority(const char *url, size_t *n)
{
	const char *p = strstr(url, "://"), *e;

	p = p ? p + 3 : url;
	e = p + strcspn(p, "/,");
	*n = (size_t)(e - p);
	return p;
}

/* Each URL of a comma list: nats:// or tls:// (or none: nats://), a host,
 * no spaces. */
static int
check_servers(const char *list, char *err, size_t errlen)
{
	const char *p = list;
	int n = 0;

	do {
		size_t len = strcspn(p, ","), an;
		const char *s = strstr(p, "://"), *a;

		if (s && s < p + len && !(s - p == 4 && !strncmp(p, "nats", 4)) &&
		    !(s - p == 3 && !strncmp(p, "tls", 3))) {
			tf_seterr(err, errlen, "--server: '%.*s': the scheme "
				"must be nats:// or tls://", (int)(s - p), p);
			return -1;
		}
		a = authority(p, &an);
		if (len == 0 || an == 0 || a >= p + len) {
			tf_seterr(err, errlen, "--server: an empty URL in '%s'",
				list);
			return -1;
		}
		if (strcspn(p, " \t\r\n") < len) {
			tf_seterr(err, errlen, "--server: a URL holds a space");
			return -1;
		}
		if (++n > TF_BUS_MAX_SERVERS) {
			tf_seterr(err, errlen, "--server: more than %d URLs",
				TF_BUS_MAX_SERVERS);
			return -1;
		}
		p += len;
	} while (*p++ == ',');
	return 0;
}

int
tf_bus_set(struct tf_bus_config *c, int val, const char *arg, char *err,
	size_t errlen)
{
	switch (val) {
	case 's':
		if (check_servers(arg, err, errlen) < 0)
			return -1;
		c->servers = arg;
		return 0;
	case OPT_STREAM:
		if (tf_bus_stream_check(arg, err, errlen) < 0)
			return -1;
		c->stream = arg;
		return 0;
	case OPT_PREFIX:
		if (tf_bus_prefix_check(arg, err, errlen) < 0)
			return -1;
		c->prefix = arg;
		return 0;
	case OPT_CREDS:
		c->creds = arg;
		return 0;
	case OPT_TLS_CA:
		c->tls_ca = arg;
		return 0;
	case SET_TOKEN:
		c->token = *arg ? arg : NULL;
		return 0;
	case SET_USER:
		c->user = *arg ? arg : NULL;
		return 0;
	case SET_PASSWORD:
		c->password = arg;
		return 0;
	}
	return 1;
}

/* Does p point into one of the argv strings? */
static int
in_argv(const char *p, int argc, char **argv)
{
	int i;

	for (i = 0; i < argc; i++)
		if (p >= argv[i] && p <= argv[i] + strlen(argv[i]))
			return 1;
	return 0;
}

int
tf_bus_check(const struct tf_bus_config *c, int argc, char **argv,
	char *err, size_t errlen)
{
	const char *p = c->servers;

	if (c->user && !c->password) {
		tf_seterr(err, errlen, "TF_NATS_USER is set but not "
			"TF_NATS_PASSWORD");
		return -1;
	}
	if (c->token && c->user) {
		tf_seterr(err, errlen, "TF_NATS_TOKEN and TF_NATS_USER "
			"exclude each other");
		return -1;
	}
	if (!in_argv(p, argc, argv))
		return 0;
	do {
		size_t an;
		const char *a = authority(p, &an);

		if (memchr(a, '@', an)) {
			tf_seterr(err, errlen, "--server: a URL with "
				"credentials on the command line is visible to "
				"every user; put them in TF_NATS_USER and "
				"TF_NATS_PASSWORD (environment or config file), "
				"or the URL in TF_NATS_URL");
			return -1;
		}
		p += strcspn(p, ",");
	} while (*p++ == ',');
	return 0;
}

void
tf_bus_usage(FILE *f)
{
	fprintf(f,
		"  -s, --server URLS    NATS servers, comma-separated (default\n"
		"                       nats://127.0.0.1:4222; tls:// for TLS)\n"
		"      --stream NAME    the JetStream stream (default TF)\n"
		"      --subject-prefix P  subjects are P.TOPIC (default tf)\n"
		"      --creds FILE     NATS credentials file (JWT and NKey seed)\n"
		"      --tls-ca FILE    CA certificates (PEM) to verify servers\n");
}

void
tf_bus_redact(const char *url, char *buf, size_t size)
{
	size_t an;
	const char *a = authority(url, &an);
	const char *at = memchr(a, '@', an);

	if (!size)
		return;
	if (!at) {
		snprintf(buf, size, "%s", url);
		return;
	}
	snprintf(buf, size, "%.*s***%s", (int)(a - url), url, at);
}

/* ---- the connection ------------------------------------------------- */

struct tf_bus {
	natsOptions *opts;
	natsConnection *nc;
	jsCtx *js;
	tf_bus_event_fn *fn;
	void *arg;
	char url[512];
	/* nats.c runs the closed callback on its own thread after
	 * natsConnection_Close returns: destroy waits for it, the last
	 * callback of a connection, before freeing what it uses. */
	pthread_mutex_t mu;
	pthread_cond_t cond;
	int closed;
};

void
tf_bus_error(char *err, size_t errlen, const char *what, natsStatus s)
{
	natsStatus last;
	const char *text = nats_GetLastError(&last);

	/* nats.c's last error names the cause ("Connection refused",
	 * "Authorization Violation"); its status text is the fallback. */
	if (!text || !*text || last != s)
		text = natsStatus_GetText(s);
	/* Without nats.c's "(file.c:123): " in front. */
	if (text[0] == '(' && strstr(text, "): "))
		text = strstr(text, "): ") + 3;
	tf_seterr(err, errlen, "%s: %s", what, text);
}

static void
on_disconnected(natsConnection *nc, void *closure)
{
	struct tf_bus *b = closure;

	(void)nc;
	if (b->fn)
		b->fn(TF_BUS_DISCONNECTED, b->arg);
}

static void
on_reconnected(natsConnection *nc, void *closure)
{
	struct tf_bus *b = closure;

	(void)nc;
	if (b->fn)
		b->fn(TF_BUS_RECONNECTED, b->arg);
}

static void
on_closed(natsConnection *nc, void *closure)
{
	struct tf_bus *b = closure;

	(void)nc;
	if (b->fn)
		b->fn(TF_BUS_CLOSED, b->arg);
	pthread_mutex_lock(&b->mu);
	b->closed = 1;
	pthread_cond_signal(&b->cond);
	pthread_mutex_unlock(&b->mu);
}

static void
on_error(natsConnection *nc, natsSubscription *sub, natsStatus s,
	void *closure)
{
	struct tf_bus *b = closure;
	enum tf_bus_event ev = TF_BUS_ERROR;

	(void)nc;
	(void)sub;
	if (s == NATS_SLOW_CONSUMER)
		ev = TF_BUS_SLOW_CONSUMER;
	else if (s == NATS_MISSED_HEARTBEAT)
		ev = TF_BUS_MISSED_HEARTBEAT;
	else if (s == NATS_MISMATCH)
		ev = TF_BUS_MISMATCH;
	if (b->fn)
		b->fn(ev, b->arg);
}

/* Splits the comma list into urls (pointers into buf). */
static int
split_servers(const char *list, char *buf, size_t size, const char **urls)
{
	char *p, *save = NULL;
	int n = 0;

	snprintf(buf, size, "%s", list);
	for (p = strtok_r(buf, ",", &save); p && n < TF_BUS_MAX_SERVERS;
		p = strtok_r(NULL, ",", &save))
		urls[n++] = p;
	return n;
}

static int
any_tls(const char *const *urls, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strncmp(urls[i], "tls://", 6))
			return 1;
	return 0;
}

struct tf_bus *
tf_bus_connect(const struct tf_bus_config *c, const char *name,
	int reconnect, jsOptions *jo, tf_bus_event_fn *fn, void *arg,
	char *err, size_t errlen)
{
	struct tf_bus *b = calloc(1, sizeof *b);
	char list[4096], shown[4096];
	const char *urls[TF_BUS_MAX_SERVERS];
	jsOptions dflt;
	natsStatus s;
	int n;

	if (!b) {
		tf_seterr(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cond, NULL);
	b->fn = fn;
	b->arg = arg;
	n = split_servers(c->servers, list, sizeof list, urls);
	tf_bus_redact(c->servers, shown, sizeof shown);
	s = natsOptions_Create(&b->opts);
	if (s == NATS_OK)
		s = natsOptions_SetServers(b->opts, urls, n);
	if (s == NATS_OK)
		s = natsOptions_SetName(b->opts, name);
	/* Keep the order of the list: the first server is the one meant. */
	if (s == NATS_OK)
		s = natsOptions_SetNoRandomize(b->opts, true);
	if (s == NATS_OK)
		s = natsOptions_SetAllowReconnect(b->opts, reconnect != 0);
	if (s == NATS_OK && reconnect) {
		s = natsOptions_SetMaxReconnect(b->opts, -1);
		if (s == NATS_OK)
			s = natsOptions_SetReconnectWait(b->opts, 250);
	}
	/* A dead peer that closes nothing (a cut cable) is found within
	 * about 10 s instead of nats.c's default of minutes. */
	if (s == NATS_OK)
		s = natsOptions_SetPingInterval(b->opts, 5000);
	if (s == NATS_OK)
		s = natsOptions_SetMaxPingsOut(b->opts, 2);
	if (s == NATS_OK)
		s = natsOptions_SetDisconnectedCB(b->opts, on_disconnected, b);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectedCB(b->opts, on_reconnected, b);
	if (s == NATS_OK)
		s = natsOptions_SetClosedCB(b->opts, on_closed, b);
	if (s == NATS_OK)
		s = natsOptions_SetErrorHandler(b->opts, on_error, b);
	if (s != NATS_OK) {
		tf_bus_error(err, errlen, "NATS options", s);
		goto fail;
	}
	/* nats.c says "(null)" for a file it cannot open. */
	if (c->tls_ca && access(c->tls_ca, R_OK) < 0) {
		tf_seterr(err, errlen, "--tls-ca %s: %s", c->tls_ca,
			strerror(errno));
		goto fail;
	}
	if (c->creds && access(c->creds, R_OK) < 0) {
		tf_seterr(err, errlen, "--creds %s: %s", c->creds,
			strerror(errno));
		goto fail;
	}
	if (c->tls_ca || any_tls(urls, n)) {
		s = natsOptions_SetSecure(b->opts, true);
		if (s == NATS_OK && c->tls_ca)
			s = natsOptions_LoadCATrustedCertificates(b->opts,
				c->tls_ca);
		if (s != NATS_OK) {
			tf_bus_error(err, errlen, c->tls_ca ? c->tls_ca : "TLS",
				s);
			goto fail;
		}
	}
	if (c->creds) {
		s = natsOptions_SetUserCredentialsFromFiles(b->opts, c->creds,
			NULL);
		if (s != NATS_OK) {
			tf_bus_error(err, errlen, c->creds, s);
			goto fail;
		}
	}
	if (c->token)
		s = natsOptions_SetToken(b->opts, c->token);
	else if (c->user)
		s = natsOptions_SetUserInfo(b->opts, c->user, c->password);
	if (s != NATS_OK) {
		/* Never the secret itself in the message. */
		tf_seterr(err, errlen, "NATS credentials: %s",
			natsStatus_GetText(s));
		goto fail;
	}
	s = natsConnection_Connect(&b->nc, b->opts);
	if (s != NATS_OK) {
		char what[4200];

		snprintf(what, sizeof what, "cannot connect to %s", shown);
		tf_bus_error(err, errlen, what, s);
		if (s == NATS_NO_SERVER &&
		    strstr(err, "No server available"))
			tf_seterr(err, errlen, "cannot connect to %s: no "
				"server answers (is nats-server running "
				"there?)", shown);
		goto fail;
	}
	if (!jo) {
		jsOptions_Init(&dflt);
		jo = &dflt;
	}
	/* JetStream API calls (stream info, consumer create) give up after
	 * 3 s; the programs retry them. */
	if (!jo->Wait)
		jo->Wait = 3000;
	s = natsConnection_JetStream(&b->js, b->nc, jo);
	if (s != NATS_OK) {
		tf_bus_error(err, errlen, "JetStream", s);
		goto fail;
	}
	if (natsConnection_GetConnectedUrl(b->nc, list, sizeof list) !=
		    NATS_OK ||
	    !*list)
		snprintf(list, sizeof list, "%s", urls[0]);
	tf_bus_redact(list, b->url, sizeof b->url);
	return b;
fail:
	tf_bus_destroy(b);
	return NULL;
}

void
tf_bus_destroy(struct tf_bus *b)
{
	struct timespec until;

	if (!b)
		return;
	jsCtx_Destroy(b->js);
	if (b->nc) {
		natsConnection_Close(b->nc);
		/* At most 5 s: the callback thread is nats.c's, not ours. */
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 5;
		pthread_mutex_lock(&b->mu);
		while (!b->closed &&
		    pthread_cond_timedwait(&b->cond, &b->mu, &until) == 0)
			;
		pthread_mutex_unlock(&b->mu);
		natsConnection_Destroy(b->nc);
	}
	natsOptions_Destroy(b->opts);
	pthread_cond_destroy(&b->cond);
	pthread_mutex_destroy(&b->mu);
	free(b);
}

natsConnection *
tf_bus_nc(const struct tf_bus *b)
{
	return b->nc;
}

jsCtx *
tf_bus_js(const struct tf_bus *b)
{
	return b->js;
}

const char *
tf_bus_url(const struct tf_bus *b)
{
	return b->url;
}

void
tf_bus_shutdown(void)
{
	nats_CloseAndWait(2000);
}

/* ---- the stream ----------------------------------------------------- */

static void
fill_stream(const char *name, const char *prefix, const jsStreamInfo *si,
	struct tf_bus_stream *st)
{
	int i;
	size_t pn = strlen(prefix);

	memset(st, 0, sizeof *st);
	st->within = si->Config && si->Config->SubjectsLen > 0;
	st->first_seq = si->State.FirstSeq;
	st->last_seq = si->State.LastSeq;
	st->msgs = si->State.Msgs;
	st->created_ns = si->Created;
	st->replicas = si->Config ? si->Config->Replicas : 1;
	st->duplicates_ns = si->Config ? si->Config->Duplicates : 0;
	for (i = 0; si->Config && i < si->Config->SubjectsLen; i++) {
		const char *sub = si->Config->Subjects[i];

		if (tf_bus_covers(sub, prefix))
			st->covers = 1;
		if (strncmp(sub, prefix, pn) || sub[pn] != '.')
			st->within = 0;
	}
	/* A stream without subjects takes its name as its only subject. */
	if (si->Config && si->Config->SubjectsLen == 0 &&
	    tf_bus_covers(name, prefix))
		st->covers = 1;
	tf_bus_epoch(name, si->Created, st->epoch);
}

int
tf_bus_stream_info(struct tf_bus *b, const char *stream, const char *prefix,
	struct tf_bus_stream *st, char *err, size_t errlen)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus s;
	char what[300];

	s = js_GetStreamInfo(&si, b->js, stream, NULL, &jerr);
	if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
		jsStreamInfo_Destroy(si);
		return TF_BUS_NOT_FOUND;
	}
	if (s != NATS_OK) {
		snprintf(what, sizeof what, "stream %s", stream);
		tf_bus_error(err, errlen, what, s);
		if (s == NATS_NO_RESPONDERS || jerr == 10076)
			tf_seterr(err, errlen, "stream %s: JetStream does not "
				"answer on %s (is the server started with "
				"-js?)", stream, b->url);
		return -1;
	}
	fill_stream(stream, prefix, si, st);
	jsStreamInfo_Destroy(si);
	return 0;
}

int
tf_bus_stream_create(struct tf_bus *b, const char *stream, const char *prefix,
	const struct tf_bus_limits *l, struct tf_bus_stream *st, char *err,
	size_t errlen)
{
	jsStreamConfig sc;
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	char subject[TF_BUS_PREFIX_MAX + 3], what[300];
	const char *subjects[1] = { subject };
	natsStatus s;
	int rc;

	snprintf(subject, sizeof subject, "%s.>", prefix);
	jsStreamConfig_Init(&sc);
	sc.Name = stream;
	sc.Subjects = subjects;
	sc.SubjectsLen = 1;
	sc.Storage = js_FileStorage;
	sc.Retention = js_LimitsPolicy;
	sc.Discard = js_DiscardOld;
	sc.MaxAge = l->max_age_ns;
	sc.MaxBytes = l->max_bytes ? l->max_bytes : -1;
	sc.MaxMsgs = l->max_msgs ? l->max_msgs : -1;
	sc.Replicas = l->replicas ? l->replicas : 1;
	sc.Duplicates = l->duplicates_ns;
	s = js_AddStream(&si, b->js, &sc, NULL, &jerr);
	if (s == NATS_OK) {
		fill_stream(stream, prefix, si, st);
		jsStreamInfo_Destroy(si);
		return 0;
	}
	jsStreamInfo_Destroy(si);
	if (jerr == JSStreamNameExistErr) {
		rc = tf_bus_stream_info(b, stream, prefix, st, err, errlen);
		if (rc == 0)
			return 0;
		if (rc == TF_BUS_NOT_FOUND)
			tf_seterr(err, errlen, "stream %s: made and gone "
				"again", stream);
		return -1;
	}
	snprintf(what, sizeof what, "cannot create stream %s", stream);
	tf_bus_error(err, errlen, what, s);
	return -1;
}

/* ---- subjects and epochs -------------------------------------------- */

static int
plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '_' || c == '-';
}

size_t
tf_bus_subject(const char *prefix, const char *topic, size_t len, char *buf,
	size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(prefix), need = n + 1 + (len ? 0 : 1) + 1, i;

	for (i = 0; i < len; i++)
		need += plain((unsigned char)topic[i]) ? 1 : 3;
	if (need > size)
		return (size_t)-1;
	memcpy(buf, prefix, n);
	buf[n++] = '.';
	if (!len)
		buf[n++] = '%';
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)topic[i];

		if (plain(c)) {
			buf[n++] = (char)c;
		} else {
			buf[n++] = '%';
			buf[n++] = hex[c >> 4];
			buf[n++] = hex[c & 15];
		}
	}
	buf[n] = '\0';
	return n;
}

/* A decimal number of up to 63 bits, as nats.c's nats_ParseInt64 takes
 * them; -1 when it is not one. */
static int64_t
ack_number(const char *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	if (!n)
		return -1;
	while (n > 1 && *p == '0') {
		p++;
		n--;
	}
	/* 19 digits cannot overflow 64 bits: one check at the end. */
	if (n > 19)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned d = (unsigned)(unsigned char)p[i] - '0';

		if (d > 9)
			return -1;
		v = v * 10 + d;
	}
	return v > INT64_MAX ? -1 : (int64_t)v;
}

int
tf_bus_ack_seqs(const char *reply, uint64_t *sseq, uint64_t *cseq)
{
	static const char prefix[] = "$JS.ACK.";
	const char *tok[9], *p;
	size_t len[9], nt = 0, first, i;
	int64_t v[5];

	if (!reply || strncmp(reply, prefix, sizeof prefix - 1))
		return -1;
	/* Tokens up to the ninth, in one pass (what follows, v2's random
	 * token, does not matter). */
	p = tok[0] = reply + sizeof prefix - 1;
	for (;; p++) {
		if (*p != '.' && *p)
			continue;
		len[nt] = (size_t)(p - tok[nt]);
		if (++nt == 9 || !*p)
			break;
		tok[nt] = p + 1;
	}
	if (nt != 7 && nt != 9)
		return -1;
	/* delivered, stream seq, consumer seq, time, pending */
	first = nt - 5;
	for (i = 0; i < 5; i++)
		if ((v[i] = ack_number(tok[first + i], len[first + i])) < 0)
			return -1;
	*sseq = (uint64_t)v[1];
	*cseq = (uint64_t)v[2];
	return 0;
}

int
tf_bus_prefix_check(const char *prefix, char *err, size_t errlen)
{
	size_t n = strlen(prefix), i;

	if (!n || n > TF_BUS_PREFIX_MAX) {
		tf_seterr(err, errlen, "--subject-prefix: 1 to %d bytes",
			TF_BUS_PREFIX_MAX);
		return -1;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)prefix[i];

		if (c <= ' ' || c >= 127 || c == '*' || c == '>') {
			tf_seterr(err, errlen, "--subject-prefix: '%s': only "
				"printable ASCII, no spaces, '*' or '>'",
				prefix);
			return -1;
		}
		if (c == '.' && (i == 0 || i == n - 1 || prefix[i + 1] == '.')) {
			tf_seterr(err, errlen, "--subject-prefix: '%s': an "
				"empty token", prefix);
			return -1;
		}
	}
	return 0;
}

int
tf_bus_stream_check(const char *name, char *err, size_t errlen)
{
	size_t n = strlen(name), i;

	if (!n || n > 255) {
		tf_seterr(err, errlen, "--stream: 1 to 255 bytes");
		return -1;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c <= ' ' || c >= 127 || strchr(".*>/\\", c)) {
			tf_seterr(err, errlen, "--stream: '%s': only printable "
				"ASCII without spaces, '.', '*', '>', '/' or "
				"'\\'", name);
			return -1;
		}
	}
	return 0;
}

/* The next token of a subject: its length; *p moves past it and its dot.
 * Returns -1 at the end. */
static long
token(const char **p)
{
	const char *s = *p;
	size_t n;

	if (!s)
		return -1;
	n = strcspn(s, ".");
	*p = s[n] == '.' ? s + n + 1 : NULL;
	return (long)n;
}

int
tf_bus_covers(const char *pattern, const char *prefix)
{
	const char *p = pattern, *q = prefix, *ps, *qs;
	long pn, qn;

	for (;;) {
		ps = p;
		qs = q;
		pn = token(&p);
		if (pn == 1 && *ps == '>')
			return 1;
		qn = token(&q);
		if (qn < 0)
			/* Past the prefix: the topic token. */
			return pn == 1 && *ps == '*' && !p;
		if (pn < 0)
			return 0;
		if (!(pn == 1 && *ps == '*') &&
		    (pn != qn || memcmp(ps, qs, (size_t)pn)))
			return 0;
	}
}

void
tf_bus_epoch(const char *stream, int64_t created_ns, char *buf)
{
	uint64_t h = 14695981039346656037ULL;
	char when[32];
	size_t i, n = strlen(stream) + 1, m;

	for (i = 0; i < n; i++) {	/* the name and its NUL */
		h ^= (unsigned char)stream[i];
		h *= 1099511628211ULL;
	}
	m = (size_t)snprintf(when, sizeof when, "%lld", (long long)created_ns);
	for (i = 0; i < m; i++) {
		h ^= (unsigned char)when[i];
		h *= 1099511628211ULL;
	}
	snprintf(buf, TF_BUS_EPOCH_SIZE, "%016llx", (unsigned long long)h);
}

/* ---- the publish window --------------------------------------------- */

int
tf_bus_window_init(struct tf_bus_window *w, size_t cap)
{
	memset(w, 0, sizeof *w);
	if (!(w->e = calloc(cap, sizeof *w->e)))
		return -1;
	w->cap = cap;
	return 0;
}

void
tf_bus_window_finish(struct tf_bus_window *w)
{
	size_t i;

	for (i = 0; w->e && i < w->n; i++)
		natsMsg_Destroy(tf_bus_window_at(w, i)->msg);
	free(w->e);
	memset(w, 0, sizeof *w);
}

struct tf_bus_entry *
tf_bus_window_at(struct tf_bus_window *w, size_t i)
{
	return &w->e[(w->head + i) % w->cap];
}

struct tf_bus_entry *
tf_bus_window_find(struct tf_bus_window *w, uint64_t no)
{
	size_t lo = 0, hi = w->n;

	/* Line numbers run on by one unless blank or bad lines were
	 * skipped: look first where no would then be (an acknowledgement
	 * per line, for every line). */
	if (w->n) {
		uint64_t first = tf_bus_window_at(w, 0)->no;
		struct tf_bus_entry *e;

		if (no >= first && no - first < w->n &&
		    (e = tf_bus_window_at(w, (size_t)(no - first)))->no == no)
			return e;
	}

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct tf_bus_entry *e = tf_bus_window_at(w, mid);

		if (e->no == no)
			return e;
		if (e->no < no)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void
tf_bus_window_set(struct tf_bus_window *w, struct tf_bus_entry *e,
	enum tf_bus_state state)
{
	if (e->state == TF_BUS_SENT)
		w->nsent--;
	else if (e->state == TF_BUS_FAILED)
		w->nfailed--;
	e->state = state;
	if (state == TF_BUS_SENT)
		w->nsent++;
	else if (state == TF_BUS_FAILED)
		w->nfailed++;
}

struct tf_bus_entry *
tf_bus_window_push(struct tf_bus_window *w, uint64_t no, size_t len,
	int64_t now)
{
	struct tf_bus_entry *e = tf_bus_window_at(w, w->n++);

	e->no = no;
	e->sent_ns = e->sent_last = now;
	e->msg = NULL;
	e->key = NULL;
	e->len = len;
	e->state = TF_BUS_ACKED;	/* no state yet: counted by the next */
	tf_bus_window_set(w, e, TF_BUS_SENT);
	w->bytes += len;
	return e;
}

void
tf_bus_window_pop_newest(struct tf_bus_window *w)
{
	struct tf_bus_entry *e = tf_bus_window_at(w, w->n - 1);

	tf_bus_window_set(w, e, TF_BUS_ACKED);
	w->bytes -= e->len;
	w->n--;
}

struct tf_bus_entry *
tf_bus_window_ack(struct tf_bus_window *w, const void *key, size_t *next)
{
	struct tf_bus_entry *e;

	if (!w->cap || !key)
		return NULL;
	/* A slot outside the window is ACKED, or unused with no key. */
	e = &w->e[*next % w->cap];
	if (e->state != TF_BUS_SENT || e->key != key)
		return NULL;
	tf_bus_window_acked(w, e, next);
	return e;
}

void
tf_bus_window_acked(struct tf_bus_window *w, struct tf_bus_entry *e,
	size_t *next)
{
	*next = ((size_t)(e - w->e) + 1) % w->cap;
}

size_t
tf_bus_window_settle(struct tf_bus_window *w)
{
	size_t k = 0;

	while (w->n && tf_bus_window_at(w, 0)->state == TF_BUS_ACKED) {
		w->bytes -= tf_bus_window_at(w, 0)->len;
		w->head = (w->head + 1) % w->cap;
		w->n--;
		k++;
	}
	return k;
}

/* ---- the checked consumer ------------------------------------------- */

enum tf_bus_verdict
tf_bus_cursor_check(struct tf_bus_cursor *c, uint64_t seq, uint64_t cseq,
	uint64_t *gap_from, uint64_t *gap_to)
{
	*gap_from = *gap_to = 0;
	if (cseq <= c->cseq)
		return TF_BUS_AGAIN;
	if (cseq != c->cseq + 1)
		return TF_BUS_RESYNC;
	c->cseq = cseq;
	if (c->next && seq < c->next)
		return TF_BUS_DUP;
	if (c->end && seq > c->end) {
		c->done = 1;
		return TF_BUS_PAST;
	}
	if (c->next && seq > c->next && c->checked) {
		*gap_from = c->next;
		*gap_to = seq - 1;
	}
	c->next = seq + 1;
	if (c->end && seq >= c->end)
		c->done = 1;
	return TF_BUS_TAKE;
}

size_t
tf_bus_msg_id(char *buf, const char *id, size_t idlen, uint64_t no)
{
	char digits[20];
	size_t n = 0, len = idlen + 1;

	memcpy(buf, id, idlen);
	buf += idlen;
	*buf++ = '-';
	do {
		digits[n++] = (char)('0' + no % 10);
		no /= 10;
	} while (no);
	len += n;
	while (n)
		*buf++ = digits[--n];
	*buf = '\0';
	return len;
}
