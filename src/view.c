/*
 * Views of the record for readers (include/amends/view.h): one read
 * snapshot of a store, and the assembly of an agreement (versions, the
 * version in force, check-ins, who checks in, schedule, adherence) that
 * the CLI, the node and reports show. Everything here is derived from the
 * state's lists, which are the same on every node that holds the same
 * entries, and from "now".
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "amends/view.h"
#include "store_impl.h"

struct am_view {
	struct am_store *store;
};

int
am_view_open(struct am_store *s, struct am_view **out)
{
	sqlite3 *db = am_store_sqlite(s);
	int rc;

	*out = NULL;
	if (!sqlite3_get_autocommit(db))
		return AM_ERR_ARG;
	struct am_view *v = calloc(1, sizeof *v);
	if (v == NULL)
		return AM_ERR_NOMEM;
	v->store = s;
	/* BEGIN takes no snapshot until the first read: read at once, so
	 * that the view is the state as of its opening */
	if ((rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL)) != SQLITE_OK) {
		free(v);
		return am_store_error(rc);
	}
	if ((rc = sqlite3_exec(db, "SELECT count(*) FROM sqlite_master",
	    NULL, NULL, NULL)) != SQLITE_OK) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		free(v);
		return am_store_error(rc);
	}
	*out = v;
	return AM_OK;
}

void
am_view_close(struct am_view **v)
{
	if (*v == NULL)
		return;
	/* a read-only transaction: ending it cannot lose anything */
	sqlite3_exec(am_store_sqlite((*v)->store), "COMMIT", NULL, NULL, NULL);
	free(*v);
	*v = NULL;
}

struct am_store *
am_view_store(struct am_view *v)
{
	return v->store;
}

uint32_t
am_view_dated(int64_t time, int64_t refers, int64_t now)
{
	uint32_t d = 0;
	if (time < refers)
		d |= AM_DATED_BEFORE;
	/* without overflow: now + tolerance may not fit */
	if (time > now && (now < 0 ? time > now + AM_VIEW_FUTURE_MS :
	    time - now > AM_VIEW_FUTURE_MS))
		d |= AM_DATED_FUTURE;
	return d;
}

/* When version v came into force: the claimed time of the last of its
 * parties' signatures (the author's own is the version itself). */
static int64_t
signed_by_all_at(const struct am_version *v)
{
	int64_t t = v->time;
	for (uint32_t i = 0; i < v->nsigs; i++)
		if (v->sigs[i].position == AM_POS_ACCEPTED && v->sigs[i].time > t)
			t = v->sigs[i].time;
	return t;
}

static void
find_versions(struct am_agreement_view *x)
{
	bool any = false;
	for (size_t i = 0; i < x->nversions; i++) {
		const struct am_version *v = &x->versions[i];
		if (x->a.has_current && memcmp(v->hash, x->a.current, 32) == 0)
			x->current = v;
		if (memcmp(v->hash, x->a.newest, 32) == 0)
			x->newest = v;
		if (v->status == AM_VERSION_IN_FORCE ||
		    v->status == AM_VERSION_SUPERSEDED) {
			int64_t t = signed_by_all_at(v);
			if (!any || t < x->anchor)
				x->anchor = t;
			any = true;
		}
	}
	if (x->newest == NULL && x->nversions > 0)
		x->newest = &x->versions[x->nversions - 1];
}

int
am_view_agreement(struct am_view *view, const uint8_t id[static AM_HASH_BYTES],
	int64_t now, bool checkins, struct am_agreement_view *x)
{
	struct am_store *s = view->store;
	int rc;

	memset(x, 0, sizeof *x);
	if ((rc = am_state_agreement(s, id, now, &x->a)) != AM_OK)
		return rc;
	if ((rc = am_state_versions(s, id, &x->versions, &x->nversions)) != AM_OK ||
	    (checkins && (rc = am_state_checkins(s, id, &x->checkins,
	    &x->ncheckins)) != AM_OK))
		return rc;
	find_versions(x);
	x->now = now;
	x->until = now;
	if (x->a.status == AM_AGREEMENT_ENDED && x->a.end_at < now)
		x->until = x->a.end_at;
	const struct am_version *v = x->current != NULL ? x->current : x->newest;
	if (v != NULL) {
		const struct am_terms *t = &v->body.terms;
		if (t->nby > 0) {
			x->nchecker = t->nby;
			memcpy(x->checker, t->by, sizeof t->by[0] * t->nby);
		} else {
			x->nchecker = t->nparties;
			memcpy(x->checker, t->parties, sizeof t->parties[0] * t->nparties);
		}
	}
	if (x->current != NULL && x->current->body.terms.has_schedule)
		return am_schedule_load(&x->current->body.terms, x->anchor,
			&x->schedule);
	return AM_OK;
}

void
am_agreement_view_finish(struct am_agreement_view *x)
{
	am_schedule_destroy(&x->schedule);
	am_state_checkins_free(&x->checkins, x->ncheckins);
	am_state_versions_free(&x->versions, x->nversions);
	am_state_agreement_finish(&x->a);
	memset(x, 0, sizeof *x);
}

bool
am_agreement_view_is_checker(const struct am_agreement_view *x,
	const uint8_t id[static AM_ID_BYTES])
{
	for (uint32_t i = 0; i < x->nchecker; i++)
		if (memcmp(x->checker[i], id, 32) == 0)
			return true;
	return false;
}

bool
am_agreement_view_is_party(const struct am_agreement_view *x,
	const uint8_t id[static AM_ID_BYTES])
{
	const struct am_version *v = x->current != NULL ? x->current : x->newest;
	if (v == NULL)
		return false;
	for (uint32_t i = 0; i < v->body.terms.nparties; i++)
		if (memcmp(v->body.terms.parties[i], id, 32) == 0)
			return true;
	return false;
}

int
am_agreement_view_adherence(const struct am_agreement_view *x,
	const uint8_t *person, struct am_adherence *out)
{
	struct am_schedule_checkin *c = NULL;
	int rc;

	memset(out, 0, sizeof *out);
	if (x->schedule == NULL || x->current == NULL)
		return AM_ERR_ARG;
	if (x->ncheckins > 0 &&
	    (c = calloc(x->ncheckins, sizeof *c)) == NULL)
		return AM_ERR_NOMEM;
	size_t nc = 0;
	for (size_t i = 0; i < x->ncheckins; i++) {
		const struct am_checkin *k = &x->checkins[i];
		if (!k->counts)     /* corrected, or a correction not agreed */
			continue;
		c[nc].author = k->author;
		c[nc].seq = k->seq;
		c[nc].period = am_str_c(k->period);
		c[nc].status = k->status;
		c[nc].time = k->time;
		nc++;
	}
	if (person != NULL)
		rc = am_schedule_adherence(x->schedule, x->until,
			(const uint8_t (*)[32])person, 1, c, nc, out);
	else
		rc = am_schedule_adherence(x->schedule, x->until,
			(const uint8_t (*)[32])x->checker, x->nchecker, c, nc, out);
	free(c);
	/* nothing is upcoming in an agreement that has ended */
	if (rc == AM_OK && x->a.status == AM_AGREEMENT_ENDED)
		out->has_upcoming = false;
	return rc;
}

const struct am_checkin *
am_checkins_counting(const struct am_checkin *v, size_t n, size_t i)
{
	size_t first = i, end = i + 1;
	while (first > 0 && v[first].correction)
		first--;
	while (end < n && v[end].correction)
		end++;
	for (size_t j = first; j < end; j++)
		if (v[j].counts)
			return &v[j];
	return NULL;
}

bool
am_checkins_open(const struct am_checkin *v, size_t n, size_t i)
{
	(void)n;
	if (v[i].counts)
		return true;
	/* a correction after the one that counts may yet replace it */
	for (size_t j = i; j > 0 && v[j].correction; j--)
		if (v[j - 1].counts)
			return true;
	return false;
}
