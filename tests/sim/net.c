/*
 * The simulated network: one connection per pair of nodes, each direction
 * a queue of messages ordered by delivery time, and the sync sessions at
 * both ends. Sending takes a session's next message only while the
 * direction is under its high-water mark; delivering hands the bytes to
 * the receiving session, as the node's transport does. Faults (resets,
 * partitions, and with --lossy drops, copies and reordering) are decided
 * here or in world.c, always from the run's PRNG; see sim.h for the model.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amends/state.h"
#include "sim.h"

/* Per mille of messages dropped, copied and reordered with --lossy. */
#define LOSSY_DROP 15
#define LOSSY_COPY 15
#define LOSSY_REORDER 40

struct sim_link *
sim_link_of(struct sim *s, int i, int j)
{
	for (int k = 0; k < s->nlinks; k++) {
		struct sim_link *l = &s->link[k];
		if ((l->a == i && l->b == j) || (l->a == j && l->b == i))
			return l;
	}
	return NULL;
}

static bool
crosses(const struct sim *s, const struct sim_link *l)
{
	return s->side != 0 &&
		((s->side >> l->a) & 1u) != ((s->side >> l->b) & 1u);
}

bool
sim_link_possible(const struct sim *s, const struct sim_link *l)
{
	if (s->node[l->a].store == NULL || s->node[l->b].store == NULL)
		return false;
	return !(crosses(s, l) && !s->stall);
}

bool
sim_link_stalled(const struct sim *s, const struct sim_link *l)
{
	return crosses(s, l) && s->stall;
}

void
sim_dir_clear(struct sim *s, struct sim_dir *d, bool count)
{
	while (d->head != NULL) {
		struct sim_msg *m = d->head;
		d->head = m->next;
		if (count)
			s->stats.lost++;
		free(m->buf);
		free(m);
	}
	d->n = 0;
	d->last_at = 0;
}

/*
 * --successions: who reads a circle, as the default test says (its joined
 * members, witnesses included), where a node's transport key stands for
 * the person: the node is a reader while its first key or its new key
 * (node.heir, which a SUCCESSION may have put in the first one's place)
 * is joined. A node whose own feed (of either key) left the circle still
 * offers it, as sync does by default; a node takes a circle where
 * either key is pending, as the default door does for a node proposed
 * (a new key waiting for the last accept of its succession); and it
 * takes entries from a peer either of whose keys is joined or pending,
 * as the default does (a newcomer's own answers). The session knows the node by its first key only,
 * as the real node knows its peers by the key they connect with.
 */
static int
person_listed(void *ctx, struct am_store *store,
	const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t id[static AM_ID_BYTES], bool receive)
{
	struct sim *s = ctx;
	struct am_member *m = NULL;
	size_t nm = 0;
	int j = 0;

	while (j < s->nnodes && memcmp(s->node[j].pub, id, AM_ID_BYTES) != 0)
		j++;
	int rc = am_state_members(store, circle, &m, &nm);
	if (rc != AM_OK)
		return rc;
	rc = AM_ERR_NOT_SHARED;
	bool self = j < s->nnodes && s->node[j].store == store;
	for (size_t k = 0; k < nm; k++)
		if ((m[k].status == AM_MEMBER_JOINED ||
		    ((self || receive) && m[k].status == AM_MEMBER_PENDING)) &&
		    (memcmp(m[k].id, id, AM_ID_BYTES) == 0 || (j < s->nnodes &&
		    memcmp(m[k].id, s->node[j].heir, AM_ID_BYTES) == 0)))
			rc = AM_OK;
	free(m);
	if (rc == AM_ERR_NOT_SHARED && self) {
		bool left = false, heir_left = false;
		int lrc = am_store_feed_has_kind(store, circle, id, AM_KIND_LEAVE,
			&left);
		if (lrc == AM_OK)
			lrc = am_store_feed_has_kind(store, circle, s->node[j].heir,
				AM_KIND_LEAVE, &heir_left);
		if (lrc != AM_OK)
			return lrc;
		if (left || heir_left)
			rc = AM_OK;
	}
	return rc;
}

static int
person_may_read(void *ctx, struct am_store *store,
	const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t id[static AM_ID_BYTES])
{
	return person_listed(ctx, store, circle, id, false);
}

/* Entries are taken from a peer whose key, either one, is joined or
 * pending, as the default test takes them (a newcomer's own answers). */
static int
person_may_receive(void *ctx, struct am_store *store,
	const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t id[static AM_ID_BYTES])
{
	return person_listed(ctx, store, circle, id, true);
}

static struct am_sync *
session_new(struct sim *s, int self, int peer)
{
	struct am_sync *x = am_sync_new(s->node[self].store, s->node[self].pub,
		s->node[peer].pub);
	if (x != NULL && s->opt.successions) {
		struct am_sync_access a = { .may_read = person_may_read,
			.may_receive = person_may_receive, .ctx = s };
		am_sync_set_access(x, &a);
	}
	return x;
}

void
sim_link_connect(struct sim *s, struct sim_link *l)
{
	static const unsigned hwms[] = { 1, 2, 4, 16, 64 };
	int ends[2] = { l->a, l->b };

	l->up = true;
	l->connect_at = 0;
	l->paired = true;
	l->fault_at = s->now;
	l->hwm = hwms[rng_below(&s->rng, sizeof hwms / sizeof hwms[0])];
	l->latency = rng_range(&s->rng, 1, 30);
	s->stats.connects++;
	for (int k = 0; k < 2; k++) {
		l->gen[k]++;
		l->mute[k] = false;
		l->renew_at[k] = 0;
		/* the two nodes never start their sessions at the same instant */
		l->recheck_at[k] = s->now + SIM_RECHECK_MS + rng_range(&s->rng, 0, 2000);
		l->s[k] = session_new(s, ends[k], ends[1 - k]);
		if (l->s[k] == NULL) {
			sim_violation(s, "node %d could not start a session: out of "
				"memory", ends[k]);
			continue;
		}
		int rc = am_sync_start(l->s[k]);
		if (rc != AM_OK)
			sim_violation(s, "node %d could not start a session with "
				"node %d: %s", ends[k], ends[1 - k], am_strerror(rc));
	}
	sim_trace(s, "connect %d-%d (window %u, latency %lld ms)", l->a, l->b,
		l->hwm, (long long)l->latency);
}

void
sim_link_break(struct sim *s, struct sim_link *l, const char *why)
{
	if (!l->up)
		return;
	sim_trace(s, "disconnect %d-%d (%s; %zu+%zu messages lost)", l->a, l->b,
		why, l->dir[0].n, l->dir[1].n);
	for (int k = 0; k < 2; k++) {
		am_sync_destroy(&l->s[k]);
		sim_dir_clear(s, &l->dir[k], true);
		l->mute[k] = false;
		l->renew_at[k] = 0;
	}
	l->up = false;
	l->connect_at = 0;
	l->fault_at = s->now;
}

void
sim_link_half_break(struct sim *s, struct sim_link *l, int k)
{
	sim_trace(s, "half reset %d-%d: the path of node %d's messages breaks "
		"(%zu lost)", l->a, l->b, k == 0 ? l->a : l->b, l->dir[k].n);
	sim_dir_clear(s, &l->dir[k], true);
	l->paired = false;
	l->fault_at = s->now;
	l->mute[k] = true;
	/* the side whose path broke hears of it first; the other may take
	 * as long as a heartbeat */
	l->renew_at[k] = s->now + rng_range(&s->rng, 1, 300);
	if (l->renew_at[1 - k] == 0)
		l->renew_at[1 - k] = s->now + rng_range(&s->rng, 1, 3000);
}

void
sim_link_renew(struct sim *s, struct sim_link *l, int k)
{
	int self = k == 0 ? l->a : l->b, peer = k == 0 ? l->b : l->a;
	am_sync_destroy(&l->s[k]);
	l->gen[k]++;
	l->mute[k] = false;
	l->renew_at[k] = 0;
	l->recheck_at[k] = s->now + SIM_RECHECK_MS;
	l->fault_at = s->now;
	l->s[k] = session_new(s, self, peer);
	if (l->s[k] == NULL) {
		sim_violation(s, "node %d could not start a session: out of memory",
			self);
		return;
	}
	int rc = am_sync_start(l->s[k]);
	if (rc != AM_OK)
		sim_violation(s, "node %d could not start a session with node %d: "
			"%s", self, peer, am_strerror(rc));
	sim_trace(s, "node %d starts a fresh session with node %d", self, peer);
}

/* Inserts m into d by (at, order). */
static void
insert(struct sim_dir *d, struct sim_msg *m)
{
	struct sim_msg **p = &d->head;
	while (*p != NULL && ((*p)->at < m->at ||
	    ((*p)->at == m->at && (*p)->order < m->order)))
		p = &(*p)->next;
	m->next = *p;
	*p = m;
	d->n++;
	if (m->at > d->last_at)
		d->last_at = m->at;
}

static struct sim_msg *
message(struct sim *s, int64_t at, uint8_t *buf, size_t len)
{
	struct sim_msg *m = malloc(sizeof *m);
	if (m == NULL) {
		free(buf);
		return NULL;
	}
	m->at = at;
	m->order = s->order++;
	m->buf = buf;
	m->len = len;
	m->next = NULL;
	return m;
}

/* Puts a message on its way; takes buf. */
static void
send_msg(struct sim *s, struct sim_link *l, int k, uint8_t *buf, size_t len)
{
	struct sim_dir *d = &l->dir[k];
	int64_t at = s->now + l->latency + rng_range(&s->rng, 0, 20);
	bool fifo = true;

	if (l->mute[k]) {
		/* sent on the path that broke, before the node noticed */
		s->stats.lost++;
		free(buf);
		return;
	}
	/* now and then a stall of seconds, as a retransmission would cause */
	if (rng_chance(&s->rng, 20))
		at += rng_range(&s->rng, 200, 3000);
	if (s->opt.lossy && !s->healing) {
		if (rng_chance(&s->rng, LOSSY_DROP)) {
			s->stats.dropped++;
			free(buf);
			return;
		}
		if (rng_chance(&s->rng, LOSSY_COPY)) {
			uint8_t *copy = malloc(len);
			struct sim_msg *m;
			if (copy != NULL) {
				memcpy(copy, buf, len);
				m = message(s, at + rng_range(&s->rng, 0, 50), copy, len);
				if (m != NULL) {
					m->gen_from = l->gen[k];
					m->gen_to = l->gen[1 - k];
					insert(d, m);
					s->stats.duplicated++;
				}
			}
		}
		if (rng_chance(&s->rng, LOSSY_REORDER)) {
			fifo = false;
			s->stats.reordered++;
		}
	}
	if (fifo && at < d->last_at)
		at = d->last_at;
	struct sim_msg *m = message(s, at, buf, len);
	if (m == NULL) {
		sim_violation(s, "out of memory queueing a message");
		return;
	}
	m->gen_from = l->gen[k];
	m->gen_to = l->gen[1 - k];
	insert(d, m);
}

void
sim_net_flush(struct sim *s)
{
	for (int i = 0; i < s->nlinks; i++) {
		struct sim_link *l = &s->link[i];
		for (int k = 0; k < 2 && l->up; k++) {
			while (l->s[k] != NULL && l->dir[k].n < l->hwm) {
				uint8_t *buf;
				size_t len;
				int rc = am_sync_next_out(l->s[k], &buf, &len);
				if (rc != AM_OK) {
					sim_violation(s, "node %d could not produce its "
						"next message for node %d: %s",
						k == 0 ? l->a : l->b, k == 0 ? l->b : l->a,
						am_strerror(rc));
					break;
				}
				if (buf == NULL)
					break;
				send_msg(s, l, k, buf, len);
			}
		}
	}
}

bool
sim_net_next(struct sim *s, int *link, int *dir, int64_t *at)
{
	const struct sim_msg *best = NULL;
	for (int i = 0; i < s->nlinks; i++) {
		const struct sim_link *l = &s->link[i];
		if (!l->up || sim_link_stalled(s, l))
			continue;
		for (int k = 0; k < 2; k++) {
			const struct sim_msg *m = l->dir[k].head;
			if (m == NULL)
				continue;
			if (best == NULL || m->at < best->at ||
			    (m->at == best->at && m->order < best->order)) {
				best = m;
				*link = i;
				*dir = k;
			}
		}
	}
	if (best != NULL)
		*at = best->at;
	return best != NULL;
}

bool
sim_net_empty(const struct sim *s)
{
	for (int i = 0; i < s->nlinks; i++)
		if (s->link[i].dir[0].n > 0 || s->link[i].dir[1].n > 0)
			return false;
	return true;
}

/* Errors that are the receiving node's own (its store, its memory). */
static bool
local_failure(int rc)
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

/* Reads the session's events as the node's log would. */
static void
drain_events(struct sim *s, struct am_sync *sync, int self, int peer)
{
	struct am_sync_event ev;
	while (am_sync_next_event(sync, &ev)) {
		switch (ev.kind) {
		case AM_SYNC_EV_STORED:
			s->stats.stored += ev.count;
			s->node[self].dirty = true;
			break;
		case AM_SYNC_EV_FORK:
			s->node[self].dirty = true;
			break;
		default:
			break;
		}
		sim_trace(s, "  node %d, from %d: %s", self, peer, ev.text);
	}
}

void
sim_net_deliver(struct sim *s, int link, int dir)
{
	struct sim_link *l = &s->link[link];
	struct sim_dir *d = &l->dir[dir];
	struct sim_msg *m = d->head;
	int to = dir == 0 ? l->b : l->a, from = dir == 0 ? l->a : l->b;
	struct am_sync *sync = l->s[1 - dir];

	d->head = m->next;
	d->n--;
	if (d->head == NULL)
		d->last_at = 0;
	s->stats.msgs++;
	s->stats.bytes += m->len;
	if (sync != NULL) {
		int type = m->len >= 3 ? m->buf[2] : -1;
		sim_reach_arm(s, to, type);
		int rc = am_sync_receive(sync, m->buf, m->len);
		sim_reach_disarm(s, to);
		sim_trace(s, "deliver %d->%d: type %d, %zu bytes: %s", from, to,
			type, m->len, rc == AM_OK ? "taken" : am_strerror(rc));
		if (rc != AM_OK) {
			s->stats.rejected++;
			if (local_failure(rc))
				sim_violation(s, "node %d failed taking a message from "
					"node %d: %s", to, from, am_strerror(rc));
			else if (!s->opt.lossy && rc != AM_ERR_NOT_SHARED &&
			    l->paired && m->gen_from == l->gen[dir] &&
			    m->gen_to == l->gen[1 - dir])
				sim_violation(s, "node %d refused a message from honest "
					"node %d on a reliable connection: %s", to, from,
					am_strerror(rc));
		}
		drain_events(s, sync, to, from);
	}
	free(m->buf);
	free(m);
}
