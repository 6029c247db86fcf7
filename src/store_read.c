/*
 * Reads of the record (include/amends/store.h): a feed's head, every
 * head of a circle, a range of entries, the fork evidence, a circle's
 * digest, the circles held, and the database's own integrity check. The
 * reads that call back for each row prepare their statement afresh rather
 * than taking store.c's cached one, as a callback may use the store while
 * they run.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "amends/store.h"
#define AMENDS_STORE_OWN
#include "store_impl.h"

int
am_store_head(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t author[static AM_ID_BYTES], uint64_t *seq,
	uint8_t hash[static AM_HASH_BYTES])
{
	struct feed f;
	int rc = store_feed_get(s, circle, author, &f);
	if (rc != AM_OK)
		return rc;
	*seq = f.head_seq;
	if (f.head_seq > 0)
		memcpy(hash, f.head_hash, AM_HASH_BYTES);
	return AM_OK;
}

int
am_store_feed_has_kind(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t author[static AM_ID_BYTES], uint32_t kind, bool *has)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, "SELECT EXISTS (SELECT 1 FROM entries e "
		"JOIN feeds f ON f.id = e.feed WHERE f.circle = ?1 AND f.author = ?2 "
		"AND e.kind = ?3)", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return am_store_error(rc);
	sqlite3_bind_blob(st, 1, circle, AM_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, author, AM_ID_BYTES, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, kind);
	rc = sqlite3_step(st);
	*has = rc == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? AM_OK : am_store_error(rc);
}

/* The heads query is also used while iterating, so it gets its own
 * statement each call rather than the shared cached one. */
static int
heads_each(struct am_store *s, const uint8_t *circle,
	int (*fn)(void *ctx, const struct am_feed_head *h, int64_t feed), void *ctx)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, store_sql(S_HEADS), -1, &st, NULL);
	if (rc != SQLITE_OK)
		return am_store_error(rc);
	sqlite3_bind_blob(st, 1, circle, AM_HASH_BYTES, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct am_feed_head h;
		if (sqlite3_column_bytes(st, 0) != AM_ID_BYTES ||
		    sqlite3_column_bytes(st, 2) != AM_HASH_BYTES) {
			rc = SQLITE_CORRUPT;
			break;
		}
		memcpy(h.author, sqlite3_column_blob(st, 0), AM_ID_BYTES);
		h.seq = (uint64_t)sqlite3_column_int64(st, 1);
		memcpy(h.hash, sqlite3_column_blob(st, 2), AM_HASH_BYTES);
		h.forked_at = (uint64_t)sqlite3_column_int64(st, 3);
		int frc = fn(ctx, &h, sqlite3_column_int64(st, 4));
		if (frc != AM_OK) {
			sqlite3_finalize(st);
			return frc;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? AM_OK : am_store_error(rc);
}

struct heads_ctx {
	int (*fn)(void *ctx, const struct am_feed_head *h);
	void *ctx;
};

static int
heads_adapter(void *ctx, const struct am_feed_head *h, int64_t feed)
{
	struct heads_ctx *c = ctx;
	(void)feed;
	return c->fn(c->ctx, h);
}

int
am_store_heads(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES],
	int (*fn)(void *ctx, const struct am_feed_head *head), void *ctx)
{
	struct heads_ctx c = { fn, ctx };
	return heads_each(s, circle, heads_adapter, &c);
}

static int
rows_each(sqlite3_stmt *st, int (*fn)(void *ctx, const uint8_t *raw, size_t len),
	void *ctx)
{
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const uint8_t *raw = sqlite3_column_blob(st, 0);
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		int frc = fn(ctx, raw, n);
		if (frc != AM_OK)
			return frc;
	}
	return rc == SQLITE_DONE ? AM_OK : am_store_error(rc);
}

int
am_store_range(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t author[static AM_ID_BYTES], uint64_t from, uint64_t to,
	int (*fn)(void *ctx, const uint8_t *raw, size_t len), void *ctx)
{
	struct feed f;
	sqlite3_stmt *st;
	int rc = store_feed_get(s, circle, author, &f);
	if (rc != AM_OK || f.id == 0)
		return rc;
	if (to > INT64_MAX)
		to = INT64_MAX;
	rc = sqlite3_prepare_v2(s->db, store_sql(S_RANGE), -1, &st, NULL);
	if (rc != SQLITE_OK)
		return am_store_error(rc);
	sqlite3_bind_int64(st, 1, f.id);
	sqlite3_bind_int64(st, 2, (int64_t)from);
	sqlite3_bind_int64(st, 3, (int64_t)to);
	rc = rows_each(st, fn, ctx);
	sqlite3_finalize(st);
	return rc;
}

int
am_store_forks(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES],
	int (*fn)(void *ctx, const uint8_t *raw, size_t len), void *ctx)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db,
		"SELECT k.raw FROM forks k JOIN feeds f ON f.id = k.feed "
		"WHERE f.circle = ?1 ORDER BY f.author, k.seq, k.hash", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return am_store_error(rc);
	sqlite3_bind_blob(st, 1, circle, AM_HASH_BYTES, SQLITE_STATIC);
	rc = rows_each(st, fn, ctx);
	sqlite3_finalize(st);
	return rc;
}

struct digest_ctx {
	struct am_store *s;
	crypto_generichash_state st;
};

static void
put_u64(crypto_generichash_state *st, uint64_t v)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
	crypto_generichash_update(st, b, 8);
}

/* One step of a query returning hashes, fed into the digest in order;
 * *n counts them. */
static int
digest_hashes(struct digest_ctx *c, const char *sql, int64_t feed, uint64_t seq,
	bool feed_in, uint64_t *n)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(c->s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return am_store_error(rc);
	sqlite3_bind_int64(st, 1, feed);
	sqlite3_bind_int64(st, 2, (int64_t)seq);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (feed_in)
			crypto_generichash_update(&c->st, sqlite3_column_blob(st, 0),
				(size_t)sqlite3_column_bytes(st, 0));
		(*n)++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? AM_OK : am_store_error(rc);
}

/*
 * A feed's part of the digest. A forked feed is frozen at its first fork
 * (protocol/state.md): it counts up to the entry before the fork, then the
 * set of different entries signed at the forked number. Two nodes holding
 * the same entries then agree, whichever variant each stored first, and
 * whatever either holds past the fork.
 */
static int
digest_feed(void *ctx, const struct am_feed_head *h, int64_t feed)
{
	static const char both[] = "SELECT hash FROM entries WHERE feed = ?1 AND seq = ?2 "
		"UNION SELECT hash FROM forks WHERE feed = ?1 AND seq = ?2 ORDER BY hash";
	struct digest_ctx *c = ctx;
	uint64_t n = 0;
	int rc;

	crypto_generichash_update(&c->st, h->author, AM_ID_BYTES);
	if (h->forked_at == 0) {
		put_u64(&c->st, h->seq);
		crypto_generichash_update(&c->st, h->hash, AM_HASH_BYTES);
		put_u64(&c->st, 0);
		return AM_OK;
	}
	put_u64(&c->st, h->forked_at - 1);
	if (h->forked_at == 1) {
		static const uint8_t none[AM_HASH_BYTES];
		crypto_generichash_update(&c->st, none, AM_HASH_BYTES);
	} else if ((rc = digest_hashes(c, "SELECT hash FROM entries WHERE feed = ?1 "
	    "AND seq = ?2", feed, h->forked_at - 1, true, &n)) != AM_OK) {
		return rc;
	}
	n = 0;
	if ((rc = digest_hashes(c, both, feed, h->forked_at, false, &n)) != AM_OK)
		return rc;
	put_u64(&c->st, n);
	n = 0;
	return digest_hashes(c, both, feed, h->forked_at, true, &n);
}

int
am_store_digest(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES],
	uint8_t out[static AM_HASH_BYTES])
{
	static const char tag[] = "amends-digest-v1";
	struct digest_ctx c = { .s = s };
	int rc;

	crypto_generichash_init(&c.st, NULL, 0, AM_HASH_BYTES);
	crypto_generichash_update(&c.st, (const uint8_t *)tag, sizeof tag - 1);
	crypto_generichash_update(&c.st, circle, AM_HASH_BYTES);
	/* one read transaction, so the heads and forks are of one moment
	 * (or the caller's, when it holds one) */
	bool own = sqlite3_get_autocommit(s->db);
	if (own && (rc = am_store_exec(s, "BEGIN")) != AM_OK)
		return rc;
	rc = heads_each(s, circle, digest_feed, &c);
	if (own)
		am_store_exec(s, "COMMIT");
	if (rc != AM_OK)
		return rc;
	crypto_generichash_final(&c.st, out, AM_HASH_BYTES);
	return AM_OK;
}

int
am_store_read_begin(struct am_store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		return AM_OK;
	int rc = am_store_exec(s, "BEGIN");
	s->reading = rc == AM_OK;
	return rc;
}

void
am_store_read_end(struct am_store *s)
{
	if (!s->reading)
		return;
	s->reading = false;
	/* a read transaction has nothing to keep: this cannot lose anything */
	if (am_store_exec(s, "COMMIT") != AM_OK)
		am_store_rollback(s);
}

int
am_store_circles(struct am_store *s,
	int (*fn)(void *ctx, const uint8_t circle[static AM_HASH_BYTES]), void *ctx)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db,
		"SELECT DISTINCT circle FROM feeds ORDER BY circle", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return am_store_error(rc);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != AM_HASH_BYTES)
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
am_store_check(struct am_store *s)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return am_store_error(rc);
	rc = sqlite3_step(st);
	bool ok = rc == SQLITE_ROW &&
		strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
	sqlite3_finalize(st);
	return ok ? AM_OK : AM_ERR_DB_CORRUPT;
}
