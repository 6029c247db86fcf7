/*
 * amends key rotate: this node moves to a new key in every circle it is
 * in, and what the commands share about successions (rotate.h).
 *
 * A node has one identity, which is also its CurveZMQ transport key, so
 * a rotation cannot be done circle by circle: the node would have to
 * speak with two keys at once. It makes the new key (kept beside the
 * current one until the node switches), writes in each circle a
 * SUCCESSION signed by the current key, and the new key's ACCEPT of it;
 * where the current key's feed has forked, what it signs counts nowhere,
 * and another member writes the succession (amends circle succeed).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "amends/entry.h"
#include "amends/node.h"
#include "amends/rotate.h"
#include "amends/state.h"
#include "format.h"
#include "rotate.h"
#include "write.h"

static const char usage[] =
	"usage: amends key rotate [--yes]\n\n"
	"Replaces this node's key with a new one, in every circle you are in.\n"
	"A node has one identity, which is also the key its connections are\n"
	"made with, so the whole node moves: no circle can keep the old key\n"
	"while another takes the new one.\n"
	"The new key is kept beside the current one (id.next.key). In each\n"
	"circle a succession is written, signed by your current key, and\n"
	"accepted by the new one. Where your feed has forked, what your current\n"
	"key signs counts nowhere: another member writes it with the amends\n"
	"circle succeed command printed here. Each other member accepts it\n"
	"(amends accept). The node keeps the old key until every succession\n"
	"has taken effect, then switches to the new one by itself and keeps the\n"
	"old key file as id.replaced-ID.key. Running it again resumes the same\n"
	"rotation: it never makes a third key.\n\n"
	"  --yes   rotate without asking\n";

struct fork_find {
	const uint8_t *id;
	uint64_t at;
};

static int
fork_head(void *ctx, const struct am_feed_head *h)
{
	struct fork_find *f = ctx;
	if (memcmp(h->author, f->id, 32) == 0)
		f->at = h->forked_at;
	return AM_OK;
}

int
cli_feed_forked(struct am_store *s, const uint8_t circle[static 32],
	const uint8_t id[static 32], uint64_t *forked_at)
{
	struct fork_find f = { .id = id };
	int rc = am_store_heads(s, circle, fork_head, &f);
	*forked_at = f.at;
	return rc;
}

int
cli_succession_body(struct cli *c, const uint8_t circle[static 32],
	const uint8_t old[static 32], const uint8_t heir[static 32],
	struct am_body *b)
{
	memset(b, 0, sizeof *b);
	b->kind = AM_KIND_SUCCESSION;
	memcpy(b->target, old, 32);
	memcpy(b->heir, heir, 32);
	int rc = cli_need_others(c, circle, b);
	if (rc != 0)
		return rc;
	/* the head of the old key's feed held here: what it signed up to it
	 * passes to the new key, what it signs past it counts nowhere */
	if ((rc = am_store_head(c->store, circle, old, &b->head_seq,
	    b->head_hash)) != AM_OK)
		return cli_fail("reading their feed", rc);
	if (b->head_seq == 0)
		memset(b->head_hash, 0, 32);
	return 0;
}

struct body_find {
	struct am_body *b;
	bool found;
};

static int
decode_body(void *ctx, const uint8_t *raw, size_t len)
{
	struct body_find *f = ctx;
	struct am_entry e;
	if (am_entry_decode(raw, len, &e) == AM_OK &&
	    e.kind == AM_KIND_SUCCESSION &&
	    am_body_decode(e.kind, e.body, e.body_len, f->b) == AM_OK)
		f->found = true;
	return AM_OK;
}

bool
cli_succession_keys(struct am_store *s, const uint8_t hash[static 32],
	uint8_t old[static 32], uint8_t heir[static 32])
{
	struct am_object_info info;
	struct am_body *b = malloc(sizeof *b);
	struct body_find f = { .b = b };
	if (b == NULL)
		return false;
	if (am_state_lookup(s, hash, &info) == AM_OK &&
	    info.kind == AM_KIND_SUCCESSION &&
	    am_store_range(s, info.circle, info.author, info.seq, info.seq,
	    decode_body, &f) == AM_OK && f.found) {
		memcpy(old, b->target, 32);
		memcpy(heir, b->heir, 32);
	}
	free(b);
	return f.found;
}

void
cli_tell_succeeded(struct am_store *s, const uint8_t circle[static 32],
	const uint8_t hash[static 32])
{
	struct am_member *m = NULL;
	size_t n = 0;
	if (am_state_members(s, circle, &m, &n) != AM_OK)
		return;
	for (size_t i = 0; i < n; i++) {
		if (m[i].status != AM_MEMBER_DEPARTED ||
		    m[i].departure_kind != AM_KIND_SUCCESSION ||
		    memcmp(m[i].departure, hash, 32) != 0)
			continue;
		char oldname[CLI_SHORT_NAME], of[AM_FPR_TEXT_BYTES], nf[AM_FPR_TEXT_BYTES];
		char c8[CLI_SHORT_HASH];
		cli_short_id(s, m[i].id, oldname);
		am_id_fingerprint(m[i].id, of);
		am_id_fingerprint(m[i].heir, nf);
		cli_short_hash(circle, c8);
		printf("the new key %s now holds the place of %s (%s) in circle "
			"%s: what the old key signed up to the succession counts "
			"for the new one\n", nf, oldname, of, c8);
	}
	free(m);
}

/* The open succession of old by heir in circle, if any: *found. */
static int
open_succession(struct am_store *s, const uint8_t circle[static 32],
	const uint8_t old[static 32], const uint8_t heir[static 32],
	uint8_t hash[static 32], bool *found)
{
	struct am_removal *r = NULL;
	size_t n = 0;
	*found = false;
	int rc = am_state_removals(s, circle, &r, &n);
	for (size_t i = 0; rc == AM_OK && i < n && !*found; i++)
		if (r[i].kind == AM_KIND_SUCCESSION &&
		    memcmp(r[i].target, old, 32) == 0 &&
		    memcmp(r[i].heir, heir, 32) == 0) {
			memcpy(hash, r[i].hash, 32);
			*found = true;
		}
	am_state_removals_free(&r, n);
	return rc;
}

/* Does the succession hash in circle await heir's answer? */
static int
heir_asked(struct am_store *s, const uint8_t circle[static 32],
	const uint8_t heir[static 32], const uint8_t hash[static 32], bool *asked)
{
	struct am_pending *p = NULL;
	size_t n = 0;
	*asked = false;
	int rc = am_state_pending(s, circle, heir, &p, &n);
	for (size_t i = 0; rc == AM_OK && i < n; i++)
		if (p[i].kind == AM_PENDING_SUCCESSION && !p[i].declined &&
		    memcmp(p[i].hash, hash, 32) == 0)
			*asked = true;
	am_state_pending_free(&p, n);
	return rc;
}

/* Prints whom the open succession hash of circle still waits for. */
static void
tell_waiting(struct am_store *s, const uint8_t circle[static 32],
	const uint8_t hash[static 32])
{
	struct am_removal *r = NULL;
	size_t n = 0;
	char h[CLI_SHORT_HASH];
	cli_short_hash(hash, h);
	if (am_state_removals(s, circle, &r, &n) != AM_OK)
		return;
	for (size_t i = 0; i < n; i++) {
		if (memcmp(r[i].hash, hash, 32) != 0)
			continue;
		printf("  it waits for:");
		for (uint32_t j = 0; j < r[i].nwaiting; j++) {
			char who[CLI_SHORT_NAME], f[AM_FPR_TEXT_BYTES];
			cli_short_id(s, r[i].waiting[j], who);
			am_id_fingerprint(r[i].waiting[j], f);
			printf("%s %s (%s)", j ? "," : "", who, f);
		}
		if (r[i].nwaiting == 0)
			printf(" nobody's answer");
		printf("%s; each accepts it with: amends accept %s\n",
			r[i].alone ? " (one of them other than you must accept)" : "", h);
	}
	am_state_removals_free(&r, n);
}

/* Who may write the succession of old in circle for them: a joined
 * member other than old who is not a witness. */
static bool
writer_for(struct am_store *s, const uint8_t circle[static 32],
	const uint8_t old[static 32], uint8_t who[static 32])
{
	struct am_member *m = NULL;
	size_t n = 0;
	bool found = false;
	if (am_state_members(s, circle, &m, &n) != AM_OK)
		return false;
	for (size_t i = 0; i < n && !found; i++)
		if (m[i].status == AM_MEMBER_JOINED && m[i].role == AM_ROLE_MEMBER &&
		    m[i].departure_kind == 0 && memcmp(m[i].id, old, 32) != 0) {
			memcpy(who, m[i].id, 32);
			found = true;
		}
	free(m);
	return found;
}

/* One circle of the rotation: 0 when it is done or waits for others, 1
 * when something failed here (printed). */
static int
rotate_circle(struct cli *c, struct cli *cn, const struct am_circle_info *ci)
{
	const uint8_t *old = am_identity_public(c->id);
	const uint8_t *next = am_identity_public(cn->id);
	char c8[CLI_SHORT_HASH], hex[65];
	uint8_t hash[32];
	uint64_t forked;
	bool found, asked;
	int rc;

	cli_short_hash(ci->id, c8);
	am_hex(ci->id, 32, hex);
	printf("circle '%s' (%s):\n", cli_shown_c(ci->name), c8);
	if ((rc = open_succession(c->store, ci->id, old, next, hash, &found)) != AM_OK ||
	    (rc = cli_feed_forked(c->store, ci->id, old, &forked)) != AM_OK)
		return cli_fail("reading the circle", rc);
	if (!found && forked) {
		char oldtext[AM_ID_TEXT_BYTES], nexttext[AM_ID_TEXT_BYTES];
		char who[CLI_SHORT_NAME] = "another member", f[AM_FPR_TEXT_BYTES] = "";
		uint8_t w[32];
		if (writer_for(c->store, ci->id, old, w)) {
			cli_short_id(c->store, w, who);
			am_id_fingerprint(w, f);
		}
		am_id_format(old, oldtext);
		am_id_format(next, nexttext);
		printf("  your feed here has forked, so nothing your current key "
			"signs counts in this circle; %s%s%s%s (or another member who "
			"is not a witness) must write the succession:\n"
			"  amends circle succeed %.16s %s %s --head %llu\n"
			"  (what you signed before the fork counts for the new key)\n"
			"  then run amends key rotate again, or amends accept it\n",
			who, f[0] ? " (" : "", f, f[0] ? ")" : "", hex, oldtext,
			nexttext, (unsigned long long)(forked - 1));
		return 0;
	}
	if (!found) {
		struct am_body *b = malloc(sizeof *b);
		if (b == NULL)
			return cli_fail("rotating", AM_ERR_NOMEM);
		rc = cli_succession_body(c, ci->id, old, next, b);
		if (rc == 0)
			rc = cli_write(c, ci->id, b, hash);
		free(b);
		if (rc != 0)
			return 1;
		cli_short_hash(hash, c8);
		printf("  wrote the succession %s, signed by your current key\n", c8);
	}
	if ((rc = heir_asked(c->store, ci->id, next, hash, &asked)) != AM_OK)
		return cli_fail("reading the succession", rc);
	if (asked) {
		struct am_body a = { .kind = AM_KIND_ACCEPT };
		memcpy(a.target, hash, 32);
		if (cli_write(cn, ci->id, &a, NULL) != 0)
			return 1;
		printf("  the new key accepted it\n");
	}
	tell_waiting(c->store, ci->id, hash);
	cli_tell_succeeded(c->store, ci->id, hash);
	return 0;
}

/*
 * A rotation whose successions have all taken effect, with no node
 * running to switch keys (the node does it itself when it runs): the
 * switch is made here. Returns the exit status when a rotation was in
 * progress (done, or waiting for the node), -1 when none was.
 */
static int
finish(struct cli *c)
{
	struct am_identity *next = NULL;
	struct am_rotate_progress pr;
	char nf[AM_FPR_TEXT_BYTES];
	if (am_rotate_next(c->home, &next) != AM_OK)
		return -1;
	am_id_fingerprint(am_identity_public(next), nf);
	int rc = am_rotate_progress(c->store, am_identity_public(c->id),
		am_identity_public(next), &pr);
	am_identity_destroy(&next);
	if (rc != AM_OK)
		return cli_fail("reading the rotation", rc);
	if (pr.open > 0)
		return -1;
	if (am_node_running(c->home)) {
		printf("every succession to the new key %s has taken effect; the "
			"running node switches to it within a minute\n", nf);
		return 0;
	}
	if ((rc = am_rotate_switch(c->home, am_identity_public(c->id))) != AM_OK)
		return cli_fail("switching to the new key", rc);
	printf("rotation done: this node's key is now %s; the old key file is "
		"kept as %s<ID>.key\n", nf, AM_ROTATE_OLD_PREFIX);
	return 0;
}

/* Asks on the terminal; true when the person said yes. */
static bool
confirmed(const char *of, const char *nf)
{
	char line[16];
	printf("this replaces your key %s with a new one in every circle you "
		"are in%s%s%s; go on? [y/N] ", of, nf ? " (" : "", nf ? nf : "",
		nf ? ", made earlier" : "");
	fflush(stdout);
	if (fgets(line, sizeof line, stdin) == NULL)
		return false;
	return line[0] == 'y' || line[0] == 'Y';
}

int
cli_key_rotate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "yes", no_argument, NULL, 'y' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { 0 }, cn = { 0 };
	struct am_circle_info *ci = NULL;
	size_t nc = 0;
	bool yes = false, made;
	int opt, rc, ret = 1, failed = 0;
	char of[AM_FPR_TEXT_BYTES], nf[AM_FPR_TEXT_BYTES];
	char oldtext[AM_ID_TEXT_BYTES], nexttext[AM_ID_TEXT_BYTES];

	optind = 1;
	while ((opt = getopt_long(argc, argv, "yh", opts, NULL)) != -1) {
		switch (opt) {
		case 'y': yes = true; break;
		case 'h': cli_usage(stdout, usage); return 0;
		default: cli_usage(stderr, usage); return 1;
		}
	}
	if (optind != argc) {
		cli_usage(stderr, usage);
		return 1;
	}
	if (cli_open(&c, CLI_IDENTITY | CLI_STORE) != 0)
		goto out;
	const uint8_t *old = am_identity_public(c.id);
	am_id_fingerprint(old, of);
	am_id_format(old, oldtext);
	int done = finish(&c);
	if (done >= 0) {
		ret = done;
		goto out;
	}
	if (!yes) {
		struct am_identity *prev = NULL;
		bool resume = am_rotate_next(c.home, &prev) == AM_OK;
		if (resume)
			am_id_fingerprint(am_identity_public(prev), nf);
		am_identity_destroy(&prev);
		if (!isatty(STDIN_FILENO)) {
			ret = cli_error("a rotation asks first: run it on a terminal, "
				"or give --yes");
			goto out;
		}
		if (!confirmed(of, resume ? nf : NULL)) {
			printf("nothing was changed\n");
			ret = 0;
			goto out;
		}
	}
	if ((rc = am_rotate_begin(c.home, &cn.id, &made)) != AM_OK) {
		ret = cli_fail("making the new key", rc);
		goto out;
	}
	cn.home = c.home;
	cn.store = c.store;
	const uint8_t *next = am_identity_public(cn.id);
	am_id_fingerprint(next, nf);
	am_id_format(next, nexttext);
	printf("%s key %s (%s), to replace %s (%s)\n", made ? "made the new" :
		"resuming the rotation to the new", nexttext, nf, oldtext, of);
	if ((rc = am_state_circles(c.store, old, &ci, &nc)) != AM_OK) {
		ret = cli_fail("reading your circles", rc);
		goto out;
	}
	size_t joined = 0;
	for (size_t i = 0; i < nc; i++) {
		if (ci[i].status != AM_MEMBER_JOINED)
			continue;
		joined++;
		failed |= rotate_circle(&c, &cn, &ci[i]);
	}
	if (joined == 0) {
		/* nobody to ask: the new key is the identity at once */
		ret = finish(&c);
		goto out;
	}
	printf("tell the others to compare fingerprints by voice: old %s, "
		"new %s. This node keeps the old key until every succession "
		"has taken effect, then switches to the new one by itself\n",
		of, nf);
	ret = failed;
out:
	am_state_circles_free(&ci, nc);
	am_identity_destroy(&cn.id);
	cli_close(&c);
	return ret;
}
