/*
 * amends circle: create a circle (a GENESIS entry with a random nonce, so
 * two circles of the same name by the same person are still two circles),
 * propose someone as a member or witness of one (a MEMBER entry that the
 * newcomer and every member must accept), leave one (a LEAVE in one's own
 * feed), propose removing someone (a REMOVE the other members accept), or
 * rename one (a RENAME naming the name it replaces). The rules are in
 * protocol/state.md; none of them erases anything: what a person already
 * holds stays with them.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "amends/entry.h"
#include "amends/state.h"
#include "cli.h"
#include "format.h"
#include "resolve.h"
#include "rotate.h"
#include "write.h"

static const char usage[] =
	"usage: amends circle new NAME\n"
	"       amends circle add CIRCLE ID [--witness]\n"
	"       amends circle leave CIRCLE [--reason TEXT]\n"
	"       amends circle remove CIRCLE ID [--reason TEXT]\n"
	"       amends circle rename CIRCLE NAME\n"
	"       amends circle succeed CIRCLE ID NEW-ID [--head N] [--reason TEXT]\n\n"
	"new creates a circle called NAME, with you as its first member.\n"
	"add proposes the person with ID as a member of CIRCLE (a name or the\n"
	"start of its ID); with --witness as a witness, who sees the record and\n"
	"may confirm check-ins but never signs terms. They join once they and\n"
	"every member have accepted (amends accept).\n"
	"leave takes you out of CIRCLE: what you write there afterwards does not\n"
	"count, agreements naming you end, and the others stop sending you the\n"
	"record. What you already hold stays with you, and with them.\n"
	"remove proposes taking the member ID out of CIRCLE. It takes effect once\n"
	"every other member has accepted it (amends accept); with only two of\n"
	"you, leave instead. From then on what they write there does not count,\n"
	"agreements naming them end, and nobody sends them the record. What they\n"
	"already hold stays with them.\n"
	"rename gives CIRCLE a new name (members only, not witnesses).\n"
	"succeed proposes NEW-ID (their new key, whose full ID they give you)\n"
	"in the place of the member ID, whose key was lost, stolen or forked.\n"
	"It takes effect once NEW-ID and every other member have accepted it\n"
	"(amends accept); compare the new key's fingerprint with them by voice\n"
	"first. From then on NEW-ID is a party to every agreement ID was, what\n"
	"ID signed up to the succession counts for NEW-ID, and what the old key\n"
	"signs later counts nowhere. Each person's first acceptance of a new key\n"
	"for someone is final. --head N names the last entry of ID's feed that\n"
	"counts (default: the newest held here): for a stolen key, the last\n"
	"one its owner wrote, so that nothing a thief signed with it counts or\n"
	"asks anyone's consent.\n";

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

/* Parses [--reason TEXT] and count operands for leave and remove. */
static int
reason_opts(int argc, char **argv, int operands, const char **reason)
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'r': *reason = optarg; break;
		case 'h': cli_usage(stdout, usage); return -1;
		default: cli_usage(stderr, usage); return 1;
		}
	}
	if (argc - optind != operands) {
		cli_usage(stderr, usage);
		return 1;
	}
	if (*reason != NULL && cli_text_ok("--reason", *reason, AM_MAX_TEXT) != 0)
		return 1;
	return 0;
}

static int
circle_leave(int argc, char **argv)
{
	struct cli c = { 0 };
	struct am_body b = { .kind = AM_KIND_LEAVE };
	const char *reason = NULL;
	uint8_t circle[32], hash[32];
	int ret = reason_opts(argc, argv, 1, &reason);

	if (ret != 0)
		return ret < 0 ? 0 : 1;
	ret = 1;
	if (cli_open(&c, CLI_IDENTITY | CLI_STORE) != 0)
		goto out;
	if (cli_resolve_circle(c.store, argv[optind], circle) != 0)
		goto out;
	b.note = am_str_c(reason);
	if (cli_write(&c, circle, &b, hash) != 0)
		goto out;
	char id[CLI_SHORT_HASH];
	cli_short_hash(circle, id);
	printf("you have left circle %s: the others stop sending you its record, "
		"and what you already hold stays with you\n", id);
	ret = 0;
out:
	cli_close(&c);
	return ret;
}

int
cli_need_others(struct cli *c, const uint8_t circle[static 32], struct am_body *b)
{
	const char *what = b->kind == AM_KIND_SUCCESSION ? "succession" : "removal";
	struct am_member *m = NULL;
	size_t n = 0;
	int rc = am_state_members(c->store, circle, &m, &n);
	if (rc != AM_OK)
		return cli_fail("reading the members", rc);
	bool target_joined = false;
	b->nneed = 0;
	for (size_t i = 0; i < n; i++) {
		if (m[i].status != AM_MEMBER_JOINED)
			continue;
		if (memcmp(m[i].id, b->target, 32) == 0) {
			target_joined = true;
			continue;
		}
		if (b->nneed == AM_MAX_NEED) {
			free(m);
			return cli_error("the circle has more than %d members: a "
				"%s can name at most that many", AM_MAX_NEED, what);
		}
		size_t k = b->nneed++;
		/* insertion by bytes: the list is short */
		while (k > 0 && memcmp(b->need[k - 1], m[i].id, 32) > 0) {
			memcpy(b->need[k], b->need[k - 1], 32);
			k--;
		}
		memcpy(b->need[k], m[i].id, 32);
	}
	free(m);
	if (!target_joined)
		return cli_error("that person is not a joined member of the circle");
	return 0;
}

static int
circle_remove(int argc, char **argv)
{
	struct cli c = { 0 };
	struct am_body b = { .kind = AM_KIND_REMOVE };
	const char *reason = NULL;
	uint8_t circle[32], hash[32];
	int rc, ret = reason_opts(argc, argv, 2, &reason);

	if (ret != 0)
		return ret < 0 ? 0 : 1;
	ret = 1;
	if (cli_open(&c, CLI_IDENTITY | CLI_STORE) != 0)
		goto out;
	if (cli_resolve_circle(c.store, argv[optind], circle) != 0 ||
	    cli_resolve_id(c.store, argv[optind + 1], b.target) != 0)
		goto out;
	if (memcmp(b.target, am_identity_public(c.id), 32) == 0) {
		ret = cli_error("to take yourself out, amends circle leave %s",
			argv[optind]);
		goto out;
	}
	if (cli_need_others(&c, circle, &b) != 0)
		goto out;
	/* the head of their feed this node holds: what they wrote up to it
	 * counts, what they write past it will not */
	if ((rc = am_store_head(c.store, circle, b.target, &b.head_seq,
	    b.head_hash)) != AM_OK) {
		ret = cli_fail("reading their feed", rc);
		goto out;
	}
	b.note = am_str_c(reason);
	if (cli_write(&c, circle, &b, hash) != 0)
		goto out;
	char who[CLI_SHORT_NAME], h[CLI_SHORT_HASH];
	cli_short_id(c.store, b.target, who);
	cli_short_hash(hash, h);
	printf("proposed removing %s (%s): it takes effect once every other "
		"member accepts it (amends accept %s); what %s already holds "
		"stays with them\n", who, h, h, who);
	ret = 0;
out:
	cli_close(&c);
	return ret;
}

/* The hash of entry seq of id's feed in circle, held here. */
static int
entry_hash(void *ctx, const uint8_t *raw, size_t len)
{
	am_hash(raw, len, ctx);
	return AM_OK;
}

static int
circle_succeed(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ "head", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { 0 };
	struct am_body *b = NULL;
	const char *reason = NULL, *head = NULL;
	uint8_t circle[32], hash[32], old[32], heir[32];
	int opt, ret = 1;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'r': reason = optarg; break;
		case 'H': head = optarg; break;
		case 'h': cli_usage(stdout, usage); return 0;
		default: cli_usage(stderr, usage); return 1;
		}
	}
	if (argc - optind != 3) {
		cli_usage(stderr, usage);
		return 1;
	}
	if (reason != NULL && cli_text_ok("--reason", reason, AM_MAX_TEXT) != 0)
		return 1;
	if ((b = malloc(sizeof *b)) == NULL)
		return cli_fail("circle succeed", AM_ERR_NOMEM);
	if (cli_open(&c, CLI_IDENTITY | CLI_STORE) != 0)
		goto out;
	if (cli_resolve_circle(c.store, argv[optind], circle) != 0 ||
	    cli_resolve_id(c.store, argv[optind + 1], old) != 0)
		goto out;
	/* the new key is nobody's here yet: only its whole ID names it */
	if (strlen(argv[optind + 2]) != AM_ID_TEXT_BYTES - 1 ||
	    am_id_parse(argv[optind + 2], heir) != AM_OK) {
		ret = cli_error("NEW-ID must be the whole ID of the new key (am "
			"and 56 characters), as its owner's amends id shows it");
		goto out;
	}
	if (cli_succession_body(&c, circle, old, heir, b) != 0)
		goto out;
	/* an earlier head: what the old key signed past it (a thief's
	 * entries) counts for nobody and asks no one */
	if (head != NULL) {
		char *end;
		unsigned long long v = strtoull(head, &end, 10);
		if (*head < '0' || *head > '9' || *end != '\0' || v > b->head_seq) {
			ret = cli_error("--head takes the number of one of their "
				"entries held here, 0 to %llu",
				(unsigned long long)b->head_seq);
			goto out;
		}
		b->head_seq = v;
		memset(b->head_hash, 0, 32);
		int rc = v == 0 ? AM_OK : am_store_range(c.store, circle, old, v, v,
			entry_hash, b->head_hash);
		if (rc != AM_OK) {
			ret = cli_fail("reading their feed", rc);
			goto out;
		}
	}
	b->note = am_str_c(reason);
	if (cli_write(&c, circle, b, hash) != 0)
		goto out;
	char who[CLI_SHORT_NAME], h[CLI_SHORT_HASH];
	char of[AM_FPR_TEXT_BYTES], nf[AM_FPR_TEXT_BYTES];
	cli_short_id(c.store, old, who);
	cli_short_hash(hash, h);
	am_id_fingerprint(old, of);
	am_id_fingerprint(heir, nf);
	printf("proposed the new key %s in the place of %s (%s) (%s): it takes "
		"effect once the new key and every other member accept it "
		"(amends accept %s); what %s signed up to entry %llu counts for "
		"the new key\n", nf, who, of, h, h, who,
		(unsigned long long)b->head_seq);
	ret = 0;
out:
	free(b);
	cli_close(&c);
	return ret;
}

static int
circle_rename(int argc, char **argv)
{
	struct cli c = { 0 };
	struct am_body b = { .kind = AM_KIND_RENAME };
	uint8_t circle[32], hash[32];
	int rc, ret = 1;

	if (argc != 3) {
		cli_usage(stderr, usage);
		return 1;
	}
	size_t n = strlen(argv[2]);
	if (n == 0 || n > AM_MAX_NAME)
		return cli_error("a circle's name is 1 to %d bytes", AM_MAX_NAME);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)argv[2][i] < 0x20 || argv[2][i] == 0x7f)
			return cli_error("a circle's name holds no control characters");
	if (cli_open(&c, CLI_IDENTITY | CLI_STORE) != 0)
		goto out;
	if (cli_resolve_circle(c.store, argv[1], circle) != 0)
		goto out;
	/* the name it replaces: the GENESIS, or the RENAME in effect */
	char *old = NULL;
	rc = am_state_circle_name(c.store, circle, &old, b.base);
	free(old);
	if (rc != AM_OK) {
		ret = cli_fail("reading the circle's name", rc);
		goto out;
	}
	b.name = am_str_c(argv[2]);
	if (cli_write(&c, circle, &b, hash) != 0)
		goto out;
	char id[CLI_SHORT_HASH];
	cli_short_hash(circle, id);
	printf("circle %s is now called '%s'\n", id, cli_shown_c(argv[2]));
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
	if (argc >= 2 && strcmp(argv[1], "leave") == 0)
		return circle_leave(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "remove") == 0)
		return circle_remove(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "succeed") == 0)
		return circle_succeed(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "rename") == 0) {
		if (argc >= 3 && strcmp(argv[2], "--help") == 0) {
			cli_usage(stdout, usage);
			return 0;
		}
		/* the new name is taken whole, even if it starts with a dash */
		return circle_rename(argc - 1, argv + 1);
	}
	cli_usage(stderr, usage);
	return 1;
}
