/*
 * amends end: leave an agreement (an END entry, with an optional reason).
 * Leaving is recorded, never hidden. The end applies at once when every
 * party accepts it, otherwise once the notice of the version in force has
 * passed.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "amends/state.h"
#include "cli.h"
#include "format.h"
#include "resolve.h"
#include "write.h"

static const char usage[] =
	"usage: amends end AGREEMENT [--reason TEXT]\n\n"
	"Ends AGREEMENT (the start of its hash) for everyone. It ends at once\n"
	"when every party accepts the end, otherwise when the agreement's notice\n"
	"has passed.\n\n"
	"  --reason TEXT   why, for the others to read\n";

int
cmd_end(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct am_body b = { .kind = AM_KIND_END };
	struct am_agreement a = { 0 };
	struct cli c = { 0 };
	const char *reason = NULL;
	uint8_t hash[32];
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
	if (cli_resolve_object(c.store, argv[optind], AM_OBJ_AGREEMENT, "agreement",
	    b.target) != 0)
		goto out;
	if ((rc = am_state_agreement(c.store, b.target, cli_now_ms(), &a)) != AM_OK) {
		ret = cli_fail("reading the agreement", rc);
		goto out;
	}
	b.note = am_str_c(reason);
	if (cli_write(&c, a.circle, &b, hash) != 0)
		goto out;
	am_state_agreement_finish(&a);
	if ((rc = am_state_agreement(c.store, b.target, cli_now_ms(), &a)) != AM_OK) {
		ret = cli_fail("reading the agreement", rc);
		goto out;
	}
	char h[CLI_SHORT_HASH], when[CLI_TIME_BYTES];
	cli_short_hash(hash, h);
	if (a.status == AM_AGREEMENT_ENDED) {
		printf("'%s' has ended (%s)\n", cli_shown_c(a.title), h);
	} else if (a.status == AM_AGREEMENT_ENDING) {
		cli_time_local(a.end_at, when);
		printf("'%s' ends on %s, or at once when every party accepts the "
			"end (amends accept %s)\n", cli_shown_c(a.title), when, h);
	} else {
		printf("ended '%s' (%s)\n", cli_shown_c(a.title), h);
	}
	ret = 0;
out:
	am_state_agreement_finish(&a);
	cli_close(&c);
	return ret;
}
