/* notify_text.h: the title and message of a notification, from templates
 * (lib/template) given by the user or, by default, one pair per event
 * type of the vocabulary. */
#ifndef TF_NOTIFY_TEXT_H
#define TF_NOTIFY_TEXT_H

#include <stddef.h>
#include <stdint.h>

struct tf_notify_text;

/* title and message: templates, or NULL for the defaults of each type.
 * Returns NULL with err filled on a template error. */
struct tf_notify_text *tf_notify_text_create(const char *title,
	const char *message, char *err, size_t errlen);
void tf_notify_text_destroy(struct tf_notify_text *t);

/* Renders the title and message of line[0..len) (a JSON object) into the
 * caller's buffers (NUL-terminated, cut at a UTF-8 boundary). prio is the
 * event's priority, id its number. */
void tf_notify_text_render(const struct tf_notify_text *t, const char *line,
	size_t len, int prio, uint64_t id, char *title, size_t tsize,
	char *message, size_t msize);

/* The variables templates may use, NULL-terminated (for --help). */
extern const char *const tf_notify_text_vars[];

#endif
