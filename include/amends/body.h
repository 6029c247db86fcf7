/*
 * Entry bodies: what each kind of entry says. A body is a positional msgpack
 * array whose fields depend on the kind (protocol/entry.md, "Bodies").
 * Decoding checks exact types, counts and ranges; strings are views into the
 * decoded bytes.
 */
#ifndef AMENDS_BODY_H
#define AMENDS_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amends/error.h"

#define AM_MAX_PARTIES 32     /* parties or check-in authors of an agreement */
#define AM_MAX_PAUSES 32      /* paused periods of one version */
#define AM_MAX_HEADS 64       /* heads named by one checkpoint */
#define AM_MAX_TITLE 200      /* bytes */
#define AM_MAX_TEXT 4096      /* bytes of agreement text, notes, statements */
#define AM_MAX_NAME 200       /* bytes of a circle name */
#define AM_MAX_TZ 64          /* bytes of a time zone name */
#define AM_MAX_PERIOD 32      /* bytes of a period label */
#define AM_MAX_DISPLAY 64     /* bytes of a person's display name (NAME) */
#define AM_MAX_NEED 64        /* IDs a REMOVE names as needed */

enum am_kind {
	AM_KIND_GENESIS = 1,      /* creates a circle */
	AM_KIND_MEMBER = 2,       /* proposes a member or witness */
	AM_KIND_PROPOSE = 3,      /* proposes an agreement (its first version) */
	AM_KIND_AMEND = 4,        /* a new version of an agreement */
	AM_KIND_ACCEPT = 5,       /* signs a version, member proposal or end */
	AM_KIND_DECLINE = 6,      /* declines the same */
	AM_KIND_END = 7,          /* ends an agreement */
	AM_KIND_CHECKIN = 8,      /* reports on one period of an agreement */
	AM_KIND_CONFIRM = 9,      /* confirms a check-in or statement */
	AM_KIND_DISPUTE = 10,     /* disputes a check-in */
	AM_KIND_STATEMENT = 11,   /* an accountability statement, apology, response */
	AM_KIND_CHECKPOINT = 12,  /* "I hold these heads" */
	/* kinds after 12: their bodies are checked by the state, never by
	 * the entry decoder (protocol/entry.md, "Kinds a node does not know") */
	AM_KIND_LEAVE = 13,       /* its author leaves the circle */
	AM_KIND_REMOVE = 14,      /* proposes removing a member */
	AM_KIND_RENAME = 15,      /* a new name for the circle */
	AM_KIND_NAME = 16,        /* its author's display name in the circle */
	AM_KIND_SUCCESSION = 17,  /* a new key takes an old one's place */
};
#define AM_KIND_MAX 17       /* the highest kind this build knows */
#define AM_KIND_FORMAT1 12   /* kinds up to this one have their bodies
                                checked by the entry decoder */
#define AM_KIND_LIMIT 65535  /* the highest kind the entry format allows */

enum am_role { AM_ROLE_MEMBER = 0, AM_ROLE_WITNESS = 1 };
enum am_every { AM_EVERY_DAY = 1, AM_EVERY_WEEK = 2, AM_EVERY_HOURS = 3 };
enum am_status { AM_KEPT = 1, AM_PARTIAL = 2, AM_MISSED = 3 };

/* A string view: p is NULL for nil; not NUL-terminated. */
struct am_str {
	const char *p;
	size_t n;
};

struct am_pause {
	struct am_str from, until;        /* dates "YYYY-MM-DD", both inclusive */
};

/* The terms of one version of an agreement. */
struct am_terms {
	struct am_str title, text;
	uint32_t nparties;
	uint8_t parties[AM_MAX_PARTIES][32];   /* who must sign */
	uint32_t nby;
	uint8_t by[AM_MAX_PARTIES][32];        /* who checks in */
	bool has_schedule;
	uint32_t every;                         /* enum am_every */
	uint32_t hours;                         /* AM_EVERY_HOURS: period length */
	uint32_t at;                            /* deadline, minutes after midnight */
	uint32_t weekday;                       /* AM_EVERY_WEEK: 0 Monday … 6 Sunday */
	struct am_str tz;                       /* IANA zone, e.g. "Europe/Paris" */
	uint64_t grace;                         /* seconds a check-in may be late */
	struct am_str from, until;              /* dates or nil */
	uint64_t notice;                        /* seconds a unilateral end waits */
	uint32_t npauses;
	struct am_pause pauses[AM_MAX_PAUSES];
};

struct am_head {
	uint8_t author[32];
	uint64_t seq;
	uint8_t hash[32];
};

/* One decoded body; which fields mean something depends on kind. */
struct am_body {
	uint32_t kind;
	struct am_str name;          /* GENESIS, RENAME; NAME: a display name */
	uint8_t nonce[32];           /* GENESIS */
	uint8_t target[32];          /* MEMBER: the ID; ACCEPT, DECLINE, CONFIRM,
	                                DISPUTE: the entry; END, CHECKIN, AMEND:
	                                the agreement; STATEMENT: about;
	                                REMOVE: the ID removed; SUCCESSION:
	                                the old ID */
	bool has_target;             /* STATEMENT: false when about nothing */
	uint8_t base[32];            /* AMEND: the version amended; RENAME:
	                                the GENESIS or RENAME it replaces */
	uint32_t role;               /* MEMBER: enum am_role */
	struct am_str note;          /* DECLINE/END/LEAVE/REMOVE reason,
	                                CHECKIN/CONFIRM/DISPUTE note,
	                                STATEMENT text */
	struct am_str period;        /* CHECKIN */
	uint32_t status;             /* CHECKIN: enum am_status */
	struct am_terms terms;       /* PROPOSE, AMEND */
	uint32_t nheads;             /* CHECKPOINT */
	struct am_head heads[AM_MAX_HEADS];
	uint64_t head_seq;           /* REMOVE, SUCCESSION: the head of the
	                                target's feed
	                                the proposer holds; 0 for none */
	uint8_t head_hash[32];       /* ... its hash; zero when head_seq is 0 */
	uint8_t heir[32];            /* SUCCESSION: the new ID */
	uint32_t nneed;              /* REMOVE, SUCCESSION: whose acceptance
	                                it needs, */
	uint8_t need[AM_MAX_NEED][32]; /* sorted by bytes, each once */
};

/* Whether this build knows the kind: decodes its body and applies its
 * rules. An entry of a kind it does not know (1..AM_KIND_LIMIT) is still
 * stored, hashed and counted in the circle digest; the state ignores it
 * (protocol/entry.md, "Kinds a node does not know"). */
bool am_kind_known(uint32_t kind);

/* Decodes and checks the body of an entry of the given kind: AM_ERR_KIND
 * when this build does not know the kind. Views in b
 * point into data. */
AM_NODISCARD int am_body_decode(uint32_t kind, const uint8_t *data, size_t len,
	struct am_body *b);

/* Encodes b (by b->kind) into a malloc'd buffer; the caller frees it.
 * AM_ERR_FIELD when a field is out of range, so a writer cannot produce
 * what a reader refuses. */
AM_NODISCARD int am_body_encode(const struct am_body *b, uint8_t **data,
	size_t *len);

/* A view of a NUL-terminated string (or nil for NULL). */
struct am_str am_str_c(const char *s);

/* True when s is a date "YYYY-MM-DD" that exists in the calendar. */
bool am_date_ok(struct am_str s);

#endif
