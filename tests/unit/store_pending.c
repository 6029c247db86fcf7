/*
 * Tests of verifying on ingest (protocol/sync.md, "Verifying on ingest"):
 * a linked run is taken on its newest signature, the others wait as
 * pending and are checked later, in bounded slices; an entry whose own
 * signature fails is kept (the next entry vouches for it) and recorded
 * against its author; entries taken one at a time are verified in full.
 * And a run's batches held in one transaction while more follow, then
 * committed and made durable.
 */
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "amends/store.h"
#include "fixture.h"
#include "store_impl.h"
#include "test.h"

static struct am_identity *sam;

#define RUN 40

/* Sam's feed: entry 1 is a GENESIS, 2..RUN statements; entries listed in
 * broken have their signature spoilt, and the next entry names the hash of
 * the spoilt bytes, as a dishonest author would write it. */
struct feed {
	uint8_t circle[AM_HASH_BYTES];
	uint8_t *raw[RUN];
	size_t len[RUN];
};

static bool
listed(uint64_t seq, const uint64_t *broken, size_t nbroken)
{
	for (size_t i = 0; i < nbroken; i++)
		if (broken[i] == seq)
			return true;
	return false;
}

static void
feed_make(struct feed *f, const uint64_t *broken, size_t nbroken)
{
	struct am_body g = { .kind = AM_KIND_GENESIS, .name = am_str_c("us") };
	struct am_body b = { .kind = AM_KIND_STATEMENT, .note = am_str_c("said") };
	struct am_entry_draft d = { .seq = 1, .time = 1000, .body = &g };
	struct am_entry e;

	randombytes_buf(g.nonce, sizeof g.nonce);
	am_circle_id(am_identity_public(sam), g.nonce, f->circle);
	memcpy(d.circle, f->circle, AM_HASH_BYTES);
	for (uint64_t seq = 1; seq <= RUN; seq++) {
		size_t i = seq - 1;
		d.seq = seq;
		d.has_prev = seq > 1;
		if (seq > 1)
			d.body = &b;
		check_rc(am_entry_sign(sam, &d, &f->raw[i], &f->len[i], &e), AM_OK);
		if (listed(seq, broken, nbroken))
			f->raw[i][f->len[i] - 1] ^= 0x01;   /* the signature is last */
		am_hash(f->raw[i], f->len[i], d.prev);
	}
}

static void
feed_free(struct feed *f)
{
	for (size_t i = 0; i < RUN; i++)
		free(f->raw[i]);
}

struct seen {
	struct am_bad_signature bad[8];
	size_t n;
};

static int
note_bad(void *ctx, const struct am_bad_signature *b)
{
	struct seen *s = ctx;
	check(s->n < 8);
	s->bad[s->n++] = *b;
	return AM_OK;
}

static uint64_t
pending(struct am_store *s)
{
	uint64_t n;
	check_rc(am_store_pending_count(s, &n), AM_OK);
	return n;
}

static uint64_t
head(struct am_store *s, const struct feed *f)
{
	uint8_t hash[AM_HASH_BYTES];
	uint64_t seq;
	check_rc(am_store_head(s, f->circle, am_identity_public(sam), &seq, hash), AM_OK);
	return seq;
}

/* Every signature good: one check on the way in, the rest pending, then
 * checked in slices of at most max, with nothing found. */
static void
test_good_run_in_slices(void)
{
	struct am_store *s = fx_store_open("good.db");
	struct feed f;
	enum am_ingest_result r[RUN];
	struct seen seen = { .n = 0 };
	size_t done, checked, slices = 0, total = 0;

	feed_make(&f, NULL, 0);
	check_rc(am_store_ingest_batch(s, (const uint8_t *const *)f.raw, f.len, RUN,
		r, &done), AM_OK);
	check(done == RUN && r[0] == AM_INGEST_NEW && r[RUN - 1] == AM_INGEST_NEW);
	/* the newest was checked on the way in; the others wait */
	check(pending(s) == RUN - 1);
	do {
		check_rc(am_store_check_pending(s, 16, note_bad, &seen, &checked), AM_OK);
		check(checked <= 16);
		total += checked;
		slices++;
		check(slices <= 10);
	} while (checked > 0);
	check(total == RUN - 1);
	check(slices == 4);              /* 16 + 16 + 7, then nothing left */
	check(seen.n == 0);
	check(pending(s) == 0);
	/* a duplicate run adds nothing pending */
	check_rc(am_store_ingest_batch(s, (const uint8_t *const *)f.raw, f.len, 10,
		r, &done), AM_OK);
	check(done == 10 && r[9] == AM_INGEST_DUPLICATE && pending(s) == 0);
	check_rc(am_store_check(s), AM_OK);
	feed_free(&f);
	am_store_close(&s);
}

/* A spoilt signature inside a run whose newest signature holds: the
 * entry is stored (its content is vouched for by the next entry), found
 * by the pending check, reported once and recorded against its author. */
static void
test_bad_signature_inside_a_run(void)
{
	static const uint64_t broken[] = { 10, 25 };
	struct am_store *s = fx_store_open("inside.db");
	struct feed f;
	enum am_ingest_result r[RUN];
	struct seen seen = { .n = 0 }, listed_bad = { .n = 0 };
	size_t done, checked;

	feed_make(&f, broken, 2);
	check_rc(am_store_ingest_batch(s, (const uint8_t *const *)f.raw, f.len, RUN,
		r, &done), AM_OK);
	check(done == RUN && head(s, &f) == RUN);
	check_rc(am_store_bad_signatures(s, NULL, note_bad, &listed_bad), AM_OK);
	check(listed_bad.n == 0);        /* not known until checked */
	check_rc(am_store_check_pending(s, 1000, note_bad, &seen, &checked), AM_OK);
	check(checked == RUN - 1);
	check(seen.n == 2);
	check(seen.bad[0].seq == 10 && seen.bad[1].seq == 25);
	check(memcmp(seen.bad[0].author, am_identity_public(sam), AM_ID_BYTES) == 0);
	check(memcmp(seen.bad[0].circle, f.circle, AM_HASH_BYTES) == 0);
	check_rc(am_store_bad_signatures(s, f.circle, note_bad, &listed_bad), AM_OK);
	check(listed_bad.n == 2 && listed_bad.bad[0].seq == 10 &&
		listed_bad.bad[1].seq == 25);
	/* reported once: nothing is left to check */
	check_rc(am_store_check_pending(s, 1000, note_bad, &seen, &checked), AM_OK);
	check(checked == 0 && seen.n == 2);
	/* another circle has none */
	uint8_t other[AM_HASH_BYTES];
	memset(other, 7, sizeof other);
	listed_bad.n = 0;
	check_rc(am_store_bad_signatures(s, other, note_bad, &listed_bad), AM_OK);
	check(listed_bad.n == 0);
	check_rc(am_store_check(s), AM_OK);
	feed_free(&f);
	am_store_close(&s);
}

/* A run whose newest signature is spoilt ends at the newest entry whose
 * signature holds: nothing after it is vouched for. */
static void
test_bad_newest_signature(void)
{
	static const uint64_t broken[] = { 12, 20 };
	struct am_store *s = fx_store_open("newest.db");
	struct feed f;
	enum am_ingest_result r[RUN];
	struct seen seen = { .n = 0 };
	size_t done, checked;

	feed_make(&f, broken, 2);
	/* 1..20: 20 is spoilt, 19 holds and vouches for 1..19 (12 included) */
	check_rc(am_store_ingest_batch(s, (const uint8_t *const *)f.raw, f.len, 20,
		r, &done), AM_ERR_SIGNATURE);
	check(done == 19 && head(s, &f) == 19);
	/* 20..RUN: RUN holds and vouches for 20 */
	check_rc(am_store_ingest_batch(s, (const uint8_t *const *)f.raw + 19,
		f.len + 19, RUN - 19, r, &done), AM_OK);
	check(done == RUN - 19 && head(s, &f) == RUN);
	check_rc(am_store_check_pending(s, 1000, note_bad, &seen, &checked), AM_OK);
	check(seen.n == 2 && seen.bad[0].seq == 12 && seen.bad[1].seq == 20);
	check(pending(s) == 0);
	feed_free(&f);
	am_store_close(&s);
}

/* An entry taken by itself is verified in full, even when it extends the
 * feed; fork evidence in a run is verified entry by entry. */
static void
test_one_at_a_time_verifies_all(void)
{
	static const uint64_t broken[] = { 5 };
	struct am_store *s = fx_store_open("single.db");
	struct feed f;
	enum am_ingest_result r[RUN], one;
	size_t done;

	feed_make(&f, broken, 1);
	for (size_t i = 0; i < 4; i++)
		check_rc(am_store_ingest(s, f.raw[i], f.len[i], &one), AM_OK);
	check_rc(am_store_ingest(s, f.raw[4], f.len[4], &one), AM_ERR_SIGNATURE);
	check(head(s, &f) == 4 && pending(s) == 0);
	/* a run of one is its own newest entry */
	check_rc(am_store_ingest_batch(s, (const uint8_t *const *)f.raw + 4,
		f.len + 4, 1, r, &done), AM_ERR_SIGNATURE);
	check(done == 0 && head(s, &f) == 4);

	/* another entry 3 by the same author: evidence of a fork, with its
	 * signature spoilt */
	struct am_body b = { .kind = AM_KIND_STATEMENT, .note = am_str_c("other") };
	struct am_entry_draft d = { .seq = 3, .has_prev = true, .time = 5, .body = &b };
	struct am_entry e;
	uint8_t *x;
	size_t xlen;
	memcpy(d.circle, f.circle, AM_HASH_BYTES);
	am_hash(f.raw[1], f.len[1], d.prev);
	check_rc(am_entry_sign(sam, &d, &x, &xlen, &e), AM_OK);
	x[xlen - 1] ^= 0x01;
	/* and an entry 4 after it, validly signed: the run's newest
	 * signature holds, but evidence must stand on its own */
	struct am_entry_draft d4 = d;
	uint8_t *y;
	size_t ylen;
	d4.seq = 4;
	am_hash(x, xlen, d4.prev);
	check_rc(am_entry_sign(sam, &d4, &y, &ylen, &e), AM_OK);
	const uint8_t *run[] = { x, y };
	const size_t run_len[] = { xlen, ylen };
	check_rc(am_store_ingest_batch(s, run, run_len, 2, r, &done), AM_ERR_SIGNATURE);
	check(done == 0 && head(s, &f) == 4 && pending(s) == 0);
	free(y);
	free(x);
	feed_free(&f);
	am_store_close(&s);
}

static int64_t
synchronous(struct am_store *s)
{
	sqlite3_stmt *st;
	int64_t v = -1;
	check(sqlite3_prepare_v2(am_store_sqlite(s), "PRAGMA synchronous", -1, &st,
		NULL) == SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Batches of one run in one transaction (am_store_defer_sync): while more
 * follow, the run's transaction is held open, at synchronous=NORMAL, and
 * no other connection sees it. The batch that ends the run, another write
 * of the store, am_store_sync() or closing the store commits it, and the
 * store is back at synchronous=FULL once nothing is held: what the node
 * writes itself is on disk before it returns. */
static int
ingest(struct am_store *s, const struct feed *f, size_t from, size_t n,
	size_t *done)
{
	enum am_ingest_result r[RUN];
	return am_store_ingest_batch(s, (const uint8_t *const *)f->raw + from,
		f->len + from, n, r, done);
}

static void
test_held_run(void)
{
	struct am_store *s = fx_store_open("defer.db");
	struct am_store *other = fx_store_open("defer.db");
	enum am_ingest_result r;
	struct feed f;
	size_t done;

	feed_make(&f, NULL, 0);
	check(synchronous(s) == 2 && !am_store_held(s));
	check_rc(am_store_sync(s), AM_OK);          /* nothing to do */
	am_store_defer_sync(s, true);
	check_rc(ingest(s, &f, 0, 10, &done), AM_OK);
	check_rc(ingest(s, &f, 10, 10, &done), AM_OK);
	check(done == 10 && am_store_held(s) && synchronous(s) == 1);
	check(head(s, &f) == 20 && head(other, &f) == 0);
	/* a refused batch leaves what the run holds */
	check_rc(ingest(s, &f, 25, 5, &done), AM_ERR_GAP);
	check(done == 0 && am_store_held(s) && head(s, &f) == 20);
	check_rc(am_store_sync(s), AM_OK);
	check(!am_store_held(s) && synchronous(s) == 2 && head(other, &f) == 20);

	/* another write of the store commits the held run before its own */
	check_rc(ingest(s, &f, 20, 5, &done), AM_OK);
	check(am_store_held(s) && head(other, &f) == 20);
	check_rc(am_store_ingest(s, f.raw[25], f.len[25], &r), AM_OK);
	check(r == AM_INGEST_NEW && !am_store_held(s) && synchronous(s) == 2);
	check(head(other, &f) == 26);

	/* the batch that ends the run commits all of it */
	check_rc(ingest(s, &f, 26, 4, &done), AM_OK);
	check(am_store_held(s) && head(other, &f) == 26);
	am_store_defer_sync(s, false);
	check_rc(ingest(s, &f, 30, 5, &done), AM_OK);
	check(!am_store_held(s) && synchronous(s) == 2 && head(other, &f) == 35);

	/* closing the store commits a held run */
	am_store_defer_sync(s, true);
	check_rc(ingest(s, &f, 35, RUN - 35, &done), AM_OK);
	check(am_store_held(s) && head(other, &f) == 35);
	am_store_close(&s);
	check(head(other, &f) == RUN);
	check_rc(am_store_check(other), AM_OK);
	am_store_close(&other);
	feed_free(&f);
}

int
main(void)
{
	fx_dir_make("pending");
	check(sodium_init() >= 0);
	check_rc(am_identity_generate(&sam), AM_OK);
	test_good_run_in_slices();
	test_bad_signature_inside_a_run();
	test_bad_newest_signature();
	test_one_at_a_time_verifies_all();
	test_held_run();
	am_identity_destroy(&sam);
	fx_dir_remove();
	return 0;
}
