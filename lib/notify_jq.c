/* notify_jq.c: a jq program compiled once and run per line for its
 * output as text. */
#include <jq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "notify_jq.h"

struct tf_notify_jq {
	jq_state *jq;
	char err[512];
};

static void
on_error(void *data, jv msg)
{
	struct tf_notify_jq *q = data;

	if (!q->err[0]) {
		if (jv_get_kind(msg) == JV_KIND_STRING)
			snprintf(q->err, sizeof q->err, "%.*s",
				(int)strcspn(jv_string_value(msg), "\n"),
				jv_string_value(msg));
		else
			snprintf(q->err, sizeof q->err, "jq error");
	}
	jv_free(msg);
}

struct tf_notify_jq *
tf_notify_jq_create(const char *program, char *err, size_t errlen)
{
	struct tf_notify_jq *q = calloc(1, sizeof *q);

	if (!q || !(q->jq = jq_init())) {
		free(q);
		tf_seterr(err, errlen, "out of memory");
		return NULL;
	}
	jq_set_error_cb(q->jq, on_error, q);
	if (!jq_compile(q->jq, program)) {
		tf_seterr(err, errlen, "invalid jq program: %s",
			q->err[0] ? q->err : program);
		tf_notify_jq_destroy(q);
		return NULL;
	}
	return q;
}

void
tf_notify_jq_destroy(struct tf_notify_jq *q)
{
	if (!q)
		return;
	jq_teardown(&q->jq);
	free(q);
}

char *
tf_notify_jq_text(struct tf_notify_jq *q, const char *line, size_t len,
	size_t *outlen, char *err, size_t errlen)
{
	jv in = jv_parse_sized(line, (int)len), out, s;
	char *text = NULL;

	if (!jv_is_valid(in)) {
		jv_free(in);
		tf_seterr(err, errlen, "not JSON");
		return NULL;
	}
	jq_start(q->jq, in, 0);
	out = jq_next(q->jq);
	if (!jv_is_valid(out)) {
		if (jv_invalid_has_msg(jv_copy(out))) {
			jv msg = jv_invalid_get_msg(out);

			tf_seterr(err, errlen, "jq: %s",
				jv_get_kind(msg) == JV_KIND_STRING ?
					jv_string_value(msg) : "error");
			jv_free(msg);
		} else {
			jv_free(out);
			tf_seterr(err, errlen, "jq: no output");
		}
		return NULL;
	}
	s = jv_get_kind(out) == JV_KIND_STRING ? out : jv_dump_string(out, 0);
	*outlen = (size_t)jv_string_length_bytes(jv_copy(s));
	if ((text = malloc(*outlen + 1))) {
		memcpy(text, jv_string_value(s), *outlen);
		text[*outlen] = '\0';
	} else {
		tf_seterr(err, errlen, "out of memory");
	}
	jv_free(s);
	/* Drain further outputs so the next line starts clean. */
	while (jv_is_valid(out = jq_next(q->jq)))
		jv_free(out);
	jv_free(out);
	return text;
}
