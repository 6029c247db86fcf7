/*
 * Output helpers of the commands: short names for people and objects, times
 * and durations as text, and the JSON writer every --json output goes
 * through. Nicknames are this node's own, so JSON carries full IDs and
 * lists the nicknames once, apart, under "names".
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amends/entry.h"
#include "amends/id.h"
#include "amends/state.h"
#include "cli.h"
#include "format.h"

void
cli_short_hash(const uint8_t hash[static 32], char out[static CLI_SHORT_HASH])
{
	char hex[65];
	am_hex(hash, 32, hex);
	memcpy(out, hex, 8);
	out[8] = '\0';
}

/*
 * The names people signed for themselves (NAME entries), over every circle
 * this store holds, read once per command: a command is short-lived and
 * names many people. Someone who gave different names in different
 * circles is shown by the one claimed latest (ties: the first circle by
 * ID); the claimed time only picks a label here, it decides nothing.
 */
struct shared {
	uint8_t id[32];
	char *name;
	int64_t time;
};

static struct {
	struct am_store *store;      /* whose names these are */
	struct shared *v;
	size_t n;
} shared;

static void
shared_add(const struct am_name *m)
{
	for (size_t i = 0; i < shared.n; i++) {
		if (memcmp(shared.v[i].id, m->id, 32) != 0)
			continue;
		if (m->time > shared.v[i].time) {
			char *copy = strdup(m->name);
			if (copy != NULL) {
				free(shared.v[i].name);
				shared.v[i].name = copy;
				shared.v[i].time = m->time;
			}
		}
		return;
	}
	struct shared *p = realloc(shared.v, (shared.n + 1) * sizeof *p);
	if (p == NULL)
		return;
	shared.v = p;
	if ((p[shared.n].name = strdup(m->name)) == NULL)
		return;
	memcpy(p[shared.n].id, m->id, 32);
	p[shared.n].time = m->time;
	shared.n++;
}

void
cli_shared_forget(void)
{
	for (size_t i = 0; i < shared.n; i++)
		free(shared.v[i].name);
	free(shared.v);
	shared.v = NULL;
	shared.n = 0;
	shared.store = NULL;
}

static void
shared_load(struct am_store *s)
{
	struct am_circle_info *circles = NULL;
	size_t nc = 0;
	if (shared.store == s)
		return;
	cli_shared_forget();
	shared.store = s;
	/* what cannot be read is shown by ID: never worse than before */
	if (am_state_circles(s, NULL, &circles, &nc) != AM_OK)
		return;
	for (size_t c = 0; c < nc; c++) {
		struct am_name *v;
		size_t n;
		if (am_state_names(s, circles[c].id, &v, &n) != AM_OK)
			continue;
		for (size_t i = 0; i < n; i++)
			shared_add(&v[i]);
		am_state_names_free(&v, n);
	}
	am_state_circles_free(&circles, nc);
}

const char *
cli_shared_name(struct am_store *s, const uint8_t id[static 32])
{
	if (s == NULL)
		return NULL;
	shared_load(s);
	for (size_t i = 0; i < shared.n; i++)
		if (memcmp(shared.v[i].id, id, 32) == 0)
			return shared.v[i].name;
	return NULL;
}

struct clash {
	const uint8_t *id;
	const char *name;
};

/* Stops the walk (AM_ERR_EXISTS) at another person's nickname that reads
 * as the name. */
static int
local_clash(void *ctx, const uint8_t id[static AM_ID_BYTES], const char *name)
{
	const struct clash *k = ctx;
	return memcmp(id, k->id, 32) != 0 && cli_same_name(name, k->name) ?
		AM_ERR_EXISTS : AM_OK;
}

/* Does name, signed by id, read as somebody else: another person's
 * nickname here, or the name another person signed? Names compare in a
 * form where invisible characters, ASCII case and surrounding spaces
 * make no difference (name_key). */
static bool
shared_clash(struct am_store *s, const uint8_t id[static 32], const char *name)
{
	struct clash k = { .id = id, .name = name };
	if (am_store_names(s, local_clash, &k) != AM_OK)
		return true;
	for (size_t i = 0; i < shared.n; i++)
		if (memcmp(shared.v[i].id, id, 32) != 0 &&
		    cli_same_name(shared.v[i].name, name))
			return true;
	return false;
}

/* Copies text into out, cut at a character boundary when too long. */
static void
copy_cut(char *out, size_t size, const char *text)
{
	size_t n = strlen(text);
	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(out, text, n);
	out[n] = '\0';
}

void
cli_short_id(struct am_store *s, const uint8_t id[static 32],
	char out[static CLI_SHORT_NAME])
{
	char text[AM_ID_TEXT_BYTES];
	char *name = s != NULL ? am_store_name_get(s, id) : NULL;
	if (name != NULL) {
		snprintf(out, CLI_SHORT_NAME, "%s", name);
		free(name);
		return;
	}
	am_id_format(id, text);
	const char *signed_name = cli_shared_name(s, id);
	if (signed_name != NULL) {
		/* other people's text: escaped; and never passed off as
		 * someone else's name, so a clash shows the ID beside it */
		bool clash = shared_clash(s, id, signed_name);
		copy_cut(out, clash ? CLI_SHORT_NAME - 11 : CLI_SHORT_NAME,
			cli_shown_c(signed_name));
		if (clash) {
			size_t n = strlen(out);
			out[n++] = ' ';
			out[n++] = '(';
			memcpy(out + n, text, 8);
			out[n + 8] = ')';
			out[n + 9] = '\0';
		}
		return;
	}
	memcpy(out, text, 8);
	out[8] = '\0';
}

void
cli_person(struct am_store *s, const uint8_t id[static 32], bool you,
	char out[static CLI_PERSON_BYTES])
{
	char text[AM_ID_TEXT_BYTES];
	char *mine = s != NULL ? am_store_name_get(s, id) : NULL;
	const char *theirs = cli_shared_name(s, id);
	am_id_format(id, text);
	if (you) {
		snprintf(out, CLI_PERSON_BYTES, "%s (you)", mine != NULL ? mine :
			theirs != NULL ? cli_shown_c(theirs) : text);
	} else if (mine != NULL && theirs != NULL && strcmp(mine, theirs) != 0) {
		snprintf(out, CLI_PERSON_BYTES, "%s (your name for them; they "
			"call themselves \"%s\")", mine, cli_shown_c(theirs));
	} else if (mine != NULL) {
		snprintf(out, CLI_PERSON_BYTES, "%s (your name for them)", mine);
	} else if (theirs != NULL) {
		char shortid[CLI_SHORT_NAME];
		cli_short_id(s, id, shortid);
		snprintf(out, CLI_PERSON_BYTES, "%s", shortid);
	} else {
		snprintf(out, CLI_PERSON_BYTES, "%.8s", text);
	}
	free(mine);
}

/*
 * A claimed time can be any int64: a year of nine digits, or negative,
 * would print as a date nobody can read ("-292275055-05-16"). Times
 * outside years 1 to 9999 are written as which side they fall on.
 */
#define FIRST_MS (-62135596800000LL)   /* 0001-01-01T00:00:00Z */
#define LAST_MS 253402300799999LL      /* 9999-12-31T23:59:59.999Z */

static bool
beyond(int64_t ms, char out[static CLI_TIME_BYTES])
{
	if (ms < FIRST_MS)
		snprintf(out, CLI_TIME_BYTES, "before year 1");
	else if (ms > LAST_MS)
		snprintf(out, CLI_TIME_BYTES, "after year 9999");
	else
		return false;
	return true;
}

void
cli_time_utc(int64_t ms, char out[static CLI_TIME_BYTES])
{
	struct tm tm;
	if (beyond(ms, out))
		return;
	time_t t = (time_t)(ms / 1000 - (ms % 1000 < 0));
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, CLI_TIME_BYTES, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, CLI_TIME_BYTES, "?");
}

void
cli_time_local(int64_t ms, char out[static CLI_TIME_BYTES])
{
	struct tm tm;
	if (beyond(ms, out))
		return;
	time_t t = (time_t)(ms / 1000 - (ms % 1000 < 0));
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(out, CLI_TIME_BYTES, "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(out, CLI_TIME_BYTES, "?");
}

void
cli_duration(uint64_t secs, char out[static 32])
{
	static const struct { uint64_t secs; char unit; } units[] = {
		{ 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' },
	};
	size_t n = 0;
	out[0] = '\0';
	/* at most two units: "1d 6h" says enough */
	for (size_t i = 0, used = 0; i < 4 && used < 2; i++) {
		uint64_t v = secs / units[i].secs;
		if (v == 0)
			continue;
		n += (size_t)snprintf(out + n, 32 - n, "%s%llu%c", n ? " " : "",
			(unsigned long long)v, units[i].unit);
		secs -= v * units[i].secs;
		used++;
	}
	if (n == 0)
		snprintf(out, 32, "0s");
}

char *
cli_strdup(struct am_str s)
{
	char *out = malloc(s.n + 1);
	if (out == NULL)
		return NULL;
	if (s.n > 0)
		memcpy(out, s.p, s.n);
	out[s.n] = '\0';
	return out;
}

const char *
cli_words(const char *name)
{
	static char buf[64];
	snprintf(buf, sizeof buf, "%s", name);
	for (char *p = buf; *p; p++)
		if (*p == '_')
			*p = ' ';
	return buf;
}

const char *
cli_status_name(uint32_t status)
{
	switch (status) {
	case AM_KEPT: return "kept";
	case AM_PARTIAL: return "partial";
	case AM_MISSED: return "missed";
	default: return "unknown";
	}
}

const char *
cli_role_name(uint32_t role)
{
	return role == AM_ROLE_WITNESS ? "witness" : "member";
}

const char *
cli_weekday_name(uint32_t weekday)
{
	static const char *const names[] = { "monday", "tuesday", "wednesday",
		"thursday", "friday", "saturday", "sunday" };
	return weekday < 7 ? names[weekday] : "?";
}

/* ---- JSON ---- */

void
json_init(struct json *j, FILE *f, struct am_store *store)
{
	memset(j, 0, sizeof *j);
	j->f = f;
	j->store = store;
	j->first[0] = true;
	j->now = cli_now_ms();
}

/* Before any value: a comma unless it is the first of its container or
 * follows its key. */
static void
sep(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
}

static void
open_container(struct json *j, char c)
{
	sep(j);
	fputc(c, j->f);
	if (j->depth + 1 < JSON_DEPTH)
		j->depth++;
	j->first[j->depth] = true;
}

static void
close_container(struct json *j, char c)
{
	fputc(c, j->f);
	if (j->depth > 0)
		j->depth--;
	if (j->depth == 0)
		fputc('\n', j->f);
}

void
json_obj(struct json *j)
{
	open_container(j, '{');
}

void
json_arr(struct json *j)
{
	open_container(j, '[');
}

void
json_end_obj(struct json *j)
{
	close_container(j, '}');
}

void
json_end_arr(struct json *j)
{
	close_container(j, ']');
}

void
json_key(struct json *j, const char *key)
{
	sep(j);
	cli_json_str(j->f, key);
	fputc(':', j->f);
	j->after_key = true;
}

void
json_str(struct json *j, const char *s)
{
	sep(j);
	if (s == NULL)
		fputs("null", j->f);
	else
		cli_json_str(j->f, s);
}

void
json_strn(struct json *j, struct am_str s)
{
	if (s.p == NULL) {
		json_null(j);
		return;
	}
	char *c = cli_strdup(s);
	json_str(j, c != NULL ? c : "");
	free(c);
}

void
json_int(struct json *j, int64_t v)
{
	sep(j);
	fprintf(j->f, "%lld", (long long)v);
}

void
json_bool(struct json *j, bool v)
{
	sep(j);
	fputs(v ? "true" : "false", j->f);
}

void
json_null(struct json *j)
{
	sep(j);
	fputs("null", j->f);
}

void
json_hash(struct json *j, const uint8_t hash[static 32])
{
	char hex[65];
	am_hex(hash, 32, hex);
	json_str(j, hex);
}

void
json_id(struct json *j, const uint8_t id[static 32])
{
	char text[AM_ID_TEXT_BYTES];
	am_id_format(id, text);
	json_str(j, text);
	for (int i = 0; i < j->nids; i++)
		if (memcmp(j->ids[i], id, 32) == 0)
			return;
	if (j->nids < JSON_IDS)
		memcpy(j->ids[j->nids++], id, 32);
}

void
json_time(struct json *j, int64_t ms)
{
	char t[CLI_TIME_BYTES];
	cli_time_utc(ms, t);
	json_str(j, t);
}

static int
id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

void
json_names(struct json *j)
{
	json_key(j, "names");
	json_obj(j);
	/* sorted, so two nodes with the same nicknames print the same bytes */
	qsort(j->ids, (size_t)j->nids, 32, id_cmp);
	for (int i = 0; i < j->nids; i++) {
		char *name = j->store != NULL ? am_store_name_get(j->store, j->ids[i]) : NULL;
		if (name == NULL)
			continue;
		char text[AM_ID_TEXT_BYTES];
		am_id_format(j->ids[i], text);
		json_key(j, text);
		json_str(j, name);
		free(name);
	}
	json_end_obj(j);
	/* the names people signed for themselves, when any: theirs, not
	 * this node's */
	bool any = false;
	for (int i = 0; i < j->nids && !any; i++)
		any = cli_shared_name(j->store, j->ids[i]) != NULL;
	if (!any)
		return;
	json_key(j, "signed_names");
	json_obj(j);
	for (int i = 0; i < j->nids; i++) {
		const char *name = cli_shared_name(j->store, j->ids[i]);
		if (name == NULL)
			continue;
		char text[AM_ID_TEXT_BYTES];
		am_id_format(j->ids[i], text);
		json_key(j, text);
		json_str(j, name);
	}
	json_end_obj(j);
}

void
json_kstr(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_str(j, s);
}

void
json_kint(struct json *j, const char *key, int64_t v)
{
	json_key(j, key);
	json_int(j, v);
}

void
json_kbool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	json_bool(j, v);
}

/* ---- other people's text on a terminal ---- */

#define SHOWN_SLOTS 8

/* The code point of the UTF-8 sequence at p (n bytes left) and its
 * length; -1 when p starts no valid sequence. */
static int32_t
utf8_at(const uint8_t *p, size_t n, size_t *len)
{
	uint32_t c = p[0];
	size_t k = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 :
		(c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
	if (k == 0 || k > n)
		return -1;
	if (k > 1)
		c &= 0x3f >> (k - 1);
	for (size_t i = 1; i < k; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		c = c << 6 | (p[i] & 0x3f);
	}
	/* overlong forms, surrogates and values past Unicode */
	if ((k == 2 && c < 0x80) || (k == 3 && c < 0x800) ||
	    (k == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*len = k;
	return (int32_t)c;
}

/* Code points that show nothing: the default-ignorable characters a
 * name can carry to look like another (a soft hyphen, zero-width spaces
 * and joiners, word joiner and invisible operators, the byte order
 * mark). */
static bool
invisible(int32_t c)
{
	return c == 0x00ad || c == 0x034f || c == 0x180e ||
		(c >= 0x200b && c <= 0x200d) || (c >= 0x2060 && c <= 0x2064) ||
		c == 0xfeff;
}

/* Code points that reorder, hide or break what follows them: C1
 * controls, the bidirectional controls, the line and paragraph
 * separators, and the invisible ones above. */
static bool
hidden(int32_t c)
{
	return (c >= 0x80 && c <= 0x9f) || c == 0x061c || c == 0x200e ||
		c == 0x200f || (c >= 0x2028 && c <= 0x202e) ||
		(c >= 0x2066 && c <= 0x2069) || invisible(c);
}

/* The form of a name two names are compared in: the hidden and
 * invisible code points dropped, ASCII letters folded to lower case,
 * spaces around it trimmed. Bytes that are no UTF-8 stay as they are.
 * out has room for strlen(name) + 1 bytes. */
static void
name_key(const char *name, char *out)
{
	const uint8_t *p = (const uint8_t *)name;
	size_t n = strlen(name), o = 0;
	for (size_t i = 0; i < n;) {
		size_t len = 1;
		int32_t c = utf8_at(p + i, n - i, &len);
		if (c < 0)
			len = 1;
		if (c < 0 || !hidden(c)) {
			for (size_t k = 0; k < len; k++)
				out[o++] = p[i + k] >= 'A' && p[i + k] <= 'Z' ?
					(char)(p[i + k] + ('a' - 'A')) : (char)p[i + k];
		}
		i += len;
	}
	out[o] = '\0';
	size_t start = 0;
	while (out[start] == ' ')
		start++;
	while (o > start && out[o - 1] == ' ')
		o--;
	memmove(out, out + start, o - start);
	out[o - start] = '\0';
}

bool
cli_same_name(const char *a, const char *b)
{
	char *ka = malloc(strlen(a) + 1), *kb = malloc(strlen(b) + 1);
	bool same;
	if (ka == NULL || kb == NULL) {
		/* without memory, any likeness counts: the ID is shown */
		same = true;
	} else {
		name_key(a, ka);
		name_key(b, kb);
		same = strcmp(ka, kb) == 0;
	}
	free(ka);
	free(kb);
	return same;
}

const char *
cli_shown(struct am_str s)
{
	static char *slot[SHOWN_SLOTS];
	static size_t next;
	const uint8_t *p = (const uint8_t *)s.p;
	/* at most 10 bytes ("\u{202e}") for each byte of input */
	char *out = realloc(slot[next], s.n * 10 + 1);
	if (out == NULL)
		return "";
	slot[next] = out;
	next = (next + 1) % SHOWN_SLOTS;
	size_t o = 0;
	for (size_t i = 0; i < s.n;) {
		size_t len = 1;
		int32_t c = utf8_at(p + i, s.n - i, &len);
		if (c < 0) {
			o += (size_t)sprintf(out + o, "\\x%02x", p[i]);
			i++;
			continue;
		}
		switch (c) {
		case '\n': memcpy(out + o, "\\n", 2); o += 2; break;
		case '\r': memcpy(out + o, "\\r", 2); o += 2; break;
		case '\t': memcpy(out + o, "\\t", 2); o += 2; break;
		case 0x1b: memcpy(out + o, "\\e", 2); o += 2; break;
		case '\\': memcpy(out + o, "\\\\", 2); o += 2; break;
		default:
			if (c < 0x20 || c == 0x7f)
				o += (size_t)sprintf(out + o, "\\x%02x", (unsigned)c);
			else if (hidden(c))
				o += (size_t)sprintf(out + o, "\\u{%04x}", (unsigned)c);
			else {
				memcpy(out + o, p + i, len);
				o += len;
			}
		}
		i += len;
	}
	out[o] = '\0';
	return out;
}

const char *
cli_shown_c(const char *s)
{
	return cli_shown(am_str_c(s != NULL ? s : ""));
}
