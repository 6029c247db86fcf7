/*
 * The simulator's workload: the operations people perform with the CLI
 * (create a circle, propose and accept members, propose, accept, decline,
 * amend and end agreements, check in, confirm, dispute, make and confirm
 * statements), done through the library exactly as the CLI does them: a
 * body is filled, am_state_check() must say AM_OK, and only then
 * am_store_append() signs and stores it; the node then offers the change
 * to its sessions (am_sync_local_changed, done in world.c as soon as a
 * node's store is marked changed). Targets are picked from the acting
 * node's own view of the state (the am_state_* readers), so nodes that
 * lag behind act on what they know, as people do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amends/body.h"
#include "amends/entry.h"
#include "amends/state.h"
#include "sim.h"
#include "work.h"

bool
work_same(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, 32) == 0;
}

bool
work_in_ids(const uint8_t (*ids)[32], uint32_t n, const uint8_t *id)
{
	for (uint32_t k = 0; k < n; k++)
		if (work_same(ids[k], id))
			return true;
	return false;
}

static bool
local_failure(int rc)
{
	return rc == AM_ERR_NOMEM || rc == AM_ERR_IO || rc == AM_ERR_DB ||
		rc == AM_ERR_DB_BUSY || rc == AM_ERR_DB_FULL ||
		rc == AM_ERR_DB_SCHEMA || rc == AM_ERR_DB_CORRUPT;
}

/* A reader of the state failed: only the node's own store can be why. */
bool
work_read_failed(struct op *o, const char *what, int rc)
{
	if (rc == AM_OK)
		return false;
	if (local_failure(rc))
		sim_violation(o->s, "node %d could not read %s: %s", o->i, what,
			am_strerror(rc));
	else if (rc != AM_ERR_NOT_FOUND)
		sim_break(o->s, SIM_INV_READERS, "node %d could not read %s: %s",
			o->i, what, am_strerror(rc));
	return true;
}

static const char *
kind_name(uint32_t kind)
{
	static const char *const names[] = {
		"?", "genesis", "member", "propose", "amend", "accept", "decline",
		"end", "checkin", "confirm", "dispute", "statement", "checkpoint",
		"leave", "remove", "rename", "name", "succession",
	};
	return kind <= AM_KIND_MAX ? names[kind] : "?";
}

/* The invite exchange brings the proposal hash to the node it names, if
 * that is one of the run's nodes (a hostile member also names fresh
 * keys): a preview it may answer from (op_answer). */
static void
preview_send(struct op *o, const uint8_t circle[static 32],
	const uint8_t hash[static 32])
{
	struct sim *s = o->s;
	for (int j = 0; j < s->nnodes; j++) {
		if (j == o->i || !work_same(s->node[j].pub, o->b->target) ||
		    s->npreviews == SIM_MAX_PREVIEWS)
			continue;
		struct sim_preview *p = &s->previews[s->npreviews++];
		memcpy(p->circle, circle, 32);
		memcpy(p->proposal, hash, 32);
		p->node = j;
		p->proposer = o->i;
		p->answered = false;
	}
}

/* Writes o->b into circle as the CLI does: check, then sign and store;
 * the hostile member's modified client (o->bypass) skips the check and
 * claims the time it likes. */
void
work_write(struct op *o, const uint8_t circle_in[static 32])
{
	struct sim *s = o->s;
	const struct am_body *b = o->b;
	uint8_t circle[32], hash[32];
	char why[256];
	uint64_t seq;
	int rc;

	if (b->kind == AM_KIND_GENESIS)
		am_circle_id(o->pub, b->nonce, circle);
	else
		memcpy(circle, circle_in, 32);
	rc = o->bypass || o->unheld ? AM_OK :
		am_state_check(o->n->store, circle, o->pub, b, why, sizeof why);
	if (rc != AM_OK) {
		s->stats.refused++;
		if (local_failure(rc))
			sim_violation(s, "node %d could not check an entry: %s", o->i,
				am_strerror(rc));
		sim_trace(s, "node %d: %s refused: %s", o->i, kind_name(b->kind),
			why);
		return;
	}
	int64_t time = o->bypass ? o->claimed : o->now;
	rc = am_store_append(o->n->store, o->id, circle, time, b, hash, &seq);
	if (rc != AM_OK) {
		/* what the entry format cannot carry, a modified client cannot
		 * sign either */
		if (o->bypass && (rc == AM_ERR_FIELD || rc == AM_ERR_TOO_BIG))
			return;
		sim_violation(s, "node %d could not write a %s entry that "
			"am_state_check allowed: %s", o->i, kind_name(b->kind),
			am_strerror(rc));
		return;
	}
	if (s->opt.invariants) {
		sim_entry_note(s, o->i, circle, seq, hash, time, b);
		if (s->nentries > 0) {
			s->entries[s->nentries - 1].unchecked = o->bypass;
			memcpy(s->entries[s->nentries - 1].author, o->pub, 32);
		}
	}
	if (b->kind == AM_KIND_SUCCESSION) {
		if (o->bypass)
			s->stats.forged++;
		else
			s->stats.successions++;
	}
	if (s->ncommits == s->commits_cap) {
		size_t cap = s->commits_cap ? 2 * s->commits_cap : 64;
		void *p = realloc(s->commits, cap * sizeof *s->commits);
		if (p == NULL) {
			sim_violation(s, "out of memory");
			return;
		}
		s->commits = p;
		s->commits_cap = cap;
	}
	struct sim_commit *c = &s->commits[s->ncommits++];
	memcpy(c->circle, circle, 32);
	c->node = o->i;
	memcpy(c->author, o->pub, 32);
	c->seq = seq;
	memcpy(c->hash, hash, 32);
	sim_reach_owe(s, c);
	s->stats.entries++;
	o->n->dirty = true;
	if (b->kind == AM_KIND_MEMBER)
		preview_send(o, circle, hash);
	char h[9], ch[9], what[80] = "";
	am_hex(hash, 4, h);
	am_hex(circle, 4, ch);
	if (b->kind == AM_KIND_AMEND) {
		char t[9], x[9];
		am_hex(b->target, 4, t);
		am_hex(b->base, 4, x);
		snprintf(what, sizeof what, " of %s on %s", t, x);
	}
	if (b->kind == AM_KIND_SUCCESSION) {
		char t[9], x[9];
		am_hex(b->target, 4, t);
		am_hex(b->heir, 4, x);
		snprintf(what, sizeof what, " of %s by %s, head %llu", t, x,
			(unsigned long long)b->head_seq);
	}
	if (b->kind == AM_KIND_AMEND || b->kind == AM_KIND_PROPOSE) {
		/* its parties, by node */
		size_t n = strlen(what);
		n += (size_t)snprintf(what + n, sizeof what - n, " for");
		for (uint32_t k = 0; k < b->terms.nparties && n < sizeof what; k++) {
			int j = 0;
			while (j < s->nnodes && !work_same(s->node[j].pub,
			    b->terms.parties[k]))
				j++;
			n += (size_t)snprintf(what + n, sizeof what - n, " %d", j);
		}
	} else if (b->kind != AM_KIND_GENESIS && b->kind != AM_KIND_PROPOSE &&
	    b->kind != AM_KIND_SUCCESSION &&
	    (b->kind != AM_KIND_STATEMENT || b->has_target)) {
		char t[9];
		am_hex(b->target, 4, t);
		snprintf(what, sizeof what, " of %s", t);
	}
	const char *key = o->as_heir ? " with its new key" : "";
	if (o->bypass)
		sim_trace(s, "node %d: wrote %s %s%s (circle %s, seq %llu), "
			"unchecked, dated %lld%s", o->i, kind_name(b->kind), h, what,
			ch, (unsigned long long)seq, (long long)time, key);
	else
		sim_trace(s, "node %d: wrote %s %s%s (circle %s, seq %llu)%s",
			o->i, kind_name(b->kind), h, what, ch,
			(unsigned long long)seq, key);
}

/* --successions: does the person's new key stand, in circle, for the
 * first key it acts with (o->pub), by the node's view: proposed in its
 * place, or joined there? Then the person no longer uses the first key
 * there (a lost key, or one they rotated away from). */
bool
work_rotating(struct op *o, const uint8_t circle[static 32])
{
	struct am_member *m = NULL;
	size_t nm = 0;
	bool listed = false;
	if (!o->s->opt.successions || o->as_heir ||
	    am_state_members(o->n->store, circle, &m, &nm) != AM_OK)
		return false;
	for (size_t k = 0; k < nm; k++)
		listed = listed || work_same(m[k].id, o->n->heir);
	free(m);
	return listed;
}

/* A random circle where the node is joined; members_only leaves out
 * circles where it is a witness. */
const struct am_circle_info *
work_pick_circle(struct op *o, bool members_only)
{
	size_t cand[64], n = 0;
	for (size_t k = 0; k < o->ncircles && n < 64; k++) {
		const struct am_circle_info *c = &o->circles[k];
		if (c->status != AM_MEMBER_JOINED)
			continue;
		if (members_only && c->role != AM_ROLE_MEMBER)
			continue;
		cand[n++] = k;
	}
	if (n == 0)
		return NULL;
	return &o->circles[cand[rng_below(&o->s->rng, n)]];
}

/* ---- circles and members ---- */

static bool
op_genesis(struct op *o)
{
	unsigned max = o->s->nnodes <= 3 ? 2 : 3;
	if (o->s->stats.circles >= max || o->as_heir)
		return false;
	o->b->kind = AM_KIND_GENESIS;
	snprintf(o->text[0], sizeof o->text[0], "circle %llu",
		(unsigned long long)o->s->stats.circles + 1);
	o->b->name = am_str_c(o->text[0]);
	rng_bytes(&o->s->rng, o->b->nonce, sizeof o->b->nonce);
	o->s->stats.circles++;
	work_write(o, o->b->nonce);
	return true;
}

static bool
op_member(struct op *o)
{
	const struct am_circle_info *c = work_pick_circle(o, true);
	struct am_member *m = NULL;
	size_t nm = 0;
	int cand[SIM_MAX_NODES], n = 0;

	if (c == NULL)
		return false;
	if (work_read_failed(o, "members", am_state_members(o->n->store, c->id, &m, &nm)))
		return false;
	for (int j = 0; j < o->s->nnodes; j++) {
		bool listed = false;
		for (size_t k = 0; k < nm; k++)
			listed = listed || work_same(m[k].id, o->s->node[j].pub);
		if (!listed)
			cand[n++] = j;
	}
	free(m);
	if (n == 0)
		return false;
	int j = cand[rng_below(&o->s->rng, (uint64_t)n)];
	o->b->kind = AM_KIND_MEMBER;
	memcpy(o->b->target, o->s->node[j].pub, 32);
	o->b->role = rng_chance(&o->s->rng, 250) ? AM_ROLE_WITNESS : AM_ROLE_MEMBER;
	work_write(o, c->id);
	return true;
}

/* Hands the newcomer's feed of circle (its answers) to the proposer's
 * node, as the invite exchange carries an answer back. */
static void
preview_reply(struct op *o, const struct sim_preview *p)
{
	struct sim_node *to = &o->s->node[p->proposer];
	uint8_t h[32];
	uint64_t head;

	if (am_store_head(o->n->store, p->circle, o->pub, &head, h) != AM_OK)
		return;
	for (uint64_t seq = 1; seq <= head; seq++) {
		struct sim_raw c = { NULL, 0 };
		enum am_ingest_result r;
		if (am_store_range(o->n->store, p->circle, o->pub, seq, seq,
		    sim_copy_raw, &c) != AM_OK || c.raw == NULL) {
			free(c.raw);
			return;
		}
		int rc = am_store_ingest(to->store, c.raw, c.len, &r);
		free(c.raw);
		if (rc != AM_OK) {
			sim_violation(o->s, "node %d could not take node %d's answer "
				"from the invite exchange: %s", p->proposer, o->i,
				am_strerror(rc));
			return;
		}
	}
	to->dirty = true;
}

/* Has the inviter left the circle or been removed, by their own node's
 * view? Then the invite exchange takes no answer (src/invite_serve.c):
 * it would reach nobody who stays. */
static bool
inviter_gone(struct op *o, const struct sim_preview *p)
{
	struct sim_node *n = &o->s->node[p->proposer];
	struct am_member *m = NULL;
	size_t nm = 0;
	bool gone = false;
	if (am_state_members(n->store, p->circle, &m, &nm) != AM_OK)
		return false;
	for (size_t k = 0; k < nm; k++)
		gone = gone || (work_same(m[k].id, n->pub) &&
			m[k].departure_kind != 0);
	free(m);
	return gone;
}

/* Answers a preview: the node holds nothing of the circle, so its answer
 * is written unchecked and travels back by the invite exchange. On an
 * accept the node records it is proposed to the circle (the door then
 * lets the circle in once the proposal completes). */
static bool
answer_preview(struct op *o, struct sim_preview *p)
{
	int rc;

	if (o->s->node[p->proposer].store == NULL)
		return false;           /* the exchange needs the proposer's node */
	if (inviter_gone(o, p)) {
		sim_trace(o->s, "node %d: the invite exchange refuses its answer: "
			"node %d is no longer in the circle", o->i, p->proposer);
		return false;
	}
	bool decline = rng_chance(&o->s->rng, 150);
	/* a decline forgets the circle, unless the node accepted another
	 * proposal of it, which may still complete */
	bool other = false;
	for (int k = 0; k < o->s->npreviews; k++) {
		const struct sim_preview *q = &o->s->previews[k];
		other = other || (q != p && q->node == o->i && q->accepted &&
			work_same(q->circle, p->circle));
	}
	if (decline)
		rc = other ? AM_OK : am_store_proposed_remove(o->n->store, p->circle);
	else
		rc = am_store_proposed_add(o->n->store, p->circle,
			o->s->node[p->proposer].pub, p->proposal, 32);
	if (rc != AM_OK) {
		sim_violation(o->s, "node %d could not note a proposal: %s", o->i,
			am_strerror(rc));
		return false;
	}
	o->b->kind = decline ? AM_KIND_DECLINE : AM_KIND_ACCEPT;
	memcpy(o->b->target, p->proposal, 32);
	p->answered = true;
	p->accepted = !decline;
	o->unheld = true;
	work_write(o, p->circle);
	o->unheld = false;
	preview_reply(o, p);
	return true;
}

/* The previews node i may answer: not answered yet, of a circle it holds
 * no GENESIS of. */
static int
previews_open(struct op *o, int *list)
{
	int n = 0;
	for (int k = 0; k < o->s->npreviews; k++) {
		struct sim_preview *p = &o->s->previews[k];
		bool held;
		if (p->node != o->i || p->answered ||
		    am_state_holds_circle(o->n->store, p->circle, &held) != AM_OK ||
		    held)
			continue;
		list[n++] = k;
	}
	return n;
}

/* Accepts or declines something awaiting the node: a member proposal, a
 * version, an end; or a preview of a circle it is proposed to. */
static bool
op_answer(struct op *o)
{
	struct am_pending *p = NULL;
	size_t n = 0;
	int open[SIM_MAX_PREVIEWS];
	if (work_read_failed(o, "what awaits it",
	    am_state_pending(o->n->store, NULL, o->pub, &p, &n)))
		return false;
	int nopen = o->as_heir ? 0 : previews_open(o, open);
	/* --successions: nothing in a circle where the first key is being
	 * replaced (work_rotating), and no removal of one's other key (the
	 * new key is asked as a newcomer); the list is the same without it */
	size_t *ok = calloc(n + 1, sizeof *ok), nok = 0;
	if (ok == NULL) {
		am_state_pending_free(&p, n);
		sim_violation(o->s, "out of memory");
		return false;
	}
	for (size_t k = 0; k < n; k++)
		if (!work_rotating(o, p[k].circle) &&
		    !(o->s->opt.successions && p[k].kind == AM_PENDING_REMOVE &&
		    (work_same(p[k].member, o->n->pub) ||
		    work_same(p[k].member, o->n->heir))))
			ok[nok++] = k;
	if (nok + (size_t)nopen == 0) {
		free(ok);
		am_state_pending_free(&p, n);
		return false;
	}
	uint64_t pick = rng_below(&o->s->rng, nok + (size_t)nopen);
	if (pick >= nok) {
		free(ok);
		am_state_pending_free(&p, n);
		return answer_preview(o, &o->s->previews[open[pick - nok]]);
	}
	const struct am_pending *x = &p[ok[pick]];
	free(ok);
	/* a person's new key accepts the succession that names it: they
	 * asked for it, or agree with whoever wrote it for them */
	bool own = x->kind == AM_PENDING_SUCCESSION && o->as_heir &&
		work_same(x->member, o->pub);
	bool decline = !own && rng_chance(&o->s->rng, x->declined ? 300 : 150);
	o->b->kind = decline ? AM_KIND_DECLINE : AM_KIND_ACCEPT;
	memcpy(o->b->target, x->hash, 32);
	if (decline && rng_chance(&o->s->rng, 500)) {
		snprintf(o->text[0], sizeof o->text[0], "not like this (%llx)",
			(unsigned long long)rng_next(&o->s->rng) & 0xffff);
		o->b->note = am_str_c(o->text[0]);
	}
	uint8_t circle[32];
	memcpy(circle, x->circle, 32);
	am_state_pending_free(&p, n);
	work_write(o, circle);
	return true;
}

/* ---- agreements ---- */

/* Joined non-witness members of circle, into t's parties (all of them,
 * or a random part that always holds the node), and who checks in. */
static bool
fill_parties(struct op *o, const uint8_t circle[static 32], struct am_terms *t)
{
	struct am_member *m = NULL;
	size_t nm = 0;
	uint8_t all[AM_MAX_PARTIES][32];
	uint32_t nall = 0;

	if (work_read_failed(o, "members", am_state_members(o->n->store, circle, &m, &nm)))
		return false;
	for (size_t k = 0; k < nm && nall < AM_MAX_PARTIES; k++)
		if (m[k].status == AM_MEMBER_JOINED && m[k].role == AM_ROLE_MEMBER)
			memcpy(all[nall++], m[k].id, 32);
	free(m);
	bool some = rng_chance(&o->s->rng, 300);
	t->nparties = 0;
	for (uint32_t k = 0; k < nall; k++)
		if (!some || work_same(all[k], o->pub) || rng_chance(&o->s->rng, 500))
			memcpy(t->parties[t->nparties++], all[k], 32);
	/* a node that lags may not see itself joined yet: it writes anyway,
	 * and the check decides */
	if (!work_in_ids((const uint8_t (*)[32])t->parties, t->nparties, o->pub) &&
	    t->nparties < AM_MAX_PARTIES)
		memcpy(t->parties[t->nparties++], o->pub, 32);
	t->nby = 0;
	if (rng_chance(&o->s->rng, 300))
		for (uint32_t k = 0; k < t->nparties; k++)
			if (rng_chance(&o->s->rng, 600))
				memcpy(t->by[t->nby++], t->parties[k], 32);
	return true;
}

static void
fill_terms(struct op *o, struct am_terms *t, const char *title_prefix)
{
	static const char *const zones[] = {
		"UTC", "Europe/Paris", "America/New_York", "Pacific/Apia",
	};
	struct rng *r = &o->s->rng;

	snprintf(o->text[0], sizeof o->text[0], "%s %llx", title_prefix,
		(unsigned long long)rng_next(r) & 0xffffff);
	t->title = am_str_c(o->text[0]);
	snprintf(o->text[1], sizeof o->text[1], "we agree on %llx",
		(unsigned long long)rng_next(r));
	t->text = am_str_c(o->text[1]);
	t->has_schedule = rng_chance(r, 600);
	t->every = t->hours = t->at = t->weekday = 0;
	if (t->has_schedule) {
		t->every = (uint32_t)rng_range(r, AM_EVERY_DAY, AM_EVERY_HOURS);
		t->at = (uint32_t)rng_range(r, 0, 24 * 60 - 1);
		if (t->every == AM_EVERY_WEEK)
			t->weekday = (uint32_t)rng_range(r, 0, 6);
		if (t->every == AM_EVERY_HOURS)
			t->hours = (uint32_t)rng_range(r, 1, 48);
	}
	t->tz = am_str_c(zones[rng_below(r, sizeof zones / sizeof zones[0])]);
	t->grace = (uint64_t)rng_range(r, 0, 7200);
	t->notice = (uint64_t)rng_range(r, 0, 3) * 86400;
	t->from = t->until = am_str_c(NULL);
	t->npauses = 0;
}

static bool
op_propose(struct op *o)
{
	const struct am_circle_info *c = work_pick_circle(o, true);
	if (c == NULL)
		return false;
	o->b->kind = AM_KIND_PROPOSE;
	if (!fill_parties(o, c->id, &o->b->terms))
		return false;
	fill_terms(o, &o->b->terms, "agreement");
	work_write(o, c->id);
	return true;
}

/* The version hash of agreement a, loaded into o->versions; NULL when
 * the node does not see it. */
const struct am_version *
work_load_version(struct op *o, const uint8_t agreement[static 32],
	const uint8_t hash[static 32])
{
	am_state_versions_free(&o->versions, o->nversions);
	if (work_read_failed(o, "versions", am_state_versions(o->n->store, agreement,
	    &o->versions, &o->nversions)))
		return NULL;
	for (size_t k = 0; k < o->nversions; k++)
		if (work_same(o->versions[k].hash, hash))
			return &o->versions[k];
	return NULL;
}

/* A random agreement of the node's joined circles that cheap accepts
 * (from the list alone) and then dear accepts (loading more; tried on a
 * few candidates only), into *out (release with
 * am_state_agreement_finish). dear may be NULL. */
bool
work_pick_agreement(struct op *o, bool (*cheap)(struct op *, const struct am_agreement *),
	bool (*dear)(struct op *, const struct am_agreement *),
	struct am_agreement *out)
{
	uint8_t (*cand)[32] = NULL;
	size_t ncand = 0, cap = 0;
	bool found = false;

	for (size_t k = 0; k < o->ncircles; k++) {
		struct am_agreement *list = NULL;
		size_t n = 0;
		if (o->circles[k].status != AM_MEMBER_JOINED)
			continue;
		if (work_read_failed(o, "agreements", am_state_agreements(o->n->store,
		    o->circles[k].id, o->now, &list, &n)))
			continue;
		for (size_t x = 0; x < n; x++) {
			if (!cheap(o, &list[x]))
				continue;
			if (ncand == cap) {
				size_t c = cap ? 2 * cap : 16;
				void *p = realloc(cand, c * sizeof *cand);
				if (p == NULL)
					break;
				cand = p;
				cap = c;
			}
			memcpy(cand[ncand++], list[x].id, 32);
		}
		am_state_agreements_free(&list, n);
	}
	for (int tries = 0; tries < 4 && ncand > 0 && !found; tries++) {
		size_t k = rng_below(&o->s->rng, ncand);
		if (work_read_failed(o, "an agreement",
		    am_state_agreement(o->n->store, cand[k], o->now, out)))
			break;
		found = dear == NULL || dear(o, out);
		if (!found) {
			am_state_agreement_finish(out);
			memcpy(cand[k], cand[--ncand], 32);
		}
	}
	free(cand);
	return found;
}

/* Is the node a party to version hash of agreement a (checker: one of
 * those who check in)? */
static bool
party_of(struct op *o, const struct am_agreement *a, const uint8_t *hash,
	bool checker)
{
	const struct am_version *v = work_load_version(o, a->id, hash);
	if (v == NULL)
		return false;
	const struct am_terms *t = &v->body.terms;
	if (checker && t->nby > 0)
		return work_in_ids((const uint8_t (*)[32])t->by, t->nby, o->pub);
	return work_in_ids((const uint8_t (*)[32])t->parties, t->nparties, o->pub);
}

/* Not ended nor ending. */
static bool
open_agreement(struct op *o, const struct am_agreement *a)
{
	return !a->has_end && (a->status == AM_AGREEMENT_PROPOSED ||
		a->status == AM_AGREEMENT_IN_FORCE ||
		a->status == AM_AGREEMENT_DECLINED);
}

static bool
in_force(struct op *o, const struct am_agreement *a)
{
	return a->status == AM_AGREEMENT_IN_FORCE && a->has_current;
}

static bool
in_force_or_ending(struct op *o, const struct am_agreement *a)
{
	return a->has_current && (a->status == AM_AGREEMENT_IN_FORCE ||
		a->status == AM_AGREEMENT_ENDING);
}

static bool
any_agreement(struct op *o, const struct am_agreement *a)
{
	return true;
}

/* Check-ins exist only where some version was in force. */
static bool
ever_in_force(struct op *o, const struct am_agreement *a)
{
	return a->in_force_ever && a->has_current;
}

/* Ours to amend, end, check in to; now and then one that is not, which
 * the check must refuse. */
static bool
ours_newest(struct op *o, const struct am_agreement *a)
{
	return rng_chance(&o->s->rng, 50) || party_of(o, a, a->newest, false);
}

static bool
ours_current(struct op *o, const struct am_agreement *a)
{
	return rng_chance(&o->s->rng, 50) || party_of(o, a, a->current, false);
}

static bool
ours_to_check_in(struct op *o, const struct am_agreement *a)
{
	return rng_chance(&o->s->rng, 50) || party_of(o, a, a->current, true);
}

static bool
op_amend(struct op *o)
{
	struct am_agreement a;
	if (!work_pick_agreement(o, open_agreement, ours_newest, &a))
		return false;
	const struct am_version *base = work_load_version(o, a.id, a.newest);
	if (base == NULL) {
		am_state_agreement_finish(&a);
		return false;
	}
	o->b->kind = AM_KIND_AMEND;
	memcpy(o->b->target, a.id, 32);
	memcpy(o->b->base, base->hash, 32);
	o->b->terms = base->body.terms;
	struct am_terms *t = &o->b->terms;
	struct rng *r = &o->s->rng;
	switch (rng_below(r, 4)) {
	case 0:
		/* new words */
		snprintf(o->text[1], sizeof o->text[1], "we now agree on %llx",
			(unsigned long long)rng_next(r));
		t->text = am_str_c(o->text[1]);
		break;
	case 1:
		/* a pause of a few days */
		if (t->npauses < AM_MAX_PAUSES) {
			int day = (int)rng_range(r, 1, 20);
			snprintf(o->text[0], sizeof o->text[0], "2026-03-%02d", day);
			snprintf(o->text[1], sizeof o->text[1], "2026-03-%02d",
				day + (int)rng_range(r, 0, 8));
			t->pauses[t->npauses].from = am_str_c(o->text[0]);
			t->pauses[t->npauses].until = am_str_c(o->text[1]);
			t->npauses++;
		}
		break;
	case 2:
		/* other parties */
		fill_parties(o, a.circle, t);
		break;
	default:
		t->notice = (uint64_t)rng_range(r, 0, 5) * 86400;
		t->grace = (uint64_t)rng_range(r, 0, 3600);
		break;
	}
	work_write(o, a.circle);
	am_state_agreement_finish(&a);
	return true;
}

static bool
op_end(struct op *o)
{
	struct am_agreement a;
	if (!work_pick_agreement(o, in_force, ours_current, &a))
		return false;
	o->b->kind = AM_KIND_END;
	memcpy(o->b->target, a.id, 32);
	if (rng_chance(&o->s->rng, 500)) {
		snprintf(o->text[0], sizeof o->text[0], "it has served its purpose");
		o->b->note = am_str_c(o->text[0]);
	}
	work_write(o, a.circle);
	am_state_agreement_finish(&a);
	return true;
}

/* A day's label near the simulated now, as a daily schedule names it. */
static void
day_label(struct op *o, char out[static AM_MAX_PERIOD + 1])
{
	time_t t = (time_t)(o->now / 1000) - (time_t)rng_range(&o->s->rng, 0, 2) * 86400;
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(out, AM_MAX_PERIOD + 1, "%04d-%02d-%02d", tm.tm_year + 1900,
		tm.tm_mon + 1, tm.tm_mday);
}

static bool
op_checkin(struct op *o)
{
	struct am_agreement a;
	if (!work_pick_agreement(o, in_force_or_ending, ours_to_check_in, &a))
		return false;
	o->b->kind = AM_KIND_CHECKIN;
	memcpy(o->b->target, a.id, 32);
	day_label(o, o->period);
	o->b->period = am_str_c(o->period);
	o->b->status = (uint32_t)rng_range(&o->s->rng, AM_KEPT, AM_MISSED);
	if (rng_chance(&o->s->rng, 400)) {
		snprintf(o->text[0], sizeof o->text[0], "note %llx",
			(unsigned long long)rng_next(&o->s->rng) & 0xffff);
		o->b->note = am_str_c(o->text[0]);
	}
	work_write(o, a.circle);
	am_state_agreement_finish(&a);
	return true;
}

/* Picks, into o->mark, a check-in of a that someone else wrote, each
 * with equal chance; false when there is none. */
static bool
pick_checkin(struct op *o, const struct am_agreement *a)
{
	struct am_checkin *ci = NULL;
	size_t n = 0;
	uint64_t seen = 0;
	if (work_read_failed(o, "check-ins", am_state_checkins(o->n->store, a->id, &ci, &n)))
		return false;
	for (size_t k = 0; k < n; k++) {
		if (work_same(ci[k].author, o->pub))
			continue;
		/* one pass, each one kept with chance 1/seen: a fair pick */
		if (rng_below(&o->s->rng, ++seen) == 0)
			memcpy(o->mark, ci[k].hash, 32);
	}
	am_state_checkins_free(&ci, n);
	return seen > 0;
}

/* Parties and witnesses mark check-ins; now and then someone else
 * tries, and the check must refuse it. */
static bool
markable(struct op *o, const struct am_agreement *a)
{
	bool witness = false;
	for (size_t k = 0; k < o->ncircles; k++)
		if (work_same(o->circles[k].id, a->circle))
			witness = o->circles[k].role == AM_ROLE_WITNESS;
	if (!witness && !rng_chance(&o->s->rng, 50) &&
	    !party_of(o, a, a->current, false))
		return false;
	return pick_checkin(o, a);
}

/* Confirms or disputes a check-in of someone else's. */
static bool
op_mark(struct op *o)
{
	struct am_agreement a;
	if (!work_pick_agreement(o, ever_in_force, markable, &a))
		return false;
	bool dispute = rng_chance(&o->s->rng, 250);
	o->b->kind = dispute ? AM_KIND_DISPUTE : AM_KIND_CONFIRM;
	memcpy(o->b->target, o->mark, 32);
	if (dispute) {
		snprintf(o->text[0], sizeof o->text[0], "that is not what happened");
		o->b->note = am_str_c(o->text[0]);
	}
	work_write(o, a.circle);
	am_state_agreement_finish(&a);
	return true;
}

static bool
op_statement(struct op *o)
{
	const struct am_circle_info *c = work_pick_circle(o, false);
	struct am_agreement a;
	bool about = false;

	if (c == NULL)
		return false;
	uint8_t circle[32];
	memcpy(circle, c->id, 32);
	if (rng_chance(&o->s->rng, 300) && work_pick_agreement(o, any_agreement, NULL, &a)) {
		/* about an agreement of this circle, or of another one: the
		 * check refuses the second */
		about = true;
		memcpy(circle, a.circle, 32);
		memcpy(o->b->target, a.id, 32);
		am_state_agreement_finish(&a);
	}
	o->b->kind = AM_KIND_STATEMENT;
	o->b->has_target = about;
	snprintf(o->text[0], sizeof o->text[0], "I am sorry about %llx",
		(unsigned long long)rng_next(&o->s->rng) & 0xffffff);
	o->b->note = am_str_c(o->text[0]);
	work_write(o, circle);
	return true;
}

static bool
op_confirm_statement(struct op *o)
{
	const struct am_circle_info *c = work_pick_circle(o, false);
	struct am_statement *st = NULL;
	size_t n = 0, others = 0;

	if (c == NULL)
		return false;
	uint8_t circle[32];
	memcpy(circle, c->id, 32);
	if (work_read_failed(o, "statements",
	    am_state_statements(o->n->store, circle, NULL, &st, &n)))
		return false;
	for (size_t k = 0; k < n; k++)
		others += !work_same(st[k].author, o->pub);
	if (others > 0) {
		uint64_t want = rng_below(&o->s->rng, others);
		for (size_t k = 0; k < n; k++) {
			if (work_same(st[k].author, o->pub) || want-- != 0)
				continue;
			o->b->kind = AM_KIND_CONFIRM;
			memcpy(o->b->target, st[k].hash, 32);
			break;
		}
	}
	am_state_statements_free(&st, n);
	if (others > 0)
		work_write(o, circle);
	return others > 0;
}

/* ---- leaving and withdrawing ---- */

/* Leaves a circle where at least two other members stay joined, so that
 * the run goes on. */
static bool
op_leave(struct op *o)
{
	const struct am_circle_info *c = work_pick_circle(o, false);
	struct am_member *m = NULL;
	size_t nm = 0, others = 0;
	if (c == NULL)
		return false;
	if (work_read_failed(o, "members", am_state_members(o->n->store, c->id, &m, &nm)))
		return false;
	for (size_t k = 0; k < nm; k++)
		others += m[k].status == AM_MEMBER_JOINED && !work_same(m[k].id, o->pub);
	free(m);
	if (others < 2)
		return false;
	o->b->kind = AM_KIND_LEAVE;
	if (rng_chance(&o->s->rng, 500))
		o->b->note = am_str_c("moving on");
	work_write(o, c->id);
	return true;
}

/* Withdraws one of the node's own proposals that has not completed: a
 * member proposal, or a version still pending. */
static bool
op_withdraw(struct op *o)
{
	const struct am_circle_info *c = work_pick_circle(o, true);
	struct am_member *m = NULL;
	size_t nm = 0;
	bool found = false;
	if (c == NULL)
		return false;
	if (work_read_failed(o, "members", am_state_members(o->n->store, c->id, &m, &nm)))
		return false;
	for (size_t k = 0; k < nm && !found; k++)
		if (m[k].status == AM_MEMBER_PENDING && work_same(m[k].proposer, o->pub)) {
			memcpy(o->b->target, m[k].proposal, 32);
			found = true;
		}
	free(m);
	struct am_agreement *ag = NULL;
	size_t na = 0;
	if (!found && !work_read_failed(o, "agreements",
	    am_state_agreements(o->n->store, c->id, o->now, &ag, &na))) {
		for (size_t k = 0; k < na && !found; k++) {
			struct am_version *v = NULL;
			size_t nv = 0;
			if (ag[k].has_end || work_read_failed(o, "versions",
			    am_state_versions(o->n->store, ag[k].id, &v, &nv)))
				continue;
			for (size_t x = 0; x < nv && !found; x++)
				if (v[x].status == AM_VERSION_PENDING &&
				    work_same(v[x].author, o->pub)) {
					memcpy(o->b->target, v[x].hash, 32);
					found = true;
				}
			am_state_versions_free(&v, nv);
		}
		am_state_agreements_free(&ag, na);
	}
	if (!found)
		return false;
	o->b->kind = AM_KIND_DECLINE;
	work_write(o, c->id);
	return true;
}

/* ---- removing ---- */

static int
cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

bool
work_removal(struct op *o, const uint8_t circle[static 32],
	const uint8_t target[static 32], const struct am_member *m, size_t nm)
{
	o->b->kind = AM_KIND_REMOVE;
	memcpy(o->b->target, target, 32);
	int rc = am_store_head(o->n->store, circle, target, &o->b->head_seq,
		o->b->head_hash);
	if (rc == AM_ERR_NOT_FOUND) {
		/* nothing of theirs held: no head */
		o->b->head_seq = 0;
		memset(o->b->head_hash, 0, 32);
	} else if (rc != AM_OK) {
		sim_violation(o->s, "node %d could not read a head: %s", o->i,
			am_strerror(rc));
		return false;
	}
	o->b->nneed = 0;
	for (size_t k = 0; k < nm && o->b->nneed < AM_MAX_NEED; k++)
		if (m[k].status == AM_MEMBER_JOINED && !work_same(m[k].id, target) &&
		    !work_same(m[k].id, o->pub))
			memcpy(o->b->need[o->b->nneed++], m[k].id, 32);
	qsort(o->b->need, o->b->nneed, 32, cmp_id);
	return true;
}

/* The node's own REMOVE of circle whose target is still joined, from
 * what the run remembers it wrote (s->entries: a person remembers their
 * own proposals), into o->b->target; false when there is none. */
static bool
own_removal(struct op *o, const uint8_t circle[static 32],
	const struct am_member *m, size_t nm)
{
	uint64_t seen = 0;
	for (size_t k = 0; k < o->s->nentries; k++) {
		const struct sim_entry *e = &o->s->entries[k];
		bool joined = false;
		if (e->kind != AM_KIND_REMOVE || !work_same(e->author, o->pub) ||
		    !work_same(e->circle, circle))
			continue;
		for (size_t x = 0; x < nm; x++)
			joined = joined || (m[x].status == AM_MEMBER_JOINED &&
				work_same(m[x].id, e->target));
		if (joined && rng_below(&o->s->rng, ++seen) == 0)
			memcpy(o->b->target, e->hash, 32);
	}
	return seen > 0;
}

/* Proposes removing another joined member of a circle where the node is
 * a joined member (not a witness) and at least three people are joined,
 * so that someone else can accept it; or, now and then, withdraws such a
 * proposal of its own (the check refuses it once it is complete). */
static bool
op_remove(struct op *o)
{
	const struct am_circle_info *c = work_pick_circle(o, true);
	struct am_member *m = NULL;
	size_t nm = 0, njoined = 0;
	int cand[SIM_MAX_NODES], n = 0;
	bool done = false;

	if (c == NULL)
		return false;
	uint8_t circle[32];
	memcpy(circle, c->id, 32);
	if (work_read_failed(o, "members", am_state_members(o->n->store, circle,
	    &m, &nm)))
		return false;
	for (size_t k = 0; k < nm; k++)
		njoined += m[k].status == AM_MEMBER_JOINED;
	if (rng_chance(&o->s->rng, 200) && own_removal(o, circle, m, nm)) {
		o->b->kind = AM_KIND_DECLINE;
		work_write(o, circle);
		free(m);
		return true;
	}
	for (int j = 0; j < o->s->nnodes && njoined >= 3; j++)
		for (size_t k = 0; k < nm; k++)
			if (j != o->i && m[k].status == AM_MEMBER_JOINED &&
			    work_same(m[k].id, o->s->node[j].pub))
				cand[n++] = j;
	if (n > 0) {
		int j = cand[rng_below(&o->s->rng, (uint64_t)n)];
		done = work_removal(o, circle, o->s->node[j].pub, m, nm);
		if (done && rng_chance(&o->s->rng, 500))
			o->b->note = am_str_c("we cannot go on like this");
		if (done)
			work_write(o, circle);
	}
	free(m);
	return done;
}

/* ---- successions (--successions) ---- */

/* Fills o->b with a SUCCESSION of old's key by heir in circle, as a
 * REMOVE of old would be written (work_removal: old's head, and as need
 * the joined members other than old and the writer), naming the heir. */
bool
work_succession(struct op *o, const uint8_t circle[static 32],
	const uint8_t old[static 32], const uint8_t heir[static 32],
	const struct am_member *m, size_t nm)
{
	if (!work_removal(o, circle, old, m, nm))
		return false;
	o->b->kind = AM_KIND_SUCCESSION;
	memcpy(o->b->heir, heir, 32);
	return true;
}

/* A person rotates: a joined member writes a SUCCESSION of their own key
 * to their new key (node.heir), or of another joined member's key, which
 * that person lost, to the new key that person gave them. The heir
 * accepts it with the new key (op_answer as the heir), the members it
 * needs accept or decline it. Only first keys are replaced: a new key
 * is never succeeded again, and each person has one. */
static bool
op_succession(struct op *o)
{
	const struct am_circle_info *c;
	struct am_member *m = NULL;
	size_t nm = 0;
	int cand[SIM_MAX_NODES], n = 0;
	bool done = false;

	if (o->as_heir || (c = work_pick_circle(o, false)) == NULL)
		return false;
	uint8_t circle[32];
	bool witness = c->role != AM_ROLE_MEMBER;
	memcpy(circle, c->id, 32);
	if (work_read_failed(o, "members", am_state_members(o->n->store, circle,
	    &m, &nm)))
		return false;
	for (int j = 0; j < o->s->nnodes; j++) {
		bool joined = false, fresh = true;
		for (size_t k = 0; k < nm; k++) {
			joined = joined || (m[k].status == AM_MEMBER_JOINED &&
				work_same(m[k].id, o->s->node[j].pub));
			fresh = fresh && !work_same(m[k].id, o->s->node[j].heir);
		}
		/* a witness writes only their own */
		if (joined && fresh && (j == o->i || !witness))
			cand[n++] = j;
	}
	if (n > 0) {
		/* one's own key, more often than a lost one */
		bool self = false;
		for (int k = 0; k < n; k++)
			self = self || cand[k] == o->i;
		if (o->own_key && !self) {
			free(m);
			return false;
		}
		int j = self && (o->own_key || rng_chance(&o->s->rng, 600)) ? o->i :
			cand[rng_below(&o->s->rng, (uint64_t)n)];
		done = work_succession(o, circle, o->s->node[j].pub,
			o->s->node[j].heir, m, nm);
		if (done && rng_chance(&o->s->rng, 500))
			o->b->note = am_str_c(j == o->i ? "a new key" :
				"their key is lost");
		if (done)
			work_write(o, circle);
	}
	free(m);
	return done;
}

struct kind {
	bool (*fn)(struct op *);
	unsigned weight;
};

static const struct kind kinds[] = {
	{ op_genesis, 3 },
	{ op_member, 8 },
	{ op_answer, 24 },
	{ op_propose, 6 },
	{ op_amend, 5 },
	{ op_end, 3 },
	{ op_checkin, 16 },
	{ op_mark, 14 },
	{ op_statement, 4 },
	{ op_confirm_statement, 4 },
	/* only with --withdraw, --leaves: without them, the picks (and so
	 * every seed's run) are those of the workload before them */
	{ op_withdraw, 2 },
	{ op_leave, 1 },
	/* only with --removes, likewise */
	{ op_remove, 8 },
	/* only with --successions, likewise */
	{ op_succession, 4 },
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

/* A weighted pick; when it finds nothing to do, another among those not
 * tried yet, so a node in no circle yet ends up starting one. */
bool
work_any_op(struct op *o)
{
	bool tried[NKINDS] = { false }, done = false;
	size_t ntried = 0;
	for (size_t k = 0; k < NKINDS; k++)
		if ((kinds[k].fn == op_leave && !o->s->opt.leaves) ||
		    (kinds[k].fn == op_withdraw && !o->s->opt.withdraw) ||
		    (kinds[k].fn == op_remove && !o->s->opt.removes) ||
		    (kinds[k].fn == op_succession && !o->s->opt.successions)) {
			tried[k] = true;
			ntried++;
		}
	for (size_t round = ntried; round < NKINDS && !done; round++) {
		unsigned total = 0;
		size_t which = 0;
		for (size_t k = 0; k < NKINDS; k++)
			total += tried[k] ? 0 : kinds[k].weight;
		uint64_t x = rng_below(&o->s->rng, total);
		while (tried[which] || x >= kinds[which].weight) {
			if (!tried[which])
				x -= kinds[which].weight;
			which++;
		}
		tried[which] = true;
		memset(o->b, 0, sizeof *o->b);
		done = kinds[which].fn(o);
	}
	return done;
}

/* One operation of node i's person; the hostile member's modified client
 * only when may_bypass. */
static void
work_on(struct sim *s, int i, bool may_bypass)
{
	struct op o = { .s = s, .i = i, .n = &s->node[i] };
	bool done = false;
	int rc;

	o.now = sim_clock(s, o.i);
	o.pub = o.n->pub;
	o.id = o.n->id;
	if ((o.b = calloc(1, sizeof *o.b)) == NULL) {
		sim_violation(s, "out of memory");
		return;
	}
	/* --successions: half the time, the person acts with their new key
	 * where it is joined or proposed (to accept a succession naming it) */
	if (s->opt.successions && rng_chance(&s->rng, 500)) {
		rc = am_state_circles(o.n->store, o.n->heir, &o.circles,
			&o.ncircles);
		if (rc == AM_OK && o.ncircles > 0) {
			o.pub = o.n->heir;
			o.id = o.n->heir_id;
			o.as_heir = true;
		} else {
			am_state_circles_free(&o.circles, o.ncircles);
		}
	}
	rc = o.as_heir ? AM_OK :
		am_state_circles(o.n->store, o.n->pub, &o.circles, &o.ncircles);
	/* --successions: the circles where the first key is being replaced
	 * are no longer the person's under it (work_rotating) */
	if (rc == AM_OK && s->opt.successions && o.i != s->hostile) {
		size_t keep = 0;
		for (size_t k = 0; k < o.ncircles; k++) {
			if (work_rotating(&o, o.circles[k].id))
				free(o.circles[k].name);
			else
				o.circles[keep++] = o.circles[k];
		}
		o.ncircles = keep;
	}
	if (rc != AM_OK) {
		sim_violation(s, "node %d could not list its circles: %s", o.i,
			am_strerror(rc));
		free(o.b);
		return;
	}
	/* the hostile member's person uses its modified client half the
	 * time, and the ordinary one otherwise (to join, to be a party) */
	if (may_bypass && o.i == s->hostile && !o.as_heir &&
	    rng_chance(&s->rng, 500)) {
		memset(o.b, 0, sizeof *o.b);
		o.bypass = true;
		done = sim_hostile_step(&o);
		o.bypass = false;
	}
	/* a person whose key was stolen (--successions, the hostile node
	 * holds a copy) rotates it sooner than others */
	if (!done && s->opt.successions && i == s->thief_of && !o.as_heir &&
	    rng_chance(&s->rng, 400)) {
		o.own_key = true;
		done = op_succession(&o);
		o.own_key = false;
	}
	if (!done)
		done = work_any_op(&o);
	if (!done) {
		s->stats.skipped++;
		sim_trace(s, "node %d: nothing to do (in %zu circles)", o.i,
			o.ncircles);
	}
	am_state_versions_free(&o.versions, o.nversions);
	am_state_circles_free(&o.circles, o.ncircles);
	free(o.b);
}

void
sim_work_on(struct sim *s, int i)
{
	work_on(s, i, false);
}

void
sim_work_step(struct sim *s)
{
	int up[SIM_MAX_NODES], nup = 0;

	s->stats.ops++;
	for (int i = 0; i < s->nnodes; i++)
		if (s->node[i].store != NULL)
			up[nup++] = i;
	if (nup == 0) {
		s->stats.skipped++;
		return;
	}
	work_on(s, up[rng_below(&s->rng, (uint64_t)nup)], true);
}
