/*
 * amends log: the check-ins and statements of a circle, of one agreement,
 * or of every circle held here, in the order their authors say they were
 * written (claimed time, then hash: the same order on every node), each
 * marked confirmed, disputed or awaiting.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "agreement.h"
#include "cli.h"
#include "format.h"
#include "resolve.h"

static const char usage[] =
	"usage: amends log [CIRCLE|AGREEMENT] [--json]\n\n"
	"Lists check-ins and statements, oldest first, each marked confirmed,\n"
	"disputed or awaiting: of CIRCLE (its name or the start of its ID), of\n"
	"AGREEMENT (the start of its hash), or of every circle held here.\n";

/* One line of the log: a check-in or a statement. */
struct item {
	int64_t time;
	const uint8_t *hash;
	const struct am_checkin *checkin;     /* or */
	const struct am_statement *statement;
	const char *title;                    /* of the check-in's agreement */
	int64_t refers;                       /* claimed time of what it refers
	                                         to: the agreement; INT64_MIN */
	const struct am_checkin *all;         /* the agreement's check-ins, */
	size_t nall, ix;                      /* ... and the check-in's index */
};

struct log {
	struct am_view *view;                 /* the snapshot read */
	struct item *items;
	size_t n, cap;
	/* what the items point into, freed at the end */
	struct am_agreement_view *agreements;
	size_t nagreements, capagreements;
	struct am_statement **statements;
	size_t *nstatements;
	size_t nlists;
};

static int
push(struct log *l, struct item it)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct item *p = realloc(l->items, cap * sizeof *p);
		if (p == NULL)
			return AM_ERR_NOMEM;
		l->items = p;
		l->cap = cap;
	}
	l->items[l->n++] = it;
	return AM_OK;
}

static int
item_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return memcmp(x->hash, y->hash, 32);
}

/* Loads one agreement's check-ins into the log. */
static int
add_agreement(struct am_store *s, struct log *l, const uint8_t id[32], int64_t now)
{
	if (l->nagreements == l->capagreements) {
		size_t cap = l->capagreements ? l->capagreements * 2 : 8;
		struct am_agreement_view *p = realloc(l->agreements, cap * sizeof *p);
		if (p == NULL)
			return AM_ERR_NOMEM;
		l->agreements = p;
		l->capagreements = cap;
	}
	struct am_agreement_view *x = &l->agreements[l->nagreements];
	int rc = am_view_agreement(l->view, id, now, true, x);
	if (cli_agreement_unshown(id, rc)) {
		am_agreement_view_finish(x);
		return AM_OK;
	}
	l->nagreements++;
	if (rc != AM_OK && rc != AM_ERR_ZONE)
		return rc;
	for (size_t i = 0; i < x->ncheckins; i++) {
		struct item it = { x->checkins[i].time, x->checkins[i].hash,
			&x->checkins[i], NULL, x->a.title, x->a.proposed, x->checkins,
			x->ncheckins, i };
		if ((rc = push(l, it)) != AM_OK)
			return rc;
	}
	return AM_OK;
}

/* Loads a circle's statements (about one agreement when about is set). */
static int
add_statements(struct am_store *s, struct log *l, const uint8_t circle[32],
	const uint8_t *about)
{
	struct am_statement **lists = realloc(l->statements,
		(l->nlists + 1) * sizeof *lists);
	if (lists == NULL)
		return AM_ERR_NOMEM;
	l->statements = lists;
	size_t *counts = realloc(l->nstatements, (l->nlists + 1) * sizeof *counts);
	if (counts == NULL)
		return AM_ERR_NOMEM;
	l->nstatements = counts;
	lists[l->nlists] = NULL;
	counts[l->nlists] = 0;
	int rc = am_state_statements(s, circle, about, &lists[l->nlists],
		&counts[l->nlists]);
	struct am_statement *st = lists[l->nlists];
	size_t n = counts[l->nlists];
	l->nlists++;
	for (size_t i = 0; rc == AM_OK && i < n; i++) {
		struct item it = { st[i].time, st[i].hash, NULL, &st[i], NULL,
			INT64_MIN, NULL, 0, 0 };
		rc = push(l, it);
	}
	return rc;
}

static int
add_circle(struct am_store *s, struct log *l, const uint8_t circle[32], int64_t now)
{
	struct am_agreement *list = NULL;
	size_t n = 0;
	int rc = am_state_agreements(s, circle, now, &list, &n);
	if (cli_unshown("the agreements of circle", circle, rc))
		rc = AM_OK;
	for (size_t i = 0; rc == AM_OK && i < n; i++)
		rc = add_agreement(s, l, list[i].id, now);
	am_state_agreements_free(&list, n);
	if (rc == AM_OK)
		rc = add_statements(s, l, circle, NULL);
	return cli_unshown("the statements of circle", circle, rc) ? AM_OK : rc;
}

static void
log_finish(struct log *l)
{
	for (size_t i = 0; i < l->nagreements; i++)
		am_agreement_view_finish(&l->agreements[i]);
	for (size_t i = 0; i < l->nlists; i++)
		am_state_statements_free(&l->statements[i], l->nstatements[i]);
	free(l->agreements);
	free(l->statements);
	free(l->nstatements);
	free(l->items);
}

static const char *
statement_state(const struct am_statement *st)
{
	return st->nmarks > 0 ? "confirmed" : "awaiting";
}

static void
json_item(struct json *j, const struct item *it)
{
	json_obj(j);
	if (it->checkin != NULL) {
		const struct am_checkin *k = it->checkin;
		json_kstr(j, "type", "checkin");
		json_key(j, "hash");
		json_hash(j, k->hash);
		json_key(j, "agreement");
		json_hash(j, k->agreement);
		json_kstr(j, "title", it->title);
		json_key(j, "author");
		json_id(j, k->author);
		json_key(j, "time");
		json_time(j, k->time);
		json_kstr(j, "period", k->period);
		json_kstr(j, "status", cli_status_name(k->status));
		json_kstr(j, "note", k->note);
		json_kstr(j, "state", cli_checkin_state(k));
		cli_json_marks(j, k->marks, k->nmarks, k->time);
		cli_json_checkin_history(j, k);
		cli_json_dated(j, k->time, it->refers);
	} else {
		const struct am_statement *st = it->statement;
		json_kstr(j, "type", "statement");
		json_key(j, "hash");
		json_hash(j, st->hash);
		json_key(j, "circle");
		json_hash(j, st->circle);
		json_key(j, "author");
		json_id(j, st->author);
		json_key(j, "time");
		json_time(j, st->time);
		json_kstr(j, "text", st->text);
		json_key(j, "about");
		if (st->has_about)
			json_hash(j, st->about);
		else
			json_null(j);
		json_kstr(j, "state", statement_state(st));
		cli_json_marks(j, st->marks, st->nmarks, st->time);
		cli_json_dated(j, st->time, it->refers);
	}
	json_end_obj(j);
}

static void
text_marks(struct am_store *s, const struct am_mark *m, uint32_t n,
	int64_t refers, int64_t now)
{
	char who[CLI_SHORT_NAME], dated[96];
	for (uint32_t i = 0; i < n; i++) {
		cli_short_id(s, m[i].id, who);
		cli_dated_text(m[i].time, refers, m[i].kind == AM_MARK_DISPUTED ?
			"statement it disputes" : "statement it confirms", now, dated,
			sizeof dated);
		printf("%s%s%s", i ? ", " : " by ", who, m[i].witness ? " (witness)" : "");
		if (m[i].kind == AM_MARK_DISPUTED)
			printf(" disputing%s%s", m[i].note ? ": " : "",
				m[i].note ? cli_shown_c(m[i].note) : "");
		printf("%s", dated);
	}
}

/* Every answer to a check-in, in order, with its note: a confirmation
 * that follows a dispute does not hide it. */
static void
text_answers(struct am_store *s, const struct am_mark *m, uint32_t n,
	int64_t refers, int64_t now)
{
	char who[CLI_SHORT_NAME], dated[96];
	for (uint32_t i = 0; i < n; i++) {
		cli_short_id(s, m[i].id, who);
		cli_dated_text(m[i].time, refers, m[i].kind == AM_MARK_DISPUTED ?
			"check-in it disputes" : "check-in it confirms", now, dated,
			sizeof dated);
		printf("%s%s%s %s%s%s%s", i ? "; " : "", who,
			m[i].witness ? " (witness)" : "",
			m[i].kind == AM_MARK_DISPUTED ? "disputed" : "confirmed",
			m[i].note ? ": " : "", m[i].note ? cli_shown_c(m[i].note) : "",
			dated);
	}
}

static void
text_item(struct am_store *s, const struct item *it, int64_t now)
{
	char when[CLI_TIME_BYTES], who[CLI_SHORT_NAME], h[CLI_SHORT_HASH];
	char dated[96];
	cli_time_local(it->time, when);
	cli_dated_text(it->time, it->refers, "agreement it reports on", now,
		dated, sizeof dated);
	cli_short_hash(it->hash, h);
	if (it->checkin != NULL) {
		const struct am_checkin *k = it->checkin;
		cli_short_id(s, k->author, who);
		printf("%s  %s  %-12s %-9s checked in %s for %s on '%s'%s%s%s\n", when,
			h, who, cli_checkin_state(k), cli_status_name(k->status),
			cli_shown_c(k->period), cli_shown_c(it->title), k->note ? ": " : "",
			k->note ? cli_shown_c(k->note) : "", dated);
		if (k->nanswers > 0) {
			printf("%38s", "");
			text_answers(s, k->answers, k->nanswers, k->time, now);
			printf("\n");
		}
		char role[512];
		cli_checkin_role(s, it->all, it->nall, it->ix, role, sizeof role);
		if (role[0] != '\0')
			printf("%38s %s\n", "", role);
	} else {
		const struct am_statement *st = it->statement;
		cli_short_id(s, st->author, who);
		printf("%s  %s  %-12s %-9s said: %s%s\n", when, h, who,
			statement_state(st), cli_shown_c(st->text), dated);
		if (st->nmarks > 0) {
			printf("%38s", "");
			text_marks(s, st->marks, st->nmarks, st->time, now);
			printf("\n");
		}
	}
}

/* What the argument names: a circle (by name or ID) or an agreement. */
static int
resolve_scope(struct am_store *s, const char *text, uint8_t out[32],
	bool *agreement)
{
	struct am_circle_info *circles = NULL;
	struct am_object_info info;
	size_t n = 0;
	int named = 0;
	int rc = am_state_circles(s, NULL, &circles, &n);
	if (rc != AM_OK)
		return cli_fail("listing circles", rc);
	for (size_t i = 0; i < n; i++)
		if (circles[i].name != NULL && strcmp(circles[i].name, text) == 0 &&
		    named++ == 0)
			memcpy(out, circles[i].id, 32);
	am_state_circles_free(&circles, n);
	*agreement = false;
	if (named == 1)
		return 0;
	if (named > 1)
		return cli_error("several circles are named '%s'; give the start of "
			"its ID instead (see amends circles)", text);
	if (cli_resolve_object(s, text, AM_OBJ_CIRCLE | AM_OBJ_AGREEMENT,
	    "circle or agreement", out) != 0)
		return 1;
	*agreement = am_state_lookup(s, out, &info) == AM_OK &&
		info.kind == AM_KIND_PROPOSE;
	return 0;
}

int
cmd_log(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct am_circle_info *circles = NULL;
	size_t ncircles = 0;
	struct log l = { 0 };
	struct cli c = { 0 };
	bool json = false, agreement = false;
	uint8_t scope[32];
	int opt, rc = AM_OK, ret = 1;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': json = true; break;
		case 'h': cli_usage(stdout, usage); return 0;
		default: cli_usage(stderr, usage); return 1;
		}
	}
	if (argc - optind > 1) {
		cli_usage(stderr, usage);
		return 1;
	}
	if (cli_open(&c, CLI_STORE) != 0)
		goto out;
	int64_t now = cli_now_ms();
	if (argc - optind == 1 &&
	    resolve_scope(c.store, argv[optind], scope, &agreement) != 0)
		goto out;
	/* everything listed comes from one snapshot */
	if ((rc = am_view_open(c.store, &l.view)) != AM_OK) {
		ret = cli_fail("reading the log", rc);
		goto out;
	}
	if (argc - optind == 1) {
		if (agreement) {
			rc = add_agreement(c.store, &l, scope, now);
			if (rc == AM_OK)
				rc = add_statements(c.store, &l,
					l.agreements[0].a.circle, scope);
		} else {
			rc = add_circle(c.store, &l, scope, now);
		}
	} else {
		rc = am_state_circles(c.store, NULL, &circles, &ncircles);
		for (size_t i = 0; rc == AM_OK && i < ncircles; i++)
			rc = add_circle(c.store, &l, circles[i].id, now);
	}
	am_view_close(&l.view);
	if (rc != AM_OK) {
		ret = cli_fail("reading the log", rc);
		goto out;
	}
	if (l.n > 0)
		qsort(l.items, l.n, sizeof *l.items, item_cmp);
	if (json) {
		struct json j;
		json_init(&j, stdout, c.store);
		json_obj(&j);
		json_key(&j, "items");
		json_arr(&j);
		for (size_t i = 0; i < l.n; i++)
			json_item(&j, &l.items[i]);
		json_end_arr(&j);
		json_names(&j);
		json_end_obj(&j);
	} else {
		if (l.n == 0)
			printf("no check-ins or statements yet\n");
		for (size_t i = 0; i < l.n; i++)
			text_item(c.store, &l.items[i], now);
	}
	ret = 0;
out:
	am_view_close(&l.view);
	log_finish(&l);
	am_state_circles_free(&circles, ncircles);
	cli_close(&c);
	return ret;
}
