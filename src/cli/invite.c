/*
 * amends invite: make a one-time code that lets one person join a circle
 * (include/amends/invite.h). The code is printed to be sent by any means;
 * the person runs `amends join CODE` while this data directory's node runs.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
	"                     [--address tcp://HOST:PORT] [--json]\n"
	"       amends invite --list [--json]\n"
	"       amends invite --revoke ID|CODE\n\n"
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
	"  --json             print the code and its details as JSON\n"
	"  --list             list this node's open invites: circle, role, ID,\n"
	"                     when made, when they expire\n"
	"  --revoke ID|CODE   revoke an open invite (the ID --list shows, or the\n"
	"                     code itself): a join with it is refused from then on\n";

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

/* ---- --list and --revoke ---- */

struct listing {
	struct cli *c;
	struct json *j;                 /* NULL: text */
	struct am_circle_info *circles; /* every circle held, for names */
	size_t ncircles;
	size_t n;                       /* invites listed */
	const char *prefix;             /* --revoke ID: matched against keys */
	size_t matches;
	uint8_t key[AM_CURVE_BYTES];    /* the last match */
};

static const char *
circle_name(const struct listing *l, const uint8_t circle[static AM_HASH_BYTES])
{
	for (size_t i = 0; i < l->ncircles; i++)
		if (memcmp(l->circles[i].id, circle, AM_HASH_BYTES) == 0)
			return l->circles[i].name;
	return NULL;
}

static int
list_one(void *ctx, const struct am_invite_open *inv)
{
	struct listing *l = ctx;
	char made[CLI_TIME_BYTES], until[CLI_TIME_BYTES], chash[CLI_SHORT_HASH];
	char key[CLI_SHORT_HASH];

	cli_short_hash(inv->circle, chash);
	cli_short_hash(inv->key, key);
	const char *role = cli_role_name(inv->role);
	if (l->j != NULL) {
		json_obj(l->j);
		json_kstr(l->j, "id", key);
		json_key(l->j, "circle");
		json_hash(l->j, inv->circle);
		json_kstr(l->j, "circle_name", circle_name(l, inv->circle));
		json_kstr(l->j, "role", role);
		json_key(l->j, "created");
		json_time(l->j, inv->created);
		json_key(l->j, "expires");
		json_time(l->j, inv->expires);
		json_end_obj(l->j);
	} else {
		if (l->n == 0)
			printf("%-8s  %-7s  %-20s  %-20s  %s\n", "ID", "ROLE",
				"MADE", "EXPIRES", "CIRCLE");
		/* the name last and whole: cutting it could split a character */
		const char *name = circle_name(l, inv->circle);
		cli_time_utc(inv->created, made);
		cli_time_utc(inv->expires, until);
		printf("%-8s  %-7s  %-20s  %-20s  %s %s\n", key, role, made, until,
			chash, name != NULL ? cli_shown_c(name) : "");
	}
	l->n++;
	return AM_OK;
}

static int
list_invites(bool json)
{
	struct listing l = { 0 };
	struct cli c = { 0 };
	struct json j;
	int rc, ret = 1;

	if (cli_open(&c, CLI_STORE) != 0)
		goto out;
	l.c = &c;
	if ((rc = am_state_circles(c.store, NULL, &l.circles, &l.ncircles))
	    != AM_OK) {
		ret = cli_fail("reading the circles", rc);
		goto out;
	}
	if (json) {
		json_init(&j, stdout, c.store);
		l.j = &j;
		json_obj(&j);
		json_key(&j, "invites");
		json_arr(&j);
	}
	if ((rc = am_invite_list(c.store, cli_now_ms(), list_one, &l)) != AM_OK) {
		ret = cli_fail("listing the invites", rc);
		goto out;
	}
	if (json) {
		json_end_arr(&j);
		json_end_obj(&j);
	} else if (l.n == 0) {
		printf("no open invites: `amends invite CIRCLE` makes one\n");
	}
	ret = 0;
out:
	am_state_circles_free(&l.circles, l.ncircles);
	cli_close(&c);
	return ret;
}

static int
match_one(void *ctx, const struct am_invite_open *inv)
{
	struct listing *l = ctx;
	char hex[2 * AM_CURVE_BYTES + 1];
	am_hex(inv->key, AM_CURVE_BYTES, hex);
	if (strncmp(hex, l->prefix, strlen(l->prefix)) == 0) {
		memcpy(l->key, inv->key, AM_CURVE_BYTES);
		l->matches++;
	}
	return AM_OK;
}

/* The key the ID or code what names: an ID is the start of the key in
 * hex, at least 4 digits, matching exactly one open invite. */
static int
revoke_key(struct cli *c, const char *what, uint8_t key[static AM_CURVE_BYTES])
{
	char prefix[2 * AM_CURVE_BYTES + 1];
	size_t n = strlen(what);
	int rc;

	if (n >= 8 && strncasecmp(what, "aminvite", 8) == 0) {
		if ((rc = am_invite_code_key(what, key)) != AM_OK)
			return cli_error("%s", am_strerror(rc));
		return 0;
	}
	if (n < 4 || n > 2 * AM_CURVE_BYTES)
		return cli_error("give the invite's ID as `amends invite --list` "
			"shows it, or its code");
	for (size_t i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)what[i]))
			return cli_error("give the invite's ID as `amends invite "
				"--list` shows it, or its code");
		prefix[i] = (char)tolower((unsigned char)what[i]);
	}
	prefix[n] = '\0';
	struct listing l = { .c = c, .prefix = prefix };
	if ((rc = am_invite_list(c->store, cli_now_ms(), match_one, &l)) != AM_OK)
		return cli_fail("listing the invites", rc);
	if (l.matches == 0)
		return cli_error("no open invite here has the ID %s (`amends invite "
			"--list` shows them)", prefix);
	if (l.matches > 1)
		return cli_error("%s names %zu open invites; give more of the ID",
			prefix, l.matches);
	memcpy(key, l.key, AM_CURVE_BYTES);
	return 0;
}

static int
revoke_invite(const char *what)
{
	uint8_t key[AM_CURVE_BYTES];
	char id[CLI_SHORT_HASH];
	struct cli c = { 0 };
	int rc, ret = 1;

	if (cli_open(&c, CLI_STORE) != 0)
		goto out;
	if (revoke_key(&c, what, key) != 0)
		goto out;
	cli_short_hash(key, id);
	rc = am_invite_revoke(c.store, key, cli_now_ms());
	switch (rc) {
	case AM_OK:
		printf("invite %s is revoked: a join with its code is refused\n", id);
		ret = 0;
		break;
	case AM_ERR_NOT_FOUND:
		ret = cli_error("this node made no such invite");
		break;
	case AM_ERR_INVITE_USED:
		ret = cli_error("invite %s was already used: the person is "
			"proposed; `amends withdraw PROPOSAL` takes the proposal "
			"back", id);
		break;
	case AM_ERR_INVITE_EXPIRED:
		ret = cli_error("invite %s has expired already: it admits nobody",
			id);
		break;
	default:
		ret = cli_fail("revoking the invite", rc);
		break;
	}
out:
	cli_close(&c);
	return ret;
}

int
cmd_invite(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "witness", no_argument, NULL, 'w' },
		{ "expires", required_argument, NULL, 'e' },
		{ "address", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "list", no_argument, NULL, 'l' },
		{ "revoke", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *expires_text = NULL, *address_opt = NULL, *revoke = NULL;
	bool witness = false, json = false, list = false;
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
		case 'l': list = true; break;
		case 'r': revoke = optarg; break;
		case 'h': cli_usage(stdout, usage); return 0;
		default: cli_usage(stderr, usage); return 1;
		}
	}
	if (list || revoke != NULL) {
		if (optind != argc || (list && revoke != NULL) || witness ||
		    expires_text != NULL || address_opt != NULL ||
		    (revoke != NULL && json)) {
			cli_usage(stderr, usage);
			return 1;
		}
		return list ? list_invites(json) : revoke_invite(revoke);
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
