/* envelope.h: reading tf(7)'s tf.v1 event envelope, one per line, as
 * tf-sub --envelope writes it: the input of tf-record, tf-broadcast and
 * tf-serve under --input envelope. */
#ifndef TF_ENVELOPE_H
#define TF_ENVELOPE_H

#include <stdint.h>

#include "line.h"
#include "vocab.h"

/* The longest epoch taken (bytes); a stream's is 16. */
#define TF_ENVELOPE_EPOCH_MAX 64

/* One envelope line: an event, or a gap (events from..to missed
 * upstream). */
struct tf_envelope {
	int gap;
	uint64_t seq, from, to;	/* each from 1 to INT64_MAX */
	char epoch[TF_ENVELOPE_EPOCH_MAX + 1];	/* plain text: no escapes */
	char topic[129];	/* decoded; "" when absent, not a string or
				 * longer */
	struct tf_line data;	/* the event inside, byte for byte; it points
				 * into the line read */
};

/* Checks an envelope line against the line contract and tf(7) and finds
 * its parts; ev gets the well-known fields of the event inside. Returns 0
 * for a good one, 1 for a blank line, -1 with why filled ("envelope: no
 * \"seq\""). */
int tf_envelope_check(const struct tf_line *l, struct tf_envelope *e,
	struct tf_event *ev, char *why, size_t size);

#endif
