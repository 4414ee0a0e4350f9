/* hub.h: the WebSocket hub on libwebsockets: clients, topics and their
 * subscriptions, history and snapshots for late joiners, the tf.v1
 * protocol, slow-consumer policies and /stats. tf-broadcast and tf-serve
 * share it.
 *
 * The program owns the lws context; the hub owns the protocols on it:
 *
 *	hub = tf_hub_create(&cfg, err, sizeof err);
 *	tf_hub_context_info(hub, &info);	// protocols, ping policy
 *	info.port = ...; info.iface = ...;	// and TLS, if any
 *	ctx = lws_create_context(&info);
 *	tf_hub_attach(hub, ctx, vhost);
 *	tf_hub_adopt_fd(hub, 0, on_input, arg);	// calls tf_hub_publish
 *	while (!tf_hub_done(hub)) lws_service(ctx, 0);
 *	lws_context_destroy(ctx);
 *	tf_hub_destroy(hub);
 *
 * Protocol 0 of the list serves HTTP (the Host and Origin policy on every
 * request, /stats and /metrics behind the token, /healthz and /readyz
 * without it, the checks before an upgrade, then cfg.http for
 * anything else: tf-serve's routes) and plain
 * WebSocket clients; protocol 1 is "tf.v1"; protocol 2 reads adopted
 * descriptors. Everything runs on the lws event loop: no threads. */
#ifndef TF_HUB_H
#define TF_HUB_H

#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

struct tf_event;
struct tf_metrics;

/* Extra HTTP handling on protocol 0 (any reason the hub does not take
 * itself); same contract as an lws protocol callback. */
typedef int tf_hub_http_fn(struct lws *wsi, enum lws_callback_reasons reason,
	void *user, void *in, size_t len, void *arg);

/* Adds a program's own families to /metrics, after the hub's (names must
 * not repeat them). Errors are left in m, which reports them. */
typedef void tf_hub_metrics_fn(struct tf_metrics *m, void *arg);

/* One inbound client message as an NDJSON line (no "\n"). Returns 0 when
 * it was kept, -1 when not (counted as inbound_dropped in /stats). */
typedef int tf_hub_inbound_fn(const char *line, size_t len, void *arg);

/* An adopted descriptor is readable (or at EOF/error). Return 0 to keep
 * watching it, -1 to stop (lws then closes it), or N > 0 to leave it
 * unwatched for N ms and then watch it again (what it waits for cannot
 * be had yet, and it would stay readable). */
typedef int tf_hub_fd_fn(int fd, void *arg);

/* The longest token (--token) a client can give, in a header or the URL:
 * the smallest header buffer has room for it. */
#define TF_HUB_TOKEN_MAX 4096

/* Bounds of cfg.max_header, the bytes of a request's URL and header
 * fields together (lws's header buffer, one size per context). A URL or
 * one field may take a third of it: the least holds the longest token;
 * past the most lws would cut a field's length (16 bits). */
#define TF_HUB_HEADER_MIN (16 * 1024)
#define TF_HUB_HEADER_MAX (64 * 1024)

struct tf_hub_config {
	const char *server;	/* "tf-broadcast 0.1.0", for welcome */
	const char *topic_field;	/* route by this field; NULL: vocab */
	const char *snapshot_key;	/* latest line per value; NULL: off */
	size_t history;		/* last N lines per topic for joiners */
	size_t ring_msgs;	/* messages kept for slow clients/resume */
	size_t ring_bytes;	/* and their bytes */
	size_t max_lag;		/* messages queued before --slow applies */
	int slow_close;		/* 1: close 1008; 0: skip to live, gap */
	int64_t heartbeat_ms;	/* 0: off */
	int64_t stale_ms;	/* 0: off */
	int ping_s, idle_timeout_s;
	const char *token;	/* NULL: none; else <= TF_HUB_TOKEN_MAX */
	const char *origins;	/* comma list of Origins allowed besides the
				 * server's own; NULL: none */
	const char *allow_hosts;	/* comma list of Host names allowed */
	int loopback;		/* listening on loopback: check Host */
	size_t max_clients;	/* 0: no limit */
	size_t max_message;	/* bytes of one client message */
	double max_rate;	/* client messages per second; 0: no limit */
	size_t max_topics;	/* made by input; further ones go to other */
	size_t max_subscriptions;	/* topics one client may name */
	size_t max_keys;
	size_t batch;		/* bytes per socket write */
	size_t max_line;	/* longest line published */
	/* How long a client resumed ahead of this node waits for it to
	 * catch up before it is closed with 1013. */
	int64_t resume_wait_ms;
	size_t max_header;	/* bytes of a request's header block (24K) */
	tf_hub_inbound_fn *inbound;	/* NULL: client data is dropped */
	void *inbound_arg;
	tf_hub_http_fn *http;
	void *http_arg;
	tf_hub_metrics_fn *metrics;	/* NULL: the hub's only */
	void *metrics_arg;
};

/* Fills cfg with the defaults. */
void tf_hub_config_init(struct tf_hub_config *cfg);

struct tf_hub;

/* A hub for cfg (strings must outlive the hub). NULL with err filled. */
struct tf_hub *tf_hub_create(const struct tf_hub_config *cfg, char *err,
	size_t errlen);
/* Frees the hub; call after lws_context_destroy. NULL is fine. */
void tf_hub_destroy(struct tf_hub *hub);

/* Sets info's protocols and token limits (owned by the hub), ping/idle
 * policy, header buffer (cfg.max_header: a URL or header field up to a
 * third of it is read, a longer one answered 414/431) and the options the
 * hub needs
 * (UTF-8 validation; no extensions, so no permessage-deflate); the caller
 * sets the rest (port, iface, TLS). */
void tf_hub_context_info(struct tf_hub *hub,
	struct lws_context_creation_info *info);

/* Starts serving on vh of ctx (timers). Returns 0, or -1 with err. */
int tf_hub_attach(struct tf_hub *hub, struct lws_context *ctx,
	struct lws_vhost *vh, char *err, size_t errlen);

/* Watches fd (made non-blocking) on the loop; fn runs when readable. */
int tf_hub_adopt_fd(struct tf_hub *hub, int fd, tf_hub_fd_fn *fn, void *arg,
	char *err, size_t errlen);

/* Publishes one good line (validated by the caller; ev its well-known
 * fields, or NULL to have the hub find them). The hub copies the line.
 * Clients are told at the next tf_hub_flush. Returns 0, -1 on ENOMEM. */
int tf_hub_publish(struct tf_hub *hub, const char *line, size_t len,
	const struct tf_event *ev);

/* Publishes an event that brings its own seq (from 1) and epoch, at most
 * TF_ENVELOPE_EPOCH_MAX bytes of plain text (--input envelope), and when
 * topic is not NULL its topic. seqs increase within an epoch, not
 * necessarily by one: one not above the last is a duplicate, skipped and
 * counted (1). Another epoch starts the stream over: the history and
 * snapshots of the old one are dropped and tf.v1 clients closed with 1012.
 * Returns 0, 1, -1 on ENOMEM, -2 for a seq or epoch out of bounds. */
int tf_hub_publish_at(struct tf_hub *hub, const char *line, size_t len,
	const struct tf_event *ev, const char *topic, uint64_t seq,
	const char *epoch);

/* Whether an event of seq and epoch would be a duplicate for
 * tf_hub_publish_at (then counted as one): a way to skip it before doing
 * any other work on it. */
int tf_hub_duplicate(struct tf_hub *hub, uint64_t seq, const char *epoch);

/* The input says events from..to were lost upstream: every tf.v1 client
 * connected gets a gap with reason "upstream"; counted. */
void tf_hub_gap(struct tf_hub *hub, uint64_t from, uint64_t to);

/* Wakes the clients that have new messages and applies --max-lag: call
 * after publishing a batch. */
void tf_hub_flush(struct tf_hub *hub);

/* Counts a bad input line for /stats. */
void tf_hub_note_bad(struct tf_hub *hub);

/* Input ended (or a stop was asked): deliver what is queued for at most
 * drain_ms, then close every client with 1001 "going away". */
void tf_hub_finish(struct tf_hub *hub, int64_t drain_ms);

/* Input ended but the hub keeps serving what it holds (--keep-open). */
void tf_hub_input_ended(struct tf_hub *hub);

/* Nonzero once tf_hub_finish is done: every client closed, or past the
 * drain deadline. */
int tf_hub_done(const struct tf_hub *hub);

/* The stats as one JSON object (no "\n") into a malloc'd string the caller
 * frees; NULL on ENOMEM. */
char *tf_hub_stats(const struct tf_hub *hub);

/* For a program's own HTTP routes (cfg.http): whether the request carries
 * the token (always, when none is set). A no is counted as a refusal
 * (reason "token") in /metrics: call it once per request. */
int tf_hub_authorized(struct tf_hub *hub, struct lws *wsi);

/* Whether the hub's policy lets this request in: its Host, when the hub
 * listens on a loopback address (cfg.loopback) or cfg.allow_hosts is set,
 * must be a loopback name (localhost, 127.x.x.x, [::1], any port) or on
 * that list; its Origin, when it has one (a browser), must be the
 * server's own (http or https, host:port the Host header) or on
 * cfg.origins. 1 yes; 0 no, with *why ("host not allowed: NAME", "origin
 * not allowed"; valid until the next call) for a 403. The hub asks it of
 * every HTTP request and upgrade before anything else: cfg.http sees only
 * requests it let in. */
int tf_hub_request_allowed(struct tf_hub *hub, struct lws *wsi,
	const char **why);

/* The hub's metrics into m (lib/metrics.h), as GET /metrics shows them:
 * tf_metrics_common's (program from cfg.server), clients, deliveries,
 * bytes, drops, gaps, slow closes, resumes, refusals by reason, inbound,
 * the ring, input state and per-topic subscribers (at most 100 topics
 * named; the rest summed into "other"). 0, or -1 on ENOMEM. */
int tf_hub_metrics(struct tf_hub *hub, struct tf_metrics *m);

/* The stream's epoch and the sequence number of the last line published
 * (the input's under tf_hub_publish_at): a tf.v1 client that resumes from
 * them gets every line published after. */
const char *tf_hub_epoch(const struct tf_hub *hub);
uint64_t tf_hub_seq(const struct tf_hub *hub);

/* WebSocket clients connected now. */
size_t tf_hub_clients(const struct tf_hub *hub);

#endif
