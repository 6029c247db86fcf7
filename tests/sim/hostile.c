/*
 * The hostile member (--hostile): one node's person runs a modified
 * client that signs, with its own key and through the same signing and
 * storing path (am_store_append), whatever the entry format can carry,
 * without asking am_state_check first, and claims any time it likes. Its
 * node still syncs honestly: what it writes reaches the others as any
 * entry does (a peer that breaks the protocol itself is tests/hostile's).
 *
 * What it tries, each an attack on DESIGN.md's "Trust model" (the issues
 * that close them: 14, no one changes an agreement alone; 15, corrections
 * and answers stay visible; 16, time as data; 18, membership that ends):
 *
 *   - amend an agreement with itself, or some of the parties, as the only
 *     parties, or with the notice cut to nothing, from the version in
 *     force, the newest, the proposal (a sibling) or its own pending
 *     version (a chain);
 *   - end an agreement, dated anywhere: now, before it was proposed, far
 *     in the past or future, year 9999 and beyond, near INT64's ends;
 *   - check in again for a period it has checked in for, with another
 *     status, after others answered (a correction);
 *   - flip its confirmation of someone's check-in to a dispute and back;
 *   - accept, decline, confirm or dispute hashes it invents, entries it
 *     has not seen yet, and entries of any kind;
 *   - propose fresh keys, which never answer, as members;
 *   - with --removes, forge removals (h_remove says which) and answer
 *     removals it is not asked to, as a pending newcomer among others;
 *   - with --successions, forge successions (h_succession), back two of
 *     one key (h_answer_succession), and, holding a copy of another's
 *     first key, write with it once its owner has moved to a new key
 *     (h_thief);
 *   - and any of the ordinary operations, unchecked and at any time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amends/body.h"
#include "amends/state.h"
#include "sim.h"
#include "work.h"

#define DAY_MS (86400 * INT64_C(1000))

/* A claimed time: most often the node's clock, else anything an int64
 * holds, within and far beyond the range of real dates; with
 * --no-extremes, nothing near INT64's ends (the state ignores such
 * times since issue 16, and its sums saturate: the option stays for the
 * seeds that were picked with it). */
static int64_t
hostile_time(struct op *o)
{
	struct rng *r = &o->s->rng;
	switch (rng_below(r, 20)) {
	case 0:
		return o->now - rng_range(r, 1, 800) * DAY_MS;
	case 1:
		return o->now + rng_range(r, 1, 800) * DAY_MS;
	case 2:
		return INT64_C(253402300799000);        /* 9999-12-31T23:59:59Z */
	case 3:
		return INT64_C(253402300800000) + rng_range(r, 0, 1000) * DAY_MS;
	case 4:
		if (o->s->opt.no_extremes)
			return o->now + rng_range(r, 1, 800) * DAY_MS;
		return INT64_MAX - rng_range(r, 0, 1000);
	case 5:
		if (o->s->opt.no_extremes)
			return o->now - rng_range(r, 1, 800) * DAY_MS;
		return INT64_MIN + rng_range(r, 0, 1000);
	case 6:
		return 0;
	case 7:
		return -rng_range(r, 1, 40000) * DAY_MS;  /* before 1970 */
	case 8:
		return o->now - rng_range(r, 1, 48) * 3600 * 1000;
	default:
		return o->now;
	}
}

static bool
ever_in_force(struct op *o, const struct am_agreement *a)
{
	return a->in_force_ever || rng_chance(&o->s->rng, 200);
}

/* A version of a to amend: the one in force, the newest, the proposal,
 * one of its own that awaits others (to chain), or any. */
static const struct am_version *
pick_base(struct op *o, const struct am_agreement *a)
{
	struct rng *r = &o->s->rng;
	const struct am_version *v = work_load_version(o, a->id, a->newest);
	if (v == NULL || o->nversions == 0)
		return NULL;
	switch (rng_below(r, 5)) {
	case 0:
		if (a->has_current)
			return work_load_version(o, a->id, a->current);
		return v;
	case 1:
		return v;
	case 2:
		return &o->versions[0];
	case 3:
		for (size_t k = o->nversions; k-- > 0; )
			if (work_same(o->versions[k].author, o->pub) &&
			    o->versions[k].status == AM_VERSION_PENDING)
				return &o->versions[k];
		return v;
	default:
		return &o->versions[rng_below(r, o->nversions)];
	}
}

static bool
h_amend(struct op *o)
{
	struct rng *r = &o->s->rng;
	struct am_agreement a;
	if (!work_pick_agreement(o, ever_in_force, NULL, &a))
		return false;
	const struct am_version *base = pick_base(o, &a);
	if (base == NULL) {
		am_state_agreement_finish(&a);
		return false;
	}
	o->b->kind = AM_KIND_AMEND;
	memcpy(o->b->target, a.id, 32);
	memcpy(o->b->base, base->hash, 32);
	o->b->terms = base->body.terms;
	struct am_terms *t = &o->b->terms;
	snprintf(o->text[1], sizeof o->text[1], "I alone now say %llx",
		(unsigned long long)rng_next(r));
	t->text = am_str_c(o->text[1]);
	uint8_t keep[AM_MAX_PARTIES][32];
	uint32_t n = 0;
	switch (rng_below(r, 8)) {
	case 0: case 1: case 2:
		/* itself alone */
		memcpy(keep[n++], o->pub, 32);
		break;
	case 3: case 4:
		/* itself and some of the others */
		memcpy(keep[n++], o->pub, 32);
		for (uint32_t k = 0; k < t->nparties; k++)
			if (!work_same(t->parties[k], o->pub) && rng_chance(r, 500))
				memcpy(keep[n++], t->parties[k], 32);
		break;
	case 5:
		/* the others without itself */
		for (uint32_t k = 0; k < t->nparties; k++)
			if (!work_same(t->parties[k], o->pub))
				memcpy(keep[n++], t->parties[k], 32);
		break;
	default:
		/* the same people, no notice */
		for (uint32_t k = 0; k < t->nparties; k++)
			memcpy(keep[n++], t->parties[k], 32);
		break;
	}
	if (n == 0)
		memcpy(keep[n++], o->pub, 32);
	t->nparties = n;
	memcpy(t->parties, keep, sizeof keep[0] * n);
	t->nby = 0;
	if (rng_chance(r, 600))
		t->notice = 0;
	work_write(o, a.circle);
	am_state_agreement_finish(&a);
	return true;
}

static bool
h_end(struct op *o)
{
	struct rng *r = &o->s->rng;
	struct am_agreement a;
	if (!work_pick_agreement(o, ever_in_force, NULL, &a))
		return false;
	o->b->kind = AM_KIND_END;
	memcpy(o->b->target, a.id, 32);
	if (rng_chance(r, 300))
		/* dated before the agreement was even proposed */
		o->claimed = a.proposed - rng_range(r, 1, 60) * DAY_MS;
	else if (!o->s->opt.no_extremes && rng_chance(r, 150))
		/* so late that adding the notice overflows */
		o->claimed = INT64_MAX - rng_range(r, 0, 1000);
	work_write(o, a.circle);
	am_state_agreement_finish(&a);
	return true;
}

/* The kind of the node's own standing mark on c, 0 when none. */
static uint32_t
my_mark(struct op *o, const struct am_checkin *c)
{
	for (uint32_t k = 0; k < c->nmarks; k++)
		if (work_same(c->marks[k].id, o->pub))
			return c->marks[k].kind;
	return 0;
}

/* Check-ins of the node's agreements that pass keep(), one picked at
 * random into *out (without its note and marks), with the node's own
 * mark on it into *mine and its agreement's circle into circle. */
static bool
pick_checkin(struct op *o, bool (*keep)(struct op *, const struct am_checkin *),
	struct am_checkin *out, uint32_t *mine, uint8_t circle[static 32])
{
	uint64_t seen = 0;
	for (size_t k = 0; k < o->ncircles; k++) {
		struct am_agreement *list = NULL;
		size_t n = 0;
		if (o->circles[k].status != AM_MEMBER_JOINED ||
		    work_read_failed(o, "agreements", am_state_agreements(o->n->store,
		    o->circles[k].id, o->now, &list, &n)))
			continue;
		for (size_t x = 0; x < n; x++) {
			struct am_checkin *ci = NULL;
			size_t nci = 0;
			if (work_read_failed(o, "check-ins",
			    am_state_checkins(o->n->store, list[x].id, &ci, &nci)))
				continue;
			for (size_t y = 0; y < nci; y++) {
				if (!keep(o, &ci[y]) || rng_below(&o->s->rng, ++seen) != 0)
					continue;
				*out = ci[y];
				*mine = my_mark(o, &ci[y]);
				out->note = NULL;
				out->marks = NULL;
				out->nmarks = 0;
				memcpy(circle, list[x].circle, 32);
			}
			am_state_checkins_free(&ci, nci);
		}
		am_state_agreements_free(&list, n);
	}
	return seen > 0;
}

static bool
mine_answered(struct op *o, const struct am_checkin *c)
{
	return work_same(c->author, o->pub) &&
		(c->nmarks > 0 || rng_chance(&o->s->rng, 200));
}

/* Another status for a period it checked in for, after others answered. */
static bool
h_correct(struct op *o)
{
	struct am_checkin c;
	uint32_t mine;
	uint8_t circle[32];
	if (!pick_checkin(o, mine_answered, &c, &mine, circle))
		return false;
	memcpy(o->period, c.period, sizeof o->period);
	o->b->kind = AM_KIND_CHECKIN;
	memcpy(o->b->target, c.agreement, 32);
	o->b->period = am_str_c(o->period);
	o->b->status = c.status == AM_KEPT ? AM_MISSED : AM_KEPT;
	snprintf(o->text[0], sizeof o->text[0], "on second thoughts");
	o->b->note = am_str_c(o->text[0]);
	work_write(o, circle);
	return true;
}

static bool
marked_by_me(struct op *o, const struct am_checkin *c)
{
	return my_mark(o, c) != 0;
}

/* Turns its confirmation of someone's check-in into a dispute, or back. */
static bool
h_flip(struct op *o)
{
	struct am_checkin c;
	uint32_t mine;
	uint8_t circle[32];
	if (!pick_checkin(o, marked_by_me, &c, &mine, circle))
		return false;
	bool disputed = mine == AM_MARK_DISPUTED;
	o->b->kind = disputed ? AM_KIND_CONFIRM : AM_KIND_DISPUTE;
	memcpy(o->b->target, c.hash, 32);
	snprintf(o->text[0], sizeof o->text[0], "%s",
		disputed ? "fine after all" : "I take that back");
	o->b->note = am_str_c(o->text[0]);
	work_write(o, circle);
	return true;
}

/* An answer (accept, decline, confirm, dispute) of target. */
static void
answer(struct op *o, const uint8_t circle[static 32], const uint8_t target[static 32])
{
	static const uint32_t kinds[] = {
		AM_KIND_ACCEPT, AM_KIND_DECLINE, AM_KIND_CONFIRM, AM_KIND_DISPUTE,
	};
	o->b->kind = kinds[rng_below(&o->s->rng, 4)];
	memcpy(o->b->target, target, 32);
	if (o->b->kind == AM_KIND_DISPUTE || rng_chance(&o->s->rng, 300)) {
		snprintf(o->text[0], sizeof o->text[0], "no (%llx)",
			(unsigned long long)rng_next(&o->s->rng) & 0xffff);
		o->b->note = am_str_c(o->text[0]);
	}
	work_write(o, circle);
}

/* Answers a hash it invents, an entry it has not received, or any entry
 * of any kind written so far, in one of its circles. */
static bool
h_answer(struct op *o)
{
	struct sim *s = o->s;
	const struct am_circle_info *c = work_pick_circle(o, false);
	uint8_t target[32], circle[32];
	if (c == NULL)
		return false;
	memcpy(circle, c->id, 32);
	if (s->nentries == 0 || rng_chance(&s->rng, 250)) {
		rng_bytes(&s->rng, target, 32);
	} else {
		const struct sim_entry *e = &s->entries[rng_below(&s->rng,
			s->nentries)];
		memcpy(target, e->hash, 32);
	}
	answer(o, circle, target);
	return true;
}

/* Proposes as a member a fresh key that will never answer. */
static bool
h_member(struct op *o)
{
	const struct am_circle_info *c = work_pick_circle(o, false);
	if (c == NULL)
		return false;
	uint8_t circle[32];
	memcpy(circle, c->id, 32);
	o->b->kind = AM_KIND_MEMBER;
	rng_bytes(&o->s->rng, o->b->target, 32);
	o->b->role = rng_chance(&o->s->rng, 300) ? AM_ROLE_WITNESS : AM_ROLE_MEMBER;
	work_write(o, circle);
	return true;
}

/* ---- removals (--removes) ---- */

static int
cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

/* A circle the node holds, whatever its status there (joined, pending,
 * departed: the modified client writes anyway); NULL when none. */
static const struct am_circle_info *
any_circle(struct op *o)
{
	if (o->ncircles == 0)
		return NULL;
	return &o->circles[rng_below(&o->s->rng, o->ncircles)];
}

/* The removals the run wrote of circle (any circle when circle is NULL)
 * whose target is id (anyone when id is NULL): one picked at random, or
 * NULL. */
static const struct sim_entry *
pick_removal(struct op *o, const uint8_t *circle, const uint8_t *id)
{
	const struct sim_entry *got = NULL;
	uint64_t seen = 0;
	for (size_t k = 0; k < o->s->nentries; k++) {
		const struct sim_entry *e = &o->s->entries[k];
		if (e->kind != AM_KIND_REMOVE ||
		    (circle != NULL && !work_same(e->circle, circle)) ||
		    (id != NULL && !work_same(e->target, id)))
			continue;
		if (rng_below(&o->s->rng, ++seen) == 0)
			got = e;
	}
	return got;
}

/*
 * Forges a removal, unchecked: of a member with nobody else's consent
 * (an empty need); of the creator in a circle of two; of whoever
 * proposed removing it (removals crossing each other); listing as
 * needed a key that will never answer; naming no head, as if the target
 * had written nothing; of itself or of someone who is no member; and
 * after it left or was removed, since it uses any circle it holds.
 */
static bool
h_remove(struct op *o)
{
	struct rng *r = &o->s->rng;
	const struct am_circle_info *c = any_circle(o);
	struct am_member *m = NULL;
	size_t nm = 0, njoined = 0;
	uint8_t circle[32], target[32];
	bool ok = false;

	if (c == NULL)
		return false;
	memcpy(circle, c->id, 32);
	if (work_read_failed(o, "members", am_state_members(o->n->store, circle,
	    &m, &nm)))
		return false;
	/* a joined member other than the node, at random */
	uint64_t seen = 0;
	for (size_t k = 0; k < nm; k++) {
		if (m[k].status != AM_MEMBER_JOINED)
			continue;
		njoined++;
		if (!work_same(m[k].id, o->pub) && rng_below(r, ++seen) == 0)
			memcpy(target, m[k].id, 32);
	}
	unsigned how = (unsigned)rng_below(r, 6);
	if (how == 1 && njoined == 2) {
		/* the creator in a circle of two (or, by the creator, the
		 * other one) */
		memcpy(target, work_same(c->creator, o->pub) ? target :
			c->creator, 32);
		ok = seen > 0 || !work_same(c->creator, o->pub);
	} else if (how == 2) {
		const struct sim_entry *x = pick_removal(o, circle, o->pub);
		if (x != NULL)
			memcpy(target, o->s->node[x->node].pub, 32);
		ok = x != NULL || seen > 0;
	} else if (how == 5) {
		if (rng_chance(r, 500))
			memcpy(target, o->pub, 32);
		else
			rng_bytes(r, target, 32);
		ok = true;
	} else {
		ok = seen > 0;
	}
	if (ok)
		ok = work_removal(o, circle, target, m, nm);
	free(m);
	if (!ok)
		return false;
	switch (how) {
	case 0:
	case 1:
		o->b->nneed = 0;        /* nobody else asked */
		break;
	case 3:
		if (o->b->nneed < AM_MAX_NEED) {
			rng_bytes(r, o->b->need[o->b->nneed++], 32);
			qsort(o->b->need, o->b->nneed, 32, cmp_id);
		}
		break;
	case 4:
		o->b->head_seq = 0;
		memset(o->b->head_hash, 0, 32);
		break;
	default:
		break;
	}
	work_write(o, circle);
	return true;
}

/* Answers a removal it has no business answering, or answers twice: as
 * a newcomer still pending in its circle when it can, else any removal
 * the run wrote (of itself, withdrawn, refused, complete). */
static bool
h_answer_removal(struct op *o)
{
	const struct sim_entry *x = NULL;
	for (size_t k = 0; k < o->ncircles && x == NULL; k++)
		if (o->circles[k].status == AM_MEMBER_PENDING)
			x = pick_removal(o, o->circles[k].id, NULL);
	for (int k = 0; k < o->s->npreviews && x == NULL; k++)
		if (o->s->previews[k].node == o->i && !o->s->previews[k].accepted)
			x = pick_removal(o, o->s->previews[k].circle, NULL);
	if (x == NULL && (x = pick_removal(o, NULL, NULL)) == NULL)
		return false;
	uint8_t circle[32];
	memcpy(circle, x->circle, 32);
	o->b->kind = rng_chance(&o->s->rng, 800) ? AM_KIND_ACCEPT : AM_KIND_DECLINE;
	memcpy(o->b->target, x->hash, 32);
	work_write(o, circle);
	return true;
}

/* ---- successions (--successions) ---- */

/* The successions the run wrote of circle (any when NULL) whose old key
 * is old (any when NULL): one picked at random, or NULL. */
static const struct sim_entry *
pick_succession(struct op *o, const uint8_t *circle, const uint8_t *old)
{
	const struct sim_entry *got = NULL;
	uint64_t seen = 0;
	for (size_t k = 0; k < o->s->nentries; k++) {
		const struct sim_entry *e = &o->s->entries[k];
		if (e->kind != AM_KIND_SUCCESSION ||
		    (circle != NULL && !work_same(e->circle, circle)) ||
		    (old != NULL && !work_same(e->target, old)))
			continue;
		if (rng_below(&o->s->rng, ++seen) == 0)
			got = e;
	}
	return got;
}

/*
 * Forges a succession, unchecked, most often to the hostile person's own
 * new key: of another member's key (a member taking someone's place),
 * with nobody else's consent (an empty need) or with a head of 0; one
 * whose heir is its old key, or a key already in the circle; of someone
 * who is no member, or who departed; and in any circle it holds, as a
 * witness too.
 */
static bool
h_succession(struct op *o)
{
	struct rng *r = &o->s->rng;
	const struct am_circle_info *c = any_circle(o);
	struct am_member *m = NULL;
	size_t nm = 0;
	uint8_t circle[32], old[32], heir[32], member[32], gone[32];
	uint64_t seen = 0, nmember = 0, ngone = 0;

	if (c == NULL)
		return false;
	memcpy(circle, c->id, 32);
	if (work_read_failed(o, "members", am_state_members(o->n->store, circle,
	    &m, &nm)))
		return false;
	for (size_t k = 0; k < nm; k++) {
		if (m[k].status == AM_MEMBER_JOINED && rng_below(r, ++nmember) == 0)
			memcpy(member, m[k].id, 32);
		if (m[k].status == AM_MEMBER_JOINED && !work_same(m[k].id, o->pub) &&
		    rng_below(r, ++seen) == 0)
			memcpy(old, m[k].id, 32);
		if (m[k].status == AM_MEMBER_DEPARTED && rng_below(r, ++ngone) == 0)
			memcpy(gone, m[k].id, 32);
	}
	if (seen == 0)
		memcpy(old, o->pub, 32);
	memcpy(heir, o->n->heir, 32);
	unsigned how = (unsigned)rng_below(r, 7);
	switch (how) {
	case 2:
		memcpy(heir, old, 32);          /* heir == old */
		break;
	case 3:
		if (nmember > 0)
			memcpy(heir, member, 32);   /* a member already */
		break;
	case 4:
		rng_bytes(r, old, 32);          /* no member */
		break;
	case 5:
		if (ngone > 0)
			memcpy(old, gone, 32);      /* departed */
		break;
	default:
		break;
	}
	bool ok = work_succession(o, circle, old, heir, m, nm);
	free(m);
	if (!ok)
		return false;
	if (how == 0)
		o->b->nneed = 0;                /* nobody else asked */
	if (how == 1) {
		o->b->head_seq = 0;             /* as if they wrote nothing */
		memset(o->b->head_hash, 0, 32);
	}
	work_write(o, circle);
	return true;
}

/* Accepts a succession it has no business accepting, or a second one of
 * one key: with its first key, or its new key once that has a feed of
 * the circle (a member it controls backing two heirs). */
static bool
h_answer_succession(struct op *o)
{
	const struct sim_entry *x = pick_succession(o, NULL, NULL);
	uint8_t head[32];
	uint64_t seq;
	bool held = false;
	/* (in a circle its node holds: it reaches no one otherwise) */
	if (x == NULL || am_state_holds_circle(o->n->store, x->circle,
	    &held) != AM_OK || !held)
		return false;
	uint8_t circle[32];
	memcpy(circle, x->circle, 32);
	if (rng_chance(&o->s->rng, 500) && am_store_head(o->n->store, circle,
	    o->n->heir, &seq, head) == AM_OK) {
		o->pub = o->n->heir;
		o->id = o->n->heir_id;
	}
	o->b->kind = rng_chance(&o->s->rng, 850) ? AM_KIND_ACCEPT : AM_KIND_DECLINE;
	memcpy(o->b->target, x->hash, 32);
	work_write(o, circle);
	o->pub = o->n->pub;
	o->id = o->n->id;
	return true;
}

/* Has node n's new key taken its first key's place in circle, by the
 * view of store view (joined through a succession, or departed since)?
 * By n's own view, n then never writes there with its first key again. */
static bool
heir_in_place(struct sim_node *n, const uint8_t circle[static 32],
	struct am_store *view)
{
	struct am_member *m = NULL;
	size_t nm = 0;
	bool in = false;
	if (am_state_members(view, circle, &m, &nm) != AM_OK)
		return false;
	for (size_t k = 0; k < nm; k++)
		in = in || (work_same(m[k].id, n->heir) &&
			work_same(m[k].succeeds, n->pub) &&
			m[k].status != AM_MEMBER_PENDING);
	free(m);
	return in;
}

/*
 * The thief: with the copy of the victim's first key it holds
 * (s->thief_of), once the victim uses that key no more in a circle (its
 * new key has taken its place there, by the victim's own node) and the
 * hostile node holds the victim's feed there as far as the victim wrote
 * it (so that it forks nothing), it writes with the stolen key: a
 * succession of the victim to the hostile person's new key with an empty
 * need, its accept of such a succession, a statement, or a LEAVE, all
 * past the head the victim's succession names.
 */
static bool
h_thief(struct op *o)
{
	struct sim *s = o->s;
	int v = s->thief_of;
	struct sim_node *victim;
	struct am_circle_info *c = NULL;
	size_t nc = 0;
	bool done = false;

	if (v < 0 || (victim = &s->node[v])->store == NULL ||
	    am_state_circles(o->n->store, NULL, &c, &nc) != AM_OK)
		return false;
	for (size_t k = 0, tries = 0; k < nc && !done && tries < 4; k++) {
		const struct am_circle_info *ci = &c[rng_below(&s->rng, nc)];
		uint8_t h1[32], h2[32];
		uint64_t mine = 0, theirs = 0;
		tries++;
		/* (by the hostile node's view too: there, as everywhere the
		 * succession is in effect, what it writes with the stolen key
		 * past the head counts for nothing) */
		if (!heir_in_place(victim, ci->id, victim->store) ||
		    !heir_in_place(victim, ci->id, o->n->store))
			continue;
		if (am_store_head(victim->store, ci->id, victim->pub, &theirs,
		    h1) != AM_OK ||
		    am_store_head(o->n->store, ci->id, victim->pub, &mine, h2) != AM_OK ||
		    mine != theirs || memcmp(h1, h2, 32) != 0)
			continue;
		struct am_member *m = NULL;
		size_t nm = 0;
		if (am_state_members(o->n->store, ci->id, &m, &nm) != AM_OK)
			continue;
		uint8_t circle[32];
		memcpy(circle, ci->id, 32);
		o->pub = victim->pub;
		o->id = victim->id;
		const struct sim_entry *x = pick_succession(o, circle, victim->pub);
		memset(o->b, 0, sizeof *o->b);
		switch (rng_below(&s->rng, 4)) {
		case 0:
			done = work_succession(o, circle, victim->pub, o->n->heir, m, nm);
			o->b->nneed = 0;
			break;
		case 1:
			if (x != NULL) {
				o->b->kind = AM_KIND_ACCEPT;
				memcpy(o->b->target, x->hash, 32);
				done = true;
			}
			break;
		case 2:
			o->b->kind = AM_KIND_STATEMENT;
			o->b->note = am_str_c("it was me all along");
			done = true;
			break;
		default:
			o->b->kind = AM_KIND_LEAVE;
			done = true;
			break;
		}
		free(m);
		if (done) {
			sim_trace(s, "node %d writes with node %d's stolen key", o->i, v);
			uint64_t before = s->stats.entries;
			work_write(o, circle);
			s->stats.stolen += s->stats.entries - before;
		}
		o->pub = o->n->pub;
		o->id = o->n->id;
	}
	am_state_circles_free(&c, nc);
	return done;
}

static bool
h_ordinary(struct op *o)
{
	return work_any_op(o);
}

static const struct {
	bool (*fn)(struct op *);
	unsigned weight;
} kinds[] = {
	{ h_amend, 22 },
	{ h_end, 12 },
	{ h_correct, 14 },
	{ h_flip, 8 },
	{ h_answer, 12 },
	{ h_member, 4 },
	{ h_ordinary, 20 },
	/* only with --removes: last, so that without it every seed picks
	 * as it did before */
	{ h_remove, 14 },
	{ h_answer_removal, 8 },
	/* only with --successions, likewise */
	{ h_succession, 10 },
	{ h_answer_succession, 6 },
	{ h_thief, 60 },
};

bool
sim_hostile_step(struct op *o)
{
	size_t nkinds = sizeof kinds / sizeof kinds[0];
	unsigned total = 0;
	if (!o->s->opt.successions)
		nkinds -= 3;
	if (!o->s->opt.removes)
		nkinds -= 2;
	for (size_t k = 0; k < nkinds; k++)
		total += kinds[k].weight;
	uint64_t x = rng_below(&o->s->rng, total);
	size_t k = 0;
	while (x >= kinds[k].weight)
		x -= kinds[k++].weight;
	o->claimed = hostile_time(o);
	return kinds[k].fn(o);
}
