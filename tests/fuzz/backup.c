/*
 * Fuzz target: reading a key backup file (amends init --restore).
 */
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "amends/id.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct am_identity *id = NULL;
	if (sodium_init() < 0)
		return 0;
	if (am_identity_restore(data, size, "fuzz", 4, &id) == AM_OK)
		am_identity_destroy(&id);
	return 0;
}
