/*
 * amends peers: the other nodes this one knows, with their addresses, when
 * they were last seen, and whether the running node is connected to them.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "amends/node.h"
#include "amends/peer.h"
#include "cli.h"
#include "format.h"

static const char usage[] =
	"usage: amends peers [--json]\n\n"
	"Lists the peers this node knows: the members of its circles it has\n"
	"talked to or has an address for, where it reaches them, when it last\n"
	"saw them and whether the running node is connected to them now.\n\n"
	"  --json   print the list as JSON\n";

struct list {
	struct cli *c;
	bool json;
	bool running;                /* a node runs: "connected" means something */
	struct json j;
	unsigned n;
};

static int
show(void *ctx, const struct am_peer *p)
{
	struct list *l = ctx;
	bool connected = l->running && p->connected;
	char seen[CLI_TIME_BYTES] = "never";
	char sn[AM_FPR_LONG_TEXT_BYTES];
	am_id_safety_number(p->id, sn);
	if (p->last_seen > 0)
		cli_time_local(p->last_seen, seen);
	if (l->json) {
		json_obj(&l->j);
		json_key(&l->j, "id");
		json_id(&l->j, p->id);
		json_kstr(&l->j, "address", p->address[0] ? p->address : NULL);
		json_key(&l->j, "last_seen");
		if (p->last_seen > 0)
			json_time(&l->j, p->last_seen);
		else
			json_null(&l->j);
		json_kbool(&l->j, "connected", connected);
		json_kstr(&l->j, "safety_number", sn);
		json_end_obj(&l->j);
	} else {
		char who[CLI_SHORT_NAME], person[CLI_PERSON_BYTES];
		cli_short_id(l->c->store, p->id, who);
		cli_person(l->c->store, p->id, false, person);
		if (l->n == 0)
			printf("%-20s %-32s %-17s %s\n", "PEER", "ADDRESS",
				"LAST SEEN", "CONNECTED");
		printf("%-20s %-32s %-17s %s\n", who,
			p->address[0] ? p->address : "-", seen,
			connected ? "yes" : "no");
		/* whom this node talks to is a trust decision: the number to
		 * check with them, and whose word their name is, under each */
		printf("%-20s safety number %s  %s\n", "", sn, person);
	}
	l->n++;
	return AM_OK;
}

int
cmd_peers(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { 0 };
	struct list l = { .c = &c };
	int opt, ret = 1;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': l.json = true; break;
		case 'h': cli_usage(stdout, usage); return 0;
		default: cli_usage(stderr, usage); return 1;
		}
	}
	if (optind != argc) {
		cli_usage(stderr, usage);
		return 1;
	}
	if (cli_open(&c, CLI_STORE) != 0)
		goto out;
	l.running = am_node_running(c.home);
	if (l.json) {
		json_init(&l.j, stdout, c.store);
		json_obj(&l.j);
		json_kbool(&l.j, "node_running", l.running);
		json_key(&l.j, "peers");
		json_arr(&l.j);
	}
	int rc = am_peer_list(c.store, show, &l);
	if (rc != AM_OK) {
		ret = cli_fail("listing peers", rc);
		goto out;
	}
	if (l.json) {
		json_end_arr(&l.j);
		json_names(&l.j);
		json_end_obj(&l.j);
	} else if (l.n == 0) {
		printf("no peers yet: join a circle with `amends join CODE`, or "
			"invite someone with `amends invite`\n");
	} else if (!l.running) {
		printf("no node runs here now: start `amends node` to connect\n");
	}
	ret = 0;
out:
	cli_close(&c);
	return ret;
}
