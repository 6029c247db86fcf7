/*
 * Loading one agreement for the reading commands (show, list, status, log)
 * and for checkin, and computing its adherence through the schedule
 * module. Everything here is derived from the state's lists, which are the
 * same on every node that holds the same entries, and from "now".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agreement.h"
#include "format.h"

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
find_versions(struct cli_agreement *x)
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
cli_agreement_load(struct am_store *s, const uint8_t id[static 32], int64_t now,
	bool checkins, struct cli_agreement *x)
{
	int rc;

	memset(x, 0, sizeof *x);
	if ((rc = am_state_agreement(s, id, now, &x->a)) != AM_OK)
		return rc;
	if ((rc = am_state_versions(s, id, &x->versions, &x->nversions)) != AM_OK ||
	    (checkins && (rc = am_state_checkins(s, id, &x->checkins,
	    &x->ncheckins)) != AM_OK))
		return rc;
	find_versions(x);
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
cli_agreement_finish(struct cli_agreement *x)
{
	am_schedule_destroy(&x->schedule);
	am_state_checkins_free(&x->checkins, x->ncheckins);
	am_state_versions_free(&x->versions, x->nversions);
	am_state_agreement_finish(&x->a);
	memset(x, 0, sizeof *x);
}

bool
cli_agreement_is_checker(const struct cli_agreement *x, const uint8_t id[static 32])
{
	for (uint32_t i = 0; i < x->nchecker; i++)
		if (memcmp(x->checker[i], id, 32) == 0)
			return true;
	return false;
}

bool
cli_agreement_is_party(const struct cli_agreement *x, const uint8_t id[static 32])
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
cli_agreement_adherence(const struct cli_agreement *x, const uint8_t *person,
	struct am_adherence *out)
{
	struct am_schedule_checkin *c = NULL;
	int rc;

	memset(out, 0, sizeof *out);
	if (x->schedule == NULL || x->current == NULL)
		return AM_ERR_ARG;
	if (x->ncheckins > 0 &&
	    (c = calloc(x->ncheckins, sizeof *c)) == NULL)
		return AM_ERR_NOMEM;
	for (size_t i = 0; i < x->ncheckins; i++) {
		const struct am_checkin *k = &x->checkins[i];
		c[i].author = k->author;
		c[i].seq = k->seq;
		c[i].period = am_str_c(k->period);
		c[i].status = k->status;
		c[i].time = k->time;
	}
	if (person != NULL)
		rc = am_schedule_adherence(x->schedule, x->until,
			(const uint8_t (*)[32])person, 1, c, x->ncheckins, out);
	else
		rc = am_schedule_adherence(x->schedule, x->until,
			(const uint8_t (*)[32])x->checker, x->nchecker, c,
			x->ncheckins, out);
	free(c);
	/* nothing is upcoming in an agreement that has ended */
	if (rc == AM_OK && x->a.status == AM_AGREEMENT_ENDED)
		out->has_upcoming = false;
	return rc;
}

void
cli_agreement_schedule_text(const struct am_terms *t, char *out, size_t size)
{
	size_t n = 0;
	char d[32];

#define ADD(...) do { \
	if (n < size) \
		n += (size_t)snprintf(out + n, size - n, __VA_ARGS__); \
} while (0)
	if (!t->has_schedule)
		ADD("no schedule");
	else if (t->every == AM_EVERY_DAY)
		ADD("every day at %02u:%02u", t->at / 60, t->at % 60);
	else if (t->every == AM_EVERY_WEEK)
		ADD("every %s at %02u:%02u", cli_weekday_name(t->weekday),
			t->at / 60, t->at % 60);
	else
		ADD("every %u hours", t->hours);
	ADD(" (%.*s)", (int)t->tz.n, t->tz.p);
	if (t->grace > 0) {
		cli_duration(t->grace, d);
		ADD(", grace %s", d);
	}
	if (t->from.p != NULL)
		ADD(", from %.*s", (int)t->from.n, t->from.p);
	if (t->until.p != NULL)
		ADD(", until %.*s", (int)t->until.n, t->until.p);
	if (t->notice > 0) {
		cli_duration(t->notice, d);
		ADD(", notice %s", d);
	}
	for (uint32_t i = 0; i < t->npauses; i++)
		ADD(", paused %.10s..%.10s", t->pauses[i].from.p, t->pauses[i].until.p);
#undef ADD
}

void
cli_json_schedule(struct json *j, const struct am_terms *t)
{
	char at[8];
	if (!t->has_schedule) {
		json_null(j);
		return;
	}
	json_obj(j);
	json_kstr(j, "every", t->every == AM_EVERY_DAY ? "day" :
		t->every == AM_EVERY_WEEK ? "week" : "hours");
	if (t->every == AM_EVERY_HOURS)
		json_kint(j, "hours", t->hours);
	else {
		snprintf(at, sizeof at, "%02u:%02u", t->at / 60 % 24, t->at % 60);
		json_kstr(j, "at", at);
	}
	if (t->every == AM_EVERY_WEEK)
		json_kstr(j, "on", cli_weekday_name(t->weekday));
	json_end_obj(j);
}

void
cli_json_marks(struct json *j, const struct am_mark *m, uint32_t n)
{
	json_key(j, "marks");
	json_arr(j);
	for (uint32_t i = 0; i < n; i++) {
		json_obj(j);
		json_key(j, "id");
		json_id(j, m[i].id);
		json_kstr(j, "kind", m[i].kind == AM_MARK_CONFIRMED ? "confirmed" :
			"disputed");
		json_kbool(j, "witness", m[i].witness);
		json_key(j, "time");
		json_time(j, m[i].time);
		json_key(j, "entry");
		json_hash(j, m[i].entry);
		json_kstr(j, "note", m[i].note);
		json_end_obj(j);
	}
	json_end_arr(j);
}

void
cli_json_adherence(struct json *j, const struct am_adherence *a)
{
	json_obj(j);
	json_kint(j, "due", a->due);
	json_kint(j, "kept", a->kept);
	json_kint(j, "partial", a->partial);
	json_kint(j, "missed", a->missed);
	json_kint(j, "unreported", a->unreported);
	json_kint(j, "late", a->late);
	json_kint(j, "paused", a->paused);
	json_kint(j, "streak", a->streak);
	json_kint(j, "overdue", a->noverdue);
	json_key(j, "upcoming");
	if (a->has_upcoming) {
		json_obj(j);
		json_kstr(j, "period", a->upcoming.label);
		json_key(j, "deadline");
		json_time(j, a->upcoming.deadline);
		json_end_obj(j);
	} else {
		json_null(j);
	}
	json_end_obj(j);
}

const char *
cli_agreement_status_name(uint32_t status)
{
	switch (status) {
	case AM_AGREEMENT_PROPOSED: return "proposed";
	case AM_AGREEMENT_IN_FORCE: return "in_force";
	case AM_AGREEMENT_DECLINED: return "declined";
	case AM_AGREEMENT_ENDING: return "ending";
	case AM_AGREEMENT_ENDED: return "ended";
	default: return "unknown";
	}
}

const char *
cli_version_status_name(uint32_t status)
{
	switch (status) {
	case AM_VERSION_PENDING: return "pending";
	case AM_VERSION_IN_FORCE: return "in_force";
	case AM_VERSION_SUPERSEDED: return "superseded";
	case AM_VERSION_DECLINED: return "declined";
	case AM_VERSION_PASSED_OVER: return "passed_over";
	default: return "unknown";
	}
}

const char *
cli_checkin_state(const struct am_checkin *c)
{
	if (c->disputed)
		return "disputed";
	if (c->verified)
		return "confirmed";
	return "awaiting";
}

/* The title of agreement id, malloc'd, or NULL. */
static char *
title_of(struct am_store *s, const uint8_t id[static 32])
{
	struct am_agreement a;
	if (am_state_agreement(s, id, 0, &a) != AM_OK)
		return NULL;
	char *t = a.title != NULL ? strdup(a.title) : NULL;
	am_state_agreement_finish(&a);
	return t;
}

static void
describe_member(struct am_store *s, const struct am_object_info *info,
	const uint8_t hash[static 32], char *out, size_t size)
{
	struct am_member *m = NULL;
	struct am_circle_info *ci = NULL;
	size_t n = 0, nc = 0;
	const char *circle = "?";
	char who[CLI_SHORT_NAME] = "someone";
	uint32_t role = AM_ROLE_MEMBER;

	if (am_state_members(s, info->circle, &m, &n) == AM_OK) {
		for (size_t i = 0; i < n; i++) {
			if (!m[i].creator && memcmp(m[i].proposal, hash, 32) == 0) {
				cli_short_id(s, m[i].id, who);
				role = m[i].role;
			}
		}
	}
	if (am_state_circles(s, NULL, &ci, &nc) == AM_OK)
		for (size_t i = 0; i < nc; i++)
			if (memcmp(ci[i].id, info->circle, 32) == 0)
				circle = ci[i].name;
	snprintf(out, size, "%s joining '%s' as %s", who, circle,
		cli_role_name(role));
	am_state_circles_free(&ci, nc);
	free(m);
}

void
cli_describe(struct am_store *s, const uint8_t hash[static 32], char *out,
	size_t size)
{
	struct am_object_info info;
	char h[CLI_SHORT_HASH];
	char *title = NULL;

	cli_short_hash(hash, h);
	if (am_state_lookup(s, hash, &info) != AM_OK) {
		snprintf(out, size, "%s", h);
		return;
	}
	switch (info.kind) {
	case AM_KIND_MEMBER:
		describe_member(s, &info, hash, out, size);
		return;
	case AM_KIND_PROPOSE:
	case AM_KIND_AMEND:
		title = title_of(s, info.agreement);
		snprintf(out, size, "version %s of '%s'", h, title ? title : "?");
		break;
	case AM_KIND_END:
		title = title_of(s, info.agreement);
		snprintf(out, size, "the end (%s) of '%s'", h, title ? title : "?");
		break;
	case AM_KIND_CHECKIN:
		title = title_of(s, info.agreement);
		snprintf(out, size, "check-in %s of '%s'", h, title ? title : "?");
		break;
	case AM_KIND_STATEMENT:
		snprintf(out, size, "statement %s", h);
		break;
	default:
		snprintf(out, size, "%s", h);
		break;
	}
	free(title);
}
