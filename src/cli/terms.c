/*
 * Setting an agreement's terms from command-line options. propose starts
 * from empty terms, amend from the version it amends; either way only what
 * is given changes, and everything is checked here, with a sentence naming
 * the option, before an entry is built from it.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "format.h"
#include "resolve.h"
#include "terms.h"

static int
add(const char **list, int *n, int max, const char *arg, const char *opt)
{
	if (*n >= max) {
		cli_error("%s is given more than %d times", opt, max);
		return -1;
	}
	list[(*n)++] = arg;
	return 1;
}

int
cli_terms_option(struct cli_terms_opts *o, int opt, const char *arg)
{
	switch (opt) {
	case 0x100: o->title = arg; return 1;
	case 0x101: o->text = arg; return 1;
	case 0x102: return add(o->party, &o->nparty, AM_MAX_PARTIES, arg, "--party");
	case 0x103: return add(o->by, &o->nby, AM_MAX_PARTIES, arg, "--by");
	case 0x104: o->every = arg; return 1;
	case 0x105: o->at = arg; return 1;
	case 0x106: o->on = arg; return 1;
	case 0x107: o->tz = arg; return 1;
	case 0x108: o->grace = arg; return 1;
	case 0x109: o->from = arg; return 1;
	case 0x10a: o->until = arg; return 1;
	case 0x10b: o->notice = arg; return 1;
	case 0x10c: return add(o->pause, &o->npause, AM_MAX_PAUSES, arg, "--pause");
	case 0x10d: o->no_schedule = true; return 1;
	case 0x10e: o->no_pauses = true; return 1;
	case 0x10f: o->no_from = true; return 1;
	case 0x110: o->no_until = true; return 1;
	default: return 0;
	}
}

bool
cli_terms_given(const struct cli_terms_opts *o)
{
	return o->title || o->text || o->nparty || o->nby || o->every || o->at ||
		o->on || o->tz || o->grace || o->from || o->until || o->notice ||
		o->npause || o->no_schedule || o->no_pauses || o->no_from ||
		o->no_until;
}

static int
text_ok(const char *opt, const char *s, size_t max, bool lines)
{
	size_t n = strlen(s);
	if (n > max)
		return cli_error("%s is longer than %zu bytes", opt, max);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if ((ch < 0x20 && !(lines && (ch == '\n' || ch == '\t'))) || ch == 0x7f)
			return cli_error("%s holds control characters", opt);
	}
	return n > 0 ? cli_text_ok(opt, s, max) : 0;
}

/* Resolves a list of IDs given to opt into ids, refusing repeats. */
static int
resolve_ids(struct am_store *s, const char *opt, const char *const *text, int n,
	uint8_t ids[][32])
{
	for (int i = 0; i < n; i++) {
		if (cli_resolve_id(s, text[i], ids[i]) != 0)
			return 1;
		for (int k = 0; k < i; k++)
			if (memcmp(ids[k], ids[i], 32) == 0)
				return cli_error("%s names %s twice", opt, text[i]);
	}
	return 0;
}

static bool
among(const uint8_t id[32], uint8_t ids[][32], uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (memcmp(ids[i], id, 32) == 0)
			return true;
	return false;
}

static int
apply_people(struct am_store *s, struct cli_terms_opts *o, struct am_terms *t)
{
	if (o->nparty > 0) {
		if (resolve_ids(s, "--party", o->party, o->nparty, t->parties) != 0)
			return 1;
		t->nparties = (uint32_t)o->nparty;
	}
	if (o->nby > 0) {
		if (resolve_ids(s, "--by", o->by, o->nby, t->by) != 0)
			return 1;
		t->nby = (uint32_t)o->nby;
	}
	for (uint32_t i = 0; i < t->nby; i++) {
		if (!among(t->by[i], t->parties, t->nparties)) {
			char who[CLI_SHORT_NAME];
			cli_short_id(s, t->by[i], who);
			return cli_error("%s would check in without being a party; "
				"name them with --party too, or change --by", who);
		}
	}
	return 0;
}

static int
apply_schedule(struct cli_terms_opts *o, struct am_terms *t)
{
	bool had = t->has_schedule;
	uint32_t was = t->every;

	if (o->no_schedule) {
		if (o->every || o->at || o->on)
			return cli_error("--no-schedule cannot go with --every, --at "
				"or --on");
		t->has_schedule = false;
		t->every = t->hours = t->at = t->weekday = 0;
		return 0;
	}
	if (o->every) {
		if (cli_parse_every(o->every, &t->every, &t->hours) != 0)
			return 1;
		t->has_schedule = true;
		if (t->every != AM_EVERY_WEEK)
			t->weekday = 0;
		if (t->every == AM_EVERY_HOURS)
			t->at = 0;
	}
	if ((o->at || o->on) && !t->has_schedule)
		return cli_error("--at and --on need a schedule: give --every too");
	if (o->at) {
		if (t->every == AM_EVERY_HOURS)
			return cli_error("--at is for daily and weekly schedules; an "
				"every-N-hours period ends when the next begins");
		if (cli_parse_hhmm(o->at, &t->at) != 0)
			return 1;
	} else if (o->every && t->every != AM_EVERY_HOURS &&
	    (!had || was == AM_EVERY_HOURS)) {
		return cli_error("--every %s needs --at HH:MM, the time a check-in "
			"is due", o->every);
	}
	if (o->on) {
		if (t->every != AM_EVERY_WEEK)
			return cli_error("--on is for weekly schedules (--every week)");
		if (cli_parse_weekday(o->on, &t->weekday) != 0)
			return 1;
	} else if (o->every && t->every == AM_EVERY_WEEK &&
	    (!had || was != AM_EVERY_WEEK)) {
		return cli_error("--every week needs --on WEEKDAY, the day a check-in "
			"is due");
	}
	return 0;
}

static int
apply_dates(struct cli_terms_opts *o, struct am_terms *t)
{
	if (o->no_from)
		t->from = (struct am_str){ NULL, 0 };
	if (o->no_until)
		t->until = (struct am_str){ NULL, 0 };
	if (o->from) {
		if (cli_parse_date("--from", o->from) != 0)
			return 1;
		t->from = am_str_c(o->from);
	}
	if (o->until) {
		if (cli_parse_date("--until", o->until) != 0)
			return 1;
		t->until = am_str_c(o->until);
	}
	if (t->from.p != NULL && t->until.p != NULL &&
	    memcmp(t->from.p, t->until.p, 10) > 0)
		return cli_error("the agreement would end (--until %.10s) before it "
			"starts (--from %.10s)", t->until.p, t->from.p);
	if (o->no_pauses)
		t->npauses = 0;
	for (int i = 0; i < o->npause; i++) {
		if (t->npauses >= AM_MAX_PAUSES)
			return cli_error("an agreement holds at most %d pauses",
				AM_MAX_PAUSES);
		if (cli_parse_pause(o->pause[i], &t->pauses[t->npauses]) != 0)
			return 1;
		t->npauses++;
	}
	return 0;
}

int
cli_terms_apply(struct am_store *s, struct cli_terms_opts *o, bool fresh,
	struct am_terms *t)
{
	if (o->title) {
		if (o->title[0] == '\0')
			return cli_error("--title cannot be empty");
		if (text_ok("--title", o->title, AM_MAX_TITLE, false) != 0)
			return 1;
		t->title = am_str_c(o->title);
	}
	if (o->text) {
		if (text_ok("--text", o->text, AM_MAX_TEXT, true) != 0)
			return 1;
		t->text = am_str_c(o->text);
	}
	if (apply_people(s, o, t) != 0 || apply_schedule(o, t) != 0 ||
	    apply_dates(o, t) != 0)
		return 1;
	if (o->tz || fresh) {
		if (cli_local_zone(o->tz, o->tzbuf, sizeof o->tzbuf) != 0)
			return 1;
		t->tz = am_str_c(o->tzbuf);
	}
	if (o->grace && cli_parse_duration("--grace", o->grace, &t->grace) != 0)
		return 1;
	if (o->notice && cli_parse_duration("--notice", o->notice, &t->notice) != 0)
		return 1;
	return 0;
}
