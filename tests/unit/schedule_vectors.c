/*
 * Checks the schedule module against protocol/schedule-vectors.txt: each
 * schedule's periods, labels, deadlines and adherence as the file states
 * them (protocol/schedule.md is the specification; the format is at the
 * top of the file). Every line with "=>" is a question and its answer;
 * the answer this code gives must be the same text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "amends/schedule.h"
#include "test.h"

#define MAX_CHECKINS 64
#define MAX_PEOPLE 8

static int failures, questions;

/* The schedule being read, and the check-ins given for it so far. */
static struct {
	int line;                        /* of its `schedule` line */
	char name[64];
	struct am_terms t;
	char strings[16][72];            /* what the views of t point to */
	int nstrings;
	int64_t anchor;
	struct am_schedule *s;
	int load_rc;
	bool loaded;
	struct am_schedule_checkin c[MAX_CHECKINS];
	char label[MAX_CHECKINS][AM_MAX_PERIOD + 1];
	size_t nc;
	char people[MAX_PEOPLE][16];
	uint8_t id[MAX_PEOPLE][32];
	size_t npeople;
} v;

static void
bad(int line, const char *what)
{
	fprintf(stderr, "schedule-vectors.txt:%d: %s\n", line, what);
	exit(1);
}

static struct am_str
keep(int line, const char *s)
{
	if (v.nstrings == 16 || strlen(s) >= sizeof v.strings[0])
		bad(line, "too many or too long values");
	snprintf(v.strings[v.nstrings], sizeof v.strings[0], "%s", s);
	return am_str_c(v.strings[v.nstrings++]);
}

/* "2026-03-29T01:00:00Z" as ms. */
static bool
parse_utc(const char *s, int64_t *ms)
{
	struct tm tm = { 0 };
	char z;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &z) != 7 || z != 'Z')
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*ms = (int64_t)timegm(&tm) * 1000;
	return true;
}

static void
put_utc(int64_t ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	check(gmtime_r(&t, &tm) != NULL);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (ms % 1000 != 0)
		snprintf(out + 19, 13, ".%03dZ", (int)(ms % 1000));
}

/* A period as the file writes it. */
static void
describe(const struct am_period *p, char *out, size_t size)
{
	char a[32], b[32], c[32], d[32];
	put_utc(p->start, a);
	put_utc(p->end, b);
	put_utc(p->deadline, c);
	put_utc(p->due, d);
	snprintf(out, size, "%s start %s end %s deadline %s due %s day %s %s%s",
		p->label, a, b, c, d, p->day, p->within ? "in" : "out",
		p->paused ? " paused" : "");
}

static void
answer(int line, const char *want, const char *got)
{
	questions++;
	if (strcmp(want, got) == 0)
		return;
	fprintf(stderr, "schedule-vectors.txt:%d: schedule %s:\n  file: %s\n"
		"  code: %s\n", line, v.name, want, got);
	failures++;
}

/* ---- the terms ---- */

static void
begin(int line, const char *name)
{
	am_schedule_destroy(&v.s);
	memset(&v, 0, sizeof v);
	v.line = line;
	snprintf(v.name, sizeof v.name, "%s", name);
	v.t.title = am_str_c("vector");
	v.t.has_schedule = true;
}

static int
weekday_of(const char *s)
{
	static const char *const days[] = { "monday", "tuesday", "wednesday",
		"thursday", "friday", "saturday", "sunday" };
	for (int i = 0; i < 7; i++)
		if (strcmp(s, days[i]) == 0)
			return i;
	return -1;
}

/* One line of terms; false when the line is not one. */
static bool
term(int line, const char *key, const char *val)
{
	struct am_terms *t = &v.t;
	unsigned h, m;
	if (strcmp(key, "every") == 0) {
		t->every = strcmp(val, "day") == 0 ? AM_EVERY_DAY :
			strcmp(val, "week") == 0 ? AM_EVERY_WEEK :
			strcmp(val, "hours") == 0 ? AM_EVERY_HOURS : 0;
		if (t->every == 0)
			bad(line, "every is day, week or hours");
	} else if (strcmp(key, "hours") == 0) {
		t->hours = (uint32_t)strtoul(val, NULL, 10);
	} else if (strcmp(key, "at") == 0) {
		if (sscanf(val, "%2u:%2u", &h, &m) != 2)
			bad(line, "at is HH:MM");
		t->at = h * 60 + m;
	} else if (strcmp(key, "weekday") == 0) {
		int d = weekday_of(val);
		if (d < 0)
			bad(line, "weekday is monday..sunday");
		t->weekday = (uint32_t)d;
	} else if (strcmp(key, "tz") == 0) {
		t->tz = keep(line, val);
	} else if (strcmp(key, "grace") == 0) {
		t->grace = strtoull(val, NULL, 10);
	} else if (strcmp(key, "from") == 0 || strcmp(key, "until") == 0) {
		struct am_str d = strcmp(val, "-") == 0 ? am_str_c(NULL) : keep(line, val);
		*(key[0] == 'f' ? &t->from : &t->until) = d;
	} else if (strcmp(key, "pause") == 0) {
		char a[16], b[16];
		if (t->npauses == AM_MAX_PAUSES || sscanf(val, "%15s %15s", a, b) != 2)
			bad(line, "pause is FROM UNTIL");
		t->pauses[t->npauses].from = keep(line, a);
		t->pauses[t->npauses++].until = keep(line, b);
	} else if (strcmp(key, "anchor") == 0) {
		if (!parse_utc(val, &v.anchor))
			bad(line, "anchor is a UTC time");
	} else {
		return false;
	}
	return true;
}

/* The schedule, loaded at the first question about it. */
static const struct am_schedule *
schedule(void)
{
	if (!v.loaded) {
		v.load_rc = am_schedule_load(&v.t, v.anchor, &v.s);
		v.loaded = true;
	}
	return v.s;
}

/* ---- questions ---- */

static void
ask_load(int line, const char *want)
{
	schedule();
	answer(line, want, v.load_rc == AM_OK ? "ok" :
		v.load_rc == AM_ERR_ZONE ? "unknown-zone" :
		v.load_rc == AM_ERR_FIELD ? "bad-terms" : am_strerror(v.load_rc));
}

static void
ask_period_at(int line, const char *when, const char *want)
{
	int64_t ms;
	struct am_period p;
	char got[256];
	if (!parse_utc(when, &ms))
		bad(line, "period-at takes a UTC time");
	if (schedule() == NULL)
		bad(line, "the schedule did not load");
	int rc = am_schedule_period_at(v.s, ms, &p);
	if (rc == AM_OK)
		describe(&p, got, sizeof got);
	else
		snprintf(got, sizeof got, "%s", rc == AM_ERR_NOT_FOUND ? "none" :
			am_strerror(rc));
	answer(line, want, got);
}

static void
ask_label(int line, const char *label, const char *want)
{
	struct am_period p;
	char got[256] = "refused";
	if (schedule() == NULL)
		bad(line, "the schedule did not load");
	int rc = am_schedule_parse(v.s, am_str_c(label), &p);
	if (rc == AM_OK)
		describe(&p, got, sizeof got);
	else if (rc != AM_ERR_PERIOD)
		snprintf(got, sizeof got, "%s", am_strerror(rc));
	answer(line, want, got);
}

static void
ask_first(int line, const char *count, const char *want)
{
	struct am_period p;
	char got[1024] = "";
	size_t n = 0;
	int k = atoi(count);
	if (schedule() == NULL)
		bad(line, "the schedule did not load");
	int rc = am_schedule_first(v.s, &p);
	for (int i = 0; i < k && rc == AM_OK; i++, rc = am_schedule_next(v.s, &p))
		n += (size_t)snprintf(got + n, sizeof got - n, "%s%s%s", i ? " " : "",
			p.label, p.paused ? "(paused)" : "");
	if (rc != AM_OK)
		snprintf(got + n, sizeof got - n, "%send", n ? " " : "");
	answer(line, want, got);
}

static const uint8_t *
person(int line, const char *name)
{
	for (size_t i = 0; i < v.npeople; i++)
		if (strcmp(v.people[i], name) == 0)
			return v.id[i];
	if (v.npeople == MAX_PEOPLE || strlen(name) >= sizeof v.people[0])
		bad(line, "too many people");
	snprintf(v.people[v.npeople], sizeof v.people[0], "%s", name);
	crypto_generichash(v.id[v.npeople], 32, (const uint8_t *)name, strlen(name),
		NULL, 0);
	return v.id[v.npeople++];
}

static void
add_checkin(int line, const char *rest)
{
	char who[16], label[AM_MAX_PERIOD + 1], status[16], when[32];
	unsigned long long seq = 0;
	if (v.nc == MAX_CHECKINS || sscanf(rest, "%15s %llu %32s %15s %31s", who,
	    &seq, label, status, when) != 5)
		bad(line, "checkin is WHO SEQ LABEL STATUS UTC");
	struct am_schedule_checkin *c = &v.c[v.nc];
	snprintf(v.label[v.nc], sizeof v.label[0], "%s", label);
	c->author = person(line, who);
	c->seq = seq;
	c->period = am_str_c(v.label[v.nc]);
	c->status = strcmp(status, "kept") == 0 ? AM_KEPT :
		strcmp(status, "partial") == 0 ? AM_PARTIAL :
		strcmp(status, "missed") == 0 ? AM_MISSED : 0;
	if (c->status == 0 || !parse_utc(when, &c->time))
		bad(line, "a check-in's status is kept, partial or missed");
	v.nc++;
}

static void
ask_adherence(int line, const char *rest, const char *want)
{
	char when[32], who[128], got[512];
	uint8_t ids[MAX_PEOPLE][32];
	size_t n = 0;
	int64_t now;
	struct am_adherence a;
	if (sscanf(rest, "%31s %127s", when, who) != 2 || !parse_utc(when, &now))
		bad(line, "adherence is NOW WHO[,WHO...]");
	for (char *p = strtok(who, ","); p != NULL && n < MAX_PEOPLE; p = strtok(NULL, ","))
		memcpy(ids[n++], person(line, p), 32);
	if (schedule() == NULL)
		bad(line, "the schedule did not load");
	check_rc(am_schedule_adherence(v.s, now, (const uint8_t (*)[32])ids, n,
		v.c, v.nc, &a), AM_OK);
	size_t k = (size_t)snprintf(got, sizeof got, "due %u kept %u partial %u "
		"missed %u unreported %u late %u paused %u streak %u ignored %u "
		"overdue %u ", a.due, a.kept, a.partial, a.missed, a.unreported,
		a.late, a.paused, a.streak, a.ignored, a.noverdue);
	for (uint32_t i = 0; i < a.nlisted; i++)
		k += (size_t)snprintf(got + k, sizeof got - k, "%s%s", i ? "," : "",
			a.overdue[i].label);
	snprintf(got + k, sizeof got - k, "%s upcoming %s%s", a.nlisted ? "" : "-",
		a.has_upcoming ? a.upcoming.label : "-", a.clipped ? " clipped" : "");
	answer(line, want, got);
}

static void
line_of(int line, char *s)
{
	char *arrow = strstr(s, " => ");
	char *sp = strchr(s, ' ');
	if (sp == NULL)
		bad(line, "a line is KEY VALUE");
	*sp = '\0';
	char *rest = sp + 1;
	if (strcmp(s, "schedule") == 0) {
		begin(line, rest);
		return;
	}
	if (v.line == 0)
		bad(line, "a line before any schedule");
	if (arrow != NULL) {
		*arrow = '\0';
		const char *want = arrow + 4;
		if (strcmp(s, "load") == 0)
			ask_load(line, want);
		else if (strcmp(s, "period-at") == 0)
			ask_period_at(line, rest, want);
		else if (strcmp(s, "label") == 0)
			ask_label(line, rest, want);
		else if (strcmp(s, "first") == 0)
			ask_first(line, rest, want);
		else if (strcmp(s, "adherence") == 0)
			ask_adherence(line, rest, want);
		else
			bad(line, "not a question this file asks");
		return;
	}
	if (strcmp(s, "checkin") == 0)
		add_checkin(line, rest);
	else if (v.loaded || !term(line, s, rest))
		bad(line, "not a term (terms come before the questions)");
}

int
main(void)
{
	check(sodium_init() >= 0);
	const char *src = getenv("AMENDS_SRC");
	check(src != NULL);
	char path[512];
	snprintf(path, sizeof path, "%s/protocol/schedule-vectors.txt", src);
	FILE *f = fopen(path, "r");
	check(f != NULL);
	char buf[1024];
	int line = 0;
	while (fgets(buf, sizeof buf, f)) {
		line++;
		buf[strcspn(buf, "\r\n")] = '\0';
		if (buf[0] == '#' || buf[0] == '\0')
			continue;
		line_of(line, buf);
	}
	fclose(f);
	am_schedule_destroy(&v.s);
	check(questions > 0);
	if (failures > 0) {
		fprintf(stderr, "schedule-vectors: %d of %d answers differ\n", failures,
			questions);
		return 1;
	}
	printf("schedule-vectors: %d answers match\n", questions);
	return 0;
}
