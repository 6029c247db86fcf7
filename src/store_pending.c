/*
 * What batched ingest leaves for later: the signatures of entries that
 * were taken on a newer entry's signature, checked off the critical path
 * by am_store_check_pending() and recorded when they fail
 * (am_store_bad_signatures), and the durability a run of catch-up
 * batches defers to its last commit (am_store_defer_sync, am_store_sync).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amends/store.h"
#include "amends/verify.h"
#define AMENDS_STORE_OWN
#include "store_impl.h"

/*
 * Checking the signatures left pending by batched ingest. A slice of at
 * most max entries is read from the oldest pending ranges in one read
 * transaction, checked on all cores with no lock held, and then written
 * back in one short immediate transaction: the ranges shrink by what was
 * checked, and entries whose own signature failed are recorded. Rows are
 * only ever removed here, so what was read is still there to remove.
 */

struct pending_range {
	int64_t feed;
	uint64_t from, to;         /* the row as read */
	uint64_t upto;             /* checked from..upto */
	uint8_t circle[AM_HASH_BYTES];
	uint8_t author[AM_ID_BYTES];
};

struct pending {
	struct pending_range *ranges;
	size_t nranges;
	struct am_entry *e;
	size_t *range_of;          /* e[i] belongs to ranges[range_of[i]] */
	size_t *off, *len;         /* where each copy is in the arena */
	size_t n, max;
	uint8_t *arena;            /* copies of the raw bytes e[] points into */
	size_t used, cap;
};

static void
pending_free(struct pending *p)
{
	free(p->ranges);
	free(p->e);
	free(p->range_of);
	free(p->off);
	free(p->len);
	free(p->arena);
}

/* Copies a raw entry of range r into the arena; it is decoded once
 * every copy is made, as the arena may move until then. */
static int
pending_add(struct pending *p, size_t r, const uint8_t *raw, size_t len)
{
	if (p->used + len > p->cap) {
		size_t cap = p->cap ? p->cap : 64 * 1024;
		while (cap < p->used + len)
			cap *= 2;
		uint8_t *a = realloc(p->arena, cap);
		if (a == NULL)
			return AM_ERR_NOMEM;
		p->arena = a;
		p->cap = cap;
	}
	memcpy(p->arena + p->used, raw, len);
	p->off[p->n] = p->used;
	p->len[p->n] = len;
	p->used += len;
	p->range_of[p->n++] = r;
	return AM_OK;
}

/* Decodes the copies; one that does not decode is left out (that is not a
 * signature's matter: verify reports it). */
static void
pending_decode(struct pending *p)
{
	size_t k = 0;
	for (size_t i = 0; i < p->n; i++) {
		if (am_entry_decode(p->arena + p->off[i], p->len[i], &p->e[k]) != AM_OK)
			continue;
		p->range_of[k++] = p->range_of[i];
	}
	p->n = k;
}

/* Reads the oldest pending ranges until max entries are gathered. */
static int
pending_read(struct am_store *s, struct pending *p)
{
	sqlite3_stmt *rows = NULL, *ent = NULL;
	int rc = sqlite3_prepare_v2(s->db, "SELECT u.feed, u.from_seq, u.to_seq, "
		"f.circle, f.author FROM unchecked u JOIN feeds f ON f.id = u.feed "
		"ORDER BY u.feed, u.from_seq", -1, &rows, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(s->db, "SELECT seq, raw FROM entries "
			"WHERE feed = ?1 AND seq BETWEEN ?2 AND ?3 ORDER BY seq", -1,
			&ent, NULL);
	if (rc != SQLITE_OK) {
		rc = am_store_error(rc);
		goto out;
	}
	while (p->n < p->max && (rc = sqlite3_step(rows)) == SQLITE_ROW) {
		struct pending_range *r;
		void *q = realloc(p->ranges, (p->nranges + 1) * sizeof *p->ranges);
		if (q == NULL) {
			rc = AM_ERR_NOMEM;
			goto out;
		}
		p->ranges = q;
		r = &p->ranges[p->nranges];
		r->feed = sqlite3_column_int64(rows, 0);
		r->from = (uint64_t)sqlite3_column_int64(rows, 1);
		r->to = (uint64_t)sqlite3_column_int64(rows, 2);
		if (sqlite3_column_bytes(rows, 3) != AM_HASH_BYTES ||
		    sqlite3_column_bytes(rows, 4) != AM_ID_BYTES) {
			rc = AM_ERR_DB_CORRUPT;
			goto out;
		}
		memcpy(r->circle, sqlite3_column_blob(rows, 3), AM_HASH_BYTES);
		memcpy(r->author, sqlite3_column_blob(rows, 4), AM_ID_BYTES);
		uint64_t room = p->max - p->n;
		r->upto = r->to - r->from + 1 > room ? r->from + room - 1 : r->to;
		sqlite3_reset(ent);
		sqlite3_bind_int64(ent, 1, r->feed);
		sqlite3_bind_int64(ent, 2, (int64_t)r->from);
		sqlite3_bind_int64(ent, 3, (int64_t)r->upto);
		while ((rc = sqlite3_step(ent)) == SQLITE_ROW) {
			rc = pending_add(p, p->nranges, sqlite3_column_blob(ent, 1),
				(size_t)sqlite3_column_bytes(ent, 1));
			if (rc != AM_OK)
				goto out;
		}
		if (rc != SQLITE_DONE) {
			rc = am_store_error(rc);
			goto out;
		}
		p->nranges++;
	}
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE || rc == SQLITE_OK ? AM_OK :
		am_store_error(rc);
out:
	sqlite3_finalize(rows);
	sqlite3_finalize(ent);
	return rc;
}

/* Inside the transaction: the checked part of each range leaves the
 * table, and each failed entry is recorded. */
static int
pending_write(struct am_store *s, const struct pending *p, const uint8_t *ok)
{
	sqlite3_stmt *bad = NULL, *del = NULL, *shrink = NULL;
	int rc = sqlite3_prepare_v2(s->db, "INSERT OR IGNORE INTO "
		"bad_signatures(feed, seq) VALUES (?1, ?2)", -1, &bad, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(s->db, "DELETE FROM unchecked WHERE "
			"feed = ?1 AND from_seq = ?2", -1, &del, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(s->db, "UPDATE unchecked SET from_seq = ?3 "
			"WHERE feed = ?1 AND from_seq = ?2", -1, &shrink, NULL);
	if (rc != SQLITE_OK) {
		rc = am_store_error(rc);
		goto out;
	}
	rc = AM_OK;
	for (size_t i = 0; i < p->n && rc == AM_OK; i++) {
		if (ok[i])
			continue;
		sqlite3_bind_int64(bad, 1, p->ranges[p->range_of[i]].feed);
		sqlite3_bind_int64(bad, 2, (int64_t)p->e[i].seq);
		rc = store_step_done(bad);
	}
	for (size_t r = 0; r < p->nranges && rc == AM_OK; r++) {
		const struct pending_range *x = &p->ranges[r];
		sqlite3_stmt *st = x->upto >= x->to ? del : shrink;
		sqlite3_bind_int64(st, 1, x->feed);
		sqlite3_bind_int64(st, 2, (int64_t)x->from);
		if (st == shrink)
			sqlite3_bind_int64(st, 3, (int64_t)x->upto + 1);
		rc = store_step_done(st);
	}
out:
	sqlite3_finalize(bad);
	sqlite3_finalize(del);
	sqlite3_finalize(shrink);
	return rc;
}

int
am_store_check_pending(struct am_store *s, size_t max,
	int (*fn)(void *ctx, const struct am_bad_signature *b), void *ctx,
	size_t *checked)
{
	struct pending p = { .max = max };
	uint8_t *ok = NULL;
	int rc;

	*checked = 0;
	if (max == 0)
		return AM_OK;
	p.e = malloc(max * sizeof *p.e);
	p.range_of = malloc(max * sizeof *p.range_of);
	p.off = malloc(max * sizeof *p.off);
	p.len = malloc(max * sizeof *p.len);
	if (p.e == NULL || p.range_of == NULL || p.off == NULL || p.len == NULL) {
		rc = AM_ERR_NOMEM;
		goto out;
	}
	bool own = sqlite3_get_autocommit(s->db);
	if (own && (rc = am_store_exec(s, "BEGIN")) != AM_OK)
		goto out;
	rc = pending_read(s, &p);
	if (own)
		am_store_exec(s, "COMMIT");
	if (rc != AM_OK || p.nranges == 0)
		goto out;
	pending_decode(&p);
	if ((ok = malloc(p.n ? p.n : 1)) == NULL) {
		rc = AM_ERR_NOMEM;
		goto out;
	}
	if (p.n > 0 && am_verify_signatures(p.e, p.n, 0, ok) != AM_OK) {
		rc = AM_ERR_NOMEM;
		goto out;
	}
	if ((rc = am_store_begin(s)) != AM_OK)
		goto out;
	if ((rc = pending_write(s, &p, ok)) != AM_OK) {
		am_store_rollback(s);
		goto out;
	}
	if ((rc = am_store_commit(s)) != AM_OK)
		goto out;
	*checked = p.n;
	for (size_t i = 0; i < p.n && fn != NULL; i++) {
		if (ok[i])
			continue;
		struct am_bad_signature b = { .seq = p.e[i].seq };
		memcpy(b.circle, p.ranges[p.range_of[i]].circle, AM_HASH_BYTES);
		memcpy(b.author, p.ranges[p.range_of[i]].author, AM_ID_BYTES);
		if ((rc = fn(ctx, &b)) != AM_OK)
			break;
	}
out:
	free(ok);
	pending_free(&p);
	return rc;
}

int
am_store_pending_count(struct am_store *s, uint64_t *count)
{
	int64_t n = 0;
	int rc = store_pragma_int(s->db, "SELECT coalesce(sum(to_seq - from_seq + 1), 0) "
		"FROM unchecked", &n);
	*count = rc == AM_OK ? (uint64_t)n : 0;
	return rc;
}

int
am_store_bad_signatures(struct am_store *s, const uint8_t *circle,
	int (*fn)(void *ctx, const struct am_bad_signature *b), void *ctx)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, "SELECT f.circle, f.author, b.seq "
		"FROM bad_signatures b JOIN feeds f ON f.id = b.feed "
		"WHERE ?1 IS NULL OR f.circle = ?1 ORDER BY f.circle, f.author, b.seq",
		-1, &st, NULL);
	if (rc != SQLITE_OK)
		return am_store_error(rc);
	if (circle != NULL)
		sqlite3_bind_blob(st, 1, circle, AM_HASH_BYTES, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct am_bad_signature b;
		if (sqlite3_column_bytes(st, 0) != AM_HASH_BYTES ||
		    sqlite3_column_bytes(st, 1) != AM_ID_BYTES)
			continue;
		memcpy(b.circle, sqlite3_column_blob(st, 0), AM_HASH_BYTES);
		memcpy(b.author, sqlite3_column_blob(st, 1), AM_ID_BYTES);
		b.seq = (uint64_t)sqlite3_column_int64(st, 2);
		int frc = fn(ctx, &b);
		if (frc != AM_OK) {
			sqlite3_finalize(st);
			return frc;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? AM_OK : am_store_error(rc);
}

/*
 * Deferred durability. In WAL mode a commit at synchronous=NORMAL is
 * atomic and survives the process being killed, but not the machine
 * losing power before the log reaches the disk; a commit at FULL syncs the
 * log file, and with it every commit before. Catching up writes batch
 * after batch: only the last one of a run needs to wait for the disk.
 */
void
am_store_defer_sync(struct am_store *s, bool defer)
{
	s->defer = defer;
}

/* Sets synchronous to NORMAL or back to FULL, outside a transaction. */
int
store_sync_mode(struct am_store *s, bool normal)
{
	if (s->normal == normal)
		return AM_OK;
	int rc = am_store_exec(s, normal ? "PRAGMA synchronous = NORMAL" :
		"PRAGMA synchronous = FULL");
	if (rc == AM_OK)
		s->normal = normal;
	return rc;
}

bool
am_store_held(const struct am_store *s)
{
	return s->held;
}

bool
store_hold_more(const struct am_store *s)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t ms = (now.tv_sec - s->held_since.tv_sec) * 1000 +
		(now.tv_nsec - s->held_since.tv_nsec) / 1000000;
	return s->held_entries < AM_STORE_HOLD_ENTRIES && ms < AM_STORE_HOLD_MS;
}

bool
am_store_hold_due(const struct am_store *s)
{
	return s->held && !store_hold_more(s);
}

int
am_store_release(struct am_store *s)
{
	if (!s->held)
		return AM_OK;
	s->held = false;
	int rc = am_store_commit(s);
	int mrc = store_sync_mode(s, false);
	if (rc != AM_OK)
		return rc;
	s->unsynced = true;          /* committed at NORMAL */
	rc = am_store_sync(s);
	return rc != AM_OK ? rc : mrc;
}

int
am_store_sync(struct am_store *s)
{
	sqlite3_file *wal = NULL;
	if (s->held)
		return am_store_release(s);
	if (!s->unsynced)
		return AM_OK;
	int rc = sqlite3_file_control(s->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal);
	if (rc == SQLITE_OK && wal != NULL && wal->pMethods != NULL)
		rc = wal->pMethods->xSync(wal, SQLITE_SYNC_FULL);
	if (rc != SQLITE_OK)
		return store_write_error(s, rc);
	s->unsynced = false;
	return AM_OK;
}
