/*
 * The zoneinfo reader behind schedules (src/zone.h): TZif files of version
 * 1 to 4, read whole and checked before use, and the POSIX TZ rule in
 * their footer for the years after the last listed transition. Reading the
 * zone ourselves, instead of switching TZ under the C library, keeps
 * schedules free of global state: the node may log local times on another
 * thread while a schedule is computed.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "amends/error.h"
#include "zone.h"

#define ZONE_FILE_MAX (1 << 20)    /* the largest real zone file is ~3 KiB */
#define ZONE_DIR "/usr/share/zoneinfo"
#define MIN_UTOFF (-89999)         /* RFC 8536's bounds on an offset */
#define MAX_UTOFF 93599

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
parse_rule(const char *p, const char *end, struct am_zone *z)
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
rule_changes(const struct am_zone *z, int64_t utc, int64_t t[8], bool dst[8])
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
rule_offset(const struct am_zone *z, int64_t utc)
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
rule_next(const struct am_zone *z, int64_t utc)
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
last_transition(const struct am_zone *z, int64_t utc)
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
offset_at(const struct am_zone *z, int64_t utc)
{
	int64_t i = last_transition(z, utc);
	if (z->has_rule && i == (int64_t)z->ntimes - 1 &&
	    (z->ntimes == 0 || utc > z->times[i]))
		return rule_offset(z, utc);
	return z->utoff[i < 0 ? 0 : z->types[i]];
}

/* The first transition after utc (INT64_MAX when none). */
static int64_t
next_transition(const struct am_zone *z, int64_t utc)
{
	int64_t i = last_transition(z, utc);
	if (i + 1 < (int64_t)z->ntimes)
		return z->times[i + 1];
	return z->has_rule ? rule_next(z, utc) : INT64_MAX;
}

int64_t
am_zone_to_local(const struct am_zone *z, int64_t utc)
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
int64_t
am_zone_to_utc(const struct am_zone *z, int64_t local)
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

void
am_zone_finish(struct am_zone *z)
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
parse_block(const uint8_t *d, size_t n, size_t *pos, int tsize, struct am_zone *z)
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
	am_zone_finish(z);
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
parse_tzif(const uint8_t *d, size_t n, struct am_zone *z)
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

int
am_zone_load(struct am_str name, struct am_zone *z)
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
		am_zone_finish(z);
	return rc;
}
