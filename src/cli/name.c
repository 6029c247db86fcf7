/*
 * amends name: give a person's ID a nickname on this node, so every
 * command shows "alex" rather than an ID, and takes "alex" as an ID.
 * Nicknames are this node's own: they are never written into an entry,
 * and they win over the name a person signed for themselves (shown as
 * "your name for them"). With --self, the name is your own display name:
 * signed into every circle you have joined (a NAME entry), so the others
 * see it.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "amends/display.h"
#include "amends/id.h"
#include "amends/node.h"
#include "cli.h"
#include "resolve.h"
#include "write.h"

static const char usage[] =
	"usage: amends name ID NAME\n"
	"       amends name --remove ID\n"
	"       amends name --self NAME\n\n"
	"Calls the person with this ID NAME on this node: commands show NAME\n"
	"instead of the ID and accept NAME wherever an ID is asked for. ID is\n"
	"the text form (am...), a name given before, or the start of a known ID.\n"
	"A name given here is yours alone and wins over the name the person\n"
	"signed for themselves.\n\n"
	"  --remove   forget the name of ID\n"
	"  --self     your own name: signed into every circle you have joined\n"
	"             (and those you create or join later), so that the other\n"
	"             members see it on their nodes\n";

/* NAME is free to name id here: not another person's nickname, not an ID. */
static int
name_free(struct cli *c, const uint8_t id[32], const char *name)
{
	uint8_t other[32];
	/* one name, one person: otherwise the name would not say who */
	int rc = am_store_name_find(c->store, name, other);
	if (rc == AM_OK && memcmp(other, id, 32) != 0) {
		char text[AM_ID_TEXT_BYTES];
		am_id_format(other, text);
		return cli_error("'%s' already names %s; remove that name first",
			name, text);
	}
	/* a name that reads as an ID would shadow it */
	if (strlen(name) == AM_ID_TEXT_BYTES - 1 && am_id_parse(name, other) == AM_OK)
		return cli_error("'%s' is an ID; choose a name that is not one", name);
	return 0;
}

static int
name_self(const char *name)
{
	struct cli c = { 0 };
	unsigned written = 0;
	int rc, ret = 1;

	if (!cli_name_ok(name))
		return cli_error("a name is 1 to 64 bytes of text without "
			"control characters");
	if (cli_open(&c, CLI_IDENTITY | CLI_STORE) != 0)
		goto out;
	const uint8_t *me = am_identity_public(c.id);
	if (name_free(&c, me, name) != 0)
		goto out;
	if ((rc = am_store_name_set(c.store, me, name)) != AM_OK ||
	    (rc = am_display_set(c.store, name)) != AM_OK) {
		ret = cli_fail("saving the name", rc);
		goto out;
	}
	if (cli_publish_name(&c, NULL, &written) != 0)
		goto out;
	int64_t started;
	if (written == 0 && am_node_fresh(c.home, c.store, &started))
		printf("you are now called %s; the node signs it into your circles "
			"once it has compared with a peer\n", name);
	else
		printf("you are now called %s; signed into %u circle%s\n", name,
			written, written == 1 ? "" : "s");
	ret = 0;
out:
	cli_close(&c);
	return ret;
}

int
cmd_name(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "remove", no_argument, NULL, 'r' },
		{ "self", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { 0 };
	bool remove = false, self = false;
	uint8_t id[32];
	int opt, rc, ret = 1;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'r': remove = true; break;
		case 's': self = true; break;
		case 'h': cli_usage(stdout, usage); return 0;
		default: cli_usage(stderr, usage); return 1;
		}
	}
	if (self && !remove && argc - optind == 1)
		return name_self(argv[optind]);
	if (self || argc - optind != (remove ? 1 : 2)) {
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
	if (name != NULL && name_free(&c, id, name) != 0)
		goto out;
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
