/*
 * amends peer: set or clear by hand the address at which this node reaches
 * another member's node (`amends join` sets the inviter's by itself).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "amends/peer.h"
#include "cli.h"
#include "resolve.h"

static const char usage[] =
	"usage: amends peer add ID ADDRESS\n"
	"       amends peer remove ID\n\n"
	"add sets (or changes) the address at which this node reaches the node\n"
	"of ID (its text form, a nickname or the start of a member's ID), such\n"
	"as tcp://203.0.113.5:7411. remove forgets the address: this node then\n"
	"waits for the other to connect. A running node picks the change up at\n"
	"once. Only members of a shared circle are ever connected to, except\n"
	"for 24 hours after amends init --restore: then every peer added here\n"
	"is, so that it can tell the node which circles you are in.\n";

int
cmd_peer(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { 0 };
	uint8_t id[AM_ID_BYTES];
	int opt, ret = 1;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'h': cli_usage(stdout, usage); return 0;
		default: cli_usage(stderr, usage); return 1;
		}
	}
	int rest = argc - optind;
	const char *verb = rest > 0 ? argv[optind] : "";
	bool add = strcmp(verb, "add") == 0, remove = strcmp(verb, "remove") == 0;
	if ((!add && !remove) || (add && rest != 3) || (remove && rest != 2)) {
		cli_usage(stderr, usage);
		return 1;
	}
	const char *address = add ? argv[optind + 2] : NULL;
	if (add && !am_peer_address_ok(address))
		return cli_error("'%s' is not an address; give tcp://HOST:PORT, such "
			"as tcp://203.0.113.5:7411", address);
	if (cli_open(&c, CLI_IDENTITY | CLI_STORE) != 0)
		goto out;
	if (cli_resolve_id(c.store, argv[optind + 1], id) != 0)
		goto out;
	if (memcmp(id, am_identity_public(c.id), AM_ID_BYTES) == 0) {
		ret = cli_error("that is this node's own ID");
		goto out;
	}
	int rc = am_peer_set_address(c.store, id, address);
	if (rc != AM_OK) {
		ret = cli_fail("saving the address", rc);
		goto out;
	}
	ret = 0;
out:
	cli_close(&c);
	return ret;
}
