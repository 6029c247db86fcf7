/*
 * amends say: write a statement into a circle (a STATEMENT entry): an
 * account of what happened, an apology, a response, optionally about one
 * agreement. Others confirm it to say they received and accept it.
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
	"usage: amends say CIRCLE TEXT... [--about AGREEMENT]\n\n"
	"Writes TEXT (the words given, joined by spaces) as a statement in\n"
	"CIRCLE (its name or the start of its ID).\n\n"
	"  --about AGREEMENT   the agreement it is about (the start of its hash)\n";

int
cmd_say(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "about", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct am_body b = { .kind = AM_KIND_STATEMENT };
	struct am_object_info info;
	struct cli c = { 0 };
	const char *about = NULL;
	char *text = NULL;
	uint8_t circle[32], hash[32];
	int opt, rc, ret = 1;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'a': about = optarg; break;
		case 'h': cli_usage(stdout, usage); return 0;
		default: cli_usage(stderr, usage); return 1;
		}
	}
	if (argc - optind < 2) {
		cli_usage(stderr, usage);
		return 1;
	}
	size_t n = 0;
	for (int i = optind + 1; i < argc; i++)
		n += strlen(argv[i]) + 1;
	if ((text = malloc(n)) == NULL)
		return cli_fail("saying it", AM_ERR_NOMEM);
	text[0] = '\0';
	for (int i = optind + 1; i < argc; i++) {
		if (i > optind + 1)
			strcat(text, " ");
		strcat(text, argv[i]);
	}
	if (cli_text_ok("the statement", text, AM_MAX_TEXT) != 0)
		goto out;
	if (cli_open(&c, CLI_IDENTITY | CLI_STORE) != 0)
		goto out;
	if (cli_resolve_circle(c.store, argv[optind], circle) != 0)
		goto out;
	if (about != NULL) {
		if (cli_resolve_object(c.store, about, AM_OBJ_AGREEMENT, "agreement",
		    b.target) != 0)
			goto out;
		if ((rc = am_state_lookup(c.store, b.target, &info)) != AM_OK) {
			ret = cli_fail("looking up the agreement", rc);
			goto out;
		}
		if (memcmp(info.circle, circle, 32) != 0) {
			ret = cli_error("that agreement belongs to another circle");
			goto out;
		}
		b.has_target = true;
	}
	b.note = am_str_c(text);
	if (cli_write(&c, circle, &b, hash) != 0)
		goto out;
	char h[CLI_SHORT_HASH];
	cli_short_hash(hash, h);
	printf("said it (statement %s); the others confirm it with amends confirm %s\n",
		h, h);
	ret = 0;
out:
	free(text);
	cli_close(&c);
	return ret;
}
