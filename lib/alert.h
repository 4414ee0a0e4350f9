/* alert.h: the alert rule engine: rules in (JSON), event lines in, alert
 * event lines out. No I/O: the caller reads files and writes lines, so any
 * program (tf-alert, tf-serve) can run the same rules. */
#ifndef TF_ALERT_H
#define TF_ALERT_H

#include <stddef.h>
#include <stdint.h>

/* Settings for every rule of an engine; rules that do not set their own
 * priority, cooldown or hysteresis take these. */
struct tf_alert_config {
	int priority;		/* enum tf_priority; default medium */
	int64_t cooldown_ns;	/* default 0: no cooldown */
	const char *hysteresis;	/* "0.5" (absolute), "0.1%" (of level) */
	int initial;		/* a cross rule fires on the first value
				 * seen if it is already past its level */
	size_t max_symbols;	/* symbols per rule (default 10000) */
	size_t max_points;	/* points per move deque (default 100000) */
	const char *source;	/* alerts' "source" (default tf-alert) */
};

struct tf_alert;

/* Returns a new engine with no rules, or NULL on ENOMEM. cfg is copied
 * (its strings must outlive the engine). */
struct tf_alert *tf_alert_create(const struct tf_alert_config *cfg);
void tf_alert_destroy(struct tf_alert *a);

/* Adds the rules of text[0..len): a JSON array of rule objects, or an
 * object {"rules": [...]}. Returns the number added, or -1 with err filled
 * as "rule 3 (btc-70k): unknown key 'abov'"; on error no rule of text is
 * kept. */
int tf_alert_load(struct tf_alert *a, const char *text, size_t len,
	char *err, size_t errlen);

/* Adds one rule, a JSON object text. Returns 0, or -1 with err filled with
 * the reason alone. */
int tf_alert_add(struct tf_alert *a, const char *rule, char *err,
	size_t errlen);

/* The number of rules. */
size_t tf_alert_count(const struct tf_alert *a);

/* Rule i's id (alerts carry it as "rule") and priority (enum
 * tf_priority), for i < tf_alert_count, in the order rules were added.
 * The id lives as long as the engine. */
const char *tf_alert_rule_id(const struct tf_alert *a, size_t i);
int tf_alert_rule_priority(const struct tf_alert *a, size_t i);

/* What a rule set needs from the caller while it runs. emit gets each
 * alert, a JSON object line without "\n" (valid during the call); warn gets
 * non-fatal problems of the current line ("rule r1: jq: ..."). */
typedef void tf_alert_emit_fn(const char *line, size_t len, void *arg);
typedef void tf_alert_warn_fn(const char *msg, void *arg);
struct tf_alert_out {
	tf_alert_emit_fn *emit;
	tf_alert_warn_fn *warn;
	void *arg;
};

/* Runs every rule, in order, on one event line (a JSON object already
 * checked by tf_event_check). now_ns is the arrival time, used as event
 * time when the line has no usable "ts". Returns the number of alerts
 * emitted. */
int tf_alert_feed(struct tf_alert *a, const char *line, size_t len,
	int64_t now_ns, const struct tf_alert_out *out);

/* Nonzero when the state (armed/disarmed, last fire times) changed since
 * the last tf_alert_state_dump. */
int tf_alert_state_dirty(const struct tf_alert *a);

/* The state as JSON text (malloc'd, NUL-terminated; the caller frees it),
 * or NULL on ENOMEM. Clears the dirty mark. */
char *tf_alert_state_dump(struct tf_alert *a);

/* Restores state dumped earlier. Entries of rules that no longer exist, or
 * whose definition changed, are ignored. Returns the number of entries
 * restored, or -1 with err filled when text is not a state dump (nothing
 * is restored then). */
int tf_alert_state_restore(struct tf_alert *a, const char *text, size_t len,
	char *err, size_t errlen);

#endif
