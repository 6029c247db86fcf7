/*
 * One simulated run: the nodes, the event loop on the simulated clock, and
 * the faults of processes and of the network as a whole (crashes,
 * restarts, resets, partitions). Each step takes the earliest pending
 * event (a restart, the end of a partition, a reconnect, a delivery, the
 * next operation), runs it, then lets every node act as the real node
 * would: a node whose store changed re-reads its circles' members and
 * offers the change to its sessions, connections that became possible
 * are scheduled, and what sessions have to send is put on the wire.
 * Ties between events fall in a fixed order, so a seed replays exactly.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "amends/state.h"
#include "sim.h"

#define HEAL_STEPS_MAX 400000        /* steps to reach quiescence */
#define HEAL_TIME_MAX (30 * 60 * INT64_C(1000))    /* simulated ms */
#define VIOLATIONS_SHOWN 20

enum event {
	EV_NONE,
	EV_RESTART,
	EV_HEAL,
	EV_CONNECT,
	EV_RENEW,
	EV_RECHECK,
	EV_DELIVER,
	EV_OP,
};

void
sim_violation(struct sim *s, const char *fmt, ...)
{
	va_list ap;
	if (++s->violations > VIOLATIONS_SHOWN)
		return;
	printf("VIOLATION seed %llu at %lld ms: ",
		(unsigned long long)s->opt.seed, (long long)s->now);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

void
sim_trace(struct sim *s, const char *fmt, ...)
{
	va_list ap;
	if (!s->opt.verbose)
		return;
	printf("%9.3f ", (double)s->now / 1000.0);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* ---- nodes ---- */

int64_t
sim_clock(const struct sim *s, int i)
{
	return SIM_EPOCH_MS + s->now + s->node[i].skew;
}

int
sim_node_refresh(struct sim *s, int i)
{
	struct sim_node *n = &s->node[i];
	struct am_circle_info *c = NULL;
	size_t nc = 0;
	int rc = am_state_circles(n->store, n->pub, &c, &nc);
	if (rc != AM_OK)
		return rc;
	/* like the node's peer list: every member, joined or pending, of
	 * every circle we are in; known peers are never forgotten */
	for (size_t k = 0; k < nc && rc == AM_OK; k++) {
		struct am_member *m = NULL;
		size_t nm = 0;
		if ((rc = am_state_members(n->store, c[k].id, &m, &nm)) != AM_OK)
			break;
		for (size_t x = 0; x < nm; x++)
			for (int j = 0; j < s->nnodes; j++)
				if (j != i && memcmp(m[x].id, s->node[j].pub, AM_ID_BYTES) == 0)
					n->knows |= 1u << j;
		free(m);
	}
	am_state_circles_free(&c, nc);
	return rc;
}

/* A member who has joined stays a member (protocol/state.md,
 * "Membership") until they leave or are removed: whatever else node i
 * learns, nobody it has seen joined may leave its view of a circle but as
 * departed by their own LEAVE or by a REMOVE (that the REMOVE took effect
 * by the rules is inv.c's removal invariant), nobody departed may be
 * joined again, and nobody it has seen joined with the role member may
 * become a witness. That every node agrees on when someone departed (the
 * LEAVE or REMOVE) is in the state digest, which the digest invariant
 * compares, and check.c compares the departures themselves at the end. */
static void
watch_members(struct sim *s, int i)
{
	struct sim_node *n = &s->node[i];
	struct am_circle_info *c = NULL;
	size_t nc = 0;
	int rc = am_state_circles(n->store, NULL, &c, &nc);
	for (size_t k = 0; k < nc && rc == AM_OK; k++) {
		struct am_member *m = NULL;
		size_t nm = 0;
		uint32_t joined = 0, members = 0, departed = 0, own = 0, removed = 0;
		uint32_t replaced = 0;
		if ((rc = am_state_members(n->store, c[k].id, &m, &nm)) != AM_OK)
			break;
		for (size_t x = 0; x < nm; x++)
			for (int j = 0; j < s->nnodes; j++) {
				if (memcmp(m[x].id, s->node[j].pub, AM_ID_BYTES) != 0)
					continue;
				if (m[x].status == AM_MEMBER_DEPARTED) {
					departed |= 1u << j;
					/* their own LEAVE, or a REMOVE that took
					 * effect (inv.c's removal invariant checks
					 * it from the entries) */
					if ((m[x].departure_kind == AM_KIND_LEAVE &&
					    memcmp(m[x].departed_by, m[x].id, AM_ID_BYTES) == 0) ||
					    m[x].departure_kind == AM_KIND_REMOVE ||
					    m[x].departure_kind == AM_KIND_SUCCESSION)
						own |= 1u << j;
					if (m[x].departure_kind == AM_KIND_REMOVE)
						removed |= 1u << j;
					if (m[x].departure_kind == AM_KIND_SUCCESSION)
						replaced |= 1u << j;
				}
				if (m[x].status == AM_MEMBER_JOINED) {
					joined |= 1u << j;
					if (m[x].role == AM_ROLE_MEMBER)
						members |= 1u << j;
				}
			}
		free(m);
		int v = 0;
		while (v < n->nviews && memcmp(n->views[v].circle, c[k].id,
		    AM_HASH_BYTES) != 0)
			v++;
		if (v == n->nviews) {
			if (v == (int)(sizeof n->views / sizeof n->views[0]))
				continue;
			memcpy(n->views[v].circle, c[k].id, AM_HASH_BYTES);
			n->views[v].joined = n->views[v].members = 0;
			n->views[v].departed = n->views[v].replaced = 0;
			n->nviews++;
		}
		uint32_t fresh = departed & ~n->views[v].departed;
		for (int j = 0; j < s->nnodes; j++)
			if ((fresh >> j) & 1u) {
				char hex[9];
				am_hex(c[k].id, 4, hex);
				sim_trace(s, "node %d: node %d departed from circle %s "
					"(%s)", i, j, hex, (replaced >> j) & 1u ?
					"replaced by a new key" : (own >> j) & 1u &&
					!((removed >> j) & 1u) ? "left" : "removed");
			}
		uint32_t raised = members & n->views[v].joined & ~n->views[v].members;
		for (int j = 0; j < s->nnodes; j++)
			if ((raised >> j) & 1u) {
				char hex[9];
				am_hex(c[k].id, 4, hex);
				sim_trace(s, "node %d: node %d, a witness of circle %s, "
					"is now a member", i, j, hex);
			}
		uint32_t lost = n->views[v].joined & ~joined & ~own;
		uint32_t back = n->views[v].departed & ~departed;
		uint32_t demoted = n->views[v].members & ~members & joined;
		for (int j = 0; j < s->nnodes; j++) {
			char hex[9];
			am_hex(c[k].id, 4, hex);
			if ((lost >> j) & 1u)
				sim_break(s, SIM_INV_MEMBERSHIP, "node %d no longer "
					"counts node %d as a joined member of circle %s, "
					"after new entries (state.md: a member who has "
					"joined stays a member)", i, j, hex);
			if ((back >> j) & 1u && (n->views[v].replaced >> j) & 1u)
				sim_break(s, SIM_INV_SUCCESSION_STAYS, "node %d no "
					"longer counts node %d as replaced in circle %s by a "
					"new key, after new entries (state.md: a member "
					"who has joined stays a member)", i, j, hex);
			else if ((back >> j) & 1u)
				sim_break(s, SIM_INV_MEMBERSHIP, "node %d no longer "
					"counts node %d as departed from circle %s, after "
					"new entries (state.md: a LEAVE is final)", i, j, hex);
			if ((demoted >> j) & 1u)
				sim_break(s, SIM_INV_MEMBERSHIP, "node %d now counts "
					"node %d, a member of circle %s, as a witness, after "
					"new entries (state.md: a role only ever rises to "
					"member)", i, j, hex);
		}
		n->views[v].joined = joined;
		n->views[v].members = members;
		n->views[v].departed = departed;
		n->views[v].replaced = replaced;
	}
	am_state_circles_free(&c, nc);
	if (rc != AM_OK)
		sim_violation(s, "node %d could not list members: %s", i,
			am_strerror(rc));
}

static void
crash(struct sim *s, int i)
{
	struct sim_node *n = &s->node[i];
	for (int k = 0; k < s->nlinks; k++) {
		struct sim_link *l = &s->link[k];
		if (l->a == i || l->b == i) {
			sim_link_break(s, l, "crash");
			l->connect_at = 0;
		}
	}
	am_store_close(&n->store);
	sim_reach_other(s, i, true);
	n->dirty = false;
	n->restart_at = s->now + rng_range(&s->rng, 200, 6000);
	s->stats.crashes++;
	sim_trace(s, "crash node %d (restarts at %.3f)", i,
		(double)n->restart_at / 1000.0);
}

/* Every entry node i wrote is still in its store, as it was written. */
struct at_ctx {
	uint8_t hash[AM_HASH_BYTES];
	bool found;
};

static int
hash_raw(void *ctx, const uint8_t *raw, size_t len)
{
	struct at_ctx *c = ctx;
	am_hash(raw, len, c->hash);
	c->found = true;
	return AM_OK;
}

void
sim_check_commits(struct sim *s, int i)
{
	struct sim_node *n = &s->node[i];
	for (size_t k = 0; k < s->ncommits; k++) {
		const struct sim_commit *c = &s->commits[k];
		struct at_ctx at = { .found = false };
		if (c->node != i)
			continue;
		int rc = am_store_range(n->store, c->circle, c->author, c->seq,
			c->seq, hash_raw, &at);
		if (rc != AM_OK) {
			sim_violation(s, "node %d could not read its own entry: %s", i,
				am_strerror(rc));
			return;
		}
		if (!at.found || memcmp(at.hash, c->hash, AM_HASH_BYTES) != 0) {
			char h[17];
			am_hex(c->hash, 8, h);
			sim_violation(s, "node %d lost its committed entry %llu (%s) "
				"after %llu crashes", i, (unsigned long long)c->seq, h,
				(unsigned long long)s->stats.crashes);
		}
	}
}

static void
restart(struct sim *s, int i)
{
	struct sim_node *n = &s->node[i];
	int rc = am_store_open(n->path, &n->store);
	n->restart_at = 0;
	if (rc != AM_OK) {
		sim_violation(s, "node %d could not reopen its store: %s", i,
			am_strerror(rc));
		/* try again later rather than stop the run */
		n->restart_at = s->now + 1000;
		return;
	}
	n->dirty = true;
	sim_trace(s, "restart node %d", i);
	sim_check_commits(s, i);
}

/* ---- faults ---- */

static void
reset_one(struct sim *s)
{
	int up[SIM_MAX_LINKS], n = 0;
	for (int k = 0; k < s->nlinks; k++)
		if (s->link[k].up)
			up[n++] = k;
	if (n == 0)
		return;
	struct sim_link *l = &s->link[up[rng_below(&s->rng, (uint64_t)n)]];
	sim_link_break(s, l, "reset");
	s->stats.resets++;
}

static void
half_reset_one(struct sim *s)
{
	int up[SIM_MAX_LINKS], n = 0;
	for (int k = 0; k < s->nlinks; k++)
		if (s->link[k].up)
			up[n++] = k;
	if (n == 0)
		return;
	struct sim_link *l = &s->link[up[rng_below(&s->rng, (uint64_t)n)]];
	sim_link_half_break(s, l, (int)rng_below(&s->rng, 2));
	s->stats.half_resets++;
}

static void
crash_one(struct sim *s)
{
	int up[SIM_MAX_NODES], n = 0;
	for (int i = 0; i < s->nnodes; i++)
		if (s->node[i].store != NULL)
			up[n++] = i;
	if (n > 0)
		crash(s, up[rng_below(&s->rng, (uint64_t)n)]);
}

static bool
crosses_side(const struct sim *s, const struct sim_link *l)
{
	return ((s->side >> l->a) & 1u) != ((s->side >> l->b) & 1u);
}

static void
partition(struct sim *s)
{
	if (s->side != 0)
		return;
	uint32_t all = (1u << s->nnodes) - 1;
	s->side = (uint32_t)rng_range(&s->rng, 1, all - 1);
	s->stall = rng_chance(&s->rng, 400);
	s->partition_end = s->now + rng_range(&s->rng, 500, 10000);
	s->stats.partitions++;
	sim_trace(s, "partition %#x | %#x (%s) until %.3f", s->side,
		all & ~s->side, s->stall ? "stalled" : "cut",
		(double)s->partition_end / 1000.0);
	for (int k = 0; k < s->nlinks; k++)
		if (crosses_side(s, &s->link[k]))
			s->link[k].fault_at = s->now;
	if (s->stall)
		return;
	for (int k = 0; k < s->nlinks; k++)
		if (!sim_link_possible(s, &s->link[k]))
			sim_link_break(s, &s->link[k], "partition");
}

/* A node's clock jumps forward or back by a minute to a few hours, as
 * a clock does when it is set by hand or by a time server after drifting,
 * staying within SIM_SKEW_MAX of the simulated time. */
static void
clock_jump(struct sim *s)
{
	int i = (int)rng_below(&s->rng, (uint64_t)s->nnodes);
	int64_t d = rng_range(&s->rng, 60 * 1000, 3 * 3600 * 1000);
	int64_t skew = s->node[i].skew + (rng_chance(&s->rng, 500) ? -d : d);
	if (skew > SIM_SKEW_MAX)
		skew = SIM_SKEW_MAX;
	if (skew < -SIM_SKEW_MAX)
		skew = -SIM_SKEW_MAX;
	sim_trace(s, "node %d's clock jumps by %+lld s to %+lld s", i,
		(long long)(skew - s->node[i].skew) / 1000, (long long)skew / 1000);
	s->node[i].skew = skew;
}

/* What happens at an operation's time: mostly work, now and then a fault. */
static void
tick(struct sim *s)
{
	if (s->opt.skew && rng_chance(&s->rng, 40)) {
		clock_jump(s);
		return;
	}
	unsigned r = (unsigned)rng_below(&s->rng, 1000);
	if (r < 25)
		crash_one(s);
	else if (r < 50)
		reset_one(s);
	else if (r < 70)
		half_reset_one(s);
	else if (r < 85)
		partition(s);
	else
		sim_work_step(s);
}

/* ---- the loop ---- */

/* What the nodes do after every event, as the real node's loop does. */
static void
settle(struct sim *s)
{
	for (int i = 0; i < s->nnodes; i++) {
		struct sim_node *n = &s->node[i];
		if (n->store == NULL || !n->dirty)
			continue;
		n->dirty = false;
		s->changed = s->now;
		/* known peers are never forgotten: once a node knows everyone,
		 * there is nothing more to learn */
		uint32_t everyone = ((1u << s->nnodes) - 1) & ~(1u << i);
		int rc = n->knows == everyone ? AM_OK : sim_node_refresh(s, i);
		if (rc != AM_OK)
			sim_violation(s, "node %d could not list its peers: %s", i,
				am_strerror(rc));
		watch_members(s, i);
		if (s->opt.invariants)
			sim_inv_check(s, i);
		for (int k = 0; k < s->nlinks; k++) {
			struct sim_link *l = &s->link[k];
			if (!l->up || (l->a != i && l->b != i))
				continue;
			struct am_sync *sync = l->s[l->a == i ? 0 : 1];
			if (sync != NULL && (rc = am_sync_local_changed(sync)) != AM_OK)
				sim_violation(s, "node %d could not offer its changes: %s",
					i, am_strerror(rc));
		}
	}
	for (int k = 0; k < s->nlinks; k++) {
		struct sim_link *l = &s->link[k];
		bool wanted = ((s->node[l->a].knows >> l->b) & 1u) ||
			((s->node[l->b].knows >> l->a) & 1u);
		if (l->up || !wanted || !sim_link_possible(s, l)) {
			if (!l->up)
				l->connect_at = 0;
			continue;
		}
		if (l->connect_at == 0)
			l->connect_at = s->now + rng_range(&s->rng, 20, 1500);
	}
	sim_net_flush(s);
}

/* Runs the earliest event; EV_NONE when nothing is pending. */
static enum event
step(struct sim *s, int64_t op_at)
{
	enum event ev = EV_NONE;
	int64_t t = INT64_MAX, at;
	int who = -1, dir = 0, link, d;

	for (int i = 0; i < s->nnodes; i++)
		if (s->node[i].store == NULL && s->node[i].restart_at < t) {
			t = s->node[i].restart_at;
			ev = EV_RESTART;
			who = i;
		}
	if (s->side != 0 && s->partition_end < t) {
		t = s->partition_end;
		ev = EV_HEAL;
	}
	for (int k = 0; k < s->nlinks; k++)
		if (!s->link[k].up && s->link[k].connect_at != 0 &&
		    s->link[k].connect_at < t) {
			t = s->link[k].connect_at;
			ev = EV_CONNECT;
			who = k;
		}
	for (int k = 0; k < s->nlinks; k++)
		for (int x = 0; x < 2; x++)
			if (s->link[k].up && s->link[k].renew_at[x] != 0 &&
			    s->link[k].renew_at[x] < t) {
				t = s->link[k].renew_at[x];
				ev = EV_RENEW;
				who = k;
				dir = x;
			}
	for (int k = 0; k < s->nlinks; k++)
		for (int x = 0; x < 2; x++)
			if (s->link[k].s[x] != NULL && s->link[k].recheck_at[x] < t) {
				t = s->link[k].recheck_at[x];
				ev = EV_RECHECK;
				who = k;
				dir = x;
			}
	if (sim_net_next(s, &link, &d, &at) && at < t) {
		t = at;
		ev = EV_DELIVER;
		who = link;
		dir = d;
	}
	if (op_at >= 0 && op_at < t) {
		t = op_at;
		ev = EV_OP;
	}
	if (ev == EV_NONE)
		return ev;
	sim_reach_check(s, t);
	if (t > s->now)
		s->now = t;
	s->stats.steps++;
	switch (ev) {
	case EV_RESTART:
		restart(s, who);
		s->changed = s->now;
		break;
	case EV_HEAL:
		sim_trace(s, "partition heals");
		s->side = 0;
		break;
	case EV_CONNECT:
		sim_link_connect(s, &s->link[who]);
		s->changed = s->now;
		break;
	case EV_RENEW:
		sim_link_renew(s, &s->link[who], dir);
		s->changed = s->now;
		break;
	case EV_RECHECK: {
		struct sim_link *l = &s->link[who];
		int rc = am_sync_recheck(l->s[dir]);
		l->recheck_at[dir] = s->now + SIM_RECHECK_MS;
		if (rc != AM_OK)
			sim_violation(s, "node %d could not compare records again: %s",
				dir == 0 ? l->a : l->b, am_strerror(rc));
		break;
	}
	case EV_DELIVER:
		sim_net_deliver(s, who, dir);
		break;
	case EV_OP:
		tick(s);
		break;
	case EV_NONE:
		break;
	}
	settle(s);
	return ev;
}

/* Nothing left to do: all up, connected where wanted, nothing in flight;
 * and either every session idle, or nothing stored anywhere for two
 * rounds of rechecks (a session that has just compared records again is
 * not idle until the peer's own HELLO comes, so with the two sides'
 * rechecks apart, some session is always waiting). */
static bool
quiescent(const struct sim *s)
{
	bool idle = true;
	int up = 0;
	for (int i = 0; i < s->nnodes; i++)
		if (s->node[i].store == NULL || s->node[i].dirty)
			return false;
	if (!sim_net_empty(s))
		return false;
	for (int k = 0; k < s->nlinks; k++) {
		const struct sim_link *l = &s->link[k];
		if (l->connect_at != 0 || l->renew_at[0] != 0 || l->renew_at[1] != 0)
			return false;
		up += l->up;
		if (l->up && (!am_sync_idle(l->s[0]) || !am_sync_idle(l->s[1])))
			idle = false;
	}
	if (up == 0)
		return true;        /* nobody shares anything: nothing to wait for */
	/* Idle sessions may still hide a difference that only the next
	 * comparison of records finds (an entry refused while its author's
	 * membership was missing, when nothing else asked again): the node
	 * compares records every minute, so convergence is promised within
	 * one recheck of the last change, and that is what is waited for. */
	return (idle && s->now - s->changed >= SIM_RECHECK_MS + 5000) ||
		s->now - s->changed >= 2 * SIM_RECHECK_MS + 5000;
}

/* Names the sessions that are not idle, and the messages in flight. */
static void
busy_sessions(struct sim *s)
{
	for (int k = 0; k < s->nlinks; k++) {
		const struct sim_link *l = &s->link[k];
		for (int x = 0; x < 2 && l->up; x++)
			if (!am_sync_idle(l->s[x]))
				printf("  node %d's session with node %d is not idle "
					"(%zu messages on their way to it)\n",
					x == 0 ? l->a : l->b, x == 0 ? l->b : l->a,
					l->dir[1 - x].n);
	}
}

static void
workload(struct sim *s)
{
	int64_t op_at = s->now + rng_range(&s->rng, 1, 400);
	while (s->stats.ops < s->opt.ops) {
		if (step(s, op_at) == EV_OP)
			op_at = s->now + rng_range(&s->rng, 1, 400);
	}
}

static void
heal(struct sim *s)
{
	uint64_t steps = 0;
	s->healing = true;
	s->side = 0;
	for (int i = 0; i < s->nnodes; i++)
		if (s->node[i].store == NULL)
			s->node[i].restart_at = s->now + rng_range(&s->rng, 1, 500);
	if (s->opt.lossy)
		for (int k = 0; k < s->nlinks; k++)
			sim_link_break(s, &s->link[k], "healing");
	settle(s);
	int64_t start = s->now;
	s->changed = s->now;
	while (!quiescent(s)) {
		if (steps++ == HEAL_STEPS_MAX || s->now - start > HEAL_TIME_MAX) {
			sim_violation(s, "no quiescence after %llu steps and %lld "
				"simulated seconds of a healed network",
				(unsigned long long)steps - 1,
				(long long)(s->now - start) / 1000);
			busy_sessions(s);
			return;
		}
		if (step(s, -1) == EV_NONE) {
			sim_violation(s, "stuck: nothing is in flight or due, yet the "
				"nodes are not quiescent");
			busy_sessions(s);
			return;
		}
	}
	sim_trace(s, "quiescent after %llu steps", (unsigned long long)steps);
	if (s->opt.verbose)
		busy_sessions(s);
}

/* ---- set-up and tear-down ---- */

static int
setup(struct sim *s)
{
	char tmpl[512];
	snprintf(tmpl, sizeof tmpl, "%s/amends-sim-XXXXXX", s->opt.tmp);
	if (mkdtemp(tmpl) == NULL) {
		fprintf(stderr, "amends-sim: cannot make a directory in %s: %s\n",
			s->opt.tmp, strerror(errno));
		return -1;
	}
	snprintf(s->dir, sizeof s->dir, "%s", tmpl);
	s->nnodes = (int)s->opt.nodes;
	s->hostile = -1;
	for (int i = 0; i < s->nnodes; i++) {
		struct sim_node *n = &s->node[i];
		uint8_t seed[AM_SEED_BYTES];
		rng_bytes(&s->rng, seed, sizeof seed);
		int rc = am_identity_from_seed(seed, &n->id);
		if (rc == AM_OK) {
			memcpy(n->pub, am_identity_public(n->id), AM_ID_BYTES);
			snprintf(n->path, sizeof n->path, "%s/node%d.db", s->dir, i);
			rc = am_store_open(n->path, &n->store);
		}
		char hex[9];
		am_hex(n->pub, 4, hex);
		sim_trace(s, "node %d is %s", i, hex);
		if (rc != AM_OK) {
			fprintf(stderr, "amends-sim: cannot set up node %d: %s\n", i,
				am_strerror(rc));
			return -1;
		}
	}
	/* drawn after the identities, so that a seed's nodes are the same
	 * people with these options or without */
	if (s->opt.hostile) {
		s->hostile = (int)rng_below(&s->rng, (uint64_t)s->nnodes);
		sim_trace(s, "node %d is hostile", s->hostile);
	}
	for (int i = 0; i < s->nnodes && s->opt.skew; i++) {
		/* a third of the clocks are right, the others off by up to
		 * SIM_SKEW_MAX */
		if (rng_chance(&s->rng, 667))
			s->node[i].skew = rng_range(&s->rng, -SIM_SKEW_MAX, SIM_SKEW_MAX);
		sim_trace(s, "node %d's clock is off by %+lld s", i,
			(long long)s->node[i].skew / 1000);
	}
	/* drawn last, so that every other draw of a seed stays as it was */
	for (int i = 0; i < s->nnodes && s->opt.successions; i++) {
		struct sim_node *n = &s->node[i];
		uint8_t seed[AM_SEED_BYTES];
		char hex[9];
		rng_bytes(&s->rng, seed, sizeof seed);
		if (am_identity_from_seed(seed, &n->heir_id) != AM_OK) {
			fprintf(stderr, "amends-sim: cannot set up node %d's new "
				"key\n", i);
			return -1;
		}
		memcpy(n->heir, am_identity_public(n->heir_id), AM_ID_BYTES);
		am_hex(n->heir, 4, hex);
		sim_trace(s, "node %d's new key is %s", i, hex);
	}
	/* in half the hostile runs, the hostile person has stolen a copy of
	 * another's first key (hostile.c, h_thief) */
	s->thief_of = -1;
	if (s->opt.successions && s->hostile >= 0 && rng_chance(&s->rng, 500)) {
		int v = (int)rng_below(&s->rng, (uint64_t)s->nnodes - 1);
		s->thief_of = v >= s->hostile ? v + 1 : v;
		sim_trace(s, "node %d holds a copy of node %d's key", s->hostile,
			s->thief_of);
	}
	for (int a = 0; a < s->nnodes; a++)
		for (int b = a + 1; b < s->nnodes; b++) {
			struct sim_link *l = &s->link[s->nlinks++];
			l->a = a;
			l->b = b;
		}
	return 0;
}

static void
remove_file(const char *path, const char *suffix)
{
	char p[700];
	snprintf(p, sizeof p, "%s%s", path, suffix);
	if (unlink(p) != 0 && errno != ENOENT)
		fprintf(stderr, "amends-sim: cannot remove %s: %s\n", p,
			strerror(errno));
}

static void
teardown(struct sim *s)
{
	for (int k = 0; k < s->nlinks; k++) {
		struct sim_link *l = &s->link[k];
		for (int x = 0; x < 2; x++) {
			am_sync_destroy(&l->s[x]);
			sim_dir_clear(s, &l->dir[x], false);
		}
	}
	for (int i = 0; i < s->nnodes; i++) {
		sim_inv_forget(s, i);
		sim_reach_other(s, i, true);
		am_store_close(&s->node[i].store);
		am_identity_destroy(&s->node[i].id);
		am_identity_destroy(&s->node[i].heir_id);
		if (s->node[i].path[0] != '\0') {
			remove_file(s->node[i].path, "");
			remove_file(s->node[i].path, "-wal");
			remove_file(s->node[i].path, "-shm");
		}
	}
	if (s->dir[0] != '\0') {
		char path[700];
		snprintf(path, sizeof path, "%s/union.db", s->dir);
		remove_file(path, "");
		remove_file(path, "-wal");
		remove_file(path, "-shm");
	}
	if (s->dir[0] != '\0' && rmdir(s->dir) != 0)
		fprintf(stderr, "amends-sim: cannot remove %s: %s\n", s->dir,
			strerror(errno));
	free(s->commits);
	free(s->entries);
}

unsigned
sim_run(const struct sim_opts *opt, struct sim_stats *stats,
	uint8_t final[static AM_HASH_BYTES], uint32_t *broken)
{
	struct sim *s = calloc(1, sizeof *s);
	unsigned v;

	if (s == NULL) {
		fprintf(stderr, "amends-sim: out of memory\n");
		return 1;
	}
	s->opt = *opt;
	rng_seed(&s->rng, opt->seed);
	if (setup(s) != 0) {
		s->violations++;
	} else {
		workload(s);
		heal(s);
		sim_check(s);
	}
	teardown(s);
	*stats = s->stats;
	memcpy(final, s->final, AM_HASH_BYTES);
	v = s->violations;
	*broken = s->broken;
	free(s);
	return v;
}
