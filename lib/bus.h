/* bus.h: what tf-pub and tf-sub share on the way to NATS JetStream: the
 * connection options (servers, credentials, TLS) from flags, environment
 * or config file; the connection; the stream; topic subjects and the
 * stream's epoch. */
#ifndef TF_BUS_H
#define TF_BUS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <nats/nats.h>

#include "opts.h"

/* Option values of the bus options start here; a program's own options
 * use values below it (or letters). */
#define TF_BUS_OPT_BASE 768
#define TF_BUS_NOPTS 8

#define TF_BUS_MAX_SERVERS 32
/* Longest subject prefix, and a subject buffer that holds any subject
 * tf_bus_subject makes from a topic of up to TF_BUS_TOPIC_MAX bytes. */
#define TF_BUS_PREFIX_MAX 128
#define TF_BUS_TOPIC_MAX 128
#define TF_BUS_SUBJECT_MAX (TF_BUS_PREFIX_MAX + 1 + 3 * TF_BUS_TOPIC_MAX + 1)
/* An epoch: 16 hex digits and a NUL. */
#define TF_BUS_EPOCH_SIZE 17

struct tf_bus_config {
	const char *servers;	/* -s, TF_NATS_URL: "nats://h:4222,..." */
	const char *stream;	/* --stream, TF_NATS_STREAM: "TF" */
	const char *prefix;	/* --subject-prefix: "tf" */
	const char *creds;	/* --creds FILE (a path, not a secret) */
	const char *tls_ca;	/* --tls-ca FILE */
	/* Secrets: only from the environment or the config file. */
	const char *token, *user, *password;
};

/* Sets the defaults. */
void tf_bus_config_init(struct tf_bus_config *c);

/* Copies the bus options into opts[0..TF_BUS_NOPTS). */
void tf_bus_options(struct tf_option *opts);

/* Takes one option: 0 done, -1 with err filled, 1 when val is not one of
 * the bus's (the program's own). */
int tf_bus_set(struct tf_bus_config *c, int val, const char *arg, char *err,
	size_t errlen);

/* Checks what the options cannot check one by one, once all are parsed:
 * a user needs a password, and a server URL that holds credentials must
 * not come from the command line (argv, where ps shows it). Returns 0, or
 * -1 with err filled (a usage error). */
int tf_bus_check(const struct tf_bus_config *c, int argc, char **argv,
	char *err, size_t errlen);

/* The help lines of the bus options, descriptions at column 23. */
void tf_bus_usage(FILE *f);

/* Copies url into buf with any user:password@ replaced by "***@", for
 * messages. */
void tf_bus_redact(const char *url, char *buf, size_t size);

/* What the connection reports from nats.c's threads. */
enum tf_bus_event {
	TF_BUS_DISCONNECTED,
	TF_BUS_RECONNECTED,
	TF_BUS_CLOSED,
	TF_BUS_SLOW_CONSUMER,	/* a subscription dropped messages */
	TF_BUS_MISSED_HEARTBEAT,
	TF_BUS_MISMATCH,	/* a consumer's sequence disagrees */
	TF_BUS_ERROR,		/* any other asynchronous error */
};

/* Called on one of nats.c's threads: it must not call into nats.c (a
 * request from there deadlocks); note the event and wake the program. */
typedef void tf_bus_event_fn(enum tf_bus_event ev, void *arg);

struct tf_bus;

/* Connects to the first server of c that answers, as name (seen in the
 * server's monitoring), and opens a JetStream context with jo (NULL: the
 * defaults; a Wait of 0 becomes 3 s). reconnect: let
 * nats.c reconnect by itself after a disconnect (else the connection
 * closes and the program makes a new one). The stop signals should be
 * blocked in the calling thread (tf_signal_wait(NULL, 0, 0) does it) so
 * that nats.c's threads, which inherit its mask, never take them. Returns
 * NULL with err filled: the servers tried, and why. */
struct tf_bus *tf_bus_connect(const struct tf_bus_config *c, const char *name,
	int reconnect, jsOptions *jo, tf_bus_event_fn *fn, void *arg,
	char *err, size_t errlen);

/* Closes and frees; tf_bus_destroy(NULL) does nothing. */
void tf_bus_destroy(struct tf_bus *b);

natsConnection *tf_bus_nc(const struct tf_bus *b);
jsCtx *tf_bus_js(const struct tf_bus *b);
/* The URL connected to, redacted (for messages). */
const char *tf_bus_url(const struct tf_bus *b);

/* Frees what nats.c keeps for the process, waiting up to 2 s for its
 * threads; after the last connection is destroyed. */
void tf_bus_shutdown(void);

/* A stream as tf sees it. */
struct tf_bus_stream {
	uint64_t first_seq, last_seq, msgs;
	int64_t created_ns;
	int64_t replicas;
	int64_t duplicates_ns;	/* how long the server keeps message ids */
	int covers;		/* its subjects take every PREFIX.topic */
	int within;		/* and only subjects under PREFIX. */
	char epoch[TF_BUS_EPOCH_SIZE];
};

/* Limits of a stream tf-pub creates (0: none; replicas 0: 1;
 * duplicates_ns 0: the server's default window for message ids). */
struct tf_bus_limits {
	int64_t max_age_ns, max_bytes, max_msgs, replicas, duplicates_ns;
};

#define TF_BUS_NOT_FOUND 1

/* Reads the stream's state into *st (covers for prefix). Returns 0,
 * TF_BUS_NOT_FOUND when there is no such stream, or -1 with err filled. */
int tf_bus_stream_info(struct tf_bus *b, const char *stream,
	const char *prefix, struct tf_bus_stream *st, char *err,
	size_t errlen);

/* Creates the stream, taking every subject PREFIX.>, file storage, limits
 * l, old messages discarded first; then reads it like tf_bus_stream_info.
 * A stream made meanwhile by another publisher is taken as it is. Returns
 * 0 or -1 with err filled. */
int tf_bus_stream_create(struct tf_bus *b, const char *stream,
	const char *prefix, const struct tf_bus_limits *l,
	struct tf_bus_stream *st, char *err, size_t errlen);

/* Fills err with "what: " and nats.c's last error for status s. */
void tf_bus_error(char *err, size_t errlen, const char *what, natsStatus s);

/* Subjects. A topic becomes one subject token: bytes A-Z a-z 0-9 _ - stay,
 * every other byte is %XX (two upper-case hex digits), and the empty
 * topic is "%". Writes PREFIX.TOKEN into buf; returns its length, or
 * (size_t)-1 if it does not fit. */
size_t tf_bus_subject(const char *prefix, const char *topic, size_t len,
	char *buf, size_t size);

/* Checks a subject prefix: tokens of printable ASCII without '*', '>' or
 * spaces, separated by single dots, at most TF_BUS_PREFIX_MAX bytes.
 * Returns 0, or -1 with err filled. */
int tf_bus_prefix_check(const char *prefix, char *err, size_t errlen);

/* Checks a stream name: printable ASCII without spaces, '.', '*', '>',
 * '/' or '\\', at most 255 bytes. Returns 0, or -1 with err filled. */
int tf_bus_stream_check(const char *name, char *err, size_t errlen);

/* True when the subject pattern (with '*' and '>' wildcards) takes every
 * subject PREFIX.TOKEN, whatever the token. */
int tf_bus_covers(const char *pattern, const char *prefix);

/* The epoch of a stream: 16 hex digits of a 64-bit FNV-1a hash of its
 * name, a NUL and its creation time in decimal nanoseconds. The same
 * stream gives the same epoch on every host; a stream deleted and made
 * again gets another. buf holds TF_BUS_EPOCH_SIZE bytes. */
void tf_bus_epoch(const char *stream, int64_t created_ns, char *buf);

/* ---- the checked consumer ------------------------------------------- */

/* Where a subscriber is in the stream: nats.c 3.4's consumers can drop
 * messages silently, so every message's stream and consumer sequence is
 * checked here before it is taken. */
struct tf_bus_cursor {
	uint64_t next;		/* the stream seq wanted next; 0: not known
				 * before the first */
	uint64_t end;		/* the last seq wanted (0: none) */
	uint64_t cseq;		/* consumer seq of the last message */
	int checked;		/* every stream seq reaches us: a jump in
				 * them is a hole */
	int done;		/* end reached */
};

enum tf_bus_verdict {
	TF_BUS_TAKE,		/* the next message: write it */
	TF_BUS_AGAIN,		/* delivered twice by the consumer: had it */
	TF_BUS_DUP,		/* below next: a new consumer's repeat */
	TF_BUS_PAST,		/* past end: not wanted (done is set) */
	TF_BUS_RESYNC,		/* the consumer skipped messages: make it
				 * again from next */
};

/* Checks a message of stream seq seq, consumer seq cseq. On TF_BUS_TAKE
 * the cursor moves past it, and when the stream skipped sequences before
 * it (checked), *gap_from..*gap_to is that hole, for the caller to report
 * (*gap_from 0: none). */
enum tf_bus_verdict tf_bus_cursor_check(struct tf_bus_cursor *c,
	uint64_t seq, uint64_t cseq, uint64_t *gap_from, uint64_t *gap_to);

/* Reads the stream and consumer sequences of a message a consumer
 * delivered from its reply subject, "$JS.ACK." and then 7 tokens (v1:
 * stream, consumer, delivered, stream seq, consumer seq, time, pending)
 * or 9 or more (v2: domain and account hash first), as nats.c's
 * natsMsg_GetMetaData does but without allocating: a cost per message
 * the subscriber's hot path need not pay. The numbers must be decimal
 * and fit in 63 bits. Returns 0, or -1 when reply is not such a subject
 * (not a stream message). */
int tf_bus_ack_seqs(const char *reply, uint64_t *sseq, uint64_t *cseq);

/* Writes the message id "ID-NO" (publisher id, line number) into buf,
 * which holds idlen + 22 bytes; returns its length. By hand: snprintf
 * cost a thousand instructions a line on the publisher's hot path. */
size_t tf_bus_msg_id(char *buf, const char *id, size_t idlen, uint64_t no);

/* ---- the publish window --------------------------------------------- */

/* A line tf-pub has sent and the stream has not yet acknowledged, oldest
 * first. Its message belongs to nats.c while SENT (the ack handler hands
 * it back on failure), to the window's owner while FAILED. */
enum tf_bus_state { TF_BUS_SENT, TF_BUS_ACKED, TF_BUS_FAILED };

struct tf_bus_entry {
	uint64_t no;		/* input line number: rises through the window */
	int64_t sent_ns;	/* first sent (tf_mono_ns) */
	int64_t sent_last;	/* last sent: an ack timeout runs from here */
	natsMsg *msg;		/* FAILED: the owner's, to send again */
	/* SENT: the message nats.c holds for it, by address (how its
	 * acknowledgement is known: see tf_bus_window_ack). */
	const void *key;
	size_t len;
	enum tf_bus_state state;
};

/* A ring of at most cap entries with the count of each state. Not
 * locked: its owner holds its own lock around every call when nats.c's
 * threads share it. */
struct tf_bus_window {
	struct tf_bus_entry *e;
	size_t cap, head, n;
	size_t bytes;			/* of the n entries' lines */
	size_t nsent, nfailed;		/* entries in those states */
};

/* Makes an empty window of cap entries. Returns 0, or -1 (ENOMEM). */
int tf_bus_window_init(struct tf_bus_window *w, size_t cap);

/* Frees the window and the messages its entries still own. */
void tf_bus_window_finish(struct tf_bus_window *w);

/* The i-th entry from the oldest (i < n). */
struct tf_bus_entry *tf_bus_window_at(struct tf_bus_window *w, size_t i);

/* The entry of line no, or NULL. */
struct tf_bus_entry *tf_bus_window_find(struct tf_bus_window *w, uint64_t no);

/* Appends line no of len bytes, SENT at now (n < cap). Returns it. */
struct tf_bus_entry *tf_bus_window_push(struct tf_bus_window *w, uint64_t no,
	size_t len, int64_t now);

/* Takes back the newest entry (a line that was never sent). */
void tf_bus_window_pop_newest(struct tf_bus_window *w);

/* Moves e to another state, keeping the counts. */
void tf_bus_window_set(struct tf_bus_window *w, struct tf_bus_entry *e,
	enum tf_bus_state state);

/* The SENT entry in ring slot *next if key is its key, else NULL (the
 * caller then finds the entry by line number and calls
 * tf_bus_window_acked). Acknowledgements come back in the order sent as
 * a rule, so *next is the slot after the last entry acknowledged. A
 * match is certain: two SENT entries cannot hold the same live message,
 * and an entry's key is set before it is sent and read only while it is
 * SENT. Moves *next on past a match. */
struct tf_bus_entry *tf_bus_window_ack(struct tf_bus_window *w,
	const void *key, size_t *next);

/* Sets *next to the slot after e's. */
void tf_bus_window_acked(struct tf_bus_window *w, struct tf_bus_entry *e,
	size_t *next);

/* Removes the acknowledged entries at the front; returns how many. */
size_t tf_bus_window_settle(struct tf_bus_window *w);

#endif
