/* store.h: a recording: SQLite in WAL mode holding sessions, and per event
 * the raw line, its arrival time (wall clock, ns) and its indexed fields.
 * One writer appends in batched transactions through one prepared
 * statement; any number of readers may play it at the same time. */
#ifndef TF_STORE_H
#define TF_STORE_H

#include <stddef.h>
#include <stdint.h>

struct tf_store;

enum {
	TF_STORE_READ = 0,	/* read only; the file must exist */
	TF_STORE_WRITE = 1,	/* create if missing */
	TF_STORE_DURABLE = 2,	/* synchronous=FULL (with WRITE) */
};

/* Opens (and, for WRITE, creates or upgrades) a recording. Returns NULL with
 * err filled: missing file, not a tf recording, not writable, ... */
struct tf_store *tf_store_open(const char *path, int flags, char *err,
	size_t errlen);
/* After opening path for WRITE or its first write failed: replaces err
 * with what the file system refuses and what a recording needs, and
 * returns 1: "PATH: cannot create it: the directory DIR is not writable
 * (Permission denied)", "PATH: the file is not writable (...)", "PATH:
 * the directory DIR is not writable (...), and SQLite's WAL mode needs
 * NAME-wal and NAME-shm there". Returns 0, err untouched, when it finds
 * no such cause. */
int tf_store_explain(const char *path, char *err, size_t errlen);
/* Commits an open batch (ignoring errors: call tf_store_commit first to see
 * them) and closes. NULL does nothing. */
void tf_store_close(struct tf_store *st);

/* --- writing --- */

/* Starts a session named name at start_ns; returns its id, or -1. */
int64_t tf_store_session_begin(struct tf_store *st, const char *name,
	int64_t start_ns, char *err, size_t errlen);
/* Appends one line to the current session inside the open batch (one is
 * begun when none is). type/topic/symbol may be NULL (stored as NULL); they
 * are NUL-terminated. Returns 0, or -1 with err filled (disk full, I/O):
 * then the open batch is rolled back, its rows and this line count as lost
 * (tf_store_lost), and the next append begins a new batch. */
int tf_store_append(struct tf_store *st, int64_t ts_ns, const char *line,
	size_t len, const char *type, const char *topic, const char *symbol,
	char *err, size_t errlen);
/* The longest epoch tf_store_append_seq takes. */
#define TF_STORE_EPOCH_MAX 64
/* As tf_store_append, for an event of a sequenced stream (tf.v1 envelope
 * input): seq and epoch are stored in the row itself, so they are
 * committed with it or not at all. An event whose seq is not above the
 * last one stored of the same epoch (committed or in the open batch) is
 * not stored: returns 1 (a restart that overlaps what was recorded).
 * Returns 0 when appended, -1 as tf_store_append, or -2 with err filled
 * for an epoch longer than TF_STORE_EPOCH_MAX or a seq past INT64_MAX
 * (nothing stored, nothing lost). epoch NULL: as tf_store_append. */
int tf_store_append_seq(struct tf_store *st, int64_t ts_ns, const char *line,
	size_t len, const char *type, const char *topic, const char *symbol,
	uint64_t seq, const char *epoch, char *err, size_t errlen);
/* Rows appended since the last commit. */
uint64_t tf_store_pending(const struct tf_store *st);
/* Commits the open batch, if any. Returns 0, or -1 with err filled: then
 * the batch is rolled back and its rows count as lost. Either way the store
 * stays usable: a later batch may succeed (a disk that frees up). */
int tf_store_commit(struct tf_store *st, char *err, size_t errlen);
/* Rows committed since the store was opened. */
uint64_t tf_store_committed(const struct tf_store *st);
/* Rows lost since the store was opened (appended, then rolled back by a
 * failure), and in *why, when why is not NULL, SQLite's words for the
 * latest loss ("" when none); *why lives until the next call on st. */
uint64_t tf_store_lost(const struct tf_store *st, const char **why);
/* Commits (as tf_store_commit) and marks the current session ended at
 * end_ns. */
int tf_store_session_end(struct tf_store *st, int64_t end_ns, char *err,
	size_t errlen);

/* --- reading --- */

struct tf_session {
	int64_t id;
	char *name;
	int64_t start_ns;	/* when the recorder started */
	int64_t end_ns;		/* when it ended; 0 while recording or killed */
	int64_t count;		/* events */
	int64_t first_ns, last_ns; /* arrival of first/last event, 0 if none */
};

/* Every session, oldest first. *list is the caller's: free it with
 * tf_sessions_free. Returns 0, or -1 with err filled. */
int tf_store_sessions(struct tf_store *st, struct tf_session **list,
	size_t *n, char *err, size_t errlen);
void tf_sessions_free(struct tf_session *list, size_t n);

/* The id of the newest event (0 when there is none), or -1 with err
 * filled. Rows committed later have larger ids. */
int64_t tf_store_last_id(struct tf_store *st, char *err, size_t errlen);

/* The seq and epoch of the newest row that has one (epoch into a buffer of
 * size bytes): 1, or 0 when no row has one (a plain or a version 1
 * recording), or -1 with err filled. */
int tf_store_last_seq(struct tf_store *st, uint64_t *seq, char *epoch,
	size_t size, char *err, size_t errlen);

/* What a cursor returns; every condition is optional. */
struct tf_query {
	const int64_t *sessions;	/* ids; NULL or n_sessions 0 = all */
	size_t n_sessions;
	int64_t from_ns, to_ns;		/* arrival time in [from, to); 0 = open */
	const char *type, *topic, *symbol; /* exact match; NULL = any */
	int64_t after_id;		/* rows with a larger id only */
};

struct tf_row {
	int64_t id, session, ts_ns;
	const char *line;	/* valid until the next tf_cursor_next */
	size_t len;
};

struct tf_cursor;

/* Rows matching q in id order (arrival order). The cursor keeps no copy of
 * q's strings: they must outlive it. Returns NULL with err filled. */
struct tf_cursor *tf_cursor_open(struct tf_store *st, const struct tf_query *q,
	char *err, size_t errlen);
/* 1 and *row filled, 0 at the end, -1 with err filled. After 0 the cursor
 * may be rewound and stepped again (to follow new rows, or to loop). */
int tf_cursor_next(struct tf_cursor *c, struct tf_row *row, char *err,
	size_t errlen);
/* Restarts the query with rows after after_id (0: from the start). */
int tf_cursor_rewind(struct tf_cursor *c, int64_t after_id, char *err,
	size_t errlen);
/* The number of rows the query matches, without stepping them. */
int64_t tf_cursor_count(struct tf_cursor *c, char *err, size_t errlen);
void tf_cursor_close(struct tf_cursor *c);

#endif
