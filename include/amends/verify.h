/*
 * Full verification of a store: every entry decodes, is signed by its
 * author (signatures checked in parallel on all cores), sits at its number
 * in its feed, links to the hash of the entry before it, and is the entry
 * the feed's head and hash columns say; every piece of fork evidence is a
 * validly signed second entry at a number the feed already holds.
 */
#ifndef AMENDS_VERIFY_H
#define AMENDS_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "amends/entry.h"
#include "amends/store.h"

/* One thing found wrong. */
struct am_verify_problem {
	uint8_t circle[AM_HASH_BYTES];
	uint8_t author[AM_ID_BYTES];
	uint64_t seq;                 /* 0 when the problem is the feed's, not an entry's */
	int code;                     /* AM_ERR_* */
	const char *what;             /* a sentence; valid during the callback */
	bool finding;                 /* against the author, not this copy: a
	                                 fork, or a bad signature its author's
	                                 next entry vouches for */
};

struct am_verify_report {
	uint64_t entries;             /* entries checked, fork evidence included */
	uint64_t authors;             /* distinct authors */
	uint64_t feeds;
	uint64_t circles;
	uint64_t problems;            /* findings included */
	uint64_t findings;            /* of those, the ones against an author:
	                                 the copy itself is intact */
};

/*
 * Verifies every entry of circle (all circles when circle is NULL) using up
 * to threads threads (0: one per online core). Calls problem (may be NULL)
 * for each problem found, in feed order. Fork evidence and a bad signature
 * vouched for by the author's next entry are findings (p->finding): valid
 * proof of what an author did, which every node holding it reports the
 * same, not damage of this copy. Returns AM_OK when the check ran,
 * whatever it found (see report->problems), or an error when it could not
 * run (database unreadable, out of memory).
 */
AM_NODISCARD int am_verify_store(struct am_store *s, const uint8_t *circle,
	unsigned threads,
	void (*problem)(void *ctx, const struct am_verify_problem *p), void *ctx,
	struct am_verify_report *report);

/*
 * Verifies the signatures of n entries in parallel with up to threads
 * threads (0: one per online core): ok[i] is set to 1 when entry i's
 * signature verifies, else 0. Entries must have been decoded.
 */
AM_NODISCARD int am_verify_signatures(const struct am_entry *entries, size_t n,
	unsigned threads, uint8_t *ok);

#endif
