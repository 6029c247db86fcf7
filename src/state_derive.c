/*
 * Deriving a circle's state from its facts (protocol/state.md), part one:
 * the circle's genesis and the membership fixpoint, plus the sink that
 * every derivation reports to. Every rule reads the facts as a set,
 * ordering one author's acts only by that author's feed numbers and
 * everything else by hash, so any arrival order gives the same result.
 * Agreements are in state_agreement.c, check-ins and statements in
 * state_checkin.c.
 *
 * When a sink is given, each derivation also notes every entry it looked
 * at and why it ignored those it ignored; state_digest.c sweeps up the
 * rest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"
#include "store_impl.h"

/* ---- the sink ---- */

void
st_sink_seen(struct st_sink *k, const uint8_t *author, uint64_t seq)
{
	if (k == NULL || k->rc != AM_OK)
		return;
	if (k->nseen == k->capseen) {
		size_t cap = k->capseen ? k->capseen * 2 : 64;
		void *p = realloc(k->seen, cap * sizeof *k->seen);
		if (p == NULL) {
			k->rc = AM_ERR_NOMEM;
			return;
		}
		k->seen = p;
		k->capseen = cap;
	}
	memcpy(k->seen[k->nseen].author, author, AM_ID_BYTES);
	k->seen[k->nseen++].seq = seq;
}

void
st_sink_ignore(struct st_sink *k, const uint8_t *author, uint64_t seq,
	const uint8_t *hash, uint32_t kind, uint32_t rule, const char *why)
{
	if (k == NULL || k->rc != AM_OK)
		return;
	st_sink_seen(k, author, seq);
	if (k->nv == k->capv) {
		size_t cap = k->capv ? k->capv * 2 : 16;
		void *p = realloc(k->v, cap * sizeof *k->v);
		if (p == NULL) {
			k->rc = AM_ERR_NOMEM;
			return;
		}
		k->v = p;
		k->capv = cap;
	}
	struct am_violation *v = &k->v[k->nv++];
	memset(v, 0, sizeof *v);
	memcpy(v->author, author, AM_ID_BYTES);
	v->seq = seq;
	if (hash != NULL)
		memcpy(v->hash, hash, AM_HASH_BYTES);
	v->kind = kind;
	v->rule = rule;
	snprintf(v->why, sizeof v->why, "%s", why);
}

/* ---- membership ---- */

const struct am_member *
st_member(const struct st_circle *c, const uint8_t id[static AM_ID_BYTES])
{
	if (c->members_sorted) {
		/* joined first, the creator first of them, then by ID */
		struct am_member key = { .status = AM_MEMBER_JOINED };
		memcpy(key.id, id, AM_ID_BYTES);
		if (c->nmembers > 0 && c->members[0].creator &&
		    memcmp(c->members[0].id, id, AM_ID_BYTES) == 0)
			return &c->members[0];
		return bsearch(&key, c->members, c->nmembers, sizeof *c->members,
			st_member_cmp);
	}
	for (size_t i = 0; i < c->nmembers; i++)
		if (c->members[i].status == AM_MEMBER_JOINED &&
		    memcmp(c->members[i].id, id, AM_ID_BYTES) == 0)
			return &c->members[i];
	return NULL;
}

bool
st_is_party_member(const struct st_circle *c, const uint8_t id[static AM_ID_BYTES])
{
	const struct am_member *m = st_member(c, id);
	return m != NULL && m->role == AM_ROLE_MEMBER;
}

/* ---- departures ---- */

static const struct st_depart *
find_depart(const struct st_depart *v, size_t n, const uint8_t *id)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = memcmp(v[mid].id, id, 32);
		if (d == 0)
			return &v[mid];
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct st_depart *
st_left(const struct st_circle *c, const uint8_t id[static AM_ID_BYTES])
{
	return find_depart(c->leaves, c->nleaves, id);
}

const struct st_depart *
st_removed(const struct st_circle *c, const uint8_t id[static AM_ID_BYTES])
{
	return find_depart(c->removals, c->nremovals, id);
}

/* A member's own LEAVE is their departure unless it came past the
 * cut-off of their removal (protocol/state.md, "Removal"): a removed
 * person cannot move the date their agreements end. */
const struct st_depart *
st_departed(const struct st_circle *c, const uint8_t id[static AM_ID_BYTES])
{
	const struct st_depart *d = st_left(c, id), *r = st_removed(c, id);
	if (d != NULL && d->joined && (r == NULL || d->seq <= r->head))
		return d;
	return r;
}

bool
st_cut(const struct st_circle *c, const uint8_t author[static AM_ID_BYTES],
	uint64_t seq)
{
	const struct st_depart *d = st_removed(c, author);
	return d != NULL && seq > d->head;
}

/* The heir of id when a succession is id's departure, else NULL. */
static const uint8_t *
heir_of(const struct st_circle *c, const uint8_t *id)
{
	const struct st_depart *d = st_departed(c, id);
	return d != NULL && d->kind == AM_KIND_SUCCESSION ? d->heir : NULL;
}

/* Follows id's successions to the key that holds its place now; *hops
 * gets how many. Each link is an effective succession: a chain is at
 * most as long as they are many (a cycle, which needs a key to succeed
 * one that succeeded it, stops there too). */
static const uint8_t *
follow(const struct st_circle *c, const uint8_t *id, uint32_t *hops)
{
	const uint8_t *at = id, *next;
	uint32_t n = 0;
	while (n <= c->nremovals && (next = heir_of(c, at)) != NULL) {
		at = next;
		n++;
	}
	*hops = n;
	return at;
}

const uint8_t *
st_current(const struct st_circle *c, const uint8_t id[static AM_ID_BYTES])
{
	uint32_t hops;
	return follow(c, id, &hops);
}

uint32_t
st_hops(const struct st_circle *c, const uint8_t id[static AM_ID_BYTES])
{
	uint32_t hops;
	follow(c, id, &hops);
	return hops;
}

const uint8_t *
st_actor(const struct st_circle *c, const uint8_t author[static AM_ID_BYTES],
	uint64_t seq)
{
	return st_cut(c, author, seq) ? author : st_current(c, author);
}

uint32_t
st_cut_rule(const struct st_circle *c, const uint8_t author[static AM_ID_BYTES],
	uint64_t seq, const char **why)
{
	if (!st_cut(c, author, seq))
		return 0;
	if (st_removed(c, author)->kind == AM_KIND_SUCCESSION) {
		*why = "written by a key that a new one replaced, after the last "
			"entry of it that the succession names";
		return AM_RULE_SUCCEEDED;
	}
	*why = "written by a removed member after the last entry of theirs "
		"that their removal names";
	return AM_RULE_REMOVED;
}

/*
 * Every LEAVE of the circle that counts as one: the first of its
 * author's feed (recording gave the later entries of that feed bare
 * facts, AM_RULE_LEFT), by author. Whether its author had joined is
 * settled once membership is.
 */
static int
load_leaves(struct st_circle *c)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc = st_prepare(c->db, "SELECT f.author, e.hash, x.seq, x.time, "
		"st_note(e.raw), st_time(p.raw) "
		"FROM st_facts x JOIN feeds f ON f.id = x.feed "
		"JOIN entries e ON e.feed = x.feed AND e.seq = x.seq "
		"LEFT JOIN entries p ON p.feed = x.feed AND p.seq = x.seq - 1 "
		"WHERE f.circle = ?1 AND x.kind = 13 ORDER BY f.author, x.seq", &st);
	if (rc != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, c->id, AM_HASH_BYTES, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint8_t id[32];
		st_col32(st, 0, id);
		if (c->nleaves > 0 && memcmp(c->leaves[c->nleaves - 1].id, id, 32) == 0)
			continue;        /* cannot happen: the second is bare */
		if (c->nleaves == cap) {
			cap = cap ? cap * 2 : 4;
			void *q = realloc(c->leaves, cap * sizeof *c->leaves);
			if (q == NULL) {
				rc = SQLITE_NOMEM;
				break;
			}
			c->leaves = q;
		}
		struct st_depart *d = &c->leaves[c->nleaves++];
		memset(d, 0, sizeof *d);
		memcpy(d->id, id, 32);
		memcpy(d->author, id, 32);
		d->kind = AM_KIND_LEAVE;
		st_col32(st, 1, d->hash);
		d->seq = (uint64_t)sqlite3_column_int64(st, 2);
		d->time = sqlite3_column_int64(st, 3);
		d->note = st_coltext(st, 4);
		d->prev_time = d->time;
		if (sqlite3_column_type(st, 5) == SQLITE_INTEGER) {
			int64_t pt = sqlite3_column_int64(st, 5);
			if (am_state_time_ok(pt) && pt > d->prev_time)
				d->prev_time = pt;
		}
	}
	st_finish(st);
	return st_done(rc);
}

static int
load_genesis(struct st_circle *c)
{
	sqlite3_stmt *st;
	int rc = st_prepare(c->db, "SELECT e.hash, f.author, x.seq, x.time, "
		"st_label(e.raw) FROM st_facts x JOIN feeds f ON f.id = x.feed "
		"JOIN entries e ON e.feed = x.feed AND e.seq = x.seq "
		"WHERE f.circle = ?1 AND x.kind = 1 AND x.ref = ?1 "
		"AND x.time >= ?2 AND x.time < ?3 "
		"ORDER BY x.seq LIMIT 1", &st);
	if (rc != AM_OK)
		return rc;
	/* a genesis claiming a time outside the bounds keeps its full fact
	 * (ingest asks for it) but creates nothing: the sweep reports it */
	sqlite3_bind_blob(st, 1, c->id, AM_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, AM_TIME_MIN);
	sqlite3_bind_int64(st, 3, AM_TIME_MAX);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		c->has_genesis = true;
		st_col32(st, 0, c->genesis);
		st_col32(st, 1, c->creator);
		c->genesis_seq = (uint64_t)sqlite3_column_int64(st, 2);
		c->created = sqlite3_column_int64(st, 3);
		c->name = st_coltext(st, 4);
		rc = c->name != NULL ? SQLITE_DONE : SQLITE_NOMEM;
	}
	st_finish(st);
	return st_done(rc);
}

/*
 * The membership rule looks at more than struct st_proposal keeps: when
 * each person first accepted and first declined each proposal, and which
 * proposals each proposer knew of when it wrote its own (its need,
 * protocol/state.md, "Membership"). This lives only while a circle loads.
 */
struct answer {
	uint8_t id[AM_ID_BYTES];
	uint64_t accept;             /* seq of id's first ACCEPT; 0 none */
	uint64_t decline;            /* ... of its first DECLINE; 0 none */
	bool stale;                  /* SUCCESSION: the accept does not
	                                count, as its author had accepted
	                                another succession of the same key
	                                first */
};

struct known {
	struct answer *ans;          /* by id */
	uint32_t nans;
	size_t prev;                 /* its author's proposal before it, or
	                                SIZE_MAX */
	size_t edge, nedges;         /* its run of struct derive's edges */
	bool refused;                /* the first answer of the newcomer, or
	                                of someone in its need, declines */
	uint8_t settled;             /* resolve(): 0 not yet, 1 under way, 2 done */
	bool waits;                  /* its author had accepted, before it, an
	                                object this node lacks */
	bool consented;              /* the newcomer and all it needs accept */
	bool wreach;                 /* it or a proposal in the recursion of
	                                its need waits */
	uint32_t tix;                /* its newcomer's interned index (a
	                                SUCCESSION's heir) */
	uint32_t oix;                /* SUCCESSION: the old key's */
	bool author_stale;           /* SUCCESSION: its author had written or
	                                accepted another succession of the
	                                same key first */
	uint32_t nset;               /* how many its consent needs: need(p),
	                                for a REMOVE without its target and
	                                with the extra IDs its body lists */
	size_t child;                /* resolve(): the next of prev, edges */
};

struct derive {
	struct known *k;             /* one per c->props[i] */
	size_t *edges;               /* proposals accepted by the author of
	                                the proposal that owns the run */
	size_t *stack;               /* nprops slots, for resolve() */
};

static void
derive_finish(struct derive *d, size_t n)
{
	for (size_t i = 0; d->k != NULL && i < n; i++)
		free(d->k[i].ans);
	free(d->k);
	free(d->edges);
	free(d->stack);
	memset(d, 0, sizeof *d);
}

static int
grow_answers(struct st_proposal *p, struct known *k, uint32_t cap)
{
	void *q;
	if ((q = realloc(k->ans, cap * sizeof *k->ans)) == NULL)
		return AM_ERR_NOMEM;
	k->ans = q;
	if ((q = realloc(p->accepts, cap * sizeof *p->accepts)) == NULL)
		return AM_ERR_NOMEM;
	p->accepts = q;
	if ((q = realloc(p->declines, cap * sizeof *p->declines)) == NULL)
		return AM_ERR_NOMEM;
	p->declines = q;
	return AM_OK;
}

/* Notes one answer of id to p (rows come by author, then kind). */
static int
note_answer(struct st_proposal *p, struct known *k, const uint8_t *id,
	uint32_t kind, uint64_t seq)
{
	if (k->nans == 0 || memcmp(k->ans[k->nans - 1].id, id, 32) != 0) {
		/* the three lists grow together, at powers of two: none is
		 * longer than the number of people who answered */
		bool full = k->nans == 0 || (k->nans >= 4 && (k->nans & (k->nans - 1)) == 0);
		if (full && grow_answers(p, k, k->nans ? k->nans * 2 : 4) != AM_OK)
			return AM_ERR_NOMEM;
		struct answer *a = &k->ans[k->nans++];
		memset(a, 0, sizeof *a);
		memcpy(a->id, id, 32);
	}
	struct answer *a = &k->ans[k->nans - 1];
	if (kind == AM_KIND_ACCEPT) {
		a->accept = seq;
		memcpy(p->accepts[p->naccepts++], id, 32);
	} else {
		a->decline = seq;
		memcpy(p->declines[p->ndeclines++], id, 32);
	}
	return AM_OK;
}

struct by_hash {
	const uint8_t *hash;
	size_t i;
};

static int
cmp_by_hash(const void *a, const void *b)
{
	return memcmp(((const struct by_hash *)a)->hash,
		((const struct by_hash *)b)->hash, 32);
}

/*
 * Who accepted and who declined each proposal (p->accepts, p->declines,
 * by ID), and when each first did (k->ans), in one pass over the
 * circle's answers: one query per proposal would cost a statement each.
 */
static int
load_answers(struct st_circle *c, struct derive *d)
{
	sqlite3_stmt *st;
	struct by_hash *idx = malloc(c->nprops * sizeof *idx);
	if (idx == NULL)
		return AM_ERR_NOMEM;
	for (size_t i = 0; i < c->nprops; i++)
		idx[i] = (struct by_hash){ c->props[i].hash, i };
	qsort(idx, c->nprops, sizeof *idx, cmp_by_hash);
	int rc = st_prepare(c->db, "SELECT x.ref, f.author, x.kind, MIN(x.seq) "
		"FROM st_facts x JOIN feeds f ON f.id = x.feed "
		"WHERE f.circle = ?1 AND x.kind IN (5, 6) AND x.ref IS NOT NULL "
		"GROUP BY x.ref, f.author, x.kind ORDER BY x.ref, f.author, x.kind", &st);
	if (rc != AM_OK) {
		free(idx);
		return rc;
	}
	sqlite3_bind_blob(st, 1, c->id, 32, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint8_t ref[32], id[32];
		st_col32(st, 0, ref);
		st_col32(st, 1, id);
		struct by_hash key = { ref, 0 }, *at;
		if ((at = bsearch(&key, idx, c->nprops, sizeof *idx, cmp_by_hash)) == NULL)
			continue;
		if (note_answer(&c->props[at->i], &d->k[at->i], id,
		    (uint32_t)sqlite3_column_int(st, 2),
		    (uint64_t)sqlite3_column_int64(st, 3)) != AM_OK) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	st_finish(st);
	free(idx);
	return st_done(rc);
}

static const struct answer *
find_answer(const struct known *k, const uint8_t *id)
{
	size_t lo = 0, hi = k->nans;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = memcmp(k->ans[mid].id, id, 32);
		if (d == 0)
			return &k->ans[mid];
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The one p would let in: a MEMBER's newcomer, a SUCCESSION's heir; a
 * REMOVE has none. */
static const uint8_t *
newcomer(const struct st_proposal *p)
{
	if (p->kind == AM_KIND_MEMBER)
		return p->target;
	return p->kind == AM_KIND_SUCCESSION ? p->heir : NULL;
}

/* Does id's consent to proposal p stand? The proposer's is implicit (its
 * proposal is its first answer); anyone else's is their first answer to
 * p by their own feed, when that is an ACCEPT. Of the successions of one
 * key, each person's first acceptance (or their own SUCCESSION) is the
 * only one that counts. */
static bool
consents(const struct st_proposal *p, const struct known *k, const uint8_t *id)
{
	if (memcmp(id, p->author, 32) == 0)
		return !k->author_stale;
	const struct answer *a = find_answer(k, id);
	if (a == NULL || a->accept == 0 || a->stale)
		return false;
	return a->decline == 0 || a->accept < a->decline;
}

/* Is id's first answer to p a DECLINE? Never the proposer's. */
static bool
declines_first(const struct st_proposal *p, const struct known *k,
	const uint8_t *id)
{
	if (memcmp(id, p->author, 32) == 0)
		return false;
	const struct answer *a = find_answer(k, id);
	return a != NULL && a->decline != 0 && (a->accept == 0 || a->decline < a->accept);
}

static int
cmp_id32(const void *a, const void *b)
{
	return memcmp(a, b, AM_ID_BYTES);
}

/* Is id gone from every need: left, or removed by a removal already
 * found effective? */
static bool
gone(const struct st_circle *c, const uint8_t *id)
{
	return st_left(c, id) != NULL || st_removed(c, id) != NULL;
}

/* Does p's consent need id? need(p); for a REMOVE, never its target, and
 * also the IDs its body lists (protocol/state.md, "Removal"). */
static bool
in_need(const struct st_circle *c, const struct st_proposal *p,
	const uint8_t *id)
{
	if (p->kind == AM_KIND_MEMBER)
		return st_needs(p, id);
	if (memcmp(id, p->target, 32) == 0)
		return false;
	if (st_needs(p, id))
		return true;
	return p->nextra > 0 && !gone(c, id) &&
		bsearch(id, p->extra, p->nextra, sizeof *p->extra, cmp_id32) != NULL;
}

bool
st_consent_needs(const struct st_circle *c, const struct st_proposal *p,
	const uint8_t id[static AM_ID_BYTES])
{
	return in_need(c, p, id);
}

/* How many in_need() holds for: need(p), less a REMOVE's target, plus
 * the listed IDs need(p) lacks. */
static uint32_t
need_size(const struct st_circle *c, const struct st_proposal *p)
{
	uint32_t n = p->nneed;
	if (p->kind == AM_KIND_MEMBER)
		return n;
	if (st_needs(p, p->target))
		n--;
	for (uint32_t i = 0; i < p->nextra; i++)
		if (memcmp(p->extra[i], p->target, 32) != 0 &&
		    !st_needs(p, p->extra[i]) && !gone(c, p->extra[i]))
			n++;
	return n;
}

/* Was id asked to answer p: in p's need with nobody taken out (no
 * refused newcomer, nobody who left or was removed), or listed by a
 * REMOVE? Never the one a REMOVE names. */
static bool
asked(const struct st_circle *c, const struct st_proposal *p,
	const uint8_t *id)
{
	if (p->kind != AM_KIND_MEMBER && memcmp(id, p->target, 32) == 0)
		return false;
	if (st_needs_has(c->asked, p->who, p->rank, id))
		return true;
	return p->kind != AM_KIND_MEMBER && p->nextra > 0 &&
		bsearch(id, p->extra, p->nextra, sizeof *p->extra, cmp_id32) != NULL;
}

/* Was p turned down for good: the first answer to it of its newcomer, or
 * of anyone asked, a DECLINE? Needs need(p) filled. Those asked never
 * shrink as entries arrive (a refusal elsewhere, a departure), so a
 * refusal is never lifted (protocol/state.md, "Who can refuse"). */
static bool
refused(const struct st_circle *c, const struct st_proposal *p,
	const struct known *k)
{
	if (newcomer(p) != NULL && declines_first(p, k, newcomer(p)))
		return true;
	/* only someone who answered can decline: walk the answers, not
	 * need(p), which may be long */
	for (uint32_t j = 0; j < k->nans; j++)
		if (declines_first(p, k, k->ans[j].id) && asked(c, p, k->ans[j].id))
			return true;
	return false;
}

/* Does everyone p's consent needs accept p? The author does (unless they
 * have left, and so are in no need); anyone else needs an answer, so
 * count the answers that consent instead of walking need. */
static bool
all_needed_consent(const struct st_circle *c, const struct st_proposal *p,
	const struct known *k)
{
	uint32_t n = in_need(c, p, p->author) && consents(p, k, p->author) ? 1 : 0;
	for (uint32_t j = 0; j < k->nans; j++)
		if (memcmp(k->ans[j].id, p->author, 32) != 0 &&
		    consents(p, k, k->ans[j].id) && in_need(c, p, k->ans[j].id))
			n++;
	return n == k->nset;
}

/* One proposal in its author's feed, to sort by (author, seq). */
struct feed_key {
	const uint8_t *author;
	uint64_t seq;
	size_t i;
};

static int
cmp_feed_key(const void *a, const void *b)
{
	const struct feed_key *x = a, *y = b;
	int d = memcmp(x->author, y->author, 32);
	if (d != 0)
		return d;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Where, in keys[0..n) (by author, then seq), the first proposal of
 * author written after seq is or would be. */
static size_t
feed_bound(const struct feed_key *keys, size_t n, const uint8_t *author,
	uint64_t seq)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = memcmp(keys[mid].author, author, 32);
		if (d < 0 || (d == 0 && keys[mid].seq <= seq))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The first proposal of author written after seq, in keys[0..n); SIZE_MAX
 * when there is none. */
static size_t
next_proposal(const struct feed_key *keys, size_t n, const uint8_t *author,
	uint64_t seq)
{
	size_t at = feed_bound(keys, n, author, seq);
	if (at < n && memcmp(keys[at].author, author, 32) == 0)
		return keys[at].i;
	return SIZE_MAX;
}

/* The last proposal of author written at or before seq, in keys[0..n);
 * SIZE_MAX when there is none. */
static size_t
last_proposal(const struct feed_key *keys, size_t n, const uint8_t *author,
	uint64_t seq)
{
	size_t at = feed_bound(keys, n, author, seq);
	if (at > 0 && memcmp(keys[at - 1].author, author, 32) == 0)
		return keys[at - 1].i;
	return SIZE_MAX;
}

/* A SUCCESSION by its target, for finding what that target knew. */
struct succ_key {
	const uint8_t *target;
	uint64_t head;
	size_t i;
};

static int
cmp_succ_key(const void *a, const void *b)
{
	const struct succ_key *x = a, *y = b;
	int d = memcmp(x->target, y->target, 32);
	if (d != 0)
		return d;
	return x->i < y->i ? -1 : x->i > y->i;
}

/*
 * Marks the proposals whose author had accepted, before writing them, an
 * object this node does not have: that object may be a member proposal
 * whose newcomer the proposal needs, so it cannot count until the object
 * arrives (had it counted, the object's arrival could undo a join).
 */
static int
load_waits(struct st_circle *c, struct derive *d, const struct feed_key *keys)
{
	sqlite3_stmt *st;
	int rc = st_prepare(c->db, "SELECT MIN(a.seq) FROM feeds af "
		"JOIN st_facts a ON a.feed = af.id "
		"WHERE af.circle = ?1 AND af.author = ?2 AND a.kind = 5 AND a.seq < ?3 "
		"AND NOT EXISTS (SELECT 1 FROM st_facts x JOIN feeds f ON f.id = x.feed "
		"JOIN entries e ON e.feed = x.feed AND e.seq = x.seq "
		"WHERE x.hkey = st_hkey(a.ref) AND e.hash = a.ref AND f.circle = ?1)",
		&st);
	if (rc != AM_OK)
		return rc;
	for (size_t at = 0; at < c->nprops && rc == AM_OK;) {
		size_t end = at + 1;
		while (end < c->nprops && memcmp(keys[end].author, keys[at].author, 32) == 0)
			end++;
		sqlite3_bind_blob(st, 1, c->id, 32, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, keys[at].author, 32, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (int64_t)keys[end - 1].seq);
		if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
				uint64_t first = (uint64_t)sqlite3_column_int64(st, 0);
				for (size_t j = at; j < end; j++)
					d->k[keys[j].i].waits = keys[j].seq > first;
			}
			rc = SQLITE_DONE;
		}
		rc = st_done(rc);
		sqlite3_reset(st);
		at = end;
	}
	st_finish(st);
	return rc;
}

/*
 * Names each author and newcomer by its index in the circle's need sets,
 * and each proposal by its rank among its author's (keys are by author,
 * then seq).
 */
static int
intern(struct st_circle *c, struct derive *d, const struct feed_key *keys)
{
	uint32_t ix, same;
	int rc = st_needs_new(&c->needs);
	if (rc == AM_OK)
		rc = st_needs_new(&c->asked);
	if (rc == AM_OK && (rc = st_needs_id(c->needs, c->creator, &ix)) == AM_OK)
		rc = st_needs_id(c->asked, c->creator, &same);
	/* both sets intern the same IDs in the same order: an index names
	 * the same person in each */
	for (size_t j = 0; rc == AM_OK && j < c->nprops; j++) {
		struct st_proposal *p = &c->props[keys[j].i];
		p->needs = c->needs;
		p->rank = j > 0 && memcmp(keys[j - 1].author, keys[j].author, 32) == 0 ?
			c->props[keys[j - 1].i].rank + 1 : 0;
		const uint8_t *in = newcomer(p) != NULL ? newcomer(p) : p->target;
		if ((rc = st_needs_id(c->needs, p->author, &p->who)) == AM_OK &&
		    (rc = st_needs_id(c->asked, p->author, &same)) == AM_OK &&
		    (rc = st_needs_id(c->needs, p->target, &d->k[keys[j].i].oix)) == AM_OK &&
		    (rc = st_needs_id(c->asked, p->target, &same)) == AM_OK &&
		    (rc = st_needs_id(c->needs, in, &d->k[keys[j].i].tix)) == AM_OK)
			rc = st_needs_id(c->asked, in, &same);
	}
	return rc;
}

struct edge {
	size_t from, to;
};

static int
cmp_edge(const void *a, const void *b)
{
	const struct edge *x = a, *y = b;
	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	return x->to < y->to ? -1 : x->to > y->to;
}

/*
 * What each proposer knew of: its own proposal before (prev), whose need
 * holds everything known before that, and the proposals it accepted
 * since (edges). An accept of q at seq s becomes one edge, from the
 * accepter's first proposal after s.
 */
static int
add_edge(struct edge **e, size_t *n, size_t *cap, size_t from, size_t to)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		void *p = realloc(*e, ncap * sizeof **e);
		if (p == NULL)
			return AM_ERR_NOMEM;
		*e = p;
		*cap = ncap;
	}
	(*e)[(*n)++] = (struct edge){ from, to };
	return AM_OK;
}

static int
link_proposals(struct st_circle *c, struct derive *d)
{
	size_t n = c->nprops, nedges = 0, cap = 0;
	struct feed_key *keys = malloc(n * sizeof *keys);
	struct edge *e = NULL;
	struct succ_key *sk = NULL;
	int rc = AM_ERR_NOMEM;
	if (keys == NULL)
		return rc;
	for (size_t i = 0; i < n; i++)
		keys[i] = (struct feed_key){ c->props[i].author, c->props[i].seq, i };
	qsort(keys, n, sizeof *keys, cmp_feed_key);
	for (size_t j = 0; j < n; j++)
		d->k[keys[j].i].prev = j > 0 &&
			memcmp(keys[j - 1].author, keys[j].author, 32) == 0 ?
			keys[j - 1].i : SIZE_MAX;
	if ((rc = intern(c, d, keys)) != AM_OK)
		goto fail;
	rc = AM_ERR_NOMEM;
	/* a succession also knows what its target knew up to the head it
	 * names (protocol/state.md, "Succession"): the target's last
	 * proposal by then, and what the target had accepted by then */
	size_t nsk = 0;
	for (size_t i = 0; i < n; i++)
		nsk += c->props[i].kind == AM_KIND_SUCCESSION;
	if ((sk = malloc((nsk ? nsk : 1) * sizeof *sk)) == NULL)
		goto fail;
	nsk = 0;
	for (size_t i = 0; i < n; i++) {
		const struct st_proposal *p = &c->props[i];
		if (p->kind != AM_KIND_SUCCESSION)
			continue;
		sk[nsk++] = (struct succ_key){ p->target, p->head, i };
		size_t q = last_proposal(keys, n, p->target, p->head);
		if (q != SIZE_MAX && q != i && add_edge(&e, &nedges, &cap, i, q) != AM_OK)
			goto fail;
	}
	qsort(sk, nsk, sizeof *sk, cmp_succ_key);
	for (size_t q = 0; q < n; q++)
		for (uint32_t a = 0; a < d->k[q].nans; a++) {
			const struct answer *x = &d->k[q].ans[a];
			size_t from;
			if (x->accept == 0)
				continue;
			/* the successions of x's key that name a head at or past
			 * this accept */
			struct succ_key key = { x->id, 0, 0 };
			size_t lo = 0, hi = nsk;
			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;
				if (memcmp(sk[mid].target, key.target, 32) < 0)
					lo = mid + 1;
				else
					hi = mid;
			}
			for (; lo < nsk && memcmp(sk[lo].target, x->id, 32) == 0; lo++)
				if (sk[lo].head >= x->accept && sk[lo].i != q &&
				    add_edge(&e, &nedges, &cap, sk[lo].i, q) != AM_OK)
					goto fail;
			if ((from = next_proposal(keys, n, x->id, x->accept)) == SIZE_MAX)
				continue;
			if (add_edge(&e, &nedges, &cap, from, q) != AM_OK)
				goto fail;
		}
	if (nedges > 1)
		qsort(e, nedges, sizeof *e, cmp_edge);
	if ((d->edges = malloc((nedges ? nedges : 1) * sizeof *d->edges)) == NULL)
		goto fail;
	for (size_t j = 0; j < nedges; j++) {
		struct known *k = &d->k[e[j].from];
		if (k->nedges++ == 0)
			k->edge = j;
		d->edges[j] = e[j].to;
	}
	rc = load_waits(c, d, keys);
fail:
	free(sk);
	free(e);
	free(keys);
	return rc;
}

bool
st_needs(const struct st_proposal *p, const uint8_t id[static AM_ID_BYTES])
{
	return st_needs_has(p->needs, p->who, p->rank, id);
}

int
st_need_list(const struct st_proposal *p, uint8_t (**out)[AM_ID_BYTES],
	size_t *n)
{
	if (p->needs == NULL) {
		*out = NULL;
		*n = 0;
		return AM_OK;
	}
	return st_needs_list(p->needs, p->who, p->nneed, out, n);
}

/* Adds id to need(p) unless id has left or was removed: a person who
 * wrote a LEAVE can answer nothing any more (their later entries are
 * ignored), and one removed is no longer asked, so waiting for them
 * would hold the proposal up for good. */
static int
need_put(struct st_circle *c, const struct st_proposal *p, const uint8_t *id)
{
	int rc = st_needs_add(c->asked, p->who, p->rank, id);
	if (rc != AM_OK || gone(c, id))
		return rc;
	return st_needs_add(c->needs, p->who, p->rank, id);
}

/* Takes into need(i) what i's author knew through proposal q: q's
 * author, q's newcomer unless q is refused (a REMOVE has none), and
 * need(q). */
static int
fold_known(struct st_circle *c, struct derive *d, size_t i, size_t q,
	bool *waits)
{
	const struct st_proposal *p = &c->props[i], *x = &c->props[q];
	const struct known *k = &d->k[q];
	int rc;
	*waits = *waits || k->waits || k->wreach;
	if ((rc = need_put(c, p, x->author)) != AM_OK)
		return rc;
	/* a refused newcomer is still asked: whoever was asked once may
	 * refuse, whatever happens to the proposal that named them */
	if (newcomer(x) != NULL && (rc = k->refused ?
	    st_needs_add(c->asked, p->who, p->rank, newcomer(x)) :
	    need_put(c, p, newcomer(x))) != AM_OK)
		return rc;
	/* need(q) of one of i's author's own earlier proposals is in the
	 * author's list already; one not settled (reached again while being
	 * settled, which no honest record causes) brings only the above */
	if (k->settled != 2)
		return AM_OK;
	if ((rc = st_needs_merge(c->asked, p->who, p->rank, x->who, x->rank)) != AM_OK)
		return rc;
	return st_needs_merge(c->needs, p->who, p->rank, x->who, x->rank);
}

/*
 * Fills need(i) (protocol/state.md, "Membership"): the creator, i's
 * author, and, for every proposal i's author knew of when writing i
 * (its proposal before, prev, and those it accepted since, its edges),
 * that proposal's author, its newcomer unless it was refused, and its
 * need. *waits tells whether i or a proposal in that recursion waits
 * for an object. Needs those proposals settled: their need and whether
 * they are refused.
 */
static int
walk_need(struct st_circle *c, struct derive *d, size_t i, bool *waits)
{
	struct st_proposal *p = &c->props[i];
	const struct known *k = &d->k[i];
	int rc;
	*waits = k->waits;
	if ((rc = need_put(c, p, c->creator)) != AM_OK ||
	    (rc = need_put(c, p, p->author)) != AM_OK)
		return rc;
	if (k->prev != SIZE_MAX && (rc = fold_known(c, d, i, k->prev, waits)) != AM_OK)
		return rc;
	for (size_t j = k->edge; j < k->edge + k->nedges; j++)
		if ((rc = fold_known(c, d, i, d->edges[j], waits)) != AM_OK)
			return rc;
	p->nneed = st_needs_count(c->needs, p->who);
	return AM_OK;
}

/*
 * Settles proposal i: its need, whether it is refused, whether it is
 * consented. need(i) takes out the newcomers of refused proposals its
 * author knew of, and whether those are refused depends on their own
 * need: so the proposals i's author knew of are settled first. Each was
 * written before i (an ACCEPT names a hash that existed), so the walk
 * ends; it keeps its own stack, as bytes from peers decide its depth (a
 * proposal reached again while being settled counts as not refused,
 * which no honest record can cause).
 */
static int
settle(struct st_circle *c, struct derive *d, size_t i)
{
	struct st_proposal *p = &c->props[i];
	struct known *k = &d->k[i];
	bool waits;
	int rc;

	if ((rc = walk_need(c, d, i, &waits)) != AM_OK)
		return rc;
	k->wreach = waits;
	k->nset = need_size(c, p);
	k->refused = p->refused = refused(c, p, k);
	k->consented = !waits && !k->refused &&
		(newcomer(p) == NULL || consents(p, k, newcomer(p))) &&
		all_needed_consent(c, p, k);
	/* completion wins: the author's DECLINE withdraws p only while p
	 * is not consented; it changes nothing of p's need or refusal */
	const struct answer *own = find_answer(k, p->author);
	p->consented = k->consented;
	p->withdrawn = !k->consented && own != NULL && own->decline != 0;
	k->settled = 2;
	return AM_OK;
}

static int
resolve(struct st_circle *c, struct derive *d, size_t root)
{
	size_t top = 0;
	int rc;

	if (d->k[root].settled != 0)
		return AM_OK;
	d->k[root].settled = 1;
	d->k[root].child = 0;
	d->stack[top++] = root;
	while (top > 0) {
		size_t i = d->stack[top - 1], next = SIZE_MAX;
		struct known *k = &d->k[i];
		/* children in order: prev, then the edges */
		while (next == SIZE_MAX && k->child <= k->nedges) {
			size_t at = k->child++;
			size_t q = at == 0 ? k->prev : d->edges[k->edge + at - 1];
			if (q != SIZE_MAX && d->k[q].settled == 0)
				next = q;
		}
		if (next != SIZE_MAX) {
			d->k[next].settled = 1;
			d->k[next].child = 0;
			d->stack[top++] = next;
			continue;
		}
		top--;
		if ((rc = settle(c, d, i)) != AM_OK)
			return rc;
	}
	return AM_OK;
}

/* The MEMBER and REMOVE facts of feed ?1 that count, the first ?2 by
 * seq, with the columns read_proposals() reads. A REMOVE also brings its
 * raw entry (its body names a head and a need) and the time of its
 * author's entry before it (a removal ends agreements like an END of the
 * one removed, dated as a LEAVE is). Each kind is taken in the order of
 * the primary key (feed, kind, seq), at most ?2 of it, and only those
 * are merged: a feed of many MEMBER entries costs the cap, never the
 * feed. */
#define FEED_KIND_SQL(kind) "SELECT * FROM (SELECT e.hash, f.author, " \
	"x.ref, CASE x.kind WHEN 2 THEN st_num(e.raw) ELSE 0 END, x.seq, " \
	"x.time, x.kind, CASE WHEN x.kind IN (14, 17) THEN e.raw END, " \
	"CASE WHEN x.kind IN (14, 17) THEN (SELECT st_time(pe.raw) " \
	"FROM entries pe WHERE pe.feed = x.feed AND pe.seq = x.seq - 1) END " \
	"FROM st_facts x JOIN feeds f ON f.id = x.feed " \
	"JOIN entries e ON e.feed = x.feed AND e.seq = x.seq " \
	"WHERE x.feed = ?1 AND x.kind = " kind " ORDER BY x.seq LIMIT ?2)"
#define FEED_PROPOSALS_SQL FEED_KIND_SQL("2") " UNION ALL " \
	FEED_KIND_SQL("14") " UNION ALL " FEED_KIND_SQL("17") " ORDER BY 5 LIMIT ?2"
/* The seq of the last MEMBER, REMOVE or SUCCESSION of feed ?1 that
 * counts, when there are more than ?2 (then ?3 is ?2 - 1); none
 * otherwise */
#define FEED_CAP_KIND_SQL(kind) "SELECT seq FROM (SELECT seq FROM st_facts " \
	"WHERE feed = ?1 AND kind = " kind " ORDER BY seq LIMIT ?2)"
#define FEED_CAP_SQL FEED_CAP_KIND_SQL("2") " UNION ALL " \
	FEED_CAP_KIND_SQL("14") " UNION ALL " FEED_CAP_KIND_SQL("17") \
	" ORDER BY 1 LIMIT 1 OFFSET ?3"

/* The feeds of the circle, by row id. */
static int
circle_feeds(struct st_circle *c, int64_t **out, size_t *n)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc = st_prepare(c->db, "SELECT id FROM feeds WHERE circle = ?1", &st);
	*out = NULL;
	*n = 0;
	if (rc != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, c->id, AM_HASH_BYTES, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			void *q = realloc(*out, cap * sizeof **out);
			if (q == NULL) {
				rc = SQLITE_NOMEM;
				break;
			}
			*out = q;
		}
		(*out)[(*n)++] = sqlite3_column_int64(st, 0);
	}
	st_finish(st);
	return st_done(rc);
}

static int
cmp_proposal(const void *a, const void *b)
{
	const struct st_proposal *x = a, *y = b;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return memcmp(x->hash, y->hash, 32);
}

/* A REMOVE's head, reason and the IDs its body lists as needed, from its
 * raw entry (its fact was recorded only when the body decoded). */
static int
read_removal(sqlite3_stmt *st, int col, struct st_proposal *p)
{
	struct am_entry e;
	struct am_body *b;
	if (sqlite3_column_type(st, col) != SQLITE_BLOB ||
	    am_entry_decode(sqlite3_column_blob(st, col),
	    (size_t)sqlite3_column_bytes(st, col), &e) != AM_OK)
		return AM_OK;            /* cannot happen: it has a fact */
	if ((b = malloc(sizeof *b)) == NULL)
		return AM_ERR_NOMEM;
	if (am_body_decode(e.kind, e.body, e.body_len, b) == AM_OK) {
		p->head = b->head_seq;
		memcpy(p->heir, b->heir, 32);
		if (b->nneed > 0) {
			if ((p->extra = malloc(b->nneed * sizeof *p->extra)) == NULL) {
				free(b);
				return AM_ERR_NOMEM;
			}
			/* sorted, each once: the decoder refuses anything else */
			memcpy(p->extra, b->need, b->nneed * sizeof *p->extra);
			p->nextra = b->nneed;
		}
		if (b->note.n > 0 &&
		    (p->note = strndup(b->note.p, b->note.n)) == NULL) {
			free(b);
			return AM_ERR_NOMEM;
		}
	}
	free(b);
	return AM_OK;
}

/* Reads the member proposals and removals that count: the first
 * AM_CAP_MEMBER_PROPOSALS of each feed (the others are ignored,
 * sink_capped, and cost nothing more), by (seq, hash). */
static int
read_proposals(struct st_circle *c)
{
	sqlite3_stmt *st;
	int64_t *feeds;
	size_t nfeeds, cap = 0;
	int rc = circle_feeds(c, &feeds, &nfeeds);
	if (rc != AM_OK)
		return rc;
	if ((rc = st_prepare(c->db, FEED_PROPOSALS_SQL, &st)) != AM_OK) {
		free(feeds);
		return rc;
	}
	for (size_t i = 0; i < nfeeds && rc == AM_OK; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, feeds[i]);
		sqlite3_bind_int(st, 2, AM_CAP_MEMBER_PROPOSALS);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (c->nprops == cap) {
				cap = cap ? cap * 2 : 8;
				void *q = realloc(c->props, cap * sizeof *c->props);
				if (q == NULL) {
					rc = SQLITE_NOMEM;
					break;
				}
				c->props = q;
			}
			struct st_proposal *p = &c->props[c->nprops++];
			memset(p, 0, sizeof *p);
			st_col32(st, 0, p->hash);
			st_col32(st, 1, p->author);
			st_col32(st, 2, p->target);
			p->role = (uint32_t)sqlite3_column_int(st, 3);
			p->seq = (uint64_t)sqlite3_column_int64(st, 4);
			p->time = sqlite3_column_int64(st, 5);
			p->kind = (uint32_t)sqlite3_column_int(st, 6);
			p->prev_time = p->time;
			if (sqlite3_column_type(st, 8) == SQLITE_INTEGER) {
				int64_t pt = sqlite3_column_int64(st, 8);
				if (am_state_time_ok(pt) && pt > p->prev_time)
					p->prev_time = pt;
			}
			if ((p->kind == AM_KIND_REMOVE ||
			    p->kind == AM_KIND_SUCCESSION) &&
			    read_removal(st, 7, p) != AM_OK) {
				rc = SQLITE_NOMEM;
				break;
			}
		}
		rc = st_done(rc);
	}
	st_finish(st);
	free(feeds);
	if (rc == AM_OK && c->nprops > 1)
		qsort(c->props, c->nprops, sizeof *c->props, cmp_proposal);
	return rc;
}

/* One act on a succession: its author's writing it, or an accept. */
struct succ_act {
	const uint8_t *who, *key;    /* who acted; the old key it replaces */
	uint64_t seq;                /* in who's feed */
	size_t i;                    /* the succession */
	struct answer *a;            /* the accept; NULL for the author's */
};

static int
cmp_succ_act(const void *a, const void *b)
{
	const struct succ_act *x = a, *y = b;
	int r = memcmp(x->who, y->who, 32);
	if (r == 0)
		r = memcmp(x->key, y->key, 32);
	if (r == 0 && x->seq != y->seq)
		r = x->seq < y->seq ? -1 : 1;
	return r;
}

/*
 * Each person's first acceptance of a succession of one key is final
 * (protocol/state.md, "Succession"): of their SUCCESSIONs and accepts
 * of a SUCCESSION of that key (an accept after their DECLINE of the same
 * one is none), the one with the lowest seq in their own feed counts,
 * the others are stale. Depends on feeds alone.
 */
static int
mark_stale(struct st_circle *c, struct derive *d)
{
	size_t n = 0, cap = 0;
	struct succ_act *v = NULL;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < c->nprops; i++) {
			const struct st_proposal *p = &c->props[i];
			struct known *k = &d->k[i];
			if (p->kind != AM_KIND_SUCCESSION)
				continue;
			if (pass == 0) {
				cap += 1 + k->nans;
				continue;
			}
			v[n++] = (struct succ_act){ p->author, p->target, p->seq, i, NULL };
			/* an accept that follows its author's DECLINE of the
			 * same succession is no acceptance: it is ignored */
			for (uint32_t j = 0; j < k->nans; j++)
				if (k->ans[j].accept != 0 &&
				    (k->ans[j].decline == 0 ||
				    k->ans[j].accept < k->ans[j].decline) &&
				    memcmp(k->ans[j].id, p->author, 32) != 0)
					v[n++] = (struct succ_act){ k->ans[j].id,
						p->target, k->ans[j].accept, i, &k->ans[j] };
		}
		if (pass == 0 && (cap == 0 || (v = malloc(cap * sizeof *v)) == NULL))
			return cap == 0 ? AM_OK : AM_ERR_NOMEM;
	}
	qsort(v, n, sizeof *v, cmp_succ_act);
	int rc = AM_OK;
	for (size_t j = 0; j < n && rc == AM_OK; j++) {
		struct st_proposal *p = &c->props[v[j].i];
		if (j == 0 || memcmp(v[j].who, v[j - 1].who, 32) != 0 ||
		    memcmp(v[j].key, v[j - 1].key, 32) != 0) {
			/* who's first act on this key: it backs p */
			void *q = realloc(p->backers, (p->nbackers + 1) * sizeof *p->backers);
			if (q == NULL)
				rc = AM_ERR_NOMEM;
			else {
				p->backers = q;
				memcpy(p->backers[p->nbackers++], v[j].who, 32);
			}
			continue;
		}
		/* sorted: not the first of who's acts on this key */
		if (v[j].a != NULL)
			v[j].a->stale = true;
		else
			d->k[v[j].i].author_stale = true;
	}
	free(v);
	return rc;
}

bool
st_backed_other(const struct st_circle *c, const uint8_t *id,
	const uint8_t *old, const struct st_proposal *not)
{
	for (size_t i = 0; i < c->nprops; i++) {
		const struct st_proposal *q = &c->props[i];
		if (q == not || q->kind != AM_KIND_SUCCESSION ||
		    memcmp(q->target, old, 32) != 0)
			continue;
		for (uint32_t j = 0; j < q->nbackers; j++)
			if (memcmp(q->backers[j], id, 32) == 0)
				return true;
	}
	return false;
}

static int
load_proposals(struct st_circle *c, struct derive *d)
{
	int rc = read_proposals(c);
	if (rc != AM_OK || c->nprops == 0)
		return rc;
	d->k = calloc(c->nprops, sizeof *d->k);
	d->stack = malloc(c->nprops * sizeof *d->stack);
	if (d->k == NULL || d->stack == NULL)
		return AM_ERR_NOMEM;
	if ((rc = load_answers(c, d)) != AM_OK ||
	    (rc = mark_stale(c, d)) != AM_OK)
		return rc;
	if ((rc = link_proposals(c, d)) != AM_OK)
		return rc;
	for (size_t i = 0; i < c->nprops; i++)
		if ((rc = resolve(c, d, i)) != AM_OK)
			return rc;
	return AM_OK;
}

static struct am_member *
add_member(struct st_circle *c, size_t *cap)
{
	if (c->nmembers == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		void *q = realloc(c->members, *cap * sizeof *c->members);
		if (q == NULL)
			return NULL;
		c->members = q;
	}
	struct am_member *m = &c->members[c->nmembers++];
	memset(m, 0, sizeof *m);
	return m;
}

/* The member an interned ID names, through at (member index + 1 by
 * interned index, 0 for none), while derive_members() runs. */
static struct am_member *
find_member(struct st_circle *c, const uint32_t *at, uint32_t ix)
{
	return at[ix] != 0 ? &c->members[at[ix] - 1] : NULL;
}

static bool
party_member(struct st_circle *c, const uint32_t *at, uint32_t ix)
{
	const struct am_member *m = find_member(c, at, ix);
	return m != NULL && m->status == AM_MEMBER_JOINED && m->role == AM_ROLE_MEMBER;
}

static void
fill_member(struct am_member *m, const struct st_proposal *p, uint32_t status)
{
	memcpy(m->id, newcomer(p), 32);
	m->role = p->role;
	m->status = status;
	if (p->kind == AM_KIND_SUCCESSION)
		memcpy(m->succeeds, p->target, 32);
	memcpy(m->proposal, p->hash, 32);
	memcpy(m->proposer, p->author, 32);
	m->time = p->time;
}

int
st_member_cmp(const void *a, const void *b)
{
	const struct am_member *x = a, *y = b;
	if (x->status != y->status)
		return x->status < y->status ? -1 : 1;
	if (x->creator != y->creator)
		return x->creator ? -1 : 1;
	return memcmp(x->id, y->id, 32);
}

/* Was the SUCCESSION hash found effective (c->heirs, by hash)? */
static bool
succeeded(const struct st_circle *c, const uint8_t *hash)
{
	size_t lo = 0, hi = c->nheirs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = memcmp(c->heirs[mid].hash, hash, 32);
		if (r == 0)
			return true;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* May succession i's heir be waited for: its old key is a joined person
 * whose place no other key took (one who left or was removed still may
 * be replaced, as the succession may still take effect), and its author
 * is that key or a joined member who is not a witness? */
static bool
succession_open(struct st_circle *c, const uint32_t *at, const struct derive *d,
	size_t i)
{
	const struct st_proposal *p = &c->props[i];
	const struct st_depart *r = st_removed(c, p->target);
	return find_member(c, at, d->k[i].oix) != NULL &&
		(r == NULL || r->kind != AM_KIND_SUCCESSION) &&
		memcmp(p->heir, p->target, 32) != 0 &&
		memcmp(p->heir, p->author, 32) != 0 &&
		(memcmp(p->author, p->target, 32) == 0 || party_member(c, at, p->who));
}

/*
 * The joined members of protocol/state.md, "Membership": the least
 * fixpoint of "a proposal that its newcomer and everyone it needs
 * accepted, by a joined member who is not a witness, lets its newcomer
 * in". Whether a proposal is consented does not depend on who has joined
 * (its need is fixed by its author's feed), and joining only ever adds
 * proposers, so more entries can only add members or raise a witness to
 * member: membership never falls back, and no order of passes matters.
 */
static int
derive_members(struct st_circle *c, const struct derive *d)
{
	size_t cap = 0;
	uint32_t creator, nid = 0, *at = NULL;
	bool *joined_by = NULL;
	int rc = AM_ERR_NOMEM;
	struct am_member *m = add_member(c, &cap);
	if (m == NULL)
		return AM_ERR_NOMEM;
	memcpy(m->id, c->creator, 32);
	m->role = AM_ROLE_MEMBER;
	m->status = AM_MEMBER_JOINED;
	m->creator = true;
	m->time = c->created;
	if (c->nprops == 0)
		goto sort;
	/* every author and newcomer is interned (intern()) */
	if ((rc = st_needs_id(c->needs, c->creator, &creator)) != AM_OK)
		return rc;
	for (size_t i = 0; i < c->nprops; i++) {
		nid = c->props[i].who + 1 > nid ? c->props[i].who + 1 : nid;
		nid = d->k[i].tix + 1 > nid ? d->k[i].tix + 1 : nid;
		nid = d->k[i].oix + 1 > nid ? d->k[i].oix + 1 : nid;
	}
	nid = creator + 1 > nid ? creator + 1 : nid;
	rc = AM_ERR_NOMEM;
	if ((at = calloc(nid, sizeof *at)) == NULL ||
	    (joined_by = calloc(nid, sizeof *joined_by)) == NULL)
		goto fail;
	at[creator] = 1;
	for (bool changed = true; changed;) {
		changed = false;
		for (size_t i = 0; i < c->nprops; i++) {
			struct st_proposal *p = &c->props[i];
			if (p->kind == AM_KIND_SUCCESSION) {
				/* the heir of a succession found effective takes
				 * the old key's role (protocol/state.md,
				 * "Succession") */
				const struct am_member *o = find_member(c, at, d->k[i].oix);
				if (o == NULL || !succeeded(c, p->hash))
					continue;
				if ((m = find_member(c, at, d->k[i].tix)) == NULL) {
					if ((m = add_member(c, &cap)) == NULL)
						goto fail;
					p->role = o->role;
					fill_member(m, p, AM_MEMBER_JOINED);
					m->witnessed = o->witnessed;
					at[d->k[i].tix] = (uint32_t)c->nmembers;
					changed = true;
				} else if (!m->creator && m->role != AM_ROLE_MEMBER &&
				    o->role == AM_ROLE_MEMBER) {
					m->role = AM_ROLE_MEMBER;
					changed = true;
				}
				continue;
			}
			if (p->kind != AM_KIND_MEMBER || !d->k[i].consented ||
			    !party_member(c, at, p->who))
				continue;
			if ((m = find_member(c, at, d->k[i].tix)) == NULL) {
				if ((m = add_member(c, &cap)) == NULL)
					goto fail;
				fill_member(m, p, AM_MEMBER_JOINED);
				at[d->k[i].tix] = (uint32_t)c->nmembers;
				changed = true;
			} else if (!m->creator && m->role != AM_ROLE_MEMBER &&
			    p->role == AM_ROLE_MEMBER) {
				m->role = AM_ROLE_MEMBER;
				changed = true;
			}
			/* joined as a witness: made a member later, they stay
			 * one for what they confirmed (st_may_mark) */
			if (p->role == AM_ROLE_WITNESS && !m->creator)
				m->witnessed = true;
		}
	}
	/* each member joined through the first proposal, in (seq, hash)
	 * order, that counts and gives the role they have */
	for (size_t i = 0; i < c->nprops; i++) {
		struct st_proposal *p = &c->props[i];
		uint32_t t = d->k[i].tix;
		if (p->kind == AM_KIND_REMOVE || t == creator || joined_by[t] ||
		    (m = find_member(c, at, t)) == NULL)
			continue;
		if (p->kind == AM_KIND_SUCCESSION) {
			if (succeeded(c, p->hash) && p->role == m->role) {
				fill_member(m, p, AM_MEMBER_JOINED);
				p->done = true;
				joined_by[t] = true;
			}
			continue;
		}
		if (d->k[i].consented && party_member(c, at, p->who) &&
		    p->role == m->role) {
			fill_member(m, p, AM_MEMBER_JOINED);
			p->done = true;
			joined_by[t] = true;
		}
	}
	/* pending: named by a proposal of a joined non-witness member that
	 * is neither refused nor withdrawn, the first such in (seq, hash)
	 * order; nobody is asked to answer what a removed member proposed
	 * past their cut-off */
	for (size_t i = 0; i < c->nprops; i++) {
		struct st_proposal *p = &c->props[i];
		if (p->kind == AM_KIND_REMOVE || p->done || d->k[i].refused ||
		    p->withdrawn || gone(c, newcomer(p)) ||
		    st_cut(c, p->author, p->seq) ||
		    find_member(c, at, d->k[i].tix) != NULL)
			continue;
		if (p->kind == AM_KIND_SUCCESSION ?
		    !succession_open(c, at, d, i) : !party_member(c, at, p->who))
			continue;
		if (p->kind == AM_KIND_SUCCESSION)
			p->role = find_member(c, at, d->k[i].oix)->role;
		if ((m = add_member(c, &cap)) == NULL)
			goto fail;
		fill_member(m, p, AM_MEMBER_PENDING);
		at[d->k[i].tix] = (uint32_t)c->nmembers;
	}
sort:
	qsort(c->members, c->nmembers, sizeof *c->members, st_member_cmp);
	c->members_sorted = true;
	/* who of them has left: still joined here, so that what they wrote
	 * before counts; readers see them as departed */
	for (size_t i = 0; i < c->nleaves; i++) {
		struct st_depart *dp = &c->leaves[i];
		struct am_member *j = (struct am_member *)st_member(c, dp->id);
		if (j == NULL)
			continue;
		dp->joined = true;
		j->departure_kind = dp->kind;
		memcpy(j->departure, dp->hash, 32);
		memcpy(j->departed_by, dp->author, 32);
		j->departed_at = dp->time;
	}
	rc = AM_OK;
fail:
	free(at);
	free(joined_by);
	return rc;
}

/* ---- removals ---- */

static int
cmp_depart(const void *a, const void *b)
{
	const struct st_depart *x = a, *y = b;
	int d = memcmp(x->id, y->id, 32);
	if (d != 0)
		return d;
	/* a removal is the departure of someone also replaced: nothing of
	 * theirs passes to a new key (protocol/state.md, "Succession") */
	if (x->kind != y->kind)
		return x->kind == AM_KIND_REMOVE ? -1 : 1;
	if (x->head != y->head)
		return x->head < y->head ? -1 : 1;
	return memcmp(x->hash, y->hash, 32);
}

/* The first key of the person id is a key of: a joined person who
 * joined through a succession is the person whose key it replaced, and
 * so on back (bounded: a cycle stops). id itself for anyone else. */
static const uint8_t *
person(const struct st_circle *c, const uint8_t *id)
{
	static const uint8_t zero[AM_ID_BYTES];
	const uint8_t *at = id;
	const struct am_member *m;
	for (size_t n = 0; n < c->nmembers && (m = st_member(c, at)) != NULL &&
	    memcmp(m->succeeds, zero, AM_ID_BYTES) != 0; n++)
		at = m->succeeds;
	return at;
}

/* Did a joined person other than p's author and its target (and a
 * SUCCESSION's heir) accept p? Nobody removes anyone, or takes anyone's
 * place, alone: and one person's two keys are one person. */
static bool
another_accepts(const struct st_circle *c, const struct st_proposal *p,
	const struct known *k)
{
	const uint8_t *author = person(c, p->author), *target = person(c, p->target);
	for (uint32_t j = 0; j < k->nans; j++) {
		const uint8_t *id = k->ans[j].id, *who;
		if (st_member(c, id) == NULL || !consents(p, k, id))
			continue;
		who = person(c, id);
		if (memcmp(who, author, 32) != 0 && memcmp(who, target, 32) != 0 &&
		    (p->kind != AM_KIND_SUCCESSION ||
		    (memcmp(id, p->heir, 32) != 0 && memcmp(who, p->heir, 32) != 0)))
			return true;
	}
	return false;
}

/*
 * The removals that take effect with the members derived so far
 * (protocol/state.md, "Removal"): a REMOVE by a joined member who is not
 * a witness, of another joined person, that everyone its consent needs
 * accepted, among them a joined member other than its author and the one
 * removed. Each removed person's departure is the effective REMOVE of
 * the lowest head, then the lower hash. c->removals becomes the union of
 * what it held and these; *grew tells whether someone was added (the
 * caller derives again: their leaving every need can only complete
 * more, so the removals found only grow and the rounds end).
 */
/* Does REMOVE or SUCCESSION p take effect with the members derived so
 * far? */
static bool
takes_effect(const struct st_circle *c, const struct st_proposal *p,
	const struct known *k)
{
	if (p->kind == AM_KIND_MEMBER || !k->consented ||
	    st_member(c, p->target) == NULL || !another_accepts(c, p, k))
		return false;
	if (p->kind == AM_KIND_REMOVE)
		return st_is_party_member(c, p->author) &&
			memcmp(p->author, p->target, 32) != 0;
	/* a SUCCESSION: by the old key itself or a member, to a key that
	 * is neither the old one nor its author's */
	return memcmp(p->heir, p->target, 32) != 0 &&
		memcmp(p->heir, p->author, 32) != 0 &&
		(memcmp(p->author, p->target, 32) == 0 ||
		st_is_party_member(c, p->author));
}

static int
cmp_depart_hash(const void *a, const void *b)
{
	return memcmp(((const struct st_depart *)a)->hash,
		((const struct st_depart *)b)->hash, 32);
}

/* Adds the effective successions to c->heirs (by hash, each once);
 * *grew tells whether one was added. */
static int
add_heirs(struct st_circle *c, const struct st_depart *v, size_t n, bool *grew)
{
	size_t m = c->nheirs;
	struct st_depart *h = realloc(c->heirs, (c->nheirs + n + 1) * sizeof *h);
	if (h == NULL)
		return AM_ERR_NOMEM;
	c->heirs = h;
	for (size_t i = 0; i < n; i++)
		if (v[i].kind == AM_KIND_SUCCESSION && !succeeded(c, v[i].hash))
			h[m++] = v[i];
	qsort(h, m, sizeof *h, cmp_depart_hash);
	*grew = *grew || m > c->nheirs;
	c->nheirs = m;
	return AM_OK;
}

static int
find_removals(struct st_circle *c, const struct derive *d, bool *grew)
{
	size_t n = c->nremovals;
	struct st_depart *v = malloc((c->nremovals + c->nprops + 1) * sizeof *v);
	*grew = false;
	if (v == NULL)
		return AM_ERR_NOMEM;
	if (c->nremovals > 0)
		memcpy(v, c->removals, c->nremovals * sizeof *v);
	for (size_t i = 0; i < c->nprops; i++) {
		struct st_proposal *p = &c->props[i];
		const struct known *k = &d->k[i];
		p->effective = false;
		if (!takes_effect(c, p, k))
			continue;
		p->effective = true;
		struct st_depart *dp = &v[n++];
		memset(dp, 0, sizeof *dp);
		memcpy(dp->id, p->target, 32);
		memcpy(dp->author, p->author, 32);
		memcpy(dp->hash, p->hash, 32);
		memcpy(dp->heir, p->heir, 32);
		dp->kind = p->kind;
		dp->seq = p->seq;
		dp->time = p->time;
		dp->prev_time = p->prev_time;
		dp->head = p->head;
		dp->joined = true;
	}
	int rc = add_heirs(c, v + c->nremovals, n - c->nremovals, grew);
	if (rc != AM_OK) {
		free(v);
		return rc;
	}
	qsort(v, n, sizeof *v, cmp_depart);
	size_t out = 0;
	for (size_t i = 0; i < n; i++)
		if (out == 0 || memcmp(v[out - 1].id, v[i].id, 32) != 0)
			v[out++] = v[i];
	*grew = *grew || out > c->nremovals;
	free(c->removals);
	c->removals = v;
	c->nremovals = out;
	return AM_OK;
}

/* Gives each removal its reason, from the REMOVE that makes it, and
 * marks the removed members departed, unless their own LEAVE came
 * first. */
static int
mark_removals(struct st_circle *c)
{
	for (size_t i = 0; i < c->nremovals; i++) {
		struct st_depart *dp = &c->removals[i];
		for (size_t j = 0; j < c->nprops && dp->note == NULL; j++)
			if (c->props[j].note != NULL &&
			    memcmp(c->props[j].hash, dp->hash, 32) == 0 &&
			    (dp->note = strdup(c->props[j].note)) == NULL)
				return AM_ERR_NOMEM;
		struct am_member *m = (struct am_member *)st_member(c, dp->id);
		if (m == NULL || st_departed(c, dp->id) != dp)
			continue;
		m->departure_kind = dp->kind;
		if (dp->kind == AM_KIND_SUCCESSION)
			memcpy(m->heir, dp->heir, 32);
		memcpy(m->departure, dp->hash, 32);
		memcpy(m->departed_by, dp->author, 32);
		m->departed_at = dp->time;
	}
	return AM_OK;
}

/* Notes one proposal's answers as counted or ignored. */
static int
sink_answers(struct st_circle *c, const struct derive *d, size_t i)
{
	const struct st_proposal *p = &c->props[i];
	struct st_sink *k = c->sink;
	sqlite3_stmt *st;
	int rc = st_prepare(c->db, "SELECT f.author, x.seq, x.kind, e.hash "
		"FROM st_facts x JOIN feeds f ON f.id = x.feed "
		"JOIN entries e ON e.feed = x.feed AND e.seq = x.seq "
		"WHERE x.ref = ?1 AND x.kind IN (5, 6) AND f.circle = ?2 "
		"ORDER BY f.author, x.seq", &st);
	if (rc != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, p->hash, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, c->id, 32, SQLITE_STATIC);
	uint8_t last[32] = { 0 };
	bool counts = false, is_new = false, has_accepted = false, refusal = false;
	bool removal = p->kind == AM_KIND_REMOVE;
	const uint8_t *in = newcomer(p);
	const struct answer *a;
	char why[160];
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint8_t author[32], hash[32];
		st_col32(st, 0, author);
		uint64_t seq = (uint64_t)sqlite3_column_int64(st, 1);
		uint32_t kind = (uint32_t)sqlite3_column_int(st, 2);
		st_col32(st, 3, hash);
		if (memcmp(author, last, 32) != 0) {
			/* rows come by author then seq: the first row of an
			 * author is that author's first answer */
			memcpy(last, author, 32);
			has_accepted = memcmp(author, p->author, 32) == 0;
			is_new = !has_accepted && in != NULL &&
				memcmp(author, in, 32) == 0;
			counts = is_new || st_member(c, author) != NULL ||
				asked(c, p, author);
			/* the newcomer and those asked answer once: their
			 * first answer is final (the one a REMOVE names is
			 * not asked) */
			refusal = ((is_new && !removal) ||
				(!has_accepted && asked(c, p, author))) &&
				kind == AM_KIND_DECLINE;
		}
		bool own = memcmp(author, p->author, 32) == 0;
		const char *what = removal ? "removal" :
			p->kind == AM_KIND_SUCCESSION ? "succession" : "member proposal";
		if (!counts) {
			snprintf(why, sizeof why, "answers a %s without being a "
				"member, %s, or one whose consent it needs", what,
				removal ? "the one it removes" :
				p->kind == AM_KIND_SUCCESSION ? "its new key" :
				"the one proposed");
			st_sink_ignore(k, author, seq, hash, kind, AM_RULE_NOT_MEMBER, why);
		} else if (kind == AM_KIND_DECLINE && own && p->consented) {
			snprintf(why, sizeof why, "withdraws a %s everyone it needs "
				"had accepted: completion wins", what);
			st_sink_ignore(k, author, seq, hash, kind, AM_RULE_ACCEPTED, why);
		} else if (kind == AM_KIND_DECLINE && own) {
			st_sink_seen(k, author, seq);
		} else if (kind == AM_KIND_DECLINE && has_accepted) {
			snprintf(why, sizeof why, "declines a %s its author had "
				"accepted", what);
			st_sink_ignore(k, author, seq, hash, kind, AM_RULE_ACCEPTED, why);
		} else if (kind == AM_KIND_ACCEPT && !own && counts &&
		    p->kind == AM_KIND_SUCCESSION && (a = find_answer(&d->k[i],
		    author)) != NULL && a->stale && a->accept == seq) {
			st_sink_ignore(k, author, seq, hash, kind, AM_RULE_ACCEPTED,
				"accepts a new key for someone after accepting "
				"another: each person's first acceptance per key is final");
		} else if (kind == AM_KIND_ACCEPT && refusal) {
			snprintf(why, sizeof why, "accepts a %s after declining it: "
				"each whose consent it needs answers once", what);
			st_sink_ignore(k, author, seq, hash, kind, AM_RULE_ACCEPTED, why);
		} else
			st_sink_seen(k, author, seq);
		has_accepted = has_accepted || (counts && kind == AM_KIND_ACCEPT && !refusal);
	}
	st_finish(st);
	return st_done(rc);
}

/* Notes the member proposals past their author's cap as ignored. */
static int
sink_capped(struct st_circle *c)
{
	sqlite3_stmt *last = NULL, *st = NULL;
	int64_t *feeds;
	size_t nfeeds;
	int rc = circle_feeds(c, &feeds, &nfeeds);
	if (rc != AM_OK)
		return rc;
	if ((rc = st_prepare(c->db, FEED_CAP_SQL, &last)) != AM_OK ||
	    (rc = st_prepare(c->db, "SELECT e.hash, f.author, x.seq, x.kind "
	    "FROM st_facts x JOIN feeds f ON f.id = x.feed "
	    "JOIN entries e ON e.feed = x.feed AND e.seq = x.seq "
	    "WHERE x.feed = ?1 AND x.kind IN (2, 14, 17) AND x.seq > ?2", &st)) != AM_OK)
		goto out;
	for (size_t i = 0; i < nfeeds && rc == AM_OK; i++) {
		sqlite3_reset(last);
		sqlite3_bind_int64(last, 1, feeds[i]);
		sqlite3_bind_int(last, 2, AM_CAP_MEMBER_PROPOSALS);
		sqlite3_bind_int(last, 3, AM_CAP_MEMBER_PROPOSALS - 1);
		if ((rc = sqlite3_step(last)) != SQLITE_ROW) {
			rc = st_done(rc);
			continue;        /* the cap is not reached */
		}
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, feeds[i]);
		sqlite3_bind_int64(st, 2, sqlite3_column_int64(last, 0));
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			uint8_t author[32], hash[32];
			st_col32(st, 0, hash);
			st_col32(st, 1, author);
			st_sink_ignore(c->sink, author,
				(uint64_t)sqlite3_column_int64(st, 2), hash,
				(uint32_t)sqlite3_column_int(st, 3), AM_RULE_CAP,
				"a member proposal, removal or succession past the "
				"first 256 of its author in this circle");
		}
		rc = st_done(rc);
	}
out:
	st_finish(st);
	st_finish(last);
	free(feeds);
	return rc;
}

/* Notes a REMOVE as counted (effective, or awaiting answers) or
 * ignored; m is the one it names, when a member. */
static void
sink_removal(struct st_circle *c, const struct st_proposal *p,
	const struct am_member *m)
{
	struct st_sink *k = c->sink;
	if (p->effective)
		st_sink_seen(k, p->author, p->seq);
	else if (st_member(c, p->author) == NULL)
		st_sink_ignore(k, p->author, p->seq, p->hash, AM_KIND_REMOVE,
			AM_RULE_NOT_MEMBER, "a removal by someone who is not a member");
	else if (!st_is_party_member(c, p->author))
		st_sink_ignore(k, p->author, p->seq, p->hash, AM_KIND_REMOVE,
			AM_RULE_WITNESS, "a witness cannot propose removing anyone");
	else if (memcmp(p->author, p->target, 32) == 0)
		st_sink_ignore(k, p->author, p->seq, p->hash, AM_KIND_REMOVE,
			AM_RULE_WRONG_TARGET, "removes its own author: leaving is a LEAVE");
	else if (m == NULL)
		st_sink_ignore(k, p->author, p->seq, p->hash, AM_KIND_REMOVE,
			AM_RULE_WRONG_TARGET, "removes someone who is not a member");
	else
		st_sink_seen(k, p->author, p->seq);
}

/* Notes a SUCCESSION as counted (effective, or awaiting answers) or
 * ignored. */
static void
sink_succession(struct st_circle *c, const struct st_proposal *p,
	const struct known *kn, const struct am_member *m)
{
	struct st_sink *k = c->sink;
	bool own = memcmp(p->author, p->target, 32) == 0;
	if (kn->author_stale)
		st_sink_ignore(k, p->author, p->seq, p->hash, AM_KIND_SUCCESSION,
			AM_RULE_ACCEPTED, "proposes a new key for someone after "
			"accepting another: each person's first acceptance per key "
			"is final");
	else if (p->effective)
		st_sink_seen(k, p->author, p->seq);
	else if (st_member(c, p->author) == NULL)
		st_sink_ignore(k, p->author, p->seq, p->hash, AM_KIND_SUCCESSION,
			AM_RULE_NOT_MEMBER, "a succession by someone who is not a member");
	else if (!own && !st_is_party_member(c, p->author))
		st_sink_ignore(k, p->author, p->seq, p->hash, AM_KIND_SUCCESSION,
			AM_RULE_WITNESS, "a witness cannot propose a new key for anyone "
			"but themselves");
	else if (m == NULL)
		st_sink_ignore(k, p->author, p->seq, p->hash, AM_KIND_SUCCESSION,
			AM_RULE_WRONG_TARGET, "replaces the key of someone who is not a member");
	else if (memcmp(p->heir, p->target, 32) == 0)
		st_sink_ignore(k, p->author, p->seq, p->hash, AM_KIND_SUCCESSION,
			AM_RULE_WRONG_TARGET, "replaces a key with itself");
	else if (memcmp(p->heir, p->author, 32) == 0)
		st_sink_ignore(k, p->author, p->seq, p->hash, AM_KIND_SUCCESSION,
			AM_RULE_WRONG_TARGET, "gives someone's place to its own author's key");
	else
		st_sink_seen(k, p->author, p->seq);
}

/* Notes every proposal and removal and every answer to one as counted
 * or ignored, and every LEAVE. */
static int
sink_members(struct st_circle *c, const struct derive *d)
{
	struct st_sink *k = c->sink;
	int rc = sink_capped(c);
	if (rc != AM_OK)
		return rc;
	for (size_t i = 0; i < c->nleaves; i++) {
		const struct st_depart *dp = &c->leaves[i];
		if (dp->joined)
			st_sink_seen(k, dp->author, dp->seq);
		else
			st_sink_ignore(k, dp->author, dp->seq, dp->hash, AM_KIND_LEAVE,
				AM_RULE_NOT_MEMBER, "leaves a circle its author had not joined");
	}
	for (size_t i = 0; i < c->nprops; i++) {
		const struct st_proposal *p = &c->props[i];
		const struct am_member *m = st_member(c, p->target);
		if (p->kind == AM_KIND_REMOVE)
			sink_removal(c, p, m);
		else if (p->kind == AM_KIND_SUCCESSION)
			sink_succession(c, p, &d->k[i], m);
		else if (p->done || (m == NULL && st_is_party_member(c, p->author)))
			st_sink_seen(k, p->author, p->seq);
		else if (st_member(c, p->author) == NULL)
			st_sink_ignore(k, p->author, p->seq, p->hash, AM_KIND_MEMBER,
				AM_RULE_MEMBER, "a member proposal by someone who is not a member");
		else if (!st_is_party_member(c, p->author))
			st_sink_ignore(k, p->author, p->seq, p->hash, AM_KIND_MEMBER,
				AM_RULE_MEMBER, "a witness cannot propose members");
		else
			st_sink_ignore(k, p->author, p->seq, p->hash, AM_KIND_MEMBER,
				AM_RULE_MEMBER, "proposes someone who is already a member");
		rc = sink_answers(c, d, i);
		if (rc != AM_OK)
			return rc;
	}
	return AM_OK;
}

static void
free_proposals(struct st_circle *c)
{
	for (size_t i = 0; i < c->nprops; i++) {
		free(c->props[i].accepts);
		free(c->props[i].declines);
		free(c->props[i].backers);
		free(c->props[i].extra);
		free(c->props[i].note);
	}
	free(c->props);
	c->props = NULL;
	c->nprops = 0;
}

/*
 * Membership and removals (protocol/state.md, "Removal"): derive the
 * members with nobody removed, find the removals that take effect, and
 * derive again with those removed out of every need, until no removal
 * is added. Each round adds someone or is the last, so there are at
 * most as many rounds as REMOVEs, plus one; a circle without an
 * effective removal takes one.
 */
static int
derive_membership(struct st_circle *c, struct derive *d)
{
	int rc;
	for (;;) {
		bool grew;
		if ((rc = load_proposals(c, d)) != AM_OK ||
		    (rc = derive_members(c, d)) != AM_OK ||
		    (rc = find_removals(c, d, &grew)) != AM_OK)
			return rc;
		if (!grew)
			return mark_removals(c);
		derive_finish(d, c->nprops);
		free_proposals(c);
		free(c->members);
		c->members = NULL;
		c->nmembers = 0;
		c->members_sorted = false;
		st_needs_free(&c->needs);
		st_needs_free(&c->asked);
	}
}

int
st_circle_load(sqlite3 *db, const uint8_t circle[static AM_HASH_BYTES],
	struct st_sink *sink, struct st_circle *c)
{
	struct derive d = { 0 };
	int rc;
	memset(c, 0, sizeof *c);
	c->db = db;
	c->sink = sink;
	memcpy(c->id, circle, AM_HASH_BYTES);
	if ((rc = load_genesis(c)) != AM_OK || !c->has_genesis)
		return rc;
	st_sink_seen(sink, c->creator, c->genesis_seq);
	if ((rc = load_leaves(c)) != AM_OK || (rc = derive_membership(c, &d)) != AM_OK)
		goto fail;
	if (sink != NULL && (rc = sink_members(c, &d)) != AM_OK)
		goto fail;
	if ((rc = st_renames(c)) != AM_OK)
		goto fail;
	derive_finish(&d, c->nprops);
	return AM_OK;
fail:
	derive_finish(&d, c->nprops);
	st_circle_finish(c);
	return rc;
}

void
st_circle_finish(struct st_circle *c)
{
	free_proposals(c);
	for (size_t i = 0; i < c->nleaves; i++)
		free(c->leaves[i].note);
	free(c->leaves);
	c->leaves = NULL;
	c->nleaves = 0;
	for (size_t i = 0; i < c->nremovals; i++)
		free(c->removals[i].note);
	free(c->removals);
	free(c->heirs);
	c->removals = NULL;
	c->nremovals = 0;
	free(c->members);
	free(c->name);
	st_needs_free(&c->needs);
	st_needs_free(&c->asked);
	free(c->renamed);
	c->renamed = NULL;
	c->props = NULL;
	c->members = NULL;
	c->name = NULL;
	c->nprops = c->nmembers = 0;
}

/* ---- the circle's name ---- */

struct rename {
	uint8_t hash[AM_HASH_BYTES];
	uint8_t author[AM_ID_BYTES];
	uint8_t base[AM_HASH_BYTES];
	uint64_t seq;
	char *name;
	uint32_t depth;              /* along base, the GENESIS 0; 0 while
	                                it does not count */
};

uint32_t
st_rename_rule(const struct st_circle *c, const uint8_t *author,
	const uint8_t *base, const char **why)
{
	(void)base;
	const struct am_member *m = st_member(c, author);
	if (m == NULL || st_departed(c, author) != NULL) {
		*why = "renames a circle its author is not a member of";
		return AM_RULE_NOT_MEMBER;
	}
	if (m->role != AM_ROLE_MEMBER) {
		*why = "a witness cannot rename the circle";
		return AM_RULE_WITNESS;
	}
	return 0;
}

/*
 * A RENAME counts when its author is a joined member with role member,
 * not departed, and its base is the circle's GENESIS or a RENAME that
 * counts. The circle's name is the name of the deepest one that counts
 * (depth along base), ties to the lower hash; the GENESIS name when none
 * counts (protocol/state.md, "The circle's name"). Depths only grow as
 * the walk goes on, so it ends after at most one pass per RENAME.
 */
int
st_renames(struct st_circle *c)
{
	sqlite3_stmt *st;
	struct rename *v = NULL;
	size_t n = 0, cap = 0;
	int rc = st_prepare(c->db, "SELECT e.hash, f.author, x.ref, x.seq, "
		"st_label(e.raw) FROM st_facts x JOIN feeds f ON f.id = x.feed "
		"JOIN entries e ON e.feed = x.feed AND e.seq = x.seq "
		"WHERE f.circle = ?1 AND x.kind = 15 ORDER BY e.hash", &st);
	if (rc != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, c->id, AM_HASH_BYTES, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 4;
			void *q = realloc(v, cap * sizeof *v);
			if (q == NULL) {
				rc = SQLITE_NOMEM;
				break;
			}
			v = q;
		}
		struct rename *r = &v[n++];
		memset(r, 0, sizeof *r);
		st_col32(st, 0, r->hash);
		st_col32(st, 1, r->author);
		st_col32(st, 2, r->base);
		r->seq = (uint64_t)sqlite3_column_int64(st, 3);
		r->name = st_coltext(st, 4);
	}
	st_finish(st);
	if ((rc = st_done(rc)) != AM_OK)
		goto out;
	for (bool changed = true; changed;) {
		changed = false;
		for (size_t i = 0; i < n; i++) {
			const char *why;
			struct rename *r = &v[i];
			if (r->depth != 0 || r->name == NULL ||
			    st_cut_rule(c, r->author, r->seq, &why) != 0 ||
			    st_rename_rule(c, st_actor(c, r->author, r->seq),
			    r->base, &why) != 0)
				continue;
			uint32_t d = 0;
			if (memcmp(r->base, c->genesis, 32) == 0)
				d = 1;
			for (size_t j = 0; d == 0 && j < n; j++)
				if (v[j].depth != 0 && memcmp(v[j].hash, r->base, 32) == 0)
					d = v[j].depth + 1;
			if (d != 0) {
				r->depth = d;
				changed = true;
			}
		}
	}
	const struct rename *best = NULL;
	for (size_t i = 0; i < n; i++) {
		const struct rename *r = &v[i];
		const char *why;
		uint32_t rule;
		if (r->depth != 0) {
			st_sink_seen(c->sink, r->author, r->seq);
			/* by hash already: the first of the deepest wins */
			if (best == NULL || r->depth > best->depth)
				best = r;
		} else if ((rule = st_cut_rule(c, r->author, r->seq, &why)) != 0 ||
		    (rule = st_rename_rule(c, st_actor(c, r->author, r->seq),
		    r->base, &why)) != 0) {
			st_sink_ignore(c->sink, r->author, r->seq, r->hash,
				AM_KIND_RENAME, rule, why);
		} else {
			bool known = memcmp(r->base, c->genesis, 32) == 0;
			for (size_t j = 0; !known && j < n; j++)
				known = memcmp(v[j].hash, r->base, 32) == 0;
			if (known)
				st_sink_ignore(c->sink, r->author, r->seq, r->hash,
					AM_KIND_RENAME, AM_RULE_WRONG_TARGET,
					"renames from a name that does not count");
			else
				st_sink_ignore(c->sink, r->author, r->seq, r->hash,
					AM_KIND_RENAME, AM_RULE_UNKNOWN_TARGET,
					"renames from a name this node does not have, or "
					"from something that is not the circle's name");
		}
	}
	if (best != NULL) {
		if ((c->renamed = strdup(best->name)) == NULL) {
			rc = AM_ERR_NOMEM;
			goto out;
		}
		memcpy(c->rename, best->hash, 32);
	}
out:
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
	return rc;
}
