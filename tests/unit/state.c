/*
 * Tests of the shared state, rule by rule (protocol/state.md): membership
 * and who may write, agreements with declines, amendments and ends,
 * check-ins with confirmations and disputes, statements, every refusal of
 * am_state_check(), the report of ignored entries, forks, prefix lookups,
 * and after each step the materialised digest equal to a refold; the
 * replay finds each kind of change to the stored facts.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "amends/state.h"
#include "fixture.h"
#include "store_impl.h"
#include "test.h"

static struct am_identity *sam, *alex, *lee, *kim, *eve;
static const uint8_t *SAM, *ALEX, *LEE, *KIM, *EVE;
static int64_t clock_ms = 1700000000000;

/* Appends without asking am_state_check: what a careless or hostile
 * writer could produce. */
static void
put(struct am_store *s, struct am_identity *id, const uint8_t *circle,
	const struct am_body *b, uint8_t *hash)
{
	clock_ms += 60000;
	check_rc(am_store_append(s, id, circle, clock_ms, b, hash, NULL), AM_OK);
}

/* Appends after am_state_check agrees, as the CLI does. */
static void
act(struct am_store *s, struct am_identity *id, const uint8_t *circle,
	const struct am_body *b, uint8_t *hash)
{
	clock_ms += 60000;
	fx_act(s, id, circle, b, clock_ms, hash);
}

/* am_state_check refuses with rc and a sentence containing want. */
static void
refused(struct am_store *s, struct am_identity *id, const uint8_t *circle,
	const struct am_body *b, int want_rc, const char *want)
{
	char why[160];
	check_rc(am_state_check(s, circle, am_identity_public(id), b, why,
		sizeof why), want_rc);
	if (strstr(why, want) == NULL) {
		fprintf(stderr, "why = \"%s\", expected \"%s\"\n", why, want);
		check(0);
	}
}

static void
same_as_refold(struct am_store *s, const uint8_t *circle)
{
	uint8_t d1[32], d2[32];
	check_rc(am_state_digest(s, circle, d1), AM_OK);
	check_rc(am_state_refold(s, circle, d2), AM_OK);
	check(memcmp(d1, d2, 32) == 0);
	bool same = false;
	check_rc(am_state_replay(s, circle, &same), AM_OK);
	check(same);
}

/* Two stores hold the same entries of circle (store digests) and derive
 * the same state from them, each equal to its refold. */
static void
same_two(struct am_store *a, struct am_store *b, const uint8_t *circle)
{
	uint8_t da[32], db[32];
	check_rc(am_store_digest(a, circle, da), AM_OK);
	check_rc(am_store_digest(b, circle, db), AM_OK);
	check(memcmp(da, db, 32) == 0);
	check_rc(am_state_digest(a, circle, da), AM_OK);
	check_rc(am_state_digest(b, circle, db), AM_OK);
	check(memcmp(da, db, 32) == 0);
	same_as_refold(a, circle);
	same_as_refold(b, circle);
}

static void
genesis(struct am_store *s, uint8_t circle[32])
{
	struct am_body b = { .kind = AM_KIND_GENESIS, .name = am_str_c("us") };
	randombytes_buf(b.nonce, 32);
	act(s, sam, NULL, &b, NULL);
	am_circle_id(SAM, b.nonce, circle);
}

static void
propose_member(struct am_store *s, struct am_identity *by, const uint8_t *circle,
	const uint8_t *who, uint32_t role, uint8_t hash[32])
{
	struct am_body b = fx_body(AM_KIND_MEMBER, who);
	b.role = role;
	act(s, by, circle, &b, hash);
}

static const struct am_member *
find_member(const struct am_member *m, size_t n, const uint8_t *id)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(m[i].id, id, 32) == 0)
			return &m[i];
	return NULL;
}

static uint32_t
member_status(struct am_store *s, const uint8_t *circle, const uint8_t *id)
{
	struct am_member *m;
	size_t n;
	check_rc(am_state_members(s, circle, &m, &n), AM_OK);
	const struct am_member *x = find_member(m, n, id);
	uint32_t st = x ? x->status : 0;
	free(m);
	return st;
}

/* Sam's circle with Alex as member and Lee as witness, all joined. */
static void
make_circle(struct am_store *s, uint8_t circle[32])
{
	uint8_t p[32];
	struct am_body a;
	genesis(s, circle);
	propose_member(s, sam, circle, ALEX, AM_ROLE_MEMBER, p);
	a = fx_body(AM_KIND_ACCEPT, p);
	act(s, alex, circle, &a, NULL);
	propose_member(s, sam, circle, LEE, AM_ROLE_WITNESS, p);
	a = fx_body(AM_KIND_ACCEPT, p);
	act(s, lee, circle, &a, NULL);
	act(s, alex, circle, &a, NULL);
}

static struct am_body
terms(const char *title, uint64_t notice)
{
	struct am_body b = fx_evening_checkin(title, SAM, ALEX);
	b.terms.notice = notice;
	return b;
}

static struct am_agreement
agreement(struct am_store *s, const uint8_t *id, int64_t now)
{
	struct am_agreement a;
	check_rc(am_state_agreement(s, id, now, &a), AM_OK);
	return a;
}

static uint32_t
status_of(struct am_store *s, const uint8_t *id, int64_t now)
{
	struct am_agreement a = agreement(s, id, now);
	uint32_t st = a.status;
	am_state_agreement_finish(&a);
	return st;
}

static size_t
violations(struct am_store *s, const uint8_t *circle)
{
	struct am_violation *v;
	size_t n;
	check_rc(am_state_violations(s, circle, &v, &n), AM_OK);
	free(v);
	return n;
}

static void
test_membership(void)
{
	struct am_store *s = fx_store_open("members.db");
	uint8_t circle[32], p_alex[32], p_lee[32], p_kim[32], h[32];
	struct am_body b;

	genesis(s, circle);
	check(member_status(s, circle, SAM) == AM_MEMBER_JOINED);
	check_rc(am_state_may_write(s, circle, SAM), AM_OK);
	check_rc(am_state_may_write(s, circle, ALEX), AM_ERR_NOT_MEMBER);

	/* a stranger's statement: refused before writing, and by ingest */
	b = (struct am_body){ .kind = AM_KIND_STATEMENT, .note = am_str_c("hi") };
	refused(s, eve, circle, &b, AM_ERR_NOT_MEMBER, "not a member");

	propose_member(s, sam, circle, ALEX, AM_ROLE_MEMBER, p_alex);
	check(member_status(s, circle, ALEX) == AM_MEMBER_PENDING);
	/* named, so Alex may write (to accept), but is not a member yet */
	check_rc(am_state_may_write(s, circle, ALEX), AM_OK);
	refused(s, alex, circle, &b, AM_ERR_NOT_MEMBER, "not a member");

	struct am_pending *pd;
	size_t npd;
	check_rc(am_state_pending(s, NULL, ALEX, &pd, &npd), AM_OK);
	check(npd == 1 && pd[0].kind == AM_PENDING_MEMBER &&
		memcmp(pd[0].hash, p_alex, 32) == 0 &&
		memcmp(pd[0].member, ALEX, 32) == 0);
	am_state_pending_free(&pd, npd);

	struct am_body acc = fx_body(AM_KIND_ACCEPT, p_alex);
	act(s, alex, circle, &acc, NULL);
	check(member_status(s, circle, ALEX) == AM_MEMBER_JOINED);
	refused(s, alex, circle, &acc, AM_ERR_RULE, "already a member");
	struct am_body again = fx_body(AM_KIND_MEMBER, ALEX);
	refused(s, sam, circle, &again, AM_ERR_RULE, "already a member");

	/* Lee, as witness, needs Alex's consent too */
	propose_member(s, sam, circle, LEE, AM_ROLE_WITNESS, p_lee);
	acc = fx_body(AM_KIND_ACCEPT, p_lee);
	act(s, lee, circle, &acc, NULL);
	check(member_status(s, circle, LEE) == AM_MEMBER_PENDING);
	check_rc(am_state_pending(s, circle, ALEX, &pd, &npd), AM_OK);
	check(npd == 1 && memcmp(pd[0].member, LEE, 32) == 0 &&
		pd[0].role == AM_ROLE_WITNESS);
	am_state_pending_free(&pd, npd);
	/* Alex, whose consent it needs, declines first: a refusal, final; an
	 * accept after it is refused before writing and ignored if written */
	struct am_body dec = fx_body(AM_KIND_DECLINE, p_lee);
	act(s, alex, circle, &dec, NULL);
	check(member_status(s, circle, LEE) == 0);
	check_rc(am_state_pending(s, circle, ALEX, &pd, &npd), AM_OK);
	check(npd == 0);
	am_state_pending_free(&pd, npd);
	refused(s, alex, circle, &acc, AM_ERR_RULE, "someone whose consent");
	put(s, alex, circle, &acc, h);
	check(member_status(s, circle, LEE) == 0);
	check(fx_has_violation(s, circle, h, AM_RULE_ACCEPTED));
	/* a new proposal of Lee, accepted by both: Lee joins */
	uint8_t p_lee2[32];
	propose_member(s, sam, circle, LEE, AM_ROLE_WITNESS, p_lee2);
	check(member_status(s, circle, LEE) == AM_MEMBER_PENDING);
	acc = fx_body(AM_KIND_ACCEPT, p_lee2);
	act(s, lee, circle, &acc, NULL);
	act(s, alex, circle, &acc, NULL);
	check(member_status(s, circle, LEE) == AM_MEMBER_JOINED);
	dec = fx_body(AM_KIND_DECLINE, p_lee2);
	refused(s, alex, circle, &dec, AM_ERR_RULE, "already a member");
	uint32_t role = 9;
	check_rc(am_state_member_role(s, circle, LEE, &role), AM_OK);
	check(role == AM_ROLE_WITNESS);
	check_rc(am_state_member_role(s, circle, EVE, NULL), AM_ERR_NOT_MEMBER);

	/* a witness proposes nobody; a proposal by one is ignored */
	struct am_body mk = fx_body(AM_KIND_MEMBER, KIM);
	refused(s, lee, circle, &mk, AM_ERR_RULE, "a witness cannot propose members");
	put(s, lee, circle, &mk, h);
	check(fx_has_violation(s, circle, h, AM_RULE_MEMBER));
	check(member_status(s, circle, KIM) == 0);

	/* Kim proposed by Alex: the newcomer and all three must accept */
	propose_member(s, alex, circle, KIM, AM_ROLE_MEMBER, p_kim);
	acc = fx_body(AM_KIND_ACCEPT, p_kim);
	act(s, kim, circle, &acc, NULL);
	act(s, sam, circle, &acc, NULL);
	check(member_status(s, circle, KIM) == AM_MEMBER_PENDING);
	act(s, lee, circle, &acc, NULL);
	check(member_status(s, circle, KIM) == AM_MEMBER_JOINED);
	/* a decline after accepting is final: ignored and reported */
	struct am_body dk = fx_body(AM_KIND_DECLINE, p_kim);
	put(s, sam, circle, &dk, h);
	check(fx_has_violation(s, circle, h, AM_RULE_ACCEPTED));
	check(member_status(s, circle, KIM) == AM_MEMBER_JOINED);

	/* every circle lists each member's role and status */
	struct am_circle_info *ci;
	size_t nci;
	check_rc(am_state_circles(s, LEE, &ci, &nci), AM_OK);
	check(nci == 1 && memcmp(ci[0].id, circle, 32) == 0 &&
		strcmp(ci[0].name, "us") == 0 && ci[0].role == AM_ROLE_WITNESS &&
		ci[0].status == AM_MEMBER_JOINED &&
		memcmp(ci[0].creator, SAM, 32) == 0);
	am_state_circles_free(&ci, nci);
	check_rc(am_state_circles(s, EVE, &ci, &nci), AM_OK);
	check(nci == 0);
	am_state_circles_free(&ci, nci);

	struct am_member *m;
	size_t n;
	check_rc(am_state_members(s, circle, &m, &n), AM_OK);
	check(n == 4 && m[0].creator && memcmp(m[0].id, SAM, 32) == 0);
	free(m);
	uint8_t unknown[32] = { 1 };
	check_rc(am_state_members(s, unknown, &m, &n), AM_ERR_NOT_FOUND);

	same_as_refold(s, circle);
	am_store_close(&s);
}

/* Copies every entry of circle from one store to another, feed by feed. */
struct copy_ctx {
	struct am_store *to;
	int rc;
};

static int
copy_entry(void *ctx, const uint8_t *raw, size_t len)
{
	struct copy_ctx *c = ctx;
	enum am_ingest_result r;
	c->rc = am_store_ingest(c->to, raw, len, &r);
	return AM_OK;
}

/* Whether an entry is stored depends on the entry, its own feed and the
 * circle's genesis only (protocol/state.md, "What a node stores"): a
 * stranger's entry waits for the genesis, is then stored as in the
 * author's own store, and the state ignores it there as here. */
static void
test_stranger_ingest(void)
{
	struct am_store *a = fx_store_open("stranger-a.db");
	struct am_store *b = fx_store_open("stranger-b.db");
	uint8_t circle[32];
	struct am_body st = { .kind = AM_KIND_STATEMENT, .note = am_str_c("hello") };
	struct copy_ctx c = { .to = b };

	genesis(a, circle);
	put(a, eve, circle, &st, NULL);
	/* before the genesis: it waits */
	check_rc(am_store_range(a, circle, EVE, 1, 1, copy_entry, &c), AM_OK);
	check_rc(c.rc, AM_ERR_NO_GENESIS);
	uint64_t seq;
	uint8_t h[32];
	check_rc(am_store_head(b, circle, EVE, &seq, h), AM_OK);
	check(seq == 0);
	/* after it: stored, whoever the author is */
	check_rc(am_store_range(a, circle, SAM, 1, 1, copy_entry, &c), AM_OK);
	check_rc(c.rc, AM_OK);
	check_rc(am_store_range(a, circle, EVE, 1, 1, copy_entry, &c), AM_OK);
	check_rc(c.rc, AM_OK);
	check_rc(am_store_head(b, circle, EVE, &seq, h), AM_OK);
	check(seq == 1);
	/* and ignored by the state, the same in both stores */
	struct am_violation *v;
	size_t n;
	check_rc(am_state_violations(b, circle, &v, &n), AM_OK);
	check(n == 1 && v[0].rule == AM_RULE_NOT_MEMBER &&
		memcmp(v[0].author, EVE, 32) == 0);
	free(v);
	check(violations(a, circle) == 1);
	same_two(a, b, circle);
	am_store_close(&a);
	am_store_close(&b);
}

static void
test_agreements(void)
{
	struct am_store *s = fx_store_open("agreements.db");
	uint8_t circle[32], ag[32], v2[32], v3[32], h[32], end[32];
	struct am_body b;

	make_circle(s, circle);
	/* refusals of proposals */
	b = terms("Evening check-in", 86400);
	refused(s, lee, circle, &b, AM_ERR_RULE, "a witness cannot propose terms");
	memcpy(b.terms.parties[1], KIM, 32);
	memcpy(b.terms.by[0], KIM, 32);
	refused(s, sam, circle, &b, AM_ERR_RULE, "is not a member of this circle");
	b = terms("Evening check-in", 86400);
	memcpy(b.terms.parties[1], LEE, 32);
	refused(s, sam, circle, &b, AM_ERR_RULE, "a witness cannot be a party");
	b = terms("Evening check-in", 86400);
	b.terms.nparties = 1;
	memcpy(b.terms.parties[0], ALEX, 32);
	b.terms.nby = 0;
	refused(s, sam, circle, &b, AM_ERR_RULE, "one of the parties");

	b = terms("Evening check-in", 86400);
	act(s, sam, circle, &b, ag);
	check(status_of(s, ag, 0) == AM_AGREEMENT_PROPOSED);

	/* a check-in before it is in force */
	struct am_body ci = fx_body(AM_KIND_CHECKIN, ag);
	ci.period = am_str_c("2024-03-01");
	ci.status = AM_KEPT;
	refused(s, sam, circle, &ci, AM_ERR_RULE, "not in force");

	/* witnesses never sign terms; non-parties cannot either */
	struct am_body acc = fx_body(AM_KIND_ACCEPT, ag);
	refused(s, lee, circle, &acc, AM_ERR_RULE, "a witness cannot accept");
	refused(s, eve, circle, &acc, AM_ERR_NOT_MEMBER, "not a member");
	refused(s, sam, circle, &acc, AM_ERR_RULE, "already accepted");
	put(s, lee, circle, &acc, h);
	check(fx_has_violation(s, circle, h, AM_RULE_WITNESS));

	/* pending for Alex, not for Sam (implicitly accepted) nor Lee */
	struct am_pending *pd;
	size_t npd;
	check_rc(am_state_pending(s, circle, ALEX, &pd, &npd), AM_OK);
	check(npd == 1 && pd[0].kind == AM_PENDING_VERSION &&
		memcmp(pd[0].hash, ag, 32) == 0 &&
		strcmp(pd[0].title, "Evening check-in") == 0 && !pd[0].declined);
	am_state_pending_free(&pd, npd);
	check_rc(am_state_pending(s, circle, SAM, &pd, &npd), AM_OK);
	check(npd == 0);
	am_state_pending_free(&pd, npd);

	/* a decline stands until the same party accepts */
	struct am_body dec = fx_body(AM_KIND_DECLINE, ag);
	dec.note = am_str_c("not every evening");
	act(s, alex, circle, &dec, NULL);
	check(status_of(s, ag, 0) == AM_AGREEMENT_DECLINED);
	act(s, alex, circle, &acc, NULL);
	struct am_agreement a = agreement(s, ag, 0);
	check(a.status == AM_AGREEMENT_IN_FORCE && a.has_current &&
		memcmp(a.current, ag, 32) == 0 && a.nversions == 1 &&
		strcmp(a.title, "Evening check-in") == 0 && a.in_force_ever);
	am_state_agreement_finish(&a);

	/* acceptance is final: a later decline is refused, and ignored */
	refused(s, alex, circle, &dec, AM_ERR_RULE, "end the agreement");
	put(s, alex, circle, &dec, h);
	check(fx_has_violation(s, circle, h, AM_RULE_ACCEPTED));
	check(status_of(s, ag, 0) == AM_AGREEMENT_IN_FORCE);

	/* an amendment adding a pause: in force once both sign */
	struct am_body am = terms("Evening check-in", 86400);
	am.kind = AM_KIND_AMEND;
	memcpy(am.target, ag, 32);
	memcpy(am.base, ag, 32);
	am.terms.npauses = 1;
	am.terms.pauses[0].from = am_str_c("2024-04-01");
	am.terms.pauses[0].until = am_str_c("2024-04-07");
	refused(s, lee, circle, &am, AM_ERR_RULE, "a witness cannot amend");
	act(s, alex, circle, &am, v2);
	a = agreement(s, ag, 0);
	/* what to amend is the version in force, not a pending amendment */
	check(memcmp(a.current, ag, 32) == 0 && memcmp(a.newest, ag, 32) == 0);
	am_state_agreement_finish(&a);
	acc = fx_body(AM_KIND_ACCEPT, v2);
	act(s, sam, circle, &acc, NULL);
	a = agreement(s, ag, 0);
	check(memcmp(a.current, v2, 32) == 0 && a.nversions == 2);
	am_state_agreement_finish(&a);

	struct am_version *v;
	size_t nv;
	check_rc(am_state_versions(s, ag, &v, &nv), AM_OK);
	check(nv == 2 && v[0].depth == 0 && v[1].depth == 1);
	check(v[0].status == AM_VERSION_SUPERSEDED && v[1].status == AM_VERSION_IN_FORCE);
	check(v[1].body.terms.npauses == 1 && v[1].has_base &&
		memcmp(v[1].base, ag, 32) == 0);
	check(v[0].nsigs == 2 && v[0].sigs[0].implicit &&
		v[0].sigs[1].position == AM_POS_ACCEPTED && !v[0].sigs[1].implicit);
	am_state_versions_free(&v, nv);

	/* two amendments of the same base: the one both sign wins; an
	 * unsigned one stays pending */
	am.terms.text = am_str_c("Sam checks in by 22:00.");
	memcpy(am.base, v2, 32);
	act(s, sam, circle, &am, v3);
	am.terms.text = am_str_c("Sam checks in by 20:00.");
	act(s, sam, circle, &am, h);
	acc = fx_body(AM_KIND_ACCEPT, v3);
	act(s, alex, circle, &acc, NULL);
	a = agreement(s, ag, 0);
	check(memcmp(a.current, v3, 32) == 0);
	am_state_agreement_finish(&a);
	/* an amendment of a version of another agreement is ignored */
	uint8_t ag2[32];
	b = terms("Counselling", 0);
	act(s, alex, circle, &b, ag2);
	memcpy(am.target, ag2, 32);
	memcpy(am.base, v2, 32);
	refused(s, sam, circle, &am, AM_ERR_NOT_FOUND, "not one of this agreement's");
	put(s, sam, circle, &am, h);
	check(fx_has_violation(s, circle, h, AM_RULE_UNKNOWN_TARGET));

	/* an end by one party takes effect after the notice */
	struct am_body e = fx_body(AM_KIND_END, ag);
	e.note = am_str_c("we are done");
	refused(s, lee, circle, &e, AM_ERR_RULE, "a witness cannot end");
	act(s, sam, circle, &e, end);
	int64_t at = clock_ms;
	a = agreement(s, ag, at);
	check(a.status == AM_AGREEMENT_ENDING && a.has_end && !a.end_mutual &&
		a.end_at == at + 86400 * 1000 && strcmp(a.end_reason, "we are done") == 0 &&
		memcmp(a.ended_by, SAM, 32) == 0);
	am_state_agreement_finish(&a);
	check(status_of(s, ag, at + 86400 * 1000) == AM_AGREEMENT_ENDED);
	refused(s, alex, circle, &e, AM_ERR_RULE, "already ending");
	check_rc(am_state_pending(s, circle, ALEX, &pd, &npd), AM_OK);
	bool end_pending = false;
	for (size_t i = 0; i < npd; i++)
		end_pending = end_pending || (pd[i].kind == AM_PENDING_END &&
			memcmp(pd[i].hash, end, 32) == 0);
	check(end_pending);
	am_state_pending_free(&pd, npd);
	/* Alex accepts the end: it takes effect at once */
	acc = fx_body(AM_KIND_ACCEPT, end);
	act(s, alex, circle, &acc, NULL);
	check(status_of(s, ag, 0) == AM_AGREEMENT_ENDED);
	refused(s, alex, circle, &acc, AM_ERR_RULE, "already taken effect");
	ci = fx_body(AM_KIND_CHECKIN, ag);
	ci.period = am_str_c("2024-03-01");
	ci.status = AM_KEPT;
	refused(s, sam, circle, &ci, AM_ERR_RULE, "has ended");
	am.kind = AM_KIND_AMEND;
	memcpy(am.target, ag, 32);
	memcpy(am.base, v3, 32);
	refused(s, sam, circle, &am, AM_ERR_RULE, "ended");

	/* an end of an agreement never in force is a withdrawal */
	e = fx_body(AM_KIND_END, ag2);
	act(s, alex, circle, &e, NULL);
	check(status_of(s, ag2, 0) == AM_AGREEMENT_ENDED);

	struct am_agreement *list;
	size_t nl;
	check_rc(am_state_agreements(s, circle, 0, &list, &nl), AM_OK);
	check(nl == 2 && memcmp(list[0].id, ag, 32) == 0);
	am_state_agreements_free(&list, nl);
	same_as_refold(s, circle);
	am_store_close(&s);
}

/* The check-in of period that counts among sam's, and how many there are. */
static const struct am_checkin *
counting(const struct am_checkin *v, size_t n, const char *period,
	size_t *count)
{
	const struct am_checkin *c = NULL;
	*count = 0;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i].period, period) != 0)
			continue;
		(*count)++;
		if (v[i].counts) {
			check(c == NULL);   /* exactly one counts */
			c = &v[i];
		}
	}
	return c;
}

/* Is check-in want the one of period that counts, among count of them? */
static bool
counts_now(struct am_store *s, const uint8_t *ag, const char *period,
	const uint8_t *want, size_t count)
{
	struct am_checkin *v;
	size_t n, k;
	check_rc(am_state_checkins(s, ag, &v, &n), AM_OK);
	const struct am_checkin *c = counting(v, n, period, &k);
	bool ok = c != NULL && k == count && memcmp(c->hash, want, 32) == 0;
	am_state_checkins_free(&v, n);
	return ok;
}

static void
mark(struct am_store *s, struct am_identity *who, const uint8_t *circle,
	uint32_t kind, const uint8_t *target)
{
	struct am_body b = fx_body(kind, target);
	if (kind == AM_KIND_DISPUTE)
		b.note = am_str_c("that is not what happened");
	act(s, who, circle, &b, NULL);
}

/*
 * Corrections (protocol/state.md, "Check-ins"): a check-in nobody answered
 * is replaced at once; an answered one only once everyone who answered it
 * confirms the correction; a disputed correction replaces nothing; a
 * correction of a correction follows the same rule. Nothing is erased.
 */
static void
test_corrections(void)
{
	struct am_store *s = fx_store_open("corrections.db");
	uint8_t circle[32], ag[32], a1[32], a2[32], b1[32], b2[32], b3[32];
	uint8_t c1[32], c2[32], c3[32];
	struct am_body b;

	make_circle(s, circle);
	b = terms("Evening check-in", 0);
	act(s, sam, circle, &b, ag);
	struct am_body acc = fx_body(AM_KIND_ACCEPT, ag);
	act(s, alex, circle, &acc, NULL);
	struct am_body ci = fx_body(AM_KIND_CHECKIN, ag);

	/* unanswered: replaced at once */
	ci.period = am_str_c("2024-03-01");
	ci.status = AM_MISSED;
	act(s, sam, circle, &ci, a1);
	check(counts_now(s, ag, "2024-03-01", a1, 1));
	ci.status = AM_KEPT;
	act(s, sam, circle, &ci, a2);
	check(counts_now(s, ag, "2024-03-01", a2, 2));

	/* answered by Alex and Lee (the witness): the original counts until
	 * both confirm the correction */
	ci.period = am_str_c("2024-03-02");
	ci.status = AM_MISSED;
	act(s, sam, circle, &ci, b1);
	mark(s, alex, circle, AM_KIND_CONFIRM, b1);
	mark(s, lee, circle, AM_KIND_DISPUTE, b1);
	ci.status = AM_KEPT;
	act(s, sam, circle, &ci, b2);
	check(counts_now(s, ag, "2024-03-02", b1, 2));
	mark(s, alex, circle, AM_KIND_CONFIRM, b2);
	check(counts_now(s, ag, "2024-03-02", b1, 2));
	mark(s, lee, circle, AM_KIND_CONFIRM, b2);
	check(counts_now(s, ag, "2024-03-02", b2, 2));
	/* a correction of the correction: Alex disputes it, so it replaces
	 * nothing; when Alex changes his answer to a confirmation it still
	 * waits for Lee, who answered b2; then it counts */
	ci.status = AM_PARTIAL;
	act(s, sam, circle, &ci, b3);
	mark(s, alex, circle, AM_KIND_DISPUTE, b3);
	check(counts_now(s, ag, "2024-03-02", b2, 3));
	mark(s, alex, circle, AM_KIND_CONFIRM, b3);
	check(counts_now(s, ag, "2024-03-02", b2, 3));
	mark(s, lee, circle, AM_KIND_CONFIRM, b3);
	check(counts_now(s, ag, "2024-03-02", b3, 3));
	/* Alex disputes b3 again: b2 counts again, and every answer stays */
	mark(s, alex, circle, AM_KIND_DISPUTE, b3);
	check(counts_now(s, ag, "2024-03-02", b2, 3));

	/* nobody answered the original, so its correction takes its place at
	 * once, and a dispute of the correction does not bring it back: the
	 * disputed correction counts (as disputed), and its own correction
	 * waits for Lee, who disputed it */
	ci.period = am_str_c("2024-03-03");
	ci.status = AM_KEPT;
	act(s, sam, circle, &ci, c1);
	ci.status = AM_PARTIAL;
	act(s, sam, circle, &ci, c2);
	mark(s, lee, circle, AM_KIND_DISPUTE, c2);
	check(counts_now(s, ag, "2024-03-03", c2, 2));
	ci.status = AM_MISSED;
	act(s, sam, circle, &ci, c3);
	check(counts_now(s, ag, "2024-03-03", c2, 3));
	mark(s, lee, circle, AM_KIND_CONFIRM, c3);
	check(counts_now(s, ag, "2024-03-03", c3, 3));

	struct am_checkin *v;
	size_t n;
	check_rc(am_state_checkins(s, ag, &v, &n), AM_OK);
	check(n == 8);
	for (size_t i = 0; i < n; i++) {
		if (memcmp(v[i].hash, b3, 32) != 0)
			continue;
		/* Alex's three answers, then Lee's, each in feed order */
		check(v[i].correction && memcmp(v[i].corrects, b2, 32) == 0);
		check(v[i].nanswers == 4 && v[i].nmarks == 2);
		check(memcmp(v[i].answers[0].id, ALEX, 32) == 0 &&
			v[i].answers[0].kind == AM_MARK_DISPUTED &&
			v[i].answers[1].kind == AM_MARK_CONFIRMED &&
			v[i].answers[2].kind == AM_MARK_DISPUTED &&
			memcmp(v[i].answers[3].id, LEE, 32) == 0);
		check(v[i].disputed && !v[i].verified);
	}
	am_state_checkins_free(&v, n);
	/* nothing here is ignored */
	struct am_violation *viol;
	size_t nviol;
	check_rc(am_state_violations(s, circle, &viol, &nviol), AM_OK);
	check(nviol == 0);
	free(viol);
	same_as_refold(s, circle);
	am_store_close(&s);
}

static void
test_checkins(void)
{
	struct am_store *s = fx_store_open("checkins.db");
	uint8_t circle[32], ag[32], c1[32], c2[32], c3[32], h[32], st1[32];
	struct am_body b;

	make_circle(s, circle);
	b = terms("Evening check-in", 0);
	act(s, sam, circle, &b, ag);
	struct am_body acc = fx_body(AM_KIND_ACCEPT, ag);
	act(s, alex, circle, &acc, NULL);

	struct am_body ci = fx_body(AM_KIND_CHECKIN, ag);
	ci.period = am_str_c("2024-03-01");
	ci.status = AM_KEPT;
	/* only those in `by` check in; never a witness */
	refused(s, alex, circle, &ci, AM_ERR_RULE, "not one of those who check in");
	refused(s, lee, circle, &ci, AM_ERR_RULE, "a witness cannot check in");
	put(s, alex, circle, &ci, h);
	check(fx_has_violation(s, circle, h, AM_RULE_NOT_CHECKER));
	act(s, sam, circle, &ci, c1);
	/* a second check-in for the period corrects the first: nobody had
	 * answered the first, so the correction counts at once */
	ci.status = AM_PARTIAL;
	ci.note = am_str_c("late, but called");
	act(s, sam, circle, &ci, c2);
	ci.period = am_str_c("2024-03-02");
	ci.status = AM_MISSED;
	ci.note = am_str_c("");
	act(s, sam, circle, &ci, c3);

	struct am_checkin *v;
	size_t n;
	check_rc(am_state_checkins(s, ag, &v, &n), AM_OK);
	check(n == 3 && memcmp(v[0].hash, c1, 32) == 0 && !v[0].counts &&
		!v[0].correction);
	check(memcmp(v[1].hash, c2, 32) == 0 && v[1].status == AM_PARTIAL &&
		strcmp(v[1].period, "2024-03-01") == 0 && v[1].counts &&
		v[1].correction && memcmp(v[1].corrects, c1, 32) == 0 &&
		strcmp(v[1].note, "late, but called") == 0 && !v[1].verified);
	check(memcmp(v[2].hash, c3, 32) == 0 && v[2].counts && !v[2].correction);
	am_state_checkins_free(&v, n);

	/* confirmations: never one's own; the corrected one may be answered */
	struct am_body cf = fx_body(AM_KIND_CONFIRM, c2);
	refused(s, sam, circle, &cf, AM_ERR_RULE, "your own check-in");
	put(s, sam, circle, &cf, h);
	check(fx_has_violation(s, circle, h, AM_RULE_OWN));
	refused(s, eve, circle, &cf, AM_ERR_NOT_MEMBER, "not a member");
	act(s, lee, circle, &cf, NULL);
	check_rc(am_state_checkins(s, ag, &v, &n), AM_OK);
	check(!v[1].verified && v[1].nmarks == 1 && v[1].marks[0].witness);
	am_state_checkins_free(&v, n);
	act(s, alex, circle, &cf, NULL);
	check_rc(am_state_checkins(s, ag, &v, &n), AM_OK);
	check(v[1].verified && !v[1].disputed && v[1].nmarks == 2 &&
		memcmp(v[1].marks[0].id, ALEX, 32) == 0 && !v[1].marks[0].witness);
	am_state_checkins_free(&v, n);

	/* a dispute by the same person stands in place of the confirmation,
	 * which stays among the answers */
	struct am_body dp = fx_body(AM_KIND_DISPUTE, c2);
	dp.note = am_str_c("you did not call");
	act(s, alex, circle, &dp, NULL);
	check_rc(am_state_checkins(s, ag, &v, &n), AM_OK);
	check(!v[1].verified && v[1].disputed &&
		v[1].marks[0].kind == AM_MARK_DISPUTED &&
		strcmp(v[1].marks[0].note, "you did not call") == 0);
	check(v[1].nanswers == 3 && memcmp(v[1].answers[0].id, ALEX, 32) == 0 &&
		v[1].answers[0].kind == AM_MARK_CONFIRMED &&
		v[1].answers[1].kind == AM_MARK_DISPUTED &&
		strcmp(v[1].answers[1].note, "you did not call") == 0 &&
		v[1].answers[2].witness);
	/* nobody answered the first, so the correction took its place at
	 * once: a dispute of the correction shows on it, and does not bring
	 * back the one nobody answered */
	check(v[1].counts && !v[0].counts);
	am_state_checkins_free(&v, n);

	/* statements: confirmed by another member, never disputed */
	struct am_body sa = { .kind = AM_KIND_STATEMENT,
		.note = am_str_c("I am sorry about Tuesday.") };
	sa.has_target = true;
	memcpy(sa.target, ag, 32);
	act(s, sam, circle, &sa, st1);
	struct am_body sd = fx_body(AM_KIND_DISPUTE, st1);
	sd.note = am_str_c("no");
	refused(s, alex, circle, &sd, AM_ERR_RULE, "only check-ins can be disputed");
	put(s, alex, circle, &sd, h);
	check(fx_has_violation(s, circle, h, AM_RULE_WRONG_TARGET));
	struct am_body sc = fx_body(AM_KIND_CONFIRM, st1);
	refused(s, sam, circle, &sc, AM_ERR_RULE, "your own statement");
	act(s, alex, circle, &sc, NULL);
	struct am_statement *sv;
	size_t ns;
	check_rc(am_state_statements(s, circle, ag, &sv, &ns), AM_OK);
	check(ns == 1 && sv[0].has_about && sv[0].nmarks == 1 &&
		memcmp(sv[0].marks[0].id, ALEX, 32) == 0 &&
		strcmp(sv[0].text, "I am sorry about Tuesday.") == 0);
	am_state_statements_free(&sv, ns);
	/* a statement about an unknown agreement */
	memset(sa.target, 7, 32);
	refused(s, sam, circle, &sa, AM_ERR_NOT_FOUND, "no such agreement");
	/* confirm of something that is neither */
	struct am_body bad = fx_body(AM_KIND_CONFIRM, ag);
	refused(s, alex, circle, &bad, AM_ERR_RULE, "only check-ins and statements");
	struct am_body badacc = fx_body(AM_KIND_ACCEPT, c3);
	refused(s, alex, circle, &badacc, AM_ERR_RULE, "only versions");
	uint8_t nothing[32] = { 0 };
	struct am_body none = fx_body(AM_KIND_ACCEPT, nothing);
	refused(s, alex, circle, &none, AM_ERR_NOT_FOUND, "no such entry");
	put(s, alex, circle, &none, h);
	check(fx_has_violation(s, circle, h, AM_RULE_UNKNOWN_TARGET));
	same_as_refold(s, circle);
	am_store_close(&s);
}

static void
test_resolve(void)
{
	struct am_store *s = fx_store_open("resolve.db");
	uint8_t circle[32], ag[32], out[32];
	char hex[65];

	make_circle(s, circle);
	struct am_body b = terms("Evening check-in", 0);
	act(s, sam, circle, &b, ag);
	am_hex(ag, 32, hex);
	hex[10] = '\0';
	check_rc(am_state_resolve(s, hex, AM_OBJ_AGREEMENT, out), AM_OK);
	check(memcmp(out, ag, 32) == 0);
	check_rc(am_state_resolve(s, hex, AM_OBJ_ANY, out), AM_OK);
	check_rc(am_state_resolve(s, hex, AM_OBJ_CHECKIN, out), AM_ERR_NOT_FOUND);
	for (char *p = hex; *p; p++)
		*p = (char)(*p >= 'a' ? *p - 32 : *p);
	check_rc(am_state_resolve(s, hex, AM_OBJ_VERSION, out), AM_OK);
	check_rc(am_state_resolve(s, "xyz", AM_OBJ_ANY, out), AM_ERR_ARG);
	check_rc(am_state_resolve(s, "", AM_OBJ_ANY, out), AM_ERR_ARG);
	/* seventeen statements: two share a first hex digit */
	uint8_t st[17][32];
	for (int i = 0; i < 17; i++) {
		struct am_body sb = { .kind = AM_KIND_STATEMENT, .note = am_str_c("x") };
		act(s, i % 2 ? sam : alex, circle, &sb, st[i]);
	}
	int i1 = -1, i2 = -1;
	for (int i = 0; i < 17 && i2 < 0; i++)
		for (int k = i + 1; k < 17 && i2 < 0; k++)
			if (st[i][0] >> 4 == st[k][0] >> 4) {
				i1 = i;
				i2 = k;
			}
	check(i2 >= 0);
	char one[2] = { "0123456789abcdef"[st[i1][0] >> 4], 0 };
	check_rc(am_state_resolve(s, one, AM_OBJ_STATEMENT, out), AM_ERR_AMBIGUOUS);
	am_hex(st[i1], 32, hex);
	check_rc(am_state_resolve(s, hex, AM_OBJ_STATEMENT, out), AM_OK);
	check(memcmp(out, st[i1], 32) == 0);
	check_rc(am_state_resolve(s, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
		AM_OBJ_ANY, out), AM_ERR_NOT_FOUND);
	am_hex(circle, 32, hex);
	check_rc(am_state_resolve(s, hex, AM_OBJ_CIRCLE, out), AM_OK);
	check(memcmp(out, circle, 32) == 0);

	struct am_object_info info;
	check_rc(am_state_lookup(s, ag, &info), AM_OK);
	check(info.kind == AM_KIND_PROPOSE && memcmp(info.circle, circle, 32) == 0 &&
		memcmp(info.agreement, ag, 32) == 0 && memcmp(info.author, SAM, 32) == 0);
	check_rc(am_state_lookup(s, circle, &info), AM_OK);
	check(info.kind == AM_KIND_GENESIS);
	uint8_t zero[32] = { 0 };
	check_rc(am_state_lookup(s, zero, &info), AM_ERR_NOT_FOUND);
	am_store_close(&s);
}

/* Alex signs two different entries at one number: from there on Alex's
 * feed is ignored, on every node alike. */
static void
test_fork(void)
{
	struct am_store *a = fx_store_open("fork-a.db"), *b = fx_store_open("fork-b.db");
	uint8_t circle[32], ag[32], x[32], y[32];
	struct copy_ctx c = { .to = b };

	make_circle(a, circle);
	struct am_body p = terms("Evening check-in", 0);
	act(a, sam, circle, &p, ag);
	/* copy everything so far to b */
	check_rc(am_store_range(a, circle, SAM, 1, 100, copy_entry, &c), AM_OK);
	check_rc(am_store_range(a, circle, ALEX, 1, 100, copy_entry, &c), AM_OK);
	check_rc(am_store_range(a, circle, LEE, 1, 100, copy_entry, &c), AM_OK);
	same_as_refold(b, circle);
	/* Alex accepts on a and declines on b, at the same number */
	struct am_body acc = fx_body(AM_KIND_ACCEPT, ag), dec = fx_body(AM_KIND_DECLINE, ag);
	put(a, alex, circle, &acc, x);
	put(b, alex, circle, &dec, y);
	check(status_of(a, ag, 0) == AM_AGREEMENT_IN_FORCE);
	uint64_t seq;
	uint8_t h[32];
	check_rc(am_store_head(a, circle, ALEX, &seq, h), AM_OK);
	struct copy_ctx ca = { .to = a }, cb = { .to = b };
	check_rc(am_store_range(b, circle, ALEX, seq, seq, copy_entry, &ca), AM_OK);
	check_rc(ca.rc, AM_OK);
	check_rc(am_store_range(a, circle, ALEX, seq, seq, copy_entry, &cb), AM_OK);
	check_rc(cb.rc, AM_OK);
	/* both ignore Alex's answer: the agreement is only proposed */
	check(status_of(a, ag, 0) == AM_AGREEMENT_PROPOSED);
	check(status_of(b, ag, 0) == AM_AGREEMENT_PROPOSED);
	uint8_t da[32], dbb[32];
	check_rc(am_state_digest(a, circle, da), AM_OK);
	check_rc(am_state_digest(b, circle, dbb), AM_OK);
	check(memcmp(da, dbb, 32) == 0);
	same_as_refold(a, circle);
	same_as_refold(b, circle);
	struct am_violation *v;
	size_t n;
	check_rc(am_state_violations(a, circle, &v, &n), AM_OK);
	bool forked = false;
	for (size_t i = 0; i < n; i++)
		forked = forked || (v[i].rule == AM_RULE_FORKED &&
			memcmp(v[i].author, ALEX, 32) == 0 && v[i].seq == seq);
	check(forked);
	free(v);
	am_store_close(&a);
	am_store_close(&b);
}

/* am_state_replay finds every kind of change to the stored facts (a
 * fact's time, its hash key, what it names, its kind, a fact gone, one
 * added), and agrees again once the change is undone. */
static void
test_replay_tampering(void)
{
	static const char *const tamper[] = {
		"UPDATE st_facts SET time = time + 1 WHERE kind = 3",
		"UPDATE st_facts SET hkey = hkey + 1 WHERE kind = 3",
		"UPDATE st_facts SET hkey = NULL WHERE kind = 3",
		"UPDATE st_facts SET hkey = 7 WHERE kind = 5",
		"UPDATE st_facts SET ref = zeroblob(32) WHERE kind = 5",
		"UPDATE st_facts SET ref = NULL WHERE kind = 5",
		"UPDATE st_facts SET ref = zeroblob(32) WHERE kind = 3",
		"UPDATE st_facts SET kind = 11 WHERE kind = 3",
		"DELETE FROM st_facts WHERE kind = 3",
		("INSERT INTO st_facts SELECT feed, kind, seq + 100, time, hkey, ref "
		"FROM st_facts WHERE kind = 3"),
	};
	struct am_store *s = fx_store_open("replay.db");
	sqlite3 *db = am_store_sqlite(s);
	uint8_t circle[32], ag[32];
	bool same;

	make_circle(s, circle);
	struct am_body p = terms("Evening check-in", 0);
	act(s, sam, circle, &p, ag);
	struct am_body acc = fx_body(AM_KIND_ACCEPT, ag);
	act(s, alex, circle, &acc, NULL);
	same_as_refold(s, circle);
	for (size_t i = 0; i < sizeof tamper / sizeof tamper[0]; i++) {
		check(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK);
		check(sqlite3_exec(db, tamper[i], NULL, NULL, NULL) == SQLITE_OK);
		check(sqlite3_changes(db) > 0);
		same = true;
		check_rc(am_state_replay(s, circle, &same), AM_OK);
		if (same)
			fprintf(stderr, "not found: %s\n", tamper[i]);
		check(!same);
		check(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK);
		check_rc(am_state_replay(s, circle, &same), AM_OK);
		check(same);
	}
	am_store_close(&s);
}

/* ---- no one changes an agreement alone (protocol/state.md, "Versions") ---- */

/* An amendment of base in agreement ag with the given parties (and they
 * check in), written by who without asking the rules first. */
static void
amend_as(struct am_store *s, struct am_identity *who, const uint8_t *circle,
	const uint8_t *ag, const uint8_t *base, const uint8_t *const *parties,
	uint32_t n, const char *text, uint8_t hash[32])
{
	struct am_body b = terms("Evening check-in", 86400);
	b.kind = AM_KIND_AMEND;
	memcpy(b.target, ag, 32);
	memcpy(b.base, base, 32);
	b.terms.text = am_str_c(text);
	b.terms.nparties = n;
	b.terms.nby = 0;
	for (uint32_t i = 0; i < n; i++)
		memcpy(b.terms.parties[i], parties[i], 32);
	put(s, who, circle, &b, hash);
}

static void
accept_as(struct am_store *s, struct am_identity *who, const uint8_t *circle,
	const uint8_t *what)
{
	struct am_body b = fx_body(AM_KIND_ACCEPT, what);
	put(s, who, circle, &b, NULL);
}

static bool
is_current(struct am_store *s, const uint8_t *ag, const uint8_t *v)
{
	struct am_agreement a = agreement(s, ag, 0);
	bool yes = a.has_current && memcmp(a.current, v, 32) == 0;
	am_state_agreement_finish(&a);
	return yes;
}

static uint32_t
version_status(struct am_store *s, const uint8_t *ag, const uint8_t *v)
{
	struct am_version *vs;
	size_t n;
	uint32_t st = 0;
	check_rc(am_state_versions(s, ag, &vs, &n), AM_OK);
	for (size_t i = 0; i < n; i++)
		if (memcmp(vs[i].hash, v, 32) == 0)
			st = vs[i].status;
	am_state_versions_free(&vs, n);
	return st;
}

/* Kim joins Sam's circle as a member (everyone consents). */
static void
add_kim(struct am_store *s, const uint8_t *circle)
{
	uint8_t p[32];
	propose_member(s, sam, circle, KIM, AM_ROLE_MEMBER, p);
	accept_as(s, kim, circle, p);
	accept_as(s, alex, circle, p);
	accept_as(s, lee, circle, p);
	check(member_status(s, circle, KIM) == AM_MEMBER_JOINED);
}

static void
test_no_one_alone(void)
{
	struct am_store *s = fx_store_open("alone.db");
	uint8_t circle[32], ag[32], v1[32], v2[32], w[32], e[32];
	const uint8_t *sam_only[] = { SAM }, *both[] = { SAM, ALEX };

	make_circle(s, circle);
	add_kim(s, circle);
	struct am_body b = terms("Evening check-in", 7 * 86400);
	act(s, sam, circle, &b, ag);
	accept_as(s, alex, circle, ag);
	check(is_current(s, ag, ag));

	/* Sam amends it to himself alone: it waits for Alex */
	amend_as(s, sam, circle, ag, ag, sam_only, 1,
		"Sam checks in when he feels like it", v1);
	check(is_current(s, ag, ag));
	check(version_status(s, ag, v1) == AM_VERSION_PENDING);
	/* Alex is asked, though not a party of the new version */
	struct am_pending *pd;
	size_t npd;
	check_rc(am_state_pending(s, NULL, ALEX, &pd, &npd), AM_OK);
	bool asked = false;
	for (size_t i = 0; i < npd; i++)
		asked = asked || memcmp(pd[i].hash, v1, 32) == 0;
	am_state_pending_free(&pd, npd);
	check(asked);
	/* a chain of such amendments: still Alex's version */
	amend_as(s, sam, circle, ag, v1, sam_only, 1, "and never on weekends", v2);
	check(is_current(s, ag, ag));
	check(version_status(s, ag, v2) == AM_VERSION_PENDING);
	/* nor can Sam end it at once through them: his end takes the
	 * notice of the version both signed */
	struct am_body eb = fx_body(AM_KIND_END, ag);
	put(s, sam, circle, &eb, e);
	int64_t at = clock_ms;
	struct am_agreement a = agreement(s, ag, at);
	check(a.status == AM_AGREEMENT_ENDING && !a.end_mutual &&
		a.end_at == at + 7 * 86400 * 1000LL);
	am_state_agreement_finish(&a);
	same_as_refold(s, circle);

	/* the same agreement, with Alex's consent to the amendment: in force */
	uint8_t ag2[32], x1[32];
	b = terms("Morning check-in", 86400);
	act(s, sam, circle, &b, ag2);
	accept_as(s, alex, circle, ag2);
	amend_as(s, sam, circle, ag2, ag2, sam_only, 1, "Sam alone checks in", x1);
	accept_as(s, alex, circle, x1);
	check(is_current(s, ag2, x1));
	check(version_status(s, ag2, ag2) == AM_VERSION_SUPERSEDED);

	/* the sibling: an agreement Sam alone signs, then amended to both;
	 * Sam amends the original again, with a hash below that of the
	 * version both signed, to win a tie of depth: he knew that version
	 * when he wrote his, so it needs Alex too */
	uint8_t q0[32], q1[32];
	b = terms("Weekly call", 0);
	b.terms.nparties = 1;
	b.terms.nby = 0;
	act(s, sam, circle, &b, q0);
	check(is_current(s, q0, q0));
	amend_as(s, sam, circle, q0, q0, both, 2, "Both call on Sundays", q1);
	accept_as(s, alex, circle, q1);
	check(is_current(s, q0, q1));
	/* Sam writes amendments until one has the lower hash (the keys are
	 * new every run, so nearly always within a few tries); none of them,
	 * lower or not, is in force, and each waits for Alex */
	char text[64];
	bool lower = false;
	for (int i = 0; i < 64 && !lower; i++) {
		snprintf(text, sizeof text, "Sam calls when he likes (%d)", i);
		amend_as(s, sam, circle, q0, q0, sam_only, 1, text, w);
		lower = memcmp(w, q1, 32) < 0;
		check(is_current(s, q0, q1));
		check(version_status(s, q0, w) == AM_VERSION_PENDING);
	}
	if (!lower)
		printf("state: no amendment of 64 had a hash below q1's\n");

	/* the other order: Sam's version first, in force on his word alone,
	 * then one both sign amending the same base: that one, whatever
	 * the hashes, as both agreed to it after Sam's */
	uint8_t r0[32], r1[32], r2[32];
	b = terms("Walks", 0);
	b.terms.nparties = 1;
	b.terms.nby = 0;
	act(s, sam, circle, &b, r0);
	amend_as(s, sam, circle, r0, r0, sam_only, 1, "Sam walks alone", r1);
	check(is_current(s, r0, r1));
	amend_as(s, sam, circle, r0, r0, both, 2, "We walk together", r2);
	accept_as(s, alex, circle, r2);
	check(is_current(s, r0, r2));
	check(version_status(s, r0, r1) == AM_VERSION_SUPERSEDED);

	/* V2 of {Sam, Alex} in force; Sam amends the first version with
	 * {Sam, Kim} and Kim signs: without Alex nothing changes */
	uint8_t t0[32], t1[32], t2[32], tw[32];
	const uint8_t *sam_kim[] = { SAM, KIM };
	b = terms("Counselling", 0);
	act(s, sam, circle, &b, t0);
	accept_as(s, alex, circle, t0);
	amend_as(s, alex, circle, t0, t0, both, 2, "Thursdays", t1);
	accept_as(s, sam, circle, t1);
	amend_as(s, alex, circle, t0, t1, both, 2, "Thursdays at six", t2);
	accept_as(s, sam, circle, t2);
	check(is_current(s, t0, t2));
	amend_as(s, sam, circle, t0, t0, sam_kim, 2, "Sam and Kim decide", tw);
	accept_as(s, kim, circle, tw);
	check(is_current(s, t0, t2));
	check(version_status(s, t0, t1) == AM_VERSION_SUPERSEDED);
	check(version_status(s, t0, tw) == AM_VERSION_PENDING);
	/* with Alex's consent too, it replaces the version in force */
	accept_as(s, alex, circle, tw);
	check(is_current(s, t0, tw));

	/* a pending version that a later accepted one amends is passed
	 * over, not pending for ever */
	uint8_t u0[32], u3[32], u4[32];
	b = terms("Dinner", 0);
	act(s, sam, circle, &b, u0);
	accept_as(s, alex, circle, u0);
	amend_as(s, sam, circle, u0, u0, both, 2, "Dinner at seven", u3);
	amend_as(s, alex, circle, u0, u3, both, 2, "Dinner at eight", u4);
	accept_as(s, sam, circle, u4);
	check(is_current(s, u0, u4));
	check(version_status(s, u0, u3) == AM_VERSION_PASSED_OVER);
	struct am_body ab = fx_body(AM_KIND_ACCEPT, u3);
	refused(s, alex, circle, &ab, AM_ERR_RULE, "passed over");

	/* the end of a proposal the other never accepted is a withdrawal:
	 * at once, and not mutual */
	uint8_t p0[32];
	b = terms("Holidays", 86400);
	act(s, sam, circle, &b, p0);
	eb = fx_body(AM_KIND_END, p0);
	act(s, sam, circle, &eb, NULL);
	a = agreement(s, p0, 0);
	check(a.status == AM_AGREEMENT_ENDED && a.has_end && !a.end_mutual);
	am_state_agreement_finish(&a);
	same_as_refold(s, circle);
	am_store_close(&s);
}

/* ---- what is stored depends on no other feed ---- */

struct raw {
	uint8_t *p;
	size_t n;
	uint8_t hash[32];
};

static struct raw
sign_raw(struct am_identity *id, const uint8_t *circle, uint64_t seq,
	const uint8_t *prev, const struct am_body *b)
{
	struct am_entry_draft d = { .seq = seq, .has_prev = prev != NULL,
		.time = clock_ms += 60000, .body = b };
	struct am_entry e;
	struct raw r;
	memcpy(d.circle, circle, 32);
	if (prev != NULL)
		memcpy(d.prev, prev, 32);
	check_rc(am_entry_sign(id, &d, &r.p, &r.n, &e), AM_OK);
	memcpy(r.hash, e.hash, 32);
	return r;
}

/* Ingests the entries in the order given, trying again those that must
 * wait, as sync and import do, until a pass stores nothing more. */
static void
ingest_all(struct am_store *s, struct raw *const *order, size_t n)
{
	bool done[16] = { false };
	check(n <= 16);
	for (size_t pass = 0; pass < n; pass++) {
		for (size_t i = 0; i < n; i++) {
			enum am_ingest_result r;
			if (done[i])
				continue;
			int rc = am_store_ingest(s, order[i]->p, order[i]->n, &r);
			check(rc == AM_OK || rc == AM_ERR_GAP || rc == AM_ERR_NO_GENESIS);
			done[i] = rc == AM_OK;
		}
	}
	for (size_t i = 0; i < n; i++)
		check(done[i]);
}

/*
 * The issue the ingest rule settles (protocol/state.md, "What a node
 * stores"): Sam forks his feed at number 2, proposing Lee on one branch and
 * writing a statement on the other; Lee accepts and speaks; Eve, never
 * named, speaks too. A store that meets the statement branch first would,
 * if ingest asked who may write, refuse Lee's feed for good, while one that
 * meets the proposal first keeps it. Given the same entries in opposite
 * orders, both stores hold the same set and derive the same state.
 */
static void
test_opposite_orders(void)
{
	struct am_store *a = fx_store_open("orders-a.db");
	struct am_store *b = fx_store_open("orders-b.db");
	struct am_body gb = { .kind = AM_KIND_GENESIS, .name = am_str_c("us") };
	uint8_t circle[32];
	randombytes_buf(gb.nonce, 32);
	am_circle_id(SAM, gb.nonce, circle);

	struct raw g = sign_raw(sam, circle, 1, NULL, &gb);
	struct am_body mb = fx_body(AM_KIND_MEMBER, LEE);
	struct raw x = sign_raw(sam, circle, 2, g.hash, &mb);
	struct am_body sb = { .kind = AM_KIND_STATEMENT, .note = am_str_c("other") };
	struct raw y = sign_raw(sam, circle, 2, g.hash, &sb);
	struct am_body ab = fx_body(AM_KIND_ACCEPT, x.hash);
	struct raw l1 = sign_raw(lee, circle, 1, NULL, &ab);
	sb.note = am_str_c("hello, I am Lee");
	struct raw l2 = sign_raw(lee, circle, 2, l1.hash, &sb);
	sb.note = am_str_c("a stranger speaks");
	struct raw e1 = sign_raw(eve, circle, 1, NULL, &sb);

	struct raw *one[] = { &g, &x, &l1, &l2, &y, &e1 };
	struct raw *two[] = { &e1, &l2, &l1, &y, &x, &g };
	ingest_all(a, one, 6);
	ingest_all(b, two, 6);

	uint8_t ha[32], hb[32];
	uint64_t sa, sb2;
	const uint8_t *authors[] = { SAM, LEE, EVE };
	const uint64_t heads[] = { 2, 2, 1 };
	for (int i = 0; i < 3; i++) {
		check_rc(am_store_head(a, circle, authors[i], &sa, ha), AM_OK);
		check_rc(am_store_head(b, circle, authors[i], &sb2, hb), AM_OK);
		check(sa == heads[i] && sb2 == heads[i]);
	}
	/* each keeps the branch it met first in the feed, the other as
	 * evidence: the same set, the same store digest */
	same_two(a, b, circle);
	/* what the state makes of it: Sam's feed is frozen from 2 on, so
	 * Lee's admission never happened: Lee's accept names an entry the
	 * fork took out (unknown-target, ranked before who wrote it), and
	 * Lee's and Eve's statements are by non-members */
	check(member_status(a, circle, LEE) == 0);
	struct am_violation *v;
	size_t n, lee_ignored = 0, eve_ignored = 0, forked = 0, lee_target = 0;
	check_rc(am_state_violations(b, circle, &v, &n), AM_OK);
	for (size_t i = 0; i < n; i++) {
		lee_ignored += memcmp(v[i].author, LEE, 32) == 0 &&
			v[i].rule == AM_RULE_NOT_MEMBER;
		eve_ignored += memcmp(v[i].author, EVE, 32) == 0 &&
			v[i].rule == AM_RULE_NOT_MEMBER;
		forked += v[i].rule == AM_RULE_FORKED;
		lee_target += memcmp(v[i].author, LEE, 32) == 0 &&
			v[i].rule == AM_RULE_UNKNOWN_TARGET;
	}
	free(v);
	check(lee_ignored == 1 && lee_target == 1 && eve_ignored == 1 &&
		forked == 1 && n == 4);
	struct raw *all[] = { &g, &x, &y, &l1, &l2, &e1 };
	for (int i = 0; i < 6; i++)
		free(all[i]->p);
	am_store_close(&a);
	am_store_close(&b);
}

/* A version waits while one who signed it had accepted, before, an entry
 * this node does not have (protocol/state.md, "Need"): that entry may be a
 * version whose parties the first one needs. Alex accepts V1 (which
 * amends V0 and adds Kim), then V0. A store that holds Alex's accepts but
 * not V1 must not show V0 in force, only to stop when V1 arrives: nothing
 * in force ever stops being in force without its parties. */
static void
test_waits(void)
{
	struct am_store *a = fx_store_open("waits-a.db");
	struct am_store *b = fx_store_open("waits-b.db");
	uint8_t circle[32], v0[32], v1[32];
	const uint8_t *three[] = { SAM, ALEX, KIM };

	make_circle(a, circle);
	add_kim(a, circle);
	struct am_body t = terms("Evening check-in", 86400);
	act(a, sam, circle, &t, v0);
	amend_as(a, sam, circle, v0, v0, three, 3, "with Kim", v1);
	accept_as(a, alex, circle, v1);
	accept_as(a, alex, circle, v0);
	/* everything but Sam's feed from V1 on reaches b */
	struct copy_ctx c = { .to = b };
	uint64_t v1_seq, head;
	uint8_t h[32];
	struct am_object_info info;
	check_rc(am_state_lookup(a, v1, &info), AM_OK);
	v1_seq = info.seq;
	const uint8_t *ids[] = { SAM, ALEX, LEE, KIM };
	for (int i = 0; i < 4; i++) {
		check_rc(am_store_head(a, circle, ids[i], &head, h), AM_OK);
		check_rc(am_store_range(a, circle, ids[i], 1,
			i == 0 ? v1_seq - 1 : head, copy_entry, &c), AM_OK);
		check_rc(c.rc, AM_OK);
	}
	struct am_agreement x = agreement(b, v0, 0);
	check(!x.has_current);      /* V0 waits for what Alex accepted first */
	am_state_agreement_finish(&x);
	check(version_status(b, v0, v0) == AM_VERSION_PENDING);
	/* V1 arrives: V0 needs Kim too now (Alex knew V1), and still waits */
	check_rc(am_store_range(a, circle, SAM, v1_seq, v1_seq, copy_entry, &c),
		AM_OK);
	check_rc(c.rc, AM_OK);
	x = agreement(b, v0, 0);
	check(!x.has_current);
	am_state_agreement_finish(&x);
	same_two(a, b, circle);
	am_store_close(&a);
	am_store_close(&b);
}

/* A store whose facts were recorded under other rules (another rules
 * version, or a build that knew other kinds) has them recorded again when
 * it opens (protocol/state.md, "Rules version"): here one that lost them
 * all, labelled with version 1's rules. */
static void
test_rederive(void)
{
	char path[FX_PATH_MAX];
	struct am_store *s = fx_store_open("rederive.db");
	uint8_t circle[32], ag[32], d1[32], d2[32];
	struct am_body b;

	make_circle(s, circle);
	b = terms("Evening check-in", 86400);
	act(s, sam, circle, &b, ag);
	b = fx_body(AM_KIND_ACCEPT, ag);
	act(s, alex, circle, &b, NULL);
	check_rc(am_state_digest(s, circle, d1), AM_OK);
	check(status_of(s, ag, 0) == AM_AGREEMENT_IN_FORCE);
	char *label = am_store_setting_get(s, "state_rules"), want[32];
	snprintf(want, sizeof want, "rules %d;", AM_STATE_RULES);
	check(label != NULL && strstr(label, want) == label);
	free(label);

	/* the same label: nothing is done, even with the facts gone */
	check_rc(am_store_exec(s, "DELETE FROM st_facts"), AM_OK);
	check_rc(am_state_rederive(s, false), AM_OK);
	bool held = true;
	check_rc(am_state_holds_circle(s, circle, &held), AM_OK);
	check(!held);
	/* an older label: everything is recorded again when the store opens */
	check_rc(am_store_setting_set(s, "state_rules", "rules 1; kinds 1 2 3"),
		AM_OK);
	am_store_close(&s);
	fx_path("rederive.db", path);
	check_rc(am_store_open(path, &s), AM_OK);
	check_rc(am_state_digest(s, circle, d2), AM_OK);
	check(memcmp(d1, d2, 32) == 0);
	check(status_of(s, ag, 0) == AM_AGREEMENT_IN_FORCE);
	same_as_refold(s, circle);
	label = am_store_setting_get(s, "state_rules");
	check(label != NULL && strstr(label, want) == label);
	free(label);
	/* forced, on a store that is right: the same state */
	check_rc(am_state_rederive(s, true), AM_OK);
	check_rc(am_state_digest(s, circle, d2), AM_OK);
	check(memcmp(d1, d2, 32) == 0);
	am_store_close(&s);
}

int
main(void)
{
	check(sodium_init() >= 0);
	fx_dir_make("state");
	check_rc(am_identity_generate(&sam), AM_OK);
	check_rc(am_identity_generate(&alex), AM_OK);
	check_rc(am_identity_generate(&lee), AM_OK);
	check_rc(am_identity_generate(&kim), AM_OK);
	check_rc(am_identity_generate(&eve), AM_OK);
	SAM = am_identity_public(sam);
	ALEX = am_identity_public(alex);
	LEE = am_identity_public(lee);
	KIM = am_identity_public(kim);
	EVE = am_identity_public(eve);

	test_membership();
	test_stranger_ingest();
	test_agreements();
	test_checkins();
	test_corrections();
	test_resolve();
	test_fork();
	test_replay_tampering();
	test_opposite_orders();
	test_no_one_alone();
	test_waits();
	test_rederive();

	am_identity_destroy(&sam);
	am_identity_destroy(&alex);
	am_identity_destroy(&lee);
	am_identity_destroy(&kim);
	am_identity_destroy(&eve);
	fx_dir_remove();
	printf("state: ok\n");
	return 0;
}
