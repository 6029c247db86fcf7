/*
 * The members of the circles read last, kept while the database stays as
 * it was: the sync session asks for a circle's members for every message
 * (who may read it, who may write it), and deriving them walks every
 * member proposal of the circle. An entry for a connection is good while
 * neither another connection committed (PRAGMA data_version) nor this one
 * wrote a row (sqlite3_total_changes64). Nothing is kept or read inside a
 * write transaction: it may still roll back, which the counters would not
 * show. Connections are told apart as the statement cache does (state.c),
 * and am_state_close() drops what a connection kept.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"

#define MEMO_SLOTS 64

struct memo {
	sqlite3 *db;                 /* NULL: a free slot */
	int64_t version, changes;
	uint8_t circle[AM_HASH_BYTES];
	struct am_member *members;
	size_t n;
	uint64_t used;               /* for choosing a slot to reuse */
};

static struct memo memo[MEMO_SLOTS];
static uint64_t memo_clock;
static pthread_mutex_t memo_lock = PTHREAD_MUTEX_INITIALIZER;

static void
memo_clear(struct memo *m)
{
	free(m->members);
	memset(m, 0, sizeof *m);
}

/* What the database is now, for this connection; false when nothing may
 * be kept (a write transaction is open, or the version cannot be read). */
static bool
memo_key(sqlite3 *db, int64_t *version, int64_t *changes)
{
	sqlite3_stmt *st;
	if (sqlite3_txn_state(db, "main") == SQLITE_TXN_WRITE ||
	    st_prepare(db, "PRAGMA data_version", &st) != AM_OK)
		return false;
	bool ok = sqlite3_step(st) == SQLITE_ROW;
	if (ok)
		*version = sqlite3_column_int64(st, 0);
	st_finish(st);
	*changes = sqlite3_total_changes64(db);
	return ok;
}

static struct memo *
memo_find(sqlite3 *db, const uint8_t *circle)
{
	for (int i = 0; i < MEMO_SLOTS; i++)
		if (memo[i].db == db && memcmp(memo[i].circle, circle, AM_HASH_BYTES) == 0)
			return &memo[i];
	return NULL;
}

int
st_memo_members(sqlite3 *db, const uint8_t circle[static AM_HASH_BYTES],
	struct am_member **out, size_t *n)
{
	int64_t version, changes;
	int rc = AM_ERR_NOT_FOUND;
	*out = NULL;
	*n = 0;
	if (!memo_key(db, &version, &changes))
		return rc;
	pthread_mutex_lock(&memo_lock);
	struct memo *m = memo_find(db, circle);
	if (m != NULL && (m->version != version || m->changes != changes)) {
		memo_clear(m);
	} else if (m != NULL) {
		rc = AM_ERR_NOMEM;
		if ((*out = malloc((m->n ? m->n : 1) * sizeof **out)) != NULL) {
			memcpy(*out, m->members, m->n * sizeof **out);
			*n = m->n;
			m->used = ++memo_clock;
			rc = AM_OK;
		}
	}
	pthread_mutex_unlock(&memo_lock);
	return rc;
}

void
st_memo_members_put(sqlite3 *db, const uint8_t circle[static AM_HASH_BYTES],
	const struct am_member *members, size_t n)
{
	int64_t version, changes;
	struct am_member *copy;
	if (!memo_key(db, &version, &changes) ||
	    (copy = malloc((n ? n : 1) * sizeof *copy)) == NULL)
		return;
	memcpy(copy, members, n * sizeof *copy);
	pthread_mutex_lock(&memo_lock);
	struct memo *m = memo_find(db, circle);
	/* else the slot used least lately (a free one has used 0) */
	if (m == NULL) {
		m = &memo[0];
		for (int i = 1; i < MEMO_SLOTS; i++)
			if (memo[i].used < m->used)
				m = &memo[i];
	}
	memo_clear(m);
	m->db = db;
	m->version = version;
	m->changes = changes;
	memcpy(m->circle, circle, AM_HASH_BYTES);
	m->members = copy;
	m->n = n;
	m->used = ++memo_clock;
	pthread_mutex_unlock(&memo_lock);
}

void
st_memo_drop(sqlite3 *db)
{
	pthread_mutex_lock(&memo_lock);
	for (int i = 0; i < MEMO_SLOTS; i++)
		if (memo[i].db == db)
			memo_clear(&memo[i]);
	pthread_mutex_unlock(&memo_lock);
}
