/*
 * Listing the circles this node was proposed to (include/amends/store.h,
 * am_store_proposed_list); the rows are written and read in src/store.c.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amends/store.h"
#include "store_impl.h"

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
