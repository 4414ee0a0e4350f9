/* opts.c: flags, then TF_* environment, then the config file, then
 * defaults; and parsers for the values options take. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "opts.h"

enum {
	OPT_STRICT = 0x1000,
	OPT_MAX_LINE,
	OPT_CONFIG,
};

static const struct tf_option common_opts[] = {
	{ "help", no_argument, 'h', NULL },
	{ "version", no_argument, 'V', NULL },
	{ "quiet", no_argument, 'q', NULL },
	{ "verbose", no_argument, 'v', NULL },
	{ "strict", no_argument, OPT_STRICT, "TF_STRICT" },
	{ "max-line", required_argument, OPT_MAX_LINE, "TF_MAX_LINE" },
	{ "config", required_argument, OPT_CONFIG, NULL },
	{ 0 },
};

/* The config file: "NAME=value" lines, '#' comments, values optionally in
 * single or double quotes. Loaded once; its strings live until
 * tf_options_free. */
struct setting {
	char *name, *value;
	unsigned line;		/* in config_path, for messages */
};
static struct setting *settings;
static size_t n_settings;
static char *config_text;
static char *config_path;

/* The TF_* name spaces of the toolkit's programs (TF_ and the word after
 * it). One config file serves them all: a program leaves alone a name in
 * another program's space (that one checks it), and warns of an unknown
 * name in its own spaces or in none (a typo such as TF_RECROD_DB). A
 * program's own spaces are those of its names, listed here or not. */
static const char *const name_spaces[] = {
	"TF_ALERT_", "TF_BROADCAST_", "TF_DISCORD_", "TF_EMAIL_", "TF_NATS_",
	"TF_NOTIFY_", "TF_PUB_", "TF_RECORD_", "TF_REPLAY_", "TF_SERVE_",
	"TF_SIM_", "TF_SLACK_", "TF_SMS_", "TF_SMTP_", "TF_SUB_",
	"TF_TELEGRAM_", "TF_TWILIO_", "TF_WEBHOOK_", NULL,
};

void
tf_options_free(void)
{
	free(settings);
	free(config_text);
	free(config_path);
	settings = NULL;
	config_text = NULL;
	config_path = NULL;
	n_settings = 0;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int
load_config(const char *path, int must_exist, char *err, size_t errlen)
{
	FILE *f;
	long size;
	char *line, *next;
	unsigned lineno = 0;

	f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT && !must_exist)
			return 0;
		tf_seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) < 0 || size > 1 << 20) {
		tf_seterr(err, errlen, "%s: unreadable or larger than 1 MiB",
			path);
		fclose(f);
		return -1;
	}
	config_text = malloc((size_t)size + 1);
	settings = calloc((size_t)size / 2 + 1, sizeof *settings);
	if (!config_text || !settings ||
	    fread(config_text, 1, (size_t)size, f) != (size_t)size) {
		tf_seterr(err, errlen, "%s: cannot read", path);
		fclose(f);
		return -1;
	}
	fclose(f);
	config_text[size] = '\0';
	if (!(config_path = strdup(path))) {
		tf_seterr(err, errlen, "out of memory");
		return -1;
	}
	for (line = config_text; line; line = next) {
		char *eq, *name, *value;
		size_t vn;

		lineno++;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		line = trim(line);
		if (!*line || *line == '#')
			continue;
		if (!strncmp(line, "export ", 7))
			line = trim(line + 7);
		eq = strchr(line, '=');
		if (!eq) {
			tf_seterr(err, errlen, "%s:%u: expected NAME=value",
				path, lineno);
			return -1;
		}
		*eq = '\0';
		name = trim(line);
		value = trim(eq + 1);
		vn = strlen(value);
		if (vn >= 2 && (value[0] == '"' || value[0] == '\'') &&
		    value[vn - 1] == value[0]) {
			value[vn - 1] = '\0';
			value++;
		}
		settings[n_settings].name = name;
		settings[n_settings].value = value;
		settings[n_settings].line = lineno;
		n_settings++;
	}
	return 0;
}

/* The environment first, then the config file (last setting wins); *from
 * is the config file's setting, or NULL. */
static const char *
lookup(const char *name, const struct setting **from)
{
	const char *v = getenv(name);
	size_t i;

	*from = NULL;
	if (v)
		return v;
	for (i = n_settings; i-- > 0;)
		if (!strcmp(settings[i].name, name)) {
			*from = &settings[i];
			return settings[i].value;
		}
	return NULL;
}

/* How far typed is from meant, in edits: a swap of neighbours or a
 * letter left out costs 1, a wrong or an extra letter 2 (a name typed
 * short, TF_RECORD_BACH, is nearer TF_RECORD_BATCH_MS than TF_RECORD_DB).
 * A large number for words longer than 63. */
static size_t
distance(const char *typed, const char *meant)
{
	size_t d[64][64], n = strlen(typed), m = strlen(meant), i, j, x;

	if (n > 63 || m > 63)
		return (size_t)-1 / 2;
	for (i = 0; i <= n; i++)
		d[i][0] = 2 * i;
	for (j = 0; j <= m; j++)
		d[0][j] = j;
	for (i = 1; i <= n; i++)
		for (j = 1; j <= m; j++) {
			x = d[i - 1][j - 1] +
				2 * (typed[i - 1] != meant[j - 1]);
			if (d[i - 1][j] + 2 < x)
				x = d[i - 1][j] + 2;
			if (d[i][j - 1] + 1 < x)
				x = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && typed[i - 1] == meant[j - 2] &&
			    typed[i - 2] == meant[j - 1] &&
			    d[i - 2][j - 2] + 1 < x)
				x = d[i - 2][j - 2] + 1;
			d[i][j] = x;
		}
	return d[n][m];
}

/* The word of words[0..n) nearest to w, or NULL when none is near enough
 * to be what was meant (at most a quarter of w's length, and 2, away). */
static const char *
closest(const char *w, const char *const *words, size_t n)
{
	const char *best = NULL;
	size_t i, d, bd = strlen(w) / 4 + 3;

	for (i = 0; i < n; i++)
		if (words[i] && (d = distance(w, words[i])) < bd) {
			bd = d;
			best = words[i];
		}
	return best;
}

/* The length of name's space: "TF_" and the word after it with its '_'
 * (TF_RECORD_ of TF_RECORD_DB), or 0. */
static size_t
space_len(const char *name)
{
	const char *u;

	if (strncmp(name, "TF_", 3) || !(u = strchr(name + 3, '_')))
		return 0;
	return (size_t)(u + 1 - name);
}

/* Warns of each TF_* name of the config file that is not one of names
 * (the program's, n of them) and not in another program's space: "prog:
 * FILE:LINE: unknown NAME (did you mean NAME2?)". Printed here, like
 * tf_usage_error's message: every program says it the same way. */
static void
warn_unknown(const char *const *names, size_t n)
{
	size_t i, j, k, len;
	const char *near;
	int mine, known;

	for (i = 0; i < n_settings; i++) {
		const char *name = settings[i].name;

		if (strncmp(name, "TF_", 3))
			continue;
		for (j = 0; j < n; j++)
			if (names[j] && !strcmp(names[j], name))
				break;
		if (j < n)
			continue;
		len = space_len(name);
		mine = known = 0;
		for (k = 0; len && name_spaces[k]; k++)
			if (strlen(name_spaces[k]) == len &&
			    !strncmp(name_spaces[k], name, len))
				known = 1;
		for (j = 0; len && j < n; j++)
			if (names[j] && space_len(names[j]) == len &&
			    !strncmp(names[j], name, len))
				mine = 1;
		if (known && !mine)
			continue;
		if ((near = closest(name, names, n)))
			tf_warn("%s:%u: unknown %s (did you mean %s?)",
				config_path, settings[i].line, name, near);
		else
			tf_warn("%s:%u: unknown %s", config_path,
				settings[i].line, name);
	}
}

/* what without the flag that set_option functions put first ("--speed:
 * 'x' is not a number"): a setting has no flag. */
static const char *
without_flag(const char *what)
{
	size_t n;

	if (strncmp(what, "--", 2))
		return what;
	n = 2 + strspn(what + 2, "abcdefghijklmnopqrstuvwxyz0123456789-");
	return n > 2 && !strncmp(what + n, ": ", 2) ? what + n + 2 : what;
}

static int
falsy(const char *v)
{
	return !strcmp(v, "") || !strcmp(v, "0") || !strcasecmp(v, "false") ||
		!strcasecmp(v, "no") || !strcasecmp(v, "off");
}

static size_t
count_opts(const struct tf_option *o)
{
	size_t n = 0;

	while (o && o[n].name)
		n++;
	return n;
}

static int
common_apply(int val, const char *arg, struct tf_common *c, char *err,
	size_t errlen)
{
	uint64_t v;

	switch (val) {
	case 'h':
		c->help = 1;
		break;
	case 'V':
		c->version = 1;
		break;
	case 'q':
		tf_verbosity = 0;
		break;
	case 'v':
		if (tf_verbosity < 3)
			tf_verbosity = tf_verbosity < 1 ? 2 : tf_verbosity + 1;
		break;
	case OPT_STRICT:
		c->strict = 1;
		break;
	case OPT_MAX_LINE:
		if (tf_parse_size("--max-line", arg, 2, (uint64_t)1 << 30, &v,
			    err, errlen) < 0)
			return -1;
		c->max_line = (size_t)v;
		break;
	case OPT_CONFIG:
		c->config = arg;
		break;
	}
	return 0;
}

/* The message for a long option getopt_long refused ("--ma", "--jsn",
 * "--json=1"): it says "unknown or ambiguous" alone; this names the
 * options an abbreviation could be, or the one nearest a typo. */
static void
bad_long(const char *arg, const struct option *lo, size_t n, char *err,
	size_t errlen)
{
	char word[64], list[400];
	const char *names[256];
	size_t len = strcspn(arg + 2, "="), i, k = 0, used = 0;
	const struct option *exact = NULL, *one = NULL;

	snprintf(word, sizeof word, "%.*s", (int)len, arg + 2);
	list[0] = '\0';
	for (i = 0; i < n && i < 256; i++) {
		/* "=name" entries are settings without a flag. */
		names[i] = lo[i].name[0] == '=' ? NULL : lo[i].name;
		if (!names[i] || strncmp(names[i], word, len))
			continue;
		if (strlen(names[i]) == len)
			exact = &lo[i];
		one = &lo[i];
		if (used < sizeof list)
			used += (size_t)snprintf(list + used, sizeof list - used,
				"%s--%s", k ? ", " : "", names[i]);
		k++;
	}
	if (exact || k == 1) {
		exact = exact ? exact : one;
		tf_seterr(err, errlen, "option --%s %s", exact->name,
			exact->has_arg == no_argument ? "takes no value" :
							"needs a value");
	} else if (k > 1) {
		tf_seterr(err, errlen, "ambiguous option --%s: could be %s", word,
			list);
	} else {
		const char *near = closest(word, names, i);

		if (near)
			tf_seterr(err, errlen,
				"unknown option --%s (did you mean --%s?)", word,
				near);
		else
			tf_seterr(err, errlen, "unknown option --%s", word);
	}
}

static int
is_common(int val)
{
	size_t i;

	for (i = 0; common_opts[i].name; i++)
		if (common_opts[i].val == val)
			return 1;
	return 0;
}

int
tf_options_parse(int argc, char **argv, const struct tf_option *opts,
	tf_option_fn *fn, void *ctx, struct tf_common *common, int *first,
	char *err, size_t errlen)
{
	size_t nprog = count_opts(opts), ncommon = count_opts(common_opts);
	size_t n = nprog + ncommon, i;
	struct option *lo;
	const struct tf_option **all;
	char *seen, shortopts[256], *sp = shortopts;
	char default_path[4096];
	const char *path;
	int c, rc = -1;

	memset(common, 0, sizeof *common);
	common->max_line = TF_MAX_LINE_DEFAULT;
	lo = calloc(n + 1, sizeof *lo);
	all = calloc(n, sizeof *all);
	seen = calloc(n, 1);
	if (!lo || !all || !seen) {
		tf_seterr(err, errlen, "out of memory");
		goto out;
	}
	/* Options may follow operands (tf-replay FILE --speed 10), as with
	 * jq, curl and sqlite3; "--" ends them. */
	*sp++ = ':';	/* report a missing argument as ':' */
	for (i = 0; i < n; i++) {
		all[i] = i < ncommon ? &common_opts[i] : &opts[i - ncommon];
		lo[i].name = all[i]->name;
		lo[i].has_arg = all[i]->has_arg;
		lo[i].val = all[i]->val;
		if (all[i]->val > 0 && all[i]->val < 128 &&
		    isalnum(all[i]->val) && sp < shortopts + sizeof shortopts - 3) {
			*sp++ = (char)all[i]->val;
			if (all[i]->has_arg == required_argument)
				*sp++ = ':';
			else if (all[i]->has_arg == optional_argument) {
				*sp++ = ':';
				*sp++ = ':';
			}
		}
	}
	*sp = '\0';

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, shortopts, lo, NULL)) != -1) {
		if (c == '?' || c == ':') {
			const char *bad = argv[optind - 1];

			if (optopt && optopt < 128 && optopt != 0 &&
			    !(bad && bad[0] == '-' && bad[1] == '-'))
				tf_seterr(err, errlen, "%s option -%c",
					c == ':' ? "missing argument for" :
						   "unknown",
					optopt);
			else if (c == '?' && bad && !strncmp(bad, "--", 2))
				bad_long(bad, lo, n, err, errlen);
			else
				tf_seterr(err, errlen, "%s option %s",
					c == ':' ? "missing argument for" :
						   "unknown or ambiguous",
					bad ? bad : "?");
			goto out;
		}
		for (i = 0; i < n; i++)
			if (all[i]->val == c)
				seen[i] = 1;
		if (is_common(c)) {
			if (common_apply(c, optarg, common, err, errlen) < 0)
				goto out;
		} else if (fn(c, optarg, ctx, err, errlen) < 0) {
			goto out;
		}
	}
	*first = optind;
	if (common->help || common->version) {
		rc = 0;
		goto out;
	}

	/* The config file: --config, TF_CONFIG, or the XDG default. */
	path = common->config ? common->config : getenv("TF_CONFIG");
	if (path) {
		if (load_config(path, 1, err, errlen) < 0)
			goto out;
	} else {
		const char *xdg = getenv("XDG_CONFIG_HOME");
		const char *home = getenv("HOME");

		if (xdg && *xdg)
			snprintf(default_path, sizeof default_path,
				"%s/tf/tf.conf", xdg);
		else if (home)
			snprintf(default_path, sizeof default_path,
				"%s/.config/tf/tf.conf", home);
		else
			default_path[0] = '\0';
		if (default_path[0] &&
		    load_config(default_path, 0, err, errlen) < 0)
			goto out;
	}

	if (n_settings) {
		const char **names = calloc(n, sizeof *names);

		if (!names) {
			tf_seterr(err, errlen, "out of memory");
			goto out;
		}
		for (i = 0; i < n; i++)
			names[i] = all[i]->env;
		warn_unknown(names, n);
		free(names);
	}

	for (i = 0; i < n; i++) {
		const struct setting *from;
		const char *v;
		char what[300];

		if (seen[i] || !all[i]->env ||
		    !(v = lookup(all[i]->env, &from)))
			continue;
		if (all[i]->has_arg == no_argument) {
			if (falsy(v))
				continue;
			v = NULL;
		}
		if (is_common(all[i]->val))
			c = common_apply(all[i]->val, v, common, what,
				sizeof what);
		else
			c = fn(all[i]->val, v, ctx, what, sizeof what);
		if (c < 0) {
			/* Where the value is, not a flag nobody gave. */
			if (from)
				tf_seterr(err, errlen, "%s:%u: %s: %s",
					config_path, from->line, all[i]->env,
					without_flag(what));
			else
				tf_seterr(err, errlen, "%s: %s", all[i]->env,
					without_flag(what));
			goto out;
		}
	}
	rc = 0;
out:
	free(lo);
	free(all);
	free(seen);
	return rc;
}

void
tf_options_usage(FILE *f, int col)
{
	static const char *const lines[][2] = {
		{ "      --config FILE",
			"settings file (default $XDG_CONFIG_HOME/tf/tf.conf)" },
		{ "  -q, --quiet", "errors only" },
		{ "  -v, --verbose", "say more" },
		{ "  -h, --help", "this help" },
		{ "  -V, --version", "the version" },
	};
	size_t i;

	for (i = 0; i < sizeof lines / sizeof lines[0]; i++)
		fprintf(f, "%-*s%s\n", col, lines[i][0], lines[i][1]);
}

int
tf_options_answer(const struct tf_common *c, tf_usage_fn *usage)
{
	if (c->help)
		usage(stdout);
	else if (c->version)
		printf("%s %s\n", tf_prog(), TF_VERSION);
	return c->help || c->version;
}

int
tf_usage_error(const char *what)
{
	tf_error("%s", what);
	fprintf(stderr, "Try '%s --help'.\n", tf_prog());
	return 2;
}

int
tf_parse_u64(const char *name, const char *s, uint64_t min, uint64_t max,
	uint64_t *out, char *err, size_t errlen)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (!s || !isdigit((unsigned char)*s) ||
	    ((v = strtoull(s, &end, 10)), errno) || *end) {
		tf_seterr(err, errlen, "%s: '%s' is not a whole number", name,
			s ? s : "");
		return -1;
	}
	if (v < min || v > max) {
		tf_seterr(err, errlen, "%s: %s is out of range (%llu to %llu)",
			name, s, (unsigned long long)min,
			(unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

int
tf_parse_size(const char *name, const char *s, uint64_t min, uint64_t max,
	uint64_t *out, char *err, size_t errlen)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	errno = 0;
	if (!s || !isdigit((unsigned char)*s) ||
	    ((v = strtoull(s, &end, 10)), errno))
		goto bad;
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K':
		mul = 1024;
		break;
	case 'm': case 'M':
		mul = 1024 * 1024;
		break;
	case 'g': case 'G':
		mul = 1024 * 1024 * 1024;
		break;
	default:
		goto bad;
	}
	if (*end && end[1] && strcmp(end + 1, "B") && strcmp(end + 1, "iB"))
		goto bad;
	if (v > UINT64_MAX / mul || v * mul < min || v * mul > max) {
		tf_seterr(err, errlen,
			"%s: %s is out of range (%llu to %llu bytes)", name, s,
			(unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*out = v * mul;
	return 0;
bad:
	tf_seterr(err, errlen, "%s: '%s' is not a size (e.g. 4096, 64K, 1M)",
		name, s ? s : "");
	return -1;
}

int
tf_parse_double(const char *name, const char *s, double min, double max,
	double *out, char *err, size_t errlen)
{
	char *end;
	double v;

	errno = 0;
	if (!s || !*s || ((v = strtod(s, &end)), errno) || *end ||
	    !isfinite(v)) {
		tf_seterr(err, errlen, "%s: '%s' is not a number", name,
			s ? s : "");
		return -1;
	}
	if (v < min || v > max) {
		tf_seterr(err, errlen, "%s: %s is out of range (%g to %g)",
			name, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int
tf_parse_duration(const char *name, const char *s, int64_t *ns, char *err,
	size_t errlen)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = {
		{ "", 1e9 }, { "s", 1e9 }, { "ms", 1e6 }, { "us", 1e3 },
		{ "ns", 1 }, { "m", 60e9 }, { "h", 3600e9 }, { "d", 86400e9 },
	};
	char *end;
	double v;
	size_t i;

	errno = 0;
	if (!s || !(isdigit((unsigned char)*s) || *s == '.'))
		goto bad;
	v = strtod(s, &end);
	if (errno || !isfinite(v) || v < 0)
		goto bad;
	for (i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (!strcmp(end, units[i].unit)) {
			if (v * units[i].ns > 9.2e18)
				goto bad;
			*ns = (int64_t)llround(v * units[i].ns);
			return 0;
		}
	}
bad:
	tf_seterr(err, errlen,
		"%s: '%s' is not a duration (e.g. 30, 1.5s, 250ms, 5m, 2h)",
		name, s ? s : "");
	return -1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int
digits(const char **p, int n, int *out)
{
	int v = 0;

	while (n--) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (*(*p)++ - '0');
	}
	*out = v;
	return 0;
}

int
tf_parse_time(const char *name, const char *s, int64_t *ns, char *err,
	size_t errlen)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0;
	int64_t frac = 0, t;
	size_t len;

	if (!s)
		goto bad;
	len = strspn(s, "0123456789");
	if (len && !s[len]) {
		uint64_t v;

		if (tf_parse_u64(name, s, 0, UINT64_MAX / 2, &v, err, errlen))
			return -1;
		/* 13 or more digits are milliseconds. */
		if (len >= 13 ? v > INT64_MAX / 1000000 : v > INT64_MAX / 1000000000)
			goto bad;
		*ns = len >= 13 ? (int64_t)v * 1000000 : (int64_t)v * 1000000000;
		return 0;
	}
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) ||
	    *p++ != '-' || digits(&p, 2, &d) || mo < 1 || mo > 12 || d < 1 ||
	    d > 31)
		goto bad;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) ||
		    h > 23 || mi > 59)
			goto bad;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &sec) || sec > 60)
				goto bad;
			if (*p == '.') {
				int64_t scale = 100000000;

				p++;
				if (!isdigit((unsigned char)*p))
					goto bad;
				for (; isdigit((unsigned char)*p); p++) {
					frac += (*p - '0') * scale;
					scale /= 10;
				}
			}
		}
	}
	t = (days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 +
		    mi * 60 + sec);
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om;

		if (digits(&p, 2, &oh) || (*p == ':' && !*++p) ||
		    digits(&p, 2, &om))
			goto bad;
		t -= sign * (oh * 3600 + om * 60);
	}
	/* Nanoseconds since 1970 in 64 bits: the years 1678 to 2262. */
	if (*p || t > INT64_MAX / 1000000000 - 1 ||
	    t < INT64_MIN / 1000000000 + 1)
		goto bad;
	*ns = t * 1000000000 + frac;
	return 0;
bad:
	tf_seterr(err, errlen,
		"%s: '%s' is not a time (RFC 3339 such as 2026-11-21T09:30:00Z,"
		" or epoch seconds or milliseconds)",
		name, s ? s : "");
	return -1;
}

void
tf_format_time(int64_t ns, char *buf, size_t size)
{
	time_t sec = (time_t)(ns / 1000000000);
	int64_t rem = ns % 1000000000;
	struct tm tm;

	if (rem < 0) {
		rem += 1000000000;
		sec--;
	}
	gmtime_r(&sec, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		tm.tm_min, tm.tm_sec, (int)(rem / 1000000));
}

void
tf_format_duration(int64_t ns, char *buf, size_t size)
{
	int64_t s = ns / 1000000000;

	if (ns < 0)
		ns = 0;
	if (ns < 1000000000)
		snprintf(buf, size, "%.3gms", (double)ns / 1e6);
	else if (s < 60)
		snprintf(buf, size, "%.3fs", (double)ns / 1e9);
	else if (s < 3600)
		snprintf(buf, size, "%dm%02ds", (int)(s / 60), (int)(s % 60));
	else
		snprintf(buf, size, "%dh%02dm%02ds", (int)(s / 3600),
			(int)(s / 60 % 60), (int)(s % 60));
}

int64_t
tf_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t
tf_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
