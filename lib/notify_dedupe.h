/* notify_dedupe.h: fewer notifications: repeats of one key within a
 * window collapse into the first, and alerts beyond a burst limit per
 * window are held for one summary. */
#ifndef TF_NOTIFY_DEDUPE_H
#define TF_NOTIFY_DEDUPE_H

#include <stddef.h>
#include <stdint.h>

struct tf_dedupe;

/* Remembers at most max_keys keys for window_ns each. NULL on ENOMEM. */
struct tf_dedupe *tf_dedupe_create(int64_t window_ns, size_t max_keys);
void tf_dedupe_destroy(struct tf_dedupe *d);

/* 1 when key[0..n) was seen less than the window ago (a repeat), else 0
 * and the key is remembered from now on. When every slot is taken, the
 * oldest key is forgotten. */
int tf_dedupe_seen(struct tf_dedupe *d, const char *key, size_t n,
	int64_t now);

/* The burst limit: at most limit alerts per window; the rest are held. */
struct tf_burst {
	unsigned limit;		/* 0: no limit */
	int64_t window_ns;
	int64_t start;		/* when the current window began */
	unsigned count;		/* alerts in it */
	unsigned held;		/* held beyond the limit */
	int max_prio;		/* highest priority held */
	char titles[1024];	/* the first titles held, "\n"-separated */
};

/* 1: send the alert; 0: it is held (counted into the summary). */
int tf_burst_admit(struct tf_burst *b, int64_t now, const char *title,
	int prio);

/* When the window ends (tf_mono_ns) with alerts held, or -1. */
int64_t tf_burst_due(const struct tf_burst *b);

/* Ends the window if due (or force): writes the summary alert line into
 * buf (NUL-terminated JSON) and returns 1, or 0 when nothing was held. */
int tf_burst_summary(struct tf_burst *b, int64_t now, int force, char *buf,
	size_t size);

#endif
