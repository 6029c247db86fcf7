/*
 * The readers of the shared state: circles, members, agreements, versions,
 * check-ins, statements and what awaits a signature. Each runs in one read
 * transaction, derives what it needs through state_derive.c and
 * state_checkin.c, and hands the caller malloc'd copies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amends/state.h"
#include "state.h"
#include "store_impl.h"

/* ---- circles and members ---- */

static int
all_circles(sqlite3 *db, uint8_t (**out)[32], size_t *n)
{
	sqlite3_stmt *st;
	uint8_t (*v)[32] = NULL;
	size_t cap = 0;
	int rc = st_prepare(db, "SELECT DISTINCT f.circle FROM feeds f "
		"JOIN st_facts x ON x.feed = f.id AND x.kind = 1 "
		"WHERE x.ref = f.circle AND x.time >= ?1 AND x.time < ?2 "
		"ORDER BY f.circle", &st);
	*n = 0;
	if (rc != AM_OK)
		return rc;
	/* a genesis claiming a time outside the bounds creates nothing */
	sqlite3_bind_int64(st, 1, AM_TIME_MIN);
	sqlite3_bind_int64(st, 2, AM_TIME_MAX);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			void *p = realloc(v, cap * sizeof *v);
			if (p == NULL) {
				st_finish(st);
				free(v);
				return AM_ERR_NOMEM;
			}
			v = p;
		}
		st_col32(st, 0, v[(*n)++]);
	}
	st_finish(st);
	if ((rc = st_done(rc)) != AM_OK) {
		free(v);
		return rc;
	}
	*out = v;
	return AM_OK;
}

static const struct am_member *
any_member(const struct st_circle *c, const uint8_t *id)
{
	for (size_t i = 0; i < c->nmembers; i++)
		if (memcmp(c->members[i].id, id, AM_ID_BYTES) == 0)
			return &c->members[i];
	return NULL;
}

int
am_state_circles(struct am_store *s, const uint8_t *id,
	struct am_circle_info **out, size_t *n)
{
	sqlite3 *db = am_store_sqlite(s);
	uint8_t (*ids)[32] = NULL;
	size_t nids = 0, k = 0;
	struct am_circle_info *v = NULL;
	bool began = st_read_begin(db);
	int rc = all_circles(db, &ids, &nids);

	*out = NULL;
	*n = 0;
	if (rc != AM_OK)
		goto out;
	if (nids > 0 && (v = calloc(nids, sizeof *v)) == NULL) {
		rc = AM_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < nids; i++) {
		struct st_circle c;
		if ((rc = st_circle_load(db, ids[i], NULL, &c)) != AM_OK)
			goto out;
		const struct am_member *m = id ? any_member(&c, id) : NULL;
		if (c.has_genesis && (id == NULL || m != NULL)) {
			struct am_circle_info *ci = &v[k++];
			memcpy(ci->id, c.id, 32);
			memcpy(ci->creator, c.creator, 32);
			memcpy(ci->genesis, c.genesis, 32);
			ci->created = c.created;
			ci->name = c.name;
			c.name = NULL;
			ci->role = m ? m->role : 0;
			ci->status = m == NULL ? 0 : m->departure_kind != 0 ?
				AM_MEMBER_DEPARTED : m->status;
		}
		st_circle_finish(&c);
	}
	*out = v;
	*n = k;
	v = NULL;
out:
	st_read_end(db, began);
	free(ids);
	am_state_circles_free(&v, k);
	return rc;
}

void
am_state_circles_free(struct am_circle_info **list, size_t n)
{
	if (*list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free((*list)[i].name);
	free(*list);
	*list = NULL;
}

/* The members as readers see them: the departed are no longer members,
 * and are listed last, as such. */
static void
public_members(struct st_circle *c)
{
	for (size_t i = 0; i < c->nmembers; i++)
		if (c->members[i].departure_kind != 0)
			c->members[i].status = AM_MEMBER_DEPARTED;
	qsort(c->members, c->nmembers, sizeof *c->members, st_member_cmp);
}

int
am_state_members(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES],
	struct am_member **out, size_t *n)
{
	sqlite3 *db = am_store_sqlite(s);
	struct st_circle c;
	bool began = st_read_begin(db);
	/* kept from the last call while the database is as it was then, read
	 * and kept in the same read transaction as the derivation, in the
	 * form given out */
	if (st_memo_members(db, circle, out, n) == AM_OK) {
		st_read_end(db, began);
		return AM_OK;
	}
	int rc = st_circle_load(db, circle, NULL, &c);
	if (rc == AM_OK && c.has_genesis) {
		public_members(&c);
		st_memo_members_put(db, circle, c.members, c.nmembers);
	}
	st_read_end(db, began);
	*out = NULL;
	*n = 0;
	if (rc != AM_OK)
		return rc;
	if (!c.has_genesis) {
		st_circle_finish(&c);
		return AM_ERR_NOT_FOUND;
	}
	*out = c.members;
	*n = c.nmembers;
	c.members = NULL;
	c.nmembers = 0;
	st_circle_finish(&c);
	return AM_OK;
}

int
am_state_circle_name(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES], char **name,
	uint8_t entry[static AM_HASH_BYTES])
{
	sqlite3 *db = am_store_sqlite(s);
	struct st_circle c;
	bool began = st_read_begin(db);
	int rc = st_circle_load(db, circle, NULL, &c);
	st_read_end(db, began);
	*name = NULL;
	if (rc != AM_OK)
		return rc;
	if (!c.has_genesis) {
		st_circle_finish(&c);
		return AM_ERR_NOT_FOUND;
	}
	if (c.renamed != NULL) {
		*name = c.renamed;
		c.renamed = NULL;
		memcpy(entry, c.rename, 32);
	} else {
		*name = c.name;
		c.name = NULL;
		memcpy(entry, c.genesis, 32);
	}
	st_circle_finish(&c);
	return AM_OK;
}

int
am_state_member_role(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t id[static AM_ID_BYTES], uint32_t *role)
{
	sqlite3 *db = am_store_sqlite(s);
	struct st_circle c;
	bool began = st_read_begin(db);
	int rc = st_circle_load(db, circle, NULL, &c);
	st_read_end(db, began);
	if (rc != AM_OK)
		return rc;
	const struct am_member *m = st_member(&c, id);
	if (m != NULL && m->departure_kind != 0)
		m = NULL;
	if (m != NULL && role != NULL)
		*role = m->role;
	rc = m != NULL ? AM_OK : AM_ERR_NOT_MEMBER;
	st_circle_finish(&c);
	return rc;
}

int
am_state_named(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t id[static AM_ID_BYTES], bool *named)
{
	sqlite3 *db = am_store_sqlite(s);
	struct st_circle c;
	bool began = st_read_begin(db);
	int rc = st_circle_load(db, circle, NULL, &c);
	st_read_end(db, began);
	*named = false;
	if (rc != AM_OK)
		return rc;
	if (st_departed(&c, id) == NULL) {
		*named = st_member(&c, id) != NULL;
		for (size_t i = 0; i < c.nprops && !*named; i++) {
			const struct st_proposal *p = &c.props[i];
			const uint8_t *in = p->kind == AM_KIND_MEMBER ? p->target :
				p->kind == AM_KIND_SUCCESSION ? p->heir : NULL;
			*named = in != NULL && !p->refused && memcmp(in, id, 32) == 0;
		}
	}
	st_circle_finish(&c);
	return AM_OK;
}

/* ---- agreements ---- */

/* Copies the public view of a derived agreement, taking its strings. */
static void
take_agreement(struct st_agreement *a, int64_t now, struct am_agreement *out)
{
	*out = a->a;
	out->status = st_agreement_status(a, now);
	a->a.title = NULL;
	a->a.end_reason = NULL;
}

/* The circle an object belongs to, from its hash. */
static int
object_circle(sqlite3 *db, const uint8_t hash[32], uint32_t kind,
	uint8_t circle[32])
{
	sqlite3_stmt *st;
	int rc = st_prepare(db, "SELECT f.circle "
		"FROM st_facts x JOIN feeds f ON f.id = x.feed "
		"JOIN entries e ON e.feed = x.feed AND e.seq = x.seq "
		"WHERE x.hkey = st_hkey(?1) AND e.hash = ?1 AND x.kind = ?2", &st);
	if (rc != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, (int)kind);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		st_col32(st, 0, circle);
	st_finish(st);
	if (rc == SQLITE_DONE)
		return AM_ERR_NOT_FOUND;
	return rc == SQLITE_ROW ? AM_OK : am_store_error(rc);
}

int
am_state_agreements(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES],
	int64_t now, struct am_agreement **out, size_t *n)
{
	sqlite3 *db = am_store_sqlite(s);
	struct st_circle c;
	uint8_t (*ids)[32] = NULL;
	size_t nids = 0, k = 0;
	struct am_agreement *v = NULL;
	bool began = st_read_begin(db);
	int rc = st_circle_load(db, circle, NULL, &c);

	*out = NULL;
	*n = 0;
	if (rc != AM_OK) {
		st_read_end(db, began);
		return rc;
	}
	if ((rc = st_proposals(db, circle, &ids, &nids)) != AM_OK)
		goto out;
	if (nids > 0 && (v = calloc(nids, sizeof *v)) == NULL) {
		rc = AM_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < nids; i++) {
		struct st_agreement a;
		if ((rc = st_agreement_load(&c, ids[i], &a)) != AM_OK)
			goto out;
		if (a.valid)
			take_agreement(&a, now, &v[k++]);
		st_agreement_finish(&a);
	}
	/* by proposal time, then hash: ids came by hash, sort is stable enough
	 * with the explicit tie-break */
	for (size_t i = 1; i < k; i++) {
		struct am_agreement t = v[i];
		size_t j = i;
		while (j > 0 && (v[j - 1].proposed > t.proposed ||
		    (v[j - 1].proposed == t.proposed &&
		    memcmp(v[j - 1].id, t.id, 32) > 0))) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = t;
	}
	*out = v;
	*n = k;
	v = NULL;
out:
	st_read_end(db, began);
	free(ids);
	am_state_agreements_free(&v, k);
	st_circle_finish(&c);
	return rc;
}

int
am_state_agreement(struct am_store *s, const uint8_t id[static AM_HASH_BYTES],
	int64_t now, struct am_agreement *out)
{
	sqlite3 *db = am_store_sqlite(s);
	uint8_t circle[32];
	struct st_circle c;
	struct st_agreement a;
	bool began = st_read_begin(db);
	int rc = object_circle(db, id, AM_KIND_PROPOSE, circle);

	memset(out, 0, sizeof *out);
	if (rc != AM_OK)
		goto out;
	if ((rc = st_circle_load(db, circle, NULL, &c)) != AM_OK)
		goto out;
	if ((rc = st_agreement_load(&c, id, &a)) == AM_OK) {
		if (a.valid)
			take_agreement(&a, now, out);
		else
			rc = AM_ERR_NOT_FOUND;
		st_agreement_finish(&a);
	}
	st_circle_finish(&c);
out:
	st_read_end(db, began);
	return rc;
}

void
am_state_agreement_finish(struct am_agreement *a)
{
	free(a->title);
	free(a->end_reason);
	a->title = NULL;
	a->end_reason = NULL;
}

void
am_state_agreements_free(struct am_agreement **list, size_t n)
{
	if (*list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		am_state_agreement_finish(&(*list)[i]);
	free(*list);
	*list = NULL;
}

/* Loads circle and agreement for the readers that start from an agreement. */
static int
load_pair(sqlite3 *db, const uint8_t id[32], struct st_circle *c,
	struct st_agreement *a)
{
	uint8_t circle[32];
	int rc = object_circle(db, id, AM_KIND_PROPOSE, circle);
	if (rc != AM_OK)
		return rc;
	if ((rc = st_circle_load(db, circle, NULL, c)) != AM_OK)
		return rc;
	if ((rc = st_agreement_load(c, id, a)) != AM_OK) {
		st_circle_finish(c);
		return rc;
	}
	if (!a->valid) {
		st_agreement_finish(a);
		st_circle_finish(c);
		return AM_ERR_NOT_FOUND;
	}
	return AM_OK;
}

int
am_state_versions(struct am_store *s, const uint8_t agreement[static AM_HASH_BYTES],
	struct am_version **out, size_t *n)
{
	sqlite3 *db = am_store_sqlite(s);
	struct st_circle c;
	struct st_agreement a;
	struct am_version *v = NULL;
	size_t k = 0;
	bool began = st_read_begin(db);
	int rc = load_pair(db, agreement, &c, &a);

	*out = NULL;
	*n = 0;
	if (rc != AM_OK)
		goto out;
	if ((v = calloc(a.nversions ? a.nversions : 1, sizeof *v)) == NULL) {
		rc = AM_ERR_NOMEM;
		goto done;
	}
	for (size_t i = 0; i < a.nversions; i++) {
		struct st_version *sv = &a.versions[i];
		if (!sv->valid)
			continue;
		/* move: raw and notes now belong to the copy */
		v[k++] = sv->v;
		sv->v.raw = NULL;
		sv->v.nsigs = 0;
		sv->v.others = NULL;
		sv->v.nothers = 0;
	}
	*out = v;
	*n = k;
done:
	st_agreement_finish(&a);
	st_circle_finish(&c);
out:
	st_read_end(db, began);
	return rc;
}

void
am_state_versions_free(struct am_version **list, size_t n)
{
	if (*list == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		st_signatures_free((*list)[i].sigs, (*list)[i].nsigs);
		st_signatures_free((*list)[i].others, (*list)[i].nothers);
		free((*list)[i].others);
		free((*list)[i].raw);
	}
	free(*list);
	*list = NULL;
}

int
am_state_checkins(struct am_store *s, const uint8_t agreement[static AM_HASH_BYTES],
	struct am_checkin **out, size_t *n)
{
	sqlite3 *db = am_store_sqlite(s);
	struct st_circle c;
	struct st_agreement a;
	bool began = st_read_begin(db);
	int rc = load_pair(db, agreement, &c, &a);

	*out = NULL;
	*n = 0;
	if (rc == AM_OK) {
		rc = st_checkins_load(&c, &a, out, n);
		st_agreement_finish(&a);
		st_circle_finish(&c);
	}
	st_read_end(db, began);
	return rc;
}

void
am_state_checkins_free(struct am_checkin **list, size_t n)
{
	if (*list == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free((*list)[i].note);
		st_marks_free((*list)[i].marks, (*list)[i].nmarks);
		st_marks_free((*list)[i].answers, (*list)[i].nanswers);
	}
	free(*list);
	*list = NULL;
}

/* The statements of circle, in one read snapshot; see st_statements_load
 * for about and awaiting. */
static int
statements(struct am_store *s, const uint8_t *circle, const uint8_t *about,
	const uint8_t *awaiting, struct am_statement **out, size_t *n)
{
	sqlite3 *db = am_store_sqlite(s);
	struct st_circle c;
	bool began = st_read_begin(db);
	int rc = st_circle_load(db, circle, NULL, &c);

	*out = NULL;
	*n = 0;
	/* someone who left or was removed is asked for nothing */
	if (rc == AM_OK && (awaiting == NULL || (st_left(&c, awaiting) == NULL &&
	    st_removed(&c, awaiting) == NULL)))
		rc = st_statements_load(&c, about, awaiting, out, n);
	if (rc == AM_OK)
		st_circle_finish(&c);
	st_read_end(db, began);
	return rc;
}

int
am_state_statements(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t *about, struct am_statement **out, size_t *n)
{
	return statements(s, circle, about, NULL, out, n);
}

int
am_state_statements_awaiting(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES], const uint8_t id[static AM_ID_BYTES],
	struct am_statement **out, size_t *n)
{
	return statements(s, circle, NULL, id, out, n);
}

void
am_state_statements_free(struct am_statement **list, size_t n)
{
	if (*list == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free((*list)[i].text);
		st_marks_free((*list)[i].marks, (*list)[i].nmarks);
	}
	free(*list);
	*list = NULL;
}

/* ---- whose consent a member proposal needs ---- */

static size_t
find_proposal(const struct st_circle *c, const uint8_t *hash)
{
	for (size_t i = 0; i < c->nprops; i++)
		if (memcmp(c->props[i].hash, hash, 32) == 0)
			return i;
	return SIZE_MAX;
}

int
am_state_proposal_needs(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t proposal[static AM_HASH_BYTES],
	uint8_t (**out)[AM_ID_BYTES], size_t *n)
{
	sqlite3 *db = am_store_sqlite(s);
	struct st_circle c;
	bool began = st_read_begin(db);
	int rc = st_circle_load(db, circle, NULL, &c);
	size_t i = SIZE_MAX;

	*out = NULL;
	*n = 0;
	if (rc != AM_OK)
		goto out;
	if (!c.has_genesis || (i = find_proposal(&c, proposal)) == SIZE_MAX) {
		rc = AM_ERR_NOT_FOUND;
	} else {
		rc = st_need_list(&c.props[i], out, n);
	}
	st_circle_finish(&c);
out:
	st_read_end(db, began);
	return rc;
}

/* ---- removals ---- */

static int
cmp_waiting(const void *a, const void *b)
{
	return memcmp(a, b, AM_ID_BYTES);
}

static int
cmp_removal(const void *a, const void *b)
{
	const struct am_removal *x = a, *y = b;
	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return memcmp(x->hash, y->hash, 32);
}

static bool
accepted_by(const struct st_proposal *p, const uint8_t *id)
{
	if (memcmp(p->author, id, 32) == 0)
		return true;
	for (uint32_t j = 0; j < p->naccepts; j++)
		if (memcmp(p->accepts[j], id, 32) == 0)
			return true;
	return false;
}

/* Is REMOVE or SUCCESSION p open: by someone who may write it, of a
 * member still here, neither effective, refused nor withdrawn? A
 * SUCCESSION's author may be the key it replaces. */
static bool
open_removal(const struct st_circle *c, const struct st_proposal *p)
{
	if (p->kind == AM_KIND_MEMBER || p->effective || p->refused ||
	    p->withdrawn || st_departed(c, p->author) != NULL ||
	    st_member(c, p->target) == NULL || st_departed(c, p->target) != NULL)
		return false;
	bool self = memcmp(p->author, p->target, 32) == 0;
	if (p->kind == AM_KIND_REMOVE)
		return !self && st_is_party_member(c, p->author);
	return memcmp(p->heir, p->target, 32) != 0 &&
		(self || st_is_party_member(c, p->author));
}

/* Who p still waits for: everyone its consent needs who has not accepted
 * it (its need, without its target, and the IDs its body lists). */
static int
removal_waiting(const struct st_circle *c, const struct st_proposal *p,
	struct am_removal *r)
{
	uint8_t (*need)[AM_ID_BYTES] = NULL;
	size_t nneed = 0;
	int rc = st_need_list(p, &need, &nneed);
	if (rc != AM_OK)
		return rc;
	size_t cap = nneed + p->nextra;
	r->waiting = malloc((cap ? cap : 1) * sizeof *r->waiting);
	if (r->waiting == NULL) {
		free(need);
		return AM_ERR_NOMEM;
	}
	for (size_t pass = 0; pass < 2; pass++) {
		const uint8_t (*v)[AM_ID_BYTES] = pass == 0 ?
			(const uint8_t (*)[AM_ID_BYTES])need :
			(const uint8_t (*)[AM_ID_BYTES])p->extra;
		size_t nv = pass == 0 ? nneed : p->nextra;
		for (size_t i = 0; i < nv; i++) {
			bool dup = false;
			for (uint32_t j = 0; j < r->nwaiting && !dup; j++)
				dup = memcmp(r->waiting[j], v[i], 32) == 0;
			if (!dup && st_consent_needs(c, p, v[i]) && !accepted_by(p, v[i]))
				memcpy(r->waiting[r->nwaiting++], v[i], 32);
		}
	}
	free(need);
	/* a succession waits for its new key too */
	if (p->kind == AM_KIND_SUCCESSION && !accepted_by(p, p->heir)) {
		bool dup = false;
		for (uint32_t j = 0; j < r->nwaiting && !dup; j++)
			dup = memcmp(r->waiting[j], p->heir, 32) == 0;
		if (!dup) {
			void *q = realloc(r->waiting, (r->nwaiting + 1) * sizeof *r->waiting);
			if (q == NULL)
				return AM_ERR_NOMEM;
			r->waiting = q;
			memcpy(r->waiting[r->nwaiting++], p->heir, 32);
		}
	}
	qsort(r->waiting, r->nwaiting, sizeof *r->waiting, cmp_waiting);
	/* someone other than its author, the one it names and its new key
	 * must accept it */
	r->alone = true;
	for (uint32_t j = 0; j < p->naccepts && r->alone; j++)
		r->alone = memcmp(p->accepts[j], p->target, 32) == 0 ||
			memcmp(p->accepts[j], p->author, 32) == 0 ||
			memcmp(p->accepts[j], p->heir, 32) == 0 ||
			st_member(c, p->accepts[j]) == NULL;
	return AM_OK;
}

/* The highest seq of author's feed in circle that db holds; 0 for none. */
static int
feed_head(sqlite3 *db, const uint8_t *circle, const uint8_t *author,
	uint64_t *out)
{
	sqlite3_stmt *st;
	int rc = st_prepare(db, "SELECT MAX(e.seq) FROM entries e JOIN feeds f "
		"ON f.id = e.feed WHERE f.circle = ?1 AND f.author = ?2", &st);
	*out = 0;
	if (rc != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, circle, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, author, 32, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = (uint64_t)sqlite3_column_int64(st, 0);
		rc = SQLITE_DONE;
	}
	st_finish(st);
	return st_done(rc);
}

int
am_state_removals(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES],
	struct am_removal **out, size_t *n)
{
	sqlite3 *db = am_store_sqlite(s);
	struct st_circle c;
	struct am_removal *v = NULL;
	size_t nv = 0;
	bool began = st_read_begin(db);
	int rc = st_circle_load(db, circle, NULL, &c);

	*out = NULL;
	*n = 0;
	if (rc != AM_OK)
		goto out;
	if (c.nprops > 0 && (v = calloc(c.nprops, sizeof *v)) == NULL)
		rc = AM_ERR_NOMEM;
	for (size_t i = 0; rc == AM_OK && i < c.nprops; i++) {
		const struct st_proposal *p = &c.props[i];
		if (!open_removal(&c, p))
			continue;
		struct am_removal *r = &v[nv++];
		r->kind = p->kind;
		r->head = p->head;
		for (uint32_t j = 0; j < p->ndeclines; j++)
			r->target_declined = r->target_declined ||
				memcmp(p->declines[j], p->target, 32) == 0;
		rc = feed_head(db, circle, p->target, &r->held);
		if (rc != AM_OK)
			break;
		memcpy(r->heir, p->heir, 32);
		memcpy(r->hash, p->hash, 32);
		memcpy(r->author, p->author, 32);
		memcpy(r->target, p->target, 32);
		r->time = p->time;
		rc = removal_waiting(&c, p, r);
	}
	st_circle_finish(&c);
	if (rc != AM_OK) {
		am_state_removals_free(&v, nv);
		goto out;
	}
	if (nv > 1)
		qsort(v, nv, sizeof *v, cmp_removal);
	*out = v;
	*n = nv;
out:
	st_read_end(db, began);
	return rc;
}

void
am_state_removals_free(struct am_removal **list, size_t n)
{
	if (*list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free((*list)[i].waiting);
	free(*list);
	*list = NULL;
}

/* ---- pending ---- */

struct pending_list {
	struct am_pending *v;
	size_t n, cap;
};

static struct am_pending *
pending_add(struct pending_list *l)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		void *p = realloc(l->v, cap * sizeof *l->v);
		if (p == NULL)
			return NULL;
		l->v = p;
		l->cap = cap;
	}
	struct am_pending *p = &l->v[l->n++];
	memset(p, 0, sizeof *p);
	return p;
}

/*
 * The member proposals waiting for id: those pending whose newcomer is id
 * or whose need holds id, and that id (not their author) has not
 * accepted. Someone needed answers before joining, so id need not be a
 * member.
 */
static int
cmp_prop_hash(const void *a, const void *b)
{
	const struct st_proposal *const *x = a, *const *y = b;
	return memcmp((*x)->hash, (*y)->hash, 32);
}

/* The removals that await id's answer: by a joined member, of a member
 * still here, neither effective, refused nor withdrawn, needing id, whom
 * id has not answered (a standing DECLINE refuses, so only those id has
 * not answered at all are listed). */
static int
pending_removals(const struct st_circle *c, const uint8_t *id,
	struct pending_list *l)
{
	for (size_t i = 0; i < c->nprops; i++) {
		const struct st_proposal *p = &c->props[i];
		bool heir = p->kind == AM_KIND_SUCCESSION &&
			memcmp(p->heir, id, 32) == 0;
		if (!open_removal(c, p) || memcmp(p->author, id, 32) == 0 ||
		    (!heir && !st_consent_needs(c, p, id)) ||
		    (p->kind == AM_KIND_SUCCESSION && !heir &&
		    st_backed_other(c, id, p->target, p)))
			continue;
		bool answered = false;
		for (uint32_t j = 0; j < p->naccepts; j++)
			answered = answered || memcmp(p->accepts[j], id, 32) == 0;
		for (uint32_t j = 0; j < p->ndeclines; j++)
			answered = answered || memcmp(p->declines[j], id, 32) == 0;
		if (answered)
			continue;
		struct am_pending *e = pending_add(l);
		if (e == NULL)
			return AM_ERR_NOMEM;
		e->kind = p->kind == AM_KIND_SUCCESSION ? AM_PENDING_SUCCESSION :
			AM_PENDING_REMOVE;
		memcpy(e->circle, c->id, 32);
		memcpy(e->hash, p->hash, 32);
		memcpy(e->author, p->author, 32);
		e->time = p->time;
		if (p->kind == AM_KIND_SUCCESSION) {
			memcpy(e->member, p->heir, 32);
			memcpy(e->old, p->target, 32);
		} else
			memcpy(e->member, p->target, 32);
	}
	return AM_OK;
}

static int
pending_members(const struct st_circle *c, const uint8_t *id,
	struct pending_list *l)
{
	/* proposals by hash: a circle may hold many pending */
	const struct st_proposal **by = malloc((c->nprops ? c->nprops : 1) * sizeof *by);
	int rc = AM_ERR_NOMEM;
	if (by == NULL)
		return rc;
	for (size_t i = 0; i < c->nprops; i++)
		by[i] = &c->props[i];
	qsort(by, c->nprops, sizeof *by, cmp_prop_hash);
	for (size_t i = 0; i < c->nmembers; i++) {
		const struct am_member *m = &c->members[i];
		if (m->status != AM_MEMBER_PENDING)
			continue;
		struct st_proposal key;
		const struct st_proposal *kp = &key, *const *at;
		memcpy(key.hash, m->proposal, 32);
		at = bsearch(&kp, by, c->nprops, sizeof *by, cmp_prop_hash);
		if (at == NULL || memcmp((*at)->author, id, 32) == 0)
			continue;
		const struct st_proposal *p = *at;
		/* a new key waiting is listed with the successions */
		if (p->kind != AM_KIND_MEMBER ||
		    (memcmp(p->target, id, 32) != 0 && !st_needs(p, id)))
			continue;
		bool accepted = false;
		for (uint32_t j = 0; j < p->naccepts; j++)
			accepted = accepted || memcmp(p->accepts[j], id, 32) == 0;
		if (accepted)
			continue;
		struct am_pending *e = pending_add(l);
		if (e == NULL)
			goto fail;
		for (uint32_t j = 0; j < p->ndeclines; j++)
			e->declined = e->declined || memcmp(p->declines[j], id, 32) == 0;
		e->kind = AM_PENDING_MEMBER;
		memcpy(e->circle, c->id, 32);
		memcpy(e->hash, p->hash, 32);
		memcpy(e->author, p->author, 32);
		e->time = p->time;
		memcpy(e->member, p->target, 32);
		e->role = p->role;
	}
	rc = pending_removals(c, id, l);
fail:
	free(by);
	return rc;
}

static int
pending_agreement(const struct st_circle *c, const struct st_agreement *a,
	const uint8_t *id, struct pending_list *l)
{
	const struct st_end *end = a->end;
	if (end != NULL) {
		const struct am_signature *sg = st_sig(end->sigs, end->nsigs, id);
		/* the end a departure makes cannot be answered */
		if (end->at_once || end->kind != AM_KIND_END || sg == NULL ||
		    sg->position == AM_POS_ACCEPTED)
			return AM_OK;
		struct am_pending *e = pending_add(l);
		if (e == NULL)
			return AM_ERR_NOMEM;
		e->kind = AM_PENDING_END;
		memcpy(e->hash, end->hash, 32);
		memcpy(e->author, end->author, 32);
		e->time = end->time;
		e->declined = sg->position == AM_POS_DECLINED;
		goto common;
	}
	for (size_t i = 0; i < a->nversions; i++) {
		const struct st_version *v = &a->versions[i];
		/* only versions that could still come into force */
		if (!v->valid || v->full || v->v.status == AM_VERSION_PASSED_OVER ||
		    v->v.withdrawn)
			continue;
		const struct am_signature *sg = st_sig(v->v.sigs, v->v.nsigs, id);
		if (sg == NULL)
			sg = st_sig(v->v.others, v->v.nothers, id);
		if (sg == NULL || sg->position == AM_POS_ACCEPTED)
			continue;
		struct am_pending *e = pending_add(l);
		if (e == NULL)
			return AM_ERR_NOMEM;
		e->kind = AM_PENDING_VERSION;
		memcpy(e->hash, v->v.hash, 32);
		memcpy(e->author, v->v.author, 32);
		e->time = v->v.time;
		e->declined = sg->position == AM_POS_DECLINED;
		e->title = strndup(v->v.body.terms.title.p, v->v.body.terms.title.n);
		if (e->title == NULL)
			return AM_ERR_NOMEM;
		memcpy(e->circle, c->id, 32);
		memcpy(e->agreement, a->a.id, 32);
	}
	return AM_OK;
common:
	memcpy(l->v[l->n - 1].circle, c->id, 32);
	memcpy(l->v[l->n - 1].agreement, a->a.id, 32);
	if (a->a.title && (l->v[l->n - 1].title = strdup(a->a.title)) == NULL)
		return AM_ERR_NOMEM;
	return AM_OK;
}

static int
cmp_pending(const void *a, const void *b)
{
	const struct am_pending *x = a, *y = b;
	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return memcmp(x->hash, y->hash, 32);
}

static int
pending_circle(sqlite3 *db, const uint8_t *circle, const uint8_t *id,
	struct pending_list *l)
{
	struct st_circle c;
	uint8_t (*ids)[32] = NULL;
	size_t nids = 0, first = l->n;
	int rc = st_circle_load(db, circle, NULL, &c);
	if (rc != AM_OK)
		return rc;
	/* someone a member proposal needs may answer it before joining;
	 * someone who left is asked for nothing */
	if (!c.has_genesis || st_left(&c, id) != NULL || st_removed(&c, id) != NULL)
		goto out;
	if ((rc = pending_members(&c, id, l)) != AM_OK)
		goto out;
	if (st_member(&c, id) == NULL)
		goto out;
	if ((rc = st_proposals(db, circle, &ids, &nids)) != AM_OK)
		goto out;
	for (size_t i = 0; i < nids && rc == AM_OK; i++) {
		struct st_agreement a;
		if ((rc = st_agreement_load(&c, ids[i], &a)) != AM_OK)
			break;
		if (a.valid)
			rc = pending_agreement(&c, &a, id, l);
		st_agreement_finish(&a);
	}
	/* by claimed time, then hash (one entry is pending once) */
	if (l->n > first + 1)
		qsort(l->v + first, l->n - first, sizeof *l->v, cmp_pending);
out:
	free(ids);
	st_circle_finish(&c);
	return rc;
}

int
am_state_pending(struct am_store *s, const uint8_t *circle,
	const uint8_t id[static AM_ID_BYTES], struct am_pending **out, size_t *n)
{
	sqlite3 *db = am_store_sqlite(s);
	struct pending_list l = { 0 };
	uint8_t (*ids)[32] = NULL;
	size_t nids = 0;
	bool began = st_read_begin(db);
	int rc = AM_OK;

	*out = NULL;
	*n = 0;
	if (circle != NULL)
		rc = pending_circle(db, circle, id, &l);
	else if ((rc = all_circles(db, &ids, &nids)) == AM_OK)
		for (size_t i = 0; i < nids && rc == AM_OK; i++)
			rc = pending_circle(db, ids[i], id, &l);
	st_read_end(db, began);
	free(ids);
	if (rc != AM_OK) {
		am_state_pending_free(&l.v, l.n);
		return rc;
	}
	*out = l.v;
	*n = l.n;
	return AM_OK;
}

void
am_state_pending_free(struct am_pending **list, size_t n)
{
	if (*list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free((*list)[i].title);
	free(*list);
	*list = NULL;
}
