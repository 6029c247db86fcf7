/*
 * amends verify: checks the whole record held here (every signature, on all
 * cores; every hash link and number; fork evidence) and replays the state
 * rules from scratch against the materialised state. Exit status 0 only
 * when nothing is wrong.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "amends/state.h"
#include "amends/verify.h"
#include "cli.h"
#include "format.h"
#include "resolve.h"

static const char usage[] =
	"usage: amends verify [CIRCLE] [--json]\n\n"
	"Checks every entry held here: its signature, its number in its author's\n"
	"feed, its link to the entry before it, and any fork evidence; then\n"
	"replays the rules from scratch and compares with the stored state.\n"
	"Prints what it checked and every problem; exits 0 only when there are none.\n";

struct out {
	struct cli *c;
	bool json;
	struct json j;
	uint64_t problems;
};

static void
print_problem(struct out *o, const uint8_t *circle, const uint8_t *author,
	uint64_t seq, const char *what)
{
	char who[CLI_SHORT_NAME], cid[CLI_SHORT_HASH];
	o->problems++;
	cli_short_id(o->c->store, author, who);
	cli_short_hash(circle, cid);
	if (o->json) {
		json_obj(&o->j);
		json_key(&o->j, "circle");
		json_hash(&o->j, circle);
		json_key(&o->j, "author");
		json_id(&o->j, author);
		json_key(&o->j, "seq");
		json_int(&o->j, (int64_t)seq);
		json_key(&o->j, "problem");
		json_str(&o->j, what);
		json_end_obj(&o->j);
	} else if (seq > 0) {
		printf("problem: circle %s, %s's entry %llu: %s\n", cid, who,
			(unsigned long long)seq, what);
	} else {
		printf("problem: circle %s, %s's feed: %s\n", cid, who, what);
	}
}

static void
on_problem(void *ctx, const struct am_verify_problem *p)
{
	print_problem(ctx, p->circle, p->author, p->seq, p->what);
}

/* Replays the rules of each circle and compares with the stored state. */
static int
check_state(struct out *o, const uint8_t *only)
{
	struct am_circle_info *circles = NULL;
	size_t n = 0;
	int rc = am_state_circles(o->c->store, NULL, &circles, &n);
	if (rc != AM_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		uint8_t stored[32], fresh[32];
		if (only != NULL && memcmp(only, circles[i].id, 32) != 0)
			continue;
		if ((rc = am_state_digest(o->c->store, circles[i].id, stored)) != AM_OK ||
		    (rc = am_state_refold(o->c->store, circles[i].id, fresh)) != AM_OK)
			break;
		if (memcmp(stored, fresh, 32) != 0)
			print_problem(o, circles[i].id, circles[i].creator, 0,
				"the stored state differs from a replay of the rules");
	}
	am_state_circles_free(&circles, n);
	return rc;
}

int
cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { 0 };
	struct out o = { .c = &c };
	struct am_verify_report rep;
	uint8_t circle[32];
	bool one = false;
	int opt, rc, ret = 1;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': o.json = true; break;
		case 'h': cli_usage(stdout, usage); return 0;
		default: cli_usage(stderr, usage); return 1;
		}
	}
	if (argc - optind > 1) {
		cli_usage(stderr, usage);
		return 1;
	}
	if (cli_open(&c, CLI_STORE) != 0)
		goto out;
	if (optind < argc) {
		if (cli_resolve_circle(c.store, argv[optind], circle) != 0)
			goto out;
		one = true;
	}
	if (o.json) {
		json_init(&o.j, stdout, c.store);
		json_obj(&o.j);
		json_key(&o.j, "problems");
		json_arr(&o.j);
	}
	rc = am_verify_store(c.store, one ? circle : NULL, 0, on_problem, &o, &rep);
	if (rc == AM_OK)
		rc = check_state(&o, one ? circle : NULL);
	if (rc != AM_OK) {
		if (o.json)
			json_end_arr(&o.j);
		cli_fail("verify", rc);
		goto out;
	}
	if (o.json) {
		json_end_arr(&o.j);
		json_key(&o.j, "entries");
		json_int(&o.j, (int64_t)rep.entries);
		json_key(&o.j, "authors");
		json_int(&o.j, (int64_t)rep.authors);
		json_key(&o.j, "feeds");
		json_int(&o.j, (int64_t)rep.feeds);
		json_key(&o.j, "circles");
		json_int(&o.j, (int64_t)rep.circles);
		json_key(&o.j, "ok");
		json_bool(&o.j, o.problems == 0);
		json_end_obj(&o.j);
	} else {
		printf("checked: %llu entries, %llu authors, %llu feeds, %llu circles\n",
			(unsigned long long)rep.entries, (unsigned long long)rep.authors,
			(unsigned long long)rep.feeds, (unsigned long long)rep.circles);
		printf("%s: %llu problem%s\n", o.problems ? "FAILED" : "verified",
			(unsigned long long)o.problems, o.problems == 1 ? "" : "s");
	}
	ret = o.problems == 0 ? 0 : 1;
out:
	cli_close(&c);
	return ret;
}
