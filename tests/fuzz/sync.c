/*
 * Fuzz target: the sync message decoder, the first thing every message a
 * peer sends meets after the transport; a message that decodes encodes
 * back to the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "amends/sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct am_sync_msg m;
	uint8_t *again;
	size_t len;
	if (am_sync_msg_decode(data, size, &m) != AM_OK)
		return 0;
	if (am_sync_msg_encode(&m, &again, &len) != AM_OK)
		__builtin_trap();    /* what decodes must encode */
	if (len != size || memcmp(again, data, size) != 0)
		__builtin_trap();    /* one value, one encoding */
	free(again);
	return 0;
}
