/*
 * Checkpoints: "we all see the same record". A CHECKPOINT entry is its
 * author's signed statement "I hold these heads": per feed of the circle,
 * the newest entry that is not itself a checkpoint (protocol/state.md,
 * "Checkpoints"). A node writes one when it knows that every joined member
 * holds the heads it holds; once every joined member has checkpointed the
 * same heads, the circle had the same record for everyone as of the latest
 * of those checkpoints' claimed times.
 *
 * A member whose node later shows a feed shorter than a checkpoint says it
 * held (its own checkpoint, or any member's checkpoint of its own feed) is
 * withholding or was truncated: the node records a report, which `status`
 * and `verify` list.
 */
#ifndef AMENDS_CHECKPOINT_H
#define AMENDS_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amends/body.h"
#include "amends/entry.h"
#include "amends/error.h"
#include "amends/id.h"
#include "amends/store.h"

/* One live CHECKPOINT entry, decoded. */
struct am_checkpoint {
	uint8_t author[AM_ID_BYTES];
	uint64_t seq;
	uint8_t hash[AM_HASH_BYTES];     /* of the CHECKPOINT entry */
	int64_t time;                    /* claimed, ms; shown, never trusted */
	uint32_t nheads;
	struct am_head heads[AM_MAX_HEADS];  /* sorted by author */
};

/*
 * The heads a checkpoint of circle would name now: for each feed, its
 * newest entry that is not a CHECKPOINT, sorted by author (feeds holding
 * nothing else are left out). *n is 0 when there is none. AM_ERR_FORK when
 * a feed of the circle has forked (its members cannot agree on its head),
 * AM_ERR_TOO_BIG when there are more than AM_MAX_HEADS feeds.
 */
AM_NODISCARD int am_checkpoint_heads(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES],
	struct am_head heads[static AM_MAX_HEADS], uint32_t *n);

/* The live checkpoint of author in circle with the highest number.
 * AM_ERR_NOT_FOUND when author wrote none. */
AM_NODISCARD int am_checkpoint_latest(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t author[static AM_ID_BYTES], struct am_checkpoint *out);

/*
 * Is a checkpoint by self due in circle? *due is set when self is a joined
 * member, at least one other member has joined, the heads of
 * am_checkpoint_heads() differ from those of self's latest checkpoint, and
 * every other joined member is known to hold them: the digest its node
 * last reported (am_peer_digests) equals this store's, or its own latest
 * checkpoint names exactly these heads. A circle with a forked feed or too
 * many feeds is never due.
 */
AM_NODISCARD int am_checkpoint_due(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t self[static AM_ID_BYTES], bool *due);

/* The store setting (am_store_setting_set) that, set to "off", stops this
 * node from writing checkpoints; judging shorter feeds goes on. For a
 * test that counts entries exactly; a node normally keeps it unset. */
#define AM_CHECKPOINT_SETTING "checkpoints"

/*
 * Writes id's checkpoint of circle when am_checkpoint_due() says so, after
 * am_state_check() agrees, as any local write; now is its claimed time
 * (ms). Writes nothing while AM_CHECKPOINT_SETTING is "off". *written
 * tells whether it did; on success with out not NULL, out receives the
 * entry written.
 */
AM_NODISCARD int am_checkpoint_write(struct am_store *s,
	const struct am_identity *id, const uint8_t circle[static AM_HASH_BYTES],
	int64_t now, bool *written, struct am_checkpoint *out);

/*
 * am_checkpoint_write, for a node that started at since (ms, the clock of
 * am_peer_digest_set): every other joined member must be known to hold
 * the heads by a digest its node reported from since on; a digest from
 * before, or a member's own checkpoint, no longer counts. A store may be
 * a stale copy: what a peer said to it before it started may be about a
 * record its owner has since extended elsewhere, and a checkpoint
 * numbered over those entries would fork the owner's feed (issue 22).
 */
AM_NODISCARD int am_checkpoint_write_since(struct am_store *s,
	const struct am_identity *id, const uint8_t circle[static AM_HASH_BYTES],
	int64_t now, int64_t since, bool *written, struct am_checkpoint *out);

/* Whether every joined member has checkpointed the same heads. */
struct am_checkpoint_same {
	bool same;                       /* the rest means something only then */
	int64_t time;                    /* latest claimed time of those
	                                    checkpoints, ms: "as of" */
	uint32_t nmembers;               /* joined members, each of whom wrote one */
	uint32_t nheads;
	struct am_head heads[AM_MAX_HEADS];
};

/*
 * The newest heads that every joined member of circle has checkpointed
 * (each member's newest 64 checkpoints are looked at; "newest" is the
 * greatest sum of numbers, then the lower hash of the body, never a
 * claimed time). out->same is false when there are none, or when the
 * circle has a single member.
 */
AM_NODISCARD int am_checkpoint_same(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES], struct am_checkpoint_same *out);

/* A member's node that showed a feed shorter than a checkpoint. */
struct am_checkpoint_report {
	uint8_t circle[AM_HASH_BYTES];
	uint8_t peer[AM_ID_BYTES];       /* whose node showed it */
	uint8_t author[AM_ID_BYTES];     /* the feed's author */
	uint64_t shown;                  /* entries of the feed it showed */
	uint64_t named;                  /* entries the checkpoint names */
	uint8_t checkpoint[AM_HASH_BYTES];  /* the CHECKPOINT entry */
	uint8_t checkpoint_author[AM_ID_BYTES];
	int64_t checkpoint_time;         /* its claimed time, ms */
	int64_t first_at, last_at;       /* ms, this node's clock: when seen */
	uint64_t count;                  /* times seen */
};

/*
 * Judges what the node of peer showed of author's feed in circle: shown
 * entries. It is shorter than a checkpoint when a live checkpoint by peer,
 * or (when author is peer) by any joined member, names that feed at a
 * higher number. Then *shorter is set, out (when not NULL) describes the
 * checkpoint naming the most, and the report is recorded at now (ms),
 * merged with an earlier one of the same checkpoint.
 */
AM_NODISCARD int am_checkpoint_judge(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t peer[static AM_ID_BYTES],
	const uint8_t author[static AM_ID_BYTES], uint64_t shown, int64_t now,
	bool *shorter, struct am_checkpoint_report *out);

/* Calls fn with each recorded report of circle (of every circle when
 * circle is NULL), by circle, peer, author and time first seen. Stops
 * early and returns fn's value when it is not AM_OK. */
AM_NODISCARD int am_checkpoint_reports(struct am_store *s,
	const uint8_t *circle,
	int (*fn)(void *ctx, const struct am_checkpoint_report *r), void *ctx);

/*
 * Claims on our own feed. A live checkpoint by another member naming our
 * feed at n is its author's claim that it holds our entries up to n; a
 * restored node waits for them (protocol/sync.md, "A restored node's
 * guard: claims"). The claim is refuted once the author's own node has
 * answered us with our feed at shown < n and had the chance to serve the
 * rest.
 */
struct am_checkpoint_refutation {
	uint8_t circle[AM_HASH_BYTES];
	uint8_t author[AM_ID_BYTES];     /* who signed the checkpoint */
	uint64_t named;                  /* entries of our feed it named */
	uint64_t shown;                  /* entries its node showed and served */
	uint8_t checkpoint[AM_HASH_BYTES];  /* the CHECKPOINT entry */
};

/* Records that author's checkpoint (hash checkpoint) naming our feed in
 * circle at named was refuted by its node showing shown entries; keeps
 * the highest number refuted per author and circle. One transaction. */
AM_NODISCARD int am_checkpoint_refute(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t author[static AM_ID_BYTES], uint64_t named, uint64_t shown,
	const uint8_t checkpoint[static AM_HASH_BYTES]);

/* The highest number of our feed in circle that a refuted checkpoint of
 * author named, into *named (0 when none): a checkpoint of author's
 * naming no more is no longer a claim to wait for. */
AM_NODISCARD int am_checkpoint_refuted(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t author[static AM_ID_BYTES], uint64_t *named);

/* Calls fn with each refutation recorded for circle (every circle when
 * circle is NULL), by circle and author. Stops early and returns fn's
 * value when it is not AM_OK. */
AM_NODISCARD int am_checkpoint_refutations(struct am_store *s,
	const uint8_t *circle,
	int (*fn)(void *ctx, const struct am_checkpoint_refutation *r), void *ctx);

/*
 * The claims on self's feed in circle that hold a restored node's writing
 * back now: each other author's latest live checkpoint naming self's feed
 * above head, unless a refutation of that author names as much. Calls fn with each (the
 * refutation struct, shown unset). Also sets *own (may be NULL) to the
 * highest number of self's feed that self's own live checkpoint names.
 */
AM_NODISCARD int am_checkpoint_claims(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t self[static AM_ID_BYTES], uint64_t head, uint64_t *own,
	int (*fn)(void *ctx, const struct am_checkpoint_refutation *r), void *ctx);

#endif
