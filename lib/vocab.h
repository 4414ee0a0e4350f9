/* vocab.h: the event vocabulary: which topic each type belongs to, the
 * well-known fields, priorities. The one place the table lives. */
#ifndef TF_VOCAB_H
#define TF_VOCAB_H

#include <stddef.h>
#include <stdint.h>
#include "scan.h"

/* The well-known top-level fields of an event line. */
struct tf_event {
	struct tf_span type, topic, symbol, ts, priority;
};

/* Validates a line and finds its well-known fields (tf_scan). */
enum tf_scan_status tf_event_scan(const char *s, size_t n,
	struct tf_event *ev, struct tf_scan_error *e);

struct tf_line;

/* Checks an input line against the line contract (within --max-line, JSON,
 * an object, valid UTF-8) and finds its well-known fields. Returns 0 for a
 * good line, 1 for a blank one (skipped silently, not counted), or -1 with
 * why filled: "invalid JSON: unexpected '}' at byte 17". */
int tf_event_check(const struct tf_line *l, struct tf_event *ev, char *why,
	size_t size);

/* The topic of a type from the table, or "other". */
const char *tf_vocab_topic(const char *type, size_t len);

/* The topic of an event: its explicit "topic" string if it has one, else
 * the table's topic of its "type". Writes into buf (NUL-terminated) and
 * returns buf; a topic that does not fit, or is not a string, gives
 * "other". */
const char *tf_event_topic(const struct tf_event *ev, char *buf,
	size_t size);

/* One row of the table, for docs and tests. */
struct tf_vocab_entry {
	const char *type;
	const char *topic;
};
/* The table, terminated by a {NULL, NULL} row. */
extern const struct tf_vocab_entry tf_vocab[];

enum tf_priority {
	TF_PRIO_LOW = 0,
	TF_PRIO_MEDIUM,
	TF_PRIO_HIGH,
	TF_PRIO_CRITICAL,
};
/* "low".."critical" (case-insensitive) to 0..3, or -1. */
int tf_priority_parse(const char *s, size_t n);

/* The time of an event's "ts": epoch milliseconds as a number, or a string
 * tf_parse_time reads (RFC 3339, epoch seconds or milliseconds), in ns
 * since the epoch. Returns 0, or -1 when ts is absent or unreadable. */
int tf_event_time_ns(const struct tf_span *ts, int64_t *ns);
const char *tf_priority_name(int prio);

#endif
