/*
 * The node: the long-running process that keeps this data directory's
 * record in step with the other members' nodes. It serves one CURVE server
 * socket, keeps an outbound link to every member whose address it knows,
 * runs one sync session (amends/sync.h) per connected peer, answers
 * invites (amends/invite.h), and notices at once when a local command
 * wrote to the store (a nudge on a local socket, with a short timer on
 * PRAGMA data_version behind it), then pushes the new entries live.
 *
 * Only one node may run on a data directory: it holds an exclusive lock on
 * AM_NODE_LOCK there for as long as it runs.
 */
#ifndef AMENDS_NODE_H
#define AMENDS_NODE_H

#include <signal.h>
#include <stdbool.h>

#include "amends/error.h"
#include "amends/id.h"

struct am_sync_msg;

#define AM_NODE_LISTEN "tcp://0.0.0.0:7411"  /* when neither option nor setting */
#define AM_NODE_LOCK "node.lock"             /* in the data directory */
#define AM_NODE_SOCKET "node.sock"           /* the nudge socket, likewise */
#define AM_NODE_ASK "node.ask"               /* questions to the node, likewise */
#define AM_NODE_ASK_MS 5000                  /* the node's wait for a peer's answer */
#define AM_NODE_SETTING_LISTEN "listen"      /* store setting: the endpoint */
#define AM_NODE_COMPARE_S 60                 /* compare records this often (s) */
#define AM_NODE_COMPARE_MAX_S 604800         /* ... and at least once a week */

struct am_node_config {
	const char *home;                    /* the data directory */
	const char *listen;                  /* endpoint to bind; NULL: the
	                                        `listen` setting, else
	                                        AM_NODE_LISTEN */
	/* How often (seconds, 1 to AM_NODE_COMPARE_MAX_S; 0: the default,
	 * AM_NODE_COMPARE_S) the node compares its record with each
	 * connected peer's once more, while nothing else happens
	 * (anti-entropy, am_sync_recheck): what a lost connection dropped is
	 * found within this time. New entries are pushed at once whatever
	 * it is. */
	unsigned compare_s;
	/* Receives one line per event (no newline); called on the node's
	 * thread. The node itself never prints. */
	void (*log)(void *ctx, const char *line);
	void *log_ctx;
	/* The node stops soon after *stop becomes non-zero (a signal handler
	 * sets it; the handler should not restart system calls, so the wait
	 * is cut short at once). */
	volatile sig_atomic_t *stop;
};

/*
 * Runs the node until *cfg->stop is set, then closes every connection and
 * the store; every store write is a transaction, so stopping at any moment
 * leaves nothing half-written. Fails before doing anything with
 * AM_ERR_LOCKED when another node runs on the data directory, AM_ERR_NET
 * when the endpoint cannot be bound, AM_ERR_SELFTEST when the start-up
 * self-test finds a stranger's key admitted; the identity's and store's
 * own errors otherwise. The log says what failed. When a key rotation
 * completes by its copy (include/amends/rotate.h), it switches the key
 * files, closes everything and runs again with the new key on the
 * endpoint it had bound, holding the lock throughout.
 */
AM_NODISCARD int am_node_run(const struct am_node_config *cfg);

/* True when a node holds the lock of the data directory home. */
bool am_node_running(const char *home);

/* Store settings through which the commands learn whether the running
 * node has compared its record with a peer since it started: the node
 * writes its start (wall clock, ms, in decimal) into the first when it
 * starts, and the same value into the second once a comparison with a
 * peer has ended (each in a transaction of its own); it empties the
 * second when it stops. */
#define AM_NODE_SETTING_STARTED "node-started"
#define AM_NODE_SETTING_COMPARED "node-compared"

struct am_store;

/*
 * Whether a command should not write an entry of its own now: a node runs
 * on the data directory home (am_node_running), s (its store) knows at
 * least one peer, and that node has not compared its record with any
 * peer since it started. Until then the store may be a stale copy whose
 * owner went on writing elsewhere, and an entry numbered from it would
 * fork the owner's feed (issue 22). *started_ms receives the node's start
 * (wall clock, ms) when true. False when no node runs, when the node
 * predates these settings, or when the store knows no peer (a node alone
 * has nobody to compare with, and must not block its user for ever).
 */
bool am_node_fresh(const char *home, struct am_store *s, int64_t *started_ms);

/*
 * Wakes the node running on home (if any) to look at the store now: for
 * commands that just wrote to it. Best effort; returns at once when no
 * node runs, and within a fraction of a second otherwise.
 */
void am_node_nudge(const char *home);

/*
 * Asks the node running on home for the heads of every circle that peer
 * shares with it, which the node asks of peer on its own live session
 * (am_sync_ask_heads), so that no second connection under this identity
 * takes that session over at the peer. Calls fn with each HEADS that
 * comes (the message is valid during the call only; a circle may come
 * more than once, the last is the newest); fn's non-zero return stops it.
 * AM_OK once the peer has shown them all. Otherwise why receives the
 * node's sentence and the code says: AM_ERR_UNREACHABLE when no node
 * answers on home or the peer is not connected or did not answer within
 * AM_NODE_ASK_MS, AM_ERR_NOT_FOUND when peer is no peer of that node,
 * AM_ERR_AGAIN when a question to that peer is already open; the peer's
 * own code when it refused. Waits at most timeout_ms.
 */
AM_NODISCARD int am_node_ask_heads(const char *home,
	const uint8_t peer[static AM_ID_BYTES], int timeout_ms,
	int (*fn)(void *ctx, const struct am_sync_msg *m), void *ctx,
	char why[static 201]);

#endif
