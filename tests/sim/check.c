/*
 * What must hold at the end of every run, once the network has healed and
 * the nodes are quiescent. The yardstick is the whole record: every entry
 * any node holds, ingested into one more store (the "union"), whose state
 * says who the members of each circle finally are.
 *
 *   - every entry a node committed is still in its store, as written;
 *   - every member of a circle by the whole record (joined or pending,
 *     witnesses included) holds it, and all of them hold the same entries
 *     (equal store digests) and derive the same state (equal state
 *     digests); a node that is no member by the whole record may hold an
 *     older part, but only if some MEMBER entry ever named it: entries go
 *     only to those invited;
 *   - every honest node's store verifies in full (am_verify_store finds
 *     no problem) and holds no fork: honest nodes never sign two entries
 *     at one number (the hostile member's node, with --hostile, is held
 *     to neither); every store passes SQLite's integrity check;
 *   - each node's materialised state of each circle equals a refold from
 *     scratch (am_state_digest == am_state_refold);
 *   - any two nodes that hold the same entries of a circle (the whole
 *     record among them) show the same people departed, each by the same
 *     entry: every node agrees on who left or was removed, and when.
 *
 * It also computes the run's hash over every node's final digests and the
 * run's counters: the figure two runs of one seed must agree on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "amends/state.h"
#include "amends/verify.h"
#include "sim.h"

#define MAX_CIRCLES 64

struct circle_set {
	uint8_t id[MAX_CIRCLES][AM_HASH_BYTES];
	size_t n;
	bool full;
};

static int
add_circle(void *ctx, const uint8_t circle[static AM_HASH_BYTES])
{
	struct circle_set *c = ctx;
	for (size_t k = 0; k < c->n; k++)
		if (memcmp(c->id[k], circle, AM_HASH_BYTES) == 0)
			return AM_OK;
	if (c->n == MAX_CIRCLES) {
		c->full = true;
		return AM_OK;
	}
	/* kept sorted, so every walk over circles has one order */
	size_t at = c->n;
	while (at > 0 && memcmp(c->id[at - 1], circle, AM_HASH_BYTES) > 0)
		at--;
	memmove(c->id[at + 1], c->id[at], (c->n - at) * AM_HASH_BYTES);
	memcpy(c->id[at], circle, AM_HASH_BYTES);
	c->n++;
	return AM_OK;
}

static bool
holds(struct sim *s, int i, const uint8_t circle[static AM_HASH_BYTES])
{
	struct circle_set mine = { .n = 0 };
	if (s->node[i].store == NULL ||
	    am_store_circles(s->node[i].store, add_circle, &mine) != AM_OK)
		return false;
	for (size_t k = 0; k < mine.n; k++)
		if (memcmp(mine.id[k], circle, AM_HASH_BYTES) == 0)
			return true;
	return false;
}

static void
verify_problem(void *ctx, const struct am_verify_problem *p)
{
	struct sim *s = ctx;
	char c[9], a[9];
	am_hex(p->circle, 4, c);
	am_hex(p->author, 4, a);
	sim_violation(s, "verify: circle %s, feed %s, entry %llu: %s", c, a,
		(unsigned long long)p->seq, p->what);
}

static int
no_fork(void *ctx, const struct am_feed_head *h)
{
	int *forks = ctx;
	*forks += h->forked_at != 0;
	return AM_OK;
}

/* The checks of one node's store on its own. */
static void
check_node(struct sim *s, int i, const struct circle_set *mine)
{
	struct am_store *st = s->node[i].store;
	struct am_verify_report report;
	int rc;

	sim_check_commits(s, i);
	bool honest = i != s->hostile;
	if (honest) {
		rc = am_verify_store(st, NULL, 1, verify_problem, s, &report);
		if (rc != AM_OK)
			sim_violation(s, "node %d: verification could not run: %s", i,
				am_strerror(rc));
		else if (report.problems > 0)
			sim_violation(s, "node %d: verification found %llu problems",
				i, (unsigned long long)report.problems);
	}
	if ((rc = am_store_check(st)) != AM_OK)
		sim_violation(s, "node %d: integrity check: %s", i, am_strerror(rc));
	for (size_t k = 0; k < mine->n; k++) {
		uint8_t d[AM_HASH_BYTES], r[AM_HASH_BYTES];
		char c[9];
		int forks = 0;
		am_hex(mine->id[k], 4, c);
		if ((rc = am_state_digest(st, mine->id[k], d)) != AM_OK ||
		    (rc = am_state_refold(st, mine->id[k], r)) != AM_OK) {
			sim_violation(s, "node %d, circle %s: no state digest: %s", i,
				c, am_strerror(rc));
			continue;
		}
		if (memcmp(d, r, AM_HASH_BYTES) != 0)
			sim_violation(s, "node %d, circle %s: materialised state "
				"differs from a refold", i, c);
		if ((rc = am_store_heads(st, mine->id[k], no_fork, &forks)) != AM_OK)
			sim_violation(s, "node %d, circle %s: no heads: %s", i, c,
				am_strerror(rc));
		else if (forks > 0 && honest)
			sim_violation(s, "node %d, circle %s: %d forked feeds among "
				"honest nodes", i, c, forks);
	}
}

/* ---- the whole record ---- */

struct feed {
	uint8_t author[AM_ID_BYTES];
	uint64_t have;                   /* held by the union */
	uint64_t max;                    /* the longest any node holds */
	int holder;                      /* ... and a node that holds it */
};

struct feeds {
	struct feed f[4 * SIM_MAX_NODES];
	size_t n;
	int node;
};

static int
note_feed(void *ctx, const struct am_feed_head *h)
{
	struct feeds *fs = ctx;
	size_t k = 0;
	while (k < fs->n && memcmp(fs->f[k].author, h->author, AM_ID_BYTES) != 0)
		k++;
	if (k == fs->n) {
		if (fs->n == sizeof fs->f / sizeof fs->f[0])
			return AM_OK;
		memcpy(fs->f[k].author, h->author, AM_ID_BYTES);
		fs->f[k].have = fs->f[k].max = 0;
		fs->n++;
	}
	if (h->seq > fs->f[k].max) {
		fs->f[k].max = h->seq;
		fs->f[k].holder = fs->node;
	}
	return AM_OK;
}

int
sim_copy_raw(void *ctx, const uint8_t *raw, size_t len)
{
	struct sim_raw *c = ctx;
	if ((c->raw = malloc(len)) == NULL)
		return AM_ERR_NOMEM;
	memcpy(c->raw, raw, len);
	c->len = len;
	return AM_OK;
}

/* Copies every entry of circle any node holds into u, in passes until
 * nothing more goes in: an entry whose author is not yet known to be
 * invited waits for the entry that invites it, as in sync. */
static void
union_circle(struct sim *s, struct am_store *u,
	const uint8_t circle[static AM_HASH_BYTES])
{
	struct feeds fs = { .n = 0 };
	bool progress = true;
	char c[9];

	am_hex(circle, 4, c);
	for (int i = 0; i < s->nnodes; i++) {
		fs.node = i;
		if (s->node[i].store != NULL)
			(void)!am_store_heads(s->node[i].store, circle, note_feed, &fs);
	}
	while (progress) {
		progress = false;
		for (size_t k = 0; k < fs.n; k++) {
			struct feed *f = &fs.f[k];
			while (f->have < f->max) {
				struct sim_raw cp = { NULL, 0 };
				enum am_ingest_result r;
				int rc = am_store_range(s->node[f->holder].store, circle,
					f->author, f->have + 1, f->have + 1, sim_copy_raw, &cp);
				if (rc == AM_OK && cp.raw == NULL)
					rc = AM_ERR_NOT_FOUND;
				if (rc == AM_OK)
					rc = am_store_ingest(u, cp.raw, cp.len, &r);
				free(cp.raw);
				if (rc == AM_ERR_NO_GENESIS || rc == AM_ERR_GAP)
					break;
				if (rc != AM_OK) {
					sim_violation(s, "circle %s: entry %llu of node %d "
						"does not go into the whole record: %s", c,
						(unsigned long long)f->have + 1, f->holder,
						am_strerror(rc));
					f->max = f->have;
					break;
				}
				f->have++;
				progress = true;
			}
		}
	}
	for (size_t k = 0; k < fs.n; k++)
		if (fs.f[k].have < fs.f[k].max) {
			char a[9];
			am_hex(fs.f[k].author, 4, a);
			sim_violation(s, "circle %s: node %d holds entries %llu.. of "
				"feed %s whose author nobody invited", c, fs.f[k].holder,
				(unsigned long long)fs.f[k].have + 1, a);
		}
}

/* The nodes that are joined members of circle by the whole record
 * (pending ones hold only their own answers: only members read a
 * circle), and those some MEMBER entry ever named. */
static int
union_members(struct sim *s, struct am_store *u,
	const uint8_t circle[static AM_HASH_BYTES], uint32_t *members,
	uint32_t *named)
{
	struct am_member *m = NULL;
	size_t nm = 0;
	int rc = am_state_members(u, circle, &m, &nm);
	if (rc != AM_OK)
		return rc;
	*members = *named = 0;
	for (int j = 0; j < s->nnodes; j++) {
		for (size_t x = 0; x < nm; x++)
			if (memcmp(m[x].id, s->node[j].pub, AM_ID_BYTES) == 0 ||
			    (s->opt.successions &&
			    memcmp(m[x].id, s->node[j].heir, AM_ID_BYTES) == 0)) {
				if (m[x].status == AM_MEMBER_JOINED)
					*members |= 1u << j;
				/* who left was invited: they keep what they hold */
				if (m[x].status == AM_MEMBER_DEPARTED)
					*named |= 1u << j;
			}
		if (am_state_may_write(u, circle, s->node[j].pub) == AM_OK)
			*named |= 1u << j;
	}
	/* a node that answered a preview was invited, even by a MEMBER
	 * entry the state ignores (one dated outside the bounds, from the
	 * hostile client): its own answer is of that circle */
	for (int k = 0; k < s->npreviews; k++)
		if (s->previews[k].answered &&
		    memcmp(s->previews[k].circle, circle, AM_HASH_BYTES) == 0)
			*named |= 1u << s->previews[k].node;
	free(m);
	return AM_OK;
}

struct heads_text {
	char buf[600];
	size_t n;
};

static int
head_text(void *ctx, const struct am_feed_head *h)
{
	struct heads_text *t = ctx;
	char a[9];
	am_hex(h->author, 4, a);
	if (t->n < sizeof t->buf) {
		int w = snprintf(t->buf + t->n, sizeof t->buf - t->n, " %s:%llu%s",
			a, (unsigned long long)h->seq, h->forked_at ? "(forked)" : "");
		if (w > 0)
			t->n += (size_t)w;
	}
	return AM_OK;
}

/* Names the feeds node i holds of circle, to say where two nodes part. */
static void
show_heads(struct sim *s, int i, const uint8_t circle[static AM_HASH_BYTES])
{
	struct heads_text t = { .n = 0 };
	t.buf[0] = '\0';
	if (am_store_heads(s->node[i].store, circle, head_text, &t) == AM_OK)
		printf("  node %d holds feeds%s\n", i, t.buf);
	struct am_member *m = NULL;
	size_t nm = 0;
	if (am_state_members(s->node[i].store, circle, &m, &nm) != AM_OK)
		return;
	printf("  node %d sees members", i);
	for (size_t k = 0; k < nm; k++) {
		char a[9];
		am_hex(m[k].id, 4, a);
		printf(" %s%s%s", a, m[k].role == AM_ROLE_WITNESS ? "(witness)" : "",
			m[k].status == AM_MEMBER_PENDING ? "(pending)" : "");
	}
	printf("\n");
	free(m);
}

/* Did the circle's creator date its GENESIS outside the bounds of
 * claimed times (the hostile member's clock can)? */
static bool
genesis_out_of_bounds(const struct sim *s, const uint8_t circle[static 32])
{
	for (size_t k = 0; k < s->nentries; k++)
		if (s->entries[k].kind == AM_KIND_GENESIS &&
		    memcmp(s->entries[k].circle, circle, 32) == 0)
			return !am_state_time_ok(s->entries[k].time);
	return false;
}

/* A hash over who store counts as departed from circle and by which
 * entry (its kind, the entry, its author, the heir of a succession): what "every node agrees on
 * when someone departed" compares. */
static int
departures(struct am_store *st, const uint8_t circle[static AM_HASH_BYTES],
	uint8_t out[static AM_HASH_BYTES], unsigned *n)
{
	struct am_member *m = NULL;
	size_t nm = 0;
	crypto_generichash_state h;
	int rc = am_state_members(st, circle, &m, &nm);
	if (rc != AM_OK)
		return rc;
	*n = 0;
	crypto_generichash_init(&h, NULL, 0, AM_HASH_BYTES);
	for (size_t k = 0; k < nm; k++) {
		if (m[k].status != AM_MEMBER_DEPARTED)
			continue;
		uint8_t kind = (uint8_t)m[k].departure_kind;
		crypto_generichash_update(&h, m[k].id, AM_ID_BYTES);
		crypto_generichash_update(&h, &kind, 1);
		crypto_generichash_update(&h, m[k].departure, AM_HASH_BYTES);
		crypto_generichash_update(&h, m[k].departed_by, AM_ID_BYTES);
		/* a SUCCESSION: and who took their place */
		if (m[k].departure_kind == AM_KIND_SUCCESSION)
			crypto_generichash_update(&h, m[k].heir, AM_ID_BYTES);
		(*n)++;
	}
	crypto_generichash_final(&h, out, AM_HASH_BYTES);
	free(m);
	return AM_OK;
}

/* Once converged, every node agrees on who departed and by what: any
 * two nodes holding the same entries of circle (equal store digests,
 * the whole record among them) show the same departures. */
static void
check_departures(struct sim *s, struct am_store *u,
	const uint8_t circle[static AM_HASH_BYTES])
{
	uint8_t store[SIM_MAX_NODES + 1][AM_HASH_BYTES];
	uint8_t dep[SIM_MAX_NODES + 1][AM_HASH_BYTES];
	unsigned ndep[SIM_MAX_NODES + 1];
	bool have[SIM_MAX_NODES + 1] = { false };
	char c[9];

	am_hex(circle, 4, c);
	for (int i = 0; i <= s->nnodes; i++) {
		struct am_store *st = i < s->nnodes ? s->node[i].store : u;
		if (st == NULL || (i < s->nnodes && !holds(s, i, circle)) ||
		    am_store_digest(st, circle, store[i]) != AM_OK ||
		    departures(st, circle, dep[i], &ndep[i]) != AM_OK)
			continue;
		have[i] = true;
		for (int j = 0; j < i; j++)
			if (have[j] && memcmp(store[i], store[j], AM_HASH_BYTES) == 0 &&
			    memcmp(dep[i], dep[j], AM_HASH_BYTES) != 0) {
				char a[32];
				snprintf(a, sizeof a, i < s->nnodes ? "node %d" :
					"the whole record", i);
				sim_break(s, SIM_INV_MEMBERSHIP, "circle %s: node %d and "
					"%s hold the same entries but show different "
					"departures (%u and %u departed)", c, j, a, ndep[j],
					ndep[i]);
			}
	}
}

/* The members of circle by the whole record hold it, all the same
 * entries and the same state; nobody never named holds it. */
static void
check_circle(struct sim *s, struct am_store *u,
	const uint8_t circle[static AM_HASH_BYTES])
{
	uint8_t first_store[AM_HASH_BYTES], first_state[AM_HASH_BYTES];
	uint32_t members = 0, named = 0;
	int first = -1;
	char c[9];

	am_hex(circle, 4, c);
	union_circle(s, u, circle);
	int rc = union_members(s, u, circle, &members, &named);
	if (rc == AM_ERR_NOT_FOUND && genesis_out_of_bounds(s, circle))
		return;         /* it creates nothing (state.md, "Claimed times") */
	check_departures(s, u, circle);
	if (rc != AM_OK) {
		sim_violation(s, "circle %s: no members in the whole record: %s", c,
			am_strerror(rc));
		return;
	}
	for (int i = 0; i < s->nnodes; i++) {
		bool h = holds(s, i, circle), m = (members >> i) & 1u;
		if (h && !((named >> i) & 1u))
			sim_violation(s, "node %d holds circle %s though nobody ever "
				"invited it", i, c);
		if (m && !h)
			sim_violation(s, "node %d, a member of circle %s, does not "
				"hold it", i, c);
		if (!m || !h)
			continue;
		uint8_t d[AM_HASH_BYTES], t[AM_HASH_BYTES];
		rc = am_store_digest(s->node[i].store, circle, d);
		if (rc == AM_OK)
			rc = am_state_digest(s->node[i].store, circle, t);
		if (rc != AM_OK) {
			sim_violation(s, "node %d, circle %s: no digest: %s", i, c,
				am_strerror(rc));
			continue;
		}
		if (first < 0) {
			first = i;
			memcpy(first_store, d, AM_HASH_BYTES);
			memcpy(first_state, t, AM_HASH_BYTES);
		} else if (memcmp(d, first_store, AM_HASH_BYTES) != 0) {
			sim_violation(s, "circle %s: members %d and %d hold different "
				"entries (store digests differ)", c, first, i);
			show_heads(s, first, circle);
			show_heads(s, i, circle);
		} else if (memcmp(t, first_state, AM_HASH_BYTES) != 0) {
			sim_violation(s, "circle %s: members %d and %d hold the same "
				"entries but derive different states", c, first, i);
		}
	}
}

/* The run's hash: every node's circles with their store and state
 * digests, then the counters. */
static void
run_hash(struct sim *s, const struct circle_set *per_node)
{
	crypto_generichash_state h;
	uint8_t buf[8];

	crypto_generichash_init(&h, NULL, 0, AM_HASH_BYTES);
	for (int i = 0; i < s->nnodes; i++) {
		const struct circle_set *mine = &per_node[i];
		crypto_generichash_update(&h, s->node[i].pub, AM_ID_BYTES);
		for (size_t k = 0; k < mine->n; k++) {
			uint8_t d[AM_HASH_BYTES] = { 0 }, t[AM_HASH_BYTES] = { 0 };
			(void)!am_store_digest(s->node[i].store, mine->id[k], d);
			(void)!am_state_digest(s->node[i].store, mine->id[k], t);
			crypto_generichash_update(&h, mine->id[k], AM_HASH_BYTES);
			crypto_generichash_update(&h, d, AM_HASH_BYTES);
			crypto_generichash_update(&h, t, AM_HASH_BYTES);
		}
	}
	const uint64_t counters[] = {
		s->stats.ops, s->stats.refused, s->stats.skipped, s->stats.entries,
		s->stats.circles, s->stats.msgs, s->stats.bytes, s->stats.lost,
		s->stats.dropped, s->stats.duplicated, s->stats.reordered,
		s->stats.rejected, s->stats.stored, s->stats.crashes,
		s->stats.resets, s->stats.half_resets, s->stats.partitions,
		s->stats.connects,
		s->stats.steps, (uint64_t)s->now, s->violations,
	};
	for (size_t k = 0; k < sizeof counters / sizeof counters[0]; k++) {
		for (int b = 0; b < 8; b++)
			buf[b] = (uint8_t)(counters[k] >> (8 * b));
		crypto_generichash_update(&h, buf, sizeof buf);
	}
	crypto_generichash_final(&h, s->final, AM_HASH_BYTES);
}

void
sim_check(struct sim *s)
{
	struct circle_set all = { .n = 0 }, per_node[SIM_MAX_NODES];

	for (int i = 0; i < s->nnodes; i++) {
		per_node[i].n = 0;
		per_node[i].full = false;
		if (s->node[i].store == NULL) {
			sim_violation(s, "node %d is down at the end", i);
			continue;
		}
		int rc = am_store_circles(s->node[i].store, add_circle, &per_node[i]);
		if (rc == AM_OK)
			rc = am_store_circles(s->node[i].store, add_circle, &all);
		if (rc != AM_OK)
			sim_violation(s, "node %d cannot list its circles: %s", i,
				am_strerror(rc));
		check_node(s, i, &per_node[i]);
	}
	if (all.full)
		sim_violation(s, "more than %d circles: some were not checked",
			MAX_CIRCLES);
	char path[700];
	struct am_store *u = NULL;
	snprintf(path, sizeof path, "%s/union.db", s->dir);
	int rc = am_store_open(path, &u);
	if (rc != AM_OK)
		sim_violation(s, "cannot open a store for the whole record: %s",
			am_strerror(rc));
	for (size_t k = 0; k < all.n && u != NULL; k++)
		check_circle(s, u, all.id[k]);
	am_store_close(&u);
	run_hash(s, per_node);
}
