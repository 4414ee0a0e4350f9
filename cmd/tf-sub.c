/* tf-sub: write the events of a NATS JetStream stream to stdout from a
 * chosen position, each once and in stream order, verbatim or as tf.v1
 * envelopes with seq and epoch; a hole in the sequence is reported, never
 * passed over in silence. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus.h"
#include "line.h"
#include "log.h"
#include "metrics.h"
#include "opts.h"
#include "sig.h"
#include "vocab.h"
#include "wsproto.h"

enum {
	OPT_TOPICS = 256,
	OPT_NEW,
	OPT_ALL,
	OPT_LAST,
	OPT_FROM_SEQ,
	OPT_SINCE,
	OPT_UNTIL_END,
	OPT_ENVELOPE,
	OPT_MAX_BUFFER,
	OPT_METRICS_FILE,
	OPT_METRICS_INTERVAL,
};

/* The bus options (lib/bus.c), then ours, then the end. Where to start
 * and what to take have no variable: one left in a config file would
 * silently change every subscriber. */
static struct tf_option options[] = {
	[TF_BUS_NOPTS] = { "topics", required_argument, OPT_TOPICS, NULL },
	{ "new", no_argument, OPT_NEW, NULL },
	{ "all", no_argument, OPT_ALL, NULL },
	{ "last", required_argument, OPT_LAST, NULL },
	{ "from-seq", required_argument, OPT_FROM_SEQ, NULL },
	{ "since", required_argument, OPT_SINCE, NULL },
	{ "until-end", no_argument, OPT_UNTIL_END, NULL },
	{ "envelope", no_argument, OPT_ENVELOPE, "TF_SUB_ENVELOPE" },
	{ "max-buffer", required_argument, OPT_MAX_BUFFER,
		"TF_SUB_MAX_BUFFER" },
	{ "metrics-file", required_argument, OPT_METRICS_FILE,
		"TF_SUB_METRICS_FILE" },
	{ "metrics-interval", required_argument, OPT_METRICS_INTERVAL,
		"TF_SUB_METRICS_INTERVAL" },
	{ NULL, 0, 0, NULL },
};

#define MAX_TOPICS 64
#define HEARTBEAT_NS 1000000000LL	/* the server's idle heartbeat */
#define INACTIVE_NS 5000000000LL	/* a whole-stream consumer outlives us */
#define IDLE_MS 100			/* longest wait between checks */
#define RETRY_MIN_NS (100 * 1000000LL)	/* re-subscribing backoff */
#define RETRY_MAX_NS (2000 * 1000000LL)
#define DRAIN_NS (1000 * 1000000LL)	/* a stop gives the reader this long */
#define OUT_SIZE (1 << 16)
#define RETIRED_MAX 8

enum start { START_NEW, START_ALL, START_LAST, START_SEQ, START_TIME };

struct config {
	struct tf_bus_config bus;
	enum start start;
	int starts;			/* how many start options were given */
	uint64_t last, from_seq;
	int64_t since_ns;
	int until_end, envelope;
	uint64_t max_buffer;
	struct {
		const char *p;		/* in argv, the environment or the
					 * config file */
		size_t n;
	} raw[MAX_TOPICS];
	char topics[MAX_TOPICS][TF_BUS_SUBJECT_MAX];	/* as subjects */
	size_t ntopics;
	int all_topics;			/* "*" among them */
	struct tf_metrics_file mf;
	struct tf_common common;
};

struct sub {
	struct config *c;
	struct tf_bus *bus;
	natsSubscription *ns;
	char epoch[TF_BUS_EPOCH_SIZE];
	int64_t created_ns;
	const char *filter;		/* the consumer's subject */
	/* Set while the consumer, made by us, takes the whole stream (no
	 * filter subject): its name. Then only messages under "PREFIX."
	 * are ours (see take). */
	char *whole_name;
	char under[TF_BUS_PREFIX_MAX + 2];
	size_t under_len;
	struct tf_bus_cursor cur;	/* where we are (end: --until-end) */
	int64_t dropped;		/* nats.c's count for this consumer */
	int64_t retry_at, retry_ns;
	int stale;			/* s->ns is to be made again */
	const char *why;		/* and why */

	/* From nats.c's threads. */
	atomic_int resync, closed, disconnected, reconnected;

	/* Consumers given up, not yet freed (see retire). */
	natsSubscription *retired[RETIRED_MAX];
	size_t nretired;

	uint64_t written, skipped, gaps, missed, dups, resubs;
	uint64_t seq_first, seq_last;
	uint64_t bytes, reconnects;
	struct tf_metrics *m;		/* --metrics-file */
	int64_t start_ns;
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: tf-sub [-s URLS] [--stream NAME] [start] [options]\n"
		"Write the events of a NATS JetStream stream (as tf-pub(1) publishes\n"
		"them) to stdout, byte for byte, each once and in stream order, and\n"
		"follow the stream until interrupted.\n"
		"\n");
	tf_bus_usage(f);
	fprintf(f,
		"      --topics LIST    only these topics (comma-separated)\n"
		"Where to start (one of):\n"
		"      --new            with the next event published (default)\n"
		"      --all            with the first event the stream holds\n"
		"      --last N         N events before the end of the stream\n"
		"      --from-seq N     at stream sequence N\n"
		"      --since TIME     at TIME: RFC 3339, epoch seconds or ms, now,\n"
		"                       or -DURATION before now (-5m, -2h)\n"
		"      --until-end      stop after the last event present at start\n"
		"      --envelope       write tf.v1 envelopes: {\"type\":\"event\",\n"
		"                       \"seq\":S,\"epoch\":E,\"topic\":T,\"data\":LINE}\n"
		"      --max-buffer SIZE  events held for a slow reader (64M)\n"
		"      --strict         the first bad event is fatal (exit 65)\n"
		"      --max-line SIZE  skip events longer than SIZE (default 1M)\n");
	tf_metrics_usage(f, 23);
	tf_options_usage(f, 23);
	fprintf(f,
		"\n"
		"A hole in the stream (events expired or deleted before they were\n"
		"read) is reported on stderr, and as a tf.v1 gap line with\n"
		"--envelope. Environment: TF_NATS_URL, TF_NATS_STREAM,\n"
		"TF_NATS_CREDS, TF_NATS_TLS_CA, TF_SUB_ENVELOPE, TF_SUB_MAX_BUFFER;\n"
		"secrets only there or in the config file: TF_NATS_TOKEN, or\n"
		"TF_NATS_USER and TF_NATS_PASSWORD.\n"
		"Exit status: 0 interrupted or --until-end reached, 1 error, 2 usage,\n"
		"65 bad event under --strict; killed by SIGPIPE when the reader goes\n"
		"away.\n");
}

static int
set_topics(struct config *c, const char *arg, char *err, size_t errlen)
{
	const char *p = arg;

	do {
		size_t n = strcspn(p, ",");

		if (!n) {
			tf_seterr(err, errlen, "--topics: an empty topic in "
				"'%s'", arg);
			return -1;
		}
		if (n > TF_BUS_TOPIC_MAX) {
			tf_seterr(err, errlen, "--topics: a topic longer than "
				"%d bytes", TF_BUS_TOPIC_MAX);
			return -1;
		}
		if (n == 1 && *p == '*') {
			c->all_topics = 1;
		} else {
			if (c->ntopics == MAX_TOPICS) {
				tf_seterr(err, errlen, "--topics: more than "
					"%d", MAX_TOPICS);
				return -1;
			}
			c->raw[c->ntopics].p = p;
			c->raw[c->ntopics].n = n;
			c->ntopics++;
		}
		p += n;
	} while (*p++ == ',');
	return 0;
}

static int
set_option(int val, const char *arg, void *ctx, char *err, size_t errlen)
{
	struct config *c = ctx;
	int rc;

	switch (val) {
	case OPT_TOPICS:
		c->ntopics = 0;
		c->all_topics = 0;
		return set_topics(c, arg, err, errlen);
	case OPT_NEW:
		c->start = START_NEW;
		c->starts++;
		return 0;
	case OPT_ALL:
		c->start = START_ALL;
		c->starts++;
		return 0;
	case OPT_LAST:
		c->start = START_LAST;
		c->starts++;
		return tf_parse_u64("--last", arg, 1, (uint64_t)1 << 53,
			&c->last, err, errlen);
	case OPT_FROM_SEQ:
		c->start = START_SEQ;
		c->starts++;
		return tf_parse_u64("--from-seq", arg, 1, (uint64_t)1 << 63,
			&c->from_seq, err, errlen);
	case OPT_SINCE:
		c->start = START_TIME;
		c->starts++;
		if (arg[0] == '-') {
			int64_t ago;

			if (tf_parse_duration("--since", arg + 1, &ago, err,
				    errlen) < 0)
				return -1;
			c->since_ns = tf_now_ns() - ago;
			return 0;
		}
		if (!strcmp(arg, "now")) {
			c->since_ns = tf_now_ns();
			return 0;
		}
		return tf_parse_time("--since", arg, &c->since_ns, err, errlen);
	case OPT_UNTIL_END:
		c->until_end = 1;
		return 0;
	case OPT_ENVELOPE:
		c->envelope = 1;
		return 0;
	case OPT_MAX_BUFFER:
		return tf_parse_size("--max-buffer", arg, 64 * 1024,
			(uint64_t)1 << 31, &c->max_buffer, err, errlen);
	case OPT_METRICS_FILE:
		return tf_metrics_set_path(&c->mf, arg, err, errlen);
	case OPT_METRICS_INTERVAL:
		return tf_metrics_set_interval(&c->mf, arg, err, errlen);
	}
	rc = tf_bus_set(&c->bus, val, arg, err, errlen);
	return rc > 0 ? 0 : rc;
}

/* ---- output ---------------------------------------------------------- */

/* stdout: one buffer written with write(2), waiting for room with the stop
 * signals let in, so that a stalled reader never makes the program deaf
 * to SIGTERM; a stop gives the reader DRAIN_NS to take what is buffered. */
static struct {
	char *buf;
	size_t len, cap;
	int pipe;		/* a pipe, socket or terminal: writes can wait */
	int fd;			/* where writes go (see out_open) */
	int nonblock;		/* fd: our own description, non-blocking */
	int64_t give_up;	/* after a stop: the end of the reader's time */
} out;

/* Writes to a pipe or terminal go through a description of our own of
 * it, non-blocking (stdout's own is shared with other processes and must
 * stay as it is): a write takes all that fits, rather than PIPE_BUF at a
 * time after a poll each (three system calls per 4 KiB, most of
 * tf-sub's). Where that cannot be (a socket), writes wait as before. */
static void
out_open(void)
{
	struct stat st, mine;
	int fd;

	out.fd = STDOUT_FILENO;
	if (fstat(STDOUT_FILENO, &st) < 0) {
		out.pipe = 1;
		return;
	}
	out.pipe = !S_ISREG(st.st_mode);
	if (!out.pipe || !(S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)))
		return;
	fd = open("/proc/self/fd/1", O_WRONLY | O_NONBLOCK | O_CLOEXEC |
		O_NOCTTY);
	if (fd < 0)
		return;
	if (fstat(fd, &mine) < 0 || mine.st_dev != st.st_dev ||
	    mine.st_ino != st.st_ino || mine.st_rdev != st.st_rdev) {
		close(fd);
		return;
	}
	out.fd = fd;
	out.nonblock = 1;
}

/* Returns 0, or -1 with errno set. */
static int
out_flush(void)
{
	struct pollfd p = { .fd = out.fd, .events = POLLOUT };
	size_t off = 0, chunk;
	int64_t now, wait;
	ssize_t n;
	int full = 0;		/* the last write found no room */

	while (off < out.len) {
		chunk = out.len - off;
		if (out.pipe && (!out.nonblock || full)) {
			wait = -1;
			if (tf_signal_stop()) {
				now = tf_mono_ns();
				if (!out.give_up)
					out.give_up = now + DRAIN_NS;
				if (now >= out.give_up)
					break;
				wait = out.give_up - now;
			}
			if (tf_signal_wait(&p, 1, wait) <= 0)
				continue;
			/* After POLLOUT, a write of PIPE_BUF bytes or less
			 * cannot block. */
			if (!out.nonblock && chunk > PIPE_BUF)
				chunk = PIPE_BUF;
		} else {
			/* A file (or our own non-blocking description) never
			 * waits; let a stop signal in all the same, or a long
			 * catch-up would not hear it. */
			tf_signal_wait(NULL, 0, 0);
		}
		n = write(out.fd, out.buf + off, chunk);
		full = n < 0 && errno == EAGAIN;
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return -1;
		if (n > 0)
			off += (size_t)n;
	}
	out.len = 0;
	return 0;
}

/* Reports a failed write to stdout and returns 1; when the reader has gone
 * away (EPIPE) ends quietly by SIGPIPE instead, like cat(1). */
static int
out_failed(void)
{
	int e = errno;

	if (e == EPIPE) {
		signal(SIGPIPE, SIG_DFL);
		raise(SIGPIPE);
	}
	tf_error("stdout: %s", strerror(e));
	return 1;
}

/* Makes room for n more bytes. Returns 0, or -1 with errno set. */
static int
out_room(size_t n)
{
	if (out.cap - out.len >= n)
		return 0;
	if (out_flush() < 0)
		return -1;
	if (out.cap < n) {
		char *p = realloc(out.buf, n);

		if (!p)
			return -1;
		out.buf = p;
		out.cap = n;
	}
	return 0;
}

static void
out_add(const char *s, size_t n)
{
	memcpy(out.buf + out.len, s, n);
	out.len += n;
}

/* ---- the stream ------------------------------------------------------ */

static void
on_event(enum tf_bus_event ev, void *arg)
{
	struct sub *s = arg;

	switch (ev) {
	case TF_BUS_CLOSED:
		atomic_store(&s->closed, 1);
		break;
	case TF_BUS_DISCONNECTED:
		atomic_store(&s->disconnected, 1);
		break;
	case TF_BUS_ERROR:
		break;
	case TF_BUS_RECONNECTED:
		atomic_store(&s->reconnected, 1);
		atomic_store(&s->resync, 1);
		break;
	default:
		/* Reconnected (the consumer may be gone with the server),
		 * messages dropped, heartbeats missed, sequences that
		 * disagree: read again from the next sequence wanted. */
		atomic_store(&s->resync, (int)ev + 1);
		break;
	}
}

/* Writes a gap line (envelope mode) and says so on stderr. */
static int
gap(struct sub *s, uint64_t from, uint64_t to, const char *why)
{
	char line[256];
	int n;

	s->gaps++;
	s->missed += to - from + 1;
	tf_warn("gap: stream %s seq %llu to %llu (%llu message%s) %s",
		s->c->bus.stream, (unsigned long long)from,
		(unsigned long long)to, (unsigned long long)(to - from + 1),
		to == from ? "" : "s", why);
	if (!s->c->envelope)
		return 0;
	n = snprintf(line, sizeof line, "{\"type\":\"gap\",\"from\":%llu,"
		"\"to\":%llu,\"missed\":%llu,\"reason\":\"history\"}\n",
		(unsigned long long)from, (unsigned long long)to,
		(unsigned long long)(to - from + 1));
	if (out_room((size_t)n) < 0)
		return -1;
	out_add(line, (size_t)n);
	return 0;
}

/* Frees the subscriptions given up, once it is safe: nats.c 3.4's reader
 * thread takes a message's subscription without holding a reference, so
 * freeing one while a message for it is being read is a use after free
 * (fixed upstream after 3.5, nats.c pull request 638). A round trip to the
 * server is the barrier: once its answer is read, so is everything sent
 * before it. Returns 0, or -1 when the round trip failed (try again
 * later). */
static int
reap(struct sub *s)
{
	size_t i;

	if (!s->nretired)
		return 0;
	if (natsConnection_FlushTimeout(tf_bus_nc(s->bus), 2000) != NATS_OK)
		return -1;
	for (i = 0; i < s->nretired; i++)
		natsSubscription_Destroy(s->retired[i]);
	s->nretired = 0;
	return 0;
}

/* Deletes the whole-stream consumer we made, now: nats.c deletes only
 * the consumers it made, and the server would keep ours for INACTIVE_NS
 * more (a reader of the stream's consumers would see two after a
 * resync). A failure leaves it to the server. */
static void
drop_whole(struct sub *s)
{
	jsErrCode jerr = 0;

	if (!s->whole_name)
		return;
	/* Not while reconnecting: the request would wait its whole time. */
	if (natsConnection_Status(tf_bus_nc(s->bus)) ==
			NATS_CONN_STATUS_CONNECTED)
		js_DeleteConsumer(tf_bus_js(s->bus), s->c->bus.stream,
			s->whole_name, NULL, &jerr);
	free(s->whole_name);
	s->whole_name = NULL;
}

/* Gives up the consumer: unsubscribes (the server deletes it) and frees
 * the subscription when reap says it may. Returns 0, or -1 when too many
 * wait to be freed (the caller waits for the connection). */
static int
retire(struct sub *s)
{
	if (!s->ns)
		return 0;
	if (s->nretired == RETIRED_MAX && reap(s) < 0)
		return -1;
	natsSubscription_Unsubscribe(s->ns);
	drop_whole(s);
	s->retired[s->nretired++] = s->ns;
	s->ns = NULL;
	reap(s);
	return 0;
}

/* Makes a consumer that delivers from s->cur.next (or the start asked for,
 * before the first event), on the subscription s->ns. Returns 0, 1 when
 * there is nothing to read (--until-end, an empty range), or -1 with err
 * filled; *fatal is set when trying again cannot help. */
static int
subscribe(struct sub *s, int *fatal, char *err, size_t errlen)
{
	struct config *c = s->c;
	struct tf_bus_stream st;
	jsSubOptions so;
	jsConsumerConfig whole, *cc;
	int all;
	jsConsumerInfo *ci = NULL;
	natsInbox *inbox = NULL;
	jsErrCode jerr = 0;
	natsStatus ns = NATS_OK;
	int rc;

	*fatal = 0;
	if (retire(s) < 0) {
		tf_seterr(err, errlen, "the server does not answer");
		return -1;
	}
	rc = tf_bus_stream_info(s->bus, c->bus.stream, c->bus.prefix, &st, err,
		errlen);
	if (rc == TF_BUS_NOT_FOUND) {
		tf_seterr(err, errlen, "stream %s not found on %s (tf-pub "
			"--create makes it; or name another with --stream)",
			c->bus.stream, tf_bus_url(s->bus));
		*fatal = 1;
		return -1;
	}
	if (rc < 0)
		return -1;
	if (!st.covers) {
		tf_seterr(err, errlen, "stream %s does not take subjects %s.* "
			"(see --subject-prefix)", c->bus.stream, c->bus.prefix);
		*fatal = 1;
		return -1;
	}
	if (!s->created_ns) {
		/* The first time: the stream's identity, and where to
		 * start. */
		s->created_ns = st.created_ns;
		memcpy(s->epoch, st.epoch, sizeof s->epoch);
		s->cur.checked = st.within && c->ntopics != 1;
		if (c->until_end)
			s->cur.end = st.last_seq;
		switch (c->start) {
		case START_NEW:
			s->cur.next = st.last_seq + 1;
			break;
		case START_LAST:
			s->cur.next = st.last_seq >= c->last ?
				st.last_seq - c->last + 1 : 1;
			if (s->cur.next < st.first_seq)
				s->cur.next = st.first_seq;
			break;
		case START_SEQ:
			s->cur.next = c->from_seq;
			break;
		case START_ALL:
		case START_TIME:
			break;
		}
		tf_info("stream %s (epoch %s) on %s: seq %llu to %llu",
			c->bus.stream, s->epoch, tf_bus_url(s->bus),
			(unsigned long long)st.first_seq,
			(unsigned long long)st.last_seq);
	} else if (st.created_ns != s->created_ns) {
		tf_seterr(err, errlen, "stream %s was deleted and made again "
			"(epoch %s, was %s): its sequence numbers start over; "
			"start tf-sub again", c->bus.stream, st.epoch,
			s->epoch);
		*fatal = 1;
		return -1;
	}
	if (c->until_end && (!s->cur.end || (s->cur.next && s->cur.next > s->cur.end)))
		return 1;
	/* Below the first sequence the stream holds: gone. */
	if (s->cur.next && s->cur.next < st.first_seq) {
		uint64_t to = st.first_seq - 1;

		if (c->until_end && s->cur.end < to)
			to = s->cur.end;
		if (gap(s, s->cur.next, to, "no longer in the stream") < 0) {
			tf_seterr(err, errlen, "stdout: %s", strerror(errno));
			*fatal = 1;
			return -1;
		}
		s->cur.next = to + 1;
		if (c->until_end && s->cur.next > s->cur.end)
			return 1;
	}

	jsSubOptions_Init(&so);
	so.Stream = c->bus.stream;
	/* Every subject of the stream under the prefix and no topics asked
	 * for: a consumer of the whole stream, made here without a filter
	 * subject (nats.c gives the consumers it makes one). nats-server 2.9
	 * matches a filter against the subject of every message it delivers,
	 * even one that takes them all: about a tenth of its CPU time per
	 * message delivered (its Go profile during tf-sub --all). */
	all = !c->ntopics && st.within;
	cc = all ? &whole : &so.Config;
	jsConsumerConfig_Init(&whole);
	cc->AckPolicy = js_AckNone;
	cc->FlowControl = true;
	cc->Heartbeat = HEARTBEAT_NS;
	cc->MemoryStorage = true;
	cc->Replicas = 1;
	if (s->cur.next) {
		cc->DeliverPolicy = js_DeliverByStartSequence;
		cc->OptStartSeq = s->cur.next;
	} else if (c->start == START_TIME) {
		cc->DeliverPolicy = js_DeliverByStartTime;
		cc->OptStartTime = c->since_ns;
	} else {
		cc->DeliverPolicy = js_DeliverAll;
	}
	if (all) {
		/* Ephemeral: the server deletes it once its subscription is
		 * gone for INACTIVE_NS (nats.c deletes only the consumers it
		 * made). */
		whole.InactiveThreshold = INACTIVE_NS;
		ns = natsInbox_Create(&inbox);
		whole.DeliverSubject = inbox;
		if (ns == NATS_OK)
			ns = js_AddConsumer(&ci, tf_bus_js(s->bus),
				c->bus.stream, &whole, NULL, &jerr);
		/* nats.c checks what it is given against the consumer. */
		so.Config = whole;
		if (ns == NATS_OK) {
			so.Consumer = ci->Name;
			if (!(s->whole_name = strdup(ci->Name)))
				ns = NATS_NO_MEMORY;
		}
	}
	if (ns == NATS_OK)
		ns = js_SubscribeSync(&s->ns, tf_bus_js(s->bus), s->filter,
			NULL, &so, &jerr);
	jsConsumerInfo_Destroy(ci);
	natsInbox_Destroy(inbox);
	if (ns != NATS_OK) {
		char what[300];

		/* A consumer made before the failure: the server's. */
		free(s->whole_name);
		s->whole_name = NULL;

		snprintf(what, sizeof what, "stream %s: cannot subscribe",
			c->bus.stream);
		tf_bus_error(err, errlen, what, ns);
		s->ns = NULL;
		return -1;
	}
	/* Past this many bytes nats.c drops what the server sends; the
	 * consumer sequence shows it and we read again from where the
	 * drop began. No limit on the count: the bytes bound it. */
	natsSubscription_SetPendingLimits(s->ns, -1, (int)c->max_buffer);
	s->cur.cseq = 0;
	s->dropped = 0;
	s->resubs++;
	return 0;
}

/* --until-end, nothing arriving: done when the consumer has looked at the
 * stream up to the end (its delivered stream sequence counts what its
 * filter skipped) and we have had all it sent. Not its pending count: a
 * consumer on a replica still catching up sees nothing pending. */
static int
caught_up(struct sub *s)
{
	jsConsumerInfo *ci = NULL;
	int done;

	if (natsSubscription_GetConsumerInfo(&ci, s->ns, NULL, NULL) != NATS_OK)
		return 0;
	done = ci->Delivered.Stream >= s->cur.end &&
		ci->Delivered.Consumer == s->cur.cseq;
	jsConsumerInfo_Destroy(ci);
	return done;
}

/* One message. Returns 0, 1 to read again from s->cur.next (something was
 * lost on the way to us), -1 when stdout failed, 65 for a bad event under
 * --strict. */
static int
take(struct sub *s, natsMsg *m)
{
	struct config *c = s->c;
	uint64_t seq, cseq, from, to;
	const char *data = natsMsg_GetData(m);
	size_t len = (size_t)natsMsg_GetDataLength(m), i;
	struct tf_line l = { 0 };
	struct tf_event ev;
	char why[256], tbuf[TF_BUS_TOPIC_MAX + 1];

	if (tf_bus_ack_seqs(natsMsg_GetReply(m), &seq, &cseq) < 0)
		return 0;	/* not a stream message: not ours */

	switch (tf_bus_cursor_check(&s->cur, seq, cseq, &from, &to)) {
	case TF_BUS_AGAIN:
	case TF_BUS_PAST:
		return 0;
	case TF_BUS_RESYNC:
		tf_debug("consumer seq %llu after %llu",
			(unsigned long long)cseq,
			(unsigned long long)s->cur.cseq);
		return 1;
	case TF_BUS_DUP:
		s->dups++;
		return 0;
	case TF_BUS_TAKE:
		break;
	}
	if (from && gap(s, from, to, "deleted or expired before it was "
			    "read") < 0)
		return -1;

	/* A subject the stream took since its subjects were looked at. */
	if (s->whole_name &&
	    strncmp(natsMsg_GetSubject(m), s->under, s->under_len))
		return 0;
	if (s->c->ntopics > 1) {
		const char *subject = natsMsg_GetSubject(m);

		for (i = 0; i < c->ntopics; i++)
			if (!strcmp(subject, c->topics[i]))
				break;
		if (i == c->ntopics)
			return 0;
	}
	l.data = data;
	l.len = len;
	l.no = seq;
	l.too_long = len > c->common.max_line;
	switch (tf_event_check(&l, &ev, why, sizeof why)) {
	case 1:
		return 0;
	case 0:
		if (!memchr(data, '\n', len))
			break;
		snprintf(why, sizeof why, "holds a line break");
		/* fallthrough */
	default:
		s->skipped++;
		if (c->common.strict) {
			tf_error("seq %llu: %s", (unsigned long long)seq, why);
			return 65;
		}
		tf_warn("seq %llu: %s (skipped)", (unsigned long long)seq, why);
		return 0;
	}

	if (c->envelope) {
		const char *topic = tf_event_topic(&ev, tbuf, sizeof tbuf);
		size_t tl = strlen(topic);
		char head[128];
		int hn = snprintf(head, sizeof head, "{\"type\":\"event\","
			"\"seq\":%llu,\"epoch\":\"%s\",\"topic\":",
			(unsigned long long)seq, s->epoch);

		if (out_room((size_t)hn + 6 * tl + 2 + 8 + len + 2) < 0)
			return -1;
		out_add(head, (size_t)hn);
		out.len += tf_json_escape(out.buf + out.len, topic, tl);
		out_add(",\"data\":", 8);
		out_add(data, len);
		out_add("}\n", 2);
	} else {
		if (out_room(len + 1) < 0)
			return -1;
		out_add(data, len);
		out_add("\n", 1);
	}
	if (!s->seq_first)
		s->seq_first = seq;
	s->seq_last = seq;
	s->written++;
	s->bytes += len;
	return 0;
}

/* The consumer is to be made again, from the next sequence wanted. */
static void
resync(struct sub *s, int why)
{
	s->stale = 1;
	switch (why) {
	case TF_BUS_SLOW_CONSUMER:
		s->why = "nats.c dropped messages past --max-buffer";
		break;
	case TF_BUS_RECONNECTED:
		s->why = "reconnected";
		break;
	case TF_BUS_MISSED_HEARTBEAT:
		s->why = "the consumer's heartbeats stopped";
		break;
	default:
		s->why = "the consumer's sequence disagrees with ours";
		break;
	}
}

enum { METRICS_START, METRICS_RUNNING, METRICS_FINAL };

/* Writes --metrics-file, when asked for: at the start (an unwritable path
 * is found before connecting), while following (at least every IDLE_MS
 * while connected), and a last time with how the run ended (exit status
 * rc). Returns 0, or -1 when the write failed (reported as lib/metrics
 * does). */
static int
write_metrics(struct sub *s, int when, int rc)
{
	const struct tf_metrics_common com = { "tf-sub", s->start_ns,
		s->written + s->skipped, s->skipped };
	struct tf_metrics *m = s->m;

	if (!m)
		return 0;
	tf_metrics_clear(m);
	tf_metrics_common(m, &com);
	tf_metrics_counter(m, "tf_sub_events_total",
		"Events written to stdout.", s->written);
	tf_metrics_counter(m, "tf_sub_event_bytes_total",
		"Bytes of the events written (the lines, without envelopes).",
		s->bytes);
	tf_metrics_counter(m, "tf_sub_gaps_total",
		"Holes in the stream sequence reported (events expired or "
		"deleted before they were read).", s->gaps);
	tf_metrics_counter(m, "tf_sub_missed_events_total",
		"Stream sequences the gaps left out.", s->missed);
	tf_metrics_counter(m, "tf_sub_reconnects_total",
		"Connections to a server made again after a disconnection.",
		s->reconnects);
	tf_metrics_counter(m, "tf_sub_resubscribes_total",
		"Consumers made again to read on from the next sequence (a "
		"reconnection, a leader change, messages nats.c dropped).",
		s->resubs > 1 ? s->resubs - 1 : 0);
	tf_metrics_gauge(m, "tf_sub_last_seq",
		"The stream sequence of the last event written (0: none yet).",
		(double)s->seq_last);
	if (when == METRICS_FINAL)
		tf_metrics_last_run(m, rc, tf_now_ns() - s->start_ns);
	return tf_metrics_file_report(&s->c->mf, m, when == METRICS_RUNNING,
		"following");
}

/* Waits before the next try to subscribe; says why once per doubling. */
static void
backoff(struct sub *s, const char *err)
{
	if (s->retry_ns < RETRY_MAX_NS)
		tf_warn("%s (retrying)", err);
	s->retry_at = tf_mono_ns() + s->retry_ns;
	if (s->retry_ns < RETRY_MAX_NS)
		s->retry_ns *= 2;
}

static int
follow(struct sub *s)
{
	char err[512];
	int fatal, rc;

	s->retry_ns = RETRY_MIN_NS;
	while (!tf_signal_stop() && !s->cur.done) {
		natsMsg *m = NULL;
		natsStatus ns;
		int64_t dropped;

		if (atomic_exchange(&s->closed, 0)) {
			tf_error("connection to %s closed",
				tf_bus_url(s->bus));
			return 1;
		}
		if (atomic_exchange(&s->disconnected, 0))
			tf_warn("disconnected from %s; reconnecting",
				tf_bus_url(s->bus));
		if (atomic_exchange(&s->reconnected, 0)) {
			tf_warn("reconnected");
			s->reconnects++;
		}
		if (tf_metrics_file_due(&s->c->mf, tf_mono_ns()))
			write_metrics(s, METRICS_RUNNING, 0);
		if ((rc = atomic_exchange(&s->resync, 0)))
			resync(s, rc - 1);
		if (!s->ns || s->stale) {
			/* A request now would only wait for its timeout. */
			if (natsConnection_Status(tf_bus_nc(s->bus)) !=
			    NATS_CONN_STATUS_CONNECTED) {
				if (out.len && out_flush() < 0)
					return out_failed();
				tf_signal_wait(NULL, 0, RETRY_MIN_NS);
				continue;
			}
			if (tf_mono_ns() < s->retry_at) {
				if (out.len && out_flush() < 0)
					return out_failed();
				tf_signal_wait(NULL, 0,
					s->retry_at - tf_mono_ns());
				continue;
			}
			rc = subscribe(s, &fatal, err, sizeof err);
			if (rc != -1)
				s->stale = 0;
			if (rc == 1)
				break;
			/* At start, as tf-pub does, any failure is the end: a
			 * wrong server or stream says so at once. Later ones
			 * (a restart, an election) are waited out. */
			if (rc < 0 && (fatal || !s->resubs)) {
				tf_error("%s", err);
				return 1;
			}
			if (rc < 0) {
				backoff(s, err);
				continue;
			}
			if (s->resubs > 1)
				tf_info("%s: reading again from seq %llu",
					s->why, (unsigned long long)s->cur.next);
			s->retry_ns = RETRY_MIN_NS;
		}
		/* Batch under load; flush when nothing is waiting. */
		ns = natsSubscription_NextMsg(&m, s->ns, out.len ? 0 : IDLE_MS);
		if (ns == NATS_TIMEOUT && out.len) {
			if (out_flush() < 0)
				return out_failed();
			continue;
		}
		if (ns == NATS_TIMEOUT) {
			if (natsSubscription_GetDropped(s->ns, &dropped) ==
				    NATS_OK &&
			    dropped > s->dropped) {
				/* Lost at the end of a burst: no later
				 * message shows it. */
				s->dropped = dropped;
				resync(s, TF_BUS_SLOW_CONSUMER);
			}
			if (s->cur.end && caught_up(s))
				break;
			/* Let a stop signal in. */
			tf_signal_wait(NULL, 0, 0);
			continue;
		}
		if (ns != NATS_OK) {
			/* Dropped messages, a sequence mismatch: read again
			 * from the next sequence wanted. */
			if (ns == NATS_CONNECTION_CLOSED) {
				atomic_store(&s->closed, 1);
				continue;
			}
			resync(s, ns == NATS_SLOW_CONSUMER ?
					TF_BUS_SLOW_CONSUMER :
					TF_BUS_MISMATCH);
			continue;
		}
		rc = take(s, m);
		natsMsg_Destroy(m);
		if (rc == 1)
			resync(s, TF_BUS_SLOW_CONSUMER);
		else if (rc < 0)
			return out_failed();
		else if (rc)
			return rc;
	}
	return 0;
}

static void
summary(struct sub *s)
{
	char seqs[64] = "", skipped[64] = "", gaps[96] = "";

	if (s->seq_last)
		snprintf(seqs, sizeof seqs, " (seq %llu to %llu)",
			(unsigned long long)s->seq_first,
			(unsigned long long)s->seq_last);
	if (s->skipped)
		snprintf(skipped, sizeof skipped, ", %llu skipped",
			(unsigned long long)s->skipped);
	if (s->gaps)
		snprintf(gaps, sizeof gaps, ", %llu gap%s (%llu message%s "
			"missed)", (unsigned long long)s->gaps,
			s->gaps == 1 ? "" : "s", (unsigned long long)s->missed,
			s->missed == 1 ? "" : "s");
	tf_warn("wrote %llu event%s of stream %s%s%s%s",
		(unsigned long long)s->written, s->written == 1 ? "" : "s",
		s->c->bus.stream, seqs, skipped, gaps);
}

static int
run(struct config *c)
{
	struct sub s = { .c = c, .start_ns = tf_now_ns() };
	char err[512], all[TF_BUS_SUBJECT_MAX];
	int rc;

	out.cap = OUT_SIZE;
	out.buf = malloc(out.cap);
	if (!out.buf) {
		tf_error("out of memory");
		return 1;
	}
	out_open();
	/* One topic: the server filters. None or several: the consumer
	 * takes every subject under the prefix (and we pick). */
	snprintf(all, sizeof all, "%s.>", c->bus.prefix);
	s.filter = c->ntopics == 1 ? c->topics[0] : all;
	s.under_len = (size_t)snprintf(s.under, sizeof s.under, "%s.",
		c->bus.prefix);
	if (c->mf.path) {
		if (!(s.m = tf_metrics_file_builder(&c->mf, "tf-sub", 0, err,
			      sizeof err))) {
			tf_error("--metrics-file: %s", err);
			rc = 1;
			goto out;
		}
		/* An unwritable path is found now, before any work. */
		if (write_metrics(&s, METRICS_START, 0) < 0) {
			rc = 2;
			goto out;
		}
	}
	s.bus = tf_bus_connect(&c->bus, "tf-sub", 1, NULL, on_event, &s, err,
		sizeof err);
	if (!s.bus) {
		tf_error("%s", err);
		rc = 1;
		goto final;
	}
	rc = follow(&s);
	/* What was read before an error or a bad event under --strict is
	 * good: out it goes. */
	if (out.len && out_flush() < 0 && rc != 1)
		rc = out_failed();
	if (rc != 1 || s.created_ns)
		summary(&s);
	/* Delete the consumer now rather than in seconds. */
	if (s.ns && natsConnection_Status(tf_bus_nc(s.bus)) ==
			NATS_CONN_STATUS_CONNECTED) {
		natsSubscription_Unsubscribe(s.ns);
		drop_whole(&s);
	}
final:
	if (write_metrics(&s, METRICS_FINAL, rc) < 0 && !rc)
		rc = 1;
out:
	tf_metrics_destroy(s.m);
	/* With the connection closed (its reader thread joined), the
	 * subscriptions can go. */
	if (s.bus)
		natsConnection_Close(tf_bus_nc(s.bus));
	natsSubscription_Destroy(s.ns);
	while (s.nretired)
		natsSubscription_Destroy(s.retired[--s.nretired]);
	free(s.whole_name);
	tf_bus_destroy(s.bus);
	tf_bus_shutdown();
	free(out.buf);
	if (out.fd != STDOUT_FILENO)
		close(out.fd);
	return rc;
}

int
main(int argc, char **argv)
{
	struct config c = {
		.start = START_NEW,
		.max_buffer = 64 << 20,
	};
	char err[512];
	size_t i;
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
		snprintf(err, sizeof err, "unexpected argument '%s'",
			argv[first]);
		tf_options_free();
		return tf_usage_error(err);
	}
	if (c.starts > 1) {
		tf_options_free();
		return tf_usage_error("--new, --all, --last, --from-seq and "
				      "--since exclude each other");
	}
	if (tf_bus_check(&c.bus, argc, argv, err, sizeof err) < 0) {
		tf_options_free();
		return tf_usage_error(err);
	}
	/* The subjects of --topics, now that the prefix is known. */
	for (i = 0; i < c.ntopics; i++)
		tf_bus_subject(c.bus.prefix, c.raw[i].p, c.raw[i].n,
			c.topics[i], sizeof c.topics[i]);
	if (c.all_topics)
		c.ntopics = 0;
	tf_signals_init();
	/* From here the stop signals reach this thread only inside
	 * tf_signal_wait, and never nats.c's threads, made after it. */
	tf_signal_wait(NULL, 0, 0);
	rc = run(&c);
	tf_options_free();
	return rc;
}
