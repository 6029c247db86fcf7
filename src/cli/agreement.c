/*
 * Printing what the library's views assemble (include/amends/view.h) for
 * the reading commands (show, list, status, log, export) and for checkin:
 * schedules, statuses, check-ins, corrections and answers, as text and
 * JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agreement.h"
#include "rotate.h"
#include "format.h"

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
cli_json_marks(struct json *j, const struct am_mark *m, uint32_t n,
	int64_t refers)
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
		cli_json_dated(j, m[i].time, refers);
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

size_t
cli_checkin_waits(struct am_store *s, const struct am_checkin *v, size_t n,
	size_t i, char *out, size_t size)
{
	const struct am_checkin *cur = am_checkins_counting(v, n, i);
	const struct am_checkin *k = &v[i];
	size_t count = 0, len = 0;
	char who[CLI_SHORT_NAME];
	if (size > 0)
		out[0] = '\0';
	if (cur == NULL || cur == k)
		return 0;
	for (uint32_t m = 0; m < cur->nmarks; m++) {
		bool ok = false;
		for (uint32_t q = 0; q < k->nmarks; q++)
			ok = ok || (memcmp(k->marks[q].id, cur->marks[m].id, 32) == 0 &&
				k->marks[q].kind == AM_MARK_CONFIRMED);
		if (ok)
			continue;
		cli_short_id(s, cur->marks[m].id, who);
		if (len < size)
			len += (size_t)snprintf(out + len, size - len, "%s%s",
				count ? " and " : "", who);
		count++;
	}
	return count;
}

void
cli_checkin_role(struct am_store *s, const struct am_checkin *v, size_t n,
	size_t i, char *out, size_t size)
{
	const struct am_checkin *k = &v[i];
	char h[CLI_SHORT_HASH], names[256];
	bool alone = !k->correction &&
		(i + 1 >= n || !v[i + 1].correction);
	if (alone) {
		snprintf(out, size, "%s", "");
		return;
	}
	if (!k->correction) {
		snprintf(out, size, "%s", k->counts ? "counts: not replaced by "
			"its correction" : "corrected: no longer counts");
		return;
	}
	cli_short_hash(k->corrects, h);
	if (k->counts)
		snprintf(out, size, "corrects %s: counts", h);
	else if (k->disputed)
		snprintf(out, size, "corrects %s: disputed, does not count", h);
	else if (!am_checkins_open(v, n, i))
		snprintf(out, size, "corrects %s: a later correction counts", h);
	else if (s != NULL && cli_checkin_waits(s, v, n, i, names, sizeof names) > 0)
		snprintf(out, size, "corrects %s: counts once %s confirm%s it", h,
			names, strstr(names, " and ") ? "" : "s");
	else
		snprintf(out, size, "corrects %s: counts once everyone who "
			"answered the one that counts confirms it", h);
}

void
cli_json_checkin_history(struct json *j, const struct am_checkin *k)
{
	json_kbool(j, "counts", k->counts);
	json_kbool(j, "correction", k->correction);
	json_key(j, "corrects");
	if (k->correction)
		json_hash(j, k->corrects);
	else
		json_null(j);
	json_key(j, "answers");
	json_arr(j);
	for (uint32_t i = 0; i < k->nanswers; i++) {
		const struct am_mark *m = &k->answers[i];
		json_obj(j);
		json_key(j, "id");
		json_id(j, m->id);
		json_kstr(j, "kind", m->kind == AM_MARK_CONFIRMED ? "confirmed" :
			"disputed");
		json_kbool(j, "witness", m->witness);
		json_key(j, "time");
		json_time(j, m->time);
		cli_json_dated(j, m->time, k->time);
		json_key(j, "entry");
		json_hash(j, m->entry);
		json_kstr(j, "note", m->note);
		json_end_obj(j);
	}
	json_end_arr(j);
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

void
cli_dated_text(int64_t time, int64_t refers, const char *what, int64_t now,
	char *out, size_t size)
{
	uint32_t d = am_view_dated(time, refers, now);
	if (d == 0) {
		snprintf(out, size, "%s", "");
		return;
	}
	snprintf(out, size, " (%s%s%s%s)", d & AM_DATED_BEFORE ? "dated before the " : "",
		d & AM_DATED_BEFORE ? what : "",
		d == (AM_DATED_BEFORE | AM_DATED_FUTURE) ? "; " : "",
		d & AM_DATED_FUTURE ? "dated in the future" : "");
}

void
cli_json_dated(struct json *j, int64_t time, int64_t refers)
{
	uint32_t d = am_view_dated(time, refers, j->now);
	json_key(j, "dated");
	if (d == 0)
		json_null(j);
	else
		json_str(j, d == AM_DATED_BEFORE ? "before" : d == AM_DATED_FUTURE ?
			"future" : "before,future");
}

bool
cli_unshown(const char *what, const uint8_t id[static 32], int rc)
{
	char h[CLI_SHORT_HASH];
	if (rc == AM_OK || rc == AM_ERR_ZONE || rc == AM_ERR_NOMEM ||
	    (rc >= AM_ERR_DB && rc <= AM_ERR_DB_CORRUPT))
		return false;
	cli_short_hash(id, h);
	fprintf(stderr, "amends: %s %s could not be shown: %s\n", what, h,
		am_strerror(rc));
	return true;
}

bool
cli_agreement_unshown(const uint8_t id[static 32], int rc)
{
	return cli_unshown("agreement", id, rc);
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

/* Whom the removal hash names, from the removals still open or, once it
 * took effect, the member it made depart; false when neither. */
bool
cli_removal_target(struct am_store *s, const uint8_t circle[static 32],
	const uint8_t hash[static 32], uint8_t target[static 32], bool *done)
{
	struct am_removal *r = NULL;
	struct am_member *m = NULL;
	size_t n = 0;
	bool found = false;
	*done = false;
	if (am_state_removals(s, circle, &r, &n) == AM_OK)
		for (size_t i = 0; i < n && !found; i++)
			if (memcmp(r[i].hash, hash, 32) == 0) {
				memcpy(target, r[i].target, 32);
				found = true;
			}
	am_state_removals_free(&r, n);
	if (!found && am_state_members(s, circle, &m, &n) == AM_OK)
		for (size_t i = 0; i < n && !found; i++)
			if (m[i].departure_kind == AM_KIND_REMOVE &&
			    memcmp(m[i].departure, hash, 32) == 0) {
				memcpy(target, m[i].id, 32);
				found = *done = true;
			}
	free(m);
	return found;
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
	case AM_KIND_REMOVE: {
		uint8_t target[32];
		char who[CLI_SHORT_NAME] = "someone";
		bool done;
		if (cli_removal_target(s, info.circle, hash, target, &done))
			cli_short_id(s, target, who);
		snprintf(out, size, "the removal (%s) of %s", h, who);
		return;
	}
	case AM_KIND_SUCCESSION: {
		uint8_t old[32], heir[32];
		char who[CLI_SHORT_NAME] = "someone", nf[AM_FPR_TEXT_BYTES] = "?";
		if (cli_succession_keys(s, hash, old, heir)) {
			cli_short_id(s, old, who);
			am_id_fingerprint(heir, nf);
		}
		snprintf(out, size, "the succession (%s): the new key %s in the "
			"place of %s", h, nf, who);
		return;
	}
	case AM_KIND_PROPOSE:
	case AM_KIND_AMEND:
		title = title_of(s, info.agreement);
		snprintf(out, size, "version %s of '%s'", h, title ? cli_shown_c(title) : "?");
		break;
	case AM_KIND_END:
		title = title_of(s, info.agreement);
		snprintf(out, size, "the end (%s) of '%s'", h, title ? cli_shown_c(title) : "?");
		break;
	case AM_KIND_CHECKIN:
		title = title_of(s, info.agreement);
		snprintf(out, size, "check-in %s of '%s'", h, title ? cli_shown_c(title) : "?");
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
