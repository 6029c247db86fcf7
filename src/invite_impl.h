/*
 * What both sides of the join exchange share (src/invite.c, the joiner's;
 * src/invite_serve.c, the inviter's): the message version, the domain
 * of a join signature and the limits every message is read under.
 */
#ifndef AMENDS_INVITE_IMPL_H
#define AMENDS_INVITE_IMPL_H

#include "amends/invite.h"
#include "mp.h"

#define JOIN_DOMAIN "amends-join-v1"
#define PREVIEW_DOMAIN "amends-preview-v1"
#define PREVIEW_VERSION 1
#define PREVIEW_MAX (4 * AM_ENTRY_MAX)   /* bytes of a preview */
#define MSG_VERSION 1
#define MAX_MSG (1024 * 1024)
#define ENTRIES_BYTES (900 * 1024)   /* entry bytes per ENTRIES message */

/* Limits of every join-exchange message, from either side. */
static const struct am_mp_limits msg_limits = {
	.max_bytes = MAX_MSG,
	.max_depth = 2,
	.max_nodes = AM_INVITE_BATCH + 16,
	.max_count = AM_INVITE_BATCH,
	.max_str = 255,
	.max_bin = PREVIEW_MAX,
};

/* Limits of a preview's bytes: [version, circle, name, role, joiner,
 * genesis, proposal, [[id, name | nil], ...], made]. */
static const struct am_mp_limits preview_limits = {
	.max_bytes = PREVIEW_MAX,
	.max_depth = 3,
	.max_nodes = 16 + 3 * AM_INVITE_MAX_MEMBERS,
	.max_count = AM_INVITE_MAX_MEMBERS,
	.max_str = AM_INVITE_MAX_MEMBER_NAME,
	.max_bin = AM_ENTRY_MAX,
};

/* What a preview says (protocol/invite.md, "PREVIEW"). */
struct invite_preview_fields {
	const uint8_t *circle;
	const char *name;
	size_t name_len;
	uint32_t role;
	const uint8_t *joiner;
	const uint8_t *genesis, *proposal;
	size_t genesis_len, proposal_len;
	const struct am_invite_member *members;  /* of nmembers, listed in order */
	uint32_t nmembers;
	int64_t made;
};

/* Writes the PREVIEW message of f, signed by id, into w. AM_ERR_TOO_BIG
 * when the preview would be larger than PREVIEW_MAX. */
int invite_preview_write(const struct am_identity *id,
	const struct invite_preview_fields *f, struct am_mp_writer *w);

#endif
