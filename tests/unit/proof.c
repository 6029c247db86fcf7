/*
 * Tests of proofs: a signed export verifies with nothing but its bytes;
 * an export of one agreement carries feed prefixes that verify and say
 * how far each feed went; a file cut short still proves what precedes the
 * cut and says where each feed stops; a manifest validly signed by a
 * stranger who added their own entries does not make those entries count,
 * because the rules of the circle refuse them, and is itself refused, as
 * its signer belongs to no circle of the file; the temporary store is
 * removed afterwards.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "amends/bundle.h"
#include "amends/proof.h"
#include "amends/state.h"
#include "fixture.h"
#include "test.h"

/* entries claim times the state reads (2000 to 2199): 2023-11-14 on */
#define T0 INT64_C(1700000000000)

static const char *dir;
static struct am_identity *sam, *alex, *eve;

/* Sam's circle with Alex a member, an agreement between them, n
 * statements after it. The agreement's hash goes to agreement. */
static void
make_record(struct am_store *s, uint8_t circle[32], uint8_t agreement[32], int n)
{
	struct am_body b = { .kind = AM_KIND_PROPOSE };

	fx_genesis(s, sam, "us", T0 + 1000, circle);
	fx_admit(s, circle, sam, alex, T0 + 2000, T0 + 3000);
	b.terms.title = am_str_c("walk");
	b.terms.text = am_str_c("we walk on Sundays");
	b.terms.nparties = 2;
	memcpy(b.terms.parties[0], am_identity_public(sam), 32);
	memcpy(b.terms.parties[1], am_identity_public(alex), 32);
	b.terms.tz = am_str_c("UTC");
	check_rc(am_store_append(s, sam, circle, T0 + 4000, &b, agreement, NULL), AM_OK);
	b = fx_body(AM_KIND_ACCEPT, agreement);
	check_rc(am_store_append(s, alex, circle, T0 + 5000, &b, NULL, NULL), AM_OK);
	for (int i = 0; i < n; i++) {
		b = (struct am_body){ .kind = AM_KIND_STATEMENT,
			.note = am_str_c("about nothing in particular") };
		check_rc(am_store_append(s, i % 2 ? alex : sam, circle, T0 + 6000 + i,
			&b, NULL, NULL), AM_OK);
	}
}

struct seen {
	int n;
	int code[32];
	uint32_t subject[32];
	uint8_t author[32][32];
};

static void
on_problem(void *ctx, const struct am_proof_problem *pr)
{
	struct seen *s = ctx;
	if (s->n < 32) {
		s->code[s->n] = pr->code;
		s->subject[s->n] = pr->subject;
		memcpy(s->author[s->n], pr->author, 32);
	}
	s->n++;
}

static bool
saw(const struct seen *s, int code, uint32_t subject)
{
	for (int i = 0; i < s->n && i < 32; i++)
		if (s->code[i] == code && s->subject[i] == subject)
			return true;
	return false;
}

static const struct am_proof_feed *
feed_of(const struct am_proof *p, const struct am_identity *who)
{
	for (size_t i = 0; i < p->nfeeds; i++)
		if (memcmp(p->feeds[i].author, am_identity_public(who), 32) == 0)
			return &p->feeds[i];
	return NULL;
}

static void
test_whole(void)
{
	struct am_store *s = fx_store_open("whole.db");
	struct am_bundle *b;
	struct am_proof p;
	struct seen seen = { 0 };
	uint8_t circle[32], ag[32], *data;
	size_t len, ne, nf;
	struct stat st;

	make_record(s, circle, ag, 4);
	check_rc(am_bundle_export_signed(s, sam, circle, NULL, 77000, &data, &len,
		&ne, &nf, NULL), AM_OK);
	check(ne == 9 && nf == 0);
	check_rc(am_bundle_read(data, len, 0, &b), AM_OK);
	check(b->version == AM_BUNDLE_VERSION_SIGNED && !b->cut && b->nitems == 9);
	check_rc(am_proof_check(b, dir, on_problem, &seen, &p), AM_OK);
	check(seen.n == 0 && p.problems == 0);
	check(p.manifest_ok && p.manifest.time == 77000 && !p.manifest.has_scope);
	check(memcmp(p.manifest.exporter, am_identity_public(sam), 32) == 0);
	check(p.entries == 9 && p.authors == 2 && p.nfeeds == 2);
	check(feed_of(&p, sam)->whole && feed_of(&p, sam)->proven == 5);
	check(feed_of(&p, alex)->whole && feed_of(&p, alex)->proven == 4);
	/* the rules ran: the agreement is in force in the temporary store */
	struct am_agreement a;
	check_rc(am_state_agreement(p.store, ag, 0, &a), AM_OK);
	check(a.status == AM_AGREEMENT_IN_FORCE);
	am_state_agreement_finish(&a);
	char *tmp = strdup(p.dir);
	check(stat(tmp, &st) == 0);
	am_proof_finish(&p);
	check(stat(tmp, &st) != 0);      /* removed */
	am_proof_finish(&p);             /* twice is harmless */
	free(tmp);

	/* the same bytes parse as a plain bundle would for import */
	struct am_bundle_counts n;
	struct am_store *other = fx_store_open("whole-import.db");
	check_rc(am_bundle_import(other, b, NULL, NULL, &n), AM_OK);
	check(n.added == 9 && n.refused == 0);
	am_store_close(&other);
	am_bundle_destroy(&b);

	/* cut short: the header and manifest survive, the last entries do not */
	check(am_bundle_read(data, len - 10, 0, &b) != AM_OK);
	check_rc(am_bundle_read(data, len - 10, AM_BUNDLE_ALLOW_CUT, &b), AM_OK);
	check(b->cut && b->nitems == 8);
	memset(&seen, 0, sizeof seen);
	check_rc(am_proof_check(b, dir, on_problem, &seen, &p), AM_OK);
	check(saw(&seen, AM_ERR_TRUNCATED, AM_PROOF_FILE));
	check(saw(&seen, AM_ERR_CUT, AM_PROOF_FEED));
	/* one of the two feeds ends early, the other is whole */
	const struct am_proof_feed *fs = feed_of(&p, sam), *fa = feed_of(&p, alex);
	check((fs->whole && fa->proven == 3 && fa->named == 4) ||
		(fa->whole && fs->proven == 4 && fs->named == 5));
	am_proof_finish(&p);
	am_bundle_destroy(&b);
	/* cut inside the manifest: nothing to go on */
	check(am_bundle_read(data, 40, AM_BUNDLE_ALLOW_CUT, &b) != AM_OK);
	free(data);
	am_store_close(&s);
}

static void
test_agreement(void)
{
	struct am_store *s = fx_store_open("agreement.db");
	struct am_bundle *b;
	struct am_proof p;
	struct seen seen = { 0 };
	uint8_t circle[32], ag[32], *data;
	size_t len, ne;

	make_record(s, circle, ag, 4);
	check_rc(am_bundle_export_signed(s, alex, NULL, ag, 1, &data, &len, &ne,
		NULL, NULL), AM_OK);
	/* genesis, member, propose of Sam; accept, accept of Alex */
	check(ne == 5);
	check_rc(am_bundle_read(data, len, 0, &b), AM_OK);
	check_rc(am_proof_check(b, NULL, on_problem, &seen, &p), AM_OK);
	check(p.problems == 0 && p.manifest.has_scope &&
		memcmp(p.manifest.scope, ag, 32) == 0);
	check(feed_of(&p, sam)->named == 3 && feed_of(&p, sam)->head == 5);
	check(feed_of(&p, alex)->named == 2 && feed_of(&p, alex)->head == 4);
	am_proof_finish(&p);
	am_bundle_destroy(&b);
	free(data);
	/* of another circle than the one named */
	uint8_t other[32] = { 1 };
	check_rc(am_bundle_export_signed(s, alex, other, ag, 1, &data, &len, NULL,
		NULL, NULL), AM_ERR_ARG);
	am_store_close(&s);
}

static void
test_stranger(void)
{
	struct am_store *s = fx_store_open("stranger.db");
	struct am_bundle *b;
	struct am_proof p;
	struct seen seen = { 0 };
	uint8_t circle[32], ag[32], *data;
	size_t len;

	make_record(s, circle, ag, 0);
	/* Eve writes into the circle on her own copy and exports it under a
	 * manifest she signs herself: the file is consistent, and her entry
	 * is stored as any other (what is stored depends on no other feed),
	 * but the rules ignore an author who is not a member */
	struct am_body body = { .kind = AM_KIND_STATEMENT,
		.note = am_str_c("Sam agreed to everything I say") };
	check_rc(am_store_append(s, eve, circle, T0 + 9000, &body, NULL, NULL), AM_OK);
	check_rc(am_bundle_export_signed(s, eve, circle, NULL, 1, &data, &len,
		NULL, NULL, NULL), AM_OK);
	check_rc(am_bundle_read(data, len, 0, &b), AM_OK);
	check_rc(am_proof_check(b, dir, on_problem, &seen, &p), AM_OK);
	/* and her manifest, validly signed, is refused: she is no member */
	check(p.manifest_ok && p.problems == 1 && seen.n == 1);
	check(saw(&seen, AM_ERR_NOT_MEMBER, AM_PROOF_MANIFEST));
	struct am_violation *v;
	size_t nv;
	check_rc(am_state_violations(p.store, circle, &v, &nv), AM_OK);
	check(nv == 1 && v[0].rule == AM_RULE_NOT_MEMBER &&
		memcmp(v[0].author, am_identity_public(eve), 32) == 0);
	free(v);
	struct am_statement *st;
	size_t nst;
	check_rc(am_state_statements(p.store, circle, NULL, &st, &nst), AM_OK);
	check(nst == 0);
	am_state_statements_free(&st, nst);
	am_proof_finish(&p);
	am_bundle_destroy(&b);

	/* a plain bundle (version 1) has no manifest: said so */
	free(data);
	check_rc(am_bundle_export(s, circle, &data, &len, NULL, NULL), AM_OK);
	check_rc(am_bundle_read(data, len, 0, &b), AM_OK);
	memset(&seen, 0, sizeof seen);
	check_rc(am_proof_check(b, dir, on_problem, &seen, &p), AM_OK);
	check(saw(&seen, AM_ERR_NO_MANIFEST, AM_PROOF_MANIFEST) && !p.manifest_ok);
	am_proof_finish(&p);
	am_bundle_destroy(&b);
	free(data);
	am_store_close(&s);
}

int
main(void)
{
	check(sodium_init() >= 0);
	dir = fx_dir_make("proof");
	check_rc(am_identity_generate(&sam), AM_OK);
	check_rc(am_identity_generate(&alex), AM_OK);
	check_rc(am_identity_generate(&eve), AM_OK);
	test_whole();
	test_agreement();
	test_stranger();
	am_identity_destroy(&sam);
	am_identity_destroy(&alex);
	am_identity_destroy(&eve);
	fx_dir_remove();
	printf("proof: ok\n");
	return 0;
}
