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
 * Writes body as c's identity into circle (for a GENESIS body, the circle
 * its nonce makes). c must hold the identity and the store. Returns 0 with
 * hash (when not NULL) set to the new entry's hash, or prints why not and
 * returns 1.
 */
int cli_write(struct cli *c, const uint8_t circle[static 32],
	const struct am_body *body, uint8_t *hash);

#endif
