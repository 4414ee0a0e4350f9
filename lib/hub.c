/* hub.c: the WebSocket hub: one ring of messages framed once, clients with
 * a cursor into it, batched raw writes, the tf.v1 protocol (tf(7)), late
 * joiners, slow consumers, the checks before an upgrade, /stats, /metrics,
 * /healthz and /readyz. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "envelope.h"
#include "http.h"
#include "hub.h"
#include "log.h"
#include "metrics.h"
#include "opts.h"
#include "ring.h"
#include "scan.h"
#include "vocab.h"
#include "wsproto.h"

#define TOPIC_MAX 128		/* bytes of a topic name */
#define KEY_MAX 256		/* bytes of a snapshot key */
#define CTRL_MAX (1024 * 1024)	/* control bytes queued for one client */
#define TICK_MS 200
/* A URL (path and query) or one header field may take this part of
 * cfg.max_header: longer ones are answered 414 and 431 (too_long). */
#define HEADER_PARTS 3
_Static_assert(TF_HUB_HEADER_MIN / HEADER_PARTS >= TF_HUB_TOKEN_MAX + 64,
	"a request can carry the longest token in a header or the URL");
/* The longest URL any cfg.max_header lets in, and the byte past it where
 * lws cuts one. */
#define URL_ROOM (TF_HUB_HEADER_MAX / HEADER_PARTS + 2)
/* A tf.v1 client gets no events until its first message or HOLD_MS after
 * joining, so that a resume sent on connecting comes before live data. */
#define HOLD_MS 250
/* lws gives each WebSocket client a receive buffer of this many bytes
 * for as long as it is connected (4 KiB unless told: three quarters of an
 * idle client's 5.5 KiB) and hands a longer frame over in pieces of that
 * size. Client messages are mostly protocol ops of under 100 bytes, and
 * client_receive joins the pieces of a longer one, up to --max-message.
 * lws takes a control frame (at most 125 bytes) from this buffer whole. */
#define RX_PIECE 128
_Static_assert(RX_PIECE >= 125, "a control frame fits in one piece");

enum { PROTO_PLAIN = 0x7f00, PROTO_V1, PROTO_FD };

struct topic {
	char *name;
	uint64_t batch;		/* messages in the current batch */
	struct tf_msg **hist;	/* last cfg.history messages, circular */
	size_t hist_n, hist_pos;
};

struct snap {
	char *key;
	struct tf_msg *m;
};

struct backlog_entry {
	struct tf_msg *m;
	int snap;
};

struct backlog {
	size_t n, pos;
	struct backlog_entry e[];
};

struct client {
	struct tf_hub *hub;
	struct lws *wsi;
	struct client *prev, *next;
	uint64_t id;
	uint64_t cursor;	/* next seq of the ring to look at */
	uint64_t pending;	/* messages for it in [cursor, seq] */
	uint64_t join_seq;	/* the last seq when it joined */
	/* The seqs clients see (struct tf_msg's eseq): at join, and of the
	 * message before cursor (for a gap's from). */
	uint64_t join_eseq, seen;
	/* A resume ahead of this node (--input envelope): events up to wait
	 * are skipped, it has them; past wait_until it is closed. */
	uint64_t wait;
	int64_t wait_until;
	uint64_t *bits;		/* topics: in, or (when all) not in */
	uint32_t words;
	/* Topics named that input has not made yet, in the same sense as
	 * bits: held here, not in the hub's table, so that no client can
	 * fill the table that routing depends on; moved to bits when input
	 * makes the topic. Bits and names: at most cfg.max_subscriptions. */
	char **names;
	uint32_t nnames;
	uint8_t v1, all, live, replaying, rx_skip, close_sent, hold;
	int64_t hold_until;	/* tf.v1: no data before (see HOLD_MS) */
	uint16_t close_code;
	const char *close_why;
	unsigned char *ctrl;	/* control frames, whole */
	size_t ctrl_len, ctrl_off, ctrl_cap;
	struct backlog *bl;
	uint64_t *sent_bl;	/* seqs of backlog sent (tf.v1), ascending */
	size_t sent_n;
	uint64_t rcur, rend, rfrom, rcount;	/* a resume in progress */
	char *rx;		/* a message in pieces (see RX_PIECE) */
	uint32_t rx_len, rx_cap;	/* at most --max-message (64 MiB) */
	double tokens;
	int64_t tokens_ms;
	/* Pings (see ping_check): the last frame from it, the last ping
	 * asked for; ping_out: none came since; ping_wait: the frame is yet
	 * to be written. */
	int64_t rx_ms, ping_ms;
	uint8_t ping_out, ping_wait;
};

struct fdwatch {
	struct fdwatch *next;
	struct tf_hub *hub;
	int fd;
	tf_hub_fd_fn *fn;
	void *arg;
	struct lws *wsi;
	int done;		/* fn returned -1 */
	lws_sorted_usec_list_t resume;	/* fn asked for a pause */
};

/* Why the hub said no, for tf_refusals_total{reason}: requests and
 * upgrades refused, and clients closed for what they sent. A fixed set,
 * so the label never grows. */
enum refusal {
	REF_HOST, REF_ORIGIN, REF_TOKEN, REF_TOO_LARGE, REF_SUBSCRIPTIONS,
	REF_CLIENTS, REF_SHUTTING_DOWN, REF_MESSAGE_SIZE, REF_RATE, REF_N
};

static const char *const refusal_name[REF_N] = {
	"host", "origin", "token", "request_too_large", "max_subscriptions",
	"max_clients", "shutting_down", "message_too_big", "rate"
};

struct stats {
	uint64_t in, bad, out, bytes_out, drops, gaps, slow_closed,
		inbound, inbound_dropped, evicted, rejected, clients_total,
		resumes, dups, input_gaps, input_missed, epochs,
		resume_timeouts, ping_timeouts;
	uint64_t refused[REF_N];
};

/* /metrics: per-topic series for the first this many topics made (in
 * order of making); the rest are summed into topic="other", so the label
 * set stays bounded whatever --max-topics is. */
#define METRICS_TOPICS 100

struct tf_hub {
	struct tf_hub_config cfg;
	struct lws_protocols protocols[4];
	lws_retry_bo_t retry;
	struct lws_context *ctx;
	struct lws_vhost *vh;
	char epoch[TF_ENVELOPE_EPOCH_MAX + 1];
	struct tf_ring *ring;
	uint64_t seq;		/* messages so far: the ring's index */
	/* The seq clients see of the last message: seq, or the input's
	 * (--input envelope), increasing but not consecutive. The epoch
	 * began at message epoch_pos, after the input's floor0 (what came
	 * before is not known here). renumbered: eseq ever differed from
	 * seq. */
	uint64_t eseq, epoch_pos, floor0;
	int renumbered;
	struct topic *topics;
	uint32_t ntopics;
	uint32_t *tmap;		/* hash of names to id + 1 */
	size_t tmap_cap;
	uint32_t *dirty;
	uint32_t ndirty;
	uint64_t batch_total;
	struct snap *snaps;	/* open addressing */
	size_t *snap_order;	/* the used slots, in order of first use */
	size_t snap_cap, nsnaps;
	struct tf_scan_keys keys;
	int k_field, k_snap;
	struct client *clients;
	size_t nclients, nv1;
	uint64_t next_id;
	unsigned char *scratch;
	size_t scratch_cap;
	struct stats st;
	struct tf_metrics *metrics;	/* /metrics' builder, reused */
	int64_t start_wall_ns;
	char why[300];		/* the last refusal's reason */
	struct lws_token_limits limits;	/* for lws: see too_long */
	int64_t start_ms, last_input_ms, next_hb_ms;
	int stale_sent, input_ended, draining, killed, attached;
	int64_t deadline_ms;
	lws_sorted_usec_list_t tick;
	struct fdwatch *fds;
};

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
	void *user, void *in, size_t len);

static int64_t
now_ms(void)
{
	return tf_now_ns() / 1000000;
}

static int64_t
mono_ms(void)
{
	return tf_mono_ns() / 1000000;
}

static uint32_t
hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

void
tf_hub_config_init(struct tf_hub_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->server = "tf-hub";
	cfg->ring_msgs = 65536;
	cfg->ring_bytes = 64 << 20;
	cfg->max_lag = 10000;
	cfg->ping_s = 30;
	cfg->idle_timeout_s = 120;
	cfg->max_message = 64 * 1024;
	/* A client may send this many messages a second (bursts of as many):
	 * enough for any protocol use, and a bound on what one client can make
	 * the server write to --inbound. */
	cfg->max_rate = 100;
	cfg->max_topics = 1024;
	cfg->max_subscriptions = 64;
	cfg->max_keys = 100000;
	cfg->batch = 64 * 1024;
	cfg->max_line = 1024 * 1024;
	cfg->resume_wait_ms = 30000;
	/* lws's default is 4 KiB: a URL or field of 8 KiB, and more. */
	cfg->max_header = 24 * 1024;
}

/* ---- topics ---------------------------------------------------------- */

static uint32_t
topic_find(struct tf_hub *h, const char *name, size_t n, int create)
{
	size_t mask = h->tmap_cap - 1, i = hash(name, n) & mask;
	struct topic *t;

	if (n > TOPIC_MAX)
		return UINT32_MAX;
	for (; h->tmap[i]; i = (i + 1) & mask) {
		t = &h->topics[h->tmap[i] - 1];
		if (!strncmp(t->name, name, n) && !t->name[n])
			return h->tmap[i] - 1;
	}
	if (!create || h->ntopics >= h->cfg.max_topics)
		return UINT32_MAX;
	t = &h->topics[h->ntopics];
	memset(t, 0, sizeof *t);
	t->name = strndup(name, n);
	if (!t->name)
		return UINT32_MAX;
	h->tmap[i] = ++h->ntopics;
	return h->ntopics - 1;
}

static int
subscribed(const struct client *c, uint32_t t)
{
	int bit = t / 64 < c->words && (c->bits[t / 64] >> (t % 64) & 1);

	return c->all ? !bit : bit;
}

static int
set_bit(struct client *c, uint32_t t, int on)
{
	if (t / 64 >= c->words) {
		uint32_t words = t / 64 + 1;
		uint64_t *b;

		if (!on)
			return 0;
		b = realloc(c->bits, words * sizeof *b);
		if (!b)
			return -1;
		memset(b + c->words, 0, (words - c->words) * sizeof *b);
		c->bits = b;
		c->words = words;
	}
	if (on)
		c->bits[t / 64] |= (uint64_t)1 << (t % 64);
	else
		c->bits[t / 64] &= ~((uint64_t)1 << (t % 64));
	return 0;
}

static int
has_exclusions(const struct client *c)
{
	uint32_t i;

	for (i = 0; i < c->words; i++)
		if (c->bits[i])
			return 1;
	return 0;
}

/* Topics the client names: its bits and its names. */
static size_t
named(const struct client *c)
{
	size_t n = c->nnames;
	uint32_t i;

	for (i = 0; i < c->words; i++)
		n += (size_t)__builtin_popcountll(c->bits[i]);
	return n;
}

static int
name_index(const struct client *c, const char *name, size_t n)
{
	uint32_t i;

	for (i = 0; i < c->nnames; i++)
		if (!strncmp(c->names[i], name, n) && !c->names[i][n])
			return (int)i;
	return -1;
}

static void
names_free(struct client *c)
{
	while (c->nnames)
		free(c->names[--c->nnames]);
	free(c->names);
	c->names = NULL;
}

/* Subscribes (on) or unsubscribes one topic name; "*" is every topic.
 * Returns 0, or -1 when it would take the client past
 * cfg.max_subscriptions (then nothing changes). */
static int
subscribe(struct tf_hub *h, struct client *c, const char *name, size_t n,
	int on)
{
	/* In the set: subscribed, or when on "*", left out. */
	int in = c->all ? !on : on, k;
	uint32_t t;
	char **p;

	if (n == 1 && *name == '*') {
		c->all = (uint8_t)on;
		if (c->words)
			memset(c->bits, 0, c->words * sizeof *c->bits);
		names_free(c);
		return 0;
	}
	if (n > TOPIC_MAX)
		return 0;
	t = topic_find(h, name, n, 0);
	if (t != UINT32_MAX) {
		if (in && !(t / 64 < c->words && (c->bits[t / 64] >>
		    (t % 64) & 1)) && named(c) >= h->cfg.max_subscriptions)
			return -1;
		set_bit(c, t, in);
		return 0;
	}
	k = name_index(c, name, n);
	if (!in) {
		if (k >= 0) {
			free(c->names[k]);
			c->names[k] = c->names[--c->nnames];
		}
		return 0;
	}
	if (k >= 0)
		return 0;
	if (named(c) >= h->cfg.max_subscriptions)
		return -1;
	p = realloc(c->names, (c->nnames + 1) * sizeof *p);
	if (!p)
		return 0;
	c->names = p;
	if ((c->names[c->nnames] = strndup(name, n)))
		c->nnames++;
	return 0;
}

/* Input made topic t: clients that named it before hold it now by id. */
static void
claim_names(struct tf_hub *h, uint32_t t)
{
	const char *name = h->topics[t].name;
	struct client *c;
	int k;

	for (c = h->clients; c; c = c->next) {
		if (!c->nnames || (k = name_index(c, name, strlen(name))) < 0)
			continue;
		free(c->names[k]);
		c->names[k] = c->names[--c->nnames];
		set_bit(c, t, 1);
	}
}

/* ---- control frames -------------------------------------------------- */

static void close_client(struct client *c, int code, const char *why);
static void stale_one(struct tf_hub *h, struct client *c);

/* Queues b as one text frame for c, after the control frames before it. */
static void
ctrl_add(struct client *c, const struct tf_buf *b)
{
	struct tf_hub *h = c->hub;
	size_t need = TF_WS_HEADER_MAX + b->len;

	if (b->failed || need > h->scratch_cap - LWS_PRE)
		return;
	if (c->ctrl_len + need > CTRL_MAX) {
		close_client(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "too slow");
		return;
	}
	if (c->ctrl_len + need > c->ctrl_cap) {
		size_t cap = c->ctrl_cap ? c->ctrl_cap : 512;
		unsigned char *p;

		while (cap < c->ctrl_len + need)
			cap *= 2;
		p = realloc(c->ctrl, cap);
		if (!p)
			return;
		c->ctrl = p;
		c->ctrl_cap = cap;
	}
	c->ctrl_len += tf_ws_header(c->ctrl + c->ctrl_len, TF_WS_TEXT, b->len);
	memcpy(c->ctrl + c->ctrl_len, b->p, b->len);
	c->ctrl_len += b->len;
	if (c->wsi)
		lws_callback_on_writable(c->wsi);
}

static void
add_topics(struct tf_hub *h, const struct client *c, struct tf_buf *b)
{
	uint32_t t;
	int first = 1;

	tf_buf_adds(b, "\"topics\":[");
	if (c->all) {
		tf_buf_adds(b, "\"*\"]");
		if (!has_exclusions(c) && !c->nnames)
			return;
		tf_buf_adds(b, ",\"except\":[");
	}
	for (t = 0; t < h->ntopics; t++) {
		if (t / 64 >= c->words || !(c->bits[t / 64] >> (t % 64) & 1))
			continue;
		if (!first)
			tf_buf_add(b, ",", 1);
		first = 0;
		tf_buf_json(b, h->topics[t].name, strlen(h->topics[t].name));
	}
	for (t = 0; t < c->nnames; t++) {
		if (!first)
			tf_buf_add(b, ",", 1);
		first = 0;
		tf_buf_json(b, c->names[t], strlen(c->names[t]));
	}
	tf_buf_add(b, "]", 1);
}

static void
send_welcome(struct tf_hub *h, struct client *c)
{
	struct tf_buf b;

	tf_buf_init(&b);
	tf_buf_addf(&b, "{\"type\":\"welcome\",\"epoch\":\"%s\",\"seq\":%llu,",
		h->epoch, (unsigned long long)h->eseq);
	add_topics(h, c, &b);
	tf_buf_adds(&b, ",\"server\":");
	tf_buf_json(&b, h->cfg.server, strlen(h->cfg.server));
	tf_buf_addf(&b, ",\"client\":%llu", (unsigned long long)c->id);
	/* Whether the input is stale, and since when: a client shows the
	 * truth from the first message, not "live" until a notice follows. */
	tf_buf_addf(&b, ",\"stale\":%s,\"idle_ms\":%lld,\"stale_ms\":%lld}",
		h->stale_sent ? "true" : "false",
		(long long)(mono_ms() - h->last_input_ms),
		(long long)h->cfg.stale_ms);
	ctrl_add(c, &b);
	tf_buf_finish(&b);
}

static void
send_subscribed(struct tf_hub *h, struct client *c)
{
	struct tf_buf b;

	tf_buf_init(&b);
	tf_buf_adds(&b, "{\"type\":\"subscribed\",");
	add_topics(h, c, &b);
	tf_buf_add(&b, "}", 1);
	ctrl_add(c, &b);
	tf_buf_finish(&b);
}

static void
send_gap(struct client *c, uint64_t from, uint64_t to, uint64_t missed,
	const char *reason)
{
	struct tf_buf b;

	tf_buf_init(&b);
	tf_buf_addf(&b, "{\"type\":\"gap\",\"from\":%llu,\"to\":%llu,"
		"\"missed\":%llu,\"reason\":\"%s\"}", (unsigned long long)from,
		(unsigned long long)to, (unsigned long long)missed, reason);
	ctrl_add(c, &b);
	tf_buf_finish(&b);
}

static void
send_error(struct client *c, const char *msg)
{
	struct tf_buf b;

	tf_buf_init(&b);
	tf_buf_adds(&b, "{\"type\":\"error\",\"message\":");
	tf_buf_json(&b, msg, strlen(msg));
	tf_buf_add(&b, "}", 1);
	ctrl_add(c, &b);
	tf_buf_finish(&b);
}

static void
send_heartbeat(struct tf_hub *h, struct client *c)
{
	struct tf_buf b;

	tf_buf_init(&b);
	tf_buf_addf(&b, "{\"type\":\"heartbeat\",\"seq\":%llu,\"ts\":%lld}",
		(unsigned long long)h->eseq, (long long)now_ms());
	ctrl_add(c, &b);
	tf_buf_finish(&b);
}

static void
close_client(struct client *c, int code, const char *why)
{
	if (c->close_code)
		return;
	c->close_code = (uint16_t)code;
	c->close_why = why;
	/* A peer that stops reading never gets writable: do not wait for it
	 * for ever. */
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, 5);
	lws_callback_on_writable(c->wsi);
}

/* ---- late joiners ---------------------------------------------------- */

static int
by_seq(const void *a, const void *b)
{
	const struct backlog_entry *x = a, *y = b;

	return x->m->seq < y->m->seq ? -1 : x->m->seq > y->m->seq;
}

/* The history of the client's topics and the snapshots of them, in seq
 * order, each line once; snapshots are marked. */
static void
backlog_build(struct tf_hub *h, struct client *c)
{
	struct backlog *bl;
	size_t n = 0, i, k;
	uint32_t t;

	for (t = 0; t < h->ntopics; t++)
		if (subscribed(c, t))
			n += h->topics[t].hist_n;
	n += h->nsnaps;
	if (!n)
		return;
	bl = malloc(sizeof *bl + n * sizeof bl->e[0]);
	if (!bl)
		return;
	k = 0;
	for (t = 0; t < h->ntopics; t++) {
		struct topic *tp = &h->topics[t];

		if (!subscribed(c, t))
			continue;
		for (i = 0; i < tp->hist_n; i++) {
			size_t at = (tp->hist_pos + h->cfg.history - tp->hist_n
				+ i) % h->cfg.history;

			bl->e[k].m = tp->hist[at];
			bl->e[k++].snap = 0;
		}
	}
	for (i = 0; i < h->nsnaps; i++) {
		struct tf_msg *m = h->snaps[h->snap_order[i]].m;

		if (m && subscribed(c, m->topic)) {
			bl->e[k].m = m;
			bl->e[k++].snap = 1;
		}
	}
	qsort(bl->e, k, sizeof bl->e[0], by_seq);
	n = 0;
	for (i = 0; i < k; i++) {
		if (n && bl->e[n - 1].m == bl->e[i].m) {
			bl->e[n - 1].snap |= bl->e[i].snap;
			continue;
		}
		bl->e[n++] = bl->e[i];
	}
	if (!n) {
		free(bl);
		return;
	}
	for (i = 0; i < n; i++)
		tf_msg_ref(bl->e[i].m);
	bl->n = n;
	bl->pos = 0;
	c->bl = bl;
	if (c->v1) {
		free(c->sent_bl);
		c->sent_bl = malloc(n * sizeof *c->sent_bl);
		c->sent_n = 0;
	}
}

static void
backlog_free(struct client *c)
{
	size_t i;

	if (!c->bl)
		return;
	for (i = c->bl->pos; i < c->bl->n; i++)
		tf_msg_unref(c->bl->e[i].m);
	free(c->bl);
	c->bl = NULL;
}

static int
sent_in_backlog(const struct client *c, uint64_t seq)
{
	size_t lo = 0, hi = c->sent_n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (c->sent_bl[mid] == seq)
			return 1;
		if (c->sent_bl[mid] < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* ---- writing --------------------------------------------------------- */

struct out {
	unsigned char *p;
	size_t n, cap;
};

static int
fits(const struct out *o, size_t f)
{
	return !o->n || o->n + f <= o->cap;
}

static void
put(struct out *o, const unsigned char *f, size_t n)
{
	memcpy(o->p + o->n, f, n);
	o->n += n;
}

/* The seq clients saw on the message before index pos: exact while it is
 * kept; once dropped, the newest dropped one's (the most a gap's "to"
 * can say), or pos - 1 when the input never brought its own seqs. */
static uint64_t
eseq_before(const struct tf_hub *h, uint64_t pos)
{
	struct tf_msg *m;

	if (pos <= 1)
		return 0;
	if (pos - 1 >= h->seq)
		return h->eseq;
	if ((m = tf_ring_get(h->ring, pos - 1)))
		return m->eseq;
	return h->renumbered ? tf_ring_dropped(h->ring) : pos - 1;
}

/* The index of the first message of this epoch kept with an eseq above s,
 * among those up to index hi (hi + 1 when none): eseqs increase within
 * an epoch. */
static uint64_t
pos_after(const struct tf_hub *h, uint64_t s, uint64_t hi)
{
	uint64_t lo = tf_ring_first(h->ring), end = hi + 1;

	if (lo < h->epoch_pos)
		lo = h->epoch_pos;
	while (lo < end) {
		uint64_t mid = lo + (end - lo) / 2;

		if (tf_ring_get(h->ring, mid)->eseq > s)
			end = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Queues {"type":"resumed"}: count events after from - 1 were sent. */
static void
send_resumed(struct client *c, uint64_t from, uint64_t count)
{
	struct tf_buf b;

	tf_buf_init(&b);
	tf_buf_addf(&b, "{\"type\":\"resumed\",\"from\":%llu,\"count\":%llu}",
		(unsigned long long)from, (unsigned long long)count);
	ctrl_add(c, &b);
	tf_buf_finish(&b);
}

/* Counts the messages for c kept in the ring from seq on. */
static uint64_t
count_kept(struct tf_hub *h, const struct client *c, uint64_t seq)
{
	uint64_t n = 0;

	for (; seq <= h->seq; seq++) {
		struct tf_msg *m = tf_ring_get(h->ring, seq);

		if (m && subscribed(c, m->topic))
			n++;
	}
	return n;
}

/* Fills o with what c gets next, in order: control frames, its backlog,
 * a resume, live messages. Returns 1 when more is waiting. */
static int
fill(struct tf_hub *h, struct client *c, struct out *o)
{
	for (;;) {
		while (c->ctrl_off < c->ctrl_len) {
			size_t f = tf_ws_frame_size(c->ctrl + c->ctrl_off);

			if (!fits(o, f))
				return 1;
			put(o, c->ctrl + c->ctrl_off, f);
			c->ctrl_off += f;
		}
		if (c->ctrl) {
			free(c->ctrl);
			c->ctrl = NULL;
			c->ctrl_len = c->ctrl_off = c->ctrl_cap = 0;
		}
		if (c->hold) {
			if (!h->draining && mono_ms() < c->hold_until)
				return 0;
			c->hold = 0;
		}
		while (c->bl && c->bl->pos < c->bl->n) {
			struct backlog_entry *e = &c->bl->e[c->bl->pos];
			const unsigned char *f;
			size_t n;

			if (!c->v1) {
				f = tf_msg_plain(e->m);
				n = e->m->plain_len;
			} else if (e->snap) {
				f = tf_msg_snapshot(e->m,
					h->topics[e->m->topic].name, h->epoch,
					&n);
			} else {
				f = tf_msg_v1(e->m);
				n = e->m->v1_len;
			}
			if (f && !fits(o, n))
				return 1;
			if (f) {
				put(o, f, n);
				h->st.out++;
			}
			if (c->sent_bl)
				c->sent_bl[c->sent_n++] = e->m->seq;
			tf_msg_unref(e->m);
			c->bl->pos++;
		}
		if (c->bl) {
			free(c->bl);
			c->bl = NULL;
		}
		if (c->replaying) {
			for (; c->rcur <= c->rend; c->rcur++) {
				struct tf_msg *m = tf_ring_get(h->ring,
					c->rcur);

				if (!m || !subscribed(c, m->topic) ||
				    sent_in_backlog(c, m->seq))
					continue;
				if (!fits(o, m->v1_len))
					return 1;
				put(o, tf_msg_v1(m), m->v1_len);
				h->st.out++;
				c->rcount++;
			}
			c->replaying = 0;
			send_resumed(c, c->rfrom, c->rcount);
			continue;
		}
		break;
	}
	if (c->pending && c->cursor < tf_ring_first(h->ring)) {
		/* The ring dropped messages it had not been sent yet. */
		uint64_t kept = count_kept(h, c, tf_ring_first(h->ring));
		uint64_t missed = c->pending > kept ? c->pending - kept : 0;

		if (missed) {
			h->st.gaps++;
			h->st.drops += missed;
			if (c->v1)
				send_gap(c, c->seen + 1, eseq_before(h,
					tf_ring_first(h->ring)), missed,
					"slow");
		}
		c->cursor = tf_ring_first(h->ring);
		c->seen = eseq_before(h, c->cursor);
		c->pending = kept;
		if (c->ctrl_len)
			return 1;
	}
	for (; c->pending && c->cursor <= h->seq; c->cursor++) {
		struct tf_msg *m = tf_ring_get(h->ring, c->cursor);
		const unsigned char *f;
		size_t n;

		if (!m)
			continue;
		if (!subscribed(c, m->topic)) {
			c->seen = m->eseq;
			continue;
		}
		if (c->wait && m->eseq <= c->wait) {
			/* Resumed ahead of this node: it has this one. */
			c->pending--;
			c->seen = m->eseq;
			continue;
		}
		f = c->v1 ? tf_msg_v1(m) : tf_msg_plain(m);
		n = c->v1 ? m->v1_len : m->plain_len;
		if (!fits(o, n))
			return 1;
		put(o, f, n);
		c->pending--;
		c->seen = m->eseq;
		h->st.out++;
		if (c->wait)
			c->rcount++;
	}
	if (!c->pending || c->cursor > h->seq) {
		c->pending = 0;
		c->cursor = h->seq + 1;
		c->seen = h->eseq;
	}
	if (c->wait && h->eseq >= c->wait) {
		/* This node has passed the client's seq: what came after it
		 * went out, the resume is done. */
		c->wait = 0;
		send_resumed(c, c->rfrom, c->rcount);
		return 1;
	}
	return 0;
}

static int
client_writable(struct tf_hub *h, struct client *c)
{
	struct out o = { h->scratch + LWS_PRE, 0, h->cfg.batch };
	int more;

	if (c->close_code) {
		/* Our close frame goes out now, written like the rest; lws
		 * answers the peer's close and hangs up then (or the timeout
		 * set with close_client does). Hanging up at once would
		 * reset a peer that is still sending, and lose the frame. */
		size_t n = strlen(c->close_why);

		if (c->close_sent)
			return 0;
		o.p[0] = 0x88;
		o.p[1] = (unsigned char)(2 + n);
		o.p[2] = (unsigned char)(c->close_code >> 8);
		o.p[3] = (unsigned char)c->close_code;
		memcpy(o.p + 4, c->close_why, n);
		c->close_sent = 1;
		return lws_write(c->wsi, o.p, 4 + n, LWS_WRITE_RAW) < 0 ? -1 :
			0;
	}
	if (c->ping_wait) {
		/* A whole frame between whole frames, like the rest of o.
		 * Not empty: lws passes on no empty pong. */
		static const unsigned char ping[3] = { 0x89, 1, 'p' };

		put(&o, ping, sizeof ping);
		c->ping_wait = 0;
	}
	more = fill(h, c, &o);
	if (o.n) {
		if (lws_write(c->wsi, o.p, o.n, LWS_WRITE_RAW) < 0)
			return -1;
		h->st.bytes_out += o.n;
	}
	if (more) {
		lws_callback_on_writable(c->wsi);
	} else if (h->draining) {
		close_client(c, LWS_CLOSE_STATUS_GOINGAWAY, "going away");
	}
	return 0;
}

/* ---- publishing ------------------------------------------------------ */

static void
history_add(struct tf_hub *h, struct topic *t, struct tf_msg *m)
{
	size_t n = h->cfg.history;

	if (!n)
		return;
	if (!t->hist) {
		t->hist = calloc(n, sizeof *t->hist);
		if (!t->hist)
			return;
	}
	if (t->hist_n == n)
		tf_msg_unref(t->hist[t->hist_pos]);
	else
		t->hist_n++;
	tf_msg_ref(m);
	t->hist[t->hist_pos] = m;
	t->hist_pos = (t->hist_pos + 1) % n;
}

static void
snapshot_put(struct tf_hub *h, const char *key, size_t n, struct tf_msg *m)
{
	size_t mask = h->snap_cap - 1, i = hash(key, n) & mask;

	for (; h->snaps[i].key; i = (i + 1) & mask) {
		if (!strncmp(h->snaps[i].key, key, n) && !h->snaps[i].key[n]) {
			tf_msg_ref(m);
			tf_msg_unref(h->snaps[i].m);
			h->snaps[i].m = m;
			return;
		}
	}
	if (h->nsnaps >= h->cfg.max_keys)
		return;
	h->snaps[i].key = strndup(key, n);
	if (!h->snaps[i].key)
		return;
	tf_msg_ref(m);
	h->snaps[i].m = m;
	h->snap_order[h->nsnaps++] = i;
}

/* The text of a field used as a topic or key: a string decoded, another
 * scalar as written; NULL when absent or too long. */
static const char *
field_text(const struct tf_span *sp, char *buf, size_t size, size_t *n)
{
	size_t k;

	switch (sp->kind) {
	case TF_JSON_STRING:
		k = tf_span_string(sp, buf, size);
		if (k == (size_t)-1)
			return NULL;
		*n = k;
		return buf;
	case TF_JSON_NUMBER:
	case TF_JSON_TRUE:
	case TF_JSON_FALSE:
		if (sp->n >= size)
			return NULL;
		memcpy(buf, sp->p, sp->n);
		buf[sp->n] = '\0';
		*n = sp->n;
		return buf;
	default:
		return NULL;
	}
}

/* A new epoch in the input (a stream made again): what the hub holds
 * belongs to the old one. Joiners get none of it; tf.v1 clients, whose
 * seqs mean nothing in the new epoch, are closed with 1012 to start over
 * (a resume naming the old epoch then gets the epoch gap); plain clients
 * read on. */
static void
new_epoch(struct tf_hub *h, const char *epoch)
{
	struct client *c;
	uint32_t t;
	size_t i;

	if (h->seq) {
		for (t = 0; t < h->ntopics; t++) {
			struct topic *tp = &h->topics[t];

			while (tp->hist_n) {
				tp->hist_n--;
				tp->hist_pos = (tp->hist_pos + h->cfg.history -
					1) % h->cfg.history;
				tf_msg_unref(tp->hist[tp->hist_pos]);
				tp->hist[tp->hist_pos] = NULL;
			}
		}
		for (i = 0; i < h->nsnaps; i++) {
			struct snap *sn = &h->snaps[h->snap_order[i]];

			tf_msg_unref(sn->m);
			sn->m = NULL;
		}
		for (c = h->clients; c; c = c->next)
			if (c->v1)
				close_client(c, 1012, "new epoch");
		h->st.epochs++;
	}
	snprintf(h->epoch, sizeof h->epoch, "%s", epoch);
	h->epoch_pos = h->seq + 1;
}

static int
publish(struct tf_hub *h, const char *line, size_t len,
	const struct tf_event *ev, const char *etopic, uint64_t eseq)
{
	struct tf_span out[4];
	struct tf_event evb;
	char tbuf[TOPIC_MAX + 1], kbuf[KEY_MAX + 1];
	const char *topic = NULL, *key = NULL;
	size_t tn = 0, kn = 0;
	uint32_t tid, ntopics;
	struct tf_msg *m;
	struct topic *t;

	if (etopic) {
		topic = etopic;
		tn = strlen(topic);
	}
	if (!ev || (h->k_field >= 0 && !topic) || h->k_snap >= 0) {
		if (tf_scan(line, len, &h->keys, out, NULL) != TF_SCAN_OK)
			return 0;	/* the caller validated it */
		memset(&evb, 0, sizeof evb);
		evb.type = out[0];
		evb.topic = out[1];
		ev = &evb;
		if (h->k_field >= 0 && !topic) {
			topic = out[h->k_field].kind == TF_JSON_STRING ?
				field_text(&out[h->k_field], tbuf, sizeof tbuf,
					&tn) : NULL;
			if (!topic) {
				topic = "other";
				tn = 5;
			}
		}
		if (h->k_snap >= 0)
			key = field_text(&out[h->k_snap], kbuf, sizeof kbuf,
				&kn);
	}
	if (!topic) {
		topic = tf_event_topic(ev, tbuf, sizeof tbuf);
		tn = strlen(topic);
	}
	ntopics = h->ntopics;
	tid = topic_find(h, topic, tn, 1);
	if (tid != UINT32_MAX && h->ntopics != ntopics)
		claim_names(h, tid);
	if (tid == UINT32_MAX)
		tid = topic_find(h, "other", 5, 1);
	if (tid == UINT32_MAX)
		tid = 0;
	t = &h->topics[tid];
	m = tf_msg_create(h->seq + 1, eseq, tid, t->name, h->epoch, line,
		len);
	if (!m)
		return -1;
	h->seq++;
	h->eseq = eseq;
	h->renumbered |= eseq != h->seq;
	h->st.evicted += tf_ring_push(h->ring, m);
	history_add(h, t, m);
	if (key)
		snapshot_put(h, key, kn, m);
	tf_msg_unref(m);
	if (!t->batch++)
		h->dirty[h->ndirty++] = tid;
	h->batch_total++;
	h->st.in++;
	h->last_input_ms = mono_ms();
	h->stale_sent = 0;
	return 0;
}

int
tf_hub_publish(struct tf_hub *h, const char *line, size_t len,
	const struct tf_event *ev)
{
	return publish(h, line, len, ev, NULL, h->seq + 1);
}

int
tf_hub_duplicate(struct tf_hub *h, uint64_t seq, const char *epoch)
{
	if (!h->seq || seq > h->eseq || strcmp(epoch, h->epoch))
		return 0;
	h->st.dups++;
	return 1;
}

int
tf_hub_publish_at(struct tf_hub *h, const char *line, size_t len,
	const struct tf_event *ev, const char *topic, uint64_t seq,
	const char *epoch)
{
	const char *p;

	/* The epoch goes into frames as it is: plain text only. */
	for (p = epoch; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == '"' || *p == '\\')
			return -2;
	if (p - epoch > TF_ENVELOPE_EPOCH_MAX || !seq)
		return -2;
	if (strcmp(epoch, h->epoch) || !h->seq) {
		new_epoch(h, epoch);
		/* What came before the first event is not known here. */
		h->floor0 = seq - 1;
	} else if (seq <= h->eseq) {
		h->st.dups++;
		return 1;
	}
	return publish(h, line, len, ev, topic, seq);
}

void
tf_hub_gap(struct tf_hub *h, uint64_t from, uint64_t to)
{
	struct client *c;

	h->st.input_gaps++;
	h->st.input_missed += to - from + 1;
	for (c = h->clients; c; c = c->next)
		if (c->v1 && !c->close_code)
			send_gap(c, from, to, to - from + 1, "upstream");
}

static void
too_slow(struct tf_hub *h, struct client *c)
{
	if (h->cfg.slow_close) {
		h->st.slow_closed++;
		close_client(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "too slow");
		return;
	}
	/* Live data is this batch (at most half the bound of it): the
	 * client skips what came before, and gets the newest lines. */
	{
		uint64_t keep = h->cfg.max_lag / 2 ? h->cfg.max_lag / 2 : 1;
		uint64_t from = h->seq + 1 - h->batch_total, kept, missed;

		if (h->seq + 1 - from > keep)
			from = h->seq + 1 - keep;
		if (from < c->cursor)
			from = c->cursor;
		kept = count_kept(h, c, from);
		missed = c->pending > kept ? c->pending - kept : 0;
		if (missed) {
			h->st.gaps++;
			h->st.drops += missed;
			if (c->v1)
				send_gap(c, c->seen + 1, eseq_before(h, from),
					missed, "slow");
		}
		c->cursor = from;
		c->seen = eseq_before(h, from);
		c->pending = kept;
	}
	lws_callback_on_writable(c->wsi);
}

void
tf_hub_flush(struct tf_hub *h)
{
	struct client *c, *next;
	uint32_t i;

	if (!h->batch_total)
		return;
	for (c = h->clients; c; c = next) {
		uint64_t add = 0;

		next = c->next;
		if (c->close_code)
			continue;
		if (c->wait && h->eseq >= c->wait)
			lws_callback_on_writable(c->wsi);
		if (c->all && !has_exclusions(c)) {
			add = h->batch_total;
		} else {
			for (i = 0; i < h->ndirty; i++)
				if (subscribed(c, h->dirty[i]))
					add += h->topics[h->dirty[i]].batch;
		}
		if (!add) {
			if (!c->pending) {
				c->cursor = h->seq + 1;
				c->seen = h->eseq;
			}
			continue;
		}
		c->pending += add;
		if (h->cfg.max_lag && c->pending > h->cfg.max_lag)
			too_slow(h, c);
		else
			lws_callback_on_writable(c->wsi);
	}
	for (i = 0; i < h->ndirty; i++)
		h->topics[h->dirty[i]].batch = 0;
	h->ndirty = 0;
	h->batch_total = 0;
}

void
tf_hub_note_bad(struct tf_hub *h)
{
	h->st.bad++;
}

/* ---- client messages ------------------------------------------------- */

static void
inbound(struct tf_hub *h, struct client *c, const char *s, size_t n,
	int binary)
{
	struct tf_buf b;
	enum tf_scan_status st;

	if (!h->cfg.inbound) {
		h->st.inbound_dropped++;
		return;
	}
	st = binary ? TF_SCAN_SYNTAX : tf_scan(s, n, NULL, NULL, NULL);
	tf_buf_init(&b);
	tf_buf_addf(&b, "{\"client\":%llu,\"ts\":%lld,\"data\":",
		(unsigned long long)c->id, (long long)now_ms());
	if (st == TF_SCAN_OK || st == TF_SCAN_NOT_OBJECT) {
		const char *nl;

		/* The value without the whitespace around it. */
		while (n && strchr(" \t\r\n", s[n - 1]))
			n--;
		while (n && strchr(" \t\r\n", *s))
			s++, n--;
		/* One message, one line: a CR or LF in valid JSON can only
		 * be whitespace between tokens (strings cannot hold them
		 * raw), so a space stands for it; kept, it would start a
		 * line that reads as another client's record. */
		while ((nl = memchr(s, '\n', n)) || (nl = memchr(s, '\r', n))) {
			const char *cr = memchr(s, '\r', (size_t)(nl - s));

			if (cr)
				nl = cr;
			tf_buf_add(&b, s, (size_t)(nl - s));
			tf_buf_add(&b, " ", 1);
			n -= (size_t)(nl - s) + 1;
			s = nl + 1;
		}
		tf_buf_add(&b, s, n);
	} else {
		tf_buf_json(&b, s, n);
	}
	tf_buf_add(&b, "}", 1);
	if (!b.failed && h->cfg.inbound(b.p, b.len, h->cfg.inbound_arg) == 0)
		h->st.inbound++;
	else
		h->st.inbound_dropped++;
	tf_buf_finish(&b);
}

/* (Un)subscribes each string of the JSON array at sp (already validated).
 * Returns 0; -1 when sp is not an array of strings; -2 when a name would
 * take the client past --max-subscriptions (it and the rest are not
 * taken). */
static int
each_string(const struct tf_span *sp, struct tf_hub *h, struct client *c,
	int on)
{
	const char *p = sp->p, *end = sp->p + sp->n;
	char buf[TOPIC_MAX + 1];

	if (sp->kind != TF_JSON_ARRAY)
		return -1;
	p++;
	for (;;) {
		struct tf_span s = { 0 };
		size_t k;

		while (p < end && strchr(" \t\r\n,", *p))
			p++;
		if (p >= end || *p == ']')
			return 0;
		if (*p != '"')
			return -1;
		s.kind = TF_JSON_STRING;
		s.p = ++p;
		while (p < end && *p != '"') {
			if (*p == '\\') {
				s.escaped = 1;
				p++;
			}
			p++;
		}
		s.n = (size_t)(p - s.p);
		p++;
		k = tf_span_string(&s, buf, sizeof buf);
		if (k != (size_t)-1 && k && subscribe(h, c, buf, k, on) < 0)
			return -2;
	}
}

static uint64_t
span_u64(const struct tf_span *sp, int *ok)
{
	char buf[32], *e;
	unsigned long long v;

	*ok = 0;
	if (sp->kind != TF_JSON_NUMBER || sp->n >= sizeof buf || *sp->p == '-')
		return 0;
	memcpy(buf, sp->p, sp->n);
	buf[sp->n] = '\0';
	errno = 0;
	v = strtoull(buf, &e, 10);
	if (errno || *e)
		return 0;
	*ok = 1;
	return v;
}

/* Counts the messages c missed or gets again after changing topics. */
static void
recount(struct tf_hub *h, struct client *c)
{
	c->pending = c->cursor <= h->seq ? count_kept(h, c, c->cursor) : 0;
	if (c->pending)
		lws_callback_on_writable(c->wsi);
}

static void
resume(struct tf_hub *h, struct client *c, const struct tf_span *epoch,
	const struct tf_span *seqsp)
{
	uint64_t s;
	int ok;

	s = span_u64(seqsp, &ok);
	if (epoch->kind != TF_JSON_STRING || !ok) {
		send_error(c, "resume needs epoch (a string) and seq (a "
			      "number)");
		return;
	}
	/* What it got of its backlog already counts; the rest of the
	 * backlog is replaced by the resume, and so is a resume before. */
	backlog_free(c);
	c->wait = 0;
	h->st.resumes++;
	if (!tf_span_eq(epoch, h->epoch, strlen(h->epoch))) {
		uint64_t n = c->join_seq >= h->epoch_pos ?
			c->join_seq + 1 - h->epoch_pos : 0;

		h->st.gaps++;
		send_gap(c, 1, c->join_eseq, n, "epoch");
		return;
	}
	if (s >= c->join_eseq) {
		c->rfrom = s + 1;
		c->rcount = 0;
		if (s == c->join_eseq) {
			send_resumed(c, c->rfrom, 0);
			return;
		}
		/* Ahead of this node (fed by a bus, it lags another): it
		 * waits for this node to pass s, rather than get again what
		 * it has; fill() sends what comes after s, then resumed. */
		c->wait = s;
		c->wait_until = mono_ms() + h->cfg.resume_wait_ms;
		return;
	}
	{
		/* Below floor, this node does not know every event: those
		 * its ring dropped, or those before its first. */
		uint64_t first = tf_ring_first(h->ring), from = first;
		uint64_t floor = first > h->epoch_pos ?
			tf_ring_dropped(h->ring) : h->floor0;

		if (from < h->epoch_pos)
			from = h->epoch_pos;
		if (s < floor) {
			uint64_t missed, q;

			if (!h->renumbered)
				missed = first - (s + 1);
			else
				missed = first > h->epoch_pos ?
					first - h->epoch_pos : 0;
			for (q = from; q <= c->join_seq; q++) {
				struct tf_msg *m = tf_ring_get(h->ring, q);

				if (m && subscribed(c, m->topic) &&
				    !sent_in_backlog(c, q))
					missed++;
			}
			h->st.gaps++;
			send_gap(c, s + 1, c->join_eseq, missed, "history");
			return;
		}
	}
	c->replaying = 1;
	c->rfrom = s + 1;
	c->rcur = pos_after(h, s, c->join_seq);
	c->rend = c->join_seq;
	c->rcount = 0;
	lws_callback_on_writable(c->wsi);
}

static void
client_message(struct tf_hub *h, struct client *c, const char *s, size_t n,
	int binary)
{
	static const char *const names[] = { "op", "topics", "epoch", "seq" };
	static struct tf_scan_keys keys;
	struct tf_span out[4];
	enum tf_scan_status st;
	const struct tf_span *op = &out[0];
	char msg[160];

	if (!c->v1 || binary) {
		inbound(h, c, s, n, binary);
		return;
	}
	if (!keys.n) {
		size_t i;

		for (i = 0; i < 4; i++)
			tf_scan_keys_add(&keys, names[i]);
	}
	st = tf_scan(s, n, &keys, out, NULL);
	if (st == TF_SCAN_NOT_OBJECT || (st == TF_SCAN_OK &&
	    op->kind == TF_JSON_ABSENT)) {
		inbound(h, c, s, n, 0);
		return;
	}
	if (st != TF_SCAN_OK) {
		send_error(c, "not JSON");
		return;
	}
	if (tf_span_eq(op, "subscribe", 9) || tf_span_eq(op, "unsubscribe",
	    11)) {
		int on = tf_span_eq(op, "subscribe", 9);
		int rc = each_string(&out[1], h, c, on);

		if (rc == -1) {
			send_error(c, on ? "subscribe needs topics: an array "
					   "of strings" :
					   "unsubscribe needs topics: an array "
					   "of strings");
			return;
		}
		if (rc == -2) {
			snprintf(msg, sizeof msg, "too many topics: a client "
				"names at most %zu (--max-subscriptions); the "
				"rest were not taken", h->cfg.max_subscriptions);
			send_error(c, msg);
		}
		recount(h, c);
		send_subscribed(h, c);
	} else if (tf_span_eq(op, "resume", 6)) {
		resume(h, c, &out[2], &out[3]);
	} else if (tf_span_eq(op, "ping", 4)) {
		send_heartbeat(h, c);
	} else {
		char name[64];

		if (op->kind != TF_JSON_STRING ||
		    tf_span_string(op, name, sizeof name) == (size_t)-1)
			snprintf(msg, sizeof msg, "unknown op");
		else
			snprintf(msg, sizeof msg, "unknown op '%s'", name);
		send_error(c, msg);
	}
}

static int
rate_ok(struct tf_hub *h, struct client *c)
{
	double rate = h->cfg.max_rate, burst = rate < 1 ? 1 : rate;
	int64_t now = mono_ms();

	if (rate <= 0)
		return 1;
	if (!c->tokens_ms) {
		c->tokens = burst;
	} else {
		c->tokens += (double)(now - c->tokens_ms) * rate / 1000.0;
		if (c->tokens > burst)
			c->tokens = burst;
	}
	c->tokens_ms = now;
	if (c->tokens < 1)
		return 0;
	c->tokens -= 1;
	return 1;
}

/* A frame (a pong or any other) came from c: it is alive. */
static void
client_heard(struct client *c)
{
	c->rx_ms = mono_ms();
	c->ping_out = 0;
}

static void
client_receive(struct tf_hub *h, struct client *c, const char *in,
	size_t len)
{
	struct lws *wsi = c->wsi;
	size_t rest = lws_remaining_packet_payload(wsi);
	int final = lws_is_final_fragment(wsi) && !rest;

	if (lws_is_first_fragment(wsi) && !c->rx_len)
		c->rx_skip = 0;
	if (c->rx_skip || c->close_code)
		return;
	if (c->hold) {
		c->hold = 0;
		lws_callback_on_writable(wsi);
	}
	if (c->rx_len + len + rest > h->cfg.max_message) {
		free(c->rx);
		c->rx = NULL;
		c->rx_len = c->rx_cap = 0;
		h->st.refused[REF_MESSAGE_SIZE]++;
		close_client(c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
			"message too big");
		return;
	}
	if (final && !c->rx_len) {
		if (!rate_ok(h, c)) {
			h->st.refused[REF_RATE]++;
			close_client(c, LWS_CLOSE_STATUS_POLICY_VIOLATION,
				"rate limit");
			return;
		}
		client_message(h, c, in, len, lws_frame_is_binary(wsi));
		return;
	}
	if (c->rx_len + len + rest + 1 > c->rx_cap) {
		/* Room for the rest of this frame at once, and at least twice
		 * as much as before (bounded by --max-message): a message in
		 * many small frames is not copied once per frame. */
		size_t cap = c->rx_len + len + rest + 1,
			dbl = 2 * (size_t)c->rx_cap, max = h->cfg.max_message + 1;
		char *p;

		if (dbl > cap)
			cap = dbl < max ? dbl : max;
		if (!(p = realloc(c->rx, cap))) {
			c->rx_skip = 1;
			return;
		}
		c->rx = p;
		c->rx_cap = (uint32_t)cap;
	}
	memcpy(c->rx + c->rx_len, in, len);
	c->rx_len += (uint32_t)len;
	if (!final)
		return;
	if (!rate_ok(h, c)) {
		h->st.refused[REF_RATE]++;
		close_client(c, LWS_CLOSE_STATUS_POLICY_VIOLATION,
			"rate limit");
	} else {
		client_message(h, c, c->rx, c->rx_len,
			lws_frame_is_binary(wsi));
	}
	free(c->rx);
	c->rx = NULL;
	c->rx_len = c->rx_cap = 0;
}

/* ---- connections ----------------------------------------------------- */

/* The topic a path names: "/" and "/ws" every topic (0), "/ws/T" T (1),
 * anything else -1. */
static int
path_topic(const char *path, const char **topic)
{
	if (!strcmp(path, "/") || !strcmp(path, "/ws") ||
	    !strcmp(path, "/ws/"))
		return 0;
	if (!strncmp(path, "/ws/", 4) && !strchr(path + 4, '/')) {
		*topic = path + 4;
		return 1;
	}
	return -1;
}

/* ?resume=SEQ&epoch=E on the URL: the resume op, taken before any data
 * can go out, so that no live event can come before the missed ones. */
static void
resume_from_url(struct tf_hub *h, struct client *c, struct lws *wsi)
{
	char sb[64], eb[TF_ENVELOPE_EPOCH_MAX + 16];
	const char *seq = lws_get_urlarg_by_name(wsi, "resume=", sb, sizeof sb),
		*epoch = lws_get_urlarg_by_name(wsi, "epoch=", eb, sizeof eb);
	struct tf_span e = { 0 }, q = { 0 };

	if (!seq)
		return;
	c->hold = 0;
	q.p = seq;
	q.n = strlen(seq);
	q.kind = TF_JSON_NUMBER;
	if (epoch) {
		e.p = epoch;
		e.n = strlen(epoch);
		e.kind = TF_JSON_STRING;
	}
	resume(h, c, &e, &q);
}

/* Counts the topics the URL names (/ws/TOPIC, ?topics=a,b), and
 * subscribes c to them (none when c is NULL: before the upgrade). */
static size_t
url_topics(struct tf_hub *h, struct lws *wsi, struct client *c)
{
	char path[512], arg[URL_ROOM];
	const char *topic = NULL, *list;
	size_t any = 0;

	if (lws_hdr_copy(wsi, path, sizeof path, WSI_TOKEN_GET_URI) < 0)
		path[0] = '\0';
	if (path_topic(path, &topic) == 1 && *topic) {
		if (c)
			subscribe(h, c, topic, strlen(topic), 1);
		any++;
	}
	list = lws_get_urlarg_by_name(wsi, "topics=", arg, sizeof arg);
	while (list && *list) {
		const char *comma = strchr(list, ',');
		size_t n = comma ? (size_t)(comma - list) : strlen(list);

		if (n && c)
			subscribe(h, c, list, n, 1);
		any += n != 0;
		list = comma ? comma + 1 : NULL;
	}
	return any;
}

static void
client_join(struct tf_hub *h, struct client *c, struct lws *wsi)
{

	memset(c, 0, sizeof *c);
	c->hub = h;
	c->wsi = wsi;
	c->id = ++h->next_id;
	c->v1 = lws_get_protocol(wsi)->id == PROTO_V1;
	/* confirm_upgrade counted them: no more than --max-subscriptions. */
	if (!url_topics(h, wsi, c))
		c->all = 1;
	c->join_seq = h->seq;
	c->join_eseq = c->seen = h->eseq;
	c->cursor = h->seq + 1;
	c->live = 1;
	c->rx_ms = mono_ms();
	c->next = h->clients;
	if (h->clients)
		h->clients->prev = c;
	h->clients = c;
	h->nclients++;
	h->st.clients_total++;
	if (c->v1) {
		h->nv1++;
		send_welcome(h, c);
	}
	if (c->v1 && h->stale_sent)
		stale_one(h, c);
	if (c->v1) {
		c->hold = 1;
		c->hold_until = mono_ms() + HOLD_MS;
	}
	backlog_build(h, c);
	if (c->v1)
		resume_from_url(h, c, wsi);
	lws_callback_on_writable(wsi);
}

static void
client_leave(struct tf_hub *h, struct client *c)
{
	if (!c->live)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		h->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	h->nclients--;
	if (c->v1)
		h->nv1--;
	backlog_free(c);
	free(c->sent_bl);
	free(c->bits);
	names_free(c);
	free(c->ctrl);
	free(c->rx);
	c->live = 0;
}

static int
token_ok(const char *want, const char *got)
{
	size_t n = strlen(want), m = strlen(got), i;
	unsigned char d = n != m;

	for (i = 0; i < n; i++)
		d |= (unsigned char)(want[i] ^ (i < m ? got[i] : 0));
	return !d;
}

static int
authorized(struct tf_hub *h, struct lws *wsi)
{
	/* "Bearer " or "token=", the token, and room to tell a longer one. */
	char buf[TF_HUB_TOKEN_MAX + 16];
	const char *q;

	if (!h->cfg.token)
		return 1;
	if (lws_hdr_copy(wsi, buf, sizeof buf,
		WSI_TOKEN_HTTP_AUTHORIZATION) > 7 &&
	    !strncasecmp(buf, "Bearer ", 7) && token_ok(h->cfg.token, buf + 7))
		return 1;
	q = lws_get_urlarg_by_name(wsi, "token=", buf, sizeof buf);
	return q && token_ok(h->cfg.token, q);
}

/* ---- who may ask ------------------------------------------------------ */

/* Whether list (a comma list; NULL: empty) holds s[0..n), case aside;
 * "*" holds everything. */
static int
in_list(const char *list, const char *s, size_t n)
{
	const char *p = list;

	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t k = comma ? (size_t)(comma - p) : strlen(p);

		while (k && *p == ' ')
			p++, k--;
		while (k && p[k - 1] == ' ')
			k--;
		if ((k == 1 && *p == '*') || (k == n && !strncasecmp(p, s, n)))
			return 1;
		p = comma ? comma + 1 : NULL;
	}
	return 0;
}

/* The name part of a Host value: "[::1]:8080" -> "[::1]", "a:80" -> "a". */
static size_t
host_name_len(const char *host)
{
	const char *end;

	if (*host == '[')
		return (end = strchr(host, ']')) ? (size_t)(end - host) + 1 :
			strlen(host);
	end = strchr(host, ':');
	return end ? (size_t)(end - host) : strlen(host);
}

/* localhost, 127.0.0.0/8 or [::1]: names that only ever mean this
 * machine, whatever a DNS server answers. */
static int
loopback_name(const char *s, size_t n)
{
	char buf[64];
	struct in_addr a;

	if ((n == 9 && !strncasecmp(s, "localhost", 9)) ||
	    (n == 5 && !strncmp(s, "[::1]", 5)))
		return 1;
	if (n >= sizeof buf)
		return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return inet_pton(AF_INET, buf, &a) == 1 &&
		(ntohl(a.s_addr) >> 24) == 127;
}

/* The Host header names this server: any name, unless it listens on a
 * loopback address or --allow-host is given; then a loopback name or one
 * on the list. A DNS rebinding page reaches a loopback server under its
 * own name, and its requests carry that name. No Host (HTTP/1.0, a
 * program) is not a browser's. */
static int
host_ok(struct tf_hub *h, struct lws *wsi, const char **why)
{
	char host[256];
	size_t n;

	if (lws_hdr_total_length(wsi, WSI_TOKEN_HOST) <= 0)
		return 1;
	if (!h->cfg.loopback && !h->cfg.allow_hosts)
		return 1;
	if (lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) <= 0) {
		*why = "host not allowed";
		return 0;
	}
	n = host_name_len(host);
	if (loopback_name(host, n) || in_list(h->cfg.allow_hosts, host, n))
		return 1;
	snprintf(h->why, sizeof h->why, "host not allowed: %.*s", (int)n,
		host);
	*why = h->why;
	return 0;
}

/* A browser says where the page that asks comes from (Origin): this
 * server's own pages, whose origin's host:port is the Host they asked,
 * and those --origin lists may; anything else is another site's page
 * reading or writing on its visitor's behalf. No Origin: not a browser,
 * or a browser's own navigation. */
static int
origin_ok(struct tf_hub *h, struct lws *wsi)
{
	char origin[256], host[256];
	const char *o = origin;
	int n;

	n = lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN);
	if (n <= 0)
		return lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) <= 0;
	if (in_list(h->cfg.origins, origin, (size_t)n))
		return 1;
	if (!strncasecmp(o, "http://", 7))
		o += 7;
	else if (!strncasecmp(o, "https://", 8))
		o += 8;
	else
		return 0;
	return lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) > 0 &&
		!strcasecmp(o, host);
}

/* tf_hub_request_allowed, saying why not as a refusal: -1 allowed. */
static int
request_refusal(struct tf_hub *h, struct lws *wsi, const char **why)
{
	if (!host_ok(h, wsi, why))
		return REF_HOST;
	if (!origin_ok(h, wsi)) {
		*why = "origin not allowed";
		return REF_ORIGIN;
	}
	return -1;
}

int
tf_hub_request_allowed(struct tf_hub *h, struct lws *wsi, const char **why)
{
	return request_refusal(h, wsi, why) < 0;
}

/* A request or upgrade refused: for /stats' rejected and by reason. */
static void
refused(struct tf_hub *h, enum refusal r)
{
	h->st.rejected++;
	h->st.refused[r]++;
}

/* ---- request size ----------------------------------------------------- */

/* The tokens that hold a request's URL (per method) and query. */
static int
is_url_token(int t)
{
	switch (t) {
	case WSI_TOKEN_GET_URI:
	case WSI_TOKEN_POST_URI:
	case WSI_TOKEN_OPTIONS_URI:
	case WSI_TOKEN_PUT_URI:
	case WSI_TOKEN_PATCH_URI:
	case WSI_TOKEN_DELETE_URI:
	case WSI_TOKEN_CONNECT:
	case WSI_TOKEN_HEAD_URI:
	case WSI_TOKEN_HTTP_COLON_PATH:
	case WSI_TOKEN_HTTP_URI_ARGS:
		return 1;
	default:
		return 0;
	}
}

/* lws cuts a URL or a header field one byte past our limit (token_limits)
 * and reads on, so that an over-long one is still answered: 414 for a URL
 * (path and query), 431 for a header field, over a third of
 * cfg.max_header. A header block over cfg.max_header fills lws's buffer
 * and lws 4.1 hangs up without an answer, before any callback that could
 * give one (tf-broadcast(1), BUGS). Returns the status, with *why, or 0. */
static unsigned
too_long(struct tf_hub *h, struct lws *wsi, const char **why)
{
	size_t url = 0, max = h->cfg.max_header / HEADER_PARTS;
	int t, n;

	for (t = 0; t < WSI_TOKEN_COUNT; t++) {
		if ((n = lws_hdr_total_length(wsi, (enum lws_token_indexes)t))
		    <= 0)
			continue;
		if (is_url_token(t)) {
			url += (size_t)n;
		} else if ((size_t)n > max) {
			snprintf(h->why, sizeof h->why, "header field too "
				"large: at most %zu bytes", max);
			*why = h->why;
			return 431;
		}
	}
	if (url > max) {
		snprintf(h->why, sizeof h->why, "URL too long: at most %zu "
			"bytes", max);
		*why = h->why;
		return 414;
	}
	return 0;
}

/* Answers status with {"error":msg} and hangs up, or keeps the
 * connection (keep) for the next request. At once: under a program's own
 * routes (cfg.http) the writeable callbacks are the program's. Returns
 * the callback's value. */
static int
json_error(struct lws *wsi, unsigned status, const char *msg, int keep)
{
	return tf_http_error_now(wsi, status, keep ? 0 : TF_HTTP_CLOSE, NULL,
		"%s", msg);
}

/* The hub's own routes take GET and HEAD only. */
static int
not_allowed(struct lws *wsi)
{
	static const char *const allow[] = { "allow:", "GET, HEAD", NULL };

	return tf_http_error_now(wsi, HTTP_STATUS_METHOD_NOT_ALLOWED,
		TF_HTTP_CLOSE, allow, "method not allowed (use GET, HEAD)");
}

/* Answers an upgrade request with an HTTP error and hangs up. Written by
 * hand: lws would answer an upgrade request in HTTP/1.0, which some
 * WebSocket clients refuse to read. */
static int
refuse(struct lws *wsi, unsigned code, const char *why)
{
	unsigned char buf[LWS_PRE + 1024];
	const char *status = tf_http_reason(code);
	int n;

	n = snprintf((char *)buf + LWS_PRE, sizeof buf - LWS_PRE,
		"HTTP/1.1 %u %s\r\nContent-Type: text/plain\r\n"
		"Content-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
		code, status, strlen(why) + 1, why);
	lws_write(wsi, buf + LWS_PRE, (size_t)n, LWS_WRITE_HTTP_HEADERS);
	return -1;
}

static int
confirm_upgrade(struct tf_hub *h, struct lws *wsi)
{
	char path[512];
	const char *topic, *why;
	unsigned status;
	int r;

	if ((status = too_long(h, wsi, &why))) {
		refused(h, REF_TOO_LARGE);
		return refuse(wsi, status, why);
	}
	if (lws_hdr_copy(wsi, path, sizeof path, WSI_TOKEN_GET_URI) < 0 ||
	    path_topic(path, &topic) < 0)
		return refuse(wsi, HTTP_STATUS_NOT_FOUND, "no such path");
	if ((r = request_refusal(h, wsi, &why)) >= 0) {
		refused(h, (enum refusal)r);
		return refuse(wsi, HTTP_STATUS_FORBIDDEN, why);
	}
	if (!authorized(h, wsi)) {
		refused(h, REF_TOKEN);
		return refuse(wsi, HTTP_STATUS_UNAUTHORIZED, "token required");
	}
	if (url_topics(h, wsi, NULL) > h->cfg.max_subscriptions) {
		refused(h, REF_SUBSCRIPTIONS);
		snprintf(h->why, sizeof h->why, "too many topics: at most %zu "
			"a client (--max-subscriptions)",
			h->cfg.max_subscriptions);
		return refuse(wsi, HTTP_STATUS_BAD_REQUEST, h->why);
	}
	if (h->draining || (h->cfg.max_clients &&
	    h->nclients >= h->cfg.max_clients)) {
		refused(h, h->draining ? REF_SHUTTING_DOWN : REF_CLIENTS);
		return refuse(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE,
			h->draining ? "shutting down" : "too many clients");
	}
	return 0;
}

/* Answers status with body[0..n) and a "\n" as type, not to be cached,
 * keeping the connection; to HEAD (a probe may ask so) the headers only,
 * as a body would be read as the start of the next answer. Returns the
 * callback's value. */
static int
answer(struct lws *wsi, unsigned status, const char *type, const char *body,
	size_t n)
{
	char *buf = malloc(n + 1);

	if (!buf)
		return -1;
	memcpy(buf, body, n);
	buf[n] = '\n';
	return tf_http_respond(wsi, NULL, status, type, buf, n + 1, buf,
		TF_HTTP_NO_STORE, NULL);
}

static int
serve_stats(struct tf_hub *h, struct lws *wsi)
{
	char *json = tf_hub_stats(h);
	int rc;

	if (!json)
		return -1;
	rc = answer(wsi, HTTP_STATUS_OK, "application/json", json,
		strlen(json));
	free(json);
	return rc;
}

#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

static int
serve_metrics(struct tf_hub *h, struct lws *wsi)
{
	char err[256];
	const char *text;
	size_t n;

	if (!h->metrics &&
	    !(h->metrics = tf_metrics_create(NULL, 0, err, sizeof err)))
		return json_error(wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR, err,
			1);
	tf_metrics_clear(h->metrics);
	if (tf_hub_metrics(h, h->metrics) < 0)
		return json_error(wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR,
			"out of memory", 1);
	if (h->cfg.metrics)
		h->cfg.metrics(h->metrics, h->cfg.metrics_arg);
	if (tf_metrics_finish(h->metrics, err, sizeof err) < 0)
		return json_error(wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR, err,
			1);
	text = tf_metrics_text(h->metrics, &n);
	/* Its lines end in "\n"; answer adds the last one. */
	if (n && text[n - 1] == '\n')
		n--;
	return answer(wsi, HTTP_STATUS_OK, METRICS_TYPE, text, n);
}

/* Why the server is not ready (NULL: it is): /readyz. */
static const char *
not_ready(struct tf_hub *h)
{
	int64_t idle = mono_ms() - h->last_input_ms;

	if (h->draining)
		return "shutting down";
	if (h->input_ended)
		return "input closed";
	if (h->cfg.stale_ms && idle >= h->cfg.stale_ms) {
		snprintf(h->why, sizeof h->why, "input stale: no line for "
			"%llds (--stale %gs)", (long long)(idle / 1000),
			(double)h->cfg.stale_ms / 1000.0);
		return h->why;
	}
	return NULL;
}

static int
serve_probe(struct tf_hub *h, struct lws *wsi, int ready)
{
	const char *why = ready ? not_ready(h) : NULL;
	struct tf_buf b;
	int rc;

	tf_buf_init(&b);
	if (!why) {
		tf_buf_adds(&b, ready ? "{\"status\":\"ready\"}" :
			"{\"status\":\"alive\"}");
	} else {
		tf_buf_adds(&b, "{\"status\":\"not ready\",\"reason\":");
		tf_buf_json(&b, why, strlen(why));
		tf_buf_adds(&b, "}");
	}
	if (b.failed) {
		tf_buf_finish(&b);
		return -1;
	}
	rc = answer(wsi, why ? HTTP_STATUS_SERVICE_UNAVAILABLE :
		HTTP_STATUS_OK, "application/json", b.p, b.len);
	tf_buf_finish(&b);
	return rc;
}

/* Whether path is one of the hub's own routes, answered before a
 * program's (cfg.http). */
static int
hub_route(const char *path)
{
	return !strcmp(path, "/healthz") || !strcmp(path, "/readyz") ||
		!strcmp(path, "/stats") || !strcmp(path, "/metrics");
}

static int
http(struct tf_hub *h, struct lws *wsi, enum lws_callback_reasons reason,
	void *user, void *in, size_t len)
{
	if (reason == LWS_CALLBACK_HTTP) {
		const char *why, *path = in;
		unsigned status;
		int r;

		if ((status = too_long(h, wsi, &why))) {
			refused(h, REF_TOO_LARGE);
			return json_error(wsi, status, why, 0);
		}
		/* Every request, before any route: DNS rebinding reads
		 * answers too, not only upgrades and POSTs. */
		if ((r = request_refusal(h, wsi, &why)) >= 0) {
			refused(h, (enum refusal)r);
			return json_error(wsi, HTTP_STATUS_FORBIDDEN, why, 0);
		}
		if ((!h->cfg.http || hub_route(path)) &&
		    lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0 &&
		    lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) <= 0)
			return not_allowed(wsi);
		/* Probes need no token: they tell only alive and ready,
		 * and a kubelet or load balancer has none to give. */
		if (!strcmp(path, "/healthz") || !strcmp(path, "/readyz"))
			return serve_probe(h, wsi, path[1] == 'r');
		if (!strcmp(path, "/stats") || !strcmp(path, "/metrics")) {
			if (authorized(h, wsi))
				return path[1] == 's' ? serve_stats(h, wsi) :
					serve_metrics(h, wsi);
			h->st.refused[REF_TOKEN]++;
			return json_error(wsi, HTTP_STATUS_UNAUTHORIZED,
				"token required (Authorization: Bearer TOKEN "
				"or ?token=TOKEN)", 1);
		}
		if (!h->cfg.http)
			return json_error(wsi, HTTP_STATUS_NOT_FOUND,
				"not found: /stats, /metrics, /healthz, "
				"/readyz, or a WebSocket upgrade of /, /ws or "
				"/ws/TOPIC", 1);
	}
	if (h->cfg.http)
		return h->cfg.http(wsi, reason, user, in, len, h->cfg.http_arg);
	/* Unknown methods and CONNECT (see tf_http_raw_not_allowed);
	 * programs with routes of their own answer these themselves. */
	if (reason == LWS_CALLBACK_RAW_ADOPT || reason == LWS_CALLBACK_RAW_RX)
		return tf_http_raw_not_allowed(wsi, reason, in, len,
			"GET, HEAD");
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* An adopted descriptor's pause (its fn returned N > 0) is over. */
static void
fd_resume(lws_sorted_usec_list_t *sul)
{
	struct fdwatch *w = lws_container_of(sul, struct fdwatch, resume);

	lws_rx_flow_control(w->wsi, 1);
}

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
	void *in, size_t len)
{
	const struct lws_protocols *pr = lws_get_protocol(wsi);
	struct tf_hub *h = pr ? pr->user : NULL;
	struct client *c = user;
	struct fdwatch *w;
	int n;

	if (!h)
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	switch (reason) {
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		return confirm_upgrade(h, wsi);
	case LWS_CALLBACK_ESTABLISHED:
		client_join(h, c, wsi);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (!c || !c->live)
			return 0;
		return client_writable(h, c);
	case LWS_CALLBACK_RECEIVE:
		if (c && c->live) {
			client_heard(c);
			client_receive(h, c, in, len);
		}
		return 0;
	case LWS_CALLBACK_RECEIVE_PONG:
		if (c && c->live)
			client_heard(c);
		return 0;
	case LWS_CALLBACK_CLOSED:
		if (c)
			client_leave(h, c);
		return 0;
	case LWS_CALLBACK_RAW_ADOPT_FILE:
		return 0;
	case LWS_CALLBACK_RAW_RX_FILE:
		w = lws_get_opaque_user_data(wsi);
		if (!w || w->done)
			return -1;
		n = w->fn(w->fd, w->arg);
		if (n < 0) {
			w->done = 1;
			return -1;
		}
		if (n > 0) {
			/* Out of POLLIN until fd_resume: left in, a listener
			 * out of descriptors wakes the loop at once, for ever. */
			lws_rx_flow_control(wsi, 0);
			lws_sul_schedule(h->ctx, 0, &w->resume, fd_resume,
				(lws_usec_t)n * LWS_US_PER_MS);
		}
		return 0;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		w = lws_get_opaque_user_data(wsi);
		if (w) {
			struct fdwatch **pp;
			int i;

			/* lws closes on POLLHUP without a last read: let the
			 * reader take what is left, up to its end. */
			for (i = 0; !w->done && !h->draining && i < 1000000;
			    i++)
				if (w->fn(w->fd, w->arg) != 0)
					break;
			lws_sul_cancel(&w->resume);

			for (pp = &h->fds; *pp; pp = &(*pp)->next)
				if (*pp == w) {
					*pp = w->next;
					break;
				}
			lws_set_opaque_user_data(wsi, NULL);
			free(w);
		}
		return 0;
	default:
		break;
	}
	if (pr->id == PROTO_PLAIN)
		return http(h, wsi, reason, user, in, len);
	return 0;
}

/* ---- the hub --------------------------------------------------------- */

static void
make_epoch(char *buf, size_t size)
{
	unsigned char r[8];
	size_t i;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, r, sizeof r) != (ssize_t)sizeof r) {
		uint64_t x = (uint64_t)tf_now_ns() ^ ((uint64_t)getpid() << 32);

		memcpy(r, &x, sizeof r);
	}
	if (fd >= 0)
		close(fd);
	for (i = 0; i < sizeof r && 2 * i + 2 < size; i++)
		snprintf(buf + 2 * i, 3, "%02x", r[i]);
}

static size_t
pow2(size_t n)
{
	size_t p = 16;

	while (p < n)
		p *= 2;
	return p;
}

static int
is_well_known(const char *f)
{
	return f && (!strcmp(f, "type") || !strcmp(f, "topic"));
}

struct tf_hub *
tf_hub_create(const struct tf_hub_config *cfg, char *err, size_t errlen)
{
	struct tf_hub *h;
	size_t frame_max, i;

	if (cfg->max_header < TF_HUB_HEADER_MIN ||
	    cfg->max_header > TF_HUB_HEADER_MAX) {
		tf_seterr(err, errlen, "header buffer of %zu bytes: between "
			"%d and %d", cfg->max_header, TF_HUB_HEADER_MIN,
			TF_HUB_HEADER_MAX);
		return NULL;
	}
	if (!(h = calloc(1, sizeof *h)))
		goto nomem;
	h->cfg = *cfg;
	if (!h->cfg.batch)
		h->cfg.batch = 64 * 1024;
	if (!h->cfg.max_topics)
		h->cfg.max_topics = 1;
	make_epoch(h->epoch, sizeof h->epoch);
	h->epoch_pos = 1;
	h->ring = tf_ring_create(h->cfg.ring_msgs, h->cfg.ring_bytes);
	h->topics = calloc(h->cfg.max_topics, sizeof *h->topics);
	h->dirty = calloc(h->cfg.max_topics, sizeof *h->dirty);
	h->tmap_cap = pow2(2 * h->cfg.max_topics);
	h->tmap = calloc(h->tmap_cap, sizeof *h->tmap);
	if (!h->ring || !h->topics || !h->dirty || !h->tmap)
		goto nomem;
	if (h->cfg.snapshot_key) {
		h->snap_cap = pow2(2 * (h->cfg.max_keys ? h->cfg.max_keys : 1));
		h->snaps = calloc(h->snap_cap, sizeof *h->snaps);
		h->snap_order = calloc(h->cfg.max_keys ? h->cfg.max_keys : 1,
			sizeof *h->snap_order);
		if (!h->snaps || !h->snap_order)
			goto nomem;
	}
	/* The scanner finds type and topic, and the routing and snapshot
	 * fields when they are asked for. */
	tf_scan_keys_add(&h->keys, "type");
	tf_scan_keys_add(&h->keys, "topic");
	h->k_field = h->cfg.topic_field && !is_well_known(h->cfg.topic_field) ?
		tf_scan_keys_add(&h->keys, h->cfg.topic_field) : -1;
	if (h->cfg.topic_field && !strcmp(h->cfg.topic_field, "type"))
		h->k_field = 0;
	else if (h->cfg.topic_field && !strcmp(h->cfg.topic_field, "topic"))
		h->k_field = 1;
	h->k_snap = h->cfg.snapshot_key ?
		tf_scan_keys_add(&h->keys, h->cfg.snapshot_key) : -1;
	topic_find(h, "other", 5, 1);
	for (i = 0; i < WSI_TOKEN_COUNT; i++)
		h->limits.token_limit[i] = (unsigned short)(h->cfg.max_header /
			HEADER_PARTS + 1);
	frame_max = h->cfg.max_line + 6 * TOPIC_MAX + 256;
	h->scratch_cap = LWS_PRE + (frame_max > h->cfg.batch ? frame_max :
		h->cfg.batch);
	h->scratch = malloc(h->scratch_cap);
	if (!h->scratch)
		goto nomem;
	/* tx_packet_size: lws sends at most this much of one write at a
	 * time (else its 4 KiB service buffer): let a batch go in one. */
	h->protocols[0] = (struct lws_protocols){ "tf-plain", callback,
		sizeof(struct client), RX_PIECE, PROTO_PLAIN, h,
		h->scratch_cap - LWS_PRE };
	h->protocols[1] = (struct lws_protocols){ "tf.v1", callback,
		sizeof(struct client), RX_PIECE, PROTO_V1, h,
		h->scratch_cap - LWS_PRE };
	h->protocols[2] = (struct lws_protocols){ "tf-fd", callback, 0, 0,
		PROTO_FD, h, 0 };
	/* h->retry stays all 0: no lws ping timer per client (see
	 * ping_check). lws 4.1 keeps those timers in one sorted list and
	 * walks it on every insert, for every client that joins and every
	 * pong: O(clients) each, and 20,000 clients connecting took seconds
	 * longer, their broadcast p99 8.5 s instead of 0.45 s. */
	h->start_ms = mono_ms();
	h->start_wall_ns = tf_now_ns();
	h->last_input_ms = h->start_ms;
	return h;
nomem:
	tf_seterr(err, errlen, "out of memory");
	tf_hub_destroy(h);
	return NULL;
}

void
tf_hub_destroy(struct tf_hub *h)
{
	uint32_t t;
	size_t i;

	if (!h)
		return;
	while (h->clients)
		client_leave(h, h->clients);
	while (h->fds) {
		struct fdwatch *w = h->fds;

		h->fds = w->next;
		free(w);
	}
	for (t = 0; h->topics && t < h->ntopics; t++) {
		struct topic *tp = &h->topics[t];

		for (i = 0; tp->hist && i < h->cfg.history; i++)
			tf_msg_unref(tp->hist[i]);
		free(tp->hist);
		free(tp->name);
	}
	for (i = 0; i < h->snap_cap; i++) {
		free(h->snaps[i].key);
		tf_msg_unref(h->snaps[i].m);
	}
	free(h->snaps);
	free(h->snap_order);
	free(h->topics);
	free(h->dirty);
	free(h->tmap);
	free(h->scratch);
	tf_ring_destroy(h->ring);
	tf_metrics_destroy(h->metrics);
	free(h);
}

void
tf_hub_context_info(struct tf_hub *h, struct lws_context_creation_info *info)
{
	info->protocols = h->protocols;
	info->retry_and_idle_policy = &h->retry;
	/* No permessage-deflate: frames go out as framed once. Text frames
	 * from clients must be UTF-8 (else 1007). */
	info->extensions = NULL;
	info->options |= LWS_SERVER_OPTION_VALIDATE_UTF8;
	/* The int field: the short one cannot hold 64 KiB. */
	info->max_http_header_data = 0;
	info->max_http_header_data2 = (unsigned)h->cfg.max_header;
	info->token_limits = &h->limits;
}

static void
each_v1(struct tf_hub *h, void (*fn)(struct tf_hub *, struct client *))
{
	struct client *c;

	for (c = h->clients; c; c = c->next)
		if (c->v1 && !c->close_code)
			fn(h, c);
}

static void
stale_one(struct tf_hub *h, struct client *c)
{
	struct tf_buf b;

	tf_buf_init(&b);
	tf_buf_addf(&b, "{\"type\":\"stale\",\"idle\":%lld}",
		(long long)((mono_ms() - h->last_input_ms) / 1000));
	ctrl_add(c, &b);
	tf_buf_finish(&b);
}

/* --ping and --idle-timeout, from the tick rather than an lws timer per
 * client. A client is pinged after --ping without a frame from it, plus
 * a part of it (up to a quarter) fixed by its id: clients that connected
 * together are not all pinged in one tick, and as each one's period
 * differs they drift further apart. One that sends nothing back within
 * --idle-timeout of the ping (lws's old rule: hang up when the pong is
 * late) is closed; a peer that stopped reading is closed all the same,
 * the ping being asked for, not written. */
static void
ping_check(struct tf_hub *h, struct client *c, int64_t now)
{
	int64_t every = (int64_t)h->cfg.ping_s * 1000, last;
	int64_t grace = h->cfg.idle_timeout_s > 0 ?
		(int64_t)h->cfg.idle_timeout_s * 1000 : 1000;

	if (c->close_code)
		return;
	if (c->ping_out) {
		if (now - c->ping_ms < grace)
			return;
		h->st.ping_timeouts++;
		close_client(c, LWS_CLOSE_STATUS_PROTOCOL_ERR, "no pong");
		return;
	}
	last = c->rx_ms > c->ping_ms ? c->rx_ms : c->ping_ms;
	if (now - last < every + (int64_t)((c->id * 2654435761u) %
	    (uint64_t)(every / 4 + 1)))
		return;
	c->ping_ms = now;
	c->ping_out = c->ping_wait = 1;
	lws_callback_on_writable(c->wsi);
}

static void
tick(lws_sorted_usec_list_t *sul)
{
	struct tf_hub *h = lws_container_of(sul, struct tf_hub, tick);
	int64_t now = mono_ms();
	struct client *c;

	if (h->cfg.heartbeat_ms && now >= h->next_hb_ms) {
		each_v1(h, send_heartbeat);
		h->next_hb_ms = now + h->cfg.heartbeat_ms;
	}
	if (h->cfg.stale_ms && !h->stale_sent &&
	    now - h->last_input_ms >= h->cfg.stale_ms) {
		each_v1(h, stale_one);
		h->stale_sent = 1;
	}
	for (c = h->clients; c; c = c->next) {
		if (h->cfg.ping_s > 0)
			ping_check(h, c, now);
		if (c->hold && now >= c->hold_until)
			lws_callback_on_writable(c->wsi);
		if (c->wait && now >= c->wait_until) {
			/* Not a hold for ever: a node that does not catch up
			 * sends the client elsewhere (--resume-wait). */
			h->st.resume_timeouts++;
			c->wait = 0;
			close_client(c, 1013, "behind: try another node");
		}
	}
	if (h->draining && !h->killed && now >= h->deadline_ms) {
		/* Past --drain: close what is left, queued or not. */
		for (c = h->clients; c; c = c->next) {
			c->close_code = 0;
			close_client(c, LWS_CLOSE_STATUS_GOINGAWAY,
				"going away");
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, 1);
		}
		h->killed = 1;
	}
	lws_sul_schedule(h->ctx, 0, &h->tick, tick, TICK_MS * LWS_US_PER_MS);
}

int
tf_hub_attach(struct tf_hub *h, struct lws_context *ctx,
	struct lws_vhost *vh, char *err, size_t errlen)
{
	if (!ctx || !vh) {
		tf_seterr(err, errlen, "no context");
		return -1;
	}
	h->ctx = ctx;
	h->vh = vh;
	h->attached = 1;
	h->last_input_ms = mono_ms();
	h->next_hb_ms = h->last_input_ms + h->cfg.heartbeat_ms;
	lws_sul_schedule(ctx, 0, &h->tick, tick, TICK_MS * LWS_US_PER_MS);
	return 0;
}

int
tf_hub_adopt_fd(struct tf_hub *h, int fd, tf_hub_fd_fn *fn, void *arg,
	char *err, size_t errlen)
{
	struct fdwatch *w = calloc(1, sizeof *w);
	lws_sock_file_fd_type u;
	int fl = fcntl(fd, F_GETFL);

	if (!w) {
		tf_seterr(err, errlen, "out of memory");
		return -1;
	}
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	w->hub = h;
	w->fd = fd;
	w->fn = fn;
	w->arg = arg;
	u.filefd = fd;
	w->wsi = lws_adopt_descriptor_vhost(h->vh, LWS_ADOPT_RAW_FILE_DESC, u,
		"tf-fd", NULL);
	if (!w->wsi) {
		tf_seterr(err, errlen, "cannot watch descriptor %d", fd);
		free(w);
		return -1;
	}
	lws_set_opaque_user_data(w->wsi, w);
	w->next = h->fds;
	h->fds = w;
	return 0;
}

void
tf_hub_input_ended(struct tf_hub *h)
{
	h->input_ended = 1;
}

void
tf_hub_finish(struct tf_hub *h, int64_t drain_ms)
{
	struct client *c;

	h->input_ended = 1;
	if (h->draining)
		return;
	tf_hub_flush(h);
	h->draining = 1;
	h->deadline_ms = mono_ms() + drain_ms;
	for (c = h->clients; c; c = c->next)
		lws_callback_on_writable(c->wsi);
	if (h->ctx)
		lws_cancel_service(h->ctx);
}

int
tf_hub_done(const struct tf_hub *h)
{
	return h->draining && (!h->nclients ||
		mono_ms() > h->deadline_ms + 2000);
}

char *
tf_hub_stats(const struct tf_hub *h)
{
	struct tf_buf b;
	const struct client *c;
	uint32_t t;
	int64_t up = mono_ms() - h->start_ms;

	tf_buf_init(&b);
	tf_buf_addf(&b, "{\"clients\":%zu,\"clients_v1\":%zu,\"topics\":{",
		h->nclients, h->nv1);
	for (t = 0; t < h->ntopics; t++) {
		size_t n = 0;

		for (c = h->clients; c; c = c->next)
			n += subscribed(c, t) != 0;
		if (t)
			tf_buf_add(&b, ",", 1);
		tf_buf_json(&b, h->topics[t].name, strlen(h->topics[t].name));
		tf_buf_addf(&b, ":%zu", n);
	}
	tf_buf_addf(&b, "},\"messages_in\":%llu,\"bad_lines\":%llu,"
		"\"messages_out\":%llu,\"bytes_out\":%llu,\"drops\":%llu,"
		"\"gaps\":%llu,\"slow_closed\":%llu,\"inbound\":%llu,"
		"\"inbound_dropped\":%llu,\"rejected\":%llu,"
		"\"clients_total\":%llu,\"seq\":%llu,\"epoch\":\"%s\","
		"\"ring\":{\"messages\":%zu,\"bytes\":%zu,\"first\":%llu,"
		"\"evicted\":%llu},\"snapshots\":%zu,\"input_ended\":%s,"
		"\"duplicates\":%llu,\"input_gaps\":%llu,"
		"\"input_missed\":%llu,\"epochs\":%llu,"
		"\"resume_timeouts\":%llu,\"ping_timeouts\":%llu,"
		"\"uptime\":%.3f}",
		(unsigned long long)h->st.in, (unsigned long long)h->st.bad,
		(unsigned long long)h->st.out,
		(unsigned long long)h->st.bytes_out,
		(unsigned long long)h->st.drops, (unsigned long long)h->st.gaps,
		(unsigned long long)h->st.slow_closed,
		(unsigned long long)h->st.inbound,
		(unsigned long long)h->st.inbound_dropped,
		(unsigned long long)h->st.rejected,
		(unsigned long long)h->st.clients_total,
		(unsigned long long)h->eseq, h->epoch, tf_ring_count(h->ring),
		tf_ring_bytes(h->ring),
		(unsigned long long)(tf_ring_count(h->ring) ?
			tf_ring_get(h->ring, tf_ring_first(h->ring))->eseq :
			h->eseq + 1),
		(unsigned long long)h->st.evicted, h->nsnaps,
		h->input_ended ? "true" : "false",
		(unsigned long long)h->st.dups,
		(unsigned long long)h->st.input_gaps,
		(unsigned long long)h->st.input_missed,
		(unsigned long long)h->st.epochs,
		(unsigned long long)h->st.resume_timeouts,
		(unsigned long long)h->st.ping_timeouts,
		(double)up / 1000.0);
	if (b.failed) {
		tf_buf_finish(&b);
		return NULL;
	}
	return b.p;
}

/* ---- for the program's own HTTP routes -------------------------------- */

int
tf_hub_authorized(struct tf_hub *hub, struct lws *wsi)
{
	if (authorized(hub, wsi))
		return 1;
	hub->st.refused[REF_TOKEN]++;
	return 0;
}

/* Subscribers per topic: clients that take every topic count once in
 * all and are taken off the topics they exclude; the others count on
 * their bits. One pass over the clients, not one per topic. */
static void
count_subscribers(const struct tf_hub *h, int64_t *n)
{
	const struct client *c;
	int64_t all = 0;
	uint32_t w, t;

	for (c = h->clients; c; c = c->next) {
		all += c->all;
		for (w = 0; w < c->words; w++) {
			uint64_t bits = c->bits[w];

			while (bits) {
				t = w * 64 + (uint32_t)__builtin_ctzll(bits);
				bits &= bits - 1;
				if (t < h->ntopics)
					n[t] += c->all ? -1 : 1;
			}
		}
	}
	for (t = 0; t < h->ntopics; t++)
		n[t] += all;
}

/* The hub's plain counters in /metrics, in the order written: name, help,
 * and where the count is in struct stats. */
static const struct {
	const char *name, *help;
	size_t off;
} counters[] = {
#define C(name, field, help) { name, help, offsetof(struct stats, field) }
	C("tf_clients_total", clients_total,
		"WebSocket clients ever connected."),
	C("tf_deliveries_total", out,
		"Events delivered to clients (one per event and client)."),
	C("tf_sent_bytes_total", bytes_out,
		"Bytes written to WebSocket clients, framing included."),
	C("tf_dropped_messages_total", drops,
		"Events slow clients missed (skipped to live, or past the "
		"history on a resume)."),
	C("tf_gaps_total", gaps,
		"Gaps: a tf.v1 client told that it missed events."),
	C("tf_slow_closes_total", slow_closed,
		"Clients closed for falling behind (--slow close)."),
	C("tf_ping_timeouts_total", ping_timeouts,
		"Clients closed for not answering a ping (--idle-timeout)."),
	C("tf_resumes_total", resumes,
		"tf.v1 resume requests (by message or URL)."),
	C("tf_resume_timeouts_total", resume_timeouts,
		"Clients resumed ahead of this node and closed (1013) when it "
		"did not catch up within --resume-wait."),
	C("tf_inbound_messages_total", inbound,
		"Client messages passed on (--inbound)."),
	C("tf_inbound_dropped_total", inbound_dropped,
		"Client messages not passed on (no --inbound, or it failed)."),
	C("tf_ring_evicted_total", evicted,
		"Events pushed out of the ring by newer ones."),
	C("tf_input_duplicates_total", dups,
		"Envelopes skipped as duplicates (seq not above the last; "
		"--input envelope)."),
	C("tf_input_gaps_total", input_gaps,
		"Gap lines read from the bus (--input envelope)."),
	C("tf_input_missed_total", input_missed,
		"Events the bus said were lost, in those gap lines."),
	C("tf_epochs_total", epochs,
		"Times the input changed epoch: the stream made again "
		"(--input envelope)."),
#undef C
};

int
tf_hub_metrics(struct tf_hub *h, struct tf_metrics *m)
{
	char program[64];
	const char *sp = strchr(h->cfg.server, ' ');
	struct tf_metrics_common mc = {
		.program = program,
		.start_ns = h->start_wall_ns,
		.input_lines = h->st.in + h->st.bad,
		.bad_lines = h->st.bad,
	};
	int64_t *subs, other = 0;
	uint32_t t;
	int r;

	snprintf(program, sizeof program, "%.*s",
		sp ? (int)(sp - h->cfg.server) : (int)strlen(h->cfg.server),
		h->cfg.server);
	tf_metrics_common(m, &mc);
	tf_metrics_family(m, "tf_clients", TF_METRIC_GAUGE,
		"WebSocket clients connected now, by protocol.");
	tf_metrics_u64(m, (const char *const[]){ "protocol", "plain", NULL },
		h->nclients - h->nv1);
	tf_metrics_u64(m, (const char *const[]){ "protocol", "tf.v1", NULL },
		h->nv1);
	for (r = 0; r < (int)(sizeof counters / sizeof counters[0]); r++)
		tf_metrics_counter(m, counters[r].name, counters[r].help,
			*(const uint64_t *)((const char *)&h->st +
			counters[r].off));
	tf_metrics_family(m, "tf_refusals_total", TF_METRIC_COUNTER,
		"Requests and upgrades refused, and clients closed for what "
		"they sent, by reason.");
	for (r = 0; r < REF_N; r++)
		tf_metrics_u64(m, (const char *const[]){ "reason",
			refusal_name[r], NULL }, h->st.refused[r]);
	tf_metrics_gauge(m, "tf_sequence",
		"Sequence number of the last event published.",
		(double)h->eseq);
	tf_metrics_gauge(m, "tf_ring_messages",
		"Events held for slow clients and resumes.",
		(double)tf_ring_count(h->ring));
	tf_metrics_gauge(m, "tf_ring_bytes",
		"Bytes of the events held for slow clients and resumes.",
		(double)tf_ring_bytes(h->ring));
	tf_metrics_gauge(m, "tf_topics",
		"Topics known: those input made, and \"other\".",
		(double)h->ntopics);
	tf_metrics_gauge(m, "tf_input_open",
		"1 while input is open, 0 once it ended.",
		h->input_ended ? 0 : 1);
	tf_metrics_gauge(m, "tf_input_idle_seconds",
		"Seconds since the last input line (or since start).",
		(double)(mono_ms() - h->last_input_ms) / 1000.0);
	tf_metrics_family(m, "tf_topic_subscribers", TF_METRIC_GAUGE,
		"Clients subscribed to each topic; topics past the first 100 "
		"made are summed into topic=\"other\".");
	subs = calloc(h->ntopics ? h->ntopics : 1, sizeof *subs);
	if (!subs)
		return -1;
	count_subscribers(h, subs);
	/* Topic 0 is "other" (made first). */
	for (t = METRICS_TOPICS; t < h->ntopics; t++)
		other += subs[t];
	for (t = 0; t < h->ntopics && t < METRICS_TOPICS; t++)
		tf_metrics_u64(m, (const char *const[]){ "topic",
			h->topics[t].name, NULL },
			(uint64_t)(subs[t] + (t ? 0 : other)));
	free(subs);
	return 0;
}


const char *
tf_hub_epoch(const struct tf_hub *hub)
{
	return hub->epoch;
}

uint64_t
tf_hub_seq(const struct tf_hub *hub)
{
	return hub->eseq;
}

size_t
tf_hub_clients(const struct tf_hub *hub)
{
	return hub->nclients;
}
