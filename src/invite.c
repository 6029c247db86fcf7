/*
 * Invite codes and the join exchange (include/amends/invite.h): encoding
 * and checking codes, the pending invites kept in the store, the inviter's
 * answers to a joiner, and the joiner's messages. No sockets here: the
 * node and `amends join` carry the bytes.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "amends/invite.h"
#include "amends/state.h"
#include "mp.h"
#include "store_impl.h"

#define CODE_PREFIX "aminvite"
#define CODE_VERSION 1
#define CHECK_BYTES 4
#define FIXED_BYTES (1 + 1 + AM_HASH_BYTES + AM_ID_BYTES + \
	AM_INVITE_SECRET_BYTES + 8 + 1)
#define MAX_CODE_BYTES (FIXED_BYTES + AM_PEER_MAX_ADDRESS + CHECK_BYTES)
#define JOIN_DOMAIN "amends-join-v1"
#define KEY_DOMAIN "amends-invite-key-v1"
#define MSG_VERSION 1
#define MAX_MSG (1024 * 1024)
#define ENTRIES_BYTES (900 * 1024)   /* entry bytes per ENTRIES message */

static const struct am_mp_limits msg_limits = {
	.max_bytes = MAX_MSG,
	.max_depth = 2,
	.max_nodes = AM_INVITE_BATCH + 16,
	.max_count = AM_INVITE_BATCH,
	.max_str = 255,
	.max_bin = AM_ENTRY_MAX,
};

/* ---- codes ---- */

static void
code_check(const uint8_t *b, size_t n, uint8_t out[static CHECK_BYTES])
{
	uint8_t h[AM_HASH_BYTES];
	crypto_generichash(h, sizeof h, b, n, (const uint8_t *)CODE_PREFIX,
		sizeof CODE_PREFIX - 1);
	memcpy(out, h, CHECK_BYTES);
}

int
am_invite_format(const struct am_invite *inv, char **code)
{
	uint8_t b[MAX_CODE_BYTES];
	size_t alen = strlen(inv->address), n = 0;

	if (alen == 0 || alen >= AM_PEER_MAX_ADDRESS || inv->expires < 0)
		return AM_ERR_ARG;
	b[n++] = CODE_VERSION;
	b[n++] = inv->witness ? 1 : 0;
	memcpy(b + n, inv->circle, AM_HASH_BYTES);
	n += AM_HASH_BYTES;
	memcpy(b + n, inv->inviter, AM_ID_BYTES);
	n += AM_ID_BYTES;
	memcpy(b + n, inv->secret, AM_INVITE_SECRET_BYTES);
	n += AM_INVITE_SECRET_BYTES;
	uint64_t secs = (uint64_t)(inv->expires / 1000);
	for (int i = 7; i >= 0; i--)
		b[n++] = (uint8_t)(secs >> (8 * i));
	b[n++] = (uint8_t)alen;
	memcpy(b + n, inv->address, alen);
	n += alen;
	code_check(b, n, b + n);
	n += CHECK_BYTES;

	size_t chars = (n * 8 + 4) / 5;
	char *out = malloc(sizeof CODE_PREFIX + chars);
	if (out == NULL)
		return AM_ERR_NOMEM;
	memcpy(out, CODE_PREFIX, sizeof CODE_PREFIX - 1);
	am_base32_encode(b, n, out + sizeof CODE_PREFIX - 1);
	sodium_memzero(b, sizeof b);
	*code = out;
	return AM_OK;
}

int
am_invite_parse(const char *code, struct am_invite *out)
{
	char text[AM_INVITE_MAX_CODE + 1];
	uint8_t b[MAX_CODE_BYTES];
	size_t t = 0;
	int rc = AM_ERR_INVITE_CODE;

	/* people paste codes with line breaks, spaces or in capitals */
	for (const char *p = code; *p != '\0'; p++) {
		if (isspace((unsigned char)*p))
			continue;
		if (t == AM_INVITE_MAX_CODE)
			return AM_ERR_INVITE_CODE;
		text[t++] = (char)tolower((unsigned char)*p);
	}
	text[t] = '\0';
	if (t <= sizeof CODE_PREFIX - 1 ||
	    memcmp(text, CODE_PREFIX, sizeof CODE_PREFIX - 1) != 0)
		return AM_ERR_INVITE_CODE;
	const char *body = text + sizeof CODE_PREFIX - 1;
	size_t chars = strlen(body), n = chars * 5 / 8;
	if (n < FIXED_BYTES + 1 + CHECK_BYTES || n > sizeof b ||
	    (n * 8 + 4) / 5 != chars)
		return AM_ERR_INVITE_CODE;
	if (am_base32_decode(body, n, b) != AM_OK)
		goto out;
	uint8_t check[CHECK_BYTES];
	code_check(b, n - CHECK_BYTES, check);
	if (sodium_memcmp(check, b + n - CHECK_BYTES, CHECK_BYTES) != 0)
		goto out;
	size_t o = 0;
	if (b[o++] != CODE_VERSION || b[o] > 1)
		goto out;
	memset(out, 0, sizeof *out);
	out->witness = b[o++] == 1;
	memcpy(out->circle, b + o, AM_HASH_BYTES);
	o += AM_HASH_BYTES;
	memcpy(out->inviter, b + o, AM_ID_BYTES);
	o += AM_ID_BYTES;
	memcpy(out->secret, b + o, AM_INVITE_SECRET_BYTES);
	o += AM_INVITE_SECRET_BYTES;
	uint64_t secs = 0;
	for (int i = 0; i < 8; i++)
		secs = secs << 8 | b[o++];
	size_t alen = b[o++];
	if (secs > (uint64_t)INT64_MAX / 1000 || alen == 0 ||
	    o + alen + CHECK_BYTES != n)
		goto out;
	out->expires = (int64_t)secs * 1000;
	memcpy(out->address, b + o, alen);
	out->address[alen] = '\0';
	if (!am_peer_address_ok(out->address))
		goto out;
	rc = AM_OK;
out:
	if (rc != AM_OK)
		sodium_memzero(out, sizeof *out);
	sodium_memzero(b, sizeof b);
	sodium_memzero(text, sizeof text);
	return rc;
}

void
am_invite_keys(const uint8_t secret[static AM_INVITE_SECRET_BYTES],
	uint8_t pub[static AM_CURVE_BYTES], uint8_t sec[static AM_CURVE_BYTES])
{
	uint8_t seed[crypto_box_SEEDBYTES];
	crypto_generichash(seed, sizeof seed, secret, AM_INVITE_SECRET_BYTES,
		(const uint8_t *)KEY_DOMAIN, sizeof KEY_DOMAIN - 1);
	crypto_box_seed_keypair(pub, sec, seed);
	sodium_memzero(seed, sizeof seed);
}

int
am_invite_create(struct am_store *s, const struct am_identity *id,
	const uint8_t circle[static AM_HASH_BYTES], bool witness, int64_t now,
	int64_t expires, const char *address, char **code)
{
	struct am_invite inv;
	uint8_t pub[AM_CURVE_BYTES], sec[AM_CURVE_BYTES];
	sqlite3_stmt *st;
	int rc;

	if (expires <= now || expires - now > AM_INVITE_MAX_EXPIRY ||
	    !am_peer_address_ok(address))
		return AM_ERR_ARG;
	memset(&inv, 0, sizeof inv);
	inv.witness = witness;
	memcpy(inv.circle, circle, AM_HASH_BYTES);
	memcpy(inv.inviter, am_identity_public(id), AM_ID_BYTES);
	randombytes_buf(inv.secret, sizeof inv.secret);
	/* the code says whole seconds; keep the same expiry here */
	inv.expires = expires / 1000 * 1000;
	snprintf(inv.address, sizeof inv.address, "%s", address);
	am_invite_keys(inv.secret, pub, sec);
	sodium_memzero(sec, sizeof sec);

	rc = am_store_error(sqlite3_prepare_v2(am_store_sqlite(s),
		"INSERT INTO invites(key, circle, role, created, expires) "
		"VALUES (?1, ?2, ?3, ?4, ?5)", -1, &st, NULL));
	if (rc != AM_OK)
		goto out;
	sqlite3_bind_blob(st, 1, pub, AM_CURVE_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, circle, AM_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, witness ? AM_ROLE_WITNESS : AM_ROLE_MEMBER);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, inv.expires);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	rc = rc == SQLITE_DONE ? AM_OK : am_store_error(rc);
	if (rc == AM_OK)
		rc = am_invite_format(&inv, code);
out:
	sodium_memzero(&inv, sizeof inv);
	return rc;
}

int
am_invite_admitted(struct am_store *s, int64_t now,
	int (*fn)(void *ctx, const uint8_t key[static AM_CURVE_BYTES]), void *ctx)
{
	sqlite3_stmt *st;
	int rc = am_store_error(sqlite3_prepare_v2(am_store_sqlite(s),
		"SELECT key FROM invites WHERE (used_by IS NULL AND expires > ?1) "
		"OR (used_by IS NOT NULL AND used_at > ?2)", -1, &st, NULL));
	if (rc != AM_OK)
		return rc;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, now - AM_INVITE_GRACE_MS);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != AM_CURVE_BYTES)
			continue;
		int frc = fn(ctx, sqlite3_column_blob(st, 0));
		if (frc != AM_OK) {
			sqlite3_finalize(st);
			return frc;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? AM_OK : am_store_error(rc);
}

/* ---- the inviter's side ---- */

struct invite_row {
	uint8_t circle[AM_HASH_BYTES];
	uint32_t role;
	int64_t expires;
	bool used;
	uint8_t used_by[AM_ID_BYTES];
	int64_t used_at;
	bool has_proposal;
	uint8_t proposal[AM_HASH_BYTES];
};

static int
row_get(struct am_store *s, const uint8_t *key, struct invite_row *r)
{
	sqlite3_stmt *st;
	int rc = am_store_error(sqlite3_prepare_v2(am_store_sqlite(s),
		"SELECT circle, role, expires, used_by, coalesce(used_at, 0), proposal "
		"FROM invites WHERE key = ?1", -1, &st, NULL));
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
	ev->outcome = AM_INVITE_JOINED;
	am_mp_write_array(w, 5);
	am_mp_write_uint(w, MSG_VERSION);
	am_mp_write_uint(w, AM_INVITE_MSG_WELCOME);
	am_mp_write_bin(w, r.circle, AM_HASH_BYTES);
	am_mp_write_bin(w, proposal, AM_HASH_BYTES);
	am_mp_write_uint(w, r.role);
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
serve_accept(struct am_store *s, const uint8_t *key, struct am_mp_reader *rd,
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
	if ((rc = joined_row(s, key, &r, ev)) != AM_OK)
		return rc;
	if ((rc = am_entry_decode(raw, len, &e)) != AM_OK)
		return rc;
	if (memcmp(e.author, r.used_by, AM_ID_BYTES) != 0 ||
	    memcmp(e.circle, r.circle, AM_HASH_BYTES) != 0 ||
	    e.kind != AM_KIND_ACCEPT ||
	    am_body_decode(e.kind, e.body, e.body_len, &b) != AM_OK ||
	    memcmp(b.target, r.proposal, AM_HASH_BYTES) != 0) {
		snprintf(ev->why, sizeof ev->why, "the entry sent is not the "
			"joiner's acceptance of its proposal");
		return AM_ERR_REFUSED;
	}
	if ((rc = am_store_ingest(s, raw, len, &res)) != AM_OK)
		return rc;

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
	/* the same rule as sync: members, joined or pending, may read */
	if (am_state_may_write(s, r.circle, r.used_by) != AM_OK) {
		snprintf(ev->why, sizeof ev->why, "the joiner is not named by a "
			"member proposal of this circle");
		return AM_ERR_REFUSED;
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
	case AM_INVITE_MSG_ACCEPT:
		rc = count == 3 ? serve_accept(s, key, &rd, &w, ev) : AM_ERR_COUNT;
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

/* ---- the joiner's side ---- */

int
am_invite_join_msg(const struct am_invite *inv, const struct am_identity *id,
	uint8_t **out, size_t *len)
{
	uint8_t pub[AM_CURVE_BYTES], sec[AM_CURVE_BYTES], sig[AM_SIG_BYTES];
	uint8_t msg[sizeof JOIN_DOMAIN - 1 + AM_CURVE_BYTES + AM_HASH_BYTES +
		AM_ID_BYTES];
	struct am_mp_writer w;
	size_t n = 0;

	am_invite_keys(inv->secret, pub, sec);
	sodium_memzero(sec, sizeof sec);
	memcpy(msg, JOIN_DOMAIN, sizeof JOIN_DOMAIN - 1);
	n += sizeof JOIN_DOMAIN - 1;
	memcpy(msg + n, pub, AM_CURVE_BYTES);
	n += AM_CURVE_BYTES;
	memcpy(msg + n, inv->circle, AM_HASH_BYTES);
	n += AM_HASH_BYTES;
	memcpy(msg + n, am_identity_public(id), AM_ID_BYTES);
	n += AM_ID_BYTES;
	am_identity_sign(id, msg, n, sig);
	am_mp_writer_init(&w);
	am_mp_write_array(&w, 4);
	am_mp_write_uint(&w, MSG_VERSION);
	am_mp_write_uint(&w, AM_INVITE_MSG_JOIN);
	am_mp_write_bin(&w, am_identity_public(id), AM_ID_BYTES);
	am_mp_write_bin(&w, sig, AM_SIG_BYTES);
	*out = am_mp_writer_take(&w, len);
	am_mp_writer_finish(&w);
	return *out != NULL ? AM_OK : AM_ERR_NOMEM;
}

int
am_invite_accept_msg(const uint8_t *entry, size_t entry_len, uint8_t **out,
	size_t *len)
{
	struct am_mp_writer w;
	am_mp_writer_init(&w);
	am_mp_write_array(&w, 3);
	am_mp_write_uint(&w, MSG_VERSION);
	am_mp_write_uint(&w, AM_INVITE_MSG_ACCEPT);
	am_mp_write_bin(&w, entry, entry_len);
	*out = am_mp_writer_take(&w, len);
	am_mp_writer_finish(&w);
	return *out != NULL ? AM_OK : AM_ERR_NOMEM;
}

int
am_invite_more_msg(const uint8_t *author, uint64_t from, uint8_t **out,
	size_t *len)
{
	struct am_mp_writer w;
	am_mp_writer_init(&w);
	am_mp_write_array(&w, 4);
	am_mp_write_uint(&w, MSG_VERSION);
	am_mp_write_uint(&w, AM_INVITE_MSG_MORE);
	if (author != NULL)
		am_mp_write_bin(&w, author, AM_ID_BYTES);
	else
		am_mp_write_nil(&w);
	am_mp_write_uint(&w, from);
	*out = am_mp_writer_take(&w, len);
	am_mp_writer_finish(&w);
	return *out != NULL ? AM_OK : AM_ERR_NOMEM;
}

static int
parse_entries(struct am_mp_reader *rd, uint32_t count, struct am_invite_reply *r)
{
	uint32_t n;
	int rc;
	if (count != 5)
		return AM_ERR_COUNT;
	if ((rc = am_mp_read_array(rd, &n)) != AM_OK)
		return rc;
	if (n > AM_INVITE_BATCH)
		return AM_ERR_COUNT;
	for (uint32_t i = 0; i < n; i++)
		if ((rc = am_mp_read_bin(rd, &r->entries[i], &r->entry_len[i],
		    AM_ENTRY_MAX)) != AM_OK)
			return rc;
	r->nentries = n;
	r->more = !am_mp_read_nil(rd);
	if (r->more && (rc = am_mp_read_bin_exact(rd, r->next_author,
	    AM_ID_BYTES)) != AM_OK)
		return rc;
	return am_mp_read_uint(rd, &r->next_from);
}

int
am_invite_reply_parse(const uint8_t *msg, size_t len, struct am_invite_reply *r)
{
	struct am_mp_reader rd;
	uint32_t count;
	uint64_t version, type, v;
	const char *text;
	size_t tn;
	int rc;

	memset(r, 0, sizeof *r);
	if ((rc = am_mp_validate(msg, len, &msg_limits)) != AM_OK)
		return rc;
	am_mp_reader_init(&rd, msg, len);
	if ((rc = am_mp_read_array(&rd, &count)) != AM_OK ||
	    (rc = am_mp_read_uint(&rd, &version)) != AM_OK ||
	    (rc = am_mp_read_uint(&rd, &type)) != AM_OK)
		return rc;
	if (version != MSG_VERSION)
		return AM_ERR_VERSION;
	r->type = (enum am_invite_msg)type;
	switch (type) {
	case AM_INVITE_MSG_WELCOME:
		if (count != 5)
			return AM_ERR_COUNT;
		if ((rc = am_mp_read_bin_exact(&rd, r->circle, AM_HASH_BYTES)) != AM_OK ||
		    (rc = am_mp_read_bin_exact(&rd, r->proposal, AM_HASH_BYTES)) != AM_OK ||
		    (rc = am_mp_read_uint(&rd, &v)) != AM_OK)
			return rc;
		if (v > AM_ROLE_WITNESS)
			return AM_ERR_FIELD;
		r->role = (uint32_t)v;
		break;
	case AM_INVITE_MSG_ADMITTED:
		if (count != 4)
			return AM_ERR_COUNT;
		if ((rc = am_mp_read_bool(&rd, &r->joined)) != AM_OK ||
		    (rc = am_mp_read_uint(&rd, &v)) != AM_OK)
			return rc;
		r->waiting = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
		break;
	case AM_INVITE_MSG_ENTRIES:
		if ((rc = parse_entries(&rd, count, r)) != AM_OK)
			return rc;
		break;
	case AM_INVITE_MSG_REFUSED:
		if (count != 4)
			return AM_ERR_COUNT;
		if ((rc = am_mp_read_uint(&rd, &v)) != AM_OK ||
		    (rc = am_mp_read_str(&rd, &text, &tn, 255)) != AM_OK)
			return rc;
		r->code = v > UINT32_MAX ? 0 : (uint32_t)v;
		memcpy(r->text, text, tn);
		r->text[tn] = '\0';
		break;
	default:
		return AM_ERR_FIELD;
	}
	return am_mp_reader_finish(&rd);
}
