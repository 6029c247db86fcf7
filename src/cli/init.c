/*
 * amends init: create the data directory, a new identity and the database.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "amends/display.h"
#include "amends/home.h"
#include "amends/peer.h"
#include "cli.h"

static const char usage[] =
	"usage: amends init [--name NAME] [--restore FILE [--passphrase-fd N]]\n\n"
	"Creates the data directory ($AMENDS_HOME, else $XDG_DATA_HOME/amends,\n"
	"else ~/.local/share/amends) with a new identity and an empty record.\n"
	"Never overwrites an existing identity.\n\n"
	"  --name NAME        your name: shown here instead of your ID, and signed\n"
	"                     into each circle you create or join, so the others\n"
	"                     see it too (change it with amends name --self NAME)\n"
	"  --restore FILE     bring back an identity saved with amends key backup; the\n"
	"                     node then fetches its own entries from its peers and\n"
	"                     writes nothing in a circle until it holds its latest one\n"
	"  --passphrase-fd N  read the backup's passphrase from file descriptor N\n";

/* A backup is the key part, and since issue 22 an address book after
 * it: never more than this. */
#define BACKUP_FILE_MAX (AM_BACKUP_BYTES + 64 + AM_BACKUP_BOOK_MAX)

/* Reads and decrypts a key backup, and its address book when it carries
 * one (*book malloc'd, else NULL). Prints a sentence and returns 1 on
 * failure. */
static int
restore(const char *file, int fd, struct am_identity **id, uint8_t **book,
	size_t *booklen)
{
	uint8_t *buf = malloc(BACKUP_FILE_MAX + 1);
	char *pass = NULL;
	int ret = 1;

	if (buf == NULL)
		return cli_fail("restoring", AM_ERR_NOMEM);
	FILE *f = fopen(file, "rb");
	if (f == NULL) {
		free(buf);
		return cli_error("cannot open %s", file);
	}
	size_t n = fread(buf, 1, BACKUP_FILE_MAX + 1, f);
	fclose(f);
	if (n < AM_BACKUP_BYTES || n > BACKUP_FILE_MAX) {
		free(buf);
		return cli_error("%s is not an amends key backup", file);
	}
	if ((pass = sodium_malloc(256)) == NULL) {
		free(buf);
		return cli_fail("restoring", AM_ERR_NOMEM);
	}
	if (cli_passphrase(fd, false, pass, 256) != 0)
		goto out;
	int rc = am_identity_restore_book(buf, n, pass, strlen(pass), id, book,
		booklen);
	if (rc == AM_ERR_KEY_FORMAT)
		cli_error("%s is not an amends key backup", file);
	else if (rc != AM_OK)
		cli_error("cannot restore %s: %s", file, am_strerror(rc));
	else
		ret = 0;
out:
	sodium_free(pass);
	free(buf);
	return ret;
}


int
cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "restore", required_argument, NULL, 'r' },
		{ "passphrase-fd", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL, *backup = NULL;
	int pass_fd = -1;
	struct cli c = { 0 };
	struct am_identity *id = NULL;
	char *key = NULL;
	uint8_t *book = NULL;
	size_t booklen = 0, npeers = 0, nnames = 0, skipped = 0;
	int opt, rc, ret = 1;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'n': name = optarg; break;
		case 'r': backup = optarg; break;
		case 'p': pass_fd = cli_fd_arg(optarg); if (pass_fd < 0) return 1; break;
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
	if (cli_home_check(c.home) != 0)
		goto out;
	if ((key = am_home_path(c.home, AM_HOME_KEY)) == NULL)
		goto out;
	if (backup != NULL) {
		char *existing = am_home_path(c.home, AM_HOME_KEY);
		bool exists = existing != NULL && access(existing, F_OK) == 0;
		free(existing);
		/* refuse before asking for a passphrase */
		if (exists) {
			ret = cli_error("an identity already exists in %s; not overwriting it",
				c.home);
			goto out;
		}
		if (restore(backup, pass_fd, &id, &book, &booklen) != 0)
			goto out;
	} else if ((rc = am_identity_generate(&id)) != AM_OK) {
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
	/* the name is this node's word for its person and the display name
	 * it signs into each circle it creates or joins */
	if (name != NULL &&
	    ((rc = am_store_name_set(c.store, am_identity_public(id), name)) != AM_OK ||
	    (rc = am_display_set(c.store, name)) != AM_OK)) {
		ret = cli_fail("saving the name", rc);
		goto out;
	}
	if (backup != NULL &&
	    (rc = am_store_setting_set(c.store, AM_SETTING_RESTORED, "1")) != AM_OK) {
		ret = cli_fail("marking the identity as restored", rc);
		goto out;
	}
	if (book != NULL && (rc = am_peer_book_apply(c.store, (const char *)book,
	    booklen, &npeers, &nnames, &skipped)) != AM_OK) {
		ret = cli_fail("taking back the peers' addresses and names", rc);
		goto out;
	}
	if (backup != NULL) {
		/* for a while, the peers it knows are let in and dialled, member
		 * or not: they tell it which circles it is in */
		char until[24];
		snprintf(until, sizeof until, "%lld",
			(long long)(cli_now_ms() + AM_PEER_RECOVERY_MS));
		if ((rc = am_store_setting_set(c.store, AM_PEER_SETTING_RECOVERY,
		    until)) != AM_OK) {
			ret = cli_fail("opening the recovery window", rc);
			goto out;
		}
	}
	char text[AM_ID_TEXT_BYTES], fpr[AM_FPR_TEXT_BYTES];
	char sn[AM_FPR_LONG_TEXT_BYTES];
	am_id_format(am_identity_public(id), text);
	am_id_fingerprint(am_identity_public(id), fpr);
	am_id_safety_number(am_identity_public(id), sn);
	if (backup != NULL) {
		printf("restored identity in %s\n"
			"it will fetch its own entries from its peers before it writes "
			"in a circle\n", c.home);
		if (book != NULL)
			printf("the backup named %zu peer%s and %zu name%s%s; for 24 "
				"hours, amends node lets those peers in to tell it your "
				"circles\n", npeers, npeers == 1 ? "" : "s", nnames,
				nnames == 1 ? "" : "s", skipped > 0 ?
				" (and lines this version does not read)" : "");
		else
			printf("this backup is older and carries no peer addresses: "
				"add a peer with amends peer add ID ADDRESS within 24 hours, "
				"and it will tell the node your circles\n");
	} else {
		printf("created identity in %s\n", c.home);
	}
	printf("id:            %s\n", text);
	printf("safety number: %s\n", sn);
	printf("fingerprint:   %s\n", fpr);
	ret = 0;
out:
	am_identity_destroy(&id);
	free(book);
	free(key);
	cli_close(&c);
	return ret;
}
