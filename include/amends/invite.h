/*
 * Invites: how a person joins a circle from a code pasted in a message.
 *
 * The code carries the circle's ID, the inviter's ID, the inviter node's
 * address, an expiry and a one-time secret, with a checksum so that a
 * truncated or mistyped code is refused rather than misread. The inviter
 * does not know the joiner's ID yet, so the secret stands for the joiner
 * until it is used: it seeds a throwaway CurveZMQ key pair, and the
 * inviter's node admits that key (and no other stranger) while the invite
 * is pending. The inviter keeps only the throwaway public key, never the
 * secret.
 *
 * The exchange, over a CURVE connection made with the throwaway key and the
 * inviter's real server key (messages are msgpack arrays [1, type, ...]):
 *
 *   joiner -> JOIN     [1, 1, joiner ID bin32, signature bin64]
 *                      the joiner's real key signs "amends-join-v1" ||
 *                      invite key || circle || joiner ID
 *   inviter <- WELCOME [1, 2, circle bin32, proposal bin32, role uint]
 *                      the inviter checked the invite is neither used
 *                      (by anyone else) nor expired, marked it used by this
 *                      joiner, and wrote the MEMBER proposal naming the
 *                      joiner (plus its own ACCEPT when the rules ask one)
 *   joiner -> MORE     [1, 5, author bin32 | nil, from uint]
 *   inviter <- ENTRIES [1, 6, [entry bin, ...], next author | nil, next from]
 *                      the circle's entries, feed by feed, at most 256 per
 *                      message, once the joiner's proposal is stored
 *                      (members, joined or pending, may read a circle,
 *                      as in sync); nil: no more. `amends join` walks the
 *                      whole record first, so that its acceptance is
 *                      checked against the circle's rules like any entry
 *   joiner -> ACCEPT   [1, 3, entry bin]: the joiner's ACCEPT of proposal
 *   inviter <- ADMITTED [1, 4, joined bool, waiting uint]: stored; joined
 *                      when every member has accepted, else how many still
 *                      have to
 *   either <- REFUSED  [1, 9, code uint (AM_ERR_*), text str]
 *
 * Everything later goes through the normal authenticated channel between
 * the two nodes' real keys. A JOIN repeated by the same joiner on a used
 * invite is answered again (so an interrupted join can be retried), within
 * AM_INVITE_GRACE_MS of its first use.
 */
#ifndef AMENDS_INVITE_H
#define AMENDS_INVITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amends/entry.h"
#include "amends/error.h"
#include "amends/id.h"
#include "amends/peer.h"
#include "amends/store.h"

#define AM_INVITE_SECRET_BYTES 16
#define AM_INVITE_MAX_CODE 600                  /* characters of a code */
#define AM_INVITE_MAX_EXPIRY (30LL * 86400000)  /* ms an invite may live */
#define AM_INVITE_GRACE_MS (10 * 60000)         /* a used invite stays
                                                   reachable this long */
#define AM_INVITE_BATCH 256                     /* entries per ENTRIES */

/* A decoded invite code. */
struct am_invite {
	bool witness;                        /* joins as a witness */
	uint8_t circle[AM_HASH_BYTES];
	uint8_t inviter[AM_ID_BYTES];
	uint8_t secret[AM_INVITE_SECRET_BYTES];
	int64_t expires;                     /* ms since the epoch */
	char address[AM_PEER_MAX_ADDRESS];   /* the inviter node's address */
};

/*
 * Creates an invite to circle from identity id: draws the secret, records
 * the pending invite (its throwaway key, circle, role, expiry) in the
 * store and returns the code, malloc'd (the caller frees it). now and
 * expires are ms since the epoch; expires must be after now and at most
 * AM_INVITE_MAX_EXPIRY later (AM_ERR_ARG). AM_ERR_ARG too when address is
 * not am_peer_address_ok().
 */
AM_NODISCARD int am_invite_create(struct am_store *s,
	const struct am_identity *id, const uint8_t circle[static AM_HASH_BYTES],
	bool witness, int64_t now, int64_t expires, const char *address,
	char **code);

/* Decodes a code (surrounding and embedded white space is ignored, and
 * either case). AM_ERR_INVITE_CODE when it is not a whole, valid code. */
AM_NODISCARD int am_invite_parse(const char *code, struct am_invite *out);

/* Writes inv as a code (the caller frees it). */
AM_NODISCARD int am_invite_format(const struct am_invite *inv, char **code);

/* The throwaway CurveZMQ key pair the secret seeds. */
void am_invite_keys(const uint8_t secret[static AM_INVITE_SECRET_BYTES],
	uint8_t pub[static AM_CURVE_BYTES], uint8_t sec[static AM_CURVE_BYTES]);

/* Calls fn with the throwaway key of each invite the node should admit at
 * now: pending and unexpired, or used less than AM_INVITE_GRACE_MS ago. */
AM_NODISCARD int am_invite_admitted(struct am_store *s, int64_t now,
	int (*fn)(void *ctx, const uint8_t key[static AM_CURVE_BYTES]), void *ctx);

/* ---- the inviter's side ---- */

enum am_invite_outcome {
	AM_INVITE_NOTHING = 0,
	AM_INVITE_JOINED = 1,      /* a JOIN was answered with WELCOME */
	AM_INVITE_ACCEPTED = 2,    /* the joiner's ACCEPT was stored */
	AM_INVITE_SENT = 3,        /* a batch of entries was sent */
	AM_INVITE_REFUSED = 4,     /* a request was refused; why says why */
};

struct am_invite_event {
	enum am_invite_outcome outcome;
	uint8_t joiner[AM_ID_BYTES];         /* when known */
	bool has_joiner;
	uint8_t circle[AM_HASH_BYTES];
	uint32_t count;                      /* SENT: entries; ACCEPTED: members
	                                        who still have to accept */
	bool joined;                         /* ACCEPTED: the joiner is in */
	char why[160];                       /* REFUSED: a sentence */
};

/*
 * Answers one request that arrived from the throwaway key key at now (ms),
 * writing what the exchange calls for with identity id (the node's own).
 * *reply is the malloc'd answer to send back (the caller frees it; NULL
 * only on failure), and ev says what happened, for the node's log. A
 * refusal is an answer, not a failure: the return value is AM_OK unless
 * the store or memory failed.
 */
AM_NODISCARD int am_invite_serve(struct am_store *s, const struct am_identity *id,
	const uint8_t key[static AM_CURVE_BYTES], int64_t now,
	const uint8_t *req, size_t len, uint8_t **reply, size_t *reply_len,
	struct am_invite_event *ev);

/* ---- the joiner's side ---- */

enum am_invite_msg {
	AM_INVITE_MSG_JOIN = 1,
	AM_INVITE_MSG_WELCOME = 2,
	AM_INVITE_MSG_ACCEPT = 3,
	AM_INVITE_MSG_ADMITTED = 4,
	AM_INVITE_MSG_MORE = 5,
	AM_INVITE_MSG_ENTRIES = 6,
	AM_INVITE_MSG_REFUSED = 9,
};

/* The JOIN for inv, signed by the joiner's identity id. */
AM_NODISCARD int am_invite_join_msg(const struct am_invite *inv,
	const struct am_identity *id, uint8_t **msg, size_t *len);

/* The ACCEPT message carrying the joiner's signed ACCEPT entry. */
AM_NODISCARD int am_invite_accept_msg(const uint8_t *entry, size_t entry_len,
	uint8_t **msg, size_t *len);

/* A MORE asking for entries from (author, from); author NULL: the start. */
AM_NODISCARD int am_invite_more_msg(const uint8_t *author, uint64_t from,
	uint8_t **msg, size_t *len);

/* A decoded answer from the inviter. Pointers point into the message. */
struct am_invite_reply {
	enum am_invite_msg type;
	uint8_t circle[AM_HASH_BYTES];       /* WELCOME */
	uint8_t proposal[AM_HASH_BYTES];     /* WELCOME */
	uint32_t role;                       /* WELCOME */
	bool joined;                         /* ADMITTED */
	uint32_t waiting;                    /* ADMITTED */
	uint32_t nentries;                   /* ENTRIES */
	const uint8_t *entries[AM_INVITE_BATCH];
	size_t entry_len[AM_INVITE_BATCH];
	bool more;                           /* ENTRIES: next_* is a cursor */
	uint8_t next_author[AM_ID_BYTES];
	uint64_t next_from;
	uint32_t code;                       /* REFUSED: AM_ERR_* */
	char text[256];                      /* REFUSED */
};

/* Decodes an answer. AM_ERR_* of the decoder when it is malformed. */
AM_NODISCARD int am_invite_reply_parse(const uint8_t *msg, size_t len,
	struct am_invite_reply *out);

#endif
