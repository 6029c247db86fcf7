/*
 * The node's sync sessions: one per peer, started afresh whenever a path
 * to the peer is lost, fed by the transport's events and flushed to it as
 * far as it takes. What a session reports is logged within a budget per
 * peer and minute; once it settles, the digests the peer holds are
 * recorded and the checkpoints that became due are written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amends/checkpoint.h"
#include "amends/display.h"
#include "amends/invite.h"
#include "amends/peer.h"
#include "amends/state.h"
#include "amends/store.h"
#include "amends/sync.h"
#include "amends/wire.h"
#include "node_impl.h"
#include "store_impl.h"

#define STORE_RETRY_MS 1000      /* after our store failed (disk full), compare */
#define STORE_RETRY_MAX_MS 10000 /* again this soon, doubling up to this */
#define REFUSAL_LOG_MS 60000     /* log one refusal per key per minute */
#define OUTSIDE_LINES 20         /* lines about strangers a minute, at most */
#define FLUSH_MAX 64             /* messages sent to one peer per round */
#define SETTLE_MS 250            /* a session quiet this long: digests, checkpoints */
#define SETTLE_MAX_MS 10000      /* ... or busy this long since they were last done */
#define QUIET_LINES 10      /* lines of one kind a minute about one peer */

void
node_session_end(struct peer *p)
{
	node_ask_finish(p, AM_ERR_UNREACHABLE, "the connection to the peer was lost");
	am_sync_destroy(&p->sync);
	free(p->out);
	p->out = NULL;
	p->idle = false;
	p->settle_due = false;
}

/* How long a session goes before it compares records again
 * (anti-entropy): the node's setting. */
static int64_t
compare_ms(const struct node *n)
{
	unsigned s = n->cfg->compare_s;
	if (s == 0 || s > AM_NODE_COMPARE_MAX_S)
		s = AM_NODE_COMPARE_S;
	return (int64_t)s * 1000;
}

/* Starts a fresh session with p. */
static void
session_start(struct node *n, struct peer *p)
{
	char who[96];
	node_session_end(p);
	p->sync = am_sync_new(n->store, am_identity_public(n->id), p->id);
	if (p->sync == NULL || am_sync_start(p->sync) != AM_OK) {
		node_label(n, p->id, who, sizeof who);
		node_log(n, "could not start a sync session with %s: out of memory", who);
		am_sync_destroy(&p->sync);
		return;
	}
	p->recheck_at = node_mono_ms() + compare_ms(n);
	p->step_told = false;
	p->touched_all = true;
}

/* Notes that circle changed, for the digest p's session records next. */
void
node_touch(struct peer *p, const uint8_t circle[static AM_HASH_BYTES])
{
	if (p->touched_all)
		return;
	for (size_t i = 0; i < p->ntouched; i++)
		if (memcmp(p->touched[i], circle, AM_HASH_BYTES) == 0)
			return;
	if (p->ntouched == CHANGED_MAX)
		p->touched_all = true;
	else
		memcpy(p->touched[p->ntouched++], circle, AM_HASH_BYTES);
}

/* Something moved in p's session: settling waits until it has been quiet
 * for SETTLE_MS, or busy for SETTLE_MAX_MS. */
void
node_busy(struct peer *p)
{
	int64_t now = node_mono_ms();
	p->idle = false;
	if (p->busy_since == 0)
		p->busy_since = now;
	p->settle_at = now + SETTLE_MS;
	if (p->settle_at > p->busy_since + SETTLE_MAX_MS)
		p->settle_at = p->busy_since + SETTLE_MAX_MS;
}

static void
peer_seen(struct node *n, struct peer *p, bool connected)
{
	int rc = am_peer_seen(n->store, p->id, node_wall_ms(), connected);
	if (rc != AM_OK)
		node_log(n, "could not record a peer's state: %s", am_strerror(rc));
}

/* A path to p came up (outbound) or was first used (inbound); was says
 * whether p was reachable before. */
static void
path_up(struct node *n, struct peer *p, bool was, const char *how)
{
	char who[96];
	node_label(n, p->id, who, sizeof who);
	if (!was) {
		node_log(n, "peer %s connected (%s)", who, how);
		peer_seen(n, p, true);
		/* a new key seen for the first time ends the wait of the key
		 * it replaced (protocol/sync.md, "Key rotation") */
		n->refresh_due = true;
		n->dirty = true;
	}
	if (p->sync == NULL)
		session_start(n, p);
}

/* A path to p was lost: start over on what is left, if anything. */
void
node_path_down(struct node *n, struct peer *p, const char *how)
{
	char who[96];
	node_label(n, p->id, who, sizeof who);
	if (!node_reachable(p)) {
		node_log(n, "peer %s lost (%s)", who, how);
		node_session_end(p);
		peer_seen(n, p, false);
	} else {
		session_start(n, p);
	}
}

void
node_peer_drop(struct node *n, size_t i)
{
	struct peer *p = &n->peers[i];
	if (p->link != 0)
		am_wire_close(n->wire, p->link);
	if (node_reachable(p))
		peer_seen(n, p, false);
	node_session_end(p);
	memmove(&n->peers[i], &n->peers[i + 1], (n->npeers - i - 1) * sizeof *p);
	n->npeers--;
}

/* ---- sync sessions ---- */

/* Records the digest the peer said it holds of circle, one it shares
 * with us (event SAME: it is ours too). Only the peer's word counts, never
 * our own side of the session going quiet: that can come before the peer
 * has pulled what we hold. */
static void
record_one(struct node *n, struct peer *p, const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t digest[static AM_HASH_BYTES], int64_t now)
{
	if (am_state_may_write(n->store, circle, p->id) == AM_OK &&
	    am_peer_digest_set(n->store, p->id, circle, digest, now) != AM_OK)
		node_log(n, "could not record a peer's digest");
}

/* In each of circles c shared with p, a checkpoint when every member is
 * known to hold what we hold (am_checkpoint_due says when; it never
 * repeats the same heads, so checkpoints do not feed one another). */
static void
checkpoint(struct node *n, struct peer *p, uint8_t (*c)[AM_HASH_BYTES], size_t nc)
{
	for (size_t i = 0; i < nc; i++) {
		bool written = false;
		char cid[9];
		if (am_state_may_write(n->store, c[i], p->id) != AM_OK)
			continue;
		/* only what peers said since we started counts: the store
		 * may be a stale copy of one its owner went on writing in */
		int rc = am_checkpoint_write_since(n->store, n->id, c[i],
			node_wall_ms(), n->started_ms, &written, NULL);
		node_short_hex(c[i], cid);
		/* a restored identity writes nothing before its feed is back,
		 * nor one whose peers served entries of its own that it lacks */
		if (rc != AM_OK && rc != AM_ERR_RESTORING && rc != AM_ERR_OWN_BEHIND)
			node_log(n, "could not write a checkpoint of circle %s: %s", cid,
				am_strerror(rc));
		if (written) {
			node_log(n, "every member holds the same record of circle %s: "
				"checkpoint written", cid);
			n->dirty = true;
		}
	}
}

/* In each of circles c, our display name where it does not show yet: a
 * circle we were waiting to join has just come, or it was set while the
 * node ran (am_display_publish writes nothing when it already shows). */
static void
display_name(struct node *n, uint8_t (*c)[AM_HASH_BYTES], size_t nc)
{
	for (size_t i = 0; i < nc; i++) {
		unsigned written = 0;
		char cid[9];
		int rc = am_display_publish(n->store, n->id, c[i], node_wall_ms(),
			&written);
		node_short_hex(c[i], cid);
		if (rc != AM_OK)
			node_log(n, "could not write our name into circle %s: %s", cid,
				am_strerror(rc));
		if (written > 0) {
			node_log(n, "our name written into circle %s", cid);
			n->dirty = true;
		}
	}
}

/*
 * Once a session with p has settled and stayed quiet: records that p holds
 * what we hold in the circles that moved since it last settled (every
 * circle we are in, after a new session or many changes), and writes the
 * checkpoints that became due there. Only those circles are looked at,
 * and only once a burst of entries is over, since judging a checkpoint
 * reads much of a circle's state and writing one is a signed entry that
 * travels to every member.
 */
static void
settle(struct node *n, struct peer *p)
{
	struct am_circle_info *all = NULL;
	size_t nall = 0, nc = p->ntouched;
	uint8_t (*c)[AM_HASH_BYTES] = p->touched, (*copy)[AM_HASH_BYTES] = NULL;

	p->settle_due = false;
	p->busy_since = 0;
	/* a burst is over: the peer learns our record, and its answer says
	 * whether it holds the same (SAME, which brings us back here) */
	if (am_sync_tell(p->sync) != AM_OK)
		node_log(n, "could not tell a peer our record: out of memory");
	(void)node_flush(n, p);
	if (p->sync == NULL)
		return;
	if (p->touched_all) {
		if (am_state_circles(n->store, am_identity_public(n->id), &all,
		    &nall) != AM_OK)
			return;
		if (nall > 0 && (copy = malloc(nall * sizeof *copy)) == NULL) {
			am_state_circles_free(&all, nall);
			return;
		}
		for (size_t i = 0; i < nall; i++)
			memcpy(copy[i], all[i].id, AM_HASH_BYTES);
		am_state_circles_free(&all, nall);
		c = copy;
		nc = nall;
	}
	/* what the node signs by itself (our name, a checkpoint) waits until
	 * this node has compared with a peer since it started: a stale copy
	 * of the store would number it over entries its owner wrote
	 * elsewhere */
	if (nc > 0 && n->compared) {
		display_name(n, c, nc);
		checkpoint(n, p, c, nc);
	}
	p->touched_all = false;
	p->ntouched = 0;
	free(copy);
}

/* What each kind of line says, for the count logged when its budget is
 * spent: "<count> more <what> <who> in the last minute". */
static const char *const quiet_what[QUIET_KINDS] = {
	[QUIET_REFUSED] = "entries refused from",
	[QUIET_BAD] = "messages refused from",
	[QUIET_DENIED] = "requests for circles not theirs from",
	[QUIET_PEER_ERROR] = "refusals of our messages by",
	[QUIET_SHORTER] = "shorter feeds shown by",
	[QUIET_FORK] = "fork evidence stored from",
	[QUIET_DROPPED] = "messages dropped from",
};

/* Logs how many lines about p were only counted in the minute that
 * ended, and starts a new minute. */
static void
quiet_report(struct node *n, struct peer *p, int64_t now)
{
	char who[96];
	bool labelled = false;
	for (int k = 0; k < QUIET_KINDS; k++) {
		if (p->unsaid[k] > 0) {
			if (!labelled)
				node_label(n, p->id, who, sizeof who);
			labelled = true;
			node_log(n, "%u more %s %s in the last minute (not logged one "
				"by one)", p->unsaid[k], quiet_what[k], who);
		}
		p->said[k] = 0;
		p->unsaid[k] = 0;
	}
	p->quiet_since = now;
}

/* May a line of kind about p be logged now? The first QUIET_LINES of a
 * minute may; the rest are counted, and the count is logged once the
 * minute is over. */
static bool
quiet_may(struct node *n, struct peer *p, enum quiet_kind kind)
{
	int64_t now = node_mono_ms();
	if (now - p->quiet_since >= 60000)
		quiet_report(n, p, now);
	if (p->said[kind] < QUIET_LINES) {
		p->said[kind]++;
		return true;
	}
	p->unsaid[kind]++;
	return false;
}

/* The counts of minutes that are over, for peers that went quiet. */
/* The minute of the strangers' budget is over: say what was left out. */
static void
outside_roll(struct node *n, int64_t now)
{
	if (now - n->outside.since < 60000)
		return;
	if (n->outside.unsaid > 0)
		node_log(n, "refused %u more connections and messages from outside "
			"the circles in the last minute, not logged one by one",
			n->outside.unsaid);
	n->outside.since = now;
	n->outside.said = n->outside.unsaid = 0;
}

/* Whether a line about someone who holds no member's key may be logged:
 * anyone can cause such lines, with fresh keys or none, so they share one
 * budget of OUTSIDE_LINES a minute, and a line a minute counts the rest. */
static bool
outside_may(struct node *n)
{
	outside_roll(n, node_mono_ms());
	if (n->outside.said < OUTSIDE_LINES) {
		n->outside.said++;
		return true;
	}
	n->outside.unsaid++;
	return false;
}

void
node_quiet_tick(struct node *n)
{
	int64_t now = node_mono_ms();
	outside_roll(n, now);
	for (size_t i = 0; i < n->npeers; i++) {
		struct peer *p = &n->peers[i];
		if (now - p->quiet_since < 60000)
			continue;
		for (int k = 0; k < QUIET_KINDS; k++) {
			if (p->unsaid[k] > 0) {
				quiet_report(n, p, now);
				break;
			}
		}
	}
}

/* A feed shown shorter than ours is withholding or truncation when a
 * checkpoint says the peer held more (am_checkpoint_judge); the report
 * is kept for status and verify. */
static void
judge(struct node *n, struct peer *p, const struct am_sync_event *ev)
{
	struct am_checkpoint_report r;
	char who[96], whose[96], when[32], c[9];
	bool shorter;
	int rc = am_checkpoint_judge(n->store, ev->circle, p->id, ev->author,
		ev->seq, node_wall_ms(), &shorter, &r);
	if (rc != AM_OK) {
		node_log(n, "could not compare a shorter feed with the checkpoints: %s",
			am_strerror(rc));
		return;
	}
	if (!shorter || !quiet_may(n, p, QUIET_SHORTER))
		return;
	time_t t = (time_t)(r.checkpoint_time / 1000);
	struct tm tm;
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(when, sizeof when, "?");
	node_label(n, p->id, who, sizeof who);
	if (memcmp(p->id, ev->author, AM_ID_BYTES) == 0)
		snprintf(whose, sizeof whose, "its own");
	else
		node_label(n, ev->author, whose, sizeof whose);
	node_short_hex(ev->circle, c);
	node_log(n, "%s shows a shorter feed of %s than the checkpoint of %s "
		"(circle %s: %llu of %llu entries): withholding or truncation", who,
		whose, when, c, (unsigned long long)r.shown,
		(unsigned long long)r.named);
}

/* The first comparison since the node started: the commands, which
 * wait for it before writing an entry (am_node_fresh), learn of it from
 * the store, in a transaction of its own. */
static void
tell_compared(struct node *n)
{
	char v[24];
	snprintf(v, sizeof v, "%lld", (long long)n->started_ms);
	if (am_store_begin(n->store) != AM_OK)
		return;             /* the next event tries again */
	if (am_store_setting_set(n->store, AM_NODE_SETTING_COMPARED, v) != AM_OK ||
	    am_store_commit(n->store) != AM_OK) {
		am_store_rollback(n->store);
		node_log(n, "could not record the first comparison with a peer");
		return;
	}
	n->compared_told = true;
}

static void
log_events(struct node *n, struct peer *p)
{
	struct am_sync_event ev;
	char who[96], c[9];
	uint64_t stored = 0;
	bool began = false;
	node_label(n, p->id, who, sizeof who);
	while (am_sync_next_event(p->sync, &ev)) {
		node_short_hex(ev.circle, c);
		/* a peer must not fill the disk through our log: each kind of
		 * line it can cause has its budget (entries stored are not
		 * counted: their line is one per batch, and they take room of
		 * their own) */
		switch (ev.kind) {
		case AM_SYNC_EV_STORED:
			stored += ev.count;
			break;
		case AM_SYNC_EV_REFUSED:
			if (quiet_may(n, p, QUIET_REFUSED))
				node_log(n, "refused an entry from %s (circle %s, seq %llu): %s",
					who, c, (unsigned long long)ev.seq,
					ev.text[0] ? ev.text : am_strerror(ev.rc));
			break;
		case AM_SYNC_EV_BAD_MESSAGE:
			if (quiet_may(n, p, QUIET_BAD))
				node_log(n, "refused a message from %s: %s", who,
					ev.text[0] ? ev.text : am_strerror(ev.rc));
			break;
		case AM_SYNC_EV_DENIED:
			if (quiet_may(n, p, QUIET_DENIED))
				node_log(n, "refused %s a circle it is not in (%s): %s", who,
					c, ev.text);
			break;
		case AM_SYNC_EV_PEER_ERROR:
			if (quiet_may(n, p, QUIET_PEER_ERROR))
				node_log(n, "%s refused something of ours: %s", who, ev.text);
			break;
		case AM_SYNC_EV_SHORTER_HEAD:
			if (quiet_may(n, p, QUIET_SHORTER))
				node_log(n, "%s shows a shorter feed than ours (circle %s: "
					"%llu of %llu entries): behind, or withholding", who,
					c, (unsigned long long)ev.seq,
					(unsigned long long)ev.count);
			judge(n, p, &ev);
			break;
		case AM_SYNC_EV_FORK:
			if (quiet_may(n, p, QUIET_FORK))
				node_log(n, "fork evidence from %s stored (circle %s): %s",
					who, c, ev.text);
			n->dirty = true;      /* pass the evidence on at once */
			break;
		case AM_SYNC_EV_SAME:
			/* one transaction for all: one sync to disk */
			if (!began)
				began = am_store_begin(n->store) == AM_OK;
			record_one(n, p, ev.circle, ev.digest, node_wall_ms());
			n->compared = true;
			node_touch(p, ev.circle);   /* a checkpoint may be due there */
			break;
		case AM_SYNC_EV_ANSWERED:
			node_ask_finish(p, ev.rc, ev.rc == AM_OK ? "" : ev.text);
			break;
		case AM_SYNC_EV_CAUGHT_UP:
			n->compared = true;
			break;
		case AM_SYNC_EV_OWN_BEHIND:
			/* once per circle and number: the store keeps the highest */
			node_log(n, "%s served entry %llu of our own feed in circle %s, "
				"which this node lacks (it holds %llu): another copy of "
				"this identity wrote it; nothing is written there until "
				"it is fetched", who, (unsigned long long)ev.seq, c,
				(unsigned long long)ev.count);
			n->dirty = true;
			break;
		case AM_SYNC_EV_CLAIM_REFUTED:
			/* once per claim: a refuted one is not looked at again */
			node_log(n, "%s signed a checkpoint naming %llu entries of our "
				"own feed in circle %s, yet its node holds and serves %llu: "
				"a signed false statement; it no longer pauses our "
				"writing there", who, (unsigned long long)ev.seq, c,
				(unsigned long long)ev.count);
			n->dirty = true;
			break;
		}
	}
	if (began && am_store_commit(n->store) != AM_OK)
		node_log(n, "could not record the peers' digests");
	if (n->compared && !n->compared_told)
		tell_compared(n);
	if (stored > 0) {
		node_log(n, "received %llu entr%s from %s", (unsigned long long)stored,
			stored == 1 ? "y" : "ies", who);
		n->dirty = true;      /* tell the other peers, and re-read members */
	}
}

/* Sends what p's session has to say, as far as the transport takes it.
 * Returns true when something is left waiting for room. */
bool
node_flush(struct node *n, struct peer *p)
{
	for (int sent = 0; p->sync != NULL && sent < FLUSH_MAX; sent++) {
		if (p->out == NULL) {
			int rc = am_sync_next_out(p->sync, &p->out, &p->out_len);
			if (rc != AM_OK) {
				node_log(n, "sync failed: %s", am_strerror(rc));
				return false;
			}
			if (p->out == NULL)
				break;
		}
		int rc = AM_ERR_UNREACHABLE;
		if (p->link_up)
			rc = am_wire_send(n->wire, p->link, p->curve, p->out, p->out_len);
		if (rc == AM_ERR_UNREACHABLE && p->inbound)
			rc = am_wire_send(n->wire, AM_WIRE_INBOUND, p->curve, p->out,
				p->out_len);
		if (rc == AM_ERR_AGAIN)
			return true;
		if (rc == AM_ERR_UNREACHABLE) {
			/* the peer's connection to us is gone (an outbound link
			 * that went down reports it by itself) */
			if (p->inbound) {
				p->inbound = false;
				node_path_down(n, p, "its connection to us is gone");
			}
			return false;
		}
		free(p->out);
		p->out = NULL;
	}
	return p->out != NULL;
}

bool
node_flush_all(struct node *n)
{
	bool waiting = false;
	int64_t now = node_mono_ms();
	n->settle_at = 0;
	for (size_t i = 0; i < n->npeers; i++) {
		struct peer *p = &n->peers[i];
		if (p->sync == NULL)
			continue;
		if (now >= p->recheck_at) {
			p->recheck_at = now + compare_ms(n);
			if (am_sync_recheck(p->sync) != AM_OK)
				node_log(n, "could not compare records: out of memory");
		}
		waiting |= node_flush(n, p);
		if (p->sync == NULL)
			continue;
		bool idle = am_sync_idle(p->sync);
		if (idle && !p->idle) {
			if (!p->step_told) {
				char who[96];
				node_label(n, p->id, who, sizeof who);
				struct am_sync_stats ss;
				am_sync_stats(p->sync, &ss);
				node_log(n, "in step with %s (%llu bytes in, %llu bytes out)",
					who, (unsigned long long)ss.bytes_in,
					(unsigned long long)ss.bytes_out);
				p->step_told = true;
			}
			p->settle_due = true;
		}
		p->idle = idle;
		if (idle && p->settle_due && now >= p->settle_at)
			settle(n, p);
		if (p->settle_due && (n->settle_at == 0 || p->settle_at < n->settle_at))
			n->settle_at = p->settle_at;
	}
	return waiting;
}

/* ---- events from the transport ---- */

static void
on_invite(struct node *n, const uint8_t *key, const uint8_t *data, size_t len)
{
	struct am_invite_event ev;
	uint8_t *reply = NULL;
	size_t rlen = 0;
	char who[96] = "someone", c[9];
	int rc = am_invite_serve(n->store, n->id, key, node_wall_ms(), data, len,
		&reply, &rlen, &ev);
	if (rc != AM_OK) {
		node_log(n, "could not answer an invite: %s", am_strerror(rc));
		return;
	}
	if (ev.has_joiner)
		node_label(n, ev.joiner, who, sizeof who);
	node_short_hex(ev.circle, c);
	switch (ev.outcome) {
	case AM_INVITE_JOINED:
		node_log(n, "%s used an invite to circle %s; proposed them as a "
			"member and sent them a preview", who, c);
		n->dirty = true;
		break;
	case AM_INVITE_ACCEPTED:
		if (ev.joined)
			node_log(n, "%s joined circle %s", who, c);
		else
			node_log(n, "%s accepted; circle %s still waits for %u member%s",
				who, c, ev.count, ev.count == 1 ? "" : "s");
		n->dirty = true;
		break;
	case AM_INVITE_DECLINED:
		node_log(n, "%s declined the invite to circle %s", who, c);
		n->dirty = true;
		break;
	case AM_INVITE_SENT:
		node_log(n, "sent %u entr%s of circle %s to %s", ev.count,
			ev.count == 1 ? "y" : "ies", c, who);
		break;
	case AM_INVITE_REFUSED:
		node_log(n, "refused an invite request from %s: %s", who, ev.why);
		break;
	case AM_INVITE_NOTHING:
		break;
	}
	rc = am_wire_send(n->wire, AM_WIRE_INBOUND, key, reply, rlen);
	if (rc != AM_OK)
		node_log(n, "could not answer an invite: %s", am_strerror(rc));
	free(reply);
}

/* Our store failed to take what p sent, not p: it is asked for again
 * soon (space may come back), not at the next anti-entropy round a
 * minute away. */
static void
store_failed(struct peer *p)
{
	p->store_retry_ms = p->store_retry_ms == 0 ? STORE_RETRY_MS :
		2 * p->store_retry_ms;
	if (p->store_retry_ms > STORE_RETRY_MAX_MS)
		p->store_retry_ms = STORE_RETRY_MAX_MS;
	int64_t at = node_mono_ms() + p->store_retry_ms;
	if (at < p->recheck_at)
		p->recheck_at = at;
}

static void
on_message(struct node *n, struct am_wire_event *ev)
{
	if (ev->link == AM_WIRE_INBOUND && node_is_invite(n, ev->key)) {
		on_invite(n, ev->key, ev->data, ev->len);
		return;
	}
	struct peer *p = ev->link == AM_WIRE_INBOUND ? node_peer_by_curve(n, ev->key) :
		node_peer_by_link(n, ev->link);
	if (p == NULL) {
		char hex[17];
		am_hex(ev->key, 8, hex);
		node_log(n, "dropped a message from key %s: not a member of our circles",
			hex);
		return;
	}
	if (ev->link == AM_WIRE_INBOUND && !p->inbound) {
		bool was = node_reachable(p);
		p->inbound = true;
		path_up(n, p, was, "it connected to us");
	}
	if (p->sync == NULL)
		session_start(n, p);
	if (p->sync == NULL)
		return;
	node_ask_relay(p, ev->data, ev->len);
	int rc = am_sync_receive(p->sync, ev->data, ev->len);
	log_events(n, p);
	/* the records may differ now: look again once the session settles */
	node_busy(p);
	if (rc == AM_ERR_NOMEM || rc == AM_ERR_DB || rc == AM_ERR_DB_FULL ||
	    rc == AM_ERR_IO || rc == AM_ERR_DB_CORRUPT || rc == AM_ERR_DB_BUSY) {
		node_log(n, "could not take a message: %s", am_strerror(rc));
		store_failed(p);
	} else if (rc == AM_OK) {
		p->store_retry_ms = 0;
	}
}

void
node_release(struct node *n)
{
	int rc = am_store_release(n->store);
	if (rc == AM_OK)
		return;
	node_log(n, "could not store what peers sent: %s", am_strerror(rc));
	for (size_t i = 0; i < n->npeers; i++)
		if (n->peers[i].sync != NULL)
			store_failed(&n->peers[i]);
}

static bool
refusal_recent(struct node *n, const uint8_t *key)
{
	int64_t now = node_mono_ms();
	size_t oldest = 0;
	for (size_t i = 0; i < sizeof n->refusals / sizeof n->refusals[0]; i++) {
		if (memcmp(n->refusals[i].key, key, AM_CURVE_BYTES) == 0) {
			if (now - n->refusals[i].at < REFUSAL_LOG_MS)
				return true;
			n->refusals[i].at = now;
			return false;
		}
		if (n->refusals[i].at < n->refusals[oldest].at)
			oldest = i;
	}
	memcpy(n->refusals[oldest].key, key, AM_CURVE_BYTES);
	n->refusals[oldest].at = now;
	return false;
}

void
node_on_event(struct node *n, struct am_wire_event *ev)
{
	char who[96] = "an unknown peer";
	struct peer *p = NULL;
	if (ev->link != AM_WIRE_INBOUND)
		p = node_peer_by_link(n, ev->link);
	else if (ev->has_key)
		p = node_peer_by_curve(n, ev->key);
	if (p != NULL)
		node_label(n, p->id, who, sizeof who);

	switch (ev->kind) {
	case AM_WIRE_NONE:
		break;
	case AM_WIRE_MESSAGE:
		on_message(n, ev);
		break;
	case AM_WIRE_UP:
		if (p != NULL) {
			bool was = node_reachable(p);
			p->link_up = true;
			p->failed_told = false;
			p->redial_at = 0;
			p->redial_ms = 0;
			p->redial_quiet = false;
			path_up(n, p, was, p->address);
		}
		break;
	case AM_WIRE_DOWN:
		if (p == NULL)
			break;
		if (ev->link == AM_WIRE_INBOUND) {
			if (!p->inbound)
				break;
			/* another connection of the peer's may still be up: the
			 * session starts over on it */
			p->inbound = ev->more;
			if (ev->more)
				node_log(n, "%s connected again under the same key; the "
					"new connection replaces its session", who);
			node_path_down(n, p, "it disconnected from us");
		} else if (p->link_up) {
			p->link_up = false;
			node_path_down(n, p, p->address);
			/* libzmq may never dial it again (node.c, redial) */
			node_redial_arm(p, node_mono_ms());
		}
		break;
	case AM_WIRE_HANDSHAKE_FAILED:
		if (p != NULL && !p->failed_told) {
			p->failed_told = true;
			node_log(n, "handshake with %s at %s failed: %s", who, p->address,
				ev->detail);
		}
		/* a peer that refused our key (we are only proposed, or it has
		 * not seen us join yet) may take it later: libzmq does not
		 * dial again after a refused handshake, so the node does, on
		 * the schedule it keeps for every link that is not up */
		if (p != NULL && ev->link != AM_WIRE_INBOUND && ev->link == p->link)
			node_redial_arm(p, node_mono_ms());
		break;
	case AM_WIRE_RETRYING:
		if (p != NULL)
			node_log(n, "cannot reach %s at %s yet; retrying", who, p->address);
		break;
	case AM_WIRE_REFUSED:
		if (!ev->has_key) {
			if (outside_may(n))
				node_log(n, "refused a connection: %s", ev->detail);
		} else if (!refusal_recent(n, ev->key) && outside_may(n)) {
			char hex[17];
			am_hex(ev->key, 8, hex);
			node_log(n, "refused key %s: %s", hex, ev->detail);
		}
		break;
	case AM_WIRE_DROPPED:
		if (p == NULL ? outside_may(n) : quiet_may(n, p, QUIET_DROPPED))
			node_log(n, "dropped %s from %s", ev->detail, who);
		break;
	case AM_WIRE_NUDGE:
		node_check_store(n);
		node_ask_accept(n);
		break;
	}
}
