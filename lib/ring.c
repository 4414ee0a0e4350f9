/* ring.c: messages framed once and shared, and the bounded ring that
 * keeps the recent ones for slow clients and resumes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"
#include "wsproto.h"

#define TOPIC_MAX 1024

static size_t
msg_size(const struct tf_msg *m)
{
	return sizeof *m + m->plain_len + m->v1_len;
}

/* The envelope up to "data": into buf (6 * TOPIC_MAX + 256 bytes: the
 * epoch is at most 64). */
static size_t
envelope_head(char *buf, uint64_t seq, const char *topic, const char *epoch,
	int snapshot)
{
	size_t n, tl = strnlen(topic, TOPIC_MAX);

	n = (size_t)sprintf(buf, "{\"type\":\"event\",\"seq\":%llu,"
		"\"epoch\":\"%s\",\"topic\":", (unsigned long long)seq, epoch);
	n += tf_json_escape(buf + n, topic, tl);
	if (snapshot) {
		memcpy(buf + n, ",\"snapshot\":true", 16);
		n += 16;
	}
	memcpy(buf + n, ",\"data\":", 8);
	return n + 8;
}

struct tf_msg *
tf_msg_create(uint64_t seq, uint64_t eseq, uint32_t topic,
	const char *topic_name, const char *epoch, const char *line,
	size_t len)
{
	char head[6 * TOPIC_MAX + 256];
	unsigned char hdr[TF_WS_HEADER_MAX];
	size_t hn = envelope_head(head, eseq, topic_name, epoch, 0);
	size_t vlen = hn + len + 1, h1, h2;
	struct tf_msg *m;
	unsigned char *p;

	if (len > UINT32_MAX / 2)
		return NULL;
	h1 = tf_ws_header(hdr, TF_WS_TEXT, len);
	h2 = tf_ws_header(hdr, TF_WS_TEXT, vlen);
	m = malloc(sizeof *m + h1 + len + h2 + vlen);
	if (!m)
		return NULL;
	m->seq = seq;
	m->eseq = eseq;
	m->topic = topic;
	m->refs = 1;
	m->snap = NULL;
	m->snap_len = 0;
	p = m->data;
	p += tf_ws_header(p, TF_WS_TEXT, len);
	m->line_off = (uint32_t)(p - m->data);
	m->line_len = (uint32_t)len;
	memcpy(p, line, len);
	p += len;
	m->plain_len = (uint32_t)(p - m->data);
	p += tf_ws_header(p, TF_WS_TEXT, vlen);
	memcpy(p, head, hn);
	memcpy(p + hn, line, len);
	p[hn + len] = '}';
	m->v1_len = (uint32_t)(h2 + vlen);
	return m;
}

void
tf_msg_ref(struct tf_msg *m)
{
	m->refs++;
}

void
tf_msg_unref(struct tf_msg *m)
{
	if (!m || --m->refs)
		return;
	free(m->snap);
	free(m);
}

const unsigned char *
tf_msg_snapshot(struct tf_msg *m, const char *topic_name, const char *epoch,
	size_t *len)
{
	char head[6 * TOPIC_MAX + 256];
	size_t hn, vlen, h;
	unsigned char *p;

	if (m->snap) {
		*len = m->snap_len;
		return m->snap;
	}
	hn = envelope_head(head, m->eseq, topic_name, epoch, 1);
	vlen = hn + m->line_len + 1;
	p = malloc(TF_WS_HEADER_MAX + vlen);
	if (!p)
		return NULL;
	h = tf_ws_header(p, TF_WS_TEXT, vlen);
	memcpy(p + h, head, hn);
	memcpy(p + h + hn, tf_msg_line(m), m->line_len);
	p[h + hn + m->line_len] = '}';
	m->snap = p;
	m->snap_len = (uint32_t)(h + vlen);
	*len = m->snap_len;
	return p;
}

struct tf_ring {
	struct tf_msg **slot;
	size_t cap, max_bytes, bytes;
	uint64_t first, next, dropped;
};

struct tf_ring *
tf_ring_create(size_t max_msgs, size_t max_bytes)
{
	struct tf_ring *r = calloc(1, sizeof *r);

	if (!r)
		return NULL;
	r->cap = max_msgs ? max_msgs : 1;
	r->slot = calloc(r->cap, sizeof *r->slot);
	if (!r->slot) {
		free(r);
		return NULL;
	}
	r->max_bytes = max_bytes;
	r->first = r->next = 1;
	return r;
}

static void
drop_oldest(struct tf_ring *r)
{
	struct tf_msg **s = &r->slot[r->first % r->cap];

	r->bytes -= msg_size(*s);
	r->dropped = (*s)->eseq;
	tf_msg_unref(*s);
	*s = NULL;
	r->first++;
}

void
tf_ring_destroy(struct tf_ring *r)
{
	if (!r)
		return;
	while (r->first < r->next)
		drop_oldest(r);
	free(r->slot);
	free(r);
}

size_t
tf_ring_push(struct tf_ring *r, struct tf_msg *m)
{
	size_t dropped = 0;

	if (r->next - r->first == r->cap) {
		drop_oldest(r);
		dropped++;
	}
	tf_msg_ref(m);
	r->slot[r->next % r->cap] = m;
	r->next++;
	r->bytes += msg_size(m);
	while (r->max_bytes && r->bytes > r->max_bytes &&
	    r->next - r->first > 1) {
		drop_oldest(r);
		dropped++;
	}
	return dropped;
}

struct tf_msg *
tf_ring_get(const struct tf_ring *r, uint64_t seq)
{
	if (seq < r->first || seq >= r->next)
		return NULL;
	return r->slot[seq % r->cap];
}

uint64_t
tf_ring_first(const struct tf_ring *r)
{
	return r->first;
}

uint64_t
tf_ring_next(const struct tf_ring *r)
{
	return r->next;
}

size_t
tf_ring_bytes(const struct tf_ring *r)
{
	return r->bytes;
}

uint64_t
tf_ring_dropped(const struct tf_ring *r)
{
	return r->dropped;
}

size_t
tf_ring_count(const struct tf_ring *r)
{
	return (size_t)(r->next - r->first);
}
