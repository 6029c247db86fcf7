/*
 * amends join: use an invite code. This command makes its own short
 * connection to the inviter's node (which must be running), so it works
 * whether or not this data directory's own node runs: it proves who we
 * are and receives a signed preview of the circle (its name, creator,
 * members and the proposal naming us; no entry of its record), which it
 * checks, keeps and shows: who invites, with their safety number to check
 * by voice, before anything is answered. It asks on a terminal; --yes
 * (or --accept) or --decline answer without asking, and with no terminal
 * and neither, nothing is answered. The answer is signed (the first entry
 * of our feed there) and handed over; once every
 * member the proposal needs has accepted us, the circle's record comes,
 * here at once or later through `amends node` (protocol/invite.md).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "amends/invite.h"
#include "amends/peer.h"
#include "amends/state.h"
#include "amends/wire.h"
#include "cli.h"
#include "format.h"
#include "write.h"

#define WAIT_MS 15000           /* for the connection, and for each answer */
#define REFUSED_MS 8000         /* a refusal lasting this long is the answer */
#define RETRY_MS 500            /* ... asked again this often until then */
#define MAX_PASSES 8            /* walks through the circle's record */
#define MAX_BATCHES 100000      /* ENTRIES messages in one walk */

static const char usage[] =
	"usage: amends join CODE [--yes | --decline [--reason TEXT]]\n"
	"                   [--name NAME] [--json]\n\n"
	"Shows the circle an invite code is for (its name, who invites you with\n"
	"their safety number, the members and the role offered, signed by the\n"
	"inviter) and asks whether to join. Before you say yes, have the inviter\n"
	"read you their safety number (`amends invite` prints it): it must match\n"
	"the one shown, or the code did not come from them. With no terminal to\n"
	"ask on, nothing is answered unless --yes or --decline says what to do.\n"
	"The inviter's node must be running and reachable at the address the\n"
	"code names; this node need not be. The circle's record comes once every\n"
	"member it needs has accepted you; run `amends node` to keep in step.\n\n"
	"  --yes          join the circle without asking (--accept is the same)\n"
	"  --decline      refuse; --reason says why (the members see it)\n"
	"  --name NAME    what to call the inviter here (a local nickname)\n"
	"  --json         print the outcome as JSON (never asks)\n";

struct link {
	struct am_wire *wire;
	int id;
	uint8_t key[AM_CURVE_BYTES];    /* the inviter's */
	const char *address;
};

static int64_t
mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for the handshake; prints why it failed. */
static int
wait_up(struct link *l)
{
	int64_t end = mono_ms() + WAIT_MS;
	bool refused = false, mismatch = false;
	while (mono_ms() < end) {
		struct am_wire_event ev;
		if (am_wire_poll(l->wire, (int)(end - mono_ms()), &ev) != AM_OK)
			break;
		free(ev.data);
		if (ev.kind == AM_WIRE_UP)
			return 0;
		/* nothing listens there: give it one more retry, not fifteen */
		if (ev.kind == AM_WIRE_RETRYING && end > mono_ms() + 2500)
			end = mono_ms() + 2500;
		if (ev.kind == AM_WIRE_HANDSHAKE_FAILED) {
			if (strstr(ev.detail, "refused") == NULL) {
				mismatch = true;
				break;
			}
			/* An invite made a moment ago may not be admitted by the
			 * inviter's node yet (it learns of it when it next reads
			 * the store, later on a loaded machine). libzmq does not
			 * connect again after a refusal, so we do, on a new link,
			 * until the refusal has lasted REFUSED_MS: then it is the
			 * answer. */
			if (!refused && end > mono_ms() + REFUSED_MS)
				end = mono_ms() + REFUSED_MS;
			refused = true;
			if (mono_ms() + RETRY_MS >= end)
				break;
			struct timespec pause = { 0, RETRY_MS * 1000000L };
			nanosleep(&pause, NULL);
			am_wire_close(l->wire, l->id);
			if (am_wire_connect(l->wire, l->key, l->address, &l->id) != AM_OK)
				break;
		}
	}
	if (refused)
		return cli_error("the inviter's node refused this invite: it was "
			"already used, has expired or was withdrawn; ask for a new one");
	if (mismatch)
		return cli_error("the node at %s is not the inviter's (its key "
			"differs); check the address with the inviter", l->address);
	return cli_error("cannot reach the inviter's node at %s; is `amends node` "
		"running there?", l->address);
}

/* Sends msg (freeing it) and waits for the answer. */
static int
ask(struct link *l, uint8_t *msg, size_t len, uint8_t **answer, size_t *alen)
{
	int rc = msg == NULL ? AM_ERR_NOMEM :
		am_wire_send(l->wire, l->id, l->key, msg, len);
	free(msg);
	if (rc != AM_OK)
		return cli_fail("talking to the inviter's node", rc);
	int64_t end = mono_ms() + WAIT_MS;
	while (mono_ms() < end) {
		struct am_wire_event ev;
		if (am_wire_poll(l->wire, (int)(end - mono_ms()), &ev) != AM_OK)
			break;
		if (ev.kind == AM_WIRE_MESSAGE) {
			*answer = ev.data;
			*alen = ev.len;
			return 0;
		}
		free(ev.data);
		if (ev.kind == AM_WIRE_DOWN)
			return cli_error("the inviter's node closed the connection");
	}
	return cli_error("the inviter's node did not answer in time");
}

/* Asks and decodes; a REFUSED answer is printed as the refusal. */
static int
exchange_n(struct link *l, uint8_t *msg, size_t len, enum am_invite_msg want,
	struct am_invite_reply *r, uint8_t **answer, size_t *alen_out)
{
	size_t alen = 0;
	*answer = NULL;
	if (ask(l, msg, len, answer, &alen) != 0)
		return 1;
	*alen_out = alen;
	int rc = am_invite_reply_parse(*answer, alen, r);
	if (rc != AM_OK)
		return cli_error("the inviter's node sent a malformed answer: %s",
			am_strerror(rc));
	if (r->type == AM_INVITE_MSG_REFUSED)
		return cli_error("the inviter's node refused: %s", r->text);
	if (r->type != want)
		return cli_error("the inviter's node answered out of turn");
	return 0;
}

static int
exchange(struct link *l, uint8_t *msg, size_t len, enum am_invite_msg want,
	struct am_invite_reply *r, uint8_t **answer)
{
	size_t alen;
	return exchange_n(l, msg, len, want, r, answer, &alen);
}

/* One walk through the circle's record; counts what was stored and what
 * could not be yet (an entry whose author's membership arrives later). */
static int
walk(struct cli *c, struct link *l, uint64_t *stored, uint64_t *later)
{
	uint8_t author[AM_ID_BYTES];
	uint64_t from = 0;
	bool start = true;

	for (int batch = 0; batch < MAX_BATCHES; batch++) {
		struct am_invite_reply *r = malloc(sizeof *r);
		uint8_t *msg, *answer = NULL;
		size_t len;
		if (r == NULL)
			return cli_fail("joining", AM_ERR_NOMEM);
		int rc = am_invite_more_msg(start ? NULL : author, from, &msg, &len);
		if (rc != AM_OK || exchange(l, rc == AM_OK ? msg : NULL, len,
		    AM_INVITE_MSG_ENTRIES, r, &answer) != 0) {
			free(answer);
			free(r);
			return 1;
		}
		for (uint32_t i = 0; i < r->nentries; i++) {
			enum am_ingest_result res;
			rc = am_store_ingest(c->store, r->entries[i], r->entry_len[i],
				&res);
			if (rc == AM_OK && res == AM_INGEST_NEW)
				(*stored)++;
			else if (rc == AM_ERR_NO_GENESIS || rc == AM_ERR_GAP)
				(*later)++;
			else if (rc != AM_OK && rc != AM_ERR_CHAIN)
				break;
		}
		bool more = r->more;
		memcpy(author, r->next_author, AM_ID_BYTES);
		from = r->next_from;
		start = false;
		free(answer);
		free(r);
		if (rc != AM_OK && rc != AM_ERR_NO_GENESIS && rc != AM_ERR_GAP &&
		    rc != AM_ERR_CHAIN)
			return cli_fail("storing the circle's record", rc);
		if (!more)
			return 0;
	}
	return cli_error("the circle's record is larger than this command takes; "
		"run `amends node` to fetch the rest");
}

/* Prints text from a peer with what would drive the terminal escaped. */
static void
put_text(const char *t)
{
	fputs(cli_shown_c(t), stdout);
}

/* The name the preview gives id (the inviter's word), or NULL. */
static const char *
preview_name(const struct am_invite_preview *pv, const uint8_t *id)
{
	for (uint32_t i = 0; i < pv->nmembers; i++)
		if (memcmp(pv->members[i].id, id, AM_ID_BYTES) == 0)
			return pv->members[i].has_name ? pv->members[i].name : NULL;
	return NULL;
}

/* One person of the preview: the name the preview gives them, in quotes
 * (the inviter's word), and this node's own name for them when it has one. */
static void
put_person(struct cli *c, const struct am_invite_preview *pv, const uint8_t *id)
{
	char idt[AM_ID_TEXT_BYTES];
	char *mine = am_store_name_get(c->store, id);
	const char *theirs = preview_name(pv, id);
	am_id_format(id, idt);
	if (mine != NULL)
		printf("%s (your name for them)%s", mine, theirs != NULL ?
			", called " : "");
	if (theirs != NULL) {
		printf("\"");
		put_text(theirs);
		printf("\"");
	}
	if (mine == NULL && theirs == NULL)
		printf("%.8s", idt);
	free(mine);
}

static void
show_preview(struct cli *c, const struct am_invite *inv,
	const struct am_invite_preview *pv)
{
	char chash[CLI_SHORT_HASH], when[CLI_TIME_BYTES];
	char idt[AM_ID_TEXT_BYTES], sn[AM_FPR_LONG_TEXT_BYTES];
	cli_short_hash(pv->circle, chash);
	cli_time_utc(pv->created, when);
	printf("invitation to circle %s \"", chash);
	put_text(pv->name);
	printf("\" as a %s\n", pv->role == AM_ROLE_WITNESS ? "witness" : "member");
	/* the trust decision: whose key signed this preview */
	am_id_format(inv->inviter, idt);
	am_id_safety_number(inv->inviter, sn);
	printf("  invited by ");
	put_person(c, pv, inv->inviter);
	printf("\n    id             %s\n", idt);
	printf("    safety number  %s\n", sn);
	printf("    have them read you theirs: if it differs, do not join\n");
	printf("  created %s by ", when);
	put_person(c, pv, pv->creator);
	printf("\n  proposed by ");
	put_person(c, pv, pv->proposer);
	printf("\n  members (%u):\n", pv->nmembers);
	for (uint32_t i = 0; i < pv->nmembers; i++) {
		am_id_format(pv->members[i].id, idt);
		am_id_safety_number(pv->members[i].id, sn);
		printf("    ");
		put_person(c, pv, pv->members[i].id);
		printf("\n      id             %s\n", idt);
		printf("      safety number  %s\n", sn);
	}
}

/* Asks on the terminal whether to join; true for yes. */
static bool
ask_yes(const struct am_invite_preview *pv)
{
	char line[16];
	char chash[CLI_SHORT_HASH];
	cli_short_hash(pv->circle, chash);
	printf("join circle %s as a %s? [y/N] ", chash,
		pv->role == AM_ROLE_WITNESS ? "witness" : "member");
	fflush(stdout);
	if (fgets(line, sizeof line, stdin) == NULL)
		return false;
	return strcmp(line, "y\n") == 0 || strcmp(line, "Y\n") == 0 ||
		strcmp(line, "yes\n") == 0 || strcmp(line, "YES\n") == 0;
}

/* The answer this node signed earlier to circle's invite, if any. */
static int
kept_answer(struct cli *c, const uint8_t *circle, uint8_t **raw, size_t *len)
{
	char key[sizeof AM_SETTING_ANSWER + 2 * AM_HASH_BYTES];
	am_store_answer_key(circle, key);
	char *hex = am_store_setting_get(c->store, key);
	*raw = NULL;
	if (hex == NULL)
		return AM_OK;
	size_t hlen = strlen(hex);
	if ((*raw = malloc(hlen / 2 + 1)) == NULL) {
		free(hex);
		return AM_ERR_NOMEM;
	}
	int bad = sodium_hex2bin(*raw, hlen / 2 + 1, hex, hlen, NULL, len, NULL);
	free(hex);
	if (bad != 0) {
		free(*raw);
		*raw = NULL;
	}
	return AM_OK;
}

static int
keep_answer(struct cli *c, const uint8_t *circle, const uint8_t *raw,
	size_t len)
{
	char key[sizeof AM_SETTING_ANSWER + 2 * AM_HASH_BYTES];
	char *hex = malloc(2 * len + 1);
	if (hex == NULL)
		return AM_ERR_NOMEM;
	am_store_answer_key(circle, key);
	sodium_bin2hex(hex, 2 * len + 1, raw, len);
	int rc = am_store_setting_set(c->store, key, hex);
	free(hex);
	return rc;
}

/*
 * The answer to send: the one signed before (an answer is signed once:
 * it is the first entry of our feed, and a second one would fork it),
 * else a new one, kept before it leaves.
 */
static int
answer_entry(struct cli *c, const struct am_invite_preview *pv, bool accept,
	const char *reason, uint8_t **raw, size_t *len)
{
	const uint8_t *me = am_identity_public(c->id);
	uint8_t hash[AM_HASH_BYTES];
	uint64_t seq = 0;
	int rc;

	if ((rc = kept_answer(c, pv->circle, raw, len)) != AM_OK)
		return cli_fail("reading your answer", rc);
	if (*raw != NULL) {
		struct am_entry e;
		struct am_body b;
		if (am_entry_decode(*raw, *len, &e) == AM_OK &&
		    am_body_decode(e.kind, e.body, e.body_len, &b) == AM_OK &&
		    memcmp(b.target, pv->proposal, AM_HASH_BYTES) == 0) {
			if ((e.kind == AM_KIND_ACCEPT) != accept)
				return cli_error("you already %s this invitation; only "
					"your first answer counts", e.kind ==
					AM_KIND_ACCEPT ? "accepted" : "declined");
			return 0;
		}
		free(*raw);
		*raw = NULL;
	}
	if ((rc = am_store_head(c->store, pv->circle, me, &seq, hash)) != AM_OK)
		return cli_fail("reading the circle", rc);
	if (seq != 0)
		return cli_error("this node already wrote in circle; answer with "
			"`amends accept` or `amends decline`");
	/* the first entry of our feed: no earlier one of ours to stamp after */
	char why[160];
	int64_t now = cli_now_ms();
	if (am_state_check_time(now, why, sizeof why) != AM_OK)
		return cli_error("%s", why);
	if ((rc = am_invite_answer_entry(c->id, pv->circle, pv->proposal, accept,
	    reason, now, raw, len)) != AM_OK ||
	    (rc = keep_answer(c, pv->circle, *raw, *len)) != AM_OK)
		return cli_fail("writing your answer", rc);
	return 0;
}

static void
report(struct cli *c, const struct am_invite *inv,
	const struct am_invite_preview *pv, const char *answer,
	const struct am_invite_reply *adm, uint64_t stored, bool json)
{
	char chash[CLI_SHORT_HASH];
	cli_short_hash(pv->circle, chash);
	if (json) {
		struct json j;
		json_init(&j, stdout, c->store);
		json_obj(&j);
		json_key(&j, "circle");
		json_hash(&j, pv->circle);
		json_kstr(&j, "name", pv->name);
		json_key(&j, "proposal");
		json_hash(&j, pv->proposal);
		json_key(&j, "inviter");
		json_id(&j, inv->inviter);
		json_key(&j, "proposer");
		json_id(&j, pv->proposer);
		json_key(&j, "creator");
		json_id(&j, pv->creator);
		json_kstr(&j, "address", inv->address);
		char sn[AM_FPR_LONG_TEXT_BYTES];
		am_id_safety_number(inv->inviter, sn);
		json_kstr(&j, "inviter_safety_number", sn);
		json_kstr(&j, "role", pv->role == AM_ROLE_WITNESS ? "witness" : "member");
		json_key(&j, "members");
		json_arr(&j);
		for (uint32_t i = 0; i < pv->nmembers; i++)
			json_id(&j, pv->members[i].id);
		json_end_arr(&j);
		json_kstr(&j, "answer", answer != NULL ? answer : "none");
		json_kbool(&j, "joined", adm->joined);
		json_kint(&j, "waiting", adm->waiting);
		json_kint(&j, "entries", (int64_t)stored);
		json_names(&j);
		json_end_obj(&j);
		return;
	}
	if (answer == NULL) {
		printf("nothing answered; to join, run:   amends join CODE --yes\n"
			"to refuse, run: amends join CODE --decline [--reason TEXT]\n"
			"(with the same code, within %d minutes)\n",
			AM_INVITE_GRACE_MS / 60000);
		return;
	}
	if (strcmp(answer, "declined") == 0) {
		printf("declined the invitation to circle %s\n", chash);
		return;
	}
	if (adm->joined) {
		printf("received %llu entr%s of circle %s\n",
			(unsigned long long)stored, stored == 1 ? "y" : "ies", chash);
		printf("joined circle %s as a %s\n", chash,
			pv->role == AM_ROLE_WITNESS ? "witness" : "member");
	} else {
		printf("accepted; circle %s still waits for %u other member%s to "
			"accept you\n", chash, adm->waiting, adm->waiting == 1 ? "" : "s");
	}
	printf("run `amends node` to keep in step with the others\n");
}

int
cmd_join(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "accept", no_argument, NULL, 'a' },
		{ "yes", no_argument, NULL, 'a' },
		{ "decline", no_argument, NULL, 'd' },
		{ "reason", required_argument, NULL, 'r' },
		{ "name", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL, *reason = NULL;
	bool json = false, accept = false, decline = false;
	struct am_invite inv;
	struct cli c = { 0 };
	struct link l = { 0 };
	struct am_invite_reply *admitted = NULL, *r = NULL;
	struct am_invite_preview *pv = NULL;
	uint8_t pub[AM_CURVE_BYTES], sec[AM_CURVE_BYTES], *answer = NULL;
	uint8_t *preview_msg = NULL, *ans = NULL;
	size_t preview_len = 0, ans_len = 0;
	uint8_t *msg;
	size_t len;
	int opt, rc, ret = 1;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'a': accept = true; break;
		case 'd': decline = true; break;
		case 'r': reason = optarg; break;
		case 'n': name = optarg; break;
		case 'j': json = true; break;
		case 'h': cli_usage(stdout, usage); return 0;
		default: cli_usage(stderr, usage); return 1;
		}
	}
	if (optind + 1 != argc) {
		cli_usage(stderr, usage);
		return 1;
	}
	if (accept && decline)
		return cli_error("--yes and --decline cannot both be given");
	if (reason != NULL && !decline)
		return cli_error("--reason goes with --decline");
	if (reason != NULL && (strlen(reason) == 0 || strlen(reason) > 1000))
		return cli_error("a reason is 1 to 1000 bytes of text");
	if (name != NULL && !cli_name_ok(name))
		return cli_error("a name is 1 to 64 characters of text without "
			"control characters");
	if (am_invite_parse(argv[optind], &inv) != AM_OK)
		return cli_error("this is not an invite code, or it was not copied "
			"whole");
	if (cli_open(&c, CLI_IDENTITY | CLI_STORE) != 0)
		goto out;
	if (memcmp(inv.inviter, am_identity_public(c.id), AM_ID_BYTES) == 0) {
		ret = cli_error("this invite was made by this node; send it to the "
			"person you invite");
		goto out;
	}
	if (cli_now_ms() >= inv.expires) {
		char when[CLI_TIME_BYTES];
		cli_time_utc(inv.expires, when);
		ret = cli_error("this invite expired on %s; ask for a new one", when);
		goto out;
	}
	admitted = calloc(1, sizeof *admitted);
	r = malloc(sizeof *r);
	pv = malloc(sizeof *pv);
	if (admitted == NULL || r == NULL || pv == NULL) {
		ret = cli_fail("joining", AM_ERR_NOMEM);
		goto out;
	}

	/* the code's secret is our key until we have joined */
	am_invite_keys(inv.secret, pub, sec);
	rc = am_wire_new(pub, sec, &l.wire);
	sodium_memzero(sec, sizeof sec);
	if (rc != AM_OK || (rc = am_id_to_curve(inv.inviter, l.key)) != AM_OK) {
		ret = cli_fail("starting the network layer", rc);
		goto out;
	}
	l.address = inv.address;
	if ((rc = am_wire_connect(l.wire, l.key, inv.address, &l.id)) != AM_OK) {
		ret = cli_error("cannot connect to %s: %s", inv.address,
			am_strerror(rc));
		goto out;
	}
	if (wait_up(&l) != 0)
		goto out;
	if ((rc = am_invite_join_msg(&inv, c.id, &msg, &len)) != AM_OK) {
		ret = cli_fail("joining", rc);
		goto out;
	}
	if (exchange_n(&l, msg, len, AM_INVITE_MSG_PREVIEW, r, &preview_msg,
	    &preview_len) != 0)
		goto out;
	if ((rc = am_invite_preview_open(preview_msg, preview_len, &inv,
	    am_identity_public(c.id), pv)) != AM_OK) {
		ret = cli_error("the inviter's preview does not hold together (%s); "
			"nothing was kept", am_strerror(rc));
		goto out;
	}
	if ((rc = am_store_proposed_add(c.store, pv->circle, pv->proposer,
	    preview_msg, preview_len)) != AM_OK) {
		ret = cli_fail("keeping the preview", rc);
		goto out;
	}

	/* who invites, what is offered: shown before anything is answered,
	 * and asked about when nobody said */
	if (!json)
		show_preview(&c, &inv, pv);
	if (!accept && !decline) {
		if (!json && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
			accept = ask_yes(pv);
		} else {
			report(&c, &inv, pv, NULL, admitted, 0, json);
			fflush(stdout);     /* the preview first, then why */
			ret = cli_error("not joined: there is no terminal to ask you "
				"on; run again with --yes to join, or --decline to refuse");
			goto out;
		}
		if (!accept) {
			report(&c, &inv, pv, NULL, admitted, 0, json);
			ret = 0;
			goto out;
		}
	}

	uint64_t stored = 0;
	const char *said = NULL;
	if (accept || decline) {
		if (answer_entry(&c, pv, accept, reason, &ans, &ans_len) != 0)
			goto out;
		if ((rc = am_invite_answer_msg(ans, ans_len, &msg, &len)) != AM_OK) {
			ret = cli_fail("joining", rc);
			goto out;
		}
		if (exchange(&l, msg, len, AM_INVITE_MSG_ADMITTED, admitted,
		    &answer) != 0)
			goto out;
		said = accept ? "accepted" : "declined";
	}
	if (accept && admitted->joined) {
		/* joined: the record, then our own answer in its place */
		for (int pass = 0; pass < MAX_PASSES; pass++) {
			uint64_t got = 0, later = 0;
			if (walk(&c, &l, &got, &later) != 0)
				goto out;
			stored += got;
			if (later == 0 || got == 0)
				break;
		}
		enum am_ingest_result res;
		rc = am_store_ingest(c.store, ans, ans_len, &res);
		if (rc != AM_OK && rc != AM_ERR_NO_GENESIS && rc != AM_ERR_GAP) {
			ret = cli_fail("storing your answer", rc);
			goto out;
		}
		/* joined: our name goes in (when still waiting, the node
		 * writes it once the circle comes) */
		if (cli_publish_name(&c, pv->circle, NULL) != 0)
			goto out;
	}
	if (accept &&
	    ((rc = am_peer_set_address(c.store, inv.inviter, inv.address)) != AM_OK ||
	    (name != NULL && (rc = am_store_name_set(c.store, inv.inviter,
	    name)) != AM_OK))) {
		ret = cli_fail("remembering the inviter", rc);
		goto out;
	}
	report(&c, &inv, pv, said, admitted, stored, json);
	ret = 0;
out:
	sodium_memzero(&inv, sizeof inv);
	free(answer);
	free(preview_msg);
	free(ans);
	free(admitted);
	free(r);
	free(pv);
	am_wire_destroy(&l.wire);
	cli_close(&c);
	return ret;
}
