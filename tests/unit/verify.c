/*
 * Tests of full verification: a clean store has no problems; each kind of
 * tampering at rest is found and named (entry, author, what is wrong).
 */
#include <string.h>

#include <sodium.h>

#include "amends/verify.h"
#include "fixture.h"
#include "store_impl.h"
#include "test.h"

static struct am_identity *sam, *alex;
static uint8_t circle[32];

struct seen {
	int n;
	int codes[64];
	uint64_t seqs[64];
};

static void
on_problem(void *ctx, const struct am_verify_problem *p)
{
	struct seen *s = ctx;
	check(p->what != NULL && p->what[0] != '\0');
	if (s->n < 64) {
		s->codes[s->n] = p->code;
		s->seqs[s->n] = p->seq;
	}
	s->n++;
}

static struct am_store *
fresh(const char *name, int entries)
{
	struct am_store *s = fx_store_open(name);
	struct am_body g = { .kind = AM_KIND_GENESIS, .name = am_str_c("us") };
	memset(g.nonce, 9, 32);
	check_rc(am_store_append(s, sam, circle, 0, &g, NULL, NULL), AM_OK);
	am_circle_id(am_identity_public(sam), g.nonce, circle);
	for (int i = 0; i < entries; i++) {
		struct am_body b = { .kind = AM_KIND_STATEMENT, .note = am_str_c("x") };
		check_rc(am_store_append(s, i % 2 ? sam : alex, circle, i, &b, NULL, NULL),
			AM_OK);
	}
	return s;
}

static void
sql(struct am_store *s, const char *q)
{
	char *err = NULL;
	int rc = sqlite3_exec(am_store_sqlite(s), q, NULL, NULL, &err);
	if (rc != SQLITE_OK)
		fprintf(stderr, "%s: %s\n", q, err);
	check(rc == SQLITE_OK);
}

static void
test_clean(void)
{
	struct am_store *s = fresh("clean.db", 3000);
	struct am_verify_report rep;
	struct seen seen = { 0 };
	for (unsigned threads = 1; threads <= 3; threads++) {
		check_rc(am_verify_store(s, NULL, threads, on_problem, &seen, &rep), AM_OK);
		check(seen.n == 0 && rep.problems == 0);
		check(rep.entries == 3001 && rep.authors == 2 && rep.circles == 1);
		check(rep.feeds == 2);
	}
	check_rc(am_verify_store(s, circle, 0, on_problem, &seen, &rep), AM_OK);
	check(rep.entries == 3001 && rep.problems == 0);
	uint8_t other[32] = { 1 };
	check_rc(am_verify_store(s, other, 0, on_problem, &seen, &rep), AM_OK);
	check(rep.entries == 0 && rep.circles == 0);
	am_store_close(&s);
}

static void
test_signature_flipped(void)
{
	struct am_store *s = fresh("sig.db", 200);
	struct am_verify_report rep;
	struct seen seen = { 0 };
	/* the last byte of an entry is the last byte of its signature */
	sql(s, "UPDATE entries SET raw = CAST(substr(raw, 1, length(raw) - 1) || "
		"CASE WHEN substr(raw, -1) = x'00' THEN x'01' ELSE x'00' END AS BLOB) "
		"WHERE seq = 50 AND feed = (SELECT id FROM feeds ORDER BY id LIMIT 1)");
	check_rc(am_verify_store(s, NULL, 2, on_problem, &seen, &rep), AM_OK);
	/* its stored hash no longer matches, entry 51 no longer links, and
	 * the signature fails */
	check(rep.problems == 3 && seen.n == 3);
	int sig = 0, chain = 0;
	for (int i = 0; i < seen.n; i++) {
		sig += seen.codes[i] == AM_ERR_SIGNATURE && seen.seqs[i] == 50;
		chain += seen.codes[i] == AM_ERR_CHAIN;
	}
	check(sig == 1 && chain == 2);
	am_store_close(&s);
}

static void
test_entry_removed(void)
{
	struct am_store *s = fresh("gap.db", 200);
	struct am_verify_report rep;
	struct seen seen = { 0 };
	sql(s, "DELETE FROM entries WHERE seq = 20 AND "
		"feed = (SELECT id FROM feeds ORDER BY id LIMIT 1)");
	check_rc(am_verify_store(s, NULL, 0, on_problem, &seen, &rep), AM_OK);
	check(rep.problems >= 1);
	bool gap = false;
	for (int i = 0; i < seen.n && i < 64; i++)
		gap = gap || (seen.codes[i] == AM_ERR_GAP && seen.seqs[i] == 21);
	check(gap);
	am_store_close(&s);
}

static void
test_entry_swapped(void)
{
	/* two validly signed entries exchanged between numbers */
	struct am_store *s = fresh("swap.db", 100);
	struct am_verify_report rep;
	struct seen seen = { 0 };
	sql(s, "CREATE TEMP TABLE t AS SELECT feed, seq, hash, raw FROM entries "
		"WHERE seq IN (10, 11) AND feed = (SELECT id FROM feeds ORDER BY id LIMIT 1);"
		"UPDATE entries SET raw = (SELECT raw FROM t WHERE t.feed = entries.feed "
		"AND t.seq = 21 - entries.seq), hash = (SELECT hash FROM t "
		"WHERE t.feed = entries.feed AND t.seq = 21 - entries.seq) "
		"WHERE seq IN (10, 11) AND feed = (SELECT id FROM feeds ORDER BY id LIMIT 1);");
	check_rc(am_verify_store(s, NULL, 0, on_problem, &seen, &rep), AM_OK);
	check(rep.problems >= 2);
	bool field = false;
	for (int i = 0; i < seen.n && i < 64; i++)
		field = field || seen.codes[i] == AM_ERR_FIELD;
	check(field);
	am_store_close(&s);
}

/* A feed of many batches, signatures broken in several of them: each is
 * reported once, at its entry, in feed order, whatever the threads. */
static void
test_many_batches(void)
{
	enum { N = 20000, RUN = 1000 };
	static const uint64_t broken[] = { 3, 5000, 9000, 13000, 19999 };
	struct am_store *s = fresh("many.db", 0);
	struct am_entry_draft d = { .seq = 1 };
	struct am_body b = { .kind = AM_KIND_STATEMENT, .note = am_str_c("z") };
	uint8_t *raw[RUN];
	size_t len[RUN], done;
	enum am_ingest_result res[RUN];
	struct am_entry e;
	d.body = &b;
	memcpy(d.circle, circle, 32);
	check_rc(am_store_head(s, circle, am_identity_public(sam), &d.seq, d.prev), AM_OK);
	for (int i = 0; i < N; i += RUN) {
		for (int k = 0; k < RUN; k++) {
			d.seq++;
			d.has_prev = true;
			check_rc(am_entry_sign(sam, &d, &raw[k], &len[k], &e), AM_OK);
			memcpy(d.prev, e.hash, 32);
		}
		check_rc(am_store_ingest_batch(s, (const uint8_t *const *)raw, len, RUN,
			res, &done), AM_OK);
		check(done == RUN);
		for (int k = 0; k < RUN; k++)
			free(raw[k]);
	}
	for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
		char q[400];
		snprintf(q, sizeof q, "UPDATE entries SET raw = CAST(substr(raw, 1, "
			"length(raw) - 1) || CASE WHEN substr(raw, -1) = x'00' THEN x'01' "
			"ELSE x'00' END AS BLOB) WHERE seq = %llu",
			(unsigned long long)broken[i]);
		sql(s, q);
	}
	for (unsigned threads = 1; threads <= 3; threads++) {
		struct am_verify_report rep;
		struct seen seen = { 0 };
		size_t sigs = 0;
		check_rc(am_verify_store(s, NULL, threads, on_problem, &seen, &rep), AM_OK);
		check(rep.entries == N + 1 && rep.feeds == 1);
		/* each: its hash, the next entry's link and its signature */
		check(rep.problems == 15 && seen.n == 15);
		for (int i = 0; i < seen.n; i++) {
			if (seen.codes[i] != AM_ERR_SIGNATURE)
				continue;
			check(sigs < 5 && seen.seqs[i] == broken[sigs]);
			sigs++;
		}
		check(sigs == 5);
	}
	am_store_close(&s);
}

static void
test_parallel_signatures(void)
{
	/* am_verify_signatures marks exactly the bad ones, whatever the threads */
	enum { N = 1000 };
	struct am_entry *e = calloc(N, sizeof *e);
	uint8_t **raw = calloc(N, sizeof *raw);
	uint8_t ok[N];
	for (int i = 0; i < N; i++) {
		struct am_body b = { .kind = AM_KIND_STATEMENT, .note = am_str_c("y") };
		struct am_entry_draft d = { .seq = 1, .body = &b };
		size_t len;
		check_rc(am_entry_sign(sam, &d, &raw[i], &len, NULL), AM_OK);
		if (i % 97 == 0)
			raw[i][len - 5] ^= 0x40;
		check_rc(am_entry_decode(raw[i], len, &e[i]), AM_OK);
	}
	for (unsigned t = 0; t <= 4; t++) {
		memset(ok, 7, sizeof ok);
		check_rc(am_verify_signatures(e, N, t, ok), AM_OK);
		for (int i = 0; i < N; i++)
			check(ok[i] == (i % 97 != 0));
	}
	for (int i = 0; i < N; i++)
		free(raw[i]);
	free(raw);
	free(e);
}

int
main(void)
{
	check(sodium_init() >= 0);
	fx_dir_make("verify");
	check_rc(am_identity_generate(&sam), AM_OK);
	check_rc(am_identity_generate(&alex), AM_OK);
	test_clean();
	test_signature_flipped();
	test_entry_removed();
	test_entry_swapped();
	test_many_batches();
	test_parallel_signatures();
	am_identity_destroy(&sam);
	am_identity_destroy(&alex);
	fx_dir_remove();
	printf("verify: ok\n");
	return 0;
}
