/*
 * How the commands show things: people by their nickname (else the first
 * eight characters of their ID), objects by the first eight hex digits of
 * their hash, times as local or UTC text, and JSON through a small writer
 * that places the commas, so every --json output is well formed and keeps
 * one key order.
 */
#ifndef AMENDS_CLI_FORMAT_H
#define AMENDS_CLI_FORMAT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "amends/body.h"
#include "amends/store.h"

#define CLI_SHORT_HASH 9        /* 8 hex digits + NUL */
#define CLI_SHORT_NAME 72       /* a nickname of up to 64 bytes, or an ID prefix */
#define CLI_TIME_BYTES 24       /* "YYYY-MM-DDTHH:MM:SSZ" + NUL */

/* Writes the first 8 hex digits of hash into out. */
void cli_short_hash(const uint8_t hash[static 32], char out[static CLI_SHORT_HASH]);

/* Writes how this node calls id into out: its nickname when it has one,
 * else the name they signed for themselves in a circle here (escaped; with
 * their ID's first 8 characters beside it when it is also another
 * person's name), else the first 8 characters of its text form ("am" + 6). */
void cli_short_id(struct am_store *s, const uint8_t id[static 32],
	char out[static CLI_SHORT_NAME]);

/* The name id signed for themselves in the circles this store holds (the
 * one claimed latest when they differ), or NULL. Other people's text, not
 * escaped; valid until cli_shared_forget() or cli_close(). */
const char *cli_shared_name(struct am_store *s, const uint8_t id[static 32]);
/* Forgets the names read (a store closed, or a NAME written). */
void cli_shared_forget(void);

#define CLI_PERSON_BYTES 256

/* Writes who id is, for the views that list people: the nickname marked
 * as the reader's own ("alex (your name for them)", with the name they
 * signed beside it when it differs), else as cli_short_id; "(you)" after
 * the reader's own. */
void cli_person(struct am_store *s, const uint8_t id[static 32], bool you,
	char out[static CLI_PERSON_BYTES]);

/* Writes ms since the epoch as "YYYY-MM-DDTHH:MM:SSZ" (UTC) into out;
 * a time outside years 1 to 9999 as "before year 1" or "after year
 * 9999" (here and in cli_time_local). */
void cli_time_utc(int64_t ms, char out[static CLI_TIME_BYTES]);

/* Writes ms as "YYYY-MM-DD HH:MM" in the local zone of whoever runs the
 * command ($TZ) into out. Deadlines are shown in the agreement's own zone
 * through am_schedule_format instead. */
void cli_time_local(int64_t ms, char out[static CLI_TIME_BYTES]);

/* Writes a duration in seconds the way people say it ("2h", "1d 6h",
 * "45m", "0s") into out. */
void cli_duration(uint64_t secs, char out[static 32]);

/* A copy of an am_str as a NUL-terminated string, malloc'd ("" for nil);
 * NULL when out of memory. */
char *cli_strdup(struct am_str s);

/* Other people's text (s) as it may be written to a terminal: bytes that
 * would move the cursor, erase or rewrite a line, ring, or reorder what
 * follows are written visibly instead: \n \r \t \e and \\ (a backslash
 * itself, so that nothing reads as an escape it is not), \xHH for the
 * other C0 controls, DEL and bytes that are not UTF-8, \u{HHHH} for C1
 * controls, bidirectional controls (U+202E...) and the line and
 * paragraph separators. JSON output never uses it (json_str escapes
 * exactly). The result is in one of eight static buffers: valid until
 * eight more calls; "" when out of memory. */
const char *cli_shown(struct am_str s);
const char *cli_shown_c(const char *s);   /* NULL shows as "" */
/* Do two names read the same once invisible characters, ASCII case and
 * surrounding spaces are set aside? */
bool cli_same_name(const char *a, const char *b);

/* A JSON name as words: underscores become spaces. The result is in a
 * static buffer, valid until the next call. */
const char *cli_words(const char *name);

/* Names of statuses and roles as they are shown and written in JSON. */
const char *cli_status_name(uint32_t status);   /* "kept", "partial", "missed" */
const char *cli_role_name(uint32_t role);       /* "member", "witness" */
const char *cli_weekday_name(uint32_t weekday); /* "monday"... */

/*
 * A JSON writer. Values are written in order; the writer puts the commas.
 * IDs written with json_id are remembered so that json_names can list
 * this node's nicknames for them at the end.
 */
#define JSON_DEPTH 16
#define JSON_IDS 256

struct json {
	FILE *f;
	struct am_store *store;
	int depth;
	bool first[JSON_DEPTH];      /* nothing written yet at this level */
	bool after_key;              /* the next value follows a key */
	int nids;
	uint8_t ids[JSON_IDS][32];   /* IDs written, for json_names */
	int64_t now;                 /* the reader's clock, for "dated" */
};

void json_init(struct json *j, FILE *f, struct am_store *store);
void json_obj(struct json *j);          /* { */
void json_arr(struct json *j);          /* [ */
void json_end_obj(struct json *j);      /* } (a newline after the outermost) */
void json_end_arr(struct json *j);      /* ] */
void json_key(struct json *j, const char *key);
void json_str(struct json *j, const char *s);    /* NULL writes null */
void json_strn(struct json *j, struct am_str s); /* nil writes null */
void json_int(struct json *j, int64_t v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
void json_hash(struct json *j, const uint8_t hash[static 32]);  /* 64 hex */
void json_id(struct json *j, const uint8_t id[static 32]);      /* "am..." */
void json_time(struct json *j, int64_t ms);    /* UTC text */
/* Writes "names": { id: nickname } for every ID written so far that has a
 * nickname here: the one part of the output that is this node's own. */
void json_names(struct json *j);

/* Shortcuts for "key": value. */
void json_kstr(struct json *j, const char *key, const char *s);
void json_kint(struct json *j, const char *key, int64_t v);
void json_kbool(struct json *j, const char *key, bool v);

#endif
