/*
 * How the commands understand what people type: IDs (text form, nickname
 * or a unique start of a known ID), circles (name or ID prefix), objects
 * (a unique hex prefix of their hash, as git does), and the values of
 * options (durations, dates, times of day, weekdays, schedules, zones).
 *
 * Every function here that can refuse prints one sentence through
 * cli_error() and returns 1; it returns 0 on success.
 */
#ifndef AMENDS_CLI_RESOLVE_H
#define AMENDS_CLI_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include "amends/body.h"
#include "amends/store.h"

/* An ID given as its text form ("am" + 56 characters), a nickname given
 * with `amends name`, the start (at least "am" + 4 characters) of the
 * text form of one member of a circle this node holds, or the safety
 * number of one (its 35 digits). */
int cli_resolve_id(struct am_store *s, const char *text, uint8_t id[static 32]);

/* A circle given by its name (when no other circle here has it) or a hex
 * prefix of its ID (at least 4 digits). */
int cli_resolve_circle(struct am_store *s, const char *text,
	uint8_t circle[static 32]);

/* An object of the kinds in mask (enum am_object of amends/state.h) given
 * by a hex prefix of its hash, at least 4 digits; what names the kinds in
 * the refusal
 * ("check-in", "agreement"). */
int cli_resolve_object(struct am_store *s, const char *text, unsigned mask,
	const char *what, uint8_t hash[static 32]);

/* Text given to opt (a note, a reason, a statement): valid UTF-8, 1 to
 * max bytes. */
int cli_text_ok(const char *opt, const char *text, size_t max);

/* A duration such as 30m, 2h, 1d, 7d, 1w or 1d12h, into seconds; at most
 * ten years. opt names the option in the refusal. */
int cli_parse_duration(const char *opt, const char *text, uint64_t *secs);

/* A calendar date YYYY-MM-DD that exists. */
int cli_parse_date(const char *opt, const char *text);

/* A time of day HH:MM, into minutes after midnight. */
int cli_parse_hhmm(const char *text, uint32_t *minutes);

/* A weekday: monday..sunday or mon..sun, any case; 0 is Monday. */
int cli_parse_weekday(const char *text, uint32_t *weekday);

/* --every: "day", "week" or "Nh" (N from 1 to 8784). */
int cli_parse_every(const char *text, uint32_t *every, uint32_t *hours);

/* A pause "FROM..UNTIL" (dates, inclusive; UNTIL not before FROM); the
 * views point into text. */
int cli_parse_pause(const char *text, struct am_pause *p);

/*
 * The time zone to write into a new agreement when none is given: $TZ
 * (without a leading ':'), else the zone /etc/localtime links to, else
 * "UTC". Refuses a zone the schedule module does not know. out holds at
 * least AM_MAX_TZ + 1 bytes.
 */
int cli_local_zone(const char *given, char *out, size_t size);

#endif
