/*
 * amends amend: propose a new version of an agreement (an AMEND entry
 * naming the version it amends: the one in force, else the newest). Terms
 * not given are copied from that version, so an amendment says only what
 * changes; the new version is in force once its parties, and the parties
 * of the version it replaces, have accepted it.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "amends/state.h"
#include "cli.h"
#include "format.h"
#include "resolve.h"
#include "terms.h"
#include "write.h"

static const char usage[] =
	"usage: amends amend AGREEMENT [--title TITLE] [--text TEXT]\n"
	"       [--pause FROM..UNTIL]... [--no-pauses] [--party ID]... [--by ID]...\n"
	"       [--every day|week|Nh] [--at HH:MM] [--on WEEKDAY] [--no-schedule]\n"
	"       [--tz ZONE] [--grace DURATION] [--from DATE] [--no-from]\n"
	"       [--until DATE] [--no-until] [--notice DURATION]\n\n"
	"Proposes a new version of AGREEMENT (the start of the hash of any of its\n"
	"versions): the version in force (else the newest) with the changes given;\n"
	"everything else stays as it was. The new version is in force once its\n"
	"parties and the parties of the version in force have accepted it; until\n"
	"then the version in force stays in force. Options as for amends propose;\n"
	"--pause adds a pause, --no-pauses drops the existing ones, --no-schedule,\n"
	"--no-from and --no-until drop those terms.\n";

/* Who must still accept the new version: its parties, and the parties
 * of the versions it replaces (protocol/state.md, "Versions"). */
static void
say_waiting(struct cli *c, const struct am_version *v, size_t nv,
	const uint8_t *hash, const char *h)
{
	const struct am_version *x = NULL;
	for (size_t i = 0; i < nv; i++)
		if (memcmp(v[i].hash, hash, 32) == 0)
			x = &v[i];
	if (x == NULL)
		return;
	bool any = false;
	for (uint32_t i = 0; i < x->nsigs + x->nothers; i++) {
		const struct am_signature *sg = i < x->nsigs ? &x->sigs[i] :
			&x->others[i - x->nsigs];
		if (sg->position == AM_POS_ACCEPTED)
			continue;
		char who[CLI_SHORT_NAME];
		cli_short_id(c->store, sg->id, who);
		printf("%s %s", any ? "," : "it is in force once accepted by", who);
		any = true;
	}
	if (any)
		printf(" (amends accept %s)\n", h);
	else
		printf("everyone it needs has accepted it, but it does not "
			"replace the version in force\n");
}

int
cmd_amend(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_TERMS_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_terms_opts o = { 0 };
	struct am_agreement a = { 0 };
	struct am_version *v = NULL;
	struct am_body *b = NULL;
	struct cli c = { 0 };
	size_t nv = 0;
	uint8_t agreement[32], hash[32];
	int opt, rc, ret = 1;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == 'h') {
			cli_usage(stdout, usage);
			return 0;
		}
		int r = cli_terms_option(&o, opt, optarg);
		if (r < 0)
			return 1;
		if (r == 0) {
			cli_usage(stderr, usage);
			return 1;
		}
	}
	if (argc - optind != 1) {
		cli_usage(stderr, usage);
		return 1;
	}
	if (!cli_terms_given(&o))
		return cli_error("an amendment changes something: give the new "
			"--text, --title, --pause or schedule");
	if ((b = calloc(1, sizeof *b)) == NULL)
		return cli_fail("amending", AM_ERR_NOMEM);
	if (cli_open(&c, CLI_IDENTITY | CLI_STORE) != 0)
		goto out;
	if (cli_resolve_object(c.store, argv[optind], AM_OBJ_AGREEMENT, "agreement",
	    agreement) != 0)
		goto out;
	if ((rc = am_state_agreement(c.store, agreement, cli_now_ms(), &a)) != AM_OK ||
	    (rc = am_state_versions(c.store, agreement, &v, &nv)) != AM_OK) {
		ret = cli_fail("reading the agreement", rc);
		goto out;
	}
	const struct am_version *base = NULL;
	for (size_t i = 0; i < nv; i++)
		if (memcmp(v[i].hash, a.newest, 32) == 0)
			base = &v[i];
	if (base == NULL) {
		ret = cli_error("the agreement has no version to amend");
		goto out;
	}
	if (a.status == AM_AGREEMENT_ENDED) {
		ret = cli_error("the agreement has ended; propose a new one instead");
		goto out;
	}
	b->kind = AM_KIND_AMEND;
	memcpy(b->target, agreement, 32);
	memcpy(b->base, base->hash, 32);
	b->terms = base->body.terms;
	if (cli_terms_apply(c.store, &o, false, &b->terms) != 0)
		goto out;
	if (cli_write(&c, a.circle, b, hash) != 0)
		goto out;
	char h[CLI_SHORT_HASH], bh[CLI_SHORT_HASH];
	cli_short_hash(hash, h);
	cli_short_hash(base->hash, bh);
	printf("proposed version %s of '%s', amending %s\n", h,
		cli_shown(b->terms.title), bh);
	am_state_agreement_finish(&a);
	am_state_versions_free(&v, nv);
	if (am_state_agreement(c.store, agreement, cli_now_ms(), &a) == AM_OK &&
	    a.has_current && memcmp(a.current, hash, 32) == 0)
		printf("it is in force\n");
	else if (am_state_versions(c.store, agreement, &v, &nv) == AM_OK)
		say_waiting(&c, v, nv, hash, h);
	ret = 0;
out:
	am_state_versions_free(&v, nv);
	am_state_agreement_finish(&a);
	free(b);
	cli_close(&c);
	return ret;
}
