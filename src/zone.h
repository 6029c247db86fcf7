/*
 * Time zones for schedules: a reader of zoneinfo (TZif, RFC 8536) files,
 * including the POSIX TZ rule in their footer that covers the years after
 * the last listed transition, and the calendar arithmetic both need.
 * Private to src/schedule.c and src/zone.c.
 *
 * Times are whole seconds: "utc" is seconds since the epoch, "local" is
 * the same count on the local wall clock (utc + offset), and a day number
 * counts days since 1970-01-01.
 */
#ifndef AMENDS_ZONE_H
#define AMENDS_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amends/body.h"

#define DAY 86400

/* One end of daylight saving time in a POSIX TZ rule. */
struct rule_date {
	char kind;          /* 'J' Julian 1-365, 'D' zero-based day, 'M' month */
	int a, b, c;        /* J, D: a is the day; M: month a, week b, day c */
	int32_t secs;       /* local time of day of the change */
};

struct am_zone {
	size_t ntimes;
	int64_t *times;     /* transitions, ascending */
	uint8_t *types;     /* local time type after each transition */
	size_t ntypes;
	int32_t utoff[256]; /* seconds east of UTC of each type */
	bool has_rule;      /* a footer rule covers times after the last one */
	bool has_dst;
	int32_t std_off, dst_off;
	struct rule_date start, end;
};

/* Loads the zone called name (an IANA name such as "Europe/Paris") from the
 * system's zoneinfo. AM_ERR_ZONE when the name is not a zone here or its
 * file is not valid; z needs am_zone_finish() after AM_OK. */
int am_zone_load(struct am_str name, struct am_zone *z);
void am_zone_finish(struct am_zone *z);

/* Local time at utc. */
int64_t am_zone_to_local(const struct am_zone *z, int64_t utc);

/* The earliest instant whose local time is at or after local (for a local
 * time skipped by a change, the change itself). */
int64_t am_zone_to_utc(const struct am_zone *z, int64_t local);

/* ---- calendar ---- */

static inline int64_t
floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 of a proleptic Gregorian date, by 400-year eras of
 * 146097 days, with years starting in March so that the leap day is last. */
static inline int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = floordiv(y, 400);
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static inline void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = floordiv(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static inline bool
leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Weekday of a day number, 0 Monday … 6 Sunday (1970-01-01 a Thursday). */
static inline int64_t
weekday_mon(int64_t day)
{
	return ((day + 3) % 7 + 7) % 7;
}

#endif
