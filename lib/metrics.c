/* metrics.c: builds Prometheus text expositions and writes them to a file
 * atomically, for --metrics-file (node exporter's textfile format). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "opts.h"
#include "sig.h"

/* A whole exposition bigger than this is an error: the bounds above keep
 * real ones far below it. */
#define MAX_BYTES (16 << 20)
#define DEFAULT_SERIES 1000

struct tf_metrics {
	char *buf;
	size_t len, cap;
	char *labels;		/* the builder's own, formatted: a="x",b="y" */
	/* Their names (strdup'd), then, while a sample is written, the names
	 * of its own labels (borrowed): no name may repeat. */
	const char *lnames[TF_METRICS_MAX_LABELS];
	size_t nlnames;
	char *names[TF_METRICS_MAX_FAMILIES];
	size_t nfamilies;
	int in_family;
	size_t series, max_series;
	uint64_t dropped;	/* samples left out by max_series */
	char err[256];		/* the first error; "" while none */
	int program_label;	/* the builder's labels carry "program" */
};

static int fail(struct tf_metrics *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
fail(struct tf_metrics *m, const char *fmt, ...)
{
	va_list ap;

	if (!m->err[0]) {
		va_start(ap, fmt);
		vsnprintf(m->err, sizeof m->err, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int
grow(struct tf_metrics *m, size_t more)
{
	size_t cap;
	char *p;

	if (m->cap - m->len > more)
		return 0;
	if (m->len + more >= MAX_BYTES)
		return fail(m, "metrics larger than %d MiB", MAX_BYTES >> 20);
	cap = m->cap ? m->cap : 4096;
	while (cap - m->len <= more)
		cap *= 2;
	if (!(p = realloc(m->buf, cap)))
		return fail(m, "out of memory");
	m->buf = p;
	m->cap = cap;
	return 0;
}

static int
put(struct tf_metrics *m, const char *s, size_t n)
{
	if (grow(m, n) < 0)
		return -1;
	memcpy(m->buf + m->len, s, n);
	m->len += n;
	m->buf[m->len] = '\0';
	return 0;
}

static int
puts_(struct tf_metrics *m, const char *s)
{
	return put(m, s, strlen(s));
}

/* The length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t k, i;
	unsigned c = s[0];
	unsigned long cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		k = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		k = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		k = 4, cp = c & 0x07;
	else
		return 0;
	if (n < k)
		return 0;
	for (i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates, past U+10FFFF. */
	if ((k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return k;
}

/* Appends s escaped: a label value escapes '\\', '"' and newline; a HELP
 * text '\\' and newline only. Invalid UTF-8 becomes U+FFFD: the format is
 * UTF-8 and a scraper rejects the whole exposition otherwise. */
static int
put_escaped(struct tf_metrics *m, const char *s, int quote)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, k;

	while (i < n) {
		if (p[i] == '\\')
			put(m, "\\\\", 2);
		else if (p[i] == '\n')
			put(m, "\\n", 2);
		else if (p[i] == '"' && quote)
			put(m, "\\\"", 2);
		else if ((k = utf8_len(p + i, n - i)) == 0)
			put(m, "\xef\xbf\xbd", 3);
		else {
			put(m, s + i, k);
			i += k;
			continue;
		}
		i++;
	}
	return m->err[0] ? -1 : 0;
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* for metric names; label names without ':' and
 * not starting "__" (reserved for Prometheus itself). */
static int
valid_name(const char *s, int label)
{
	size_t i;

	if (!*s || (label && s[0] == '_' && s[1] == '_'))
		return 0;
	for (i = 0; s[i]; i++) {
		char c = s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '_' || (c == ':' && !label) ||
		    (i > 0 && c >= '0' && c <= '9'))
			continue;
		return 0;
	}
	return 1;
}

static int
ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), k = strlen(tail);

	return n >= k && !strcmp(s + n - k, tail);
}

/* Appends name="value",... for labels; checks names, value sizes, and
 * that no name repeats, nor is one of the builder's own (own: 0 while
 * the builder's are being set). */
static int
put_labels(struct tf_metrics *m, const char *const *labels, int own,
	int comma)
{
	const char **seen = own ? m->lnames + m->nlnames : m->lnames;
	size_t n = 0, i, max = TF_METRICS_MAX_LABELS - (own ? m->nlnames : 0);

	for (; labels && labels[0]; labels += 2) {
		if (!labels[1])
			return fail(m, "label %s: no value", labels[0]);
		if (!valid_name(labels[0], 1))
			return fail(m, "'%s' is not a label name", labels[0]);
		if (n == max)
			return fail(m, "more than %d labels",
				TF_METRICS_MAX_LABELS);
		for (i = 0; own && i < m->nlnames; i++)
			if (!strcmp(m->lnames[i], labels[0]))
				return fail(m, "label %s is the builder's",
					labels[0]);
		for (i = 0; i < n; i++)
			if (!strcmp(seen[i], labels[0]))
				return fail(m, "label %s given twice",
					labels[0]);
		if (strlen(labels[1]) > TF_METRICS_MAX_VALUE)
			return fail(m, "label %s: value longer than %d bytes",
				labels[0], TF_METRICS_MAX_VALUE);
		seen[n++] = labels[0];
		if (comma)
			puts_(m, ",");
		comma = 1;
		puts_(m, labels[0]);
		puts_(m, "=\"");
		put_escaped(m, labels[1], 1);
		puts_(m, "\"");
	}
	return m->err[0] ? -1 : 0;
}

struct tf_metrics *
tf_metrics_create(const char *const *labels, size_t max_series, char *err,
	size_t errlen)
{
	struct tf_metrics *m = calloc(1, sizeof *m);
	const char *const *l;

	if (!m) {
		tf_seterr(err, errlen, "out of memory");
		return NULL;
	}
	m->max_series = max_series ? max_series : DEFAULT_SERIES;
	if (put_labels(m, labels, 0, 0) < 0) {
		tf_seterr(err, errlen, "%s", m->err);
		tf_metrics_destroy(m);
		return NULL;
	}
	for (l = labels; l && l[0]; l += 2) {
		if (!strcmp(l[0], "program"))
			m->program_label = 1;
		if (!(m->lnames[m->nlnames] = strdup(l[0]))) {
			tf_seterr(err, errlen, "out of memory");
			tf_metrics_destroy(m);
			return NULL;
		}
		m->nlnames++;
	}
	m->labels = strdup(m->buf ? m->buf : "");
	if (!m->labels) {
		tf_seterr(err, errlen, "out of memory");
		tf_metrics_destroy(m);
		return NULL;
	}
	tf_metrics_clear(m);
	return m;
}

void
tf_metrics_destroy(struct tf_metrics *m)
{
	size_t i;

	if (!m)
		return;
	tf_metrics_clear(m);
	for (i = 0; i < m->nlnames; i++)
		free((char *)m->lnames[i]);
	free(m->buf);
	free(m->labels);
	free(m);
}

void
tf_metrics_clear(struct tf_metrics *m)
{
	size_t i;

	for (i = 0; i < m->nfamilies; i++)
		free(m->names[i]);
	m->nfamilies = 0;
	m->len = 0;
	if (m->buf)
		m->buf[0] = '\0';
	m->in_family = 0;
	m->series = 0;
	m->dropped = 0;
	m->err[0] = '\0';
}

int
tf_metrics_family(struct tf_metrics *m, const char *name,
	enum tf_metric_type type, const char *help)
{
	size_t i;

	if (m->err[0])
		return -1;
	m->in_family = 0;
	if (!valid_name(name, 0))
		return fail(m, "'%s' is not a metric name", name);
	if (type == TF_METRIC_COUNTER && !ends_with(name, "_total"))
		return fail(m, "%s: a counter's name must end in _total",
			name);
	if (type != TF_METRIC_COUNTER && ends_with(name, "_total"))
		return fail(m, "%s: only a counter's name ends in _total",
			name);
	for (i = 0; i < m->nfamilies; i++)
		if (!strcmp(m->names[i], name))
			return fail(m, "%s: family given twice", name);
	if (m->nfamilies == TF_METRICS_MAX_FAMILIES)
		return fail(m, "more than %d families",
			TF_METRICS_MAX_FAMILIES);
	if (!(m->names[m->nfamilies] = strdup(name)))
		return fail(m, "out of memory");
	m->nfamilies++;
	puts_(m, "# HELP ");
	puts_(m, name);
	puts_(m, " ");
	put_escaped(m, help, 0);
	puts_(m, "\n# TYPE ");
	puts_(m, name);
	puts_(m, type == TF_METRIC_COUNTER ? " counter\n" : " gauge\n");
	if (m->err[0])
		return -1;
	m->in_family = 1;
	m->series = 0;
	return 0;
}

/* Appends the sample line up to the value: name{labels} . */
static int
sample_start(struct tf_metrics *m, const char *const *labels)
{
	const char *name;

	if (m->err[0])
		return -1;
	if (!m->in_family)
		return fail(m, "a sample outside a family");
	name = m->names[m->nfamilies - 1];
	if (m->series == m->max_series) {
		m->dropped++;
		return 1;
	}
	m->series++;
	puts_(m, name);
	if (*m->labels || (labels && labels[0])) {
		puts_(m, "{");
		puts_(m, m->labels);
		put_labels(m, labels, 1, *m->labels != '\0');
		puts_(m, "}");
	}
	puts_(m, " ");
	return m->err[0] ? -1 : 0;
}

int
tf_metrics_u64(struct tf_metrics *m, const char *const *labels, uint64_t v)
{
	char num[32];
	int k = sample_start(m, labels);

	if (k)
		return k < 0 ? -1 : 0;
	snprintf(num, sizeof num, "%llu\n", (unsigned long long)v);
	return puts_(m, num);
}

int
tf_metrics_double(struct tf_metrics *m, const char *const *labels, double v)
{
	char num[64];
	int k = sample_start(m, labels), prec;

	if (k)
		return k < 0 ? -1 : 0;
	if (isnan(v))
		strcpy(num, "NaN\n");
	else if (isinf(v))
		strcpy(num, v > 0 ? "+Inf\n" : "-Inf\n");
	else
		/* The shortest of %.15g..%.17g that reads back as v. */
		for (prec = 15; prec <= 17; prec++) {
			snprintf(num, sizeof num, "%.*g", prec, v);
			if (strtod(num, NULL) == v || prec == 17) {
				strcat(num, "\n");
				break;
			}
		}
	return puts_(m, num);
}

int
tf_metrics_counter(struct tf_metrics *m, const char *name, const char *help,
	uint64_t v)
{
	if (tf_metrics_family(m, name, TF_METRIC_COUNTER, help) < 0)
		return -1;
	return tf_metrics_u64(m, NULL, v);
}

int
tf_metrics_gauge(struct tf_metrics *m, const char *name, const char *help,
	double v)
{
	if (tf_metrics_family(m, name, TF_METRIC_GAUGE, help) < 0)
		return -1;
	return tf_metrics_double(m, NULL, v);
}

int
tf_metrics_common(struct tf_metrics *m, const struct tf_metrics_common *c)
{
	const char *info[] = { "program", c->program, "version", TF_VERSION,
		NULL };

	tf_metrics_family(m, "tf_build_info", TF_METRIC_GAUGE,
		"Always 1; the labels name the program and its version.");
	tf_metrics_u64(m, m->program_label ? info + 2 : info, 1);
	tf_metrics_gauge(m, "tf_process_start_time_seconds",
		"When the process started, in seconds since the epoch.",
		(double)c->start_ns / 1e9);
	tf_metrics_counter(m, "tf_input_lines_total",
		"Input lines read, good or bad (blank lines are not counted).",
		c->input_lines);
	tf_metrics_counter(m, "tf_bad_lines_total",
		"Input lines skipped as bad: not JSON, not an object, invalid "
		"UTF-8 or over --max-line.",
		c->bad_lines);
	return m->err[0] ? -1 : 0;
}

int
tf_metrics_last_run(struct tf_metrics *m, int status, int64_t duration_ns)
{
	/* lib/sig ends the process by the stop signal at exit. */
	if (tf_signal_stop())
		status = 128 + tf_signal_stop();
	tf_metrics_gauge(m, "tf_last_run_exit_status",
		"The exit status of the run that wrote this file last, 128+N "
		"when it ended by signal N.",
		status);
	tf_metrics_gauge(m, "tf_last_run_duration_seconds",
		"How long the run that wrote this file last took.",
		(double)duration_ns / 1e9);
	return m->err[0] ? -1 : 0;
}

int
tf_metrics_finish(struct tf_metrics *m, char *err, size_t errlen)
{
	if (!m->err[0] && m->dropped)
		tf_metrics_gauge(m, "tf_metrics_series_dropped",
			"Samples left out of this exposition because their "
			"family had too many label sets.",
			(double)m->dropped);
	m->in_family = 0;
	if (m->err[0]) {
		tf_seterr(err, errlen, "%s", m->err);
		return -1;
	}
	return 0;
}

const char *
tf_metrics_text(const struct tf_metrics *m, size_t *len)
{
	if (len)
		*len = m->len;
	return m->buf ? m->buf : "";
}

int
tf_metrics_write_file(const char *path, const char *text, size_t len,
	char *err, size_t errlen)
{
	char tmp[4096];
	const char *what = "write";
	size_t off = 0;
	ssize_t n;
	int fd, e;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
		tf_seterr(err, errlen, "%s: name too long", path);
		return -1;
	}
	/* O_NOFOLLOW: a link planted at the temporary name in a shared
	 * directory must not make us write elsewhere. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		0666);
	if (fd < 0) {
		e = errno;
		tf_seterr(err, errlen, "cannot create %s: %s%s", tmp,
			strerror(e), e == EACCES || e == EROFS ?
			" (the file is replaced by a rename: its directory "
			"must be writable)" : "");
		return -1;
	}
	while (off < len) {
		n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		off += (size_t)n;
	}
	/* Without it a crash could leave an empty file renamed in place. */
	what = "fsync";
	if (fsync(fd) < 0)
		goto fail;
	what = "close";
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	what = "rename to";
	if (rename(tmp, path) < 0)
		goto fail;
	return 0;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	if (!strcmp(what, "rename to"))
		tf_seterr(err, errlen, "cannot rename %s to %s: %s", tmp, path,
			strerror(e));
	else
		tf_seterr(err, errlen, "cannot %s %s: %s", what, tmp,
			strerror(e));
	return -1;
}

int
tf_metrics_set_path(struct tf_metrics_file *f, const char *arg, char *err,
	size_t errlen)
{
	if (!*arg) {
		tf_seterr(err, errlen, "--metrics-file: empty file name");
		return -1;
	}
	if (arg[strlen(arg) - 1] == '/') {
		tf_seterr(err, errlen, "--metrics-file: '%s' names a "
			"directory, not a file (e.g. %stf.prom)", arg, arg);
		return -1;
	}
	f->path = arg;
	return 0;
}

int
tf_metrics_set_interval(struct tf_metrics_file *f, const char *arg, char *err,
	size_t errlen)
{
	int64_t ns;

	if (tf_parse_duration("--metrics-interval", arg, &ns, err, errlen) < 0)
		return -1;
	if (ns < 100000000LL || ns > 3600000000000LL) {
		tf_seterr(err, errlen, "--metrics-interval: '%s' is not from "
			"100ms to 1h", arg);
		return -1;
	}
	f->interval_ns = ns;
	return 0;
}

void
tf_metrics_usage(FILE *f, int col)
{
	static const char *const lines[][3] = {
		{ "      --metrics-file PATH",
			"write Prometheus metrics to PATH, replaced",
			"atomically (node exporter's textfile format)" },
		{ "      --metrics-interval TIME",
			"rewrite it every TIME (default 5s)", NULL },
	};
	size_t i;

	for (i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		/* An option too long for its column gets a line of its own. */
		if ((int)strlen(lines[i][0]) >= col - 1)
			fprintf(f, "%s\n%*s%s\n", lines[i][0], col, "",
				lines[i][1]);
		else
			fprintf(f, "%-*s%s\n", col, lines[i][0], lines[i][1]);
		if (lines[i][2])
			fprintf(f, "%*s%s\n", col, "", lines[i][2]);
	}
}

struct tf_metrics *
tf_metrics_file_builder(const struct tf_metrics_file *f, const char *program,
	size_t max_series, char *err, size_t errlen)
{
	const char *slash = strrchr(f->path, '/');
	const char *labels[] = { "program", program, "file",
		slash ? slash + 1 : f->path, NULL };

	return tf_metrics_create(labels, max_series, err, errlen);
}

int64_t
tf_metrics_file_timeout(const struct tf_metrics_file *f, int64_t now)
{
	if (!f->path)
		return -1;
	return f->due > now ? f->due - now : 0;
}

enum tf_metrics_write_result
tf_metrics_file_write(struct tf_metrics_file *f, struct tf_metrics *m,
	char *err, size_t errlen)
{
	const char *text;
	size_t len;
	int failing = f->failing;

	f->due = tf_mono_ns() + (f->interval_ns ? f->interval_ns :
						  TF_METRICS_INTERVAL_DEFAULT);
	f->failing = 1;
	if (tf_metrics_finish(m, err, errlen) < 0)
		return failing ? TF_METRICS_STILL_FAILING : TF_METRICS_FAILED;
	text = tf_metrics_text(m, &len);
	if (tf_metrics_write_file(f->path, text, len, err, errlen) < 0)
		return failing ? TF_METRICS_STILL_FAILING : TF_METRICS_FAILED;
	f->failing = 0;
	return failing ? TF_METRICS_RECOVERED : TF_METRICS_WRITTEN;
}

int
tf_metrics_file_report(struct tf_metrics_file *f, struct tf_metrics *m,
	int running, const char *doing)
{
	char err[1024], every[32];

	switch (tf_metrics_file_write(f, m, err, sizeof err)) {
	case TF_METRICS_WRITTEN:
		return 0;
	case TF_METRICS_RECOVERED:
		tf_warn("--metrics-file: %s written again", f->path);
		return 0;
	case TF_METRICS_FAILED:
		if (!running) {
			tf_error("--metrics-file: %s", err);
			return -1;
		}
		tf_format_duration(f->interval_ns ? f->interval_ns :
			TF_METRICS_INTERVAL_DEFAULT, every, sizeof every);
		tf_error("--metrics-file: %s; still %s, trying again every %s",
			err, doing, every);
		return -1;
	case TF_METRICS_STILL_FAILING:
		if (!running)
			tf_error("--metrics-file: %s", err);
		else
			tf_info("--metrics-file: %s", err);
		return -1;
	}
	return -1;
}
