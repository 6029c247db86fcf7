/*
 * am_state_check(): would an entry count? The CLI asks before writing so
 * that it refuses, with a sentence, exactly what the derived state would
 * ignore. It derives the current state with the same functions and
 * predicates as the fold (state_derive.c, state_checkin.c) and only words
 * their answers for the person about to write. On top of the fold it
 * refuses a few writes that would count but mean nothing (answering what
 * one has already accepted, touching an agreement that has ended); see
 * protocol/state.md, "Asking before writing".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"
#include "store_impl.h"

struct check {
	struct am_store *s;
	struct st_circle c;
	const uint8_t *author;
	char *why;
	size_t whylen;
};

static int
say(struct check *k, int rc, const char *fmt, ...)
{
	if (k->why != NULL && k->whylen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(k->why, k->whylen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* The kind and reference of object hash in the circle; kind 0 when none. */
static int
object(struct check *k, const uint8_t *hash, uint32_t *kind, uint8_t ref[32])
{
	sqlite3_stmt *st;
	int rc = st_prepare(k->c.db, "SELECT x.kind, x.ref "
		"FROM st_facts x JOIN feeds f ON f.id = x.feed "
		"JOIN entries e ON e.feed = x.feed AND e.seq = x.seq "
		"WHERE x.hkey = st_hkey(?1) AND e.hash = ?1 AND f.circle = ?2", &st);
	if (rc != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, k->c.id, 32, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*kind = rc == SQLITE_ROW ? (uint32_t)sqlite3_column_int(st, 0) : 0;
	if (rc == SQLITE_ROW)
		st_col32(st, 1, ref);
	st_finish(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? AM_OK : am_store_error(rc);
}

/* Loads agreement id, refusing one that does not exist or count. */
static int
agreement(struct check *k, const uint8_t *id, struct st_agreement *a)
{
	uint32_t kind;
	uint8_t ref[32];
	int rc = object(k, id, &kind, ref);
	if (rc != AM_OK)
		return rc;
	if (kind != AM_KIND_PROPOSE)
		return say(k, AM_ERR_NOT_FOUND, "there is no such agreement in this circle");
	if ((rc = st_agreement_load(&k->c, id, a)) != AM_OK)
		return rc;
	if (!a->valid) {
		st_agreement_finish(a);
		return say(k, AM_ERR_RULE, "that agreement breaks a rule and does not count");
	}
	return AM_OK;
}

static int
check_terms(struct check *k, const struct am_terms *t)
{
	if (!st_in_terms(t, k->author))
		return say(k, AM_ERR_RULE, "you must be one of the parties of the terms you write");
	for (uint32_t i = 0; i < t->nparties; i++) {
		const struct am_member *m = st_member(&k->c, t->parties[i]);
		char hex[9];
		am_hex(t->parties[i], 4, hex);
		if (m == NULL)
			return say(k, AM_ERR_RULE, "party %s is not a member of this circle", hex);
		if (st_departed(&k->c, t->parties[i]) != NULL)
			return say(k, AM_ERR_RULE, "party %s is no longer a member of this circle", hex);
		if (m->role == AM_ROLE_WITNESS)
			return say(k, AM_ERR_RULE, "party %s is a witness, and a witness cannot be a party", hex);
	}
	return AM_OK;
}

static int
check_member(struct check *k, const struct am_body *b)
{
	if (!st_is_party_member(&k->c, k->author))
		return say(k, AM_ERR_RULE, "a witness cannot propose members");
	if (st_left(&k->c, b->target) != NULL)
		return say(k, AM_ERR_RULE, "they left this circle, and nothing they "
			"write in it counts any more: they cannot join it again with that key");
	if (st_member(&k->c, b->target) != NULL)
		return say(k, AM_ERR_RULE, "they are already a member of this circle");
	return AM_OK;
}

static int
check_propose(struct check *k, const struct am_body *b)
{
	if (!st_is_party_member(&k->c, k->author))
		return say(k, AM_ERR_RULE, "a witness cannot propose terms");
	return check_terms(k, &b->terms);
}

static const struct st_version *
version(const struct st_agreement *a, const uint8_t *hash)
{
	for (size_t i = 0; i < a->nversions; i++)
		if (memcmp(a->versions[i].v.hash, hash, 32) == 0)
			return &a->versions[i];
	return NULL;
}

static int
check_amend(struct check *k, const struct am_body *b)
{
	struct st_agreement a;
	int rc;
	if (!st_is_party_member(&k->c, k->author))
		return say(k, AM_ERR_RULE, "a witness cannot amend terms");
	if ((rc = agreement(k, b->target, &a)) != AM_OK)
		return rc;
	const struct st_version *base = version(&a, b->base);
	if (a.end != NULL)
		rc = say(k, AM_ERR_RULE, "the agreement has ended or is ending");
	else if (base == NULL || !base->valid)
		rc = say(k, AM_ERR_NOT_FOUND, "the version amended is not one of this agreement's");
	else if (!st_in_terms(&base->v.body.terms, k->author))
		rc = say(k, AM_ERR_RULE, "you are not a party to this agreement");
	else
		rc = check_terms(k, &b->terms);
	st_agreement_finish(&a);
	return rc;
}

/* May the author answer terms t? */
static int
check_answerer(struct check *k, const struct am_terms *t, const char *what)
{
	const struct am_member *m = st_member(&k->c, k->author);
	if (m->role == AM_ROLE_WITNESS)
		return say(k, AM_ERR_RULE, "a witness cannot %s", what);
	if (!st_in_terms(t, k->author))
		return say(k, AM_ERR_RULE, "you are not a party to this agreement");
	return AM_OK;
}

/* May the author answer version v? Everyone whose acceptance it needs
 * may: its parties, and the parties of what it replaces
 * (protocol/state.md, "Versions"). */
static int
check_version_answerer(struct check *k, const struct st_version *v)
{
	const struct am_member *m = st_member(&k->c, k->author);
	if (m->role == AM_ROLE_WITNESS)
		return say(k, AM_ERR_RULE, "a witness cannot accept or decline terms");
	for (uint32_t i = 0; i < v->nneed; i++)
		if (memcmp(v->need[i], k->author, 32) == 0)
			return AM_OK;
	return say(k, AM_ERR_RULE, "your acceptance is not asked for this version");
}

static int
check_end(struct check *k, const struct am_body *b)
{
	struct st_agreement a;
	int rc = agreement(k, b->target, &a);
	if (rc != AM_OK)
		return rc;
	if (a.end != NULL && a.end->at_once)
		rc = say(k, AM_ERR_RULE, "the agreement has already ended");
	else if (a.end != NULL)
		rc = say(k, AM_ERR_RULE, "the agreement is already ending; accept that end to end it at once");
	else
		rc = check_answerer(k, st_end_terms(&a), "end an agreement");
	st_agreement_finish(&a);
	return rc;
}

/* Did the newcomer of member proposal p answer it first with a DECLINE?
 * That refusal is final (protocol/state.md, "Membership"). */
static int
refused(struct check *k, const struct st_proposal *p, bool *yes)
{
	sqlite3_stmt *st;
	*yes = false;
	if (memcmp(p->target, p->author, 32) == 0)
		return AM_OK;
	int rc = st_prepare(k->c.db, "SELECT x.kind FROM st_facts x "
		"JOIN feeds f ON f.id = x.feed WHERE f.circle = ?1 AND f.author = ?2 "
		"AND x.kind IN (5, 6) AND x.ref = ?3 ORDER BY x.seq LIMIT 1", &st);
	if (rc != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, k->c.id, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, p->target, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, p->hash, 32, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*yes = rc == SQLITE_ROW && sqlite3_column_int(st, 0) == AM_KIND_DECLINE;
	st_finish(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? AM_OK : am_store_error(rc);
}

/* Is the author among those whose consent p needs? They may answer p
 * before they have joined. */
static int
needed(struct check *k, const struct st_proposal *p, bool *yes)
{
	uint8_t (*ids)[AM_ID_BYTES] = NULL;
	size_t n = 0;
	int rc = am_state_proposal_needs(k->s, k->c.id, p->hash, &ids, &n);
	*yes = false;
	for (size_t i = 0; rc == AM_OK && i < n; i++)
		*yes = *yes || memcmp(ids[i], k->author, 32) == 0;
	free(ids);
	return rc;
}

static int
answer_proposal(struct check *k, const struct am_body *b)
{
	const struct st_proposal *p = NULL;
	bool need = false, gone = false;
	int rc;
	for (size_t i = 0; i < k->c.nprops; i++)
		if (memcmp(k->c.props[i].hash, b->target, 32) == 0)
			p = &k->c.props[i];
	if (p == NULL)
		return say(k, AM_ERR_NOT_FOUND, "there is no such member proposal in this circle");
	bool newcomer = memcmp(p->target, k->author, 32) == 0;
	bool own = memcmp(p->author, k->author, 32) == 0;
	bool accepted = own;
	for (uint32_t i = 0; i < p->naccepts; i++)
		accepted = accepted || memcmp(p->accepts[i], k->author, 32) == 0;
	if (!newcomer && st_member(&k->c, k->author) == NULL) {
		if ((rc = needed(k, p, &need)) != AM_OK)
			return rc;
		if (!need)
			return say(k, AM_ERR_NOT_MEMBER, "you are not a member of this circle");
	}
	if (st_member(&k->c, p->target) != NULL)
		return say(k, AM_ERR_RULE, "they are already a member of this circle");
	if (!st_is_party_member(&k->c, p->author))
		return say(k, AM_ERR_RULE, "that member proposal breaks a rule and does not count");
	if ((rc = refused(k, p, &gone)) != AM_OK)
		return rc;
	/* a refused proposal never completes: any answer to it is dead */
	if (gone && newcomer)
		return say(k, AM_ERR_RULE, "you declined to join through this proposal, "
			"and that first answer is final; a member must propose you again");
	if (gone)
		return say(k, AM_ERR_RULE, "they declined to join through this proposal, "
			"and that answer is final; propose them again instead");
	if (p->refused && newcomer)
		return say(k, AM_ERR_RULE, "someone whose consent this proposal needs "
			"declined it, and that first answer is final; a member must "
			"propose you again");
	if (p->refused)
		return say(k, AM_ERR_RULE, "someone whose consent this proposal needs "
			"declined it, and that first answer is final; propose them "
			"again instead");
	/* a withdrawal: its author's DECLINE, while it is incomplete */
	if (own && b->kind == AM_KIND_DECLINE && p->consented)
		return say(k, AM_ERR_RULE, "everyone this proposal needs has "
			"accepted it: it is complete, and a withdrawal cannot undo that");
	if (own && b->kind == AM_KIND_DECLINE && p->withdrawn)
		return say(k, AM_ERR_RULE, "you have already withdrawn this proposal");
	if (own && b->kind == AM_KIND_DECLINE)
		return AM_OK;
	if (p->withdrawn && b->kind == AM_KIND_ACCEPT)
		return say(k, AM_ERR_RULE, "its author withdrew this proposal; "
			"a member must propose them again");
	if (accepted)
		return say(k, AM_ERR_RULE, b->kind == AM_KIND_ACCEPT ?
			"you have already accepted this" :
			"you have already accepted this, and acceptance is final");
	return AM_OK;
}

/* The rules a removal's and a succession's answers share (what, either
 * word, names it): those its consent needs answer once, their first
 * answer final; its author withdraws it by declining it while it is
 * incomplete, and completion wins. */
static int
answer_once(struct check *k, const struct st_proposal *p,
	const struct am_body *b, const char *what)
{
	bool own = memcmp(p->author, k->author, 32) == 0;
	if (p->refused)
		return say(k, AM_ERR_RULE, "someone whose consent this %s needs "
			"declined it, and that first answer is final", what);
	if (own && b->kind == AM_KIND_DECLINE && p->consented)
		return say(k, AM_ERR_RULE, "everyone this %s needs has accepted "
			"it: a withdrawal cannot undo that", what);
	if (own && b->kind == AM_KIND_DECLINE && p->withdrawn)
		return say(k, AM_ERR_RULE, "you have already withdrawn this %s", what);
	if (own && b->kind == AM_KIND_DECLINE)
		return AM_OK;
	if (own)
		return say(k, AM_ERR_RULE, "you proposed this %s: writing it was "
			"your acceptance", what);
	if (p->withdrawn && b->kind == AM_KIND_ACCEPT)
		return say(k, AM_ERR_RULE, "its author withdrew this %s", what);
	for (uint32_t i = 0; i < p->naccepts; i++)
		if (memcmp(p->accepts[i], k->author, 32) == 0)
			return say(k, AM_ERR_RULE, "you have already accepted this, "
				"and your first answer is final");
	for (uint32_t i = 0; i < p->ndeclines; i++)
		if (memcmp(p->declines[i], k->author, 32) == 0)
			return say(k, AM_ERR_RULE, "you have already declined this, "
				"and your first answer is final");
	return AM_OK;
}

/* May the author answer removal b->target? Those its consent needs
 * answer once, and their first answer is final; its author withdraws it
 * by declining it while it is incomplete (protocol/state.md, "Removal"). */
static int
answer_removal(struct check *k, const struct am_body *b)
{
	const struct st_proposal *p = NULL;
	for (size_t i = 0; i < k->c.nprops; i++)
		if (memcmp(k->c.props[i].hash, b->target, 32) == 0)
			p = &k->c.props[i];
	bool asked = p != NULL && st_consent_needs(&k->c, p, k->author);
	if (st_member(&k->c, k->author) == NULL && !asked)
		return say(k, AM_ERR_NOT_MEMBER, "you are not a member of this circle");
	if (p == NULL || !st_is_party_member(&k->c, p->author) ||
	    st_member(&k->c, p->target) == NULL ||
	    memcmp(p->author, p->target, 32) == 0)
		return say(k, AM_ERR_RULE, "that removal breaks a rule and does not count");
	if (memcmp(p->target, k->author, 32) == 0)
		return say(k, AM_ERR_RULE, "this removal is of you: you are not "
			"asked to answer it");
	if (p->effective)
		return say(k, AM_ERR_RULE, "this removal has taken effect");
	if (st_departed(&k->c, p->target) != NULL)
		return say(k, AM_ERR_RULE, "they are no longer a member of this circle");
	return answer_once(k, p, b, "removal");
}

static int
answer_version(struct check *k, const struct am_body *b, const uint8_t *id)
{
	struct st_agreement a;
	int rc = agreement(k, id, &a);
	if (rc != AM_OK)
		return rc;
	const struct st_version *v = version(&a, b->target);
	const struct am_signature *sg;
	bool own = v != NULL && memcmp(v->v.author, k->author, 32) == 0;
	if (v == NULL || !v->valid)
		rc = say(k, AM_ERR_RULE, "that version breaks a rule and does not count");
	else if (a.end != NULL)
		rc = say(k, AM_ERR_RULE, "the agreement has ended or is ending");
	else if (v->v.status == AM_VERSION_PASSED_OVER)
		rc = say(k, AM_ERR_RULE, "that version was passed over: the version "
			"in force came after it, and it will never be in force");
	else if ((rc = check_version_answerer(k, v)) != AM_OK)
		;
	/* its author declining it withdraws it, unless it counts */
	else if (own && b->kind == AM_KIND_DECLINE && v->full)
		rc = say(k, AM_ERR_RULE, "everyone this version needs has accepted "
			"it: a withdrawal cannot undo that; to leave it, end the agreement");
	else if (own && b->kind == AM_KIND_DECLINE && v->v.withdrawn)
		rc = say(k, AM_ERR_RULE, "you have already withdrawn this version");
	else if (own && b->kind == AM_KIND_DECLINE)
		rc = AM_OK;
	else if (v->v.withdrawn && b->kind == AM_KIND_ACCEPT)
		rc = say(k, AM_ERR_RULE, "its author withdrew this version");
	else if (((sg = st_sig(v->v.sigs, v->v.nsigs, k->author)) != NULL ||
	    (sg = st_sig(v->v.others, v->v.nothers, k->author)) != NULL) &&
	    sg->position == AM_POS_ACCEPTED)
		rc = say(k, AM_ERR_RULE, b->kind == AM_KIND_ACCEPT ?
			"you have already accepted this version" :
			"you have already accepted this version; to leave it, end the agreement");
	st_agreement_finish(&a);
	return rc;
}

static int
answer_end(struct check *k, const struct am_body *b, const uint8_t *id)
{
	struct st_agreement a;
	int rc = agreement(k, id, &a);
	if (rc != AM_OK)
		return rc;
	const struct st_end *e = NULL;
	const struct am_signature *sg;
	for (size_t i = 0; i < a.nends; i++)
		if (memcmp(a.ends[i].hash, b->target, 32) == 0)
			e = &a.ends[i];
	if (e == NULL || !e->valid)
		rc = say(k, AM_ERR_RULE, "that end breaks a rule and does not count");
	else if (e->at_once)
		rc = say(k, AM_ERR_RULE, "that end has already taken effect");
	else if ((rc = check_answerer(k, st_end_terms(&a), "accept or decline an end")) != AM_OK)
		;
	else if (memcmp(e->author, k->author, 32) == 0)
		rc = say(k, AM_ERR_RULE, "an end is final: its author cannot take it "
			"back; to go on, propose the agreement again");
	else if ((sg = st_sig(e->sigs, e->nsigs, k->author)) != NULL &&
	    sg->position == AM_POS_ACCEPTED)
		rc = say(k, AM_ERR_RULE, "you have already accepted this end");
	st_agreement_finish(&a);
	return rc;
}

/* May the author answer succession b->target? Its new key and those its
 * consent needs answer once; each person's first acceptance of a new key
 * for someone is final; its author withdraws it by declining it while it
 * is incomplete. */
static int
answer_succession(struct check *k, const struct am_body *b)
{
	const struct st_proposal *p = NULL;
	for (size_t i = 0; i < k->c.nprops; i++)
		if (memcmp(k->c.props[i].hash, b->target, 32) == 0)
			p = &k->c.props[i];
	if (p == NULL)
		return say(k, AM_ERR_NOT_FOUND, "there is no such entry in this circle");
	bool own = memcmp(p->author, k->author, 32) == 0;
	bool heir = memcmp(p->heir, k->author, 32) == 0;
	bool asked = st_consent_needs(&k->c, p, k->author);
	if (st_member(&k->c, k->author) == NULL && !asked && !heir)
		return say(k, AM_ERR_NOT_MEMBER, "you are not a member of this circle");
	if (st_member(&k->c, p->target) == NULL ||
	    memcmp(p->heir, p->target, 32) == 0 ||
	    (memcmp(p->author, p->target, 32) != 0 &&
	    !st_is_party_member(&k->c, p->author)))
		return say(k, AM_ERR_RULE, "that succession breaks a rule and does not count");
	if (p->effective)
		return say(k, AM_ERR_RULE, "this new key has taken their place already");
	if (st_departed(&k->c, p->target) != NULL)
		return say(k, AM_ERR_RULE, "the key it replaces is no longer a member's: "
			"they left, were removed, or another new key took their place");
	/* the old key may object: its DECLINE refuses nothing (the key may
	 * be a thief's) but is shown to those asked */
	if (memcmp(p->target, k->author, 32) == 0 && !own &&
	    b->kind == AM_KIND_ACCEPT)
		return say(k, AM_ERR_RULE, "this succession replaces your key: the "
			"others decide; you may decline it to object");
	int rc = answer_once(k, p, b, "succession");
	if (rc != AM_OK || (own && b->kind == AM_KIND_DECLINE))
		return rc;
	if (b->kind == AM_KIND_ACCEPT &&
	    st_backed_other(&k->c, k->author, p->target, p))
		return say(k, AM_ERR_RULE, "you have already accepted another new key "
			"for them, and your first acceptance is final: this one can "
			"only be declined");
	return AM_OK;
}

/* A SUCCESSION is written by the key it replaces or by a joined member
 * (not a witness), of a joined person still here, to a key that is not
 * a member's. Someone other than the old key must accept it. */
static int
check_succession(struct check *k, const struct am_body *b)
{
	bool self = memcmp(b->target, k->author, 32) == 0;
	if (!self && !st_is_party_member(&k->c, k->author))
		return say(k, AM_ERR_RULE, "a witness can propose a new key only for "
			"themselves");
	if (st_member(&k->c, b->target) == NULL)
		return say(k, AM_ERR_RULE, "they are not a member of this circle");
	if (st_departed(&k->c, b->target) != NULL)
		return say(k, AM_ERR_RULE, "they are no longer a member of this circle");
	if (memcmp(b->heir, b->target, 32) == 0)
		return say(k, AM_ERR_RULE, "the new key is the old one");
	for (size_t i = 0; i < k->c.nmembers; i++)
		if (memcmp(k->c.members[i].id, b->heir, 32) == 0)
			return say(k, AM_ERR_RULE, "the new key is already in this "
				"circle: a new key must be one nobody here has");
	if (st_backed_other(&k->c, k->author, b->target, NULL))
		return say(k, AM_ERR_RULE, "you have already proposed or accepted a "
			"new key for them, and your first acceptance is final");
	if (memcmp(b->heir, k->author, 32) == 0)
		return say(k, AM_ERR_RULE, "the new key is yours: a new key is "
			"the one the person whose place it takes now holds");
	bool other = false;
	for (size_t i = 0; i < k->c.nmembers && !other; i++) {
		const struct am_member *m = &k->c.members[i];
		other = m->status == AM_MEMBER_JOINED && m->departure_kind == 0 &&
			memcmp(m->id, b->target, 32) != 0 &&
			memcmp(m->id, k->author, 32) != 0;
	}
	if (!other)
		return say(k, AM_ERR_RULE, "a new key needs someone other than you "
			"and the one it replaces to accept it, and there is nobody: "
			"with only the two of you, the one whose key it is writes it "
			"while the key still works, or a witness joins first");
	return AM_OK;
}

static int
check_answer(struct check *k, const struct am_body *b)
{
	uint32_t kind;
	uint8_t ref[32];
	int rc = object(k, b->target, &kind, ref);
	if (rc != AM_OK)
		return rc;
	if (kind == 0)
		return say(k, AM_ERR_NOT_FOUND, "there is no such entry in this circle");
	if (kind == AM_KIND_MEMBER)
		return answer_proposal(k, b);
	if (kind == AM_KIND_REMOVE)
		return answer_removal(k, b);
	if (kind == AM_KIND_SUCCESSION)
		return answer_succession(k, b);
	if (st_member(&k->c, k->author) == NULL)
		return say(k, AM_ERR_NOT_MEMBER, "you are not a member of this circle");
	switch (kind) {
	case AM_KIND_PROPOSE:
		return answer_version(k, b, b->target);
	case AM_KIND_AMEND:
		return answer_version(k, b, ref);
	case AM_KIND_END:
		return answer_end(k, b, ref);
	default:
		return say(k, AM_ERR_RULE, "only versions, member proposals, removals, "
			"successions and ends can be accepted or declined");
	}
}

static int
check_checkin(struct check *k, const struct am_body *b)
{
	struct st_agreement a;
	const char *why;
	int rc = agreement(k, b->target, &a);
	if (rc != AM_OK)
		return rc;
	char period[AM_MAX_PERIOD + 1];
	snprintf(period, sizeof period, "%.*s", (int)b->period.n,
		b->period.p != NULL ? b->period.p : "");
	uint32_t rule = st_checkin_rule(&k->c, &a, k->author, period, &why);
	if (rule == AM_RULE_NOT_IN_FORCE)
		rc = say(k, AM_ERR_RULE, "the agreement is not in force");
	else if (rule == AM_RULE_WITNESS)
		rc = say(k, AM_ERR_RULE, "a witness cannot check in");
	else if (rule == AM_RULE_NOT_CHECKER)
		rc = say(k, AM_ERR_RULE, "you are not one of those who check in for this agreement");
	else if (a.end != NULL && a.end->at_once)
		rc = say(k, AM_ERR_RULE, "the agreement has ended");
	else if (rule == AM_RULE_PERIOD)
		rc = say(k, AM_ERR_RULE, "a check-in for %s would not count: %s",
			period, why);
	else if (rule != 0)
		rc = say(k, AM_ERR_RULE, "%s", why);
	st_agreement_finish(&a);
	return rc;
}

static int
mark_checkin(struct check *k, const struct am_body *b, const uint8_t *id)
{
	struct st_agreement a;
	struct am_checkin *v = NULL;
	size_t n = 0;
	const struct am_checkin *ci = NULL;
	int rc = agreement(k, id, &a);
	if (rc != AM_OK)
		return rc;
	if ((rc = st_checkins_load(&k->c, &a, &v, &n)) != AM_OK)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (memcmp(v[i].hash, b->target, 32) == 0)
			ci = &v[i];
	if (ci == NULL)
		rc = say(k, AM_ERR_RULE, "that check-in breaks a rule and does not count");
	else if (memcmp(ci->author, k->author, 32) == 0)
		rc = say(k, AM_ERR_RULE, "you cannot confirm or dispute your own check-in");
	else if (!st_may_mark(&k->c, &a, k->author))
		rc = say(k, AM_ERR_RULE, "you are not a party to this agreement");
out:
	am_state_checkins_free(&v, n);
	st_agreement_finish(&a);
	return rc;
}

static int
mark_statement(struct check *k, const struct am_body *b)
{
	struct am_statement *v = NULL;
	size_t n = 0;
	const struct am_statement *s = NULL;
	if (b->kind == AM_KIND_DISPUTE)
		return say(k, AM_ERR_RULE, "only check-ins can be disputed");
	int rc = st_statements_load(&k->c, NULL, NULL, &v, &n);
	if (rc != AM_OK)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (memcmp(v[i].hash, b->target, 32) == 0)
			s = &v[i];
	if (s == NULL)
		rc = say(k, AM_ERR_RULE, "that statement breaks a rule and does not count");
	else if (memcmp(s->author, k->author, 32) == 0)
		rc = say(k, AM_ERR_RULE, "you cannot confirm your own statement");
	am_state_statements_free(&v, n);
	return rc;
}

static int
check_mark(struct check *k, const struct am_body *b)
{
	uint32_t kind;
	uint8_t ref[32];
	int rc = object(k, b->target, &kind, ref);
	if (rc != AM_OK)
		return rc;
	if (kind == 0)
		return say(k, AM_ERR_NOT_FOUND, "there is no such entry in this circle");
	if (kind == AM_KIND_CHECKIN)
		return mark_checkin(k, b, ref);
	if (kind == AM_KIND_STATEMENT)
		return mark_statement(k, b);
	return say(k, AM_ERR_RULE, b->kind == AM_KIND_DISPUTE ?
		"only check-ins can be disputed" :
		"only check-ins and statements can be confirmed");
}

static int
check_statement(struct check *k, const struct am_body *b)
{
	struct st_agreement a;
	int rc;
	if (!b->has_target)
		return AM_OK;
	if ((rc = agreement(k, b->target, &a)) != AM_OK)
		return rc;
	st_agreement_finish(&a);
	return AM_OK;
}

/* A RENAME names as base the entry that gives the circle its name now
 * (am_state_circle_name): the GENESIS, or the RENAME that counts. Any
 * RENAME that counts would do for the state; naming the current one
 * makes the new name the deepest. */
static int
check_rename(struct check *k, const struct am_body *b)
{
	const char *why;
	if (st_rename_rule(&k->c, k->author, b->base, &why) != 0)
		return say(k, AM_ERR_RULE, st_is_party_member(&k->c, k->author) ?
			"you are not a member of this circle" :
			"a witness cannot rename the circle");
	const uint8_t *now = k->c.renamed != NULL ? k->c.rename : k->c.genesis;
	if (memcmp(b->base, now, 32) != 0)
		return say(k, AM_ERR_RULE, "a rename names the circle's current name "
			"as the one it replaces");
	return AM_OK;
}

/*
 * A REMOVE counts when a joined member (not a witness) writes it of
 * another joined person; it takes effect once everyone its consent needs
 * has accepted, among them another joined member (protocol/state.md,
 * "Removal"). The writer refuses one that could never take effect: with
 * nobody else here to accept it, in a circle of two, leaving is the way.
 */
static int
check_remove(struct check *k, const struct am_body *b)
{
	if (!st_is_party_member(&k->c, k->author))
		return say(k, AM_ERR_RULE, "a witness cannot propose removing anyone");
	if (memcmp(b->target, k->author, 32) == 0)
		return say(k, AM_ERR_RULE, "to go, leave the circle (amends circle "
			"leave); a removal is of someone else");
	if (st_member(&k->c, b->target) == NULL)
		return say(k, AM_ERR_RULE, "they are not a member of this circle");
	if (st_departed(&k->c, b->target) != NULL)
		return say(k, AM_ERR_RULE, "they are no longer a member of this circle");
	bool other = false;
	for (size_t i = 0; i < k->c.nmembers && !other; i++) {
		const struct am_member *m = &k->c.members[i];
		other = m->status == AM_MEMBER_JOINED && m->departure_kind == 0 &&
			memcmp(m->id, k->author, 32) != 0 &&
			memcmp(m->id, b->target, 32) != 0;
	}
	if (!other)
		return say(k, AM_ERR_RULE, "a removal needs another member to accept "
			"it, and there is none: with only the two of you, leave the "
			"circle instead");
	return AM_OK;
}

static int
check_body(struct check *k, const struct am_body *b)
{
	if (!k->c.has_genesis)
		return say(k, AM_ERR_NOT_FOUND, "this node does not have that circle");
	/* after one's own LEAVE, nothing one writes counts (AM_RULE_LEFT) */
	if (st_left(&k->c, k->author) != NULL)
		return say(k, AM_ERR_NOT_MEMBER, "you have left this circle");
	const struct st_depart *gone = st_removed(&k->c, k->author);
	if (gone != NULL && gone->kind == AM_KIND_SUCCESSION)
		return say(k, AM_ERR_NOT_MEMBER, "a new key has taken this key's "
			"place in this circle");
	if (gone != NULL)
		return say(k, AM_ERR_NOT_MEMBER, "you were removed from this circle");
	if (b->kind == AM_KIND_ACCEPT || b->kind == AM_KIND_DECLINE)
		return check_answer(k, b);
	if (st_member(&k->c, k->author) == NULL)
		return say(k, AM_ERR_NOT_MEMBER, "you are not a member of this circle");
	switch (b->kind) {
	case AM_KIND_MEMBER:
		return check_member(k, b);
	case AM_KIND_PROPOSE:
		return check_propose(k, b);
	case AM_KIND_AMEND:
		return check_amend(k, b);
	case AM_KIND_END:
		return check_end(k, b);
	case AM_KIND_CHECKIN:
		return check_checkin(k, b);
	case AM_KIND_CONFIRM:
	case AM_KIND_DISPUTE:
		return check_mark(k, b);
	case AM_KIND_STATEMENT:
		return check_statement(k, b);
	case AM_KIND_CHECKPOINT:
	case AM_KIND_NAME:
	case AM_KIND_LEAVE:
		return AM_OK;
	case AM_KIND_RENAME:
		return check_rename(k, b);
	case AM_KIND_REMOVE:
		return check_remove(k, b);
	case AM_KIND_SUCCESSION:
		return check_succession(k, b);
	default:
		return say(k, AM_ERR_ARG, "unknown kind of entry");
	}
}

int
am_state_check(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t author[static AM_ID_BYTES], const struct am_body *b,
	char *why, size_t whylen)
{
	struct check k = { .s = s, .author = author, .why = why, .whylen = whylen };
	sqlite3 *db = am_store_sqlite(s);
	int rc;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	/* a genesis makes its own circle: nothing to check against */
	if (b->kind == AM_KIND_GENESIS)
		return AM_OK;
	bool began = st_read_begin(db);
	if ((rc = st_circle_load(db, circle, NULL, &k.c)) == AM_OK) {
		rc = check_body(&k, b);
		st_circle_finish(&k.c);
	}
	st_read_end(db, began);
	if (rc != AM_OK && why != NULL && whylen > 0 && why[0] == '\0')
		snprintf(why, whylen, "%s", am_strerror(rc));
	return rc;
}

int
am_state_check_time(int64_t time, char *why, size_t whylen)
{
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (am_state_time_ok(time))
		return AM_OK;
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "the clock says a time %s; the state "
			"ignores entries dated outside 2000 to 2199, so nothing was "
			"written", time < AM_TIME_MIN ? "before 2000" : "in 2200 or later");
	return AM_ERR_RULE;
}
