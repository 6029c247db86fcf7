/*
 * Key rotation: a node moves, as a whole, from its identity to a new one
 * (issue 24). The node has one identity, which is also its CurveZMQ
 * transport key, so a rotation replaces the key in every circle at once.
 *
 * While it is in progress the new identity waits in AM_ROTATE_NEXT beside
 * the key file; the node keeps its old identity for transport. Once, by
 * the store's copy, no circle has the old key still in place (each
 * SUCCESSION to the new key took effect, or the old key is otherwise
 * gone there), am_rotate_switch makes the new key the identity and keeps
 * the old one as AM_ROTATE_OLD_PREFIX + its ID in hex + ".key": a key is
 * never deleted (protocol/sync.md, "Key rotation").
 */
#ifndef AMENDS_ROTATE_H
#define AMENDS_ROTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amends/error.h"
#include "amends/id.h"
#include "amends/store.h"

#define AM_ROTATE_NEXT "id.next.key"       /* in the data directory */
#define AM_ROTATE_OLD_PREFIX "id.replaced-" /* + hex of the old ID + ".key" */

/*
 * Loads the new identity of the rotation in progress in home:
 * AM_ERR_NOT_FOUND when none is. Errors of am_identity_load otherwise.
 */
AM_NODISCARD int am_rotate_next(const char *home, struct am_identity **out);

/*
 * The new identity of the rotation in home: the one in progress when
 * there is one (never a second), else a fresh one written to
 * AM_ROTATE_NEXT (mode 0600, atomically: am_identity_save). *made says
 * which.
 */
AM_NODISCARD int am_rotate_begin(const char *home, struct am_identity **out,
	bool *made);

/* Where the old key stands, per circle, for am_rotate_progress. */
struct am_rotate_progress {
	size_t circles;       /* circles where old had joined */
	size_t open;          /* ... and is still in place (joined, here) */
	size_t done;          /* ... replaced by next (a succession took effect) */
	size_t gone;          /* ... gone otherwise (left, removed, or
	                         replaced by another key) */
};

/* Counts, by the store's copy, where old (the identity) stands in each
 * circle it had joined, against next (the new key). */
AM_NODISCARD int am_rotate_progress(struct am_store *s,
	const uint8_t old[static AM_ID_BYTES], const uint8_t next[static AM_ID_BYTES],
	struct am_rotate_progress *out);

/*
 * Makes the rotation's new key the identity of home: the key file is
 * kept as AM_ROTATE_OLD_PREFIX + hex of old + ".key" (linked, never
 * overwritten), then AM_ROTATE_NEXT is renamed over the key file and the
 * directory synced. A crash at any step leaves either key file whole, and
 * calling it again finishes. old is the current identity's ID.
 */
AM_NODISCARD int am_rotate_switch(const char *home,
	const uint8_t old[static AM_ID_BYTES]);

#endif
