/*
 * The pulling half of a sync session (protocol/sync.md, "Pulling"). When
 * the peer's HELLO summary differs from ours we open a round (our
 * DIGESTS), collect the peer's HEADS until its DONE, and turn every feed
 * where the peer is ahead into a task. Tasks are fetched one at a time;
 * a feed's batches two requests at a time (the one awaited and the next),
 * so that the peer reads the next batch while we store this one. A round that stored something while other entries were refused
 * for now (their author's membership had not arrived yet) runs again; one
 * that stored nothing new ends, so rounds always end. Live entries pushed
 * by the peer are taken here too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amends/checkpoint.h"
#include "sync_impl.h"

/* Opens a pull round: our digests of every shared circle, in messages of
 * at most AM_SYNC_MAX_ITEMS, the last one final. */
static int
open_round(struct am_sync *s)
{
	struct am_sync_msg *m = calloc(1, sizeof *m);
	uint8_t (*circles)[AM_HASH_BYTES] = NULL;
	size_t n;
	int rc;

	if (m == NULL)
		return AM_ERR_NOMEM;
	if ((rc = sync_circles(s, &circles, &n)) != AM_OK)
		goto out;
	m->type = AM_SYNC_DIGESTS;
	for (size_t i = 0; i < n; i++) {
		rc = sync_shared(s, circles[i]);
		if (rc == AM_ERR_NOT_SHARED || rc == AM_ERR_NOT_FOUND)
			continue;
		if (rc != AM_OK)
			goto out;
		memcpy(m->digests[m->n].circle, circles[i], AM_HASH_BYTES);
		rc = am_store_digest(s->store, circles[i], m->digests[m->n].digest);
		if (rc != AM_OK)
			goto out;
		if (++m->n == AM_SYNC_MAX_ITEMS) {
			if ((rc = sync_queue(s, m)) != AM_OK)
				goto out;
			m->n = 0;
		}
	}
	m->final = true;
	if ((rc = sync_queue(s, m)) != AM_OK)
		goto out;
	s->pulling = true;
	s->own_asked = false;
	s->awaiting_done = true;
	s->caught_up = false;
	s->round_new = 0;
	s->round_retry = 0;
out:
	free(circles);
	free(m);
	return rc;
}

/* The peer holds what we hold: every shared circle's model is ours. */
static int
all_equal(struct am_sync *s)
{
	uint8_t (*circles)[AM_HASH_BYTES];
	size_t n;
	int rc = sync_circles(s, &circles, &n);
	if (rc != AM_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		uint8_t digest[AM_HASH_BYTES];
		rc = sync_shared(s, circles[i]);
		if (rc == AM_ERR_NOT_SHARED || rc == AM_ERR_NOT_FOUND) {
			rc = AM_OK;
			continue;
		}
		if (rc != AM_OK ||
		    (rc = am_store_digest(s->store, circles[i], digest)) != AM_OK ||
		    (rc = sync_model_equal(s, circles[i], digest)) != AM_OK)
			break;
	}
	free(circles);
	return rc;
}

/* ---- our own feed: the restore guard and a stale store ---- */

static int add_task(struct am_sync *s, enum task_kind kind,
	const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t author[static AM_ID_BYTES], uint64_t seq);
static int pump(struct am_sync *s);

struct needed_ctx {
	struct am_sync *s;
	uint64_t seq;                   /* the highest claim still standing */
	bool refute;                    /* the peer's node had its chance */
	uint64_t shown;                 /* what it showed of our feed */
};

/* What the peer's node holds of our own feed in circle, as far as this
 * session knows it: the HEADS of this round, or its summary or digest
 * equal to ours. False when not known (no model, or our feed may have
 * been left out of a list cut at AM_SYNC_MAX_ITEMS). */
static bool
peer_shows_own(struct am_sync *s, const uint8_t circle[static AM_HASH_BYTES],
	uint64_t *seq)
{
	const struct circle_model *cm = sync_model(s, circle, false);
	if (cm == NULL)
		return false;
	for (size_t i = 0; i < cm->nfeeds; i++)
		if (memcmp(cm->feeds[i].author, s->self, AM_ID_BYTES) == 0) {
			*seq = cm->feeds[i].seq;
			return true;
		}
	*seq = 0;
	return cm->complete;
}

/*
 * A claim on our feed (another member's checkpoint naming it above what
 * we hold). It stands unless its author is this session's peer, whose
 * node showed our feed below the claim and had the chance to serve the
 * rest: then its own node refutes what it signed, and it is recorded and
 * reported (protocol/sync.md, "A restored node's guard: claims").
 */
static int
claim_one(void *ctx, const struct am_checkpoint_refutation *r)
{
	struct needed_ctx *c = ctx;
	struct am_sync *s = c->s;
	char a[9], cid[9];
	if (c->refute && memcmp(r->author, s->peer, AM_ID_BYTES) == 0 &&
	    c->shown < r->named) {
		int rc = am_checkpoint_refute(s->store, r->circle, r->author,
			r->named, c->shown, r->checkpoint);
		if (rc != AM_OK)
			return rc;
		sync_short(r->author, a);
		sync_short(r->circle, cid);
		sync_event(s, AM_SYNC_EV_CLAIM_REFUTED, AM_OK, r->circle, r->author,
			r->named, c->shown, "%s signed a checkpoint naming %llu entries "
			"of our feed in circle %s, yet its node holds and serves %llu",
			a, (unsigned long long)r->named, cid,
			(unsigned long long)c->shown);
		return AM_OK;
	}
	if (r->named > c->seq)
		c->seq = r->named;
	return AM_OK;
}

/*
 * The number our own feed in circle must reach before we may write there
 * again, from signed evidence only: the highest entry of ours a peer
 * served that we lacked (am_store_own_seen), the highest number of our
 * feed that our own live checkpoint names (we signed both: those entries
 * existed), and the claims of other members' live checkpoints still
 * standing. A peer's HEADS, unsigned, is never evidence: a hostile member
 * could claim our feed at 2^62. With chance set, the peer's node has
 * shown what it holds of our feed and served what it has: a claim it
 * signed above that is refuted here.
 */
static int
own_needed(struct am_sync *s, const uint8_t circle[static AM_HASH_BYTES],
	uint64_t head, bool chance, uint64_t *needed)
{
	struct needed_ctx c = { .s = s,
		.seq = am_store_own_seen_get(s->store, circle, s->self) };
	uint64_t own = 0;
	/* the peer showed our feed, and we hold all of it: what it signed
	 * beyond that, it does not hold */
	c.refute = chance && peer_shows_own(s, circle, &c.shown) && c.shown <= head;
	int rc = am_checkpoint_claims(s->store, circle, s->self, head, &own,
		claim_one, &c);
	*needed = c.seq > own ? c.seq : own;
	return rc;
}

/*
 * A comparison with the peer is over (our round ended, or its summary is
 * ours). In each shared circle where our writing waits (the restore
 * guard, or entries of ours a peer served), the guard lifts when we hold
 * what the signed evidence names; otherwise we ask this peer for the rest
 * of our feed, once per round (*asked tells whether we did). chance: the
 * peer has shown its copy and served what we asked (its summary equals
 * ours, or this round already asked it for our feed).
 */
static int
settle_own(struct am_sync *s, bool ask, bool chance, bool *asked)
{
	uint8_t (*circles)[AM_HASH_BYTES];
	size_t n;
	int rc = sync_circles(s, &circles, &n);
	if (rc != AM_OK)
		return rc;
	*asked = false;
	for (size_t i = 0; i < n && rc == AM_OK; i++) {
		uint8_t hash[AM_HASH_BYTES];
		uint64_t head, needed;
		rc = sync_shared(s, circles[i]);
		if (rc == AM_ERR_NOT_SHARED || rc == AM_ERR_NOT_FOUND) {
			rc = AM_OK;
			continue;
		}
		int guard = rc == AM_OK ?
			am_store_own_guard(s->store, circles[i], s->self) : rc;
		if (guard == AM_OK)
			continue;
		if (guard != AM_ERR_RESTORING && guard != AM_ERR_OWN_BEHIND) {
			rc = guard;
			break;
		}
		if ((rc = am_store_head(s->store, circles[i], s->self, &head,
		    hash)) != AM_OK ||
		    (rc = own_needed(s, circles[i], head, chance, &needed)) != AM_OK)
			break;
		if (head >= needed) {
			if (guard == AM_ERR_RESTORING)
				rc = am_store_own_caught_up(s->store, circles[i]);
			continue;
		}
		if (!ask)
			continue;
		rc = add_task(s, TASK_FEED, circles[i], s->self, needed);
		*asked = true;
	}
	free(circles);
	return rc;
}

/*
 * A HELLO, read from one moment of our store (the caller's read
 * transaction): the summary compared, the heads recorded as the peer's
 * when it is equal, and the summary of our answer are all of that moment,
 * whatever a command writes meanwhile. A write the comparison did not see
 * is not in what the peer is recorded to hold, so it is pushed once the
 * node offers it (protocol/sync.md, "Writing while comparing").
 */
static int
on_hello(struct am_sync *s, const struct am_sync_msg *m, bool *same)
{
	uint8_t ours[AM_HASH_BYTES];
	uint64_t count;
	int rc = sync_summary(s, ours, &count);
	if (rc != AM_OK)
		return rc;
	if (memcmp(ours, m->summary, AM_HASH_BYTES) == 0) {
		/* the peer holds what we hold: it said so */
		if (!s->pulling)
			s->caught_up = true;
		if ((rc = all_equal(s)) != AM_OK)
			return rc;
		*same = true;
		/* and it learns the same from us, unless this was our answer:
		 * the summary it compared, not one read again after a write */
		if (m->hello != AM_SYNC_HELLO_ANSWER)
			rc = sync_send_summary(s, AM_SYNC_HELLO_ANSWER, ours, count);
		return rc;
	}
	/* a HELLO that tells or answers follows a round or a push of the
	 * peer's: it opens a round only while our side has not compared
	 * since we started over (once caught up, pulling on each of them
	 * could go back and forth for ever between two nodes that do not
	 * share the same circles; pushes and rechecks cover what they show) */
	if (m->hello != AM_SYNC_HELLO_COMPARE && (s->caught_up || s->pulling))
		return AM_OK;
	if (s->pulling) {
		s->again = true;
		return AM_OK;
	}
	return open_round(s);
}

int
sync_on_hello(struct am_sync *s, const struct am_sync_msg *m)
{
	bool same = false, asked;
	int rc = am_store_read_begin(s->store);
	if (rc != AM_OK)
		return rc;
	rc = on_hello(s, m, &same);
	am_store_read_end(s->store);
	/* summaries equal: a comparison that showed nothing new; the guard
	 * lifts where the evidence we hold allows (a fetch needs a round) */
	if (rc == AM_OK && same)
		rc = settle_own(s, false, true, &asked);
	return rc;
}

/* ---- tasks ---- */

static bool
same_feed(const struct task *t, const uint8_t *circle, const uint8_t *author)
{
	return memcmp(t->circle, circle, AM_HASH_BYTES) == 0 &&
		memcmp(t->author, author, AM_ID_BYTES) == 0;
}

/* Adds a task, or raises the target of the same waiting one. The task in
 * flight is left alone: a FEED task keeps going while the peer has more. */
static int
add_task(struct am_sync *s, enum task_kind kind,
	const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t author[static AM_ID_BYTES], uint64_t seq)
{
	for (size_t i = s->inflight ? 1 : 0; i < s->ntasks; i++) {
		struct task *t = &s->tasks[s->task_head + i];
		if (t->kind == kind && same_feed(t, circle, author) &&
		    (kind != TASK_AT || t->seq == seq)) {
			if (seq > t->seq)
				t->seq = seq;
			return AM_OK;
		}
	}
	if (s->ntasks >= TASKS_MAX) {
		/* the next round asks again */
		s->round_retry++;
		return AM_OK;
	}
	if (s->task_head + s->ntasks == s->task_cap) {
		if (s->task_head > 0) {
			memmove(s->tasks, s->tasks + s->task_head,
				s->ntasks * sizeof *s->tasks);
			s->task_head = 0;
		} else {
			size_t cap = s->task_cap ? 2 * s->task_cap : 32;
			void *p = realloc(s->tasks, cap * sizeof *s->tasks);
			if (p == NULL)
				return AM_ERR_NOMEM;
			s->tasks = p;
			s->task_cap = cap;
		}
	}
	struct task *t = &s->tasks[s->task_head + s->ntasks++];
	t->kind = kind;
	memcpy(t->circle, circle, AM_HASH_BYTES);
	memcpy(t->author, author, AM_ID_BYTES);
	t->seq = seq;
	return AM_OK;
}

static void
pop_task(struct am_sync *s)
{
	s->inflight = false;
	if (s->ntasks > 0) {
		s->task_head++;
		s->ntasks--;
	}
	if (s->ntasks == 0)
		s->task_head = 0;
}

static int
end_round(struct am_sync *s)
{
	if (!s->pulling || s->awaiting_done || s->ntasks > 0 || s->inflight)
		return AM_OK;
	/* our own feed: what signed evidence names and we lack, asked of
	 * this peer once per round; the guard lifts where nothing is */
	bool asked;
	int rc = settle_own(s, !s->own_asked, s->own_asked, &asked);
	s->own_asked = true;
	if (rc != AM_OK)
		return rc;
	if (asked)
		return pump(s);
	s->pulling = false;
	/* entries refused only because others had not arrived yet: ask again
	 * while each round brings something new */
	if ((s->round_retry > 0 && s->round_new > 0) || s->again) {
		s->again = false;
		return open_round(s);
	}
	s->caught_up = true;
	sync_event(s, AM_SYNC_EV_CAUGHT_UP, AM_OK, NULL, NULL, 0, s->round_new,
		"caught up with the peer (%llu new entries in the last round)",
		(unsigned long long)s->round_new);
	/* our side of the comparison is done; the peer's may not be: we
	 * hold the same record only once its summary is ours too, which it
	 * says in answer to this */
	return sync_send_hello(s, AM_SYNC_HELLO_TELL);
}

/* Asks for the batch after the one in flight of the first task, when it
 * is a feed task whose target lies beyond. */
static int
send_ahead(struct am_sync *s)
{
	if (!s->inflight || s->ahead || s->drop || s->ntasks == 0 ||
	    s->inflight_type != AM_SYNC_WANT)
		return AM_OK;
	struct task *t = &s->tasks[s->task_head];
	uint64_t next = s->inflight_from + s->inflight_max;
	if (t->kind != TASK_FEED || s->inflight_max < AM_SYNC_MAX_ITEMS ||
	    next > t->seq)
		return AM_OK;
	struct am_sync_msg m = { .type = AM_SYNC_WANT, .from = next,
		.max = t->seq - next + 1 };
	if (m.max > AM_SYNC_MAX_ITEMS)
		m.max = AM_SYNC_MAX_ITEMS;
	memcpy(m.circle, t->circle, AM_HASH_BYTES);
	memcpy(m.author, t->author, AM_ID_BYTES);
	int rc = sync_queue(s, &m);
	if (rc != AM_OK)
		return rc;
	s->ahead = true;
	s->ahead_from = m.from;
	s->ahead_max = m.max;
	return AM_OK;
}

void
sync_pull_abandon(struct am_sync *s)
{
	if (!s->ahead)
		return;
	const struct task *t = &s->tasks[s->task_head];
	s->ahead = false;
	s->drop = true;
	memcpy(s->drop_circle, t->circle, AM_HASH_BYTES);
	memcpy(s->drop_author, t->author, AM_ID_BYTES);
	s->drop_from = s->ahead_from;
}

/* Sends the request of the first task, skipping tasks already done. */
static int
pump(struct am_sync *s)
{
	while (!s->inflight && s->ntasks > 0) {
		struct task *t = &s->tasks[s->task_head];
		struct am_sync_msg m = { .type = AM_SYNC_WANT };
		uint8_t hash[AM_HASH_BYTES];
		uint64_t head;
		int rc;

		memcpy(m.circle, t->circle, AM_HASH_BYTES);
		memcpy(m.author, t->author, AM_ID_BYTES);
		if (t->kind == TASK_FEED) {
			rc = am_store_head(s->store, t->circle, t->author, &head, hash);
			if (rc != AM_OK)
				return rc;
			if (head >= t->seq) {
				pop_task(s);
				continue;
			}
			m.from = head + 1;
			m.max = t->seq - head;
			if (m.max > AM_SYNC_MAX_ITEMS)
				m.max = AM_SYNC_MAX_ITEMS;
		} else if (t->kind == TASK_AT) {
			m.from = t->seq;
			m.max = 1;
		} else {
			m.type = AM_SYNC_WANT_FORKS;
		}
		if ((rc = sync_queue(s, &m)) != AM_OK)
			return rc;
		s->inflight = true;
		s->inflight_type = m.type;
		s->inflight_from = m.from;
		s->inflight_max = m.max;
	}
	int rc = send_ahead(s);
	return rc != AM_OK ? rc : end_round(s);
}

/* ---- what the peer shows and sends ---- */

/* Our entry's hash at seq of a feed; *found false when we hold none. */
struct at_ctx {
	uint8_t hash[AM_HASH_BYTES];
	bool found;
};

static int
hash_at(void *ctx, const uint8_t *raw, size_t len)
{
	struct at_ctx *c = ctx;
	am_hash(raw, len, c->hash);
	c->found = true;
	return AM_OK;
}

static int
on_head(struct am_sync *s, const uint8_t *circle, const struct am_sync_head *h)
{
	uint8_t hash[AM_HASH_BYTES], forks[AM_HASH_BYTES];
	uint64_t seq;
	bool has_forks;
	char a[9], c[9];
	int rc;

	if ((rc = am_store_head(s->store, circle, h->author, &seq, hash)) != AM_OK)
		return rc;
	if (h->seq > seq) {
		rc = add_task(s, TASK_FEED, circle, h->author, h->seq);
	} else if (h->seq == seq) {
		if (memcmp(hash, h->hash, AM_HASH_BYTES) != 0)
			rc = add_task(s, TASK_AT, circle, h->author, h->seq);
	} else {
		struct at_ctx at = { .found = false };
		sync_short(h->author, a);
		sync_short(circle, c);
		/* never a reason to drop anything: noted, and the peer pulls */
		sync_event(s, AM_SYNC_EV_SHORTER_HEAD, AM_OK, circle, h->author,
			h->seq, seq, "peer shows %llu entries of feed %s in circle "
			"%s where we hold %llu", (unsigned long long)h->seq, a, c,
			(unsigned long long)seq);
		rc = am_store_range(s->store, circle, h->author, h->seq, h->seq,
			hash_at, &at);
		if (rc == AM_OK && at.found &&
		    memcmp(at.hash, h->hash, AM_HASH_BYTES) != 0)
			rc = add_task(s, TASK_AT, circle, h->author, h->seq);
	}
	if (rc != AM_OK || !h->has_forks)
		return rc;
	if ((rc = sync_fork_hash(s, circle, h->author, &has_forks, forks)) != AM_OK)
		return rc;
	if (!has_forks || memcmp(forks, h->forks, AM_HASH_BYTES) != 0)
		rc = add_task(s, TASK_FORKS, circle, h->author, 0);
	return rc;
}

static int
refuse_circle(struct am_sync *s, uint32_t type, const uint8_t *circle, int rc)
{
	char c[9];
	if (rc != AM_ERR_NOT_SHARED)
		return rc;
	sync_short(circle, c);
	sync_event(s, AM_SYNC_EV_DENIED, rc, circle, NULL, 0, 0,
		"peer is not in circle %s, or we are not", c);
	sync_queue_error(s, rc, type, "circle %s is not shared with you", c);
	return rc;
}

int
sync_on_heads(struct am_sync *s, const struct am_sync_msg *m)
{
	bool ours = false, proposed;
	int rc = sync_may_receive(s, m->circle);
	for (uint32_t i = 0; i < m->n && s->restored; i++)
		ours |= memcmp(m->heads[i].author, s->self, AM_ID_BYTES) == 0;
	if (rc == AM_OK)
		rc = sync_door(s, m->circle, ours, &proposed);
	if (rc != AM_OK)
		return refuse_circle(s, m->type, m->circle, rc);
	for (uint32_t i = 0; i < m->n; i++) {
		if ((rc = on_head(s, m->circle, &m->heads[i])) != AM_OK)
			return rc;
	}
	/* the list is the peer's whole copy of the circle */
	struct circle_model *cm = sync_model(s, m->circle, true);
	if (cm != NULL) {
		cm->nfeeds = 0;
		cm->complete = m->n < AM_SYNC_MAX_ITEMS;
		for (uint32_t i = 0; i < m->n; i++)
			if ((rc = sync_model_note(s, m->circle, m->heads[i].author,
			    m->heads[i].seq, true)) != AM_OK)
				return rc;
	}
	/* never a lift here: HEADS is the peer's word, not signed evidence */
	return pump(s);
}

int
sync_on_done(struct am_sync *s)
{
	/* DONEs come in the order of the DIGESTS they answer */
	if (s->query && s->query_ahead == 0) {
		s->query = false;
		sync_event(s, AM_SYNC_EV_ANSWERED, AM_OK, NULL, NULL, 0, 0,
			"the peer showed its heads");
		return AM_OK;
	}
	if (s->query)
		s->query_ahead--;
	if (!s->awaiting_done) {
		if (!s->stale_done)
			return AM_ERR_UNSOLICITED;
		s->stale_done = false;
		return AM_OK;
	}
	s->awaiting_done = false;
	return pump(s);
}

/* Errors that are ours (the store, memory) rather than the peer's. */
bool
sync_local_failure(int rc)
{
	switch (rc) {
	case AM_ERR_NOMEM:
	case AM_ERR_IO:
	case AM_ERR_DB:
	case AM_ERR_DB_BUSY:
	case AM_ERR_DB_FULL:
	case AM_ERR_DB_SCHEMA:
	case AM_ERR_DB_CORRUPT:
		return true;
	default:
		return false;
	}
}

/* Is rc a refusal that a later round may overcome (the entry before it,
 * or its circle's genesis, arrives)? */
static bool
retryable(int rc)
{
	return rc == AM_ERR_NO_GENESIS || rc == AM_ERR_GAP;
}

/*
 * May a restored node take run m of a circle it holds nothing of
 * (sync_door's ours)? A node restored from a key backup holds none of the
 * circles it was in: it takes a circle whose GENESIS it signed, and one
 * where the peer showed a feed of its own in HEADS (it wrote there, so it
 * was in it). Only a restored node asks: any other holds the circles it
 * created and learns of those it is proposed to from a preview.
 */
static bool
own_run(struct am_sync *s, const struct am_sync_msg *m)
{
	struct am_entry e;
	if (!s->restored)
		return false;
	if (memcmp(m->author, s->self, AM_ID_BYTES) == 0 && m->n > 0 &&
	    am_entry_decode(m->raw[0], m->len[0], &e) == AM_OK &&
	    e.kind == AM_KIND_GENESIS)
		return true;
	const struct circle_model *cm = sync_model(s, m->circle, false);
	for (size_t i = 0; cm != NULL && i < cm->nfeeds; i++)
		if (memcmp(cm->feeds[i].author, s->self, AM_ID_BYTES) == 0 &&
		    cm->feeds[i].seq > 0)
			return true;
	return false;
}

/*
 * The peer served entries of our own feed (run m, after it was stored as
 * far as it could be). When its newest one is signed by us and numbered
 * beyond our head, another copy of this identity wrote it: we stop writing
 * into the circle until we hold it (am_store_own_seen), say so, and fetch.
 */
static int
own_served(struct am_sync *s, const struct am_sync_msg *m)
{
	struct am_entry e;
	uint8_t hash[AM_HASH_BYTES];
	uint64_t head;
	char c[9];

	if (m->n == 0 ||
	    am_entry_decode(m->raw[m->n - 1], m->len[m->n - 1], &e) != AM_OK ||
	    memcmp(e.circle, m->circle, AM_HASH_BYTES) != 0 ||
	    memcmp(e.author, s->self, AM_ID_BYTES) != 0 ||
	    am_entry_verify(&e) != AM_OK)
		return AM_OK;
	int rc = am_store_head(s->store, m->circle, s->self, &head, hash);
	if (rc != AM_OK || e.seq <= head)
		return rc;
	uint64_t before = am_store_own_seen_get(s->store, m->circle, s->self);
	if ((rc = am_store_own_seen(s->store, m->circle, s->self, e.seq)) != AM_OK)
		return rc;
	if (e.seq > before) {
		sync_short(m->circle, c);
		sync_event(s, AM_SYNC_EV_OWN_BEHIND, AM_ERR_OWN_BEHIND, m->circle,
			s->self, e.seq, head, "the peer served entry %llu of our own "
			"feed in circle %s, which this node lacks (it holds %llu): "
			"another copy of this identity wrote it; no writing there "
			"until it is fetched", (unsigned long long)e.seq, c,
			(unsigned long long)head);
	}
	return add_task(s, TASK_FEED, m->circle, s->self, e.seq);
}

/* Stores a run of the peer's entries; reports what happened. *stored
 * receives the count of new entries, *last the number of the last entry
 * looked at. */
static int
take_run(struct am_sync *s, const struct am_sync_msg *m, uint64_t first,
	int *refused, uint64_t *stored)
{
	enum am_ingest_result result[AM_SYNC_MAX_ITEMS];
	size_t done;
	uint64_t forks = 0;
	char a[9], c[9];
	int rc;

	*stored = 0;
	int rc2;
	const char *why = NULL;
	bool proposed;
	/* the door, before anything is stored: a circle this node is not in,
	 * nor proposed to, nor created, is refused whole */
	rc = sync_door(s, m->circle, own_run(s, m), &proposed);
	if (rc == AM_OK) {
		rc = am_store_ingest_batch(s->store, m->raw, m->len, m->n, result,
			&done);
	} else {
		why = "a circle this node is not in";
		done = 0;
	}
	sync_short(m->author, a);
	sync_short(m->circle, c);
	if (sync_local_failure(rc))
		return rc;      /* the store failed: not the peer's doing */
	if (proposed && done > 0) {
		int drc = sync_door_passed(s, m->circle);
		if (drc != AM_OK)
			return drc;
	}
	for (size_t i = 0; i < done; i++) {
		*stored += result[i] == AM_INGEST_NEW;
		forks += result[i] == AM_INGEST_FORK;
	}
	s->stats.entries_in += *stored;
	s->changed |= *stored > 0;
	if (*stored > 0)
		sync_event(s, AM_SYNC_EV_STORED, AM_OK, m->circle, m->author, first,
			*stored, "stored %llu entries of feed %s in circle %s",
			(unsigned long long)*stored, a, c);
	if (forks > 0)
		sync_event(s, AM_SYNC_EV_FORK, AM_ERR_FORK, m->circle, m->author,
			first, forks, "fork evidence: feed %s in circle %s has two "
			"entries at one number", a, c);
	if (memcmp(m->author, s->self, AM_ID_BYTES) == 0 &&
	    (rc2 = own_served(s, m)) != AM_OK)
		return rc2;
	*refused = rc;
	if (rc != AM_OK) {
		s->stats.refused += m->n - done;
		sync_event(s, AM_SYNC_EV_REFUSED, rc, m->circle, m->author,
			first + done, m->n - done, "refused entry %llu of feed %s in "
			"circle %s: %s", (unsigned long long)(first + done), a, c,
			why != NULL ? why : am_strerror(rc));
		if (retryable(rc))
			s->round_retry++;
	}
	return sync_model_note(s, m->circle, m->author, first + m->n - 1, false);
}

/* The first entry of a run must be of the feed the message names. */
static int
check_first(const struct am_sync_msg *m, uint64_t *first)
{
	struct am_entry e;
	int rc = am_entry_decode(m->raw[0], m->len[0], &e);
	if (rc != AM_OK)
		return rc;
	if (memcmp(e.circle, m->circle, AM_HASH_BYTES) != 0 ||
	    memcmp(e.author, m->author, AM_ID_BYTES) != 0)
		return AM_ERR_BATCH;
	*first = e.seq;
	return AM_OK;
}

/* Is m the late answer to the request abandoned by am_sync_recheck()? */
static bool
stale_answer(struct am_sync *s, const struct am_sync_msg *m, uint32_t asked)
{
	uint64_t first = 0;
	if (!s->stale || s->stale_type != asked ||
	    memcmp(s->stale_circle, m->circle, AM_HASH_BYTES) != 0 ||
	    memcmp(s->stale_author, m->author, AM_ID_BYTES) != 0)
		return false;
	if (asked == AM_SYNC_WANT && m->n > 0 &&
	    (check_first(m, &first) != AM_OK || first != s->stale_from))
		return false;
	s->stale = false;
	return true;
}

int
sync_on_entries(struct am_sync *s, const struct am_sync_msg *m)
{
	struct task *t;
	uint64_t first, stored;
	int refused, rc;

	if (s->drop && memcmp(s->drop_circle, m->circle, AM_HASH_BYTES) == 0 &&
	    memcmp(s->drop_author, m->author, AM_ID_BYTES) == 0 &&
	    (m->n == 0 || (check_first(m, &first) == AM_OK && first == s->drop_from))) {
		/* the answer to a batch asked ahead and no longer needed */
		s->drop = false;
		return pump(s);
	}
	if (!s->inflight || s->inflight_type != AM_SYNC_WANT ||
	    !same_feed(t = &s->tasks[s->task_head], m->circle, m->author))
		return stale_answer(s, m, AM_SYNC_WANT) ? AM_OK : AM_ERR_UNSOLICITED;
	rc = m->n > s->inflight_max ? AM_ERR_UNSOLICITED : AM_OK;
	if (rc == AM_OK && m->n > 0 && (rc = check_first(m, &first)) == AM_OK &&
	    first != s->inflight_from)
		rc = AM_ERR_BATCH;
	if (rc != AM_OK || m->n == 0) {
		/* the answer to this request is this message, good or not: a
		 * bad one is refused, an empty one says the peer has no more */
		sync_pull_abandon(s);
		pop_task(s);
		int prc = pump(s);
		return rc != AM_OK ? rc : prc;
	}
	s->inflight = false;
	/* while more batches of this feed follow, their commits need not
	 * wait for the disk: the last one's does, and that makes them all
	 * durable (am_store_defer_sync) */
	bool more = t->kind == TASK_FEED && m->n == s->inflight_max &&
		first + m->n - 1 < t->seq;
	am_store_defer_sync(s->store, more);
	rc = take_run(s, m, first, &refused, &stored);
	am_store_defer_sync(s->store, false);
	if (rc == AM_OK && (!more || refused != AM_OK))
		rc = am_store_sync(s->store);
	if (rc != AM_OK)
		return rc;
	s->round_new += stored;
	if (refused == AM_ERR_CHAIN && t->kind == TASK_FEED && first > 1) {
		/* the peer's feed went another way before our head: fetch its
		 * entry at our head as evidence */
		uint64_t at = first - 1;
		uint8_t circle[AM_HASH_BYTES], author[AM_ID_BYTES];
		memcpy(circle, t->circle, AM_HASH_BYTES);
		memcpy(author, t->author, AM_ID_BYTES);
		sync_pull_abandon(s);
		pop_task(s);
		if ((rc = add_task(s, TASK_AT, circle, author, at)) != AM_OK)
			return rc;
	} else if (refused != AM_OK || t->kind != TASK_FEED ||
	    m->n < s->inflight_max) {
		sync_pull_abandon(s);
		pop_task(s);
	} else if (s->ahead) {
		/* the batch asked ahead is now the one awaited */
		s->ahead = false;
		s->inflight = true;
		s->inflight_from = s->ahead_from;
		s->inflight_max = s->ahead_max;
	}
	return pump(s);
}

int
sync_on_push(struct am_sync *s, const struct am_sync_msg *m)
{
	struct am_sync_msg ack = { .type = AM_SYNC_ACK };
	uint8_t hash[AM_HASH_BYTES];
	uint64_t first, stored;
	bool proposed;
	int refused, rc = sync_may_receive(s, m->circle);

	if (rc == AM_OK)
		rc = sync_door(s, m->circle, own_run(s, m), &proposed);
	if (rc != AM_OK) {
		s->stats.refused += m->n;
		return refuse_circle(s, m->type, m->circle, rc);
	}
	if ((rc = check_first(m, &first)) != AM_OK)
		return rc;
	if ((rc = take_run(s, m, first, &refused, &stored)) != AM_OK)
		return rc;
	if (refused == AM_ERR_GAP || refused == AM_ERR_CHAIN ||
	    refused == AM_ERR_NO_GENESIS) {
		/* we were further behind than the peer thought (or lack the
		 * circle's genesis): pull, in a round that is
		 * asked again while it brings something new */
		rc = add_task(s, TASK_FEED, m->circle, m->author, first + m->n - 1);
		if (rc != AM_OK)
			return rc;
	}
	memcpy(ack.circle, m->circle, AM_HASH_BYTES);
	memcpy(ack.author, m->author, AM_ID_BYTES);
	/* what an ACK acknowledges is on disk */
	if ((rc = am_store_sync(s->store)) == AM_OK)
		rc = am_store_head(s->store, m->circle, m->author, &ack.seq, hash);
	if (rc != AM_OK || (rc = sync_queue(s, &ack)) != AM_OK)
		return rc;
	return pump(s);
}

int
sync_on_ack(struct am_sync *s, const struct am_sync_msg *m)
{
	if (s->pushes_unacked > 0)
		s->pushes_unacked--;
	else if (s->stale_acks > 0)
		s->stale_acks--;
	else
		return AM_ERR_UNSOLICITED;
	int rc = sync_model_note(s, m->circle, m->author, m->seq, true);
	if (rc == AM_OK && s->push_blocked) {
		s->push_blocked = false;
		rc = sync_announce(s);
	}
	return rc;
}

int
sync_on_forks(struct am_sync *s, const struct am_sync_msg *m)
{
	char a[9], c[9];
	uint64_t kept = 0;

	if (!s->inflight || s->inflight_type != AM_SYNC_WANT_FORKS ||
	    !same_feed(&s->tasks[s->task_head], m->circle, m->author))
		return stale_answer(s, m, AM_SYNC_WANT_FORKS) ? AM_OK :
			AM_ERR_UNSOLICITED;
	pop_task(s);
	sync_short(m->author, a);
	sync_short(m->circle, c);
	for (uint32_t i = 0; i < m->n; i++) {
		enum am_ingest_result r;
		struct am_entry e;
		/* evidence stands alone: each one is verified by the store */
		int rc = am_entry_decode(m->raw[i], m->len[i], &e);
		if (rc == AM_OK && (memcmp(e.circle, m->circle, AM_HASH_BYTES) != 0 ||
		    memcmp(e.author, m->author, AM_ID_BYTES) != 0))
			rc = AM_ERR_BATCH;
		if (rc == AM_OK)
			rc = am_store_ingest(s->store, m->raw[i], m->len[i], &r);
		if (rc == AM_OK) {
			kept += r == AM_INGEST_FORK;
			s->stats.entries_in += r == AM_INGEST_NEW;
			continue;
		}
		if (sync_local_failure(rc))
			return rc;
		s->stats.refused++;
		sync_event(s, AM_SYNC_EV_REFUSED, rc, m->circle, m->author, 0, 1,
			"refused fork evidence of feed %s in circle %s: %s", a, c,
			am_strerror(rc));
	}
	s->changed |= kept > 0;
	if (kept > 0)
		sync_event(s, AM_SYNC_EV_FORK, AM_ERR_FORK, m->circle, m->author, 0,
			kept, "fork evidence: feed %s in circle %s has two entries "
			"at one number", a, c);
	return pump(s);
}

int
sync_on_error(struct am_sync *s, const struct am_sync_msg *m)
{
	char text[AM_SYNC_MAX_TEXT + 1];
	size_t n = 0;

	s->stats.errors_in++;
	/* only printable ASCII of the peer's text reaches a log line */
	for (size_t i = 0; i < m->text.n && n < AM_SYNC_MAX_TEXT; i++) {
		char ch = m->text.p[i];
		text[n++] = ch >= 0x20 && ch < 0x7f ? ch : '?';
	}
	text[n] = '\0';
	sync_event(s, AM_SYNC_EV_PEER_ERROR, (int)m->code, NULL, NULL, m->about,
		0, "peer refused a message of ours (type %llu): %s",
		(unsigned long long)m->about, text);
	if (s->drop && m->about == AM_SYNC_WANT) {
		/* refused, the batch asked ahead that we no longer need */
		s->drop = false;
		return pump(s);
	}
	if (s->inflight && m->about == s->inflight_type) {
		/* that request will not be answered (nor, if it was refused,
		 * the one asked ahead of it: that refusal is still to come) */
		sync_pull_abandon(s);
		pop_task(s);
		return pump(s);
	}
	if (m->about == AM_SYNC_PUSH && s->pushes_unacked > 0)
		s->pushes_unacked--;
	if (m->about == AM_SYNC_DIGESTS && m->code != AM_ERR_NOT_SHARED &&
	    s->query) {
		/* refusals come in order too: the first ones are the rounds' */
		if (s->query_ahead == 0) {
			s->query = false;
			sync_event(s, AM_SYNC_EV_ANSWERED, (int)m->code, NULL, NULL,
				0, 0, "the peer did not show its heads: %s", text);
			return AM_OK;
		}
		s->query_ahead--;
	}
	if (m->about == AM_SYNC_DIGESTS && s->awaiting_done &&
	    m->code != AM_ERR_NOT_SHARED) {
		/* our round will get no DONE */
		s->awaiting_done = false;
		return pump(s);
	}
	return AM_OK;
}

