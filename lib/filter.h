/* filter.h: jq programs compiled once and run per line (--filter).
 *
 * The jv rule, kept everywhere in tf: jv_* functions consume their jv
 * arguments; jv_copy() keeps one; always reassign (a = jv_array_append(a,
 * x)). A jv_string_value() pointer lives only as long as its jv. */
#ifndef TF_FILTER_H
#define TF_FILTER_H

#include <jv.h>
#include <stddef.h>

struct tf_filter;

/* Compiles program. Returns NULL with err filled on a compile error. */
struct tf_filter *tf_filter_create(const char *program, char *err,
	size_t errlen);
void tf_filter_destroy(struct tf_filter *f);

/* Runs the program on one JSON line: 1 when its first output is neither
 * false nor null, 0 when it is or there is none, -1 with err filled when the
 * line does not parse or the program fails on it. */
int tf_filter_match(struct tf_filter *f, const char *line, size_t len,
	char *err, size_t errlen);

/* The same on a line parsed already (jv_parse_sized's answer, invalid
 * when it did not parse), so that several programs share one parse. Takes
 * in: pass jv_copy() to keep it. */
int tf_filter_match_jv(struct tf_filter *f, jv in, char *err, size_t errlen);

#endif
