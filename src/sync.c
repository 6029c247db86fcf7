/*
 * A sync session with one peer: its life, its queues of messages and
 * events, who may see which circle, and the dispatch of each message from
 * the peer to the half that handles it: sync_pull.c pulls what we lack,
 * sync_serve.c answers the peer and pushes; sync_msg.c is the wire format
 * (protocol/sync.md). Nothing here blocks, sleeps or reads a clock:
 * messages in, messages and store writes out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "amends/peer.h"
#include "amends/state.h"
#include "sync_impl.h"

/* ---- plumbing ---- */

void
sync_short(const uint8_t *key, char out[9])
{
	char hex[2 * AM_HASH_BYTES + 1];
	am_hex(key, AM_HASH_BYTES, hex);
	memcpy(out, hex, 8);
	out[8] = '\0';
}

int
sync_queue_raw(struct am_sync *s, uint8_t *buf, size_t len)
{
	struct out_msg *o = malloc(sizeof *o);
	if (o == NULL) {
		free(buf);
		return AM_ERR_NOMEM;
	}
	/* the encoder's buffer starts at 8 KiB: a queue of small messages
	 * would hold a hundred times what out_bytes counts */
	uint8_t *fit = realloc(buf, len > 0 ? len : 1);
	if (fit != NULL)
		buf = fit;
	o->next = NULL;
	o->buf = buf;
	o->len = len;
	if (s->out_tail != NULL)
		s->out_tail->next = o;
	else
		s->out_head = o;
	s->out_tail = o;
	s->out_bytes += len;
	return AM_OK;
}

int
sync_queue(struct am_sync *s, const struct am_sync_msg *m)
{
	uint8_t *buf;
	size_t len;
	int rc = am_sync_msg_encode(m, &buf, &len);
	if (rc != AM_OK)
		return rc;
	return sync_queue_raw(s, buf, len);
}

void
sync_queue_error(struct am_sync *s, int code, uint32_t about,
	const char *fmt, ...)
{
	struct am_sync_msg m = { .type = AM_SYNC_ERROR };
	char text[AM_SYNC_MAX_TEXT + 1];
	va_list ap;

	/* a peer that provokes errors without reading them gets no more */
	if (s->out_bytes > OUT_MAX_BYTES)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	m.code = (uint64_t)code;
	m.about = about;
	m.text = am_str_c(text);
	(void)sync_queue(s, &m);
}

void
sync_event(struct am_sync *s, enum am_sync_event_kind kind, int rc,
	const uint8_t *circle, const uint8_t *author, uint64_t seq,
	uint64_t count, const char *fmt, ...)
{
	struct am_sync_event *ev;
	va_list ap;

	if (s->nev == EVENTS_MAX) {
		s->ev_head = (s->ev_head + 1) % EVENTS_MAX;
		s->nev--;
		s->stats.events_dropped++;
	}
	ev = &s->events[(s->ev_head + s->nev++) % EVENTS_MAX];
	memset(ev, 0, sizeof *ev);
	ev->kind = kind;
	ev->rc = rc;
	ev->has_feed = circle != NULL;
	if (circle != NULL)
		memcpy(ev->circle, circle, AM_HASH_BYTES);
	if (author != NULL)
		memcpy(ev->author, author, AM_ID_BYTES);
	ev->seq = seq;
	ev->count = count;
	va_start(ap, fmt);
	vsnprintf(ev->text, sizeof ev->text, fmt, ap);
	va_end(ap);
}

bool
am_sync_next_event(struct am_sync *s, struct am_sync_event *ev)
{
	if (s->nev == 0)
		return false;
	*ev = s->events[s->ev_head];
	s->ev_head = (s->ev_head + 1) % EVENTS_MAX;
	s->nev--;
	return true;
}

void
am_sync_stats(const struct am_sync *s, struct am_sync_stats *out)
{
	*out = s->stats;
}

const uint8_t *
am_sync_peer(const struct am_sync *s)
{
	return s->peer;
}

/* ---- membership ---- */

/* A key a succession replaced still reads the circle until its new key
 * has connected to this node: its node learns from us that the
 * succession took effect, and only then takes the new key
 * (protocol/sync.md, "Key rotation"). It is never read from: what it
 * signs past the succession's head counts nowhere. */
static bool
replaced_waits(struct am_store *store, const struct am_member *m)
{
	struct am_peer row;
	if (m->status != AM_MEMBER_DEPARTED ||
	    m->departure_kind != AM_KIND_SUCCESSION)
		return false;
	return am_peer_get(store, m->heir, &row) != AM_OK || row.last_seen == 0;
}

/* Is id listed among the members of circle by our copy: joined (witnesses
 * included), or also pending when pending is set? A member who left or
 * was removed is neither: from the moment our copy holds their LEAVE or
 * the effective REMOVE, we serve them nothing and take nothing from them
 * (protocol/sync.md, "Departed members"). */
static int
state_listed(struct am_store *store, const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t id[static AM_ID_BYTES], bool pending)
{
	struct am_member *list;
	size_t n;
	int rc;

	if ((rc = am_state_members(store, circle, &list, &n)) != AM_OK)
		return rc;
	rc = AM_ERR_NOT_SHARED;
	for (size_t i = 0; i < n; i++)
		if (memcmp(list[i].id, id, AM_ID_BYTES) == 0 &&
		    (list[i].status == AM_MEMBER_JOINED ||
		    (pending && list[i].status == AM_MEMBER_PENDING) ||
		    (!pending && replaced_waits(store, &list[i]))))
			rc = AM_OK;
	free(list);
	return rc;
}

/* The default membership test: the joined members of the circle by the
 * state module, witnesses included. A person who is only proposed reads
 * nothing of the feeds: the preview of the invite exchange is theirs
 * (protocol/sync.md, "Who reads a circle"). */
static int
state_may_read(void *ctx, struct am_store *store,
	const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t id[static AM_ID_BYTES])
{
	(void)ctx;
	return state_listed(store, circle, id, false);
}

int
sync_shared(struct am_sync *s, const uint8_t circle[static AM_HASH_BYTES])
{
	int rc = s->access.may_read(s->access.ctx, s->store, circle, s->peer);
	if (rc != AM_OK)
		return rc;
	rc = s->access.may_read(s->access.ctx, s->store, circle, s->self);
	/* we left: the members our copy still lists learn it only from us,
	 * so we go on offering them the circle (our LEAVE with it); each
	 * stops reading it from us once it holds the LEAVE. Someone removed
	 * offers nothing: the removal took effect where it was accepted */
	if (rc == AM_ERR_NOT_SHARED && s->access.may_read == state_may_read) {
		bool left = false;
		int lrc = am_store_feed_has_kind(s->store, circle, s->self,
			AM_KIND_LEAVE, &left);
		if (lrc != AM_OK)
			return lrc;
		if (left)
			rc = AM_OK;
	}
	return rc;
}

bool
sync_holds_circle(struct am_sync *s, const uint8_t circle[static AM_HASH_BYTES])
{
	bool held;
	if (s->access.may_read != state_may_read)
		return sync_shared(s, circle) != AM_ERR_NOT_FOUND;
	/* a store error: the usual rules decide */
	return am_state_holds_circle(s->store, circle, &held) != AM_OK || held;
}

/* May the peer tell us about circle and send us its entries? Yes when it
 * is listed by our copy, joined or pending (a newcomer's own answers, or a
 * member our copy does not see joined yet, are still entries of the
 * circle, checked by the store one by one), and when we hold no GENESIS
 * of it: then the door (sync_door) decides. */
int
sync_may_receive(struct am_sync *s, const uint8_t circle[static AM_HASH_BYTES])
{
	int rc = s->access.may_read == state_may_read ?
		state_listed(s->store, circle, s->peer, true) :
		s->access.may_receive != NULL ?
		s->access.may_receive(s->access.ctx, s->store, circle, s->peer) :
		s->access.may_read(s->access.ctx, s->store, circle, s->peer);
	return rc == AM_ERR_NOT_FOUND ? AM_OK : rc;
}

int
sync_door(struct am_sync *s, const uint8_t circle[static AM_HASH_BYTES],
	bool ours, bool *proposed)
{
	uint8_t proposer[AM_ID_BYTES];
	int rc = s->access.may_read(s->access.ctx, s->store, circle, s->self);

	*proposed = false;
	if (rc == AM_OK)
		return AM_OK;           /* a joined member, or its creator */
	/* a circle we hold whose copy names us in a proposal not refused,
	 * withdrawn or not (one withdrawn may still complete), or as the
	 * new key of a succession: we hold it as the one proposed */
	if (rc == AM_ERR_NOT_SHARED && s->access.may_read == state_may_read) {
		bool named = false;
		rc = am_state_named(s->store, circle, s->self, &named);
		if (rc == AM_OK && !named)
			rc = AM_ERR_NOT_SHARED;
	}
	if (rc != AM_OK && rc != AM_ERR_NOT_SHARED && rc != AM_ERR_NOT_FOUND)
		return rc;
	/* not joined yet: a proposed_to row, if any, goes once we are */
	int prc = am_store_proposed_get(s->store, circle, proposer, NULL, NULL);
	if (prc != AM_OK && prc != AM_ERR_NOT_FOUND)
		return prc;
	*proposed = prc == AM_OK;
	if (rc == AM_OK || prc == AM_OK)
		return AM_OK;
	/* entries that are ours: a restored node fetching the circles it
	 * was in, before its copy shows it joined */
	if (ours)
		return AM_OK;
	return AM_ERR_NOT_SHARED;
}

int
sync_door_passed(struct am_sync *s, const uint8_t circle[static AM_HASH_BYTES])
{
	int rc = s->access.may_read(s->access.ctx, s->store, circle, s->self);
	if (rc == AM_ERR_NOT_SHARED || rc == AM_ERR_NOT_FOUND)
		return AM_OK;           /* not joined yet: the row stays */
	if (rc != AM_OK)
		return rc;
	return am_store_proposed_remove(s->store, circle);
}

struct circles_ctx {
	uint8_t (*list)[AM_HASH_BYTES];
	size_t n, cap;
};

static int
add_circle(void *ctx, const uint8_t circle[static AM_HASH_BYTES])
{
	struct circles_ctx *c = ctx;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		void *p = realloc(c->list, cap * sizeof *c->list);
		if (p == NULL)
			return AM_ERR_NOMEM;
		c->list = p;
		c->cap = cap;
	}
	memcpy(c->list[c->n++], circle, AM_HASH_BYTES);
	return AM_OK;
}

int
sync_circles(struct am_sync *s, uint8_t (**out)[AM_HASH_BYTES], size_t *n)
{
	struct circles_ctx c = { NULL, 0, 0 };
	int rc = am_store_circles(s->store, add_circle, &c);
	if (rc != AM_OK) {
		free(c.list);
		return rc;
	}
	*out = c.list;
	*n = c.n;
	return AM_OK;
}

/* ---- session ---- */

struct am_sync *
am_sync_new(struct am_store *store, const uint8_t self[static AM_ID_BYTES],
	const uint8_t peer[static AM_ID_BYTES])
{
	struct am_sync *s = calloc(1, sizeof *s);
	if (s == NULL)
		return NULL;
	if ((s->in = malloc(sizeof *s->in)) == NULL) {
		free(s);
		return NULL;
	}
	s->store = store;
	memcpy(s->self, self, AM_ID_BYTES);
	memcpy(s->peer, peer, AM_ID_BYTES);
	s->access.may_read = state_may_read;
	char *restored = am_store_setting_get(store, AM_SETTING_RESTORED);
	s->restored = restored != NULL;
	free(restored);
	return s;
}

void
am_sync_destroy(struct am_sync **sp)
{
	struct am_sync *s = *sp;
	if (s == NULL)
		return;
	while (s->out_head != NULL) {
		struct out_msg *o = s->out_head;
		s->out_head = o->next;
		free(o->buf);
		free(o);
	}
	for (size_t i = 0; i < s->nmodels; i++)
		free(s->models[i].feeds);
	free(s->models);
	free(s->tasks);
	free(s->listed);
	free(s->in);
	free(s);
	*sp = NULL;
}

void
am_sync_set_access(struct am_sync *s, const struct am_sync_access *access)
{
	s->access = *access;
}

bool
am_sync_idle(const struct am_sync *s)
{
	return s->out_head == NULL && s->nserved == 0 && !s->inflight &&
		s->ntasks == 0 && !s->pulling && s->pushes_unacked == 0 &&
		s->caught_up;
}

/* The summary of HELLO over the circles shared with the peer, in circle
 * order (protocol/sync.md, "Summary"). */
int
sync_summary(struct am_sync *s, uint8_t out[static AM_HASH_BYTES], uint64_t *count)
{
	static const char tag[] = "amends-sync-summary-v1";
	crypto_generichash_state st;
	uint8_t (*circles)[AM_HASH_BYTES];
	size_t n;
	int rc;

	if ((rc = sync_circles(s, &circles, &n)) != AM_OK)
		return rc;
	crypto_generichash_init(&st, NULL, 0, AM_HASH_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)tag, sizeof tag - 1);
	*count = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t digest[AM_HASH_BYTES];
		rc = sync_shared(s, circles[i]);
		if (rc == AM_ERR_NOT_SHARED || rc == AM_ERR_NOT_FOUND)
			continue;
		if (rc != AM_OK ||
		    (rc = am_store_digest(s->store, circles[i], digest)) != AM_OK)
			goto out;
		crypto_generichash_update(&st, circles[i], AM_HASH_BYTES);
		crypto_generichash_update(&st, digest, AM_HASH_BYTES);
		(*count)++;
	}
	crypto_generichash_final(&st, out, AM_HASH_BYTES);
	rc = AM_OK;
out:
	free(circles);
	return rc;
}

int
sync_send_summary(struct am_sync *s, uint32_t kind,
	const uint8_t summary[static AM_HASH_BYTES], uint64_t count)
{
	struct am_sync_msg m = { .type = AM_SYNC_HELLO, .hello = kind,
		.ncircles = count };
	memcpy(m.summary, summary, AM_HASH_BYTES);
	int rc = sync_queue(s, &m);
	if (rc == AM_OK)
		s->changed = false;     /* the peer will know our record */
	return rc;
}

int
sync_send_hello(struct am_sync *s, uint32_t kind)
{
	uint8_t summary[AM_HASH_BYTES];
	uint64_t count;
	int rc = sync_summary(s, summary, &count);
	return rc == AM_OK ? sync_send_summary(s, kind, summary, count) : rc;
}

int
am_sync_start(struct am_sync *s)
{
	return sync_send_hello(s, AM_SYNC_HELLO_COMPARE);
}

int
am_sync_tell(struct am_sync *s)
{
	/* a round tells when it ends */
	if (!s->changed || s->pulling)
		return AM_OK;
	return sync_send_hello(s, AM_SYNC_HELLO_TELL);
}

int
am_sync_ask_heads(struct am_sync *s)
{
	struct am_sync_msg *m;
	int rc;

	if (s->query)
		return AM_ERR_AGAIN;
	if ((m = calloc(1, sizeof *m)) == NULL)
		return AM_ERR_NOMEM;
	/* no circle named: the peer shows the heads of every one it shares */
	m->type = AM_SYNC_DIGESTS;
	m->final = true;
	rc = sync_queue(s, m);
	free(m);
	if (rc != AM_OK)
		return rc;
	s->query = true;
	s->query_ahead = (s->awaiting_done ? 1u : 0u) + (s->stale_done ? 1u : 0u);
	return AM_OK;
}

int
am_sync_recheck(struct am_sync *s)
{
	if (s->inflight) {
		const struct task *t = &s->tasks[s->task_head];
		s->stale = true;
		s->stale_type = s->inflight_type;
		memcpy(s->stale_circle, t->circle, AM_HASH_BYTES);
		memcpy(s->stale_author, t->author, AM_ID_BYTES);
		s->stale_from = s->inflight_from;
		sync_pull_abandon(s);
	}
	s->stale_done |= s->awaiting_done;
	s->stale_acks += s->pushes_unacked;
	s->inflight = false;
	s->ntasks = 0;
	s->task_head = 0;
	s->pulling = false;
	s->awaiting_done = false;
	s->again = false;
	s->caught_up = false;
	s->pushes_unacked = 0;
	s->push_blocked = false;
	/* what the peer was told may not have reached it */
	for (size_t i = 0; i < s->nmodels; i++)
		s->models[i].announced = false;
	return sync_send_hello(s, AM_SYNC_HELLO_COMPARE);
}

static int
dispatch(struct am_sync *s, const struct am_sync_msg *m)
{
	switch (m->type) {
	case AM_SYNC_HELLO: return sync_on_hello(s, m);
	case AM_SYNC_DIGESTS: return sync_on_digests(s, m);
	case AM_SYNC_HEADS: return sync_on_heads(s, m);
	case AM_SYNC_DONE: return sync_on_done(s);
	case AM_SYNC_WANT:
	case AM_SYNC_WANT_FORKS: return sync_on_request(s, m);
	case AM_SYNC_ENTRIES: return sync_on_entries(s, m);
	case AM_SYNC_PUSH: return sync_on_push(s, m);
	case AM_SYNC_ACK: return sync_on_ack(s, m);
	case AM_SYNC_FORKS: return sync_on_forks(s, m);
	case AM_SYNC_ERROR: return sync_on_error(s, m);
	}
	return AM_ERR_MSG_TYPE;
}

int
am_sync_receive(struct am_sync *s, const uint8_t *msg, size_t len)
{
	int rc;

	s->stats.bytes_in += len;
	s->stats.msgs_in++;
	rc = am_sync_msg_decode(msg, len, s->in);
	/* a peer that sends without reading our answers gets nothing more
	 * taken until it reads, so that what we queue for it stays bounded
	 * (an ERROR or an ACK queues nothing, and may free our window) */
	if (rc == AM_OK && s->out_bytes > OUT_MAX_BYTES &&
	    s->in->type != AM_SYNC_ERROR && s->in->type != AM_SYNC_ACK)
		rc = AM_ERR_FLOW;
	if (rc == AM_OK)
		rc = dispatch(s, s->in);
	if (rc == AM_OK || sync_local_failure(rc))
		return rc;
	if (rc == AM_ERR_NOT_SHARED)
		return rc;      /* refused and answered already */
	s->stats.faults++;
	sync_event(s, AM_SYNC_EV_BAD_MESSAGE, rc, NULL, NULL, s->in->type, len,
		"refused a message from the peer (type %u, %zu bytes): %s",
		(unsigned)s->in->type, len, am_strerror(rc));
	if (s->in->type != AM_SYNC_ERROR)
		sync_queue_error(s, rc, s->in->type, "%s", am_strerror(rc));
	return rc;
}

int
am_sync_next_out(struct am_sync *s, uint8_t **msg, size_t *len)
{
	struct out_msg *o = s->out_head;
	int rc;

	*msg = NULL;
	*len = 0;
	if (o == NULL) {
		if ((rc = sync_answer(s, msg, len)) != AM_OK || *msg == NULL)
			return rc;
	} else {
		s->out_head = o->next;
		if (s->out_head == NULL)
			s->out_tail = NULL;
		s->out_bytes -= o->len;
		*msg = o->buf;
		*len = o->len;
		free(o);
	}
	s->stats.bytes_out += *len;
	s->stats.msgs_out++;
	return AM_OK;
}

int
am_sync_local_changed(struct am_sync *s)
{
	s->changed = true;
	return sync_announce(s);
}
