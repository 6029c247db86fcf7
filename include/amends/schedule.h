/*
 * The schedule of an agreement: its periods, their deadlines, and how
 * consistently someone kept them (adherence, streaks).
 *
 * A schedule is built from one version's terms (struct am_terms) and is pure
 * arithmetic on time: nothing here touches the database; the only I/O is
 * reading the time zone from the zoneinfo files ($TZDIR, else
 * /usr/share/zoneinfo) when the schedule is loaded.
 *
 * Periods and their labels (stored in CHECKIN entries, so fixed forever):
 *
 *   every day      "YYYY-MM-DD", the local date in the agreement's zone;
 *                  the period is that local day, the deadline that day at
 *                  `at`.
 *   every week     "YYYY-Www", the ISO 8601 week (weeks start on Monday;
 *                  week 1 holds the year's first Thursday), zero-padded;
 *                  the period is Monday 00:00 to the next Monday 00:00
 *                  local, the deadline the week's `weekday` at `at`.
 *   every N hours  "YYYY-MM-DDTHH", the local date and hour at which the
 *                  period starts. Periods start every N hours of local
 *                  (wall clock) time from 00:00 on the anchor date; the
 *                  deadline is the end of the period (the next one's start).
 *
 * Local times that do not exist (skipped by a daylight saving change, e.g.
 * 02:30 on a spring-forward day) mean the next valid local time: the instant
 * of the change (03:00 in Europe/Paris). Local times that happen twice
 * (fall-back) mean the first of the two. A period that this leaves empty
 * (an hourly period starting inside the skipped hour, or a day a zone
 * skipped whole, as Pacific/Apia did 2011-12-30) does not exist.
 *
 * Which periods belong to the schedule: each period has a day, its
 * deadline's local date for daily and weekly periods, its start's local date
 * for hourly ones. A period belongs when its day is within [from, until]
 * (from being the terms' from date, else the anchor date the caller gives;
 * until open-ended when nil), and it is paused (neither kept nor missed) when
 * its day is within one of the terms' pause ranges.
 *
 * All times are milliseconds since the Unix epoch, UTC. Dates run from
 * 1970-01-01 to 9999-12-29. Times come from entries, whose authors may
 * claim any 64-bit value: every function here saturates, reading a time
 * before 1970 as 1970-01-01 00:00 UTC and one after the last day as that
 * day, so that no claimed time makes a schedule, and with it a reader,
 * fail.
 */
#ifndef AMENDS_SCHEDULE_H
#define AMENDS_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amends/body.h"
#include "amends/error.h"

/* At most this many periods are walked by one call; adherence over a longer
 * history looks at the latest ones only (struct am_adherence.clipped). */
#define AM_SCHEDULE_MAX_PERIODS 100000

/* Overdue periods listed by am_schedule_adherence(), newest first. */
#define AM_SCHEDULE_LIST 8

/* Bytes of a local time written by am_schedule_format(), NUL included. */
#define AM_SCHEDULE_TIME_BYTES 17

struct am_schedule;

/* One period of a schedule. */
struct am_period {
	char label[AM_MAX_PERIOD + 1];  /* canonical label, NUL-terminated */
	int64_t ordinal;     /* position in the schedule; increases with time */
	int64_t start;       /* first instant of the period, ms */
	int64_t end;         /* first instant of the next period, ms */
	int64_t deadline;    /* when the check-in is due, ms */
	int64_t due;         /* deadline + grace: a check-in after it is late */
	char day[11];        /* its day "YYYY-MM-DD" (see above), NUL-terminated */
	bool within;         /* day within [from, until] */
	bool paused;         /* day within a pause range */
};

/*
 * Builds the schedule of terms, which must have one (has_schedule).
 * anchor is used only when the terms have no from date: periods then start
 * on the local date (in the terms' zone) of anchor, in ms (the time the
 * version came into force). The schedule copies what it needs from terms.
 * AM_ERR_ZONE when the zone is unknown or its zoneinfo file is damaged,
 * AM_ERR_ARG when terms have no schedule (an anchor out of range
 * saturates: see above),
 * AM_ERR_FIELD when a field is out of range, AM_ERR_NOMEM.
 * Free with am_schedule_destroy().
 */
AM_NODISCARD int am_schedule_load(const struct am_terms *terms, int64_t anchor,
	struct am_schedule **out);

/* Frees s and sets *s to NULL; does nothing if it already is. */
void am_schedule_destroy(struct am_schedule **s);

/* True when a zoneinfo file exists for the zone name (not NUL-terminated)
 * and parses: what am_schedule_load() would accept. */
bool am_schedule_zone_ok(struct am_str zone);

/*
 * The period containing time (whether or not it belongs to the schedule:
 * see p->within and p->paused); time saturates. AM_ERR_NOT_FOUND when
 * time falls before the first period (an hourly schedule starts at its
 * anchor).
 */
AM_NODISCARD int am_schedule_period_at(const struct am_schedule *s,
	int64_t time, struct am_period *p);

/*
 * The first period that belongs to the schedule. AM_ERR_NOT_FOUND when none
 * does (until before from).
 */
AM_NODISCARD int am_schedule_first(const struct am_schedule *s,
	struct am_period *p);

/*
 * Replaces *p (a period of s) with the next period that belongs to the
 * schedule, paused ones included. AM_ERR_NOT_FOUND after the last one (the
 * until date, or 9999-12-31). Walking from am_schedule_first() visits every
 * period in order; the caller bounds the walk (AM_SCHEDULE_MAX_PERIODS).
 */
AM_NODISCARD int am_schedule_next(const struct am_schedule *s,
	struct am_period *p);

/*
 * Parses a user's or a peer's period label (not NUL-terminated) and fills p
 * with that period. AM_ERR_PERIOD when label is not the canonical label of a
 * period that belongs to this schedule (wrong form, a date that does not
 * exist, a week 53 in a year of 52, an hour off the schedule's grid, before
 * from or after until). A paused period is returned with p->paused set; the
 * caller decides whether to refuse it.
 */
AM_NODISCARD int am_schedule_parse(const struct am_schedule *s,
	struct am_str label, struct am_period *p);

/*
 * Writes time as local time in the schedule's zone, "YYYY-MM-DD HH:MM",
 * NUL-terminated, into out; time saturates. Always AM_OK.
 */
AM_NODISCARD int am_schedule_format(const struct am_schedule *s, int64_t time,
	char out[static AM_SCHEDULE_TIME_BYTES]);

/* One check-in as adherence sees it (from the materialised state). */
struct am_schedule_checkin {
	const uint8_t *author;       /* 32-byte ID of who checked in */
	uint64_t seq;                /* its feed number: of one author's check-ins
	                                for one period, the highest counts */
	struct am_str period;        /* the label as stored */
	uint32_t status;             /* enum am_status */
	int64_t time;                /* claimed time, ms: only for "late" */
};

/* How consistently people kept a schedule, as of some "now". */
struct am_adherence {
	uint32_t due;          /* periods settled: due + grace passed, or checked
	                          in early by everyone; kept + partial + missed */
	uint32_t kept;
	uint32_t partial;
	uint32_t missed;       /* reported missed, or never reported */
	uint32_t unreported;   /* of missed: due with no check-in */
	uint32_t late;         /* settled by a check-in claimed after due */
	uint32_t paused;       /* paused periods up to now */
	uint32_t streak;       /* consecutive kept periods ending at the latest
	                          settled one (paused ones neither break nor
	                          extend it) */
	uint32_t ignored;      /* check-ins by these people whose label is not a
	                          period of the schedule, is paused, or has not
	                          started by now */
	uint32_t noverdue;     /* periods whose deadline passed without a
	                          check-in from everyone (in grace, or missed) */
	uint32_t nlisted;      /* entries of overdue[] used */
	struct am_period overdue[AM_SCHEDULE_LIST];  /* the latest noverdue ones,
	                          newest first */
	bool has_upcoming;
	struct am_period upcoming;   /* first period whose deadline is after now
	                                and that awaits a check-in: the one due
	                                now, or next */
	bool clipped;          /* more than AM_SCHEDULE_MAX_PERIODS periods up to
	                          now: only the latest ones were counted */
};

/*
 * Computes adherence as of now for the people listed (npeople IDs of 32
 * bytes: one person, or every `by` person of the terms). A period counts as
 * kept when each of them kept it; otherwise its status is the worst reported
 * (kept < partial < missed), and missed when someone did not report by its
 * due time. Check-ins by others are skipped. Deterministic given its inputs:
 * the order of checkins does not matter, and claimed times only decide
 * "late". now saturates. AM_ERR_ARG when npeople is 0 or too many.
 */
AM_NODISCARD int am_schedule_adherence(const struct am_schedule *s, int64_t now,
	const uint8_t (*people)[32], size_t npeople,
	const struct am_schedule_checkin *checkins, size_t ncheckins,
	struct am_adherence *out);

#endif
