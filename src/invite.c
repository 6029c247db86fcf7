/*
 * Invite codes and the join exchange (include/amends/invite.h): encoding
 * and checking codes, the pending invites kept in the store, and the
 * joiner's messages; the inviter's answers are in src/invite_serve.c. No
 * sockets here: the node and `amends join` carry the bytes.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "amends/invite.h"
#include "amends/state.h"
#include "invite_impl.h"
#include "mp.h"
#include "store_impl.h"

#define CODE_PREFIX "aminvite"
#define CODE_VERSION 1
#define CHECK_BYTES 4
#define FIXED_BYTES (1 + 1 + AM_HASH_BYTES + AM_ID_BYTES + \
	AM_INVITE_SECRET_BYTES + 8 + 1)
#define MAX_CODE_BYTES (FIXED_BYTES + AM_PEER_MAX_ADDRESS + CHECK_BYTES)
#define KEY_DOMAIN "amends-invite-key-v1"

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

int
am_invite_list(struct am_store *s, int64_t now,
	int (*fn)(void *ctx, const struct am_invite_open *inv), void *ctx)
{
	struct am_invite_open inv;
	sqlite3_stmt *st;
	int rc = am_store_error(sqlite3_prepare_v2(am_store_sqlite(s),
		"SELECT key, circle, role, created, expires FROM invites i "
		"WHERE used_by IS NULL AND expires > ?1 AND NOT EXISTS "
		"(SELECT 1 FROM invites_revoked v WHERE v.key = i.key) "
		"ORDER BY created, key", -1, &st, NULL));
	if (rc != AM_OK)
		return rc;
	sqlite3_bind_int64(st, 1, now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != AM_CURVE_BYTES ||
		    sqlite3_column_bytes(st, 1) != AM_HASH_BYTES)
			continue;
		memset(&inv, 0, sizeof inv);
		memcpy(inv.key, sqlite3_column_blob(st, 0), AM_CURVE_BYTES);
		memcpy(inv.circle, sqlite3_column_blob(st, 1), AM_HASH_BYTES);
		inv.role = (uint32_t)sqlite3_column_int(st, 2);
		inv.created = sqlite3_column_int64(st, 3);
		inv.expires = sqlite3_column_int64(st, 4);
		int frc = fn(ctx, &inv);
		if (frc != AM_OK) {
			sqlite3_finalize(st);
			return frc;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? AM_OK : am_store_error(rc);
}

int
am_invite_code_key(const char *code, uint8_t key[static AM_CURVE_BYTES])
{
	struct am_invite inv;
	uint8_t sec[AM_CURVE_BYTES];
	int rc = am_invite_parse(code, &inv);
	if (rc != AM_OK)
		return rc;
	am_invite_keys(inv.secret, key, sec);
	sodium_memzero(sec, sizeof sec);
	sodium_memzero(&inv, sizeof inv);
	return AM_OK;
}

/* One statement of am_invite_revoke, key bound to ?1 and now to ?2; an
 * integer result (a row's first column) in *out when out is not NULL. */
static int
revoke_step(struct am_store *s, const char *sql,
	const uint8_t key[static AM_CURVE_BYTES], int64_t now, int64_t *out)
{
	sqlite3_stmt *st;
	int rc = am_store_error(sqlite3_prepare_v2(am_store_sqlite(s), sql, -1,
		&st, NULL));
	if (rc != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, key, AM_CURVE_BYTES, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	rc = sqlite3_step(st);
	if (out != NULL && rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW && out != NULL)
		return AM_OK;
	if (rc == SQLITE_DONE)
		return out != NULL ? AM_ERR_NOT_FOUND : AM_OK;
	return am_store_error(rc);
}

int
am_invite_revoke(struct am_store *s, const uint8_t key[static AM_CURVE_BYTES],
	int64_t now)
{
	int64_t state = 0;
	int rc = am_store_begin(s);
	if (rc != AM_OK)
		return rc;
	/* 3 revoked already, 2 used, 1 expired, 0 open */
	rc = revoke_step(s, "SELECT CASE "
		"WHEN EXISTS (SELECT 1 FROM invites_revoked v WHERE v.key = i.key) "
		"THEN 3 WHEN used_by IS NOT NULL THEN 2 WHEN expires <= ?2 THEN 1 "
		"ELSE 0 END FROM invites i WHERE key = ?1", key, now, &state);
	if (rc != AM_OK)
		goto fail;
	switch (state) {
	case 3: am_store_rollback(s); return AM_OK;
	case 2: rc = AM_ERR_INVITE_USED; goto fail;
	case 1: rc = AM_ERR_INVITE_EXPIRED; goto fail;
	default: break;
	}
	if ((rc = revoke_step(s, "INSERT INTO invites_revoked(key, at) "
	    "VALUES (?1, ?2)", key, now, NULL)) != AM_OK)
		goto fail;
	return am_store_commit(s);
fail:
	am_store_rollback(s);
	return rc;
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
am_invite_answer_msg(const uint8_t *entry, size_t entry_len, uint8_t **out,
	size_t *len)
{
	struct am_mp_writer w;
	am_mp_writer_init(&w);
	am_mp_write_array(&w, 3);
	am_mp_write_uint(&w, MSG_VERSION);
	am_mp_write_uint(&w, AM_INVITE_MSG_ANSWER);
	am_mp_write_bin(&w, entry, entry_len);
	*out = am_mp_writer_take(&w, len);
	am_mp_writer_finish(&w);
	return *out != NULL ? AM_OK : AM_ERR_NOMEM;
}

int
am_invite_answer_entry(const struct am_identity *id,
	const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t proposal[static AM_HASH_BYTES], bool accept,
	const char *reason, int64_t time, uint8_t **raw, size_t *len)
{
	struct am_body b;
	struct am_entry_draft d;

	memset(&b, 0, sizeof b);
	b.kind = accept ? AM_KIND_ACCEPT : AM_KIND_DECLINE;
	memcpy(b.target, proposal, AM_HASH_BYTES);
	if (!accept && reason != NULL)
		b.note = am_str_c(reason);
	memset(&d, 0, sizeof d);
	memcpy(d.circle, circle, AM_HASH_BYTES);
	d.seq = 1;
	d.has_prev = false;
	d.time = time;
	d.body = &b;
	return am_entry_sign(id, &d, raw, len, NULL);
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
	case AM_INVITE_MSG_PREVIEW:
		if (count != 5)
			return AM_ERR_COUNT;
		if ((rc = am_mp_read_bin(&rd, &r->preview, &r->preview_len,
		    PREVIEW_MAX)) != AM_OK ||
		    (rc = am_mp_read_bin_exact(&rd, r->signer, AM_ID_BYTES)) != AM_OK ||
		    (rc = am_mp_read_bin_exact(&rd, r->sig, AM_SIG_BYTES)) != AM_OK)
			return rc;
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

/* ---- the preview ---- */

int
invite_preview_write(const struct am_identity *id,
	const struct invite_preview_fields *f, struct am_mp_writer *w)
{
	struct am_mp_writer pw;
	uint8_t *buf = NULL, sig[AM_SIG_BYTES];
	size_t dn = sizeof PREVIEW_DOMAIN - 1;
	int rc = AM_OK;

	am_mp_writer_init(&pw);
	am_mp_write_array(&pw, 9);
	am_mp_write_uint(&pw, PREVIEW_VERSION);
	am_mp_write_bin(&pw, f->circle, AM_HASH_BYTES);
	am_mp_write_str(&pw, f->name, f->name_len);
	am_mp_write_uint(&pw, f->role);
	am_mp_write_bin(&pw, f->joiner, AM_ID_BYTES);
	am_mp_write_bin(&pw, f->genesis, f->genesis_len);
	am_mp_write_bin(&pw, f->proposal, f->proposal_len);
	am_mp_write_array(&pw, f->nmembers);
	for (uint32_t i = 0; i < f->nmembers; i++) {
		am_mp_write_array(&pw, 2);
		am_mp_write_bin(&pw, f->members[i].id, AM_ID_BYTES);
		if (f->members[i].has_name)
			am_mp_write_str(&pw, f->members[i].name,
				strlen(f->members[i].name));
		else
			am_mp_write_nil(&pw);
	}
	am_mp_write_uint(&pw, f->made > 0 ? (uint64_t)f->made : 0);
	if (pw.failed) {
		rc = AM_ERR_NOMEM;
		goto out;
	}
	if (pw.buf.size > PREVIEW_MAX) {
		rc = AM_ERR_TOO_BIG;
		goto out;
	}
	if ((buf = malloc(dn + pw.buf.size)) == NULL) {
		rc = AM_ERR_NOMEM;
		goto out;
	}
	memcpy(buf, PREVIEW_DOMAIN, dn);
	memcpy(buf + dn, pw.buf.data, pw.buf.size);
	am_identity_sign(id, buf, dn + pw.buf.size, sig);
	am_mp_write_array(w, 5);
	am_mp_write_uint(w, MSG_VERSION);
	am_mp_write_uint(w, AM_INVITE_MSG_PREVIEW);
	am_mp_write_bin(w, pw.buf.data, pw.buf.size);
	am_mp_write_bin(w, am_identity_public(id), AM_ID_BYTES);
	am_mp_write_bin(w, sig, AM_SIG_BYTES);
out:
	free(buf);
	am_mp_writer_finish(&pw);
	return rc;
}

/* Decodes and verifies one entry of a preview. */
static int
preview_entry(struct am_mp_reader *rd, const uint8_t **raw, size_t *len,
	struct am_entry *e, struct am_body *b)
{
	int rc;
	if ((rc = am_mp_read_bin(rd, raw, len, AM_ENTRY_MAX)) != AM_OK ||
	    (rc = am_entry_decode(*raw, *len, e)) != AM_OK ||
	    (rc = am_entry_verify(e)) != AM_OK)
		return rc;
	return am_body_decode(e->kind, e->body, e->body_len, b);
}

int
am_invite_preview_open(const uint8_t *msg, size_t len,
	const struct am_invite *inv, const uint8_t joiner[static AM_ID_BYTES],
	struct am_invite_preview *out)
{
	struct am_invite_reply *r;
	struct am_mp_reader rd;
	struct am_entry g, p;
	struct am_body gb, pb;
	uint8_t id[AM_HASH_BYTES];
	uint32_t count, nm;
	uint64_t version, v;
	const char *text;
	size_t tn;
	int rc;

	memset(out, 0, sizeof *out);
	if ((r = malloc(sizeof *r)) == NULL)
		return AM_ERR_NOMEM;
	if ((rc = am_invite_reply_parse(msg, len, r)) != AM_OK)
		goto out;
	rc = AM_ERR_FIELD;
	if (r->type != AM_INVITE_MSG_PREVIEW)
		goto out;
	/* signed by the code's issuer, over the domain and the bytes */
	rc = AM_ERR_SIGNATURE;
	if (memcmp(r->signer, inv->inviter, AM_ID_BYTES) != 0)
		goto out;
	{
		uint8_t *buf = malloc(sizeof PREVIEW_DOMAIN - 1 + r->preview_len);
		if (buf == NULL) {
			rc = AM_ERR_NOMEM;
			goto out;
		}
		memcpy(buf, PREVIEW_DOMAIN, sizeof PREVIEW_DOMAIN - 1);
		memcpy(buf + sizeof PREVIEW_DOMAIN - 1, r->preview, r->preview_len);
		int bad = crypto_sign_verify_detached(r->sig, buf,
			sizeof PREVIEW_DOMAIN - 1 + r->preview_len, r->signer);
		free(buf);
		if (bad != 0)
			goto out;
	}

	if ((rc = am_mp_validate(r->preview, r->preview_len, &preview_limits))
	    != AM_OK)
		goto out;
	am_mp_reader_init(&rd, r->preview, r->preview_len);
	if ((rc = am_mp_read_array(&rd, &count)) != AM_OK ||
	    (rc = am_mp_read_uint(&rd, &version)) != AM_OK)
		goto out;
	if (version != PREVIEW_VERSION) {
		rc = AM_ERR_VERSION;
		goto out;
	}
	if (count != 9) {
		rc = AM_ERR_COUNT;
		goto out;
	}
	if ((rc = am_mp_read_bin_exact(&rd, out->circle, AM_HASH_BYTES)) != AM_OK ||
	    (rc = am_mp_read_str(&rd, &text, &tn, AM_MAX_NAME)) != AM_OK)
		goto out;
	memcpy(out->name, text, tn);
	out->name[tn] = '\0';
	if ((rc = am_mp_read_uint(&rd, &v)) != AM_OK ||
	    (rc = am_mp_read_bin_exact(&rd, out->joiner, AM_ID_BYTES)) != AM_OK)
		goto out;
	out->role = (uint32_t)(v > AM_ROLE_WITNESS ? UINT32_MAX : v);
	if ((rc = preview_entry(&rd, &out->genesis, &out->genesis_len, &g, &gb))
	    != AM_OK ||
	    (rc = preview_entry(&rd, &out->proposal_raw, &out->proposal_len, &p,
	    &pb)) != AM_OK)
		goto out;
	if ((rc = am_mp_read_array(&rd, &nm)) != AM_OK)
		goto out;
	if (nm == 0 || nm > AM_INVITE_MAX_MEMBERS) {
		rc = AM_ERR_COUNT;
		goto out;
	}
	for (uint32_t i = 0; i < nm; i++) {
		struct am_invite_member *m = &out->members[i];
		uint32_t two;
		if ((rc = am_mp_read_array(&rd, &two)) != AM_OK)
			goto out;
		if (two != 2) {
			rc = AM_ERR_COUNT;
			goto out;
		}
		if ((rc = am_mp_read_bin_exact(&rd, m->id, AM_ID_BYTES)) != AM_OK)
			goto out;
		m->has_name = !am_mp_read_nil(&rd);
		if (m->has_name) {
			if ((rc = am_mp_read_str(&rd, &text, &tn,
			    AM_INVITE_MAX_MEMBER_NAME)) != AM_OK)
				goto out;
			memcpy(m->name, text, tn);
			m->name[tn] = '\0';
		}
	}
	out->nmembers = nm;
	if ((rc = am_mp_read_uint(&rd, &v)) != AM_OK ||
	    (rc = am_mp_reader_finish(&rd)) != AM_OK)
		goto out;
	out->made = v > INT64_MAX ? INT64_MAX : (int64_t)v;

	/* what the fields say must hold together */
	rc = AM_ERR_FIELD;
	bool proposer_listed = false;
	for (uint32_t i = 0; i < nm; i++)
		proposer_listed |= memcmp(out->members[i].id, p.author,
			AM_ID_BYTES) == 0;
	if (g.kind != AM_KIND_GENESIS)
		goto out;
	am_circle_id(g.author, gb.nonce, id);
	if (memcmp(id, out->circle, AM_HASH_BYTES) != 0 ||
	    memcmp(g.circle, out->circle, AM_HASH_BYTES) != 0 ||
	    memcmp(out->circle, inv->circle, AM_HASH_BYTES) != 0 ||
	    gb.name.n != strlen(out->name) ||
	    (gb.name.n > 0 && memcmp(gb.name.p, out->name, gb.name.n) != 0))
		goto out;
	if (memcmp(out->joiner, joiner, AM_ID_BYTES) != 0 ||
	    out->role != (inv->witness ? AM_ROLE_WITNESS : AM_ROLE_MEMBER))
		goto out;
	if (p.kind != AM_KIND_MEMBER ||
	    memcmp(p.circle, out->circle, AM_HASH_BYTES) != 0 ||
	    memcmp(pb.target, joiner, AM_ID_BYTES) != 0 || pb.role != out->role ||
	    !proposer_listed)
		goto out;
	memcpy(out->proposer, p.author, AM_ID_BYTES);
	memcpy(out->proposal, p.hash, AM_HASH_BYTES);
	memcpy(out->creator, g.author, AM_ID_BYTES);
	out->created = g.time;
	rc = AM_OK;
out:
	free(r);
	if (rc != AM_OK)
		memset(out, 0, sizeof *out);
	return rc;
}
