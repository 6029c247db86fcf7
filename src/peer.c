/*
 * The peers table and the peers' last known digests (include/amends/
 * peer.h), kept in the store's database beside the entries. These rows
 * are this node's own bookkeeping: they never travel and never change the
 * record's state.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amends/peer.h"
#include "store_impl.h"

static bool
port_ok(const char *p)
{
	if (*p == '\0' || strlen(p) > 5)
		return false;
	long v = 0;
	for (; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p))
			return false;
		v = v * 10 + (*p - '0');
	}
	return v >= 1 && v <= 65535;
}

bool
am_peer_address_ok(const char *a)
{
	static const char tcp[] = "tcp://";
	if (a == NULL || strlen(a) >= AM_PEER_MAX_ADDRESS ||
	    strncmp(a, tcp, sizeof tcp - 1) != 0)
		return false;
	const char *host = a + sizeof tcp - 1, *colon;
	if (*host == '[') {
		const char *close = strchr(host, ']');
		if (close == NULL || close == host + 1 || close[1] != ':')
			return false;
		for (const char *p = host + 1; p < close; p++)
			if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
				return false;
		colon = close + 1;
	} else {
		colon = strrchr(host, ':');
		if (colon == NULL || colon == host)
			return false;
		for (const char *p = host; p < colon; p++)
			if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-')
				return false;
	}
	return port_ok(colon + 1);
}

static int
prepare(struct am_store *s, const char *sql, sqlite3_stmt **st)
{
	return am_store_error(sqlite3_prepare_v2(am_store_sqlite(s), sql, -1, st,
		NULL));
}

static int
run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? AM_OK : am_store_error(rc);
}

int
am_peer_set_address(struct am_store *s, const uint8_t id[static AM_ID_BYTES],
	const char *address)
{
	sqlite3_stmt *st;
	int rc;

	if (address != NULL && !am_peer_address_ok(address))
		return AM_ERR_ARG;
	rc = prepare(s, "INSERT INTO peers(id, address) VALUES (?1, ?2) "
		"ON CONFLICT(id) DO UPDATE SET address = excluded.address", &st);
	if (rc != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, id, AM_ID_BYTES, SQLITE_STATIC);
	if (address != NULL)
		sqlite3_bind_text(st, 2, address, -1, SQLITE_STATIC);
	return run(st);
}

static void
row_to_peer(sqlite3_stmt *st, struct am_peer *p)
{
	memset(p, 0, sizeof *p);
	if (sqlite3_column_bytes(st, 0) == AM_ID_BYTES)
		memcpy(p->id, sqlite3_column_blob(st, 0), AM_ID_BYTES);
	const unsigned char *a = sqlite3_column_text(st, 1);
	if (a != NULL)
		snprintf(p->address, sizeof p->address, "%s", (const char *)a);
	p->last_seen = sqlite3_column_int64(st, 2);
	p->connected = sqlite3_column_int(st, 3) != 0;
}

#define PEER_COLUMNS "id, address, last_seen, connected"

int
am_peer_get(struct am_store *s, const uint8_t id[static AM_ID_BYTES],
	struct am_peer *out)
{
	sqlite3_stmt *st;
	int rc = prepare(s, "SELECT " PEER_COLUMNS " FROM peers WHERE id = ?1", &st);
	if (rc != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, id, AM_ID_BYTES, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		row_to_peer(st, out);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return AM_OK;
	return rc == SQLITE_DONE ? AM_ERR_NOT_FOUND : am_store_error(rc);
}

int
am_peer_list(struct am_store *s, int (*fn)(void *ctx, const struct am_peer *peer),
	void *ctx)
{
	sqlite3_stmt *st;
	int rc = prepare(s, "SELECT " PEER_COLUMNS " FROM peers ORDER BY id", &st);
	if (rc != AM_OK)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct am_peer p;
		row_to_peer(st, &p);
		int frc = fn(ctx, &p);
		if (frc != AM_OK) {
			sqlite3_finalize(st);
			return frc;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? AM_OK : am_store_error(rc);
}

int
am_peer_seen(struct am_store *s, const uint8_t id[static AM_ID_BYTES],
	int64_t now, bool connected)
{
	sqlite3_stmt *st;
	int rc = prepare(s, "INSERT INTO peers(id, last_seen, connected) "
		"VALUES (?1, ?2, ?3) ON CONFLICT(id) DO UPDATE SET "
		"last_seen = excluded.last_seen, connected = excluded.connected", &st);
	if (rc != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, id, AM_ID_BYTES, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int(st, 3, connected);
	return run(st);
}

int
am_peer_disconnect_all(struct am_store *s)
{
	return am_store_exec(s, "UPDATE peers SET connected = 0 WHERE connected != 0");
}

int
am_peer_digest_set(struct am_store *s, const uint8_t peer[static AM_ID_BYTES],
	const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t digest[static AM_HASH_BYTES], int64_t now)
{
	sqlite3_stmt *st;
	int rc = prepare(s, "INSERT INTO peer_digests(peer, circle, digest, at) "
		"VALUES (?1, ?2, ?3, ?4) ON CONFLICT(peer, circle) DO UPDATE SET "
		"digest = excluded.digest, at = excluded.at", &st);
	if (rc != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, peer, AM_ID_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, circle, AM_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, digest, AM_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	return run(st);
}

int
am_peer_digests(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES],
	int (*fn)(void *ctx, const struct am_peer_digest *d), void *ctx)
{
	sqlite3_stmt *st;
	int rc = prepare(s, "SELECT peer, digest, at FROM peer_digests "
		"WHERE circle = ?1 ORDER BY peer", &st);
	if (rc != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, circle, AM_HASH_BYTES, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct am_peer_digest d;
		if (sqlite3_column_bytes(st, 0) != AM_ID_BYTES ||
		    sqlite3_column_bytes(st, 1) != AM_HASH_BYTES)
			continue;
		memcpy(d.peer, sqlite3_column_blob(st, 0), AM_ID_BYTES);
		memcpy(d.digest, sqlite3_column_blob(st, 1), AM_HASH_BYTES);
		d.at = sqlite3_column_int64(st, 2);
		int frc = fn(ctx, &d);
		if (frc != AM_OK) {
			sqlite3_finalize(st);
			return frc;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? AM_OK : am_store_error(rc);
}

static int
compare_one(void *ctx, const struct am_peer_digest *d)
{
	struct am_peer_compare *c = ctx;
	if (memcmp(d->digest, c->mine, AM_HASH_BYTES) == 0)
		c->same++;
	else
		c->differ++;
	if (c->oldest == 0 || d->at < c->oldest)
		c->oldest = d->at;
	return AM_OK;
}

int
am_peer_compare(struct am_store *s, const uint8_t circle[static AM_HASH_BYTES],
	struct am_peer_compare *out)
{
	memset(out, 0, sizeof *out);
	int rc = am_store_digest(s, circle, out->mine);
	if (rc != AM_OK)
		return rc;
	return am_peer_digests(s, circle, compare_one, out);
}

/* ---- the address book of a key backup ---- */

struct book {
	char *buf;
	size_t len, cap;
	int rc;
};

static void
book_line(struct book *b, const char *word, const uint8_t *id, const char *rest)
{
	char text[AM_ID_TEXT_BYTES];
	am_id_format(id, text);
	size_t need = strlen(word) + 1 + strlen(text) + 1 + strlen(rest) + 2;
	if (b->rc != AM_OK)
		return;
	if (b->len + need > AM_BACKUP_BOOK_MAX) {
		b->rc = AM_ERR_TOO_BIG;
		return;
	}
	if (b->len + need > b->cap) {
		size_t cap = 2 * (b->len + need);
		char *p = realloc(b->buf, cap);
		if (p == NULL) {
			b->rc = AM_ERR_NOMEM;
			return;
		}
		b->buf = p;
		b->cap = cap;
	}
	b->len += (size_t)snprintf(b->buf + b->len, b->cap - b->len, "%s %s %s\n",
		word, text, rest);
}

static int
book_peer(void *ctx, const struct am_peer *p)
{
	/* a peer that only ever dialled us has no address here: "-" */
	book_line(ctx, "peer", p->id, p->address[0] != '\0' ? p->address : "-");
	return ((struct book *)ctx)->rc;
}

static int
book_name(void *ctx, const uint8_t id[static AM_ID_BYTES], const char *name)
{
	book_line(ctx, "name", id, name);
	return ((struct book *)ctx)->rc;
}

int
am_peer_book_encode(struct am_store *s, char **out, size_t *len)
{
	struct book b = { .rc = AM_OK };
	int rc;

	*out = NULL;
	*len = 0;
	if ((b.buf = malloc(1)) == NULL)
		return AM_ERR_NOMEM;
	b.cap = 1;
	b.buf[0] = '\0';
	if ((rc = am_peer_list(s, book_peer, &b)) == AM_OK)
		rc = am_store_names(s, book_name, &b);
	if (rc != AM_OK) {
		free(b.buf);
		return rc;
	}
	*out = b.buf;
	*len = b.len;
	return AM_OK;
}

/* A local name as `amends name` takes it: 1 to 64 bytes, no control
 * characters. */
static bool
book_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return false;
	return true;
}

int
am_peer_book_apply(struct am_store *s, const char *book, size_t len,
	size_t *peers, size_t *names, size_t *skipped)
{
	char line[AM_ID_TEXT_BYTES + AM_PEER_MAX_ADDRESS + 16];
	uint8_t id[AM_ID_BYTES];
	int rc;

	*peers = *names = *skipped = 0;
	if (len > AM_BACKUP_BOOK_MAX)
		return AM_ERR_TOO_BIG;
	if ((rc = am_store_begin(s)) != AM_OK)
		return rc;
	for (size_t at = 0; at < len && rc == AM_OK; ) {
		const char *end = memchr(book + at, '\n', len - at);
		size_t n = end != NULL ? (size_t)(end - (book + at)) : len - at;
		const char *start = book + at;
		at += n + 1;
		if (n >= sizeof line) {
			(*skipped)++;
			continue;
		}
		memcpy(line, start, n);
		line[n] = '\0';
		char *word = line, *idtext = strchr(word, ' ');
		char *rest = idtext != NULL ? strchr(idtext + 1, ' ') : NULL;
		if (rest == NULL || memchr(line, '\0', n) != NULL) {
			(*skipped)++;
			continue;
		}
		*idtext++ = '\0';
		*rest++ = '\0';
		if (am_id_parse(idtext, id) != AM_OK) {
			(*skipped)++;
			continue;
		}
		bool none = strcmp(rest, "-") == 0;
		if (strcmp(word, "peer") == 0 && (none || am_peer_address_ok(rest))) {
			struct am_peer p;
			int grc = am_peer_get(s, id, &p);
			if (grc == AM_OK && (none || p.address[0] != '\0'))
				continue;
			if (grc != AM_OK && grc != AM_ERR_NOT_FOUND) {
				rc = grc;
				break;
			}
			rc = none ? am_peer_seen(s, id, 0, false) :
				am_peer_set_address(s, id, rest);
			if (rc == AM_OK)
				(*peers)++;
		} else if (strcmp(word, "name") == 0 && book_name_ok(rest)) {
			char *had = am_store_name_get(s, id);
			if (had != NULL) {
				free(had);
				continue;
			}
			if ((rc = am_store_name_set(s, id, rest)) == AM_OK)
				(*names)++;
		} else {
			(*skipped)++;
		}
	}
	if (rc != AM_OK) {
		am_store_rollback(s);
		return rc;
	}
	return am_store_commit(s);
}

bool
am_peer_recovering(struct am_store *s, int64_t now)
{
	char *v = am_store_setting_get(s, AM_PEER_SETTING_RECOVERY);
	if (v == NULL)
		return false;
	char *end;
	long long until = strtoll(v, &end, 10);
	bool ok = *v != '\0' && *end == '\0';
	free(v);
	return ok && now < until;
}
