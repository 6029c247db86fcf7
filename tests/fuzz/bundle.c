/*
 * Fuzz target: parsing a bundle file (amends import), as from an untrusted
 * file. The entries it carries go through the entry decoder, fuzzed on its
 * own.
 */
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "amends/bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct am_bundle *b = NULL;
	if (sodium_init() < 0)
		return 0;
	if (am_bundle_parse(data, size, &b) != AM_OK)
		return 0;
	am_bundle_destroy(&b);
	return 0;
}
