/* tf-broadcast: serve every line of stdin to WebSocket clients (plain and
 * tf.v1, tf(7)) through the hub in lib/hub.c, and pass it on to stdout. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hub.h"
#include "line.h"
#include "log.h"
#include "opts.h"
#include "sig.h"
#include "vocab.h"

enum {
	OPT_HOST = 256,
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
};

static const struct tf_option options[] = {
	{ "host", required_argument, OPT_HOST, "TF_BROADCAST_HOST" },
	{ "port", required_argument, 'p', "TF_BROADCAST_PORT" },
	{ "no-output", no_argument, 'n', NULL },
	{ "topic-field", required_argument, OPT_TOPIC_FIELD,
		"TF_BROADCAST_TOPIC_FIELD" },
	{ "history", required_argument, OPT_HISTORY, "TF_BROADCAST_HISTORY" },
	{ "snapshot-key", required_argument, OPT_SNAPSHOT_KEY,
		"TF_BROADCAST_SNAPSHOT_KEY" },
	{ "ring", required_argument, OPT_RING, "TF_BROADCAST_RING" },
	{ "ring-bytes", required_argument, OPT_RING_BYTES,
		"TF_BROADCAST_RING_BYTES" },
	{ "max-lag", required_argument, OPT_MAX_LAG, "TF_BROADCAST_MAX_LAG" },
	{ "slow", required_argument, OPT_SLOW, "TF_BROADCAST_SLOW" },
	{ "heartbeat", required_argument, OPT_HEARTBEAT,
		"TF_BROADCAST_HEARTBEAT" },
	{ "stale", required_argument, OPT_STALE, "TF_BROADCAST_STALE" },
	{ "ping", required_argument, OPT_PING, "TF_BROADCAST_PING" },
	{ "idle-timeout", required_argument, OPT_IDLE_TIMEOUT,
		"TF_BROADCAST_IDLE_TIMEOUT" },
	{ "token", required_argument, OPT_TOKEN, "TF_BROADCAST_TOKEN" },
	{ "origin", required_argument, OPT_ORIGIN, "TF_BROADCAST_ORIGIN" },
	{ "cert", required_argument, OPT_CERT, "TF_BROADCAST_CERT" },
	{ "key", required_argument, OPT_KEY, "TF_BROADCAST_KEY" },
	{ "max-clients", required_argument, OPT_MAX_CLIENTS,
		"TF_BROADCAST_MAX_CLIENTS" },
	{ "max-message", required_argument, OPT_MAX_MESSAGE,
		"TF_BROADCAST_MAX_MESSAGE" },
	{ "max-rate", required_argument, OPT_MAX_RATE,
		"TF_BROADCAST_MAX_RATE" },
	{ "inbound", required_argument, OPT_INBOUND, "TF_BROADCAST_INBOUND" },
	{ "drain", required_argument, OPT_DRAIN, "TF_BROADCAST_DRAIN" },
	{ "keep-open", no_argument, OPT_KEEP_OPEN, "TF_BROADCAST_KEEP_OPEN" },
	{ "max-topics", required_argument, OPT_MAX_TOPICS,
		"TF_BROADCAST_MAX_TOPICS" },
	{ "max-keys", required_argument, OPT_MAX_KEYS,
		"TF_BROADCAST_MAX_KEYS" },
	{ "batch", required_argument, OPT_BATCH, "TF_BROADCAST_BATCH" },
	{ 0 },
};

struct config {
	const char *host;
	uint64_t port;
	int output;
	const char *cert, *key, *inbound;
	int64_t drain_ms;
	int keep_open;
	struct tf_hub_config hub;
	struct tf_common common;
};

struct state {
	struct config *c;
	struct tf_hub *hub;
	struct tf_reader *r;
	FILE *inbound;
	int output;		/* still writing stdout */
	int rc;
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: tf-broadcast [--host HOST] [-p PORT] [options]\n"
		"Serve every line of stdin (NDJSON events) to WebSocket clients, and\n"
		"pass it on to stdout. Plain clients get each line as a text frame;\n"
		"clients of the tf.v1 subprotocol get envelopes with seq, epoch and\n"
		"topic, and can subscribe, resume and see gaps (tf(7)).\n"
		"\n"
		"      --host HOST         address to bind (default 127.0.0.1)\n"
		"  -p, --port PORT         port (default 8765; 0 picks a free one)\n"
		"  -n, --no-output         write nothing to stdout\n"
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
		"      --origin LIST       browser Origins allowed (comma list; default any)\n"
		"      --cert FILE         TLS certificate (PEM); with --key: wss://\n"
		"      --key FILE          TLS private key (PEM)\n"
		"      --max-clients N     refuse more with HTTP 503 (0: no limit)\n"
		"      --max-message SIZE  longest client message; over: close 1009 (64K)\n"
		"      --max-rate N        client messages per second; over: close 1008\n"
		"      --inbound FILE      append client messages as NDJSON (default: drop)\n"
		"      --drain SECS        at end of input, deliver for at most SECS (5)\n"
		"      --keep-open         keep serving after end of input until SIGTERM\n"
		"      --max-topics N      distinct topics (1024)\n"
		"      --max-keys N        distinct --snapshot-key values (100000)\n"
		"      --batch SIZE        bytes per write to one client (64K)\n"
		"      --strict            the first bad line is fatal (exit 65)\n"
		"      --max-line SIZE     longest line accepted (default 1M)\n");
	tf_options_usage(f, 26);
	fprintf(f,
		"\n"
		"GET /stats on the same port (and SIGUSR1, on stderr) gives counters\n"
		"as JSON. See tf-broadcast(1) and tf(7).\n");
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

static int
set_option(int val, const char *arg, void *ctx, char *err, size_t errlen)
{
	struct config *c = ctx;
	struct tf_hub_config *h = &c->hub;
	uint64_t v;
	int64_t ms;
	double d;

	switch (val) {
	case OPT_HOST:
		c->host = arg;
		return 0;
	case 'p':
		return tf_parse_u64("--port", arg, 0, 65535, &c->port, err,
			errlen);
	case 'n':
		c->output = 0;
		return 0;
	case OPT_TOPIC_FIELD:
	case OPT_SNAPSHOT_KEY:
		if (!*arg) {
			tf_seterr(err, errlen, "%s: empty field name",
				val == OPT_TOPIC_FIELD ? "--topic-field" :
				"--snapshot-key");
			return -1;
		}
		if (val == OPT_TOPIC_FIELD)
			h->topic_field = arg;
		else
			h->snapshot_key = arg;
		return 0;
	case OPT_HISTORY:
		if (tf_parse_u64("--history", arg, 0, 1000000, &v, err,
			    errlen) < 0)
			return -1;
		h->history = v;
		return 0;
	case OPT_RING:
		if (tf_parse_u64("--ring", arg, 1, 100000000, &v, err,
			    errlen) < 0)
			return -1;
		h->ring_msgs = v;
		return 0;
	case OPT_RING_BYTES:
		if (tf_parse_size("--ring-bytes", arg, 0, (uint64_t)1 << 40,
			    &v, err, errlen) < 0)
			return -1;
		h->ring_bytes = v;
		return 0;
	case OPT_MAX_LAG:
		if (tf_parse_u64("--max-lag", arg, 0, 100000000, &v, err,
			    errlen) < 0)
			return -1;
		h->max_lag = v;
		return 0;
	case OPT_SLOW:
		if (strcmp(arg, "skip") && strcmp(arg, "close")) {
			tf_seterr(err, errlen, "--slow: '%s' is not skip or "
				"close", arg);
			return -1;
		}
		h->slow_close = !strcmp(arg, "close");
		return 0;
	case OPT_HEARTBEAT:
	case OPT_STALE:
		if (seconds(val == OPT_STALE ? "--stale" : "--heartbeat", arg,
			    &ms, err, errlen) < 0)
			return -1;
		if (val == OPT_STALE)
			h->stale_ms = ms;
		else
			h->heartbeat_ms = ms;
		return 0;
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
		if (!*arg) {
			tf_seterr(err, errlen, "--token: empty");
			return -1;
		}
		h->token = arg;
		return 0;
	case OPT_ORIGIN:
		h->origins = arg;
		return 0;
	case OPT_CERT:
		c->cert = arg;
		return 0;
	case OPT_KEY:
		c->key = arg;
		return 0;
	case OPT_MAX_CLIENTS:
		if (tf_parse_u64("--max-clients", arg, 0, 10000000, &v, err,
			    errlen) < 0)
			return -1;
		h->max_clients = v;
		return 0;
	case OPT_MAX_MESSAGE:
		if (tf_parse_size("--max-message", arg, 1, 64 << 20, &v, err,
			    errlen) < 0)
			return -1;
		h->max_message = v;
		return 0;
	case OPT_MAX_RATE:
		if (tf_parse_double("--max-rate", arg, 0, 1e9, &d, err,
			    errlen) < 0)
			return -1;
		h->max_rate = d;
		return 0;
	case OPT_INBOUND:
		c->inbound = arg;
		return 0;
	case OPT_DRAIN:
		return seconds("--drain", arg, &c->drain_ms, err, errlen);
	case OPT_KEEP_OPEN:
		c->keep_open = 1;
		return 0;
	case OPT_MAX_TOPICS:
		if (tf_parse_u64("--max-topics", arg, 1, 1000000, &v, err,
			    errlen) < 0)
			return -1;
		h->max_topics = v;
		return 0;
	case OPT_MAX_KEYS:
		if (tf_parse_u64("--max-keys", arg, 1, 100000000, &v, err,
			    errlen) < 0)
			return -1;
		h->max_keys = v;
		return 0;
	case OPT_BATCH:
		if (tf_parse_size("--batch", arg, 1024, 16 << 20, &v, err,
			    errlen) < 0)
			return -1;
		h->batch = v;
		return 0;
	}
	return 0;
}

/* ---- output ---------------------------------------------------------- */

static void
flush_output(struct state *s)
{
	if (!s->output)
		return;
	while (fflush(stdout) != 0) {
		if (errno == EINTR || errno == EAGAIN) {
			clearerr(stdout);
			continue;
		}
		tf_warn("stdout: %s: the reader went away; still serving",
			strerror(errno));
		s->output = 0;
		return;
	}
}

static void
on_inbound(const char *line, size_t len, void *arg)
{
	struct state *s = arg;

	if (!s->inbound)
		return;
	fwrite(line, 1, len, s->inbound);
	putc('\n', s->inbound);
	if (fflush(s->inbound) != 0) {
		tf_warn("%s: %s: no longer writing client messages",
			s->c->inbound, strerror(errno));
		fclose(s->inbound);
		s->inbound = NULL;
	}
}

static void
end_input(struct state *s)
{
	if (s->c->keep_open && s->rc == 0)
		tf_hub_input_ended(s->hub);
	else
		tf_hub_finish(s->hub, s->c->drain_ms);
}

/* stdin is readable: one read, every complete line in it. */
static int
on_input(int fd, void *arg)
{
	struct state *s = arg;
	struct tf_line l;
	struct tf_event ev;
	char why[256];
	ssize_t got;

	(void)fd;
	got = tf_reader_fill(s->r);
	if (got < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (got < 0) {
		tf_error("stdin: %s", strerror(errno));
		s->rc = 1;
		end_input(s);
		return -1;
	}
	while (tf_reader_next(s->r, &l)) {
		int k = tf_event_check(&l, &ev, why, sizeof why);

		if (k == 1)
			continue;
		if (k < 0) {
			tf_hub_note_bad(s->hub);
			if (s->c->common.strict) {
				tf_error("line %llu: %s",
					(unsigned long long)l.no, why);
				s->rc = 65;
				tf_hub_flush(s->hub);
				flush_output(s);
				end_input(s);
				return -1;
			}
			tf_warn("line %llu: %s (skipped)",
				(unsigned long long)l.no, why);
			continue;
		}
		if (tf_hub_publish(s->hub, l.data, l.len, &ev) < 0) {
			tf_error("line %llu: out of memory (skipped)",
				(unsigned long long)l.no);
			continue;
		}
		if (s->output) {
			fwrite(l.data, 1, l.len, stdout);
			putchar_unlocked('\n');
		}
	}
	tf_hub_flush(s->hub);
	flush_output(s);
	if (got == 0) {
		end_input(s);
		return -1;
	}
	return 0;
}

/* ---- listening ------------------------------------------------------- */

static void
lws_log(int level, const char *line)
{
	(void)level;
	if (tf_verbosity >= 2)
		fprintf(stderr, "%s: lws: %s", tf_prog(), line);
}

/* Resolves host to a numeric address for lws (NULL: every address), and
 * checks that host:port can be bound, so that "Address already in use"
 * is said plainly. Returns 0, or -1 after reporting. */
static int
check_bind(const char *host, unsigned port, char *addr, size_t size,
	const char **iface)
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
		tf_error("%s: %s", host, gai_strerror(rc));
		return -1;
	}
	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, (socklen_t)size,
		    NULL, 0, NI_NUMERICHOST))
		snprintf(addr, size, "%s", host);
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
				tf_error(strchr(addr, ':') ? "[%s]:%u: %s" :
					"%s:%u: %s", addr, port, strerror(e));
				freeaddrinfo(ai);
				return -1;
			}
		}
	}
	freeaddrinfo(ai);
	return 0;
}

static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max < 65536 ? rl.rlim_max : 65536;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void
print_stats(struct tf_hub *hub)
{
	char *json = tf_hub_stats(hub);

	if (json)
		fprintf(stderr, "%s\n", json);
	free(json);
}

static int
serve(struct state *s, struct lws_context *ctx)
{
	int stopping = 0;
	char err[256];

	if (tf_hub_adopt_fd(s->hub, STDIN_FILENO, on_input, s, err,
		    sizeof err) < 0) {
		tf_error("stdin: %s", err);
		return 1;
	}
	while (!tf_hub_done(s->hub)) {
		if (lws_service(ctx, 0) < 0)
			break;
		if (tf_signal_stop() && !stopping) {
			stopping = 1;
			tf_info("stopping on signal %d", tf_signal_stop());
			tf_hub_finish(s->hub, s->c->drain_ms);
		}
		if (tf_signal_usr1())
			print_stats(s->hub);
	}
	return s->rc;
}

static int
run(struct config *c)
{
	struct state s = { .c = c, .output = c->output };
	struct lws_context_creation_info info;
	struct lws_context *ctx = NULL;
	struct lws_vhost *vh;
	const char *iface;
	char err[512], addr[INET6_ADDRSTRLEN + 8];
	int rc = 1, port;

	if (c->inbound) {
		s.inbound = fopen(c->inbound, "a");
		if (!s.inbound) {
			tf_error("%s: %s", c->inbound, strerror(errno));
			return 1;
		}
	}
	c->hub.max_line = c->common.max_line;
	c->hub.inbound = c->inbound ? on_inbound : NULL;
	c->hub.inbound_arg = &s;
	s.hub = tf_hub_create(&c->hub, err, sizeof err);
	s.r = tf_reader_create(STDIN_FILENO, c->common.max_line);
	if (!s.hub || !s.r) {
		tf_error("%s", s.hub ? "out of memory" : err);
		goto out;
	}
	if (check_bind(c->host, (unsigned)c->port, addr, sizeof addr,
		    &iface) < 0)
		goto out;
	lws_set_log_level(tf_verbosity >= 3 ? LLL_ERR | LLL_WARN | LLL_NOTICE :
		tf_verbosity >= 2 ? LLL_ERR : 0, lws_log);
	memset(&info, 0, sizeof info);
	tf_hub_context_info(s.hub, &info);
	info.port = (int)c->port;
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
	ctx = lws_create_context(&info);
	vh = ctx ? lws_get_vhost_by_name(ctx, "default") : NULL;
	if (!vh) {
		if (c->cert)
			tf_error("%s:%u: cannot serve TLS with --cert %s and "
				 "--key %s (run with -v for details)", addr,
				(unsigned)c->port, c->cert, c->key);
		else
			tf_error("%s:%u: cannot listen (run with -v for "
				 "details)", addr, (unsigned)c->port);
		goto out;
	}
	if (tf_hub_attach(s.hub, ctx, vh, err, sizeof err) < 0) {
		tf_error("%s", err);
		goto out;
	}
	port = lws_get_vhost_listen_port(vh);
	tf_warn(strchr(addr, ':') ? "listening on %s://[%s]:%d/" :
		"listening on %s://%s:%d/", c->cert ? "wss" : "ws", addr, port);
	rc = serve(&s, ctx);
out:
	if (ctx)
		lws_context_destroy(ctx);
	flush_output(&s);
	tf_hub_destroy(s.hub);
	tf_reader_destroy(s.r);
	if (s.inbound && fclose(s.inbound) != 0) {
		tf_error("%s: %s", c->inbound, strerror(errno));
		if (!rc)
			rc = 1;
	}
	if (!s.output)
		c->output = 0;
	return rc;
}

int
main(int argc, char **argv)
{
	static char outbuf[1 << 16];
	struct config c = {
		.host = "127.0.0.1",
		.port = 8765,
		.output = 1,
		.drain_ms = 5000,
	};
	char err[512];
	int first, rc;

	tf_log_init(argv[0]);
	tf_hub_config_init(&c.hub);
	c.hub.server = "tf-broadcast " TF_VERSION;
	if (tf_options_parse(argc, argv, options, set_option, &c, &c.common,
		    &first, err, sizeof err) < 0) {
		tf_options_free();
		return tf_usage_error(err);
	}
	if (tf_options_answer(&c.common, usage)) {
		tf_options_free();
		return 0;
	}
	if (first < argc || !c.cert != !c.key) {
		if (first < argc)
			snprintf(err, sizeof err, "unexpected argument '%s' "
				"(input is stdin)", argv[first]);
		else
			snprintf(err, sizeof err,
				"--cert and --key go together");
		tf_options_free();
		return tf_usage_error(err);
	}
	setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
	tf_signals_init();
	raise_fd_limit();
	rc = run(&c);
	if (c.output && fclose(stdout) != 0 && rc == 0 && errno != EPIPE) {
		tf_error("stdout: %s", strerror(errno));
		rc = 1;
	}
	tf_options_free();
	return rc;
}
