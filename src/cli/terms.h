/*
 * The options that set an agreement's terms, shared by propose (which
 * starts from defaults) and amend (which starts from the version it
 * amends and changes only what is given).
 */
#ifndef AMENDS_CLI_TERMS_H
#define AMENDS_CLI_TERMS_H

#include <getopt.h>
#include <stdbool.h>

#include "amends/body.h"
#include "amends/store.h"

struct cli_terms_opts {
	const char *title, *text, *every, *at, *on, *tz;
	const char *grace, *from, *until, *notice;
	const char *party[AM_MAX_PARTIES + 1];
	int nparty;
	const char *by[AM_MAX_PARTIES + 1];
	int nby;
	const char *pause[AM_MAX_PAUSES + 1];
	int npause;
	bool no_schedule, no_pauses, no_from, no_until;
	char tzbuf[AM_MAX_TZ + 1];       /* the zone the terms point into */
};

/* getopt_long rows for these options; values 0x100 and up. */
#define CLI_TERMS_OPTIONS \
	{ "title", required_argument, NULL, 0x100 }, \
	{ "text", required_argument, NULL, 0x101 }, \
	{ "party", required_argument, NULL, 0x102 }, \
	{ "by", required_argument, NULL, 0x103 }, \
	{ "every", required_argument, NULL, 0x104 }, \
	{ "at", required_argument, NULL, 0x105 }, \
	{ "on", required_argument, NULL, 0x106 }, \
	{ "tz", required_argument, NULL, 0x107 }, \
	{ "grace", required_argument, NULL, 0x108 }, \
	{ "from", required_argument, NULL, 0x109 }, \
	{ "until", required_argument, NULL, 0x10a }, \
	{ "notice", required_argument, NULL, 0x10b }, \
	{ "pause", required_argument, NULL, 0x10c }, \
	{ "no-schedule", no_argument, NULL, 0x10d }, \
	{ "no-pauses", no_argument, NULL, 0x10e }, \
	{ "no-from", no_argument, NULL, 0x10f }, \
	{ "no-until", no_argument, NULL, 0x110 }

/* Records option opt with its argument. Returns 1 when opt is one of
 * these options, 0 when not, -1 (after printing why) when repeated too
 * often. */
int cli_terms_option(struct cli_terms_opts *o, int opt, const char *arg);

/* True when any option that changes the terms was given. */
bool cli_terms_given(const struct cli_terms_opts *o);

/*
 * Applies the options to t, which holds the starting terms (defaults or
 * the amended version's). IDs are resolved in s. Views in t point into the
 * options' strings and o->tzbuf, so o must outlive t. fresh says the terms
 * are new (propose): the zone then defaults to the local one. Prints a
 * sentence and returns 1 on refusal.
 */
int cli_terms_apply(struct am_store *s, struct cli_terms_opts *o, bool fresh,
	struct am_terms *t);

#endif
