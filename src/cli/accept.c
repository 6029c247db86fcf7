/*
 * amends accept: sign a version of an agreement, a member proposal, or
 * another party's end of an agreement (an ACCEPT entry). A version is in
 * force once every party has accepted it; a member joins once they and
 * every member have; an end accepted by every party applies at once.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "amends/state.h"
#include "agreement.h"
#include "cli.h"
#include "resolve.h"
#include "write.h"

static const char usage[] =
	"usage: amends accept ID\n\n"
	"Accepts (signs) what ID names, by the start of its hash: a version of\n"
	"an agreement, a proposal to add a member, or an end of an agreement.\n"
	"amends status lists what awaits your signature.\n";

/* After accepting a version: say whether the agreement is now in force. */
static void
tell_outcome(struct am_store *s, const struct am_object_info *info,
	const uint8_t target[32])
{
	struct am_agreement a;
	if (info->kind != AM_KIND_PROPOSE && info->kind != AM_KIND_AMEND &&
	    info->kind != AM_KIND_END)
		return;
	if (am_state_agreement(s, info->agreement, cli_now_ms(), &a) != AM_OK)
		return;
	if (info->kind == AM_KIND_END && a.status == AM_AGREEMENT_ENDED)
		printf("'%s' has ended\n", a.title);
	else if (info->kind != AM_KIND_END && a.status == AM_AGREEMENT_IN_FORCE &&
	    a.has_current && memcmp(a.current, target, 32) == 0)
		printf("'%s' is in force\n", a.title);
	am_state_agreement_finish(&a);
}

int
cmd_accept(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct am_body b = { .kind = AM_KIND_ACCEPT };
	struct am_object_info info;
	struct cli c = { 0 };
	int opt, rc, ret = 1;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'h': cli_usage(stdout, usage); return 0;
		default: cli_usage(stderr, usage); return 1;
		}
	}
	if (argc - optind != 1) {
		cli_usage(stderr, usage);
		return 1;
	}
	if (cli_open(&c, CLI_IDENTITY | CLI_STORE) != 0)
		goto out;
	if (cli_resolve_object(c.store, argv[optind],
	    AM_OBJ_VERSION | AM_OBJ_MEMBER | AM_OBJ_END,
	    "version, member proposal or end", b.target) != 0)
		goto out;
	if ((rc = am_state_lookup(c.store, b.target, &info)) != AM_OK) {
		ret = cli_fail("looking up what to accept", rc);
		goto out;
	}
	char what[300];
	cli_describe(c.store, b.target, what, sizeof what);
	if (cli_write(&c, info.circle, &b, NULL) != 0)
		goto out;
	printf("accepted %s\n", what);
	tell_outcome(c.store, &info, b.target);
	ret = 0;
out:
	cli_close(&c);
	return ret;
}
