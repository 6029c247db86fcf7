/*
 * The store: raw signed entries in SQLite, keyed by (feed, number), with
 * each feed's head kept beside them. Entries are never re-encoded: the bytes
 * that arrived are the bytes kept and served. There is deliberately no index
 * on entry hashes, the costliest thing an insert could pay for
 * (../PERFORMANCE.md); objects are found by hash through the state tables.
 *
 * Settings follow RELIABILITY.md: WAL, synchronous=FULL, a busy timeout,
 * every write in BEGIN IMMEDIATE.
 *
 * This file opens and migrates the store, appends our own entries and
 * keeps names and settings. The reads of the record (heads, ranges,
 * forks, digests) are in store_read.c. Entries from elsewhere come in
 * through store_ingest.c; the signature checks that batched ingest leaves
 * pending, and its deferred syncs, are in store_pending.c. store_impl.h
 * holds what they share.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "amends/state.h"
#include "amends/store.h"
#define AMENDS_STORE_OWN
#include "store_impl.h"

#define APPLICATION_ID 0x414D4431   /* "AMD1" */

static const char *const stmt_sql[S_COUNT] = {
	[S_FEED_GET] = "SELECT id, head_seq, head_hash, coalesce(forked_at, 0), bytes "
		"FROM feeds WHERE circle = ?1 AND author = ?2",
	[S_FEED_INSERT] = "INSERT INTO feeds(circle, author, head_seq, head_hash, bytes) "
		"VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_FEED_UPDATE] = "UPDATE feeds SET head_seq = ?2, head_hash = ?3, bytes = ?4 "
		"WHERE id = ?1",
	[S_ENTRY_GET] = "SELECT hash FROM entries WHERE feed = ?1 AND seq = ?2",
	[S_ENTRY_INSERT] = "INSERT INTO entries(feed, seq, hash, kind, raw) "
		"VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_FORK_INSERT] = "INSERT OR IGNORE INTO forks(feed, seq, hash, raw) "
		"VALUES (?1, ?2, ?3, ?4)",
	[S_FEED_FORKED] = "UPDATE feeds SET forked_at = min(coalesce(forked_at, ?2), ?2) "
		"WHERE id = ?1",
	[S_RANGE] = "SELECT raw FROM entries WHERE feed = ?1 AND seq BETWEEN ?2 AND ?3 "
		"ORDER BY seq",
	[S_HEADS] = "SELECT author, head_seq, head_hash, coalesce(forked_at, 0), id "
		"FROM feeds WHERE circle = ?1 ORDER BY author",
	[S_UNCHECKED_INSERT] = "INSERT INTO unchecked(feed, from_seq, to_seq) "
		"SELECT id, ?3, ?4 FROM feeds WHERE circle = ?1 AND author = ?2 "
		"ON CONFLICT(feed, from_seq) DO UPDATE SET to_seq = max(to_seq, excluded.to_seq)",
};

/* Schema versions, in order; migration i brings user_version from i to i+1. */
static const char *const migrations[] = {
	"CREATE TABLE feeds("
	"  id INTEGER PRIMARY KEY,"
	"  circle BLOB NOT NULL CHECK(length(circle) = 32),"
	"  author BLOB NOT NULL CHECK(length(author) = 32),"
	"  head_seq INTEGER NOT NULL CHECK(head_seq >= 1),"
	"  head_hash BLOB NOT NULL CHECK(length(head_hash) = 32),"
	"  forked_at INTEGER,"
	"  UNIQUE(circle, author)"
	") STRICT;"
	"CREATE TABLE entries("
	"  feed INTEGER NOT NULL REFERENCES feeds(id),"
	"  seq INTEGER NOT NULL CHECK(seq >= 1),"
	"  hash BLOB NOT NULL CHECK(length(hash) = 32),"
	"  kind INTEGER NOT NULL,"
	"  raw BLOB NOT NULL,"
	"  PRIMARY KEY(feed, seq)"
	") STRICT, WITHOUT ROWID;"
	"CREATE TABLE forks("
	"  feed INTEGER NOT NULL REFERENCES feeds(id),"
	"  seq INTEGER NOT NULL,"
	"  hash BLOB NOT NULL CHECK(length(hash) = 32),"
	"  raw BLOB NOT NULL,"
	"  PRIMARY KEY(feed, seq, hash)"
	") STRICT, WITHOUT ROWID;"
	"CREATE TABLE names("
	"  id BLOB PRIMARY KEY CHECK(length(id) = 32),"
	"  name TEXT NOT NULL"
	") STRICT;"
	"CREATE TABLE settings("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL"
	") STRICT;",
	/* peers, their last known digests, and pending invites (src/peer.c,
	 * src/invite.c) */
	"CREATE TABLE peers("
	"  id BLOB PRIMARY KEY CHECK(length(id) = 32),"
	"  address TEXT,"
	"  last_seen INTEGER NOT NULL DEFAULT 0,"
	"  connected INTEGER NOT NULL DEFAULT 0"
	") STRICT;"
	"CREATE TABLE peer_digests("
	"  peer BLOB NOT NULL CHECK(length(peer) = 32),"
	"  circle BLOB NOT NULL CHECK(length(circle) = 32),"
	"  digest BLOB NOT NULL CHECK(length(digest) = 32),"
	"  at INTEGER NOT NULL,"
	"  PRIMARY KEY(peer, circle)"
	") STRICT, WITHOUT ROWID;"
	"CREATE TABLE invites("
	"  key BLOB PRIMARY KEY CHECK(length(key) = 32),"
	"  circle BLOB NOT NULL CHECK(length(circle) = 32),"
	"  role INTEGER NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  expires INTEGER NOT NULL,"
	"  used_by BLOB CHECK(used_by IS NULL OR length(used_by) = 32),"
	"  used_at INTEGER,"
	"  proposal BLOB CHECK(proposal IS NULL OR length(proposal) = 32)"
	") STRICT;",
	/* the facts the shared state derives from (src/state.c,
	 * protocol/state.md): objects named by their entry's hash, and the
	 * answers (accept, decline, confirm, dispute, checkpoint) by feed */
	"CREATE TABLE st_objects("
	"  id INTEGER PRIMARY KEY,"
	"  hash BLOB NOT NULL UNIQUE CHECK(length(hash) = 32),"
	"  circle BLOB NOT NULL CHECK(length(circle) = 32),"
	"  author BLOB NOT NULL CHECK(length(author) = 32),"
	"  seq INTEGER NOT NULL,"
	"  time INTEGER NOT NULL,"
	"  kind INTEGER NOT NULL,"
	"  ref BLOB,"
	"  base BLOB,"
	"  num INTEGER,"
	"  label TEXT,"
	"  note TEXT,"
	"  body BLOB"
	") STRICT;"
	"CREATE INDEX st_objects_kind ON st_objects(circle, kind);"
	"CREATE INDEX st_objects_ref ON st_objects(ref, kind) WHERE ref IS NOT NULL;"
	"CREATE TABLE st_acts("
	"  circle BLOB NOT NULL CHECK(length(circle) = 32),"
	"  author BLOB NOT NULL CHECK(length(author) = 32),"
	"  seq INTEGER NOT NULL,"
	"  hash BLOB NOT NULL CHECK(length(hash) = 32),"
	"  time INTEGER NOT NULL,"
	"  kind INTEGER NOT NULL,"
	"  target BLOB,"
	"  note TEXT,"
	"  PRIMARY KEY(circle, author, seq)"
	") STRICT, WITHOUT ROWID;"
	"CREATE INDEX st_acts_target ON st_acts(target) WHERE target IS NOT NULL;",
	/* objects by author within a circle and kind: what awaits a person
	 * is found without reading everyone else's */
	"DROP INDEX st_objects_kind; CREATE INDEX st_objects_kind ON st_objects(circle, kind, author);",
	/* runs taken on the word of their newest signature whose other
	 * entries' own signatures are still to be checked, and the entries
	 * whose own signature failed that check (protocol/sync.md,
	 * "Verifying on ingest") */
	"CREATE TABLE unchecked("
	"  feed INTEGER NOT NULL REFERENCES feeds(id),"
	"  from_seq INTEGER NOT NULL CHECK(from_seq >= 1),"
	"  to_seq INTEGER NOT NULL CHECK(to_seq >= from_seq),"
	"  PRIMARY KEY(feed, from_seq)"
	") STRICT, WITHOUT ROWID;"
	"CREATE TABLE bad_signatures("
	"  feed INTEGER NOT NULL REFERENCES feeds(id),"
	"  seq INTEGER NOT NULL CHECK(seq >= 1),"
	"  PRIMARY KEY(feed, seq)"
	") STRICT, WITHOUT ROWID;",
	/* the facts in a smaller layout: circle and author by feed id, nothing
	 * the raw entry holds (readers decode it, src/state.c), objects found
	 * by hash through an 8-byte key (st_hkey(): the first 8 bytes, top bit
	 * flipped), answers not indexed by hash at all; st_objects and st_acts
	 * stay as views for readers outside the state module */
	"CREATE TABLE st_facts("
	"  feed INTEGER NOT NULL,"
	"  kind INTEGER NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  time INTEGER NOT NULL,"
	"  hkey INTEGER,"
	"  ref BLOB CHECK(ref IS NULL OR length(ref) = 32),"
	"  PRIMARY KEY(feed, kind, seq)"
	") STRICT, WITHOUT ROWID;"
	"INSERT INTO st_facts SELECT f.id, o.kind, o.seq, o.time, "
	"  ((instr('0123456789ABCDEF', substr(hex(o.hash), 1, 1)) - 1) - 8) * 1152921504606846976 +"
	"  (instr('0123456789ABCDEF', substr(hex(o.hash), 2, 1)) - 1) * 72057594037927936 +"
	"  (instr('0123456789ABCDEF', substr(hex(o.hash), 3, 1)) - 1) * 4503599627370496 +"
	"  (instr('0123456789ABCDEF', substr(hex(o.hash), 4, 1)) - 1) * 281474976710656 +"
	"  (instr('0123456789ABCDEF', substr(hex(o.hash), 5, 1)) - 1) * 17592186044416 +"
	"  (instr('0123456789ABCDEF', substr(hex(o.hash), 6, 1)) - 1) * 1099511627776 +"
	"  (instr('0123456789ABCDEF', substr(hex(o.hash), 7, 1)) - 1) * 68719476736 +"
	"  (instr('0123456789ABCDEF', substr(hex(o.hash), 8, 1)) - 1) * 4294967296 +"
	"  (instr('0123456789ABCDEF', substr(hex(o.hash), 9, 1)) - 1) * 268435456 +"
	"  (instr('0123456789ABCDEF', substr(hex(o.hash), 10, 1)) - 1) * 16777216 +"
	"  (instr('0123456789ABCDEF', substr(hex(o.hash), 11, 1)) - 1) * 1048576 +"
	"  (instr('0123456789ABCDEF', substr(hex(o.hash), 12, 1)) - 1) * 65536 +"
	"  (instr('0123456789ABCDEF', substr(hex(o.hash), 13, 1)) - 1) * 4096 +"
	"  (instr('0123456789ABCDEF', substr(hex(o.hash), 14, 1)) - 1) * 256 +"
	"  (instr('0123456789ABCDEF', substr(hex(o.hash), 15, 1)) - 1) * 16 +"
	"  (instr('0123456789ABCDEF', substr(hex(o.hash), 16, 1)) - 1),"
	"  o.ref FROM st_objects o JOIN feeds f ON f.circle = o.circle AND f.author = o.author;"
	"INSERT INTO st_facts SELECT f.id, a.kind, a.seq, a.time, NULL, a.target "
	"  FROM st_acts a JOIN feeds f ON f.circle = a.circle AND f.author = a.author;"
	"DROP TABLE st_objects;"
	"DROP TABLE st_acts;"
	"CREATE INDEX st_facts_hash ON st_facts(hkey) WHERE hkey IS NOT NULL;"
	"CREATE INDEX st_facts_ref ON st_facts(ref, kind) WHERE ref IS NOT NULL;"
	"CREATE VIEW st_objects AS SELECT f.circle AS circle, f.author AS author, "
	"  x.seq AS seq, e.hash AS hash, x.time AS time, x.kind AS kind, x.ref AS ref "
	"  FROM st_facts x JOIN feeds f ON f.id = x.feed "
	"  LEFT JOIN entries e ON e.feed = x.feed AND e.seq = x.seq WHERE x.hkey IS NOT NULL;"
	"CREATE TRIGGER st_objects_delete INSTEAD OF DELETE ON st_objects BEGIN "
	"  DELETE FROM st_facts WHERE feed = (SELECT id FROM feeds "
	"  WHERE circle = old.circle AND author = old.author) "
	"  AND kind = old.kind AND seq = old.seq; END;"
	"CREATE VIEW st_acts AS SELECT f.circle AS circle, f.author AS author, "
	"  x.seq AS seq, e.hash AS hash, x.time AS time, x.kind AS kind, x.ref AS target "
	"  FROM st_facts x JOIN feeds f ON f.id = x.feed "
	"  LEFT JOIN entries e ON e.feed = x.feed AND e.seq = x.seq WHERE x.hkey IS NULL;"
	"CREATE TRIGGER st_acts_delete INSTEAD OF DELETE ON st_acts BEGIN "
	"  DELETE FROM st_facts WHERE feed = (SELECT id FROM feeds "
	"  WHERE circle = old.circle AND author = old.author) "
	"  AND kind = old.kind AND seq = old.seq; END;",
	/* the circles this node is proposed to and holds no entry of yet: the
	 * preview its proposer sent, kept until it joins or declines (local,
	 * never replicated; protocol/sync.md, "Who holds a circle") */
	"CREATE TABLE proposed_to("
	"  circle BLOB PRIMARY KEY CHECK(length(circle) = 32),"
	"  proposer BLOB NOT NULL CHECK(length(proposer) = 32),"
	"  preview BLOB NOT NULL,"
	"  at INTEGER NOT NULL"
	") STRICT;",
	/* the invites their maker revoked: the invite stays, so that a join
	 * with it is refused as revoked rather than as unknown (src/invite.c).
	 * IF NOT EXISTS: a store rewound to an older layout runs it again */
	"CREATE TABLE IF NOT EXISTS invites_revoked("
	"  key BLOB PRIMARY KEY CHECK(length(key) = 32),"
	"  at INTEGER NOT NULL"
	") STRICT;",
	/* the bytes of each feed's entries, for the cap on what one author
	 * may make a node hold in a circle (AM_CAP_FEED_BYTES) */
	"ALTER TABLE feeds ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;"
	"UPDATE feeds SET bytes = (SELECT coalesce(sum(length(raw)), 0) "
	"  FROM entries WHERE entries.feed = feeds.id);",
};
#define NMIGRATIONS (sizeof migrations / sizeof migrations[0])

int
am_store_error(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return AM_OK;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return AM_ERR_DB_BUSY;
	case SQLITE_FULL:
		return AM_ERR_DB_FULL;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return AM_ERR_DB_CORRUPT;
	case SQLITE_NOMEM:
		return AM_ERR_NOMEM;
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
		return AM_ERR_IO;
	default:
		return AM_ERR_DB;
	}
}

sqlite3 *
am_store_sqlite(struct am_store *s)
{
	return s->db;
}

/*
 * SQLite says SQLITE_FULL only when a write fails with ENOSPC; a write
 * refused by the file size limit (EFBIG) or a quota (EDQUOT) comes back as
 * SQLITE_IOERR_WRITE. To the person it is the same: no room to store. The
 * reason is kept by the file that failed (the WAL, as a rule), not always
 * by the connection.
 */
static bool
no_room(int e)
{
	return e == ENOSPC || e == EFBIG || e == EDQUOT;
}

int
store_write_error(struct am_store *s, int rc)
{
	if ((rc & 0xff) == SQLITE_IOERR) {
		sqlite3_file *wal = NULL;
		int e = 0;
		if (no_room(sqlite3_system_errno(s->db)))
			return AM_ERR_DB_FULL;
		if (sqlite3_file_control(s->db, "main", SQLITE_FCNTL_JOURNAL_POINTER,
		    &wal) == SQLITE_OK && wal != NULL && wal->pMethods != NULL &&
		    wal->pMethods->xFileControl(wal, SQLITE_FCNTL_LAST_ERRNO,
		    &e) == SQLITE_OK && no_room(e))
			return AM_ERR_DB_FULL;
		e = 0;
		if (sqlite3_file_control(s->db, "main", SQLITE_FCNTL_LAST_ERRNO,
		    &e) == SQLITE_OK && no_room(e))
			return AM_ERR_DB_FULL;
	}
	return am_store_error(rc);
}

int
am_store_exec(struct am_store *s, const char *sql)
{
	return store_write_error(s, sqlite3_exec(s->db, sql, NULL, NULL, NULL));
}

int
am_store_begin(struct am_store *s)
{
	int rc = am_store_release(s);
	if (rc != AM_OK)
		return rc;
	return am_store_exec(s, "BEGIN IMMEDIATE");
}

int
am_store_commit(struct am_store *s)
{
	int rc = am_store_exec(s, "COMMIT");
	if (rc != AM_OK)
		am_store_rollback(s);
	return rc;
}

void
am_store_rollback(struct am_store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	s->held = false;
}

int
store_pragma_int(sqlite3 *db, const char *sql, int64_t *out)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return am_store_error(rc);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? AM_OK : am_store_error(rc);
}

/*
 * Waits for a lock held by another connection. SQLite's own handler
 * sleeps ever longer (up to 100 ms a try), so a writer that commits often
 * can starve a waiting one; short jittered sleeps keep the waiter's
 * chances fair. Gives up after BUSY_WAIT_MS in all.
 */
#define BUSY_WAIT_MS 30000

static int
busy_wait(void *ctx, int count)
{
	struct timespec *start = ctx, now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (count == 0)
		*start = now;
	int64_t waited = (int64_t)(now.tv_sec - start->tv_sec) * 1000 +
		(now.tv_nsec - start->tv_nsec) / 1000000;
	if (waited >= BUSY_WAIT_MS)
		return 0;
	/* 0.1 to 2 ms, growing with the tries, with jitter */
	long us = 100 + (long)(count < 20 ? count : 20) * 95;
	us = us / 2 + (long)randombytes_uniform((uint32_t)us);
	struct timespec pause = { 0, us * 1000 };
	nanosleep(&pause, NULL);
	return 1;
}

/*
 * The page cache is 8 MiB rather than SQLite's 2: a run of batches held in
 * one transaction (am_store_defer_sync) dirties more pages than 2 MiB
 * holds, and those spilled early are read and written again. Measured on
 * a 200,000-entry catch-up: 1.14x faster; 32 MiB gains nothing more. The
 * cache fills only as pages are read: a node at rest stays under 10 MiB.
 */
static int
configure(sqlite3 *db, struct timespec *busy_start)
{
	static const char settings[] =
		"PRAGMA foreign_keys = ON;"
		"PRAGMA synchronous = FULL;"
		"PRAGMA journal_size_limit = 67108864;"
		"PRAGMA wal_autocheckpoint = 1000;"
		"PRAGMA trusted_schema = OFF;"
		"PRAGMA cache_size = -8192;"
		"PRAGMA cell_size_check = ON;";
	sqlite3_stmt *st;
	int rc;

	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_handler(db, busy_wait, busy_start);
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	if ((rc = sqlite3_exec(db, settings, NULL, NULL, NULL)) != SQLITE_OK)
		return am_store_error(rc);
	/* journal_mode=WAL answers with the mode it really set */
	rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return am_store_error(rc);
	rc = sqlite3_step(st);
	bool wal = rc == SQLITE_ROW &&
		strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return am_store_error(rc);
	return wal ? AM_OK : AM_ERR_DB;
}

static int
migrate(struct am_store *s)
{
	int64_t app, version;
	int rc;

	/* Most opens find the schema current: check that without taking the
	 * write lock, which a busy node may hold for a while. */
	if ((rc = store_pragma_int(s->db, "PRAGMA application_id", &app)) != AM_OK ||
	    (rc = store_pragma_int(s->db, "PRAGMA user_version", &version)) != AM_OK)
		return rc;
	if (app == APPLICATION_ID && version == (int64_t)NMIGRATIONS)
		return AM_OK;
	if ((rc = am_store_begin(s)) != AM_OK)
		return rc;
	if ((rc = store_pragma_int(s->db, "PRAGMA application_id", &app)) != AM_OK ||
	    (rc = store_pragma_int(s->db, "PRAGMA user_version", &version)) != AM_OK)
		goto fail;
	if ((app != 0 && app != APPLICATION_ID) || version < 0 ||
	    (uint64_t)version > NMIGRATIONS) {
		rc = AM_ERR_DB_SCHEMA;
		goto fail;
	}
	if (app == 0 && version == 0) {
		/* a new file, or somebody else's without an application id */
		int64_t tables;
		rc = store_pragma_int(s->db, "SELECT count(*) FROM sqlite_schema", &tables);
		if (rc != AM_OK)
			goto fail;
		if (tables != 0) {
			rc = AM_ERR_DB_SCHEMA;
			goto fail;
		}
	}
	for (size_t v = (size_t)version; v < NMIGRATIONS; v++) {
		char sql[64];
		if ((rc = am_store_exec(s, migrations[v])) != AM_OK)
			goto fail;
		snprintf(sql, sizeof sql, "PRAGMA user_version = %zu", v + 1);
		if ((rc = am_store_exec(s, sql)) != AM_OK)
			goto fail;
	}
	if (app == 0) {
		char sql[64];
		snprintf(sql, sizeof sql, "PRAGMA application_id = %d", APPLICATION_ID);
		if ((rc = am_store_exec(s, sql)) != AM_OK)
			goto fail;
	}
	return am_store_commit(s);
fail:
	am_store_rollback(s);
	return rc;
}

/* Process-wide SQLite settings, made before its first use. Memory
 * statistics off: amends never reads them, and keeping them takes a global
 * mutex on every allocation SQLite makes (5% of a catch-up's time). A
 * program that set SQLite up before us keeps its own settings: the call
 * is then refused, harmlessly. */
static void
sqlite_setup(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* The database and its -wal and -shm files are the user's alone: SQLite
 * creates a new database with mode 0644 less the umask, and its -wal and
 * -shm files with the database's mode, so the database is made 0600
 * before SQLite opens it, and files an older version left open to others
 * are closed to them. A file owned by someone else is left alone (the
 * data directory's check refuses such a directory). By path, never by
 * opening and closing: closing any descriptor of a database file drops
 * every POSIX lock this process holds on it, through other connections
 * too (a node opens the same database twice). */
static int
private_file(const char *path, bool create)
{
	struct stat st;
	if (lstat(path, &st) != 0) {
		if (errno != ENOENT)
			return AM_ERR_IO;
		if (!create)
			return AM_OK;
		int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
			O_CLOEXEC, 0600);
		if (fd < 0)
			return errno == EEXIST ? AM_OK : AM_ERR_IO;
		close(fd);
		return AM_OK;
	}
	if (S_ISREG(st.st_mode) && (st.st_mode & 077) != 0 &&
	    st.st_uid == geteuid() && chmod(path, st.st_mode & 0700) != 0)
		return AM_ERR_IO;
	return AM_OK;
}

static int
private_files(const char *path)
{
	static const char *const side[] = { "-wal", "-shm", "-journal" };
	size_t n = strlen(path) + 16;
	char *p = malloc(n);
	if (p == NULL)
		return AM_ERR_NOMEM;
	int rc = private_file(path, true);
	for (size_t i = 0; i < sizeof side / sizeof *side && rc == AM_OK; i++) {
		snprintf(p, n, "%s%s", path, side[i]);
		rc = private_file(p, false);
	}
	free(p);
	return rc;
}

int
am_store_open(const char *path, struct am_store **out)
{
	struct am_store *s = calloc(1, sizeof *s);
	int rc;

	if (s == NULL)
		return AM_ERR_NOMEM;
	if (sodium_init() < 0) {
		free(s);
		return AM_ERR_NOMEM;
	}
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, sqlite_setup);
	if ((rc = private_files(path)) != AM_OK)
		goto fail;
	rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
		SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_FULLMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rc = am_store_error(rc);
		goto fail;
	}
	if ((rc = configure(s->db, &s->busy_start)) != AM_OK || (rc = migrate(s)) != AM_OK)
		goto fail;
	for (int i = 0; i < S_COUNT; i++) {
		int src = sqlite3_prepare_v3(s->db, stmt_sql[i], -1,
			SQLITE_PREPARE_PERSISTENT, &s->stmt[i], NULL);
		if (src != SQLITE_OK) {
			rc = am_store_error(src);
			goto fail;
		}
	}
	if ((rc = am_state_rederive(s, false)) != AM_OK)
		goto fail;
	*out = s;
	return AM_OK;
fail:
	am_store_close(&s);
	return rc;
}

void
am_store_close(struct am_store **sp)
{
	struct am_store *s = *sp;
	if (s == NULL)
		return;
	/* a held run that cannot be committed is left out, as if never
	 * received: the database stays as it was before the run */
	if (am_store_release(s) != AM_OK)
		am_store_rollback(s);
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	if (s->db != NULL)
		am_state_close(s);
	sqlite3_close(s->db);
	free(s);
	*sp = NULL;
}

/* Resets a cached statement and returns it ready to bind. */
const char *
store_sql(enum stmt which)
{
	return stmt_sql[which];
}

sqlite3_stmt *
store_stmt(struct am_store *s, enum stmt which)
{
	sqlite3_stmt *st = s->stmt[which];
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

/* Steps a statement that returns no rows. */
int
store_step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? AM_OK : am_store_error(rc);
}

int
store_feed_get(struct am_store *s, const uint8_t *circle, const uint8_t *author,
	struct feed *f)
{
	sqlite3_stmt *st = store_stmt(s, S_FEED_GET);
	sqlite3_bind_blob(st, 1, circle, AM_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, author, AM_ID_BYTES, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	memset(f, 0, sizeof *f);
	if (rc == SQLITE_ROW) {
		f->id = sqlite3_column_int64(st, 0);
		f->head_seq = (uint64_t)sqlite3_column_int64(st, 1);
		if (sqlite3_column_bytes(st, 2) == AM_HASH_BYTES)
			memcpy(f->head_hash, sqlite3_column_blob(st, 2), AM_HASH_BYTES);
		f->forked_at = (uint64_t)sqlite3_column_int64(st, 3);
		f->bytes = (uint64_t)sqlite3_column_int64(st, 4);
		rc = SQLITE_DONE;
	}
	sqlite3_reset(st);
	return am_store_error(rc);
}

/*
 * AM_ERR_IO when the caller's transaction is no longer open. A statement
 * that fails with an I/O error makes SQLite roll the whole transaction
 * back; if its caller ignored that error (a setting read as "unset"), the
 * writes after it would each commit on their own, outside the transaction
 * that checked the chain, and the operation would then report a failure
 * for what it had stored. Found by tests/fault/storage.c (a failing read).
 */
int
store_in_transaction(struct am_store *s)
{
	return sqlite3_get_autocommit(s->db) ? AM_ERR_IO : AM_OK;
}

/* Stores e as the next entry of feed f (which may not exist yet). The caller
 * holds the transaction and has checked the chain. */
int
store_feed_extend(struct am_store *s, struct feed *f, const struct am_entry *e)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = store_in_transaction(s)) != AM_OK)
		return rc;
	/* past the cap by the bytes of its own feed up to it: the same on
	 * every node that holds the feed (protocol/state.md, "Caps") */
	if (!store_feed_fits(f->bytes, e->raw_len))
		return AM_ERR_CAP;
	uint64_t bytes = f->bytes + e->raw_len;
	if (f->id == 0) {
		st = store_stmt(s, S_FEED_INSERT);
		sqlite3_bind_blob(st, 1, e->circle, AM_HASH_BYTES, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, e->author, AM_ID_BYTES, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (int64_t)e->seq);
		sqlite3_bind_blob(st, 4, e->hash, AM_HASH_BYTES, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, (int64_t)bytes);
		if ((rc = store_step_done(st)) != AM_OK)
			return rc;
		f->id = sqlite3_last_insert_rowid(s->db);
	} else {
		st = store_stmt(s, S_FEED_UPDATE);
		sqlite3_bind_int64(st, 1, f->id);
		sqlite3_bind_int64(st, 2, (int64_t)e->seq);
		sqlite3_bind_blob(st, 3, e->hash, AM_HASH_BYTES, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, (int64_t)bytes);
		if ((rc = store_step_done(st)) != AM_OK)
			return rc;
	}
	st = store_stmt(s, S_ENTRY_INSERT);
	sqlite3_bind_int64(st, 1, f->id);
	sqlite3_bind_int64(st, 2, (int64_t)e->seq);
	sqlite3_bind_blob(st, 3, e->hash, AM_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, (int)e->kind);
	sqlite3_bind_blob(st, 5, e->raw, (int)e->raw_len, SQLITE_STATIC);
	if ((rc = store_step_done(st)) != AM_OK)
		return rc;
	/* the materialised state moves in the same transaction */
	if ((rc = am_state_apply(s, e)) != AM_OK)
		return rc;
	f->head_seq = e->seq;
	f->bytes = bytes;
	memcpy(f->head_hash, e->hash, AM_HASH_BYTES);
	return AM_OK;
}

static void
caught_up_key(const uint8_t circle[static AM_HASH_BYTES], char key[80])
{
	char hex[2 * AM_HASH_BYTES + 1];
	am_hex(circle, AM_HASH_BYTES, hex);
	snprintf(key, 80, "caught-up:%s", hex);
}

/* AM_ERR_RESTORING when this identity was restored and has not yet caught
 * up its own feed in circle (see AM_SETTING_RESTORED). */
static int
restore_guard(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES])
{
	char key[80];
	char *restored = am_store_setting_get(s, AM_SETTING_RESTORED);
	if (restored == NULL)
		return AM_OK;
	free(restored);
	caught_up_key(circle, key);
	char *done = am_store_setting_get(s, key);
	free(done);
	return done != NULL ? AM_OK : AM_ERR_RESTORING;
}

int
am_store_own_caught_up(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES])
{
	char key[80];
	caught_up_key(circle, key);
	return am_store_setting_set(s, key, "1");
}

static void
own_seen_key(const uint8_t circle[static AM_HASH_BYTES], char key[96])
{
	char hex[2 * AM_HASH_BYTES + 1];
	am_hex(circle, AM_HASH_BYTES, hex);
	snprintf(key, 96, "%s%s", AM_SETTING_OWN_SEEN, hex);
}

/* The value is "SEQ:AUTHOR" (AUTHOR in hex): the guard holds for that
 * identity's feed only, so that a new key of a rotation (include/amends/
 * rotate.h), writing its first entries into a circle where the old key's
 * was guarded, is not held back by the old key's numbers. A bare "SEQ",
 * as written before, holds for any author. */
uint64_t
am_store_own_seen_get(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t self[static AM_ID_BYTES])
{
	char key[96], hex[2 * AM_ID_BYTES + 1];
	own_seen_key(circle, key);
	char *v = am_store_setting_get(s, key);
	if (v == NULL)
		return 0;
	/* our own setting; anything that is not a number counts as none */
	char *end;
	unsigned long long seq = strtoull(v, &end, 10);
	if (end == v) {
		seq = 0;
	} else if (*end == ':') {
		am_hex(self, AM_ID_BYTES, hex);
		if (strcmp(end + 1, hex) != 0)
			seq = 0;
	} else if (*end != '\0') {
		seq = 0;
	}
	free(v);
	return seq;
}

int
am_store_own_seen(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t self[static AM_ID_BYTES], uint64_t seq)
{
	char key[96], value[24 + 2 * AM_ID_BYTES + 1], hex[2 * AM_ID_BYTES + 1];
	if (seq <= am_store_own_seen_get(s, circle, self))
		return AM_OK;
	own_seen_key(circle, key);
	am_hex(self, AM_ID_BYTES, hex);
	snprintf(value, sizeof value, "%llu:%s", (unsigned long long)seq, hex);
	return am_store_setting_set(s, key, value);
}

/* The guard of am_store_own_guard() for a feed whose head is head. */
static int
own_guard(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t self[static AM_ID_BYTES], uint64_t head)
{
	int rc = restore_guard(s, circle);
	if (rc != AM_OK)
		return rc;
	return head < am_store_own_seen_get(s, circle, self) ? AM_ERR_OWN_BEHIND : AM_OK;
}

int
am_store_own_guard(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t self[static AM_ID_BYTES])
{
	uint8_t hash[AM_HASH_BYTES];
	uint64_t head;
	int rc = am_store_head(s, circle, self, &head, hash);
	return rc != AM_OK ? rc : own_guard(s, circle, self, head);
}

/*
 * A joiner signs its answer to an invite (the first entry of its feed in
 * the circle) before it holds the circle, and keeps it aside
 * (AM_SETTING_ANSWER): when it writes in the circle while its feed is
 * still empty here, that answer becomes the feed's first entry, so the
 * number 1 is never signed twice (protocol/invite.md, "The joiner's own
 * answer").
 */
static int
kept_answer(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t author[static AM_ID_BYTES], struct feed *f)
{
	char key[sizeof AM_SETTING_ANSWER + 2 * AM_HASH_BYTES];
	uint8_t *raw;
	size_t len;
	struct am_entry e;
	int rc;

	am_store_answer_key(circle, key);
	char *hex = am_store_setting_get(s, key);
	if (hex == NULL)
		return AM_OK;
	size_t hlen = strlen(hex);
	if ((raw = malloc(hlen / 2 + 1)) == NULL) {
		free(hex);
		return AM_ERR_NOMEM;
	}
	rc = sodium_hex2bin(raw, hlen / 2 + 1, hex, hlen, NULL, &len, NULL) == 0 ?
		am_entry_decode(raw, len, &e) : AM_ERR_FIELD;
	free(hex);
	/* a kept answer that does not fit is not ours to write: ignore it */
	if (rc == AM_OK && e.seq == 1 &&
	    memcmp(e.circle, circle, AM_HASH_BYTES) == 0 &&
	    memcmp(e.author, author, AM_ID_BYTES) == 0 &&
	    am_entry_verify(&e) == AM_OK)
		rc = store_feed_extend(s, f, &e);
	else
		rc = AM_OK;
	free(raw);
	return rc;
}

void
am_store_answer_key(const uint8_t circle[static AM_HASH_BYTES],
	char key[static sizeof AM_SETTING_ANSWER + 2 * AM_HASH_BYTES])
{
	memcpy(key, AM_SETTING_ANSWER, sizeof AM_SETTING_ANSWER - 1);
	am_hex(circle, AM_HASH_BYTES, key + sizeof AM_SETTING_ANSWER - 1);
}

int
am_store_append(struct am_store *s, const struct am_identity *id,
	const uint8_t circle_in[static AM_HASH_BYTES], int64_t time,
	const struct am_body *body, uint8_t *hash, uint64_t *seq)
{
	struct am_entry_draft d = { .time = time, .body = body };
	struct am_entry e;
	struct feed f;
	uint8_t *raw = NULL;
	size_t len;
	int rc;

	if (body->kind == AM_KIND_GENESIS)
		am_circle_id(am_identity_public(id), body->nonce, d.circle);
	else
		memcpy(d.circle, circle_in, AM_HASH_BYTES);
	if ((rc = am_store_begin(s)) != AM_OK)
		return rc;
	if ((rc = store_feed_get(s, d.circle, am_identity_public(id), &f)) != AM_OK)
		goto fail;
	/* a restored identity, or one whose peers served entries of its own
	 * feed that this store lacks, writes nothing before it holds them */
	if (body->kind != AM_KIND_GENESIS &&
	    (rc = own_guard(s, d.circle, am_identity_public(id), f.head_seq)) != AM_OK)
		goto fail;
	/* what follows a fork counts nowhere: say so rather than write it */
	if (f.forked_at != 0) {
		rc = AM_ERR_OWN_FORK;
		goto fail;
	}
	if (f.head_seq == 0 && body->kind != AM_KIND_GENESIS &&
	    (rc = kept_answer(s, d.circle, am_identity_public(id), &f)) != AM_OK)
		goto fail;
	d.seq = f.head_seq + 1;
	if (d.seq > AM_CAP_FEED_ENTRIES) {
		rc = AM_ERR_CAP;
		goto fail;
	}
	d.has_prev = f.head_seq > 0;
	memcpy(d.prev, f.head_hash, AM_HASH_BYTES);
	if ((rc = am_entry_sign(id, &d, &raw, &len, &e)) != AM_OK)
		goto fail;
	if ((rc = store_feed_extend(s, &f, &e)) != AM_OK)
		goto fail;
	/* a circle made here and now holds no entry of ours anywhere else:
	 * the restore guard has nothing to wait for in it */
	if (body->kind == AM_KIND_GENESIS &&
	    restore_guard(s, d.circle) == AM_ERR_RESTORING &&
	    (rc = am_store_own_caught_up(s, d.circle)) != AM_OK)
		goto fail;
	if ((rc = am_store_commit(s)) != AM_OK)
		goto fail;
	if (hash != NULL)
		memcpy(hash, e.hash, AM_HASH_BYTES);
	if (seq != NULL)
		*seq = e.seq;
	free(raw);
	return AM_OK;
fail:
	am_store_rollback(s);
	free(raw);
	return rc;
}

int
am_store_name_set(struct am_store *s, const uint8_t id[static AM_ID_BYTES],
	const char *name)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, name != NULL ?
		"INSERT INTO names(id, name) VALUES (?1, ?2) "
		"ON CONFLICT(id) DO UPDATE SET name = excluded.name" :
		"DELETE FROM names WHERE id = ?1", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return am_store_error(rc);
	sqlite3_bind_blob(st, 1, id, AM_ID_BYTES, SQLITE_STATIC);
	if (name != NULL)
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? AM_OK : am_store_error(rc);
}

char *
am_store_name_get(struct am_store *s, const uint8_t id[static AM_ID_BYTES])
{
	sqlite3_stmt *st;
	char *name = NULL;
	if (sqlite3_prepare_v2(s->db, "SELECT name FROM names WHERE id = ?1", -1,
	    &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_blob(st, 1, id, AM_ID_BYTES, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		name = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return name;
}

int
am_store_names(struct am_store *s,
	int (*fn)(void *ctx, const uint8_t id[static AM_ID_BYTES], const char *name),
	void *ctx)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, "SELECT id, name FROM names ORDER BY id",
		-1, &st, NULL);
	if (rc != SQLITE_OK)
		return am_store_error(rc);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 1);
		if (sqlite3_column_bytes(st, 0) != AM_ID_BYTES || name == NULL)
			continue;
		int frc = fn(ctx, sqlite3_column_blob(st, 0), name);
		if (frc != AM_OK) {
			sqlite3_finalize(st);
			return frc;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? AM_OK : am_store_error(rc);
}

int
am_store_name_find(struct am_store *s, const char *name,
	uint8_t id[static AM_ID_BYTES])
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, "SELECT id FROM names WHERE name = ?1 "
		"LIMIT 2", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return am_store_error(rc);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int found = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (found++ == 0 && sqlite3_column_bytes(st, 0) == AM_ID_BYTES)
			memcpy(id, sqlite3_column_blob(st, 0), AM_ID_BYTES);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return am_store_error(rc);
	return found == 0 ? AM_ERR_NOT_FOUND : found > 1 ? AM_ERR_AMBIGUOUS : AM_OK;
}

int
am_store_setting_set(struct am_store *s, const char *key, const char *value)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, "INSERT INTO settings(key, value) "
		"VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
		-1, &st, NULL);
	if (rc != SQLITE_OK)
		return am_store_error(rc);
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? AM_OK : am_store_error(rc);
}

char *
am_store_setting_get(struct am_store *s, const char *key)
{
	sqlite3_stmt *st;
	char *value = NULL;
	if (sqlite3_prepare_v2(s->db, "SELECT value FROM settings WHERE key = ?1",
	    -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		value = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return value;
}

/*
 * The proposed-to table. A row is what lets a node that holds nothing of a
 * circle yet take its entries once its proposal completes (the door in
 * src/sync.c); the preview is kept as the proposer sent it, for the person
 * to read before answering.
 */
int
am_store_proposed_add(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t proposer[static AM_ID_BYTES], const uint8_t *preview, size_t len)
{
	struct timespec now;
	sqlite3_stmt *st;
	int rc;

	if (len > AM_STORE_PREVIEW_MAX || (preview == NULL && len > 0))
		return AM_ERR_TOO_BIG;
	if ((rc = am_store_release(s)) != AM_OK)
		return rc;
	clock_gettime(CLOCK_REALTIME, &now);
	rc = sqlite3_prepare_v2(s->db, "INSERT INTO proposed_to(circle, proposer, "
		"preview, at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(circle) DO UPDATE "
		"SET proposer = excluded.proposer, preview = excluded.preview, "
		"at = excluded.at", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return am_store_error(rc);
	sqlite3_bind_blob(st, 1, circle, AM_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, proposer, AM_ID_BYTES, SQLITE_STATIC);
	/* a zero-length blob, not NULL, when the preview is empty */
	sqlite3_bind_blob(st, 3, len > 0 ? (const void *)preview : "", (int)len,
		SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? AM_OK : store_write_error(s, rc);
}

int
am_store_proposed_remove(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES])
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = am_store_release(s)) != AM_OK)
		return rc;
	rc = sqlite3_prepare_v2(s->db, "DELETE FROM proposed_to WHERE circle = ?1",
		-1, &st, NULL);
	if (rc != SQLITE_OK)
		return am_store_error(rc);
	sqlite3_bind_blob(st, 1, circle, AM_HASH_BYTES, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? AM_OK : store_write_error(s, rc);
}

int
am_store_proposed_get(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES],
	uint8_t proposer[static AM_ID_BYTES], uint8_t **out, size_t *len)
{
	sqlite3_stmt *st;
	uint8_t *copy = NULL;
	int rc = sqlite3_prepare_v2(s->db, out != NULL ?
		"SELECT proposer, preview FROM proposed_to WHERE circle = ?1" :
		"SELECT proposer FROM proposed_to WHERE circle = ?1", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return am_store_error(rc);
	sqlite3_bind_blob(st, 1, circle, AM_HASH_BYTES, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		rc = rc == SQLITE_DONE ? AM_ERR_NOT_FOUND : am_store_error(rc);
		goto out;
	}
	if (sqlite3_column_bytes(st, 0) != AM_ID_BYTES) {
		rc = AM_ERR_DB_CORRUPT;
		goto out;
	}
	if (out != NULL) {
		size_t n = (size_t)sqlite3_column_bytes(st, 1);
		const void *blob = sqlite3_column_blob(st, 1);
		if ((copy = malloc(n > 0 ? n : 1)) == NULL) {
			rc = AM_ERR_NOMEM;
			goto out;
		}
		if (n > 0)
			memcpy(copy, blob, n);
		*out = copy;
		*len = n;
	}
	memcpy(proposer, sqlite3_column_blob(st, 0), AM_ID_BYTES);
	rc = AM_OK;
out:
	sqlite3_finalize(st);
	return rc;
}
