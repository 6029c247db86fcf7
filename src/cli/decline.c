/*
 * amends decline: refuse a version of an agreement, a member proposal or
 * an end (a DECLINE entry, with an optional reason). A decline stands until
 * the same person accepts; it cannot take back an acceptance (leaving an
 * agreement in force is amends end).
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
	"usage: amends decline ID [--reason TEXT]\n\n"
	"Declines what ID names, by the start of its hash: a version of an\n"
	"agreement, a proposal to add a member, or an end of an agreement.\n\n"
	"  --reason TEXT   why, for the others to read\n";

int
cmd_decline(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct am_body b = { .kind = AM_KIND_DECLINE };
	struct am_object_info info;
	struct cli c = { 0 };
	const char *reason = NULL;
	int opt, rc, ret = 1;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'r': reason = optarg; break;
		case 'h': cli_usage(stdout, usage); return 0;
		default: cli_usage(stderr, usage); return 1;
		}
	}
	if (argc - optind != 1) {
		cli_usage(stderr, usage);
		return 1;
	}
	if (reason != NULL && cli_text_ok("--reason", reason, AM_MAX_TEXT) != 0)
		return 1;
	if (cli_open(&c, CLI_IDENTITY | CLI_STORE) != 0)
		goto out;
	if (cli_resolve_object(c.store, argv[optind],
	    AM_OBJ_VERSION | AM_OBJ_MEMBER | AM_OBJ_END,
	    "version, member proposal or end", b.target) != 0)
		goto out;
	if ((rc = am_state_lookup(c.store, b.target, &info)) != AM_OK) {
		ret = cli_fail("looking up what to decline", rc);
		goto out;
	}
	b.note = am_str_c(reason);
	char what[300];
	cli_describe(c.store, b.target, what, sizeof what);
	if (cli_write(&c, info.circle, &b, NULL) != 0)
		goto out;
	printf("declined %s\n", what);
	ret = 0;
out:
	cli_close(&c);
	return ret;
}
