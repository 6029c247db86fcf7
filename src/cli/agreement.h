/*
 * One agreement as the reading commands need it: its state, its versions,
 * the version in force, its check-ins and its schedule, loaded once; and
 * adherence (due, kept, partial, missed, streak) per person or for all who
 * check in.
 *
 * Adherence follows the schedule of the version in force (or, once the
 * agreement has ended, the last one that was), from the day the agreement
 * first came into force (its from date when it has one) until now, or
 * until it ended. The day it came into force is when its last party signed,
 * by the claimed times of the signatures: the same on every node.
 */
#ifndef AMENDS_CLI_AGREEMENT_H
#define AMENDS_CLI_AGREEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amends/schedule.h"
#include "amends/state.h"
#include "format.h"

struct cli_agreement {
	struct am_agreement a;
	struct am_version *versions;      /* by depth, then hash */
	size_t nversions;
	const struct am_version *current; /* in force (or last in force); NULL */
	const struct am_version *newest;  /* what an amendment amends */
	struct am_checkin *checkins;
	size_t ncheckins;
	struct am_schedule *schedule;     /* of current, when it has one */
	int64_t anchor;                   /* when it first came into force, ms */
	int64_t until;                    /* now, or when it ended if earlier */
	uint32_t nchecker;                /* who checks in: by, else the parties */
	uint8_t checker[AM_MAX_PARTIES][32];
};

/* Loads agreement id as of now, with its check-ins when checkins (they
 * grow with the agreement's history; adherence needs them, a new check-in
 * does not). Returns an AM_ERR_* code (AM_ERR_NOT_FOUND when it is not an
 * agreement here; AM_ERR_ZONE when its zone is unknown here: the rest is
 * still loaded, schedule NULL). */
int cli_agreement_load(struct am_store *s, const uint8_t id[static 32],
	int64_t now, bool checkins, struct cli_agreement *x);
void cli_agreement_finish(struct cli_agreement *x);

/* True when id is one of those who check in. */
bool cli_agreement_is_checker(const struct cli_agreement *x,
	const uint8_t id[static 32]);

/* True when id is a party of the version in force (or of the newest). */
bool cli_agreement_is_party(const struct cli_agreement *x,
	const uint8_t id[static 32]);

/* Adherence of person (or, with person NULL, of everyone who checks in
 * together) as of x->until. AM_ERR_ARG when the agreement has no schedule
 * or was never in force. */
int cli_agreement_adherence(const struct cli_agreement *x,
	const uint8_t *person, struct am_adherence *out);

/* A one-line description of the current terms' schedule ("every day at
 * 21:00 Europe/Paris, grace 30m") into out. */
void cli_agreement_schedule_text(const struct am_terms *t, char *out,
	size_t size);

/* Names of an agreement's and a version's status as written in JSON
 * ("in_force"); cli_words() makes them text ("in force"). */
const char *cli_agreement_status_name(uint32_t status);
const char *cli_version_status_name(uint32_t status);

/* Writes the schedule of t as a JSON object (null without one). */
void cli_json_schedule(struct json *j, const struct am_terms *t);

/* Writes "marks": the confirmations and disputes m[0..n). */
void cli_json_marks(struct json *j, const struct am_mark *m, uint32_t n);

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
/* Whether x's check-in i is open to answers that matter: it counts, or
 * it is a correction written after the one that counts, which it may
 * yet replace. */
bool cli_checkin_open(const struct am_checkin *v, size_t n, size_t i);
/* The check-in that counts among those of check-in i's author and
 * period. */
const struct am_checkin *cli_checkin_counting(const struct am_checkin *v,
	size_t n, size_t i);

#endif
