/* metrics.h: Prometheus metrics in the text exposition format (0.0.4), for
 * the servers' /metrics answer and for --metrics-file, the textfile format
 * of Prometheus's node exporter, which a file replaced atomically serves. */
#ifndef TF_METRICS_H
#define TF_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Longest label value taken; a longer one is an error (callers map
 * unbounded names, such as rule ids, to "other" first). */
#define TF_METRICS_MAX_VALUE 1024
/* Families in one exposition, and label pairs on one sample. */
#define TF_METRICS_MAX_FAMILIES 256
#define TF_METRICS_MAX_LABELS 8

enum tf_metric_type {
	TF_METRIC_COUNTER,	/* name must end in _total */
	TF_METRIC_GAUGE,	/* name must not */
};

/* One exposition being built: families, each a HELP line, a TYPE line
 * and its samples. Names are checked (the metric and label name grammar,
 * _total for counters and only for them, each family once), label values
 * escaped and invalid UTF-8 in them replaced by U+FFFD. The first error is
 * kept: every later call does nothing and returns -1, and tf_metrics_finish
 * reports it, so a caller can build a whole exposition and check once. */
struct tf_metrics;

/* A builder whose every sample carries labels (name, value, name, value,
 * ..., NULL; copied; NULL for none), and whose families hold at most
 * max_series samples each (0: 1000): samples past it are left out and
 * counted, and tf_metrics_finish adds a gauge tf_metrics_series_dropped
 * saying how many, so a label that ran away shows instead of growing the
 * exposition. NULL on ENOMEM or a bad label (err filled). */
struct tf_metrics *tf_metrics_create(const char *const *labels,
	size_t max_series, char *err, size_t errlen);
void tf_metrics_destroy(struct tf_metrics *m);

/* Empties the exposition (and forgets its error) to build the next one,
 * keeping the builder's memory and labels. */
void tf_metrics_clear(struct tf_metrics *m);

/* Starts a family: its "# HELP" (help escaped) and "# TYPE" lines. */
int tf_metrics_family(struct tf_metrics *m, const char *name,
	enum tf_metric_type type, const char *help);

/* A sample of the family started last: labels as for tf_metrics_create
 * (NULL: none besides the builder's), a value. A u64 is written exactly,
 * a double in the shortest form that reads back the same ("NaN", "+Inf"
 * and "-Inf" as the format spells them). */
int tf_metrics_u64(struct tf_metrics *m, const char *const *labels,
	uint64_t v);
int tf_metrics_double(struct tf_metrics *m, const char *const *labels,
	double v);

/* A family with one sample and no labels of its own. */
int tf_metrics_counter(struct tf_metrics *m, const char *name,
	const char *help, uint64_t v);
int tf_metrics_gauge(struct tf_metrics *m, const char *name,
	const char *help, double v);

/* The metrics every program has. */
struct tf_metrics_common {
	const char *program;	/* "tf-record" */
	int64_t start_ns;	/* process start, ns since the epoch */
	uint64_t input_lines;	/* lines read, good or bad (blank ones not) */
	uint64_t bad_lines;	/* lines skipped as bad */
};

/* tf_build_info{program,version} 1 (program left out when the builder's
 * labels carry it), tf_process_start_time_seconds, tf_input_lines_total,
 * tf_bad_lines_total. */
int tf_metrics_common(struct tf_metrics *m, const struct tf_metrics_common *c);

/* tf_last_run_exit_status and tf_last_run_duration_seconds: how a run
 * ended, for the last write of a metrics file. status is what main
 * returns; after a stop signal it is 128+N, as the process then ends by
 * signal N (lib/sig.h). */
int tf_metrics_last_run(struct tf_metrics *m, int status, int64_t duration_ns);

/* Ends the exposition (adding tf_metrics_series_dropped when a family hit
 * max_series). Returns 0, or -1 with err filled by the first error of the
 * build ("tf_x: counter name must end in _total", "out of memory"). */
int tf_metrics_finish(struct tf_metrics *m, char *err, size_t errlen);

/* The text built so far (NUL-terminated; owned by m, valid until the next
 * call on m). */
const char *tf_metrics_text(const struct tf_metrics *m, size_t *len);

/* Writes text[0..len) to path atomically: into path.tmp in the same
 * directory (created without following a link there, mode 0666 less the
 * umask), fsync'd, then renamed over path, so a reader such as the node
 * exporter sees the old file or the new one, never a part. Returns 0, or
 * -1 with err filled ("cannot create DIR/x.prom.tmp: Permission denied
 * (...)"); the temporary file is removed then. */
int tf_metrics_write_file(const char *path, const char *text, size_t len,
	char *err, size_t errlen);

/* --metrics-file PATH and --metrics-interval TIME, as the programs without
 * a port take them: the file is written when the program starts (which
 * finds an unwritable path at once), every interval while it runs, and a
 * last time at exit. The caller owns the struct; zero it, then set path
 * and interval through the option setters. */
struct tf_metrics_file {
	const char *path;		/* NULL: no file */
	int64_t interval_ns;		/* 0: TF_METRICS_INTERVAL_DEFAULT */
	int64_t due;			/* tf_mono_ns() of the next write */
	int failing;			/* the last write failed */
};

#define TF_METRICS_INTERVAL_DEFAULT 5000000000LL

/* Option setters: 0, or -1 with err filled (an empty path; an interval
 * that is not a duration from 100ms to 1h). */
int tf_metrics_set_path(struct tf_metrics_file *f, const char *arg, char *err,
	size_t errlen);
int tf_metrics_set_interval(struct tf_metrics_file *f, const char *arg,
	char *err, size_t errlen);

/* The help lines of both options, descriptions at column col. */
void tf_metrics_usage(FILE *f, int col);

/* A builder for f: every sample labelled program="PROG" and
 * file="BASENAME" (the file's name, as the node exporter's own
 * node_textfile_mtime_seconds{file} has it), so that several programs'
 * files in one textfile directory never collide. NULL with err filled. */
struct tf_metrics *tf_metrics_file_builder(const struct tf_metrics_file *f,
	const char *program, size_t max_series, char *err, size_t errlen);

/* Nonzero when a write is due at now (tf_mono_ns); cheap enough for a hot
 * loop. Always 0 without a path. */
static inline int
tf_metrics_file_due(const struct tf_metrics_file *f, int64_t now)
{
	return f->path && now >= f->due;
}

/* Nanoseconds from now until the next write (0 when due), or -1 without
 * a path: a poll timeout. */
int64_t tf_metrics_file_timeout(const struct tf_metrics_file *f, int64_t now);

enum tf_metrics_write_result {
	TF_METRICS_WRITTEN = 0,
	TF_METRICS_RECOVERED = 1,	/* written, after failed writes */
	TF_METRICS_FAILED = -1,		/* the first failure: report it */
	TF_METRICS_STILL_FAILING = -2,	/* failed again: already reported */
};

/* Finishes m and writes it to f's path, and schedules the next write one
 * interval from now. Returns one of the results above; err is filled on
 * failure. */
enum tf_metrics_write_result tf_metrics_file_write(struct tf_metrics_file *f,
	struct tf_metrics *m, char *err, size_t errlen);

/* The command-line side, as lib/opts is: tf_metrics_file_write, reported
 * on stderr as every program does. A first failure is an error (while
 * running, "still DOING, trying again every INTERVAL": the program goes
 * on); failing again is said once more only at start or exit (-v
 * otherwise); a write after failures is a warning. Returns 0 written, -1
 * not. */
int tf_metrics_file_report(struct tf_metrics_file *f, struct tf_metrics *m,
	int running, const char *doing);

#endif
