/* tf-record: append every good input line, with its arrival time and its
 * indexed fields, to a SQLite recording, and pass it on to stdout. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "envelope.h"
#include "line.h"
#include "log.h"
#include "metrics.h"
#include "opts.h"
#include "sig.h"
#include "store.h"
#include "vocab.h"

enum {
	OPT_BATCH_ROWS = 256,
	OPT_BATCH_MS,
	OPT_DURABLE,
	OPT_SESSION,
	OPT_METRICS_FILE,
	OPT_METRICS_INTERVAL,
	OPT_INPUT,
	OPT_LAST_SEQ,
};

static const struct tf_option options[] = {
	{ "db", required_argument, 'd', "TF_RECORD_DB" },
	{ "session", required_argument, OPT_SESSION, "TF_RECORD_SESSION" },
	{ "no-output", no_argument, 'n', NULL },
	{ "batch-rows", required_argument, OPT_BATCH_ROWS,
		"TF_RECORD_BATCH_ROWS" },
	{ "batch-ms", required_argument, OPT_BATCH_MS, "TF_RECORD_BATCH_MS" },
	{ "durable", no_argument, OPT_DURABLE, "TF_RECORD_DURABLE" },
	{ "metrics-file", required_argument, OPT_METRICS_FILE,
		"TF_RECORD_METRICS_FILE" },
	{ "metrics-interval", required_argument, OPT_METRICS_INTERVAL,
		"TF_RECORD_METRICS_INTERVAL" },
	{ "input", required_argument, OPT_INPUT, "TF_RECORD_INPUT" },
	{ "last-seq", no_argument, OPT_LAST_SEQ, NULL },
	{ 0 },
};

struct config {
	const char *db;
	const char *session;
	int output;
	uint64_t batch_rows;
	int64_t batch_ns;
	int durable;
	int envelope;		/* --input envelope */
	int last_seq;		/* --last-seq: print it and exit */
	struct tf_metrics_file mf;
	struct tf_common common;
};

struct counts {
	uint64_t lines, skipped;	/* good and bad input lines */
	/* --input envelope: events already recorded (seq not above the last
	 * stored of their epoch), gap lines and the events they said were
	 * missed upstream. */
	uint64_t dups, gaps, missed;
	/* The last seq committed (from the file at start), and the last one
	 * in the open batch. */
	uint64_t last_seq, batch_seq;
	/* For --metrics-file: batches committed and rolled back, the time
	 * spent committing, the wall clock of the last commit. */
	uint64_t commits, failed_batches;
	int64_t commit_ns, committed_at;
	struct tf_metrics *m;
	int64_t start_ns;
	/* Arrival of the first and the last line committed. */
	int64_t first_ns, last_ns;
	/* The open batch: arrival times and input line numbers. */
	int64_t batch_first_ns, batch_last_ns;
	uint64_t batch_first_no, batch_last_no;
	/* Batches are failing: the first failure was reported, the next
	 * ones only under -v, until one commits again. */
	int failing;
	uint64_t lost_before;	/* tf_store_lost when failing began */
	uint64_t failing_from;	/* first input line of the first lost batch */
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: tf-record [-d FILE] [--session NAME] [options]\n"
		"Append every line of stdin (NDJSON events), with its arrival time,\n"
		"to a SQLite recording, and pass it on to stdout.\n"
		"\n"
		"  -d, --db FILE        the recording (default tf.db); created if missing\n"
		"      --session NAME   name of this recording session (default: start time)\n"
		"  -n, --no-output      record only; write nothing to stdout\n"
		"      --batch-rows N   commit after N rows (default 10000)\n"
		"      --batch-ms MS    commit after MS milliseconds (default 100)\n"
		"      --durable        fsync every commit (synchronous=FULL)\n"
		"      --input FORMAT   lines (default), or envelope: tf.v1 event\n"
		"                       envelopes as tf-sub writes them; data is\n"
		"                       recorded with its seq and epoch, each seq once\n"
		"      --last-seq       print the last seq stored and its epoch, \"SEQ\n"
		"                       EPOCH\", and exit (1: none stored)\n"
		"      --strict         the first bad line is fatal (exit 65)\n"
		"      --max-line SIZE  longest line accepted (default 1M)\n");
	tf_metrics_usage(f, 23);
	tf_options_usage(f, 23);
	fprintf(f,
		"\n"
		"Bad lines are reported on stderr with their number and skipped.\n"
		"Replay a recording with tf-replay(1).\n");
}

static int
set_option(int val, const char *arg, void *ctx, char *err, size_t errlen)
{
	struct config *c = ctx;
	uint64_t v;

	switch (val) {
	case 'd':
		c->db = arg;
		break;
	case OPT_SESSION:
		if (!*arg) {
			tf_seterr(err, errlen, "--session: empty name");
			return -1;
		}
		c->session = arg;
		break;
	case 'n':
		c->output = 0;
		break;
	case OPT_BATCH_ROWS:
		return tf_parse_u64("--batch-rows", arg, 1, 10000000,
			&c->batch_rows, err, errlen);
	case OPT_BATCH_MS:
		if (tf_parse_u64("--batch-ms", arg, 0, 3600000, &v, err,
			    errlen) < 0)
			return -1;
		c->batch_ns = (int64_t)v * 1000000;
		break;
	case OPT_DURABLE:
		c->durable = 1;
		break;
	case OPT_INPUT:
		if (!strcmp(arg, "envelope"))
			c->envelope = 1;
		else if (!strcmp(arg, "lines"))
			c->envelope = 0;
		else {
			tf_seterr(err, errlen, "--input: '%s': lines or "
				"envelope", arg);
			return -1;
		}
		break;
	case OPT_LAST_SEQ:
		c->last_seq = 1;
		break;
	case OPT_METRICS_FILE:
		return tf_metrics_set_path(&c->mf, arg, err, errlen);
	case OPT_METRICS_INTERVAL:
		return tf_metrics_set_interval(&c->mf, arg, err, errlen);
	}
	return 0;
}

/* Counts only committed rows: a line is "recorded" once it is in the file.
 * Lost lines make the summary an error, shown even under -q. */
static void
summary(const struct config *c, struct tf_store *st,
	const struct counts *n, int64_t session)
{
	uint64_t saved = tf_store_committed(st);
	const char *why;
	uint64_t lost = tf_store_lost(st, &why);
	char span[64] = "0s", msg[1024], env[160] = "";
	uint64_t seq = 0;
	char epoch[TF_STORE_EPOCH_MAX + 1] = "", err[256];

	if (saved > 1)
		tf_format_duration(n->last_ns - n->first_ns, span, sizeof span);
	if (c->envelope) {
		int k = tf_store_last_seq(st, &seq, epoch,
			sizeof epoch, err, sizeof err);

		snprintf(env, sizeof env, ", %llu already recorded, %llu "
			"gap%s (%llu missed upstream), last seq %llu%s%s",
			(unsigned long long)n->dups,
			(unsigned long long)n->gaps, n->gaps == 1 ? "" : "s",
			(unsigned long long)n->missed,
			(unsigned long long)(k == 1 ? seq : 0),
			k == 1 ? " epoch " : "", k == 1 ? epoch : "");
	}
	snprintf(msg, sizeof msg,
		"recorded %llu line%s to %s (session %lld), %llu skipped%s, "
		"spanning %s",
		(unsigned long long)saved, saved == 1 ? "" : "s", c->db,
		(long long)session, (unsigned long long)n->skipped, env, span);
	if (lost)
		tf_error("%s; %llu line%s lost: %s", msg,
			(unsigned long long)lost, lost == 1 ? "" : "s", why);
	else
		tf_warn("%s", msg);
}

/* Notes a line added to the open batch. */
static void
batch_add(struct counts *n, int64_t now, uint64_t line_no, int first)
{
	if (first) {
		n->batch_first_ns = now;
		n->batch_first_no = line_no;
	}
	n->batch_last_ns = now;
	n->batch_last_no = line_no;
}

/* Accounts for the end of a batch: ok (committed) or not (rolled back, its
 * lines lost; err says why). tf-record then goes on: the next batch is
 * tried afresh, so a disk that frees up recovers, and the lines keep
 * flowing to stdout for whoever reads them. The first failure is an
 * error; while batches keep failing the next ones are reported under -v
 * only, and a recovery says how much the failure cost. */
static void
batch_end(const struct config *c, const struct tf_store *st,
	struct counts *n, int ok, uint64_t lost_before, const char *err)
{
	uint64_t lost = tf_store_lost(st, NULL), k;
	char msg[1024];

	if (ok) {
		n->commits++;
		n->committed_at = tf_now_ns();
		if (!n->first_ns)
			n->first_ns = n->batch_first_ns;
		if (n->batch_seq)
			n->last_seq = n->batch_seq;
		n->batch_seq = 0;
		n->last_ns = n->batch_last_ns;
		if (n->failing) {
			k = lost - n->lost_before;
			tf_warn("%s: recording again from input line %llu; "
				"%llu line%s lost since input line %llu",
				c->db, (unsigned long long)n->batch_first_no,
				(unsigned long long)k, k == 1 ? "" : "s",
				(unsigned long long)n->failing_from);
			n->failing = 0;
		}
		return;
	}
	n->failed_batches++;
	n->batch_seq = 0;
	k = lost - lost_before;
	/* With envelopes, later events committed after lost ones would make
	 * a hole --last-seq cannot show: stop instead, and let a restart
	 * from the last seq stored fetch them again. */
	snprintf(msg, sizeof msg,
		"%s: %s: %llu line%s lost (input lines %llu-%llu); %s",
		c->db, err, (unsigned long long)k, k == 1 ? "" : "s",
		(unsigned long long)n->batch_first_no,
		(unsigned long long)n->batch_last_no, c->envelope ?
		"stopping: restart from --last-seq + 1 to record them" :
		"still recording, the next batch tries again");
	if (n->failing)
		tf_info("%s", msg);
	else
		tf_error("%s", msg);
	if (!n->failing) {
		n->failing = 1;
		n->lost_before = lost_before;
		n->failing_from = n->batch_first_no;
	}
}

/* Commits the open batch, if any, and accounts for it: 0, or -1 when it
 * failed (its lines lost). */
static int
commit(const struct config *c, struct tf_store *st, struct counts *n)
{
	uint64_t lost_before = tf_store_lost(st, NULL);
	char err[512];
	int64_t t0;
	int ok;

	if (!tf_store_pending(st))
		return 0;
	t0 = tf_mono_ns();
	ok = tf_store_commit(st, err, sizeof err) == 0;
	n->commit_ns += tf_mono_ns() - t0;
	batch_end(c, st, n, ok, lost_before, err);
	return ok ? 0 : -1;
}

/* The size of the recording on disk: the file and its WAL. */
static uint64_t
db_bytes(const char *db)
{
	char wal[4096];
	struct stat sb;
	uint64_t size = 0;

	if (stat(db, &sb) == 0)
		size += (uint64_t)sb.st_size;
	snprintf(wal, sizeof wal, "%s-wal", db);
	if (stat(wal, &sb) == 0)
		size += (uint64_t)sb.st_size;
	return size;
}

enum { METRICS_START, METRICS_RUNNING, METRICS_FINAL };

/* Writes --metrics-file, when asked for: at the start (which finds an
 * unwritable path before any work), while recording, and a last time with
 * how the run ended (exit status rc). st may be NULL (not open). Returns
 * 0, or -1 when the write failed (reported; while running, an error the
 * first time, then quiet until a write works again). */
static int
write_metrics(struct config *c, const struct tf_store *st, struct counts *n,
	int when, int rc)
{
	const struct tf_metrics_common com = { "tf-record", n->start_ns,
		n->lines + n->skipped, n->skipped };
	struct tf_metrics *m = n->m;

	if (!m)
		return 0;
	tf_metrics_clear(m);
	tf_metrics_common(m, &com);
	tf_metrics_counter(m, "tf_record_committed_lines_total",
		"Lines committed to the recording.",
		st ? tf_store_committed(st) : 0);
	tf_metrics_counter(m, "tf_record_lost_lines_total",
		"Lines lost: their batch could not be committed.",
		st ? tf_store_lost(st, NULL) : 0);
	tf_metrics_gauge(m, "tf_record_pending_lines",
		"Lines in the open batch, not committed yet.",
		st ? (double)tf_store_pending(st) : 0);
	tf_metrics_counter(m, "tf_record_commits_total",
		"Batches committed.", n->commits);
	tf_metrics_counter(m, "tf_record_failed_batches_total",
		"Batches rolled back, their lines lost.", n->failed_batches);
	tf_metrics_family(m, "tf_record_commit_seconds_total",
		TF_METRIC_COUNTER, "Time spent committing batches (divided "
		"by tf_record_commits_total: the mean commit time).");
	tf_metrics_double(m, NULL, (double)n->commit_ns / 1e9);
	tf_metrics_gauge(m, "tf_record_last_commit_time_seconds",
		"When a batch was last committed, in seconds since the epoch "
		"(0: none yet).",
		(double)n->committed_at / 1e9);
	if (c->envelope) {
		tf_metrics_counter(m, "tf_record_already_recorded_total",
			"Envelopes not stored again: their seq was not above "
			"the last one stored of their epoch.", n->dups);
		tf_metrics_counter(m, "tf_record_gaps_total",
			"Gap lines read: events missed upstream.", n->gaps);
		tf_metrics_counter(m, "tf_record_missed_events_total",
			"Events the gap lines said were missed upstream.",
			n->missed);
		tf_metrics_gauge(m, "tf_record_last_seq",
			"The last seq committed to the recording (0: none).",
			(double)n->last_seq);
	}
	tf_metrics_gauge(m, "tf_record_db_bytes",
		"Size of the recording on disk: the file and its write-ahead "
		"log.",
		(double)db_bytes(c->db));
	if (when == METRICS_FINAL)
		tf_metrics_last_run(m, rc, tf_now_ns() - n->start_ns);
	return tf_metrics_file_report(&c->mf, m, when == METRICS_RUNNING,
		"recording");
}

/* The string value of a well-known field, decoded, or NULL. */
static const char *
field(const struct tf_span *sp, char *buf, size_t size)
{
	if (sp->kind != TF_JSON_STRING)
		return NULL;
	if (!sp->escaped && sp->n < size) {
		memcpy(buf, sp->p, sp->n);
		buf[sp->n] = '\0';
		return buf;
	}
	return tf_span_string(sp, buf, size) == (size_t)-1 ? NULL : buf;
}

_Static_assert(TF_ENVELOPE_EPOCH_MAX <= TF_STORE_EPOCH_MAX,
	"the store keeps every epoch an envelope can carry");

/* Returns 0 at end of input or on a stop signal, 1 when stdin fails, 65
 * for a bad line under --strict. A failed batch does not end it (see
 * batch_end). */
static int
record(struct config *c, struct tf_store *st, struct tf_reader *r,
	struct counts *n)
{
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	int64_t deadline = 0;
	uint64_t lost_before;
	char err[512], why[256];
	struct tf_line l;
	struct tf_event ev;
	char tbuf[128], pbuf[128], sbuf[128];
	struct tf_envelope env = { 0 };

	for (;;) {
		int64_t timeout = -1;
		ssize_t got;

		while (tf_reader_next(r, &l)) {
			int k = c->envelope ?
				tf_envelope_check(&l, &env, &ev, why,
					sizeof why) :
				tf_event_check(&l, &ev, why, sizeof why);
			const struct tf_line *d = c->envelope ? &env.data : &l;
			int64_t now;

			if (k == 1)
				continue;
			if (k < 0) {
				n->skipped++;
				if (c->common.strict) {
					tf_error("line %llu: %s",
						(unsigned long long)l.no, why);
					return 65;
				}
				tf_warn("line %llu: %s (skipped)",
					(unsigned long long)l.no, why);
				continue;
			}
			n->lines++;
			if (c->envelope && env.gap) {
				/* Not an event: nothing to record. Said, counted,
				 * passed on. */
				n->gaps++;
				n->missed += env.to - env.from + 1;
				tf_warn("line %llu: gap: seq %llu to %llu (%llu "
					"missed upstream), not in the recording",
					(unsigned long long)l.no,
					(unsigned long long)env.from,
					(unsigned long long)env.to,
					(unsigned long long)(env.to - env.from + 1));
				tf_log_passthrough(&c->output, l.data, l.len);
				continue;
			}
			now = tf_now_ns();
			lost_before = tf_store_lost(st, NULL);
			batch_add(n, now, l.no, !tf_store_pending(st));
			k = tf_store_append_seq(st, now, d->data, d->len,
				field(&ev.type, tbuf, sizeof tbuf),
				tf_event_topic(&ev, pbuf, sizeof pbuf),
				field(&ev.symbol, sbuf, sizeof sbuf), env.seq,
				c->envelope ? env.epoch : NULL, err, sizeof err);
			if (k < 0) {
				batch_end(c, st, n, 0, lost_before, err);
				if (c->envelope)
					return 1;
			} else if (k == 1) {
				n->dups++;
			} else {
				if (c->envelope)
					n->batch_seq = env.seq;
				if (tf_store_pending(st) == 1)
					deadline = tf_mono_ns() + c->batch_ns;
			}
			tf_log_passthrough(&c->output, l.data, l.len);
			if (tf_store_pending(st) >= c->batch_rows &&
			    commit(c, st, n) < 0 && c->envelope)
				return 1;
		}
		if (tf_signal_stop() || tf_reader_eof(r))
			return 0;
		/* Once per read at most, and a clock read: cheap under load. */
		if (tf_metrics_file_due(&c->mf, tf_mono_ns()))
			write_metrics(c, st, n, METRICS_RUNNING, 0);

		/* Batch under load: only flush and commit when input is idle
		 * or the batch is old enough. */
		if (poll(&pfd, 1, 0) == 0) {
			int64_t now = tf_mono_ns(), t;

			tf_log_flush_stdout(&c->output, "recording");
			if (tf_store_pending(st)) {
				timeout = deadline - now;
				if (timeout < 0)
					timeout = 0;
			}
			t = tf_metrics_file_timeout(&c->mf, now);
			if (t >= 0 && (timeout < 0 || t < timeout))
				timeout = t;
			switch (tf_signal_wait(&pfd, 1, timeout)) {
			case -1:	/* a signal: the loop checks for stop */
				continue;
			case 0:		/* idle for --batch-ms, or metrics due */
				if (tf_store_pending(st) &&
				    tf_mono_ns() >= deadline &&
				    commit(c, st, n) < 0 && c->envelope)
					return 1;
				continue;
			}
		} else if (tf_store_pending(st) && tf_mono_ns() >= deadline &&
		    commit(c, st, n) < 0 && c->envelope) {
			return 1;
		}
		got = tf_reader_fill(r);
		if (got < 0 && errno != EINTR && errno != EAGAIN) {
			tf_error("stdin: %s", strerror(errno));
			return 1;
		}
	}
}

/* --last-seq: "SEQ EPOCH" of the newest row that has one, for a script
 * restarting tf-sub --from-seq. 0 printed, 1 none stored (a missing file
 * too: a first start), 2 an error. */
static int
last_seq(const struct config *c)
{
	char err[1024], epoch[TF_STORE_EPOCH_MAX + 1];
	struct tf_store *st;
	uint64_t seq;
	int k;

	if (access(c->db, F_OK) < 0 && errno == ENOENT) {
		tf_warn("%s: no such file: nothing recorded yet", c->db);
		return 1;
	}
	if (!(st = tf_store_open(c->db, TF_STORE_READ, err, sizeof err))) {
		tf_error("%s", err);
		return 2;
	}
	k = tf_store_last_seq(st, &seq, epoch, sizeof epoch, err, sizeof err);
	tf_store_close(st);
	if (k < 0) {
		tf_error("%s: %s", c->db, err);
		return 2;
	}
	if (!k) {
		tf_warn("%s: no event with a seq recorded", c->db);
		return 1;
	}
	printf("%llu %s\n", (unsigned long long)seq, epoch);
	return fflush(stdout) == 0 ? 0 : 2;
}

static int
run(struct config *c)
{
	struct tf_store *st = NULL;
	struct tf_reader *r = NULL;
	struct counts n = { 0 };
	char err[1024], name[64];
	int64_t start = tf_now_ns(), session;
	int rc = 1;

	n.start_ns = start;
	if (c->mf.path) {
		if (!(n.m = tf_metrics_file_builder(&c->mf, "tf-record", 0, err,
			      sizeof err))) {
			tf_error("--metrics-file: %s", err);
			return 1;
		}
		/* An unwritable path is found now, before any work. */
		if (write_metrics(c, NULL, &n, METRICS_START, 0) < 0) {
			tf_metrics_destroy(n.m);
			return 2;
		}
	}
	st = tf_store_open(c->db,
		TF_STORE_WRITE | (c->durable ? TF_STORE_DURABLE : 0), err,
		sizeof err);
	if (!st) {
		tf_store_explain(c->db, err, sizeof err);
		tf_error("%s", err);
		goto out;
	}
	if (!c->session) {
		tf_format_time(start, name, sizeof name);
		c->session = name;
	}
	session = tf_store_session_begin(st, c->session, start, err,
		sizeof err);
	r = tf_reader_create(STDIN_FILENO, c->common.max_line);
	if (session < 0 && tf_store_explain(c->db, err, sizeof err)) {
		tf_error("%s", err);
		goto out;
	}
	if (session < 0 || !r) {
		tf_error("%s: %s", c->db, r ? err : "out of memory");
		goto out;
	}
	if (c->envelope) {
		char epoch[TF_STORE_EPOCH_MAX + 1];

		if (tf_store_last_seq(st, &n.last_seq, epoch, sizeof epoch,
			    err, sizeof err) < 0) {
			tf_error("%s: %s", c->db, err);
			goto out;
		}
	}
	rc = record(c, st, r, &n);
	tf_log_flush_stdout(&c->output, "recording");
	commit(c, st, &n);
	if (tf_store_session_end(st, tf_now_ns(), err, sizeof err) < 0) {
		tf_error("%s: %s", c->db, err);
		if (!rc)
			rc = 1;
	}
	if (rc == 1)
		tf_error("%s: stopped; every line before the last commit is "
			 "kept", c->db);
	/* Lines lost to failed batches are work that failed. */
	if (tf_store_lost(st, NULL) && !rc)
		rc = 1;
	summary(c, st, &n, session);
out:
	if (write_metrics(c, st, &n, METRICS_FINAL, rc) < 0 && !rc)
		rc = 1;
	tf_metrics_destroy(n.m);
	tf_reader_destroy(r);
	tf_store_close(st);
	return rc;
}

int
main(int argc, char **argv)
{
	static char outbuf[1 << 16];
	struct config c = {
		.db = "tf.db",
		.output = 1,
		.batch_rows = 10000,
		.batch_ns = 100 * 1000000LL,
		.mf = { .interval_ns = TF_METRICS_INTERVAL_DEFAULT },
	};
	char err[512];
	int first, rc;

	tf_log_init(argv[0]);
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
		snprintf(err, sizeof err,
			"unexpected argument '%s' (the recording is -d FILE)",
			argv[first]);
		tf_options_free();
		return tf_usage_error(err);
	}
	if (c.last_seq) {
		rc = last_seq(&c);
		tf_options_free();
		return rc;
	}
	setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
	tf_signals_init();
	rc = run(&c);
	if (c.output && fclose(stdout) != 0 && rc == 0 && errno != EPIPE) {
		tf_error("stdout: %s", strerror(errno));
		rc = 1;
	}
	tf_options_free();
	return rc;
}
