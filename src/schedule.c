/*
 * Schedules: the periods of an agreement, their deadlines in UTC, and
 * adherence. This is calendar arithmetic on local time in the agreement's
 * zone, so the module carries its own reader of zoneinfo (TZif, RFC 8536)
 * files, including the POSIX TZ rule in their footer that covers the years
 * after the last listed transition. Reading the zone ourselves, instead of
 * switching TZ under the C library, keeps the module free of global state:
 * the node may log local times on another thread while a schedule is
 * computed.
 *
 * Internally times are whole seconds: "utc" is seconds since the epoch,
 * "local" is the same count on the local wall clock (utc + offset), and a
 * day number counts days since 1970-01-01.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "amends/schedule.h"

#define DAY 86400
#define LAST_DAY 2932894           /* 9999-12-29: local times stay in range */
#define MAX_MS ((int64_t)LAST_DAY * DAY * 1000)
#define ZONE_FILE_MAX (1 << 20)    /* the largest real zone file is ~3 KiB */
#define ZONE_DIR "/usr/share/zoneinfo"
#define MIN_UTOFF (-89999)         /* RFC 8536's bounds on an offset */
#define MAX_UTOFF 93599

/* One end of daylight saving time in a POSIX TZ rule. */
struct rule_date {
	char kind;          /* 'J' Julian 1-365, 'D' zero-based day, 'M' month */
	int a, b, c;        /* J, D: a is the day; M: month a, week b, day c */
	int32_t secs;       /* local time of day of the change */
};

struct zone {
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

struct am_schedule {
	struct zone zone;
	uint32_t every, hours, at, weekday;
	int64_t grace;             /* seconds */
	int64_t first_day, last_day;
	uint32_t npauses;
	int64_t pause_from[AM_MAX_PAUSES], pause_until[AM_MAX_PAUSES];
};

static int64_t
floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 of a proleptic Gregorian date, by 400-year eras of
 * 146097 days, with years starting in March so that the leap day is last. */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = floordiv(y, 400);
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
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

static bool
leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Weekday of a day number, 0 Monday … 6 Sunday (1970-01-01 a Thursday). */
static int64_t
weekday_mon(int64_t day)
{
	return ((day + 3) % 7 + 7) % 7;
}

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

/* A date "YYYY-MM-DD" that exists, as a day number. */
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
	return ok && *day <= LAST_DAY;
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

/* ---- POSIX TZ rules (the zoneinfo footer) ---- */

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A zone abbreviation: three or more letters, or <...> quoted. */
static const char *
tz_name(const char *p, const char *end)
{
	const char *q;
	if (p < end && *p == '<') {
		for (q = p + 1; q < end && *q != '>'; q++)
			if (!is_digit(*q) && *q != '+' && *q != '-' &&
			    !((*q | 0x20) >= 'a' && (*q | 0x20) <= 'z'))
				return NULL;
		return q < end && q - p - 1 >= 3 ? q + 1 : NULL;
	}
	for (q = p; q < end && (*q | 0x20) >= 'a' && (*q | 0x20) <= 'z'; q++)
		;
	return q - p >= 3 ? q : NULL;
}

static const char *
tz_number(const char *p, const char *end, int max_digits, int *v)
{
	int n = 0;
	*v = 0;
	while (p < end && is_digit(*p) && n < max_digits) {
		*v = *v * 10 + (*p++ - '0');
		n++;
	}
	return n > 0 ? p : NULL;
}

/* [+-]h[h][:m[m][:s[s]]], hours at most max_hours. */
static const char *
tz_hms(const char *p, const char *end, int max_hours, int32_t *secs)
{
	int sign = 1, h, x;
	if (p < end && (*p == '+' || *p == '-'))
		sign = *p++ == '-' ? -1 : 1;
	if ((p = tz_number(p, end, 3, &h)) == NULL || h > max_hours)
		return NULL;
	int32_t v = h * 3600;
	for (int part = 0; part < 2 && p < end && *p == ':'; part++) {
		if ((p = tz_number(p + 1, end, 2, &x)) == NULL || x > 59)
			return NULL;
		v += part == 0 ? x * 60 : x;
	}
	*secs = sign * v;
	return p;
}

static const char *
tz_rule_date(const char *p, const char *end, struct rule_date *r)
{
	if (p >= end)
		return NULL;
	r->secs = 7200;    /* POSIX's default time of day: 02:00 */
	if (*p == 'J') {
		r->kind = 'J';
		if ((p = tz_number(p + 1, end, 3, &r->a)) == NULL || r->a < 1 ||
		    r->a > 365)
			return NULL;
	} else if (*p == 'M') {
		r->kind = 'M';
		if ((p = tz_number(p + 1, end, 2, &r->a)) == NULL || r->a < 1 ||
		    r->a > 12 || p >= end || *p != '.' ||
		    (p = tz_number(p + 1, end, 1, &r->b)) == NULL || r->b < 1 ||
		    r->b > 5 || p >= end || *p != '.' ||
		    (p = tz_number(p + 1, end, 1, &r->c)) == NULL || r->c > 6)
			return NULL;
	} else {
		r->kind = 'D';
		if ((p = tz_number(p, end, 3, &r->a)) == NULL || r->a > 365)
			return NULL;
	}
	if (p < end && *p == '/')
		p = tz_hms(p + 1, end, 167, &r->secs);
	return p;
}

static bool
parse_rule(const char *p, const char *end, struct zone *z)
{
	int32_t off;
	if ((p = tz_name(p, end)) == NULL || (p = tz_hms(p, end, 24, &off)) == NULL)
		return false;
	z->std_off = -off;    /* POSIX counts hours west of UTC */
	z->has_rule = true;
	if (p == end)
		return true;
	if ((p = tz_name(p, end)) == NULL)
		return false;
	z->has_dst = true;
	z->dst_off = z->std_off + 3600;
	if (p < end && *p != ',') {
		if ((p = tz_hms(p, end, 24, &off)) == NULL)
			return false;
		z->dst_off = -off;
	}
	if (p == end) {
		/* no rule given: the United States' since 2007, as glibc does */
		z->start = (struct rule_date){ 'M', 3, 2, 0, 7200 };
		z->end = (struct rule_date){ 'M', 11, 1, 0, 7200 };
		return true;
	}
	if (*p != ',' || (p = tz_rule_date(p + 1, end, &z->start)) == NULL ||
	    p >= end || *p != ',' || (p = tz_rule_date(p + 1, end, &z->end)) == NULL)
		return false;
	return p == end;
}

/* The day number on which a rule date falls in year y. */
static int64_t
rule_day(const struct rule_date *r, int64_t y)
{
	int64_t jan1 = days_from_civil(y, 1, 1);
	if (r->kind == 'J')
		return jan1 + r->a - 1 + (leap(y) && r->a >= 60);
	if (r->kind == 'D')
		return jan1 + r->a;
	int64_t first = days_from_civil(y, (unsigned)r->a, 1);
	int64_t next = r->a == 12 ? days_from_civil(y + 1, 1, 1) :
		days_from_civil(y, (unsigned)r->a + 1, 1);
	/* r->c counts from Sunday; weekday_mon() from Monday */
	int64_t day = first + ((r->c + 6) % 7 - weekday_mon(first) + 7) % 7;
	day += 7 * (r->b - 1);
	while (day >= next)
		day -= 7;
	return day;
}

/* The footer rule's changes in the years around utc, sorted; dst[i] says
 * whether change i starts daylight saving time. */
static size_t
rule_changes(const struct zone *z, int64_t utc, int64_t t[8], bool dst[8])
{
	int64_t y, base;
	unsigned m, d;
	size_t n = 0;
	civil_from_days(floordiv(utc, DAY), &y, &m, &d);
	for (base = y - 1; base <= y + 2; base++) {
		t[n] = rule_day(&z->end, base) * DAY + z->end.secs - z->dst_off;
		dst[n++] = false;
		t[n] = rule_day(&z->start, base) * DAY + z->start.secs - z->std_off;
		dst[n++] = true;
	}
	/* insertion sort; at equal times the end goes first, the start wins */
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0 && (t[k] < t[k - 1] ||
		    (t[k] == t[k - 1] && !dst[k] && dst[k - 1])); k--) {
			int64_t tt = t[k]; t[k] = t[k - 1]; t[k - 1] = tt;
			bool bb = dst[k]; dst[k] = dst[k - 1]; dst[k - 1] = bb;
		}
	return n;
}

static int32_t
rule_offset(const struct zone *z, int64_t utc)
{
	int64_t t[8];
	bool dst[8], in_dst = false;
	if (!z->has_dst)
		return z->std_off;
	size_t n = rule_changes(z, utc, t, dst);
	for (size_t i = 0; i < n && t[i] <= utc; i++)
		in_dst = dst[i];
	return in_dst ? z->dst_off : z->std_off;
}

static int64_t
rule_next(const struct zone *z, int64_t utc)
{
	int64_t t[8];
	bool dst[8];
	if (!z->has_dst)
		return INT64_MAX;
	size_t n = rule_changes(z, utc, t, dst);
	for (size_t i = 0; i < n; i++)
		if (t[i] > utc)
			return t[i];
	return INT64_MAX;
}

/* ---- zone lookups ---- */

/* Index of the last transition at or before utc, or -1. */
static int64_t
last_transition(const struct zone *z, int64_t utc)
{
	size_t lo = 0, hi = z->ntimes;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (z->times[mid] <= utc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (int64_t)lo - 1;
}

static int32_t
offset_at(const struct zone *z, int64_t utc)
{
	int64_t i = last_transition(z, utc);
	if (z->has_rule && i == (int64_t)z->ntimes - 1 &&
	    (z->ntimes == 0 || utc > z->times[i]))
		return rule_offset(z, utc);
	return z->utoff[i < 0 ? 0 : z->types[i]];
}

/* The first transition after utc (INT64_MAX when none). */
static int64_t
next_transition(const struct zone *z, int64_t utc)
{
	int64_t i = last_transition(z, utc);
	if (i + 1 < (int64_t)z->ntimes)
		return z->times[i + 1];
	return z->has_rule ? rule_next(z, utc) : INT64_MAX;
}

static int64_t
to_local(const struct zone *z, int64_t utc)
{
	return utc + offset_at(z, utc);
}

/*
 * The earliest instant whose local time is at or after local. For a local
 * time that exists this is the instant (the first of two in a fall-back
 * hour); for one skipped by a change it is the change itself, the next
 * valid local time. Walks the spans of constant offset that can contain
 * the answer, a window of about two days holding very few changes.
 */
static int64_t
to_utc(const struct zone *z, int64_t local)
{
	int64_t s = local - MAX_UTOFF - 1, hi = local - MIN_UTOFF;
	for (int i = 0; i < 64 && s <= hi; i++) {
		int32_t off = offset_at(z, s);
		int64_t e = next_transition(z, s);
		if (s + off >= local)
			return s;
		if (e == INT64_MAX || e - 1 + off >= local)
			return local - off;
		s = e;
	}
	return hi;
}

/* ---- zone files ---- */

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		(uint32_t)p[2] << 8 | p[3];
}

static int64_t
be64(const uint8_t *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static void
zone_finish(struct zone *z)
{
	free(z->times);
	free(z->types);
	memset(z, 0, sizeof(*z));
}

/*
 * Reads one TZif data block (v1 with 4-byte times, v2+ with 8-byte ones)
 * at *pos, checking every count against the bytes that remain.
 */
static int
parse_block(const uint8_t *d, size_t n, size_t *pos, int tsize, struct zone *z)
{
	if (n - *pos < 44 || memcmp(d + *pos, "TZif", 4) != 0)
		return AM_ERR_ZONE;
	const uint8_t *h = d + *pos + 20;
	uint64_t isut = be32(h), isstd = be32(h + 4), leaps = be32(h + 8),
		times = be32(h + 12), types = be32(h + 16), chars = be32(h + 20);
	uint64_t size = times * (uint64_t)(tsize + 1) + types * 6 + chars +
		leaps * (uint64_t)(tsize + 4) + isstd + isut;
	*pos += 44;
	/* leap-second ("right/") zones count time differently: refused */
	if (size > n - *pos || types == 0 || types > 256 || chars == 0 ||
	    leaps != 0 || (isstd != 0 && isstd != types) ||
	    (isut != 0 && isut != types))
		return AM_ERR_ZONE;
	const uint8_t *p = d + *pos;
	*pos += size;
	zone_finish(z);
	z->ntimes = times;
	z->ntypes = types;
	if (times > 0 && ((z->times = malloc(times * sizeof(int64_t))) == NULL ||
	    (z->types = malloc(times)) == NULL))
		return AM_ERR_NOMEM;
	for (size_t i = 0; i < times; i++, p += tsize) {
		z->times[i] = tsize == 8 ? be64(p) : (int32_t)be32(p);
		if (i > 0 && z->times[i] <= z->times[i - 1])
			return AM_ERR_ZONE;
	}
	for (size_t i = 0; i < times; i++, p++) {
		if (*p >= types)
			return AM_ERR_ZONE;
		z->types[i] = *p;
	}
	for (size_t i = 0; i < types; i++, p += 6) {
		int32_t off = (int32_t)be32(p);
		if (off < MIN_UTOFF || off > MAX_UTOFF || p[4] > 1 || p[5] >= chars)
			return AM_ERR_ZONE;
		z->utoff[i] = off;
	}
	return AM_OK;
}

static int
parse_tzif(const uint8_t *d, size_t n, struct zone *z)
{
	size_t pos = 0;
	int rc;
	if (n < 44 || memcmp(d, "TZif", 4) != 0)
		return AM_ERR_ZONE;
	uint8_t version = d[4];
	if ((rc = parse_block(d, n, &pos, 4, z)) != AM_OK || version == 0)
		return rc;
	if ((rc = parse_block(d, n, &pos, 8, z)) != AM_OK)
		return rc;
	/* footer: "\n" POSIX-TZ "\n"; empty means no rule */
	if (pos >= n || d[pos] != '\n')
		return AM_ERR_ZONE;
	const char *tz = (const char *)d + pos + 1;
	const char *nl = memchr(tz, '\n', n - pos - 1);
	if (nl == NULL)
		return AM_ERR_ZONE;
	if (nl > tz && !parse_rule(tz, nl, z))
		return AM_ERR_ZONE;
	return AM_OK;
}

/* Zone names as body.c admits them, so that a name cannot leave the
 * zoneinfo directory whoever built the terms. */
static bool
zone_name_ok(struct am_str s)
{
	if (s.p == NULL || s.n == 0 || s.n > AM_MAX_TZ || s.p[0] == '/' ||
	    s.p[s.n - 1] == '/')
		return false;
	for (size_t i = 0; i < s.n; i++) {
		char c = s.p[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			is_digit(c) || c == '/' || c == '_' || c == '-' || c == '+';
		if (!ok || (c == '/' && s.p[i - 1] == '/'))
			return false;
	}
	return true;
}

static int
read_file(const char *path, uint8_t **data, size_t *len)
{
	struct stat st;
	int rc = AM_ERR_ZONE;
	uint8_t *d = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return AM_ERR_ZONE;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 44 ||
	    st.st_size > ZONE_FILE_MAX)
		goto fail;
	size_t n = (size_t)st.st_size, got = 0;
	if ((d = malloc(n)) == NULL) {
		rc = AM_ERR_NOMEM;
		goto fail;
	}
	while (got < n) {
		ssize_t r = read(fd, d + got, n - got);
		if (r <= 0)
			goto fail;
		got += (size_t)r;
	}
	close(fd);
	*data = d;
	*len = n;
	return AM_OK;
fail:
	free(d);
	close(fd);
	return rc;
}

static int
zone_load(struct am_str name, struct zone *z)
{
	char path[512];
	uint8_t *data = NULL;
	size_t len;
	int rc;
	memset(z, 0, sizeof(*z));
	if (!zone_name_ok(name))
		return AM_ERR_ZONE;
	const char *dir = getenv("TZDIR");
	if (dir == NULL || dir[0] != '/')
		dir = ZONE_DIR;
	int w = snprintf(path, sizeof(path), "%s/%.*s", dir, (int)name.n, name.p);
	if (w < 0 || (size_t)w >= sizeof(path))
		return AM_ERR_ZONE;
	rc = read_file(path, &data, &len);
	if (rc == AM_ERR_ZONE && ((name.n == 3 && memcmp(name.p, "UTC", 3) == 0) ||
	    (name.n == 7 && memcmp(name.p, "Etc/UTC", 7) == 0))) {
		/* UTC needs no data: a machine without tzdata still knows it */
		z->ntypes = 1;
		return AM_OK;
	}
	if (rc != AM_OK)
		return rc;
	rc = parse_tzif(data, len, z);
	free(data);
	if (rc != AM_OK)
		zone_finish(z);
	return rc;
}

bool
am_schedule_zone_ok(struct am_str zone)
{
	struct zone z;
	int rc = zone_load(zone, &z);
	zone_finish(&z);
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
	if ((rc = zone_load(t->tz, &s->zone)) != AM_OK)
		goto fail;
	if (t->from.p == NULL) {
		rc = AM_ERR_ARG;
		if (anchor < 0 || anchor > MAX_MS)
			goto fail;
		s->first_day = floordiv(to_local(&s->zone, floordiv(anchor, 1000)), DAY);
		if (s->first_day < 0)
			s->first_day = 0;
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
	zone_finish(&(*s)->zone);
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
		return to_utc(&s->zone, hourly_local(s, ord));
	return to_utc(&s->zone, start_day(s, ord) * DAY);
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
		int64_t local = to_local(&s->zone, start);
		int64_t lday = floordiv(local, DAY);
		char *e = put_date(p->label, lday);
		*e++ = 'T';
		*put_digits(e, (local - lday * DAY) / 3600, 2) = '\0';
	} else if (s->every == AM_EVERY_WEEK) {
		int64_t thursday = start_day(s, ord) + 3;
		deadline = to_utc(&s->zone, day * DAY + s->at * 60);
		civil_from_days(thursday, &y, &m, &d);
		int64_t week = (thursday - days_from_civil(y, 1, 1)) / 7 + 1;
		char *e = put_digits(p->label, y, 4);
		*e++ = '-';
		*e++ = 'W';
		*put_digits(e, week, 2) = '\0';
	} else {
		deadline = to_utc(&s->zone, day * DAY + s->at * 60);
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
	int64_t local = to_local(&s->zone, utc), o;
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
	if (time < 0 || time > MAX_MS)
		return AM_ERR_ARG;
	if (!ordinal_at(s, floordiv(time, 1000), &ord))
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
		if (l.n != 10 || !parse_date(l, &day))
			return false;
		*utc = to_utc(&s->zone, day * DAY);
	} else if (s->every == AM_EVERY_WEEK) {
		if (l.n != 8 || l.p[4] != '-' || l.p[5] != 'W')
			return false;
		unsigned y = digits_value(l.p, 4, &ok), w = digits_value(l.p + 6, 2, &ok);
		if (!ok || y < 1970 || y > 9999 || w < 1 || w > 53)
			return false;
		/* week 1 is the week holding 4 January */
		int64_t jan4 = days_from_civil(y, 1, 4);
		day = jan4 - weekday_mon(jan4) + 7 * (int64_t)(w - 1);
		*utc = to_utc(&s->zone, day * DAY);
	} else {
		if (l.n != 13 || l.p[10] != 'T')
			return false;
		unsigned h = digits_value(l.p + 11, 2, &ok);
		if (!ok || h > 23 || !parse_date((struct am_str){ l.p, 10 }, &day))
			return false;
		*utc = to_utc(&s->zone, day * DAY + h * 3600);
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
	if (time < 0 || time > MAX_MS)
		return AM_ERR_ARG;
	int64_t local = to_local(&s->zone, floordiv(time, 1000));
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
	if (now < 0 || now > MAX_MS || npeople == 0 || npeople > AM_MAX_PARTIES ||
	    (ncheckins > 0 && checkins == NULL))
		return AM_ERR_ARG;
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
