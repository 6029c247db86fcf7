/*
 * amends propose: propose an agreement to a circle (a PROPOSE entry, its
 * first version). Its parties default to every joined member who is not a
 * witness, and it comes into force once each of them has accepted it.
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
	"usage: amends propose CIRCLE --title TITLE [--text TEXT] [--party ID]...\n"
	"       [--by ID]... [--every day|week|Nh] [--at HH:MM] [--on WEEKDAY]\n"
	"       [--tz ZONE] [--grace DURATION] [--from DATE] [--until DATE]\n"
	"       [--notice DURATION] [--pause FROM..UNTIL]...\n\n"
	"Proposes an agreement to CIRCLE. It is in force once every party has\n"
	"accepted it (you accept it by proposing it).\n\n"
	"  --title TITLE      what it is, in a few words\n"
	"  --text TEXT        what exactly is agreed\n"
	"  --party ID         who must sign (repeat; default: every member who\n"
	"                     is not a witness)\n"
	"  --by ID            who checks in (repeat; default: every party)\n"
	"  --every day|week|Nh  a check-in is due every day, week or N hours\n"
	"  --at HH:MM         ... by this time of day\n"
	"  --on WEEKDAY       ... on this day (weekly)\n"
	"  --tz ZONE          the zone of those times (default: the local one)\n"
	"  --grace DURATION   how late a check-in still counts (30m, 2h, 1d)\n"
	"  --from DATE, --until DATE   when it applies (YYYY-MM-DD)\n"
	"  --notice DURATION  how long a one-sided end takes to apply\n"
	"  --pause FROM..UNTIL  dates when no check-in is due\n";

/* Every joined member who is not a witness. */
static int
default_parties(struct am_store *s, const uint8_t circle[32], struct am_terms *t)
{
	struct am_member *m = NULL;
	size_t n = 0;
	int rc = am_state_members(s, circle, &m, &n);
	if (rc != AM_OK)
		return cli_fail("listing the circle's members", rc);
	t->nparties = 0;
	for (size_t i = 0; i < n; i++) {
		if (m[i].status != AM_MEMBER_JOINED || m[i].role != AM_ROLE_MEMBER)
			continue;
		if (t->nparties == AM_MAX_PARTIES) {
			free(m);
			return cli_error("the circle has more than %d members; name the "
				"parties with --party", AM_MAX_PARTIES);
		}
		memcpy(t->parties[t->nparties++], m[i].id, 32);
	}
	free(m);
	return 0;
}

int
cmd_propose(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_TERMS_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_terms_opts o = { 0 };
	struct am_body *b = NULL;
	struct cli c = { 0 };
	uint8_t circle[32], hash[32];
	int opt, ret = 1;

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
	if (o.title == NULL)
		return cli_error("an agreement needs a title: give --title");
	if (o.no_schedule || o.no_pauses || o.no_from || o.no_until)
		return cli_error("--no-schedule, --no-pauses, --no-from and --no-until "
			"are for amend");
	if ((b = calloc(1, sizeof *b)) == NULL)
		return cli_fail("proposing", AM_ERR_NOMEM);
	b->kind = AM_KIND_PROPOSE;
	b->terms.text = am_str_c("");
	if (cli_open(&c, CLI_IDENTITY | CLI_STORE) != 0)
		goto out;
	if (cli_resolve_circle(c.store, argv[optind], circle) != 0)
		goto out;
	if (o.nparty == 0 && default_parties(c.store, circle, &b->terms) != 0)
		goto out;
	if (cli_terms_apply(c.store, &o, true, &b->terms) != 0)
		goto out;
	if (cli_write(&c, circle, b, hash) != 0)
		goto out;
	char h[CLI_SHORT_HASH];
	cli_short_hash(hash, h);
	printf("proposed agreement %s '%s'\n", h, o.title);
	const uint8_t *me = am_identity_public(c.id);
	bool others = false;
	for (uint32_t i = 0; i < b->terms.nparties; i++) {
		if (memcmp(b->terms.parties[i], me, 32) == 0)
			continue;
		char who[CLI_SHORT_NAME];
		cli_short_id(c.store, b->terms.parties[i], who);
		printf("%s %s", others ? "," : "it is in force once accepted by", who);
		others = true;
	}
	if (others)
		printf(" (amends accept %s)\n", h);
	else
		printf("you are its only party: it is in force\n");
	ret = 0;
out:
	free(b);
	cli_close(&c);
	return ret;
}
