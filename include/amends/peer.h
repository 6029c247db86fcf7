/*
 * Peers: the other nodes this node talks to, kept in the store. A peer is
 * known by its ID (its ed25519 public key, from which its CurveZMQ key
 * derives); it may have an address to connect to (set by `amends join` or
 * by hand), the time it was last seen, whether the running node is
 * connected to it, and, per circle, the last digest it reported, so that
 * `amends status` can say whether everyone holds the same record.
 *
 * Which peers a node may talk to at all is not decided here: only members
 * of a circle this node is in are admitted (the node asks the state).
 */
#ifndef AMENDS_PEER_H
#define AMENDS_PEER_H

#include <stdbool.h>
#include <stdint.h>

#include "amends/entry.h"
#include "amends/error.h"
#include "amends/id.h"
#include "amends/store.h"

#define AM_PEER_MAX_ADDRESS 256      /* bytes of an address, NUL included */

struct am_peer {
	uint8_t id[AM_ID_BYTES];
	char address[AM_PEER_MAX_ADDRESS]; /* "" when none is known */
	int64_t last_seen;               /* ms since the epoch; 0 for never */
	bool connected;                  /* as the node last recorded it; only
	                                    meaningful while a node runs */
};

/*
 * True when address is something a node can connect to:
 * "tcp://HOST:PORT" with a host name, an IPv4 address or a bracketed IPv6
 * address, and a port from 1 to 65535.
 */
bool am_peer_address_ok(const char *address);

/* Sets (adding the peer if new) or, with address NULL, clears a peer's
 * address. AM_ERR_ARG when the address is not am_peer_address_ok(). */
AM_NODISCARD int am_peer_set_address(struct am_store *s,
	const uint8_t id[static AM_ID_BYTES], const char *address);

/* Reads one peer. AM_ERR_NOT_FOUND when the store has no such peer. */
AM_NODISCARD int am_peer_get(struct am_store *s,
	const uint8_t id[static AM_ID_BYTES], struct am_peer *out);

/* Calls fn for each known peer, ordered by ID. Stops early and returns
 * fn's value when it is not AM_OK. */
AM_NODISCARD int am_peer_list(struct am_store *s,
	int (*fn)(void *ctx, const struct am_peer *peer), void *ctx);

/* Records that the node connected to (connected true) or lost the peer at
 * time now (ms), adding the peer if new. */
AM_NODISCARD int am_peer_seen(struct am_store *s,
	const uint8_t id[static AM_ID_BYTES], int64_t now, bool connected);

/*
 * The address book a key backup carries (am_identity_backup_book): one
 * line per known peer, "peer ID ADDRESS" ("-" for a peer that only ever
 * dialled this node, whose address it does not know), and per local name,
 * "name ID NAME", IDs in their text form. *out (malloc'd, NUL-terminated)
 * receives *len bytes. AM_ERR_TOO_BIG beyond AM_BACKUP_BOOK_MAX.
 */
AM_NODISCARD int am_peer_book_encode(struct am_store *s, char **out, size_t *len);

/*
 * Takes an address book back into the store, in one transaction: each
 * well-formed line sets a peer's address or a local name that the store
 * does not have yet (what the store holds wins); a line that is not
 * well-formed (unknown word, bad ID, address or name) is skipped and
 * counted in *skipped. *peers and *names count what was taken.
 */
AM_NODISCARD int am_peer_book_apply(struct am_store *s, const char *book,
	size_t len, size_t *peers, size_t *names, size_t *skipped);

/* The store setting holding, in decimal ms, the end of the recovery
 * window of a node restored from a backup: until then its node admits
 * every peer it knows (from the backup's book or `amends peer add`) and
 * dials those whose address it knows, members or not, so that they can
 * tell it which circles it is in. */
#define AM_PEER_SETTING_RECOVERY "recovery-until"

/* How long the recovery window lasts from the restore: 24 hours. */
#define AM_PEER_RECOVERY_MS (24 * 60 * 60 * 1000LL)

/* Whether now (ms) lies in the recovery window (AM_PEER_SETTING_RECOVERY). */
bool am_peer_recovering(struct am_store *s, int64_t now);

/* Marks every peer as not connected (a node starting or stopping). */
AM_NODISCARD int am_peer_disconnect_all(struct am_store *s);

/* Records the digest (am_store_digest) peer reported for circle at now. */
AM_NODISCARD int am_peer_digest_set(struct am_store *s,
	const uint8_t peer[static AM_ID_BYTES],
	const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t digest[static AM_HASH_BYTES], int64_t now);

/* One peer's last known digest of a circle. */
struct am_peer_digest {
	uint8_t peer[AM_ID_BYTES];
	uint8_t digest[AM_HASH_BYTES];
	int64_t at;                      /* ms: when the peer reported it */
};

/*
 * Calls fn with each peer's last known digest of circle, ordered by peer
 * ID. For `amends status`: a peer whose digest equals this node's own
 * am_store_digest() holds the same record; a member with no row here has
 * not been heard from. Stops early and returns fn's value when it is not
 * AM_OK.
 */
AM_NODISCARD int am_peer_digests(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES],
	int (*fn)(void *ctx, const struct am_peer_digest *d), void *ctx);

/* A summary of am_peer_digests() against this node's own digest. */
struct am_peer_compare {
	uint8_t mine[AM_HASH_BYTES];     /* am_store_digest of the circle */
	uint32_t same;                   /* peers whose last digest equals mine */
	uint32_t differ;                 /* peers whose last digest differs */
	int64_t oldest;                  /* ms: the oldest report counted */
};

/* Compares every peer's last known digest of circle with this node's. */
AM_NODISCARD int am_peer_compare(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES], struct am_peer_compare *out);

#endif
