/*
 * Fuzz target: what a joiner reads from outside. The same bytes are tried
 * as an invite code a person pastes (amends join; a code that parses
 * formats back to the same text, up to letter case), as an answer from
 * the inviter's node, and as a PREVIEW checked against a fixed invite
 * (protocol/invite.md): none of them may crash, and a preview that opens
 * must name the joiner it was checked for.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "amends/invite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct am_invite_reply r;
	static struct am_invite_preview pv;
	struct am_invite inv;
	char text[4096], *again;
	uint8_t joiner[AM_ID_BYTES];

	if (size < sizeof text) {
		memcpy(text, data, size);
		text[size] = '\0';
		if (am_invite_parse(text, &inv) == AM_OK) {
			if (am_invite_format(&inv, &again) != AM_OK)
				__builtin_trap();
			free(again);
		}
	}
	(void)am_invite_reply_parse(data, size, &r);
	/* the invite of protocol/invite-vectors.txt, whose PREVIEW is a seed */
	memset(&inv, 0, sizeof inv);
	sodium_hex2bin(inv.inviter, 32, "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8",
		64, NULL, NULL, NULL);
	sodium_hex2bin(inv.circle, 32, "c1935cc4dc20c86cf282fd17542cb68247d1ae186b9bc496cadf1fc667bd0cdb",
		64, NULL, NULL, NULL);
	sodium_hex2bin(joiner, 32, "29acbae141bccaf0b22e1a94d34d0bc7361e526d0bfe12c89794bc9322966dd7",
		64, NULL, NULL, NULL);
	if (am_invite_preview_open(data, size, &inv, joiner, &pv) == AM_OK &&
	    memcmp(pv.joiner, joiner, AM_ID_BYTES) != 0)
		__builtin_trap();
	return 0;
}
