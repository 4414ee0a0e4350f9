/* ring.h: the hub's shared messages. Each input line is framed once (a
 * plain WebSocket text frame of the line and a tf.v1 frame of its
 * envelope), reference-counted, and kept in a ring bounded by count and
 * bytes, indexed by the hub's own count of messages (1, 2, 3...), which
 * is the seq clients see unless the input brings its own (--input
 * envelope: increasing, not consecutive). */
#ifndef TF_RING_H
#define TF_RING_H

#include <stddef.h>
#include <stdint.h>

struct tf_msg {
	uint64_t seq;		/* the ring's index */
	uint64_t eseq;		/* the seq in its envelope, what clients see */
	uint32_t topic;		/* the hub's topic id */
	uint32_t refs;
	uint32_t plain_len;	/* header + line */
	uint32_t v1_len;	/* header + envelope */
	uint32_t line_off;	/* the line inside the plain frame */
	uint32_t line_len;
	uint32_t snap_len;
	unsigned char *snap;	/* tf.v1 snapshot frame, built on demand */
	unsigned char data[];	/* plain frame, then tf.v1 frame */
};

/* A message of refcount 1 for line[0..len), with the ring's index seq,
 * topic id, and the seq (eseq), the topic's name and the stream's epoch
 * for its envelope (topic at most 1024 bytes). Returns NULL on ENOMEM. */
struct tf_msg *tf_msg_create(uint64_t seq, uint64_t eseq, uint32_t topic,
	const char *topic_name, const char *epoch, const char *line,
	size_t len);
void tf_msg_ref(struct tf_msg *m);
/* Drops a reference; frees the message with the last one. NULL is fine. */
void tf_msg_unref(struct tf_msg *m);

static inline const unsigned char *
tf_msg_plain(const struct tf_msg *m)
{
	return m->data;
}

static inline const unsigned char *
tf_msg_v1(const struct tf_msg *m)
{
	return m->data + m->plain_len;
}

static inline const char *
tf_msg_line(const struct tf_msg *m)
{
	return (const char *)m->data + m->line_off;
}

/* The tf.v1 frame of the message marked "snapshot":true, built on first
 * use and kept with the message; *len set. NULL on ENOMEM. */
const unsigned char *tf_msg_snapshot(struct tf_msg *m, const char *topic_name,
	const char *epoch, size_t *len);

struct tf_ring;

/* A ring keeping at most max_msgs messages and max_bytes of them (the
 * newest message is always kept). NULL on ENOMEM. */
struct tf_ring *tf_ring_create(size_t max_msgs, size_t max_bytes);
void tf_ring_destroy(struct tf_ring *r);

/* Appends m (whose seq must be the ring's next) taking a reference, and
 * drops the oldest messages past the bounds. Returns how many it
 * dropped. */
size_t tf_ring_push(struct tf_ring *r, struct tf_msg *m);

/* The message of index seq, or NULL when it is not (or no longer) kept. */
struct tf_msg *tf_ring_get(const struct tf_ring *r, uint64_t seq);

/* The oldest seq kept (== next when empty), and the seq the next push
 * takes. */
uint64_t tf_ring_first(const struct tf_ring *r);
uint64_t tf_ring_next(const struct tf_ring *r);
size_t tf_ring_bytes(const struct tf_ring *r);
/* The eseq of the newest message dropped (0: none yet). */
uint64_t tf_ring_dropped(const struct tf_ring *r);
size_t tf_ring_count(const struct tf_ring *r);

#endif
