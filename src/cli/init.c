/*
 * amends init: create the data directory, a new identity and the database.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "amends/home.h"
#include "cli.h"

static const char usage[] =
	"usage: amends init [--name NAME]\n\n"
	"Creates the data directory ($AMENDS_HOME, else $XDG_DATA_HOME/amends,\n"
	"else ~/.local/share/amends) with a new identity and an empty record.\n"
	"Never overwrites an existing identity.\n\n"
	"  --name NAME   what this node calls its own person (shown instead of the ID)\n";


int
cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL;
	struct cli c = { 0 };
	struct am_identity *id = NULL;
	char *key = NULL;
	int opt, rc, ret = 1;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'n': name = optarg; break;
		case 'h': cli_usage(stdout, usage); return 0;
		default: cli_usage(stderr, usage); return 1;
		}
	}
	if (optind != argc) {
		cli_usage(stderr, usage);
		return 1;
	}
	if (name != NULL && !cli_name_ok(name))
		return cli_error("a name is 1 to 64 characters of text without "
			"control characters");
	c.home = am_home_dir();
	if (c.home == NULL)
		return cli_error("no data directory: set AMENDS_HOME or HOME");
	if ((rc = am_home_create(c.home)) != AM_OK) {
		ret = cli_error("cannot create the data directory %s", c.home);
		goto out;
	}
	if ((key = am_home_path(c.home, AM_HOME_KEY)) == NULL)
		goto out;
	if ((rc = am_identity_generate(&id)) != AM_OK) {
		ret = cli_fail("creating a key", rc);
		goto out;
	}
	rc = am_identity_save(id, key);
	if (rc == AM_ERR_EXISTS) {
		ret = cli_error("an identity already exists in %s; not overwriting it",
			c.home);
		goto out;
	}
	if (rc != AM_OK) {
		ret = cli_error("writing key file %s: %s", key, am_strerror(rc));
		goto out;
	}
	if (cli_open(&c, CLI_STORE) != 0)
		goto out;
	if (name != NULL &&
	    (rc = am_store_name_set(c.store, am_identity_public(id), name)) != AM_OK) {
		ret = cli_fail("saving the name", rc);
		goto out;
	}
	char text[AM_ID_TEXT_BYTES], fpr[AM_FPR_TEXT_BYTES];
	am_id_format(am_identity_public(id), text);
	am_id_fingerprint(am_identity_public(id), fpr);
	printf("created identity in %s\n", c.home);
	printf("id:          %s\n", text);
	printf("fingerprint: %s\n", fpr);
	ret = 0;
out:
	am_identity_destroy(&id);
	free(key);
	cli_close(&c);
	return ret;
}
