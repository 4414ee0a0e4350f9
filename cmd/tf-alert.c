/* tf-alert: turn events into alert events: price crossings with
 * hysteresis, moves within a time window, jq conditions; with priorities,
 * templates, cooldowns and state kept across restarts. */
#include <errno.h>
#include <jv.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert.h"
#include "line.h"
#include "log.h"
#include "metrics.h"
#include "opts.h"
#include "scan.h"
#include "sig.h"
#include "vocab.h"

#define RULES_MAX (16 << 20)	/* largest rules file read */
#define STATE_MAX (256 << 20)	/* largest state file read */
#define SAVE_EVERY_NS 1000000000LL
/* Rules with a label of their own in the metrics; alerts of the rules
 * after them are counted as rule="other", so that a rules file of
 * thousands does not make thousands of series. */
#define RULE_LABELS 100
#define NPRIO (TF_PRIO_CRITICAL + 1)

enum {
	OPT_STATE = 256,
	OPT_ABOVE,
	OPT_BELOW,
	OPT_MOVE,
	OPT_WHEN,
	OPT_PRIORITY,
	OPT_COOLDOWN,
	OPT_HYSTERESIS,
	OPT_INITIAL,
	OPT_MAX_SYMBOLS,
	OPT_MAX_POINTS,
	OPT_CHECK,
	OPT_METRICS_FILE,
	OPT_METRICS_INTERVAL,
};

static const struct tf_option options[] = {
	{ "passthrough", no_argument, 'p', "TF_ALERT_PASSTHROUGH" },
	{ "state", required_argument, OPT_STATE, "TF_ALERT_STATE" },
	{ "above", required_argument, OPT_ABOVE, NULL },
	{ "below", required_argument, OPT_BELOW, NULL },
	{ "move", required_argument, OPT_MOVE, NULL },
	{ "when", required_argument, OPT_WHEN, NULL },
	{ "priority", required_argument, OPT_PRIORITY, "TF_ALERT_PRIORITY" },
	{ "cooldown", required_argument, OPT_COOLDOWN, "TF_ALERT_COOLDOWN" },
	{ "hysteresis", required_argument, OPT_HYSTERESIS,
		"TF_ALERT_HYSTERESIS" },
	{ "initial", no_argument, OPT_INITIAL, "TF_ALERT_INITIAL" },
	{ "max-symbols", required_argument, OPT_MAX_SYMBOLS,
		"TF_ALERT_MAX_SYMBOLS" },
	{ "max-points", required_argument, OPT_MAX_POINTS,
		"TF_ALERT_MAX_POINTS" },
	{ "check", no_argument, OPT_CHECK, NULL },
	{ "metrics-file", required_argument, OPT_METRICS_FILE,
		"TF_ALERT_METRICS_FILE" },
	{ "metrics-interval", required_argument, OPT_METRICS_INTERVAL,
		"TF_ALERT_METRICS_INTERVAL" },
	{ 0 },
};

/* A rule given as a flag, turned into a rule object after parsing, when
 * every default is known. */
struct flag_rule {
	int opt;
	const char *arg;
};

struct config {
	struct tf_alert_config alert;
	const char *rules;
	const char *state;
	int passthrough;
	int check;
	struct flag_rule *flags;
	size_t nflags;
	struct tf_metrics_file mf;
	struct tf_common common;
};

/* What the main loop keeps. */
struct run {
	struct config *c;
	struct tf_alert *a;
	uint64_t lineno, lines, alerts, skipped;
	int64_t saved_at;	/* tf_mono_ns of the last state save */
	int save_failed;
	uint64_t save_failures;
	int out_failed;
	/* --metrics-file: alerts by rule (the first RULE_LABELS rules, then
	 * row "other") and priority: fired[row * NPRIO + priority]. */
	struct tf_metrics *m;
	int64_t start_ns;
	uint64_t *fired;
	size_t labelled, other;
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: tf-alert [options] [RULES.json]\n"
		"Turn NDJSON events on stdin into alert events on stdout, by the\n"
		"rules of RULES.json and of the rule flags.\n"
		"\n"
		"Rules (each flag may be repeated):\n"
		"      --above SYMBOL=LEVEL    alert when SYMBOL's price rises to LEVEL\n"
		"      --below SYMBOL=LEVEL    alert when it falls to LEVEL\n"
		"      --move SYMBOL=PCT/WINDOW  alert on a PCT%% move within WINDOW\n"
		"                              (SYMBOL '*' for every symbol): BTC-USD=5/10m\n"
		"      --when JQ               alert on events where the jq condition holds\n"
		"Defaults for rules that do not set their own:\n"
		"      --priority P            low, medium (default), high, critical\n"
		"      --cooldown TIME         quiet time after a rule fires, per symbol\n"
		"                              (default 0): 30s, 5m, 1h\n"
		"      --hysteresis H          re-arm a crossing only past the level by H\n"
		"                              (absolute, or '0.1%%' of the level; default 0)\n"
		"      --initial               a crossing rule fires on the first price if\n"
		"                              it is already past the level\n"
		"Running:\n"
		"  -p, --passthrough           forward every input line, alerts after\n"
		"                              the line that fired them\n"
		"      --state FILE            keep crossing state and cooldowns in FILE\n"
		"                              across restarts\n"
		"      --max-symbols N         symbols watched per rule (default 10000)\n"
		"      --max-points N          points kept per symbol by a move rule\n"
		"                              (default 100000)\n"
		"      --check                 check the rules and exit\n"
		"      --strict                the first bad line is fatal (exit 65)\n"
		"      --max-line SIZE         longest line accepted (default 1M)\n");
	tf_metrics_usage(f, 30);
	tf_options_usage(f, 30);
	fprintf(f,
		"\n"
		"Templates: \"title\" and \"message\" take {symbol}, {value}, {level},\n"
		"{change_pct}, {window}, {from}, {direction}, {rule}, {priority},\n"
		"{type}, {field}, {ts}, {when} and {.path} for any event field.\n"
		"See tf-alert(1) for the rules file.\n");
}

static int
set_option(int val, const char *arg, void *ctx, char *err, size_t errlen)
{
	struct config *c = ctx;
	uint64_t v;

	switch (val) {
	case 'p':
		c->passthrough = 1;
		break;
	case OPT_STATE:
		if (!*arg) {
			tf_seterr(err, errlen, "--state: empty file name");
			return -1;
		}
		c->state = arg;
		break;
	case OPT_ABOVE:
	case OPT_BELOW:
	case OPT_MOVE:
	case OPT_WHEN: {
		struct flag_rule *f = realloc(c->flags,
			(c->nflags + 1) * sizeof *f);

		if (!f) {
			tf_seterr(err, errlen, "out of memory");
			return -1;
		}
		c->flags = f;
		c->flags[c->nflags].opt = val;
		c->flags[c->nflags++].arg = arg;
		break;
	}
	case OPT_PRIORITY:
		c->alert.priority = tf_priority_parse(arg, strlen(arg));
		if (c->alert.priority < 0) {
			tf_seterr(err, errlen, "--priority: '%s' is not low, "
				"medium, high or critical", arg);
			return -1;
		}
		break;
	case OPT_COOLDOWN:
		return tf_parse_duration("--cooldown", arg,
			&c->alert.cooldown_ns, err, errlen);
	case OPT_HYSTERESIS: {
		char *end;
		double h = strtod(arg, &end);

		if (end == arg || (*end && strcmp(end, "%")) || !(h >= 0) ||
		    h > 1e300) {
			tf_seterr(err, errlen, "--hysteresis: '%s' is not an "
				"amount (e.g. 50, or 0.1%% of the level)", arg);
			return -1;
		}
		c->alert.hysteresis = arg;
		break;
	}
	case OPT_INITIAL:
		c->alert.initial = 1;
		break;
	case OPT_MAX_SYMBOLS:
		if (tf_parse_u64("--max-symbols", arg, 1, 10000000, &v, err,
			    errlen) < 0)
			return -1;
		c->alert.max_symbols = (size_t)v;
		break;
	case OPT_MAX_POINTS:
		if (tf_parse_u64("--max-points", arg, 2, 100000000, &v, err,
			    errlen) < 0)
			return -1;
		c->alert.max_points = (size_t)v;
		break;
	case OPT_CHECK:
		c->check = 1;
		break;
	case OPT_METRICS_FILE:
		return tf_metrics_set_path(&c->mf, arg, err, errlen);
	case OPT_METRICS_INTERVAL:
		return tf_metrics_set_interval(&c->mf, arg, err, errlen);
	}
	return 0;
}

/* Reads a whole file of at most max bytes; NULL with errno set (ENOENT,
 * EFBIG, ...). */
static char *
read_file(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t n = 0, cap = 0, got;

	if (!f)
		return NULL;
	for (;;) {
		char *p;

		if (cap - n < 4096) {
			if (cap >= max + 4096) {
				errno = EFBIG;
				goto fail;
			}
			cap = cap ? cap * 2 : 8192;
			if (!(p = realloc(text, cap + 1)))
				goto fail;
			text = p;
		}
		errno = 0;
		got = fread(text + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f) || n > max) {
		/* fread leaves read(2)'s errno: EISDIR, EIO, ... */
		if (!ferror(f))
			errno = EFBIG;
		else if (!errno)
			errno = EIO;
		goto fail;
	}
	fclose(f);
	text[n] = '\0';
	*len = n;
	return text;
fail:
	{
		int e = errno;

		fclose(f);
		free(text);
		errno = e;
	}
	return NULL;
}

/* Splits "SYMBOL=REST" at its first '='. */
static int
split(const char *arg, char *sym, size_t size, const char **rest)
{
	const char *eq = strchr(arg, '=');

	if (!eq || eq == arg || !eq[1] || (size_t)(eq - arg) >= size)
		return -1;
	memcpy(sym, arg, (size_t)(eq - arg));
	sym[eq - arg] = '\0';
	*rest = eq + 1;
	return 0;
}

/* Turns a rule flag into a rule object text (malloc'd). */
static char *
flag_rule_json(const struct flag_rule *f, int nth_when, char *err,
	size_t errlen)
{
	static const char *const name[] = { "above", "below", "move", "when" };
	const char *flag = name[f->opt - OPT_ABOVE], *rest;
	char sym[256], id[512], what[300];
	jv o = jv_object(), s;
	double level, pct;
	char *text;

	if (f->opt == OPT_WHEN) {
		snprintf(id, sizeof id, "when-%d", nth_when);
		o = jv_object_set(o, jv_string("kind"), jv_string("jq"));
		o = jv_object_set(o, jv_string("when"), jv_string(f->arg));
		goto done;
	}
	snprintf(id, sizeof id, "%s:%s", flag, f->arg);
	if (split(f->arg, sym, sizeof sym, &rest) < 0) {
		tf_seterr(err, errlen, "--%s: '%s' is not %s", flag, f->arg,
			f->opt == OPT_MOVE ? "SYMBOL=PCT/WINDOW (BTC-USD=5/10m)" :
					     "SYMBOL=LEVEL (BTC-USD=70000)");
		jv_free(o);
		return NULL;
	}
	o = jv_object_set(o, jv_string("symbol"), jv_string(sym));
	snprintf(what, sizeof what, "--%s %s", flag, sym);
	if (f->opt != OPT_MOVE) {
		if (tf_parse_double(what, rest, -1e300, 1e300, &level, err,
			    errlen) < 0) {
			jv_free(o);
			return NULL;
		}
		o = jv_object_set(o, jv_string("kind"), jv_string("cross"));
		o = jv_object_set(o, jv_string(flag), jv_number(level));
	} else {
		const char *slash = strchr(rest, '/');
		char num[64];

		if (!slash || (size_t)(slash - rest) >= sizeof num) {
			tf_seterr(err, errlen, "--move: '%s' is not "
				"SYMBOL=PCT/WINDOW (BTC-USD=5/10m)", f->arg);
			jv_free(o);
			return NULL;
		}
		memcpy(num, rest, (size_t)(slash - rest));
		num[slash - rest] = '\0';
		if (tf_parse_double(what, num, 1e-9, 1e6, &pct, err,
			    errlen) < 0) {
			jv_free(o);
			return NULL;
		}
		o = jv_object_set(o, jv_string("kind"), jv_string("move"));
		o = jv_object_set(o, jv_string("pct"), jv_number(pct));
		o = jv_object_set(o, jv_string("window"), jv_string(slash + 1));
	}
done:
	o = jv_object_set(o, jv_string("id"), jv_string(id));
	s = jv_dump_string(o, 0);
	text = strdup(jv_string_value(s));
	jv_free(s);
	if (!text)
		tf_seterr(err, errlen, "out of memory");
	return text;
}

/* Loads the rules file and the rule flags. Returns 0, or 2 after
 * reporting. */
static int
load_rules(struct config *c, struct tf_alert *a)
{
	char err[1200];
	size_t i, len;
	int nth_when = 0;

	if (c->rules) {
		char *text = read_file(c->rules, RULES_MAX, &len);

		if (!text) {
			tf_error("%s: %s", c->rules,
				errno == EFBIG ? "larger than 16 MiB" :
						 strerror(errno));
			return 2;
		}
		if (tf_alert_load(a, text, len, err, sizeof err) < 0) {
			tf_error("%s: %s", c->rules, err);
			free(text);
			return 2;
		}
		free(text);
	}
	for (i = 0; i < c->nflags; i++) {
		const struct flag_rule *f = &c->flags[i];
		char *json;

		if (f->opt == OPT_WHEN)
			nth_when++;
		if (!(json = flag_rule_json(f, nth_when, err, sizeof err)))
			return tf_usage_error(err);
		if (tf_alert_add(a, json, err, sizeof err) < 0) {
			char what[1400];

			snprintf(what, sizeof what, "--%s %s: %s",
				f->opt == OPT_ABOVE ? "above" :
				f->opt == OPT_BELOW ? "below" :
				f->opt == OPT_MOVE ? "move" : "when",
				f->arg, err);
			free(json);
			return tf_usage_error(what);
		}
		free(json);
	}
	if (!tf_alert_count(a))
		return tf_usage_error("no rules: give a RULES.json file or "
				      "--above, --below, --move, --when");
	return 0;
}

/* Writes the state to a temporary file beside it, then renames it over
 * the old one, so a crash leaves either the old state or the new. While
 * running (final 0), a failure is reported once until a save succeeds. */
static int
save_state(struct run *st, int final)
{
	const char *path = st->c->state;
	char tmp[4096], *text;
	FILE *f;
	int ok;

	if (!path)
		return 0;
	st->saved_at = tf_mono_ns();
	if (!(text = tf_alert_state_dump(st->a))) {
		tf_error("%s: out of memory", path);
		return -1;
	}
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	f = fopen(tmp, "w");
	ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF &&
		fflush(f) == 0 && fsync(fileno(f)) == 0;
	if (f && fclose(f) != 0)
		ok = 0;
	if (ok && rename(tmp, path) == 0) {
		free(text);
		if (st->save_failed)
			tf_warn("%s: state saved again", path);
		st->save_failed = 0;
		return 0;
	}
	st->save_failures++;
	if (final || !st->save_failed)
		tf_error("%s: cannot save state: %s", path, strerror(errno));
	unlink(tmp);
	free(text);
	st->save_failed = 1;
	return -1;
}

/* Restores the state file. Missing: a fresh start. Not a state file: a
 * warning and a fresh start. Unreadable: an error (1). */
static int
load_state(struct run *st)
{
	const char *path = st->c->state;
	char err[512], *text;
	size_t len;
	int n;

	if (!path)
		return 0;
	if (!(text = read_file(path, STATE_MAX, &len))) {
		if (errno == ENOENT)
			return 0;
		tf_error("%s: %s", path, errno == EFBIG ?
			"larger than 256 MiB" : strerror(errno));
		return 1;
	}
	n = tf_alert_state_restore(st->a, text, len, err, sizeof err);
	free(text);
	if (n < 0)
		tf_warn("%s: %s; starting with fresh state", path, err);
	else
		tf_info("%s: restored %d entr%s", path, n,
			n == 1 ? "y" : "ies");
	return 0;
}

/* Counts an alert for the metrics by its "rule" and "priority". */
static void
count_alert(struct run *st, const char *line, size_t len)
{
	static struct tf_scan_keys keys;
	struct tf_span v[2];
	size_t row = st->other, i;
	int p = -1;

	if (!keys.n) {
		tf_scan_keys_add(&keys, "rule");
		tf_scan_keys_add(&keys, "priority");
	}
	if (tf_scan(line, len, &keys, v, NULL) != TF_SCAN_OK)
		return;
	for (i = 0; i < st->labelled; i++) {
		const char *id = tf_alert_rule_id(st->a, i);

		if (tf_span_eq(&v[0], id, strlen(id))) {
			row = i;
			break;
		}
	}
	if (v[1].kind == TF_JSON_STRING)
		p = tf_priority_parse(v[1].p, v[1].n);
	if (p < 0)
		p = TF_PRIO_MEDIUM;
	st->fired[row * NPRIO + (size_t)p]++;
}

static void
on_alert(const char *line, size_t len, void *arg)
{
	struct run *st = arg;

	st->alerts++;
	if (st->fired)
		count_alert(st, line, len);
	fwrite(line, 1, len, stdout);
	putchar_unlocked('\n');
}

static void
on_warn(const char *msg, void *arg)
{
	struct run *st = arg;

	tf_warn("line %llu: %s", (unsigned long long)st->lineno, msg);
}

enum { METRICS_START, METRICS_RUNNING, METRICS_FINAL };

/* Writes --metrics-file, when asked for: at the start (which finds an
 * unwritable path before any work), while running, and a last time with
 * how the run ended (exit status rc). Returns 0, or -1 when the write
 * failed (reported; while running, an error the first time, then quiet
 * until a write works again). */
static int
write_metrics(struct run *st, int when, int rc)
{
	struct config *c = st->c;
	const struct tf_metrics_common com = { "tf-alert", st->start_ns,
		st->lines + st->skipped, st->skipped };
	struct tf_metrics *m = st->m;
	size_t i;
	int p;

	if (!m)
		return 0;
	tf_metrics_clear(m);
	tf_metrics_common(m, &com);
	tf_metrics_gauge(m, "tf_alert_rules", "Rules loaded.",
		(double)tf_alert_count(st->a));
	/* Each labelled rule at its priority from the start, so that a rate
	 * sees its first alert; other series once they count. */
	tf_metrics_family(m, "tf_alert_alerts_total", TF_METRIC_COUNTER,
		"Alerts emitted, by rule and priority (the rules after the "
		"first 100 as rule=\"other\").");
	for (i = 0; i <= st->labelled && st->fired; i++)
		for (p = 0; p < NPRIO; p++) {
			uint64_t k = st->fired[i * NPRIO + (size_t)p];
			const char *l[] = { "rule", i < st->labelled ?
				tf_alert_rule_id(st->a, i) : "other",
				"priority", tf_priority_name(p), NULL };

			if (k || (i < st->labelled &&
				     p == tf_alert_rule_priority(st->a, i)))
				tf_metrics_u64(m, l, k);
		}
	tf_metrics_counter(m, "tf_alert_state_save_failures_total",
		"Saves of the --state file that failed.", st->save_failures);
	if (when == METRICS_FINAL)
		tf_metrics_last_run(m, rc, tf_now_ns() - st->start_ns);
	return tf_metrics_file_report(&c->mf, m, when == METRICS_RUNNING,
		"alerting");
}

/* Sets up the alert counts for the metrics once the rules are loaded.
 * Returns 0, or -1 when out of memory. */
static int
metrics_rules(struct run *st)
{
	size_t i;

	if (!st->m)
		return 0;
	st->labelled = tf_alert_count(st->a);
	if (st->labelled > RULE_LABELS)
		st->labelled = RULE_LABELS;
	/* A rule named "other" among them takes the others' alerts too:
	 * two series with one label set would make the file invalid. */
	st->other = st->labelled;
	for (i = 0; i < st->labelled; i++)
		if (!strcmp(tf_alert_rule_id(st->a, i), "other"))
			st->other = i;
	st->fired = calloc((st->labelled + 1) * NPRIO, sizeof *st->fired);
	return st->fired ? 0 : -1;
}

static int
flush_output(struct run *st)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (!st->out_failed)
			tf_error("stdout: %s", strerror(errno));
		st->out_failed = 1;
		return -1;
	}
	return 0;
}

/* Returns 0 at end of input or on a stop signal, 1 when stdin or stdout
 * fails, 65 for a bad line under --strict. */
static int
alert_loop(struct run *st, struct tf_reader *r)
{
	const struct tf_alert_out out = { on_alert, on_warn, st };
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	struct config *c = st->c;
	struct tf_line l;
	struct tf_event ev;
	char why[256];

	for (;;) {
		int64_t timeout = -1;
		ssize_t got;

		while (tf_reader_next(r, &l)) {
			int k = tf_event_check(&l, &ev, why, sizeof why);

			st->lineno = l.no;
			if (k == 1)
				continue;
			if (k < 0) {
				st->skipped++;
				if (c->common.strict) {
					tf_error("line %llu: %s",
						(unsigned long long)l.no, why);
					return 65;
				}
				tf_warn("line %llu: %s (skipped)",
					(unsigned long long)l.no, why);
				continue;
			}
			st->lines++;
			if (c->passthrough) {
				fwrite(l.data, 1, l.len, stdout);
				putchar_unlocked('\n');
			}
			tf_alert_feed(st->a, l.data, l.len, tf_now_ns(), &out);
			if (ferror(stdout) && flush_output(st) < 0)
				return 1;
		}
		if (tf_signal_stop() || tf_reader_eof(r))
			return 0;
		/* Once per read at most, and a clock read: cheap under load. */
		if (tf_metrics_file_due(&c->mf, tf_mono_ns()))
			write_metrics(st, METRICS_RUNNING, 0);

		/* Batch under load: flush and save only when input is idle,
		 * the state at most once per SAVE_EVERY_NS. */
		if (poll(&pfd, 1, 0) == 0) {
			int64_t t;

			if (flush_output(st) < 0)
				return 1;
			if (c->state && tf_alert_state_dirty(st->a)) {
				timeout = st->saved_at + SAVE_EVERY_NS -
					tf_mono_ns();
				if (timeout <= 0) {
					save_state(st, 0);
					timeout = -1;
				}
			}
			t = tf_metrics_file_timeout(&c->mf, tf_mono_ns());
			if (t >= 0 && (timeout < 0 || t < timeout))
				timeout = t;
			switch (tf_signal_wait(&pfd, 1, timeout)) {
			case -1:	/* a signal: the loop checks for stop */
			case 0:		/* time to save or to write the
					 * metrics: the next pass does it */
				continue;
			}
		} else if (c->state && tf_alert_state_dirty(st->a) &&
			   tf_mono_ns() - st->saved_at >= SAVE_EVERY_NS) {
			save_state(st, 0);
		}
		got = tf_reader_fill(r);
		if (got < 0 && errno != EINTR && errno != EAGAIN) {
			tf_error("stdin: %s", strerror(errno));
			return 1;
		}
	}
}

static int
run(struct config *c)
{
	struct run st = { .c = c, .start_ns = tf_now_ns() };
	struct tf_reader *r = NULL;
	char err[1024];
	int rc;

	if (!(st.a = tf_alert_create(&c->alert))) {
		tf_error("out of memory");
		return 1;
	}
	if (c->mf.path && !c->check) {
		if (!(st.m = tf_metrics_file_builder(&c->mf, "tf-alert", 0, err,
			      sizeof err))) {
			tf_error("--metrics-file: %s", err);
			tf_alert_destroy(st.a);
			return 1;
		}
		/* An unwritable path is found now, before any work. */
		if (write_metrics(&st, METRICS_START, 0) < 0) {
			tf_metrics_destroy(st.m);
			tf_alert_destroy(st.a);
			return 2;
		}
	}
	if ((rc = load_rules(c, st.a)) != 0)
		goto out;
	if (metrics_rules(&st) < 0) {
		tf_error("out of memory");
		rc = 1;
		goto out;
	}
	tf_info("%zu rule%s loaded", tf_alert_count(st.a),
		tf_alert_count(st.a) == 1 ? "" : "s");
	if (c->check) {
		printf("%s: %zu rule%s OK\n", c->rules ? c->rules : "flags",
			tf_alert_count(st.a),
			tf_alert_count(st.a) == 1 ? "" : "s");
		goto out;
	}
	if ((rc = load_state(&st)) != 0)
		goto out;
	/* A state file that cannot be written is found now, not at exit. */
	if (save_state(&st, 1) < 0) {
		rc = 1;
		goto out;
	}
	if (!(r = tf_reader_create(STDIN_FILENO, c->common.max_line))) {
		tf_error("out of memory");
		rc = 1;
		goto out;
	}
	rc = alert_loop(&st, r);
	if (flush_output(&st) < 0 && rc == 0)
		rc = 1;
	if (save_state(&st, 1) < 0 && rc == 0)
		rc = 1;
	tf_warn("%llu alert%s from %llu line%s, %llu skipped",
		(unsigned long long)st.alerts, st.alerts == 1 ? "" : "s",
		(unsigned long long)st.lines, st.lines == 1 ? "" : "s",
		(unsigned long long)st.skipped);
out:
	if (write_metrics(&st, METRICS_FINAL, rc) < 0 && !rc)
		rc = 1;
	tf_metrics_destroy(st.m);
	free(st.fired);
	tf_reader_destroy(r);
	tf_alert_destroy(st.a);
	return rc;
}

int
main(int argc, char **argv)
{
	static char outbuf[1 << 16];
	struct config c = {
		.alert = { .priority = TF_PRIO_MEDIUM },
		.mf = { .interval_ns = TF_METRICS_INTERVAL_DEFAULT },
	};
	char err[512];
	int first, rc;

	tf_log_init(argv[0]);
	if (tf_options_parse(argc, argv, options, set_option, &c, &c.common,
		    &first, err, sizeof err) < 0) {
		rc = tf_usage_error(err);
		goto out;
	}
	if (tf_options_answer(&c.common, usage)) {
		rc = 0;
		goto out;
	}
	if (first < argc)
		c.rules = argv[first++];
	if (first < argc) {
		snprintf(err, sizeof err,
			"unexpected argument '%s' (one rules file at most)",
			argv[first]);
		rc = tf_usage_error(err);
		goto out;
	}
	setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
	tf_signals_init();
	rc = run(&c);
	if (fclose(stdout) != 0 && rc == 0) {
		tf_error("stdout: %s", strerror(errno));
		rc = 1;
	}
out:
	free(c.flags);
	tf_options_free();
	return rc;
}
