/*
 * The check-ins and statements that count (protocol/state.md, "Check-ins"
 * and "Statements"): who may check in, which of an author's check-ins for one
 * period counts (a correction replaces what it corrects only with the
 * consent of everyone who answered that), whose confirmations and disputes
 * count (every one stays, the latest standing), and when a check-in is
 * verified.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"
#include "store_impl.h"

/* ---- periods as dates (protocol/state.md, "Check-ins", rule 5) ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t
day_number(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool
digits(const char *p, int n, int64_t *out)
{
	int64_t v = 0;
	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return true;
}

/* A date "YYYY-MM-DD" that exists, as a day number. */
static bool
parse_date(const char *p, size_t n, int64_t *day)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int64_t y, m, d;
	if (n != 10 || p[4] != '-' || p[7] != '-' || !digits(p, 4, &y) ||
	    !digits(p + 5, 2, &m) || !digits(p + 8, 2, &d) || m < 1 || m > 12 ||
	    d < 1 || d > mdays[m - 1])
		return false;
	if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return false;
	*day = day_number(y, m, d);
	return true;
}

/* Weekday of a day number, Monday 0. */
static int64_t
weekday(int64_t day)
{
	int64_t w = (day + 3) % 7;      /* 1970-01-01 was a Thursday */
	return w < 0 ? w + 7 : w;
}

/*
 * The days a period label spans, read from the label alone (no zone, no
 * schedule): "YYYY-MM-DD" and "YYYY-MM-DDTHH" that date, "YYYY-Www" the
 * ISO week's Monday to Sunday. False for a label of none of these forms
 * or naming a date that does not exist.
 */
static bool
period_days(const char *label, int64_t *first, int64_t *last)
{
	size_t n = strlen(label);
	int64_t y, w, h;
	if (n == 10)
		return parse_date(label, 10, first) && (*last = *first, true);
	if (n == 13 && label[10] == 'T' && digits(label + 11, 2, &h) && h < 24)
		return parse_date(label, 10, first) && (*last = *first, true);
	if (n != 8 || label[4] != '-' || label[5] != 'W' || !digits(label, 4, &y) ||
	    !digits(label + 6, 2, &w) || w < 1 || w > 53)
		return false;
	int64_t jan4 = day_number(y, 1, 4);
	int64_t monday = jan4 - weekday(jan4) + 7 * (w - 1);
	/* week 53 only in a year that has one: its Thursday is in y */
	if (w == 53 && monday + 3 >= day_number(y + 1, 1, 1))
		return false;
	*first = monday;
	*last = monday + 6;
	return true;
}

/* Do the days [first, last] meet the terms' [from, until]? */
static bool
within_terms(const struct am_terms *t, int64_t first, int64_t last)
{
	int64_t d;
	if (t->from.p != NULL && parse_date(t->from.p, t->from.n, &d) && last < d)
		return false;
	if (t->until.p != NULL && parse_date(t->until.p, t->until.n, &d) && first > d)
		return false;
	return true;
}

static bool
checks_in(const struct am_terms *t, const uint8_t id[static AM_ID_BYTES])
{
	if (t->nby == 0)
		return st_in_terms(t, id);
	for (uint32_t k = 0; k < t->nby; k++)
		if (memcmp(t->by[k], id, 32) == 0)
			return true;
	return false;
}

/*
 * Does the check-in of period by id lie outside what the agreement asks:
 * outside the from/until of every version that counts and asks id to
 * check in, or starting after the day (UTC) on which the agreement's END
 * takes effect? A label from which no date can be read is not judged
 * here (readers leave it out of adherence).
 */
static bool
period_outside(const struct st_agreement *a, const uint8_t id[static AM_ID_BYTES],
	const char *period, const char **why)
{
	int64_t first, last;
	if (period == NULL || !period_days(period, &first, &last))
		return false;
	if (a->end != NULL) {
		int64_t end = a->end->end_at / 86400000;
		if (a->end->end_at % 86400000 < 0)
			end--;
		if (first > end) {
			*why = "its period begins after the day the agreement's end takes effect";
			return true;
		}
	}
	for (size_t i = 0; i < a->nversions; i++) {
		const struct st_version *sv = &a->versions[i];
		if (sv->valid && sv->full && checks_in(&sv->v.body.terms, id) &&
		    within_terms(&sv->v.body.terms, first, last))
			return false;
	}
	*why = "its period is outside the agreement's from and until dates";
	return true;
}

/* Why a check-in by id for period does not count: a rule, or 0. */
uint32_t
st_checkin_rule(const struct st_circle *c, const struct st_agreement *a,
	const uint8_t id[static AM_ID_BYTES], const char *period, const char **why)
{
	const struct am_member *m = st_member(c, id);
	if (m == NULL) {
		*why = "a check-in by someone who is not a member of the circle";
		return AM_RULE_NOT_MEMBER;
	}
	if (a->current == NULL) {
		*why = "a check-in for an agreement that was never in force";
		return AM_RULE_NOT_IN_FORCE;
	}
	if (m->role == AM_ROLE_WITNESS) {
		*why = "a witness cannot check in";
		return AM_RULE_WITNESS;
	}
	if (!st_may_checkin(a, id)) {
		*why = "a check-in by someone the agreement does not ask to check in";
		return AM_RULE_NOT_CHECKER;
	}
	if (period_outside(a, id, period, why))
		return AM_RULE_PERIOD;
	return 0;
}

/* Order of marks: parties of the current version in terms order, then
 * everyone else by ID. */
static int
mark_rank(const struct am_terms *t, const struct am_mark *m)
{
	for (uint32_t i = 0; i < t->nparties; i++)
		if (memcmp(t->parties[i], m->id, 32) == 0)
			return (int)i;
	return AM_MAX_PARTIES;
}

static int
cmp_mark(const void *a, const void *b, void *terms)
{
	const struct am_mark *x = a, *y = b;
	int rx = mark_rank(terms, x), ry = mark_rank(terms, y);
	if (rx != ry)
		return rx < ry ? -1 : 1;
	return memcmp(x->id, y->id, 32);
}

static int
cmp_answer(const void *a, const void *b, void *terms)
{
	const struct am_mark *x = a, *y = b;
	int r = cmp_mark(a, b, terms);
	if (r != 0)
		return r;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int
push_mark(struct am_mark **v, uint32_t *n, uint32_t *cap,
	const struct am_mark *m)
{
	if (*n == *cap) {
		uint32_t c = *cap ? *cap * 2 : 4;
		void *q = realloc(*v, c * sizeof **v);
		if (q == NULL)
			return AM_ERR_NOMEM;
		*v = q;
		*cap = c;
	}
	(*v)[(*n)++] = *m;
	return AM_OK;
}

/*
 * Reads the CONFIRM/DISPUTE answers to target that count: every one into
 * *all (person by person, each person's by their feed) when all is not
 * NULL, and each person's latest into *out. Disputes only of check-ins
 * (a not NULL). The arrays are malloc'd.
 */
static int
load_marks(struct st_circle *c, const uint8_t *target, const uint8_t *author,
	const struct st_agreement *a, struct am_mark **out, uint32_t *n,
	struct am_mark **all, uint32_t *nall)
{
	sqlite3_stmt *st;
	struct am_mark *v = NULL, *h = NULL;
	uint32_t cap = 0, nh = 0, caph = 0;
	int rc = st_prepare(c->db, "SELECT f.author, x.seq, x.kind, x.time, e.hash, "
		"st_note(e.raw) FROM st_facts x JOIN feeds f ON f.id = x.feed "
		"JOIN entries e ON e.feed = x.feed AND e.seq = x.seq "
		"WHERE x.ref = ?1 AND x.kind IN (9, 10) AND f.circle = ?2 "
		"ORDER BY f.author, x.seq DESC", &st);
	*out = NULL;
	*n = 0;
	if (all != NULL) {
		*all = NULL;
		*nall = 0;
	}
	if (rc != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, target, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, c->id, 32, SQLITE_STATIC);
	uint8_t last[32] = { 0 };
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint8_t signer[32], who[32], hash[32];
		st_col32(st, 0, signer);
		uint64_t seq = (uint64_t)sqlite3_column_int64(st, 1);
		uint32_t kind = (uint32_t)sqlite3_column_int(st, 2);
		st_col32(st, 4, hash);
		const char *why;
		uint32_t cut = st_cut_rule(c, signer, seq, &why);
		if (cut != 0) {
			st_sink_ignore(c->sink, signer, seq, hash, kind, cut, why);
			continue;
		}
		/* what a replaced key wrote counts as its heir's */
		memcpy(who, st_actor(c, signer, seq), 32);
		const struct am_member *m = st_member(c, who);
		if (memcmp(who, author, 32) == 0) {
			st_sink_ignore(c->sink, signer, seq, hash, kind, AM_RULE_OWN,
				"confirms or disputes its own author's entry");
			continue;
		}
		if (m == NULL) {
			st_sink_ignore(c->sink, signer, seq, hash, kind, AM_RULE_NOT_MEMBER,
				"a confirmation by someone who is not a member of the circle");
			continue;
		}
		if (a == NULL && kind == AM_KIND_DISPUTE) {
			st_sink_ignore(c->sink, signer, seq, hash, kind, AM_RULE_WRONG_TARGET,
				"only check-ins can be disputed");
			continue;
		}
		if (a != NULL && !st_may_mark(c, a, who)) {
			st_sink_ignore(c->sink, signer, seq, hash, kind, AM_RULE_NOT_PARTY,
				"confirms or disputes a check-in of an agreement its author is not a party to");
			continue;
		}
		st_sink_seen(c->sink, signer, seq);
		struct am_mark mk;
		memset(&mk, 0, sizeof mk);
		memcpy(mk.id, who, 32);
		mk.kind = kind == AM_KIND_CONFIRM ? AM_MARK_CONFIRMED : AM_MARK_DISPUTED;
		mk.witness = m->role == AM_ROLE_WITNESS || m->witnessed;
		mk.seq = seq;
		mk.time = sqlite3_column_int64(st, 3);
		memcpy(mk.entry, hash, 32);
		mk.note = st_coltext(st, 5);
		/* rows come newest first per key: the first is standing; a
		 * person's under their new key stands over their old one's */
		bool latest = memcmp(last, signer, 32) != 0, replace = false;
		memcpy(last, signer, 32);
		for (uint32_t j = 0; latest && j < *n; j++)
			if (memcmp(v[j].id, who, 32) == 0) {
				latest = false;
				replace = memcmp(signer, who, 32) == 0;
				if (replace) {
					free(v[j].note);
					v[j] = mk;
					v[j].note = NULL;
					if (mk.note != NULL &&
					    (v[j].note = strdup(mk.note)) == NULL) {
						free(mk.note);
						rc = AM_ERR_NOMEM;
						break;
					}
				}
			}
		if (rc == AM_ERR_NOMEM)
			break;
		if (latest && (rc = push_mark(&v, n, &cap, &mk)) != AM_OK) {
			free(mk.note);
			break;
		}
		if (all == NULL) {
			if (!latest)
				free(mk.note);
			continue;
		}
		if (latest && mk.note != NULL &&
		    (mk.note = strdup(mk.note)) == NULL) {
			rc = AM_ERR_NOMEM;
			break;
		}
		if ((rc = push_mark(&h, &nh, &caph, &mk)) != AM_OK) {
			free(mk.note);
			break;
		}
	}
	st_finish(st);
	if (rc == AM_ERR_NOMEM)
		rc = SQLITE_NOMEM;
	if ((rc = st_done(rc)) != AM_OK) {
		st_marks_free(v, *n);
		st_marks_free(h, nh);
		*n = 0;
		return rc;
	}
	*out = v;
	if (all != NULL) {
		*all = h;
		*nall = nh;
	}
	return AM_OK;
}

/* Every other party of the current version confirmed; with no other
 * party, a witness did. */
static bool
verified(const struct st_agreement *a, const struct am_checkin *ci)
{
	const struct am_terms *t = &a->current->v.body.terms;
	bool others = false, witness = false;
	for (uint32_t i = 0; i < ci->nmarks; i++)
		witness = witness || (ci->marks[i].witness &&
			ci->marks[i].kind == AM_MARK_CONFIRMED);
	for (uint32_t i = 0; i < t->nparties; i++) {
		bool ok = false;
		if (memcmp(t->parties[i], ci->author, 32) == 0)
			continue;
		others = true;
		for (uint32_t k = 0; k < ci->nmarks; k++)
			ok = ok || (memcmp(ci->marks[k].id, t->parties[i], 32) == 0 &&
				ci->marks[k].kind == AM_MARK_CONFIRMED);
		if (!ok)
			return false;
	}
	return others || witness;
}

static int
finish_checkin(struct st_circle *c, const struct st_agreement *a,
	struct am_checkin *ci)
{
	void *terms = (void *)&a->current->v.body.terms;
	int rc = load_marks(c, ci->hash, ci->author, a, &ci->marks, &ci->nmarks,
		&ci->answers, &ci->nanswers);
	if (rc != AM_OK)
		return rc;
	if (ci->nmarks > 0)     /* marks is NULL when there are none */
		qsort_r(ci->marks, ci->nmarks, sizeof *ci->marks, cmp_mark, terms);
	if (ci->nanswers > 0)
		qsort_r(ci->answers, ci->nanswers, sizeof *ci->answers, cmp_answer,
			terms);
	for (uint32_t i = 0; i < ci->nmarks; i++)
		ci->disputed = ci->disputed || ci->marks[i].kind == AM_MARK_DISPUTED;
	ci->verified = verified(a, ci);
	return AM_OK;
}

static const struct am_mark *
mark_of(const struct am_checkin *ci, const uint8_t *id)
{
	for (uint32_t i = 0; i < ci->nmarks; i++)
		if (memcmp(ci->marks[i].id, id, 32) == 0)
			return &ci->marks[i];
	return NULL;
}

/* Does next take the place of cur, the check-in of the period that counts
 * so far? When everyone who answered cur stands confirming next (at once
 * when nobody did). A dispute of next by anyone else shows on next and
 * changes nothing of which counts: otherwise one member who never
 * answered cur could undo a replacement that cur's answerers agreed to. */
static bool
replaces(const struct am_checkin *cur, const struct am_checkin *next)
{
	for (uint32_t i = 0; i < cur->nmarks; i++) {
		const struct am_mark *m = mark_of(next, cur->marks[i].id);
		if (m == NULL || m->kind != AM_MARK_CONFIRMED)
			return false;
	}
	return true;
}

/* A check-in with how many successions separate its signer from its
 * author (the key that holds the signer's place now), for sorting. */
struct by_age {
	struct am_checkin ci;
	uint32_t hops;
};

/* Period label, person, then the person's keys oldest first (most
 * successions away from the current one), then the signer's feed. */
static int
cmp_checkin(const void *a, const void *b)
{
	const struct by_age *x = a, *y = b;
	int d = strcmp(x->ci.period, y->ci.period);
	if (d == 0)
		d = memcmp(x->ci.author, y->ci.author, 32);
	if (d != 0)
		return d;
	if (x->hops != y->hops)
		return x->hops > y->hops ? -1 : 1;
	if ((d = memcmp(x->ci.signer, y->ci.signer, 32)) != 0)
		return d;
	return x->ci.seq < y->ci.seq ? -1 : x->ci.seq > y->ci.seq;
}

/* Sorts v by cmp_checkin. */
static int
sort_checkins(const struct st_circle *c, struct am_checkin *v, size_t n)
{
	struct by_age *w = malloc(n * sizeof *w);
	if (w == NULL)
		return AM_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		w[i].ci = v[i];
		w[i].hops = st_hops(c, v[i].signer);
	}
	qsort(w, n, sizeof *w, cmp_checkin);
	for (size_t i = 0; i < n; i++)
		v[i] = w[i].ci;
	free(w);
	return AM_OK;
}

/* Picks the check-in that counts in each (author, period): v is ordered by
 * period, author, then the author's feed. */
static void
pick_counting(struct am_checkin *v, size_t n)
{
	size_t cur = 0;
	for (size_t i = 0; i < n; i++) {
		if (!v[i].correction) {
			if (i > 0)
				v[cur].counts = true;
			cur = i;
		} else if (replaces(&v[cur], &v[i])) {
			cur = i;
		}
	}
	if (n > 0)
		v[cur].counts = true;
}

int
st_checkins_load(struct st_circle *c, const struct st_agreement *a,
	struct am_checkin **out, size_t *n)
{
	sqlite3_stmt *st;
	struct am_checkin *v = NULL;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!a->valid)
		return AM_OK;
	if ((rc = st_prepare(c->db, "SELECT e.hash, f.author, x.seq, x.time, "
	    "st_label(e.raw) AS label, st_num(e.raw), st_note(e.raw) "
	    "FROM st_facts x JOIN feeds f ON f.id = x.feed "
	    "JOIN entries e ON e.feed = x.feed AND e.seq = x.seq "
	    "WHERE x.ref = ?1 AND x.kind = 8 AND f.circle = ?2 "
	    "ORDER BY label, f.author, x.seq", &st)) != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, a->a.id, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, c->id, 32, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint8_t hash[32], author[32];
		const char *why;
		st_col32(st, 0, hash);
		st_col32(st, 1, author);
		uint64_t seq = (uint64_t)sqlite3_column_int64(st, 2);
		const char *period = (const char *)sqlite3_column_text(st, 4);
		uint32_t rule = st_cut_rule(c, author, seq, &why);
		const uint8_t *actor = st_actor(c, author, seq);
		if (rule == 0)
			rule = st_checkin_rule(c, a, actor, period, &why);
		if (rule != 0) {
			st_sink_ignore(c->sink, author, seq, hash, AM_KIND_CHECKIN, rule, why);
			continue;
		}
		st_sink_seen(c->sink, author, seq);
		if (period == NULL)
			period = "";
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			void *q = realloc(v, cap * sizeof *v);
			if (q == NULL) {
				rc = SQLITE_NOMEM;
				break;
			}
			v = q;
		}
		struct am_checkin *ci = &v[(*n)++];
		memset(ci, 0, sizeof *ci);
		memcpy(ci->hash, hash, 32);
		memcpy(ci->agreement, a->a.id, 32);
		memcpy(ci->author, actor, 32);
		memcpy(ci->signer, author, 32);
		ci->seq = seq;
		ci->time = sqlite3_column_int64(st, 3);
		snprintf(ci->period, sizeof ci->period, "%s", period);
		ci->status = (uint32_t)sqlite3_column_int(st, 5);
		ci->note = st_coltext(st, 6);
	}
	st_finish(st);
	if ((rc = st_done(rc)) != AM_OK)
		goto fail;
	/* by period, person, then the person's feeds: an old key's before
	 * the key that replaced it (protocol/state.md, "Succession") */
	if (*n > 1 && (rc = sort_checkins(c, v, *n)) != AM_OK)
		goto fail;
	for (size_t i = 1; i < *n; i++) {
		/* a later check-in of the same period corrects the one before */
		struct am_checkin *ci = &v[i];
		if (memcmp(ci[-1].author, ci->author, 32) == 0 &&
		    strcmp(ci[-1].period, ci->period) == 0) {
			ci->correction = true;
			memcpy(ci->corrects, ci[-1].hash, 32);
		}
	}
	for (size_t i = 0; i < *n; i++)
		if ((rc = finish_checkin(c, a, &v[i])) != AM_OK)
			goto fail;
	pick_counting(v, *n);
	*out = v;
	return AM_OK;
fail:
	am_state_checkins_free(&v, *n);
	*n = 0;
	return rc;
}

/* Is about a valid agreement of the circle? */
static int
about_ok(struct st_circle *c, const uint8_t *about, bool *ok)
{
	struct st_agreement a;
	struct st_sink *sink = c->sink;
	c->sink = NULL;
	int rc = st_agreement_load(c, about, &a);
	c->sink = sink;
	if (rc != AM_OK)
		return rc;
	*ok = a.valid;
	st_agreement_finish(&a);
	return AM_OK;
}

int
st_statements_load(struct st_circle *c, const uint8_t *about,
	const uint8_t *awaiting, struct am_statement **out, size_t *n)
{
	sqlite3_stmt *st;
	struct am_statement *v = NULL;
	size_t cap = 0;
	/* awaiting: only what that person neither wrote nor answered: the
	 * statements of the others' feeds, each looked up among the answers
	 * to it */
	int rc = st_prepare(c->db, about != NULL ?
		"SELECT e.hash, f.author, x.seq, x.time, st_note(e.raw), x.ref "
		"FROM st_facts x JOIN feeds f ON f.id = x.feed "
		"JOIN entries e ON e.feed = x.feed AND e.seq = x.seq "
		"WHERE x.ref = ?1 AND x.kind = 11 AND f.circle = ?2 "
		"ORDER BY x.time, e.hash" :
		awaiting != NULL ?
		"SELECT e.hash, f.author, x.seq, x.time, st_note(e.raw), x.ref "
		"FROM st_facts x JOIN feeds f ON f.id = x.feed "
		"JOIN entries e ON e.feed = x.feed AND e.seq = x.seq "
		"WHERE f.circle = ?2 AND x.kind = 11 AND f.author <> ?3 "
		"AND NOT EXISTS (SELECT 1 FROM st_facts a JOIN feeds af "
		"ON af.id = a.feed WHERE a.ref = e.hash AND a.hkey IS NULL "
		"AND af.author = ?3) ORDER BY x.time, e.hash" :
		"SELECT e.hash, f.author, x.seq, x.time, st_note(e.raw), x.ref "
		"FROM st_facts x JOIN feeds f ON f.id = x.feed "
		"JOIN entries e ON e.feed = x.feed AND e.seq = x.seq "
		"WHERE f.circle = ?2 AND x.kind = 11 ORDER BY x.time, e.hash", &st);
	*out = NULL;
	*n = 0;
	if (rc != AM_OK)
		return rc;
	if (about != NULL)
		sqlite3_bind_blob(st, 1, about, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, c->id, 32, SQLITE_STATIC);
	if (about == NULL && awaiting != NULL)
		sqlite3_bind_blob(st, 3, awaiting, 32, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct am_statement s;
		memset(&s, 0, sizeof s);
		st_col32(st, 0, s.hash);
		st_col32(st, 1, s.author);
		s.seq = (uint64_t)sqlite3_column_int64(st, 2);
		s.time = sqlite3_column_int64(st, 3);
		s.has_about = sqlite3_column_type(st, 5) != SQLITE_NULL;
		st_col32(st, 5, s.about);
		const char *why;
		uint32_t cut = st_cut_rule(c, s.author, s.seq, &why);
		if (cut != 0) {
			st_sink_ignore(c->sink, s.author, s.seq, s.hash, AM_KIND_STATEMENT,
				cut, why);
			continue;
		}
		if (st_member(c, st_actor(c, s.author, s.seq)) == NULL) {
			st_sink_ignore(c->sink, s.author, s.seq, s.hash, AM_KIND_STATEMENT,
				AM_RULE_NOT_MEMBER,
				"a statement by someone who is not a member of the circle");
			continue;
		}
		if (s.has_about) {
			bool ok;
			if ((rc = about_ok(c, s.about, &ok)) != AM_OK) {
				rc = SQLITE_ERROR;
				break;
			}
			if (!ok) {
				st_sink_ignore(c->sink, s.author, s.seq, s.hash, AM_KIND_STATEMENT,
					AM_RULE_UNKNOWN_TARGET,
					"a statement about an agreement this node does not have or ignores");
				continue;
			}
		}
		st_sink_seen(c->sink, s.author, s.seq);
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			void *q = realloc(v, cap * sizeof *v);
			if (q == NULL) {
				rc = SQLITE_NOMEM;
				break;
			}
			v = q;
		}
		memcpy(s.circle, c->id, 32);
		/* a replaced key's statement is its heir's */
		memcpy(s.author, st_actor(c, s.author, s.seq), 32);
		if ((s.text = st_coltext(st, 4)) == NULL) {
			rc = SQLITE_NOMEM;
			break;
		}
		v[(*n)++] = s;
	}
	st_finish(st);
	if ((rc = st_done(rc)) != AM_OK)
		goto fail;
	for (size_t i = 0; i < *n; i++) {
		struct am_statement *s = &v[i];
		rc = load_marks(c, s->hash, s->author, NULL, &s->marks,
			&s->nmarks, NULL, NULL);
		if (rc != AM_OK)
			goto fail;
	}
	size_t kept = 0;
	for (size_t i = 0; i < *n; i++) {
		struct am_statement *s = &v[i];
		/* awaiting someone: not what an old key of theirs wrote or
		 * answered (the query saw only their current key's feed) */
		bool theirs = awaiting != NULL && memcmp(s->author, awaiting, 32) == 0;
		for (uint32_t j = 0; awaiting != NULL && j < s->nmarks; j++)
			theirs = theirs || memcmp(s->marks[j].id, awaiting, 32) == 0;
		if (theirs) {
			free(s->text);
			st_marks_free(s->marks, s->nmarks);
			continue;
		}
		v[kept++] = *s;
	}
	*n = kept;
	*out = v;
	return AM_OK;
fail:
	am_state_statements_free(&v, *n);
	*n = 0;
	return rc;
}
