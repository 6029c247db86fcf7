/*
 * Taking in entries that come from elsewhere: one at a time
 * (am_store_ingest), verified by itself, or a feed's run at a time
 * (am_store_ingest_batch), authenticated by its newest signature. Both
 * decide what an entry is to its feed in one place, ingest_one(): new,
 * already held, or fork evidence. The store's tables and the helpers
 * that extend a feed are in store.c.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amends/state.h"
#include "amends/store.h"
#include "amends/verify.h"
#define AMENDS_STORE_OWN
#include "store_impl.h"

static int
entry_hash_at(struct am_store *s, int64_t feed, uint64_t seq,
	uint8_t hash[static AM_HASH_BYTES], bool *found)
{
	sqlite3_stmt *st = store_stmt(s, S_ENTRY_GET);
	sqlite3_bind_int64(st, 1, feed);
	sqlite3_bind_int64(st, 2, (int64_t)seq);
	int rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == AM_HASH_BYTES;
	if (*found)
		memcpy(hash, sqlite3_column_blob(st, 0), AM_HASH_BYTES);
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? AM_OK : am_store_error(rc);
}

static int
record_fork(struct am_store *s, const struct feed *f, const struct am_entry *e)
{
	if (store_in_transaction(s) != AM_OK)
		return AM_ERR_IO;
	sqlite3_stmt *st = store_stmt(s, S_FORK_INSERT);
	sqlite3_bind_int64(st, 1, f->id);
	sqlite3_bind_int64(st, 2, (int64_t)e->seq);
	sqlite3_bind_blob(st, 3, e->hash, AM_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, e->raw, (int)e->raw_len, SQLITE_STATIC);
	int rc = store_step_done(st);
	if (rc != AM_OK)
		return rc;
	st = store_stmt(s, S_FEED_FORKED);
	sqlite3_bind_int64(st, 1, f->id);
	sqlite3_bind_int64(st, 2, (int64_t)e->seq);
	if ((rc = store_step_done(st)) != AM_OK)
		return rc;
	return am_state_fork(s, e);
}

/* Inside the caller's transaction: decides what e is to the feed and
 * stores it if it is new or fork evidence. */
static int
ingest_one(struct am_store *s, const struct am_entry *e,
	enum am_ingest_result *result)
{
	struct feed f;
	uint8_t have[AM_HASH_BYTES];
	bool found;
	int rc;

	/* past the cap by its own number: nothing else is asked */
	if (e->seq > AM_CAP_FEED_ENTRIES)
		return AM_ERR_CAP;
	/* nothing of a circle before its genesis (AM_ERR_NO_GENESIS) */
	if ((rc = am_state_admit(s, e)) != AM_OK)
		return rc;
	if ((rc = store_feed_get(s, e->circle, e->author, &f)) != AM_OK)
		return rc;
	if (e->seq <= f.head_seq) {
		if ((rc = entry_hash_at(s, f.id, e->seq, have, &found)) != AM_OK)
			return rc;
		if (found && memcmp(have, e->hash, AM_HASH_BYTES) == 0) {
			*result = AM_INGEST_DUPLICATE;
			return AM_OK;
		}
		*result = AM_INGEST_FORK;
		return record_fork(s, &f, e);
	}
	if (e->seq > f.head_seq + 1)
		return AM_ERR_GAP;
	if (e->seq > 1 && memcmp(e->prev, f.head_hash, AM_HASH_BYTES) != 0)
		return AM_ERR_CHAIN;
	*result = AM_INGEST_NEW;
	return store_feed_extend(s, &f, e);
}

int
am_store_ingest(struct am_store *s, const uint8_t *raw, size_t len,
	enum am_ingest_result *result)
{
	struct am_entry e;
	int rc;

	if ((rc = am_entry_decode(raw, len, &e)) != AM_OK)
		return rc;
	if ((rc = am_entry_verify(&e)) != AM_OK)
		return rc;
	if ((rc = am_store_begin(s)) != AM_OK)
		return rc;
	if ((rc = ingest_one(s, &e, result)) != AM_OK) {
		am_store_rollback(s);
		return rc;
	}
	if (*result == AM_INGEST_DUPLICATE) {
		am_store_rollback(s);
		return AM_OK;
	}
	return am_store_commit(s);
}

/*
 * Batched ingest. A run of one feed whose entries link by hash is
 * authenticated by the signature of its newest entry (DESIGN.md,
 * "Verifying"), so only that one is verified on the way in; every entry
 * keeps its own signature for standalone proofs, and those are checked
 * later by am_store_check_pending(). Entries that would be kept as fork
 * evidence are the exception: evidence must stand on its own, so each is
 * verified by itself. Each entry still goes through ingest_one(), the one
 * place that decides what an entry is to its feed, inside a savepoint so
 * that a refused entry leaves nothing behind while the good prefix before
 * it is committed.
 */

/* The longest prefix of e[0..n) that is one feed, numbered and linked;
 * *why receives the reason it stops short (AM_OK when it does not). */
static size_t
batch_linked(const uint8_t *const raw[], const size_t len[], size_t n,
	struct am_entry *e, int *why)
{
	size_t m;
	*why = AM_OK;
	for (m = 0; m < n; m++) {
		if ((*why = am_entry_decode(raw[m], len[m], &e[m])) != AM_OK)
			break;
		if (m == 0)
			continue;
		if (memcmp(e[m].circle, e[0].circle, AM_HASH_BYTES) != 0 ||
		    memcmp(e[m].author, e[0].author, AM_ID_BYTES) != 0 ||
		    e[m].seq != e[m - 1].seq + 1) {
			*why = AM_ERR_BATCH;
			break;
		}
		if (memcmp(e[m].prev, e[m - 1].hash, AM_HASH_BYTES) != 0) {
			*why = AM_ERR_CHAIN;
			break;
		}
	}
	return m;
}

/* Runs one cached statement that returns no rows. */
static int
batch_step(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? AM_OK : am_store_error(rc);
}

/* Inside the transaction: verifies e by itself when it would not extend
 * the feed and is not already held, then ingests it. */
static int
batch_one(struct am_store *s, const struct am_entry *e, bool verified,
	enum am_ingest_result *result)
{
	struct feed f;
	uint8_t have[AM_HASH_BYTES];
	bool found;
	int rc;

	if (!verified) {
		if ((rc = store_feed_get(s, e->circle, e->author, &f)) != AM_OK)
			return rc;
		if (e->seq <= f.head_seq) {
			rc = entry_hash_at(s, f.id, e->seq, have, &found);
			if (rc != AM_OK)
				return rc;
			if ((!found || memcmp(have, e->hash, AM_HASH_BYTES) != 0) &&
			    (rc = am_entry_verify(e)) != AM_OK)
				return rc;
		}
	}
	return ingest_one(s, e, result);
}

/*
 * The common case of catching up, taken in one go: e[0..n) is a linked,
 * authenticated run that extends its feed from its head. The checks of
 * ingest_one are made once for the run (the author may write here, the
 * first entry follows the head, the feed has not forked), then every
 * entry is stored and recorded and the head moves once. *taken is false,
 * with nothing written, when the run is not that case; ingest_one then
 * takes it entry by entry and gives the reason.
 */
static int
batch_extend(struct am_store *s, const struct am_entry *e, size_t n,
	enum am_ingest_result result[], bool *taken)
{
	struct feed f;
	sqlite3_stmt *st;
	int rc;

	*taken = false;
	if (am_state_admit(s, &e[0]) != AM_OK)
		return AM_OK;
	if ((rc = store_feed_get(s, e[0].circle, e[0].author, &f)) != AM_OK)
		return rc;
	uint64_t bytes = f.bytes;
	for (size_t i = 0; i < n; i++)
		bytes += e[i].raw_len;
	/* a run that reaches a cap goes entry by entry, to stop where it
	 * does */
	if (f.forked_at != 0 || e[0].seq != f.head_seq + 1 ||
	    e[n - 1].seq > AM_CAP_FEED_ENTRIES || bytes > AM_CAP_FEED_BYTES ||
	    (e[0].seq > 1 && memcmp(e[0].prev, f.head_hash, AM_HASH_BYTES) != 0))
		return AM_OK;
	if (f.id == 0) {
		/* the feed's first entry: feed_extend makes the row (and
		 * records the entry's facts) */
		if ((rc = store_feed_extend(s, &f, &e[0])) != AM_OK)
			return rc;
		result[0] = AM_INGEST_NEW;
		e++;
		result++;
		n--;
		*taken = true;
	}
	for (size_t i = 0; i < n; i++) {
		st = store_stmt(s, S_ENTRY_INSERT);
		sqlite3_bind_int64(st, 1, f.id);
		sqlite3_bind_int64(st, 2, (int64_t)e[i].seq);
		sqlite3_bind_blob(st, 3, e[i].hash, AM_HASH_BYTES, SQLITE_STATIC);
		sqlite3_bind_int(st, 4, (int)e[i].kind);
		sqlite3_bind_blob(st, 5, e[i].raw, (int)e[i].raw_len, SQLITE_STATIC);
		if ((rc = store_step_done(st)) != AM_OK ||
		    (rc = am_state_record(s, &e[i], f.id)) != AM_OK)
			return rc;
		result[i] = AM_INGEST_NEW;
	}
	if (n > 0) {
		st = store_stmt(s, S_FEED_UPDATE);
		sqlite3_bind_int64(st, 1, f.id);
		sqlite3_bind_int64(st, 2, (int64_t)e[n - 1].seq);
		sqlite3_bind_blob(st, 3, e[n - 1].hash, AM_HASH_BYTES, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, (int64_t)bytes);
		if ((rc = store_step_done(st)) != AM_OK)
			return rc;
	}
	*taken = true;
	return AM_OK;
}

/* Refusals decided by looking at the entry: the good prefix before it is
 * kept. Anything else (the database failing) rolls the whole run back. */
static bool
batch_refusal(int rc)
{
	switch (rc) {
	case AM_ERR_SIGNATURE:
	case AM_ERR_CHAIN:
	case AM_ERR_GAP:
	case AM_ERR_FORK:
	case AM_ERR_FIELD:
	case AM_ERR_NO_GENESIS:
	case AM_ERR_CAP:
		return true;
	default:
		return rc >= AM_ERR_TRUNCATED && rc <= AM_ERR_FIELD;
	}
}

/*
 * Which entries of e[0..m) the run rests on. The newest entry's signature
 * is checked; when it holds, the whole linked run is authentic and
 * *good = m. When it fails, every signature is checked and the run is cut
 * after the newest entry whose signature holds (nothing after it is
 * vouched for by anyone). own[i] is set when entry i's own signature is
 * known to hold.
 */
static int
batch_authenticate(const struct am_entry *e, size_t m, uint8_t *own,
	size_t *good)
{
	memset(own, 0, m);
	if (am_entry_verify(&e[m - 1]) == AM_OK) {
		own[m - 1] = 1;
		*good = m;
		return AM_OK;
	}
	if (m == 1) {
		*good = 0;       /* the newest was the only one */
		return AM_OK;
	}
	if (am_verify_signatures(e, m, 0, own) != AM_OK)
		return AM_ERR_NOMEM;
	for (*good = m; *good > 0 && !own[*good - 1]; (*good)--)
		;
	return AM_OK;
}

/*
 * Inside the transaction: records the entries stored new whose own
 * signature was not checked (they rest on a later one's) as ranges of
 * the feed's numbers, for am_store_check_pending().
 */
static int
batch_note_unchecked(struct am_store *s, const struct am_entry *e, size_t n,
	const enum am_ingest_result result[], const uint8_t *own)
{
	size_t i = 0;
	while (i < n) {
		if (result[i] != AM_INGEST_NEW || own[i]) {
			i++;
			continue;
		}
		size_t j = i;
		while (j + 1 < n && result[j + 1] == AM_INGEST_NEW && !own[j + 1] &&
		    e[j + 1].seq == e[j].seq + 1)
			j++;
		sqlite3_stmt *st = store_stmt(s, S_UNCHECKED_INSERT);
		sqlite3_bind_blob(st, 1, e[i].circle, AM_HASH_BYTES, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, e[i].author, AM_ID_BYTES, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (int64_t)e[i].seq);
		sqlite3_bind_int64(st, 4, (int64_t)e[j].seq);
		int rc = store_step_done(st);
		if (rc != AM_OK)
			return rc;
		i = j + 1;
	}
	return AM_OK;
}

int
am_store_ingest_batch(struct am_store *s, const uint8_t *const raw[],
	const size_t len[], size_t n, enum am_ingest_result result[],
	size_t *done)
{
	static const char *const sp_sql[3] = { "SAVEPOINT batch_entry",
		"RELEASE batch_entry", "ROLLBACK TO batch_entry" };
	sqlite3_stmt *sp[3] = { NULL, NULL, NULL };
	struct am_entry *e;
	uint8_t *own = NULL;
	size_t m, good, i;
	bool changed = false;
	int refused, rc;

	*done = 0;
	if (n == 0)
		return AM_OK;
	if (n > AM_STORE_BATCH_MAX)
		return AM_ERR_ARG;
	if ((e = malloc(n * sizeof *e)) == NULL || (own = malloc(n)) == NULL) {
		free(e);
		return AM_ERR_NOMEM;
	}
	m = batch_linked(raw, len, n, e, &refused);
	/*
	 * The run is authenticated by its newest signature alone (DESIGN.md,
	 * "Verifying"; protocol/sync.md, "Verifying on ingest"): the others
	 * are checked later, off the critical path, and one that fails then
	 * is kept, as its content is vouched for by the next entry, and
	 * recorded against its author.
	 */
	good = 0;
	if (m > 0 && (rc = batch_authenticate(e, m, own, &good)) != AM_OK)
		goto fail;
	if (good < m)
		refused = AM_ERR_SIGNATURE;
	for (i = 0; i < 3; i++) {
		int src = sqlite3_prepare_v2(s->db, sp_sql[i], -1, &sp[i], NULL);
		if (src != SQLITE_OK) {
			rc = am_store_error(src);
			goto fail;
		}
	}
	/* the run's transaction, held open by the batch before, or a new one
	 * (at NORMAL while deferred: synchronous is set outside it) */
	bool held = s->held;
	s->held = false;
	if (!held && ((rc = store_sync_mode(s, s->defer)) != AM_OK ||
	    (rc = am_store_begin(s)) != AM_OK))
		goto fail;
	struct feed head;
	if (good > 0 && (rc = store_feed_get(s, e[0].circle, e[0].author, &head)) != AM_OK)
		goto rollback;
	for (i = 0; i < good; i++) {
		/* Entries the feed already holds (duplicates, fork evidence)
		 * leave its head alone; from the one after the head on, the
		 * rest of the run may extend the feed in one go. */
		if (e[i].seq == head.head_seq + 1) {
			bool taken;
			rc = batch_extend(s, &e[i], good - i, &result[i], &taken);
			if (rc != AM_OK)
				goto rollback;
			if (taken) {
				changed = true;
				i = good;
				break;
			}
		}
		if ((rc = batch_step(sp[0])) != AM_OK)
			goto rollback;
		rc = batch_one(s, &e[i], own[i], &result[i]);
		if (rc != AM_OK) {
			int urc = batch_step(sp[2]);
			if (urc == AM_OK)
				urc = batch_step(sp[1]);
			if (urc != AM_OK || !batch_refusal(rc)) {
				if (urc != AM_OK)
					rc = urc;
				goto rollback;
			}
			refused = rc;
			break;
		}
		if ((rc = batch_step(sp[1])) != AM_OK)
			goto rollback;
		changed |= result[i] != AM_INGEST_DUPLICATE;
	}
	if (changed && (rc = batch_note_unchecked(s, e, i, result, own)) != AM_OK)
		goto rollback;
	if (!held)
		clock_gettime(CLOCK_MONOTONIC, &s->held_since);
	s->held_entries = (held ? s->held_entries : 0) + i;
	if ((changed || held) && s->defer && store_hold_more(s)) {
		s->held = true;
	} else if (changed || held) {
		if ((rc = am_store_commit(s)) != AM_OK)
			goto fail;
		/* a commit at synchronous=FULL syncs the whole log, and so
		 * every deferred commit before it */
		s->unsynced = s->normal;
	} else {
		am_store_rollback(s);
	}
	if (!s->held)
		store_sync_mode(s, false);
	*done = i;
	for (i = 0; i < 3; i++)
		sqlite3_finalize(sp[i]);
	free(own);
	free(e);
	return *done == n ? AM_OK : refused;
rollback:
	am_store_rollback(s);
fail:
	store_sync_mode(s, false);
	for (i = 0; i < 3; i++)
		sqlite3_finalize(sp[i]);
	free(own);
	free(e);
	return rc;
}
