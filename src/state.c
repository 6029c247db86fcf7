/*
 * The shared state's entry points: the hooks the store calls inside its
 * write transaction, which only record each entry's facts in the st_*
 * tables (created by the store's migrations), prefix lookups, and the
 * digests and refold. Recording never looks at other entries, so the
 * facts, and therefore the state, are the same whatever order the entries
 * arrived in. The list readers are in state_read.c.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amends/state.h"
#include "state.h"
#include "store_impl.h"

/*
 * Prepared statements, kept for reuse. Recording an entry's facts and
 * reading the state run the same few dozen statements over and over, and
 * preparing one costs more than running it; so st_prepare hands out a
 * cached statement with the same text on the same connection when one is
 * free, and st_finish gives it back. A statement nested in a loop over the
 * same text gets a second copy. The cache is shared by every connection
 * of the process, hence the lock; st_cache_drop finalizes a connection's
 * statements before it closes.
 */
#define CACHE_SLOTS 192

static struct {
	sqlite3 *db;
	sqlite3_stmt *st;
	bool busy;
} cache[CACHE_SLOTS];
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- the fields the fact table does not keep ---- */

/*
 * st_facts keeps only what queries filter and sort on; the rest of an
 * entry (a note, a label, the terms) is read from the raw entry the store
 * already holds, by SQL functions over entries.raw. A query that asks
 * several of them of one row (a check-in's period, status and note) would
 * decode the entry once for each, so each connection keeps the entry it
 * decoded last, with a copy of its bytes: the next call on the same bytes
 * reuses it. A connection is used by one thread at a time.
 */
enum field { F_NOTE, F_LABEL, F_NUM, F_BODY, F_BASE, F_TIME, F_COUNT };

struct decoded {
	uint8_t *raw;                /* a copy: e and b point into it */
	size_t len, cap;
	bool ok;                     /* e holds raw, decoded */
	bool body_ok;                /* ... and b its body */
	struct am_entry e;
	struct am_body b;
};

/* What each function of a connection is given: its field and the
 * connection's last decoded entry. */
struct fields {
	struct decoded last;
	struct field_of {
		struct fields *all;
		enum field which;
	} of[F_COUNT];
};

/* The destructor of the first function, given its struct field_of. */
static void
fields_free(void *p)
{
	struct fields *f = ((struct field_of *)p)->all;
	free(f->last.raw);
	free(f);
}

/* The entry raw decoded, from the connection's last one when the bytes
 * are the same; NULL when raw is not a valid entry (or out of memory).
 * body_ok tells whether its body decodes as a body of its kind. */
static const struct decoded *
decode(struct decoded *d, const uint8_t *raw, size_t len)
{
	if (d->ok && d->len == len && memcmp(d->raw, raw, len) == 0)
		return d;
	d->ok = false;
	if (len > d->cap) {
		uint8_t *p = realloc(d->raw, len);
		if (p == NULL)
			return NULL;
		d->raw = p;
		d->cap = len;
	}
	memcpy(d->raw, raw, len);
	d->len = len;
	if (am_entry_decode(d->raw, len, &d->e) != AM_OK)
		return NULL;
	d->body_ok = am_body_decode(d->e.kind, d->e.body, d->e.body_len, &d->b) ==
		AM_OK;
	d->ok = true;
	return d;
}

static void
field_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const struct field_of *f = sqlite3_user_data(ctx);
	const struct decoded *d;

	(void)argc;
	if (sqlite3_value_type(argv[0]) != SQLITE_BLOB ||
	    (d = decode(&f->all->last, sqlite3_value_blob(argv[0]),
	    (size_t)sqlite3_value_bytes(argv[0]))) == NULL)
		return;
	const struct am_entry *e = &d->e;
	const struct am_body *b = &d->b;
	if (f->which == F_BODY) {
		sqlite3_result_blob(ctx, e->body, (int)e->body_len, SQLITE_TRANSIENT);
		return;
	}
	if (f->which == F_TIME) {
		sqlite3_result_int64(ctx, e->time);
		return;
	}
	if (!d->body_ok)
		return;
	struct am_str t = f->which == F_NOTE ? b->note :
		e->kind == AM_KIND_GENESIS || e->kind == AM_KIND_RENAME ||
		e->kind == AM_KIND_NAME ? b->name :
		b->period;
	switch (f->which) {
	case F_NOTE:
	case F_LABEL:
		if (t.p != NULL)
			sqlite3_result_text(ctx, t.p, (int)t.n, SQLITE_TRANSIENT);
		break;
	case F_NUM:
		sqlite3_result_int64(ctx, e->kind == AM_KIND_MEMBER ? b->role : b->status);
		break;
	case F_BASE:
		if (e->kind == AM_KIND_AMEND)
			sqlite3_result_blob(ctx, b->base, AM_HASH_BYTES, SQLITE_TRANSIENT);
		break;
	case F_BODY:
	case F_TIME:
	case F_COUNT:
		break;
	}
}

static void
hkey_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	if (sqlite3_value_bytes(argv[0]) >= 8 &&
	    sqlite3_value_type(argv[0]) == SQLITE_BLOB)
		sqlite3_result_int64(ctx, st_hkey(sqlite3_value_blob(argv[0])));
}

int64_t
st_hkey(const uint8_t hash[static 8])
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | hash[i];
	/* the top bit flipped, so that signed order is the hashes' order */
	return (int64_t)(v ^ UINT64_C(0x8000000000000000));
}

static int
functions_add(sqlite3 *db)
{
	static const char *const names[F_COUNT] = {
		[F_NOTE] = "st_note", [F_LABEL] = "st_label", [F_NUM] = "st_num",
		[F_BODY] = "st_body", [F_BASE] = "st_base", [F_TIME] = "st_time",
	};
	const int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
	struct fields *f = calloc(1, sizeof *f);
	int rc;

	if (f == NULL)
		return AM_ERR_NOMEM;
	for (int i = 0; i < F_COUNT; i++) {
		f->of[i].all = f;
		f->of[i].which = (enum field)i;
	}
	/* the first function owns f: SQLite frees it with the connection,
	 * or at once when this registration fails */
	rc = sqlite3_create_function_v2(db, names[0], 1, flags, &f->of[0], field_fn,
		NULL, NULL, fields_free);
	for (int i = 1; rc == SQLITE_OK && i < F_COUNT; i++)
		rc = sqlite3_create_function(db, names[i], 1, flags, &f->of[i],
			field_fn, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(db, "st_hkey", 1, flags, NULL, hkey_fn,
			NULL, NULL);
	return am_store_error(rc);
}

/*
 * Connections that have the functions. Adding them again would expire
 * the connection's prepared statements, so each is added once: the first
 * time the state prepares on a connection, which st_cache_drop forgets
 * before it closes.
 */
#define FN_SLOTS 64
static sqlite3 *fn_dbs[FN_SLOTS];

/* Called with cache_lock held. */
static int
functions(sqlite3 *db)
{
	int free_slot = -1;
	for (int i = 0; i < FN_SLOTS; i++) {
		if (fn_dbs[i] == db)
			return AM_OK;
		if (fn_dbs[i] == NULL && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0) {
		/* more connections than slots: ask the connection itself */
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(db, "SELECT st_hkey(NULL)", -1, &st,
		    NULL) == SQLITE_OK) {
			sqlite3_finalize(st);
			return AM_OK;
		}
		return functions_add(db);
	}
	int rc = functions_add(db);
	if (rc == AM_OK)
		fn_dbs[free_slot] = db;
	return rc;
}

int
st_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
	int free_slot = -1;
	pthread_mutex_lock(&cache_lock);
	int frc = functions(db);
	if (frc != AM_OK) {
		pthread_mutex_unlock(&cache_lock);
		*st = NULL;
		return frc;
	}
	for (int i = 0; i < CACHE_SLOTS; i++) {
		if (cache[i].st == NULL) {
			if (free_slot < 0)
				free_slot = i;
			continue;
		}
		if (cache[i].db == db && !cache[i].busy &&
		    strcmp(sqlite3_sql(cache[i].st), sql) == 0) {
			cache[i].busy = true;
			*st = cache[i].st;
			pthread_mutex_unlock(&cache_lock);
			return AM_OK;
		}
	}
	if (free_slot >= 0) {
		/* claimed before preparing, so that no other thread takes it */
		cache[free_slot].db = db;
		cache[free_slot].busy = true;
	}
	pthread_mutex_unlock(&cache_lock);
	unsigned flags = free_slot >= 0 ? SQLITE_PREPARE_PERSISTENT : 0;
	int rc = sqlite3_prepare_v3(db, sql, -1, flags, st, NULL);
	/* a connection closed without st_cache_drop, whose address a new
	 * one took, would be listed without its functions */
	if (rc == SQLITE_ERROR && strncmp(sqlite3_errmsg(db),
	    "no such function: st_", 21) == 0 && functions_add(db) == AM_OK)
		rc = sqlite3_prepare_v3(db, sql, -1, flags, st, NULL);
	pthread_mutex_lock(&cache_lock);
	if (free_slot >= 0) {
		cache[free_slot].st = rc == SQLITE_OK ? *st : NULL;
		if (rc != SQLITE_OK)
			cache[free_slot].db = NULL;
	}
	pthread_mutex_unlock(&cache_lock);
	if (rc != SQLITE_OK) {
		*st = NULL;
		return am_store_error(rc);
	}
	return AM_OK;
}

void
st_finish(sqlite3_stmt *st)
{
	if (st == NULL)
		return;
	pthread_mutex_lock(&cache_lock);
	for (int i = 0; i < CACHE_SLOTS; i++) {
		if (cache[i].st == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			cache[i].busy = false;
			pthread_mutex_unlock(&cache_lock);
			return;
		}
	}
	pthread_mutex_unlock(&cache_lock);
	sqlite3_finalize(st);
}

void
st_cache_drop(sqlite3 *db)
{
	pthread_mutex_lock(&cache_lock);
	for (int i = 0; i < CACHE_SLOTS; i++) {
		if (cache[i].db == db) {
			sqlite3_finalize(cache[i].st);
			cache[i].st = NULL;
			cache[i].db = NULL;
			cache[i].busy = false;
		}
	}
	for (int i = 0; i < FN_SLOTS; i++)
		if (fn_dbs[i] == db)
			fn_dbs[i] = NULL;
	pthread_mutex_unlock(&cache_lock);
}

void
am_state_close(struct am_store *s)
{
	st_memo_drop(am_store_sqlite(s));
	st_cache_drop(am_store_sqlite(s));
}

void
st_col32(sqlite3_stmt *st, int col, uint8_t out[static 32])
{
	if (sqlite3_column_bytes(st, col) == 32)
		memcpy(out, sqlite3_column_blob(st, col), 32);
	else
		memset(out, 0, 32);
}

char *
st_coltext(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	return t == NULL ? NULL : strdup((const char *)t);
}

int
st_done(int rc)
{
	return rc == SQLITE_DONE ? AM_OK : am_store_error(rc);
}

void
st_signatures_free(struct am_signature *sigs, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		free(sigs[i].note);
		free(sigs[i].declined_note);
		sigs[i].note = NULL;
		sigs[i].declined_note = NULL;
	}
}

void
st_marks_free(struct am_mark *m, uint32_t n)
{
	if (m == NULL)
		return;
	for (uint32_t i = 0; i < n; i++)
		free(m[i].note);
	free(m);
}

/* ---- recording facts ---- */

/*
 * One row per live entry, in st_facts (see the migrations in store.c):
 * its feed (circle and author by the feed's small id), kind, number and
 * claimed time; the first 8 bytes of its hash for the entries that others
 * name (objects; answers and checkpoints are never looked up by hash, and
 * an index on random keys is the costliest thing an insert pays for); and
 * what it names, for the lookups by agreement, version or check-in. The
 * feed is found and a forked one refused in the same statement, unless
 * the caller gives the feed's id (feed != 0).
 */
struct fact {
	bool object;                 /* found by hash: hkey is set */
	int64_t hkey;
	const uint8_t *ref;          /* what it names, or NULL */
	uint8_t circle_id[AM_HASH_BYTES];
};

bool
am_state_time_ok(int64_t time)
{
	return time >= AM_TIME_MIN && time < AM_TIME_MAX;
}

/* Does e get a bare fact: a kind this build does not know, or a claimed
 * time outside the bounds (protocol/state.md, "Claimed times")? A GENESIS
 * keeps its full fact whatever its time, as ingest asks whether the
 * store holds a circle's genesis (am_state_holds_circle) and an entry
 * is never refused for its time; the state ignores such a genesis when
 * it loads the circle. */
static bool
bare(const struct am_entry *e, bool body_ok)
{
	return !am_kind_known(e->kind) || !body_ok ||
		(e->kind != AM_KIND_GENESIS && !am_state_time_ok(e->time));
}

/* Does e's body, decoded into b with result rc, break its kind's format?
 * Only a kind after format 1's can (the decoder refused the others at
 * ingest): such an entry is stored, has a bare fact, and is ignored with
 * AM_RULE_BODY (protocol/entry.md, "Kinds a node does not know"). */
static bool
body_ok(const struct am_entry *e, int rc)
{
	return rc == AM_OK || !am_kind_known(e->kind);
}

/* The kind column of e's fact: its kind, negated for a bare fact, so that
 * no query about a known kind ever meets it. */
static int
fact_kind(const struct am_entry *e, bool ok)
{
	return bare(e, ok) ? -(int)e->kind : (int)e->kind;
}

/* The fact row of e, whose body is b (ref may point into b or f). An
 * entry of a kind this build does not know has a bare fact (b is not
 * read): the state reports it as such, and it is recorded again, in
 * full, by a build that knows the kind (am_state_rederive). So has an
 * entry claiming a time outside the bounds: the state reports it
 * (AM_RULE_TIME) and nothing reads it. */
static void
fact_of(const struct am_entry *e, const struct am_body *b, bool ok,
	struct fact *f)
{
	f->object = true;
	f->ref = NULL;
	if (bare(e, ok)) {
		f->object = false;
		f->hkey = 0;
		return;
	}
	switch (e->kind) {
	case AM_KIND_GENESIS:
		/* the circle this genesis creates, to compare with e->circle */
		am_circle_id(e->author, b->nonce, f->circle_id);
		f->ref = f->circle_id;
		break;
	case AM_KIND_PROPOSE:
		break;
	case AM_KIND_STATEMENT:
		if (b->has_target)
			f->ref = b->target;
		break;
	case AM_KIND_ACCEPT:
	case AM_KIND_DECLINE:
	case AM_KIND_CONFIRM:
	case AM_KIND_DISPUTE:
		f->object = false;
		f->ref = b->target;
		break;
	case AM_KIND_CHECKPOINT:
	case AM_KIND_NAME:
		f->object = false;
		break;
	case AM_KIND_LEAVE:
		/* an object (answering it is wrong-target), naming nothing */
		break;
	case AM_KIND_RENAME:
		/* the GENESIS or RENAME it replaces */
		f->ref = b->base;
		break;
	default:
		/* MEMBER names an ID; AMEND, END and CHECKIN an agreement */
		f->ref = b->target;
		break;
	}
	f->hkey = f->object ? st_hkey(e->hash) : 0;
}

static int
insert_fact(sqlite3 *db, const struct am_entry *e, const struct am_body *b,
	bool ok, int64_t feed)
{
	sqlite3_stmt *st;
	struct fact f;
	int rc = st_prepare(db, feed != 0 ?
		"INSERT INTO st_facts(feed, kind, seq, time, hkey, ref) "
		"VALUES (?8, ?3, ?4, ?5, ?6, ?7)" :
		"INSERT INTO st_facts(feed, kind, seq, time, "
		"hkey, ref) SELECT id, ?3, ?4, ?5, ?6, ?7 FROM feeds "
		"WHERE circle = ?1 AND author = ?2 "
		"AND (forked_at IS NULL OR forked_at > ?4)", &st);
	if (rc != AM_OK)
		return rc;
	fact_of(e, b, ok, &f);
	sqlite3_bind_blob(st, 1, e->circle, AM_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, e->author, AM_ID_BYTES, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, fact_kind(e, ok));
	sqlite3_bind_int64(st, 4, (int64_t)e->seq);
	sqlite3_bind_int64(st, 5, e->time);
	if (f.object)
		sqlite3_bind_int64(st, 6, f.hkey);
	if (f.ref != NULL)
		sqlite3_bind_blob(st, 7, f.ref, AM_HASH_BYTES, SQLITE_STATIC);
	if (feed != 0)
		sqlite3_bind_int64(st, 8, feed);
	rc = st_done(sqlite3_step(st));
	st_finish(st);
	return rc;
}

int
st_apply(sqlite3 *db, const struct am_entry *e)
{
	return st_record(db, e);
}

/* *yes: does e's own feed hold, below e, a LEAVE that counts as one (a
 * full fact of kind LEAVE)? Then e is written after its author left and
 * gets a bare fact (AM_RULE_LEFT). Feeds are stored contiguous, so that
 * LEAVE is always recorded before e: this reads e's own feed only, like
 * the rest of recording. */
static int
after_leave(sqlite3 *db, const struct am_entry *e, int64_t feed, bool *yes)
{
	sqlite3_stmt *st;
	*yes = false;
	if (e->kind == AM_KIND_GENESIS)
		return AM_OK;
	int rc = st_prepare(db, feed != 0 ?
		"SELECT 1 FROM st_facts WHERE feed = ?4 AND kind = 13 AND seq < ?3" :
		"SELECT 1 FROM st_facts x JOIN feeds f ON f.id = x.feed "
		"WHERE f.circle = ?1 AND f.author = ?2 AND x.kind = 13 AND x.seq < ?3",
		&st);
	if (rc != AM_OK)
		return rc;
	if (feed == 0) {
		sqlite3_bind_blob(st, 1, e->circle, AM_HASH_BYTES, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, e->author, AM_ID_BYTES, SQLITE_STATIC);
	}
	sqlite3_bind_int64(st, 3, (int64_t)e->seq);
	if (feed != 0)
		sqlite3_bind_int64(st, 4, feed);
	rc = sqlite3_step(st);
	*yes = rc == SQLITE_ROW;
	st_finish(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? AM_OK : am_store_error(rc);
}

/* Records e's facts, unless its feed forked at or below its number: such
 * an entry is not part of the state (protocol/state.md, "Forks"). A
 * caller that knows e extends its feed, unforked, gives the feed's id. */
static int
record(sqlite3 *db, const struct am_entry *e, int64_t feed)
{
	struct am_body *b;
	bool left;
	int rc;

	if ((rc = after_leave(db, e, feed, &left)) != AM_OK)
		return rc;

	/* a body is several KiB: keep it off the stack */
	if ((b = malloc(sizeof *b)) == NULL)
		return AM_ERR_NOMEM;
	rc = am_body_decode(e->kind, e->body, e->body_len, b);
	bool ok = body_ok(e, rc);
	if (ok || e->kind > AM_KIND_FORMAT1)
		rc = insert_fact(db, e, b, ok && !left, feed);
	free(b);
	return rc;
}

int
st_record(sqlite3 *db, const struct am_entry *e)
{
	return record(db, e, 0);
}

int
am_state_record(struct am_store *s, const struct am_entry *e, int64_t feed)
{
	return record(am_store_sqlite(s), e, feed);
}

int
am_state_apply(struct am_store *s, const struct am_entry *e)
{
	return st_apply(am_store_sqlite(s), e);
}

int
am_state_fork(struct am_store *s, const struct am_entry *e)
{
	static const char *const sql[] = {
		"DELETE FROM st_facts WHERE feed = (SELECT id FROM feeds "
		"WHERE circle = ?1 AND author = ?2) AND seq >= ?3",
	};
	sqlite3 *db = am_store_sqlite(s);
	for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
		sqlite3_stmt *st;
		int rc = st_prepare(db, sql[i], &st);
		if (rc != AM_OK)
			return rc;
		sqlite3_bind_blob(st, 1, e->circle, AM_HASH_BYTES, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, e->author, AM_ID_BYTES, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (int64_t)e->seq);
		rc = st_done(sqlite3_step(st));
		st_finish(st);
		if (rc != AM_OK)
			return rc;
	}
	return AM_OK;
}

/* ---- the rules a store's facts were recorded under ---- */

/* The label of the rules this build applies: their version and the kinds
 * it knows. A store whose facts were recorded under another label has
 * them recorded again (protocol/state.md, "Rules version"). */
static void
rules_label(char *out, size_t n)
{
	size_t off = (size_t)snprintf(out, n, "rules %d; kinds", AM_STATE_RULES);
	for (uint32_t k = 1; k <= AM_KIND_MAX && off < n; k++)
		if (am_kind_known(k))
			off += (size_t)snprintf(out + off, n - off, " %u", (unsigned)k);
}

#define RULES_KEY "state_rules"

/* Records every live entry's fact again, inside the caller's transaction. */
static int
record_all(sqlite3 *db)
{
	sqlite3_stmt *st;
	int rc;
	if ((rc = sqlite3_exec(db, "DELETE FROM st_facts", NULL, NULL, NULL)) !=
	    SQLITE_OK)
		return am_store_error(rc);
	/* by feed and number: a LEAVE is recorded before what follows it */
	if ((rc = st_prepare(db, "SELECT e.feed, e.raw FROM entries e "
	    "JOIN feeds f ON f.id = e.feed "
	    "WHERE f.forked_at IS NULL OR e.seq < f.forked_at "
	    "ORDER BY e.feed, e.seq", &st)) != AM_OK)
		return rc;
	int src;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		struct am_entry e;
		/* stored entries were checked on the way in; one that no
		 * longer decodes is verify's to report, and has no fact */
		if (am_entry_decode(sqlite3_column_blob(st, 1),
		    (size_t)sqlite3_column_bytes(st, 1), &e) != AM_OK)
			continue;
		if ((rc = record(db, &e, sqlite3_column_int64(st, 0))) != AM_OK &&
		    rc != AM_ERR_FIELD && rc != AM_ERR_COUNT && rc != AM_ERR_TYPE)
			break;
		rc = AM_OK;
	}
	st_finish(st);
	return rc != AM_OK ? rc : st_done(src);
}

int
am_state_rederive(struct am_store *s, bool force)
{
	char want[128];
	rules_label(want, sizeof want);
	char *have = force ? NULL : am_store_setting_get(s, RULES_KEY);
	bool same = have != NULL && strcmp(have, want) == 0;
	free(have);
	if (same)
		return AM_OK;
	int rc = am_store_begin(s);
	if (rc != AM_OK)
		return rc;
	/* another process may have done it while we waited for the lock */
	have = force ? NULL : am_store_setting_get(s, RULES_KEY);
	same = have != NULL && strcmp(have, want) == 0;
	free(have);
	if (!same && ((rc = record_all(am_store_sqlite(s))) != AM_OK ||
	    (rc = am_store_setting_set(s, RULES_KEY, want)) != AM_OK)) {
		am_store_rollback(s);
		return rc;
	}
	return am_store_commit(s);
}

/* Runs a one-row existence query with ?1 circle and ?2 id bound. */
static int
exists(sqlite3 *db, const char *sql, const uint8_t *circle, const uint8_t *id,
	bool *out)
{
	sqlite3_stmt *st;
	int rc = st_prepare(db, sql, &st);
	if (rc != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, circle, AM_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, id, AM_ID_BYTES, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW;
	st_finish(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? AM_OK : am_store_error(rc);
}

/* AM_OK when author is listed in circle as joined or pending through a
 * SUCCESSION naming them as its new key; AM_ERR_NOT_MEMBER otherwise. */
static int
succession_named(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t author[static AM_ID_BYTES])
{
	static const uint8_t zero[AM_ID_BYTES];
	struct am_member *m = NULL;
	size_t n = 0;
	int rc = am_state_members(s, circle, &m, &n);
	if (rc != AM_OK)
		return rc == AM_ERR_NOT_FOUND ? AM_ERR_NOT_MEMBER : rc;
	rc = AM_ERR_NOT_MEMBER;
	for (size_t i = 0; i < n; i++)
		if (memcmp(m[i].id, author, AM_ID_BYTES) == 0 &&
		    memcmp(m[i].succeeds, zero, AM_ID_BYTES) != 0 &&
		    (m[i].status == AM_MEMBER_JOINED ||
		    m[i].status == AM_MEMBER_PENDING))
			rc = AM_OK;
	free(m);
	return rc;
}

int
am_state_may_write(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t author[static AM_ID_BYTES])
{
	sqlite3 *db = am_store_sqlite(s);
	bool yes;
	/* whoever wrote a LEAVE that counts as one writes nothing more that
	 * counts (AM_RULE_LEFT) */
	int rc = exists(db, "SELECT 1 FROM feeds f JOIN st_facts x ON x.feed = f.id "
		"WHERE f.circle = ?1 AND f.author = ?2 AND x.kind = 13",
		circle, author, &yes);
	if (rc != AM_OK || yes)
		return rc != AM_OK ? rc : AM_ERR_NOT_MEMBER;
	rc = exists(db, "SELECT 1 FROM feeds f JOIN st_facts x ON x.feed = f.id "
		"WHERE f.circle = ?1 AND f.author = ?2 AND x.kind = 1 AND x.ref = ?1",
		circle, author, &yes);
	if (rc != AM_OK || yes)
		return rc;
	rc = exists(db, "SELECT 1 FROM st_facts x JOIN feeds f ON f.id = x.feed "
		"WHERE x.ref = ?2 AND x.kind = 2 AND f.circle = ?1", circle, author, &yes);
	if (rc != AM_OK || yes)
		return rc;
	/* the new key of a succession, awaiting acceptance or joined: no
	 * fact names it (a SUCCESSION's names the key it replaces), so the
	 * derived members say */
	return succession_named(s, circle, author);
}

int
am_state_holds_circle(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES], bool *held)
{
	sqlite3_stmt *st;
	int rc = st_prepare(am_store_sqlite(s), "SELECT 1 FROM feeds f "
		"JOIN st_facts x ON x.feed = f.id "
		"WHERE f.circle = ?1 AND x.kind = 1 AND x.ref = ?1", &st);
	if (rc != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, circle, AM_HASH_BYTES, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*held = rc == SQLITE_ROW;
	st_finish(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? AM_OK : am_store_error(rc);
}

/* Whether an entry is stored depends only on the entry, its own feed and
 * the circle's genesis, never on other feeds (protocol/state.md, "What a
 * node stores"): a GENESIS creates its circle (the decoder checked that
 * it does), and any other entry waits until its circle's genesis is here.
 * Who counts is the state's to judge. */
int
am_state_admit(struct am_store *s, const struct am_entry *e)
{
	bool held;
	if (e->kind == AM_KIND_GENESIS)
		return AM_OK;
	int rc = am_state_holds_circle(s, e->circle, &held);
	if (rc != AM_OK)
		return rc;
	return held ? AM_OK : AM_ERR_NO_GENESIS;
}

/* ---- reading: one snapshot per call ---- */

/* Reads run in one transaction of their own, unless the caller already
 * holds one (the store's hooks). */
bool
st_read_begin(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		return false;
	return sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
}

void
st_read_end(sqlite3 *db, bool began)
{
	if (began)
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Turns a hex prefix into the range [lo, hi) of 32-byte keys it covers;
 * *top is true when hi would overflow (no upper bound). */
static int
prefix_range(const char *hex, uint8_t lo[32], uint8_t hi[32], bool *top)
{
	size_t n = strlen(hex);
	if (n == 0 || n > 64)
		return AM_ERR_ARG;
	memset(lo, 0, 32);
	for (size_t i = 0; i < n; i++) {
		int v = hexval(hex[i]);
		if (v < 0)
			return AM_ERR_ARG;
		lo[i / 2] |= (uint8_t)(i % 2 == 0 ? v << 4 : v);
	}
	/* hi = lo + one unit in the last digit given */
	memcpy(hi, lo, 32);
	size_t byte = (n - 1) / 2;
	unsigned add = n % 2 == 1 ? 0x10 : 0x01;
	*top = true;
	for (size_t i = byte + 1; i-- > 0;) {
		unsigned v = hi[i] + add;
		hi[i] = (uint8_t)v;
		if (v <= 0xff) {
			*top = false;
			break;
		}
		add = 1;
	}
	return AM_OK;
}

struct resolve {
	uint8_t hash[32];
	int found;
};

static int
resolve_query(sqlite3 *db, const char *sql, const uint8_t lo[32],
	const uint8_t hi[32], bool top, struct resolve *r)
{
	sqlite3_stmt *st;
	int rc = st_prepare(db, sql, &st);
	if (rc != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, lo, 32, SQLITE_STATIC);
	/* above every 32-byte key when the prefix is all f */
	if (top)
		sqlite3_bind_blob(st, 2, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
			"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
			"\xff\xff\xff\xff\xff\xff\xff\xff", 33, SQLITE_STATIC);
	else
		sqlite3_bind_blob(st, 2, hi, 32, SQLITE_STATIC);
	/* the 8-byte keys up to hi's (a little wide: the hashes themselves
	 * are compared too) */
	if (!top && sqlite3_bind_parameter_count(st) >= 3)
		sqlite3_bind_int64(st, 3, st_hkey(hi));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint8_t h[32];
		st_col32(st, 0, h);
		if (r->found > 0 && memcmp(h, r->hash, 32) == 0)
			continue;
		if (r->found++ == 0)
			memcpy(r->hash, h, 32);
	}
	st_finish(st);
	return st_done(rc);
}

int
am_state_resolve(struct am_store *s, const char *hex, unsigned mask,
	uint8_t hash[static AM_HASH_BYTES])
{
	sqlite3 *db = am_store_sqlite(s);
	uint8_t lo[32], hi[32];
	bool top;
	struct resolve r = { .found = 0 };
	char kinds[64] = "";
	int rc;

	if (hex == NULL || (rc = prefix_range(hex, lo, hi, &top)) != AM_OK)
		return AM_ERR_ARG;
	if (mask & AM_OBJ_MEMBER)
		strcat(kinds, ",2");
	if (mask & (AM_OBJ_AGREEMENT | AM_OBJ_VERSION))
		strcat(kinds, ",3");
	if (mask & AM_OBJ_VERSION)
		strcat(kinds, ",4");
	if (mask & AM_OBJ_END)
		strcat(kinds, ",7");
	if (mask & AM_OBJ_CHECKIN)
		strcat(kinds, ",8");
	if (mask & AM_OBJ_STATEMENT)
		strcat(kinds, ",11");
	if (mask & AM_OBJ_REMOVE)
		strcat(kinds, ",14");
	if (mask & AM_OBJ_SUCCESSION)
		strcat(kinds, ",17");
	bool began = st_read_begin(db);
	rc = AM_OK;
	if (kinds[0] != '\0') {
		char sql[512];
		/* the range of 8-byte keys the prefix covers, then the
		 * whole hash */
		snprintf(sql, sizeof sql, "SELECT e.hash FROM st_facts x JOIN entries e "
			"ON e.feed = x.feed AND e.seq = x.seq WHERE x.hkey >= st_hkey(?1) "
			"AND x.hkey <= coalesce(?3, %lld) AND e.hash >= ?1 "
			"AND e.hash < ?2 AND x.kind IN (%s) LIMIT 3",
			(long long)INT64_MAX, kinds + 1);
		rc = resolve_query(db, sql, lo, hi, top, &r);
	}
	if (rc == AM_OK && (mask & AM_OBJ_CIRCLE))
		rc = resolve_query(db, "SELECT x.ref FROM st_facts x JOIN feeds f "
			"ON f.id = x.feed WHERE x.ref >= ?1 AND x.ref < ?2 AND x.kind = 1 "
			"AND x.ref = f.circle LIMIT 3", lo, hi, top, &r);
	st_read_end(db, began);
	if (rc != AM_OK)
		return rc;
	if (r.found == 0)
		return AM_ERR_NOT_FOUND;
	if (r.found > 1)
		return AM_ERR_AMBIGUOUS;
	memcpy(hash, r.hash, AM_HASH_BYTES);
	return AM_OK;
}

int
am_state_lookup(struct am_store *s, const uint8_t hash[static AM_HASH_BYTES],
	struct am_object_info *out)
{
	sqlite3 *db = am_store_sqlite(s);
	sqlite3_stmt *st;
	int rc = st_prepare(db, "SELECT x.kind, f.circle, f.author, x.seq, x.time, "
		"x.ref FROM st_facts x JOIN entries e ON e.feed = x.feed AND e.seq = x.seq "
		"JOIN feeds f ON f.id = x.feed WHERE x.hkey = st_hkey(?1) AND e.hash = ?1 "
		"UNION ALL SELECT x.kind, f.circle, f.author, x.seq, x.time, x.ref "
		"FROM st_facts x JOIN feeds f ON f.id = x.feed "
		"WHERE x.ref = ?1 AND x.kind = 1 AND x.ref = f.circle LIMIT 1", &st);
	if (rc != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, hash, AM_HASH_BYTES, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof *out);
		out->kind = (uint32_t)sqlite3_column_int(st, 0);
		st_col32(st, 1, out->circle);
		st_col32(st, 2, out->author);
		out->seq = (uint64_t)sqlite3_column_int64(st, 3);
		out->time = sqlite3_column_int64(st, 4);
		if (out->kind == AM_KIND_PROPOSE)
			memcpy(out->agreement, hash, AM_HASH_BYTES);
		else if (out->kind == AM_KIND_AMEND || out->kind == AM_KIND_END ||
		    out->kind == AM_KIND_CHECKIN)
			st_col32(st, 5, out->agreement);
		rc = AM_OK;
	} else {
		rc = rc == SQLITE_DONE ? AM_ERR_NOT_FOUND : am_store_error(rc);
	}
	st_finish(st);
	return rc;
}

/* ---- violations and digests ---- */

int
am_state_violations(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES],
	struct am_violation **out, size_t *n)
{
	sqlite3 *db = am_store_sqlite(s);
	bool began = st_read_begin(db);
	int rc = st_violations(db, circle, out, n);
	st_read_end(db, began);
	return rc;
}

int
am_state_digest(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES],
	uint8_t digest_out[static AM_HASH_BYTES])
{
	sqlite3 *db = am_store_sqlite(s);
	bool began = st_read_begin(db);
	int rc = st_digest(db, circle, digest_out);
	st_read_end(db, began);
	return rc;
}

/* Copies the store's st_* tables and indexes into the scratch database,
 * with the feeds of circle (same ids, same fork marks) and entries tables
 * that the readers join to. */
static int
scratch_schema(sqlite3 *db, sqlite3 *scratch, const uint8_t *circle)
{
	sqlite3_stmt *st, *ins;
	int rc = sqlite3_exec(scratch, "CREATE TABLE feeds(id INTEGER PRIMARY KEY, "
		"circle BLOB, author BLOB, forked_at INTEGER, UNIQUE(circle, author));"
		"CREATE TABLE entries(feed INTEGER, seq INTEGER, hash BLOB, raw BLOB, "
		"PRIMARY KEY(feed, seq)) WITHOUT ROWID", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return am_store_error(rc);
	if ((rc = st_prepare(db, "SELECT sql FROM sqlite_schema WHERE name "
	    "LIKE 'st\\_%' ESCAPE '\\' AND type IN ('table', 'index') "
	    "AND sql IS NOT NULL ORDER BY type = 'index', name", &st)) != AM_OK)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int erc = sqlite3_exec(scratch,
			(const char *)sqlite3_column_text(st, 0), NULL, NULL, NULL);
		if (erc != SQLITE_OK) {
			st_finish(st);
			return am_store_error(erc);
		}
	}
	st_finish(st);
	if ((rc = st_done(rc)) != AM_OK)
		return rc;
	if ((rc = st_prepare(db, "SELECT id, author, forked_at FROM feeds "
	    "WHERE circle = ?1", &st)) != AM_OK)
		return rc;
	if ((rc = st_prepare(scratch, "INSERT INTO feeds VALUES (?1, ?2, ?3, ?4)",
	    &ins)) != AM_OK) {
		st_finish(st);
		return rc;
	}
	sqlite3_bind_blob(st, 1, circle, 32, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sqlite3_reset(ins);
		sqlite3_bind_value(ins, 1, sqlite3_column_value(st, 0));
		sqlite3_bind_blob(ins, 2, circle, 32, SQLITE_STATIC);
		sqlite3_bind_value(ins, 3, sqlite3_column_value(st, 1));
		sqlite3_bind_value(ins, 4, sqlite3_column_value(st, 2));
		if (sqlite3_step(ins) != SQLITE_DONE) {
			rc = SQLITE_ERROR;
			break;
		}
	}
	st_finish(ins);
	st_finish(st);
	return st_done(rc);
}

/* Copies every raw entry of circle to the scratch database and applies
 * it there. */
static int
scratch_fill(sqlite3 *db, sqlite3 *scratch, const uint8_t *circle)
{
	sqlite3_stmt *st, *ins;
	int rc = st_prepare(db, "SELECT e.feed, e.seq, e.hash, e.raw FROM entries e "
		"JOIN feeds f ON f.id = e.feed WHERE f.circle = ?1 "
		"ORDER BY e.feed, e.seq", &st);
	if (rc != AM_OK)
		return rc;
	if ((rc = st_prepare(scratch, "INSERT INTO entries VALUES (?1, ?2, ?3, ?4)",
	    &ins)) != AM_OK) {
		st_finish(st);
		return rc;
	}
	sqlite3_bind_blob(st, 1, circle, 32, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct am_entry e;
		int arc = am_entry_decode(sqlite3_column_blob(st, 3),
			(size_t)sqlite3_column_bytes(st, 3), &e);
		if (arc == AM_OK) {
			sqlite3_reset(ins);
			for (int i = 0; i < 4; i++)
				sqlite3_bind_value(ins, i + 1, sqlite3_column_value(st, i));
			arc = st_done(sqlite3_step(ins));
		}
		if (arc == AM_OK)
			arc = st_apply(scratch, &e);
		if (arc != AM_OK) {
			st_finish(ins);
			st_finish(st);
			return arc;
		}
	}
	st_finish(ins);
	st_finish(st);
	return st_done(rc);
}

int
am_state_refold(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES],
	uint8_t digest_out[static AM_HASH_BYTES])
{
	sqlite3 *db = am_store_sqlite(s), *scratch = NULL;
	int rc = sqlite3_open_v2(":memory:", &scratch,
		SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_close(scratch);
		return am_store_error(rc);
	}
	bool began = st_read_begin(db);
	if ((rc = scratch_schema(db, scratch, circle)) == AM_OK &&
	    (rc = am_store_error(sqlite3_exec(scratch, "BEGIN", NULL, NULL,
	    NULL))) == AM_OK &&
	    (rc = scratch_fill(db, scratch, circle)) == AM_OK)
		rc = st_digest(scratch, circle, digest_out);
	st_read_end(db, began);
	st_cache_drop(scratch);
	sqlite3_close(scratch);
	return rc;
}

/* Does the fact row get holds what f says of e? */
static bool
fact_matches(sqlite3_stmt *get, const struct am_entry *e, const struct fact *f)
{
	if (sqlite3_column_int64(get, 0) != e->time)
		return false;
	if (f->object ? sqlite3_column_type(get, 1) != SQLITE_INTEGER ||
	    sqlite3_column_int64(get, 1) != f->hkey :
	    sqlite3_column_type(get, 1) != SQLITE_NULL)
		return false;
	if (f->ref == NULL)
		return sqlite3_column_type(get, 2) == SQLITE_NULL;
	return sqlite3_column_bytes(get, 2) == AM_HASH_BYTES &&
		memcmp(sqlite3_column_blob(get, 2), f->ref, AM_HASH_BYTES) == 0;
}

/*
 * What the store keeps of the state is the facts (st_facts): everything a
 * reader sees is derived from them afresh, by the rules, at every read.
 * So the replay computes every live entry's fact again from its raw bytes
 * and compares: each must be there as computed, and the circle must hold
 * no other. (am_state_refold derives the whole state from a private copy
 * of the entries instead; comparing its digest with the stored state's
 * derives the state twice and copies every entry.)
 */
int
am_state_replay(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES],
	bool *same)
{
	sqlite3 *db = am_store_sqlite(s);
	sqlite3_stmt *ent = NULL, *get = NULL, *cnt = NULL;
	struct am_body *b = malloc(sizeof *b);
	int64_t expected = 0;
	bool differ = false;
	int rc;

	*same = false;
	if (b == NULL)
		return AM_ERR_NOMEM;
	/* one snapshot for both, so that a commit by another process in
	 * between cannot make them differ */
	bool began = st_read_begin(db);
	if ((rc = st_prepare(db, "SELECT e.feed, e.raw, f.forked_at FROM feeds f "
	    "JOIN entries e ON e.feed = f.id WHERE f.circle = ?1 "
	    "ORDER BY e.feed, e.seq", &ent)) != AM_OK ||
	    (rc = st_prepare(db, "SELECT time, hkey, ref FROM st_facts "
	    "WHERE feed = ?1 AND kind = ?2 AND seq = ?3", &get)) != AM_OK ||
	    (rc = st_prepare(db, "SELECT count(*) FROM st_facts x JOIN feeds f "
	    "ON f.id = x.feed WHERE f.circle = ?1", &cnt)) != AM_OK)
		goto out;
	sqlite3_bind_blob(ent, 1, circle, AM_HASH_BYTES, SQLITE_STATIC);
	int src;
	int64_t left_feed = 0;       /* the feed whose LEAVE has been met */
	while (!differ && (src = sqlite3_step(ent)) == SQLITE_ROW) {
		struct am_entry e;
		struct fact f;
		int64_t feed = sqlite3_column_int64(ent, 0);
		if ((rc = am_entry_decode(sqlite3_column_blob(ent, 1),
		    (size_t)sqlite3_column_bytes(ent, 1), &e)) != AM_OK)
			goto out;
		bool ok = true;
		if (am_kind_known(e.kind)) {
			rc = am_body_decode(e.kind, e.body, e.body_len, b);
			if (rc != AM_OK && e.kind <= AM_KIND_FORMAT1)
				goto out;
			ok = body_ok(&e, rc);
			rc = AM_OK;
		}
		/* from its feed's fork on, an entry has no fact */
		if (sqlite3_column_type(ent, 2) != SQLITE_NULL &&
		    (uint64_t)sqlite3_column_int64(ent, 2) <= e.seq)
			continue;
		/* rows come by feed and number, as recording reads them */
		ok = ok && left_feed != feed;
		fact_of(&e, b, ok, &f);
		if (e.kind == AM_KIND_LEAVE && !bare(&e, ok))
			left_feed = feed;
		expected++;
		sqlite3_reset(get);
		sqlite3_bind_int64(get, 1, sqlite3_column_int64(ent, 0));
		sqlite3_bind_int(get, 2, fact_kind(&e, ok));
		sqlite3_bind_int64(get, 3, (int64_t)e.seq);
		int grc = sqlite3_step(get);
		if (grc != SQLITE_ROW && grc != SQLITE_DONE) {
			rc = am_store_error(grc);
			goto out;
		}
		differ = grc == SQLITE_DONE || !fact_matches(get, &e, &f);
	}
	if (!differ && (rc = st_done(src)) != AM_OK)
		goto out;
	if (!differ) {
		sqlite3_bind_blob(cnt, 1, circle, AM_HASH_BYTES, SQLITE_STATIC);
		int crc = sqlite3_step(cnt);
		if (crc != SQLITE_ROW) {
			rc = am_store_error(crc);
			goto out;
		}
		differ = sqlite3_column_int64(cnt, 0) != expected;
	}
	*same = !differ;
	rc = AM_OK;
out:
	st_finish(cnt);
	st_finish(get);
	st_finish(ent);
	st_read_end(db, began);
	free(b);
	return rc;
}
