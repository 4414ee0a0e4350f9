/* opts.h: options with one precedence for every program: flags, then TF_*
 * environment variables, then the config file, then defaults; and the
 * parsers for sizes, numbers and durations they take. */
#ifndef TF_OPTS_H
#define TF_OPTS_H

#include <stddef.h>
#include <stdint.h>
#include <getopt.h>
#include <stdio.h>

struct tf_option {
	const char *name;	/* long name, "batch-rows" */
	int has_arg;		/* no_argument, required_argument, optional_argument */
	int val;		/* short option letter, or a value >= 256 */
	const char *env;	/* "TF_BATCH_ROWS" (env and config file), or NULL */
};

/* Options every program has; parsed by tf_options_parse itself. */
struct tf_common {
	int strict;		/* --strict: first bad line is fatal (exit 65) */
	size_t max_line;	/* --max-line, TF_MAX_LINE; default 1 MiB */
	const char *config;	/* --config, TF_CONFIG */
	int help, version;
};

#define TF_MAX_LINE_DEFAULT (1024 * 1024)

/* Called once per option found, flag or setting; arg is NULL for options
 * without an argument (a setting of "0", "false", "no" or "off" for such an
 * option is not reported). Returns 0, or -1 after filling err. */
typedef int tf_option_fn(int val, const char *arg, void *ctx, char *err,
	size_t errlen);

/* Parses argv against opts (terminated by a zero entry) plus the common
 * options (-h/--help, -V/--version, -q, -v, --strict, --max-line, --config),
 * then, for every option with an env name not given as a flag, takes its
 * value from the environment or the config file. On return *first is the
 * index of the first operand. Returns 0, or -1 with err filled (a usage
 * error: exit 2). The config file's strings live until tf_options_free. */
int tf_options_parse(int argc, char **argv, const struct tf_option *opts,
	tf_option_fn *fn, void *ctx, struct tf_common *common, int *first,
	char *err, size_t errlen);
void tf_options_free(void);

/* Prints the help lines of the options every program has (--config, -q,
 * -v, -h, -V), the descriptions starting at column col. */
void tf_options_usage(FILE *f, int col);

/* Prints a program's usage on f. */
typedef void tf_usage_fn(FILE *f);

/* Answers --help (usage on stdout) or --version ("prog VERSION") the same
 * way in every program. Returns 1 when it answered (the program then
 * exits), 0 when neither was asked. */
int tf_options_answer(const struct tf_common *c, tf_usage_fn *usage);

/* Reports a usage error: "prog: what" and "Try 'prog --help'." on stderr.
 * Returns 2, the exit status for it. */
int tf_usage_error(const char *what);

/* Value parsers: 0 on success, -1 with err filled ("NAME: why"). */
int tf_parse_u64(const char *name, const char *s, uint64_t min, uint64_t max,
	uint64_t *out, char *err, size_t errlen);
/* Sizes: 1024, 64K, 1M, 1G (binary multiples). */
int tf_parse_size(const char *name, const char *s, uint64_t min, uint64_t max,
	uint64_t *out, char *err, size_t errlen);
int tf_parse_double(const char *name, const char *s, double min, double max,
	double *out, char *err, size_t errlen);
/* Durations in nanoseconds: "1.5" (seconds), "250ms", "30s", "5m", "2h",
 * "1d", "10us", "100ns". */
int tf_parse_duration(const char *name, const char *s, int64_t *ns, char *err,
	size_t errlen);
/* Absolute times in nanoseconds since the epoch: RFC 3339
 * ("2026-11-21T09:30:00Z", "2026-11-21 09:30:00.5+01:00", "2026-11-21"
 * as UTC midnight) or epoch seconds/milliseconds ("1763717400",
 * "1763717400123": 13 or more digits are milliseconds). */
int tf_parse_time(const char *name, const char *s, int64_t *ns, char *err,
	size_t errlen);
/* Formats ns since the epoch as RFC 3339 UTC with milliseconds. */
void tf_format_time(int64_t ns, char *buf, size_t size);
/* Formats a duration as "1h02m03s", "4.250s", "12ms". */
void tf_format_duration(int64_t ns, char *buf, size_t size);

/* CLOCK_REALTIME and CLOCK_MONOTONIC in nanoseconds. */
int64_t tf_now_ns(void);
int64_t tf_mono_ns(void);

#endif
