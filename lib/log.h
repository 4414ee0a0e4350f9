/* log.h: diagnostics on stderr for the programs in cmd/. lib/ never prints;
 * it fills an error buffer and cmd/ reports it through these. */
#ifndef TF_LOG_H
#define TF_LOG_H

#include <stddef.h>

/* 0 = -q (errors only), 1 = default, 2 = -v, 3 = -vv. */
extern int tf_verbosity;

/* Remembers the program name used as the prefix of every message. */
void tf_log_init(const char *prog);
const char *tf_prog(void);

/* "prog: message\n". error is always shown; warn from 1, info from 2,
 * debug from 3. */
void tf_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tf_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tf_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tf_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Fills err (size errlen) like snprintf; for lib/ functions. */
void tf_seterr(char *err, unsigned long errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The passthrough of a filter (tf-record, tf-pub): each line goes on to
 * stdout while *on; tf_log_flush_stdout flushes it and, once the reader
 * went away, warns once ("...; still DOING") and turns *on off, so the
 * program goes on with its real work. */
void tf_log_passthrough(const int *on, const char *line, size_t len);
void tf_log_flush_stdout(int *on, const char *doing);

#endif
