/*
 * Fuzz target: the strict msgpack validator under the limits of a sync
 * message, the first thing every message from a peer meets.
 */
#include <stddef.h>
#include <stdint.h>

#include "mp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct am_mp_limits limits = {
		.max_bytes = 1 << 20, .max_depth = 4, .max_nodes = 4096,
		.max_count = 256, .max_str = 4096, .max_bin = 65536,
	};
	struct am_mp_reader r;
	uint32_t n;
	if (am_mp_validate(data, size, &limits) != AM_OK)
		return 0;
	/* what validates can be walked by the reader */
	am_mp_reader_init(&r, data, size);
	if (data[0] >= 0x90 && data[0] <= 0x9f && am_mp_read_array(&r, &n) != AM_OK)
		__builtin_trap();
	return 0;
}
