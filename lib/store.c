/* store.c: recordings in SQLite (WAL): a sessions table and an events
 * table of raw lines with their arrival time and indexed fields. */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "store.h"

/* 'tf' in the high bytes, format 1: `PRAGMA application_id` tells a tf
 * recording from any other SQLite file. */
#define APP_ID 0x74660001
/* 2 added events.seq and events.epoch (envelope input); a version 1 file
 * opened for writing is upgraded in place. */
#define SCHEMA_VERSION 2

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS sessions("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL,"
	" start_ns INTEGER NOT NULL,"
	" end_ns INTEGER,"
	" host TEXT,"
	" pid INTEGER);"
	"CREATE TABLE IF NOT EXISTS events("
	" id INTEGER PRIMARY KEY,"
	" session INTEGER NOT NULL,"
	" ts_ns INTEGER NOT NULL,"
	" type TEXT,"
	" topic TEXT,"
	" symbol TEXT,"
	" line TEXT NOT NULL,"
	" seq INTEGER,"
	" epoch TEXT);";

/* Finds the last seq of an epoch without a scan; rows without a seq (plain
 * input) stay out of it. */
static const char seq_index[] =
	"CREATE INDEX IF NOT EXISTS events_epoch_seq ON events(epoch, seq)"
	" WHERE seq IS NOT NULL;";

struct tf_store {
	sqlite3 *db;
	sqlite3_stmt *insert;
	int64_t session;
	uint64_t pending;
	int in_txn;
	/* What the caller may claim: rows in committed batches, and rows of
	 * batches a failure rolled back, with the reason of the latest. */
	uint64_t committed, lost;
	char lost_why[256];
	/* The last seq stored (committed or in the open batch) of the epoch
	 * seq_epoch, when seq_known: saves a query per envelope. A rolled
	 * back batch forgets it. */
	int seq_known;
	uint64_t seq_last;
	char seq_epoch[TF_STORE_EPOCH_MAX + 1];
	sqlite3_stmt *last_seq;
};

static int
fail(struct tf_store *st, char *err, size_t errlen, const char *what)
{
	tf_seterr(err, errlen, "%s: %s", what, sqlite3_errmsg(st->db));
	return -1;
}

static int
exec(struct tf_store *st, const char *sql, char *err, size_t errlen)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return fail(st, err, errlen, sql);
	return 0;
}

static int
pragma_int(struct tf_store *st, const char *sql, int *out)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(s);
	*out = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* A file that already has tables must be a tf recording. */
static int
check_identity(struct tf_store *st, const char *path, char *err,
	size_t errlen)
{
	int app, tables;

	if (pragma_int(st, "PRAGMA application_id", &app) < 0 ||
	    pragma_int(st, "SELECT count(*) FROM sqlite_master", &tables) < 0)
		return fail(st, err, errlen, path);
	if (tables > 0 && app != APP_ID) {
		tf_seterr(err, errlen, "%s: not a tf recording", path);
		return -1;
	}
	return tables;
}

/* 1 when events has a column named col, 0 when not, -1 on error. */
static int
has_column(struct tf_store *st, const char *col)
{
	sqlite3_stmt *s;
	int rc, found = 0;

	if (sqlite3_prepare_v2(st->db, "PRAGMA table_info(events)", -1, &s,
		    NULL) != SQLITE_OK)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (!strcmp((const char *)sqlite3_column_text(s, 1), col))
			found = 1;
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? found : -1;
}

/* Brings a recording of an older schema up to SCHEMA_VERSION, in one
 * transaction: a version 1 file gets the seq and epoch columns (NULL in
 * its rows) and their index. Idempotent. */
static int
upgrade(struct tf_store *st, const char *path, char *err, size_t errlen)
{
	const char *cols[] = { "seq", "epoch" };
	const char *add[] = { "ALTER TABLE events ADD COLUMN seq INTEGER",
		"ALTER TABLE events ADD COLUMN epoch TEXT" };
	char sql[64];
	int version, i, has;

	if (pragma_int(st, "PRAGMA user_version", &version) < 0)
		return fail(st, err, errlen, path);
	if (version >= SCHEMA_VERSION)
		return 0;
	if (exec(st, "BEGIN IMMEDIATE", err, errlen) < 0)
		return -1;
	for (i = 0; i < 2; i++) {
		if ((has = has_column(st, cols[i])) < 0) {
			fail(st, err, errlen, path);
			goto fail;
		}
		if (!has && exec(st, add[i], err, errlen) < 0)
			goto fail;
	}
	snprintf(sql, sizeof sql, "PRAGMA user_version=%d", SCHEMA_VERSION);
	if (exec(st, seq_index, err, errlen) < 0 ||
	    exec(st, sql, err, errlen) < 0 ||
	    exec(st, "COMMIT", err, errlen) < 0)
		goto fail;
	return 0;
fail:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

struct tf_store *
tf_store_open(const char *path, int flags, char *err, size_t errlen)
{
	struct tf_store *st = calloc(1, sizeof *st);
	/* tf programs are single-threaded: no mutexes (20% of a replay). */
	int oflags = SQLITE_OPEN_NOMUTEX | ((flags & TF_STORE_WRITE) ?
		SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE :
		SQLITE_OPEN_READONLY);
	int tables;
	char sql[128];

	if (!st) {
		tf_seterr(err, errlen, "out of memory");
		return NULL;
	}
	if (!(flags & TF_STORE_WRITE) && access(path, F_OK) < 0) {
		tf_seterr(err, errlen, "%s: no such file", path);
		free(st);
		return NULL;
	}
	if (sqlite3_open_v2(path, &st->db, oflags, NULL) != SQLITE_OK) {
		fail(st, err, errlen, path);
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, 5000);
	if ((tables = check_identity(st, path, err, errlen)) < 0)
		goto fail;
	if (!(flags & TF_STORE_WRITE)) {
		if (!tables) {
			tf_seterr(err, errlen, "%s: not a tf recording", path);
			goto fail;
		}
		return st;
	}
	snprintf(sql, sizeof sql,
		"PRAGMA journal_mode=WAL; PRAGMA synchronous=%s;",
		(flags & TF_STORE_DURABLE) ? "FULL" : "NORMAL");
	if (exec(st, sql, err, errlen) < 0)
		goto fail;
	if (!tables) {
		snprintf(sql, sizeof sql,
			"PRAGMA application_id=%d; PRAGMA user_version=%d;",
			APP_ID, SCHEMA_VERSION);
		if (exec(st, "BEGIN IMMEDIATE", err, errlen) < 0 ||
		    exec(st, sql, err, errlen) < 0 ||
		    exec(st, schema, err, errlen) < 0 ||
		    exec(st, seq_index, err, errlen) < 0 ||
		    exec(st, "COMMIT", err, errlen) < 0)
			goto fail;
	}
	if (upgrade(st, path, err, errlen) < 0)
		goto fail;
	if (sqlite3_prepare_v3(st->db,
		    "INSERT INTO events(session, ts_ns, type, topic, symbol, line,"
		    " seq, epoch) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
		    -1, SQLITE_PREPARE_PERSISTENT, &st->insert, NULL) != SQLITE_OK) {
		fail(st, err, errlen, path);
		goto fail;
	}
	return st;
fail:
	sqlite3_close(st->db);
	free(st);
	return NULL;
}

/* SQLite says "unable to open database file" or "attempt to write a
 * readonly database" whatever the cause; access(2) tells which (for root
 * too, on a read-only file system). */
int
tf_store_explain(const char *path, char *err, size_t errlen)
{
	char dir[4096], wal[4160];
	const char *slash = strrchr(path, '/'), *name;
	struct stat sb;
	int i, why;

	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else if (slash == path)
		snprintf(dir, sizeof dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	name = slash ? slash + 1 : path;
	if (stat(dir, &sb) < 0) {
		tf_seterr(err, errlen, "%s: cannot create it: %s: %s", path,
			dir, strerror(errno));
		return 1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		tf_seterr(err, errlen, "%s: cannot create it: %s is not a "
			"directory", path, dir);
		return 1;
	}
	if (stat(path, &sb) < 0) {
		if (errno != ENOENT || access(dir, W_OK) == 0)
			return 0;
		tf_seterr(err, errlen, "%s: cannot create it: the directory %s "
			"is not writable (%s)", path, dir, strerror(errno));
		return 1;
	}
	if (S_ISDIR(sb.st_mode)) {
		tf_seterr(err, errlen, "%s: is a directory; the recording is a "
			"file (such as %s/tf.db)", path, path);
		return 1;
	}
	if (access(path, W_OK) < 0) {
		tf_seterr(err, errlen, "%s: the file is not writable (%s)", path,
			strerror(errno));
		return 1;
	}
	if (access(dir, W_OK) == 0)
		return 0;
	why = errno;
	/* With both beside it, writable, SQLite needs the directory no more:
	 * then the cause is another. */
	for (i = 0; i < 2; i++) {
		snprintf(wal, sizeof wal, "%s%s", path, i ? "-shm" : "-wal");
		if (access(wal, W_OK) < 0)
			break;
	}
	if (i == 2)
		return 0;
	tf_seterr(err, errlen, "%s: the directory %s is not writable (%s), and "
		"SQLite's WAL mode needs %s-wal and %s-shm there", path, dir,
		strerror(why), name, name);
	return 1;
}

void
tf_store_close(struct tf_store *st)
{
	if (!st)
		return;
	if (st->in_txn)
		sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	sqlite3_finalize(st->insert);
	sqlite3_finalize(st->last_seq);
	sqlite3_close(st->db);
	free(st);
}

int64_t
tf_store_session_begin(struct tf_store *st, const char *name,
	int64_t start_ns, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	char host[256] = "";

	gethostname(host, sizeof host - 1);
	if (sqlite3_prepare_v2(st->db,
		    "INSERT INTO sessions(name, start_ns, host, pid)"
		    " VALUES(?1, ?2, ?3, ?4)",
		    -1, &s, NULL) != SQLITE_OK)
		return fail(st, err, errlen, "session");
	sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, start_ns);
	sqlite3_bind_text(s, 3, host, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 4, getpid());
	if (sqlite3_step(s) != SQLITE_DONE) {
		fail(st, err, errlen, "session");
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	st->session = sqlite3_last_insert_rowid(st->db);
	return st->session;
}

static void
bind_opt(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

/* Ends the open batch after a failure: rolls it back, unless SQLite
 * already did (it may, after SQLITE_FULL or SQLITE_IOERR), so the file
 * keeps exactly what was committed, and counts its rows (plus extra, the
 * line whose append failed) as lost. */
static void
drop_batch(struct tf_store *st, uint64_t extra)
{
	snprintf(st->lost_why, sizeof st->lost_why, "%s",
		sqlite3_errmsg(st->db));
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->lost += st->pending + extra;
	st->seq_known = 0;
	st->in_txn = 0;
	st->pending = 0;
}

/* The largest seq stored of epoch into *seq (0: none), rows of the open
 * batch included (same connection). */
static int
epoch_last_seq(struct tf_store *st, const char *epoch, uint64_t *seq,
	char *err, size_t errlen)
{
	int rc;

	if (!st->last_seq && sqlite3_prepare_v3(st->db,
		    "SELECT coalesce(max(seq), 0) FROM events WHERE epoch = ?1"
		    " AND seq IS NOT NULL", -1, SQLITE_PREPARE_PERSISTENT,
		    &st->last_seq, NULL) != SQLITE_OK)
		return fail(st, err, errlen, "last seq");
	sqlite3_bind_text(st->last_seq, 1, epoch, -1, SQLITE_STATIC);
	rc = sqlite3_step(st->last_seq);
	*seq = rc == SQLITE_ROW ?
		(uint64_t)sqlite3_column_int64(st->last_seq, 0) : 0;
	sqlite3_reset(st->last_seq);
	if (rc != SQLITE_ROW)
		return fail(st, err, errlen, "last seq");
	return 0;
}

int
tf_store_append(struct tf_store *st, int64_t ts_ns, const char *line,
	size_t len, const char *type, const char *topic, const char *symbol,
	char *err, size_t errlen)
{
	return tf_store_append_seq(st, ts_ns, line, len, type, topic, symbol,
		0, NULL, err, errlen);
}

int
tf_store_append_seq(struct tf_store *st, int64_t ts_ns, const char *line,
	size_t len, const char *type, const char *topic, const char *symbol,
	uint64_t seq, const char *epoch, char *err, size_t errlen)
{
	int rc;

	if (epoch && strlen(epoch) > TF_STORE_EPOCH_MAX) {
		tf_seterr(err, errlen, "epoch longer than %d bytes",
			TF_STORE_EPOCH_MAX);
		return -2;
	}
	if (epoch && seq > INT64_MAX) {
		tf_seterr(err, errlen, "seq out of range");
		return -2;
	}
	if (epoch && (!st->seq_known || strcmp(epoch, st->seq_epoch))) {
		uint64_t last;

		if (epoch_last_seq(st, epoch, &last, err, errlen) < 0) {
			drop_batch(st, 1);
			return -1;
		}
		snprintf(st->seq_epoch, sizeof st->seq_epoch, "%s", epoch);
		st->seq_last = last;
		st->seq_known = 1;
	}
	if (epoch && seq <= st->seq_last)
		return 1;

	if (!st->in_txn) {
		if (exec(st, "BEGIN", err, errlen) < 0) {
			drop_batch(st, 1);
			return -1;
		}
		st->in_txn = 1;
	}
	sqlite3_bind_int64(st->insert, 1, st->session);
	sqlite3_bind_int64(st->insert, 2, ts_ns);
	bind_opt(st->insert, 3, type);
	bind_opt(st->insert, 4, topic);
	bind_opt(st->insert, 5, symbol);
	sqlite3_bind_text(st->insert, 6, line, (int)len, SQLITE_STATIC);
	if (epoch) {
		sqlite3_bind_int64(st->insert, 7, (int64_t)seq);
		sqlite3_bind_text(st->insert, 8, epoch, -1, SQLITE_STATIC);
	} else {
		sqlite3_bind_null(st->insert, 7);
		sqlite3_bind_null(st->insert, 8);
	}
	rc = sqlite3_step(st->insert);
	sqlite3_reset(st->insert);
	if (rc != SQLITE_DONE) {
		fail(st, err, errlen, "insert");
		drop_batch(st, 1);
		return -1;
	}
	st->pending++;
	if (epoch)
		st->seq_last = seq;
	return 0;
}

uint64_t
tf_store_pending(const struct tf_store *st)
{
	return st->pending;
}

int
tf_store_commit(struct tf_store *st, char *err, size_t errlen)
{
	if (!st->in_txn)
		return 0;
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		fail(st, err, errlen, "commit");
		drop_batch(st, 0);
		return -1;
	}
	st->committed += st->pending;
	st->in_txn = 0;
	st->pending = 0;
	return 0;
}

uint64_t
tf_store_committed(const struct tf_store *st)
{
	return st->committed;
}

uint64_t
tf_store_lost(const struct tf_store *st, const char **why)
{
	if (why)
		*why = st->lost_why;
	return st->lost;
}

int
tf_store_session_end(struct tf_store *st, int64_t end_ns, char *err,
	size_t errlen)
{
	sqlite3_stmt *s;
	int rc;

	if (tf_store_commit(st, err, errlen) < 0)
		return -1;
	if (sqlite3_prepare_v2(st->db,
		    "UPDATE sessions SET end_ns = ?1 WHERE id = ?2", -1, &s,
		    NULL) != SQLITE_OK)
		return fail(st, err, errlen, "session end");
	sqlite3_bind_int64(s, 1, end_ns);
	sqlite3_bind_int64(s, 2, st->session);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return fail(st, err, errlen, "session end");
	return 0;
}

int
tf_store_sessions(struct tf_store *st, struct tf_session **list, size_t *n,
	char *err, size_t errlen)
{
	sqlite3_stmt *s;
	struct tf_session *l = NULL, *grown;
	size_t cap = 0, count = 0;
	int rc;

	/* Sessions are contiguous id ranges in practice, but two recorders may
	 * share a file: aggregate by session, not by range. One scan of
	 * events for all sessions (events has no index on session: a
	 * subquery per session would scan it three times per session). */
	if (sqlite3_prepare_v2(st->db,
		    "SELECT s.id, s.name, s.start_ns, coalesce(s.end_ns, 0),"
		    " coalesce(e.n, 0), coalesce(e.lo, 0), coalesce(e.hi, 0)"
		    " FROM sessions s LEFT JOIN"
		    " (SELECT session, count(*) AS n, min(ts_ns) AS lo,"
		    "  max(ts_ns) AS hi FROM events GROUP BY session) e"
		    " ON e.session = s.id ORDER BY s.id",
		    -1, &s, NULL) != SQLITE_OK)
		return fail(st, err, errlen, "sessions");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(s, 1);

		if (count == cap) {
			cap = cap ? cap * 2 : 16;
			grown = realloc(l, cap * sizeof *l);
			if (!grown)
				break;
			l = grown;
		}
		l[count].id = sqlite3_column_int64(s, 0);
		l[count].name = strdup(name ? name : "");
		l[count].start_ns = sqlite3_column_int64(s, 2);
		l[count].end_ns = sqlite3_column_int64(s, 3);
		l[count].count = sqlite3_column_int64(s, 4);
		l[count].first_ns = sqlite3_column_int64(s, 5);
		l[count].last_ns = sqlite3_column_int64(s, 6);
		count++;
	}
	if (rc != SQLITE_DONE) {
		fail(st, err, errlen, "sessions");
		sqlite3_finalize(s);
		tf_sessions_free(l, count);
		return -1;
	}
	sqlite3_finalize(s);
	*list = l;
	*n = count;
	return 0;
}

void
tf_sessions_free(struct tf_session *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(list[i].name);
	free(list);
}

int64_t
tf_store_last_id(struct tf_store *st, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int64_t id = -1;

	if (sqlite3_prepare_v2(st->db, "SELECT coalesce(max(id), 0) FROM events",
		    -1, &s, NULL) != SQLITE_OK)
		return fail(st, err, errlen, "last id");
	if (sqlite3_step(s) == SQLITE_ROW)
		id = sqlite3_column_int64(s, 0);
	else
		fail(st, err, errlen, "last id");
	sqlite3_finalize(s);
	return id;
}

int
tf_store_last_seq(struct tf_store *st, uint64_t *seq, char *epoch,
	size_t size, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc, has;

	/* A version 1 recording has no seq column: nothing stored. */
	if ((has = has_column(st, "seq")) <= 0)
		return has < 0 ? fail(st, err, errlen, "last seq") : 0;
	if (sqlite3_prepare_v2(st->db,
		    "SELECT seq, epoch FROM events WHERE seq IS NOT NULL"
		    " ORDER BY id DESC LIMIT 1", -1, &s, NULL) != SQLITE_OK)
		return fail(st, err, errlen, "last seq");
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *e = (const char *)sqlite3_column_text(s, 1);

		*seq = (uint64_t)sqlite3_column_int64(s, 0);
		snprintf(epoch, size, "%s", e ? e : "");
	} else if (rc != SQLITE_DONE) {
		fail(st, err, errlen, "last seq");
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

struct tf_cursor {
	struct tf_store *st;
	sqlite3_stmt *rows, *count;
	struct tf_query q;
};

/* The WHERE clause of q; parameter ?1 is after_id, the rest follow. */
static int
where(const struct tf_query *q, char *buf, size_t size)
{
	size_t i, n = 0;
	int p = 2;

#define ADD(...)                                                             \
	do {                                                                 \
		int k = snprintf(buf + n, size - n, __VA_ARGS__);            \
		if (k < 0 || (size_t)k >= size - n)                          \
			return -1;                                           \
		n += (size_t)k;                                              \
	} while (0)
	ADD(" WHERE id > ?1");
	if (q->n_sessions) {
		ADD(" AND session IN (");
		for (i = 0; i < q->n_sessions; i++)
			ADD("%s?%d", i ? "," : "", p++);
		ADD(")");
	}
	if (q->from_ns)
		ADD(" AND ts_ns >= ?%d", p++);
	if (q->to_ns)
		ADD(" AND ts_ns < ?%d", p++);
	if (q->type)
		ADD(" AND type = ?%d", p++);
	if (q->topic)
		ADD(" AND topic = ?%d", p++);
	if (q->symbol)
		ADD(" AND symbol = ?%d", p++);
#undef ADD
	return 0;
}

static void
bind_query(sqlite3_stmt *s, const struct tf_query *q, int64_t after_id)
{
	size_t i;
	int p = 2;

	sqlite3_bind_int64(s, 1, after_id);
	for (i = 0; i < q->n_sessions; i++)
		sqlite3_bind_int64(s, p++, q->sessions[i]);
	if (q->from_ns)
		sqlite3_bind_int64(s, p++, q->from_ns);
	if (q->to_ns)
		sqlite3_bind_int64(s, p++, q->to_ns);
	if (q->type)
		sqlite3_bind_text(s, p++, q->type, -1, SQLITE_STATIC);
	if (q->topic)
		sqlite3_bind_text(s, p++, q->topic, -1, SQLITE_STATIC);
	if (q->symbol)
		sqlite3_bind_text(s, p++, q->symbol, -1, SQLITE_STATIC);
}

struct tf_cursor *
tf_cursor_open(struct tf_store *st, const struct tf_query *q, char *err,
	size_t errlen)
{
	struct tf_cursor *c = calloc(1, sizeof *c);
	char w[4096], sql[4200];

	if (!c || where(q, w, sizeof w) < 0) {
		tf_seterr(err, errlen, "query too large");
		free(c);
		return NULL;
	}
	c->st = st;
	c->q = *q;
	snprintf(sql, sizeof sql,
		"SELECT id, session, ts_ns, line FROM events%s ORDER BY id", w);
	if (sqlite3_prepare_v2(st->db, sql, -1, &c->rows, NULL) != SQLITE_OK)
		goto fail;
	snprintf(sql, sizeof sql, "SELECT count(*) FROM events%s", w);
	if (sqlite3_prepare_v2(st->db, sql, -1, &c->count, NULL) != SQLITE_OK)
		goto fail;
	bind_query(c->rows, &c->q, q->after_id);
	return c;
fail:
	fail(st, err, errlen, "query");
	tf_cursor_close(c);
	return NULL;
}

int
tf_cursor_next(struct tf_cursor *c, struct tf_row *row, char *err,
	size_t errlen)
{
	int rc = sqlite3_step(c->rows);

	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return fail(c->st, err, errlen, "read");
	row->id = sqlite3_column_int64(c->rows, 0);
	row->session = sqlite3_column_int64(c->rows, 1);
	row->ts_ns = sqlite3_column_int64(c->rows, 2);
	row->line = (const char *)sqlite3_column_text(c->rows, 3);
	row->len = (size_t)sqlite3_column_bytes(c->rows, 3);
	if (!row->line) {
		row->line = "";
		row->len = 0;
	}
	return 1;
}

int
tf_cursor_rewind(struct tf_cursor *c, int64_t after_id, char *err,
	size_t errlen)
{
	(void)err;
	(void)errlen;
	sqlite3_reset(c->rows);
	sqlite3_bind_int64(c->rows, 1, after_id);
	return 0;
}

int64_t
tf_cursor_count(struct tf_cursor *c, char *err, size_t errlen)
{
	int64_t n = -1;

	sqlite3_reset(c->count);
	bind_query(c->count, &c->q, c->q.after_id);
	if (sqlite3_step(c->count) == SQLITE_ROW)
		n = sqlite3_column_int64(c->count, 0);
	else
		fail(c->st, err, errlen, "count");
	sqlite3_reset(c->count);
	return n;
}

void
tf_cursor_close(struct tf_cursor *c)
{
	if (!c)
		return;
	sqlite3_finalize(c->rows);
	sqlite3_finalize(c->count);
	free(c);
}
