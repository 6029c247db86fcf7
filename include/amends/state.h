/*
 * The shared state of a circle: who its members are, which agreements are
 * in force, who signed what, which check-ins are verified. State is a pure
 * function of the SET of a circle's entries, whatever order they arrived in
 * (protocol/state.md is the rule book). Claimed times order nothing: they
 * decide only which entries are read at all (the bounds, AM_TIME_MIN to
 * AM_TIME_MAX), when a unilateral end takes effect, and through that which
 * periods a check-in may be for; never the reader's clock.
 *
 * The store calls am_state_apply() for every entry it stores, inside the
 * same transaction: that only records the entry's facts in indexed tables.
 * Everything else here derives state from those facts when read, so facts
 * that refer to objects not received yet simply wait, and no read ever
 * refolds the raw history.
 *
 * Objects (circles, member proposals, agreements, versions, ends,
 * check-ins, statements) are named by the hash of the entry that created
 * them; a circle by its ID (am_circle_id). Lists come back as malloc'd
 * arrays that the caller releases with the matching am_state_*_free().
 */
#ifndef AMENDS_STATE_H
#define AMENDS_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amends/body.h"
#include "amends/entry.h"
#include "amends/error.h"
#include "amends/store.h"

/* ---- hooks called by the store, inside its write transaction ---- */

/* Records the facts of e, a new entry of its feed. Never judges e: an
 * entry that breaks a rule is recorded all the same, ignored when state is
 * derived, and listed by am_state_violations(). */
AM_NODISCARD int am_state_apply(struct am_store *s, const struct am_entry *e);

/* As am_state_apply, for an entry the caller knows extends a feed that
 * has not forked (the store's batched ingest, which has just read the
 * feed): feed is the store's id of it, so neither the feed nor its fork
 * is looked for. */
AM_NODISCARD int am_state_record(struct am_store *s, const struct am_entry *e,
	int64_t feed);

/* Called when e is fork evidence: its author signed two different entries
 * at e->seq. From then on, every entry of that author's feed from e->seq
 * on is ignored by the state (protocol/state.md, "Forks"). */
AM_NODISCARD int am_state_fork(struct am_store *s, const struct am_entry *e);

/*
 * AM_OK when author may write entries into circle: it is the circle's
 * creator, or some MEMBER proposal stored in the circle names it (whether
 * or not that proposal has completed: the person named must be able to
 * accept it), or it is the new key of a SUCCESSION, joined or awaiting
 * acceptance, and author has not left it (a LEAVE of theirs counts).
 * AM_ERR_NOT_MEMBER otherwise.
 */
AM_NODISCARD int am_state_may_write(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t author[static AM_ID_BYTES]);

/* The version of the state rules this build applies (protocol/state.md);
 * it names the state digest ("amends-state-v4"). */
#define AM_STATE_RULES 6

/* The claimed times the state reads, half-open, in ms since the epoch:
 * 2000-01-01T00:00Z to 2200-01-01T00:00Z. An entry claiming a time outside
 * them is stored like any other and ignored by the state (AM_RULE_TIME);
 * protocol/state.md, "Claimed times". */
#define AM_TIME_MIN INT64_C(946684800000)
#define AM_TIME_MAX INT64_C(7258118400000)

/* Records every stored entry's facts again when they were recorded under
 * other rules than this build's (another AM_STATE_RULES, or another set
 * of known kinds: am_kind_known), or always when force is set, in one
 * transaction; then notes this build's rules in the store. The store
 * calls it when it opens. */
AM_NODISCARD int am_state_rederive(struct am_store *s, bool force);

/* Releases what the state module keeps for the store's connection (its
 * prepared statements); the store calls it before it closes. */
void am_state_close(struct am_store *s);

/* *held: does the store hold the GENESIS that creates circle? The same
 * answer as am_state_members() giving AM_ERR_NOT_FOUND or not, without
 * reading the circle. */
AM_NODISCARD int am_state_holds_circle(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES], bool *held);

/* The ingest check, which looks at no other feed: AM_OK when e is a
 * GENESIS (the decoder checked that it creates its circle) or when the
 * store holds its circle's GENESIS; AM_ERR_NO_GENESIS otherwise (the
 * caller retries once the genesis is here). Whether e's author counts is
 * the state's to judge, not the ingest's. */
AM_NODISCARD int am_state_admit(struct am_store *s, const struct am_entry *e);

/* ---- objects ---- */

/* Kinds of object, as bits for am_state_resolve()'s mask. */
enum am_object {
	AM_OBJ_CIRCLE = 1 << 0,      /* named by the circle ID */
	AM_OBJ_MEMBER = 1 << 1,      /* a MEMBER proposal */
	AM_OBJ_AGREEMENT = 1 << 2,   /* a PROPOSE entry, as the agreement */
	AM_OBJ_VERSION = 1 << 3,     /* a PROPOSE or AMEND entry, as a version */
	AM_OBJ_END = 1 << 4,
	AM_OBJ_CHECKIN = 1 << 5,
	AM_OBJ_STATEMENT = 1 << 6,
	AM_OBJ_REMOVE = 1 << 7,      /* a REMOVE: a proposed removal */
	AM_OBJ_SUCCESSION = 1 << 8,  /* a SUCCESSION: a proposed new key */
};
#define AM_OBJ_ANY 0x1ffu

/*
 * Finds the one object of the kinds in mask whose hash (or circle ID)
 * starts with hex_prefix (1 to 64 hex digits, either case).
 * AM_ERR_NOT_FOUND, AM_ERR_AMBIGUOUS when several match, AM_ERR_ARG when
 * the prefix is not hex. A PROPOSE entry matches both AM_OBJ_AGREEMENT and
 * AM_OBJ_VERSION and counts once.
 */
AM_NODISCARD int am_state_resolve(struct am_store *s, const char *hex_prefix,
	unsigned mask, uint8_t hash[static AM_HASH_BYTES]);

/* What an object is, for am_state_lookup(). */
struct am_object_info {
	uint32_t kind;                   /* enum am_kind of its entry */
	uint8_t circle[AM_HASH_BYTES];
	uint8_t author[AM_ID_BYTES];
	uint64_t seq;
	int64_t time;                    /* claimed, ms */
	uint8_t agreement[AM_HASH_BYTES];  /* PROPOSE (itself), AMEND, END,
	                                      CHECKIN; zero otherwise */
};

/* Describes the object whose entry hash (or, for a circle, circle ID) is
 * hash. AM_ERR_NOT_FOUND when the store holds no such object. */
AM_NODISCARD int am_state_lookup(struct am_store *s,
	const uint8_t hash[static AM_HASH_BYTES], struct am_object_info *out);

/* ---- circles and members ---- */

enum am_member_status {
	AM_MEMBER_JOINED = 1,        /* creator, or named by a completed proposal */
	AM_MEMBER_PENDING = 2,       /* named by a proposal still awaiting accepts */
	AM_MEMBER_DEPARTED = 3,      /* had joined, then left (their LEAVE) or
	                                was removed (a REMOVE that took
	                                effect): no longer a member, though
	                                what they wrote before stays */
};

struct am_circle_info {
	uint8_t id[AM_HASH_BYTES];
	uint8_t creator[AM_ID_BYTES];
	uint8_t genesis[AM_HASH_BYTES];  /* hash of the GENESIS entry */
	int64_t created;                 /* its claimed time, ms */
	char *name;                      /* as the creator named it */
	uint32_t role;                   /* the asked-about identity's enum am_role */
	uint32_t status;                 /* ... and its enum am_member_status */
};

/*
 * The circles id is a member of (joined or pending), ordered by circle ID;
 * with id NULL, every circle the store holds a valid GENESIS of (role and
 * status then describe nobody and are 0). Free with am_state_circles_free().
 */
AM_NODISCARD int am_state_circles(struct am_store *s,
	const uint8_t *id, struct am_circle_info **out, size_t *n);
void am_state_circles_free(struct am_circle_info **list, size_t n);

struct am_member {
	uint8_t id[AM_ID_BYTES];
	uint32_t role;                   /* enum am_role */
	uint32_t status;                 /* enum am_member_status */
	bool creator;
	bool witnessed;                  /* joined as a witness (a completed
	                                    witness proposal names them),
	                                    whatever their role now */
	uint8_t proposal[AM_HASH_BYTES]; /* the MEMBER entry that made (or would
	                                    make) them a member; zero for the
	                                    creator */
	uint8_t proposer[AM_ID_BYTES];   /* its author */
	int64_t time;                    /* claimed time of that entry (of the
	                                    GENESIS for the creator) */
	/* AM_MEMBER_DEPARTED: what made them depart */
	uint32_t departure_kind;         /* AM_KIND_LEAVE, AM_KIND_REMOVE or
	                                    AM_KIND_SUCCESSION */
	uint8_t departure[AM_HASH_BYTES];  /* that entry */
	uint8_t departed_by[AM_ID_BYTES];  /* its author (themselves for a
	                                      LEAVE) */
	int64_t departed_at;             /* its claimed time, ms */
	uint8_t heir[AM_ID_BYTES];       /* SUCCESSION departure: the new key
	                                    that took their place */
	uint8_t succeeds[AM_ID_BYTES];   /* joined through a SUCCESSION: the
	                                    old key whose place they took;
	                                    zero otherwise */
};

/* The members of circle: joined ones first (creator first, then by ID),
 * then pending ones by ID, then departed ones (status AM_MEMBER_DEPARTED:
 * no longer members; role and proposal still say how they had joined) by
 * ID. Free the array with free(). AM_ERR_NOT_FOUND when the store holds
 * no GENESIS of circle. */
AM_NODISCARD int am_state_members(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES], struct am_member **out,
	size_t *n);

/*
 * The people whose consent the member proposal `proposal` of circle needs
 * (protocol/state.md, "Membership", need): the creator, its author, and
 * for every proposal its author knew of when writing it (recursively) that
 * proposal's author and, unless refused, its newcomer. Each once, by ID;
 * the proposal's own newcomer, whose consent is needed too, is among them
 * only when another proposal names them. Someone in the list may answer
 * the proposal before joining. *out is the caller's to free().
 * AM_ERR_NOT_FOUND when circle holds no such member proposal.
 */
AM_NODISCARD int am_state_proposal_needs(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t proposal[static AM_HASH_BYTES],
	uint8_t (**out)[AM_ID_BYTES], size_t *n);

/* A removal still open (protocol/state.md, "Removal"): by a joined
 * member, of a member still here, neither effective, refused nor
 * withdrawn. */
struct am_removal {
	uint32_t kind;                   /* AM_KIND_REMOVE or
	                                    AM_KIND_SUCCESSION */
	uint8_t hash[AM_HASH_BYTES];     /* the REMOVE or SUCCESSION */
	uint8_t author[AM_ID_BYTES];
	uint8_t target[AM_ID_BYTES];     /* the one it would remove, or the
	                                    old key it would replace */
	uint8_t heir[AM_ID_BYTES];       /* SUCCESSION: the new key */
	int64_t time;
	uint32_t nwaiting;               /* whose acceptance it still needs, */
	uint8_t (*waiting)[AM_ID_BYTES]; /* by ID */
	bool alone;                      /* no joined member other than its
	                                    author and target has accepted it
	                                    yet (one must) */
	uint64_t head;                   /* the head of target's feed it
	                                    names: what it keeps of it */
	uint64_t held;                   /* the head of target's feed this
	                                    node holds: held - head entries
	                                    would be set aside */
	bool target_declined;            /* SUCCESSION: the old key declined
	                                    it (which refuses nothing) */
};

/* The open removals of circle, by claimed time then hash. Free with
 * am_state_removals_free(). */
AM_NODISCARD int am_state_removals(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES], struct am_removal **out,
	size_t *n);
void am_state_removals_free(struct am_removal **list, size_t n);

/* The circle's name now (protocol/state.md, "The circle's name"): that of
 * the deepest RENAME that counts, else the GENESIS name. *name is the
 * caller's to free(); entry gets the hash of the RENAME or GENESIS that
 * gives it, which a new RENAME names as its base. AM_ERR_NOT_FOUND when
 * the store holds no GENESIS of circle. */
AM_NODISCARD int am_state_circle_name(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES], char **name,
	uint8_t entry[static AM_HASH_BYTES]);

/* The joined member id of circle: AM_OK with *role set, AM_ERR_NOT_MEMBER
 * when id is not a joined member (or has departed). role may be NULL. */
AM_NODISCARD int am_state_member_role(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t id[static AM_ID_BYTES], uint32_t *role);

/* *named: does the copy name id as one who may come into circle: the
 * newcomer of a MEMBER proposal, or the new key of a SUCCESSION, that
 * is not refused (withdrawn ones included: one may still complete,
 * protocol/state.md, "Withdrawal"), and id has not departed? A joined
 * member is named too. What the sync door reads (protocol/sync.md). */
AM_NODISCARD int am_state_named(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t id[static AM_ID_BYTES], bool *named);

/* ---- agreements and versions ---- */

enum am_agreement_status {
	AM_AGREEMENT_PROPOSED = 1,   /* no version in force yet */
	AM_AGREEMENT_IN_FORCE = 2,
	AM_AGREEMENT_DECLINED = 3,   /* nothing in force, every version declined */
	AM_AGREEMENT_ENDING = 4,     /* ended by one side; ends at end_at */
	AM_AGREEMENT_ENDED = 5,
};

struct am_agreement {
	uint8_t id[AM_HASH_BYTES];       /* hash of its PROPOSE entry */
	uint8_t circle[AM_HASH_BYTES];
	uint8_t proposer[AM_ID_BYTES];
	int64_t proposed;                /* claimed time of the proposal, ms */
	uint32_t status;                 /* enum am_agreement_status, at now */
	bool in_force_ever;              /* some version was signed by all */
	bool has_current;
	uint8_t current[AM_HASH_BYTES];  /* the version in force (even once
	                                    ended: the terms that were kept) */
	uint8_t newest[AM_HASH_BYTES];   /* the valid version of greatest depth,
	                                    ties by lowest hash: what to amend */
	uint32_t nversions;              /* valid versions */
	char *title;                     /* of current, else of newest */
	bool has_end;                    /* a valid END exists, or a party
	                                    departed */
	uint8_t end[AM_HASH_BYTES];      /* the END that takes effect first */
	uint32_t end_kind;               /* the kind of that entry: AM_KIND_END,
	                                    or AM_KIND_LEAVE / AM_KIND_REMOVE
	                                    when a party's departure ends it
	                                    (as if they had ended it alone) */
	uint8_t ended_by[AM_ID_BYTES];
	bool end_mutual;                 /* every party accepted it: at once */
	int64_t end_at;                  /* ms: when it takes (took) effect */
	char *end_reason;                /* NULL when none was given */
};

/*
 * The agreements of circle, ordered by their proposal's claimed time then
 * hash. now (ms) only decides between ENDING and ENDED. Free with
 * am_state_agreements_free().
 */
AM_NODISCARD int am_state_agreements(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES], int64_t now,
	struct am_agreement **out, size_t *n);

/* One agreement, by the hash of its proposal. AM_ERR_NOT_FOUND when it is
 * not a valid agreement. Release with am_state_agreement_finish(). */
AM_NODISCARD int am_state_agreement(struct am_store *s,
	const uint8_t id[static AM_HASH_BYTES], int64_t now,
	struct am_agreement *out);
void am_state_agreement_finish(struct am_agreement *a);
void am_state_agreements_free(struct am_agreement **list, size_t n);

enum am_position {
	AM_POS_NONE = 0,             /* has not answered */
	AM_POS_ACCEPTED = 1,
	AM_POS_DECLINED = 2,
};

/* One party's answer to a version or an end. */
struct am_signature {
	uint8_t id[AM_ID_BYTES];
	uint32_t position;               /* enum am_position */
	bool implicit;                   /* the author of the version or end */
	int64_t time;                    /* claimed time of the answer, ms */
	uint8_t entry[AM_HASH_BYTES];    /* the ACCEPT/DECLINE (or the version) */
	char *note;                      /* decline reason, or NULL */
	bool was_declined;               /* accepted after a decline, which
	                                    stood until then: */
	int64_t declined_time;           /* its claimed time, ms */
	uint8_t declined[AM_HASH_BYTES]; /* the DECLINE (the latest before
	                                    the ACCEPT) */
	char *declined_note;             /* its reason, or NULL */
};

enum am_version_status {
	AM_VERSION_PENDING = 1,      /* awaiting signatures */
	AM_VERSION_IN_FORCE = 2,     /* the agreement's current version */
	AM_VERSION_SUPERSEDED = 3,   /* counted (everyone it needs accepted
	                                it), and is not the one in force */
	AM_VERSION_DECLINED = 4,     /* a needed person's decline stands */
	AM_VERSION_PASSED_OVER = 5,  /* never counted, and never will be in
	                                force: the version in force came after
	                                it, with its parties' consent */
};

struct am_version {
	uint8_t hash[AM_HASH_BYTES];
	uint8_t agreement[AM_HASH_BYTES];
	uint8_t author[AM_ID_BYTES];
	bool has_base;
	uint8_t base[AM_HASH_BYTES];     /* AMEND: the version amended */
	uint32_t depth;                  /* 0 for the proposal */
	int64_t time;                    /* claimed, ms */
	uint32_t status;                 /* enum am_version_status */
	struct am_body body;             /* kind PROPOSE or AMEND; body.terms
	                                    are the terms; views point into raw */
	uint8_t *raw;                    /* the encoded body */
	size_t raw_len;
	uint32_t nsigs;                  /* one per party, in terms order */
	struct am_signature sigs[AM_MAX_PARTIES];
	uint32_t nothers;                /* whose acceptance it also needs,
	                                    beyond its parties, by ID */
	struct am_signature *others;
	bool withdrawn;                  /* its author declined it before it
	                                    counted: status DECLINED (a
	                                    version that counts stays so) */
	uint8_t withdrawal[AM_HASH_BYTES]; /* the author's first DECLINE */
};

/* The valid versions of an agreement by depth, then hash. Free with
 * am_state_versions_free(). */
AM_NODISCARD int am_state_versions(struct am_store *s,
	const uint8_t agreement[static AM_HASH_BYTES], struct am_version **out,
	size_t *n);
void am_state_versions_free(struct am_version **list, size_t n);

/* ---- check-ins and statements ---- */

enum am_mark_kind {
	AM_MARK_CONFIRMED = 1,
	AM_MARK_DISPUTED = 2,
};

/* One person's confirmation or dispute of a check-in or statement: in
 * marks, their standing one (their latest, by their feed); in a
 * check-in's answers, any of them. */
struct am_mark {
	uint8_t id[AM_ID_BYTES];
	uint32_t kind;                   /* enum am_mark_kind */
	bool witness;                    /* a witness of the circle */
	uint64_t seq;                    /* in its author's feed */
	int64_t time;
	uint8_t entry[AM_HASH_BYTES];    /* the CONFIRM/DISPUTE */
	char *note;                      /* or NULL */
};

struct am_checkin {
	uint8_t hash[AM_HASH_BYTES];
	uint8_t agreement[AM_HASH_BYTES];
	uint8_t author[AM_ID_BYTES];      /* whose check-in it is: the key that
	                                    holds the signer's place now */
	uint8_t signer[AM_ID_BYTES];      /* the key that signed it (an older
	                                    one when a succession replaced
	                                    it; protocol/state.md) */
	uint64_t seq;                    /* in the signer's feed */
	char period[AM_MAX_PERIOD + 1];
	uint32_t status;                 /* enum am_status */
	char *note;                      /* or NULL */
	int64_t time;                    /* claimed, ms */
	bool verified;                   /* confirmed by every other party */
	bool disputed;                   /* someone's dispute stands */
	bool counts;                     /* the one of its (author, period)
	                                    that adherence counts */
	bool correction;                 /* its author checked in for the same
	                                    period before: it corrects that */
	uint8_t corrects[AM_HASH_BYTES]; /* correction: the author's previous
	                                    check-in of the period */
	uint32_t nmarks;                 /* standing answers: parties first
	                                    (terms order), then others by ID */
	struct am_mark *marks;
	uint32_t nanswers;               /* every answer that counts, in the
	                                    order of marks, each person's by
	                                    their feed: changed answers stay */
	struct am_mark *answers;
};

/*
 * Every check-in of an agreement that breaks no rule, originals and
 * corrections alike (none is ever erased), ordered by period label,
 * author, then the author's feed: per (author, period) exactly one has
 * counts set (protocol/state.md, "Check-ins", which counts). Free with
 * am_state_checkins_free().
 */
AM_NODISCARD int am_state_checkins(struct am_store *s,
	const uint8_t agreement[static AM_HASH_BYTES], struct am_checkin **out,
	size_t *n);
void am_state_checkins_free(struct am_checkin **list, size_t n);

struct am_statement {
	uint8_t hash[AM_HASH_BYTES];
	uint8_t circle[AM_HASH_BYTES];
	uint8_t author[AM_ID_BYTES];
	uint64_t seq;
	int64_t time;
	char *text;
	bool has_about;
	uint8_t about[AM_HASH_BYTES];    /* the agreement it is about */
	uint32_t nmarks;                 /* confirmations (received and
	                                    accepted), by ID */
	struct am_mark *marks;
};

/* The statements of circle that count, by claimed time then hash; with
 * about not NULL only those about that agreement. Free with
 * am_state_statements_free(). */
AM_NODISCARD int am_state_statements(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES], const uint8_t *about,
	struct am_statement **out, size_t *n);
/* The statements of circle that id neither wrote nor has answered: what
 * awaits id's confirmation (for `amends status`, without reading every
 * statement). Free with am_state_statements_free(). */
AM_NODISCARD int am_state_statements_awaiting(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES], const uint8_t id[static AM_ID_BYTES],
	struct am_statement **out, size_t *n);
void am_state_statements_free(struct am_statement **list, size_t n);

/* ---- what awaits a signature ---- */

enum am_pending_kind {
	AM_PENDING_VERSION = 1,      /* a version id is a party to */
	AM_PENDING_MEMBER = 2,       /* a member proposal id must accept */
	AM_PENDING_END = 3,          /* an end id may accept (to end at once) */
	AM_PENDING_REMOVE = 4,       /* a removal id must accept */
	AM_PENDING_SUCCESSION = 5,   /* a succession id must accept (id may
	                                be its new key) */
};

struct am_pending {
	uint32_t kind;                   /* enum am_pending_kind */
	uint8_t circle[AM_HASH_BYTES];
	uint8_t hash[AM_HASH_BYTES];     /* what ACCEPT/DECLINE would target */
	uint8_t agreement[AM_HASH_BYTES];  /* VERSION, END */
	uint8_t author[AM_ID_BYTES];     /* who wrote it */
	int64_t time;
	char *title;                     /* VERSION, END: the terms' title */
	uint8_t member[AM_ID_BYTES];     /* MEMBER: who would join; REMOVE:
	                                    who would go; SUCCESSION: the
	                                    new key */
	uint8_t old[AM_ID_BYTES];        /* SUCCESSION: the key it replaces */
	uint32_t role;                   /* MEMBER: enum am_role */
	bool declined;                   /* id declined it; the decline stands */
};

/* What awaits id's accept in circle (or in every circle when circle is
 * NULL): ordered by circle, then claimed time, then hash. Free with
 * am_state_pending_free(). */
AM_NODISCARD int am_state_pending(struct am_store *s, const uint8_t *circle,
	const uint8_t id[static AM_ID_BYTES], struct am_pending **out, size_t *n);
void am_state_pending_free(struct am_pending **list, size_t n);

/* ---- rules ---- */

/*
 * Would an entry by author in circle with body b count? AM_OK when it
 * would; otherwise an error code (AM_ERR_NOT_MEMBER, AM_ERR_NOT_FOUND for
 * an unknown target, AM_ERR_RULE) and a sentence for a person in why
 * ("you are not a party to this agreement"). This is the rule set the
 * derived state applies, asked before writing, so that what the CLI
 * refuses and what the state ignores never differ. why may be NULL.
 */
AM_NODISCARD int am_state_check(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t author[static AM_ID_BYTES], const struct am_body *b,
	char *why, size_t whylen);

/*
 * Would an entry claiming time count, as far as its time goes? AM_OK when
 * time is within [AM_TIME_MIN, AM_TIME_MAX); AM_ERR_RULE and a sentence in
 * why (which may be NULL) otherwise. A writer asks it, with the time it is
 * about to stamp, besides am_state_check(): the state ignores an entry
 * claiming a time outside the bounds (AM_RULE_TIME), whatever its body.
 */
AM_NODISCARD int am_state_check_time(int64_t time, char *why, size_t whylen);

/* True when time is within [AM_TIME_MIN, AM_TIME_MAX). */
bool am_state_time_ok(int64_t time);

/* Why an entry is ignored (protocol/state.md, "Ignored entries"). */
enum am_rule {
	AM_RULE_NOT_MEMBER = 1,      /* author is not a joined member */
	AM_RULE_BAD_GENESIS = 2,     /* second or foreign GENESIS */
	AM_RULE_WITNESS = 3,         /* a witness acting as a party */
	AM_RULE_NOT_PARTY = 4,       /* not a party to the version or agreement */
	AM_RULE_PARTIES = 5,         /* a version naming a non-member party, or
	                                its author not among its parties */
	AM_RULE_UNKNOWN_TARGET = 6,  /* names an object this store lacks */
	AM_RULE_WRONG_TARGET = 7,    /* names an object of the wrong kind */
	AM_RULE_ACCEPTED = 8,        /* decline after accepting: final */
	AM_RULE_NOT_IN_FORCE = 9,    /* check-in or end of nothing in force */
	AM_RULE_NOT_CHECKER = 10,    /* check-in by someone not in `by` */
	AM_RULE_OWN = 11,            /* confirming one's own check-in/statement */
	AM_RULE_MEMBER = 12,         /* member proposal of a member, or by a
	                                witness or non-member */
	AM_RULE_FORKED = 13,         /* feed forked: entries from seq on */
	AM_RULE_SUPERSEDED = 14,     /* a check-in replaced by a later one */
	AM_RULE_UNKNOWN_KIND = 15,   /* a kind this build does not know */
	AM_RULE_TIME = 16,           /* claimed time outside the bounds */
	AM_RULE_PERIOD = 17,         /* check-in period outside the terms'
	                                from/until, or after the END's effect */
	AM_RULE_LEFT = 18,           /* written after its author's own LEAVE */
	AM_RULE_REMOVED = 19,        /* by a removed member, above the head the
	                                effective REMOVE names */
	AM_RULE_BODY = 20,           /* a kind after 12 whose body breaks its
	                                format or bounds */
	AM_RULE_CAP = 21,            /* past its author's cap (AM_CAP_*) */
	AM_RULE_SUCCEEDED = 22,      /* by a key a succession replaced, above
	                                the head it names */
};

/*
 * Caps on what one author may make every node hold and derive in one
 * circle, counted in the author's own feed only, so that every node
 * reaches the same verdict (protocol/state.md, "Caps"). A MEMBER entry
 * past the first AM_CAP_MEMBER_PROPOSALS of its author's feed is stored
 * and ignored (AM_RULE_CAP).
 */
#define AM_CAP_MEMBER_PROPOSALS 256

struct am_violation {
	uint8_t author[AM_ID_BYTES];
	uint64_t seq;
	uint8_t hash[AM_HASH_BYTES];     /* zero for AM_RULE_FORKED */
	uint32_t kind;                   /* enum am_kind; 0 for AM_RULE_FORKED */
	uint32_t rule;                   /* enum am_rule */
	char why[128];                   /* a sentence for a person */
};

/* The rule's name in protocol/state.md ("not-member"); "?" for a number
 * that names none. The string is static. */
const char *am_rule_name(uint32_t rule);

/* The entries of circle that the state ignores and why, by author then
 * seq. AM_RULE_SUPERSEDED is not a violation and is not listed. Free the
 * array with free(). */
AM_NODISCARD int am_state_violations(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES], struct am_violation **out,
	size_t *n);

/* ---- digests ---- */

/*
 * A BLAKE2b-256 hash over a canonical serialisation of circle's derived
 * state (protocol/state.md, "State digest"): members, agreements with
 * their versions and signatures, ends, check-ins with their marks,
 * statements and the ignored entries. Independent of now.
 */
AM_NODISCARD int am_state_digest(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES],
	uint8_t digest_out[static AM_HASH_BYTES]);

/*
 * The same digest computed from scratch: every raw entry of circle is
 * decoded and applied to empty fact tables in a private in-memory
 * database, and the state derived there. Equal to am_state_digest()
 * unless the materialised state is wrong.
 */
AM_NODISCARD int am_state_refold(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES],
	uint8_t digest_out[static AM_HASH_BYTES]);

/* Compares the stored state of circle (its facts, from which every read
 * derives the state) with the facts its raw entries give when replayed,
 * both read in one snapshot: *same is true when they agree. */
AM_NODISCARD int am_state_replay(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES], bool *same);

/* ---- display names (NAME entries) ---- */

/* The display name a person signed for themselves in a circle. */
struct am_name {
	uint8_t id[AM_ID_BYTES];         /* its author */
	char *name;                      /* as signed: other people's text */
	uint64_t seq;                    /* of the NAME in its author's feed */
	int64_t time;                    /* claimed, ms */
	uint8_t entry[AM_HASH_BYTES];    /* the NAME entry */
};

/*
 * The display names of circle that count (protocol/state.md, "Names"):
 * one per joined member or witness who wrote a NAME, the one of the
 * highest seq in their feed; by ID. Free with am_state_names_free().
 * AM_ERR_NOT_FOUND when the store holds no GENESIS of circle.
 */
AM_NODISCARD int am_state_names(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES], struct am_name **out,
	size_t *n);
void am_state_names_free(struct am_name **list, size_t n);

#endif
