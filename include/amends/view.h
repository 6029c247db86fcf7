/*
 * Views: what the reading commands, the node and a report show of the
 * record, assembled once in the library. A view is one read snapshot of a
 * store: everything read between am_view_open() and am_view_close(),
 * through this module or any am_state_*() reader on the same store, comes
 * from the same committed state, so a commit by another connection in
 * between cannot mix two versions of an agreement with each other's
 * check-ins.
 *
 * An agreement view holds an agreement with its versions, the version in
 * force, its check-ins (originals and corrections: protocol/state.md,
 * "Check-ins"), who checks in, and its schedule; adherence (due, kept,
 * partial, missed, streak) is computed from it per person or for all who
 * check in. Adherence follows the schedule of the version in force (or,
 * once the agreement has ended, the last one that was), from the day the
 * agreement first came into force until now, or until it ended. The day it
 * came into force is when its last party signed, by the claimed times of
 * the signatures: the same on every node.
 */
#ifndef AMENDS_VIEW_H
#define AMENDS_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amends/error.h"
#include "amends/schedule.h"
#include "amends/state.h"
#include "amends/store.h"

struct am_view;

/*
 * Claimed times are data (protocol/entry.md, "Claimed times"): an entry
 * dated before what it refers to, or more than AM_VIEW_FUTURE_MS ahead of
 * the reader's clock, is kept and counted like any other, and views mark
 * it. Marks depend on the reader's clock and never enter the state or
 * its digests.
 */
#define AM_VIEW_FUTURE_MS ((int64_t)10 * 60 * 1000)

enum am_dated {
	AM_DATED_BEFORE = 1,     /* before what it refers to */
	AM_DATED_FUTURE = 2,     /* more than AM_VIEW_FUTURE_MS after now */
};

/* How an entry claimed at time reads to a reader whose clock is now: a
 * set of enum am_dated flags, 0 when neither. refers is the claimed time
 * of what the entry refers to (INT64_MIN: nothing). Any int64 is taken. */
uint32_t am_view_dated(int64_t time, int64_t refers, int64_t now);

/* Opens a read snapshot of s. Nothing may be written through s until it
 * is closed. AM_ERR_DB_BUSY (or another AM_ERR_DB_*) when the snapshot
 * cannot be taken, AM_ERR_ARG when s is already inside a transaction,
 * AM_ERR_NOMEM. */
AM_NODISCARD int am_view_open(struct am_store *s, struct am_view **out);
/* Ends the snapshot and frees the view; sets *v to NULL. NULL does
 * nothing. What was read from it stays the caller's. */
void am_view_close(struct am_view **v);
/* The store the view reads; borrowed, valid while the view is open. */
struct am_store *am_view_store(struct am_view *v);

struct am_agreement_view {
	struct am_agreement a;
	struct am_version *versions;      /* by depth, then hash */
	size_t nversions;
	const struct am_version *current; /* in force (or last in force); NULL */
	const struct am_version *newest;  /* what an amendment amends */
	struct am_checkin *checkins;      /* as am_state_checkins() */
	size_t ncheckins;
	struct am_schedule *schedule;     /* of current, when it has one */
	int64_t anchor;                   /* when it first came into force, ms */
	int64_t until;                    /* now, or when it ended if earlier */
	int64_t now;                      /* the reader's clock, as given */
	uint32_t nchecker;                /* who checks in: by, else the parties */
	uint8_t checker[AM_MAX_PARTIES][32];
};

/*
 * Reads agreement id from the view as of now, with its check-ins when
 * checkins (they grow with the agreement's history; adherence needs them,
 * a new check-in does not). AM_ERR_NOT_FOUND when it is not an agreement
 * here; AM_ERR_ZONE when its zone is unknown here (the rest is still
 * read, schedule NULL). Release x with am_agreement_view_finish(), also
 * after an error.
 */
AM_NODISCARD int am_view_agreement(struct am_view *v,
	const uint8_t id[static AM_HASH_BYTES], int64_t now, bool checkins,
	struct am_agreement_view *x);
void am_agreement_view_finish(struct am_agreement_view *x);

/* True when id is one of those who check in. */
bool am_agreement_view_is_checker(const struct am_agreement_view *x,
	const uint8_t id[static AM_ID_BYTES]);
/* True when id is a party of the version in force (or of the newest). */
bool am_agreement_view_is_party(const struct am_agreement_view *x,
	const uint8_t id[static AM_ID_BYTES]);

/* Adherence of person (or, with person NULL, of everyone who checks in
 * together) as of x->until, counting for each period only the check-in
 * that counts. AM_ERR_ARG when the agreement has no schedule or was never
 * in force. */
AM_NODISCARD int am_agreement_view_adherence(const struct am_agreement_view *x,
	const uint8_t *person, struct am_adherence *out);

/* Of check-ins v[0..n) as am_state_checkins() orders them: the one that
 * counts among those of v[i]'s author and period. */
const struct am_checkin *am_checkins_counting(const struct am_checkin *v,
	size_t n, size_t i);
/* Whether answers to v[i] can still change what counts: it counts, or it
 * is a correction written after the one that counts, which it may yet
 * replace. */
bool am_checkins_open(const struct am_checkin *v, size_t n, size_t i);

#endif
