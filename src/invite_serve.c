/*
 * The inviter's side of the join exchange (include/amends/invite.h,
 * am_invite_serve): checks a joiner's request against the pending invite
 * it names, claims the invite once, proposes the joiner as a member in the
 * inviter's feed and answers with a signed preview of the circle (no feed
 * entry), takes the joiner's ACCEPT or DECLINE, and serves the circle's
 * entries in bounded batches only once the joiner is a joined member
 * (protocol/invite.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "amends/invite.h"
#include "amends/state.h"
#include "invite_impl.h"
#include "mp.h"
#include "store_impl.h"

struct invite_row {
	uint8_t circle[AM_HASH_BYTES];
	uint32_t role;
	int64_t expires;
	bool used;
	uint8_t used_by[AM_ID_BYTES];
	int64_t used_at;
	bool has_proposal;
	uint8_t proposal[AM_HASH_BYTES];
	bool revoked;                /* its maker revoked it */
};

static int
row_get(struct am_store *s, const uint8_t *key, struct invite_row *r)
{
	sqlite3_stmt *st;
	int rc = am_store_error(sqlite3_prepare_v2(am_store_sqlite(s),
		"SELECT circle, role, expires, used_by, coalesce(used_at, 0), proposal, "
		"(SELECT count(*) FROM invites_revoked v WHERE v.key = i.key) "
		"FROM invites i WHERE key = ?1", -1, &st, NULL));
	if (rc != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, key, AM_CURVE_BYTES, SQLITE_STATIC);
	rc = sqlite3_step(st);
	memset(r, 0, sizeof *r);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) == AM_HASH_BYTES)
			memcpy(r->circle, sqlite3_column_blob(st, 0), AM_HASH_BYTES);
		r->role = (uint32_t)sqlite3_column_int(st, 1);
		r->expires = sqlite3_column_int64(st, 2);
		r->used = sqlite3_column_bytes(st, 3) == AM_ID_BYTES;
		if (r->used)
			memcpy(r->used_by, sqlite3_column_blob(st, 3), AM_ID_BYTES);
		r->used_at = sqlite3_column_int64(st, 4);
		r->has_proposal = sqlite3_column_bytes(st, 5) == AM_HASH_BYTES;
		if (r->has_proposal)
			memcpy(r->proposal, sqlite3_column_blob(st, 5), AM_HASH_BYTES);
		r->revoked = sqlite3_column_int(st, 6) != 0;
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return AM_OK;
	return rc == SQLITE_DONE ? AM_ERR_NOT_FOUND : am_store_error(rc);
}

/* Marks the invite used by joiner, unless someone else used it first:
 * the read and the write are one immediate transaction, so two joiners
 * racing on one code cannot both get in. */
static int
claim(struct am_store *s, const uint8_t *key, const uint8_t *joiner,
	int64_t now, struct invite_row *r)
{
	int rc = am_store_begin(s);
	if (rc != AM_OK)
		return rc;
	if ((rc = row_get(s, key, r)) != AM_OK)
		goto fail;
	/* am_invite_revoke revokes only an unused invite, in a transaction
	 * of its own: a revoked invite was never claimed */
	if (r->revoked) {
		rc = AM_ERR_INVITE_REVOKED;
		goto fail;
	}
	if (r->used) {
		if (memcmp(r->used_by, joiner, AM_ID_BYTES) != 0 ||
		    now - r->used_at > AM_INVITE_GRACE_MS) {
			rc = AM_ERR_INVITE_USED;
			goto fail;
		}
		am_store_rollback(s);
		return AM_OK;     /* the same joiner again: answer again */
	}
	if (now >= r->expires) {
		rc = AM_ERR_INVITE_EXPIRED;
		goto fail;
	}
	sqlite3_stmt *st;
	rc = am_store_error(sqlite3_prepare_v2(am_store_sqlite(s),
		"UPDATE invites SET used_by = ?2, used_at = ?3 WHERE key = ?1",
		-1, &st, NULL));
	if (rc != AM_OK)
		goto fail;
	sqlite3_bind_blob(st, 1, key, AM_CURVE_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, joiner, AM_ID_BYTES, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		rc = am_store_error(rc);
		goto fail;
	}
	r->used = true;
	memcpy(r->used_by, joiner, AM_ID_BYTES);
	r->used_at = now;
	return am_store_commit(s);
fail:
	am_store_rollback(s);
	return rc;
}

static int
set_proposal(struct am_store *s, const uint8_t *key, const uint8_t *proposal)
{
	sqlite3_stmt *st;
	int rc = am_store_error(sqlite3_prepare_v2(am_store_sqlite(s),
		"UPDATE invites SET proposal = ?2 WHERE key = ?1", -1, &st, NULL));
	if (rc != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, key, AM_CURVE_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, proposal, AM_HASH_BYTES, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? AM_OK : am_store_error(rc);
}

static uint8_t *
refused(int code, const char *text, size_t *len)
{
	struct am_mp_writer w;
	am_mp_writer_init(&w);
	am_mp_write_array(&w, 4);
	am_mp_write_uint(&w, MSG_VERSION);
	am_mp_write_uint(&w, AM_INVITE_MSG_REFUSED);
	am_mp_write_uint(&w, (uint64_t)code);
	am_mp_write_str(&w, text, strlen(text) < 255 ? strlen(text) : 255);
	return am_mp_writer_take(&w, len);
}

/* Is a member proposal still waiting for member's accept? */
static int
awaits(struct am_store *s, const uint8_t *circle, const uint8_t *member,
	const uint8_t *proposal, bool *yes)
{
	struct am_pending *p = NULL;
	size_t n = 0;
	int rc = am_state_pending(s, circle, member, &p, &n);
	*yes = false;
	if (rc != AM_OK)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (p[i].kind == AM_PENDING_MEMBER &&
		    memcmp(p[i].hash, proposal, AM_HASH_BYTES) == 0)
			*yes = true;
	am_state_pending_free(&p, n);
	return AM_OK;
}

/* Writes the MEMBER proposal for the joiner, and our own ACCEPT of it
 * when the rules leave it waiting for us. */
static int
propose_member(struct am_store *s, const struct am_identity *id,
	const struct invite_row *r, int64_t now, uint8_t proposal[static AM_HASH_BYTES],
	char *why, size_t whylen)
{
	struct am_body b;
	bool wait;
	int rc;

	memset(&b, 0, sizeof b);
	b.kind = AM_KIND_MEMBER;
	memcpy(b.target, r->used_by, AM_ID_BYTES);
	b.role = r->role;
	if ((rc = am_state_check(s, r->circle, am_identity_public(id), &b, why,
	    whylen)) != AM_OK)
		return rc;
	if ((rc = am_store_append(s, id, r->circle, now, &b, proposal, NULL)) != AM_OK)
		return rc;
	if ((rc = awaits(s, r->circle, am_identity_public(id), proposal, &wait))
	    != AM_OK || !wait)
		return rc;
	memset(&b, 0, sizeof b);
	b.kind = AM_KIND_ACCEPT;
	memcpy(b.target, proposal, AM_HASH_BYTES);
	if (am_state_check(s, r->circle, am_identity_public(id), &b, NULL, 0) != AM_OK)
		return AM_OK;
	return am_store_append(s, id, r->circle, now, &b, NULL, NULL);
}

/* Is id already a member of the circle (through any proposal)? */
static int
member_of(struct am_store *s, const uint8_t *circle, const uint8_t *id,
	struct am_member *out, bool *found)
{
	struct am_member *m = NULL;
	size_t n = 0;
	int rc = am_state_members(s, circle, &m, &n);
	*found = false;
	if (rc != AM_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (memcmp(m[i].id, id, AM_ID_BYTES) == 0) {
			*out = m[i];
			*found = true;
			break;
		}
	}
	free(m);
	return AM_OK;
}

struct raw_copy {
	uint8_t *raw;
	size_t len;
};

static int
copy_raw(void *ctx, const uint8_t *raw, size_t len)
{
	struct raw_copy *c = ctx;
	if ((c->raw = malloc(len)) == NULL)
		return AM_ERR_NOMEM;
	memcpy(c->raw, raw, len);
	c->len = len;
	return AM_OK;
}

/* The raw entry whose hash (or, for a circle, circle ID) is hash. */
static int
raw_of(struct am_store *s, const uint8_t *circle, const uint8_t *hash,
	struct raw_copy *out)
{
	struct am_object_info info;
	int rc = am_state_lookup(s, hash, &info);
	if (rc != AM_OK)
		return rc;
	rc = am_store_range(s, circle, info.author, info.seq, info.seq, copy_raw,
		out);
	if (rc == AM_OK && out->raw == NULL)
		rc = AM_ERR_NOT_FOUND;
	return rc;
}

/*
 * The PREVIEW for joiner: [version, circle, name, role, joiner, genesis,
 * proposal, [[member, name | nil], ...], made], signed by id (the code's
 * issuer) over PREVIEW_DOMAIN and those bytes. The members are the joined
 * ones, each with the name they signed in the circle (NAME), else this
 * node's nickname for them.
 */
static int
write_preview(struct am_store *s, const struct am_identity *id,
	const uint8_t *circle, const uint8_t *proposal, const uint8_t *joiner,
	uint32_t role, int64_t now, struct am_mp_writer *w, char *why,
	size_t whylen)
{
	struct raw_copy g = { 0 }, p = { 0 };
	struct am_member *m = NULL;
	struct am_entry e;
	struct am_body b;
	struct invite_preview_fields f;
	struct am_invite_member *list = NULL;
	struct am_name *names = NULL;
	size_t n = 0, joined = 0, nnames = 0;
	int rc;

	memset(&f, 0, sizeof f);
	if ((rc = raw_of(s, circle, circle, &g)) != AM_OK ||
	    (rc = raw_of(s, circle, proposal, &p)) != AM_OK ||
	    (rc = am_entry_decode(g.raw, g.len, &e)) != AM_OK ||
	    (rc = am_body_decode(e.kind, e.body, e.body_len, &b)) != AM_OK)
		goto out;
	if ((rc = am_state_members(s, circle, &m, &n)) != AM_OK ||
	    (rc = am_state_names(s, circle, &names, &nnames)) != AM_OK)
		goto out;
	for (size_t i = 0; i < n; i++)
		joined += m[i].status == AM_MEMBER_JOINED;
	if (joined == 0 || joined > AM_INVITE_MAX_MEMBERS) {
		snprintf(why, whylen, "the circle has more members than a preview "
			"lists");
		rc = AM_ERR_TOO_BIG;
		goto out;
	}
	f.circle = circle;
	f.name = b.name.p != NULL ? b.name.p : "";
	f.name_len = b.name.n;
	f.role = role;
	f.joiner = joiner;
	f.genesis = g.raw;
	f.genesis_len = g.len;
	f.proposal = p.raw;
	f.proposal_len = p.len;
	f.made = now;
	if ((list = calloc(joined, sizeof *list)) == NULL) {
		rc = AM_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct am_invite_member *x = &list[f.nmembers];
		if (m[i].status != AM_MEMBER_JOINED)
			continue;
		memcpy(x->id, m[i].id, AM_ID_BYTES);
		/* the name they signed in the circle, else ours for them */
		const char *signed_name = NULL;
		for (size_t k = 0; k < nnames; k++)
			if (memcmp(names[k].id, m[i].id, AM_ID_BYTES) == 0)
				signed_name = names[k].name;
		char *name = signed_name != NULL ? NULL : am_store_name_get(s, m[i].id);
		const char *use = signed_name != NULL ? signed_name : name;
		if (use != NULL && strlen(use) <= AM_INVITE_MAX_MEMBER_NAME) {
			x->has_name = true;
			snprintf(x->name, sizeof x->name, "%s", use);
		}
		free(name);
		f.nmembers++;
	}
	f.members = list;
	if ((rc = invite_preview_write(id, &f, w)) == AM_ERR_TOO_BIG)
		snprintf(why, whylen, "the circle's preview is larger than allowed");
out:
	am_state_names_free(&names, nnames);
	free(list);
	free(m);
	free(g.raw);
	free(p.raw);
	return rc;
}

/* An inviter who left the circle or was removed from it admits nobody:
 * an answer to them would reach no one who stays. */
static int
inviter_here(struct am_store *s, const struct am_identity *id,
	const uint8_t *circle, struct am_invite_event *ev)
{
	struct am_member me;
	bool found;
	int rc = member_of(s, circle, am_identity_public(id), &me, &found);
	if (rc != AM_OK)
		return rc;
	if (found && me.departure_kind != 0) {
		snprintf(ev->why, sizeof ev->why, "the member who made this invite "
			"is no longer in the circle; ask another member for one");
		return AM_ERR_REFUSED;
	}
	return AM_OK;
}

static int
serve_join(struct am_store *s, const struct am_identity *id, const uint8_t *key,
	int64_t now, struct am_mp_reader *rd, struct am_mp_writer *w,
	struct am_invite_event *ev)
{
	uint8_t joiner[AM_ID_BYTES], sig[AM_SIG_BYTES], proposal[AM_HASH_BYTES];
	uint8_t msg[sizeof JOIN_DOMAIN - 1 + AM_CURVE_BYTES + AM_HASH_BYTES +
		AM_ID_BYTES];
	struct invite_row r;
	int rc;

	if (am_mp_read_bin_exact(rd, joiner, AM_ID_BYTES) != AM_OK ||
	    am_mp_read_bin_exact(rd, sig, AM_SIG_BYTES) != AM_OK ||
	    am_mp_reader_finish(rd) != AM_OK)
		return AM_ERR_FIELD;
	memcpy(ev->joiner, joiner, AM_ID_BYTES);
	ev->has_joiner = true;
	if ((rc = row_get(s, key, &r)) != AM_OK)
		return rc;
	memcpy(ev->circle, r.circle, AM_HASH_BYTES);
	size_t n = 0;
	memcpy(msg, JOIN_DOMAIN, sizeof JOIN_DOMAIN - 1);
	n += sizeof JOIN_DOMAIN - 1;
	memcpy(msg + n, key, AM_CURVE_BYTES);
	n += AM_CURVE_BYTES;
	memcpy(msg + n, r.circle, AM_HASH_BYTES);
	n += AM_HASH_BYTES;
	memcpy(msg + n, joiner, AM_ID_BYTES);
	n += AM_ID_BYTES;
	if (crypto_sign_verify_detached(sig, msg, n, joiner) != 0)
		return AM_ERR_SIGNATURE;
	if (memcmp(joiner, am_identity_public(id), AM_ID_BYTES) == 0) {
		snprintf(ev->why, sizeof ev->why, "a node cannot join its own invite");
		return AM_ERR_REFUSED;
	}
	if ((rc = inviter_here(s, id, r.circle, ev)) != AM_OK)
		return rc;
	if ((rc = claim(s, key, joiner, now, &r)) != AM_OK)
		return rc;
	if (r.has_proposal) {
		memcpy(proposal, r.proposal, AM_HASH_BYTES);
	} else {
		struct am_member m;
		bool found;
		if ((rc = member_of(s, r.circle, joiner, &m, &found)) != AM_OK)
			return rc;
		if (found && !m.creator) {
			/* already proposed (or joined): point at that proposal */
			memcpy(proposal, m.proposal, AM_HASH_BYTES);
		} else if (found) {
			snprintf(ev->why, sizeof ev->why, "the joiner created this circle");
			return AM_ERR_REFUSED;
		} else if ((rc = propose_member(s, id, &r, now, proposal, ev->why,
		    sizeof ev->why)) != AM_OK) {
			return rc;
		}
		if ((rc = set_proposal(s, key, proposal)) != AM_OK)
			return rc;
	}
	if ((rc = write_preview(s, id, r.circle, proposal, joiner, r.role, now, w,
	    ev->why, sizeof ev->why)) != AM_OK)
		return rc;
	ev->outcome = AM_INVITE_JOINED;
	return AM_OK;
}

/* The invite row of key, which must have been used by a JOIN already. */
static int
joined_row(struct am_store *s, const uint8_t *key, struct invite_row *r,
	struct am_invite_event *ev)
{
	int rc = row_get(s, key, r);
	if (rc != AM_OK)
		return rc;
	memcpy(ev->circle, r->circle, AM_HASH_BYTES);
	if (!r->used || !r->has_proposal) {
		snprintf(ev->why, sizeof ev->why, "asked before joining");
		return AM_ERR_REFUSED;
	}
	memcpy(ev->joiner, r->used_by, AM_ID_BYTES);
	ev->has_joiner = true;
	return AM_OK;
}

static int
serve_answer(struct am_store *s, const struct am_identity *id,
	const uint8_t *key, struct am_mp_reader *rd,
	struct am_mp_writer *w, struct am_invite_event *ev)
{
	const uint8_t *raw;
	size_t len;
	struct invite_row r;
	struct am_entry e;
	struct am_body b;
	enum am_ingest_result res;
	int rc;

	if (am_mp_read_bin(rd, &raw, &len, AM_ENTRY_MAX) != AM_OK ||
	    am_mp_reader_finish(rd) != AM_OK)
		return AM_ERR_FIELD;
	if ((rc = joined_row(s, key, &r, ev)) != AM_OK ||
	    (rc = inviter_here(s, id, r.circle, ev)) != AM_OK)
		return rc;
	if ((rc = am_entry_decode(raw, len, &e)) != AM_OK)
		return rc;
	if (memcmp(e.author, r.used_by, AM_ID_BYTES) != 0 ||
	    memcmp(e.circle, r.circle, AM_HASH_BYTES) != 0 ||
	    (e.kind != AM_KIND_ACCEPT && e.kind != AM_KIND_DECLINE) ||
	    am_body_decode(e.kind, e.body, e.body_len, &b) != AM_OK ||
	    memcmp(b.target, r.proposal, AM_HASH_BYTES) != 0) {
		snprintf(ev->why, sizeof ev->why, "the entry sent is not the "
			"joiner's answer to its proposal");
		return AM_ERR_REFUSED;
	}
	if ((rc = am_store_ingest(s, raw, len, &res)) != AM_OK)
		return rc;
	if (e.kind == AM_KIND_DECLINE) {
		ev->outcome = AM_INVITE_DECLINED;
		am_mp_write_array(w, 4);
		am_mp_write_uint(w, MSG_VERSION);
		am_mp_write_uint(w, AM_INVITE_MSG_ADMITTED);
		am_mp_write_bool(w, false);
		am_mp_write_uint(w, 0);
		return AM_OK;
	}

	struct am_member m;
	bool found;
	uint32_t waiting = 0;
	if ((rc = member_of(s, r.circle, r.used_by, &m, &found)) != AM_OK)
		return rc;
	bool joined = found && m.status == AM_MEMBER_JOINED;
	if (!joined) {
		struct am_member *all = NULL;
		size_t n = 0;
		if ((rc = am_state_members(s, r.circle, &all, &n)) != AM_OK)
			return rc;
		for (size_t i = 0; i < n && rc == AM_OK; i++) {
			bool wait;
			if (all[i].status != AM_MEMBER_JOINED)
				continue;
			rc = awaits(s, r.circle, all[i].id, r.proposal, &wait);
			waiting += wait;
		}
		free(all);
		if (rc != AM_OK)
			return rc;
	}
	ev->outcome = AM_INVITE_ACCEPTED;
	ev->joined = joined;
	ev->count = waiting;
	am_mp_write_array(w, 4);
	am_mp_write_uint(w, MSG_VERSION);
	am_mp_write_uint(w, AM_INVITE_MSG_ADMITTED);
	am_mp_write_bool(w, joined);
	am_mp_write_uint(w, waiting);
	return AM_OK;
}

struct batch {
	struct am_mp_writer *w;      /* collects the entries' bins */
	uint32_t n;
	size_t bytes;
	bool full;
	uint64_t last_seq;           /* of the feed being read */
};

static int
batch_add(void *ctx, const uint8_t *raw, size_t len)
{
	struct batch *b = ctx;
	if (b->n == AM_INVITE_BATCH || b->bytes + len > ENTRIES_BYTES) {
		b->full = true;
		return AM_ERR_TOO_BIG;   /* stops the range early */
	}
	am_mp_write_bin(b->w, raw, len);
	b->n++;
	b->bytes += len;
	b->last_seq++;
	return AM_OK;
}

struct feeds {
	struct am_feed_head *h;
	size_t n, cap;
};

static int
feeds_add(void *ctx, const struct am_feed_head *head)
{
	struct feeds *f = ctx;
	if (f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 16;
		struct am_feed_head *g = realloc(f->h, cap * sizeof *g);
		if (g == NULL)
			return AM_ERR_NOMEM;
		f->h = g;
		f->cap = cap;
	}
	f->h[f->n++] = *head;
	return AM_OK;
}

static int
serve_more(struct am_store *s, const uint8_t *key, struct am_mp_reader *rd,
	struct am_mp_writer *w, struct am_invite_event *ev)
{
	uint8_t author[AM_ID_BYTES] = { 0 };
	uint64_t from;
	struct invite_row r;
	struct feeds f = { 0 };
	struct am_mp_writer items;
	struct batch b = { .w = &items };
	int rc;

	if (!am_mp_read_nil(rd) &&
	    am_mp_read_bin_exact(rd, author, AM_ID_BYTES) != AM_OK)
		return AM_ERR_FIELD;
	if (am_mp_read_uint(rd, &from) != AM_OK || am_mp_reader_finish(rd) != AM_OK)
		return AM_ERR_FIELD;
	if ((rc = joined_row(s, key, &r, ev)) != AM_OK)
		return rc;
	/* feeds go to joined members only: one who is only proposed has
	 * the preview */
	struct am_member m;
	bool found;
	if ((rc = member_of(s, r.circle, r.used_by, &m, &found)) != AM_OK)
		return rc;
	if (!found || m.status != AM_MEMBER_JOINED) {
		snprintf(ev->why, sizeof ev->why, "the circle's record is for "
			"joined members; the joiner is not one (yet)");
		return AM_ERR_NOT_MEMBER;
	}
	if ((rc = am_store_heads(s, r.circle, feeds_add, &f)) != AM_OK)
		goto out;
	am_mp_writer_init(&items);
	size_t i = 0;
	while (i < f.n && memcmp(f.h[i].author, author, AM_ID_BYTES) < 0)
		i++;
	bool more = false;
	uint8_t next_author[AM_ID_BYTES];
	uint64_t next_from = 0;
	for (; i < f.n; i++) {
		uint64_t start = memcmp(f.h[i].author, author, AM_ID_BYTES) == 0 &&
			from > 1 ? from : 1;
		b.last_seq = start - 1;
		if (start <= f.h[i].seq) {
			rc = am_store_range(s, r.circle, f.h[i].author, start,
				f.h[i].seq, batch_add, &b);
			if (rc != AM_OK && !b.full)
				goto out_items;
		}
		if (b.full) {
			more = true;
			memcpy(next_author, f.h[i].author, AM_ID_BYTES);
			next_from = b.last_seq + 1;
			break;
		}
	}
	rc = AM_OK;
	if (items.failed) {
		rc = AM_ERR_NOMEM;
		goto out_items;
	}
	ev->outcome = AM_INVITE_SENT;
	ev->count = b.n;
	am_mp_write_array(w, 5);
	am_mp_write_uint(w, MSG_VERSION);
	am_mp_write_uint(w, AM_INVITE_MSG_ENTRIES);
	am_mp_write_array(w, b.n);
	am_mp_write_raw(w, items.buf.data, items.buf.size);
	if (more)
		am_mp_write_bin(w, next_author, AM_ID_BYTES);
	else
		am_mp_write_nil(w);
	am_mp_write_uint(w, next_from);
out_items:
	am_mp_writer_finish(&items);
out:
	free(f.h);
	return rc;
}

int
am_invite_serve(struct am_store *s, const struct am_identity *id,
	const uint8_t key[static AM_CURVE_BYTES], int64_t now,
	const uint8_t *req, size_t len, uint8_t **reply, size_t *reply_len,
	struct am_invite_event *ev)
{
	struct am_mp_reader rd;
	struct am_mp_writer w;
	uint32_t count;
	uint64_t version, type;
	int rc;

	memset(ev, 0, sizeof *ev);
	*reply = NULL;
	am_mp_writer_init(&w);
	if ((rc = am_mp_validate(req, len, &msg_limits)) != AM_OK)
		goto refuse;
	am_mp_reader_init(&rd, req, len);
	if ((rc = am_mp_read_array(&rd, &count)) != AM_OK ||
	    (rc = am_mp_read_uint(&rd, &version)) != AM_OK ||
	    (rc = am_mp_read_uint(&rd, &type)) != AM_OK)
		goto refuse;
	if (version != MSG_VERSION) {
		rc = AM_ERR_VERSION;
		goto refuse;
	}
	switch (type) {
	case AM_INVITE_MSG_JOIN:
		rc = count == 4 ? serve_join(s, id, key, now, &rd, &w, ev) :
			AM_ERR_COUNT;
		break;
	case AM_INVITE_MSG_ANSWER:
		rc = count == 3 ? serve_answer(s, id, key, &rd, &w, ev) : AM_ERR_COUNT;
		break;
	case AM_INVITE_MSG_MORE:
		rc = count == 4 ? serve_more(s, key, &rd, &w, ev) : AM_ERR_COUNT;
		break;
	default:
		rc = AM_ERR_FIELD;
		break;
	}
	if (rc == AM_ERR_NOMEM || rc == AM_ERR_DB || rc == AM_ERR_DB_BUSY ||
	    rc == AM_ERR_DB_FULL || rc == AM_ERR_DB_CORRUPT || rc == AM_ERR_IO) {
		am_mp_writer_finish(&w);
		return rc;
	}
	if (rc != AM_OK)
		goto refuse;
	if ((*reply = am_mp_writer_take(&w, reply_len)) == NULL)
		rc = AM_ERR_NOMEM;
	am_mp_writer_finish(&w);
	return rc;
refuse:
	am_mp_writer_finish(&w);
	ev->outcome = AM_INVITE_REFUSED;
	if (ev->why[0] == '\0') {
		const char *what = rc == AM_ERR_NOT_FOUND ? "this invite is unknown "
			"here (withdrawn, or never made by this node)" : am_strerror(rc);
		snprintf(ev->why, sizeof ev->why, "%s", what);
	}
	*reply = refused(rc, ev->why, reply_len);
	return *reply != NULL ? AM_OK : AM_ERR_NOMEM;
}
