/*
 * Circles this node was proposed to (include/amends/store.h,
 * am_store_proposed_*): a local table filled from an invite's preview,
 * since a joining node holds no entry of the circle yet.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amends/store.h"
#include "store_impl.h"

int
am_store_proposed_add(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t proposer[static AM_ID_BYTES],
	const uint8_t *preview, size_t len)
{
	sqlite3_stmt *st;
	struct timespec ts;
	int rc;

	if (len == 0 || len > AM_ENTRY_MAX * 4)
		return AM_ERR_ARG;
	clock_gettime(CLOCK_REALTIME, &ts);
	rc = am_store_error(sqlite3_prepare_v2(am_store_sqlite(s),
		"INSERT OR REPLACE INTO proposed_to(circle, proposer, preview, at) "
		"VALUES (?1, ?2, ?3, ?4)", -1, &st, NULL));
	if (rc != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, circle, AM_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, proposer, AM_ID_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, preview, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? AM_OK : am_store_error(rc);
}

int
am_store_proposed_remove(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES])
{
	sqlite3_stmt *st;
	int rc = am_store_error(sqlite3_prepare_v2(am_store_sqlite(s),
		"DELETE FROM proposed_to WHERE circle = ?1", -1, &st, NULL));
	if (rc != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, circle, AM_HASH_BYTES, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? AM_OK : am_store_error(rc);
}

int
am_store_proposed_get(struct am_store *s,
	const uint8_t circle[static AM_HASH_BYTES],
	uint8_t proposer[static AM_ID_BYTES], uint8_t **out, size_t *len)
{
	sqlite3_stmt *st;
	int rc = am_store_error(sqlite3_prepare_v2(am_store_sqlite(s),
		"SELECT proposer, preview FROM proposed_to WHERE circle = ?1",
		-1, &st, NULL));
	if (rc != AM_OK)
		return rc;
	sqlite3_bind_blob(st, 1, circle, AM_HASH_BYTES, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(st, 1);
		if (sqlite3_column_bytes(st, 0) != AM_ID_BYTES || n == 0) {
			rc = AM_ERR_DB_CORRUPT;
		} else if ((*out = malloc(n)) == NULL) {
			rc = AM_ERR_NOMEM;
		} else {
			memcpy(proposer, sqlite3_column_blob(st, 0), AM_ID_BYTES);
			memcpy(*out, sqlite3_column_blob(st, 1), n);
			*len = n;
			rc = AM_OK;
		}
	} else {
		rc = rc == SQLITE_DONE ? AM_ERR_NOT_FOUND : am_store_error(rc);
	}
	sqlite3_finalize(st);
	return rc;
}

int
am_store_proposed_list(struct am_store *s,
	int (*fn)(void *ctx, const uint8_t circle[static AM_HASH_BYTES],
	const uint8_t proposer[static AM_ID_BYTES]), void *ctx)
{
	sqlite3_stmt *st;
	int rc = am_store_error(sqlite3_prepare_v2(am_store_sqlite(s),
		"SELECT circle, proposer FROM proposed_to ORDER BY circle",
		-1, &st, NULL));
	if (rc != AM_OK)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != AM_HASH_BYTES ||
		    sqlite3_column_bytes(st, 1) != AM_ID_BYTES)
			continue;
		int frc = fn(ctx, sqlite3_column_blob(st, 0),
			sqlite3_column_blob(st, 1));
		if (frc != AM_OK) {
			sqlite3_finalize(st);
			return frc;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? AM_OK : am_store_error(rc);
}
