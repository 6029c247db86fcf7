/*
 * Deriving an agreement (protocol/state.md, "Agreements and versions" and
 * "Ends"): which versions are valid and how deep, each party's position on
 * each version, the version in force, and which end takes effect when.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"
#include "store_impl.h"

bool
st_in_terms(const struct am_terms *t, const uint8_t id[static AM_ID_BYTES])
{
	for (uint32_t i = 0; i < t->nparties; i++)
		if (memcmp(t->parties[i], id, 32) == 0)
			return true;
	return false;
}

const struct am_signature *
st_sig(const struct am_signature *sigs, uint32_t n,
	const uint8_t id[static AM_ID_BYTES])
{
	for (uint32_t i = 0; i < n; i++)
		if (memcmp(sigs[i].id, id, 32) == 0)
			return &sigs[i];
	return NULL;
}

/* Puts in t, for every party and checker, the key that holds their
 * place now (protocol/state.md, "Succession"). True when that names one
 * person twice: the terms list a key and the key that replaced it. */
static bool
place_terms(const struct st_circle *c, struct am_terms *t)
{
	bool twice = false;
	for (uint32_t i = 0; i < t->nparties; i++)
		memcpy(t->parties[i], st_current(c, t->parties[i]), 32);
	for (uint32_t i = 0; i < t->nby; i++)
		memcpy(t->by[i], st_current(c, t->by[i]), 32);
	for (uint32_t i = 0; i < t->nparties; i++)
		for (uint32_t j = 0; j < i; j++)
			twice = twice || memcmp(t->parties[i], t->parties[j], 32) == 0;
	for (uint32_t i = 0; i < t->nby; i++)
		for (uint32_t j = 0; j < i; j++)
			twice = twice || memcmp(t->by[i], t->by[j], 32) == 0;
	return twice;
}

/* Reads the ACCEPT/DECLINE (or CONFIRM/DISPUTE) answers to target, by
 * author then seq. */
static int
load_acts(struct st_circle *c, const uint8_t *target, bool marks,
	struct st_act **out, size_t *n)
{
	sqlite3_stmt *st;
	struct st_act *v = NULL;
	size_t cap = 0;
	int rc = st_prepare(c->db, marks ?
		"SELECT f.author, x.seq, x.kind, x.time, e.hash, st_note(e.raw) "
		"FROM st_facts x JOIN feeds f ON f.id = x.feed "
		"JOIN entries e ON e.feed = x.feed AND e.seq = x.seq "
		"WHERE x.ref = ?1 AND x.kind IN (9, 10) AND f.circle = ?2 "
		"ORDER BY f.author, x.seq" :
		"SELECT f.author, x.seq, x.kind, x.time, e.hash, st_note(e.raw) "
		"FROM st_facts x JOIN feeds f ON f.id = x.feed "
		"JOIN entries e ON e.feed = x.feed AND e.seq = x.seq "
		"WHERE x.ref = ?1 AND x.kind IN (5, 6) AND f.circle = ?2 "
		"ORDER BY f.author, x.seq", &st);
	*out = NULL;
	*n = 0;
	if (rc != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, target, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, c->id, 32, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			void *q = realloc(v, cap * sizeof *v);
			if (q == NULL) {
				rc = SQLITE_NOMEM;
				break;
			}
			v = q;
		}
		struct st_act *a = &v[(*n)++];
		st_col32(st, 0, a->author);
		a->seq = (uint64_t)sqlite3_column_int64(st, 1);
		memcpy(a->actor, st_actor(c, a->author, a->seq), 32);
		a->kind = (uint32_t)sqlite3_column_int(st, 2);
		a->time = sqlite3_column_int64(st, 3);
		st_col32(st, 4, a->hash);
		a->note = st_coltext(st, 5);
	}
	st_finish(st);
	*out = v;
	return st_done(rc);
}

static void
free_acts(struct st_act *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].note);
	free(v);
}

static bool
in_ids(const uint8_t (*ids)[AM_ID_BYTES], uint32_t n, const uint8_t *id)
{
	for (uint32_t i = 0; i < n; i++)
		if (memcmp(ids[i], id, 32) == 0)
			return true;
	return false;
}

/* Why id may not answer an object whose answers are taken from ids: a
 * rule, or 0 when it may. */
static uint32_t
answer_rule(const struct st_circle *c, const uint8_t (*ids)[AM_ID_BYTES],
	uint32_t nids, const uint8_t *id, const char **why)
{
	const struct am_member *m = st_member(c, id);
	if (m == NULL) {
		*why = "answers terms without being a member of the circle";
		return AM_RULE_NOT_MEMBER;
	}
	if (m->role == AM_ROLE_WITNESS) {
		*why = "a witness cannot accept or decline terms";
		return AM_RULE_WITNESS;
	}
	if (!in_ids(ids, nids, id)) {
		*why = "answers terms its author is not asked to sign";
		return AM_RULE_NOT_PARTY;
	}
	return 0;
}

/*
 * Fills sigs (one per id of ids) from the answers to one version or end:
 * acceptance is final, a decline stands until the same person accepts.
 * author answers implicitly by writing the object.
 */
static void
derive_sigs(struct st_circle *c, const uint8_t (*ids)[AM_ID_BYTES], uint32_t nids,
	const uint8_t *author, const uint8_t *hash, int64_t time,
	struct st_act *acts, size_t nacts, struct am_signature *sigs,
	const struct st_act **withdrawal)
{
	if (withdrawal != NULL)
		*withdrawal = NULL;
	for (uint32_t i = 0; i < nids; i++) {
		struct am_signature *sg = &sigs[i];
		memset(sg, 0, sizeof *sg);
		memcpy(sg->id, ids[i], 32);
		if (memcmp(sg->id, author, 32) == 0) {
			sg->position = AM_POS_ACCEPTED;
			sg->implicit = true;
			sg->time = time;
			memcpy(sg->entry, hash, 32);
		}
	}
	for (size_t i = 0; i < nacts; i++) {
		struct st_act *a = &acts[i];
		const char *why;
		uint32_t rule = st_cut_rule(c, a->author, a->seq, &why);
		if (rule == 0)
			rule = answer_rule(c, ids, nids, a->actor, &why);
		if (rule != 0) {
			st_sink_ignore(c->sink, a->author, a->seq, a->hash, a->kind, rule, why);
			continue;
		}
		struct am_signature *sg = (struct am_signature *)st_sig(sigs, nids,
			a->actor);
		/* a version's author declining it withdraws it; the caller
		 * judges that once it knows whether the version counts */
		if (withdrawal != NULL && sg->implicit && a->kind == AM_KIND_DECLINE) {
			if (*withdrawal == NULL)
				*withdrawal = a;
			continue;
		}
		if (sg->position == AM_POS_ACCEPTED) {
			/* rows come by seq: this answer follows the acceptance */
			if (a->kind == AM_KIND_DECLINE)
				st_sink_ignore(c->sink, a->author, a->seq, a->hash, a->kind,
					AM_RULE_ACCEPTED, "declines what its author had accepted; leaving is an end");
			else
				st_sink_seen(c->sink, a->author, a->seq);
			continue;
		}
		st_sink_seen(c->sink, a->author, a->seq);
		if (sg->position == AM_POS_DECLINED && a->kind == AM_KIND_ACCEPT) {
			/* the decline stood until now: it stays visible */
			sg->was_declined = true;
			sg->declined_time = sg->time;
			memcpy(sg->declined, sg->entry, 32);
			free(sg->declined_note);
			sg->declined_note = sg->note;
			sg->note = NULL;
		}
		sg->position = a->kind == AM_KIND_ACCEPT ? AM_POS_ACCEPTED :
			AM_POS_DECLINED;
		sg->time = a->time;
		memcpy(sg->entry, a->hash, 32);
		free(sg->note);
		sg->note = a->note;
		a->note = NULL;
	}
}

static bool
all_accepted(const struct am_signature *sigs, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (sigs[i].position != AM_POS_ACCEPTED)
			return false;
	return true;
}

static int
load_versions(struct st_circle *c, const uint8_t *id, struct st_agreement *a)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc = st_prepare(c->db, "SELECT e.hash, f.author, x.seq, x.time, x.kind, "
		"NULL, st_body(e.raw) FROM st_facts x JOIN feeds f ON f.id = x.feed "
		"JOIN entries e ON e.feed = x.feed AND e.seq = x.seq "
		"WHERE x.hkey = st_hkey(?1) AND e.hash = ?1 AND x.kind = 3 AND f.circle = ?2 "
		"UNION ALL SELECT e.hash, f.author, x.seq, x.time, x.kind, "
		"st_base(e.raw), st_body(e.raw) FROM st_facts x JOIN feeds f ON f.id = x.feed "
		"JOIN entries e ON e.feed = x.feed AND e.seq = x.seq "
		"WHERE x.ref = ?1 AND x.kind = 4 AND f.circle = ?2 "
		"ORDER BY 1", &st);
	if (rc != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, id, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, c->id, 32, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (a->nversions == cap) {
			cap = cap ? cap * 2 : 4;
			void *q = realloc(a->versions, cap * sizeof *a->versions);
			if (q == NULL) {
				rc = SQLITE_NOMEM;
				break;
			}
			a->versions = q;
		}
		struct st_version *sv = &a->versions[a->nversions];
		memset(sv, 0, sizeof *sv);
		sv->base_ix = SIZE_MAX;
		struct am_version *v = &sv->v;
		st_col32(st, 0, v->hash);
		st_col32(st, 1, v->author);
		sv->seq = (uint64_t)sqlite3_column_int64(st, 2);
		v->time = sqlite3_column_int64(st, 3);
		uint32_t kind = (uint32_t)sqlite3_column_int(st, 4);
		memcpy(v->agreement, id, 32);
		if (kind == AM_KIND_AMEND) {
			v->has_base = true;
			st_col32(st, 5, v->base);
		}
		v->raw_len = (size_t)sqlite3_column_bytes(st, 6);
		if ((v->raw = malloc(v->raw_len ? v->raw_len : 1)) == NULL) {
			rc = SQLITE_NOMEM;
			break;
		}
		memcpy(v->raw, sqlite3_column_blob(st, 6), v->raw_len);
		a->nversions++;
		/* bytes that the store accepted decode; if they do not, the
		 * version simply does not count */
		sv->valid = am_body_decode(kind, v->raw, v->raw_len, &v->body) == AM_OK;
		memcpy(sv->actor, st_actor(c, v->author, sv->seq), 32);
		if (sv->valid)
			sv->replaced = place_terms(c, &v->body.terms);
	}
	st_finish(st);
	return st_done(rc);
}

static struct st_version *
find_version(struct st_agreement *a, const uint8_t *hash)
{
	size_t lo = 0, hi = a->nversions;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int d = memcmp(a->versions[mid].v.hash, hash, 32);
		if (d == 0)
			return &a->versions[mid];
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The rules a version must meet on its own (no base). */
static uint32_t
version_rule(const struct st_circle *c, const struct st_version *sv,
	const char **why)
{
	const struct am_version *v = &sv->v;
	const struct am_terms *t = &v->body.terms;
	const struct am_member *m = st_member(c, sv->actor);
	if (m == NULL) {
		*why = "written by someone who is not a member of the circle";
		return AM_RULE_NOT_MEMBER;
	}
	if (m->role == AM_ROLE_WITNESS) {
		*why = "a witness cannot propose or amend terms";
		return AM_RULE_WITNESS;
	}
	if (!st_in_terms(t, sv->actor)) {
		*why = "its author is not one of its parties";
		return AM_RULE_PARTIES;
	}
	if (sv->replaced) {
		*why = "names one person twice: a key and the key that replaced it";
		return AM_RULE_PARTIES;
	}
	for (uint32_t i = 0; i < t->nparties; i++)
		if (!st_is_party_member(c, t->parties[i])) {
			*why = "names a party who is not a member of the circle, or a witness";
			return AM_RULE_PARTIES;
		}
	return 0;
}

enum { V_TODO, V_BUSY, V_DONE };

/* Depth and validity of every version through its chain of bases,
 * without recursion: a history may hold long chains. */
static int
derive_depths(struct st_circle *c, struct st_agreement *a)
{
	size_t n = a->nversions;
	unsigned char *state = calloc(n ? n : 1, 1);
	size_t *stack = malloc((n ? n : 1) * sizeof *stack);
	int rc = AM_OK;
	if (state == NULL || stack == NULL) {
		rc = AM_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		size_t top = 0;
		if (state[i] == V_DONE)
			continue;
		stack[top++] = i;
		state[i] = V_BUSY;
		while (top > 0) {
			struct st_version *sv = &a->versions[stack[top - 1]];
			struct st_version *base = NULL;
			if (sv->valid && sv->v.has_base) {
				base = find_version(a, sv->v.base);
				if (base != NULL && state[base - a->versions] == V_TODO) {
					state[base - a->versions] = V_BUSY;
					stack[top++] = (size_t)(base - a->versions);
					continue;
				}
			}
			const char *why = NULL;
			uint32_t rule = 0;
			if ((rule = st_cut_rule(c, sv->v.author, sv->seq, &why)) != 0) {
				;
			} else if (!sv->valid) {
				rule = AM_RULE_PARTIES;
				why = "its terms cannot be read";
			} else if ((rule = version_rule(c, sv, &why)) != 0) {
				;
			} else if (sv->v.has_base && base == NULL) {
				rule = AM_RULE_UNKNOWN_TARGET;
				why = "amends a version that is not one of this agreement's";
			} else if (base != NULL && (state[base - a->versions] != V_DONE ||
			    !base->valid)) {
				/* a cycle cannot be signed; an ignored base taints */
				rule = AM_RULE_WRONG_TARGET;
				why = "amends a version that is ignored";
			} else if (base != NULL && !st_in_terms(&base->v.body.terms,
			    sv->actor)) {
				rule = AM_RULE_NOT_PARTY;
				why = "amends an agreement its author is not a party to";
			}
			if (rule != 0) {
				sv->valid = false;
				st_sink_ignore(c->sink, sv->v.author, sv->seq, sv->v.hash,
					sv->v.has_base ? AM_KIND_AMEND : AM_KIND_PROPOSE, rule, why);
			} else {
				sv->v.depth = base ? base->v.depth + 1 : 0;
				sv->base_ix = base ? (size_t)(base - a->versions) : SIZE_MAX;
				st_sink_seen(c->sink, sv->v.author, sv->seq);
			}
			state[stack[--top]] = V_DONE;
		}
	}
out:
	free(state);
	free(stack);
	return rc;
}

static int
cmp_version(const void *a, const void *b)
{
	const struct st_version *x = a, *y = b;
	if (x->v.depth != y->v.depth)
		return x->v.depth < y->v.depth ? -1 : 1;
	return memcmp(x->v.hash, y->v.hash, 32);
}

/*
 * Who must accept a version, and which version is in force
 * (protocol/state.md, "Versions: who must accept, and which is in force").
 * Everything here works on the versions in hash order, by index.
 */

/* One person's signature of a version: its author at its number, anyone
 * else at their first live ACCEPT of it. What a person had signed before
 * signing a version is what they knew of when they signed it. */
/* One person's signing of a version: who is the key that holds their
 * place now; seq orders a person's signings, across the keys a chain of
 * successions gave them (an older key's first, then by the signer's
 * feed); signer and raw are the key that signed and its number. */
struct signing {
	uint8_t who[AM_ID_BYTES];
	uint64_t seq;
	uint8_t signer[AM_ID_BYTES];
	uint64_t raw;
	size_t version;
};

/* A person's order of a signing by signer at raw (protocol/state.md,
 * "Succession"): feeds hold at most 2^20 entries, so the number fits
 * below bit 40 and the age of the key above it. */
static uint64_t
person_order(const struct st_circle *c, const uint8_t *signer, uint64_t raw)
{
	uint32_t hops = st_hops(c, signer);
	uint64_t age = hops > 255 ? 0 : 255 - hops;
	return age << 40 | (raw & ((UINT64_C(1) << 40) - 1));
}

struct derive {
	struct st_circle *c;
	struct st_agreement *a;
	struct st_act **acts;        /* per version, by author then seq */
	size_t *nacts;
	struct signing *sg;          /* by who, then seq */
	size_t nsg;
	size_t *order;               /* valid versions by depth, then hash */
	size_t norder;
};

static int
cmp_signing(const void *x, const void *y)
{
	const struct signing *p = x, *q = y;
	int d = memcmp(p->who, q->who, 32);
	if (d != 0)
		return d;
	return p->seq < q->seq ? -1 : p->seq > q->seq;
}

/* The first signing of who, or d->nsg when none. */
static size_t
first_signing(const struct derive *d, const uint8_t *who)
{
	size_t lo = 0, hi = d->nsg;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (memcmp(d->sg[mid].who, who, 32) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < d->nsg && memcmp(d->sg[lo].who, who, 32) == 0 ? lo : d->nsg;
}

/* who's first signing of version v, or NULL when they did not sign it. */
static const struct signing *
signing_of(const struct derive *d, const uint8_t *who, size_t v)
{
	for (size_t i = first_signing(d, who); i < d->nsg &&
	    memcmp(d->sg[i].who, who, 32) == 0; i++)
		if (d->sg[i].version == v)
			return &d->sg[i];
	return NULL;
}

/* Where, in who's order of signings, who signed version v; 0 when they
 * did not. */
static uint64_t
signed_at(const struct derive *d, const uint8_t *who, size_t v)
{
	const struct signing *g = signing_of(d, who, v);
	return g != NULL ? g->seq : 0;
}

static int
collect_signings(struct derive *d)
{
	struct st_agreement *a = d->a;
	size_t cap = 0;
	for (size_t v = 0; v < a->nversions; v++) {
		const struct st_version *sv = &a->versions[v];
		if (!sv->valid)
			continue;
		for (size_t i = 0; i <= d->nacts[v]; i++) {
			const struct st_act *x = i < d->nacts[v] ? &d->acts[v][i] : NULL;
			/* the author at its number; each other person at their
			 * first ACCEPT (rows come by author, then seq) */
			if (x != NULL && (x->kind != AM_KIND_ACCEPT ||
			    memcmp(x->actor, sv->actor, 32) == 0 ||
			    (d->nsg > 0 && d->sg[d->nsg - 1].version == v &&
			    memcmp(d->sg[d->nsg - 1].who, x->actor, 32) == 0)))
				continue;
			if (d->nsg == cap) {
				cap = cap ? 2 * cap : 16;
				void *q = realloc(d->sg, cap * sizeof *d->sg);
				if (q == NULL)
					return AM_ERR_NOMEM;
				d->sg = q;
			}
			struct signing *g = &d->sg[d->nsg++];
			memcpy(g->who, x ? x->actor : sv->actor, 32);
			memcpy(g->signer, x ? x->author : sv->v.author, 32);
			g->raw = x ? x->seq : sv->seq;
			g->seq = person_order(d->c, g->signer, g->raw);
			g->version = v;
		}
	}
	if (d->nsg > 0)
		qsort(d->sg, d->nsg, sizeof *d->sg, cmp_signing);
	return AM_OK;
}

static int
need_add(struct st_version *sv, const uint8_t *id)
{
	for (uint32_t i = 0; i < sv->nneed; i++)
		if (memcmp(sv->need[i], id, 32) == 0)
			return AM_OK;
	if ((sv->nneed & (sv->nneed - 1)) == 0) {
		void *q = realloc(sv->need, (sv->nneed ? 2 * sv->nneed : 1) *
			sizeof *sv->need);
		if (q == NULL)
			return AM_ERR_NOMEM;
		sv->need = q;
	}
	memcpy(sv->need[sv->nneed++], id, 32);
	return AM_OK;
}

static int
need_add_parties(struct st_version *sv, const struct am_terms *t)
{
	int rc = AM_OK;
	for (uint32_t i = 0; rc == AM_OK && i < t->nparties; i++)
		rc = need_add(sv, t->parties[i]);
	return rc;
}

static int
cmp_id(const void *x, const void *y)
{
	return memcmp(x, y, AM_ID_BYTES);
}

/*
 * need(v): its parties; the parties of each version up its chain of bases,
 * up to and including the nearest one that counts; and, for each person
 * in need(v) who signed v, the parties of every version of the agreement
 * they had signed before. Ancestors come first in depth order, so whether
 * they count is known.
 */
static int
derive_need(struct derive *d, size_t v)
{
	struct st_version *sv = &d->a->versions[v];
	int rc = need_add_parties(sv, &sv->v.body.terms);
	for (size_t b = sv->base_ix; rc == AM_OK && b != SIZE_MAX;
	    b = d->a->versions[b].base_ix) {
		rc = need_add_parties(sv, &d->a->versions[b].v.body.terms);
		if (d->a->versions[b].full)
			break;
	}
	/* the list grows as it is read: each person is looked at once */
	for (uint32_t k = 0; rc == AM_OK && k < sv->nneed; k++) {
		uint64_t at = signed_at(d, sv->need[k], v);
		for (size_t i = first_signing(d, sv->need[k]); rc == AM_OK &&
		    at != 0 && i < d->nsg && memcmp(d->sg[i].who, sv->need[k], 32) == 0 &&
		    d->sg[i].seq < at; i++)
			if (d->sg[i].version != v)
				rc = need_add_parties(sv,
					&d->a->versions[d->sg[i].version].v.body.terms);
	}
	uint32_t np = sv->v.body.terms.nparties;
	if (rc == AM_OK && sv->nneed > np)
		qsort(sv->need + np, sv->nneed - np, sizeof *sv->need, cmp_id);
	return rc;
}

/* Did who, before seq, write a live ACCEPT of an entry this node does not
 * have? It may be a version of the agreement, whose parties would then be
 * in the need of what who signed at seq (rule 3): that version waits. */
static int
accepted_unknown(struct st_circle *c, const uint8_t *who, uint64_t seq,
	bool *yes)
{
	sqlite3_stmt *st;
	int rc = st_prepare(c->db, "SELECT 1 FROM st_facts x "
		"JOIN feeds f ON f.id = x.feed WHERE f.circle = ?1 AND f.author = ?2 "
		"AND x.kind = 5 AND x.seq < ?3 AND NOT EXISTS (SELECT 1 FROM st_facts o "
		"JOIN entries e ON e.feed = o.feed AND e.seq = o.seq "
		"JOIN feeds g ON g.id = o.feed WHERE o.hkey = st_hkey(x.ref) "
		"AND e.hash = x.ref AND g.circle = ?1) LIMIT 1", &st);
	if (rc != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, c->id, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, who, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (int64_t)seq);
	rc = sqlite3_step(st);
	*yes = rc == SQLITE_ROW;
	st_finish(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? AM_OK : am_store_error(rc);
}

/* The positions of everyone v needs; whether v counts. */
static int
derive_positions(struct derive *d, size_t v)
{
	struct st_version *sv = &d->a->versions[v];
	struct am_signature *all = calloc(sv->nneed ? sv->nneed : 1, sizeof *all);
	if (all == NULL)
		return AM_ERR_NOMEM;
	const struct st_act *w;
	derive_sigs(d->c, (const uint8_t (*)[AM_ID_BYTES])sv->need, sv->nneed,
		sv->actor, sv->v.hash, sv->v.time, d->acts[v], d->nacts[v], all,
		&w);
	sv->full = true;
	for (uint32_t i = 0; i < sv->nneed; i++)
		sv->full = sv->full && all[i].position == AM_POS_ACCEPTED;
	/* it waits while a signer accepted, before signing it, an entry
	 * this node does not have yet */
	int rc = AM_OK;
	for (uint32_t i = 0; rc == AM_OK && sv->full && i < sv->nneed; i++) {
		bool waits = false;
		const struct signing *g = signing_of(d, sv->need[i], v);
		if (g != NULL)
			rc = accepted_unknown(d->c, g->signer, g->raw, &waits);
		sv->full = !waits;
	}
	if (rc != AM_OK) {
		st_signatures_free(all, sv->nneed);
		free(all);
		return rc;
	}
	/* completion wins: the author's DECLINEs of a version that counts
	 * change nothing; of one that does not, the first withdraws it */
	if (w != NULL && !sv->full) {
		sv->v.withdrawn = true;
		memcpy(sv->v.withdrawal, w->hash, 32);
	}
	for (size_t i = 0; w != NULL && i < d->nacts[v]; i++) {
		const struct st_act *x = &d->acts[v][i];
		if (x->kind != AM_KIND_DECLINE || memcmp(x->actor, sv->actor, 32) != 0 ||
		    st_cut(d->c, x->author, x->seq))
			continue;
		if (sv->full)
			st_sink_ignore(d->c->sink, x->author, x->seq, x->hash, x->kind,
				AM_RULE_ACCEPTED, "withdraws a version everyone it needs "
				"had accepted: completion wins");
		else
			st_sink_seen(d->c->sink, x->author, x->seq);
	}
	uint32_t np = sv->v.body.terms.nparties;
	sv->v.nsigs = np;
	memcpy(sv->v.sigs, all, np * sizeof *all);
	sv->v.nothers = sv->nneed - np;
	if (sv->v.nothers > 0) {
		sv->v.others = malloc(sv->v.nothers * sizeof *sv->v.others);
		if (sv->v.others == NULL) {
			st_signatures_free(all + np, sv->v.nothers);
			sv->v.nothers = 0;
			free(all);
			return AM_ERR_NOMEM;
		}
		memcpy(sv->v.others, all + np, sv->v.nothers * sizeof *all);
	}
	free(all);
	return AM_OK;
}

static bool
ancestor(const struct st_agreement *a, size_t anc, size_t v)
{
	for (size_t b = a->versions[v].base_ix; b != SIZE_MAX; b = a->versions[b].base_ix)
		if (b == anc)
			return true;
	return false;
}

/*
 * x replaces y (both count): x is not an ancestor of y, and either y is
 * an ancestor of x, or every party of y signed x after signing y: each
 * person bound by y agreed to x knowing y.
 */
static bool
replaces(const struct derive *d, size_t x, size_t y)
{
	const struct st_agreement *a = d->a;
	if (x == y || ancestor(a, x, y))
		return false;
	if (ancestor(a, y, x))
		return true;
	const struct am_terms *t = &a->versions[y].v.body.terms;
	for (uint32_t i = 0; i < t->nparties; i++) {
		uint64_t ay = signed_at(d, t->parties[i], y);
		uint64_t ax = signed_at(d, t->parties[i], x);
		if (ax == 0 || ax <= ay)
			return false;
	}
	return true;
}

/* Greater depth first, then lower hash. */
static bool
newer(const struct st_version *x, const struct st_version *y)
{
	if (x->v.depth != y->v.depth)
		return x->v.depth > y->v.depth;
	return memcmp(x->v.hash, y->v.hash, 32) < 0;
}

/*
 * The version in force: among the versions that count, those that no
 * version outside their own circle of mutual replacement replaces (the
 * maximal ones of the transitive closure of "replaces"), and of those the
 * deepest, then the lower hash.
 */
static int
derive_current(struct derive *d)
{
	struct st_agreement *a = d->a;
	size_t n = 0, *cnt = malloc((d->norder ? d->norder : 1) * sizeof *cnt);
	if (cnt == NULL)
		return AM_ERR_NOMEM;
	for (size_t i = 0; i < d->norder; i++)
		if (a->versions[d->order[i]].full)
			cnt[n++] = d->order[i];
	size_t words = (n + 63) / 64;
	uint64_t *reach = calloc(n > 0 ? n * words : 1, sizeof *reach);
	if (reach == NULL) {
		free(cnt);
		return AM_ERR_NOMEM;
	}
#define REACH(i, j) ((reach[(i) * words + (j) / 64] >> ((j) % 64)) & 1)
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			if (replaces(d, cnt[i], cnt[j]))
				reach[i * words + j / 64] |= (uint64_t)1 << (j % 64);
	/* transitive closure, a row at a time */
	for (size_t k = 0; k < n; k++)
		for (size_t i = 0; i < n; i++)
			if (REACH(i, k))
				for (size_t w = 0; w < words; w++)
					reach[i * words + w] |= reach[k * words + w];
	size_t best = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		bool maximal = true;
		for (size_t j = 0; j < n && maximal; j++)
			maximal = !REACH(j, i) || REACH(i, j);
		if (maximal && (best == SIZE_MAX ||
		    newer(&a->versions[cnt[i]], &a->versions[cnt[best]])))
			best = i;
	}
	if (best != SIZE_MAX)
		a->versions[cnt[best]].current = true;
#undef REACH
	free(reach);
	free(cnt);
	return AM_OK;
}

static int
cmp_order(const void *x, const void *y, void *ctx)
{
	const struct st_agreement *a = ctx;
	const struct st_version *p = &a->versions[*(const size_t *)x];
	const struct st_version *q = &a->versions[*(const size_t *)y];
	if (p->v.depth != q->v.depth)
		return p->v.depth < q->v.depth ? -1 : 1;
	return memcmp(p->v.hash, q->v.hash, 32);
}

static int
derive_versions(struct st_circle *c, struct st_agreement *a)
{
	struct derive d = { .c = c, .a = a };
	size_t n = a->nversions ? a->nversions : 1;
	int rc = AM_OK;
	d.acts = calloc(n, sizeof *d.acts);
	d.nacts = calloc(n, sizeof *d.nacts);
	d.order = malloc(n * sizeof *d.order);
	if (d.acts == NULL || d.nacts == NULL || d.order == NULL) {
		rc = AM_ERR_NOMEM;
		goto out;
	}
	for (size_t v = 0; rc == AM_OK && v < a->nversions; v++)
		if (a->versions[v].valid) {
			d.order[d.norder++] = v;
			rc = load_acts(c, a->versions[v].v.hash, false, &d.acts[v],
				&d.nacts[v]);
		}
	if (rc != AM_OK || (rc = collect_signings(&d)) != AM_OK)
		goto out;
	if (d.norder > 0)
		qsort_r(d.order, d.norder, sizeof *d.order, cmp_order, a);
	for (size_t i = 0; rc == AM_OK && i < d.norder; i++)
		if ((rc = derive_need(&d, d.order[i])) == AM_OK)
			rc = derive_positions(&d, d.order[i]);
	if (rc == AM_OK)
		rc = derive_current(&d);
	/* the status of each: in force, replaced, declined or pending */
	size_t cur = SIZE_MAX;
	for (size_t i = 0; i < d.norder; i++)
		if (a->versions[d.order[i]].current)
			cur = d.order[i];
	for (size_t i = 0; rc == AM_OK && i < d.norder; i++) {
		struct st_version *sv = &a->versions[d.order[i]];
		bool declined = false, gone = cur != SIZE_MAX &&
			(ancestor(a, d.order[i], cur) || (d.order[i] != cur &&
			!ancestor(a, cur, d.order[i]) && replaces(&d, cur, d.order[i])));
		for (uint32_t k = 0; k < sv->v.nsigs; k++)
			declined = declined || sv->v.sigs[k].position == AM_POS_DECLINED;
		for (uint32_t k = 0; k < sv->v.nothers; k++)
			declined = declined || sv->v.others[k].position == AM_POS_DECLINED;
		sv->v.status = sv->current ? AM_VERSION_IN_FORCE :
			sv->full ? AM_VERSION_SUPERSEDED :
			gone ? AM_VERSION_PASSED_OVER :
			declined || sv->v.withdrawn ? AM_VERSION_DECLINED :
			AM_VERSION_PENDING;
	}
out:
	for (size_t v = 0; d.acts != NULL && v < a->nversions; v++)
		free_acts(d.acts[v], d.nacts[v]);
	free(d.acts);
	free(d.nacts);
	free(d.order);
	free(d.sg);
	return rc;
}

const struct am_terms *
st_end_terms(const struct st_agreement *a)
{
	if (a->current != NULL)
		return &a->current->v.body.terms;
	return a->newest != NULL ? &a->newest->v.body.terms : NULL;
}

/* Does end x take effect before y? Those that take effect at once (mutual
 * ends and withdrawals) first, then by effective time, then by hash. */
static bool
earlier(const struct st_end *x, const struct st_end *y)
{
	if (x->at_once != y->at_once)
		return x->at_once;
	if (x->end_at != y->end_at)
		return x->end_at < y->end_at;
	return memcmp(x->hash, y->hash, 32) < 0;
}

int64_t
st_time_add(int64_t t, int64_t d)
{
	if (d > 0 && t > INT64_MAX - d)
		return INT64_MAX;
	if (d < 0 && t < INT64_MIN - d)
		return INT64_MIN;
	return t + d;
}

/*
 * When an END e by one side of the version in force takes effect
 * (protocol/state.md, "Ends"): the notice after the latest of the times
 * its author signed for it, its own claimed time, its author's previous
 * entry in the feed (e->prev_time holds the later of the two) and its
 * author's own signing of the version it ends (writing it, or the first
 * ACCEPT of it). Never another party's time: an accept dated 2099 by
 * someone else does not hold the end until 2099. The sum saturates.
 */
static int64_t
notice_end(const struct st_agreement *a, const struct st_end *e)
{
	const struct am_version *v = &a->current->v;
	const struct am_signature *sg = st_sig(v->sigs, v->nsigs, e->actor);
	int64_t from = e->prev_time;
	if (sg == NULL)
		sg = st_sig(v->others, v->nothers, e->actor);
	if (sg != NULL && sg->position == AM_POS_ACCEPTED && sg->time > from)
		from = sg->time;
	/* notice is at most 315360000 s (protocol/entry.md): no overflow */
	return st_time_add(from, (int64_t)v->body.terms.notice * 1000);
}

static int
derive_ends(struct st_circle *c, struct st_agreement *a)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	const struct am_terms *t = st_end_terms(a);
	int rc = st_prepare(c->db, "SELECT e.hash, f.author, x.seq, x.time, "
		"st_note(e.raw), st_time(p.raw) "
		"FROM st_facts x JOIN feeds f ON f.id = x.feed "
		"JOIN entries e ON e.feed = x.feed AND e.seq = x.seq "
		"LEFT JOIN entries p ON p.feed = x.feed AND p.seq = x.seq - 1 "
		"WHERE x.ref = ?1 AND x.kind = 7 AND f.circle = ?2 "
		"ORDER BY e.hash", &st);
	if (rc != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, a->a.id, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, c->id, 32, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (a->nends == cap) {
			cap = cap ? cap * 2 : 2;
			void *q = realloc(a->ends, cap * sizeof *a->ends);
			if (q == NULL) {
				rc = SQLITE_NOMEM;
				break;
			}
			a->ends = q;
		}
		struct st_end *e = &a->ends[a->nends++];
		memset(e, 0, sizeof *e);
		e->kind = AM_KIND_END;
		st_col32(st, 0, e->hash);
		st_col32(st, 1, e->author);
		e->seq = (uint64_t)sqlite3_column_int64(st, 2);
		memcpy(e->actor, st_actor(c, e->author, e->seq), 32);
		e->time = sqlite3_column_int64(st, 3);
		e->note = st_coltext(st, 4);
		/* the author's previous entry in this feed counts only when
		 * the state reads its time */
		e->prev_time = e->time;
		if (sqlite3_column_type(st, 5) == SQLITE_INTEGER) {
			int64_t pt = sqlite3_column_int64(st, 5);
			if (am_state_time_ok(pt) && pt > e->prev_time)
				e->prev_time = pt;
		}
	}
	st_finish(st);
	if ((rc = st_done(rc)) != AM_OK || t == NULL)
		return rc;
	/* a party who departed ended it alone, with its notice, dated from
	 * their departure (protocol/state.md, "Leaving") */
	for (uint32_t i = 0; i < t->nparties; i++) {
		const struct st_depart *dp = st_departed(c, t->parties[i]);
		if (dp == NULL)
			continue;
		if (a->nends == cap) {
			cap = cap ? cap * 2 : 2;
			void *q = realloc(a->ends, cap * sizeof *a->ends);
			if (q == NULL)
				return AM_ERR_NOMEM;
			a->ends = q;
		}
		struct st_end *e = &a->ends[a->nends++];
		memset(e, 0, sizeof *e);
		e->kind = dp->kind;
		memcpy(e->hash, dp->hash, 32);
		memcpy(e->author, dp->id, 32);
		memcpy(e->actor, dp->id, 32);
		e->seq = dp->seq;
		e->time = dp->time;
		e->prev_time = dp->prev_time;
		e->note = dp->note != NULL ? strdup(dp->note) : NULL;
	}
	for (size_t i = 0; i < a->nends; i++) {
		struct st_end *e = &a->ends[i];
		struct st_act *acts = NULL;
		size_t nacts = 0;
		const char *why;
		if (e->kind != AM_KIND_END) {
			/* nobody answers a departure */
			e->valid = true;
			e->nsigs = t->nparties;
			derive_sigs(c, (const uint8_t (*)[AM_ID_BYTES])t->parties,
				t->nparties, e->actor, e->hash, e->time, NULL, 0, e->sigs,
				NULL);
			goto judged;
		}
		uint32_t rule = st_cut_rule(c, e->author, e->seq, &why);
		if (rule == 0)
			rule = answer_rule(c, (const uint8_t (*)[AM_ID_BYTES])t->parties,
				t->nparties, e->actor, &why);
		if (rule != 0) {
			st_sink_ignore(c->sink, e->author, e->seq, e->hash, AM_KIND_END, rule,
				rule == AM_RULE_NOT_PARTY ?
				"ends an agreement its author is not a party to" : why);
			continue;
		}
		st_sink_seen(c->sink, e->author, e->seq);
		e->valid = true;
		if ((rc = load_acts(c, e->hash, false, &acts, &nacts)) != AM_OK)
			return rc;
		e->nsigs = t->nparties;
		derive_sigs(c, (const uint8_t (*)[AM_ID_BYTES])t->parties, t->nparties,
			e->actor, e->hash, e->time, acts, nacts, e->sigs, NULL);
		free_acts(acts, nacts);
judged:
		e->mutual = all_accepted(e->sigs, e->nsigs);
		if (a->current == NULL) {
			/* nothing in force binds anyone: a withdrawal, at once;
			 * mutual only when every party accepted it */
			e->at_once = true;
			e->end_at = e->time;
		} else if (e->mutual) {
			e->at_once = true;
			e->end_at = e->time;
			for (uint32_t k = 0; k < e->nsigs; k++)
				if (e->sigs[k].time > e->end_at)
					e->end_at = e->sigs[k].time;
		} else {
			e->end_at = notice_end(a, e);
		}
		if (a->end == NULL || earlier(e, a->end))
			a->end = e;
	}
	return AM_OK;
}

static void
fill_public(struct st_agreement *a)
{
	struct am_agreement *p = &a->a;
	const struct st_version *first = NULL;
	for (size_t i = 0; i < a->nversions; i++)
		if (memcmp(a->versions[i].v.hash, p->id, 32) == 0)
			first = &a->versions[i];
	if (first == NULL)
		return;
	memcpy(p->proposer, first->v.author, 32);
	p->proposed = first->v.time;
	p->in_force_ever = a->current != NULL;
	p->has_current = a->current != NULL;
	if (a->current)
		memcpy(p->current, a->current->v.hash, 32);
	memcpy(p->newest, a->newest->v.hash, 32);
	const struct am_terms *t = st_end_terms(a);
	p->title = strndup(t->title.p, t->title.n);
	if (a->end != NULL) {
		p->has_end = true;
		p->end_kind = a->end->kind;
		memcpy(p->end, a->end->hash, 32);
		memcpy(p->ended_by, a->end->author, 32);
		p->end_mutual = a->end->mutual;
		p->end_at = a->end->end_at;
		p->end_reason = a->end->note ? strdup(a->end->note) : NULL;
	}
}

int
st_agreement_load(struct st_circle *c, const uint8_t id[static AM_HASH_BYTES],
	struct st_agreement *a)
{
	int rc;
	memset(a, 0, sizeof *a);
	memcpy(a->a.id, id, 32);
	memcpy(a->a.circle, c->id, 32);
	if ((rc = load_versions(c, id, a)) != AM_OK ||
	    (rc = derive_depths(c, a)) != AM_OK)
		goto fail;
	const struct st_version *first = find_version(a, id);
	if (first == NULL || !first->valid)
		return AM_OK;
	a->valid = true;
	if ((rc = derive_versions(c, a)) != AM_OK)
		goto fail;
	if (a->nversions > 0)
		qsort(a->versions, a->nversions, sizeof *a->versions, cmp_version);
	for (size_t i = 0; i < a->nversions; i++) {
		struct st_version *sv = &a->versions[i];
		if (!sv->valid)
			continue;
		a->a.nversions++;
		if (sv->current)
			a->current = sv;
		if (a->newest == NULL || newer(sv, a->newest))
			a->newest = sv;
	}
	/* what to amend: the version in force, else the deepest */
	if (a->current != NULL)
		a->newest = a->current;
	if ((rc = derive_ends(c, a)) != AM_OK)
		goto fail;
	fill_public(a);
	if (a->a.title == NULL || (a->end && a->end->note && !a->a.end_reason)) {
		rc = AM_ERR_NOMEM;
		goto fail;
	}
	return AM_OK;
fail:
	st_agreement_finish(a);
	return rc;
}

void
st_agreement_finish(struct st_agreement *a)
{
	for (size_t i = 0; i < a->nversions; i++) {
		st_signatures_free(a->versions[i].v.sigs, a->versions[i].v.nsigs);
		st_signatures_free(a->versions[i].v.others, a->versions[i].v.nothers);
		free(a->versions[i].v.others);
		free(a->versions[i].need);
		free(a->versions[i].v.raw);
	}
	for (size_t i = 0; i < a->nends; i++) {
		st_signatures_free(a->ends[i].sigs, a->ends[i].nsigs);
		free(a->ends[i].note);
	}
	free(a->versions);
	free(a->ends);
	free(a->a.title);
	free(a->a.end_reason);
	memset(a, 0, sizeof *a);
}

uint32_t
st_agreement_status(const struct st_agreement *a, int64_t now)
{
	if (a->end != NULL)
		return a->end->at_once || now >= a->end->end_at ?
			AM_AGREEMENT_ENDED : AM_AGREEMENT_ENDING;
	if (a->current != NULL)
		return AM_AGREEMENT_IN_FORCE;
	for (size_t i = 0; i < a->nversions; i++)
		if (a->versions[i].valid &&
		    a->versions[i].v.status != AM_VERSION_DECLINED)
			return AM_AGREEMENT_PROPOSED;
	return AM_AGREEMENT_DECLINED;
}

bool
st_may_checkin(const struct st_agreement *a, const uint8_t id[static AM_ID_BYTES])
{
	for (size_t i = 0; i < a->nversions; i++) {
		const struct st_version *sv = &a->versions[i];
		const struct am_terms *t = &sv->v.body.terms;
		if (!sv->valid || !sv->full)
			continue;
		if (t->nby == 0 && st_in_terms(t, id))
			return true;
		for (uint32_t k = 0; k < t->nby; k++)
			if (memcmp(t->by[k], id, 32) == 0)
				return true;
	}
	return false;
}

bool
st_may_mark(const struct st_circle *c, const struct st_agreement *a,
	const uint8_t id[static AM_ID_BYTES])
{
	const struct am_member *m = st_member(c, id);
	if (m == NULL)
		return false;
	/* a witness made a member later is still a witness of what they
	 * confirmed: raising someone must not undo their answers */
	if (m->role == AM_ROLE_WITNESS || m->witnessed)
		return true;
	for (size_t i = 0; i < a->nversions; i++)
		if (a->versions[i].valid && a->versions[i].full &&
		    st_in_terms(&a->versions[i].v.body.terms, id))
			return true;
	return false;
}

int
st_proposals(sqlite3 *db, const uint8_t circle[static AM_HASH_BYTES],
	uint8_t (**out)[AM_HASH_BYTES], size_t *n)
{
	sqlite3_stmt *st;
	uint8_t (*v)[32] = NULL;
	size_t cap = 0;
	int rc = st_prepare(db, "SELECT e.hash FROM st_facts x JOIN feeds f ON f.id = x.feed "
		"JOIN entries e ON e.feed = x.feed AND e.seq = x.seq "
		"WHERE f.circle = ?1 AND x.kind = 3 ORDER BY e.hash", &st);
	*out = NULL;
	*n = 0;
	if (rc != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, circle, 32, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			void *q = realloc(v, cap * sizeof *v);
			if (q == NULL) {
				rc = SQLITE_NOMEM;
				break;
			}
			v = q;
		}
		st_col32(st, 0, v[(*n)++]);
	}
	st_finish(st);
	*out = v;
	if ((rc = st_done(rc)) != AM_OK) {
		free(v);
		*out = NULL;
		*n = 0;
	}
	return rc;
}
