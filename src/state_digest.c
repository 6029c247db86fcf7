/*
 * The whole-circle walk behind am_state_violations() and the state digest:
 * every derivation runs with a sink that notes what it looked at, a sweep
 * names every remaining fact (an answer to nothing this node has, a second
 * genesis, ...), and the digest hashes the derived state in the canonical
 * order of protocol/state.md, "State digest".
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "state.h"
#include "store_impl.h"

static const char digest_tag[] = "amends-state-v6";

static void
put_u8(crypto_generichash_state *h, unsigned v)
{
	uint8_t b = (uint8_t)v;
	if (h != NULL)
		crypto_generichash_update(h, &b, 1);
}

static void
put_u64(crypto_generichash_state *h, uint64_t v)
{
	uint8_t b[8];
	if (h == NULL)
		return;
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
	crypto_generichash_update(h, b, 8);
}

static void
put32(crypto_generichash_state *h, const uint8_t *p)
{
	static const uint8_t zero[32];
	if (h != NULL)
		crypto_generichash_update(h, p ? p : zero, 32);
}

static void
hash_sigs(crypto_generichash_state *h, const struct am_signature *s, uint32_t n)
{
	put_u64(h, n);
	for (uint32_t i = 0; i < n; i++) {
		put32(h, s[i].id);
		put_u8(h, s[i].position);
		put32(h, s[i].position != AM_POS_NONE ? s[i].entry : NULL);
	}
}

static void
hash_marks(crypto_generichash_state *h, const struct am_mark *m, uint32_t n)
{
	put_u64(h, n);
	for (uint32_t i = 0; i < n; i++) {
		put32(h, m[i].id);
		put_u8(h, m[i].kind);
		put32(h, m[i].entry);
	}
}

static void
hash_members(crypto_generichash_state *h, const struct st_circle *c)
{
	put_u8(h, 'G');
	put_u8(h, c->has_genesis);
	put32(h, c->has_genesis ? c->creator : NULL);
	put32(h, c->has_genesis ? c->genesis : NULL);
	put_u64(h, c->nmembers);
	for (size_t i = 0; i < c->nmembers; i++) {
		const struct am_member *m = &c->members[i];
		put_u8(h, 'M');
		put32(h, m->id);
		put_u8(h, m->role);
		put_u8(h, m->departure_kind != 0 ? AM_MEMBER_DEPARTED : m->status);
		put32(h, m->creator ? NULL : m->proposal);
		put32(h, m->departure_kind != 0 ? m->departure : NULL);
	}
	/* the circle's name: the RENAME that gives it, zero for the GENESIS */
	put_u8(h, 'N');
	put32(h, c->renamed != NULL ? c->rename : NULL);
}

static void
hash_agreement(crypto_generichash_state *h, const struct st_agreement *a)
{
	put_u8(h, 'A');
	put32(h, a->a.id);
	/* without a clock: a notice end is "ending" with its date */
	put_u8(h, st_agreement_status(a, INT64_MIN));
	put32(h, a->current ? a->current->v.hash : NULL);
	put32(h, a->newest->v.hash);
	put_u8(h, a->end != NULL);
	if (a->end != NULL) {
		put32(h, a->end->hash);
		put_u8(h, a->end->mutual);
		put_u64(h, (uint64_t)a->end->end_at);
		hash_sigs(h, a->end->sigs, a->end->nsigs);
	}
	put_u64(h, a->a.nversions);
	for (size_t i = 0; i < a->nversions; i++) {
		const struct st_version *v = &a->versions[i];
		if (!v->valid)
			continue;
		put_u8(h, 'V');
		put32(h, v->v.hash);
		put_u64(h, v->v.depth);
		put_u8(h, v->v.status);
		hash_sigs(h, v->v.sigs, v->v.nsigs);
		hash_sigs(h, v->v.others, v->v.nothers);
	}
}

static void
hash_checkins(crypto_generichash_state *h, const struct am_checkin *v, size_t n)
{
	put_u64(h, n);
	for (size_t i = 0; i < n; i++) {
		put_u8(h, 'C');
		put32(h, v[i].hash);
		put_u8(h, v[i].counts);
		put32(h, v[i].correction ? v[i].corrects : NULL);
		put_u8(h, v[i].verified);
		put_u8(h, v[i].disputed);
		hash_marks(h, v[i].marks, v[i].nmarks);
		hash_marks(h, v[i].answers, v[i].nanswers);
	}
}

static int
walk_agreements(struct st_circle *c, crypto_generichash_state *h)
{
	uint8_t (*ids)[32] = NULL;
	size_t nids = 0;
	int rc = st_proposals(c->db, c->id, &ids, &nids);
	for (size_t i = 0; i < nids && rc == AM_OK; i++) {
		struct st_agreement a;
		struct am_checkin *ci;
		size_t nci;
		if ((rc = st_agreement_load(c, ids[i], &a)) != AM_OK)
			break;
		if (a.valid) {
			hash_agreement(h, &a);
			if ((rc = st_checkins_load(c, &a, &ci, &nci)) == AM_OK) {
				hash_checkins(h, ci, nci);
				am_state_checkins_free(&ci, nci);
			}
		}
		st_agreement_finish(&a);
	}
	free(ids);
	return rc;
}

static int
walk_statements(struct st_circle *c, crypto_generichash_state *h)
{
	struct am_statement *v;
	size_t n;
	int rc = st_statements_load(c, NULL, NULL, &v, &n);
	if (rc != AM_OK)
		return rc;
	put_u64(h, n);
	for (size_t i = 0; i < n; i++) {
		put_u8(h, 'S');
		put32(h, v[i].hash);
		put32(h, v[i].has_about ? v[i].about : NULL);
		hash_marks(h, v[i].marks, v[i].nmarks);
	}
	am_state_statements_free(&v, n);
	return AM_OK;
}

/* The display names that count, by author: 'N' author entry. */
static int
walk_names(struct st_circle *c, crypto_generichash_state *h)
{
	struct am_name *v;
	size_t n;
	int rc = st_names_load(c, &v, &n);
	if (rc != AM_OK)
		return rc;
	put_u64(h, n);
	for (size_t i = 0; i < n; i++) {
		put_u8(h, 'N');
		put32(h, v[i].id);
		put32(h, v[i].entry);
	}
	st_names_free(v, n);
	return AM_OK;
}

/* CHECKPOINTs count when their author is a member. */
static int
walk_checkpoints(struct st_circle *c)
{
	sqlite3_stmt *st;
	int rc = st_prepare(c->db, "SELECT f.author, x.seq, e.hash "
		"FROM st_facts x JOIN feeds f ON f.id = x.feed "
		"JOIN entries e ON e.feed = x.feed AND e.seq = x.seq "
		"WHERE f.circle = ?1 AND x.kind = 12", &st);
	if (rc != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, c->id, 32, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint8_t author[32], hash[32];
		st_col32(st, 0, author);
		st_col32(st, 2, hash);
		uint64_t seq = (uint64_t)sqlite3_column_int64(st, 1);
		const char *why;
		uint32_t cut = st_cut_rule(c, author, seq, &why);
		if (cut != 0)
			st_sink_ignore(c->sink, author, seq, hash, AM_KIND_CHECKPOINT,
				cut, why);
		else if (st_member(c, author) != NULL)
			st_sink_seen(c->sink, author, seq);
		else
			st_sink_ignore(c->sink, author, seq, hash, AM_KIND_CHECKPOINT,
				AM_RULE_NOT_MEMBER,
				"a checkpoint by someone who is not a member of the circle");
	}
	st_finish(st);
	return st_done(rc);
}

static int
walk_forks(struct st_circle *c)
{
	sqlite3_stmt *st;
	int rc = st_prepare(c->db, "SELECT author, forked_at FROM feeds "
		"WHERE circle = ?1 AND forked_at IS NOT NULL", &st);
	if (rc != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, c->id, 32, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint8_t author[32];
		st_col32(st, 0, author);
		st_sink_ignore(c->sink, author, (uint64_t)sqlite3_column_int64(st, 1),
			NULL, 0, AM_RULE_FORKED,
			"its author signed two different entries at this number; "
			"this and every later entry of that feed are ignored");
	}
	st_finish(st);
	return st_done(rc);
}

const char *
am_rule_name(uint32_t rule)
{
	static const char *const names[] = {
		[AM_RULE_NOT_MEMBER] = "not-member",
		[AM_RULE_BAD_GENESIS] = "bad-genesis",
		[AM_RULE_WITNESS] = "witness",
		[AM_RULE_NOT_PARTY] = "not-party",
		[AM_RULE_PARTIES] = "parties",
		[AM_RULE_UNKNOWN_TARGET] = "unknown-target",
		[AM_RULE_WRONG_TARGET] = "wrong-target",
		[AM_RULE_ACCEPTED] = "accepted",
		[AM_RULE_NOT_IN_FORCE] = "not-in-force",
		[AM_RULE_NOT_CHECKER] = "not-checker",
		[AM_RULE_OWN] = "own",
		[AM_RULE_MEMBER] = "member",
		[AM_RULE_FORKED] = "forked",
		[AM_RULE_SUPERSEDED] = "superseded",
		[AM_RULE_UNKNOWN_KIND] = "unknown-kind",
		[AM_RULE_TIME] = "time",
		[AM_RULE_PERIOD] = "period",
		[AM_RULE_LEFT] = "left",
		[AM_RULE_REMOVED] = "removed",
		[AM_RULE_BODY] = "body",
		[AM_RULE_CAP] = "cap",
		[AM_RULE_SUCCEEDED] = "succeeded",
	};
	if (rule >= sizeof names / sizeof names[0] || names[rule] == NULL)
		return "?";
	return names[rule];
}

static int
cmp_key(const void *a, const void *b)
{
	const struct st_key *x = a, *y = b;
	int d = memcmp(x->author, y->author, 32);
	if (d != 0)
		return d;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int
cmp_violation(const void *a, const void *b)
{
	const struct am_violation *x = a, *y = b;
	int d = memcmp(x->author, y->author, 32);
	if (d != 0)
		return d;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

/* Is there an object hash in the circle, and of which kind? */
static int
target_kind(sqlite3_stmt *q, const uint8_t *hash, uint32_t *kind)
{
	sqlite3_reset(q);
	sqlite3_bind_blob(q, 1, hash, 32, SQLITE_TRANSIENT);
	int rc = sqlite3_step(q);
	*kind = rc == SQLITE_ROW ? (uint32_t)sqlite3_column_int(q, 0) : 0;
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? AM_OK : am_store_error(rc);
}

/* Names every fact no derivation looked at. */
static void
sweep_one(struct st_sink *k, sqlite3_stmt *q, const uint8_t *author,
	uint64_t seq, const uint8_t *hash, uint32_t kind, bool bare,
	int64_t time, const uint8_t *ref, bool has_ref)
{
	uint32_t tkind = 0;
	if (!am_kind_known(kind)) {
		st_sink_ignore(k, author, seq, hash, kind, AM_RULE_UNKNOWN_KIND,
			"a kind of entry this version of amends does not know");
		return;
	}
	if (!am_state_time_ok(time) || bare) {
		if (bare && am_state_time_ok(time)) {
			st_sink_ignore(k, author, seq, hash, kind, AM_RULE_BODY,
				"its body breaks the format of its kind");
			return;
		}
		st_sink_ignore(k, author, seq, hash, kind, AM_RULE_TIME,
			time < AM_TIME_MIN ?
			"claims a time before 2000, outside the times the state reads" :
			"claims a time in 2200 or later, outside the times the state reads");
		return;
	}
	/* a known kind with a bare fact within the bounds: its body broke
	 * the bounds of its kind (only kinds after format 1 get here) */
	if (bare) {
		st_sink_ignore(k, author, seq, hash, kind, AM_RULE_BODY,
			"its body breaks the format or the bounds of its kind");
		return;
	}
	if (has_ref && target_kind(q, ref, &tkind) != AM_OK)
		k->rc = AM_ERR_DB;
	switch (kind) {
	case AM_KIND_GENESIS:
		st_sink_ignore(k, author, seq, hash, kind, AM_RULE_BAD_GENESIS,
			"a genesis that does not create this circle, or a second one");
		return;
	case AM_KIND_AMEND:
	case AM_KIND_END:
	case AM_KIND_CHECKIN:
		if (tkind == AM_KIND_PROPOSE)
			st_sink_ignore(k, author, seq, hash, kind, AM_RULE_WRONG_TARGET,
				"names an agreement that is ignored");
		else if (tkind != 0)
			st_sink_ignore(k, author, seq, hash, kind, AM_RULE_WRONG_TARGET,
				"names something that is not an agreement");
		else
			st_sink_ignore(k, author, seq, hash, kind, AM_RULE_UNKNOWN_TARGET,
				"names an agreement this node does not have");
		return;
	case AM_KIND_ACCEPT:
	case AM_KIND_DECLINE:
	case AM_KIND_CONFIRM:
	case AM_KIND_DISPUTE:
		if (tkind != 0)
			st_sink_ignore(k, author, seq, hash, kind, AM_RULE_WRONG_TARGET,
				"answers an entry that cannot be answered so, or that is ignored");
		else
			st_sink_ignore(k, author, seq, hash, kind, AM_RULE_UNKNOWN_TARGET,
				"answers an entry this node does not have");
		return;
	default:
		st_sink_ignore(k, author, seq, hash, kind, AM_RULE_NOT_MEMBER,
			"written in a circle whose genesis this node does not have");
		return;
	}
}

static int
sweep(struct st_circle *c)
{
	struct st_sink *k = c->sink;
	sqlite3_stmt *st, *q;
	int rc;

	if (k->nseen > 0)
		qsort(k->seen, k->nseen, sizeof *k->seen, cmp_key);
	if ((rc = st_prepare(c->db, "SELECT x.kind "
	    "FROM st_facts x JOIN feeds f ON f.id = x.feed "
	    "JOIN entries e ON e.feed = x.feed AND e.seq = x.seq "
	    "WHERE x.hkey = st_hkey(?1) AND e.hash = ?1 AND f.circle = ?2", &q)) != AM_OK)
		return rc;
	sqlite3_bind_blob(q, 2, c->id, 32, SQLITE_STATIC);
	if ((rc = st_prepare(c->db, "SELECT f.author, x.seq, e.hash, x.kind, x.ref, x.time "
	    "FROM st_facts x JOIN feeds f ON f.id = x.feed "
	    "JOIN entries e ON e.feed = x.feed AND e.seq = x.seq "
	    "WHERE f.circle = ?1 AND x.kind <> 12 AND x.kind <> 16", &st)) != AM_OK) {
		st_finish(q);
		return rc;
	}
	sqlite3_bind_blob(st, 1, c->id, 32, SQLITE_STATIC);
	size_t nseen = k->nseen;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct st_key key;
		uint8_t hash[32], ref[32];
		st_col32(st, 0, key.author);
		key.seq = (uint64_t)sqlite3_column_int64(st, 1);
		/* bsearch of an empty, NULL array is undefined (a circle whose
		 * genesis is ignored has nothing seen) */
		if (nseen > 0 && bsearch(&key, k->seen, nseen, sizeof *k->seen,
		    cmp_key) != NULL)
			continue;
		st_col32(st, 2, hash);
		st_col32(st, 4, ref);
		/* a bare fact (a kind this build does not know, a time out
		 * of bounds) is recorded negated */
		int kind = sqlite3_column_int(st, 3);
		/* an entry no reader reached, past its author's removal */
		const char *why;
		uint32_t cut = kind > 0 ? st_cut_rule(c, key.author, key.seq, &why) : 0;
		if (cut != 0) {
			st_sink_ignore(k, key.author, key.seq, hash, (uint32_t)kind,
				cut, why);
			continue;
		}
		/* a bare fact of a known kind, dated within the bounds,
		 * written after its author's LEAVE */
		const struct st_depart *lv = st_left(c, key.author);
		if (kind < 0 && am_kind_known((uint32_t)-kind) && lv != NULL &&
		    lv->seq < key.seq && am_state_time_ok(sqlite3_column_int64(st, 5))) {
			st_sink_ignore(k, key.author, key.seq, hash, (uint32_t)-kind,
				AM_RULE_LEFT, "written after its author left the circle");
			continue;
		}
		sweep_one(k, q, key.author, key.seq, hash,
			(uint32_t)(kind < 0 ? -kind : kind), kind < 0,
			sqlite3_column_int64(st, 5),
			ref, sqlite3_column_type(st, 4) != SQLITE_NULL);
	}
	st_finish(st);
	st_finish(q);
	return st_done(rc);
}

/* The full derivation of circle; hashes it into h when h is not NULL. */
static int
walk(sqlite3 *db, const uint8_t *circle, crypto_generichash_state *h,
	struct st_sink *k)
{
	struct st_circle c;
	int rc = st_circle_load(db, circle, k, &c);
	if (rc != AM_OK)
		return rc;
	hash_members(h, &c);
	if ((rc = walk_agreements(&c, h)) != AM_OK ||
	    (rc = walk_statements(&c, h)) != AM_OK ||
	    (rc = walk_names(&c, h)) != AM_OK ||
	    (rc = walk_checkpoints(&c)) != AM_OK ||
	    (rc = walk_forks(&c)) != AM_OK ||
	    (rc = sweep(&c)) != AM_OK)
		goto out;
	rc = k->rc;
	if (k->nv > 0)      /* qsort of an empty, NULL array is undefined */
		qsort(k->v, k->nv, sizeof *k->v, cmp_violation);
	put_u64(h, k->nv);
	for (size_t i = 0; i < k->nv; i++) {
		put_u8(h, 'X');
		put32(h, k->v[i].author);
		put_u64(h, k->v[i].seq);
		put_u8(h, k->v[i].rule);
	}
out:
	st_circle_finish(&c);
	return rc;
}

int
st_violations(sqlite3 *db, const uint8_t circle[static AM_HASH_BYTES],
	struct am_violation **out, size_t *n)
{
	struct st_sink k = { .rc = AM_OK };
	int rc = walk(db, circle, NULL, &k);
	free(k.seen);
	if (rc != AM_OK) {
		free(k.v);
		*out = NULL;
		*n = 0;
		return rc;
	}
	*out = k.v;
	*n = k.nv;
	return AM_OK;
}

int
st_digest(sqlite3 *db, const uint8_t circle[static AM_HASH_BYTES],
	uint8_t out[static AM_HASH_BYTES])
{
	struct st_sink k = { .rc = AM_OK };
	crypto_generichash_state h;
	crypto_generichash_init(&h, NULL, 0, AM_HASH_BYTES);
	crypto_generichash_update(&h, (const uint8_t *)digest_tag,
		sizeof digest_tag - 1);
	crypto_generichash_update(&h, circle, AM_HASH_BYTES);
	int rc = walk(db, circle, &h, &k);
	free(k.seen);
	free(k.v);
	if (rc == AM_OK)
		crypto_generichash_final(&h, out, AM_HASH_BYTES);
	return rc;
}
