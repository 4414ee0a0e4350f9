/* notify_report.c: delivery reports as JSON lines, and requests described
 * with their secrets masked. */
#include <jv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify_report.h"

struct tf_report *
tf_report_create(const char *channel, const char *destination,
	const char *id, uint64_t line, unsigned parts)
{
	struct tf_report *r = calloc(1, sizeof *r);

	if (!r)
		return NULL;
	r->channel = channel;
	r->line = line;
	r->left = r->parts = parts;
	if ((destination && !(r->destination = strdup(destination))) ||
	    (id && !(r->id = strdup(id)))) {
		tf_report_destroy(r);
		return NULL;
	}
	return r;
}

void
tf_report_destroy(struct tf_report *r)
{
	if (!r)
		return;
	free(r->destination);
	free(r->id);
	free(r->error);
	free(r);
}

int
tf_report_add(struct tf_report *r, const struct tf_result *res)
{
	if (res->attempts > r->attempts)
		r->attempts = res->attempts;
	/* The status of the first failure, else of the last success. */
	if (res->http_status && !r->failed)
		r->http_status = res->http_status;
	if (!res->sent && !r->failed) {
		r->failed = 1;
		r->http_status = res->http_status;
		r->error = strdup(res->error ? res->error : "failed");
	}
	return r->left && --r->left == 0;
}

/* A JSON string of s with every secret masked; on ENOMEM "***" for the
 * whole of it: nothing goes out unmasked. */
static jv
masked(const struct tf_redact *rd, const char *s, size_t n)
{
	char *m = tf_redact(rd, s, n, &n);
	jv v;

	if (!m)
		return jv_string(TF_REDACT_MASK);
	v = jv_string_sized(m, (int)n);
	free(m);
	return v;
}

static jv
masked_str(const struct tf_redact *rd, const char *s)
{
	return masked(rd, s, strlen(s));
}

/* The alert's id: a string masked (it is the alert's own text). */
static jv
masked_id(const struct tf_redact *rd, const char *id)
{
	jv v = jv_parse(id), m;

	if (jv_get_kind(v) != JV_KIND_STRING)
		return v;
	m = masked_str(rd, jv_string_value(v));
	jv_free(v);
	return m;
}

static char *
dump(jv o)
{
	jv s = jv_dump_string(o, 0);
	char *text = strdup(jv_string_value(s));

	jv_free(s);
	return text;
}

char *
tf_report_json(const struct tf_report *r, const char *status,
	const char *error, const struct tf_redact *rd)
{
	jv o = jv_object();

	if (!error)
		error = r->error;
	o = jv_object_set(o, jv_string("channel"), jv_string(r->channel));
	o = jv_object_set(o, jv_string("status"), jv_string(status));
	o = jv_object_set(o, jv_string("attempts"), jv_number(r->attempts));
	o = jv_object_set(o, jv_string("http_status"),
		r->http_status ? jv_number(r->http_status) : jv_null());
	o = jv_object_set(o, jv_string("error"),
		error ? masked_str(rd, error) : jv_null());
	o = jv_object_set(o, jv_string("id"), r->id ?
		masked_id(rd, r->id) : jv_number((double)r->line));
	o = jv_object_set(o, jv_string("line"), jv_number((double)r->line));
	o = jv_object_set(o, jv_string("destination"),
		masked_str(rd, r->destination ? r->destination : ""));
	if (r->parts > 1)
		o = jv_object_set(o, jv_string("parts"), jv_number(r->parts));
	return dump(o);
}

char *
tf_report_alert_id(const char *line, size_t len)
{
	jv o = jv_parse_sized(line, (int)len), id;

	if (jv_get_kind(o) != JV_KIND_OBJECT) {
		jv_free(o);
		return NULL;
	}
	id = jv_object_get(o, jv_string("id"));
	if (jv_get_kind(id) == JV_KIND_STRING ||
	    jv_get_kind(id) == JV_KIND_NUMBER)
		return dump(id);
	jv_free(id);
	return NULL;
}

char *
tf_request_describe(const struct tf_request *r, const struct tf_redact *rd)
{
	jv o = jv_object(), h = jv_array();
	size_t i;

	o = jv_object_set(o, jv_string("dry_run"), jv_true());
	o = jv_object_set(o, jv_string("channel"),
		jv_string(r->channel->def->name));
	o = jv_object_set(o, jv_string("method"),
		jv_string(r->method ? r->method : "SEND"));
	o = jv_object_set(o, jv_string("url"), masked_str(rd, r->url_masked));
	for (i = 0; i < r->nheaders; i++) {
		if (i < 32 && (r->secret_headers >> i & 1)) {
			char *n = strndup(r->headers[i],
				strcspn(r->headers[i], ":"));

			h = jv_array_append(h, jv_string_fmt("%s: ***",
				n ? n : ""));
			free(n);
		} else {
			h = jv_array_append(h, masked_str(rd, r->headers[i]));
		}
	}
	o = jv_object_set(o, jv_string("headers"), h);
	if (r->mail_from)
		o = jv_object_set(o, jv_string("mail_from"),
			masked_str(rd, r->mail_from));
	o = jv_object_set(o, jv_string("destination"),
		masked_str(rd, r->destination));
	o = jv_object_set(o, jv_string("body"), masked(rd, r->body ?
		r->body : "", r->body_len));
	return dump(o);
}
