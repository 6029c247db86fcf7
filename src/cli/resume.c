/*
 * amends resume: lift a restored identity's guard in one circle by hand,
 * for a claim whose author never comes back. Another member's checkpoint
 * naming our feed beyond what this copy holds keeps a restored node from
 * writing there until that member's own node refutes it (protocol/sync.md,
 * "A restored node's guard: claims"); when that node is gone for good,
 * only its owner's word is left, and the user decides. What we signed
 * ourselves (our own checkpoint, an entry of ours a peer served) is never
 * set aside: those entries exist, and numbering over them is a fork.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "amends/checkpoint.h"
#include "cli.h"
#include "format.h"
#include "resolve.h"

static const char usage[] =
	"usage: amends resume CIRCLE [--yes]\n\n"
	"After amends init --restore, writing into a circle waits until this\n"
	"node holds every entry of yours that the others may hold. A member\n"
	"whose checkpoint names more entries of yours than any peer serves\n"
	"keeps it waiting until that member's node answers. If it never will,\n"
	"this lifts the wait in CIRCLE (its name or the start of its ID), after\n"
	"saying who claims what. If that member really holds entries of yours\n"
	"that this copy lacks, writing afterwards forks your feed.\n"
	"Entries of yours that you signed and a peer showed are never set\n"
	"aside: fetch them first.\n\n"
	"  --yes   do not ask (needed without a terminal)\n";

struct claims {
	struct cli *c;
	bool print;                   /* else only count */
	uint64_t head;
	size_t n;
	char who[8][CLI_SHORT_NAME];  /* the first few, for the warning */
};

static int
claim_line(void *ctx, const struct am_checkpoint_refutation *r)
{
	struct claims *l = ctx;
	char who[CLI_SHORT_NAME];
	if (!l->print) {
		l->n++;
		return AM_OK;
	}
	cli_short_id(l->c->store, r->author, who);
	printf("%s signed a checkpoint naming %llu entries of your feed here; "
		"this copy holds %llu, and their node has not answered since the "
		"restore\n", who, (unsigned long long)r->named,
		(unsigned long long)l->head);
	if (l->n < sizeof l->who / sizeof l->who[0])
		memcpy(l->who[l->n], who, CLI_SHORT_NAME);
	l->n++;
	return AM_OK;
}

static bool
ask_yes(const char *circle)
{
	char line[16];
	printf("resume writing in %s? [y/N] ", circle);
	fflush(stdout);
	if (fgets(line, sizeof line, stdin) == NULL)
		return false;
	return strcmp(line, "y\n") == 0 || strcmp(line, "Y\n") == 0 ||
		strcmp(line, "yes\n") == 0 || strcmp(line, "YES\n") == 0;
}

int
cmd_resume(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "yes", no_argument, NULL, 'y' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { 0 };
	struct claims l = { .c = &c };
	uint8_t circle[32], hash[32];
	char cname[CLI_SHORT_HASH];
	bool yes = false;
	uint64_t own = 0;
	int opt, rc, ret = 1;

	while ((opt = getopt_long(argc, argv, "hy", opts, NULL)) != -1) {
		switch (opt) {
		case 'y': yes = true; break;
		case 'h': cli_usage(stdout, usage); return 0;
		default: cli_usage(stderr, usage); return 1;
		}
	}
	if (argc - optind != 1) {
		cli_usage(stderr, usage);
		return 1;
	}
	if (cli_open(&c, CLI_IDENTITY | CLI_STORE) != 0)
		goto out;
	if (cli_resolve_circle(c.store, argv[optind], circle) != 0)
		goto out;
	cli_short_hash(circle, cname);
	const uint8_t *me = am_identity_public(c.id);
	rc = am_store_own_guard(c.store, circle, me);
	if (rc == AM_OK) {
		printf("writing in circle %s is not paused\n", cname);
		ret = 0;
		goto out;
	}
	if (rc == AM_ERR_OWN_BEHIND) {
		ret = cli_error("a peer served entry %llu of your own feed in circle "
			"%s, signed by you, which this copy lacks: it exists, so fetch "
			"it first (keep the node running until it has it)",
			(unsigned long long)am_store_own_seen_get(c.store, circle, me), cname);
		goto out;
	}
	if (rc != AM_ERR_RESTORING) {
		ret = cli_fail("reading the circle", rc);
		goto out;
	}
	if ((rc = am_store_head(c.store, circle, me, &l.head, hash)) != AM_OK ||
	    (rc = am_checkpoint_claims(c.store, circle, me, l.head, &own,
	    claim_line, &l)) != AM_OK) {
		ret = cli_fail("reading the checkpoints", rc);
		goto out;
	}
	/* what we signed ourselves exists: never set aside */
	uint64_t seen = am_store_own_seen_get(c.store, circle, me);
	if (l.head < seen) {
		ret = cli_error("a peer served entry %llu of your own feed in circle "
			"%s, signed by you, and this copy holds %llu: it exists, so "
			"fetch it first (keep the node running until a peer serves it)",
			(unsigned long long)seen, cname, (unsigned long long)l.head);
		goto out;
	}
	if (l.head < own) {
		ret = cli_error("your own checkpoint names entry %llu of your feed in "
			"circle %s, and this copy holds %llu: it exists, so fetch it "
			"first (keep the node running until a peer serves it)",
			(unsigned long long)own, cname, (unsigned long long)l.head);
		goto out;
	}
	l.print = true;
	l.n = 0;
	if ((rc = am_checkpoint_claims(c.store, circle, me, l.head, NULL,
	    claim_line, &l)) != AM_OK) {
		ret = cli_fail("reading the checkpoints", rc);
		goto out;
	}
	if (l.n == 0)
		printf("no member's checkpoint names more than the %llu entries of "
			"your feed this copy holds in circle %s, but no peer has "
			"compared records with this node there since the restore\n",
			(unsigned long long)l.head, cname);
	for (size_t i = 0; i < l.n && i < sizeof l.who / sizeof l.who[0]; i++)
		printf("if %s really holds entries of yours that this copy lacks, "
			"writing now forks your feed: every member then ignores what "
			"you write in this circle from that number on\n", l.who[i]);
	if (l.n == 0)
		printf("if another copy of your key wrote in this circle, writing "
			"now forks your feed: every member then ignores what you write "
			"in this circle from that number on\n");
	if (!yes) {
		if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
			fflush(stdout);
			ret = cli_error("not resumed: there is no terminal to ask you on; "
				"run again with --yes to resume writing anyway");
			goto out;
		}
		if (!ask_yes(cname)) {
			printf("not resumed\n");
			ret = 0;
			goto out;
		}
	}
	if ((rc = am_store_own_caught_up(c.store, circle)) != AM_OK) {
		ret = cli_fail("resuming", rc);
		goto out;
	}
	printf("writing in circle %s resumed: your next entry there is number "
		"%llu\n", cname, (unsigned long long)l.head + 1);
	ret = 0;
out:
	cli_close(&c);
	return ret;
}
