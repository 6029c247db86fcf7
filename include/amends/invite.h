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
 * The exchange (protocol/invite.md), over a CURVE connection made with the
 * throwaway key and the inviter's real server key, in msgpack arrays
 * [1, type, ...]:
 *
 *   joiner -> JOIN     [1, 1, joiner ID bin32, signature bin64]
 *   inviter <- PREVIEW [1, 7, preview bin, signer bin32, signature bin64]
 *                      the invite is claimed for this joiner and the MEMBER
 *                      proposal naming them written; the preview (the
 *                      circle's name, genesis, that proposal, the joined
 *                      members) is signed by the code's issuer. No feed
 *                      entry travels: a person who is only proposed sees
 *                      the preview and decides
 *   joiner -> ANSWER   [1, 3, entry bin]: the joiner's ACCEPT or DECLINE of
 *                      the proposal, the first entry of its feed
 *   inviter <- ADMITTED [1, 4, joined bool, waiting uint]
 *   joiner -> MORE     [1, 5, author bin32 | nil, from uint]
 *   inviter <- ENTRIES [1, 6, [entry bin, ...], next author | nil, next from]
 *                      only once the joiner is a joined member
 *   either <- REFUSED  [1, 9, code uint (AM_ERR_*), text str]
 *
 * Everything later goes through the normal authenticated channel between
 * the two nodes' real keys. A JOIN repeated by the same joiner on a used
 * invite is answered again, within AM_INVITE_GRACE_MS of its first use.
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
#define AM_INVITE_MAX_MEMBERS 256               /* members a preview lists */
#define AM_INVITE_MAX_MEMBER_NAME 255           /* bytes of a member's name */

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

/* An invite this node made, as am_invite_list gives it. */
struct am_invite_open {
	uint8_t key[AM_CURVE_BYTES];         /* its throwaway key: names it */
	uint8_t circle[AM_HASH_BYTES];
	uint32_t role;                       /* enum am_role offered */
	int64_t created, expires;            /* ms since the epoch */
};

/* Calls fn with each open invite at now (ms): made here, unused, not
 * revoked and unexpired, oldest first. fn's non-AM_OK return stops the
 * walk and is returned. */
AM_NODISCARD int am_invite_list(struct am_store *s, int64_t now,
	int (*fn)(void *ctx, const struct am_invite_open *inv), void *ctx);

/* The throwaway key that names the invite of a code (am_invite_parse's
 * errors when code is not one). */
AM_NODISCARD int am_invite_code_key(const char *code,
	uint8_t key[static AM_CURVE_BYTES]);

/*
 * Revokes the open invite named by key at now (ms): from then on a join
 * with its code is refused with AM_ERR_INVITE_REVOKED. AM_ERR_NOT_FOUND
 * when this node made no such invite, AM_ERR_INVITE_USED when someone
 * joined with it already (their proposal is written: withdraw that
 * instead), AM_ERR_INVITE_EXPIRED when it has expired; revoking a revoked
 * invite again is AM_OK. The check and the write are one transaction, so
 * a join racing the revocation either claims the invite first or is
 * refused.
 */
AM_NODISCARD int am_invite_revoke(struct am_store *s,
	const uint8_t key[static AM_CURVE_BYTES], int64_t now);

/* ---- the inviter's side ---- */

enum am_invite_outcome {
	AM_INVITE_NOTHING = 0,
	AM_INVITE_JOINED = 1,      /* a JOIN was answered with PREVIEW */
	AM_INVITE_ACCEPTED = 2,    /* the joiner's ACCEPT was stored */
	AM_INVITE_SENT = 3,        /* a batch of entries was sent */
	AM_INVITE_REFUSED = 4,     /* a request was refused; why says why */
	AM_INVITE_DECLINED = 5,    /* the joiner's DECLINE was stored */
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
	AM_INVITE_MSG_ANSWER = 3,
	AM_INVITE_MSG_ADMITTED = 4,
	AM_INVITE_MSG_MORE = 5,
	AM_INVITE_MSG_ENTRIES = 6,
	AM_INVITE_MSG_PREVIEW = 7,
	AM_INVITE_MSG_REFUSED = 9,
};

/* The JOIN for inv, signed by the joiner's identity id. */
AM_NODISCARD int am_invite_join_msg(const struct am_invite *inv,
	const struct am_identity *id, uint8_t **msg, size_t *len);

/* The ANSWER message carrying the joiner's signed ACCEPT or DECLINE. */
AM_NODISCARD int am_invite_answer_msg(const uint8_t *entry, size_t entry_len,
	uint8_t **msg, size_t *len);

/* A MORE asking for entries from (author, from); author NULL: the start. */
AM_NODISCARD int am_invite_more_msg(const uint8_t *author, uint64_t from,
	uint8_t **msg, size_t *len);

/* A decoded answer from the inviter. Pointers point into the message. */
struct am_invite_reply {
	enum am_invite_msg type;
	const uint8_t *preview;              /* PREVIEW: the signed bytes */
	size_t preview_len;
	uint8_t signer[AM_ID_BYTES];         /* PREVIEW */
	uint8_t sig[AM_SIG_BYTES];           /* PREVIEW */
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

/* A preview, checked (am_invite_preview_open). Pointers point into the
 * message it was read from. */
struct am_invite_member {
	uint8_t id[AM_ID_BYTES];
	bool has_name;
	char name[AM_INVITE_MAX_MEMBER_NAME + 1];  /* the inviter's name for it */
};

struct am_invite_preview {
	uint8_t circle[AM_HASH_BYTES];
	char name[AM_MAX_NAME + 1];          /* the circle's, from its genesis */
	uint32_t role;                       /* enum am_role offered */
	uint8_t joiner[AM_ID_BYTES];
	uint8_t proposer[AM_ID_BYTES];       /* author of the proposal */
	uint8_t proposal[AM_HASH_BYTES];     /* its hash: what the answer names */
	uint8_t creator[AM_ID_BYTES];
	int64_t created;                     /* the genesis's claimed time */
	int64_t made;                        /* when the preview was made, ms */
	const uint8_t *genesis, *proposal_raw;
	size_t genesis_len, proposal_len;
	uint32_t nmembers;
	struct am_invite_member members[AM_INVITE_MAX_MEMBERS];
};

/*
 * Checks a PREVIEW message (msg, the whole of it) against the invite inv
 * and the joiner's ID: the signature of the code's issuer, the genesis
 * that makes inv's circle, the MEMBER proposal naming joiner with the
 * role offered, the members. AM_ERR_SIGNATURE, AM_ERR_FIELD or a decoding
 * error when anything does not hold.
 */
AM_NODISCARD int am_invite_preview_open(const uint8_t *msg, size_t len,
	const struct am_invite *inv, const uint8_t joiner[static AM_ID_BYTES],
	struct am_invite_preview *out);

/*
 * Makes the joiner's answer to proposal (ACCEPT, or DECLINE with reason,
 * which may be NULL): the first entry of its feed in circle, signed by id,
 * claimed at time (ms). *raw is malloc'd (the caller frees it).
 */
AM_NODISCARD int am_invite_answer_entry(const struct am_identity *id,
	const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t proposal[static AM_HASH_BYTES], bool accept,
	const char *reason, int64_t time, uint8_t **raw, size_t *len);

#endif
