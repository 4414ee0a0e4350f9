/* log.c: "prog: message" diagnostics on stderr, filtered by verbosity. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

int tf_verbosity = 1;
static const char *prog = "tf";

void
tf_log_init(const char *name)
{
	const char *slash = strrchr(name, '/');

	prog = slash ? slash + 1 : name;
}

const char *
tf_prog(void)
{
	return prog;
}

static void
vlog(const char *fmt, va_list ap)
{
	char buf[4096];

	vsnprintf(buf, sizeof buf, fmt, ap);
	/* One write per message so concurrent programs don't interleave. */
	fprintf(stderr, "%s: %s\n", prog, buf);
}

#define LOG_AT(level)                                                        \
	do {                                                                 \
		va_list ap;                                                  \
		if (tf_verbosity < (level))                                  \
			return;                                              \
		va_start(ap, fmt);                                           \
		vlog(fmt, ap);                                               \
		va_end(ap);                                                  \
	} while (0)

void
tf_error(const char *fmt, ...)
{
	LOG_AT(0);
}

void
tf_warn(const char *fmt, ...)
{
	LOG_AT(1);
}

void
tf_info(const char *fmt, ...)
{
	LOG_AT(2);
}

void
tf_debug(const char *fmt, ...)
{
	LOG_AT(3);
}

void
tf_seterr(char *err, unsigned long errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void
tf_log_passthrough(const int *on, const char *line, size_t len)
{
	if (!*on)
		return;
	fwrite(line, 1, len, stdout);
	putchar_unlocked('\n');
}

void
tf_log_flush_stdout(int *on, const char *doing)
{
	if (!*on)
		return;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		tf_warn("stdout: %s: the reader went away; still %s",
			strerror(errno), doing);
		*on = 0;
	}
}
