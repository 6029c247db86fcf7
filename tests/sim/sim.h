/*
 * The deterministic simulator of amends (amends-sim): K nodes in one
 * process, each with a real store (SQLite files in a temporary directory)
 * and real sync sessions (src/sync*.c), joined by a simulated network and
 * driven by a random workload, all from one seeded PRNG and a simulated
 * clock. The same seed gives the same run, to the byte.
 *
 * Fault model. The real transport is ZeroMQ over TCP: within one
 * connection, messages arrive whole, once and in order, or the connection
 * breaks. The sync protocol relies on that (a request in flight waits for
 * its answer, DONE follows the HEADS it closes), so by default faults are
 * modelled at the level of connections and processes:
 *
 *   - delay: every message gets its own latency (a per-connection base
 *     plus jitter, now and then a spike of seconds, as a TCP retransmit
 *     would cause); order is kept within a direction of a connection, so
 *     messages are reordered only across connections and nodes;
 *   - back-pressure: each direction holds at most a high-water mark of
 *     messages in flight (like ZMQ_SNDHWM); a session's next message is
 *     taken only when there is room;
 *   - reset: a connection breaks; every message in flight on it is lost,
 *     the sessions on both sides are destroyed, and after a delay the
 *     nodes reconnect with fresh sessions (am_sync_new + am_sync_start),
 *     as the node does on reconnect;
 *   - half reset: the node keeps two connections per peer (its own DEALER
 *     to the peer's ROUTER, and the peer's to its own) and sends on
 *     either; when one breaks, each side starts a fresh session when it
 *     notices, at its own time, and keeps talking on the other. So the
 *     messages one side sent on the broken path are lost (also those sent
 *     before it notices), while those on the other path still arrive, at
 *     a session that may be new. Refusals of such stale messages are
 *     expected; whether the pair recovers is what the run checks;
 *   - partition: the nodes split into two sides for a while, either cut
 *     (connections across break and cannot reconnect until it heals) or
 *     stalled (connections stay up but nothing crosses; what was sent is
 *     delivered, in order, once it heals, like a blackhole shorter than
 *     the heartbeat timeout);
 *   - crash: a node's sessions are destroyed and its store closed, losing
 *     all in-memory state; its connections break; it restarts later by
 *     reopening its store. A crash falls between two events, so it never
 *     cuts a transaction in half, and what was committed stays (power
 *     loss and torn writes are for the storage fault tests, not here);
 *   - duplicates arise as they do for real: the same entries reach a node
 *     from several peers, and again after every reconnect.
 *
 * As the node does, every session also sends a fresh HELLO once a minute
 * of simulated time (am_sync_recheck).
 *
 * With --lossy, messages inside a live connection are also dropped,
 * duplicated and reordered. The protocol does not promise to tolerate
 * that, so such runs check safety throughout (nothing invalid stored,
 * nothing committed lost, state equal to a refold) and, since every
 * connection is reset when the network heals, convergence at the end.
 *
 * After the workload, the network heals, every node restarts, and the run
 * continues until quiescent (bounded); then every property is checked.
 *
 * Members and clocks. These are options, off by default: the honest runs
 * and their seeds (sim-regress, the replay test) stay exactly as they
 * were, and the trust invariants, some of which break today until issues
 * 15 and 16 land, are judged by tests of their own (tests/sim/meson.build):
 *
 *   - --hostile: one node, picked by the seed, runs a modified client.
 *     Its node syncs honestly (a hostile peer on the wire is
 *     tests/hostile's), but now and then its person writes, without
 *     asking am_state_check, whatever its own key can sign: amendments
 *     with itself (or some) as the only parties, chains of them on its
 *     own pending versions, ends, corrections of its answered check-ins,
 *     flipped confirmations, answers to hashes it invents or has not
 *     seen, member proposals of fresh keys, and any claimed time, within
 *     and far beyond the usual range (INT64 extremes, year 9999; with
 *     --no-extremes, nothing near INT64's ends). Half of its person's
 *     operations go through the ordinary client, so it joins circles and
 *     becomes a party like anyone; the no-fork and verify checks of the
 *     end apply to the honest nodes;
 *   - --skew: every node has a clock of its own, off by up to SIM_SKEW_MAX
 *     and jumping forward and back now and then; the claimed times of its
 *     entries and its readers' "now" come from it;
 *   - --removes (with --leaves and --withdraw): people also propose
 *     removing another member and answer removals, and the hostile
 *     member forges removals (inv.c's removal invariant);
 *   - --successions (with --removes): people also rotate keys, their own
 *     or a member's whose key is lost, to their new key (node.heir), and
 *     answer successions; the hostile member forges successions (inv.c's
 *     succession invariant);
 *   - --invariants (implied by any of these): the trust invariants of inv.c are
 *     checked on every honest node's view each time its store changes,
 *     not only at the end. A break of an invariant that a later issue
 *     fixes is counted, not failed, while the table in inv.c says so;
 *     --regress runs the seeds of tests/sim/regress.txt, each expected to
 *     break what its line says.
 */
#ifndef AMENDS_SIM_H
#define AMENDS_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amends/body.h"
#include "amends/id.h"
#include "amends/store.h"
#include "amends/sync.h"

#define SIM_MAX_NODES 5
#define SIM_MAX_LINKS (SIM_MAX_NODES * (SIM_MAX_NODES - 1) / 2)

/* ---- the PRNG: xoshiro256**, seeded through splitmix64 ---- */

struct rng {
	uint64_t s[4];
};

/* Seeds r from one number. */
void rng_seed(struct rng *r, uint64_t seed);
/* The next 64 random bits. */
uint64_t rng_next(struct rng *r);
/* A number in [0, n), unbiased; 0 when n is 0. */
uint64_t rng_below(struct rng *r, uint64_t n);
/* A number in [lo, hi]. */
int64_t rng_range(struct rng *r, int64_t lo, int64_t hi);
/* True with probability per_mille / 1000. */
bool rng_chance(struct rng *r, unsigned per_mille);
/* Fills buf with n random bytes. */
void rng_bytes(struct rng *r, uint8_t *buf, size_t n);

/* ---- a run ---- */

struct sim_opts {
	uint64_t seed;
	unsigned nodes;          /* 2..SIM_MAX_NODES */
	unsigned ops;            /* workload operations */
	bool verbose;
	bool lossy;              /* loss, duplication, reordering in sessions */
	bool hostile;            /* one node's person writes what it likes */
	bool skew;               /* a clock per node, off and jumping */
	bool no_extremes;        /* hostile: no times near INT64's ends */
	bool invariants;         /* check inv.c's invariants after each step */
	bool racy;               /* writes land while a node takes a message */
	bool withdraw;           /* people also withdraw their proposals */
	bool leaves;             /* ... and leave circles */
	bool removes;            /* ... and remove others (implies leaves) */
	bool successions;        /* ... and rotate keys (implies removes) */
	const char *tmp;         /* where the run's directory is made */
};

/* How far a node's clock may be from the simulated time, ms. */
#define SIM_SKEW_MAX (8 * 3600 * INT64_C(1000))

/* One message on its way. */
struct sim_msg {
	struct sim_msg *next;
	int64_t at;              /* delivery time, simulated ms */
	uint64_t order;          /* tie-break: the order messages were sent */
	uint32_t gen_from;       /* the sending session's generation */
	uint32_t gen_to;         /* ... and that of the one it was meant for */
	uint8_t *buf;
	size_t len;
};

/* One direction of a connection. */
struct sim_dir {
	struct sim_msg *head;    /* by (at, order) */
	size_t n;
	int64_t last_at;         /* latest delivery time queued (FIFO) */
};

/* The connection between nodes a < b. */
struct sim_link {
	int a, b;
	bool up;
	int64_t connect_at;      /* when down: time of the next connect, 0 none */
	struct am_sync *s[2];    /* s[0] is a's session with b, s[1] b's with a */
	struct sim_dir dir[2];   /* dir[0] carries a to b, dir[1] b to a */
	unsigned hwm;            /* messages in flight per direction */
	int64_t latency;         /* base one-way delay, ms */
	/* after one of the node's two connections broke (half reset) */
	uint32_t gen[2];         /* sessions started on each side so far */
	bool paired;             /* both sessions began together */
	bool mute[2];            /* side's sends are lost: its path is gone */
	int64_t renew_at[2];     /* when the side notices and starts afresh */
	int64_t recheck_at[2];   /* the side's next am_sync_recheck */
	int64_t fault_at;        /* its latest break, reset, renewal, connect
	                          * or partition (reach.c excuses by it) */
};

/* Like the node, each session compares records again this often. */
#define SIM_RECHECK_MS 60000

struct sim_node {
	struct am_identity *id;
	uint8_t pub[AM_ID_BYTES];
	char path[600];
	struct am_store *store;  /* NULL while crashed */
	struct am_store *other;  /* --racy: a second connection, as a command's */
	int64_t restart_at;
	bool dirty;              /* the store changed: push, re-read members */
	uint32_t knows;          /* bit j: node j is in one of our circles */
	struct {                 /* who this node's state counts as joined */
		uint8_t circle[AM_HASH_BYTES];
		uint32_t joined;
		uint32_t members;    /* ... with the role member */
		uint32_t departed;   /* ... who have since left */
		uint32_t replaced;   /* ... by a SUCCESSION */
	} views[8];
	int nviews;
	int64_t skew;            /* its clock minus the simulated time, ms */
	/* --successions: the person's new key, which takes the place of
	 * pub in a circle through a SUCCESSION (work.c, op_succession) */
	struct am_identity *heir_id;
	uint8_t heir[AM_ID_BYTES];
	struct sim_seen *seen;   /* what its views showed (inv.c) */
	struct {                 /* its latest digests, per circle (inv.c) */
		uint8_t circle[AM_HASH_BYTES];
		uint8_t store[AM_HASH_BYTES];
		uint8_t state[AM_HASH_BYTES];
	} digests[8];
	int ndigests;
};

/* An entry some node wrote, as the invariants read it (inv.c): what it
 * says, copied out of its body. */
struct sim_entry {
	uint8_t circle[AM_HASH_BYTES];
	int node;                /* its author */
	uint8_t author[32];      /* ... whose key signed it: its pub or heir */
	uint64_t seq;
	uint8_t hash[AM_HASH_BYTES];
	int64_t time;            /* claimed */
	uint32_t kind;
	uint8_t target[32];      /* as struct am_body */
	uint8_t base[32];
	uint32_t nparties;       /* PROPOSE, AMEND */
	uint8_t parties[AM_MAX_PARTIES][32];
	uint64_t notice;         /* seconds */
	uint64_t head;           /* REMOVE, SUCCESSION: the head of its
	                            target's feed */
	uint8_t heir[32];        /* SUCCESSION: the new key */
	uint32_t need;           /* REMOVE, SUCCESSION: bit j, node j is
	                            listed as needed */
	uint32_t need_heir;      /* ... bit j, node j's new key is */
	bool need_other;         /* ... and so is a key of no node */
	bool unchecked;          /* written by the hostile member's client */
};

/* The invariants checked on honest nodes' views (inv.c says each one
 * precisely). */
enum sim_inv {
	SIM_INV_IN_FORCE,        /* a version is in force only with everyone */
	SIM_INV_IN_FORCE_STAYS,  /* ... and once one is, one stays */
	SIM_INV_END_NOTICE,      /* an END waits the notice of what it ends */
	SIM_INV_END_TIME,        /* ... counted from times its author signed */
	SIM_INV_CHECKIN_KEPT,    /* an answered check-in stays */
	SIM_INV_ANSWER_KEPT,     /* ... and so do its answers */
	SIM_INV_READERS,         /* no entry stops a reader */
	SIM_INV_MEMBERSHIP,      /* a joined member stays one */
	SIM_INV_DIGEST,          /* same entries, same state digest */
	SIM_INV_REACH,           /* a write reaches connected members by push */
	SIM_INV_TIME_BOUNDS,     /* no entry dated out of bounds counts */
	SIM_INV_REMOVAL,         /* removed only by an effective REMOVE */
	SIM_INV_SUCCESSION,      /* replaced only by an effective SUCCESSION */
	SIM_INV_SUCCESSION_STAYS,  /* ... and once replaced, replaced for good */
	SIM_NINV
};

/* An entry a node wrote, remembered to check that it survives. */
struct sim_commit {
	uint8_t circle[AM_HASH_BYTES];
	int node;
	uint8_t author[AM_ID_BYTES];  /* the key that signed it */
	uint64_t seq;
	uint8_t hash[AM_HASH_BYTES];
	int64_t at;              /* when it was written, simulated ms */
	uint32_t owed;           /* bit j: node j must get it by push (reach.c) */
	int64_t due[SIM_MAX_NODES];  /* ... by then */
};

/* A member proposal naming a node, as the invite exchange brings it to
 * that node: the preview it answers from while it holds nothing of the
 * circle (work.c, op_answer). */
struct sim_preview {
	uint8_t circle[AM_HASH_BYTES];
	uint8_t proposal[AM_HASH_BYTES];
	int node;                /* the newcomer */
	int proposer;
	bool answered;
	bool accepted;           /* ... with an ACCEPT */
};

#define SIM_MAX_PREVIEWS 64

struct sim_stats {
	uint64_t ops;            /* workload operations tried */
	uint64_t refused;        /* ... that am_state_check refused */
	uint64_t skipped;        /* ... that found nothing to do */
	uint64_t entries;        /* entries appended */
	uint64_t circles;
	uint64_t msgs;           /* messages delivered */
	uint64_t bytes;
	uint64_t lost;           /* messages lost with a connection or a node */
	uint64_t dropped;        /* ... dropped, duplicated, reordered (lossy) */
	uint64_t duplicated;
	uint64_t reordered;
	uint64_t rejected;       /* messages a session refused */
	uint64_t stored;         /* entries stored from peers */
	uint64_t crashes;
	uint64_t resets;
	uint64_t half_resets;
	uint64_t partitions;
	uint64_t connects;
	uint64_t steps;
	uint64_t racy_writes;    /* --racy: writes made inside a delivery */
	uint64_t pushes_owed;    /* (write, member) pairs reach.c checked */
	uint64_t successions;    /* SUCCESSION entries written honestly */
	uint64_t forged;         /* ... and by the hostile member's client */
	uint64_t succeeded;      /* heirs some honest node showed joined,
	                            one per (circle, old key) */
	uint64_t forged_effect;  /* ... of them, by a forged succession */
	uint64_t stolen;         /* entries written with a stolen key */
};

struct sim {
	struct sim_opts opt;
	struct rng rng;
	int64_t now;             /* simulated ms since the run began */
	uint64_t order;
	int nnodes;
	struct sim_node node[SIM_MAX_NODES];
	int nlinks;
	struct sim_link link[SIM_MAX_LINKS];
	uint32_t side;           /* partition: the nodes of one side; 0 none */
	bool stall;              /* the partition holds messages, not cuts */
	int64_t partition_end;
	bool healing;            /* the workload is over: no more faults */
	int64_t changed;         /* last time a store changed or a session began */
	struct sim_commit *commits;
	size_t ncommits, commits_cap;
	struct sim_stats stats;
	unsigned violations;
	int hostile;             /* the hostile node, -1 none */
	int thief_of;            /* --successions: the node whose first key
	                            the hostile node holds a copy of, -1 none */
	struct sim_entry *entries;     /* every entry written, in order */
	size_t nentries, entries_cap;
	struct sim_preview previews[SIM_MAX_PREVIEWS];
	int npreviews;
	struct {                 /* heirs some node showed joined through a
	                            succession of old (inv.c) */
		uint8_t circle[AM_HASH_BYTES];
		uint8_t old[AM_ID_BYTES];
		uint8_t heir[AM_ID_BYTES];
	} heirs[32];
	int nheirs;
	uint32_t broken;         /* bit k: invariant k broke in this run */
	unsigned breaks_shown;
	char dir[512];
	uint8_t final[AM_HASH_BYTES];  /* the run's hash */
};

/* The claimed time of entries written at simulated time t. */
#define SIM_EPOCH_MS INT64_C(1767225600000)   /* 2026-01-01T00:00:00Z */

/* Runs one seed; returns its number of violations (prints each one).
 * *broken receives the run's broken invariants, one bit each (those the
 * table in inv.c expects to break are not violations). */
unsigned sim_run(const struct sim_opts *opt, struct sim_stats *stats,
	uint8_t final[static AM_HASH_BYTES], uint32_t *broken);

/* Node i's clock: the claimed time of what it writes now, ms. */
int64_t sim_clock(const struct sim *s, int i);

/* Reports a violation of the run, with the command that replays it. */
void sim_violation(struct sim *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A line of the run's trace, printed with --verbose. */
void sim_trace(struct sim *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- the network (net.c) ---- */

/* The link between nodes i and j. */
struct sim_link *sim_link_of(struct sim *s, int i, int j);
/* Opens a connection: fresh sessions on both sides, each sends HELLO. */
void sim_link_connect(struct sim *s, struct sim_link *l);
/* Breaks a connection: sessions destroyed, messages in flight lost. */
void sim_link_break(struct sim *s, struct sim_link *l, const char *why);
/* Breaks the path that carries side k's messages (half reset). */
void sim_link_half_break(struct sim *s, struct sim_link *l, int k);
/* Side k noticed: its session starts afresh, the other side's stays. */
void sim_link_renew(struct sim *s, struct sim_link *l, int k);
/* May a connection between i and j exist now (both up, not cut)? */
bool sim_link_possible(const struct sim *s, const struct sim_link *l);
/* Does the partition hold messages between the link's nodes? */
bool sim_link_stalled(const struct sim *s, const struct sim_link *l);
/* Takes what every session has to send, within each link's window. */
void sim_net_flush(struct sim *s);
/* The earliest deliverable message: its link and direction; false when
 * none. */
bool sim_net_next(struct sim *s, int *link, int *dir, int64_t *at);
/* Delivers the first message of a link's direction. */
void sim_net_deliver(struct sim *s, int link, int dir);
/* True when no message is in flight anywhere. */
bool sim_net_empty(const struct sim *s);
/* Frees every queued message of a link. */
void sim_dir_clear(struct sim *s, struct sim_dir *d, bool count);

/* ---- the workload (work.c) ---- */

/* One random operation on a random live node, as the CLI would do it. */
void sim_work_step(struct sim *s);
/* One ordinary operation of node i's person, through n->store. */
void sim_work_on(struct sim *s, int i);

/* ---- the checks (check.c) ---- */

/* One raw entry copied out of a store; sim_copy_raw is an am_store_range
 * callback that fills it (the caller frees raw). */
struct sim_raw {
	uint8_t *raw;
	size_t len;
};
int sim_copy_raw(void *ctx, const uint8_t *raw, size_t len);

/* Checks every property at the end of a run; sets s->final. */
void sim_check(struct sim *s);

/* ---- the invariants (inv.c) ---- */

/* Reports a break of invariant inv: a violation, unless the table in
 * inv.c says that invariant breaks until some issue lands. */
void sim_break(struct sim *s, enum sim_inv inv, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Remembers an entry node i has just written (into s->entries). */
void sim_entry_note(struct sim *s, int i, const uint8_t circle[static 32],
	uint64_t seq, const uint8_t hash[static 32], int64_t time,
	const struct am_body *b);
/* Checks every invariant on node i's view, after its store changed. */
void sim_inv_check(struct sim *s, int i);
/* Frees what the invariants remember of node i. */
void sim_inv_forget(struct sim *s, int i);
/* The name of an invariant ("in-force"); -1 for a name not known. */
const char *sim_inv_name(enum sim_inv inv);
int sim_inv_parse(const char *name);
/* The issue after which invariant inv must hold; 0 when it must hold
 * now. */
unsigned sim_inv_issue(enum sim_inv inv);

/* ---- pushes (reach.c) ---- */

/* Records which connected members node c->node owes the entry c by push,
 * and by when; call once c is committed. */
void sim_reach_owe(struct sim *s, struct sim_commit *c);
/* Checks every debt due at or before t, before the event at t runs. */
void sim_reach_check(struct sim *s, int64_t t);
/* --racy: before node i takes a message of a type (enum am_sync_type),
 * perhaps arms a write through its second connection at a drawn
 * statement of the handling; disarm after. */
void sim_reach_arm(struct sim *s, int i, int type);
void sim_reach_disarm(struct sim *s, int i);
/* Opens (or, with close, closes) node i's second connection. */
int sim_reach_other(struct sim *s, int i, bool close);

/* ---- the hostile member (hostile.c) ---- */

struct op;
/* One write of the hostile node's person, bypassing am_state_check;
 * false when it found nothing to do. */
bool sim_hostile_step(struct op *o);

/* ---- nodes (world.c) ---- */

/* Adds to node i's known peers the members of its circles. */
int sim_node_refresh(struct sim *s, int i);
/* Checks that every entry node i committed is in its store as written. */
void sim_check_commits(struct sim *s, int i);

#endif
