/* hubcli.h: the command-line side of the hub that tf-broadcast and
 * tf-serve share: its options (flags, TF_<PROG>_* variables, help lines),
 * listening (the bind check, the lws context) and the input loop. Command
 * code (cmd/hubcli.c), so it may print: see there. */
#ifndef TF_HUBCLI_H
#define TF_HUBCLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hub.h"
#include "opts.h"

/* Option values of the hub's options start here; a program's own options
 * use values below it (or letters). */
#define TF_HUBCLI_OPT_BASE 512
#define TF_HUBCLI_NOPTS 33

struct tf_inbound;

struct tf_hubcli {
	const char *host;	/* "127.0.0.1" */
	uint64_t port;
	const char *cert, *key;
	const char *inbound;	/* --inbound FILE, or NULL */
	uint64_t inbound_max;	/* --inbound-max (64M; 0: no limit) */
	struct tf_inbound *inbound_w;	/* open while serving */
	int64_t drain_ms;	/* --drain (5 s) */
	int keep_open;
	int reuse_port;		/* --reuse-port */
	int listen_fd;		/* --reuse-port's socket until the hub has it */
	struct lws_vhost *vh;	/* where --reuse-port's connections go */
	/* --reuse-port out of descriptors: accept() failures this episode,
	 * since when (tf_mono_ns), the listener's pause now (ms). */
	unsigned long accept_fails;
	int64_t accept_fail_ns;
	int accept_pause_ms;
	int envelope;		/* --input envelope */
	/* More LWS_SERVER_OPTION_* for the context (a program's own). */
	uint64_t lws_options;
	struct tf_hub_config hub;
	char env[TF_HUBCLI_NOPTS][48];	/* the options' variable names */
};

/* Sets the defaults: host 127.0.0.1, port, drain 5 s, the hub's own. */
void tf_hubcli_init(struct tf_hubcli *c, uint64_t port);

/* Copies the hub's options into opts[0..TF_HUBCLI_NOPTS), each taking its
 * variable name from env_prefix ("TF_SERVE_" gives TF_SERVE_PORT); the
 * names live in c. Returns the number copied. */
size_t tf_hubcli_options(struct tf_hubcli *c, struct tf_option *opts,
	const char *env_prefix);

/* Takes one option: 0 done, -1 with err filled, 1 when val is not one of
 * the hub's (the program's own). */
int tf_hubcli_set(struct tf_hubcli *c, int val, const char *arg, char *err,
	size_t errlen);

/* Parses a hub program's command line: opts (its own and, from
 * tf_hubcli_options, the hub's, taken by fn with ctx), --help and
 * --version (answered with usage), no operands (the input is stdin), and
 * what the options cannot check one by one (--cert with --key). Returns -1
 * when the program goes on; else the status it exits with, the options
 * freed: 0 after --help or --version, 2 after a usage error (reported). */
int tf_hubcli_parse(const struct tf_hubcli *c, int argc, char **argv,
	const struct tf_option *opts, tf_option_fn *fn, void *ctx,
	struct tf_common *common, tf_usage_fn *usage);

/* Opens --inbound, if given, and has the hub write client messages to it
 * (call before tf_hub_create): 0, or -1 with err filled. A write error
 * later is reported once on stderr, and client messages are dropped (and
 * counted) from then on. */
int tf_hubcli_inbound_open(struct tf_hubcli *c, char *err, size_t errlen);

/* Closes --inbound: 0, or -1 with err filled. */
int tf_hubcli_inbound_close(struct tf_hubcli *c, char *err, size_t errlen);

/* The help lines of the hub's options, descriptions at column 26. */
void tf_hubcli_usage(FILE *f, uint64_t default_port);

/* Listens as c says with hub's protocols: checks that the address can be
 * bound (so "Address already in use" is said plainly), creates the lws
 * context and attaches the hub. *ctx is the context to service and
 * destroy; *port the port bound (for -p 0); addr gets the numeric address.
 * Returns 0, or -1 with err filled (*ctx may still need destroying). */
int tf_hubcli_listen(struct tf_hubcli *c, struct tf_hub *hub,
	struct lws_context **ctx, int *port, char *addr, size_t addrlen,
	char *err, size_t errlen);

/* The input side every hub program has: stdin read on the loop, each line
 * checked against the line contract, or with --input envelope against
 * tf(7)'s envelope (a bad one counted in the hub and reported on stderr;
 * under --strict the end, status 65), each good one handed to line(); at
 * its end the hub drains, or keeps serving with --keep-open. Envelopes
 * whose seq is not above the last are skipped and counted (/stats
 * "duplicates"); a gap line goes to the hub's tf.v1 clients. */
struct tf_line;
struct tf_reader;

struct tf_envelope;

/* A good line l and its well-known fields. Under --input envelope, env is
 * its envelope (else NULL): an event (ev its data's fields; a duplicate
 * never comes here) to publish with tf_hub_publish_at, or a gap line the
 * hub has already told its clients of (env->gap), only to pass on. */
typedef void tf_hubcli_line_fn(const struct tf_line *l,
	const struct tf_event *ev, const struct tf_envelope *env, void *arg);

/* Publishes what line() got: the line, or the envelope's event with its
 * seq, epoch and topic. Returns tf_hub_publish's or tf_hub_publish_at's
 * answer. */
int tf_hubcli_publish(struct tf_hub *hub, const struct tf_line *l,
	const struct tf_event *ev, const struct tf_envelope *env);
/* The lines of one read are all handed over (flush what they made). */
typedef void tf_hubcli_flush_fn(void *arg);

struct tf_hubcli_input {
	struct tf_hubcli *cli;
	struct tf_hub *hub;
	struct tf_reader *r;		/* on stdin */
	int strict;
	tf_hubcli_line_fn *line;
	tf_hubcli_flush_fn *flush;	/* NULL: nothing to flush */
	void *arg;
	int rc;		/* 0; 1 stdin failed; 65 a bad line under --strict */
};

/* Adopts stdin into ctx's loop and serves until the hub is done: input
 * ended and drained, or a SIGINT/SIGTERM (then drained too); SIGUSR1
 * prints the hub's stats on stderr. Returns in->rc. */
int tf_hubcli_serve(struct tf_hubcli_input *in, struct lws_context *ctx);

/* Raises the soft limit on open files for many clients: to 65536, or to
 * what c's --max-clients needs when that is more, as far as the hard limit
 * allows. Returns 0, or -1 with err filled when the limit leaves no room
 * for --max-clients clients (the program serves fewer). */
int tf_hubcli_raise_fd_limit(const struct tf_hubcli *c, char *err,
	size_t errlen);

#endif
