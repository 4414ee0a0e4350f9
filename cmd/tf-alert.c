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
#include "opts.h"
#include "sig.h"
#include "vocab.h"

#define RULES_MAX (16 << 20)	/* largest rules file read */
#define STATE_MAX (256 << 20)	/* largest state file read */
#define SAVE_EVERY_NS 1000000000LL

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
	struct tf_common common;
};

/* What the main loop keeps. */
struct run {
	struct config *c;
	struct tf_alert *a;
	uint64_t lineno, lines, alerts, skipped;
	int64_t saved_at;	/* tf_mono_ns of the last state save */
	int save_failed;
	int out_failed;
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

static void
on_alert(const char *line, size_t len, void *arg)
{
	struct run *st = arg;

	st->alerts++;
	fwrite(line, 1, len, stdout);
	putchar_unlocked('\n');
}

static void
on_warn(const char *msg, void *arg)
{
	struct run *st = arg;

	tf_warn("line %llu: %s", (unsigned long long)st->lineno, msg);
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

		/* Batch under load: flush and save only when input is idle,
		 * the state at most once per SAVE_EVERY_NS. */
		if (poll(&pfd, 1, 0) == 0) {
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
			switch (tf_signal_wait(&pfd, 1, timeout)) {
			case -1:	/* a signal: the loop checks for stop */
			case 0:		/* time to save: the next pass does it */
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
	struct run st = { .c = c };
	struct tf_reader *r = NULL;
	int rc;

	if (!(st.a = tf_alert_create(&c->alert))) {
		tf_error("out of memory");
		return 1;
	}
	if ((rc = load_rules(c, st.a)) != 0)
		goto out;
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
	tf_reader_destroy(r);
	tf_alert_destroy(st.a);
	return rc;
}

int
main(int argc, char **argv)
{
	static char outbuf[1 << 16];
	struct config c = { .alert = { .priority = TF_PRIO_MEDIUM } };
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
