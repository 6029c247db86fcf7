/*
 * What the reading commands print about agreements: schedules, statuses,
 * check-ins and answers as text and JSON. The agreement itself, its
 * check-ins and adherence are assembled by the library's views
 * (include/amends/view.h); this prints them.
 */
#ifndef AMENDS_CLI_AGREEMENT_H
#define AMENDS_CLI_AGREEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amends/schedule.h"
#include "amends/state.h"
#include "amends/view.h"
#include "format.h"

/* A one-line description of the current terms' schedule ("every day at
 * 21:00 Europe/Paris, grace 30m") into out. */
void cli_agreement_schedule_text(const struct am_terms *t, char *out,
	size_t size);

/*
 * Readers isolate: what goes wrong reading one agreement is that
 * agreement's alone. cli_agreement_unshown() tells whether rc, returned
 * by am_view_agreement() for id, is such an error (anything but AM_OK,
 * AM_ERR_ZONE, which reads the rest, or an error of the whole store: out
 * of memory, the database) and, when it is, prints one line saying which
 * agreement could not be shown and why; the caller then shows the rest.
 */
bool cli_agreement_unshown(const uint8_t id[static 32], int rc);
/* The same for anything else a reader shows part by part: what names it
 * ("circle", "the statements of circle"), id is its hash or ID. */
bool cli_unshown(const char *what, const uint8_t id[static 32], int rc);

/*
 * Marks of claimed times (include/amends/view.h, am_view_dated) for an
 * entry claimed at time referring to what was claimed at refers
 * (INT64_MIN: nothing), as the reader sees them at now.
 * cli_dated_text() writes " (dated before the WHAT; dated in the
 * future)", either part alone, or "" into out; what names what it refers
 * to ("check-in it confirms"). cli_json_dated() writes "dated": null,
 * "before", "future" or "before,future", with the json writer's clock.
 */
void cli_dated_text(int64_t time, int64_t refers, const char *what,
	int64_t now, char *out, size_t size);
void cli_json_dated(struct json *j, int64_t time, int64_t refers);

/* Names of an agreement's and a version's status as written in JSON
 * ("in_force"); cli_words() makes them text ("in force"). */
const char *cli_agreement_status_name(uint32_t status);
const char *cli_version_status_name(uint32_t status);

/* Writes the schedule of t as a JSON object (null without one). */
void cli_json_schedule(struct json *j, const struct am_terms *t);

/* Writes "marks": the confirmations and disputes m[0..n) of what was
 * claimed at refers. */
void cli_json_marks(struct json *j, const struct am_mark *m, uint32_t n,
	int64_t refers);

/* Writes an adherence as a JSON object. */
void cli_json_adherence(struct json *j, const struct am_adherence *a);

/* Describes the object hash for a person ("version 3fa9c2d1 of 'Evening
 * check-in'", "alex joining 'us' as witness") into out. */
void cli_describe(struct am_store *s, const uint8_t hash[static 32], char *out,
	size_t size);

/* "confirmed", "disputed" or "awaiting" for a check-in. */
const char *cli_checkin_state(const struct am_checkin *c);
/* Who must still confirm x's check-in i (a correction) before it counts:
 * those who answered the one that counts and do not stand confirming it,
 * as names joined by " and " into out. Returns how many. */
size_t cli_checkin_waits(struct am_store *s, const struct am_checkin *v,
	size_t n, size_t i, char *out, size_t size);
/* How x's check-in i stands among its author's check-ins of its period,
 * as a phrase ("corrects 3fa9c2d1: counts once alex confirms it"), or ""
 * when it is the only one. s names people; it may be NULL. */
void cli_checkin_role(struct am_store *s, const struct am_checkin *v,
	size_t n, size_t i, char *out, size_t size);
/* Writes "counts", "correction", "corrects" and "answers" (every
 * confirmation and dispute, each person's in order) of k. */
void cli_json_checkin_history(struct json *j, const struct am_checkin *k);

/* Whom the removal hash in circle names (into target), and whether it
 * has taken effect (*done); false when this store knows of no such open
 * or effective removal. */
bool cli_removal_target(struct am_store *s, const uint8_t circle[static 32],
	const uint8_t hash[static 32], uint8_t target[static 32], bool *done);

#endif
