/*
 * amends name: give a person's ID a nickname on this node, so every
 * command shows "alex" rather than an ID, and takes "alex" as an ID.
 * Nicknames are this node's own: they are never written into an entry.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "amends/id.h"
#include "cli.h"
#include "resolve.h"

static const char usage[] =
	"usage: amends name ID NAME\n"
	"       amends name --remove ID\n\n"
	"Calls the person with this ID NAME on this node: commands show NAME\n"
	"instead of the ID and accept NAME wherever an ID is asked for. ID is\n"
	"the text form (am...), a name given before, or the start of a known ID.\n\n"
	"  --remove   forget the name of ID\n";

int
cmd_name(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "remove", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { 0 };
	bool remove = false;
	uint8_t id[32], other[32];
	int opt, rc, ret = 1;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'r': remove = true; break;
		case 'h': cli_usage(stdout, usage); return 0;
		default: cli_usage(stderr, usage); return 1;
		}
	}
	if (argc - optind != (remove ? 1 : 2)) {
		cli_usage(stderr, usage);
		return 1;
	}
	const char *who = argv[optind], *name = remove ? NULL : argv[optind + 1];
	if (name != NULL && !cli_name_ok(name))
		return cli_error("a name is 1 to 64 characters of text without "
			"control characters");
	if (cli_open(&c, CLI_STORE) != 0)
		goto out;
	if (cli_resolve_id(c.store, who, id) != 0)
		goto out;
	if (name != NULL) {
		/* one name, one person: otherwise the name would not say who */
		rc = am_store_name_find(c.store, name, other);
		if (rc == AM_OK && memcmp(other, id, 32) != 0) {
			char text[AM_ID_TEXT_BYTES];
			am_id_format(other, text);
			ret = cli_error("'%s' already names %s; remove that name first",
				name, text);
			goto out;
		}
		/* a name that reads as an ID would shadow it */
		if (strlen(name) == AM_ID_TEXT_BYTES - 1 &&
		    am_id_parse(name, other) == AM_OK) {
			ret = cli_error("'%s' is an ID; choose a name that is not one",
				name);
			goto out;
		}
	}
	if ((rc = am_store_name_set(c.store, id, name)) != AM_OK) {
		ret = cli_fail("saving the name", rc);
		goto out;
	}
	char text[AM_ID_TEXT_BYTES];
	am_id_format(id, text);
	if (name != NULL)
		printf("%s is now called %s here\n", text, name);
	else
		printf("%s has no name here any more\n", text);
	ret = 0;
out:
	cli_close(&c);
	return ret;
}
