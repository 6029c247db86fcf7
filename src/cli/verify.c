/*
 * amends verify: checks the whole record held here (every signature, on all
 * cores; every hash link and number; fork evidence) and replays the raw
 * entries into the materialised state from scratch, comparing. Exit status
 * 0 only when nothing is wrong.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "amends/checkpoint.h"
#include "amends/home.h"
#include "amends/node.h"
#include "amends/peer.h"
#include "amends/state.h"
#include "amends/sync.h"
#include "amends/verify.h"
#include "amends/wire.h"
#include "cli.h"
#include "format.h"
#include "resolve.h"

static const char usage[] =
	"usage: amends verify [CIRCLE] [--json]\n"
	"       amends verify --with PEER [CIRCLE]\n"
	"       amends verify --file FILE [--expect PERSON]... [--json]\n\n"
	"Checks every entry held here: its signature, its number in its author's\n"
	"feed, its link to the entry before it, and any fork evidence; then\n"
	"rebuilds the stored state from the raw entries and compares.\n"
	"Prints what it checked, every problem of this copy and every finding\n"
	"against an author (a fork, an invalid entry its author vouched for).\n"
	"Exit status: 0 intact with nothing found; 1 this copy is damaged or\n"
	"fails its rules; 3 intact, with findings against an author.\n\n"
	"  --with PEER   ask PEER's node (a nickname or ID) for its heads and say\n"
	"                whether it holds the same record, or which feeds differ\n"
	"                and by how much; through this node when it runs, else\n"
	"                directly at PEER's known address\n"
	"  --file FILE   check an export (amends export) with no node and no data\n"
	"                directory: signatures, links, its signed manifest and the\n"
	"                rules; prints the agreements and check-ins it proves\n"
	"  --expect PERSON  with --file: someone you know (their full ID, or the\n"
	"                safety number they read to you); the file fails unless\n"
	"                its signer and every member are among those given.\n"
	"                Without it, anyone could have made the file with keys\n"
	"                of their own, and the safety numbers to compare are\n"
	"                listed\n";

/* How long --with waits for the peer's node to answer, directly or
 * through this node (which waits AM_NODE_ASK_MS for the peer). */
#define WITH_TIMEOUT_MS 15000
#define WITH_NODE_MS (AM_NODE_ASK_MS + 3000)

/* The peer's heads of one circle, as its HEADS said. */
struct peer_circle {
	uint8_t id[32];
	uint32_t n;
	struct am_sync_head heads[AM_SYNC_MAX_ITEMS];
};

struct compare {
	struct cli *c;
	const struct peer_circle *pc;
	const char *peer;
	const char *header;    /* printed before the circle's first difference */
	unsigned differ;
};

/* Counts one difference, printing the circle's header before the first. */
static void
differs(struct compare *k)
{
	if (k->differ++ == 0)
		printf("%s\n", k->header);
}

static int
compare_feed(void *ctx, const struct am_feed_head *h)
{
	struct compare *k = ctx;
	const struct am_sync_head *ph = NULL;
	char who[CLI_SHORT_NAME];
	for (uint32_t i = 0; i < k->pc->n; i++)
		if (memcmp(k->pc->heads[i].author, h->author, 32) == 0)
			ph = &k->pc->heads[i];
	cli_short_id(k->c->store, h->author, who);
	if (ph == NULL) {
		differs(k);
		printf("  %s's feed: %llu entries here, none at %s\n", who,
			(unsigned long long)h->seq, k->peer);
		return AM_OK;
	}
	if (ph->seq == h->seq && memcmp(ph->hash, h->hash, 32) == 0) {
		if (ph->has_forks != (h->forked_at != 0)) {
			differs(k);
			printf("  %s's feed: the same entries, but only %s holds "
				"evidence of a fork\n", who, ph->has_forks ? k->peer : "this node");
		}
		return AM_OK;
	}
	differs(k);
	if (ph->seq < h->seq)
		printf("  %s's feed: %s holds %llu entries, %llu fewer than here\n",
			who, k->peer, (unsigned long long)ph->seq,
			(unsigned long long)(h->seq - ph->seq));
	else if (ph->seq > h->seq)
		printf("  %s's feed: %s holds %llu entries, %llu more than here\n",
			who, k->peer, (unsigned long long)ph->seq,
			(unsigned long long)(ph->seq - h->seq));
	else
		printf("  %s's feed: both hold %llu entries but the newest differ "
			"(a fork)\n", who, (unsigned long long)h->seq);
	return AM_OK;
}

/* The HEADS collected: the last of each circle counts (a node relaying
 * its live session may pass one circle on more than once). */
struct collected {
	struct peer_circle *pcs;
	size_t n, max;
};

static int
collect(void *ctx, const struct am_sync_msg *m)
{
	struct collected *k = ctx;
	struct peer_circle *pc = NULL;
	for (size_t i = 0; i < k->n && pc == NULL; i++)
		if (memcmp(k->pcs[i].id, m->circle, 32) == 0)
			pc = &k->pcs[i];
	if (pc == NULL && k->n < k->max)
		pc = &k->pcs[k->n++];
	if (pc == NULL)
		return AM_OK;       /* more circles than we could share anyway */
	memcpy(pc->id, m->circle, 32);
	pc->n = m->n;
	memcpy(pc->heads, m->heads, m->n * sizeof m->heads[0]);
	return AM_OK;
}

/* Sends one sync message on the link. */
static int
send_msg(struct am_wire *w, int link, const uint8_t key[32],
	const struct am_sync_msg *m)
{
	uint8_t *buf;
	size_t len;
	int rc = am_sync_msg_encode(m, &buf, &len);
	if (rc != AM_OK)
		return rc;
	rc = am_wire_send(w, link, key, buf, len);
	free(buf);
	return rc;
}

/*
 * Asks the peer's node for its heads: one empty, final DIGESTS, which
 * protocol/sync.md answers with HEADS of every circle both share (none was
 * named, so none is taken as equal), then DONE. Collects up to max
 * circles into pcs.
 */
static int
ask_heads(struct cli *c, const uint8_t peer[32], const char *address,
	struct peer_circle *pcs, size_t max, size_t *n)
{
	uint8_t pub[32], sec[32], server[32];
	struct am_wire *w = NULL;
	struct am_sync_msg *m = calloc(1, sizeof *m);
	int link, rc;

	*n = 0;
	if (m == NULL)
		return cli_fail("verify --with", AM_ERR_NOMEM);
	if ((rc = am_identity_curve(c->id, pub, sec)) != AM_OK ||
	    (rc = am_id_to_curve(peer, server)) != AM_OK ||
	    (rc = am_wire_new(pub, sec, &w)) != AM_OK ||
	    (rc = am_wire_connect(w, server, address, &link)) != AM_OK) {
		sodium_memzero(sec, sizeof sec);
		am_wire_destroy(&w);
		free(m);
		return cli_fail("connecting", rc);
	}
	sodium_memzero(sec, sizeof sec);
	int ret = 1;
	bool asked = false;
	int64_t start = cli_now_ms(), waited = 0;
	while (waited < WITH_TIMEOUT_MS) {
		struct am_wire_event ev;
		if (am_wire_poll(w, 250, &ev) != AM_OK)
			break;
		waited = cli_now_ms() - start;
		if (ev.kind == AM_WIRE_HANDSHAKE_FAILED) {
			cli_error("%s's node refused the connection (%s)", address, ev.detail);
			goto out;
		}
		if (ev.kind == AM_WIRE_UP && !asked) {
			memset(m, 0, sizeof *m);
			m->type = AM_SYNC_DIGESTS;
			m->final = true;
			if ((rc = send_msg(w, link, server, m)) != AM_OK) {
				cli_fail("asking for heads", rc);
				goto out;
			}
			asked = true;
		}
		if (ev.kind != AM_WIRE_MESSAGE)
			continue;
		rc = am_sync_msg_decode(ev.data, ev.len, m);
		if (rc == AM_OK && m->type == AM_SYNC_HEADS) {
			struct collected k = { pcs, *n, max };
			(void)collect(&k, m);
			*n = k.n;
		} else if (rc == AM_OK && m->type == AM_SYNC_DONE && asked) {
			free(ev.data);
			ret = 0;
			goto out;
		} else if (rc == AM_OK && m->type == AM_SYNC_ERROR) {
			cli_error("%s's node answered: %.*s", address, (int)m->text.n, m->text.p);
			free(ev.data);
			goto out;
		}
		free(ev.data);
	}
	cli_error("%s's node did not answer within %d s", address, WITH_TIMEOUT_MS / 1000);
out:
	am_wire_destroy(&w);
	free(m);
	return ret;
}

static int
verify_with(struct cli *c, const char *who, const uint8_t *only)
{
	enum { MAX_CIRCLES = 256 };
	uint8_t peer[32];
	struct am_peer p;
	struct am_circle_info *circles = NULL;
	size_t ncircles = 0, npc = 0;
	char name[CLI_SHORT_NAME];
	int ret = 1;

	if (cli_resolve_id(c->store, who, peer) != 0)
		return 1;
	cli_short_id(c->store, peer, name);
	bool running = am_node_running(c->home);
	if (!running && (am_peer_get(c->store, peer, &p) != AM_OK ||
	    p.address[0] == '\0'))
		return cli_error("no address known for %s; set one with amends peer add", name);
	struct peer_circle *pcs = calloc(MAX_CIRCLES, sizeof *pcs);
	if (pcs == NULL)
		return cli_fail("verify --with", AM_ERR_NOMEM);
	if (running) {
		/* a second connection under our key would take the node's
		 * session over at the peer: the node asks on its own */
		struct collected k = { pcs, 0, MAX_CIRCLES };
		char why[201];
		if (am_node_ask_heads(c->home, peer, WITH_NODE_MS, collect, &k,
		    why) != AM_OK) {
			cli_error("cannot ask %s through this node: %s", name, why);
			goto out;
		}
		npc = k.n;
	} else if (ask_heads(c, peer, p.address, pcs, MAX_CIRCLES, &npc) != 0) {
		goto out;
	}
	int rc = am_state_circles(c->store, am_identity_public(c->id), &circles, &ncircles);
	if (rc != AM_OK) {
		cli_fail("reading circles", rc);
		goto out;
	}
	unsigned differ = 0;
	for (size_t i = 0; i < ncircles; i++) {
		char cid[CLI_SHORT_HASH];
		if (only != NULL && memcmp(only, circles[i].id, 32) != 0)
			continue;
		if (am_state_may_write(c->store, circles[i].id, peer) != AM_OK)
			continue;       /* not shared with that peer */
		cli_short_hash(circles[i].id, cid);
		const struct peer_circle *pc = NULL;
		for (size_t k = 0; k < npc; k++)
			if (memcmp(pcs[k].id, circles[i].id, 32) == 0)
				pc = &pcs[k];
		char header[400];
		snprintf(header, sizeof header, "circle %s (%s): differs from %s",
			cli_shown_c(circles[i].name), cid, name);
		struct compare k = { .c = c, .pc = pc, .peer = name, .header = header };
		if (pc == NULL) {
			differs(&k);
			printf("  %s holds nothing of it\n", name);
			differ++;
			continue;
		}
		if ((rc = am_store_heads(c->store, circles[i].id, compare_feed, &k)) != AM_OK) {
			cli_fail("reading heads", rc);
			goto out;
		}
		for (uint32_t j = 0; j < pc->n; j++) {
			uint64_t seq;
			uint8_t h[32];
			if (am_store_head(c->store, circles[i].id, pc->heads[j].author, &seq,
			    h) == AM_OK && seq == 0) {
				char a[CLI_SHORT_NAME];
				cli_short_id(c->store, pc->heads[j].author, a);
				differs(&k);
				printf("  %s's feed: none here, %llu entries at %s\n", a,
					(unsigned long long)pc->heads[j].seq, name);
			}
		}
		if (k.differ == 0)
			printf("circle %s (%s): same record\n", cli_shown_c(circles[i].name), cid);
		differ += k.differ;
	}
	if (differ == 0)
		printf("same record as %s\n", name);
	ret = differ == 0 ? 0 : 1;
out:
	am_state_circles_free(&circles, ncircles);
	free(pcs);
	return ret;
}

struct out {
	struct cli *c;
	bool json;
	struct json j;
	uint64_t problems;            /* of this copy */
	uint64_t findings;            /* against an author: forks, vouched
	                                 bad signatures */
};

static void
print_problem(struct out *o, const uint8_t *circle, const uint8_t *author,
	uint64_t seq, const char *what, bool finding)
{
	char who[CLI_SHORT_NAME], cid[CLI_SHORT_HASH];
	const char *label = finding ? "finding" : "problem";
	if (finding)
		o->findings++;
	else
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
		json_kbool(&o->j, "finding", finding);
		json_end_obj(&o->j);
	} else if (seq > 0) {
		printf("%s: circle %s, %s's entry %llu: %s\n", label, cid, who,
			(unsigned long long)seq, cli_shown_c(what));
	} else {
		printf("%s: circle %s, %s's feed: %s\n", label, cid, who,
			cli_shown_c(what));
	}
}

static void
on_problem(void *ctx, const struct am_verify_problem *p)
{
	print_problem(ctx, p->circle, p->author, p->seq, p->what, p->finding);
}

/*
 * The replay of each circle's entries (am_state_replay), compared with the
 * stored state.
 * It runs on a thread of its own, on a connection of its own, beside the
 * check of the entries (which keeps every core busy with signatures), so
 * that the command takes about as long as the signatures alone; what it
 * finds is printed after the entries' problems, as before.
 */
struct replay {
	const char *home;
	const uint8_t *only;
	struct replay_circle *circles;
	size_t n;
	int rc;
	pthread_t tid;
	bool started;
};

/* Every circle the store holds entries of, listed in the state or not (a
 * circle the stored state lost differs from its replay). */
struct replay_circle {
	uint8_t id[32];
	uint8_t creator[32];          /* as the state says, else some author */
	bool same;
};

static int
replay_add(void *ctx, const uint8_t circle[static 32])
{
	struct replay *p = ctx;
	if ((p->n & (p->n - 1)) == 0) {
		struct replay_circle *more = realloc(p->circles,
			(p->n ? 2 * p->n : 1) * sizeof *more);
		if (more == NULL)
			return AM_ERR_NOMEM;
		p->circles = more;
	}
	memset(&p->circles[p->n], 0, sizeof p->circles[p->n]);
	memcpy(p->circles[p->n++].id, circle, 32);
	return AM_OK;
}

static int
first_author(void *ctx, const struct am_feed_head *h)
{
	memcpy(ctx, h->author, 32);
	return AM_ERR_NOT_FOUND;      /* one is enough */
}

static void *
replay_run(void *arg)
{
	struct replay *p = arg;
	struct am_store *s = NULL;
	char *path = am_home_path(p->home, AM_HOME_DB);
	p->rc = path == NULL ? AM_ERR_NOMEM : am_store_open(path, &s);
	free(path);
	for (size_t i = 0; p->rc == AM_OK && i < p->n; i++) {
		p->circles[i].same = true;
		if (p->only == NULL || memcmp(p->only, p->circles[i].id, 32) == 0)
			p->rc = am_state_replay(s, p->circles[i].id, &p->circles[i].same);
	}
	am_store_close(&s);
	return NULL;
}

/* Lists the circles and starts the replay (or, when no thread can be
 * had, leaves it to replay_finish). */
static int
replay_start(struct replay *p, struct out *o, const uint8_t *only)
{
	struct am_store *s = o->c->store;
	struct am_circle_info *info = NULL;
	size_t ninfo = 0;
	int rc = am_store_circles(s, replay_add, p);
	if (rc == AM_OK)
		rc = am_state_circles(s, NULL, &info, &ninfo);
	for (size_t i = 0; rc == AM_OK && i < p->n; i++) {
		struct replay_circle *r = &p->circles[i];
		size_t k = 0;
		while (k < ninfo && memcmp(info[k].id, r->id, 32) != 0)
			k++;
		if (k < ninfo)
			memcpy(r->creator, info[k].creator, 32);
		else if ((rc = am_store_heads(s, r->id, first_author, r->creator)) ==
		    AM_ERR_NOT_FOUND)
			rc = AM_OK;
	}
	am_state_circles_free(&info, ninfo);
	if (rc != AM_OK)
		return rc;
	p->home = o->c->home;
	p->only = only;
	p->started = pthread_create(&p->tid, NULL, replay_run, p) == 0;
	return AM_OK;
}

/* Waits for the replay and prints a problem for each circle whose stored
 * state differs from it. */
static int
replay_finish(struct replay *p, struct out *o, bool print)
{
	if (p->started)
		pthread_join(p->tid, NULL);
	else if (print && p->home != NULL)
		replay_run(p);
	else
		return AM_OK;
	for (size_t i = 0; print && p->rc == AM_OK && i < p->n; i++)
		if (!p->circles[i].same)
			print_problem(o, p->circles[i].id, p->circles[i].creator, 0,
				"the stored state differs from a replay of the rules", false);
	return p->rc;
}

/* A member's node seen showing a feed shorter than a checkpoint it (or,
 * for its own feed, anyone) wrote: listed, but no problem of the record
 * held here, so the exit status does not change. */
static int
withheld_one(void *ctx, const struct am_checkpoint_report *r)
{
	struct out *o = ctx;
	char who[CLI_SHORT_NAME], whose[CLI_SHORT_NAME], cid[CLI_SHORT_HASH];
	char when[CLI_TIME_BYTES];
	if (o->json) {
		json_obj(&o->j);
		json_key(&o->j, "circle");
		json_hash(&o->j, r->circle);
		json_key(&o->j, "peer");
		json_id(&o->j, r->peer);
		json_key(&o->j, "author");
		json_id(&o->j, r->author);
		json_kint(&o->j, "shown", (int64_t)r->shown);
		json_kint(&o->j, "checkpointed", (int64_t)r->named);
		json_key(&o->j, "checkpoint_time");
		json_time(&o->j, r->checkpoint_time);
		json_end_obj(&o->j);
		return AM_OK;
	}
	cli_short_id(o->c->store, r->peer, who);
	cli_short_id(o->c->store, r->author, whose);
	cli_short_hash(r->circle, cid);
	cli_time_local(r->checkpoint_time, when);
	char of[CLI_SHORT_NAME + 4] = "its own";
	if (memcmp(r->peer, r->author, 32) != 0)
		snprintf(of, sizeof of, "%s's", whose);
	printf("withholding: circle %s, %s showed %llu of %s entries where the "
		"checkpoint of %s names %llu: withholding or truncation\n", cid, who,
		(unsigned long long)r->shown, of, when,
		(unsigned long long)r->named);
	return AM_OK;
}

static int
withheld(struct out *o, const uint8_t *only)
{
	if (o->json) {
		json_key(&o->j, "withholding");
		json_arr(&o->j);
	}
	int rc = am_checkpoint_reports(o->c->store, only, withheld_one, o);
	if (o->json)
		json_end_arr(&o->j);
	return rc;
}

/* The entries the rules ignore (protocol/state.md, "Ignored entries"):
 * part of the record, kept and listed, and no problem of it, so the exit
 * status does not change. */
static int
ignored_circle(struct out *o, const uint8_t *circle)
{
	struct am_violation *v;
	size_t n;
	char who[CLI_SHORT_NAME], cid[CLI_SHORT_HASH];
	int rc = am_state_violations(o->c->store, circle, &v, &n);
	if (rc == AM_ERR_NOT_FOUND)
		return AM_OK;         /* no genesis here: nothing is derived */
	if (rc != AM_OK)
		return rc;
	cli_short_hash(circle, cid);
	for (size_t i = 0; i < n; i++) {
		const char *rule = am_rule_name(v[i].rule);
		if (o->json) {
			json_obj(&o->j);
			json_key(&o->j, "circle");
			json_hash(&o->j, circle);
			json_key(&o->j, "author");
			json_id(&o->j, v[i].author);
			json_kint(&o->j, "seq", (int64_t)v[i].seq);
			json_kint(&o->j, "kind", v[i].kind);
			json_kstr(&o->j, "rule", rule);
			json_kstr(&o->j, "why", v[i].why);
			json_end_obj(&o->j);
			continue;
		}
		cli_short_id(o->c->store, v[i].author, who);
		if (v[i].rule == AM_RULE_FORKED)
			printf("ignored: circle %s, %s's entries from %llu on: %s (%s)\n",
				cid, who, (unsigned long long)v[i].seq, v[i].why, rule);
		else
			printf("ignored: circle %s, %s's entry %llu: %s (%s)\n", cid, who,
				(unsigned long long)v[i].seq, v[i].why, rule);
	}
	free(v);
	return AM_OK;
}

static int
ignored(struct out *o, const uint8_t *only)
{
	struct replay list = { 0 };
	int rc = only != NULL ? replay_add(&list, only) :
		am_store_circles(o->c->store, replay_add, &list);
	if (o->json) {
		json_key(&o->j, "ignored");
		json_arr(&o->j);
	}
	for (size_t i = 0; rc == AM_OK && i < list.n; i++)
		rc = ignored_circle(o, list.circles[i].id);
	if (o->json)
		json_end_arr(&o->j);
	free(list.circles);
	return rc;
}

int
cli_verify_status(uint64_t problems, uint64_t findings)
{
	return problems > 0 ? 1 : findings > 0 ? CLI_EXIT_FINDINGS : 0;
}

void
cli_verdict(uint64_t problems, uint64_t findings)
{
	char more[80] = "";
	if (findings > 0)
		snprintf(more, sizeof more, ", %llu finding%s against %s",
			(unsigned long long)findings, findings == 1 ? "" : "s",
			findings == 1 ? "an author" : "authors");
	printf("%s: %llu problem%s%s\n", problems > 0 ? "FAILED" : findings > 0 ?
		"intact" : "verified", (unsigned long long)problems,
		problems == 1 ? "" : "s", more);
}

int
cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "with", required_argument, NULL, 'w' },
		{ "file", required_argument, NULL, 'f' },
		{ "expect", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { 0 };
	struct out o = { .c = &c };
	struct am_verify_report rep;
	struct replay replay = { 0 };
	uint8_t circle[32];
	bool one = false;
	const char *with = NULL;
	const char *file = NULL;
	char **expect = NULL;
	size_t nexpect = 0;
	int opt, rc, ret = 1;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': o.json = true; break;
		case 'w': with = optarg; break;
		case 'f': file = optarg; break;
		case 'e': {
			char **more = realloc(expect, (nexpect + 1) * sizeof *more);
			if (more == NULL) {
				free(expect);
				return cli_fail("verify", AM_ERR_NOMEM);
			}
			expect = more;
			expect[nexpect++] = optarg;
			break;
		}
		case 'h': free(expect); cli_usage(stdout, usage); return 0;
		default: free(expect); cli_usage(stderr, usage); return 1;
		}
	}
	if (argc - optind > 1 || (nexpect > 0 && file == NULL)) {
		free(expect);
		cli_usage(stderr, usage);
		return 1;
	}
	if (file != NULL) {
		if (with != NULL || optind < argc) {
			free(expect);
			cli_usage(stderr, usage);
			return 1;
		}
		ret = cli_verify_file(file, o.json, expect, nexpect);
		free(expect);
		return ret;
	}
	if (cli_open(&c, with != NULL ? CLI_STORE | CLI_IDENTITY : CLI_STORE) != 0)
		goto out;
	if (optind < argc) {
		if (cli_resolve_circle(c.store, argv[optind], circle) != 0)
			goto out;
		one = true;
	}
	if (with != NULL) {
		ret = verify_with(&c, with, one ? circle : NULL);
		goto out;
	}
	if (o.json) {
		json_init(&o.j, stdout, c.store);
		json_obj(&o.j);
		json_key(&o.j, "problems");
		json_arr(&o.j);
	}
	rc = replay_start(&replay, &o, one ? circle : NULL);
	if (rc == AM_OK)
		rc = am_verify_store(c.store, one ? circle : NULL, 0, on_problem, &o, &rep);
	int src = replay_finish(&replay, &o, rc == AM_OK);
	free(replay.circles);
	if (rc == AM_OK)
		rc = src;
	if (rc != AM_OK) {
		if (o.json)
			json_end_arr(&o.j);
		cli_fail("verify", rc);
		goto out;
	}
	if (o.json) {
		json_end_arr(&o.j);
		(void)withheld(&o, one ? circle : NULL);
		(void)ignored(&o, one ? circle : NULL);
		json_key(&o.j, "entries");
		json_int(&o.j, (int64_t)rep.entries);
		json_key(&o.j, "authors");
		json_int(&o.j, (int64_t)rep.authors);
		json_key(&o.j, "feeds");
		json_int(&o.j, (int64_t)rep.feeds);
		json_key(&o.j, "circles");
		json_int(&o.j, (int64_t)rep.circles);
		json_kint(&o.j, "findings", (int64_t)o.findings);
		json_key(&o.j, "ok");
		json_bool(&o.j, o.problems == 0);
		json_end_obj(&o.j);
	} else {
		printf("checked: %llu entr%s, %llu author%s, %llu feed%s, %llu circle%s\n",
			(unsigned long long)rep.entries, rep.entries == 1 ? "y" : "ies",
			(unsigned long long)rep.authors, rep.authors == 1 ? "" : "s",
			(unsigned long long)rep.feeds, rep.feeds == 1 ? "" : "s",
			(unsigned long long)rep.circles, rep.circles == 1 ? "" : "s");
		cli_verdict(o.problems, o.findings);
		(void)withheld(&o, one ? circle : NULL);
		(void)ignored(&o, one ? circle : NULL);
	}
	ret = cli_verify_status(o.problems, o.findings);
out:
	cli_close(&c);
	return ret;
}
