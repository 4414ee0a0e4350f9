/* hubcli.c: the hub's options, help, listening and input loop, shared by
 * tf-broadcast and tf-serve so that both take the same flags and read
 * stdin the same way. Command code, not lib/: it reports on stderr as the
 * program and owns its signals, and both programs link it (Makefile). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "envelope.h"
#include "hubcli.h"
#include "inbound.h"
#include "line.h"
#include "log.h"
#include "sig.h"
#include "vocab.h"

enum {
	OPT_HOST = TF_HUBCLI_OPT_BASE,
	OPT_PORT,
	OPT_TOPIC_FIELD,
	OPT_HISTORY,
	OPT_SNAPSHOT_KEY,
	OPT_RING,
	OPT_RING_BYTES,
	OPT_MAX_LAG,
	OPT_SLOW,
	OPT_HEARTBEAT,
	OPT_STALE,
	OPT_PING,
	OPT_IDLE_TIMEOUT,
	OPT_TOKEN,
	OPT_ORIGIN,
	OPT_CERT,
	OPT_KEY,
	OPT_MAX_CLIENTS,
	OPT_MAX_MESSAGE,
	OPT_MAX_RATE,
	OPT_INBOUND,
	OPT_DRAIN,
	OPT_KEEP_OPEN,
	OPT_MAX_TOPICS,
	OPT_MAX_KEYS,
	OPT_BATCH,
	OPT_INBOUND_MAX,
	OPT_MAX_SUBSCRIPTIONS,
	OPT_ALLOW_HOST,
	OPT_INPUT,
	OPT_RESUME_WAIT,
	OPT_MAX_HEADER_SIZE,
	OPT_REUSE_PORT,
	OPT_END
};

_Static_assert(OPT_END - TF_HUBCLI_OPT_BASE == TF_HUBCLI_NOPTS,
	"TF_HUBCLI_NOPTS counts the options");

/* name, has_arg, val (-p for --port), variable suffix */
static const struct {
	const char *name;
	int has_arg, val;
	const char *env;
} table[] = {
	{ "host", required_argument, OPT_HOST, "HOST" },
	{ "port", required_argument, 'p', "PORT" },
	{ "topic-field", required_argument, OPT_TOPIC_FIELD, "TOPIC_FIELD" },
	{ "history", required_argument, OPT_HISTORY, "HISTORY" },
	{ "snapshot-key", required_argument, OPT_SNAPSHOT_KEY,
		"SNAPSHOT_KEY" },
	{ "ring", required_argument, OPT_RING, "RING" },
	{ "ring-bytes", required_argument, OPT_RING_BYTES, "RING_BYTES" },
	{ "max-lag", required_argument, OPT_MAX_LAG, "MAX_LAG" },
	{ "slow", required_argument, OPT_SLOW, "SLOW" },
	{ "heartbeat", required_argument, OPT_HEARTBEAT, "HEARTBEAT" },
	{ "stale", required_argument, OPT_STALE, "STALE" },
	{ "ping", required_argument, OPT_PING, "PING" },
	{ "idle-timeout", required_argument, OPT_IDLE_TIMEOUT,
		"IDLE_TIMEOUT" },
	{ "token", required_argument, OPT_TOKEN, "TOKEN" },
	{ "origin", required_argument, OPT_ORIGIN, "ORIGIN" },
	{ "cert", required_argument, OPT_CERT, "CERT" },
	{ "key", required_argument, OPT_KEY, "KEY" },
	{ "max-clients", required_argument, OPT_MAX_CLIENTS, "MAX_CLIENTS" },
	{ "max-message", required_argument, OPT_MAX_MESSAGE, "MAX_MESSAGE" },
	{ "max-rate", required_argument, OPT_MAX_RATE, "MAX_RATE" },
	{ "inbound", required_argument, OPT_INBOUND, "INBOUND" },
	{ "drain", required_argument, OPT_DRAIN, "DRAIN" },
	{ "keep-open", no_argument, OPT_KEEP_OPEN, "KEEP_OPEN" },
	{ "max-topics", required_argument, OPT_MAX_TOPICS, "MAX_TOPICS" },
	{ "max-keys", required_argument, OPT_MAX_KEYS, "MAX_KEYS" },
	{ "batch", required_argument, OPT_BATCH, "BATCH" },
	{ "inbound-max", required_argument, OPT_INBOUND_MAX, "INBOUND_MAX" },
	{ "max-subscriptions", required_argument, OPT_MAX_SUBSCRIPTIONS,
		"MAX_SUBSCRIPTIONS" },
	{ "allow-host", required_argument, OPT_ALLOW_HOST, "ALLOW_HOST" },
	{ "input", required_argument, OPT_INPUT, "INPUT" },
	{ "resume-wait", required_argument, OPT_RESUME_WAIT, "RESUME_WAIT" },
	{ "max-header-size", required_argument, OPT_MAX_HEADER_SIZE,
		"MAX_HEADER_SIZE" },
	{ "reuse-port", no_argument, OPT_REUSE_PORT, "REUSE_PORT" },
};

_Static_assert(sizeof table / sizeof table[0] == TF_HUBCLI_NOPTS,
	"one table row per option");

void
tf_hubcli_init(struct tf_hubcli *c, uint64_t port)
{
	memset(c, 0, sizeof *c);
	c->host = "127.0.0.1";
	c->port = port;
	c->drain_ms = 5000;
	c->listen_fd = -1;
	c->inbound_max = 64 << 20;
	tf_hub_config_init(&c->hub);
	c->hub.loopback = 1;
}

size_t
tf_hubcli_options(struct tf_hubcli *c, struct tf_option *opts,
	const char *env_prefix)
{
	size_t i;

	for (i = 0; i < TF_HUBCLI_NOPTS; i++) {
		snprintf(c->env[i], sizeof c->env[i], "%s%s", env_prefix,
			table[i].env);
		opts[i].name = table[i].name;
		opts[i].has_arg = table[i].has_arg;
		opts[i].val = table[i].val;
		opts[i].env = c->env[i];
	}
	return i;
}

void
tf_hubcli_usage(FILE *f, uint64_t default_port)
{
	fprintf(f,
		"      --host HOST         address to bind (default 127.0.0.1)\n"
		"  -p, --port PORT         port (default %llu; 0 picks a free one)\n",
		(unsigned long long)default_port);
	fprintf(f,
		"      --topic-field FIELD route by this field instead of the topic\n"
		"      --history N         last N lines per topic for late joiners (0)\n"
		"      --snapshot-key FIELD  latest line per value of FIELD for joiners\n"
		"      --ring N            messages kept for slow clients and resume (65536)\n"
		"      --ring-bytes SIZE   and at most SIZE of them (64M)\n"
		"      --max-lag N         messages a client may fall behind (10000)\n"
		"      --slow skip|close   past --max-lag: skip to live (gap) or close 1008\n"
		"      --heartbeat SECS    tf.v1 heartbeat every SECS (0: off)\n"
		"      --stale SECS        tf.v1 stale notice after SECS without input (0: off)\n"
		"      --ping SECS         WebSocket ping every SECS idle (30; 0: off)\n"
		"      --idle-timeout SECS close SECS after an unanswered ping (120)\n"
		"      --token TOKEN       required as 'Authorization: Bearer' or ?token=\n"
		"      --origin LIST       browser Origins allowed besides the server's own\n"
		"                          (comma list; * any)\n"
		"      --allow-host LIST   Host names allowed besides loopback ones (comma\n"
		"                          list; * any); checked on loopback or when given\n"
		"      --cert FILE         TLS certificate (PEM); with --key: TLS\n"
		"      --key FILE          TLS private key (PEM)\n"
		"      --max-clients N     refuse more with HTTP 503 (0: no limit)\n"
		"      --max-header-size SIZE  a request's URL and header fields\n"
		"                          together (24K); a URL or one field over a\n"
		"                          third of it: HTTP 414/431\n"
		"      --max-message SIZE  longest client message; over: close 1009 (64K)\n"
		"      --max-rate N        client messages per second (100; 0: no limit);\n"
		"                          over: close 1008\n"
		"      --inbound FILE      append client messages as NDJSON (default: drop)\n"
		"      --inbound-max SIZE  past SIZE, FILE becomes FILE.1 (64M; 0: no limit)\n"
		"      --drain SECS        at end of input, deliver for at most SECS (5)\n"
		"      --keep-open         keep serving after end of input until SIGTERM\n"
		"      --reuse-port        share the port with other processes started\n"
		"                          with it (SO_REUSEPORT): the kernel spreads\n"
		"                          new connections among them\n"
		"      --max-topics N      distinct topics input makes (1024); more: other\n"
		"      --max-subscriptions N  topics one client may name (64)\n"
		"      --max-keys N        distinct --snapshot-key values (100000)\n"
		"      --batch SIZE        bytes per write to one client (64K)\n"
		"      --input FORMAT      lines (default), or envelope: tf.v1 event\n"
		"                          envelopes as tf-sub writes them, whose\n"
		"                          seq, epoch and topic are kept\n"
		"      --resume-wait SECS  a client resumed ahead of this node waits\n"
		"                          SECS for it (30); then: close 1013\n");
}

static int
seconds(const char *name, const char *arg, int64_t *ms, char *err,
	size_t errlen)
{
	int64_t ns;

	if (tf_parse_duration(name, arg, &ns, err, errlen) < 0)
		return -1;
	if (ns < 0 || ns > (int64_t)86400 * 1000000000) {
		tf_seterr(err, errlen, "%s: between 0 and 1d", name);
		return -1;
	}
	*ms = ns / 1000000;
	return 0;
}

/* A numeric option: parsed by parse (tf_parse_u64, tf_parse_size) within
 * bounds into *out. */
typedef int parse_fn(const char *name, const char *s, uint64_t min,
	uint64_t max, uint64_t *out, char *err, size_t errlen);

static int
number(parse_fn *parse, const char *name, const char *arg, uint64_t min,
	uint64_t max, size_t *out, char *err, size_t errlen)
{
	uint64_t v;

	if (parse(name, arg, min, max, &v, err, errlen) < 0)
		return -1;
	*out = (size_t)v;
	return 0;
}

static int
field(const char *name, const char *arg, const char **out, char *err,
	size_t errlen)
{
	if (!*arg) {
		tf_seterr(err, errlen, "%s: empty", name);
		return -1;
	}
	*out = arg;
	return 0;
}

/* One of two words: *out is 1 for the second, 0 for the first. */
static int
either(const char *name, const char *arg, const char *off, const char *on,
	int *out, char *err, size_t errlen)
{
	if (strcmp(arg, off) && strcmp(arg, on)) {
		tf_seterr(err, errlen, "%s: '%s' is not %s or %s", name, arg,
			off, on);
		return -1;
	}
	*out = !strcmp(arg, on);
	return 0;
}

/* Whether host (as --host takes it) is a loopback address, as
 * check_bind will resolve it: the first address getaddrinfo gives. */
static int
is_loopback(const char *host)
{
	struct addrinfo hints, *ai = NULL;
	int yes = 0;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if (!*host || getaddrinfo(host, "0", &hints, &ai))
		return 0;
	if (ai->ai_family == AF_INET)
		yes = ntohl(((struct sockaddr_in *)ai->ai_addr)->sin_addr
			.s_addr) >> 24 == 127;
	else if (ai->ai_family == AF_INET6)
		yes = IN6_IS_ADDR_LOOPBACK(
			&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr);
	freeaddrinfo(ai);
	return yes;
}

int
tf_hubcli_set(struct tf_hubcli *c, int val, const char *arg, char *err,
	size_t errlen)
{
	struct tf_hub_config *h = &c->hub;
	int64_t ms;

	switch (val) {
	case OPT_HOST:
		c->host = arg;
		c->hub.loopback = is_loopback(arg);
		return 0;
	case 'p':
		return tf_parse_u64("--port", arg, 0, 65535, &c->port, err,
			errlen);
	case OPT_TOPIC_FIELD:
		return field("--topic-field", arg, &h->topic_field, err,
			errlen);
	case OPT_SNAPSHOT_KEY:
		return field("--snapshot-key", arg, &h->snapshot_key, err,
			errlen);
	case OPT_HISTORY:
		return number(tf_parse_u64, "--history", arg, 0, 1000000,
			&h->history, err, errlen);
	case OPT_RING:
		return number(tf_parse_u64, "--ring", arg, 1, 100000000,
			&h->ring_msgs, err, errlen);
	case OPT_RING_BYTES:
		return number(tf_parse_size, "--ring-bytes", arg, 0,
			(uint64_t)1 << 40, &h->ring_bytes, err, errlen);
	case OPT_MAX_LAG:
		return number(tf_parse_u64, "--max-lag", arg, 0, 100000000,
			&h->max_lag, err, errlen);
	case OPT_SLOW:
		return either("--slow", arg, "skip", "close", &h->slow_close,
			err, errlen);
	case OPT_HEARTBEAT:
		return seconds("--heartbeat", arg, &h->heartbeat_ms, err,
			errlen);
	case OPT_STALE:
		return seconds("--stale", arg, &h->stale_ms, err, errlen);
	case OPT_PING:
	case OPT_IDLE_TIMEOUT:
		if (seconds(val == OPT_PING ? "--ping" : "--idle-timeout", arg,
			    &ms, err, errlen) < 0)
			return -1;
		if (ms > 30000 * 1000) {
			tf_seterr(err, errlen, "%s: at most 30000 seconds",
				val == OPT_PING ? "--ping" : "--idle-timeout");
			return -1;
		}
		if (val == OPT_PING)
			h->ping_s = (int)((ms + 999) / 1000);
		else
			h->idle_timeout_s = (int)((ms + 999) / 1000);
		return 0;
	case OPT_TOKEN:
		/* Refused here, not left to never match: no header or URL
		 * the hub reads can hold a longer one. */
		if (strlen(arg) > TF_HUB_TOKEN_MAX) {
			tf_seterr(err, errlen, "--token: longer than %d bytes",
				TF_HUB_TOKEN_MAX);
			return -1;
		}
		return field("--token", arg, &h->token, err, errlen);
	case OPT_ORIGIN:
		h->origins = arg;
		return 0;
	case OPT_ALLOW_HOST:
		return field("--allow-host", arg, &h->allow_hosts, err, errlen);
	case OPT_INPUT:
		return either("--input", arg, "lines", "envelope",
			&c->envelope, err, errlen);
	case OPT_RESUME_WAIT:
		return seconds("--resume-wait", arg, &h->resume_wait_ms, err,
			errlen);
	case OPT_CERT:
		c->cert = arg;
		return 0;
	case OPT_KEY:
		c->key = arg;
		return 0;
	case OPT_MAX_CLIENTS:
		return number(tf_parse_u64, "--max-clients", arg, 0, 10000000,
			&h->max_clients, err, errlen);
	case OPT_MAX_HEADER_SIZE:
		return number(tf_parse_size, "--max-header-size", arg,
			TF_HUB_HEADER_MIN, TF_HUB_HEADER_MAX, &h->max_header,
			err, errlen);
	case OPT_MAX_MESSAGE:
		return number(tf_parse_size, "--max-message", arg, 1, 64 << 20,
			&h->max_message, err, errlen);
	case OPT_MAX_RATE:
		return tf_parse_double("--max-rate", arg, 0, 1e9, &h->max_rate,
			err, errlen);
	case OPT_INBOUND:
		c->inbound = arg;
		return 0;
	case OPT_DRAIN:
		return seconds("--drain", arg, &c->drain_ms, err, errlen);
	case OPT_KEEP_OPEN:
		c->keep_open = 1;
		return 0;
	case OPT_REUSE_PORT:
		c->reuse_port = 1;
		return 0;
	case OPT_MAX_TOPICS:
		return number(tf_parse_u64, "--max-topics", arg, 1, 1000000,
			&h->max_topics, err, errlen);
	case OPT_MAX_SUBSCRIPTIONS:
		return number(tf_parse_u64, "--max-subscriptions", arg, 1,
			1000000, &h->max_subscriptions, err, errlen);
	case OPT_MAX_KEYS:
		return number(tf_parse_u64, "--max-keys", arg, 1, 100000000,
			&h->max_keys, err, errlen);
	case OPT_BATCH:
		return number(tf_parse_size, "--batch", arg, 1024, 16 << 20,
			&h->batch, err, errlen);
	case OPT_INBOUND_MAX:
		if (tf_parse_size("--inbound-max", arg, 0, (uint64_t)1 << 50,
			    &c->inbound_max, err, errlen) < 0)
			return -1;
		if (c->inbound_max && c->inbound_max < 1024) {
			tf_seterr(err, errlen, "--inbound-max: 0 (no limit) "
				"or at least 1K");
			return -1;
		}
		return 0;
	}
	return 1;
}

int
tf_hubcli_parse(const struct tf_hubcli *c, int argc, char **argv,
	const struct tf_option *opts, tf_option_fn *fn, void *ctx,
	struct tf_common *common, tf_usage_fn *usage)
{
	char err[512];
	int first, rc = -1;

	if (tf_options_parse(argc, argv, opts, fn, ctx, common, &first, err,
		    sizeof err) < 0) {
		rc = tf_usage_error(err);
	} else if (tf_options_answer(common, usage)) {
		rc = 0;
	} else if (first < argc) {
		snprintf(err, sizeof err, "unexpected argument '%s' (input is "
			"stdin)", argv[first]);
		rc = tf_usage_error(err);
	} else if (!c->cert != !c->key) {
		rc = tf_usage_error("--cert and --key go together");
	}
	if (rc >= 0)
		tf_options_free();
	return rc;
}

/* ---- --inbound ------------------------------------------------------- */

static int
on_inbound(const char *line, size_t len, void *arg)
{
	struct tf_hubcli *c = arg;
	char err[512];
	uint64_t rotations;
	int rc;

	if (!c->inbound_w)
		return -1;
	rotations = tf_inbound_rotations(c->inbound_w);

	rc = tf_inbound_write(c->inbound_w, line, len, err, sizeof err);
	if (rc == 0 && tf_inbound_rotations(c->inbound_w) != rotations)
		tf_info("%s: over --inbound-max: older messages are in %s.1",
			c->inbound, c->inbound);
	if (rc < 0) {
		tf_warn("%s; no longer writing client messages", err);
		tf_inbound_close(c->inbound_w, err, sizeof err);
		c->inbound_w = NULL;
	}
	return rc ? -1 : 0;
}

int
tf_hubcli_inbound_open(struct tf_hubcli *c, char *err, size_t errlen)
{
	if (!c->inbound)
		return 0;
	c->inbound_w = tf_inbound_open(c->inbound, c->inbound_max, err,
		errlen);
	if (!c->inbound_w)
		return -1;
	c->hub.inbound = on_inbound;
	c->hub.inbound_arg = c;
	return 0;
}

int
tf_hubcli_inbound_close(struct tf_hubcli *c, char *err, size_t errlen)
{
	int rc = tf_inbound_close(c->inbound_w, err, errlen);

	c->inbound_w = NULL;
	return rc;
}

/* Resolves host to a numeric address for lws (*iface NULL: every
 * address), and checks that host:port can be bound. */
static int
check_bind(const char *host, unsigned port, char *addr, size_t addrlen,
	const char **iface, char *err, size_t errlen)
{
	struct addrinfo hints, *ai = NULL;
	char portstr[8];
	int fd, one = 1, rc, e;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	snprintf(portstr, sizeof portstr, "%u", port);
	rc = getaddrinfo(*host ? host : NULL, portstr, &hints, &ai);
	if (rc) {
		tf_seterr(err, errlen, "%s: %s", host, gai_strerror(rc));
		return -1;
	}
	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, (socklen_t)addrlen,
		    NULL, 0, NI_NUMERICHOST))
		snprintf(addr, addrlen, "%s", host);
	*iface = (!strcmp(addr, "0.0.0.0") || !strcmp(addr, "::")) ? NULL :
		addr;
	if (port) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0) {
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				sizeof one);
			rc = bind(fd, ai->ai_addr, ai->ai_addrlen);
			e = errno;
			close(fd);
			if (rc < 0) {
				tf_seterr(err, errlen, strchr(addr, ':') ?
					"[%s]:%u: %s" : "%s:%u: %s", addr,
					port, strerror(e));
				freeaddrinfo(ai);
				return -1;
			}
		}
	}
	freeaddrinfo(ai);
	return 0;
}

/* --reuse-port: lws 4.1 sets SO_REUSEPORT on its listening socket only
 * when it runs several service threads, never with LWS_MAX_SMP 1 as
 * packaged, so the socket is ours and lws is handed each connection as
 * its own listener would hand it. Binds c->host (resolved to addr) and
 * c->port, and sets c->port to the port bound (for -p 0). */
static int
shared_listen(struct tf_hubcli *c, const char *addr, char *err,
	size_t errlen)
{
	struct addrinfo hints, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof ss;
	char portstr[8];
	int fd, one = 1, rc, e;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
	snprintf(portstr, sizeof portstr, "%u", (unsigned)c->port);
	rc = getaddrinfo(addr, portstr, &hints, &ai);
	if (rc) {
		tf_seterr(err, errlen, "%s: %s", addr, gai_strerror(rc));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
	    listen(fd, SOMAXCONN) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sslen) < 0) {
		e = errno;
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		tf_seterr(err, errlen, strchr(addr, ':') ? "[%s]:%u: %s" :
			"%s:%u: %s", addr, (unsigned)c->port, strerror(e));
		return -1;
	}
	freeaddrinfo(ai);
	c->port = ntohs(ss.ss_family == AF_INET6 ?
		((struct sockaddr_in6 *)&ss)->sin6_port :
		((struct sockaddr_in *)&ss)->sin_port);
	c->listen_fd = fd;
	return 0;
}

/* --reuse-port's listener out of descriptors: the first pause and the
 * longest (it doubles between them). */
#define ACCEPT_PAUSE_MIN_MS 100
#define ACCEPT_PAUSE_MAX_MS 1000

/* accept() failed for want of descriptors. The connection stays queued
 * and the listener readable, so it would wake the loop again at once, at
 * 100% CPU: the listener pauses instead, longer each time, until a client
 * leaves. Warns once as it starts. Returns the pause (ms) for the hub. */
static int
accept_pause(struct tf_hubcli *c, int e)
{
	if (c->accept_fails++ == 0) {
		c->accept_fail_ns = tf_mono_ns();
		c->accept_pause_ms = ACCEPT_PAUSE_MIN_MS;
		tf_warn("accept: %s: new connections wait, tried again every "
			"%d ms to %d s (raise the open-files limit or lower "
			"--max-clients)", strerror(e), ACCEPT_PAUSE_MIN_MS,
			ACCEPT_PAUSE_MAX_MS / 1000);
	} else if (c->accept_pause_ms < ACCEPT_PAUSE_MAX_MS) {
		c->accept_pause_ms *= 2;
		if (c->accept_pause_ms > ACCEPT_PAUSE_MAX_MS)
			c->accept_pause_ms = ACCEPT_PAUSE_MAX_MS;
	}
	return c->accept_pause_ms;
}

/* The shared listening socket is readable: takes what connections wait,
 * a bounded number at a time so input and writes are not starved. */
static int
accept_clients(int fd, void *arg)
{
	struct tf_hubcli *c = arg;
	lws_sock_file_fd_type u;
	int i, cfd, one = 1;

	for (i = 0; i < 64; i++) {
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				return accept_pause(c, errno);
			return 0;
		}
		if (c->accept_fails) {
			tf_warn("accept: taking new connections again, after "
				"%lu failed tries in %.1f s", c->accept_fails,
				(double)(tf_mono_ns() - c->accept_fail_ns) /
				1e9);
			c->accept_fails = 0;
		}
		setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		u.sockfd = cfd;
		/* On failure lws has closed cfd. */
		lws_adopt_descriptor_vhost(c->vh, LWS_ADOPT_SOCKET |
			LWS_ADOPT_HTTP | (c->cert ? LWS_ADOPT_ALLOW_SSL : 0),
			u, NULL, NULL);
	}
	return 0;
}

static void
lws_log(int level, const char *line)
{
	(void)level;
	if (tf_verbosity >= 2)
		fprintf(stderr, "%s: lws: %s", tf_prog(), line);
}

/* libwebsockets tells only that the context failed when it cannot read a
 * certificate or key: name the file (opt is "--cert" or "--key"). Returns
 * 0 when it is a file that can be read, else -1 with err filled. */
static int
tls_file_readable(const char *opt, const char *path, char *err,
	size_t errlen)
{
	struct stat sb;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		tf_seterr(err, errlen, "%s %s: %s", opt, path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		close(fd);
		tf_seterr(err, errlen, "%s %s: is a directory, not a PEM file",
			opt, path);
		return -1;
	}
	close(fd);
	return 0;
}

int
tf_hubcli_listen(struct tf_hubcli *c, struct tf_hub *hub,
	struct lws_context **ctx, int *port, char *addr, size_t addrlen,
	char *err, size_t errlen)
{
	struct lws_context_creation_info info;
	struct lws_vhost *vh;
	const char *iface;

	*ctx = NULL;
	if (c->cert && (tls_file_readable("--cert", c->cert, err, errlen) < 0 ||
		tls_file_readable("--key", c->key, err, errlen) < 0))
		return -1;
	/* With --reuse-port the socket bound below says why it cannot be. */
	if (check_bind(c->host, c->reuse_port ? 0 : (unsigned)c->port, addr,
		    addrlen, &iface, err, errlen) < 0)
		return -1;
	if (c->reuse_port && shared_listen(c, addr, err, errlen) < 0)
		return -1;
	lws_set_log_level(tf_verbosity >= 3 ? LLL_ERR | LLL_WARN | LLL_NOTICE :
		tf_verbosity >= 2 ? LLL_ERR : 0, lws_log);
	memset(&info, 0, sizeof info);
	tf_hub_context_info(hub, &info);
	info.options |= c->lws_options;
	info.port = c->reuse_port ? CONTEXT_PORT_NO_LISTEN_SERVER :
		(int)c->port;
	info.iface = iface;
	info.gid = (gid_t)-1;
	info.uid = (uid_t)-1;
	if (!strchr(addr, ':') && iface)
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	if (c->cert) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = c->cert;
		info.ssl_private_key_filepath = c->key;
	}
	*ctx = lws_create_context(&info);
	vh = *ctx ? lws_get_vhost_by_name(*ctx, "default") : NULL;
	if (!vh) {
		if (c->cert)
			tf_seterr(err, errlen, "%s:%u: cannot serve TLS with "
				"--cert %s and --key %s (run with -v for "
				"details)", addr, (unsigned)c->port, c->cert,
				c->key);
		else
			tf_seterr(err, errlen, "%s:%u: cannot listen (run "
				"with -v for details)", addr,
				(unsigned)c->port);
		return -1;
	}
	if (tf_hub_attach(hub, *ctx, vh, err, errlen) < 0)
		return -1;
	if (c->reuse_port) {
		c->vh = vh;
		*port = (int)c->port;
		if (tf_hub_adopt_fd(hub, c->listen_fd, accept_clients, c, err,
			    errlen) < 0)
			return -1;
		c->listen_fd = -1;	/* the hub's now */
		return 0;
	}
	*port = lws_get_vhost_listen_port(vh);
	return 0;
}

/* Descriptors a hub needs besides its WebSocket clients: stdio, the
 * listening sockets, lws's own, --inbound, HTTP requests in flight. */
#define FD_RESERVE 64

int
tf_hubcli_raise_fd_limit(const struct tf_hubcli *c, char *err,
	size_t errlen)
{
	struct rlimit rl;
	rlim_t want = 65536;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	if (c->hub.max_clients && c->hub.max_clients + FD_RESERVE > want)
		want = (rlim_t)c->hub.max_clients + FD_RESERVE;
	if (rl.rlim_cur < want && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (c->hub.max_clients && rl.rlim_cur < (rlim_t)c->hub.max_clients +
	    FD_RESERVE) {
		tf_seterr(err, errlen, "--max-clients %zu: the open-files "
			"limit (%llu, ulimit -Hn) leaves room for about %llu "
			"clients; connections past that fail (raise it, e.g. "
			"LimitNOFILE= under systemd)", c->hub.max_clients,
			(unsigned long long)rl.rlim_cur,
			(unsigned long long)(rl.rlim_cur > FD_RESERVE ?
			rl.rlim_cur - FD_RESERVE : 0));
		return -1;
	}
	return 0;
}

/* ---- input ----------------------------------------------------------- */

static void
end_input(struct tf_hubcli_input *in)
{
	if (in->cli->keep_open && in->rc == 0)
		tf_hub_input_ended(in->hub);
	else
		tf_hub_finish(in->hub, in->cli->drain_ms);
}

static void
flush(struct tf_hubcli_input *in)
{
	tf_hub_flush(in->hub);
	if (in->flush)
		in->flush(in->arg);
}

int
tf_hubcli_publish(struct tf_hub *hub, const struct tf_line *l,
	const struct tf_event *ev, const struct tf_envelope *env)
{
	if (!env)
		return tf_hub_publish(hub, l->data, l->len, ev);
	return tf_hub_publish_at(hub, env->data.data, env->data.len, ev,
		*env->topic ? env->topic : NULL, env->seq, env->epoch);
}

/* An envelope checked: 0 to hand it on, 1 to skip it (a duplicate). */
static int
envelope_in(struct tf_hubcli_input *in, const struct tf_line *l,
	const struct tf_envelope *e)
{
	if (e->gap) {
		tf_warn("line %llu: gap: seq %llu to %llu (%llu missed "
			"upstream); tf.v1 clients are told",
			(unsigned long long)l->no, (unsigned long long)e->from,
			(unsigned long long)e->to,
			(unsigned long long)(e->to - e->from + 1));
		tf_hub_gap(in->hub, e->from, e->to);
		return 0;
	}
	if (tf_hub_duplicate(in->hub, e->seq, e->epoch)) {
		tf_info("line %llu: seq %llu: not above the last, %llu "
			"(duplicate, skipped)", (unsigned long long)l->no,
			(unsigned long long)e->seq,
			(unsigned long long)tf_hub_seq(in->hub));
		return 1;
	}
	if (tf_hub_seq(in->hub) && strcmp(e->epoch, tf_hub_epoch(in->hub)))
		tf_warn("line %llu: epoch %s (was %s): a new stream; its "
			"history starts over, tf.v1 clients are closed to "
			"resume", (unsigned long long)l->no, e->epoch,
			tf_hub_epoch(in->hub));
	return 0;
}

/* stdin is readable: one read, every complete line in it. */
static int
on_input(int fd, void *arg)
{
	struct tf_hubcli_input *in = arg;
	struct tf_line l;
	struct tf_event ev;
	struct tf_envelope env;
	char why[256];
	ssize_t got;

	(void)fd;
	got = tf_reader_fill(in->r);
	if (got < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (got < 0) {
		tf_error("stdin: %s", strerror(errno));
		in->rc = 1;
		end_input(in);
		return -1;
	}
	while (tf_reader_next(in->r, &l)) {
		int k = in->cli->envelope ?
			tf_envelope_check(&l, &env, &ev, why, sizeof why) :
			tf_event_check(&l, &ev, why, sizeof why);

		if (k == 1)
			continue;
		if (k == 0 && in->cli->envelope) {
			if (envelope_in(in, &l, &env) == 0)
				in->line(&l, &ev, &env, in->arg);
			continue;
		}
		if (k == 0) {
			in->line(&l, &ev, NULL, in->arg);
			continue;
		}
		tf_hub_note_bad(in->hub);
		if (in->strict) {
			tf_error("line %llu: %s", (unsigned long long)l.no,
				why);
			in->rc = 65;
			flush(in);
			end_input(in);
			return -1;
		}
		tf_warn("line %llu: %s (skipped)", (unsigned long long)l.no,
			why);
	}
	flush(in);
	if (got == 0) {
		end_input(in);
		return -1;
	}
	return 0;
}

static void
print_stats(struct tf_hub *hub)
{
	char *json = tf_hub_stats(hub);

	if (json)
		fprintf(stderr, "%s\n", json);
	free(json);
}

int
tf_hubcli_serve(struct tf_hubcli_input *in, struct lws_context *ctx)
{
	int stopping = 0;
	char err[256];

	if (tf_hub_adopt_fd(in->hub, STDIN_FILENO, on_input, in, err,
		    sizeof err) < 0) {
		tf_error("stdin: %s", err);
		return 1;
	}
	while (!tf_hub_done(in->hub)) {
		if (lws_service(ctx, 0) < 0)
			break;
		if (tf_signal_stop() && !stopping) {
			stopping = 1;
			tf_info("stopping on signal %d", tf_signal_stop());
			tf_hub_finish(in->hub, in->cli->drain_ms);
		}
		if (tf_signal_usr1())
			print_stats(in->hub);
	}
	return in->rc;
}
