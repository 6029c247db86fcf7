/*
 * Fuzz target: reading a signed export (amends verify --file), as from an
 * untrusted file: the bundle reader in the mode that keeps what precedes a
 * cut, then the manifest decoder and its signature check.
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
	struct am_bundle_manifest m = { 0 };
	int rc = AM_OK;
	if (sodium_init() < 0)
		return 0;
	if (am_bundle_read(data, size, AM_BUNDLE_ALLOW_CUT, &b) != AM_OK)
		return 0;
	if (b->manifest != NULL &&
	    am_bundle_manifest_decode(b->manifest, b->manifest_len, &m) == AM_OK) {
		for (size_t i = 0; i < m.nfeeds; i++)
			if (am_bundle_manifest_feed(&m, m.feeds[i].circle,
			    m.feeds[i].author) != &m.feeds[i])
				__builtin_trap();
		/* an altered manifest is an expected outcome, not a finding */
		rc = am_bundle_manifest_verify(&m);
	}
	am_bundle_manifest_finish(&m);
	am_bundle_destroy(&b);
	return rc == AM_ERR_NOMEM ? -1 : 0;
}
