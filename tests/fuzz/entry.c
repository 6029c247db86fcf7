/*
 * Fuzz target: the entry decoder, the signature check and the body
 * decoder, on arbitrary bytes as a peer or a file could send them.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "amends/entry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct am_body body;
	struct am_entry e;
	if (sodium_init() < 0)
		return 0;
	if (am_entry_decode(data, size, &e) != AM_OK)
		return 0;
	/* a decoded entry's views stay inside the input */
	if (e.body < data || e.body + e.body_len > data + size ||
	    e.signed_bytes < data || e.signed_bytes + e.signed_len > data + size)
		__builtin_trap();
	(void)am_entry_verify(&e);
	/* a kind this build does not know decodes with its body unread
	 * (protocol/entry.md, "Kinds a node does not know") */
	if (!am_kind_known(e.kind)) {
		if (am_body_decode(e.kind, e.body, e.body_len, &body) != AM_ERR_KIND)
			__builtin_trap();
		return 0;
	}
	if (am_body_decode(e.kind, e.body, e.body_len, &body) != AM_OK) {
		/* am_entry_decode checked the body of format 1's kinds; a
		 * later kind's is the state's to check */
		if (e.kind <= AM_KIND_FORMAT1)
			__builtin_trap();
		return 0;
	}
	/* re-encoding what was decoded gives the same bytes */
	uint8_t *again;
	size_t len;
	if (am_body_encode(&body, &again, &len) == AM_OK) {
		if (len != e.body_len || memcmp(again, e.body, len) != 0)
			__builtin_trap();
		free(again);
	}
	return 0;
}
