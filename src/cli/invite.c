/*
 * amends invite: make a one-time code that lets one person join a circle
 * (include/amends/invite.h). The code is printed to be sent by any means;
 * the person runs `amends join CODE` while this data directory's node runs.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "amends/invite.h"
#include "amends/node.h"
#include "amends/peer.h"
#include "amends/state.h"
#include "cli.h"
#include "format.h"
#include "resolve.h"

#define SETTING_ADDRESS "address"
#define DEFAULT_EXPIRY (24 * 3600)

static const char usage[] =
	"usage: amends invite CIRCLE [--witness] [--expires DURATION]\n"
	"                     [--address tcp://HOST:PORT] [--json]\n\n"
	"Prints a one-time code that lets one person join CIRCLE (its name or\n"
	"the start of its ID). Send it to them; they run `amends join CODE`\n"
	"while this node runs (`amends node`). Whoever holds the code can use it\n"
	"once, until it expires; the other members still have to accept the\n"
	"newcomer.\n\n"
	"  --witness          they join as a witness: they see the record and may\n"
	"                     confirm check-ins, but never sign terms\n"
	"  --expires DURATION how long the code works: 30m, 24h, 7d (default 24h,\n"
	"                     at most 30d)\n"
	"  --address ADDRESS  where their node can reach this one, such as\n"
	"                     tcp://203.0.113.5:7411; remembered for the next\n"
	"                     invites (the `address` setting)\n"
	"  --json             print the code and its details as JSON\n";

static int
resolve_address(struct cli *c, const char *given, char **out)
{
	if (given != NULL) {
		if (!am_peer_address_ok(given))
			return cli_error("--address takes tcp://HOST:PORT, such as "
				"tcp://203.0.113.5:7411");
		*out = strdup(given);
		return *out == NULL ? cli_fail("invite", AM_ERR_NOMEM) : 0;
	}
	*out = am_store_setting_get(c->store, SETTING_ADDRESS);
	if (*out == NULL)
		return cli_error("say where the other node can reach this one: "
			"--address tcp://HOST:PORT (it is remembered for the next "
			"invites)");
	if (!am_peer_address_ok(*out))
		return cli_error("the address setting '%s' is not tcp://HOST:PORT; "
			"give --address", *out);
	return 0;
}

int
cmd_invite(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "witness", no_argument, NULL, 'w' },
		{ "expires", required_argument, NULL, 'e' },
		{ "address", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *expires_text = NULL, *address_opt = NULL;
	bool witness = false, json = false;
	uint64_t secs = DEFAULT_EXPIRY;
	uint8_t circle[AM_HASH_BYTES];
	char *address = NULL, *code = NULL;
	struct cli c = { 0 };
	uint32_t role;
	int opt, rc, ret = 1;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'w': witness = true; break;
		case 'e': expires_text = optarg; break;
		case 'a': address_opt = optarg; break;
		case 'j': json = true; break;
		case 'h': cli_usage(stdout, usage); return 0;
		default: cli_usage(stderr, usage); return 1;
		}
	}
	if (optind + 1 != argc) {
		cli_usage(stderr, usage);
		return 1;
	}
	if (expires_text != NULL) {
		if (cli_parse_duration("--expires", expires_text, &secs) != 0)
			return 1;
		if (secs < 60 || secs * 1000 > (uint64_t)AM_INVITE_MAX_EXPIRY)
			return cli_error("--expires is from 1m to 30d");
	}
	if (cli_open(&c, CLI_IDENTITY | CLI_STORE) != 0)
		goto out;
	if (cli_resolve_circle(c.store, argv[optind], circle) != 0)
		goto out;
	rc = am_state_member_role(c.store, circle, am_identity_public(c.id), &role);
	if (rc == AM_ERR_NOT_MEMBER || (rc == AM_OK && role != AM_ROLE_MEMBER)) {
		ret = cli_error("only a member of the circle who is not a witness "
			"can invite to it");
		goto out;
	}
	if (rc != AM_OK) {
		ret = cli_fail("reading the circle", rc);
		goto out;
	}
	if (resolve_address(&c, address_opt, &address) != 0)
		goto out;
	/* the proposal it writes is dated now: refused, as every write is,
	 * when the clock is outside the times the state reads (which also
	 * keeps the sum below within int64) */
	char why[160];
	int64_t now = cli_now_ms();
	if (am_state_check_time(now, why, sizeof why) != AM_OK) {
		ret = cli_error("%s", why);
		goto out;
	}
	int64_t expires = now + (int64_t)secs * 1000;
	rc = am_invite_create(c.store, c.id, circle, witness, now, expires,
		address, &code);
	if (rc != AM_OK) {
		ret = cli_fail("creating the invite", rc);
		goto out;
	}
	if (address_opt != NULL &&
	    (rc = am_store_setting_set(c.store, SETTING_ADDRESS, address)) != AM_OK) {
		ret = cli_fail("remembering the address", rc);
		goto out;
	}

	char when[CLI_TIME_BYTES], chash[CLI_SHORT_HASH];
	char sn[AM_FPR_LONG_TEXT_BYTES];
	am_id_safety_number(am_identity_public(c.id), sn);
	cli_time_utc(expires / 1000 * 1000, when);
	cli_short_hash(circle, chash);
	if (json) {
		struct json j;
		json_init(&j, stdout, c.store);
		json_obj(&j);
		json_kstr(&j, "code", code);
		json_key(&j, "circle");
		json_hash(&j, circle);
		json_kstr(&j, "role", witness ? "witness" : "member");
		json_kstr(&j, "address", address);
		json_key(&j, "expires");
		json_time(&j, expires / 1000 * 1000);
		json_kstr(&j, "safety_number", sn);
		json_end_obj(&j);
	} else {
		printf("invite to circle %s as a %s, valid until %s:\n\n%s\n\n",
			chash, witness ? "witness" : "member", when, code);
		printf("send the code to the person you invite; they run:\n"
			"  amends join CODE\n");
		/* the code could be copied or altered on its way: the join
		 * shows the inviter's number, which only this key has */
		printf("then read them your safety number, in person or on a "
			"call; the join shows it and it must match:\n  %s\n", sn);
		if (!am_node_running(c.home))
			printf("no node runs here now: start `amends node` before "
				"they join\n");
	}
	ret = 0;
out:
	free(code);
	free(address);
	cli_close(&c);
	return ret;
}
