/*
 * Tests of schedules: period labels, deadlines in UTC and across daylight
 * saving changes, ISO weeks at year ends, hourly grids, pauses, from/until,
 * grace, adherence and streaks on fixed histories, refusal of bad labels and
 * unknown zones. The zone arithmetic is also checked against the C library's
 * own reading of the same zoneinfo files.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "amends/schedule.h"
#include "test.h"

#define H (3600 * (int64_t)1000)
#define M (60 * (int64_t)1000)

static const uint8_t sam[32] = { 1 }, alex[32] = { 2 }, lee[32] = { 3 };

/* Milliseconds of a UTC date and time. */
static int64_t
utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
		.tm_hour = h, .tm_min = mi };
	return (int64_t)timegm(&tm) * 1000;
}

static void
terms(struct am_terms *t, uint32_t every, const char *tz)
{
	memset(t, 0, sizeof(*t));
	t->title = am_str_c("check in");
	t->has_schedule = true;
	t->every = every;
	t->tz = am_str_c(tz);
}

static struct am_schedule *
load(const struct am_terms *t, int64_t anchor)
{
	struct am_schedule *s = NULL;
	check_rc(am_schedule_load(t, anchor, &s), AM_OK);
	check(s != NULL);
	return s;
}

static void
at(const struct am_schedule *s, int64_t time, struct am_period *p)
{
	check_rc(am_schedule_period_at(s, time, p), AM_OK);
}

static void
parse(const struct am_schedule *s, const char *label, struct am_period *p)
{
	check_rc(am_schedule_parse(s, am_str_c(label), p), AM_OK);
	check(strcmp(p->label, label) == 0);
}

static void
refuse(const struct am_schedule *s, const char *label)
{
	struct am_period p;
	check_rc(am_schedule_parse(s, am_str_c(label), &p), AM_ERR_PERIOD);
}

static void
test_daily_utc(void)
{
	struct am_terms t;
	struct am_period p, q;
	terms(&t, AM_EVERY_DAY, "UTC");
	t.at = 21 * 60;
	t.grace = 1800;
	t.from = am_str_c("2026-03-01");
	struct am_schedule *s = load(&t, 0);

	at(s, utc(2026, 3, 10, 12, 0), &p);
	check(strcmp(p.label, "2026-03-10") == 0);
	check(strcmp(p.day, "2026-03-10") == 0);
	check(p.start == utc(2026, 3, 10, 0, 0));
	check(p.end == utc(2026, 3, 11, 0, 0));
	check(p.deadline == utc(2026, 3, 10, 21, 0));
	check(p.due == utc(2026, 3, 10, 21, 30));
	check(p.within && !p.paused);

	/* the last millisecond of a day still belongs to it */
	at(s, utc(2026, 3, 11, 0, 0) - 1, &q);
	check(strcmp(q.label, "2026-03-10") == 0 && q.ordinal == p.ordinal);

	/* before from: a period, but not one of the schedule */
	at(s, utc(2026, 2, 27, 12, 0), &p);
	check(strcmp(p.label, "2026-02-27") == 0 && !p.within);
	refuse(s, "2026-02-27");

	check_rc(am_schedule_first(s, &p), AM_OK);
	check(strcmp(p.label, "2026-03-01") == 0);
	check_rc(am_schedule_next(s, &p), AM_OK);
	check(strcmp(p.label, "2026-03-02") == 0);

	parse(s, "2026-03-31", &p);
	check(p.deadline == utc(2026, 3, 31, 21, 0));

	char buf[AM_SCHEDULE_TIME_BYTES];
	check_rc(am_schedule_format(s, utc(2026, 3, 10, 21, 5), buf), AM_OK);
	check(strcmp(buf, "2026-03-10 21:05") == 0);
	/* times out of range saturate: any claimed time can be read */
	check_rc(am_schedule_format(s, -1, buf), AM_OK);
	check(strcmp(buf, "1970-01-01 00:00") == 0);
	check_rc(am_schedule_format(s, INT64_MAX, buf), AM_OK);
	check(strcmp(buf, "9999-12-29 00:00") == 0);
	check_rc(am_schedule_format(s, INT64_MIN, buf), AM_OK);
	check_rc(am_schedule_period_at(s, -1, &p), AM_OK);
	check(strcmp(p.label, "1970-01-01") == 0 && !p.within);
	check_rc(am_schedule_period_at(s, utc(10000, 1, 1, 0, 0), &p), AM_OK);
	check(strcmp(p.label, "9999-12-29") == 0 && p.within);
	check_rc(am_schedule_period_at(s, INT64_MAX, &p), AM_OK);
	check_rc(am_schedule_period_at(s, INT64_MIN, &p), AM_OK);
	am_schedule_destroy(&s);
	check(s == NULL);
	am_schedule_destroy(&s);
}

static void
test_anchor(void)
{
	struct am_terms t;
	struct am_period p;
	/* without from, periods start on the anchor's local date: 23:30 UTC
	 * on 9 March is already 10 March in Paris */
	terms(&t, AM_EVERY_DAY, "Europe/Paris");
	t.at = 9 * 60;
	struct am_schedule *s = load(&t, utc(2026, 3, 9, 23, 30));
	check_rc(am_schedule_first(s, &p), AM_OK);
	check(strcmp(p.label, "2026-03-10") == 0);
	check(p.deadline == utc(2026, 3, 10, 8, 0));
	refuse(s, "2026-03-09");
	am_schedule_destroy(&s);

	/* an anchor claimed at any time loads: before 1970 the schedule
	 * starts on 1970-01-01, past 9999-12-29 it holds that day alone */
	struct am_schedule *bad = NULL;
	int64_t anchors[] = { -5, INT64_MIN, INT64_MAX, utc(9999, 12, 31, 23, 59),
		utc(9999, 12, 29, 12, 0) };
	for (size_t i = 0; i < sizeof anchors / sizeof anchors[0]; i++) {
		struct am_adherence a;
		const uint8_t (*one)[32] = &sam;
		struct am_schedule_checkin c = { sam, 1, am_str_c("9999-12-29"),
			AM_KEPT, INT64_MAX };
		s = load(&t, anchors[i]);
		check_rc(am_schedule_first(s, &p), AM_OK);
		check(strcmp(p.label, anchors[i] < 0 ? "1970-01-01" : "9999-12-29") == 0);
		check_rc(am_schedule_adherence(s, INT64_MAX, one, 1, &c, 1, &a), AM_OK);
		check_rc(am_schedule_adherence(s, INT64_MIN, one, 1, &c, 1, &a), AM_OK);
		check(a.due == 0);
		am_schedule_destroy(&s);
	}
	t.has_schedule = false;
	check_rc(am_schedule_load(&t, 0, &bad), AM_ERR_ARG);
}

static void
test_daily_dst_paris(void)
{
	struct am_terms t;
	struct am_period p;
	terms(&t, AM_EVERY_DAY, "Europe/Paris");
	t.at = 2 * 60 + 30;
	t.from = am_str_c("2026-01-01");
	struct am_schedule *s = load(&t, 0);

	/* winter: UTC+1 */
	parse(s, "2026-03-28", &p);
	check(p.deadline == utc(2026, 3, 28, 1, 30));
	check(p.end - p.start == 24 * H);

	/* spring forward, 29 March 2026 02:00 -> 03:00: a 23-hour day, and
	 * 02:30 does not exist, so the deadline is the next valid local time,
	 * 03:00 CEST, 01:00 UTC */
	parse(s, "2026-03-29", &p);
	check(p.start == utc(2026, 3, 28, 23, 0));
	check(p.end - p.start == 23 * H);
	check(p.deadline == utc(2026, 3, 29, 1, 0));
	char buf[AM_SCHEDULE_TIME_BYTES];
	check_rc(am_schedule_format(s, p.deadline, buf), AM_OK);
	check(strcmp(buf, "2026-03-29 03:00") == 0);

	/* summer: UTC+2 */
	parse(s, "2026-03-30", &p);
	check(p.deadline == utc(2026, 3, 30, 0, 30));

	/* fall back, 25 October 2026 03:00 -> 02:00: a 25-hour day, and
	 * 02:30 happens twice: the first, still CEST, counts */
	parse(s, "2026-10-25", &p);
	check(p.end - p.start == 25 * H);
	check(p.deadline == utc(2026, 10, 25, 0, 30));

	/* both 02:30s of that night are in the same period */
	at(s, utc(2026, 10, 25, 1, 30), &p);
	check(strcmp(p.label, "2026-10-25") == 0);
	check_rc(am_schedule_format(s, utc(2026, 10, 25, 0, 30), buf), AM_OK);
	check(strcmp(buf, "2026-10-25 02:30") == 0);
	check_rc(am_schedule_format(s, utc(2026, 10, 25, 1, 30), buf), AM_OK);
	check(strcmp(buf, "2026-10-25 02:30") == 0);
	am_schedule_destroy(&s);
}

static void
test_daily_dst_new_york(void)
{
	struct am_terms t;
	struct am_period p;
	terms(&t, AM_EVERY_DAY, "America/New_York");
	t.at = 21 * 60;
	t.from = am_str_c("2026-01-01");
	struct am_schedule *s = load(&t, 0);

	/* 21:00 EST is 02:00 UTC the next day */
	parse(s, "2026-03-07", &p);
	check(p.deadline == utc(2026, 3, 8, 2, 0));
	/* spring forward 8 March 2026: a 23-hour day; 21:00 is EDT */
	parse(s, "2026-03-08", &p);
	check(p.start == utc(2026, 3, 8, 5, 0));
	check(p.end - p.start == 23 * H);
	check(p.deadline == utc(2026, 3, 9, 1, 0));
	/* fall back 1 November 2026: a 25-hour day; 21:00 is EST */
	parse(s, "2026-11-01", &p);
	check(p.end - p.start == 25 * H);
	check(p.deadline == utc(2026, 11, 2, 2, 0));
	/* 20:30 on 8 March in New York is already 9 March in UTC */
	at(s, utc(2026, 3, 9, 0, 30), &p);
	check(strcmp(p.label, "2026-03-08") == 0);
	am_schedule_destroy(&s);

	/* a deadline inside New York's skipped hour, 02:30 */
	t.at = 2 * 60 + 30;
	s = load(&t, 0);
	parse(s, "2026-03-08", &p);
	check(p.deadline == utc(2026, 3, 8, 7, 0));      /* 03:00 EDT */
	parse(s, "2026-11-01", &p);
	check(p.deadline == utc(2026, 11, 1, 7, 30));    /* only once, EST */
	am_schedule_destroy(&s);

	/* Samoa skipped 30 December 2011 whole: no such period */
	terms(&t, AM_EVERY_DAY, "Pacific/Apia");
	t.at = 12 * 60;
	t.from = am_str_c("2011-12-01");
	s = load(&t, 0);
	parse(s, "2011-12-29", &p);
	check(p.deadline == utc(2011, 12, 29, 22, 0));    /* UTC-10 */
	check_rc(am_schedule_next(s, &p), AM_OK);
	check(strcmp(p.label, "2011-12-31") == 0);
	check(p.deadline == utc(2011, 12, 30, 22, 0));    /* UTC+14 */
	refuse(s, "2011-12-30");
	am_schedule_destroy(&s);
}

static void
test_weekly(void)
{
	struct am_terms t;
	struct am_period p;
	terms(&t, AM_EVERY_WEEK, "Europe/Paris");
	t.weekday = 3;                  /* Thursday */
	t.at = 18 * 60;
	t.from = am_str_c("2020-01-01");
	struct am_schedule *s = load(&t, 0);

	/* ISO 2026 has 53 weeks: 2026-12-28 .. 2027-01-03 is 2026-W53 */
	at(s, utc(2027, 1, 2, 12, 0), &p);
	check(strcmp(p.label, "2026-W53") == 0);
	check(p.start == utc(2026, 12, 27, 23, 0));
	check(p.end - p.start == 7 * 24 * H);
	check(p.deadline == utc(2026, 12, 31, 17, 0));
	check(strcmp(p.day, "2026-12-31") == 0);
	parse(s, "2026-W53", &p);
	/* the next week is 2027-W01, starting 4 January */
	check_rc(am_schedule_next(s, &p), AM_OK);
	check(strcmp(p.label, "2027-W01") == 0);
	check(p.start == utc(2027, 1, 3, 23, 0));

	/* 2025 has 52 weeks: W53 does not exist, and 29 December 2025 is in
	 * 2026-W01 */
	refuse(s, "2025-W53");
	at(s, utc(2025, 12, 29, 12, 0), &p);
	check(strcmp(p.label, "2026-W01") == 0);
	/* 1 January 2021 (a Friday) is in 2020-W53 */
	at(s, utc(2021, 1, 1, 12, 0), &p);
	check(strcmp(p.label, "2020-W53") == 0);
	parse(s, "2020-W53", &p);

	/* a week spanning the spring change lasts 7 days less an hour */
	parse(s, "2026-W13", &p);
	check(p.end - p.start == 7 * 24 * H - H);
	check(p.deadline == utc(2026, 3, 26, 17, 0));     /* CET */
	parse(s, "2026-W14", &p);
	check(p.deadline == utc(2026, 4, 2, 16, 0));      /* CEST */

	refuse(s, "2026-W00");
	refuse(s, "2026-W54");
	refuse(s, "2026-W5");
	refuse(s, "2026W053");
	refuse(s, "2026-03-12");
	am_schedule_destroy(&s);

	/* from on a Friday: that week's Thursday deadline came before it, so
	 * the first period is the next week */
	t.from = am_str_c("2026-03-13");
	s = load(&t, 0);
	check_rc(am_schedule_first(s, &p), AM_OK);
	check(strcmp(p.label, "2026-W12") == 0);
	refuse(s, "2026-W11");
	am_schedule_destroy(&s);
	/* from on the Thursday itself: that week counts */
	t.from = am_str_c("2026-03-12");
	s = load(&t, 0);
	check_rc(am_schedule_first(s, &p), AM_OK);
	check(strcmp(p.label, "2026-W11") == 0);
	am_schedule_destroy(&s);
}

static void
test_hourly(void)
{
	struct am_terms t;
	struct am_period p;
	terms(&t, AM_EVERY_HOURS, "UTC");
	t.hours = 8;
	t.from = am_str_c("2026-03-01");
	struct am_schedule *s = load(&t, 0);
	check_rc(am_schedule_first(s, &p), AM_OK);
	check(strcmp(p.label, "2026-03-01T00") == 0);
	check(p.start == utc(2026, 3, 1, 0, 0));
	check(p.deadline == utc(2026, 3, 1, 8, 0) && p.end == p.deadline);
	check_rc(am_schedule_next(s, &p), AM_OK);
	check(strcmp(p.label, "2026-03-01T08") == 0);
	at(s, utc(2026, 3, 5, 23, 59), &p);
	check(strcmp(p.label, "2026-03-05T16") == 0);
	parse(s, "2026-03-05T16", &p);
	refuse(s, "2026-03-05T15");     /* off the grid */
	refuse(s, "2026-03-05T24");
	refuse(s, "2026-03-05 16");
	refuse(s, "2026-03-05T1");
	refuse(s, "2026-02-28T16");     /* before from */
	/* an hourly schedule has no period before its start */
	check_rc(am_schedule_period_at(s, utc(2026, 2, 28, 23, 0), &p),
		AM_ERR_NOT_FOUND);
	am_schedule_destroy(&s);

	/* 5-hour periods do not divide a day: the grid runs on */
	t.hours = 5;
	s = load(&t, 0);
	parse(s, "2026-03-02T01", &p);
	refuse(s, "2026-03-02T00");
	am_schedule_destroy(&s);

	/* hourly across Paris' spring change: the local 02:00 period does not
	 * exist, 01:00 lasts one hour, 03:00 follows it */
	terms(&t, AM_EVERY_HOURS, "Europe/Paris");
	t.hours = 1;
	t.from = am_str_c("2026-03-29");
	s = load(&t, 0);
	parse(s, "2026-03-29T01", &p);
	check(p.end - p.start == H);
	check_rc(am_schedule_next(s, &p), AM_OK);
	check(strcmp(p.label, "2026-03-29T03") == 0);
	refuse(s, "2026-03-29T02");
	/* 23 periods that day */
	int n = 1;
	check_rc(am_schedule_first(s, &p), AM_OK);
	while (am_schedule_next(s, &p) == AM_OK && strcmp(p.day, "2026-03-29") == 0)
		n++;
	check(n == 23);
	am_schedule_destroy(&s);

	/* and across its fall-back: local 02:00 is the first of the two, and
	 * lasts two hours */
	t.from = am_str_c("2026-10-25");
	s = load(&t, 0);
	parse(s, "2026-10-25T02", &p);
	check(p.start == utc(2026, 10, 25, 0, 0));
	check(p.end - p.start == 2 * H);
	at(s, utc(2026, 10, 25, 1, 30), &p);              /* 02:30 CET */
	check(strcmp(p.label, "2026-10-25T02") == 0);
	am_schedule_destroy(&s);

	/* 2-hour periods: the one due to start at 02:00 starts at 03:00 */
	t.hours = 2;
	t.from = am_str_c("2026-03-29");
	s = load(&t, 0);
	parse(s, "2026-03-29T03", &p);
	check(p.start == utc(2026, 3, 29, 1, 0));
	check(p.end == utc(2026, 3, 29, 2, 0));           /* 04:00 CEST */
	refuse(s, "2026-03-29T02");
	am_schedule_destroy(&s);
}

static void
test_bounds_and_pauses(void)
{
	struct am_terms t;
	struct am_period p;
	terms(&t, AM_EVERY_DAY, "UTC");
	t.at = 20 * 60;
	t.from = am_str_c("2026-05-01");
	t.until = am_str_c("2026-05-10");
	t.npauses = 2;
	t.pauses[0] = (struct am_pause){ am_str_c("2026-05-03"), am_str_c("2026-05-04") };
	t.pauses[1] = (struct am_pause){ am_str_c("2026-05-09"), am_str_c("2026-05-09") };
	struct am_schedule *s = load(&t, 0);
	int n = 0, paused = 0;
	int rc = am_schedule_first(s, &p);
	for (; rc == AM_OK; rc = am_schedule_next(s, &p)) {
		n++;
		paused += p.paused;
	}
	check_rc(rc, AM_ERR_NOT_FOUND);
	check(n == 10 && paused == 3);
	parse(s, "2026-05-03", &p);
	check(p.paused);
	parse(s, "2026-05-10", &p);
	check(!p.paused);
	refuse(s, "2026-05-11");
	refuse(s, "2026-04-30");
	at(s, utc(2026, 5, 11, 12, 0), &p);
	check(!p.within);
	am_schedule_destroy(&s);

	/* until before from: no period at all */
	t.until = am_str_c("2026-04-01");
	s = load(&t, 0);
	check_rc(am_schedule_first(s, &p), AM_ERR_NOT_FOUND);
	am_schedule_destroy(&s);

	/* weekly: a week is paused when its deadline day is */
	terms(&t, AM_EVERY_WEEK, "UTC");
	t.weekday = 2;
	t.from = am_str_c("2026-01-01");
	t.npauses = 1;
	t.pauses[0] = (struct am_pause){ am_str_c("2026-03-11"), am_str_c("2026-03-11") };
	s = load(&t, 0);
	parse(s, "2026-W11", &p);
	check(p.paused);
	parse(s, "2026-W10", &p);
	check(!p.paused);
	am_schedule_destroy(&s);

	/* the last dates an entry may hold, 9999-12-30 and -31, lie beyond
	 * the last period (9999-12-29) but are terms like any other: "until
	 * the end of time", a pause to the end, a start that never comes */
	terms(&t, AM_EVERY_DAY, "UTC");
	t.from = am_str_c("2026-05-01");
	t.until = am_str_c("9999-12-31");
	t.npauses = 1;
	t.pauses[0] = (struct am_pause){ am_str_c("9999-12-20"), am_str_c("9999-12-31") };
	s = load(&t, 0);
	check_rc(am_schedule_first(s, &p), AM_OK);
	check(strcmp(p.label, "2026-05-01") == 0 && !p.paused);
	parse(s, "9999-12-19", &p);
	check(!p.paused);
	parse(s, "9999-12-28", &p);
	check(p.paused);
	refuse(s, "9999-12-30");
	am_schedule_destroy(&s);
	t.npauses = 0;
	t.from = am_str_c("9999-12-30");
	s = load(&t, 0);
	check_rc(am_schedule_first(s, &p), AM_ERR_NOT_FOUND);
	refuse(s, "9999-12-28");
	am_schedule_destroy(&s);

	/* bad dates in terms built by hand are refused */
	struct am_schedule *bad = NULL;
	terms(&t, AM_EVERY_DAY, "UTC");
	t.from = am_str_c("2026-02-30");
	check_rc(am_schedule_load(&t, 0, &bad), AM_ERR_FIELD);
	terms(&t, AM_EVERY_HOURS, "UTC");
	t.hours = 0;
	check_rc(am_schedule_load(&t, 0, &bad), AM_ERR_FIELD);
	check(bad == NULL);
}

static void
test_bad_labels(void)
{
	struct am_terms t;
	terms(&t, AM_EVERY_DAY, "UTC");
	t.from = am_str_c("2024-01-01");
	struct am_schedule *s = load(&t, 0);
	refuse(s, "");
	refuse(s, "2026-02-29");
	refuse(s, "2026-13-01");
	refuse(s, "2026-1-01");
	refuse(s, "2026-01-01 ");
	refuse(s, "+026-01-01");
	refuse(s, "2026-W10");
	refuse(s, "2026-01-01T00");
	refuse(s, "../../etc");
	struct am_period p;
	parse(s, "2024-02-29", &p);
	/* not NUL-terminated: only n bytes count */
	check_rc(am_schedule_parse(s, (struct am_str){ "2026-01-019", 10 }, &p), AM_OK);
	check(strcmp(p.label, "2026-01-01") == 0);
	check_rc(am_schedule_parse(s, (struct am_str){ NULL, 0 }, &p), AM_ERR_PERIOD);
	am_schedule_destroy(&s);
}

static void
test_zones(void)
{
	struct am_terms t;
	struct am_schedule *s = NULL;
	check(am_schedule_zone_ok(am_str_c("Europe/Paris")));
	check(am_schedule_zone_ok(am_str_c("UTC")));
	check(!am_schedule_zone_ok(am_str_c("Mars/Olympus_Mons")));
	check(!am_schedule_zone_ok(am_str_c("Europe")));          /* a directory */
	check(!am_schedule_zone_ok(am_str_c("/etc/passwd")));
	check(!am_schedule_zone_ok(am_str_c("../../../etc/passwd")));
	check(!am_schedule_zone_ok(am_str_c("Europe//Paris")));
	check(!am_schedule_zone_ok(am_str_c("")));
	check(!am_schedule_zone_ok((struct am_str){ NULL, 0 }));
	/* not NUL-terminated: "Europe/Paris" followed by junk */
	check(am_schedule_zone_ok((struct am_str){ "Europe/Parisxyz", 12 }));
	terms(&t, AM_EVERY_DAY, "Nowhere/Atall");
	t.from = am_str_c("2026-01-01");
	check_rc(am_schedule_load(&t, 0, &s), AM_ERR_ZONE);
	check(s == NULL);

	/* zoneinfo's "localtime" is each reader's own zone and "posixrules"
	 * its C library's default: schedules in them would differ from one
	 * machine to the next, so they are no zones, whatever the files hold */
	static const char *const settings[] = { "localtime", "posixrules",
		"posix/localtime", "localtime/x" };
	char zdir[] = "/tmp/amends-test-zones-XXXXXX", link[128];
	check(mkdtemp(zdir) != NULL);
	const char *was = getenv("TZDIR");
	char *saved = was ? strdup(was) : NULL;
	check(setenv("TZDIR", zdir, 1) == 0);
	snprintf(link, sizeof link, "%s/Home", zdir);
	check(symlink("/usr/share/zoneinfo/Europe/Paris", link) == 0);
	snprintf(link, sizeof link, "%s/localtime", zdir);
	check(symlink("/usr/share/zoneinfo/Europe/Paris", link) == 0);
	check(am_schedule_zone_ok(am_str_c("Home")));
	for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
		check(!am_schedule_zone_ok(am_str_c(settings[i])));
		terms(&t, AM_EVERY_DAY, settings[i]);
		check_rc(am_schedule_load(&t, 0, &s), AM_ERR_ZONE);
		check(s == NULL);
	}
	/* only the whole name: "localtimes" would be a zone like any other */
	snprintf(link, sizeof link, "%s/localtimes", zdir);
	check(symlink("/usr/share/zoneinfo/Europe/Paris", link) == 0);
	check(am_schedule_zone_ok(am_str_c("localtimes")));
	remove(link);
	snprintf(link, sizeof link, "%s/localtime", zdir);
	remove(link);
	snprintf(link, sizeof link, "%s/Home", zdir);
	remove(link);
	rmdir(zdir);
	if (saved)
		setenv("TZDIR", saved, 1);
	else
		unsetenv("TZDIR");
	free(saved);

	/* a file that is not zone data is refused, not trusted */
	char dir[] = "/tmp/amends-test-schedule-XXXXXX", path[128];
	check(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/Bad", dir);
	FILE *f = fopen(path, "w");
	check(f != NULL);
	fputs("TZif2 this is not really zone data, only its magic...........\n", f);
	fclose(f);
	const char *old = getenv("TZDIR");
	check(setenv("TZDIR", dir, 1) == 0);
	check(!am_schedule_zone_ok(am_str_c("Bad")));
	if (old)
		setenv("TZDIR", old, 1);
	else
		unsetenv("TZDIR");
	remove(path);
	rmdir(dir);
}

/* The same zoneinfo, read by the C library: every few hours over two
 * centuries, in zones with odd rules, local times must agree. */
static void
test_against_libc(void)
{
	static const char *const zones[] = { "Europe/Paris", "America/New_York",
		"Australia/Lord_Howe", "Asia/Kolkata", "America/Sao_Paulo",
		"Pacific/Apia", "Africa/Casablanca", "America/Santiago",
		"Europe/Dublin", "Australia/Sydney", "Asia/Tehran" };
	const char *old = getenv("TZ");
	char *saved = old ? strdup(old) : NULL;
	for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
		struct am_terms t;
		terms(&t, AM_EVERY_DAY, zones[z]);
		t.from = am_str_c("2026-01-01");
		struct am_schedule *s = load(&t, 0);
		check(setenv("TZ", zones[z], 1) == 0);
		tzset();
		for (int64_t u = 0; u < (int64_t)6000000000; u += 7 * 3517) {
			time_t tt = (time_t)u;
			struct tm tm;
			char want[32], got[AM_SCHEDULE_TIME_BYTES];
			check(localtime_r(&tt, &tm) != NULL);
			strftime(want, sizeof(want), "%Y-%m-%d %H:%M", &tm);
			check_rc(am_schedule_format(s, u * 1000, got), AM_OK);
			if (strcmp(want, got) != 0) {
				fprintf(stderr, "%s at %lld: libc %s, schedule %s\n",
					zones[z], (long long)u, want, got);
				check(0);
			}
		}
		am_schedule_destroy(&s);
	}
	if (saved)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	free(saved);
	tzset();
}

static struct am_schedule_checkin
ci(const uint8_t *who, uint64_t seq, const char *period, uint32_t status,
	int64_t time)
{
	return (struct am_schedule_checkin){ who, seq, am_str_c(period), status, time };
}

static bool
has_label(const struct am_adherence *a, uint32_t i, const char *label)
{
	return i < a->nlisted && strcmp(a->overdue[i].label, label) == 0;
}

static bool
same(const struct am_adherence *a, const struct am_adherence *b)
{
	if (a->due != b->due || a->kept != b->kept || a->partial != b->partial ||
	    a->missed != b->missed || a->unreported != b->unreported ||
	    a->late != b->late || a->paused != b->paused ||
	    a->streak != b->streak || a->ignored != b->ignored ||
	    a->noverdue != b->noverdue || a->nlisted != b->nlisted ||
	    a->has_upcoming != b->has_upcoming || a->clipped != b->clipped ||
	    strcmp(a->upcoming.label, b->upcoming.label) != 0)
		return false;
	for (uint32_t i = 0; i < a->nlisted; i++)
		if (strcmp(a->overdue[i].label, b->overdue[i].label) != 0)
			return false;
	return true;
}

static void
test_adherence(void)
{
	struct am_terms t;
	struct am_adherence a;
	terms(&t, AM_EVERY_DAY, "UTC");
	t.at = 21 * 60;
	t.grace = 3600;
	t.from = am_str_c("2026-06-01");
	t.npauses = 1;
	t.pauses[0] = (struct am_pause){ am_str_c("2026-06-04"), am_str_c("2026-06-04") };
	struct am_schedule *s = load(&t, 0);
	const uint8_t (*one)[32] = &sam;

	/* 1..3 kept, 4 paused, 5 partial, 6 kept late, 7 nothing,
	 * 8 missed (reported), 9 kept, 10 kept then corrected to kept again;
	 * now is 11 June 21:30: the 11th is past its deadline, within grace */
	struct am_schedule_checkin c[] = {
		ci(sam, 1, "2026-06-01", AM_KEPT, utc(2026, 6, 1, 20, 0)),
		ci(sam, 2, "2026-06-02", AM_KEPT, utc(2026, 6, 2, 20, 0)),
		ci(sam, 3, "2026-06-03", AM_KEPT, utc(2026, 6, 3, 21, 59)),
		ci(sam, 4, "2026-06-04", AM_KEPT, utc(2026, 6, 4, 20, 0)),    /* paused */
		ci(sam, 5, "2026-06-05", AM_PARTIAL, utc(2026, 6, 5, 20, 0)),
		ci(sam, 6, "2026-06-06", AM_KEPT, utc(2026, 6, 7, 9, 0)),     /* late */
		ci(sam, 7, "2026-06-08", AM_MISSED, utc(2026, 6, 8, 22, 0)),
		ci(sam, 8, "2026-06-09", AM_KEPT, utc(2026, 6, 9, 20, 0)),
		ci(sam, 9, "2026-06-10", AM_PARTIAL, utc(2026, 6, 10, 20, 0)),
		ci(sam, 10, "2026-06-10", AM_KEPT, utc(2026, 6, 10, 20, 5)),
		ci(alex, 1, "2026-06-07", AM_KEPT, utc(2026, 6, 7, 20, 0)),   /* not Sam */
		ci(sam, 11, "2026-06-31", AM_KEPT, 0),                        /* no such day */
		ci(sam, 12, "2026-05-31", AM_KEPT, 0),                        /* before from */
		ci(sam, 13, "2026-06-20", AM_KEPT, 0),                        /* future */
	};
	size_t n = sizeof(c) / sizeof(c[0]);
	int64_t now = utc(2026, 6, 11, 21, 30);
	check_rc(am_schedule_adherence(s, now, one, 1, c, n, &a), AM_OK);
	check(a.due == 9);                  /* 1-3, 5-10 */
	check(a.kept == 6 && a.partial == 1 && a.missed == 2);
	check(a.unreported == 1);           /* the 7th */
	check(a.late == 1);                 /* the 6th */
	check(a.paused == 1);
	check(a.streak == 2);               /* 9th and 10th */
	check(a.ignored == 4);              /* paused, no such day, before, future */
	check(a.noverdue == 2);             /* the 7th, and the 11th in grace */
	check(has_label(&a, 0, "2026-06-11") && has_label(&a, 1, "2026-06-07"));
	check(a.overdue[0].due == utc(2026, 6, 11, 22, 0));
	check(a.has_upcoming && strcmp(a.upcoming.label, "2026-06-12") == 0);
	check(!a.clipped);

	/* order of check-ins does not matter */
	struct am_schedule_checkin r[sizeof(c) / sizeof(c[0])];
	struct am_adherence b;
	for (size_t i = 0; i < n; i++)
		r[i] = c[n - 1 - i];
	check_rc(am_schedule_adherence(s, now, one, 1, r, n, &b), AM_OK);
	check(same(&a, &b));

	/* after grace, the 11th is missed and breaks the streak */
	check_rc(am_schedule_adherence(s, utc(2026, 6, 11, 22, 1), one, 1, c, n, &a),
		AM_OK);
	check(a.due == 10 && a.missed == 3 && a.streak == 0);

	/* a check-in before the deadline settles the day early and extends
	 * the streak; the next one to await is tomorrow's */
	struct am_schedule_checkin today = ci(sam, 14, "2026-06-11", AM_KEPT,
		utc(2026, 6, 11, 19, 0));
	struct am_schedule_checkin more[16];
	memcpy(more, c, sizeof(c));
	more[n] = today;
	check_rc(am_schedule_adherence(s, utc(2026, 6, 11, 19, 0), one, 1, more,
		n + 1, &a), AM_OK);
	check(a.due == 10 && a.kept == 7 && a.streak == 3 && a.noverdue == 1);
	check(strcmp(a.upcoming.label, "2026-06-12") == 0);
	/* without it, today is the one due now, and not yet counted */
	check_rc(am_schedule_adherence(s, utc(2026, 6, 11, 19, 0), one, 1, c, n, &a),
		AM_OK);
	check(a.due == 9 && a.streak == 2);
	check(strcmp(a.upcoming.label, "2026-06-11") == 0);

	/* before the schedule starts: nothing due, the first day upcoming */
	check_rc(am_schedule_adherence(s, utc(2026, 5, 20, 0, 0), one, 1, c, n, &a),
		AM_OK);
	check(a.due == 0 && a.streak == 0 && a.noverdue == 0);
	check(strcmp(a.upcoming.label, "2026-06-01") == 0);

	check_rc(am_schedule_adherence(s, now, one, 0, c, n, &a), AM_ERR_ARG);
	/* a clock before 1970 or past 9999 saturates: nothing fails */
	check_rc(am_schedule_adherence(s, -1, one, 1, c, n, &a), AM_OK);
	check(a.due == 0 && a.has_upcoming);
	check_rc(am_schedule_adherence(s, INT64_MAX, one, 1, c, n, &a), AM_OK);
	check(a.clipped && a.due > AM_SCHEDULE_MAX_PERIODS - 2);
	am_schedule_destroy(&s);
}

static void
test_adherence_together(void)
{
	struct am_terms t;
	struct am_adherence a;
	terms(&t, AM_EVERY_WEEK, "Europe/Paris");
	t.weekday = 3;
	t.at = 18 * 60;
	t.from = am_str_c("2026-03-02");
	struct am_schedule *s = load(&t, 0);
	const uint8_t both[2][32] = { { 1 }, { 2 } };

	/* W10 both kept; W11 Sam kept, Alex partial; W12 only Sam reported;
	 * W13 Alex's fork twins at one number, Sam kept */
	struct am_schedule_checkin c[] = {
		ci(sam, 1, "2026-W10", AM_KEPT, utc(2026, 3, 5, 10, 0)),
		ci(alex, 1, "2026-W10", AM_KEPT, utc(2026, 3, 5, 10, 0)),
		ci(sam, 2, "2026-W11", AM_KEPT, utc(2026, 3, 12, 10, 0)),
		ci(alex, 2, "2026-W11", AM_PARTIAL, utc(2026, 3, 12, 10, 0)),
		ci(sam, 3, "2026-W12", AM_KEPT, utc(2026, 3, 19, 10, 0)),
		ci(sam, 4, "2026-W13", AM_KEPT, utc(2026, 3, 26, 10, 0)),
		ci(alex, 3, "2026-W13", AM_KEPT, utc(2026, 3, 26, 10, 0)),
		ci(alex, 3, "2026-W13", AM_MISSED, utc(2026, 3, 26, 10, 0)),
		ci(lee, 1, "2026-W13", AM_MISSED, utc(2026, 3, 26, 10, 0)),
	};
	size_t n = sizeof(c) / sizeof(c[0]);
	int64_t now = utc(2026, 3, 30, 12, 0);
	check_rc(am_schedule_adherence(s, now, both, 2, c, n, &a), AM_OK);
	check(a.due == 4);
	check(a.kept == 1 && a.partial == 1 && a.missed == 2);
	check(a.unreported == 1);           /* W12: Alex did not report */
	check(a.noverdue == 1 && has_label(&a, 0, "2026-W12"));
	check(a.streak == 0);
	check(a.ignored == 0);
	check(strcmp(a.upcoming.label, "2026-W14") == 0);
	/* Sam alone kept all four */
	check_rc(am_schedule_adherence(s, now, both, 1, c, n, &a), AM_OK);
	check(a.due == 4 && a.kept == 4 && a.streak == 4);
	am_schedule_destroy(&s);
}

static void
test_adherence_clipped(void)
{
	struct am_terms t;
	struct am_adherence a;
	terms(&t, AM_EVERY_HOURS, "UTC");
	t.hours = 1;
	t.from = am_str_c("1990-01-01");
	struct am_schedule *s = load(&t, 0);
	const uint8_t (*one)[32] = &sam;
	struct am_schedule_checkin c[] = {
		ci(sam, 1, "2026-01-01T10", AM_KEPT, utc(2026, 1, 1, 10, 30)),
		ci(sam, 2, "2026-01-01T11", AM_KEPT, utc(2026, 1, 1, 11, 30)),
	};
	check_rc(am_schedule_adherence(s, utc(2026, 1, 1, 12, 30), one, 1, c, 2, &a),
		AM_OK);
	check(a.clipped);
	/* the latest AM_SCHEDULE_MAX_PERIODS periods, the current one not yet
	 * due */
	check(a.due == AM_SCHEDULE_MAX_PERIODS - 1);
	check(a.kept == 2 && a.streak == 2);
	check(a.noverdue == AM_SCHEDULE_MAX_PERIODS - 3);
	check(has_label(&a, 0, "2026-01-01T09"));
	check(strcmp(a.upcoming.label, "2026-01-01T12") == 0);
	am_schedule_destroy(&s);
}

int
main(void)
{
	test_daily_utc();
	test_anchor();
	test_daily_dst_paris();
	test_daily_dst_new_york();
	test_weekly();
	test_hourly();
	test_bounds_and_pauses();
	test_bad_labels();
	test_zones();
	test_against_libc();
	test_adherence();
	test_adherence_together();
	test_adherence_clipped();
	return 0;
}
