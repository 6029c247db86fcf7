/*
 * The one way the commands write an entry: ask the state whether it would
 * count, and only then sign and store it. A refusal prints the state's own
 * sentence and writes nothing.
 */
#ifndef AMENDS_CLI_WRITE_H
#define AMENDS_CLI_WRITE_H

#include <stdint.h>

#include "amends/body.h"
#include "cli.h"

/*
 * The time to claim for body, written by me into circle when the clock
 * reads now (protocol/entry.md, "Claimed times"): the latest of now, me's
 * previous entry in the feed while within the state's bounds, and what
 * body refers to when at most AM_VIEW_FUTURE_MS ahead of now.
 */
int64_t cli_stamp(struct am_store *s, const uint8_t circle[static 32],
	const uint8_t me[static 32], const struct am_body *body, int64_t now);

/*
 * Writes body as c's identity into circle (for a GENESIS body, the circle
 * its nonce makes). c must hold the identity and the store. Returns 0 with
 * hash (when not NULL) set to the new entry's hash, or prints why not and
 * returns 1.
 */
int cli_write(struct cli *c, const uint8_t circle[static 32],
	const struct am_body *body, uint8_t *hash);

/*
 * Signs this person's display name (amends name --self, init --name) into
 * circle, or every circle they have joined when circle is NULL, where it
 * does not show yet (am_display_publish). Returns 0, setting *written
 * (may be NULL), or prints why not and returns 1.
 */
int cli_publish_name(struct cli *c, const uint8_t *circle, unsigned *written);

#endif
