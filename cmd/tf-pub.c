/* tf-pub: publish every good line of stdin, byte for byte, to a NATS
 * JetStream stream on subject PREFIX.TOPIC, each acknowledged by the
 * stream within a bounded window, and pass it on to stdout. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bus.h"
#include "line.h"
#include "log.h"
#include "metrics.h"
#include "opts.h"
#include "sig.h"
#include "vocab.h"

enum {
	OPT_CREATE = 256,
	OPT_MAX_AGE,
	OPT_MAX_BYTES,
	OPT_MAX_MSGS,
	OPT_REPLICAS,
	OPT_DUPLICATE_WINDOW,
	OPT_MAX_PENDING,
	OPT_MAX_PENDING_BYTES,
	OPT_ACK_TIMEOUT,
	OPT_DEADLINE,
	OPT_ID,
	OPT_METRICS_FILE,
	OPT_METRICS_INTERVAL,
};

/* The bus options (lib/bus.c), then ours, then the end. */
static struct tf_option options[] = {
	[TF_BUS_NOPTS] = { "create", no_argument, OPT_CREATE, "TF_PUB_CREATE" },
	{ "max-age", required_argument, OPT_MAX_AGE, "TF_PUB_MAX_AGE" },
	{ "max-bytes", required_argument, OPT_MAX_BYTES, "TF_PUB_MAX_BYTES" },
	{ "max-msgs", required_argument, OPT_MAX_MSGS, "TF_PUB_MAX_MSGS" },
	{ "replicas", required_argument, OPT_REPLICAS, "TF_PUB_REPLICAS" },
	{ "duplicate-window", required_argument, OPT_DUPLICATE_WINDOW,
		"TF_PUB_DUPLICATE_WINDOW" },
	{ "max-pending", required_argument, OPT_MAX_PENDING,
		"TF_PUB_MAX_PENDING" },
	{ "max-pending-bytes", required_argument, OPT_MAX_PENDING_BYTES,
		"TF_PUB_MAX_PENDING_BYTES" },
	{ "ack-timeout", required_argument, OPT_ACK_TIMEOUT,
		"TF_PUB_ACK_TIMEOUT" },
	{ "deadline", required_argument, OPT_DEADLINE, "TF_PUB_DEADLINE" },
	{ "id", required_argument, OPT_ID, "TF_PUB_ID" },
	{ "metrics-file", required_argument, OPT_METRICS_FILE,
		"TF_PUB_METRICS_FILE" },
	{ "metrics-interval", required_argument, OPT_METRICS_INTERVAL,
		"TF_PUB_METRICS_INTERVAL" },
	{ "no-output", no_argument, 'n', NULL },
	{ NULL, 0, 0, NULL },
};

#define ID_MAX 64
#define RETRY_MIN_NS (100 * 1000000LL)	/* reconnect and resend backoff, */
#define RETRY_MAX_NS (2000 * 1000000LL)	/* doubling up to this */
#define WARN_EVERY_NS (10 * 1000000000LL)	/* repeated warnings */
/* --duplicate-window: JetStream's own default, so that a stream made by
 * tf-pub keeps ids as one made by other tools does. It covers what a line
 * waits at end of input (--ack-timeout + --deadline, 35 s by default)
 * with room for a server restart or a leader election; the server keeps
 * every id of the window in memory (at 40,000 lines/s, 2 minutes are
 * 4.8 million ids), which is why it is not longer. */
#define DUP_WINDOW_NS (120 * 1000000000LL)
#define SUBJECTS 16	/* topics whose subjects are kept */

struct config {
	struct tf_bus_config bus;
	int create, limits_given, dup_window_given, output;
	struct tf_bus_limits limits;
	uint64_t max_pending, max_pending_bytes;
	int64_t ack_timeout_ns, deadline_ns;
	const char *id;
	struct tf_metrics_file mf;
	struct tf_common common;
};

/* A topic and its subject, made once rather than for every line. */
struct subject {
	char topic[TF_BUS_TOPIC_MAX + 1];
	char subject[TF_BUS_SUBJECT_MAX];
};

struct pub {
	struct config *c;
	struct tf_bus *bus;
	struct tf_reader *r;
	struct tf_bus_stream st;
	char id[ID_MAX + 1];
	size_t id_len;
	int efd;		/* eventfd: the ack handler wakes the loop */
	int output;		/* still writing stdout */

	/* Shared with nats.c's threads, under mu. */
	pthread_mutex_t mu;
	struct tf_bus_window w;	/* c->max_pending lines */
	size_t ack_next;	/* the slot whose acknowledgement is next */
	int woken, lost;
	/* The loop waits for room in a full window only: acknowledgements
	 * wake it once fewer than wake_below lines are in flight, rather
	 * than one by one (see on_ack). */
	int batch;
	size_t wake_below;
	natsStatus why;		/* the first failure since the last resend */
	char why_text[160];
	uint64_t dups, seq_first, seq_last;

	/* The loop's own. */
	int reading, strict_stop;
	int64_t retry_at, retry_ns, deadline;
	/* Sending again: episodes in a row without an acknowledgement
	 * between them wait longer each time (a cluster electing a leader
	 * answers "no responders" at once, for seconds). */
	unsigned streak;
	uint64_t confirmed_then;
	int64_t resend_at, warned_at, dup_warned_at;
	int window_checked;
	/* When the line sent longest ago reaches --ack-timeout, as far as
	 * the last look at the window knows (see expire). */
	int64_t ack_due;
	/* The subjects of the last topics seen (most lines go to a few). */
	struct subject subj[SUBJECTS];
	size_t nsubj, subj_last, subj_next;
	uint64_t published, confirmed, skipped, too_big, resent, episodes;
	uint64_t reconnects, unconfirmed;
	struct tf_metrics *m;	/* --metrics-file */
	int64_t start_ns;
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: tf-pub [-s URLS] [--stream NAME] [options]\n"
		"Publish every line of stdin (NDJSON events), byte for byte, to a\n"
		"NATS JetStream stream on subject PREFIX.TOPIC, and pass it on to\n"
		"stdout. Each line waits in a bounded window until the stream\n"
		"acknowledges it; lines that are not acknowledged are sent again, in\n"
		"order, with the same message id.\n"
		"\n");
	tf_bus_usage(f);
	fprintf(f,
		"      --create         make the stream if it is missing, with:\n"
		"      --max-age DUR    drop messages older than DUR (30s, 5m, 2h, 7d)\n"
		"      --max-bytes SIZE keep at most SIZE of messages (64M, 10G)\n"
		"      --max-msgs N     keep at most N messages\n"
		"      --replicas N     copies in a JetStream cluster (1 to 5)\n"
		"      --duplicate-window DUR  how long the stream keeps message\n"
		"                       ids to drop a line sent again (2m)\n"
		"      --max-pending N  lines sent but not yet acknowledged (4096);\n"
		"                       while full, stdin is not read\n"
		"      --max-pending-bytes SIZE  and at most SIZE of them (64M)\n"
		"      --ack-timeout DUR  send again a line unacknowledged after DUR (5s)\n"
		"      --deadline DUR   at end of input, wait this long for the last\n"
		"                       acknowledgements (30s)\n"
		"      --id ID          publisher id in message ids (default: random)\n"
		"  -n, --no-output      publish only; write nothing to stdout\n"
		"      --strict         the first bad line is fatal (exit 65)\n"
		"      --max-line SIZE  longest line accepted (default 1M)\n");
	tf_metrics_usage(f, 23);
	tf_options_usage(f, 23);
	fprintf(f,
		"\n"
		"Environment: TF_NATS_URL, TF_NATS_STREAM, TF_NATS_CREDS,\n"
		"TF_NATS_TLS_CA; secrets only there or in the config file:\n"
		"TF_NATS_TOKEN, or TF_NATS_USER and TF_NATS_PASSWORD.\n"
		"Exit status: 0 every line acknowledged, 1 some were not (counted on\n"
		"stderr) or the stream cannot be reached, 2 usage, 65 bad line under\n"
		"--strict. Read the stream with tf-sub(1).\n");
}

static int
set_option(int val, const char *arg, void *ctx, char *err, size_t errlen)
{
	struct config *c = ctx;
	uint64_t v;
	int rc;

	switch (val) {
	case OPT_CREATE:
		c->create = 1;
		return 0;
	case OPT_MAX_AGE:
		c->limits_given = 1;
		if (tf_parse_duration("--max-age", arg, &c->limits.max_age_ns,
			    err, errlen) < 0)
			return -1;
		if (c->limits.max_age_ns < 1000000000LL) {
			tf_seterr(err, errlen, "--max-age: at least 1s");
			return -1;
		}
		return 0;
	case OPT_MAX_BYTES:
		c->limits_given = 1;
		if (tf_parse_size("--max-bytes", arg, 1024, (uint64_t)1 << 50,
			    &v, err, errlen) < 0)
			return -1;
		c->limits.max_bytes = (int64_t)v;
		return 0;
	case OPT_MAX_MSGS:
		c->limits_given = 1;
		if (tf_parse_u64("--max-msgs", arg, 1, (uint64_t)1 << 53, &v,
			    err, errlen) < 0)
			return -1;
		c->limits.max_msgs = (int64_t)v;
		return 0;
	case OPT_REPLICAS:
		c->limits_given = 1;
		if (tf_parse_u64("--replicas", arg, 1, 5, &v, err, errlen) < 0)
			return -1;
		c->limits.replicas = (int64_t)v;
		return 0;
	case OPT_DUPLICATE_WINDOW:
		c->limits_given = 1;
		c->dup_window_given = 1;
		if (tf_parse_duration("--duplicate-window", arg,
			    &c->limits.duplicates_ns, err, errlen) < 0)
			return -1;
		if (c->limits.duplicates_ns < 1000000000LL) {
			tf_seterr(err, errlen, "--duplicate-window: at least 1s");
			return -1;
		}
		return 0;
	case OPT_MAX_PENDING:
		return tf_parse_u64("--max-pending", arg, 1, 1000000,
			&c->max_pending, err, errlen);
	case OPT_MAX_PENDING_BYTES:
		return tf_parse_size("--max-pending-bytes", arg, 1024,
			(uint64_t)1 << 34, &c->max_pending_bytes, err, errlen);
	case OPT_ACK_TIMEOUT:
		if (tf_parse_duration("--ack-timeout", arg, &c->ack_timeout_ns,
			    err, errlen) < 0)
			return -1;
		if (c->ack_timeout_ns < 10000000LL) {
			tf_seterr(err, errlen, "--ack-timeout: at least 10ms");
			return -1;
		}
		return 0;
	case OPT_DEADLINE:
		return tf_parse_duration("--deadline", arg, &c->deadline_ns, err,
			errlen);
	case OPT_ID:
		if (!*arg || strlen(arg) > ID_MAX ||
		    arg[strcspn(arg, " \t\r\n")]) {
			tf_seterr(err, errlen, "--id: 1 to %d bytes, no spaces",
				ID_MAX);
			return -1;
		}
		c->id = arg;
		return 0;
	case 'n':
		c->output = 0;
		return 0;
	case OPT_METRICS_FILE:
		return tf_metrics_set_path(&c->mf, arg, err, errlen);
	case OPT_METRICS_INTERVAL:
		return tf_metrics_set_interval(&c->mf, arg, err, errlen);
	}
	rc = tf_bus_set(&c->bus, val, arg, err, errlen);
	return rc > 0 ? 0 : rc;
}

/* ---- the window (lib/bus.c's, under mu) ---------------------------- */

static struct tf_bus_entry *
at(struct pub *p, size_t i)
{
	return tf_bus_window_at(&p->w, i);
}

static struct tf_bus_entry *
find(struct pub *p, uint64_t no)
{
	return tf_bus_window_find(&p->w, no);
}

static void
set_state(struct pub *p, struct tf_bus_entry *e, enum tf_bus_state state)
{
	tf_bus_window_set(&p->w, e, state);
}

static void
wake(struct pub *p)
{
	uint64_t one = 1;

	if (p->woken)
		return;
	p->woken = 1;
	if (write(p->efd, &one, sizeof one) < 0) {
		/* The counter cannot overflow at one write per wake-up. */
	}
}

/* The line number in a message id "ID-NO", or 0. */
static uint64_t
msg_line(natsMsg *m)
{
	const char *id = NULL, *dash;
	uint64_t no = 0;

	if (natsMsgHeader_Get(m, "Nats-Msg-Id", &id) != NATS_OK || !id ||
	    !(dash = strrchr(id, '-')))
		return 0;
	/* By hand, as tf_bus_msg_id writes it: strtoull costs as much as the
	 * rest of the acknowledgement's handling here. */
	for (dash++; *dash >= '0' && *dash <= '9'; dash++)
		no = no * 10 + (uint64_t)(*dash - '0');
	return no;
}

/* nats.c's thread, for every acknowledgement or failure: mark the entry,
 * keep a failed message to send again, wake the loop. No nats.c calls
 * that could wait here (a request from its own thread deadlocks). */
static void
on_ack(jsCtx *js, natsMsg *m, jsPubAck *pa, jsPubAckErr *pae, void *arg)
{
	struct pub *p = arg;
	struct tf_bus_entry *e;
	uint64_t no;

	(void)js;
	pthread_mutex_lock(&p->mu);
	/* Known by the message itself when acknowledgements come in the
	 * order sent; else by the line number in its id (a header lookup,
	 * a few hundred instructions). */
	if (!(e = tf_bus_window_ack(&p->w, m, &p->ack_next)) &&
	    (no = msg_line(m)) && (e = find(p, no)) &&
	    e->state == TF_BUS_SENT)
		tf_bus_window_acked(&p->w, e, &p->ack_next);
	if (!e || e->state != TF_BUS_SENT) {
		pthread_mutex_unlock(&p->mu);
		natsMsg_Destroy(m);
		return;
	}
	if (pa) {
		set_state(p, e, TF_BUS_ACKED);
		if (pa->Duplicate)
			p->dups++;
		if (!p->seq_first || pa->Sequence < p->seq_first)
			p->seq_first = pa->Sequence;
		if (pa->Sequence > p->seq_last)
			p->seq_last = pa->Sequence;
		if (p->batch && p->w.nsent >= p->wake_below) {
			pthread_mutex_unlock(&p->mu);
			natsMsg_Destroy(m);
			return;
		}
		natsMsg_Destroy(m);
	} else {
		set_state(p, e, TF_BUS_FAILED);
		e->msg = m;
		if (p->why == NATS_OK) {
			p->why = pae ? pae->Err : NATS_ERR;
			snprintf(p->why_text, sizeof p->why_text, "%s",
				pae && pae->ErrText ? pae->ErrText :
						      "failed");
		}
	}
	wake(p);
	pthread_mutex_unlock(&p->mu);
}

static void
on_event(enum tf_bus_event ev, void *arg)
{
	struct pub *p = arg;

	if (ev != TF_BUS_CLOSED)
		return;
	pthread_mutex_lock(&p->mu);
	p->lost = 1;
	wake(p);
	pthread_mutex_unlock(&p->mu);
}

/* Pops the acknowledged lines off the front of the window; says how many
 * are left in flight and failed. */
static void
settle(struct pub *p, size_t *inflight, size_t *failed)
{
	pthread_mutex_lock(&p->mu);
	p->confirmed += tf_bus_window_settle(&p->w);
	*inflight = p->w.nsent;
	*failed = p->w.nfailed;
	pthread_mutex_unlock(&p->mu);
}

/* ---- the connection -------------------------------------------------- */

/* A duration for messages: "35s", "1.5s", "200ms". */
static const char *
dur(int64_t ns, char *buf, size_t size)
{
	if (ns % 1000000000LL == 0)
		snprintf(buf, size, "%llds", (long long)(ns / 1000000000LL));
	else if (ns >= 1000000000LL)
		snprintf(buf, size, "%.1fs", (double)ns / 1e9);
	else
		snprintf(buf, size, "%lldms", (long long)(ns / 1000000));
	return buf;
}

/* The stream drops a message id it has seen only within its duplicate
 * window: a line sent again later than that is stored twice if the
 * server had stored it before. At end of input a line may wait
 * --ack-timeout and then --deadline: say so once when the stream's
 * window is shorter. */
static void
check_window(struct pub *p)
{
	int64_t need = p->c->ack_timeout_ns + p->c->deadline_ns;
	char a[32], b[32];

	if (p->window_checked)
		return;
	p->window_checked = 1;
	if (p->st.duplicates_ns <= 0 || p->st.duplicates_ns >= need)
		return;
	tf_warn("stream %s drops repeated message ids for %s only, less than "
		"a line may wait to be sent again (--ack-timeout + "
		"--deadline: %s): such a line may be stored twice (make the "
		"stream with a longer --duplicate-window)",
		p->c->bus.stream, dur(p->st.duplicates_ns, a, sizeof a),
		dur(need, b, sizeof b));
}

/* Connects and finds (or makes) the stream. Returns 0, or -1 with err. */
static int
open_bus(struct pub *p, char *err, size_t errlen)
{
	struct config *c = p->c;
	jsOptions jo;
	int rc;

	jsOptions_Init(&jo);
	jo.PublishAsync.AckHandler = on_ack;
	jo.PublishAsync.AckHandlerClosure = p;
	/* Our window is the bound; nats.c must never stall a publish. */
	jo.PublishAsync.MaxPending = (int64_t)c->max_pending + 1;
	p->bus = tf_bus_connect(&c->bus, "tf-pub", 0, &jo, on_event, p, err,
		errlen);
	if (!p->bus)
		return -1;
	rc = tf_bus_stream_info(p->bus, c->bus.stream, c->bus.prefix, &p->st,
		err, errlen);
	if (rc == TF_BUS_NOT_FOUND && c->create)
		rc = tf_bus_stream_create(p->bus, c->bus.stream, c->bus.prefix,
			&c->limits, &p->st, err, errlen);
	else if (rc == TF_BUS_NOT_FOUND)
		tf_seterr(err, errlen, "stream %s not found on %s (make it "
			"with --create, or name another with --stream)",
			c->bus.stream, tf_bus_url(p->bus));
	if (rc == 0 && !p->st.covers) {
		tf_seterr(err, errlen, "stream %s does not take subjects "
			"%s.* (its subjects do not cover --subject-prefix %s)",
			c->bus.stream, c->bus.prefix, c->bus.prefix);
		rc = -1;
	}
	if (rc != 0) {
		tf_bus_destroy(p->bus);
		p->bus = NULL;
		return -1;
	}
	check_window(p);
	return 0;
}

/* Takes back from nats.c every message still waiting for its
 * acknowledgement, to send again: their acknowledgements, if they come
 * after all, are dropped (the message ids make a resend harmless). */
static void
take_back(struct pub *p, natsStatus why, const char *text)
{
	natsMsgList l = { 0 };
	int i;

	if (js_PublishAsyncGetPendingList(&l, tf_bus_js(p->bus)) != NATS_OK)
		return;
	pthread_mutex_lock(&p->mu);
	for (i = 0; i < l.Count; i++) {
		uint64_t no = msg_line(l.Msgs[i]);
		struct tf_bus_entry *e = no ? find(p, no) : NULL;

		if (e && e->state == TF_BUS_SENT) {
			set_state(p, e, TF_BUS_FAILED);
			e->msg = l.Msgs[i];
			l.Msgs[i] = NULL;
		}
	}
	if (p->why == NATS_OK) {
		p->why = why;
		snprintf(p->why_text, sizeof p->why_text, "%s", text);
	}
	pthread_mutex_unlock(&p->mu);
	natsMsgList_Destroy(&l);
}

/* --ack-timeout, kept here rather than by nats.c: its timer per message
 * (jsPubOptions.MaxWait) costs about a third of the CPU time of a
 * publish. When the line sent longest ago has waited --ack-timeout, every
 * line in flight is taken back to be sent again (they would time out in
 * turn, and lines are sent again only once none is in flight). Returns
 * when the next check is due (0: nothing in flight). */
static int64_t
expire(struct pub *p, int64_t now)
{
	int64_t oldest = 0;
	size_t i;

	/* Lines are sent (and sent again) at the time of sending and leave
	 * the window in any order: the oldest line in flight is never older
	 * than the last look found it, so the window needs no new look
	 * (thousands of entries, on every wake-up) before then. */
	if (p->ack_due && now < p->ack_due)
		return p->ack_due;
	p->ack_due = 0;
	pthread_mutex_lock(&p->mu);
	for (i = 0; p->w.nsent && i < p->w.n; i++) {
		struct tf_bus_entry *e = at(p, i);

		if (e->state == TF_BUS_SENT && (!oldest || e->sent_last < oldest))
			oldest = e->sent_last;
	}
	pthread_mutex_unlock(&p->mu);
	if (!oldest)
		return 0;
	if (now - oldest < p->c->ack_timeout_ns)
		return p->ack_due = oldest + p->c->ack_timeout_ns;
	take_back(p, NATS_TIMEOUT, "no acknowledgement within --ack-timeout");
	return 0;
}

/* The connection closed: take back every message still waiting for its
 * acknowledgement (to send again) and drop the connection. */
static void
lose_bus(struct pub *p)
{
	char text[160];

	snprintf(text, sizeof text, "connection to %s lost",
		tf_bus_url(p->bus));
	take_back(p, NATS_CONNECTION_CLOSED, text);
	tf_warn("connection to %s lost; reconnecting", tf_bus_url(p->bus));
	tf_bus_destroy(p->bus);
	p->bus = NULL;
	p->retry_at = tf_mono_ns();
	p->retry_ns = RETRY_MIN_NS;
}

static void
try_reconnect(struct pub *p)
{
	char err[512];

	if (tf_mono_ns() < p->retry_at)
		return;
	if (open_bus(p, err, sizeof err) == 0) {
		tf_warn("connected to %s", tf_bus_url(p->bus));
		p->reconnects++;
		return;
	}
	/* Say it once per doubling, not once per attempt. */
	if (p->retry_ns < RETRY_MAX_NS)
		tf_warn("%s (retrying)", err);
	p->retry_at = tf_mono_ns() + p->retry_ns;
	if (p->retry_ns < RETRY_MAX_NS)
		p->retry_ns *= 2;
}

/* ---- publishing ------------------------------------------------------ */

static natsStatus
send_msg(struct pub *p, natsMsg **m, uint64_t no)
{
	jsPubOptions po;
	char id[ID_MAX + 22];

	tf_bus_msg_id(id, p->id, p->id_len, no);
	jsPubOptions_Init(&po);
	po.MsgId = id;
	return js_PublishMsgAsync(tf_bus_js(p->bus), m, &po);
}

/* Says (at most every WARN_EVERY_NS) when the oldest line to send again
 * was first sent longer ago than the stream keeps message ids: if the
 * server stored it before, it will be stored twice. */
static void
stale(struct pub *p, int64_t now)
{
	size_t i;
	uint64_t no = 0;
	int64_t sent = 0;
	char a[32], b[32];

	if (p->st.duplicates_ns <= 0 || (p->dup_warned_at &&
		    now - p->dup_warned_at < WARN_EVERY_NS))
		return;
	pthread_mutex_lock(&p->mu);
	for (i = 0; i < p->w.n; i++)
		if (at(p, i)->state == TF_BUS_FAILED) {
			no = at(p, i)->no;
			sent = at(p, i)->sent_ns;
			break;
		}
	pthread_mutex_unlock(&p->mu);
	if (!no || now - sent <= p->st.duplicates_ns)
		return;
	p->dup_warned_at = now;
	tf_warn("line %llu: first sent %s ago, longer than stream %s drops "
		"repeated message ids (%s): if the server stored it then, "
		"it is stored twice",
		(unsigned long long)no, dur(now - sent, a, sizeof a),
		p->c->bus.stream, dur(p->st.duplicates_ns, b, sizeof b));
}

/* Sends every failed line again, oldest first, once nothing is in flight
 * (so that they keep their order among themselves). */
static void
resend(struct pub *p)
{
	size_t i, count = 0, limit;
	uint64_t first = 0;
	natsStatus why;
	char text[160];
	int64_t now, delay;

	pthread_mutex_lock(&p->mu);
	why = p->why;
	snprintf(text, sizeof text, "%s", p->why_text);
	for (i = 0; i < p->w.n; i++)
		if (at(p, i)->state == TF_BUS_FAILED) {
			if (!count++)
				first = at(p, i)->no;
		}
	p->why = NATS_OK;
	pthread_mutex_unlock(&p->mu);
	if (!count)
		return;
	now = tf_mono_ns();
	if (p->episodes && p->confirmed == p->confirmed_then)
		p->streak++;
	else
		p->streak = 0;
	p->episodes++;
	p->confirmed_then = p->confirmed;
	delay = p->streak ? RETRY_MIN_NS << (p->streak < 5 ? p->streak - 1 : 4) :
			    0;
	p->resend_at = now + (delay < RETRY_MAX_NS ? delay : RETRY_MAX_NS);
	if (!p->streak || now - p->warned_at >= WARN_EVERY_NS) {
		p->warned_at = now;
		tf_warn("line %llu: %s; sending %zu line%s again from line "
			"%llu",
			(unsigned long long)first,
			why == NATS_TIMEOUT ?
				"no acknowledgement within --ack-timeout" :
				text,
			count, count == 1 ? "" : "s",
			(unsigned long long)first);
	}
	stale(p, now);
	/* After a failed round, one line first: the rest follow once the
	 * stream takes it, rather than thousands of lines per try while a
	 * cluster has no leader. */
	limit = p->streak ? 1 : count;
	for (i = 0; i < p->w.n && limit; i++) {
		struct tf_bus_entry *e;
		natsMsg *m;
		uint64_t no;
		natsStatus s;

		pthread_mutex_lock(&p->mu);
		e = at(p, i);
		if (e->state != TF_BUS_FAILED) {
			pthread_mutex_unlock(&p->mu);
			continue;
		}
		m = e->msg;
		no = e->no;
		e->msg = NULL;
		e->key = m;
		e->sent_last = now;
		set_state(p, e, TF_BUS_SENT);
		pthread_mutex_unlock(&p->mu);
		s = send_msg(p, &m, no);
		if (s != NATS_OK) {
			/* The connection went (or is going): the next round
			 * takes it from here. */
			pthread_mutex_lock(&p->mu);
			e = find(p, no);
			set_state(p, e, TF_BUS_FAILED);
			e->msg = m;
			if (p->why == NATS_OK) {
				p->why = s;
				snprintf(p->why_text, sizeof p->why_text, "%s",
					natsStatus_GetText(s));
			}
			pthread_mutex_unlock(&p->mu);
			return;
		}
		p->resent++;
		limit--;
	}
}

/* The subject of a topic: kept from one of the last SUBJECTS topics,
 * or made now in place of the oldest made. */
static const char *
subject_of(struct pub *p, const char *topic)
{
	struct subject *s = &p->subj[p->subj_last];
	size_t i;

	if (p->nsubj && !strcmp(s->topic, topic))
		return s->subject;
	for (i = 0; i < p->nsubj; i++)
		if (!strcmp(p->subj[i].topic, topic)) {
			p->subj_last = i;
			return p->subj[i].subject;
		}
	i = p->subj_next;
	p->subj_next = (i + 1) % SUBJECTS;
	if (p->nsubj < SUBJECTS)
		p->nsubj++;
	s = &p->subj[i];
	snprintf(s->topic, sizeof s->topic, "%s", topic);
	tf_bus_subject(p->c->bus.prefix, topic, strlen(topic), s->subject,
		sizeof s->subject);
	p->subj_last = i;
	return s->subject;
}

/* Publishes one good line. Returns 0, or -1 when the line cannot be
 * published at all (larger than the server takes). */
static int
publish(struct pub *p, const struct tf_line *l, const struct tf_event *ev)
{
	char tbuf[TF_BUS_TOPIC_MAX + 1];
	const char *subject = subject_of(p, tf_event_topic(ev, tbuf,
		sizeof tbuf));
	natsMsg *m = NULL;
	struct tf_bus_entry *e;
	natsStatus s;

	if (natsMsg_Create(&m, subject, NULL, l->data, (int)l->len) !=
	    NATS_OK) {
		tf_error("out of memory");
		exit(1);
	}
	/* In the window before it is sent: its acknowledgement may come
	 * before js_PublishMsgAsync returns. */
	pthread_mutex_lock(&p->mu);
	tf_bus_window_push(&p->w, l->no, l->len, tf_mono_ns())->key = m;
	pthread_mutex_unlock(&p->mu);
	s = send_msg(p, &m, l->no);
	if (s == NATS_OK) {
		p->published++;
		return 0;
	}
	pthread_mutex_lock(&p->mu);
	e = find(p, l->no);
	if (s == NATS_MAX_PAYLOAD) {
		/* Still the newest entry: nothing was sent after it. */
		tf_bus_window_pop_newest(&p->w);
		pthread_mutex_unlock(&p->mu);
		natsMsg_Destroy(m);
		tf_error("line %llu: %zu bytes, more than the server takes "
			 "(max_payload %lld with headers; not published)",
			(unsigned long long)l->no, l->len,
			(long long)natsConnection_GetMaxPayload(
				tf_bus_nc(p->bus)));
		p->too_big++;
		return -1;
	}
	set_state(p, e, TF_BUS_FAILED);
	e->msg = m;
	if (p->why == NATS_OK) {
		p->why = s;
		snprintf(p->why_text, sizeof p->why_text, "%s",
			natsStatus_GetText(s));
	}
	pthread_mutex_unlock(&p->mu);
	p->published++;
	return 0;
}

static int
room(struct pub *p)
{
	return p->w.n < p->c->max_pending && p->w.bytes < p->c->max_pending_bytes;
}

/* Takes lines from the reader while the window has room. Returns 1 when
 * more input is wanted, 0 when the window is full or reading is over. */
static int
take_lines(struct pub *p)
{
	struct tf_line l;
	struct tf_event ev;
	char why[256];

	while (p->reading && room(p)) {
		int k;

		if (!tf_reader_next(p->r, &l)) {
			if (tf_reader_eof(p->r)) {
				p->reading = 0;
				return 0;
			}
			return 1;
		}
		k = tf_event_check(&l, &ev, why, sizeof why);
		if (k == 1)
			continue;
		if (k < 0) {
			p->skipped++;
			if (p->c->common.strict) {
				tf_error("line %llu: %s",
					(unsigned long long)l.no, why);
				p->strict_stop = 1;
				p->reading = 0;
				return 0;
			}
			tf_warn("line %llu: %s (skipped)",
				(unsigned long long)l.no, why);
			continue;
		}
		if (publish(p, &l, &ev) == 0)
			tf_log_passthrough(&p->output, l.data, l.len);
	}
	return 0;
}

static void
summary(struct pub *p, size_t left)
{
	char seqs[64] = "";

	if (p->seq_last)
		snprintf(seqs, sizeof seqs, " (seq %llu to %llu)",
			(unsigned long long)p->seq_first,
			(unsigned long long)p->seq_last);
	tf_warn("published %llu line%s to stream %s%s: %llu acknowledged, "
		"%zu not, %llu skipped, %llu sent again",
		(unsigned long long)p->published,
		p->published == 1 ? "" : "s", p->c->bus.stream, seqs,
		(unsigned long long)p->confirmed, left,
		(unsigned long long)p->skipped,
		(unsigned long long)p->resent);
}

/* Reports the lines the deadline left unacknowledged; returns how many. */
static size_t
unconfirmed(struct pub *p)
{
	size_t left;
	uint64_t first = 0, last = 0;

	pthread_mutex_lock(&p->mu);
	left = p->w.n;
	if (left) {
		first = at(p, 0)->no;
		last = at(p, left - 1)->no;
	}
	pthread_mutex_unlock(&p->mu);
	p->unconfirmed = left;
	if (left)
		tf_error("%zu line%s not acknowledged by stream %s within "
			 "--deadline (lines %llu to %llu); they may or may "
			 "not be stored",
			left, left == 1 ? "" : "s", p->c->bus.stream,
			(unsigned long long)first, (unsigned long long)last);
	return left;
}

enum { METRICS_START, METRICS_RUNNING, METRICS_FINAL };

/* Writes --metrics-file, when asked for: at the start (an unwritable path
 * is found before anything is read), while publishing, and a last time
 * with how the run ended (exit status rc). Returns 0, or -1 when the
 * write failed (reported as lib/metrics does). */
static int
write_metrics(struct pub *p, int when, int rc)
{
	const struct tf_metrics_common com = { "tf-pub", p->start_ns,
		p->published + p->too_big + p->skipped, p->skipped };
	struct tf_metrics *m = p->m;
	size_t n, bytes;
	uint64_t dups, seq;

	if (!m)
		return 0;
	pthread_mutex_lock(&p->mu);
	n = p->w.n;
	bytes = p->w.bytes;
	dups = p->dups;
	seq = p->seq_last;
	pthread_mutex_unlock(&p->mu);
	tf_metrics_clear(m);
	tf_metrics_common(m, &com);
	tf_metrics_counter(m, "tf_pub_published_lines_total",
		"Lines sent to the stream (the first time).", p->published);
	tf_metrics_counter(m, "tf_pub_acknowledged_lines_total",
		"Lines the stream acknowledged.", p->confirmed);
	tf_metrics_counter(m, "tf_pub_resent_lines_total",
		"Lines sent again, not acknowledged in time or refused.",
		p->resent);
	tf_metrics_counter(m, "tf_pub_duplicate_lines_total",
		"Lines the stream acknowledged as already stored (a copy "
		"sent again: stored once).", dups);
	tf_metrics_counter(m, "tf_pub_failed_lines_total",
		"Lines not published: larger than the server takes, or not "
		"acknowledged within --deadline at the end.",
		p->too_big + p->unconfirmed);
	tf_metrics_counter(m, "tf_pub_reconnects_total",
		"Connections made again after the connection was lost.",
		p->reconnects);
	tf_metrics_gauge(m, "tf_pub_pending_lines",
		"Lines in the window: sent, not acknowledged yet.", (double)n);
	tf_metrics_gauge(m, "tf_pub_pending_bytes",
		"Bytes of the lines in the window.", (double)bytes);
	tf_metrics_gauge(m, "tf_pub_max_pending_lines",
		"The window's size (--max-pending).",
		(double)p->c->max_pending);
	tf_metrics_gauge(m, "tf_pub_last_seq",
		"The highest stream sequence acknowledged (0: none yet).",
		(double)seq);
	if (when == METRICS_FINAL)
		tf_metrics_last_run(m, rc, tf_now_ns() - p->start_ns);
	return tf_metrics_file_report(&p->c->mf, m, when == METRICS_RUNNING,
		"publishing");
}

static int
loop(struct pub *p)
{
	struct pollfd pfd[2] = {
		{ .fd = p->efd, .events = POLLIN },
		{ .fd = STDIN_FILENO, .events = POLLIN },
	};

	for (;;) {
		size_t inflight, failed;
		int want_input = 0, lost;
		int64_t now, wake_at = 0, timeout = -1, ack_due = 0;
		uint64_t junk;

		pthread_mutex_lock(&p->mu);
		lost = p->lost;
		p->lost = 0;
		p->batch = 0;
		pthread_mutex_unlock(&p->mu);
		if (lost && p->bus)
			lose_bus(p);
		if (!p->bus)
			try_reconnect(p);
		settle(p, &inflight, &failed);
		if (p->bus && failed && !inflight &&
		    tf_mono_ns() >= p->resend_at) {
			resend(p);
			settle(p, &inflight, &failed);
		}
		/* New lines only while nothing waits to be sent again:
		 * those go first. */
		if (p->bus && !failed)
			want_input = take_lines(p);
		if (p->reading && tf_signal_stop())
			p->reading = 0;
		if (!p->reading && !p->deadline)
			p->deadline = tf_mono_ns() + p->c->deadline_ns;
		settle(p, &inflight, &failed);
		if (!p->reading && !p->w.n)
			return 0;
		now = tf_mono_ns();
		if (tf_metrics_file_due(&p->c->mf, now))
			write_metrics(p, METRICS_RUNNING, 0);
		if (!p->reading && now >= p->deadline)
			return unconfirmed(p) ? 1 : 0;
		if (p->bus && inflight && !(ack_due = expire(p, now)))
			continue;	/* taken back: to send again */

		/* Wake for the next reconnect attempt, the next resend, the
		 * next --ack-timeout or the deadline. */
		if (!p->bus)
			wake_at = p->retry_at;
		else if (failed && !inflight)
			wake_at = p->resend_at;
		if (ack_due && (!wake_at || ack_due < wake_at))
			wake_at = ack_due;
		if (!p->reading && (!wake_at || p->deadline < wake_at))
			wake_at = p->deadline;
		if (wake_at)
			timeout = wake_at > now ? wake_at - now : 0;
		if (p->m) {
			int64_t t = tf_metrics_file_timeout(&p->c->mf, now);

			if (t >= 0 && (timeout < 0 || t < timeout))
				timeout = t;
		}
		/* Only room in a full window awaited: be woken when an eighth
		 * of the lines in flight have their acknowledgement, not for
		 * each (a wake-up and a few lines per acknowledgement cost
		 * context switches, and small writes to the server). Any
		 * failure, a lost connection, or --ack-timeout still wake
		 * at once. */
		pthread_mutex_lock(&p->mu);
		if (p->bus && p->reading && !want_input && !p->w.nfailed &&
		    p->w.nsent && !room(p)) {
			size_t k = p->w.nsent / 8;

			p->batch = 1;
			p->wake_below = p->w.nsent - (k ? k : 1) + 1;
		}
		pthread_mutex_unlock(&p->mu);
		tf_log_flush_stdout(&p->output, "publishing");
		pfd[1].fd = want_input && p->reading ? STDIN_FILENO : -1;
		if (tf_signal_wait(pfd, 2, timeout) <= 0)
			continue;
		if (pfd[0].revents & POLLIN) {
			/* Empty the eventfd before clearing woken: a handler
			 * in between either finds woken set (and its change
			 * is seen by the next settle) or writes again. */
			if (read(p->efd, &junk, sizeof junk) < 0 &&
			    errno != EAGAIN) {
				tf_error("eventfd: %s", strerror(errno));
				return 1;
			}
			pthread_mutex_lock(&p->mu);
			p->woken = 0;
			pthread_mutex_unlock(&p->mu);
		}
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t got = tf_reader_fill(p->r);

			if (got < 0 && errno != EINTR && errno != EAGAIN) {
				tf_error("stdin: %s", strerror(errno));
				p->reading = 0;
			}
		}
	}
}

static void
random_id(char *buf, size_t size)
{
	unsigned char r[8];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	size_t i;

	if (fd < 0 || read(fd, r, sizeof r) != (ssize_t)sizeof r) {
		uint64_t x = (uint64_t)tf_now_ns() ^ ((uint64_t)getpid() << 32);

		memcpy(r, &x, sizeof r);
	}
	if (fd >= 0)
		close(fd);
	for (i = 0; i < sizeof r && 2 * i + 2 < size; i++)
		snprintf(buf + 2 * i, 3, "%02x", r[i]);
}

static int
run(struct config *c)
{
	struct pub p = { .c = c, .output = c->output, .reading = 1,
		.start_ns = tf_now_ns() };
	char err[512];
	int rc, winrc;

	if (c->id)
		snprintf(p.id, sizeof p.id, "%s", c->id);
	else
		random_id(p.id, sizeof p.id);
	p.id_len = strlen(p.id);
	pthread_mutex_init(&p.mu, NULL);
	winrc = tf_bus_window_init(&p.w, c->max_pending);
	p.r = tf_reader_create(STDIN_FILENO, c->common.max_line);
	p.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (winrc < 0 || !p.r || p.efd < 0) {
		tf_error("%s", p.efd < 0 ? strerror(errno) : "out of memory");
		rc = 1;
		goto out;
	}
	if (c->mf.path) {
		if (!(p.m = tf_metrics_file_builder(&c->mf, "tf-pub", 0, err,
			      sizeof err))) {
			tf_error("--metrics-file: %s", err);
			rc = 1;
			goto out;
		}
		/* An unwritable path is found now, before any work. */
		if (write_metrics(&p, METRICS_START, 0) < 0) {
			tf_metrics_destroy(p.m);
			p.m = NULL;
			rc = 2;
			goto out;
		}
	}
	if (open_bus(&p, err, sizeof err) < 0) {
		tf_error("%s", err);
		rc = 1;
		goto final;
	}
	tf_info("publishing to stream %s (epoch %s) on %s as %s",
		c->bus.stream, p.st.epoch, tf_bus_url(p.bus), p.id);
	rc = loop(&p);
	tf_log_flush_stdout(&p.output, "publishing");
	if (p.strict_stop && rc == 0)
		rc = 65;
	if (p.too_big && rc == 0)
		rc = 1;
	summary(&p, p.w.n);
final:
	if (write_metrics(&p, METRICS_FINAL, rc) < 0 && !rc)
		rc = 1;
out:
	tf_metrics_destroy(p.m);
	tf_bus_destroy(p.bus);
	/* What is left in the window after the deadline: our messages. */
	tf_bus_window_finish(&p.w);
	tf_reader_destroy(p.r);
	if (p.efd >= 0)
		close(p.efd);
	pthread_mutex_destroy(&p.mu);
	tf_bus_shutdown();
	return rc;
}

int
main(int argc, char **argv)
{
	static char outbuf[1 << 16];
	struct config c = {
		.output = 1,
		.max_pending = 4096,
		.max_pending_bytes = 64 << 20,
		.ack_timeout_ns = 5000000000LL,
		.deadline_ns = 30000000000LL,
		.limits.duplicates_ns = DUP_WINDOW_NS,
	};
	char err[512];
	int first, rc;

	tf_log_init(argv[0]);
	tf_bus_config_init(&c.bus);
	tf_bus_options(options);
	if (tf_options_parse(argc, argv, options, set_option, &c, &c.common,
		    &first, err, sizeof err) < 0) {
		tf_options_free();
		return tf_usage_error(err);
	}
	if (tf_options_answer(&c.common, usage)) {
		tf_options_free();
		return 0;
	}
	if (first < argc) {
		snprintf(err, sizeof err, "unexpected argument '%s' (the "
			"input is stdin)", argv[first]);
		tf_options_free();
		return tf_usage_error(err);
	}
	if (c.limits_given && !c.create) {
		tf_options_free();
		return tf_usage_error("--max-age, --max-bytes, --max-msgs, "
				      "--replicas and --duplicate-window shape "
				      "a new stream: they need --create");
	}
	/* JetStream refuses a window longer than the stream's max age. */
	if (c.limits.max_age_ns && c.limits.duplicates_ns > c.limits.max_age_ns) {
		if (c.dup_window_given) {
			tf_options_free();
			return tf_usage_error("--duplicate-window: at most "
					      "--max-age");
		}
		c.limits.duplicates_ns = c.limits.max_age_ns;
	}
	if (tf_bus_check(&c.bus, argc, argv, err, sizeof err) < 0) {
		tf_options_free();
		return tf_usage_error(err);
	}
	setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
	tf_signals_init();
	/* From here the stop signals reach this thread only inside
	 * tf_signal_wait, and never nats.c's threads, made after it. */
	tf_signal_wait(NULL, 0, 0);
	rc = run(&c);
	if (c.output && fclose(stdout) != 0 && rc == 0 && errno != EPIPE) {
		tf_error("stdout: %s", strerror(errno));
		rc = 1;
	}
	tf_options_free();
	return rc;
}
