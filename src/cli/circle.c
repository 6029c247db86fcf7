/*
 * amends circle: create a circle (a GENESIS entry with a random nonce, so
 * two circles of the same name by the same person are still two circles),
 * or propose someone as a member or witness of one (a MEMBER entry that
 * the newcomer and every member must accept).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "amends/state.h"
#include "cli.h"
#include "format.h"
#include "resolve.h"
#include "write.h"

static const char usage[] =
	"usage: amends circle new NAME\n"
	"       amends circle add CIRCLE ID [--witness]\n\n"
	"new creates a circle called NAME, with you as its first member.\n"
	"add proposes the person with ID as a member of CIRCLE (a name or the\n"
	"start of its ID); with --witness as a witness, who sees the record and\n"
	"may confirm check-ins but never signs terms. They join once they and\n"
	"every member have accepted (amends accept).\n";

static int
circle_new(int argc, char **argv)
{
	struct cli c = { 0 };
	struct am_body b = { .kind = AM_KIND_GENESIS };
	uint8_t hash[32], circle[32] = { 0 };
	int ret = 1;

	if (argc != 1) {
		cli_usage(stderr, usage);
		return 1;
	}
	size_t n = strlen(argv[0]);
	if (n == 0 || n > AM_MAX_NAME)
		return cli_error("a circle's name is 1 to %d bytes", AM_MAX_NAME);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)argv[0][i] < 0x20 || argv[0][i] == 0x7f)
			return cli_error("a circle's name holds no control characters");
	if (cli_open(&c, CLI_IDENTITY | CLI_STORE) != 0)
		goto out;
	b.name = am_str_c(argv[0]);
	randombytes_buf(b.nonce, sizeof b.nonce);
	if (cli_write(&c, circle, &b, hash) != 0)
		goto out;
	am_circle_id(am_identity_public(c.id), b.nonce, circle);
	if (cli_publish_name(&c, circle, NULL) != 0)
		goto out;
	char hex[65];
	am_hex(circle, 32, hex);
	printf("created circle '%s' (%.8s)\n", argv[0], hex);
	printf("add people with: amends circle add %.8s ID\n", hex);
	ret = 0;
out:
	cli_close(&c);
	return ret;
}

static int
circle_add(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "witness", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { 0 };
	struct am_body b = { .kind = AM_KIND_MEMBER, .role = AM_ROLE_MEMBER };
	uint8_t circle[32], hash[32];
	int opt, ret = 1;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'w': b.role = AM_ROLE_WITNESS; break;
		case 'h': cli_usage(stdout, usage); return 0;
		default: cli_usage(stderr, usage); return 1;
		}
	}
	if (argc - optind != 2) {
		cli_usage(stderr, usage);
		return 1;
	}
	if (cli_open(&c, CLI_IDENTITY | CLI_STORE) != 0)
		goto out;
	if (cli_resolve_circle(c.store, argv[optind], circle) != 0 ||
	    cli_resolve_id(c.store, argv[optind + 1], b.target) != 0)
		goto out;
	if (cli_write(&c, circle, &b, hash) != 0)
		goto out;
	char who[CLI_SHORT_NAME], h[CLI_SHORT_HASH];
	cli_short_id(c.store, b.target, who);
	cli_short_hash(hash, h);
	printf("proposed %s as %s (%s); they and every member accept it with: "
		"amends accept %s\n", who, cli_role_name(b.role), h, h);
	ret = 0;
out:
	cli_close(&c);
	return ret;
}

int
cmd_circle(int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		cli_usage(stdout, usage);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "new") == 0) {
		if (argc >= 3 && strcmp(argv[2], "--help") == 0) {
			cli_usage(stdout, usage);
			return 0;
		}
		/* the name is taken whole, even if it starts with a dash */
		return circle_new(argc - 2, argv + 2);
	}
	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return circle_add(argc - 1, argv + 1);
	cli_usage(stderr, usage);
	return 1;
}
