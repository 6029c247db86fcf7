/*
 * Checkpoints (include/amends/checkpoint.h, protocol/state.md
 * "Checkpoints"): what a checkpoint would name now, when this node should
 * write one, whether every member has checkpointed the same heads, and the
 * judging and keeping of feeds shown shorter than a checkpoint.
 *
 * Checkpoints are read through the state's fact table st_acts (which holds
 * only live entries, so a forked feed's later checkpoints never count)
 * joined to the raw entries for their bodies. Reports of shorter feeds are
 * this node's own observations, not part of the record: they live in a
 * table of their own, made the first time one is recorded.
 */
#include <stdlib.h>
#include <string.h>

#include "amends/checkpoint.h"
#include "amends/peer.h"
#include "amends/state.h"
#include "store_impl.h"

#define SCAN_MAX 64                 /* checkpoints looked at per member */

static const char reports_schema[] =
	"CREATE TABLE IF NOT EXISTS checkpoint_reports("
	"  circle BLOB NOT NULL CHECK(length(circle) = 32),"
	"  peer BLOB NOT NULL CHECK(length(peer) = 32),"
	"  author BLOB NOT NULL CHECK(length(author) = 32),"
	"  checkpoint BLOB NOT NULL CHECK(length(checkpoint) = 32),"
	"  cp_author BLOB NOT NULL CHECK(length(cp_author) = 32),"
	"  cp_time INTEGER NOT NULL,"
	"  shown INTEGER NOT NULL,"
	"  named INTEGER NOT NULL,"
	"  first_at INTEGER NOT NULL,"
	"  last_at INTEGER NOT NULL,"
	"  count INTEGER NOT NULL,"
	"  PRIMARY KEY(circle, peer, author, checkpoint)"
	") STRICT, WITHOUT ROWID";

static int
prepare(struct am_store *s, const char *sql, sqlite3_stmt **st)
{
	return am_store_error(sqlite3_prepare_v2(am_store_sqlite(s), sql, -1, st,
		NULL));
}

static void
col32(sqlite3_stmt *st, int col, uint8_t out[static 32])
{
	if (sqlite3_column_bytes(st, col) == 32)
		memcpy(out, sqlite3_column_blob(st, col), 32);
	else
		memset(out, 0, 32);
}

static bool
same_heads(const struct am_head *a, uint32_t na, const struct am_head *b,
	uint32_t nb)
{
	if (na != nb)
		return false;
	for (uint32_t i = 0; i < na; i++)
		if (memcmp(a[i].author, b[i].author, AM_ID_BYTES) != 0 ||
		    a[i].seq != b[i].seq ||
		    memcmp(a[i].hash, b[i].hash, AM_HASH_BYTES) != 0)
			return false;
	return true;
}

/* ---- what a checkpoint names ---- */

int
am_checkpoint_heads(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES],
	struct am_head heads[static AM_MAX_HEADS], uint32_t *n)
{
	sqlite3_stmt *feeds = NULL, *top = NULL;
	int rc;

	*n = 0;
	if ((rc = prepare(s, "SELECT id, author, coalesce(forked_at, 0) FROM feeds "
	    "WHERE circle = ?1 ORDER BY author", &feeds)) != AM_OK ||
	    (rc = prepare(s, "SELECT seq, hash FROM entries WHERE feed = ?1 AND "
	    "kind != 12 ORDER BY seq DESC LIMIT 1", &top)) != AM_OK)
		goto out;
	sqlite3_bind_blob(feeds, 1, circle, AM_HASH_BYTES, SQLITE_STATIC);
	while ((rc = sqlite3_step(feeds)) == SQLITE_ROW) {
		if (sqlite3_column_int64(feeds, 2) != 0) {
			rc = AM_ERR_FORK;
			goto out;
		}
		sqlite3_reset(top);
		sqlite3_bind_int64(top, 1, sqlite3_column_int64(feeds, 0));
		rc = sqlite3_step(top);
		if (rc == SQLITE_DONE)
			continue;        /* nothing but checkpoints */
		if (rc != SQLITE_ROW)
			break;
		if (*n == AM_MAX_HEADS) {
			rc = AM_ERR_TOO_BIG;
			goto out;
		}
		struct am_head *h = &heads[(*n)++];
		col32(feeds, 1, h->author);
		h->seq = (uint64_t)sqlite3_column_int64(top, 0);
		col32(top, 1, h->hash);
	}
	rc = am_store_error(rc);
out:
	sqlite3_finalize(feeds);
	sqlite3_finalize(top);
	return rc;
}

/* ---- reading checkpoints ---- */

/* Up to max live checkpoints of author in circle, newest number first,
 * into out (max elements); *n how many. */
static int
load(struct am_store *s, const uint8_t *circle, const uint8_t *author,
	struct am_checkpoint *out, size_t max, size_t *n)
{
	sqlite3_stmt *st;
	int rc = prepare(s, "SELECT a.seq, a.hash, a.time, e.raw FROM st_acts a "
		"JOIN feeds f ON f.circle = a.circle AND f.author = a.author "
		"JOIN entries e ON e.feed = f.id AND e.seq = a.seq AND e.hash = a.hash "
		"WHERE a.circle = ?1 AND a.author = ?2 AND a.kind = 12 "
		"ORDER BY a.seq DESC LIMIT ?3", &st);
	*n = 0;
	if (rc != AM_OK)
		return rc;
	struct am_body *b = malloc(sizeof *b);
	if (b == NULL) {
		sqlite3_finalize(st);
		return AM_ERR_NOMEM;
	}
	sqlite3_bind_blob(st, 1, circle, AM_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, author, AM_ID_BYTES, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (int64_t)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct am_entry e;
		const uint8_t *raw = sqlite3_column_blob(st, 3);
		size_t len = (size_t)sqlite3_column_bytes(st, 3);
		/* stored entries were checked on the way in; one that no
		 * longer decodes is verify's to report, not ours */
		if (am_entry_decode(raw, len, &e) != AM_OK ||
		    e.kind != AM_KIND_CHECKPOINT ||
		    am_body_decode(e.kind, e.body, e.body_len, b) != AM_OK)
			continue;
		struct am_checkpoint *c = &out[(*n)++];
		memcpy(c->author, author, AM_ID_BYTES);
		c->seq = (uint64_t)sqlite3_column_int64(st, 0);
		col32(st, 1, c->hash);
		c->time = sqlite3_column_int64(st, 2);
		c->nheads = b->nheads;
		memcpy(c->heads, b->heads, b->nheads * sizeof b->heads[0]);
	}
	rc = am_store_error(rc);
	free(b);
	sqlite3_finalize(st);
	return rc;
}

int
am_checkpoint_latest(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t author[static AM_ID_BYTES], struct am_checkpoint *out)
{
	size_t n;
	int rc = load(s, circle, author, out, 1, &n);
	if (rc == AM_OK && n == 0)
		rc = AM_ERR_NOT_FOUND;
	return rc;
}

/* The joined members of circle, malloc'd (free() it). */
static int
joined(struct am_store *s, const uint8_t *circle, struct am_member **out,
	size_t *n)
{
	struct am_member *m;
	size_t nm, k = 0;
	int rc = am_state_members(s, circle, &m, &nm);
	if (rc != AM_OK)
		return rc;
	for (size_t i = 0; i < nm; i++)
		if (m[i].status == AM_MEMBER_JOINED)
			m[k++] = m[i];
	*out = m;
	*n = k;
	return AM_OK;
}

/* ---- when to write one ---- */

struct digest_find {
	const uint8_t *peer;
	const uint8_t *mine;
	int64_t since;
	bool same;
};

static int
digest_one(void *ctx, const struct am_peer_digest *d)
{
	struct digest_find *f = ctx;
	if (memcmp(d->peer, f->peer, AM_ID_BYTES) == 0)
		f->same = memcmp(d->digest, f->mine, AM_HASH_BYTES) == 0 &&
			d->at >= f->since;
	return AM_OK;
}

/* Is member known to hold heads: its last digest is ours, or its latest
 * checkpoint names them? With since (not INT64_MIN), only a digest its
 * node reported from since on counts. */
static int
holds(struct am_store *s, const uint8_t *circle, const uint8_t *member,
	const uint8_t *mine, const struct am_head *heads, uint32_t n,
	int64_t since, struct am_checkpoint *scratch, bool *yes)
{
	struct digest_find f = { .peer = member, .mine = mine, .since = since,
		.same = false };
	int rc = am_peer_digests(s, circle, digest_one, &f);
	if (rc != AM_OK || (*yes = f.same) || since != INT64_MIN)
		return rc;
	rc = am_checkpoint_latest(s, circle, member, scratch);
	if (rc == AM_ERR_NOT_FOUND)
		return AM_OK;
	if (rc == AM_OK)
		*yes = same_heads(scratch->heads, scratch->nheads, heads, n);
	return rc;
}

/* am_checkpoint_due, with the heads it found (when due) in cp. */
static int
due(struct am_store *s, const uint8_t *circle, const uint8_t *self,
	int64_t since, struct am_checkpoint *cp, bool *is_due)
{
	struct am_member *m = NULL;
	struct am_checkpoint *scratch = NULL;
	uint8_t mine[AM_HASH_BYTES];
	size_t nm = 0;
	bool me = false;
	int rc;

	*is_due = false;
	if ((rc = joined(s, circle, &m, &nm)) != AM_OK)
		return rc == AM_ERR_NOT_FOUND ? AM_OK : rc;
	for (size_t i = 0; i < nm; i++)
		me |= memcmp(m[i].id, self, AM_ID_BYTES) == 0;
	if (!me || nm < 2)
		goto out;
	rc = am_checkpoint_heads(s, circle, cp->heads, &cp->nheads);
	if (rc == AM_ERR_FORK || rc == AM_ERR_TOO_BIG) {
		rc = AM_OK;
		goto out;
	}
	if (rc != AM_OK || cp->nheads == 0)
		goto out;
	if ((scratch = malloc(sizeof *scratch)) == NULL) {
		rc = AM_ERR_NOMEM;
		goto out;
	}
	rc = am_checkpoint_latest(s, circle, self, scratch);
	if (rc == AM_OK &&
	    same_heads(scratch->heads, scratch->nheads, cp->heads, cp->nheads))
		goto out;        /* said already: checkpoints never repeat */
	if (rc != AM_OK && rc != AM_ERR_NOT_FOUND)
		goto out;
	if ((rc = am_store_digest(s, circle, mine)) != AM_OK)
		goto out;
	bool all = true;
	for (size_t i = 0; i < nm && all && rc == AM_OK; i++)
		if (memcmp(m[i].id, self, AM_ID_BYTES) != 0)
			rc = holds(s, circle, m[i].id, mine, cp->heads, cp->nheads,
				since, scratch, &all);
	*is_due = rc == AM_OK && all;
out:
	free(scratch);
	free(m);
	return rc;
}

int
am_checkpoint_due(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t self[static AM_ID_BYTES], bool *is_due)
{
	struct am_checkpoint *cp = malloc(sizeof *cp);
	if (cp == NULL)
		return AM_ERR_NOMEM;
	int rc = due(s, circle, self, INT64_MIN, cp, is_due);
	free(cp);
	return rc;
}

int
am_checkpoint_write(struct am_store *s, const struct am_identity *id,
	const uint8_t circle[static AM_HASH_BYTES], int64_t now, bool *written,
	struct am_checkpoint *out)
{
	return am_checkpoint_write_since(s, id, circle, now, INT64_MIN, written,
		out);
}

int
am_checkpoint_write_since(struct am_store *s, const struct am_identity *id,
	const uint8_t circle[static AM_HASH_BYTES], int64_t now, int64_t since,
	bool *written, struct am_checkpoint *out)
{
	const uint8_t *self = am_identity_public(id);
	struct am_checkpoint *cp = malloc(sizeof *cp);
	struct am_body *b = calloc(1, sizeof *b);
	bool is_due;
	int rc = AM_ERR_NOMEM;

	*written = false;
	if (cp == NULL || b == NULL)
		goto out;
	char *setting = am_store_setting_get(s, AM_CHECKPOINT_SETTING);
	bool off = setting != NULL && strcmp(setting, "off") == 0;
	free(setting);
	if (off) {
		rc = AM_OK;
		goto out;
	}
	if ((rc = due(s, circle, self, since, cp, &is_due)) != AM_OK || !is_due)
		goto out;
	b->kind = AM_KIND_CHECKPOINT;
	b->nheads = cp->nheads;
	memcpy(b->heads, cp->heads, cp->nheads * sizeof cp->heads[0]);
	if ((rc = am_state_check(s, circle, self, b, NULL, 0)) != AM_OK ||
	    (rc = am_store_append(s, id, circle, now, b, cp->hash, &cp->seq)) != AM_OK)
		goto out;
	*written = true;
	if (out != NULL) {
		memcpy(cp->author, self, AM_ID_BYTES);
		cp->time = now;
		*out = *cp;
	}
out:
	free(b);
	free(cp);
	return rc;
}

/* ---- the same record for everyone ---- */

/* One member's checkpoints, each with the hash of the heads it names. */
struct member_cps {
	struct am_checkpoint *cp;
	uint8_t (*key)[AM_HASH_BYTES];
	size_t n;
};

static void
heads_key(const struct am_checkpoint *c, uint8_t out[static AM_HASH_BYTES])
{
	am_hash((const uint8_t *)c->heads, c->nheads * sizeof c->heads[0], out);
}

static uint64_t
heads_sum(const struct am_checkpoint *c)
{
	uint64_t sum = 0;
	for (uint32_t i = 0; i < c->nheads; i++)
		sum += c->heads[i].seq;
	return sum;
}

/* The claimed time of member mc's earliest checkpoint naming key, or -1
 * when none names it. */
static int64_t
named_at(const struct member_cps *mc, const uint8_t *key)
{
	int64_t t = -1;
	for (size_t i = 0; i < mc->n; i++)        /* newest number first */
		if (memcmp(mc->key[i], key, AM_HASH_BYTES) == 0)
			t = mc->cp[i].time;
	return t;
}

int
am_checkpoint_same(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES],
	struct am_checkpoint_same *out)
{
	struct am_member *m = NULL;
	struct member_cps *mc = NULL;
	size_t nm = 0;
	const struct am_checkpoint *best = NULL;
	uint8_t best_key[AM_HASH_BYTES];
	uint64_t best_sum = 0;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = joined(s, circle, &m, &nm)) != AM_OK)
		return rc == AM_ERR_NOT_FOUND ? AM_OK : rc;
	if (nm < 2)
		goto out;
	if ((mc = calloc(nm, sizeof *mc)) == NULL) {
		rc = AM_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < nm; i++) {
		mc[i].cp = malloc(SCAN_MAX * sizeof *mc[i].cp);
		mc[i].key = malloc(SCAN_MAX * sizeof *mc[i].key);
		if (mc[i].cp == NULL || mc[i].key == NULL) {
			rc = AM_ERR_NOMEM;
			goto out;
		}
		if ((rc = load(s, circle, m[i].id, mc[i].cp, SCAN_MAX, &mc[i].n)) != AM_OK)
			goto out;
		if (mc[i].n == 0)
			goto out;        /* someone never checkpointed */
		for (size_t k = 0; k < mc[i].n; k++)
			heads_key(&mc[i].cp[k], mc[i].key[k]);
	}
	/* candidates: the first member's checkpoints; the newest by the
	 * numbers they name, then by the lower key, that everyone wrote */
	for (size_t k = 0; k < mc[0].n; k++) {
		const struct am_checkpoint *c = &mc[0].cp[k];
		uint64_t sum = heads_sum(c);
		int64_t t = c->time;
		bool all = true;
		for (size_t i = 1; i < nm && all; i++) {
			int64_t ti = named_at(&mc[i], mc[0].key[k]);
			all = ti >= 0;
			if (ti > t)
				t = ti;
		}
		if (!all)
			continue;
		if (best != NULL && (sum < best_sum || (sum == best_sum &&
		    memcmp(mc[0].key[k], best_key, AM_HASH_BYTES) >= 0)))
			continue;
		best = c;
		best_sum = sum;
		memcpy(best_key, mc[0].key[k], AM_HASH_BYTES);
		out->time = named_at(&mc[0], mc[0].key[k]);
		if (t > out->time)
			out->time = t;
	}
	if (best != NULL) {
		out->same = true;
		out->nmembers = (uint32_t)nm;
		out->nheads = best->nheads;
		memcpy(out->heads, best->heads, best->nheads * sizeof best->heads[0]);
	}
out:
	for (size_t i = 0; mc != NULL && i < nm; i++) {
		free(mc[i].cp);
		free(mc[i].key);
	}
	free(mc);
	free(m);
	return rc;
}

/* ---- shorter feeds ---- */

/* The checkpoint among list[0..n) naming author's feed at the highest
 * number above shown, kept in best. */
static void
consider(const struct am_checkpoint *list, size_t n, const uint8_t *author,
	uint64_t shown, struct am_checkpoint_report *best, bool *found)
{
	for (size_t i = 0; i < n; i++)
		for (uint32_t h = 0; h < list[i].nheads; h++) {
			const struct am_head *x = &list[i].heads[h];
			if (memcmp(x->author, author, AM_ID_BYTES) != 0 || x->seq <= shown)
				continue;
			if (*found && x->seq <= best->named)
				continue;
			*found = true;
			best->named = x->seq;
			memcpy(best->checkpoint, list[i].hash, AM_HASH_BYTES);
			memcpy(best->checkpoint_author, list[i].author, AM_ID_BYTES);
			best->checkpoint_time = list[i].time;
		}
}

static int
record(struct am_store *s, const struct am_checkpoint_report *r)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = am_store_begin(s)) != AM_OK)
		return rc;
	if ((rc = am_store_exec(s, reports_schema)) != AM_OK ||
	    (rc = prepare(s, "INSERT INTO checkpoint_reports(circle, peer, author, "
	    "checkpoint, cp_author, cp_time, shown, named, first_at, last_at, count) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, 1) "
	    "ON CONFLICT(circle, peer, author, checkpoint) DO UPDATE SET "
	    "shown = excluded.shown, last_at = excluded.last_at, "
	    "count = count + 1", &st)) != AM_OK) {
		am_store_rollback(s);
		return rc;
	}
	sqlite3_bind_blob(st, 1, r->circle, AM_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, r->peer, AM_ID_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, r->author, AM_ID_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, r->checkpoint, AM_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, r->checkpoint_author, AM_ID_BYTES, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, r->checkpoint_time);
	sqlite3_bind_int64(st, 7, (int64_t)r->shown);
	sqlite3_bind_int64(st, 8, (int64_t)r->named);
	sqlite3_bind_int64(st, 9, r->last_at);
	rc = am_store_error(sqlite3_step(st));
	sqlite3_finalize(st);
	if (rc != AM_OK) {
		am_store_rollback(s);
		return rc;
	}
	return am_store_commit(s);
}

int
am_checkpoint_judge(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t peer[static AM_ID_BYTES],
	const uint8_t author[static AM_ID_BYTES], uint64_t shown, int64_t now,
	bool *shorter, struct am_checkpoint_report *out)
{
	struct am_checkpoint_report r = { .shown = shown, .first_at = now,
		.last_at = now, .count = 1 };
	struct am_checkpoint *list = malloc(SCAN_MAX * sizeof *list);
	struct am_member *m = NULL;
	size_t nm = 0, n;
	bool found = false, own = memcmp(peer, author, AM_ID_BYTES) == 0;
	int rc = AM_ERR_NOMEM;

	*shorter = false;
	if (list == NULL)
		goto out;
	if ((rc = joined(s, circle, &m, &nm)) != AM_OK) {
		if (rc == AM_ERR_NOT_FOUND)
			rc = AM_OK;
		goto out;
	}
	/* what the peer itself said it held; and, for its own feed, what any
	 * member saw of it: its author wrote those entries */
	for (size_t i = 0; i < nm && rc == AM_OK; i++) {
		if (!own && memcmp(m[i].id, peer, AM_ID_BYTES) != 0)
			continue;
		if ((rc = load(s, circle, m[i].id, list, SCAN_MAX, &n)) == AM_OK)
			consider(list, n, author, shown, &r, &found);
	}
	if (rc != AM_OK || !found)
		goto out;
	memcpy(r.circle, circle, AM_HASH_BYTES);
	memcpy(r.peer, peer, AM_ID_BYTES);
	memcpy(r.author, author, AM_ID_BYTES);
	if ((rc = record(s, &r)) != AM_OK)
		goto out;
	*shorter = true;
	if (out != NULL)
		*out = r;
out:
	free(m);
	free(list);
	return rc;
}

/* Does the store hold table name yet (a store the node has not opened
 * since it was made has none of its own tables)? */
static bool
table_exists(struct am_store *s, const char *name)
{
	sqlite3_stmt *st;
	bool yes = false;
	if (prepare(s, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
	    "name = ?1", &st) != AM_OK)
		return false;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	yes = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return yes;
}

int
am_checkpoint_reports(struct am_store *s, const uint8_t *circle,
	int (*fn)(void *ctx, const struct am_checkpoint_report *r), void *ctx)
{
	sqlite3_stmt *st;
	int rc;

	if (!table_exists(s, "checkpoint_reports"))
		return AM_OK;
	if ((rc = prepare(s, "SELECT circle, peer, author, checkpoint, cp_author, "
	    "cp_time, shown, named, first_at, last_at, count FROM checkpoint_reports "
	    "WHERE ?1 IS NULL OR circle = ?1 ORDER BY circle, peer, author, first_at",
	    &st)) != AM_OK)
		return rc;
	if (circle != NULL)
		sqlite3_bind_blob(st, 1, circle, AM_HASH_BYTES, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct am_checkpoint_report r;
		col32(st, 0, r.circle);
		col32(st, 1, r.peer);
		col32(st, 2, r.author);
		col32(st, 3, r.checkpoint);
		col32(st, 4, r.checkpoint_author);
		r.checkpoint_time = sqlite3_column_int64(st, 5);
		r.shown = (uint64_t)sqlite3_column_int64(st, 6);
		r.named = (uint64_t)sqlite3_column_int64(st, 7);
		r.first_at = sqlite3_column_int64(st, 8);
		r.last_at = sqlite3_column_int64(st, 9);
		r.count = (uint64_t)sqlite3_column_int64(st, 10);
		if ((rc = fn(ctx, &r)) != AM_OK) {
			sqlite3_finalize(st);
			return rc;
		}
	}
	rc = am_store_error(rc);
	sqlite3_finalize(st);
	return rc;
}

/* ---- claims on our own feed ---- */

static const char refuted_schema[] =
	"CREATE TABLE IF NOT EXISTS checkpoint_refuted("
	"  circle BLOB NOT NULL CHECK(length(circle) = 32),"
	"  author BLOB NOT NULL CHECK(length(author) = 32),"
	"  named INTEGER NOT NULL,"
	"  shown INTEGER NOT NULL,"
	"  checkpoint BLOB NOT NULL CHECK(length(checkpoint) = 32),"
	"  PRIMARY KEY(circle, author)"
	") STRICT, WITHOUT ROWID";

int
am_checkpoint_refute(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t author[static AM_ID_BYTES], uint64_t named, uint64_t shown,
	const uint8_t checkpoint[static AM_HASH_BYTES])
{
	sqlite3_stmt *st;
	int rc;

	if (named > INT64_MAX || shown > INT64_MAX)
		return AM_ERR_ARG;
	if ((rc = am_store_begin(s)) != AM_OK)
		return rc;
	/* the highest claim refuted is the one kept: a lower one is covered */
	if ((rc = am_store_exec(s, refuted_schema)) != AM_OK ||
	    (rc = prepare(s, "INSERT INTO checkpoint_refuted(circle, author, named, "
	    "shown, checkpoint) VALUES (?1, ?2, ?3, ?4, ?5) "
	    "ON CONFLICT(circle, author) DO UPDATE SET named = excluded.named, "
	    "shown = excluded.shown, checkpoint = excluded.checkpoint "
	    "WHERE excluded.named > checkpoint_refuted.named", &st)) != AM_OK) {
		am_store_rollback(s);
		return rc;
	}
	sqlite3_bind_blob(st, 1, circle, AM_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, author, AM_ID_BYTES, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (int64_t)named);
	sqlite3_bind_int64(st, 4, (int64_t)shown);
	sqlite3_bind_blob(st, 5, checkpoint, AM_HASH_BYTES, SQLITE_STATIC);
	rc = am_store_error(sqlite3_step(st));
	sqlite3_finalize(st);
	if (rc != AM_OK) {
		am_store_rollback(s);
		return rc;
	}
	return am_store_commit(s);
}

int
am_checkpoint_refuted(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t author[static AM_ID_BYTES], uint64_t *named)
{
	sqlite3_stmt *st;
	int rc;

	*named = 0;
	if (!table_exists(s, "checkpoint_refuted"))
		return AM_OK;
	if ((rc = prepare(s, "SELECT named FROM checkpoint_refuted WHERE "
	    "circle = ?1 AND author = ?2", &st)) != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, circle, AM_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, author, AM_ID_BYTES, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		int64_t v = sqlite3_column_int64(st, 0);
		*named = v > 0 ? (uint64_t)v : 0;
		rc = SQLITE_DONE;
	}
	rc = am_store_error(rc);
	sqlite3_finalize(st);
	return rc;
}

int
am_checkpoint_refutations(struct am_store *s, const uint8_t *circle,
	int (*fn)(void *ctx, const struct am_checkpoint_refutation *r), void *ctx)
{
	sqlite3_stmt *st;
	int rc;

	if (!table_exists(s, "checkpoint_refuted"))
		return AM_OK;
	if ((rc = prepare(s, "SELECT circle, author, named, shown, checkpoint FROM "
	    "checkpoint_refuted WHERE ?1 IS NULL OR circle = ?1 "
	    "ORDER BY circle, author", &st)) != AM_OK)
		return rc;
	if (circle != NULL)
		sqlite3_bind_blob(st, 1, circle, AM_HASH_BYTES, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct am_checkpoint_refutation r;
		col32(st, 0, r.circle);
		col32(st, 1, r.author);
		r.named = (uint64_t)sqlite3_column_int64(st, 2);
		r.shown = (uint64_t)sqlite3_column_int64(st, 3);
		col32(st, 4, r.checkpoint);
		if ((rc = fn(ctx, &r)) != AM_OK) {
			sqlite3_finalize(st);
			return rc;
		}
	}
	rc = am_store_error(rc);
	sqlite3_finalize(st);
	return rc;
}

struct claims_ctx {
	struct am_store *store;
	const uint8_t *circle, *self;
	uint64_t head, own;
	int (*fn)(void *ctx, const struct am_checkpoint_refutation *r);
	void *ctx;
};

static int
claim_one(void *ctx, const struct am_feed_head *h)
{
	struct claims_ctx *c = ctx;
	bool own = memcmp(h->author, c->self, AM_ID_BYTES) == 0;
	struct am_checkpoint *cp = malloc(sizeof *cp);
	uint64_t refuted = 0;
	if (cp == NULL)
		return AM_ERR_NOMEM;
	int rc = am_checkpoint_latest(c->store, c->circle, h->author, cp);
	if (rc == AM_ERR_NOT_FOUND) {
		free(cp);
		return AM_OK;
	}
	for (uint32_t i = 0; rc == AM_OK && i < cp->nheads; i++) {
		const struct am_head *x = &cp->heads[i];
		if (memcmp(x->author, c->self, AM_ID_BYTES) != 0)
			continue;
		/* our own checkpoint: we signed it, those entries existed */
		if (own) {
			if (x->seq > c->own)
				c->own = x->seq;
			continue;
		}
		if (x->seq <= c->head)
			continue;
		rc = am_checkpoint_refuted(c->store, c->circle, h->author, &refuted);
		if (rc != AM_OK || x->seq <= refuted)
			continue;
		struct am_checkpoint_refutation r = { .named = x->seq };
		memcpy(r.circle, c->circle, AM_HASH_BYTES);
		memcpy(r.author, h->author, AM_ID_BYTES);
		memcpy(r.checkpoint, cp->hash, AM_HASH_BYTES);
		rc = c->fn(c->ctx, &r);
	}
	free(cp);
	return rc;
}

int
am_checkpoint_claims(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t self[static AM_ID_BYTES], uint64_t head, uint64_t *own,
	int (*fn)(void *ctx, const struct am_checkpoint_refutation *r), void *ctx)
{
	struct claims_ctx c = { .store = s, .circle = circle, .self = self,
		.head = head, .fn = fn, .ctx = ctx };
	int rc = am_store_heads(s, circle, claim_one, &c);
	if (own != NULL)
		*own = c.own;
	return rc;
}
