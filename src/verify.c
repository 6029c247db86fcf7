/*
 * Full verification of the store (include/amends/verify.h). One pass over
 * the entries in feed order checks decoding, numbering, hash links and the
 * stored hash columns on the reading thread; signatures, the costly part
 * (~47 us each), are collected in batches and checked on every core.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "amends/verify.h"
#include "store_impl.h"

#define BATCH_ENTRIES 8192
#define ARENA_BYTES (16u << 20)
#define MAX_THREADS 64

struct slice {
	const struct am_entry *entries;
	size_t n;
	uint8_t *ok;
};

static void *
verify_slice(void *arg)
{
	struct slice *sl = arg;
	for (size_t i = 0; i < sl->n; i++)
		sl->ok[i] = am_entry_verify(&sl->entries[i]) == AM_OK;
	return NULL;
}

static unsigned
cores(unsigned want)
{
	if (want == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		want = n > 0 ? (unsigned)n : 1;
	}
	return want > MAX_THREADS ? MAX_THREADS : want;
}

int
am_verify_signatures(const struct am_entry *entries, size_t n, unsigned threads,
	uint8_t *ok)
{
	pthread_t tid[MAX_THREADS];
	struct slice sl[MAX_THREADS];
	bool spawned[MAX_THREADS] = { false };
	unsigned t = n < 64 ? 1 : cores(threads), nsl = 0;

	size_t per = n == 0 ? 1 : (n + t - 1) / t;
	for (size_t from = 0; from < n; from += per) {
		sl[nsl].entries = entries + from;
		sl[nsl].n = per < n - from ? per : n - from;
		sl[nsl].ok = ok + from;
		nsl++;
	}
	/* slice 0 runs on the calling thread; a thread that cannot be
	 * started is replaced by doing its slice here */
	for (unsigned i = 1; i < nsl; i++) {
		spawned[i] = pthread_create(&tid[i], NULL, verify_slice, &sl[i]) == 0;
		if (!spawned[i])
			verify_slice(&sl[i]);
	}
	if (nsl > 0)
		verify_slice(&sl[0]);
	for (unsigned i = 1; i < nsl; i++)
		if (spawned[i])
			pthread_join(tid[i], NULL);
	return AM_OK;
}

/* Entries waiting for their signatures to be checked, with where they came
 * from for the report. */
struct batch {
	struct am_entry *entries;
	uint8_t *ok;
	size_t n;
	uint8_t *arena;
	size_t used;
};

struct run {
	struct am_store *s;
	unsigned threads;
	void (*problem)(void *ctx, const struct am_verify_problem *p);
	void *ctx;
	struct am_verify_report *report;
	struct batch b;
	/* the feed being read */
	uint8_t circle[AM_HASH_BYTES];
	uint8_t author[AM_ID_BYTES];
	uint64_t head_seq;
	uint8_t head_hash[AM_HASH_BYTES];
	uint64_t last_seq;
	uint8_t last_hash[AM_HASH_BYTES];
};

static void
report(struct run *r, const uint8_t *circle, const uint8_t *author, uint64_t seq,
	int code, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void
report(struct run *r, const uint8_t *circle, const uint8_t *author, uint64_t seq,
	int code, const char *fmt, ...)
{
	struct am_verify_problem p = { .seq = seq, .code = code };
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	memcpy(p.circle, circle, AM_HASH_BYTES);
	memcpy(p.author, author, AM_ID_BYTES);
	p.what = what;
	r->report->problems++;
	if (r->problem != NULL)
		r->problem(r->ctx, &p);
}

static int
flush(struct run *r)
{
	struct batch *b = &r->b;
	int rc = am_verify_signatures(b->entries, b->n, r->threads, b->ok);
	if (rc != AM_OK)
		return rc;
	for (size_t i = 0; i < b->n; i++) {
		const struct am_entry *e = &b->entries[i];
		if (!b->ok[i])
			report(r, e->circle, e->author, e->seq, AM_ERR_SIGNATURE,
				"the signature does not verify against the author's key");
	}
	b->n = 0;
	b->used = 0;
	return AM_OK;
}

/* Queues a decoded entry for its signature check; the bytes are copied so
 * that they outlive the database row. */
static int
queue(struct run *r, const uint8_t *raw, size_t len)
{
	struct batch *b = &r->b;
	int rc;
	if (b->n == BATCH_ENTRIES || b->used + len > ARENA_BYTES)
		if ((rc = flush(r)) != AM_OK)
			return rc;
	uint8_t *copy = b->arena + b->used;
	memcpy(copy, raw, len);
	b->used += len;
	rc = am_entry_decode(copy, len, &b->entries[b->n]);
	if (rc != AM_OK)
		return rc;
	b->n++;
	return AM_OK;
}

static void
end_feed(struct run *r)
{
	if (r->last_seq != r->head_seq)
		report(r, r->circle, r->author, 0, AM_ERR_GAP,
			"the feed's head says %llu entries but %llu are stored in order",
			(unsigned long long)r->head_seq, (unsigned long long)r->last_seq);
	else if (r->head_seq > 0 && memcmp(r->last_hash, r->head_hash, AM_HASH_BYTES) != 0)
		report(r, r->circle, r->author, r->head_seq, AM_ERR_CHAIN,
			"the feed's head hash is not the hash of its newest entry");
}

static int
check_entry(struct run *r, uint64_t seq, const uint8_t *stored_hash,
	const uint8_t *raw, size_t len)
{
	struct am_entry e;
	uint8_t hash[AM_HASH_BYTES];
	int rc;

	r->report->entries++;
	am_hash(raw, len, hash);
	if (seq != r->last_seq + 1)
		report(r, r->circle, r->author, seq, AM_ERR_GAP,
			"entries %llu to %llu are missing before it",
			(unsigned long long)r->last_seq + 1, (unsigned long long)seq - 1);
	if (memcmp(hash, stored_hash, AM_HASH_BYTES) != 0)
		report(r, r->circle, r->author, seq, AM_ERR_CHAIN,
			"its bytes do not hash to the hash stored with it (altered at rest)");
	rc = am_entry_decode(raw, len, &e);
	if (rc != AM_OK) {
		report(r, r->circle, r->author, seq, rc, "it does not decode: %s",
			am_strerror(rc));
	} else if (memcmp(e.circle, r->circle, AM_HASH_BYTES) != 0 ||
	    memcmp(e.author, r->author, AM_ID_BYTES) != 0 || e.seq != seq) {
		report(r, r->circle, r->author, seq, AM_ERR_FIELD,
			"it names another circle, author or number than where it is stored");
	} else {
		if (seq == r->last_seq + 1 && seq > 1 &&
		    memcmp(e.prev, r->last_hash, AM_HASH_BYTES) != 0)
			report(r, r->circle, r->author, seq, AM_ERR_CHAIN,
				"its previous hash is not the hash of entry %llu",
				(unsigned long long)seq - 1);
		if ((rc = queue(r, raw, len)) != AM_OK)
			return rc;
	}
	r->last_seq = seq;
	memcpy(r->last_hash, hash, AM_HASH_BYTES);
	return AM_OK;
}

static int
check_feeds(struct run *r, const uint8_t *circle)
{
	sqlite3 *db = am_store_sqlite(r->s);
	sqlite3_stmt *st;
	int64_t feed = -1;
	int rc = sqlite3_prepare_v2(db,
		"SELECT f.id, f.circle, f.author, f.head_seq, f.head_hash, e.seq, e.hash, e.raw "
		"FROM feeds f JOIN entries e ON e.feed = f.id "
		"WHERE ?1 IS NULL OR f.circle = ?1 ORDER BY f.id, e.seq", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return am_store_error(rc);
	if (circle != NULL)
		sqlite3_bind_blob(st, 1, circle, AM_HASH_BYTES, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 1) != AM_HASH_BYTES ||
		    sqlite3_column_bytes(st, 2) != AM_ID_BYTES ||
		    sqlite3_column_bytes(st, 4) != AM_HASH_BYTES ||
		    sqlite3_column_bytes(st, 6) != AM_HASH_BYTES) {
			rc = SQLITE_CORRUPT;
			break;
		}
		if (sqlite3_column_int64(st, 0) != feed) {
			if (feed != -1)
				end_feed(r);
			feed = sqlite3_column_int64(st, 0);
			memcpy(r->circle, sqlite3_column_blob(st, 1), AM_HASH_BYTES);
			memcpy(r->author, sqlite3_column_blob(st, 2), AM_ID_BYTES);
			r->head_seq = (uint64_t)sqlite3_column_int64(st, 3);
			memcpy(r->head_hash, sqlite3_column_blob(st, 4), AM_HASH_BYTES);
			r->last_seq = 0;
			r->report->feeds++;
		}
		int crc = check_entry(r, (uint64_t)sqlite3_column_int64(st, 5),
			sqlite3_column_blob(st, 6), sqlite3_column_blob(st, 7),
			(size_t)sqlite3_column_bytes(st, 7));
		if (crc != AM_OK) {
			sqlite3_finalize(st);
			return crc;
		}
	}
	if (rc == SQLITE_DONE && feed != -1)
		end_feed(r);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? AM_OK : am_store_error(rc);
}

/* Fork evidence: each must be a valid entry of its feed at a number the
 * feed holds, different from the one held. */
static int
check_forks(struct run *r, const uint8_t *circle)
{
	sqlite3 *db = am_store_sqlite(r->s);
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db,
		"SELECT f.circle, f.author, k.seq, k.raw, e.hash FROM forks k "
		"JOIN feeds f ON f.id = k.feed LEFT JOIN entries e "
		"ON e.feed = k.feed AND e.seq = k.seq "
		"WHERE ?1 IS NULL OR f.circle = ?1 ORDER BY f.id, k.seq", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return am_store_error(rc);
	if (circle != NULL)
		sqlite3_bind_blob(st, 1, circle, AM_HASH_BYTES, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct am_entry e;
		const uint8_t *c = sqlite3_column_blob(st, 0);
		const uint8_t *a = sqlite3_column_blob(st, 1);
		uint64_t seq = (uint64_t)sqlite3_column_int64(st, 2);
		const uint8_t *raw = sqlite3_column_blob(st, 3);
		size_t len = (size_t)sqlite3_column_bytes(st, 3);
		const uint8_t *held = sqlite3_column_blob(st, 4);
		if (c == NULL || a == NULL || sqlite3_column_bytes(st, 0) != AM_HASH_BYTES ||
		    sqlite3_column_bytes(st, 1) != AM_ID_BYTES) {
			rc = SQLITE_CORRUPT;
			break;
		}
		r->report->entries++;
		int drc = am_entry_decode(raw, len, &e);
		if (drc != AM_OK) {
			report(r, c, a, seq, drc, "fork evidence does not decode: %s",
				am_strerror(drc));
			continue;
		}
		if (memcmp(e.author, a, AM_ID_BYTES) != 0 || e.seq != seq ||
		    held == NULL || memcmp(held, e.hash, AM_HASH_BYTES) == 0) {
			report(r, c, a, seq, AM_ERR_FIELD,
				"fork evidence is not a second entry at a number the feed holds");
		} else {
			char h1[2 * AM_HASH_BYTES + 1], h2[2 * AM_HASH_BYTES + 1];
			am_hex(held, AM_HASH_BYTES, h1);
			am_hex(e.hash, AM_HASH_BYTES, h2);
			report(r, c, a, seq, AM_ERR_FORK,
				"the author signed two different entries at this number "
				"(fork): %.16s and %.16s", h1, h2);
		}
		if ((drc = queue(r, raw, len)) != AM_OK) {
			sqlite3_finalize(st);
			return drc;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? AM_OK : am_store_error(rc);
}

static int
count(struct am_store *s, const char *sql, const uint8_t *circle, uint64_t *out)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(am_store_sqlite(s), sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return am_store_error(rc);
	if (circle != NULL)
		sqlite3_bind_blob(st, 1, circle, AM_HASH_BYTES, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? AM_OK : am_store_error(rc);
}

int
am_verify_store(struct am_store *s, const uint8_t *circle, unsigned threads,
	void (*problem)(void *ctx, const struct am_verify_problem *p), void *ctx,
	struct am_verify_report *rep)
{
	struct run r = { .s = s, .threads = threads, .problem = problem,
		.ctx = ctx, .report = rep };
	int rc = AM_ERR_NOMEM;

	memset(rep, 0, sizeof *rep);
	r.b.entries = malloc(BATCH_ENTRIES * sizeof *r.b.entries);
	r.b.ok = malloc(BATCH_ENTRIES);
	r.b.arena = malloc(ARENA_BYTES);
	if (r.b.entries == NULL || r.b.ok == NULL || r.b.arena == NULL)
		goto out;
	/* one read transaction: a consistent snapshot while nodes write */
	if ((rc = am_store_exec(s, "BEGIN")) != AM_OK)
		goto out;
	if ((rc = count(s, "SELECT count(DISTINCT author) FROM feeds "
	    "WHERE ?1 IS NULL OR circle = ?1", circle, &rep->authors)) == AM_OK &&
	    (rc = count(s, "SELECT count(DISTINCT circle) FROM feeds "
	    "WHERE ?1 IS NULL OR circle = ?1", circle, &rep->circles)) == AM_OK &&
	    (rc = check_feeds(&r, circle)) == AM_OK &&
	    (rc = check_forks(&r, circle)) == AM_OK)
		rc = flush(&r);
	am_store_exec(s, "COMMIT");
out:
	free(r.b.entries);
	free(r.b.ok);
	free(r.b.arena);
	return rc;
}
