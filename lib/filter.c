/* filter.c: a jq program compiled once, run on each line that needs it. */
#include <jq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "log.h"

struct tf_filter {
	jq_state *jq;
	char err[512];		/* the last compile error from jq */
};

static void
on_jq_error(void *data, jv msg)
{
	struct tf_filter *f = data;

	/* Keep the first message: jq ends with "1 compile error", which
	 * says less than the syntax error before it. */
	if (f->err[0])
		;
	else if (jv_get_kind(msg) == JV_KIND_STRING)
		/* One line: jq repeats the program on the next ones. */
		snprintf(f->err, sizeof f->err, "%.*s",
			(int)strcspn(jv_string_value(msg), "\n"),
			jv_string_value(msg));
	else
		snprintf(f->err, sizeof f->err, "jq error");
	jv_free(msg);
}

struct tf_filter *
tf_filter_create(const char *program, char *err, size_t errlen)
{
	struct tf_filter *f = calloc(1, sizeof *f);

	if (!f || !(f->jq = jq_init())) {
		tf_seterr(err, errlen, "out of memory");
		free(f);
		return NULL;
	}
	jq_set_error_cb(f->jq, on_jq_error, f);
	if (!jq_compile(f->jq, program)) {
		tf_seterr(err, errlen, "invalid jq program: %s",
			f->err[0] ? f->err : program);
		tf_filter_destroy(f);
		return NULL;
	}
	return f;
}

void
tf_filter_destroy(struct tf_filter *f)
{
	if (!f)
		return;
	jq_teardown(&f->jq);
	free(f);
}

int
tf_filter_match(struct tf_filter *f, const char *line, size_t len, char *err,
	size_t errlen)
{
	return tf_filter_match_jv(f, jv_parse_sized(line, (int)len), err,
		errlen);
}

int
tf_filter_match_jv(struct tf_filter *f, jv in, char *err, size_t errlen)
{
	jv out;
	int match = 0;

	if (!jv_is_valid(in)) {
		jv msg = jv_invalid_get_msg(in);

		tf_seterr(err, errlen, "not JSON: %s",
			jv_get_kind(msg) == JV_KIND_STRING ?
				jv_string_value(msg) : "?");
		jv_free(msg);
		return -1;
	}
	jq_start(f->jq, in, 0);
	out = jq_next(f->jq);
	if (jv_is_valid(out)) {
		jv_kind k = jv_get_kind(out);

		match = k != JV_KIND_FALSE && k != JV_KIND_NULL;
		jv_free(out);
		/* Drain further outputs so the next line starts clean. */
		while (jv_is_valid(out = jq_next(f->jq)))
			jv_free(out);
	}
	if (jv_invalid_has_msg(jv_copy(out))) {
		jv msg = jv_invalid_get_msg(out);

		if (match == 0) {
			tf_seterr(err, errlen, "jq: %s",
				jv_get_kind(msg) == JV_KIND_STRING ?
					jv_string_value(msg) : "error");
			jv_free(msg);
			return -1;
		}
		jv_free(msg);
	} else {
		jv_free(out);
	}
	return match;
}
