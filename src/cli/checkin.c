/*
 * amends checkin: report on one period of an agreement (a CHECKIN entry):
 * kept, partial or missed, with a note. The period defaults to the one the
 * schedule is in now, in the agreement's own zone; a period given with
 * --period must be one of the schedule's, started, and not paused. An
 * agreement without a schedule takes check-ins by day.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "agreement.h"
#include "cli.h"
#include "format.h"
#include "resolve.h"
#include "write.h"

static const char usage[] =
	"usage: amends checkin AGREEMENT [--kept|--partial|--missed] [--note TEXT]\n"
	"       [--period PERIOD]\n\n"
	"Reports on a period of AGREEMENT (the start of its hash). The others\n"
	"confirm or dispute it.\n\n"
	"  --kept, --partial, --missed   how it went (default: kept)\n"
	"  --note TEXT       anything to add\n"
	"  --period PERIOD   which period (default: the current one): a date\n"
	"                    YYYY-MM-DD for a daily schedule, a week YYYY-Www for\n"
	"                    a weekly one, YYYY-MM-DDTHH for every N hours\n";

/* The schedule check-ins follow: the agreement's, or by day in its zone
 * when it has none. */
static int
load_schedule(struct am_agreement_view *x, struct am_schedule **sched)
{
	const struct am_version *v = x->current;
	if (x->schedule != NULL) {
		*sched = NULL;
		return AM_OK;
	}
	if (v == NULL)
		return AM_ERR_NOT_FOUND;
	struct am_terms *t = malloc(sizeof *t);
	if (t == NULL)
		return AM_ERR_NOMEM;
	*t = v->body.terms;
	t->has_schedule = true;
	t->every = AM_EVERY_DAY;
	t->hours = t->weekday = 0;
	t->at = 24 * 60 - 1;
	int rc = am_schedule_load(t, x->anchor, sched);
	free(t);
	return rc;
}

/* Finds the period to check in for; prints why not and returns 1. */
static int
pick_period(const struct am_schedule *s, const char *given, int64_t now,
	struct am_period *p)
{
	int rc;
	if (given != NULL) {
		rc = am_schedule_parse(s, am_str_c(given), p);
		if (rc == AM_ERR_PERIOD) {
			struct am_period cur;
			if (am_schedule_period_at(s, now, &cur) == AM_OK)
				return cli_error("'%s' is not a period of this agreement "
					"(the current one is %s)", given, cur.label);
			return cli_error("'%s' is not a period of this agreement",
				given);
		}
		if (rc != AM_OK)
			return cli_fail("reading the period", rc);
		if (p->start > now)
			return cli_error("period %s has not started yet", p->label);
	} else {
		rc = am_schedule_period_at(s, now, p);
		if (rc == AM_ERR_NOT_FOUND || (rc == AM_OK && !p->within))
			return cli_error("no period of this agreement is under way now; "
				"name one with --period");
		if (rc != AM_OK)
			return cli_fail("finding the current period", rc);
	}
	if (p->paused)
		return cli_error("period %s is paused: no check-in is due", p->label);
	return 0;
}

/*
 * A second check-in of a period corrects the first; it does not erase it
 * (protocol/state.md, "Check-ins"). Says which one it corrects and whether
 * it counts now or once those who answered that one confirm it.
 */
static void
say_correction(struct cli *c, const uint8_t hash[static 32], int64_t now)
{
	struct am_agreement_view x = { 0 };
	struct am_object_info info;
	struct am_view *view = NULL;
	char h[CLI_SHORT_HASH], names[256];
	int rc = am_state_lookup(c->store, hash, &info);
	if (rc == AM_OK && (rc = am_view_open(c->store, &view)) == AM_OK) {
		rc = am_view_agreement(view, info.agreement, now, true, &x);
		am_view_close(&view);
	}
	if (rc != AM_OK)
		goto out;
	for (size_t i = 0; i < x.ncheckins; i++) {
		const struct am_checkin *k = &x.checkins[i];
		if (memcmp(k->hash, hash, 32) != 0 || !k->correction)
			continue;
		cli_short_hash(k->corrects, h);
		printf("this corrects your check-in %s of %s; both stay in the "
			"record; ", h, k->period);
		if (k->counts)
			printf("it counts in its place\n");
		else if (cli_checkin_waits(c->store, x.checkins, x.ncheckins, i,
		    names, sizeof names) > 0)
			printf("it counts once %s confirm%s it\n", names,
				strstr(names, " and ") ? "" : "s");
		else
			printf("it counts once everyone who answered the one that "
				"counts confirms it\n");
	}
out:
	am_agreement_view_finish(&x);
}

int
cmd_checkin(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kept", no_argument, NULL, 'k' },
		{ "partial", no_argument, NULL, 'p' },
		{ "missed", no_argument, NULL, 'm' },
		{ "note", required_argument, NULL, 'n' },
		{ "period", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct am_body b = { .kind = AM_KIND_CHECKIN, .status = 0 };
	struct am_agreement_view x = { 0 };
	struct am_schedule *own = NULL;
	struct am_view *view = NULL;
	struct am_period p;
	struct cli c = { 0 };
	const char *note = NULL, *period = NULL;
	int opt, rc, ret = 1;
	int64_t now = cli_now_ms();

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		uint32_t st = 0;
		switch (opt) {
		case 'k': st = AM_KEPT; break;
		case 'p': st = AM_PARTIAL; break;
		case 'm': st = AM_MISSED; break;
		case 'n': note = optarg; break;
		case 'P': period = optarg; break;
		case 'h': cli_usage(stdout, usage); return 0;
		default: cli_usage(stderr, usage); return 1;
		}
		if (st != 0 && b.status != 0 && b.status != st)
			return cli_error("choose one of --kept, --partial and --missed");
		if (st != 0)
			b.status = st;
	}
	if (argc - optind != 1) {
		cli_usage(stderr, usage);
		return 1;
	}
	if (b.status == 0)
		b.status = AM_KEPT;
	if (note != NULL && cli_text_ok("--note", note, AM_MAX_TEXT) != 0)
		return 1;
	if (period != NULL && (strlen(period) == 0 || strlen(period) > AM_MAX_PERIOD))
		return cli_error("'%s' is not a period of this agreement", period);
	if (cli_open(&c, CLI_IDENTITY | CLI_STORE) != 0)
		goto out;
	if (cli_resolve_object(c.store, argv[optind], AM_OBJ_AGREEMENT, "agreement",
	    b.target) != 0)
		goto out;
	/* read, then close the snapshot before writing */
	if ((rc = am_view_open(c.store, &view)) == AM_OK) {
		rc = am_view_agreement(view, b.target, now, false, &x);
		am_view_close(&view);
	}
	if (rc == AM_ERR_ZONE) {
		ret = cli_error("the agreement's time zone is not known here; "
			"install the zone data (tzdata)");
		goto out;
	}
	if (rc != AM_OK) {
		ret = cli_fail("reading the agreement", rc);
		goto out;
	}
	b.note = am_str_c(note);
	if (x.current != NULL) {
		rc = load_schedule(&x, &own);
		if (rc != AM_OK) {
			ret = cli_fail("reading the agreement's schedule", rc);
			goto out;
		}
		if (pick_period(own != NULL ? own : x.schedule, period, now, &p) != 0)
			goto out;
		b.period = am_str_c(p.label);
	} else {
		/* nothing in force: the state's rules say so, in their words */
		b.period = am_str_c(period != NULL ? period : "-");
	}
	uint8_t hash[32];
	char h[CLI_SHORT_HASH];
	if (cli_write(&c, x.a.circle, &b, hash) != 0)
		goto out;
	cli_short_hash(hash, h);
	printf("checked in to '%s' for %s: %s (%s)\n", cli_shown_c(x.a.title), b.period.p,
		cli_status_name(b.status), h);
	say_correction(&c, hash, now);
	ret = 0;
out:
	am_schedule_destroy(&own);
	am_agreement_view_finish(&x);
	cli_close(&c);
	return ret;
}
