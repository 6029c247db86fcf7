/*
 * Schedules: the periods of an agreement, their deadlines in UTC, and
 * adherence. This is calendar arithmetic on local time in the agreement's
 * zone, read by src/zone.c from the system's zoneinfo.
 *
 * Internally times are whole seconds: "utc" is seconds since the epoch,
 * "local" is the same count on the local wall clock (utc + offset), and a
 * day number counts days since 1970-01-01.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amends/schedule.h"
#include "zone.h"

#define LAST_DAY 2932894           /* 9999-12-29: local times stay in range */
#define MAX_MS ((int64_t)LAST_DAY * DAY * 1000)

/*
 * Times come from entries, whose authors may claim any int64 (year 9999,
 * INT64_MIN): every time taken here is first brought within [0, MAX_MS],
 * so that no arithmetic below overflows and no claimed time makes a
 * schedule fail. A time past the last day reads as the last day, one
 * before 1970 as 1970-01-01.
 */
static int64_t
saturate(int64_t ms)
{
	return ms < 0 ? 0 : ms > MAX_MS ? MAX_MS : ms;
}

struct am_schedule {
	struct am_zone zone;
	uint32_t every, hours, at, weekday;
	int64_t grace;             /* seconds */
	int64_t first_day, last_day;
	uint32_t npauses;
	int64_t pause_from[AM_MAX_PAUSES], pause_until[AM_MAX_PAUSES];
};

static unsigned
digits_value(const char *p, size_t n, bool *ok)
{
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			*ok = false;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	return v;
}

/* A date "YYYY-MM-DD" that exists (1970-01-01 to 9999-12-31), as a day
 * number. Terms may hold any such date; a label names a period, so its
 * date is at most LAST_DAY (label_date). */
static bool
parse_date(struct am_str s, int64_t *day)
{
	if (!am_date_ok(s))
		return false;
	bool ok = true;
	unsigned y = digits_value(s.p, 4, &ok);
	unsigned m = digits_value(s.p + 5, 2, &ok);
	unsigned d = digits_value(s.p + 8, 2, &ok);
	*day = days_from_civil(y, m, d);
	return ok;
}

static bool
label_date(struct am_str s, int64_t *day)
{
	return parse_date(s, day) && *day <= LAST_DAY;
}

/* Writes v, which fits, in exactly width decimal digits; returns the end. */
static char *
put_digits(char *out, int64_t v, int width)
{
	for (int i = width - 1; i >= 0; i--, v /= 10)
		out[i] = (char)('0' + v % 10);
	return out + width;
}

/* Writes "YYYY-MM-DD" (no NUL) and returns the end. */
static char *
put_date(char *out, int64_t day)
{
	int64_t y;
	unsigned m, d;
	civil_from_days(day, &y, &m, &d);
	out = put_digits(out, y, 4);
	*out++ = '-';
	out = put_digits(out, m, 2);
	*out++ = '-';
	return put_digits(out, d, 2);
}

static void
format_date(int64_t day, char out[static 11])
{
	*put_date(out, day) = '\0';
}

/*
 * Names in the zoneinfo directory that are a machine's settings, not
 * zones: "localtime" links to the reader's own zone (/etc/localtime),
 * "posixrules" to whatever rules its C library assumes. A schedule in
 * either would give every reader its own periods, so neither is a zone
 * here, in any directory.
 */
static bool
zone_is_setting(struct am_str zone)
{
	static const char *const settings[] = { "localtime", "posixrules" };
	size_t from = 0;
	for (size_t i = 0; zone.p != NULL && i <= zone.n; i++) {
		if (i < zone.n && zone.p[i] != '/')
			continue;
		for (size_t k = 0; k < sizeof settings / sizeof settings[0]; k++)
			if (i - from == strlen(settings[k]) &&
			    memcmp(zone.p + from, settings[k], i - from) == 0)
				return true;
		from = i + 1;
	}
	return false;
}

bool
am_schedule_zone_ok(struct am_str zone)
{
	struct am_zone z;
	if (zone_is_setting(zone))
		return false;
	int rc = am_zone_load(zone, &z);
	am_zone_finish(&z);
	return rc == AM_OK;
}

/* ---- the schedule ---- */

int
am_schedule_load(const struct am_terms *t, int64_t anchor,
	struct am_schedule **out)
{
	struct am_schedule *s;
	int rc;
	if (t == NULL || !t->has_schedule)
		return AM_ERR_ARG;
	if (t->every < AM_EVERY_DAY || t->every > AM_EVERY_HOURS ||
	    t->at >= 24 * 60 || t->weekday > 6 || t->npauses > AM_MAX_PAUSES ||
	    t->grace > 315360000u ||
	    (t->every == AM_EVERY_HOURS && (t->hours < 1 || t->hours > 24 * 366)))
		return AM_ERR_FIELD;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return AM_ERR_NOMEM;
	s->every = t->every;
	s->hours = t->every == AM_EVERY_HOURS ? t->hours : 0;
	s->at = t->every == AM_EVERY_HOURS ? 0 : t->at;
	s->weekday = t->every == AM_EVERY_WEEK ? t->weekday : 0;
	s->grace = (int64_t)t->grace;
	s->last_day = LAST_DAY;
	rc = AM_ERR_FIELD;
	if ((t->from.p && !parse_date(t->from, &s->first_day)) ||
	    (t->until.p && !parse_date(t->until, &s->last_day)))
		goto fail;
	for (uint32_t i = 0; i < t->npauses; i++)
		if (!parse_date(t->pauses[i].from, &s->pause_from[i]) ||
		    !parse_date(t->pauses[i].until, &s->pause_until[i]))
			goto fail;
	s->npauses = t->npauses;
	rc = AM_ERR_ZONE;
	if (zone_is_setting(t->tz) || (rc = am_zone_load(t->tz, &s->zone)) != AM_OK)
		goto fail;
	if (t->from.p == NULL) {
		anchor = saturate(anchor);
		s->first_day = floordiv(am_zone_to_local(&s->zone, floordiv(anchor, 1000)), DAY);
		if (s->first_day < 0)
			s->first_day = 0;
		if (s->first_day > LAST_DAY)
			s->first_day = LAST_DAY;
	}
	*out = s;
	return AM_OK;
fail:
	am_schedule_destroy(&s);
	return rc;
}

void
am_schedule_destroy(struct am_schedule **s)
{
	if (s == NULL || *s == NULL)
		return;
	am_zone_finish(&(*s)->zone);
	free(*s);
	*s = NULL;
}

static bool
in_pause(const struct am_schedule *s, int64_t day)
{
	for (uint32_t i = 0; i < s->npauses; i++)
		if (day >= s->pause_from[i] && day <= s->pause_until[i])
			return true;
	return false;
}

/* Local start of hourly period k. */
static int64_t
hourly_local(const struct am_schedule *s, int64_t k)
{
	return s->first_day * DAY + k * (int64_t)s->hours * 3600;
}

/* The local day on which period ord starts (its first day, for weeks). */
static int64_t
start_day(const struct am_schedule *s, int64_t ord)
{
	return s->every == AM_EVERY_WEEK ? ord * 7 - 3 : ord;
}

/* The day of period ord: what from, until and pauses are compared with. */
static int64_t
period_day(const struct am_schedule *s, int64_t ord)
{
	if (s->every == AM_EVERY_HOURS)
		return floordiv(hourly_local(s, ord), DAY);
	if (s->every == AM_EVERY_WEEK)
		return start_day(s, ord) + s->weekday;
	return ord;
}

/* First instant of period ord. */
static int64_t
start_of(const struct am_schedule *s, int64_t ord)
{
	if (s->every == AM_EVERY_HOURS)
		return am_zone_to_utc(&s->zone, hourly_local(s, ord));
	return am_zone_to_utc(&s->zone, start_day(s, ord) * DAY);
}

/*
 * Fills p with period ord. AM_ERR_NOT_FOUND for a period left empty by a
 * change of offset, AM_ERR_ARG past the last representable day.
 */
static int
make_period(const struct am_schedule *s, int64_t ord, struct am_period *p)
{
	int64_t start = start_of(s, ord), end = start_of(s, ord + 1), deadline;
	int64_t day = period_day(s, ord), y;
	unsigned m, d;
	memset(p, 0, sizeof(*p));
	if (day > LAST_DAY || day < -7)
		return AM_ERR_ARG;
	/* a zone that skipped a whole day (Samoa's 30 December 2011) or an
	 * hourly period's local start leaves it empty */
	if (start == end)
		return AM_ERR_NOT_FOUND;
	if (s->every == AM_EVERY_HOURS) {
		deadline = end;
		int64_t local = am_zone_to_local(&s->zone, start);
		int64_t lday = floordiv(local, DAY);
		char *e = put_date(p->label, lday);
		*e++ = 'T';
		*put_digits(e, (local - lday * DAY) / 3600, 2) = '\0';
	} else if (s->every == AM_EVERY_WEEK) {
		int64_t thursday = start_day(s, ord) + 3;
		deadline = am_zone_to_utc(&s->zone, day * DAY + s->at * 60);
		civil_from_days(thursday, &y, &m, &d);
		int64_t week = (thursday - days_from_civil(y, 1, 1)) / 7 + 1;
		char *e = put_digits(p->label, y, 4);
		*e++ = '-';
		*e++ = 'W';
		*put_digits(e, week, 2) = '\0';
	} else {
		deadline = am_zone_to_utc(&s->zone, day * DAY + s->at * 60);
		format_date(day, p->label);
	}
	p->ordinal = ord;
	p->start = start * 1000;
	p->end = end * 1000;
	p->deadline = deadline * 1000;
	p->due = p->deadline + s->grace * 1000;
	format_date(day, p->day);
	p->within = day >= s->first_day && day <= s->last_day;
	p->paused = in_pause(s, day);
	return AM_OK;
}

/* Ordinal of the period containing utc; false when before the first. */
static bool
ordinal_at(const struct am_schedule *s, int64_t utc, int64_t *ord)
{
	int64_t local = am_zone_to_local(&s->zone, utc), o;
	if (s->every == AM_EVERY_HOURS)
		o = floordiv(local - s->first_day * DAY, (int64_t)s->hours * 3600);
	else if (s->every == AM_EVERY_WEEK)
		o = floordiv(floordiv(local, DAY) + 3, 7);
	else
		o = floordiv(local, DAY);
	/* local time and periods can disagree by a step around a change */
	for (int i = 0; i < 4 && start_of(s, o) > utc; i++)
		o--;
	for (int i = 0; i < 4 && start_of(s, o + 1) <= utc; i++)
		o++;
	*ord = o;
	return s->every != AM_EVERY_HOURS || o >= 0;
}

int
am_schedule_period_at(const struct am_schedule *s, int64_t time,
	struct am_period *p)
{
	int64_t ord;
	if (!ordinal_at(s, floordiv(saturate(time), 1000), &ord))
		return AM_ERR_NOT_FOUND;
	return make_period(s, ord, p);
}

/* Period ord if it exists and belongs, else the next that does. */
static int
seek(const struct am_schedule *s, int64_t ord, struct am_period *p)
{
	for (int i = 0; i < 8; i++, ord++) {
		int rc = make_period(s, ord, p);
		if (rc == AM_ERR_ARG)
			return AM_ERR_NOT_FOUND;
		if (rc != AM_OK)
			continue;
		if (period_day(s, ord) > s->last_day)
			return AM_ERR_NOT_FOUND;
		if (p->within)
			return AM_OK;
	}
	return AM_ERR_NOT_FOUND;
}

int
am_schedule_first(const struct am_schedule *s, struct am_period *p)
{
	int64_t ord = s->first_day;
	if (s->every == AM_EVERY_HOURS)
		ord = 0;
	else if (s->every == AM_EVERY_WEEK)
		/* the first week whose deadline day is on or after from */
		ord = -floordiv(-(s->first_day + 3 - (int64_t)s->weekday), 7);
	return seek(s, ord, p);
}

int
am_schedule_next(const struct am_schedule *s, struct am_period *p)
{
	struct am_period next;
	int rc = seek(s, p->ordinal + 1, &next);
	if (rc == AM_OK)
		*p = next;
	return rc;
}

/* Checks the shape of a label for the schedule's kind and returns an
 * instant inside the period it names. */
static bool
label_instant(const struct am_schedule *s, struct am_str l, int64_t *utc)
{
	int64_t day;
	bool ok = true;
	if (l.p == NULL)
		return false;
	if (s->every == AM_EVERY_DAY) {
		if (l.n != 10 || !label_date(l, &day))
			return false;
		*utc = am_zone_to_utc(&s->zone, day * DAY);
	} else if (s->every == AM_EVERY_WEEK) {
		if (l.n != 8 || l.p[4] != '-' || l.p[5] != 'W')
			return false;
		unsigned y = digits_value(l.p, 4, &ok), w = digits_value(l.p + 6, 2, &ok);
		if (!ok || y < 1970 || y > 9999 || w < 1 || w > 53)
			return false;
		/* week 1 is the week holding 4 January */
		int64_t jan4 = days_from_civil(y, 1, 4);
		day = jan4 - weekday_mon(jan4) + 7 * (int64_t)(w - 1);
		*utc = am_zone_to_utc(&s->zone, day * DAY);
	} else {
		if (l.n != 13 || l.p[10] != 'T')
			return false;
		unsigned h = digits_value(l.p + 11, 2, &ok);
		if (!ok || h > 23 || !label_date((struct am_str){ l.p, 10 }, &day))
			return false;
		*utc = am_zone_to_utc(&s->zone, day * DAY + h * 3600);
	}
	return true;
}

int
am_schedule_parse(const struct am_schedule *s, struct am_str label,
	struct am_period *p)
{
	int64_t utc, ord;
	struct am_period q;
	if (!label_instant(s, label, &utc) || utc < 0 || utc * 1000 > MAX_MS ||
	    !ordinal_at(s, utc, &ord) || make_period(s, ord, &q) != AM_OK)
		return AM_ERR_PERIOD;
	/* the canonical label of the period found must be the one given: this
	 * refuses week 53 of a 52-week year, hours off the grid, and hours
	 * skipped by a daylight saving change */
	if (strlen(q.label) != label.n || memcmp(q.label, label.p, label.n) != 0 ||
	    !q.within)
		return AM_ERR_PERIOD;
	*p = q;
	return AM_OK;
}

int
am_schedule_format(const struct am_schedule *s, int64_t time,
	char out[static AM_SCHEDULE_TIME_BYTES])
{
	int64_t local = am_zone_to_local(&s->zone, floordiv(saturate(time), 1000));
	int64_t day = floordiv(local, DAY), secs = local - day * DAY;
	char *e = put_date(out, day);
	*e++ = ' ';
	e = put_digits(e, secs / 3600, 2);
	*e++ = ':';
	*put_digits(e, secs % 3600 / 60, 2) = '\0';
	return AM_OK;
}

/* ---- adherence ---- */

/* A check-in that names a period of the schedule. */
struct rec {
	int64_t ordinal;
	uint32_t person;
	uint64_t seq;
	uint32_t status;
	int64_t time;
};

static int
rec_cmp(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	if (x->ordinal != y->ordinal)
		return x->ordinal < y->ordinal ? -1 : 1;
	if (x->person != y->person)
		return x->person < y->person ? -1 : 1;
	/* then the one that counts first: highest seq; a fork's twins are
	 * ordered by content so that input order never matters */
	if (x->seq != y->seq)
		return x->seq > y->seq ? -1 : 1;
	if (x->status != y->status)
		return x->status > y->status ? -1 : 1;
	if (x->time != y->time)
		return x->time > y->time ? -1 : 1;
	return 0;
}

static int
person_of(const uint8_t (*people)[32], size_t npeople, const uint8_t *author)
{
	for (size_t i = 0; i < npeople; i++)
		if (author != NULL && memcmp(people[i], author, 32) == 0)
			return (int)i;
	return -1;
}

/* Parses the check-ins of people into recs sorted by period, one per
 * (period, person): the one that counts. */
static int
collect(const struct am_schedule *s, int64_t now, const uint8_t (*people)[32],
	size_t npeople, const struct am_schedule_checkin *c, size_t nc,
	struct rec **out, size_t *nout, uint32_t *ignored)
{
	struct am_period p;
	struct rec *r = NULL;
	size_t n = 0;
	if (nc > 0 && (r = calloc(nc, sizeof(*r))) == NULL)
		return AM_ERR_NOMEM;
	for (size_t i = 0; i < nc; i++) {
		int who = person_of(people, npeople, c[i].author);
		if (who < 0)
			continue;
		if (c[i].status < AM_KEPT || c[i].status > AM_MISSED ||
		    am_schedule_parse(s, c[i].period, &p) != AM_OK || p.paused ||
		    p.start > now) {
			(*ignored)++;
			continue;
		}
		r[n++] = (struct rec){ p.ordinal, (uint32_t)who, c[i].seq,
			c[i].status, c[i].time };
	}
	if (n > 0)
		qsort(r, n, sizeof(*r), rec_cmp);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (k == 0 || r[k - 1].ordinal != r[i].ordinal ||
		    r[k - 1].person != r[i].person)
			r[k++] = r[i];
	*out = r;
	*nout = k;
	return AM_OK;
}

/* What the people reported for one period: worst status, or 0 when someone
 * has not reported; late when a counted check-in came after due. */
static uint32_t
reported(const struct rec *r, size_t n, size_t *at, const struct am_period *p,
	size_t npeople, bool *late)
{
	uint32_t worst = AM_KEPT, count = 0;
	while (*at < n && r[*at].ordinal < p->ordinal)
		(*at)++;
	*late = false;
	for (; *at < n && r[*at].ordinal == p->ordinal; (*at)++) {
		count++;
		worst = r[*at].status > worst ? r[*at].status : worst;
		*late = *late || r[*at].time > p->due;
	}
	return count == npeople ? worst : 0;
}

static void
settle(struct am_adherence *a, uint32_t status, bool late)
{
	a->due++;
	if (status == 0) {
		a->unreported++;
		status = AM_MISSED;
	} else if (late) {
		a->late++;
	}
	if (status == AM_KEPT)
		a->kept++;
	else if (status == AM_PARTIAL)
		a->partial++;
	else
		a->missed++;
	a->streak = status == AM_KEPT ? a->streak + 1 : 0;
}

/* Remembers an overdue period; overdue[] holds the latest, newest first. */
static void
overdue(struct am_adherence *a, const struct am_period *p)
{
	a->noverdue++;
	if (a->nlisted < AM_SCHEDULE_LIST)
		a->nlisted++;
	memmove(&a->overdue[1], &a->overdue[0],
		(a->nlisted - 1) * sizeof(a->overdue[0]));
	a->overdue[0] = *p;
}

int
am_schedule_adherence(const struct am_schedule *s, int64_t now,
	const uint8_t (*people)[32], size_t npeople,
	const struct am_schedule_checkin *checkins, size_t ncheckins,
	struct am_adherence *out)
{
	struct am_period p, cur;
	struct rec *r = NULL;
	size_t nr = 0, at = 0;
	bool late;
	int rc;
	memset(out, 0, sizeof(*out));
	if (npeople == 0 || npeople > AM_MAX_PARTIES ||
	    (ncheckins > 0 && checkins == NULL))
		return AM_ERR_ARG;
	now = saturate(now);
	if ((rc = collect(s, now, people, npeople, checkins, ncheckins, &r, &nr,
	    &out->ignored)) != AM_OK)
		return rc;
	rc = am_schedule_first(s, &p);
	/* walk at most AM_SCHEDULE_MAX_PERIODS periods, the latest up to now */
	if (rc == AM_OK && am_schedule_period_at(s, now, &cur) == AM_OK &&
	    cur.ordinal - p.ordinal >= AM_SCHEDULE_MAX_PERIODS) {
		out->clipped = true;
		rc = seek(s, cur.ordinal - AM_SCHEDULE_MAX_PERIODS + 1, &p);
	}
	for (uint32_t i = 0; rc == AM_OK && i < AM_SCHEDULE_MAX_PERIODS &&
	    p.start <= now; i++, rc = am_schedule_next(s, &p)) {
		if (p.paused) {
			out->paused++;
			continue;
		}
		uint32_t status = reported(r, nr, &at, &p, npeople, &late);
		if (now > p.due || status != 0)
			settle(out, status, late);
		if (status == 0 && now > p.deadline)
			overdue(out, &p);
		if (status == 0 && now <= p.deadline && !out->has_upcoming) {
			out->has_upcoming = true;
			out->upcoming = p;
		}
	}
	/* nothing awaits before now: the next period that is not paused */
	for (uint32_t i = 0; rc == AM_OK && !out->has_upcoming &&
	    i < AM_SCHEDULE_MAX_PERIODS; i++, rc = am_schedule_next(s, &p)) {
		if (!p.paused && p.start > now) {
			out->has_upcoming = true;
			out->upcoming = p;
		}
	}
	free(r);
	return AM_OK;
}
