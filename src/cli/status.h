/*
 * What src/cli/status.c and src/cli/status_record.c share: the record
 * status has loaded, a section's heading, and the sections of the second.
 */
#ifndef AMENDS_CLI_STATUS_H
#define AMENDS_CLI_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agreement.h"
#include "amends/state.h"
#include "format.h"

/* One circle and what the sections read of it, loaded once. */
struct circle_data {
	const struct am_circle_info *info;
	uint8_t digest[32];
	bool witness;                     /* you are its witness */
	struct am_agreement_view *ag;
	size_t nag;
	struct am_statement *st;
	size_t nst;
	struct am_removal *rm;            /* removals still open */
	size_t nrm;
};

struct status {
	struct am_store *s;
	struct am_view *view;             /* the one snapshot load() reads */
	const uint8_t *me;
	const uint8_t *next;              /* a rotation's new key, or NULL */
	int64_t now;
	bool json;
	struct json j;
	struct am_circle_info *circles;
	size_t ncircles;
	struct circle_data *cd;
	struct am_pending *pending;       /* awaiting your signature */
	size_t npending;
};

/* A section's heading (text) or key and array (JSON); n is how many
 * items follow (a text heading is left out when there are none). */
void section_begin(struct status *st, const char *key, const char *heading,
	size_t n);
void section_end(struct status *st);

/* status_record.c */
void section_peers(struct status *st);
void section_checkpoints(struct status *st);
void section_misbehaviour(struct status *st);
void section_paused(struct status *st);

#endif
