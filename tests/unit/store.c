/*
 * Tests of the store: appending, ingesting (duplicates, gaps, broken chains,
 * forks), digests, and two processes appending to one feed at once.
 */
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "amends/store.h"
#include "fixture.h"
#include "store_impl.h"
#include "test.h"

static struct am_identity *sam, *alex;

static void
say(struct am_store *s, struct am_identity *id, const uint8_t circle[32],
	const char *text, uint64_t *seq)
{
	struct am_body b = { .kind = AM_KIND_STATEMENT, .note = am_str_c(text) };
	check_rc(am_store_append(s, id, circle, 2000, &b, NULL, seq), AM_OK);
}

struct copy {
	struct am_store *to;
	int news, dups;
};

static int
copy_one(void *ctx, const uint8_t *raw, size_t len)
{
	struct copy *c = ctx;
	enum am_ingest_result r;
	int rc = am_store_ingest(c->to, raw, len, &r);
	if (rc != AM_OK)
		return rc;
	c->news += r == AM_INGEST_NEW;
	c->dups += r == AM_INGEST_DUPLICATE;
	return AM_OK;
}

static void
test_append_and_ingest(void)
{
	struct am_store *a = fx_store_open("a.db"), *b = fx_store_open("b.db");
	const uint8_t *pk = am_identity_public(sam);
	uint8_t circle[32], da[32], db[32], h[32];
	uint64_t seq;

	fx_genesis(a, sam, "us", 1000, circle);
	for (int i = 0; i < 5; i++)
		say(a, sam, circle, "hello", &seq);
	check(seq == 6);
	check_rc(am_store_head(a, circle, pk, &seq, h), AM_OK);
	check(seq == 6);

	struct fx_entries g = { .n = 0 };
	check_rc(am_store_range(a, circle, pk, 1, 100, fx_entries_add, &g), AM_OK);
	check(g.n == 6);

	enum am_ingest_result r;
	/* a gap: entry 3 before 2 */
	check_rc(am_store_ingest(b, g.raw[0], g.len[0], &r), AM_OK);
	check(r == AM_INGEST_NEW);
	check_rc(am_store_ingest(b, g.raw[2], g.len[2], &r), AM_ERR_GAP);
	check_rc(am_store_ingest(b, g.raw[1], g.len[1], &r), AM_OK);
	check_rc(am_store_ingest(b, g.raw[1], g.len[1], &r), AM_OK);
	check(r == AM_INGEST_DUPLICATE);

	struct copy c = { .to = b };
	check_rc(am_store_range(a, circle, pk, 1, 100, copy_one, &c), AM_OK);
	check(c.news == 4 && c.dups == 2);
	check_rc(am_store_digest(a, circle, da), AM_OK);
	check_rc(am_store_digest(b, circle, db), AM_OK);
	check(memcmp(da, db, 32) == 0);

	/* a bit flipped in a stored entry's signature is refused */
	g.raw[5][g.len[5] - 1] ^= 1;
	struct am_store *fresh = fx_store_open("fresh.db");
	for (int i = 0; i < 5; i++)
		check_rc(am_store_ingest(fresh, g.raw[i], g.len[i], &r), AM_OK);
	check_rc(am_store_ingest(fresh, g.raw[5], g.len[5], &r), AM_ERR_SIGNATURE);
	am_store_close(&fresh);
	fx_entries_free(&g);

	/* Alex's feed of the same circle: digests differ until it arrives.
	 * Alex may write there once a member proposal names them. */
	struct am_body m = { .kind = AM_KIND_MEMBER, .role = AM_ROLE_MEMBER };
	memcpy(m.target, am_identity_public(alex), 32);
	check_rc(am_store_append(a, sam, circle, 3000, &m, NULL, NULL), AM_OK);
	check_rc(am_store_range(a, circle, pk, 7, 7, copy_one,
		&(struct copy){ .to = b }), AM_OK);
	say(b, alex, circle, "me too", NULL);
	check_rc(am_store_digest(b, circle, db), AM_OK);
	check(memcmp(da, db, 32) != 0);
	check_rc(am_store_range(b, circle, am_identity_public(alex), 1, 100,
		copy_one, &(struct copy){ .to = a }), AM_OK);
	check_rc(am_store_digest(a, circle, da), AM_OK);
	check(memcmp(da, db, 32) == 0);
	am_store_close(&a);
	am_store_close(&b);
}

static void
test_broken_chain(void)
{
	struct am_store *a = fx_store_open("chain-a.db"), *b = fx_store_open("chain-b.db");
	uint8_t circle[32];
	fx_genesis(a, sam, "us", 1000, circle);
	say(a, sam, circle, "one", NULL);

	/* an entry 2 that names a wrong previous hash, validly signed */
	struct am_body body = { .kind = AM_KIND_STATEMENT, .note = am_str_c("x") };
	struct am_entry_draft d = { .seq = 2, .has_prev = true, .body = &body };
	memcpy(d.circle, circle, 32);
	memset(d.prev, 0x99, 32);
	uint8_t *raw;
	size_t len;
	check_rc(am_entry_sign(sam, &d, &raw, &len, NULL), AM_OK);

	struct fx_entries g = { .n = 0 };
	check_rc(am_store_range(a, circle, am_identity_public(sam), 1, 1, fx_entries_add, &g),
		AM_OK);
	enum am_ingest_result r;
	check_rc(am_store_ingest(b, g.raw[0], g.len[0], &r), AM_OK);
	check_rc(am_store_ingest(b, raw, len, &r), AM_ERR_CHAIN);
	uint64_t seq;
	uint8_t h[32];
	check_rc(am_store_head(b, circle, am_identity_public(sam), &seq, h), AM_OK);
	check(seq == 1);
	free(raw);
	fx_entries_free(&g);
	am_store_close(&a);
	am_store_close(&b);
}

static int
count_forks(void *ctx, const uint8_t *raw, size_t len)
{
	(void)raw;
	(void)len;
	(*(int *)ctx)++;
	return AM_OK;
}

static int
fork_head(void *ctx, const struct am_feed_head *h)
{
	*(uint64_t *)ctx = h->forked_at;
	return AM_OK;
}

static void
test_fork_kept(void)
{
	/* Sam signs two different entries 2 in two copies of the store */
	struct am_store *a = fx_store_open("fork-a.db"), *b = fx_store_open("fork-b.db");
	struct am_store *c = fx_store_open("fork-c.db");
	uint8_t circle[32], da[32], dc[32];
	fx_genesis(a, sam, "us", 1000, circle);
	struct fx_entries g = { .n = 0 };
	check_rc(am_store_range(a, circle, am_identity_public(sam), 1, 1, fx_entries_add, &g),
		AM_OK);
	enum am_ingest_result r;
	check_rc(am_store_ingest(b, g.raw[0], g.len[0], &r), AM_OK);
	say(a, sam, circle, "version one", NULL);
	say(b, sam, circle, "version two", NULL);
	check_rc(am_store_range(a, circle, am_identity_public(sam), 1, 2, fx_entries_add, &g),
		AM_OK);
	check_rc(am_store_range(b, circle, am_identity_public(sam), 2, 2, fx_entries_add, &g),
		AM_OK);
	check(g.n == 4);
	/* c receives a's entries, then b's entry 2 */
	check_rc(am_store_ingest(c, g.raw[1], g.len[1], &r), AM_OK);
	check_rc(am_store_ingest(c, g.raw[2], g.len[2], &r), AM_OK);
	check(r == AM_INGEST_NEW);
	check_rc(am_store_ingest(c, g.raw[3], g.len[3], &r), AM_OK);
	check(r == AM_INGEST_FORK);
	check_rc(am_store_ingest(c, g.raw[3], g.len[3], &r), AM_OK);
	check(r == AM_INGEST_FORK);     /* still evidence, kept once */
	int n = 0;
	check_rc(am_store_forks(c, circle, count_forks, &n), AM_OK);
	check(n == 1);
	uint64_t forked_at = 0;
	check_rc(am_store_heads(c, circle, fork_head, &forked_at), AM_OK);
	check(forked_at == 2);
	/* the first entry 2 stays where it was */
	uint64_t seq;
	uint8_t h[32], want[32];
	am_hash(g.raw[2], g.len[2], want);
	check_rc(am_store_head(c, circle, am_identity_public(sam), &seq, h), AM_OK);
	check(seq == 2 && memcmp(h, want, 32) == 0);
	/* the evidence changes the digest */
	check_rc(am_store_ingest(a, g.raw[3], g.len[3], &r), AM_OK);
	check_rc(am_store_digest(a, circle, da), AM_OK);
	check_rc(am_store_digest(c, circle, dc), AM_OK);
	check(memcmp(da, dc, 32) == 0);
	/* b stored the other variant first: once it holds the evidence too, it
	 * states the same digest, even with an entry past the fork */
	say(b, sam, circle, "after the fork", NULL);
	check_rc(am_store_ingest(b, g.raw[2], g.len[2], &r), AM_OK);
	check(r == AM_INGEST_FORK);
	uint8_t db[32];
	check_rc(am_store_digest(b, circle, db), AM_OK);
	check(memcmp(da, db, 32) == 0);
	fx_entries_free(&g);
	am_store_close(&a);
	am_store_close(&b);
	am_store_close(&c);
}

static int
check_chain(void *ctx, const uint8_t *raw, size_t len)
{
	struct { uint64_t next; uint8_t prev[32]; } *st = ctx;
	struct am_entry e;
	check_rc(am_entry_decode(raw, len, &e), AM_OK);
	check_rc(am_entry_verify(&e), AM_OK);
	check(e.seq == st->next);
	check(e.seq == 1 || memcmp(e.prev, st->prev, 32) == 0);
	memcpy(st->prev, e.hash, 32);
	st->next++;
	return AM_OK;
}

static void
test_two_processes_append(void)
{
	enum { PER_PROCESS = 1000 };
	struct am_store *s = fx_store_open("race.db");
	uint8_t circle[32];
	fx_genesis(s, sam, "us", 1000, circle);
	am_store_close(&s);      /* never fork with an open connection */

	pid_t pids[2];
	for (int p = 0; p < 2; p++) {
		pids[p] = fork();
		check(pids[p] >= 0);
		if (pids[p] == 0) {
			struct am_store *mine = fx_store_open("race.db");
			for (int i = 0; i < PER_PROCESS; i++) {
				struct am_body b = { .kind = AM_KIND_STATEMENT,
					.note = am_str_c(p ? "b" : "a") };
				if (am_store_append(mine, sam, circle, 0, &b, NULL, NULL))
					_exit(1);
			}
			am_store_close(&mine);
			_exit(0);
		}
	}
	for (int p = 0; p < 2; p++) {
		int status;
		check(waitpid(pids[p], &status, 0) == pids[p]);
		check(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	s = fx_store_open("race.db");
	uint64_t seq;
	uint8_t h[32];
	check_rc(am_store_head(s, circle, am_identity_public(sam), &seq, h), AM_OK);
	check(seq == 1 + 2 * PER_PROCESS);
	struct { uint64_t next; uint8_t prev[32]; } st = { .next = 1 };
	check_rc(am_store_range(s, circle, am_identity_public(sam), 1, UINT64_MAX,
		check_chain, &st), AM_OK);
	check(st.next == 2 + 2 * PER_PROCESS);
	check_rc(am_store_check(s), AM_OK);
	am_store_close(&s);
}

static void
test_foreign_database_refused(void)
{
	char p[FX_PATH_MAX];
	sqlite3 *db;
	struct am_store *s;
	fx_path("other.db", p);
	check(sqlite3_open(p, &db) == SQLITE_OK);
	check(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	check_rc(am_store_open(p, &s), AM_ERR_DB_SCHEMA);

	fx_path("newer.db", p);
	s = fx_store_open("newer.db");
	am_store_close(&s);
	check(sqlite3_open(p, &db) == SQLITE_OK);
	check(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	check_rc(am_store_open(p, &s), AM_ERR_DB_SCHEMA);
	/* reopening a current database is fine */
	s = fx_store_open("a.db");
	am_store_close(&s);
}

/* The proposed-to table: added, replaced, read back, removed; a preview
 * past its limit is refused and leaves the row as it was. */
static void
test_proposed_to(void)
{
	struct am_store *s = fx_store_open("proposed.db");
	uint8_t circle[32], other[32], who[32];
	uint8_t *out = NULL;
	size_t len = 99;

	randombytes_buf(circle, sizeof circle);
	randombytes_buf(other, sizeof other);
	check_rc(am_store_proposed_get(s, circle, who, &out, &len), AM_ERR_NOT_FOUND);
	check(out == NULL && len == 99);
	check_rc(am_store_proposed_add(s, circle, am_identity_public(sam),
		(const uint8_t *)"preview one", 11), AM_OK);
	check_rc(am_store_proposed_get(s, circle, who, &out, &len), AM_OK);
	check(len == 11 && memcmp(out, "preview one", 11) == 0);
	check(memcmp(who, am_identity_public(sam), 32) == 0);
	free(out);

	/* a second proposal to the same circle replaces the first */
	check_rc(am_store_proposed_add(s, circle, am_identity_public(alex),
		(const uint8_t *)"two", 3), AM_OK);
	check_rc(am_store_proposed_get(s, circle, who, &out, &len), AM_OK);
	check(len == 3 && memcmp(out, "two", 3) == 0);
	check(memcmp(who, am_identity_public(alex), 32) == 0);
	free(out);

	/* bounded: refused whole */
	uint8_t *big = calloc(1, AM_STORE_PREVIEW_MAX + 1);
	check(big != NULL);
	check_rc(am_store_proposed_add(s, circle, am_identity_public(sam), big,
		AM_STORE_PREVIEW_MAX + 1), AM_ERR_TOO_BIG);
	free(big);
	check_rc(am_store_proposed_get(s, circle, who, &out, &len), AM_OK);
	check(len == 3);
	free(out);

	/* an empty preview is kept as empty */
	check_rc(am_store_proposed_add(s, other, am_identity_public(sam), NULL, 0), AM_OK);
	check_rc(am_store_proposed_get(s, other, who, &out, &len), AM_OK);
	check(len == 0 && out != NULL);
	free(out);

	check_rc(am_store_proposed_remove(s, circle), AM_OK);
	check_rc(am_store_proposed_get(s, circle, who, &out, &len), AM_ERR_NOT_FOUND);
	check_rc(am_store_proposed_remove(s, circle), AM_OK);
	check_rc(am_store_proposed_get(s, other, who, &out, &len), AM_OK);
	free(out);
	am_store_close(&s);
}

static void
test_restore_guard(void)
{
	struct am_store *s = fx_store_open("restored.db");
	uint8_t circle[32];
	fx_genesis(s, sam, "us", 1000, circle);
	check_rc(am_store_setting_set(s, AM_SETTING_RESTORED, "1"), AM_OK);
	struct am_body b = { .kind = AM_KIND_STATEMENT, .note = am_str_c("hi") };
	check_rc(am_store_append(s, sam, circle, 0, &b, NULL, NULL), AM_ERR_RESTORING);
	uint64_t seq;
	uint8_t h[32];
	check_rc(am_store_head(s, circle, am_identity_public(sam), &seq, h), AM_OK);
	check(seq == 1);
	/* a new circle can always be created: it cannot fork anything */
	uint8_t other[32];
	fx_genesis(s, sam, "us", 1000, other);
	check_rc(am_store_own_caught_up(s, circle), AM_OK);
	check_rc(am_store_append(s, sam, circle, 0, &b, NULL, &seq), AM_OK);
	check(seq == 2);
	/* ... and written to at once: no entry of ours in it can be
	 * elsewhere (it was always AM_ERR_RESTORING before) */
	check_rc(am_store_append(s, sam, other, 0, &b, NULL, &seq), AM_OK);
	check(seq == 2);
	am_store_close(&s);
}

/* The bytes the store counts for author's feed in circle. */
static int64_t
feed_bytes(struct am_store *s, const uint8_t *circle, const uint8_t *author)
{
	sqlite3_stmt *st;
	check(sqlite3_prepare_v2(am_store_sqlite(s), "SELECT bytes FROM feeds "
		"WHERE circle = ?1 AND author = ?2", -1, &st, NULL) == SQLITE_OK);
	sqlite3_bind_blob(st, 1, circle, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, author, 32, SQLITE_STATIC);
	check(sqlite3_step(st) == SQLITE_ROW);
	int64_t n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Makes the feed look as full as bytes: what the cap reads. */
static void
feed_bytes_set(struct am_store *s, const uint8_t *circle, const uint8_t *author,
	uint64_t bytes)
{
	sqlite3_stmt *st;
	check(sqlite3_prepare_v2(am_store_sqlite(s), "UPDATE feeds SET bytes = ?3 "
		"WHERE circle = ?1 AND author = ?2", -1, &st, NULL) == SQLITE_OK);
	sqlite3_bind_blob(st, 1, circle, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, author, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (int64_t)bytes);
	check(sqlite3_step(st) == SQLITE_DONE);
	sqlite3_finalize(st);
}

/* What one author can make a node hold in a circle is capped by the bytes
 * of their own feed (AM_CAP_FEED_BYTES, protocol/state.md "Caps"): the
 * entry that would pass it is refused by the writer and by ingest, one at
 * a time or in a batch, and what came before it stays. A feed is made to
 * look nearly full by setting the count the cap reads. */
static void
test_bytes_cap(void)
{
	struct am_store *a = fx_store_open("cap-a.db"), *b = fx_store_open("cap-b.db");
	const uint8_t *pk = am_identity_public(sam);
	uint8_t circle[32], h[32];
	uint64_t seq;

	fx_genesis(a, sam, "us", 1000, circle);
	for (int i = 0; i < 3; i++)
		say(a, sam, circle, "hello", &seq);
	struct fx_entries g = { .n = 0 };
	check_rc(am_store_range(a, circle, pk, 1, 100, fx_entries_add, &g), AM_OK);
	check(g.n == 4);
	check(feed_bytes(a, circle, pk) ==
		(int64_t)(g.len[0] + g.len[1] + g.len[2] + g.len[3]));

	/* the writer: the next entry would not fit */
	feed_bytes_set(a, circle, pk, AM_CAP_FEED_BYTES - 8);
	struct am_body over = { .kind = AM_KIND_STATEMENT, .note = am_str_c("over") };
	check_rc(am_store_append(a, sam, circle, 2000, &over, NULL, &seq), AM_ERR_CAP);
	check_rc(am_store_head(a, circle, pk, &seq, h), AM_OK);
	check(seq == 4);

	/* ingest, one at a time: entry 2 fits, entry 3 would pass the cap */
	enum am_ingest_result r[3];
	check_rc(am_store_ingest(b, g.raw[0], g.len[0], &r[0]), AM_OK);
	feed_bytes_set(b, circle, pk, AM_CAP_FEED_BYTES - g.len[1] - g.len[2] + 1);
	check_rc(am_store_ingest(b, g.raw[1], g.len[1], &r[0]), AM_OK);
	check_rc(am_store_ingest(b, g.raw[2], g.len[2], &r[0]), AM_ERR_CAP);
	check_rc(am_store_head(b, circle, pk, &seq, h), AM_OK);
	check(seq == 2);

	/* in a batch: the run stops at the entry that would pass, keeping the
	 * entries before it */
	feed_bytes_set(b, circle, pk, AM_CAP_FEED_BYTES - g.len[2] - g.len[3] + 1);
	size_t done = 99;
	check_rc(am_store_ingest_batch(b, (const uint8_t *const *)&g.raw[2],
		&g.len[2], 2, r, &done), AM_ERR_CAP);
	check(done == 1 && r[0] == AM_INGEST_NEW);
	check_rc(am_store_head(b, circle, pk, &seq, h), AM_OK);
	check(seq == 3);
	check(feed_bytes(b, circle, pk) == (int64_t)(AM_CAP_FEED_BYTES - g.len[3] + 1));

	fx_entries_free(&g);
	am_store_close(&a);
	am_store_close(&b);
}

int
main(void)
{
	check(sodium_init() >= 0);
	fx_dir_make("store");
	check_rc(am_identity_generate(&sam), AM_OK);
	check_rc(am_identity_generate(&alex), AM_OK);
	test_append_and_ingest();
	test_broken_chain();
	test_fork_kept();
	test_two_processes_append();
	test_foreign_database_refused();
	test_restore_guard();
	test_bytes_cap();
	test_proposed_to();
	am_identity_destroy(&sam);
	am_identity_destroy(&alex);
	fx_dir_remove();
	printf("store: ok\n");
	return 0;
}
