/* template.h: text templates for alert titles and messages ("{symbol}
 * crossed above {level}", "{.data.side} {.quantity}"), compiled once and
 * rendered per alert into a bounded buffer. Shared by tf-alert and
 * tf-notify. */
#ifndef TF_TEMPLATE_H
#define TF_TEMPLATE_H

#include <stddef.h>

/* The syntax: "{name}" is a variable the caller resolves; "{.a.b[0]}" is a
 * field of the event (a path of .key, ."quoted key" and [index] steps);
 * "{{" and "}}" are literal braces; any other text is copied. */
struct tf_template;

/* Compiles text. vars is the NULL-terminated list of variable names the
 * caller resolves (NULL: no variables); a name outside it is an error.
 * Returns NULL with err filled ("unknown placeholder {foo} (known: ...)",
 * "unclosed '{'"). The template copies what it needs from text. */
struct tf_template *tf_template_create(const char *text,
	const char *const *vars, char *err, size_t errlen);
void tf_template_destroy(struct tf_template *t);

/* Writes the text of variable var (an index into the vars given to
 * tf_template_create) into buf (size bytes, NUL-terminated: what is left
 * of the output, so a value is bounded by the output alone), returns the
 * length of the whole value, as snprintf does (size or more: it was cut);
 * an unknown value is written as "". A value cut at a byte (as snprintf
 * cuts) is taken back to a whole UTF-8 character, and nothing after a cut
 * value follows it. */
typedef size_t tf_template_var_fn(int var, char *buf, size_t size,
	void *arg);

/* Renders t into out (size bytes, always NUL-terminated when size > 0).
 * Variables come from fn(var, ..., arg); event paths from line[0..len),
 * a JSON object (may be NULL: paths render as ""). A string field renders
 * as its text, null or a missing field as "", anything else as compact
 * JSON. Output longer than size - 1 is cut at a UTF-8 character boundary,
 * and nothing after the cut follows it: the output is always the start of
 * the whole text. Returns the length written. */
size_t tf_template_render(const struct tf_template *t, tf_template_var_fn *fn,
	void *arg, const char *line, size_t len, char *out, size_t size);

/* Formats a number for people: the shortest form that reads back the same
 * (up to 15 significant digits), thousands grouped with ',', a single
 * decimal padded to two: 70000 -> "70,000", 70012.5 -> "70,012.50",
 * 0.000012 -> "0.000012"; from 1e15 up and under 1e-15 with an exponent
 * ("1e+15", "1e-20"); nan and inf as "nan", "inf". A number that does
 * not fit in size - 1 bytes is not cut (part of it would read as another
 * number): buf gets "". Returns the length of the number, as snprintf
 * does: size or more when it did not fit. */
size_t tf_template_number(double v, char *buf, size_t size);

#endif
