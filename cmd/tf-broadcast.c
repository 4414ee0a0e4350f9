/* tf-broadcast: serve every line of stdin to WebSocket clients (plain and
 * tf.v1, tf(7)) through the hub in lib/hub.c, and pass it on to stdout. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "envelope.h"
#include "hub.h"
#include "hubcli.h"
#include "line.h"
#include "log.h"
#include "opts.h"
#include "sig.h"
#include "vocab.h"

/* The hub's options (lib/hubcli.c), then ours, then the end. */
static struct tf_option options[] = {
	[TF_HUBCLI_NOPTS] = { "no-output", no_argument, 'n', NULL },
	{ NULL, 0, 0, NULL },
};

struct config {
	int output;
	struct tf_hubcli net;
	struct tf_common common;
};

struct state {
	struct config *c;
	struct tf_hub *hub;
	struct tf_reader *r;
	int output;		/* still writing stdout */
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
		"  -n, --no-output         write nothing to stdout\n");
	tf_hubcli_usage(f, 8765);
	fprintf(f,
		"      --strict            the first bad line is fatal (exit 65)\n"
		"      --max-line SIZE     longest line accepted (default 1M)\n");
	tf_options_usage(f, 26);
	fprintf(f,
		"\n"
		"GET /stats on the same port (and SIGUSR1, on stderr) gives counters\n"
		"as JSON, GET /metrics the same for Prometheus; GET /healthz and\n"
		"/readyz (no token) are for probes. See tf-broadcast(1) and tf(7).\n");
}

static int
set_option(int val, const char *arg, void *ctx, char *err, size_t errlen)
{
	struct config *c = ctx;

	if (val == 'n') {
		c->output = 0;
		return 0;
	}
	return tf_hubcli_set(&c->net, val, arg, err, errlen);
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

/* A good line: to the clients (a gap line: told already), and on to
 * stdout as read. */
static void
on_line(const struct tf_line *l, const struct tf_event *ev,
	const struct tf_envelope *env, void *arg)
{
	struct state *s = arg;

	if ((!env || !env->gap) && tf_hubcli_publish(s->hub, l, ev, env) < 0) {
		tf_error("line %llu: out of memory (skipped)",
			(unsigned long long)l->no);
		return;
	}
	if (s->output) {
		fwrite(l->data, 1, l->len, stdout);
		putchar_unlocked('\n');
	}
}

static void
on_flush(void *arg)
{
	flush_output(arg);
}

static int
run(struct config *c)
{
	struct state s = { .c = c, .output = c->output };
	struct tf_hubcli *net = &c->net;
	struct tf_hubcli_input in = {
		.cli = net,
		.strict = c->common.strict,
		.line = on_line,
		.flush = on_flush,
		.arg = &s,
	};
	struct lws_context *ctx = NULL;
	char err[512], addr[INET6_ADDRSTRLEN + 8];
	int rc = 1, port;

	if (tf_hubcli_inbound_open(net, err, sizeof err) < 0) {
		tf_error("%s", err);
		return 1;
	}
	net->hub.max_line = c->common.max_line;
	s.hub = tf_hub_create(&net->hub, err, sizeof err);
	s.r = tf_reader_create(STDIN_FILENO, c->common.max_line);
	if (!s.hub || !s.r) {
		tf_error("%s", s.hub ? "out of memory" : err);
		goto out;
	}
	/* Methods lws does not know get the hub's JSON 405, not its HTML
	 * 403, and CONNECT an answer instead of a socket held open. */
	net->lws_options |=
		LWS_SERVER_OPTION_FALLBACK_TO_APPLY_LISTEN_ACCEPT_CONFIG;
	if (tf_hubcli_listen(net, s.hub, &ctx, &port, addr, sizeof addr, err,
		    sizeof err) < 0) {
		tf_error("%s", err);
		goto out;
	}
	tf_warn(strchr(addr, ':') ? "listening on %s://[%s]:%d/" :
		"listening on %s://%s:%d/", net->cert ? "wss" : "ws", addr,
		port);
	in.hub = s.hub;
	in.r = s.r;
	rc = tf_hubcli_serve(&in, ctx);
out:
	if (ctx)
		lws_context_destroy(ctx);
	flush_output(&s);
	tf_hub_destroy(s.hub);
	tf_reader_destroy(s.r);
	if (tf_hubcli_inbound_close(net, err, sizeof err) < 0) {
		tf_error("%s", err);
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
	struct config c = { .output = 1 };
	char err[300];
	int rc;

	tf_log_init(argv[0]);
	tf_hubcli_init(&c.net, 8765);
	tf_hubcli_options(&c.net, options, "TF_BROADCAST_");
	c.net.hub.server = "tf-broadcast " TF_VERSION;
	if ((rc = tf_hubcli_parse(&c.net, argc, argv, options, set_option, &c,
		    &c.common, usage)) >= 0)
		return rc;
	setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
	tf_signals_init();
	if (tf_hubcli_raise_fd_limit(&c.net, err, sizeof err) < 0)
		tf_warn("%s", err);
	rc = run(&c);
	if (c.output && fclose(stdout) != 0 && rc == 0 && errno != EPIPE) {
		tf_error("stdout: %s", strerror(errno));
		rc = 1;
	}
	tf_options_free();
	return rc;
}
