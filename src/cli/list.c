/*
 * amends list: the agreements of one circle, or of every circle held
 * here, one line each: status, schedule and adherence at a glance.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "agreement.h"
#include "cli.h"
#include "format.h"
#include "resolve.h"

static const char usage[] =
	"usage: amends list [CIRCLE] [--json]\n\n"
	"Lists the agreements of CIRCLE (its name or the start of its ID), or of\n"
	"every circle held here: status, schedule and how it has been kept.\n";

static void
json_agreement(struct json *j, const struct am_agreement_view *x)
{
	struct am_adherence ad;
	const struct am_version *v = x->current != NULL ? x->current : x->newest;
	json_obj(j);
	json_key(j, "id");
	json_hash(j, x->a.id);
	json_kstr(j, "title", x->a.title);
	json_kstr(j, "status", cli_agreement_status_name(x->a.status));
	json_key(j, "proposer");
	json_id(j, x->a.proposer);
	json_key(j, "current");
	if (x->a.has_current)
		json_hash(j, x->a.current);
	else
		json_null(j);
	json_kint(j, "versions", x->a.nversions);
	json_key(j, "parties");
	json_arr(j);
	for (uint32_t i = 0; v != NULL && i < v->body.terms.nparties; i++)
		json_id(j, v->body.terms.parties[i]);
	json_end_arr(j);
	json_key(j, "schedule");
	if (v != NULL)
		cli_json_schedule(j, &v->body.terms);
	else
		json_null(j);
	json_key(j, "adherence");
	if (am_agreement_view_adherence(x, NULL, &ad) == AM_OK)
		cli_json_adherence(j, &ad);
	else
		json_null(j);
	json_end_obj(j);
}

static void
text_agreement(const struct am_agreement_view *x)
{
	struct am_adherence ad;
	char h[CLI_SHORT_HASH], sched[512] = "";
	const struct am_version *v = x->current != NULL ? x->current : x->newest;
	cli_short_hash(x->a.id, h);
	if (v != NULL && v->body.terms.has_schedule)
		cli_agreement_schedule_text(&v->body.terms, sched, sizeof sched);
	/* the schedule without zone and extras, to keep the line short */
	char *cut = strstr(sched, " (");
	if (cut != NULL)
		*cut = '\0';
	printf("  %s  %-28.28s %-10s %-24s", h, cli_shown_c(x->a.title),
		cli_words(cli_agreement_status_name(x->a.status)), sched);
	if (am_agreement_view_adherence(x, NULL, &ad) == AM_OK)
		printf(" kept %u/%u, streak %u", ad.kept, ad.due, ad.streak);
	printf("\n");
}

/* Lists one circle's agreements; returns an AM_ERR_* code. */
static int
list_circle(struct am_view *view, const struct am_circle_info *ci, bool json,
	struct json *j, int64_t now)
{
	struct am_agreement *list = NULL;
	size_t n = 0;
	int rc = am_state_agreements(am_view_store(view), ci->id, now, &list, &n);
	if (rc != AM_OK)
		return cli_unshown("circle", ci->id, rc) ? AM_OK : rc;
	char h[CLI_SHORT_HASH];
	cli_short_hash(ci->id, h);
	if (json) {
		json_obj(j);
		json_key(j, "id");
		json_hash(j, ci->id);
		json_kstr(j, "name", ci->name);
		json_key(j, "agreements");
		json_arr(j);
	} else {
		printf("%s (%s)%s\n", cli_shown_c(ci->name), h,
			n == 0 ? ": no agreements yet" : "");
	}
	for (size_t i = 0; i < n && rc == AM_OK; i++) {
		struct am_agreement_view x;
		rc = am_view_agreement(view, list[i].id, now, true, &x);
		if (cli_agreement_unshown(list[i].id, rc))
			rc = AM_OK;
		else if (rc == AM_OK || rc == AM_ERR_ZONE) {
			rc = AM_OK;
			if (json)
				json_agreement(j, &x);
			else
				text_agreement(&x);
		}
		am_agreement_view_finish(&x);
	}
	if (json) {
		json_end_arr(j);
		json_end_obj(j);
	}
	am_state_agreements_free(&list, n);
	return rc;
}

int
cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct am_circle_info *circles = NULL;
	struct am_view *view = NULL;
	size_t ncircles = 0;
	struct cli c = { 0 };
	struct json j;
	uint8_t one[32];
	bool json = false;
	int opt, rc, ret = 1;

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
	if (argc - optind == 1 && cli_resolve_circle(c.store, argv[optind], one) != 0)
		goto out;
	/* everything listed comes from one snapshot */
	if ((rc = am_view_open(c.store, &view)) != AM_OK) {
		ret = cli_fail("reading the record", rc);
		goto out;
	}
	if ((rc = am_state_circles(c.store, NULL, &circles, &ncircles)) != AM_OK) {
		ret = cli_fail("listing circles", rc);
		goto out;
	}
	int64_t now = cli_now_ms();
	json_init(&j, stdout, c.store);
	if (json) {
		json_obj(&j);
		json_key(&j, "circles");
		json_arr(&j);
	}
	for (size_t i = 0; i < ncircles; i++) {
		if (argc - optind == 1 && memcmp(circles[i].id, one, 32) != 0)
			continue;
		if ((rc = list_circle(view, &circles[i], json, &j, now)) != AM_OK) {
			ret = cli_fail("listing agreements", rc);
			goto out;
		}
	}
	if (json) {
		json_end_arr(&j);
		json_names(&j);
		json_end_obj(&j);
	}
	ret = 0;
out:
	am_view_close(&view);
	am_state_circles_free(&circles, ncircles);
	cli_close(&c);
	return ret;
}
