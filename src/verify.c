/*
 * Full verification of the store (include/amends/verify.h). One pass over
 * the entries in feed order checks decoding, numbering, hash links and the
 * stored hash columns on the reading thread; signatures, the costly part
 * (~47 us each), are checked on every core while the reader goes on, so
 * that the whole pass runs at the rate of the signature checks.
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

/* Internal to report(): a bad signature vouched for by the next entry,
 * reported as AM_ERR_SIGNATURE with finding set. */
#define CODE_VOUCHED (-1)
#include "store_impl.h"

#define BATCH_ENTRIES 4096
#define ARENA_BYTES (4u << 20)    /* per batch: many entries of AM_ENTRY_MAX */
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

/*
 * Signatures are checked while the reader goes on: the reader fills a ring
 * of batches (decoded entries and a copy of their bytes); a published
 * batch is cut into chunks that checker threads, and the reader itself
 * whenever it has to wait for a free batch, take in order. Problems are
 * reported by the reader only, batch by batch in feed order, so the
 * callback never runs on another thread.
 */
#define RING 4
#define CHUNK 32

struct batch {
	struct am_entry *entries;
	uint8_t *ok;
	uint8_t *arena;               /* the entries' bytes, outliving the rows */
	size_t n;
	size_t used;                  /* bytes of arena in use */
	size_t taken;                 /* entries handed to a checker (under lock) */
	size_t checked;               /* entries whose check is done (under lock) */
};

struct pool {
	pthread_mutex_t lock;
	pthread_cond_t more;          /* checkers: a batch was published, or stop */
	pthread_cond_t done;          /* reader: a batch was fully checked */
	struct batch b[RING];
	size_t first;                 /* oldest batch not retired (a count) */
	size_t published;             /* batches published; b[published % RING] fills */
	bool stop;
	pthread_t tid[MAX_THREADS];
	unsigned nthreads;
};

struct run {
	struct am_store *s;
	void (*problem)(void *ctx, const struct am_verify_problem *p);
	void *ctx;
	struct am_verify_report *report;
	struct pool pool;
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
	/* proof against an author, the same on every node that holds it */
	bool finding = code == AM_ERR_FORK || code == CODE_VOUCHED;
	struct am_verify_problem p = { .seq = seq,
		.code = finding && code == CODE_VOUCHED ? AM_ERR_SIGNATURE : code,
		.finding = finding };
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	memcpy(p.circle, circle, AM_HASH_BYTES);
	memcpy(p.author, author, AM_ID_BYTES);
	p.what = what;
	r->report->problems++;
	r->report->findings += finding;
	if (r->problem != NULL)
		r->problem(r->ctx, &p);
}

struct vouch {
	const uint8_t *hash;
	bool vouched;
};

static int
vouch_one(void *ctx, const uint8_t *raw, size_t len)
{
	struct vouch *v = ctx;
	struct am_entry next;
	v->vouched = am_entry_decode(raw, len, &next) == AM_OK && next.has_prev &&
		memcmp(next.prev, v->hash, AM_HASH_BYTES) == 0;
	return AM_OK;
}

/*
 * A bad signature on an entry that the feed's next entry names by hash is
 * its author's doing: batched ingest took it on the next entry's signature
 * (protocol/sync.md, "Verifying on ingest"), so its content is the
 * author's and only its own proof is broken. The report says so.
 */
static void
report_signature(struct run *r, const struct am_entry *e)
{
	struct vouch v = { .hash = e->hash, .vouched = false };
	if (am_store_range(r->s, e->circle, e->author, e->seq + 1, e->seq + 1,
	    vouch_one, &v) != AM_OK)
		v.vouched = false;
	if (v.vouched)
		report(r, e->circle, e->author, e->seq, CODE_VOUCHED,
			"the signature does not verify against the author's key; its "
			"content is vouched for by entry %llu of the same author, which "
			"names its hash", (unsigned long long)e->seq + 1);
	else
		report(r, e->circle, e->author, e->seq, AM_ERR_SIGNATURE,
			"the signature does not verify against the author's key");
}

/* Under the lock: hands out the next chunk of the oldest published batch
 * with entries left to check; false when there is none. */
static bool
take(struct pool *p, struct batch **b, size_t *from, size_t *k)
{
	for (size_t i = p->first; i < p->published; i++) {
		struct batch *x = &p->b[i % RING];
		if (x->taken < x->n) {
			*b = x;
			*from = x->taken;
			*k = x->n - x->taken < CHUNK ? x->n - x->taken : CHUNK;
			x->taken += *k;
			return true;
		}
	}
	return false;
}

/* Checks a chunk taken under the lock; called and returns with it held. */
static void
check_chunk(struct pool *p, struct batch *b, size_t from, size_t k)
{
	pthread_mutex_unlock(&p->lock);
	for (size_t i = from; i < from + k; i++)
		b->ok[i] = am_entry_verify(&b->entries[i]) == AM_OK;
	pthread_mutex_lock(&p->lock);
	b->checked += k;
	if (b->checked == b->n)
		pthread_cond_signal(&p->done);
}

static void *
checker(void *arg)
{
	struct pool *p = arg;
	struct batch *b;
	size_t from, k;
	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		if (take(p, &b, &from, &k))
			check_chunk(p, b, from, k);
		else
			pthread_cond_wait(&p->more, &p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static int
pool_start(struct pool *p, unsigned threads)
{
	memset(p, 0, sizeof *p);
	for (unsigned i = 0; i < RING; i++) {
		struct batch *b = &p->b[i];
		b->entries = malloc(BATCH_ENTRIES * sizeof *b->entries);
		b->ok = malloc(BATCH_ENTRIES);
		b->arena = malloc(ARENA_BYTES);
		if (b->entries == NULL || b->ok == NULL || b->arena == NULL)
			return AM_ERR_NOMEM;
	}
	if (pthread_mutex_init(&p->lock, NULL) != 0)
		return AM_ERR_NOMEM;
	if (pthread_cond_init(&p->more, NULL) != 0) {
		pthread_mutex_destroy(&p->lock);
		return AM_ERR_NOMEM;
	}
	if (pthread_cond_init(&p->done, NULL) != 0) {
		pthread_cond_destroy(&p->more);
		pthread_mutex_destroy(&p->lock);
		return AM_ERR_NOMEM;
	}
	/* the reader is one of the threads: it checks whenever it waits, so
	 * with one core it checks everything itself */
	for (unsigned i = 0; i + 1 < threads; i++) {
		if (pthread_create(&p->tid[p->nthreads], NULL, checker, p) != 0)
			break;
		p->nthreads++;
	}
	return AM_OK;
}

/* Stops the checkers (after pool_start succeeded) and frees the ring. */
static void
pool_stop(struct pool *p, bool started)
{
	if (started) {
		pthread_mutex_lock(&p->lock);
		p->stop = true;
		pthread_cond_broadcast(&p->more);
		pthread_mutex_unlock(&p->lock);
		for (unsigned i = 0; i < p->nthreads; i++)
			pthread_join(p->tid[i], NULL);
		pthread_cond_destroy(&p->done);
		pthread_cond_destroy(&p->more);
		pthread_mutex_destroy(&p->lock);
	}
	for (unsigned i = 0; i < RING; i++) {
		free(p->b[i].entries);
		free(p->b[i].ok);
		free(p->b[i].arena);
	}
}

/* Waits for the oldest published batch, checking chunks meanwhile; then
 * reports its bad signatures and frees its slot. */
static void
retire(struct run *r)
{
	struct pool *p = &r->pool;
	struct batch *b = &p->b[p->first % RING], *x;
	size_t from, k;
	pthread_mutex_lock(&p->lock);
	while (b->checked < b->n) {
		if (take(p, &x, &from, &k))
			check_chunk(p, x, from, k);
		else
			pthread_cond_wait(&p->done, &p->lock);
	}
	p->first++;
	pthread_mutex_unlock(&p->lock);
	for (size_t i = 0; i < b->n; i++) {
		const struct am_entry *e = &b->entries[i];
		if (!b->ok[i])
			report_signature(r, e);
	}
	b->n = b->used = b->taken = b->checked = 0;
}

/* Hands the batch being filled to the checkers, and retires batches until
 * the next slot is free. */
static void
publish(struct run *r)
{
	struct pool *p = &r->pool;
	if (p->b[p->published % RING].n == 0)
		return;
	pthread_mutex_lock(&p->lock);
	p->published++;
	pthread_cond_broadcast(&p->more);
	pthread_mutex_unlock(&p->lock);
	if (p->published - p->first == RING)
		retire(r);
}

/* Publishes what is left and waits for every signature to be checked. */
static void
drain(struct run *r)
{
	publish(r);
	while (r->pool.first < r->pool.published)
		retire(r);
}

/* The slot of the batch being filled, with room for an entry of len
 * bytes. */
static struct batch *
slot(struct run *r, size_t len)
{
	struct batch *b = &r->pool.b[r->pool.published % RING];
	if (b->n == BATCH_ENTRIES || b->used + len > ARENA_BYTES) {
		publish(r);
		b = &r->pool.b[r->pool.published % RING];
	}
	return b;
}

/* Copies and decodes an entry into the batch being filled, without
 * queueing it yet: see keep(). */
static int
decode(struct run *r, const uint8_t *raw, size_t len, struct am_entry **e)
{
	struct batch *b = slot(r, len);
	uint8_t *copy = b->arena + b->used;
	memcpy(copy, raw, len);
	*e = &b->entries[b->n];
	return am_entry_decode(copy, len, *e);
}

/* Queues the entry decode() just returned for its signature check. */
static void
keep(struct run *r, const struct am_entry *e)
{
	struct batch *b = &r->pool.b[r->pool.published % RING];
	b->used += e->raw_len;
	b->n++;
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
	struct am_entry *e;
	uint8_t hash[AM_HASH_BYTES];

	r->report->entries++;
	/* decoding also hashes the bytes; an entry that does not decode is
	 * hashed apart for the links */
	int rc = decode(r, raw, len, &e);
	if (rc == AM_OK)
		memcpy(hash, e->hash, AM_HASH_BYTES);
	else
		am_hash(raw, len, hash);
	if (seq != r->last_seq + 1)
		report(r, r->circle, r->author, seq, AM_ERR_GAP,
			"entries %llu to %llu are missing before it",
			(unsigned long long)r->last_seq + 1, (unsigned long long)seq - 1);
	if (memcmp(hash, stored_hash, AM_HASH_BYTES) != 0)
		report(r, r->circle, r->author, seq, AM_ERR_CHAIN,
			"its bytes do not hash to the hash stored with it (altered at rest)");
	if (rc != AM_OK) {
		report(r, r->circle, r->author, seq, rc, "it does not decode: %s",
			am_strerror(rc));
	} else if (memcmp(e->circle, r->circle, AM_HASH_BYTES) != 0 ||
	    memcmp(e->author, r->author, AM_ID_BYTES) != 0 || e->seq != seq) {
		report(r, r->circle, r->author, seq, AM_ERR_FIELD,
			"it names another circle, author or number than where it is stored");
	} else {
		if (seq == r->last_seq + 1 && seq > 1 &&
		    memcmp(e->prev, r->last_hash, AM_HASH_BYTES) != 0)
			report(r, r->circle, r->author, seq, AM_ERR_CHAIN,
				"its previous hash is not the hash of entry %llu",
				(unsigned long long)seq - 1);
		keep(r, e);
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
		struct am_entry *e;
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
		int drc = decode(r, raw, len, &e);
		if (drc != AM_OK) {
			report(r, c, a, seq, drc, "fork evidence does not decode: %s",
				am_strerror(drc));
			continue;
		}
		if (memcmp(e->author, a, AM_ID_BYTES) != 0 || e->seq != seq ||
		    held == NULL || memcmp(held, e->hash, AM_HASH_BYTES) == 0) {
			report(r, c, a, seq, AM_ERR_FIELD,
				"fork evidence is not a second entry at a number the feed holds");
		} else {
			char h1[2 * AM_HASH_BYTES + 1], h2[2 * AM_HASH_BYTES + 1];
			am_hex(held, AM_HASH_BYTES, h1);
			am_hex(e->hash, AM_HASH_BYTES, h2);
			report(r, c, a, seq, AM_ERR_FORK,
				"the author signed two different entries at this number "
				"(fork): %.16s and %.16s", h1, h2);
		}
		keep(r, e);
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
	struct run r = { .s = s, .problem = problem, .ctx = ctx, .report = rep };
	int rc;

	memset(rep, 0, sizeof *rep);
	if ((rc = pool_start(&r.pool, cores(threads))) != AM_OK) {
		pool_stop(&r.pool, false);
		return rc;
	}
	/* one read transaction: a consistent snapshot while nodes write */
	if ((rc = am_store_exec(s, "BEGIN")) == AM_OK) {
		if ((rc = count(s, "SELECT count(DISTINCT author) FROM feeds "
		    "WHERE ?1 IS NULL OR circle = ?1", circle, &rep->authors)) == AM_OK &&
		    (rc = count(s, "SELECT count(DISTINCT circle) FROM feeds "
		    "WHERE ?1 IS NULL OR circle = ?1", circle, &rep->circles)) == AM_OK &&
		    (rc = check_feeds(&r, circle)) == AM_OK)
			rc = check_forks(&r, circle);
		am_store_exec(s, "COMMIT");
	}
	/* every published batch is waited for, even after an error, before
	 * the checkers stop */
	drain(&r);
	pool_stop(&r.pool, true);
	return rc;
}
