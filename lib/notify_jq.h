/* notify_jq.h: a jq program whose output is text: tf-notify's --format
 * (a webhook body) and --dedupe-key. The jv rule of lib/filter.h holds. */
#ifndef TF_NOTIFY_JQ_H
#define TF_NOTIFY_JQ_H

#include <stddef.h>

struct tf_notify_jq;

/* Compiles program; NULL with err filled. */
struct tf_notify_jq *tf_notify_jq_create(const char *program, char *err,
	size_t errlen);
void tf_notify_jq_destroy(struct tf_notify_jq *q);

/* Runs the program on line[0..len): its first output as text (a string
 * as itself, anything else as compact JSON), malloc'd, its length in
 * *outlen; NULL with err filled when the program fails or has no
 * output. */
char *tf_notify_jq_text(struct tf_notify_jq *q, const char *line, size_t len,
	size_t *outlen, char *err, size_t errlen);

#endif
