/*
 * amends show: everything about one agreement: the text of every version
 * and who signed what and when, its schedule, its end, every check-in with
 * its confirmations and disputes, and adherence per person (due, kept,
 * partial, missed, streak). The JSON form holds all of it; the text form
 * is meant to be read at a glance.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "agreement.h"
#include "cli.h"
#include "format.h"
#include "resolve.h"

static const char usage[] =
	"usage: amends show AGREEMENT [--json]\n\n"
	"Shows the agreement AGREEMENT (the start of its hash): its versions and\n"
	"who signed them, its schedule, its check-ins and how each person has\n"
	"kept it.\n";

static const char *
position_name(uint32_t p)
{
	return p == AM_POS_ACCEPTED ? "accepted" : p == AM_POS_DECLINED ?
		"declined" : "none";
}

/* Verified and disputed check-ins of one person. */
static void
count_marks(const struct am_agreement_view *x, const uint8_t *who, int *verified,
	int *disputed)
{
	*verified = *disputed = 0;
	for (size_t i = 0; i < x->ncheckins; i++) {
		if (memcmp(x->checkins[i].author, who, 32) != 0 ||
		    !x->checkins[i].counts)
			continue;
		*verified += x->checkins[i].verified;
		*disputed += x->checkins[i].disputed;
	}
}

/* The claimed time of the version v amends (INT64_MIN: none here). */
static int64_t
base_time(const struct am_agreement_view *x, const struct am_version *v)
{
	for (size_t i = 0; v->has_base && i < x->nversions; i++)
		if (memcmp(x->versions[i].hash, v->base, 32) == 0)
			return x->versions[i].time;
	return INT64_MIN;
}

/* ---- JSON ---- */

static void
json_terms(struct json *j, const struct am_terms *t)
{
	json_key(j, "title");
	json_strn(j, t->title);
	json_key(j, "text");
	json_strn(j, t->text);
	json_key(j, "parties");
	json_arr(j);
	for (uint32_t i = 0; i < t->nparties; i++)
		json_id(j, t->parties[i]);
	json_end_arr(j);
	json_key(j, "by");
	json_arr(j);
	for (uint32_t i = 0; i < t->nby; i++)
		json_id(j, t->by[i]);
	json_end_arr(j);
	json_key(j, "schedule");
	cli_json_schedule(j, t);
	json_key(j, "tz");
	json_strn(j, t->tz);
	json_kint(j, "grace", (int64_t)t->grace);
	json_key(j, "from");
	json_strn(j, t->from);
	json_key(j, "until");
	json_strn(j, t->until);
	json_kint(j, "notice", (int64_t)t->notice);
	json_key(j, "pauses");
	json_arr(j);
	for (uint32_t i = 0; i < t->npauses; i++) {
		json_arr(j);
		json_strn(j, t->pauses[i].from);
		json_strn(j, t->pauses[i].until);
		json_end_arr(j);
	}
	json_end_arr(j);
}

static void
json_version(struct json *j, const struct am_agreement_view *x,
	const struct am_version *v)
{
	json_obj(j);
	json_key(j, "hash");
	json_hash(j, v->hash);
	json_kint(j, "depth", v->depth);
	json_key(j, "base");
	if (v->has_base)
		json_hash(j, v->base);
	else
		json_null(j);
	json_key(j, "author");
	json_id(j, v->author);
	json_key(j, "time");
	json_time(j, v->time);
	json_kstr(j, "status", cli_version_status_name(v->status));
	json_kbool(j, "withdrawn", v->withdrawn);
	json_terms(j, &v->body.terms);
	json_key(j, "signatures");
	json_arr(j);
	/* the parties, then the others whose acceptance it needs: the
	 * parties of the version it replaces (protocol/state.md) */
	for (uint32_t i = 0; i < v->nsigs + v->nothers; i++) {
		const struct am_signature *g = i < v->nsigs ? &v->sigs[i] :
			&v->others[i - v->nsigs];
		json_obj(j);
		json_kbool(j, "party", i < v->nsigs);
		json_key(j, "id");
		json_id(j, g->id);
		json_kstr(j, "position", position_name(g->position));
		json_kbool(j, "implicit", g->implicit);
		json_key(j, "time");
		if (g->position != AM_POS_NONE)
			json_time(j, g->time);
		else
			json_null(j);
		json_key(j, "entry");
		if (g->position != AM_POS_NONE)
			json_hash(j, g->entry);
		else
			json_null(j);
		json_kstr(j, "note", g->note);
		json_key(j, "declined_before");
		if (g->was_declined) {
			json_obj(j);
			json_key(j, "entry");
			json_hash(j, g->declined);
			json_key(j, "time");
			json_time(j, g->declined_time);
			json_kstr(j, "note", g->declined_note);
			json_end_obj(j);
		} else {
			json_null(j);
		}
		cli_json_dated(j, g->position != AM_POS_NONE ? g->time : v->time,
			v->time);
		json_end_obj(j);
	}
	json_end_arr(j);
	cli_json_dated(j, v->time, base_time(x, v));
	json_end_obj(j);
}

static void
json_checkin(struct json *j, const struct am_agreement_view *x,
	const struct am_checkin *k)
{
	json_obj(j);
	json_key(j, "hash");
	json_hash(j, k->hash);
	json_kstr(j, "period", k->period);
	json_key(j, "author");
	json_id(j, k->author);
	json_kstr(j, "status", cli_status_name(k->status));
	json_kstr(j, "note", k->note);
	json_key(j, "time");
	json_time(j, k->time);
	json_kstr(j, "state", cli_checkin_state(k));
	json_kbool(j, "verified", k->verified);
	json_kbool(j, "disputed", k->disputed);
	cli_json_marks(j, k->marks, k->nmarks, k->time);
	cli_json_checkin_history(j, k);
	cli_json_dated(j, k->time, x->a.proposed);
	json_end_obj(j);
}

static void
json_end(struct json *j, const struct am_agreement *a)
{
	json_key(j, "end");
	if (!a->has_end) {
		json_null(j);
		return;
	}
	json_obj(j);
	json_key(j, "entry");
	json_hash(j, a->end);
	json_key(j, "by");
	json_id(j, a->ended_by);
	json_kbool(j, "mutual", a->end_mutual);
	json_key(j, "at");
	json_time(j, a->end_at);
	json_kstr(j, "reason", a->end_reason);
	json_kstr(j, "kind", a->end_kind == AM_KIND_LEAVE ? "leave" :
		a->end_kind == AM_KIND_REMOVE ? "remove" : "end");
	json_end_obj(j);
}

static void
json_adherence(struct json *j, const struct am_agreement_view *x)
{
	struct am_adherence ad;
	json_key(j, "adherence");
	if (am_agreement_view_adherence(x, NULL, &ad) != AM_OK) {
		json_null(j);
		return;
	}
	json_obj(j);
	json_key(j, "as_of");
	json_time(j, x->until);
	json_key(j, "all");
	cli_json_adherence(j, &ad);
	json_key(j, "people");
	json_arr(j);
	for (uint32_t i = 0; i < x->nchecker; i++) {
		int verified, disputed;
		if (am_agreement_view_adherence(x, x->checker[i], &ad) != AM_OK)
			continue;
		count_marks(x, x->checker[i], &verified, &disputed);
		json_obj(j);
		json_key(j, "id");
		json_id(j, x->checker[i]);
		json_key(j, "adherence");
		cli_json_adherence(j, &ad);
		json_kint(j, "verified", verified);
		json_kint(j, "disputed", disputed);
		json_end_obj(j);
	}
	json_end_arr(j);
	json_end_obj(j);
}

static void
show_json(struct am_store *s, const struct am_agreement_view *x)
{
	struct json j;
	const struct am_agreement *a = &x->a;

	json_init(&j, stdout, s);
	json_obj(&j);
	json_key(&j, "id");
	json_hash(&j, a->id);
	json_key(&j, "circle");
	json_hash(&j, a->circle);
	json_kstr(&j, "title", a->title);
	json_kstr(&j, "status", cli_agreement_status_name(a->status));
	json_key(&j, "proposer");
	json_id(&j, a->proposer);
	json_key(&j, "proposed");
	json_time(&j, a->proposed);
	json_key(&j, "current");
	if (a->has_current)
		json_hash(&j, a->current);
	else
		json_null(&j);
	json_key(&j, "newest");
	json_hash(&j, a->newest);
	json_key(&j, "in_force_since");
	if (a->in_force_ever)
		json_time(&j, x->anchor);
	else
		json_null(&j);
	json_end(&j, a);
	json_key(&j, "versions");
	json_arr(&j);
	for (size_t i = 0; i < x->nversions; i++)
		json_version(&j, x, &x->versions[i]);
	json_end_arr(&j);
	json_key(&j, "checkins");
	json_arr(&j);
	for (size_t i = 0; i < x->ncheckins; i++)
		json_checkin(&j, x, &x->checkins[i]);
	json_end_arr(&j);
	json_adherence(&j, x);
	json_names(&j);
	json_end_obj(&j);
}

/* ---- text ---- */

static void
text_signatures(struct am_store *s, const struct am_version *v, int64_t now)
{
	char who[CLI_SHORT_NAME], when[CLI_TIME_BYTES], dated[96];
	for (uint32_t i = 0; i < v->nsigs + v->nothers; i++) {
		const struct am_signature *g = i < v->nsigs ? &v->sigs[i] :
			&v->others[i - v->nsigs];
		/* the others are asked as parties of what it replaces */
		const char *as = i < v->nsigs ? "" : " (not a party: asked as a "
			"party of the version it replaces)";
		cli_short_id(s, g->id, who);
		if (g->position == AM_POS_NONE) {
			printf("      %-12s has not answered%s\n", who, as);
			continue;
		}
		cli_time_local(g->time, when);
		cli_dated_text(g->time, v->time, g->position == AM_POS_ACCEPTED ?
			"version it accepts" : "version it declines", now, dated,
			sizeof dated);
		printf("      %-12s %s %s%s%s%s", who, position_name(g->position), when,
			g->implicit ? " (wrote it)" : "", dated, as);
		if (g->note != NULL)
			printf(": %s", cli_shown_c(g->note));
		if (g->was_declined) {
			cli_time_local(g->declined_time, when);
			printf(", after declining %s%s%s", when,
				g->declined_note ? ": " : "",
				g->declined_note ? cli_shown_c(g->declined_note) : "");
		}
		printf("\n");
	}
}

/* "left", "removed" or "replaced by NEW" when id is a member of circle
 * who is neither joined nor pending any more (a LEAVE of theirs stored:
 * left); "succeeds OLD" for a key that took another's place; NULL
 * otherwise. Valid until the next call. */
static const char *
departed(struct am_store *s, const uint8_t circle[static 32],
	const uint8_t id[static 32])
{
	static const uint8_t zero[32];
	static char buf[CLI_SHORT_NAME + 32];
	struct am_member *m = NULL;
	size_t n = 0;
	const char *what = NULL;
	char f[AM_FPR_TEXT_BYTES], old[CLI_SHORT_NAME];
	if (am_state_members(s, circle, &m, &n) != AM_OK)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (memcmp(m[i].id, id, 32) != 0)
			continue;
		if (m[i].departure_kind == AM_KIND_SUCCESSION) {
			am_id_fingerprint(m[i].heir, f);
			snprintf(buf, sizeof buf, "replaced by %s", f);
			what = buf;
		} else if (m[i].departure_kind != 0) {
			what = m[i].departure_kind == AM_KIND_REMOVE ? "removed" : "left";
		} else if (memcmp(m[i].succeeds, zero, 32) != 0) {
			cli_short_id(s, m[i].succeeds, old);
			am_id_fingerprint(m[i].succeeds, f);
			snprintf(buf, sizeof buf, "succeeds %s, %s", old, f);
			what = buf;
		}
	}
	free(m);
	return what;
}

static void
text_people(struct am_store *s, const uint8_t circle[static 32],
	const char *label, const uint8_t ids[][32], uint32_t n)
{
	char who[CLI_SHORT_NAME];
	printf("%s", label);
	for (uint32_t i = 0; i < n; i++) {
		const char *gone = departed(s, circle, ids[i]);
		cli_short_id(s, ids[i], who);
		printf("%s %s%s%s%s", i ? "," : "", who, gone ? " (" : "",
			gone ? gone : "", gone ? ")" : "");
	}
	if (n == 0)
		printf(" every party");
	printf("\n");
}

static void
text_versions(struct am_store *s, const struct am_agreement_view *x)
{
	char h[CLI_SHORT_HASH], who[CLI_SHORT_NAME], when[CLI_TIME_BYTES];
	char sched[512], dated[96];
	printf("\nversions\n");
	for (size_t i = 0; i < x->nversions; i++) {
		const struct am_version *v = &x->versions[i];
		const struct am_terms *t = &v->body.terms;
		cli_short_hash(v->hash, h);
		cli_short_id(s, v->author, who);
		cli_time_local(v->time, when);
		cli_dated_text(v->time, base_time(x, v), "version it amends", x->now,
			dated, sizeof dated);
		printf("  %u  %s  %s  by %-12s %s%s%s\n", v->depth + 1, h, when, who,
			v->withdrawn ? "withdrawn" :
			cli_words(cli_version_status_name(v->status)), dated,
			v->withdrawn ? " (its author declined it before it completed)" : "");
		printf("      %s\n", cli_shown(t->title));
		if (t->text.n > 0)
			printf("      \"%s\"\n", cli_shown(t->text));
		cli_agreement_schedule_text(t, sched, sizeof sched);
		printf("      %s\n", sched);
		text_signatures(s, v, x->now);
	}
}

static void
text_checkins(struct am_store *s, const struct am_agreement_view *x)
{
	char h[CLI_SHORT_HASH], who[CLI_SHORT_NAME], mk[CLI_SHORT_NAME];
	char role[512], dated[96];
	if (x->ncheckins == 0) {
		printf("\nno check-ins yet\n");
		return;
	}
	printf("\ncheck-ins\n  %-14s %-12s %-8s %-10s %-9s %s\n", "PERIOD", "WHO",
		"STATUS", "STATE", "HASH", "NOTE / MARKS");
	for (size_t i = 0; i < x->ncheckins; i++) {
		const struct am_checkin *k = &x->checkins[i];
		cli_short_hash(k->hash, h);
		cli_short_id(s, k->author, who);
		cli_dated_text(k->time, x->a.proposed, "agreement it reports on",
			x->now, dated, sizeof dated);
		printf("  %-14s %-12s %-8s %-10s %-9s %s%s", cli_shown_c(k->period), who,
			cli_status_name(k->status), cli_checkin_state(k), h,
			k->note != NULL ? cli_shown_c(k->note) : "",
			dated[0] != '\0' && k->note == NULL ? dated + 1 : dated);
		bool said = k->note != NULL || dated[0] != '\0';
		/* every answer, in order: a changed answer shows what it was */
		for (uint32_t m = 0; m < k->nanswers; m++) {
			const struct am_mark *a = &k->answers[m];
			cli_short_id(s, a->id, mk);
			cli_dated_text(a->time, k->time,
				a->kind == AM_MARK_CONFIRMED ? "check-in it confirms" :
				"check-in it disputes", x->now, dated, sizeof dated);
			printf("%s%s %s%s%s%s", m || said ? "; " : "", mk,
				a->kind == AM_MARK_CONFIRMED ? "confirmed" : "disputed",
				a->note ? ": " : "", a->note ? cli_shown_c(a->note) : "", dated);
		}
		printf("\n");
		cli_checkin_role(s, x->checkins, x->ncheckins, i, role, sizeof role);
		if (role[0] != '\0')
			printf("  %-14s %-12s %s\n", "", "", role);
	}
}

static void
text_adherence_row(const char *who, const struct am_adherence *a, int verified,
	int disputed)
{
	printf("  %-12s %4u %5u %8u %7u %7u %5u", who, a->due, a->kept, a->partial,
		a->missed, a->streak, a->late);
	if (verified >= 0)
		printf(" %9d %9d", verified, disputed);
	printf("\n");
}

static void
text_adherence(struct am_store *s, const struct am_agreement_view *x)
{
	struct am_adherence ad;
	char who[CLI_SHORT_NAME], when[CLI_TIME_BYTES];
	if (am_agreement_view_adherence(x, NULL, &ad) != AM_OK)
		return;
	cli_time_local(x->until, when);
	printf("\nadherence as of %s\n  %-12s %4s %5s %8s %7s %7s %5s %9s %9s\n",
		when, "WHO", "DUE", "KEPT", "PARTIAL", "MISSED", "STREAK", "LATE",
		"VERIFIED", "DISPUTED");
	for (uint32_t i = 0; i < x->nchecker; i++) {
		int verified, disputed;
		if (am_agreement_view_adherence(x, x->checker[i], &ad) != AM_OK)
			continue;
		count_marks(x, x->checker[i], &verified, &disputed);
		cli_short_id(s, x->checker[i], who);
		text_adherence_row(who, &ad, verified, disputed);
	}
	if (x->nchecker > 1 && am_agreement_view_adherence(x, NULL, &ad) == AM_OK)
		text_adherence_row("together", &ad, -1, -1);
}

/* The circle's name as the state gives it now (renamed or not). */
static void
text_circle(struct am_store *s, const uint8_t circle[static 32])
{
	char h[CLI_SHORT_HASH], *name = NULL;
	uint8_t from[32];
	if (am_state_circle_name(s, circle, &name, from) != AM_OK)
		return;
	cli_short_hash(circle, h);
	printf("circle: %s (%s)\n", cli_shown_c(name), h);
	free(name);
}

static void
show_text(struct am_store *s, const struct am_agreement_view *x)
{
	const struct am_agreement *a = &x->a;
	char h[CLI_SHORT_HASH], who[CLI_SHORT_NAME], when[CLI_TIME_BYTES];
	char sched[512];

	cli_short_hash(a->id, h);
	printf("%s  (%s)  %s", cli_shown_c(a->title), h,
		cli_words(cli_agreement_status_name(a->status)));
	if (a->in_force_ever) {
		cli_time_local(x->anchor, when);
		printf(" (first in force %s)", when);
	}
	printf("\n");
	cli_short_id(s, a->proposer, who);
	cli_time_local(a->proposed, when);
	printf("proposed by %s on %s\n", who, when);
	text_circle(s, a->circle);
	if (a->has_end) {
		cli_short_id(s, a->ended_by, who);
		cli_time_local(a->end_at, when);
		printf("%s by %s%s%s%s %s%s%s\n",
			a->status == AM_AGREEMENT_ENDED ? "ended" : "ending",
			who, a->end_kind == AM_KIND_LEAVE ? " leaving the circle" :
			a->end_kind == AM_KIND_REMOVE ? "'s removal from the circle" : "",
			a->end_mutual ? " with everyone's consent" : "",
			a->status == AM_AGREEMENT_ENDED ? " on" : ", takes effect on", when,
			a->end_reason ? ": " : "",
			a->end_reason ? cli_shown_c(a->end_reason) : "");
	}
	const struct am_version *v = x->current != NULL ? x->current : x->newest;
	if (v != NULL) {
		cli_agreement_schedule_text(&v->body.terms, sched, sizeof sched);
		printf("schedule: %s\n", sched);
		text_people(s, a->circle, "parties:", v->body.terms.parties,
			v->body.terms.nparties);
		text_people(s, a->circle, "checks in:", v->body.terms.by,
			v->body.terms.nby);
	}
	text_versions(s, x);
	text_checkins(s, x);
	text_adherence(s, x);
}

int
cmd_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct am_agreement_view x = { 0 };
	struct am_view *view = NULL;
	struct cli c = { 0 };
	uint8_t id[32];
	bool json = false;
	int opt, rc, ret = 1;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': json = true; break;
		case 'h': cli_usage(stdout, usage); return 0;
		default: cli_usage(stderr, usage); return 1;
		}
	}
	if (argc - optind != 1) {
		cli_usage(stderr, usage);
		return 1;
	}
	if (cli_open(&c, CLI_STORE) != 0)
		goto out;
	if (cli_resolve_object(c.store, argv[optind], AM_OBJ_AGREEMENT, "agreement",
	    id) != 0)
		goto out;
	if ((rc = am_view_open(c.store, &view)) == AM_OK) {
		rc = am_view_agreement(view, id, cli_now_ms(), true, &x);
		am_view_close(&view);
	}
	if (rc != AM_OK && rc != AM_ERR_ZONE) {
		ret = cli_fail("reading the agreement", rc);
		goto out;
	}
	if (json)
		show_json(c.store, &x);
	else
		show_text(c.store, &x);
	if (rc == AM_ERR_ZONE)
		cli_error("the agreement's time zone is not known here, so adherence "
			"is not shown; install the zone data (tzdata)");
	ret = 0;
out:
	am_agreement_view_finish(&x);
	cli_close(&c);
	return ret;
}
