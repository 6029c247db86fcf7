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

static int
load_genesis(struct st_circle *c)
{
	sqlite3_stmt *st;
	int rc = st_prepare(c->db, "SELECT hash, author, seq, time, label "
		"FROM st_objects WHERE circle = ?1 AND kind = 1 AND ref = ?1 "
		"ORDER BY seq LIMIT 1", &st);
	if (rc != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, c->id, AM_HASH_BYTES, SQLITE_STATIC);
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

/* The distinct authors of ACCEPTs (or DECLINEs) of a proposal. */
static int
load_answerers(sqlite3 *db, const uint8_t *circle, const uint8_t *hash,
	uint32_t kind, uint8_t (**ids)[AM_ID_BYTES], uint32_t *n)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc = st_prepare(db, "SELECT DISTINCT author FROM st_acts "
		"WHERE target = ?1 AND circle = ?2 AND kind = ?3 ORDER BY author", &st);
	if (rc != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, circle, 32, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, (int)kind);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 4;
			void *q = realloc(*ids, cap * sizeof **ids);
			if (q == NULL) {
				st_finish(st);
				return AM_ERR_NOMEM;
			}
			*ids = q;
		}
		st_col32(st, 0, (*ids)[(*n)++]);
	}
	st_finish(st);
	return st_done(rc);
}

static int
load_proposals(struct st_circle *c)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc = st_prepare(c->db, "SELECT hash, author, ref, num, seq, time "
		"FROM st_objects WHERE circle = ?1 AND kind = 2 ORDER BY seq, hash", &st);
	if (rc != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, c->id, AM_HASH_BYTES, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (c->nprops == cap) {
			cap = cap ? cap * 2 : 8;
			void *q = realloc(c->props, cap * sizeof *c->props);
			if (q == NULL) {
				st_finish(st);
				return AM_ERR_NOMEM;
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
	}
	st_finish(st);
	if ((rc = st_done(rc)) != AM_OK)
		return rc;
	for (size_t i = 0; i < c->nprops; i++) {
		struct st_proposal *p = &c->props[i];
		if ((rc = load_answerers(c->db, c->id, p->hash, AM_KIND_ACCEPT,
		    &p->accepts, &p->naccepts)) != AM_OK ||
		    (rc = load_answerers(c->db, c->id, p->hash, AM_KIND_DECLINE,
		    &p->declines, &p->ndeclines)) != AM_OK)
			return rc;
	}
	return AM_OK;
}

static bool
accepted_by(const struct st_proposal *p, const uint8_t *id)
{
	if (memcmp(p->author, id, 32) == 0)
		return true;
	for (uint32_t i = 0; i < p->naccepts; i++)
		if (memcmp(p->accepts[i], id, 32) == 0)
			return true;
	return false;
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

/* Can p complete with the members joined so far? */
static bool
completes(const struct st_circle *c, const struct st_proposal *p)
{
	if (!st_is_party_member(c, p->author) || st_member(c, p->target) != NULL)
		return false;
	if (!accepted_by(p, p->target))
		return false;
	for (size_t i = 0; i < c->nmembers; i++)
		if (c->members[i].status == AM_MEMBER_JOINED &&
		    !accepted_by(p, c->members[i].id))
			return false;
	return true;
}

static void
fill_member(struct am_member *m, const struct st_proposal *p, uint32_t status)
{
	memcpy(m->id, p->target, 32);
	m->role = p->role;
	m->status = status;
	memcpy(m->proposal, p->hash, 32);
	memcpy(m->proposer, p->author, 32);
	m->time = p->time;
}

static int
cmp_member(const void *a, const void *b)
{
	const struct am_member *x = a, *y = b;
	if (x->status != y->status)
		return x->status < y->status ? -1 : 1;
	if (x->creator != y->creator)
		return x->creator ? -1 : 1;
	return memcmp(x->id, y->id, 32);
}

/* The fixpoint of protocol/state.md, "Membership": passes over the
 * proposals, by their author's feed number then hash, until one pass
 * changes nothing. Feed numbers order one proposer's proposals as that
 * proposer wrote them, so a member proposed second must be accepted by
 * the one proposed first once that one has joined. */
static int
derive_members(struct st_circle *c)
{
	size_t cap = 0;
	struct am_member *m = add_member(c, &cap);
	if (m == NULL)
		return AM_ERR_NOMEM;
	memcpy(m->id, c->creator, 32);
	m->role = AM_ROLE_MEMBER;
	m->status = AM_MEMBER_JOINED;
	m->creator = true;
	m->time = c->created;
	for (bool changed = true; changed;) {
		changed = false;
		for (size_t i = 0; i < c->nprops; i++) {
			struct st_proposal *p = &c->props[i];
			if (p->done || !completes(c, p))
				continue;
			if ((m = add_member(c, &cap)) == NULL)
				return AM_ERR_NOMEM;
			fill_member(m, p, AM_MEMBER_JOINED);
			p->done = true;
			changed = true;
		}
	}
	/* pending: named by a proposal of a joined non-witness member, the
	 * first such proposal in the same order */
	for (size_t i = 0; i < c->nprops; i++) {
		struct st_proposal *p = &c->props[i];
		bool named = false;
		if (p->done || !st_is_party_member(c, p->author))
			continue;
		for (size_t k = 0; k < c->nmembers; k++)
			named = named || memcmp(c->members[k].id, p->target, 32) == 0;
		if (named)
			continue;
		if ((m = add_member(c, &cap)) == NULL)
			return AM_ERR_NOMEM;
		fill_member(m, p, AM_MEMBER_PENDING);
	}
	qsort(c->members, c->nmembers, sizeof *c->members, cmp_member);
	return AM_OK;
}

/* Notes every proposal and every answer to one as counted or ignored. */
static int
sink_members(struct st_circle *c)
{
	struct st_sink *k = c->sink;
	for (size_t i = 0; i < c->nprops; i++) {
		const struct st_proposal *p = &c->props[i];
		const struct am_member *m = NULL;
		for (size_t j = 0; j < c->nmembers; j++)
			if (memcmp(c->members[j].proposal, p->hash, 32) == 0)
				m = &c->members[j];
		if (m != NULL)
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

		sqlite3_stmt *st;
		int rc = st_prepare(c->db, "SELECT author, seq, kind, hash FROM st_acts "
			"WHERE target = ?1 AND circle = ?2 AND kind IN (5, 6) "
			"ORDER BY author, seq", &st);
		if (rc != AM_OK)
			return rc;
		sqlite3_bind_blob(st, 1, p->hash, 32, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, c->id, 32, SQLITE_STATIC);
		uint8_t last[32] = { 0 };
		bool has_accepted = false;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			uint8_t author[32], hash[32];
			st_col32(st, 0, author);
			uint64_t seq = (uint64_t)sqlite3_column_int64(st, 1);
			uint32_t kind = (uint32_t)sqlite3_column_int(st, 2);
			st_col32(st, 3, hash);
			if (memcmp(author, last, 32) != 0) {
				memcpy(last, author, 32);
				has_accepted = memcmp(author, p->author, 32) == 0;
			}
			bool member = st_member(c, author) != NULL ||
				memcmp(author, p->target, 32) == 0;
			if (!member)
				st_sink_ignore(k, author, seq, hash, kind, AM_RULE_NOT_MEMBER,
					"answers a member proposal without being a member or the one proposed");
			else if (kind == AM_KIND_DECLINE && has_accepted)
				/* rows come by author then seq: only an accept
				 * with a lower number makes a decline final */
				st_sink_ignore(k, author, seq, hash, kind, AM_RULE_ACCEPTED,
					"declines a member proposal its author had accepted");
			else
				st_sink_seen(k, author, seq);
			has_accepted = has_accepted || (member && kind == AM_KIND_ACCEPT);
		}
		st_finish(st);
		if ((rc = st_done(rc)) != AM_OK)
			return rc;
	}
	return AM_OK;
}

int
st_circle_load(sqlite3 *db, const uint8_t circle[static AM_HASH_BYTES],
	struct st_sink *sink, struct st_circle *c)
{
	int rc;
	memset(c, 0, sizeof *c);
	c->db = db;
	c->sink = sink;
	memcpy(c->id, circle, AM_HASH_BYTES);
	if ((rc = load_genesis(c)) != AM_OK || !c->has_genesis)
		return rc;
	st_sink_seen(sink, c->creator, c->genesis_seq);
	if ((rc = load_proposals(c)) != AM_OK || (rc = derive_members(c)) != AM_OK)
		goto fail;
	if (sink != NULL && (rc = sink_members(c)) != AM_OK)
		goto fail;
	return AM_OK;
fail:
	st_circle_finish(c);
	return rc;
}

void
st_circle_finish(struct st_circle *c)
{
	for (size_t i = 0; i < c->nprops; i++) {
		free(c->props[i].accepts);
		free(c->props[i].declines);
	}
	free(c->props);
	free(c->members);
	free(c->name);
	c->props = NULL;
	c->members = NULL;
	c->name = NULL;
	c->nprops = c->nmembers = 0;
}
