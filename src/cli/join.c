/*
 * amends join: use an invite code. This command makes its own short
 * connection to the inviter's node (which must be running), so it works
 * whether or not this data directory's own node runs: it proves who we
 * are, receives the circle's record, writes our acceptance and hands it
 * over, and remembers the inviter's address. From then on our node, when
 * it runs, keeps in step with theirs over the normal authenticated link.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	"usage: amends join CODE [--name NAME] [--json]\n\n"
	"Joins the circle an invite code is for. The inviter's node must be\n"
	"running and reachable at the address the code names; this node need\n"
	"not be. The code proves you were invited; your own key proves who you\n"
	"are. Once joined, run `amends node` to keep in step with the others.\n\n"
	"  --name NAME   what to call the inviter here (a local nickname)\n"
	"  --json        print the outcome as JSON\n";

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
exchange(struct link *l, uint8_t *msg, size_t len, enum am_invite_msg want,
	struct am_invite_reply *r, uint8_t **answer)
{
	size_t alen = 0;
	*answer = NULL;
	if (ask(l, msg, len, answer, &alen) != 0)
		return 1;
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

struct raw_copy {
	uint8_t *raw;
	size_t len;
};

static int
copy_raw(void *ctx, const uint8_t *raw, size_t len)
{
	struct raw_copy *rc = ctx;
	if ((rc->raw = malloc(len)) == NULL)
		return AM_ERR_NOMEM;
	memcpy(rc->raw, raw, len);
	rc->len = len;
	return AM_OK;
}

/* Writes our ACCEPT of the proposal (unless we already did) and returns
 * its raw bytes, to hand over. */
static int
accept_proposal(struct cli *c, const struct am_invite_reply *w,
	struct raw_copy *out)
{
	struct am_body b;
	uint8_t hash[AM_HASH_BYTES];
	uint64_t seq;
	char why[160];
	const uint8_t *me = am_identity_public(c->id);

	memset(&b, 0, sizeof b);
	b.kind = AM_KIND_ACCEPT;
	memcpy(b.target, w->proposal, AM_HASH_BYTES);
	int rc = am_state_check(c->store, w->circle, me, &b, why, sizeof why);
	if (rc != AM_OK)
		return cli_error("cannot accept the invitation: %s", why);
	if ((rc = am_store_append(c->store, c->id, w->circle,
	    cli_stamp(c->store, w->circle, me, &b, cli_now_ms()), &b, hash,
	    &seq)) != AM_OK)
		return cli_fail("writing your acceptance", rc);
	rc = am_store_range(c->store, w->circle, me, seq, seq, copy_raw, out);
	if (rc != AM_OK || out->raw == NULL)
		return cli_fail("reading your acceptance", rc != AM_OK ? rc : AM_ERR_DB);
	return 0;
}

/* Is the proposal still waiting for our accept? */
static bool
awaiting_us(struct cli *c, const struct am_invite_reply *w)
{
	struct am_pending *p = NULL;
	size_t n = 0;
	bool yes = false;
	if (am_state_pending(c->store, w->circle, am_identity_public(c->id),
	    &p, &n) != AM_OK)
		return true;
	for (size_t i = 0; i < n; i++)
		if (memcmp(p[i].hash, w->proposal, AM_HASH_BYTES) == 0)
			yes = true;
	am_state_pending_free(&p, n);
	return yes;
}

static void
report(struct cli *c, const struct am_invite *inv,
	const struct am_invite_reply *w, const struct am_invite_reply *adm,
	uint64_t stored, bool json)
{
	char chash[CLI_SHORT_HASH], who[CLI_SHORT_NAME];
	cli_short_hash(w->circle, chash);
	cli_short_id(c->store, inv->inviter, who);
	if (json) {
		struct json j;
		json_init(&j, stdout, c->store);
		json_obj(&j);
		json_key(&j, "circle");
		json_hash(&j, w->circle);
		json_key(&j, "proposal");
		json_hash(&j, w->proposal);
		json_key(&j, "inviter");
		json_id(&j, inv->inviter);
		json_kstr(&j, "address", inv->address);
		json_kstr(&j, "role", w->role == AM_ROLE_WITNESS ? "witness" : "member");
		json_kbool(&j, "joined", adm->joined);
		json_kint(&j, "waiting", adm->waiting);
		json_kint(&j, "entries", (int64_t)stored);
		json_names(&j);
		json_end_obj(&j);
		return;
	}
	printf("received %llu entr%s of circle %s from %s\n",
		(unsigned long long)stored, stored == 1 ? "y" : "ies", chash, who);
	if (adm->joined)
		printf("joined circle %s as a %s\n", chash,
			w->role == AM_ROLE_WITNESS ? "witness" : "member");
	else
		printf("accepted; circle %s still waits for %u other member%s to "
			"accept you\n", chash, adm->waiting, adm->waiting == 1 ? "" : "s");
	printf("run `amends node` to keep in step with the others\n");
}

int
cmd_join(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL;
	bool json = false;
	struct am_invite inv;
	struct cli c = { 0 };
	struct link l = { 0 };
	struct am_invite_reply *welcome = NULL, *admitted = NULL;
	struct raw_copy acc = { 0 };
	uint8_t pub[AM_CURVE_BYTES], sec[AM_CURVE_BYTES], *answer = NULL;
	uint8_t *msg;
	size_t len;
	int opt, rc, ret = 1;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
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
	welcome = malloc(sizeof *welcome);
	admitted = malloc(sizeof *admitted);
	if (welcome == NULL || admitted == NULL) {
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
	if (exchange(&l, msg, len, AM_INVITE_MSG_WELCOME, welcome, &answer) != 0)
		goto out;
	free(answer);
	answer = NULL;
	if (memcmp(welcome->circle, inv.circle, AM_HASH_BYTES) != 0) {
		ret = cli_error("the inviter's node answered for another circle");
		goto out;
	}

	/* the record first, so that our acceptance is checked against it */
	uint64_t stored = 0;
	for (int pass = 0; pass < MAX_PASSES; pass++) {
		uint64_t got = 0, later = 0;
		if (walk(&c, &l, &got, &later) != 0)
			goto out;
		stored += got;
		if (later == 0 || got == 0)
			break;
	}
	if (awaiting_us(&c, welcome)) {
		if (accept_proposal(&c, welcome, &acc) != 0)
			goto out;
		if ((rc = am_invite_accept_msg(acc.raw, acc.len, &msg, &len)) != AM_OK) {
			ret = cli_fail("joining", rc);
			goto out;
		}
		if (exchange(&l, msg, len, AM_INVITE_MSG_ADMITTED, admitted,
		    &answer) != 0)
			goto out;
	} else {
		memset(admitted, 0, sizeof *admitted);
		admitted->joined = am_state_member_role(c.store, welcome->circle,
			am_identity_public(c.id), NULL) == AM_OK;
	}
	if ((rc = am_peer_set_address(c.store, inv.inviter, inv.address)) != AM_OK ||
	    (name != NULL && (rc = am_store_name_set(c.store, inv.inviter,
	    name)) != AM_OK)) {
		ret = cli_fail("remembering the inviter", rc);
		goto out;
	}
	report(&c, &inv, welcome, admitted, stored, json);
	ret = 0;
out:
	sodium_memzero(&inv, sizeof inv);
	free(answer);
	free(acc.raw);
	free(welcome);
	free(admitted);
	am_wire_destroy(&l.wire);
	cli_close(&c);
	return ret;
}
