/*
 * What the files of the state module share (src/state*.c): the derivation
 * of a circle's state from the fact tables, as in-memory structures that
 * the public readers, the rule check and the digest all walk. Never
 * installed.
 *
 * Every function here takes the SQLite connection rather than the store so
 * that am_state_refold() can run the very same code on a private scratch
 * database.
 */
#ifndef AMENDS_STATE_IMPL_H
#define AMENDS_STATE_IMPL_H

#include <sqlite3.h>

#include "amends/state.h"

/* A member proposal, or a removal (a REMOVE is proposed, known and
 * answered like one: protocol/state.md, "Removal"), and who accepted it. */
struct st_proposal {
	uint8_t hash[AM_HASH_BYTES];
	uint8_t author[AM_ID_BYTES];
	uint8_t target[AM_ID_BYTES]; /* the newcomer, the one removed, or
	                                the old key a SUCCESSION replaces */
	uint8_t heir[AM_ID_BYTES];   /* SUCCESSION: the new key */
	uint64_t seq;
	int64_t time;
	uint32_t kind;               /* AM_KIND_MEMBER, AM_KIND_REMOVE or
	                                AM_KIND_SUCCESSION */
	uint32_t role;               /* MEMBER: the role proposed */
	uint64_t head;               /* REMOVE: the head of the target's feed
	                                it names */
	uint32_t nextra;             /* REMOVE: the IDs its body lists as
	                                needed that its derived need lacks */
	uint8_t (*extra)[AM_ID_BYTES];
	bool effective;              /* REMOVE: it took effect */
	int64_t prev_time;           /* REMOVE: the later of time and its
	                                author's previous entry's, as for
	                                a LEAVE */
	char *note;                  /* REMOVE: its reason, or NULL */
	bool done;                   /* completed: target joined through it */
	bool refused;                /* the first answer of its newcomer, or of
	                                someone in need, declines: it never
	                                completes */
	bool consented;              /* its newcomer and everyone in need
	                                accepted it: it completes once its
	                                author is a joined member */
	bool withdrawn;              /* its author declined it and it is not
	                                consented: nobody is pending through
	                                it (protocol/state.md, "Withdrawal") */
	uint32_t nbackers;           /* SUCCESSION: whose first acceptance of
	                                a new key for its target it is (its
	                                author's writing it, or an accept) */
	uint8_t (*backers)[AM_ID_BYTES];
	uint32_t naccepts;
	uint8_t (*accepts)[AM_ID_BYTES];
	uint32_t ndeclines;          /* standing or not: see accepts */
	uint8_t (*declines)[AM_ID_BYTES];
	uint32_t nneed;              /* how many in need(p) of protocol/state.md,
	                                "Membership": st_needs(), st_need_list() */
	const struct st_needs *needs; /* the circle's need sets */
	uint32_t who, rank;          /* its author's place in needs, and its
	                                own among its author's proposals */
};

/* Collects ignored entries and every entry a derivation looked at, so that
 * the sweep can name the rest (protocol/state.md, "Ignored entries"). */
struct st_sink {
	struct am_violation *v;
	size_t nv, capv;
	struct st_key {
		uint8_t author[AM_ID_BYTES];
		uint64_t seq;
	} *seen;
	size_t nseen, capseen;
	int rc;                      /* first allocation failure */
};

/* A person's departure: their own LEAVE (or, for a removal, the REMOVE
 * that took effect). */
struct st_depart {
	uint8_t id[AM_ID_BYTES];
	uint32_t kind;               /* AM_KIND_LEAVE, AM_KIND_REMOVE or
	                                AM_KIND_SUCCESSION */
	uint8_t heir[AM_ID_BYTES];   /* SUCCESSION: the new key */
	uint8_t hash[AM_HASH_BYTES]; /* that entry */
	uint8_t author[AM_ID_BYTES]; /* its author */
	uint64_t seq;                /* its number in its author's feed */
	int64_t time;                /* its claimed time */
	int64_t prev_time;           /* the later of time and its author's
	                                previous entry's (when within the
	                                bounds), as for an END */
	bool joined;                 /* id had joined: they departed */
	char *note;                  /* its reason, or NULL */
	uint64_t head;               /* REMOVE: the last entry of id's feed
	                                that counts in full (the cut-off) */
};

struct st_circle {
	sqlite3 *db;
	uint8_t id[AM_HASH_BYTES];
	bool has_genesis;
	uint8_t creator[AM_ID_BYTES];
	uint8_t genesis[AM_HASH_BYTES];
	uint64_t genesis_seq;
	int64_t created;
	char *name;
	struct am_member *members;   /* joined, then pending */
	size_t nmembers;
	struct st_proposal *props;   /* by author's seq, then hash */
	size_t nprops;
	char *renamed;               /* the name of the deepest RENAME that
	                                counts; NULL when none (the GENESIS
	                                name stands) */
	uint8_t rename[AM_HASH_BYTES]; /* that RENAME */
	struct st_depart *leaves;    /* every LEAVE that counts as one (the
	                                first of its author's feed), by ID,
	                                whether or not its author had joined */
	size_t nleaves;
	struct st_depart *removals;  /* who was removed or replaced, by ID:
	                                the effective REMOVE or SUCCESSION of
	                                the lowest head, then hash */
	size_t nremovals;
	struct st_depart *heirs;     /* every effective SUCCESSION, by hash:
	                                its heir has joined */
	size_t nheirs;
	struct st_sink *sink;        /* NULL unless collecting violations */
	struct st_needs *needs;      /* the need sets of props (state_need.c) */
	struct st_needs *asked;      /* the same with nobody taken out (no
	                                refused newcomer, nobody gone): who
	                                may refuse each (protocol/state.md,
	                                "Who can refuse") */
	bool members_sorted;         /* members is in its final order */
};

/* One answer (ACCEPT/DECLINE or CONFIRM/DISPUTE) as read from st_facts. */
struct st_act {
	uint8_t author[AM_ID_BYTES];
	uint8_t actor[AM_ID_BYTES];  /* whose act it counts as (st_actor) */
	uint64_t seq;
	uint32_t kind;
	int64_t time;
	uint8_t hash[AM_HASH_BYTES];
	char *note;
};

struct st_version {
	struct am_version v;         /* the public view */
	uint8_t actor[AM_ID_BYTES];  /* whose act it counts as (st_actor) */
	uint64_t seq;
	bool valid;
	bool replaced;               /* its terms name a key and the key that
	                                replaced it */
	bool full;                   /* counts: everyone it needs accepted it */
	uint32_t nneed;              /* whose acceptance it needs: its parties
	                                in terms order, then others by ID */
	uint8_t (*need)[AM_ID_BYTES];
	/* used while deriving, in the versions' hash order only */
	size_t base_ix;              /* its base, or SIZE_MAX */
	bool current;
};

struct st_end {
	uint32_t kind;               /* AM_KIND_END; AM_KIND_LEAVE or
	                                AM_KIND_REMOVE for the end a party's
	                                departure makes */
	uint8_t hash[AM_HASH_BYTES];
	uint8_t author[AM_ID_BYTES];
	uint8_t actor[AM_ID_BYTES];  /* whose act it counts as (st_actor) */
	uint64_t seq;
	int64_t time;
	int64_t prev_time;           /* the later of time and its author's
	                                previous entry's (when within the
	                                bounds) */
	char *note;
	bool valid;
	bool mutual;                 /* every party accepted it */
	bool at_once;                /* mutual, or a withdrawal: no notice */
	int64_t end_at;
	uint32_t nsigs;
	struct am_signature sigs[AM_MAX_PARTIES];
};

struct st_agreement {
	bool valid;                  /* its PROPOSE counts */
	struct am_agreement a;       /* status as if now were before any end */
	struct st_version *versions; /* all, valid or not, by depth then hash */
	size_t nversions;
	struct st_end *ends;         /* all, by hash */
	size_t nends;
	const struct st_version *current, *newest;
	const struct st_end *end;    /* the one that takes effect */
};

/* ---- state_derive.c, state_agreement.c ---- */

/* Notes that the entry (author, seq) was looked at; with sink NULL does
 * nothing. */
void st_sink_seen(struct st_sink *sink, const uint8_t *author, uint64_t seq);
/* Notes that it is ignored, and why. hash may be NULL. */
void st_sink_ignore(struct st_sink *sink, const uint8_t *author, uint64_t seq,
	const uint8_t *hash, uint32_t kind, uint32_t rule, const char *why);

/* Loads the circle's genesis and derives its membership. An unknown
 * circle gives has_genesis false and no members (AM_OK). */
int st_circle_load(sqlite3 *db, const uint8_t circle[static AM_HASH_BYTES],
	struct st_sink *sink, struct st_circle *c);
void st_circle_finish(struct st_circle *c);

/* The joined member id, or NULL. */
/* The order of a circle's members: joined first, then pending, then
 * departed; the creator first among the joined; then by ID. */
int st_member_cmp(const void *a, const void *b);

const struct am_member *st_member(const struct st_circle *c,
	const uint8_t id[static AM_ID_BYTES]);
/* True when id is a joined member who is not a witness. */
bool st_is_party_member(const struct st_circle *c,
	const uint8_t id[static AM_ID_BYTES]);
/* Derives which RENAMEs count and the circle's name (c->renamed), noting
 * them in c->sink; called by st_circle_load. */
int st_renames(struct st_circle *c);
/* Would a RENAME by author with base count? 0, or the rule it breaks
 * (why gets a sentence). */
uint32_t st_rename_rule(const struct st_circle *c, const uint8_t *author,
	const uint8_t *base, const char **why);

/* The LEAVE of id (the first of id's feed), or NULL. */
const struct st_depart *st_left(const struct st_circle *c,
	const uint8_t id[static AM_ID_BYTES]);
/* id's departure when id had joined and has left or been removed; NULL
 * otherwise. A departed member's entries before it still count. */
const struct st_depart *st_departed(const struct st_circle *c,
	const uint8_t id[static AM_ID_BYTES]);
/* The effective removal or succession of id (the one with the lowest
 * head), or NULL. */
const struct st_depart *st_removed(const struct st_circle *c,
	const uint8_t id[static AM_ID_BYTES]);
/* Is author's entry seq past the cut-off of their removal or
 * succession: ignored (AM_RULE_REMOVED, AM_RULE_SUCCEEDED) by every rule
 * but membership's? */
bool st_cut(const struct st_circle *c, const uint8_t author[static AM_ID_BYTES],
	uint64_t seq);
/* AM_RULE_REMOVED or AM_RULE_SUCCEEDED with a sentence in *why when
 * st_cut(); 0 otherwise. */
uint32_t st_cut_rule(const struct st_circle *c,
	const uint8_t author[static AM_ID_BYTES], uint64_t seq, const char **why);
/* The key that holds id's place now: id, or the heir of the succession
 * that is id's departure, and so on down the chain. */
const uint8_t *st_current(const struct st_circle *c,
	const uint8_t id[static AM_ID_BYTES]);
/* How many successions lead from id to st_current(id): 0 for a key
 * that holds its own place. */
uint32_t st_hops(const struct st_circle *c, const uint8_t id[static AM_ID_BYTES]);
/* The key whose acts author's entry seq counts as: st_current(author)
 * when the entry is within author's cut-off, author otherwise. */
const uint8_t *st_actor(const struct st_circle *c,
	const uint8_t author[static AM_ID_BYTES], uint64_t seq);
/* Has id written, or accepted as their first acceptance of a new key
 * for old, a succession of old other than not (NULL: any)? Their first
 * acceptance per key is final (protocol/state.md, "Succession"). */
bool st_backed_other(const struct st_circle *c, const uint8_t *id,
	const uint8_t *old, const struct st_proposal *not);
/* Does p's consent need id's (a REMOVE's: never its target's, and also
 * the IDs its body lists)? */
bool st_consent_needs(const struct st_circle *c, const struct st_proposal *p,
	const uint8_t id[static AM_ID_BYTES]);
/* True when proposal p needs id's consent (id is in p->need). */
bool st_needs(const struct st_proposal *p, const uint8_t id[static AM_ID_BYTES]);

/* need(p), sorted by ID, each once, into a malloc'd array for the caller. */
int st_need_list(const struct st_proposal *p, uint8_t (**out)[AM_ID_BYTES],
	size_t *n);

/*
 * The need sets of a circle's member proposals, one list per author that
 * grows along the author's feed (state_need.c). who is an author's
 * interned index (st_needs_id), rank a proposal's place among its
 * author's; an author's proposals are added in rank order.
 */
struct st_needs;
int st_needs_new(struct st_needs **out);
void st_needs_free(struct st_needs **n);
int st_needs_id(struct st_needs *n, const uint8_t id[static AM_ID_BYTES],
	uint32_t *ix);
/* Adds id to who's list as first needed at rank, unless it is there. */
int st_needs_add(struct st_needs *n, uint32_t who, uint32_t rank,
	const uint8_t id[static AM_ID_BYTES]);
/* Adds to who's list, at rank, everything from's list holds up to rank
 * upto (nothing when who is from). */
int st_needs_merge(struct st_needs *n, uint32_t who, uint32_t rank,
	uint32_t from, uint32_t upto);
uint32_t st_needs_count(const struct st_needs *n, uint32_t who);
bool st_needs_has(const struct st_needs *n, uint32_t who, uint32_t rank,
	const uint8_t id[static AM_ID_BYTES]);
int st_needs_list(const struct st_needs *n, uint32_t who, uint32_t count,
	uint8_t (**out)[AM_ID_BYTES], size_t *nout);

/*
 * The members of a circle as am_state_members() gives them, kept per
 * connection while the database does not change (state_memo.c):
 * st_memo_members() copies them into a malloc'd array, or gives
 * AM_ERR_NOT_FOUND when nothing good is kept; st_memo_members_put() keeps
 * a copy; st_memo_drop() forgets a connection's.
 */
int st_memo_members(sqlite3 *db, const uint8_t circle[static AM_HASH_BYTES],
	struct am_member **out, size_t *n);
void st_memo_members_put(sqlite3 *db, const uint8_t circle[static AM_HASH_BYTES],
	const struct am_member *members, size_t n);
void st_memo_drop(sqlite3 *db);

/* Derives agreement id of circle c (versions, signatures, ends). AM_OK
 * with a->valid false when it is not a valid agreement. */
int st_agreement_load(struct st_circle *c,
	const uint8_t id[static AM_HASH_BYTES], struct st_agreement *a);
void st_agreement_finish(struct st_agreement *a);

/* t + d, saturating at INT64_MIN and INT64_MAX instead of overflowing. */
int64_t st_time_add(int64_t t, int64_t d);

/* The status of a at now. */
uint32_t st_agreement_status(const struct st_agreement *a, int64_t now);

/* True when id is a party to v's terms. */
bool st_in_terms(const struct am_terms *t, const uint8_t id[static AM_ID_BYTES]);
/* Position of id on a version or end: signatures array lookup. */
const struct am_signature *st_sig(const struct am_signature *sigs, uint32_t n,
	const uint8_t id[static AM_ID_BYTES]);
/* May id check in for a? */
bool st_may_checkin(const struct st_agreement *a,
	const uint8_t id[static AM_ID_BYTES]);
/* May id confirm or dispute a check-in of a (not its author)? */
bool st_may_mark(const struct st_circle *c, const struct st_agreement *a,
	const uint8_t id[static AM_ID_BYTES]);
/* The parties an END of a answers to: the current version's, else the
 * newest's; NULL when a has no valid version. */
const struct am_terms *st_end_terms(const struct st_agreement *a);

/* Why a check-in by id for a, of period (a NUL-terminated label, or
 * NULL), would not count: an AM_RULE_*, or 0. */
uint32_t st_checkin_rule(const struct st_circle *c, const struct st_agreement *a,
	const uint8_t id[static AM_ID_BYTES], const char *period, const char **why);

/* Check-ins of a that count, with their marks; public layout. */
int st_checkins_load(struct st_circle *c, const struct st_agreement *a,
	struct am_checkin **out, size_t *n);
/* Statements of c that count (about NULL: all). */
int st_statements_load(struct st_circle *c, const uint8_t *about,
	const uint8_t *awaiting, struct am_statement **out, size_t *n);

/* The hashes of every PROPOSE entry of the circle, by hash. */
int st_proposals(sqlite3 *db, const uint8_t circle[static AM_HASH_BYTES],
	uint8_t (**out)[AM_HASH_BYTES], size_t *n);

/* Every ignored entry of circle (the full derivation plus the sweep). */
int st_violations(sqlite3 *db, const uint8_t circle[static AM_HASH_BYTES],
	struct am_violation **out, size_t *n);

/* ---- state_name.c ---- */

/* The NAMEs of c that count, by author (am_state_names); notes every NAME
 * in c's sink, seen or ignored. Free with st_names_free(). */
int st_names_load(struct st_circle *c, struct am_name **out, size_t *n);
void st_names_free(struct am_name *v, size_t n);

/* The derived-state digest of circle on db. */
int st_digest(sqlite3 *db, const uint8_t circle[static AM_HASH_BYTES],
	uint8_t out[static AM_HASH_BYTES]);

/* ---- state.c, state_read.c ---- */

/* Starts a read transaction unless one is open; returns whether it did.
 * st_read_end() ends it if so. */
bool st_read_begin(sqlite3 *db);
void st_read_end(sqlite3 *db, bool began);

/* Records e's facts on db (the hook's body): nothing when e's feed forked
 * at or below e's number. st_record is the same (am_state_record). */
int st_apply(sqlite3 *db, const struct am_entry *e);
int st_record(sqlite3 *db, const struct am_entry *e);

/* The key st_facts.hkey holds for an entry hash: its first 8 bytes as a
 * big-endian number, top bit flipped so that integer order is the hashes'
 * order. Queries find an object by this key, then compare the whole
 * hash (entries.hash). */
int64_t st_hkey(const uint8_t hash[static 8]);

/*
 * Prepares sql on db, or hands out a cached copy; give it back with
 * st_finish (never sqlite3_finalize). The first time on a connection it
 * adds the SQL functions the readers use for what st_facts does not keep,
 * each reading a raw entry (entries.raw): st_note(raw), st_label(raw)
 * (GENESIS name, CHECKIN period), st_num(raw) (MEMBER role, CHECKIN
 * status), st_body(raw) (the body's bytes), st_base(raw) (AMEND base),
 * st_time(raw) (the claimed time);
 * and st_hkey(hash).
 */
int st_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st);
/* Resets a statement from st_prepare and returns it to the cache (or
 * finalizes it when it is not cached). NULL does nothing. */
void st_finish(sqlite3_stmt *st);
/* Finalizes every cached statement of db; before closing it. */
void st_cache_drop(sqlite3 *db);
/* Column helpers: copy a 32-byte blob (zero when NULL or of other size),
 * duplicate a text (NULL when NULL). */
void st_col32(sqlite3_stmt *st, int col, uint8_t out[static 32]);
char *st_coltext(sqlite3_stmt *st, int col);
/* Maps a finished step loop's last code. */
int st_done(int sqlite_rc);

void st_signatures_free(struct am_signature *sigs, uint32_t n);
void st_marks_free(struct am_mark *m, uint32_t n);

#endif
