/*
 * amends status: the home screen. What awaits your signature, what you
 * could confirm, which of your check-ins are due now or overdue (by the
 * schedule, in the agreement's own zone), which check-ins are disputed,
 * and for each of your circles its digest and how each agreement has been
 * kept. Each section is one function, so a section can be added without
 * touching the others; those about the record itself (what the other
 * nodes hold, checkpoints, misbehaviour) are in status_record.c.
 *
 * In the JSON form, "you", "awaiting", "to_confirm", "due" and "names" are
 * this node's own view; "disputes" and "circles" are the same on every
 * node that holds the same entries. A new section that is this node's own
 * (such as what its peers last said) goes before "disputes": the cli
 * tests compare everything from "disputes" up to "names" across nodes.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "amends/rotate.h"
#include "agreement.h"
#include "cli.h"
#include "format.h"
#include "status.h"

static const char usage[] =
	"usage: amends status [--json]\n\n"
	"Shows what awaits your signature or confirmation, your check-ins due\n"
	"now or overdue, disputed check-ins, and for each circle its digest\n"
	"(equal digests: equal records) and how its agreements have been kept.\n";

/* ---- loading ---- */

static int
load_circle(struct status *st, struct circle_data *d)
{
	struct am_agreement *list = NULL;
	size_t n = 0;
	uint32_t role;
	int rc;

	d->witness = am_state_member_role(st->s, d->info->id, st->me, &role) ==
		AM_OK && role == AM_ROLE_WITNESS;
	if ((rc = am_store_digest(st->s, d->info->id, d->digest)) != AM_OK)
		return rc;
	if ((rc = am_state_agreements(st->s, d->info->id, st->now, &list, &n)) != AM_OK)
		return cli_unshown("the agreements of circle", d->info->id, rc) ?
			AM_OK : rc;
	if (n > 0 && (d->ag = calloc(n, sizeof *d->ag)) == NULL) {
		am_state_agreements_free(&list, n);
		return AM_ERR_NOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		rc = am_view_agreement(st->view, list[i].id, st->now, true,
			&d->ag[d->nag]);
		if (cli_agreement_unshown(list[i].id, rc)) {
			am_agreement_view_finish(&d->ag[d->nag]);
			rc = AM_OK;
			continue;
		}
		d->nag++;
		if (rc != AM_OK && rc != AM_ERR_ZONE)
			break;
		rc = AM_OK;
	}
	am_state_agreements_free(&list, n);
	if (rc != AM_OK)
		return rc;
	rc = am_state_statements_awaiting(st->s, d->info->id, st->me, &d->st, &d->nst);
	if (!cli_unshown("the statements of circle", d->info->id, rc) && rc != AM_OK)
		return rc;
	rc = am_state_removals(st->s, d->info->id, &d->rm, &d->nrm);
	return cli_unshown("the removals of circle", d->info->id, rc) ? AM_OK : rc;
}

/* Adds to p what awaits the answer of the rotation's new key in circle:
 * the successions to it (amends accept signs them with it). */
static int
next_pending(struct status *st, const uint8_t circle[static 32],
	struct am_pending **p, size_t *n)
{
	struct am_pending *q = NULL;
	size_t nq = 0, k = 0;
	int rc = am_state_pending(st->s, circle, st->next, &q, &nq);
	if (rc != AM_OK || nq == 0)
		return rc;
	struct am_pending *all = realloc(*p, (*n + nq) * sizeof *all);
	if (all == NULL) {
		am_state_pending_free(&q, nq);
		return AM_ERR_NOMEM;
	}
	*p = all;
	for (size_t i = 0; i < nq; i++) {
		if (q[i].kind == AM_PENDING_SUCCESSION && !q[i].declined) {
			all[*n + k++] = q[i];
			q[i].title = NULL;
		}
	}
	*n += k;
	am_state_pending_free(&q, nq);
	return AM_OK;
}

/* What awaits your signature, circle by circle of yours: asking for all
 * circles at once would list every circle in the store again. */
static int
load_pending(struct status *st)
{
	for (size_t i = 0; i < st->ncircles; i++) {
		struct am_pending *p;
		size_t n;
		int rc = am_state_pending(st->s, st->circles[i].id, st->me, &p, &n);
		if (rc != AM_OK)
			return rc;
		if (st->next != NULL && (rc = next_pending(st, st->circles[i].id,
		    &p, &n)) != AM_OK) {
			am_state_pending_free(&p, n);
			return rc;
		}
		if (n == 0)
			continue;
		struct am_pending *all = realloc(st->pending,
			(st->npending + n) * sizeof *all);
		if (all == NULL) {
			am_state_pending_free(&p, n);
			return AM_ERR_NOMEM;
		}
		memcpy(all + st->npending, p, n * sizeof *p);
		st->pending = all;
		st->npending += n;
		free(p);      /* its titles now belong to st->pending */
	}
	return AM_OK;
}

static int
load_all(struct status *st)
{
	int rc = am_state_circles(st->s, st->me, &st->circles, &st->ncircles);
	if (rc != AM_OK)
		return rc;
	/* every view shows the name the circle has now (a RENAME's) */
	for (size_t i = 0; i < st->ncircles; i++) {
		char *name = NULL;
		uint8_t from[32];
		if (am_state_circle_name(st->s, st->circles[i].id, &name, from)
		    != AM_OK)
			continue;
		free(st->circles[i].name);
		st->circles[i].name = name;
	}
	if ((rc = load_pending(st)) != AM_OK)
		return rc;
	if (st->ncircles > 0 &&
	    (st->cd = calloc(st->ncircles, sizeof *st->cd)) == NULL)
		return AM_ERR_NOMEM;
	for (size_t i = 0; i < st->ncircles; i++) {
		st->cd[i].info = &st->circles[i];
		if ((rc = load_circle(st, &st->cd[i])) != AM_OK)
			return rc;
	}
	return AM_OK;
}

/* Reads everything status shows in one snapshot: a commit in between
 * (the node's, another command's) cannot mix two states. */
static int
load(struct status *st)
{
	int rc = am_view_open(st->s, &st->view);
	if (rc != AM_OK)
		return rc;
	rc = load_all(st);
	am_view_close(&st->view);
	return rc;
}

static void
finish(struct status *st)
{
	for (size_t i = 0; st->cd != NULL && i < st->ncircles; i++) {
		for (size_t k = 0; k < st->cd[i].nag; k++)
			am_agreement_view_finish(&st->cd[i].ag[k]);
		free(st->cd[i].ag);
		am_state_statements_free(&st->cd[i].st, st->cd[i].nst);
		am_state_removals_free(&st->cd[i].rm, st->cd[i].nrm);
	}
	free(st->cd);
	am_state_circles_free(&st->circles, st->ncircles);
	am_state_pending_free(&st->pending, st->npending);
}

/* ---- helpers ---- */

static bool
has_mark(const struct am_mark *m, uint32_t n, const uint8_t *id)
{
	for (uint32_t i = 0; i < n; i++)
		if (memcmp(m[i].id, id, 32) == 0)
			return true;
	return false;
}

/* A section's heading (text) or key and array (JSON). */
void
section_begin(struct status *st, const char *key, const char *heading, size_t n)
{
	if (st->json) {
		json_key(&st->j, key);
		json_arr(&st->j);
	} else if (n > 0) {
		printf("\n%s\n", heading);
	}
}

void
section_end(struct status *st)
{
	if (st->json)
		json_end_arr(&st->j);
}

/* ---- sections ---- */

static void
section_you(struct status *st)
{
	char who[CLI_SHORT_NAME], text[AM_ID_TEXT_BYTES];
	if (st->json) {
		json_key(&st->j, "you");
		json_id(&st->j, st->me);
		return;
	}
	cli_short_id(st->s, st->me, who);
	am_id_format(st->me, text);
	printf("you: %s (%.8s)\n", who, text);
	if (st->ncircles == 0)
		printf("\nno circles yet; create one with amends circle new NAME, or "
			"accept an invitation\n");
}

static void
section_awaiting(struct status *st)
{
	const struct am_pending *p = st->pending;
	size_t n = st->npending;
	section_begin(st, "awaiting", "awaiting your signature", n);
	for (size_t i = 0; i < n; i++) {
		const char *kind = p[i].kind == AM_PENDING_VERSION ? "version" :
			p[i].kind == AM_PENDING_MEMBER ? "member" :
			p[i].kind == AM_PENDING_REMOVE ? "removal" :
			p[i].kind == AM_PENDING_SUCCESSION ? "succession" : "end";
		if (st->json) {
			struct json *j = &st->j;
			json_obj(j);
			json_kstr(j, "kind", kind);
			json_key(j, "hash");
			json_hash(j, p[i].hash);
			json_key(j, "circle");
			json_hash(j, p[i].circle);
			json_key(j, "author");
			json_id(j, p[i].author);
			json_key(j, "time");
			json_time(j, p[i].time);
			if (p[i].kind == AM_PENDING_MEMBER) {
				json_key(j, "member");
				json_id(j, p[i].member);
				json_kstr(j, "role", cli_role_name(p[i].role));
				char sn[AM_FPR_LONG_TEXT_BYTES];
				am_id_safety_number(p[i].member, sn);
				json_kstr(j, "member_safety_number", sn);
			} else if (p[i].kind == AM_PENDING_REMOVE) {
				json_key(j, "member");
				json_id(j, p[i].member);
			} else if (p[i].kind == AM_PENDING_SUCCESSION) {
				json_key(j, "member");
				json_id(j, p[i].member);
				json_key(j, "old");
				json_id(j, p[i].old);
				json_kbool(j, "your_new_key", st->next != NULL &&
					memcmp(p[i].member, st->next, 32) == 0);
			} else {
				json_key(j, "agreement");
				json_hash(j, p[i].agreement);
				json_kstr(j, "title", p[i].title);
			}
			json_kbool(j, "declined", p[i].declined);
			json_end_obj(j);
			continue;
		}
		char h[CLI_SHORT_HASH], who[CLI_SHORT_NAME], what[300];
		cli_short_hash(p[i].hash, h);
		cli_short_id(st->s, p[i].author, who);
		if (p[i].kind == AM_PENDING_MEMBER) {
			char m[CLI_SHORT_NAME];
			cli_short_id(st->s, p[i].member, m);
			snprintf(what, sizeof what, "%s joining as %s, proposed by %s", m,
				cli_role_name(p[i].role), who);
		} else if (p[i].kind == AM_PENDING_REMOVE) {
			char m[CLI_SHORT_NAME];
			cli_short_id(st->s, p[i].member, m);
			snprintf(what, sizeof what, "removing %s, proposed by %s", m, who);
		} else if (p[i].kind == AM_PENDING_SUCCESSION) {
			char o[CLI_SHORT_NAME], of[AM_FPR_TEXT_BYTES], nf[AM_FPR_TEXT_BYTES];
			cli_short_id(st->s, p[i].old, o);
			am_id_fingerprint(p[i].old, of);
			am_id_fingerprint(p[i].member, nf);
			if (st->next != NULL && memcmp(p[i].member, st->next, 32) == 0)
				snprintf(what, sizeof what, "your new key %s in the place "
					"of %s, proposed by %s", nf, of, who);
			else
				snprintf(what, sizeof what, "new key %s in the place of %s "
					"(%s), proposed by %s", nf, o, of, who);
		} else {
			snprintf(what, sizeof what, "%s of '%s' by %s", kind,
				p[i].title ? cli_shown_c(p[i].title) : "?", who);
		}
		printf("  %s  %-56s amends accept %s%s\n", h, what, h,
			p[i].declined ? " (you declined it)" : "");
		/* accepting a member is trusting a key: the number to check
		 * with them before */
		if (p[i].kind == AM_PENDING_MEMBER &&
		    memcmp(p[i].member, st->me, 32) != 0) {
			char sn[AM_FPR_LONG_TEXT_BYTES];
			am_id_safety_number(p[i].member, sn);
			printf("            safety number %s (check it with them)\n", sn);
		}
	}
	section_end(st);
}

/* What accepting r would set aside: the entries of its target's feed
 * this node holds past the head r names. */
static void
print_set_aside(const struct am_removal *r)
{
	if (r->held > r->head)
		printf("; it keeps entries 1 to %llu of %s feed, and sets aside "
			"the %llu after them that this node holds",
			(unsigned long long)r->head,
			r->kind == AM_KIND_SUCCESSION ? "the old key's" : "their",
			(unsigned long long)(r->held - r->head));
}

/* The JSON fields an open removal or succession begins with ... */
static void
json_change_head(struct json *j, const struct circle_data *d,
	const struct am_removal *r)
{
	json_obj(j);
	json_key(j, "hash");
	json_hash(j, r->hash);
	json_key(j, "circle");
	json_hash(j, d->info->id);
	json_key(j, "author");
	json_id(j, r->author);
}

/* ... and those both go on with after what each names. */
static void
json_change_tail(struct json *j, const struct am_removal *r)
{
	json_key(j, "time");
	json_time(j, r->time);
	json_key(j, "waiting");
	json_arr(j);
	for (uint32_t w = 0; w < r->nwaiting; w++)
		json_id(j, r->waiting[w]);
	json_end_arr(j);
	json_kbool(j, "needs_another_member", r->alone);
	json_kint(j, "head", (int64_t)r->head);
	json_kint(j, "set_aside", (int64_t)(r->held > r->head ?
		r->held - r->head : 0));
}

/* The removals still open in your circles: who proposed removing whom,
 * and whose acceptance each still waits for. The one a removal names
 * sees it too: nothing is done behind their back. */
static void
section_removals(struct status *st)
{
	size_t n = 0;
	for (size_t c = 0; c < st->ncircles; c++)
		for (size_t i = 0; i < st->cd[c].nrm; i++)
			n += st->cd[c].rm[i].kind == AM_KIND_REMOVE;
	section_begin(st, "removals", "removals awaiting acceptance", n);
	for (size_t c = 0; c < st->ncircles; c++) {
		const struct circle_data *d = &st->cd[c];
		for (size_t i = 0; i < d->nrm; i++) {
			const struct am_removal *r = &d->rm[i];
			if (r->kind != AM_KIND_REMOVE)
				continue;
			if (st->json) {
				struct json *j = &st->j;
				json_change_head(j, d, r);
				json_key(j, "member");
				json_id(j, r->target);
				json_change_tail(j, r);
				json_end_obj(j);
				continue;
			}
			char h[CLI_SHORT_HASH], by[CLI_SHORT_NAME], of[CLI_SHORT_NAME];
			cli_short_hash(r->hash, h);
			cli_short_id(st->s, r->author, by);
			cli_short_id(st->s, r->target, of);
			bool mine = memcmp(r->target, st->me, 32) == 0;
			printf("  %s  %s proposes removing %s from %s", h, by,
				mine ? "you" : of, cli_shown_c(d->info->name));
			if (r->nwaiting > 0) {
				printf("; waiting for");
				for (uint32_t w = 0; w < r->nwaiting; w++) {
					char who[CLI_SHORT_NAME];
					cli_short_id(st->s, r->waiting[w], who);
					printf("%s %s", w ? "," : "", who);
				}
			}
			if (r->alone && r->nwaiting == 0)
				printf("; a member other than %s and %s must accept it",
					by, mine ? "you" : of);
			print_set_aside(r);
			printf("\n");
		}
	}
	section_end(st);
}

/* The successions still open in your circles: which key would take
 * whose place (both fingerprints, to compare by voice), who proposed it,
 * and whose acceptance it still waits for. */
static void
section_successions(struct status *st)
{
	size_t n = 0;
	for (size_t c = 0; c < st->ncircles; c++)
		for (size_t i = 0; i < st->cd[c].nrm; i++)
			n += st->cd[c].rm[i].kind == AM_KIND_SUCCESSION;
	section_begin(st, "successions", "successions awaiting acceptance", n);
	for (size_t c = 0; c < st->ncircles; c++) {
		const struct circle_data *d = &st->cd[c];
		for (size_t i = 0; i < d->nrm; i++) {
			const struct am_removal *r = &d->rm[i];
			if (r->kind != AM_KIND_SUCCESSION)
				continue;
			char of[AM_FPR_TEXT_BYTES], nf[AM_FPR_TEXT_BYTES];
			am_id_fingerprint(r->target, of);
			am_id_fingerprint(r->heir, nf);
			if (st->json) {
				struct json *j = &st->j;
				json_change_head(j, d, r);
				json_key(j, "old");
				json_id(j, r->target);
				json_kstr(j, "old_fingerprint", of);
				json_key(j, "new");
				json_id(j, r->heir);
				json_kstr(j, "new_fingerprint", nf);
				json_change_tail(j, r);
				json_kbool(j, "old_key_declined", r->target_declined);
				json_end_obj(j);
				continue;
			}
			char h[CLI_SHORT_HASH], by[CLI_SHORT_NAME], of_name[CLI_SHORT_NAME];
			cli_short_hash(r->hash, h);
			cli_short_id(st->s, r->author, by);
			cli_short_id(st->s, r->target, of_name);
			bool mine = memcmp(r->target, st->me, 32) == 0;
			printf("  %s  %s proposes the new key %s in the place of %s "
				"(%s) in %s", h, by, nf, mine ? "your key" : of_name, of,
				cli_shown_c(d->info->name));
			if (r->nwaiting > 0) {
				printf("; waiting for");
				for (uint32_t w = 0; w < r->nwaiting; w++) {
					char who[CLI_SHORT_NAME];
					bool next = st->next != NULL &&
						memcmp(r->waiting[w], st->next, 32) == 0;
					if (next)
						snprintf(who, sizeof who, "your new key");
					else
						cli_short_id(st->s, r->waiting[w], who);
					printf("%s %s", w ? "," : "", who);
				}
			}
			if (r->alone && r->nwaiting == 0)
				printf("; someone other than %s and the old and new keys "
					"must accept it", by);
			if (r->target_declined)
				printf("; the old key declined it: if its owner still "
					"holds it, this may not be them");
			print_set_aside(r);
			printf("\n");
		}
	}
	section_end(st);
}

/* Check-ins and statements by others that you may confirm and have not
 * answered yet. */
static void
section_to_confirm(struct status *st)
{
	size_t n = 0;
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1)
			section_begin(st, "to_confirm", "yours to confirm or dispute", n);
		for (size_t c = 0; c < st->ncircles; c++) {
			const struct circle_data *d = &st->cd[c];
			for (size_t a = 0; a < d->nag; a++) {
				const struct am_agreement_view *x = &d->ag[a];
				if (!d->witness && !am_agreement_view_is_party(x, st->me))
					continue;
				for (size_t i = 0; i < x->ncheckins; i++) {
					const struct am_checkin *k = &x->checkins[i];
					if (memcmp(k->author, st->me, 32) == 0 ||
					    !am_checkins_open(x->checkins, x->ncheckins, i) ||
					    has_mark(k->marks, k->nmarks, st->me))
						continue;
					if (pass == 0) {
						n++;
						continue;
					}
					char h[CLI_SHORT_HASH], who[CLI_SHORT_NAME];
					if (st->json) {
						struct json *j = &st->j;
						json_obj(j);
						json_kstr(j, "type", "checkin");
						json_key(j, "hash");
						json_hash(j, k->hash);
						json_key(j, "agreement");
						json_hash(j, k->agreement);
						json_key(j, "author");
						json_id(j, k->author);
						json_kstr(j, "period", k->period);
						json_kstr(j, "status", cli_status_name(k->status));
						cli_json_dated(j, k->time, x->a.proposed);
						json_end_obj(j);
						continue;
					}
					/* what one is asked to confirm says when it
					 * claims to be from, if that stands out */
					char dated[96];
					cli_dated_text(k->time, x->a.proposed,
						"agreement it reports on", st->now, dated,
						sizeof dated);
					cli_short_hash(k->hash, h);
					cli_short_id(st->s, k->author, who);
					printf("  %s  %s checked in %s for %s on '%s'%s   amends "
						"confirm %s\n", h, who, cli_status_name(k->status),
						cli_shown_c(k->period), cli_shown_c(x->a.title), dated,
						h);
				}
			}
			for (size_t i = 0; i < d->nst; i++) {
				const struct am_statement *sm = &d->st[i];
				if (memcmp(sm->author, st->me, 32) == 0 ||
				    has_mark(sm->marks, sm->nmarks, st->me))
					continue;
				if (pass == 0) {
					n++;
					continue;
				}
				if (st->json) {
					struct json *j = &st->j;
					json_obj(j);
					json_kstr(j, "type", "statement");
					json_key(j, "hash");
					json_hash(j, sm->hash);
					json_key(j, "author");
					json_id(j, sm->author);
					cli_json_dated(j, sm->time, INT64_MIN);
					json_end_obj(j);
					continue;
				}
				char h[CLI_SHORT_HASH], who[CLI_SHORT_NAME], dated[96];
				cli_dated_text(sm->time, INT64_MIN, "", st->now, dated,
					sizeof dated);
				cli_short_hash(sm->hash, h);
				cli_short_id(st->s, sm->author, who);
				printf("  %s  %s said: %.50s%s%s   amends confirm %s\n", h, who,
					cli_shown_c(sm->text), strlen(sm->text) > 50 ? "..." : "",
					dated, h);
			}
		}
	}
	section_end(st);
}

static void
due_line(struct status *st, const struct am_agreement_view *x,
	const struct am_period *p, const char *state)
{
	char when[AM_SCHEDULE_TIME_BYTES] = "?";
	if (st->json) {
		struct json *j = &st->j;
		json_obj(j);
		json_key(j, "agreement");
		json_hash(j, x->a.id);
		json_kstr(j, "title", x->a.title);
		json_kstr(j, "period", p->label);
		json_key(j, "deadline");
		json_time(j, p->deadline);
		json_kstr(j, "state", state);
		json_end_obj(j);
		return;
	}
	if (am_schedule_format(x->schedule, p->deadline, when) != AM_OK)
		snprintf(when, sizeof when, "?");
	char h[CLI_SHORT_HASH];
	cli_short_hash(x->a.id, h);
	printf("  %-8s '%s' %s, deadline %s %s   amends checkin %s%s%s\n", state,
		cli_shown_c(x->a.title), p->label, when,
		cli_shown(x->current->body.terms.tz), h,
		strcmp(state, "overdue") == 0 ? " --period " : "",
		strcmp(state, "overdue") == 0 ? p->label : "");
}

/* Your check-ins due now (the period is under way and you have not
 * checked in) or overdue (the deadline passed without one). */
static void
section_due(struct status *st)
{
	size_t n = 0;
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1)
			section_begin(st, "due", "your check-ins due", n);
		for (size_t c = 0; c < st->ncircles; c++) {
			const struct circle_data *d = &st->cd[c];
			for (size_t a = 0; a < d->nag; a++) {
				const struct am_agreement_view *x = &d->ag[a];
				struct am_adherence ad;
				if (x->a.status != AM_AGREEMENT_IN_FORCE &&
				    x->a.status != AM_AGREEMENT_ENDING)
					continue;
				if (!am_agreement_view_is_checker(x, st->me) ||
				    am_agreement_view_adherence(x, st->me, &ad) != AM_OK)
					continue;
				bool now_due = ad.has_upcoming && ad.upcoming.start <= st->now;
				if (pass == 0) {
					n += now_due + ad.nlisted;
					continue;
				}
				if (now_due)
					due_line(st, x, &ad.upcoming, "due");
				for (uint32_t i = 0; i < ad.nlisted; i++)
					due_line(st, x, &ad.overdue[i], "overdue");
			}
		}
	}
	section_end(st);
}

/* Check-ins whose dispute stands, in every circle of yours. */
static void
section_disputes(struct status *st)
{
	size_t n = 0;
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1)
			section_begin(st, "disputes", "disputed check-ins", n);
		for (size_t c = 0; c < st->ncircles; c++) {
			const struct circle_data *d = &st->cd[c];
			for (size_t a = 0; a < d->nag; a++) {
				const struct am_agreement_view *x = &d->ag[a];
				for (size_t i = 0; i < x->ncheckins; i++) {
					const struct am_checkin *k = &x->checkins[i];
					if (!k->disputed)
						continue;
					if (pass == 0) {
						n++;
						continue;
					}
					if (st->json) {
						struct json *j = &st->j;
						json_obj(j);
						json_key(j, "hash");
						json_hash(j, k->hash);
						json_key(j, "agreement");
						json_hash(j, k->agreement);
						json_key(j, "author");
						json_id(j, k->author);
						json_kstr(j, "period", k->period);
						json_kstr(j, "status", cli_status_name(k->status));
						cli_json_marks(j, k->marks, k->nmarks, k->time);
						json_end_obj(j);
						continue;
					}
					char h[CLI_SHORT_HASH], who[CLI_SHORT_NAME];
					char by[CLI_SHORT_NAME];
					cli_short_hash(k->hash, h);
					cli_short_id(st->s, k->author, who);
					printf("  %s  %s's check-in for %s on '%s' (%s)", h, who,
						cli_shown_c(k->period), cli_shown_c(x->a.title),
						cli_status_name(k->status));
					for (uint32_t m = 0; m < k->nmarks; m++) {
						if (k->marks[m].kind != AM_MARK_DISPUTED)
							continue;
						cli_short_id(st->s, k->marks[m].id, by);
						printf("; %s disputes: %s", by, k->marks[m].note ?
							cli_shown_c(k->marks[m].note) : "");
					}
					printf("\n");
				}
			}
		}
	}
	section_end(st);
}

static void
circle_agreement(struct status *st, const struct am_agreement_view *x)
{
	struct am_adherence ad;
	bool has = am_agreement_view_adherence(x, NULL, &ad) == AM_OK;
	if (st->json) {
		struct json *j = &st->j;
		json_obj(j);
		json_key(j, "id");
		json_hash(j, x->a.id);
		json_kstr(j, "title", x->a.title);
		json_kstr(j, "status", cli_agreement_status_name(x->a.status));
		json_key(j, "adherence");
		if (has)
			cli_json_adherence(j, &ad);
		else
			json_null(j);
		json_key(j, "people");
		json_arr(j);
		for (uint32_t i = 0; has && i < x->nchecker; i++) {
			if (am_agreement_view_adherence(x, x->checker[i], &ad) != AM_OK)
				continue;
			json_obj(j);
			json_key(j, "id");
			json_id(j, x->checker[i]);
			json_key(j, "adherence");
			cli_json_adherence(j, &ad);
			json_end_obj(j);
		}
		json_end_arr(j);
		json_end_obj(j);
		return;
	}
	char h[CLI_SHORT_HASH];
	cli_short_hash(x->a.id, h);
	printf("    %s  %-28.28s %-9s", h, cli_shown_c(x->a.title),
		cli_words(cli_agreement_status_name(x->a.status)));
	if (x->a.status == AM_AGREEMENT_ENDING) {
		char when[CLI_TIME_BYTES];
		cli_time_local(x->a.end_at, when);
		printf(" until %s", when);
	}
	for (uint32_t i = 0; has && i < x->nchecker; i++) {
		char who[CLI_SHORT_NAME];
		if (am_agreement_view_adherence(x, x->checker[i], &ad) != AM_OK)
			continue;
		cli_short_id(st->s, x->checker[i], who);
		printf("  %s: kept %u/%u", who, ad.kept, ad.due);
		if (ad.partial)
			printf(", partial %u", ad.partial);
		if (ad.missed)
			printf(", missed %u", ad.missed);
		printf(", streak %u", ad.streak);
	}
	printf("\n");
}

/* For each circle: its digest, and each agreement's adherence. */
static void
section_circles(struct status *st)
{
	section_begin(st, "circles", "circles", st->ncircles);
	for (size_t c = 0; c < st->ncircles; c++) {
		const struct circle_data *d = &st->cd[c];
		if (st->json) {
			struct json *j = &st->j;
			json_obj(j);
			json_key(j, "id");
			json_hash(j, d->info->id);
			json_kstr(j, "name", d->info->name);
			json_key(j, "digest");
			json_hash(j, d->digest);
			json_key(j, "agreements");
			json_arr(j);
		} else {
			char h[CLI_SHORT_HASH], dg[65];
			cli_short_hash(d->info->id, h);
			am_hex(d->digest, 32, dg);
			printf("  %s (%s)  digest %.16s\n", cli_shown_c(d->info->name), h,
				dg);
		}
		for (size_t a = 0; a < d->nag; a++)
			circle_agreement(st, &d->ag[a]);
		if (st->json) {
			json_end_arr(&st->j);
			json_end_obj(&st->j);
		}
	}
	section_end(st);
}

int
cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct status st = { 0 };
	struct cli c = { 0 };
	struct am_identity *next = NULL;
	int opt, rc, ret = 1;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': st.json = true; break;
		case 'h': cli_usage(stdout, usage); return 0;
		default: cli_usage(stderr, usage); return 1;
		}
	}
	if (optind != argc) {
		cli_usage(stderr, usage);
		return 1;
	}
	if (cli_open(&c, CLI_IDENTITY | CLI_STORE) != 0)
		goto out;
	st.s = c.store;
	st.me = am_identity_public(c.id);
	/* a rotation in progress: what awaits its new key shows here too */
	if (am_rotate_next(c.home, &next) == AM_OK)
		st.next = am_identity_public(next);
	st.now = cli_now_ms();
	if ((rc = load(&st)) != AM_OK) {
		ret = cli_fail("reading the record", rc);
		goto out;
	}
	json_init(&st.j, stdout, c.store);
	if (st.json)
		json_obj(&st.j);
	section_you(&st);
	section_awaiting(&st);
	section_removals(&st);
	section_successions(&st);
	section_to_confirm(&st);
	section_due(&st);
	section_peers(&st);
	section_checkpoints(&st);
	section_disputes(&st);
	section_misbehaviour(&st);
	section_paused(&st);
	section_circles(&st);
	if (st.json) {
		json_names(&st.j);
		json_end_obj(&st.j);
	}
	ret = 0;
out:
	finish(&st);
	am_identity_destroy(&next);
	cli_close(&c);
	return ret;
}
