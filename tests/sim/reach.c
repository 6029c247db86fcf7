/*
 * The push invariant ("reach"): a write reaches every connected member
 * within a bounded simulated time, by push, without waiting for the next
 * comparison of records (protocol/sync.md, "Writing while comparing").
 *
 * When node w commits an entry of circle C at simulated time `at`, it owes
 * the entry to each node j such that, at `at`:
 *   - w and j each count both w and j as joined members of C (their last
 *     settled views), so both sides share C;
 *   - their connection is up, no half reset is pending on it (both
 *     sessions are live and heard), and no partition holds its messages;
 *   - neither side's next recheck (am_sync_recheck, which would deliver the
 *     entry anyway and hide a lost push) comes within REACH_MIN_MS.
 * The debt is due at the earlier of at + REACH_MS and the first of those
 * rechecks. It is checked just before the event at or after that moment
 * runs: j must then hold the entry, unless the connection broke, was reset,
 * renewed or partitioned since `at`, or j is down (faults excuse a debt:
 * what they lose is recovered by the next comparison, which the
 * convergence check of check.c covers). Runs with --lossy owe nothing.
 *
 * A write that lands while a node handles a message is what the push must
 * survive: with --racy, before a node takes a message, the simulator now
 * and then draws a statement number; at that statement of the handling (if
 * the node holds no write transaction then), the node's person writes one
 * ordinary entry through a second connection to the same database, as a
 * command does while the node runs. The node learns of it as the real one
 * does, from the store's change, once it has handled the message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "amends/state.h"

#include "sim.h"
#include "store_impl.h"

/* A push is due within this long of its write, ms. */
#define REACH_MS 20000
/* Debts whose recheck comes sooner than this are not counted. */
#define REACH_MIN_MS 5000
/* --racy: per mille of deliveries during which a write lands (every
 * HELLO and DIGESTS, the comparisons, where what is read decides what is
 * pushed; a few of the others); the statement it lands at is drawn below
 * RACY_STATEMENTS (a HELLO found equal over two circles reads about 30,
 * and the window between its summary and the heads it records lies among
 * them); at most RACY_MAX such writes per run. */
#define RACY_COMPARE 1000
#define RACY_OTHER 60
#define RACY_STATEMENTS 30
#define RACY_MAX 200

static bool
joined_in(const struct sim_node *n, const uint8_t circle[static 32],
	uint32_t who)
{
	for (int v = 0; v < n->nviews; v++)
		if (memcmp(n->views[v].circle, circle, AM_HASH_BYTES) == 0)
			return (n->views[v].joined & who) == who;
	return false;
}

void
sim_reach_owe(struct sim *s, struct sim_commit *c)
{
	int w = c->node;
	c->at = s->now;
	c->owed = 0;
	/* a person's new key (--successions) is nobody's view's member
	 * bit: its writes are left to the convergence check */
	if (!s->opt.invariants || s->opt.lossy ||
	    memcmp(c->author, s->node[w].pub, AM_ID_BYTES) != 0)
		return;
	for (int j = 0; j < s->nnodes; j++) {
		if (j == w)
			continue;
		struct sim_link *l = sim_link_of(s, w, j);
		uint32_t both = (1u << w) | (1u << j);
		if (!l->up || l->mute[0] || l->mute[1] || l->renew_at[0] != 0 ||
		    l->renew_at[1] != 0 || sim_link_stalled(s, l) ||
		    l->s[0] == NULL || l->s[1] == NULL ||
		    s->node[j].store == NULL ||
		    !joined_in(&s->node[w], c->circle, both) ||
		    !joined_in(&s->node[j], c->circle, both))
			continue;
		int64_t due = s->now + REACH_MS;
		for (int x = 0; x < 2; x++)
			if (l->recheck_at[x] < due)
				due = l->recheck_at[x];
		if (due - s->now < REACH_MIN_MS)
			continue;
		c->owed |= 1u << j;
		c->due[j] = due;
	}
	if (c->owed != 0)
		sim_trace(s, "  (node %d owes it by push to nodes %#x)", w,
			c->owed);
}

struct found {
	bool found;
};

static int
found_raw(void *ctx, const uint8_t *raw, size_t len)
{
	(void)raw;
	(void)len;
	((struct found *)ctx)->found = true;
	return AM_OK;
}

/* Does node i's state count node j as departed from circle (left or
 * removed)? */
static bool
departed(struct sim *s, int i, const uint8_t circle[static 32], int j)
{
	struct am_member *m = NULL;
	size_t nm = 0;
	bool gone = false;
	if (am_state_members(s->node[i].store, circle, &m, &nm) != AM_OK)
		return false;
	for (size_t k = 0; k < nm; k++)
		gone = gone || (m[k].status == AM_MEMBER_DEPARTED &&
			memcmp(m[k].id, s->node[j].pub, AM_ID_BYTES) == 0);
	free(m);
	return gone;
}

void
sim_reach_check(struct sim *s, int64_t t)
{
	for (size_t k = 0; k < s->ncommits; k++) {
		struct sim_commit *c = &s->commits[k];
		for (int j = 0; j < s->nnodes && c->owed != 0; j++) {
			if (!((c->owed >> j) & 1u) || c->due[j] > t)
				continue;
			c->owed &= ~(1u << j);
			struct sim_link *l = sim_link_of(s, c->node, j);
			if (l->fault_at >= c->at || s->node[j].store == NULL ||
			    s->node[c->node].store == NULL)
				continue;
			/* nothing is owed to or by someone who has left the
			 * circle since (state.md, "Leaving") or been removed
			 * ("Removal"; the write may be the answer that removed
			 * them, or, completing a succession, its writer):
			 * a departed member is served nothing new, and their
			 * own last entries travel by the next comparison */
			if (departed(s, c->node, c->circle, j) ||
			    departed(s, j, c->circle, c->node) ||
			    departed(s, c->node, c->circle, c->node) ||
			    am_state_may_write(s->node[c->node].store, c->circle,
			    s->node[j].pub) != AM_OK ||
			    am_state_may_write(s->node[j].store, c->circle,
			    s->node[c->node].pub) != AM_OK ||
			    am_state_may_write(s->node[c->node].store, c->circle,
			    s->node[c->node].pub) != AM_OK)
				continue;
			struct found f = { false };
			int rc = am_store_range(s->node[j].store, c->circle,
				s->node[c->node].pub, c->seq, c->seq, found_raw, &f);
			if (rc != AM_OK) {
				sim_violation(s, "node %d could not read a feed: %s", j,
					am_strerror(rc));
				continue;
			}
			s->stats.pushes_owed++;
			if (!f.found) {
				char h[9];
				am_hex(c->hash, 4, h);
				sim_break(s, SIM_INV_REACH, "node %d wrote entry %s (seq "
					"%llu) at %lld ms while connected to node %d, a "
					"member of its circle; at %lld ms, with no fault of "
					"their connection since, node %d still lacks it", c->node,
					h, (unsigned long long)c->seq, (long long)c->at, j,
					(long long)c->due[j], j);
			}
		}
	}
}

/* ---- writes that land inside a delivery ---- */

static struct {
	struct sim *s;
	int node;
	uint64_t statements;     /* statements the handling has begun */
	uint64_t at;             /* the one to write at */
	bool armed;
} racy;

static int
on_statement(unsigned type, void *ctx, void *p, void *x)
{
	(void)type;
	(void)p;
	(void)x;
	sqlite3 *db = ctx;
	if (!racy.armed || racy.statements++ < racy.at)
		return 0;
	/* a command waits while the node writes: land at a later statement */
	if (sqlite3_txn_state(db, NULL) == SQLITE_TXN_WRITE)
		return 0;
	racy.armed = false;
	struct sim *s = racy.s;
	struct sim_node *n = &s->node[racy.node];
	struct am_store *mine = n->store;
	uint64_t before = s->stats.entries;
	n->store = n->other;
	sim_work_on(s, racy.node);
	n->store = mine;
	if (s->stats.entries != before) {
		s->stats.racy_writes++;
		sim_trace(s, "  (node %d's write above landed at statement %llu "
			"of its handling a message)", racy.node,
			(unsigned long long)racy.at);
	}
	return 0;
}

int
sim_reach_other(struct sim *s, int i, bool close)
{
	struct sim_node *n = &s->node[i];
	if (close) {
		am_store_close(&n->other);
		return AM_OK;
	}
	if (!s->opt.racy || n->other != NULL)
		return AM_OK;
	return am_store_open(n->path, &n->other);
}

void
sim_reach_arm(struct sim *s, int i, int type)
{
	bool compare = type == AM_SYNC_HELLO || type == AM_SYNC_DIGESTS;
	if (!s->opt.racy || s->healing || s->stats.racy_writes >= RACY_MAX ||
	    !rng_chance(&s->rng, compare ? RACY_COMPARE : RACY_OTHER))
		return;
	uint64_t at = rng_below(&s->rng, RACY_STATEMENTS);
	int rc = sim_reach_other(s, i, false);
	if (rc != AM_OK) {
		sim_violation(s, "node %d could not open a second connection: %s",
			i, am_strerror(rc));
		return;
	}
	sqlite3 *db = am_store_sqlite(s->node[i].store);
	racy.s = s;
	racy.node = i;
	racy.statements = 0;
	racy.at = at;
	racy.armed = true;
	sqlite3_trace_v2(db, SQLITE_TRACE_STMT, on_statement, db);
}

void
sim_reach_disarm(struct sim *s, int i)
{
	if (racy.s != s || racy.node != i || s->node[i].store == NULL)
		return;
	sqlite3_trace_v2(am_store_sqlite(s->node[i].store), 0, NULL, NULL);
	racy.s = NULL;
	racy.armed = false;
}
