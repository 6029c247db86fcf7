/*
 * Writing entries from the command line. The state module's rule set is
 * asked first (am_state_check), so that what the CLI refuses and what the
 * state would ignore are one and the same; a refused entry is never signed.
 */
#include <string.h>
#include <time.h>

#include "amends/display.h"
#include "amends/entry.h"
#include "amends/node.h"
#include "amends/state.h"
#include "amends/view.h"
#include "format.h"
#include "write.h"

/*
 * The time an honest writer claims (protocol/entry.md, "Claimed times",
 * and write.h):
 * its clock, or later when its own previous entry in the feed is later
 * (while within the bounds the state counts: a clock that once read 9999
 * must not date every later entry 9999), or when what the entry refers to
 * is dated ahead of the clock by at most AM_VIEW_FUTURE_MS (a clock a few
 * minutes behind another's). Anything further ahead is not adopted: one
 * entry dated 2099 must not date all of its answers 2099; the answer then
 * reads "dated before" what it answers, which is the truth.
 */
static int
decode_time(void *ctx, const uint8_t *raw, size_t len)
{
	struct am_entry e;
	if (am_entry_decode(raw, len, &e) == AM_OK)
		*(int64_t *)ctx = e.time;
	return AM_OK;
}

static int64_t
adopt(struct am_store *s, const uint8_t hash[32], int64_t now, int64_t t)
{
	struct am_object_info info;
	if (am_state_lookup(s, hash, &info) != AM_OK || info.time <= t)
		return t;
	if (now <= INT64_MAX - AM_VIEW_FUTURE_MS &&
	    info.time <= now + AM_VIEW_FUTURE_MS)
		return info.time;
	return t;
}

int64_t
cli_stamp(struct am_store *s, const uint8_t circle[static 32],
	const uint8_t me[static 32], const struct am_body *body, int64_t now)
{
	uint8_t head[32];
	uint64_t seq = 0;
	int64_t t = now, prev = INT64_MIN;
	if (am_store_head(s, circle, me, &seq, head) == AM_OK && seq > 0 &&
	    am_store_range(s, circle, me, seq, seq, decode_time, &prev) == AM_OK &&
	    prev > t && prev >= AM_TIME_MIN && prev < AM_TIME_MAX)
		t = prev;
	switch (body->kind) {
	case AM_KIND_AMEND:
		t = adopt(s, body->base, now, t);
		/* fall through */
	case AM_KIND_ACCEPT:
	case AM_KIND_DECLINE:
	case AM_KIND_END:
	case AM_KIND_CHECKIN:
	case AM_KIND_CONFIRM:
	case AM_KIND_DISPUTE:
		return adopt(s, body->target, now, t);
	case AM_KIND_STATEMENT:
		return body->has_target ? adopt(s, body->target, now, t) : t;
	default:
		return t;
	}
}

/* The circle a GENESIS of this command just made: nothing of ours is
 * in it anywhere else, so the name written into it next cannot fork. */
static uint8_t made[32];
static bool made_set;

/*
 * A node runs on this data directory and has not compared with a peer
 * since it started (am_node_fresh): until it has, this copy may be stale,
 * and an entry numbered from it could fork the owner's feed. Prints why
 * and returns 1 then; 0 when writing may go on.
 */
static int
node_fresh(struct cli *c)
{
	int64_t started;
	if (!am_node_fresh(c->home, c->store, &started))
		return 0;
	long long ago = ((long long)time(NULL) * 1000 - started) / 1000;
	return cli_error("the node started %llds ago and has not compared with "
		"a peer yet; writing now could fork your feed if this copy is "
		"stale: wait for it, or stop the node to write offline",
		ago > 0 ? ago : 0);
}

int
cli_write(struct cli *c, const uint8_t circle_in[static 32],
	const struct am_body *body, uint8_t *hash)
{
	const uint8_t *me = am_identity_public(c->id);
	uint8_t circle[32];
	char why[256] = "";
	int rc;

	if (body->kind == AM_KIND_GENESIS)
		am_circle_id(me, body->nonce, circle);
	else
		memcpy(circle, circle_in, 32);
	/* a new circle's GENESIS forks nothing; any other entry waits for
	 * the node's first comparison (protocol/sync.md, "No entry from a
	 * command before the node's first comparison") */
	if (body->kind != AM_KIND_GENESIS && node_fresh(c) != 0)
		return 1;
	/* the clock, and the time signed (never before our own previous
	 * entry), checked against the bounds before anything is signed: a
	 * clock outside them is broken even when the stamp would not show it */
	int64_t now = cli_now_ms();
	int64_t when = cli_stamp(c->store, circle, me, body, now);
	rc = am_state_check(c->store, circle, me, body, why, sizeof why);
	if (rc == AM_OK)
		rc = am_state_check_time(now, why, sizeof why);
	if (rc == AM_OK)
		rc = am_state_check_time(when, why, sizeof why);
	if (rc != AM_OK) {
		if (why[0] != '\0')
			return cli_error("%s", why);
		return cli_fail("checking the entry", rc);
	}
	rc = am_store_append(c->store, c->id, circle, when, body, hash, NULL);
	if (rc == AM_ERR_FIELD)
		return cli_error("the entry would hold a value out of range; "
			"nothing was written");
	if (rc != AM_OK)
		return cli_fail("writing the entry", rc);
	if (body->kind == AM_KIND_GENESIS) {
		memcpy(made, circle, 32);
		made_set = true;
	}
	return 0;
}

int
cli_publish_name(struct cli *c, const uint8_t *circle, unsigned *written)
{
	unsigned n = 0;
	int64_t started;
	if (written != NULL)
		*written = 0;
	/* while the node has not compared, the name waits: the node signs it
	 * itself once it has (where it does not show yet), so nothing is lost;
	 * a circle this command just made is safe at once */
	if ((circle == NULL || !made_set || memcmp(circle, made, 32) != 0) &&
	    am_node_fresh(c->home, c->store, &started))
		return 0;
	int rc = am_display_publish(c->store, c->id, circle, cli_now_ms(), &n);
	if (written != NULL)
		*written = n;
	if (rc != AM_OK)
		return cli_fail("writing your name into the circle", rc);
	if (n > 0) {
		cli_shared_forget();
		cli_nudge();
	}
	return 0;
}
