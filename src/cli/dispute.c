/*
 * amends dispute: say that another person's check-in is not what happened
 * (a DISPUTE entry, always with a note saying why). The dispute stands
 * until the same person confirms the check-in.
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
	"usage: amends dispute CHECKIN --note TEXT\n\n"
	"Disputes the check-in CHECKIN (the start of its hash), saying why.\n";

int
cmd_dispute(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "note", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct am_body b = { .kind = AM_KIND_DISPUTE };
	struct am_object_info info;
	struct cli c = { 0 };
	const char *note = NULL;
	int opt, rc, ret = 1;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'n': note = optarg; break;
		case 'h': cli_usage(stdout, usage); return 0;
		default: cli_usage(stderr, usage); return 1;
		}
	}
	if (argc - optind != 1) {
		cli_usage(stderr, usage);
		return 1;
	}
	if (note == NULL)
		return cli_error("a dispute says why: give --note");
	if (cli_text_ok("--note", note, AM_MAX_TEXT) != 0)
		return 1;
	if (cli_open(&c, CLI_IDENTITY | CLI_STORE) != 0)
		goto out;
	if (cli_resolve_object(c.store, argv[optind], AM_OBJ_CHECKIN, "check-in",
	    b.target) != 0)
		goto out;
	if ((rc = am_state_lookup(c.store, b.target, &info)) != AM_OK) {
		ret = cli_fail("looking up the check-in", rc);
		goto out;
	}
	b.note = am_str_c(note);
	char what[300];
	cli_describe(c.store, b.target, what, sizeof what);
	if (cli_write(&c, info.circle, &b, NULL) != 0)
		goto out;
	printf("disputed %s\n", what);
	ret = 0;
out:
	cli_close(&c);
	return ret;
}
