/*
 * What src/bundle.c and src/bundle_export.c share: the end of writing a
 * bundle, plain or signed.
 */
#ifndef AMENDS_BUNDLE_IMPL_H
#define AMENDS_BUNDLE_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "mp.h"

/* Hands out what w holds as the bundle (*data, *len), with its counts
 * when asked for; AM_ERR_TOO_BIG over AM_BUNDLE_MAX_BYTES. */
int bundle_take(struct am_mp_writer *w, size_t entries, size_t forks,
	uint8_t **data, size_t *len, size_t *nentries, size_t *nforks);

#endif
