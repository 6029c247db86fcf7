/*
 * Turning what people type into IDs, circles, objects and option values,
 * with a sentence for each thing that cannot be understood. Nothing here
 * writes; a command resolves all its arguments before it writes anything,
 * so a refusal leaves the store as it was.
 */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "amends/id.h"
#include "amends/schedule.h"
#include "amends/state.h"
#include "cli.h"
#include "resolve.h"

/* A person is shown by the first 8 characters of their ID, so that much
 * must be enough to name them back: "am" and at least 4 more. */
#define ID_PREFIX_MIN 6

/* An object named by too short a prefix could be signed by mistake (git
 * asks for 4 digits too); commands show 8. */
#define HASH_PREFIX_MIN 4

struct id_match {
	const char *prefix;
	size_t n;
	const char *safety;          /* or a whole safety number */
	int found;
	uint8_t id[32];
};

static void
match_id(struct id_match *m, const uint8_t id[static 32])
{
	char text[AM_ID_TEXT_BYTES], sn[AM_FPR_LONG_TEXT_BYTES];
	if (m->safety != NULL) {
		am_id_safety_number(id, sn);
		if (strcmp(sn, m->safety) != 0)
			return;
	} else {
		am_id_format(id, text);
		if (strncasecmp(text, m->prefix, m->n) != 0)
			return;
	}
	if (m->found > 0 && memcmp(m->id, id, 32) == 0)
		return;
	memcpy(m->id, id, 32);
	m->found++;
}

/* Looks for the prefix among the members of every circle held here. */
static int
match_members(struct am_store *s, struct id_match *m)
{
	struct am_circle_info *circles = NULL;
	size_t ncircles = 0;
	int rc = am_state_circles(s, NULL, &circles, &ncircles);
	if (rc != AM_OK)
		return rc;
	for (size_t i = 0; i < ncircles && rc == AM_OK; i++) {
		struct am_member *members = NULL;
		size_t nmembers = 0;
		rc = am_state_members(s, circles[i].id, &members, &nmembers);
		for (size_t k = 0; rc == AM_OK && k < nmembers; k++)
			match_id(m, members[k].id);
		free(members);
	}
	am_state_circles_free(&circles, ncircles);
	return rc;
}

int
cli_resolve_id(struct am_store *s, const char *text, uint8_t id[static 32])
{
	size_t n = strlen(text);
	int rc;

	if (n == 0)
		return cli_error("an empty ID names nobody");
	/* a nickname is this node's own choice: it wins */
	rc = am_store_name_find(s, text, id);
	if (rc == AM_OK)
		return 0;
	if (rc == AM_ERR_AMBIGUOUS)
		return cli_error("several people are named '%s' here; give the ID "
			"instead", text);
	if (n == AM_ID_TEXT_BYTES - 1) {
		rc = am_id_parse(text, id);
		if (rc == AM_OK)
			return 0;
		if (rc == AM_ERR_ID_CHECKSUM)
			return cli_error("ID %s has a typo: its checksum does not "
				"match", text);
	}
	char sn[AM_FPR_LONG_TEXT_BYTES];
	if (am_safety_number_parse(text, sn) == AM_OK) {
		struct id_match m = { .safety = sn };
		if ((rc = match_members(s, &m)) != AM_OK)
			return cli_fail("looking up the safety number", rc);
		if (m.found == 1) {
			memcpy(id, m.id, 32);
			return 0;
		}
		return cli_error("safety number %s is no member's of a circle held "
			"here", sn);
	}
	if (n >= ID_PREFIX_MIN && n < AM_ID_TEXT_BYTES - 1 &&
	    strncasecmp(text, "am", 2) == 0) {
		struct id_match m = { .prefix = text, .n = n };
		if ((rc = match_members(s, &m)) != AM_OK)
			return cli_fail("looking up the ID", rc);
		if (m.found == 1) {
			memcpy(id, m.id, 32);
			return 0;
		}
		if (m.found > 1)
			return cli_error("'%s' is the start of several IDs; give more "
				"of it", text);
		return cli_error("'%s' is the start of no ID known here", text);
	}
	return cli_error("'%s' is neither an ID nor a name given with amends name",
		text);
}

static bool
is_hex(const char *text)
{
	if (*text == '\0' || strlen(text) > 64)
		return false;
	for (const char *p = text; *p; p++)
		if (!isxdigit((unsigned char)*p))
			return false;
	return true;
}

int
cli_resolve_circle(struct am_store *s, const char *text,
	uint8_t circle[static 32])
{
	struct am_circle_info *circles = NULL;
	size_t n = 0, named = 0;
	int rc = am_state_circles(s, NULL, &circles, &n);
	if (rc != AM_OK)
		return cli_fail("listing circles", rc);
	/* by the name it has now (a RENAME's, else its GENESIS's) */
	for (size_t i = 0; i < n; i++) {
		char *name = NULL;
		uint8_t from[32];
		if (am_state_circle_name(s, circles[i].id, &name, from) != AM_OK)
			name = NULL;
		const char *now = name != NULL ? name : circles[i].name;
		if (now != NULL && strcmp(now, text) == 0) {
			if (named++ == 0)
				memcpy(circle, circles[i].id, 32);
		}
		free(name);
	}
	am_state_circles_free(&circles, n);
	if (named == 1)
		return 0;
	if (named > 1)
		return cli_error("several circles are named '%s'; give the start of "
			"its ID instead (see amends circles)", text);
	if (!is_hex(text) || strlen(text) < HASH_PREFIX_MIN)
		return cli_error("no circle here is named '%s' (see amends circles)",
			text);
	rc = am_state_resolve(s, text, AM_OBJ_CIRCLE, circle);
	if (rc == AM_ERR_NOT_FOUND)
		return cli_error("no circle here is named '%s' or has an ID starting "
			"so (see amends circles)", text);
	if (rc == AM_ERR_AMBIGUOUS)
		return cli_error("'%s' is the start of several circle IDs; give more "
			"of it", text);
	if (rc != AM_OK)
		return cli_fail("looking up the circle", rc);
	return 0;
}

int
cli_resolve_object(struct am_store *s, const char *text, unsigned mask,
	const char *what, uint8_t hash[static 32])
{
	if (!is_hex(text))
		return cli_error("'%s' is not a hash; name the %s by the start of "
			"its hash, in hex", text, what);
	if (strlen(text) < HASH_PREFIX_MIN)
		return cli_error("'%s' is too short to name the %s safely; give at "
			"least %d hex digits of its hash", text, what, HASH_PREFIX_MIN);
	/* an agreement is found by the hash of any of its versions */
	unsigned look = mask & AM_OBJ_AGREEMENT ? mask | AM_OBJ_VERSION : mask;
	int rc = am_state_resolve(s, text, look, hash);
	if (rc == AM_OK && look != mask) {
		struct am_object_info info;
		rc = am_state_lookup(s, hash, &info);
		if (rc == AM_OK && info.kind == AM_KIND_AMEND &&
		    !(mask & AM_OBJ_VERSION))
			memcpy(hash, info.agreement, 32);
	}
	if (rc == AM_ERR_NOT_FOUND)
		return cli_error("no %s here has a hash starting with %s", what,
			text);
	if (rc == AM_ERR_AMBIGUOUS)
		return cli_error("%s is the start of several hashes; give more of it",
			text);
	if (rc != AM_OK)
		return cli_fail("looking up the hash", rc);
	return 0;
}

/* Length of the UTF-8 sequence at p (of n bytes), 0 when it is not one. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	size_t need;
	uint32_t cp;
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		need = 1;
		cp = p[0] & 0x1fu;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		need = 2;
		cp = p[0] & 0x0fu;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		need = 3;
		cp = p[0] & 0x07u;
	} else {
		return 0;
	}
	if (n <= need)
		return 0;
	for (size_t k = 1; k <= need; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[k] & 0x3fu);
	}
	if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need + 1;
}

int
cli_text_ok(const char *opt, const char *text, size_t max)
{
	size_t n = strlen(text);
	if (n == 0)
		return cli_error("%s cannot be empty", opt);
	if (n > max)
		return cli_error("%s is longer than %zu bytes", opt, max);
	for (size_t i = 0; i < n;) {
		size_t k = utf8_len((const unsigned char *)text + i, n - i);
		if (k == 0)
			return cli_error("%s is not valid UTF-8 text", opt);
		i += k;
	}
	return 0;
}

int
cli_parse_duration(const char *opt, const char *text, uint64_t *secs)
{
	const char *p = text;
	uint64_t total = 0;

	if (*p == '\0')
		goto bad;
	while (*p != '\0') {
		if (!isdigit((unsigned char)*p))
			goto bad;
		uint64_t v = 0;
		while (isdigit((unsigned char)*p)) {
			v = v * 10 + (uint64_t)(*p++ - '0');
			if (v > 315360000u)
				goto big;
		}
		uint64_t unit;
		switch (*p++) {
		case 's': unit = 1; break;
		case 'm': unit = 60; break;
		case 'h': unit = 3600; break;
		case 'd': unit = 86400; break;
		case 'w': unit = 7 * 86400; break;
		default: goto bad;
		}
		total += v * unit;
		if (total > 315360000u)
			goto big;
	}
	*secs = total;
	return 0;
bad:
	return cli_error("%s '%s' is not a duration; write it like 30m, 2h, 1d "
		"or 7d", opt, text);
big:
	return cli_error("%s '%s' is longer than ten years", opt, text);
}

int
cli_parse_date(const char *opt, const char *text)
{
	if (!am_date_ok(am_str_c(text)))
		return cli_error("%s '%s' is not a date; write it as YYYY-MM-DD",
			opt, text);
	return 0;
}

int
cli_parse_hhmm(const char *text, uint32_t *minutes)
{
	unsigned h, m;
	int used = 0;
	if (sscanf(text, "%2u:%2u%n", &h, &m, &used) != 2 ||
	    (size_t)used != strlen(text) || !isdigit((unsigned char)text[0]) ||
	    h > 23 || m > 59)
		return cli_error("--at '%s' is not a time of day; write it as "
			"HH:MM, e.g. 21:00", text);
	*minutes = h * 60 + m;
	return 0;
}

int
cli_parse_weekday(const char *text, uint32_t *weekday)
{
	static const char *const days[] = { "monday", "tuesday", "wednesday",
		"thursday", "friday", "saturday", "sunday" };
	size_t n = strlen(text);
	for (uint32_t i = 0; i < 7; i++) {
		if ((n == 3 || n == strlen(days[i])) &&
		    strncasecmp(text, days[i], n) == 0) {
			*weekday = i;
			return 0;
		}
	}
	return cli_error("--on '%s' is not a day of the week", text);
}

int
cli_parse_every(const char *text, uint32_t *every, uint32_t *hours)
{
	if (strcmp(text, "day") == 0 || strcmp(text, "daily") == 0) {
		*every = AM_EVERY_DAY;
		*hours = 0;
		return 0;
	}
	if (strcmp(text, "week") == 0 || strcmp(text, "weekly") == 0) {
		*every = AM_EVERY_WEEK;
		*hours = 0;
		return 0;
	}
	char *end;
	unsigned long v = strtoul(text, &end, 10);
	if (isdigit((unsigned char)text[0]) && end[0] == 'h' && end[1] == '\0' &&
	    v >= 1 && v <= 24 * 366) {
		*every = AM_EVERY_HOURS;
		*hours = (uint32_t)v;
		return 0;
	}
	return cli_error("--every '%s' is not a schedule; use day, week or a "
		"number of hours such as 12h", text);
}

int
cli_parse_pause(const char *text, struct am_pause *p)
{
	const char *dots = strstr(text, "..");
	if (dots == NULL || dots - text != 10 || strlen(dots + 2) != 10)
		return cli_error("--pause '%s' is not a range of dates; write it as "
			"FROM..UNTIL, e.g. 2026-03-01..2026-03-07", text);
	p->from = (struct am_str){ text, 10 };
	p->until = (struct am_str){ dots + 2, 10 };
	if (!am_date_ok(p->from) || !am_date_ok(p->until))
		return cli_error("--pause '%s' holds a date that does not exist",
			text);
	if (memcmp(p->from.p, p->until.p, 10) > 0)
		return cli_error("--pause '%s' ends before it starts", text);
	return 0;
}

int
cli_local_zone(const char *given, char *out, size_t size)
{
	const char *zone = given;
	char link[PATH_MAX];

	if (zone == NULL) {
		zone = getenv("TZ");
		if (zone != NULL && zone[0] == ':')
			zone++;
		if (zone != NULL && zone[0] == '\0')
			zone = NULL;
	}
	if (zone == NULL) {
		ssize_t n = readlink("/etc/localtime", link, sizeof link - 1);
		if (n > 0) {
			link[n] = '\0';
			char *z = strstr(link, "zoneinfo/");
			if (z != NULL)
				zone = z + strlen("zoneinfo/");
		}
	}
	if (zone == NULL)
		zone = "UTC";
	if (strlen(zone) >= size || strlen(zone) > AM_MAX_TZ ||
	    !am_schedule_zone_ok(am_str_c(zone))) {
		if (given != NULL)
			return cli_error("--tz '%s' is not a time zone known here "
				"(an IANA name such as Europe/Paris)", given);
		return cli_error("the local time zone '%s' is not one known here; "
			"give one with --tz (such as Europe/Paris)", zone);
	}
	snprintf(out, size, "%s", zone);
	return 0;
}
