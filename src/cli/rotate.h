/*
 * What the commands share about successions (a new key taking an old
 * one's place, protocol/state.md, "Succession"): building one, reading
 * one back, and saying what it did.
 */
#ifndef AMENDS_CLI_ROTATE_H
#define AMENDS_CLI_ROTATE_H

#include <stdbool.h>
#include <stdint.h>

#include "amends/body.h"
#include "cli.h"

/* Fills b's need list for a REMOVE or SUCCESSION (b->kind) of b->target
 * in circle: the joined members this node knows, but the target, sorted
 * by bytes (protocol/state.md, "Removal"). Prints why not and returns 1
 * when the target is not a joined member, or the circle is too large
 * (src/cli/circle.c). */
int cli_need_others(struct cli *c, const uint8_t circle[static 32],
	struct am_body *b);

/* Fills b as the SUCCESSION of old by heir in circle: the head of old's
 * feed this store holds, and as need every joined member still here but
 * old, sorted by bytes. Prints why not and returns 1 when old is not a
 * joined member still here, or the circle is too large. */
int cli_succession_body(struct cli *c, const uint8_t circle[static 32],
	const uint8_t old[static 32], const uint8_t heir[static 32],
	struct am_body *b);

/* Reads the old key and heir of the SUCCESSION entry hash back from the
 * store. False when hash is no SUCCESSION held here. */
bool cli_succession_keys(struct am_store *s, const uint8_t hash[static 32],
	uint8_t old[static 32], uint8_t heir[static 32]);

/* *forked_at: the lowest number at which id's feed in circle forked
 * (the store holds evidence of two entries at it), 0 when it has not.
 * What id signs there from that number on is ignored. */
int cli_feed_forked(struct am_store *s, const uint8_t circle[static 32],
	const uint8_t id[static 32], uint64_t *forked_at);

/* After an answer to the SUCCESSION hash: when it has taken effect,
 * prints who now holds whose place. */
void cli_tell_succeeded(struct am_store *s, const uint8_t circle[static 32],
	const uint8_t hash[static 32]);

/* amends key rotate (src/cli/rotate.c). */
int cli_key_rotate(int argc, char **argv);

#endif
