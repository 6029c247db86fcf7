/*
 * Fuzz target: reading a key backup file (amends init --restore).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <sodium.h>

#include "amends/id.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct am_identity *id = NULL;
	uint8_t *book = NULL;
	size_t booklen;
	if (sodium_init() < 0)
		return 0;
	if (am_identity_restore(data, size, "fuzz", 4, &id) == AM_OK)
		am_identity_destroy(&id);
	/* the form with an address book after the key part */
	if (am_identity_restore_book(data, size, "fuzz", 4, &id, &book,
	    &booklen) == AM_OK) {
		am_identity_destroy(&id);
		free(book);
	}
	return 0;
}
