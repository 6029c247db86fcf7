/*
 * What the workload (work.c) shares with the hostile member's writes
 * (hostile.c): the context of one operation and the helpers that pick
 * targets from the acting node's own view and write the entry.
 */
#ifndef AMENDS_SIM_WORK_H
#define AMENDS_SIM_WORK_H

#include "amends/state.h"
#include "sim.h"

/* The context of one operation: the acting node and what it sees. */
struct op {
	struct sim *s;
	int i;
	struct sim_node *n;
	const uint8_t *pub;              /* the key the person acts with: */
	struct am_identity *id;          /* n->pub, or n->heir (as_heir) */
	bool as_heir;
	bool own_key;                    /* op_succession: of one's own key */
	int64_t now;                     /* the node's clock, ms */
	bool bypass;                     /* hostile: write without the check */
	int64_t claimed;                 /* ... and claim this time */
	bool unheld;                     /* an answer from a preview: the node
	                                    holds nothing to check it against */
	struct am_circle_info *circles;  /* where the node is joined or pending */
	size_t ncircles;
	struct am_body *b;               /* the body being written */
	char text[2][160];               /* strings the body points to */
	char period[AM_MAX_PERIOD + 1];
	uint8_t mark[32];                /* the check-in op_mark picked */
	/* what the body's views point into, released after writing */
	struct am_version *versions;
	size_t nversions;
};

bool work_same(const uint8_t *a, const uint8_t *b);
bool work_in_ids(const uint8_t (*ids)[32], uint32_t n, const uint8_t *id);
/* A reader of the state failed: reports it unless it is NOT_FOUND; true
 * when rc is not AM_OK. */
bool work_read_failed(struct op *o, const char *what, int rc);
/* Writes o->b into circle: checked first unless o->bypass. */
void work_write(struct op *o, const uint8_t circle[static 32]);
/* A random circle where the node is joined (members_only: not as a
 * witness); NULL when none. */
const struct am_circle_info *work_pick_circle(struct op *o, bool members_only);
/* The version hash of agreement, loaded into o->versions; NULL when the
 * node does not see it. */
const struct am_version *work_load_version(struct op *o,
	const uint8_t agreement[static 32], const uint8_t hash[static 32]);
/* A random agreement of the node's joined circles that cheap accepts and
 * then dear (may be NULL) accepts; release with am_state_agreement_finish. */
bool work_pick_agreement(struct op *o,
	bool (*cheap)(struct op *, const struct am_agreement *),
	bool (*dear)(struct op *, const struct am_agreement *),
	struct am_agreement *out);
/* Fills o->b with a REMOVE of target from circle, as the CLI writes one:
 * the head of target's feed the node holds, and as need the joined
 * members of m (nm of them, the circle's am_state_members) other than
 * target and the node, sorted. False when the head could not be read. */
bool work_removal(struct op *o, const uint8_t circle[static 32],
	const uint8_t target[static 32], const struct am_member *m, size_t nm);
/* Fills o->b with a SUCCESSION of old by heir, written as a REMOVE of
 * old would be (work_removal). */
bool work_succession(struct op *o, const uint8_t circle[static 32],
	const uint8_t old[static 32], const uint8_t heir[static 32],
	const struct am_member *m, size_t nm);
/* Is the person's new key proposed or joined in circle in place of the
 * first one, which they then no longer use there? */
bool work_rotating(struct op *o, const uint8_t circle[static 32]);
/* One of the CLI's operations, picked by weight as sim_work_step does. */
bool work_any_op(struct op *o);

#endif
